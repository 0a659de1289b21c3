/* test_report_data.c - gathering a day for the report: the hourly-high answer computed
 * from the real Firehose objects equals the answer Athena gave for them; the chosen day,
 * duplicates, missing tickers and bad records are handled as documented. */
#include "fin_test.h"

#include "finstream/buf.h"
#include "finstream/catalog.h"
#include "finstream/error.h"
#include "finstream/query.h"
#include "finstream/report.h"
#include "report/report_int.h"

#include <ctype.h>
#include <strings.h>
#include <math.h>
#include <zlib.h>

/* ---- Athena's CSV: a header, every field quoted ------------------------------------- */

struct row {
    char ticker[16];
    int hour;
    double high;
    char datetime[20];
    bool matched;
};

/* Splits one line of "a","b","c" into at most max fields (no quotes inside fields in
 * these files). */
static int csv_fields(char *line, char **f, int max)
{
    int n = 0;
    for (char *p = line; *p && n < max;) {
        if (*p != '"')
            return -1;
        char *e = strchr(p + 1, '"');
        if (!e)
            return -1;
        *e = '\0';
        f[n++] = p + 1;
        p = e + 1;
        if (*p == ',')
            p++;
        else
            break;
    }
    return n;
}

/* "05/14/2020 09:39:00" and "05-11-2021 09:55:00-0400" as "2020-05-14 09:39:00". */
static void iso19(const char *s, char *out)
{
    if (s[2] == '/' || s[2] == '-')
        snprintf(out, 20, "%.4s-%.2s-%.2s%.9s", s + 6, s, s + 3, s + 10);
    else
        snprintf(out, 20, "%.19s", s);
}

