/* test_catalog.c - the crawler and the catalog: Glue's type widening, framing and format
 * recognition by content, partitions, bad lines, re-crawls, the catalog file and DDL.
 * Every test builds a small lake in a temporary folder and checks what the catalog says. */
#include "fin_test.h"

#include "finstream/catalog.h"
#include "finstream/clock.h"
#include "finstream/error.h"

#include "finstream/buf.h"

#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>
#include <zlib.h>

static void put(const char *root, const char *rel, const char *data, size_t len)
{
    char path[1024], dir[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    assert_int_equal(fin_mkdir_p(dir, 0755), 0);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void put_s(const char *root, const char *rel, const char *text)
{
    put(root, rel, text, strlen(text));
}

static void put_gz(const char *root, const char *rel, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    put(root, rel, "", 0);
    gzFile g = gzopen(path, "wb");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, text, (unsigned)strlen(text)), (int)strlen(text));
    gzclose(g);
}

/* Collects crawler reports. */
struct reports {
    char text[8192];
    int n;
};

static void on_report(void *ctx, const char *msg)
{
    struct reports *r = ctx;
    size_t len = strlen(r->text);
    snprintf(r->text + len, sizeof r->text - len, "%s\n", msg);
    r->n++;
}

static const char *type_of(const struct fin_table *t, const char *col)
{
    const struct fin_column *c = fin_columns_find(&t->columns, col);
    return c ? c->type : "(missing)";
}

static void test_widening(void **state)
{
    (void)state;
    assert_string_equal(fin_type_widen("bigint", "double"), "double");
    assert_string_equal(fin_type_widen("double", "bigint"), "double");
    assert_string_equal(fin_type_widen("int", "bigint"), "bigint");
    assert_string_equal(fin_type_widen("bigint", "string"), "string");
    assert_string_equal(fin_type_widen("boolean", "bigint"), "string");
    assert_string_equal(fin_type_widen("null", "double"), "double");
    assert_string_equal(fin_type_widen("string", "null"), "string");
    assert_string_equal(fin_type_widen("double", "double"), "double");

    struct fin_columns c = {0};
    assert_int_equal(fin_columns_merge(&c, "High", "bigint"), 0);
    assert_int_equal(fin_columns_merge(&c, "high", "double"), 0);
    assert_int_equal(fin_columns_merge(&c, "Name", "string"), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.v[0].name, "high");
    assert_string_equal(c.v[0].source, "High");
    assert_string_equal(c.v[0].type, "double");
    fin_columns_fini(&c);

    char name[64];
    fin_catalog_table_name("Stock-Data 2020", name, sizeof name);
    assert_string_equal(name, "stock_data_2020");
}

/* Fixed time for created/updated. */
static struct fin_fake_clock fake;

static struct fin_crawl_opts opts_with(struct reports *r, const char *table)
{
    fin_fake_clock_init(&fake, 1589463000LL * FIN_NS_PER_SEC);
    struct fin_crawl_opts o = {.table = table, .sample = 0, .report = on_report, .report_all = true,
                               .report_ctx = r, .clock = &fake.clock};
    return o;
}

