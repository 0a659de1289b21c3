/* report.c - the renderer's entry point: checks the input, pivots the hourly highs, draws
 * the charts (charts.c) and writes the page (html.c) into the output folder.
 *
 * The page is written last and atomically, so index.html exists only when every chart it
 * shows has been drawn: a reader (or a web server) pointed at the folder never sees a page
 * whose images are missing. */
#include "report_int.h"

#include "finstream/error.h"
#include "finstream/fsutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fin__series_base(const char *ticker, char *out, size_t cap)
{
    size_t o = (size_t)snprintf(out, cap, "series-");
    for (const char *p = ticker; *p && o + 1 < cap; p++) {
        char ch = *p;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
        out[o++] = ok ? ch : '_';
    }
    out[o] = '\0';
}

void fin_report_range_from_series(const struct fin_report_series *s, struct fin_report_range *r)
{
    memset(r, 0, sizeof *r);
    r->ticker = s->ticker;
    r->bars = s->n;
    r->low = NAN;
    r->high = NAN;
    r->first = NAN;
    r->last = NAN;
    r->volume = NAN;
    if (s->n == 0)
        return;
    r->low = s->low[0];
    r->high = s->high[0];
    for (size_t i = 1; i < s->n; i++) {
        r->low = fmin(r->low, s->low[i]);
        r->high = fmax(r->high, s->high[i]);
    }
    r->first = (s->high[0] + s->low[0]) / 2;
    r->last = (s->high[s->n - 1] + s->low[s->n - 1]) / 2;
}

/* ---- the hourly pivot ----------------------------------------------------------- */

void fin__hourly_grid_fini(struct fin__hourly_grid *g)
{
    if (!g)
        return;
    free(g->tickers);
    free(g->cells);
    memset(g, 0, sizeof *g);
}

static void cell_add_minute(struct fin__hourly_cell *c, const char *datetime)
{
    /* "YYYY-MM-DD hh:mm:ss" -> "hh:mm" */
    char hm[8] = "?";
    if (datetime && strlen(datetime) >= 16)
        snprintf(hm, sizeof hm, "%.5s", datetime + 11);
    size_t len = strlen(c->minutes);
    if (strstr(c->minutes, hm))
        return;
    if (len + strlen(hm) + 3 < sizeof c->minutes - 6) {
        snprintf(c->minutes + len, sizeof c->minutes - len, "%s%s", len ? ", " : "", hm);
    } else if (!strstr(c->minutes, "…")) {
        snprintf(c->minutes + len, sizeof c->minutes - len, " …");
    }
}

int fin__hourly_grid_build(const struct fin_report_hourly *rows, size_t n,
                           struct fin__hourly_grid *g)
{
    int rc = 0;
    memset(g, 0, sizeof *g);
    bool seen[24] = {false};
    g->tickers = malloc((n ? n : 1) * sizeof *g->tickers);
    if (!g->tickers)
        return FIN_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const struct fin_report_hourly *r = &rows[i];
        if (!r->ticker || r->hour < 0 || r->hour > 23 || !isfinite(r->high)) {
            rc = fin_err_set(FIN_EINVAL, "hourly highs, row %zu: ticker %s, hour %d, high %g",
                             i + 1, r->ticker ? r->ticker : "(none)", r->hour, r->high);
            goto fail;
        }
        seen[r->hour] = true;
        /* Rows come grouped by ticker: compare with the last one first. */
        if (g->n_tickers && strcmp(g->tickers[g->n_tickers - 1], r->ticker) == 0)
            continue;
        size_t t = 0;
        while (t < g->n_tickers && strcmp(g->tickers[t], r->ticker) != 0)
            t++;
        if (t == g->n_tickers)
            g->tickers[g->n_tickers++] = r->ticker;
    }
    for (int h = 0; h < 24; h++)
        if (seen[h])
            g->hours[g->n_hours++] = h;
    g->cells = calloc(g->n_tickers * g->n_hours + 1, sizeof *g->cells);
    if (!g->cells) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    size_t t = 0;
    for (size_t i = 0; i < n; i++) {
        const struct fin_report_hourly *r = &rows[i];
        size_t h = 0;
        if (strcmp(g->tickers[t], r->ticker) != 0)
            for (t = 0; strcmp(g->tickers[t], r->ticker) != 0;)
                t++;
        while (g->hours[h] != r->hour)
            h++;
        struct fin__hourly_cell *c = fin__hourly_at(g, t, h);
        if (!c->set || r->high > c->high) {
            c->set = true;
            c->high = r->high;
            c->minutes[0] = '\0';
        }
        if (r->high == c->high)
            cell_add_minute(c, r->datetime);
    }
    return 0;
