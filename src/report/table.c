/* table.c - a day's bars and the hourly-high answer from a catalog table, through the
 * query engine, the way the analyst's Athena queries read them.
 *
 * Two queries. The first reads the bars (ticker, ts, high, low, and open and close when
 * the table has them), restricted to the chosen day when one is given; ranges and series
 * are summarised from them. The second is the classic hourly-high question asked in SQL,
 * whose answer the page shows as the engine gave it: per ticker and exchange-local hour
 * (characters 12-13 of ts), the highest high and every minute at which it occurred. Both
 * slice ts as the string the table holds; the three forms the lake has
 * ("2020-05-14 09:30:00-04:00", "05/14/2020 09:30:00", "05-11-2021 09:30:00-0400") all
 * keep the day in characters 1-10 and the hour in 12-13. */
#include "report_int.h"

#include "finstream/error.h"
#include "finstream/query.h"
#include "finstream/timeutil.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ts_columns[] = {"ts", "timestamp", "datetime", "date", NULL};

/* An identifier as SQL text: bare when it is a plain lower-case name (so the SQL on the
 * page reads like the analyst's), quoted otherwise (hyphens, type names). */
static void ident(char *out, size_t cap, const char *name)
{
    static const char *const words[] = {"timestamp", "date", "time", "interval", "order",
                                        "group", "select", "from", "where", NULL};
    bool bare = (*name >= 'a' && *name <= 'z') || *name == '_';
    for (const char *p = name; *p && bare; p++)
        bare = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
    for (int k = 0; words[k] && bare; k++)
        bare = strcmp(words[k], name) != 0;
    snprintf(out, cap, bare ? "%s" : "\"%s\"", name);
}

/* Prefixes the engine's message with what was being read (copied first: the message
 * lives in the buffer fin_err_set writes). */
static int wrap_err(int rc, const char *what, const char *table)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", fin_err_msg());
    return fin_err_set(rc, "%s%s: %s", what, table, msg);
}

/* Splits "db.table" and checks both parts, which go into SQL as quoted identifiers. */
static int split_table(const char *table, char *db, char *name, size_t cap)
{
    const char *dot = strchr(table, '.');
    if (!dot || dot == table || !dot[1] || strchr(dot + 1, '.') ||
        (size_t)(dot - table) >= cap || strlen(dot + 1) >= cap)
        return fin_err_set(FIN_EINVAL, "table '%s': expected DATABASE.TABLE", table);
    for (const char *p = table; *p; p++)
        if (p != dot && !isalnum((unsigned char)*p) && *p != '_' && *p != '-')
            return fin_err_set(FIN_EINVAL, "table '%s': names are letters, digits, '_' and '-'",
                               table);
    char part[256];
    snprintf(part, sizeof part, "%.*s", (int)(dot - table), table);
    ident(db, cap, part);
    ident(name, cap, dot + 1);
    return 0;
}

/* The condition that keeps one day's rows, in each form a day takes in ts. date has been
 * checked to be YYYY-MM-DD, so it is safe inside the literals. */
static int day_filter(struct fin_buf *b, const char *ts, const char *date)
{
    char t[64];
    ident(t, sizeof t, ts);
    return fin_buf_printf(b, "substring(%s, 1, 10) IN ('%.10s', '%.2s/%.2s/%.4s', '%.2s-%.2s-%.4s')",
                          t, date, date + 5, date + 8, date, date + 5, date + 8, date);
}

/* The latest day in the table: its distinct days (characters 1-10 of ts) are few, but
 * may be in a form that does not sort (05/14/2020), so they are compared here. */
static int latest_day(struct fin_query *q, const char *table, const char *db, const char *name,
                      const char *ts, char *out)
{
    char sql[1024], t[64];
    struct fin_result *res = NULL;
    ident(t, sizeof t, ts);
    snprintf(sql, sizeof sql, "SELECT DISTINCT substring(CAST(%s AS VARCHAR), 1, 10) FROM %s.%s",
             t, db, name);
    int rc = fin_query_exec(q, sql, &res);
    if (rc)
        return wrap_err(rc, "table ", table);
    out[0] = '\0';
    for (size_t r = 0; r < fin_result_rows(res); r++) {
        char day[11];
        if (fin__report_day_of(fin_result_text(res, r, 0), day) == 0 && strcmp(day, out) > 0)
            memcpy(out, day, sizeof day);
    }
    fin_result_destroy(res);
    if (!out[0])
        return fin_err_set(FIN_ENOENT, "table %s has no rows with a day in %s", table, ts);
    return 0;
}

/* The error for a day the table has no rows for, naming a few days it has. */
static int no_such_day(struct fin_query *q, const char *table, const char *db, const char *name,
                       const char *ts, const char *date)
{
    char sql[1024], days[200] = "";
    struct fin_result *res = NULL;
    snprintf(sql, sizeof sql,
             "SELECT DISTINCT substring(%s, 1, 10) AS day FROM %s.%s ORDER BY day LIMIT 6", ts, db,
             name);
    if (fin_query_exec(q, sql, &res) == 0) {
        size_t o = 0, n = fin_result_rows(res);
        for (size_t r = 0; r < n && r < 5 && o + 16 < sizeof days; r++)
            o += (size_t)snprintf(days + o, sizeof days - o, "%s%s", r ? ", " : "",
                                  fin_result_text(res, r, 0));
        if (n > 5)
            snprintf(days + o, sizeof days - o, ", ...");
        fin_result_destroy(res);
    }
    return fin_err_set(FIN_ENOENT, "no bars on %s in table %s; %s%s", date, table,
                       days[0] ? "it has " : "it is empty", days);
}

