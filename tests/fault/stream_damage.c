/* stream_damage.c - a segment truncated at every length and with bits flipped all over,
 * against what recovery promises:
 *
 *  - cut anywhere: the writer opens, keeps exactly the frames that are whole, warns, and
 *    numbers the next record past everything that was there;
 *  - a bit flipped in the last frame: a torn tail, cut off on open;
 *  - a bit flipped in any earlier frame: open refuses with FIN_ECORRUPT naming the
 *    segment and the frame's offset; readers stop there; check --fix keeps the frames
 *    before it and the stream works again.
 *
 * By default every 5th length and every 13th bit; FIN_FAULT_ITERATIONS set: all. */
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

/* Puts the segment back as bytes[0..len) with byte flip_at xor mask, as after a crash. */
static void damage(const struct image *im, size_t len, long flip_at, char mask)
{
    char clean[1200];
    snprintf(clean, sizeof clean, "%s/streams/d/clean", im->dir);
    unlink(clean);
    char idx[1200];
    snprintf(idx, sizeof idx, "%.*s.idx", (int)(strlen(im->seg) - 4), im->seg);
    unlink(idx);
    /* later segments made by an earlier --fix */
    char sd[1100];
    snprintf(sd, sizeof sd, "%s/streams/d/shardId-000000000000", im->dir);
    fin_remove_tree(sd);
    assert_int_equal(fin_mkdir_p(sd, 0755), 0);
    int fd = open(im->seg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, im->bytes, len), (ssize_t)len);
    if (flip_at >= 0) {
        char c = (char)(im->bytes[flip_at] ^ mask);
        assert_int_equal(pwrite(fd, &c, 1, flip_at), 1);
    }
    close(fd);
}

static int count_records(struct fin_stream *s, int *rc_out)
{
    struct fin_iter *it;
    assert_int_equal(fin_iter_open(&it, s, 0, FIN_ITER_TRIM_HORIZON, NULL, 0), 0);
    struct fin_record r;
    int n = 0, rc;
    while ((rc = fin_iter_next(it, &r)) == 0) {
        char want[32];
        int wl = snprintf(want, sizeof want, "record %d ", n);
        assert_memory_equal(r.data, want, (size_t)wl);
        n++;
    }
    fin_iter_close(it);
    *rc_out = rc;
    return n;
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
    int runs = 0;
    for (size_t len = SEG_HDR; len < im.len; len += (size_t)step_for(5), runs++) {
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
        if (len > im.off[whole]) {
            /* part of a frame was there: its number (whole + 1) is not handed out again */
            char partial[FIN_SEQ_LEN + 1];
            seq_format(partial, im.last_seq, (uint64_t)whole + 1);
            assert_true(strcmp(r.seq, partial) > 0);
        }
        fin_stream_close(s);
    }
    fin_log_set_level(FIN_LOG_INFO);
    printf("cut at %d lengths: each kept exactly the whole frames\n", runs);
    free(im.bytes);
    fin_test_rmdir(im.dir);
}

static void test_bits_flipped(void **state)
{
    (void)state;
    struct image im;
    build(&im);
    fin_log_set_level(FIN_LOG_ERROR + 1);
    int torn = 0, corrupt = 0, step = step_for(13);
    for (size_t bit = (size_t)SEG_HDR * 8; bit < im.len * 8; bit += (size_t)step) {
        size_t at = bit / 8;
        int k = 0;
        while (im.off[k + 1] <= at)
            k++;
        damage(&im, im.len, (long)at, (char)(1 << (bit % 8)));
        struct fin_stream *s;
        int rc = fin_stream_open(&s, im.dir, "d", FIN_STREAM_WRITE, NULL);
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
        /* readers stop at the frame, never passing it as data */
        assert_int_equal(fin_stream_open(&s, im.dir, "d", FIN_STREAM_READ, NULL), 0);
        int r2;
        assert_int_equal(count_records(s, &r2), k);
        assert_int_equal(r2, FIN_ECORRUPT);
        fin_stream_close(s);
        /* check --fix keeps the frames before it, and the stream works again */
        struct fin_check_report rep;
        assert_int_equal(fin_stream_check(im.dir, "d", true, &rep), 0);
        assert_int_equal(rep.dropped_bytes, im.len - im.off[k]);
        assert_int_equal(fin_stream_open(&s, im.dir, "d", FIN_STREAM_WRITE, NULL), 0);
        assert_int_equal(count_records(s, &r2), k);
        struct fin_put_result r;
        assert_int_equal(fin_stream_put(s, "key", 3, "after", 5, NULL, &r), 0);
        assert_true(strcmp(r.seq, im.last_seq) > 0);
        fin_stream_close(s);
        corrupt++;
    }
    fin_log_set_level(FIN_LOG_INFO);
    printf("flipped %d bits: %d in the last frame cut as a torn tail, %d refused as "
           "corruption and repaired by check --fix\n", torn + corrupt, torn, corrupt);
    free(im.bytes);
    fin_test_rmdir(im.dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_bits_flipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
