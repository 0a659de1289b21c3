/* error.h - one table of error codes for all of finstream.
 *
 * Fallible functions return 0 or a negative FIN_E* code. The code says what kind of
 * failure it was; the detail (which file, line, key or record) goes into a per-thread
 * message set with fin_err_set() and read with fin_err_msg(), so the caller that
 * finally reports the error can print both without every layer passing strings. */
#ifndef FINSTREAM_ERROR_H
#define FINSTREAM_ERROR_H

#include <stdbool.h>

#define FIN_ERRORS(X)                                                     \
    X(FIN_OK,        0,   "success")                                      \
    X(FIN_EINVAL,   -1,   "invalid argument")                             \
    X(FIN_ENOMEM,   -2,   "out of memory")                                \
    X(FIN_EIO,      -3,   "input/output error")                           \
    X(FIN_ENOENT,   -4,   "not found")                                    \
    X(FIN_EEXIST,   -5,   "already exists")                               \
    X(FIN_ECORRUPT, -6,   "corrupt data")                                 \
    X(FIN_ELIMIT,   -7,   "limit exceeded")                               \
    X(FIN_EBUSY,    -8,   "in use by another process")                    \
    X(FIN_ETIMEOUT, -9,   "timed out")                                    \
    X(FIN_ENET,     -10,  "network error")                                \
    X(FIN_EHTTP,    -11,  "HTTP error")                                   \
    X(FIN_EPARSE,   -12,  "parse error")                                  \
    X(FIN_EAGAIN,   -13,  "try again")                                    \
    X(FIN_ESQL,     -14,  "SQL error")                                    \
    X(FIN_ENOSPC,   -15,  "no space left on device")                      \
    X(FIN_ETHROTTLE,-16,  "throttled")                                    \
    X(FIN_ECONFIG,  -17,  "configuration error")                          \
    X(FIN_EUNSUPPORTED, -18, "not supported")                             \
    X(FIN_EEND,     -19,  "end of data")                                  \
    X(FIN_ECANCELED,-20,  "canceled")                                     \
    X(FIN_EAUTH,    -21,  "not authorized")                               \
    X(FIN_EUNREACHABLE, -31, "host unreachable")

enum fin_err {
#define FIN_ERR_ENUM(name, value, text) name = value,
    FIN_ERRORS(FIN_ERR_ENUM)
#undef FIN_ERR_ENUM
};

/* A static description of code; never NULL. */
const char *fin_strerror(int code);

/* True for failures that a later attempt may not repeat (timeouts, throttling, 5xx, EAGAIN). */
bool fin_err_is_retriable(int code);

/* Records a detail message for this thread and returns code, so that
 *     return fin_err_set(FIN_EPARSE, "%s:%d: bad number", path, line);
 * both reports and propagates. */
int fin_err_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Maps an errno value to a FIN_E* code and records "what: path: strerror(errno)". */
int fin_err_errno(int errnum, const char *what, const char *path);

/* The last detail message of this thread ("" when none); borrowed until the next fin_err_set. */
const char *fin_err_msg(void);

/* Clears the detail message. */
void fin_err_clear(void);

#endif
