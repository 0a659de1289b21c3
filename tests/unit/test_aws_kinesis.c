/* test_aws_kinesis.c - the Kinesis and Firehose producers and the Kinesis reader against a
 * scripted transport: batch limits, per-record rejections re-sent in order, records given
 * up on and reported, and the reader's iterator chain and 5-calls-per-second pacing. */
#include "fin_test.h"

#include <jansson.h>
#include <openssl/evp.h>

#include "finstream/aws_kinesis.h"
#include "finstream/delivery.h"
#include "finstream/error.h"
#include "test_aws_fake.h"

#define MAX_ACCEPTED 4096

/* A fake Kinesis/Firehose: throttles like a shard over its budget (the first try of every
 * third record is rejected, and so is every later record with the same key in that call),
 * always rejects records whose data is "POISON", and logs what it accepted. */
struct fake_service {
    char *accepted[MAX_ACCEPTED];
    char *keys[MAX_ACCEPTED];
    int n_accepted;
    int calls;
    int max_batch;
    size_t max_bytes;
    json_t *tries;     /* data -> number of tries */
};

static char *unb64(const char *s)
{
    size_t n = strlen(s);
    unsigned char *out = malloc(n + 1);
    int w = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
    if (n && s[n - 1] == '=')
        w--;
    if (n > 1 && s[n - 2] == '=')
        w--;
    out[w] = '\0';
    return (char *)out;
}

static void service_handler(struct fake_transport *ft, const struct fin_http_request *req,
                            struct fin_http_response *resp)
{
    struct fake_service *svc = ft->ctx;
    bool firehose = strstr(ft->last_headers, "Firehose_20150804.PutRecordBatch") != NULL;
    json_t *body = json_loadb(req->body, req->body_len, 0, NULL);
    assert_non_null(body);
    json_t *recs = json_object_get(body, "Records");
    int n = (int)json_array_size(recs);
    svc->calls++;
    if (n > svc->max_batch)
        svc->max_batch = n;
    json_t *results = json_array();
    json_t *throttled = json_object();
    int failed = 0;
    size_t bytes = 0;
    for (int i = 0; i < n; i++) {
        json_t *r = json_array_get(recs, (size_t)i);
        char *data = unb64(json_string_value(json_object_get(r, "Data")));
        const char *key = json_string_value(json_object_get(r, "PartitionKey"));
        bytes += strlen(data) + (key ? strlen(key) : 0);
        json_int_t tries = json_integer_value(json_object_get(svc->tries, data)) + 1;
        json_object_set_new(svc->tries, data, json_integer(tries));
        int seq = svc->n_accepted;
        if (strncmp(data, "POISON", 6) == 0) {
            json_array_append_new(results, json_pack("{s:s,s:s}", "ErrorCode", "InternalFailure",
                                                     "ErrorMessage", "always fails"));
            failed++;
            free(data);
        } else if ((tries == 1 && i % 3 == 1) || (key && json_object_get(throttled, key))) {
            if (key)
                json_object_set_new(throttled, key, json_true());
            json_array_append_new(results,
                                  json_pack("{s:s,s:s}", "ErrorCode",
                                            firehose ? "ServiceUnavailableException"
                                                     : "ProvisionedThroughputExceededException",
                                            "ErrorMessage", "Rate exceeded for shard"));
            failed++;
            free(data);
        } else {
            assert_true(svc->n_accepted < MAX_ACCEPTED);
            svc->accepted[svc->n_accepted] = data;
            svc->keys[svc->n_accepted++] = key ? strdup(key) : NULL;
            char sq[64];
            snprintf(sq, sizeof sq, "%056d", seq);
            json_array_append_new(results, firehose ? json_pack("{s:s}", "RecordId", sq)
                                                    : json_pack("{s:s,s:s}", "SequenceNumber", sq,
                                                                "ShardId", "shardId-000000000000"));
        }
    }
    json_decref(throttled);
    if (bytes > svc->max_bytes)
        svc->max_bytes = bytes;
    json_t *ans = firehose ? json_pack("{s:i,s:b,s:o}", "FailedPutCount", failed, "Encrypted", 0,
                                       "RequestResponses", results)
                           : json_pack("{s:i,s:o}", "FailedRecordCount", failed, "Records", results);
    char *text = json_dumps(ans, JSON_COMPACT);
    resp->status = 200;
    fin_buf_puts(&resp->body, text);
    free(text);
    json_decref(ans);
    json_decref(body);
}