static void test_framings_and_partitions(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("crawl");
    char lake[512];
    snprintf(lake, sizeof lake, "%s/lake", dir);
    /* one object per framing, under Firehose's YYYY/MM/DD/HH folders */
    put_s(lake, "2020/05/14/13/lines-crlf",
          "{\"Name\":\"FB\",\"High\":202.83,\"ts\":\"2020-05-14 09:30:00-04:00\"}\r\n"
          "{\"Name\":\"FB\",\"High\":203,\"ts\":\"2020-05-14 09:31:00-04:00\"}");
    put_s(lake, "2020/05/14/14/concatenated",
          "{\"name\":\"SQ\",\"high\":80.5,\"volume\":100}{\"name\":\"SQ\",\"high\":NaN}");
    put_s(lake, "2020/05/14/15/array", "[{\"name\":\"TTD\",\"high\":1},\n{\"name\":\"TTD\"}]");
    put_gz(lake, "2020/05/14/16/gzipped-no-suffix", "{\"name\":\"PINS\",\"high\":20.1}\n");
    put_s(lake, "2020/05/14/13/.hidden-temp", "garbage");

    struct fin_catalog *cat;
    struct reports r = {{0}, 0};
    struct fin_crawl_opts o = opts_with(&r, "stocks");
    struct fin_crawl_stats st;
    assert_int_equal(fin_catalog_open(&cat, dir), 0);
    assert_int_equal(fin_crawl(cat, lake, &o, &st), 0);
    assert_int_equal(fin_catalog_table_count(cat), 1);
    const struct fin_table *t = fin_catalog_find(cat, "finance.stocks");
    assert_non_null(t);
    assert_string_equal(t->classification, "json");
    assert_string_equal(t->framing, "mixed");
    assert_string_equal(t->compression, "mixed");
    assert_string_equal(t->created, "2020-05-14T13:30:00Z");
    assert_int_equal(t->columns.n, 4);
    assert_string_equal(type_of(t, "name"), "string");
    assert_string_equal(type_of(t, "high"), "double");   /* 202.83 + 203 + NaN + 1 */
    assert_string_equal(type_of(t, "ts"), "string");     /* time-like strings stay strings */
    assert_string_equal(type_of(t, "volume"), "bigint");
    assert_string_equal(fin_columns_find(&t->columns, "high")->source, "High");
    assert_int_equal(t->partition_keys.n, 4);
    assert_string_equal(t->partition_keys.v[0].name, "partition_0");
    assert_string_equal(t->partition_keys.v[3].name, "partition_3");
    assert_int_equal(t->npartitions, 4);
    assert_string_equal(t->partitions[0].values[0], "2020");
    assert_string_equal(t->partitions[0].values[3], "13");
    assert_string_equal(t->partitions[3].path, "2020/05/14/16");
    assert_int_equal(t->nobjects, 4);
    assert_int_equal(st.records_sampled, 7);
    assert_int_equal(st.bad_records, 0);
    assert_int_equal(r.n, 0);
    fin_catalog_close(cat);
    fin_test_rmdir(dir);
}

static void test_bad_lines_are_counted(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("crawl");
    char lake[512];
    snprintf(lake, sizeof lake, "%s/ticks", dir);
    put_s(lake, "obj1", "{\"a\":1}\nthis is not json\n{\"a\":2}\n[1,2]\n{\"a\":3}\n");
    put_s(lake, "obj2", "{\"a\":4, \"b\":");   /* never closes */
    struct fin_catalog *cat;
    struct reports r = {{0}, 0};
    struct fin_crawl_opts o = opts_with(&r, NULL);
    struct fin_crawl_stats st;
    assert_int_equal(fin_catalog_open(&cat, dir), 0);
    assert_int_equal(fin_crawl(cat, lake, &o, &st), 0);
    const struct fin_table *t = fin_catalog_find(cat, "ticks");   /* named after the folder */
    assert_non_null(t);
    assert_int_equal(st.records_sampled, 3);
    assert_int_equal(st.bad_records, 3);
    assert_int_equal(t->bad_records, 3);
    assert_int_equal(r.n, 3);
    assert_non_null(strstr(r.text, "/ticks/obj1:2: record is not a JSON object"));
    assert_non_null(strstr(r.text, "/ticks/obj1:4: record is not a JSON object"));
    assert_non_null(strstr(r.text, "/ticks/obj2"));
    assert_string_equal(type_of(t, "a"), "bigint");
    fin_catalog_close(cat);
    fin_test_rmdir(dir);
}

