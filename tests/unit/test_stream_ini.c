/* test_stream_ini.c - a stream's own stream.ini is read strictly: an edited shard count is
 * refused (by [meta] and by the shard folders), and a damaged file never opens. */
#include "fin_test.h"

#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/stream.h"

/* Rewrites line `line` (1-based) of path to text. */
static void set_line(const char *path, int line, const char *text)
{
    char *data;
    size_t len;
    assert_int_equal(fin_read_file(path, &data, &len), 0);
    char out[8192];
    size_t o = 0;
    int ln = 1;
    for (char *p = data; *p;) {
        char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (ln == line)
            o += (size_t)snprintf(out + o, sizeof out - o, "%s\n", text);
        else
            o += (size_t)snprintf(out + o, sizeof out - o, "%.*s\n", (int)n, p);
        p += n + (nl ? 1 : 0);
        ln++;
    }
    assert_int_equal(fin_write_file_atomic(path, out, o), 0);
    free(data);
}

static int open_err(const char *dir, const char *name)
{
    struct fin_stream *s = NULL;
    int rc = fin_stream_open(&s, dir, name, FIN_STREAM_WRITE, NULL);
    fin_stream_close(s);
    return rc;
}

static void make(const char *dir, int shards, char *ini, size_t size)
{
    struct fin_stream_config cfg;
    fin_stream_config_defaults(&cfg);
    cfg.shards = shards;
    assert_int_equal(fin_stream_create(dir, "s", &cfg), 0);
    struct fin_stream *s;
    assert_int_equal(fin_stream_open(&s, dir, "s", FIN_STREAM_WRITE, NULL), 0);
    struct fin_put_result r;
    for (int i = 0; i < 40; i++) {
        char key[16];
        snprintf(key, sizeof key, "K%d", i);
        assert_int_equal(fin_stream_put(s, key, strlen(key), "x", 1, NULL, &r), 0);
    }
    fin_stream_close(s);
    snprintf(ini, size, "%s/streams/s/stream.ini", dir);
}

static void test_shards_edit_refused(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("sini");
    char ini[600];
    make(dir, 2, ini, sizeof ini);
    /* line 3 is [stream "s"] shards; [meta] shards says 2 */
    set_line(ini, 3, "shards = 3");
    assert_int_equal(open_err(dir, "s"), FIN_ECONFIG);
    assert_non_null(strstr(fin_err_msg(), "stream.ini:3: [stream \"s\"]: shards = 3, but the stream was created with 2"));
    assert_non_null(strstr(fin_err_msg(), "stream scale|split|merge"));
    /* [meta] edited alike (or a stream from before [meta] kept the count): the folders tell */
    char *data;
    size_t len;
    assert_int_equal(fin_read_file(ini, &data, &len), 0);
    int meta_line = 1;
    for (char *p = data; (p = strchr(p, '\n')) && strncmp(p + 1, "shards = 2", 10) != 0; p++)
        meta_line++;
    free(data);
    set_line(ini, meta_line + 1, "");
    assert_int_equal(open_err(dir, "s"), FIN_ECONFIG);
    assert_non_null(strstr(fin_err_msg(), "shardId-000000000002 does not exist"));
    set_line(ini, 3, "shards = 1");
    assert_int_equal(open_err(dir, "s"), FIN_ECONFIG);
    assert_non_null(strstr(fin_err_msg(), "shardId-000000000001 holds records"));
    set_line(ini, 3, "shards = 2");
    assert_int_equal(open_err(dir, "s"), 0);
    fin_test_rmdir(dir);
}

static void test_damaged_ini_refused(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("sini-bad");
    char ini[600];
    make(dir, 1, ini, sizeof ini);
    set_line(ini, 4, "retention = 1h\nretention = 2h");
    assert_int_equal(open_err(dir, "s"), FIN_ECONFIG);
    assert_non_null(strstr(fin_err_msg(), "'retention' again"));
    set_line(ini, 5, "bogus = 1");
    assert_int_equal(open_err(dir, "s"), FIN_ECONFIG);
    assert_non_null(strstr(fin_err_msg(), "stream.ini:5"));
    set_line(ini, 5, "");
    set_line(ini, 2, "[stream \"other\"]");
    assert_int_equal(open_err(dir, "s"), FIN_ECONFIG);
    assert_non_null(strstr(fin_err_msg(), "[stream \"other\"] in the file of stream 's'"));
    set_line(ini, 2, "[streams \"s\"]");
    assert_int_equal(open_err(dir, "s"), FIN_ECONFIG);
    assert_non_null(strstr(fin_err_msg(), "stream.ini:2: unknown section"));
    set_line(ini, 2, "; no header");
    assert_int_equal(open_err(dir, "s"), FIN_ECONFIG);
    assert_non_null(strstr(fin_err_msg(), "outside a section"));
    assert_int_equal(fin_write_file_atomic(ini, "garbage\n", 8), 0);
    assert_int_equal(open_err(dir, "s"), FIN_ECONFIG);
    struct fin_check_report rep;
    assert_int_not_equal(fin_stream_check(dir, "s", false, &rep), 0);
    fin_test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shards_edit_refused),
        cmocka_unit_test(test_damaged_ini_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
