/* test_source_input.c - the csv source refuses what it cannot read faithfully (a NUL inside
 * a cell, hex numbers, impossible offsets) with file:line:column, and keeps memory bounded
 * by csv_max_line whatever the length of a line; replay refuses UTF-16 and fails, saying
 * why, when no file holds JSON records. */
#include "fin_test.h"

#include "collector/source_util.h"
#include "finstream/buf.h"
#include "finstream/collector.h"
#include "finstream/error.h"
#include "finstream/timeutil.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <zlib.h>

struct mem {
    struct fin_buf out;
    size_t n;
};

static int mem_put(void *ctx, const char *key, size_t key_len, const char *rec, size_t len)
{
    struct mem *m = ctx;
    (void)key, (void)key_len;
    m->n++;
    if (fin_buf_append(&m->out, rec, len) || fin_buf_append(&m->out, "\n", 1))
        return FIN_ENOMEM;
    return 0;
}

struct run {
    struct mem mem;
    struct fin_emitter em;
    struct fin_collect_settings set;
    char err[16384];   /* what was logged */
    int saved_fd;
    FILE *capture;
};

static void run_init(struct run *r)
{
    memset(r, 0, sizeof *r);
    fin_buf_init(&r->mem.out);
    struct fin_record_format fmt;
    assert_int_equal(fin_record_format_parse(&fmt, NULL), 0);
    struct fin_record_sink sink = {mem_put, NULL, &r->mem};
    assert_int_equal(fin_emitter_init(&r->em, &fmt, &sink, false), 0);
    assert_int_equal(fin_opts_defaults(fin_collect_opts, &r->set), 0);
    /* stderr into a file, so the warnings can be read back */
    fflush(stderr);
    r->saved_fd = dup(2);
    r->capture = tmpfile();
    assert_non_null(r->capture);
    dup2(fileno(r->capture), 2);
}

static void run_stop_capture(struct run *r)
{
    fflush(stderr);
    dup2(r->saved_fd, 2);
    close(r->saved_fd);
    rewind(r->capture);
    size_t n = fread(r->err, 1, sizeof r->err - 1, r->capture);
    r->err[n] = '\0';
    fclose(r->capture);
}

static void run_fini(struct run *r)
{
    fin_emitter_fini(&r->em);
    fin_opts_fini(fin_collect_opts, &r->set);
    fin_buf_fini(&r->mem.out);
}

static void expect_err(struct run *r, const char *needle)
{
    if (!strstr(r->err, needle))
        fprintf(stderr, "[%s] not in:\n%s\n", needle, r->err);
    assert_non_null(strstr(r->err, needle));
}

static void test_cells_refused(void **state)
{
    (void)state;
    static const char text[] =
        "Ticker,Date,Open,High,Low,Close,Volume\n"
        "AAA,2020-05-14,1,2,1,1.5,100\n"
        "AAA,2020-05-15,1,2,1,1.5,1\0" "00\n"                   /* NUL: was read as 1 */
        "AAA,2020-05-18,1,2,1,0x10,100\n"                        /* hex: was read as 16 */
        "AAA,2020-05-19,1,2,1,1.5,0x10\n"
        "AAA,2020-05-20,inf,2,1,1.5,100\n"
        "AAA,2020-05-21 09:30:00+99:00,1,2,1,1.5,100\n"         /* was accepted */
        "\"A\0A\",2020-05-22,1,2,1,1.5,100\n"
        "AAA,2020-05-26,1,2,1,1.5e0,1e2\n";
    struct run r;
    run_init(&r);
    int rc = fin_csv_parse("t.csv", text, sizeof text - 1, NULL, &r.em);
    run_stop_capture(&r);
    assert_int_equal(rc, 0);
    assert_int_equal(r.mem.n, 2);
    assert_int_equal(r.em.stats.bad, 6);
    expect_err(&r, "t.csv:3:27: a NUL byte inside a cell");
    expect_err(&r, "t.csv:4:22: close \"0x10\" is not a number");
    expect_err(&r, "t.csv:5:26: volume \"0x10\" is not a whole number");
    expect_err(&r, "t.csv:6:16: open \"inf\" is not a number");
    expect_err(&r, "t.csv:7:5: \"2020-05-21 09:30:00+99:00\" is not a time");
    expect_err(&r, "t.csv:8:3: a NUL byte inside a cell");
    assert_non_null(strstr(fin_buf_cstr(&r.mem.out), "\"close\":1.5e0,\"volume\":100}"));
    run_fini(&r);

    int64_t t;
    assert_int_not_equal(fin_parse_time("2020-05-21 09:30:00+99:00", 0, &t), 0);
    assert_int_not_equal(fin_parse_time("2020-05-21 09:30:00-05:60", 0, &t), 0);
    assert_int_equal(fin_parse_time("2020-05-21 09:30:00+14:00", 0, &t), 0);
}

static char *write_gz_line(const char *dir, size_t line_bytes)
{
    char *path = fin_path_join(dir, "big.csv.gz");
    gzFile f = gzopen(path, "wb1");
    assert_non_null(f);
    gzputs(f, "Date,Close,Volume\n2020-05-14,1.5,100\n2020-05-15,");
    char chunk[65536];
    memset(chunk, '7', sizeof chunk);
    for (size_t done = 0; done < line_bytes; done += sizeof chunk)
        assert_int_equal(gzwrite(f, chunk, sizeof chunk), (int)sizeof chunk);
    gzputs(f, ",100\n2020-05-18,2.5,200\n");
    gzclose(f);
    return path;
}

