/* s3.c - S3 over the signed client: PutObject, multipart uploads, HeadObject, GetObject,
 * ListObjectsV2, DeleteObject, CreateBucket.
 *
 * Keys are encoded once, '/' kept, as S3's signing rules want. Addressing is path-style
 * (http://host/bucket/key) for S3-compatible stores and emulators, whose host names have
 * no bucket subdomains, and virtual-hosted (https://bucket.s3.region.amazonaws.com/key)
 * on AWS, except for bucket names with dots, which break the TLS wildcard certificate.
 *
 * Every request body is hashed for x-amz-content-sha256 and every put carries Content-MD5,
 * so S3 refuses an object that changed on the way instead of storing it. A multipart upload
 * is aborted when any part or the completion fails, and CompleteMultipartUpload's answer
 * is read whole: S3 may answer 200 and still report an <Error> in the body. */
#include "finstream/aws_s3.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "finstream/error.h"
#include "finstream/log.h"

struct fin_s3 {
    struct fin_aws_client *client;
    bool path_style;
    int64_t part_size;
    int64_t threshold;
    struct fin_s3_put_stats stats;
};

int fin_s3_create(struct fin_s3 **out, const struct fin_aws_settings *s,
                  const struct fin_aws_client_deps *deps)
{
    *out = NULL;
    struct fin_s3 *s3 = calloc(1, sizeof *s3);
    if (!s3)
        return FIN_ENOMEM;
    int rc = fin_aws_client_create(&s3->client, "s3", s, deps);
    if (rc) {
        free(s3);
        return rc;
    }
    const struct fin_aws_endpoint *ep = fin_aws_client_endpoint(s3->client);
    s3->path_style = s->addressing == FIN_S3_ADDR_PATH ||
                     (s->addressing == FIN_S3_ADDR_AUTO && ep->custom);
    s3->part_size = s->part_size >= FIN_S3_MIN_PART ? s->part_size : FIN_S3_MIN_PART;
    s3->threshold = s->multipart_threshold > 0 ? s->multipart_threshold : 16 << 20;
    *out = s3;
    return 0;
}

void fin_s3_destroy(struct fin_s3 *s3)
{
    if (!s3)
        return;
    fin_aws_client_destroy(s3->client);
    free(s3);
}

struct fin_aws_client *fin_s3_client(struct fin_s3 *s3) { return s3->client; }
const struct fin_s3_put_stats *fin_s3_put_stats(const struct fin_s3 *s3) { return &s3->stats; }

static int check_bucket(const char *bucket)
{
    return fin_s3_bucket_check(bucket);
}

/* S3's rules for bucket names (general purpose buckets). */
int fin_s3_bucket_check(const char *bucket)
{
    size_t n = bucket ? strlen(bucket) : 0;
    if (n < 3 || n > 63)
        return fin_err_set(FIN_EINVAL, "S3 bucket name '%s': 3 to 63 characters", bucket ? bucket : "");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)bucket[i];
        if (!(islower(c) || isdigit(c) || c == '-' || c == '.'))
            return fin_err_set(FIN_EINVAL,
                               "S3 bucket name '%s': only lower-case letters, digits, '-' and '.'",
                               bucket);
    }
    unsigned char first = (unsigned char)bucket[0], last = (unsigned char)bucket[n - 1];
    if (!(islower(first) || isdigit(first)) || !(islower(last) || isdigit(last)))
        return fin_err_set(FIN_EINVAL, "S3 bucket name '%s': must begin and end with a letter "
                           "or digit", bucket);
    if (strstr(bucket, ".."))
        return fin_err_set(FIN_EINVAL, "S3 bucket name '%s': no two adjacent periods", bucket);
    unsigned a, b, c, d;
    char tail;
    if (sscanf(bucket, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4)
        return fin_err_set(FIN_EINVAL, "S3 bucket name '%s': must not be an IP address", bucket);
    static const char *const bad_start[] = {"xn--", "sthree-", "amzn-s3-demo-"};
    static const char *const bad_end[] = {"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"};
    for (size_t i = 0; i < sizeof bad_start / sizeof bad_start[0]; i++)
        if (strncmp(bucket, bad_start[i], strlen(bad_start[i])) == 0)
            return fin_err_set(FIN_EINVAL, "S3 bucket name '%s': the prefix '%s' is reserved",
                               bucket, bad_start[i]);
    for (size_t i = 0; i < sizeof bad_end / sizeof bad_end[0]; i++) {
        size_t k = strlen(bad_end[i]);
        if (n >= k && strcmp(bucket + n - k, bad_end[i]) == 0)
            return fin_err_set(FIN_EINVAL, "S3 bucket name '%s': the suffix '%s' is reserved",
                               bucket, bad_end[i]);
    }
    return 0;
}

