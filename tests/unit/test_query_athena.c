/* test_query_athena.c - SQL as Athena users write it: Trino's lexical rules (implicit
 * aliases that are keywords to DuckDB), Athena's function spellings, scripts of several
 * statements, unqualified table names, the catalog statements (each round-tripped
 * against the catalog file), and result values in Athena's CSV and nested JSON forms. */
#include "fin_test.h"

#include "finstream/catalog.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/query.h"

#include <stdio.h>
#include <stdlib.h>

static struct fin_query *q;
static char *dir;

static int setup(void **state)
{
    (void)state;
    dir = fin_test_mkdtemp("query_athena");
    return fin_query_open(&q, dir);
}

static int teardown(void **state)
{
    (void)state;
    fin_query_close(q);
    fin_test_rmdir(dir);
    return 0;
}

static struct fin_result *run(const char *sql)
{
    struct fin_result *r = NULL;
    if (fin_query_exec(q, sql, &r))
        fail_msg("%s: %s", sql, fin_err_msg());
    return r;
}

/* Runs sql; checks the first value and the name of the first column. */
static void expect(const char *sql, const char *name, const char *value)
{
    struct fin_result *r = run(sql);
    assert_true(fin_result_rows(r) >= 1);
    if (value && strcmp(fin_result_text(r, 0, 0), value) != 0)
        fail_msg("%s: expected [%s], got [%s]", sql, value, fin_result_text(r, 0, 0));
    if (name && strcmp(fin_result_column_name(r, 0), name) != 0)
        fail_msg("%s: expected column [%s], got [%s]", sql, name, fin_result_column_name(r, 0));
    fin_result_destroy(r);
}

static void expect_error(const char *sql, const char *text)
{
    struct fin_result *r = NULL;
    assert_int_not_equal(fin_query_exec(q, sql, &r), 0);
    assert_null(r);
    if (!strstr(fin_err_msg(), text))
        fail_msg("%s: expected an error with [%s], got [%s]", sql, text, fin_err_msg());
}

/* The whole result as CSV (or JSON lines). */
static char *as(const struct fin_result *r, enum fin_result_format f)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    assert_non_null(m);
    assert_int_equal(fin_result_write(r, f, m), 0);
    fclose(m);
    return text;
}

static void expect_csv(const char *sql, const char *csv)
{
    struct fin_result *r = run(sql);
    char *got = as(r, FIN_RESULT_CSV);
    if (strcmp(got, csv) != 0)
        fail_msg("%s:\nexpected [%s]\ngot      [%s]", sql, csv, got);
    free(got);
    fin_result_destroy(r);
}

static void test_implicit_aliases(void **state)
{
    (void)state;
    /* Trino reserves few words; every other one is an alias, with or without AS */
    static const char *const words[] = {"hour", "day", "date", "minute", "year", "timestamp",
                                        "time", "second", "month", "name", "value", "position",
                                        "filter", "high", "offset", "limit", "window", "desc"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT max(x) %s FROM (VALUES (1), (2)) t(x)", words[i]);
        expect(sql, words[i], "2");
        snprintf(sql, sizeof sql, "SELECT max(x) AS %s FROM (VALUES (1), (2)) t(x)", words[i]);
        expect(sql, words[i], "2");
    }
    expect("SELECT hour(cast('2020-05-14 09:30:00' as timestamp)) hour", "hour", "9");
    expect("SELECT extract(hour from TIMESTAMP '2020-05-14 09:30:00') hour, 1 day", "hour", "9");
    expect("SELECT substr('2020-05-14 09:30:00-04:00', 12, 2) hour", "hour", "09");
    /* in subqueries, and used by the outer query */
    expect("SELECT hour FROM (SELECT substr(ts, 12, 2) hour FROM (VALUES ('2020-05-14 09:30')) t(ts))",
           "hour", "09");
    expect("SELECT count(*) n FROM (SELECT x timestamp, x + 1 time FROM (VALUES (1)) t(x)) "
           "WHERE timestamp = 1 AND time = 2", "n", "1");
    /* a unit, a cast type, an extract field are not aliases */
    expect("SELECT INTERVAL '1' HOUR AS i", "i", "0 01:00:00.000");
    expect("SELECT INTERVAL '1' HOUR, 2 AS two", NULL, "0 01:00:00.000");
    expect("SELECT x FROM (SELECT 1 AS x) a CROSS JOIN LATERAL (SELECT a.x + 1 AS y) b", "x", "1");
    expect("SELECT CAST('2020-05-14' AS date) day", "day", "2020-05-14");
    expect("SELECT x FROM (VALUES (1), (2)) t(x) ORDER BY x desc LIMIT 1", "x", "2");
    /* strings, comments and quoted names are left as they are */
    expect("SELECT 'max(x) hour' -- hour\n AS s", "s", "max(x) hour");
    expect("SELECT 1 \"Hour\"", "Hour", "1");
    /* a word DuckDB reserves used as a table or column name */
    expect("SELECT offset FROM (SELECT 5 AS \"offset\") AS offset", "offset", "5");
}

