/* test_aws_sigv4.c - SigV4 against AWS's published test vectors (the Signature Version 4
 * test suite and the S3 examples of the S3 API reference), and the verifier against the
 * signer: tampering, clock skew, unknown keys. */
#include "fin_test.h"

#include "finstream/aws.h"
#include "finstream/error.h"

#define SUITE_TIME 1440938160   /* 2015-08-30T12:36:00Z */
#define S3_TIME 1369353600      /* 2013-05-24T00:00:00Z */

static struct fin_aws_credentials suite_creds = {
    .access_key_id = "AKIDEXAMPLE",
    .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};

static struct fin_aws_credentials s3_creds = {
    .access_key_id = "AKIAIOSFODNN7EXAMPLE",
    .secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};

struct vector {
    const char *name;
    const char *method;
    const char *path;
    const char *query;
    struct fin_aws_header extra[4];
    const char *body;
    const char *signed_headers;
    const char *signature;
};

/* The test suite's requests: host example.amazonaws.com, X-Amz-Date 20150830T123600Z,
 * region us-east-1, service "service". */
static const struct vector suite[] = {
    {"get-vanilla", "GET", "/", NULL, {{0}}, "", "host;x-amz-date",
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {"get-relative", "GET", "/example/..", NULL, {{0}}, "", "host;x-amz-date",
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {"get-slash-dot-slash", "GET", "/./", NULL, {{0}}, "", "host;x-amz-date",
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {"get-slash", "GET", "//", NULL, {{0}}, "", "host;x-amz-date",
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {"get-unreserved", "GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
     NULL, {{0}}, "", "host;x-amz-date",
     "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
    {"get-slashes", "GET", "//example//", NULL, {{0}}, "", "host;x-amz-date",
     "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"},
    {"get-vanilla-query-order-key-case", "GET", "/", "Param2=value2&Param1=value1", {{0}}, "",
     "host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
    {"get-vanilla-query-order-value", "GET", "/", "Param1=value2&Param1=value1", {{0}}, "",
     "host;x-amz-date", "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"},
    {"get-vanilla-utf8-query", "GET", "/", "\xe1\x88\xb4=bar", {{0}}, "", "host;x-amz-date",
     "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
    {"get-header-value-order", "GET", "/", NULL,
     {{"My-Header1", "value4"}, {"My-Header1", "value1"}, {"My-Header1", "value3"},
      {"My-Header1", "value2"}},
     "", "host;my-header1;x-amz-date",
     "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
    {"get-header-key-duplicate", "GET", "/", NULL,
     {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}},
     "", "host;my-header1;x-amz-date",
     "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
    {"get-header-value-trim", "GET", "/", NULL,
     {{"My-Header1", " value1"}, {"My-Header2", "\"a   b   c\""}},
     "", "host;my-header1;my-header2;x-amz-date",
     "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
    {"post-x-www-form-urlencoded", "POST", "/", NULL,
     {{"Content-Type", "application/x-www-form-urlencoded"}}, "Param1=value1",
     "content-type;host;x-amz-date",
     "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
    {"get-vanilla with a session token", "GET", "/", NULL,
     {{"X-Amz-Security-Token",
       "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"}},
     "", "host;x-amz-date;x-amz-security-token",
     "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"},
};

static void sign_vector(const struct vector *v, struct fin_sigv4_result *res)
{
    struct fin_aws_header h[8];
    size_t n = 0;
    h[n++] = (struct fin_aws_header){"Host", "example.amazonaws.com"};
    h[n++] = (struct fin_aws_header){"X-Amz-Date", "20150830T123600Z"};
    for (int i = 0; i < 4 && v->extra[i].name; i++)
        h[n++] = v->extra[i];
    struct fin_sigv4_request req = {.method = v->method, .path = v->path, .query = v->query,
                                    .headers = h, .n_headers = n, .payload = v->body,
                                    .payload_len = strlen(v->body)};
    struct fin_sigv4_scope scope = {.region = "us-east-1", .service = "service",
                                    .time_s = SUITE_TIME};
    assert_int_equal(fin_sigv4_sign(&req, &scope, &suite_creds, res), 0);
}

static void test_suite_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof suite / sizeof suite[0]; i++) {
        const struct vector *v = &suite[i];
        struct fin_sigv4_result res;
        fin_sigv4_result_init(&res);
        sign_vector(v, &res);
        if (strcmp(res.signed_headers, v->signed_headers) != 0 ||
            (v->signature && strcmp(res.signature, v->signature) != 0)) {
            fprintf(stderr, "vector %s:\n--- canonical request\n%s\n--- string to sign\n%s\n"
                    "--- got %s %s\n--- want %s %s\n", v->name, res.canonical_request.data,
                    res.string_to_sign.data, res.signed_headers, res.signature,
                    v->signed_headers, v->signature);
            fail_msg("vector %s differs", v->name);
        }
        char want[512];
        snprintf(want, sizeof want,
                 "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                 "SignedHeaders=%s, Signature=%s", v->signed_headers, res.signature);
        assert_string_equal(res.authorization.data, want);
        fin_sigv4_result_fini(&res);
    }
}

/* The steps of get-vanilla as the suite publishes them. */
static void test_vanilla_steps(void **state)
{
    (void)state;
    struct fin_sigv4_result res;
    fin_sigv4_result_init(&res);
    sign_vector(&suite[0], &res);
    assert_string_equal(res.canonical_request.data,
                        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                        "host;x-amz-date\n"
                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_string_equal(res.string_to_sign.data,
                        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
                        "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
    fin_sigv4_result_fini(&res);

    /* post-x-www-form-urlencoded: the payload hash line. */
    fin_sigv4_result_init(&res);
    sign_vector(&suite[12], &res);
    const char *last = strrchr(res.canonical_request.data, '\n') + 1;
    assert_string_equal(last, "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
    fin_sigv4_result_fini(&res);
}

/* The second line of the canonical request, for a path and the service rules. */
static void check_uri(const char *path, bool s3, const char *want)
{
    struct fin_aws_header h[] = {{"Host", "example.amazonaws.com"},
                                 {"X-Amz-Date", "20150830T123600Z"}};
    struct fin_sigv4_request req = {.method = "GET", .path = path, .headers = h, .n_headers = 2};
    struct fin_sigv4_scope scope = {.region = "us-east-1", .service = "service",
                                    .time_s = SUITE_TIME, .s3_path_rules = s3};
    struct fin_sigv4_result res;
    fin_sigv4_result_init(&res);
    assert_int_equal(fin_sigv4_sign(&req, &scope, &suite_creds, &res), 0);
    const char *l = strchr(res.canonical_request.data, '\n') + 1;
    size_t n = (size_t)(strchr(l, '\n') - l);
    char got[512];
    memcpy(got, l, n);
    got[n] = '\0';
    if (strcmp(got, want) != 0)
        fail_msg("path [%s] s3=%d: canonical [%s], want [%s]", path, s3, got, want);
    fin_sigv4_result_fini(&res);
}

static void test_canonical_uri(void **state)
{
    (void)state;
    /* The suite's get-space and get-utf8 canonical URIs. */
    check_uri("/example space/", false, "/example%20space/");
    check_uri("/\xe1\x88\xb4", false, "/%E1%88%B4");
    /* Other services encode the wire path once more; S3 signs each segment encoded once. */
    check_uri("/a%2Fb", false, "/a%252Fb");
    check_uri("/example%20space/", false, "/example%2520space/");
    check_uri("/example%20space/", true, "/example%20space/");
    check_uri("/example space/", true, "/example%20space/");
    /* S3 keeps empty and dot segments: they are parts of keys. */
    check_uri("/bucket/a//b/./c/../d", true, "/bucket/a//b/./c/../d");
    check_uri("/bucket/k%2Bey+x=1&y", true, "/bucket/k%2Bey%2Bx%3D1%26y");
    check_uri("", true, "/");
}

static void check_query(const char *query, const char *want)
{
    struct fin_aws_header h[] = {{"Host", "h"}, {"X-Amz-Date", "20150830T123600Z"}};
    struct fin_sigv4_request req = {.method = "GET", .path = "/", .query = query, .headers = h,
                                    .n_headers = 2};
    struct fin_sigv4_scope scope = {.region = "us-east-1", .service = "s3", .time_s = SUITE_TIME,
                                    .s3_path_rules = true};
    struct fin_sigv4_result res;
    fin_sigv4_result_init(&res);
    assert_int_equal(fin_sigv4_sign(&req, &scope, &suite_creds, &res), 0);
    const char *l = strchr(strchr(res.canonical_request.data, '\n') + 1, '\n') + 1;
    size_t n = (size_t)(strchr(l, '\n') - l);
    char got[512];
    memcpy(got, l, n);
    got[n] = '\0';
    if (strcmp(got, want) != 0)
        fail_msg("query [%s]: canonical [%s], want [%s]", query, got, want);
    fin_sigv4_result_fini(&res);
}

static void test_canonical_query(void **state)
{
    (void)state;
    check_query("Param2=value2&Param1=value1", "Param1=value1&Param2=value2");
    check_query("a=10&a=9", "a=10&a=9");                 /* bytewise, not numeric */
    check_query("x=a.b&x=a%2Fb", "x=a%2Fb&x=a.b");       /* sorted on encoded values */
    check_query("q=a+b", "q=a%2Bb");                     /* a plus is a plus */
    check_query("q=a%20b", "q=a%20b");
    check_query("q=a b", "q=a%20b");
    check_query("b&a=1", "a=1&b=");                      /* a bare name has an empty value */
    check_query("a=1=2", "a=1%3D2");
    check_query("uploads", "uploads=");
    check_query("prefix=2026/11/&list-type=2&continuation-token=1%2Fx%3D%3D",
                "continuation-token=1%2Fx%3D%3D&list-type=2&prefix=2026%2F11%2F");
    check_query("k=%E1%88%B4&~=*", "k=%E1%88%B4&~=%2A");
}

struct s3_vector {
    const char *name, *method, *path, *query;
    struct fin_aws_header extra[4];
    const char *body;
    const char *signature;
};

/* The examples of "Signature calculations for the Authorization header" in the S3 API
 * reference: bucket examplebucket, 20130524T000000Z. */
static void test_s3_examples(void **state)
{
    (void)state;
    const char *empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const struct s3_vector v[] = {
        {"GetObject", "GET", "/test.txt", NULL,
         {{"Range", "bytes=0-9"}, {"x-amz-content-sha256", empty}}, "",
         "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"},
        {"PutObject", "PUT", "/test$file.text", NULL,
         {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
          {"x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"},
          {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
         "Welcome to Amazon S3.",
         "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"},
        {"GetBucketLifecycle", "GET", "/", "lifecycle", {{"x-amz-content-sha256", empty}}, "",
         "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"},
        {"ListObjects", "GET", "/", "max-keys=2&prefix=J", {{"x-amz-content-sha256", empty}}, "",
         "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct fin_aws_header h[8];
        size_t n = 0;
        h[n++] = (struct fin_aws_header){"Host", "examplebucket.s3.amazonaws.com"};
        h[n++] = (struct fin_aws_header){"x-amz-date", "20130524T000000Z"};
        for (int k = 0; k < 4 && v[i].extra[k].name; k++)
            h[n++] = v[i].extra[k];
        char ph[65];
        fin_sha256_hex(v[i].body, strlen(v[i].body), ph);
        struct fin_sigv4_request req = {.method = v[i].method, .path = v[i].path,
                                        .query = v[i].query, .headers = h, .n_headers = n,
                                        .payload = v[i].body, .payload_len = strlen(v[i].body)};
        struct fin_sigv4_scope scope = {.region = "us-east-1", .service = "s3",
                                        .time_s = S3_TIME, .s3_path_rules = true};
        struct fin_sigv4_result res;
        fin_sigv4_result_init(&res);
        assert_int_equal(fin_sigv4_sign(&req, &scope, &s3_creds, &res), 0);
        if (strcmp(res.signature, v[i].signature) != 0)
            fail_msg("%s: canonical request\n%s\nsignature %s, want %s", v[i].name,
                     res.canonical_request.data, res.signature, v[i].signature);
        fin_sigv4_result_fini(&res);
    }
    /* UNSIGNED-PAYLOAD is signed as the literal string. */
    struct fin_aws_header h[] = {{"Host", "b.s3.amazonaws.com"}, {"x-amz-date", "20130524T000000Z"},
                                 {"x-amz-content-sha256", FIN_SIGV4_UNSIGNED_PAYLOAD}};
    struct fin_sigv4_request req = {.method = "PUT", .path = "/k", .headers = h, .n_headers = 3,
                                    .payload = "x", .payload_len = 1,
                                    .payload_hash = FIN_SIGV4_UNSIGNED_PAYLOAD};
    struct fin_sigv4_scope scope = {.region = "us-east-1", .service = "s3", .time_s = S3_TIME,
                                    .s3_path_rules = true};
    struct fin_sigv4_result res;
    fin_sigv4_result_init(&res);
    assert_int_equal(fin_sigv4_sign(&req, &scope, &s3_creds, &res), 0);
    assert_non_null(strstr(res.canonical_request.data, "\nUNSIGNED-PAYLOAD"));
    fin_sigv4_result_fini(&res);
}

static void test_signing_key(void **state)
{
    (void)state;
    /* The derived key of the "Examples of how to derive a signing key" page. */
    unsigned char k[32];
    fin_sigv4_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1",
                          "iam", k);
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", k[i]);
    assert_string_equal(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
    char d[FIN_SIGV4_DATE_LEN + 1];
    fin_sigv4_format_date(SUITE_TIME, d);
    assert_string_equal(d, "20150830T123600Z");
    int64_t t;
    assert_int_equal(fin_sigv4_parse_date(d, &t), 0);
    assert_int_equal(t, SUITE_TIME);
    assert_int_equal(fin_sigv4_parse_date("2015-08-30T12:36:00Z", &t), FIN_EPARSE);
    char md5[25];
    fin_md5_base64("", 0, md5);
    assert_string_equal(md5, "1B2M2Y8AsgTpgAmY7PhCfg==");
}

static int lookup(void *ctx, const char *ak, const char **secret)
{
    (void)ctx;
    if (strcmp(ak, "AKIDEXAMPLE") != 0)
        return FIN_ENOENT;
    *secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    return 0;
}

static void test_verify(void **state)
{
    (void)state;
    const char *body = "{\"StreamName\":\"s\"}";
    struct fin_aws_header h[6] = {{"Host", "localhost:4567"},
                                  {"X-Amz-Date", "20150830T123600Z"},
                                  {"X-Amz-Target", "Kinesis_20131202.DescribeStream"},
                                  {"Content-Type", "application/x-amz-json-1.1"}};
    struct fin_sigv4_request req = {.method = "POST", .path = "/", .headers = h, .n_headers = 4,
                                    .payload = body, .payload_len = strlen(body)};
    struct fin_sigv4_scope scope = {.region = "eu-west-1", .service = "kinesis",
                                    .time_s = SUITE_TIME};
    struct fin_sigv4_result res;
    fin_sigv4_result_init(&res);
    assert_int_equal(fin_sigv4_sign(&req, &scope, &suite_creds, &res), 0);
    h[4] = (struct fin_aws_header){"Authorization", res.authorization.data};
    h[5] = (struct fin_aws_header){"User-Agent", "not signed, may change"};
    req.n_headers = 6;
    struct fin_sigv4_verified who;
    assert_int_equal(fin_sigv4_verify(&req, false, lookup, NULL, SUITE_TIME + 60, 300, &who), 0);
    assert_string_equal(who.access_key_id, "AKIDEXAMPLE");
    assert_string_equal(who.region, "eu-west-1");
    assert_string_equal(who.service, "kinesis");

    /* A changed body, a changed signed header, a clock too far off, an unknown key. */
    req.payload = "{\"StreamName\":\"t\"}";
    assert_int_equal(fin_sigv4_verify(&req, false, lookup, NULL, SUITE_TIME, 300, NULL), FIN_EAUTH);
    assert_non_null(strstr(fin_err_msg(), "signature does not match"));
    req.payload = body;
    h[2].value = "Kinesis_20131202.DeleteStream";
    assert_int_equal(fin_sigv4_verify(&req, false, lookup, NULL, SUITE_TIME, 300, NULL), FIN_EAUTH);
    h[2].value = "Kinesis_20131202.DescribeStream";
    assert_int_equal(fin_sigv4_verify(&req, false, lookup, NULL, SUITE_TIME + 301, 300, NULL),
                     FIN_EAUTH);
    assert_non_null(strstr(fin_err_msg(), "from the server's clock"));
    struct fin_aws_credentials other = {.access_key_id = "AKIDOTHER", .secret_access_key = "x"};
    struct fin_sigv4_result res2;
    fin_sigv4_result_init(&res2);
    req.n_headers = 4;
    assert_int_equal(fin_sigv4_sign(&req, &scope, &other, &res2), 0);
    h[4].value = res2.authorization.data;
    req.n_headers = 6;
    assert_int_equal(fin_sigv4_verify(&req, false, lookup, NULL, SUITE_TIME, 300, NULL), FIN_EAUTH);
    assert_non_null(strstr(fin_err_msg(), "unknown access key"));
    /* Garbage in the header is an error, not a crash. */
    h[4].value = "AWS4-HMAC-SHA256 Credential=/,,SignedHeaders=;Signature=";
    assert_int_equal(fin_sigv4_verify(&req, false, lookup, NULL, SUITE_TIME, 300, NULL), FIN_EAUTH);
    h[4].value = "Basic dXNlcjpwYXNz";
    assert_int_equal(fin_sigv4_verify(&req, false, lookup, NULL, SUITE_TIME, 300, NULL), FIN_EAUTH);
    fin_sigv4_result_fini(&res);
    fin_sigv4_result_fini(&res2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite_vectors),
        cmocka_unit_test(test_vanilla_steps),
        cmocka_unit_test(test_canonical_uri),
        cmocka_unit_test(test_canonical_query),
        cmocka_unit_test(test_s3_examples),
        cmocka_unit_test(test_signing_key),
        cmocka_unit_test(test_verify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
