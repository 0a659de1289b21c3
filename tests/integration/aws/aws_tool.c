/* aws_tool.c - what the shell tests of delivery to S3 and from Kinesis need from the
 * services, through the project's own clients and the [aws] settings of a finstream.ini
 * ([aws "s3"] or [aws "kinesis"] over them):
 *
 *   aws_tool INI mb BUCKET              create a bucket (an existing one is fine)
 *   aws_tool INI ls s3://BUCKET/PREFIX  one line per object: key (after PREFIX), size, ETag
 *   aws_tool INI get s3://BUCKET/PREFIX DIR
 *                                       every object under PREFIX into DIR/<key after PREFIX>,
 *                                       so `diff -r` can compare a bucket with a local lake
 *   aws_tool INI kinesis-create STREAM SHARDS
 *                                       create a Kinesis stream and wait until it is ACTIVE
 *
 * Exit status 0, or 1 with the error on stderr. */
#include "finstream/aws.h"
#include "finstream/aws_kinesis.h"
#include "finstream/aws_s3.h"
#include "finstream/config.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int get_all(struct fin_s3 *s3, const char *bucket, const char *prefix, const char *dir)
{
    struct fin_s3_list l = {0};
    struct fin_buf body;
    fin_buf_init(&body);
    int rc = fin_s3_list_objects(s3, bucket, prefix, &l);
    for (size_t i = 0; i < l.n && !rc; i++) {
        const char *rel = l.objects[i].key + strlen(prefix);
        char *path = fin_path_join(dir, rel);
        char *slash = path ? strrchr(path, '/') : NULL;
        if (!path) {
            rc = FIN_ENOMEM;
            break;
        }
        *slash = '\0';
        rc = fin_mkdir_p(path, 0755);
        *slash = '/';
        fin_buf_reset(&body);
        if (!rc)
            rc = fin_s3_get_object(s3, bucket, l.objects[i].key, &body);
        if (!rc)
            rc = fin_write_file_atomic(path, body.data, body.len);
        free(path);
    }
    fin_buf_fini(&body);
    fin_s3_list_fini(&l);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: aws_tool INI mb BUCKET | ls s3://BUCKET/PREFIX | "
                        "get s3://BUCKET/PREFIX DIR | kinesis-create STREAM SHARDS\n");
        return 2;
    }
    struct fin_ini ini;
    struct fin_aws_settings set;
    struct fin_s3 *s3 = NULL;
    char bucket[64], prefix[FIN_S3_MAX_KEY];
    const char *cmd = argv[2];
    bool kinesis = strcmp(cmd, "kinesis-create") == 0;
    int rc = fin_ini_load(&ini, argv[1], false);
    if (rc)
        goto fail;
    rc = fin_aws_settings_for(&set, &ini, kinesis ? "kinesis" : "s3");
    fin_ini_fini(&ini);
    if (rc)
        goto fail;
    if (kinesis) {
        struct fin_aws_client *c = NULL;
        rc = argc == 5 ? fin_aws_client_create(&c, "kinesis", &set, NULL) : FIN_EINVAL;
        fin_aws_settings_fini(&set);
        if (!rc)
            rc = fin_kinesis_create_stream(c, argv[3], atoi(argv[4]), 20000);
        fin_aws_client_destroy(c);
        if (rc)
            goto fail;
        return 0;
    }
    rc = fin_s3_create(&s3, &set, NULL);
    fin_aws_settings_fini(&set);
    if (rc)
        goto fail;
    if (strcmp(cmd, "mb") == 0) {
        rc = fin_s3_create_bucket(s3, argv[3]);
    } else if ((rc = fin_s3_parse_url(argv[3], bucket, sizeof bucket, prefix, sizeof prefix))) {
        goto fail;
    } else if (strcmp(cmd, "ls") == 0) {
        struct fin_s3_list l = {0};
        rc = fin_s3_list_objects(s3, bucket, prefix, &l);
        for (size_t i = 0; i < l.n && !rc; i++)
            printf("%s %lld %s\n", l.objects[i].key + strlen(prefix), (long long)l.objects[i].size,
                   l.objects[i].etag);
        fin_s3_list_fini(&l);
    } else if (strcmp(cmd, "get") == 0 && argc == 5) {
        rc = get_all(s3, bucket, prefix, argv[4]);
    } else {
        fprintf(stderr, "aws_tool: unknown command '%s'\n", cmd);
        fin_s3_destroy(s3);
        return 2;
    }
    if (rc)
        goto fail;
    fin_s3_destroy(s3);
    return 0;
fail:
    fprintf(stderr, "aws_tool: %s\n", fin_err_msg()[0] ? fin_err_msg() : fin_strerror(rc));
    fin_s3_destroy(s3);
    return 1;
}
