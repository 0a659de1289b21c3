/* test_sources.c - unit tests of the yahoo, csv and replay sources.
 *
 * Yahoo runs through a scripted HTTP transport and a fake clock, so retries and backoff
 * are checked without a network or a single real sleep. The file sources read small
 * files written to a temporary folder; the replay of the real Firehose objects runs when
 * the shared data folder is present. Every test looks at the records that came out. */
#include "fin_test.h"

#include <zlib.h>

#include "collector/source_util.h"
#include "finstream/buf.h"
#include "finstream/clock.h"
#include "finstream/collector.h"
#include "finstream/error.h"
#include "finstream/http.h"
#include "finstream/timeutil.h"

/* ---- a sink that keeps records in memory ---- */

struct mem_sink {
    struct fin_buf out;    /* records, one per line */
    struct fin_buf keys;   /* keys, one per line */
    size_t n;
};

static int mem_put(void *ctx, const char *key, size_t key_len, const char *rec, size_t len)
{
    struct mem_sink *m = ctx;
    m->n++;
    if (fin_buf_append(&m->out, rec, len) || fin_buf_append(&m->out, "\n", 1) ||
        fin_buf_append(&m->keys, key, key_len) || fin_buf_append(&m->keys, "\n", 1))
        return FIN_ENOMEM;
    return 0;
}

struct harness {
    struct mem_sink mem;
    struct fin_emitter em;
    struct fin_collect_settings set;
};

static void harness_init(struct harness *h)
{
    memset(h, 0, sizeof *h);
    fin_buf_init(&h->mem.out);
    fin_buf_init(&h->mem.keys);
    struct fin_record_format fmt;
    assert_int_equal(fin_record_format_parse(&fmt, NULL), 0);
    struct fin_record_sink sink = {mem_put, NULL, &h->mem};
    assert_int_equal(fin_emitter_init(&h->em, &fmt, &sink, false), 0);
    assert_int_equal(fin_opts_defaults(fin_collect_opts, &h->set), 0);
}

static void harness_fini(struct harness *h)
{
    fin_emitter_fini(&h->em);
    fin_opts_fini(fin_collect_opts, &h->set);
    fin_buf_fini(&h->mem.out);
    fin_buf_fini(&h->mem.keys);
}

static const char *out_text(struct harness *h) { return fin_buf_cstr(&h->mem.out); }

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static struct fin_window day_window(const char *date)
{
    int64_t days;
    assert_int_equal(fin_parse_date(date, &days), 0);
    int y;
    unsigned m, d;
    fin_civil_from_days(days, &y, &m, &d);
    struct fin_window w = {fin_ny_local_to_utc(y, m, d, 0, 0, 0), 0, 60};
    fin_civil_from_days(days + 1, &y, &m, &d);
    w.end = fin_ny_local_to_utc(y, m, d, 0, 0, 0);
    return w;
}

/* ---- yahoo: parsing ---- */

/* 2020-05-14 09:30 and 09:31 New York (-04:00), then a bar outside the window. */
static const char CHART_MAY[] =
    "{\"chart\":{\"result\":[{\"meta\":{\"currency\":\"USD\",\"symbol\":\"FB\","
    "\"gmtoffset\":-14400,\"timezone\":\"EDT\",\"exchangeTimezoneName\":\"America/New_York\"},"
    "\"timestamp\":[1589463000,1589463060,1589463120,1589463180,1589600000],"
    "\"indicators\":{\"quote\":[{"
    "\"open\":[202.5,202.8300018310547,null,141,1],"
    "\"high\":[202.83,203.0,null,142.5,1],"
    "\"low\":[201.59,202.1,null,140,1],"
    "\"close\":[202.1,202.9,null,1.5e2,1],"
    "\"volume\":[1183420,500,null,null,1]}]}}],\"error\":null}}";

static void test_yahoo_parse_bars(void **state)
{
    (void)state;
    struct harness h;
    harness_init(&h);
    struct fin_window w = day_window("2020-05-14");
    assert_int_equal(fin_yahoo_parse("FB", "http://x/FB", CHART_MAY, strlen(CHART_MAY), &w, &h.em), 0);
    assert_string_equal(out_text(&h),
        "{\"name\":\"FB\",\"ts\":\"2020-05-14 09:30:00-04:00\",\"open\":202.5,\"high\":202.83,"
        "\"low\":201.59,\"close\":202.1,\"volume\":1183420}\n"
        "{\"name\":\"FB\",\"ts\":\"2020-05-14 09:31:00-04:00\",\"open\":202.8300018310547,"
        "\"high\":203.0,\"low\":202.1,\"close\":202.9,\"volume\":500}\n"
        "{\"name\":\"FB\",\"ts\":\"2020-05-14 09:33:00-04:00\",\"open\":141,\"high\":142.5,"
        "\"low\":140,\"close\":1.5e2}\n");
    assert_int_equal(h.em.stats.records, 3);
    assert_int_equal(h.em.stats.skipped, 1);   /* the all-null bar */
    assert_int_equal(h.em.stats.bad, 0);
    harness_fini(&h);
}