int fin__report_table_load(struct fin_report_data *d, struct fin_query *q, const char *table,
                           const char *date, char *ts_col, size_t ts_cap)
{
    int rc = 0;
    struct fin_result *res = NULL;
    struct fin_buf sql;
    char db[256], name[256];
    const char *ts = NULL;
    int64_t days;
    fin_buf_init(&sql);

    rc = split_table(table, db, name, sizeof db);
    if (rc)
        return rc;
    if (date && fin_parse_date(date, &days) != 0)
        return fin_err_set(FIN_EINVAL, "--date '%s' is not a date (YYYY-MM-DD)", date);

    /* Which columns the table has. */
    if (fin_buf_printf(&sql, "SELECT * FROM %s.%s LIMIT 0", db, name)) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    rc = fin_query_exec(q, fin_buf_cstr(&sql), &res);
    if (rc) {
        rc = wrap_err(rc, "table ", table);
        goto fail;
    }
    for (int k = 0; ts_columns[k] && !ts; k++)
        if (fin_result_column_index(res, ts_columns[k]) >= 0)
            ts = ts_columns[k];
    if (!ts || fin_result_column_index(res, "name") < 0 ||
        fin_result_column_index(res, "high") < 0 || fin_result_column_index(res, "low") < 0) {
        rc = fin_err_set(FIN_ENOENT, "table %s has no name, high, low and ts (or timestamp) columns",
                         table);
        goto fail;
    }
    bool has_open = fin_result_column_index(res, "open") >= 0;
    bool has_close = fin_result_column_index(res, "close") >= 0;
    bool has_volume = fin_result_column_index(res, "volume") >= 0;
    fin_result_destroy(res);
    res = NULL;
    snprintf(ts_col, ts_cap, "%s", ts);

    /* Without a day asked for, the latest the table has: read only that day's bars rather
     * than the whole table. */
    char latest[11];
    if (!date) {
        rc = latest_day(q, table, db, name, ts, latest);
        if (rc)
            goto fail;
        date = latest;
    }

    /* The bars. */
    fin_buf_reset(&sql);
    char t[64];
    ident(t, sizeof t, ts);
    int e = fin_buf_printf(&sql,
                           "SELECT CAST(name AS VARCHAR), CAST(%s AS VARCHAR), high, low, %s, %s, %s"
                           " FROM %s.%s",
                           t, has_open ? "open" : "NULL", has_close ? "close" : "NULL",
                           has_volume ? "CAST(volume AS DOUBLE)" : "NULL", db, name);
    if (!e && date)
        e = fin_buf_puts(&sql, " WHERE ") || day_filter(&sql, ts, date);
    if (e) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    rc = fin_query_exec(q, fin_buf_cstr(&sql), &res);
    if (rc) {
        rc = wrap_err(rc, "table ", table);
        goto fail;
    }
    size_t rows = fin_result_rows(res);
    if (rows == 0 && date) {
        rc = no_such_day(q, table, db, name, t, date);
        goto fail;
    }
    for (size_t r = 0; r < rows; r++) {
        char where[600];
        snprintf(where, sizeof where, "table %s, row %zu", table, r + 1);
        int arc = fin_report_data_add(d, fin_result_text(res, r, 0), fin_result_text(res, r, 1),
                                      fin_result_double(res, r, 4), fin_result_double(res, r, 2),
                                      fin_result_double(res, r, 3), fin_result_double(res, r, 5),
                                      fin_result_double(res, r, 6), where);
        if (arc == FIN_ENOMEM) {
            rc = arc;
            goto fail;
        }
        if (arc)
            fin__report_data_bad(d, "%s", fin_err_msg());
    }
    fin__report_data_count_object(d, fin_result_bytes_scanned(res));
fail:
    fin_result_destroy(res);
    fin_buf_fini(&sql);
    return rc;
}

int fin__report_table_hourly(struct fin_report_data *d, struct fin_query *q, const char *table,
                             const char *ts, const char *date, struct fin_buf *sql)
{
    char db[256], name[256];
    struct fin_result *res = NULL;
    int rc = split_table(table, db, name, sizeof db);
    if (rc)
        return rc;
    char t[64];
    ident(t, sizeof t, ts);
    int e = fin_buf_printf(sql,
                           "WITH day AS (\n"
                           "  SELECT name, %s%s, high FROM %s.%s\n"
                           "  WHERE ",
                           t, strcmp(t, "ts") == 0 ? "" : " AS ts", db, name);
    e = e || day_filter(sql, ts, date);
    e = e || fin_buf_puts(sql,
                          "\n), hourly AS (\n"
                          "  SELECT name, substring(ts, 12, 2) AS hour, max(high) AS hourly_high\n"
                          "  FROM day GROUP BY name, substring(ts, 12, 2)\n"
                          ")\n"
                          "SELECT d.name, h.hour, h.hourly_high, substring(d.ts, 1, 19) AS datetime\n"
                          "FROM day d JOIN hourly h\n"
                          "  ON d.name = h.name AND substring(d.ts, 12, 2) = h.hour\n"
                          "  AND d.high = h.hourly_high\n"
                          "ORDER BY d.name, h.hour, datetime");
    if (e)
        return FIN_ENOMEM;
    rc = fin_query_exec(q, fin_buf_cstr(sql), &res);
    if (rc)
        return wrap_err(rc, "hourly highs of ", table);
    size_t n = fin_result_rows(res);
    rc = fin__report_data_hourly_begin(d, n);
    for (size_t r = 0; r < n && rc == 0; r++)
        rc = fin__report_data_hourly_add(d, fin_result_text(res, r, 0),
                                         atoi(fin_result_text(res, r, 1)),
                                         fin_result_double(res, r, 2), fin_result_text(res, r, 3));
    fin_result_destroy(res);
    return rc;
}
