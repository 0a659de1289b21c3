/* test_aws_s3.c - the S3 client against a scripted transport: addressing (virtual-hosted on
 * AWS, path-style for endpoint_url and dotted buckets), key encoding, the headers of a put,
 * the multipart sequence and its abort, an <Error> inside a 200 answer, list pages, URLs. */
#include "fin_test.h"

#include <sys/uio.h>

#include "finstream/aws_s3.h"
#include "finstream/error.h"
#include "test_aws_fake.h"

struct rig {
    struct fake_transport ft;
    struct fin_fake_clock fc;
    struct fin_aws_settings s;
    struct fin_aws_credentials cr;
    struct fin_aws_client_deps deps;
    struct fin_s3 *s3;
};

static void rig_open(struct rig *g, const char *endpoint)
{
    memset(g, 0, sizeof *g);
    fake_init(&g->ft);
    fin_fake_clock_init(&g->fc, 1764153000LL * FIN_NS_PER_SEC);
    assert_int_equal(fin_aws_settings_load(&g->s, NULL, NULL), 0);
    free(g->s.region);
    g->s.region = strdup("eu-west-1");
    if (endpoint)
        g->s.endpoint_url = strdup(endpoint);
    g->s.retries = 2;
    g->cr = (struct fin_aws_credentials){.access_key_id = "AK", .secret_access_key = "SK"};
    g->deps = (struct fin_aws_client_deps){.transport = &g->ft.base, .clock = &g->fc.clock,
                                           .credentials = &g->cr, .seed = 5};
    assert_int_equal(fin_s3_create(&g->s3, &g->s, &g->deps), 0);
}

static void rig_close(struct rig *g)
{
    fin_s3_destroy(g->s3);
    fin_aws_settings_fini(&g->s);
    fake_fini(&g->ft);
}

static void test_addressing_and_put(void **state)
{
    (void)state;
    struct rig g;
    rig_open(&g, NULL);
    fake_push(&g.ft, 200, "");
    assert_int_equal(fin_s3_put_object(g.s3, "my-lake", "2026/11/26/10/a b+c.json", "{}\n", 3), 0);
    assert_string_equal(g.ft.last_method, "PUT");
    assert_string_equal(g.ft.last_url,
                        "https://my-lake.s3.eu-west-1.amazonaws.com/2026/11/26/10/a%20b%2Bc.json");
    assert_non_null(strstr(g.ft.last_headers, "Host: my-lake.s3.eu-west-1.amazonaws.com\n"));
    /* SHA-256 and MD5 of "{}\n" */
    char sha[65], md5[25];
    fin_sha256_hex("{}\n", 3, sha);
    fin_md5_base64("{}\n", 3, md5);
    char want[128];
    snprintf(want, sizeof want, "x-amz-content-sha256: %s\n", sha);
    assert_non_null(strstr(g.ft.last_headers, want));
    snprintf(want, sizeof want, "Content-MD5: %s\n", md5);
    assert_non_null(strstr(g.ft.last_headers, want));
    assert_non_null(strstr(g.ft.last_headers, "SignedHeaders=content-md5;content-type;host;"
                                               "x-amz-content-sha256;x-amz-date"));
    assert_string_equal(g.ft.last_body.data, "{}\n");

    /* Dots in a bucket name: path-style even on AWS (the wildcard certificate). */
    fake_push(&g.ft, 200, "");
    assert_int_equal(fin_s3_put_object(g.s3, "my.lake", "k", "x", 1), 0);
    assert_string_equal(g.ft.last_url, "https://s3.eu-west-1.amazonaws.com/my.lake/k");

    /* Outside us-east-1 the bucket's region goes in the body. */
    fake_push(&g.ft, 200, "");
    assert_int_equal(fin_s3_create_bucket(g.s3, "my-lake"), 0);
    assert_string_equal(g.ft.last_url, "https://my-lake.s3.eu-west-1.amazonaws.com/");
    assert_non_null(strstr(g.ft.last_body.data, "<LocationConstraint>eu-west-1</LocationConstraint>"));

    /* Bad names are refused before anything is sent. */
    int sent = g.ft.sent;
    assert_int_equal(fin_s3_put_object(g.s3, "My_Lake", "k", "x", 1), FIN_EINVAL);
    assert_int_equal(fin_s3_put_object(g.s3, "my-lake", "", "x", 1), FIN_EINVAL);
    assert_int_equal(g.ft.sent, sent);
    rig_close(&g);

    rig_open(&g, "http://127.0.0.1:9000/");
    fake_push(&g.ft, 200, "");
    assert_int_equal(fin_s3_put_object(g.s3, "lake", "caf\xc3\xa9/~x", "x", 1), 0);
    assert_string_equal(g.ft.last_url, "http://127.0.0.1:9000/lake/caf%C3%A9/~x");
    assert_non_null(strstr(g.ft.last_headers, "Host: 127.0.0.1:9000\n"));
    rig_close(&g);
}

