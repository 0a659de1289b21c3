/* charts.c - the report's charts, drawn with PLplot to PNG (pngcairo) and SVG (svg).
 *
 * This is the only file that includes plplot.h. PLplot keeps its state in globals (the
 * current stream, the abort handler), so every chart is drawn in a stream of its own,
 * created with plmkstrm and ended with plend1, while holding one process-wide lock; the
 * stream that was current before is restored afterwards. PLplot reports recoverable
 * problems through an abort handler (which we turn into an error for the chart) and fatal
 * ones by exiting the process, so the drawing code checks what PLplot would refuse
 * (empty or inverted windows, unwritable files) before calling it.
 *
 * Each chart is drawn twice, once per device, by the same drawing function; files are
 * written under a temporary name and renamed, so a half-drawn chart is never visible.
 *
 * Design choices, for a 3-ticker day as for a 50-ticker one:
 *  - the range chart is horizontal (one row per ticker, sorted widest range first) and in
 *    percent of the day's first price, because tickers trade at prices 30x apart and in
 *    USD the cheap ones would be flat; the USD low, high and close are written beside
 *    each bar; the image grows with the number of tickers so rows keep their height;
 *  - the hourly chart shows each ticker's hourly high relative to its first hour, for the
 *    same reason, as lines in the Tableau 10 palette; past ten tickers (where colours would
 *    repeat and lines tangle) it becomes a grid of tickers by hours, the hour of each
 *    ticker's day high marked and the others labelled with their gap to it;
 *  - the time-series chart uses exchange-local hours on the x axis (09:30 .. 16:00). */
#include "report_int.h"

#include "finstream/error.h"

#include <errno.h>
#include <math.h>
#include <plplot.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Colour map 0 slots. */
enum {
    COL_BG = 0,
    COL_TEXT = 1,
    COL_GRID = 2,
    COL_AXIS = 3,
    COL_UP = 4,
    COL_DOWN = 5,
    COL_BAND = 6,
    COL_MUTED = 7,
    COL_HALO = 8,            /* translucent white behind labels drawn over data */
    COL_SERIES = 9,          /* first of the qualitative palette */
};

/* Tableau 10: distinct hues of similar weight, readable on white. */
static const unsigned char palette[][3] = {
    {0x4e, 0x79, 0xa7}, {0xf2, 0x8e, 0x2b}, {0xe1, 0x57, 0x59}, {0x76, 0xb7, 0xb2},
    {0x59, 0xa1, 0x4f}, {0xed, 0xc9, 0x48}, {0xb0, 0x7a, 0xa1}, {0xff, 0x9d, 0xa7},
    {0x9c, 0x75, 0x5f}, {0xba, 0xb0, 0xac},
};
#define N_PALETTE ((int)(sizeof palette / sizeof palette[0]))

/* Marker shapes cycled after the colours run out (UTF-8 glyphs; cairo and svg draw them
 * from the system font). */
static const char *const markers[] = {"●", "■", "▲", "◆", "▼"};
#define N_MARKERS ((int)(sizeof markers / sizeof markers[0]))

static pthread_mutex_t plot_lock = PTHREAD_MUTEX_INITIALIZER;
static char plot_abort_msg[256];     /* guarded by plot_lock */
static int page_w, page_h;           /* the page being drawn, guarded by plot_lock */

/* PLplot's default character height grows with the page, which would make a tall
 * 50-ticker chart shout; text is set in absolute size instead. Both devices map the page
 * at 72 dots per inch, so a pixel of the PNG is a point of the SVG. */
#define CHR_MM 4.6
#define PX_PER_MM (72.0 / 25.4)
static void chr(double scale) { plschr(CHR_MM, scale); }

/* About how wide text is in pixels at the current size (DejaVu Sans averages a little
 * over half an em per character); used to lay out keys. */
static double text_px(const char *s)
{
    PLFLT def, ht;
    plgchr(&def, &ht);
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;    /* count code points, not bytes */
    return (double)n * ht * PX_PER_MM * 0.62;
}

/* The viewport from margins in pixels, so a taller page (more tickers) keeps the same
 * room for titles and labels. */
static void vpor_px(double left, double right, double top, double bottom)
{
    plvpor(left / page_w, 1.0 - right / page_w, bottom / page_h, 1.0 - top / page_h);
}

#ifdef FIN_SANITIZE
/* Under LeakSanitizer: fontconfig, which cairo's text rendering uses, keeps font patterns
 * in caches it never frees (a few hundred bytes per chart, bounded by the fonts in use);
 * they are not ours to free, so they are not reported. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\n";
}
/* ...and the count of what was suppressed is not printed either: stderr stays the
 * program's own (with -q, empty). */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
    return "print_suppressions=0";
}
#endif

static void on_plot_abort(PLCHAR_VECTOR msg)
{
    if (!plot_abort_msg[0])
        snprintf(plot_abort_msg, sizeof plot_abort_msg, "%s", msg ? msg : "unknown");
}

