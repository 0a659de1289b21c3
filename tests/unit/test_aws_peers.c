/* test_aws_peers.c - the AWS clients against real servers on loopback: s3rver (which
 * verifies SigV4 signatures and Content-MD5) as the S3 destination, kinesalite as the
 * Kinesis target and source, and a fault-injecting proxy in front of them.
 *
 * Run by tests/integration/aws_peers.sh, which starts the servers and passes their
 * endpoints in FIN_S3_ENDPOINT, FIN_S3_FAULT_ENDPOINT, FIN_S3_ABORT_ENDPOINT,
 * FIN_KINESIS_ENDPOINT and FIN_KINESIS_FAULT_ENDPOINT. A test whose endpoint is missing
 * skips. */
#include "fin_test.h"

#include <sys/uio.h>
#include <time.h>

#include <jansson.h>

#include "finstream/aws.h"
#include "finstream/aws_kinesis.h"
#include "finstream/aws_s3.h"
#include "finstream/delivery.h"
#include "finstream/error.h"

#define BUCKET "finstream-lake"

/* Asserts success and prints the error detail otherwise. */
#define CHECK(expr)                                                                         \
    do {                                                                                    \
        int rc_ = (expr);                                                                   \
        if (rc_ != 0)                                                                       \
            fail_msg("%s: %s (%s)", #expr, fin_strerror(rc_), fin_err_msg());               \
    } while (0)

static struct fin_aws_settings settings_for(const char *endpoint_env)
{
    struct fin_aws_settings s;
    assert_int_equal(fin_aws_settings_load(&s, NULL, NULL), 0);
    free(s.endpoint_url);
    s.endpoint_url = strdup(getenv(endpoint_env));
    free(s.region);
    s.region = strdup("us-east-1");
    /* s3rver's built-in account; kinesalite accepts any well-formed signature. */
    free(s.access_key_id);
    s.access_key_id = strdup("S3RVER");
    free(s.secret_access_key);
    s.secret_access_key = strdup("S3RVER");
    s.backoff_ms = 5;
    s.backoff_max_ms = 50;
    return s;
}

static bool have(const char *env)
{
    const char *v = getenv(env);
    if (v && *v)
        return true;
    fprintf(stderr, "%s not set: skipping\n", env);
    return false;
}

static struct fin_s3 *s3_open(const char *env, int64_t retries)
{
    struct fin_aws_settings s = settings_for(env);
    s.retries = retries;
    struct fin_s3 *s3;
    assert_int_equal(fin_s3_create(&s3, &s, NULL), 0);
    fin_aws_settings_fini(&s);
    return s3;
}

static char *make_data(size_t len, unsigned seed)
{
    char *d = malloc(len);
    assert_non_null(d);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        d[i] = (i % 97 == 96) ? '\n' : (char)('a' + (x >> 16) % 26);
    }
    return d;
}

static void assert_object(struct fin_s3 *s3, const char *key, const char *data, size_t len)
{
    struct fin_buf b;
    fin_buf_init(&b);
    int rc = fin_s3_get_object(s3, BUCKET, key, &b);
    if (rc)
        fail_msg("get %s: %s", key, fin_err_msg());
    assert_int_equal(b.len, len);
    assert_memory_equal(b.data, data, len);
    fin_buf_fini(&b);
}

