/* http_curl.c - the HTTP transport of http.h and its libcurl implementation: the only
 * file in finstream that includes curl.h.
 *
 * One easy handle per transport, kept between requests: curl_easy_reset() clears the
 * options of the last request but keeps its connection, so consecutive tickers of the
 * Yahoo source, a Kinesis producer or a multipart upload all send every call over the
 * same keep-alive (TLS) connection. Headers are captured per answer: after a redirect or
 * a 100 Continue only the final answer's headers count. With FIN_HTTP_EXACT_HEADERS the
 * transport removes the headers curl would add on its own (Expect, Accept, a form
 * Content-Type on POST), so that what a server sees is what was signed. */
#include "finstream/http.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "finstream/error.h"
#include "finstream/interrupt.h"

/* ---- responses ---- */

void fin_http_response_init(struct fin_http_response *r)
{
    memset(r, 0, sizeof *r);
    fin_buf_init(&r->body);
    fin_buf_init(&r->headers);
}

void fin_http_response_reset(struct fin_http_response *r)
{
    r->status = 0;
    fin_buf_reset(&r->body);
    fin_buf_reset(&r->headers);
}

void fin_http_response_fini(struct fin_http_response *r)
{
    if (!r)
        return;
    fin_buf_fini(&r->body);
    fin_buf_fini(&r->headers);
}

int fin_http_response_add_header(struct fin_http_response *r, const char *name, size_t name_len,
                                 const char *value, size_t value_len)
{
    if (fin_buf_reserve(&r->headers, name_len + value_len + 2))
        return FIN_ENOMEM;
    char *w = r->headers.data + r->headers.len;
    for (size_t i = 0; i < name_len; i++)
        w[i] = (char)tolower((unsigned char)name[i]);
    w[name_len] = '\0';
    memcpy(w + name_len + 1, value, value_len);
    w[name_len + 1 + value_len] = '\0';
    r->headers.len += name_len + value_len + 2;
    return 0;
}

const char *fin_http_response_header(const struct fin_http_response *r, const char *name)
{
    const char *p = r->headers.data, *end = p + r->headers.len;
    while (p && p < end) {
        const char *v = p + strlen(p) + 1;
        if (strcasecmp(p, name) == 0)
            return v;
        p = v + strlen(v) + 1;
    }
    return NULL;
}

void fin_http_transport_destroy(struct fin_http_transport *t)
{
    if (t)
        t->destroy(t);
}

int64_t fin_http_retry_after_ms(const char *value, int64_t now_s)
{
    while (*value == ' ' || *value == '\t')
        value++;
    if (!*value)
        return -1;
    if (isdigit((unsigned char)*value)) {
        char *end;
        long long s = strtoll(value, &end, 10);
        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
            end++;
        if (*end || s < 0 || s > 86400LL * 365)
            return -1;
        return (int64_t)s * 1000;
    }
    time_t at = curl_getdate(value, NULL);
    if (at == (time_t)-1)
        return -1;
    return at <= now_s ? 0 : ((int64_t)at - now_s) * 1000;
}

/* ---- libcurl ---- */

const char *fin_http_library_version(void) { return curl_version_info(CURLVERSION_NOW)->version; }

struct curl_transport {
    struct fin_http_transport base;   /* first: the table is the object */
    CURL *easy;
    char errbuf[CURL_ERROR_SIZE];
    struct fin_http_response *resp;   /* the response being filled */
    size_t body_max;
    bool too_big;
};

/* curl_global_init is not thread-safe and must run once per process, whichever part of
 * finstream creates the first transport. */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct curl_transport *ct = ctx;
    size_t len = size * n;
    if (ct->resp->body.len + len > ct->body_max) {
        ct->too_big = true;
        return 0;   /* makes curl stop with CURLE_WRITE_ERROR */
    }
    return fin_buf_append(&ct->resp->body, p, len) ? 0 : len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    struct curl_transport *ct = ctx;
    size_t len = size * n;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* A new answer (after a redirect or a 100 Continue): forget the last one's headers. */
        fin_buf_reset(&ct->resp->headers);
        return len;
    }
    const char *colon = memchr(p, ':', len);
    if (!colon)
        return len;
    const char *v = colon + 1, *end = p + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (fin_http_response_add_header(ct->resp, p, (size_t)(colon - p), v, (size_t)(end - v)))
        return 0;
    return len;
}

