/* write.c - appending to a shard: the write buffer, group commit, segment rolls, the
 * sparse index of the active segment, recovery of the tail on open, and the background
 * thread that keeps the `interval` and `never` promises.
 *
 * A put encodes its frame into the shard's active buffer under the shard mutex: no
 * syscall and no allocation per record, and the sequence number is a counter. One
 * thread at a time (the one that set `flushing`) swaps the buffers and writes the full
 * one with a single pwrite, then, for `fsync = always`, one fsync; every put that waited
 * on that buffer is acknowledged together (group commit). While it writes, other puts
 * fill the other buffer, and the next waiter to find no flush running writes that one.
 *
 * A failed write or fsync is undone by truncating the segment back to where the buffer
 * began, and every put in that buffer fails with the error; the counters it used are not
 * handed out again. */
#include "internal.h"

#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

/* Write buffers, two per shard, allocated on a shard's first put; a frame larger than
 * the buffer grows it. Under `interval` and `never` a buffer is 1 MiB, large enough that
 * a write's syscall cost vanishes and small enough that the kernel copies it from the
 * CPU cache the producer just filled (4 MiB buffers measured slower); with several
 * shards they shrink so that all of them together stay near 4 MiB (256 KiB at least).
 * Under `always` a buffer is what one group commit carries: 2 MiB, all of them together
 * near 32 MiB. */
#ifndef WBUF_MAX
#define WBUF_MAX   (1u << 20)
#endif
#define WBUF_MIN   (256u << 10)
#ifndef WBUF_TOTAL
#define WBUF_TOTAL (4u << 20)
#endif
#define WBUF_TOTAL_ALWAYS (32u << 20)
#ifndef WBUF_ALWAYS_MAX
#define WBUF_ALWAYS_MAX (2u << 20)
#endif

static size_t wbuf_cap(const struct fin_stream *s)
{
    bool always = s->cfg.fsync == FIN_FSYNC_ALWAYS;
    size_t total = always ? WBUF_TOTAL_ALWAYS : WBUF_TOTAL;
    size_t cap = total / 2 / (size_t)(s->nopen > 0 ? s->nopen : 1);   /* closed shards hold none */
    size_t max = always ? WBUF_ALWAYS_MAX : WBUF_MAX;
    return cap > max ? max : cap < WBUF_MIN ? WBUF_MIN : cap;
}

static int wbuf_reserve(const struct fin_stream *s, struct wbuf *b, size_t need)
{
    if (b->cap >= need)
        return 0;
    size_t cap = need > wbuf_cap(s) ? need : wbuf_cap(s);
    char *d = realloc(b->data, cap);
    if (!d)
        return fin_err_set(FIN_ENOMEM, "cannot allocate a %zu-byte write buffer", cap);
    b->data = d;
    b->cap = cap;
    return 0;
}

static void current_path(const struct shard *sh, char *out, size_t cap)
{
    seg_path(out, cap, sh->dir, sh->prefix, sh->seg_first, SEG_SUFFIX);
}

/* Creates the segment that starts with counter first: header written to a temporary
 * file, synced and renamed, so a segment file never exists without its header, even
 * after a power loss (the rename may reach the disk before the data it names). */
static int create_segment(struct shard *sh, uint64_t first, int *fd_out)
{
    const struct fin_io *io = sh->s->io;
    /* With `always` the new name is synced now (puts acknowledged in the segment need
     * it); with `interval` the background thread syncs the directory within the
     * interval: until then a crash may lose the name, never leave it without a header. */
    bool sync_dir = sh->s->cfg.fsync == FIN_FSYNC_ALWAYS;
    char path[PATH_MAX], tmp[PATH_MAX + 8], hdr[SEG_HDR];
    int fd = -1, rc = 0;
    seg_path(path, sizeof path, sh->dir, sh->prefix, first, SEG_SUFFIX);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    seg_header(hdr, sh->index, first, fin_now_ns(sh->s->clock) / FIN_NS_PER_MS);
    fd = io->open(io->ctx, tmp, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        rc = fin_err_errno(errno, "cannot create segment", tmp);
        goto fail;
    }
    if (fin_io_pwrite_all(io, fd, hdr, SEG_HDR, 0) != 0) {
        rc = fin_err_errno(errno, "cannot write segment header", tmp);
        goto fail;
    }
    if (sh->s->cfg.fsync != FIN_FSYNC_NEVER && io->fsync(io->ctx, fd) != 0) {
        rc = fin_err_errno(errno, "cannot fsync", tmp);
        goto fail;
    }
    if (io->rename(io->ctx, tmp, path) != 0) {
        rc = fin_err_errno(errno, "cannot rename", tmp);
        goto fail;
    }
    if (sync_dir && (rc = fin_fsync_dir(path))) {
        io->close(io->ctx, fd);
        io->unlink(io->ctx, path);
        return rc;
    }
    if (sh->s->cfg.fsync == FIN_FSYNC_INTERVAL)
        sh->dir_dirty = true;
    *fd_out = fd;
    return 0;
fail:
    if (fd >= 0)
        io->close(io->ctx, fd);
    io->unlink(io->ctx, tmp);
    return rc;
}

/* fsyncs the sealed segments and the directory that `interval` left for later. */
static int sync_deferred(struct shard *sh, int *sealed, int n, bool dir)
{
    const struct fin_io *io = sh->s->io;
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (io->fsync(io->ctx, sealed[i]) != 0 && !rc)
            rc = fin_err_errno(errno, "cannot fsync a sealed segment of", sh->dir);
        io->close(io->ctx, sealed[i]);
    }
    if (dir && !rc)
        rc = fin_fsync_dir(sh->dir);
    return rc;
}

