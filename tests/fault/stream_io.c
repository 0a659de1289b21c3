/* stream_io.c - every file operation of the writer failed in turn (as SQLite's test VFS
 * does): open, pwrite, fsync, ftruncate, rename and unlink go through a file-I/O table
 * that fails the k-th call, for k = 1, 2, ... until a whole run needs fewer calls.
 *
 * Each run opens a stream with small segments (so rolls and index writes happen), puts
 * records one by one, and closes it. Whatever failed, a later open with the real file
 * calls must recover, every put that returned 0 under fsync = always must be there with
 * its sequence number, the records present must be ones that were put, in order, and
 * `check` must find the log sound. */
#include "fin_test.h"

#include "finstream/error.h"
#include "finstream/io.h"
#include "finstream/log.h"
#include "finstream/stream.h"

#include <errno.h>
#include <fcntl.h>

struct faulty {
    struct fin_io io;
    long calls, fail_at;   /* fail the fail_at-th call (1-based); 0: none */
    int failed;
};

static bool hit(struct faulty *f, int err)
{
    if (++f->calls == f->fail_at) {
        f->failed++;
        errno = err;
        return true;
    }
    return false;
}

static int f_open(void *c, const char *p, int fl, mode_t m)
{
    return hit(c, EIO) ? -1 : fin_io_real()->open(NULL, p, fl, m);
}
static int f_close(void *c, int fd) { (void)c; return close(fd); }
static ssize_t f_pwrite(void *c, int fd, const void *b, size_t n, off_t o)
{
    struct faulty *f = c;
    if (hit(f, ENOSPC)) {
        /* half the failures leave a short write behind first */
        if (f->calls % 2 && n > 1) {
            ssize_t w = fin_io_real()->pwrite(NULL, fd, b, n / 2, o);
            (void)w;
        }
        return -1;
    }
    return fin_io_real()->pwrite(NULL, fd, b, n, o);
}
static int f_fsync(void *c, int fd) { return hit(c, EIO) ? -1 : fsync(fd); }
static int f_ftruncate(void *c, int fd, off_t l) { return hit(c, EIO) ? -1 : ftruncate(fd, l); }
static int f_rename(void *c, const char *a, const char *b) { return hit(c, EIO) ? -1 : rename(a, b); }
static int f_unlink(void *c, const char *p) { return hit(c, EIO) ? -1 : unlink(p); }

enum { N = 120 };

static long run(int policy, long fail_at, int *failed)
{
    char *dir = fin_test_mkdtemp("io");
    struct fin_stream_config cfg;
    fin_stream_config_defaults(&cfg);
    cfg.fsync = policy;
    cfg.segment_bytes = 2048;
    assert_int_equal(fin_stream_create(dir, "f", &cfg), 0);

    struct faulty f = {.fail_at = fail_at};
    f.io = (struct fin_io){f_open, f_close, f_pwrite, f_fsync, f_ftruncate, f_rename, f_unlink, &f};
    static char acked[N][FIN_SEQ_LEN + 1];
    int ok[N] = {0};
    struct fin_stream *s;
    fin_log_set_level(FIN_LOG_ERROR + 1);
    if (fin_stream_open_io(&s, dir, "f", FIN_STREAM_WRITE, NULL, &f.io) == 0) {
        for (int i = 0; i < N; i++) {
            char d[64];
            int len = snprintf(d, sizeof d, "record-%03d-%.*s", i, i % 40, "abcdefghijklmnopqrstuvwxyzabcdefghijklmn");
            struct fin_put_result r;
            if (fin_stream_put(s, "K", 1, d, (size_t)len, NULL, &r) == 0) {
                ok[i] = 1;
                memcpy(acked[i], r.seq, sizeof acked[i]);
            }
        }
        fin_stream_close(s);
    }
    long calls = f.calls;
    *failed = f.failed;

    /* Recovery with the real file calls, then the records against the acknowledgements. */
    int rc = fin_stream_open(&s, dir, "f", FIN_STREAM_WRITE, NULL);
    if (rc)
        fail_msg("fail_at %ld: reopen: %s", fail_at, fin_err_msg());
    struct fin_iter *it;
    assert_int_equal(fin_iter_open(&it, s, 0, FIN_ITER_TRIM_HORIZON, NULL, 0), 0);
    struct fin_record r;
    int last = -1;
    char prev[FIN_SEQ_LEN + 1] = "";
    int found[N] = {0};
    while ((rc = fin_iter_next(it, &r)) == 0) {
        int i;
        char head[16];
        memcpy(head, r.data, 10);
        head[10] = '\0';
        if (sscanf(head, "record-%3d", &i) != 1 || i <= last || i >= N)
            fail_msg("fail_at %ld: unexpected record '%.*s' after %d", fail_at, (int)r.len,
                     r.data, last);
        char want[64];
        int len = snprintf(want, sizeof want, "record-%03d-%.*s", i, i % 40, "abcdefghijklmnopqrstuvwxyzabcdefghijklmn");
        if ((size_t)len != r.len || memcmp(want, r.data, r.len) != 0)
            fail_msg("fail_at %ld: record %d damaged", fail_at, i);
        if (strcmp(r.seq, prev) <= 0)
            fail_msg("fail_at %ld: sequence numbers not increasing", fail_at);
        memcpy(prev, r.seq, sizeof prev);
        if (ok[i] && strcmp(acked[i], r.seq) != 0)
            fail_msg("fail_at %ld: record %d has seq %s, acknowledged as %s", fail_at, i, r.seq,
                     acked[i]);
        found[i] = 1;
        last = i;
    }
    if (rc != FIN_EEND)
        fail_msg("fail_at %ld: reading: %s", fail_at, fin_err_msg());
    fin_iter_close(it);
    fin_stream_close(s);
    if (policy == FIN_FSYNC_ALWAYS)
        for (int i = 0; i < N; i++)
            if (ok[i] && !found[i])
                fail_msg("fail_at %ld: acknowledged record %d is missing", fail_at, i);
    struct fin_check_report rep;
    if (fin_stream_check(dir, "f", false, &rep) != 0)
        fail_msg("fail_at %ld: check: %s", fail_at, fin_err_msg());
    fin_log_set_level(FIN_LOG_INFO);
    fin_test_rmdir(dir);
    return calls;
}

static void every_call_fails_in_turn(int policy)
{
    int failed;
    long total = run(policy, 0, &failed);
    assert_int_equal(failed, 0);
    long step = 1;
    const char *env = getenv("FIN_FAULT_ITERATIONS");
    if (!env || atoi(env) <= 0)
        step = total / 20 + 1;   /* the default suite samples about 20 of the calls */
    long runs = 0;
    for (long k = 1; k <= total; k += step, runs++) {
        run(policy, k, &failed);
        assert_true(failed <= 1);
    }
    printf("fsync=%s: %ld file calls in a run; failed each of %ld in turn, all recovered\n",
           fin_fsync_policy_name(policy), total, runs);
}

static void test_always(void **state) { (void)state; every_call_fails_in_turn(FIN_FSYNC_ALWAYS); }
static void test_interval(void **state) { (void)state; every_call_fails_in_turn(FIN_FSYNC_INTERVAL); }

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_always), cmocka_unit_test(test_interval)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
