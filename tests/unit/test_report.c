/* test_report.c - the report renderer on synthetic days: the PNG files decode, have the
 * expected size and are not blank, the SVG files are documents with their titles, the
 * page references only files that exist and shows the hourly highs computed from the
 * bars; bad input is refused with a message naming the ticker; two threads may render
 * at once. */
#include "fin_test.h"

#include "png_check.h"
#include "report_synth.h"

#include "finstream/buf.h"
#include "finstream/error.h"
#include "report/report_int.h"

#include <pthread.h>
#include <sys/stat.h>

static char *join(const char *dir, const char *name)
{
    char *p = fin_path_join(dir, name);
    assert_non_null(p);
    return p;
}

static char *slurp(const char *path)
{
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(fin_read_file(path, &data, &len), 0);
    return data;
}

static void assert_png(const char *dir, const char *name, uint32_t w, uint32_t h)
{
    char *path = join(dir, name);
    struct png_info info;
    const char *why = "";
    if (png_check_file(path, &info, &why) != 0)
        fail_msg("%s: %s", path, why);
    assert_int_equal(info.width, w);
    assert_int_equal(info.height, h);
    /* A chart, not a blank page: a good share of drawn pixels and many colours (the
     * palette plus anti-aliasing). */
    if (info.non_white < (size_t)w * h / 50 || info.colours < 20)
        fail_msg("%s looks blank: %zu non-white pixels, %zu colours", path, info.non_white,
                 info.colours);
    free(path);
}

/* The SVG is a document and carries the title as text (the svg device writes each
 * character as a numeric reference, which is decoded here). */
static bool svg_has(const char *dir, const char *name, const char *title)
{
    char *path = join(dir, name);
    char *s = slurp(path);
    assert_true(strncmp(s, "<?xml", 5) == 0 || strncmp(s, "<svg", 4) == 0);
    assert_non_null(strstr(s, "</svg>"));
    struct fin_buf text;
    fin_buf_init(&text);
    for (const char *p = s; *p; p++) {
        unsigned v;
        int n = 0;
        if (p[0] == '&' && p[1] == '#' && p[2] == 'x' && sscanf(p + 3, "%x;%n", &v, &n) == 1 && n > 0) {
            if (v < 0x80) {
                char ch = (char)v;
                fin_buf_append(&text, &ch, 1);
            }
            p += 2 + n;
        } else if (*p == '<' && text.len && text.data[text.len - 1] != '|') {
            fin_buf_puts(&text, "|");
        } else if (*p != '<') {
            fin_buf_append(&text, p, 1);
        }
    }
    bool found = strstr(fin_buf_cstr(&text), title) != NULL;
    fin_buf_fini(&text);
    free(s);
    free(path);
    return found;
}

static void assert_svg(const char *dir, const char *name, const char *title)
{
    if (!svg_has(dir, name, title))
        fail_msg("%s/%s: title '%s' not found in the SVG text", dir, name, title);
}

/* Every src= and href= of the page names a file in dir. Returns how many there were. */
static int assert_links_exist(const char *dir, const char *html)
{
    int n = 0;
    const char *attrs[] = {"src=\"", "href=\""};
    for (int a = 0; a < 2; a++) {
        for (const char *p = strstr(html, attrs[a]); p; p = strstr(p + 1, attrs[a])) {
            const char *v = p + strlen(attrs[a]);
            const char *e = strchr(v, '"');
            assert_non_null(e);
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(e - v), v);
            assert_null(strchr(name, '/'));          /* relative, beside the page */
            char *path = join(dir, name);
            if (!fin_path_exists(path))
                fail_msg("index.html references %s, which does not exist", name);
            free(path);
            n++;
        }
    }
    return n;
}

