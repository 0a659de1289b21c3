/* delivery_tool.c - the helper the delivery shell tests drive:
 *
 *   delivery_tool feed DATA_DIR STREAM SHARDS FIRST COUNT [BAD_EVERY]
 *       creates the stream when missing and appends records FIRST .. FIRST+COUNT-1, each
 *       {"name":"T<i%10>","ts":...,"open":...,"high":...,"low":...,"close":...,"volume":<i>}
 *       keyed by its name; with BAD_EVERY, every BAD_EVERY-th record is broken instead
 *       (alternately not JSON, and "high" as a string) and carries its number in the text.
 *   delivery_tool direct DATA_DIR DELIVERY FIRST COUNT
 *       puts the same records through fin_delivery_open/put/close (direct put).
 *   delivery_tool check LAKE TOTAL [ERRORS]
 *       reads every object under LAKE (JSON lines, gzip or not; Parquet through DuckDB)
 *       and checks that the records 0 .. TOTAL-1 are there exactly once, good ones in
 *       data objects and bad ones as error records (ERRORS of them), and that every
 *       object is complete. Prints a summary; exit 1 with the first problem otherwise. */
#include "finstream/collector.h"
#include "finstream/delivery.h"
#include "finstream/error.h"
#include "finstream/framing.h"
#include "finstream/fsutil.h"
#include "finstream/parquet.h"
#include "finstream/stream.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int make_record(char *rec, size_t cap, char *key, size_t key_cap, long i, long bad_every)
{
    snprintf(key, key_cap, "T%ld", i % 10);
    if (bad_every && i % bad_every == bad_every - 1)
        return (i / bad_every) % 2
                   ? snprintf(rec, cap, "{\"name\":\"%s\",\"high\":\"x\",\"volume\":%ld}", key, i)
                   : snprintf(rec, cap, "broken record %ld", i);
    return snprintf(rec, cap,
                    "{\"name\":\"%s\",\"ts\":\"2020-05-14 09:%02ld:00-04:00\",\"open\":%ld.5,"
                    "\"high\":%ld.75,\"low\":%ld.25,\"close\":%ld.5,\"volume\":%ld}",
                    key, i % 60, 100 + i % 97, 101 + i % 97, 99 + i % 97, 100 + i % 97, i);
}

static int direct(int argc, char **argv)
{
    if (argc < 6)
        return 2;
    long first = atol(argv[4]), count = atol(argv[5]);
    struct fin_delivery *d;
    int rc = fin_delivery_open(&d, argv[2], argv[3]);
    if (rc) {
        fprintf(stderr, "direct: %s\n", fin_err_msg());
        return 1;
    }
    /* through the collector's sink interface, as `finstream collect --to delivery:NAME` */
    struct fin_record_sink sink;
    fin_delivery_sink_init(&sink, d);
    char rec[256], key[16];
    for (long i = first; i < first + count && !rc; i++) {
        int n = make_record(rec, sizeof rec, key, sizeof key, i, 0);
        rc = sink.put(sink.ctx, key, strlen(key), rec, (size_t)n);
        if (!rc && i == first + count / 2)
            rc = sink.flush(sink.ctx);
    }
    int rc2 = fin_delivery_close(d);
    if (rc || rc2) {
        fprintf(stderr, "direct: %s\n", fin_err_msg());
        return 1;
    }
    return 0;
}

static int feed(int argc, char **argv)
{
    if (argc < 7)
        return 2;
    const char *dir = argv[2], *name = argv[3];
    int shards = atoi(argv[4]);
    long first = atol(argv[5]), count = atol(argv[6]);
    long bad_every = argc > 7 ? atol(argv[7]) : 0;
    struct fin_stream_config cfg;
    fin_stream_config_defaults(&cfg);
    cfg.shards = shards;
    cfg.fsync = FIN_FSYNC_NEVER;
    int rc = fin_stream_create(dir, name, &cfg);
    if (rc && rc != FIN_EEXIST) {
        fprintf(stderr, "feed: %s\n", fin_err_msg());
        return 1;
    }
    struct fin_stream *s;
    if ((rc = fin_stream_open(&s, dir, name, FIN_STREAM_WRITE, NULL))) {
        fprintf(stderr, "feed: %s\n", fin_err_msg());
        return 1;
    }
    char rec[256], key[16];
    for (long i = first; i < first + count && !rc; i++) {
        int n = make_record(rec, sizeof rec, key, sizeof key, i, bad_every);
        rc = fin_stream_put(s, key, strlen(key), rec, (size_t)n, NULL, NULL);
    }
    if (!rc)
        rc = fin_stream_sync(s);
    if (rc)
        fprintf(stderr, "feed: %s: %s\n", fin_strerror(rc), fin_err_msg());
    fin_stream_close(s);
    return rc ? 1 : 0;
}

struct tally {
    unsigned char *seen;
    long total;
    long good, errors, objects, problems;
    struct fin_parquet_writer *pq;
};

static void problem(struct tally *t, const char *fmt, const char *a, long b)
{
    if (t->problems++ < 10) {
        fprintf(stderr, "check: ");
        fprintf(stderr, fmt, a, b);
        fputc('\n', stderr);
    }
}

static void count_id(struct tally *t, const char *path, long id)
{
    if (id < 0 || id >= t->total) {
        problem(t, "%s: record %ld is outside the stream", path, id);
        return;
    }
    if (t->seen[id]++)
        problem(t, "%s: record %ld is delivered twice", path, id);
}