fail:
    fin__hourly_grid_fini(g);
    return rc;
}

/* ---- render ----------------------------------------------------------------------- */

void fin_report_output_fini(struct fin_report_output *out)
{
    if (!out)
        return;
    free(out->index_path);
    memset(out, 0, sizeof *out);
}

/* ---- choosing what the charts draw ------------------------------------------------- */

/* More active first: more shares traded when both carry volumes, else the wider range
 * relative to the first price; ties by ticker for a stable picture. */
static int cmp_activity(const void *a, const void *b)
{
    const struct fin_report_range *x = *(const struct fin_report_range *const *)a;
    const struct fin_report_range *y = *(const struct fin_report_range *const *)b;
    if (isfinite(x->volume) && isfinite(y->volume) && x->volume != y->volume)
        return x->volume > y->volume ? -1 : 1;
    double wx = (x->high - x->low) / x->first, wy = (y->high - y->low) / y->first;
    if (isfinite(wx) && isfinite(wy) && wx != wy)
        return wx > wy ? -1 : 1;
    return strcmp(x->ticker ? x->ticker : "", y->ticker ? y->ticker : "");
}

static int cmp_name_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The charts' input: the top most active ranges of in (all when there are no more),
 * copied into *ranges, and the hourly rows of those tickers into *hourly. Both owned by
 * the caller (free). */
static int pick_drawn(const struct fin_report_input *in, size_t top,
                      struct fin_report_input *drawn, struct fin_report_range **ranges,
                      struct fin_report_hourly **hourly)
{
    *drawn = *in;
    *ranges = NULL;
    *hourly = NULL;
    if (in->n_ranges <= top)
        return 0;
    const struct fin_report_range **order = malloc(in->n_ranges * sizeof *order);
    const char **names = malloc(top * sizeof *names);
    *ranges = malloc(top * sizeof **ranges);
    *hourly = malloc((in->n_hourly ? in->n_hourly : 1) * sizeof **hourly);
    if (!order || !names || !*ranges || !*hourly) {
        free(order);
        free(names);
        free(*ranges);
        free(*hourly);
        *ranges = NULL;
        *hourly = NULL;
        return FIN_ENOMEM;
    }
    for (size_t i = 0; i < in->n_ranges; i++)
        order[i] = &in->ranges[i];
    qsort(order, in->n_ranges, sizeof *order, cmp_activity);
    for (size_t i = 0; i < top; i++) {
        (*ranges)[i] = *order[i];
        names[i] = order[i]->ticker ? order[i]->ticker : "";
    }
    qsort(names, top, sizeof *names, cmp_name_ptr);
    size_t nh = 0;
    for (size_t i = 0; i < in->n_hourly; i++) {
        const char *tk = in->hourly[i].ticker ? in->hourly[i].ticker : "";
        if (bsearch(&tk, names, top, sizeof *names, cmp_name_ptr))
            (*hourly)[nh++] = in->hourly[i];
    }
    drawn->ranges = *ranges;
    drawn->n_ranges = top;
    drawn->hourly = *hourly;
    drawn->n_hourly = nh;
    free(order);
    free(names);
    return 0;
}

