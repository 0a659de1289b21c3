/* stream_damage.c - a segment truncated at every length and with bits flipped all over,
 * header included, against what recovery and repair promise:
 *
 *  - cut anywhere: the writer opens, keeps exactly the frames that are whole, warns, and
 *    numbers the next record past everything that was there; a header cut short (a
 *    0-byte file too) holds no records and is written again;
 *  - a bit flipped in the header's magic, version, shard or first counter: the writer
 *    refuses; `check --fix` writes the header again and keeps every record;
 *  - a bit flipped in the last frame: a torn tail, cut off on open;
 *  - a bit flipped in any earlier frame: open refuses with FIN_ECORRUPT naming the
 *    segment and the frame's offset; readers stop there, or step over it when told to
 *    skip damage; `check --fix` removes exactly that frame, keeps every other record and
 *    reports one record lost; the stream then takes appends again;
 *  - after a clean close, damage in the last frames is refused, never appended after;
 *  - a zeroed 4 KiB page: repair keeps every record outside it and counts exactly the
 *    ones it held;
 *  - damaged headers of sealed and newest segments among intact ones: later segments
 *    stay reachable once repaired.
 *
 * By default every 11th length (every 3rd in the header) and every 41st bit;
 * FIN_FAULT_ITERATIONS set: all of them. */
#include "fin_test.h"

#include "finstream/error.h"
#include "finstream/log.h"
#include "finstream/stream.h"
#include "stream/internal.h"

#include <fcntl.h>
#include <sys/stat.h>

enum { N = 12 };

struct image {
    char *dir;
    char seg[1200];
    char *bytes;
    size_t len;
    size_t off[N + 1];   /* frame offsets; off[N] = end */
    char last_seq[FIN_SEQ_LEN + 1];
};

static void build(struct image *im)
{
    im->dir = fin_test_mkdtemp("damage");
    struct fin_stream_config cfg;
    fin_stream_config_defaults(&cfg);
    cfg.fsync = FIN_FSYNC_NEVER;   /* recovery judges bytes the same way; fsyncs only cost time */
    assert_int_equal(fin_stream_create(im->dir, "d", &cfg), 0);
    struct fin_stream *s;
    assert_int_equal(fin_stream_open(&s, im->dir, "d", FIN_STREAM_WRITE, NULL), 0);
    size_t pos = SEG_HDR;
    for (int i = 0; i < N; i++) {
        char d[128];
        int len = snprintf(d, sizeof d, "record %d %.*s", i, (i * 17) % 60, "................................................................");
        struct fin_put_result r;
        assert_int_equal(fin_stream_put(s, "key", 3, d, (size_t)len, NULL, &r), 0);
        im->off[i] = pos;
        pos += FRAME_HDR + 3 + (size_t)len;
        memcpy(im->last_seq, r.seq, sizeof im->last_seq);
    }
    im->off[N] = pos;
    uint64_t *v;
    size_t n;
    char sd[1100];
    snprintf(sd, sizeof sd, "%s/streams/d/shardId-000000000000", im->dir);
    assert_int_equal(seg_list(sd, s->shards[0].prefix, &v, &n), 0);
    assert_int_equal(n, 1);
    seg_path(im->seg, sizeof im->seg, sd, s->shards[0].prefix, v[0], SEG_SUFFIX);
    free(v);
    fin_stream_close(s);
    assert_int_equal(fin_read_file(im->seg, &im->bytes, &im->len), 0);
    assert_int_equal(im->len, pos);
}

/* Puts the segment back as bytes[0..len) with byte flip_at xor mask: as after a crash,
 * or (clean) as after a clean close, with the marker and the index in place. */
