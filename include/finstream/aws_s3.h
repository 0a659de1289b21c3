/* aws_s3.h - the S3 calls finstream needs: put an object (in one request, or in parts for
 * large ones), head, get, list, delete, and create a bucket.
 *
 * Objects go up under the keys the caller gives, so a delivery to S3 writes exactly the
 * keys the local lake has; a retried put overwrites the same key, which keeps delivery's
 * exactly-once naming. A put returns 0 only after S3 has confirmed the whole object
 * (CompleteMultipartUpload answered without an <Error>), so a caller may move its
 * checkpoint then and not before. */
#ifndef FINSTREAM_AWS_S3_H
#define FINSTREAM_AWS_S3_H

#include <stddef.h>
#include <stdint.h>

#include "finstream/aws.h"

#define FIN_S3_MIN_PART (5 << 20)         /* every part but the last */
#define FIN_S3_MAX_PARTS 10000
#define FIN_S3_MAX_KEY 1024               /* bytes of UTF-8 */

struct fin_s3;

/* An S3 client (settings: region, endpoint_url, addressing, part_size, ...). Owned by the
 * caller (fin_s3_destroy). deps may be NULL. Not for two threads at once. */
int fin_s3_create(struct fin_s3 **out, const struct fin_aws_settings *s,
                  const struct fin_aws_client_deps *deps);
/* Accepts NULL. */
void fin_s3_destroy(struct fin_s3 *s3);
/* The signed client underneath (stats, endpoint); borrowed until fin_s3_destroy. */
struct fin_aws_client *fin_s3_client(struct fin_s3 *s3);

struct fin_s3_put_stats {
    uint64_t objects;
    uint64_t multipart_objects;
    uint64_t parts;
    uint64_t aborted_uploads;   /* AbortMultipartUpload requests sent after a failure */
    uint64_t bytes;
};
const struct fin_s3_put_stats *fin_s3_put_stats(const struct fin_s3 *s3);

/* Puts data under key: one PutObject with x-amz-content-sha256 and Content-MD5 when len is
 * below the multipart threshold, a multipart upload otherwise (aborted on failure, so no
 * parts are left behind). Returns 0 once S3 has the whole object. */
int fin_s3_put_object(struct fin_s3 *s3, const char *bucket, const char *key, const void *data,
                      size_t len);
/* The two ways, for callers and tests that want one of them. */
int fin_s3_put_single(struct fin_s3 *s3, const char *bucket, const char *key, const void *data,
                      size_t len);
int fin_s3_put_multipart(struct fin_s3 *s3, const char *bucket, const char *key, const void *data,
                         size_t len, size_t part_size);

struct fin_s3_object {
    char *key;          /* owned by the list */
    int64_t size;
    char etag[80];      /* with its quotes, as S3 gives it */
};

struct fin_s3_list {
    struct fin_s3_object *objects;
    size_t n;
};

/* ListObjectsV2 of every key under prefix (all pages), in S3's order (bytewise). out is
 * the caller's storage, freed with fin_s3_list_fini. */
int fin_s3_list_objects(struct fin_s3 *s3, const char *bucket, const char *prefix,
                        struct fin_s3_list *out);
void fin_s3_list_fini(struct fin_s3_list *l);

/* HeadObject: FIN_ENOENT when the key does not exist. */
int fin_s3_head_object(struct fin_s3 *s3, const char *bucket, const char *key,
                       struct fin_s3_object *info);
/* GetObject into out (appended). FIN_ENOENT when the key does not exist. */
int fin_s3_get_object(struct fin_s3 *s3, const char *bucket, const char *key, struct fin_buf *out);
int fin_s3_delete_object(struct fin_s3 *s3, const char *bucket, const char *key);
/* CreateBucket; an existing bucket that we own is not an error. */
int fin_s3_create_bucket(struct fin_s3 *s3, const char *bucket);

struct fin_s3_tree_stats {
    uint64_t objects;
    uint64_t bytes;
    uint64_t skipped;      /* neither files nor directories (links, sockets) */
};

/* Puts every file under dir as bucket/prefix + its path relative to dir (a local lake's
 * keys), in sorted order; temporary (".tmp") and dot files are skipped. Stops at the first
 * failure, which names the file. prefix is "" or ends with '/'. */
int fin_s3_put_tree(struct fin_s3 *s3, const char *dir, const char *bucket, const char *prefix,
                    struct fin_s3_tree_stats *st);

/* ---- an S3 destination for delivery ---- */

/* The shape of delivery's sink seam: objects under destination "s3://bucket/prefix" with
 * the keys the local sink gives them in the lake folder. Each put returns after S3 has
 * confirmed the whole object (so a checkpoint may move then); sync has nothing to do. */
struct fin_s3_sink;
struct iovec;

int fin_s3_sink_create(struct fin_s3_sink **out, const struct fin_aws_settings *s,
                       const struct fin_aws_client_deps *deps, const char *destination);
/* Puts the concatenation of iov as prefix + key. */
int fin_s3_sink_put(struct fin_s3_sink *k, const char *key, const struct iovec *iov, int n_iov);
/* Puts the finished file at path as prefix + key, then removes the file (it stood for the
 * object, as a temporary file renamed into the lake does). The file is kept on failure. */
int fin_s3_sink_put_file(struct fin_s3_sink *k, const char *key, const char *path);
int fin_s3_sink_sync(struct fin_s3_sink *k);
/* The S3 client underneath (stats); borrowed. */
struct fin_s3 *fin_s3_sink_s3(struct fin_s3_sink *k);
/* Accepts NULL. */
void fin_s3_sink_destroy(struct fin_s3_sink *k);

/* 0 when bucket follows S3's bucket-name rules (3-63 of a-z 0-9 . -, a letter or digit
 * at both ends, no "..", not an IP address, no reserved prefix or suffix); otherwise
 * FIN_EINVAL with a message naming the rule. */
int fin_s3_bucket_check(const char *bucket);

/* Splits "s3://bucket/some/prefix/" into bucket and prefix ("some/prefix/"; "" when none).
 * FIN_EINVAL naming url when it is not an s3:// URL with a valid bucket name. */
int fin_s3_parse_url(const char *url, char *bucket, size_t bucket_cap, char *prefix,
                     size_t prefix_cap);

/* Decodes XML character references (&amp; &lt; &gt; &quot; &apos; &#N; &#xN;) in place. */
void fin_xml_unescape(char *s);

#endif
