/* http.c - the libcurl implementation of the collector's HTTP transport (http.h).
 *
 * One easy handle per transport, kept between requests so that consecutive tickers reuse
 * the TLS connection to the chart API. Headers are captured per response: after a
 * redirect only the final response's Content-Type and Retry-After count. */
#include "http.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "finstream/error.h"

#define DEFAULT_USER_AGENT "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 " \
                           "(KHTML, like Gecko) Chrome/124.0 Safari/537.36"

void fin_http_response_init(struct fin_http_response *r)
{
    memset(r, 0, sizeof *r);
    fin_buf_init(&r->body);
}

void fin_http_response_reset(struct fin_http_response *r)
{
    r->status = 0;
    fin_buf_reset(&r->body);
    r->retry_after[0] = '\0';
    r->content_type[0] = '\0';
}

void fin_http_response_fini(struct fin_http_response *r)
{
    if (!r)
        return;
    fin_buf_fini(&r->body);
    memset(r, 0, sizeof *r);
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

struct curl_transport {
    struct fin_http_transport base;   /* first: the table is the object */
    CURL *easy;
    char errbuf[CURL_ERROR_SIZE];
    struct fin_http_response *resp;   /* the response being filled */
    bool too_big;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct curl_transport *ct = ctx;
    size_t len = size * n;
    if (ct->resp->body.len + len > FIN_HTTP_BODY_MAX) {
        ct->too_big = true;
        return 0;   /* makes curl stop with CURLE_WRITE_ERROR */
    }
    return fin_buf_append(&ct->resp->body, p, len) ? 0 : len;
}

/* Copies a header value (trimmed) into out when the line is "name: value". */
static bool header_value(const char *line, size_t len, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return false;
    const char *v = line + nl + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t n = (size_t)(end - v);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, v, n);
    out[n] = '\0';
    return true;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    struct curl_transport *ct = ctx;
    size_t len = size * n;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* A new response (after a redirect or a 100 Continue): forget the last one's headers. */
        ct->resp->retry_after[0] = '\0';
        ct->resp->content_type[0] = '\0';
        return len;
    }
    if (!header_value(p, len, "Retry-After", ct->resp->retry_after, sizeof ct->resp->retry_after))
        header_value(p, len, "Content-Type", ct->resp->content_type, sizeof ct->resp->content_type);
    return len;
}

static int curl_get(struct fin_http_transport *t, const struct fin_http_request *req,
                    struct fin_http_response *resp)
{
    struct curl_transport *ct = (struct curl_transport *)t;
    fin_http_response_reset(resp);
    ct->resp = resp;
    ct->too_big = false;
    ct->errbuf[0] = '\0';
    CURL *e = ct->easy;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_USERAGENT, req->user_agent ? req->user_agent : DEFAULT_USER_AGENT);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? (long)req->timeout_ms : 0L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     req->timeout_ms > 0 ? (long)req->timeout_ms : 0L);
    CURLcode rc = curl_easy_perform(e);
    ct->resp = NULL;
    if (ct->too_big)
        return fin_err_set(FIN_ELIMIT, "%s: answer larger than %u bytes", req->url,
                           FIN_HTTP_BODY_MAX);
    if (rc != CURLE_OK) {
        const char *why = ct->errbuf[0] ? ct->errbuf : curl_easy_strerror(rc);
        if (rc == CURLE_OPERATION_TIMEDOUT)
            return fin_err_set(FIN_ETIMEOUT, "%s: timed out: %s", req->url, why);
        return fin_err_set(FIN_ENET, "%s: %s", req->url, why);
    }
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    resp->status = status;
    return 0;
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
    ct->base.get = curl_get;
    ct->base.destroy = curl_destroy;
    ct->easy = curl_easy_init();
    if (!ct->easy) {
        curl_destroy(&ct->base);
        return fin_err_set(FIN_ENOMEM, "libcurl: cannot create a handle");
    }
    CURL *e = ct->easy;
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, ct->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, ct);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, ct);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");   /* whatever curl can decode */
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);   /* timeouts without SIGALRM */
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    *out = &ct->base;
    return 0;
}