static void damage_as(const struct image *im, size_t len, long flip_at, char mask, bool clean)
{
    char sd[1100];
    snprintf(sd, sizeof sd, "%s/streams/d/shardId-000000000000", im->dir);
    if (clean) {
        /* a clean close of the intact image writes the marker and the index */
        damage_as(im, im->len, -1, 0, false);
        struct fin_stream *s;
        assert_int_equal(fin_stream_open(&s, im->dir, "d", FIN_STREAM_WRITE, NULL), 0);
        fin_stream_close(s);
    } else {
        char path[1200];
        snprintf(path, sizeof path, "%s/streams/d/clean", im->dir);
        unlink(path);
        /* later segments and indexes made by an earlier --fix or open */
        fin_remove_tree(sd);
        assert_int_equal(fin_mkdir_p(sd, 0755), 0);
    }
    int fd = open(im->seg, O_WRONLY | O_CREAT | (clean ? 0 : O_TRUNC), 0644);
    assert_true(fd >= 0);
    if (!clean)
        assert_int_equal(write(fd, im->bytes, len), (ssize_t)len);
    if (flip_at >= 0) {
        char c = (char)(im->bytes[flip_at] ^ mask);
        assert_int_equal(pwrite(fd, &c, 1, flip_at), 1);
    }
    close(fd);
}

static void damage(const struct image *im, size_t len, long flip_at, char mask)
{
    damage_as(im, len, flip_at, mask, false);
}

/* Reads shard 0 from the start: the record numbers found go to got[] (up to N + 4). */
static int read_records(struct fin_stream *s, bool skip, int *got, int *rc_out)
{
    struct fin_iter *it;
    int rc = fin_iter_open(&it, s, 0, FIN_ITER_TRIM_HORIZON, NULL, 0);
    if (rc) {
        *rc_out = rc;
        return 0;
    }
    fin_iter_skip_damaged(it, skip);
    struct fin_record r;
    int n = 0;
    while ((rc = fin_iter_next(it, &r)) == 0) {
        assert_true(n < N + 4);
        int k = -1;
        if (r.len > 7 && memcmp(r.data, "record ", 7) == 0)
            k = atoi(r.data + 7);
        got[n++] = k;
    }
    fin_iter_close(it);
    *rc_out = rc;
    return n;
}

static int count_records(struct fin_stream *s, int *rc_out)
{
    int got[N + 4];
    int n = read_records(s, false, got, rc_out);
    for (int i = 0; i < n; i++)
        assert_int_equal(got[i], i);
    return n;
}

/* All N records but `missing` (-1: none), in order. */
static void expect_all_but(struct fin_stream *s, bool skip, int missing)
{
    int got[N + 4], rc;
    int n = read_records(s, skip, got, &rc);
    assert_int_equal(rc, FIN_EEND);
    assert_int_equal(n, missing >= 0 ? N - 1 : N);
    for (int i = 0, k = 0; i < N; i++) {
        if (i == missing)
            continue;
        assert_int_equal(got[k++], i);
    }
}

static int step_for(int dflt)
{
    const char *env = getenv("FIN_FAULT_ITERATIONS");
    return env && atoi(env) > 0 ? 1 : dflt;
}

static void test_truncated_everywhere(void **state)
{
    (void)state;
    struct image im;
    build(&im);
    fin_log_set_level(FIN_LOG_ERROR);
    int runs = 0, headers = 0;
    for (size_t len = 0; len < im.len; len += (size_t)step_for(len < SEG_HDR ? 3 : 11), runs++) {
        damage(&im, len, -1, 0);
        int whole = 0;
        while (whole < N && im.off[whole + 1] <= len)
            whole++;
        struct fin_stream *s;
        if (fin_stream_open(&s, im.dir, "d", FIN_STREAM_WRITE, NULL) != 0)
            fail_msg("cut at %zu: open: %s", len, fin_err_msg());
        int rc;
        assert_int_equal(count_records(s, &rc), whole);
        assert_int_equal(rc, FIN_EEND);
        struct fin_put_result r;
        assert_int_equal(fin_stream_put(s, "key", 3, "after", 5, NULL, &r), 0);
        if (len > im.off[whole] && len >= SEG_HDR) {
            /* part of a frame was there: its number (whole + 1) is not handed out again */
            char partial[FIN_SEQ_LEN + 1];
            seq_format(partial, im.last_seq, (uint64_t)whole + 1);
            assert_true(strcmp(r.seq, partial) > 0);
        }
        if (len < SEG_HDR)
            headers++;
        fin_stream_close(s);
        /* and the result passes check */
        struct fin_check_report rep;
        assert_int_equal(fin_stream_check(im.dir, "d", false, &rep), 0);
    }
    fin_log_set_level(FIN_LOG_INFO);
    printf("cut at %d lengths (%d inside the header): each kept exactly the whole frames\n",
           runs, headers);
    free(im.bytes);
    fin_test_rmdir(im.dir);
}