static void test_yahoo_parse_december_offset(void **state)
{
    (void)state;
    /* 2020-12-14 09:30 New York is 14:30 UTC: -05:00. */
    static const char body[] =
        "{\"chart\":{\"result\":[{\"meta\":{\"symbol\":\"NFLX\",\"gmtoffset\":-14400,"
        "\"exchangeTimezoneName\":\"America/New_York\"},\"timestamp\":[1607956200],"
        "\"indicators\":{\"quote\":[{\"open\":[1],\"high\":[2],\"low\":[0.5],\"close\":[1.5],"
        "\"volume\":[7]}]}}],\"error\":null}}";
    struct harness h;
    harness_init(&h);
    struct fin_window w = day_window("2020-12-14");
    assert_int_equal(fin_yahoo_parse("NFLX", "u", body, strlen(body), &w, &h.em), 0);
    assert_non_null(strstr(out_text(&h), "\"ts\":\"2020-12-14 09:30:00-05:00\""));
    harness_fini(&h);
}

static void test_yahoo_parse_other_zone(void **state)
{
    (void)state;
    /* London: +01:00 in May, +00:00 in December, read from the system's zoneinfo. */
    assert_int_equal(fin_zone_utc_offset("Europe/London", 1589445000, -1), 3600);
    assert_int_equal(fin_zone_utc_offset("Europe/London", 1607938200, -1), 0);
    assert_int_equal(fin_zone_utc_offset("Asia/Tokyo", 1589445000, -1), 9 * 3600);
    assert_int_equal(fin_zone_utc_offset("America/New_York", 1607938200, 0), -5 * 3600);
    /* Unknown zones and path tricks fall back to the answer's gmtoffset. */
    assert_int_equal(fin_zone_utc_offset("Mars/Olympus_Mons", 1589445000, 1234), 1234);
    assert_int_equal(fin_zone_utc_offset("../../etc/passwd", 1589445000, 77), 77);

    static const char body[] =
        "{\"chart\":{\"result\":[{\"meta\":{\"symbol\":\"VOD.L\",\"gmtoffset\":0,"
        "\"exchangeTimezoneName\":\"Europe/London\"},\"timestamp\":[1589445000],"
        "\"indicators\":{\"quote\":[{\"open\":[70.5],\"high\":[71],\"low\":[70],\"close\":[70.7],"
        "\"volume\":[100]}]}}],\"error\":null}}";
    struct harness h;
    harness_init(&h);
    struct fin_window w = {1589400000, 1589500000, 60};
    assert_int_equal(fin_yahoo_parse("VOD.L", "u", body, strlen(body), &w, &h.em), 0);
    assert_non_null(strstr(out_text(&h), "\"ts\":\"2020-05-14 09:30:00+01:00\""));
    harness_fini(&h);
}

/* Writes a slim TZif file: no transitions, one type, and the footer rule. */
static void write_slim_tzif(const char *dir, const char *name, int32_t std_off, const char *footer)
{
    unsigned char head[44] = {'T', 'Z', 'i', 'f', '2'};
    /* counts: isutcnt, isstdcnt, leapcnt, timecnt, typecnt = 1, charcnt = 4 */
    head[20 + 4 * 4 + 3] = 1;
    head[20 + 5 * 4 + 3] = 4;
    unsigned char type[6] = {(unsigned char)((uint32_t)std_off >> 24), (unsigned char)((uint32_t)std_off >> 16),
                             (unsigned char)((uint32_t)std_off >> 8), (unsigned char)std_off, 0, 0};
    char *path = fin_path_join(dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int block = 0; block < 2; block++) {
        fwrite(head, 1, sizeof head, f);
        fwrite(type, 1, sizeof type, f);
        fwrite("XXX", 1, 4, f);
    }
    fprintf(f, "\n%s\n", footer);
    fclose(f);
    free(path);
}

