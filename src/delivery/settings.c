/* settings.c - the [delivery "NAME"] section: its option table (which also gives
 * --help text and the default finstream.ini), loading, and the checks that span keys.
 * A section whose destination is a bucket or whose source is a Kinesis stream also gets
 * the [aws] settings of the same file, so that the engine and the source need nothing
 * but the settings struct. */
#include "finstream/delivery.h"
#include "finstream/aws.h"
#include "finstream/aws_s3.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"

#include <stdlib.h>
#include <string.h>

#define OFF(f) offsetof(struct fin_delivery_settings, f)

const struct fin_opt fin_delivery_opts[] = {
    {"source", FIN_OPT_STRING, "stream:stocks", OFF(source), 0, 0, NULL,
     "stream:NAME (all its shards), kinesis:STREAM (a Kinesis stream, [aws \"kinesis\"]) "
     "or direct (finstream collect --to delivery:NAME)"},
    {"prefix", FIN_OPT_STRING, "YYYY/MM/DD/HH/", OFF(prefix), 0, 0, NULL,
     "object key prefix; !{timestamp:yyyy-MM-dd}, !{partitionKeyFromQuery:field}"},
    {"error_prefix", FIN_OPT_STRING, "errors/!{firehose:error-output-type}/", OFF(error_prefix), 0, 0,
     NULL, "prefix for records that could not be delivered or converted"},
    {"buffer_size", FIN_OPT_SIZE, "5MiB", OFF(buffer_size), FIN_DELIVERY_MIN_BUFFER,
     FIN_DELIVERY_MAX_BUFFER, NULL, "flush when this much is buffered (1MiB to 128MiB)"},
    {"buffer_interval", FIN_OPT_SECONDS, "60s", OFF(buffer_interval_ms), 0,
     FIN_DELIVERY_MAX_INTERVAL, NULL, "flush this long after the first buffered record (0 to 900s)"},
    {"compression", FIN_OPT_ENUM, "none", OFF(compression), 0, 0, "none|gzip",
     "gzip writes .gz objects at a fast level"},
    {"format", FIN_OPT_ENUM, "json", OFF(format), 0, 0, "json|parquet",
     "json: one record per line; parquet: columns typed from the records"},
    {"destination", FIN_OPT_STRING, "", OFF(destination), 0, 0, NULL,
     "lake folder (default <data-dir>/lake) or s3://BUCKET/prefix/ ([aws \"s3\"])"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

int fin_delivery_settings_defaults(struct fin_delivery_settings *set)
{
    memset(set, 0, sizeof *set);
    return fin_opts_defaults(fin_delivery_opts, set);
}

void fin_delivery_settings_fini(struct fin_delivery_settings *set)
{
    if (!set)
        return;
    fin_opts_fini(fin_delivery_opts, set);
    fin_aws_settings_fini(set->aws_s3);
    free(set->aws_s3);
    fin_aws_settings_fini(set->aws_kinesis);
    free(set->aws_kinesis);
    set->aws_s3 = set->aws_kinesis = NULL;
}

bool fin_delivery_is_s3(const char *destination)
{
    return destination && strncmp(destination, "s3://", 5) == 0;
}

int fin_delivery_settings_check(const struct fin_delivery_settings *set)
{
    const char *src = set->source ? set->source : "";
    const char *stream = strncmp(src, "stream:", 7) == 0    ? src + 7
                         : strncmp(src, "kinesis:", 8) == 0 ? src + 8
                                                            : NULL;
    if (!stream && strcmp(src, "direct") != 0)
        return fin_err_set(FIN_ECONFIG, "source = '%s': expected stream:NAME, kinesis:STREAM or "
                           "direct", src);
    /* Kinesis stream names follow the same rule as finstream's: [a-zA-Z0-9_.-]{1,128}. */
    if (stream && fin_check_name("stream", stream, FIN_STREAM_MAX_NAME) != 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", fin_err_msg());
        return fin_err_set(FIN_ECONFIG, "source = '%s': %s", src, msg);
    }
    const char *dest = set->destination ? set->destination : "";
    if (fin_delivery_is_s3(dest)) {
        char bucket[64], prefix[FIN_S3_MAX_KEY];
        if (fin_s3_parse_url(dest, bucket, sizeof bucket, prefix, sizeof prefix) != 0) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", fin_err_msg());
            return fin_err_set(FIN_ECONFIG, "destination: %s", msg);
        }
    } else if (strstr(dest, "://")) {
        /* A URL of another store would otherwise become a folder named "gs:". */
        return fin_err_set(FIN_ECONFIG, "destination = '%s': expected a folder or "
                           "s3://BUCKET/prefix/", dest);
    }
    struct fin_prefix *p = NULL;
    int rc = fin_prefix_compile(&p, set->prefix, false);
    fin_prefix_destroy(p);
    if (rc)
        return FIN_ECONFIG;   /* the message names the prefix already */
    rc = fin_prefix_compile(&p, set->error_prefix, true);
    fin_prefix_destroy(p);
    if (rc) {
        char msg[1200];
        snprintf(msg, sizeof msg, "%s", fin_err_msg());
        return fin_err_set(FIN_ECONFIG, "error_%s", msg);
    }
    return 0;
}

/* [aws] with [aws "service"] over it, into a new *out. */
static int load_aws(struct fin_aws_settings **out, const struct fin_ini *ini, const char *service)
{
    if (!(*out = calloc(1, sizeof **out)))
        return FIN_ENOMEM;
    int rc = fin_aws_settings_for(*out, ini, service);
    if (rc) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

int fin_delivery_settings_load(struct fin_delivery_settings *set, const char *config_path,
                               const char *name)
{
    struct fin_ini ini;
    int rc = fin_delivery_settings_defaults(set);
    if (rc)
        return rc;
    rc = fin_ini_load(&ini, config_path, true);
    if (rc)
        return rc;
    const struct fin_ini_section *s = fin_ini_find(&ini, "delivery", name);
    if (!s) {
        rc = fin_err_set(FIN_ENOENT, "%s: no [delivery \"%s\"] section", config_path, name);
        goto fail;
    }
    rc = fin_opts_apply_section(fin_delivery_opts, set, &ini, s);
    if (rc)
        goto fail;
    rc = fin_delivery_settings_check(set);
    if (rc) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", fin_err_msg());
        rc = fin_err_set(rc, "%s:%d: [delivery \"%s\"]: %s", config_path, s->line, name, msg);
        goto fail;
    }
    if (fin_delivery_is_s3(set->destination) &&
        (rc = load_aws(&set->aws_s3, &ini, "s3")))
        goto fail;
    if (strncmp(set->source, "kinesis:", 8) == 0 &&
        (rc = load_aws(&set->aws_kinesis, &ini, "kinesis")))
        goto fail;
    fin_ini_fini(&ini);
    return 0;
fail:
    fin_ini_fini(&ini);
    fin_delivery_settings_fini(set);
    return rc;
}

int fin_delivery_list(const char *config_path, char ***names, size_t *n)
{
    struct fin_ini ini;
    *names = NULL;
    *n = 0;
    int rc = fin_ini_load(&ini, config_path, true);
    if (rc)
        return rc;
    char **v = calloc(ini.n_sections + 1, sizeof *v);
    size_t k = 0;
    if (!v) {
        rc = FIN_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < ini.n_sections; i++) {
        if (strcmp(ini.sections[i].type, "delivery") != 0)
            continue;
        if (!(v[k] = strdup(ini.sections[i].name))) {
            rc = FIN_ENOMEM;
            goto fail;
        }
        k++;
    }
    fin_ini_fini(&ini);
    *names = v;
    *n = k;
    return 0;
fail:
    for (size_t i = 0; v && i < k; i++)
        free(v[i]);
    free(v);
    fin_ini_fini(&ini);
    return rc;
}