/* The index of the active segment, written when it is sealed or at a clean close. */
static int write_active_index(struct shard *sh)
{
    char path[PATH_MAX];
    seg_path(path, sizeof path, sh->dir, sh->prefix, sh->seg_first, IDX_SUFFIX);
    struct idx_file f = {sh->seg_size, sh->seg_first_counter, sh->seg_last_counter,
                         sh->seg_last_arrival, sh->idx, sh->n_idx};
    return idx_write(sh->s->io, path, &f);
}

/* Seals the active segment and starts a new one at counter first. */
static int seg_roll(struct shard *sh, uint64_t first)
{
    const struct fin_io *io = sh->s->io;
    int nfd = -1, rc;
    if ((rc = create_segment(sh, first, &nfd)))
        return rc;
    if (sh->s->cfg.fsync == FIN_FSYNC_ALWAYS && io->fsync(io->ctx, sh->fd) != 0) {
        char path[PATH_MAX];
        current_path(sh, path, sizeof path);
        rc = fin_err_errno(errno, "cannot fsync segment", path);
        char np[PATH_MAX];
        seg_path(np, sizeof np, sh->dir, sh->prefix, first, SEG_SUFFIX);
        io->close(io->ctx, nfd);
        io->unlink(io->ctx, np);
        return rc;
    }
    if (write_active_index(sh))   /* derived data: rebuilt from the log when missing */
        fin_warn("%s: %s", sh->id, fin_err_msg());
    if (sh->s->cfg.fsync == FIN_FSYNC_INTERVAL) {
        /* Its fsync waits for the sync thread, not for the producers. */
        if (sh->n_sealed == sh->cap_sealed) {
            int nc = sh->cap_sealed ? sh->cap_sealed * 2 : 8;
            int *nv = realloc(sh->sealed, (size_t)nc * sizeof *nv);
            if (nv) {
                sh->sealed = nv;
                sh->cap_sealed = nc;
            }
        }
        if (sh->n_sealed < sh->cap_sealed) {
            sh->sealed[sh->n_sealed++] = sh->fd;
        } else {   /* no memory for the list: sync it now */
            int one = sh->fd;
            if ((rc = sync_deferred(sh, &one, 1, false)))
                fin_error("stream '%s' %s: %s", sh->s->name, sh->id, fin_err_msg());
        }
    } else {
        io->close(io->ctx, sh->fd);
    }
    sh->fd = nfd;
    sh->seg_first = first;
    sh->seg_size = SEG_HDR;
    sh->seg_first_counter = sh->seg_last_counter = 0;
    sh->seg_last_arrival = 0;
    sh->n_idx = 0;
    sh->next_idx_at = SEG_HDR;
    return 0;
}

struct seg_state {
    uint64_t seg_first, seg_size, first_counter, last_counter, next_idx_at;
    int64_t last_arrival;
    size_t n_idx;
};

static void seg_save(const struct shard *sh, struct seg_state *st)
{
    *st = (struct seg_state){sh->seg_first, sh->seg_size, sh->seg_first_counter,
                             sh->seg_last_counter, sh->next_idx_at, sh->seg_last_arrival,
                             sh->n_idx};
}

/* Cuts the active segment back to st (or, when a roll happened since, to its header),
 * so a failed append leaves no part of itself behind. */
static void seg_undo(struct shard *sh, const struct seg_state *st, int rc)
{
    const struct fin_io *io = sh->s->io;
    struct seg_state empty = {sh->seg_first, SEG_HDR, 0, 0, SEG_HDR, 0, 0};
    const struct seg_state *to = st->seg_first == sh->seg_first ? st : &empty;
    if (io->ftruncate(io->ctx, sh->fd, (off_t)to->seg_size) != 0) {
        char path[PATH_MAX];
        current_path(sh, path, sizeof path);
        fin_error("%s: cannot truncate %s back to %llu bytes after a failed append: %s; "
                  "appends to this shard are refused until the stream is reopened",
                  sh->id, path, (unsigned long long)to->seg_size, strerror(errno));
        sh->broken = rc;
        return;
    }
    sh->seg_size = to->seg_size;
    sh->seg_first_counter = to->first_counter;
    sh->seg_last_counter = to->last_counter;
    sh->seg_last_arrival = to->last_arrival;
    sh->next_idx_at = to->next_idx_at;
    sh->n_idx = to->n_idx;
}

static int write_chunk(struct shard *sh, const char *p, size_t n)
{
    const struct fin_io *io = sh->s->io;
    if (fin_io_pwrite_all(io, sh->fd, p, n, (off_t)sh->seg_size) != 0) {
        char path[PATH_MAX];
        current_path(sh, path, sizeof path);
        return fin_err_errno(errno, "cannot write segment", path);
    }
    sh->seg_size += n;
    return 0;
}

/* Writes n bytes of whole frames to the log, rolling to a new segment before a frame
 * that would take the active one past segment_bytes and indexing every IDX_EVERY bytes. */
static int seg_append(struct shard *sh, const char *p, size_t n)
{
    uint64_t limit = (uint64_t)sh->s->cfg.segment_bytes;
    size_t pos = 0, chunk = 0;
    int rc;
    while (pos < n) {
        uint32_t flen = get_u32(p + pos);
        uint64_t counter = get_u64(p + pos + 8);
        int64_t arrival = (int64_t)get_u64(p + pos + 16);
        uint64_t at = sh->seg_size + (pos - chunk);
        if (at > SEG_HDR && at + flen > limit) {
            if (pos > chunk && (rc = write_chunk(sh, p + chunk, pos - chunk)))
                return rc;
            if ((rc = seg_roll(sh, counter)))
                return rc;
            chunk = pos;
            at = sh->seg_size;
        }
        if (at >= sh->next_idx_at) {
            if ((rc = idx_push(&sh->idx, &sh->n_idx, &sh->cap_idx, counter, at, arrival)))
                return rc;
            sh->next_idx_at = at + IDX_EVERY;
        }
        if (!sh->seg_first_counter)
            sh->seg_first_counter = counter;
        sh->seg_last_counter = counter;
        sh->seg_last_arrival = arrival;
        pos += flen;
    }
    if (pos > chunk)
        return write_chunk(sh, p + chunk, pos - chunk);
    return 0;
}

