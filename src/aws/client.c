/* client.c - a signed AWS client: builds a request, signs it, sends it through the
 * transport, reads AWS's error shapes, and retries what is worth retrying.
 *
 * Every attempt is signed anew (its X-Amz-Date is the time it is sent). Retries use capped
 * exponential backoff with full jitter (a delay drawn uniformly from [0, min(max,
 * base * 2^attempt)]), the scheme AWS recommends because it spreads the retries of many
 * clients throttled at the same moment; the sleep goes through the clock seam, so tests
 * of retries take no time. */
#include "finstream/aws.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "finstream/error.h"
#include "finstream/log.h"

struct fin_aws_client {
    char service[32];
    char region[64];
    struct fin_aws_endpoint ep;
    char host_header[300];
    struct fin_aws_settings set;      /* a copy; strings owned */
    struct fin_aws_credentials creds;
    struct fin_http_transport *transport;
    bool own_transport;
    const struct fin_clock *clock;
    uint64_t rng;
    int64_t skew_s;                   /* server time - our time, learnt from a skew error */
    struct fin_aws_client_stats stats;
};

/* ---- error classification ---- */

static const char *const throttle_codes[] = {
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
    "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown",
    "PriorRequestNotComplete", "TransactionInProgressException", "EC2ThrottledException", NULL};

static const char *const auth_codes[] = {
    "AccessDenied", "AccessDeniedException", "InvalidAccessKeyId", "SignatureDoesNotMatch",
    "UnrecognizedClientException", "InvalidSignatureException", "ExpiredToken",
    "ExpiredTokenException", "InvalidClientTokenId", "IncompleteSignature",
    "IncompleteSignatureException", "MissingAuthenticationToken",
    "MissingAuthenticationTokenException", "RequestTimeTooSkewed", "RequestExpired",
    "AuthFailure", "InvalidToken", "NotAuthorized", "InvalidSecurity", NULL};

static const char *const retry_codes[] = {
    "RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure",
    "InternalServerError", "InternalServiceError", "ServiceUnavailable",
    "ServiceUnavailableException", "ServiceFailure", "KMSInternalException", NULL};

static const char *const missing_codes[] = {
    "NoSuchKey", "NoSuchBucket", "NoSuchUpload", "ResourceNotFoundException", "NotFound", NULL};

static bool in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

enum fin_aws_error_class fin_aws_classify_code(const char *type, long status)
{
    if (status >= 200 && status < 300 && (!type || !*type))
        return FIN_AWS_OK;
    if (type && *type) {
        if (in_list(throttle_codes, type))
            return FIN_AWS_THROTTLED;
        if (in_list(auth_codes, type))
            return FIN_AWS_AUTH;
        if (in_list(retry_codes, type))
            return FIN_AWS_RETRIABLE;
    }
    if (status == 429)
        return FIN_AWS_THROTTLED;
    if (status >= 500 || status == 0)
        return FIN_AWS_RETRIABLE;
    if (status == 401 || status == 403)
        return FIN_AWS_AUTH;
    return FIN_AWS_FATAL;
}

int fin_aws_class_errcode(enum fin_aws_error_class cls)
{
    switch (cls) {
    case FIN_AWS_OK: return 0;
    case FIN_AWS_RETRIABLE: return FIN_EAGAIN;
    case FIN_AWS_THROTTLED: return FIN_ETHROTTLE;
    case FIN_AWS_AUTH: return FIN_EAUTH;
    case FIN_AWS_FATAL: break;
    }
    return FIN_EHTTP;
}

