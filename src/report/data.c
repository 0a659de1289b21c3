/* data.c - a day's data for the report: bars collected from a loader, then summarised
 * into what the charts and the page show.
 *
 * The summaries follow the classic analysis: a ticker's range is the lowest low and the
 * highest high of its bars that day; the hourly-high answer is, per ticker and
 * exchange-local hour (characters 12-13 of ts), the highest high and every minute at
 * which it occurred, ordered by ticker, hour and time, which is what the Athena query
 * returns. The hour and day come from the wall-clock time the source wrote, not from UTC,
 * so a record's ts string and the report agree even for sources in another offset. */
#include "report_int.h"

#include "finstream/error.h"
#include "finstream/log.h"
#include "finstream/progress.h"
#include "finstream/timeutil.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct bar {
    uint32_t tk;             /* index into tickers (at finish: rank in name order) */
    int32_t off;             /* wall clock minus UTC, seconds */
    int64_t t;               /* UTC seconds */
    double open, high, low, close;
    double volume;           /* NAN when the record has none */
};

struct series_store {
    int64_t *t;
    double *high, *low;
    char interval[40];
};

struct fin_report_data {
    char **tickers;
    size_t n_tickers, cap_tickers;
    size_t hint;             /* the ticker found last: bars come grouped by ticker */
    uint32_t *slots;         /* open-addressing index of tickers: index + 1, 0 empty */
    size_t n_slots;          /* a power of two, at least twice n_tickers */
    struct bar *bars;
    size_t n_bars, cap_bars;
    uint64_t bad, duplicates, day_bars, warned;
    uint64_t objects, bytes;
    char *source;

    /* filled by finish */
    struct fin_report_input in;
    struct fin_report_range *ranges;
    struct fin_report_series *series;
    struct series_store *stores;
    size_t n_stores;
    struct fin_report_hourly *hourly;
    char (*hourly_dt)[20];
    char date[11];
    char window[80];
    char *missing;
    size_t n_missing;
    size_t series_dropped;   /* chosen tickers past FIN_REPORT_MAX_SERIES */
};

int fin_report_data_create(struct fin_report_data **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : FIN_ENOMEM;
}

static void clear_summary(struct fin_report_data *d)
{
    for (size_t i = 0; i < d->n_stores; i++) {
        free(d->stores[i].t);
        free(d->stores[i].high);
        free(d->stores[i].low);
    }
    free(d->stores);
    free(d->series);
    free(d->ranges);
    free(d->hourly);
    free(d->hourly_dt);
    free(d->missing);
    d->stores = NULL;
    d->series = NULL;
    d->ranges = NULL;
    d->hourly = NULL;
    d->hourly_dt = NULL;
    d->missing = NULL;
    d->n_stores = 0;
    d->n_missing = 0;
    d->duplicates = 0;
    d->day_bars = 0;
    memset(&d->in, 0, sizeof d->in);
}

void fin_report_data_destroy(struct fin_report_data *d)
{
    if (!d)
        return;
    clear_summary(d);
    for (size_t i = 0; i < d->n_tickers; i++)
        free(d->tickers[i]);
    free(d->tickers);
    free(d->slots);
    free(d->bars);
    free(d->source);
    free(d);
}

void fin_report_data_count_bad(struct fin_report_data *d)
{
    d->bad++;
}

/* The first few bad records are described; the rest are only counted. */
#define WARN_LIMIT 5

void fin__report_data_bad(struct fin_report_data *d, const char *fmt, ...)
{
    d->bad++;
    if (d->warned++ < WARN_LIMIT) {
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        fin_warn("%s", msg);
    } else if (d->warned == WARN_LIMIT + 1) {
        fin_warn("further records that cannot be used are only counted");
    }
}

int fin_report_data_set_source(struct fin_report_data *d, const char *source)
{
    char *s = strdup(source ? source : "");
    if (!s)
        return FIN_ENOMEM;
    free(d->source);
    d->source = s;
    return 0;
}

