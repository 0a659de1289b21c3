/* test_aws_fake.h - a scripted struct fin_http_transport for the AWS unit tests: answers
 * come from a queue (status -1 means "no answer came") or from a handler that looks at
 * the request; the last request's URL, headers and body are kept for assertions. */
#ifndef TEST_AWS_FAKE_H
#define TEST_AWS_FAKE_H

#include <stdlib.h>
#include <string.h>

#include "finstream/aws.h"
#include "finstream/buf.h"
#include "finstream/error.h"

#define FAKE_QUEUE 64

struct fake_transport;
typedef void (*fake_handler)(struct fake_transport *ft, const struct fin_http_request *req,
                             struct fin_http_response *resp);

struct fake_transport {
    struct fin_http_transport base;
    long status[FAKE_QUEUE];
    char *body[FAKE_QUEUE];
    int head, tail;
    int sent;
    char last_url[2048];
    char last_method[16];
    char last_headers[8192];
    struct fin_buf last_body;
    fake_handler handler;      /* used when the queue is empty */
    void *ctx;
};

static inline int fake_send(struct fin_http_transport *t, const struct fin_http_request *req,
                            struct fin_http_response *resp)
{
    struct fake_transport *ft = (struct fake_transport *)t;
    fin_http_response_reset(resp);
    ft->sent++;
    snprintf(ft->last_url, sizeof ft->last_url, "%s", req->url);
    snprintf(ft->last_method, sizeof ft->last_method, "%s", req->method);
    size_t w = 0;
    for (size_t i = 0; i < req->n_headers && w < sizeof ft->last_headers; i++)
        w += (size_t)snprintf(ft->last_headers + w, sizeof ft->last_headers - w, "%s: %s\n",
                              req->headers[i].name, req->headers[i].value);
    fin_buf_reset(&ft->last_body);
    fin_buf_append(&ft->last_body, req->body ? req->body : "", req->body_len);
    fin_buf_cstr(&ft->last_body);
    if (ft->head == ft->tail) {
        if (!ft->handler)
            return fin_err_set(FIN_ENET, "fake transport: nothing queued");
        ft->handler(ft, req, resp);
        return resp->status < 0 ? fin_err_set(FIN_ENET, "fake: connection refused") : 0;
    }
    int i = ft->head++ % FAKE_QUEUE;
    long st = ft->status[i];
    char *b = ft->body[i];
    ft->body[i] = NULL;
    if (st < 0) {
        free(b);
        return fin_err_set(FIN_ENET, "%s: connection reset (fake)", req->url);
    }
    resp->status = st;
    if (b)
        fin_buf_puts(&resp->body, b);
    free(b);
    return 0;
}

static inline void fake_destroy(struct fin_http_transport *t) { (void)t; }

static inline void fake_init(struct fake_transport *ft)
{
    memset(ft, 0, sizeof *ft);
    ft->base.send = fake_send;
    ft->base.destroy = fake_destroy;
    fin_buf_init(&ft->last_body);
}

static inline void fake_push(struct fake_transport *ft, long status, const char *body)
{
    int i = ft->tail++ % FAKE_QUEUE;
    ft->status[i] = status;
    ft->body[i] = body ? strdup(body) : NULL;
}

static inline void fake_fini(struct fake_transport *ft)
{
    for (int i = 0; i < FAKE_QUEUE; i++)
        free(ft->body[i]);
    fin_buf_fini(&ft->last_body);
}

#endif
