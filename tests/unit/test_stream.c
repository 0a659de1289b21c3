/* test_stream.c - the stream: CRC32C, frames, hash keys and shards, puts and the five
 * iterator types (at segment edges too), retention with a fake clock, checkpoints,
 * limits, the writer lock, recovery of torn and corrupted logs, and failed writes and
 * fsyncs injected through the file-I/O seam. */
#include "fin_test.h"

#include "finstream/clock.h"
#include "finstream/crc32c.h"
#include "finstream/error.h"
#include "finstream/io.h"
#include "finstream/log.h"
#include "finstream/stream.h"
#include "stream/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>

/* ---- helpers ---- */

static char *make_stream(const char *tag, const char *name, int shards, int fsync,
                         int64_t segment_bytes)
{
    char *dir = fin_test_mkdtemp(tag);
    struct fin_stream_config cfg;
    fin_stream_config_defaults(&cfg);
    cfg.shards = shards;
    cfg.fsync = fsync;
    if (segment_bytes)
        cfg.segment_bytes = segment_bytes;
    assert_int_equal(fin_stream_create(dir, name, &cfg), 0);
    return dir;
}

static int put_str(struct fin_stream *s, const char *key, const char *data,
                   struct fin_put_result *res)
{
    return fin_stream_put(s, key, strlen(key), data, strlen(data), NULL, res);
}

/* Reads all of shard with an iterator of type; returns how many, the data in out[]. */
static size_t read_all(struct fin_stream *s, int shard, enum fin_iter_type type, const char *seq,
                       int64_t ts, char out[][64], char seqs[][FIN_SEQ_LEN + 1], size_t max)
{
    struct fin_iter *it;
    assert_int_equal(fin_iter_open(&it, s, shard, type, seq, ts), 0);
    struct fin_record r;
    size_t n = 0;
    int rc;
    while ((rc = fin_iter_next(it, &r)) == 0) {
        assert_true(n < max);
        assert_true(r.len < 64);
        memcpy(out[n], r.data, r.len);
        out[n][r.len] = '\0';
        if (seqs)
            memcpy(seqs[n], r.seq, FIN_SEQ_LEN + 1);
        n++;
    }
    assert_int_equal(rc, FIN_EEND);
    fin_iter_close(it);
    return n;
}

static char *segment_file(const char *dir, const char *name, int shard, int which)
{
    char sd[1024];
    snprintf(sd, sizeof sd, "%s/streams/%s/shardId-%012d", dir, name, shard);
    struct fin_stream *s;
    assert_int_equal(fin_stream_open(&s, dir, name, FIN_STREAM_READ, NULL), 0);
    uint64_t *v;
    size_t n;
    assert_int_equal(seg_list(sd, s->shards[shard].prefix, &v, &n), 0);
    assert_true(n > 0);
    char *p = malloc(1200);
    seg_path(p, 1200, sd, s->shards[shard].prefix, which < 0 ? v[n - 1] : v[which], SEG_SUFFIX);
    free(v);
    fin_stream_close(s);
    return p;
}

static long file_size(const char *p)
{
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    return (long)st.st_size;
}

/* ---- CRC32C ---- */

static void test_crc32c(void **state)
{
    (void)state;
    assert_int_equal(fin_crc32c(0, "123456789", 9), 0xe3069283u);
    assert_int_equal(fin_crc32c_sw(0, "123456789", 9), 0xe3069283u);
    unsigned char z[32] = {0};
    assert_int_equal(fin_crc32c(0, z, 32), 0x8a9136aau);   /* RFC 3720 B.4: 32 zero bytes */
    unsigned char b[4099];
    for (size_t i = 0; i < sizeof b; i++)
        b[i] = (unsigned char)(i * 131 + 7);
    for (size_t n = 0; n < sizeof b; n += 97) {
        assert_int_equal(fin_crc32c(0, b, n), fin_crc32c_sw(0, b, n));
        /* chaining gives the same as one pass */
        assert_int_equal(fin_crc32c(fin_crc32c(0, b, n / 3), b + n / 3, n - n / 3),
                         fin_crc32c(0, b, n));
    }
}

/* ---- frames ---- */

static void test_frame(void **state)
{
    (void)state;
    char buf[256];
    size_t n = frame_encode(buf, 42, 1700000000123, "FB", 2, "hello", 5);
    assert_int_equal(n, FRAME_HDR + 2 + 5);
    struct frame f;
    size_t need;
    assert_int_equal(frame_decode(buf, n, &f, &need), FRAME_OK);
    assert_int_equal(f.len, n);
    assert_int_equal(f.counter, 42);
    assert_int_equal(f.arrival_ms, 1700000000123);
    assert_memory_equal(f.key, "FB", 2);
    assert_memory_equal(f.data, "hello", 5);
    /* every truncation is short, never a frame */
    for (size_t k = 0; k < n; k++)
        assert_int_equal(frame_decode(buf, k, &f, &need), FRAME_SHORT);
    /* every single bit flip is caught */
    for (size_t bit = 0; bit < n * 8; bit++) {
        buf[bit / 8] ^= (char)(1 << (bit % 8));
        assert_int_not_equal(frame_decode(buf, n, &f, &need), FRAME_OK);
        buf[bit / 8] ^= (char)(1 << (bit % 8));
    }
    assert_int_equal(frame_decode(buf, n, &f, &need), FRAME_OK);
}

/* ---- sequence numbers, hash keys and shards ---- */

static void test_seq(void **state)
{
    (void)state;
    char p[SEQ_PREFIX_LEN + 1], seq[FIN_SEQ_LEN + 1];
    seq_prefix(p, 1764150000, 3);
    seq_format(seq, p, 12345);
    assert_string_equal(seq, "49001764150000000000000003000000000000000000000000012345");
    uint64_t c;
    assert_int_equal(seq_parse(seq, p, &c), 0);
    assert_int_equal(c, 12345);
    seq_format(seq, p, UINT64_MAX);
    assert_int_equal(seq_parse(seq, p, &c), 0);
    assert_true(c == UINT64_MAX);
    char other[SEQ_PREFIX_LEN + 1];
    seq_prefix(other, 1764150000, 4);
    assert_int_equal(seq_parse(seq, other, &c), FIN_EINVAL);
    assert_int_equal(seq_parse("123", p, &c), FIN_EINVAL);
}

static void test_hash_ranges(void **state)
{
    (void)state;
    char b[40];
    hash_key_format(hash_range_start(1, 2), b);
    assert_string_equal(b, "170141183460469231731687303715884105728");
    hash_key_format(hash_range_start(1, 3), b);
    assert_string_equal(b, "113427455640312821154458202477256070485");
    hash_key_format(hash_range_start(2, 3), b);
    assert_string_equal(b, "226854911280625642308916404954512140970");
    hash_key_format(~(u128)0, b);
    assert_string_equal(b, "340282366920938463463374607431768211455");
    u128 v;
    assert_int_equal(hash_key_parse("340282366920938463463374607431768211455", &v), 0);
    assert_true(v == ~(u128)0);
    assert_int_equal(hash_key_parse("340282366920938463463374607431768211456", &v), FIN_ELIMIT);
    assert_int_equal(hash_key_parse("12x", &v), FIN_EINVAL);
}

