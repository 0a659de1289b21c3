/* log.c - one line per message on stderr. */
#include "finstream/log.h"
#include "finstream/error.h"

#include <stdarg.h>
#include <stdio.h>

static enum fin_log_level min_level = FIN_LOG_INFO;

void fin_log_set_level(enum fin_log_level level) { min_level = level; }
enum fin_log_level fin_log_get_level(void) { return min_level; }

void fin_log(enum fin_log_level level, const char *fmt, ...)
{
    static const char *names[] = {"debug: ", "", "warning: ", "error: "};
    if (level < min_level)
        return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "finstream: %s%s\n", names[level], line);
}

void fin_log_err(int code, const char *what)
{
    const char *detail = fin_err_msg();
    if (detail[0])
        fin_log(FIN_LOG_ERROR, "%s: %s", what, detail);
    else
        fin_log(FIN_LOG_ERROR, "%s: %s", what, fin_strerror(code));
}
