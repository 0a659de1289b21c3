/* test_reshard.c - resharding of streams: the hash-key ranges Kinesis gives children of a
 * split (at the middle and at a chosen key) and of a merge, the errors it gives for closed
 * shards, bad keys and shards that are not adjacent, UpdateShardCount's even layout,
 * routing to open shards only, per-key order across splits while producers run, the map
 * surviving a reopen, readers noticing another handle's split, retention removing a
 * closed parent, and failed file operations during a split leaving the old map or the
 * new one. */
#include "fin_test.h"

#include "finstream/clock.h"
#include "finstream/error.h"
#include "finstream/io.h"
#include "finstream/log.h"
#include "finstream/stream.h"
#include "stream/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>

#define H127M1 "170141183460469231731687303715884105727"   /* 2^127 - 1 */
#define H127   "170141183460469231731687303715884105728"   /* 2^127 */
#define H128M1 "340282366920938463463374607431768211455"   /* 2^128 - 1 */

static char *make_stream(const char *tag, const char *name, int shards, int fsync)
{
    char *dir = fin_test_mkdtemp(tag);
    struct fin_stream_config cfg;
    fin_stream_config_defaults(&cfg);
    cfg.shards = shards;
    cfg.fsync = fsync;
    cfg.segment_bytes = 4096;
    assert_int_equal(fin_stream_create(dir, name, &cfg), 0);
    return dir;
}

/* The shard called id in the list, or NULL. */
static const struct fin_shard_desc *find(const struct fin_shard_desc *v, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].id, id))
            return &v[i];
    return NULL;
}

static void expect_shard(const struct fin_shard_desc *v, size_t n, const char *id,
                         const char *start, const char *end, const char *parent,
                         const char *adjacent, bool closed)
{
    const struct fin_shard_desc *d = find(v, n, id);
    if (!d)
        fail_msg("no %s in the shard list", id);
    assert_string_equal(d->hash_start, start);
    assert_string_equal(d->hash_end, end);
    assert_string_equal(d->parent, parent);
    assert_string_equal(d->adjacent_parent, adjacent);
    assert_int_equal(d->closed, closed);
    assert_int_equal(strlen(d->starting_seq), FIN_SEQ_LEN);
    assert_int_equal(strlen(d->ending_seq), closed ? FIN_SEQ_LEN : 0);
}

static void put_key(struct fin_stream *s, const char *key, const char *data,
                    struct fin_put_result *r)
{
    assert_int_equal(fin_stream_put(s, key, strlen(key), data, strlen(data), NULL, r), 0);
}

/* ---- ranges and errors ---- */