static void test_multipart(void **state)
{
    (void)state;
    struct rig g;
    rig_open(&g, "http://127.0.0.1:9000");
    size_t len = FIN_S3_MIN_PART * 2 + 10;
    char *d = malloc(len);
    memset(d, 'q', len);

    /* Create, then a part answered without an ETag: the upload fails and is aborted, with
     * the upload id (which needs escaping) in the abort's query. */
    fake_push(&g.ft, 200, "<InitiateMultipartUploadResult><UploadId>up/1+2=</UploadId>"
                          "</InitiateMultipartUploadResult>");
    fake_push(&g.ft, 200, "");
    fake_push(&g.ft, 204, "");
    int rc = fin_s3_put_multipart(g.s3, "lake", "big", d, len, FIN_S3_MIN_PART);
    assert_int_equal(rc, FIN_EPARSE);
    assert_non_null(strstr(fin_err_msg(), "no ETag"));
    assert_non_null(strstr(fin_err_msg(), "upload aborted"));
    assert_string_equal(g.ft.last_method, "DELETE");
    assert_non_null(strstr(g.ft.last_url, "?uploadId=up%2F1%2B2%3D"));
    assert_int_equal(fin_s3_put_stats(g.s3)->aborted_uploads, 1);
    assert_int_equal(g.ft.sent, 3);
    rig_close(&g);
    free(d);
}

/* A transport that answers like S3 for a multipart upload, with ETags. */
static void mp_handler(struct fake_transport *ft, const struct fin_http_request *req,
                       struct fin_http_response *resp)
{
    int *mode = ft->ctx;
    resp->status = 200;
    if (strstr(req->url, "?uploads=")) {
        fin_buf_puts(&resp->body, "<InitiateMultipartUploadResult><UploadId>U1</UploadId>"
                                  "</InitiateMultipartUploadResult>");
    } else if (strstr(req->url, "partNumber=")) {
        fin_http_response_add_header(resp, "ETag", 4, "\"p\"", 3);
    } else if (strcmp(req->method, "POST") == 0) {
        if (*mode == 1) {
            /* An error inside a 200 answer, once. */
            *mode = 0;
            fin_buf_puts(&resp->body, "<Error><Code>InternalError</Code><Message>try again"
                                      "</Message></Error>");
        } else {
            fin_buf_puts(&resp->body, "<CompleteMultipartUploadResult/>");
        }
    } else {
        resp->status = 204;
    }
}

static void test_multipart_error_in_200(void **state)
{
    (void)state;
    struct rig g;
    rig_open(&g, "http://127.0.0.1:9000");
    int mode = 1;
    g.ft.handler = mp_handler;
    g.ft.ctx = &mode;
    size_t len = FIN_S3_MIN_PART + 1;
    char *d = calloc(1, len);
    assert_int_equal(fin_s3_put_multipart(g.s3, "lake", "big", d, len, FIN_S3_MIN_PART), 0);
    assert_int_equal(mode, 0);
    assert_int_equal(fin_s3_put_stats(g.s3)->parts, 2);
    assert_int_equal(fin_s3_put_stats(g.s3)->aborted_uploads, 0);
    assert_non_null(strstr(g.ft.last_body.data, "<Part><PartNumber>2</PartNumber><ETag>\"p\"</ETag></Part>"));
    /* 1 create + 2 parts + 2 completions */
    assert_int_equal(g.ft.sent, 5);
    free(d);
    rig_close(&g);
}

static void test_list_pages(void **state)
{
    (void)state;
    struct rig g;
    rig_open(&g, "http://127.0.0.1:9000");
    fake_push(&g.ft, 200, "<ListBucketResult><IsTruncated>true</IsTruncated>"
                          "<Contents><Key>p/a&amp;b</Key><Size>3</Size><ETag>&quot;x&quot;</ETag></Contents>"
                          "<NextContinuationToken>tok/=+</NextContinuationToken></ListBucketResult>");
    fake_push(&g.ft, 200, "<ListBucketResult><IsTruncated>false</IsTruncated>"
                          "<Contents><Key>p/caf&#233;&#x1F600;</Key><Size>12345678901</Size></Contents>"
                          "</ListBucketResult>");
    struct fin_s3_list l;
    assert_int_equal(fin_s3_list_objects(g.s3, "lake", "p/", &l), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.objects[0].key, "p/a&b");
    assert_string_equal(l.objects[0].etag, "\"x\"");
    assert_int_equal(l.objects[0].size, 3);
    assert_string_equal(l.objects[1].key, "p/caf\xc3\xa9\xf0\x9f\x98\x80");
    assert_int_equal(l.objects[1].size, 12345678901LL);
    assert_string_equal(g.ft.last_url, "http://127.0.0.1:9000/lake?continuation-token=tok%2F%3D%2B"
                                       "&list-type=2&prefix=p%2F");
    fin_s3_list_fini(&l);

    /* A truncated page without a token is an error, not a loop. */
    fake_push(&g.ft, 200, "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>");
    assert_int_equal(fin_s3_list_objects(g.s3, "lake", "", &l), FIN_EPARSE);
    rig_close(&g);
}

