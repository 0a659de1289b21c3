/* source_yahoo.c - the yahoo source: minute (or daily) bars from Yahoo Finance's public
 * chart API, one GET per ticker:
 *
 *     {yahoo_url}/v8/finance/chart/{TICKER}?period1=..&period2=..&interval=1m
 *
 * The answer is parsed with jansson: chart.result[0].timestamp[] and
 * indicators.quote[0].{open,high,low,close,volume}[], with meta.exchangeTimezoneName and
 * meta.gmtoffset for the exchange's clock. Yahoo writes prices as the shortest text of a
 * float widened to double (202.8300018310547); jansson keeps only the double, so a small
 * scanner finds each number's own text in the body, and the record repeats it digit for
 * digit.
 *
 * Failures are per ticker: timeouts, 429 and 5xx are retried with capped exponential
 * backoff and full jitter (Retry-After wins when it is sent, within the cap); 4xx,
 * Yahoo's error JSON, HTML pages, truncated or empty answers end that ticker with a
 * message naming the ticker, the URL and what was wrong, and the next ticker goes on.
 * Sleeping goes through the clock seam and HTTP through the transport seam
 * (finstream/http.h),
 * so tests neither wait nor touch the network. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "finstream/buf.h"
#include "finstream/clock.h"
#include "finstream/collector.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/http.h"
#include "finstream/log.h"
#include "finstream/timeutil.h"
#include "source_util.h"

#define YAHOO_DEFAULT_URL "https://query1.finance.yahoo.com"
/* The chart API answers scripted user agents with 429s more readily than browsers. */
#define YAHOO_USER_AGENT "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 " \
                         "(KHTML, like Gecko) Chrome/124.0 Safari/537.36"
/* Bodies larger than this are refused (a chart answer for a week of minutes is ~1 MiB). */
#define YAHOO_BODY_MAX (64u << 20)
#define ZONE_NAME_MAX 64

/* One end of daylight saving in a POSIX TZ rule: Mm.w.d, Jn or n, at a local time. */
struct tz_when {
    char kind;            /* 'M', 'J' or 'n' */
    int m, w, d, n;
    int32_t time;         /* seconds after local midnight (may be negative or past 24 h) */
};

/* The footer of a TZif file, "EST5EDT,M3.2.0,M11.1.0": how the zone keeps changing after
 * its last listed transition. Slim TZif files (Alpine, macOS, newer distributions) list
 * few transitions and leave the present to this rule. */
struct tz_rule {
    bool ok;              /* parsed */
    bool has_dst;
    int32_t std_off, dst_off;   /* seconds east of UTC */
    struct tz_when start, end;
};

/* A time zone's transitions, read from the system's TZif file. */
struct zone {
    char name[ZONE_NAME_MAX];
    bool loaded;          /* name was looked up (found or not) */
    bool ok;              /* transitions are usable */
    int64_t *times;       /* transition instants, ascending */
    int32_t *offsets;     /* offset in force from times[i] */
    size_t n;
    int32_t before;       /* offset before the first transition */
    struct tz_rule rule;  /* the footer rule, for times after times[n-1] */
    bool rule_unread;     /* a footer was there but could not be parsed */
};

struct fin_source {
    struct fin_http_transport *http;
    struct fin_http_transport *own_http;   /* the libcurl transport, when created */
    const struct fin_clock *clock;
    char *base_url;
    int64_t timeout_ms, retries, backoff_ms, backoff_max_ms;
    uint64_t rng;
    struct zone zone;
    struct fin_http_response resp;
};

/* ---- time zones ---- */

static void zone_clear(struct zone *z)
{
    free(z->times);
    free(z->offsets);
    memset(z, 0, sizeof *z);
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool zone_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= ZONE_NAME_MAX || name[0] == '/' || strstr(name, ".."))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!isalnum(c) && c != '/' && c != '_' && c != '-' && c != '+')
            return false;
    }
    return true;
}

/* POSIX "[+-]hh[:mm[:ss]]" into seconds. */
static bool tz_parse_hms(const char **pp, int32_t *out)
{
    const char *p = *pp;
    int sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if (!isdigit((unsigned char)*p))
        return false;
    int32_t v[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        if (i > 0) {
            if (*p != ':')
                break;
            p++;
        }
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p) && v[i] < 1000)
            v[i] = v[i] * 10 + (*p++ - '0');
    }
    if (v[0] > 167 || v[1] > 59 || v[2] > 59)
        return false;
    *out = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
    *pp = p;
    return true;
}

static bool tz_parse_name(const char **pp)
{
    const char *p = *pp;
    if (*p == '<') {
        const char *e = strchr(p, '>');
        if (!e)
            return false;
        *pp = e + 1;
        return true;
    }
    while (isalpha((unsigned char)*p))
        p++;
    if (p - *pp < 3)
        return false;
    *pp = p;
    return true;
}

