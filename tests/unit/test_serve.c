/* test_serve.c - the Kinesis API handlers, called without sockets: requests in,
 * responses (status, error type, JSON body) out, over a real stream in a temporary
 * directory, with a fake clock for stream status and iterator expiry. */
#include "fin_test.h"

#include "finstream/buf.h"
#include "finstream/clock.h"
#include "finstream/serve.h"
#include "serve/internal.h"
#include "serve/seqno.h"

#include <jansson.h>

#define AUTH "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, " \
             "SignedHeaders=host;x-amz-date, Signature=abcdef"

struct fx {
    char *dir;
    struct fin_fake_clock clock;
    struct fin_serve *svc;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    f->dir = fin_test_mkdtemp("serve");
    fin_fake_clock_init(&f->clock, 1767225600LL * FIN_NS_PER_SEC);
    struct fin_serve_config cfg;
    fin_serve_config_defaults(&cfg);
    cfg.data_dir = f->dir;
    cfg.clock = &f->clock.clock;
    cfg.creating_ms = 1000;
    cfg.updating_ms = 1000;
    cfg.deleting_ms = 1000;
    assert_int_equal(fin_serve_create(&f->svc, &cfg), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    fin_serve_destroy(f->svc);
    fin_test_rmdir(f->dir);
    free(f);
    return 0;
}

/* The signature's date header (the service checks its presence without access keys). */
static const struct fin_serve_header DATE_HEADER[] = {{"X-Amz-Date", "20260101T000000Z"}};

/* Sends body to action op; returns the status and the parsed body in *out (an empty
 * answer, as operations without output give, as {}). */
static int call_full(struct fx *f, const char *target, const char *auth, const char *body,
                     json_t **out)
{
    struct fin_serve_request req = {.method = "POST", .path = "/", .target = target,
                                    .content_type = "application/x-amz-json-1.1",
                                    .authorization = auth, .body = body,
                                    .body_len = strlen(body), .headers = DATE_HEADER,
                                    .n_headers = 1};
    struct fin_serve_response resp;
    fin_serve_handle(f->svc, &req, &resp);
    assert_int_equal(strlen(resp.request_id), 36);
    assert_true(strlen(resp.id2) > 20);
    assert_string_equal(resp.content_type, "application/x-amz-json-1.1");
    json_error_t jerr;
    json_t *v = resp.body_len ? json_loadb(resp.body, resp.body_len, 0, &jerr) : json_object();
    assert_non_null(v);
    if (out)
        *out = v;
    else
        json_decref(v);
    int status = resp.status;
    fin_serve_response_fini(&resp);
    return status;
}

static int call(struct fx *f, const char *op, const char *body, json_t **out)
{
    char target[128];
    snprintf(target, sizeof target, "Kinesis_20131202.%s", op);
    return call_full(f, target, AUTH, body, out);
}

/* Calls op expecting an error of type; checks status 400 unless told. */
static void expect_error(struct fx *f, const char *op, const char *body, int status,
                         const char *type)
{
    json_t *v = NULL;
    int st = call(f, op, body, &v);
    if (st != status || strcmp(json_string_value(json_object_get(v, "__type")), type) != 0)
        fail_msg("%s %s: got %d %s, want %d %s", op, body, st, json_dumps(v, 0), status, type);
    /* AWS sends no message for a body it cannot read or an unknown operation */
    if (strcmp(type, "SerializationException") != 0 && strcmp(type, "UnknownOperationException"))
        assert_non_null(json_string_value(json_object_get(v, "message")));
    json_decref(v);
}

static const char *status_of(struct fx *f, const char *name)
{
    static char st[32];
    char body[256];
    json_t *v;
    snprintf(body, sizeof body, "{\"StreamName\":\"%s\"}", name);
    assert_int_equal(call(f, "DescribeStreamSummary", body, &v), 200);
    snprintf(st, sizeof st, "%s",
             json_string_value(json_object_get(json_object_get(v, "StreamDescriptionSummary"),
                                               "StreamStatus")));
    json_decref(v);
    return st;
}

static void make_active(struct fx *f, const char *name, int shards)
{
    char body[256];
    snprintf(body, sizeof body, "{\"StreamName\":\"%s\",\"ShardCount\":%d}", name, shards);
    json_t *v = NULL;
    if (call(f, "CreateStream", body, &v) != 200)
        fail_msg("CreateStream: %s", json_dumps(v, 0));
    json_decref(v);
    fin_fake_clock_advance(&f->clock, 1001 * FIN_NS_PER_MS);
    assert_string_equal(status_of(f, name), "ACTIVE");
}

static void test_base64(void **state)
{
    (void)state;
    const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        struct fin_buf b;
        fin_buf_init(&b);
        assert_int_equal(b64_append(&b, plain[i], strlen(plain[i])), 0);
        assert_int_equal(b.len, strlen(enc[i]));
        assert_memory_equal(b.data, enc[i], b.len);
        unsigned char out[16];
        assert_int_equal(b64_decode(enc[i], strlen(enc[i]), out), (long)strlen(plain[i]));
        assert_memory_equal(out, plain[i], strlen(plain[i]));
        fin_buf_fini(&b);
    }
    unsigned char out[16];
    assert_int_equal(b64_decode("Zm9", 3, out), -1);        /* length */
    assert_int_equal(b64_decode("Zm9*", 4, out), -1);       /* alphabet */
    assert_int_equal(b64_decode("Zg==Zg==", 8, out), -1);   /* padding inside */
    assert_int_equal(b64_decode("Z=9v", 4, out), -1);
}

