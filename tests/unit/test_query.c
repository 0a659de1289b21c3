/* test_query.c - the query engine: Athena's functions and naming, as the Athena and Trino
 * documentation describes them, Athena's number and CSV forms, views over a crawled lake
 * with partition pruning, saved results, and SQL errors with their position. */
#include "fin_test.h"

#include "finstream/catalog.h"
#include "finstream/error.h"
#include "finstream/query.h"

#include <math.h>

static struct fin_query *q;
static char *dir;

static int setup(void **state)
{
    (void)state;
    dir = fin_test_mkdtemp("query");
    return fin_query_open(&q, dir);
}

static int teardown(void **state)
{
    (void)state;
    fin_query_close(q);
    fin_test_rmdir(dir);
    return 0;
}

/* Runs sql and checks the single value and the name of its first column. */
static void expect(const char *sql, const char *name, const char *value)
{
    struct fin_result *r = NULL;
    int rc = fin_query_exec(q, sql, &r);
    if (rc)
        fail_msg("%s: %s", sql, fin_err_msg());
    assert_int_equal(fin_result_rows(r), 1);
    if (strcmp(fin_result_text(r, 0, 0), value) != 0)
        fail_msg("%s: expected [%s], got [%s]", sql, value, fin_result_text(r, 0, 0));
    if (name && strcmp(fin_result_column_name(r, 0), name) != 0)
        fail_msg("%s: expected column [%s], got [%s]", sql, name, fin_result_column_name(r, 0));
    fin_result_destroy(r);
}

static void test_substring(void **state)
{
    (void)state;
    /* Trino: substr(string, start[, length]), 1-based; a negative start counts from the end */
    expect("SELECT substr('2020-05-14 09:30:00-04:00', 12, 2) AS h", "h", "09");
    expect("SELECT substring('2020-05-14 09:30:00-04:00', 1, 19) AS d", "d", "2020-05-14 09:30:00");
    expect("SELECT substring('abcdef', 3) AS s", "s", "cdef");
    expect("SELECT substr('abcdef', -2) AS s", "s", "ef");
    expect("SELECT substring('05-11-2021 09:40:00-0400', 11, 3) AS s", "s", " 09");
}

static void test_date_parse_and_format(void **state)
{
    (void)state;
    /* Athena: date_parse(string, format) -> timestamp, MySQL specifiers */
    expect("SELECT date_parse('2020-05-14 09:30:00', '%Y-%m-%d %H:%i:%s') AS t", "t",
           "2020-05-14 09:30:00.000");
    expect("SELECT date_parse('05/14/2020 09:30:00', '%m/%d/%Y %H:%i:%S') AS t", "t",
           "2020-05-14 09:30:00.000");
    expect("SELECT date_parse('14-May-2020', '%d-%b-%Y') AS t", "t", "2020-05-14 00:00:00.000");
    /* date_format(timestamp, format) -> varchar; %i minutes, %M month name, %W weekday */
    expect("SELECT date_format(TIMESTAMP '2020-05-14 09:05:07', '%Y-%m-%d %H:%i:%s') AS f", "f",
           "2020-05-14 09:05:07");
    expect("SELECT date_format(TIMESTAMP '2020-05-14 09:05:07', '%M %W %T') AS f", "f",
           "May Thursday 09:05:07");
    expect("SELECT date_format(TIMESTAMP '2020-05-04 15:05:07', '%c/%e %h:%i %p') AS f", "f",
           "5/4 03:05 PM");
}

static void test_date_add_and_diff(void **state)
{
    (void)state;
    /* Trino: date_add(unit, value, timestamp) */
    expect("SELECT date_add('hour', 3, TIMESTAMP '2020-05-14 22:30:00') AS t", "t",
           "2020-05-15 01:30:00.000");
    expect("SELECT date_add('minute', -90, TIMESTAMP '2020-05-14 09:30:00') AS t", "t",
           "2020-05-14 08:00:00.000");
    expect("SELECT date_add('month', 1, TIMESTAMP '2020-01-31 00:00:00') AS t", "t",
           "2020-02-29 00:00:00.000");
    expect("SELECT date_add(DATE '2020-05-14', INTERVAL 1 DAY) AS t", "t",
           "2020-05-15 00:00:00.000");   /* DuckDB's own two-argument form still works */
    /* Trino: date_diff(unit, t1, t2) counts whole units from t1 to t2 */
    expect("SELECT date_diff('hour', TIMESTAMP '2020-01-01 10:59:00', "
           "TIMESTAMP '2020-01-01 11:00:00') AS d", "d", "0");
    expect("SELECT date_diff('day', TIMESTAMP '2020-01-01 00:00:00', "
           "TIMESTAMP '2020-01-03 12:00:00') AS d", "d", "2");
    expect("SELECT date_diff('minute', TIMESTAMP '2020-01-01 11:00:00', "
           "TIMESTAMP '2020-01-01 10:00:00') AS d", "d", "-60");
}