static void test_split_ranges(void **state)
{
    (void)state;
    char *dir = make_stream("split", "s", 1, FIN_FSYNC_NEVER);
    struct fin_stream *s;
    assert_int_equal(fin_stream_open(&s, dir, "s", FIN_STREAM_WRITE, NULL), 0);
    struct fin_put_result r;
    put_key(s, "A", "before", &r);
    assert_int_equal(fin_stream_split_shard(s, "shardId-000000000000", NULL), 0);

    struct fin_shard_desc *v;
    size_t n;
    assert_int_equal(fin_stream_list_shards(s, &v, &n), 0);
    assert_int_equal(n, 3);
    expect_shard(v, n, "shardId-000000000000", "0", H128M1, "", "", true);
    expect_shard(v, n, "shardId-000000000001", "0", H127M1, "shardId-000000000000", "", false);
    expect_shard(v, n, "shardId-000000000002", H127, H128M1, "shardId-000000000000", "", false);
    /* the parent's ending sequence number is the last one it gave out */
    assert_string_equal(find(v, n, "shardId-000000000000")->ending_seq, r.seq);
    /* children number after their parent */
    assert_true(strcmp(find(v, n, "shardId-000000000001")->starting_seq, r.seq) > 0);
    free(v);
    assert_int_equal(fin_stream_shard_count(s), 3);
    assert_int_equal(fin_stream_open_shard_count(s), 2);

    /* a chosen key: the lower child ends just below it */
    assert_int_equal(fin_stream_split_shard(s, "shardId-000000000002", "200000000000000000000000000000000000000"), 0);
    assert_int_equal(fin_stream_list_shards(s, &v, &n), 0);
    assert_int_equal(n, 5);
    expect_shard(v, n, "shardId-000000000003", H127, "199999999999999999999999999999999999999",
                 "shardId-000000000002", "", false);
    expect_shard(v, n, "shardId-000000000004", "200000000000000000000000000000000000000", H128M1,
                 "shardId-000000000002", "", false);
    free(v);

    /* Kinesis' refusals */
    assert_int_equal(fin_stream_split_shard(s, "shardId-000000000000", NULL), FIN_EINVAL);
    assert_string_equal(fin_err_msg(), "Shard shardId-000000000000 in stream s has already been "
                        "merged or split, and thus is not eligible for merging or splitting.");
    assert_int_equal(fin_stream_split_shard(s, "shardId-000000000001", "0"), FIN_EINVAL);
    assert_non_null(strstr(fin_err_msg(), "NewStartingHashKey 0 used in SplitShard() on shard "
                                          "shardId-000000000001 in stream s"));
    assert_int_equal(fin_stream_split_shard(s, "shardId-000000000001", H127), FIN_EINVAL);
    assert_int_equal(fin_stream_split_shard(s, "shardId-000000000001", "12x"), FIN_EINVAL);
    assert_int_equal(fin_stream_split_shard(s, "shardId-000000000009", NULL), FIN_ENOENT);
    assert_string_equal(fin_err_msg(), "Could not find shard shardId-000000000009 in stream s.");
    assert_int_equal(fin_stream_split_shard(s, "shard-9", NULL), FIN_EINVAL);
    fin_stream_close(s);

    /* a two-shard stream: shard 0 halves at 2^126 */
    char *dir2 = make_stream("split2", "t", 2, FIN_FSYNC_NEVER);
    assert_int_equal(fin_stream_open(&s, dir2, "t", FIN_STREAM_WRITE, NULL), 0);
    assert_int_equal(fin_stream_split_shard(s, "shardId-000000000000", NULL), 0);
    assert_int_equal(fin_stream_list_shards(s, &v, &n), 0);
    expect_shard(v, n, "shardId-000000000002", "0", "85070591730234615865843651857942052863",
                 "shardId-000000000000", "", false);
    expect_shard(v, n, "shardId-000000000003", "85070591730234615865843651857942052864", H127M1,
                 "shardId-000000000000", "", false);
    free(v);
    fin_stream_close(s);

    /* read-only handles cannot reshard */
    assert_int_equal(fin_stream_open(&s, dir2, "t", FIN_STREAM_READ, NULL), 0);
    assert_int_equal(fin_stream_split_shard(s, "shardId-000000000001", NULL), FIN_EINVAL);
    fin_stream_close(s);
    fin_test_rmdir(dir);
    fin_test_rmdir(dir2);
}

static void test_merge(void **state)
{
    (void)state;
    char *dir = make_stream("merge", "m", 4, FIN_FSYNC_NEVER);
    struct fin_stream *s;
    assert_int_equal(fin_stream_open(&s, dir, "m", FIN_STREAM_WRITE, NULL), 0);
    assert_int_equal(fin_stream_merge_shards(s, "shardId-000000000000", "shardId-000000000002"),
                     FIN_EINVAL);
    assert_string_equal(fin_err_msg(), "Shards shardId-000000000000 and shardId-000000000002 in "
                        "stream m are not an adjacent pair of shards eligible for merging");
    /* order does not matter: the child spans both, parent and adjacent as given */
    assert_int_equal(fin_stream_merge_shards(s, "shardId-000000000001", "shardId-000000000000"), 0);
    assert_int_equal(fin_stream_merge_shards(s, "shardId-000000000000", "shardId-000000000003"),
                     FIN_EINVAL);
    assert_non_null(strstr(fin_err_msg(), "has already been merged or split"));
    struct fin_shard_desc *v;
    size_t n;
    assert_int_equal(fin_stream_list_shards(s, &v, &n), 0);
    assert_int_equal(n, 5);
    expect_shard(v, n, "shardId-000000000004", "0", H127M1, "shardId-000000000001",
                 "shardId-000000000000", false);
    expect_shard(v, n, "shardId-000000000000", "0", "85070591730234615865843651857942052863",
                 "", "", true);
    free(v);
    assert_int_equal(fin_stream_merge_shards(s, "shardId-000000000004", "shardId-000000000003"),
                     FIN_EINVAL);
    assert_int_equal(fin_stream_merge_shards(s, "shardId-000000000002", "shardId-000000000004"), 0);
    assert_int_equal(fin_stream_merge_shards(s, "shardId-000000000005", "shardId-000000000003"), 0);
    assert_int_equal(fin_stream_list_shards(s, &v, &n), 0);
    expect_shard(v, n, "shardId-000000000006", "0", H128M1, "shardId-000000000005",
                 "shardId-000000000003", false);
    free(v);
    assert_int_equal(fin_stream_open_shard_count(s), 1);
    fin_stream_close(s);
    fin_test_rmdir(dir);
}

