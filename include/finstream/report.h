/* report.h - charts and an HTML page from a day of market data.
 *
 * Two layers. The renderer (fin_report_render) takes the day's data in memory and writes
 * PNG and SVG charts plus one static HTML page into an output folder:
 *
 *     range.png/.svg          each ticker's trading range for the day (floating bars)
 *     series-<TICKER>.png/.svg high and low per bar for each chosen ticker, exchange time
 *     hourly.png/.svg         the hourly highs per ticker
 *     index.html              the charts, the hourly-high table and the data's provenance
 *
 * The data layer (struct fin_report_data) gathers a day's bars, from a catalog table
 * through the query engine or from a folder of lake objects, and summarises them into
 * the renderer's input; fin_report_make does both in one call. src/report/ is the only
 * code that includes plplot.h; PLplot keeps global state, so charts are drawn one at a
 * time under a process-wide lock and fin_report_render may be called from any thread. */
#ifndef FINSTREAM_REPORT_H
#define FINSTREAM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Tickers the time-series charts show when none are chosen: the two the classic analysis
 * looked at. */
#define FIN_REPORT_DEFAULT_TICKERS "FB,NFLX"
/* The table the loader reads when none is given. */
#define FIN_REPORT_DEFAULT_TABLE "finance.stocks"
/* Tickers the range and hourly charts draw when the input does not say (the charts grow
 * with the count); the page's tables list every ticker whatever the count. */
#define FIN_REPORT_DEFAULT_TOP 30
/* Most time-series charts in one report; tickers chosen past it are left out with a
 * warning (fin_report_data_stats' series_dropped). */
#define FIN_REPORT_MAX_SERIES 20

/* One ticker's bars for the day, in time order. All arrays have n entries and are borrowed
 * for the duration of the call that receives them. */
struct fin_report_series {
    const char *ticker;
    size_t n;
    const int64_t *t;        /* bar start, UTC seconds */
    const double *high;
    const double *low;
    int32_t utc_offset;      /* the exchange's offset east of UTC that day, seconds
                              * (-14400 for New York in May); the time axis shows
                              * t + utc_offset, i.e. exchange-local time */
    const char *interval;    /* bar length for titles ("1m"), may be NULL */
};

/* One ticker's trading day. first/last are the prices the day opened and closed at: the
 * first bar's open and the last bar's close, or, for records without open/close, the
 * midpoint (high + low) / 2 of the first and last bar (has_close says which). */
struct fin_report_range {
    const char *ticker;      /* borrowed */
    double low, high;
    double first, last;
    bool has_close;
    size_t bars;
    double volume;           /* shares traded that day; NAN when the records carry none */
};

/* One row of the hourly-high answer: the highest high of a ticker within one
 * exchange-local hour and a minute at which it occurred (ties give several rows). */
struct fin_report_hourly {
    const char *ticker;      /* borrowed */
    int hour;                /* 0..23, exchange-local */
    double high;
    const char *datetime;    /* "YYYY-MM-DD hh:mm:ss", exchange-local; borrowed */
};

/* Where the data came from, printed on the page. Strings borrowed; any may be NULL. */
struct fin_report_provenance {
    const char *source;      /* "finance.stocks (lake/)" */
    const char *window;      /* "2020-05-14 09:30:00-04:00 .. 2020-05-14 15:59:00-04:00" */
    uint64_t records;        /* records in the window */
    const char *query;       /* SQL behind the hourly-high table */
    const char *result_file; /* where that answer was saved as CSV */
};

struct fin_report_input {
    const char *date;        /* "YYYY-MM-DD", the trading day shown */
    const struct fin_report_range *ranges;
    size_t n_ranges;
    const struct fin_report_series *series;
    size_t n_series;
    const struct fin_report_hourly *hourly;   /* ordered by ticker, hour, datetime */
    size_t n_hourly;
    struct fin_report_provenance prov;
    int64_t generated_at;    /* UTC seconds, printed in the footer; 0 leaves it out */
    size_t top;              /* the range and hourly charts draw the top most active
                              * tickers (most shares traded; without volumes, the widest
                              * relative range), 0: FIN_REPORT_DEFAULT_TOP, SIZE_MAX: all.
                              * Any ticker count is accepted; the tables list them all. */
};

/* What fin_report_render (or fin_report_make) wrote. */
struct fin_report_output {
    char *index_path;        /* out_dir/index.html; owned, freed by fin_report_output_fini */
    size_t n_charts;         /* charts drawn (each as PNG and SVG) */
    size_t n_files;          /* files written, index.html included */
    char date[11];           /* the day drawn, "YYYY-MM-DD" */
    size_t n_tickers;        /* tickers on the page */
    size_t n_drawn;          /* of which the range chart draws */
    uint64_t records;        /* bars of the day behind it */
};

/* Chart sizes in pixels (PNG) and points (SVG). */
#define FIN_REPORT_WIDTH 1100
#define FIN_REPORT_SERIES_HEIGHT 560

/* Draws every chart and writes index.html into out_dir (created when missing). Each file
 * is written under a temporary name and renamed, so a reader never sees half a chart.
 * A ticker appears in the file names with characters outside [A-Za-z0-9._-] replaced by
 * '_'. Returns 0, or FIN_EINVAL for input the charts cannot show (no ranges, a series
 * with mismatched or non-finite values), FIN_EIO when a file cannot be written or a
 * chart fails to draw, each with a message naming the chart or ticker. out may be NULL. */