static void service_fini(struct fake_service *svc)
{
    for (int i = 0; i < svc->n_accepted; i++) {
        free(svc->accepted[i]);
        free(svc->keys[i]);
    }
    json_decref(svc->tries);
}

struct rig {
    struct fake_transport ft;
    struct fake_service svc;
    struct fin_fake_clock fc;
    struct fin_aws_settings s;
    struct fin_aws_credentials cr;
    struct fin_aws_client_deps deps;
};

static void rig_init(struct rig *g)
{
    memset(g, 0, sizeof *g);
    fake_init(&g->ft);
    g->svc.tries = json_object();
    g->ft.handler = service_handler;
    g->ft.ctx = &g->svc;
    fin_fake_clock_init(&g->fc, 1764153000LL * FIN_NS_PER_SEC);
    assert_int_equal(fin_aws_settings_load(&g->s, NULL, NULL), 0);
    free(g->s.region);
    g->s.region = strdup("eu-west-1");
    g->s.retries = 3;
    g->cr = (struct fin_aws_credentials){.access_key_id = "AK", .secret_access_key = "SK"};
    g->deps = (struct fin_aws_client_deps){.transport = &g->ft.base, .clock = &g->fc.clock,
                                           .credentials = &g->cr, .seed = 3};
}

static void rig_fini(struct rig *g)
{
    service_fini(&g->svc);
    fin_aws_settings_fini(&g->s);
    fake_fini(&g->ft);
}

static void test_kinesis_producer(void **state)
{
    (void)state;
    struct rig g;
    rig_init(&g);
    struct fin_kinesis_producer *p;
    assert_int_equal(fin_kinesis_producer_create(&p, &g.s, &g.deps, "stocks"), 0);
    struct fin_record_sink sink = fin_kinesis_producer_sink(p);
    const char *tickers[] = {"FB", "SHOP", "BYND", "NFLX", "PINS"};
    char rec[128];
    int total = 1234;
    for (int i = 0; i < total; i++) {
        const char *t = tickers[i % 5];
        int n = snprintf(rec, sizeof rec, "{\"name\":\"%s\",\"i\":%d}", t, i);
        assert_int_equal(sink.put(sink.ctx, t, strlen(t), rec, (size_t)n), 0);
    }
    assert_int_equal(sink.flush(sink.ctx), 0);
    const struct fin_producer_stats *st = fin_kinesis_producer_stats(p);
    assert_int_equal(st->records, total);
    assert_int_equal(st->failed, 0);
    assert_true(st->resent > 0);
    assert_int_equal(g.svc.n_accepted, total);
    assert_int_equal(g.svc.max_batch, FIN_KINESIS_PUT_MAX_RECORDS);
    /* Every record exactly once, and per key in the order put. */
    int last[5] = {-1, -1, -1, -1, -1};
    json_t *seen = json_object();
    for (int i = 0; i < g.svc.n_accepted; i++) {
        json_t *j = json_loads(g.svc.accepted[i], 0, NULL);
        int idx = (int)json_integer_value(json_object_get(j, "i"));
        assert_string_equal(g.svc.keys[i], tickers[idx % 5]);
        assert_true(idx > last[idx % 5]);
        last[idx % 5] = idx;
        assert_null(json_object_get(seen, g.svc.accepted[i]));
        json_object_set_new(seen, g.svc.accepted[i], json_true());
        json_decref(j);
    }
    json_decref(seen);

    /* A record that is always rejected is given up on after the retries and reported. */
    assert_int_equal(fin_kinesis_producer_put(p, "FB", 2, "POISON", 6), 0);
    assert_int_equal(fin_kinesis_producer_put(p, "FB", 2, "{\"ok\":1}", 8), 0);
    int rc = fin_kinesis_producer_flush(p);
    assert_int_equal(rc, FIN_EAGAIN);
    assert_non_null(strstr(fin_err_msg(), "1 of 2 records not put to stream stocks"));
    assert_non_null(strstr(fin_err_msg(), "InternalFailure"));
    assert_int_equal(st->failed, 1);
    assert_int_equal(json_integer_value(json_object_get(g.svc.tries, "POISON")), 4);

    /* Bad records are refused at put, naming the problem; nothing is queued. */
    assert_int_equal(fin_kinesis_producer_put(p, "", 0, "x", 1), FIN_EINVAL);
    char *big = calloc(1, FIN_KINESIS_RECORD_MAX);
    assert_int_equal(fin_kinesis_producer_put(p, "FB", 2, big, FIN_KINESIS_RECORD_MAX), FIN_ELIMIT);
    assert_int_equal(fin_kinesis_producer_flush(p), 0);

    /* Large records: batches stay within 5 MiB. */
    int before = g.svc.calls;
    memset(big, 'x', 700 * 1024);
    for (int i = 0; i < 20; i++) {
        big[0] = (char)('A' + i);
        assert_int_equal(fin_kinesis_producer_put(p, "K", 1, big, 700 * 1024), 0);
    }
    assert_int_equal(fin_kinesis_producer_flush(p), 0);
    assert_true(g.svc.max_bytes <= FIN_KINESIS_PUT_MAX_BYTES);
    assert_true(g.svc.calls - before >= 3);
    free(big);

    fin_kinesis_producer_destroy(p);
    rig_fini(&g);
}

