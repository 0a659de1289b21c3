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
 * file, line and column and skipped; the rest of the file goes on. Prices keep their
 * spelling. Numbers are decimal (hex, inf and the like are refused), offsets at most
 * +-18:00, a NUL byte in a row refuses the row.
 *
 * Files are read as a stream (zlib reads plain and gzip files alike) through a 64 KiB
 * window, and a record may be at most csv_max_line bytes (default 1 MiB): a longer one
 * is reported and skipped without being kept, so memory stays bounded by the setting
 * whatever the file holds (a 400 MB line from a 400 KB .csv.gz costs nothing). */
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

#include <zlib.h>

#define CSV_MAX_CELLS 64
#define CSV_CHUNK (64 * 1024)

enum col { COL_TIME, COL_OPEN, COL_HIGH, COL_LOW, COL_CLOSE, COL_VOLUME, COL_NAME, COL_N };

struct fin_source {
    struct fin_file_list files;
    bool tickers_given;
    bool window_given;
    size_t max_line;
    struct fin_buf cells;      /* the current row's unescaped cells, NUL-separated */
};

/* One parsed row: cell i spans cell[i] .. cell[i] + len[i] inside the source's buffer,
 * and starts at line cline[i], column ccol[i] of the file. */
struct row {
    size_t n;
    size_t off[CSV_MAX_CELLS];
    size_t len[CSV_MAX_CELLS];
    int cline[CSV_MAX_CELLS];
    int ccol[CSV_MAX_CELLS];
    int line;
    size_t bytes;              /* bytes the record took in the file */
    bool too_many;
    bool bad_quote;
    bool too_long;             /* more than max_line bytes: cells not kept */
    bool nomem;
    int nul_line, nul_col;     /* where a NUL byte was, or 0 */
    size_t cell_chars;         /* bytes of the current cell so far, kept or not */
};

/* The bytes of one file: a zlib stream read through a window, or text in memory. */
struct csv_file {
    const char *path;
    gzFile gz;                 /* NULL for text in memory */
    char *buf;                 /* the window, for gz */
    const char *p, *end;       /* unread bytes */
    bool eof;
    int err;                   /* a read failure (message set), reported once the row ends */
    int line, col;             /* of *p, 1-based */
    size_t max_line;
};

/* Makes at least k bytes readable at p, unless the file ends first. */
static void avail(struct csv_file *f, size_t k)
{
    while ((size_t)(f->end - f->p) < k && !f->eof) {
        size_t left = (size_t)(f->end - f->p);
        memmove(f->buf, f->p, left);
        int r = gzread(f->gz, f->buf + left, (unsigned)(CSV_CHUNK - left));
        if (r < 0) {
            int zerr;
            const char *msg = gzerror(f->gz, &zerr);
            f->err = fin_err_set(zerr == Z_ERRNO ? FIN_EIO : FIN_ECORRUPT, "%s: %s", f->path,
                                 zerr == Z_ERRNO ? strerror(errno) : msg);
            r = 0;
        }
        f->p = f->buf;
        f->end = f->buf + left + r;
        if (r == 0)
            f->eof = true;
    }
}

/* The byte at p (or at p + 1 with ahead), or -1 at the end. */
static int peek(struct csv_file *f, size_t ahead)
{
    avail(f, ahead + 1);
    return (size_t)(f->end - f->p) > ahead ? (unsigned char)f->p[ahead] : -1;
}

static void advance(struct csv_file *f, struct row *r)
{
    if (*f->p == '\n') {
        f->line++;
        f->col = 1;
    } else {
        f->col++;
    }
    f->p++;
    r->bytes++;
    if (r->bytes > f->max_line)
        r->too_long = true;
}

/* Keeps byte c of the current cell (unless the record is already too long). */
static void keep(struct csv_file *f, struct fin_buf *cells, struct row *r, int c)
{
    if (c == 0 && !r->nul_line) {
        r->nul_line = f->line;
        r->nul_col = f->col;
    }
    char ch = (char)c;
    r->cell_chars++;
    if (!r->too_long && fin_buf_append(cells, &ch, 1))
        r->nomem = true;
}

static bool want_csv(const char *name)
{
    size_t n = strlen(name);
    return (n > 4 && strcasecmp(name + n - 4, ".csv") == 0) ||
           (n > 7 && strcasecmp(name + n - 7, ".csv.gz") == 0);
}

