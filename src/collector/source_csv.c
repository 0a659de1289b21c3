/* source_csv.c - the csv source: OHLCV files as finance sites export them.
 *
 *     Date,Open,High,Low,Close,Adj Close,Volume
 *     2020-05-14,202.559998,206.690002,199.529999,205.270004,205.270004,22553900
 *
 * csv:PATH names one file or a folder of *.csv / *.csv.gz files (not walked into
 * subfolders), read in path order; gzip is recognised by content. The header decides
 * which column is which, in any order and case: Date, Datetime or Timestamp (required),
 * Open, High, Low, Close, Volume, and optionally Symbol, Ticker or Name; Adj Close and
 * unknown columns are ignored. Without a symbol column the ticker is the file's base
 * name, upper-cased (aapl.csv.gz -> AAPL).
 *
 * Times: "2020-05-14", "2020-05-14 09:30[:00]", ISO with 'T', an offset or 'Z', or Unix
 * seconds. A time with an offset keeps it in the record; without one (or with 'Z') the
 * record shows New York time, where the files' exchange trades. A daily row (a date with
 * no time) becomes a bar at 09:30 New York time, the session's open, which is where Yahoo
 * starts its daily bars too.
 *
 * Cells "", "null", "NaN" and "N/A" are missing values: a row with no price at all is a
 * null bar (skipped and counted), otherwise the missing fields are omitted. A row with
 * the wrong number of cells, an unreadable number or time, or high < low is reported with
 * file and line and skipped; the rest of the file goes on. Prices keep their spelling. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "finstream/buf.h"
#include "finstream/collector.h"
#include "finstream/error.h"
#include "finstream/framing.h"
#include "finstream/fsutil.h"
#include "finstream/log.h"
#include "finstream/timeutil.h"
#include "source_util.h"

#define CSV_MAX_CELLS 64

enum col { COL_TIME, COL_OPEN, COL_HIGH, COL_LOW, COL_CLOSE, COL_VOLUME, COL_NAME, COL_N };

struct fin_source {
    struct fin_file_list files;
    bool tickers_given;
    bool window_given;
    struct fin_buf cells;      /* the current row's unescaped cells, NUL-separated */
};

/* One parsed row: cell i spans cell[i] .. cell[i] + len[i] inside the source's buffer. */
struct row {
    size_t n;
    size_t off[CSV_MAX_CELLS];
    size_t len[CSV_MAX_CELLS];
    int line;
    bool too_many;
    bool bad_quote;
};

struct csv_file {
    const char *path;
    const char *p, *end;
    int line;
};

static bool want_csv(const char *name)
{
    size_t n = strlen(name);
    return (n > 4 && strcasecmp(name + n - 4, ".csv") == 0) ||
           (n > 7 && strcasecmp(name + n - 7, ".csv.gz") == 0);
}

/* Reads the next record (RFC 4180: quoted cells may hold commas, "" and newlines).
 * Returns false at the end of the file. Blank lines are skipped. */
