/* model.c - the checks AWS's JSON services apply to a request before the operation,
 * driven by the shape tables of model.h.
 *
 * Two passes, as the services make them. The first reads each member as its declared
 * type, in table order, and stops at the first that cannot be read: a
 * SerializationException whose Message is the Java deserialiser's ("class
 * java.lang.String can not be converted to an Integer", "Start of list found where not
 * expected"). Unknown members and nulls are dropped; numbers are floored for integer
 * types and capped at the Java int's maximum, as Coral reads them. The second pass checks
 * every constraint of every member, in table order and, within a member, in the order
 * required, pattern, length, value, enum, element lengths, elements; it collects up to
 * ten failures into one ValidationException ("2 validation errors detected: Value 'x' at
 * 'streamName' failed to satisfy constraint: Member must ...; Value null at ...").
 * Values are printed as AWS prints them: strings as they are, blobs as the
 * java.nio.HeapByteBuffer they became, lists as [a, b] and maps as {k=v}.
 *
 * Patterns are Java regular expressions matched against the whole value; the few the
 * models use are translated to POSIX extended expressions (\d and \S) and compiled once. */
#include "model.h"

#include "finstream/error.h"

#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- patterns ---- */

#define MAX_PATTERNS 32
static struct {
    const char *pattern;
    regex_t re;
    bool ok;
} patterns[MAX_PATTERNS];
static size_t n_patterns;
static pthread_mutex_t patterns_mu = PTHREAD_MUTEX_INITIALIZER;

static bool pattern_match(const char *pattern, const char *s)
{
    pthread_mutex_lock(&patterns_mu);
    size_t i = 0;
    while (i < n_patterns && patterns[i].pattern != pattern)
        i++;
    if (i == n_patterns && n_patterns < MAX_PATTERNS) {
        char ere[512];
        size_t o = 0;
        ere[o++] = '^', ere[o++] = '(';
        for (const char *p = pattern; *p && o < sizeof ere - 16; p++) {
            if (p[0] == '\\' && p[1] == 'd') {
                memcpy(ere + o, "[0-9]", 5), o += 5, p++;
            } else if (p[0] == '\\' && p[1] == 'S') {
                memcpy(ere + o, "[^[:space:]]", 12), o += 12, p++;
            } else {
                ere[o++] = *p;
            }
        }
        ere[o++] = ')', ere[o++] = '$', ere[o] = 0;
        patterns[i].pattern = pattern;
        patterns[i].ok = regcomp(&patterns[i].re, ere, REG_EXTENDED | REG_NOSUB) == 0;
        n_patterns++;
    }
    bool match = i < n_patterns && patterns[i].ok ? regexec(&patterns[i].re, s, 0, NULL, 0) == 0
                                                  : true;
    pthread_mutex_unlock(&patterns_mu);
    return match;
}

/* ---- pass 1: types ---- */

struct mctx {
    struct fin_serve *svc;
    struct fin_serve_response *resp;
    char *errors[10];       /* owned */
    int n_errors;
};

