/* test_collector.c - the record writer, time and calendar, the emitter and the simulator. */
#include "fin_test.h"

#include "finstream/buf.h"
#include "finstream/collector.h"
#include "finstream/error.h"
#include "finstream/timeutil.h"

#include <math.h>

/* ---- a sink that keeps records in memory ---- */

struct mem_sink {
    struct fin_buf out;
    size_t n;
};

static int mem_put(void *ctx, const char *key, size_t key_len, const char *rec, size_t len)
{
    struct mem_sink *m = ctx;
    assert_true(key_len > 0);
    assert_non_null(key);
    fin_buf_append(&m->out, rec, len);
    fin_buf_append(&m->out, "\n", 1);
    m->n++;
    return 0;
}

static void fmt_double(double v, const char *want)
{
    char out[40];
    size_t n = fin_format_double(out, v);
    out[n] = '\0';
    assert_string_equal(out, want);
    if (isfinite(v))
        assert_true(strtod(out, NULL) == v);
}

static void test_format_double(void **state)
{
    (void)state;
    fmt_double(202.5, "202.5");
    fmt_double(141.0, "141.0");
    fmt_double(0.01, "0.01");
    fmt_double(-1.25, "-1.25");
    fmt_double(137.97000122070312, "137.97000122070312");
    fmt_double(0.1 + 0.2, "0.30000000000000004");
    fmt_double(1e21, "1e+21");
    fmt_double(123456.789, "123456.789");
    fmt_double(NAN, "null");
    fmt_double(INFINITY, "null");
}

static void test_json_number(void **state)
{
    (void)state;
    assert_true(fin_is_json_number("202.50", 6));
    assert_true(fin_is_json_number("-0.5e-3", 7));
    assert_false(fin_is_json_number(".5", 2));
    assert_false(fin_is_json_number("NaN", 3));
    assert_false(fin_is_json_number("01", 2));
    assert_false(fin_is_json_number("1.", 2));
}

static struct fin_bar classic_bar(void)
{
    struct fin_bar b;
    memset(&b, 0, sizeof b);
    b.name = "FB";
    b.name_len = 2;
    fin_parse_time("2020-05-14 09:30:00-04:00", 0, &b.t);
    b.utc_offset = fin_ny_utc_offset(b.t);
    b.px[0] = 202.5;
    b.px[1] = 202.83;
    b.px[2] = 201.59;
    b.px[3] = 202.1;
    b.volume = 1183420;
    b.present = FIN_BAR_ALL;
    return b;
}

static void test_record_write(void **state)
{
    (void)state;
    struct fin_record_format f;
    assert_int_equal(fin_record_format_parse(&f, NULL), 0);
    struct fin_bar b = classic_bar();
    char out[FIN_RECORD_MAX];
    size_t n = fin_record_write(out, &f, &b);
    out[n] = '\0';
    assert_string_equal(out, "{\"name\":\"FB\",\"ts\":\"2020-05-14 09:30:00-04:00\",\"open\":202.5,"
                             "\"high\":202.83,\"low\":201.59,\"close\":202.1,\"volume\":1183420}");

    assert_int_equal(fin_record_format_parse(&f, "high,low,ts,name"), 0);
    n = fin_record_write(out, &f, &b);
    out[n] = '\0';
    assert_string_equal(out, "{\"high\":202.83,\"low\":201.59,\"ts\":\"2020-05-14 09:30:00-04:00\",\"name\":\"FB\"}");

    /* A source's spelling is kept digit for digit; a missing value is omitted. */
    b.px_text[1] = "202.830";
    b.px_text_len[1] = 7;
    b.px_text[2] = "NaN";        /* not JSON: falls back to the value */
    b.px_text_len[2] = 3;
    b.present &= ~(1u << FIN_FIELD_LOW);
    assert_int_equal(fin_record_format_parse(&f, "name,high,low"), 0);
    n = fin_record_write(out, &f, &b);
    out[n] = '\0';
    assert_string_equal(out, "{\"name\":\"FB\",\"high\":202.830}");

    assert_int_equal(fin_record_format_parse(&f, "name,bogus"), FIN_EINVAL);
    assert_non_null(strstr(fin_err_msg(), "bogus"));
    assert_int_equal(fin_record_format_parse(&f, "name,name"), FIN_EINVAL);
}

static void ts_at(const char *local_ny, const char *want)
{
    int64_t t;
    assert_int_equal(fin_parse_time(local_ny, FIN_TZ_NEW_YORK, &t), 0);
    char out[32];
    fin_format_ts_offset(out, t, fin_ny_utc_offset(t));
    assert_string_equal(out, want);
}

