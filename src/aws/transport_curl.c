/* transport_curl.c - the libcurl implementation of struct fin_aws_transport, the only
 * code that calls libcurl for AWS requests.
 *
 * One easy handle per transport, kept between requests: curl_easy_reset() clears the
 * options of the last request but keeps its connection, so a producer or a multipart
 * upload sends every call over the same keep-alive connection. The transport adds no
 * header that is signed; it removes the ones curl would add on its own (Expect, a form
 * Content-Type on POST) so that what the server sees is what was signed. */
#include "finstream/aws.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "finstream/error.h"

void fin_aws_http_response_init(struct fin_aws_http_response *r)
{
    memset(r, 0, sizeof *r);
    fin_buf_init(&r->body);
    fin_buf_init(&r->headers);
}

void fin_aws_http_response_reset(struct fin_aws_http_response *r)
{
    r->status = 0;
    fin_buf_reset(&r->body);
    fin_buf_reset(&r->headers);
}

void fin_aws_http_response_fini(struct fin_aws_http_response *r)
{
    if (!r)
        return;
    fin_buf_fini(&r->body);
    fin_buf_fini(&r->headers);
}

int fin_aws_http_response_add_header(struct fin_aws_http_response *r, const char *name,
                                     size_t name_len, const char *value, size_t value_len)
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

const char *fin_aws_http_response_header(const struct fin_aws_http_response *r, const char *name)
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

void fin_aws_transport_destroy(struct fin_aws_transport *t)
{
    if (t)
        t->destroy(t);
}

struct curl_transport {
    struct fin_aws_transport base;   /* first: the table is the object */
    CURL *easy;
    char errbuf[CURL_ERROR_SIZE];
    struct fin_aws_http_response *resp;
    bool too_big;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct curl_transport *ct = ctx;
    size_t len = size * n;
    if (ct->resp->body.len + len > FIN_AWS_BODY_MAX) {
        ct->too_big = true;
        return 0;
    }
    return fin_buf_append(&ct->resp->body, p, len) ? 0 : len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    struct curl_transport *ct = ctx;
    size_t len = size * n;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* A new response (after 100 Continue): only the last one's headers count. */
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
    if (fin_aws_http_response_add_header(ct->resp, p, (size_t)(colon - p), v, (size_t)(end - v)))
        return 0;
    return len;
}

static int curl_send(struct fin_aws_transport *t, const struct fin_aws_http_request *req,
                     struct fin_aws_http_response *resp)
{
    struct curl_transport *ct = (struct curl_transport *)t;
    struct curl_slist *hl = NULL;
    int rc = FIN_ENOMEM;
    fin_aws_http_response_reset(resp);
    CURL *e = ct->easy;
    curl_easy_reset(e);
    ct->resp = resp;
    ct->too_big = false;
    ct->errbuf[0] = '\0';
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
    const char *removed[] = {"Expect:", "Accept:", has_ctype ? NULL : "Content-Type:"};
    for (size_t i = 0; i < sizeof removed / sizeof removed[0]; i++) {
        if (!removed[i])
            continue;
        struct curl_slist *nl = curl_slist_append(hl, removed[i]);
        if (!nl)
            goto fail;
        hl = nl;
    }
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, ct->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, ct);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, ct);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
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
    CURLcode cc = curl_easy_perform(e);
    if (ct->too_big) {
        rc = fin_err_set(FIN_ELIMIT, "%s: answer larger than %u bytes", req->url, FIN_AWS_BODY_MAX);
        goto fail;
    }
    if (cc != CURLE_OK) {
        const char *why = ct->errbuf[0] ? ct->errbuf : curl_easy_strerror(cc);
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

static void curl_destroy(struct fin_aws_transport *t)
{
    struct curl_transport *ct = (struct curl_transport *)t;
    if (ct->easy)
        curl_easy_cleanup(ct->easy);
    free(ct);
}

int fin_aws_transport_curl_create(struct fin_aws_transport **out)
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
