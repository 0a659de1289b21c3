/* http.h - finstream's one HTTP client transport: a function table, so that the Yahoo
 * source and the AWS client talk to libcurl in production and to scripted transports in
 * unit tests.
 *
 * A transport sends one request (method, URL, headers, body, timeout) and hands back
 * whatever arrived: the status, the headers and the body. Deciding what a status means
 * (retry, fail, parse) is the caller's business; the transport only tells "an answer
 * came" (0) from "no answer came" (FIN_ETIMEOUT, FIN_ENET). src/core/http_curl.c is the
 * only file in finstream that includes curl.h. */
#ifndef FINSTREAM_HTTP_H
#define FINSTREAM_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "finstream/buf.h"

/* The body limit when a request names none. */
#define FIN_HTTP_BODY_MAX (256u << 20)

struct fin_http_header {
    const char *name;
    const char *value;
};

/* Request flags. */
enum {
    /* Send only the headers given: no Expect, Accept or form Content-Type of the
     * transport's own (what a signed request needs: the server sees what was signed). */
    FIN_HTTP_EXACT_HEADERS = 1u << 0,
    /* Follow up to 5 redirects (http and https only); the final answer is returned. */
    FIN_HTTP_FOLLOW = 1u << 1,
    /* Ask for any content encoding the transport can decode; the body comes back decoded. */
    FIN_HTTP_DECODE = 1u << 2,
};

struct fin_http_request {
    const char *method;                     /* "GET", "HEAD", "PUT", "POST", "DELETE" ... */
    const char *url;
    const struct fin_http_header *headers;  /* sent as given; may be NULL when n_headers is 0 */
    size_t n_headers;
    const void *body;                       /* NULL when body_len is 0 */
    size_t body_len;
    const char *user_agent;                 /* NULL: no User-Agent header */
    int64_t timeout_ms;                     /* whole request, connect included; <= 0: no limit */
    size_t body_max;                        /* larger answers fail; 0: FIN_HTTP_BODY_MAX */
    unsigned flags;                         /* FIN_HTTP_* */
};

struct fin_http_response {
    long status;                            /* HTTP status, 0 when no answer came */
    struct fin_buf body;                    /* owned by the response */
    struct fin_buf headers;                 /* "name\0value\0" pairs, names lower case; after
                                               a redirect or a 100 Continue, the last
                                               answer's only */
};

void fin_http_response_init(struct fin_http_response *r);
void fin_http_response_reset(struct fin_http_response *r);
/* Accepts NULL. */
void fin_http_response_fini(struct fin_http_response *r);
/* The value of header name (case-insensitive), or NULL; borrowed from r until its next
 * reset. */
const char *fin_http_response_header(const struct fin_http_response *r, const char *name);
/* Adds a header to r (for transports and test doubles). */
int fin_http_response_add_header(struct fin_http_response *r, const char *name, size_t name_len,
                                 const char *value, size_t value_len);

struct fin_http_transport {
    /* Sends req and fills resp (reset first). Returns 0 when an answer arrived, whatever
     * its status; FIN_ETIMEOUT or FIN_ENET with a message "METHOD URL: why" when none did;
     * FIN_ELIMIT ("URL: answer larger than N bytes") when the body exceeds the limit. */
    int (*send)(struct fin_http_transport *t, const struct fin_http_request *req,
                struct fin_http_response *resp);
    void (*destroy)(struct fin_http_transport *t);
};

/* The libcurl transport (HTTP and HTTPS): one easy handle kept between requests, so
 * consecutive calls reuse the connection. Owned by the caller, freed with
 * fin_http_transport_destroy. Not for use by two threads at once. */
int fin_http_curl_create(struct fin_http_transport **out);

static inline int fin_http_send(struct fin_http_transport *t, const struct fin_http_request *req,
                                struct fin_http_response *resp)
{
    return t->send(t, req, resp);
}

/* Accepts NULL. */
void fin_http_transport_destroy(struct fin_http_transport *t);

/* The HTTP library's version ("8.5.0"); a static string. */
const char *fin_http_library_version(void);

/* A Retry-After value ("120" or an HTTP date) as a delay in ms from now_s (UTC seconds);
 * -1 when it cannot be read. A date in the past gives 0. */
int64_t fin_http_retry_after_ms(const char *value, int64_t now_s);

#endif