/* MD5 values computed independently (Python's hashlib): the digest as a big-endian
 * 128-bit number, and the shard for 1, 2, 3 and 4 even shards. */
static const struct {
    const char *key;
    const char *md5;
    int shard[4];
} keys[] = {
    {"FB", "64426650691812253184863925585890136539", {0, 0, 0, 0}},
    {"SHOP", "167557395988176912738963701824571366324", {0, 0, 1, 1}},
    {"AAPL", "184850406388112911326934670974242359210", {0, 1, 1, 2}},
    {"MSFT", "233968545763494879677766337165905886050", {0, 1, 2, 2}},
    {"partitionKey-0", "283893945402358862714065952676399797471", {0, 1, 2, 3}},
};

static void test_shard_for_key(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        u128 h;
        char b[40];
        hash_key_md5(keys[i].key, strlen(keys[i].key), &h);
        hash_key_format(h, b);
        assert_string_equal(b, keys[i].md5);
        hash_key_md5(keys[i].key, strlen(keys[i].key), &h);   /* from the cache */
        hash_key_format(h, b);
        assert_string_equal(b, keys[i].md5);
    }
    for (int n = 1; n <= 4; n++) {
        char name[16];
        snprintf(name, sizeof name, "s%d", n);
        char *dir = make_stream("hash", name, n, FIN_FSYNC_NEVER, 0);
        struct fin_stream *s;
        assert_int_equal(fin_stream_open(&s, dir, name, FIN_STREAM_WRITE, NULL), 0);
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            const char *k = keys[i].key;
            assert_int_equal(fin_stream_shard_for_key(s, k, strlen(k), NULL), keys[i].shard[n - 1]);
            assert_int_equal(fin_stream_shard_for_key(s, "x", 1, keys[i].md5), keys[i].shard[n - 1]);
            struct fin_put_result r;
            assert_int_equal(put_str(s, k, "v", &r), 0);
            assert_int_equal(r.shard, keys[i].shard[n - 1]);
        }
        /* the edges of the ranges */
        if (n == 2) {
            assert_int_equal(fin_stream_shard_for_key(s, "x", 1, "170141183460469231731687303715884105727"), 0);
            assert_int_equal(fin_stream_shard_for_key(s, "x", 1, "170141183460469231731687303715884105728"), 1);
            struct fin_put_result r;
            assert_int_equal(fin_stream_put(s, "k", 1, "d", 1, "0", &r), 0);
            assert_int_equal(r.shard, 0);
            assert_int_equal(fin_stream_put(s, "k", 1, "d", 1, "340282366920938463463374607431768211455", &r), 0);
            assert_int_equal(r.shard, 1);
            assert_int_equal(fin_stream_put(s, "k", 1, "d", 1, "-1", &r), FIN_EINVAL);
        }
        fin_stream_close(s);
        fin_test_rmdir(dir);
    }
}

/* ---- puts and iterators ---- */

static void test_put_get(void **state)
{
    (void)state;
    char *dir = make_stream("putget", "t", 1, FIN_FSYNC_ALWAYS, 0);
    struct fin_stream *s;
    assert_int_equal(fin_stream_open(&s, dir, "t", FIN_STREAM_WRITE, NULL), 0);
    char prev[FIN_SEQ_LEN + 1] = "";
    for (int i = 0; i < 50; i++) {
        char d[32];
        snprintf(d, sizeof d, "rec-%d", i);
        struct fin_put_result r;
        assert_int_equal(put_str(s, "AAPL", d, &r), 0);
        assert_int_equal(strlen(r.seq), FIN_SEQ_LEN);
        assert_true(strcmp(r.seq, prev) > 0);
        memcpy(prev, r.seq, sizeof prev);
    }
    static char out[200][64];
    static char seqs[200][FIN_SEQ_LEN + 1];
    assert_int_equal(read_all(s, 0, FIN_ITER_TRIM_HORIZON, NULL, 0, out, seqs, 200), 50);
    assert_string_equal(out[0], "rec-0");
    assert_string_equal(out[49], "rec-49");
    assert_string_equal(seqs[49], prev);
    fin_stream_close(s);

    /* A reader in "another process" (a second open for reading) sees the same. */
    assert_int_equal(fin_stream_open(&s, dir, "t", FIN_STREAM_READ, NULL), 0);
    assert_int_equal(read_all(s, 0, FIN_ITER_TRIM_HORIZON, NULL, 0, out, seqs, 200), 50);
    assert_string_equal(out[17], "rec-17");
    fin_stream_close(s);

    /* Reopen for writing after a clean close: numbering continues. */
    assert_int_equal(fin_stream_open(&s, dir, "t", FIN_STREAM_WRITE, NULL), 0);
    struct fin_put_result r;
    assert_int_equal(put_str(s, "AAPL", "after", &r), 0);
    assert_true(strcmp(r.seq, prev) > 0);
    fin_stream_close(s);
    fin_test_rmdir(dir);
}