static void test_update_shard_count(void **state)
{
    (void)state;
    char *dir = make_stream("scale", "u", 1, FIN_FSYNC_NEVER);
    struct fin_stream *s;
    assert_int_equal(fin_stream_open(&s, dir, "u", FIN_STREAM_WRITE, NULL), 0);
    static const int steps[] = {2, 4, 3, 5, 7, 4, 2, 1};
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        int t = steps[k];
        assert_int_equal(fin_stream_update_shard_count(s, t), 0);
        assert_int_equal(fin_stream_open_shard_count(s), t);
        /* the open shards have exactly the ranges of a new stream of t shards */
        for (int i = 0; i < t; i++) {
            char want[40], got_start[40];
            hash_key_format(hash_range_start(i, t), want);
            int pos = fin_stream_shard_for_key(s, NULL, 0, want);
            hash_key_format(s->shards[pos].start, got_start);
            assert_string_equal(got_start, want);
            u128 end = i + 1 < t ? hash_range_start(i + 1, t) - 1 : ~(u128)0;
            assert_true(s->shards[pos].end == end);
            assert_false(s->shards[pos].closed);
        }
    }
    assert_int_equal(fin_stream_update_shard_count(s, 3), FIN_EINVAL);
    assert_non_null(strstr(fin_err_msg(), "TargetShardCount 3"));
    assert_int_equal(fin_stream_update_shard_count(s, 0), FIN_EINVAL);
    fin_stream_close(s);
    fin_test_rmdir(dir);
}

/* ---- routing, order, persistence ---- */

/* Reads every shard parent-first (a shard once all of its parents were read to their
 * closed end) and checks each key's records come as k:0, k:1, ... exactly once;
 * returns how many records it read. */
static long read_in_order(struct fin_stream *s, int keys, const int *expect)
{
    struct fin_shard_desc *v;
    size_t n;
    assert_int_equal(fin_stream_list_shards(s, &v, &n), 0);
    bool *done = calloc(n, sizeof *done);
    int *next = calloc((size_t)keys, sizeof *next);
    long total = 0;
    for (size_t pass = 0; pass <= n; pass++) {
        for (size_t i = 0; i < n; i++) {
            if (done[i])
                continue;
            const struct fin_shard_desc *p = find(v, n, v[i].parent);
            const struct fin_shard_desc *q = find(v, n, v[i].adjacent_parent);
            if ((p && !done[p - v]) || (q && !done[q - v]))
                continue;
            struct fin_iter *it;
            assert_int_equal(fin_iter_open(&it, s, v[i].shard, FIN_ITER_TRIM_HORIZON, NULL, 0), 0);
            struct fin_record r;
            int rc;
            while ((rc = fin_iter_next(it, &r)) == 0) {
                int k, j;
                char d[64];
                assert_true(r.len < sizeof d);
                memcpy(d, r.data, r.len);
                d[r.len] = '\0';
                assert_int_equal(sscanf(d, "%d:%d", &k, &j), 2);
                assert_true(k >= 0 && k < keys);
                if (j != next[k])
                    fail_msg("key %d: record %d came where %d was due (%s)", k, j, next[k], v[i].id);
                next[k]++;
                total++;
            }
            assert_int_equal(rc, FIN_EEND);
            assert_int_equal(fin_iter_shard_closed(it), v[i].closed);
            fin_iter_close(it);
            done[i] = true;
        }
    }
    for (size_t i = 0; i < n; i++)
        assert_true(done[i]);
    for (int k = 0; expect && k < keys; k++)
        assert_int_equal(next[k], expect[k]);
    free(done);
    free(next);
    free(v);
    return total;
}

