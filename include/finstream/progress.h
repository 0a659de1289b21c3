/* progress.h - a progress line on a terminal and log events for machines.
 *
 * Progress. A stage (collect, deliver, crawl, query, report) begins with its name and,
 * when known, the total it works towards; the code doing the work adds to two counters
 * (records or objects, and bytes) as it goes, which costs two relaxed atomic adds. A
 * thread redraws one line on stderr five times a second:
 *
 *     deliver   1,234,567 / 3,000,000 records  118 MiB  412,000/s  41%  4 s left
 *
 * and the line is erased when the stage ends (the command then prints its summary).
 * Nothing is drawn unless fin_progress_enable(true) was called, which the command line
 * does only when stderr is a terminal and -q was not given. Code that reports progress
 * does not need to know: without a stage begun, fin_progress_add does nothing visible.
 * A stage with no counts (a query) still shows its elapsed time.
 *
 * Log events. A long-running command (a following deliver, serve) reports what it did
 * as events: one line each, "event key=value ..." (logfmt) or, after
 * fin_log_set_json(true), one JSON object per line:
 *
 *     {"time":"2026-12-04T15:00:00.123Z","event":"flush","delivery":"lake","records":3900}
 *
 * Messages of fin_log (warnings, errors) follow the same format. */
#ifndef FINSTREAM_PROGRESS_H
#define FINSTREAM_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

void fin_progress_enable(bool on);
bool fin_progress_enabled(void);

/* Starts stage `name` (a static string, up to 9 characters shown). unit names what the
 * first counter counts ("records", "objects", "bars", "tickers"); total_units and
 * total_bytes are the totals when known (0: unknown, then no percentage or estimate).
 * A stage already running is ended first. */
void fin_progress_begin(const char *name, const char *unit, uint64_t total_units,
                        uint64_t total_bytes);

/* Adds to the running stage's counters; any thread. */
void fin_progress_add(uint64_t units, uint64_t bytes);

/* Sets the total once it becomes known. */
void fin_progress_set_total(uint64_t total_units, uint64_t total_bytes);

/* Ends the stage and erases the line. */
void fin_progress_end(void);

/* Erases the line now (the next redraw brings it back); fin_log calls it before it
 * writes a message, so messages never land in the middle of a progress line. */
void fin_progress_clear(void);

/* ---- log events -------------------------------------------------------------------- */

/* The type of each value that follows a key in fin_log_event's list. */
enum fin_log_type { FIN_LOG_STR = 1, FIN_LOG_U64, FIN_LOG_I64, FIN_LOG_F64 };

/* fin_log_event("flush", "delivery", FIN_LOG_STR, name, "records", FIN_LOG_U64, n,
 *               (char *)NULL);
 * Writes one event line to stderr in the chosen format (strings as given: a value with
 * spaces is quoted in text). Printed unless the log level is above info (-q). */
void fin_log_event(const char *event, ...);

#endif