static void test_zone_footer_rules(void **state)
{
    (void)state;
    /* Slim zoneinfo files leave the present to the footer rule; it must agree with the full
     * transition tables of the system (and New York with finstream's own rules) for every
     * six hours of 2021, and at the changes. */
    char *dir = fin_test_mkdtemp("tz");
    write_slim_tzif(dir, "London", 0, "GMT0BST,M3.5.0/1,M10.5.0");
    write_slim_tzif(dir, "Sydney", 36000, "AEST-10AEDT,M10.1.0,M4.1.0/3");
    write_slim_tzif(dir, "New_York", -18000, "EST5EDT,M3.2.0,M11.1.0");
    write_slim_tzif(dir, "Kolkata", 19800, "IST-5:30");
    write_slim_tzif(dir, "Broken", 3600, "CET-1CEST,M3.5.0,garbage");
    const char *pairs[][2] = {{"London", "Europe/London"}, {"Sydney", "Australia/Sydney"},
                              {"New_York", "America/New_York"}, {"Kolkata", "Asia/Kolkata"}};
    for (size_t i = 0; i < 4; i++) {
        for (int64_t t = 1609459200; t < 1640995200; t += 6 * 3600) {
            unsetenv("TZDIR");
            int32_t want = fin_zone_utc_offset(pairs[i][1], t, -1);
            setenv("TZDIR", dir, 1);
            int32_t got = fin_zone_utc_offset(pairs[i][0], t, -2);
            if (got != want)
                fail_msg("%s at %lld: footer rule gives %d, zoneinfo %d", pairs[i][0], (long long)t, got, want);
        }
    }
    setenv("TZDIR", dir, 1);
    /* London: 2021-03-28 01:00 UTC and 2021-10-31 01:00 UTC. */
    assert_int_equal(fin_zone_utc_offset("London", 1616893199, -1), 0);
    assert_int_equal(fin_zone_utc_offset("London", 1616893200, -1), 3600);
    assert_int_equal(fin_zone_utc_offset("London", 1635641999, -1), 3600);
    assert_int_equal(fin_zone_utc_offset("London", 1635642000, -1), 0);
    /* Sydney: daylight saving ends 2021-04-04 03:00 AEDT = 2021-04-03 16:00 UTC. */
    assert_int_equal(fin_zone_utc_offset("Sydney", 1617465599, -1), 39600);
    assert_int_equal(fin_zone_utc_offset("Sydney", 1617465600, -1), 36000);
    /* A rule that cannot be read falls back to what the answer said. */
    assert_int_equal(fin_zone_utc_offset("Broken", 1625097600, 4242), 4242);
    unsetenv("TZDIR");
    fin_test_rmdir(dir);
}

static void expect_parse_error(const char *body, int code, const char *text)
{
    struct harness h;
    harness_init(&h);
    struct fin_window w = day_window("2020-05-14");
    fin_err_clear();
    assert_int_equal(fin_yahoo_parse("ZZZ", "http://h/ZZZ", body, strlen(body), &w, &h.em), code);
    const char *msg = fin_err_msg();
    if (!strstr(msg, text) || !strstr(msg, "ZZZ") || !strstr(msg, "http://h/ZZZ"))
        fail_msg("message [%s] lacks ticker, URL or [%s]", msg, text);
    assert_int_equal(h.em.stats.records, 0);
    harness_fini(&h);
}

static void test_yahoo_parse_errors(void **state)
{
    (void)state;
    expect_parse_error("", FIN_EPARSE, "empty answer");
    expect_parse_error(" \n", FIN_EPARSE, "empty answer");
    expect_parse_error("<!DOCTYPE html><html><body>Oops</body></html>", FIN_EPARSE, "HTML page");
    char trunc[200];
    snprintf(trunc, sizeof trunc, "%.*s", 120, CHART_MAY);
    expect_parse_error(trunc, FIN_EPARSE, "not valid JSON");
    expect_parse_error("{\"chart\":{\"result\":null,\"error\":{\"code\":\"Not Found\","
                       "\"description\":\"No data found, symbol may be delisted\"}}}",
                       FIN_ENOENT, "Not Found: No data found, symbol may be delisted");
    expect_parse_error("{\"chart\":{\"result\":[]}}", FIN_EPARSE, "no chart.result[0]");
    expect_parse_error("{\"chart\":{\"result\":[{\"timestamp\":[1589463000,1589463060],"
                       "\"indicators\":{\"quote\":[{\"open\":[1],\"high\":[1,2],\"low\":[1,2],"
                       "\"close\":[1,2]}]}}]}}",
                       FIN_EPARSE, "one value per timestamp");
}

static void test_yahoo_parse_empty_day(void **state)
{
    (void)state;
    /* A holiday or weekend: no timestamp array and an empty quote. Not an error. */
    static const char body[] =
        "{\"chart\":{\"result\":[{\"meta\":{\"symbol\":\"FB\",\"exchangeTimezoneName\":"
        "\"America/New_York\"},\"indicators\":{\"quote\":[{}]}}],\"error\":null}}";
    struct harness h;
    harness_init(&h);
    struct fin_window w = day_window("2020-05-16");
    assert_int_equal(fin_yahoo_parse("FB", "u", body, strlen(body), &w, &h.em), 0);
    assert_int_equal(h.em.stats.records, 0);
    harness_fini(&h);
}

static void test_yahoo_bad_value(void **state)
{
    (void)state;
    static const char body[] =
        "{\"chart\":{\"result\":[{\"meta\":{\"symbol\":\"FB\",\"exchangeTimezoneName\":"
        "\"America/New_York\"},\"timestamp\":[1589463000,1589463060],"
        "\"indicators\":{\"quote\":[{\"open\":[\"x\",1],\"high\":[1,1],\"low\":[1,1],"
        "\"close\":[1,1],\"volume\":[1,-5]}]}}],\"error\":null}}";
    struct harness h;
    harness_init(&h);
    struct fin_window w = day_window("2020-05-14");
    assert_int_equal(fin_yahoo_parse("FB", "u", body, strlen(body), &w, &h.em), 0);
    assert_int_equal(h.em.stats.records, 0);
    assert_int_equal(h.em.stats.bad, 2);
    harness_fini(&h);
}

/* ---- yahoo: retries through the transport seam ---- */

