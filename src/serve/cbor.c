/* cbor.c - application/x-amz-cbor-1.1 bodies, the Java SDK's default for Kinesis.
 *
 * The handlers work on JSON, so a CBOR request is turned into the JSON value it means
 * and the JSON answer back into CBOR. The only differences of meaning are blobs and
 * timestamps: a CBOR byte string (Data) becomes the base64 text the JSON protocol would
 * carry, and on the way out the Data members become byte strings again and
 * ApproximateArrivalTimestamp a tag-1 epoch time. Tag-1 times are milliseconds in both
 * directions (the Java SDK's convention; the JSON protocol carries seconds). Text strings
 * with a NUL byte are refused, as JSON's \u0000 is, so that no name is cut short. Definite and indefinite lengths are
 * read; nesting and sizes are bounded so that no input can exhaust the stack or memory. */
#include "internal.h"

#include "finstream/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CBOR_MAX_DEPTH 32

struct cin {
    const unsigned char *p, *end;
};

static int head(struct cin *c, int *major, int *info, uint64_t *arg)
{
    if (c->p >= c->end)
        return FIN_EPARSE;
    unsigned b = *c->p++;
    *major = (int)(b >> 5);
    *info = (int)(b & 31);
    *arg = (uint64_t)*info;
    int n = *info == 24 ? 1 : *info == 25 ? 2 : *info == 26 ? 4 : *info == 27 ? 8 : 0;
    if (*info >= 28 && *info <= 30)
        return FIN_EPARSE;
    if (n) {
        if (c->end - c->p < n)
            return FIN_EPARSE;
        *arg = 0;
        for (int i = 0; i < n; i++)
            *arg = *arg << 8 | *c->p++;
    }
    return 0;
}

static double half_to_double(unsigned h)
{
    int e = (h >> 10) & 31, m = h & 1023;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, e - 25);
    return h & 0x8000 ? -v : v;
}

/* A byte or text string (possibly in chunks) appended to b. */
static int string_body(struct cin *c, int major, int info, uint64_t len, struct fin_buf *b)
{
    if (info == 31) {
        for (;;) {
            if (c->p < c->end && *c->p == 0xff) {
                c->p++;
                return 0;
            }
            int m, i;
            uint64_t l;
            if (head(c, &m, &i, &l) || m != major || i == 31)
                return FIN_EPARSE;
            if ((uint64_t)(c->end - c->p) < l || fin_buf_append(b, c->p, (size_t)l))
                return FIN_EPARSE;
            c->p += l;
        }
    }
    if ((uint64_t)(c->end - c->p) < len || fin_buf_append(b, c->p, (size_t)len))
        return FIN_EPARSE;
    c->p += len;
    return 0;
}

static int item(struct cin *c, json_t **out, int depth);

static int container(struct cin *c, int major, int info, uint64_t n, json_t **out, int depth)
{
    json_t *v = major == 4 ? json_array() : json_object();
    if (!v)
        return FIN_ENOMEM;
    for (uint64_t i = 0; info == 31 || i < n; i++) {
        if (info == 31 && c->p < c->end && *c->p == 0xff) {
            c->p++;
            break;
        }
        if (c->p >= c->end)
            goto bad;
        json_t *k = NULL, *x = NULL;
        if (major == 5 && (item(c, &k, depth + 1) || !json_is_string(k))) {
            json_decref(k);
            goto bad;
        }
        if (item(c, &x, depth + 1)) {
            json_decref(k);
            goto bad;
        }
        if (major == 4)
            json_array_append_new(v, x);
        else
            json_object_set_new(v, json_string_value(k), x);
        json_decref(k);
    }
    *out = v;
    return 0;
bad:
    json_decref(v);
    return FIN_EPARSE;
}

static int item(struct cin *c, json_t **out, int depth)
{
    int major, info;
    uint64_t arg;
    if (depth > CBOR_MAX_DEPTH || head(c, &major, &info, &arg))
        return FIN_EPARSE;
    switch (major) {
    case 0:
        *out = arg > INT64_MAX ? NULL : json_integer((json_int_t)arg);
        return *out ? 0 : FIN_EPARSE;
    case 1:
        *out = arg > INT64_MAX ? NULL : json_integer(-1 - (json_int_t)arg);
        return *out ? 0 : FIN_EPARSE;
    case 2:
    case 3: {
        struct fin_buf b;
        fin_buf_init(&b);
        int rc = string_body(c, major, info, arg, &b);
        if (!rc && major == 2) {
            /* a blob: the base64 text JSON would carry */
            struct fin_buf e;
            fin_buf_init(&e);
            rc = b64_append(&e, b.data ? b.data : "", b.len);
            *out = rc ? NULL : json_stringn(e.data ? e.data : "", e.len);
            fin_buf_fini(&e);
        } else if (!rc && b.len && memchr(b.data, 0, b.len)) {
            /* a NUL would cut the name short further on ("a\0b" is not "a"): refused,
             * as the JSON parser refuses \u0000 */
            rc = FIN_EPARSE;
            *out = NULL;
        } else if (!rc) {
            *out = json_stringn(b.data ? b.data : "", b.len);
        }
        fin_buf_fini(&b);
        return !rc && *out ? 0 : FIN_EPARSE;
    }
    case 4:
    case 5:
        return container(c, major, info, arg, out, depth);
    case 6: {
        /* tag 1, an epoch time: the Java SDK writes milliseconds there (AWS's CBOR
         * convention), the JSON protocol seconds */
        int rc = item(c, out, depth + 1);
        if (rc == 0 && arg == 1 && json_is_number(*out)) {
            double ms = json_number_value(*out);
            json_decref(*out);
            *out = json_real(ms / 1000.0);
            rc = *out ? 0 : FIN_EPARSE;
        }
        return rc;
    }
    default:
        if (info == 20 || info == 21)
            *out = json_boolean(info == 21);
        else if (info == 22 || info == 23)
            *out = json_null();
        else if (info == 25)
            *out = json_real(half_to_double((unsigned)arg));
        else if (info == 26) {
            uint32_t u = (uint32_t)arg;
            float f;
            memcpy(&f, &u, 4);
            *out = json_real(f);
        } else if (info == 27) {
            double d;
            memcpy(&d, &arg, 8);
            *out = json_real(d);
        } else
            return FIN_EPARSE;
        return *out ? 0 : FIN_EPARSE;
    }
}