static void test_s3_objects(void **state)
{
    (void)state;
    if (!have("FIN_S3_ENDPOINT"))
        skip();
    struct fin_s3 *s3 = s3_open("FIN_S3_ENDPOINT", 2);
    CHECK(fin_s3_create_bucket(s3, BUCKET));
    CHECK(fin_s3_create_bucket(s3, BUCKET));   /* again: already ours */

    /* Keys as delivery writes them, and keys with characters that need care. */
    const char *keys[] = {
        "objects/2026/11/26/10/lake-1-2026-11-26-10-00-00-00000000000000000001",
        "objects/2026/11/26/10/lake-1-2026-11-26-10-00-01-00000000000000000391",
        "objects/name=FB/dt=2020-05-14/part 1+2=3&x.json",
        "objects/caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac/~*'()!$.json",
        "objects/empty",
    };
    size_t n = sizeof keys / sizeof keys[0];
    for (size_t i = 0; i < n; i++) {
        size_t len = i == n - 1 ? 0 : 1000 + i * 777;
        char *d = make_data(len, (unsigned)i);
        if (fin_s3_put_object(s3, BUCKET, keys[i], d, len))
            fail_msg("put %s: %s", keys[i], fin_err_msg());
        assert_object(s3, keys[i], d, len);
        struct fin_s3_object info;
        assert_int_equal(fin_s3_head_object(s3, BUCKET, keys[i], &info), 0);
        assert_int_equal(info.size, (int64_t)len);
        free(d);
    }
    /* A second put of the same key replaces it: a retried delivery adds nothing. */
    char *d2 = make_data(1000, 99);
    assert_int_equal(fin_s3_put_object(s3, BUCKET, keys[0], d2, 1000), 0);
    assert_object(s3, keys[0], d2, 1000);
    free(d2);

    struct fin_s3_list l;
    assert_int_equal(fin_s3_list_objects(s3, BUCKET, "objects/", &l), 0);
    assert_int_equal(l.n, n);
    for (size_t i = 0; i < l.n; i++) {
        bool found = false;
        for (size_t k = 0; k < n; k++)
            found |= strcmp(l.objects[i].key, keys[k]) == 0;
        if (!found)
            fail_msg("listed key [%s] was never put", l.objects[i].key);
    }
    fin_s3_list_fini(&l);
    assert_int_equal(fin_s3_list_objects(s3, BUCKET, "objects/2026/", &l), 0);
    assert_int_equal(l.n, 2);
    fin_s3_list_fini(&l);

    struct fin_s3_object info;
    assert_int_equal(fin_s3_head_object(s3, BUCKET, "objects/missing", &info), FIN_ENOENT);
    struct fin_buf b;
    fin_buf_init(&b);
    assert_int_equal(fin_s3_get_object(s3, BUCKET, "objects/missing", &b), FIN_ENOENT);
    fin_buf_fini(&b);
    fin_s3_destroy(s3);
}

static void test_s3_multipart(void **state)
{
    (void)state;
    if (!have("FIN_S3_ENDPOINT"))
        skip();
    struct fin_s3 *s3 = s3_open("FIN_S3_ENDPOINT", 2);
    CHECK(fin_s3_create_bucket(s3, BUCKET));
    size_t len = 11 * 1024 * 1024 + 12345;   /* 3 parts of 5 MiB, the last one short */
    char *d = make_data(len, 7);
    if (fin_s3_put_multipart(s3, BUCKET, "multi/big.json", d, len, FIN_S3_MIN_PART))
        fail_msg("multipart: %s", fin_err_msg());
    assert_int_equal(fin_s3_put_stats(s3)->multipart_objects, 1);
    assert_int_equal(fin_s3_put_stats(s3)->parts, 3);
    assert_object(s3, "multi/big.json", d, len);
    struct fin_s3_object info;
    CHECK(fin_s3_head_object(s3, BUCKET, "multi/big.json", &info));
    assert_int_equal(info.size, (int64_t)len);
    free(d);
    fin_s3_destroy(s3);
}

/* Through a proxy that throttles, fails, fails after doing the work, and drops
 * connections: every put succeeds in the end, and the bucket holds each object once with
 * exactly its bytes. */
