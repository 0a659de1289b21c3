/* main.c - the finstream binary: global options, then one subcommand. */
#include "cli.h"
#include "finstream/error.h"
#include "finstream/interrupt.h"
#include "finstream/log.h"
#include "finstream/progress.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct fin_cli_command fin_cli_commands[] = {
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
const size_t fin_cli_n_commands = sizeof fin_cli_commands / sizeof fin_cli_commands[0];

/* The global options: parsed before or after the command, and the source of the
 * top-level --help, the man page and the bash completion (docs_gen.c). */
const struct fin_cli_global fin_cli_globals[] = {
    {"data-dir", 0, "DIR", "data directory (default ./finstream-data, or $FINSTREAM_DATA_DIR)"},
    {"quiet", 'q', NULL, "print only errors: no summaries, no progress line"},
    {"log-format", 0, "text|json", "messages and events as text lines (default) or one JSON object per line"},
    {"no-progress", 0, NULL, "no progress line, even on a terminal"},
    {"version", 0, NULL, "print the version"},
    {"help", 'h', NULL, "this help; 'finstream <command> --help' for a command's"},
    {NULL, 0, NULL, NULL},
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: finstream [global options] <command> [options]\n"
            "\n"
            "A streaming market-data pipeline in one binary: collector, stream, delivery,\n"
            "lake, crawler, query and report, embedded, with no server and no cloud account.\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < fin_cli_n_commands; i++)
        fprintf(out, "  %-9s %s\n", fin_cli_commands[i].name, fin_cli_commands[i].summary);
    fprintf(out, "\nglobal options (before or after the command):\n");
    for (const struct fin_cli_global *g = fin_cli_globals; g->name; g++) {
        char left[64];
        snprintf(left, sizeof left, "%s%c%s--%s%s%s", g->shrt ? "-" : "", g->shrt ? g->shrt : ' ',
                 g->shrt ? ", " : "", g->name, g->arg ? " " : "", g->arg ? g->arg : "");
        fprintf(out, "  %-22s %s\n", g->shrt ? left : left + 1, g->help);
    }
    fprintf(out, "\n%s", fin_cli_exit_codes_text);
}

const char fin_cli_exit_codes_text[] =
    "exit status: 0 success; 1 failure (the message says what and where); 2 a usage error\n"
    "(nothing was done); 130 cut short by SIGINT (Ctrl-C), 143 by SIGTERM, after what\n"
    "was already acknowledged was kept. A command that runs until stopped (a following\n"
    "deliver, collect --every, stream get --follow, serve) exits 0 when a signal stops it.\n";

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

/* Settings of the global options, applied only once every one has parsed. */
struct globals {
    const char *data_dir;
    bool quiet, json_log, no_progress;
};

/* If argv[*i] is a global option, takes it (and its value) into g and returns 1; 0 when
 * it is not one; 2 after a usage error. */
static int take_global(struct globals *g, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    const char *value = NULL;
    if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
        g->quiet = true;
        return 1;
    }
    if (strcmp(a, "--no-progress") == 0) {
        g->no_progress = true;
        return 1;
    }
    const char *names[] = {"--data-dir", "--log-format"};
    for (int k = 0; k < 2; k++) {
        size_t n = strlen(names[k]);
        if (strncmp(a, names[k], n) != 0 || (a[n] != '\0' && a[n] != '='))
            continue;
        if (a[n] == '=') {
            value = a + n + 1;
        } else if (*i + 1 < argc) {
            value = argv[++*i];
        } else {
            fprintf(stderr, "finstream: option %s needs a value\n", names[k]);
            return 2;
        }
        if (k == 0) {
            if (!*value) {
                fprintf(stderr, "finstream: --data-dir needs a directory\n");
                return 2;
            }
            g->data_dir = value;
        } else if (strcmp(value, "json") == 0 || strcmp(value, "text") == 0) {
            g->json_log = value[0] == 'j';
        } else {
            fprintf(stderr, "finstream: --log-format is text or json, not '%s'\n", value);
            return 2;
        }
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct fin_cli cli = {0};
    struct globals g = {0};
    g.data_dir = getenv("FINSTREAM_DATA_DIR");
    if (!g.data_dir || !*g.data_dir)
        g.data_dir = "./finstream-data";

    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        int r = take_global(&g, argc, argv, &i);
        if (r == 2)
            return 2;
        if (r == 1)
            continue;
        if (strcmp(a, "--version") == 0) {
            printf("finstream %s\n", FIN_VERSION);
            return 0;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--man-page") == 0) {
            return fin_cli_print_man(stdout);
        } else if (strcmp(a, "--bash-completion") == 0) {
            return fin_cli_print_bash_completion(stdout);
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
    const struct fin_cli_command *cmd = NULL;
    for (size_t c = 0; c < fin_cli_n_commands; c++)
        if (strcmp(argv[i], fin_cli_commands[c].name) == 0)
            cmd = &fin_cli_commands[c];
    if (!cmd) {
        fprintf(stderr, "finstream: '%s' is not a command\n", argv[i]);
        usage(stderr);
        return 2;
    }
    /* Global options after the command too (finstream run -q): taken out of the
     * command's arguments, up to a "--". */
    int cargc = 1;
    char **cargv = calloc((size_t)(argc - i) + 1, sizeof *cargv);
    if (!cargv)
        return 1;
    cargv[0] = argv[i];
    bool rest = false;
    for (int k = i + 1; k < argc; k++) {
        if (!rest && strcmp(argv[k], "--") == 0)
            rest = true;
        int r = rest ? 0 : take_global(&g, argc, argv, &k);
        if (r == 2) {
            free(cargv);
            return 2;
        }
        if (r == 0)
            cargv[cargc++] = argv[k];
    }

    /* Every option parsed: now apply them, all together. */
    cli.data_dir = g.data_dir;
    cli.quiet = g.quiet;
    if (g.quiet)
        fin_log_set_level(FIN_LOG_ERROR);
    fin_log_set_json(g.json_log);
    fin_progress_enable(!g.quiet && !g.no_progress && !g.json_log && isatty(STDERR_FILENO));
    char config[4096];
    snprintf(config, sizeof config, "%s/finstream.ini", cli.data_dir);
    cli.config = config;
    if (fin_interrupt_install() != 0)
        fin_log_err(FIN_EIO, "signals");
    /* nothing runs with a configuration it did not understand */
    if (strcmp(cmd->name, "version") != 0 && !fin_cli_wants_help(cargc, cargv) &&
        fin_cli_config_check(&cli) != 0) {
        free(cargv);
        return 1;
    }
    optind = 1;
    int status = cmd->fn(&cli, cargc, cargv);
    free(cargv);
    fin_progress_end();
    /* Cut short by a signal: the status says which. A command that runs until stopped
     * (a following deliver, collect --every) and stopped cleanly keeps its 0. */
    if (fin_interrupted() && status == 1)
        status = 128 + fin_interrupt_signal();
    return status;
}