struct producer {
    struct fin_stream *s;
    int first_key, keys, per_key;
    int failed;
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    for (int j = 0; j < p->per_key; j++)
        for (int k = p->first_key; k < p->first_key + p->keys; k++) {
            char key[16], d[32];
            snprintf(key, sizeof key, "K%d", k);
            snprintf(d, sizeof d, "%d:%d", k, j);
            if (fin_stream_put(p->s, key, strlen(key), d, strlen(d), NULL, NULL) != 0)
                p->failed++;
        }
    return NULL;
}

static void test_order_across_reshards(void **state)
{
    (void)state;
    enum { KEYS = 40, PER = 300, THREADS = 4 };
    char *dir = make_stream("order", "o", 2, FIN_FSYNC_INTERVAL);
    struct fin_stream *s;
    assert_int_equal(fin_stream_open(&s, dir, "o", FIN_STREAM_WRITE, NULL), 0);
    pthread_t t[THREADS];
    struct producer p[THREADS];
    for (int i = 0; i < THREADS; i++) {
        p[i] = (struct producer){s, i * KEYS / THREADS, KEYS / THREADS, PER, 0};
        assert_int_equal(pthread_create(&t[i], NULL, produce, &p[i]), 0);
    }
    /* reshard while the producers put */
    assert_int_equal(fin_stream_split_shard(s, "shardId-000000000000", NULL), 0);
    assert_int_equal(fin_stream_split_shard(s, "shardId-000000000001", NULL), 0);
    assert_int_equal(fin_stream_merge_shards(s, "shardId-000000000002", "shardId-000000000003"), 0);
    assert_int_equal(fin_stream_update_shard_count(s, 5), 0);
    assert_int_equal(fin_stream_update_shard_count(s, 3), 0);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(p[i].failed, 0);
    }
    int expect[KEYS];
    for (int k = 0; k < KEYS; k++)
        expect[k] = PER;
    assert_int_equal(read_in_order(s, KEYS, expect), (long)KEYS * PER);

    /* closed shards took nothing after they closed: their ending numbers still hold */
    struct fin_shard_desc *v;
    size_t n;
    assert_int_equal(fin_stream_list_shards(s, &v, &n), 0);
    for (size_t i = 0; i < n; i++) {
        if (!v[i].closed)
            continue;
        struct fin_shard_info info;
        assert_int_equal(fin_stream_shard_info(s, v[i].shard, &info), 0);
        if (!info.empty)
            assert_true(strcmp(info.last_seq, v[i].ending_seq) <= 0);
    }
    free(v);
    fin_stream_close(s);

    /* after a reopen: the same map, the same records, puts to the open shards */
    assert_int_equal(fin_stream_open(&s, dir, "o", FIN_STREAM_WRITE, NULL), 0);
    assert_int_equal(fin_stream_open_shard_count(s), 3);
    struct fin_put_result r;
    put_key(s, "K0", "0:300", &r);
    assert_false(fin_stream_shard_closed(s, r.shard));
    expect[0]++;
    assert_int_equal(read_in_order(s, KEYS, expect), (long)KEYS * PER + 1);
    fin_stream_close(s);
    char check_ok = fin_stream_check(dir, "o", false, &(struct fin_check_report){0}) == 0;
    assert_true(check_ok);
    fin_test_rmdir(dir);
}

