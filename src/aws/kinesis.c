/* kinesis.c - Kinesis control calls and the reader: ListShards, GetShardIterator and the
 * GetRecords iterator chain of every shard.
 *
 * Kinesis allows 5 GetRecords calls per second per shard; the reader keeps, per shard, the
 * monotonic time its next call may go out (200 ms after the last) and sleeps through the
 * clock seam only when no shard is due, so a consumer of many shards polls them in turn at
 * full rate without ever being throttled for it. An iterator expires after 5 minutes
 * without use; the reader then asks for a new one after the last sequence number it read,
 * so nothing is skipped or read twice. A shard whose chain ends (NextShardIterator null,
 * after a split or merge) is closed and stays so. */
#include "finstream/aws_kinesis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "finstream/delivery.h"
#include "finstream/error.h"
#include "finstream/log.h"

#define GET_SPACING_NS (FIN_NS_PER_SEC / FIN_KINESIS_GET_PER_SEC)

/* Sends a JSON request built with jansson; *out (owned by the caller, json_decref) gets the
 * parsed answer. */
static int call_json(struct fin_aws_client *c, const char *target, json_t *req, json_t **out,
                     struct fin_aws_error *err)
{
    *out = NULL;
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!body)
        return FIN_ENOMEM;
    struct fin_http_response resp;
    fin_http_response_init(&resp);
    int rc = fin_aws_client_json(c, target, body, strlen(body), &resp, err);
    free(body);
    if (rc == 0 && resp.body.len == 0) {
        *out = json_object();   /* CreateStream and DeleteStream answer with no body */
        if (!*out)
            rc = FIN_ENOMEM;
    } else if (rc == 0) {
        json_error_t jerr;
        *out = json_loadb(resp.body.data, resp.body.len, 0, &jerr);
        if (!*out)
            rc = fin_err_set(FIN_EPARSE, "%s: answer is not JSON: %s", target, jerr.text);
    }
    fin_http_response_fini(&resp);
    return rc;
}

int fin_kinesis_create_stream(struct fin_aws_client *c, const char *stream, int shards,
                              int64_t timeout_ms)
{
    json_t *ans = NULL;
    struct fin_aws_error err;
    int rc = call_json(c, "Kinesis_20131202.CreateStream",
                       json_pack("{s:s,s:i}", "StreamName", stream, "ShardCount", shards), &ans, &err);
    json_decref(ans);
    if (rc && strcmp(err.type, "ResourceInUseException") != 0)
        return rc;
    const struct fin_clock *clk = fin_aws_client_clock(c);
    int64_t deadline = fin_mono_ns(clk) + timeout_ms * FIN_NS_PER_MS;
    for (;;) {
        rc = call_json(c, "Kinesis_20131202.DescribeStreamSummary",
                       json_pack("{s:s}", "StreamName", stream), &ans, NULL);
        if (rc)
            return rc;
        const char *st = json_string_value(
            json_object_get(json_object_get(ans, "StreamDescriptionSummary"), "StreamStatus"));
        bool active = st && strcmp(st, "ACTIVE") == 0;
        json_decref(ans);
        if (active)
            return 0;
        if (fin_mono_ns(clk) >= deadline)
            return fin_err_set(FIN_ETIMEOUT, "stream %s not ACTIVE after %lld ms", stream,
                               (long long)timeout_ms);
        clk->sleep_ns(clk->ctx, 50 * FIN_NS_PER_MS);
    }
}

int fin_kinesis_delete_stream(struct fin_aws_client *c, const char *stream)
{
    json_t *ans = NULL;
    int rc = call_json(c, "Kinesis_20131202.DeleteStream", json_pack("{s:s}", "StreamName", stream),
                       &ans, NULL);
    json_decref(ans);
    return rc;
}

/* ---- the reader ---- */

struct shard {
    char id[128];
    char parent[2][128];     /* ParentShardId, AdjacentParentShardId; "" when none */
    char *iterator;          /* owned; NULL: ask for one */
    char last_seq[160];      /* "" until a record was read */
    bool closed;
    bool caught_up;
    int64_t next_ns;         /* monotonic time the next GetRecords may go out */
    json_t *batch;           /* delivery source: the last GetRecords answer's Records */
    size_t batch_next;       /* the next of them to hand out */
    struct fin_buf data;     /* delivery source: the record handed out, decoded */
};

