/* test_http.c - the libcurl transport (src/core/http_curl.c) against a loopback python3
 * server (http_echo_server.py) that echoes each request back as JSON: methods, headers
 * and bodies as sent, the flags' effects (exact headers, redirects, gzip), the body limit,
 * timeouts, a refused connection and connection reuse. Skipped when python3 is absent. */
#include "fin_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <jansson.h>

#include "finstream/error.h"
#include "finstream/http.h"

static pid_t server_pid = -1;
static int server_stdin = -1;   /* closing it stops the server */
static int server_port;

static int start_server(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    int in[2], out[2];
    if (pipe(in) || pipe(out))
        return -1;
    server_pid = fork();
    if (server_pid < 0)
        return -1;
    if (server_pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execlp("python3", "python3", FIN_HTTP_ECHO_SERVER, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    server_stdin = in[1];
    char line[32] = "";
    FILE *f = fdopen(out[0], "r");
    if (!f || !fgets(line, sizeof line, f))
        server_port = 0;   /* no python3: every test skips */
    else
        server_port = atoi(line);
    if (f)
        fclose(f);
    return 0;
}

static int stop_server(void **state)
{
    (void)state;
    if (server_stdin >= 0)
        close(server_stdin);
    if (server_pid > 0)
        waitpid(server_pid, NULL, 0);
    return 0;
}

static void need_server(void)
{
    if (server_port <= 0) {
        fprintf(stderr, "python3 not available: skipping\n");
        skip();
    }
}

static void url_of(char *out, size_t cap, const char *path)
{
    snprintf(out, cap, "http://127.0.0.1:%d%s", server_port, path);
}

/* The echo of a request, parsed; freed with json_decref. */
static json_t *echo_of(const struct fin_http_response *resp)
{
    json_error_t je;
    json_t *j = json_loadb(resp->body.data, resp->body.len, 0, &je);
    if (!j)
        fail_msg("echo is not JSON: %s", je.text);
    return j;
}

static const char *echo_header(json_t *echo, const char *name)
{
    return json_string_value(json_object_get(json_object_get(echo, "headers"), name));
}

static void test_get_headers(void **state)
{
    (void)state;
    need_server();
    struct fin_http_transport *t = NULL;
    struct fin_http_response resp;
    fin_http_response_init(&resp);
    assert_int_equal(fin_http_curl_create(&t), 0);
    char url[128];
    url_of(url, sizeof url, "/echo?a=1");
    struct fin_http_header h[] = {{"X-Test", "one"}, {"X-Other", "two words"}};
    struct fin_http_request req = {.method = "GET", .url = url, .headers = h, .n_headers = 2,
                                   .user_agent = "finstream-test", .timeout_ms = 5000};
    assert_int_equal(fin_http_send(t, &req, &resp), 0);
    assert_int_equal(resp.status, 200);
    json_t *e = echo_of(&resp);
    assert_string_equal(json_string_value(json_object_get(e, "method")), "GET");
    assert_string_equal(json_string_value(json_object_get(e, "path")), "/echo?a=1");
    assert_string_equal(echo_header(e, "x-test"), "one");
    assert_string_equal(echo_header(e, "x-other"), "two words");
    assert_string_equal(echo_header(e, "user-agent"), "finstream-test");
    assert_string_equal(echo_header(e, "accept"), "*/*");   /* curl's own, not removed */
    json_decref(e);
    /* Answer headers: names folded, values trimmed, looked up in any case. */
    assert_string_equal(fin_http_response_header(&resp, "x-echo"), "spaced value");
    assert_string_equal(fin_http_response_header(&resp, "Content-Type"), "application/json");
    assert_null(fin_http_response_header(&resp, "x-absent"));
    fin_http_response_fini(&resp);
    fin_http_transport_destroy(t);
}

static void test_exact_bodies(void **state)
{
    (void)state;
    need_server();
    struct fin_http_transport *t = NULL;
    struct fin_http_response resp;
    fin_http_response_init(&resp);
    assert_int_equal(fin_http_curl_create(&t), 0);
    char url[128];
    url_of(url, sizeof url, "/echo");

    /* PUT: exactly the bytes given, nothing of curl's own among the headers. */
    struct fin_http_header h[] = {{"X-Amz-Date", "20150830T123600Z"}};
    struct fin_http_request req = {.method = "PUT", .url = url, .headers = h, .n_headers = 1,
                                   .body = "payload bytes", .body_len = 13, .timeout_ms = 5000,
                                   .flags = FIN_HTTP_EXACT_HEADERS};
    assert_int_equal(fin_http_send(t, &req, &resp), 0);
    assert_int_equal(resp.status, 200);
    json_t *e = echo_of(&resp);
    assert_string_equal(json_string_value(json_object_get(e, "method")), "PUT");
    assert_string_equal(json_string_value(json_object_get(e, "body")), "payload bytes");
    assert_string_equal(echo_header(e, "content-length"), "13");
    assert_string_equal(echo_header(e, "x-amz-date"), "20150830T123600Z");
    assert_null(echo_header(e, "accept"));
    assert_null(echo_header(e, "expect"));
    assert_null(echo_header(e, "content-type"));
    assert_null(echo_header(e, "user-agent"));
    json_decref(e);

    /* POST with its own Content-Type: that one, not a form type. */
    struct fin_http_header hp[] = {{"Content-Type", "application/x-amz-json-1.1"}};
    req = (struct fin_http_request){.method = "POST", .url = url, .headers = hp, .n_headers = 1,
                                    .body = "{}", .body_len = 2, .timeout_ms = 5000,
                                    .flags = FIN_HTTP_EXACT_HEADERS};
    assert_int_equal(fin_http_send(t, &req, &resp), 0);
    e = echo_of(&resp);
    assert_string_equal(json_string_value(json_object_get(e, "method")), "POST");
    assert_string_equal(json_string_value(json_object_get(e, "body")), "{}");
    assert_string_equal(echo_header(e, "content-type"), "application/x-amz-json-1.1");
    json_decref(e);

    /* DELETE without a body sends Content-Length: 0. */
    req = (struct fin_http_request){.method = "DELETE", .url = url, .timeout_ms = 5000,
                                    .flags = FIN_HTTP_EXACT_HEADERS};
    assert_int_equal(fin_http_send(t, &req, &resp), 0);
    e = echo_of(&resp);
    assert_string_equal(json_string_value(json_object_get(e, "method")), "DELETE");
    assert_string_equal(echo_header(e, "content-length"), "0");
    json_decref(e);

    /* HEAD: headers, no body. */
    req = (struct fin_http_request){.method = "HEAD", .url = url, .timeout_ms = 5000};
    assert_int_equal(fin_http_send(t, &req, &resp), 0);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.body.len, 0);
    assert_non_null(fin_http_response_header(&resp, "content-length"));
    fin_http_response_fini(&resp);
    fin_http_transport_destroy(t);
}

static void test_redirect(void **state)
{
    (void)state;
    need_server();
    struct fin_http_transport *t = NULL;
    struct fin_http_response resp;
    fin_http_response_init(&resp);
    assert_int_equal(fin_http_curl_create(&t), 0);
    char url[128];
    url_of(url, sizeof url, "/redirect");
    struct fin_http_request req = {.method = "GET", .url = url, .timeout_ms = 5000};
    assert_int_equal(fin_http_send(t, &req, &resp), 0);
    assert_int_equal(resp.status, 302);
    assert_string_equal(fin_http_response_header(&resp, "location"), "/echo");
    assert_string_equal(fin_http_response_header(&resp, "x-hop"), "first");

    req.flags = FIN_HTTP_FOLLOW;
    assert_int_equal(fin_http_send(t, &req, &resp), 0);
    assert_int_equal(resp.status, 200);
    assert_null(fin_http_response_header(&resp, "x-hop"));   /* the final answer's only */
    json_t *e = echo_of(&resp);
    assert_string_equal(json_string_value(json_object_get(e, "path")), "/echo");
    json_decref(e);
    fin_http_response_fini(&resp);
    fin_http_transport_destroy(t);
}

static void test_gzip(void **state)
{
    (void)state;
    need_server();
    struct fin_http_transport *t = NULL;
    struct fin_http_response resp;
    fin_http_response_init(&resp);
    assert_int_equal(fin_http_curl_create(&t), 0);
    char url[128];
    url_of(url, sizeof url, "/gzip");
    struct fin_http_request req = {.method = "GET", .url = url, .timeout_ms = 5000,
                                   .flags = FIN_HTTP_DECODE};
    assert_int_equal(fin_http_send(t, &req, &resp), 0);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.body.len, 1300);
    assert_memory_equal(resp.body.data, "decoded text decoded text ", 26);

    req.flags = 0;   /* not asked to decode: the bytes as they came */
    assert_int_equal(fin_http_send(t, &req, &resp), 0);
    assert_true(resp.body.len >= 2);
    assert_int_equal((unsigned char)resp.body.data[0], 0x1f);
    assert_int_equal((unsigned char)resp.body.data[1], 0x8b);
    fin_http_response_fini(&resp);
    fin_http_transport_destroy(t);
}

