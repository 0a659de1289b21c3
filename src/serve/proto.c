/* proto.c - the small codecs of the AWS JSON 1.1 protocol: base64 for blob fields,
 * JSON string output for responses built by hand (GetRecords and PutRecords answers
 * are large and hot, so they skip the jansson tree), request ids, AWS error bodies
 * and the metrics' latency histogram. */
#include "internal.h"

#include "finstream/error.h"
#include "finstream/progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static const char b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 0..63 for the alphabet, 64 for '=', 255 for anything else. */
static unsigned char b64_t[256];
static pthread_once_t b64_once = PTHREAD_ONCE_INIT;

static void b64_init(void)
{
    memset(b64_t, 255, sizeof b64_t);
    for (int i = 0; i < 64; i++)
        b64_t[(unsigned char)b64_chars[i]] = (unsigned char)i;
    b64_t['='] = 64;
}

long b64_decode(const char *in, size_t len, unsigned char *out)
{
    pthread_once(&b64_once, b64_init);
    if (len % 4)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        unsigned a = b64_t[(unsigned char)in[i]], b = b64_t[(unsigned char)in[i + 1]];
        unsigned c = b64_t[(unsigned char)in[i + 2]], d = b64_t[(unsigned char)in[i + 3]];
        if (a > 63 || b > 63 || c == 255 || d == 255)
            return -1;
        bool last = i + 4 == len;
        if (c == 64 || d == 64) {
            /* padding only at the very end, and "x=" never before a data character */
            if (!last || (c == 64 && d != 64))
                return -1;
        }
        out[o++] = (unsigned char)(a << 2 | b >> 4);
        if (c != 64) {
            out[o++] = (unsigned char)((b & 15) << 4 | c >> 2);
            if (d != 64)
                out[o++] = (unsigned char)((c & 3) << 6 | d);
        }
    }
    return (long)o;
}

int b64_append(struct fin_buf *b, const void *data, size_t len)
{
    size_t need = (len + 2) / 3 * 4;
    int rc = fin_buf_reserve(b, need);
    if (rc)
        return rc;
    const unsigned char *p = data;
    char *o = b->data + b->len;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        *o++ = b64_chars[v >> 18];
        *o++ = b64_chars[(v >> 12) & 63];
        *o++ = b64_chars[(v >> 6) & 63];
        *o++ = b64_chars[v & 63];
    }
    if (i < len) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0);
        *o++ = b64_chars[v >> 18];
        *o++ = b64_chars[(v >> 12) & 63];
        *o++ = i + 1 < len ? b64_chars[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    b->len += need;
    return 0;
}

int json_str_append(struct fin_buf *b, const char *s, size_t len)
{
    int rc = fin_buf_reserve(b, len + 2);
    if (rc)
        return rc;
    b->data[b->len++] = '"';
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if ((rc = fin_buf_append(b, s + start, i - start)))
            return rc;
        char esc[8];
        if (c == '"' || c == '\\')
            snprintf(esc, sizeof esc, "\\%c", c);
        else
            snprintf(esc, sizeof esc, "\\u%04x", c);
        if ((rc = fin_buf_puts(b, esc)))
            return rc;
        start = i + 1;
    }
    if ((rc = fin_buf_append(b, s + start, len - start)))
        return rc;
    return fin_buf_append(b, "\"", 1);
}

/* ---- request ids ---- */

/* A per-thread xorshift generator seeded from the kernel: request ids need to be
 * unique, not secret, and a syscall per request would show in the put latency. */
static uint64_t rand64(void)
{
    static _Thread_local uint64_t s;
    if (!s) {
        if (getrandom(&s, sizeof s, 0) != sizeof s || !s)
            s = (uint64_t)(uintptr_t)&s ^ 0x9e3779b97f4a7c15ull;
    }
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}

