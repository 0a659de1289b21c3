/* format.c - the stream's bytes: frames, sequence numbers, hash keys, segment and index
 * files, and the scanner that verifies a segment frame by frame.
 *
 * Everything here is a pure function of its input or reads files without changing
 * them, so recovery, `finstream check` and iterators all judge bytes the same way. */
#include "internal.h"

#include "finstream/crc32c.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- frames ---- */

size_t frame_encode(char *out, uint64_t counter, int64_t arrival_ms, const char *key,
                    size_t key_len, const void *data, size_t len)
{
    size_t total = FRAME_HDR + key_len + len;
    put_u32(out, (uint32_t)total);
    put_u64(out + 8, counter);
    put_u64(out + 16, (uint64_t)arrival_ms);
    put_u16(out + 24, (uint16_t)key_len);
    memcpy(out + FRAME_HDR, key, key_len);
    if (len)
        memcpy(out + FRAME_HDR + key_len, data, len);
    put_u32(out + 4, fin_crc32c(0, out + 8, total - 8));
    return total;
}

enum frame_status frame_decode(const char *p, size_t avail, struct frame *f, size_t *need)
{
    if (need)
        *need = FRAME_HDR;
    if (avail < FRAME_HDR) {
        if (avail >= 4 && need) {
            uint32_t len = get_u32(p);
            if (len >= FRAME_HDR + 1 && len <= FRAME_MAX)
                *need = len;
        }
        return FRAME_SHORT;
    }
    uint32_t len = get_u32(p);
    if (len < FRAME_HDR + 1 || len > FRAME_MAX)
        return FRAME_BAD_LEN;
    size_t key_len = get_u16(p + 24);
    if (key_len < 1 || key_len > FIN_STREAM_MAX_KEY || key_len > len - FRAME_HDR)
        return FRAME_BAD_LEN;
    if (need)
        *need = len;
    if (avail < len)
        return FRAME_SHORT;
    if (fin_crc32c(0, p + 8, len - 8) != get_u32(p + 4))
        return FRAME_BAD_CRC;
    f->len = len;
    f->counter = get_u64(p + 8);
    f->arrival_ms = (int64_t)get_u64(p + 16);
    f->key = p + FRAME_HDR;
    f->key_len = key_len;
    f->data = p + FRAME_HDR + key_len;
    f->data_len = len - FRAME_HDR - key_len;
    return FRAME_OK;
}

const char *frame_status_str(enum frame_status st)
{
    switch (st) {
    case FRAME_OK: return "good frame";
    case FRAME_SHORT: return "incomplete frame";
    case FRAME_BAD_LEN: return "impossible frame length";
    case FRAME_BAD_CRC: return "CRC32C mismatch";
    }
    return "?";
}

/* ---- sequence numbers ---- */

void seq_prefix(char out[SEQ_PREFIX_LEN + 1], int64_t created_s, int shard)
{
    snprintf(out, SEQ_PREFIX_LEN + 1, "49%012lld%012d%010d", (long long)created_s, shard, 0);
}

void seq_format(char out[FIN_SEQ_LEN + 1], const char *prefix, uint64_t counter)
{
    memcpy(out, prefix, SEQ_PREFIX_LEN);
    char *p = out + FIN_SEQ_LEN;
    *p = '\0';
    for (int i = 0; i < SEQ_COUNTER_LEN; i++) {
        *--p = (char)('0' + counter % 10);
        counter /= 10;
    }
}

int seq_parse(const char *seq, const char *prefix, uint64_t *counter)
{
    size_t n = seq ? strlen(seq) : 0;
    if (n != FIN_SEQ_LEN)
        return fin_err_set(FIN_EINVAL, "'%s' is not a sequence number (%d digits expected)",
                           seq ? seq : "", FIN_SEQ_LEN);
    for (size_t i = 0; i < n; i++)
        if (seq[i] < '0' || seq[i] > '9')
            return fin_err_set(FIN_EINVAL, "'%s' is not a sequence number (digits only)", seq);
    if (memcmp(seq, prefix, SEQ_PREFIX_LEN) != 0)
        return fin_err_set(FIN_EINVAL,
                           "sequence number %s belongs to another shard or stream", seq);
    uint64_t c = 0;
    for (int i = SEQ_PREFIX_LEN; i < FIN_SEQ_LEN; i++) {
        unsigned d = (unsigned)(seq[i] - '0');
        if (c > (UINT64_MAX - d) / 10)
            return fin_err_set(FIN_EINVAL, "sequence number %s is out of range", seq);
        c = c * 10 + d;
    }
    *counter = c;
    return 0;
}

