/* test_config.c - the strict finstream.ini: what the lexer refuses and keeps, a whole file
 * held against a schema, exact durations and sizes, and the one naming rule. */
#include "fin_test.h"

#include "finstream/config.h"
#include "finstream/error.h"
#include "finstream/names.h"

#include <stdbool.h>

struct coll {
    char *source, *tickers;
    int64_t every_ms;
};
struct strm {
    int64_t shards, retention_ms;
};
struct srv {
    int64_t timeout_ms, threads;
};

static const struct fin_opt coll_opts[] = {
    {"source", FIN_OPT_STRING, "sim", offsetof(struct coll, source), 0, 0, NULL, ""},
    {"tickers", FIN_OPT_STRING, NULL, offsetof(struct coll, tickers), 0, 0, NULL, ""},
    {"every", FIN_OPT_DURATION, "0", offsetof(struct coll, every_ms), 0, 0, NULL, ""},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};
static const struct fin_opt strm_opts[] = {
    {"shards", FIN_OPT_INT, "1", offsetof(struct strm, shards), 1, 1024, NULL, ""},
    {"retention", FIN_OPT_DURATION, "24h", offsetof(struct strm, retention_ms), 1000,
     86400000LL * 365, NULL, ""},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};
static const struct fin_opt srv_opts[] = {
    {"timeout", FIN_OPT_SECONDS, "30s", offsetof(struct srv, timeout_ms), 1000, 86400000, NULL, ""},
    {"threads", FIN_OPT_INT, "8", offsetof(struct srv, threads), 1, 256, NULL, ""},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};
static const struct fin_ini_schema schema[] = {
    {"collector", coll_opts, FIN_INI_NAMED, FIN_NAME_COLLECTOR, NULL},
    {"stream", strm_opts, FIN_INI_NAMED, FIN_NAME_STREAM, NULL},
    {"serve", srv_opts, FIN_INI_UNNAMED, -1, NULL},
    {"aws", NULL, FIN_INI_NAME_OPTIONAL, -1, "s3|kinesis|firehose"},
    {NULL, NULL, 0, 0, NULL},
};

/* Loads text; expects code, and every one of the NULL-terminated needles in the message. */
static void expect_load(const char *text, int code, ...)
{
    struct fin_ini ini;
    int rc = fin_ini_load_string(&ini, text, "t.ini");
    if (rc == 0) {
        rc = fin_ini_check(&ini, schema);
        fin_ini_fini(&ini);
    }
    if (rc != code)
        fprintf(stderr, "text:\n%s\nmessage: %s\n", text, fin_err_msg());
    assert_int_equal(rc, code);
    va_list ap;
    va_start(ap, code);
    for (const char *n; (n = va_arg(ap, const char *));) {
        if (!strstr(fin_err_msg(), n))
            fprintf(stderr, "[%s] not in [%s]\n", n, fin_err_msg());
        assert_non_null(strstr(fin_err_msg(), n));
    }
    va_end(ap);
}