static bool tz_parse_int(const char **pp, int lo, int hi, int *out)
{
    const char *p = *pp;
    int v = 0;
    if (!isdigit((unsigned char)*p))
        return false;
    while (isdigit((unsigned char)*p) && v <= hi)
        v = v * 10 + (*p++ - '0');
    if (v < lo || v > hi)
        return false;
    *out = v;
    *pp = p;
    return true;
}

static bool tz_parse_when(const char **pp, struct tz_when *w)
{
    const char *p = *pp;
    memset(w, 0, sizeof *w);
    w->time = 7200;   /* 02:00 local unless given */
    if (*p == 'M') {
        p++;
        w->kind = 'M';
        if (!tz_parse_int(&p, 1, 12, &w->m) || *p++ != '.' || !tz_parse_int(&p, 1, 5, &w->w) ||
            *p++ != '.' || !tz_parse_int(&p, 0, 6, &w->d))
            return false;
    } else if (*p == 'J') {
        p++;
        w->kind = 'J';
        if (!tz_parse_int(&p, 1, 365, &w->n))
            return false;
    } else {
        w->kind = 'n';
        if (!tz_parse_int(&p, 0, 365, &w->n))
            return false;
    }
    if (*p == '/') {
        p++;
        if (!tz_parse_hms(&p, &w->time))
            return false;
    }
    *pp = p;
    return true;
}

/* Parses a POSIX TZ string (text up to its end). Offsets in it count west of UTC. */
static bool tz_rule_parse(struct tz_rule *r, const char *p)
{
    memset(r, 0, sizeof *r);
    int32_t west;
    if (!tz_parse_name(&p) || !tz_parse_hms(&p, &west))
        return false;
    r->std_off = r->dst_off = -west;
    if (*p) {
        if (!tz_parse_name(&p))
            return false;
        r->has_dst = true;
        r->dst_off = r->std_off + 3600;
        if (*p && *p != ',') {
            if (!tz_parse_hms(&p, &west))
                return false;
            r->dst_off = -west;
        }
        if (*p++ != ',' || !tz_parse_when(&p, &r->start) || *p++ != ',' || !tz_parse_when(&p, &r->end))
            return false;
    }
    if (*p)
        return false;
    r->ok = true;
    return true;
}

static bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* The UTC time at which w happens in year y, for a clock at offset off. */
static int64_t tz_when_utc(const struct tz_when *w, int y, int32_t off)
{
    int64_t day;
    if (w->kind == 'M') {
        int64_t first = fin_days_from_civil(y, (unsigned)w->m, 1);
        int64_t next = w->m == 12 ? fin_days_from_civil(y + 1, 1, 1) : fin_days_from_civil(y, (unsigned)w->m + 1, 1);
        day = first + (w->d - fin_weekday(first) + 7) % 7 + 7 * (w->w - 1);
        while (day >= next)   /* week 5 means the last such weekday */
            day -= 7;
    } else if (w->kind == 'J') {
        day = fin_days_from_civil(y, 1, 1) + w->n - 1 + (is_leap(y) && w->n >= 60);
    } else {
        day = fin_days_from_civil(y, 1, 1) + w->n;
    }
    return day * 86400 + w->time - off;
}

static int32_t tz_rule_offset(const struct tz_rule *r, int64_t t)
{
    if (!r->has_dst)
        return r->std_off;
    int y;
    unsigned m, d;
    int64_t days = (t + r->std_off) / 86400 - ((t + r->std_off) % 86400 < 0);
    fin_civil_from_days(days, &y, &m, &d);
    int64_t start = tz_when_utc(&r->start, y, r->std_off);
    int64_t end = tz_when_utc(&r->end, y, r->dst_off);
    bool dst = start < end ? (t >= start && t < end)     /* northern hemisphere */
                           : (t < end || t >= start);    /* southern: across the new year */
    return dst ? r->dst_off : r->std_off;
}

/* Reads a TZif (version 2 or later) file: the 64-bit transition table and whether a
 * footer rule (a POSIX TZ string with daylight saving) governs times after it. */
