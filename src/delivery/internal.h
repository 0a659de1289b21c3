/* internal.h - what the files of src/delivery share and nothing else sees: the JSON
 * scanner, the sink seam (a lake folder or an S3 bucket), gzip, error records and the
 * state file. */
#ifndef FIN_DELIVERY_INTERNAL_H
#define FIN_DELIVERY_INTERNAL_H

#include "finstream/buf.h"
#include "finstream/clock.h"
#include "finstream/delivery.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* ---- json_scan.c: a validating scanner for one JSON object's top-level fields ---- */

enum jtype { J_STRING, J_INT, J_REAL, J_TRUE, J_FALSE, J_NULL, J_OBJECT, J_ARRAY };

struct jfield {
    const char *key;      /* between the quotes, raw (escapes not decoded) */
    size_t key_len;
    bool key_escaped;
    const char *val;      /* the value's text; for strings without the quotes */
    size_t val_len;
    bool val_escaped;     /* a string value with backslash escapes */
    enum jtype type;
};

#define JSCAN_MAX_FIELDS 128

/* Scans rec as one JSON object and fills up to max fields. Returns 0, or -1 with *why set
 * to a static reason ("not JSON: ...", "not a JSON object"). Strings are checked for
 * control characters and valid UTF-8, numbers against the JSON grammar. */
int jscan_object(const char *rec, size_t len, struct jfield *fields, size_t max, size_t *n,
                 const char **why);
const char *jtype_name(enum jtype t);
/* Decodes a JSON string body (escapes) into out (cap bytes incl. NUL); -1 if it does not fit. */
int jscan_unescape(const char *s, size_t n, char *out, size_t cap, size_t *out_len);

/* ---- sink_local.c: finished objects into a lake folder ---- */

struct fin_sink;

struct fin_sink_ops {
    /* Writes data as the object key (a relative path): through a temporary file, fsynced,
     * renamed into place. The containing folder is fsynced by sync(). */
    int (*put)(struct fin_sink *s, const char *key, const struct iovec *iov, int n_iov);
    /* Moves a finished file (already fsynced, in the sink's temporary folder) to key. */
    int (*put_file)(struct fin_sink *s, const char *key, const char *tmp_path);
    /* Makes every rename since the last sync durable (fsyncs the folders touched). */
    int (*sync)(struct fin_sink *s);
    void (*destroy)(struct fin_sink *s);
};

struct fin_sink {
    const struct fin_sink_ops *ops;
};

/* A sink writing under root (created if needed), with temporary files in tmp_dir, which
 * must be on the same file system and outside root. */
int fin_sink_local_create(struct fin_sink **out, const char *root, const char *tmp_dir);
/* A fresh temporary path in the sink's tmp folder for a writer like DuckDB that makes its
 * own file (caller frees). */
char *fin_sink_local_tmp_path(struct fin_sink *s, const char *ext);
/* fsync of a file by path. */
int fin_fsync_path(const char *path);

/* ---- sink_s3.c: finished objects into a bucket ---- */

/* A sink writing under destination "s3://BUCKET/prefix/" with the keys the local sink
 * gives them under its root. aws: the [aws] + [aws "s3"] settings (copied; NULL: defaults
 * and the environment); clock (may be NULL) paces the client's retries. put and put_file
 * return once S3 has confirmed the object; put_file removes the file then. */
struct fin_aws_settings;
int fin_sink_s3_create(struct fin_sink **out, const struct fin_aws_settings *aws,
                       const char *destination, const struct fin_clock *clock);

/* ---- encode.c ---- */

/* gzip (one member, level 1) of the bytes of iov, in order, appended to out. */
int fin_gzip_fast(const struct iovec *iov, int n_iov, struct fin_buf *out);
/* gzip while a buffer fills: a thread that compresses each shard's buffer (bufs, one per
 * shard, borrowed for the pipe's life) as the intake thread publishes its bytes. The
 * intake thread moves a buffer (grows it) only between fin_gz_pipe_lock and _unlock.
 * finish publishes everything, waits for it and appends the whole gzip object (the
 * buffers' text in shard order) to out; reset starts afresh once the buffers are empty. */
struct fin_gz_pipe;
int fin_gz_pipe_create(struct fin_gz_pipe **out, int n_shards, const struct fin_buf *const *bufs);
void fin_gz_pipe_destroy(struct fin_gz_pipe *p);
void fin_gz_pipe_publish(struct fin_gz_pipe *p, int shard);
size_t fin_gz_pipe_published(const struct fin_gz_pipe *p, int shard);
void fin_gz_pipe_lock(struct fin_gz_pipe *p);
void fin_gz_pipe_unlock(struct fin_gz_pipe *p);
int fin_gz_pipe_finish(struct fin_gz_pipe *p, struct fin_buf *out);
void fin_gz_pipe_reset(struct fin_gz_pipe *p);
/* base64 of in appended to out. */
int fin_base64_append(struct fin_buf *out, const void *in, size_t len);
/* Appends s as a JSON string (with quotes). */
int fin_json_str_append(struct fin_buf *out, const char *s, size_t len);

/* One error record in Firehose's shape (one line, newline included). */
int fin_error_record_append(struct fin_buf *out, const char *code, const char *message,
                            const void *raw, size_t raw_len, int64_t arrival_ms, int64_t now_ms);

/* ---- state.c: state.json ---- */

struct fin_delivery_shard_state {
    char shard_id[FIN_SHARD_ID_LEN + 16];
    char seq[FIN_SEQ_LEN + 1];       /* last delivered, "" = none yet */
};

struct fin_delivery_state {
    struct fin_delivery_shard_state *shards;
    size_t n_shards;
    /* the flush in progress (written before its objects), n_pending == 0 when none */
    struct fin_delivery_range *pending;
    size_t n_pending;
    struct fin_delivery_stats stats;
};

/* Loads path; a missing file is an empty state. Pending ranges name shards by id, mapped
 * to indexes in shard_ids (n_ids of them; an unknown one is FIN_ECORRUPT, as is content
 * that does not parse, naming the file). shard_ids NULL (status of a source that is not
 * open) keeps pending ranges with shard -1. */
int fin_delivery_state_load(struct fin_delivery_state *st, const char *path,
                            const char *const *shard_ids, int n_ids);
int fin_delivery_state_save(const struct fin_delivery_state *st, const char *path,
                            const char *const *shard_ids);
void fin_delivery_state_fini(struct fin_delivery_state *st);
/* The shard entry for shard_id, created (with seq "") when missing; NULL on ENOMEM. */
struct fin_delivery_shard_state *fin_delivery_state_shard(struct fin_delivery_state *st,
                                                          const char *shard_id);

/* What shard `shard` of s holds beyond the checkpoint seq ("" : from its start). */
struct fin_backlog {
    uint64_t records;
    uint64_t bytes;          /* their data, with a newline each */
    int64_t oldest_ms;       /* arrival of the first of them; -1 when none */
    bool capped;             /* counting stopped at cap: at least these */
};
/* Counts the backlog, stopping at cap records (0: no cap). */
int fin_delivery_backlog(struct fin_stream *s, int shard, const char *seq, uint64_t cap,
                         struct fin_backlog *out);

#endif