static void test_lexer_refuses(void **state)
{
    (void)state;
    expect_load("source = sim\n[collector \"c\"]\n", FIN_ECONFIG, "t.ini:1:", "'source'",
                "outside a section", NULL);
    expect_load("[stream \"s\"]\nshards = 2\n\n[stream \"s\"]\nretention = 1h\n", FIN_ECONFIG,
                "t.ini:4:", "[stream \"s\"] again", "line 1", NULL);
    expect_load("[stream \"s\"]\nshards = 2\nretention = 1h\nshards = 3\n", FIN_ECONFIG,
                "t.ini:4:", "'shards' again", "line 2", NULL);
    expect_load("[serve]\n[serve]\n", FIN_ECONFIG, "t.ini:2:", "[serve] again", NULL);
    expect_load("[stream \"s\"\nshards = 2\n", FIN_ECONFIG, "t.ini:1:", "bad section header", NULL);
    expect_load("[stream \"s\"] shards = 2\n", FIN_ECONFIG, "t.ini:1:", "after the section header", NULL);
    expect_load("[stream \"s\"]\nshards 2\n", FIN_ECONFIG, "t.ini:2:", "expected key = value", NULL);
    expect_load("[stream \"s\"]\n= 2\n", FIN_ECONFIG, "t.ini:2:", NULL);
    expect_load("[stream \"\"]\n", FIN_ECONFIG, "t.ini:1:", "empty section name", NULL);
    expect_load("[collector \"c\"]\ntickers = \"A;B\n", FIN_ECONFIG, "t.ini:2:", "does not end", NULL);
    /* a NUL byte cannot come through a C string: load a file */
    char *dir = fin_test_mkdtemp("cfg-nul");
    char path[600];
    snprintf(path, sizeof path, "%s/finstream.ini", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite("[stream \"s\"]\nshards = 2\0junk\n", 1, 29, f);
    fclose(f);
    struct fin_ini ini;
    assert_int_equal(fin_ini_load(&ini, path, false), FIN_ECONFIG);
    assert_non_null(strstr(fin_err_msg(), "finstream.ini:2: a NUL byte"));
    assert_int_equal(fin_ini_load(&ini, dir, true), FIN_ECONFIG);
    snprintf(path, sizeof path, "%s/absent.ini", dir);
    assert_int_equal(fin_ini_load(&ini, path, true), 0);
    assert_int_equal(ini.n_sections, 0);
    fin_ini_fini(&ini);
    assert_int_equal(fin_ini_load(&ini, path, false), FIN_ENOENT);
    fin_test_rmdir(dir);
}

static void test_lexer_keeps(void **state)
{
    (void)state;
    /* 100,000 tickers' worth of line: no line length limit (a 500-ticker list used to fail) */
    size_t n = 600000;
    char *text = malloc(n + 200);
    assert_non_null(text);
    int k = snprintf(text, 200, "\xEF\xBB\xBF; comment\r\n# comment\r\n  [collector \"c\"]  ; here\r\n"
                                "   tickers = ");
    for (size_t i = 0; i < 100000; i++)
        k += snprintf(text + k, 16, "%sT%04zu", i ? "," : "", i % 10000);
    k += snprintf(text + k, 200, "   # a comment after a blank\r\n"
                                 "source = \"csv:a;b#c\\\"d\"   ; quoted\n"
                                 "every=5m;not a comment\n");
    struct fin_ini ini;
    int rc = fin_ini_load_string(&ini, text, "t.ini");
    if (rc)
        fprintf(stderr, "%s\n", fin_err_msg());
    assert_int_equal(rc, 0);
    const struct fin_ini_section *s = fin_ini_find(&ini, "collector", "c");
    assert_non_null(s);
    assert_int_equal(s->line, 3);
    assert_int_equal(strlen(fin_ini_get(s, "tickers")), 100000 * 6 - 1);
    assert_string_equal(fin_ini_get(s, "source"), "csv:a;b#c\"d");
    assert_string_equal(fin_ini_get(s, "every"), "5m;not a comment");
    assert_int_equal(s->entries[1].line, 5);
    assert_int_equal(fin_ini_check(&ini, schema), FIN_ECONFIG);   /* "5m;not..." is no duration */
    assert_non_null(strstr(fin_err_msg(), "t.ini:6: [collector \"c\"]: every"));
    fin_ini_fini(&ini);
    free(text);
}

static void test_schema(void **state)
{
    (void)state;
    expect_load("[colector \"c\"]\nsource = sim\n", FIN_ECONFIG, "t.ini:1:",
                "unknown section [colector \"c\"]", "did you mean [collector]", NULL);
    expect_load("[collector \"c\"]\nsource = sim\nshards = 2\n", FIN_ECONFIG, "t.ini:3:",
                "'shards' belongs in a [stream] section", NULL);
    expect_load("[collector \"c\"]\nsorce = sim\n", FIN_ECONFIG, "t.ini:2:", "unknown key 'sorce'",
                "did you mean 'source'?", "source, tickers, every", NULL);
    expect_load("[serve]\nthread-s = 2\n", FIN_ECONFIG, "unknown key 'thread-s'", NULL);
    expect_load("[collector \"c\"]\nzzz = 1\n", FIN_ECONFIG, "unknown key 'zzz' (known:", NULL);
    expect_load("[collector \"../../x\"]\nsource = sim\n", FIN_ECONFIG, "t.ini:1:",
                "collector name '../../x'", NULL);
    expect_load("[stream \"a/b\"]\n", FIN_ECONFIG, "t.ini:1:", "'/' at position 2", NULL);
    expect_load("[stream]\nshards = 2\n", FIN_ECONFIG, "t.ini:1:", "needs a name", NULL);
    expect_load("[serve \"x\"]\n", FIN_ECONFIG, "t.ini:1:", "takes no name", NULL);
    expect_load("[aws \"s4\"]\n", FIN_ECONFIG, "t.ini:1:", "unknown name \"s4\"", NULL);
    expect_load("[stream \"s\"]\nshards = 0\n", FIN_ECONFIG, "t.ini:2:", "out of range (1 to 1024)", NULL);
    expect_load("[stream \"s\"]\nretention = 0.5s\n", FIN_ECONFIG, "out of range (1s to 365d)", NULL);
    expect_load("[serve]\ntimeout = 1.5s\n", FIN_ECONFIG, "t.ini:2: [serve]: timeout",
                "whole number of seconds", NULL);
    expect_load("[serve]\nthreads = 0x10\n", FIN_ECONFIG, "threads", "not a whole number", NULL);
    expect_load("[aws]\n[aws \"s3\"]\n[serve]\ntimeout = 2m\n[collector \"a\"]\n[collector \"b\"]\n"
                "[stream \"s.1-x_y\"]\nretention = 1.5s\n", 0, NULL);
}

static void test_exact_values(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(fin_parse_duration_ms("1.5s", &v), 0);
    assert_int_equal(v, 1500);
    assert_int_equal(fin_parse_duration_ms("0.25", &v), 0);
    assert_int_equal(v, 250);
    assert_int_equal(fin_parse_duration_ms("1.0005s", &v), FIN_EINVAL);
    assert_non_null(strstr(fin_err_msg(), "not a whole number of milliseconds"));
    assert_int_equal(fin_parse_duration_ms("0.5ms", &v), FIN_EINVAL);
    assert_int_equal(fin_parse_duration_ms("-5s", &v), FIN_EINVAL);
    assert_int_equal(fin_parse_duration_ms("1e3ms", &v), FIN_EINVAL);
    assert_int_equal(fin_parse_duration_ms("0x10s", &v), FIN_EINVAL);
    assert_int_equal(fin_parse_duration_ms(".", &v), FIN_EINVAL);
    assert_int_equal(fin_parse_duration_ms("inf", &v), FIN_EINVAL);
    assert_int_equal(fin_parse_duration_ms("1.5 h", &v), 0);
    assert_int_equal(v, 5400000);
    assert_int_equal(fin_parse_duration_ms("99999999999999999999d", &v), FIN_EINVAL);
    assert_int_equal(fin_parse_size("1.5KiB", &v), 0);
    assert_int_equal(v, 1536);
    assert_int_equal(fin_parse_size("0.3KiB", &v), FIN_EINVAL);
    assert_non_null(strstr(fin_err_msg(), "whole number of bytes"));
    assert_int_equal(fin_parse_size("2.5MB", &v), 0);
    assert_int_equal(v, 2500000);
    struct srv st;
    assert_int_equal(fin_opts_defaults(srv_opts, &st), 0);
    assert_int_equal(fin_opts_set(srv_opts, &st, "timeout", "1.5s", "cli"), FIN_ECONFIG);
    assert_int_equal(st.timeout_ms, 30000);
    assert_int_equal(fin_opts_set(srv_opts, &st, "timeout", "1.5m", "cli"), 0);
    assert_int_equal(st.timeout_ms, 90000);
    fin_opts_fini(srv_opts, &st);
}

static void test_names(void **state)
{
    (void)state;
    static const char *bad[] = {"", ".", "..", "../../x", ".hidden", "a/b", "a b", "a\\b",
                                "caf\xc3\xa9", "a\nb", "x:y", NULL};
    for (int k = FIN_NAME_STREAM; k <= FIN_NAME_CONSUMER; k++) {
        for (const char **b = bad; *b; b++) {
            assert_int_equal(fin_name_check((enum fin_name_kind)k, *b), FIN_EINVAL);
            assert_non_null(strstr(fin_err_msg(), fin_name_kind_str((enum fin_name_kind)k)));
            assert_false(fin_name_valid((enum fin_name_kind)k, *b, strlen(*b)));
        }
        assert_int_equal(fin_name_check((enum fin_name_kind)k, "stocks-2020_05.v1"), 0);
        assert_int_equal(fin_name_check((enum fin_name_kind)k, "a..b"), 0);
    }
    /* a NUL inside bytes that are not a C string is not cut short */
    assert_false(fin_name_valid(FIN_NAME_STREAM, "ok\0zzz", 6));
    assert_true(fin_name_valid(FIN_NAME_STREAM, "ok\0zzz", 2));
    char longname[300];
    memset(longname, 'a', sizeof longname);
    longname[129] = '\0';
    assert_int_equal(fin_name_check(FIN_NAME_STREAM, longname), FIN_EINVAL);
    longname[128] = '\0';
    assert_int_equal(fin_name_check(FIN_NAME_STREAM, longname), 0);
    assert_int_equal(fin_name_check(FIN_NAME_DELIVERY, longname), FIN_EINVAL);
    assert_non_null(strstr(fin_err_msg(), "1 to 64 characters"));
    assert_int_equal(fin_name_max(FIN_NAME_TABLE), 255);
    assert_int_equal(fin_check_name("thing", "../x", 10), FIN_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lexer_refuses), cmocka_unit_test(test_lexer_keeps),
        cmocka_unit_test(test_schema),        cmocka_unit_test(test_exact_values),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