/* Copies the text between <tag> and </tag> in xml. */
static void xml_text(const char *xml, size_t len, const char *tag, char *out, size_t cap)
{
    char open[64], close[64];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *p = memmem(xml, len, open, strlen(open));
    if (!p)
        return;
    p += strlen(open);
    const char *e = memmem(p, len - (size_t)(p - xml), close, strlen(close));
    if (!e)
        return;
    size_t n = (size_t)(e - p);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

/* "aws.protocoltests#ValidationException" and "ValidationException:http://..." are both
 * "ValidationException". */
static void set_type(struct fin_aws_error *err, const char *t)
{
    const char *hash = strrchr(t, '#');
    if (hash)
        t = hash + 1;
    size_t n = strcspn(t, ":");
    if (n >= sizeof err->type)
        n = sizeof err->type - 1;
    memcpy(err->type, t, n);
    err->type[n] = '\0';
}

void fin_aws_classify(const struct fin_http_response *resp, struct fin_aws_error *err)
{
    memset(err, 0, sizeof *err);
    const char *body = resp->body.data ? resp->body.data : "";
    size_t len = resp->body.len;
    size_t skip = 0;
    while (skip < len && isspace((unsigned char)body[skip]))
        skip++;
    if (resp->status < 200 || resp->status >= 300) {
        const char *h = fin_http_response_header(resp, "x-amzn-errortype");
        if (h && *h)
            set_type(err, h);
        if (skip < len && body[skip] == '{') {
            json_t *j = json_loadb(body + skip, len - skip, 0, NULL);
            if (j) {
                const char *t = json_string_value(json_object_get(j, "__type"));
                if (!t)
                    t = json_string_value(json_object_get(j, "code"));
                if (t && *t)
                    set_type(err, t);
                const char *m = json_string_value(json_object_get(j, "message"));
                if (!m)
                    m = json_string_value(json_object_get(j, "Message"));
                if (m)
                    snprintf(err->message, sizeof err->message, "%s", m);
                json_decref(j);
            }
        } else if (skip < len && body[skip] == '<') {
            char code[128] = "";
            xml_text(body, len, "Code", code, sizeof code);
            if (code[0])
                set_type(err, code);
            xml_text(body, len, "Message", err->message, sizeof err->message);
        }
        if (!err->type[0] && resp->status == 404)
            snprintf(err->type, sizeof err->type, "NotFound");
    }
    err->cls = fin_aws_classify_code(err->type, resp->status);
    err->code = fin_aws_class_errcode(err->cls);
    if (err->cls == FIN_AWS_FATAL && (in_list(missing_codes, err->type) || resp->status == 404))
        err->code = FIN_ENOENT;
}

/* ---- the client ---- */

static uint64_t rng_next(uint64_t *s)
{
    /* splitmix64: enough for jitter, no shared state between clients. */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

int64_t fin_aws_backoff_ms(uint64_t *rng, int attempt, int64_t base_ms, int64_t max_ms)
{
    int64_t cap = base_ms;
    for (int i = 0; i < attempt && cap < max_ms; i++)
        cap *= 2;
    if (cap > max_ms)
        cap = max_ms;
    if (cap <= 0)
        return 0;
    return (int64_t)(rng_next(rng) % (uint64_t)(cap + 1));
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

int fin_aws_client_create(struct fin_aws_client **out, const char *service,
                          const struct fin_aws_settings *s, const struct fin_aws_client_deps *deps)
{
    *out = NULL;
    struct fin_aws_client_deps none = {0};
    if (!deps)
        deps = &none;
    int rc = FIN_ENOMEM;
    struct fin_aws_client *c = calloc(1, sizeof *c);
    if (!c)
        return FIN_ENOMEM;
    snprintf(c->service, sizeof c->service, "%s", service);
    c->set = *s;
    c->set.region = dup_or_null(s->region);
    c->set.profile = dup_or_null(s->profile);
    c->set.endpoint_url = dup_or_null(s->endpoint_url);
    c->set.access_key_id = dup_or_null(s->access_key_id);
    c->set.secret_access_key = dup_or_null(s->secret_access_key);
    c->set.session_token = dup_or_null(s->session_token);
    if ((s->region && !c->set.region) || (s->profile && !c->set.profile) ||
        (s->endpoint_url && !c->set.endpoint_url) || (s->access_key_id && !c->set.access_key_id) ||
        (s->secret_access_key && !c->set.secret_access_key) ||
        (s->session_token && !c->set.session_token))
        goto fail;
    if ((rc = fin_aws_resolve_region(s, c->region, sizeof c->region)) != 0)
        goto fail;
    if ((rc = fin_aws_resolve_endpoint(service, c->region, s->endpoint_url, &c->ep)) != 0)
        goto fail;
    if (c->ep.port)
        snprintf(c->host_header, sizeof c->host_header, "%s:%d", c->ep.host, c->ep.port);
    else
        snprintf(c->host_header, sizeof c->host_header, "%s", c->ep.host);
    rc = deps->credentials ? fin_aws_credentials_copy(&c->creds, deps->credentials)
                           : fin_aws_resolve_credentials(s, &c->creds);
    if (rc)
        goto fail;
    c->clock = deps->clock ? deps->clock : fin_clock_real();
    if (deps->transport) {
        c->transport = deps->transport;
    } else {
        if ((rc = fin_http_curl_create(&c->transport)) != 0)
            goto fail;
        c->own_transport = true;
    }
    c->rng = deps->seed ? deps->seed : (uint64_t)fin_mono_ns(fin_clock_real());
    *out = c;
    return 0;
fail:
    fin_aws_client_destroy(c);
    return rc;
}

void fin_aws_client_destroy(struct fin_aws_client *c)
{
    if (!c)
        return;
    if (c->own_transport)
        fin_http_transport_destroy(c->transport);
    fin_aws_credentials_fini(&c->creds);
    fin_aws_settings_fini(&c->set);
    free(c);
}

const struct fin_aws_endpoint *fin_aws_client_endpoint(const struct fin_aws_client *c) { return &c->ep; }
const char *fin_aws_client_region(const struct fin_aws_client *c) { return c->region; }
const struct fin_aws_client_stats *fin_aws_client_stats(const struct fin_aws_client *c) { return &c->stats; }
const struct fin_clock *fin_aws_client_clock(const struct fin_aws_client *c) { return c->clock; }
const struct fin_aws_settings *fin_aws_client_settings(const struct fin_aws_client *c) { return &c->set; }

static int64_t real_ns(void) { return fin_mono_ns(fin_clock_real()); }

/* An HTTP date ("Wed, 26 Nov 2025 10:30:00 GMT") as UTC seconds, or -1. */
static int64_t http_date(const char *s)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char mon[4];
    int d, y, hh, mm, ss;
    if (!s || sscanf(s, "%*3s, %d %3s %d %d:%d:%d", &d, mon, &y, &hh, &mm, &ss) != 6)
        return -1;
    const char *m = strstr(months, mon);
    if (!m || (m - months) % 3)
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = (int)((m - months) / 3), .tm_mday = d,
                    .tm_hour = hh, .tm_min = mm, .tm_sec = ss};
    return (int64_t)timegm(&tm);
}

/* True when err says our clock is off, and the answer's Date tells by how much: then the
 * client signs with the server's time from now on, as AWS's SDKs do. */
static bool learn_skew(struct fin_aws_client *c, const struct fin_http_response *resp,
                       const struct fin_aws_error *err)
{
    bool skew = strcmp(err->type, "RequestTimeTooSkewed") == 0 ||
                strcmp(err->type, "RequestExpired") == 0 ||
                (strcmp(err->type, "InvalidSignatureException") == 0 &&
                 strstr(err->message, "Signature expired"));
    int64_t server = http_date(fin_http_response_header(resp, "date"));
    if (!skew || server < 0)
        return false;
    int64_t ours = fin_now_ns(c->clock) / FIN_NS_PER_SEC;
    int64_t before = c->skew_s;
    c->skew_s = server - ours;
    fin_warn("%s: the local clock is %+lld s off the server's; signing with the server's time",
             c->service, (long long)(ours - server));
    return c->skew_s != before;
}

/* Signs and sends one attempt. */
static int attempt(struct fin_aws_client *c, const struct fin_aws_call *call, const char *host,
                   const char *payload_hash, struct fin_buf *url, struct fin_sigv4_result *sig,
                   struct fin_http_response *resp)
{
    int64_t t0 = real_ns();
    struct fin_aws_header h[FIN_SIGV4_MAX_HEADERS + 1];
    size_t n = 0;
    if (call->n_headers + 5 > FIN_SIGV4_MAX_HEADERS)
        return fin_err_set(FIN_EINVAL, "%s: too many headers", call->what);
    char date[FIN_SIGV4_DATE_LEN + 1];
    int64_t now_s = fin_now_ns(c->clock) / FIN_NS_PER_SEC + c->skew_s;
    fin_sigv4_format_date(now_s, date);
    h[n++] = (struct fin_aws_header){"Host", host};
    h[n++] = (struct fin_aws_header){"X-Amz-Date", date};
    if (c->creds.session_token)
        h[n++] = (struct fin_aws_header){"X-Amz-Security-Token", c->creds.session_token};
    if (call->s3)
        h[n++] = (struct fin_aws_header){"x-amz-content-sha256", payload_hash};
    for (size_t i = 0; i < call->n_headers; i++)
        h[n++] = call->headers[i];
    fin_buf_reset(url);
    const char *path = call->path && *call->path ? call->path : "/";
    if (fin_buf_printf(url, "%s%s", c->ep.base_path, path))
        return FIN_ENOMEM;
    /* The path signed is the whole path on the wire, base path included. */
    char *wire_path = strdup(fin_buf_cstr(url) ? url->data : "/");
    if (!wire_path)
        return FIN_ENOMEM;
    struct fin_sigv4_request req = {.method = call->method, .path = wire_path, .query = call->query,
                                    .headers = h, .n_headers = n, .payload = call->body,
                                    .payload_len = call->body_len, .payload_hash = payload_hash};
    struct fin_sigv4_scope scope = {.region = c->region, .service = c->service, .time_s = now_s,
                                    .s3_path_rules = call->s3};
    int rc = fin_sigv4_sign(&req, &scope, &c->creds, sig);
    free(wire_path);
    if (rc)
        return rc;
    h[n++] = (struct fin_aws_header){"Authorization", sig->authorization.data};
    fin_buf_reset(url);
    if (c->ep.port)
        rc = fin_buf_printf(url, "%s://%s:%d%s%s%s%s", c->ep.scheme, call->host ? call->host : c->ep.host,
                            c->ep.port, c->ep.base_path, path, call->query && *call->query ? "?" : "",
                            call->query ? call->query : "");
    else
        rc = fin_buf_printf(url, "%s://%s%s%s%s%s", c->ep.scheme, call->host ? call->host : c->ep.host,
                            c->ep.base_path, path, call->query && *call->query ? "?" : "",
                            call->query ? call->query : "");
    if (rc || !fin_buf_cstr(url))
        return FIN_ENOMEM;
    int64_t t1 = real_ns();
    c->stats.sign_ns += t1 - t0;
    struct fin_http_header wire[FIN_SIGV4_MAX_HEADERS + 1];
    for (size_t i = 0; i < n; i++)
        wire[i] = (struct fin_http_header){h[i].name, h[i].value};
    struct fin_http_request hr = {.method = call->method, .url = url->data, .headers = wire,
                                  .n_headers = n, .body = call->body, .body_len = call->body_len,
                                  .timeout_ms = c->set.timeout_ms, .body_max = FIN_HTTP_BODY_MAX,
                                  .flags = FIN_HTTP_EXACT_HEADERS};
    c->stats.requests++;
    c->stats.bytes_sent += call->body_len;
    rc = fin_http_send(c->transport, &hr, resp);
    c->stats.send_ns += real_ns() - t1;
    return rc;
}

int fin_aws_client_call(struct fin_aws_client *c, const struct fin_aws_call *call,
                        struct fin_http_response *resp, struct fin_aws_error *err_out)
{
    struct fin_aws_error err_local, *err = err_out ? err_out : &err_local;
    memset(err, 0, sizeof *err);
    struct fin_buf url;
    struct fin_sigv4_result sig;
    fin_buf_init(&url);
    fin_sigv4_result_init(&sig);
    char hash[65];
    const char *payload_hash = call->payload_hash;
    if (!payload_hash) {
        int64_t t0 = real_ns();
        fin_sha256_hex(call->body ? call->body : "", call->body_len, hash);
        c->stats.sign_ns += real_ns() - t0;
        payload_hash = hash;
    }
    char host[300];
    if (call->host && c->ep.port)
        snprintf(host, sizeof host, "%s:%d", call->host, c->ep.port);
    else
        snprintf(host, sizeof host, "%s", call->host ? call->host : c->host_header);
    const char *what = call->what ? call->what : call->method;
    int rc = 0;
    for (int i = 0;; i++) {
        rc = attempt(c, call, host, payload_hash, &url, &sig, resp);
        if (rc == 0 && !fin_buf_cstr(&resp->body))
            rc = FIN_ENOMEM;   /* callers parse the body as a C string */
        if (rc == 0) {
            fin_aws_classify(resp, err);
            if (err->cls == FIN_AWS_OK)
                break;
            rc = fin_err_set(err->code, "%s: HTTP %ld %s%s%s", what, resp->status,
                             err->type[0] ? err->type : "error", err->message[0] ? ": " : "",
                             err->message);
        } else if (rc == FIN_ENET || rc == FIN_ETIMEOUT) {
            err->cls = FIN_AWS_RETRIABLE;
            err->code = rc;
            snprintf(err->message, sizeof err->message, "%s", fin_err_msg());
            rc = fin_err_set(rc, "%s: %s", what, err->message);
        } else {
            break;   /* our own failure (memory, a request that cannot be signed) */
        }
        if (err->cls == FIN_AWS_AUTH && rc == FIN_EAUTH && i < c->set.retries &&
            learn_skew(c, resp, err))
            continue;   /* signed with a corrected time, at once */
        if ((err->cls != FIN_AWS_RETRIABLE && err->cls != FIN_AWS_THROTTLED) ||
            i >= c->set.retries)
            break;
        int64_t ms = fin_aws_backoff_ms(&c->rng, i, c->set.backoff_ms, c->set.backoff_max_ms);
        fin_debug("%s: retry %d in %lld ms (%s)", what, i + 1, (long long)ms, fin_err_msg());
        c->stats.retries++;
        c->clock->sleep_ns(c->clock->ctx, ms * FIN_NS_PER_MS);
    }
    fin_buf_fini(&url);
    fin_sigv4_result_fini(&sig);
    return rc;
}

int fin_aws_client_json(struct fin_aws_client *c, const char *target, const char *body,
                        size_t len, struct fin_http_response *resp, struct fin_aws_error *err)
{
    struct fin_aws_header h[] = {{"Content-Type", "application/x-amz-json-1.1"},
                                 {"X-Amz-Target", target}};
    struct fin_aws_call call = {.method = "POST", .path = "/", .headers = h, .n_headers = 2,
                                .body = body, .body_len = len, .what = target};
    return fin_aws_client_call(c, &call, resp, err);
}