static void test_new_york_offsets(void **state)
{
    (void)state;
    ts_at("2020-05-14 09:30", "2020-05-14 09:30:00-04:00");
    ts_at("2020-12-14 09:30", "2020-12-14 09:30:00-05:00");
    ts_at("2020-03-06 09:30", "2020-03-06 09:30:00-05:00");   /* Friday before DST starts */
    ts_at("2020-03-09 09:30", "2020-03-09 09:30:00-04:00");   /* Monday after */
    ts_at("2020-10-30 15:59", "2020-10-30 15:59:00-04:00");
    ts_at("2020-11-02 09:30", "2020-11-02 09:30:00-05:00");
    ts_at("2006-04-03 09:30", "2006-04-03 09:30:00-04:00");   /* old rules: first Sunday of April */
    ts_at("2006-03-20 09:30", "2006-03-20 09:30:00-05:00");
    int64_t t;
    /* The instant of the switch: 2020-03-08 07:00 UTC. */
    assert_int_equal(fin_parse_time("2020-03-08T06:59:59Z", 0, &t), 0);
    assert_int_equal(fin_ny_utc_offset(t), -18000);
    assert_int_equal(fin_ny_utc_offset(t + 1), -14400);
    assert_int_equal(fin_parse_time("2020-05-14 13:30:00Z", 0, &t), 0);
    assert_int_equal(t, 1589463000);
    assert_int_equal(fin_parse_time("2020-05-14 09:30:00-0400", 0, &t), 0);
    assert_int_equal(t, 1589463000);
    assert_int_equal(fin_parse_time("2020-02-30", 0, &t), FIN_EINVAL);
    assert_int_equal(fin_parse_time("2020-05-14 25:00", 0, &t), FIN_EINVAL);
}

static void test_calendar(void **state)
{
    (void)state;
    assert_true(fin_nyse_is_trading_day(2020, 5, 14));
    assert_false(fin_nyse_is_trading_day(2020, 5, 16));   /* Saturday */
    assert_false(fin_nyse_is_trading_day(2020, 5, 17));   /* Sunday */
    assert_false(fin_nyse_is_trading_day(2020, 4, 10));   /* Good Friday */
    assert_false(fin_nyse_is_trading_day(2020, 5, 25));   /* Memorial Day */
    assert_false(fin_nyse_is_trading_day(2020, 7, 3));    /* Independence Day observed */
    assert_false(fin_nyse_is_trading_day(2020, 11, 26));  /* Thanksgiving */
    assert_false(fin_nyse_is_trading_day(2021, 12, 24));  /* Christmas observed */
    assert_true(fin_nyse_is_trading_day(2021, 12, 31));   /* New Year on Saturday: not moved */
    assert_false(fin_nyse_is_trading_day(2023, 6, 19));   /* Juneteenth */
    assert_false(fin_nyse_is_trading_day(2026, 11, 26));  /* Thanksgiving */
    assert_true(fin_nyse_is_trading_day(2026, 11, 27));
    assert_int_equal(fin_weekday(fin_days_from_civil(2020, 5, 14)), 4);
}

/* Runs the simulator over a window into memory. */
static size_t sim_run(const char *date, const char *interval, const char *tickers, int64_t seed,
                      struct mem_sink *m, struct fin_emitter *em_out)
{
    struct fin_collect_settings set;
    assert_int_equal(fin_opts_defaults(fin_collect_opts, &set), 0);
    fin_opts_set(fin_collect_opts, &set, "date", date, "test");
    fin_opts_set(fin_collect_opts, &set, "interval", interval, "test");
    if (tickers)
        fin_opts_set(fin_collect_opts, &set, "tickers", tickers, "test");
    set.seed = seed;
    struct fin_window w;
    assert_int_equal(fin_collect_window(&set, NULL, false, &w), 0);
    struct fin_record_format f;
    fin_record_format_parse(&f, NULL);
    struct fin_record_sink sink = {mem_put, NULL, m};
    struct fin_emitter em;
    assert_int_equal(fin_emitter_init(&em, &f, &sink, false), 0);
    assert_int_equal(fin_collect_once(&set, &w, &em), 0);
    if (em_out)
        *em_out = em;
    fin_emitter_fini(&em);
    fin_opts_fini(fin_collect_opts, &set);
    return m->n;
}