static int check_key(const char *key)
{
    size_t n = key ? strlen(key) : 0;
    if (n == 0 || n > FIN_S3_MAX_KEY)
        return fin_err_set(FIN_EINVAL, "S3 key '%.80s': 1 to %d bytes", key ? key : "",
                           FIN_S3_MAX_KEY);
    return 0;
}

/* Where a bucket's (key NULL) or an object's requests go: host (NULL: the endpoint's) and
 * the encoded path. */
static int target(struct fin_s3 *s3, const char *bucket, const char *key, char *host, size_t cap,
                  const char **hostp, struct fin_buf *path)
{
    int rc = check_bucket(bucket);
    if (rc || (key && (rc = check_key(key))))
        return rc;
    fin_buf_reset(path);
    bool path_style = s3->path_style || strchr(bucket, '.');
    if (path_style) {
        *hostp = NULL;
        if (fin_buf_printf(path, "/%s%s", bucket, key ? "/" : ""))
            return FIN_ENOMEM;
    } else {
        snprintf(host, cap, "%s.%s", bucket, fin_aws_client_endpoint(s3->client)->host);
        *hostp = host;
        if (fin_buf_puts(path, "/"))
            return FIN_ENOMEM;
    }
    if (key && fin_aws_uri_encode(path, key, strlen(key), true))
        return FIN_ENOMEM;
    return fin_buf_cstr(path) ? 0 : FIN_ENOMEM;
}

/* One call on an object or bucket. */
static int s3_call(struct fin_s3 *s3, const char *method, const char *bucket, const char *key,
                   const char *query, const struct fin_aws_header *h, size_t nh, const void *body,
                   size_t len, const char *what, struct fin_http_response *resp,
                   struct fin_aws_error *err)
{
    char host[320];
    const char *hostp = NULL;
    struct fin_buf path;
    fin_buf_init(&path);
    char whatbuf[1200];
    snprintf(whatbuf, sizeof whatbuf, "%s s3://%s/%s", what, bucket ? bucket : "", key ? key : "");
    int rc = target(s3, bucket, key, host, sizeof host, &hostp, &path);
    if (rc == 0) {
        struct fin_aws_call call = {.method = method, .host = hostp, .path = path.data,
                                    .query = query, .headers = h, .n_headers = nh, .body = body,
                                    .body_len = len, .s3 = true, .what = whatbuf};
        rc = fin_aws_client_call(s3->client, &call, resp, err);
    }
    fin_buf_fini(&path);
    return rc;
}

int fin_s3_put_single(struct fin_s3 *s3, const char *bucket, const char *key, const void *data,
                      size_t len)
{
    char md5[25];
    fin_md5_base64(data ? data : "", len, md5);
    struct fin_aws_header h[] = {{"Content-MD5", md5},
                                 {"Content-Type", "application/octet-stream"}};
    struct fin_http_response resp;
    fin_http_response_init(&resp);
    int rc = s3_call(s3, "PUT", bucket, key, NULL, h, 2, data, len, "PutObject", &resp, NULL);
    if (rc == 0) {
        s3->stats.objects++;
        s3->stats.bytes += len;
    }
    fin_http_response_fini(&resp);
    return rc;
}

static void xml_text(const char *xml, const char *tag, char *out, size_t cap)
{
    char open[64], close[64];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    out[0] = '\0';
    const char *p = strstr(xml, open);
    if (!p)
        return;
    p += strlen(open);
    const char *e = strstr(p, close);
    if (!e || (size_t)(e - p) >= cap)
        return;
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = '\0';
    fin_xml_unescape(out);
}

/* True when key holds an object of len bytes whose ETag proves it is this data: the
 * multipart ETag of these parts (hex MD5 of the parts' MD5s, '-', the number of parts) as
 * S3 computes it, or the MD5 of the whole object, as some S3-compatible stores do. */
