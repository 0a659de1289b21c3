/* fastput.c - PutRecords without a JSON tree.
 *
 * PutRecords is the call that carries the load: 500 records a call, each an object of
 * two strings. Building a jansson tree for it (an object, a hash table and two string
 * copies per record) cost more than everything else on the request path together, so
 * the usual shape - {"StreamName": "...", "Records": [{"Data": "...", "PartitionKey":
 * "..."}, ...]} with strings free of escapes - is scanned in place here: keys point
 * into the body and the data are decoded into one buffer. Anything else (escapes,
 * ExplicitHashKey, StreamARN, unknown members, a limit crossed, bad base64) is left to
 * the general path in kinesis.c, which parses with jansson and answers precisely. */
#include "internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct scan {
    const char *p, *end;
};

static void ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

static bool lit(struct scan *s, char c)
{
    ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return true;
    }
    return false;
}

/* A string without escapes or control characters: its bytes between the quotes. */
static bool str(struct scan *s, const char **out, size_t *len)
{
    if (!lit(s, '"'))
        return false;
    const char *start = s->p;
    while (s->p < s->end && *s->p != '"') {
        if (*s->p == '\\' || (unsigned char)*s->p < 0x20)
            return false;
        s->p++;
    }
    if (s->p >= s->end)
        return false;
    *out = start;
    *len = (size_t)(s->p - start);
    s->p++;
    return true;
}

static bool key_is(const char *k, size_t n, const char *want)
{
    return n == strlen(want) && memcmp(k, want, n) == 0;
}

/* Whether the last data character of padded base64 carries no bits the padding drops
 * (AWS refuses such text: the general path answers it). */
static bool b64_canonical(const char *t, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (n < 4 || t[n - 1] != '=')
        return true;
    bool two = t[n - 2] == '=';
    const char *p = memchr(alphabet, t[n - (two ? 3 : 2)], 64);
    if (!p)
        return false;
    return ((p - alphabet) & (two ? 15 : 3)) == 0;
}

struct raw_rec {
    const char *data, *key;
    size_t data_len, key_len;
};

bool kinesis_put_records_fast(struct fin_serve *svc, const char *body, size_t len,
                              struct fin_serve_response *resp)
{
    int64_t t0 = fin_mono_ns(svc->clock);
    struct scan s = {body, body + len};
    const char *name = NULL, *k;
    size_t name_len = 0, n = 0, kn;
    struct raw_rec *raw = NULL;
    void *block = NULL;
    unsigned char *arena = NULL;
    bool handled = false, have_records = false;
    struct sstream *ss = NULL;

    raw = malloc(FIN_SERVE_PUT_RECORDS_MAX * sizeof *raw);
    if (!raw || !lit(&s, '{'))
        goto out;
    do {
        if (!str(&s, &k, &kn) || !lit(&s, ':'))
            goto out;
        if (key_is(k, kn, "StreamName")) {
            if (name || !str(&s, &name, &name_len))
                goto out;
        } else if (key_is(k, kn, "Records")) {
            if (have_records || !lit(&s, '['))
                goto out;
            have_records = true;
            do {
                if (n == FIN_SERVE_PUT_RECORDS_MAX || !lit(&s, '{'))
                    goto out;
                struct raw_rec *r = &raw[n++];
                r->data = r->key = NULL;
                do {
                    const char *v;
                    size_t vn;
                    if (!str(&s, &k, &kn) || !lit(&s, ':') || !str(&s, &v, &vn))
                        goto out;
                    if (key_is(k, kn, "Data") && !r->data) {
                        r->data = v;
                        r->data_len = vn;
                    } else if (key_is(k, kn, "PartitionKey") && !r->key) {
                        r->key = v;
                        r->key_len = vn;
                    } else {
                        goto out;
                    }
                } while (lit(&s, ','));
                if (!lit(&s, '}') || !r->data || !r->key)
                    goto out;
            } while (lit(&s, ','));
            if (!lit(&s, ']'))
                goto out;
        } else {
            goto out;
        }
    } while (lit(&s, ','));
    if (!lit(&s, '}'))
        goto out;
    ws(&s);
    if (s.p != s.end || !name || n == 0 || name_len < 1 || name_len > FIN_STREAM_MAX_NAME)
        goto out;
    /* a private delivery stream's name takes the slow path, which refuses it */
    if (name_len >= strlen(FIN_SERVE_INTERNAL_PREFIX) &&
        memcmp(name, FIN_SERVE_INTERNAL_PREFIX, strlen(FIN_SERVE_INTERNAL_PREFIX)) == 0)
        goto out;
    for (size_t i = 0; i < name_len; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '.' && name[i] != '-')
            goto out;

    /* limits and base64: any doubt goes to the general path for its exact answer */
    size_t cap = 0;
    for (size_t i = 0; i < n; i++) {
        if (raw[i].key_len < 1 || raw[i].key_len > FIN_STREAM_MAX_KEY || raw[i].data_len % 4 ||
            !b64_canonical(raw[i].data, raw[i].data_len))
            goto out;
        cap += raw[i].data_len / 4 * 3;
    }
    block = malloc(n * (sizeof(struct fin_put_entry) + sizeof(struct fin_put_result) +
                        sizeof(int)));
    arena = malloc(cap + 1);
    if (!block || !arena)
        goto out;
    struct fin_put_entry *e = block;
    struct fin_put_result *res = (struct fin_put_result *)(e + n);
    int *rcs = (int *)(res + n);
    size_t off = 0, total = 0;
    for (size_t i = 0; i < n; i++) {
        long dn = b64_decode(raw[i].data, raw[i].data_len, arena + off);
        if (dn < 0 || dn > FIN_STREAM_MAX_DATA)
            goto out;
        e[i].key = raw[i].key;
        e[i].key_len = raw[i].key_len;
        e[i].data = arena + off;
        e[i].len = (size_t)dn;
        off += (size_t)dn;
        total += (size_t)dn + raw[i].key_len;
    }
    if (total > FIN_SERVE_PUT_RECORDS_BYTES)
        goto out;

    handled = true;
    char sname[FIN_STREAM_MAX_NAME + 1];
    memcpy(sname, name, name_len);
    sname[name_len] = 0;
    if (reg_acquire(svc, sname, true, &ss, resp) == 0) {
        put_entries(svc, resp, ss, e, NULL, n, res, rcs);
        reg_release(svc, ss);
    }
    atomic_fetch_add(&svc->m.put_requests, 1);
    metrics_put_latency(&svc->m, fin_mono_ns(svc->clock) - t0);
out:
    free(raw);
    free(block);
    free(arena);
    return handled;
}
