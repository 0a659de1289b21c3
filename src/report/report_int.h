/* report_int.h - what the report's files share: the chart drawer (charts.c, the only
 * code that includes plplot.h) and the page writer (html.c). */
#ifndef FINSTREAM_REPORT_INT_H
#define FINSTREAM_REPORT_INT_H

#include "finstream/buf.h"
#include "finstream/report.h"

#include <stddef.h>

/* The hourly highs pivoted: one row per ticker, one column per hour that occurs anywhere,
 * each cell the highest high and the minutes ("10:04, 10:17") it was reached. Built from
 * the answer rows, which may list a ticker-hour several times (ties). */
struct fin__hourly_cell {
    bool set;
    double high;
    char minutes[64];        /* "hh:mm" joined by ", "; "+N" when they do not fit */
};

struct fin__hourly_grid {
    size_t n_tickers;
    const char **tickers;    /* borrowed from the input rows, in first-seen order */
    int hours[24];           /* the hours present, ascending */
    size_t n_hours;
    struct fin__hourly_cell *cells;  /* n_tickers * n_hours, row major */
};

int fin__hourly_grid_build(const struct fin_report_hourly *rows, size_t n,
                           struct fin__hourly_grid *g);
void fin__hourly_grid_fini(struct fin__hourly_grid *g);
static inline struct fin__hourly_cell *fin__hourly_at(const struct fin__hourly_grid *g,
                                                      size_t ticker, size_t hour)
{
    return &g->cells[ticker * g->n_hours + hour];
}

/* Each draws one chart as dir/<base>.png and dir/<base>.svg. */
int fin__chart_range(const char *dir, const char *base, const struct fin_report_input *in);
int fin__chart_series(const char *dir, const char *base, const struct fin_report_input *in,
                      const struct fin_report_series *s);
int fin__chart_hourly(const char *dir, const char *base, const struct fin_report_input *in,
                      const struct fin__hourly_grid *g);

/* The chart's file name stem for a ticker ("series-FB"); out holds at least 96 bytes. */
void fin__series_base(const char *ticker, char *out, size_t cap);

/* Counts a record that cannot be used and describes it (the first few only). */
void fin__report_data_bad(struct fin_report_data *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Replaces the hourly-high rows of a finished day with an answer from elsewhere (the
 * query engine): begin with the row count, then add each row in order. The datetime is
 * normalised like a ts ("05/14/2020 09:39:00" -> "2020-05-14 09:39:00"). */
int fin__report_data_hourly_begin(struct fin_report_data *d, size_t n);
int fin__report_data_hourly_add(struct fin_report_data *d, const char *ticker, int hour,
                                double high, const char *datetime);

/* The day "YYYY-MM-DD" of a ts or of its first ten characters, in any form the lake
 * holds; out holds 11 bytes. FIN_EPARSE when it is no date. */
int fin__report_day_of(const char *ts, char *out);

/* Reading a catalog table through the query engine (table.c). */
struct fin_query;
/* Adds the bars of table ("db.table"), only date's when date is not NULL; writes the
 * name of the table's time column into ts_col. */
int fin__report_table_load(struct fin_report_data *d, struct fin_query *q, const char *table,
                           const char *date, char *ts_col, size_t ts_cap);
/* Asks the hourly-high question of table for date and makes its answer the day's hourly
 * rows (d finished); the SQL is appended to sql. */
int fin__report_table_hourly(struct fin_report_data *d, struct fin_query *q, const char *table,
                             const char *ts, const char *date, struct fin_buf *sql);

/* Adds the records of one object held in memory, as the lake reader does for a file. */
int fin__report_load_mem(struct fin_report_data *d, const void *data, size_t len,
                         const char *label);

/* Counts an object the lake reader opened (for the provenance). */
void fin__report_data_count_object(struct fin_report_data *d, uint64_t bytes);

/* Appends the page; charts lists the stems that were drawn, in page order; n_drawn is how
 * many of the input's tickers the range and hourly charts show (the tables show all). */
struct fin__page_chart {
    const char *base;        /* file stem: <base>.png and <base>.svg */
    const char *caption;
};
int fin__html_page(struct fin_buf *b, const struct fin_report_input *in,
                   const struct fin__hourly_grid *g, size_t n_drawn,
                   const struct fin__page_chart *charts, size_t n_charts);

#endif
