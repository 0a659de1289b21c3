/* stream.h - finstream's Kinesis Data Streams: a durable, sharded, append-only log.
 *
 * A stream lives in <data_dir>/streams/<name>/ and has N shards. A record's partition key
 * is MD5-hashed to a 128-bit hash key and goes to the shard whose hash-key range holds it
 * (shards own even ranges of [0, 2^128)), as Kinesis does, so records with one key stay in
 * order. Each shard is a folder of segment files named by their first sequence number;
 * every frame carries length, CRC32C, sequence number, arrival time, partition key and data
 * (byte layout in docs/formats.md).
 *
 * Sequence numbers are 56-digit decimal strings, strictly increasing within a shard and
 * never reused. One process at a time opens a stream for writing (FIN_STREAM_WRITE takes
 * an exclusive lock; a second writer gets FIN_EBUSY naming the holder's pid); any number
 * of readers, in any process, read while it writes and see new records as they land. */
#ifndef FINSTREAM_STREAM_H
#define FINSTREAM_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "finstream/clock.h"
#include "finstream/config.h"

struct fin_io;
struct fin_record_sink;

/* Limits, with the Kinesis values. */
#define FIN_STREAM_MAX_DATA      (1024 * 1024)  /* record data, bytes */
#define FIN_STREAM_MAX_KEY       256            /* partition key, characters (at least 1) */
#define FIN_STREAM_MAX_NAME      128            /* stream name: [a-zA-Z0-9_.-]{1,128} */
#define FIN_STREAM_MAX_SHARDS    1024
#define FIN_SEQ_LEN              56             /* digits of a sequence number */
#define FIN_SHARD_ID_LEN         20             /* "shardId-000000000000" */

enum fin_fsync_policy {
    FIN_FSYNC_ALWAYS,    /* a put returns after its bytes are on disk; concurrent puts share one fsync */
    FIN_FSYNC_INTERVAL,  /* fsync at least every fsync_interval_ms */
    FIN_FSYNC_NEVER,     /* leave it to the kernel */
};

struct fin_stream_config {
    int shards;                 /* default 1 */
    int64_t retention_ms;       /* default 24 h */
    int fsync;                  /* enum fin_fsync_policy, default ALWAYS */
    int64_t fsync_interval_ms;  /* for INTERVAL, default 1000 */
    int64_t segment_bytes;      /* a segment rolls past this size, default 64 MiB */
};

/* Fills cfg with the defaults above. */
void fin_stream_config_defaults(struct fin_stream_config *cfg);

/* The [stream "NAME"] section of finstream.ini, declared once for parsing and --help:
 *     shards = 2, retention = 24h, fsync = always|interval|never, fsync_interval = 1s,
 *     segment_size = 64MiB */
struct fin_stream_settings {
    int64_t shards;
    int64_t retention_ms;
    int fsync;
    int64_t fsync_interval_ms;
    int64_t segment_size;
};
extern const struct fin_opt fin_stream_opts[];
void fin_stream_settings_to_config(const struct fin_stream_settings *set,
                                   struct fin_stream_config *cfg);
void fin_stream_config_to_settings(const struct fin_stream_config *cfg,
                                   struct fin_stream_settings *set);
/* Applies [stream "name"] of ini (when present) over the defaults. */
int fin_stream_config_from_ini(const struct fin_ini *ini, const char *name,
                               struct fin_stream_config *cfg);
/* "always", "interval" or "never"; static. */
const char *fin_fsync_policy_name(int policy);

/* Creates <data_dir>/streams/<name> with cfg (NULL: the defaults), each shard with an
 * empty first segment so readers can open it at once. FIN_EEXIST if it exists; a name
 * outside [a-zA-Z0-9_.-]{1,128} (or "." / "..") is FIN_EINVAL. */
int fin_stream_create(const char *data_dir, const char *name, const struct fin_stream_config *cfg);
/* Removes a stream and all its data (FIN_EBUSY while a writer has it open). */
int fin_stream_delete(const char *data_dir, const char *name);
/* The names of all streams, sorted; *names and each name owned by the caller (free()). */
int fin_stream_list(const char *data_dir, char ***names, size_t *n);

enum { FIN_STREAM_READ = 0, FIN_STREAM_WRITE = 1 };

struct fin_stream;