/* ---- hash keys ---- */

/* Producers send the same few partition keys (tickers) again and again, and MD5 through
 * EVP costs more than everything else a put does, so each thread remembers recent keys. */
#define KEY_CACHE 256
#define KEY_CACHE_MAX 48
struct key_cache_entry {
    unsigned char len;
    char key[KEY_CACHE_MAX];
    u128 hash;
};
static _Thread_local struct key_cache_entry key_cache[KEY_CACHE];

static void md5_raw(const char *key, size_t len, unsigned char out[16])
{
    static EVP_MD *md5;
    EVP_MD *m = __atomic_load_n(&md5, __ATOMIC_ACQUIRE);
    if (!m) {
        EVP_MD *fetched = EVP_MD_fetch(NULL, "MD5", NULL);
        EVP_MD *expected = NULL;
        if (fetched && !__atomic_compare_exchange_n(&md5, &expected, fetched, false,
                                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            EVP_MD_free(fetched);
            fetched = expected;
        }
        m = fetched;
    }
    unsigned int n = 16;
    if (!m || !EVP_Digest(key, len, out, &n, m, NULL))
        memset(out, 0, 16);   /* MD5 is always there in OpenSSL's default provider */
}

void hash_key_md5(const char *key, size_t len, u128 *out)
{
    struct key_cache_entry *e = NULL;
    if (len <= KEY_CACHE_MAX) {
        uint32_t h = 2166136261u;
        for (size_t i = 0; i < len; i++)
            h = (h ^ (unsigned char)key[i]) * 16777619u;
        e = &key_cache[h % KEY_CACHE];
        if (e->len == len && len && memcmp(e->key, key, len) == 0) {
            *out = e->hash;
            return;
        }
    }
    unsigned char d[16];
    md5_raw(key, len, d);
    /* Kinesis reads the digest as a big-endian 128-bit integer. */
    u128 v = 0;
    for (int i = 0; i < 16; i++)
        v = (v << 8) | d[i];
    *out = v;
    if (e && len) {
        e->len = (unsigned char)len;
        memcpy(e->key, key, len);
        e->hash = v;
    }
}

int hash_key_parse(const char *s, u128 *out)
{
    u128 v = 0, max = ~(u128)0;
    if (!s || !*s)
        return fin_err_set(FIN_EINVAL, "empty explicit hash key");
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return fin_err_set(FIN_EINVAL, "explicit hash key '%s' is not a decimal number", s);
        unsigned d = (unsigned)(*p - '0');
        if (v > (max - d) / 10)
            return fin_err_set(FIN_ELIMIT, "explicit hash key '%s' is above 2^128-1", s);
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

void hash_key_format(u128 v, char out[40])
{
    char tmp[40];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
}

/* Each shard owns floor(2^128 / n) hash keys, as Kinesis splits a new stream evenly;
 * the last shard also takes the remainder up to 2^128 - 1. */
static u128 range_width(int n)
{
    u128 max = ~(u128)0;
    if (n <= 1)
        return max;   /* 2^128 itself does not fit; only shard 0 starts anywhere */
    u128 q = max / (unsigned)n;
    if (max % (unsigned)n == (u128)(n - 1))
        q++;
    return q;
}

u128 hash_range_start(int i, int n) { return range_width(n) * (unsigned)i; }

int hash_shard(u128 h, int n)
{
    if (n <= 1)
        return 0;
    u128 i = h / range_width(n);
    return i >= (u128)n ? n - 1 : (int)i;
}

/* ---- segment files ---- */

void seg_path(char *out, size_t cap, const char *dir, const char *prefix, uint64_t first,
              const char *suffix)
{
    char seq[FIN_SEQ_LEN + 1];
    seq_format(seq, prefix, first);
    snprintf(out, cap, "%s/%s%s", dir, seq, suffix);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int seg_list(const char *dir, const char *prefix, uint64_t **firsts, size_t *n)
{
    *firsts = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return fin_err_errno(errno, "cannot open shard directory", dir);
    uint64_t *v = NULL;
    size_t cnt = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *nm = de->d_name;
        if (strlen(nm) != FIN_SEQ_LEN + strlen(SEG_SUFFIX) ||
            strcmp(nm + FIN_SEQ_LEN, SEG_SUFFIX) != 0)
            continue;
        char seq[FIN_SEQ_LEN + 1];
        memcpy(seq, nm, FIN_SEQ_LEN);
        seq[FIN_SEQ_LEN] = '\0';
        uint64_t c;
        if (seq_parse(seq, prefix, &c) != 0)
            continue;   /* not ours: a stray file is not a segment */
        if (cnt == cap) {
            size_t nc = cap ? cap * 2 : 16;
            uint64_t *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                rc = FIN_ENOMEM;
                goto fail;
            }
            v = nv;
            cap = nc;
        }
        v[cnt++] = c;
    }
    closedir(d);
    d = NULL;
    fin_err_clear();
    if (cnt)
        qsort(v, cnt, sizeof *v, cmp_u64);
    *firsts = v;
    *n = cnt;
    return 0;
fail:
    if (d)
        closedir(d);
    free(v);
    return rc;
}

void seg_header(char out[SEG_HDR], int shard, uint64_t first, int64_t created_ms)
{
    memset(out, 0, SEG_HDR);
    memcpy(out, SEG_MAGIC, 8);
    put_u32(out + 8, 1);
    put_u32(out + 12, (uint32_t)shard);
    put_u64(out + 16, first);
    put_u64(out + 24, (uint64_t)created_ms);
}

int seg_header_check(const char *hdr, size_t n, int shard, uint64_t first, const char *path)
{
    if (n < SEG_HDR)
        return fin_err_set(FIN_ECORRUPT, "%s: offset 0: segment header is %zu bytes, %d expected",
                           path, n, SEG_HDR);
    if (memcmp(hdr, SEG_MAGIC, 8) != 0)
        return fin_err_set(FIN_ECORRUPT, "%s: offset 0: not a finstream segment (bad magic)", path);
    if (get_u32(hdr + 8) != 1)
        return fin_err_set(FIN_ECORRUPT, "%s: offset 8: unknown segment version %u", path,
                           get_u32(hdr + 8));
    if ((int)get_u32(hdr + 12) != shard || get_u64(hdr + 16) != first)
        return fin_err_set(FIN_ECORRUPT, "%s: offset 12: header names shard %u, first %llu, "
                           "not the file's shard %d, first %llu", path, get_u32(hdr + 12),
                           (unsigned long long)get_u64(hdr + 16), shard,
                           (unsigned long long)first);
    return 0;
}

int idx_push(struct idx_entry **v, size_t *n, size_t *cap, uint64_t counter, uint64_t off,
             int64_t arrival)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        struct idx_entry *nv = realloc(*v, nc * sizeof *nv);
        if (!nv)
            return FIN_ENOMEM;
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = (struct idx_entry){counter, off, arrival};
    return 0;
}

