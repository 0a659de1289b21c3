/* reflog.h - the trivial CRC32C-framed append-only log that bench_stream compares the
 * stream's append path with (see reflog.c). */
#ifndef FIN_BENCH_REFLOG_H
#define FIN_BENCH_REFLOG_H

#include <stddef.h>

/* Appends n records (keys[i % n_keys], data) to a fresh file in dir, fsyncing once a
 * second; returns records/s up to the last write (before the final fsync), or -1. */
double reflog_run(const char *dir, long n, const char *const *keys, int n_keys,
                  const void *data, size_t len);

#endif
