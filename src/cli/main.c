/* main.c - the finstream binary: global options, then one subcommand. */
#include "cli.h"
#include "finstream/error.h"
#include "finstream/log.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct command {
    const char *name;
    int (*fn)(struct fin_cli *cli, int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"run", fin_cmd_run, "whole pipeline once: collect, stream, deliver, crawl, query, report"},
    {"collect", fin_cmd_collect, "run the collector once or on a schedule"},
    {"stream", fin_cmd_stream, "create | list | describe | put | get | split | merge | scale | delete streams"},
    {"deliver", fin_cmd_deliver, "run delivery until caught up (--once) or forever"},
    {"crawl", fin_cmd_crawl, "catalog the lake"},
    {"catalog", fin_cmd_catalog, "list | show | ddl | drop | rename tables"},
    {"query", fin_cmd_query, "SQL over catalog tables (argument, -f FILE or stdin)"},
    {"report", fin_cmd_report, "charts and HTML from the lake"},
    {"serve", fin_cmd_serve, "the Kinesis, Firehose and Lambda APIs over HTTP, for AWS SDKs and the AWS CLI"},
    {"console", fin_cmd_console, "the web console: pipeline live, lake, catalog, SQL and charts"},
    {"check", fin_cmd_check, "verify (and with --fix repair) stream logs"},
    {"version", fin_cmd_version, "print versions of finstream and its engines"},
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: finstream [--data-dir DIR] [-q] <command> [options]\n"
            "\n"
            "A streaming market-data pipeline in one binary: collector, stream, delivery,\n"
            "lake, crawler, query and report, embedded, with no server and no cloud account.\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n"
            "global options:\n"
            "  --data-dir DIR   data directory (default ./finstream-data, or $FINSTREAM_DATA_DIR)\n"
            "  -q, --quiet      print only errors\n"
            "  --version        print the version\n"
            "  -h, --help       this help; 'finstream <command> --help' for a command's\n");
}

bool fin_cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return true;
    }
    return false;
}

int fin_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "finstream %s: %s\n(see 'finstream %s --help')\n", cmd, msg, cmd);
    return 2;
}

int main(int argc, char **argv)
{
    struct fin_cli cli = {0};
    cli.data_dir = getenv("FINSTREAM_DATA_DIR");
    if (!cli.data_dir || !*cli.data_dir)
        cli.data_dir = "./finstream-data";

    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--data-dir") == 0 && i + 1 < argc) {
            cli.data_dir = argv[++i];
        } else if (strncmp(a, "--data-dir=", 11) == 0) {
            cli.data_dir = a + 11;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            cli.quiet = true;
            fin_log_set_level(FIN_LOG_ERROR);
        } else if (strcmp(a, "--version") == 0) {
            printf("finstream %s\n", FIN_VERSION);
            return 0;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "finstream: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    char config[4096];
    snprintf(config, sizeof config, "%s/finstream.ini", cli.data_dir);
    cli.config = config;
    for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++)
        if (strcmp(argv[i], commands[c].name) == 0) {
            /* nothing runs with a configuration it did not understand */
            if (strcmp(argv[i], "version") != 0 && !fin_cli_wants_help(argc - i, argv + i) &&
                fin_cli_config_check(&cli) != 0)
                return 1;
            optind = 1;
            return commands[c].fn(&cli, argc - i, argv + i);
        }
    fprintf(stderr, "finstream: '%s' is not a command\n", argv[i]);
    usage(stderr);
    return 2;
}
