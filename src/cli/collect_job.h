/* collect_job.h - one collector, set up from finstream.ini and the command line, with its
 * sink and its memory of what it sent. Shared by finstream collect and finstream run. */
#ifndef FINSTREAM_CLI_COLLECT_JOB_H
#define FINSTREAM_CLI_COLLECT_JOB_H

#include "cli.h"
#include "sinks.h"
#include "finstream/collector.h"
#include "finstream/config.h"

struct fin_collect_job {
    struct fin_collect_settings set;
    struct fin_ini ini;
    char collector[129];           /* the section's name, or "default" */
    struct fin_record_format fmt;
    struct fin_window w;
    bool live;                     /* a schedule: windows end now, bars are de-duplicated */
    struct fin_sink *sink;
    struct fin_emitter em;
    bool emitter_ready;
    char seen[4096];               /* the memory file, "" when the sink is not durable */
};

/* Handles a command's own option at argv[*i] (consuming values by advancing *i); returns
 * 0 when handled, 1 when it is not one of them, or 2 after a usage error. */
typedef int (*fin_collect_extra_fn)(void *ctx, int argc, char **argv, int *i);

/* Settings in order: defaults, the [collector "NAME"] section (--collector NAME, else
 * default_section when given and present, else the only collector section), argv.
 * Returns 0, 1 (error printed) or 2 (usage error printed). */
int fin_collect_job_settings(struct fin_collect_job *j, struct fin_cli *cli, const char *cmd,
                             int argc, char **argv, const char *default_section,
                             fin_collect_extra_fn extra, void *extra_ctx);

/* Checks the settings, works out the window, opens the sink and loads the memory.
 * Returns 0, 1 (error printed) or 2 (bad settings printed). */
int fin_collect_job_open(struct fin_collect_job *j, struct fin_cli *cli, const char *cmd);

/* Collects the current window into the sink and, once the sink has made the records
 * durable, saves the memory. run receives this window's counts. */
int fin_collect_job_run(struct fin_collect_job *j, struct fin_collect_stats *run);

/* Moves the window on to the present (schedules). */
int fin_collect_job_next_window(struct fin_collect_job *j);

/* Prints the "collect ..." summary line of one run to stderr. */
void fin_collect_job_summary(const struct fin_collect_job *j, const struct fin_collect_stats *run,
                             double seconds);

/* Flushes and closes the sink, frees everything; returns the flush's result. */
int fin_collect_job_close(struct fin_collect_job *j);

#endif
