/* prefix.c - Firehose's S3 prefix expressions, compiled once and rendered per object.
 *
 * A prefix is literal text with expressions:
 *   !{timestamp:PATTERN}            the first record's arrival time (UTC) through a Java
 *                                   DateTimeFormatter pattern, as Firehose formats it
 *   !{partitionKeyFromQuery:FIELD}  the value of a top-level field of the record (dynamic
 *                                   partitioning: records split across objects by value)
 *   !{firehose:error-output-type}   in error prefixes: why the records failed
 * Firehose's own rule for plain prefixes is kept: a prefix without any expression gets the
 * default "YYYY/MM/dd/HH/" appended. Expressions Firehose has but that would make object
 * names depend on something other than the data (!{firehose:random-string}) are refused,
 * because a replay after a crash must produce the same keys. */
#include "finstream/delivery.h"
#include "finstream/error.h"
#include "finstream/timeutil.h"

#include <stdlib.h>
#include <string.h>

enum tok_kind { TOK_LIT, TOK_YEAR, TOK_YEAR2, TOK_MONTH, TOK_DAY, TOK_HOUR, TOK_MIN, TOK_SEC,
                TOK_FIELD, TOK_ERRTYPE };

struct tok {
    enum tok_kind kind;
    int width;          /* digits: 1 = as many as needed, 2 = zero-padded */
    char *text;         /* TOK_LIT */
    int field;          /* TOK_FIELD: index into fields */
};

struct fin_prefix {
    struct tok *toks;
    size_t n, cap;
    char **fields;
    size_t n_fields;
    bool has_time;
};

#define DEFAULT_TIME "!{timestamp:yyyy/MM/dd/HH}/"

static int push(struct fin_prefix *p, struct tok t)
{
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 16;
        struct tok *nt = realloc(p->toks, nc * sizeof *nt);
        if (!nt) {
            free(t.text);
            return FIN_ENOMEM;
        }
        p->toks = nt;
        p->cap = nc;
    }
    p->toks[p->n++] = t;
    return 0;
}

static int push_lit(struct fin_prefix *p, const char *s, size_t n)
{
    if (n == 0)
        return 0;
    char *t = strndup(s, n);
    if (!t)
        return FIN_ENOMEM;
    return push(p, (struct tok){TOK_LIT, 0, t, 0});
}

/* A DateTimeFormatter pattern: runs of pattern letters, 'quoted text', other literals. */
static int compile_pattern(struct fin_prefix *p, const char *pat, size_t n, const char *whole)
{
    size_t i = 0;
    while (i < n) {
        char c = pat[i];
        if (c == '\'') {
            size_t j = i + 1;
            if (j < n && pat[j] == '\'') {            /* '' is one quote */
                if (push_lit(p, "'", 1))
                    return FIN_ENOMEM;
                i = j + 1;
                continue;
            }
            while (j < n && pat[j] != '\'')
                j++;
            if (j >= n)
                return fin_err_set(FIN_EINVAL, "prefix '%s': unterminated quote in timestamp pattern",
                                   whole);
            if (push_lit(p, pat + i + 1, j - i - 1))
                return FIN_ENOMEM;
            i = j + 1;
            continue;
        }
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            size_t j = i;
            while (j < n && pat[j] == c)
                j++;
            int count = (int)(j - i);
            struct tok t = {TOK_LIT, count >= 2 ? 2 : 1, NULL, 0};
            switch (c) {
            case 'y': case 'u':
                if (count == 2)
                    t.kind = TOK_YEAR2;
                else
                    t.kind = TOK_YEAR, t.width = count;
                break;
            case 'M': t.kind = TOK_MONTH; break;
            case 'd': t.kind = TOK_DAY; break;
            case 'H': t.kind = TOK_HOUR; break;
            case 'm': t.kind = TOK_MIN; break;
            case 's': t.kind = TOK_SEC; break;
            default:
                return fin_err_set(FIN_EINVAL,
                                   "prefix '%s': timestamp pattern letter '%c' is not supported "
                                   "(use y, M, d, H, m, s)", whole, c);
            }
            if ((c != 'y' && c != 'u' && count > 2) || count > 4)
                return fin_err_set(FIN_EINVAL, "prefix '%s': too many '%c' in timestamp pattern",
                                   whole, c);
            int rc = push(p, t);
            if (rc)
                return rc;
            p->has_time = true;
            i = j;
            continue;
        }
        if (c == '[' || c == ']' || c == '{' || c == '}' || c == '#')
            return fin_err_set(FIN_EINVAL, "prefix '%s': '%c' is reserved in timestamp patterns",
                               whole, c);
        size_t j = i;
        while (j < n && pat[j] != '\'' && !((pat[j] >= 'a' && pat[j] <= 'z') ||
                                            (pat[j] >= 'A' && pat[j] <= 'Z')))
            j++;
        if (push_lit(p, pat + i, j - i))
            return FIN_ENOMEM;
        i = j;
    }
    return 0;
}