static void test_firehose_producer(void **state)
{
    (void)state;
    struct rig g;
    rig_init(&g);
    struct fin_firehose_producer *p;
    assert_int_equal(fin_firehose_producer_create(&p, &g.s, &g.deps, "lake"), 0);
    struct fin_record_sink sink = fin_firehose_producer_sink(p);
    char rec[64];
    for (int i = 0; i < 1001; i++) {
        int n = snprintf(rec, sizeof rec, "{\"i\":%d}", i);
        assert_int_equal(sink.put(sink.ctx, "FB", 2, rec, (size_t)n), 0);
    }
    assert_int_equal(sink.flush(sink.ctx), 0);
    assert_int_equal(fin_firehose_producer_stats(p)->records, 1001);
    assert_int_equal(g.svc.n_accepted, 1001);
    assert_int_equal(g.svc.max_batch, FIN_FIREHOSE_PUT_MAX_RECORDS);
    assert_non_null(strstr(g.ft.last_url, "firehose.eu-west-1.amazonaws.com"));
    /* Newline-delimited, as finstream's own delivery writes objects; each record once. */
    char *once = calloc(1001, 1);
    for (int i = 0; i < g.svc.n_accepted; i++) {
        size_t n = strlen(g.svc.accepted[i]);
        assert_true(n > 0 && g.svc.accepted[i][n - 1] == '\n');
        int k = atoi(strchr(g.svc.accepted[i], ':') + 1);
        assert_true(k >= 0 && k < 1001 && !once[k]);
        once[k] = 1;
    }
    free(once);
    char *big = calloc(1, FIN_FIREHOSE_RECORD_MAX + 1);
    assert_int_equal(fin_firehose_producer_put(p, big, FIN_FIREHOSE_RECORD_MAX), FIN_ELIMIT);
    free(big);
    /* The whole call failing for good (auth) fails every record of the batch. */
    fake_push(&g.ft, 400, "{\"__type\":\"AccessDeniedException\",\"message\":\"no firehose:PutRecordBatch\"}");
    assert_int_equal(fin_firehose_producer_put(p, "{}", 2), 0);
    assert_int_equal(fin_firehose_producer_flush(p), FIN_EAUTH);
    assert_non_null(strstr(fin_err_msg(), "firehose:PutRecordBatch"));
    assert_int_equal(fin_firehose_producer_stats(p)->failed, 1);
    fin_firehose_producer_destroy(p);
    rig_fini(&g);
}

