/* producer.c - the Kinesis (PutRecords) and Firehose (PutRecordBatch) producers.
 *
 * The two APIs differ in names and limits only, so one batcher serves both. Records are
 * copied into an arena as they are put; a batch goes out when the next record would pass
 * the record or byte limit, or on flush. The answer lists one result per record, in
 * order: the ones rejected with a retriable code (throttled shard, internal failure) make
 * the next, smaller batch, sent after a full-jitter backoff and before any newer record,
 * so records of one partition key are not overtaken by later ones across calls. Rejections
 * that a retry cannot fix, and records still rejected when the retries run out, are
 * counted and reported with the service's error code.
 *
 * Kinesis serves a PutRecords batch in order, but it may accept a record of a key and
 * reject an earlier one of the same key in the same call (the shard's budget refilled
 * between them); the earlier record then lands after the later one. Callers that need
 * strict order under throttling should keep batches small (one record per key per batch)
 * or use their own sequencing; docs/aws.md says so. */
#include "finstream/aws_kinesis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "finstream/error.h"
#include "finstream/log.h"

enum kind { KINESIS, FIREHOSE };

struct entry {
    size_t off;        /* key bytes, then data bytes, in the arena */
    uint32_t key_len;
    uint32_t len;
};

struct producer {
    enum kind kind;
    struct fin_aws_client *client;
    char *name;
    const char *target;
    size_t max_records, max_bytes;
    struct fin_buf arena;
    struct entry *q;
    size_t n, cap, bytes;
    size_t *pending, *next;        /* indexes into q */
    struct fin_buf body;
    struct fin_http_response resp;
    uint64_t rng;
    struct fin_producer_stats stats;
};

struct fin_kinesis_producer { struct producer p; };
struct fin_firehose_producer { struct producer p; };

static int producer_init(struct producer *p, enum kind kind, const struct fin_aws_settings *s,
                         const struct fin_aws_client_deps *deps, const char *name)
{
    memset(p, 0, sizeof *p);
    p->kind = kind;
    fin_buf_init(&p->arena);
    fin_buf_init(&p->body);
    fin_http_response_init(&p->resp);
    if (!name || !*name || strlen(name) > 128)
        return fin_err_set(FIN_EINVAL, "%s name '%s': 1 to 128 characters",
                           kind == KINESIS ? "stream" : "delivery stream", name ? name : "");
    if (!(p->name = strdup(name)))
        return FIN_ENOMEM;
    p->max_records = kind == KINESIS ? FIN_KINESIS_PUT_MAX_RECORDS : FIN_FIREHOSE_PUT_MAX_RECORDS;
    p->max_bytes = kind == KINESIS ? FIN_KINESIS_PUT_MAX_BYTES : FIN_FIREHOSE_PUT_MAX_BYTES;
    p->target = kind == KINESIS ? "Kinesis_20131202.PutRecords" : "Firehose_20150804.PutRecordBatch";
    p->cap = p->max_records;
    p->q = calloc(p->cap, sizeof *p->q);
    p->pending = calloc(p->cap, sizeof *p->pending);
    p->next = calloc(p->cap, sizeof *p->next);
    if (!p->q || !p->pending || !p->next)
        return FIN_ENOMEM;
    p->rng = deps && deps->seed ? deps->seed : (uint64_t)fin_mono_ns(fin_clock_real()) | 1;
    return fin_aws_client_create(&p->client, kind == KINESIS ? "kinesis" : "firehose", s, deps);
}

static void producer_fini(struct producer *p)
{
    if (p->n)
        fin_warn("%s: %zu records dropped unsent (no flush before close)", p->name ? p->name : "",
                 p->n);
    p->stats.failed += p->n;
    fin_aws_client_destroy(p->client);
    free(p->name);
    free(p->q);
    free(p->pending);
    free(p->next);
    fin_buf_fini(&p->arena);
    fin_buf_fini(&p->body);
    fin_http_response_fini(&p->resp);
}

static int json_str(struct fin_buf *b, const char *s, size_t n)
{
    if (fin_buf_reserve(b, n * 6 + 2))
        return FIN_ENOMEM;
    char *w = b->data + b->len;
    *w++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *w++ = '\\';
            *w++ = (char)c;
        } else if (c < 0x20) {
            w += sprintf(w, "\\u%04x", c);
        } else {
            *w++ = (char)c;
        }
    }
    *w++ = '"';
    b->len = (size_t)(w - b->data);
    return 0;
}