static int zone_load(struct zone *z, const char *name)
{
    char *data = NULL, *path = NULL;
    size_t len;
    int rc = FIN_ENOENT;
    zone_clear(z);
    snprintf(z->name, sizeof z->name, "%s", name);
    z->loaded = true;
    if (!zone_name_ok(name))
        goto fail;
    const char *dir = getenv("TZDIR");
    path = fin_path_join(dir && *dir ? dir : "/usr/share/zoneinfo", name);
    if (!path || fin_read_file(path, &data, &len) != 0)
        goto fail;
    const unsigned char *p = (const unsigned char *)data, *end = p + len;
    if (len < 44 || memcmp(p, "TZif", 4) != 0 || p[4] < '2')
        goto fail;
    /* Skip the version 1 block (32-bit times) to reach the version 2 header. */
    uint32_t c[6];
    for (int i = 0; i < 6; i++)
        c[i] = be32(p + 20 + 4 * i);
    size_t v1 = (size_t)c[3] * 5 + (size_t)c[4] * 6 + c[5] + (size_t)c[2] * 8 + c[1] + c[0];
    p += 44 + v1;
    if ((size_t)(end - p) < 44 || memcmp(p, "TZif", 4) != 0)
        goto fail;
    for (int i = 0; i < 6; i++)
        c[i] = be32(p + 20 + 4 * i);
    uint32_t timecnt = c[3], typecnt = c[4];
    p += 44;
    size_t need = (size_t)timecnt * 9 + (size_t)typecnt * 6 + c[5] + (size_t)c[2] * 12 + c[1] + c[0];
    if (typecnt == 0 || (size_t)(end - p) < need)
        goto fail;
    const unsigned char *times = p, *idx = p + (size_t)timecnt * 8, *types = idx + timecnt;
    z->times = malloc((timecnt ? timecnt : 1) * sizeof *z->times);
    z->offsets = malloc((timecnt ? timecnt : 1) * sizeof *z->offsets);
    if (!z->times || !z->offsets) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    for (uint32_t i = 0; i < timecnt; i++) {
        uint64_t hi = be32(times + 8 * i), lo = be32(times + 8 * i + 4);
        z->times[i] = (int64_t)(hi << 32 | lo);
        if (idx[i] >= typecnt)
            goto fail;
        z->offsets[i] = (int32_t)be32(types + 6 * idx[i]);
    }
    z->n = timecnt;
    /* Before the first transition: the first standard-time type, as zic documents. */
    z->before = (int32_t)be32(types);
    for (uint32_t i = 0; i < typecnt; i++)
        if (types[6 * i + 4] == 0) {
            z->before = (int32_t)be32(types + 6 * i);
            break;
        }
    /* The footer, "\nEST5EDT,M3.2.0,M11.1.0\n", governs the times after the table. */
    const unsigned char *foot = p + need;
    if (foot < end && *foot == '\n') {
        const unsigned char *fe = memchr(foot + 1, '\n', (size_t)(end - foot - 1));
        char text[128];
        if (fe && (size_t)(fe - foot - 1) < sizeof text) {
            memcpy(text, foot + 1, (size_t)(fe - foot - 1));
            text[fe - foot - 1] = '\0';
            tz_rule_parse(&z->rule, text);
        }
        z->rule_unread = !z->rule.ok && fe && fe > foot + 1;
    }
    z->ok = true;
    free(path);
    free(data);
    return 0;
fail:
    free(path);
    free(data);
    free(z->times);
    free(z->offsets);
    z->times = NULL;
    z->offsets = NULL;
    z->n = 0;
    z->ok = false;
    return rc;
}

