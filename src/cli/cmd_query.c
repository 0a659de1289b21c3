/* cmd_query.c - finstream query: SQL over the catalog's tables, printed or saved as
 * Athena saves it. */
#include "cli.h"
#include "finstream/progress.h"
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
    printf("usage: finstream query [--format table|csv|json] [--save] [SQL | -f FILE]\n"
           "\n"
           "Runs one SQL statement over the catalog's tables, read in place from the lake\n"
           "(DuckDB, with Athena's functions and naming: see docs/query.md). Tables are\n"
           "database.table, as in Athena; a WHERE on partition columns limits the objects\n"
           "read. The SQL comes from the argument, from FILE, or from standard input.\n"
           "\n"
           "options:\n"
           "  --format F     table (default on a terminal), csv (Athena's CSV: header, every\n"
           "                 field in double quotes; default otherwise) or json (one object\n"
           "                 per row)\n"
           "  --save         also write results/<query-id>.csv and a .metadata file (query,\n"
           "                 time, rows, bytes scanned) under the data directory\n"
           "  -f FILE        read the SQL from FILE ('-' for standard input)\n"
           "  -h, --help     this help\n"
           "\n"
           "SQL errors print DuckDB's message with the position and exit with status 1.\n");
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

int fin_cmd_query(struct fin_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'F'}, {"save", no_argument, NULL, 's'},
        {"file", required_argument, NULL, 'f'},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    enum fin_result_format format = isatty(STDOUT_FILENO) ? FIN_RESULT_TABLE : FIN_RESULT_CSV;
    bool save = false;
    const char *file = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "hf:", longopts, NULL)) != -1) {
        switch (c) {
        case 'F':
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
        case 'h': usage(); return 0;
        default: return fin_cli_usage_error("query", "unknown option");
        }
    }
    if (argc - optind > 1)
        return fin_cli_usage_error("query", "give the SQL as one argument (quote it)");
    if (file && optind < argc)
        return fin_cli_usage_error("query", "SQL both as an argument and from -f");
    char *sql = NULL;
    int rc = 0;
    if (optind < argc) {
        sql = strdup(argv[optind]);
        rc = sql ? 0 : FIN_ENOMEM;
    } else if (file && strcmp(file, "-") != 0) {
        size_t len;
        rc = fin_read_file(file, &sql, &len);
    } else if (!file && isatty(STDIN_FILENO)) {
        return fin_cli_usage_error("query", "no SQL: give it as an argument, with -f, or on stdin");
    } else {
        rc = read_stream(stdin, &sql);
    }
    if (rc) {
        fin_log_err(rc, "query");
        return 1;
    }
    struct fin_query *q = NULL;
    struct fin_result *res = NULL;
    rc = fin_query_open(&q, cli->data_dir);
    if (rc) {
        fin_log_err(rc, "query");
        goto out;
    }
    fin_progress_begin("query", "rows", 0, 0);   /* elapsed time on a terminal */
    rc = fin_query_exec(q, sql, &res);
    fin_progress_end();
    if (rc) {
        /* DuckDB's message already says what and where */
        fprintf(stderr, "finstream query: %s\n", fin_err_msg());
        goto out;
    }
    if ((rc = fin_result_write(res, format, stdout))) {
        fin_log_err(rc, "query");
        goto out;
    }
    if (save) {
        char id[64];
        if ((rc = fin_result_save(res, cli->data_dir, sql, id, sizeof id))) {
            fin_log_err(rc, "query --save");
            goto out;
        }
        if (!cli->quiet)
            fprintf(stderr, "query     %zu rows  %llu bytes scanned  %.3f s -> results/%s.csv\n",
                    fin_result_rows(res), (unsigned long long)fin_result_bytes_scanned(res),
                    fin_result_seconds(res), id);
    }
out:
    fin_result_destroy(res);
    fin_query_close(q);
    free(sql);
    return rc ? 1 : 0;
}