static void test_create_status_and_describe(void **state)
{
    struct fx *f = *state;
    assert_int_equal(call(f, "CreateStream", "{\"StreamName\":\"ticks\",\"ShardCount\":3}", NULL),
                     200);
    assert_string_equal(status_of(f, "ticks"), "CREATING");
    /* not writable yet, as with Kinesis */
    expect_error(f, "PutRecord", "{\"StreamName\":\"ticks\",\"Data\":\"eA==\",\"PartitionKey\":\"k\"}",
                 400, "ResourceNotFoundException");
    fin_fake_clock_advance(&f->clock, 1001 * FIN_NS_PER_MS);
    assert_string_equal(status_of(f, "ticks"), "ACTIVE");
    expect_error(f, "CreateStream", "{\"StreamName\":\"ticks\",\"ShardCount\":1}", 400,
                 "ResourceInUseException");

    json_t *v;
    assert_int_equal(call(f, "DescribeStream", "{\"StreamName\":\"ticks\"}", &v), 200);
    json_t *d = json_object_get(v, "StreamDescription");
    assert_string_equal(json_string_value(json_object_get(d, "StreamARN")),
                        "arn:aws:kinesis:us-east-1:000000000000:stream/ticks");
    json_t *shards = json_object_get(d, "Shards");
    assert_int_equal(json_array_size(shards), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(shards, 2), "ShardId")),
                        "shardId-000000000002");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(shards, 2), "HashKeyRange"),
                            "EndingHashKey")),
                        "340282366920938463463374607431768211455");
    assert_int_equal(json_integer_value(json_object_get(d, "RetentionPeriodHours")), 24);
    json_decref(v);

    assert_int_equal(call(f, "ListShards", "{\"StreamName\":\"ticks\",\"MaxResults\":2}", &v), 200);
    assert_int_equal(json_array_size(json_object_get(v, "Shards")), 2);
    char body[512];
    snprintf(body, sizeof body, "{\"NextToken\":\"%s\"}",
             json_string_value(json_object_get(v, "NextToken")));
    json_decref(v);
    assert_int_equal(call(f, "ListShards", body, &v), 200);
    assert_int_equal(json_array_size(json_object_get(v, "Shards")), 1);
    assert_null(json_object_get(v, "NextToken"));
    json_decref(v);

    assert_int_equal(call(f, "ListStreams", "{}", &v), 200);
    assert_int_equal(json_array_size(json_object_get(v, "StreamNames")), 1);
    assert_false(json_is_true(json_object_get(v, "HasMoreStreams")));
    json_decref(v);
}