static void test_urls(void **state)
{
    (void)state;
    char b[64], p[256];
    assert_int_equal(fin_s3_parse_url("s3://my-lake/2026/stocks/", b, sizeof b, p, sizeof p), 0);
    assert_string_equal(b, "my-lake");
    assert_string_equal(p, "2026/stocks/");
    assert_int_equal(fin_s3_parse_url("s3://my-lake", b, sizeof b, p, sizeof p), 0);
    assert_string_equal(p, "");
    assert_int_equal(fin_s3_parse_url("file:///x", b, sizeof b, p, sizeof p), FIN_EINVAL);
    assert_int_equal(fin_s3_parse_url("s3://UPPER/x", b, sizeof b, p, sizeof p), FIN_EINVAL);
    /* S3's bucket-name rules */
    static const char *const bad[] = {"-", "ab", "b.", "-ab", "a..b", "192.168.5.4",
                                      "xn--abc", "abc-s3alias", "sthree-x", "a_b", NULL};
    for (const char *const *x = bad; *x; x++)
        assert_int_equal(fin_s3_bucket_check(*x), FIN_EINVAL);
    assert_int_equal(fin_s3_bucket_check("my.lake-2026"), 0);
    assert_int_equal(fin_s3_bucket_check("192.168.5.4x"), 0);
    char x[] = "a&lt;b&gt;&amp;&#65;&#x42;&bogus;&";
    fin_xml_unescape(x);
    assert_string_equal(x, "a<b>&AB&bogus;&");
}

static void test_sink(void **state)
{
    (void)state;
    struct fake_transport ft;
    fake_init(&ft);
    struct fin_fake_clock fc;
    fin_fake_clock_init(&fc, 1764153000LL * FIN_NS_PER_SEC);
    struct fin_aws_settings s;
    assert_int_equal(fin_aws_settings_load(&s, NULL, NULL), 0);
    s.endpoint_url = strdup("http://127.0.0.1:9000");
    s.retries = 1;
    struct fin_aws_credentials cr = {.access_key_id = "AK", .secret_access_key = "SK"};
    struct fin_aws_client_deps deps = {.transport = &ft.base, .clock = &fc.clock, .credentials = &cr};
    struct fin_s3_sink *k;
    assert_int_equal(fin_s3_sink_create(&k, &s, &deps, "s3://not_a_bucket/x"), FIN_EINVAL);
    assert_int_equal(fin_s3_sink_create(&k, &s, &deps, "s3://lake/finstream"), 0);

    /* Pieces of one object arrive as one body under prefix/ + key. */
    struct iovec iov[3] = {{"{\"a\":1}\n", 8}, {"{\"a\":2}\n", 8}, {"{\"a\":3}\n", 8}};
    fake_push(&ft, 200, "");
    assert_int_equal(fin_s3_sink_put(k, "2026/11/26/10/lake-1-2026-11-26-10-00-00-0001", iov, 3), 0);
    assert_string_equal(ft.last_url,
                        "http://127.0.0.1:9000/lake/finstream/2026/11/26/10/lake-1-2026-11-26-10-00-00-0001");
    assert_string_equal(ft.last_body.data, "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n");

    /* A finished file goes up and is removed; on failure it stays for the retry. */
    char *dir = fin_test_mkdtemp("sink");
    char *path = fin_path_join(dir, "obj.parquet.tmp");
    assert_int_equal(fin_write_file_atomic(path, "PAR1....PAR1", 12), 0);
    for (int i = 0; i < 2; i++)
        fake_push(&ft, 500, "<Error><Code>InternalError</Code></Error>");
    assert_int_equal(fin_s3_sink_put_file(k, "x/part.parquet", path), FIN_EAGAIN);
    assert_true(fin_path_exists(path));
    fake_push(&ft, 200, "");
    assert_int_equal(fin_s3_sink_put_file(k, "x/part.parquet", path), 0);
    assert_false(fin_path_exists(path));
    assert_string_equal(ft.last_body.data, "PAR1....PAR1");
    assert_non_null(strstr(ft.last_url, "/lake/finstream/x/part.parquet"));
    assert_int_equal(fin_s3_sink_sync(k), 0);
    free(path);
    fin_test_rmdir(dir);
    fin_s3_sink_destroy(k);
    fin_aws_settings_fini(&s);
    fake_fini(&ft);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addressing_and_put),
        cmocka_unit_test(test_multipart),
        cmocka_unit_test(test_multipart_error_in_200),
        cmocka_unit_test(test_list_pages),
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_sink),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
