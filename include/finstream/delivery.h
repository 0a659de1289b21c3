/* delivery.h - finstream's Kinesis Data Firehose: records from a stream (or direct puts)
 * buffered by size and time and written to the lake as finished objects.
 *
 * A delivery stream is a [delivery "NAME"] section of finstream.ini (fin_delivery_opts).
 * Its state lives in <data_dir>/deliveries/<NAME>/: state.json (checkpoint per shard, the
 * flush in progress, counters), tmp/ (objects being written, never visible in the lake),
 * a lock file, and for direct put a private stream under streams/direct/.
 *
 * Exactly once: before an object is written, the flush it belongs to (the range of
 * sequence numbers per shard) is recorded in state.json; the objects are written under
 * tmp/, fsynced, renamed into the lake and the folders fsynced; only then does the
 * checkpoint move past the range. Object names are derived from the range, so a restart
 * that finds a recorded flush rewrites the same objects under the same names. The full
 * argument is in docs/delivery.md. */
#ifndef FINSTREAM_DELIVERY_H
#define FINSTREAM_DELIVERY_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "finstream/clock.h"
#include "finstream/config.h"
#include "finstream/stream.h"

#define FIN_DELIVERY_MAX_NAME     64
#define FIN_DELIVERY_MIN_BUFFER   (1LL << 20)      /* 1 MiB */
#define FIN_DELIVERY_MAX_BUFFER   (128LL << 20)    /* 128 MiB */
#define FIN_DELIVERY_MAX_INTERVAL (900LL * 1000)   /* ms */
#define FIN_DELIVERY_VERSION      1                /* the <version> in object names */
#define FIN_DELIVERY_MAX_PREFIX   1024
#define FIN_DELIVERY_SUFFIX_LEN   36               /* 8-4-4-4-12 */

enum fin_delivery_compression { FIN_COMPRESS_NONE, FIN_COMPRESS_GZIP };
enum fin_delivery_format { FIN_FORMAT_JSON, FIN_FORMAT_PARQUET };

struct fin_aws_settings;

/* The [delivery "NAME"] section. Strings are owned (fin_delivery_settings_fini). */
struct fin_delivery_settings {
    char *source;             /* "stream:NAME", "kinesis:STREAM" or "direct" */
    char *prefix;             /* "" or YYYY/MM/DD/HH/ = the default */
    char *error_prefix;
    int64_t buffer_size;      /* bytes */
    int64_t buffer_interval_ms;
    int compression;          /* enum fin_delivery_compression */
    int format;               /* enum fin_delivery_format */
    char *destination;        /* lake folder or "s3://BUCKET/prefix/"; "" = <data_dir>/lake */
    char *partition_query;    /* "" or {key: .path, ...}: what !{partitionKeyFromQuery:key} reads */
    /* Not options of the section: the [aws] settings with [aws "s3"] over them, for an
     * s3:// destination, and with [aws "kinesis"] over them, for a kinesis: source.
     * fin_delivery_settings_load fills them from the same file when the section needs
     * them; NULL otherwise, which means defaults and the environment. Owned. */
    struct fin_aws_settings *aws_s3;
    struct fin_aws_settings *aws_kinesis;
};

/* The option table, terminated by key == NULL; also used by `finstream run` to write a
 * default finstream.ini and by --help. */
extern const struct fin_opt fin_delivery_opts[];

/* Defaults, then the [delivery "name"] section of the ini at config_path (FIN_ENOENT
 * when there is no such section). Checks the values that depend on each other (prefix
 * expressions, source). Freed by fin_delivery_settings_fini. */
int fin_delivery_settings_load(struct fin_delivery_settings *set, const char *config_path,
                               const char *name);
int fin_delivery_settings_defaults(struct fin_delivery_settings *set);
/* Validates a settings struct (prefixes compile, source is stream:NAME, kinesis:STREAM or
 * direct, destination is a folder or a valid s3:// URL). */
