/* query_shell.h - the interactive SQL shell of `finstream query`. */
#ifndef FINSTREAM_QUERY_SHELL_H
#define FINSTREAM_QUERY_SHELL_H

#include "finstream/query.h"

#include <stdbool.h>

/* Reads statements from the terminal until end of input or quit; q stays the caller's.
 * format_set: the user chose --format (otherwise tables fitted to the terminal).
 * Returns the exit status (0). */
int fin_query_shell(struct fin_query *q, const char *data_dir, enum fin_result_format format,
                    bool format_set);

#endif