static int type_error(struct mctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int type_error(struct mctx *c, const char *fmt, ...)
{
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    serve_error_body(c->svc, c->resp, 400, "SerializationException", "Message", msg);
    return FIN_EINVAL;
}

static const char *const type_names[] = {
    [M_STRING] = "String", [M_INTEGER] = "Integer", [M_LONG] = "Long", [M_DOUBLE] = "Double",
    [M_BOOLEAN] = "Boolean", [M_BLOB] = "Blob", [M_TIMESTAMP] = "Timestamp",
};

static int container_error(struct mctx *c, json_t *v)
{
    if (json_is_array(v))
        return type_error(c, "Start of list found where not expected");
    return type_error(c, "Start of structure or map found where not expected.");
}

static int read_members(struct mctx *c, const struct mshape *members, json_t *in, json_t **out);

/* Reads v as shape s into *out (a new reference, or NULL for null). */
static int read_value(struct mctx *c, const struct mshape *s, json_t *v, json_t **out)
{
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    bool container = json_is_array(v) || json_is_object(v);
    switch (s->type) {
    case M_BOOLEAN:
        if (json_is_number(v))
            return type_error(c, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber "
                                 "can not be converted to an Boolean");
        if (json_is_string(v)) {
            char up[256];
            snprintf(up, sizeof up, "%s", json_string_value(v));
            for (char *p = up; *p; p++)
                if (*p >= 'a' && *p <= 'z')
                    *p = (char)(*p - 'a' + 'A');
            return type_error(c, "'%s' can not be converted to an Boolean", up);
        }
        if (container)
            return container_error(c, v);
        break;
    case M_INTEGER:
    case M_LONG:
    case M_DOUBLE:
        if (json_is_boolean(v))
            return type_error(c, "class java.lang.Boolean can not be converted to an %s",
                              type_names[s->type]);
        if (json_is_string(v))
            return type_error(c, "class java.lang.String can not be converted to an %s",
                              type_names[s->type]);
        if (container)
            return container_error(c, v);
        if (s->type != M_DOUBLE) {
            double d = json_number_value(v);
            if (json_is_real(v)) {
                d = floor(d);
                if (d > 9.2e18)
                    d = 9.2e18;
                if (d < -9.2e18)
                    d = -9.2e18;
            }
            int64_t x = json_is_integer(v) ? json_integer_value(v) : (int64_t)d;
            if (s->type == M_INTEGER && x > 2147483647)
                x = 2147483647;
            *out = json_integer(x);
            return 0;
        }
        break;
    case M_STRING:
        if (json_is_boolean(v))
            return type_error(c, "class java.lang.Boolean can not be converted to an String");
        if (json_is_number(v))
            return type_error(c, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber "
                                 "can not be converted to an String");
        if (container)
            return container_error(c, v);
        break;
    case M_BLOB: {
        if (json_is_boolean(v))
            return type_error(c, "class java.lang.Boolean can not be converted to a Blob");
        if (json_is_number(v))
            return type_error(c, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber "
                                 "can not be converted to a Blob");
        if (container)
            return container_error(c, v);
        const char *t = json_string_value(v);
        size_t n = json_string_length(v);
        if (n % 4)
            return type_error(c, "'%.900s' can not be converted to a Blob: Base64 encoded length "
                                 "is expected a multiple of 4 bytes but found: %zu", t, n);
        for (size_t i = 0; i < n; i++) {
            char ch = t[i];
            bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                      (ch >= '0' && ch <= '9') || ch == '+' || ch == '/' || ch == '=';
            if (!ok || (ch == '=' && i + 1 < n && t[i + 1] != '='))
                return type_error(c, "'%.900s' can not be converted to a Blob: Invalid Base64 "
                                     "character: '%c'", t, ch);
        }
        /* a last character with bits the padding drops is refused, as Coral does */
        unsigned char *raw = malloc(n / 4 * 3 + 1);
        long dn = raw ? b64_decode(t, n, raw) : -1;
        bool canonical = false;
        if (dn >= 0) {
            struct fin_buf b;
            fin_buf_init(&b);
            canonical = b64_append(&b, raw, (size_t)dn) == 0 && b.len == n &&
                        memcmp(b.data ? b.data : "", t, n) == 0;
            fin_buf_fini(&b);
        }
        free(raw);
        if (!canonical)
            return type_error(c, "'%.900s' can not be converted to a Blob: Invalid last non-pad "
                                 "Base64 character dectected", t);
        break;
    }
    case M_TIMESTAMP:
        if (json_is_boolean(v))
            return type_error(c, "class java.lang.Boolean can not be converted to milliseconds "
                                 "since epoch");
        if (json_is_string(v))
            return type_error(c, "class java.lang.String can not be converted to milliseconds "
                                 "since epoch");
        if (container)
            return container_error(c, v);
        break;
    case M_LIST: {
        if (!container)
            return type_error(c, "Expected list or null");
        if (!json_is_array(v))
            return type_error(c, "Start of structure or map found where not expected.");
        json_t *a = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            json_t *y;
            if (read_value(c, s->members, x, &y)) {
                json_decref(a);
                return FIN_EINVAL;
            }
            json_array_append_new(a, y ? y : json_null());
        }
        *out = a;
        return 0;
    }
    case M_MAP: {
        if (!container)
            return type_error(c, "Expected map or null");
        if (!json_is_object(v))
            return type_error(c, "Start of list found where not expected");
        json_t *o = json_object();
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) {
            json_t *y;
            if (read_value(c, s->members, x, &y)) {
                json_decref(o);
                return FIN_EINVAL;
            }
            json_object_set_new(o, k, y ? y : json_null());
        }
        *out = o;
        return 0;
    }
    case M_STRUCT:
        if (!container)
            return type_error(c, "Expected null");
        if (!json_is_object(v))
            return type_error(c, "Start of list found where not expected");
        return read_members(c, s->members, v, out);
    }
    *out = json_incref(v);
    return 0;
}

static int read_members(struct mctx *c, const struct mshape *members, json_t *in, json_t **out)
{
    json_t *o = json_object();
    *out = NULL;
    if (!o)
        return FIN_ENOMEM;
    for (const struct mshape *m = members; m && m->name; m++) {
        json_t *v = json_is_object(in) ? json_object_get(in, m->name) : NULL, *y;
        if (read_value(c, m, v, &y)) {
            json_decref(o);
            return FIN_EINVAL;
        }
        if (y)
            json_object_set_new(o, m->name, y);
    }
    *out = o;
    return 0;
}

