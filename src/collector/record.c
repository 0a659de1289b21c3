/* record.c - the JSON record writer: one bar, one object, no printf.
 *
 * This is the collector's hot path (millions of bars a second), so every field is
 * written by hand: names and keys by memcpy, the timestamp by fin_format_ts_offset,
 * integers digit by digit, and prices on the cent grid (what markets quote) as integer
 * cents. Any other double falls back to the shortest round-trip search, which is slow but
 * rare. A price a source gave as text is written back exactly as it was given. */
#include "finstream/collector.h"
#include "finstream/error.h"
#include "finstream/timeutil.h"
#include "round.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const field_names[FIN_FIELD_COUNT] = {
    "name", "ts", "open", "high", "low", "close", "volume",
};

/* Each field's key as written: "name": and so on, with its length. The text is padded
 * to KEY_COPY bytes so that it goes out as one fixed-size copy (no call to memcpy for a
 * few bytes); the bytes after len are overwritten by what follows. */
#define KEY_COPY 16
static const struct { char text[KEY_COPY]; size_t len; } field_keys[FIN_FIELD_COUNT] = {
    {"\"name\":", 7}, {"\"ts\":", 5}, {"\"open\":", 7}, {"\"high\":", 7},
    {"\"low\":", 6}, {"\"close\":", 8}, {"\"volume\":", 9},
};

int fin_record_format_parse(struct fin_record_format *f, const char *spec)
{
    f->n = 0;
    if (!spec || !*spec)
        spec = "name,ts,open,high,low,close,volume";
    const char *p = spec;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ')
            e++;
        size_t n = (size_t)(e - p);
        int found = -1;
        for (int i = 0; i < FIN_FIELD_COUNT; i++)
            if (strlen(field_names[i]) == n && strncmp(field_names[i], p, n) == 0)
                found = i;
        if (found < 0)
            return fin_err_set(FIN_EINVAL, "fields: unknown field '%.*s' (known: name, ts, open, high, low, close, volume)",
                               (int)n, p);
        for (int i = 0; i < f->n; i++)
            if ((int)f->fields[i] == found)
                return fin_err_set(FIN_EINVAL, "fields: '%.*s' given twice", (int)n, p);
        f->fields[f->n++] = (enum fin_field)found;
        p = e;
    }
    if (f->n == 0)
        return fin_err_set(FIN_EINVAL, "fields: no field selected");
    return 0;
}

static const char digit_pairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

static inline size_t count_digits(uint64_t v)
{
    size_t n = 1;
    for (; v >= 10000; v /= 10000)
        n += 4;
    return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

/* Unsigned integer, digits only, two at a time from the right, straight into out (its
 * length is counted first, so there is no staging copy); returns the length. */
static size_t put_u64(char *out, uint64_t v)
{
    size_t n = count_digits(v);
    char *p = out + n;
    while (v >= 100) {
        p -= 2;
        memcpy(p, digit_pairs + (v % 100) * 2, 2);
        v /= 100;
    }
    if (v >= 10)
        memcpy(p - 2, digit_pairs + v * 2, 2);
    else
        p[-1] = (char)('0' + v);
    return n;
}

static size_t put_i64(char *out, int64_t v)
{
    if (v < 0) {
        out[0] = '-';
        return 1 + put_u64(out + 1, (uint64_t)0 - (uint64_t)v);
    }
    return put_u64(out, (uint64_t)v);
}

/* The shortest %.*g that reads back as v: slow, and rare here. Out of line, so that the
 * fast path below has no array on its stack (and no stack-protector check per call). */
static __attribute__((noinline)) size_t format_double_slow(char *out, double v)
{
    if (!isfinite(v)) {
        memcpy(out, "null", 4);
        return 4;
    }
    char buf[40];
    int len = 0;
    for (int prec = 1; prec <= 17; prec++) {
        len = snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    memcpy(out, buf, (size_t)len);
    if (!memchr(buf, '.', (size_t)len) && !memchr(buf, 'e', (size_t)len) &&
        !memchr(buf, 'n', (size_t)len)) {
        out[len++] = '.';
        out[len++] = '0';
    }
    return (size_t)len;
}

/* Fast path: a price on the cent grid. c / 100.0 == v proves that the two-decimal text
 * reads back as exactly v, and below 1e12 no shorter text does. (NaN and infinities
 * fail the range test.) */
static inline size_t format_double(char *out, double v)
{
    if (fabs(v) < 1e12) {
        double cents = fin_round_even(v * 100.0);
        if (cents / 100.0 == v) {
            int64_t c = (int64_t)cents;
            size_t n = 0;
            if (c < 0) {
                out[n++] = '-';
                c = -c;
            }
            n += put_u64(out + n, (uint64_t)(c / 100));
            out[n++] = '.';
            unsigned frac = (unsigned)(c % 100);
            out[n++] = (char)('0' + frac / 10);
            if (frac % 10)
                out[n++] = (char)('0' + frac % 10);
            return n;
        }
    }
    return format_double_slow(out, v);
}

size_t fin_format_double(char *out, double v)
{
    return format_double(out, v);
}

bool fin_is_json_number(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n)
        return false;
    if (s[i] == '0')
        i++;
    else if (s[i] >= '1' && s[i] <= '9')
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    else
        return false;
    if (i < n && s[i] == '.') {
        i++;
        size_t start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    return i == n;
}

/* A JSON string body: ticker names are plain, but escape what JSON requires anyway. */
static size_t put_json_string(char *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20) {
            memcpy(out + o, "\\u00", 4);
            out[o + 4] = hex[c >> 4];
            out[o + 5] = hex[c & 15];
            o += 6;
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    return o;
}

size_t fin_record_write(char *out, const struct fin_record_format *f, const struct fin_bar *bar)
{
    size_t o = 0;
    bool first = true;
    out[o++] = '{';
    for (int i = 0; i < f->n; i++) {
        enum fin_field fld = f->fields[i];
        if (!(bar->present & (1u << fld)))
            continue;
        if (!first)
            out[o++] = ',';
        first = false;
        /* Safe to copy KEY_COPY bytes: a value always follows the key, and the longest
         * record stays far below FIN_RECORD_MAX - KEY_COPY. */
        memcpy(out + o, field_keys[fld].text, KEY_COPY);
        o += field_keys[fld].len;
        switch (fld) {
        case FIN_FIELD_NAME: {
            size_t n = bar->name_len > FIN_TICKER_MAX ? FIN_TICKER_MAX : bar->name_len;
            o += put_json_string(out + o, bar->name, n);
            break;
        }
        case FIN_FIELD_TS:
            out[o++] = '"';
            o += fin_format_ts_offset(out + o, bar->t, bar->utc_offset);
            out[o++] = '"';
            break;
        case FIN_FIELD_VOLUME:
            o += put_i64(out + o, bar->volume);
            break;
        default: {
            int k = (int)fld - FIN_FIELD_OPEN;
            const char *txt = bar->px_text[k];
            size_t tl = bar->px_text_len[k];
            if (txt && tl > 0 && tl <= 40 && fin_is_json_number(txt, tl)) {
                memcpy(out + o, txt, tl);
                o += tl;
            } else {
                o += format_double(out + o, bar->px[k]);
            }
            break;
        }
        }
    }
    out[o++] = '}';
    return o;
}