static void test_csv_named_partitions_and_tables_by_prefix(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("crawl");
    char lake[512];
    snprintf(lake, sizeof lake, "%s/bucket", dir);
    put_s(lake, "quotes/name=FB/dt=2020-05-14/part-0",
          "Sym,Price,Volume,Open\nFB,\"202.5\",100,true\n\"S,Q\",80,NaN,false\n");
    put_s(lake, "quotes/name=SQ/dt=2020-05-14/part-0", "Sym,Price,Volume,Open\nSQ,81,7,x\n");
    put_s(lake, "trades/t1", "{\"px\":1}\n");
    struct fin_catalog *cat;
    struct reports r = {{0}, 0};
    struct fin_crawl_opts o = opts_with(&r, NULL);
    o.database = "markets";
    assert_int_equal(fin_catalog_open(&cat, dir), 0);
    assert_int_equal(fin_crawl(cat, lake, &o, NULL), 0);
    assert_int_equal(fin_catalog_table_count(cat), 2);
    const struct fin_table *q = fin_catalog_find(cat, "markets.quotes");
    assert_non_null(q);
    assert_non_null(fin_catalog_find(cat, "MARKETS.Trades"));
    assert_null(fin_catalog_find(cat, "quotes"));   /* not in the default database */
    assert_string_equal(q->classification, "csv");
    assert_string_equal(type_of(q, "sym"), "string");
    assert_string_equal(type_of(q, "price"), "double");
    assert_string_equal(type_of(q, "volume"), "bigint");
    assert_string_equal(type_of(q, "open"), "string");   /* boolean + string */
    assert_int_equal(q->partition_keys.n, 2);
    assert_string_equal(q->partition_keys.v[0].name, "name");
    assert_string_equal(q->partition_keys.v[1].name, "dt");
    assert_int_equal(q->npartitions, 2);
    assert_string_equal(q->partitions[1].values[0], "SQ");
    assert_string_equal(q->partitions[1].values[1], "2020-05-14");
    char *ddl;
    assert_int_equal(fin_catalog_ddl(q, "s3://my-bucket/quotes", &ddl), 0);
    assert_non_null(strstr(ddl, "CREATE EXTERNAL TABLE `markets`.`quotes` ("));
    assert_non_null(strstr(ddl, "PARTITIONED BY (\n  `name` string,\n  `dt` string\n)"));
    assert_non_null(strstr(ddl, "LOCATION 's3://my-bucket/quotes/'"));
    assert_non_null(strstr(ddl, "'skip.header.line.count' = '1'"));
    free(ddl);
    fin_catalog_close(cat);
    fin_test_rmdir(dir);
}

static void test_recrawl_adds_and_keeps(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("crawl");
    char lake[512];
    snprintf(lake, sizeof lake, "%s/lake", dir);
    put_s(lake, "2020/05/14/13/a", "{\"name\":\"FB\",\"high\":1}\n");
    struct fin_catalog *cat;
    struct reports r = {{0}, 0};
    struct fin_crawl_opts o = opts_with(&r, "stocks");
    struct fin_crawl_stats st;
    assert_int_equal(fin_catalog_open(&cat, dir), 0);
    assert_int_equal(fin_crawl(cat, lake, &o, &st), 0);
    assert_int_equal(fin_catalog_save(cat), 0);
    fin_catalog_close(cat);

    /* a new hour with a new column and a wider type; the old object is not re-read */
    put_s(lake, "2020/05/14/14/b", "{\"name\":\"FB\",\"high\":1.5,\"low\":1.25}\n");
    fin_fake_clock_advance(&fake, 3600 * FIN_NS_PER_SEC);
    assert_int_equal(fin_catalog_open(&cat, dir), 0);
    assert_int_equal(fin_crawl(cat, lake, &o, &st), 0);
    assert_int_equal(st.objects_seen, 2);
    assert_int_equal(st.objects_sampled, 1);
    assert_int_equal(st.partitions_added, 1);
    assert_int_equal(st.columns_added, 1);
    assert_int_equal(st.tables_updated, 1);
    assert_int_equal(fin_catalog_save(cat), 0);
    fin_catalog_close(cat);

    /* an object whose record lacks columns does not drop them */
    put_s(lake, "2020/05/14/15/c", "{\"name\":\"SQ\"}\n");
    assert_int_equal(fin_catalog_open(&cat, dir), 0);
    assert_int_equal(fin_crawl(cat, lake, &o, &st), 0);
    assert_int_equal(fin_catalog_save(cat), 0);
    fin_catalog_close(cat);

    assert_int_equal(fin_catalog_open(&cat, dir), 0);   /* what the file says */
    const struct fin_table *t = fin_catalog_find(cat, "stocks");
    assert_non_null(t);
    assert_int_equal(t->columns.n, 3);
    assert_string_equal(type_of(t, "high"), "double");
    assert_string_equal(type_of(t, "low"), "double");
    assert_int_equal(t->npartitions, 3);
    assert_int_equal(t->nobjects, 3);
    assert_string_equal(t->created, "2020-05-14T13:30:00Z");
    assert_string_equal(t->updated, "2020-05-14T14:30:00Z");
    fin_catalog_close(cat);
    fin_test_rmdir(dir);
}

static void test_corrupt_catalog_file(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("crawl");
    put_s(dir, "catalog/catalog.json", "{\"tables\": [{\"database\": \"finance\"}]}");
    struct fin_catalog *cat = NULL;
    assert_int_equal(fin_catalog_open(&cat, dir), FIN_ECORRUPT);
    assert_null(cat);
    assert_non_null(strstr(fin_err_msg(), "catalog.json: table 0: missing or non-string \"name\""));
    put_s(dir, "catalog/catalog.json", "{\"tables\": [");
    assert_int_equal(fin_catalog_open(&cat, dir), FIN_ECORRUPT);
    assert_non_null(strstr(fin_err_msg(), "catalog.json:1:"));
    fin_catalog_close(NULL);
    fin_test_rmdir(dir);
}