static void test_bits_flipped(void **state)
{
    (void)state;
    struct image im;
    build(&im);
    fin_log_set_level(FIN_LOG_ERROR + 1);
    int torn = 0, corrupt = 0, header = 0, harmless = 0, step = step_for(41);
    for (size_t bit = 0; bit < im.len * 8; bit += (size_t)step) {
        size_t at = bit / 8;
        damage(&im, im.len, (long)at, (char)(1 << (bit % 8)));
        struct fin_stream *s;
        struct fin_check_report rep;
        int rc = fin_stream_open(&s, im.dir, "d", FIN_STREAM_WRITE, NULL);
        if (at >= 24 && at < SEG_HDR) {
            /* the creation time: informational, nothing depends on it */
            if (rc)
                fail_msg("bit %zu (header creation time): open: %s", bit, fin_err_msg());
            expect_all_but(s, false, -1);
            fin_stream_close(s);
            harmless++;
            continue;
        }
        if (at < SEG_HDR) {
            if (rc != FIN_ECORRUPT || !strstr(fin_err_msg(), im.seg) ||
                !strstr(fin_err_msg(), "check --fix"))
                fail_msg("bit %zu (header): open gave %d: %s", bit, rc, fin_err_msg());
            /* readers stop; skipping readers read on; --fix writes it again */
            assert_int_equal(fin_stream_open(&s, im.dir, "d", FIN_STREAM_READ, NULL), 0);
            int got[N + 4], r2;
            assert_int_equal(read_records(s, false, got, &r2), 0);
            assert_int_equal(r2, FIN_ECORRUPT);
            expect_all_but(s, true, -1);
            fin_stream_close(s);
            assert_int_equal(fin_stream_check(im.dir, "d", false, &rep), FIN_ECORRUPT);
            assert_int_equal(fin_stream_check(im.dir, "d", true, &rep), 0);
            assert_int_equal(rep.fixed, 1);
            assert_int_equal(rep.lost_records, 0);
            assert_int_equal(fin_stream_open(&s, im.dir, "d", FIN_STREAM_WRITE, NULL), 0);
            expect_all_but(s, false, -1);
            fin_stream_close(s);
            header++;
            continue;
        }
        int k = 0;
        while (im.off[k + 1] <= at)
            k++;
        if (k == N - 1) {
            /* the last frame: a torn tail */
            if (rc)
                fail_msg("bit %zu (last frame): open: %s", bit, fin_err_msg());
            int r2;
            assert_int_equal(count_records(s, &r2), N - 1);
            fin_stream_close(s);
            torn++;
            continue;
        }
        if (rc != FIN_ECORRUPT)
            fail_msg("bit %zu (frame %d): open gave %d, not FIN_ECORRUPT", bit, k, rc);
        char where[64];
        snprintf(where, sizeof where, "offset %zu:", im.off[k]);
        if (!strstr(fin_err_msg(), where) || !strstr(fin_err_msg(), im.seg))
            fail_msg("bit %zu (frame %d): message does not name %s: %s", bit, k, where,
                     fin_err_msg());
        /* readers stop at the frame, never passing it as data; skipping ones step over it */
        assert_int_equal(fin_stream_open(&s, im.dir, "d", FIN_STREAM_READ, NULL), 0);
        int r2;
        assert_int_equal(count_records(s, &r2), k);
        assert_int_equal(r2, FIN_ECORRUPT);
        expect_all_but(s, true, k);
        fin_stream_close(s);
        /* check --fix removes that frame alone and says so */
        assert_int_equal(fin_stream_check(im.dir, "d", false, &rep), FIN_ECORRUPT);
        assert_int_equal(fin_stream_check(im.dir, "d", true, &rep), 0);
        if (rep.dropped_bytes != im.off[k + 1] - im.off[k] || rep.lost_records != 1)
            fail_msg("bit %zu (frame %d): repair dropped %llu bytes, %llu records; %zu bytes, "
                     "1 record expected", bit, k, (unsigned long long)rep.dropped_bytes,
                     (unsigned long long)rep.lost_records, im.off[k + 1] - im.off[k]);
        assert_int_equal(fin_stream_open(&s, im.dir, "d", FIN_STREAM_WRITE, NULL), 0);
        expect_all_but(s, false, k);
        struct fin_put_result r;
        assert_int_equal(fin_stream_put(s, "key", 3, "after", 5, NULL, &r), 0);
        assert_true(strcmp(r.seq, im.last_seq) > 0);
        fin_stream_close(s);
        assert_int_equal(fin_stream_check(im.dir, "d", false, &rep), 0);
        corrupt++;
    }
    fin_log_set_level(FIN_LOG_INFO);
    printf("flipped %d bits: %d in the header refused and repaired, %d in its creation time "
           "harmless, %d in the last frame cut as a torn tail, %d refused as corruption and "
           "repaired by check --fix keeping every other record\n",
           torn + corrupt + header + harmless, header, harmless, torn, corrupt);
    free(im.bytes);
    fin_test_rmdir(im.dir);
}