static void test_put_and_get(void **state)
{
    struct fx *f = *state;
    make_active(f, "s", 2);
    /* 20 records over 4 keys, then read both shards back */
    struct fin_buf b;
    fin_buf_init(&b);
    fin_buf_puts(&b, "{\"StreamName\":\"s\",\"Records\":[");
    for (int i = 0; i < 20; i++) {
        char data[32], key[8];
        snprintf(data, sizeof data, "{\"n\":%d}", i);
        snprintf(key, sizeof key, "K%d", i % 4);
        fin_buf_printf(&b, "%s{\"PartitionKey\":\"%s\",\"Data\":\"", i ? "," : "", key);
        b64_append(&b, data, strlen(data));
        fin_buf_puts(&b, "\"}");
    }
    fin_buf_puts(&b, "]}");
    json_t *v;
    assert_int_equal(call(f, "PutRecords", fin_buf_cstr(&b), &v), 200);
    fin_buf_fini(&b);
    assert_int_equal(json_integer_value(json_object_get(v, "FailedRecordCount")), 0);
    json_t *recs = json_object_get(v, "Records");
    assert_int_equal(json_array_size(recs), 20);
    for (size_t i = 0; i < 20; i++)
        assert_int_equal(strlen(json_string_value(
                             json_object_get(json_array_get(recs, i), "SequenceNumber"))),
                         56);
    json_decref(v);

    int seen[20] = {0}, total = 0;
    for (int sh = 0; sh < 2; sh++) {
        char body[1024];
        snprintf(body, sizeof body,
                 "{\"StreamName\":\"s\",\"ShardId\":\"shardId-%012d\","
                 "\"ShardIteratorType\":\"TRIM_HORIZON\"}", sh);
        assert_int_equal(call(f, "GetShardIterator", body, &v), 200);
        char it[600];
        snprintf(it, sizeof it, "%s", json_string_value(json_object_get(v, "ShardIterator")));
        json_decref(v);
        snprintf(body, sizeof body, "{\"ShardIterator\":\"%s\",\"Limit\":3}", it);
        int last = -1;
        char prev_seq[64] = "";
        for (;;) {
            assert_int_equal(call(f, "GetRecords", body, &v), 200);
            json_t *rs = json_object_get(v, "Records");
            size_t i;
            json_t *r;
            json_array_foreach(rs, i, r) {
                const char *seq = json_string_value(json_object_get(r, "SequenceNumber"));
                assert_true(strcmp(seq, prev_seq) > 0);   /* grows within the shard */
                snprintf(prev_seq, sizeof prev_seq, "%s", seq);
                unsigned char data[64];
                const char *d64 = json_string_value(json_object_get(r, "Data"));
                long n = b64_decode(d64, strlen(d64), data);
                assert_true(n > 0);
                data[n] = 0;
                int k;
                assert_int_equal(sscanf((char *)data, "{\"n\":%d}", &k), 1);
                assert_true(k > last || strcmp(json_string_value(json_object_get(r, "PartitionKey")),
                                               "") != 0);
                seen[k]++;
                total++;
            }
            size_t got = json_array_size(rs);
            assert_true(got <= 3);
            snprintf(body, sizeof body, "{\"ShardIterator\":\"%s\",\"Limit\":3}",
                     json_string_value(json_object_get(v, "NextShardIterator")));
            json_decref(v);
            if (got == 0)
                break;
        }
        (void)last;
    }
    assert_int_equal(total, 20);
    for (int i = 0; i < 20; i++)
        assert_int_equal(seen[i], 1);

    /* LATEST sees only what comes after it */
    assert_int_equal(call(f, "GetShardIterator",
                          "{\"StreamName\":\"s\",\"ShardId\":\"shardId-000000000000\","
                          "\"ShardIteratorType\":\"LATEST\"}", &v), 200);
    char body[700];
    snprintf(body, sizeof body, "{\"ShardIterator\":\"%s\"}",
             json_string_value(json_object_get(v, "ShardIterator")));
    json_decref(v);
    assert_int_equal(call(f, "PutRecord", "{\"StreamName\":\"s\",\"Data\":\"bmV3\","
                                          "\"PartitionKey\":\"x\",\"ExplicitHashKey\":\"0\"}", &v),
                     200);
    assert_string_equal(json_string_value(json_object_get(v, "ShardId")), "shardId-000000000000");
    char seq[64];
    snprintf(seq, sizeof seq, "%s", json_string_value(json_object_get(v, "SequenceNumber")));
    json_decref(v);
    assert_int_equal(call(f, "GetRecords", body, &v), 200);
    json_t *rs = json_object_get(v, "Records");
    assert_int_equal(json_array_size(rs), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rs, 0), "Data")), "bmV3");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rs, 0), "SequenceNumber")),
                        seq);
    assert_int_equal(json_integer_value(json_object_get(v, "MillisBehindLatest")), 0);
    json_decref(v);

    /* AT_SEQUENCE_NUMBER starts at that record */
    snprintf(body, sizeof body,
             "{\"StreamName\":\"s\",\"ShardId\":\"shardId-000000000000\","
             "\"ShardIteratorType\":\"AT_SEQUENCE_NUMBER\",\"StartingSequenceNumber\":\"%s\"}", seq);
    assert_int_equal(call(f, "GetShardIterator", body, &v), 200);
    snprintf(body, sizeof body, "{\"ShardIterator\":\"%s\"}",
             json_string_value(json_object_get(v, "ShardIterator")));
    json_decref(v);
    assert_int_equal(call(f, "GetRecords", body, &v), 200);
    assert_int_equal(json_array_size(json_object_get(v, "Records")), 1);
    json_decref(v);
    /* a number of shard 0 used on shard 1 */
    snprintf(body, sizeof body,
             "{\"StreamName\":\"s\",\"ShardId\":\"shardId-000000000001\","
             "\"ShardIteratorType\":\"AFTER_SEQUENCE_NUMBER\",\"StartingSequenceNumber\":\"%s\"}",
             seq);
    expect_error(f, "GetShardIterator", body, 400, "InvalidArgumentException");
}