struct step {
    int rc;               /* a transport failure, or 0 */
    long status;
    const char *body;
    const char *retry_after;
};

struct script_http {
    struct fin_http_transport base;
    const struct step *steps;
    size_t n, next;
    int calls;
    char last_url[512];
};

static int script_send(struct fin_http_transport *t, const struct fin_http_request *req,
                       struct fin_http_response *resp)
{
    struct script_http *sh = (struct script_http *)t;
    fin_http_response_reset(resp);
    const struct step *st = &sh->steps[sh->next < sh->n ? sh->next : sh->n - 1];
    sh->next++;
    sh->calls++;
    snprintf(sh->last_url, sizeof sh->last_url, "%s", req->url);
    /* The source asks for a plain GET that follows redirects and takes gzip. */
    assert_string_equal(req->method, "GET");
    assert_int_equal(req->body_len, 0);
    assert_int_equal(req->flags & (FIN_HTTP_FOLLOW | FIN_HTTP_DECODE), FIN_HTTP_FOLLOW | FIN_HTTP_DECODE);
    if (st->rc)
        return fin_err_set(st->rc, "%s %s: scripted failure", req->method, req->url);
    resp->status = st->status;
    if (st->body)
        assert_int_equal(fin_buf_puts(&resp->body, st->body), 0);
    if (st->retry_after)
        assert_int_equal(fin_http_response_add_header(resp, "Retry-After", 11, st->retry_after,
                                                      strlen(st->retry_after)), 0);
    return 0;
}

static void script_destroy(struct fin_http_transport *t) { (void)t; }

struct yahoo_run {
    struct harness h;
    struct script_http http;
    struct fin_fake_clock clock;
    struct fin_source *src;
};

/* Collects tickers over w (NULL: 2020-05-14) with the scripted answers. */
static void yahoo_run_window(struct yahoo_run *y, const struct step *steps, size_t n, const char *tickers,
                             int64_t retries, int64_t backoff_ms, int64_t backoff_max_ms,
                             const struct fin_window *win)
{
    memset(y, 0, sizeof *y);
    harness_init(&y->h);
    y->http.base.send = script_send;
    y->http.base.destroy = script_destroy;
    y->http.steps = steps;
    y->http.n = n;
    fin_fake_clock_init(&y->clock, 1700000000 * FIN_NS_PER_SEC);
    y->h.set.retries = retries;
    y->h.set.backoff_ms = backoff_ms;
    y->h.set.backoff_max_ms = backoff_max_ms;
    assert_int_equal(fin_opts_set(fin_collect_opts, &y->h.set, "yahoo_url", "http://127.0.0.1:9/", "test"), 0);
    assert_int_equal(fin_source_yahoo.create(&y->src, "", &y->h.set), 0);
    fin_yahoo_use_seams(y->src, &y->http.base, &y->clock.clock, 7);
    char *copy = strdup(tickers);
    const char *list[16];
    size_t k = 0;
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t && k < 16; t = strtok_r(NULL, ",", &save))
        list[k++] = t;
    struct fin_window w = win ? *win : day_window("2020-05-14");
    assert_int_equal(fin_source_yahoo.collect(y->src, list, k, &w, &y->h.em), 0);
    free(copy);
}

static void yahoo_run(struct yahoo_run *y, const struct step *steps, size_t n, const char *tickers,
                      int64_t retries, int64_t backoff_ms, int64_t backoff_max_ms)
{
    yahoo_run_window(y, steps, n, tickers, retries, backoff_ms, backoff_max_ms, NULL);
}

static void yahoo_run_fini(struct yahoo_run *y)
{
    fin_source_yahoo.destroy(y->src);
    harness_fini(&y->h);
}

static int64_t slept_ms(struct yahoo_run *y)
{
    return (y->clock.now - 1700000000 * FIN_NS_PER_SEC) / FIN_NS_PER_MS;
}

static void test_yahoo_request_url(void **state)
{
    (void)state;
    const struct step ok[] = {{0, 200, CHART_MAY, NULL}};
    struct yahoo_run y;
    yahoo_run(&y, ok, 1, "^GSPC", 0, 100, 1000);
    struct fin_window w = day_window("2020-05-14");
    char want[256];
    snprintf(want, sizeof want, "http://127.0.0.1:9/v8/finance/chart/%%5EGSPC?period1=%lld&period2=%lld"
             "&interval=1m&includePrePost=false", (long long)w.start, (long long)w.end);
    assert_string_equal(y.http.last_url, want);
    assert_int_equal(y.h.em.stats.tickers_ok, 1);
    yahoo_run_fini(&y);
}

static void test_yahoo_long_window_in_pieces(void **state)
{
    (void)state;
    /* Ten days of one-minute bars: Yahoo allows 8 per request, so a week, then three days. */
    const struct step ok[] = {{0, 200, CHART_MAY, NULL}};
    struct fin_window w = day_window("2020-05-11");
    w.end = w.start + 10 * 86400;
    struct yahoo_run y;
    yahoo_run_window(&y, ok, 1, "FB", 0, 100, 1000, &w);
    assert_int_equal(y.http.calls, 2);
    char want[64];
    snprintf(want, sizeof want, "period1=%lld&period2=%lld", (long long)(w.start + 7 * 86400),
             (long long)w.end);
    assert_non_null(strstr(y.http.last_url, want));
    assert_int_equal(y.h.em.stats.records, 4);   /* each piece keeps only the bars inside it */
    yahoo_run_fini(&y);
}