static void test_depth_mismatch_and_empty(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("crawl");
    char lake[512];
    snprintf(lake, sizeof lake, "%s/lake", dir);
    put_s(lake, "2020/05/14/13/a", "{\"x\":1}\n");
    put_s(lake, "2020/05/14/14/b", "{\"x\":2}\n");
    put_s(lake, "2020/stray", "{\"x\":3}\n");
    put_s(lake, "2020/05/14/15/empty", "");
    struct fin_catalog *cat;
    struct reports r = {{0}, 0};
    struct fin_crawl_opts o = opts_with(&r, "stocks");
    struct fin_crawl_stats st;
    assert_int_equal(fin_catalog_open(&cat, dir), 0);
    assert_int_equal(fin_crawl(cat, lake, &o, &st), 0);
    assert_int_equal(st.objects_skipped, 1);
    assert_non_null(strstr(r.text, "2020/stray: skipped"));
    const struct fin_table *t = fin_catalog_find(cat, "stocks");
    assert_int_equal(t->npartitions, 3);
    assert_string_equal(t->framing, "lines");
    assert_int_equal(fin_crawl(cat, "/nonexistent/lake", &o, &st), FIN_ENOENT);
    fin_catalog_close(cat);
    fin_test_rmdir(dir);
}

/* The real Firehose objects (../shared/data): each folder catalogs as Glue did. */
static void test_shared_firehose_folders(void **state)
{
    (void)state;
    const char *shared = fin_test_shared_data();
    if (!shared)
        skip();
    char *dir = fin_test_mkdtemp("crawl");
    struct {
        const char *folder, *table, *framing, *time_col;
        size_t partitions;
        int64_t records;
    } cases[] = {
        {"2020-05-14-ndjson-offset", "offset", "lines", "ts", 0, 3844},
        {"2020-05-14-ndjson-mixedcase", "mixedcase", "lines", "timestamp", 0, 3844},
        {"2021-05-11-concatenated", "concatenated", "concatenated", "ts", 1, 780},
    };
    struct fin_catalog *cat;
    assert_int_equal(fin_catalog_open(&cat, dir), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char loc[1024];
        snprintf(loc, sizeof loc, "%s/firehose/%s/objects", shared, cases[i].folder);
        struct reports r = {{0}, 0};
        struct fin_crawl_opts o = opts_with(&r, cases[i].table);
        struct fin_crawl_stats st;
        assert_int_equal(fin_crawl(cat, loc, &o, &st), 0);
        const struct fin_table *t = fin_catalog_find(cat, cases[i].table);
        assert_non_null(t);
        assert_string_equal(t->framing, cases[i].framing);
        assert_int_equal(t->npartitions, cases[i].partitions);
        assert_int_equal(st.records_sampled, cases[i].records);
        assert_int_equal(st.bad_records, 0);
        assert_int_equal(t->columns.n, 4);
        assert_string_equal(type_of(t, "high"), "double");
        assert_string_equal(type_of(t, "low"), "double");
        assert_string_equal(type_of(t, "name"), "string");
        assert_string_equal(type_of(t, cases[i].time_col), "string");
    }
    fin_catalog_close(cat);
    fin_test_rmdir(dir);
}


/* Keys that differ only in case are one column (OpenX matches them case-insensitively),
 * with every spelling kept for the query; a UTF-8 byte-order mark is read; UTF-16 objects
 * are damaged, reported once with their count. */