/* Writes buffer b (the one just swapped out; the caller has set `flushing`) to the log,
 * without holding the shard, and completes it: its waiters learn the result, `flushing`
 * is cleared. Called and returns with sh->mu held. */
static int flush_out(struct shard *sh, struct wbuf *b, bool sync)
{
    const struct fin_io *io = sh->s->io;
    int rc = sh->broken;
    if (!rc) {
        pthread_mutex_unlock(&sh->mu);

        struct seg_state st;
        seg_save(sh, &st);
        if (b->len)
            rc = seg_append(sh, b->data, b->len);
        if (!rc && sync && io->fsync(io->ctx, sh->fd) != 0) {
            char path[PATH_MAX];
            current_path(sh, path, sizeof path);
            rc = fin_err_errno(errno, "cannot fsync segment", path);
        }
        if (!rc && sync && (sh->n_sealed || sh->dir_dirty)) {
            rc = sync_deferred(sh, sh->sealed, sh->n_sealed, sh->dir_dirty);
            sh->n_sealed = 0;
            sh->dir_dirty = false;
        }
        if (rc)
            seg_undo(sh, &st, rc);

        pthread_mutex_lock(&sh->mu);
        if (!rc && sync) {
            sh->unsynced = false;
            sh->last_sync_ns = fin_mono_ns(sh->s->clock);
        } else if (!rc && b->len) {
            sh->unsynced = true;
        }
    }
    sh->flushing = false;
    sh->handoff = false;
    for (struct waiter *w = b->waiters; w; w = w->next) {
        w->rc = rc;
        w->done = true;
    }
    b->waiters = NULL;
    b->len = 0;
    pthread_cond_broadcast(&sh->cv);
    return rc;
}

/* A buffer handed to the writer thread that it has not started on yet: written by the
 * caller instead of waiting for the thread. Returns its result (0 when there was none). */
static int take_handoff(struct shard *sh)
{
    if (!sh->flushing || !sh->handoff)
        return 0;
    sh->handoff = false;
    return flush_out(sh, &sh->buf[sh->active ^ 1], false);
}

/* Waits until no write is in progress, writing a handed-off buffer itself. A failure
 * of that write is kept for the next put, as the writer thread's would be. */
static void wait_idle(struct shard *sh)
{
    while (sh->flushing) {
        if (sh->handoff) {
            int rc = take_handoff(sh);
            if (rc && !sh->pending_err)
                sh->pending_err = rc;
        } else {
            pthread_cond_wait(&sh->cv, &sh->mu);
        }
    }
}

int shard_flush(struct shard *sh, bool sync)
{
    /* Puts under `always` wait in the buffer for the write that acknowledges them; any
     * write of it (a reader's, the background thread's) must therefore include the fsync. */
    if (sh->s->cfg.fsync == FIN_FSYNC_ALWAYS)
        sync = true;
    wait_idle(sh);
    struct wbuf *b = &sh->buf[sh->active];
    if (b->len == 0 && !(sync && (sh->unsynced || sh->n_sealed || sh->dir_dirty)))
        return 0;
    if (!sh->broken) {
        sh->active ^= 1;
        sh->flushing = true;
        pthread_cond_broadcast(&sh->cv);   /* producers waiting for room: there is some */
    }
    return flush_out(sh, b, sync);
}

void shard_flush_for_reader(struct shard *sh)
{
    pthread_mutex_lock(&sh->mu);
    int rc = shard_flush(sh, false);
    if (rc && sh->s->cfg.fsync != FIN_FSYNC_ALWAYS && !sh->pending_err)
        sh->pending_err = rc;   /* nobody waits on these records: tell the next put */
    pthread_mutex_unlock(&sh->mu);
}

/* Waits (helping: flushing when nobody else is) until w's buffer is written. */
static int wait_for(struct shard *sh, struct waiter *w, bool sync)
{
    while (!w->done) {
        if (sh->flushing)
            pthread_cond_wait(&sh->cv, &sh->mu);
        else
            shard_flush(sh, sync);
    }
    return w->rc;
}

static int check_entry(const struct fin_put_entry *e, size_t i)
{
    if (!e->key || e->key_len < 1 || e->key_len > FIN_STREAM_MAX_KEY)
        return fin_err_set(FIN_ELIMIT, "record %zu: partition key is %zu characters; "
                           "it must be 1 to %d", i + 1, e->key ? e->key_len : 0,
                           FIN_STREAM_MAX_KEY);
    if (e->len > FIN_STREAM_MAX_DATA)
        return fin_err_set(FIN_ELIMIT, "record %zu: data is %zu bytes; at most %d are allowed",
                           i + 1, e->len, FIN_STREAM_MAX_DATA);
    if (e->len && !e->data)
        return fin_err_set(FIN_EINVAL, "record %zu: no data", i + 1);
    return 0;
}

/* The arrival time of a put, in ms. Reading the real-time clock costs more than the rest
 * of a put on some virtual machines (a paravirtual clock read takes 100-300 ns), so with
 * the real clock the put path reads the CPU's time-stamp counter instead and converts it
 * with a rate measured against the clock; each thread re-reads the clock every 10 ms of
 * counter time (or when the counter jumps, as after moving to another CPU), so the time
 * is off by microseconds at most. Arrival times stay non-decreasing per shard regardless
 * (put_routed). Other clocks (a test's fake clock) are read every time. */