/* ---- reader ---- */

struct fake_stream {
    int shards;
    int split;            /* shard 2 is the child of shards 0 and 1 (a merge); they close */
    int read_child_at;    /* records of shard 0 read when shard 2 was first read */
    int read0;
    int per_shard;        /* records in each shard */
    int batch;            /* records per GetRecords answer */
    int64_t last_call_ns[4];
    int64_t min_gap_ns;
    struct fin_fake_clock *fc;
    int expire_once;
};

static void stream_handler(struct fake_transport *ft, const struct fin_http_request *req,
                           struct fin_http_response *resp)
{
    struct fake_stream *fs = ft->ctx;
    json_t *body = json_loadb(req->body, req->body_len, 0, NULL);
    json_t *ans = NULL;
    resp->status = 200;
    if (strstr(ft->last_headers, ".ListShards")) {
        json_t *arr = json_array();
        for (int i = 0; i < fs->shards; i++) {
            char id[32];
            snprintf(id, sizeof id, "shardId-%012d", i);
            json_t *sh = json_pack("{s:s}", "ShardId", id);
            if (fs->split && i == 2) {
                json_object_set_new(sh, "ParentShardId", json_string("shardId-000000000000"));
                json_object_set_new(sh, "AdjacentParentShardId", json_string("shardId-000000000001"));
            }
            json_array_append_new(arr, sh);
        }
        ans = json_pack("{s:o}", "Shards", arr);
    } else if (strstr(ft->last_headers, ".GetShardIterator")) {
        const char *id = json_string_value(json_object_get(body, "ShardId"));
        const char *type = json_string_value(json_object_get(body, "ShardIteratorType"));
        const char *after = json_string_value(json_object_get(body, "StartingSequenceNumber"));
        int pos = strcmp(type, "AFTER_SEQUENCE_NUMBER") == 0 ? atoi(after) + 1 : 0;
        char it[64];
        snprintf(it, sizeof it, "%s/%d", id + 8, pos);
        ans = json_pack("{s:s}", "ShardIterator", it);
    } else {
        const char *it = json_string_value(json_object_get(body, "ShardIterator"));
        int shard = atoi(it), pos = atoi(strchr(it, '/') + 1);
        int64_t now = fs->fc->now;
        if (fs->last_call_ns[shard] && now - fs->last_call_ns[shard] < fs->min_gap_ns)
            fs->min_gap_ns = now - fs->last_call_ns[shard];
        fs->last_call_ns[shard] = now;
        if (fs->expire_once && pos > 0) {
            fs->expire_once = 0;
            resp->status = 400;
            fin_buf_puts(&resp->body, "{\"__type\":\"ExpiredIteratorException\",\"message\":\"old\"}");
            json_decref(body);
            return;
        }
        json_t *recs = json_array();
        int end = pos + fs->batch < fs->per_shard ? pos + fs->batch : fs->per_shard;
        if (shard == 0)
            fs->read0 = end;
        if (shard == 2 && fs->read_child_at < 0)
            fs->read_child_at = fs->read0;
        for (int i = pos; i < end; i++) {
            char data[64], seq[64], b64[100];
            int n = snprintf(data, sizeof data, "{\"shard\":%d,\"i\":%d}", shard, i);
            EVP_EncodeBlock((unsigned char *)b64, (unsigned char *)data, n);
            snprintf(seq, sizeof seq, "%d", i);
            json_array_append_new(recs, json_pack("{s:s,s:s,s:s,s:f}", "SequenceNumber", seq,
                                                  "PartitionKey", "FB", "Data", b64,
                                                  "ApproximateArrivalTimestamp", 1764153000.25));
        }
        char next[64];
        snprintf(next, sizeof next, "%d/%d", shard, end);
        if (fs->split && shard < 2 && end == fs->per_shard && pos == end)
            ans = json_pack("{s:o,s:n,s:i}", "Records", recs, "NextShardIterator",
                            "MillisBehindLatest", 0);   /* a closed parent's chain ends */
        else
            ans = json_pack("{s:o,s:s,s:i}", "Records", recs, "NextShardIterator", next,
                            "MillisBehindLatest", end < fs->per_shard ? 1000 : 0);
    }
    char *text = json_dumps(ans, JSON_COMPACT);
    fin_buf_puts(&resp->body, text);
    free(text);
    json_decref(ans);
    json_decref(body);
}