static void test_three_tickers(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("report3");
    char *out_dir = join(dir, "reports/2020-05-14");
    struct synth_day d;
    struct fin_report_input in;
    struct fin_report_output out;
    synth_day_init(&d, 3, 7);
    synth_day_input(&d, &in, 2);

    int rc = fin_report_render(&in, out_dir, &out);
    if (rc)
        fail_msg("render: %s", fin_err_msg());
    assert_int_equal(out.n_charts, 4);
    assert_int_equal(out.n_files, 9);
    assert_non_null(strstr(out.index_path, "reports/2020-05-14/index.html"));

    assert_png(out_dir, "range.png", FIN_REPORT_WIDTH, 440);
    assert_png(out_dir, "series-FB.png", FIN_REPORT_WIDTH, FIN_REPORT_SERIES_HEIGHT);
    assert_png(out_dir, "series-SHOP.png", FIN_REPORT_WIDTH, FIN_REPORT_SERIES_HEIGHT);
    assert_png(out_dir, "hourly.png", FIN_REPORT_WIDTH, 600);
    assert_svg(out_dir, "range.svg", "Trading range by ticker, 2020-05-14");
    assert_svg(out_dir, "series-FB.svg", "FB: high and low per 1-minute bar");
    assert_svg(out_dir, "hourly.svg", "Hourly highs, 2020-05-14");

    char *html = slurp(out.index_path);
    assert_int_equal(assert_links_exist(out_dir, html), 12);  /* 4 img + 4x(SVG, PNG) */
    assert_non_null(strstr(html, "<table"));
    assert_non_null(strstr(html, "synthetic day (seeded random walk)"));
    assert_non_null(strstr(html, "1,170"));                       /* 3 x 390 records */
    assert_null(strstr(html, "<script"));

    /* The table shows each ticker's hourly high, computed here from the bars. */
    for (size_t t = 0; t < 3; t++) {
        const struct synth_ticker *k = &d.tk[t];
        for (int h = 9; h <= 15; h++) {
            double m = -1;
            int at = -1;
            for (int b = 0; b < SYNTH_BARS; b++)
                if ((9 * 60 + 30 + b) / 60 == h && k->high[b] > m) {
                    m = k->high[b];
                    at = b;
                }
            char cell[96], exact[32];
            for (int prec = 1; prec <= 17; prec++) {
                snprintf(exact, sizeof exact, "%.*g", prec, m);
                if (strtod(exact, NULL) == m)
                    break;
            }
            snprintf(cell, sizeof cell, "title=\"%s USD\">%.2f<small>%.5s", exact, m, k->ts[at] + 11);
            if (!strstr(html, cell))
                fail_msg("%s hour %02d: '%s' not on the page", k->name, h, cell);
        }
    }
    free(html);
    fin_report_output_fini(&out);
    fin_report_output_fini(NULL);
    synth_day_fini(&d);
    free(out_dir);
    fin_test_rmdir(dir);
}

static void test_fifty_tickers(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("report50");
    struct synth_day d;
    struct fin_report_input in;
    struct fin_report_output out;
    synth_day_init(&d, 50, 11);
    synth_day_input(&d, &in, 2);
    in.top = SIZE_MAX;
    int rc = fin_report_render(&in, dir, &out);
    if (rc)
        fail_msg("render: %s", fin_err_msg());
    /* The range chart grows a row per ticker so bars and labels keep their size. */
    assert_png(dir, "range.png", FIN_REPORT_WIDTH, 200 + 26 * 50);
    /* Past ten tickers the hourly highs are a grid of one row per ticker. */
    assert_png(dir, "hourly.png", FIN_REPORT_WIDTH, 170 + 26 * 50);
    assert_svg(dir, "hourly.svg", "Hourly highs, 2020-05-14");
    char *html = slurp(out.index_path);
    assert_links_exist(dir, html);
    for (size_t t = 0; t < 50; t++) {
        char row[64];
        snprintf(row, sizeof row, "<td class=\"t\">%s</td>", d.tk[t].name);
        assert_non_null(strstr(html, row));
    }
    free(html);
    fin_report_output_fini(&out);
    synth_day_fini(&d);
    fin_test_rmdir(dir);
}

__attribute__((noinline)) static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0, len = strlen(needle);
    for (const char *p = strstr(hay, needle); p; p = strstr(p + len, needle))
        n++;
    return n;
}

/* Any ticker count: the charts draw the most active (most shares traded), the tables
 * list every ticker. */