static void test_athena_functions(void **state)
{
    (void)state;
    expect("SELECT date_add('hour', -4, CAST('2020-05-14 13:30:00' AS timestamp)) t", "t",
           "2020-05-14 09:30:00.000");
    expect("SELECT CAST('2020-05-14 09:30:00-04:00' AS timestamp) t", "t", "2020-05-14 13:30:00.000");
    expect("SELECT from_iso8601_timestamp('2020-05-14T09:30:00-04:00') t", "t",
           "2020-05-14 13:30:00.000 UTC");
    expect("SELECT date_format(date_parse('05/14/2020 09:39', '%m/%d/%Y %H:%i'), '%Y-%m-%d %H:%i:%s') t",
           "t", "2020-05-14 09:39:00");
    expect("SELECT substr(CAST('2020-05-14 09:30:00' AS timestamp), 12, 2) h", "h", "09");
    expect("SELECT approx_percentile(x, 0.5) p FROM range(101) t(x)", "p", "50");
    expect("SELECT arbitrary(x) a FROM (VALUES (7)) t(x)", "a", "7");
    expect("SELECT element_at(ARRAY[10, 20, 30], 2) e", "e", "20");
    expect("SELECT element_at(ARRAY[10, 20, 30], -1) e", "e", "30");
    expect("SELECT element_at(MAP(ARRAY['a'], ARRAY[1]), 'a') e", "e", "1");
    expect("SELECT element_at(MAP(ARRAY['a'], ARRAY[1]), 'b') IS NULL e", "e", "true");
    expect("SELECT regexp_like('FB', '^F') r", "r", "true");
    expect("SELECT split_part('2020-05-14 09:30', ' ', 2) s", "s", "09:30");
    expect("SELECT try_cast('x' AS integer) IS NULL t", "t", "true");
    expect("SELECT try_cast('2020-05-14 09:30:00-04:00' AS timestamp) t", "t",
           "2020-05-14 13:30:00.000");
}