int fin_report_render(const struct fin_report_input *in, const char *out_dir,
                      struct fin_report_output *out)
{
    int rc = 0;
    struct fin__hourly_grid g = {0}, gd = {0};
    struct fin_report_input drawn;
    struct fin_report_range *drawn_ranges = NULL;
    struct fin_report_hourly *drawn_hourly = NULL;
    struct fin__page_chart *charts = NULL;
    char (*bases)[96] = NULL;
    struct fin_buf page;
    char *index = NULL;
    size_t n_charts = 0;
    fin_buf_init(&page);
    if (out)
        memset(out, 0, sizeof *out);

    if (!in || !out_dir || !*out_dir)
        return fin_err_set(FIN_EINVAL, "report: no input or no output folder");
    if (in->n_ranges == 0)
        return fin_err_set(FIN_EINVAL, "report: no tickers to show for %s",
                           in->date ? in->date : "the day");
    if (in->n_series > FIN_REPORT_MAX_SERIES)
        return fin_err_set(FIN_ELIMIT, "report: %zu time-series charts, at most %d",
                           in->n_series, FIN_REPORT_MAX_SERIES);

    size_t top = in->top ? in->top : FIN_REPORT_DEFAULT_TOP;
    rc = fin__hourly_grid_build(in->hourly, in->n_hourly, &g);
    if (!rc)
        rc = pick_drawn(in, top, &drawn, &drawn_ranges, &drawn_hourly);
    if (!rc)
        rc = fin__hourly_grid_build(drawn.hourly, drawn.n_hourly, &gd);
    if (rc)
        goto fail;
    rc = fin_mkdir_p(out_dir, 0755);
    if (rc)
        goto fail;

    charts = calloc(in->n_series + 2, sizeof *charts);
    bases = calloc(in->n_series + 1, sizeof *bases);
    if (!charts || !bases) {
        rc = FIN_ENOMEM;
        goto fail;
    }

    rc = fin__chart_range(out_dir, "range", &drawn);
    if (rc)
        goto fail;
    charts[n_charts++] = (struct fin__page_chart){"range", "Trading range"};
    for (size_t i = 0; i < in->n_series; i++) {
        const struct fin_report_series *s = &in->series[i];
        fin__series_base(s->ticker ? s->ticker : "", bases[i], sizeof bases[i]);
        for (size_t j = 0; j < i; j++)
            if (strcmp(bases[j], bases[i]) == 0) {
                rc = fin_err_set(FIN_EINVAL, "report: ticker %s is chosen twice", s->ticker);
                goto fail;
            }
        rc = fin__chart_series(out_dir, bases[i], in, s);
        if (rc)
            goto fail;
        charts[n_charts++] = (struct fin__page_chart){bases[i], s->ticker};
    }
    if (gd.n_tickers > 0) {
        rc = fin__chart_hourly(out_dir, "hourly", &drawn, &gd);
        if (rc)
            goto fail;
        charts[n_charts++] = (struct fin__page_chart){"hourly", "Hourly highs"};
    }

    rc = fin__html_page(&page, in, &g, drawn.n_ranges, charts, n_charts);
    if (rc)
        goto fail;
    index = fin_path_join(out_dir, "index.html");
    if (!index) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    rc = fin_write_file_atomic(index, page.data, page.len);
    if (rc)
        goto fail;
    if (out) {
        out->index_path = index;
        index = NULL;
        out->n_charts = n_charts;
        out->n_files = 2 * n_charts + 1;
        snprintf(out->date, sizeof out->date, "%s", in->date ? in->date : "");
        out->n_tickers = in->n_ranges;
        out->n_drawn = drawn.n_ranges;
        out->records = in->prov.records;
    }
fail:
    free(index);
    fin_buf_fini(&page);
    free(charts);
    free(bases);
    free(drawn_ranges);
    free(drawn_hourly);
    fin__hourly_grid_fini(&g);
    fin__hourly_grid_fini(&gd);
    return rc;
}