/* The record number inside a broken record's raw text. */
static long id_of_raw(const char *raw)
{
    const char *p = strstr(raw, "\"volume\":");
    if (p)
        return atol(p + 9);
    p = strstr(raw, "broken record ");
    return p ? atol(p + 14) : -1;
}

static int b64val(char c)
{
    const char *tab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = strchr(tab, c);
    return c && p ? (int)(p - tab) : -1;
}

static void check_record(struct tally *t, const char *path, const char *rec, size_t len)
{
    json_error_t je;
    json_t *o = json_loadb(rec, len, 0, &je);
    if (!o) {
        /* JSON objects carry records as they came: a broken one is there as it was put. */
        char *copy = strndup(rec, len);
        long id = copy ? id_of_raw(copy) : -1;
        free(copy);
        if (id < 0)
            problem(t, "%s: a line is neither JSON nor a fed record (line %ld)", path, je.line);
        else
            count_id(t, path, id);
        t->good++;
        return;
    }
    json_t *raw = json_object_get(o, "rawData");
    if (json_is_string(raw)) {
        const char *s = json_string_value(raw);
        size_t n = strlen(s);
        char *dec = malloc(n + 1);
        size_t k = 0;
        unsigned v = 0;
        int bits = 0;
        for (size_t i = 0; i < n && dec; i++) {
            int d = b64val(s[i]);
            if (d < 0)
                continue;
            v = v << 6 | (unsigned)d;
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                dec[k++] = (char)(v >> bits & 0xff);
            }
        }
        if (dec) {
            dec[k] = '\0';
            count_id(t, path, id_of_raw(dec));
        }
        free(dec);
        t->errors++;
    } else {
        json_t *vol = json_object_get(o, "volume");
        if (!json_is_integer(vol))
            problem(t, "%s: a record has no integer volume (%ld)", path, 0);
        else
            count_id(t, path, (long)json_integer_value(vol));
        t->good++;
    }
    json_decref(o);
}

static void check_object(struct tally *t, const char *path)
{
    t->objects++;
    size_t n = strlen(path);
    if (n > 8 && strcmp(path + n - 8, ".parquet") == 0) {
        char *schema, *json;
        uint64_t rows;
        if (!t->pq && fin_parquet_writer_create(&t->pq, 1) != 0) {
            problem(t, "%s: cannot start DuckDB (%ld)", path, 0);
            return;
        }
        if (fin_parquet_inspect(t->pq, path, &schema, &rows, &json) != 0) {
            problem(t, "%s: not a readable Parquet file (%ld)", path, 0);
            return;
        }
        struct fin_json_reader r;
        if (fin_json_reader_init_mem(&r, json, strlen(json), path) == 0) {
            const char *rec;
            size_t len;
            int line;
            while (fin_json_reader_next(&r, &rec, &len, &line) == 0)
                check_record(t, path, rec, len);
            fin_json_reader_fini(&r);
        }
        free(schema);
        free(json);
        return;
    }
    struct fin_json_reader r;
    if (fin_json_reader_open_file(&r, path) != 0) {
        problem(t, "%s: unreadable (%ld)", path, 0);
        return;
    }
    if (r.len && r.data[r.len - 1] != '\n')
        problem(t, "%s: does not end with a newline (%ld)", path, 0);
    const char *rec;
    size_t len;
    int line, rc;
    while ((rc = fin_json_reader_next(&r, &rec, &len, &line)) == 0)
        check_record(t, path, rec, len);
    if (rc != FIN_EEND)
        problem(t, "%s: truncated (line %ld)", path, line);
    fin_json_reader_fini(&r);
}

static void walk(struct tally *t, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *p = fin_path_join(dir, de->d_name);
        if (fin_is_dir(p))
            walk(t, p);
        else
            check_object(t, p);
        free(p);
    }
    closedir(d);
}

static int check(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    struct tally t = {0};
    t.total = atol(argv[3]);
    long want_errors = argc > 4 ? atol(argv[4]) : -1;
    t.seen = calloc((size_t)t.total + 1, 1);
    walk(&t, argv[2]);
    long missing = 0;
    for (long i = 0; i < t.total; i++)
        if (!t.seen[i] && missing++ < 5)
            fprintf(stderr, "check: record %ld is missing\n", i);
    if (want_errors >= 0 && t.errors != want_errors)
        fprintf(stderr, "check: %ld error records, expected %ld\n", t.errors, want_errors);
    printf("check: %ld objects, %ld records, %ld error records, %ld missing, %ld problems\n",
           t.objects, t.good, t.errors, missing, t.problems);
    fin_parquet_writer_destroy(t.pq);
    free(t.seen);
    return missing || t.problems || (want_errors >= 0 && t.errors != want_errors) ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "feed") == 0)
        return feed(argc, argv);
    if (argc > 1 && strcmp(argv[1], "direct") == 0)
        return direct(argc, argv);
    if (argc > 1 && strcmp(argv[1], "check") == 0)
        return check(argc, argv);
    fprintf(stderr, "usage: delivery_tool feed DATA_DIR STREAM SHARDS FIRST COUNT [BAD_EVERY]\n"
                    "       delivery_tool direct DATA_DIR DELIVERY FIRST COUNT\n"
                    "       delivery_tool check LAKE TOTAL [ERRORS]\n");
    return 2;
}