static bool completed_before(struct fin_s3 *s3, const char *bucket, const char *key,
                             const unsigned char *part_md5, size_t parts, const void *data,
                             size_t len)
{
    struct fin_s3_object info;
    if (fin_s3_head_object(s3, bucket, key, &info) != 0 || info.size != (int64_t)len)
        return false;
    const char *e = info.etag[0] == '"' ? info.etag + 1 : info.etag;
    unsigned char md[16];
    unsigned int mdn = 0;
    char want[64];
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 0)
            EVP_Digest(part_md5, parts * 16, md, &mdn, EVP_md5(), NULL);
        else
            EVP_Digest(data, len, md, &mdn, EVP_md5(), NULL);
        for (int i = 0; i < 16; i++)
            snprintf(want + 2 * i, 3, "%02x", md[i]);
        if (pass == 0)
            snprintf(want + 32, sizeof want - 32, "-%zu", parts);
        size_t wl = strlen(want);
        if (strncmp(e, want, wl) == 0 && (e[wl] == '\0' || e[wl] == '"'))
            return true;
    }
    return false;
}

static int abort_upload(struct fin_s3 *s3, const char *bucket, const char *key, const char *query)
{
    struct fin_http_response resp;
    fin_http_response_init(&resp);
    int rc = s3_call(s3, "DELETE", bucket, key, query, NULL, 0, NULL, 0, "AbortMultipartUpload",
                     &resp, NULL);
    fin_http_response_fini(&resp);
    s3->stats.aborted_uploads++;   /* counted when sent: a store may not support it */
    return rc;
}

