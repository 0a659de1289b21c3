/* html.c - the report's page: one static HTML file with inline CSS and no script, which
 * shows the charts (PNG, with a link to the SVG), the day's ranges, the hourly-high table
 * and where the data came from. Every image it references is a file the renderer drew
 * into the same folder, by relative name, so the folder can be moved or served as is. */
#include "report_int.h"

#include "finstream/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char css[] =
    "body{margin:0;background:#f6f7f9;color:#222;"
    "font:15px/1.5 -apple-system,'Segoe UI','DejaVu Sans',Helvetica,Arial,sans-serif}\n"
    "main{max-width:1160px;margin:0 auto;padding:24px 28px 48px}\n"
    "h1{font-size:26px;margin:8px 0 2px}h2{font-size:19px;margin:36px 0 10px}\n"
    ".sub{color:#666;margin:0 0 18px}\n"
    "section.card{background:#fff;border:1px solid #e2e4e8;border-radius:8px;"
    "padding:16px 18px;margin:14px 0}\n"
    "figure{margin:0}figure img{width:100%;height:auto;display:block}\n"
    "figcaption{color:#666;font-size:13px;margin-top:6px}\n"
    "a{color:#2f5d8a}\n"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 18px;margin:0}\n"
    "dt{color:#666}dd{margin:0}\n"
    "pre{background:#f3f4f6;padding:10px;border-radius:6px;overflow-x:auto;font-size:13px}\n"
    ".scroll{overflow-x:auto}\n"
    "table{border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:14px}\n"
    "th,td{padding:5px 10px;text-align:right;border-bottom:1px solid #eceef1;white-space:nowrap}\n"
    "th{background:#fafbfc;font-weight:600;position:sticky;top:0}\n"
    "td.t,th.t{text-align:left;font-weight:600}\n"
    "tbody tr:nth-child(even){background:#fbfbfc}\n"
    "td small{display:block;color:#888;font-size:11px;white-space:normal;max-width:8em;"
    "margin-left:auto}\n"
    "table.hourly td{min-width:5.5em;vertical-align:top}\n"
    "td.max{background:#fff4d6}\n"
    ".up{color:#2e7d4a}.down{color:#c0392b}\n"
    "footer{color:#888;font-size:12px;margin-top:32px}\n";

static int put_esc(struct fin_buf *b, const char *s)
{
    int rc = 0;
    for (; s && *s && rc == 0; s++) {
        switch (*s) {
        case '&': rc = fin_buf_puts(b, "&amp;"); break;
        case '<': rc = fin_buf_puts(b, "&lt;"); break;
        case '>': rc = fin_buf_puts(b, "&gt;"); break;
        case '"': rc = fin_buf_puts(b, "&quot;"); break;
        case '\'': rc = fin_buf_puts(b, "&#39;"); break;
        default: rc = fin_buf_append(b, s, 1); break;
        }
    }
    return rc;
}

/* Thousands separators for counts: 3,844. */
static void fmt_count(char *out, size_t cap, uint64_t v)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < cap; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

/* The shortest text that reads back as v (what the source wrote: 137.97, not
 * 137.97000000000001). */
static void fmt_exact(char *out, size_t cap, double v)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, cap, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

static int put_provenance(struct fin_buf *b, const struct fin_report_input *in)
{
    const struct fin_report_provenance *p = &in->prov;
    char cnt[40];
    int rc = fin_buf_puts(b, "<section class=\"card\"><h2 style=\"margin-top:0\">Provenance</h2><dl>\n");
    if (p->source) {
        rc |= fin_buf_puts(b, "<dt>Source</dt><dd>");
        rc |= put_esc(b, p->source);
        rc |= fin_buf_puts(b, "</dd>\n");
    }
    if (p->window) {
        rc |= fin_buf_puts(b, "<dt>Window</dt><dd>");
        rc |= put_esc(b, p->window);
        rc |= fin_buf_puts(b, "</dd>\n");
    }
    fmt_count(cnt, sizeof cnt, p->records);
    rc |= fin_buf_printf(b, "<dt>Records</dt><dd>%s</dd>\n", cnt);
    rc |= fin_buf_printf(b, "<dt>Tickers</dt><dd>%zu</dd>\n", in->n_ranges);
    if (p->result_file) {
        rc |= fin_buf_puts(b, "<dt>Hourly-high answer</dt><dd><code>");
        rc |= put_esc(b, p->result_file);
        rc |= fin_buf_puts(b, "</code></dd>\n");
    }
    if (in->generated_at > 0) {
        time_t t = (time_t)in->generated_at;
        struct tm tm;
        char when[40];
        gmtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
        rc |= fin_buf_printf(b, "<dt>Generated</dt><dd>%s</dd>\n", when);
    }
    rc |= fin_buf_puts(b, "</dl>\n");
    if (p->query) {
        rc |= fin_buf_puts(b, "<details><summary>Query behind the hourly highs</summary><pre>");
        rc |= put_esc(b, p->query);
        rc |= fin_buf_puts(b, "</pre></details>\n");
    }
    rc |= fin_buf_puts(b, "</section>\n");
    return rc ? FIN_ENOMEM : 0;
}