static void test_s3_faults(void **state)
{
    (void)state;
    if (!have("FIN_S3_FAULT_ENDPOINT") || !have("FIN_S3_ENDPOINT"))
        skip();
    struct fin_s3 *s3 = s3_open("FIN_S3_FAULT_ENDPOINT", 8);
    struct fin_s3 *direct = s3_open("FIN_S3_ENDPOINT", 2);
    CHECK(fin_s3_create_bucket(direct, BUCKET));
    char key[128];
    char *data[24];
    size_t lens[24];
    for (int i = 0; i < 24; i++) {
        lens[i] = i == 23 ? 6 * 1024 * 1024 + 5 : 3000 + (size_t)i * 100;
        data[i] = make_data(lens[i], 100 + (unsigned)i);
        snprintf(key, sizeof key, "faults/2026/11/26/10/lake-1-%02d", i);
        int rc = i == 23 ? fin_s3_put_multipart(s3, BUCKET, key, data[i], lens[i], FIN_S3_MIN_PART)
                         : fin_s3_put_object(s3, BUCKET, key, data[i], lens[i]);
        if (rc)
            fail_msg("put %s through faults: %s", key, fin_err_msg());
    }
    assert_true(fin_aws_client_stats(fin_s3_client(s3))->retries >= 5);
    struct fin_s3_list l;
    assert_int_equal(fin_s3_list_objects(direct, BUCKET, "faults/", &l), 0);
    assert_int_equal(l.n, 24);
    for (int i = 0; i < 24; i++) {
        snprintf(key, sizeof key, "faults/2026/11/26/10/lake-1-%02d", i);
        assert_string_equal(l.objects[i].key, key);
        assert_int_equal(l.objects[i].size, (int64_t)lens[i]);
        assert_object(direct, key, data[i], lens[i]);
        free(data[i]);
    }
    fin_s3_list_fini(&l);
    fin_s3_destroy(s3);
    fin_s3_destroy(direct);
}

/* A part that keeps failing: the upload is aborted and no object appears. */
static void test_s3_abort(void **state)
{
    (void)state;
    if (!have("FIN_S3_ABORT_ENDPOINT") || !have("FIN_S3_ENDPOINT"))
        skip();
    struct fin_s3 *direct = s3_open("FIN_S3_ENDPOINT", 2);
    CHECK(fin_s3_create_bucket(direct, BUCKET));
    struct fin_s3 *s3 = s3_open("FIN_S3_ABORT_ENDPOINT", 1);
    size_t len = 6 * 1024 * 1024;
    char *d = make_data(len, 3);
    int rc = fin_s3_put_multipart(s3, BUCKET, "aborted/obj", d, len, FIN_S3_MIN_PART);
    assert_int_equal(rc, FIN_EAGAIN);
    assert_non_null(strstr(fin_err_msg(), "upload aborted"));
    assert_int_equal(fin_s3_put_stats(s3)->aborted_uploads, 1);
    struct fin_s3_object info;
    rc = fin_s3_head_object(direct, BUCKET, "aborted/obj", &info);
    if (rc != FIN_ENOENT)
        fail_msg("aborted/obj: head gives %d (%s), size %lld", rc, fin_err_msg(), (long long)info.size);
    free(d);
    fin_s3_destroy(s3);
    fin_s3_destroy(direct);
}

/* A wrong secret: the verifying proxy (botocore's signer) refuses it, and the client
 * says so without retrying. An unknown key: s3rver itself refuses it. */
