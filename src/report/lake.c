/* lake.c - reading bars straight from lake objects, for a report on a folder that has no
 * catalog table (the real Firehose fixtures, a copied bucket) or when the lake is wanted
 * as it stands on disk.
 *
 * Objects are read with the shared framing reader, so newline-delimited, concatenated,
 * array-framed and gzip objects all work; each record is parsed with jansson and its keys
 * are matched without regard to case, as the crawler lower-cases column names. */
#include "report_int.h"

#include "finstream/error.h"
#include "finstream/framing.h"
#include "finstream/fsutil.h"
#include "finstream/log.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

struct walk {
    struct fin_report_data *d;
    uint64_t parquet;        /* Parquet objects seen (not read: the query engine reads them) */
};

static const char *const ts_keys[] = {"ts", "timestamp", "datetime", "date", NULL};

static json_t *get_ci(json_t *obj, const char *key)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
        if (strcasecmp(k, key) == 0)
            return v;
    return NULL;
}

/* A price as a JSON number, or as a numeric string; NAN when absent or null. */
static int get_price(json_t *obj, const char *key, double *out)
{
    json_t *v = get_ci(obj, key);
    *out = NAN;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 0;
    }
    if (json_is_string(v)) {
        char *end;
        *out = strtod(json_string_value(v), &end);
        if (end != json_string_value(v) && *end == '\0')
            return 0;
    }
    return FIN_EPARSE;
}

#define bad(w, ...) fin__report_data_bad((w)->d, __VA_ARGS__)

/* Adds every record of an opened reader; label names it in messages. Returns 0 or
 * FIN_ENOMEM: bad records are reported and counted, not returned. */
static int read_records(struct fin_report_data *d, struct fin_json_reader *r, const char *label)
{
    const char *rec;
    size_t len;
    int line, rc;
    while ((rc = fin_json_reader_next(r, &rec, &len, &line)) == 0) {
        json_error_t jerr;
        json_t *o = json_loadb(rec, len, 0, &jerr);
        if (!o || !json_is_object(o)) {
            fin__report_data_bad(d, "%s:%d: not a JSON object%s%s", label, line, o ? "" : ": ",
                                 o ? "" : jerr.text);
            json_decref(o);
            continue;
        }
        json_t *name = get_ci(o, "name");
        json_t *ts = NULL;
        for (int k = 0; ts_keys[k] && !ts; k++)
            ts = get_ci(o, ts_keys[k]);
        double open, high, low, close, volume;
        char where[4200];
        snprintf(where, sizeof where, "%s:%d", label, line);
        if (!json_is_string(name) || !json_is_string(ts)) {
            fin__report_data_bad(d, "%s: no name or ts string", where);
        } else if (get_price(o, "high", &high) || get_price(o, "low", &low) ||
                   get_price(o, "open", &open) || get_price(o, "close", &close) ||
                   get_price(o, "volume", &volume)) {
            fin__report_data_bad(d, "%s: a price is not a number", where);
        } else {
            int arc = fin_report_data_add(d, json_string_value(name), json_string_value(ts),
                                          open, high, low, close, volume, where);
            if (arc == FIN_ENOMEM) {
                json_decref(o);
                return arc;
            }
            if (arc)
                fin__report_data_bad(d, "%s", fin_err_msg());
        }
        json_decref(o);
    }
    if (rc != FIN_EEND)
        fin__report_data_bad(d, "%s", fin_err_msg());
    return 0;
}

static int read_object(struct walk *w, const char *path)
{
    struct fin_json_reader r;
    int rc = fin_json_reader_open_file(&r, path);
    if (rc) {
        bad(w, "%s: %s", path, fin_err_msg());
        return 0;
    }
    rc = read_records(w->d, &r, path);
    fin_json_reader_fini(&r);
    return rc;
}

int fin__report_load_mem(struct fin_report_data *d, const void *data, size_t len,
                         const char *label)
{
    struct fin_json_reader r;
    int rc = fin_json_reader_init_mem(&r, data, len, label);
    if (rc) {
        fin__report_data_bad(d, "%s: %s", label, fin_err_msg());
        return 0;
    }
    rc = read_records(d, &r, label);
    fin_json_reader_fini(&r);
    return rc;
}

static bool skip_name(const char *name, bool top)
{
    return name[0] == '.' || strstr(name, ".tmp") != NULL || (top && strcmp(name, "errors") == 0);
}

static bool is_parquet(const char *name)
{
    size_t n = strlen(name);
    return n > 8 && strcmp(name + n - 8, ".parquet") == 0;
}

static int walk_dir(struct walk *w, const char *dir, bool top)
{
    struct dirent **ents = NULL;
    int n = scandir(dir, &ents, NULL, alphasort);
    if (n < 0)
        return fin_err_errno(errno, "cannot read folder", dir);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        if (rc == 0 && !skip_name(name, top)) {
            char *path = fin_path_join(dir, name);
            struct stat st;
            if (!path)
                rc = FIN_ENOMEM;
            else if (stat(path, &st) != 0)
                bad(w, "%s: cannot stat", path);
            else if (S_ISDIR(st.st_mode))
                rc = walk_dir(w, path, false);
            else if (S_ISREG(st.st_mode) && is_parquet(name))
                w->parquet++;
            else if (S_ISREG(st.st_mode)) {
                fin__report_data_count_object(w->d, (uint64_t)st.st_size);
                rc = read_object(w, path);
            }
            free(path);
        }
        free(ents[i]);
    }
    free(ents);
    return rc;
}

int fin_report_load_dir(struct fin_report_data *d, const char *dir)
{
    struct walk w = {d, 0};
    if (!fin_is_dir(dir))
        return fin_err_set(FIN_ENOENT, "%s: no such folder", dir);
    int rc = walk_dir(&w, dir, true);
    if (rc == 0 && w.parquet)
        fin_warn("%s: %llu Parquet object%s not read; crawl the folder and report from its table",
                 dir, (unsigned long long)w.parquet, w.parquet == 1 ? "" : "s");
    return rc;
}