struct collected {
    int count;
    int next_i[4];
    bool in_order;
    int64_t arrival_ms;
};

static int collect(void *ctx, const struct fin_kinesis_record *r)
{
    struct collected *c = ctx;
    json_t *j = json_loadb(r->data, r->len, 0, NULL);
    int shard = (int)json_integer_value(json_object_get(j, "shard"));
    int i = (int)json_integer_value(json_object_get(j, "i"));
    json_decref(j);
    if (i != c->next_i[shard] || atoi(r->sequence) != i)
        c->in_order = false;
    c->next_i[shard] = i + 1;
    c->count++;
    c->arrival_ms = r->arrival_ms;
    return 0;
}

static void test_reader(void **state)
{
    (void)state;
    struct rig g;
    rig_init(&g);
    struct fake_stream fs = {.shards = 3, .per_shard = 250, .batch = 100, .fc = &g.fc,
                             .min_gap_ns = INT64_MAX, .expire_once = 1};
    g.ft.handler = stream_handler;
    g.ft.ctx = &fs;
    struct fin_kinesis_reader *r;
    assert_int_equal(fin_kinesis_reader_create(&r, &g.s, &g.deps, "stocks", FIN_KINESIS_TRIM_HORIZON), 0);
    assert_int_equal(fin_kinesis_reader_shards(r), 3);
    struct collected c = {.in_order = true};
    size_t n = 0;
    assert_int_equal(fin_kinesis_reader_drain(r, collect, &c, &n), 0);
    assert_int_equal(n, 750);
    assert_int_equal(c.count, 750);
    assert_true(c.in_order);   /* nothing skipped or repeated, the expired iterator included */
    assert_int_equal(c.arrival_ms, 1764153000250LL);
    assert_true(fs.min_gap_ns >= FIN_NS_PER_SEC / FIN_KINESIS_GET_PER_SEC);
    assert_string_equal(fin_kinesis_reader_position(r, "shardId-000000000001"), "249");
    fin_kinesis_reader_destroy(r);

    /* Resuming from a checkpoint reads only what follows it. */
    assert_int_equal(fin_kinesis_reader_create(&r, &g.s, &g.deps, "stocks", FIN_KINESIS_TRIM_HORIZON), 0);
    assert_int_equal(fin_kinesis_reader_set_position(r, "shardId-000000000000", "199"), 0);
    assert_int_equal(fin_kinesis_reader_set_position(r, "shardId-000000000009", "1"), FIN_ENOENT);
    struct collected c2 = {.in_order = true, .next_i = {200, 0, 0}};
    assert_int_equal(fin_kinesis_reader_drain(r, collect, &c2, &n), 0);
    assert_int_equal(n, 50 + 250 + 250);
    assert_true(c2.in_order);
    fin_kinesis_reader_destroy(r);

    /* After a merge: the child is read only once both parents are read to their end. */
    struct fake_stream fs2 = {.shards = 3, .per_shard = 150, .batch = 100, .fc = &g.fc,
                              .min_gap_ns = INT64_MAX, .split = 1, .read_child_at = -1};
    g.ft.ctx = &fs2;
    assert_int_equal(fin_kinesis_reader_create(&r, &g.s, &g.deps, "stocks", FIN_KINESIS_TRIM_HORIZON), 0);
    struct collected c3 = {.in_order = true};
    assert_int_equal(fin_kinesis_reader_drain(r, collect, &c3, &n), 0);
    assert_int_equal(n, 450);
    assert_true(c3.in_order);
    assert_int_equal(fs2.read_child_at, 150);
    fin_kinesis_reader_destroy(r);
    rig_fini(&g);
}