/* Reads an answer: col_* give the column of ticker, hour, high and time. */
static struct row *read_answer(const char *path, int col_t, int col_h, int col_v, int col_d,
                               size_t *n)
{
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(fin_read_file(path, &text, &len), 0);
    struct row *rows = calloc(len / 10 + 1, sizeof *rows);
    *n = 0;
    char *save = NULL;
    bool header = true;
    for (char *line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        char *f[8];
        int nf = csv_fields(line, f, 8);
        assert_true(nf >= 4);
        if (header) {
            header = false;
            continue;
        }
        struct row *r = &rows[(*n)++];
        for (char *p = f[col_t]; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        snprintf(r->ticker, sizeof r->ticker, "%s", f[col_t]);
        r->hour = atoi(f[col_h]);
        r->high = strtod(f[col_v], NULL);
        iso19(f[col_d], r->datetime);
    }
    free(text);
    return rows;
}

/* Compares the hourly answer with Athena's as multisets (ticker case folded); returns the
 * number of rows that differ on either side. */
static int compare(const struct fin_report_input *in, struct row *want, size_t n_want)
{
    int diff = 0;
    for (size_t i = 0; i < in->n_hourly; i++) {
        const struct fin_report_hourly *h = &in->hourly[i];
        bool found = false;
        for (size_t k = 0; k < n_want && !found; k++) {
            struct row *w = &want[k];
            if (!w->matched && strcasecmp(w->ticker, h->ticker) == 0 && w->hour == h->hour &&
                strcmp(w->datetime, h->datetime) == 0 && fabs(w->high - h->high) < 1e-9) {
                w->matched = found = true;
            }
        }
        if (!found) {
            fprintf(stderr, "  ours only:   %s %02d %.17g %s\n", h->ticker, h->hour, h->high, h->datetime);
            diff++;
        }
    }
    for (size_t k = 0; k < n_want; k++)
        if (!want[k].matched) {
            fprintf(stderr, "  Athena only: %s %02d %.17g %s\n", want[k].ticker, want[k].hour,
                    want[k].high, want[k].datetime);
            diff++;
        }
    return diff;
}

static void check_fixture(const char *folder, int col_t, int col_h, int col_v, int col_d,
                          size_t want_rows, uint64_t want_bars, int want_diff)
{
    const char *shared = fin_test_shared_data();
    if (!shared)
        skip();
    char objects[1024], answer[1024];
    snprintf(objects, sizeof objects, "%s/firehose/%s/objects", shared, folder);
    snprintf(answer, sizeof answer, "%s/firehose/%s/athena-results.csv", shared, folder);
    struct fin_report_data *d;
    assert_int_equal(fin_report_data_create(&d), 0);
    int rc = fin_report_load_dir(d, objects);
    if (rc)
        fail_msg("%s", fin_err_msg());
    const struct fin_report_input *in;
    struct fin_report_select sel = {NULL, NULL};
    rc = fin_report_data_finish(d, &sel, &in);
    if (rc)
        fail_msg("%s", fin_err_msg());
    struct fin_report_data_stats st;
    fin_report_data_stats(d, &st);
    assert_int_equal(st.bad, 0);
    assert_int_equal(st.day_bars, want_bars);
    assert_int_equal(in->n_ranges, 10);

    size_t n_want;
    struct row *want = read_answer(answer, col_t, col_h, col_v, col_d, &n_want);
    assert_int_equal(n_want, want_rows);
    int diff = compare(in, want, n_want);
    if (diff != want_diff)
        fail_msg("%s: %d rows differ from Athena's answer, expected %d", folder, diff, want_diff);
    /* FB and NFLX have their series, whatever case the source wrote them in. */
    assert_int_equal(in->n_series, 2);
    assert_true(strcasecmp(in->series[0].ticker, "FB") == 0);
    assert_true(strcasecmp(in->series[1].ticker, "NFLX") == 0);
    free(want);
    fin_report_data_destroy(d);
}

/* The same through a catalog table and the query engine: crawl the folder into a fresh
 * catalog, read the bars with SQL, and ask the hourly-high question in SQL. */
static void check_fixture_table(const char *folder, int col_t, int col_h, int col_v, int col_d,
                                size_t want_rows, uint64_t want_bars, int want_diff)
{
    const char *shared = fin_test_shared_data();
    if (!shared)
        skip();
    char objects[1024], answer[1024];
    snprintf(objects, sizeof objects, "%s/firehose/%s/objects", shared, folder);
    snprintf(answer, sizeof answer, "%s/firehose/%s/athena-results.csv", shared, folder);
    char *dir = fin_test_mkdtemp("reporttable");
    struct fin_catalog *cat;
    assert_int_equal(fin_catalog_open(&cat, dir), 0);
    struct fin_crawl_opts opts = {.table = "fx", .sample = -1};
    struct fin_crawl_stats cs;
    if (fin_crawl(cat, objects, &opts, &cs) != 0)
        fail_msg("crawl: %s", fin_err_msg());
    assert_int_equal(fin_catalog_save(cat), 0);
    fin_catalog_close(cat);

    struct fin_query *q;
    assert_int_equal(fin_query_open(&q, dir), 0);
    struct fin_report_data *d;
    assert_int_equal(fin_report_data_create(&d), 0);
    char ts[32];
    int rc = fin__report_table_load(d, q, "finance.fx", NULL, ts, sizeof ts);
    if (rc)
        fail_msg("%s", fin_err_msg());
    const struct fin_report_input *in;
    struct fin_report_select sel = {NULL, NULL};
    assert_int_equal(fin_report_data_finish(d, &sel, &in), 0);
    assert_int_equal(in->prov.records, want_bars);
    struct fin_buf sql;
    fin_buf_init(&sql);
    rc = fin__report_table_hourly(d, q, "finance.fx", ts, in->date, &sql);
    if (rc)
        fail_msg("%s", fin_err_msg());
    assert_non_null(strstr(fin_buf_cstr(&sql), "substring("));
    size_t n_want;
    struct row *want = read_answer(answer, col_t, col_h, col_v, col_d, &n_want);
    assert_int_equal(n_want, want_rows);
    int diff = compare(in, want, n_want);
    if (diff != want_diff)
        fail_msg("%s via SQL: %d rows differ from Athena's answer, expected %d", folder, diff,
                 want_diff);
    free(want);
    fin_buf_fini(&sql);
    fin_report_data_destroy(d);
    fin_query_close(q);
    fin_test_rmdir(dir);
}

static void test_table_offset(void **state)
{
    (void)state;
    check_fixture_table("2020-05-14-ndjson-offset", 0, 1, 2, 3, 87, 3844, 0);
}

static void test_table_mixedcase(void **state)
{
    (void)state;
    check_fixture_table("2020-05-14-ndjson-mixedcase", 0, 1, 3, 2, 82, 3844, 0);
}

static void test_table_concatenated(void **state)
{
    (void)state;
    check_fixture_table("2021-05-11-concatenated", 0, 3, 2, 1, 75, 780, 2);
}

static void test_fixture_offset(void **state)
{
    (void)state;
    check_fixture("2020-05-14-ndjson-offset", 0, 1, 2, 3, 87, 3844, 0);
}

static void test_fixture_mixedcase(void **state)
{
    (void)state;
    check_fixture("2020-05-14-ndjson-mixedcase", 0, 1, 3, 2, 82, 3844, 0);
}

static void test_fixture_concatenated(void **state)
{
    (void)state;
    /* Athena computed TTD's 09 hour from an object that is not in the folder: that row
     * differs (494.71 there, 494.84 here), one row on each side. */
    check_fixture("2021-05-11-concatenated", 0, 3, 2, 1, 75, 780, 2);
}

/* ---- behaviour on made-up folders --------------------------------------------------- */

static void put_file(const char *dir, const char *name, const char *text)
{
    char *p = fin_path_join(dir, name);
    assert_int_equal(fin_write_file_atomic(p, text, strlen(text)), 0);
    free(p);
}

static void test_days_duplicates_bad_records(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("reportdata");
    char *sub = fin_path_join(dir, "2020/05/14/15");
    assert_int_equal(fin_mkdir_p(sub, 0755), 0);
    put_file(sub, "a.json",
          "{\"name\":\"FB\",\"ts\":\"2020-05-14 09:30:00-04:00\",\"open\":10,\"high\":11,\"low\":9.5,\"close\":10.5}\n"
          "{\"name\":\"FB\",\"ts\":\"2020-05-14 09:31:00-04:00\",\"open\":10.5,\"high\":12,\"low\":10,\"close\":11.5}\n"
          "not json at all\n"
          "{\"name\":\"FB\",\"ts\":\"yesterday\",\"high\":1,\"low\":1}\n"
          "{\"name\":\"NFLX\",\"ts\":\"2020-05-14 10:15:00-04:00\",\"high\":\"20.5\",\"low\":20}\n"
          "{\"name\":\"NFLX\",\"ts\":\"2020-05-14 10:45:00-04:00\",\"high\":20.5,\"low\":null}\n"
          "{\"name\":\"FB\",\"ts\":\"2020-05-13 15:59:00-04:00\",\"high\":8,\"low\":7}\n");
    /* The same bar again in another object (a replayed delivery): counted once. */
    put_file(sub, "b.json",
          "{\"name\":\"FB\",\"ts\":\"2020-05-14 09:31:00-04:00\",\"open\":10.5,\"high\":12,\"low\":10,\"close\":11.5}\n"
          "{\"name\":\"NFLX\",\"ts\":\"2020-05-14 10:50:00-04:00\",\"high\":20.5,\"low\":20.1}\n");
    /* gzip, concatenated framing: found by content. */
    const char *cat = "{\"Name\":\"SQ\",\"High\":71,\"Low\":70,\"Timestamp\":\"05/14/2020 11:00:00\"}"
                      "{\"Name\":\"SQ\",\"High\":72,\"Low\":70.5,\"Timestamp\":\"05/14/2020 11:01:00\"}";
    char *gz_path = fin_path_join(sub, "c.gz");
    gzFile gz = gzopen(gz_path, "wb");
    assert_non_null(gz);
    assert_int_equal(gzwrite(gz, cat, (unsigned)strlen(cat)), (int)strlen(cat));
    gzclose(gz);
    free(gz_path);
    /* What must not be read: temporaries, hidden files, Parquet (the query engine's), the
     * error prefix. */
    put_file(sub, "d.json.tmp.123", "garbage\n");
    put_file(sub, ".hidden", "garbage\n");
    put_file(sub, "f.parquet", "PAR1 not for the JSON reader PAR1");
    char *errs = fin_path_join(dir, "errors");
    assert_int_equal(fin_mkdir_p(errs, 0755), 0);
    put_file(errs, "e.json", "{\"errorCode\":\"x\"}\n");
    free(errs);

    struct fin_report_data *d;
    assert_int_equal(fin_report_data_create(&d), 0);
    assert_int_equal(fin_report_load_dir(d, dir), 0);
    const struct fin_report_input *in;
    struct fin_report_select sel = {NULL, "nflx,fb,AAPL"};
    assert_int_equal(fin_report_data_finish(d, &sel, &in), 0);
    struct fin_report_data_stats st;
    fin_report_data_stats(d, &st);
    assert_int_equal(st.bad, 3);          /* not JSON, bad ts, null low */
    assert_int_equal(st.objects, 3);      /* a.json, b.json, c.gz; nothing skipped was read */
    assert_int_equal(st.duplicates, 1);
    assert_int_equal(st.day_bars, 6);     /* FB 2, NFLX 2, SQ 2; the 13th is another day */
    assert_int_equal(st.missing, 1);
    assert_string_equal(st.missing_list, "AAPL");
    assert_string_equal(in->date, "2020-05-14");

    /* Ranges in name order, from the bars. */
    assert_int_equal(in->n_ranges, 3);
    assert_string_equal(in->ranges[0].ticker, "FB");
    assert_true(in->ranges[0].low == 9.5 && in->ranges[0].high == 12);
    assert_true(in->ranges[0].has_close && in->ranges[0].first == 10 && in->ranges[0].last == 11.5);
    assert_string_equal(in->ranges[1].ticker, "NFLX");
    assert_false(in->ranges[1].has_close);
    assert_true(in->ranges[1].first == 20.25);

    /* Series in the order chosen, case folded. */
    assert_int_equal(in->n_series, 2);
    assert_string_equal(in->series[0].ticker, "NFLX");
    assert_string_equal(in->series[1].ticker, "FB");
    assert_int_equal(in->series[1].n, 2);
    assert_int_equal(in->series[1].utc_offset, -14400);
    assert_string_equal(in->series[1].interval, "1-minute");

    /* Hourly answer: FB 09 once, NFLX 10 twice (a tie at 20.5), SQ 11 once. */
    assert_int_equal(in->n_hourly, 4);
    assert_string_equal(in->hourly[0].ticker, "FB");
    assert_int_equal(in->hourly[0].hour, 9);
    assert_true(in->hourly[0].high == 12);
    assert_string_equal(in->hourly[0].datetime, "2020-05-14 09:31:00");
    assert_string_equal(in->hourly[1].datetime, "2020-05-14 10:15:00");
    assert_string_equal(in->hourly[2].datetime, "2020-05-14 10:50:00");
    assert_string_equal(in->hourly[3].ticker, "SQ");
    assert_string_equal(in->prov.window, "2020-05-14 09:30:00-04:00 .. 2020-05-14 11:01:00-04:00");
    assert_int_equal(in->prov.records, 6);

    /* An hourly answer from elsewhere (the query engine) replaces the computed one; its
     * times are normalised like ts. */
    assert_int_equal(fin__report_data_hourly_begin(d, 2), 0);
    assert_int_equal(fin__report_data_hourly_add(d, "FB", 9, 12, "05/14/2020 09:31:00"), 0);
    assert_int_equal(fin__report_data_hourly_add(d, "QQQ", 10, 3, "2020-05-14 10:00:00-04:00"), 0);
    assert_int_equal(in->n_hourly, 2);
    assert_string_equal(in->hourly[0].datetime, "2020-05-14 09:31:00");
    assert_string_equal(in->hourly[1].ticker, "QQQ");
    assert_string_equal(in->hourly[1].datetime, "2020-05-14 10:00:00");

    /* Another day on request; a day without bars names the days there are. */
    sel.date = "2020-05-13";
    assert_int_equal(fin_report_data_finish(d, &sel, &in), 0);
    assert_int_equal(in->n_ranges, 1);
    sel.date = "2020-05-15";
    assert_int_equal(fin_report_data_finish(d, &sel, &in), FIN_ENOENT);
    assert_non_null(strstr(fin_err_msg(), "2020-05-14"));
    sel.date = "May 15";
    assert_int_equal(fin_report_data_finish(d, &sel, &in), FIN_EINVAL);
    fin_report_data_destroy(d);
    fin_report_data_destroy(NULL);

    /* A folder that is not there. */
    assert_int_equal(fin_report_data_create(&d), 0);
    assert_int_equal(fin_report_load_dir(d, sub), 0);
    char *none = fin_path_join(dir, "nope");
    assert_int_equal(fin_report_load_dir(d, none), FIN_ENOENT);
    free(none);
    fin_report_data_destroy(d);

    /* Nothing usable at all. */
    assert_int_equal(fin_report_data_create(&d), 0);
    assert_int_equal(fin_report_data_finish(d, &sel, &in), FIN_ENOENT);
    fin_report_data_destroy(d);
    free(sub);
    fin_test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_offset),
        cmocka_unit_test(test_fixture_mixedcase),
        cmocka_unit_test(test_fixture_concatenated),
        cmocka_unit_test(test_table_offset),
        cmocka_unit_test(test_table_mixedcase),
        cmocka_unit_test(test_table_concatenated),
        cmocka_unit_test(test_days_duplicates_bad_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
