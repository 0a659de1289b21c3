/* cli.h - the subcommands of the finstream binary and what they share. */
#ifndef FINSTREAM_CLI_H
#define FINSTREAM_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* Global options, parsed by main before the subcommand. */
struct fin_cli {
    const char *data_dir;   /* --data-dir, default ./finstream-data */
    const char *config;     /* path of finstream.ini inside data_dir (owned by main) */
    bool quiet;
};

/* Every subcommand: argv[0] is the subcommand's name; returns the process exit code
 * (0 success, 1 failure, 2 usage error). Each prints its own --help. */
int fin_cmd_collect(struct fin_cli *cli, int argc, char **argv);
int fin_cmd_stream(struct fin_cli *cli, int argc, char **argv);
int fin_cmd_deliver(struct fin_cli *cli, int argc, char **argv);
int fin_cmd_crawl(struct fin_cli *cli, int argc, char **argv);
int fin_cmd_catalog(struct fin_cli *cli, int argc, char **argv);
int fin_cmd_query(struct fin_cli *cli, int argc, char **argv);
int fin_cmd_report(struct fin_cli *cli, int argc, char **argv);
int fin_cmd_check(struct fin_cli *cli, int argc, char **argv);
int fin_cmd_run(struct fin_cli *cli, int argc, char **argv);
int fin_cmd_serve(struct fin_cli *cli, int argc, char **argv);
int fin_cmd_version(struct fin_cli *cli, int argc, char **argv);
int fin_cmd_console(struct fin_cli *cli, int argc, char **argv);

/* Prints "console on http://ADDR:PORT/" (and the token when it asks for one) to stdout. */
struct fin_console;
void fin_console_print_address(const struct fin_console *con, const char *listen);

/* The commands, in --help order. */
struct fin_cli_command {
    const char *name;
    int (*fn)(struct fin_cli *cli, int argc, char **argv);
    const char *summary;
};
extern const struct fin_cli_command fin_cli_commands[];
extern const size_t fin_cli_n_commands;

/* The global options (main.c), ended by a NULL name. */
struct fin_cli_global {
    const char *name;       /* long name without "--" */
    char shrt;              /* short letter or 0 */
    const char *arg;        /* value's placeholder, NULL for a flag */
    const char *help;
};
extern const struct fin_cli_global fin_cli_globals[];
/* The exit statuses, as --help and the man page state them. */
extern const char fin_cli_exit_codes_text[];

/* The man page (roff) and the bash completion script, generated from the tables above
 * and each command's --help (docs_gen.c). Return the exit status. */
int fin_cli_print_man(FILE *out);
int fin_cli_print_bash_completion(FILE *out);

/* Loads cli->config and holds it against every section finstream knows; prints the
 * first problem (file, line, section, key) and returns its code, or 0. */
int fin_cli_config_check(const struct fin_cli *cli);

/* True when argv holds -h or --help. */
bool fin_cli_wants_help(int argc, char **argv);

/* Prints "finstream <cmd>: <msg>" and a hint to --help; returns 2. */
int fin_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
