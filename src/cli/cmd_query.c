/* cmd_query.c - finstream query: SQL over the catalog's tables, printed or saved as
 * Athena saves it. */
#include "cli.h"
#include "finstream/progress.h"
#include "query_shell.h"
#include "finstream/config.h"
#include "finstream/buf.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/log.h"
#include "finstream/query.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(void)
{
    printf("usage: finstream query [--database DB] [--format table|csv|json] [--save]\n"
           "                       [SQL | -f FILE]\n"
           "\n"
           "Runs SQL over the catalog's tables, read in place from the lake (DuckDB, with\n"
           "Athena's functions, names and lexical rules: see docs/query.md). Tables are\n"
           "database.table as in Athena, or a bare name: in the selected database, else in\n"
           "the one database that has a table of that name. Athena's catalog statements\n"
           "work too: SHOW DATABASES, SHOW TABLES [IN db] ['pattern'], SHOW COLUMNS IN t,\n"
           "DESCRIBE t, SHOW PARTITIONS t, SHOW CREATE TABLE t, MSCK REPAIR TABLE t,\n"
           "CREATE EXTERNAL TABLE ..., DROP TABLE t, CREATE TABLE t AS SELECT ..., USE db.\n"
           "\n"
           "The SQL comes from the argument, from FILE, or from standard input; several\n"
           "statements separated by ';' run in order, each result printed (a blank line\n"
           "between them); the first failing statement stops the run. With no SQL on a\n"
           "terminal, an interactive shell starts: line editing and history\n"
           "(<data-dir>/query_history), statements end with ';', Ctrl-C cancels the\n"
           "running statement, Ctrl-D or quit leaves.\n"
           "\n"
           "options:\n"
           "  --database DB  database of unqualified table names (as USE DB)\n"
           "  --format F     table (default on a terminal), csv (Athena's CSV: header, every\n"
           "                 field in double quotes; default otherwise) or json (one object\n"
           "                 per row; arrays, maps and rows nested)\n"
           "  --save         also write results/<query-id>.csv and a .metadata file (query,\n"
           "                 time, rows, bytes scanned) under the data directory\n"
           "  -f FILE        read the SQL from FILE ('-' for standard input)\n"
           "  -h, --help     this help\n"
           "\n"
           "finstream.ini, section [query]:\n");
    fin_opts_print_help(fin_query_opts, stdout);
    printf("\nSQL errors print DuckDB's message with the position and exit with status 1.\n");
}

static int read_stream(FILE *f, char **out)
{
    struct fin_buf b;
    fin_buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (fin_buf_append(&b, chunk, n)) {
            fin_buf_fini(&b);
            return FIN_ENOMEM;
        }
    if (ferror(f) || !fin_buf_cstr(&b)) {
        fin_buf_fini(&b);
        return fin_err_set(FIN_EIO, "cannot read the SQL");
    }
    *out = fin_buf_take(&b, NULL);
    return 0;
}

/* Runs each statement of sql in order, printing each result; stops at the first error. */
static int run_script(struct fin_cli *cli, struct fin_query *q, const char *sql,
                      enum fin_result_format format, bool save)
{
    char **stmts = NULL;
    size_t n = 0;
    int rc = fin_query_split(sql, &stmts, &n);
    if (rc) {
        fprintf(stderr, "finstream query: %s\n", fin_err_msg());
        return rc;
    }
    if (n == 0) {
        fin_query_statements_free(stmts, n);
        fprintf(stderr, "finstream query: no statement in the SQL\n");
        return FIN_ESQL;
    }
    bool printed = false;
    for (size_t i = 0; i < n && !rc; i++) {
        struct fin_result *res = NULL;
        fin_progress_begin("query", "rows", 0, 0);   /* elapsed time on a terminal */
        rc = fin_query_exec(q, stmts[i], &res);
        fin_progress_end();
        if (rc) {
            /* DuckDB's message already says what and where */
            if (n > 1)
                fprintf(stderr, "finstream query: statement %zu of %zu: %s\n", i + 1, n,
                        fin_err_msg());
            else
                fprintf(stderr, "finstream query: %s\n", fin_err_msg());
            break;
        }
        if (fin_result_columns(res) > 0) {
            if (printed)
                fputc('\n', stdout);
            printed = true;
            if ((rc = fin_result_write(res, format, stdout)))
                fin_log_err(rc, "query");
        } else if (format == FIN_RESULT_TABLE) {
            if (printed)
                fputc('\n', stdout);
            printed = true;
            printf("OK\n");
        }
        if (!rc && save && fin_result_columns(res) > 0) {
            char id[64];
            if ((rc = fin_result_save(res, cli->data_dir, stmts[i], id, sizeof id)))
                fin_log_err(rc, "query --save");
            else if (!cli->quiet)
                fprintf(stderr, "query     %zu rows  %llu bytes scanned  %.3f s -> results/%s.csv\n",
                        fin_result_rows(res), (unsigned long long)fin_result_bytes_scanned(res),
                        fin_result_seconds(res), id);
        }
        fin_result_destroy(res);
    }
    fflush(stdout);
    fin_query_statements_free(stmts, n);
    return rc;
}