void seg_scan_fini(struct seg_scan *sc)
{
    if (sc) {
        free(sc->idx);
        free(sc->dmg);
        sc->idx = NULL;
        sc->dmg = NULL;
    }
}

/* ---- reading a segment through a sliding window ---- */

struct seg_reader {
    int fd;
    const char *path;
    uint64_t file_size;
    char *buf;
    size_t cap;
    uint64_t base;   /* file offset of buf[0] */
    size_t have;
};

/* Makes bytes [off, off + n) available in the window as far as the file has them;
 * returns how many are (from off), or a negative error. */
static ssize_t rd_ensure(struct seg_reader *r, uint64_t off, size_t n)
{
    if (off >= r->file_size)
        return 0;
    if (n > r->file_size - off)
        n = (size_t)(r->file_size - off);
    if (off >= r->base && off + n <= r->base + r->have)
        return (ssize_t)(r->base + r->have - off);
    if (n > r->cap) {
        char *nb = realloc(r->buf, n);
        if (!nb)
            return FIN_ENOMEM;
        r->buf = nb;
        r->cap = n;
    }
    /* Keep what is already there when off is inside the window. */
    size_t keep = 0;
    if (off >= r->base && off < r->base + r->have) {
        keep = (size_t)(r->base + r->have - off);
        memmove(r->buf, r->buf + (off - r->base), keep);
    }
    r->base = off;
    r->have = keep;
    while (r->have < r->cap && r->base + r->have < r->file_size) {
        ssize_t got = pread(r->fd, r->buf + r->have, r->cap - r->have,
                            (off_t)(r->base + r->have));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return fin_err_errno(errno, "cannot read", r->path);
        if (got == 0) {
            r->file_size = r->base + r->have;   /* the file shrank under us */
            break;
        }
        r->have += (size_t)got;
    }
    return (ssize_t)r->have;
}

