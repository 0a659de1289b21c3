/* log.h - messages to stderr, one line each, prefixed with the program name and level. */
#ifndef FINSTREAM_LOG_H
#define FINSTREAM_LOG_H

enum fin_log_level { FIN_LOG_DEBUG, FIN_LOG_INFO, FIN_LOG_WARN, FIN_LOG_ERROR };

#include <stdbool.h>

void fin_log_set_level(enum fin_log_level level);
/* --log-format json: every message (and event, progress.h) one JSON object per line,
 * {"time":"...Z","level":"warning","msg":"..."}; default: "finstream: warning: ...". */
void fin_log_set_json(bool on);
bool fin_log_json(void);
enum fin_log_level fin_log_get_level(void);
void fin_log(enum fin_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define fin_debug(...) fin_log(FIN_LOG_DEBUG, __VA_ARGS__)
#define fin_info(...)  fin_log(FIN_LOG_INFO, __VA_ARGS__)
#define fin_warn(...)  fin_log(FIN_LOG_WARN, __VA_ARGS__)
#define fin_error(...) fin_log(FIN_LOG_ERROR, __VA_ARGS__)

/* Prints "finstream: <message>: <fin_err_msg() or fin_strerror(code)>" as an error. */
void fin_log_err(int code, const char *what);

#endif