/* After a clean close nothing is being appended: damage in the last frames is damage to
 * acknowledged records. The writer refuses to append after it; repair keeps the rest and
 * the appends that follow it. */
static void test_damage_after_clean_close(void **state)
{
    (void)state;
    struct image im;
    build(&im);
    fin_log_set_level(FIN_LOG_ERROR + 1);
    int frames[] = {N - 1, N - 3, 0};
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        int k = frames[i];
        damage_as(&im, im.len, (long)im.off[k] + FRAME_HDR + 5, 0x04, true);
        struct fin_stream *s;
        int rc = fin_stream_open(&s, im.dir, "d", FIN_STREAM_WRITE, NULL);
        if (rc == 0) {
            struct fin_put_result r;
            fin_stream_put(s, "key", 3, "acknowledged", 12, NULL, &r);
            fin_stream_close(s);
            fail_msg("frame %d damaged after a clean close: the writer appended after it", k);
        }
        assert_int_equal(rc, FIN_ECORRUPT);
        assert_non_null(strstr(fin_err_msg(), "check --fix"));
        struct fin_check_report rep;
        assert_int_equal(fin_stream_check(im.dir, "d", true, &rep), 0);
        assert_int_equal(rep.lost_records, 1);
        assert_int_equal(fin_stream_open(&s, im.dir, "d", FIN_STREAM_WRITE, NULL), 0);
        struct fin_put_result r;
        assert_int_equal(fin_stream_put(s, "key", 3, "record 99 ", 10, NULL, &r), 0);
        fin_stream_close(s);
        assert_int_equal(fin_stream_open(&s, im.dir, "d", FIN_STREAM_READ, NULL), 0);
        int got[N + 4], r2;
        int n = read_records(s, false, got, &r2);
        assert_int_equal(r2, FIN_EEND);
        assert_int_equal(n, N);   /* N - 1 intact, and the new one */
        assert_int_equal(got[N - 1], 99);
        fin_stream_close(s);
    }
    fin_log_set_level(FIN_LOG_INFO);
    free(im.bytes);
    fin_test_rmdir(im.dir);
}