/* Decodes the frame at off, reading as much as it needs. */
static int rd_frame(struct seg_reader *r, uint64_t off, struct frame *f, enum frame_status *st)
{
    ssize_t a = rd_ensure(r, off, FRAME_HDR);
    if (a < 0)
        return (int)a;
    size_t need;
    *st = frame_decode(r->buf + (off - r->base), (size_t)a, f, &need);
    if (*st == FRAME_SHORT && need > (size_t)a && off + need <= r->file_size) {
        if ((a = rd_ensure(r, off, need)) < 0)
            return (int)a;
        *st = frame_decode(r->buf + (off - r->base), (size_t)a, f, &need);
    }
    return 0;
}

/* Whether a frame found after damage fits where it was found: counters strictly
 * increase and arrival times never go down within a shard, so record data that merely
 * contains a frame-like byte run is not taken for the log resuming. */
static bool plausible(const struct frame *f, bool have_prev, uint64_t prev_counter,
                      int64_t prev_arrival, uint64_t first)
{
    if (have_prev)
        return f->counter > prev_counter && f->arrival_ms >= prev_arrival;
    return f->counter >= first;
}

/* The offset of the first valid, plausible frame at or after from; file_size when none. */
static int seg_resync(struct seg_reader *r, uint64_t from, bool have_prev, uint64_t prev_counter,
               int64_t prev_arrival, uint64_t first, uint64_t *next)
{
    for (uint64_t o = from; o + FRAME_HDR < r->file_size; o++) {
        ssize_t a = rd_ensure(r, o, FRAME_HDR);
        if (a < 0)
            return (int)a;
        const char *p = r->buf + (o - r->base);
        uint32_t len = get_u32(p);
        size_t key_len = get_u16(p + 24);
        if (len < FRAME_HDR + 1 || len > FRAME_MAX || key_len < 1 ||
            key_len > FIN_STREAM_MAX_KEY || key_len > len - FRAME_HDR ||
            o + len > r->file_size)
            continue;   /* the cheap tests first: most offsets fail them */
        struct frame f;
        enum frame_status st;
        int rc = rd_frame(r, o, &f, &st);
        if (rc)
            return rc;
        if (st == FRAME_OK && plausible(&f, have_prev, prev_counter, prev_arrival, first)) {
            *next = o;
            return 0;
        }
    }
    *next = r->file_size;
    return 0;
}

/* Counts the frames in bad bytes [off, end) by their length fields; *exact when the
 * lengths lead exactly to end. */
static int count_lost(struct seg_reader *r, uint64_t off, uint64_t end, uint64_t *n, bool *exact)
{
    *n = 0;
    uint64_t p = off;
    while (p + 4 <= end) {
        ssize_t a = rd_ensure(r, p, 4);
        if (a < 0)
            return (int)a;
        uint32_t l = get_u32(r->buf + (p - r->base));
        if (l < FRAME_HDR + 1 || l > FRAME_MAX || p + l > end)
            break;
        (*n)++;
        p += l;
    }
    *exact = p == end;
    if (!*exact)
        (*n)++;   /* the frame whose length is damaged, or that the end cuts short */
    return 0;
}

/* An interrupted append leaves a prefix of one write: whole frames and then part of one,
 * with nothing valid after it. So the bad bytes at valid_end are a torn tail when no
 * valid frame starts anywhere after them and they are no longer than one write can be;
 * a good frame after bad bytes means the damage is in the middle: corruption. */
