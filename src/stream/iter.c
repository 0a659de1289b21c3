/* iter.c - reading a shard: the five Kinesis iterator types, and following the tail.
 *
 * An iterator reads its segment in large blocks with pread and hands out records that
 * point into the block, checking each frame's CRC. At the end of what is written it
 * returns FIN_EEND; called again later it picks up where it stopped, moving on to the
 * next segment once the writer has rolled. A frame that is not complete yet is simply
 * not there yet: readers in other processes may see the writer mid-append. Bad bytes
 * with good frames after them are corruption, reported with segment and offset; an
 * iterator told to skip damage (fin_iter_skip_damaged) instead warns and resumes at the
 * next valid frame, as check --fix would keep it.
 *
 * A shard closed by a split or merge was flushed and fsynced before the shard map said
 * so: once an iterator knows the shard is closed (a reader rereads the map when it hits
 * the end), the end it reaches is final and fin_iter_shard_closed() turns true. */
#include "internal.h"

#include "finstream/error.h"
#include "finstream/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_BLOCK (1u << 20)

struct fin_iter {
    struct fin_stream *s;
    struct shard *sh;
    uint64_t min_counter;   /* skip frames below this (AT_/AFTER_SEQUENCE_NUMBER) */
    int64_t min_ts;         /* skip frames that arrived before this (AT_TIMESTAMP) */
    bool filtering;
    uint64_t seg_first;
    int fd;
    char path[PATH_MAX];
    char *buf;
    size_t cap, have, pos;
    uint64_t base;          /* file offset of buf[0] */
    bool flushed;           /* asked the in-process writer to flush since the last record */
    bool closed_end;        /* reached the end of a closed shard */
    uint64_t last_counter;  /* the counter last_seq spells, to step it instead of reformatting */
    char last_seq[FIN_SEQ_LEN + 1];
    bool skip_damaged;      /* step over bad bytes to the next valid frame, with a warning */
    uint64_t prev_counter;  /* of the last good frame decoded (0: none in this segment) */
    uint64_t skipped;       /* damaged runs stepped over */
    int hdr_err;            /* the open segment's header is damaged: reported by next() */
    char hdr_msg[PATH_MAX + 128];
};

/* The sequence number of counter: consecutive counters (the usual case) only step the
 * last digits of the previous one. */
static void iter_seq(struct fin_iter *it, uint64_t counter, char out[FIN_SEQ_LEN + 1])
{
    if (it->last_counter && counter == it->last_counter + 1) {
        char *p = it->last_seq + FIN_SEQ_LEN - 1;
        while (*p == '9') {
            *p-- = '0';
        }
        (*p)++;
    } else {
        seq_format(it->last_seq, it->sh->prefix, counter);
    }
    it->last_counter = counter;
    memcpy(out, it->last_seq, FIN_SEQ_LEN + 1);
}

/* The first segment after `after` (0: the first of all); FIN_EEND when there is none. */
static int next_segment(struct fin_iter *it, uint64_t after, bool any, uint64_t *first)
{
    uint64_t *v = NULL;
    size_t n = 0;
    int rc = seg_list(it->sh->dir, it->sh->prefix, &v, &n);
    if (rc)
        return rc;
    rc = FIN_EEND;
    for (size_t i = 0; i < n; i++)
        if (any || v[i] > after) {
            *first = v[i];
            rc = 0;
            break;
        }
    free(v);
    return rc;
}

static int open_segment(struct fin_iter *it, uint64_t first, uint64_t off)
{
    if (it->fd >= 0)
        close(it->fd);
    it->fd = -1;
    seg_path(it->path, sizeof it->path, it->sh->dir, it->sh->prefix, first, SEG_SUFFIX);
    it->fd = open(it->path, O_RDONLY | O_CLOEXEC);
    if (it->fd < 0)
        return fin_err_errno(errno, "cannot open segment", it->path);
    char hdr[SEG_HDR];
    ssize_t r = pread(it->fd, hdr, SEG_HDR, 0);
    int rc = seg_header_check(hdr, r > 0 ? (size_t)r : 0, it->sh->index, first, it->path);
    it->hdr_err = rc;
    if (rc)   /* reported by fin_iter_next, unless it is told to skip damage */
        snprintf(it->hdr_msg, sizeof it->hdr_msg, "%s", fin_err_msg());
    it->seg_first = first;
    it->prev_counter = 0;
    it->base = off < SEG_HDR ? SEG_HDR : off;
    it->have = it->pos = 0;
    return 0;
}