static void test_yahoo_429_then_success(void **state)
{
    (void)state;
    const struct step steps[] = {{0, 429, "Too Many Requests", "2"}, {0, 200, CHART_MAY, NULL}};
    struct yahoo_run y;
    yahoo_run(&y, steps, 2, "FB", 3, 100, 5000);
    assert_int_equal(y.http.calls, 2);
    assert_int_equal(slept_ms(&y), 2000);   /* Retry-After: 2, within the cap */
    assert_int_equal(y.h.em.stats.records, 3);
    assert_int_equal(y.h.em.stats.tickers_ok, 1);
    assert_int_equal(y.h.em.stats.tickers_failed, 0);
    yahoo_run_fini(&y);
}

static void test_yahoo_retry_after_capped(void **state)
{
    (void)state;
    const struct step steps[] = {{0, 503, "", "3600"}, {0, 200, CHART_MAY, NULL}};
    struct yahoo_run y;
    yahoo_run(&y, steps, 2, "FB", 3, 100, 1500);
    assert_int_equal(slept_ms(&y), 1500);
    assert_int_equal(y.h.em.stats.tickers_ok, 1);
    yahoo_run_fini(&y);
}

static void test_yahoo_endless_500(void **state)
{
    (void)state;
    /* DOWN fails for good; FB, after it, still completes. */
    const struct step steps[] = {{0, 500, "{\"error\":1}", NULL}, {0, 500, "", NULL}, {0, 500, "", NULL},
                                 {0, 500, "", NULL}, {0, 500, "", NULL}, {0, 200, CHART_MAY, NULL}};
    struct yahoo_run y;
    yahoo_run(&y, steps, 6, "DOWN,FB", 4, 100, 1000);
    assert_int_equal(y.http.calls, 6);   /* 1 + 4 retries, then FB once */
    assert_int_equal(y.h.em.stats.tickers_failed, 1);
    assert_int_equal(y.h.em.stats.tickers_ok, 1);
    assert_int_equal(y.h.em.stats.records, 3);
    /* Full jitter under ceilings 100, 200, 400, 800: never more than their sum. */
    assert_true(slept_ms(&y) <= 1500);
    yahoo_run_fini(&y);
}

static void test_yahoo_timeouts_retried(void **state)
{
    (void)state;
    const struct step steps[] = {{FIN_ETIMEOUT, 0, NULL, NULL}, {FIN_ENET, 0, NULL, NULL},
                                 {0, 200, CHART_MAY, NULL}};
    struct yahoo_run y;
    yahoo_run(&y, steps, 3, "FB", 2, 50, 1000);
    assert_int_equal(y.http.calls, 3);
    assert_int_equal(y.h.em.stats.tickers_ok, 1);
    assert_int_equal(y.h.em.stats.records, 3);
    yahoo_run_fini(&y);
}

static void test_yahoo_4xx_not_retried(void **state)
{
    (void)state;
    const struct step steps[] = {
        {0, 404, "{\"chart\":{\"result\":null,\"error\":{\"code\":\"Not Found\","
                 "\"description\":\"No data found, symbol may be delisted\"}}}", NULL},
        {0, 200, "<html>nope</html>", NULL},
        {0, 200, "", NULL},
        {0, 200, CHART_MAY, NULL}};
    struct yahoo_run y;
    yahoo_run(&y, steps, 4, "NOPE,HTML,EMPTY,FB", 5, 100, 1000);
    assert_int_equal(y.http.calls, 4);   /* none of them retried */
    assert_int_equal(slept_ms(&y), 0);
    assert_int_equal(y.h.em.stats.tickers_failed, 3);
    assert_int_equal(y.h.em.stats.tickers_ok, 1);
    assert_int_equal(y.h.em.stats.records, 3);
    yahoo_run_fini(&y);
}

static void test_retry_after_values(void **state)
{
    (void)state;
    assert_int_equal(fin_http_retry_after_ms("120", 0), 120000);
    assert_int_equal(fin_http_retry_after_ms(" 0 ", 0), 0);
    assert_int_equal(fin_http_retry_after_ms("soon", 0), -1);
    assert_int_equal(fin_http_retry_after_ms("", 0), -1);
    /* Wed, 21 Oct 2015 07:28:00 GMT is 1445412480. */
    assert_int_equal(fin_http_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470), 10000);
    assert_int_equal(fin_http_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490), 0);
}

/* ---- csv ---- */

static char *write_file(const char *dir, const char *name, const char *text, bool gz)
{
    char *path = fin_path_join(dir, name);
    assert_non_null(path);
    if (gz) {
        gzFile f = gzopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(gzwrite(f, text, (unsigned)strlen(text)), (int)strlen(text));
        gzclose(f);
    } else {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
    }
    return path;
}