static void test_key_case_and_byte_order_marks(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("crawl");
    char lake[512];
    snprintf(lake, sizeof lake, "%s/lake", dir);
    put_s(lake, "a", "{\"Name\":\"FB\",\"High\":202.83}\n");
    put_s(lake, "b", "{\"name\":\"SQ\",\"high\":80}\n{\"NAME\":\"SQ\",\"high\":81}\n");
    put_s(lake, "c", "\xEF\xBB\xBF{\"name\":\"TTD\",\"HIGH\":300.5,\"low\":299}\n");
    static const char u16[] = "\xFF\xFE{\0\"\0a\0\"\0:\0""1\0}\0\n\0";
    put(lake, "d", u16, sizeof u16 - 1);
    put(lake, "e", u16, sizeof u16 - 1);
    struct fin_catalog *cat;
    struct reports r = {{0}, 0};
    struct fin_crawl_opts o = opts_with(&r, "stocks");
    o.report_all = false;
    struct fin_crawl_stats st;
    assert_int_equal(fin_catalog_open(&cat, dir), 0);
    assert_int_equal(fin_crawl(cat, lake, &o, &st), 0);
    assert_int_equal(st.objects_damaged, 2);
    assert_int_equal(r.n, 1);   /* one summary line for both UTF-16 objects */
    assert_non_null(strstr(r.text, "finance.stocks: 2 objects are UTF-16 text"));
    assert_non_null(strstr(r.text, "/lake/d: UTF-16 text"));
    const struct fin_table *t = fin_catalog_find(cat, "stocks");
    assert_non_null(t);
    assert_int_equal(t->columns.n, 3);
    const struct fin_column *hi = fin_columns_find(&t->columns, "high");
    assert_string_equal(hi->source, "High");
    assert_string_equal(hi->type, "double");
    assert_int_equal(hi->naliases, 2);
    assert_string_equal(hi->aliases[0], "high");
    assert_string_equal(hi->aliases[1], "HIGH");
    assert_int_equal(fin_columns_find(&t->columns, "name")->naliases, 2);
    assert_string_equal(type_of(t, "low"), "bigint");
    assert_int_equal(st.records_sampled, 4);
    assert_int_equal(t->nobjects, 5);
    assert_null(t->objects[2].damage);
    assert_non_null(strstr(t->objects[3].damage, "UTF-16"));
    /* aliases and damage survive the catalog file */
    assert_int_equal(fin_catalog_save(cat), 0);
    fin_catalog_close(cat);
    assert_int_equal(fin_catalog_open(&cat, dir), 0);
    t = fin_catalog_find(cat, "stocks");
    hi = fin_columns_find(&t->columns, "high");
    assert_int_equal(hi->naliases, 2);
    assert_string_equal(hi->aliases[1], "HIGH");
    assert_non_null(strstr(t->objects[4].damage, "UTF-16"));
    fin_catalog_close(cat);
    fin_test_rmdir(dir);
}

/* A gzip object cut short is damaged: reported by name, kept in the catalog as such (so
 * queries refuse the table), and not read again while it is unchanged. */
static void test_truncated_gzip_is_damaged(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("crawl");
    char lake[512], path[600];
    snprintf(lake, sizeof lake, "%s/lake", dir);
    struct fin_buf text;
    fin_buf_init(&text);
    for (int i = 0; i < 7800; i++)
        assert_int_equal(fin_buf_printf(&text, "{\"name\":\"FB\",\"high\":%d.5}\n", i), 0);
    put_gz(lake, "2020/05/14/13/good", fin_buf_cstr(&text));
    put_gz(lake, "2020/05/14/13/cut", fin_buf_cstr(&text));
    fin_buf_fini(&text);
    snprintf(path, sizeof path, "%s/2020/05/14/13/cut", lake);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(truncate(path, sb.st_size / 2), 0);
    struct fin_catalog *cat;
    struct reports r = {{0}, 0};
    struct fin_crawl_opts o = opts_with(&r, "stocks");
    o.sample = -1;   /* the default sample: the damage is past it, and still found */
    struct fin_crawl_stats st;
    assert_int_equal(fin_catalog_open(&cat, dir), 0);
    assert_int_equal(fin_crawl(cat, lake, &o, &st), 0);
    assert_int_equal(st.objects_damaged, 1);
    assert_int_equal(st.objects_skipped, 1);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.text, "/2020/05/14/13/cut: damaged object, not read: gzip data is "
                                   "truncated"));
    const struct fin_table *t = fin_catalog_find(cat, "stocks");
    assert_int_equal(t->nobjects, 2);
    assert_string_equal(t->objects[0].key, "2020/05/14/13/cut");
    assert_non_null(strstr(t->objects[0].damage, "truncated"));
    assert_null(t->objects[1].damage);
    assert_string_equal(type_of(t, "high"), "double");
    assert_int_equal(fin_catalog_save(cat), 0);
    fin_catalog_close(cat);
    /* unchanged: not read again, still damaged */
    r = (struct reports){{0}, 0};
    assert_int_equal(fin_catalog_open(&cat, dir), 0);
    assert_int_equal(fin_crawl(cat, lake, &o, &st), 0);
    assert_int_equal(st.objects_sampled, 0);
    assert_int_equal(st.objects_damaged, 1);
    t = fin_catalog_find(cat, "stocks");
    assert_non_null(t->objects[0].damage);
    /* replaced by a sound object: no longer damaged */
    put_gz(lake, "2020/05/14/13/cut", "{\"name\":\"FB\",\"high\":1.5}\n");
    struct utimbuf ut = {sb.st_mtime + 10, sb.st_mtime + 10};
    utime(path, &ut);
    assert_int_equal(fin_crawl(cat, lake, &o, &st), 0);
    assert_int_equal(st.objects_damaged, 0);
    assert_null(fin_catalog_find(cat, "stocks")->objects[0].damage);
    fin_catalog_close(cat);
    fin_test_rmdir(dir);
}