static void test_iterator_expiry_and_tampering(void **state)
{
    struct fx *f = *state;
    make_active(f, "s", 1);
    json_t *v;
    assert_int_equal(call(f, "GetShardIterator",
                          "{\"StreamName\":\"s\",\"ShardId\":\"shardId-000000000000\","
                          "\"ShardIteratorType\":\"TRIM_HORIZON\"}", &v), 200);
    char it[600], body[700];
    snprintf(it, sizeof it, "%s", json_string_value(json_object_get(v, "ShardIterator")));
    json_decref(v);
    snprintf(body, sizeof body, "{\"ShardIterator\":\"%s\"}", it);
    assert_int_equal(call(f, "GetRecords", body, NULL), 200);
    /* one flipped character: not ours */
    char orig = it[10];
    it[10] = orig == 'A' ? 'B' : 'A';
    snprintf(body, sizeof body, "{\"ShardIterator\":\"%s\"}", it);
    expect_error(f, "GetRecords", body, 400, "InvalidArgumentException");
    expect_error(f, "GetRecords", "{\"ShardIterator\":\"bm90IGFuIGl0ZXJhdG9y\"}", 400,
                 "InvalidArgumentException");
    it[10] = orig;
    snprintf(body, sizeof body, "{\"ShardIterator\":\"%s\"}", it);
    fin_fake_clock_advance(&f->clock, (300 * 1000 + 1) * FIN_NS_PER_MS);
    expect_error(f, "GetRecords", body, 400, "ExpiredIteratorException");
}

static void test_errors(void **state)
{
    struct fx *f = *state;
    make_active(f, "s", 1);
    expect_error(f, "DescribeStream", "{\"StreamName\":\"nope\"}", 400,
                 "ResourceNotFoundException");
    expect_error(f, "DescribeStream", "{\"StreamName\":\"bad/name\"}", 400, "ValidationException");
    expect_error(f, "DescribeStream", "{\"StreamName\":\"", 400, "SerializationException");
    /* a list where the object belongs has no members, as AWS reads it */
    expect_error(f, "DescribeStream", "[1,2]", 400, "ValidationException");
    expect_error(f, "NoSuchThing", "{}", 400, "UnknownOperationException");
    expect_error(f, "PutRecord", "{\"StreamName\":\"s\",\"Data\":\"!!!!\",\"PartitionKey\":\"k\"}",
                 400, "SerializationException");
    expect_error(f, "PutRecord", "{\"StreamName\":\"s\",\"Data\":\"eA==\",\"PartitionKey\":\"\"}",
                 400, "ValidationException");
    expect_error(f, "PutRecord", "{\"StreamName\":\"s\",\"Data\":\"eA==\"}", 400,
                 "ValidationException");
    expect_error(f, "PutRecord", "{\"StreamName\":\"s\",\"Data\":\"eA==\",\"PartitionKey\":\"k\","
                                 "\"ExplicitHashKey\":\"abc\"}", 400, "ValidationException");
    expect_error(f, "PutRecords", "{\"StreamName\":\"s\",\"Records\":[]}", 400,
                 "ValidationException");
    expect_error(f, "CreateStream", "{\"StreamName\":\"t\",\"ShardCount\":0}", 400,
                 "ValidationException");
    expect_error(f, "CreateStream", "{\"StreamName\":\"t\",\"ShardCount\":5000}", 400,
                 "LimitExceededException");
    expect_error(f, "GetShardIterator",
                 "{\"StreamName\":\"s\",\"ShardId\":\"shardId-000000000009\","
                 "\"ShardIteratorType\":\"LATEST\"}", 400, "ResourceNotFoundException");
    expect_error(f, "GetShardIterator",
                 "{\"StreamName\":\"s\",\"ShardId\":\"shardId-000000000000\","
                 "\"ShardIteratorType\":\"SOMEWHERE\"}", 400, "ValidationException");
    expect_error(f, "GetShardIterator",
                 "{\"StreamName\":\"s\",\"ShardId\":\"shardId-000000000000\","
                 "\"ShardIteratorType\":\"AT_SEQUENCE_NUMBER\"}", 400, "InvalidArgumentException");
    expect_error(f, "SplitShard", "{\"StreamName\":\"s\"}", 400, "ValidationException");
    expect_error(f, "SplitShard", "{\"StreamName\":\"s\",\"ShardToSplit\":\"shardId-000000000009\","
                                  "\"NewStartingHashKey\":\"5\"}", 400, "ResourceNotFoundException");

    /* data over 1 MiB */
    size_t n = FIN_STREAM_MAX_DATA + 3;
    char *raw = malloc(n);
    memset(raw, 'x', n);
    struct fin_buf b;
    fin_buf_init(&b);
    fin_buf_puts(&b, "{\"StreamName\":\"s\",\"PartitionKey\":\"k\",\"Data\":\"");
    b64_append(&b, raw, n);
    fin_buf_puts(&b, "\"}");
    expect_error(f, "PutRecord", fin_buf_cstr(&b), 400, "ValidationException");
    fin_buf_fini(&b);
    free(raw);

    /* authentication */
    json_t *v;
    assert_int_equal(call_full(f, "Kinesis_20131202.ListStreams", NULL, "{}", &v), 400);
    assert_string_equal(json_string_value(json_object_get(v, "__type")),
                        "MissingAuthenticationTokenException");
    json_decref(v);
    assert_int_equal(call_full(f, "Kinesis_20131202.ListStreams", "AWS4-HMAC-SHA256 Signature=x",
                               "{}", &v), 400);
    assert_string_equal(json_string_value(json_object_get(v, "__type")),
                        "IncompleteSignatureException");
    json_decref(v);

    /* every error above was counted */
    char *text;
    size_t len;
    assert_int_equal(fin_serve_metrics(f->svc, &text, &len), 0);
    assert_non_null(strstr(text, "finstream_errors_total{type=\"ResourceNotFoundException\"} 3"));
    assert_non_null(strstr(text, "finstream_errors_total{type=\"ValidationException\"} 10"));
    free(text);
}