/* Opens a stream. With FIN_STREAM_WRITE: takes the writer lock and recovers each shard
 * (a torn tail is truncated with a warning; corruption before the tail is refused with
 * FIN_ECORRUPT naming the segment and offset). clock may be NULL (the real clock).
 * The stream is freed by fin_stream_close(). */
int fin_stream_open(struct fin_stream **out, const char *data_dir, const char *name, int mode,
                    const struct fin_clock *clock);
/* Opens name for writing; when it does not exist, creates it first with the settings of
 * [stream "name"] in the ini file at config_path (missing file or section: defaults).
 * *created (may be NULL) says whether it did. Closed with fin_stream_close(). */
int fin_stream_open_or_create(struct fin_stream **out, const char *data_dir, const char *name,
                              const char *config_path, bool *created);

/* fin_stream_open with a file-I/O table (NULL: the real one); io is borrowed until
 * close. Tests use it to fail chosen writes and fsyncs. */
int fin_stream_open_io(struct fin_stream **out, const char *data_dir, const char *name, int mode,
                       const struct fin_clock *clock, const struct fin_io *io);
/* Flushes, syncs, writes the clean-shutdown marker (writers) and frees. Accepts NULL. */
void fin_stream_close(struct fin_stream *s);

/* Shards are addressed by position (0 .. fin_stream_shard_count()-1) in the calls below.
 * Positions count every shard the handle knows, open or closed (see "resharding"), in
 * increasing shard-id order; a position never changes while the handle is open, and new
 * children are appended. Positions are not shard numbers: once retention has removed a
 * closed shard they differ, so name shards across handles and processes by id. */
int fin_stream_shard_count(const struct fin_stream *s);
/* "shardId-000000000000"; borrowed until close. */
const char *fin_stream_shard_id(const struct fin_stream *s, int shard);
const struct fin_stream_config *fin_stream_get_config(const struct fin_stream *s);

/* The open shard that partition key (or, when explicit_hash_key is a decimal 128-bit
 * number, that hash key) maps to; -1 when explicit_hash_key is not such a number. */
int fin_stream_shard_for_key(const struct fin_stream *s, const char *key, size_t key_len,
                             const char *explicit_hash_key);

struct fin_put_result {
    int shard;
    char seq[FIN_SEQ_LEN + 1];
};

/* Appends one record; when it returns 0 the record is durable as the fsync policy
 * promises, and res (may be NULL) holds its shard and sequence number. Thread-safe: many
 * threads may put at once (group commit). Limits violated: FIN_ELIMIT with a message. */
int fin_stream_put(struct fin_stream *s, const char *key, size_t key_len, const void *data,
                   size_t len, const char *explicit_hash_key, struct fin_put_result *res);

struct fin_put_entry {
    const char *key;
    size_t key_len;
    const void *data;
    size_t len;
};

/* Appends n records with one durability wait; res (n entries, may be NULL). A record
 * beyond a limit fails the call: the records before it are appended, the ones after it
 * are not. A failed write or fsync fails the call too: the records that went out in that
 * write are not appended (the segment is cut back), earlier writes stand, and nothing
 * after them is attempted. */
int fin_stream_put_batch(struct fin_stream *s, const struct fin_put_entry *entries, size_t n,
                         struct fin_put_result *res);

/* Makes everything appended so far durable (regardless of policy). */
int fin_stream_sync(struct fin_stream *s);

/* ---- reading ---- */

enum fin_iter_type {
    FIN_ITER_TRIM_HORIZON,
    FIN_ITER_LATEST,
    FIN_ITER_AT_SEQUENCE_NUMBER,
    FIN_ITER_AFTER_SEQUENCE_NUMBER,
    FIN_ITER_AT_TIMESTAMP,
};

struct fin_record {
    const char *key;        /* borrowed until the next fin_iter_next or fin_iter_close */
    size_t key_len;
    const char *data;       /* borrowed, likewise */
    size_t len;
    int64_t arrival_ms;     /* ms since the epoch */
    char seq[FIN_SEQ_LEN + 1];
};

struct fin_iter;

/* An iterator over one shard. seq is used by AT_/AFTER_SEQUENCE_NUMBER, ts_ms by
 * AT_TIMESTAMP. Freed by fin_iter_close(). */