static int add_field(struct fin_prefix *p, const char *name, size_t n, const char *whole)
{
    if (n == 0)
        return fin_err_set(FIN_EINVAL, "prefix '%s': partitionKeyFromQuery needs a field name", whole);
    for (size_t i = 0; i < n; i++)
        if (name[i] == '.' || name[i] == '[' || name[i] == ' ')
            return fin_err_set(FIN_EINVAL,
                               "prefix '%s': partition key '%.*s' must be a top-level field name",
                               whole, (int)n, name);
    size_t idx = 0;
    for (; idx < p->n_fields; idx++)
        if (strlen(p->fields[idx]) == n && memcmp(p->fields[idx], name, n) == 0)
            break;
    if (idx == p->n_fields) {
        char **nf = realloc(p->fields, (p->n_fields + 1) * sizeof *nf);
        if (!nf)
            return FIN_ENOMEM;
        p->fields = nf;
        if (!(p->fields[p->n_fields] = strndup(name, n)))
            return FIN_ENOMEM;
        p->n_fields++;
    }
    return push(p, (struct tok){TOK_FIELD, 0, NULL, (int)idx});
}

static int compile(struct fin_prefix *p, const char *text, bool is_error)
{
    const char *s = text;
    bool any_expr = false;
    while (*s) {
        const char *e = strstr(s, "!{");
        if (!e) {
            if (push_lit(p, s, strlen(s)))
                return FIN_ENOMEM;
            break;
        }
        if (push_lit(p, s, (size_t)(e - s)))
            return FIN_ENOMEM;
        const char *close = strchr(e, '}');
        if (!close)
            return fin_err_set(FIN_EINVAL, "prefix '%s': '!{' at offset %zu is not closed", text,
                               (size_t)(e - text));
        const char *body = e + 2;
        size_t blen = (size_t)(close - body);
        const char *colon = memchr(body, ':', blen);
        if (!colon)
            return fin_err_set(FIN_EINVAL, "prefix '%s': expression '!{%.*s}' has no namespace",
                               text, (int)blen, body);
        size_t nslen = (size_t)(colon - body);
        const char *arg = colon + 1;
        size_t alen = (size_t)(close - arg);
        int rc;
        if (nslen == 9 && memcmp(body, "timestamp", 9) == 0) {
            if (alen == 0)
                return fin_err_set(FIN_EINVAL, "prefix '%s': !{timestamp:} needs a pattern", text);
            rc = compile_pattern(p, arg, alen, text);
        } else if (nslen == 21 && memcmp(body, "partitionKeyFromQuery", 21) == 0) {
            rc = add_field(p, arg, alen, text);
        } else if (nslen == 8 && memcmp(body, "firehose", 8) == 0 && alen == 17 &&
                   memcmp(arg, "error-output-type", 17) == 0) {
            if (!is_error)
                return fin_err_set(FIN_EINVAL,
                                   "prefix '%s': !{firehose:error-output-type} is only allowed "
                                   "in error_prefix", text);
            rc = push(p, (struct tok){TOK_ERRTYPE, 0, NULL, 0});
        } else {
            return fin_err_set(FIN_EINVAL,
                               "prefix '%s': unknown expression '!{%.*s}' (supported: "
                               "!{timestamp:PATTERN}, !{partitionKeyFromQuery:FIELD}%s)",
                               text, (int)blen, body,
                               is_error ? ", !{firehose:error-output-type}" : "");
        }
        if (rc)
            return rc;
        any_expr = true;
        s = close + 1;
    }
    if (is_error && p->n_fields)
        return fin_err_set(FIN_EINVAL,
                           "error_prefix '%s': partitionKeyFromQuery is not allowed there "
                           "(failed records may have no such field)", text);
    /* Firehose appends the time folders to a prefix that has no expression (and to an
     * error prefix that has no timestamp). */
    if ((!any_expr && !p->has_time) || (is_error && !p->has_time))
        return compile_pattern(p, "yyyy/MM/dd/HH/", 14, text);
    return 0;
}

/* A prefix must keep every object under the lake whatever the time and the partition
 * values: timestamps render as digits and partition values are checked when a record is
 * taken in (never empty, ".", ".." or holding '/'), so rendering once with a sample time
 * and sample values and checking the key the writer would use finds every literal that
 * climbs out or makes an empty folder ("..", "a//b", "./"), including quoted literals
 * inside timestamp patterns. Checked here, when a delivery stream is declared or created,
 * rather than at the first flush, after its records were acknowledged. */