int fin_delivery_settings_check(const struct fin_delivery_settings *set);
void fin_delivery_settings_fini(struct fin_delivery_settings *set);
/* Appends set as a [delivery "name"] section (header, then one "key = value" line per
 * option of fin_delivery_opts: every number and choice, and strings that differ from
 * their default) to out, so that
 * loading the text gives set back (values with ';', '#' or blanks at the ends are quoted).
 * Values with line breaks or control characters are FIN_EINVAL naming the key. */
struct fin_buf;
int fin_delivery_settings_format(const struct fin_delivery_settings *set, const char *name,
                                 struct fin_buf *out);
/* True when destination names a bucket (s3://...) rather than a lake folder. */
bool fin_delivery_is_s3(const char *destination);

/* The names of the delivery streams declared in config_path, in file order; *names and
 * each name owned by the caller (free()). A missing file gives none. */
int fin_delivery_list(const char *config_path, char ***names, size_t *n);

/* ---- prefix expressions ---- */

/* A compiled prefix: literal text with !{timestamp:PATTERN}, !{partitionKeyFromQuery:FIELD}
 * and (error prefixes only) !{firehose:error-output-type}. */
struct fin_prefix;

/* Compiles text; is_error allows !{firehose:error-output-type}. An empty text or the
 * literal "YYYY/MM/DD/HH/" means the default; a prefix without any expression gets the
 * default time folders appended, as Firehose does. Freed by fin_prefix_destroy. */
int fin_prefix_compile(struct fin_prefix **out, const char *text, bool is_error);
void fin_prefix_destroy(struct fin_prefix *p);
/* The partition field names the prefix uses, in order of appearance (borrowed). */
size_t fin_prefix_fields(const struct fin_prefix *p, const char *const **fields);
/* Renders the prefix for a first-arrival time (ms since the epoch, UTC), partition values
 * (one per field, in fin_prefix_fields order) and the error output type (or NULL).
 * Writes at most cap bytes with NUL; FIN_ELIMIT when it does not fit. */
int fin_prefix_render(const struct fin_prefix *p, int64_t t_ms, const char *const *values,
                      const char *error_type, char *out, size_t cap);

/* ---- partition queries ---- */

/* Firehose's MetadataExtractionQuery, the JQ object construction that names partition
 * keys: {name: .name, city: .address.city} (partition_query.c tells the subset). Without
 * one, !{partitionKeyFromQuery:K} reads the top-level field K. Freed by
 * fin_partition_query_destroy (accepts NULL). */
struct fin_partition_query;
int fin_partition_query_compile(struct fin_partition_query **out, const char *text);
void fin_partition_query_destroy(struct fin_partition_query *q);
/* The field path key stands for (depth names, borrowed from q), or NULL when q does not
 * define key. */
const char *const *fin_partition_query_path(const struct fin_partition_query *q, const char *key,
                                            size_t *depth);

/* ---- object names ---- */

/* One shard's part of a flush: the records first_seq .. last_seq (both included). */
struct fin_delivery_range {
    int shard;
    char first_seq[FIN_SEQ_LEN + 1];
    char last_seq[FIN_SEQ_LEN + 1];
    uint64_t count;
};

/* The 36-character suffix (8-4-4-4-12 hex, NUL-terminated in out[37]) for an object of
 * delivery `name` covering ranges, within partition `part` (the rendered prefix). Depends
 * only on its arguments, so a replay names its objects as the first attempt did. */
void fin_delivery_suffix(const char *name, const char *part,
                         const struct fin_delivery_range *ranges, size_t n_ranges,
                         const char *const *shard_ids, char out[FIN_DELIVERY_SUFFIX_LEN + 1]);
/* The rule every object key follows, so that it stays under the lake folder: relative,
 * no empty, "." or ".." folder, no control character or backslash. FIN_EINVAL naming the
 * key otherwise. Prefixes are checked against it when compiled, partition values when
 * a record is taken in, and the local sink once more before it writes. */