static long peak_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void collect(struct run *r, const char *arg)
{
    struct fin_source *src = NULL;
    assert_int_equal(fin_source_csv.create(&src, arg, &r->set), 0);
    assert_int_equal(fin_source_csv.collect(src, NULL, 0, NULL, &r->em), 0);
    fin_source_csv.destroy(src);
}

static void test_line_cap(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("csv-cap");
    /* 32 MiB in one line, from a file of some 100 KB: read through, never kept */
    char *gz = write_gz_line(dir, 32u << 20);
    long before = peak_kib();
    struct run r;
    run_init(&r);
    collect(&r, gz);
    run_stop_capture(&r);
    long grew = peak_kib() - before;
    assert_int_equal(r.mem.n, 2);
    assert_int_equal(r.em.stats.bad, 1);
    expect_err(&r, "big.csv.gz:3: a record of more than 1048576 bytes (csv_max_line)");
    fprintf(stderr, "peak memory grew by %ld KiB reading a 32 MiB line\n", grew);
    assert_true(grew < 24 * 1024);
    run_fini(&r);

    /* the cap is a setting */
    char *small = fin_path_join(dir, "small.csv");
    FILE *f = fopen(small, "w");
    assert_non_null(f);
    fprintf(f, "Date,Close,Note\n2020-05-14,1.5,short\n2020-05-15,2.5,%02000d\n2020-05-18,3.5,x\n", 0);
    fclose(f);
    run_init(&r);
    assert_int_equal(fin_opts_set(fin_collect_opts, &r.set, "csv_max_line", "1KiB", "test"), 0);
    collect(&r, small);
    run_stop_capture(&r);
    assert_int_equal(r.mem.n, 2);
    expect_err(&r, "small.csv:3: a record of more than 1024 bytes");
    run_fini(&r);
    run_init(&r);
    collect(&r, small);   /* the default takes it */
    run_stop_capture(&r);
    assert_int_equal(r.mem.n, 3);
    run_fini(&r);
    assert_int_equal(fin_opts_set(fin_collect_opts, &r.set, "csv_max_line", "10", "test"), FIN_ECONFIG);
    free(small);
    free(gz);
    fin_test_rmdir(dir);
}

static void write_bytes(const char *dir, const char *name, const void *data, size_t len)
{
    char *path = fin_path_join(dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    free(path);
}

static int replay(struct run *r, const char *arg)
{
    struct fin_source *src = NULL;
    int rc = fin_source_replay.create(&src, arg, &r->set);
    if (!rc)
        rc = fin_source_replay.collect(src, NULL, 0, NULL, &r->em);
    fin_source_replay.destroy(src);
    return rc;
}

static void test_replay_encodings(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("replay-enc");
    char *one = fin_path_join(dir, "one"), *two = fin_path_join(dir, "two");
    assert_int_equal(fin_mkdir_p(one, 0755), 0);
    assert_int_equal(fin_mkdir_p(two, 0755), 0);
    /* {"name":"FB"} in UTF-16LE with its byte-order mark, and UTF-16BE without one */
    static const char le[] = "\xff\xfe{\0\"\0n\0a\0m\0e\0\"\0:\0\"\0F\0B\0\"\0}\0\n\0";
    static const char be[] = "\0{\0\"\0n\0a\0m\0e\0\"\0:\0\"\0F\0B\0\"\0}\0\n";
    write_bytes(one, "le.json", le, sizeof le - 1);
    write_bytes(one, "be.json", be, sizeof be - 1);
    write_bytes(one, "ok.json", "\xef\xbb\xbf{\"name\":\"FB\"}\n", 18);   /* a UTF-8 mark is fine */
    struct run r;
    run_init(&r);
    int rc = replay(&r, one);
    run_stop_capture(&r);
    assert_int_equal(rc, 0);
    assert_int_equal(r.mem.n, 1);
    assert_int_equal(r.em.stats.tickers_failed, 2);
    expect_err(&r, "le.json: UTF-16LE text, not UTF-8");
    expect_err(&r, "be.json: UTF-16BE text, not UTF-8");
    expect_err(&r, "iconv -f UTF-16LE -t UTF-8");
    run_fini(&r);

    /* nothing but files that are not JSON records: the run fails and says why */
    write_bytes(two, "answer.csv", "\"name\",\"high\"\n", 15);
    write_bytes(two, "blob.bin", "\x01\x02", 2);
    run_init(&r);
    rc = replay(&r, two);
    run_stop_capture(&r);
    assert_int_equal(rc, FIN_EPARSE);
    assert_non_null(strstr(fin_err_msg(), "none of its files holds JSON records"));
    expect_err(&r, "answer.csv: not JSON records: it starts with '\"'");
    expect_err(&r, "blob.bin: not JSON records: it starts with the byte 0x01");
    run_fini(&r);
    free(one);
    free(two);
    fin_test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cells_refused),
        cmocka_unit_test(test_line_cap),
        cmocka_unit_test(test_replay_encodings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