#define TORN_MAX (16u << 20)
#define SCAN_BLOCK (4u << 20)

static int push_damage(struct seg_scan *sc, const struct seg_damage *d)
{
    struct seg_damage *nv = realloc(sc->dmg, (sc->n_dmg + 1) * sizeof *nv);
    if (!nv)
        return FIN_ENOMEM;
    sc->dmg = nv;
    sc->dmg[sc->n_dmg++] = *d;
    return 0;
}

int seg_scan_from(const char *path, int shard, uint64_t first, uint64_t from,
                  struct seg_scan *sc)
{
    memset(sc, 0, sizeof *sc);
    struct seg_reader r = {.fd = -1, .path = path};
    int rc = 0;
    r.fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r.fd < 0)
        return fin_err_errno(errno, "cannot open segment", path);
    struct stat st;
    if (fstat(r.fd, &st) != 0) {
        rc = fin_err_errno(errno, "cannot stat", path);
        goto fail;
    }
    sc->file_size = r.file_size = (uint64_t)st.st_size;
    r.cap = SCAN_BLOCK;
    if (!(r.buf = malloc(r.cap))) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    ssize_t a = rd_ensure(&r, 0, SEG_HDR);
    if (a < 0) {
        rc = (int)a;
        goto fail;
    }
    if ((rc = seg_header_check(r.buf, (size_t)a, shard, first, path)))
        goto fail;

    uint64_t off = from < SEG_HDR ? SEG_HDR : from, next_idx = 0;
    bool prefix = true, have_prev = false;
    uint64_t prev_counter = 0;
    int64_t prev_arrival = 0;
    sc->valid_end = off;
    while (off < r.file_size) {
        struct frame f;
        enum frame_status fs;
        if ((rc = rd_frame(&r, off, &f, &fs)))
            goto fail;
        if (fs == FRAME_OK && (prefix || plausible(&f, have_prev, prev_counter, prev_arrival,
                                                   first))) {
            if (prefix) {
                if (off >= next_idx) {
                    if ((rc = idx_push(&sc->idx, &sc->n_idx, &sc->cap_idx, f.counter, off,
                                       f.arrival_ms)))
                        goto fail;
                    next_idx = off + IDX_EVERY;
                }
                if (!sc->records)
                    sc->first_counter = f.counter;
                sc->records++;
                sc->last_counter = f.counter;
                sc->last_arrival = f.arrival_ms;
                sc->valid_end = off + f.len;
            }
            sc->intact++;
            sc->end_counter = f.counter;
            sc->end_arrival = f.arrival_ms;
            have_prev = true;
            prev_counter = f.counter;
            prev_arrival = f.arrival_ms;
            off += f.len;
            continue;
        }
        /* Bad bytes at off: find where valid frames resume. */
        uint64_t next;
        if ((rc = seg_resync(&r, off + 1, have_prev, prev_counter, prev_arrival, first, &next)))
            goto fail;
        struct seg_damage d = {.off = off, .len = next - off, .why = fs == FRAME_OK ? FRAME_BAD_CRC : fs,
                               .tail = next >= r.file_size};
        if ((rc = count_lost(&r, off, next, &d.records, &d.exact)))
            goto fail;
        d.first_lost = have_prev ? prev_counter + 1 : first;
        if (!d.tail) {
            struct frame nf;
            enum frame_status ns;
            if ((rc = rd_frame(&r, next, &nf, &ns)))
                goto fail;
            d.last_lost = nf.counter - 1;
            if (!d.exact && d.last_lost >= d.first_lost)
                d.records = d.last_lost - d.first_lost + 1;
        }
        if ((rc = push_damage(sc, &d)))
            goto fail;
        if (prefix) {
            sc->bad = d.why;
            sc->torn = d.tail && r.file_size - off <= TORN_MAX;
            sc->torn_records = d.records ? d.records : 1;
            prefix = false;
        }
        sc->lost_records += d.records;
        sc->lost_bytes += d.len;
        off = next;
    }
    free(r.buf);
    close(r.fd);
    return 0;
