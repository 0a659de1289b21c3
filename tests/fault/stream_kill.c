/* stream_kill.c - kill -9 a writer at random moments; nothing acknowledged may be lost.
 *
 * Each iteration forks a child that opens the stream (fsync = always, small segments so
 * rolls happen too) and appends from several threads; after each put returns, the child
 * reports the record and its sequence number on a pipe. The parent lets it run for a
 * random while, kills it with SIGKILL, reads every acknowledgement that made it into the
 * pipe, reopens the stream (recovery) and checks the whole log: every acknowledged record
 * is there with its sequence number and its exact bytes, each producer's records form
 * an unbroken prefix in order, sequence numbers only go up, and nothing else is there.
 *
 * A few iterations run in the default suite; FIN_FAULT_ITERATIONS=300 runs hundreds. */
#include "fin_test.h"

#include "finstream/error.h"
#include "finstream/log.h"
#include "finstream/stream.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

enum { THREADS = 4, MAX_ITER = 2000, MAX_PER = 200000 };

struct child_thread {
    struct fin_stream *s;
    int iter, id, out;
};

/* The record a producer writes as its i-th: deterministic, so the parent can check
 * every byte; its length varies so frames straddle buffer and segment edges. */
static size_t make_record(char *out, int iter, int t, int i)
{
    int n = snprintf(out, 64, "%d:%d:%d:", iter, t, i);
    size_t len = (size_t)n + (size_t)((iter * 7919 + t * 104729 + i * 31) % 300);
    for (size_t k = (size_t)n; k < len; k++)
        out[k] = (char)('a' + (k * 13 + (size_t)i) % 26);
    return len;
}

static void *child_produce(void *arg)
{
    struct child_thread *c = arg;
    char key[16], rec[512], line[160];
    snprintf(key, sizeof key, "producer-%d", c->id);
    for (int i = 0; i < MAX_PER; i++) {
        size_t len = make_record(rec, c->iter, c->id, i);
        struct fin_put_result r;
        if (fin_stream_put(c->s, key, strlen(key), rec, len, NULL, &r) != 0)
            _exit(3);
        /* One write() of less than PIPE_BUF bytes: lines from threads never interleave. */
        int n = snprintf(line, sizeof line, "%d %d %d %s\n", c->id, i, r.shard, r.seq);
        if (write(c->out, line, (size_t)n) != n)
            _exit(4);
    }
    return NULL;
}

