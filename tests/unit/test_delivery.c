/* test_delivery.c - delivery: prefixes, names, buffering by size and by time (fake
 * clock), gzip, partitions, error records, Parquet, and the rewrite of an unfinished
 * flush. Records come from an in-memory source, the engine's test seam. */
#include "fin_test.h"

#include "delivery/internal.h"
#include "finstream/aws.h"
#include "finstream/delivery.h"
#include "finstream/buf.h"
#include "finstream/error.h"
#include "finstream/framing.h"
#include "finstream/parquet.h"

#include <dirent.h>
#include <jansson.h>
#include <sys/stat.h>

/* ---- an in-memory log with shards ---- */

struct mem_rec {
    char *data;
    size_t len;
    int64_t arrival_ms;
    char seq[FIN_SEQ_LEN + 1];
};

struct mem_shard {
    struct mem_rec *recs;
    size_t n, cap, pos;
    char id[32];
};

struct mem_src {
    struct fin_delivery_source src;
    struct mem_shard shards[4];
    uint64_t next_seq;
};

static const char *mem_shard_id(void *ctx, int shard)
{
    return ((struct mem_src *)ctx)->shards[shard].id;
}

static int mem_seek(void *ctx, int shard, const char *after)
{
    struct mem_shard *s = &((struct mem_src *)ctx)->shards[shard];
    s->pos = 0;
    if (after && *after)
        while (s->pos < s->n && strcmp(s->recs[s->pos].seq, after) <= 0)
            s->pos++;
    return 0;
}

static int mem_next(void *ctx, int shard, struct fin_record *rec)
{
    struct mem_shard *s = &((struct mem_src *)ctx)->shards[shard];
    if (s->pos >= s->n)
        return FIN_EEND;
    struct mem_rec *r = &s->recs[s->pos++];
    memset(rec, 0, sizeof *rec);
    rec->data = r->data;
    rec->len = r->len;
    rec->key = "k";
    rec->key_len = 1;
    rec->arrival_ms = r->arrival_ms;
    memcpy(rec->seq, r->seq, sizeof rec->seq);
    return 0;
}

static void mem_init(struct mem_src *m, int shards)
{
    memset(m, 0, sizeof *m);
    m->src.n_shards = shards;
    m->src.shard_id = mem_shard_id;
    m->src.seek = mem_seek;
    m->src.next = mem_next;
    m->src.ctx = m;
    for (int i = 0; i < shards; i++)
        snprintf(m->shards[i].id, sizeof m->shards[i].id, "shardId-%012d", i);
}

static void mem_put(struct mem_src *m, int shard, const char *data, int64_t arrival_ms)
{
    struct mem_shard *s = &m->shards[shard];
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->recs = realloc(s->recs, s->cap * sizeof *s->recs);
        assert_non_null(s->recs);
    }
    struct mem_rec *r = &s->recs[s->n++];
    r->data = strdup(data);
    r->len = strlen(data);
    r->arrival_ms = arrival_ms;
    snprintf(r->seq, sizeof r->seq, "%056llu", (unsigned long long)++m->next_seq);
}

static void mem_fini(struct mem_src *m)
{
    for (int i = 0; i < 4; i++) {
        for (size_t j = 0; j < m->shards[i].n; j++)
            free(m->shards[i].recs[j].data);
        free(m->shards[i].recs);
    }
}

/* 2026-11-26 10:49:10 UTC */
#define T0 1795690150000LL

static void bar(char *out, size_t cap, const char *name, int i)
{
    snprintf(out, cap,
             "{\"name\":\"%s\",\"ts\":\"2020-05-14 09:%02d:00-04:00\",\"open\":%d.5,\"high\":%d.75,"
             "\"low\":%d.25,\"close\":%d.5,\"volume\":%d}",
             name, i % 60, 100 + i, 101 + i, 99 + i, 100 + i, 1000 + i);
}

/* ---- lake helpers ---- */

struct found {
    char paths[256][512];
    int n;
};

static void walk(const char *root, const char *rel, struct found *f)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char r[512], full[1536];
        snprintf(r, sizeof r, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
        snprintf(full, sizeof full, "%s/%s", root, r);
        if (fin_is_dir(full))
            walk(root, r, f);
        else if (f->n < 256)
            snprintf(f->paths[f->n++], 512, "%s", r);
    }
    closedir(d);
}

static int cmp_str(const void *a, const void *b) { return strcmp(a, b); }

static void lake_list(const char *dir, struct found *f)
{
    memset(f, 0, sizeof *f);
    char lake[512];
    snprintf(lake, sizeof lake, "%s/lake", dir);
    walk(lake, "", f);
    qsort(f->paths, (size_t)f->n, sizeof f->paths[0], cmp_str);
}

static char *lake_read(const char *dir, const char *rel, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/lake/%s", dir, rel);
    char **data = calloc(1, sizeof *data);
    assert_non_null(data);
    assert_int_equal(fin_read_file(path, data, len), 0);
    char *d = *data;
    free(data);
    return d;
}

static size_t count_lines(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == '\n';
    return k;
}

static void settings(struct fin_delivery_settings *set)
{
    assert_int_equal(fin_delivery_settings_defaults(set), 0);
    assert_int_equal(fin_opts_set(fin_delivery_opts, set, "source", "stream:stocks", "test"), 0);
}

/* ---- the record scanner ---- */