static int put_figure(struct fin_buf *b, const struct fin__page_chart *c, const char *alt)
{
    int rc = fin_buf_puts(b, "<section class=\"card\"><figure><img src=\"");
    rc |= put_esc(b, c->base);
    rc |= fin_buf_puts(b, ".png\" alt=\"");
    rc |= put_esc(b, alt);
    rc |= fin_buf_puts(b, "\" loading=\"lazy\"><figcaption>");
    rc |= put_esc(b, alt);
    rc |= fin_buf_puts(b, " &middot; <a href=\"");
    rc |= put_esc(b, c->base);
    rc |= fin_buf_puts(b, ".svg\">SVG</a> &middot; <a href=\"");
    rc |= put_esc(b, c->base);
    rc |= fin_buf_puts(b, ".png\">PNG</a></figcaption></figure></section>\n");
    return rc ? FIN_ENOMEM : 0;
}

/* Says which tickers a chart shows when it shows fewer than the page lists. */
static int put_drawn_note(struct fin_buf *b, const struct fin_report_input *in, size_t n_drawn)
{
    if (n_drawn >= in->n_ranges)
        return 0;
    bool volumes = in->n_ranges > 0 && isfinite(in->ranges[0].volume);
    return fin_buf_printf(b, "<p class=\"sub\">The chart draws the %zu most active of the %zu "
                          "tickers (%s); the table below lists all of them.</p>\n",
                          n_drawn, in->n_ranges,
                          volumes ? "most shares traded" : "widest range for the day")
               ? FIN_ENOMEM : 0;
}

static int put_ranges(struct fin_buf *b, const struct fin_report_input *in)
{
    bool closes = in->n_ranges > 0 && in->ranges[0].has_close;
    int rc = fin_buf_printf(b,
                            "<section class=\"card scroll\"><table><thead><tr><th class=\"t\">Ticker</th>"
                            "<th>Low</th><th>High</th><th>Range</th><th>%s</th><th>%s</th>"
                            "<th>Change</th><th>Bars</th></tr></thead><tbody>\n",
                            closes ? "Open" : "First (mid)", closes ? "Close" : "Last (mid)");
    for (size_t i = 0; i < in->n_ranges; i++) {
        const struct fin_report_range *r = &in->ranges[i];
        double chg = (r->last / r->first - 1) * 100;
        double rng = (r->high - r->low) / r->first * 100;
        rc |= fin_buf_puts(b, "<tr><td class=\"t\">");
        rc |= put_esc(b, r->ticker);
        rc |= fin_buf_printf(b, "</td><td>%.2f</td><td>%.2f</td><td>%.2f%%</td><td>%.2f</td>"
                             "<td>%.2f</td><td class=\"%s\">%+.2f%%</td><td>%zu</td></tr>\n",
                             r->low, r->high, rng, r->first, r->last, chg >= 0 ? "up" : "down",
                             chg, r->bars);
    }
    rc |= fin_buf_puts(b, "</tbody></table></section>\n");
    return rc ? FIN_ENOMEM : 0;
}