static void test_limits_and_failures(void **state)
{
    (void)state;
    need_server();
    struct fin_http_transport *t = NULL;
    struct fin_http_response resp;
    fin_http_response_init(&resp);
    assert_int_equal(fin_http_curl_create(&t), 0);
    char url[128], want[256];

    /* An error status is an answer, with its headers. */
    url_of(url, sizeof url, "/status/503");
    struct fin_http_request req = {.method = "GET", .url = url, .timeout_ms = 5000};
    assert_int_equal(fin_http_send(t, &req, &resp), 0);
    assert_int_equal(resp.status, 503);
    assert_string_equal(fin_http_response_header(&resp, "retry-after"), "7");
    assert_int_equal(fin_http_retry_after_ms(fin_http_response_header(&resp, "retry-after"), 0),
                     7000);

    /* Over the body limit. */
    url_of(url, sizeof url, "/big");
    req = (struct fin_http_request){.method = "GET", .url = url, .timeout_ms = 5000,
                                    .body_max = 1000};
    assert_int_equal(fin_http_send(t, &req, &resp), FIN_ELIMIT);
    snprintf(want, sizeof want, "%s: answer larger than 1000 bytes", url);
    assert_string_equal(fin_err_msg(), want);
    req.body_max = 0;   /* the default limit lets it through */
    assert_int_equal(fin_http_send(t, &req, &resp), 0);
    assert_int_equal(resp.body.len, 100000);

    /* Slower than the timeout. */
    url_of(url, sizeof url, "/slow");
    req = (struct fin_http_request){.method = "GET", .url = url, .timeout_ms = 300};
    assert_int_equal(fin_http_send(t, &req, &resp), FIN_ETIMEOUT);
    snprintf(want, sizeof want, "GET %s: timed out: ", url);
    assert_int_equal(strncmp(fin_err_msg(), want, strlen(want)), 0);
    assert_int_equal(resp.status, 0);

    /* Nobody listening: a port that was free a moment ago. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    close(fd);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", ntohs(sa.sin_port));
    req = (struct fin_http_request){.method = "PUT", .url = url, .timeout_ms = 5000};
    assert_int_equal(fin_http_send(t, &req, &resp), FIN_EUNREACHABLE);
    assert_false(fin_err_is_retriable(FIN_EUNREACHABLE));
    snprintf(want, sizeof want, "PUT %s: ", url);
    assert_int_equal(strncmp(fin_err_msg(), want, strlen(want)), 0);

    /* The transport still works after each failure. */
    url_of(url, sizeof url, "/echo");
    req = (struct fin_http_request){.method = "GET", .url = url, .timeout_ms = 5000};
    assert_int_equal(fin_http_send(t, &req, &resp), 0);
    assert_int_equal(resp.status, 200);
    fin_http_response_fini(&resp);
    fin_http_transport_destroy(t);
}

