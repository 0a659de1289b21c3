/* framing.c - record boundaries in newline-delimited, concatenated and array JSON.
 *
 * The scan matches braces outside strings, so it never parses numbers or builds values;
 * in line framing it simply splits lines, so one broken line cannot swallow the next. */
#include "finstream/framing.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

const char *fin_framing_name(enum fin_framing f)
{
    switch (f) {
    case FIN_FRAMING_LINES: return "lines";
    case FIN_FRAMING_CONCATENATED: return "concatenated";
    case FIN_FRAMING_ARRAY: return "array";
    default: return "empty";
    }
}

bool fin_is_gzip(const void *data, size_t len)
{
    const unsigned char *p = data;
    return len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

int fin_gunzip(const void *data, size_t len, char **out, size_t *out_len, const char *label)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 32) != Z_OK)
        return FIN_ENOMEM;
    size_t cap = len * 4 + 1024, n = 0;
    char *buf = malloc(cap);
    int rc = buf ? 0 : FIN_ENOMEM;
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)len;
    while (!rc) {
        if (cap - n < 65536) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                rc = FIN_ENOMEM;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        zs.next_out = (Bytef *)buf + n;
        zs.avail_out = (uInt)(cap - n - 1);
        int z = inflate(&zs, Z_NO_FLUSH);
        n = (size_t)((char *)zs.next_out - buf);
        if (z == Z_STREAM_END) {
            if (zs.avail_in == 0)
                break;
            inflateReset(&zs);   /* another gzip member follows */
            continue;
        }
        if (z != Z_OK && z != Z_BUF_ERROR) {
            rc = fin_err_set(FIN_ECORRUPT, "%s: bad gzip data at byte %lu: %s", label,
                             (unsigned long)zs.total_in, zs.msg ? zs.msg : "inflate failed");
            break;
        }
        if (z == Z_BUF_ERROR && zs.avail_in == 0) {
            rc = fin_err_set(FIN_ECORRUPT, "%s: gzip data is truncated", label);
            break;
        }
    }
    inflateEnd(&zs);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    return 0;
}

static int init_common(struct fin_json_reader *r, const char *label)
{
    r->label = label;
    r->pos = 0;
    r->line = 1;
    r->framing = FIN_FRAMING_EMPTY;
    if (fin_is_gzip(r->data, r->len)) {
        char *out;
        size_t n;
        int rc = fin_gunzip(r->data, r->len, &out, &n, label);
        if (rc)
            return rc;
        free(r->owned);
        r->owned = out;
        r->data = out;
        r->len = n;
        r->gzip = true;
    }
    /* A UTF-8 byte order mark is not part of the data. */
    if (r->len >= 3 && memcmp(r->data, "\xEF\xBB\xBF", 3) == 0)
        r->pos = 3;
    return 0;
}

int fin_json_reader_open_file(struct fin_json_reader *r, const char *path)
{
    memset(r, 0, sizeof *r);
    char *data;
    size_t len;
    int rc = fin_read_file(path, &data, &len);
    if (rc)
        return rc;
    r->owned = data;
    r->data = data;
    r->len = len;
    rc = init_common(r, path);
    if (rc)
        fin_json_reader_fini(r);
    return rc;
}

int fin_json_reader_init_mem(struct fin_json_reader *r, const void *data, size_t len,
                             const char *label)
{
    memset(r, 0, sizeof *r);
    r->data = data;
    r->len = len;
    int rc = init_common(r, label);
    if (rc)
        fin_json_reader_fini(r);
    return rc;
}

void fin_json_reader_fini(struct fin_json_reader *r)
{
    free(r->owned);
    memset(r, 0, sizeof *r);
}

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Skips white space (and, in an array, commas), counting lines. */
static void skip_ws(struct fin_json_reader *r, bool commas)
{
    while (r->pos < r->len && (is_ws(r->data[r->pos]) || (commas && r->data[r->pos] == ','))) {
        if (r->data[r->pos] == '\n')
            r->line++;
        r->pos++;
    }
}