static void set_palette(void)
{
    plscmap0n(COL_SERIES + N_PALETTE);
    plscol0(COL_BG, 255, 255, 255);
    plscol0(COL_TEXT, 0x22, 0x22, 0x22);
    plscol0(COL_GRID, 0xe3, 0xe3, 0xe3);
    plscol0(COL_AXIS, 0x77, 0x77, 0x77);
    plscol0(COL_UP, 0x3a, 0x9a, 0x5b);
    plscol0(COL_DOWN, 0xd6, 0x45, 0x45);
    plscol0(COL_BAND, 0xd6, 0xe4, 0xf0);
    plscol0(COL_MUTED, 0x99, 0x99, 0x99);
    plscol0a(COL_HALO, 255, 255, 255, 0.85);
    for (int i = 0; i < N_PALETTE; i++)
        plscol0(COL_SERIES + i, palette[i][0], palette[i][1], palette[i][2]);
}

/* PLplot interprets '#' as the start of an escape sequence; a literal one is "##". */
static void plot_text(char *out, size_t cap, const char *s)
{
    size_t o = 0;
    for (; *s && o + 2 < cap; s++) {
        if (*s == '#')
            out[o++] = '#';
        out[o++] = *s;
    }
    out[o] = '\0';
}

/* ---- tick labels ---------------------------------------------------------------- */

enum axis_kind { AXIS_PLAIN, AXIS_HOURS, AXIS_PERCENT, AXIS_NONE };

struct axis_fmt {
    enum axis_kind x, y;
    int x_decimals, y_decimals;
};

static void fmt_value(enum axis_kind kind, int decimals, double v, char *label, size_t len)
{
    switch (kind) {
    case AXIS_HOURS: {
        long m = lround(v * 60.0);
        m = ((m % 1440) + 1440) % 1440;
        snprintf(label, len, "%02ld:%02ld", m / 60, m % 60);
        break;
    }
    case AXIS_PERCENT:
        if (fabs(v) < 0.5 * pow(10.0, -decimals))
            v = 0.0;      /* no "-0.0%" */
        snprintf(label, len, v > 0 ? "+%.*f%%" : "%.*f%%", decimals, v);
        break;
    case AXIS_NONE:
        label[0] = '\0';
        break;
    default:
        if (fabs(v) < 0.5 * pow(10.0, -decimals))
            v = 0.0;
        snprintf(label, len, "%.*f", decimals, v);
        break;
    }
}

static void label_cb(PLINT axis, PLFLT value, PLCHAR_NC_VECTOR label, PLINT length, PLPointer data)
{
    const struct axis_fmt *f = data;
    if (axis == PL_X_AXIS)
        fmt_value(f->x, f->x_decimals, value, label, (size_t)length);
    else
        fmt_value(f->y, f->y_decimals, value, label, (size_t)length);
}

/* A tick step of 1, 2 or 5 times a power of ten giving about `want` intervals over span,
 * and the decimals its labels need. */