struct fin_kinesis_reader {
    struct fin_aws_client *client;
    char *stream;
    enum fin_kinesis_start start;
    struct shard *shards;
    size_t n;
    uint64_t calls;
    struct fin_buf data;     /* decoded record data */
    json_t **keep;           /* when set, read_shard stores the Records array here */
};

static int list_shards(struct fin_kinesis_reader *r)
{
    char *token = NULL;
    int rc = 0;
    size_t cap = 0;
    for (;;) {
        json_t *req = token ? json_pack("{s:s}", "NextToken", token)
                            : json_pack("{s:s}", "StreamName", r->stream);
        json_t *ans = NULL;
        if ((rc = call_json(r->client, "Kinesis_20131202.ListShards", req, &ans, NULL)))
            break;
        json_t *arr = json_object_get(ans, "Shards");
        size_t i;
        json_t *s;
        json_array_foreach(arr, i, s) {
            const char *id = json_string_value(json_object_get(s, "ShardId"));
            if (!id || strlen(id) >= sizeof r->shards[0].id)
                continue;
            if (r->n == cap) {
                size_t nc = cap ? cap * 2 : 8;
                struct shard *ns = realloc(r->shards, nc * sizeof *ns);
                if (!ns) {
                    json_decref(ans);
                    rc = FIN_ENOMEM;
                    goto done;
                }
                r->shards = ns;
                cap = nc;
            }
            struct shard *sh = &r->shards[r->n++];
            memset(sh, 0, sizeof *sh);
            snprintf(sh->id, sizeof sh->id, "%s", id);
            const char *p0 = json_string_value(json_object_get(s, "ParentShardId"));
            const char *p1 = json_string_value(json_object_get(s, "AdjacentParentShardId"));
            snprintf(sh->parent[0], sizeof sh->parent[0], "%s", p0 ? p0 : "");
            snprintf(sh->parent[1], sizeof sh->parent[1], "%s", p1 ? p1 : "");
        }
        const char *next = json_string_value(json_object_get(ans, "NextToken"));
        free(token);
        token = next ? strdup(next) : NULL;
        json_decref(ans);
        if (!next)
            break;
        if (!token) {
            rc = FIN_ENOMEM;
            break;
        }
    }
done:
    free(token);
    if (rc == 0 && r->n == 0)
        rc = fin_err_set(FIN_ENOENT, "stream %s has no shards", r->stream);
    return rc;
}

int fin_kinesis_reader_create(struct fin_kinesis_reader **out, const struct fin_aws_settings *s,
                              const struct fin_aws_client_deps *deps, const char *stream,
                              enum fin_kinesis_start start)
{
    *out = NULL;
    struct fin_kinesis_reader *r = calloc(1, sizeof *r);
    if (!r)
        return FIN_ENOMEM;
    fin_buf_init(&r->data);
    r->start = start;
    int rc = FIN_ENOMEM;
    if (!(r->stream = strdup(stream)))
        goto fail;
    if ((rc = fin_aws_client_create(&r->client, "kinesis", s, deps)) != 0)
        goto fail;
    if ((rc = list_shards(r)) != 0)
        goto fail;
    *out = r;
    return 0;
fail:
    fin_kinesis_reader_destroy(r);
    return rc;
}

void fin_kinesis_reader_destroy(struct fin_kinesis_reader *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->shards[i].iterator);
        json_decref(r->shards[i].batch);
        fin_buf_fini(&r->shards[i].data);
    }
    free(r->shards);
    free(r->stream);
    fin_buf_fini(&r->data);
    fin_aws_client_destroy(r->client);
    free(r);
}

static struct shard *find_shard(const struct fin_kinesis_reader *r, const char *id)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->shards[i].id, id) == 0)
            return &r->shards[i];
    return NULL;
}

int fin_kinesis_reader_set_position(struct fin_kinesis_reader *r, const char *shard_id,
                                    const char *sequence)
{
    struct shard *sh = find_shard(r, shard_id);
    if (!sh)
        return fin_err_set(FIN_ENOENT, "stream %s has no shard %s", r->stream, shard_id);
    if (!sequence || strlen(sequence) >= sizeof sh->last_seq)
        return fin_err_set(FIN_EINVAL, "bad sequence number for %s", shard_id);
    snprintf(sh->last_seq, sizeof sh->last_seq, "%s", sequence);
    free(sh->iterator);
    sh->iterator = NULL;
    json_decref(sh->batch);
    sh->batch = NULL;
    sh->closed = false;
    sh->caught_up = false;
    return 0;
}