static void test_s3_bad_signature(void **state)
{
    (void)state;
    if (!have("FIN_S3_VERIFY_ENDPOINT") || !have("FIN_S3_ENDPOINT"))
        skip();
    struct fin_aws_settings s = settings_for("FIN_S3_VERIFY_ENDPOINT");
    struct fin_s3 *s3;
    CHECK(fin_s3_create(&s3, &s, NULL));
    CHECK(fin_s3_create_bucket(s3, BUCKET));
    CHECK(fin_s3_put_object(s3, BUCKET, "verified/a b+c=d&e.json", "{}\n", 3));
    fin_s3_destroy(s3);
    const char *verifies = getenv("FIN_PROXY_VERIFIES");
    if (!verifies || !*verifies) {
        fprintf(stderr, "the proxy does not verify signatures (no botocore): wrong-secret case skipped\n");
        fin_aws_settings_fini(&s);
        return;
    }
    free(s.secret_access_key);
    s.secret_access_key = strdup("not-the-secret");
    CHECK(fin_s3_create(&s3, &s, NULL));
    assert_int_equal(fin_s3_put_object(s3, BUCKET, "x", "y", 1), FIN_EAUTH);
    assert_non_null(strstr(fin_err_msg(), "SignatureDoesNotMatch"));
    assert_int_equal(fin_aws_client_stats(fin_s3_client(s3))->requests, 1);
    fin_s3_destroy(s3);
    fin_aws_settings_fini(&s);

    s = settings_for("FIN_S3_ENDPOINT");
    free(s.access_key_id);
    s.access_key_id = strdup("AKIDUNKNOWN");
    CHECK(fin_s3_create(&s3, &s, NULL));
    assert_int_equal(fin_s3_put_object(s3, BUCKET, "x", "y", 1), FIN_EAUTH);
    assert_non_null(strstr(fin_err_msg(), "InvalidAccessKeyId"));
    fin_s3_destroy(s3);
    fin_aws_settings_fini(&s);
}

/* Compares every regular file under dir with bucket/prefix + its relative path. */
static int compare_tree(struct fin_s3 *s3, const char *dir, const char *prefix, const char *rel)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cd '%s' && find . -type f ! -name '*.tmp*' ! -name '.*' | sort", dir);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *path = fin_path_join(dir, line + 2), key[1200], *data;
        size_t len;
        snprintf(key, sizeof key, "%s%s%s", prefix, rel, line + 2);
        CHECK(fin_read_file(path, &data, &len));
        assert_object(s3, key, data, len);
        free(data);
        free(path);
        n++;
    }
    pclose(f);
    return n;
}

/* A local lake copied to the bucket: the same keys and bytes, temporary files left out. */
static void test_s3_put_tree(void **state)
{
    (void)state;
    if (!have("FIN_S3_ENDPOINT"))
        skip();
    struct fin_s3 *s3 = s3_open("FIN_S3_ENDPOINT", 2);
    CHECK(fin_s3_create_bucket(s3, BUCKET));
    char *lake = fin_test_mkdtemp("lake");
    const char *files[] = {"2026/11/26/10/lake-1-2026-11-26-10-00-00-a", "2026/11/26/11/lake-1-b.gz",
                           "name=FB/dt=2020-05-14/part-0.json", "2026/11/26/10/x.json.tmp.123",
                           ".hidden"};
    for (size_t i = 0; i < 5; i++) {
        char *p = fin_path_join(lake, files[i]);
        char *slash = strrchr(p, '/');
        *slash = '\0';
        CHECK(fin_mkdir_p(p, 0755));
        *slash = '/';
        char *d = make_data(500 + i * 10, (unsigned)i);
        CHECK(fin_write_file_atomic(p, d, 500 + i * 10));
        free(d);
        free(p);
    }
    struct fin_s3_tree_stats st;
    CHECK(fin_s3_put_tree(s3, lake, BUCKET, "tree/", &st));
    assert_int_equal(st.objects, 3);
    struct fin_s3_list l;
    CHECK(fin_s3_list_objects(s3, BUCKET, "tree/", &l));
    assert_int_equal(l.n, 3);
    assert_string_equal(l.objects[0].key, "tree/2026/11/26/10/lake-1-2026-11-26-10-00-00-a");
    assert_string_equal(l.objects[2].key, "tree/name=FB/dt=2020-05-14/part-0.json");
    fin_s3_list_fini(&l);
    assert_int_equal(compare_tree(s3, lake, "tree/", ""), 3);
    fin_test_rmdir(lake);

    /* The real Firehose objects of the shared fixtures, byte for byte. */
    const char *shared = fin_test_shared_data();
    if (shared) {
        char *fh = fin_path_join(shared, "firehose");
        CHECK(fin_s3_put_tree(s3, fh, BUCKET, "firehose/", &st));
        assert_true(st.objects >= 5);
        assert_int_equal(compare_tree(s3, fh, "firehose/", ""), (int)st.objects);
        free(fh);
    }
    fin_s3_destroy(s3);
}

