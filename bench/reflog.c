/* reflog.c - the reference the stream's append path is measured against: the most
 * trivial CRC32C-framed append-only log one would write in C.
 *
 * Each record becomes u32 length | u32 CRC32C | key | data in a 1 MiB buffer; a full
 * buffer goes out with one write(), and the file is fsynced once a second and at the
 * end (what fsync = interval promises). No sequence numbers, no index, no segments, no
 * threads, no routing: whatever the stream does beyond this is its overhead.
 *
 * bench_stream links it and runs it interleaved with its own append runs, printing the
 * ratio; built alone (bench_reflog) it prints its own rate:
 *
 *     bench_reflog [--records N] [--dir DIR] */
#include "reflog.h"

#include "finstream/crc32c.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REFLOG_BUF (1u << 20)

static double mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

double reflog_run(const char *dir, long n, const char *const *keys, int n_keys,
                  const void *data, size_t len)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/reflog.log", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (fd < 0) {
        perror(path);
        return -1;
    }
    char *buf = malloc(REFLOG_BUF);
    size_t used = 0;
    size_t klen[64];
    for (int k = 0; k < n_keys && k < 64; k++)
        klen[k] = strlen(keys[k]);
    double t0 = mono_s(), last_sync = t0;
    int rc = 0;
    for (long i = 0; i < n && !rc; i++) {
        int k = (int)(i % n_keys);
        size_t flen = 8 + klen[k] + len;
        if (used + flen > REFLOG_BUF) {
            rc = write_all(fd, buf, used);
            used = 0;
            double now = mono_s();
            if (!rc && now - last_sync >= 1.0) {
                rc = fsync(fd);
                last_sync = now;
            }
        }
        char *f = buf + used;
        uint32_t l = (uint32_t)flen;
        memcpy(f, &l, 4);
        memcpy(f + 8, keys[k], klen[k]);
        memcpy(f + 8 + klen[k], data, len);
        uint32_t crc = fin_crc32c(0, f + 8, flen - 8);
        memcpy(f + 4, &crc, 4);
        used += flen;
    }
    if (!rc && used)
        rc = write_all(fd, buf, used);
    double t1 = mono_s();   /* the same point as the stream's figure: before the final fsync */
    if (!rc)
        rc = fsync(fd);
    close(fd);
    unlink(path);
    free(buf);
    if (rc) {
        perror(path);
        return -1;
    }
    return (double)n / (t1 - t0);
}

#ifdef REFLOG_MAIN
int main(int argc, char **argv)
{
    long n = 5000000;
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--records") == 0 && i + 1 < argc)
            n = atol(argv[++i]);
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            base = argv[++i];
        else {
            fprintf(stderr, "usage: bench_reflog [--records N] [--dir DIR]\n");
            return 2;
        }
    }
    static const char *keys[] = {"FB", "SHOP", "BYND", "NFLX", "PINS", "SQ", "TTD", "OKTA",
                                 "SNAP", "DDOG"};
    char rec[100];
    memset(rec, 'x', sizeof rec);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/finstream-reflog-XXXXXX", base);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    double r = reflog_run(dir, n, keys, 10, rec, sizeof rec);
    rmdir(dir);
    if (r < 0)
        return 1;
    printf("reflog   trivial CRC32C-framed log, 1 writer, %ld records of %zu bytes: %.2f M "
           "records/s\n", n, sizeof rec, r / 1e6);
    return 0;
}
#endif