/* Reads more of the segment after what is buffered; returns the bytes added (0 at EOF). */
static ssize_t refill(struct fin_iter *it, size_t need)
{
    if (it->pos) {
        memmove(it->buf, it->buf + it->pos, it->have - it->pos);
        it->base += it->pos;
        it->have -= it->pos;
        it->pos = 0;
    }
    if (need > it->cap || it->cap - it->have < READ_BLOCK / 4) {
        size_t cap = it->cap * 2 > need ? it->cap * 2 : need + READ_BLOCK;
        char *nb = realloc(it->buf, cap);
        if (!nb)
            return fin_err_set(FIN_ENOMEM, "cannot grow the read buffer");
        it->buf = nb;
        it->cap = cap;
    }
    ssize_t r;
    do
        r = pread(it->fd, it->buf + it->have, it->cap - it->have, (off_t)(it->base + it->have));
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return fin_err_errno(errno, "cannot read", it->path);
    it->have += (size_t)r;
    return r;
}

/* Positions it at the first frame of segment `first` whose counter is at least c (or
 * which arrived at or after ts), using the segment's index when it is there. */
static int seek_in_segment(struct fin_iter *it, uint64_t first, uint64_t c, int64_t ts)
{
    char ipath[PATH_MAX];
    seg_path(ipath, sizeof ipath, it->sh->dir, it->sh->prefix, first, IDX_SUFFIX);
    struct idx_file f;
    uint64_t off = SEG_HDR;
    if (idx_read(ipath, &f) == 0) {
        for (size_t i = 0; i < f.n; i++) {
            if ((c && f.e[i].counter > c) || (ts && f.e[i].arrival_ms >= ts))
                break;
            off = f.e[i].offset;
        }
    }
    free(f.e);
    return open_segment(it, first, off);
}

int fin_iter_open(struct fin_iter **out, struct fin_stream *s, int shard, enum fin_iter_type type,
                  const char *seq, int64_t ts_ms)
{
    *out = NULL;
    if (shard < 0 || shard >= s->nshards)
        return fin_err_set(FIN_EINVAL, "stream '%s' has no shard %d", s->name, shard);
    struct fin_iter *it = calloc(1, sizeof *it);
    if (!it)
        return FIN_ENOMEM;
    it->s = s;
    it->sh = &s->shards[shard];
    it->fd = -1;
    it->cap = READ_BLOCK;
    int rc = 0;
    uint64_t *v = NULL;
    size_t n = 0;
    if (!(it->buf = malloc(it->cap))) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    if (s->mode == FIN_STREAM_WRITE) {
        /* Records still in this process's write buffer count as written. */
        shard_flush_for_reader(it->sh);
    }
    if ((rc = seg_list(it->sh->dir, it->sh->prefix, &v, &n)))
        goto fail;
    if (n == 0) {
        rc = fin_err_set(FIN_ENOENT, "stream '%s' %s has no segments yet (never opened for "
                         "writing)", s->name, it->sh->id);
        goto fail;
    }
    switch (type) {
    case FIN_ITER_TRIM_HORIZON:
        rc = open_segment(it, v[0], SEG_HDR);
        break;
    case FIN_ITER_LATEST: {
        char path[PATH_MAX];
        seg_path(path, sizeof path, it->sh->dir, it->sh->prefix, v[n - 1], SEG_SUFFIX);
        struct seg_scan sc;
        if ((rc = seg_scan(path, it->sh->index, v[n - 1], &sc)))
            break;
        uint64_t end = sc.valid_end;
        seg_scan_fini(&sc);
        rc = open_segment(it, v[n - 1], end);
        break;
    }
    case FIN_ITER_AT_SEQUENCE_NUMBER:
    case FIN_ITER_AFTER_SEQUENCE_NUMBER: {
        uint64_t c;
        if ((rc = seq_parse(seq, it->sh->prefix, &c)))
            break;
        if (type == FIN_ITER_AFTER_SEQUENCE_NUMBER)
            c++;
        size_t k = 0;
        while (k + 1 < n && v[k + 1] <= c)
            k++;
        it->min_counter = c;
        it->filtering = true;
        rc = seek_in_segment(it, v[k], c, 0);
        break;
    }
    case FIN_ITER_AT_TIMESTAMP: {
        /* Arrival times never go down within a shard, so the first segment whose last
         * record arrived at or after ts holds the first record to return. */
        size_t k = 0;
        for (; k + 1 < n; k++) {
            char ipath[PATH_MAX];
            seg_path(ipath, sizeof ipath, it->sh->dir, it->sh->prefix, v[k], IDX_SUFFIX);
            struct idx_file f;
            int r = idx_read(ipath, &f);
            free(f.e);
            if (r || f.last_arrival >= ts_ms)
                break;
        }
        it->min_ts = ts_ms;
        it->filtering = true;
        rc = seek_in_segment(it, v[k], 0, ts_ms > 0 ? ts_ms : 1);
        break;
    }
    default:
        rc = fin_err_set(FIN_EINVAL, "unknown iterator type %d", (int)type);
    }
    if (rc)
        goto fail;
    free(v);
    *out = it;
    return 0;
fail:
    free(v);
    fin_iter_close(it);
    return rc;
}

