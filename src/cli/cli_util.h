/* cli_util.h - helpers shared by the subcommands. */
#ifndef FINSTREAM_CLI_UTIL_H
#define FINSTREAM_CLI_UTIL_H

#include "cli.h"
#include "finstream/config.h"

#include <jansson.h>

#include <stdint.h>
#include <time.h>

/* If argv[*i] is --KEY[=VALUE] (dashes for underscores) for a key of table, sets it
 * (consuming the value) and sets *matched. Returns 0, or 2 after printing a usage error. */
int fin_cli_table_option(const char *cmd, const struct fin_opt *table, void *settings, int argc,
                         char **argv, int *i, bool *matched);

/* "3,900": v with thousands separators in buf; returns buf. */
const char *fin_cli_count(char *buf, size_t size, uint64_t v);

/* How every option that takes a time reads it, for help texts and messages. */
#define FIN_CLI_TIME_CONVENTION                                                          \
    "YYYY-MM-DD hh:mm[:ss], New York exchange time unless it ends in Z or an offset "  \
    "such as -04:00; or epoch seconds where a number is accepted"

/* "N" (1 or more) or "all" (SIZE_MAX) for --top; FIN_EINVAL otherwise. */
int fin_cli_parse_top(const char *s, size_t *top);

/* 0 when s is a real calendar day "YYYY-MM-DD" (not 2026-02-30); FIN_EINVAL with a
 * message (fin_err_msg) otherwise. */
int fin_cli_check_date(const char *s);

/* A crawler progress callback (fin_crawl_opts.progress) feeding the progress line. */
void fin_cli_crawl_progress(void *ctx, const char *table, size_t done, size_t total);

/* Takes --format text|json (or --format=...) out of argv (argc adjusted, up to "--"),
 * setting *json. Returns 0, or 2 after a usage error. */
int fin_cli_take_format(const char *cmd, int *argc, char **argv, bool *json);

/* Prints o as one compact line on stdout and releases it (takes the reference). */
void fin_cli_print_json(json_t *o);

/* Seconds since start (CLOCK_MONOTONIC). */
double fin_cli_seconds_since(const struct timespec *start);

#endif