static void test_many_tickers(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("report500");
    struct synth_day d;
    struct fin_report_input in;
    struct fin_report_output out;
    synth_day_init(&d, 500, 5);
    for (size_t i = 0; i < 500; i++)
        d.ranges[i].volume = 1000.0 * (double)i;
    synth_day_input(&d, &in, 2);
    int rc = fin_report_render(&in, dir, &out);
    if (rc)
        fail_msg("render: %s", fin_err_msg());
    assert_int_equal(out.n_tickers, 500);
    assert_int_equal(out.n_drawn, FIN_REPORT_DEFAULT_TOP);
    assert_png(dir, "range.png", FIN_REPORT_WIDTH, 200 + 26 * FIN_REPORT_DEFAULT_TOP);
    assert_png(dir, "hourly.png", FIN_REPORT_WIDTH, 170 + 26 * FIN_REPORT_DEFAULT_TOP);
    /* The 30 largest volumes are tickers 470..499. */
    assert_true(svg_has(dir, "range.svg", d.tk[499].name));
    assert_true(svg_has(dir, "range.svg", d.tk[470].name));
    assert_false(svg_has(dir, "range.svg", d.tk[469].name));
    assert_true(svg_has(dir, "hourly.svg", d.tk[470].name));
    assert_false(svg_has(dir, "hourly.svg", d.tk[469].name));
    char *html = slurp(out.index_path);
    assert_links_exist(dir, html);
    assert_non_null(strstr(html, "30 most active of the 500 tickers (most shares traded)"));
    for (size_t t = 0; t < 500; t++) {
        char row[64];
        snprintf(row, sizeof row, "<td class=\"t\">%s</td>", d.tk[t].name);
        /* Twice: the range table and the hourly table. */
        assert_int_equal(count_of(html, row), 2);
    }
    free(html);
    fin_report_output_fini(&out);

    /* --top 3 without volumes: the widest ranges. */
    for (size_t i = 0; i < 500; i++)
        d.ranges[i].volume = NAN;
    size_t widest = 0;
    for (size_t i = 1; i < 500; i++)
        if ((d.ranges[i].high - d.ranges[i].low) / d.ranges[i].first >
            (d.ranges[widest].high - d.ranges[widest].low) / d.ranges[widest].first)
            widest = i;
    in.top = 3;
    rc = fin_report_render(&in, dir, &out);
    if (rc)
        fail_msg("render: %s", fin_err_msg());
    assert_int_equal(out.n_drawn, 3);
    assert_true(svg_has(dir, "range.svg", d.tk[widest].name));
    html = slurp(out.index_path);
    assert_non_null(strstr(html, "3 most active of the 500 tickers (widest range for the day)"));
    free(html);
    fin_report_output_fini(&out);
    synth_day_fini(&d);
    fin_test_rmdir(dir);
}

static void test_hourly_ties_and_names(void **state)
{
    (void)state;
    const struct fin_report_hourly rows[] = {
        {"A&B", 10, 5.5, "2020-05-14 10:04:00"},
        {"A&B", 10, 5.5, "2020-05-14 10:17:00"},
        {"A&B", 11, 5.0, "2020-05-14 11:30:00"},
        {"ZZ", 9, 1.25, "2020-05-14 09:31:00"},
    };
    struct fin__hourly_grid g;
    assert_int_equal(fin__hourly_grid_build(rows, 4, &g), 0);
    assert_int_equal(g.n_tickers, 2);
    assert_int_equal(g.n_hours, 3);
    assert_int_equal(g.hours[0], 9);
    assert_string_equal(fin__hourly_at(&g, 0, 1)->minutes, "10:04, 10:17");
    assert_false(fin__hourly_at(&g, 0, 0)->set);
    assert_true(fin__hourly_at(&g, 1, 0)->high == 1.25);
    fin__hourly_grid_fini(&g);

    const struct fin_report_hourly bad = {"X", 24, 1.0, "2020-05-14 24:00:00"};
    assert_int_equal(fin__hourly_grid_build(&bad, 1, &g), FIN_EINVAL);
    assert_non_null(strstr(fin_err_msg(), "row 1"));

    char base[96];
    fin__series_base("BRK/B", base, sizeof base);
    assert_string_equal(base, "series-BRK_B");
    fin__series_base("../x", base, sizeof base);
    assert_string_equal(base, "series-.._x");

    /* A ticker with HTML metacharacters is escaped on the page and safe in file names. */
    char *dir = fin_test_mkdtemp("reportnames");
    int64_t t[3] = {SYNTH_T0, SYNTH_T0 + 60, SYNTH_T0 + 120};
    double hi[3] = {5.5, 5.4, 5.5}, lo[3] = {5.1, 5.0, 5.2};
    struct fin_report_series s = {"A&B", 3, t, hi, lo, SYNTH_OFFSET, "1-minute"};
    struct fin_report_range r;
    fin_report_range_from_series(&s, &r);
    assert_true(r.low == 5.0 && r.high == 5.5 && fabs(r.first - 5.3) < 1e-12 && r.bars == 3);
    struct fin_report_input in = {.date = "2020-05-14", .ranges = &r, .n_ranges = 1,
                                  .series = &s, .n_series = 1, .hourly = rows, .n_hourly = 3};
    struct fin_report_output out;
    int rc = fin_report_render(&in, dir, &out);
    if (rc)
        fail_msg("render: %s", fin_err_msg());
    char *html = slurp(out.index_path);
    assert_non_null(strstr(html, "A&amp;B"));
    assert_null(strstr(html, "A&B"));
    assert_links_exist(dir, html);
    assert_png(dir, "series-A_B.png", FIN_REPORT_WIDTH, FIN_REPORT_SERIES_HEIGHT);
    free(html);
    fin_report_output_fini(&out);
    fin_test_rmdir(dir);
}

