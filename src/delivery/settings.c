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
#include "finstream/buf.h"

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
    {"partition_query", FIN_OPT_STRING, "", OFF(partition_query), 0, 0, NULL,
     "what !{partitionKeyFromQuery:KEY} reads: {KEY: .field.path, ...} (Firehose's "
     "MetadataExtractionQuery); empty: the top-level field KEY"},
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

/* The partition query compiles and defines every key the prefix uses. */
static int check_partition_query(const struct fin_delivery_settings *set, const struct fin_prefix *p)
{
    if (!set->partition_query || !*set->partition_query)
        return 0;
    struct fin_partition_query *q = NULL;
    int rc = fin_partition_query_compile(&q, set->partition_query);
    if (rc) {
        char msg[1200];
        snprintf(msg, sizeof msg, "%s", fin_err_msg());
        return fin_err_set(FIN_ECONFIG, "partition_query: %s", msg);
    }
    const char *const *fields;
    size_t n = fin_prefix_fields(p, &fields), depth;
    for (size_t i = 0; i < n && !rc; i++)
        if (!fin_partition_query_path(q, fields[i], &depth))
            rc = fin_err_set(FIN_ECONFIG, "prefix uses !{partitionKeyFromQuery:%s} but "
                             "partition_query '%s' does not define '%s'", fields[i],
                             set->partition_query, fields[i]);
    fin_partition_query_destroy(q);
    return rc;
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
    if (rc)
        return FIN_ECONFIG;   /* the message names the prefix already */
    rc = check_partition_query(set, p);
    fin_prefix_destroy(p);
    if (rc)
        return rc;
    rc = fin_prefix_compile(&p, set->error_prefix, true);
    fin_prefix_destroy(p);
    if (rc) {
        char msg[1200];
        snprintf(msg, sizeof msg, "%s", fin_err_msg());
        return fin_err_set(FIN_ECONFIG, "error_%s", msg);
    }
    return 0;
}

/* A value as the ini reads it back: plain when it can be, else in double quotes (with
 * \" and \\), which keep ';', '#', a leading quote and blanks at the ends. Line breaks
 * and other control characters have no spelling there. */
static int format_value(struct fin_buf *out, const char *key, const char *v)
{
    size_t n = strlen(v);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return fin_err_set(FIN_EINVAL, "%s: a value here cannot hold line breaks or control "
                               "characters", key);
    bool quote = strpbrk(v, ";#") || (n && (v[0] == '"' || v[0] == ' ' || v[n - 1] == ' '));
    if (!quote)
        return fin_buf_printf(out, "%s = %s\n", key, v);
    int rc = fin_buf_printf(out, "%s = \"", key);
    for (size_t i = 0; i < n && !rc; i++)
        rc = (v[i] == '"' || v[i] == '\\') ? fin_buf_printf(out, "\\%c", v[i])
                                            : fin_buf_append(out, v + i, 1);
    return rc ? rc : fin_buf_puts(out, "\"\n");
}

int fin_delivery_settings_format(const struct fin_delivery_settings *set, const char *name,
                                 struct fin_buf *out)
{
    struct fin_delivery_settings def;
    int rc = fin_delivery_settings_defaults(&def);
    if (!rc)
        rc = fin_buf_printf(out, "[delivery \"%s\"]\n", name);
    for (const struct fin_opt *o = fin_delivery_opts; o->key && !rc; o++) {
        const char *base = (const char *)set, *dbase = (const char *)&def;
        char num[64];
        const char *text = num;
        bool same = false;
        switch (o->type) {
        case FIN_OPT_STRING: {
            const char *v = *(char *const *)(base + o->offset), *d = *(char *const *)(dbase + o->offset);
            text = v ? v : "";
            same = strcmp(text, d ? d : "") == 0;
            break;
        }
        case FIN_OPT_INT: case FIN_OPT_SIZE: case FIN_OPT_DURATION: case FIN_OPT_SECONDS: {
            int64_t v = *(const int64_t *)(base + o->offset);
            same = v == *(const int64_t *)(dbase + o->offset);
            /* in the units a person would write: 5MiB, 60s */
            if (o->type == FIN_OPT_SIZE && v && v % (1 << 20) == 0)
                snprintf(num, sizeof num, "%lldMiB", (long long)(v >> 20));
            else if (o->type == FIN_OPT_SIZE && v && v % 1024 == 0)
                snprintf(num, sizeof num, "%lldKiB", (long long)(v >> 10));
            else if ((o->type == FIN_OPT_DURATION || o->type == FIN_OPT_SECONDS) && v % 1000 == 0)
                snprintf(num, sizeof num, "%llds", (long long)(v / 1000));
            else
                snprintf(num, sizeof num, o->type == FIN_OPT_DURATION ? "%lldms" : "%lld",
                         (long long)v);
            break;
        }
        case FIN_OPT_BOOL:
            same = *(const bool *)(base + o->offset) == *(const bool *)(dbase + o->offset);
            text = *(const bool *)(base + o->offset) ? "true" : "false";
            break;
        case FIN_OPT_ENUM: {
            int v = *(const int *)(base + o->offset);
            same = v == *(const int *)(dbase + o->offset);
            const char *c = o->choices;
            for (int i = 0; i < v && c; i++)
                c = strchr(c, '|') ? strchr(c, '|') + 1 : NULL;
            size_t len = c ? strcspn(c, "|") : 0;
            snprintf(num, sizeof num, "%.*s", (int)len, c ? c : "");
            break;
        }
        }
        if (!same || o->type != FIN_OPT_STRING)
            rc = format_value(out, o->key, text);
    }
    fin_delivery_settings_fini(&def);
    return rc;
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