int fin_s3_put_multipart(struct fin_s3 *s3, const char *bucket, const char *key, const void *data,
                         size_t len, size_t part_size)
{
    if (part_size < FIN_S3_MIN_PART)
        part_size = FIN_S3_MIN_PART;
    size_t parts = len ? (len + part_size - 1) / part_size : 1;
    if (parts > FIN_S3_MAX_PARTS)
        return fin_err_set(FIN_ELIMIT, "s3://%s/%s: %zu bytes need %zu parts of %zu, S3 allows %d",
                           bucket, key, len, parts, part_size, FIN_S3_MAX_PARTS);
    struct fin_http_response resp;
    fin_http_response_init(&resp);
    struct fin_buf q, done;
    fin_buf_init(&q);
    fin_buf_init(&done);
    char upload_id[1024], upload_q[3200] = "";
    bool started = false;
    unsigned char *part_md5 = malloc(parts * 16);
    if (!part_md5)
        return FIN_ENOMEM;
    struct fin_aws_header ct[] = {{"Content-Type", "application/octet-stream"}};
    int rc = s3_call(s3, "POST", bucket, key, "uploads=", ct, 1, NULL, 0, "CreateMultipartUpload",
                     &resp, NULL);
    if (rc)
        goto fail;
    xml_text(resp.body.data, "UploadId", upload_id, sizeof upload_id);
    if (!upload_id[0]) {
        rc = fin_err_set(FIN_EPARSE, "CreateMultipartUpload s3://%s/%s: no UploadId in the answer",
                         bucket, key);
        goto fail;
    }
    started = true;
    {
        struct fin_buf enc;
        fin_buf_init(&enc);
        rc = fin_aws_uri_encode(&enc, upload_id, strlen(upload_id), false);
        if (rc == 0 && fin_buf_cstr(&enc))
            snprintf(upload_q, sizeof upload_q, "uploadId=%s", enc.data);
        fin_buf_fini(&enc);
        if (rc || !upload_q[0]) {
            rc = rc ? rc : FIN_ENOMEM;
            goto fail;
        }
    }
    if ((rc = fin_buf_puts(&done, "<CompleteMultipartUpload>")) != 0)
        goto fail;
    for (size_t i = 0; i < parts; i++) {
        size_t off = i * part_size, n = len - off < part_size ? len - off : part_size;
        const char *p = (const char *)data + off;
        char md5[25];
        fin_md5_base64(p, n, md5);
        EVP_DecodeBlock(part_md5 + 16 * i, (const unsigned char *)md5, 24);
        struct fin_aws_header h[] = {{"Content-MD5", md5}};
        fin_buf_reset(&q);
        if (fin_buf_printf(&q, "partNumber=%zu&%s", i + 1, upload_q) || !fin_buf_cstr(&q)) {
            rc = FIN_ENOMEM;
            goto fail;
        }
        if ((rc = s3_call(s3, "PUT", bucket, key, q.data, h, 1, p, n, "UploadPart", &resp, NULL)))
            goto fail;
        const char *etag = fin_http_response_header(&resp, "etag");
        if (!etag || !*etag) {
            rc = fin_err_set(FIN_EPARSE, "UploadPart %zu of s3://%s/%s: no ETag in the answer",
                             i + 1, bucket, key);
            goto fail;
        }
        if (fin_buf_printf(&done, "<Part><PartNumber>%zu</PartNumber><ETag>%s</ETag></Part>", i + 1,
                           etag)) {
            rc = FIN_ENOMEM;
            goto fail;
        }
        s3->stats.parts++;
    }
    if (fin_buf_puts(&done, "</CompleteMultipartUpload>")) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    uint64_t retries0 = fin_aws_client_stats(s3->client)->retries;
    bool repeated = false;
    const struct fin_aws_settings *set = fin_aws_client_settings(s3->client);
    for (int t = 0;; t++) {
        rc = s3_call(s3, "POST", bucket, key, upload_q, NULL, 0, done.data, done.len,
                     "CompleteMultipartUpload", &resp, NULL);
        if (rc == 0 && strstr(resp.body.data, "<Error>")) {
            /* S3 may answer 200 and report the failure in the body; the code inside
             * still says whether another try may help. */
            char code[128], msg[256];
            xml_text(resp.body.data, "Code", code, sizeof code);
            xml_text(resp.body.data, "Message", msg, sizeof msg);
            enum fin_aws_error_class cls = fin_aws_classify_code(code[0] ? code : "InternalError", 500);
            rc = fin_err_set(fin_aws_class_errcode(cls), "CompleteMultipartUpload s3://%s/%s: %s %s",
                             bucket, key, code, msg);
            if ((cls == FIN_AWS_RETRIABLE || cls == FIN_AWS_THROTTLED) && t < set->retries) {
                const struct fin_clock *clk = fin_aws_client_clock(s3->client);
                clk->sleep_ns(clk->ctx, set->backoff_ms * FIN_NS_PER_MS);
                repeated = true;
                continue;
            }
        }
        break;
    }
    char complete_msg[1024];
    snprintf(complete_msg, sizeof complete_msg, "%s", fin_err_msg());
    if (rc && (repeated || fin_aws_client_stats(s3->client)->retries > retries0) &&
        completed_before(s3, bucket, key, part_md5, parts, data, len)) {
        /* An earlier try of the completion went through but its answer was lost, and the
         * retry found the upload gone (NoSuchUpload, or another error on stores that
         * differ). The object's ETag proves it is this data, whole. */
        rc = 0;
    }
    if (rc) {
        fin_err_set(rc, "%s", complete_msg);
        goto fail;
    }
    started = false;
    s3->stats.objects++;
    s3->stats.multipart_objects++;
    s3->stats.bytes += len;
    rc = 0;
fail:
    if (started) {
        /* Keep the first failure's message: that is what the caller must see. */
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", fin_err_msg());
        if (abort_upload(s3, bucket, key, upload_q) != 0)
            fin_warn("could not abort the multipart upload of s3://%s/%s: %s", bucket, key,
                     fin_err_msg());
        fin_err_set(rc, "%s (upload aborted)", msg);
    }
    free(part_md5);
    fin_buf_fini(&q);
    fin_buf_fini(&done);
    fin_http_response_fini(&resp);
    return rc;
}

int fin_s3_put_object(struct fin_s3 *s3, const char *bucket, const char *key, const void *data,
                      size_t len)
{
    if ((int64_t)len >= s3->threshold)
        return fin_s3_put_multipart(s3, bucket, key, data, len, (size_t)s3->part_size);
    return fin_s3_put_single(s3, bucket, key, data, len);
}

int fin_s3_head_object(struct fin_s3 *s3, const char *bucket, const char *key,
                       struct fin_s3_object *info)
{
    struct fin_http_response resp;
    fin_http_response_init(&resp);
    int rc = s3_call(s3, "HEAD", bucket, key, NULL, NULL, 0, NULL, 0, "HeadObject", &resp, NULL);
    if (rc == 0 && info) {
        memset(info, 0, sizeof *info);
        const char *cl = fin_http_response_header(&resp, "content-length");
        const char *et = fin_http_response_header(&resp, "etag");
        info->size = cl ? strtoll(cl, NULL, 10) : -1;
        snprintf(info->etag, sizeof info->etag, "%s", et ? et : "");
    }
    fin_http_response_fini(&resp);
    return rc;
}