static bool next_row(struct csv_file *f, struct fin_buf *cells, struct row *r)
{
    for (;;) {
        if (f->p >= f->end)
            return false;
        if (*f->p == '\n' || (*f->p == '\r' && f->p + 1 < f->end && f->p[1] == '\n')) {
            f->p += *f->p == '\r' ? 2 : 1;
            f->line++;
            continue;
        }
        break;
    }
    fin_buf_reset(cells);
    memset(r, 0, sizeof *r);
    r->line = f->line;
    size_t start = 0;
    bool quoted = false, done = false;
    while (!done) {
        char c = f->p < f->end ? *f->p : '\n';
        bool at_end = f->p >= f->end;
        if (quoted) {
            if (at_end) {
                r->bad_quote = true;
                quoted = false;
                continue;
            }
            f->p++;
            if (c == '"') {
                if (f->p < f->end && *f->p == '"') {
                    f->p++;
                    (void)fin_buf_append(cells, "\"", 1);
                } else {
                    quoted = false;
                }
            } else {
                if (c == '\n')
                    f->line++;
                (void)fin_buf_append(cells, &c, 1);
            }
            continue;
        }
        if (c == '"' && cells->len == start) {
            quoted = true;
            f->p++;
            continue;
        }
        if (c == ',' || c == '\n' || (c == '\r' && (f->p + 1 >= f->end || f->p[1] == '\n'))) {
            if (r->n < CSV_MAX_CELLS) {
                r->off[r->n] = start;
                r->len[r->n] = cells->len - start;
            } else {
                r->too_many = true;
            }
            r->n++;
            (void)fin_buf_append(cells, "", 1);   /* a NUL between cells, so each is a C string */
            start = cells->len;
            if (c == '\r')
                f->p++;
            if (!at_end)
                f->p++;
            if (c != ',') {
                if (!at_end)
                    f->line++;
                done = true;
            }
            continue;
        }
        (void)fin_buf_append(cells, &c, 1);
        f->p++;
    }
    return true;
}

/* A cell without surrounding blanks (cells are NUL-terminated in the buffer). */
static const char *cell(const struct fin_buf *cells, const struct row *r, int i, size_t *len)
{
    const char *s = cells->data + r->off[i];
    size_t n = r->len[i];
    while (n > 0 && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    *len = n;
    return s;
}

static bool is_missing(const char *s, size_t n)
{
    return n == 0 || (n == 4 && strncasecmp(s, "null", 4) == 0) ||
           (n == 3 && strncasecmp(s, "nan", 3) == 0) || (n == 3 && strncasecmp(s, "n/a", 3) == 0);
}

/* Header names, compared without case, blanks or underscores ("Adj Close" = "adj_close"). */
static int column_of(const char *s, size_t n)
{
    char key[32];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < sizeof key; i++)
        if (!isspace((unsigned char)s[i]) && s[i] != '_')
            key[k++] = (char)tolower((unsigned char)s[i]);
    key[k] = '\0';
    static const struct { const char *name; int col; } names[] = {
        {"date", COL_TIME}, {"datetime", COL_TIME}, {"timestamp", COL_TIME}, {"time", COL_TIME},
        {"open", COL_OPEN}, {"high", COL_HIGH}, {"low", COL_LOW}, {"close", COL_CLOSE},
        {"volume", COL_VOLUME}, {"symbol", COL_NAME}, {"ticker", COL_NAME}, {"name", COL_NAME},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(key, names[i].name) == 0)
            return names[i].col;
    return -1;
}

static bool parse_double(const char *s, size_t n, double *v)
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    *v = strtod(tmp, &end);
    return *end == '\0' && errno != ERANGE && isfinite(*v) && !isalpha((unsigned char)tmp[0]);
}

bool fin_time_text_offset(const char *s, int32_t *offset)
{
    /* The offset follows the time of day, so look past the date's own '-' signs. */
    size_t n = strlen(s);
    if (n <= 10)
        return false;
    for (size_t i = n; i-- > 11;) {
        if (s[i] != '+' && s[i] != '-')
            continue;
        const char *p = s + i + 1;
        int hh, mm = 0;
        if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
            return false;
        hh = (p[0] - '0') * 10 + (p[1] - '0');
        p += 2;
        if (*p == ':')
            p++;
        if (*p) {
            if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]) || p[2])
                return false;
            mm = (p[0] - '0') * 10 + (p[1] - '0');
        }
        if (hh > 18 || mm > 59)
            return false;
        *offset = (s[i] == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
        return true;
    }
    return false;
}