/* delivery's S3 destination: a finished 7 MiB file goes up in parts, an object from pieces
 * in one put, both under the destination's prefix with the lake's keys. */
static void test_s3_sink(void **state)
{
    (void)state;
    if (!have("FIN_S3_FAULT_ENDPOINT") || !have("FIN_S3_ENDPOINT"))
        skip();
    struct fin_aws_settings s = settings_for("FIN_S3_FAULT_ENDPOINT");
    s.retries = 8;
    s.multipart_threshold = 5 << 20;
    s.part_size = 5 << 20;
    struct fin_s3 *direct = s3_open("FIN_S3_ENDPOINT", 2);
    CHECK(fin_s3_create_bucket(direct, BUCKET));
    struct fin_s3_sink *k;
    CHECK(fin_s3_sink_create(&k, &s, NULL, "s3://" BUCKET "/sink"));
    char *dir = fin_test_mkdtemp("sink");
    char *path = fin_path_join(dir, "obj.tmp");
    size_t len = 7 * 1024 * 1024 + 3;
    char *d = make_data(len, 11);
    CHECK(fin_write_file_atomic(path, d, len));
    CHECK(fin_s3_sink_put_file(k, "2026/11/26/10/lake-1-2026-11-26-10-00-00-big", path));
    assert_false(fin_path_exists(path));
    assert_object(direct, "sink/2026/11/26/10/lake-1-2026-11-26-10-00-00-big", d, len);
    assert_int_equal(fin_s3_put_stats(fin_s3_sink_s3(k))->multipart_objects, 1);
    struct iovec iov[2] = {{d, 1000}, {d + 1000, 2000}};
    CHECK(fin_s3_sink_put(k, "2026/11/26/10/lake-1-2026-11-26-10-00-01-small", iov, 2));
    assert_object(direct, "sink/2026/11/26/10/lake-1-2026-11-26-10-00-01-small", d, 3000);
    CHECK(fin_s3_sink_sync(k));
    free(d);
    free(path);
    fin_test_rmdir(dir);
    fin_s3_sink_destroy(k);
    fin_s3_destroy(direct);
    fin_aws_settings_fini(&s);
}

/* ---- Kinesis ---- */

struct readback {
    int count;
    int last[10];
    bool in_order;
    char *seen;          /* one flag per record index */
    int total;
};

static const char *const TICKERS[10] = {"FB", "SHOP", "BYND", "NFLX", "PINS",
                                        "SQ", "TTD", "OKTA", "SNAP", "DDOG"};

static int on_record(void *ctx, const struct fin_kinesis_record *r)
{
    struct readback *rb = ctx;
    json_t *j = json_loadb(r->data, r->len, 0, NULL);
    int i = (int)json_integer_value(json_object_get(j, "i"));
    const char *name = json_string_value(json_object_get(j, "name"));
    bool ok = j && i >= 0 && i < rb->total && name && strcmp(name, r->key) == 0 &&
              strcmp(name, TICKERS[i % 10]) == 0;
    json_decref(j);
    if (!ok || rb->seen[i])
        rb->in_order = false;
    else
        rb->seen[i] = 1;
    if (ok && i <= rb->last[i % 10])
        rb->in_order = false;
    if (ok)
        rb->last[i % 10] = i;
    rb->count++;
    return 0;
}