/* Keeps a run of n plain bytes at p (no newline, quote or NUL among them) in one step. */
static void keep_run(struct csv_file *f, struct fin_buf *cells, struct row *r, size_t n)
{
    r->cell_chars += n;
    r->bytes += n;
    if (r->bytes > f->max_line)
        r->too_long = true;
    if (!r->too_long && fin_buf_append(cells, f->p, n))
        r->nomem = true;
    f->p += n;
    f->col += (int)n;
}

/* The length of the run of bytes at p that need no decision: outside quotes anything but
 * , " CR LF NUL; inside, anything but " LF NUL. */
static size_t plain_run(struct csv_file *f, bool quoted)
{
    static bool stop[2][256];
    if (!stop[0][0]) {   /* both tables, once; the same bytes every time, so no race matters */
        for (const char *c = ",\"\r\n"; *c; c++)
            stop[0][(unsigned char)*c] = true;
        for (const char *c = "\"\n"; *c; c++)
            stop[1][(unsigned char)*c] = true;
        stop[1][0] = true;
        stop[0][0] = true;
    }
    avail(f, 1);
    const unsigned char *q = (const unsigned char *)f->p, *end = (const unsigned char *)f->end;
    const bool *t = stop[quoted];
    while (q < end && !t[*q])
        q++;
    return (size_t)(q - (const unsigned char *)f->p);
}

/* Reads the next record (RFC 4180: quoted cells may hold commas, "" and newlines).
 * Returns false at the end of the file. Blank lines are skipped. */
static bool next_row(struct csv_file *f, struct fin_buf *cells, struct row *r)
{
    memset(r, 0, sizeof *r);
    for (;;) {
        int c = peek(f, 0);
        if (c < 0)
            return false;
        if (c == '\n' || (c == '\r' && peek(f, 1) == '\n')) {
            if (c == '\r')
                advance(f, r);
            advance(f, r);
            continue;
        }
        break;
    }
    fin_buf_reset(cells);
    memset(r, 0, sizeof *r);
    r->line = f->line;
    size_t start = 0;
    int cell_line = f->line, cell_col = f->col;
    bool quoted = false;
    for (;;) {
        size_t run = plain_run(f, quoted);
        if (run) {
            keep_run(f, cells, r, run);
            continue;
        }
        int c = peek(f, 0);
        bool at_end = c < 0;
        if (quoted) {
            if (at_end) {
                r->bad_quote = true;
                quoted = false;
                continue;
            }
            if (c == '"') {
                advance(f, r);
                if (peek(f, 0) == '"') {
                    advance(f, r);
                    keep(f, cells, r, '"');
                } else {
                    quoted = false;
                }
            } else {
                keep(f, cells, r, c);
                advance(f, r);
            }
            continue;
        }
        if (c == '"' && r->cell_chars == 0) {
            quoted = true;
            advance(f, r);
            continue;
        }
        if (at_end || c == ',' || c == '\n' || (c == '\r' && (peek(f, 1) < 0 || peek(f, 1) == '\n'))) {
            if (r->n < CSV_MAX_CELLS) {
                r->off[r->n] = start;
                r->len[r->n] = cells->len - start;
                r->cline[r->n] = cell_line;
                r->ccol[r->n] = cell_col;
            } else {
                r->too_many = true;
            }
            r->n++;
            if (!r->too_long && fin_buf_append(cells, "", 1))   /* a NUL between cells */
                r->nomem = true;
            start = cells->len;
            r->cell_chars = 0;
            if (c == '\r')
                advance(f, r);
            if (!at_end && peek(f, 0) >= 0)
                advance(f, r);
            if (c != ',')
                return true;
            cell_line = f->line;
            cell_col = f->col;
            continue;
        }
        keep(f, cells, r, c);
        advance(f, r);
    }
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

/* A decimal number as exports write them: [+-] digits [. digits] [e [+-] digits], with
 * digits on at least one side of the point. Not hex (0x10), inf or nan, which strtod takes. */
static bool decimal_ok(const char *s, size_t n)
{
    size_t i = 0, d = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    while (i < n && isdigit((unsigned char)s[i]))
        i++, d++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && isdigit((unsigned char)s[i]))
            i++, d++;
    }
    if (d == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || !isdigit((unsigned char)s[i]))
            return false;
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
    }
    return i == n;
}

