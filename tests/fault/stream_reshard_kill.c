/* stream_reshard_kill.c - kill -9 a writer that reshards while it appends.
 *
 * Each iteration forks a child that opens the stream (fsync = always, small segments)
 * and appends from several threads, each with its own partition keys, while its main
 * thread scales the stream between 2 and 5 shards and splits and merges in between.
 * After each put returns the child reports it on a pipe. The parent kills the child
 * with SIGKILL after a random while, reopens the stream (recovery), and checks: the
 * shard map loads (the open shards cover every hash key once), every shard folder is
 * one the map names, `check` finds the logs sound, and reading each shard after its
 * parents gives each key's records as an unbroken prefix 0, 1, 2, ... in order that
 * holds every acknowledged one. The next iteration goes on with the same stream.
 *
 * A few iterations run in the default suite; FIN_FAULT_ITERATIONS=300 runs hundreds. */
#include "fin_test.h"

#include "finstream/error.h"
#include "finstream/log.h"
#include "finstream/stream.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

enum { THREADS = 3, KEYS_PER = 4, KEYS = THREADS * KEYS_PER, MAX_PER = 1000000 };

struct child_thread {
    struct fin_stream *s;
    int id, out;
    int base[KEYS_PER];   /* the next number per key: it goes on across iterations */
};

static void *child_produce(void *arg)
{
    struct child_thread *c = arg;
    char key[16], rec[64], line[64];
    for (int i = 0; i < MAX_PER; i++) {
        int k = c->id * KEYS_PER + i % KEYS_PER;
        int j = c->base[i % KEYS_PER]++;
        snprintf(key, sizeof key, "key-%d", k);
        int n = snprintf(rec, sizeof rec, "%d:%d:%.*s", k, j, i % 20, "xxxxxxxxxxxxxxxxxxxx");
        if (fin_stream_put(c->s, key, strlen(key), rec, (size_t)n, NULL, NULL) != 0)
            _exit(3);
        n = snprintf(line, sizeof line, "%d %d\n", k, j);
        if (write(c->out, line, (size_t)n) != n)
            _exit(4);
    }
    return NULL;
}