int cbor_to_json(const void *data, size_t len, json_t **out)
{
    struct cin c = {data, (const unsigned char *)data + len};
    *out = NULL;
    if (item(&c, out, 0) || c.p != c.end) {
        json_decref(*out);
        *out = NULL;
        return fin_err_set(FIN_EPARSE, "malformed CBOR body");
    }
    return 0;
}

/* ---- JSON to CBOR ---- */

static int put_head(struct fin_buf *b, int major, uint64_t v)
{
    unsigned char h[9];
    size_t n;
    h[0] = (unsigned char)(major << 5);
    if (v < 24) {
        h[0] |= (unsigned char)v;
        n = 1;
    } else if (v <= 0xff) {
        h[0] |= 24, h[1] = (unsigned char)v, n = 2;
    } else if (v <= 0xffff) {
        h[0] |= 25, h[1] = (unsigned char)(v >> 8), h[2] = (unsigned char)v, n = 3;
    } else if (v <= 0xffffffffu) {
        h[0] |= 26;
        for (int i = 0; i < 4; i++)
            h[1 + i] = (unsigned char)(v >> (24 - 8 * i));
        n = 5;
    } else {
        h[0] |= 27;
        for (int i = 0; i < 8; i++)
            h[1 + i] = (unsigned char)(v >> (56 - 8 * i));
        n = 9;
    }
    return fin_buf_append(b, h, n);
}

static int put_double(struct fin_buf *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    unsigned char h[9] = {0xfb};
    for (int i = 0; i < 8; i++)
        h[1 + i] = (unsigned char)(u >> (56 - 8 * i));
    return fin_buf_append(b, h, 9);
}

static int emit(struct fin_buf *b, json_t *v, const char *key)
{
    int rc = 0;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *x;
        rc = put_head(b, 5, json_object_size(v));
        json_object_foreach(v, k, x) {
            if (rc || (rc = put_head(b, 3, strlen(k))) || (rc = fin_buf_append(b, k, strlen(k))))
                break;
            rc = emit(b, x, k);
        }
        return rc;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *x;
        rc = put_head(b, 4, json_array_size(v));
        json_array_foreach(v, i, x) {
            if (rc || (rc = emit(b, x, NULL)))
                break;
        }
        return rc;
    }
    case JSON_STRING: {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (key && strcmp(key, "Data") == 0) {
            unsigned char *raw = malloc(n / 4 * 3 + 1);
            long dn = raw ? b64_decode(s, n, raw) : -1;
            if (dn >= 0 && !(rc = put_head(b, 2, (uint64_t)dn)))
                rc = fin_buf_append(b, raw, (size_t)dn);
            free(raw);
            return dn < 0 ? FIN_EPARSE : rc;
        }
        if ((rc = put_head(b, 3, n)))
            return rc;
        return fin_buf_append(b, s, n);
    }
    case JSON_INTEGER:
    case JSON_REAL: {
        /* timestamps: tag 1 and integer milliseconds, as the Java SDK reads them */
        if (key && (strcmp(key, "ApproximateArrivalTimestamp") == 0 ||
                    strcmp(key, "StreamCreationTimestamp") == 0)) {
            int64_t ms = (int64_t)llround(json_number_value(v) * 1000.0);
            if ((rc = put_head(b, 6, 1)))
                return rc;
            return ms >= 0 ? put_head(b, 0, (uint64_t)ms) : put_head(b, 1, (uint64_t)(-1 - ms));
        }
        if (json_is_real(v))
            return put_double(b, json_real_value(v));
        json_int_t x = json_integer_value(v);
        return x >= 0 ? put_head(b, 0, (uint64_t)x) : put_head(b, 1, (uint64_t)(-1 - x));
    }
    case JSON_TRUE: return fin_buf_append(b, "\xf5", 1);
    case JSON_FALSE: return fin_buf_append(b, "\xf4", 1);
    default: return fin_buf_append(b, "\xf6", 1);
    }
}

int json_text_to_cbor(const char *text, size_t len, char **out, size_t *out_len)
{
    json_error_t jerr;
    json_t *v = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
    if (!v)
        return fin_err_set(FIN_EPARSE, "response is not JSON: %s", jerr.text);
    struct fin_buf b;
    fin_buf_init(&b);
    int rc = emit(&b, v, NULL);
    json_decref(v);
    if (rc || !fin_buf_cstr(&b)) {
        fin_buf_fini(&b);
        return rc ? rc : FIN_ENOMEM;
    }
    *out = fin_buf_take(&b, out_len);
    return 0;
}