const char *fin_kinesis_reader_position(const struct fin_kinesis_reader *r, const char *shard_id)
{
    const struct shard *sh = find_shard(r, shard_id);
    return sh && sh->last_seq[0] ? sh->last_seq : NULL;
}

size_t fin_kinesis_reader_shards(const struct fin_kinesis_reader *r) { return r->n; }
uint64_t fin_kinesis_reader_calls(const struct fin_kinesis_reader *r) { return r->calls; }
struct fin_aws_client *fin_kinesis_reader_client(struct fin_kinesis_reader *r) { return r->client; }

static int get_iterator(struct fin_kinesis_reader *r, struct shard *sh)
{
    json_t *req;
    if (sh->last_seq[0])
        req = json_pack("{s:s,s:s,s:s,s:s}", "StreamName", r->stream, "ShardId", sh->id,
                        "ShardIteratorType", "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber",
                        sh->last_seq);
    else
        req = json_pack("{s:s,s:s,s:s}", "StreamName", r->stream, "ShardId", sh->id,
                        "ShardIteratorType",
                        r->start == FIN_KINESIS_LATEST ? "LATEST" : "TRIM_HORIZON");
    json_t *ans = NULL;
    int rc = call_json(r->client, "Kinesis_20131202.GetShardIterator", req, &ans, NULL);
    if (rc)
        return rc;
    const char *it = json_string_value(json_object_get(ans, "ShardIterator"));
    free(sh->iterator);
    sh->iterator = it ? strdup(it) : NULL;
    json_decref(ans);
    if (!sh->iterator)
        return it ? FIN_ENOMEM
                  : fin_err_set(FIN_EPARSE, "GetShardIterator %s %s: no ShardIterator", r->stream,
                                sh->id);
    return 0;
}

/* Decodes base64 into r->data. */
static int decode(struct fin_kinesis_reader *r, const char *s, size_t *len)
{
    size_t n = strlen(s);
    fin_buf_reset(&r->data);
    if (n % 4 || fin_buf_reserve(&r->data, n / 4 * 3 + 1))
        return n % 4 ? FIN_EPARSE : FIN_ENOMEM;
    int w = EVP_DecodeBlock((unsigned char *)r->data.data, (const unsigned char *)s, (int)n);
    if (w < 0)
        return FIN_EPARSE;
    /* EVP_DecodeBlock counts the padding as zero bytes. */
    if (n >= 1 && s[n - 1] == '=')
        w--;
    if (n >= 2 && s[n - 2] == '=')
        w--;
    *len = (size_t)w;
    return 0;
}

/* One GetRecords call on sh. */
static int read_shard(struct fin_kinesis_reader *r, struct shard *sh, fin_kinesis_record_fn fn,
                      void *ctx, size_t *n)
{
    const struct fin_clock *clk = fin_aws_client_clock(r->client);
    int rc;
    if (!sh->iterator && (rc = get_iterator(r, sh)) != 0)
        return rc;
    json_t *ans = NULL;
    struct fin_aws_error err;
    sh->next_ns = fin_mono_ns(clk) + GET_SPACING_NS;
    r->calls++;
    rc = call_json(r->client, "Kinesis_20131202.GetRecords",
                   json_pack("{s:s,s:i}", "ShardIterator", sh->iterator, "Limit",
                             FIN_KINESIS_GET_MAX_RECORDS),
                   &ans, &err);
    if (rc && strcmp(err.type, "ExpiredIteratorException") == 0) {
        /* Ask again after the last record read; the next round uses it. */
        free(sh->iterator);
        sh->iterator = NULL;
        return 0;
    }
    if (rc)
        return rc;
    json_t *recs = json_object_get(ans, "Records");
    if (r->keep && json_is_array(recs))
        *r->keep = json_incref(recs);
    size_t i;
    json_t *rec;
    json_array_foreach(recs, i, rec) {
        const char *seq = json_string_value(json_object_get(rec, "SequenceNumber"));
        const char *key = json_string_value(json_object_get(rec, "PartitionKey"));
        const char *data = json_string_value(json_object_get(rec, "Data"));
        size_t len = 0;
        if (!seq || !key || !data || strlen(seq) >= sizeof sh->last_seq ||
            decode(r, data, &len) != 0) {
            rc = fin_err_set(FIN_EPARSE, "GetRecords %s %s: malformed record %zu after %s",
                             r->stream, sh->id, i, sh->last_seq[0] ? sh->last_seq : "the start");
            goto fail;
        }
        struct fin_kinesis_record kr = {
            .shard_id = sh->id, .sequence = seq, .key = key, .data = r->data.data, .len = len,
            .arrival_ms = (int64_t)(json_number_value(json_object_get(rec, "ApproximateArrivalTimestamp")) * 1000)};
        if ((rc = fn(ctx, &kr)) != 0)
            goto fail;
        /* The position moves only after the record was handed over. */
        snprintf(sh->last_seq, sizeof sh->last_seq, "%s", seq);
        (*n)++;
    }
    json_t *behind = json_object_get(ans, "MillisBehindLatest");
    sh->caught_up = json_array_size(recs) == 0 && (!behind || json_integer_value(behind) == 0);
    const char *next = json_string_value(json_object_get(ans, "NextShardIterator"));
    free(sh->iterator);
    sh->iterator = NULL;
    if (next) {
        if (!(sh->iterator = strdup(next))) {
            rc = FIN_ENOMEM;
            goto fail;
        }
    } else {
        sh->closed = true;
    }
    rc = 0;
fail:
    json_decref(ans);
    return rc;
}