/* From an opening brace or bracket at r->pos, the offset just past its match; 0 if none. */
static size_t match_end(struct fin_json_reader *r, int *newlines)
{
    int depth = 0;
    bool in_str = false;
    *newlines = 0;
    for (size_t i = r->pos; i < r->len; i++) {
        char c = r->data[i];
        if (c == '\n')
            (*newlines)++;
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"')
            in_str = true;
        else if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']') {
            if (--depth == 0)
                return i + 1;
        }
    }
    return 0;
}

static int next_line(struct fin_json_reader *r, const char **rec, size_t *len, int *line)
{
    for (;;) {
        if (r->pos >= r->len)
            return FIN_EEND;
        const char *start = r->data + r->pos;
        const char *nl = memchr(start, '\n', r->len - r->pos);
        size_t n = nl ? (size_t)(nl - start) : r->len - r->pos;
        int this_line = r->line;
        r->pos += n + (nl ? 1 : 0);
        if (nl)
            r->line++;
        while (n > 0 && is_ws(start[n - 1]))
            n--;
        size_t lead = 0;
        while (lead < n && is_ws(start[lead]))
            lead++;
        if (lead == n)
            continue;   /* blank line */
        *rec = start + lead;
        *len = n - lead;
        *line = this_line;
        return 0;
    }
}

int fin_json_reader_next(struct fin_json_reader *r, const char **rec, size_t *len, int *line)
{
    if (r->framing == FIN_FRAMING_LINES)
        return next_line(r, rec, len, line);

    skip_ws(r, r->framing == FIN_FRAMING_ARRAY);
    if (r->framing == FIN_FRAMING_EMPTY && r->pos < r->len && r->data[r->pos] == '[') {
        r->framing = FIN_FRAMING_ARRAY;
        r->pos++;
        skip_ws(r, true);
    }
    if (r->pos >= r->len)
        return FIN_EEND;
    if (r->framing == FIN_FRAMING_ARRAY && r->data[r->pos] == ']') {
        r->pos = r->len;
        return FIN_EEND;
    }
    if (r->data[r->pos] != '{') {
        if (r->framing == FIN_FRAMING_EMPTY) {
            /* Not an object at the start: treat the input as lines so each bad line is reported. */
            r->framing = FIN_FRAMING_LINES;
            return next_line(r, rec, len, line);
        }
        return fin_err_set(FIN_EPARSE, "%s:%d: expected '{' at byte %zu", r->label, r->line, r->pos);
    }
    int newlines;
    size_t end = match_end(r, &newlines);
    if (end == 0) {
        int at = r->line;
        r->pos = r->len;
        return fin_err_set(FIN_EPARSE, "%s:%d: JSON object does not end", r->label, at);
    }
    *rec = r->data + r->pos;
    *len = end - r->pos;
    *line = r->line;
    r->line += newlines;
    r->pos = end;
    if (r->framing == FIN_FRAMING_EMPTY) {
        /* The first separator decides: a newline before the next object means lines. */
        size_t p = r->pos;
        while (p < r->len && (r->data[p] == ' ' || r->data[p] == '\t' || r->data[p] == '\r'))
            p++;
        if (p >= r->len || r->data[p] == '\n')
            r->framing = FIN_FRAMING_LINES;
        else
            r->framing = FIN_FRAMING_CONCATENATED;
        if (r->framing == FIN_FRAMING_LINES && newlines > 0) {
            /* A pretty-printed first object: keep scanning by braces instead. */
            r->framing = FIN_FRAMING_CONCATENATED;
        }
        if (r->framing == FIN_FRAMING_LINES) {
            /* Finish the first line so the next call starts on the next one. */
            const char *nl = memchr(r->data + r->pos, '\n', r->len - r->pos);
            if (nl) {
                r->pos = (size_t)(nl - r->data) + 1;
                r->line++;
            } else {
                r->pos = r->len;
            }
        }
    }
    return 0;
}