static int check_rendered(const struct fin_prefix *p, const char *text)
{
    const char *vals[64];
    for (size_t i = 0; i < 64; i++)
        vals[i] = "v";
    if (p->n_fields > 64)
        return fin_err_set(FIN_EINVAL, "prefix '%s': more than 64 partition keys", text);
    char buf[FIN_DELIVERY_MAX_PREFIX * 2 + 8];
    int rc = fin_prefix_render(p, 0, vals, "processing-failed", buf, sizeof buf - 2);
    if (rc)
        return rc;
    strcat(buf, "x");
    if (fin_delivery_key_check(buf) != 0)
        return fin_err_set(FIN_EINVAL, "prefix '%s' would make object keys like '%s', which "
                           "leave the lake or hold an empty, '.' or '..' folder", text, buf);
    return 0;
}

int fin_prefix_compile(struct fin_prefix **out, const char *text, bool is_error)
{
    *out = NULL;
    struct fin_prefix *p = calloc(1, sizeof *p);
    if (!p)
        return FIN_ENOMEM;
    if (!text || strcmp(text, "YYYY/MM/DD/HH/") == 0)
        text = "";
    if (strlen(text) > FIN_DELIVERY_MAX_PREFIX) {
        fin_prefix_destroy(p);
        return fin_err_set(FIN_EINVAL, "prefix is longer than %d characters", FIN_DELIVERY_MAX_PREFIX);
    }
    if (text[0] == '/') {
        fin_prefix_destroy(p);
        return fin_err_set(FIN_EINVAL, "prefix '%s' must not start with '/'", text);
    }
    int rc = compile(p, text, is_error);
    if (!rc)
        rc = check_rendered(p, text);
    if (rc) {
        fin_prefix_destroy(p);
        return rc;
    }
    *out = p;
    return 0;
}

void fin_prefix_destroy(struct fin_prefix *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        free(p->toks[i].text);
    for (size_t i = 0; i < p->n_fields; i++)
        free(p->fields[i]);
    free(p->toks);
    free(p->fields);
    free(p);
}

size_t fin_prefix_fields(const struct fin_prefix *p, const char *const **fields)
{
    *fields = (const char *const *)p->fields;
    return p->n_fields;
}

static size_t put_num(char *o, int64_t v, int width)
{
    char tmp[24];
    size_t n = 0;
    bool neg = v < 0;
    uint64_t u = neg ? (uint64_t)(-v) : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while ((int)n < width && n < sizeof tmp)
        tmp[n++] = '0';
    size_t k = 0;
    if (neg)
        o[k++] = '-';
    while (n)
        o[k++] = tmp[--n];
    return k;
}

int fin_prefix_render(const struct fin_prefix *p, int64_t t_ms, const char *const *values,
                      const char *error_type, char *out, size_t cap)
{
    int64_t secs = t_ms >= 0 ? t_ms / 1000 : (t_ms - 999) / 1000;
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int64_t sod = secs - days * 86400;
    int y;
    unsigned mo, d;
    fin_civil_from_days(days, &y, &mo, &d);
    size_t len = 0;
    for (size_t i = 0; i < p->n; i++) {
        const struct tok *t = &p->toks[i];
        char num[32];
        const char *s = num;
        size_t n = 0;
        switch (t->kind) {
        case TOK_LIT: s = t->text; n = strlen(s); break;
        case TOK_YEAR: n = put_num(num, y, t->width == 1 ? 1 : 4); break;
        case TOK_YEAR2: n = put_num(num, ((y % 100) + 100) % 100, 2); break;
        case TOK_MONTH: n = put_num(num, mo, t->width); break;
        case TOK_DAY: n = put_num(num, d, t->width); break;
        case TOK_HOUR: n = put_num(num, sod / 3600, t->width); break;
        case TOK_MIN: n = put_num(num, sod / 60 % 60, t->width); break;
        case TOK_SEC: n = put_num(num, sod % 60, t->width); break;
        case TOK_FIELD:
            s = values && values[t->field] ? values[t->field] : "";
            n = strlen(s);
            break;
        case TOK_ERRTYPE:
            s = error_type ? error_type : "processing-failed";
            n = strlen(s);
            break;
        }
        if (len + n >= cap)
            return fin_err_set(FIN_ELIMIT, "rendered prefix is longer than %zu bytes", cap - 1);
        memcpy(out + len, s, n);
        len += n;
    }
    out[len] = '\0';
    return 0;
}
