/* source_replay.c - the replay source: JSON records from files, re-emitted as they are.
 *
 * replay:PATH names a file or a folder, walked recursively in path order (hidden entries
 * skipped), so that a day a lake or a Firehose bucket holds can be pushed through the
 * pipeline again. Each file may be framed as lines, back-to-back objects or one array,
 * and gzip-compressed; the shared reader (framing.h) tells which. A file that does not
 * start with '{' or '[' (an answer CSV lying next to the objects) is skipped with a
 * warning that shows how it starts, and counted as bad input; when no file at all holds
 * JSON records the run fails, saying so. Records are UTF-8 (as JSON between systems must
 * be, RFC 8259): a UTF-8 byte-order mark is skipped, but a UTF-16 or UTF-32 file (by its
 * byte-order mark, or by the NUL bytes beside its ASCII) is refused as a whole with the
 * reason and the iconv line that converts it, rather than decoded: a tool that wrote
 * UTF-16 may have changed more than the encoding, and the user should look.
 *
 * Every record is checked to be one JSON object and then put unchanged: same keys, same
 * order, same number spellings. Only a record spread over several lines is joined onto
 * one, since the output is one object per line. The partition key is the record's name
 * field, whatever its case ("name", "Name"); a record without one is keyed "unknown".
 *
 * Filters: records are re-emitted whole, so nothing is filtered unless asked. Tickers
 * filter (by the name field, ignoring case) only when tickers other than the default were
 * given; the window filters only when --date or --start/--end was given, by the record's
 * ts / timestamp / datetime field in the forms the classic objects use
 * ("2020-05-14 09:30:00-04:00", "05/14/2020 09:30:00", "05-11-2021 09:30:00-0400");
 * a record whose time cannot be read is then skipped and counted. */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <strings.h>

#include <jansson.h>

#include "finstream/buf.h"
#include "finstream/collector.h"
#include "finstream/error.h"
#include "finstream/framing.h"
#include "finstream/log.h"
#include "finstream/timeutil.h"
#include "source_util.h"

/* Kinesis partition keys have 1 to 256 characters. */
#define REPLAY_KEY_MAX 256

struct fin_source {
    struct fin_file_list files;
    bool tickers_given;
    bool window_given;
    struct fin_buf joined;   /* a multi-line record joined onto one line */
    size_t json_files;       /* files this run that held JSON records (or were sent before) */
    char *path;              /* replay:PATH, for messages */
};

/* The string value of the first key that equals one of names, ignoring case. */
static const char *field_ci(json_t *o, const char *const *names, size_t *len)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        for (const char *const *n = names; *n; n++)
            if (strcasecmp(key, *n) == 0 && json_is_string(v)) {
                *len = json_string_length(v);
                return json_string_value(v);
            }
    }
    return NULL;
}

/* A record's time as UTC seconds, from the forms the classic exercise's objects use. */
static bool record_time(json_t *o, int64_t *t)
{
    static const char *const names[] = {"ts", "timestamp", "datetime", "date", NULL};
    size_t n;
    const char *s = field_ci(o, names, &n);
    char tmp[64];
    if (!s || n < 10 || n >= sizeof tmp)
        return false;
    memcpy(tmp, s, n + 1);
    /* MM/DD/YYYY or MM-DD-YYYY first: rewrite the date as YYYY-MM-DD. */
    if ((tmp[2] == '/' || tmp[2] == '-') && tmp[5] == tmp[2] && isdigit((unsigned char)tmp[6]) &&
        isdigit((unsigned char)tmp[9])) {
        char mm[2] = {s[0], s[1]}, dd[2] = {s[3], s[4]};
        memcpy(tmp, s + 6, 4);
        tmp[4] = '-';
        memcpy(tmp + 5, mm, 2);
        tmp[7] = '-';
        memcpy(tmp + 8, dd, 2);
    }
    return fin_parse_time(tmp, FIN_TZ_NEW_YORK, t) == 0;
}

/* Drops the line breaks (and the indentation after them) of a valid JSON object: they
 * can only lie between tokens, as JSON strings cannot hold a raw line break. */