static void child(const char *dir, const int *next, int out, unsigned seed)
{
    struct fin_stream *s;
    if (fin_stream_open(&s, dir, "k", FIN_STREAM_WRITE, NULL) != 0)
        _exit(2);
    struct child_thread c[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        c[i] = (struct child_thread){.s = s, .id = i, .out = out};
        for (int k = 0; k < KEYS_PER; k++)
            c[i].base[k] = next[i * KEYS_PER + k];
        pthread_create(&t[i], NULL, child_produce, &c[i]);
    }
    for (unsigned r = seed;; r = r * 1103515245 + 12345) {
        int open = fin_stream_open_shard_count(s);
        int target = 2 + (int)((r >> 8) % 4);
        if (target > 2 * open)
            target = 2 * open;
        if (target < (open + 1) / 2)
            target = (open + 1) / 2;
        if (fin_stream_update_shard_count(s, target) != 0)
            _exit(5);
        if (fin_stream_shard_count(s) > FIN_STREAM_MAX_SHARDS - 40)
            break;   /* closed shards pile up; retention would take them in a day */
        struct timespec ts = {0, (long)((r >> 4) % 5) * 1000000L};
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    _exit(0);
}

static const struct fin_shard_desc *find(const struct fin_shard_desc *v, size_t n, const char *id)
{
    for (size_t i = 0; id[0] && i < n; i++)
        if (!strcmp(v[i].id, id))
            return &v[i];
    return NULL;
}

/* Reads every shard after its parents; next[k] becomes how many records key k has. */
static void verify(const char *dir, int *next, const int *acked)
{
    struct fin_stream *s;
    if (fin_stream_open(&s, dir, "k", FIN_STREAM_WRITE, NULL) != 0)
        fail_msg("reopen: %s", fin_err_msg());
    struct fin_shard_desc *v;
    size_t n;
    assert_int_equal(fin_stream_list_shards(s, &v, &n), 0);
    /* no shard folder the map does not name */
    char sdir[1200];
    snprintf(sdir, sizeof sdir, "%s/streams/k", dir);
    DIR *d = opendir(sdir);
    assert_non_null(d);
    for (struct dirent *de; (de = readdir(d));)
        if (!strncmp(de->d_name, "shardId-", 8) && !find(v, n, de->d_name))
            fail_msg("%s is not in the shard map", de->d_name);
    closedir(d);

    bool *done = calloc(n, sizeof *done);
    for (int k = 0; k < KEYS; k++)
        next[k] = 0;
    for (size_t pass = 0; pass <= n; pass++)
        for (size_t i = 0; i < n; i++) {
            const struct fin_shard_desc *p = find(v, n, v[i].parent);
            const struct fin_shard_desc *q = find(v, n, v[i].adjacent_parent);
            if (done[i] || (p && !done[p - v]) || (q && !done[q - v]))
                continue;
            struct fin_iter *it;
            assert_int_equal(fin_iter_open(&it, s, v[i].shard, FIN_ITER_TRIM_HORIZON, NULL, 0), 0);
            struct fin_record r;
            int rc;
            while ((rc = fin_iter_next(it, &r)) == 0) {
                int k, j;
                char b[64];
                memcpy(b, r.data, r.len < 63 ? r.len : 63);
                b[r.len < 63 ? r.len : 63] = '\0';
                if (sscanf(b, "%d:%d:", &k, &j) != 2 || k < 0 || k >= KEYS)
                    fail_msg("%s: a record that was never put: %s", v[i].id, b);
                if (j != next[k])
                    fail_msg("key %d: record %d where %d was due (%s)", k, j, next[k], v[i].id);
                next[k]++;
            }
            assert_int_equal(rc, FIN_EEND);
            fin_iter_close(it);
            done[i] = true;
        }
    for (size_t i = 0; i < n; i++)
        if (!done[i])
            fail_msg("%s was never reached from its parents", v[i].id);
    for (int k = 0; k < KEYS; k++)
        if (next[k] < acked[k])
            fail_msg("key %d: %d records acknowledged, %d there", k, acked[k], next[k]);
    free(done);
    free(v);
    fin_stream_close(s);
    struct fin_check_report rep;
    if (fin_stream_check(dir, "k", false, &rep) != 0)
        fail_msg("check: %s", fin_err_msg());
}

static void test_kill_during_reshard(void **state)
{
    (void)state;
    const char *env = getenv("FIN_FAULT_ITERATIONS");
    int iters = env ? atoi(env) : 6;
    char *dir = fin_test_mkdtemp("reshard-kill");
    struct fin_stream_config cfg;
    fin_stream_config_defaults(&cfg);
    cfg.shards = 2;
    cfg.segment_bytes = 8192;
    assert_int_equal(fin_stream_create(dir, "k", &cfg), 0);
    fin_log_set_level(FIN_LOG_ERROR);
    int next[KEYS] = {0};
    unsigned seed = (unsigned)time(NULL);
    for (int it = 0; it < iters; it++) {
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            child(dir, next, p[1], seed + (unsigned)it);
        }
        close(p[1]);
        struct timespec ts = {0, (long)(20 + (seed + (unsigned)it * 7919) % 200) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int st;
        waitpid(pid, &st, 0);
        if (WIFEXITED(st))
            fail_msg("child exited with %d before the kill", WEXITSTATUS(st));
        int acked[KEYS];
        memcpy(acked, next, sizeof acked);
        FILE *f = fdopen(p[0], "r");
        int k, j;
        while (fscanf(f, "%d %d", &k, &j) == 2)
            if (k >= 0 && k < KEYS && j + 1 > acked[k])
                acked[k] = j + 1;
        fclose(f);
        verify(dir, next, acked);
        /* a record put but not acknowledged may be there: numbering goes on after it */
    }
    fin_test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_during_reshard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