/* The smallest day: one ticker, one bar (no band to fill, a flat window). */
static void test_one_bar(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("reportone");
    int64_t t = SYNTH_T0;
    double hi = 11, lo = 11;
    struct fin_report_series s = {"FB", 1, &t, &hi, &lo, SYNTH_OFFSET, NULL};
    struct fin_report_range r;
    fin_report_range_from_series(&s, &r);
    const struct fin_report_hourly h = {"FB", 9, 11, "2020-05-14 09:30:00"};
    struct fin_report_input in = {.date = "2020-05-14", .ranges = &r, .n_ranges = 1,
                                  .series = &s, .n_series = 1, .hourly = &h, .n_hourly = 1};
    struct fin_report_output out;
    int rc = fin_report_render(&in, dir, &out);
    if (rc)
        fail_msg("render: %s", fin_err_msg());
    assert_int_equal(out.n_charts, 3);   /* range, FB, hourly */
    assert_svg(dir, "series-FB.svg", "FB: high and low per bar");
    assert_png(dir, "series-FB.png", FIN_REPORT_WIDTH, FIN_REPORT_SERIES_HEIGHT);
    fin_report_output_fini(&out);
    fin_test_rmdir(dir);
}

static void test_bad_input(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("reportbad");
    struct synth_day d;
    struct fin_report_input in;
    synth_day_init(&d, 3, 3);
    synth_day_input(&d, &in, 2);

    /* A NaN in a series: refused, naming ticker and bar; no page appears. */
    d.tk[1].high[17] = NAN;
    assert_int_equal(fin_report_render(&in, dir, NULL), FIN_EINVAL);
    assert_non_null(strstr(fin_err_msg(), "SHOP"));
    assert_non_null(strstr(fin_err_msg(), "bar 18"));
    char *index = join(dir, "index.html");
    assert_false(fin_path_exists(index));
    d.tk[1].high[17] = 1.0;

    /* A range whose low is above its high. */
    struct fin_report_range keep = d.ranges[2];
    d.ranges[2].low = d.ranges[2].high + 1;
    assert_int_equal(fin_report_render(&in, dir, NULL), FIN_EINVAL);
    assert_non_null(strstr(fin_err_msg(), d.tk[2].name));
    d.ranges[2] = keep;

    /* No tickers at all. */
    struct fin_report_input empty = in;
    empty.n_ranges = 0;
    assert_int_equal(fin_report_render(&empty, dir, NULL), FIN_EINVAL);

    /* An output folder that cannot be made (a file is in the way): an error, not an exit. */
    char *blocker = join(dir, "file");
    assert_int_equal(fin_write_file_atomic(blocker, "x", 1), 0);
    char *under = join(blocker, "out");
    d.tk[1].high[17] = d.tk[1].low[17];
    assert_true(fin_report_render(&in, under, NULL) < 0);

    /* The same input draws once the problems are gone. */
    assert_int_equal(fin_report_render(&in, dir, NULL), 0);
    assert_true(fin_path_exists(index));
    free(under);
    free(blocker);
    free(index);
    synth_day_fini(&d);
    fin_test_rmdir(dir);
}

struct thread_job {
    char *dir;
    int rc;
};

static void *render_thread(void *arg)
{
    struct thread_job *job = arg;
    struct synth_day d;
    struct fin_report_input in;
    synth_day_init(&d, 5, 99);
    synth_day_input(&d, &in, 2);
    job->rc = fin_report_render(&in, job->dir, NULL);
    synth_day_fini(&d);
    return NULL;
}

static void test_two_threads(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("reportthreads");
    struct thread_job jobs[2] = {{join(dir, "a"), -1}, {join(dir, "b"), -1}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, render_thread, &jobs[i]), 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(jobs[i].rc, 0);
        assert_png(jobs[i].dir, "range.png", FIN_REPORT_WIDTH, 440);
        assert_png(jobs[i].dir, "series-SHOP.png", FIN_REPORT_WIDTH, FIN_REPORT_SERIES_HEIGHT);
    }
    /* Both drew the same input: the same picture, byte for byte. */
    char *a_path = join(jobs[0].dir, "range.png"), *b_path = join(jobs[1].dir, "range.png");
    char *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    assert_int_equal(fin_read_file(a_path, &a, &alen), 0);
    assert_int_equal(fin_read_file(b_path, &b, &blen), 0);
    assert_int_equal(alen, blen);
    assert_memory_equal(a, b, alen);
    free(a);
    free(b);
    free(a_path);
    free(b_path);
    free(jobs[0].dir);
    free(jobs[1].dir);
    fin_test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_tickers),
        cmocka_unit_test(test_fifty_tickers),
        cmocka_unit_test(test_many_tickers),
        cmocka_unit_test(test_hourly_ties_and_names),
        cmocka_unit_test(test_one_bar),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_two_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