int fin_cmd_query(struct fin_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'F'}, {"save", no_argument, NULL, 's'},
        {"file", required_argument, NULL, 'f'},   {"database", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    enum fin_result_format format = isatty(STDOUT_FILENO) ? FIN_RESULT_TABLE : FIN_RESULT_CSV;
    bool save = false, format_set = false;
    const char *file = NULL, *database = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "hf:", longopts, NULL)) != -1) {
        switch (c) {
        case 'F':
            format_set = true;
            if (!strcmp(optarg, "table"))
                format = FIN_RESULT_TABLE;
            else if (!strcmp(optarg, "csv"))
                format = FIN_RESULT_CSV;
            else if (!strcmp(optarg, "json"))
                format = FIN_RESULT_JSON;
            else
                return fin_cli_usage_error("query", "--format is table, csv or json, not '%s'",
                                           optarg);
            break;
        case 's': save = true; break;
        case 'f': file = optarg; break;
        case 'd': database = optarg; break;
        case 'h': usage(); return 0;
        default: return fin_cli_usage_error("query", "unknown option");
        }
    }
    if (argc - optind > 1)
        return fin_cli_usage_error("query", "give the SQL as one argument (quote it)");
    if (file && optind < argc)
        return fin_cli_usage_error("query", "SQL both as an argument and from -f");
    struct fin_query_settings set;
    char *sql = NULL;
    bool shell = false;
    int rc = fin_query_settings_load(&set, cli->config);
    if (rc) {
        fin_log_err(rc, "query");
        return 1;
    }
    if (optind < argc) {
        sql = strdup(argv[optind]);
        rc = sql ? 0 : FIN_ENOMEM;
    } else if (file && strcmp(file, "-") != 0) {
        size_t len;
        rc = fin_read_file(file, &sql, &len);
    } else if (!file && isatty(STDIN_FILENO)) {
        shell = true;
    } else {
        rc = read_stream(stdin, &sql);
    }
    if (rc) {
        fin_log_err(rc, "query");
        fin_query_settings_fini(&set);
        return 1;
    }
    if (sql && sql[strspn(sql, " \t\r\n;")] == '\0') {   /* "" would run nothing and say nothing */
        free(sql);
        fin_query_settings_fini(&set);
        return fin_cli_usage_error("query", "the SQL is empty");
    }
    struct fin_query *q = NULL;
    rc = fin_query_open(&q, cli->data_dir);
    if (rc) {
        fin_log_err(rc, "query");
        goto out;
    }
    if (!database && set.database && *set.database)
        database = set.database;
    if (database && (rc = fin_query_set_database(q, database))) {
        fprintf(stderr, "finstream query: %s\n", fin_err_msg());
        goto out;
    }
    if (shell)
        rc = fin_query_shell(q, cli->data_dir, format, format_set);
    else
        rc = run_script(cli, q, sql, format, save);
out:
    fin_query_close(q);
    fin_query_settings_fini(&set);
    free(sql);
    return rc ? 1 : 0;
}