int fin_s3_get_object(struct fin_s3 *s3, const char *bucket, const char *key, struct fin_buf *out)
{
    struct fin_http_response resp;
    fin_http_response_init(&resp);
    int rc = s3_call(s3, "GET", bucket, key, NULL, NULL, 0, NULL, 0, "GetObject", &resp, NULL);
    if (rc == 0 && fin_buf_append(out, resp.body.data, resp.body.len))
        rc = FIN_ENOMEM;
    fin_http_response_fini(&resp);
    return rc;
}

int fin_s3_delete_object(struct fin_s3 *s3, const char *bucket, const char *key)
{
    struct fin_http_response resp;
    fin_http_response_init(&resp);
    int rc = s3_call(s3, "DELETE", bucket, key, NULL, NULL, 0, NULL, 0, "DeleteObject", &resp, NULL);
    fin_http_response_fini(&resp);
    return rc;
}

int fin_s3_create_bucket(struct fin_s3 *s3, const char *bucket)
{
    struct fin_http_response resp;
    fin_http_response_init(&resp);
    struct fin_aws_error err;
    /* Outside us-east-1 S3 wants the region in the body, or refuses the bucket. */
    const char *region = fin_aws_client_region(s3->client);
    char body[256] = "";
    if (strcmp(region, "us-east-1") != 0)
        snprintf(body, sizeof body,
                 "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                 "<LocationConstraint>%s</LocationConstraint></CreateBucketConfiguration>", region);
    int rc = s3_call(s3, "PUT", bucket, NULL, NULL, NULL, 0, body, strlen(body), "CreateBucket",
                     &resp, &err);
    if (rc && strcmp(err.type, "BucketAlreadyOwnedByYou") == 0)
        rc = 0;
    /* Some S3-compatible stores answer BucketAlreadyExists to the owner too; a bucket we
     * can read is one we may write to. */
    if (rc && strcmp(err.type, "BucketAlreadyExists") == 0 &&
        s3_call(s3, "HEAD", bucket, NULL, NULL, NULL, 0, NULL, 0, "HeadBucket", &resp, NULL) == 0)
        rc = 0;
    fin_http_response_fini(&resp);
    return rc;
}

void fin_s3_list_fini(struct fin_s3_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->objects[i].key);
    free(l->objects);
    memset(l, 0, sizeof *l);
}

/* Adds the <Contents> entries of one ListObjectsV2 page to out. */
static int parse_list_page(const char *xml, struct fin_s3_list *out, size_t *cap)
{
    const char *p = xml;
    while ((p = strstr(p, "<Contents>")) != NULL) {
        const char *e = strstr(p, "</Contents>");
        if (!e)
            return fin_err_set(FIN_EPARSE, "ListObjectsV2: unterminated <Contents>");
        size_t n = (size_t)(e - p);
        char *entry = strndup(p, n);
        if (!entry)
            return FIN_ENOMEM;
        if (out->n == *cap) {
            size_t nc = *cap ? *cap * 2 : 64;
            struct fin_s3_object *no = realloc(out->objects, nc * sizeof *no);
            if (!no) {
                free(entry);
                return FIN_ENOMEM;
            }
            out->objects = no;
            *cap = nc;
        }
        struct fin_s3_object *o = &out->objects[out->n];
        memset(o, 0, sizeof *o);
        char *key = malloc(n + 1), size[32];
        if (!key) {
            free(entry);
            return FIN_ENOMEM;
        }
        xml_text(entry, "Key", key, n + 1);
        xml_text(entry, "Size", size, sizeof size);
        xml_text(entry, "ETag", o->etag, sizeof o->etag);
        free(entry);
        o->key = key;
        o->size = strtoll(size, NULL, 10);
        out->n++;
        p = e;
    }
    return 0;
}