static void produce(const char *env, const char *stream, int from, int to)
{
    struct fin_aws_settings s = settings_for(env);
    s.retries = 8;
    struct fin_kinesis_producer *p;
    CHECK(fin_kinesis_producer_create(&p, &s, NULL, stream));
    struct fin_record_sink sink = fin_kinesis_producer_sink(p);
    char rec[160];
    for (int i = from; i < to; i++) {
        const char *t = TICKERS[i % 10];
        int n = snprintf(rec, sizeof rec,
                         "{\"name\":\"%s\",\"ts\":\"2020-05-14 09:30:00-04:00\",\"high\":%d.5,\"i\":%d}",
                         t, 100 + i % 50, i);
        CHECK(sink.put(sink.ctx, t, strlen(t), rec, (size_t)n));
    }
    CHECK(sink.flush(sink.ctx));
    assert_int_equal(fin_kinesis_producer_stats(p)->records, to - from);
    assert_int_equal(fin_kinesis_producer_stats(p)->failed, 0);
    fin_kinesis_producer_destroy(p);
    fin_aws_settings_fini(&s);
}

static int count_only(void *ctx, const struct fin_kinesis_record *r)
{
    (void)r;
    (*(size_t *)ctx)++;
    return 0;
}

/* Produce to kinesalite (directly and through a proxy that throttles, fails and drops
 * connections), read everything back with the reader: exact counts, each record once, in
 * order per partition key. */
static void test_kinesis_round_trip(void **state)
{
    (void)state;
    if (!have("FIN_KINESIS_ENDPOINT") || !have("FIN_KINESIS_FAULT_ENDPOINT"))
        skip();
    struct fin_aws_settings s = settings_for("FIN_KINESIS_ENDPOINT");
    struct fin_aws_client *c;
    CHECK(fin_aws_client_create(&c, "kinesis", &s, NULL));
    CHECK(fin_kinesis_create_stream(c, "stocks", 2, 20000));
    CHECK(fin_kinesis_create_stream(c, "stocks", 2, 20000));   /* exists: fine */

    int total = 2600;
    produce("FIN_KINESIS_ENDPOINT", "stocks", 0, 1300);
    produce("FIN_KINESIS_FAULT_ENDPOINT", "stocks", 1300, total);

    struct fin_kinesis_reader *r;
    CHECK(fin_kinesis_reader_create(&r, &s, NULL, "stocks", FIN_KINESIS_TRIM_HORIZON));
    assert_int_equal(fin_kinesis_reader_shards(r), 2);
    struct readback rb = {.in_order = true, .total = total, .seen = calloc((size_t)total, 1)};
    for (int k = 0; k < 10; k++)
        rb.last[k] = -1;
    size_t n = 0;
    CHECK(fin_kinesis_reader_drain(r, on_record, &rb, &n));
    assert_int_equal(n, total);
    assert_int_equal(rb.count, total);
    assert_true(rb.in_order);
    for (int i = 0; i < total; i++)
        assert_int_equal(rb.seen[i], 1);

    /* A reader resuming from the first reader's positions sees only newer records. */
    struct fin_kinesis_reader *r2;
    CHECK(fin_kinesis_reader_create(&r2, &s, NULL, "stocks", FIN_KINESIS_TRIM_HORIZON));
    for (int sh = 0; sh < 2; sh++) {
        char id[32];
        snprintf(id, sizeof id, "shardId-%012d", sh);
        const char *pos = fin_kinesis_reader_position(r, id);
        assert_non_null(pos);
        CHECK(fin_kinesis_reader_set_position(r2, id, pos));
    }
    produce("FIN_KINESIS_ENDPOINT", "stocks", total, total + 10);
    struct readback rb2 = {.in_order = true, .total = total + 10,
                           .seen = calloc((size_t)total + 10, 1)};
    for (int k = 0; k < 10; k++)
        rb2.last[k] = total - 11;
    CHECK(fin_kinesis_reader_drain(r2, on_record, &rb2, &n));
    assert_int_equal(n, 10);
    assert_true(rb2.in_order);
    free(rb.seen);
    free(rb2.seen);

    /* What `collect --to kinesis:stocks` opens: settings from finstream.ini's [aws] and
     * [aws "kinesis"] sections. */
    char text[512];
    snprintf(text, sizeof text,
             "[aws]\nregion = us-east-1\naccess_key_id = S3RVER\nsecret_access_key = S3RVER\n"
             "endpoint_url = http://127.0.0.1:1\n"
             "[aws \"kinesis\"]\nendpoint_url = %s\n", getenv("FIN_KINESIS_ENDPOINT"));
    struct fin_ini ini;
    CHECK(fin_ini_load_string(&ini, text, "finstream.ini"));
    struct fin_aws_producer *ap;
    assert_int_equal(fin_aws_producer_open(&ap, "stream:stocks", &ini), FIN_EINVAL);
    CHECK(fin_aws_producer_open(&ap, "kinesis:stocks", &ini));
    struct fin_record_sink sink = fin_aws_producer_sink(ap);
    for (int i = 0; i < 25; i++)
        CHECK(sink.put(sink.ctx, "FB", 2, "{\"name\":\"FB\",\"i\":-1}", 21));
    CHECK(fin_aws_producer_close(ap));
    fin_ini_fini(&ini);
    size_t extra = 0;
    struct fin_kinesis_reader *r3;
    CHECK(fin_kinesis_reader_create(&r3, &s, NULL, "stocks", FIN_KINESIS_TRIM_HORIZON));
    for (int sh = 0; sh < 2; sh++) {
        char id[32];
        snprintf(id, sizeof id, "shardId-%012d", sh);
        CHECK(fin_kinesis_reader_set_position(r3, id, fin_kinesis_reader_position(r2, id) ?
                                              fin_kinesis_reader_position(r2, id) :
                                              fin_kinesis_reader_position(r, id)));
    }
    CHECK(fin_kinesis_reader_drain(r3, count_only, &extra, &n));
    assert_int_equal(n, 25);
    fin_kinesis_reader_destroy(r3);

    fin_kinesis_reader_destroy(r);
    fin_kinesis_reader_destroy(r2);
    CHECK(fin_kinesis_delete_stream(c, "stocks"));
    fin_aws_client_destroy(c);
    fin_aws_settings_fini(&s);
}