static void test_reader_follows_split(void **state)
{
    (void)state;
    char *dir = make_stream("follow", "f", 1, FIN_FSYNC_ALWAYS);
    struct fin_stream *w, *rd;
    assert_int_equal(fin_stream_open(&w, dir, "f", FIN_STREAM_WRITE, NULL), 0);
    assert_int_equal(fin_stream_open(&rd, dir, "f", FIN_STREAM_READ, NULL), 0);
    put_key(w, "A", "a1", NULL);
    struct fin_iter *it;
    assert_int_equal(fin_iter_open(&it, rd, 0, FIN_ITER_TRIM_HORIZON, NULL, 0), 0);
    struct fin_record rec;
    assert_int_equal(fin_iter_next(it, &rec), 0);
    assert_int_equal(fin_iter_next(it, &rec), FIN_EEND);
    assert_false(fin_iter_shard_closed(it));

    put_key(w, "A", "a2", NULL);
    assert_int_equal(fin_stream_split_shard(w, "shardId-000000000000", NULL), 0);
    put_key(w, "A", "a3", NULL);
    /* the reader finds a2 and then the closed end, and sees the children */
    assert_int_equal(fin_iter_next(it, &rec), 0);
    assert_memory_equal(rec.data, "a2", 2);
    assert_int_equal(fin_iter_next(it, &rec), FIN_EEND);
    assert_true(fin_iter_shard_closed(it));
    fin_iter_close(it);
    assert_int_equal(fin_stream_shard_count(rd), 3);
    int child = fin_stream_shard_find(rd, "shardId-000000000001");
    int other = fin_stream_shard_find(rd, "shardId-000000000002");
    assert_true(child > 0 && other > 0);
    int with_a = fin_stream_shard_for_key(rd, "A", 1, NULL);
    assert_true(with_a == child || with_a == other);
    assert_int_equal(fin_iter_open(&it, rd, with_a, FIN_ITER_TRIM_HORIZON, NULL, 0), 0);
    assert_int_equal(fin_iter_next(it, &rec), 0);
    assert_memory_equal(rec.data, "a3", 2);
    fin_iter_close(it);

    /* checkpoints on a closed shard still work */
    struct fin_shard_desc *v;
    size_t n;
    assert_int_equal(fin_stream_list_shards(rd, &v, &n), 0);
    assert_int_equal(fin_stream_checkpoint_save(w, "c", 0, v[0].ending_seq), 0);
    char seq[FIN_SEQ_LEN + 1];
    assert_int_equal(fin_stream_checkpoint_load(rd, "c", 0, seq), 0);
    assert_string_equal(seq, v[0].ending_seq);
    assert_int_equal(fin_iter_open(&it, rd, 0, FIN_ITER_AFTER_SEQUENCE_NUMBER, seq, 0), 0);
    assert_int_equal(fin_iter_next(it, &rec), FIN_EEND);
    assert_true(fin_iter_shard_closed(it));
    fin_iter_close(it);
    free(v);
    fin_stream_close(rd);
    fin_stream_close(w);
    fin_test_rmdir(dir);
}

static void test_retention_removes_parent(void **state)
{
    (void)state;
    char *dir = make_stream("ret", "r", 1, FIN_FSYNC_NEVER);
    struct fin_fake_clock fc;
    int64_t day = 24LL * 3600 * FIN_NS_PER_SEC;
    fin_fake_clock_init(&fc, 1700000000LL * FIN_NS_PER_SEC);
    struct fin_stream *s;
    assert_int_equal(fin_stream_open(&s, dir, "r", FIN_STREAM_WRITE, &fc.clock), 0);
    for (int i = 0; i < 100; i++)
        put_key(s, "K", "some bytes of a record that fill segments", NULL);
    assert_int_equal(fin_stream_split_shard(s, "shardId-000000000000", NULL), 0);
    fin_fake_clock_advance(&fc, day / 2);
    put_key(s, "K", "young", NULL);
    assert_int_equal(fin_stream_apply_retention(s), 0);
    struct fin_shard_desc *v;
    size_t n;
    assert_int_equal(fin_stream_list_shards(s, &v, &n), 0);
    assert_int_equal(n, 3);
    free(v);
    fin_fake_clock_advance(&fc, day);
    assert_int_equal(fin_stream_apply_retention(s), 0);
    assert_int_equal(fin_stream_list_shards(s, &v, &n), 0);
    assert_int_equal(n, 2);
    assert_null(find(v, n, "shardId-000000000000"));
    free(v);
    char p0[1024];
    snprintf(p0, sizeof p0, "%s/streams/r/shardId-000000000000", dir);
    assert_false(fin_path_exists(p0));
    fin_stream_close(s);
    /* reopened: the children stay, and the next split numbers on from 3 */
    assert_int_equal(fin_stream_open(&s, dir, "r", FIN_STREAM_WRITE, &fc.clock), 0);
    assert_int_equal(fin_stream_shard_count(s), 2);
    assert_int_equal(fin_stream_split_shard(s, "shardId-000000000002", NULL), 0);
    assert_true(fin_stream_shard_find(s, "shardId-000000000004") >= 0);
    fin_stream_close(s);
    fin_test_rmdir(dir);
}