/* An incomplete frame at the end of the file is a write in progress, unless a whole,
 * valid frame starts somewhere after it: then its length field is damaged. */
static bool good_frame_after(const struct fin_iter *it)
{
    for (size_t o = it->pos + 1; o + FRAME_HDR < it->have; o++) {
        struct frame f;
        if (frame_decode(it->buf + o, it->have - o, &f, NULL) == FRAME_OK)
            return true;
    }
    return false;
}

void fin_iter_skip_damaged(struct fin_iter *it, bool on) { it->skip_damaged = on; }

uint64_t fin_iter_skipped(const struct fin_iter *it) { return it->skipped; }

/* Steps over the bad bytes at file offset off to the next valid frame of the segment,
 * with a warning naming the place; *found false when none follows. */
static int skip_damage(struct fin_iter *it, uint64_t off, const char *why, bool *found)
{
    uint64_t next, min = it->prev_counter ? it->prev_counter + 1 : it->seg_first;
    int rc = seg_find_frame(it->fd, it->path, off + 1, min, &next);
    if (rc)
        return rc;
    struct stat st;
    *found = fstat(it->fd, &st) == 0 && next < (uint64_t)st.st_size;
    if (!*found)
        return 0;
    char after[FIN_SEQ_LEN + 1] = "";
    if (it->prev_counter)
        seq_format(after, it->sh->prefix, it->prev_counter);
    fin_warn("stream '%s' %s: %s: offset %llu: %s; skipped %llu damaged bytes to the next "
             "good frame%s%s (records there are lost until 'finstream check --fix' reports "
             "them)", it->s->name, it->sh->id, it->path, (unsigned long long)off, why,
             (unsigned long long)(next - off), after[0] ? " after sequence number " : "",
             after);
    it->skipped++;
    it->base = next;
    it->have = it->pos = 0;
    return 0;
}

/* Leaves a segment whose rest is damaged for the next one, with a warning. */
static int skip_rest(struct fin_iter *it, uint64_t off, const char *why, uint64_t next)
{
    fin_warn("stream '%s' %s: %s: offset %llu: %s with no good frame after it in the "
             "segment; going on with the next segment", it->s->name, it->sh->id, it->path,
             (unsigned long long)off, why);
    it->skipped++;
    return open_segment(it, next, SEG_HDR);
}