/* Reads every object under lake and marks the record index ("i") of each line in seen;
 * returns the number of lines. */
static int lake_records(const char *lake, char *seen, int total, bool *dupes)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "find '%s' -type f | sort", lake);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    char path[1024];
    int lines = 0;
    while (fgets(path, sizeof path, f)) {
        path[strcspn(path, "\n")] = '\0';
        char *data;
        size_t len;
        CHECK(fin_read_file(path, &data, &len));
        for (char *p = data, *e; p < data + len; p = e + 1) {
            e = memchr(p, '\n', (size_t)(data + len - p));
            assert_non_null(e);   /* newline-delimited, the last line too */
            json_t *j = json_loadb(p, (size_t)(e - p), 0, NULL);
            int i = (int)json_integer_value(json_object_get(j, "i"));
            json_decref(j);
            assert_true(i >= 0 && i < total);
            if (seen[i])
                *dupes = true;
            seen[i] = 1;
            lines++;
        }
        free(data);
    }
    pclose(f);
    return lines;
}

/* Pumps e until it has delivered want records in all (20 s at most), then flushes. */
static void pump_until(struct fin_delivery_engine *e, uint64_t want)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        size_t got = 0;
        CHECK(fin_delivery_engine_pump(e, 0, &got));
        size_t buffered = 0;
        fin_delivery_engine_buffered(e, &buffered, NULL);
        if (fin_delivery_engine_stats(e)->records + buffered >= want)
            break;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 20)
            fail_msg("delivery from kinesalite: %llu of %llu records after 20 s",
                     (unsigned long long)(fin_delivery_engine_stats(e)->records + buffered),
                     (unsigned long long)want);
        struct timespec nap = {0, 20 * 1000 * 1000};
        nanosleep(&nap, NULL);   /* the reader's 200 ms per shard pace this loop */
    }
    CHECK(fin_delivery_engine_flush(e));
}

