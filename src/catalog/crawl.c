/* crawl.c - the crawler: from a folder of objects to catalog tables.
 *
 * One pass per table: walk the folder, keep objects at the table's partition depth,
 * register the partitions their folders name, and sample the objects that are new or
 * changed since the last crawl (by size and modification time) for columns. Format is
 * recognised by content (Parquet magic, gzip magic, then '{' or '[' for JSON, otherwise
 * CSV with a header), never by name, because Firehose objects carry no extension.
 *
 * Nothing here is fatal for one bad object or line: it is reported through the caller's
 * callback (object and line) and counted, and the crawl goes on, as Glue does. Reports
 * of one kind are summarised per table unless every one is asked for.
 *
 * Sampling is the costly part, so it is built for speed: a small pool of threads (one per
 * core) samples objects while the calling thread merges their results in key order (the
 * catalog and the reports come out as with one thread); a plain object is read only as
 * far as its sample goes; records are typed by a streaming scanner that never builds a
 * tree or allocates per record. A gzip object is inflated to its end, whatever the sample,
 * so that a truncated or corrupt one is found: it is recorded as damaged, and the query
 * refuses its table rather than answer from part of it (docs/catalog.md). */
#include "catalog_int.h"
#include "finstream/clock.h"
#include "finstream/error.h"
#include "finstream/interrupt.h"
#include "finstream/framing.h"
#include "finstream/fsutil.h"
#include "finstream/log.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_DEPTH 16

struct found {
    char *key;       /* relative to the table location */
    int64_t size, mtime;
    int depth;       /* number of folders in key */
};

struct walk {
    struct found *v;
    size_t n, cap;
};

struct crawl {
    const struct fin_crawl_opts *opts;
    struct fin_crawl_stats *stats;
    long sample;
    char now[32];
};

static void report(struct crawl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(struct crawl *c, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->opts->report)
        c->opts->report(c->opts->report_ctx, msg);
    else
        fin_warn("%s", msg);
}

static bool hidden(const char *name) { return name[0] == '.' || name[0] == '_'; }

/* Catalog text is JSON, which is UTF-8: names that are not cannot be kept. */
static bool utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 0 : (*p >> 5) == 0x6 ? 1 : (*p >> 4) == 0xe ? 2 : (*p >> 3) == 0x1e ? 3 : -1;
        if (n < 0 || (n == 1 && *p < 0xc2) || *p > 0xf4)
            return false;
        /* no overlong forms, no surrogates, nothing above U+10FFFF */
        if ((*p == 0xe0 && p[1] < 0xa0) || (*p == 0xed && p[1] >= 0xa0) ||
            (*p == 0xf0 && p[1] < 0x90) || (*p == 0xf4 && p[1] >= 0x90))
            return false;
        p++;
        for (int i = 0; i < n; i++, p++)
            if ((*p & 0xc0) != 0x80)
                return false;
    }
    return true;
}

/* A folder name that reads as a partition: key=value, or all digits (YYYY, MM, DD, HH). */
static bool partition_like(const char *name)
{
    if (strchr(name, '=') && name[0] != '=')
        return true;
    if (!*name)
        return false;
    for (const char *p = name; *p; p++)
        if (!isdigit((unsigned char)*p))
            return false;
    return true;
}

static void walk_free(struct walk *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->v[i].key);
    free(w->v);
}

static int cmp_found(const void *a, const void *b)
{
    return strcmp(((const struct found *)a)->key, ((const struct found *)b)->key);
}

/* Collects regular files under root/rel; skip lists top-level folders left out. */
static int walk_dir(struct walk *w, const char *root, const char *rel, int depth,
                    char **skip, size_t nskip)
{
    char path[PATH_MAX];
    int pn = snprintf(path, sizeof path, "%s%s%s", root, *rel ? "/" : "", rel);
    if (pn < 0 || (size_t)pn >= sizeof path)
        return fin_err_set(FIN_ELIMIT, "%s/%s: path too long", root, rel);
    DIR *d = opendir(path);
    if (!d)
        return fin_err_errno(errno, "cannot open folder", path);
    int rc = 0;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        if (hidden(e->d_name))
            continue;
        if (!utf8_valid(e->d_name)) {
            fin_warn("%s: skipped an entry whose name is not UTF-8", path);
            continue;
        }
        bool skipped = false;
        for (size_t i = 0; depth == 0 && i < nskip; i++)
            skipped |= strcmp(skip[i], e->d_name) == 0;
        if (skipped)
            continue;
        char sub[PATH_MAX];
        int n = snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        if (n < 0 || (size_t)n >= sizeof sub) {
            rc = fin_err_set(FIN_ELIMIT, "%s/%s: path too long", path, e->d_name);
            break;
        }
        char full[PATH_MAX + 2];
        snprintf(full, sizeof full, "%s/%s", root, sub);
        struct stat st;
        if (stat(full, &st) != 0)
            continue;   /* vanished while we walked: not an error */
        if (S_ISDIR(st.st_mode)) {
            if (depth + 1 >= MAX_DEPTH) {
                rc = fin_err_set(FIN_ELIMIT, "%s: folders nested deeper than %d", full, MAX_DEPTH);
                break;
            }
            rc = walk_dir(w, root, sub, depth + 1, skip, nskip);
        } else if (S_ISREG(st.st_mode)) {
            if (w->n == w->cap) {
                size_t cap = w->cap ? w->cap * 2 : 256;
                struct found *v = realloc(w->v, cap * sizeof *v);
                if (!v) {
                    rc = FIN_ENOMEM;
                    break;
                }
                w->v = v;
                w->cap = cap;
            }
            char *k = strdup(sub);
            if (!k) {
                rc = FIN_ENOMEM;
                break;
            }
            w->v[w->n++] = (struct found){k, (int64_t)st.st_size, (int64_t)st.st_mtime, depth};
        }
    }
    closedir(d);
    return rc;
}

/* ---- reading an object ---- */

#define SAMPLE_READ (256 * 1024)   /* bytes read first for sampling; more only when needed */
#define GZ_CHUNK (256 * 1024)

/* What a worker made of one object. Reports are kept here, with their kind, and handed
 * to the caller in object order by the thread that merges. */
enum note_kind { K_RECORD, K_OBJECT, K_DAMAGED, K_UTF16, K_SKIPPED, K_KINDS };

struct note {
    enum note_kind kind;
    char *text;
};

/* A column of one object: the key as spelled, its type so far (widening order below). */
enum vt { VT_NULL, VT_BOOL, VT_INT, VT_REAL, VT_STRING };
static const char *const vt_glue[] = {"null", "boolean", "bigint", "double", "string"};