static double nice_step(double span, int want, int *decimals)
{
    if (!(span > 0))
        span = 1;
    double raw = span / want;
    double p = pow(10.0, floor(log10(raw)));
    double m = raw / p;
    double step = (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
    int d = (int)ceil(-log10(step) - 1e-9);
    *decimals = d < 0 ? 0 : d > 6 ? 6 : d;
    return step;
}

/* Widens [*lo, *hi] by pad of its span (or a little around a single value). */
static void pad_range(double *lo, double *hi, double pad)
{
    double span = *hi - *lo;
    if (!(span > 0)) {
        double m = fabs(*lo) > 0 ? fabs(*lo) * 0.01 : 1.0;
        *lo -= m;
        *hi += m;
        return;
    }
    *lo -= span * pad;
    *hi += span * pad;
}

/* Background grid, then the frame with labelled ticks. */
static void draw_axes(double xtick, int nxsub, double ytick, int nysub, struct axis_fmt *fmt,
                      const char *xopt_extra, const char *yopt_extra)
{
    char xo[16], yo[16];
    plslabelfunc(label_cb, fmt);
    plcol0(COL_GRID);
    plwidth(1.0);
    pllsty(1);
    plbox(fmt->x == AXIS_NONE ? "" : "g", xtick, 0, fmt->y == AXIS_NONE ? "" : "g", ytick, 0);
    plcol0(COL_AXIS);
    snprintf(xo, sizeof xo, "bcnto%s", xopt_extra ? xopt_extra : "");
    snprintf(yo, sizeof yo, "bcntov%s", yopt_extra ? yopt_extra : "");
    if (fmt->x == AXIS_NONE)
        snprintf(xo, sizeof xo, "bc");
    if (fmt->y == AXIS_NONE)
        snprintf(yo, sizeof yo, "bc");
    plcol0(COL_TEXT);
    plbox(xo, xtick, nxsub, yo, ytick, nysub);
    plslabelfunc(NULL, NULL);
}

/* Title (larger) and a subtitle line under it, in the top margin from left_px; drawn in
 * the page's pixel frame, so call it last (it leaves that frame set). */
static void draw_title(double left_px, const char *title, const char *subtitle)
{
    char t[512];
    plvpor(0, 1, 0, 1);
    plwind(0, page_w, 0, page_h);
    plcol0(COL_TEXT);
    chr(1.3);
    plot_text(t, sizeof t, title);
    plptex(left_px, page_h - 30, 1, 0, 0.0, t);
    if (subtitle) {
        chr(0.92);
        plcol0(COL_AXIS);
        plot_text(t, sizeof t, subtitle);
        plptex(left_px, page_h - 56, 1, 0, 0.0, t);
    }
    chr(1.0);
    plcol0(COL_TEXT);
}

/* A key laid out by hand in the page's pixel frame: PLplot's legend spreads a one-row
 * legend over equal columns sized for the longest entry, which for short keys wastes
 * half the width or runs off the page. */
enum key_kind { KEY_LINE, KEY_BOX, KEY_TICK };

struct key_item {
    enum key_kind kind;
    int colour;
    const char *text;
};

/* Draws the items in one row ending at right_px, with its middle at y_px from the top. */
static void draw_key(const struct key_item *items, size_t n, double right_px, double y_px)
{
    const double swatch = 26, gap_in = 8, gap_out = 22;
    chr(0.82);
    double w = 0;
    for (size_t i = 0; i < n; i++)
        w += swatch + gap_in + text_px(items[i].text) + (i + 1 < n ? gap_out : 0);
    plvpor(0, 1, 0, 1);
    plwind(0, page_w, 0, page_h);
    double x = right_px - w, y = page_h - y_px;
    for (size_t i = 0; i < n; i++) {
        const struct key_item *k = &items[i];
        plcol0(k->colour);
        if (k->kind == KEY_LINE) {
            PLFLT lx[2] = {x, x + swatch}, ly[2] = {y, y};
            plwidth(2.5);
            plline(2, lx, ly);
        } else if (k->kind == KEY_BOX) {
            PLFLT bx[4] = {x + 3, x + swatch - 3, x + swatch - 3, x + 3};
            PLFLT by[4] = {y - 7, y - 7, y + 7, y + 7};
            plfill(4, bx, by);
        } else {
            PLFLT tx[2] = {x + swatch / 2, x + swatch / 2}, ty[2] = {y - 9, y + 9};
            plwidth(3.0);
            plline(2, tx, ty);
        }
        plwidth(1.0);
        plcol0(COL_TEXT);
        char t[256];
        plot_text(t, sizeof t, k->text);
        plptex(x + swatch + gap_in, y, 1, 0, 0.0, t);
        x += swatch + gap_in + text_px(k->text) + gap_out;
    }
    chr(1.0);
}

/* ---- drawing one chart to one file ---------------------------------------------- */

typedef void (*draw_fn)(const void *ctx);

/* Draws one chart to path with device; PLplot's own file handling is used, but the path
 * is checked first because PLplot exits the process when it cannot open a file. */
static int plot_file(const char *device, const char *path, int w, int h, draw_fn draw,
                     const void *ctx)
{
    char tmp[4200];
    int rc = 0;
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *probe = fopen(tmp, "wb");
    if (!probe)
        return fin_err_errno(errno, "cannot write chart", tmp);
    fclose(probe);

    pthread_mutex_lock(&plot_lock);
    PLINT old = 0, strm = -1;
    plgstrm(&old);
    plmkstrm(&strm);
    if (strm < 0) {
        pthread_mutex_unlock(&plot_lock);
        unlink(tmp);
        return fin_err_set(FIN_ELIMIT, "%s: no free PLplot stream", path);
    }
    plot_abort_msg[0] = '\0';
    plsabort(on_plot_abort);
    plsdev(device);
    plsfnam(tmp);
    plspage(0, 0, w, h, 0, 0);
    plscolbg(255, 255, 255);
    page_w = w;
    page_h = h;
    plinit();
    set_palette();
    plfontld(0);
    pladv(0);
    chr(1.0);
    draw(ctx);
    plend1();
    plsstrm(old);
    plsabort(NULL);
    if (plot_abort_msg[0])
        rc = fin_err_set(FIN_EIO, "%s: PLplot: %s", path, plot_abort_msg);
    pthread_mutex_unlock(&plot_lock);
    if (rc)
        goto fail;

    struct stat st;
    if (stat(tmp, &st) != 0 || st.st_size == 0) {
        rc = fin_err_set(FIN_EIO, "%s: %s device wrote nothing", path, device);
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        rc = fin_err_errno(errno, "cannot rename chart into place", path);
        goto fail;
    }
    return 0;
fail:
    unlink(tmp);
    return rc;
}

/* The chart as <dir>/<base>.png and <dir>/<base>.svg. */
static int plot_chart(const char *dir, const char *base, int w, int h, draw_fn draw,
                      const void *ctx)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s.png", dir, base);
    if (n < 0 || (size_t)n >= sizeof path)
        return fin_err_set(FIN_ELIMIT, "%s/%s: path too long", dir, base);
    int rc = plot_file("pngcairo", path, w, h, draw, ctx);
    if (rc)
        return rc;
    snprintf(path, sizeof path, "%s/%s.svg", dir, base);
    return plot_file("svg", path, w, h, draw, ctx);
}