#if defined(__x86_64__)
#define TSC_SPAN_NS (10 * FIN_NS_PER_MS)
static _Thread_local struct {
    uint64_t tsc0, anchor_tsc, span_ticks;
    int64_t ns0, anchor_ns;
    uint64_t mult;   /* ns per tick, times 2^32; 0 until measured over TSC_SPAN_NS */
} tsc_clock;

static int64_t put_now_ms(const struct fin_stream *s)
{
    if (!s->real_clock)
        return fin_now_ns(s->clock) / FIN_NS_PER_MS;
    uint64_t t = __rdtsc();
    uint64_t d = t - tsc_clock.anchor_tsc;
    if (tsc_clock.mult && t >= tsc_clock.anchor_tsc && d < tsc_clock.span_ticks)
        return (tsc_clock.anchor_ns + (int64_t)((d * tsc_clock.mult) >> 32)) / FIN_NS_PER_MS;
    int64_t now = fin_now_ns(s->clock);
    if (!tsc_clock.tsc0 || t <= tsc_clock.tsc0 || now < tsc_clock.ns0) {
        tsc_clock.tsc0 = t;   /* (re)start measuring the rate */
        tsc_clock.ns0 = now;
        tsc_clock.mult = 0;
    } else if (now - tsc_clock.ns0 >= TSC_SPAN_NS) {
        double ns_per_tick = (double)(now - tsc_clock.ns0) / (double)(t - tsc_clock.tsc0);
        /* span_ticks * mult stays below 2^64 while a tick is at least 1/64 ns */
        if (ns_per_tick > 1.0 / 64 && ns_per_tick < 1000) {
            tsc_clock.mult = (uint64_t)(ns_per_tick * 4294967296.0);
            tsc_clock.span_ticks = (uint64_t)((double)TSC_SPAN_NS / ns_per_tick);
        }
    }
    tsc_clock.anchor_tsc = t;
    tsc_clock.anchor_ns = now;
    return now / FIN_NS_PER_MS;
}
#else
static int64_t put_now_ms(const struct fin_stream *s)
{
    return fin_now_ns(s->clock) / FIN_NS_PER_MS;
}
#endif

/* Per-shard state of one put call: its waiter, and the buffer generation it joined. */
struct put_slot {
    struct waiter w;
    bool joined;
    const struct wbuf *buf;
};

static int put_routed(struct fin_stream *s, const struct fin_put_entry *e, size_t n,
                      const u128 *hash, struct fin_put_result *res);

int stream_put(struct fin_stream *s, const struct fin_put_entry *e, size_t n,
               const u128 *hash, struct fin_put_result *res)
{
    if (s->mode != FIN_STREAM_WRITE)
        return fin_err_set(FIN_EINVAL, "stream '%s' is open for reading only", s->name);
    /* Shared: a split or merge waits until the puts in flight are appended, and no put
     * routes to a shard that is being closed. */
    pthread_rwlock_rdlock(&s->map_lock);
    int rc = put_routed(s, e, n, hash, res);
    pthread_rwlock_unlock(&s->map_lock);
    return rc;
}

static int put_routed(struct fin_stream *s, const struct fin_put_entry *e, size_t n,
                      const u128 *hash, struct fin_put_result *res)
{
    if (s->mode != FIN_STREAM_WRITE)
        return fin_err_set(FIN_EINVAL, "stream '%s' is open for reading only", s->name);
    size_t ok_n = n;
    int bad_rc = 0;
    for (size_t i = 0; i < n; i++)
        if ((bad_rc = check_entry(&e[i], i))) {
            ok_n = i;
            break;
        }
    char bad_msg[512];
    bad_msg[0] = '\0';
    if (bad_rc)
        snprintf(bad_msg, sizeof bad_msg, "%s", fin_err_msg());

    bool always = s->cfg.fsync == FIN_FSYNC_ALWAYS;
    /* Only `always` waits on the shards a call wrote to: other policies need no slots. */
    struct put_slot one[4], *slots = one;
    if (always && s->nshards > 4) {
        slots = calloc((size_t)s->nshards, sizeof *slots);
        if (!slots)
            return FIN_ENOMEM;
    } else if (always) {
        memset(one, 0, sizeof one);
    }
    int64_t now_ms = put_now_ms(s);
    int rc = 0;
    struct shard *cur = NULL;
    for (size_t i = 0; i < ok_n && !rc; i++) {
        int si = s->open[0];
        if (hash) {
            si = shardmap_route(s, *hash);
        } else if (s->nopen > 1) {
            u128 h;
            hash_key_md5(e[i].key, e[i].key_len, &h);
            si = shardmap_route(s, h);
        }
        struct shard *sh = &s->shards[si];
        if (sh != cur) {
            if (cur)
                pthread_mutex_unlock(&cur->mu);
            cur = sh;
            pthread_mutex_lock(&sh->mu);
            if (sh->pending_err) {
                rc = sh->pending_err;
                sh->pending_err = 0;
                fin_err_set(rc, "%s: an earlier background write failed; records were lost",
                            sh->id);
                break;
            }
        }
        if (sh->broken) {
            rc = fin_err_set(sh->broken, "%s: appends are refused after a write that could "
                             "not be undone; reopen the stream to recover", sh->id);
            break;
        }
        size_t flen = FRAME_HDR + e[i].key_len + e[i].len;
        struct put_slot *sl = always ? &slots[si] : NULL;
        /* Find room in the active buffer. Every wait below lets other producers run and
         * fill or swap the buffer, so each one is followed by a fresh look. */
        for (;;) {
            struct wbuf *b = &sh->buf[sh->active];
            if (always && sl->joined && (sl->w.done || sl->buf != b)) {
                /* Our earlier records went out in a buffer of their own: they must be on
                 * disk before any later one is appended, so a failure stops the call. */
                if ((rc = wait_for(sh, &sl->w, true)))
                    break;
                sl->joined = false;
                continue;
            }
            if (b->len + flen <= b->cap)
                break;
            if (b->len == 0) {
                if ((rc = wbuf_reserve(s, b, flen)))
                    break;
                continue;
            }
            /* The buffer is full: write it (or wait for the write in progress). */
            if (sh->flushing) {
                if (sh->handoff) {
                    /* The writer thread has not got to it yet: write it ourselves. */
                    int frc = take_handoff(sh);
                    if (frc) {
                        rc = frc;
                        break;
                    }
                    continue;
                }
                pthread_cond_wait(&sh->cv, &sh->mu);
                continue;
            }
            if (!always && s->thread_started && !sh->broken) {
                /* Hand the full buffer to the writer thread and go on filling the other
                 * one: encoding and the kernel's copy run on two cores, and no producer
                 * waits unless both buffers are full. */
                sh->active ^= 1;
                sh->flushing = true;
                sh->handoff = true;
                stream_thread_kick(s);
                continue;
            }
            bool mine = always && sl->joined && sl->buf == b;
            int frc = shard_flush(sh, always);
            if (frc && (mine || !always)) {
                rc = frc;
                break;
            }
        }
        if (rc)
            break;
        struct wbuf *b = &sh->buf[sh->active];
        if (always && !sl->joined) {
            sl->w = (struct waiter){0, false, b->waiters};
            b->waiters = &sl->w;
            sl->joined = true;
            sl->buf = b;
        }
        int64_t arrival = now_ms > sh->last_arrival ? now_ms : sh->last_arrival;
        sh->last_arrival = arrival;
        uint64_t counter = sh->next_counter++;
        b->len += frame_encode(b->data + b->len, counter, arrival, e[i].key, e[i].key_len,
                               e[i].data, e[i].len);
        if (res) {
            res[i].shard = si;
            seq_format(res[i].seq, sh->prefix, counter);
        }
    }
    if (cur)
        pthread_mutex_unlock(&cur->mu);
    /* Wait for every shard this call wrote to (only `always` registers waiters). */
    for (int si = 0; always && si < s->nshards; si++) {
        struct put_slot *sl = &slots[si];
        if (!sl->joined)
            continue;
        struct shard *sh = &s->shards[si];
        pthread_mutex_lock(&sh->mu);
        int wrc = wait_for(sh, &sl->w, true);
        pthread_mutex_unlock(&sh->mu);
        if (wrc && !rc)
            rc = wrc;
    }
    if (slots != one)
        free(slots);
    if (!rc && bad_rc)
        rc = fin_err_set(bad_rc, "%s", bad_msg);
    return rc;
}