static void test_tags_retention_delete(void **state)
{
    struct fx *f = *state;
    make_active(f, "s", 1);
    json_t *v;
    assert_int_equal(call(f, "AddTagsToStream", "{\"StreamName\":\"s\",\"Tags\":{\"b\":\"2\","
                                                "\"a\":\"1\",\"c\":\"3\"}}", NULL), 200);
    assert_int_equal(call(f, "RemoveTagsFromStream", "{\"StreamName\":\"s\",\"TagKeys\":[\"c\"]}",
                          NULL), 200);
    assert_int_equal(call(f, "ListTagsForStream", "{\"StreamName\":\"s\"}", &v), 200);
    json_t *tags = json_object_get(v, "Tags");
    assert_int_equal(json_array_size(tags), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(tags, 0), "Key")), "a");
    assert_string_equal(json_string_value(json_object_get(json_array_get(tags, 1), "Value")), "2");
    json_decref(v);

    expect_error(f, "DecreaseStreamRetentionPeriod",
                 "{\"StreamName\":\"s\",\"RetentionPeriodHours\":12}", 400,
                 "InvalidArgumentException");
    expect_error(f, "DecreaseStreamRetentionPeriod",
                 "{\"StreamName\":\"s\",\"RetentionPeriodHours\":48}", 400,
                 "InvalidArgumentException");
    assert_int_equal(call(f, "IncreaseStreamRetentionPeriod",
                          "{\"StreamName\":\"s\",\"RetentionPeriodHours\":48}", NULL), 200);
    assert_string_equal(status_of(f, "s"), "UPDATING");
    expect_error(f, "IncreaseStreamRetentionPeriod",
                 "{\"StreamName\":\"s\",\"RetentionPeriodHours\":72}", 400,
                 "ResourceInUseException");
    fin_fake_clock_advance(&f->clock, 1001 * FIN_NS_PER_MS);
    assert_string_equal(status_of(f, "s"), "ACTIVE");

    /* tags and retention survive a restart of the service */
    fin_serve_destroy(f->svc);
    struct fin_serve_config cfg;
    fin_serve_config_defaults(&cfg);
    cfg.data_dir = f->dir;
    cfg.clock = &f->clock.clock;
    cfg.deleting_ms = 1000;
    assert_int_equal(fin_serve_create(&f->svc, &cfg), 0);
    assert_int_equal(call(f, "DescribeStreamSummary", "{\"StreamName\":\"s\"}", &v), 200);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(v, "StreamDescriptionSummary"), "RetentionPeriodHours")),
                     48);
    json_decref(v);
    assert_int_equal(call(f, "ListTagsForStream", "{\"StreamName\":\"s\"}", &v), 200);
    assert_int_equal(json_array_size(json_object_get(v, "Tags")), 2);
    json_decref(v);

    assert_int_equal(call(f, "DeleteStream", "{\"StreamName\":\"s\"}", NULL), 200);
    assert_string_equal(status_of(f, "s"), "DELETING");
    char path[1024];
    snprintf(path, sizeof path, "%s/streams/s", f->dir);
    assert_false(fin_path_exists(path));
    expect_error(f, "PutRecord", "{\"StreamName\":\"s\",\"Data\":\"eA==\",\"PartitionKey\":\"k\"}",
                 400, "ResourceNotFoundException");
    fin_fake_clock_advance(&f->clock, 1001 * FIN_NS_PER_MS);
    expect_error(f, "DescribeStream", "{\"StreamName\":\"s\"}", 400, "ResourceNotFoundException");
    assert_int_equal(call(f, "ListStreams", "{}", &v), 200);
    assert_int_equal(json_array_size(json_object_get(v, "StreamNames")), 0);
    json_decref(v);
}

/* A split: the parent is read to its end, then says no next iterator and names its
 * children; records put after the split go to the children. */