/* "05/14/2020 ..." and "05-11-2021 ..." (month first, as some producers write it) become
 * "2020-05-14 ..."; the ISO form is copied as is. Returns -1 when it does not fit. */
static int normalise_ts(const char *ts, char *out, size_t cap)
{
    size_t len = strlen(ts);
    if (len + 1 > cap)
        return -1;
    if (len >= 10 && isdigit((unsigned char)ts[0]) && isdigit((unsigned char)ts[1]) &&
        (ts[2] == '/' || ts[2] == '-') && ts[5] == ts[2]) {
        snprintf(out, cap, "%.4s-%.2s-%.2s%s", ts + 6, ts, ts + 3, ts + 10);
        return 0;
    }
    memcpy(out, ts, len + 1);
    return 0;
}

int fin__report_day_of(const char *ts, char *out)
{
    char norm[64];
    int64_t days;
    if (normalise_ts(ts, norm, sizeof norm) != 0 || strlen(norm) < 10)
        return FIN_EPARSE;
    norm[10] = '\0';
    if (fin_parse_date(norm, &days) != 0)
        return FIN_EPARSE;
    memcpy(out, norm, 11);
    return 0;
}

/* The UTC time and the wall-clock offset of a ts: the offset is what the string says, or
 * New York's on that day when it says nothing. */
static int parse_ts(const char *ts, int64_t *t, int32_t *off)
{
    char norm[64], wall[64];
    if (normalise_ts(ts, norm, sizeof norm) != 0)
        return FIN_EPARSE;
    if (fin_parse_time(norm, FIN_TZ_NEW_YORK, t) != 0)
        return FIN_EPARSE;
    /* The wall-clock part: everything before an offset that follows the time. */
    memcpy(wall, norm, strlen(norm) + 1);
    for (char *p = wall + 10; *p; p++)
        if (*p == '+' || *p == '-' || *p == 'Z') {
            *p = '\0';
            break;
        }
    int64_t w;
    if (fin_parse_time(wall, 0, &w) != 0)
        return FIN_EPARSE;
    *off = (int32_t)(w - *t);
    return 0;
}

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int index_grow(struct fin_report_data *d)
{
    size_t n = d->n_slots ? d->n_slots * 2 : 64;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (!slots)
        return FIN_ENOMEM;
    for (size_t i = 0; i < d->n_tickers; i++) {
        size_t k = name_hash(d->tickers[i]) & (n - 1);
        while (slots[k])
            k = (k + 1) & (n - 1);
        slots[k] = (uint32_t)i + 1;
    }
    free(d->slots);
    d->slots = slots;
    d->n_slots = n;
    return 0;
}

/* The ticker's index, added when new: a hash index keeps this constant-time for any
 * ticker count, whatever order the bars come in. */
static int intern(struct fin_report_data *d, const char *ticker, uint32_t *idx)
{
    if (d->hint < d->n_tickers && strcmp(d->tickers[d->hint], ticker) == 0) {
        *idx = (uint32_t)d->hint;
        return 0;
    }
    if ((d->n_tickers + 1) * 2 > d->n_slots && index_grow(d))
        return FIN_ENOMEM;
    size_t k = name_hash(ticker) & (d->n_slots - 1);
    for (; d->slots[k]; k = (k + 1) & (d->n_slots - 1))
        if (strcmp(d->tickers[d->slots[k] - 1], ticker) == 0) {
            *idx = (uint32_t)(d->hint = d->slots[k] - 1);
            return 0;
        }
    if (d->n_tickers == d->cap_tickers) {
        size_t cap = d->cap_tickers ? d->cap_tickers * 2 : 16;
        char **n = realloc(d->tickers, cap * sizeof *n);
        if (!n)
            return FIN_ENOMEM;
        d->tickers = n;
        d->cap_tickers = cap;
    }
    d->tickers[d->n_tickers] = strdup(ticker);
    if (!d->tickers[d->n_tickers])
        return FIN_ENOMEM;
    d->slots[k] = (uint32_t)d->n_tickers + 1;
    *idx = (uint32_t)(d->hint = d->n_tickers++);
    return 0;
}