/* ---- the range chart ------------------------------------------------------------ */

struct range_ctx {
    const struct fin_report_input *in;
    const struct fin_report_range **rows;   /* sorted, widest first */
    size_t n;
};

static double pct(double v, double ref) { return (v / ref - 1.0) * 100.0; }

static void draw_range(const void *vctx)
{
    const struct range_ctx *c = vctx;
    size_t n = c->n;
    double xlo = 0, xhi = 0;
    for (size_t i = 0; i < n; i++) {
        const struct fin_report_range *r = c->rows[i];
        xlo = fmin(xlo, pct(r->low, r->first));
        xhi = fmax(xhi, pct(r->high, r->first));
    }
    pad_range(&xlo, &xhi, 0.06);

    /* Rows keep their height as the count grows (the page is taller); with many rows the
     * labels shrink a little so they never touch. */
    double rowchr = n > 30 ? 0.85 : 1.0;
    vpor_px(100, 290, 96, 110);
    plwind(xlo, xhi, 0.4, (double)n + 0.6);

    int dec;
    double xt = nice_step(xhi - xlo, 6, &dec);
    struct axis_fmt fmt = {AXIS_PERCENT, AXIS_NONE, dec, 0};
    draw_axes(xt, 2, 0, 0, &fmt, NULL, NULL);

    /* The first price of the day: the zero line. */
    plcol0(COL_MUTED);
    pllsty(2);
    plwidth(1.2);
    PLFLT zx[2] = {0, 0}, zy[2] = {0.4, (double)n + 0.6};
    plline(2, zx, zy);
    pllsty(1);

    char buf[256], t[256];
    for (size_t i = 0; i < n; i++) {
        const struct fin_report_range *r = c->rows[i];
        double y = (double)(n - i);
        double lo = pct(r->low, r->first), hi = pct(r->high, r->first);
        double cl = pct(r->last, r->first);
        PLFLT bx[4] = {lo, hi, hi, lo};
        PLFLT by[4] = {y - 0.32, y - 0.32, y + 0.32, y + 0.32};
        plcol0(r->last >= r->first ? COL_UP : COL_DOWN);
        plfill(4, bx, by);
        plcol0(COL_TEXT);
        plwidth(n > 30 ? 2.5 : 3.5);
        PLFLT cx[2] = {cl, cl}, cy[2] = {y - 0.42, y + 0.42};
        plline(2, cx, cy);
        plwidth(1.0);

        double pos = (y - 0.4) / ((double)n + 0.2);
        chr(rowchr);
        plot_text(t, sizeof t, r->ticker);
        plmtex("lv", 0.8, pos, 1.0, t);
        snprintf(buf, sizeof buf, "%.2f – %.2f   %s %.2f", r->low, r->high,
                 r->has_close ? "close" : "last", r->last);
        plcol0(COL_AXIS);
        chr(rowchr * 0.9);
        plmtex("rv", 1.0, pos, 0.0, buf);
        chr(1.0);
    }
    plcol0(COL_TEXT);
    chr(0.85);
    plmtex("rv", 1.0, 1.0 + 14.0 / ((double)page_h - 206.0), 0.0, "low – high, USD");
    chr(1.0);
    plmtex("b", 3.2, 0.5, 0.5, "Change from the day's first price (%)");

    /* Key in the bottom margin, right-aligned: what the colours and the tick mean. */
    struct key_item key[3] = {
        {KEY_BOX, COL_UP, "closed above its first price"},
        {KEY_BOX, COL_DOWN, "closed below"},
        {KEY_TICK, COL_TEXT, c->rows[0]->has_close ? "close" : "last price (mid of final bar)"},
    };
    draw_key(key, 3, page_w - 30, page_h - 20);

    snprintf(buf, sizeof buf, "Trading range by ticker, %s", c->in->date ? c->in->date : "");
    draw_title(100, buf, "low to high for the day as a floating bar, widest range first; "
                    "the dashed line is the first price");
}