/* kinesalite as delivery's source: records produced to a remote stream end up in lake
 * objects, each once; a restarted delivery resumes after its checkpoint. */
static void test_kinesis_to_delivery(void **state)
{
    (void)state;
    if (!have("FIN_KINESIS_ENDPOINT"))
        skip();
    struct fin_aws_settings s = settings_for("FIN_KINESIS_ENDPOINT");
    struct fin_aws_client *c;
    CHECK(fin_aws_client_create(&c, "kinesis", &s, NULL));
    CHECK(fin_kinesis_create_stream(c, "remote", 2, 20000));
    int total = 1500;
    produce("FIN_KINESIS_ENDPOINT", "remote", 0, total - 10);

    char *dir = fin_test_mkdtemp("kdeliver");
    char *lake = fin_path_join(dir, "lake");
    struct fin_delivery_settings set;
    CHECK(fin_delivery_settings_defaults(&set));
    free(set.source);
    set.source = strdup("stream:remote");
    for (int run = 0; run < 2; run++) {
        struct fin_kinesis_reader *r;
        CHECK(fin_kinesis_reader_create(&r, &s, NULL, "remote", FIN_KINESIS_TRIM_HORIZON));
        struct fin_delivery_source *src;
        CHECK(fin_kinesis_delivery_source_create(&src, r));
        struct fin_delivery_engine *e;
        CHECK(fin_delivery_engine_create(&e, dir, "fromkinesis", &set, src, NULL));
        if (run == 0) {
            pump_until(e, (uint64_t)total - 10);
        } else {
            /* After a restart: only what came since the checkpoint. */
            produce("FIN_KINESIS_ENDPOINT", "remote", total - 10, total);
            pump_until(e, 10);
        }
        fin_delivery_engine_destroy(e);
        fin_kinesis_delivery_source_destroy(src);
        fin_kinesis_reader_destroy(r);
    }
    char *seen = calloc((size_t)total, 1);
    bool dupes = false;
    assert_int_equal(lake_records(lake, seen, total, &dupes), total);
    assert_false(dupes);
    for (int i = 0; i < total; i++)
        assert_int_equal(seen[i], 1);
    free(seen);

    /* The lake delivery wrote, in the bucket: the same keys and bytes. */
    if (getenv("FIN_S3_ENDPOINT")) {
        struct fin_s3 *s3 = s3_open("FIN_S3_ENDPOINT", 2);
        CHECK(fin_s3_create_bucket(s3, BUCKET));
        struct fin_s3_tree_stats st;
        CHECK(fin_s3_put_tree(s3, lake, BUCKET, "delivered/", &st));
        assert_true(st.objects >= 1);
        assert_int_equal(compare_tree(s3, lake, "delivered/", ""), (int)st.objects);
        struct fin_s3_list l;
        CHECK(fin_s3_list_objects(s3, BUCKET, "delivered/", &l));
        assert_int_equal(l.n, st.objects);
        for (size_t i = 0; i < l.n; i++)
            assert_non_null(strstr(l.objects[i].key, "/fromkinesis-1-"));
        fin_s3_list_fini(&l);
        fin_s3_destroy(s3);
    }
    fin_delivery_settings_fini(&set);
    free(lake);
    fin_test_rmdir(dir);
    CHECK(fin_kinesis_delete_stream(c, "remote"));
    fin_aws_client_destroy(c);
    fin_aws_settings_fini(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_s3_objects),
        cmocka_unit_test(test_s3_multipart),
        cmocka_unit_test(test_s3_faults),
        cmocka_unit_test(test_s3_abort),
        cmocka_unit_test(test_s3_bad_signature),
        cmocka_unit_test(test_s3_put_tree),
        cmocka_unit_test(test_s3_sink),
        cmocka_unit_test(test_kinesis_round_trip),
        cmocka_unit_test(test_kinesis_to_delivery),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