int fin_report_data_add(struct fin_report_data *d, const char *ticker, const char *ts,
                        double open, double high, double low, double close, double volume,
                        const char *where)
{
    struct bar b = {0, 0, 0, open, high, low, close, volume};
    where = where ? where : "record";
    if (!ticker || !*ticker || strlen(ticker) > 64)
        return fin_err_set(FIN_EPARSE, "%s: no usable ticker name", where);
    if (!ts || parse_ts(ts, &b.t, &b.off) != 0)
        return fin_err_set(FIN_EPARSE, "%s: ts '%s' is not a time", where, ts ? ts : "(none)");
    if (!isfinite(high) || !isfinite(low) || low > high || low <= 0)
        return fin_err_set(FIN_EPARSE, "%s: high %g and low %g are not a bar", where, high, low);
    int rc = intern(d, ticker, &b.tk);
    if (rc)
        return rc;
    if (d->n_bars == d->cap_bars) {
        size_t cap = d->cap_bars ? d->cap_bars * 2 : 1024;
        struct bar *n = realloc(d->bars, cap * sizeof *n);
        if (!n)
            return FIN_ENOMEM;
        d->bars = n;
        d->cap_bars = cap;
    }
    d->bars[d->n_bars++] = b;
    fin_progress_add(1, 0);   /* the progress line on a terminal */
    return 0;
}

static int64_t local_day(const struct bar *b)
{
    int64_t w = b->t + b->off;
    return (w - ((w % 86400) + 86400) % 86400) / 86400;
}

static int cmp_bar(const void *a, const void *b)
{
    const struct bar *x = a, *y = b;
    if (x->tk != y->tk)
        return x->tk < y->tk ? -1 : 1;
    return x->t < y->t ? -1 : x->t > y->t;
}

/* Sorts ticker indices by name, for ranks. */
static int cmp_name(const void *a, const void *b, void *names)
{
    char **n = names;
    return strcmp(n[*(const uint32_t *)a], n[*(const uint32_t *)b]);
}

static void interval_name(const int64_t *t, size_t n, char *out, size_t cap)
{
    int64_t gap = 0;
    for (size_t i = 1; i < n; i++) {
        int64_t g = t[i] - t[i - 1];
        if (g > 0 && (gap == 0 || g < gap))
            gap = g;
    }
    if (gap == 0)
        snprintf(out, cap, "%s", "");
    else if (gap % 3600 == 0)
        snprintf(out, cap, "%lld-hour", (long long)(gap / 3600));
    else if (gap % 60 == 0)
        snprintf(out, cap, "%lld-minute", (long long)(gap / 60));
    else
        snprintf(out, cap, "%lld-second", (long long)gap);
}

/* Case-insensitive membership in a comma list; returns the position or -1. */
static int list_find(const char *list, const char *name)
{
    int pos = 0;
    for (const char *p = list; *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ')
            e++;
        if (e > p) {
            if ((size_t)(e - p) == strlen(name) && strncasecmp(p, name, (size_t)(e - p)) == 0)
                return pos;
            pos++;
        }
        p = e;
    }
    return -1;
}

static int days_present(const struct fin_report_data *d, char *out, size_t cap)
{
    int64_t days[6];
    size_t n = 0;
    for (size_t i = 0; i < d->n_bars && n < 6; i++) {
        int64_t day = local_day(&d->bars[i]);
        size_t k = 0;
        while (k < n && days[k] != day)
            k++;
        if (k == n)
            days[n++] = day;
    }
    size_t o = 0;
    out[0] = '\0';
    for (size_t k = 0; k < n && k < 5 && o + 14 < cap; k++) {
        char s[11];
        fin_format_date(s, days[k]);
        o += (size_t)snprintf(out + o, cap - o, "%s%s", k ? ", " : "", s);
    }
    if (n > 5 && o + 6 < cap)
        snprintf(out + o, cap - o, ", ...");
    return (int)n;
}