static void run_source(struct harness *h, const struct fin_source_ops *ops, const char *arg,
                       const char *tickers, const struct fin_window *w)
{
    struct fin_source *src = NULL;
    assert_int_equal(ops->create(&src, arg, &h->set), 0);
    const char *list[8];
    size_t n = 0;
    char *copy = strdup(tickers);
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t && n < 8; t = strtok_r(NULL, ",", &save))
        list[n++] = t;
    assert_int_equal(ops->collect(src, list, n, w, &h->em), 0);
    ops->destroy(src);
    free(copy);
}

static void test_csv_daily_export(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("csv");
    free(write_file(dir, "aapl.csv",
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2020-05-14,304.510010,309.790009,301.529999,309.540009,307.0,39732300\n"
        "2020-05-15,null,null,null,null,null,null\n"
        "2020-12-14,122.599998,123.349998,121.540001,121.779999,120.9,79184500\n"
        "2020-12-15,1,2,3\n"
        "2020-12-16,x,2,1,1,1,1\n"
        "2020-12-17,1,1,2,1,1,1\n"
        "2020-12-32,1,2,1,1,1,1\n"
        "2020-12-18,1,2,1,1,1,1.5\n", false));
    struct harness h;
    harness_init(&h);
    struct fin_window w = day_window("2020-05-14");
    run_source(&h, &fin_source_csv, dir, FIN_CLASSIC_TICKERS, &w);   /* no window given: all rows */
    assert_string_equal(out_text(&h),
        "{\"name\":\"AAPL\",\"ts\":\"2020-05-14 09:30:00-04:00\",\"open\":304.510010,\"high\":309.790009,"
        "\"low\":301.529999,\"close\":309.540009,\"volume\":39732300}\n"
        "{\"name\":\"AAPL\",\"ts\":\"2020-12-14 09:30:00-05:00\",\"open\":122.599998,\"high\":123.349998,"
        "\"low\":121.540001,\"close\":121.779999,\"volume\":79184500}\n");
    assert_int_equal(h.em.stats.skipped, 1);
    assert_int_equal(h.em.stats.bad, 5);   /* cell count, number, high < low, date, volume */
    assert_int_equal(h.em.stats.tickers_ok, 1);
    harness_fini(&h);
    fin_test_rmdir(dir);
}

static void test_csv_intraday_columns_and_filters(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("csv");
    /* Columns in another order and case, a symbol column, CRLF, quotes, gzip, a BOM. */
    free(write_file(dir, "mixed.csv.gz",
        "\xEF\xBB\xBF" "SYMBOL,close,HIGH,low,Open,volume,Datetime\r\n"
        "MSFT,180.5,181,179.2,180,1000,2020-05-14 09:30:00-04:00\r\n"
        "\"SNAP\",\"15.25\",16,15,15.5,\"300\",2020-05-14T13:31:00Z\r\n"
        "MSFT,180.5,181,179.2,180,,2020-05-14 09:31\r\n"
        "MSFT,1,1,1,1,1,2020-05-15 09:30\r\n", true));
    free(write_file(dir, "notes.txt", "not a csv\n", false));
    struct harness h;
    harness_init(&h);
    assert_int_equal(fin_opts_set(fin_collect_opts, &h.set, "date", "2020-05-14", "test"), 0);
    assert_int_equal(fin_opts_set(fin_collect_opts, &h.set, "tickers", "msft,snap", "test"), 0);
    struct fin_window w = day_window("2020-05-14");
    run_source(&h, &fin_source_csv, dir, "msft,snap", &w);
    assert_string_equal(out_text(&h),
        "{\"name\":\"MSFT\",\"ts\":\"2020-05-14 09:30:00-04:00\",\"open\":180,\"high\":181,\"low\":179.2,"
        "\"close\":180.5,\"volume\":1000}\n"
        "{\"name\":\"SNAP\",\"ts\":\"2020-05-14 09:31:00-04:00\",\"open\":15.5,\"high\":16,\"low\":15,"
        "\"close\":15.25,\"volume\":300}\n"
        "{\"name\":\"MSFT\",\"ts\":\"2020-05-14 09:31:00-04:00\",\"open\":180,\"high\":181,\"low\":179.2,"
        "\"close\":180.5}\n");
    assert_int_equal(h.em.stats.bad, 0);
    harness_fini(&h);

    /* Only MSFT when it alone is asked for. */
    harness_init(&h);
    assert_int_equal(fin_opts_set(fin_collect_opts, &h.set, "tickers", "MSFT", "test"), 0);
    run_source(&h, &fin_source_csv, dir, "MSFT", &w);
    assert_int_equal(h.em.stats.records, 3);   /* no window given: the 15th too */
    assert_int_equal(count_of(out_text(&h), "\"MSFT\""), 3);
    harness_fini(&h);
    fin_test_rmdir(dir);
}