static void test_sim_classic_day(void **state)
{
    (void)state;
    struct mem_sink m = {0};
    fin_buf_init(&m.out);
    assert_int_equal(sim_run("2020-05-14", "1m", NULL, 42, &m, NULL), 3900);
    /* Every bar: the invariants, the right offset, 09:30 to 15:59 local. */
    const char *p = fin_buf_cstr(&m.out);
    int per_ticker_fb = 0;
    for (size_t i = 0; i < m.n; i++) {
        double o, h, l, c;
        long long v;
        char name[16], ts[32];
        int got = sscanf(p, "{\"name\":\"%15[^\"]\",\"ts\":\"%25[^\"]\",\"open\":%lf,\"high\":%lf,"
                            "\"low\":%lf,\"close\":%lf,\"volume\":%lld}",
                         name, ts, &o, &h, &l, &c, &v);
        assert_int_equal(got, 7);
        assert_true(l <= o && o <= h);
        assert_true(l <= c && c <= h);
        assert_true(l > 0);
        assert_true(v > 0);
        assert_string_equal(ts + 19, "-04:00");
        assert_true(strncmp(ts, "2020-05-14 ", 11) == 0);
        int hh = atoi(ts + 11), mm = atoi(ts + 14);
        assert_true(hh * 60 + mm >= 9 * 60 + 30 && hh * 60 + mm < 16 * 60);
        per_ticker_fb += strcmp(name, "FB") == 0;
        p = strchr(p, '\n') + 1;
    }
    assert_int_equal(per_ticker_fb, 390);
    fin_buf_fini(&m.out);
}

static void test_sim_deterministic(void **state)
{
    (void)state;
    struct mem_sink a = {0}, b = {0}, c = {0}, d = {0};
    sim_run("2020-12-14", "1m", "FB,NFLX", 7, &a, NULL);
    sim_run("2020-12-14", "1m", "FB,NFLX", 7, &b, NULL);
    sim_run("2020-12-14", "1m", "FB,NFLX", 8, &c, NULL);
    sim_run("2020-12-14", "1m", "NFLX", 7, &d, NULL);
    assert_int_equal(a.out.len, b.out.len);
    assert_memory_equal(a.out.data, b.out.data, a.out.len);
    assert_true(a.out.len != c.out.len || memcmp(a.out.data, c.out.data, a.out.len) != 0);
    /* A ticker's bars do not depend on which other tickers were asked for. */
    assert_non_null(strstr(fin_buf_cstr(&a.out), fin_buf_cstr(&d.out)));
    assert_non_null(strstr(fin_buf_cstr(&a.out), "\"ts\":\"2020-12-14 09:30:00-05:00\""));
    fin_buf_fini(&a.out);
    fin_buf_fini(&b.out);
    fin_buf_fini(&c.out);
    fin_buf_fini(&d.out);
}