/* The reader as delivery's source: records one at a time, FIN_EEND until the shard's
 * 200 ms have passed, seek to a checkpoint. */
static void test_delivery_source(void **state)
{
    (void)state;
    struct rig g;
    rig_init(&g);
    struct fake_stream fs = {.shards = 2, .per_shard = 150, .batch = 100, .fc = &g.fc,
                             .min_gap_ns = INT64_MAX};
    g.ft.handler = stream_handler;
    g.ft.ctx = &fs;
    struct fin_kinesis_reader *r;
    assert_int_equal(fin_kinesis_reader_create(&r, &g.s, &g.deps, "stocks", FIN_KINESIS_TRIM_HORIZON), 0);
    struct fin_delivery_source *src;
    assert_int_equal(fin_kinesis_delivery_source_create(&src, r), 0);
    assert_int_equal(src->n_shards, 2);
    assert_string_equal(src->shard_id(src->ctx, 1), "shardId-000000000001");
    struct fin_record rec;
    for (int i = 0; i < 100; i++) {
        assert_int_equal(src->next(src->ctx, 0, &rec), 0);
        assert_int_equal(atoi(rec.seq), i);
        assert_int_equal(rec.key_len, 2);
        assert_memory_equal(rec.key, "FB", 2);
        char want[64];
        snprintf(want, sizeof want, "{\"shard\":0,\"i\":%d}", i);
        assert_int_equal(rec.len, strlen(want));
        assert_memory_equal(rec.data, want, rec.len);
    }
    /* The batch is used up and 200 ms have not passed: nothing now, and more to come. */
    assert_int_equal(src->next(src->ctx, 0, &rec), FIN_EEND);
    assert_false(src->caught_up(src->ctx, 0));
    fin_fake_clock_advance(&g.fc, 200 * FIN_NS_PER_MS);
    assert_int_equal(src->next(src->ctx, 0, &rec), 0);
    assert_string_equal(rec.seq, "100");
    /* A checkpoint: resume after 139. */
    assert_int_equal(src->seek(src->ctx, 0, "139"), 0);
    fin_fake_clock_advance(&g.fc, 200 * FIN_NS_PER_MS);
    assert_int_equal(src->next(src->ctx, 0, &rec), 0);
    assert_string_equal(rec.seq, "140");
    assert_string_equal(fin_kinesis_reader_position(r, "shardId-000000000000"), "140");
    /* Read to the tip: an empty answer 0 ms behind says the shard is caught up. */
    for (int i = 141; i < 150; i++)
        assert_int_equal(src->next(src->ctx, 0, &rec), 0);
    assert_false(src->caught_up(src->ctx, 0));
    fin_fake_clock_advance(&g.fc, 200 * FIN_NS_PER_MS);
    assert_int_equal(src->next(src->ctx, 0, &rec), FIN_EEND);
    assert_true(src->caught_up(src->ctx, 0));
    assert_true(fs.min_gap_ns >= 200 * FIN_NS_PER_MS);
    fin_kinesis_delivery_source_destroy(src);
    fin_kinesis_reader_destroy(r);
    rig_fini(&g);
}

static size_t count_lines(const char *dir)
{
    /* every object under dir (a lake of plain JSON lines) */
    char cmd[1024];
    int cn = snprintf(cmd, sizeof cmd, "find '%s' -type f -exec cat {} + | wc -l", dir);
    assert_true(cn > 0 && (size_t)cn < sizeof cmd);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = 0;
    assert_int_equal(fscanf(p, "%zu", &n), 1);
    pclose(p);
    return n;
}