static int b64(struct fin_buf *b, const void *data, size_t n)
{
    if (fin_buf_reserve(b, (n + 2) / 3 * 4 + 1))
        return FIN_ENOMEM;
    int w = EVP_EncodeBlock((unsigned char *)b->data + b->len, data, (int)n);
    b->len += (size_t)w;
    return 0;
}

static int build_body(struct producer *p, const size_t *idx, size_t n)
{
    struct fin_buf *b = &p->body;
    fin_buf_reset(b);
    if (fin_buf_puts(b, p->kind == KINESIS ? "{\"StreamName\":" : "{\"DeliveryStreamName\":") ||
        json_str(b, p->name, strlen(p->name)) || fin_buf_puts(b, ",\"Records\":["))
        return FIN_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const struct entry *e = &p->q[idx[i]];
        const char *k = p->arena.data + e->off;
        if (fin_buf_puts(b, i ? ",{\"Data\":\"" : "{\"Data\":\"") ||
            b64(b, k + e->key_len, e->len) || fin_buf_puts(b, "\""))
            return FIN_ENOMEM;
        if (p->kind == KINESIS &&
            (fin_buf_puts(b, ",\"PartitionKey\":") || json_str(b, k, e->key_len)))
            return FIN_ENOMEM;
        if (fin_buf_puts(b, "}"))
            return FIN_ENOMEM;
    }
    return fin_buf_puts(b, "]}") ? FIN_ENOMEM : 0;
}

/* Sends everything queued, re-sending rejected records; see the top of the file. */
static int producer_flush(struct producer *p)
{
    if (p->n == 0)
        return 0;
    size_t np = p->n, failed = 0;
    for (size_t i = 0; i < np; i++)
        p->pending[i] = i;
    const struct fin_aws_settings *set = fin_aws_client_settings(p->client);
    const struct fin_clock *clock = fin_aws_client_clock(p->client);
    int rc = 0, last_code = 0;
    char first_error[512] = "";
    for (int attempt = 0; np > 0; attempt++) {
        if ((rc = build_body(p, p->pending, np)) != 0)
            break;
        struct fin_aws_error err;
        rc = fin_aws_client_json(p->client, p->target, p->body.data, p->body.len, &p->resp, &err);
        if (rc) {
            /* The whole call failed after the client's own retries. */
            failed += np;
            last_code = rc;
            snprintf(first_error, sizeof first_error, "%s", fin_err_msg());
            break;
        }
        p->stats.calls++;
        json_error_t jerr;
        json_t *j = json_loadb(p->resp.body.data, p->resp.body.len, 0, &jerr);
        json_t *arr = json_object_get(j, p->kind == KINESIS ? "Records" : "RequestResponses");
        if (!json_is_array(arr) || json_array_size(arr) != np) {
            rc = last_code = fin_err_set(FIN_EPARSE, "%s %s: answer has %zu results for %zu records",
                                         p->target, p->name, json_array_size(arr), np);
            snprintf(first_error, sizeof first_error, "%s", fin_err_msg());
            json_decref(j);
            failed += np;
            break;
        }
        size_t nn = 0;
        for (size_t i = 0; i < np; i++) {
            json_t *r = json_array_get(arr, i);
            const char *code = json_string_value(json_object_get(r, "ErrorCode"));
            const struct entry *e = &p->q[p->pending[i]];
            if (!code || !*code) {
                p->stats.records++;
                p->stats.bytes += e->len;
                continue;
            }
            enum fin_aws_error_class cls = fin_aws_classify_code(code, 400);
            bool retry = cls == FIN_AWS_THROTTLED || cls == FIN_AWS_RETRIABLE;
            if (retry && attempt < set->retries) {
                p->next[nn++] = p->pending[i];
            } else {
                failed++;
                last_code = fin_aws_class_errcode(cls);
                if (!first_error[0]) {
                    const char *msg = json_string_value(json_object_get(r, "ErrorMessage"));
                    snprintf(first_error, sizeof first_error, "%s: %s", code, msg ? msg : "");
                }
            }
        }
        json_decref(j);
        if (nn) {
            p->stats.resent += nn;
            int64_t ms = fin_aws_backoff_ms(&p->rng, attempt, set->backoff_ms, set->backoff_max_ms);
            fin_debug("%s %s: %zu of %zu records rejected, resending in %lld ms", p->target,
                      p->name, nn, np, (long long)ms);
            clock->sleep_ns(clock->ctx, ms * FIN_NS_PER_MS);
        }
        size_t *t = p->pending;
        p->pending = p->next;
        p->next = t;
        np = nn;
    }
    size_t total = p->n;
    p->n = 0;
    p->bytes = 0;
    fin_buf_reset(&p->arena);
    if (failed) {
        p->stats.failed += failed;
        return fin_err_set(last_code ? last_code : FIN_EIO,
                           "%zu of %zu records not put to %s %s: %s", failed, total,
                           p->kind == KINESIS ? "stream" : "delivery stream", p->name, first_error);
    }
    return rc;
}