static void test_csv_cells_and_times(void **state)
{
    (void)state;
    /* Quoted cells with commas, quotes and a line break; Unix seconds and milliseconds;
     * an offset kept; partial prices; spellings that are not JSON numbers rewritten. */
    static const char text[] =
        "Ticker,Timestamp,Open,High,Low,Close,Note\n"
        "AAA,1589463000,.5,1.,0.25,+0.5,\"a, \"\"quoted\"\"\nnote\"\n"
        "AAA,1589463060000,,2,1,,plain\n"
        "BBB,2020-05-14 18:30:00+05:30,3,4,2,3.5,\n"
        "CCC,2020-05-14 09:30,null,N/A,NaN,,\n";
    struct harness h;
    harness_init(&h);
    assert_int_equal(fin_csv_parse("t.csv", text, strlen(text), NULL, &h.em), 0);
    assert_string_equal(out_text(&h),
        "{\"name\":\"AAA\",\"ts\":\"2020-05-14 09:30:00-04:00\",\"open\":0.5,\"high\":1.0,\"low\":0.25,"
        "\"close\":0.5}\n"
        "{\"name\":\"AAA\",\"ts\":\"2020-05-14 09:31:00-04:00\",\"high\":2,\"low\":1}\n"
        "{\"name\":\"BBB\",\"ts\":\"2020-05-14 18:30:00+05:30\",\"open\":3,\"high\":4,\"low\":2,"
        "\"close\":3.5}\n");
    assert_int_equal(h.em.stats.skipped, 1);   /* CCC has no price at all */
    assert_int_equal(h.em.stats.bad, 0);
    harness_fini(&h);
}

static void test_csv_bad_files(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("csv");
    free(write_file(dir, "a.csv", "Open,High,Low,Close\n1,2,1,1\n", false));   /* no date column */
    free(write_file(dir, "b.csv", "", false));                                  /* empty */
    free(write_file(dir, "c.csv", "Date,Close\n2020-05-14,\"12.5\n", false));   /* quote never ends */
    free(write_file(dir, "d.csv.gz", "this is not gzip data at all", false));
    char *gz = fin_path_join(dir, "d.csv.gz");
    FILE *f = fopen(gz, "wb");
    fwrite("\x1f\x8b\x08\x00garbage", 1, 12, f);
    fclose(f);
    free(gz);
    struct harness h;
    harness_init(&h);
    struct fin_window w = day_window("2020-05-14");
    run_source(&h, &fin_source_csv, dir, FIN_CLASSIC_TICKERS, &w);
    assert_int_equal(h.em.stats.records, 0);
    assert_int_equal(h.em.stats.tickers_failed, 3);   /* a, b and d */
    assert_int_equal(h.em.stats.bad, 1);              /* c's row */
    harness_fini(&h);

    harness_init(&h);
    struct fin_source *src = NULL;
    char *missing = fin_path_join(dir, "nothing-here");
    assert_int_equal(fin_source_csv.create(&src, missing, &h.set), FIN_ENOENT);
    assert_null(src);
    assert_int_equal(fin_source_csv.create(&src, "", &h.set), FIN_EINVAL);
    free(missing);
    harness_fini(&h);
    fin_test_rmdir(dir);
}

/* ---- replay ---- */

static void test_replay_framings(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("replay");
    char *sub = fin_path_join(dir, "2020/05/14");
    assert_int_equal(fin_mkdir_p(sub, 0755), 0);
    free(write_file(dir, "a-lines", "{\"name\":\"FB\",\"high\":1.50}\r\n\n{\"Name\":\"fb\",\"high\":2}\n", false));
    free(write_file(dir, "b-concat", "{\"name\":\"SNAP\",\"x\":[1,{\"y\":\"}\"}]}{\"name\":\"SNAP\"}", false));
    free(write_file(dir, "c-array.gz", "[{\"NAME\":\"TTD\",\"v\":1e3},\n {\"v\":2}]", true));
    free(write_file(sub, "d-pretty", "{\n  \"name\": \"DDOG\",\n  \"high\": 99.10\n}\n{\n  \"name\": \"DDOG\"\n}\n", false));
    free(write_file(dir, "e-bad", "{\"name\":\"FB\"}\nnot json\n[1,2]\n{\"name\":\"FB\",}\n{\"name\":\"OK\"}\n", false));
    free(write_file(dir, ".hidden", "{\"name\":\"HIDDEN\"}\n", false));
    struct harness h;
    harness_init(&h);
    struct fin_window w = day_window("2020-05-14");
    run_source(&h, &fin_source_replay, dir, FIN_CLASSIC_TICKERS, &w);
    /* Path order: the "2020" folder sorts before the letters. */
    assert_string_equal(out_text(&h),
        "{\"name\": \"DDOG\",\"high\": 99.10}\n"
        "{\"name\": \"DDOG\"}\n"
        "{\"name\":\"FB\",\"high\":1.50}\n"
        "{\"Name\":\"fb\",\"high\":2}\n"
        "{\"name\":\"SNAP\",\"x\":[1,{\"y\":\"}\"}]}\n"
        "{\"name\":\"SNAP\"}\n"
        "{\"NAME\":\"TTD\",\"v\":1e3}\n"
        "{\"v\":2}\n"
        "{\"name\":\"FB\"}\n"
        "{\"name\":\"OK\"}\n");
    /* Keys: the name field in any case, "unknown" without one. */
    assert_string_equal(fin_buf_cstr(&h.mem.keys), "DDOG\nDDOG\nFB\nfb\nSNAP\nSNAP\nTTD\nunknown\nFB\nOK\n");
    assert_int_equal(h.em.stats.bad, 3);   /* "not json", an array, a trailing comma */
    harness_fini(&h);
    free(sub);
    fin_test_rmdir(dir);
}

