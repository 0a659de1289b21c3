/* io.h - the file-I/O seam of the stream.
 *
 * Every call the stream makes that changes a file goes through a struct fin_io, so
 * tests can fail a chosen write, fsync or truncate (as SQLite's test VFS does) and
 * check that the put fails cleanly and nothing on disk is corrupted. The functions
 * follow the POSIX calls they stand for: they return what the call returns and set
 * errno on failure. Reads use the plain calls: a failed read corrupts nothing. */
#ifndef FINSTREAM_IO_H
#define FINSTREAM_IO_H

#include <stddef.h>
#include <sys/types.h>

struct fin_io {
    int (*open)(void *ctx, const char *path, int flags, mode_t mode);
    int (*close)(void *ctx, int fd);
    ssize_t (*pwrite)(void *ctx, int fd, const void *buf, size_t n, off_t off);
    int (*fsync)(void *ctx, int fd);
    int (*ftruncate)(void *ctx, int fd, off_t len);
    int (*rename)(void *ctx, const char *from, const char *to);
    int (*unlink)(void *ctx, const char *path);
    void *ctx;
};

/* The real implementation (the system calls, retried on EINTR); borrowed, static. */
const struct fin_io *fin_io_real(void);

/* Writes all n bytes at off, continuing after short writes; 0 or -1 with errno. */
int fin_io_pwrite_all(const struct fin_io *io, int fd, const void *buf, size_t n, off_t off);

/* Writes path atomically through io: path.tmp, fsync, rename, fsync of the directory. */
int fin_io_write_file_atomic(const struct fin_io *io, const char *path, const void *data,
                             size_t len);

#endif