struct scol {
    char *key;
    size_t len;
    enum vt t;
};

struct sample {
    const char *classification;   /* json | csv | parquet; NULL: empty */
    const char *framing;
    bool gzip;
    bool parquet;                 /* the schema is read by the merging thread */
    char *damage;                 /* what is wrong when the object is unreadable whole */
    int rc;                       /* 0, FIN_EPARSE (object skipped) or a fatal code */
    struct scol *cols;            /* JSON: per spelling */
    size_t ncols, capcols;
    struct fin_columns csv;       /* CSV */
    int64_t records, bad, bytes;
    struct note *notes;
    size_t nnotes;
};

static void note(struct sample *s, enum note_kind k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note(struct sample *s, enum note_kind k, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct note *v = realloc(s->notes, (s->nnotes + 1) * sizeof *v);
    if (!v)
        return;   /* a report lost to ENOMEM; the counts stay right */
    s->notes = v;
    if ((v[s->nnotes].text = strdup(msg)))
        v[s->nnotes++].kind = k;
}

static void sample_fini(struct sample *s)
{
    for (size_t i = 0; i < s->ncols; i++)
        free(s->cols[i].key);
    free(s->cols);
    for (size_t i = 0; i < s->nnotes; i++)
        free(s->notes[i].text);
    free(s->notes);
    free(s->damage);
    fin_columns_fini(&s->csv);
    memset(s, 0, sizeof *s);
}

struct text {
    char *buf;          /* the object's (inflated) text, or its first part */
    size_t len;
    bool partial;       /* only the first part: more exists */
    bool gzip;
};

static int read_full(int fd, char *buf, size_t n, size_t *got)
{
    *got = 0;
    while (*got < n) {
        ssize_t r = read(fd, buf + *got, n - *got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    return 0;
}

/* Inflates the gzip object on fd (whose first n bytes are already in head), keeping at
 * most want bytes of text (0: all) and checking the rest to the end of the stream: a
 * truncated object or a failed CRC becomes s->damage. */
static int gz_read(int fd, const char *path, char *head, size_t n, size_t want, struct text *t,
                   struct sample *s)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 32) != Z_OK)
        return FIN_ENOMEM;
    size_t cap = want ? want + 1 : 4 * n + 65536, len = 0;
    char *out = malloc(cap), *discard = NULL;
    char *in = head;
    size_t inlen = n;
    bool eof = n < GZ_CHUNK, ended = false;
    int rc = out ? 0 : FIN_ENOMEM;
    uint64_t total_in = 0;
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)inlen;
    while (!rc) {
        if (zs.avail_in == 0) {
            if (eof)
                break;
            size_t got;
            if (read_full(fd, in, GZ_CHUNK, &got) != 0) {
                rc = fin_err_errno(errno, "cannot read", path);
                break;
            }
            s->bytes += (int64_t)got;
            eof = got < GZ_CHUNK;
            if (got == 0)
                break;
            zs.next_in = (Bytef *)in;
            zs.avail_in = (uInt)got;
        }
        if (ended) {   /* another member follows */
            inflateReset(&zs);
            ended = false;
        }
        bool keep = !want || len < want;
        if (keep && cap - len < 65536 && !want) {
            char *nb = realloc(out, cap * 2);
            if (!nb) {
                rc = FIN_ENOMEM;
                break;
            }
            out = nb;
            cap *= 2;
        }
        if (!keep && !discard && !(discard = malloc(65536))) {
            rc = FIN_ENOMEM;
            break;
        }
        zs.next_out = (Bytef *)(keep ? out + len : discard);
        zs.avail_out = (uInt)(keep ? cap - 1 - len : 65536);
        uLong before_in = zs.total_in;
        int z = inflate(&zs, Z_NO_FLUSH);
        total_in += zs.total_in - before_in;
        if (keep)
            len = (size_t)((char *)zs.next_out - out);
        if (z == Z_STREAM_END) {
            ended = true;
            continue;
        }
        if (z == Z_BUF_ERROR && zs.avail_in == 0)
            continue;   /* needs more input */
        if (z != Z_OK) {
            if (asprintf(&s->damage, "bad gzip data at byte %llu: %s", (unsigned long long)total_in,
                         zs.msg ? zs.msg : "inflate failed") < 0)
                s->damage = NULL;
            break;
        }
    }
    if (!rc && !s->damage && !ended &&
        asprintf(&s->damage, "gzip data is truncated: the stream stops at byte %llu, before "
                             "its end", (unsigned long long)total_in) < 0)
        s->damage = NULL;
    inflateEnd(&zs);
    free(discard);
    if (rc) {
        free(out);
        return rc;
    }
    out[len] = '\0';
    t->buf = out;
    t->len = len;
    t->partial = want && len >= want;
    t->gzip = true;
    return 0;
}

/* Reads the text of an object for sampling: want bytes of it (0: all), gzip inflated and
 * checked to its end. Parquet is only recognised (s->parquet). */
static int read_text(const char *path, size_t want, struct text *t, struct sample *s)
{
    memset(t, 0, sizeof *t);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fin_err_errno(errno, "cannot open", path);
    struct stat st;
    int rc = 0;
    char *buf = NULL;
    if (fstat(fd, &st) != 0) {
        rc = fin_err_errno(errno, "cannot read", path);
        goto done;
    }
    size_t size = (size_t)st.st_size;
    size_t first = want && want < size ? want : size;
    if (first < GZ_CHUNK)
        first = size < GZ_CHUNK ? size : GZ_CHUNK;
    if (!(buf = malloc(first + 1))) {
        rc = FIN_ENOMEM;
        goto done;
    }
    size_t got;
    if (read_full(fd, buf, first, &got) != 0) {
        rc = fin_err_errno(errno, "cannot read", path);
        goto done;
    }
    s->bytes += (int64_t)got;
    if (got >= 4 && memcmp(buf, "PAR1", 4) == 0) {
        char tail[4];
        if (size >= 12 && pread(fd, tail, 4, (off_t)size - 4) == 4 && memcmp(tail, "PAR1", 4) == 0) {
            s->parquet = true;
            goto done;
        }
    }
    if (fin_is_gzip(buf, got)) {
        if (got < GZ_CHUNK) {
            char *nb = realloc(buf, GZ_CHUNK);   /* gz_read refills this buffer */
            if (!nb) {
                rc = FIN_ENOMEM;
                goto done;
            }
            buf = nb;
        }
        rc = gz_read(fd, path, buf, got, want, t, s);
        goto done;
    }
    buf[got] = '\0';
    t->buf = buf;
    t->len = got;
    t->partial = got < size;
    buf = NULL;
done:
    free(buf);
    close(fd);
    return rc;
}