static void child(const char *dir, int iter, int out)
{
    struct fin_stream *s;
    fin_log_set_level(FIN_LOG_ERROR);
    if (fin_stream_open(&s, dir, "k", FIN_STREAM_WRITE, NULL) != 0) {
        fprintf(stderr, "child: open: %s\n", fin_err_msg());
        _exit(2);
    }
    pthread_t th[THREADS];
    struct child_thread ct[THREADS];
    for (int t = 0; t < THREADS; t++) {
        ct[t] = (struct child_thread){s, iter, t, out};
        pthread_create(&th[t], NULL, child_produce, &ct[t]);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    _exit(0);
}

struct ack {
    int shard;
    char seq[FIN_SEQ_LEN + 1];
};

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_kill9(void **state)
{
    (void)state;
    int iterations = 5;
    const char *env = getenv("FIN_FAULT_ITERATIONS");
    if (env && atoi(env) > 0)
        iterations = atoi(env) < MAX_ITER ? atoi(env) : MAX_ITER;
    rng_state ^= (uint64_t)time(NULL);

    char *dir = fin_test_mkdtemp("kill9");
    struct fin_stream_config cfg;
    fin_stream_config_defaults(&cfg);
    cfg.shards = 2;
    cfg.fsync = FIN_FSYNC_ALWAYS;
    cfg.segment_bytes = 64 * 1024;
    assert_int_equal(fin_stream_create(dir, "k", &cfg), 0);

    /* acked[iter][thread] = how many records were acknowledged */
    static int acked[MAX_ITER][THREADS];
    static struct ack *acks[MAX_ITER][THREADS];
    uint64_t total_acked = 0, total_found = 0, unacked_found = 0;

    for (int iter = 0; iter < iterations; iter++) {
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            child(dir, iter, p[1]);
        }
        close(p[1]);
        /* Let it run 2 to 60 ms (its open included), then kill it wherever it is. */
        struct timespec t = {0, (long)(2 + rng() % 58) * 1000 * 1000};
        nanosleep(&t, NULL);
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0));

        /* Every line in the pipe was written after its put returned: acknowledged. */
        FILE *in = fdopen(p[0], "r");
        char line[256];
        int cap[THREADS] = {0};
        for (int th = 0; th < THREADS; th++) {
            acks[iter][th] = NULL;
            acked[iter][th] = 0;
        }
        while (fgets(line, sizeof line, in)) {
            if (!strchr(line, '\n'))
                break;   /* a line cut by the kill was never fully reported */
            int th, i, shard;
            char seq[FIN_SEQ_LEN + 1];
            assert_int_equal(sscanf(line, "%d %d %d %56s", &th, &i, &shard, seq), 4);
            assert_true(th >= 0 && th < THREADS);
            assert_int_equal(i, acked[iter][th]);
            if (i == cap[th]) {
                cap[th] = cap[th] ? cap[th] * 2 : 1024;
                acks[iter][th] = realloc(acks[iter][th], sizeof(struct ack) * (size_t)cap[th]);
                assert_non_null(acks[iter][th]);
            }
            acks[iter][th][i].shard = shard;
            memcpy(acks[iter][th][i].seq, seq, sizeof seq);
            acked[iter][th]++;
            total_acked++;
        }
        fclose(in);

        /* Recover, then read the whole log and hold it against what was acknowledged. */
        fin_log_set_level(FIN_LOG_ERROR);
        struct fin_stream *s;
        int rc = fin_stream_open(&s, dir, "k", FIN_STREAM_WRITE, NULL);
        if (rc)
            fail_msg("iteration %d: reopen failed: %s", iter, fin_err_msg());
        fin_log_set_level(FIN_LOG_INFO);
        static int seen[MAX_ITER][THREADS];
        memset(seen, 0, sizeof seen);
        uint64_t found = 0;
        for (int sh = 0; sh < 2; sh++) {
            struct fin_iter *it;
            assert_int_equal(fin_iter_open(&it, s, sh, FIN_ITER_TRIM_HORIZON, NULL, 0), 0);
            struct fin_record r;
            char prev[FIN_SEQ_LEN + 1] = "";
            while ((rc = fin_iter_next(it, &r)) == 0) {
                int ri, rt, rn;
                char head[64];
                size_t hl = r.len < 63 ? r.len : 63;
                memcpy(head, r.data, hl);
                head[hl] = '\0';
                if (sscanf(head, "%d:%d:%d:", &ri, &rt, &rn) != 3 || ri < 0 || ri > iter ||
                    rt < 0 || rt >= THREADS)
                    fail_msg("iteration %d: invented record '%s'", iter, head);
                char want[512];
                size_t wl = make_record(want, ri, rt, rn);
                if (wl != r.len || memcmp(want, r.data, wl) != 0)
                    fail_msg("iteration %d: record %d:%d:%d damaged", iter, ri, rt, rn);
                /* each producer's records: an unbroken prefix, in order */
                if (rn != seen[ri][rt])
                    fail_msg("iteration %d: producer %d:%d: record %d where %d was due", iter,
                             ri, rt, rn, seen[ri][rt]);
                seen[ri][rt]++;
                if (strcmp(r.seq, prev) <= 0)
                    fail_msg("iteration %d: sequence numbers not increasing: %s after %s", iter,
                             r.seq, prev);
                memcpy(prev, r.seq, sizeof prev);
                if (rn < acked[ri][rt]) {
                    const struct ack *a = &acks[ri][rt][rn];
                    if (a->shard != sh || strcmp(a->seq, r.seq) != 0)
                        fail_msg("iteration %d: record %d:%d:%d has seq %s in shard %d; it was "
                                 "acknowledged as %s in shard %d", iter, ri, rt, rn, r.seq, sh,
                                 a->seq, a->shard);
                } else if (ri == iter) {
                    unacked_found++;   /* in flight when killed: may or may not survive */
                }
                found++;
            }
            if (rc != FIN_EEND)
                fail_msg("iteration %d: reading shard %d: %s", iter, sh, fin_err_msg());
            fin_iter_close(it);
        }
        for (int i = 0; i <= iter; i++)
            for (int th = 0; th < THREADS; th++)
                if (seen[i][th] < acked[i][th])
                    fail_msg("iteration %d: producer %d:%d: %d records acknowledged, %d found",
                             iter, i, th, acked[i][th], seen[i][th]);
        total_found = found;
        /* Half the time close cleanly (the next open skips the scan), half the time
         * leave it as a crash would, so both recovery paths run. */
        fin_stream_close(s);
        if (rng() % 2) {
            char clean[1024];
            snprintf(clean, sizeof clean, "%s/streams/k/clean", dir);
            unlink(clean);
        }
    }
    for (int i = 0; i < iterations; i++)
        for (int th = 0; th < THREADS; th++)
            free(acks[i][th]);
    printf("kill -9: %d iterations, %llu acknowledged records all found, %llu records in the "
           "log, %llu unacknowledged in-flight records survived\n", iterations,
           (unsigned long long)total_acked, (unsigned long long)total_found,
           (unsigned long long)unacked_found);
    fin_test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_kill9)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