static bool more_active(const struct fin_report_range *x, const struct fin_report_range *y)
{
    if (isfinite(x->volume) && isfinite(y->volume) && x->volume != y->volume)
        return x->volume > y->volume;
    double wx = (x->high - x->low) / x->first, wy = (y->high - y->low) / y->first;
    if (wx != wy)
        return wx > wy;
    return strcmp(x->ticker, y->ticker) < 0;
}

int fin_report_data_finish(struct fin_report_data *d, const struct fin_report_select *sel,
                           const struct fin_report_input **in)
{
    int rc = 0;
    struct bar *day = NULL;
    uint32_t *order = NULL, *rank = NULL;
    size_t *start = NULL;
    const char *chosen = sel && sel->tickers ? sel->tickers : FIN_REPORT_DEFAULT_TICKERS;
    clear_summary(d);

    if (d->n_bars == 0)
        return fin_err_set(FIN_ENOENT, "no bars in the data (%llu records could not be used)",
                           (unsigned long long)d->bad);
    int64_t want;
    if (sel && sel->date) {
        if (fin_parse_date(sel->date, &want) != 0)
            return fin_err_set(FIN_EINVAL, "--date '%s' is not a date (YYYY-MM-DD)", sel->date);
    } else {
        want = local_day(&d->bars[0]);
        for (size_t i = 1; i < d->n_bars; i++)
            if (local_day(&d->bars[i]) > want)
                want = local_day(&d->bars[i]);
    }
    fin_format_date(d->date, want);

    /* The day's bars, tickers ranked by name, sorted by ticker and time, duplicates out. */
    order = malloc(d->n_tickers * sizeof *order);
    rank = malloc(d->n_tickers * sizeof *rank);
    day = malloc(d->n_bars * sizeof *day);
    if (!order || !rank || !day) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    for (uint32_t i = 0; i < d->n_tickers; i++)
        order[i] = i;
    qsort_r(order, d->n_tickers, sizeof *order, cmp_name, d->tickers);
    for (uint32_t i = 0; i < d->n_tickers; i++)
        rank[order[i]] = i;
    size_t n = 0;
    for (size_t i = 0; i < d->n_bars; i++)
        if (local_day(&d->bars[i]) == want) {
            day[n] = d->bars[i];
            day[n].tk = rank[d->bars[i].tk];
            n++;
        }
    if (n == 0) {
        char present[96];
        days_present(d, present, sizeof present);
        rc = fin_err_set(FIN_ENOENT, "no bars on %s; the data has %s", d->date, present);
        goto fail;
    }
    qsort(day, n, sizeof *day, cmp_bar);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m > 0 && day[m - 1].tk == day[i].tk && day[m - 1].t == day[i].t) {
            d->duplicates++;
            continue;
        }
        day[m++] = day[i];
    }
    n = m;
    d->day_bars = n;

    /* Ticker groups. */
    size_t n_groups = 0;
    start = malloc((n + 1) * sizeof *start);
    if (!start) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < n; i++)
        if (i == 0 || day[i].tk != day[i - 1].tk)
            start[n_groups++] = i;
    start[n_groups] = n;

    d->ranges = calloc(n_groups, sizeof *d->ranges);
    d->hourly = calloc(n, sizeof *d->hourly);
    d->hourly_dt = calloc(n, sizeof *d->hourly_dt);
    if (!d->ranges || !d->hourly || !d->hourly_dt) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    size_t n_hourly = 0;
    for (size_t g = 0; g < n_groups; g++) {
        const struct bar *b = &day[start[g]], *e = &day[start[g + 1]];
        size_t cnt = (size_t)(e - b);
        struct fin_report_range *r = &d->ranges[g];
        r->ticker = d->tickers[order[b->tk]];
        r->bars = cnt;
        r->low = b->low;
        r->high = b->high;
        r->volume = 0;
        for (const struct bar *x = b; x < e; x++) {
            r->low = fmin(r->low, x->low);
            r->high = fmax(r->high, x->high);
            r->volume += isfinite(x->volume) ? x->volume : NAN;
        }
        const struct bar *last = e - 1;
        r->has_close = isfinite(last->close) && isfinite(b->open);
        r->first = r->has_close ? b->open : (b->high + b->low) / 2;
        r->last = r->has_close ? last->close : (last->high + last->low) / 2;

        /* Hourly highs: bars are in time order, so each hour is one run. */
        for (const struct bar *h0 = b; h0 < e;) {
            int hour = (int)(((h0->t + h0->off) % 86400 + 86400) % 86400 / 3600);
            const struct bar *h1 = h0;
            double mx = -INFINITY;
            while (h1 < e && (int)(((h1->t + h1->off) % 86400 + 86400) % 86400 / 3600) == hour) {
                mx = fmax(mx, h1->high);
                h1++;
            }
            for (const struct bar *x = h0; x < h1; x++) {
                if (x->high != mx)
                    continue;
                char full[32];
                fin_format_ts_offset(full, x->t, x->off);
                snprintf(d->hourly_dt[n_hourly], sizeof d->hourly_dt[n_hourly], "%.19s", full);
                d->hourly[n_hourly] = (struct fin_report_hourly){r->ticker, hour, mx,
                                                                 d->hourly_dt[n_hourly]};
                n_hourly++;
            }
            h0 = h1;
        }
    }

    /* Without a choice and without the classic pair in the data, the two most active
     * tickers get the time-series charts (most shares traded, else the widest range). */
    char auto_chosen[2 * 66 + 2];
    if (!(sel && sel->tickers)) {
        bool any = false;
        for (size_t g = 0; g < n_groups && !any; g++)
            any = list_find(chosen, d->ranges[g].ticker) >= 0;
        size_t best[2] = {SIZE_MAX, SIZE_MAX};
        for (size_t g = 0; g < n_groups && !any; g++)
            for (int k = 0; k < 2; k++)
                if (best[k] == SIZE_MAX || more_active(&d->ranges[g], &d->ranges[best[k]])) {
                    if (k == 0)
                        best[1] = best[0];
                    best[k] = g;
                    break;
                }
        if (!any && best[0] != SIZE_MAX) {
            snprintf(auto_chosen, sizeof auto_chosen, "%s%s%s", d->ranges[best[0]].ticker,
                     best[1] != SIZE_MAX ? "," : "",
                     best[1] != SIZE_MAX ? d->ranges[best[1]].ticker : "");
            chosen = auto_chosen;
        }
    }

    /* Time series for the chosen tickers, in the order they were chosen. */
    size_t n_chosen = 0;
    for (const char *p = chosen; *p; p++)
        n_chosen += *p == ',';
    n_chosen++;
    d->stores = calloc(n_chosen, sizeof *d->stores);
    d->series = calloc(n_chosen, sizeof *d->series);
    d->missing = calloc(1, strlen(chosen) + 2 * n_chosen + 1);
    if (!d->stores || !d->series || !d->missing) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    for (int pos = 0; (size_t)pos < n_chosen; pos++) {
        size_t found = n_groups;
        for (size_t g = 0; g < n_groups && found == n_groups; g++)
            if (list_find(chosen, d->ranges[g].ticker) == pos)
                found = g;
        if (found == n_groups) {
            /* Name the chosen ticker as it was written. */
            int k = 0;
            for (const char *p = chosen; *p;) {
                while (*p == ',' || *p == ' ')
                    p++;
                const char *e = p;
                while (*e && *e != ',' && *e != ' ')
                    e++;
                if (e > p && k++ == pos) {
                    size_t len = strlen(d->missing);
                    sprintf(d->missing + len, "%s%.*s", len ? ", " : "", (int)(e - p), p);
                    d->n_missing++;
                }
                p = e;
            }
            continue;
        }
        const struct bar *b = &day[start[found]];
        size_t cnt = start[found + 1] - start[found];
        struct series_store *st = &d->stores[d->n_stores++];
        st->t = malloc(cnt * sizeof *st->t);
        st->high = malloc(cnt * sizeof *st->high);
        st->low = malloc(cnt * sizeof *st->low);
        if (!st->t || !st->high || !st->low) {
            rc = FIN_ENOMEM;
            goto fail;
        }
        for (size_t i = 0; i < cnt; i++) {
            st->t[i] = b[i].t;
            st->high[i] = b[i].high;
            st->low[i] = b[i].low;
        }
        interval_name(st->t, cnt, st->interval, sizeof st->interval);
        d->series[d->n_stores - 1] = (struct fin_report_series){
            d->ranges[found].ticker, cnt, st->t, st->high, st->low, b->off, st->interval};
    }

    /* Window: earliest and latest bar of the day. */
    size_t lo = 0, hi = 0;
    for (size_t i = 1; i < n; i++) {
        if (day[i].t < day[lo].t)
            lo = i;
        if (day[i].t > day[hi].t)
            hi = i;
    }
    char a[32], z[32];
    fin_format_ts_offset(a, day[lo].t, day[lo].off);
    fin_format_ts_offset(z, day[hi].t, day[hi].off);
    snprintf(d->window, sizeof d->window, "%s .. %s", a, z);

    d->in.date = d->date;
    d->in.ranges = d->ranges;
    d->in.n_ranges = n_groups;
    d->in.series = d->series;
    d->in.n_series = d->n_stores;
    /* More chosen than one page holds: the first ones, in the order chosen. */
    d->series_dropped = 0;
    if (d->in.n_series > FIN_REPORT_MAX_SERIES) {
        d->series_dropped = d->in.n_series - FIN_REPORT_MAX_SERIES;
        d->in.n_series = FIN_REPORT_MAX_SERIES;
    }
    d->in.hourly = d->hourly;
    d->in.n_hourly = n_hourly;
    d->in.prov.source = d->source;
    d->in.prov.window = d->window;
    d->in.prov.records = n;
    *in = &d->in;
