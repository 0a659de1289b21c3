/* bench_report.c - time to render the report (every chart as PNG and SVG, and the page)
 * for a synthetic 3-ticker, 10-ticker and 50-ticker day.
 *
 *     bench_report [OUT_DIR]     (default: a temporary folder, removed afterwards)
 *
 * With OUT_DIR the reports stay in OUT_DIR/{3,10,50} for a look. */
#include "../tests/unit/report_synth.h"

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
    if (argc <= 1)
        fin_remove_tree(base);
    return 0;
}