/* A row's time: UTC seconds and the offset the record shows. */
static int parse_row_time(const char *s, size_t n, int64_t *t, int32_t *offset)
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return FIN_EINVAL;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    bool digits = true;
    for (size_t i = 0; i < n; i++)
        digits &= isdigit((unsigned char)tmp[i]) != 0;
    if (digits && n >= 9 && n <= 13) {
        long long v = strtoll(tmp, NULL, 10);
        *t = n == 13 ? v / 1000 : v;   /* 13 digits: Unix milliseconds */
        *offset = fin_ny_utc_offset(*t);
        return 0;
    }
    if (n == 10) {
        int64_t days;
        if (fin_parse_date(tmp, &days))
            return FIN_EINVAL;
        int y;
        unsigned m, d;
        fin_civil_from_days(days, &y, &m, &d);
        *t = fin_ny_local_to_utc(y, m, d, 9, 30, 0);   /* a daily bar starts at the open */
        *offset = fin_ny_utc_offset(*t);
        return 0;
    }
    if (fin_parse_time(tmp, FIN_TZ_NEW_YORK, t))
        return FIN_EINVAL;
    if (!fin_time_text_offset(tmp, offset))
        *offset = fin_ny_utc_offset(*t);
    return 0;
}

/* Emits one file's rows. Returns 0, a file-level failure (reported by the caller), or
 * with *fatal set, the emitter's failure. */
static int csv_text(struct fin_source *s, const char *path, const char *text, size_t len,
                    const struct fin_window *w, struct fin_ticker_filter *filter,
                    struct fin_name_set *emitted, struct fin_emitter *em, bool *fatal)
{
    int rc;
    /* A row's cells never take more bytes than the row itself plus one, so with this
     * reserve the appends in next_row cannot fail. */
    if ((rc = fin_buf_reserve(&s->cells, len + 2))) {
        *fatal = true;
        goto fail;
    }
    struct csv_file f = {path, text, text + len, 1};
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        f.p += 3;

    /* The ticker from the file name: base name up to the first ".csv", upper-cased. */
    char file_name[FIN_TICKER_MAX + 1] = "";
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t bl = strcspn(base, ".");
    const char *dot = strcasestr(base, ".csv");
    if (dot)
        bl = (size_t)(dot - base);
    bool file_name_ok = fin_ticker_name_ok(base, bl);
    if (file_name_ok)
        for (size_t i = 0; i < bl; i++)
            file_name[i] = (char)toupper((unsigned char)base[i]);

    struct row r;
    if (!next_row(&f, &s->cells, &r)) {
        rc = fin_err_set(FIN_EPARSE, "%s: empty file, no header", path);
        goto fail;
    }
    int col[COL_N], n_cols = (int)r.n;
    for (int c = 0; c < COL_N; c++)
        col[c] = -1;
    if (r.too_many) {
        rc = fin_err_set(FIN_EPARSE, "%s:%d: more than %d columns", path, r.line, CSV_MAX_CELLS);
        goto fail;
    }
    for (int i = 0; i < n_cols; i++) {
        size_t n;
        const char *h = cell(&s->cells, &r, i, &n);
        int c = column_of(h, n);
        if (c >= 0 && col[c] < 0)
            col[c] = i;
    }
    if (col[COL_TIME] < 0) {
        rc = fin_err_set(FIN_EPARSE, "%s:%d: no Date, Datetime or Timestamp column in the header",
                         path, r.line);
        goto fail;
    }
    if (col[COL_OPEN] < 0 && col[COL_HIGH] < 0 && col[COL_LOW] < 0 && col[COL_CLOSE] < 0) {
        rc = fin_err_set(FIN_EPARSE, "%s:%d: no Open, High, Low or Close column in the header",
                         path, r.line);
        goto fail;
    }
    if (col[COL_NAME] < 0 && !file_name_ok) {
        rc = fin_err_set(FIN_EPARSE, "%s: no Symbol column, and the file name is not a ticker", path);
        goto fail;
    }