static int put_hourly_table(struct fin_buf *b, const struct fin__hourly_grid *g)
{
    int rc = fin_buf_puts(b, "<section class=\"card scroll\"><table class=\"hourly\"><thead><tr>"
                             "<th class=\"t\">Ticker</th>");
    for (size_t h = 0; h < g->n_hours; h++)
        rc |= fin_buf_printf(b, "<th>%02d:00</th>", g->hours[h]);
    rc |= fin_buf_puts(b, "</tr></thead><tbody>\n");
    for (size_t t = 0; t < g->n_tickers; t++) {
        double day = -INFINITY;
        for (size_t h = 0; h < g->n_hours; h++)
            if (fin__hourly_at(g, t, h)->set)
                day = fmax(day, fin__hourly_at(g, t, h)->high);
        rc |= fin_buf_puts(b, "<tr><td class=\"t\">");
        rc |= put_esc(b, g->tickers[t]);
        rc |= fin_buf_puts(b, "</td>");
        for (size_t h = 0; h < g->n_hours; h++) {
            const struct fin__hourly_cell *c = fin__hourly_at(g, t, h);
            if (!c->set) {
                rc |= fin_buf_puts(b, "<td>&ndash;</td>");
                continue;
            }
            char exact[32];
            fmt_exact(exact, sizeof exact, c->high);
            rc |= fin_buf_printf(b, "<td%s title=\"%s USD\">%.2f<small>",
                                 c->high == day ? " class=\"max\"" : "", exact, c->high);
            rc |= put_esc(b, c->minutes);
            rc |= fin_buf_puts(b, "</small></td>");
        }
        rc |= fin_buf_puts(b, "</tr>\n");
    }
    rc |= fin_buf_puts(b, "</tbody></table><p class=\"sub\" style=\"margin:8px 0 0\">Each cell: the "
                          "highest high (USD) within the exchange hour and the minute(s) it was "
                          "reached; the shaded cell is the ticker's high of the day.</p></section>\n");
    return rc ? FIN_ENOMEM : 0;
}

int fin__html_page(struct fin_buf *b, const struct fin_report_input *in,
                   const struct fin__hourly_grid *g, size_t n_drawn,
                   const struct fin__page_chart *charts, size_t n_charts)
{
    const char *date = in->date ? in->date : "";
    char cnt[40];
    fmt_count(cnt, sizeof cnt, in->prov.records);
    int rc = fin_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                             "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
                             "<title>Market report ");
    rc |= put_esc(b, date);
    rc |= fin_buf_printf(b, "</title>\n<style>\n%s</style></head>\n<body><main>\n", css);
    rc |= fin_buf_puts(b, "<h1>Market report, ");
    rc |= put_esc(b, date);
    rc |= fin_buf_printf(b, "</h1>\n<p class=\"sub\">%zu tickers &middot; %s records", in->n_ranges, cnt);
    if (in->prov.source) {
        rc |= fin_buf_puts(b, " &middot; ");
        rc |= put_esc(b, in->prov.source);
    }
    rc |= fin_buf_puts(b, "</p>\n");
    if (rc)
        return FIN_ENOMEM;

    size_t c = 0;
    if (c < n_charts && strcmp(charts[c].base, "range") == 0) {
        rc = fin_buf_puts(b, "<h2>Trading range</h2>\n");
        rc |= put_figure(b, &charts[c++], "Each ticker's low-to-high range for the day");
        rc |= put_drawn_note(b, in, n_drawn);
        rc |= put_ranges(b, in);
        if (rc)
            return FIN_ENOMEM;
    }
    if (in->n_series > 0 && fin_buf_puts(b, "<h2>High and low through the day</h2>\n"))
        return FIN_ENOMEM;
    for (; c < n_charts && strcmp(charts[c].base, "hourly") != 0; c++) {
        char alt[160];
        snprintf(alt, sizeof alt, "%s: high and low per bar, exchange time", charts[c].caption);
        if (put_figure(b, &charts[c], alt))
            return FIN_ENOMEM;
    }
    if (g->n_tickers > 0) {
        rc = fin_buf_puts(b, "<h2>Hourly highs</h2>\n");
        if (c < n_charts)
            rc |= put_figure(b, &charts[c++], "Each ticker's hourly highs relative to its first hour");
        rc |= put_drawn_note(b, in, n_drawn);
        rc |= put_hourly_table(b, g);
        if (rc)
            return FIN_ENOMEM;
    }
    if (put_provenance(b, in))
        return FIN_ENOMEM;
    rc = fin_buf_puts(b, "<footer>Drawn by finstream " FIN_VERSION " with PLplot. Prices in USD; "
                         "times are the exchange's local time.</footer>\n</main></body></html>\n");
    return rc ? FIN_ENOMEM : 0;
}