static int32_t zone_offset(const struct zone *z, int64_t t, int32_t fallback)
{
    if (!z->ok)
        return fallback;
    if (z->n == 0 || t >= z->times[z->n - 1]) {
        /* Beyond the table: the footer rule; without one, what the table last said. */
        if (z->rule.ok)
            return tz_rule_offset(&z->rule, t);
        if (z->rule_unread)
            return fallback;
        return z->n == 0 ? z->before : z->offsets[z->n - 1];
    }
    if (t < z->times[0])
        return z->before;
    size_t lo = 0, hi = z->n;   /* last i with times[i] <= t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->times[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return z->offsets[lo];
}

int32_t fin_zone_utc_offset(const char *zone, int64_t t, int32_t fallback)
{
    if (strcmp(zone, "America/New_York") == 0)
        return fin_ny_utc_offset(t);
    struct zone z;
    memset(&z, 0, sizeof z);
    zone_load(&z, zone);
    int32_t off = zone_offset(&z, t, fallback);
    zone_clear(&z);
    return off;
}

/* ---- the number texts, found in the raw body ---- */

/* A minimal JSON scanner: it trusts that jansson already accepted the body, and only
 * finds where values start and end. */
static const char *skip_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static const char *skip_string(const char *p, const char *e)
{
    for (p++; p < e; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

static const char *skip_value(const char *p, const char *e, int depth)
{
    p = skip_ws(p, e);
    if (p >= e || depth > 64)
        return NULL;
    if (*p == '"')
        return skip_string(p, e);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        p = skip_ws(p + 1, e);
        if (p < e && *p == close)
            return p + 1;
        for (;;) {
            if (close == '}') {
                if (p >= e || *p != '"' || !(p = skip_string(p, e)))
                    return NULL;
                p = skip_ws(p, e);
                if (p >= e || *p != ':')
                    return NULL;
                p++;
            }
            if (!(p = skip_value(p, e, depth + 1)))
                return NULL;
            p = skip_ws(p, e);
            if (p < e && *p == ',') {
                p = skip_ws(p + 1, e);
                continue;
            }
            return p < e && *p == close ? p + 1 : NULL;
        }
    }
    while (p < e && (isalnum((unsigned char)*p) || *p == '-' || *p == '+' || *p == '.'))
        p++;
    return p;
}

/* In the object at p, the value of key (where it starts), or NULL. */
static const char *obj_get(const char *p, const char *e, const char *key)
{
    size_t kl = strlen(key);
    if (!p)
        return NULL;   /* the enclosing lookup found nothing */
    p = skip_ws(p, e);
    if (p >= e || *p != '{')
        return NULL;
    p = skip_ws(p + 1, e);
    while (p < e && *p == '"') {
        const char *k = p + 1, *ke = skip_string(p, e);
        if (!ke)
            return NULL;
        p = skip_ws(ke, e);
        if (p >= e || *p != ':')
            return NULL;
        p = skip_ws(p + 1, e);
        if ((size_t)(ke - 1 - k) == kl && memcmp(k, key, kl) == 0)
            return p;
        if (!(p = skip_value(p, e, 0)))
            return NULL;
        p = skip_ws(p, e);
        if (p < e && *p == ',')
            p = skip_ws(p + 1, e);
    }
    return NULL;
}

static const char *arr_first(const char *p, const char *e)
{
    p = p ? skip_ws(p, e) : NULL;
    return p && p < e && *p == '[' ? skip_ws(p + 1, e) : NULL;
}

/* Fills text[i]/len[i] with the spelling of each element of the array at p; false when
 * the array does not have exactly n elements. */
static bool array_texts(const char *p, const char *e, size_t n, const char **text, uint32_t *len)
{
    if (!(p = arr_first(p, e)))
        return false;
    if (p < e && *p == ']')
        return n == 0;
    for (size_t i = 0;; i++) {
        const char *v = skip_value(p, e, 0);
        if (!v || i >= n)
            return false;
        text[i] = p;
        len[i] = (uint32_t)(v - p);
        p = skip_ws(v, e);
        if (p < e && *p == ',') {
            p = skip_ws(p + 1, e);
            continue;
        }
        return p < e && *p == ']' && i + 1 == n;
    }
}

/* The spans of the four price arrays in quote, NULL-free only when all were found. */
struct price_texts {
    const char **texts[4];   /* per price, per bar: where its text starts; NULL: not found */
    uint32_t *len[4];
};

static void price_texts_free(struct price_texts *pt)
{
    for (int j = 0; j < 4; j++) {
        free(pt->texts[j]);
        free(pt->len[j]);
        pt->texts[j] = NULL;
        pt->len[j] = NULL;
    }
}

static void price_texts_find(struct price_texts *pt, const char *body, size_t blen, size_t n)
{
    static const char *const keys[4] = {"open", "high", "low", "close"};
    const char *e = body + blen;
    memset(pt, 0, sizeof *pt);
    const char *result = arr_first(obj_get(obj_get(body, e, "chart"), e, "result"), e);
    const char *quote = arr_first(obj_get(obj_get(result, e, "indicators"), e, "quote"), e);
    if (!result || !quote || n == 0)
        return;
    for (int j = 0; j < 4; j++) {
        const char *arr = obj_get(quote, e, keys[j]);
        if (!arr)
            continue;
        pt->texts[j] = calloc(n, sizeof *pt->texts[j]);
        pt->len[j] = calloc(n, sizeof *pt->len[j]);
        if (!pt->texts[j] || !pt->len[j] || !array_texts(arr, e, n, pt->texts[j], pt->len[j])) {
            free(pt->texts[j]);
            free(pt->len[j]);
            pt->texts[j] = NULL;
            pt->len[j] = NULL;
        }
    }
}

/* ---- the chart answer ---- */

/* A short printable excerpt of a body for messages. */
static void excerpt(char *out, size_t cap, const char *body, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 4 < cap; i++) {
        unsigned char c = (unsigned char)body[i];
        out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : ' ';
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    if (len > 0 && o + 4 >= cap) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

/* Yahoo's error object, {"chart":{"result":null,"error":{"code":..,"description":..}}}
 * (or "finance" in place of "chart" from its gateway), as "code: description". */
static bool yahoo_error_text(json_t *root, char *out, size_t cap)
{
    json_t *top = json_object_get(root, "chart");
    if (!json_is_object(top))
        top = json_object_get(root, "finance");
    json_t *err = json_object_get(top, "error");
    if (!json_is_object(err))
        return false;
    const char *code = json_string_value(json_object_get(err, "code"));
    const char *desc = json_string_value(json_object_get(err, "description"));
    snprintf(out, cap, "%s%s%s", code ? code : "error", desc ? ": " : "", desc ? desc : "");
    return true;
}

static bool body_blank(const char *body, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isspace((unsigned char)body[i]))
            return false;
    return true;
}

static bool looks_html(const char *body, size_t len)
{
    size_t i = 0;
    while (i < len && isspace((unsigned char)body[i]))
        i++;
    return i < len && body[i] == '<';
}

static json_t *quote_array(json_t *quote, const char *key, size_t n, bool *bad)
{
    json_t *a = json_object_get(quote, key);
    if (!a || json_is_null(a))
        return NULL;
    if (!json_is_array(a) || json_array_size(a) != n)
        *bad = true;
    return a;
}

/* The value of a price or volume cell: 1 present, 0 null, -1 not a number. */
static int cell(json_t *a, size_t i, double *v)
{
    json_t *x = a ? json_array_get(a, i) : NULL;
    if (!x || json_is_null(x))
        return 0;
    if (!json_is_number(x))
        return -1;
    *v = json_number_value(x);
    return 1;
}

/* Parses one answer and emits its bars. *fatal is set when the emitter (the sink) failed,
 * which ends the whole collection, unlike a bad answer, which ends only this ticker. */
static int parse_answer(struct zone *zc, const char *ticker, const char *url, const char *body,
                        size_t len, const struct fin_window *w, struct fin_emitter *em, bool *fatal)
{
    static const char *const keys[4] = {"open", "high", "low", "close"};
    json_t *root = NULL;
    struct price_texts pt;
    memset(&pt, 0, sizeof pt);
    char why[200];
    int rc;

    if (body_blank(body, len)) {
        rc = fin_err_set(FIN_EPARSE, "%s: %s: empty answer", ticker, url);
        goto fail;
    }
    if (looks_html(body, len)) {
        excerpt(why, 60, body, len);
        rc = fin_err_set(FIN_EPARSE, "%s: %s: an HTML page, not chart JSON (\"%s\")", ticker, url, why);
        goto fail;
    }
    json_error_t jerr;
    root = json_loadb(body, len, 0, &jerr);
    if (!root) {
        rc = fin_err_set(FIN_EPARSE, "%s: %s: not valid JSON (truncated?) at line %d, column %d: %s",
                         ticker, url, jerr.line, jerr.column, jerr.text);
        goto fail;
    }
    if (yahoo_error_text(root, why, sizeof why)) {
        rc = fin_err_set(FIN_ENOENT, "%s: %s: Yahoo says %s", ticker, url, why);
        goto fail;
    }
    json_t *result = json_object_get(json_object_get(root, "chart"), "result");
    json_t *r0 = json_array_get(result, 0);
    if (!json_is_object(r0)) {
        rc = fin_err_set(FIN_EPARSE, "%s: %s: no chart.result[0] in the answer", ticker, url);
        goto fail;
    }
    json_t *meta = json_object_get(r0, "meta");
    const char *symbol = json_string_value(json_object_get(meta, "symbol"));
    if (!symbol || !fin_ticker_name_ok(symbol, strlen(symbol)))
        symbol = ticker;
    const char *zone = json_string_value(json_object_get(meta, "exchangeTimezoneName"));
    json_t *gmt = json_object_get(meta, "gmtoffset");
    json_int_t gmt_s = json_is_integer(gmt) ? json_integer_value(gmt) : 0;
    int32_t gmtoffset = gmt_s >= -18 * 3600 && gmt_s <= 18 * 3600 ? (int32_t)gmt_s : 0;
    bool ny = zone && strcmp(zone, "America/New_York") == 0;
    if (zone && !ny && (!zc->loaded || strcmp(zc->name, zone) != 0)) {
        if (zone_load(zc, zone) != 0)
            fin_warn("yahoo: %s: time zone %s not in the system's zoneinfo: using meta.gmtoffset %d s",
                     ticker, zone, (int)gmtoffset);
    }

    json_t *ts = json_object_get(r0, "timestamp");
    size_t n = json_is_array(ts) ? json_array_size(ts) : 0;
    if (ts && !json_is_null(ts) && !json_is_array(ts)) {
        rc = fin_err_set(FIN_EPARSE, "%s: %s: chart.result[0].timestamp is not an array", ticker, url);
        goto fail;
    }
    json_t *quote = json_array_get(json_object_get(json_object_get(r0, "indicators"), "quote"), 0);
    if (n > 0 && !json_is_object(quote)) {
        rc = fin_err_set(FIN_EPARSE, "%s: %s: no indicators.quote[0] for %zu timestamps", ticker, url, n);
        goto fail;
    }
    bool bad_shape = false;
    json_t *px[4], *vol = quote_array(quote, "volume", n, &bad_shape);
    for (int j = 0; j < 4; j++)
        px[j] = quote_array(quote, keys[j], n, &bad_shape);
    if (bad_shape) {
        rc = fin_err_set(FIN_EPARSE, "%s: %s: the quote arrays do not have one value per timestamp (%zu)",
                         ticker, url, n);
        goto fail;
    }
    price_texts_find(&pt, body, len, n);

    for (size_t i = 0; i < n; i++) {
        json_t *tv = json_array_get(ts, i);
        if (!json_is_integer(tv)) {
            fin_emit_bad(em, "yahoo: %s: %s: bar %zu: timestamp is not an integer", ticker, url, i);
            continue;
        }
        int64_t t = (int64_t)json_integer_value(tv);
        if (t < w->start || t >= w->end)
            continue;
        struct fin_bar bar;
        memset(&bar, 0, sizeof bar);
        bar.name = symbol;
        bar.name_len = strlen(symbol);
        bar.t = t;
        bar.present = 1u << FIN_FIELD_NAME | 1u << FIN_FIELD_TS;
        bool bad = false;
        int prices = 0;
        for (int j = 0; j < 4; j++) {
            int c = cell(px[j], i, &bar.px[j]);
            bad |= c < 0;
            if (c <= 0)
                continue;
            prices++;
            bar.present |= 1u << (FIN_FIELD_OPEN + j);
            if (pt.texts[j] && fin_is_json_number(pt.texts[j][i], pt.len[j][i])) {
                bar.px_text[j] = pt.texts[j][i];
                bar.px_text_len[j] = pt.len[j][i];
            }
        }
        double v;
        int c = cell(vol, i, &v);
        bad |= c < 0 || (c > 0 && !(v >= 0 && v < 9.2e18));
        if (c > 0 && !bad) {
            bar.volume = (int64_t)v;
            bar.present |= 1u << FIN_FIELD_VOLUME;
        }
        if (bad) {
            fin_emit_bad(em, "yahoo: %s: %s: bar %zu (t=%" PRId64 "): a value is not a number", ticker,
                         url, i, t);
            continue;
        }
        if (prices == 0) {
            em->stats.skipped++;   /* Yahoo's null bar: no trade in that minute */
            continue;
        }
        bar.utc_offset = ny ? fin_ny_utc_offset(t) : zone ? zone_offset(zc, t, gmtoffset) : gmtoffset;
        rc = fin_emit_bar(em, &bar);
        if (rc) {
            *fatal = true;
            goto fail;
        }
    }
    rc = 0;
fail:
    price_texts_free(&pt);
    json_decref(root);
    return rc;
}

int fin_yahoo_parse(const char *ticker, const char *url, const char *body, size_t len,
                    const struct fin_window *w, struct fin_emitter *em)
{
    struct zone zc;
    memset(&zc, 0, sizeof zc);
    bool fatal = false;
    int rc = parse_answer(&zc, ticker, url, body, len, w, em, &fatal);
    zone_clear(&zc);
    return rc;
}

/* ---- fetching, with retries ---- */

static uint64_t next_random(uint64_t *state)
{
    /* splitmix64: enough for jitter, and reproducible under a fake clock */
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The delay before retry number attempt (0-based): full jitter over an exponentially
 * growing, capped ceiling; a server's Retry-After replaces it, within the same cap. */
static int64_t backoff_delay_ms(struct fin_source *s, int attempt, int64_t retry_after_ms)
{
    int64_t cap = s->backoff_max_ms > 0 ? s->backoff_max_ms : s->backoff_ms;
    if (retry_after_ms >= 0)
        return retry_after_ms < cap ? retry_after_ms : cap;
    int64_t ceil = s->backoff_ms;
    for (int i = 0; i < attempt && ceil < cap; i++)
        ceil *= 2;
    if (ceil > cap)
        ceil = cap;
    if (ceil <= 0)
        return 0;
    return (int64_t)(next_random(&s->rng) % (uint64_t)(ceil + 1));
}

/* GETs url into s->resp until a 2xx answer, retrying what may pass. On failure the
 * message names ticker, url and the last reason. */
static int fetch(struct fin_source *s, const char *ticker, const char *url)
{
    struct fin_http_request req = {.method = "GET", .url = url, .user_agent = YAHOO_USER_AGENT,
                                   .timeout_ms = s->timeout_ms, .body_max = YAHOO_BODY_MAX,
                                   .flags = FIN_HTTP_FOLLOW | FIN_HTTP_DECODE};
    int attempts = (int)s->retries + 1;
    char why[320];
    for (int attempt = 0;; attempt++) {
        int rc = fin_http_send(s->http, &req, &s->resp);
        int64_t retry_after = -1;
        bool retriable;
        if (rc == FIN_ETIMEOUT || rc == FIN_ENET || rc == FIN_EUNREACHABLE) {
            /* The transport's message starts with method and URL, which ours names already. */
            const char *m = fin_err_msg();
            size_t ul = strlen(url);
            if (strncmp(m, "GET ", 4) == 0 && strncmp(m + 4, url, ul) == 0 && m[4 + ul] == ':')
                m += 4;
            if (strncmp(m, url, ul) == 0 && m[ul] == ':')
                m += ul + 1 + (m[ul + 1] == ' ');
            snprintf(why, sizeof why, "%s", m);
            retriable = rc != FIN_EUNREACHABLE;   /* DNS failed or nobody listens */
        } else if (rc) {
            return fin_err_set(rc, "%s: %s", ticker, fin_err_msg());
        } else if (s->resp.status >= 200 && s->resp.status < 300) {
            return 0;
        } else {
            long st = s->resp.status;
            char detail[240] = "", said[200];
            json_t *root = json_loadb(s->resp.body.data, s->resp.body.len, 0, NULL);
            if (root && yahoo_error_text(root, said, sizeof said)) {
                snprintf(detail, sizeof detail, ": Yahoo says %s", said);
            } else if (s->resp.body.len > 0) {
                char ex[64];
                excerpt(ex, sizeof ex, s->resp.body.data, s->resp.body.len);
                snprintf(detail, sizeof detail, " (\"%s\")", ex);
            }
            json_decref(root);
            snprintf(why, sizeof why, "HTTP %ld%s", st, detail);
            retriable = st == 429 || st >= 500;
            const char *ra = fin_http_response_header(&s->resp, "retry-after");
            if (ra && *ra)
                retry_after = fin_http_retry_after_ms(ra, fin_now_ns(s->clock) / FIN_NS_PER_SEC);
            if (!retriable)
                return fin_err_set(st == 404 ? FIN_ENOENT : FIN_EHTTP, "%s: %s: %s", ticker, url, why);
        }
        if (!retriable)
            return fin_err_set(rc, "%s: %s: %s", ticker, url, why);
        if (attempt + 1 >= attempts)
            return fin_err_set(rc ? rc : FIN_EHTTP, "%s: %s: giving up after %d attempt%s: %s", ticker,
                               url, attempts, attempts == 1 ? "" : "s", why);
        int64_t delay = backoff_delay_ms(s, attempt, retry_after);
        fin_warn("yahoo: %s: %s; retry %d of %d in %" PRId64 " ms", ticker, why, attempt + 1,
                 attempts - 1, delay);
        s->clock->sleep_ns(s->clock->ctx, delay * FIN_NS_PER_MS);
    }
}

/* ---- the source ---- */

static const char *interval_name(int seconds)
{
    switch (seconds) {
    case 60: return "1m";
    case 120: return "2m";
    case 300: return "5m";
    case 900: return "15m";
    case 1800: return "30m";
    case 3600: return "60m";
    case 5400: return "90m";
    case 86400: return "1d";
    default: return NULL;
    }
}

/* Appends ticker percent-encoded (tickers such as ^GSPC or EURUSD=X carry reserved bytes). */
static int append_escaped(struct fin_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char e[3] = {'%', hex[c >> 4], hex[c & 15]};
        int rc = (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
                     ? fin_buf_append(b, s, 1) : fin_buf_append(b, e, 3);
        if (rc)
            return rc;
    }
    return 0;
}

static void yahoo_destroy(struct fin_source *s)
{
    if (!s)
        return;
    fin_http_transport_destroy(s->own_http);
    fin_http_response_fini(&s->resp);
    zone_clear(&s->zone);
    free(s->base_url);
    free(s);
}

static int yahoo_create(struct fin_source **out, const char *arg, const struct fin_collect_settings *set)
{
    *out = NULL;
    int rc;
    struct fin_source *s = calloc(1, sizeof *s);
    if (!s)
        return FIN_ENOMEM;
    fin_http_response_init(&s->resp);
    if (arg && *arg) {
        rc = fin_err_set(FIN_EINVAL, "the yahoo source takes no argument (got \"yahoo:%s\"); "
                         "set the base URL with yahoo_url", arg);
        goto fail;
    }
    const char *url = set->yahoo_url && *set->yahoo_url ? set->yahoo_url : YAHOO_DEFAULT_URL;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        rc = fin_err_set(FIN_EINVAL, "yahoo_url: \"%s\" is not an http:// or https:// URL", url);
        goto fail;
    }
    s->base_url = strdup(url);
    if (!s->base_url) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    size_t n = strlen(s->base_url);
    while (n > 0 && s->base_url[n - 1] == '/')
        s->base_url[--n] = '\0';
    s->timeout_ms = set->timeout_ms;
    s->retries = set->retries < 0 ? 0 : set->retries;
    s->backoff_ms = set->backoff_ms < 0 ? 0 : set->backoff_ms;
    s->backoff_max_ms = set->backoff_max_ms < 0 ? 0 : set->backoff_max_ms;
    s->clock = fin_clock_real();
    s->rng = (uint64_t)fin_mono_ns(s->clock) ^ (uint64_t)getpid() << 32;
    rc = fin_http_curl_create(&s->own_http);
    if (rc)
        goto fail;
    s->http = s->own_http;
    *out = s;
    return 0;
fail:
    yahoo_destroy(s);
    return rc;
}

void fin_yahoo_use_seams(struct fin_source *s, struct fin_http_transport *http,
                         const struct fin_clock *clock, uint64_t seed)
{
    if (http)
        s->http = http;
    if (clock)
        s->clock = clock;
    s->rng = seed;
}

/* Yahoo serves at most 8 days of one-minute bars per request; longer windows are asked
 * for in pieces of a week. */
#define YAHOO_1M_SPAN (7 * 86400)

/* Fetches and emits one ticker's window, piece by piece. A failure ends the ticker (the
 * message names the piece's URL); *fatal says the sink failed. */
static int collect_ticker(struct fin_source *s, const char *ticker, const struct fin_window *w,
                          const char *interval, struct fin_buf *url, struct fin_emitter *em,
                          bool *fatal)
{
    if (!ticker[0] || strlen(ticker) > FIN_TICKER_MAX)
        return fin_err_set(FIN_EINVAL, "\"%s\": a ticker has 1 to %d characters", ticker,
                           FIN_TICKER_MAX);
    int64_t span = w->interval_s == 60 ? YAHOO_1M_SPAN : w->end - w->start;
    for (int64_t from = w->start; from < w->end; from += span) {
        int64_t to = w->end - from > span ? from + span : w->end;
        int rc;
        fin_buf_reset(url);
        if ((rc = fin_buf_printf(url, "%s/v8/finance/chart/", s->base_url)) ||
            (rc = append_escaped(url, ticker)) ||
            (rc = fin_buf_printf(url, "?period1=%" PRId64 "&period2=%" PRId64
                                 "&interval=%s&includePrePost=false", from, to, interval)))
            return rc;
        const char *u = fin_buf_cstr(url);
        struct fin_window piece = {from, to, w->interval_s};
        if ((rc = fetch(s, ticker, u)) ||
            (rc = parse_answer(&s->zone, ticker, u, s->resp.body.data, s->resp.body.len, &piece, em,
                               fatal)))
            return rc;
    }
    return 0;
}

static int yahoo_collect(struct fin_source *s, const char *const *tickers, size_t n_tickers,
                         const struct fin_window *w, struct fin_emitter *em)
{
    struct fin_buf url;
    fin_buf_init(&url);
    int rc = 0;
    const char *interval = interval_name(w->interval_s);
    if (!interval) {
        rc = fin_err_set(FIN_EINVAL, "yahoo: no chart interval of %d seconds", w->interval_s);
        goto fail;
    }
    for (size_t i = 0; i < n_tickers; i++) {
        bool fatal = false;
        rc = collect_ticker(s, tickers[i], w, interval, &url, em, &fatal);
        if (rc == FIN_EUNREACHABLE) {
            char why[900];
            snprintf(why, sizeof why, "%s", fin_err_msg());
            rc = fin_err_set(rc, "yahoo: %s%s", why, n_tickers > i + 1 ? " (no other ticker tried)" : "");
        }
        if (fatal || rc == FIN_ENOMEM || rc == FIN_EUNREACHABLE || rc == FIN_ECANCELED)
            goto fail;   /* the sink, the machine or the network failed, or Ctrl-C: the next
                          * ticker would fail too */
        if (rc) {
            fin_error("yahoo: %s", fin_err_msg());
            em->stats.tickers_failed++;
        } else {
            em->stats.tickers_ok++;
        }
        rc = 0;
    }
fail:
    fin_buf_fini(&url);
    return rc;
}

const struct fin_source_ops fin_source_yahoo = {"yahoo", yahoo_create, yahoo_collect, yahoo_destroy};