    while (next_row(&f, &s->cells, &r)) {
        if (r.bad_quote) {
            fin_emit_bad(em, "%s:%d: a quoted cell does not end", path, r.line);
            continue;
        }
        if ((int)r.n != n_cols) {
            fin_emit_bad(em, "%s:%d: %zu cells, the header has %d", path, r.line, r.n, n_cols);
            continue;
        }
        struct fin_bar bar;
        memset(&bar, 0, sizeof bar);
        size_t n;
        const char *v;
        if (col[COL_NAME] >= 0) {
            v = cell(&s->cells, &r, col[COL_NAME], &n);
            if (!fin_ticker_name_ok(v, n)) {
                fin_emit_bad(em, "%s:%d: \"%.*s\" is not a ticker", path, r.line, (int)(n > 40 ? 40 : n), v);
                continue;
            }
            bar.name = v;
            bar.name_len = n;
        } else {
            bar.name = file_name;
            bar.name_len = strlen(file_name);
        }
        v = cell(&s->cells, &r, col[COL_TIME], &n);
        if (parse_row_time(v, n, &bar.t, &bar.utc_offset)) {
            fin_emit_bad(em, "%s:%d: \"%.*s\" is not a time", path, r.line, (int)(n > 40 ? 40 : n), v);
            continue;
        }
        if (s->window_given && (bar.t < w->start || bar.t >= w->end))
            continue;
        if (!fin_ticker_filter_pass(filter, bar.name, bar.name_len))
            continue;
        bar.present = 1u << FIN_FIELD_NAME | 1u << FIN_FIELD_TS;
        bool bad = false;
        int prices = 0;
        for (int j = 0; j < 4 && !bad; j++) {
            if (col[COL_OPEN + j] < 0)
                continue;
            v = cell(&s->cells, &r, col[COL_OPEN + j], &n);
            if (is_missing(v, n))
                continue;
            if (!parse_double(v, n, &bar.px[j])) {
                fin_emit_bad(em, "%s:%d: %s \"%.*s\" is not a number", path, r.line,
                             (const char *[]){"open", "high", "low", "close"}[j],
                             (int)(n > 40 ? 40 : n), v);
                bad = true;
                break;
            }
            bar.present |= 1u << (FIN_FIELD_OPEN + j);
            if (fin_is_json_number(v, n)) {
                bar.px_text[j] = v;
                bar.px_text_len[j] = n;
            }
            prices++;
        }
        if (bad)
            continue;
        if (col[COL_VOLUME] >= 0) {
            v = cell(&s->cells, &r, col[COL_VOLUME], &n);
            double vol;
            if (!is_missing(v, n)) {
                if (!parse_double(v, n, &vol) || vol < 0 || vol >= 9.2e18 || vol != floor(vol)) {
                    fin_emit_bad(em, "%s:%d: volume \"%.*s\" is not a whole number", path, r.line,
                                 (int)(n > 40 ? 40 : n), v);
                    continue;
                }
                bar.volume = (int64_t)vol;
                bar.present |= 1u << FIN_FIELD_VOLUME;
            }
        }
        unsigned hl = 1u << FIN_FIELD_HIGH | 1u << FIN_FIELD_LOW;
        if ((bar.present & hl) == hl && bar.px[1] < bar.px[2]) {
            size_t hn, ln;
            const char *hv = cell(&s->cells, &r, col[COL_HIGH], &hn);
            const char *lv = cell(&s->cells, &r, col[COL_LOW], &ln);
            fin_emit_bad(em, "%s:%d: high %.*s is below low %.*s", path, r.line,
                         (int)(hn > 40 ? 40 : hn), hv, (int)(ln > 40 ? 40 : ln), lv);
            continue;
        }
        if (prices == 0) {
            em->stats.skipped++;   /* the export's null row: no trade */
            continue;
        }
        if ((rc = fin_emit_bar(em, &bar))) {
            *fatal = true;
            goto fail;
        }
        if ((rc = fin_name_set_add(emitted, bar.name, bar.name_len))) {
            *fatal = true;
            goto fail;
        }
    }
    rc = 0;
fail:
    return rc;
}