/* ---- sampling JSON: a streaming scanner, no tree ---- */

/* Glue's widening among the JSON value types. */
static enum vt vt_widen(enum vt a, enum vt b)
{
    if (a == b || b == VT_NULL)
        return a;
    if (a == VT_NULL)
        return b;
    if ((a == VT_INT && b == VT_REAL) || (a == VT_REAL && b == VT_INT))
        return VT_REAL;
    return VT_STRING;
}

struct jscan {
    const char *p, *end;
    const char *why;
};

/* After an opening quote; leaves p after the closing one. */
static bool skip_string(struct jscan *j, bool *escaped)
{
    const char *p = j->p, *end = j->end;
    while (p < end) {
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (!q)
            break;
        const char *bs = memchr(p, '\\', (size_t)(q - p));
        if (!bs) {
            j->p = q + 1;
            return true;
        }
        *escaped = true;
        p = bs + 2;   /* the backslash and the character it escapes */
    }
    j->why = "a string does not end";
    return false;
}

/* Skips a nested object or array (from its opening bracket), matching brackets outside
 * strings: nested values are read as JSON text, so only their extent matters. */
static bool skip_nested(struct jscan *j)
{
    int depth = 0;
    while (j->p < j->end) {
        char c = *j->p++;
        if (c == '"') {
            bool esc = false;
            if (!skip_string(j, &esc))
                return false;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth == 0)
                return true;
        }
    }
    j->why = "a nested value does not end";
    return false;
}

static inline void skip_ws(struct jscan *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static bool word(struct jscan *j, const char *w, size_t n)
{
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0) {
        j->why = "unexpected character";
        return false;
    }
    j->p += n;
    return true;
}

/* One top-level value: its type for the catalog. Bare NaN and Infinity read as null, as
 * Athena reads them; nested objects and arrays as strings (their JSON text). */
static bool scan_value(struct jscan *j, enum vt *t)
{
    if (j->p >= j->end) {
        j->why = "a value is missing";
        return false;
    }
    bool esc = false;
    switch (*j->p) {
    case '"': j->p++; *t = VT_STRING; return skip_string(j, &esc);
    case '{':
    case '[': *t = VT_STRING; return skip_nested(j);
    case 't': *t = VT_BOOL; return word(j, "true", 4);
    case 'f': *t = VT_BOOL; return word(j, "false", 5);
    case 'n': *t = VT_NULL; return word(j, "null", 4);
    case 'N': *t = VT_NULL; return word(j, "NaN", 3);
    case 'I': *t = VT_NULL; return word(j, "Infinity", 8);
    default: break;
    }
    const char *p = j->p, *end = j->end;
    if (p < end && *p == '-') {
        p++;
        if (p < end && *p == 'I') {
            j->p = p;
            *t = VT_NULL;
            return word(j, "Infinity", 8);
        }
    }
    const char *digits = p;
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    size_t nd = (size_t)(p - digits);
    if (nd == 0 || (nd > 1 && *digits == '0')) {
        j->why = nd ? "a number with a leading zero" : "unexpected character";
        return false;
    }
    *t = VT_INT;
    if (p < end && *p == '.') {
        *t = VT_REAL;
        const char *f = ++p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        if (p == f) {
            j->why = "a number without digits after the point";
            return false;
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        *t = VT_REAL;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        const char *e = p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        if (p == e) {
            j->why = "a number without an exponent";
            return false;
        }
    }
    /* beyond 64 bits an integer is read as a double */
    if (*t == VT_INT && (nd > 19 || (nd == 19 && memcmp(digits, "9223372036854775807", 19) > 0)))
        *t = VT_REAL;
    j->p = p;
    return true;
}

/* Decodes a JSON string body with escapes into out (cap bytes with the NUL); false when
 * it does not fit or an escape is bad. */
static bool unescape(const char *s, size_t n, char *out, size_t cap, size_t *out_len)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned cp = (unsigned char)s[i];
        if (s[i] == '\\') {
            if (++i >= n)
                return false;
            switch (s[i]) {
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'n': cp = '\n'; break;
            case 'r': cp = '\r'; break;
            case 't': cp = '\t'; break;
            case '"': case '\\': case '/': cp = (unsigned char)s[i]; break;
            case 'u': {
                if (i + 4 >= n)
                    return false;
                char hex[5] = {s[i + 1], s[i + 2], s[i + 3], s[i + 4], 0};
                char *e;
                cp = (unsigned)strtoul(hex, &e, 16);
                if (*e)
                    return false;
                i += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < n && s[i + 1] == '\\' &&
                    s[i + 2] == 'u') {
                    char lo_hex[5] = {s[i + 3], s[i + 4], s[i + 5], s[i + 6], 0};
                    unsigned lo = (unsigned)strtoul(lo_hex, &e, 16);
                    if (!*e && lo >= 0xDC00 && lo <= 0xDFFF) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        i += 6;
                    }
                }
                if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
                    return false;   /* no NUL or lone surrogate in a name */
                break;
            }
            default: return false;
            }
            unsigned char u[4];
            size_t m;
            if (cp < 0x80) u[0] = (unsigned char)cp, m = 1;
            else if (cp < 0x800) u[0] = (unsigned char)(0xC0 | cp >> 6), u[1] = (unsigned char)(0x80 | (cp & 0x3F)), m = 2;
            else if (cp < 0x10000)
                u[0] = (unsigned char)(0xE0 | cp >> 12), u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F)),
                u[2] = (unsigned char)(0x80 | (cp & 0x3F)), m = 3;
            else
                u[0] = (unsigned char)(0xF0 | cp >> 18), u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F)),
                u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F)), u[3] = (unsigned char)(0x80 | (cp & 0x3F)), m = 4;
            if (k + m >= cap)
                return false;
            memcpy(out + k, u, m);
            k += m;
            continue;
        }
        if (k + 1 >= cap)
            return false;
        out[k++] = (char)cp;
    }
    out[k] = '\0';
    *out_len = k;
    return true;
}

/* The object's column for key k (as spelled), created when new; records of one object
 * mostly keep one key order, so the field's position is tried first. */
