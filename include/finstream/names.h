/* names.h - the one rule for the names of things: streams, deliveries, collectors,
 * databases, tables and consumers.
 *
 * Every name becomes a path component somewhere under the data directory (a stream's
 * folder, a collector's memory, a delivery's state), so every entry point (the command
 * line, finstream.ini, the HTTP APIs) checks it with the same rule before using it:
 *
 *     1 to max(kind) characters of [A-Za-z0-9_.-], not starting with '.'
 *
 * which is Kinesis's and Firehose's pattern ([a-zA-Z0-9_.-]+) less the names a folder
 * listing hides or a path walks out with ("..", ".x"). */
#ifndef FINSTREAM_NAMES_H
#define FINSTREAM_NAMES_H

#include <stdbool.h>
#include <stddef.h>

enum fin_name_kind {
    FIN_NAME_STREAM,      /* 128, as Kinesis */
    FIN_NAME_DELIVERY,    /* 64, as Firehose */
    FIN_NAME_COLLECTOR,   /* 64, as a Lambda function name */
    FIN_NAME_DATABASE,    /* 255, as Glue */
    FIN_NAME_TABLE,       /* 255, as Glue */
    FIN_NAME_CONSUMER,    /* 128 */
};

/* 0 when name is a valid name of kind; otherwise FIN_EINVAL with a message that says
 * what kind of name, which character at which position, and what is allowed. */
int fin_name_check(enum fin_name_kind kind, const char *name);

/* The same rule without a message, for len bytes that need not end in NUL (a NUL byte
 * inside makes the name invalid). */
bool fin_name_valid(enum fin_name_kind kind, const char *name, size_t len);

/* "stream", "delivery", ...; and the longest name of that kind. */
const char *fin_name_kind_str(enum fin_name_kind kind);
size_t fin_name_max(enum fin_name_kind kind);

#endif