static int producer_put(struct producer *p, const char *key, size_t key_len, const void *data,
                        size_t len)
{
    bool add_nl = p->kind == FIREHOSE && (len == 0 || ((const char *)data)[len - 1] != '\n');
    size_t size = len + (add_nl ? 1 : 0);
    if (p->kind == KINESIS) {
        if (key_len == 0 || key_len > FIN_KINESIS_KEY_MAX)
            return fin_err_set(FIN_EINVAL, "stream %s: partition key of %zu characters (1 to %d)",
                               p->name, key_len, FIN_KINESIS_KEY_MAX);
        if (len + key_len > FIN_KINESIS_RECORD_MAX)
            return fin_err_set(FIN_ELIMIT, "stream %s: record for key %.*s is %zu bytes, at most %d",
                               p->name, (int)key_len, key, len + key_len, FIN_KINESIS_RECORD_MAX);
    } else {
        key_len = 0;
        if (size > FIN_FIREHOSE_RECORD_MAX)
            return fin_err_set(FIN_ELIMIT, "delivery stream %s: record of %zu bytes, at most %d",
                               p->name, size, FIN_FIREHOSE_RECORD_MAX);
    }
    int rc = 0;
    if (p->n == p->max_records || p->bytes + size + key_len > p->max_bytes)
        rc = producer_flush(p);
    /* A failed batch is reported, but this record is still queued: it is not part of it. */
    if (fin_buf_reserve(&p->arena, key_len + size))
        return FIN_ENOMEM;
    struct entry *e = &p->q[p->n++];
    e->off = p->arena.len;
    e->key_len = (uint32_t)key_len;
    e->len = (uint32_t)size;
    fin_buf_append(&p->arena, key, key_len);
    fin_buf_append(&p->arena, data, len);
    if (add_nl)
        fin_buf_append(&p->arena, "\n", 1);
    p->bytes += size + key_len;
    return rc;
}

/* ---- Kinesis ---- */

int fin_kinesis_producer_create(struct fin_kinesis_producer **out, const struct fin_aws_settings *s,
                                const struct fin_aws_client_deps *deps, const char *stream_name)
{
    *out = NULL;
    struct fin_kinesis_producer *k = malloc(sizeof *k);
    if (!k)
        return FIN_ENOMEM;
    int rc = producer_init(&k->p, KINESIS, s, deps, stream_name);
    if (rc) {
        producer_fini(&k->p);
        free(k);
        return rc;
    }
    *out = k;
    return 0;
}

int fin_kinesis_producer_put(struct fin_kinesis_producer *p, const char *key, size_t key_len,
                             const void *data, size_t len)
{
    return producer_put(&p->p, key, key_len, data, len);
}

int fin_kinesis_producer_flush(struct fin_kinesis_producer *p) { return producer_flush(&p->p); }

const struct fin_producer_stats *fin_kinesis_producer_stats(const struct fin_kinesis_producer *p)
{
    return &p->p.stats;
}

struct fin_aws_client *fin_kinesis_producer_client(struct fin_kinesis_producer *p)
{
    return p->p.client;
}

static int kinesis_sink_put(void *ctx, const char *key, size_t key_len, const char *rec, size_t len)
{
    return fin_kinesis_producer_put(ctx, key, key_len, rec, len);
}

static int kinesis_sink_flush(void *ctx) { return fin_kinesis_producer_flush(ctx); }

struct fin_record_sink fin_kinesis_producer_sink(struct fin_kinesis_producer *p)
{
    return (struct fin_record_sink){.put = kinesis_sink_put, .flush = kinesis_sink_flush, .ctx = p};
}