int fin_delivery_key_check(const char *key);
/* "<name>-1-YYYY-MM-DD-HH-MM-SS-<suffix><ext>" into out (cap bytes). */
int fin_delivery_object_name(const char *name, int64_t t_ms, const char *suffix,
                             const char *ext, char *out, size_t cap);

/* ---- sources: where records come from ---- */

/* A function table so the engine reads a stream in production and an in-memory log in
 * tests. Records a source returns are borrowed until its next call. */
struct fin_delivery_source {
    int n_shards;
    const char *(*shard_id)(void *ctx, int shard);
    /* Positions shard after seq ("" = from the oldest record). */
    int (*seek)(void *ctx, int shard, const char *after_seq);
    /* 0 and *rec, FIN_EEND when nothing more is written now, or an error. */
    int (*next)(void *ctx, int shard, struct fin_record *rec);
    /* May be NULL: then FIN_EEND from a shard means it is read to its end. A remote
     * source whose next() also answers FIN_EEND while it may not call the service yet
     * (Kinesis: 5 calls a second per shard) says here whether the shard was really read
     * to its end, so that `deliver --once` knows when to stop and a rewritten flush
     * waits for all of its records. */
    bool (*caught_up)(void *ctx, int shard);
    void *ctx;
};

/* A source over all shards of an open stream (borrowed; must outlive the source).
 * Freed by fin_delivery_stream_source_destroy. */
int fin_delivery_stream_source_create(struct fin_delivery_source **out, struct fin_stream *s);
void fin_delivery_stream_source_destroy(struct fin_delivery_source *src);

/* ---- the engine ---- */

struct fin_delivery_stats {
    uint64_t records;         /* records delivered into objects */
    uint64_t bytes;           /* bytes of objects written */
    uint64_t objects;
    uint64_t error_records;   /* records routed to the error prefix */
    uint64_t error_objects;
    uint64_t flushes;
    uint64_t replays;         /* flushes rewritten after a restart */
    int64_t last_flush_ms;    /* wall clock of the last flush, 0 = never */
    char last_prefix[256];    /* rendered prefix of the last data object ("" = none yet;
                                 kept in memory only) */
};

struct fin_delivery_engine;

/* Opens the engine of delivery `name` under data_dir with settings set (copied) reading
 * from src (borrowed; must outlive the engine). Takes the delivery's lock (FIN_EBUSY when
 * another process holds it), loads state.json, removes leftovers in tmp/, and, when a
 * flush was in progress, rewrites its objects and moves the checkpoint. clock may be NULL.
 * Freed by fin_delivery_engine_destroy (which does not flush). */
int fin_delivery_engine_create(struct fin_delivery_engine **out, const char *data_dir,
                               const char *name, const struct fin_delivery_settings *set,
                               const struct fin_delivery_source *src, const struct fin_clock *clock);
void fin_delivery_engine_destroy(struct fin_delivery_engine *e);

/* Reads at most max_records (0 = no limit) of what the source has now into the buffer,
 * flushing whenever the buffer reaches buffer_size or buffer_interval has passed since
 * its first record; *got (may be NULL) is set to the number read. */
int fin_delivery_engine_pump(struct fin_delivery_engine *e, size_t max_records, size_t *got);
/* Flushes when the buffer's interval has passed; *flushed (may be NULL) says whether. */
int fin_delivery_engine_tick(struct fin_delivery_engine *e, bool *flushed);
/* Writes out whatever is buffered. */
int fin_delivery_engine_flush(struct fin_delivery_engine *e);
/* Counters, as in state.json (borrowed view, valid until the next call on e). */
const struct fin_delivery_stats *fin_delivery_engine_stats(const struct fin_delivery_engine *e);
/* Records and bytes buffered now. */
void fin_delivery_engine_buffered(const struct fin_delivery_engine *e, size_t *records, size_t *bytes);

/* ---- running a delivery stream ---- */

