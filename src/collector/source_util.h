/* source_util.h - what the file sources (csv, replay) and the yahoo source share:
 * listing input files, the ticker filter, the set of tickers seen, and internal entry
 * points that the unit tests call directly. Private to src/collector. */
#ifndef FINSTREAM_COLLECTOR_SOURCE_UTIL_H
#define FINSTREAM_COLLECTOR_SOURCE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "finstream/clock.h"
#include "finstream/collector.h"

struct fin_http_transport;

/* ---- input files ---- */

struct fin_file_list {
    char **paths;   /* owned */
    size_t n;
};

/* Accepts a file (taken as it is) or a folder, walked recursively when recursive is true,
 * hidden entries ('.' first) skipped. In a folder only names accepted by want (NULL: all)
 * are listed. The list is sorted by path (bytewise), so a run is reproducible.
 * Freed by fin_file_list_fini. */
int fin_file_list_build(struct fin_file_list *l, const char *path, bool recursive,
                        bool (*want)(const char *name));
void fin_file_list_fini(struct fin_file_list *l);

/* ---- tickers ---- */

/* A set of ticker names, compared without regard to case. */
struct fin_name_set {
    char **names;   /* owned */
    size_t n, cap;
};

void fin_name_set_init(struct fin_name_set *s);
void fin_name_set_fini(struct fin_name_set *s);
bool fin_name_set_has(const struct fin_name_set *s, const char *name, size_t len);
/* Adds name unless present; FIN_ENOMEM. */
int fin_name_set_add(struct fin_name_set *s, const char *name, size_t len);

/* True when tickers other than the default (the classic ten) were given: only then do the
 * file sources filter by ticker, as the default means "whatever the files hold". */
bool fin_tickers_given(const struct fin_collect_settings *set);

/* The ticker filter of the file sources (case-insensitive); passes everything unless
 * given. Freed by fin_ticker_filter_fini. */
struct fin_ticker_filter {
    bool active;
    struct fin_name_set want;
    struct fin_name_set seen;   /* requested tickers that matched a record */
};

int fin_ticker_filter_init(struct fin_ticker_filter *f, bool given, const char *const *tickers,
                           size_t n_tickers);
void fin_ticker_filter_fini(struct fin_ticker_filter *f);
/* True when a record for name passes (and notes the match). */
bool fin_ticker_filter_pass(struct fin_ticker_filter *f, const char *name, size_t len);
/* Warns about requested tickers no record matched; returns how many. */
size_t fin_ticker_filter_report(const struct fin_ticker_filter *f, const char *source);

/* True for a usable ticker: 1 to FIN_TICKER_MAX letters, digits or . - ^ = _ (the
 * characters the collector accepts in --tickers). */
bool fin_ticker_name_ok(const char *s, size_t n);

/* True when the settings name a window (date, start or end): only then do the file
 * sources drop records outside it. */
bool fin_window_given(const struct fin_collect_settings *set);

/* ---- entry points for tests ---- */

/* Uses http and clock (borrowed) instead of libcurl and the real clock, and seeds the
 * jitter; s must be a yahoo source. */
void fin_yahoo_use_seams(struct fin_source *s, struct fin_http_transport *http,
                         const struct fin_clock *clock, uint64_t seed);

/* Parses one chart answer for ticker and emits its bars within w. Returns 0, or
 * FIN_EPARSE / FIN_ENOENT with a message naming ticker and url. */
int fin_yahoo_parse(const char *ticker, const char *url, const char *body, size_t len,
                    const struct fin_window *w, struct fin_emitter *em);

/* Parses CSV text as one file of the csv source would be (label names it in messages;
 * with w NULL, no window filter) and emits its rows. Returns 0 or the file's failure. */
int fin_csv_parse(const char *label, const char *text, size_t len, const struct fin_window *w,
                  struct fin_emitter *em);

/* The UTC offset (seconds east) of time zone zone ("Europe/London") at UTC time t, read
 * from the system's zoneinfo; fallback when the zone or the time is not covered. */
int32_t fin_zone_utc_offset(const char *zone, int64_t t, int32_t fallback);

/* The UTC offset a CSV time states ("...-04:00", "...+0530"); false when it states none
 * or states "Z". */
bool fin_time_text_offset(const char *s, int32_t *offset);

#endif