static void test_iterators_at_segment_edges(void **state)
{
    (void)state;
    /* 1 KiB segments and 100-byte frames: about nine records a segment. */
    char *dir = make_stream("edges", "e", 1, FIN_FSYNC_NEVER, 1024);
    struct fin_fake_clock fc;
    fin_fake_clock_init(&fc, 1700000000LL * FIN_NS_PER_SEC);
    struct fin_stream *s;
    assert_int_equal(fin_stream_open(&s, dir, "e", FIN_STREAM_WRITE, &fc.clock), 0);
    enum { N = 60 };
    static char seq[N][FIN_SEQ_LEN + 1];
    int64_t ts[N];
    for (int i = 0; i < N; i++) {
        char d[80];
        snprintf(d, sizeof d, "%-60d", i);
        struct fin_put_result r;
        ts[i] = fc.now / FIN_NS_PER_MS;
        assert_int_equal(put_str(s, "KEY", d, &r), 0);
        memcpy(seq[i], r.seq, sizeof seq[i]);
        fin_fake_clock_advance(&fc, 10 * FIN_NS_PER_MS);
    }
    assert_int_equal(fin_stream_sync(s), 0);
    struct fin_shard_info info;
    assert_int_equal(fin_stream_shard_info(s, 0, &info), 0);
    assert_true(info.segments >= 6);
    assert_string_equal(info.first_seq, seq[0]);
    assert_string_equal(info.last_seq, seq[N - 1]);

    static char out[N][64];
    for (int i = 0; i < N; i++) {
        size_t n = read_all(s, 0, FIN_ITER_AT_SEQUENCE_NUMBER, seq[i], 0, out, NULL, N);
        assert_int_equal(n, N - i);
        assert_int_equal(atoi(out[0]), i);
        n = read_all(s, 0, FIN_ITER_AFTER_SEQUENCE_NUMBER, seq[i], 0, out, NULL, N);
        assert_int_equal(n, N - i - 1);
        if (n)
            assert_int_equal(atoi(out[0]), i + 1);
        n = read_all(s, 0, FIN_ITER_AT_TIMESTAMP, NULL, ts[i], out, NULL, N);
        assert_int_equal(n, N - i);
        assert_int_equal(atoi(out[0]), i);
        n = read_all(s, 0, FIN_ITER_AT_TIMESTAMP, NULL, ts[i] - 5, out, NULL, N);
        assert_int_equal(n, N - i);
    }
    assert_int_equal(read_all(s, 0, FIN_ITER_AT_TIMESTAMP, NULL, ts[N - 1] + 1, out, NULL, N), 0);
    /* the same from a reader that only has the files */
    struct fin_stream *r;
    assert_int_equal(fin_stream_open(&r, dir, "e", FIN_STREAM_READ, NULL), 0);
    for (int i = 0; i < N; i += 7)
        assert_int_equal(read_all(r, 0, FIN_ITER_AT_SEQUENCE_NUMBER, seq[i], 0, out, NULL, N), N - i);

    /* LATEST sees nothing old, then follows the tail across segment rolls, also from
     * the other reader. */
    struct fin_iter *lt, *lr;
    assert_int_equal(fin_iter_open(&lt, s, 0, FIN_ITER_LATEST, NULL, 0), 0);
    assert_int_equal(fin_iter_open(&lr, r, 0, FIN_ITER_LATEST, NULL, 0), 0);
    struct fin_record rec;
    assert_int_equal(fin_iter_next(lt, &rec), FIN_EEND);
    assert_int_equal(fin_iter_next(lr, &rec), FIN_EEND);
    for (int i = 0; i < 30; i++) {
        char d[80];
        snprintf(d, sizeof d, "%-60d", 1000 + i);
        assert_int_equal(put_str(s, "KEY", d, NULL), 0);
        assert_int_equal(fin_iter_next(lt, &rec), 0);
        assert_int_equal(atoi(rec.data), 1000 + i);
        if (i % 3 == 2) {
            assert_int_equal(fin_stream_sync(s), 0);
            for (int k = i - 2; k <= i; k++) {
                assert_int_equal(fin_iter_next(lr, &rec), 0);
                assert_int_equal(atoi(rec.data), 1000 + k);
            }
            assert_int_equal(fin_iter_next(lr, &rec), FIN_EEND);
        }
        assert_int_equal(fin_iter_next(lt, &rec), FIN_EEND);
    }
    fin_iter_close(lt);
    fin_iter_close(lr);
    struct fin_iter *bad;
    assert_int_equal(fin_iter_open(&bad, s, 0, FIN_ITER_AT_SEQUENCE_NUMBER, "42", 0), FIN_EINVAL);
    assert_int_equal(fin_iter_open(&bad, s, 1, FIN_ITER_TRIM_HORIZON, NULL, 0), FIN_EINVAL);
    fin_stream_close(r);
    fin_stream_close(s);
    fin_test_rmdir(dir);
}

/* ---- retention ---- */

/* A retention change is saved with the stream and in force at once. */
static void test_set_retention(void **state)
{
    (void)state;
    char *dir = make_stream("setret", "r", 1, FIN_FSYNC_NEVER, 1024);
    struct fin_fake_clock fc;
    int64_t hour = 3600LL * FIN_NS_PER_SEC;
    fin_fake_clock_init(&fc, 1700000000LL * FIN_NS_PER_SEC);
    struct fin_stream *s;
    assert_int_equal(fin_stream_open(&s, dir, "r", FIN_STREAM_WRITE, &fc.clock), 0);
    char d[80];
    memset(d, 'x', 50);
    d[50] = '\0';
    for (int i = 0; i < 40; i++)
        assert_int_equal(put_str(s, "K", d, NULL), 0);
    assert_int_equal(fin_stream_sync(s), 0);
    struct fin_shard_info before, after;
    assert_int_equal(fin_stream_shard_info(s, 0, &before), 0);
    assert_int_equal(fin_stream_set_retention(s, 48 * 3600 * 1000LL), 0);
    fin_fake_clock_advance(&fc, 30 * hour);     /* past the old 24 h, within the new 48 h */
    assert_int_equal(fin_stream_apply_retention(s), 0);
    assert_int_equal(fin_stream_shard_info(s, 0, &after), 0);
    assert_int_equal(after.segments, before.segments);
    assert_int_equal(fin_stream_set_retention(s, 0), FIN_EINVAL);
    fin_stream_close(s);
    assert_int_equal(fin_stream_open(&s, dir, "r", FIN_STREAM_READ, &fc.clock), 0);
    assert_int_equal(fin_stream_get_config(s)->retention_ms, 48 * 3600 * 1000LL);
    fin_stream_close(s);
    fin_test_rmdir(dir);
}

static void test_retention(void **state)
{
    (void)state;
    char *dir = make_stream("retention", "r", 1, FIN_FSYNC_NEVER, 1024);
    struct fin_fake_clock fc;
    int64_t day = 24LL * 3600 * FIN_NS_PER_SEC;
    fin_fake_clock_init(&fc, 1700000000LL * FIN_NS_PER_SEC);
    struct fin_stream *s;
    assert_int_equal(fin_stream_open(&s, dir, "r", FIN_STREAM_WRITE, &fc.clock), 0);
    char d[80];
    memset(d, 'x', 50);
    d[50] = '\0';
    for (int i = 0; i < 40; i++)
        assert_int_equal(put_str(s, "K", d, NULL), 0);
    fin_fake_clock_advance(&fc, day / 2);
    struct fin_put_result keep;
    assert_int_equal(put_str(s, "K", "kept", &keep), 0);
    for (int i = 0; i < 20; i++)
        assert_int_equal(put_str(s, "K", d, NULL), 0);
    assert_int_equal(fin_stream_sync(s), 0);
    struct fin_shard_info before;
    assert_int_equal(fin_stream_shard_info(s, 0, &before), 0);

    /* 23 h after the first records: nothing is past 24 h yet */
    fin_fake_clock_advance(&fc, day / 2 - 3600 * FIN_NS_PER_SEC);
    assert_int_equal(fin_stream_apply_retention(s), 0);
    struct fin_shard_info info;
    assert_int_equal(fin_stream_shard_info(s, 0, &info), 0);
    assert_int_equal(info.segments, before.segments);

    /* 25 h: the first 40 records' segments go, the newer ones stay */
    fin_fake_clock_advance(&fc, 2 * 3600 * FIN_NS_PER_SEC);
    assert_int_equal(fin_stream_apply_retention(s), 0);
    assert_int_equal(fin_stream_shard_info(s, 0, &info), 0);
    assert_true(info.segments < before.segments);
    static char out[100][64];
    size_t n = read_all(s, 0, FIN_ITER_TRIM_HORIZON, NULL, 0, out, NULL, 100);
    assert_true(n >= 21 && n < 61);
    size_t k = 0;
    while (k < n && strcmp(out[k], "kept") != 0)
        k++;
    assert_true(k < n);

    /* Days later everything but the active segment is gone; numbering still goes on. */
    fin_fake_clock_advance(&fc, 10 * day);
    assert_int_equal(fin_stream_apply_retention(s), 0);
    assert_int_equal(fin_stream_shard_info(s, 0, &info), 0);
    assert_int_equal(info.segments, 1);
    fin_stream_close(s);
    assert_int_equal(fin_stream_open(&s, dir, "r", FIN_STREAM_WRITE, &fc.clock), 0);
    struct fin_put_result r;
    assert_int_equal(put_str(s, "K", "new", &r), 0);
    assert_true(strcmp(r.seq, before.last_seq) > 0);
    fin_stream_close(s);
    fin_test_rmdir(dir);
}