static void test_sim_intervals_and_calendar(void **state)
{
    (void)state;
    static const struct { const char *interval; size_t per_ticker; } cases[] = {
        {"1m", 390}, {"5m", 78}, {"15m", 26}, {"1h", 7}, {"1d", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct mem_sink m = {0};
        assert_int_equal(sim_run("2020-05-14", cases[i].interval, "FB,SNAP,ZZZZ", 1, &m, NULL),
                         3 * cases[i].per_ticker);
        fin_buf_fini(&m.out);
    }
    struct mem_sink w = {0};
    assert_int_equal(sim_run("2020-05-16", "1m", NULL, 1, &w, NULL), 0);   /* Saturday */
    assert_int_equal(sim_run("2020-11-26", "1m", NULL, 1, &w, NULL), 0);   /* Thanksgiving */
    fin_buf_fini(&w.out);

    /* 5-minute bars aggregate the 1-minute path: same open, high = max of the highs. */
    struct mem_sink one = {0}, five = {0};
    sim_run("2020-05-14", "1m", "FB", 3, &one, NULL);
    sim_run("2020-05-14", "5m", "FB", 3, &five, NULL);
    double max_high = 0, h;
    const char *p = fin_buf_cstr(&one.out);
    for (int i = 0; i < 5; i++) {
        sscanf(strstr(p, "\"high\":") + 7, "%lf", &h);
        max_high = h > max_high ? h : max_high;
        p = strchr(p, '\n') + 1;
    }
    sscanf(strstr(fin_buf_cstr(&five.out), "\"high\":") + 7, "%lf", &h);
    assert_true(h == max_high);
    fin_buf_fini(&one.out);
    fin_buf_fini(&five.out);
}

static void test_emitter_dedupe(void **state)
{
    (void)state;
    struct mem_sink m = {0};
    struct fin_record_format f;
    fin_record_format_parse(&f, NULL);
    struct fin_record_sink sink = {mem_put, NULL, &m};
    struct fin_emitter em;
    assert_int_equal(fin_emitter_init(&em, &f, &sink, true), 0);
    struct fin_bar b = classic_bar();
    assert_int_equal(fin_emit_bar(&em, &b), 0);
    assert_int_equal(fin_emit_bar(&em, &b), 0);       /* the same bar again */
    b.t += 60;
    assert_int_equal(fin_emit_bar(&em, &b), 0);
    b.name = "NFLX";
    b.name_len = 4;
    assert_int_equal(fin_emit_bar(&em, &b), 0);
    b.present = (1u << FIN_FIELD_NAME) | (1u << FIN_FIELD_TS);   /* a null bar */
    b.t += 60;
    assert_int_equal(fin_emit_bar(&em, &b), 0);
    assert_int_equal(em.stats.records, 3);
    assert_int_equal(em.stats.duplicates, 1);
    assert_int_equal(em.stats.skipped, 1);
    fin_emit_bad(&em, "prices.csv:7: bad number 'x'");
    assert_int_equal(em.stats.bad, 1);

    /* The memory survives a restart through its file. */
    char *dir = fin_test_mkdtemp("seen");
    char *path = fin_path_join(dir, "classic.seen");
    assert_int_equal(fin_emitter_save_seen(&em, path), 0);
    fin_emitter_fini(&em);
    assert_int_equal(fin_emitter_init(&em, &f, &sink, true), 0);
    assert_int_equal(fin_emitter_load_seen(&em, path), 0);
    b = classic_bar();
    b.t += 60;
    assert_int_equal(fin_emit_bar(&em, &b), 0);   /* emitted before the restart */
    b.t += 60;
    assert_int_equal(fin_emit_bar(&em, &b), 0);   /* new */
    assert_int_equal(em.stats.records, 1);
    assert_int_equal(em.stats.duplicates, 1);
    fin_write_file_atomic(path, "FB\tnot-a-time\n", 15);
    assert_int_equal(fin_emitter_load_seen(&em, path), FIN_ECORRUPT);
    assert_non_null(strstr(fin_err_msg(), ":1:"));
    free(path);
    fin_test_rmdir(dir);
    fin_emitter_fini(&em);
    fin_buf_fini(&m.out);
}

static void test_tickers_and_window(void **state)
{
    (void)state;
    struct fin_collect_settings set;
    fin_opts_defaults(fin_collect_opts, &set);
    char **t, *storage;
    size_t n;
    assert_int_equal(fin_collect_tickers(&set, &t, &storage, &n), 0);
    assert_int_equal(n, 10);
    assert_string_equal(t[0], "FB");
    assert_string_equal(t[9], "DDOG");
    free(t);
    free(storage);
    fin_opts_set(fin_collect_opts, &set, "tickers", "AAPL, MSFT,AAPL", "test");
    assert_int_equal(fin_collect_tickers(&set, &t, &storage, &n), 0);
    assert_int_equal(n, 2);
    free(t);
    free(storage);
    fin_opts_set(fin_collect_opts, &set, "tickers", "AA/PL", "test");
    assert_int_equal(fin_collect_tickers(&set, &t, &storage, &n), FIN_EINVAL);

    struct fin_window w;
    fin_opts_set(fin_collect_opts, &set, "start", "2020-05-14 10:00", "test");
    fin_opts_set(fin_collect_opts, &set, "end", "2020-05-14 11:00", "test");
    assert_int_equal(fin_collect_window(&set, NULL, false, &w), 0);
    assert_int_equal(w.end - w.start, 3600);
    assert_int_equal(w.start, 1589464800);
    fin_opts_set(fin_collect_opts, &set, "interval", "2m", "test");
    assert_int_equal(fin_collect_window(&set, NULL, false, &w), FIN_EINVAL);
    fin_opts_fini(fin_collect_opts, &set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_double),
        cmocka_unit_test(test_json_number),
        cmocka_unit_test(test_record_write),
        cmocka_unit_test(test_new_york_offsets),
        cmocka_unit_test(test_calendar),
        cmocka_unit_test(test_sim_classic_day),
        cmocka_unit_test(test_sim_deterministic),
        cmocka_unit_test(test_sim_intervals_and_calendar),
        cmocka_unit_test(test_emitter_dedupe),
        cmocka_unit_test(test_tickers_and_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