static int csv_file(struct fin_source *s, const char *path, const struct fin_window *w,
                    struct fin_ticker_filter *filter, struct fin_name_set *emitted,
                    struct fin_emitter *em, bool *fatal)
{
    char *data = NULL, *plain = NULL;
    size_t len;
    int rc = fin_read_file(path, &data, &len);
    if (rc)
        goto fail;
    const char *text = data;
    if (fin_is_gzip(data, len)) {
        if ((rc = fin_gunzip(data, len, &plain, &len, path)))
            goto fail;
        text = plain;
    }
    rc = csv_text(s, path, text, len, w, filter, emitted, em, fatal);
fail:
    free(plain);
    free(data);
    return rc;
}

int fin_csv_parse(const char *label, const char *text, size_t len, const struct fin_window *w,
                  struct fin_emitter *em)
{
    struct fin_source s;
    struct fin_ticker_filter filter;
    struct fin_name_set emitted;
    memset(&s, 0, sizeof s);
    fin_buf_init(&s.cells);
    s.window_given = w != NULL;
    fin_name_set_init(&emitted);
    fin_ticker_filter_init(&filter, false, NULL, 0);
    bool fatal = false;
    int rc = csv_text(&s, label, text, len, w, &filter, &emitted, em, &fatal);
    fin_ticker_filter_fini(&filter);
    fin_name_set_fini(&emitted);
    fin_buf_fini(&s.cells);
    return rc;
}

static void csv_destroy(struct fin_source *s)
{
    if (!s)
        return;
    fin_file_list_fini(&s->files);
    fin_buf_fini(&s->cells);
    free(s);
}

static int csv_create(struct fin_source **out, const char *arg, const struct fin_collect_settings *set)
{
    *out = NULL;
    int rc;
    struct fin_source *s = calloc(1, sizeof *s);
    if (!s)
        return FIN_ENOMEM;
    fin_buf_init(&s->cells);
    if (!arg || !*arg) {
        rc = fin_err_set(FIN_EINVAL, "the csv source needs a path: csv:FILE or csv:FOLDER");
        goto fail;
    }
    if ((rc = fin_file_list_build(&s->files, arg, false, want_csv)))
        goto fail;
    if (s->files.n == 0) {
        rc = fin_err_set(FIN_ENOENT, "csv: %s: no .csv or .csv.gz files in this folder", arg);
        goto fail;
    }
    s->tickers_given = fin_tickers_given(set);
    s->window_given = fin_window_given(set);
    *out = s;
    return 0;
fail:
    csv_destroy(s);
    return rc;
}

static int csv_collect(struct fin_source *s, const char *const *tickers, size_t n_tickers,
                       const struct fin_window *w, struct fin_emitter *em)
{
    struct fin_ticker_filter filter;
    struct fin_name_set emitted;
    fin_name_set_init(&emitted);
    int rc = fin_ticker_filter_init(&filter, s->tickers_given, tickers, n_tickers);
    if (rc)
        return rc;
    for (size_t i = 0; i < s->files.n; i++) {
        bool fatal = false;
        rc = csv_file(s, s->files.paths[i], w, &filter, &emitted, em, &fatal);
        if (fatal)
            goto fail;
        if (rc) {
            /* A file that cannot be read as OHLCV fails like a ticker would; the rest go on. */
            fin_error("csv: %s", fin_err_msg());
            em->stats.tickers_failed++;
            rc = 0;
        }
    }
    em->stats.tickers_ok += (int)emitted.n;
    fin_ticker_filter_report(&filter, "csv");
fail:
    fin_ticker_filter_fini(&filter);
    fin_name_set_fini(&emitted);
    return rc;
}

const struct fin_source_ops fin_source_csv = {"csv", csv_create, csv_collect, csv_destroy};