/* ---- checkpoints, limits, names, the writer lock ---- */

static void test_checkpoints_and_limits(void **state)
{
    (void)state;
    char *dir = make_stream("limits", "l", 2, FIN_FSYNC_NEVER, 0);
    struct fin_stream *s;
    assert_int_equal(fin_stream_open(&s, dir, "l", FIN_STREAM_WRITE, NULL), 0);

    struct fin_put_result r;
    assert_int_equal(put_str(s, "AAPL", "x", &r), 0);
    char seq[FIN_SEQ_LEN + 1];
    assert_int_equal(fin_stream_checkpoint_load(s, "lake", r.shard, seq), FIN_ENOENT);
    assert_int_equal(fin_stream_checkpoint_save(s, "lake", r.shard, r.seq), 0);
    assert_int_equal(fin_stream_checkpoint_load(s, "lake", r.shard, seq), 0);
    assert_string_equal(seq, r.seq);
    assert_int_equal(fin_stream_checkpoint_save(s, "../evil", 0, r.seq), FIN_EINVAL);
    assert_int_equal(fin_stream_checkpoint_save(s, "lake", 1 - r.shard, r.seq), FIN_EINVAL);

    char *big = calloc(1, FIN_STREAM_MAX_DATA + 1);
    char key[FIN_STREAM_MAX_KEY + 2];
    memset(key, 'k', sizeof key);
    assert_int_equal(fin_stream_put(s, key, FIN_STREAM_MAX_KEY, big, FIN_STREAM_MAX_DATA, NULL, &r), 0);
    assert_int_equal(fin_stream_put(s, key, FIN_STREAM_MAX_KEY + 1, "d", 1, NULL, NULL), FIN_ELIMIT);
    assert_non_null(strstr(fin_err_msg(), "partition key"));
    assert_int_equal(fin_stream_put(s, key, 0, "d", 1, NULL, NULL), FIN_ELIMIT);
    assert_int_equal(fin_stream_put(s, "k", 1, big, FIN_STREAM_MAX_DATA + 1, NULL, NULL), FIN_ELIMIT);
    assert_non_null(strstr(fin_err_msg(), "1048577 bytes"));
    /* a batch stops at the bad record: the ones before it are in */
    struct fin_put_entry e[3] = {{"a", 1, "1", 1}, {"b", 1, "2", 1}, {"", 0, "3", 1}};
    struct fin_put_result rs[3];
    assert_int_equal(fin_stream_put_batch(s, e, 3, rs), FIN_ELIMIT);
    assert_non_null(strstr(fin_err_msg(), "record 3"));
    assert_int_equal(strlen(rs[1].seq), FIN_SEQ_LEN);
    free(big);

    /* one writer at a time, and the second is told who holds it */
    struct fin_stream *w2;
    assert_int_equal(fin_stream_open(&w2, dir, "l", FIN_STREAM_WRITE, NULL), FIN_EBUSY);
    char pid[32];
    snprintf(pid, sizeof pid, "process %ld", (long)getpid());
    assert_non_null(strstr(fin_err_msg(), pid));
    assert_int_equal(fin_stream_delete(dir, "l"), FIN_EBUSY);
    fin_stream_close(s);

    /* names */
    struct fin_stream_config cfg;
    fin_stream_config_defaults(&cfg);
    const char *bad[] = {"", ".", "..", "../x", "a/b", "a b", "x\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_not_equal(fin_stream_create(dir, bad[i], &cfg), 0);
    char longname[FIN_STREAM_MAX_NAME + 2];
    memset(longname, 'n', sizeof longname);
    longname[FIN_STREAM_MAX_NAME] = '\0';
    assert_int_equal(fin_stream_create(dir, longname, &cfg), 0);
    longname[FIN_STREAM_MAX_NAME] = 'n';
    longname[FIN_STREAM_MAX_NAME + 1] = '\0';
    assert_int_not_equal(fin_stream_create(dir, longname, &cfg), 0);
    assert_int_equal(fin_stream_create(dir, "l", &cfg), FIN_EEXIST);
    assert_int_equal(fin_stream_open(&s, dir, "nope", FIN_STREAM_READ, NULL), FIN_ENOENT);
    assert_int_not_equal(fin_stream_open(&s, dir, "../l", FIN_STREAM_READ, NULL), 0);

    char **names;
    size_t n;
    assert_int_equal(fin_stream_list(dir, &names, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "l");
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    assert_int_equal(fin_stream_delete(dir, "l"), 0);
    assert_int_equal(fin_stream_list(dir, &names, &n), 0);
    assert_int_equal(n, 1);
    free(names[0]);
    free(names);
    fin_test_rmdir(dir);
}

/* ---- recovery ---- */

static void fill(struct fin_stream *s, int from, int n, char seqs[][FIN_SEQ_LEN + 1])
{
    for (int i = from; i < from + n; i++) {
        char d[64];
        snprintf(d, sizeof d, "record-%04d", i);
        struct fin_put_result r;
        assert_int_equal(put_str(s, "K", d, &r), 0);
        if (seqs)
            memcpy(seqs[i], r.seq, FIN_SEQ_LEN + 1);
    }
}

static void test_torn_tail(void **state)
{
    (void)state;
    char *dir = make_stream("torn", "t", 1, FIN_FSYNC_ALWAYS, 0);
    struct fin_stream *s;
    static char seqs[20][FIN_SEQ_LEN + 1];
    assert_int_equal(fin_stream_open(&s, dir, "t", FIN_STREAM_WRITE, NULL), 0);
    fill(s, 0, 10, seqs);
    /* a crash: no close, so no clean marker; the writer lock goes with the descriptor */
    s->mode = FIN_STREAM_READ;
    stream_thread_stop(s);
    for (int i = 0; i < s->nshards; i++)
        close(s->shards[i].fd);
    fin_stream_close(s);

    char *seg = segment_file(dir, "t", 0, -1);
    long size = file_size(seg);
    /* a roll interrupted by the crash left a temporary segment behind */
    char left[1300];
    snprintf(left, sizeof left, "%.*s99.log.tmp", (int)strlen(seg) - 6, seg);
    FILE *lf = fopen(left, "w");
    assert_non_null(lf);
    fclose(lf);
    /* cut the last frame in half: a torn tail */
    assert_int_equal(truncate(seg, size - 10), 0);
    assert_int_equal(fin_stream_open(&s, dir, "t", FIN_STREAM_WRITE, NULL), 0);
    static char out[40][64];
    assert_int_equal(read_all(s, 0, FIN_ITER_TRIM_HORIZON, NULL, 0, out, NULL, 40), 9);
    assert_string_equal(out[8], "record-0008");
    assert_false(fin_path_exists(left));
    struct fin_put_result r;
    assert_int_equal(put_str(s, "K", "next", &r), 0);
    /* never reused: the torn record's number is skipped */
    assert_true(strcmp(r.seq, seqs[9]) > 0);
    fin_stream_close(s);

    /* garbage appended after a clean close is a torn tail too (the marker is checked
     * against the file) */
    int fd = open(seg, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "\x40\x00\x00\x00garbage", 11), 11);
    close(fd);
    assert_int_equal(fin_stream_open(&s, dir, "t", FIN_STREAM_WRITE, NULL), 0);
    assert_int_equal(read_all(s, 0, FIN_ITER_TRIM_HORIZON, NULL, 0, out, NULL, 40), 10);
    fin_stream_close(s);
    free(seg);
    fin_test_rmdir(dir);
}

static void test_corruption(void **state)
{
    (void)state;
    char *dir = make_stream("corrupt", "c", 1, FIN_FSYNC_ALWAYS, 0);
    struct fin_stream *s;
    static char seqs[20][FIN_SEQ_LEN + 1];
    assert_int_equal(fin_stream_open(&s, dir, "c", FIN_STREAM_WRITE, NULL), 0);
    fill(s, 0, 10, seqs);
    fin_stream_close(s);
    char *seg = segment_file(dir, "c", 0, -1);
    char clean[2000];
    snprintf(clean, sizeof clean, "%s/streams/c/clean", dir);
    unlink(clean);   /* as after a crash */

    /* flip one bit in the data of record 4: good frames follow, so it is corruption */
    int frame = FRAME_HDR + 1 + 11;
    off_t off = SEG_HDR + 4 * frame + FRAME_HDR + 3;
    int fd = open(seg, O_RDWR);
    char c;
    assert_int_equal(pread(fd, &c, 1, off), 1);
    c ^= 0x10;
    assert_int_equal(pwrite(fd, &c, 1, off), 1);
    close(fd);
    assert_int_equal(fin_stream_open(&s, dir, "c", FIN_STREAM_WRITE, NULL), FIN_ECORRUPT);
    char where[64];
    snprintf(where, sizeof where, "offset %d", SEG_HDR + 4 * frame);
    assert_non_null(strstr(fin_err_msg(), where));
    assert_non_null(strstr(fin_err_msg(), seg));
    assert_non_null(strstr(fin_err_msg(), "check --fix"));

    /* readers refuse to pass the bad frame as data */
    assert_int_equal(fin_stream_open(&s, dir, "c", FIN_STREAM_READ, NULL), 0);
    struct fin_iter *it;
    struct fin_record rec;
    assert_int_equal(fin_iter_open(&it, s, 0, FIN_ITER_TRIM_HORIZON, NULL, 0), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(fin_iter_next(it, &rec), 0);
    assert_int_equal(fin_iter_next(it, &rec), FIN_ECORRUPT);
    fin_iter_close(it);
    fin_stream_close(s);

    struct fin_check_report rep;
    fin_log_set_level(FIN_LOG_ERROR);
    assert_int_equal(fin_stream_check(dir, "c", false, &rep), FIN_ECORRUPT);
    assert_int_equal(rep.problems, 1);
    assert_int_equal(fin_stream_check(dir, "c", true, &rep), 0);
    assert_int_equal(rep.fixed, 1);
    /* only the damaged frame goes: the five intact records after it are kept */
    assert_int_equal(rep.dropped_bytes, frame);
    assert_int_equal(rep.lost_records, 1);
    assert_int_equal(fin_stream_check(dir, "c", false, &rep), 0);
    assert_int_equal(rep.records, 9);
    fin_log_set_level(FIN_LOG_INFO);

    assert_int_equal(fin_stream_open(&s, dir, "c", FIN_STREAM_WRITE, NULL), 0);
    static char out[40][64];
    assert_int_equal(read_all(s, 0, FIN_ITER_TRIM_HORIZON, NULL, 0, out, NULL, 40), 9);
    assert_string_equal(out[3], "record-0003");
    assert_string_equal(out[4], "record-0005");
    assert_string_equal(out[8], "record-0009");
    struct fin_put_result r;
    assert_int_equal(put_str(s, "K", "next", &r), 0);
    assert_true(strcmp(r.seq, seqs[9]) > 0);
    fin_stream_close(s);
    free(seg);
    fin_test_rmdir(dir);
}

static void test_check_indexes(void **state)
{
    (void)state;
    char *dir = make_stream("checkidx", "i", 1, FIN_FSYNC_INTERVAL, 1024);
    struct fin_stream *s;
    assert_int_equal(fin_stream_open(&s, dir, "i", FIN_STREAM_WRITE, NULL), 0);
    fill(s, 0, 200, NULL);
    fin_stream_close(s);
    struct fin_check_report rep;
    assert_int_equal(fin_stream_check(dir, "i", false, &rep), 0);
    assert_int_equal(rep.records, 200);
    assert_true(rep.segments > 5);
    char *seg = segment_file(dir, "i", 0, 1);
    strcpy(seg + strlen(seg) - 4, ".idx");
    assert_int_equal(unlink(seg), 0);
    fin_log_set_level(FIN_LOG_ERROR);
    assert_int_equal(fin_stream_check(dir, "i", false, &rep), FIN_ECORRUPT);
    assert_int_equal(fin_stream_check(dir, "i", true, &rep), 0);
    fin_log_set_level(FIN_LOG_INFO);
    assert_true(fin_path_exists(seg));
    /* and opening rebuilds a missing index by itself */
    assert_int_equal(unlink(seg), 0);
    assert_int_equal(fin_stream_open(&s, dir, "i", FIN_STREAM_WRITE, NULL), 0);
    assert_true(fin_path_exists(seg));
    fin_stream_close(s);
    free(seg);
    fin_test_rmdir(dir);
}

/* ---- failures injected through the file-I/O seam ---- */

struct faulty {
    struct fin_io io;
    int pwrites, fsyncs;         /* calls so far */
    int fail_pwrite, fail_fsync; /* fail that call (1-based), 0: never */
    bool short_first;            /* write half of the buffer before failing */
};

static ssize_t f_pwrite(void *ctx, int fd, const void *b, size_t n, off_t off)
{
    struct faulty *f = ctx;
    if (++f->pwrites == f->fail_pwrite) {
        if (f->short_first && n > 1) {
            f->fail_pwrite++;   /* the retry of the rest fails */
            return fin_io_real()->pwrite(NULL, fd, b, n / 2, off);
        }
        errno = ENOSPC;
        return -1;
    }
    return fin_io_real()->pwrite(NULL, fd, b, n, off);
}

static int f_fsync(void *ctx, int fd)
{
    struct faulty *f = ctx;
    if (++f->fsyncs == f->fail_fsync) {
        errno = EIO;
        return -1;
    }
    return fsync(fd);
}

static void faulty_init(struct faulty *f)
{
    memset(f, 0, sizeof *f);
    f->io = *fin_io_real();
    f->io.pwrite = f_pwrite;
    f->io.fsync = f_fsync;
    f->io.ctx = f;
}

static void check_failed_put(int fail_pwrite, int fail_fsync, bool short_first)
{
    char *dir = make_stream("inject", "f", 1, FIN_FSYNC_ALWAYS, 0);
    struct faulty f;
    faulty_init(&f);
    struct fin_stream *s;
    assert_int_equal(fin_stream_open_io(&s, dir, "f", FIN_STREAM_WRITE, NULL, &f.io), 0);
    static char seqs[20][FIN_SEQ_LEN + 1];
    fill(s, 0, 5, seqs);
    f.fail_pwrite = fail_pwrite ? f.pwrites + fail_pwrite : 0;
    f.fail_fsync = fail_fsync ? f.fsyncs + fail_fsync : 0;
    f.short_first = short_first;
    struct fin_put_result r;
    int rc = put_str(s, "K", "lost", &r);
    assert_true(rc == FIN_ENOSPC || rc == FIN_EIO);
    assert_non_null(strstr(fin_err_msg(), ".log"));
    /* the fault clears: puts work again */
    fill(s, 5, 5, seqs);
    assert_true(strcmp(seqs[5], r.seq) > 0);
    static char out[40][64];
    assert_int_equal(read_all(s, 0, FIN_ITER_TRIM_HORIZON, NULL, 0, out, NULL, 40), 10);
    for (int i = 0; i < 10; i++) {
        char d[64];
        snprintf(d, sizeof d, "record-%04d", i);
        assert_string_equal(out[i], d);
    }
    fin_stream_close(s);
    /* and the log on disk is sound */
    struct fin_check_report rep;
    assert_int_equal(fin_stream_check(dir, "f", false, &rep), 0);
    assert_int_equal(rep.records, 10);
    fin_test_rmdir(dir);
}

static void test_injected_failures(void **state)
{
    (void)state;
    check_failed_put(1, 0, false);
    check_failed_put(1, 0, true);
    check_failed_put(0, 1, false);
}

/* ---- group commit under threads ---- */

struct producer {
    struct fin_stream *s;
    int id, n;
    char (*seqs)[FIN_SEQ_LEN + 1];
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    char key[16];
    snprintf(key, sizeof key, "P%d", p->id);
    for (int i = 0; i < p->n; i++) {
        char d[32];
        snprintf(d, sizeof d, "%d:%d", p->id, i);
        struct fin_put_result r;
        if (fin_stream_put(p->s, key, strlen(key), d, strlen(d), NULL, &r) != 0)
            return (void *)1;
        memcpy(p->seqs[i], r.seq, FIN_SEQ_LEN + 1);
    }
    return NULL;
}

static void test_group_commit(void **state)
{
    (void)state;
    char *dir = make_stream("group", "g", 2, FIN_FSYNC_ALWAYS, 64 * 1024);
    struct fin_stream *s;
    assert_int_equal(fin_stream_open(&s, dir, "g", FIN_STREAM_WRITE, NULL), 0);
    enum { T = 8, N = 300 };
    struct producer p[T];
    pthread_t th[T];
    static char seqs[T][N][FIN_SEQ_LEN + 1];
    for (int t = 0; t < T; t++) {
        p[t] = (struct producer){s, t, N, seqs[t]};
        assert_int_equal(pthread_create(&th[t], NULL, produce, &p[t]), 0);
    }
    for (int t = 0; t < T; t++) {
        void *ret;
        pthread_join(th[t], &ret);
        assert_null(ret);
        for (int i = 1; i < N; i++)
            assert_true(strcmp(seqs[t][i], seqs[t][i - 1]) > 0);   /* order per key */
    }
    fin_stream_close(s);
    /* every record is there once, in each producer's order */
    assert_int_equal(fin_stream_open(&s, dir, "g", FIN_STREAM_READ, NULL), 0);
    int next[T] = {0};
    size_t total = 0;
    for (int sh = 0; sh < 2; sh++) {
        struct fin_iter *it;
        struct fin_record r;
        assert_int_equal(fin_iter_open(&it, s, sh, FIN_ITER_TRIM_HORIZON, NULL, 0), 0);
        int rc;
        while ((rc = fin_iter_next(it, &r)) == 0) {
            int t, i;
            char d[32];
            memcpy(d, r.data, r.len);
            d[r.len] = '\0';
            assert_int_equal(sscanf(d, "%d:%d", &t, &i), 2);
            assert_int_equal(i, next[t]);
            assert_string_equal(r.seq, seqs[t][i]);
            next[t]++;
            total++;
        }
        assert_int_equal(rc, FIN_EEND);
        fin_iter_close(it);
    }
    assert_int_equal(total, T * N);
    fin_stream_close(s);
    fin_test_rmdir(dir);
}

/* Batches from several threads that overflow the write buffers again and again: every
 * wait for a flush lets the others refill the buffer, and no frame may land past its end. */
struct batcher {
    struct fin_stream *s;
    int id;
};

enum { BATCH = 150, BLEN = 900, ROUNDS = 6 };

static void *produce_batches(void *arg)
{
    struct batcher *b = arg;
    static _Thread_local char data[BATCH][BLEN];
    for (int round = 0; round < ROUNDS; round++) {
        struct fin_put_entry e[BATCH];
        for (int i = 0; i < BATCH; i++) {
            memset(data[i], '.', BLEN);
            snprintf(data[i], BLEN, "%d:%d:%d:", b->id, round, i);
            e[i] = (struct fin_put_entry){"K", 1, data[i], BLEN};
        }
        if (fin_stream_put_batch(b->s, e, BATCH, NULL) != 0)
            return (void *)1;
    }
    return NULL;
}

static void test_group_commit_batches(void **state)
{
    (void)state;
    /* 64 shards make the write buffers small (256 KiB), and every record goes to the
     * shard of key "K", so the buffer overflows many times per round. */
    char *dir = make_stream("batches", "b", 64, FIN_FSYNC_ALWAYS, 1 << 20);
    struct fin_stream *s;
    assert_int_equal(fin_stream_open(&s, dir, "b", FIN_STREAM_WRITE, NULL), 0);
    int shard = fin_stream_shard_for_key(s, "K", 1, NULL);
    enum { T = 8 };
    pthread_t th[T];
    struct batcher b[T];
    for (int t = 0; t < T; t++) {
        b[t] = (struct batcher){s, t};
        assert_int_equal(pthread_create(&th[t], NULL, produce_batches, &b[t]), 0);
    }
    for (int t = 0; t < T; t++) {
        void *ret;
        pthread_join(th[t], &ret);
        assert_null(ret);
    }
    fin_stream_close(s);
    struct fin_check_report rep;
    assert_int_equal(fin_stream_check(dir, "b", false, &rep), 0);
    assert_int_equal(rep.records, T * ROUNDS * BATCH);
    /* each thread's records complete and in its order */
    assert_int_equal(fin_stream_open(&s, dir, "b", FIN_STREAM_READ, NULL), 0);
    struct fin_iter *it;
    struct fin_record r;
    int next[T] = {0};
    assert_int_equal(fin_iter_open(&it, s, shard, FIN_ITER_TRIM_HORIZON, NULL, 0), 0);
    while (fin_iter_next(it, &r) == 0) {
        int t, round, i;
        assert_int_equal(r.len, BLEN);
        assert_int_equal(sscanf(r.data, "%d:%d:%d:", &t, &round, &i), 3);
        assert_int_equal(round * BATCH + i, next[t]);
        assert_int_equal(r.data[BLEN - 1], '.');
        next[t]++;
    }
    fin_iter_close(it);
    for (int t = 0; t < T; t++)
        assert_int_equal(next[t], ROUNDS * BATCH);
    fin_stream_close(s);
    fin_test_rmdir(dir);
}

/* fsync = interval: a slow fsync must not hold back any shard's writes. Every fsync here
 * blocks until the test lets it go; meanwhile records put to each of three shards must
 * still reach their segment files (what kill -9 cannot lose) within the writer's tick. */
struct stall_io {
    struct fin_io io;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stall;
    int stalled;   /* fsyncs waiting now */
};

static int st_fsync(void *c, int fd)
{
    struct stall_io *o = c;
    pthread_mutex_lock(&o->mu);
    o->stalled++;
    pthread_cond_broadcast(&o->cv);
    while (o->stall)
        pthread_cond_wait(&o->cv, &o->mu);
    o->stalled--;
    pthread_mutex_unlock(&o->mu);
    return fsync(fd);
}

static long shard_bytes(const char *dir, const char *name, int shard)
{
    char *seg = segment_file(dir, name, shard, -1);
    long n = file_size(seg);
    free(seg);
    return n;
}

static void test_interval_writes_not_held_by_fsync(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("stall");
    struct fin_stream_config cfg;
    fin_stream_config_defaults(&cfg);
    cfg.shards = 3;
    cfg.fsync = FIN_FSYNC_INTERVAL;
    cfg.fsync_interval_ms = 1;
    assert_int_equal(fin_stream_create(dir, "st", &cfg), 0);
    struct stall_io o = {.io = *fin_io_real(), .stall = true};
    o.io.fsync = st_fsync;
    o.io.ctx = &o;
    pthread_mutex_init(&o.mu, NULL);
    pthread_cond_init(&o.cv, NULL);
    struct fin_stream *s;
    assert_int_equal(fin_stream_open_io(&s, dir, "st", FIN_STREAM_WRITE, NULL, &o.io), 0);
    /* a record in shard 0 gets written, and its fsync stalls */
    char key[32];
    int k0 = 0;
    do
        snprintf(key, sizeof key, "k%d", k0++);
    while (fin_stream_shard_for_key(s, key, strlen(key), NULL) != 0);
    assert_int_equal(put_str(s, key, "first", NULL), 0);
    int64_t deadline = fin_mono_ns(fin_clock_real()) + 20 * FIN_NS_PER_SEC;
    pthread_mutex_lock(&o.mu);
    while (o.stalled == 0 && fin_mono_ns(fin_clock_real()) < deadline) {
        pthread_mutex_unlock(&o.mu);
        usleep(1000);
        pthread_mutex_lock(&o.mu);
    }
    int stalled = o.stalled;
    pthread_mutex_unlock(&o.mu);
    assert_true(stalled > 0);
    /* now records for every shard: each must reach its file while the fsync hangs */
    long before[3];
    for (int i = 0; i < 3; i++)
        before[i] = shard_bytes(dir, "st", i);
    bool put_to[3] = {false, false, false};
    for (int k = 0; k < 64; k++) {
        snprintf(key, sizeof key, "x%d", k);
        int sh = fin_stream_shard_for_key(s, key, strlen(key), NULL);
        assert_int_equal(put_str(s, key, "while an fsync hangs", NULL), 0);
        put_to[sh] = true;
    }
    assert_true(put_to[0] && put_to[1] && put_to[2]);
    bool all = false;
    while (!all && fin_mono_ns(fin_clock_real()) < deadline) {
        all = true;
        for (int i = 0; i < 3; i++)
            all = all && shard_bytes(dir, "st", i) > before[i];
        if (!all)
            usleep(1000);
    }
    pthread_mutex_lock(&o.mu);
    o.stall = false;
    pthread_cond_broadcast(&o.cv);
    pthread_mutex_unlock(&o.mu);
    if (!all)
        fail_msg("records stayed in the write buffer while an fsync hung: %ld %ld %ld bytes",
                 shard_bytes(dir, "st", 0), shard_bytes(dir, "st", 1), shard_bytes(dir, "st", 2));
    fin_stream_close(s);
    pthread_cond_destroy(&o.cv);
    pthread_mutex_destroy(&o.mu);
    fin_test_rmdir(dir);
}

/* Under fsync = always no write of a segment may go unsynced before the next one, even
 * when an in-process reader or the background thread asks for the buffer to be written. */
struct order_io {
    struct fin_io io;
    pthread_mutex_t mu;
    bool is_log[1024];
    bool pending[1024];   /* a write not yet followed by an fsync */
    int violations, writes;
};

static int o_open(void *c, const char *p, int fl, mode_t m)
{
    struct order_io *o = c;
    int fd = fin_io_real()->open(NULL, p, fl, m);
    if (fd >= 0 && fd < 1024) {
        pthread_mutex_lock(&o->mu);
        size_t n = strlen(p);
        o->is_log[fd] = n > 4 && strcmp(p + n - 4, ".log") == 0;
        o->pending[fd] = false;
        pthread_mutex_unlock(&o->mu);
    }
    return fd;
}

static ssize_t o_pwrite(void *c, int fd, const void *b, size_t n, off_t off)
{
    struct order_io *o = c;
    pthread_mutex_lock(&o->mu);
    if (o->is_log[fd]) {
        if (o->pending[fd])
            o->violations++;
        o->pending[fd] = true;
        o->writes++;
    }
    pthread_mutex_unlock(&o->mu);
    return fin_io_real()->pwrite(NULL, fd, b, n, off);
}

static int o_fsync(void *c, int fd)
{
    struct order_io *o = c;
    int r = fsync(fd);
    pthread_mutex_lock(&o->mu);
    o->pending[fd] = false;
    pthread_mutex_unlock(&o->mu);
    return r;
}

struct reader_arg {
    struct fin_stream *s;
    bool stop;   /* set with __atomic_store_n */
    long seen;
};

static void *keep_reading(void *arg)
{
    struct reader_arg *a = arg;
    struct fin_iter *it;
    if (fin_iter_open(&it, a->s, 0, FIN_ITER_TRIM_HORIZON, NULL, 0) != 0)
        return (void *)1;
    struct fin_record r;
    while (!__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE)) {
        int rc = fin_iter_next(it, &r);
        if (rc == 0)
            a->seen++;
        else if (rc != FIN_EEND)
            return (void *)1;
    }
    fin_iter_close(it);
    return NULL;
}

static void test_always_syncs_every_write(void **state)
{
    (void)state;
    char *dir = make_stream("order", "o", 1, FIN_FSYNC_ALWAYS, 0);
    struct order_io o = {0};
    pthread_mutex_init(&o.mu, NULL);
    o.io = *fin_io_real();
    o.io.open = o_open;
    o.io.pwrite = o_pwrite;
    o.io.fsync = o_fsync;
    o.io.ctx = &o;
    struct fin_stream *s;
    assert_int_equal(fin_stream_open_io(&s, dir, "o", FIN_STREAM_WRITE, NULL, &o.io), 0);
    struct reader_arg ra = {s, false, 0};
    pthread_t rt, th[4];
    assert_int_equal(pthread_create(&rt, NULL, keep_reading, &ra), 0);
    static char seqs[4][300][FIN_SEQ_LEN + 1];
    struct producer p[4];
    for (int t = 0; t < 4; t++) {
        p[t] = (struct producer){s, t, 300, seqs[t]};
        assert_int_equal(pthread_create(&th[t], NULL, produce, &p[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        void *ret;
        pthread_join(th[t], &ret);
        assert_null(ret);
    }
    __atomic_store_n(&ra.stop, true, __ATOMIC_RELEASE);
    void *ret;
    pthread_join(rt, &ret);
    assert_null(ret);
    fin_stream_close(s);
    assert_true(o.writes > 0);
    assert_int_equal(o.violations, 0);
    pthread_mutex_destroy(&o.mu);
    fin_test_rmdir(dir);
}

/* With interval and never, a producer that fills a buffer hands it to the background
 * thread and fills the other one meanwhile: nothing may be lost or reordered. */
static void test_background_writes(void **state)
{
    (void)state;
    for (int policy = FIN_FSYNC_INTERVAL; policy <= FIN_FSYNC_NEVER; policy++) {
        /* 64 shards: 256 KiB buffers, filled a dozen times by one key's records */
        char *dir = make_stream("background", "w", 64, policy, 1 << 20);
        struct fin_stream *s;
        assert_int_equal(fin_stream_open(&s, dir, "w", FIN_STREAM_WRITE, NULL), 0);
        enum { M = 30000 };
        char d[128];
        memset(d, '-', sizeof d);
        for (int i = 0; i < M; i++) {
            int n = snprintf(d, sizeof d, "%d", i);
            d[n] = '-';
            assert_int_equal(fin_stream_put(s, "K", 1, d, 100, NULL, NULL), 0);
        }
        int shard = fin_stream_shard_for_key(s, "K", 1, NULL);
        struct fin_iter *it;
        struct fin_record r;
        assert_int_equal(fin_iter_open(&it, s, shard, FIN_ITER_TRIM_HORIZON, NULL, 0), 0);
        int next = 0;
        while (fin_iter_next(it, &r) == 0) {
            assert_int_equal(atoi(r.data), next);
            assert_int_equal(r.len, 100);
            next++;
        }
        assert_int_equal(next, M);
        fin_iter_close(it);
        fin_stream_close(s);
        fin_test_rmdir(dir);
    }
}

static void test_config_table(void **state)
{
    (void)state;
    struct fin_ini ini;
    assert_int_equal(fin_ini_load_string(&ini, "[stream \"stocks\"]\nshards = 2\nretention = 48h\n"
                                         "fsync = interval\nfsync_interval = 250ms\n"
                                         "segment_size = 1MiB\n", "test.ini"), 0);
    struct fin_stream_config cfg;
    assert_int_equal(fin_stream_config_from_ini(&ini, "stocks", &cfg), 0);
    assert_int_equal(cfg.shards, 2);
    assert_int_equal(cfg.retention_ms, 48LL * 3600 * 1000);
    assert_int_equal(cfg.fsync, FIN_FSYNC_INTERVAL);
    assert_int_equal(cfg.fsync_interval_ms, 250);
    assert_int_equal(cfg.segment_bytes, 1 << 20);
    assert_int_equal(fin_stream_config_from_ini(&ini, "other", &cfg), 0);
    assert_int_equal(cfg.shards, 1);
    fin_ini_fini(&ini);
    assert_int_equal(fin_ini_load_string(&ini, "[stream \"x\"]\nshard = 2\n", "test.ini"), 0);
    assert_int_equal(fin_stream_config_from_ini(&ini, "x", &cfg), FIN_ECONFIG);
    assert_non_null(strstr(fin_err_msg(), "test.ini:2"));
    assert_non_null(strstr(fin_err_msg(), "shard"));
    fin_ini_fini(&ini);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test(test_frame),
        cmocka_unit_test(test_seq),
        cmocka_unit_test(test_hash_ranges),
        cmocka_unit_test(test_shard_for_key),
        cmocka_unit_test(test_put_get),
        cmocka_unit_test(test_iterators_at_segment_edges),
        cmocka_unit_test(test_retention),
        cmocka_unit_test(test_checkpoints_and_limits),
        cmocka_unit_test(test_torn_tail),
        cmocka_unit_test(test_corruption),
        cmocka_unit_test(test_check_indexes),
        cmocka_unit_test(test_injected_failures),
        cmocka_unit_test(test_group_commit),
        cmocka_unit_test(test_group_commit_batches),
        cmocka_unit_test(test_always_syncs_every_write),
        cmocka_unit_test(test_background_writes),
        cmocka_unit_test(test_interval_writes_not_held_by_fsync),
        cmocka_unit_test(test_config_table),
        cmocka_unit_test(test_set_retention),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