static int join_lines(struct fin_buf *b, const char *rec, size_t len)
{
    fin_buf_reset(b);
    int rc = fin_buf_reserve(b, len);
    if (rc)
        return rc;
    for (size_t i = 0; i < len; i++) {
        if (rec[i] == '\n' || rec[i] == '\r') {
            while (i + 1 < len && (rec[i + 1] == ' ' || rec[i + 1] == '\t' || rec[i + 1] == '\n' ||
                                   rec[i + 1] == '\r'))
                i++;
            continue;
        }
        b->data[b->len++] = rec[i];
    }
    return 0;
}

/* "UTF-16LE" and the like when the bytes are not UTF-8 text, else NULL. */
static const char *wide_encoding(const unsigned char *d, size_t n)
{
    if (n >= 4 && d[0] == 0xFF && d[1] == 0xFE && d[2] == 0 && d[3] == 0)
        return "UTF-32LE";
    if (n >= 4 && d[0] == 0 && d[1] == 0 && d[2] == 0xFE && d[3] == 0xFF)
        return "UTF-32BE";
    if (n >= 2 && d[0] == 0xFF && d[1] == 0xFE)
        return "UTF-16LE";
    if (n >= 2 && d[0] == 0xFE && d[1] == 0xFF)
        return "UTF-16BE";
    /* No mark: ASCII characters with a NUL beside each ({\0"\0 or \0{\0") */
    if (n >= 4 && d[0] && !d[1] && d[2] && !d[3])
        return "UTF-16LE";
    if (n >= 4 && !d[0] && d[1] && !d[2] && d[3])
        return "UTF-16BE";
    return NULL;
}

