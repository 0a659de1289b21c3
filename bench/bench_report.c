/* bench_report.c - time to render the report (every chart as PNG and SVG, and the page)
 * for a synthetic 3-ticker, 10-ticker and 50-ticker day; then the whole report stage for
 * a 10-ticker day written to a lake folder as JSON lines: read from the folder, and read
 * from a crawled catalog table through the query engine.
 *
 *     bench_report [OUT_DIR]     (default: a temporary folder, removed afterwards)
 *
 * With OUT_DIR the reports stay in OUT_DIR/{3,10,50,folder,table} for a look. */
#include "../tests/unit/report_synth.h"

#include "finstream/buf.h"
#include "finstream/catalog.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"

#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    char tmpl[] = "/tmp/finstream-bench-report-XXXXXX";
    const char *base = argc > 1 ? argv[1] : mkdtemp(tmpl);
    if (!base) {
        perror("mkdtemp");
        return 1;
    }
    static const size_t counts[] = {3, 10, 50};
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        struct synth_day d;
        struct fin_report_input in;
        struct fin_report_output out;
        char dir[4096];
        synth_day_init(&d, counts[k], 42 + k);
        synth_day_input(&d, &in, counts[k] < 2 ? counts[k] : 2);
        snprintf(dir, sizeof dir, "%s/%zu", base, counts[k]);
        double t0 = now_s();
        int rc = fin_report_render(&in, dir, &out);
        double dt = now_s() - t0;
        if (rc) {
            fprintf(stderr, "render failed: %s: %s\n", fin_strerror(rc), fin_err_msg());
            synth_day_fini(&d);
            return 1;
        }
        printf("report  %2zu tickers  %zu charts (PNG+SVG)  %zu files  %6.3f s  %6.1f ms/chart\n",
               counts[k], out.n_charts, out.n_files, dt, dt * 1000 / (double)out.n_charts);
        fin_report_output_fini(&out);
        synth_day_fini(&d);
    }

    /* The report stage of a pipeline run: the day as newline-delimited JSON in a lake. */
    struct synth_day d;
    synth_day_init(&d, 10, 7);
    char lake[4096], dir[4096], path[4200];
    snprintf(lake, sizeof lake, "%s/data/lake/2020/05/14/20", base);
    fin_mkdir_p(lake, 0755);
    struct fin_buf b;
    fin_buf_init(&b);
    for (size_t t = 0; t < d.n; t++)
        for (int i = 0; i < SYNTH_BARS; i++)
            fin_buf_printf(&b, "{\"name\":\"%s\",\"ts\":\"%s-04:00\",\"high\":%.2f,\"low\":%.2f}\n",
                           d.tk[t].name, d.tk[t].ts[i], d.tk[t].high[i], d.tk[t].low[i]);
    snprintf(path, sizeof path, "%s/day.json", lake);
    fin_write_file_atomic(path, b.data, b.len);
    fin_buf_fini(&b);
    synth_day_fini(&d);

    snprintf(dir, sizeof dir, "%s/data", base);
    for (int from_table = 0; from_table < 2; from_table++) {
        char out_dir[4200];
        snprintf(out_dir, sizeof out_dir, "%s/%s", base, from_table ? "table" : "folder");
        if (from_table) {
            struct fin_catalog *cat;
            struct fin_crawl_opts opts = {.table = "stocks", .sample = -1};
            struct fin_crawl_stats cs;
            snprintf(path, sizeof path, "%s/lake", dir);
            if (fin_catalog_open(&cat, dir) || fin_crawl(cat, path, &opts, &cs) ||
                fin_catalog_save(cat)) {
                fprintf(stderr, "crawl failed: %s\n", fin_err_msg());
                return 1;
            }
            fin_catalog_close(cat);
        }
        struct fin_report_request req = {.data_dir = dir, .out_dir = out_dir,
                                         .table = from_table ? "finance.stocks" : NULL};
        struct fin_report_output out;
        double t0 = now_s();
        int rc = fin_report_make(&req, &out, NULL);
        double dt = now_s() - t0;
        if (rc) {
            fprintf(stderr, "report failed: %s: %s\n", fin_strerror(rc), fin_err_msg());
            return 1;
        }
        printf("report stage from %-6s  %zu tickers  %llu bars  load + render %6.3f s\n",
               from_table ? "table" : "folder", out.n_tickers, (unsigned long long)out.records, dt);
        fin_report_output_fini(&out);
    }
    if (argc <= 1)
        fin_remove_tree(base);
    return 0;
}