int fin__chart_range(const char *dir, const char *base, const struct fin_report_input *in)
{
    struct range_ctx c = {in, NULL, in->n_ranges};
    if (c.n == 0)
        return fin_err_set(FIN_EINVAL, "range chart: no tickers");
    c.rows = malloc(c.n * sizeof *c.rows);
    if (!c.rows)
        return FIN_ENOMEM;
    for (size_t i = 0; i < c.n; i++) {
        const struct fin_report_range *r = &in->ranges[i];
        if (!isfinite(r->low) || !isfinite(r->high) || !isfinite(r->first) ||
            !isfinite(r->last) || r->first <= 0 || r->low > r->high) {
            free(c.rows);
            return fin_err_set(FIN_EINVAL, "range chart: ticker %s: low %g, high %g, first %g,"
                               " last %g do not make a trading range",
                               r->ticker ? r->ticker : "?", r->low, r->high, r->first, r->last);
        }
        c.rows[i] = r;
    }
    /* Insertion sort by relative range, widest first; ties by ticker for a stable picture. */
    for (size_t i = 1; i < c.n; i++) {
        const struct fin_report_range *r = c.rows[i];
        double w = (r->high - r->low) / r->first;
        size_t j = i;
        while (j > 0) {
            const struct fin_report_range *p = c.rows[j - 1];
            double pw = (p->high - p->low) / p->first;
            if (pw > w || (pw == w && strcmp(p->ticker, r->ticker) <= 0))
                break;
            c.rows[j] = p;
            j--;
        }
        c.rows[j] = r;
    }
    int h = 200 + 26 * (int)c.n;
    if (h < 440)
        h = 440;
    int rc = plot_chart(dir, base, FIN_REPORT_WIDTH, h, draw_range, &c);
    free(c.rows);
    return rc;
}

/* ---- the time-series chart ------------------------------------------------------ */

struct series_ctx {
    const struct fin_report_input *in;
    const struct fin_report_series *s;
    PLFLT *x;                /* exchange-local hours since midnight of the day */
    PLFLT *band_x, *band_y;  /* 2n points: highs forward, lows back */
};

static void fmt_offset(char *out, size_t cap, int32_t off)
{
    int a = off < 0 ? -off : off;
    snprintf(out, cap, "UTC%s%02d:%02d", off < 0 ? "−" : "+", a / 3600, a / 60 % 60);
}

/* Marks a point and labels it beside the point, on the side with room, over a
 * translucent white patch so the label stays readable where it crosses the lines. */
static void mark_point(double x, double y, const char *what, double xlo, double xhi)
{
    char hm[8], buf[96];
    PLFLT px = x, py = y;
    plstring(1, &px, &py, "●");
    fmt_value(AXIS_HOURS, 0, x, hm, sizeof hm);
    snprintf(buf, sizeof buf, "%s %.2f at %s", what, y, hm);
    bool left = x > (xlo + xhi) / 2;

    PLFLT nx0, nx1, ny0, ny1, wx0, wx1, wy0, wy1, def, ht;
    plgvpd(&nx0, &nx1, &ny0, &ny1);
    plgvpw(&wx0, &wx1, &wy0, &wy1);
    plgchr(&def, &ht);
    double sx = (wx1 - wx0) / ((nx1 - nx0) * page_w);   /* world units per pixel */
    double sy = (wy1 - wy0) / ((ny1 - ny0) * page_h);
    double tx = left ? x - 9 * sx : x + 9 * sx;
    double w = text_px(buf) + 8, h = ht * PX_PER_MM * 1.5;
    double bx0 = left ? tx - w * sx + 4 * sx : tx - 4 * sx, bx1 = bx0 + w * sx;
    PLFLT bx[4] = {bx0, bx1, bx1, bx0};
    PLFLT by[4] = {y - h / 2 * sy, y - h / 2 * sy, y + h / 2 * sy, y + h / 2 * sy};
    plcol0(COL_HALO);
    plfill(4, bx, by);
    plcol0(COL_TEXT);
    plptex(tx, y, 1, 0, left ? 1.0 : 0.0, buf);
}

