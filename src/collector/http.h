/* http.h - the collector's HTTP transport: a function table, so that the Yahoo source
 * talks to libcurl in production and to a scripted transport in unit tests.
 *
 * A transport performs one GET and hands back whatever arrived: the status, the body,
 * the Content-Type and the Retry-After header. Deciding what a status means (retry, fail,
 * parse) is the caller's business; the transport only tells "an answer came" (0) from
 * "no answer came" (FIN_ETIMEOUT, FIN_ENET). http.c is the only file in the collector
 * that includes curl.h. */
#ifndef FINSTREAM_COLLECTOR_HTTP_H
#define FINSTREAM_COLLECTOR_HTTP_H

#include <stdint.h>

#include "finstream/buf.h"

/* Bodies larger than this are refused (a chart answer for a week of minutes is ~1 MiB). */
#define FIN_HTTP_BODY_MAX (64u << 20)

struct fin_http_request {
    const char *url;
    const char *user_agent;   /* NULL: the transport's default */
    int64_t timeout_ms;       /* whole request, connect included; <= 0: no limit */
};

struct fin_http_response {
    long status;              /* HTTP status, 0 when no answer came */
    struct fin_buf body;      /* owned by the response */
    char retry_after[64];     /* the Retry-After header's value, "" when absent */
    char content_type[128];   /* "" when absent */
};

void fin_http_response_init(struct fin_http_response *r);
void fin_http_response_reset(struct fin_http_response *r);
void fin_http_response_fini(struct fin_http_response *r);

struct fin_http_transport {
    /* Performs a GET into resp (reset first). Returns 0 when an answer arrived, whatever
     * its status; FIN_ETIMEOUT or FIN_ENET (with a message naming the URL) when none did;
     * FIN_ELIMIT when the body exceeds FIN_HTTP_BODY_MAX. */
    int (*get)(struct fin_http_transport *t, const struct fin_http_request *req,
               struct fin_http_response *resp);
    void (*destroy)(struct fin_http_transport *t);
};

/* The libcurl transport (HTTPS, gzip, redirects, keep-alive between calls). Owned by the
 * caller, freed with fin_http_transport_destroy. Not for use by two threads at once. */
int fin_http_curl_create(struct fin_http_transport **out);

static inline int fin_http_get(struct fin_http_transport *t, const struct fin_http_request *req,
                               struct fin_http_response *resp)
{
    return t->get(t, req, resp);
}

/* Accepts NULL. */
void fin_http_transport_destroy(struct fin_http_transport *t);

/* A Retry-After value ("120" or an HTTP date) as a delay in ms from now_s (UTC seconds);
 * -1 when it cannot be read. A date in the past gives 0. */
int64_t fin_http_retry_after_ms(const char *value, int64_t now_s);

#endif