static struct scol *scol_for(struct sample *s, const char *k, size_t n, size_t hint)
{
    if (hint < s->ncols && s->cols[hint].len == n && memcmp(s->cols[hint].key, k, n) == 0)
        return &s->cols[hint];
    for (size_t i = 0; i < s->ncols; i++)
        if (s->cols[i].len == n && memcmp(s->cols[i].key, k, n) == 0)
            return &s->cols[i];
    if (s->ncols == s->capcols) {
        size_t cap = s->capcols ? s->capcols * 2 : 16;
        struct scol *v = realloc(s->cols, cap * sizeof *v);
        if (!v)
            return NULL;
        s->cols = v;
        s->capcols = cap;
    }
    struct scol *c = &s->cols[s->ncols];
    if (!(c->key = malloc(n + 1)))
        return NULL;
    memcpy(c->key, k, n);
    c->key[n] = '\0';
    c->len = n;
    c->t = VT_NULL;
    s->ncols++;
    return c;
}

/* Types the top-level fields of one record into s. Returns 0, FIN_EPARSE with *why set
 * for a record that is not a JSON object, or FIN_ENOMEM. */
static int sample_record(struct sample *s, const char *rec, size_t len, const char **why)
{
    struct jscan j = {rec, rec + len, NULL};
    char keybuf[1024];
    skip_ws(&j);
    if (j.p >= j.end || *j.p != '{') {
        *why = j.p < j.end && *j.p == '[' ? "a JSON array" : "text that is not JSON";
        return FIN_EPARSE;
    }
    j.p++;
    skip_ws(&j);
    if (j.p < j.end && *j.p == '}') {
        j.p++;
        goto end;
    }
    for (size_t i = 0;; i++) {
        skip_ws(&j);
        if (j.p >= j.end || *j.p != '"') {
            *why = "expected a field name";
            return FIN_EPARSE;
        }
        const char *k = ++j.p;
        bool esc = false;
        if (!skip_string(&j, &esc)) {
            *why = j.why;
            return FIN_EPARSE;
        }
        size_t kl = (size_t)(j.p - 1 - k);
        if (esc) {
            if (!unescape(k, kl, keybuf, sizeof keybuf, &kl)) {
                *why = "a field name with a bad escape, or longer than 1 KiB";
                return FIN_EPARSE;
            }
            k = keybuf;
        }
        skip_ws(&j);
        if (j.p >= j.end || *j.p != ':') {
            *why = "expected ':'";
            return FIN_EPARSE;
        }
        j.p++;
        skip_ws(&j);
        enum vt t;
        if (!scan_value(&j, &t)) {
            *why = j.why;
            return FIN_EPARSE;
        }
        struct scol *c = scol_for(s, k, kl, i);
        if (!c)
            return FIN_ENOMEM;
        c->t = vt_widen(c->t, t);
        skip_ws(&j);
        if (j.p < j.end && *j.p == ',') {
            j.p++;
            continue;
        }
        if (j.p < j.end && *j.p == '}') {
            j.p++;
            break;
        }
        *why = "expected ',' or '}'";
        return FIN_EPARSE;
    }
end:
    skip_ws(&j);
    if (j.p != j.end) {
        *why = "text after the object";
        return FIN_EPARSE;
    }
    return 0;
}

static int sample_json(long sample, struct fin_json_reader *r, const char *path, struct sample *s)
{
    const char *rec;
    size_t len;
    int line, rc = 0;
    while ((sample == 0 || s->records + s->bad < sample) &&
           (rc = fin_json_reader_next(r, &rec, &len, &line)) == 0) {
        const char *why = NULL;
        rc = sample_record(s, rec, len, &why);
        if (rc == FIN_EPARSE) {
            s->bad++;
            note(s, K_RECORD, "%s:%d: record is not a JSON object: %s", path, line, why);
            continue;
        }
        if (rc)
            return rc;
        s->records++;
    }
    if (rc == FIN_EPARSE) {
        s->bad++;
        note(s, K_RECORD, "%s: %s", path, fin_err_msg());
    } else if (rc && rc != FIN_EEND) {
        return rc;
    }
    s->framing = fin_framing_name(r->framing);
    /* keys must be UTF-8 to be kept in the catalog */
    for (size_t i = 0; i < s->ncols; i++)
        if (!utf8_valid(s->cols[i].key)) {
            note(s, K_RECORD, "%s: a field name is not UTF-8: left out", path);
            free(s->cols[i].key);
            s->cols[i--] = s->cols[--s->ncols];
        }
    return 0;
}

/* Splits one CSV line (RFC 4180 quoting, no embedded newlines) into at most max fields,
 * in place; returns the count or -1 when a quote is left open. */
static int csv_split(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max)
            return n;
        char *out = p, *start = p;
        if (*p == '"') {
            p++;
            for (;;) {
                if (!*p)
                    return -1;
                if (*p == '"' && p[1] == '"') {
                    *out++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *out++ = *p++;
                }
            }
            while (*p && *p != ',')
                p++;
        } else {
            while (*p && *p != ',')
                out++, p++;
        }
        bool more = *p == ',';
        *out = '\0';
        fields[n++] = start;
        if (!more)
            return n;
        p++;
    }
}

static const char *csv_type(const char *v)
{
    if (!*v || strcmp(v, "NaN") == 0)
        return "null";
    if (!strcmp(v, "true") || !strcmp(v, "false"))
        return "boolean";
    char *end;
    errno = 0;
    (void)strtoll(v, &end, 10);
    if (!*end && !errno)
        return "bigint";
    (void)strtod(v, &end);
    if (!*end)
        return "double";
    return "string";
}

#define CSV_MAX_FIELDS 1024

static int sample_csv(long sample, struct fin_json_reader *r, const char *path,
                      struct sample *s)
{
    char **fields = malloc(CSV_MAX_FIELDS * sizeof *fields);
    char **names = calloc(CSV_MAX_FIELDS, sizeof *names);
    char *text = malloc(r->len - r->pos + 1);
    int rc = 0, nnames = 0;
    if (!fields || !names || !text) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    memcpy(text, r->data + r->pos, r->len - r->pos);
    text[r->len - r->pos] = '\0';
    char *save = NULL;
    int lineno = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        size_t l = strlen(line);
        if (l && line[l - 1] == '\r')
            line[--l] = '\0';
        if (!l)
            continue;
        if (!nnames) {
            nnames = csv_split(line, fields, CSV_MAX_FIELDS);
            if (nnames <= 0) {
                rc = fin_err_set(FIN_EPARSE, "%s:%d: unreadable CSV header", path, lineno);
                nnames = 0;
                goto fail;
            }
            for (int i = 0; i < nnames; i++)
                if (!utf8_valid(fields[i])) {
                    rc = fin_err_set(FIN_EPARSE, "%s:%d: CSV header is not UTF-8", path, lineno);
                    nnames = i;
                    goto fail;
                }
            for (int i = 0; i < nnames; i++)
                if (!(names[i] = strdup(*fields[i] ? fields[i] : "col")))
                    rc = FIN_ENOMEM;
            for (int i = 0; !rc && i < nnames; i++)
                rc = fin_columns_merge(&s->csv, names[i], "null");
            if (rc)
                goto fail;
            continue;
        }
        if (sample && s->records + s->bad >= sample)
            break;
        int n = csv_split(line, fields, CSV_MAX_FIELDS);
        if (n != nnames) {
            s->bad++;
            note(s, K_RECORD, "%s:%d: %d fields where the header has %d", path, lineno, n, nnames);
            continue;
        }
        for (int i = 0; i < n && !rc; i++)
            rc = fin_columns_merge(&s->csv, names[i], csv_type(fields[i]));
        if (rc)
            goto fail;
        s->records++;
    }
    s->classification = "csv";
    s->framing = "lines";