static void test_split(void **state)
{
    struct fx *f = *state;
    make_active(f, "s", 1);
    json_t *v;
    assert_int_equal(call(f, "PutRecord", "{\"StreamName\":\"s\",\"Data\":\"YQ==\","
                                          "\"PartitionKey\":\"k\"}", NULL), 200);
    assert_int_equal(call(f, "GetShardIterator",
                          "{\"StreamName\":\"s\",\"ShardId\":\"shardId-000000000000\","
                          "\"ShardIteratorType\":\"TRIM_HORIZON\"}", &v), 200);
    char body[700];
    snprintf(body, sizeof body, "{\"ShardIterator\":\"%s\"}",
             json_string_value(json_object_get(v, "ShardIterator")));
    json_decref(v);
    assert_int_equal(call(f, "SplitShard", "{\"StreamName\":\"s\",\"ShardToSplit\":"
                                           "\"shardId-000000000000\",\"NewStartingHashKey\":"
                                           "\"170141183460469231731687303715884105728\"}", NULL),
                     200);
    assert_string_equal(status_of(f, "s"), "UPDATING");
    expect_error(f, "MergeShards", "{\"StreamName\":\"s\",\"ShardToMerge\":"
                                   "\"shardId-000000000001\",\"AdjacentShardToMerge\":"
                                   "\"shardId-000000000002\"}", 400, "ResourceInUseException");
    fin_fake_clock_advance(&f->clock, 1001 * FIN_NS_PER_MS);
    assert_int_equal(call(f, "PutRecord", "{\"StreamName\":\"s\",\"Data\":\"Yg==\","
                                          "\"PartitionKey\":\"k\"}", &v), 200);
    const char *child = json_string_value(json_object_get(v, "ShardId"));
    assert_true(strcmp(child, "shardId-000000000001") == 0 ||
                strcmp(child, "shardId-000000000002") == 0);
    json_decref(v);

    assert_int_equal(call(f, "ListShards", "{\"StreamName\":\"s\"}", &v), 200);
    json_t *shards = json_object_get(v, "Shards");
    assert_int_equal(json_array_size(shards), 3);
    json_t *parent = json_array_get(shards, 0), *c1 = json_array_get(shards, 1);
    assert_non_null(json_object_get(json_object_get(parent, "SequenceNumberRange"),
                                    "EndingSequenceNumber"));
    assert_string_equal(json_string_value(json_object_get(c1, "ParentShardId")),
                        "shardId-000000000000");
    json_decref(v);

    /* the parent: its one record, then no next iterator and the two children */
    assert_int_equal(call(f, "GetRecords", body, &v), 200);
    assert_int_equal(json_array_size(json_object_get(v, "Records")), 1);
    assert_null(json_object_get(v, "NextShardIterator"));
    assert_int_equal(json_array_size(json_object_get(v, "ChildShards")), 2);
    json_decref(v);

    assert_int_equal(call(f, "DescribeStreamSummary", "{\"StreamName\":\"s\"}", &v), 200);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(v, "StreamDescriptionSummary"), "OpenShardCount")), 2);
    json_decref(v);
    assert_int_equal(call(f, "UpdateShardCount", "{\"StreamName\":\"s\",\"TargetShardCount\":4,"
                                                 "\"ScalingType\":\"UNIFORM_SCALING\"}", &v), 200);
    assert_int_equal(json_integer_value(json_object_get(v, "TargetShardCount")), 4);
    json_decref(v);
    fin_fake_clock_advance(&f->clock, 1001 * FIN_NS_PER_MS);
    expect_error(f, "UpdateShardCount", "{\"StreamName\":\"s\",\"TargetShardCount\":9,"
                                        "\"ScalingType\":\"UNIFORM_SCALING\"}", 400,
                 "InvalidArgumentException");
}

/* Malformed CBOR of every kind is a SerializationException in CBOR, never a crash. */
static void test_cbor_malformed(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *bytes;
        size_t len;
    } bad[] = {
        {"\xa1", 1},                       /* map of one, nothing after */
        {"\xa1\x01\x02", 3},               /* key not a string */
        {"\x7a\xff\xff\xff\xff", 5},       /* text longer than the body */
        {"\xbf\x61\x61", 3},               /* indefinite map never closed */
        {"\x1c", 1},                       /* reserved additional info */
        {"\x83\x01\x02", 3},               /* array short of an item */
        {"\xa0\x00", 2},                   /* trailing bytes */
        {"\x01", 1},                       /* not a map */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct fin_serve_request req = {.method = "POST", .path = "/",
                                        .target = "Kinesis_20131202.ListStreams",
                                        .content_type = "application/x-amz-cbor-1.1",
                                        .authorization = AUTH, .body = bad[i].bytes,
                                        .body_len = bad[i].len, .headers = DATE_HEADER,
                                        .n_headers = 1};
        struct fin_serve_response resp;
        fin_serve_handle(f->svc, &req, &resp);
        assert_int_equal(resp.status, 400);
        assert_string_equal(resp.content_type, "application/x-amz-cbor-1.1");
        /* {"__type": "SerializationException"}, as AWS answers a body it cannot read */
        assert_true(resp.body_len > 20);
        assert_int_equal((unsigned char)resp.body[0], 0xa1);
        assert_non_null(memmem(resp.body, resp.body_len, "SerializationException", 22));
        fin_serve_response_fini(&resp);
    }
    /* nesting deeper than the limit */
    char deep[200];
    memset(deep, 0x81, sizeof deep);   /* arrays of one, forever */
    deep[0] = (char)0xa1, deep[1] = 0x61, deep[2] = 'a';
    struct fin_serve_request req = {.method = "POST", .path = "/",
                                    .target = "Kinesis_20131202.ListStreams",
                                    .content_type = "application/x-amz-cbor-1.1",
                                    .authorization = AUTH, .body = deep, .body_len = sizeof deep,
                                    .headers = DATE_HEADER, .n_headers = 1};
    struct fin_serve_response resp;
    fin_serve_handle(f->svc, &req, &resp);
    assert_int_equal(resp.status, 400);
    fin_serve_response_fini(&resp);
    /* a good one: {"Limit": 5} */
    req.body = "\xa1\x65Limit\x05";
    req.body_len = 8;
    fin_serve_handle(f->svc, &req, &resp);
    assert_int_equal(resp.status, 200);
    assert_int_equal((unsigned char)resp.body[0] >> 5, 5);   /* a map */
    fin_serve_response_fini(&resp);
}