static void draw_series(const void *vctx)
{
    const struct series_ctx *c = vctx;
    const struct fin_report_series *s = c->s;
    size_t n = s->n;
    double xlo = 9.5, xhi = 16.0, ylo = s->low[0], yhi = s->high[0];
    size_t ihi = 0, ilo = 0;
    for (size_t i = 0; i < n; i++) {
        xlo = fmin(xlo, floor(c->x[i] * 2) / 2);
        xhi = fmax(xhi, ceil(c->x[i] * 2) / 2);
        if (s->low[i] < ylo) {
            ylo = s->low[i];
            ilo = i;
        }
        if (s->high[i] > yhi) {
            yhi = s->high[i];
            ihi = i;
        }
    }
    double yl = ylo, yh = yhi;
    pad_range(&yl, &yh, 0.08);

    vpor_px(95, 30, 92, 72);
    /* A little room past the session's ends, so a mark on the last bar is not cut. */
    double xpad = (xhi - xlo) * 0.012;
    plwind(xlo - xpad, xhi + xpad, yl, yh);
    int ydec, xdec;
    double yt = nice_step(yh - yl, 6, &ydec);
    double xt = nice_step(xhi - xlo, 8, &xdec);
    if (xt < 1.0 && xhi - xlo >= 3)
        xt = 1.0;
    struct axis_fmt fmt = {AXIS_HOURS, AXIS_PLAIN, 0, ydec};
    draw_axes(xt >= 1.0 ? 1.0 : 0.25, xt >= 1.0 ? 4 : 1, yt, 2, &fmt, NULL, NULL);

    /* The band between low and high, then the two lines on top. */
    plcol0(COL_BAND);
    if (n >= 2)             /* a polygon needs three points or more */
        plfill((PLINT)(2 * n), c->band_x, c->band_y);
    plwidth(1.6);
    plcol0(COL_SERIES + 0);
    plline((PLINT)n, c->x, (PLFLT *)s->high);
    plcol0(COL_SERIES + 1);
    plline((PLINT)n, c->x, (PLFLT *)s->low);
    plwidth(1.0);

    /* The day's extremes, marked and labelled beside the point, on the side with room. */
    plcol0(COL_TEXT);
    chr(0.9);
    mark_point(c->x[ihi], s->high[ihi], "high", xlo, xhi);
    mark_point(c->x[ilo], s->low[ilo], "low", xlo, xhi);
    chr(1.0);

    char off[32], buf[160];
    fmt_offset(off, sizeof off, s->utc_offset);
    snprintf(buf, sizeof buf, "Exchange time (New York, %s)", off);
    plmtex("b", 3.0, 0.5, 0.5, buf);
    plmtex("l", 5.0, 0.5, 0.5, "Price (USD)");

    struct key_item key[3] = {
        {KEY_LINE, COL_SERIES + 0, "high"},
        {KEY_LINE, COL_SERIES + 1, "low"},
        {KEY_BOX, COL_BAND, "range of each bar"},
    };
    draw_key(key, 3, page_w - 30, 22);

    char t[160];
    bool iv = s->interval && *s->interval;
    snprintf(t, sizeof t, "%s: high and low per %s%sbar", s->ticker, iv ? s->interval : "",
             iv ? " " : "");
    snprintf(buf, sizeof buf, "%s, %zu bar%s, day range %.2f – %.2f USD",
             c->in->date ? c->in->date : "", n, n == 1 ? "" : "s", ylo, yhi);
    draw_title(95, t, buf);
}

int fin__chart_series(const char *dir, const char *base, const struct fin_report_input *in,
                      const struct fin_report_series *s)
{
    int rc = 0;
    struct series_ctx c = {in, s, NULL, NULL, NULL};
    const char *tk = s->ticker ? s->ticker : "?";
    if (s->n == 0)
        return fin_err_set(FIN_EINVAL, "series chart: ticker %s has no bars", tk);
    c.x = malloc(s->n * sizeof *c.x);
    c.band_x = malloc(2 * s->n * sizeof *c.band_x);
    c.band_y = malloc(2 * s->n * sizeof *c.band_y);
    if (!c.x || !c.band_x || !c.band_y) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    /* Hours since the local midnight of the first bar, so a day reads 09:30 .. 16:00. */
    int64_t day0 = s->t[0] + s->utc_offset;
    day0 -= ((day0 % 86400) + 86400) % 86400;
    for (size_t i = 0; i < s->n; i++) {
        if (!isfinite(s->high[i]) || !isfinite(s->low[i]) || s->low[i] > s->high[i]) {
            rc = fin_err_set(FIN_EINVAL, "series chart: ticker %s, bar %zu: high %g, low %g",
                             tk, i + 1, s->high[i], s->low[i]);
            goto fail;
        }
        if (i > 0 && s->t[i] < s->t[i - 1]) {
            rc = fin_err_set(FIN_EINVAL, "series chart: ticker %s, bar %zu: out of time order",
                             tk, i + 1);
            goto fail;
        }
        c.x[i] = (double)(s->t[i] + s->utc_offset - day0) / 3600.0;
        c.band_x[i] = c.x[i];
        c.band_y[i] = s->high[i];
        c.band_x[2 * s->n - 1 - i] = c.x[i];
        c.band_y[2 * s->n - 1 - i] = s->low[i];
    }
    if (c.x[s->n - 1] - c.x[0] > 48) {
        rc = fin_err_set(FIN_EINVAL, "series chart: ticker %s spans more than two days", tk);
        goto fail;
    }
    rc = plot_chart(dir, base, FIN_REPORT_WIDTH, FIN_REPORT_SERIES_HEIGHT, draw_series, &c);
fail:
    free(c.x);
    free(c.band_x);
    free(c.band_y);
    return rc;
}

/* ---- the hourly-high chart ------------------------------------------------------ */

struct hourly_ctx {
    const struct fin_report_input *in;
    const struct fin__hourly_grid *g;
    PLFLT *x, *y;            /* scratch, n_hours each */
};

static void series_style(size_t i, int *col, int *sty, const char **mark)
{
    *col = COL_SERIES + (int)(i % N_PALETTE);
    *sty = 1 + (int)((i / N_PALETTE) % 4) * 2;   /* solid, then dashed variants */
    if (*sty > 8)
        *sty = 1;
    *mark = markers[(i / N_PALETTE) % N_MARKERS];
}