struct fin_delivery_run_opts {
    bool once;                         /* read everything available, flush, return */
    volatile sig_atomic_t *stop;       /* set (by a signal handler) to stop following */
    int64_t poll_ms;                   /* idle wait when following, default 50 */
    const struct fin_clock *clock;     /* NULL: the real clock */
    /* When following, called after each flush with that delivery stream's counters
     * (borrowed for the call). May be NULL. */
    void (*on_flush)(void *ctx, const char *name, const struct fin_delivery_stats *stats);
    void *ctx;
};

/* Runs the named delivery streams (all declared ones when n == 0) of data_dir with the
 * settings in config_path: with opts->once until each has delivered what its source holds,
 * otherwise until *opts->stop, then flushes. stats (n entries, may be NULL) gets each one's
 * counters for this run. */
int fin_delivery_run(const char *data_dir, const char *config_path, const char *const *names,
                     size_t n, const struct fin_delivery_run_opts *opts,
                     struct fin_delivery_stats *stats);

/* Prints the status of each declared delivery stream (checkpoint per shard, lag in
 * records and seconds, objects, bytes and errors written) to out. */
int fin_delivery_status(const char *data_dir, const char *config_path, const char *const *names,
                        size_t n, FILE *out);
/* The same as one JSON object per delivery stream and line (status_json.c documents the
 * members). */
int fin_delivery_status_json(const char *data_dir, const char *config_path,
                             const char *const *names, size_t n, FILE *out);
/* The counters delivery `name` has written over its whole life (its state.json); all
 * zero when it never ran. */
int fin_delivery_totals(const char *data_dir, const char *name, struct fin_delivery_stats *out);

/* ---- direct put ---- */

struct fin_delivery;

/* Opens delivery `name` (its section must say source = direct) for direct puts from this
 * process. Records go to the delivery's private stream (deliveries/<name>/streams/direct)
 * and on through the same engine, so the exactly-once rules are the same as for a stream
 * source. Freed, after a final flush, by fin_delivery_close. */
int fin_delivery_open(struct fin_delivery **out, const char *data_dir, const char *name);
/* Takes one record (key is the partition key, e.g. the ticker; the bytes are copied).
 * May write objects when the buffer fills or its interval has passed. */
int fin_delivery_put(struct fin_delivery *d, const char *key, size_t key_len, const char *rec,
                     size_t len);
/* Makes every record put so far durable and delivered into objects. */
int fin_delivery_flush(struct fin_delivery *d);
/* Flushes (the result is returned) and frees. Accepts NULL. */
int fin_delivery_close(struct fin_delivery *d);
/* Counters of the open delivery (borrowed until the next call on d). */
const struct fin_delivery_stats *fin_delivery_get_stats(const struct fin_delivery *d);

/* A collector sink (collector.h) over d: put is fin_delivery_put, flush is
 * fin_delivery_flush (so each collection run ends with its records in objects). d is
 * borrowed and must outlive the sink; fin_delivery_close() it afterwards. */
struct fin_record_sink;
void fin_delivery_sink_init(struct fin_record_sink *sink, struct fin_delivery *d);

/* ---- lag, for live views ---- */

struct fin_delivery_lag {
    struct fin_delivery_stats stats;  /* the counters in state.json */
    bool remote;                      /* a kinesis: source (no lag is measured) */
    bool source_found;                /* the local source stream exists */
    uint64_t lag_records;             /* in the source beyond the checkpoint */
    uint64_t lag_bytes;               /* their data, with a newline each */
    int64_t lag_ms;                   /* age of the oldest of them; 0 when none */
    bool lag_capped;                  /* counting stopped at cap: at least these */
    size_t pending_ranges;            /* a flush in progress (shard ranges) */
};

/* What delivery `name` (declared in config_path) has written and how far it is behind its
 * source at now_ms (ms since the epoch), reading at most cap records past the checkpoints
 * (0: no cap). Reads only: works while `finstream deliver` runs. */
int fin_delivery_lag(const char *data_dir, const char *config_path, const char *name,
                     uint64_t cap, int64_t now_ms, struct fin_delivery_lag *out);

#endif
