/* cmd_catalog.c - finstream catalog: list tables, show one, print its Athena DDL. */
#include "cli.h"
#include "finstream/catalog.h"
#include "finstream/error.h"
#include "finstream/log.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
    printf("usage: finstream catalog list\n"
           "       finstream catalog show TABLE [--partitions]\n"
           "       finstream catalog ddl TABLE [--location s3://BUCKET/PREFIX/]\n"
           "\n"
           "The data catalog that 'finstream crawl' keeps (catalog/catalog.json).\n"
           "TABLE is database.table or a table of the default database (%s).\n"
           "\n"
           "  list          every table: format, columns, partitions, location\n"
           "  show          a table's columns, partition keys, format and crawl counts\n"
           "  ddl           the Athena CREATE EXTERNAL TABLE statement for the table, with\n"
           "                the S3 location given (default: the local folder as file://)\n"
           "\n"
           "options:\n"
           "  --partitions  with show: list every partition\n"
           "  --location U  with ddl: the table's location in S3\n"
           "  -h, --help    this help\n",
           FIN_CATALOG_DEFAULT_DATABASE);
}

static void show(const struct fin_table *t, bool partitions)
{
    printf("table           %s.%s\n", t->database, t->name);
    printf("location        %s\n", t->location);
    printf("classification  %s\n", t->classification);
    if (!strcmp(t->classification, "json"))
        printf("framing         %s\n", t->framing);
    printf("compression     %s\n", t->compression);
    printf("created         %s\n", t->created);
    printf("updated         %s\n", t->updated);
    printf("objects         %zu\n", t->nobjects);
    printf("records sampled %lld\n", (long long)t->records_sampled);
    printf("bad records     %lld\n", (long long)t->bad_records);
    printf("columns\n");
    for (size_t i = 0; i < t->columns.n; i++) {
        const struct fin_column *c = &t->columns.v[i];
        printf("  %-20s %s", c->name, c->type);
        if (c->source && strcmp(c->source, c->name) != 0)
            printf("   (key \"%s\")", c->source);
        printf("\n");
    }
    printf("partition keys\n");
    for (size_t i = 0; i < t->partition_keys.n; i++)
        printf("  %-20s string\n", t->partition_keys.v[i].name);
    printf("partitions      %zu\n", t->npartitions);
    for (size_t i = 0; partitions && i < t->npartitions; i++) {
        printf("  ");
        for (size_t k = 0; k < t->partition_keys.n; k++)
            printf("%s%s=%s", k ? " " : "", t->partition_keys.v[k].name,
                   t->partitions[i].values[k]);
        printf("\n");
    }
}

int fin_cmd_catalog(struct fin_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"partitions", no_argument, NULL, 'p'}, {"location", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    bool partitions = false;
    const char *location = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': partitions = true; break;
        case 'l': location = optarg; break;
        case 'h': usage(); return 0;
        default: return fin_cli_usage_error("catalog", "unknown option");
        }
    }
    if (optind >= argc)
        return fin_cli_usage_error("catalog", "say list, show TABLE or ddl TABLE");
    const char *verb = argv[optind];
    const char *name = optind + 1 < argc ? argv[optind + 1] : NULL;
    bool is_list = !strcmp(verb, "list");
    if (!is_list && strcmp(verb, "show") && strcmp(verb, "ddl"))
        return fin_cli_usage_error("catalog", "'%s' is not list, show or ddl", verb);
    if (!is_list && !name)
        return fin_cli_usage_error("catalog", "%s wants a TABLE", verb);
    struct fin_catalog *cat;
    int rc = fin_catalog_open(&cat, cli->data_dir);
    if (rc) {
        fin_log_err(rc, "catalog");
        return 1;
    }
    int status = 0;
    if (is_list) {
        for (size_t i = 0; i < fin_catalog_table_count(cat); i++) {
            const struct fin_table *t = fin_catalog_table_at(cat, i);
            printf("%s.%s  %s%s%s  %zu columns  %zu partition keys  %zu partitions  %s\n",
                   t->database, t->name, t->classification,
                   strcmp(t->classification, "json") ? "" : "/",
                   strcmp(t->classification, "json") ? "" : t->framing, t->columns.n,
                   t->partition_keys.n, t->npartitions, t->location);
        }
    } else {
        const struct fin_table *t = fin_catalog_find(cat, name);
        if (!t) {
            fin_error("catalog: no table '%s' (see 'finstream catalog list')", name);
            status = 1;
        } else if (!strcmp(verb, "show")) {
            show(t, partitions);
        } else {
            char *ddl;
            if ((rc = fin_catalog_ddl(t, location, &ddl))) {
                fin_log_err(rc, "catalog ddl");
                status = 1;
            } else {
                fputs(ddl, stdout);
                free(ddl);
            }
        }
    }
    fin_catalog_close(cat);
    return status;
}