/* The reference a ticker's hourly highs are measured against: its first hour's high. */
static double hourly_ref(const struct fin__hourly_grid *g, size_t t)
{
    for (size_t h = 0; h < g->n_hours; h++)
        if (fin__hourly_at(g, t, h)->set)
            return fin__hourly_at(g, t, h)->high;
    return NAN;
}

static void draw_hourly(const void *vctx)
{
    const struct hourly_ctx *c = vctx;
    const struct fin__hourly_grid *g = c->g;
    size_t nt = g->n_tickers;
    double ylo = 0, yhi = 0;
    for (size_t t = 0; t < nt; t++) {
        double ref = hourly_ref(g, t);
        for (size_t h = 0; h < g->n_hours; h++) {
            const struct fin__hourly_cell *cell = fin__hourly_at(g, t, h);
            if (cell->set && ref > 0) {
                ylo = fmin(ylo, pct(cell->high, ref));
                yhi = fmax(yhi, pct(cell->high, ref));
            }
        }
    }
    pad_range(&ylo, &yhi, 0.08);
    double xlo = g->hours[0] - 0.4, xhi = g->hours[g->n_hours - 1] + 0.4;

    /* Ten tickers at most here (more are drawn as a grid): one legend column. */
    vpor_px(105, 150, 92, 72);
    plwind(xlo, xhi, ylo, yhi);
    int ydec;
    double yt = nice_step(yhi - ylo, 6, &ydec);
    struct axis_fmt fmt = {AXIS_HOURS, AXIS_PERCENT, 0, ydec};
    draw_axes(1.0, 1, yt, 2, &fmt, NULL, NULL);

    plcol0(COL_MUTED);
    pllsty(2);
    PLFLT zx[2] = {xlo, xhi}, zy[2] = {0, 0};
    plline(2, zx, zy);
    pllsty(1);

    double tchr = 0.85;
    for (size_t t = 0; t < nt; t++) {
        double ref = hourly_ref(g, t);
        int col, sty;
        const char *mark;
        series_style(t, &col, &sty, &mark);
        PLINT m = 0;
        for (size_t h = 0; h < g->n_hours; h++) {
            const struct fin__hourly_cell *cell = fin__hourly_at(g, t, h);
            if (!cell->set || !(ref > 0))
                continue;
            c->x[m] = g->hours[h];
            c->y[m] = pct(cell->high, ref);
            m++;
        }
        plcol0(col);
        pllsty(sty);
        plwidth(2.0);
        if (m > 1)
            plline(m, c->x, c->y);
        pllsty(1);
        chr(tchr);
        plstring(m, c->x, c->y, mark);
        chr(1.0);
    }
    plwidth(1.0);

    PLINT *opt = calloc(nt, sizeof *opt), *cols = calloc(nt, sizeof *cols);
    PLINT *stys = calloc(nt, sizeof *stys), *tcol = calloc(nt, sizeof *tcol);
    PLINT *nsym = calloc(nt, sizeof *nsym);
    PLFLT *lw = calloc(nt, sizeof *lw), *ssc = calloc(nt, sizeof *ssc);
    const char **syms = calloc(nt, sizeof *syms), **text = calloc(nt, sizeof *text);
    char (*esc)[64] = calloc(nt, sizeof *esc);
    if (opt && cols && stys && tcol && nsym && lw && ssc && syms && text && esc) {
        for (size_t t = 0; t < nt; t++) {
            int col, sty;
            series_style(t, &col, &sty, &syms[t]);
            opt[t] = PL_LEGEND_LINE | PL_LEGEND_SYMBOL;
            cols[t] = col;
            stys[t] = sty;
            tcol[t] = COL_TEXT;
            nsym[t] = 1;
            lw[t] = 2.0;
            ssc[t] = 0.8;
            plot_text(esc[t], sizeof esc[t], g->tickers[t]);
            text[t] = esc[t];
        }
        PLFLT w, h;
        chr(tchr);
        pllegend(&w, &h, 0, PL_POSITION_RIGHT | PL_POSITION_OUTSIDE, 0.015,
                 0.0, 0.045, COL_BG, COL_BG, 1, (PLINT)nt, 1, (PLINT)nt, opt, 0.8,
                 1.0, 1.9, 0.0, tcol, text, NULL, NULL, NULL, NULL, cols, stys, lw, cols, ssc,
                 nsym, syms);
        chr(1.0);
    }
    free(opt);
    free(cols);
    free(stys);
    free(tcol);
    free(nsym);
    free(lw);
    free(ssc);
    free(syms);
    free(text);
    free(esc);

    plcol0(COL_TEXT);
    plmtex("b", 3.0, 0.5, 0.5, "Exchange hour (New York, hour starting at)");
    plmtex("l", 6.2, 0.5, 0.5, "Hourly high vs. the first hour's high (%)");
    char t[128];
    snprintf(t, sizeof t, "Hourly highs, %s", c->in->date ? c->in->date : "");
    draw_title(105, t, "the highest high of each exchange hour, relative to the ticker's first hour;"
                  " USD values in the table");
}