/* ---- opening: recovery of the active segment ---- */

/* Checks a segment's header before anything is appended after it or read through it.
 * A header shorter than 32 bytes holds no records (frames only start after it): it is
 * what a crash during an older version's segment creation could leave, and it is
 * written again with a warning. A full header that is wrong is damage: refused. */
static int verify_header(struct shard *sh, const char *path, uint64_t first)
{
    const struct fin_io *io = sh->s->io;
    char hdr[SEG_HDR];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fin_err_errno(errno, "cannot open segment", path);
    ssize_t r = pread(fd, hdr, SEG_HDR, 0);
    close(fd);
    if (r < 0)
        return fin_err_errno(errno, "cannot read", path);
    if (r < SEG_HDR) {
        seg_header(hdr, sh->index, first, fin_now_ns(sh->s->clock) / FIN_NS_PER_MS);
        int wfd = io->open(io->ctx, path, O_WRONLY, 0);
        int rc = 0;
        if (wfd < 0)
            return fin_err_errno(errno, "cannot open segment", path);
        if (fin_io_pwrite_all(io, wfd, hdr, SEG_HDR, 0) != 0 || io->fsync(io->ctx, wfd) != 0)
            rc = fin_err_errno(errno, "cannot write the header of", path);
        io->close(io->ctx, wfd);
        if (!rc)
            fin_warn("stream '%s' %s: %s had an incomplete header (%zd of %d bytes, so no "
                     "records): written again", sh->s->name, sh->id, path, r, SEG_HDR);
        return rc;
    }
    int rc = seg_header_check(hdr, SEG_HDR, sh->index, first, path);
    if (rc) {
        char msg[PATH_MAX + 256];
        snprintf(msg, sizeof msg, "%s", fin_err_msg());
        rc = fin_err_set(rc, "%s; run 'finstream check --fix %s' to write it again", msg,
                         sh->s->name);
    }
    return rc;
}

static int rebuild_index(struct shard *sh, uint64_t first)
{
    char path[PATH_MAX], ipath[PATH_MAX];
    seg_path(path, sizeof path, sh->dir, sh->prefix, first, SEG_SUFFIX);
    seg_path(ipath, sizeof ipath, sh->dir, sh->prefix, first, IDX_SUFFIX);
    struct idx_file f;
    struct stat st;
    int rc = verify_header(sh, path, first);
    if (rc)
        return rc;
    if (stat(path, &st) != 0)
        return fin_err_errno(errno, "cannot stat", path);
    rc = idx_read(ipath, &f);
    free(f.e);
    if (!rc && f.log_size == (uint64_t)st.st_size)
        return 0;
    struct seg_scan sc;
    if ((rc = seg_scan(path, sh->index, first, &sc)))
        return rc;
    if (sc.bad != FRAME_OK) {
        rc = fin_err_set(FIN_ECORRUPT, "%s: offset %llu: %s in a sealed segment (%llu damaged "
                         "byte%s, %llu intact record%s around them); run 'finstream check "
                         "--fix %s' to remove the damage", path,
                         (unsigned long long)sc.valid_end, frame_status_str(sc.bad),
                         (unsigned long long)sc.lost_bytes, sc.lost_bytes == 1 ? "" : "s",
                         (unsigned long long)sc.intact, sc.intact == 1 ? "" : "s",
                         sh->s->name);
        seg_scan_fini(&sc);
        return rc;
    }
    struct idx_file nf = {sc.valid_end, sc.first_counter, sc.last_counter, sc.last_arrival,
                          sc.idx, sc.n_idx};
    rc = idx_write(sh->s->io, ipath, &nf);
    seg_scan_fini(&sc);
    return rc;
}