/* AWS's sequence-number layout: version 2, fields where kinesalite's db/index.js reads
 * them, the stored number back exactly; shard ids and hash keys as AWS reads them. */
static void test_seqno(void **state)
{
    (void)state;
    const char *stored = "49001700000000000000000003000000000000000000000000004711";
    char wire[AWS_SEQ_MAX + 1], back[57];
    aws_seq_from_stored(stored, 1700000123, false, wire);
    assert_int_equal(strlen(wire), 56);
    struct aws_seq s;
    assert_int_equal(aws_seq_parse(wire, &s), 0);
    assert_int_equal(s.version, 2);
    assert_int_equal(s.shard_created_s, 1700000000);
    assert_int_equal(s.shard_ix, 3);
    assert_int_equal(s.seq_ix, 4711);
    assert_int_equal(s.seq_time_s, 1700000123);
    aws_seq_to_stored(&s, back);
    assert_string_equal(back, stored);
    /* order within a shard follows the counter */
    char w2[AWS_SEQ_MAX + 1];
    aws_seq_from_stored("49001700000000000000000003000000000000000000000000004712", 1700000000,
                        false, w2);
    assert_true(dec_cmp(w2, wire) > 0);
    /* a closed shard ends above where it starts */
    char start[AWS_SEQ_MAX + 1], end[AWS_SEQ_MAX + 1];
    aws_seq_from_stored("49001700000000000000000003000000000000000000000000000000", 0, false,
                        start);
    aws_seq_from_stored("49001700000000000000000003000000000000000000000000000000", 0, true, end);
    assert_true(dec_cmp(end, start) > 0);
    /* small numbers decode as version 0 with the shard in the low bits, as Kinesis */
    assert_int_equal(aws_seq_parse("12345", &s), 0);
    assert_int_equal(s.version, 0);
    assert_int_equal(s.shard_ix, 12345);
    assert_int_equal(aws_seq_parse("x1", &s), -1);
    char id[FIN_SHARD_ID_LEN + 1];
    assert_int_equal(aws_shard_resolve("shardId-000000000005", id), 5);
    assert_string_equal(id, "shardId-000000000005");
    assert_int_equal(aws_shard_resolve("5", id), 5);
    assert_int_equal(aws_shard_resolve("x-0005", id), 5);
    assert_int_equal(aws_shard_resolve("shardId-1-2", id), 1);
    assert_int_equal(aws_shard_resolve("shardId-abc", id), -1);
    assert_int_equal(aws_shard_resolve("99999999999", id), -1);
    assert_true(hash_key_in_range("340282366920938463463374607431768211455"));
    assert_false(hash_key_in_range("340282366920938463463374607431768211456"));
    char sum[48];
    dec_add("170141183460469231731687303715884105727", 1, sum, sizeof sum);
    assert_string_equal(sum, "170141183460469231731687303715884105728");
    dec_add("4294967296", -1, sum, sizeof sum);
    assert_string_equal(sum, "4294967295");
}

/* ---- Firehose ---- */

#define FH_AUTH "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/firehose/aws4_request, " \
                "SignedHeaders=host;x-amz-date, Signature=abcdef"

static struct fin_serve *fh_open(struct fx *f)
{
    char ini[600];
    snprintf(ini, sizeof ini, "%s/finstream.ini", f->dir);
    struct fin_serve_config cfg;
    fin_serve_config_defaults(&cfg);
    cfg.data_dir = f->dir;
    cfg.config_path = ini;
    cfg.clock = &f->clock.clock;
    struct fin_serve *svc;
    assert_int_equal(fin_serve_create(&svc, &cfg), 0);
    return svc;
}

static int fh(struct fx *f, const char *op, const char *body, json_t **out)
{
    char target[128];
    snprintf(target, sizeof target, "Firehose_20150804.%s", op);
    return call_full(f, target, FH_AUTH, body, out);
}

/* A DirectPut delivery stream keeps its kind and description across a restart; ARNs
 * carry the signature's region; its private stream is out of the Kinesis API's reach. */
