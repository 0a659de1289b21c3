/* test_aws_sign_tool.c - signs requests given as JSON on stdin and prints the results as
 * JSON, so that tests/integration/aws/botocore_check.py can compare finstream's SigV4 with
 * botocore's signer on the same requests.
 *
 * Input: [{"method","path","query","headers":[[name,value]...],"body","service","region",
 *          "s3":bool,"time":unix-seconds,"access_key","secret_key"}...]
 * Output: [{"canonical_request","string_to_sign","signature","authorization"}...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "finstream/aws.h"
#include "finstream/error.h"

int main(void)
{
    json_error_t jerr;
    json_t *in = json_loadf(stdin, 0, &jerr);
    if (!json_is_array(in)) {
        fprintf(stderr, "sign tool: bad input at line %d: %s\n", jerr.line, jerr.text);
        return 2;
    }
    json_t *out = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(in, i, c) {
        json_t *hs = json_object_get(c, "headers");
        size_t n = json_array_size(hs);
        struct fin_aws_header h[FIN_SIGV4_MAX_HEADERS];
        if (n > FIN_SIGV4_MAX_HEADERS)
            return 2;
        for (size_t k = 0; k < n; k++) {
            h[k].name = json_string_value(json_array_get(json_array_get(hs, k), 0));
            h[k].value = json_string_value(json_array_get(json_array_get(hs, k), 1));
        }
        const char *body = json_string_value(json_object_get(c, "body"));
        struct fin_sigv4_request req = {
            .method = json_string_value(json_object_get(c, "method")),
            .path = json_string_value(json_object_get(c, "path")),
            .query = json_string_value(json_object_get(c, "query")),
            .headers = h, .n_headers = n, .payload = body, .payload_len = body ? strlen(body) : 0,
            .payload_hash = json_string_value(json_object_get(c, "payload_hash"))};
        struct fin_sigv4_scope scope = {
            .region = json_string_value(json_object_get(c, "region")),
            .service = json_string_value(json_object_get(c, "service")),
            .time_s = json_integer_value(json_object_get(c, "time")),
            .s3_path_rules = json_is_true(json_object_get(c, "s3"))};
        struct fin_aws_credentials cr = {
            .access_key_id = (char *)json_string_value(json_object_get(c, "access_key")),
            .secret_access_key = (char *)json_string_value(json_object_get(c, "secret_key"))};
        struct fin_sigv4_result res;
        fin_sigv4_result_init(&res);
        int rc = fin_sigv4_sign(&req, &scope, &cr, &res);
        if (rc) {
            fprintf(stderr, "sign tool: case %zu: %s\n", i, fin_err_msg());
            return 1;
        }
        json_array_append_new(out, json_pack("{s:s,s:s,s:s,s:s}", "canonical_request",
                                             res.canonical_request.data, "string_to_sign",
                                             res.string_to_sign.data, "signature", res.signature,
                                             "authorization", res.authorization.data));
        fin_sigv4_result_fini(&res);
    }
    json_dumpf(out, stdout, JSON_INDENT(1));
    json_decref(out);
    json_decref(in);
    return 0;
}