int fin_iter_open(struct fin_iter **out, struct fin_stream *s, int shard, enum fin_iter_type type,
                  const char *seq, int64_t ts_ms);
/* The next record: 0 and *rec filled, FIN_EEND when the iterator has reached the end of
 * what is written now (call again later to follow the tail), FIN_ECORRUPT on bad bytes.
 * On a closed shard (split or merged) FIN_EEND after its last record is final, and
 * fin_iter_shard_closed() then says so: the consumer moves on to the children. */
int fin_iter_next(struct fin_iter *it, struct fin_record *rec);
/* True once fin_iter_next has returned FIN_EEND at the end of a closed shard: nothing
 * more will ever come (Kinesis returns no NextShardIterator then). */
bool fin_iter_shard_closed(const struct fin_iter *it);
/* With on, fin_iter_next steps over damaged bytes (a bad frame, a damaged segment header)
 * instead of returning FIN_ECORRUPT: it warns with the segment, the offset and the bytes
 * skipped, and resumes at the next valid frame (the ones `finstream check --fix` keeps).
 * Off by default: consumers that must not miss records stop at damage. */
void fin_iter_skip_damaged(struct fin_iter *it, bool on);
/* How many damaged runs the iterator has stepped over. */
uint64_t fin_iter_skipped(const struct fin_iter *it);
void fin_iter_close(struct fin_iter *it);

/* ---- resharding (as Kinesis SplitShard, MergeShards, UpdateShardCount, ListShards) ----
 *
 * A split or merge closes its parent shards and creates children with the next unused
 * shard numbers (shardId-000000000002, ...). A closed shard takes no more puts; it keeps
 * its records, readable to the end, until retention has removed all of them, and is then
 * gone from the stream. Puts go to the open shard whose hash-key range holds the key, so
 * a consumer that reads a parent to its end before its children sees each partition key's
 * records in order. Children number their records from the starting sequence number; a
 * closed shard reports the last sequence number it issued as its ending one.
 *
 * Each call is atomic on disk: a crash leaves the shard map as it was before the call or
 * as after it (fin_stream_update_shard_count is several splits and merges, each atomic).
 * All three need the stream open for writing (FIN_EINVAL otherwise), take effect for puts
 * that start after they return, and may run while other threads put (puts wait for
 * them). Errors carry Kinesis' messages: FIN_ENOENT "Could not find shard ...",
 * FIN_EINVAL for a closed shard ("... has already been merged or split, and thus is not
 * eligible for merging or splitting."), a hash key outside the shard, or shards that are
 * not adjacent; FIN_ELIMIT past FIN_STREAM_MAX_SHARDS shards (open and closed together);
 * I/O failures leave the old map in force. */

/* Splits open shard shard_id at new_starting_hash_key (decimal; NULL: the middle of its
 * range, start + (end - start) / 2 + 1). The first child takes [start, key - 1], the
 * second [key, end]; both name shard_id as parent. */
int fin_stream_split_shard(struct fin_stream *s, const char *shard_id,
                           const char *new_starting_hash_key);
/* Merges open shard shard_id with open adjacent_shard_id, whose ranges must touch; the
 * child takes both ranges and names shard_id as parent and adjacent_shard_id as
 * adjacent parent. */
int fin_stream_merge_shards(struct fin_stream *s, const char *shard_id,
                            const char *adjacent_shard_id);
/* Uniform scaling, as UpdateShardCount: splits and merges until there are target open
 * shards with even ranges (the ranges a new stream of target shards has). target must be
 * between half and double the open shard count, as Kinesis requires. */
int fin_stream_update_shard_count(struct fin_stream *s, int target);
/* The number of open shards. */
int fin_stream_open_shard_count(const struct fin_stream *s);
/* The position of the shard with id shard_id ("shardId-000000000003"), or -1. */
int fin_stream_shard_find(struct fin_stream *s, const char *shard_id);
/* Whether the shard at position shard is closed (as the handle last saw the map). */
bool fin_stream_shard_closed(const struct fin_stream *s, int shard);
/* For handles opened for reading: picks up resharding another process has done since
 * (new children are appended, parents marked closed). Iterators do it themselves when
 * they reach the end of what is written; writers always see their own map. */
int fin_stream_refresh(struct fin_stream *s);

