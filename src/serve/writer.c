/* writer.c - lending a served stream's writer to code beside the service (the console
 * that `finstream serve --console` runs): serve holds the only writer of each stream, so
 * resharding from the console goes through it rather than contending for the lock. */
#include "internal.h"

#include "finstream/error.h"

#include <jansson.h>
#include <string.h>

int fin_serve_with_stream(struct fin_serve *svc, const char *name,
                          int (*fn)(struct fin_stream *s, void *ctx), void *ctx)
{
    struct sstream *ss = NULL;
    struct fin_serve_response resp;
    memset(&resp, 0, sizeof resp);
    int rc = reg_acquire(svc, name, true, &ss, &resp);
    if (rc) {
        /* the AWS error's message, for the caller's answer */
        json_t *v = resp.body ? json_loadb(resp.body, resp.body_len, 0, NULL) : NULL;
        const char *m = json_string_value(json_object_get(v, "message"));
        fin_err_set(rc, "%s", m ? m : fin_strerror(rc));
        json_decref(v);
        fin_serve_response_fini(&resp);
        return rc;
    }
    rc = fn(ss->st, ctx);
    reg_release(svc, ss);
    return rc;
}