/* A child shard (after a split or merge) is read only once its parents are read to their
 * end, so records of one key stay in order across the resharding. A parent that is no
 * longer listed (past retention) does not hold its children back. */
static bool ready(const struct fin_kinesis_reader *r, const struct shard *sh)
{
    for (int k = 0; k < 2; k++) {
        if (!sh->parent[k][0])
            continue;
        const struct shard *p = find_shard(r, sh->parent[k]);
        if (p && !p->closed)
            return false;
    }
    return true;
}

int fin_kinesis_reader_poll(struct fin_kinesis_reader *r, fin_kinesis_record_fn fn, void *ctx,
                            size_t *n, bool *caught_up)
{
    const struct fin_clock *clk = fin_aws_client_clock(r->client);
    *n = 0;
    int64_t now = fin_mono_ns(clk), earliest = INT64_MAX;
    bool due = false;
    for (size_t i = 0; i < r->n; i++) {
        if (r->shards[i].closed || !ready(r, &r->shards[i]))
            continue;
        due |= r->shards[i].next_ns <= now;
        if (r->shards[i].next_ns < earliest)
            earliest = r->shards[i].next_ns;
    }
    if (!due && earliest != INT64_MAX) {
        clk->sleep_ns(clk->ctx, earliest - now);
        now = fin_mono_ns(clk);
    }
    bool all = true;
    for (size_t i = 0; i < r->n; i++) {
        struct shard *sh = &r->shards[i];
        if (sh->closed)
            continue;
        if (!ready(r, sh)) {
            all = false;
            continue;
        }
        if (sh->next_ns <= now) {
            int rc = read_shard(r, sh, fn, ctx, n);
            if (rc)
                return rc;
        }
        all &= sh->closed || sh->caught_up;
    }
    if (caught_up)
        *caught_up = all;
    return 0;
}

int fin_kinesis_reader_drain(struct fin_kinesis_reader *r, fin_kinesis_record_fn fn, void *ctx,
                             size_t *n)
{
    *n = 0;
    for (;;) {
        size_t got = 0;
        bool done = false;
        int rc = fin_kinesis_reader_poll(r, fn, ctx, &got, &done);
        *n += got;
        if (rc || done)
            return rc;
    }
}

/* ---- the reader as delivery's source ---- */

/* delivery's engine pulls records shard by shard (struct fin_delivery_source). Each shard
 * keeps the records of its last GetRecords answer and hands them out one at a time; a new
 * call goes out only when they are used up and the shard's 200 ms have passed, otherwise
 * the shard answers FIN_EEND ("nothing more now") and the engine comes back later. */

struct kinesis_source {
    struct fin_delivery_source base;   /* first: the table is the object */
    struct fin_kinesis_reader *r;
};

static const char *src_shard_id(void *ctx, int shard)
{
    struct kinesis_source *ks = ctx;
    return ks->r->shards[shard].id;
}

static int src_seek(void *ctx, int shard, const char *after_seq)
{
    struct kinesis_source *ks = ctx;
    struct shard *sh = &ks->r->shards[shard];
    if (after_seq && *after_seq)
        return fin_kinesis_reader_set_position(ks->r, sh->id, after_seq);
    /* From the oldest record (or the tip, for a LATEST reader). */
    sh->last_seq[0] = '\0';
    free(sh->iterator);
    sh->iterator = NULL;
    json_decref(sh->batch);
    sh->batch = NULL;
    sh->closed = false;
    sh->caught_up = false;
    return 0;
}