static void test_firehose_restart_and_private(void **state)
{
    struct fx *f = *state;
    fin_serve_destroy(f->svc);
    /* a private stream made in advance, outside serve: its record must not be adopted */
    struct fin_stream_config scfg;
    fin_stream_config_defaults(&scfg);
    assert_int_equal(fin_stream_create(f->dir, "__firehose.d", &scfg), 0);
    struct fin_stream *st;
    assert_int_equal(fin_stream_open(&st, f->dir, "__firehose.d", FIN_STREAM_WRITE, NULL), 0);
    assert_int_equal(fin_stream_put(st, "k", 1, "{\"foreign\":1}", 13, NULL, NULL), 0);
    fin_stream_close(st);
    f->svc = fh_open(f);
    json_t *v, *before, *after;
    assert_int_equal(fh(f, "CreateDeliveryStream",
                        "{\"DeliveryStreamName\":\"d\",\"ExtendedS3DestinationConfiguration\":"
                        "{\"BucketARN\":\"arn:aws:s3:::unit-lake\",\"RoleARN\":\"arn:aws:iam::1:role/r\","
                        "\"Prefix\":\"p/\",\"BufferingHints\":{\"SizeInMBs\":2,\"IntervalInSeconds\":0}}}",
                        &v), 200);
    assert_string_equal(json_string_value(json_object_get(v, "DeliveryStreamARN")),
                        "arn:aws:firehose:us-east-1:000000000000:deliverystream/d");
    json_decref(v);
    const char *put = "{\"DeliveryStreamName\":\"d\",\"Record\":{\"Data\":\"eyJhIjoxfQ==\"}}";
    assert_int_equal(fh(f, "PutRecord", put, NULL), 200);
    assert_int_equal(fh(f, "DescribeDeliveryStream", "{\"DeliveryStreamName\":\"d\"}", &before), 200);
    fin_serve_destroy(f->svc);
    f->svc = fh_open(f);
    assert_int_equal(fh(f, "PutRecord", put, NULL), 200);
    assert_int_equal(fh(f, "DescribeDeliveryStream", "{\"DeliveryStreamName\":\"d\"}", &after), 200);
    assert_true(json_equal(before, after));
    json_t *desc = json_object_get(after, "DeliveryStreamDescription");
    assert_string_equal(json_string_value(json_object_get(desc, "DeliveryStreamType")), "DirectPut");
    json_t *ext = json_object_get(json_array_get(json_object_get(desc, "Destinations"), 0),
                                  "ExtendedS3DestinationDescription");
    assert_string_equal(json_string_value(json_object_get(ext, "Prefix")), "p/");
    assert_string_equal(json_string_value(json_object_get(ext, "RoleARN")), "arn:aws:iam::1:role/r");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ext, "BufferingHints"),
                                                        "IntervalInSeconds")), 0);
    json_decref(before);
    json_decref(after);

    /* the private stream, through Kinesis */
    expect_error(f, "DescribeStream", "{\"StreamName\":\"__firehose.d\"}", 400, "ResourceNotFoundException");
    expect_error(f, "DeleteStream", "{\"StreamName\":\"__firehose.d\"}", 400, "ResourceNotFoundException");
    expect_error(f, "PutRecords", "{\"StreamName\":\"__firehose.d\",\"Records\":[{\"Data\":\"eA==\","
                 "\"PartitionKey\":\"k\"}]}", 400, "ResourceNotFoundException");
    expect_error(f, "DescribeStreamSummary", "{\"StreamARN\":\"arn:aws:kinesis:us-east-1:"
                 "000000000000:stream/__firehose.d\"}", 400, "ResourceNotFoundException");
    expect_error(f, "CreateStream", "{\"StreamName\":\"__firehose.e\",\"ShardCount\":1}", 400,
                 "InvalidArgumentException");
    assert_int_equal(call(f, "ListStreams", "{}", &v), 200);
    assert_int_equal(json_array_size(json_object_get(v, "StreamNames")), 0);
    json_decref(v);
    /* ... and still the delivery stream's */
    assert_int_equal(fh(f, "PutRecord", put, NULL), 200);
    assert_int_equal(fh(f, "DeleteDeliveryStream", "{\"DeliveryStreamName\":\"d\"}", NULL), 200);
    /* the foreign record was not adopted into the lake (exact contents across restarts
     * are checked by serve_firehose_restart, with a real clock; here the stream's clock is
     * frozen, which the delivery's reader and retention do not follow) */
    char cmd[1200], out[256] = "";
    snprintf(cmd, sizeof cmd, "cat %s/lake/unit-lake/p/*/*/*/*/* 2>/dev/null | tr -d '\\n'",
             f->dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got = fread(out, 1, sizeof out - 1, p);
    pclose(p);
    out[got] = '\0';
    assert_non_null(strstr(out, "{\"a\":1}"));
    assert_null(strstr(out, "foreign"));
    assert_int_equal(fh(f, "DescribeDeliveryStream", "{\"DeliveryStreamName\":\"d\"}", &v), 400);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_seqno),
        cmocka_unit_test_setup_teardown(test_create_status_and_describe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_and_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iterator_expiry_and_tampering, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tags_retention_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cbor_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split, setup, teardown),
        cmocka_unit_test_setup_teardown(test_firehose_restart_and_private, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