int fin_s3_list_objects(struct fin_s3 *s3, const char *bucket, const char *prefix,
                        struct fin_s3_list *out)
{
    memset(out, 0, sizeof *out);
    size_t cap = 0;
    struct fin_buf q;
    fin_buf_init(&q);
    struct fin_http_response resp;
    fin_http_response_init(&resp);
    char *token = NULL;
    int rc = 0;
    for (int page = 0;; page++) {
        fin_buf_reset(&q);
        if (token) {
            rc = fin_buf_puts(&q, "continuation-token=");
            if (!rc)
                rc = fin_aws_uri_encode(&q, token, strlen(token), false);
            if (!rc)
                rc = fin_buf_puts(&q, "&");
        }
        if (!rc)
            rc = fin_buf_puts(&q, "list-type=2&prefix=");
        if (!rc && prefix)
            rc = fin_aws_uri_encode(&q, prefix, strlen(prefix), false);
        if (rc || !fin_buf_cstr(&q)) {
            rc = rc ? rc : FIN_ENOMEM;
            goto fail;
        }
        if ((rc = s3_call(s3, "GET", bucket, NULL, q.data, NULL, 0, NULL, 0, "ListObjectsV2", &resp,
                          NULL)))
            goto fail;
        if ((rc = parse_list_page(resp.body.data, out, &cap)))
            goto fail;
        char truncated[16], next[1024];
        xml_text(resp.body.data, "IsTruncated", truncated, sizeof truncated);
        xml_text(resp.body.data, "NextContinuationToken", next, sizeof next);
        free(token);
        token = NULL;
        if (strcmp(truncated, "true") != 0)
            break;
        if (!next[0]) {
            rc = fin_err_set(FIN_EPARSE, "ListObjectsV2 s3://%s/%s: truncated page %d without "
                             "NextContinuationToken", bucket, prefix ? prefix : "", page);
            goto fail;
        }
        if (!(token = strdup(next))) {
            rc = FIN_ENOMEM;
            goto fail;
        }
    }
fail:
    free(token);
    fin_buf_fini(&q);
    fin_http_response_fini(&resp);
    if (rc)
        fin_s3_list_fini(out);
    return rc;
}

int fin_s3_parse_url(const char *url, char *bucket, size_t bucket_cap, char *prefix,
                     size_t prefix_cap)
{
    if (strncmp(url, "s3://", 5) != 0)
        return fin_err_set(FIN_EINVAL, "'%s': not an s3://bucket/prefix URL", url);
    const char *b = url + 5, *slash = strchr(b, '/');
    size_t bl = slash ? (size_t)(slash - b) : strlen(b);
    if (bl >= bucket_cap)
        return fin_err_set(FIN_EINVAL, "'%s': bucket name too long", url);
    memcpy(bucket, b, bl);
    bucket[bl] = '\0';
    int rc = check_bucket(bucket);
    if (rc)
        return rc;
    const char *p = slash ? slash + 1 : "";
    if (strlen(p) >= prefix_cap)
        return fin_err_set(FIN_EINVAL, "'%s': prefix too long", url);
    snprintf(prefix, prefix_cap, "%s", p);
    return 0;
}

void fin_xml_unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r;) {
        if (*r != '&') {
            *w++ = *r++;
            continue;
        }
        static const struct { const char *ent; char c; } ents[] = {
            {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
        bool done = false;
        for (size_t i = 0; i < sizeof ents / sizeof ents[0] && !done; i++) {
            size_t n = strlen(ents[i].ent);
            if (strncmp(r, ents[i].ent, n) == 0) {
                *w++ = ents[i].c;
                r += n;
                done = true;
            }
        }
        if (!done && r[1] == '#') {
            char *end;
            unsigned long cp = r[2] == 'x' || r[2] == 'X' ? strtoul(r + 3, &end, 16)
                                                          : strtoul(r + 2, &end, 10);
            if (*end == ';' && end > r + 2 && cp > 0 && cp <= 0x10FFFF) {
                /* UTF-8 of the code point; never longer than the reference itself. */
                if (cp < 0x80) {
                    *w++ = (char)cp;
                } else if (cp < 0x800) {
                    *w++ = (char)(0xC0 | (cp >> 6));
                    *w++ = (char)(0x80 | (cp & 0x3F));
                } else if (cp < 0x10000) {
                    *w++ = (char)(0xE0 | (cp >> 12));
                    *w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
                    *w++ = (char)(0x80 | (cp & 0x3F));
                } else {
                    *w++ = (char)(0xF0 | (cp >> 18));
                    *w++ = (char)(0x80 | ((cp >> 12) & 0x3F));
                    *w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
                    *w++ = (char)(0x80 | (cp & 0x3F));
                }
                r = end + 1;
                done = true;
            }
        }
        if (!done)
            *w++ = *r++;
    }
    *w = '\0';
}