/* Temporary files of a segment or index write that a crash interrupted; the writer lock
 * makes sure nobody is still writing them. */
static void remove_leftovers(struct shard *sh)
{
    DIR *d = opendir(sh->dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strstr(de->d_name, ".tmp") || strncmp(de->d_name, "49", 2) != 0)
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", sh->dir, de->d_name);
        if (sh->s->io->unlink(sh->s->io->ctx, path) == 0)
            fin_debug("%s: removed leftover %s", sh->id, path);
    }
    closedir(d);
}

int shard_open_writer(struct shard *sh, bool clean)
{
    const struct fin_io *io = sh->s->io;
    uint64_t *firsts = NULL;
    size_t n = 0;
    int rc;
    char path[PATH_MAX], ipath[PATH_MAX];
    struct seg_scan sc = {0};
    uint64_t gap = 0;

    if ((rc = fin_mkdir_p(sh->dir, 0755)) || (rc = seg_list(sh->dir, sh->prefix, &firsts, &n)))
        goto fail;
    remove_leftovers(sh);
    for (size_t i = 0; i + 1 < n; i++)
        if ((rc = rebuild_index(sh, firsts[i])))
            goto fail;
    if (n == 0) {
        if ((rc = create_segment(sh, 1, &sh->fd)))
            goto fail;
        sh->seg_first = 1;
        sh->seg_size = SEG_HDR;
        sh->next_idx_at = SEG_HDR;
        sh->next_counter = 1;
        free(firsts);
        return 0;
    }
    uint64_t first = firsts[n - 1];
    seg_path(path, sizeof path, sh->dir, sh->prefix, first, SEG_SUFFIX);
    seg_path(ipath, sizeof ipath, sh->dir, sh->prefix, first, IDX_SUFFIX);
    struct stat st;
    if ((rc = verify_header(sh, path, first)))
        goto fail;
    if (stat(path, &st) != 0) {
        rc = fin_err_errno(errno, "cannot stat", path);
        goto fail;
    }
    struct idx_file f = {0};
    bool verified = false;
    uint64_t clean_end = 0;   /* what a clean close vouched for: acknowledged, never torn */
    if (clean && idx_read(ipath, &f) == 0)
        clean_end = f.log_size;
    if (clean_end && f.log_size == (uint64_t)st.st_size) {
        /* A clean shutdown wrote the index of the tail, so only the frames after its last
         * entry (at most 64 KiB and one frame) are read: the ones the next append follows. */
        uint64_t from = f.n ? f.e[f.n - 1].offset : SEG_HDR;
        struct seg_scan tail;
        if ((rc = seg_scan_from(path, sh->index, first, from, &tail)))
            goto fail;
        verified = tail.bad == FRAME_OK && tail.valid_end == f.log_size &&
                   (tail.records ? tail.last_counter == f.last_counter
                                 : from == SEG_HDR && f.last_counter == 0);
        seg_scan_fini(&tail);
        if (verified) {
            sc.valid_end = sc.file_size = f.log_size;
            sc.first_counter = f.first_counter;
            sc.last_counter = f.last_counter;
            sc.last_arrival = f.last_arrival;
            sc.records = f.last_counter ? 1 : 0;
            sc.idx = f.e;
            sc.n_idx = sc.cap_idx = f.n;
            f.e = NULL;
        }
    }
    free(f.e);
    if (!verified) {
        if ((rc = seg_scan(path, sh->index, first, &sc)))
            goto fail;
        /* After a clean shutdown nothing was being appended: bad bytes before the end
         * it recorded are damage to acknowledged records, not a torn write. */
        if (sc.bad != FRAME_OK && (!sc.torn || sc.valid_end < clean_end)) {
            rc = fin_err_set(FIN_ECORRUPT,
                             "%s: offset %llu: %s (%s; %llu damaged byte%s, %llu intact "
                             "record%s in the segment); refusing to append after it: run "
                             "'finstream check --fix %s' to remove the damage and keep every "
                             "intact record", path, (unsigned long long)sc.valid_end,
                             frame_status_str(sc.bad),
                             sc.torn ? "in records a clean close had written"
                                     : "with good frames after it: corruption, not a torn tail",
                             (unsigned long long)sc.lost_bytes, sc.lost_bytes == 1 ? "" : "s",
                             (unsigned long long)sc.intact, sc.intact == 1 ? "" : "s",
                             sh->s->name);
            goto fail;
        }
    }
    sh->fd = io->open(io->ctx, path, O_RDWR, 0);
    if (sh->fd < 0) {
        rc = fin_err_errno(errno, "cannot open segment", path);
        goto fail;
    }
    if (sc.bad != FRAME_OK) {
        uint64_t cut = sc.file_size - sc.valid_end;
        if (io->ftruncate(io->ctx, sh->fd, (off_t)sc.valid_end) != 0 ||
            io->fsync(io->ctx, sh->fd) != 0) {
            rc = fin_err_errno(errno, "cannot truncate the torn tail of", path);
            goto fail;
        }
        fin_warn("stream '%s' %s: torn tail in %s at offset %llu: truncated %llu bytes "
                 "(%llu incomplete record%s); %llu records before it kept",
                 sh->s->name, sh->id, path, (unsigned long long)sc.valid_end,
                 (unsigned long long)cut, (unsigned long long)sc.torn_records,
                 sc.torn_records == 1 ? "" : "s", (unsigned long long)sc.records);
        /* The cut frames may have carried sequence numbers a reader saw: skip past any
         * they could have held (each frame is at least one byte). */
        gap = cut;
    }
    /* The index of the active segment goes stale with the first append. */
    if (io->unlink(io->ctx, ipath) != 0 && errno != ENOENT) {
        rc = fin_err_errno(errno, "cannot remove", ipath);
        goto fail;
    }
    sh->seg_first = first;
    sh->seg_size = sc.valid_end;
    sh->seg_first_counter = sc.first_counter;
    sh->seg_last_counter = sc.last_counter;
    sh->seg_last_arrival = sc.last_arrival;
    sh->idx = sc.idx;
    sh->n_idx = sc.n_idx;
    sh->cap_idx = sc.cap_idx;
    sc.idx = NULL;
    seg_scan_fini(&sc);
    sh->next_idx_at = sh->n_idx ? sh->idx[sh->n_idx - 1].offset + IDX_EVERY : SEG_HDR;
    sh->next_counter = (sc.last_counter ? sc.last_counter + 1 : first) + gap;
    if (sh->next_counter < first)
        sh->next_counter = first;
    sh->last_arrival = sc.last_arrival;
    free(firsts);
    return 0;
fail:
    seg_scan_fini(&sc);
    free(firsts);
    if (sh->fd >= 0) {
        io->close(io->ctx, sh->fd);
        sh->fd = -1;
    }
    return rc;
}