/* A flush left unfinished (state.json holds its ranges) is rewritten when the engine
 * opens. Over a Kinesis source, its range of shard 0 (records 0 .. 149) takes two
 * GetRecords answers 200 ms apart: the engine must wait for the second, not write the
 * first 100 records and move the checkpoint past the other 50. Sequence numbers of
 * different lengths ("99" < "149") are ordered as numbers. */
static void test_delivery_replay(void **state)
{
    (void)state;
    struct rig g;
    rig_init(&g);
    struct fake_stream fs = {.shards = 2, .per_shard = 150, .batch = 100, .fc = &g.fc,
                             .min_gap_ns = INT64_MAX};
    g.ft.handler = stream_handler;
    g.ft.ctx = &fs;
    char *dir = fin_test_mkdtemp("kreplay");
    char path[1024], lake[1024];
    snprintf(path, sizeof path, "%s/deliveries/k", dir);
    assert_int_equal(fin_mkdir_p(path, 0755), 0);
    snprintf(path, sizeof path, "%s/deliveries/k/state.json", dir);
    const char *st = "{\"version\":1,\"shards\":[],\"stats\":{},\"pending\":["
                     "{\"shard\":\"shardId-000000000000\",\"first\":\"0\",\"last\":\"149\","
                     "\"count\":150}]}";
    assert_int_equal(fin_write_file_atomic(path, st, strlen(st)), 0);
    snprintf(lake, sizeof lake, "%s/lake", dir);

    struct fin_kinesis_reader *r;
    assert_int_equal(fin_kinesis_reader_create(&r, &g.s, &g.deps, "stocks", FIN_KINESIS_TRIM_HORIZON), 0);
    struct fin_delivery_source *src;
    assert_int_equal(fin_kinesis_delivery_source_create(&src, r), 0);
    struct fin_delivery_settings set;
    assert_int_equal(fin_delivery_settings_defaults(&set), 0);
    assert_int_equal(fin_opts_set(fin_delivery_opts, &set, "source", "kinesis:stocks", "test"), 0);
    assert_int_equal(fin_opts_set(fin_delivery_opts, &set, "destination", lake, "test"), 0);
    struct fin_delivery_engine *e;
    assert_int_equal(fin_delivery_engine_create(&e, dir, "k", &set, src, &g.fc.clock), 0);
    const struct fin_delivery_stats *stats = fin_delivery_engine_stats(e);
    assert_int_equal(stats->records, 150);
    assert_int_equal(stats->replays, 1);
    assert_int_equal(count_lines(lake), 150);
    assert_true(fs.min_gap_ns >= 200 * FIN_NS_PER_MS);
    /* Shard 0 goes on after 149 (nothing left), shard 1 from its start. */
    assert_false(src->caught_up(src->ctx, 1));
    size_t got = 0, total = 0;
    for (int i = 0; i < 100 && !(src->caught_up(src->ctx, 0) && src->caught_up(src->ctx, 1)); i++) {
        assert_int_equal(fin_delivery_engine_pump(e, 0, &got), 0);
        total += got;
        fin_fake_clock_advance(&g.fc, 50 * FIN_NS_PER_MS);
    }
    assert_int_equal(total, 150);
    assert_int_equal(fin_delivery_engine_flush(e), 0);
    assert_int_equal(stats->records, 300);
    assert_int_equal(count_lines(lake), 300);
    fin_delivery_engine_destroy(e);
    fin_delivery_settings_fini(&set);
    fin_kinesis_delivery_source_destroy(src);
    fin_kinesis_reader_destroy(r);
    fin_test_rmdir(dir);
    rig_fini(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinesis_producer),
        cmocka_unit_test(test_firehose_producer),
        cmocka_unit_test(test_reader),
        cmocka_unit_test(test_delivery_source),
        cmocka_unit_test(test_delivery_replay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
