/* json_scan.c - a validating scanner for the top level of one JSON object.
 *
 * Delivery looks into records for two reasons: dynamic partitioning reads a top-level
 * field, and Parquet conversion needs each field's type. Both run once per record on the
 * hot path, so this scanner does not build a tree: it checks the grammar (strings, UTF-8,
 * numbers, nesting) and reports where each top-level value is and what type it has.
 * Nested objects and arrays are validated and skipped. */
#include "internal.h"

#include <stdint.h>
#include <string.h>

struct scan {
    const char *p, *end;
    const char *why;
};

static inline void ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

/* After the opening quote; leaves p after the closing quote. The general case: escapes,
 * UTF-8, control characters. */
static __attribute__((noinline)) int str_slow(struct scan *s, bool *escaped)
{
    const unsigned char *p = (const unsigned char *)s->p, *end = (const unsigned char *)s->end;
    *escaped = false;
    while (p < end) {
        /* Eight plain ASCII bytes at a time: no quote, backslash, control or high byte.
         * The zero-byte tests can only misfire in bytes after a real match (a borrow runs
         * upwards), so a clean word is certainly clean and the lowest flagged byte is a
         * real one: skip straight to it. */
        while (end - p >= 8) {
            uint64_t v;
            memcpy(&v, p, 8);
            const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
            uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
            uint64_t hit = (((q - ones) & ~q) | ((b - ones) & ~b) | ((v - ones * 0x20) & ~v) | v) & highs;
            if (hit) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                p += __builtin_ctzll(hit) >> 3;
#endif
                break;
            }
            p += 8;
        }
        if (p >= end)
            break;
        unsigned char c = *p;
        if (c == '"') {
            s->p = (const char *)p + 1;
            return 0;
        }
        if (c == '\\') {
            *escaped = true;
            if (p + 1 >= end)
                break;
            unsigned char e = p[1];
            if (e == 'u') {
                if (p + 6 > end)
                    break;
                for (int i = 2; i < 6; i++) {
                    unsigned char h = p[i];
                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'))) {
                        s->why = "not JSON: bad \\u escape in a string";
                        return -1;
                    }
                }
                p += 6;
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || e == 0) {
                s->why = "not JSON: bad escape in a string";
                return -1;
            }
            p += 2;
            continue;
        }
        if (c < 0x20) {
            s->why = "not JSON: control character in a string";
            return -1;
        }
        if (c < 0x80) {
            p++;
            continue;
        }
        /* UTF-8: the length from the lead byte, continuation bytes, no overlongs or surrogates */
        int n;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) n = 1, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF) n = 2, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4) n = 3, cp = c & 0x07;
        else {
            s->why = "not JSON: invalid UTF-8 in a string";
            return -1;
        }
        if (p + n >= end) {
            s->why = "not JSON: invalid UTF-8 in a string";
            return -1;
        }
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80) {
                s->why = "not JSON: invalid UTF-8 in a string";
                return -1;
            }
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (n == 3 && (cp < 0x10000 || cp > 0x10FFFF))) {
            s->why = "not JSON: invalid UTF-8 in a string";
            return -1;
        }
        p += n + 1;
    }
    s->why = "not JSON: unterminated string";
    return -1;
}

/* After the opening quote; leaves p after the closing quote. Most strings (keys, tickers,
 * timestamps) are plain ASCII ending within a few words: this inline path finds the
 * closing quote eight bytes at a time and hands anything else to str_slow(). */
static inline int str(struct scan *s, bool *escaped)
{
    const unsigned char *p = (const unsigned char *)s->p, *end = (const unsigned char *)s->end;
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    while (end - p >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
        uint64_t hit = (((q - ones) & ~q) | ((b - ones) & ~b) | ((v - ones * 0x20) & ~v) | v) & highs;
        if (!hit) {
            p += 8;
            continue;
        }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        p += __builtin_ctzll(hit) >> 3;
        if (*p == '"') {
            *escaped = false;
            s->p = (const char *)p + 1;
            return 0;
        }
#endif
        break;
    }
    s->p = (const char *)p;
    return str_slow(s, escaped);
}

static int number(struct scan *s, enum jtype *t)
{
    const char *p = s->p, *end = s->end;
    *t = J_INT;
    if (p < end && *p == '-')
        p++;
    if (p >= end || *p < '0' || *p > '9')
        goto bad;
    if (*p == '0')
        p++;
    else
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    if (p < end && *p == '.') {
        *t = J_REAL;
        p++;
        if (p >= end || *p < '0' || *p > '9')
            goto bad;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        *t = J_REAL;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9')
            goto bad;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    s->p = p;
    return 0;
bad:
    s->why = "not JSON: bad number";
    return -1;
}

static int lit(struct scan *s, const char *word, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0) {
        s->why = "not JSON: unexpected character";
        return -1;
    }
    s->p += n;
    return 0;
}

static int value(struct scan *s, enum jtype *t, bool *escaped, int depth);

