/* collector.c - the collector's settings, the source registry, windows and the driver. */
#include "finstream/collector.h"
#include "finstream/clock.h"
#include "finstream/error.h"
#include "finstream/timeutil.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OFF(f) offsetof(struct fin_collect_settings, f)

const struct fin_opt fin_collect_opts[] = {
    {"source", FIN_OPT_STRING, "sim", OFF(source), 0, 0, NULL,
     "where bars come from: sim | yahoo | csv:PATH | replay:PATH"},
    {"tickers", FIN_OPT_STRING, NULL, OFF(tickers), 0, 0, NULL,
     "comma-separated tickers (default: the classic ten; csv, replay: all)"},
    {"interval", FIN_OPT_STRING, "1m", OFF(interval), 0, 0, NULL, "bar length: 1m | 5m | 15m | 1h | 1d"},
    {"date", FIN_OPT_STRING, NULL, OFF(date), 0, 0, NULL,
     "trading day YYYY-MM-DD (sim default " FIN_SIM_DEFAULT_DATE ", others today)"},
    {"start", FIN_OPT_STRING, NULL, OFF(start), 0, 0, NULL, "window start, New York time unless an offset is given"},
    {"end", FIN_OPT_STRING, NULL, OFF(end), 0, 0, NULL, "window end (exclusive)"},
    {"every", FIN_OPT_DURATION, "0", OFF(every_ms), 0, 0, NULL,
     "repeat on this schedule (e.g. 5m), emitting only new bars; 0 runs once"},
    {"to", FIN_OPT_STRING, "stdout", OFF(to), 0, 0, NULL,
     "stdout | file:PATH | stream:NAME | delivery:NAME | kinesis:NAME | firehose:NAME"},
    {"fields", FIN_OPT_STRING, "name,ts,open,high,low,close,volume", OFF(fields), 0, 0, NULL,
     "record fields in order (high,low,ts,name is the classic four)"},
    {"seed", FIN_OPT_INT, "42", OFF(seed), 0, 0, NULL, "simulator seed: same seed, same bytes"},
    {"yahoo_url", FIN_OPT_STRING, "https://query1.finance.yahoo.com", OFF(yahoo_url), 0, 0, NULL,
     "base URL of the Yahoo chart API"},
    {"timeout", FIN_OPT_DURATION, "10s", OFF(timeout_ms), 100, 600000, NULL, "per HTTP request"},
    {"retries", FIN_OPT_INT, "5", OFF(retries), 0, 100, NULL, "retries of timeouts, 429 and 5xx"},
    {"backoff", FIN_OPT_DURATION, "500ms", OFF(backoff_ms), 1, 600000, NULL, "first retry delay (doubles, with jitter)"},
    {"backoff_max", FIN_OPT_DURATION, "20s", OFF(backoff_max_ms), 1, 3600000, NULL, "longest retry delay"},
    {"csv_max_line", FIN_OPT_SIZE, "1MiB", OFF(csv_max_line), 1024, 1LL << 30, NULL,
     "csv: a longer record is refused and skipped (memory stays bounded by it)"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

int fin_interval_seconds(const char *interval, int *seconds)
{
    static const struct { const char *name; int s; } known[] = {
        {"1m", 60}, {"5m", 300}, {"15m", 900}, {"1h", 3600}, {"60m", 3600}, {"1d", 86400},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (interval && strcmp(interval, known[i].name) == 0) {
            *seconds = known[i].s;
            return 0;
        }
    return fin_err_set(FIN_EINVAL, "interval '%s': expected 1m, 5m, 15m, 1h or 1d",
                       interval ? interval : "");
}

const struct fin_source_ops *fin_source_lookup(const char *spec, const char **arg)
{
    static const struct fin_source_ops *const all[] = {
        &fin_source_sim, &fin_source_yahoo, &fin_source_csv, &fin_source_replay,
    };
    const char *colon = strchr(spec, ':');
    size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strlen(all[i]->name) == n && strncmp(all[i]->name, spec, n) == 0) {
            *arg = colon ? colon + 1 : "";
            return all[i];
        }
    fin_err_set(FIN_EINVAL, "source '%s': expected sim, yahoo, csv:PATH or replay:PATH", spec);
    return NULL;
}

static bool is_set(const char *s) { return s && *s; }

int fin_collect_window(const struct fin_collect_settings *set, const struct fin_clock *clock,
                       bool live, struct fin_window *w)
{
    int rc = fin_interval_seconds(set->interval, &w->interval_s);
    if (rc)
        return rc;
    if (is_set(set->start) || is_set(set->end)) {
        if (!is_set(set->start) || !is_set(set->end))
            return fin_err_set(FIN_EINVAL, "give both --start and --end (or --date)");
        if ((rc = fin_parse_time(set->start, FIN_TZ_NEW_YORK, &w->start)) ||
            (rc = fin_parse_time(set->end, FIN_TZ_NEW_YORK, &w->end)))
            return rc;
        if (w->end <= w->start)
            return fin_err_set(FIN_EINVAL, "--end (%s) must be after --start (%s)", set->end, set->start);
        return 0;
    }
    int64_t now = fin_now_ns(clock ? clock : fin_clock_real()) / FIN_NS_PER_SEC;
    int64_t day;
    if (is_set(set->date)) {
        if ((rc = fin_parse_date(set->date, &day)))
            return rc;
    } else if (!live && strcmp(set->source, "sim") == 0) {
        fin_parse_date(FIN_SIM_DEFAULT_DATE, &day);
    } else {
        int64_t local = now + fin_ny_utc_offset(now);
        day = local / 86400;
    }
    int y;
    unsigned m, d;
    fin_civil_from_days(day, &y, &m, &d);
    w->start = fin_ny_local_to_utc(y, m, d, 0, 0, 0);
    fin_civil_from_days(day + 1, &y, &m, &d);
    w->end = fin_ny_local_to_utc(y, m, d, 0, 0, 0);
    if (live) {
        /* Only bars that have ended: a bar starting at t is complete at t + interval. */
        int64_t last_start = now - w->interval_s;
        if (last_start + 1 < w->end)
            w->end = last_start + 1 > w->start ? last_start + 1 : w->start;
    }
    return 0;
}

/* A ticker as exchanges and finance sites spell them (BRK.B, ^GSPC, EURUSD=X). */
static int check_ticker(const char *tok)
{
    size_t len = strlen(tok);
    if (len > FIN_TICKER_MAX)
        return fin_err_set(FIN_EINVAL, "ticker '%s' is longer than %d characters", tok, FIN_TICKER_MAX);
    for (size_t i = 0; i < len; i++) {
        char c = tok[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '^' || c == '=' || c == '_'))
            return fin_err_set(FIN_EINVAL, "ticker '%s' has '%c'; allowed: letters, digits, . - ^ = _",
                               tok, c);
    }
    return 0;
}

int fin_collect_tickers(const struct fin_collect_settings *set, char ***tickers, char **storage,
                        size_t *n)
{
    const char *spec = is_set(set->tickers) ? set->tickers : FIN_CLASSIC_TICKERS;
    char *copy = strdup(spec);
    char **list = calloc(strlen(spec) / 2 + 2, sizeof *list);
    int rc = 0;
    size_t k = 0;
    if (!copy || !list) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    for (char *save = NULL, *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        if ((rc = check_ticker(tok)))
            goto fail;
        bool dup = false;
        for (size_t i = 0; i < k; i++)
            dup |= strcasecmp(list[i], tok) == 0;   /* fb and FB are one ticker */
        if (!dup)
            list[k++] = tok;
    }
    if (k == 0) {
        rc = fin_err_set(FIN_EINVAL, "no tickers given");
        goto fail;
    }
    *tickers = list;
    *storage = copy;
    *n = k;
    return 0;
fail:
    free(copy);
    free(list);
    return rc;
}

int fin_collect_once(const struct fin_collect_settings *set, const struct fin_window *w,
                     struct fin_emitter *em)
{
    const char *arg;
    const struct fin_source_ops *ops = fin_source_lookup(set->source, &arg);
    if (!ops)
        return FIN_EINVAL;
    char **tickers = NULL, *storage = NULL;
    size_t n = 0;
    int rc = fin_collect_tickers(set, &tickers, &storage, &n);
    if (rc)
        return rc;
    struct fin_source *src = NULL;
    rc = ops->create(&src, arg, set);
    if (!rc)
        rc = ops->collect(src, (const char *const *)tickers, n, w, em);
    if (src)
        ops->destroy(src);
    if (!rc && em->sink.flush)
        rc = em->sink.flush(em->sink.ctx);
    free(tickers);
    free(storage);
    return rc;
}
