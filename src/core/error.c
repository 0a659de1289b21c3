/* error.c - the error table and the per-thread detail message. */
#include "finstream/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char err_msg[1024];

const char *fin_strerror(int code)
{
    switch (code) {
#define FIN_ERR_CASE(name, value, text) case value: return text;
    FIN_ERRORS(FIN_ERR_CASE)
#undef FIN_ERR_CASE
    }
    return "unknown error";
}

bool fin_err_is_retriable(int code)
{
    return code == FIN_ETIMEOUT || code == FIN_ENET || code == FIN_EAGAIN ||
           code == FIN_ETHROTTLE || code == FIN_EBUSY;
}

int fin_err_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_msg, sizeof err_msg, fmt, ap);
    va_end(ap);
    return code;
}

int fin_err_errno(int errnum, const char *what, const char *path)
{
    int code;
    switch (errnum) {
    case ENOENT: code = FIN_ENOENT; break;
    case EEXIST: code = FIN_EEXIST; break;
    case ENOMEM: code = FIN_ENOMEM; break;
    case ENOSPC: case EDQUOT: code = FIN_ENOSPC; break;
    case EINVAL: case ENAMETOOLONG: case ENOTDIR: code = FIN_EINVAL; break;
    case EAGAIN: case EINTR: code = FIN_EAGAIN; break;
    case EBUSY: code = FIN_EBUSY; break;
    default: code = FIN_EIO; break;
    }
    if (path)
        return fin_err_set(code, "%s %s: %s", what, path, strerror(errnum));
    return fin_err_set(code, "%s: %s", what, strerror(errnum));
}

const char *fin_err_msg(void) { return err_msg; }

void fin_err_clear(void) { err_msg[0] = '\0'; }
