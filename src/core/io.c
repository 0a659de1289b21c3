/* io.c - the real file-I/O table and the helpers built on it. */
#include "finstream/io.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int real_open(void *ctx, const char *path, int flags, mode_t mode)
{
    (void)ctx;
    int fd;
    do
        fd = open(path, flags | O_CLOEXEC, mode);
    while (fd < 0 && errno == EINTR);
    return fd;
}

static int real_close(void *ctx, int fd) { (void)ctx; return close(fd); }

static ssize_t real_pwrite(void *ctx, int fd, const void *buf, size_t n, off_t off)
{
    (void)ctx;
    ssize_t r;
    do
        r = pwrite(fd, buf, n, off);
    while (r < 0 && errno == EINTR);
    return r;
}

static int real_fsync(void *ctx, int fd)
{
    (void)ctx;
    int r;
    do
        r = fsync(fd);
    while (r < 0 && errno == EINTR);
    return r;
}

static int real_ftruncate(void *ctx, int fd, off_t len)
{
    (void)ctx;
    int r;
    do
        r = ftruncate(fd, len);
    while (r < 0 && errno == EINTR);
    return r;
}

static int real_rename(void *ctx, const char *from, const char *to) { (void)ctx; return rename(from, to); }
static int real_unlink(void *ctx, const char *path) { (void)ctx; return unlink(path); }

const struct fin_io *fin_io_real(void)
{
    static const struct fin_io real = {real_open, real_close, real_pwrite, real_fsync,
                                        real_ftruncate, real_rename, real_unlink, NULL};
    return &real;
}

int fin_io_pwrite_all(const struct fin_io *io, int fd, const void *buf, size_t n, off_t off)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = io->pwrite(io->ctx, fd, p, n, off);
        if (w < 0)
            return -1;
        if (w == 0) {
            errno = ENOSPC;   /* a zero-length write makes no progress: treat it as a full disk */
            return -1;
        }
        p += w;
        n -= (size_t)w;
        off += w;
    }
    return 0;
}

int fin_io_write_file_atomic(const struct fin_io *io, const char *path, const void *data,
                             size_t len)
{
    char tmp[4096];
    int fd = -1, rc = 0;
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp)
        return fin_err_set(FIN_EINVAL, "path too long: %s", path);
    fd = io->open(io->ctx, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        rc = fin_err_errno(errno, "cannot create", tmp);
        goto fail;
    }
    if (fin_io_pwrite_all(io, fd, data, len, 0) != 0) {
        rc = fin_err_errno(errno, "cannot write", tmp);
        goto fail;
    }
    if (io->fsync(io->ctx, fd) != 0) {
        rc = fin_err_errno(errno, "cannot fsync", tmp);
        goto fail;
    }
    io->close(io->ctx, fd);
    fd = -1;
    if (io->rename(io->ctx, tmp, path) != 0) {
        rc = fin_err_errno(errno, "cannot rename", tmp);
        goto fail;
    }
    return fin_fsync_dir(path);
fail:
    if (fd >= 0)
        io->close(io->ctx, fd);
    io->unlink(io->ctx, tmp);
    return rc;
}