static void test_scanner(void **state)
{
    (void)state;
    struct jfield f[8];
    size_t n;
    const char *why;
    char rec[128];
    /* a special byte at every offset of the 8-byte words the scanner skips through */
    for (int at = 0; at < 24; at++) {
        char val[64];
        memset(val, 'a', sizeof val);
        memcpy(val + at, "\\\"", 2);                 /* an escaped quote */
        snprintf(rec, sizeof rec, "{\"k\":\"%.40s\",\"z\":1}", val);
        assert_int_equal(jscan_object(rec, strlen(rec), f, 8, &n, &why), 0);
        assert_int_equal(n, 2);
        assert_int_equal(f[0].val_len, 40);
        assert_true(f[0].val_escaped);
        memset(val, 'a', sizeof val);
        memcpy(val + at, "\xc3\xa9", 2);              /* e-acute, valid UTF-8 */
        snprintf(rec, sizeof rec, "{\"k\":\"%.40s\"}", val);
        assert_int_equal(jscan_object(rec, strlen(rec), f, 8, &n, &why), 0);
        assert_false(f[0].val_escaped);
        val[at] = '\x01';                             /* a control character */
        snprintf(rec, sizeof rec, "{\"k\":\"%.40s\"}", val);
        assert_int_equal(jscan_object(rec, strlen(rec), f, 8, &n, &why), -1);
        assert_string_equal(why, "not JSON: control character in a string");
        memset(val, 'a', sizeof val);
        val[at] = '\xff';
        snprintf(rec, sizeof rec, "{\"k\":\"%.40s\"}", val);
        assert_int_equal(jscan_object(rec, strlen(rec), f, 8, &n, &why), -1);
        memset(val, 'a', sizeof val);
        snprintf(rec, sizeof rec, "{\"k\":\"%.*s", at, val);   /* never closed */
        assert_int_equal(jscan_object(rec, strlen(rec), f, 8, &n, &why), -1);
    }
    const char *good = "{ \"a\" : [1, {\"b\": null}], \"n\": -0.5e+3, \"t\": true }";
    assert_int_equal(jscan_object(good, strlen(good), f, 8, &n, &why), 0);
    assert_int_equal(n, 3);
    assert_int_equal(f[0].type, J_ARRAY);
    assert_int_equal(f[1].type, J_REAL);
    assert_int_equal(f[2].type, J_TRUE);
    static const char *bad[] = {"{\"a\":01}", "{\"a\":1.}", "{\"a\":-}", "{\"a\" 1}", "{\"a\":1,}",
                                "{\"a\":tru}", "{} x", "", "{\"a\":\"\\q\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(jscan_object(bad[i], strlen(bad[i]), f, 8, &n, &why), -1);
    char out[32];
    size_t ol;
    assert_int_equal(jscan_unescape("a\\\"\\u00e9\\ud83d\\ude00", 22, out, sizeof out, &ol), 0);
    assert_string_equal(out, "a\"\xc3\xa9\xf0\x9f\x98\x80");
}

/* ---- prefixes and names ---- */

static void test_prefix(void **state)
{
    (void)state;
    struct fin_prefix *p;
    char out[256];
    assert_int_equal(fin_prefix_compile(&p, "YYYY/MM/DD/HH/", false), 0);
    assert_int_equal(fin_prefix_render(p, T0, NULL, NULL, out, sizeof out), 0);
    assert_string_equal(out, "2026/11/26/10/");
    fin_prefix_destroy(p);

    assert_int_equal(fin_prefix_compile(&p, "stocks/", false), 0);
    assert_int_equal(fin_prefix_render(p, T0, NULL, NULL, out, sizeof out), 0);
    assert_string_equal(out, "stocks/2026/11/26/10/");
    fin_prefix_destroy(p);

    assert_int_equal(fin_prefix_compile(&p, "name=!{partitionKeyFromQuery:name}/dt=!{timestamp:yyyy-MM-dd}/h=!{timestamp:HH'h'mm}/", false), 0);
    const char *const *fields;
    assert_int_equal(fin_prefix_fields(p, &fields), 1);
    assert_string_equal(fields[0], "name");
    const char *vals[] = {"FB"};
    assert_int_equal(fin_prefix_render(p, T0, vals, NULL, out, sizeof out), 0);
    assert_string_equal(out, "name=FB/dt=2026-11-26/h=10h49/");
    assert_int_equal(fin_prefix_render(p, T0, vals, NULL, out, 10), FIN_ELIMIT);
    fin_prefix_destroy(p);

    assert_int_equal(fin_prefix_compile(&p, "errors/!{firehose:error-output-type}/", true), 0);
    assert_int_equal(fin_prefix_render(p, T0, NULL, "format-conversion-failed", out, sizeof out), 0);
    assert_string_equal(out, "errors/format-conversion-failed/2026/11/26/10/");
    fin_prefix_destroy(p);

    assert_int_equal(fin_prefix_compile(&p, "x/!{firehose:random-string}/", false), FIN_EINVAL);
    assert_non_null(strstr(fin_err_msg(), "unknown expression '!{firehose:random-string}'"));
    assert_int_equal(fin_prefix_compile(&p, "x/!{timestamp:yyyy/", false), FIN_EINVAL);
    assert_int_equal(fin_prefix_compile(&p, "x/!{timestamp:EEE}/", false), FIN_EINVAL);
    assert_non_null(strstr(fin_err_msg(), "'E'"));
    assert_int_equal(fin_prefix_compile(&p, "!{firehose:error-output-type}/", false), FIN_EINVAL);
    assert_int_equal(fin_prefix_compile(&p, "/abs/", false), FIN_EINVAL);
}

/* Prefixes are checked against the writer's key rule when compiled: nothing that leaves
 * the lake or makes an empty folder, whatever the time and the partition values. */
static void test_prefix_keys(void **state)
{
    (void)state;
    struct fin_prefix *p;
    static const char *const bad[] = {"../x/", "a/../../streams/", "a//b/", "./x/",
                                      "!{timestamp:'..'}/", "x/!{timestamp:yyyy}/../", "a\\b/",
                                      NULL};
    for (const char *const *b = bad; *b; b++) {
        assert_int_equal(fin_prefix_compile(&p, *b, false), FIN_EINVAL);
        assert_non_null(strstr(fin_err_msg(), *b));
    }
    assert_int_equal(fin_prefix_compile(&p, "../e/", true), FIN_EINVAL);
    assert_int_equal(fin_prefix_compile(&p, "streams/x/", false), 0);   /* inside the bucket */
    fin_prefix_destroy(p);
    assert_int_equal(fin_prefix_compile(&p, "v.!{partitionKeyFromQuery:k}/", false), 0);
    fin_prefix_destroy(p);
    assert_int_equal(fin_delivery_key_check("a/b/c"), 0);
    assert_int_equal(fin_delivery_key_check("a/../c"), FIN_EINVAL);
    assert_int_equal(fin_delivery_key_check("/a"), FIN_EINVAL);
    assert_int_equal(fin_delivery_key_check("a/\001/b"), FIN_EINVAL);
}

static void test_partition_query(void **state)
{
    (void)state;
    struct fin_partition_query *q;
    size_t depth;
    assert_int_equal(fin_partition_query_compile(&q, " {name: .name, venue:.meta.venue, "
                                                     "\"x y\": .[\"a b\"].c, sym} "), 0);
    const char *const *path = fin_partition_query_path(q, "venue", &depth);
    assert_non_null(path);
    assert_int_equal(depth, 2);
    assert_string_equal(path[0], "meta");
    assert_string_equal(path[1], "venue");
    path = fin_partition_query_path(q, "x y", &depth);
    assert_int_equal(depth, 2);
    assert_string_equal(path[0], "a b");
    path = fin_partition_query_path(q, "sym", &depth);
    assert_int_equal(depth, 1);
    assert_string_equal(path[0], "sym");
    assert_null(fin_partition_query_path(q, "other", &depth));
    fin_partition_query_destroy(q);
    static const char *const bad[] = {"", "name: .name", "{name: .name | ascii_downcase}",
                                      "{name: .name,}", "{name: .name} x", "{a: .a, a: .b}",
                                      "{name: name}", "{\"\": .a}", NULL};
    for (const char *const *b = bad; *b; b++) {
        assert_int_equal(fin_partition_query_compile(&q, *b), FIN_EINVAL);
        assert_non_null(strstr(fin_err_msg(), "MetadataExtractionQuery"));
    }
}

/* A section written from settings reads back as the same settings. */
static void test_settings_format(void **state)
{
    (void)state;
    struct fin_delivery_settings set, back;
    assert_int_equal(fin_delivery_settings_defaults(&set), 0);
    static const char *const kv[][2] = {
        {"source", "stream:__firehose.x"}, {"prefix", "n=!{partitionKeyFromQuery:n}/"},
        {"error_prefix", ""}, {"buffer_size", "64MiB"}, {"buffer_interval", "0"},
        {"compression", "gzip"}, {"format", "parquet"}, {"destination", "/tmp/lake/b"},
        {"partition_query", "{n: .a.b}"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        assert_int_equal(fin_opts_set(fin_delivery_opts, &set, kv[i][0], kv[i][1], "t"), 0);
    struct fin_buf b;
    fin_buf_init(&b);
    assert_int_equal(fin_delivery_settings_format(&set, "x", &b), 0);
    assert_non_null(fin_buf_cstr(&b));
    struct fin_ini ini;
    assert_int_equal(fin_ini_load_string(&ini, b.data, "formatted"), 0);
    assert_int_equal(fin_delivery_settings_defaults(&back), 0);
    const struct fin_ini_section *sec = fin_ini_find(&ini, "delivery", "x");
    assert_non_null(sec);
    assert_int_equal(fin_opts_apply_section(fin_delivery_opts, &back, &ini, sec), 0);
    assert_int_equal(fin_delivery_settings_check(&back), 0);
    assert_string_equal(back.source, set.source);
    assert_string_equal(back.prefix, set.prefix);
    assert_string_equal(back.error_prefix, "");
    assert_string_equal(back.partition_query, "{n: .a.b}");
    assert_string_equal(back.destination, "/tmp/lake/b");
    assert_int_equal(back.buffer_size, 64 << 20);
    assert_int_equal(back.buffer_interval_ms, 0);
    assert_int_equal(back.compression, FIN_COMPRESS_GZIP);
    assert_int_equal(back.format, FIN_FORMAT_PARQUET);
    fin_ini_fini(&ini);
    fin_delivery_settings_fini(&back);
    /* comment characters and quotes are quoted; control characters are refused */
    fin_buf_reset(&b);
    assert_int_equal(fin_opts_set(fin_delivery_opts, &set, "prefix", "a ;b#\"c\\/", "t"), 0);
    assert_int_equal(fin_delivery_settings_format(&set, "x", &b), 0);
    assert_non_null(fin_buf_cstr(&b));
    assert_int_equal(fin_ini_load_string(&ini, b.data, "formatted"), 0);
    assert_string_equal(fin_ini_get(fin_ini_find(&ini, "delivery", "x"), "prefix"), "a ;b#\"c\\/");
    fin_ini_fini(&ini);
    fin_buf_reset(&b);
    assert_int_equal(fin_opts_set(fin_delivery_opts, &set, "prefix", "a\tb/", "t"), 0);
    assert_int_equal(fin_delivery_settings_format(&set, "x", &b), FIN_EINVAL);
    assert_non_null(strstr(fin_err_msg(), "prefix"));
    /* a key the prefix uses must be defined by the query */
    assert_int_equal(fin_opts_set(fin_delivery_opts, &set, "prefix", "m=!{partitionKeyFromQuery:m}/", "t"), 0);
    assert_int_equal(fin_delivery_settings_check(&set), FIN_ECONFIG);
    assert_non_null(strstr(fin_err_msg(), "does not define 'm'"));
    fin_buf_fini(&b);
    fin_delivery_settings_fini(&set);
}

static void test_names(void **state)
{
    (void)state;
    struct fin_delivery_range r = {0, "", "", 3};
    snprintf(r.first_seq, sizeof r.first_seq, "%056d", 1);
    snprintf(r.last_seq, sizeof r.last_seq, "%056d", 3);
    const char *ids[] = {"shardId-000000000000"};
    char a[37], b[37], c[37];
    fin_delivery_suffix("lake", "2026/11/26/10/", &r, 1, ids, a);
    fin_delivery_suffix("lake", "2026/11/26/10/", &r, 1, ids, b);
    assert_string_equal(a, b);
    assert_int_equal(strlen(a), 36);
    for (int i = 0; i < 36; i++)
        assert_true((i == 8 || i == 13 || i == 18 || i == 23) ? a[i] == '-'
                                                              : strchr("0123456789abcdef", a[i]) != NULL);
    snprintf(r.last_seq, sizeof r.last_seq, "%056d", 4);
    fin_delivery_suffix("lake", "2026/11/26/10/", &r, 1, ids, c);
    assert_string_not_equal(a, c);
    char name[256];
    assert_int_equal(fin_delivery_object_name("lake", T0 + 999, a, ".gz", name, sizeof name), 0);
    char want[256];
    snprintf(want, sizeof want, "lake-1-2026-11-26-10-49-10-%s.gz", a);
    assert_string_equal(name, want);
}

static void test_settings(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("dlv-set");
    char ini[600];
    snprintf(ini, sizeof ini, "%s/finstream.ini", dir);
    const char *text = "[delivery \"lake\"]\nsource = stream:stocks\nbuffer_size = 1MiB\n"
                       "buffer_interval = 0\ncompression = gzip\n"
                       "[delivery \"bad\"]\nsource = stream:stocks\nprefix = a/!{nope:x}/\n"
                       "[delivery \"big\"]\nsource = direct\nbuffer_size = 200MiB\n";
    assert_int_equal(fin_write_file_atomic(ini, text, strlen(text)), 0);
    struct fin_delivery_settings set;
    assert_int_equal(fin_delivery_settings_load(&set, ini, "lake"), 0);
    assert_int_equal(set.buffer_size, 1 << 20);
    assert_int_equal(set.buffer_interval_ms, 0);
    assert_int_equal(set.compression, FIN_COMPRESS_GZIP);
    fin_delivery_settings_fini(&set);
    assert_int_equal(fin_delivery_settings_load(&set, ini, "bad"), FIN_ECONFIG);
    assert_non_null(strstr(fin_err_msg(), "finstream.ini:6: [delivery \"bad\"]: prefix 'a/!{nope:x}/': unknown"));
    assert_non_null(strstr(fin_err_msg(), "!{nope:x}"));
    assert_int_equal(fin_delivery_settings_load(&set, ini, "big"), FIN_ECONFIG);
    assert_non_null(strstr(fin_err_msg(), "buffer_size"));
    assert_int_equal(fin_delivery_settings_load(&set, ini, "none"), FIN_ENOENT);
    char **names;
    size_t n;
    assert_int_equal(fin_delivery_list(ini, &names, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(names[0], "lake");
    assert_string_equal(names[2], "big");
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    fin_test_rmdir(dir);
}

/* A bucket as destination and a Kinesis stream as source bring the [aws] settings of the
 * same file, with the service's own section over them; malformed ones name the line. */
static void test_settings_remote(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("dlv-remote");
    char ini[600];
    snprintf(ini, sizeof ini, "%s/finstream.ini", dir);
    const char *text = "[aws]\nregion = eu-west-1\nretries = 3\n"
                       "[aws \"s3\"]\nendpoint_url = http://127.0.0.1:4569\n"
                       "[aws \"kinesis\"]\nendpoint_url = http://127.0.0.1:4567\nretries = 5\n"
                       "[delivery \"up\"]\nsource = kinesis:stocks\ndestination = s3://my-lake/a/\n"
                       "[delivery \"local\"]\nsource = stream:stocks\n"
                       "[delivery \"badbucket\"]\nsource = stream:stocks\ndestination = s3://My_Lake/\n"
                       "[delivery \"gs\"]\nsource = stream:stocks\ndestination = gs://lake/\n"
                       "[delivery \"badstream\"]\nsource = kinesis:a/b\n";
    assert_int_equal(fin_write_file_atomic(ini, text, strlen(text)), 0);
    struct fin_delivery_settings set;
    assert_int_equal(fin_delivery_settings_load(&set, ini, "up"), 0);
    assert_true(fin_delivery_is_s3(set.destination));
    assert_non_null(set.aws_s3);
    assert_non_null(set.aws_kinesis);
    assert_string_equal(set.aws_s3->endpoint_url, "http://127.0.0.1:4569");
    assert_string_equal(set.aws_s3->region, "eu-west-1");
    assert_int_equal(set.aws_s3->retries, 3);
    assert_string_equal(set.aws_kinesis->endpoint_url, "http://127.0.0.1:4567");
    assert_int_equal(set.aws_kinesis->retries, 5);
    fin_delivery_settings_fini(&set);
    assert_int_equal(fin_delivery_settings_load(&set, ini, "local"), 0);
    assert_false(fin_delivery_is_s3(set.destination));
    assert_null(set.aws_s3);
    assert_null(set.aws_kinesis);
    fin_delivery_settings_fini(&set);
    assert_int_equal(fin_delivery_settings_load(&set, ini, "badbucket"), FIN_ECONFIG);
    assert_non_null(strstr(fin_err_msg(), "finstream.ini:14: [delivery \"badbucket\"]: destination"));
    assert_non_null(strstr(fin_err_msg(), "My_Lake"));
    assert_int_equal(fin_delivery_settings_load(&set, ini, "gs"), FIN_ECONFIG);
    assert_non_null(strstr(fin_err_msg(), "gs://lake/"));
    assert_int_equal(fin_delivery_settings_load(&set, ini, "badstream"), FIN_ECONFIG);
    assert_non_null(strstr(fin_err_msg(), "source = 'kinesis:a/b'"));
    fin_test_rmdir(dir);
}

/* ---- buffering ---- */

static void test_buffer_by_size(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("dlv-size");
    struct mem_src m;
    mem_init(&m, 2);
    char rec[256];
    size_t total_bytes = 0;
    for (int i = 0; i < 20000; i++) {
        bar(rec, sizeof rec, i % 2 ? "FB" : "SHOP", i);
        mem_put(&m, i % 2, rec, T0 + i);
        total_bytes += strlen(rec) + 1;
    }
    struct fin_fake_clock fc;
    fin_fake_clock_init(&fc, 1000 * FIN_NS_PER_SEC);
    struct fin_delivery_settings set;
    settings(&set);
    set.buffer_size = 1 << 20;
    struct fin_delivery_engine *e;
    assert_int_equal(fin_delivery_engine_create(&e, dir, "lake", &set, &m.src, &fc.clock), 0);
    size_t got;
    assert_int_equal(fin_delivery_engine_pump(e, 0, &got), 0);
    assert_int_equal(got, 20000);
    /* The clock did not move: only full buffers were written. */
    size_t expect_full = total_bytes / (1 << 20);
    struct found f;
    lake_list(dir, &f);
    assert_int_equal(f.n, (int)expect_full);
    size_t lines = 0;
    for (int i = 0; i < f.n; i++) {
        assert_int_equal(strncmp(f.paths[i], "2026/11/26/10/lake-1-2026-11-26-10-49-", 38), 0);
        size_t len;
        char *d = lake_read(dir, f.paths[i], &len);
        assert_true(len >= (1 << 20) && len < (1 << 20) + 256);
        lines += count_lines(d, len);
        free(d);
    }
    size_t buffered;
    fin_delivery_engine_buffered(e, &buffered, NULL);
    assert_int_equal(lines + buffered, 20000);
    assert_int_equal(fin_delivery_engine_flush(e), 0);
    assert_int_equal(fin_delivery_engine_stats(e)->records, 20000);
    assert_int_equal(fin_delivery_engine_stats(e)->objects, expect_full + 1);
    fin_delivery_engine_destroy(e);

    /* Every record exactly once, shard 0's records before shard 1's in each object. */
    lake_list(dir, &f);
    lines = 0;
    for (int i = 0; i < f.n; i++) {
        size_t len;
        char *d = lake_read(dir, f.paths[i], &len);
        lines += count_lines(d, len);
        char *fb = strstr(d, "\"FB\""), *last_shop = NULL;
        for (char *s = strstr(d, "\"SHOP\""); s; s = strstr(s + 1, "\"SHOP\""))
            last_shop = s;
        if (fb && last_shop)
            assert_true(last_shop < fb);
        free(d);
    }
    assert_int_equal(lines, 20000);

    /* A restart resumes after the checkpoint: nothing more to deliver. */
    assert_int_equal(fin_delivery_engine_create(&e, dir, "lake", &set, &m.src, &fc.clock), 0);
    assert_int_equal(fin_delivery_engine_pump(e, 0, &got), 0);
    assert_int_equal(got, 0);
    fin_delivery_engine_destroy(e);
    fin_delivery_settings_fini(&set);
    mem_fini(&m);
    fin_test_rmdir(dir);
}

static void test_buffer_by_interval(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("dlv-time");
    struct mem_src m;
    mem_init(&m, 1);
    char rec[256];
    for (int i = 0; i < 10; i++) {
        bar(rec, sizeof rec, "FB", i);
        mem_put(&m, 0, rec, T0 + 3600 * 1000LL + i);   /* 11:49 */
    }
    struct fin_fake_clock fc;
    fin_fake_clock_init(&fc, 1000 * FIN_NS_PER_SEC);
    struct fin_delivery_settings set;
    settings(&set);
    struct fin_delivery_engine *e;
    assert_int_equal(fin_delivery_engine_create(&e, dir, "lake", &set, &m.src, &fc.clock), 0);
    assert_int_equal(fin_delivery_engine_pump(e, 0, NULL), 0);
    bool flushed;
    fin_fake_clock_advance(&fc, 59 * FIN_NS_PER_SEC);
    assert_int_equal(fin_delivery_engine_tick(e, &flushed), 0);
    assert_false(flushed);
    struct found f;
    lake_list(dir, &f);
    assert_int_equal(f.n, 0);
    fin_fake_clock_advance(&fc, 1 * FIN_NS_PER_SEC);
    assert_int_equal(fin_delivery_engine_tick(e, &flushed), 0);
    assert_true(flushed);
    lake_list(dir, &f);
    assert_int_equal(f.n, 1);
    assert_int_equal(strncmp(f.paths[0], "2026/11/26/11/lake-1-2026-11-26-11-49-10-", 41), 0);
    assert_int_equal(strlen(f.paths[0]), 41 + 36);
    size_t len;
    char *d = lake_read(dir, f.paths[0], &len);
    assert_int_equal(count_lines(d, len), 10);
    bar(rec, sizeof rec, "FB", 0);
    assert_int_equal(strncmp(d, rec, strlen(rec)), 0);
    assert_int_equal(d[strlen(rec)], '\n');
    free(d);

    /* More records: a pump reads them, the interval starts again at the first. */
    for (int i = 10; i < 15; i++) {
        bar(rec, sizeof rec, "FB", i);
        mem_put(&m, 0, rec, T0 + 7200 * 1000LL);
    }
    assert_int_equal(fin_delivery_engine_pump(e, 0, NULL), 0);
    fin_fake_clock_advance(&fc, 30 * FIN_NS_PER_SEC);
    assert_int_equal(fin_delivery_engine_tick(e, &flushed), 0);
    assert_false(flushed);
    fin_fake_clock_advance(&fc, 30 * FIN_NS_PER_SEC);
    assert_int_equal(fin_delivery_engine_pump(e, 0, NULL), 0);
    lake_list(dir, &f);
    assert_int_equal(f.n, 2);
    assert_int_equal(strncmp(f.paths[1], "2026/11/26/12/", 14), 0);
    fin_delivery_engine_destroy(e);
    fin_delivery_settings_fini(&set);
    mem_fini(&m);
    fin_test_rmdir(dir);
}

static void test_gzip(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("dlv-gz");
    struct mem_src m;
    mem_init(&m, 1);
    char rec[256];
    struct fin_buf want;
    fin_buf_init(&want);
    for (int i = 0; i < 5000; i++) {
        bar(rec, sizeof rec, "NFLX", i);
        mem_put(&m, 0, rec, T0);
        fin_buf_puts(&want, rec);
        fin_buf_puts(&want, "\n");
    }
    struct fin_delivery_settings set;
    settings(&set);
    set.compression = FIN_COMPRESS_GZIP;
    struct fin_delivery_engine *e;
    assert_int_equal(fin_delivery_engine_create(&e, dir, "gz", &set, &m.src, NULL), 0);
    assert_int_equal(fin_delivery_engine_pump(e, 0, NULL), 0);
    assert_int_equal(fin_delivery_engine_flush(e), 0);
    fin_delivery_engine_destroy(e);
    struct found f;
    lake_list(dir, &f);
    assert_int_equal(f.n, 1);
    assert_non_null(strstr(f.paths[0], ".gz"));
    assert_int_equal(strcmp(f.paths[0] + strlen(f.paths[0]) - 3, ".gz"), 0);
    size_t len, out_len;
    char *d = lake_read(dir, f.paths[0], &len), *out;
    assert_true(fin_is_gzip(d, len));
    assert_true(len < want.len / 4);
    assert_int_equal(fin_gunzip(d, len, &out, &out_len, "test"), 0);
    assert_int_equal(out_len, want.len);
    assert_memory_equal(out, want.data, want.len);
    free(out);
    free(d);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "gzip -t '%s/lake/%s'", dir, f.paths[0]);
    if (system("command -v gzip >/dev/null") == 0)
        assert_int_equal(system(cmd), 0);
    fin_buf_fini(&want);
    fin_delivery_settings_fini(&set);
    mem_fini(&m);
    fin_test_rmdir(dir);
}

/* ---- partitions and errors ---- */

static void check_error_record(const char *line, const char *code, const char *why, const char *raw)
{
    json_error_t je;
    json_t *o = json_loads(line, 0, &je);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "errorCode")), code);
    if (!strstr(json_string_value(json_object_get(o, "errorMessage")), why))
        fail_msg("error message [%s] lacks [%s]", json_string_value(json_object_get(o, "errorMessage")), why);
    assert_non_null(strstr(json_string_value(json_object_get(o, "errorMessage")), "shardId-000000000000"));
    assert_int_equal(json_integer_value(json_object_get(o, "attemptsMade")), 1);
    struct fin_buf b;
    fin_buf_init(&b);
    fin_base64_append(&b, raw, strlen(raw));
    fin_buf_cstr(&b);
    assert_string_equal(json_string_value(json_object_get(o, "rawData")), b.data);
    fin_buf_fini(&b);
    json_decref(o);
}

static void test_partitions_and_errors(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("dlv-part");
    struct mem_src m;
    mem_init(&m, 1);
    char rec[256];
    const char *names[] = {"FB", "SHOP", "BYND"};
    for (int i = 0; i < 30; i++) {
        bar(rec, sizeof rec, names[i % 3], i);
        mem_put(&m, 0, rec, T0 + i);
    }
    mem_put(&m, 0, "this is not json", T0 + 40);
    mem_put(&m, 0, "{\"ts\":\"2020-05-14 09:30:00-04:00\",\"high\":1}", T0 + 41);
    mem_put(&m, 0, "{\"name\":\"../../etc\",\"high\":1}", T0 + 42);
    struct fin_delivery_settings set;
    settings(&set);
    assert_int_equal(fin_opts_set(fin_delivery_opts, &set, "prefix",
                                  "name=!{partitionKeyFromQuery:name}/dt=!{timestamp:yyyy-MM-dd}/", "t"), 0);
    struct fin_delivery_engine *e;
    assert_int_equal(fin_delivery_engine_create(&e, dir, "part", &set, &m.src, NULL), 0);
    assert_int_equal(fin_delivery_engine_pump(e, 0, NULL), 0);
    assert_int_equal(fin_delivery_engine_flush(e), 0);
    const struct fin_delivery_stats *st = fin_delivery_engine_stats(e);
    assert_int_equal(st->records, 30);
    assert_int_equal(st->objects, 3);
    assert_int_equal(st->error_records, 3);
    assert_int_equal(st->error_objects, 1);
    fin_delivery_engine_destroy(e);

    struct found f;
    lake_list(dir, &f);
    assert_int_equal(f.n, 4);
    assert_int_equal(strncmp(f.paths[0], "errors/partitioning-failed/2026/11/26/10/part-1-2026-11-26-10-49-10-", 68), 0);
    assert_int_equal(strncmp(f.paths[1], "name=BYND/dt=2026-11-26/part-1-", 31), 0);
    assert_int_equal(strncmp(f.paths[2], "name=FB/dt=2026-11-26/part-1-", 29), 0);
    assert_int_equal(strncmp(f.paths[3], "name=SHOP/dt=2026-11-26/part-1-", 31), 0);
    for (int i = 1; i < 4; i++) {
        size_t len;
        char *d = lake_read(dir, f.paths[i], &len);
        assert_int_equal(count_lines(d, len), 10);
        const char *nm = strchr(f.paths[i], '=') + 1;
        char want[32];
        snprintf(want, sizeof want, "\"name\":\"%.*s\"", (int)(strchr(nm, '/') - nm), nm);
        for (char *l = d; *l; l = strchr(l, '\n') + 1)
            assert_true(strncmp(l + 1, want, strlen(want)) == 0);
        free(d);
    }
    size_t len;
    char *d = lake_read(dir, f.paths[0], &len);
    assert_int_equal(count_lines(d, len), 3);
    char *l2 = strchr(d, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
    *strchr(d, '\n') = *strchr(l2, '\n') = *strchr(l3, '\n') = '\0';
    check_error_record(d, "DynamicPartitioning.MetadataExtractionFailed", "not JSON", "this is not json");
    check_error_record(l2, "DynamicPartitioning.MetadataExtractionFailed", "no value for partition key 'name'",
                       "{\"ts\":\"2020-05-14 09:30:00-04:00\",\"high\":1}");
    check_error_record(l3, "DynamicPartitioning.MetadataExtractionFailed", "not usable in a key",
                       "{\"name\":\"../../etc\",\"high\":1}");
    free(d);
    fin_delivery_settings_fini(&set);
    mem_fini(&m);
    fin_test_rmdir(dir);
}

/* A partition query reads nested fields; values that would make a bad key with the
 * prefix's literals go to the error prefix instead of failing the flush. */
static void test_partition_paths(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("dlv-paths");
    struct mem_src m;
    mem_init(&m, 1);
    mem_put(&m, 0, "{\"name\":\"FB\",\"meta\":{\"venue\":\"IEX\"}}", T0);
    mem_put(&m, 0, "{\"name\":\"FB\",\"meta\":{\"venue\":\"NYSE\",\"x\":[1]}}", T0 + 1);
    mem_put(&m, 0, "{\"name\":\"FB\",\"meta\":\"flat\"}", T0 + 2);
    mem_put(&m, 0, "{\"name\":\"FB\",\"meta\":{\"venue\":\".\"}}", T0 + 3);
    struct fin_delivery_settings set;
    settings(&set);
    assert_int_equal(fin_opts_set(fin_delivery_opts, &set, "prefix",
                                  "v=!{partitionKeyFromQuery:venue}/!{partitionKeyFromQuery:venue}./", "t"), 0);
    assert_int_equal(fin_opts_set(fin_delivery_opts, &set, "partition_query",
                                  "{venue: .meta.venue}", "t"), 0);
    assert_int_equal(fin_delivery_settings_check(&set), 0);
    struct fin_delivery_engine *e;
    assert_int_equal(fin_delivery_engine_create(&e, dir, "paths", &set, &m.src, NULL), 0);
    assert_int_equal(fin_delivery_engine_pump(e, 0, NULL), 0);
    assert_int_equal(fin_delivery_engine_flush(e), 0);
    const struct fin_delivery_stats *st = fin_delivery_engine_stats(e);
    assert_int_equal(st->records, 2);
    assert_int_equal(st->objects, 2);
    assert_int_equal(st->error_records, 2);
    fin_delivery_engine_destroy(e);
    struct found f;
    lake_list(dir, &f);
    assert_int_equal(f.n, 3);
    assert_int_equal(strncmp(f.paths[0], "errors/partitioning-failed/", 27), 0);
    assert_int_equal(strncmp(f.paths[1], "v=IEX/IEX./paths-1-", 19), 0);
    assert_int_equal(strncmp(f.paths[2], "v=NYSE/NYSE./paths-1-", 21), 0);
    size_t len;
    char *d = lake_read(dir, f.paths[0], &len);
    assert_non_null(strstr(d, "no value for partition key 'venue'"));
    assert_non_null(strstr(d, "'..'"));
    free(d);
    fin_delivery_settings_fini(&set);
    mem_fini(&m);
    fin_test_rmdir(dir);
}

/* A lake folder inside the data directory's own folders is refused. */
static void test_lake_place(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("dlv-place");
    struct mem_src m;
    mem_init(&m, 1);
    struct fin_delivery_settings set;
    settings(&set);
    char bad[3][700];
    snprintf(bad[0], sizeof bad[0], "%s", dir);
    snprintf(bad[1], sizeof bad[1], "%s/streams/x", dir);
    snprintf(bad[2], sizeof bad[2], "%s/deliveries", dir);
    for (int i = 0; i < 3; i++) {
        struct fin_delivery_engine *e = NULL;
        assert_int_equal(fin_opts_set(fin_delivery_opts, &set, "destination", bad[i], "t"), 0);
        assert_int_equal(fin_delivery_engine_create(&e, dir, "place", &set, &m.src, NULL), FIN_ECONFIG);
        assert_non_null(strstr(fin_err_msg(), "mix with finstream's own files"));
        assert_null(e);
    }
    fin_delivery_settings_fini(&set);
    mem_fini(&m);
    fin_test_rmdir(dir);
}

/* ---- Parquet ---- */

static void test_parquet(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("dlv-pq");
    struct mem_src m;
    mem_init(&m, 2);
    char rec[256];
    for (int i = 0; i < 1000; i++) {
        bar(rec, sizeof rec, i % 2 ? "FB" : "SQ", i);
        mem_put(&m, i % 2, rec, T0 + i);
    }
    mem_put(&m, 0, "{\"name\":\"FB\",\"high\":\"abc\"}", T0 + 2000);
    mem_put(&m, 1, "{\"name\":\"FB\",\"volume\":1.5}", T0 + 2001);
    mem_put(&m, 0, "{\"name\":\"FB\",", T0 + 2002);
    mem_put(&m, 1, "[1,2]", T0 + 2003);
    mem_put(&m, 0, "{\"name\":\"FB\",\"ts\":null,\"high\":7,\"volume\":-12}", T0 + 2004);
    /* fields outside the record schema get inferred types; escapes are decoded */
    mem_put(&m, 0, "{\"name\":\"F\\\"B\\u00e9\",\"extra\":5,\"flag\":true,\"ratio\":1,\"note\":3}", T0 + 2005);
    mem_put(&m, 0, "{\"name\":\"FB\",\"ratio\":0.5,\"note\":\"n\",\"big\":123456789012345678901}", T0 + 2006);
    mem_put(&m, 1, "{\"name\":\"FB\",\"dup\":1,\"dup\":2}", T0 + 2007);
    struct fin_delivery_settings set;
    settings(&set);
    set.format = FIN_FORMAT_PARQUET;
    struct fin_delivery_engine *e;
    assert_int_equal(fin_delivery_engine_create(&e, dir, "pq", &set, &m.src, NULL), 0);
    assert_int_equal(fin_delivery_engine_pump(e, 0, NULL), 0);
    assert_int_equal(fin_delivery_engine_flush(e), 0);
    assert_int_equal(fin_delivery_engine_stats(e)->records, 1004);
    assert_int_equal(fin_delivery_engine_stats(e)->error_records, 4);
    fin_delivery_engine_destroy(e);

    struct found f;
    lake_list(dir, &f);
    assert_int_equal(f.n, 2);
    assert_int_equal(strncmp(f.paths[0], "2026/11/26/10/pq-1-2026-11-26-10-49-10-", 39), 0);
    assert_int_equal(strcmp(f.paths[0] + strlen(f.paths[0]) - 8, ".parquet"), 0);
    assert_int_equal(strncmp(f.paths[1], "errors/format-conversion-failed/2026/11/26/10/pq-1-", 51), 0);

    struct fin_parquet_writer *w;
    assert_int_equal(fin_parquet_writer_create(&w, 1), 0);
    char path[1024], *schema, *json;
    uint64_t rows;
    snprintf(path, sizeof path, "%s/lake/%s", dir, f.paths[0]);
    assert_int_equal(fin_parquet_inspect(w, path, &schema, &rows, &json), 0);
    assert_string_equal(schema, "name VARCHAR, ts VARCHAR, open DOUBLE, high DOUBLE, low DOUBLE, "
                                "close DOUBLE, volume BIGINT, extra BIGINT, flag BOOLEAN, "
                                "ratio DOUBLE, note VARCHAR, big DOUBLE, dup BIGINT");
    assert_int_equal(rows, 1004);
    /* shard 0 first: SQ records, then the one good odd record, then shard 1's FB ones */
    assert_int_equal(strncmp(json, "{\"name\":\"SQ\",\"ts\":\"2020-05-14 09:00:00-04:00\",\"open\":100.5,"
                                   "\"high\":101.75,\"low\":99.25,\"close\":100.5,\"volume\":1000,", 110), 0);
    assert_non_null(strstr(json, "{\"name\":\"FB\",\"ts\":null,\"open\":null,\"high\":7.0,\"low\":null,"
                                 "\"close\":null,\"volume\":-12,\"extra\":null,\"flag\":null,"
                                 "\"ratio\":null,\"note\":null,\"big\":null,\"dup\":null}"));
    assert_non_null(strstr(json, "{\"name\":\"F\\\"B\u00e9\",\"ts\":null,\"open\":null,\"high\":null,"
                                 "\"low\":null,\"close\":null,\"volume\":null,\"extra\":5,\"flag\":true,"
                                 "\"ratio\":1.0,\"note\":\"3\",\"big\":null,\"dup\":null}"));
    assert_non_null(strstr(json, "\"dup\":2}"));
    if (!strstr(json, "\"ratio\":0.5,\"note\":\"n\",\"big\":123456789012345680000.0,\"dup\":null}"))
        fail_msg("%s", strstr(json, "\"ratio\":0.5"));
    free(schema);
    free(json);
    fin_parquet_writer_destroy(w);

    size_t len;
    char *d = lake_read(dir, f.paths[1], &len);
    assert_int_equal(count_lines(d, len), 4);
    assert_non_null(strstr(d, "DataFormatConversion.InvalidSchema"));
    assert_non_null(strstr(d, "field 'high' is a string, expected a number"));
    assert_non_null(strstr(d, "field 'volume' is a number, expected an integer"));
    assert_non_null(strstr(d, "DataFormatConversion.MalformedData"));
    assert_non_null(strstr(d, "not a JSON object"));
    free(d);
    fin_delivery_settings_fini(&set);
    mem_fini(&m);
    fin_test_rmdir(dir);
}

/* Partitioned Parquet: each object gets its own records, shard 0's before shard 1's, from
 * the values noted at intake; a field first seen late in the buffer is NULL before. */
static void test_parquet_partitions(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("dlv-pqpart");
    struct mem_src m;
    mem_init(&m, 2);
    char rec[256];
    const int n = 6000;
    for (int i = 0; i < n; i++) {
        if (i >= 5000)
            snprintf(rec, sizeof rec, "{\"name\":\"%s\",\"volume\":%d,\"late\":\"L%d\"}",
                     i % 3 ? "AA" : "BB", i, i);
        else
            snprintf(rec, sizeof rec, "{\"volume\":%d,\"name\":\"%s\"}", i, i % 3 ? "AA" : "BB");
        mem_put(&m, i % 2, rec, T0);
    }
    struct fin_delivery_settings set;
    settings(&set);
    set.format = FIN_FORMAT_PARQUET;
    assert_int_equal(fin_opts_set(fin_delivery_opts, &set, "prefix", "!{partitionKeyFromQuery:name}/", "t"), 0);
    struct fin_delivery_engine *e;
    assert_int_equal(fin_delivery_engine_create(&e, dir, "pp", &set, &m.src, NULL), 0);
    assert_int_equal(fin_delivery_engine_pump(e, 0, NULL), 0);
    assert_int_equal(fin_delivery_engine_flush(e), 0);
    assert_int_equal(fin_delivery_engine_stats(e)->records, n);
    fin_delivery_engine_destroy(e);
    struct found f;
    lake_list(dir, &f);
    assert_int_equal(f.n, 2);
    struct fin_parquet_writer *w;
    assert_int_equal(fin_parquet_writer_create(&w, 1), 0);
    for (int k = 0; k < 2; k++) {
        const char *want_name = k == 0 ? "AA" : "BB";
        assert_int_equal(strncmp(f.paths[k], want_name, 2), 0);
        char path[1024], *schema, *json;
        uint64_t rows;
        snprintf(path, sizeof path, "%s/lake/%s", dir, f.paths[k]);
        assert_int_equal(fin_parquet_inspect(w, path, &schema, &rows, &json), 0);
        assert_string_equal(schema, "volume BIGINT, name VARCHAR, late VARCHAR");
        char *line = json;
        uint64_t seen = 0;
        for (int sh = 0; sh < 2; sh++)
            for (int i = sh; i < n; i += 2) {
                if ((i % 3 ? 0 : 1) != k)
                    continue;
                char want[128];
                if (i >= 5000)
                    snprintf(want, sizeof want, "{\"volume\":%d,\"name\":\"%s\",\"late\":\"L%d\"}",
                             i, want_name, i);
                else
                    snprintf(want, sizeof want, "{\"volume\":%d,\"name\":\"%s\",\"late\":null}", i,
                             want_name);
                char *nl = strchr(line, '\n');
                if (nl)
                    *nl = '\0';
                assert_string_equal(line, want);
                line = nl ? nl + 1 : line + strlen(line);
                seen++;
            }
        assert_int_equal(rows, seen);
        free(schema);
        free(json);
    }
    fin_parquet_writer_destroy(w);
    fin_delivery_settings_fini(&set);
    mem_fini(&m);
    fin_test_rmdir(dir);
}

/* NULLs are per row even across DuckDB's 2048-row vectors. */
static void test_parquet_nulls(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("dlv-pqnull");
    struct mem_src m;
    mem_init(&m, 1);
    char rec[256];
    for (int i = 0; i < 5000; i++) {
        if (i % 3 == 0)
            snprintf(rec, sizeof rec, "{\"name\":\"N%d\",\"high\":%d.5}", i, i);
        else
            snprintf(rec, sizeof rec, "{\"name\":\"N%d\",\"high\":null,\"volume\":%d}", i, i);
        mem_put(&m, 0, rec, T0);
    }
    struct fin_delivery_settings set;
    settings(&set);
    set.format = FIN_FORMAT_PARQUET;
    struct fin_delivery_engine *e;
    assert_int_equal(fin_delivery_engine_create(&e, dir, "pn", &set, &m.src, NULL), 0);
    assert_int_equal(fin_delivery_engine_pump(e, 0, NULL), 0);
    assert_int_equal(fin_delivery_engine_flush(e), 0);
    fin_delivery_engine_destroy(e);
    struct found f;
    lake_list(dir, &f);
    assert_int_equal(f.n, 1);
    struct fin_parquet_writer *w;
    assert_int_equal(fin_parquet_writer_create(&w, 0), 0);
    char path[1024], *schema, *json;
    uint64_t rows;
    snprintf(path, sizeof path, "%s/lake/%s", dir, f.paths[0]);
    assert_int_equal(fin_parquet_inspect(w, path, &schema, &rows, &json), 0);
    assert_string_equal(schema, "name VARCHAR, high DOUBLE, volume BIGINT");
    assert_int_equal(rows, 5000);
    char *line = json;
    for (int i = 0; i < 5000; i++) {
        char want[128];
        if (i % 3 == 0)
            snprintf(want, sizeof want, "{\"name\":\"N%d\",\"high\":%d.5,\"volume\":null}", i, i);
        else
            snprintf(want, sizeof want, "{\"name\":\"N%d\",\"high\":null,\"volume\":%d}", i, i);
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        assert_string_equal(line, want);
        line = nl ? nl + 1 : line + strlen(line);
    }
    free(schema);
    free(json);
    fin_parquet_writer_destroy(w);
    fin_delivery_settings_fini(&set);
    mem_fini(&m);
    fin_test_rmdir(dir);
}


static int cmp_str_p(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* gzip while the buffer fills: two shards, many flushes, each object one gzip member
 * whose text is shard 0's records, then shard 1's, in order. */
static void test_gzip_while_filling(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("dlv-gz2");
    struct mem_src m;
    mem_init(&m, 2);
    char rec[256];
    for (int i = 0; i < 40000; i++) {
        bar(rec, sizeof rec, i % 2 ? "FB" : "SQ", i);
        mem_put(&m, i % 2, rec, T0);
    }
    struct fin_delivery_settings set;
    settings(&set);
    set.compression = FIN_COMPRESS_GZIP;
    set.buffer_size = 1 << 20;
    struct fin_delivery_engine *e;
    assert_int_equal(fin_delivery_engine_create(&e, dir, "gz", &set, &m.src, NULL), 0);
    assert_int_equal(fin_delivery_engine_pump(e, 0, NULL), 0);
    assert_int_equal(fin_delivery_engine_flush(e), 0);
    uint64_t objects = fin_delivery_engine_stats(e)->objects;
    fin_delivery_engine_destroy(e);
    assert_true(objects >= 4);
    struct found f;
    lake_list(dir, &f);
    assert_int_equal(f.n, objects);
    char **lines = calloc(40000, sizeof *lines);
    int seen = 0;
    for (int k = 0; k < f.n; k++) {
        size_t len, out_len;
        char *d = lake_read(dir, f.paths[k], &len), *out;
        assert_int_equal(fin_gunzip(d, len, &out, &out_len, "test"), 0);
        /* within an object: shard 0's run (SQ), then shard 1's (FB) */
        int shard = 0;
        for (char *line = out; line < out + out_len;) {
            char *nl = memchr(line, '\n', (size_t)(out + out_len - line));
            assert_non_null(nl);
            *nl = '\0';
            bool fb = strstr(line, "\"FB\"") != NULL;
            if (fb)
                shard = 1;
            else
                assert_int_equal(shard, 0);
            assert_true(seen < 40000);
            lines[seen++] = strdup(line);
            line = nl + 1;
        }
        free(out);
        free(d);
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "gzip -t '%s/lake/%s'", dir, f.paths[k]);
        if (system("command -v gzip >/dev/null") == 0)
            assert_int_equal(system(cmd), 0);
    }
    /* every record exactly once */
    qsort(lines, (size_t)seen, sizeof *lines, cmp_str_p);
    char **want = calloc(40000, sizeof *want);
    for (int i = 0; i < 40000; i++) {
        bar(rec, sizeof rec, i % 2 ? "FB" : "SQ", i);
        want[i] = strdup(rec);
    }
    qsort(want, 40000, sizeof *want, cmp_str_p);
    for (int i = 0; i < seen; i++) {
        assert_string_equal(lines[i], want[i]);
        free(lines[i]);
        free(want[i]);
    }
    free(lines);
    free(want);
    assert_int_equal(seen, 40000);
    fin_delivery_settings_fini(&set);
    mem_fini(&m);
    fin_test_rmdir(dir);
}

/* gzip while filling, when the flush fails: the retry writes the same whole object. */
static void test_gzip_retry_after_failure(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("dlv-gzretry");
    struct mem_src m;
    mem_init(&m, 2);
    char rec[256];
    for (int i = 0; i < 4000; i++) {
        bar(rec, sizeof rec, i % 2 ? "ZZZ" : "AAA", i);
        mem_put(&m, i % 2, rec, T0 + i);
    }
    struct fin_delivery_settings set;
    settings(&set);
    set.compression = FIN_COMPRESS_GZIP;
    char lake[600], block[700];
    snprintf(lake, sizeof lake, "%s/lake", dir);
    snprintf(block, sizeof block, "%s/2026", lake);
    assert_int_equal(fin_mkdir_p(lake, 0755), 0);
    assert_int_equal(fin_write_file_atomic(block, "x", 1), 0);   /* the prefix cannot be made */
    struct fin_delivery_engine *e;
    assert_int_equal(fin_delivery_engine_create(&e, dir, "gr", &set, &m.src, NULL), 0);
    assert_int_equal(fin_delivery_engine_pump(e, 0, NULL), 0);
    assert_int_not_equal(fin_delivery_engine_flush(e), 0);
    assert_int_not_equal(fin_delivery_engine_flush(e), 0);   /* finished twice: still one */
    for (int i = 4000; i < 5000; i++) {
        bar(rec, sizeof rec, i % 2 ? "ZZZ" : "AAA", i);
        mem_put(&m, i % 2, rec, T0 + i);
    }
    unlink(block);
    size_t got = 0;
    assert_int_equal(fin_delivery_engine_pump(e, 0, &got), 0);
    assert_int_equal(got, 1000);
    assert_int_equal(fin_delivery_engine_flush(e), 0);
    assert_int_equal(fin_delivery_engine_stats(e)->objects, 2);
    fin_delivery_engine_destroy(e);
    struct found f;
    lake_list(dir, &f);
    assert_int_equal(f.n, 2);
    size_t total = 0;
    for (int i = 0; i < f.n; i++) {
        size_t len, out_len;
        char *d = lake_read(dir, f.paths[i], &len), *out;
        assert_int_equal(fin_gunzip(d, len, &out, &out_len, "test"), 0);
        total += count_lines(out, out_len);
        free(out);
        free(d);
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "gzip -t '%s/lake/%s'", dir, f.paths[i]);
        if (system("command -v gzip >/dev/null") == 0)
            assert_int_equal(system(cmd), 0);
    }
    assert_int_equal(total, 5000);
    fin_delivery_settings_fini(&set);
    mem_fini(&m);
    fin_test_rmdir(dir);
}

/* Values past 64 KiB into a record, nested values and changing columns between buffers. */
static void test_parquet_far_values(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("dlv-pqfar");
    struct mem_src m;
    mem_init(&m, 1);
    size_t big = 70000;
    char *rec = malloc(big + 256);
    assert_non_null(rec);
    for (int i = 0; i < 6; i++) {
        int n = snprintf(rec, 64, "{\"note\":\"");
        memset(rec + n, 'a' + i, big);
        snprintf(rec + n + big, 192, "\",\"name\":\"N%d\",\"high\":%d.25,\"obj\":{\"k\":[1,\"}\"]},"
                 "\"esc\":\"x\\\"y\"}", i, i);
        mem_put(&m, 0, rec, T0);
    }
    mem_put(&m, 0, "{\"name\":\"short\",\"high\":1}", T0);
    struct fin_delivery_settings set;
    settings(&set);
    set.format = FIN_FORMAT_PARQUET;
    set.buffer_size = 200000;   /* several buffers: cells kept from one to the next */
    struct fin_delivery_engine *e;
    assert_int_equal(fin_delivery_engine_create(&e, dir, "pf", &set, &m.src, NULL), 0);
    assert_int_equal(fin_delivery_engine_pump(e, 0, NULL), 0);
    assert_int_equal(fin_delivery_engine_flush(e), 0);
    fin_delivery_engine_destroy(e);
    struct found f;
    lake_list(dir, &f);
    assert_true(f.n >= 2);
    struct fin_parquet_writer *w;
    assert_int_equal(fin_parquet_writer_create(&w, 1), 0);
    int rows_seen = 0;
    for (int k = 0; k < f.n; k++) {
        char path[1024], *schema, *json;
        uint64_t rows;
        snprintf(path, sizeof path, "%s/lake/%s", dir, f.paths[k]);
        assert_int_equal(fin_parquet_inspect(w, path, &schema, &rows, &json), 0);
        rows_seen += (int)rows;
        for (char *p = strstr(json, "\"name\":\"N"); p; p = strstr(p + 1, "\"name\":\"N")) {
            int i = p[9] - '0';
            char want[128];
            snprintf(want, sizeof want, "\"name\":\"N%d\",\"high\":%d.25,\"obj\":\"{\\\"k\\\":[1,\\\"}\\\"]}\","
                     "\"esc\":\"x\\\"y\"", i, i);
            if (strncmp(p, want, strlen(want)) != 0)
                fail_msg("row %d: [%.120s] want [%s]", i, p, want);
            const char *note = strstr(json, "\"note\":\"");
            assert_non_null(note);
        }
        if (strstr(json, "short") && !strstr(json, "\"name\":\"short\",\"high\":1.0"))
            fail_msg("%s", strstr(json, "short"));
        free(schema);
        free(json);
    }
    assert_int_equal(rows_seen, 7);
    fin_parquet_writer_destroy(w);
    free(rec);
    fin_delivery_settings_fini(&set);
    mem_fini(&m);
    fin_test_rmdir(dir);
}

/* ---- exactly once: an unfinished flush is rewritten under the same names ---- */

static void test_replay_unfinished_flush(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("dlv-replay");
    struct mem_src m;
    mem_init(&m, 2);
    char rec[256];
    for (int i = 0; i < 40; i++) {
        bar(rec, sizeof rec, i % 2 ? "ZZZ" : "AAA", i);
        mem_put(&m, i % 2, rec, T0 + i);
    }
    struct fin_delivery_settings set;
    settings(&set);
    assert_int_equal(fin_opts_set(fin_delivery_opts, &set, "prefix", "!{partitionKeyFromQuery:name}/", "t"), 0);
    /* A plain file where ZZZ's folder must go: the flush writes AAA's object, then fails. */
    char lake[600], block[700];
    snprintf(lake, sizeof lake, "%s/lake", dir);
    snprintf(block, sizeof block, "%s/ZZZ", lake);
    assert_int_equal(fin_mkdir_p(lake, 0755), 0);
    assert_int_equal(fin_write_file_atomic(block, "x", 1), 0);
    struct fin_delivery_engine *e;
    assert_int_equal(fin_delivery_engine_create(&e, dir, "re", &set, &m.src, NULL), 0);
    assert_int_equal(fin_delivery_engine_pump(e, 0, NULL), 0);
    assert_int_not_equal(fin_delivery_engine_flush(e), 0);
    /* Another process may not run it meanwhile. */
    struct fin_delivery_engine *e2;
    assert_int_equal(fin_delivery_engine_create(&e2, dir, "re", &set, &m.src, NULL), FIN_EBUSY);
    fin_delivery_engine_destroy(e);      /* as if the process died here */

    struct found f;
    lake_list(dir, &f);
    assert_int_equal(f.n, 2);            /* AAA's object and the blocking file */
    char first[512];
    snprintf(first, sizeof first, "%s", f.paths[0]);
    assert_int_equal(strncmp(first, "AAA/re-1-", 9), 0);
    char statepath[700], *stj;
    snprintf(statepath, sizeof statepath, "%s/deliveries/re/state.json", dir);
    assert_int_equal(fin_read_file(statepath, &stj, NULL), 0);
    assert_non_null(strstr(stj, "\"pending\": [\n  {"));
    free(stj);

    /* More records arrive; they must not join the unfinished flush. */
    for (int i = 40; i < 50; i++) {
        bar(rec, sizeof rec, i % 2 ? "ZZZ" : "AAA", i);
        mem_put(&m, i % 2, rec, T0 + i);
    }
    unlink(block);
    assert_int_equal(fin_delivery_engine_create(&e, dir, "re", &set, &m.src, NULL), 0);
    assert_int_equal(fin_delivery_engine_stats(e)->replays, 1);
    assert_int_equal(fin_delivery_engine_stats(e)->records, 40);
    assert_int_equal(fin_delivery_engine_stats(e)->objects, 2);
    lake_list(dir, &f);
    assert_int_equal(f.n, 2);
    assert_string_equal(f.paths[0], first);      /* rewritten in place, not duplicated */
    assert_int_equal(strncmp(f.paths[1], "ZZZ/re-1-", 9), 0);
    assert_int_equal(fin_delivery_engine_pump(e, 0, NULL), 0);
    assert_int_equal(fin_delivery_engine_flush(e), 0);
    fin_delivery_engine_destroy(e);
    lake_list(dir, &f);
    assert_int_equal(f.n, 4);
    size_t total = 0;
    for (int i = 0; i < f.n; i++) {
        size_t len;
        char *d = lake_read(dir, f.paths[i], &len);
        total += count_lines(d, len);
        free(d);
    }
    assert_int_equal(total, 50);
    fin_delivery_settings_fini(&set);
    mem_fini(&m);
    fin_test_rmdir(dir);
}

/* A failed flush in a running engine: nothing new is read until the same flush succeeds. */
static void test_retry_after_failure(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("dlv-retry");
    struct mem_src m;
    mem_init(&m, 2);
    char rec[256];
    for (int i = 0; i < 40; i++) {
        bar(rec, sizeof rec, i % 2 ? "ZZZ" : "AAA", i);
        mem_put(&m, i % 2, rec, T0 + i);
    }
    struct fin_delivery_settings set;
    settings(&set);
    assert_int_equal(fin_opts_set(fin_delivery_opts, &set, "prefix", "!{partitionKeyFromQuery:name}/", "t"), 0);
    char lake[600], block[700];
    snprintf(lake, sizeof lake, "%s/lake", dir);
    snprintf(block, sizeof block, "%s/ZZZ", lake);
    assert_int_equal(fin_mkdir_p(lake, 0755), 0);
    assert_int_equal(fin_write_file_atomic(block, "x", 1), 0);
    struct fin_delivery_engine *e;
    assert_int_equal(fin_delivery_engine_create(&e, dir, "rt", &set, &m.src, NULL), 0);
    assert_int_equal(fin_delivery_engine_pump(e, 0, NULL), 0);
    assert_int_not_equal(fin_delivery_engine_flush(e), 0);
    struct found f;
    lake_list(dir, &f);
    char first[512];
    snprintf(first, sizeof first, "%s", f.paths[0]);
    for (int i = 40; i < 50; i++) {
        bar(rec, sizeof rec, i % 2 ? "ZZZ" : "AAA", i);
        mem_put(&m, i % 2, rec, T0 + i);
    }
    size_t got = 99;
    assert_int_not_equal(fin_delivery_engine_pump(e, 0, &got), 0);
    assert_int_equal(got, 0);
    unlink(block);
    assert_int_equal(fin_delivery_engine_pump(e, 0, &got), 0);
    assert_int_equal(got, 10);
    assert_int_equal(fin_delivery_engine_stats(e)->objects, 2);
    assert_int_equal(fin_delivery_engine_stats(e)->records, 40);
    assert_int_equal(fin_delivery_engine_flush(e), 0);
    fin_delivery_engine_destroy(e);
    lake_list(dir, &f);
    assert_int_equal(f.n, 4);
    assert_true(strcmp(f.paths[0], first) == 0 || strcmp(f.paths[1], first) == 0);
    size_t total = 0;
    for (int i = 0; i < f.n; i++) {
        size_t len;
        char *d = lake_read(dir, f.paths[i], &len);
        total += count_lines(d, len);
        free(d);
    }
    assert_int_equal(total, 50);
    fin_delivery_settings_fini(&set);
    mem_fini(&m);
    fin_test_rmdir(dir);
}

/* Records of real Firehose objects (../shared/data) through delivery: each comes out on its
 * own line (the concatenated fixture had none), in Parquet with the types Glue gave them,
 * and Firehose's own object names have the shape ours have. */
static void feed_fixture(struct mem_src *m, const char *dir, long *count)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (fin_is_dir(path)) {
            feed_fixture(m, path, count);
            continue;
        }
        /* Firehose's name: <stream>-1-YYYY-MM-DD-HH-MM-SS-<8-4-4-4-12> */
        const char *n = de->d_name;
        size_t len = strlen(n);
        assert_true(len > 59);
        const char *tail = n + len - 59;
        static const int dashes[] = {0, 2, 7, 10, 13, 16, 19, 22, 31, 36, 41, 46};
        for (size_t i = 0; i < sizeof dashes / sizeof dashes[0]; i++)
            assert_int_equal(tail[dashes[i]], '-');
        assert_int_equal(tail[1], '1');
        struct fin_json_reader r;
        assert_int_equal(fin_json_reader_open_file(&r, path), 0);
        const char *rec;
        size_t rl;
        int line;
        char buf[1024];
        while (fin_json_reader_next(&r, &rec, &rl, &line) == 0) {
            assert_true(rl < sizeof buf);
            memcpy(buf, rec, rl);
            buf[rl] = '\0';
            mem_put(m, 0, buf, T0);
            (*count)++;
        }
        fin_json_reader_fini(&r);
    }
    closedir(d);
}

