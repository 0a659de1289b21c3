/* test_core.c - configuration tables, value parsers, buffers, atomic files, names. */
#include "fin_test.h"

#include "finstream/buf.h"
#include "finstream/config.h"
#include "finstream/error.h"

#include <stdbool.h>

struct settings {
    char *source;
    int64_t shards;
    int64_t retention_ms;
    int64_t buffer_size;
    bool gzip;
    int fsync;
};

static const struct fin_opt table[] = {
    {"source", FIN_OPT_STRING, "sim", offsetof(struct settings, source), 0, 0, NULL, "where bars come from"},
    {"shards", FIN_OPT_INT, "2", offsetof(struct settings, shards), 1, 1024, NULL, "shard count"},
    {"retention", FIN_OPT_DURATION, "24h", offsetof(struct settings, retention_ms), 0, 0, NULL, "keep"},
    {"buffer_size", FIN_OPT_SIZE, "5MiB", offsetof(struct settings, buffer_size), 1048576, 134217728, NULL, "flush size"},
    {"gzip", FIN_OPT_BOOL, "false", offsetof(struct settings, gzip), 0, 0, NULL, "compress"},
    {"fsync", FIN_OPT_ENUM, "always", offsetof(struct settings, fsync), 0, 0, "always|interval|never", "durability"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

static void test_defaults_and_section(void **state)
{
    (void)state;
    struct fin_ini ini;
    const char *text = "; finstream\n"
                       "[stream \"stocks\"]\n"
                       "shards    = 4        ; four\n"
                       "retention = 48h\n"
                       "buffer_size = 64MiB\n"
                       "fsync = interval\n"
                       "\n"
                       "[collector \"classic\"]\n"
                       "source = yahoo\n"
                       "bogus = 1\n";
    assert_int_equal(fin_ini_load_string(&ini, text, "t.ini"), 0);
    assert_int_equal(ini.n_sections, 2);
    const struct fin_ini_section *s = fin_ini_find(&ini, "stream", "stocks");
    assert_non_null(s);
    assert_string_equal(fin_ini_get(s, "shards"), "4");

    struct settings st;
    assert_int_equal(fin_opts_defaults(table, &st), 0);
    assert_string_equal(st.source, "sim");
    assert_int_equal(st.retention_ms, 24 * 3600 * 1000LL);
    assert_int_equal(fin_opts_apply_section(table, &st, &ini, s), 0);
    assert_int_equal(st.shards, 4);
    assert_int_equal(st.retention_ms, 48 * 3600 * 1000LL);
    assert_int_equal(st.buffer_size, 64 * 1048576LL);
    assert_int_equal(st.fsync, 1);

    const struct fin_ini_section *c = fin_ini_find(&ini, "collector", "classic");
    assert_int_equal(fin_opts_apply_section(table, &st, &ini, c), FIN_ECONFIG);
    assert_non_null(strstr(fin_err_msg(), "t.ini:10"));
    assert_non_null(strstr(fin_err_msg(), "bogus"));
    assert_string_equal(st.source, "yahoo");
    fin_opts_fini(table, &st);
    fin_ini_fini(&ini);
}

static void test_range_and_enum_errors(void **state)
{
    (void)state;
    struct settings st;
    assert_int_equal(fin_opts_defaults(table, &st), 0);
    assert_int_equal(fin_opts_set(table, &st, "buffer_size", "200MiB", "cli"), FIN_ECONFIG);
    assert_non_null(strstr(fin_err_msg(), "out of range"));
    assert_int_equal(fin_opts_set(table, &st, "fsync", "sometimes", "cli"), FIN_ECONFIG);
    assert_non_null(strstr(fin_err_msg(), "always|interval|never"));
    assert_int_equal(fin_opts_set(table, &st, "shards", "x", "cli"), FIN_ECONFIG);
    fin_opts_fini(table, &st);
}

static void test_parsers(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(fin_parse_duration_ms("250ms", &v), 0);
    assert_int_equal(v, 250);
    assert_int_equal(fin_parse_duration_ms("5m", &v), 0);
    assert_int_equal(v, 300000);
    assert_int_equal(fin_parse_duration_ms("60", &v), 0);
    assert_int_equal(v, 60000);
    assert_int_equal(fin_parse_size("1GiB", &v), 0);
    assert_int_equal(v, 1073741824LL);
    assert_int_equal(fin_parse_size("12 parsecs", &v), FIN_EINVAL);
    bool b;
    assert_int_equal(fin_parse_bool("on", &b), 0);
    assert_true(b);
}

static void test_buf(void **state)
{
    (void)state;
    struct fin_buf b;
    fin_buf_init(&b);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(fin_buf_printf(&b, "%d,", i), 0);
    assert_int_equal(strncmp(fin_buf_cstr(&b), "0,1,2,", 6), 0);
    size_t n;
    char *p = fin_buf_take(&b, &n);
    assert_int_equal(n, strlen(p));
    assert_int_equal(b.len, 0);
    free(p);
    fin_buf_fini(&b);
}

static void test_atomic_file_and_names(void **state)
{
    (void)state;
    char *dir = fin_test_mkdtemp("core");
    char *sub = fin_path_join(dir, "a/b/c");
    assert_int_equal(fin_mkdir_p(sub, 0755), 0);
    char *f = fin_path_join(sub, "x.json");
    assert_int_equal(fin_write_file_atomic(f, "one", 3), 0);
    assert_int_equal(fin_write_file_atomic(f, "second", 6), 0);
    char *data;
    size_t len;
    assert_int_equal(fin_read_file(f, &data, &len), 0);
    assert_string_equal(data, "second");
    free(data);
    assert_int_equal(fin_check_name("stream", "stocks_1.a-b", 128), 0);
    assert_int_equal(fin_check_name("stream", "../etc", 128), FIN_EINVAL);
    assert_int_equal(fin_check_name("stream", "..", 128), FIN_EINVAL);
    assert_int_equal(fin_check_name("stream", "", 128), FIN_EINVAL);
    assert_int_equal(fin_check_name("stream", "a/b", 128), FIN_EINVAL);
    free(f);
    free(sub);
    fin_test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_section),
        cmocka_unit_test(test_range_and_enum_errors),
        cmocka_unit_test(test_parsers),
        cmocka_unit_test(test_buf),
        cmocka_unit_test(test_atomic_file_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