/* A zeroed 4 KiB page in the middle of a segment of 3,000 records. */
static void test_zeroed_page(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("zeroed");
    struct fin_stream_config cfg;
    fin_stream_config_defaults(&cfg);
    cfg.fsync = FIN_FSYNC_NEVER;
    assert_int_equal(fin_stream_create(dir, "z", &cfg), 0);
    struct fin_stream *s;
    assert_int_equal(fin_stream_open(&s, dir, "z", FIN_STREAM_WRITE, NULL), 0);
    enum { M = 3000 };
    static size_t off[M + 1];
    size_t pos = SEG_HDR;
    for (int i = 0; i < M; i++) {
        char d[128];
        int len = snprintf(d, sizeof d, "{\"n\":%d,\"pad\":\"%.*s\"}", i, i % 50,
                           "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        assert_int_equal(fin_stream_put(s, "K", 1, d, (size_t)len, NULL, NULL), 0);
        off[i] = pos;
        pos += FRAME_HDR + 1 + (size_t)len;
    }
    off[M] = pos;
    char sd[1100], seg[1300];
    snprintf(sd, sizeof sd, "%s/streams/z/shardId-000000000000", dir);
    seg_path(seg, sizeof seg, sd, s->shards[0].prefix, 1, SEG_SUFFIX);
    fin_stream_close(s);
    size_t page = 64 * 1024;
    int fd = open(seg, O_WRONLY);
    char zero[4096] = {0};
    assert_int_equal(pwrite(fd, zero, sizeof zero, (off_t)page), (ssize_t)sizeof zero);
    close(fd);
    /* the frames that overlap the page are lost, and only they */
    int lo = 0, hi = 0;
    while (off[lo + 1] <= page)
        lo++;
    hi = lo;
    while (off[hi] < page + sizeof zero)
        hi++;
    int lost = hi - lo;
    fin_log_set_level(FIN_LOG_ERROR + 1);
    struct fin_check_report rep;
    assert_int_equal(fin_stream_check(dir, "z", true, &rep), 0);
    fin_log_set_level(FIN_LOG_INFO);
    assert_int_equal(rep.lost_records, lost);
    assert_int_equal(rep.dropped_bytes, off[hi] - off[lo]);
    assert_int_equal(fin_stream_open(&s, dir, "z", FIN_STREAM_READ, NULL), 0);
    struct fin_iter *it;
    assert_int_equal(fin_iter_open(&it, s, 0, FIN_ITER_TRIM_HORIZON, NULL, 0), 0);
    struct fin_record r;
    int n = 0, want = 0;
    while (fin_iter_next(it, &r) == 0) {
        if (want == lo)
            want = hi;
        char exp[32];
        int el = snprintf(exp, sizeof exp, "{\"n\":%d,", want);
        assert_memory_equal(r.data, exp, (size_t)el);
        want++;
        n++;
    }
    fin_iter_close(it);
    fin_stream_close(s);
    assert_int_equal(n, M - lost);
    printf("zeroed 4 KiB page: %d records lost (frames %d to %d), %d kept\n", lost, lo, hi - 1,
           n);
    fin_test_rmdir(dir);
}

/* Segments of a many-segment shard, by position. */
static void nth_segment(const char *dir, struct fin_stream *s, int k, char *out, size_t cap,
                        size_t *count)
{
    char sd[1100];
    snprintf(sd, sizeof sd, "%s/streams/h/shardId-000000000000", dir);
    uint64_t *v;
    size_t n;
    assert_int_equal(seg_list(sd, s->shards[0].prefix, &v, &n), 0);
    if (count)
        *count = n;
    int i = k < 0 ? (int)n + k : k;
    seg_path(out, cap, sd, s->shards[0].prefix, v[i], SEG_SUFFIX);
    free(v);
}

static int read_h(const char *dir, int *rc_out)
{
    struct fin_stream *s;
    assert_int_equal(fin_stream_open(&s, dir, "h", FIN_STREAM_READ, NULL), 0);
    struct fin_iter *it;
    int n = 0, rc = fin_iter_open(&it, s, 0, FIN_ITER_TRIM_HORIZON, NULL, 0);
    if (!rc) {
        struct fin_record r;
        while ((rc = fin_iter_next(it, &r)) == 0)
            n++;
        fin_iter_close(it);
    }
    fin_stream_close(s);
    *rc_out = rc;
    return n;
}

/* Headers of segments among intact ones: a 0-byte sealed segment, a bad magic, and a
 * 0-byte newest segment (what a power loss could leave when a segment's name reached
 * the disk before its header). */
static void test_segment_headers(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("headers");
    struct fin_stream_config cfg;
    fin_stream_config_defaults(&cfg);
    cfg.fsync = FIN_FSYNC_NEVER;
    cfg.segment_bytes = 1024;
    assert_int_equal(fin_stream_create(dir, "h", &cfg), 0);
    struct fin_stream *s;
    assert_int_equal(fin_stream_open(&s, dir, "h", FIN_STREAM_WRITE, NULL), 0);
    for (int i = 0; i < 200; i++)
        assert_int_equal(fin_stream_put(s, "K", 1, "0123456789012345678901234567890123456789",
                                        40, NULL, NULL), 0);
    fin_stream_close(s);
    int rc;
    assert_int_equal(read_h(dir, &rc), 200);
    fin_log_set_level(FIN_LOG_ERROR + 1);

    /* 1. a bad magic in the third segment: writer refuses, readers stop, repair keeps all */
    char seg[1300];
    size_t nseg;
    assert_int_equal(fin_stream_open(&s, dir, "h", FIN_STREAM_READ, NULL), 0);
    nth_segment(dir, s, 2, seg, sizeof seg, &nseg);
    fin_stream_close(s);
    assert_true(nseg > 5);
    int fd = open(seg, O_WRONLY);
    assert_int_equal(pwrite(fd, "XINSEG1\n", 8, 0), 8);
    close(fd);
    assert_int_equal(fin_stream_open(&s, dir, "h", FIN_STREAM_WRITE, NULL), FIN_ECORRUPT);
    assert_non_null(strstr(fin_err_msg(), "check --fix"));
    int before = read_h(dir, &rc);
    assert_int_equal(rc, FIN_ECORRUPT);
    struct fin_check_report rep;
    assert_int_equal(fin_stream_check(dir, "h", false, &rep), FIN_ECORRUPT);
    assert_int_equal(fin_stream_check(dir, "h", true, &rep), 0);
    assert_int_equal(rep.lost_records, 0);
    assert_int_equal(read_h(dir, &rc), 200);
    assert_int_equal(rc, FIN_EEND);

    /* 2. the second segment emptied: its records are gone, the later ones reachable */
    assert_int_equal(fin_stream_open(&s, dir, "h", FIN_STREAM_READ, NULL), 0);
    nth_segment(dir, s, 1, seg, sizeof seg, NULL);
    fin_stream_close(s);
    struct stat st;
    assert_int_equal(stat(seg, &st), 0);
    int in_seg = (int)((st.st_size - SEG_HDR) / (FRAME_HDR + 1 + 40));
    assert_int_equal(truncate(seg, 0), 0);
    assert_int_equal(read_h(dir, &rc), before - in_seg);   /* the first segment's */
    assert_int_equal(rc, FIN_ECORRUPT);
    assert_int_equal(fin_stream_check(dir, "h", true, &rep), 0);
    assert_true(rep.fixed >= 1 && rep.fixed == rep.problems);   /* the header, its index */
    assert_int_equal(read_h(dir, &rc), 200 - in_seg);
    assert_int_equal(rc, FIN_EEND);

    /* 3. a 0-byte newest segment: the writer writes its header again and appends */
    assert_int_equal(fin_stream_open(&s, dir, "h", FIN_STREAM_READ, NULL), 0);
    nth_segment(dir, s, -1, seg, sizeof seg, NULL);
    fin_stream_close(s);
    char newest[1400];
    /* a new, empty segment after the newest one, as a roll leaves it */
    uint64_t c;
    char name[FIN_SEQ_LEN + 1];
    memcpy(name, strrchr(seg, '/') + 1, FIN_SEQ_LEN);
    name[FIN_SEQ_LEN] = '\0';
    c = strtoull(name + 36, NULL, 10);
    snprintf(newest, sizeof newest, "%.*s%020llu.log", (int)(strrchr(seg, '/') + 1 - seg + 36),
             seg, (unsigned long long)(c + 1000));
    fd = open(newest, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    close(fd);
    assert_int_equal(read_h(dir, &rc), 200 - in_seg);
    assert_int_equal(rc, FIN_ECORRUPT);   /* readers stop at it until it is repaired */
    assert_int_equal(fin_stream_open(&s, dir, "h", FIN_STREAM_WRITE, NULL), 0);
    struct fin_put_result r;
    assert_int_equal(fin_stream_put(s, "K", 1, "after", 5, NULL, &r), 0);
    assert_true(strtoull(r.seq + 36, NULL, 10) >= c + 1000);
    fin_stream_close(s);
    fin_log_set_level(FIN_LOG_INFO);
    assert_int_equal(read_h(dir, &rc), 200 - in_seg + 1);
    assert_int_equal(rc, FIN_EEND);
    assert_int_equal(fin_stream_check(dir, "h", false, &rep), 0);
    fin_test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_bits_flipped),
        cmocka_unit_test(test_damage_after_clean_close),
        cmocka_unit_test(test_zeroed_page),
        cmocka_unit_test(test_segment_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