static void test_shared_firehose_objects(void **state)
{
    (void)state;
    const char *shared = fin_test_shared_data();
    if (!shared)
        skip();
    static const struct { const char *dir; long records; const char *schema; } fx[] = {
        {"2020-05-14-ndjson-offset", 3844, "high DOUBLE, low DOUBLE, ts VARCHAR, name VARCHAR"},
        {"2020-05-14-ndjson-mixedcase", 3844, "High DOUBLE, Low DOUBLE, Timestamp VARCHAR, Name VARCHAR"},
        {"2021-05-11-concatenated", 780, "high DOUBLE, low DOUBLE, ts VARCHAR, name VARCHAR"},
    };
    for (size_t k = 0; k < 3; k++) {
        char *dir = fin_test_mkdtemp("dlv-shared");
        char objs[1024];
        snprintf(objs, sizeof objs, "%s/firehose/%s/objects", shared, fx[k].dir);
        struct mem_src m;
        mem_init(&m, 1);
        long n = 0;
        feed_fixture(&m, objs, &n);
        assert_int_equal(n, fx[k].records);
        for (int format = 0; format < 2; format++) {
            struct fin_delivery_settings set;
            settings(&set);
            set.format = format ? FIN_FORMAT_PARQUET : FIN_FORMAT_JSON;
            struct fin_delivery_engine *e;
            char name[16];
            snprintf(name, sizeof name, "fx%d", format);
            assert_int_equal(fin_delivery_engine_create(&e, dir, name, &set, &m.src, NULL), 0);
            assert_int_equal(fin_delivery_engine_pump(e, 0, NULL), 0);
            assert_int_equal(fin_delivery_engine_flush(e), 0);
            assert_int_equal(fin_delivery_engine_stats(e)->records, n);
            assert_int_equal(fin_delivery_engine_stats(e)->error_records, 0);
            fin_delivery_engine_destroy(e);
            fin_delivery_settings_fini(&set);
        }
        struct found f;
        lake_list(dir, &f);
        assert_int_equal(f.n, 2);
        size_t len;
        char *d = lake_read(dir, strstr(f.paths[0], "/fx0-") ? f.paths[0] : f.paths[1], &len);
        assert_int_equal(count_lines(d, len), n);
        char *line = d;
        for (long i = 0; i < n; i++) {
            char *nl = strchr(line, '\n');
            assert_int_equal((size_t)(nl - line), m.shards[0].recs[i].len);
            assert_memory_equal(line, m.shards[0].recs[i].data, m.shards[0].recs[i].len);
            line = nl + 1;
        }
        free(d);
        struct fin_parquet_writer *w;
        assert_int_equal(fin_parquet_writer_create(&w, 1), 0);
        char path[2048], *schema;
        uint64_t rows;
        snprintf(path, sizeof path, "%s/lake/%s", dir, strstr(f.paths[0], "/fx1-") ? f.paths[0] : f.paths[1]);
        assert_int_equal(fin_parquet_inspect(w, path, &schema, &rows, NULL), 0);
        assert_string_equal(schema, fx[k].schema);
        assert_int_equal(rows, (uint64_t)n);
        free(schema);
        fin_parquet_writer_destroy(w);
        mem_fini(&m);
        fin_test_rmdir(dir);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scanner),
        cmocka_unit_test(test_prefix),
        cmocka_unit_test(test_prefix_keys),
        cmocka_unit_test(test_partition_query),
        cmocka_unit_test(test_settings_format),
        cmocka_unit_test(test_partition_paths),
        cmocka_unit_test(test_lake_place),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_settings),
        cmocka_unit_test(test_settings_remote),
        cmocka_unit_test(test_buffer_by_size),
        cmocka_unit_test(test_buffer_by_interval),
        cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_gzip_while_filling),
        cmocka_unit_test(test_gzip_retry_after_failure),
        cmocka_unit_test(test_parquet_far_values),
        cmocka_unit_test(test_partitions_and_errors),
        cmocka_unit_test(test_parquet),
        cmocka_unit_test(test_parquet_nulls),
        cmocka_unit_test(test_parquet_partitions),
        cmocka_unit_test(test_replay_unfinished_flush),
        cmocka_unit_test(test_retry_after_failure),
        cmocka_unit_test(test_shared_firehose_objects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