fail:
    for (int i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    free(fields);
    free(text);
    return rc;
}

/* Cuts a partial text after its last newline, so that no record is cut; false when there
 * is none (the whole object is needed). */
static bool cut_at_newline(struct text *t)
{
    char *nl = t->len ? memrchr(t->buf, '\n', t->len) : NULL;
    if (!nl)
        return false;
    t->len = (size_t)(nl + 1 - t->buf);
    t->buf[t->len] = '\0';
    return true;
}

/* Samples one object into s (on a worker thread: nothing here touches shared state).
 * A problem that concerns only this object leaves s->rc = FIN_EPARSE (skipped). */
static void sample_object(long sample, const char *path, struct sample *s)
{
    struct fin_json_reader r;
    memset(&r, 0, sizeof r);
    struct text t;
    /* The first part of the text holds the sample unless records are large or every
     * record is wanted; gzip is inflated to its end either way, to check it. */
    size_t want = sample ? SAMPLE_READ : 0;
    for (;;) {
        int rc = read_text(path, want, &t, s);
        if (rc) {
            s->rc = rc == FIN_ENOMEM ? rc : FIN_EPARSE;
            if (rc != FIN_ENOMEM)
                note(s, K_OBJECT, "%s: cannot read: %s", path, fin_err_msg());
            return;
        }
        if (s->parquet) {
            s->classification = "parquet";
            s->framing = "parquet";
            return;
        }
        s->gzip = t.gzip;
        if (s->damage) {
            note(s, K_DAMAGED, "%s: damaged object, not read: %s", path, s->damage);
            s->rc = FIN_EPARSE;
            goto done;
        }
        if (t.len >= 2 && ((unsigned char)t.buf[0] == 0xFF || (unsigned char)t.buf[0] == 0xFE) &&
            ((unsigned char)t.buf[1] ^ (unsigned char)t.buf[0]) == 0x01) {
            if (asprintf(&s->damage, "UTF-16 text (byte-order mark %02X %02X); only UTF-8 is read",
                         (unsigned char)t.buf[0], (unsigned char)t.buf[1]) < 0)
                s->damage = NULL;
            note(s, K_UTF16, "%s: UTF-16 text (it starts with a byte-order mark %02X %02X): not "
                             "read; Athena's JSON SerDe and finstream read UTF-8 only",
                 path, (unsigned char)t.buf[0], (unsigned char)t.buf[1]);
            s->rc = FIN_EPARSE;
            goto done;
        }
        if (t.partial && !cut_at_newline(&t)) {
            free(t.buf);
            want = 0;
            continue;
        }
        if ((rc = fin_json_reader_init_mem(&r, t.buf, t.len, path))) {
            note(s, K_OBJECT, "%s: %s", path, fin_err_msg());
            s->rc = FIN_EPARSE;
            goto done;
        }
        size_t p = r.pos;
        while (p < r.len && isspace((unsigned char)r.data[p]))
            p++;
        if (p == r.len) {
            s->classification = NULL;   /* empty: says nothing about the table */
            if (t.partial)
                goto more;
            goto done;
        }
        if (r.data[p] == '{' || r.data[p] == '[') {
            s->classification = "json";
            rc = sample_json(sample, &r, path, s);
        } else {
            s->classification = "csv";
            rc = sample_csv(sample, &r, path, s);
            if (rc == FIN_EPARSE)
                note(s, K_OBJECT, "%s", fin_err_msg());
        }
        if (rc) {
            s->rc = rc;
            goto done;
        }
        if (t.partial && s->records + s->bad < sample)
            goto more;   /* the first part held too few records: read it all */
        goto done;
    more:
        fin_json_reader_fini(&r);
        free(t.buf);
        for (size_t i = 0; i < s->nnotes; i++)
            free(s->notes[i].text);
        s->nnotes = 0;
        for (size_t i = 0; i < s->ncols; i++)
            free(s->cols[i].key);
        s->ncols = 0;
        fin_columns_fini(&s->csv);
        s->records = s->bad = 0;
        want = 0;
    }
done:
    fin_json_reader_fini(&r);
    free(t.buf);
}

/* ---- workers: objects sampled on every core, merged in order by the caller ---- */

struct item {
    char *path;
    size_t found;     /* index in the walk */
    bool done;
    struct sample s;
};