static void test_timestamps_convert_to_utc(void **state)
{
    (void)state;
    /* Athena: a string with an offset cast to timestamp is converted to UTC */
    expect("SELECT CAST('2020-05-14 09:30:00-04:00' AS timestamp) AS t", "t",
           "2020-05-14 13:30:00.000");
    expect("SELECT CAST('2020-12-14 09:30:00-05:00' AS timestamp) AS t", "t",
           "2020-12-14 14:30:00.000");
    expect("SELECT CAST('2020-05-14 09:30:00' AS timestamp) AS t", "t", "2020-05-14 09:30:00.000");
    expect("SELECT hour(CAST('2020-05-14 09:30:00-04:00' AS timestamp)) AS h", "h", "13");
    expect("SELECT from_iso8601_timestamp('2020-05-14T09:30:00-04:00') AS t", "t",
           "2020-05-14 13:30:00.000 UTC");
    expect("SELECT from_iso8601_timestamp('2020-05-14T13:30:00Z') AS t", "t",
           "2020-05-14 13:30:00.000 UTC");
    expect("SELECT from_unixtime(1589463000) AS t", "t", "2020-05-14 13:30:00.000 UTC");
    expect("SELECT to_unixtime(from_unixtime(1589463000)) AS t", "t", "1.589463E9");
}

static void test_row_number_and_col_names(void **state)
{
    (void)state;
    struct fin_result *r;
    assert_int_equal(fin_query_exec(q,
                                    "SELECT g, v, row_number() OVER (PARTITION BY g ORDER BY v DESC) "
                                    "FROM (VALUES ('a', 1), ('a', 3), ('b', 2)) t(g, v) ORDER BY g, v",
                                    &r),
                     0);
    assert_int_equal(fin_result_rows(r), 3);
    assert_string_equal(fin_result_column_name(r, 2), "_col2");
    assert_string_equal(fin_result_text(r, 0, 2), "2");
    assert_string_equal(fin_result_text(r, 1, 2), "1");
    assert_string_equal(fin_result_text(r, 2, 2), "1");
    assert_int_equal(fin_result_column_type(r, 2), FIN_TYPE_BIGINT);
    fin_result_destroy(r);
    /* Athena: an unaliased expression is _col<position>; a column keeps its name */
    expect("SELECT 1 + 1", "_col0", "2");
    assert_int_equal(fin_query_exec(q, "SELECT x, max(y), max(y) AS m, upper(x) "
                                       "FROM (VALUES ('a', 1.5)) t(x, y) GROUP BY x", &r), 0);
    assert_string_equal(fin_result_column_name(r, 0), "x");
    assert_string_equal(fin_result_column_name(r, 1), "_col1");
    assert_string_equal(fin_result_column_name(r, 2), "m");
    assert_string_equal(fin_result_column_name(r, 3), "_col3");
    fin_result_destroy(r);
    assert_int_equal(fin_query_exec(q, "SELECT *, y * 2 FROM (VALUES ('a', 1.5)) t(x, y)", &r), 0);
    assert_string_equal(fin_result_column_name(r, 2), "_col2");
    fin_result_destroy(r);
    assert_int_equal(fin_query_exec(q, "SELECT 1 UNION ALL SELECT 2 ORDER BY 1", &r), 0);
    assert_string_equal(fin_result_column_name(r, 0), "_col0");
    assert_int_equal(fin_result_rows(r), 2);
    fin_result_destroy(r);
}

