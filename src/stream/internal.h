/* internal.h - what the stream's source files share: the on-disk layout (frames,
 * segment headers, index files, sequence numbers), the in-memory shard and stream,
 * and the segment scanner used by recovery, check, retention and iterators.
 *
 * Byte layouts are drawn in docs/formats.md; all integers are little-endian. */
#ifndef FIN_STREAM_INTERNAL_H
#define FIN_STREAM_INTERNAL_H

#include "finstream/io.h"
#include "finstream/stream.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* ---- frames ---- */

/* u32 len | u32 crc32c | u64 counter | i64 arrival_ms | u16 key_len | key | data
 * len counts the whole frame; the CRC covers everything after itself. */
#define FRAME_HDR        26
#define FRAME_MAX        (FRAME_HDR + FIN_STREAM_MAX_KEY + FIN_STREAM_MAX_DATA)

/* ---- segments: a 32-byte header, then frames ---- */
#define SEG_MAGIC        "FINSEG1\n"
#define SEG_HDR          32
#define SEG_SUFFIX       ".log"
#define IDX_SUFFIX       ".idx"
#define IDX_MAGIC        "FINIDX1\n"
#define IDX_HDR          48
#define IDX_ENTRY        24
#define IDX_EVERY        (64 * 1024)   /* one index entry per this many log bytes */

#define SEQ_PREFIX_LEN   36            /* "49" + created (12) + shard (12) + reserved (10) */
#define SEQ_COUNTER_LEN  20