static bool parse_double(const char *s, size_t n, double *v)
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp || !decimal_ok(s, n))
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
static int csv_text(struct fin_source *s, struct csv_file *fp, const struct fin_window *w,
                    struct fin_ticker_filter *filter, struct fin_name_set *emitted,
                    struct fin_emitter *em, bool *fatal)
{
    int rc;
    struct csv_file f = *fp;   /* a copy: the caller frees the window */
    const char *path = f.path;
    if (peek(&f, 0) == 0xEF && peek(&f, 1) == 0xBB && peek(&f, 2) == 0xBF)
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
        rc = f.err ? f.err : fin_err_set(FIN_EPARSE, "%s: empty file, no header", path);
        goto fail;
    }
    if (r.nomem) {
        rc = FIN_ENOMEM;
        *fatal = true;
        goto fail;
    }
    if (r.too_long || r.nul_line) {
        rc = r.too_long ? fin_err_set(FIN_EPARSE, "%s:%d: the header is longer than %zu bytes "
                                      "(csv_max_line)", path, r.line, f.max_line)
                        : fin_err_set(FIN_EPARSE, "%s:%d:%d: a NUL byte in the header", path,
                                      r.nul_line, r.nul_col);
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
        if (r.nomem) {
            rc = FIN_ENOMEM;
            *fatal = true;
            goto fail;
        }
        if (r.too_long) {
            fin_emit_bad(em, "%s:%d: a record of more than %zu bytes (csv_max_line); skipped "
                         "without being kept", path, r.line, f.max_line);
            continue;
        }
        if (r.bad_quote) {
            fin_emit_bad(em, "%s:%d: a quoted cell does not end", path, r.line);
            continue;
        }
        if (r.nul_line) {
            fin_emit_bad(em, "%s:%d:%d: a NUL byte inside a cell", path, r.nul_line, r.nul_col);
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
                fin_emit_bad(em, "%s:%d:%d: \"%.*s\" is not a ticker", path, r.cline[col[COL_NAME]],
                             r.ccol[col[COL_NAME]], (int)(n > 40 ? 40 : n), v);
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
            fin_emit_bad(em, "%s:%d:%d: \"%.*s\" is not a time", path, r.cline[col[COL_TIME]],
                         r.ccol[col[COL_TIME]], (int)(n > 40 ? 40 : n), v);
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
                fin_emit_bad(em, "%s:%d:%d: %s \"%.*s\" is not a number", path,
                             r.cline[col[COL_OPEN + j]], r.ccol[col[COL_OPEN + j]],
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
                    fin_emit_bad(em, "%s:%d:%d: volume \"%.*s\" is not a whole number", path,
                                 r.cline[col[COL_VOLUME]], r.ccol[col[COL_VOLUME]],
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
            fin_emit_bad(em, "%s:%d:%d: high %.*s is below low %.*s", path,
                         r.cline[col[COL_HIGH]], r.ccol[col[COL_HIGH]],
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
    rc = f.err;   /* a read failure ends the file like the end would: say so */
fail:
    return rc;
}

static int csv_file(struct fin_source *s, const char *path, const struct fin_window *w,
                    struct fin_ticker_filter *filter, struct fin_name_set *emitted,
                    struct fin_emitter *em, bool *fatal)
{
    struct csv_file f = {.path = path, .line = 1, .col = 1, .max_line = s->max_line};
    int rc;
    if (!(f.gz = gzopen(path, "rb")))
        return errno ? fin_err_errno(errno, "cannot open", path) : FIN_ENOMEM;
    gzbuffer(f.gz, CSV_CHUNK);
    if (!(f.buf = malloc(CSV_CHUNK))) {
        rc = FIN_ENOMEM;
        *fatal = true;
        goto fail;
    }
    f.p = f.end = f.buf;
    rc = csv_text(s, &f, w, filter, emitted, em, fatal);
fail:
    free(f.buf);
    gzclose(f.gz);
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
    s.max_line = FIN_CSV_MAX_LINE;
    fin_name_set_init(&emitted);
    fin_ticker_filter_init(&filter, false, NULL, 0);
    bool fatal = false;
    struct csv_file f = {.path = label, .p = text, .end = text + len, .eof = true, .line = 1,
                         .col = 1, .max_line = s.max_line};
    int rc = csv_text(&s, &f, w, &filter, &emitted, em, &fatal);
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
    s->max_line = set->csv_max_line > 0 ? (size_t)set->csv_max_line : FIN_CSV_MAX_LINE;
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