struct fin_shard_desc {
    int shard;                                   /* position, for fin_iter_open */
    char id[FIN_SHARD_ID_LEN + 1];
    char parent[FIN_SHARD_ID_LEN + 1];           /* "" when none */
    char adjacent_parent[FIN_SHARD_ID_LEN + 1];  /* "" when none */
    char hash_start[40], hash_end[40];           /* decimal hash-key range, inclusive */
    char starting_seq[FIN_SEQ_LEN + 1];
    char ending_seq[FIN_SEQ_LEN + 1];            /* "" while open */
    bool closed;
};

/* All shards the stream has now, parents before their children, as ListShards gives
 * them (refreshes a reading handle first). *out (n entries) is owned by the caller:
 * free(). */
int fin_stream_list_shards(struct fin_stream *s, struct fin_shard_desc **out, size_t *n);

/* ---- consumer checkpoints: a named consumer's position per shard ---- */

/* Saves seq (the last record the consumer has finished) for shard, atomically. */
int fin_stream_checkpoint_save(struct fin_stream *s, const char *consumer, int shard, const char *seq);
/* Loads it into seq; FIN_ENOENT when the consumer has no checkpoint for the shard. */
int fin_stream_checkpoint_load(struct fin_stream *s, const char *consumer, int shard,
                               char seq[FIN_SEQ_LEN + 1]);

/* Checks a position a consumer saved against the shard: 0 when seq is a sequence number
 * of the shard at or before its last record (or below what retention kept); FIN_EINVAL
 * with a message when it belongs to another shard or stream, or lies past the end (a
 * consumer resuming after it would skip records not written yet). */
int fin_stream_seq_check(struct fin_stream *s, int shard, const char *seq);

/* Deletes whole segments older than the retention period (by their last arrival time).
 * Writers call it themselves now and then; exposed for tests with a fake clock. */
int fin_stream_apply_retention(struct fin_stream *s);

/* Changes the retention period of a stream open for writing: saved in the stream's own
 * settings (atomically) and in force at once. */
int fin_stream_set_retention(struct fin_stream *s, int64_t retention_ms);


/* ---- inspection and repair ---- */

struct fin_shard_info {
    char id[FIN_SHARD_ID_LEN + 1];
    char hash_start[40], hash_end[40];   /* decimal hash-key range, inclusive */
    struct fin_shard_desc desc;          /* parents, state and sequence range */
    size_t segments;
    uint64_t bytes;                      /* of all segment files */
    bool empty;                          /* no records held */
    char first_seq[FIN_SEQ_LEN + 1];     /* oldest record held (when !empty) */
    char last_seq[FIN_SEQ_LEN + 1];      /* newest record written to disk (when !empty) */
};

/* Describes a shard as it is on disk now. */
int fin_stream_shard_info(struct fin_stream *s, int shard, struct fin_shard_info *info);

struct fin_check_report {
    uint64_t segments, records, bytes;
    uint64_t problems;          /* bad frames and bad or missing indexes found */
    uint64_t fixed;             /* of those, repaired (with fix) */
    uint64_t dropped_bytes;     /* cut off by the repair */
    uint64_t lost_records;      /* records in the bytes the repair removed (each damaged run
                                 * is also printed with its offsets and sequence numbers) */
};

/* Verifies every frame of every segment and every index of a stream, printing each
 * problem (segment and offset) as a warning. With fix: takes the writer lock (FIN_EBUSY
 * while a writer runs), removes each damaged run of bytes while keeping every intact
 * frame before and after it (each run is printed with its offsets and the records it
 * held), writes damaged segment headers again and rebuilds indexes. Returns 0 when the stream is sound (or was repaired), FIN_ECORRUPT otherwise. */
int fin_stream_check(const char *data_dir, const char *name, bool fix,
                     struct fin_check_report *rep);

/* A collector sink that puts records to s keyed by their partition key, in batches of up
 * to FIN_STREAM_SINK_BATCH records (as Kinesis' PutRecords): a record is acknowledged
 * when the sink's flush returns 0. s is borrowed and must outlive the sink; the sink's
 * state is freed by fin_stream_sink_destroy() (which does not flush). */
#define FIN_STREAM_SINK_BATCH 500
int fin_stream_sink_create(struct fin_record_sink *sink, struct fin_stream *s);
void fin_stream_sink_destroy(struct fin_record_sink *sink);

#endif