/* ---- pass 2: constraints ---- */

static void value_str(const struct mshape *s, json_t *v, struct fin_buf *b)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        if (s->type == M_BLOB) {
            size_t n = json_string_length(v), pad = 0;
            const char *t = json_string_value(v);
            while (pad < n && pad < 2 && t[n - 1 - pad] == '=')
                pad++;
            size_t len = n / 4 * 3 - pad;
            fin_buf_printf(b, "java.nio.HeapByteBuffer[pos=0 lim=%zu cap=%zu]", len, len);
        } else {
            fin_buf_append(b, json_string_value(v), json_string_length(v));
        }
        return;
    case JSON_INTEGER:
        fin_buf_printf(b, "%lld", (long long)json_integer_value(v));
        return;
    case JSON_REAL:
        fin_buf_printf(b, "%.17g", json_real_value(v));
        return;
    case JSON_TRUE:
    case JSON_FALSE:
        fin_buf_puts(b, json_is_true(v) ? "true" : "false");
        return;
    case JSON_NULL:
        fin_buf_puts(b, "null");
        return;
    case JSON_ARRAY: {
        fin_buf_puts(b, "[");
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            if (i)
                fin_buf_puts(b, ", ");
            if (s->member_str)
                fin_buf_puts(b, s->member_str);
            else
                value_str(s->members, x, b);
        }
        fin_buf_puts(b, "]");
        return;
    }
    case JSON_OBJECT: {
        if (s->type == M_STRUCT) {
            char *t = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
            fin_buf_puts(b, t ? t : "{}");
            free(t);
            return;
        }
        fin_buf_puts(b, "{");
        const char *k;
        json_t *x;
        bool first = true;
        json_object_foreach(v, k, x) {
            fin_buf_printf(b, "%s%s=", first ? "" : ", ", k);
            value_str(s->members, x, b);
            first = false;
        }
        fin_buf_puts(b, "}");
        return;
    }
    }
}

static void fail(struct mctx *c, const struct mshape *s, const char *path, json_t *v,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void fail(struct mctx *c, const struct mshape *s, const char *path, json_t *v,
                 const char *fmt, ...)
{
    if (c->n_errors >= 10)
        return;
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    struct fin_buf b;
    fin_buf_init(&b);
    if (!v) {
        fin_buf_puts(&b, "null");
    } else {
        fin_buf_puts(&b, "'");
        value_str(s, v, &b);
        fin_buf_puts(&b, "'");
    }
    struct fin_buf e;
    fin_buf_init(&e);
    fin_buf_printf(&e, "Value %s at '%s' failed to satisfy constraint: %s",
                   fin_buf_cstr(&b) ? b.data : "", path, what);
    c->errors[c->n_errors++] = fin_buf_cstr(&e) ? fin_buf_take(&e, NULL) : NULL;
    fin_buf_fini(&e);
    fin_buf_fini(&b);
}

/* The length AWS measures: characters of a string (UTF-16 units; code points here), bytes
 * of a blob, elements of a list, entries of a map. */
static int64_t length_of(const struct mshape *s, json_t *v)
{
    if (json_is_array(v))
        return (int64_t)json_array_size(v);
    if (json_is_object(v))
        return (int64_t)json_object_size(v);
    if (!json_is_string(v))
        return 0;
    const char *t = json_string_value(v);
    size_t n = json_string_length(v);
    if (s->type == M_BLOB) {
        size_t pad = 0;
        while (pad < n && pad < 2 && t[n - 1 - pad] == '=')
            pad++;
        return (int64_t)(n / 4 * 3 - pad);
    }
    int64_t chars = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)t[i];
        if ((ch & 0xc0) != 0x80)
            chars += ch >= 0xf0 ? 2 : 1;  /* a code point outside the BMP is two units */
    }
    return chars;
}

static void check_members(struct mctx *c, const struct mshape *members, json_t *obj,
                          const char *parent);

static void lower_first(char *out, size_t cap, const char *parent, const char *name)
{
    snprintf(out, cap, "%s%s%s", parent ? parent : "", parent ? "." : "", name);
    char *p = out + (parent ? strlen(parent) + 1 : 0);
    if (*p >= 'A' && *p <= 'Z')
        *p = (char)(*p - 'A' + 'a');
}

