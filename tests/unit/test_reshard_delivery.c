/* test_reshard_delivery.c - the delivery's stream source over a resharded stream: a
 * child gives nothing until each of its parents has been read to its closed end, so
 * every key's records come out in order however the engine takes turns between shards;
 * and before the engine has positioned every shard (the replay of an unfinished flush)
 * nothing is held back. */
#include "fin_test.h"

#include "finstream/delivery.h"
#include "finstream/error.h"
#include "finstream/stream.h"

static void put_n(struct fin_stream *s, int from, int to)
{
    for (int i = from; i < to; i++) {
        char key[8], d[32];
        snprintf(key, sizeof key, "T%d", i % 10);
        int n = snprintf(d, sizeof d, "%d:%d", i % 10, i / 10);
        assert_int_equal(fin_stream_put(s, key, strlen(key), d, (size_t)n, NULL, NULL), 0);
    }
}

static void test_children_after_parents(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("rsdel");
    struct fin_stream_config cfg;
    fin_stream_config_defaults(&cfg);
    cfg.shards = 2;
    cfg.fsync = FIN_FSYNC_NEVER;
    assert_int_equal(fin_stream_create(dir, "s", &cfg), 0);
    struct fin_stream *w;
    assert_int_equal(fin_stream_open(&w, dir, "s", FIN_STREAM_WRITE, NULL), 0);
    put_n(w, 0, 200);
    assert_int_equal(fin_stream_split_shard(w, "shardId-000000000000", NULL), 0);
    put_n(w, 200, 400);
    assert_int_equal(fin_stream_merge_shards(w, "shardId-000000000002", "shardId-000000000003"), 0);
    put_n(w, 400, 600);
    fin_stream_close(w);

    struct fin_stream *s;
    assert_int_equal(fin_stream_open(&s, dir, "s", FIN_STREAM_READ, NULL), 0);
    struct fin_delivery_source *src;
    assert_int_equal(fin_delivery_stream_source_create(&src, s), 0);
    assert_int_equal(src->n_shards, 5);
    for (int i = 0; i < src->n_shards; i++)
        assert_int_equal(src->seek(src->ctx, i, ""), 0);
    /* Turns from the newest shard to the oldest, a few records each: the worst order. */
    int next[10] = {0}, total = 0;
    for (int round = 0; round < 1000 && total < 600; round++)
        for (int sh = src->n_shards - 1; sh >= 0; sh--)
            for (int k = 0; k < 7; k++) {
                struct fin_record r;
                int rc = src->next(src->ctx, sh, &r);
                if (rc == FIN_EEND)
                    break;
                assert_int_equal(rc, 0);
                int key, j;
                char b[32];
                memcpy(b, r.data, r.len);
                b[r.len] = '\0';
                assert_int_equal(sscanf(b, "%d:%d", &key, &j), 2);
                if (j != next[key])
                    fail_msg("T%d: record %d came where %d was due (shard %d)", key, j, next[key], sh);
                next[key]++;
                total++;
            }
    assert_int_equal(total, 600);
    fin_delivery_stream_source_destroy(src);

    /* replaying: a child's range is read before its parents are positioned */
    assert_int_equal(fin_delivery_stream_source_create(&src, s), 0);
    int child = fin_stream_shard_find(s, "shardId-000000000004");
    assert_int_equal(src->seek(src->ctx, child, ""), 0);
    struct fin_record r;
    assert_int_equal(src->next(src->ctx, child, &r), 0);
    fin_delivery_stream_source_destroy(src);
    fin_stream_close(s);
    fin_test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_children_after_parents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