static inline void put_u16(char *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void put_u32(char *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void put_u64(char *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint16_t get_u16(const char *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t get_u32(const char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t get_u64(const char *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* A decoded frame; key and data point into the bytes it was decoded from. */
struct frame {
    uint32_t len;
    uint64_t counter;
    int64_t arrival_ms;
    const char *key;
    size_t key_len;
    const char *data;
    size_t data_len;
};

/* Writes a frame into out (FRAME_HDR + key_len + len bytes); returns its length. */
size_t frame_encode(char *out, uint64_t counter, int64_t arrival_ms, const char *key,
                    size_t key_len, const void *data, size_t len);

enum frame_status { FRAME_OK, FRAME_SHORT, FRAME_BAD_LEN, FRAME_BAD_CRC };
/* Decodes the frame at p with avail bytes available. FRAME_SHORT: the header or the
 * body runs past avail (*need says how many bytes the frame wants, when known). */
enum frame_status frame_decode(const char *p, size_t avail, struct frame *f, size_t *need);
const char *frame_status_str(enum frame_status st);

/* Sequence numbers: prefix (36 digits, fixed per shard) + 20-digit counter. */
void seq_prefix(char out[SEQ_PREFIX_LEN + 1], int64_t created_s, int shard);
void seq_format(char out[FIN_SEQ_LEN + 1], const char *prefix, uint64_t counter);
/* Checks that seq belongs to the shard with prefix and extracts its counter. */
int seq_parse(const char *seq, const char *prefix, uint64_t *counter);

/* ---- hash keys ---- */
typedef unsigned __int128 u128;
void hash_key_md5(const char *key, size_t len, u128 *out);
int hash_key_parse(const char *s, u128 *out);
void hash_key_format(u128 v, char out[40]);
/* The first hash key of shard i of n (shards own even ranges, the last one to 2^128-1). */
u128 hash_range_start(int i, int n);
int hash_shard(u128 h, int n);

/* ---- segments on disk ---- */

/* The segments of a shard directory, sorted by first counter; *firsts owned by caller. */
int seg_list(const char *dir, const char *prefix, uint64_t **firsts, size_t *n);
/* "<dir>/<seq>.log" / ".idx" into out. */
void seg_path(char *out, size_t cap, const char *dir, const char *prefix, uint64_t first,
              const char *suffix);
void seg_header(char out[SEG_HDR], int shard, uint64_t first, int64_t created_ms);
int seg_header_check(const char *hdr, size_t n, int shard, uint64_t first, const char *path);

struct idx_entry {
    uint64_t counter;
    uint64_t offset;
    int64_t arrival_ms;
};

/* A run of bad bytes in a segment, from one bad frame to where valid frames resume. */
struct seg_damage {
    uint64_t off, len;         /* the bad bytes [off, off + len) */
    enum frame_status why;     /* what was wrong with the frame at off */
    bool tail;                 /* no valid frame after it: it runs to the end of the file */
    uint64_t records;          /* records lost in it */
    bool exact;                /* records counted by length fields that lead exactly to the
                                * next good frame; otherwise from the counters around it */
    uint64_t first_lost;       /* the counters those records could have held: first_lost .. */
    uint64_t last_lost;        /* .. last_lost (0 when the damage runs to the end) */
};

/* What a scan of a segment learns. The first group describes the frames before the first
 * damage (what recovery keeps when it cuts there); the scan then resynchronises on the
 * next valid frame (length, CRC, and a counter and arrival time that follow the previous
 * frame's) and goes on, so dmg lists every damaged run and intact counts every good frame. */
struct seg_scan {
    uint64_t valid_end;        /* offset after the last good frame before any damage */
    uint64_t file_size;
    uint64_t records;
    uint64_t first_counter, last_counter;   /* of the frames (0 when none) */
    int64_t last_arrival;
    enum frame_status bad;     /* why the scan stopped before file_size (FRAME_OK: it did not) */
    bool torn;                 /* the bad bytes look like a torn tail rather than corruption */
    uint64_t torn_records;     /* frames (whole or partial) in the bad tail, at least 1 */
    struct idx_entry *idx;     /* entries every IDX_EVERY bytes (owned; free()) */
    size_t n_idx, cap_idx;

    /* the whole segment, across damage */
    uint64_t intact;           /* good frames anywhere in the segment */
    uint64_t end_counter;      /* counter of the last good frame (0 when none) */
    int64_t end_arrival;
    struct seg_damage *dmg;    /* owned; freed by seg_scan_fini */
    size_t n_dmg;
    uint64_t lost_records, lost_bytes;
};

/* Reads and verifies every frame of a segment; fills sc. Returns 0 (bad bytes are
 * reported in sc), or an error for I/O failures and a bad header. */
int seg_scan(const char *path, int shard, uint64_t first, struct seg_scan *sc);
/* The same, starting at offset from (a frame boundary, such as an index entry's); the
 * header is always checked. */
int seg_scan_from(const char *path, int shard, uint64_t first, uint64_t from,
                  struct seg_scan *sc);
/* The offset of the first valid frame at or after from in the open segment fd (whose
 * file name says its first counter is first); the file size when there is none. */
int seg_find_frame(int fd, const char *path, uint64_t from, uint64_t first, uint64_t *next);
void seg_scan_fini(struct seg_scan *sc);
int idx_push(struct idx_entry **v, size_t *n, size_t *cap, uint64_t counter, uint64_t off,
             int64_t arrival);

/* Index files: written for sealed segments and at clean close; derived, rebuildable. */
struct idx_file {
    uint64_t log_size, first_counter, last_counter;
    int64_t last_arrival;
    struct idx_entry *e;   /* owned; free() */
    size_t n;
};
int idx_write(const struct fin_io *io, const char *path, const struct idx_file *f);
/* FIN_ENOENT when missing, FIN_ECORRUPT when unreadable or damaged. */
int idx_read(const char *path, struct idx_file *f);

/* ---- the stream in memory ---- */

struct waiter {
    int rc;
    bool done;
    struct waiter *next;
};

struct wbuf {
    char *data;
    size_t len, cap;
    struct waiter *waiters;
};

struct shard {
    struct fin_stream *s;
    int index;                /* the shard's number: its id, sequence prefix and headers */
    char id[FIN_SHARD_ID_LEN + 1];
    char *dir;
    char prefix[SEQ_PREFIX_LEN + 1];
    u128 start, end;

    /* resharding (shardmap.c): fixed once the shard is closed */
    int parent, adjacent;     /* numbers of the parent shards, -1 for none */
    bool closed;              /* split or merged: no more appends */
    bool gone;                /* dropped from the map by retention while this handle was open */
    uint64_t end_counter;     /* when closed: the last counter it issued (0: none) */

    /* writer state, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool mu_ready;
    struct wbuf buf[2];
    int active;
    bool flushing;
    bool handoff;             /* flushing: the full buffer buf[active ^ 1] waits for the writer
                               * thread, and whoever finds it first writes it */
    bool unsynced;            /* bytes written since the last fsync */
    int pending_err;          /* a background flush failed: reported to the next put */
    int broken;               /* a failed write could not be undone: puts fail until reopen */
    uint64_t next_counter;
    int64_t last_arrival;

    /* the active segment; touched only by the thread that set `flushing` */
    int fd;
    uint64_t seg_first;
    uint64_t seg_size;
    uint64_t seg_first_counter, seg_last_counter;
    int64_t seg_last_arrival;
    uint64_t next_idx_at;
    struct idx_entry *idx;
    size_t n_idx, cap_idx;
    int64_t last_sync_ns;
    /* fsync = interval: sealed segments and the directory, synced in the background */
    int *sealed;              /* descriptors, owned */
    int n_sealed, cap_sealed;
    bool dir_dirty;
};

struct fin_stream {
    char *data_dir;
    char *name;
    char *dir;
    int mode;
    struct fin_stream_config cfg;
    int64_t created_s;
    const struct fin_clock *clock;
    bool real_clock;             /* clock is fin_clock_real(): puts may use the TSC (write.c) */
    const struct fin_io *io;
    int lock_fd;
    /* shards[] has room for FIN_STREAM_MAX_SHARDS, so entries never move: resharding
     * appends children and publishes them by raising nshards (release/acquire). */
    int nshards;
    struct shard *shards;

    /* the shard map (shardmap.c) */
    pthread_rwlock_t map_lock;   /* puts hold it shared; resharding holds it exclusive */
    bool map_lock_ready;
    int next_num;                /* the number the next child shard gets */
    int *open;                   /* positions of the open shards, by starting hash key */
    int nopen;
    struct { uint64_t ino, size; int64_t mtime_ns; bool exists; } map_stamp;

    /* background threads (writers): the writer and the syncer (write.c) */
    pthread_t thread, sync_thread;
    bool thread_started;
    pthread_mutex_t tmu;
    pthread_cond_t tcv, scv;
    bool stop;
    bool kick;                /* a producer filled a buffer: write it out now */
    int64_t last_retention_ns;
};

/* Appends n entries (already in the caller's order) to the open shards that hold their
 * hash keys: hash (NULL: the MD5 of each partition key) gives one hash key for all n;
 * see fin_stream_put_batch. Takes map_lock shared. */
int stream_put(struct fin_stream *s, const struct fin_put_entry *e, size_t n,
               const u128 *hash, struct fin_put_result *res);

/* ---- the shard map (shardmap.c) ---- */

#define SHARD_MAP_FILE "shards"
/* Sets up shards[pos] in memory as shard number num with the given range. */
int shard_setup(struct fin_stream *s, int pos, int num, u128 start, u128 end);
/* Loads the shard map (or, for a stream never resharded, the even ranges of its
 * configuration) into s->shards; builds the routing table. */
int shardmap_load(struct fin_stream *s);
/* The position of the open shard that holds hash key h; map_lock held. */
int shardmap_route(const struct fin_stream *s, u128 h);
/* Readers: rereads the map when another process has changed it. */
int shardmap_refresh(struct fin_stream *s);
/* Writers: removes shard folders the map does not name (a split cut off by a crash,
 * a shard retention dropped). */
void shardmap_remove_orphans(struct fin_stream *s);
/* Drops closed shard pos from the map (retention removed all its data). */
int shardmap_drop(struct fin_stream *s, int pos);
/* Fills d for the shard at position pos. */
void shard_describe(const struct shard *sh, int pos, struct fin_shard_desc *d);
/* Writes out the map of the shards in s (the ones not gone); through s->io. */
int shardmap_save(struct fin_stream *s);

/* Recovers a shard and prepares it for appends (write.c). */
int shard_open_writer(struct shard *sh, bool clean);
/* Writes out the active buffer; with sync, fsyncs too. Called and returns with sh->mu held. */
int shard_flush(struct shard *sh, bool sync);
/* Writes out what an in-process reader should see; takes sh->mu. A failure is kept for
 * the next put to report. */
void shard_flush_for_reader(struct shard *sh);
/* Final flush, sync and index of the active segment at close; false in *ok on failure. */
void shard_close_writer(struct shard *sh, bool *ok);

/* Background writes and (for INTERVAL) fsyncs, retention for all (write.c). */
int stream_thread_start(struct fin_stream *s);
/* Asks the background thread to write out full buffers now. */
void stream_thread_kick(struct fin_stream *s);
void stream_thread_stop(struct fin_stream *s);

#endif