fail:
    free(r.buf);
    close(r.fd);
    seg_scan_fini(sc);
    memset(sc, 0, sizeof *sc);
    return rc;
}

int seg_scan(const char *path, int shard, uint64_t first, struct seg_scan *sc)
{
    return seg_scan_from(path, shard, first, SEG_HDR, sc);
}

int seg_find_frame(int fd, const char *path, uint64_t from, uint64_t first, uint64_t *next)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return fin_err_errno(errno, "cannot stat", path);
    struct seg_reader r = {.fd = fd, .path = path, .file_size = (uint64_t)st.st_size,
                           .cap = SCAN_BLOCK};
    if (!(r.buf = malloc(r.cap)))
        return FIN_ENOMEM;
    int rc = seg_resync(&r, from, false, 0, 0, first, next);
    free(r.buf);
    return rc;
}

/* ---- index files ---- */

int idx_write(const struct fin_io *io, const char *path, const struct idx_file *f)
{
    size_t len = IDX_HDR + f->n * IDX_ENTRY;
    char *b = malloc(len);
    if (!b)
        return FIN_ENOMEM;
    memset(b, 0, IDX_HDR);
    memcpy(b, IDX_MAGIC, 8);
    put_u64(b + 8, f->log_size);
    put_u64(b + 16, f->first_counter);
    put_u64(b + 24, f->last_counter);
    put_u64(b + 32, (uint64_t)f->last_arrival);
    put_u32(b + 40, (uint32_t)f->n);
    for (size_t i = 0; i < f->n; i++) {
        char *e = b + IDX_HDR + i * IDX_ENTRY;
        put_u64(e, f->e[i].counter);
        put_u64(e + 8, f->e[i].offset);
        put_u64(e + 16, (uint64_t)f->e[i].arrival_ms);
    }
    put_u32(b + 44, fin_crc32c(fin_crc32c(0, b, 44), b + IDX_HDR, len - IDX_HDR));
    /* Replaced by rename so readers never see half an index, but not fsynced: an index
     * is derived data, and one damaged by a power loss fails its CRC and is rebuilt. */
    char tmp[PATH_MAX + 16];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int rc = 0;
    int fd = io->open(io->ctx, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        rc = fin_err_errno(errno, "cannot create", tmp);
    } else {
        if (fin_io_pwrite_all(io, fd, b, len, 0) != 0)
            rc = fin_err_errno(errno, "cannot write", tmp);
        io->close(io->ctx, fd);
        if (!rc && io->rename(io->ctx, tmp, path) != 0)
            rc = fin_err_errno(errno, "cannot rename", tmp);
        if (rc)
            io->unlink(io->ctx, tmp);
    }
    free(b);
    return rc;
}

int idx_read(const char *path, struct idx_file *f)
{
    memset(f, 0, sizeof *f);
    char *b = NULL;
    size_t len = 0;
    if (access(path, F_OK) != 0)
        return FIN_ENOENT;
    int rc = fin_read_file(path, &b, &len);
    if (rc)
        return rc;
    if (len < IDX_HDR || memcmp(b, IDX_MAGIC, 8) != 0 ||
        len != IDX_HDR + (size_t)get_u32(b + 40) * IDX_ENTRY ||
        get_u32(b + 44) != fin_crc32c(fin_crc32c(0, b, 44), b + IDX_HDR, len - IDX_HDR)) {
        free(b);
        return fin_err_set(FIN_ECORRUPT, "%s: damaged index", path);
    }
    f->log_size = get_u64(b + 8);
    f->first_counter = get_u64(b + 16);
    f->last_counter = get_u64(b + 24);
    f->last_arrival = (int64_t)get_u64(b + 32);
    f->n = get_u32(b + 40);
    f->e = f->n ? malloc(f->n * sizeof *f->e) : NULL;
    if (f->n && !f->e) {
        free(b);
        return FIN_ENOMEM;
    }
    for (size_t i = 0; i < f->n; i++) {
        const char *e = b + IDX_HDR + i * IDX_ENTRY;
        f->e[i].counter = get_u64(e);
        f->e[i].offset = get_u64(e + 8);
        f->e[i].arrival_ms = (int64_t)get_u64(e + 16);
    }
    free(b);
    return 0;
}