fail:
    free(order);
    free(rank);
    free(day);
    free(start);
    if (rc) {
        uint64_t bad = d->bad;
        clear_summary(d);
        d->bad = bad;
    }
    return rc;
}

int fin__report_data_hourly_begin(struct fin_report_data *d, size_t n)
{
    free(d->hourly);
    free(d->hourly_dt);
    d->hourly = calloc(n + 1, sizeof *d->hourly);
    d->hourly_dt = calloc(n + 1, sizeof *d->hourly_dt);
    d->in.hourly = d->hourly;
    d->in.n_hourly = 0;
    return d->hourly && d->hourly_dt ? 0 : FIN_ENOMEM;
}

int fin__report_data_hourly_add(struct fin_report_data *d, const char *ticker, int hour,
                                double high, const char *datetime)
{
    uint32_t idx;
    char norm[64];
    size_t i = d->in.n_hourly;
    int rc = intern(d, ticker, &idx);
    if (rc)
        return rc;
    if (normalise_ts(datetime, norm, sizeof norm) != 0)
        snprintf(norm, sizeof norm, "%s", datetime);
    snprintf(d->hourly_dt[i], sizeof d->hourly_dt[i], "%.19s", norm);
    d->hourly[i] = (struct fin_report_hourly){d->tickers[idx], hour, high, d->hourly_dt[i]};
    d->in.n_hourly++;
    return 0;
}

void fin_report_data_stats(const struct fin_report_data *d, struct fin_report_data_stats *st)
{
    st->bars_read = d->n_bars;
    st->bad = d->bad;
    st->duplicates = d->duplicates;
    st->day_bars = d->day_bars;
    st->missing = d->n_missing;
    snprintf(st->missing_list, sizeof st->missing_list, "%s", d->missing ? d->missing : "");
    st->objects = d->objects;
    st->bytes = d->bytes;
    st->series_dropped = d->series_dropped;
}

void fin__report_data_count_object(struct fin_report_data *d, uint64_t bytes)
{
    d->objects++;
    d->bytes += bytes;
}