int fin_iter_next(struct fin_iter *it, struct fin_record *rec)
{
    for (;;) {
        if (it->hdr_err && !it->skip_damaged)
            return fin_err_set(it->hdr_err, "%s", it->hdr_msg);
        if (it->hdr_err) {
            /* The frames after a damaged header carry their own CRCs: read on. */
            fin_warn("stream '%s' %s: %s; reading the frames after it", it->s->name,
                     it->sh->id, it->hdr_msg);
            it->hdr_err = 0;
            it->skipped++;
        }
        struct frame f;
        size_t need;
        enum frame_status st = frame_decode(it->buf + it->pos, it->have - it->pos, &f, &need);
        if (st == FRAME_OK && it->skip_damaged && it->prev_counter &&
            f.counter <= it->prev_counter)
            st = FRAME_BAD_CRC;   /* a stale frame-like run inside damage: not the log */
        if (st == FRAME_OK) {
            it->prev_counter = f.counter;
            it->pos += f.len;
            if (it->filtering) {
                if (f.counter < it->min_counter || f.arrival_ms < it->min_ts)
                    continue;
                it->filtering = false;   /* counters and arrivals only go up from here */
            }
            it->flushed = false;
            rec->key = f.key;
            rec->key_len = f.key_len;
            rec->data = f.data;
            rec->len = f.data_len;
            rec->arrival_ms = f.arrival_ms;
            iter_seq(it, f.counter, rec->seq);
            return 0;
        }
        if (st == FRAME_SHORT) {
            ssize_t got = refill(it, need);
            if (got < 0)
                return (int)got;
            if (got > 0)
                continue;
            if (it->s->mode == FIN_STREAM_WRITE && !it->flushed) {
                it->flushed = true;
                shard_flush_for_reader(it->sh);
                continue;
            }
            uint64_t next;
            int rc = next_segment(it, it->seg_first, false, &next);
            if (rc == FIN_EEND && it->pos < it->have && good_frame_after(it)) {
                uint64_t off = it->base + it->pos;
                bool found = false;
                if (it->skip_damaged) {
                    int src = skip_damage(it, off, frame_status_str(FRAME_BAD_LEN), &found);
                    if (src)
                        return src;
                    if (found)
                        continue;
                }
                return fin_err_set(FIN_ECORRUPT, "%s: offset %llu: %s with good frames after "
                                   "it", it->path, (unsigned long long)off,
                                   frame_status_str(FRAME_BAD_LEN));
            }
            if (rc == FIN_EEND) {
                it->flushed = false;   /* the next call may ask the writer again */
                if (it->sh->closed) {
                    it->closed_end = true;
                    return FIN_EEND;
                }
                /* Was it closed since we last looked? Then all it holds is on disk: read
                 * once more before calling the end final. */
                if ((rc = shardmap_refresh(it->s)))
                    return rc;
                if (it->sh->closed)
                    continue;
                return FIN_EEND;       /* the tail: nothing more written yet */
            }
            if (rc)
                return rc;
            /* The writer finishes a segment before it creates the next one, so what is
             * in this one now is all it will ever hold. */
            if ((got = refill(it, need)) < 0)
                return (int)got;
            if (got > 0)
                continue;
            if (it->pos < it->have) {
                if (it->skip_damaged) {
                    if ((rc = skip_rest(it, it->base + it->pos, "incomplete frame", next)))
                        return rc;
                    continue;
                }
                return fin_err_set(FIN_ECORRUPT, "%s: offset %llu: incomplete frame at the end "
                                   "of a sealed segment", it->path,
                                   (unsigned long long)(it->base + it->pos));
            }
            if ((rc = open_segment(it, next, SEG_HDR)))
                return rc;
            continue;
        }
        /* Bad bytes: at the very end of the newest segment they may be a torn tail that
         * the writer will cut off when it recovers; anywhere else they are corruption. */
        uint64_t off = it->base + it->pos;
        uint64_t next = 0;
        struct stat stt;
        bool last = next_segment(it, it->seg_first, false, &next) == FIN_EEND;
        if (last && st == FRAME_BAD_CRC && fstat(it->fd, &stt) == 0 &&
            off + get_u32(it->buf + it->pos) == (uint64_t)stt.st_size)
            return FIN_EEND;
        if (it->skip_damaged) {
            bool found;
            int rc = skip_damage(it, off, frame_status_str(st), &found);
            if (rc)
                return rc;
            if (found)
                continue;
            if (last)
                return FIN_EEND;   /* a torn tail the writer cuts when it recovers */
            if ((rc = skip_rest(it, off, frame_status_str(st), next)))
                return rc;
            continue;
        }
        return fin_err_set(FIN_ECORRUPT, "%s: offset %llu: %s", it->path,
                           (unsigned long long)off, frame_status_str(st));
    }
}

bool fin_iter_shard_closed(const struct fin_iter *it) { return it->closed_end; }

void fin_iter_close(struct fin_iter *it)
{
    if (!it)
        return;
    if (it->fd >= 0)
        close(it->fd);
    free(it->buf);
    free(it);
}