/* Past ten tickers the lines tangle and the colours repeat, so the hourly highs become a
 * grid: one row per ticker, one column per hour, each cell shaded by how close that hour
 * came to the ticker's high of the day (darkest: the hour that made it) and labelled with
 * the gap in percent. Rows keep their height as tickers are added, like the range chart. */
static void draw_hourly_grid(const void *vctx)
{
    const struct hourly_ctx *c = vctx;
    const struct fin__hourly_grid *g = c->g;
    size_t nt = g->n_tickers, nh = g->n_hours;
    /* Sequential blues, light to a mid-dark that white text still reads on. */
    PLFLT pos[2] = {0, 1}, r[2] = {0.93, 0.17}, gr[2] = {0.95, 0.36}, b[2] = {0.98, 0.58};
    plscmap1l(1, 2, pos, r, gr, b, NULL);

    vpor_px(100, 40, 118, 52);
    plwind(0, (double)nh, 0, (double)nt);
    char buf[64], t[96];
    for (size_t k = 0; k < nt; k++) {
        double y0 = (double)(nt - k - 1);
        /* Shaded within the row: a ticker's own day shows, whatever its volatility. */
        double day = -INFINITY, gap_min = 0;
        for (size_t h = 0; h < nh; h++)
            if (fin__hourly_at(g, k, h)->set)
                day = fmax(day, fin__hourly_at(g, k, h)->high);
        for (size_t h = 0; h < nh; h++)
            if (fin__hourly_at(g, k, h)->set)
                gap_min = fmin(gap_min, pct(fin__hourly_at(g, k, h)->high, day));
        for (size_t h = 0; h < nh; h++) {
            const struct fin__hourly_cell *cell = fin__hourly_at(g, k, h);
            PLFLT bx[4] = {h + 0.03, h + 0.97, h + 0.97, h + 0.03};
            PLFLT by[4] = {y0 + 0.07, y0 + 0.07, y0 + 0.93, y0 + 0.93};
            chr(0.78);
            if (!cell->set) {
                plcol0(COL_GRID);
                plfill(4, bx, by);
            } else if (cell->high == day) {
                plcol0(COL_SERIES + 1);
                plfill(4, bx, by);
                plcol0(COL_TEXT);
                snprintf(buf, sizeof buf, "high %.2f", cell->high);
                plptex(h + 0.5, y0 + 0.5, 1, 0, 0.5, buf);
            } else {
                double gap = pct(cell->high, day);
                double shade = gap_min < 0 ? 1.0 - gap / gap_min : 1.0;
                plcol1(shade);
                plfill(4, bx, by);
                plcol0(shade > 0.55 ? COL_BG : COL_TEXT);
                /* Never "-0.00%" for an hour a hair below the day's high. */
                snprintf(buf, sizeof buf, fabs(gap) < 0.005 ? "%.3f%%" : "%.2f%%", gap);
                plptex(h + 0.5, y0 + 0.5, 1, 0, 0.5, buf);
            }
        }
        plcol0(COL_TEXT);
        chr(0.9);
        plot_text(t, sizeof t, g->tickers[k]);
        plmtex("lv", 0.8, (y0 + 0.5) / (double)nt, 1.0, t);
    }
    chr(0.9);
    plcol0(COL_TEXT);
    for (size_t h = 0; h < nh; h++) {
        snprintf(buf, sizeof buf, "%02d:00", g->hours[h]);
        plmtex("t", 0.9, ((double)h + 0.5) / (double)nh, 0.5, buf);
        plmtex("b", 1.6, ((double)h + 0.5) / (double)nh, 0.5, buf);
    }
    chr(1.0);
    snprintf(t, sizeof t, "Hourly highs, %s", c->in->date ? c->in->date : "");
    draw_title(100, t, "each hour's highest high below the ticker's high of the day (orange),"
                       " darker = closer; shaded per row");
}

int fin__chart_hourly(const char *dir, const char *base, const struct fin_report_input *in,
                      const struct fin__hourly_grid *g)
{
    if (g->n_tickers == 0 || g->n_hours == 0)
        return fin_err_set(FIN_EINVAL, "hourly chart: no hourly highs");
    struct hourly_ctx c = {in, g, malloc(g->n_hours * sizeof(PLFLT)),
                           malloc(g->n_hours * sizeof(PLFLT))};
    int rc = FIN_ENOMEM;
    if (c.x && c.y && g->n_tickers <= N_PALETTE) {
        rc = plot_chart(dir, base, FIN_REPORT_WIDTH, 600, draw_hourly, &c);
    } else if (c.x && c.y) {
        int h = 170 + 26 * (int)g->n_tickers;
        rc = plot_chart(dir, base, FIN_REPORT_WIDTH, h < 440 ? 440 : h, draw_hourly_grid, &c);
    }
    free(c.x);
    free(c.y);
    return rc;
}
