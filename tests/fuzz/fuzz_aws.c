/* fuzz_aws.c - what the AWS edge reads from the network, on arbitrary bytes: an
 * Authorization header and request line for the SigV4 verifier, error answers (JSON,
 * XML, headers) for the classifier, and S3's XML entities.
 *
 * Input: lines "AUTH\nDATE\nPATH\nQUERY\nSTATUS\nBODY..." (missing lines are empty). */
#include "finstream/aws.h"
#include "finstream/aws_s3.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int lookup(void *ctx, const char *ak, const char **secret)
{
    (void)ctx;
    (void)ak;
    *secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *f[6] = {"", "", "", "", "", ""};
    char *p = text;
    for (int i = 0; i < 5 && p; i++) {
        f[i] = p;
        p = strchr(p, '\n');
        if (p)
            *p++ = '\0';
    }
    if (p)
        f[5] = p;
    struct fin_aws_header h[] = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", f[1]},
                                 {"Authorization", f[0]}, {"X-Amz-Content-Sha256", f[1]}};
    struct fin_sigv4_request req = {.method = "GET", .path = f[2], .query = f[3], .headers = h,
                                    .n_headers = 4, .payload = f[5], .payload_len = strlen(f[5])};
    fin_sigv4_verify(&req, f[3][0] == 's', lookup, NULL, 1440938160, 900, NULL);

    struct fin_http_response r;
    fin_http_response_init(&r);
    r.status = strtol(f[4], NULL, 10);
    fin_http_response_add_header(&r, "x-amzn-ErrorType", 16, f[3], strlen(f[3]));
    fin_buf_append(&r.body, f[5], strlen(f[5]));
    struct fin_aws_error err;
    fin_aws_classify(&r, &err);
    fin_http_response_fini(&r);

    char *x = strdup(f[5]);
    if (x)
        fin_xml_unescape(x);
    free(x);
    free(text);
    return 0;
}