static void check_value(struct mctx *c, const struct mshape *s, json_t *v, const char *path,
                        json_t *parent)
{
    if (!v || json_is_null(v)) {
        if ((s->flags & MC_REQUIRED) && !(s->unless && json_object_get(parent, s->unless)))
            fail(c, s, path, NULL, "Member must not be null");
        return;
    }
    if (s->pattern && json_is_string(v) && !pattern_match(s->pattern, json_string_value(v)))
        fail(c, s, path, v, "Member must satisfy regular expression pattern: %s", s->pattern);
    int64_t len = length_of(s, v);
    if ((s->flags & MC_LEN_MIN) && len < s->len_min)
        fail(c, s, path, v, "Member must have length greater than or equal to %lld",
             (long long)s->len_min);
    if ((s->flags & MC_LEN_MAX) && len > s->len_max)
        fail(c, s, path, v, "Member must have length less than or equal to %lld",
             (long long)s->len_max);
    if (json_is_number(v)) {
        double x = json_number_value(v);
        if ((s->flags & MC_MIN) && x < (double)s->min)
            fail(c, s, path, v, "Member must have value greater than or equal to %lld",
                 (long long)s->min);
        if ((s->flags & MC_MAX) && x > (double)s->max)
            fail(c, s, path, v, "Member must have value less than or equal to %lld",
                 (long long)s->max);
    }
    if (s->enums && json_is_string(v)) {
        bool found = false;
        for (const char *const *e = s->enums; *e && !found; e++)
            found = strcmp(*e, json_string_value(v)) == 0;
        if (!found) {
            char set[512];
            size_t o = 0;
            for (const char *const *e = s->enums; *e; e++)
                o += (size_t)snprintf(set + o, sizeof set - o, "%s%s", o ? ", " : "", *e);
            fail(c, s, path, v, "Member must satisfy enum value set: [%s]", set);
        }
    }
    if (s->flags & MC_ELEM_LEN) {
        bool ok = true;
        if (json_is_array(v)) {
            size_t i;
            json_t *x;
            json_array_foreach(v, i, x) {
                int64_t l = length_of(s->members, x);
                ok &= l >= s->elem_min && l <= s->elem_max;
            }
        } else if (json_is_object(v)) {
            const char *k;
            json_t *x;
            json_object_foreach(v, k, x) {
                int64_t l = (int64_t)strlen(k);
                ok &= l >= s->elem_min && l <= s->elem_max;
            }
        }
        if (!ok)
            fail(c, s, path, v, "%s must satisfy constraint: [Member must have length less than "
                                "or equal to %d, Member must have length greater than or equal "
                                "to %d]", json_is_object(v) ? "Map keys" : "Member",
                 s->elem_max, s->elem_min);
    }
    if ((s->flags & MC_VAL_LEN) && json_is_object(v)) {
        bool ok = true;
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) {
            int64_t l = length_of(s->members, x);
            ok &= l >= s->val_min && l <= s->val_max;
        }
        if (!ok)
            fail(c, s, path, v, "Map value must satisfy constraint: [Member must have length "
                                "less than or equal to %d, Member must have length greater than "
                                "or equal to %d]", s->val_max, s->val_min);
    }
    if (s->type == M_LIST && json_is_array(v) && s->members) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            char p[512];
            snprintf(p, sizeof p, "%s.%zu", path, i + 1);
            if (s->members->type == M_STRUCT && json_is_object(x)) {
                char mp[520];
                snprintf(mp, sizeof mp, "%s.member", p);
                check_members(c, s->members->members, x, mp);
            } else {
                check_value(c, s->members, x, p, NULL);
            }
        }
    } else if (s->type == M_STRUCT && json_is_object(v)) {
        check_members(c, s->members, v, path);
    }
}

static void check_members(struct mctx *c, const struct mshape *members, json_t *obj,
                          const char *parent)
{
    for (const struct mshape *m = members; m && m->name; m++) {
        char path[600];
        lower_first(path, sizeof path, parent, m->name);
        check_value(c, m, json_object_get(obj, m->name), path, obj);
    }
}

int model_check(struct fin_serve *svc, const struct mshape *members, json_t *body, json_t **clean,
                struct fin_serve_response *resp)
{
    struct mctx c = {.svc = svc, .resp = resp};
    *clean = NULL;
    json_t *o;
    if (read_members(&c, members, body, &o))
        return FIN_EINVAL;
    check_members(&c, members, o, NULL);
    if (c.n_errors) {
        struct fin_buf b;
        fin_buf_init(&b);
        fin_buf_printf(&b, "%d validation error%s detected: ", c.n_errors,
                       c.n_errors > 1 ? "s" : "");
        for (int i = 0; i < c.n_errors; i++) {
            fin_buf_printf(&b, "%s%s", i ? "; " : "", c.errors[i] ? c.errors[i] : "?");
            free(c.errors[i]);
        }
        serve_error_body(svc, resp, 400, "ValidationException", "message",
                         fin_buf_cstr(&b) ? b.data : "validation failed");
        fin_buf_fini(&b);
        json_decref(o);
        return FIN_EINVAL;
    }
    *clean = o;
    return 0;
}