/* The shard's records are all handed out, and it is closed or its last GetRecords
 * answered nothing new at the tip. A child shard waiting for its parents is not. */
static bool src_caught_up(void *ctx, int shard)
{
    struct kinesis_source *ks = ctx;
    const struct shard *sh = &ks->r->shards[shard];
    return sh->batch_next >= json_array_size(sh->batch) && (sh->closed || sh->caught_up);
}

/* Collects the records of one GetRecords answer instead of handing them to a callback. */
static int keep_records(void *ctx, const struct fin_kinesis_record *r)
{
    (void)ctx;
    (void)r;
    return 0;
}

static int src_next(void *ctx, int shard, struct fin_record *rec)
{
    struct kinesis_source *ks = ctx;
    struct fin_kinesis_reader *r = ks->r;
    struct shard *sh = &r->shards[shard];
    for (int round = 0; round < 2; round++) {
        size_t have = json_array_size(sh->batch);
        if (sh->batch_next < have) {
            json_t *j = json_array_get(sh->batch, sh->batch_next++);
            const char *seq = json_string_value(json_object_get(j, "SequenceNumber"));
            const char *key = json_string_value(json_object_get(j, "PartitionKey"));
            const char *data = json_string_value(json_object_get(j, "Data"));
            size_t len = 0;
            if (!seq || !key || !data || decode(r, data, &len) != 0)
                return fin_err_set(FIN_EPARSE, "GetRecords %s %s: malformed record after %s",
                                   r->stream, sh->id, sh->last_seq[0] ? sh->last_seq : "the start");
            if (strlen(seq) > FIN_SEQ_LEN)
                return fin_err_set(FIN_ELIMIT, "%s %s: sequence number %s longer than %d digits",
                                   r->stream, sh->id, seq, FIN_SEQ_LEN);
            fin_buf_reset(&sh->data);
            if (fin_buf_append(&sh->data, r->data.data, len) || fin_buf_append(&sh->data, key, strlen(key) + 1))
                return FIN_ENOMEM;
            rec->data = sh->data.data;
            rec->len = len;
            rec->key = sh->data.data + len;
            rec->key_len = strlen(key);
            rec->arrival_ms = (int64_t)(json_number_value(
                                  json_object_get(j, "ApproximateArrivalTimestamp")) * 1000);
            snprintf(rec->seq, sizeof rec->seq, "%s", seq);
            snprintf(sh->last_seq, sizeof sh->last_seq, "%s", seq);
            return 0;
        }
        if (round == 1 || sh->closed || !ready(r, sh) ||
            sh->next_ns > fin_mono_ns(fin_aws_client_clock(r->client)))
            return FIN_EEND;
        /* One GetRecords; keep its answer. read_shard moves last_seq as it hands records
         * to the callback, so put it back: the position moves as the engine takes them. */
        char before[sizeof sh->last_seq];
        memcpy(before, sh->last_seq, sizeof before);
        json_decref(sh->batch);
        sh->batch = NULL;
        sh->batch_next = 0;
        size_t n = 0;
        r->keep = &sh->batch;
        int rc = read_shard(r, sh, keep_records, NULL, &n);
        r->keep = NULL;
        memcpy(sh->last_seq, before, sizeof before);
        if (rc)
            return rc;
    }
    return FIN_EEND;
}

int fin_kinesis_delivery_source_create(struct fin_delivery_source **out, struct fin_kinesis_reader *r)
{
    *out = NULL;
    if (r->n > INT32_MAX)
        return fin_err_set(FIN_ELIMIT, "stream %s: too many shards", r->stream);
    struct kinesis_source *ks = calloc(1, sizeof *ks);
    if (!ks)
        return FIN_ENOMEM;
    ks->r = r;
    ks->base.n_shards = (int)r->n;
    ks->base.shard_id = src_shard_id;
    ks->base.seek = src_seek;
    ks->base.next = src_next;
    ks->base.caught_up = src_caught_up;
    ks->base.ctx = ks;
    *out = &ks->base;
    return 0;
}

void fin_kinesis_delivery_source_destroy(struct fin_delivery_source *src)
{
    free(src);
}