/* The top-row-per-group rewrite must give row_number()'s answer, NULL keys included. */
static void test_top_row_per_group(void **state)
{
    (void)state;
    const char *data = "(VALUES ('FB', '09', 3.0, 't1'), ('FB', '09', 5.0, 't2'), ('FB', '10', 1.0, 't3'), "
                       "('SQ', '09', NULL, 't4'), ('SQ', '09', NULL, 't5'), ('SQ', '10', NULL, 't6'), "
                       "('SQ', '10', 2.0, 't7')) bars(name, hour, high, ts)";
    char sql[2048];
    struct fin_result *r;
    snprintf(sql, sizeof sql,
             "SELECT name, hour, high, ts FROM (SELECT name, hour, high, ts, row_number() OVER "
             "(PARTITION BY name, hour ORDER BY high DESC) AS rn FROM %s) WHERE rn = 1 "
             "ORDER BY name, hour", data);
    assert_int_equal(fin_query_exec(q, sql, &r), 0);
    assert_non_null(strstr(fin_query_last_sql(q), "arg_max"));
    assert_int_equal(fin_result_rows(r), 4);
    assert_string_equal(fin_result_text(r, 0, 3), "t2");
    assert_string_equal(fin_result_text(r, 1, 3), "t3");
    assert_string_equal(fin_result_column_name(r, 2), "high");
    assert_true(fin_result_is_null(r, 2, 2));   /* every key NULL: a row still comes back */
    assert_string_equal(fin_result_text(r, 2, 1), "09");
    assert_string_equal(fin_result_text(r, 3, 3), "t7");   /* NULLS LAST, as in Trino */
    fin_result_destroy(r);
    /* ascending order: arg_min */
    snprintf(sql, sizeof sql,
             "SELECT ts FROM (SELECT ts, row_number() OVER (PARTITION BY name ORDER BY high) "
             "AS rn FROM %s) WHERE rn = 1 ORDER BY ts", data);
    assert_int_equal(fin_query_exec(q, sql, &r), 0);
    assert_non_null(strstr(fin_query_last_sql(q), "arg_min"));
    assert_int_equal(fin_result_rows(r), 2);
    assert_string_equal(fin_result_text(r, 0, 0), "t3");
    assert_string_equal(fin_result_text(r, 1, 0), "t7");
    fin_result_destroy(r);
    /* the top row's NULL field stays NULL, not another row's value; a field that is a
     * partition expression comes back as the group's key */
    assert_int_equal(fin_query_exec(q, "SELECT h, ts, hi FROM (SELECT substr(ts, 1, 2) AS h, ts, hi, "
                                       "row_number() OVER (PARTITION BY substr(ts, 1, 2) ORDER BY hi DESC) "
                                       "AS rn FROM (VALUES ('aa1', 9.0), (NULL, 9.5), ('bb1', 1.0), "
                                       "('bb2', 4.0)) t(ts, hi)) WHERE rn = 1 ORDER BY h NULLS LAST", &r), 0);
    assert_non_null(strstr(fin_query_last_sql(q), "arg_max"));
    assert_int_equal(fin_result_rows(r), 3);
    assert_string_equal(fin_result_text(r, 0, 0), "aa");
    assert_string_equal(fin_result_text(r, 0, 1), "aa1");
    assert_string_equal(fin_result_text(r, 1, 1), "bb2");
    assert_string_equal(fin_result_text(r, 1, 2), "4.0");
    assert_true(fin_result_is_null(r, 2, 0));
    assert_true(fin_result_is_null(r, 2, 1));
    assert_string_equal(fin_result_text(r, 2, 2), "9.5");
    fin_result_destroy(r);
    assert_int_equal(fin_query_exec(q, "SELECT g, ts FROM (SELECT g, ts, row_number() OVER (PARTITION "
                                       "BY g ORDER BY hi DESC) AS rn FROM (VALUES ('a', 'x1', 1.0), "
                                       "('a', NULL, 5.0)) t(g, ts, hi)) WHERE rn = 1", &r), 0);
    assert_int_equal(fin_result_rows(r), 1);
    assert_true(fin_result_is_null(r, 0, 1));
    fin_result_destroy(r);
    /* rn used for more than rn = 1: left as written */
    snprintf(sql, sizeof sql,
             "SELECT ts, rn FROM (SELECT ts, row_number() OVER (PARTITION BY name ORDER BY high) "
             "AS rn FROM %s) WHERE rn <= 2 ORDER BY ts", data);
    assert_int_equal(fin_query_exec(q, sql, &r), 0);
    assert_null(strstr(fin_query_last_sql(q), "arg_"));
    assert_int_equal(fin_result_rows(r), 4);
    fin_result_destroy(r);
}

