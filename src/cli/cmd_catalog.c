/* cmd_catalog.c - finstream catalog: list tables, show one (as text or JSON for
 * scripts), print its Athena DDL, drop or rename one. */
#include "cli.h"
#include "finstream/catalog.h"
#include "finstream/error.h"
#include "finstream/log.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
    printf("usage: finstream catalog list [--format text|json]\n"
           "       finstream catalog show TABLE [--partitions] [--format text|json]\n"
           "       finstream catalog ddl TABLE [--location s3://BUCKET/PREFIX/]\n"
           "       finstream catalog drop TABLE\n"
           "       finstream catalog rename TABLE NEW_NAME\n"
           "\n"
           "The data catalog that 'finstream crawl' keeps (catalog/catalog.json).\n"
           "TABLE is database.table or a table of the default database (%s).\n"
           "\n"
           "  list          every table: format, columns, partitions, location\n"
           "  show          a table's columns, partition keys, format and crawl counts\n"
           "  ddl           the Athena CREATE EXTERNAL TABLE statement for the table, with\n"
           "                the S3 location given (default: the local folder as file://)\n"
           "  drop          remove the table from the catalog; its objects stay in the lake\n"
           "                (as Athena's DROP TABLE of an external table)\n"
           "  rename        rename the table: NEW_NAME is a table name, or db.table to move\n"
           "                it to another database (created when new)\n"
           "\n"
           "options:\n"
           "  --partitions  with show: list every partition\n"
           "  --format F    with list and show: text (default) or json (list: an array of\n"
           "                tables; show: one table with its columns and partitions)\n"
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

static json_t *columns_json(const struct fin_columns *c)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < c->n; i++) {
        json_t *o = json_pack("{s:s, s:s}", "name", c->v[i].name, "type", c->v[i].type);
        if (o && c->v[i].source && strcmp(c->v[i].source, c->v[i].name) != 0)
            json_object_set_new(o, "key", json_string(c->v[i].source));
        json_array_append_new(a, o);
    }
    return a;
}

/* A table as JSON; partitions listed when asked (show), counted always. */
static json_t *table_json(const struct fin_table *t, bool partitions)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:I, s:I, s:I, s:I}",
                          "database", t->database, "name", t->name, "location", t->location,
                          "classification", t->classification, "framing", t->framing,
                          "compression", t->compression, "created", t->created, "updated",
                          t->updated, "columns", columns_json(&t->columns), "partition_keys",
                          columns_json(&t->partition_keys), "partition_count",
                          (json_int_t)t->npartitions, "objects", (json_int_t)t->nobjects,
                          "records_sampled", (json_int_t)t->records_sampled, "bad_records",
                          (json_int_t)t->bad_records);
    if (o && partitions) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < t->npartitions; i++) {
            json_t *vals = json_object();
            for (size_t k = 0; vals && k < t->partition_keys.n; k++)
                json_object_set_new(vals, t->partition_keys.v[k].name,
                                    json_string(t->partitions[i].values[k]));
            json_array_append_new(a, json_pack("{s:s, s:o}", "path", t->partitions[i].path,
                                               "values", vals));
        }
        json_object_set_new(o, "partitions", a);
    }
    return o;
}

static int print_json(json_t *v)
{
    char *s = v ? json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(v);
    if (!s) {
        fin_error("catalog: cannot encode the catalog as JSON (text that is not UTF-8?)");
        return 1;
    }
    puts(s);
    free(s);
    return 0;
}

int fin_cmd_catalog(struct fin_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"partitions", no_argument, NULL, 'p'}, {"location", required_argument, NULL, 'l'},
        {"format", required_argument, NULL, 'F'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool partitions = false, json = false;
    const char *location = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': partitions = true; break;
        case 'l': location = optarg; break;
        case 'F':
            if (!strcmp(optarg, "json"))
                json = true;
            else if (strcmp(optarg, "text") != 0)
                return fin_cli_usage_error("catalog", "--format is text or json, not '%s'", optarg);
            break;
        case 'h': usage(); return 0;
        default: return fin_cli_usage_error("catalog", "unknown option");
        }
    }
    if (optind >= argc)
        return fin_cli_usage_error("catalog", "say list, show TABLE, ddl TABLE, drop TABLE or "
                                              "rename TABLE NEW_NAME");
    const char *verb = argv[optind];
    const char *name = optind + 1 < argc ? argv[optind + 1] : NULL;
    const char *new_name = optind + 2 < argc ? argv[optind + 2] : NULL;
    bool is_list = !strcmp(verb, "list");
    if (!is_list && strcmp(verb, "show") && strcmp(verb, "ddl") && strcmp(verb, "drop") &&
        strcmp(verb, "rename"))
        return fin_cli_usage_error("catalog", "'%s' is not list, show, ddl, drop or rename", verb);
    if (!is_list && !name)
        return fin_cli_usage_error("catalog", "%s wants a TABLE", verb);
    if (!strcmp(verb, "rename") && !new_name)
        return fin_cli_usage_error("catalog", "rename wants TABLE and NEW_NAME");
    if (json && strcmp(verb, "list") && strcmp(verb, "show"))
        return fin_cli_usage_error("catalog", "--format json goes with list and show");
    struct fin_catalog *cat;
    int rc = fin_catalog_open(&cat, cli->data_dir);
    if (rc) {
        fin_log_err(rc, "catalog");
        return 1;
    }
    int status = 0;
    if (is_list && json) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < fin_catalog_table_count(cat); i++)
            json_array_append_new(a, table_json(fin_catalog_table_at(cat, i), false));
        status = print_json(a);
    } else if (is_list) {
        for (size_t i = 0; i < fin_catalog_table_count(cat); i++) {
            const struct fin_table *t = fin_catalog_table_at(cat, i);
            printf("%s.%s  %s%s%s  %zu columns  %zu partition keys  %zu partitions  %s\n",
                   t->database, t->name, t->classification,
                   strcmp(t->classification, "json") ? "" : "/",
                   strcmp(t->classification, "json") ? "" : t->framing, t->columns.n,
                   t->partition_keys.n, t->npartitions, t->location);
        }
    } else if (!strcmp(verb, "drop") || !strcmp(verb, "rename")) {
        bool drop = !strcmp(verb, "drop");
        if ((rc = drop ? fin_catalog_drop(cat, name) : fin_catalog_rename(cat, name, new_name)) ||
            (rc = fin_catalog_save(cat))) {
            fin_log_err(rc, drop ? "catalog drop" : "catalog rename");
            status = 1;
        } else if (!cli->quiet) {
            if (drop)
                fprintf(stderr, "catalog   dropped %s (its objects stay in the lake)\n", name);
            else
                fprintf(stderr, "catalog   renamed %s to %s\n", name, new_name);
        }
    } else {
        const struct fin_table *t = fin_catalog_find(cat, name);
        if (!t) {
            fin_error("catalog: no table '%s' (see 'finstream catalog list')", name);
            status = 1;
        } else if (!strcmp(verb, "show") && json) {
            status = print_json(table_json(t, true));
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