/* Problems are summarised per table and kind unless every one is asked for; many objects
 * sampled on several threads give the same catalog as one thread. */
static void test_summaries_and_workers(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("crawl");
    char lake[512];
    snprintf(lake, sizeof lake, "%s/ticks", dir);
    for (int i = 0; i < 40; i++) {
        char rel[64], rec[256];
        snprintf(rel, sizeof rel, "2020/05/14/%02d/obj-%02d", i % 4, i);
        snprintf(rec, sizeof rec, "{\"n\":%d,\"x%d\":true}\nnot json\n{\"n\":%d.5,\"s\":\"a\\\"b\"}\n",
                 i, i, i);
        put_s(lake, rel, rec);
    }
    struct fin_crawl_stats st1, st2;
    struct fin_catalog *c1, *c2;
    char d1[600], d2[600];
    snprintf(d1, sizeof d1, "%s/one", dir);
    snprintf(d2, sizeof d2, "%s/four", dir);
    struct reports r1 = {{0}, 0}, r2 = {{0}, 0};
    struct fin_crawl_opts o1 = opts_with(&r1, NULL), o2 = opts_with(&r2, NULL);
    o1.workers = 1;
    o2.workers = 4;
    o2.report_all = false;
    assert_int_equal(fin_catalog_open(&c1, d1), 0);
    assert_int_equal(fin_catalog_open(&c2, d2), 0);
    assert_int_equal(fin_crawl(c1, lake, &o1, &st1), 0);
    assert_int_equal(fin_crawl(c2, lake, &o2, &st2), 0);
    assert_int_equal(r1.n, 40);
    assert_int_equal(r2.n, 1);
    assert_non_null(strstr(r2.text, "finance.ticks: 40 records could not be read"));
    assert_non_null(strstr(r2.text, "the first: "));
    assert_non_null(strstr(r2.text, "/ticks/2020/05/14/00/obj-00:2: record is not a JSON object"));
    assert_int_equal(st1.records_sampled, 80);
    assert_int_equal(st2.records_sampled, 80);
    assert_int_equal(st2.bad_records, 40);
    const struct fin_table *t1 = fin_catalog_find(c1, "ticks"), *t2 = fin_catalog_find(c2, "ticks");
    assert_int_equal(t1->columns.n, 42);
    assert_int_equal(t2->columns.n, 42);
    for (size_t i = 0; i < t1->columns.n; i++) {
        assert_string_equal(t1->columns.v[i].name, t2->columns.v[i].name);
        assert_string_equal(t1->columns.v[i].type, t2->columns.v[i].type);
    }
    assert_string_equal(type_of(t2, "n"), "double");
    assert_string_equal(type_of(t2, "x7"), "boolean");
    assert_string_equal(type_of(t2, "s"), "string");
    fin_catalog_close(c1);
    fin_catalog_close(c2);
    fin_test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_widening),
        cmocka_unit_test(test_key_case_and_byte_order_marks),
        cmocka_unit_test(test_truncated_gzip_is_damaged),
        cmocka_unit_test(test_summaries_and_workers),
        cmocka_unit_test(test_framings_and_partitions),
        cmocka_unit_test(test_bad_lines_are_counted),
        cmocka_unit_test(test_csv_named_partitions_and_tables_by_prefix),
        cmocka_unit_test(test_recrawl_adds_and_keeps),
        cmocka_unit_test(test_corrupt_catalog_file),
        cmocka_unit_test(test_depth_mismatch_and_empty),
        cmocka_unit_test(test_shared_firehose_folders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