void new_request_ids(struct fin_serve_response *resp)
{
    uint64_t a = rand64(), b = rand64();
    snprintf(resp->request_id, sizeof resp->request_id, "%08x-%04x-4%03x-%04x-%012llx",
             (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff,
             (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
             (unsigned long long)(b & 0xffffffffffffull));
    unsigned char raw[72];
    for (size_t i = 0; i < sizeof raw; i += 8) {
        uint64_t r = rand64();
        memcpy(raw + i, &r, 8);
    }
    struct fin_buf bb;
    fin_buf_init(&bb);
    if (b64_append(&bb, raw, sizeof raw) == 0 && bb.len < sizeof resp->id2) {
        memcpy(resp->id2, bb.data, bb.len);
        resp->id2[bb.len] = 0;
    } else {
        resp->id2[0] = 0;
    }
    fin_buf_fini(&bb);
}

/* ---- responses ---- */

static const char CT_JSON[] = "application/x-amz-json-1.1";

void fin_serve_response_fini(struct fin_serve_response *resp)
{
    if (!resp)
        return;
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
}

void respond_json(struct fin_serve_response *resp, struct fin_buf *b)
{
    free(resp->body);
    resp->status = 200;
    resp->content_type = CT_JSON;
    resp->body = fin_buf_take(b, &resp->body_len);
    new_request_ids(resp);
}

void respond_empty(struct fin_serve_response *resp)
{
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
    resp->status = 200;
    resp->content_type = CT_JSON;
    new_request_ids(resp);
}

void respond_value(struct fin_serve *svc, struct fin_serve_response *resp, json_t *v)
{
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (!text) {
        fin_serve_error(svc, resp, 500, "InternalFailure", "out of memory");
        return;
    }
    free(resp->body);
    resp->status = 200;
    resp->content_type = CT_JSON;
    resp->body = text;
    resp->body_len = strlen(text);
    new_request_ids(resp);
}

void fin_serve_error(struct fin_serve *svc, struct fin_serve_response *resp, int status,
                     const char *type, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    serve_error_body(svc, resp, status, type, "message", msg);
}

static void count_error(struct fin_serve *svc, const char *type)
{
    if (!svc)
        return;
    pthread_mutex_lock(&svc->m.err_mu);
    json_t *n = json_object_get(svc->m.errors, type);
    json_object_set_new(svc->m.errors, type, json_integer(n ? json_integer_value(n) + 1 : 1));
    pthread_mutex_unlock(&svc->m.err_mu);
}

void serve_error_body(struct fin_serve *svc, struct fin_serve_response *resp, int status,
                      const char *type, const char *msg_key, const char *msg)
{
    struct fin_buf b;
    fin_buf_init(&b);
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
    if (fin_buf_puts(&b, "{\"__type\":") == 0 && json_str_append(&b, type, strlen(type)) == 0 &&
        (!msg || (fin_buf_printf(&b, ",\"%s\":", msg_key) == 0 &&
                  json_str_append(&b, msg, strlen(msg)) == 0)) &&
        fin_buf_puts(&b, "}") == 0)
        resp->body = fin_buf_take(&b, &resp->body_len);
    fin_buf_fini(&b);
    resp->status = status;
    resp->content_type = CT_JSON;
    new_request_ids(resp);
    count_error(svc, type);
}

void serve_error_xml(struct fin_serve *svc, struct fin_serve_response *resp, int status,
                     const char *type, const char *msg)
{
    struct fin_buf b;
    fin_buf_init(&b);
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
    if (msg)
        fin_buf_printf(&b, "<%s>\n  <Message>%s</Message>\n</%s>\n", type, msg, type);
    else
        fin_buf_printf(&b, "<%s/>\n", type);
    if (fin_buf_cstr(&b))
        resp->body = fin_buf_take(&b, &resp->body_len);
    fin_buf_fini(&b);
    resp->status = status;
    resp->content_type = NULL;
    new_request_ids(resp);
    count_error(svc, type);
}

/* ---- metrics ---- */

/* Upper bounds of the put latency buckets, microseconds. */
static const int64_t lat_le_us[LAT_BUCKETS] = {250,   500,    1000,   2500,   5000,    10000,
                                               20000, 50000, 100000, 250000, 500000, 1000000};

void metrics_init(struct metrics *m)
{
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->err_mu, NULL);
    m->errors = json_object();
}

void metrics_fini(struct metrics *m)
{
    json_decref(m->errors);
    pthread_mutex_destroy(&m->err_mu);
}

void metrics_put_latency(struct metrics *m, int64_t ns)
{
    int64_t us = ns / 1000;
    int i = 0;
    while (i < LAT_BUCKETS && us > lat_le_us[i])
        i++;
    atomic_fetch_add(&m->lat_bucket[i], 1);
    atomic_fetch_add(&m->lat_sum_us, (uint_fast64_t)us);
    atomic_fetch_add(&m->lat_count, 1);
}

int fin_serve_metrics(struct fin_serve *svc, char **text, size_t *len)
{
    struct metrics *m = &svc->m;
    struct fin_buf b;
    fin_buf_init(&b);
#define COUNTER(name, help, v)                                                                \
    fin_buf_printf(&b, "# HELP " name " " help "\n# TYPE " name " counter\n" name " %llu\n",  \
                   (unsigned long long)(v))
    COUNTER("finstream_kinesis_incoming_records_total", "Records accepted by PutRecord(s).",
            atomic_load(&m->in_records));
    COUNTER("finstream_kinesis_incoming_bytes_total", "Data bytes accepted by PutRecord(s).",
            atomic_load(&m->in_bytes));
    COUNTER("finstream_kinesis_put_requests_total", "PutRecord and PutRecords calls.",
            atomic_load(&m->put_requests));
    COUNTER("finstream_kinesis_put_failed_records_total",
            "Records of PutRecords reported as failed.", atomic_load(&m->put_failed_records));
    COUNTER("finstream_kinesis_get_records_requests_total", "GetRecords calls.",
            atomic_load(&m->get_requests));
    COUNTER("finstream_kinesis_outgoing_records_total", "Records returned by GetRecords.",
            atomic_load(&m->out_records));
    COUNTER("finstream_kinesis_outgoing_bytes_total", "Data bytes returned by GetRecords.",
            atomic_load(&m->out_bytes));
    COUNTER("finstream_firehose_incoming_records_total",
            "Records accepted by Firehose PutRecord(Batch).", atomic_load(&m->fh_records));
    COUNTER("finstream_firehose_incoming_bytes_total",
            "Data bytes accepted by Firehose PutRecord(Batch).", atomic_load(&m->fh_bytes));
    COUNTER("finstream_http_requests_total", "HTTP requests handled.", atomic_load(&m->requests));
    fin_buf_printf(&b, "# HELP finstream_kinesis_iterator_age_milliseconds MillisBehindLatest "
                       "of the last GetRecords.\n"
                       "# TYPE finstream_kinesis_iterator_age_milliseconds gauge\n"
                       "finstream_kinesis_iterator_age_milliseconds %lld\n",
                   (long long)atomic_load(&m->iterator_age_ms));
    fin_buf_printf(&b, "# HELP finstream_kinesis_put_latency_seconds Time to acknowledge a "
                       "PutRecord(s) call.\n"
                       "# TYPE finstream_kinesis_put_latency_seconds histogram\n");
    uint64_t cum = 0;
    for (int i = 0; i <= LAT_BUCKETS; i++) {
        cum += atomic_load(&m->lat_bucket[i]);
        if (i < LAT_BUCKETS)
            fin_buf_printf(&b, "finstream_kinesis_put_latency_seconds_bucket{le=\"%g\"} %llu\n",
                           (double)lat_le_us[i] / 1e6, (unsigned long long)cum);
        else
            fin_buf_printf(&b, "finstream_kinesis_put_latency_seconds_bucket{le=\"+Inf\"} %llu\n",
                           (unsigned long long)cum);
    }
    fin_buf_printf(&b, "finstream_kinesis_put_latency_seconds_sum %.6f\n"
                       "finstream_kinesis_put_latency_seconds_count %llu\n",
                   (double)atomic_load(&m->lat_sum_us) / 1e6,
                   (unsigned long long)atomic_load(&m->lat_count));
    fin_buf_printf(&b, "# HELP finstream_errors_total Error responses by AWS error type.\n"
                       "# TYPE finstream_errors_total counter\n");
    pthread_mutex_lock(&m->err_mu);
    const char *k;
    json_t *v;
    json_object_foreach(m->errors, k, v)
        fin_buf_printf(&b, "finstream_errors_total{type=\"%s\"} %lld\n", k,
                       (long long)json_integer_value(v));
    pthread_mutex_unlock(&m->err_mu);
#undef COUNTER
    firehose_metrics(svc, &b);
    if (!fin_buf_cstr(&b)) {
        fin_buf_fini(&b);
        return FIN_ENOMEM;
    }
    *text = fin_buf_take(&b, len);
    return 0;
}

void fin_serve_log_summary(struct fin_serve *svc)
{
    const struct metrics *m = &svc->m;
    fin_log_event("summary", "serve", FIN_LOG_STR, svc->data_dir,
                  "requests", FIN_LOG_U64, (uint64_t)atomic_load(&m->requests),
                  "records_in", FIN_LOG_U64, (uint64_t)atomic_load(&m->in_records),
                  "bytes_in", FIN_LOG_U64, (uint64_t)atomic_load(&m->in_bytes),
                  "records_out", FIN_LOG_U64, (uint64_t)atomic_load(&m->out_records),
                  "bytes_out", FIN_LOG_U64, (uint64_t)atomic_load(&m->out_bytes),
                  "firehose_records", FIN_LOG_U64, (uint64_t)atomic_load(&m->fh_records),
                  "lag_ms", FIN_LOG_I64, (int64_t)atomic_load(&m->iterator_age_ms), (char *)NULL);
}
