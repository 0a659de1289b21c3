/* reports.c - the report pages, and the data behind their interactive charts.
 *
 *   GET /api/reports                       the reports `finstream report` wrote (one
 *                                          folder per day under reports/) and their files
 *   GET /api/reports/data?date=D&tickers=FB,NFLX
 *                                          the day's ranges per ticker, high/low series
 *                                          for the chosen tickers and the hourly highs,
 *                                          from the lake through the report's own loader
 *                                          and summary (the numbers the PNG charts show)
 *   GET /reports/DATE/FILE                 a file of a written report (PNG, SVG, HTML)
 */
#include "internal.h"

#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/report.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static bool safe_component(const char *s, size_t n)
{
    if (n == 0 || n > 200 || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
            return false;
    return true;
}

static int cmp_desc(const void *a, const void *b)
{
    return strcmp(*(char *const *)b, *(char *const *)a);
}

static void reports_list(struct fin_console *c, struct cresp *r)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/reports", c->data_dir);
    json_t *arr = json_array();
    DIR *d = opendir(dir);
    char *names[512];
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) && n < 512)
        if (e->d_name[0] != '.' && safe_component(e->d_name, strlen(e->d_name)))
            names[n++] = strdup(e->d_name);
    if (d)
        closedir(d);
    qsort(names, n, sizeof *names, cmp_desc);
    for (size_t i = 0; i < n; i++) {
        if (!names[i])
            continue;
        char sub[4400];
        snprintf(sub, sizeof sub, "%s/%s", dir, names[i]);
        json_t *files = json_array();
        DIR *sd = opendir(sub);
        while (sd && (e = readdir(sd)))
            if (e->d_name[0] != '.')
                json_array_append_new(files, json_string(e->d_name));
        if (sd) {
            closedir(sd);
            json_array_append_new(arr, json_pack("{s:s,s:o}", "date", names[i], "files", files));
        } else {
            json_decref(files);
        }
        free(names[i]);
    }
    resp_json(r, 200, json_pack("{s:o}", "reports", arr));
}

static void reports_data(struct fin_console *c, const struct creq *q, struct cresp *r)
{
    const char *date = q->arg(q->arg_ctx, "date");
    const char *tickers = q->arg(q->arg_ctx, "tickers");
    struct fin_report_data *d = NULL;
    const struct fin_report_input *in = NULL;
    char lake[4096];
    snprintf(lake, sizeof lake, "%s/lake", c->data_dir);
    int rc = fin_report_data_create(&d);
    if (!rc)
        rc = fin_report_load_dir(d, lake);
    struct fin_report_select sel = {.date = date && *date ? date : NULL,
                                    .tickers = tickers && *tickers ? tickers : NULL};
    if (!rc)
        rc = fin_report_data_finish(d, &sel, &in);
    if (rc) {
        resp_fin_error(r, rc);
        fin_report_data_destroy(d);
        return;
    }
    json_t *ranges = json_array(), *series = json_array(), *hourly = json_array();
    for (size_t i = 0; i < in->n_ranges; i++) {
        const struct fin_report_range *g = &in->ranges[i];
        json_array_append_new(ranges, json_pack("{s:s,s:f,s:f,s:f,s:f,s:I}", "ticker", g->ticker,
                                                "low", g->low, "high", g->high, "first", g->first,
                                                "last", g->last, "bars", (json_int_t)g->bars));
    }
    for (size_t i = 0; i < in->n_series; i++) {
        const struct fin_report_series *s = &in->series[i];
        json_t *t = json_array(), *hi = json_array(), *lo = json_array();
        for (size_t k = 0; k < s->n; k++) {
            json_array_append_new(t, json_integer(s->t[k]));
            json_array_append_new(hi, json_real(s->high[k]));
            json_array_append_new(lo, json_real(s->low[k]));
        }
        json_array_append_new(series, json_pack("{s:s,s:i,s:o,s:o,s:o}", "ticker", s->ticker,
                                                "utc_offset", (int)s->utc_offset, "t", t, "high",
                                                hi, "low", lo));
    }
    for (size_t i = 0; i < in->n_hourly; i++) {
        const struct fin_report_hourly *h = &in->hourly[i];
        json_array_append_new(hourly, json_pack("{s:s,s:i,s:f,s:s}", "ticker", h->ticker, "hour",
                                                h->hour, "high", h->high, "datetime", h->datetime));
    }
    struct fin_report_data_stats st;
    fin_report_data_stats(d, &st);
    resp_json(r, 200, json_pack("{s:s,s:o,s:o,s:o,s:I,s:I}", "date", in->date, "ranges", ranges,
                                "series", series, "hourly", hourly, "bars", (json_int_t)st.day_bars,
                                "objects", (json_int_t)st.objects));
    fin_report_data_destroy(d);
}

void api_reports(struct fin_console *c, const struct creq *q, struct cresp *r, const char *rest)
{
    if (strcmp(q->method, "GET") != 0 && strcmp(q->method, "HEAD") != 0)
        resp_error(r, 405, "method", "%s %s: only GET here", q->method, q->path);
    else if (!*rest)
        reports_list(c, r);
    else if (strcmp(rest, "data") == 0)
        reports_data(c, q, r);
    else
        resp_error(r, 404, "not_found", "no API route %s %s", q->method, q->path);
}

static const char *type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return "application/octet-stream";
    if (strcmp(dot, ".png") == 0)
        return "image/png";
    if (strcmp(dot, ".svg") == 0)
        return "image/svg+xml";
    if (strcmp(dot, ".html") == 0)
        return "text/html; charset=utf-8";
    if (strcmp(dot, ".csv") == 0)
        return "text/csv; charset=utf-8";
    return "application/octet-stream";
}

void reports_static(struct fin_console *c, const struct creq *q, struct cresp *r, const char *rest)
{
    if (!q->session_ok) {
        resp_error(r, 401, "login_required", "log in to the console first");
        return;
    }
    const char *slash = strchr(rest, '/');
    if (!slash || !safe_component(rest, (size_t)(slash - rest)) ||
        !safe_component(slash + 1, strlen(slash + 1))) {
        resp_error(r, 404, "not_found", "no report file %s", rest);
        return;
    }
    char path[4400];
    snprintf(path, sizeof path, "%s/reports/%s", c->data_dir, rest);
    char *data = NULL;
    size_t len = 0;
    int rc = fin_read_file(path, &data, &len);
    if (rc) {
        resp_fin_error(r, rc);
        return;
    }
    r->status = 200;
    r->content_type = type_of(rest);
    fin_buf_append(&r->body, data, len);
    free(data);
}