int fin_report_render(const struct fin_report_input *in, const char *out_dir,
                      struct fin_report_output *out);

void fin_report_output_fini(struct fin_report_output *out);

/* The day's summary of one series: low, high, and first/last from the bar midpoints
 * (has_close false). Useful when only bars are at hand. */
void fin_report_range_from_series(const struct fin_report_series *s,
                                  struct fin_report_range *r);

/* ---- gathering a day's data ---------------------------------------------------- */

/* A day's data for the renderer, with everything the input points into. Built from bars
 * one at a time (fin_report_data_add) by a loader, then summarised for one day
 * (fin_report_data_finish). Opaque; freed with fin_report_data_destroy. */
struct fin_report_data;

struct fin_report_select {
    const char *date;        /* "YYYY-MM-DD" exchange-local; NULL: the latest day present */
    const char *tickers;     /* comma list for the time-series charts, matched without
                              * regard to case; NULL: FIN_REPORT_DEFAULT_TICKERS */
};

int fin_report_data_create(struct fin_report_data **out);
void fin_report_data_destroy(struct fin_report_data *d);

/* Adds one bar. ts is the bar start as the source wrote it; the forms the lake holds are
 * understood: "2020-05-14 09:30:00-04:00", "05/14/2020 09:30:00" and
 * "05-11-2021 09:30:00-0400" (a time without an offset is New York time). open and close
 * may be NAN when the records do not carry them, and volume (shares in the bar). where names the record in messages
 * ("lake/2020/05/14/x.json:17"). FIN_EPARSE for a ts or prices that cannot be a bar. */
int fin_report_data_add(struct fin_report_data *d, const char *ticker, const char *ts,
                        double open, double high, double low, double close, double volume,
                        const char *where);

/* Counts a record that could not be used (the loader has already said why). */
void fin_report_data_count_bad(struct fin_report_data *d);

/* Sets the provenance's source text (copied). */
int fin_report_data_set_source(struct fin_report_data *d, const char *source);

/* Summarises the chosen day: ranges per ticker, series for the chosen tickers, and the
 * hourly-high answer (the highest high per ticker and exchange hour, one row per minute
 * it occurred), and fills the renderer's input. A bar seen twice (same ticker and time)
 * counts once. FIN_ENOENT when the day has no bars, naming the days there are. *in is
 * borrowed from d, valid until d is destroyed. */
int fin_report_data_finish(struct fin_report_data *d, const struct fin_report_select *sel,
                           const struct fin_report_input **in);

/* What finish found, for the command's summary. */
struct fin_report_data_stats {
    char source[300];        /* what was read: "table finance.stocks" or "folder" */
    uint64_t bars_read;      /* bars added */
    uint64_t bad;            /* records refused */
    uint64_t duplicates;     /* bars of the day seen more than once */
    uint64_t day_bars;       /* bars of the chosen day, duplicates removed */
    size_t missing;          /* chosen tickers without bars that day */
    char missing_list[256];  /* "X, Y" */
    uint64_t objects;        /* objects read by fin_report_load_dir */
    uint64_t bytes;          /* their size on disk, or the bytes a table query scanned */
    size_t series_dropped;   /* chosen tickers past FIN_REPORT_MAX_SERIES, not drawn */
};
void fin_report_data_stats(const struct fin_report_data *d, struct fin_report_data_stats *st);

/* The whole report in one call, for the command line and for `finstream run`. */
struct fin_report_request {
    const char *data_dir;    /* the data directory: its catalog, lake and reports */
    const char *table;       /* catalog table "db.table" read through the query engine */
    const char *from;        /* or a folder of objects read directly. Neither: the table
                              * FIN_REPORT_DEFAULT_TABLE, or the catalog's only table,
                              * when the catalog has it; else <data_dir>/lake */
    const char *out_dir;     /* NULL: <data_dir>/reports/<date> */
    struct fin_report_select sel;
    size_t top;              /* as fin_report_input's top */
    const char *query;       /* provenance: the SQL behind the hourly answer, or NULL */
    const char *result_file; /* provenance: where that answer was saved, or NULL */
    int64_t generated_at;    /* UTC seconds for the footer; 0 leaves it out */
};

/* Loads the bars (from the table through the query engine, or from the folder),
 * summarises the chosen day and renders it. From a table, the page's hourly-high table is
 * the engine's answer to the hourly-high query, whose SQL the page shows. st (may be
 * NULL) receives what loading found (bad records, duplicates, missing tickers), also when
 * rendering fails. Errors as fin_report_load_dir, fin_report_data_finish and
 * fin_report_render; FIN_ESQL or FIN_ENOENT naming the table when it cannot be read. */
int fin_report_make(const struct fin_report_request *req, struct fin_report_output *out,
                    struct fin_report_data_stats *st);

/* Reads every object under dir (recursively; hidden files, temporary names and an
 * errors/ folder at the top are skipped) with the lake's framing reader, whatever its
 * framing or compression, and adds each JSON record's bar. Keys are matched without
 * regard to case (Name, High, Low, Timestamp as well as name, high, low, ts). A record
 * that cannot be used is reported (the first few by file and line), counted, and skipped.
 * FIN_ENOENT when dir does not exist. */
int fin_report_load_dir(struct fin_report_data *d, const char *dir);

#endif