static void test_scripts(void **state)
{
    (void)state;
    char **v = NULL;
    size_t n = 0;
    assert_int_equal(fin_query_split("SELECT 1; SELECT ';' -- ;\n; /* ; */ SELECT \"a;b\";;", &v,
                                     &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(v[0], "SELECT 1");
    assert_string_equal(v[1], "SELECT ';'");
    assert_string_equal(v[2], "SELECT \"a;b\"");
    fin_query_statements_free(v, n);
    assert_int_equal(fin_query_split("SELECT 'open", &v, &n), FIN_ESQL);
    assert_true(fin_query_complete("SELECT 1;"));
    assert_true(fin_query_complete("SELECT 1;  -- done\n"));
    assert_false(fin_query_complete("SELECT ';'"));
    assert_false(fin_query_complete("SELECT 1 /* ; */"));
    assert_false(fin_query_complete("SELECT 'a;"));
    /* one statement at a time through fin_query_exec */
    expect_error("SELECT 1; SELECT 2", "2 statements");
}

static void test_output_forms(void **state)
{
    (void)state;
    const char *sql =
        "SELECT ARRAY[1, 2] a, MAP(ARRAY['a', 'b'], ARRAY[1, 2]) m, "
        "CAST(ROW(1, 'q') AS ROW(k INTEGER, v VARCHAR)) r, INTERVAL '1' DAY i, "
        "INTERVAL '14' MONTH ym, '\\x01\\xFFab'::BLOB b, "
        "170141183460469231731687303715884105727::HUGEINT h, "
        "-170141183460469231731687303715884105727::HUGEINT nh, "
        "CAST('12345678901234567890.123456789' AS DECIMAL(38,9)) d, [[1.5, NULL]] nested, "
        "NULL::INTEGER[] n, ['a\"b', 'c'] s, TIME '10:11:12.5' t";
    struct fin_result *r = run(sql);
    char *csv = as(r, FIN_RESULT_CSV), *json = as(r, FIN_RESULT_JSON);
    assert_string_equal(csv,
                        "\"a\",\"m\",\"r\",\"i\",\"ym\",\"b\",\"h\",\"nh\",\"d\",\"nested\",\"n\",\"s\",\"t\"\n"
                        "\"[1, 2]\",\"{a=1, b=2}\",\"{k=1, v=q}\",\"1 00:00:00.000\",\"1-2\","
                        "\"01 ff 61 62\",\"170141183460469231731687303715884105727\","
                        "\"-170141183460469231731687303715884105727\","
                        "\"12345678901234567890.123456789\",\"[[1.5, null]]\",,\"[a\"\"b, c]\","
                        "\"10:11:12.500\"\n");
    assert_string_equal(json,
                        "{\"a\":[1,2],\"m\":{\"a\":1,\"b\":2},\"r\":{\"k\":1,\"v\":\"q\"},"
                        "\"i\":\"1 00:00:00.000\",\"ym\":\"1-2\",\"b\":\"01 ff 61 62\","
                        "\"h\":170141183460469231731687303715884105727,"
                        "\"nh\":-170141183460469231731687303715884105727,"
                        "\"d\":12345678901234567890.123456789,\"nested\":[[1.5,null]],\"n\":null,"
                        "\"s\":[\"a\\\"b\",\"c\"],\"t\":\"10:11:12.500\"}\n");
    assert_int_equal(fin_result_column_type(r, 0), FIN_TYPE_ARRAY);
    assert_int_equal(fin_result_column_type(r, 1), FIN_TYPE_MAP);
    assert_int_equal(fin_result_column_type(r, 2), FIN_TYPE_ROW);
    free(csv);
    free(json);
    fin_result_destroy(r);
    /* a terminal table cut to its width */
    r = run("SELECT repeat('x', 100) a, 1 b, 2 c");
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    assert_int_equal(fin_result_write_table(r, 30, m), 0);
    fclose(m);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        size_t w = 0;
        for (char *p = line; *p; p++)
            w += ((unsigned char)*p & 0xC0) != 0x80;
        if (w > 30)
            fail_msg("line wider than 30: [%s]", line);
    }
    fin_result_destroy(r);
    free(text);
}

static void put_s(const char *root, const char *rel, const char *text)
{
    char path[1024], d[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    snprintf(d, sizeof d, "%s", path);
    *strrchr(d, '/') = '\0';
    assert_int_equal(fin_mkdir_p(d, 0755), 0);
    assert_int_equal(fin_write_file_atomic(path, text, strlen(text)), 0);
}

/* The table as the catalog file has it (after the statement saved it). */
static struct fin_table *catalog_table(struct fin_catalog **cat, const char *name)
{
    assert_int_equal(fin_catalog_open(cat, dir), 0);
    return fin_catalog_find(*cat, name);
}

static void test_catalog_statements(void **state)
{
    (void)state;
    char lake[512], ddl[2048];
    snprintf(lake, sizeof lake, "%s/lake/bars", dir);
    put_s(lake, "dt=2020-05-14/a", "{\"Name\":\"FB\",\"High\":202.83,\"ts\":\"2020-05-14 09:30:00-04:00\"}\n");
    put_s(lake, "dt=2020-05-15/b", "{\"Name\":\"SQ\",\"High\":80.5,\"ts\":\"2020-05-15 09:30:00-04:00\"}\n");
    put_s(lake, "dt=2020-05-15/_SUCCESS", "");

    /* CREATE EXTERNAL TABLE as users paste it from Athena; s3:// maps into the lake */
    snprintf(ddl, sizeof ddl,
             "CREATE EXTERNAL TABLE IF NOT EXISTS `finance`.`bars` (\n"
             "  `name` string COMMENT 'ticker',\n  `high` double,\n  `ts` string\n)\n"
             "PARTITIONED BY (`dt` string)\n"
             "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'\n"
             "WITH SERDEPROPERTIES ('mapping.name' = 'Name', 'mapping.high' = 'High')\n"
             "LOCATION 's3://my-bucket/bars/'\n"
             "TBLPROPERTIES ('classification' = 'json')");
    struct fin_result *r = run(ddl);
    assert_int_equal(fin_result_columns(r), 0);
    fin_result_destroy(r);
    struct fin_catalog *cat;
    struct fin_table *t = catalog_table(&cat, "finance.bars");
    assert_non_null(t);
    assert_string_equal(t->classification, "json");
    assert_string_equal(t->location, lake);
    assert_int_equal(t->columns.n, 3);
    assert_string_equal(t->columns.v[0].source, "Name");
    assert_string_equal(t->partition_keys.v[0].name, "dt");
    assert_int_equal(t->npartitions, 0);
    fin_catalog_close(cat);

    /* Athena reads registered partitions only: MSCK REPAIR TABLE registers them */
    expect("SELECT count(*) n FROM bars", "n", "0");
    expect_csv("SHOW PARTITIONS bars", "\"partition\"\n");
    expect_csv("MSCK REPAIR TABLE bars",
               "\"result\"\n\"Repair: Added partition to metastore finance.bars:dt=2020-05-14\"\n"
               "\"Repair: Added partition to metastore finance.bars:dt=2020-05-15\"\n");
    t = catalog_table(&cat, "finance.bars");
    assert_int_equal(t->npartitions, 2);
    assert_string_equal(t->partitions[1].values[0], "2020-05-15");
    fin_catalog_close(cat);
    expect_csv("MSCK REPAIR TABLE bars", "\"result\"\n");
    expect_csv("SHOW PARTITIONS bars", "\"partition\"\n\"dt=2020-05-14\"\n\"dt=2020-05-15\"\n");
    expect_csv("SELECT name, high, dt FROM bars ORDER BY dt",
               "\"name\",\"high\",\"dt\"\n\"FB\",\"202.83\",\"2020-05-14\"\n\"SQ\",\"80.5\",\"2020-05-15\"\n");

    expect_csv("SHOW DATABASES", "\"database_name\"\n\"finance\"\n");
    expect_csv("SHOW SCHEMAS LIKE 'fin*'", "\"database_name\"\n\"finance\"\n");
    expect_csv("SHOW TABLES", "\"tab_name\"\n\"bars\"\n");
    expect_csv("SHOW TABLES IN finance 'b*|x'", "\"tab_name\"\n\"bars\"\n");
    expect_csv("SHOW TABLES 'nothing*'", "\"tab_name\"\n");
    expect_csv("SHOW COLUMNS IN bars", "\"field\"\n\"name\"\n\"high\"\n\"ts\"\n\"dt\"\n");
    expect_csv("DESCRIBE `finance`.bars",
               "\"col_name\",\"data_type\",\"comment\"\n\"name\",\"string\",\"from key \"\"Name\"\"\"\n"
               "\"high\",\"double\",\"from key \"\"High\"\"\"\n\"ts\",\"string\",\"\"\n"
               "\"dt\",\"string\",\"partition key\"\n");

    /* SHOW CREATE TABLE round-trips: drop, create from its DDL, repair, same answer */
    r = run("SHOW CREATE TABLE \"AwsDataCatalog\".\"finance\".\"bars\"");
    char shown[4096] = "";
    for (size_t i = 0; i < fin_result_rows(r); i++) {
        strncat(shown, fin_result_text(r, i, 0), sizeof shown - strlen(shown) - 2);
        strcat(shown, "\n");
    }
    fin_result_destroy(r);
    assert_non_null(strstr(shown, "'mapping.high' = 'High'"));
    expect_csv("DROP TABLE bars", "");
    t = catalog_table(&cat, "finance.bars");
    assert_null(t);
    fin_catalog_close(cat);
    assert_true(fin_path_exists(lake));   /* objects stay */
    expect_error("SELECT * FROM bars", "does not exist");
    expect_error("DROP TABLE bars", "does not exist");
    expect_csv("DROP TABLE IF EXISTS bars", "");
    r = run(shown);
    fin_result_destroy(r);
    r = run("MSCK REPAIR TABLE bars");
    assert_int_equal(fin_result_rows(r), 2);
    fin_result_destroy(r);
    expect_csv("SELECT name, high, dt FROM bars ORDER BY dt",
               "\"name\",\"high\",\"dt\"\n\"FB\",\"202.83\",\"2020-05-14\"\n\"SQ\",\"80.5\",\"2020-05-15\"\n");

    /* ALTER TABLE ADD | DROP PARTITION */
    expect_csv("ALTER TABLE bars DROP PARTITION (dt = '2020-05-15')", "");
    expect_csv("SHOW PARTITIONS bars", "\"partition\"\n\"dt=2020-05-14\"\n");
    expect("SELECT count(*) n FROM bars", "n", "1");
    expect_error("ALTER TABLE bars DROP PARTITION (dt = '2020-05-15')", "no such partition");
    expect_csv("ALTER TABLE bars DROP IF EXISTS PARTITION (dt = '2020-05-15')", "");
    expect_csv("ALTER TABLE bars ADD PARTITION (dt = '2020-05-15') "
               "LOCATION 's3://my-bucket/bars/dt=2020-05-15/'", "");
    expect("SELECT count(*) n FROM bars", "n", "2");
    expect_error("ALTER TABLE bars ADD PARTITION (dt = '2020-05-15')", "already exists");
    expect_csv("ALTER TABLE bars ADD IF NOT EXISTS PARTITION (dt = '2020-05-15')", "");
    expect_error("ALTER TABLE bars ADD PARTITION (day = '1')", "no partition key 'day'");
    expect_error("ALTER TABLE bars ADD PARTITION (dt = '1') LOCATION '/elsewhere/'",
                 "not under the table's location");
    t = catalog_table(&cat, "finance.bars");
    assert_int_equal(t->npartitions, 2);
    fin_catalog_close(cat);

    /* CTAS: Parquet in the lake, catalogued, queryable */
    expect_csv("CREATE TABLE finance.highs AS SELECT name, max(high) high FROM bars GROUP BY name",
               "\"rows\"\n\"2\"\n");
    t = catalog_table(&cat, "finance.highs");
    assert_non_null(t);
    assert_string_equal(t->classification, "parquet");
    assert_string_equal(t->columns.v[1].type, "double");
    char parquet[1024];
    snprintf(parquet, sizeof parquet, "%s/data_0.parquet", t->location);
    assert_true(fin_path_exists(parquet));
    fin_catalog_close(cat);
    expect_csv("SELECT * FROM highs ORDER BY name", "\"name\",\"high\"\n\"FB\",\"202.83\"\n\"SQ\",\"80.5\"\n");
    expect_error("CREATE TABLE highs AS SELECT 1", "already exists");
    snprintf(ddl, sizeof ddl,
             "CREATE TABLE other.byname WITH (format = 'PARQUET', external_location = 's3://b/out/', "
             "partitioned_by = ARRAY['name']) AS SELECT high, name FROM bars");
    expect_csv(ddl, "\"rows\"\n\"2\"\n");
    expect_csv("SHOW PARTITIONS other.byname", "\"partition\"\n\"name=FB\"\n\"name=SQ\"\n");
    expect_csv("SELECT name, high FROM other.byname ORDER BY 1",
               "\"name\",\"high\"\n\"FB\",\"202.83\"\n\"SQ\",\"80.5\"\n");

    /* unqualified names: the only database that has the name; USE; ambiguity */
    expect("SELECT count(*) n FROM byname", "n", "2");
    expect_csv("CREATE TABLE other.highs AS SELECT 1 AS one", "\"rows\"\n\"1\"\n");
    expect_error("SELECT * FROM highs", "ambiguous: finance.highs, other.highs");
    expect_error("SELECT * FROM nosuch", "finance.bars");
    r = run("USE other");
    fin_result_destroy(r);
    assert_string_equal(fin_query_database(q), "other");
    expect("SELECT * FROM highs", "one", "1");
    expect_csv("SHOW TABLES", "\"tab_name\"\n\"byname\"\n\"highs\"\n");
    expect_error("USE nowhere", "no database 'nowhere'");
    assert_int_equal(fin_query_set_database(q, NULL), 0);
    expect("SELECT count(*) n FROM finance.highs", "n", "2");

    /* nested columns of JSON tables read as nested values */
    char nested[512];
    snprintf(nested, sizeof nested, "%s/lake/nested", dir);
    put_s(nested, "o", "{\"id\":1,\"tags\":[\"a\",\"b\"],\"quote\":{\"bid\":1.5,\"ask\":null},"
                       "\"attrs\":{\"k\":2}}\n");
    expect_csv("CREATE EXTERNAL TABLE finance.nested (id bigint, tags array<string>, "
               "quote struct<bid:double, ask:double>, attrs map<string,int>) "
               "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://b/nested/'",
               "");
    expect_csv("SELECT tags, quote, attrs, quote.bid b, element_at(tags, 2) t2 FROM finance.nested",
               "\"tags\",\"quote\",\"attrs\",\"b\",\"t2\"\n"
               "\"[a, b]\",\"{bid=1.5, ask=null}\",\"{k=2}\",\"1.5\",\"b\"\n");
    expect_csv("CREATE TABLE finance.nested2 WITH (format = 'JSON') AS SELECT * FROM finance.nested",
               "\"rows\"\n\"1\"\n");
    r = run("SELECT * FROM finance.nested2");
    char *json = as(r, FIN_RESULT_JSON);
    assert_string_equal(json, "{\"id\":1,\"tags\":[\"a\",\"b\"],\"quote\":{\"bid\":1.5,\"ask\":null},"
                              "\"attrs\":{\"k\":2}}\n");
    free(json);
    fin_result_destroy(r);

    /* errors name the place */
    expect_error("CREATE EXTERNAL TABLE x (a int) LOCATION", "expected a 'string'");
    expect_error("CREATE EXTERNAL TABLE x (a int) STORED AS ORC LOCATION 's3://b/x/'",
                 "STORED AS ORC");
    expect_error("CREATE EXTERNAL TABLE x (a int)", "needs a LOCATION");
    expect_error("SHOW CREATE TABLE nosuch", "does not exist");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_implicit_aliases),
        cmocka_unit_test(test_athena_functions),
        cmocka_unit_test(test_scripts),
        cmocka_unit_test(test_output_forms),
        cmocka_unit_test(test_catalog_statements),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