/* The request's header list for curl; *out is freed with curl_slist_free_all. */
static int build_headers(const struct fin_http_request *req, struct curl_slist **out)
{
    struct curl_slist *hl = NULL;
    int rc = FIN_ENOMEM;
    bool has_ctype = false;
    char line[8192];
    for (size_t i = 0; i < req->n_headers; i++) {
        has_ctype |= strcasecmp(req->headers[i].name, "content-type") == 0;
        int n = snprintf(line, sizeof line, "%s: %s", req->headers[i].name, req->headers[i].value);
        if (n < 0 || (size_t)n >= sizeof line) {
            rc = fin_err_set(FIN_EINVAL, "%s: header %s too long", req->url, req->headers[i].name);
            goto fail;
        }
        struct curl_slist *nl = curl_slist_append(hl, line);
        if (!nl)
            goto fail;
        hl = nl;
    }
    if (req->flags & FIN_HTTP_EXACT_HEADERS) {
        const char *removed[] = {"Expect:", "Accept:", has_ctype ? NULL : "Content-Type:"};
        for (size_t i = 0; i < sizeof removed / sizeof removed[0]; i++) {
            if (!removed[i])
                continue;
            struct curl_slist *nl = curl_slist_append(hl, removed[i]);
            if (!nl)
                goto fail;
            hl = nl;
        }
    }
    *out = hl;
    return 0;
fail:
    curl_slist_free_all(hl);
    return rc;
}

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)ctx, (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return fin_interrupted() ? 1 : 0;
}

static int curl_send(struct fin_http_transport *t, const struct fin_http_request *req,
                     struct fin_http_response *resp)
{
    struct curl_transport *ct = (struct curl_transport *)t;
    struct curl_slist *hl = NULL;
    int rc;
    fin_http_response_reset(resp);
    CURL *e = ct->easy;
    curl_easy_reset(e);
    ct->resp = resp;
    ct->body_max = req->body_max ? req->body_max : FIN_HTTP_BODY_MAX;
    ct->too_big = false;
    ct->errbuf[0] = '\0';
    if ((rc = build_headers(req, &hl)) != 0)
        goto fail;
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, ct->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, ct);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, ct);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);   /* timeouts without SIGALRM */
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
    if (req->user_agent)
        curl_easy_setopt(e, CURLOPT_USERAGENT, req->user_agent);
    if (req->flags & FIN_HTTP_DECODE)
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");   /* whatever curl can decode */
    if (req->flags & FIN_HTTP_FOLLOW) {
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    }
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? (long)req->timeout_ms : 0L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, req->timeout_ms > 0 ? (long)req->timeout_ms : 0L);
    if (strcmp(req->method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (strcmp(req->method, "GET") == 0 && req->body_len == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
        /* POSTFIELDS with a custom method sends exactly these bytes with their length, for
         * PUT and DELETE as for POST, and an empty body as Content-Length: 0. */
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body_len ? req->body : "");
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
    }
    /* Ctrl-C ends a transfer, a connect or a DNS look-up within a progress tick. */
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    CURLcode cc = fin_interrupted() ? CURLE_ABORTED_BY_CALLBACK : curl_easy_perform(e);
    if (ct->too_big) {
        rc = fin_err_set(FIN_ELIMIT, "%s: answer larger than %zu bytes", req->url, ct->body_max);
        goto fail;
    }
    if (cc != CURLE_OK) {
        const char *why = ct->errbuf[0] ? ct->errbuf : curl_easy_strerror(cc);
        /* A name that does not resolve or a port nobody listens on will not answer a
         * retry a second later: FIN_EUNREACHABLE, which callers do not retry. */
        if (cc == CURLE_ABORTED_BY_CALLBACK)
            rc = fin_interrupt_error();
        else if (cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_COULDNT_RESOLVE_PROXY ||
                 cc == CURLE_COULDNT_CONNECT)
            rc = fin_err_set(FIN_EUNREACHABLE, "%s %s: %s", req->method, req->url, why);
        else
            rc = cc == CURLE_OPERATION_TIMEDOUT
                     ? fin_err_set(FIN_ETIMEOUT, "%s %s: timed out: %s", req->method, req->url, why)
                     : fin_err_set(FIN_ENET, "%s %s: %s", req->method, req->url, why);
        goto fail;
    }
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    resp->status = status;
    rc = 0;
fail:
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hl);
    ct->resp = NULL;
    return rc;
}

static void curl_destroy(struct fin_http_transport *t)
{
    struct curl_transport *ct = (struct curl_transport *)t;
    if (ct->easy)
        curl_easy_cleanup(ct->easy);
    free(ct);
}

int fin_http_curl_create(struct fin_http_transport **out)
{
    *out = NULL;
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return fin_err_set(FIN_ENET, "libcurl: %s", curl_easy_strerror(curl_init_rc));
    struct curl_transport *ct = calloc(1, sizeof *ct);
    if (!ct)
        return FIN_ENOMEM;
    ct->base.send = curl_send;
    ct->base.destroy = curl_destroy;
    ct->easy = curl_easy_init();
    if (!ct->easy) {
        curl_destroy(&ct->base);
        return fin_err_set(FIN_ENOMEM, "libcurl: cannot create a handle");
    }
    *out = &ct->base;
    return 0;
}