void shard_close_writer(struct shard *sh, bool *ok)
{
    const struct fin_io *io = sh->s->io;
    if (sh->fd < 0)
        return;
    pthread_mutex_lock(&sh->mu);
    int rc = shard_flush(sh, true);
    if (!rc && !sh->broken && !sh->pending_err)
        rc = write_active_index(sh);
    else if (!rc)
        rc = FIN_EIO;
    pthread_mutex_unlock(&sh->mu);
    if (rc) {
        fin_warn("stream '%s' %s: %s", sh->s->name, sh->id, fin_err_msg());
        *ok = false;
    }
    io->close(io->ctx, sh->fd);
    sh->fd = -1;
}

/* ---- the background threads ----
 *
 * Two threads, so that no write waits for an fsync (a slow fsync of one shard delayed
 * every shard's writes when one thread did both):
 *
 *   writer  every 50 ms (or at once when a producer hands it a full buffer) writes out
 *           each open shard's buffer: what `kill -9` can no longer lose. It never fsyncs
 *           (under `always` the producers' group commits do).
 *   syncer  for `interval`, every fsync_interval fsyncs, on duplicate descriptors and
 *           without holding a shard, the segments written since the last time, sealed
 *           segments and new directory entries; for every policy, retention each minute. */

static int64_t write_tick_ns(const struct fin_stream *s)
{
    int64_t tick = 50 * FIN_NS_PER_MS;   /* how soon another process sees buffered records */
    if (s->cfg.fsync == FIN_FSYNC_INTERVAL && s->cfg.fsync_interval_ms * FIN_NS_PER_MS < tick)
        tick = s->cfg.fsync_interval_ms * FIN_NS_PER_MS;
    if (s->cfg.fsync == FIN_FSYNC_ALWAYS)
        tick = FIN_NS_PER_SEC;   /* puts write their own buffers */
    return tick > 0 ? tick : FIN_NS_PER_MS;
}

static int64_t sync_tick_ns(const struct fin_stream *s)
{
    if (s->cfg.fsync == FIN_FSYNC_INTERVAL && s->cfg.fsync_interval_ms < 1000)
        return s->cfg.fsync_interval_ms * FIN_NS_PER_MS;
    return FIN_NS_PER_SEC;   /* interval checks below; retention each minute */
}

/* The writer's pass over one shard: a handed-off buffer, and on the tick what has
 * gathered. (Writing partial buffers only on the tick keeps writes large while
 * producers are busy: a full buffer is always handed over.) */
static void background_write(struct shard *sh, bool tick)
{
    pthread_mutex_lock(&sh->mu);
    int rc = 0;
    if (!sh->broken && sh->fd >= 0) {
        if (sh->handoff)
            rc = take_handoff(sh);
        else if (tick)
            rc = shard_flush(sh, false);
    }
    if (rc) {
        fin_error("stream '%s' %s: background write failed: %s", sh->s->name, sh->id,
                  fin_err_msg());
        if (!sh->pending_err)
            sh->pending_err = rc;
    }
    pthread_mutex_unlock(&sh->mu);
}

/* The syncer's pass over one shard under `interval`: once the interval is up, fsync
 * what was written. The shard is held only to take a duplicate of the descriptor. */
static void background_sync(struct shard *sh)
{
    struct fin_stream *s = sh->s;
    const struct fin_io *io = s->io;
    pthread_mutex_lock(&sh->mu);
    int64_t now = fin_mono_ns(s->clock);
    int fd2 = -1, *sealed = NULL, n_sealed = 0, rc = 0;
    bool dir = false;
    if (!sh->broken && sh->fd >= 0 &&
        now - sh->last_sync_ns >= s->cfg.fsync_interval_ms * FIN_NS_PER_MS &&
        (sh->unsynced || sh->n_sealed || sh->dir_dirty)) {
        /* A write in progress may be rolling the segment (and so changing fd): wait for
         * it, which takes one pwrite, never an fsync. */
        while (sh->flushing)
            pthread_cond_wait(&sh->cv, &sh->mu);
        fd2 = dup(sh->fd);
        if (fd2 < 0)
            rc = fin_err_errno(errno, "cannot duplicate the descriptor of", sh->dir);
        if (sh->n_sealed) {
            sealed = malloc((size_t)sh->n_sealed * sizeof *sealed);
            if (sealed) {
                memcpy(sealed, sh->sealed, (size_t)sh->n_sealed * sizeof *sealed);
                n_sealed = sh->n_sealed;
                sh->n_sealed = 0;
            }
        }
        dir = sh->dir_dirty;
        sh->dir_dirty = false;
        sh->unsynced = false;
        sh->last_sync_ns = now;
    }
    pthread_mutex_unlock(&sh->mu);
    int src = 0;
    if (n_sealed || dir)
        src = sync_deferred(sh, sealed, n_sealed, dir);
    free(sealed);
    if (fd2 >= 0) {
        if (io->fsync(io->ctx, fd2) != 0 && !src)
            src = fin_err_errno(errno, "cannot fsync a segment of", sh->dir);
        close(fd2);
    }
    if (!rc)
        rc = src;
    if (rc) {
        fin_error("stream '%s' %s: background fsync failed: %s", s->name, sh->id, fin_err_msg());
        pthread_mutex_lock(&sh->mu);
        if (!sh->pending_err)
            sh->pending_err = rc;
        sh->unsynced = true;
        pthread_mutex_unlock(&sh->mu);
    }
}

