/* bench_aws.c - where the time of the AWS edge goes.
 *
 *   signing     SigV4 per request (small and 64 KiB bodies) and payload hashing, pure CPU
 *   kinesis     records/s produced with PutRecords to FIN_KINESIS_ENDPOINT (kinesalite),
 *               then read back with GetRecords
 *   s3          MB/s put to FIN_S3_ENDPOINT (s3rver): 5 MiB objects and one multipart object
 *
 * For the network parts it prints the client's CPU time, the time signing took, the time
 * inside the transport (server and loopback), and the server's CPU time when its pid is in
 * FIN_KINESIS_PID / FIN_S3_PID. tests/integration/aws/bench.sh starts the servers and runs
 * this; without endpoints only the signing figures are printed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "finstream/aws.h"
#include "finstream/aws_kinesis.h"
#include "finstream/aws_s3.h"
#include "finstream/error.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* CPU seconds of another process (the server), or -1. */
static double proc_cpu_s(const char *pid_env)
{
    const char *pid = getenv(pid_env);
    if (!pid || !*pid)
        return -1;
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%s/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    unsigned long ut = 0, st = 0;
    /* fields after the command: state ppid pgrp session tty tpgid flags minflt cminflt
     * majflt cmajflt utime stime */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void bench_signing(void)
{
    struct fin_aws_credentials cr = {.access_key_id = "AKIDEXAMPLE",
                                     .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
    struct fin_aws_header h[] = {{"Host", "kinesis.us-east-1.amazonaws.com"},
                                 {"X-Amz-Date", "20251126T103000Z"},
                                 {"Content-Type", "application/x-amz-json-1.1"},
                                 {"X-Amz-Target", "Kinesis_20131202.PutRecords"}};
    size_t big = 64 * 1024;
    char *body = malloc(big);
    memset(body, 'x', big);
    struct fin_sigv4_scope scope = {.region = "us-east-1", .service = "kinesis", .time_s = 1764153000};
    struct fin_sigv4_result res;
    fin_sigv4_result_init(&res);
    for (int pass = 0; pass < 2; pass++) {
        size_t len = pass ? big : 0;
        int iters = pass ? 5000 : 100000;
        struct fin_sigv4_request req = {.method = "POST", .path = "/", .headers = h, .n_headers = 4,
                                        .payload = body, .payload_len = len};
        double t0 = now_s();
        for (int i = 0; i < iters; i++)
            fin_sigv4_sign(&req, &scope, &cr, &res);
        double t = now_s() - t0;
        printf("signing   %6zu-byte body  %8.2f us/request  %9.0f requests/s\n", len,
               t / iters * 1e6, iters / t);
    }
    /* The hash alone, the part that grows with the body. */
    size_t mb = 64 << 20;
    char *data = malloc(mb);
    memset(data, 'y', mb);
    char hex[65];
    double t0 = now_s();
    fin_sha256_hex(data, mb, hex);
    double t = now_s() - t0;
    char md5[25];
    double t1 = now_s();
    fin_md5_base64(data, mb, md5);
    double t2 = now_s() - t1;
    printf("hashing   SHA-256 %.0f MB/s, MD5 %.0f MB/s (x-amz-content-sha256, Content-MD5)\n",
           mb / t / 1e6, mb / t2 / 1e6);
    free(data);
    free(body);
    fin_sigv4_result_fini(&res);
}

static struct fin_aws_settings settings_for(const char *endpoint)
{
    struct fin_aws_settings s;
    fin_aws_settings_load(&s, NULL, NULL);
    free(s.endpoint_url);
    s.endpoint_url = strdup(endpoint);
    free(s.region);
    s.region = strdup("us-east-1");
    free(s.access_key_id);
    s.access_key_id = strdup("S3RVER");
    free(s.secret_access_key);
    s.secret_access_key = strdup("S3RVER");
    s.part_size = 8 << 20;
    return s;
}

static void report(const char *what, const struct fin_aws_client_stats *st, double wall,
                   double cpu, double server)
{
    printf("  %s: wall %.2f s, client CPU %.2f s (signing %.3f s), in transport %.2f s, "
           "%llu requests (%llu retries)", what, wall, cpu, st->sign_ns / 1e9, st->send_ns / 1e9,
           (unsigned long long)st->requests, (unsigned long long)st->retries);
    if (server >= 0)
        printf(", server CPU %.2f s", server);
    printf("\n");
}

static int count_record(void *ctx, const struct fin_kinesis_record *r)
{
    (void)r;
    (*(size_t *)ctx)++;
    return 0;
}

static int bench_kinesis(const char *endpoint, int records)
{
    struct fin_aws_settings s = settings_for(endpoint);
    struct fin_aws_client *c;
    int rc = fin_aws_client_create(&c, "kinesis", &s, NULL);
    if (rc || (rc = fin_kinesis_create_stream(c, "bench", 2, 20000)))
        goto out;
    struct fin_kinesis_producer *p;
    if ((rc = fin_kinesis_producer_create(&p, &s, NULL, "bench")))
        goto out;
    static const char *const tickers[] = {"FB", "SHOP", "BYND", "NFLX", "PINS",
                                          "SQ", "TTD", "OKTA", "SNAP", "DDOG"};
    char rec[256];
    double w0 = now_s(), c0 = cpu_s(), s0 = proc_cpu_s("FIN_KINESIS_PID");
    for (int i = 0; i < records && !rc; i++) {
        const char *t = tickers[i % 10];
        int n = snprintf(rec, sizeof rec,
                         "{\"name\":\"%s\",\"ts\":\"2020-05-14 09:30:00-04:00\",\"open\":202.5,"
                         "\"high\":202.83,\"low\":201.59,\"close\":202.1,\"volume\":%d}",
                         t, 1000 + i);
        rc = fin_kinesis_producer_put(p, t, strlen(t), rec, (size_t)n);
    }
    if (!rc)
        rc = fin_kinesis_producer_flush(p);
    double wall = now_s() - w0, cpu = cpu_s() - c0, s1 = proc_cpu_s("FIN_KINESIS_PID");
    if (!rc) {
        printf("kinesis   PutRecords  %d records of ~120 bytes: %.0f records/s\n", records,
               records / wall);
        report("put", fin_aws_client_stats(fin_kinesis_producer_client(p)), wall, cpu,
               s0 >= 0 ? s1 - s0 : -1);
    }
    fin_kinesis_producer_destroy(p);
    if (rc)
        goto out;
    struct fin_kinesis_reader *r;
    if ((rc = fin_kinesis_reader_create(&r, &s, NULL, "bench", FIN_KINESIS_TRIM_HORIZON)))
        goto out;
    size_t n = 0, got = 0;
    w0 = now_s();
    c0 = cpu_s();
    s0 = proc_cpu_s("FIN_KINESIS_PID");
    rc = fin_kinesis_reader_drain(r, count_record, &got, &n);
    wall = now_s() - w0;
    cpu = cpu_s() - c0;
    s1 = proc_cpu_s("FIN_KINESIS_PID");
    if (!rc) {
        printf("kinesis   GetRecords  %zu records back: %.0f records/s (%llu GetRecords calls)\n",
               n, n / wall, (unsigned long long)fin_kinesis_reader_calls(r));
        report("get", fin_aws_client_stats(fin_kinesis_reader_client(r)), wall, cpu,
               s0 >= 0 ? s1 - s0 : -1);
    }
    fin_kinesis_reader_destroy(r);
    fin_kinesis_delete_stream(c, "bench");
out:
    if (rc)
        fprintf(stderr, "bench kinesis: %s\n", fin_err_msg());
    fin_aws_client_destroy(c);
    fin_aws_settings_fini(&s);
    return rc;
}

static int bench_s3(const char *endpoint, int objects)
{
    struct fin_aws_settings s = settings_for(endpoint);
    struct fin_s3 *s3;
    int rc = fin_s3_create(&s3, &s, NULL);
    if (rc || (rc = fin_s3_create_bucket(s3, "bench")))
        goto out;
    size_t len = 5 << 20;
    char *data = malloc(64 << 20);
    for (size_t i = 0; i < (64u << 20); i++)
        data[i] = (char)('a' + i % 23);
    char key[128];
    double w0 = now_s(), c0 = cpu_s(), s0 = proc_cpu_s("FIN_S3_PID");
    for (int i = 0; i < objects && !rc; i++) {
        snprintf(key, sizeof key, "2026/11/26/10/bench-1-2026-11-26-10-00-%02d-%020d", i % 60, i);
        rc = fin_s3_put_object(s3, "bench", key, data, len);
    }
    double wall = now_s() - w0, cpu = cpu_s() - c0, s1 = proc_cpu_s("FIN_S3_PID");
    if (!rc) {
        printf("s3        PutObject   %d objects of 5 MiB: %.1f MB/s\n", objects,
               objects * (double)len / wall / 1e6);
        report("put", fin_aws_client_stats(fin_s3_client(s3)), wall, cpu, s0 >= 0 ? s1 - s0 : -1);
    }
    fin_s3_destroy(s3);
    if (rc)
        goto done;
    /* One 64 MiB object in 8 MiB parts, with a fresh client for separate figures. */
    if ((rc = fin_s3_create(&s3, &s, NULL)))
        goto done;
    w0 = now_s();
    c0 = cpu_s();
    s0 = proc_cpu_s("FIN_S3_PID");
    rc = fin_s3_put_multipart(s3, "bench", "multipart/64MiB", data, 64 << 20, 8 << 20);
    wall = now_s() - w0;
    cpu = cpu_s() - c0;
    s1 = proc_cpu_s("FIN_S3_PID");
    if (!rc) {
        printf("s3        multipart   64 MiB in 8 parts: %.1f MB/s\n", (64 << 20) / wall / 1e6);
        report("put", fin_aws_client_stats(fin_s3_client(s3)), wall, cpu, s0 >= 0 ? s1 - s0 : -1);
    }
    fin_s3_destroy(s3);
done:
    free(data);
out:
    if (rc)
        fprintf(stderr, "bench s3: %s\n", fin_err_msg());
    fin_aws_settings_fini(&s);
    return rc;
}

int main(int argc, char **argv)
{
    int records = argc > 1 ? atoi(argv[1]) : 20000;
    int objects = argc > 2 ? atoi(argv[2]) : 20;
    bench_signing();
    const char *k = getenv("FIN_KINESIS_ENDPOINT"), *s = getenv("FIN_S3_ENDPOINT");
    int rc = 0;
    if (k && *k)
        rc |= bench_kinesis(k, records);
    else
        printf("kinesis   FIN_KINESIS_ENDPOINT not set: skipped (tests/integration/aws/bench.sh)\n");
    if (s && *s)
        rc |= bench_s3(s, objects);
    else
        printf("s3        FIN_S3_ENDPOINT not set: skipped\n");
    return rc ? 1 : 0;
}