static void test_replay_filters(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("replay");
    free(write_file(dir, "x",
        "{\"high\":1,\"ts\":\"2020-05-14 09:30:00-04:00\",\"name\":\"FB\"}\n"
        "{\"high\":2,\"ts\":\"2020-05-15 09:30:00-04:00\",\"name\":\"FB\"}\n"
        "{\"High\":3,\"Timestamp\":\"05/14/2020 10:00:00\",\"Name\":\"snap\"}\n"
        "{\"high\":4,\"ts\":\"05-14-2020 15:59:00-0400\",\"name\":\"TTD\"}\n"
        "{\"high\":5,\"name\":\"FB\"}\n", false));
    struct harness h;
    harness_init(&h);
    struct fin_window w = day_window("2020-05-14");
    assert_int_equal(fin_opts_set(fin_collect_opts, &h.set, "date", "2020-05-14", "test"), 0);
    run_source(&h, &fin_source_replay, dir, FIN_CLASSIC_TICKERS, &w);
    assert_int_equal(h.em.stats.records, 3);   /* 1, 3 and 4 */
    assert_int_equal(h.em.stats.skipped, 1);   /* no time to place it */
    assert_null(strstr(out_text(&h), "\"high\":2"));
    harness_fini(&h);

    harness_init(&h);
    assert_int_equal(fin_opts_set(fin_collect_opts, &h.set, "tickers", "SNAP,FB", "test"), 0);
    run_source(&h, &fin_source_replay, dir, "SNAP,FB", &w);
    assert_int_equal(h.em.stats.records, 4);   /* no window given; tickers ignore case */
    assert_null(strstr(out_text(&h), "TTD"));
    harness_fini(&h);
    fin_test_rmdir(dir);
}

static void replay_fixture(const char *folder, uint64_t want)
{
    const char *shared = fin_test_shared_data();
    if (!shared)
        skip();
    char path[1024];
    snprintf(path, sizeof path, "%s/firehose/%s/objects", shared, folder);
    if (!fin_is_dir(path)) {
        fprintf(stderr, "%s is absent: skipping\n", path);
        skip();
    }
    struct harness h;
    harness_init(&h);
    struct fin_window w = day_window("2020-05-14");
    run_source(&h, &fin_source_replay, path, FIN_CLASSIC_TICKERS, &w);
    assert_int_equal(h.em.stats.records, want);
    assert_int_equal(h.em.stats.bad, 0);
    assert_int_equal(h.em.stats.tickers_ok, 10);
    assert_int_equal(count_of(out_text(&h), "\n"), want);
    harness_fini(&h);
}

static void test_replay_firehose_offset(void **state) { (void)state; replay_fixture("2020-05-14-ndjson-offset", 3844); }
static void test_replay_firehose_mixedcase(void **state) { (void)state; replay_fixture("2020-05-14-ndjson-mixedcase", 3844); }
static void test_replay_firehose_concatenated(void **state) { (void)state; replay_fixture("2021-05-11-concatenated", 780); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yahoo_parse_bars),
        cmocka_unit_test(test_yahoo_parse_december_offset),
        cmocka_unit_test(test_yahoo_parse_other_zone),
        cmocka_unit_test(test_zone_footer_rules),
        cmocka_unit_test(test_yahoo_parse_errors),
        cmocka_unit_test(test_yahoo_parse_empty_day),
        cmocka_unit_test(test_yahoo_bad_value),
        cmocka_unit_test(test_yahoo_request_url),
        cmocka_unit_test(test_yahoo_long_window_in_pieces),
        cmocka_unit_test(test_yahoo_429_then_success),
        cmocka_unit_test(test_yahoo_retry_after_capped),
        cmocka_unit_test(test_yahoo_endless_500),
        cmocka_unit_test(test_yahoo_timeouts_retried),
        cmocka_unit_test(test_yahoo_4xx_not_retried),
        cmocka_unit_test(test_retry_after_values),
        cmocka_unit_test(test_csv_daily_export),
        cmocka_unit_test(test_csv_intraday_columns_and_filters),
        cmocka_unit_test(test_csv_cells_and_times),
        cmocka_unit_test(test_csv_bad_files),
        cmocka_unit_test(test_replay_framings),
        cmocka_unit_test(test_replay_filters),
        cmocka_unit_test(test_replay_firehose_offset),
        cmocka_unit_test(test_replay_firehose_mixedcase),
        cmocka_unit_test(test_replay_firehose_concatenated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