static bool starts_like_json(const struct fin_json_reader *r)
{
    for (size_t i = r->pos; i < r->len; i++) {
        char c = r->data[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        return c == '{' || c == '[';
    }
    return true;   /* an empty object holds no records, which is fine */
}

/* Re-emits one file's records. Returns 0 or a file-level failure; with *fatal set, the
 * emitter's failure. */
static int replay_file(struct fin_source *s, const char *path, const struct fin_window *w,
                       struct fin_ticker_filter *filter, struct fin_name_set *names,
                       struct fin_emitter *em, bool *fatal)
{
    static const char *const name_keys[] = {"name", NULL};
    struct fin_json_reader r;
    /* A collector that remembers (a durable sink) sends each object once. */
    struct stat st;
    if (stat(path, &st) == 0 &&
        fin_emit_object_seen(em, path, (int64_t)st.st_size, (int64_t)st.st_mtime)) {
        s->json_files++;
        return 0;
    }
    int rc = fin_json_reader_open_file(&r, path);
    if (rc)
        return rc;
    const unsigned char *d = (const unsigned char *)r.data;
    const char *wide = wide_encoding(d, r.len);
    if (wide) {
        rc = fin_err_set(FIN_EPARSE, "%s: %s text, not UTF-8: replay reads UTF-8 JSON records; "
                         "convert it first (iconv -f %s -t UTF-8 FILE > FILE.json)", path, wide,
                         wide);
        goto out;
    }
    if (r.len >= 3 && d[0] == 0xEF && d[1] == 0xBB && d[2] == 0xBF)
        r.pos = 3;
    if (!starts_like_json(&r)) {
        size_t at = r.pos;
        while (at < r.len && strchr(" \t\r\n", r.data[at]))
            at++;
        unsigned char c = (unsigned char)r.data[at];
        if (c >= 0x20 && c < 0x7f)
            fin_emit_bad(em, "%s: not JSON records: it starts with '%c', not '{' or '['; file "
                         "skipped", path, c);
        else
            fin_emit_bad(em, "%s: not JSON records: it starts with the byte 0x%02x, not '{' or "
                         "'['; file skipped", path, c);
        goto out;
    }
    s->json_files++;
    uint64_t index = 0, unnamed = 0, untimed = 0;
    for (;;) {
        const char *rec;
        size_t len;
        int line;
        rc = fin_json_reader_next(&r, &rec, &len, &line);
        if (rc == FIN_EEND) {
            rc = 0;
            break;
        }
        if (rc) {
            /* An object that never closes ends the file: nothing after it can be framed. */
            fin_emit_bad(em, "%s", fin_err_msg());
            rc = 0;
            break;
        }
        index++;
        json_error_t jerr;
        json_t *o = json_loadb(rec, len, 0, &jerr);
        if (!o || !json_is_object(o)) {
            fin_emit_bad(em, "%s:%d: record %" PRIu64 ": %s", path, line, index,
                         o ? "not a JSON object" : jerr.text);
            json_decref(o);
            continue;
        }
        size_t kl = 0;
        const char *key = field_ci(o, name_keys, &kl);
        if (!key || kl == 0 || kl > REPLAY_KEY_MAX) {
            key = "unknown";
            kl = 7;
            unnamed++;
        }
        bool pass = fin_ticker_filter_pass(filter, key, kl);
        if (pass && s->window_given) {
            int64_t t;
            if (!record_time(o, &t)) {
                untimed++;
                em->stats.skipped++;
                pass = false;
            } else {
                pass = t >= w->start && t < w->end;
            }
        }
        if (pass && fin_ticker_name_ok(key, kl) && (rc = fin_name_set_add(names, key, kl)))
            *fatal = true;
        if (pass && !rc && (memchr(rec, '\n', len) || memchr(rec, '\r', len))) {
            if ((rc = join_lines(&s->joined, rec, len)))
                *fatal = true;
            rec = s->joined.data;
            len = s->joined.len;
        }
        /* The key is borrowed from o, so put before letting it go. */
        if (pass && !rc && (rc = fin_emit_raw(em, key, kl, rec, len)))
            *fatal = true;
        json_decref(o);
        if (rc)
            goto out;
    }
    if (unnamed)
        fin_warn("replay: %s: %" PRIu64 " record%s without a name field, keyed as \"unknown\"", path,
                 unnamed, unnamed == 1 ? "" : "s");
    if (untimed)
        fin_warn("replay: %s: %" PRIu64 " record%s without a readable ts, timestamp or datetime "
                 "field, left out of the window", path, untimed, untimed == 1 ? "" : "s");
out:
    fin_json_reader_fini(&r);
    return rc;
}

static void replay_destroy(struct fin_source *s)
{
    if (!s)
        return;
    fin_file_list_fini(&s->files);
    fin_buf_fini(&s->joined);
    free(s->path);
    free(s);
}

static int replay_create(struct fin_source **out, const char *arg,
                         const struct fin_collect_settings *set)
{
    *out = NULL;
    int rc;
    struct fin_source *s = calloc(1, sizeof *s);
    if (!s)
        return FIN_ENOMEM;
    fin_buf_init(&s->joined);
    if (!arg || !*arg) {
        rc = fin_err_set(FIN_EINVAL, "the replay source needs a path: replay:FILE or replay:FOLDER");
        goto fail;
    }
    if (!(s->path = strdup(arg))) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    if ((rc = fin_file_list_build(&s->files, arg, true, NULL)))
        goto fail;
    if (s->files.n == 0) {
        rc = fin_err_set(FIN_ENOENT, "replay: %s: no files in this folder", arg);
        goto fail;
    }
    s->tickers_given = fin_tickers_given(set);
    s->window_given = fin_window_given(set);
    *out = s;
    return 0;
fail:
    replay_destroy(s);
    return rc;
}

static int replay_collect(struct fin_source *s, const char *const *tickers, size_t n_tickers,
                          const struct fin_window *w, struct fin_emitter *em)
{
    struct fin_ticker_filter filter;
    struct fin_name_set names;
    fin_name_set_init(&names);
    int rc = fin_ticker_filter_init(&filter, s->tickers_given, tickers, n_tickers);
    if (rc)
        return rc;
    s->json_files = 0;
    for (size_t i = 0; i < s->files.n; i++) {
        bool fatal = false;
        rc = replay_file(s, s->files.paths[i], w, &filter, &names, em, &fatal);
        if (fatal)
            goto fail;
        if (rc) {
            fin_error("replay: %s", fin_err_msg());
            em->stats.tickers_failed++;
            rc = 0;
        }
    }
    if (s->json_files == 0 && em->stats.tickers_failed == 0) {
        rc = fin_err_set(FIN_EPARSE, "replay: %s: %s JSON records (see the warnings above); "
                         "nothing to replay", s->path,
                         s->files.n == 1 ? "the file holds no" : "none of its files holds");
        goto fail;
    }
    em->stats.tickers_ok += (int)names.n;
    /* Missing tickers are worth a word only when something was read this time. */
    if (names.n > 0)
        fin_ticker_filter_report(&filter, "replay");
fail:
    fin_ticker_filter_fini(&filter);
    fin_name_set_fini(&names);
    return rc;
}

const struct fin_source_ops fin_source_replay = {"replay", replay_create, replay_collect,
                                                 replay_destroy};