struct pool {
    long sample;
    struct item *items;
    size_t n, next;
    bool stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void *worker(void *arg)
{
    struct pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        size_t i = p->next;
        bool stop = p->stop || i >= p->n;
        if (!stop)
            p->next++;
        pthread_mutex_unlock(&p->mu);
        if (stop)
            return NULL;
        sample_object(p->sample, p->items[i].path, &p->items[i].s);
        pthread_mutex_lock(&p->mu);
        p->items[i].done = true;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
}

/* Waits for item i (sampling it here when there are no workers). */
static void pool_wait(struct pool *p, size_t i, int nthreads)
{
    if (nthreads == 0) {
        sample_object(p->sample, p->items[i].path, &p->items[i].s);
        p->items[i].done = true;
        return;
    }
    pthread_mutex_lock(&p->mu);
    while (!p->items[i].done)
        pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

static int pool_threads(const struct fin_crawl_opts *o, size_t items)
{
    long n = o->workers > 0 ? o->workers : sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    if (n > 8)
        n = 8;
    if ((size_t)n > items)
        n = (long)items;
    return n <= 1 ? 0 : (int)n;   /* one object, or one core: sample in the merging thread */
}

/* ---- reports: every one, or one line per kind and table ---- */

struct summary {
    size_t count[K_KINDS];
    char *first[K_KINDS];
};

static void tell(struct crawl *c, struct summary *sum, enum note_kind k, const char *msg)
{
    if (c->opts->report_all) {
        report(c, "%s", msg);
        return;
    }
    if (sum->count[k]++ == 0)
        sum->first[k] = strdup(msg);
}

static void tellf(struct crawl *c, struct summary *sum, enum note_kind k, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void tellf(struct crawl *c, struct summary *sum, enum note_kind k, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tell(c, sum, k, msg);
}

static void summary_flush(struct crawl *c, struct summary *sum, const char *table)
{
    static const char *const what[K_KINDS] = {
        "records could not be read", "objects could not be read", "objects are damaged",
        "objects are UTF-16 text", "objects were skipped"};
    for (int k = 0; k < K_KINDS; k++) {
        if (sum->count[k] == 1)
            report(c, "%s", sum->first[k] ? sum->first[k] : what[k]);
        else if (sum->count[k] > 1)
            report(c, "%s: %zu %s (verbose reporting lists each); the first: %s", table,
                   sum->count[k], what[k], sum->first[k] ? sum->first[k] : "?");
        free(sum->first[k]);
        sum->first[k] = NULL;
        sum->count[k] = 0;
    }
}

/* ---- tables ---- */

static int set_str(char **dst, const char *v)
{
    char *d = strdup(v);
    if (!d)
        return FIN_ENOMEM;
    free(*dst);
    *dst = d;
    return 0;
}

/* Merges a per-object property (framing, compression) into the table's. */
static int merge_prop(char **dst, const char *v)
{
    if (!*dst || !strcmp(*dst, "empty"))
        return set_str(dst, v);
    if (strcmp(*dst, v) != 0 && strcmp(v, "empty") != 0)
        return set_str(dst, "mixed");
    return 0;
}

/* Splits a relative folder path into its components (in place). */
static int split_dirs(char *key, char **parts, int max)
{
    int n = 0;
    for (char *p = key, *slash; (slash = strchr(p, '/')); p = slash + 1) {
        if (n == max)
            return -1;
        *slash = '\0';
        parts[n++] = p;
    }
    return n;
}

static int find_partition(const struct fin_table *t, const char *path)
{
    for (size_t i = t->npartitions; i-- > 0;)
        if (strcmp(t->partitions[i].path, path) == 0)
            return (int)i;
    return -1;
}

static int cmp_objects(const void *a, const void *b)
{
    return strcmp(((const struct fin_object *)a)->key, ((const struct fin_object *)b)->key);
}

/* Adds an object's columns to the table: names matched case-insensitively (the OpenX
 * SerDe's default), other spellings kept as aliases, types widened. */
static int merge_columns(struct crawl *c, struct fin_table *t, struct sample *sp, bool created)
{
    int rc = 0;
    bool csvlike = sp->parquet || !strcmp(sp->classification, "csv");
    size_t n = csvlike ? sp->csv.n : sp->ncols;
    for (size_t j = 0; !rc && j < n; j++) {
        const char *key = csvlike ? sp->csv.v[j].source : sp->cols[j].key;
        const char *type = csvlike ? sp->csv.v[j].type : vt_glue[sp->cols[j].t];
        if (fin_columns_find(&t->partition_keys, key))
            continue;   /* a partition key shadows a data column of that name */
        struct fin_column *col = fin_columns_find(&t->columns, key);
        bool is_new = !col;
        if ((rc = fin_columns_merge(&t->columns, key, type)))
            break;
        if (!col)
            col = &t->columns.v[t->columns.n - 1];
        if (!csvlike)
            rc = fin_column_add_alias(col, key);
        if (is_new && !created)
            c->stats->columns_added++;
    }
    return rc;
}

static int crawl_table(struct fin_catalog *cat, struct crawl *c, const char *location,
                       const char *name, char **skip, size_t nskip)
{
    const struct fin_crawl_opts *o = c->opts;
    const char *db = o->database && *o->database ? o->database : FIN_CATALOG_DEFAULT_DATABASE;
    struct walk w = {0};
    struct fin_object *old = NULL;
    size_t nold = 0;
    struct summary sum;
    memset(&sum, 0, sizeof sum);
    struct {
        int kind;
        size_t item;
        const struct fin_object *prev;
    } *what = NULL;
    struct item *items = NULL;
    size_t nitems = 0;
    struct pool pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    pthread_t threads[8];
    int started = 0;
    int rc;
    char full[PATH_MAX * 2];
    bool created = false;

    if ((rc = fin_check_name("table", name, FIN_CATALOG_NAME_MAX)))
        return rc;
    char qualified[2 * FIN_CATALOG_NAME_MAX + 2];
    snprintf(qualified, sizeof qualified, "%s.%s", db, name);
    struct fin_table *t = fin_catalog_find(cat, qualified);
    if (t && strcmp(t->location, location) != 0)
        return fin_err_set(FIN_EEXIST, "table %s already catalogs %s, not %s", qualified,
                           t->location, location);
    if ((rc = walk_dir(&w, location, "", 0, skip, nskip)))
        goto fail;
    if (w.n)
        qsort(w.v, w.n, sizeof *w.v, cmp_found);
    if (w.n == 0) {
        report(c, "%s: no objects, no table", location);
        goto done;
    }
    if (!t) {
        if (!(t = calloc(1, sizeof *t)))
            goto nomem;
        created = true;
        if ((rc = set_str(&t->database, db)) || (rc = set_str(&t->name, name)) ||
            (rc = set_str(&t->location, location)) || (rc = set_str(&t->created, c->now)) ||
            (rc = set_str(&t->updated, c->now))) {
            fin_catalog__table_free(t);
            goto fail;
        }
        /* Partition keys from the most common depth's first object: Glue's table is the
         * set of objects that share one layout. */
        int counts[MAX_DEPTH] = {0}, best = 0;
        for (size_t i = 0; i < w.n; i++)
            counts[w.v[i].depth]++;
        for (int d = 1; d < MAX_DEPTH; d++)
            if (counts[d] > counts[best])
                best = d;
        for (size_t i = 0; i < w.n; i++) {
            if (w.v[i].depth != best)
                continue;
            char *k = strdup(w.v[i].key), *parts[MAX_DEPTH];
            if (!k) {
                fin_catalog__table_free(t);
                goto nomem;
            }
            int n = split_dirs(k, parts, MAX_DEPTH);
            for (int d = 0; d < n && !rc; d++) {
                char kname[64];
                char *eq = strchr(parts[d], '=');
                if (eq && eq != parts[d])
                    snprintf(kname, sizeof kname, "%.*s", (int)(eq - parts[d]), parts[d]);
                else
                    snprintf(kname, sizeof kname, "partition_%d", d);
                if (fin_columns_find(&t->partition_keys, kname))
                    snprintf(kname, sizeof kname, "partition_%d", d);
                rc = fin_columns_merge(&t->partition_keys, kname, "string");
            }
            free(k);
            break;
        }
        if (rc) {
            fin_catalog__table_free(t);
            goto fail;
        }
    }
    /* The previous crawl's objects, to tell new and changed ones from those already seen. */
    old = t->objects;
    nold = t->nobjects;
    t->objects = NULL;
    t->nobjects = t->objects_cap = 0;
    if (nold)
        qsort(old, nold, sizeof *old, cmp_objects);

    int depth = (int)t->partition_keys.n;
    /* First the layout, in key order: skips, partitions, objects unchanged since the last
     * crawl (kept as they were) and those to sample. */
    enum { F_SKIP, F_REUSE, F_SAMPLE };
    if (!(what = calloc(w.n ? w.n : 1, sizeof *what)) ||
        !(items = calloc(w.n ? w.n : 1, sizeof *items)))
        goto nomem;
    for (size_t i = 0; i < w.n; i++) {
        struct found *f = &w.v[i];
        if (fin_interrupted() && (rc = fin_interrupt_error()))   /* Ctrl-C: keep nothing half */
            goto fail;
        c->stats->objects_seen++;
        snprintf(full, sizeof full, "%s/%s", location, f->key);
        what[i].kind = F_SKIP;
        if (f->depth != depth) {
            c->stats->objects_skipped++;
            tellf(c, &sum, K_SKIPPED, "%s: skipped: %d folders below %s where the table's "
                  "partitions have %d", full, f->depth, location, depth);
            continue;
        }
        /* partition values from the folders */
        char *k = strdup(f->key), *parts[MAX_DEPTH];
        if (!k)
            goto nomem;
        split_dirs(k, parts, MAX_DEPTH);
        bool ok = true;
        for (int d = 0; d < depth; d++) {
            char *eq = strchr(parts[d], '=');
            const struct fin_column *key = &t->partition_keys.v[d];
            bool named = strncmp(key->name, "partition_", 10) != 0;
            if (named && (!eq || (size_t)(eq - parts[d]) != strlen(key->source) ||
                          strncasecmp(parts[d], key->source, (size_t)(eq - parts[d])) != 0))
                ok = false;
        }
        if (!ok) {
            free(k);
            c->stats->objects_skipped++;
            tellf(c, &sum, K_SKIPPED, "%s: skipped: its folders do not match the table's "
                  "partition keys", full);
            continue;
        }
        if (depth > 0) {
            const char *dir_end = strrchr(f->key, '/');
            char ppath[PATH_MAX];
            snprintf(ppath, sizeof ppath, "%.*s", (int)(dir_end - f->key), f->key);
            if (find_partition(t, ppath) < 0) {
                char **values = calloc((size_t)depth + 1, sizeof *values);
                bool nomem = !values;
                for (int d = 0; !nomem && d < depth; d++) {
                    bool named = strncmp(t->partition_keys.v[d].name, "partition_", 10) != 0;
                    char *eq = strchr(parts[d], '=');
                    nomem = !(values[d] = strdup(named && eq ? eq + 1 : parts[d]));
                }
                if (nomem || fin_table__add_partition(t, values, ppath)) {
                    for (int d = 0; values && d < depth; d++)
                        free(values[d]);
                    free(values);
                    free(k);
                    goto nomem;
                }
                c->stats->partitions_added++;
            }
        }
        free(k);
        struct fin_object probe = {f->key, 0, 0, false, NULL};
        struct fin_object *prev = nold ? bsearch(&probe, old, nold, sizeof *old, cmp_objects) : NULL;
        if (prev && prev->size == f->size && prev->mtime == f->mtime) {
            what[i].kind = F_REUSE;
            what[i].prev = prev;
            continue;
        }
        what[i].kind = F_SAMPLE;
        what[i].item = nitems;
        if (!(items[nitems].path = strdup(full)))
            goto nomem;
        items[nitems++].found = i;
    }

    /* Then the objects to sample, on every core, merged here in key order. */
    pool.sample = c->sample;
    pool.items = items;
    pool.n = nitems;
    int nthreads = pool_threads(o, nitems);
    for (int i = 0; i < nthreads; i++) {
        if (pthread_create(&threads[i], NULL, worker, &pool) != 0)
            break;
        started++;
    }
    if (nthreads && !started)
        nthreads = 0;   /* no thread could start: sample here */
    for (size_t i = 0; i < w.n; i++) {
        struct found *f = &w.v[i];
        if (what[i].kind == F_SKIP)
            continue;
        if (o->progress && (i % 64 == 0 || i + 1 == w.n))
            o->progress(o->progress_ctx, qualified, i + 1, w.n);
        if (what[i].kind == F_REUSE) {
            const struct fin_object *prev = what[i].prev;
            if ((rc = fin_table__add_object(t, f->key, f->size, f->mtime, prev->gzip)))
                goto fail;
            if (prev->damage) {
                struct fin_object *ob = &t->objects[t->nobjects - 1];
                if (!(ob->damage = strdup(prev->damage)))
                    goto nomem;
                c->stats->objects_damaged++;
                tellf(c, &sum, K_DAMAGED, "%s/%s: damaged object, not read: %s", location,
                      f->key, prev->damage);
            }
            continue;
        }
        struct item *it = &items[what[i].item];
        pool_wait(&pool, what[i].item, nthreads);
        struct sample *sp = &it->s;
        c->stats->bytes_read += sp->bytes;
        for (size_t k = 0; k < sp->nnotes; k++)
            tell(c, &sum, sp->notes[k].kind, sp->notes[k].text);
        if (sp->rc && sp->rc != FIN_EPARSE) {
            rc = sp->rc;
            goto fail;
        }
        if ((rc = fin_table__add_object(t, f->key, f->size, f->mtime, sp->gzip)))
            goto fail;
        if (sp->damage) {
            t->objects[t->nobjects - 1].damage = sp->damage;
            sp->damage = NULL;
            c->stats->objects_damaged++;
        }
        if (sp->parquet) {
            if (!o->parquet_schema) {
                tellf(c, &sum, K_OBJECT, "%s: Parquet object, but no Parquet reader is "
                      "available", it->path);
                sp->rc = FIN_EPARSE;
            } else if (o->parquet_schema(it->path, &sp->csv, o->parquet_ctx)) {
                tellf(c, &sum, K_OBJECT, "%s: %s", it->path, fin_err_msg());
                sp->rc = FIN_EPARSE;
            }
        }
        if (sp->rc == FIN_EPARSE) {
            c->stats->objects_skipped++;
            sample_fini(sp);
            continue;
        }
        c->stats->objects_sampled++;
        c->stats->records_sampled += sp->records;
        c->stats->bad_records += sp->bad;
        t->records_sampled += sp->records;
        t->bad_records += sp->bad;
        if (!sp->classification) {
            sample_fini(sp);
            continue;
        }
        if (t->classification && strcmp(t->classification, sp->classification) != 0) {
            c->stats->objects_skipped++;
            tellf(c, &sum, K_SKIPPED, "%s: skipped: %s object in a %s table", it->path,
                  sp->classification, t->classification);
            sample_fini(sp);
            continue;
        }
        if ((!t->classification && (rc = set_str(&t->classification, sp->classification))) ||
            (rc = merge_prop(&t->framing, sp->framing)) ||
            (rc = merge_prop(&t->compression, sp->gzip ? "gzip" : "none")) ||
            (rc = merge_columns(c, t, sp, created)))
            goto fail;
        sample_fini(sp);
    }
    if (!t->classification) {
        report(c, "%s: no object with data yet, no table", location);
        if (created)
            fin_catalog__table_free(t);
        else
            goto keep;
        goto done;
    }
    if (!t->framing && (rc = set_str(&t->framing, "empty")))
        goto fail;
    if (!t->compression && (rc = set_str(&t->compression, "none")))
        goto fail;
keep:
    if ((rc = set_str(&t->updated, c->now)))
        goto fail;
    if (created) {
        rc = fin_catalog__add_table(cat, t);
        t = NULL;
        if (rc)
            goto fail;
        c->stats->tables_created++;
    } else {
        c->stats->tables_updated++;
    }
done:
    rc = 0;
    goto out;
nomem:
    rc = FIN_ENOMEM;
fail:
    if (created && t)
        fin_catalog__table_free(t);
out:
    if (old && !created && t && rc) {
        /* put back what the catalog had, so a failed crawl changes nothing it knew */
        for (size_t i = 0; i < t->nobjects; i++) {
            free(t->objects[i].key);
            free(t->objects[i].damage);
        }
        free(t->objects);
        t->objects = old;
        t->nobjects = t->objects_cap = nold;
        old = NULL;
    }
    if (old) {
        for (size_t i = 0; i < nold; i++) {
            free(old[i].key);
            free(old[i].damage);
        }
        free(old);
    }
    if (started) {
        pthread_mutex_lock(&pool.mu);
        pool.stop = true;
        pthread_mutex_unlock(&pool.mu);
        for (int i = 0; i < started; i++)
            pthread_join(threads[i], NULL);
    }
    for (size_t i = 0; i < nitems; i++) {
        free(items[i].path);
        sample_fini(&items[i].s);
    }
    free(items);
    free(what);
    summary_flush(c, &sum, qualified);
    walk_free(&w);
    return rc;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int fin_crawl(struct fin_catalog *cat, const char *location, const struct fin_crawl_opts *opts,
              struct fin_crawl_stats *stats)
{
    struct fin_crawl_opts defaults = {0};
    struct fin_crawl_stats ignored;
    struct crawl c = {.opts = opts ? opts : &defaults, .stats = stats ? stats : &ignored};
    memset(c.stats, 0, sizeof *c.stats);
    c.sample = c.opts->sample < 0 ? FIN_CRAWL_DEFAULT_SAMPLE : c.opts->sample;
    const struct fin_clock *clk = c.opts->clock ? c.opts->clock : fin_clock_real();
    time_t now = (time_t)(fin_now_ns(clk) / FIN_NS_PER_SEC);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(c.now, sizeof c.now, "%Y-%m-%dT%H:%M:%SZ", &tm);

    char abs[PATH_MAX];
    if (!realpath(location, abs))
        return fin_err_errno(errno, "cannot crawl", location);
    if (!fin_is_dir(abs))
        return fin_err_set(FIN_EINVAL, "%s: not a folder", location);
    if (c.opts->database && *c.opts->database &&
        fin_check_name("database", c.opts->database, FIN_CATALOG_NAME_MAX))
        return FIN_EINVAL;

    /* Which folders are tables: the location itself when it holds objects or partition
     * folders; every other folder directly below it by its own name. */
    DIR *d = opendir(abs);
    if (!d)
        return fin_err_errno(errno, "cannot open folder", abs);
    char **children = NULL;
    size_t nchildren = 0;
    bool root_is_table = false;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (hidden(e->d_name))
            continue;
        char full[PATH_MAX + 256];
        snprintf(full, sizeof full, "%s/%s", abs, e->d_name);
        struct stat st;
        if (stat(full, &st) != 0)
            continue;
        if (S_ISREG(st.st_mode) || (S_ISDIR(st.st_mode) && partition_like(e->d_name))) {
            root_is_table = true;
        } else if (S_ISDIR(st.st_mode)) {
            char **v = realloc(children, (nchildren + 1) * sizeof *v);
            if (!v || !(v[nchildren] = strdup(e->d_name))) {
                children = v ? v : children;
                rc = FIN_ENOMEM;
                break;
            }
            children = v;
            nchildren++;
        }
    }
    closedir(d);
    if (!rc && nchildren)
        qsort(children, nchildren, sizeof *children, cmp_names);
    char name[FIN_CATALOG_NAME_MAX + 1];
    if (!rc && root_is_table) {
        const char *base = strrchr(abs, '/');
        fin_catalog_table_name(c.opts->table ? c.opts->table : base + 1, name, sizeof name);
        rc = crawl_table(cat, &c, abs, name, children, nchildren);
    }
    for (size_t i = 0; !rc && i < nchildren; i++) {
        char sub[PATH_MAX + 256];
        snprintf(sub, sizeof sub, "%s/%s", abs, children[i]);
        bool only = !root_is_table && nchildren == 1 && c.opts->table;
        fin_catalog_table_name(only ? c.opts->table : children[i], name, sizeof name);
        rc = crawl_table(cat, &c, sub, name, NULL, 0);
    }
    for (size_t i = 0; i < nchildren; i++)
        free(children[i]);
    free(children);
    if (!rc && c.opts->database && *c.opts->database)
        rc = fin_catalog__add_database(cat, c.opts->database);
    return rc;
}
