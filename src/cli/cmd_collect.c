/* cmd_collect.c - finstream collect: one window of bars for a ticker list, or a schedule.
 *
 * Settings come from the defaults, then a [collector "NAME"] section of finstream.ini,
 * then the command line (--KEY VALUE for every key of the collector's table). Records go
 * to stdout, a file, a stream or a delivery stream. */
#include "cli.h"
#include "finstream/interrupt.h"
#include "finstream/progress.h"
#include "cli_util.h"
#include "collect_job.h"
#include "finstream/clock.h"
#include "finstream/collector.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/log.h"
#include "finstream/timeutil.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- the command ---- */

static void help(void)
{
    printf("usage: finstream collect [--collector NAME] [--source SRC] [--tickers A,B] [--date D |\n"
           "                         --start T --end T] [--interval 1m] [--every 5m] [--to SINK | --out FILE]\n"
           "\n"
           "Pulls OHLCV bars for a ticker list over one window and emits one JSON record per bar,\n"
           "like one run of a scheduled function. With --every it repeats on that schedule and then\n"
           "emits only bars it has not emitted before; SIGINT or SIGTERM stops it after the current run.\n"
           "\n"
           "Settings come from the defaults, then the [collector \"NAME\"] section of finstream.ini\n"
           "(--collector NAME, or the only collector section there is; its keys are the options'\n"
           "names with underscores), then these options:\n"
           "\n");
    fin_opts_print_options(fin_collect_opts, stdout);
    printf("\n"
           "  --out FILE                   same as --to file:FILE\n"
           "  --collector NAME             use the [collector \"NAME\"] section\n"
           "\n"
           "Times (--start, --end): " FIN_CLI_TIME_CONVENTION ".\n"
           "--date is the exchange's trading day; impossible dates (2026-02-30) are refused.\n"
           "Tickers are matched without regard to case. The summary goes to stderr.\n"
           "examples:\n"
           "  finstream collect                                   # the classic day, simulated\n"
           "  finstream collect --source yahoo --tickers AAPL,MSFT --date 2026-11-25\n"
           "  finstream collect --source csv:prices/ --out bars.json\n"
           "  finstream collect --source replay:lake/ --to stream:stocks\n");
}

int fin_cmd_collect(struct fin_cli *cli, int argc, char **argv)
{
    if (fin_cli_wants_help(argc, argv)) {
        help();
        return 0;
    }
    struct fin_collect_job job;
    int exit_code = fin_collect_job_settings(&job, cli, "collect", argc, argv, NULL, NULL, NULL);
    if (!exit_code)
        exit_code = fin_collect_job_open(&job, cli, "collect");
    if (exit_code)
        goto out;
    bool failed = false;
    for (;;) {
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        struct fin_collect_stats run;
        fin_progress_begin("collect", "tickers", 0, 0);
        int rc = fin_collect_job_run(&job, &run);
        fin_progress_end();
        failed = rc != 0 || run.tickers_failed > 0;
        if (rc)
            fin_log_err(rc, "collect");
        if (!cli->quiet && !rc)   /* after a failure the error says what happened */
            fin_collect_job_summary(&job, &run, fin_cli_seconds_since(&t0));
        if (!job.live || fin_interrupted() || (rc && !fin_err_is_retriable(rc) && rc != FIN_EHTTP))
            break;
        /* Sleep to the next multiple of the schedule, waking early on a signal. */
        int64_t every = job.set.every_ms;
        int64_t next = (fin_now_ns(fin_clock_real()) / FIN_NS_PER_MS / every + 1) * every;
        while (!fin_interrupted() && fin_now_ns(fin_clock_real()) / FIN_NS_PER_MS < next)
            fin_interrupt_sleep_ns(100 * FIN_NS_PER_MS);
        if (fin_interrupted())
            break;
        if ((rc = fin_collect_job_next_window(&job))) {
            fin_log_err(rc, "collect");
            failed = true;
            break;
        }
    }
    exit_code = failed ? 1 : 0;
out:;
    int rc = fin_collect_job_close(&job);
    if (rc) {
        fin_log_err(rc, "collect");
        exit_code = 1;
    }
    return exit_code;
}