void fin_kinesis_producer_destroy(struct fin_kinesis_producer *p)
{
    if (!p)
        return;
    producer_fini(&p->p);
    free(p);
}

/* ---- Firehose ---- */

int fin_firehose_producer_create(struct fin_firehose_producer **out,
                                 const struct fin_aws_settings *s,
                                 const struct fin_aws_client_deps *deps, const char *delivery_name)
{
    *out = NULL;
    struct fin_firehose_producer *f = malloc(sizeof *f);
    if (!f)
        return FIN_ENOMEM;
    int rc = producer_init(&f->p, FIREHOSE, s, deps, delivery_name);
    if (rc) {
        producer_fini(&f->p);
        free(f);
        return rc;
    }
    *out = f;
    return 0;
}

int fin_firehose_producer_put(struct fin_firehose_producer *p, const void *data, size_t len)
{
    return producer_put(&p->p, NULL, 0, data, len);
}

int fin_firehose_producer_flush(struct fin_firehose_producer *p) { return producer_flush(&p->p); }

const struct fin_producer_stats *fin_firehose_producer_stats(const struct fin_firehose_producer *p)
{
    return &p->p.stats;
}

struct fin_aws_client *fin_firehose_producer_client(struct fin_firehose_producer *p)
{
    return p->p.client;
}

static int firehose_sink_put(void *ctx, const char *key, size_t key_len, const char *rec, size_t len)
{
    (void)key;
    (void)key_len;
    return fin_firehose_producer_put(ctx, rec, len);
}

static int firehose_sink_flush(void *ctx) { return fin_firehose_producer_flush(ctx); }

struct fin_record_sink fin_firehose_producer_sink(struct fin_firehose_producer *p)
{
    return (struct fin_record_sink){.put = firehose_sink_put, .flush = firehose_sink_flush, .ctx = p};
}

void fin_firehose_producer_destroy(struct fin_firehose_producer *p)
{
    if (!p)
        return;
    producer_fini(&p->p);
    free(p);
}

/* ---- --to kinesis:STREAM | firehose:DELIVERY ---- */

struct fin_aws_producer {
    struct fin_kinesis_producer *kinesis;
    struct fin_firehose_producer *firehose;
};

bool fin_aws_is_producer_spec(const char *to)
{
    return to && (strncmp(to, "kinesis:", 8) == 0 || strncmp(to, "firehose:", 9) == 0);
}

int fin_aws_producer_open(struct fin_aws_producer **out, const char *to, const struct fin_ini *ini)
{
    *out = NULL;
    if (!fin_aws_is_producer_spec(to))
        return fin_err_set(FIN_EINVAL, "'%s': not kinesis:STREAM or firehose:DELIVERY", to ? to : "");
    bool kinesis = to[0] == 'k';
    const char *name = strchr(to, ':') + 1;
    struct fin_aws_producer *p = calloc(1, sizeof *p);
    if (!p)
        return FIN_ENOMEM;
    struct fin_aws_settings s;
    int rc = fin_aws_settings_for(&s, ini, kinesis ? "kinesis" : "firehose");
    if (rc) {
        free(p);
        return rc;
    }
    rc = kinesis ? fin_kinesis_producer_create(&p->kinesis, &s, NULL, name)
                 : fin_firehose_producer_create(&p->firehose, &s, NULL, name);
    fin_aws_settings_fini(&s);
    if (rc) {
        free(p);
        return rc;
    }
    *out = p;
    return 0;
}

struct fin_record_sink fin_aws_producer_sink(struct fin_aws_producer *p)
{
    return p->kinesis ? fin_kinesis_producer_sink(p->kinesis)
                      : fin_firehose_producer_sink(p->firehose);
}

const struct fin_producer_stats *fin_aws_producer_stats(const struct fin_aws_producer *p)
{
    return p->kinesis ? fin_kinesis_producer_stats(p->kinesis)
                      : fin_firehose_producer_stats(p->firehose);
}

int fin_aws_producer_close(struct fin_aws_producer *p)
{
    if (!p)
        return 0;
    int rc = p->kinesis ? fin_kinesis_producer_flush(p->kinesis)
                        : fin_firehose_producer_flush(p->firehose);
    fin_kinesis_producer_destroy(p->kinesis);
    fin_firehose_producer_destroy(p->firehose);
    free(p);
    return rc;
}
