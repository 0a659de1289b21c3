/* log.c - one line per message on stderr. */
#include "finstream/log.h"
#include "finstream/error.h"
#include "finstream/progress.h"

#include <jansson.h>
#include <stdlib.h>
#include <time.h>

#include <stdarg.h>
#include <stdio.h>

static enum fin_log_level min_level = FIN_LOG_INFO;
static bool json_format;

void fin_log_set_json(bool on) { json_format = on; }
bool fin_log_json(void) { return json_format; }

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
    fin_progress_clear();
    if (json_format) {
        static const char *levels[] = {"debug", "info", "warning", "error"};
        json_t *o = json_pack("{s:s,s:s,s:s}", "time", "", "level", levels[level], "msg", line);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        char when[40];
        size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(when + n, sizeof when - n, ".%03ldZ", ts.tv_nsec / 1000000);
        json_object_set_new(o, "time", json_string(when));
        char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        fprintf(stderr, "%s\n", text ? text : line);
        free(text);
        json_decref(o);
        return;
    }
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