static void test_number_forms(void **state)
{
    (void)state;
    /* Athena prints doubles as Java does: shortest round trip, ".0" on whole numbers,
     * E notation outside [1e-3, 1e7) */
    expect("SELECT CAST(141 AS double) AS v", "v", "141.0");
    expect("SELECT CAST('137.97000122070312' AS double) AS v", "v", "137.97000122070312");
    expect("SELECT CAST('137.97' AS double) AS v", "v", "137.97");
    expect("SELECT CAST(0.1 AS double) + CAST(0.2 AS double) AS v", "v", "0.30000000000000004");
    expect("SELECT CAST(1e7 AS double) AS v", "v", "1.0E7");
    expect("SELECT CAST(12345678.5 AS double) AS v", "v", "1.23456785E7");
    expect("SELECT CAST(0.001 AS double) AS v", "v", "0.001");
    expect("SELECT CAST(0.0001 AS double) AS v", "v", "1.0E-4");
    expect("SELECT CAST(-2.5 AS double) AS v", "v", "-2.5");
    expect("SELECT CAST('NaN' AS double) AS v", "v", "NaN");
    expect("SELECT CAST(1.5 AS real) AS v", "v", "1.5");
    expect("SELECT CAST(137.97 AS real) AS v", "v", "137.97");
    expect("SELECT CAST(12.50 AS decimal(10, 2)) AS v", "v", "12.50");
    expect("SELECT 1234567890123 AS v", "v", "1234567890123");
    expect("SELECT DATE '2020-05-14' AS v", "v", "2020-05-14");
    expect("SELECT true AS v", "v", "true");
}

static void test_csv_and_accessors(void **state)
{
    (void)state;
    struct fin_result *r;
    assert_int_equal(fin_query_exec(q, "SELECT 'say \"hi\"' AS s, CAST(NULL AS double) AS n, "
                                       "CAST(2.5 AS double) AS d", &r), 0);
    char *csv;
    size_t len;
    assert_int_equal(fin_result_to_csv(r, &csv, &len), 0);
    assert_string_equal(csv, "\"s\",\"n\",\"d\"\n\"say \"\"hi\"\"\",,\"2.5\"\n");
    assert_int_equal(len, strlen(csv));
    free(csv);
    assert_true(fin_result_is_null(r, 0, 1));
    assert_true(isnan(fin_result_double(r, 0, 1)));
    assert_true(fin_result_double(r, 0, 2) == 2.5);
    assert_int_equal(fin_result_column_index(r, "D"), 2);
    assert_int_equal(fin_result_column_index(r, "nope"), -1);
    assert_string_equal(fin_type_name(fin_result_column_type(r, 2)), "double");

    char id[64];
    assert_int_equal(fin_result_save(r, dir, "SELECT ...", id, sizeof id), 0);
    assert_int_equal(strlen(id), 36);
    char path[1024];
    snprintf(path, sizeof path, "%s/results/%s.csv", dir, id);
    char *data;
    assert_int_equal(fin_read_file(path, &data, &len), 0);
    assert_string_equal(data, "\"s\",\"n\",\"d\"\n\"say \"\"hi\"\"\",,\"2.5\"\n");
    free(data);
    snprintf(path, sizeof path, "%s/results/%s.csv.metadata", dir, id);
    assert_int_equal(fin_read_file(path, &data, &len), 0);
    assert_non_null(strstr(data, "\"query\": \"SELECT ...\""));
    assert_non_null(strstr(data, "\"rows\": 1"));
    assert_non_null(strstr(data, "\"data_scanned_bytes\""));
    free(data);
    fin_result_destroy(r);
}