static void deadline_after(struct timespec *ts, int64_t ns)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    int64_t t = (int64_t)ts->tv_sec * FIN_NS_PER_SEC + ts->tv_nsec + ns;
    ts->tv_sec = t / FIN_NS_PER_SEC;
    ts->tv_nsec = t % FIN_NS_PER_SEC;
}

static void *writer_thread(void *arg)
{
    struct fin_stream *s = arg;
    int64_t tick = write_tick_ns(s);
    struct timespec ts;
    deadline_after(&ts, tick);
    pthread_mutex_lock(&s->tmu);
    for (;;) {
        bool due = false;
        while (!s->stop && !s->kick && !due)
            due = pthread_cond_timedwait(&s->tcv, &s->tmu, &ts) == ETIMEDOUT;
        bool stop = s->stop;
        s->kick = false;
        pthread_mutex_unlock(&s->tmu);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > ts.tv_sec || (now.tv_sec == ts.tv_sec && now.tv_nsec >= ts.tv_nsec))
            due = true;
        if (due)
            deadline_after(&ts, tick);
        int n = __atomic_load_n(&s->nshards, __ATOMIC_ACQUIRE);
        for (int i = 0; i < n; i++)
            if (!s->shards[i].closed)
                background_write(&s->shards[i], due || stop);
        pthread_mutex_lock(&s->tmu);
        if (stop)
            break;   /* after one last pass: no handed-off buffer is left behind */
    }
    pthread_mutex_unlock(&s->tmu);
    return NULL;
}

static void *sync_thread(void *arg)
{
    struct fin_stream *s = arg;
    int64_t tick = sync_tick_ns(s);
    pthread_mutex_lock(&s->tmu);
    while (!s->stop) {
        struct timespec ts;
        deadline_after(&ts, tick);
        while (!s->stop)
            if (pthread_cond_timedwait(&s->scv, &s->tmu, &ts) == ETIMEDOUT)
                break;
        if (s->stop)
            break;
        pthread_mutex_unlock(&s->tmu);
        if (s->cfg.fsync == FIN_FSYNC_INTERVAL) {
            int n = __atomic_load_n(&s->nshards, __ATOMIC_ACQUIRE);
            for (int i = 0; i < n; i++)
                if (!s->shards[i].closed)
                    background_sync(&s->shards[i]);
        }
        int64_t now = fin_mono_ns(fin_clock_real());
        if (now - s->last_retention_ns > 60 * FIN_NS_PER_SEC) {
            s->last_retention_ns = now;
            if (fin_stream_apply_retention(s))
                fin_warn("stream '%s': retention: %s", s->name, fin_err_msg());
        }
        pthread_mutex_lock(&s->tmu);
    }
    pthread_mutex_unlock(&s->tmu);
    return NULL;
}

int stream_thread_start(struct fin_stream *s)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&s->tmu, NULL);
    pthread_cond_init(&s->tcv, &ca);
    pthread_cond_init(&s->scv, &ca);
    pthread_condattr_destroy(&ca);
    s->last_retention_ns = fin_mono_ns(fin_clock_real());
    if (pthread_create(&s->thread, NULL, writer_thread, s) != 0)
        goto fail;
    if (pthread_create(&s->sync_thread, NULL, sync_thread, s) != 0) {
        pthread_mutex_lock(&s->tmu);
        s->stop = true;
        pthread_cond_signal(&s->tcv);
        pthread_mutex_unlock(&s->tmu);
        pthread_join(s->thread, NULL);
        s->stop = false;
        goto fail;
    }
    s->thread_started = true;
    return 0;
fail:
    pthread_cond_destroy(&s->tcv);
    pthread_cond_destroy(&s->scv);
    pthread_mutex_destroy(&s->tmu);
    return fin_err_set(FIN_ENOMEM, "cannot start the background threads of stream '%s'",
                       s->name);
}

void stream_thread_kick(struct fin_stream *s)
{
    pthread_mutex_lock(&s->tmu);
    if (!s->kick) {
        s->kick = true;
        pthread_cond_signal(&s->tcv);
    }
    pthread_mutex_unlock(&s->tmu);
}

void stream_thread_stop(struct fin_stream *s)
{
    if (!s->thread_started)
        return;
    pthread_mutex_lock(&s->tmu);
    s->stop = true;
    pthread_cond_signal(&s->tcv);
    pthread_cond_signal(&s->scv);
    pthread_mutex_unlock(&s->tmu);
    pthread_join(s->thread, NULL);
    pthread_join(s->sync_thread, NULL);
    pthread_cond_destroy(&s->tcv);
    pthread_cond_destroy(&s->scv);
    pthread_mutex_destroy(&s->tmu);
    s->thread_started = false;
    s->stop = false;
}
