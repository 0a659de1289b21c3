/* test_aws_client.c - credentials chain, region and endpoint resolution, AWS error
 * shapes, and the client's retries through a scripted transport and a fake clock. */
#include "fin_test.h"

#include "finstream/aws.h"
#include "finstream/error.h"
#include "test_aws_fake.h"

static char *tmp;

static int setup(void **state)
{
    (void)state;
    tmp = fin_test_mkdtemp("aws");
    static const char *vars[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                                 "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
                                 "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
    setenv("HOME", tmp, 1);   /* no ~/.aws of the machine's user leaks in */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fin_test_rmdir(tmp);
    tmp = NULL;
    return 0;
}

static void write_file(const char *name, const char *text)
{
    char *p = fin_path_join(tmp, name);
    assert_int_equal(fin_write_file_atomic(p, text, strlen(text)), 0);
    free(p);
}

static void test_credentials_chain(void **state)
{
    (void)state;
    struct fin_aws_settings s;
    assert_int_equal(fin_aws_settings_load(&s, NULL, NULL), 0);
    struct fin_aws_credentials c;

    /* Nothing anywhere: the message names the places looked at. */
    assert_int_equal(fin_aws_resolve_credentials(&s, &c), FIN_ENOENT);
    assert_non_null(strstr(fin_err_msg(), "AWS_ACCESS_KEY_ID"));
    assert_non_null(strstr(fin_err_msg(), ".aws/credentials"));

    /* The config file: [profile NAME] for named profiles, [default] for the default. */
    char *aws = fin_path_join(tmp, ".aws");
    assert_int_equal(fin_mkdir_p(aws, 0755), 0);
    free(aws);
    write_file(".aws/config",
               "[default]\nregion = eu-west-1\naws_access_key_id = AKCONFDEFAULT\n"
               "aws_secret_access_key = sconf\n\n"
               "[profile   dev]\nregion=ap-south-1\ns3 =\n  addressing_style = path\n"
               "aws_access_key_id=AKCONFDEV\naws_secret_access_key=sdev\n");
    assert_int_equal(fin_aws_resolve_credentials(&s, &c), 0);
    assert_string_equal(c.access_key_id, "AKCONFDEFAULT");
    assert_non_null(strstr(c.source, "config"));
    fin_aws_credentials_fini(&c);

    /* The credentials file wins over config for the same profile. */
    write_file(".aws/credentials",
               "# comment\n[default]\naws_access_key_id = AKCREDDEFAULT\n"
               "aws_secret_access_key = s1\naws_session_token = tok1\n"
               "[dev]\naws_access_key_id = AKCREDDEV\naws_secret_access_key = s2\n");
    assert_int_equal(fin_aws_resolve_credentials(&s, &c), 0);
    assert_string_equal(c.access_key_id, "AKCREDDEFAULT");
    assert_string_equal(c.secret_access_key, "s1");
    assert_string_equal(c.session_token, "tok1");
    fin_aws_credentials_fini(&c);

    /* AWS_PROFILE picks the profile; region comes from that profile's config section. */
    setenv("AWS_PROFILE", "dev", 1);
    assert_int_equal(fin_aws_resolve_credentials(&s, &c), 0);
    assert_string_equal(c.access_key_id, "AKCREDDEV");
    assert_null(c.session_token);
    fin_aws_credentials_fini(&c);
    char region[64];
    assert_int_equal(fin_aws_resolve_region(&s, region, sizeof region), 0);
    assert_string_equal(region, "ap-south-1");
    setenv("AWS_DEFAULT_REGION", "us-west-1", 1);
    assert_int_equal(fin_aws_resolve_region(&s, region, sizeof region), 0);
    assert_string_equal(region, "us-west-1");
    setenv("AWS_REGION", "us-west-2", 1);
    assert_int_equal(fin_aws_resolve_region(&s, region, sizeof region), 0);
    assert_string_equal(region, "us-west-2");

    /* A profile that exists nowhere. */
    setenv("AWS_PROFILE", "nope", 1);
    assert_int_equal(fin_aws_resolve_credentials(&s, &c), FIN_ENOENT);
    assert_non_null(strstr(fin_err_msg(), "'nope'"));

    /* Files elsewhere. */
    unsetenv("AWS_PROFILE");
    write_file("creds2", "[default]\naws_access_key_id=AKOTHERFILE\naws_secret_access_key=x\n");
    char *p = fin_path_join(tmp, "creds2");
    setenv("AWS_SHARED_CREDENTIALS_FILE", p, 1);
    free(p);
    assert_int_equal(fin_aws_resolve_credentials(&s, &c), 0);
    assert_string_equal(c.access_key_id, "AKOTHERFILE");
    fin_aws_credentials_fini(&c);

    /* The environment comes before the files. */
    setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
    assert_int_equal(fin_aws_resolve_credentials(&s, &c), FIN_ECONFIG);   /* no secret */
    setenv("AWS_SECRET_ACCESS_KEY", "senv", 1);
    setenv("AWS_SESSION_TOKEN", "tenv", 1);
    assert_int_equal(fin_aws_resolve_credentials(&s, &c), 0);
    assert_string_equal(c.access_key_id, "AKENV");
    assert_string_equal(c.session_token, "tenv");
    assert_string_equal(c.source, "environment");
    fin_aws_credentials_fini(&c);
    fin_aws_settings_fini(&s);

    /* And finstream.ini's static key before the environment. */
    struct fin_ini ini;
    assert_int_equal(fin_ini_load_string(&ini,
                                         "[aws]\naccess_key_id = AKINI\nsecret_access_key = sini\n"
                                         "region = eu-central-1\nendpoint_url = http://127.0.0.1:4569\n"
                                         "addressing = path\nretries = 3\n",
                                         "finstream.ini"),
                     0);
    assert_int_equal(fin_aws_settings_load(&s, &ini, NULL), 0);
    assert_int_equal(fin_aws_resolve_credentials(&s, &c), 0);
    assert_string_equal(c.access_key_id, "AKINI");
    assert_null(c.session_token);
    fin_aws_credentials_fini(&c);
    assert_int_equal(fin_aws_resolve_region(&s, region, sizeof region), 0);
    assert_string_equal(region, "eu-central-1");
    assert_int_equal(s.addressing, FIN_S3_ADDR_PATH);
    assert_int_equal(s.retries, 3);
    fin_aws_settings_fini(&s);
    fin_ini_fini(&ini);

    /* [aws "SERVICE"] over [aws]: one key, an endpoint per service. */
    assert_int_equal(fin_ini_load_string(&ini,
                                         "[aws]\nregion = eu-west-1\naccess_key_id = AK\n"
                                         "secret_access_key = SK\nretries = 2\n"
                                         "[aws \"kinesis\"]\nendpoint_url = http://127.0.0.1:4567\n"
                                         "[aws \"s3\"]\nendpoint_url = http://127.0.0.1:4569\nretries = 5\n",
                                         "finstream.ini"),
                     0);
    assert_int_equal(fin_aws_settings_for(&s, &ini, "kinesis"), 0);
    assert_string_equal(s.endpoint_url, "http://127.0.0.1:4567");
    assert_string_equal(s.access_key_id, "AK");
    assert_int_equal(s.retries, 2);
    fin_aws_settings_fini(&s);
    assert_int_equal(fin_aws_settings_for(&s, &ini, "s3"), 0);
    assert_string_equal(s.endpoint_url, "http://127.0.0.1:4569");
    assert_string_equal(s.region, "eu-west-1");
    assert_int_equal(s.retries, 5);
    fin_aws_settings_fini(&s);
    assert_int_equal(fin_aws_settings_for(&s, &ini, "firehose"), 0);
    assert_true(s.endpoint_url == NULL || s.endpoint_url[0] == '\0');
    fin_aws_settings_fini(&s);
    fin_ini_fini(&ini);

    /* An unknown key in [aws] is an error naming it. */
    assert_int_equal(fin_ini_load_string(&ini, "[aws]\nregoin = x\n", "finstream.ini"), 0);
    assert_int_not_equal(fin_aws_settings_load(&s, &ini, NULL), 0);
    assert_non_null(strstr(fin_err_msg(), "regoin"));
    fin_ini_fini(&ini);

    /* A malformed shared file names file and line. */
    unsetenv("AWS_ACCESS_KEY_ID");
    write_file("bad", "[default\naws_access_key_id=x\n");
    p = fin_path_join(tmp, "bad");
    setenv("AWS_SHARED_CREDENTIALS_FILE", p, 1);
    free(p);
    assert_int_equal(fin_aws_settings_load(&s, NULL, NULL), 0);
    assert_int_equal(fin_aws_resolve_credentials(&s, &c), FIN_ECONFIG);
    assert_non_null(strstr(fin_err_msg(), "bad:1:"));
    fin_aws_settings_fini(&s);
}

static void test_endpoints(void **state)
{
    (void)state;
    struct fin_aws_endpoint ep;
    assert_int_equal(fin_aws_resolve_endpoint("kinesis", "eu-west-1", NULL, &ep), 0);
    assert_string_equal(ep.scheme, "https");
    assert_string_equal(ep.host, "kinesis.eu-west-1.amazonaws.com");
    assert_false(ep.custom);
    assert_int_equal(fin_aws_resolve_endpoint("s3", "cn-north-1", "", &ep), 0);
    assert_string_equal(ep.host, "s3.cn-north-1.amazonaws.com.cn");
    assert_int_equal(fin_aws_resolve_endpoint("s3", "us-east-1", "http://127.0.0.1:4569/", &ep), 0);
    assert_string_equal(ep.scheme, "http");
    assert_string_equal(ep.host, "127.0.0.1");
    assert_int_equal(ep.port, 4569);
    assert_string_equal(ep.base_path, "");
    assert_true(ep.custom);
    assert_int_equal(fin_aws_resolve_endpoint("s3", "x", "https://minio.local/store/", &ep), 0);
    assert_string_equal(ep.base_path, "/store");
    assert_int_equal(ep.port, 0);
    assert_int_equal(fin_aws_resolve_endpoint("s3", "x", "ftp://h", &ep), FIN_EINVAL);
    assert_int_equal(fin_aws_resolve_endpoint("s3", "x", "http://h:99999", &ep), FIN_EINVAL);
    assert_int_equal(fin_aws_resolve_endpoint("s3", "x", "http://:80", &ep), FIN_EINVAL);
}

static void classify(long status, const char *header, const char *body, struct fin_aws_error *e)
{
    struct fin_http_response r;
    fin_http_response_init(&r);
    r.status = status;
    if (header)
        fin_http_response_add_header(&r, "X-Amzn-ErrorType", 16, header, strlen(header));
    if (body)
        fin_buf_puts(&r.body, body);
    fin_aws_classify(&r, e);
    fin_http_response_fini(&r);
}

static void test_error_shapes(void **state)
{
    (void)state;
    struct fin_aws_error e;
    classify(400, NULL,
             "{\"__type\":\"ProvisionedThroughputExceededException\",\"message\":\"Rate exceeded\"}", &e);
    assert_int_equal(e.cls, FIN_AWS_THROTTLED);
    assert_int_equal(e.code, FIN_ETHROTTLE);
    assert_string_equal(e.type, "ProvisionedThroughputExceededException");
    assert_string_equal(e.message, "Rate exceeded");
    classify(400, NULL, "{\"__type\":\"com.amazonaws.kinesis.v20131202#ResourceNotFoundException\","
                        "\"Message\":\"Stream s not found\"}", &e);
    assert_string_equal(e.type, "ResourceNotFoundException");
    assert_int_equal(e.cls, FIN_AWS_FATAL);
    assert_int_equal(e.code, FIN_ENOENT);
    classify(400, "UnrecognizedClientException:http://internal.amazon.com/coral/", "", &e);
    assert_string_equal(e.type, "UnrecognizedClientException");
    assert_int_equal(e.code, FIN_EAUTH);
    classify(503, NULL,
             "<?xml version=\"1.0\"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your "
             "request rate.</Message></Error>", &e);
    assert_int_equal(e.cls, FIN_AWS_THROTTLED);
    assert_string_equal(e.message, "Please reduce your request rate.");
    classify(403, NULL, "<Error><Code>SignatureDoesNotMatch</Code></Error>", &e);
    assert_int_equal(e.code, FIN_EAUTH);
    classify(400, NULL, "<Error><Code>RequestTimeout</Code></Error>", &e);
    assert_int_equal(e.cls, FIN_AWS_RETRIABLE);
    assert_int_equal(e.code, FIN_EAGAIN);
    classify(500, NULL, "not json at all {", &e);
    assert_int_equal(e.cls, FIN_AWS_RETRIABLE);
    classify(502, NULL, "{\"__type\": 7, \"message\": [", &e);   /* broken JSON: status decides */
    assert_int_equal(e.cls, FIN_AWS_RETRIABLE);
    classify(429, NULL, NULL, &e);
    assert_int_equal(e.cls, FIN_AWS_THROTTLED);
    classify(404, NULL, NULL, &e);   /* HEAD of a missing key: no body */
    assert_int_equal(e.code, FIN_ENOENT);
    classify(400, NULL, "{\"__type\":\"ValidationException\"}", &e);
    assert_int_equal(e.cls, FIN_AWS_FATAL);
    assert_int_equal(e.code, FIN_EHTTP);
    classify(200, NULL, "{}", &e);
    assert_int_equal(e.cls, FIN_AWS_OK);
    assert_int_equal(e.code, 0);
}

static void test_backoff(void **state)
{
    (void)state;
    uint64_t rng = 42;
    for (int attempt = 0; attempt < 20; attempt++) {
        int64_t cap = 100LL << (attempt < 10 ? attempt : 10);
        if (cap > 5000)
            cap = 5000;
        int64_t max_seen = 0;
        for (int k = 0; k < 200; k++) {
            int64_t d = fin_aws_backoff_ms(&rng, attempt, 100, 5000);
            assert_true(d >= 0 && d <= cap);
            if (d > max_seen)
                max_seen = d;
        }
        assert_true(max_seen > cap / 2);   /* full jitter spreads over the whole range */
    }
}

/* Answers RequestTimeTooSkewed until a request is signed within 5 minutes of its clock,
 * which is 20 minutes ahead of the client's (fake) clock. */
static void skewed_server(struct fake_transport *ft, const struct fin_http_request *req,
                          struct fin_http_response *resp)
{
    (void)req;
    const char *d = "Wed, 26 Nov 2025 10:50:00 GMT";   /* client: 10:30:00 */
    fin_http_response_add_header(resp, "Date", 4, d, strlen(d));
    if (strstr(ft->last_headers, "X-Amz-Date: 20251126T1050")) {
        resp->status = 200;
        fin_buf_puts(&resp->body, "{}");
    } else {
        resp->status = 403;
        fin_buf_puts(&resp->body, "<Error><Code>RequestTimeTooSkewed</Code></Error>");
    }
}

static void test_retries(void **state)
{
    (void)state;
    struct fake_transport ft;
    fake_init(&ft);
    struct fin_fake_clock fc;
    fin_fake_clock_init(&fc, 1764153000LL * FIN_NS_PER_SEC);
    struct fin_aws_settings s;
    assert_int_equal(fin_aws_settings_load(&s, NULL, NULL), 0);
    s.retries = 3;
    struct fin_aws_credentials cr = {.access_key_id = "AK", .secret_access_key = "SK",
                                     .session_token = "TOK"};
    struct fin_aws_client_deps deps = {.transport = &ft.base, .clock = &fc.clock,
                                       .credentials = &cr, .seed = 7};
    free(s.endpoint_url);
    s.endpoint_url = strdup("http://127.0.0.1:4567");
    struct fin_aws_client *c;
    assert_int_equal(fin_aws_client_create(&c, "kinesis", &s, &deps), 0);

    /* Throttled, 500, no answer, then success: four sends, three sleeps. */
    fake_push(&ft, 400, "{\"__type\":\"ThrottlingException\"}");
    fake_push(&ft, 500, "");
    fake_push(&ft, -1, NULL);
    fake_push(&ft, 200, "{\"ok\":true}");
    struct fin_http_response r;
    fin_http_response_init(&r);
    struct fin_aws_error e;
    int64_t t0 = fc.now;
    assert_int_equal(fin_aws_client_json(c, "Kinesis_20131202.ListShards", "{}", 2, &r, &e), 0);
    assert_int_equal(ft.sent, 4);
    assert_string_equal(r.body.data, "{\"ok\":true}");
    assert_true(fc.now - t0 <= (100 + 200 + 400) * FIN_NS_PER_MS);
    assert_int_equal(fin_aws_client_stats(c)->retries, 3);
    /* What went out: signed, with the session token and the target. */
    assert_string_equal(ft.last_url, "http://127.0.0.1:4567/");
    assert_non_null(strstr(ft.last_headers, "Authorization: AWS4-HMAC-SHA256 Credential=AK/20251126/us-east-1/kinesis/aws4_request"));
    assert_non_null(strstr(ft.last_headers, "X-Amz-Security-Token: TOK"));
    assert_non_null(strstr(ft.last_headers, "X-Amz-Target: Kinesis_20131202.ListShards"));
    assert_non_null(strstr(ft.last_headers, "Host: 127.0.0.1:4567"));

    /* Out of retries: the last failure comes back, named. */
    ft.sent = 0;
    for (int i = 0; i < 4; i++)
        fake_push(&ft, 503, "<Error><Code>SlowDown</Code></Error>");
    assert_int_equal(fin_aws_client_json(c, "T.X", "{}", 2, &r, &e), FIN_ETHROTTLE);
    assert_int_equal(ft.sent, 4);
    assert_non_null(strstr(fin_err_msg(), "SlowDown"));
    assert_non_null(strstr(fin_err_msg(), "T.X"));

    /* Auth and validation failures are not retried. */
    ft.sent = 0;
    fake_push(&ft, 400, "{\"__type\":\"UnrecognizedClientException\"}");
    assert_int_equal(fin_aws_client_json(c, "T.X", "{}", 2, &r, &e), FIN_EAUTH);
    assert_int_equal(ft.sent, 1);
    fake_push(&ft, 400, "{\"__type\":\"ValidationException\",\"message\":\"bad\"}");
    assert_int_equal(fin_aws_client_json(c, "T.X", "{}", 2, &r, &e), FIN_EHTTP);
    assert_int_equal(ft.sent, 2);
    assert_string_equal(e.message, "bad");

    /* A clock 20 minutes slow: S3 says RequestTimeTooSkewed with its Date; the client
     * re-signs with the server's time at once, and keeps doing so. */
    ft.sent = 0;
    ft.handler = skewed_server;   /* the queue is empty: the handler answers */
    assert_int_equal(fin_aws_client_json(c, "T.X", "{}", 2, &r, &e), 0);
    assert_int_equal(ft.sent, 2);
    assert_non_null(strstr(ft.last_headers, "X-Amz-Date: 20251126T105000Z"));
    assert_int_equal(fin_aws_client_json(c, "T.X", "{}", 2, &r, &e), 0);
    assert_int_equal(ft.sent, 3);

    fin_http_response_fini(&r);
    fin_aws_client_destroy(c);
    fin_aws_settings_fini(&s);
    fake_fini(&ft);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_credentials_chain, setup, teardown),
        cmocka_unit_test(test_endpoints),
        cmocka_unit_test(test_error_shapes),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test_setup_teardown(test_retries, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