static void test_sql_error_has_position(void **state)
{
    (void)state;
    struct fin_result *r = NULL;
    assert_int_equal(fin_query_exec(q, "SELECT nme FROM (VALUES (1)) t(name)", &r), FIN_ESQL);
    assert_null(r);
    assert_non_null(strstr(fin_err_msg(), "\"nme\" not found"));
    assert_non_null(strstr(fin_err_msg(), "LINE 1: SELECT nme FROM"));
    /* rewritten statements report against the text the caller wrote */
    assert_int_equal(fin_query_exec(q, "SELECT CAST(x AS timestamp), nme FROM (VALUES ('a')) t(x)", &r),
                     FIN_ESQL);
    assert_non_null(strstr(fin_err_msg(), "LINE 1: SELECT CAST(x AS timestamp), nme"));
    assert_int_equal(fin_query_exec(q, "SELEC 1", &r), FIN_ESQL);
    assert_non_null(strstr(fin_err_msg(), "syntax error"));
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

/* A crawled lake read through the views: key casing, NaN as NULL, partition columns,
 * pruning seen in the bytes scanned. */
static void test_views_over_lake(void **state)
{
    (void)state;
    char lake[512];
    snprintf(lake, sizeof lake, "%s/lake", dir);
    const char *h13 = "{\"Name\":\"FB\",\"High\":202.83,\"ts\":\"2020-05-14 09:30:00-04:00\"}\n"
                      "{\"Name\":\"FB\",\"High\":NaN,\"ts\":\"2020-05-14 09:31:00-04:00\"}\n";
    const char *h14 = "{\"Name\":\"SQ\",\"High\":80}{\"Name\":\"SQ\",\"High\":81.5}";
    put_s(lake, "2020/05/14/13/a", h13);
    put_s(lake, "2020/05/14/14/b", h14);
    struct fin_catalog *cat;
    struct fin_crawl_opts o = {.table = "stocks", .sample = -1};
    assert_int_equal(fin_catalog_open(&cat, dir), 0);
    assert_int_equal(fin_crawl(cat, lake, &o, NULL), 0);
    assert_int_equal(fin_catalog_save(cat), 0);
    fin_catalog_close(cat);
    assert_int_equal(fin_query_refresh(q), 0);

    struct fin_result *r;
    assert_int_equal(fin_query_exec(q, "SELECT * FROM finance.stocks ORDER BY name, ts", &r), 0);
    assert_int_equal(fin_result_columns(r), 7);
    assert_string_equal(fin_result_column_name(r, 0), "name");
    assert_string_equal(fin_result_column_name(r, 1), "high");
    assert_string_equal(fin_result_column_name(r, 6), "partition_3");
    assert_int_equal(fin_result_rows(r), 4);
    assert_string_equal(fin_result_text(r, 0, 1), "202.83");
    assert_true(fin_result_is_null(r, 1, 1));   /* NaN reads as NULL */
    assert_string_equal(fin_result_text(r, 3, 1), "81.5");
    assert_string_equal(fin_result_text(r, 3, 6), "14");
    assert_int_equal(fin_result_bytes_scanned(r), strlen(h13) + strlen(h14));
    fin_result_destroy(r);

    /* quoted names as in Athena; the partition predicate opens only hour 14's object */
    assert_int_equal(fin_query_exec(q, "SELECT count(*) AS n, max(\"high\") FROM \"finance\".\"stocks\" "
                                       "WHERE partition_3 = '14'", &r), 0);
    assert_string_equal(fin_result_text(r, 0, 0), "2");
    assert_string_equal(fin_result_text(r, 0, 1), "81.5");
    assert_string_equal(fin_result_column_name(r, 1), "_col1");
    assert_int_equal(fin_result_bytes_scanned(r), strlen(h14));
    fin_result_destroy(r);

    /* files Athena ignores ('.' or '_' first: temporaries, markers) are not read */
    put_s(lake, "2020/05/14/13/.a.tmp", "{\"Name\":\"XX\",\"High\":1}\n");
    put_s(lake, "2020/05/14/13/_SUCCESS", "{\"Name\":\"XX\",\"High\":1}\n");
    expect("SELECT count(*) AS n FROM finance.stocks WHERE name = 'XX'", "n", "0");

    /* a partition folder deleted after the crawl does not break the table */
    char gone[600];
    snprintf(gone, sizeof gone, "%s/2020/05/14/14", lake);
    assert_int_equal(fin_remove_tree(gone), 0);
    assert_int_equal(fin_query_refresh(q), 0);
    expect("SELECT count(*) AS n FROM finance.stocks", "n", "2");
    /* nor does an emptied one */
    snprintf(gone, sizeof gone, "%s/2020/05/14/13/a", lake);
    assert_int_equal(unlink(gone), 0);
    assert_int_equal(fin_query_refresh(q), 0);
    expect("SELECT count(*) AS n FROM finance.stocks", "n", "0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_substring),
        cmocka_unit_test(test_date_parse_and_format),
        cmocka_unit_test(test_date_add_and_diff),
        cmocka_unit_test(test_timestamps_convert_to_utc),
        cmocka_unit_test(test_row_number_and_col_names),
        cmocka_unit_test(test_top_row_per_group),
        cmocka_unit_test(test_number_forms),
        cmocka_unit_test(test_csv_and_accessors),
        cmocka_unit_test(test_sql_error_has_position),
        cmocka_unit_test(test_views_over_lake),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
