/* cmd_report.c - finstream report: charts and an HTML page for one trading day.
 *
 * Gathers the day's bars, summarises them (ranges, the hourly-high answer, series for the
 * chosen tickers) and hands them to the renderer, which writes PNG and SVG charts and
 * index.html into <data_dir>/reports/<date>/ or --out. */
#include "cli.h"
#include "cli_util.h"
#include "finstream/clock.h"
#include "finstream/error.h"
#include "finstream/log.h"
#include "finstream/progress.h"
#include "finstream/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void help(void)
{
    printf("usage: finstream report [--tickers FB,NFLX] [--top N] [--date YYYY-MM-DD] [--out DIR]\n"
           "                        [--table DB.TABLE | --from DIR]\n"
           "\n"
           "Draws a trading day as charts and one HTML page: each ticker's range for the day,\n"
           "high and low per bar for the chosen tickers on an exchange-time axis, the hourly\n"
           "highs per ticker and their table, and where the data came from. Charts are written\n"
           "as PNG and SVG beside index.html; the page needs no script and no network.\n"
           "\n"
           "  --tickers LIST   tickers for the time-series charts (default %s;\n"
           "                   matched without regard to case; at most %d charts)\n"
           "  --top N|all      the range and hourly charts draw the N most active tickers\n"
           "                   (most shares traded; without volumes, the widest range);\n"
           "                   default %d. The page's tables list every ticker, any count.\n"
           "  --date DAY       the exchange-local trading day (default: the latest in the data)\n"
           "  --out DIR        output folder (default <data-dir>/reports/<date>)\n"
           "  --table DB.TABLE read the bars from a catalog table through the query engine;\n"
           "                   the hourly-high table is the engine's answer to the hourly-high\n"
           "                   query (default %s, or the catalog's only table)\n"
           "  --from DIR       read the bars from the objects under DIR, whatever their framing\n"
           "                   or compression (default, when the catalog has no such table:\n"
           "                   <data-dir>/lake)\n"
           "\n"
           "examples:\n"
           "  finstream report\n"
           "  finstream report --tickers FB,NFLX,SHOP --date 2020-05-14\n"
           "  finstream report --table finance.stocks --date 2020-05-14 --out /tmp/r\n"
           "  finstream report --from ../shared/data/firehose/2020-05-14-ndjson-offset/objects --out /tmp/r\n",
           FIN_REPORT_DEFAULT_TICKERS, FIN_REPORT_MAX_SERIES, FIN_REPORT_DEFAULT_TOP,
           FIN_REPORT_DEFAULT_TABLE);
}

static int take_value(int argc, char **argv, int *i, const char *opt, const char **out)
{
    size_t n = strlen(opt);
    if (strncmp(argv[*i], opt, n) != 0)
        return 0;
    if (argv[*i][n] == '=') {
        *out = argv[*i] + n + 1;
        return 1;
    }
    if (argv[*i][n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *out = argv[++*i];
    return 1;
}

int fin_cmd_report(struct fin_cli *cli, int argc, char **argv)
{
    const char *tickers = NULL, *date = NULL, *out_dir = NULL, *from = NULL, *table = NULL;
    const char *top_arg = NULL;
    if (fin_cli_wants_help(argc, argv)) {
        help();
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        int r = 0;
        const char *opts[] = {"--tickers", "--date", "--out", "--from", "--table", "--top"};
        const char **dst[] = {&tickers, &date, &out_dir, &from, &table, &top_arg};
        for (int k = 0; k < 6 && r == 0; k++)
            r = take_value(argc, argv, &i, opts[k], dst[k]);
        if (r < 0)
            return fin_cli_usage_error("report", "option %s needs a value", argv[i]);
        if (r == 0)
            return fin_cli_usage_error("report", "unknown argument '%s'", argv[i]);
    }
    if (from && table)
        return fin_cli_usage_error("report", "--table and --from name two sources; give one");
    size_t top = 0;
    if (top_arg && fin_cli_parse_top(top_arg, &top))
        return fin_cli_usage_error("report", "--top '%s' is not a count of tickers (1 or more, or all)",
                                   top_arg);
    if (date && fin_cli_check_date(date))
        return fin_cli_usage_error("report", "--date: %s", fin_err_msg());

    int exit_code = 1;
    struct fin_report_output out = {0};
    struct fin_report_data_stats st;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct fin_report_request req = {
        .data_dir = cli->data_dir,
        .table = table,
        .from = from,
        .out_dir = out_dir,
        .sel = {date, tickers},
        .top = top,
        .generated_at = fin_now_ns(fin_clock_real()) / FIN_NS_PER_SEC,
    };
    fin_progress_begin("report", "bars", 0, 0);
    int rc = fin_report_make(&req, &out, &st);
    fin_progress_end();
    if (st.bad)
        fin_warn("%llu records could not be used (see the messages above)",
                 (unsigned long long)st.bad);
    if (rc)
        goto fail;
    if (st.missing)
        fin_warn("no bars on %s for %s: no time-series chart for %s", out.date, st.missing_list,
                 st.missing > 1 ? "them" : "it");
    if (st.series_dropped)
        fin_warn("%zu chosen ticker%s past the first %d get no time-series chart", st.series_dropped,
                 st.series_dropped == 1 ? "" : "s", FIN_REPORT_MAX_SERIES);
    if (!cli->quiet) {
        char n[32];
        char drawn[48] = "";
        if (out.n_drawn < out.n_tickers)
            snprintf(drawn, sizeof drawn, " (%zu drawn)", out.n_drawn);
        printf("report    %zu charts  %zu ticker%s%s  %s bar%s on %s from %s -> %s  %.2f s\n",
               out.n_charts, out.n_tickers, out.n_tickers == 1 ? "" : "s", drawn,
               fin_cli_count(n, sizeof n, out.records), out.records == 1 ? "" : "s", out.date,
               st.source, out.index_path, fin_cli_seconds_since(&t0));
    }
    exit_code = 0;
fail:
    if (rc)
        fin_log_err(rc, "report");
    fin_report_output_fini(&out);
    return exit_code;
}