static void test_connection_reuse(void **state)
{
    (void)state;
    need_server();
    struct fin_http_transport *t = NULL;
    struct fin_http_response resp;
    fin_http_response_init(&resp);
    assert_int_equal(fin_http_curl_create(&t), 0);
    char url[128];
    url_of(url, sizeof url, "/echo");
    json_int_t port[3];
    for (int i = 0; i < 3; i++) {
        /* Different shapes of request in turn: the options reset, the connection stays. */
        struct fin_http_request req = {.method = i == 1 ? "POST" : "GET", .url = url,
                                       .body = i == 1 ? "x" : NULL, .body_len = i == 1,
                                       .timeout_ms = 5000,
                                       .flags = i == 1 ? FIN_HTTP_EXACT_HEADERS : 0};
        assert_int_equal(fin_http_send(t, &req, &resp), 0);
        json_t *e = echo_of(&resp);
        port[i] = json_integer_value(json_object_get(e, "client_port"));
        json_decref(e);
    }
    assert_true(port[0] > 0);
    assert_int_equal(port[1], port[0]);
    assert_int_equal(port[2], port[0]);
    fin_http_response_fini(&resp);
    fin_http_transport_destroy(t);
    fin_http_transport_destroy(NULL);
    fin_http_response_fini(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_headers),
        cmocka_unit_test(test_exact_bodies),
        cmocka_unit_test(test_redirect),
        cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_limits_and_failures),
        cmocka_unit_test(test_connection_reuse),
    };
    return cmocka_run_group_tests(tests, start_server, stop_server);
}