/* ---- failed file operations during a split ---- */

struct faulty {
    struct fin_io io;
    long calls, fail_at;
};

static bool hit(struct faulty *f)
{
    if (++f->calls == f->fail_at) {
        errno = EIO;
        return true;
    }
    return false;
}
static int f_open(void *c, const char *p, int fl, mode_t m)
{
    return hit(c) ? -1 : fin_io_real()->open(NULL, p, fl, m);
}
static int f_close(void *c, int fd) { (void)c; return close(fd); }
static ssize_t f_pwrite(void *c, int fd, const void *b, size_t n, off_t o)
{
    return hit(c) ? -1 : fin_io_real()->pwrite(NULL, fd, b, n, o);
}
static int f_fsync(void *c, int fd) { return hit(c) ? -1 : fsync(fd); }
static int f_ftruncate(void *c, int fd, off_t l) { return hit(c) ? -1 : ftruncate(fd, l); }
static int f_rename(void *c, const char *a, const char *b) { return hit(c) ? -1 : rename(a, b); }
static int f_unlink(void *c, const char *p) { return hit(c) ? -1 : unlink(p); }

static void test_failed_io_during_split(void **state)
{
    (void)state;
    fin_log_set_level(FIN_LOG_ERROR + 1);
    bool done = false;
    for (long k = 1; !done && k < 200; k++) {
        char *dir = make_stream("splitio", "x", 1, FIN_FSYNC_ALWAYS);
        struct fin_stream *s;
        assert_int_equal(fin_stream_open(&s, dir, "x", FIN_STREAM_WRITE, NULL), 0);
        for (int i = 0; i < 20; i++) {
            char d[16];
            snprintf(d, sizeof d, "0:%d", i);
            put_key(s, "K0", d, NULL);
        }
        fin_stream_close(s);

        /* the k-th file operation of open + split fails */
        struct faulty f = {.fail_at = k};
        f.io = (struct fin_io){f_open, f_close, f_pwrite, f_fsync, f_ftruncate, f_rename,
                               f_unlink, &f};
        int rc = fin_stream_open_io(&s, dir, "x", FIN_STREAM_WRITE, NULL, &f.io);
        bool split = false;
        if (rc == 0) {
            rc = fin_stream_split_shard(s, "shardId-000000000000", NULL);
            split = rc == 0;
            if (rc == 0)
                done = f.calls < k;   /* nothing failed: every step has been tried */
            fin_stream_close(s);
        }

        /* reopened with real I/O: the old map or the new, whole; every record there */
        assert_int_equal(fin_stream_open(&s, dir, "x", FIN_STREAM_WRITE, NULL), 0);
        int shards = fin_stream_shard_count(s);
        if (split)
            assert_int_equal(shards, 3);
        assert_true(shards == 1 || shards == 3);
        assert_int_equal(fin_stream_open_shard_count(s), shards == 1 ? 1 : 2);
        char child[1024];
        snprintf(child, sizeof child, "%s/streams/x/shardId-000000000001", dir);
        assert_int_equal(fin_path_exists(child), shards == 3);
        put_key(s, "K0", "0:20", NULL);
        int expect[1] = {21};
        assert_int_equal(read_in_order(s, 1, expect), 21);
        if (shards == 1)
            assert_int_equal(fin_stream_split_shard(s, "shardId-000000000000", NULL), 0);
        fin_stream_close(s);
        fin_test_rmdir(dir);
    }
    fin_log_set_level(FIN_LOG_WARN);
    assert_true(done);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_ranges),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_update_shard_count),
        cmocka_unit_test(test_order_across_reshards),
        cmocka_unit_test(test_reader_follows_split),
        cmocka_unit_test(test_retention_removes_parent),
        cmocka_unit_test(test_failed_io_during_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