static int container(struct scan *s, bool object, int depth)
{
    if (depth > 64) {
        s->why = "not JSON: nested too deeply";
        return -1;
    }
    char close = object ? '}' : ']';
    ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return 0;
    }
    for (;;) {
        enum jtype t;
        bool esc;
        ws(s);
        if (object) {
            if (s->p >= s->end || *s->p != '"') {
                s->why = "not JSON: expected a field name";
                return -1;
            }
            s->p++;
            if (str(s, &esc))
                return -1;
            ws(s);
            if (s->p >= s->end || *s->p != ':') {
                s->why = "not JSON: expected ':'";
                return -1;
            }
            s->p++;
            ws(s);
        }
        if (value(s, &t, &esc, depth + 1))
            return -1;
        ws(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            continue;
        }
        if (s->p < s->end && *s->p == close) {
            s->p++;
            return 0;
        }
        s->why = object ? "not JSON: expected ',' or '}'" : "not JSON: expected ',' or ']'";
        return -1;
    }
}

static int value(struct scan *s, enum jtype *t, bool *escaped, int depth)
{
    *escaped = false;
    if (s->p >= s->end) {
        s->why = "not JSON: value missing";
        return -1;
    }
    switch (*s->p) {
    case '"': s->p++; *t = J_STRING; return str(s, escaped);
    case '{': s->p++; *t = J_OBJECT; return container(s, true, depth);
    case '[': s->p++; *t = J_ARRAY; return container(s, false, depth);
    case 't': *t = J_TRUE; return lit(s, "true", 4);
    case 'f': *t = J_FALSE; return lit(s, "false", 5);
    case 'n': *t = J_NULL; return lit(s, "null", 4);
    default: return number(s, t);
    }
}

int jscan_object(const char *rec, size_t len, struct jfield *fields, size_t max, size_t *n,
                 const char **why)
{
    struct scan s = {rec, rec + len, NULL};
    size_t k = 0;
    *n = 0;
    ws(&s);
    if (s.p >= s.end || *s.p != '{') {
        /* Tell valid JSON that is not an object from text that is not JSON at all. */
        enum jtype t;
        bool esc;
        if (s.p < s.end && value(&s, &t, &esc, 1) == 0) {
            ws(&s);
            *why = s.p == s.end ? "not a JSON object" : "not JSON: text after the value";
        } else {
            *why = s.p >= s.end ? "not JSON: empty record" : "not JSON: expected '{'";
        }
        return -1;
    }
    s.p++;
    ws(&s);
    if (s.p < s.end && *s.p == '}') {
        s.p++;
        goto done;
    }
    for (;;) {
        ws(&s);
        if (s.p >= s.end || *s.p != '"') {
            s.why = "not JSON: expected a field name";
            goto bad;
        }
        struct jfield f = {0};
        f.key = ++s.p;
        if (str(&s, &f.key_escaped))
            goto bad;
        f.key_len = (size_t)(s.p - 1 - f.key);
        ws(&s);
        if (s.p >= s.end || *s.p != ':') {
            s.why = "not JSON: expected ':'";
            goto bad;
        }
        s.p++;
        ws(&s);
        const char *v = s.p;
        if (value(&s, &f.type, &f.val_escaped, 1))
            goto bad;
        if (f.type == J_STRING) {
            f.val = v + 1;
            f.val_len = (size_t)(s.p - v - 2);
        } else {
            f.val = v;
            f.val_len = (size_t)(s.p - v);
        }
        if (k < max)
            fields[k++] = f;
        else {
            s.why = "too many fields";
            goto bad;
        }
        ws(&s);
        if (s.p < s.end && *s.p == ',') {
            s.p++;
            continue;
        }
        if (s.p < s.end && *s.p == '}') {
            s.p++;
            break;
        }
        s.why = "not JSON: expected ',' or '}'";
        goto bad;
    }
done:
    ws(&s);
    if (s.p != s.end) {
        *why = "not JSON: text after the object";
        return -1;
    }
    *n = k;
    return 0;
bad:
    *why = s.why;
    return -1;
}

const char *jtype_name(enum jtype t)
{
    static const char *names[] = {"a string", "an integer", "a number", "true", "false",
                                  "null", "an object", "an array"};
    return names[t];
}

static int hexval(char c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

int jscan_unescape(const char *s, size_t n, char *out, size_t cap, size_t *out_len)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned cp = (unsigned char)s[i];
        if (s[i] == '\\' && i + 1 < n) {
            char e = s[++i];
            switch (e) {
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'n': cp = '\n'; break;
            case 'r': cp = '\r'; break;
            case 't': cp = '\t'; break;
            case 'u':
                if (i + 4 >= n)
                    return -1;
                cp = 0;
                for (int j = 1; j <= 4; j++)
                    cp = cp << 4 | (unsigned)hexval(s[i + j]);
                i += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < n && s[i + 1] == '\\' &&
                    s[i + 2] == 'u') {
                    unsigned lo = 0;
                    for (int j = 3; j <= 6; j++)
                        lo = lo << 4 | (unsigned)hexval(s[i + j]);
                    if (lo >= 0xDC00 && lo <= 0xDFFF) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        i += 6;
                    }
                }
                break;
            default: cp = (unsigned char)e; break;
            }
            char u[4];
            size_t m;
            if (cp < 0x80) u[0] = (char)cp, m = 1;
            else if (cp < 0x800) u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), m = 2;
            else if (cp < 0x10000)
                u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3F)),
                u[2] = (char)(0x80 | (cp & 0x3F)), m = 3;
            else
                u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3F)),
                u[2] = (char)(0x80 | (cp >> 6 & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), m = 4;
            if (k + m >= cap)
                return -1;
            memcpy(out + k, u, m);
            k += m;
            continue;
        }
        if (k + 1 >= cap)
            return -1;
        out[k++] = (char)cp;
    }
    out[k] = '\0';
    *out_len = k;
    return 0;
}
