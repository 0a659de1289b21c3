/* firehose.c - the Kinesis Data Firehose actions of the JSON 1.1 API (target prefix
 * Firehose_20150804), mapped onto finstream's delivery streams.
 *
 * A delivery stream is a [delivery "NAME"] section of finstream.ini, so one made here
 * is the same thing `finstream deliver` runs: CreateDeliveryStream turns the request into
 * delivery settings (through the delivery's own option table, so its ranges and choices
 * apply), checks them as the delivery will, and appends the section (the whole file
 * replaced atomically); DeleteDeliveryStream takes it out. The S3 bucket of the
 * destination maps to the lake folder <data_dir>/lake/<bucket>, with S3's bucket-name
 * rules, so no object lands outside the lake.
 *
 * What the request said beyond the settings (the kind of source, RoleARN, the processing,
 * conversion and partitioning configurations as given) is kept beside it in
 * <data_dir>/serve/deliveries/<NAME>.json, written before the section, so that
 * DescribeDeliveryStream answers what was created, before and after any restart. A
 * section without that file (written by hand) is described from its settings; its kind
 * follows from its source (the private stream below means DirectPut).
 *
 * Direct puts go to a stream that serve keeps for the delivery stream,
 * "__firehose.NAME" (invisible to the Kinesis API: reg_internal_name), with the same
 * group commit as Kinesis puts: a record is acknowledged once it is durable there. The
 * delivery stream reads that stream (or, with a Kinesis source, the named stream) in a
 * worker thread of its own running fin_delivery_run, which writes the objects exactly
 * once. */
#include "internal.h"

#include "finstream/aws_s3.h"
#include "finstream/delivery.h"
#include "finstream/error.h"
#include "finstream/names.h"
#include "finstream/fsutil.h"
#include "finstream/log.h"
#include "finstream/progress.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Firehose's own defaults and limits, where they differ from the delivery's. */
#define FIREHOSE_DEFAULT_SIZE_MB     5
#define FIREHOSE_DEFAULT_INTERVAL_S  300
#define FIREHOSE_CONVERSION_MIN_MB   64     /* with format conversion or dynamic partitioning */

struct freq {
    struct fin_serve *svc;
    const struct fin_serve_request *req;
    json_t *body;
    struct fin_serve_response *resp;
    char region[32];            /* of the request's signature scope */
};

static void ferr(struct freq *r, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void ferr(struct freq *r, const char *type, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fin_serve_error(r->svc, r->resp, 400, type, "%s", msg);
}

static void not_found(struct freq *r, const char *name)
{
    ferr(r, "ResourceNotFoundException", "Firehose %s under account %s not found.", name,
         r->svc->account);
}

static json_t *delivery_arn(struct freq *r, const char *name)
{
    return json_sprintf("arn:aws:firehose:%s:%s:deliverystream/%s", r->region, r->svc->account,
                        name);
}

/* The region of "Credential=ID/DATE/REGION/SERVICE/aws4_request" in the Authorization
 * header, or of X-Amz-Credential in a presigned query; the service's own otherwise. */
static void scope_region(struct freq *r)
{
    snprintf(r->region, sizeof r->region, "%s", r->svc->region);
    const char *a = r->req ? r->req->authorization : NULL;
    const char *c = a ? strstr(a, "Credential=") : NULL;
    const char *sep = "/";
    if (c) {
        c += 11;
    } else if (r->req && r->req->query && (c = strstr(r->req->query, "X-Amz-Credential="))) {
        c += 17;
        sep = "%2F";
    }
    for (int i = 0; c && i < 2; i++) {
        c = strstr(c, sep);
        c = c ? c + strlen(sep) : NULL;
    }
    if (!c)
        return;
    size_t n = 0;
    while (n < sizeof r->region - 1 && (islower((unsigned char)c[n]) ||
                                        isdigit((unsigned char)c[n]) || c[n] == '-'))
        n++;
    if (n && strncmp(c + n, sep, strlen(sep)) == 0)
        snprintf(r->region, sizeof r->region, "%.*s", (int)n, c);
}

/* ---- validation, in Firehose's words ----
 *
 * Members are checked in the order of the API model (constraints per member in model
 * order) and every failure is listed, as AWS lists them: "2 validation errors detected:
 * Value 'x' at 'deliveryStreamName' failed to satisfy constraint: Member must ...; ...".
 * A member of the wrong JSON type is a SerializationException instead, before any of it. */

struct verr {
    struct fin_buf msg;
    int n;
    char ser[160];              /* the first type error, or "" */
};

static void vadd(struct verr *v, const char *path, json_t *value, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void vadd(struct verr *v, const char *path, json_t *value, const char *fmt, ...)
{
    char c[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c, sizeof c, fmt, ap);
    va_end(ap);
    if (v->n++)
        fin_buf_puts(&v->msg, "; ");
    if (!value || json_is_null(value))
        fin_buf_printf(&v->msg, "Value null at '%s' failed to satisfy constraint: %s", path, c);
    else if (json_is_integer(value))
        fin_buf_printf(&v->msg, "Value '%" JSON_INTEGER_FORMAT "' at '%s' failed to satisfy "
                       "constraint: %s", json_integer_value(value), path, c);
    else
        fin_buf_printf(&v->msg, "Value '%s' at '%s' failed to satisfy constraint: %s",
                       json_is_string(value) ? json_string_value(value) : "...", path, c);
}

static void vtype(struct verr *v, json_t *value, const char *want)
{
    if (v->ser[0])
        return;
    const char *got = json_is_object(value)  ? "Start of structure or map"
                      : json_is_array(value) ? "Start of list"
                      : json_is_string(value) ? "STRING_VALUE"
                      : json_is_boolean(value) ? "class java.lang.Boolean"
                                               : "class com.amazon.coral.value.json.numbers.TruncatingBigNumber";
    if (json_is_object(value) || json_is_array(value))
        snprintf(v->ser, sizeof v->ser, "%s found where not expected", got);
    else
        snprintf(v->ser, sizeof v->ser, "%s can not be converted to %s", got, want);
}

/* The member path AWS prints: the key with its first letter lower-cased. */
static void vpath(char *out, size_t cap, const char *parent, const char *key)
{
    snprintf(out, cap, "%s%s%c%s", parent, *parent ? "." : "", tolower((unsigned char)key[0]),
             key + 1);
}

static size_t utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

enum pattern { P_ANY, P_NAME, P_ARN, P_NONBLANK, P_NOSPACE };
static const char *const pattern_text[] = {".*", "[a-zA-Z0-9_.-]+", "arn:.*", "^(?!\\s*$).+",
                                           "^\\S+$"};

static bool pattern_ok(const char *s, enum pattern p)
{
    switch (p) {
    case P_NAME:
        for (; *s; s++)
            if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
                return false;
        return true;
    case P_ARN: return strncmp(s, "arn:", 4) == 0 && !strpbrk(s, "\n\r");
    case P_NONBLANK:
        for (; *s; s++)
            if (!isspace((unsigned char)*s))
                return !strpbrk(s, "\n\r");
        return false;
    case P_NOSPACE:
        for (; *s; s++)
            if (isspace((unsigned char)*s))
                return false;
        return true;
    default: return !strpbrk(s, "\n\r");
    }
}

/* A string member: checked, and returned (NULL when absent or wrong). */
static const char *v_str(struct verr *v, json_t *obj, const char *key, const char *parent,
                         bool required, size_t min, size_t max, enum pattern pat)
{
    char path[256];
    vpath(path, sizeof path, parent, key);
    json_t *x = json_object_get(obj, key);
    if (!x || json_is_null(x)) {
        if (required)
            vadd(v, path, NULL, "Member must not be null");
        return NULL;
    }
    if (!json_is_string(x)) {
        vtype(v, x, "String");
        return NULL;
    }
    const char *s = json_string_value(x);
    size_t n = utf8_len(s);
    bool ok = true;
    if (n < min)
        vadd(v, path, x, "Member must have length greater than or equal to %zu", min), ok = false;
    if (n > max)
        vadd(v, path, x, "Member must have length less than or equal to %zu", max), ok = false;
    if (strlen(s) != json_string_length(x) || (n >= min && !pattern_ok(s, pat)))
        vadd(v, path, x, "Member must satisfy regular expression pattern: %s", pattern_text[pat]),
            ok = false;
    return ok ? s : NULL;
}

static bool v_int(struct verr *v, json_t *obj, const char *key, const char *parent,
                  json_int_t min, json_int_t max, json_int_t *out)
{
    char path[256];
    vpath(path, sizeof path, parent, key);
    json_t *x = json_object_get(obj, key);
    if (!x || json_is_null(x))
        return false;
    if (!json_is_integer(x)) {
        vtype(v, x, "Integer");
        return false;
    }
    json_int_t i = json_integer_value(x);
    if (i < min)
        vadd(v, path, x, "Member must have value greater than or equal to %" JSON_INTEGER_FORMAT, min);
    if (i > max)
        vadd(v, path, x, "Member must have value less than or equal to %" JSON_INTEGER_FORMAT, max);
    *out = i;
    return i >= min && i <= max;
}

static const char *v_enum(struct verr *v, json_t *obj, const char *key, const char *parent,
                          bool required, const char *const *choices)
{
    const char *s = v_str(v, obj, key, parent, required, 0, 1u << 20, P_ANY);
    if (!s)
        return NULL;
    for (const char *const *c = choices; *c; c++)
        if (strcmp(s, *c) == 0)
            return s;
    char path[256], set[256] = "";
    vpath(path, sizeof path, parent, key);
    for (const char *const *c = choices; *c; c++)
        snprintf(set + strlen(set), sizeof set - strlen(set), "%s%s", c == choices ? "" : ", ", *c);
    vadd(v, path, json_object_get(obj, key), "Member must satisfy enum value set: [%s]", set);
    return NULL;
}

static bool v_bool(struct verr *v, json_t *obj, const char *key, bool def)
{
    json_t *x = json_object_get(obj, key);
    if (!x || json_is_null(x))
        return def;
    if (!json_is_boolean(x)) {
        vtype(v, x, "Boolean");
        return def;
    }
    return json_is_true(x);
}

/* A structure member (NULL when absent; a type error when not an object). */
static json_t *v_obj(struct verr *v, json_t *obj, const char *key)
{
    json_t *x = json_object_get(obj, key);
    if (!x || json_is_null(x))
        return NULL;
    if (!json_is_object(x)) {
        vtype(v, x, "Structure");
        return NULL;
    }
    return x;
}

static json_t *v_list(struct verr *v, json_t *obj, const char *key)
{
    json_t *x = json_object_get(obj, key);
    if (!x || json_is_null(x))
        return NULL;
    if (!json_is_array(x)) {
        vtype(v, x, "List");
        return NULL;
    }
    return x;
}

static const char *const processor_types[] = {"RecordDeAggregation", "Decompression",
                                              "CloudWatchLogProcessing", "Lambda",
                                              "MetadataExtraction", "AppendDelimiterToRecord",
                                              NULL};
static const char *const parameter_names[] = {"LambdaArn", "NumberOfRetries",
                                              "MetadataExtractionQuery", "JsonParsingEngine",
                                              "RoleArn", "BufferSizeInMBs",
                                              "BufferIntervalInSeconds", "SubRecordType",
                                              "Delimiter", "CompressionFormat",
                                              "DataMessageExtraction", NULL};

static void v_processing(struct verr *v, json_t *pc, const char *parent)
{
    char path[256];
    vpath(path, sizeof path, parent, "ProcessingConfiguration");
    v_bool(v, pc, "Enabled", false);
    json_t *procs = v_list(v, pc, "Processors");
    size_t i, j;
    json_t *p, *q;
    json_array_foreach(procs, i, p) {
        char pp[300], qp[340];
        snprintf(pp, sizeof pp, "%s.processors.%zu.member", path, i + 1);
        if (!json_is_object(p)) {
            vtype(v, p, "Structure");
            continue;
        }
        v_enum(v, p, "Type", pp, true, processor_types);
        json_t *params = v_list(v, p, "Parameters");
        json_array_foreach(params, j, q) {
            snprintf(qp, sizeof qp, "%s.parameters.%zu.member", pp, j + 1);
            if (!json_is_object(q)) {
                vtype(v, q, "Structure");
                continue;
            }
            v_enum(v, q, "ParameterName", qp, true, parameter_names);
            v_str(v, q, "ParameterValue", qp, true, 1, 5120, P_NONBLANK);
        }
    }
}

static void v_conversion(struct verr *v, json_t *dc, const char *parent)
{
    char path[256], sub[400];
    vpath(path, sizeof path, parent, "DataFormatConversionConfiguration");
    json_t *sc = v_obj(v, dc, "SchemaConfiguration");
    snprintf(sub, sizeof sub, "%s.schemaConfiguration", path);
    static const char *const schema_keys[] = {"RoleARN", "CatalogId", "DatabaseName",
                                              "TableName", "Region", "VersionId"};
    for (size_t i = 0; sc && i < sizeof schema_keys / sizeof schema_keys[0]; i++)
        v_str(v, sc, schema_keys[i], sub, false, 1, 1024, P_NOSPACE);
    json_t *in = v_obj(v, dc, "InputFormatConfiguration");
    json_t *de = v_obj(v, in, "Deserializer");
    v_obj(v, de, "OpenXJsonSerDe");
    v_obj(v, de, "HiveJsonSerDe");
    json_t *out = v_obj(v, dc, "OutputFormatConfiguration");
    json_t *se = v_obj(v, out, "Serializer");
    json_t *pq = v_obj(v, se, "ParquetSerDe");
    v_obj(v, se, "OrcSerDe");
    snprintf(sub, sizeof sub, "%s.outputFormatConfiguration.serializer.parquetSerDe", path);
    json_int_t x;
    v_int(v, pq, "BlockSizeBytes", sub, 67108864, INT32_MAX, &x);
    v_int(v, pq, "PageSizeBytes", sub, 65536, INT32_MAX, &x);
    static const char *const pq_comp[] = {"UNCOMPRESSED", "GZIP", "SNAPPY", NULL};
    v_enum(v, pq, "Compression", sub, false, pq_comp);
    v_bool(v, pq, "EnableDictionaryCompression", false);
    v_int(v, pq, "MaxPaddingBytes", sub, 0, INT32_MAX, &x);
    static const char *const pq_ver[] = {"V1", "V2", NULL};
    v_enum(v, pq, "WriterVersion", sub, false, pq_ver);
    v_bool(v, dc, "Enabled", true);
}

/* S3DestinationConfiguration or ExtendedS3DestinationConfiguration. */
static void v_destination(struct verr *v, json_t *d, const char *path, bool extended)
{
    static const char *const compressions[] = {"UNCOMPRESSED", "GZIP", "ZIP", "Snappy",
                                               "HADOOP_SNAPPY", NULL};
    json_int_t x;
    v_str(v, d, "RoleARN", path, true, 1, 512, P_ARN);
    v_str(v, d, "BucketARN", path, true, 1, 2048, P_ARN);
    v_str(v, d, "Prefix", path, false, 0, FIN_DELIVERY_MAX_PREFIX, P_ANY);
    v_str(v, d, "ErrorOutputPrefix", path, false, 0, FIN_DELIVERY_MAX_PREFIX, P_ANY);
    json_t *bh = v_obj(v, d, "BufferingHints");
    char sub[300];
    snprintf(sub, sizeof sub, "%s.bufferingHints", path);
    v_int(v, bh, "SizeInMBs", sub, FIN_DELIVERY_MIN_BUFFER >> 20, FIN_DELIVERY_MAX_BUFFER >> 20, &x);
    v_int(v, bh, "IntervalInSeconds", sub, 0, FIN_DELIVERY_MAX_INTERVAL / 1000, &x);
    v_enum(v, d, "CompressionFormat", path, false, compressions);
    v_obj(v, d, "EncryptionConfiguration");
    v_obj(v, d, "CloudWatchLoggingOptions");
    if (!extended)
        return;
    json_t *pc = v_obj(v, d, "ProcessingConfiguration");
    if (pc)
        v_processing(v, pc, path);
    static const char *const backup[] = {"Disabled", "Enabled", NULL};
    v_enum(v, d, "S3BackupMode", path, false, backup);
    json_t *dc = v_obj(v, d, "DataFormatConversionConfiguration");
    if (dc)
        v_conversion(v, dc, path);
    json_t *dp = v_obj(v, d, "DynamicPartitioningConfiguration");
    if (dp) {
        snprintf(sub, sizeof sub, "%s.dynamicPartitioningConfiguration.retryOptions", path);
        v_int(v, v_obj(v, dp, "RetryOptions"), "DurationInSeconds", sub, 0, 7200, &x);
        v_bool(v, dp, "Enabled", false);
    }
    v_str(v, d, "FileExtension", path, false, 0, 128, P_ANY);
    v_str(v, d, "CustomTimeZone", path, false, 0, 50, P_ANY);
}

/* Answers the collected errors; false when there were none. */
static bool verr_answer(struct freq *r, struct verr *v)
{
    bool any = v->ser[0] || v->n;
    if (v->ser[0])
        ferr(r, "SerializationException", "%s", v->ser);
    else if (v->n)
        ferr(r, "ValidationException", "%d validation error%s detected: %s", v->n,
             v->n == 1 ? "" : "s", fin_buf_cstr(&v->msg) ? v->msg.data : "");
    fin_buf_fini(&v->msg);
    return any;
}

/* ---- what a delivery stream was created with ---- */

static int meta_path(struct fin_serve *svc, const char *name, char *out, size_t cap)
{
    if ((size_t)snprintf(out, cap, "%s/serve/deliveries/%s.json", svc->data_dir, name) >= cap)
        return fin_err_set(FIN_ELIMIT, "path too long for delivery stream '%s'", name);
    return 0;
}

static int meta_write(struct fin_serve *svc, const char *name, json_t *meta)
{
    char path[4096], dir[4096];
    int rc = meta_path(svc, name, path, sizeof path);
    if (rc)
        return rc;
    snprintf(dir, sizeof dir, "%s/serve/deliveries", svc->data_dir);
    char *text = json_dumps(meta, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!text)
        return FIN_ENOMEM;
    if (!(rc = fin_mkdir_p(dir, 0755)))
        rc = fin_write_file_atomic(path, text, strlen(text));
    free(text);
    return rc;
}

static bool is_private_source(const char *source, const char *name)
{
    size_t n = strlen("stream:" FIN_SERVE_INTERNAL_PREFIX);
    return source && strncmp(source, "stream:" FIN_SERVE_INTERNAL_PREFIX, n) == 0 &&
           strcmp(source + n, name) == 0;
}

/* The description of a section that has no saved request: from its settings. */
static json_t *meta_from_settings(struct fin_serve *svc, const char *name,
                                  const struct fin_delivery_settings *set, int64_t created_ms)
{
    /* a `source = direct` section is fed by `finstream collect`, not through serve */
    bool direct = is_private_source(set->source, name);
    const char *dest = set->destination ? set->destination : "";
    const char *slash = strrchr(dest, '/');
    const char *bucket = fin_delivery_is_s3(dest) ? dest + 5 : slash ? slash + 1 : "lake";
    json_t *d = json_pack("{s:s, s:o, s:s, s:s, s:{s:I, s:I}, s:s}", "RoleARN",
                          "arn:aws:iam::000000000000:role/finstream", "BucketARN",
                          json_sprintf("arn:aws:s3:::%.*s", (int)strcspn(bucket, "/"), bucket),
                          "Prefix", set->prefix ? set->prefix : "", "ErrorOutputPrefix",
                          set->error_prefix ? set->error_prefix : "", "BufferingHints",
                          "SizeInMBs", (json_int_t)(set->buffer_size >> 20), "IntervalInSeconds",
                          (json_int_t)(set->buffer_interval_ms / 1000), "CompressionFormat",
                          set->compression == FIN_COMPRESS_GZIP ? "GZIP" : "UNCOMPRESSED");
    if (d && set->format == FIN_FORMAT_PARQUET)
        json_object_set_new(d, "DataFormatConversionConfiguration",
                            json_pack("{s:b, s:{s:{s:{}}}}", "Enabled", 1,
                                      "OutputFormatConfiguration", "Serializer", "ParquetSerDe"));
    json_t *m = json_pack("{s:s, s:I, s:o}", "DeliveryStreamType",
                          direct ? "DirectPut" : "KinesisStreamAsSource", "CreatedMs",
                          (json_int_t)created_ms, "Destination", d);
    if (m && !direct && strncmp(set->source, "stream:", 7) == 0)
        json_object_set_new(m, "SourceStream", json_string(set->source + 7));
    (void)svc;
    return m;
}

/* ---- the registry of delivery streams ---- */

static void on_flush(void *ctx, const char *name, const struct fin_delivery_stats *st)
{
    struct sdelivery *d = ctx;
    /* One log line per flush (the delivery's totals), text or JSON as --log-format says. */
    fin_log_event("flush", "delivery", FIN_LOG_STR, name, "records_total", FIN_LOG_U64,
                  (uint64_t)st->records, "bytes_total", FIN_LOG_U64, (uint64_t)st->bytes,
                  "objects_total", FIN_LOG_U64, (uint64_t)st->objects, (char *)NULL);
    atomic_store(&d->records, st->records);
    atomic_store(&d->bytes, st->bytes);
    atomic_store(&d->objects, st->objects);
    atomic_store(&d->error_records, st->error_records);
    atomic_store(&d->last_flush_ms, st->last_flush_ms);
}

static void *worker_main(void *arg)
{
    struct sdelivery *d = arg;
    struct fin_delivery_run_opts opts = {.once = false, .stop = &d->stop, .poll_ms = 50,
                                         .on_flush = on_flush, .ctx = d};
    const char *names[1] = {d->name};
    int rc = fin_delivery_run(d->svc->data_dir, d->svc->config_path, names, 1, &opts, NULL);
    if (rc)
        fin_error("serve: delivery stream %s stopped: %s", d->name, fin_err_msg());
    return NULL;
}

static int worker_start(struct sdelivery *d)
{
    d->stop = 0;
    if (pthread_create(&d->thread, NULL, worker_main, d) != 0)
        return fin_err_set(FIN_ENOMEM, "cannot start the worker of delivery stream %s", d->name);
    d->running = true;
    return 0;
}

static void worker_stop(struct sdelivery *d)
{
    if (!d->running)
        return;
    d->stop = 1;
    pthread_join(d->thread, NULL);
    d->running = false;
}

static struct sdelivery *find_locked(struct fin_serve *svc, const char *name)
{
    for (struct sdelivery *d = svc->deliveries; d; d = d->next)
        if (strcmp(d->name, name) == 0)
            return d;
    return NULL;
}

static struct sdelivery *delivery_new(struct fin_serve *svc, const char *name)
{
    struct sdelivery *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->svc = svc;
    d->status = ST_ACTIVE;
    snprintf(d->name, sizeof d->name, "%s", name);
    return d;
}

static void delivery_free(struct sdelivery *d)
{
    if (!d)
        return;
    json_decref(d->settings);
    free(d);
}

/* Fills d's description: the saved request when there is one (and it belongs to this
 * section), else one made from the section's settings. */
static int describe_load(struct fin_serve *svc, struct sdelivery *d)
{
    struct fin_delivery_settings set;
    int rc = fin_delivery_settings_load(&set, svc->config_path, d->name);
    if (rc)
        return rc;
    char path[4096];
    json_t *m = NULL;
    if (meta_path(svc, d->name, path, sizeof path) == 0 && access(path, F_OK) == 0) {
        json_error_t jerr;
        m = json_load_file(path, 0, &jerr);
        if (!m || !json_is_object(json_object_get(m, "Destination")))
            fin_warn("serve: %s: %s; describing delivery stream %s from its settings", path,
                     m ? "no Destination" : jerr.text, d->name);
        const char *type = json_string_value(json_object_get(m, "DeliveryStreamType"));
        /* A saved DirectPut must still read its private stream: a section edited by hand
         * into something else is described from what it is now. */
        if (m && type && (strcmp(type, "DirectPut") == 0) != is_private_source(set.source, d->name)) {
            json_decref(m);
            m = NULL;
        }
    }
    if (!m || !json_is_object(json_object_get(m, "Destination"))) {
        json_decref(m);
        m = meta_from_settings(svc, d->name, &set, now_ms(svc));
    }
    fin_delivery_settings_fini(&set);
    if (!m)
        return FIN_ENOMEM;
    const char *type = json_string_value(json_object_get(m, "DeliveryStreamType"));
    d->direct = type && strcmp(type, "DirectPut") == 0;
    json_t *c = json_object_get(m, "CreatedMs");
    d->created_s = json_is_integer(c) ? json_integer_value(c) / 1000 : now_ms(svc) / 1000;
    json_decref(d->settings);
    d->settings = m;
    return 0;
}

int firehose_start(struct fin_serve *svc)
{
    char **names = NULL;
    size_t n = 0;
    if (!svc->config_path)
        return 0;
    int rc = fin_delivery_list(svc->config_path, &names, &n);
    for (size_t i = 0; i < n; i++) {
        struct sdelivery *d = rc ? NULL : delivery_new(svc, names[i]);
        if (!rc && !d)
            rc = FIN_ENOMEM;
        if (d) {
            if (describe_load(svc, d) || worker_start(d))
                fin_warn("serve: delivery stream %s: %s", names[i], fin_err_msg());
            d->next = svc->deliveries;
            svc->deliveries = d;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

void firehose_metrics(struct fin_serve *svc, struct fin_buf *b)
{
    fin_buf_puts(b, "# HELP finstream_firehose_delivery_records_total Records delivered into "
                    "objects.\n# TYPE finstream_firehose_delivery_records_total counter\n"
                    "# HELP finstream_firehose_delivery_bytes_total Bytes of objects written.\n"
                    "# TYPE finstream_firehose_delivery_bytes_total counter\n"
                    "# HELP finstream_firehose_delivery_objects_total Objects written.\n"
                    "# TYPE finstream_firehose_delivery_objects_total counter\n"
                    "# HELP finstream_firehose_delivery_error_records_total Records written "
                    "under the error prefix.\n"
                    "# TYPE finstream_firehose_delivery_error_records_total counter\n"
                    "# HELP finstream_firehose_data_freshness_seconds Time since the last "
                    "delivery to the lake (-1: none yet).\n"
                    "# TYPE finstream_firehose_data_freshness_seconds gauge\n");
    int64_t now = now_ms(svc);
    reg_lock(svc);
    for (struct sdelivery *d = svc->deliveries; d; d = d->next) {
        int64_t last = atomic_load(&d->last_flush_ms);
        fin_buf_printf(b,
                       "finstream_firehose_delivery_records_total{delivery=\"%s\"} %llu\n"
                       "finstream_firehose_delivery_bytes_total{delivery=\"%s\"} %llu\n"
                       "finstream_firehose_delivery_objects_total{delivery=\"%s\"} %llu\n"
                       "finstream_firehose_delivery_error_records_total{delivery=\"%s\"} %llu\n"
                       "finstream_firehose_data_freshness_seconds{delivery=\"%s\"} %.3f\n",
                       d->name, (unsigned long long)atomic_load(&d->records), d->name,
                       (unsigned long long)atomic_load(&d->bytes), d->name,
                       (unsigned long long)atomic_load(&d->objects), d->name,
                       (unsigned long long)atomic_load(&d->error_records), d->name,
                       last ? (double)(now - last) / 1000.0 : -1.0);
    }
    reg_unlock(svc);
}

void firehose_stop(struct fin_serve *svc)
{
    while (svc->deliveries) {
        struct sdelivery *d = svc->deliveries;
        svc->deliveries = d->next;
        worker_stop(d);
        delivery_free(d);
    }
}

/* ---- finstream.ini: append and remove [delivery "NAME"] ---- */

static int ini_rewrite(struct fin_serve *svc, const char *name, const char *append)
{
    char *text = NULL;
    size_t len = 0;
    int rc = fin_read_file(svc->config_path, &text, &len);
    if (rc == FIN_ENOENT) {
        text = strdup("");
        rc = text ? 0 : FIN_ENOMEM;
    }
    if (rc)
        return rc;
    struct fin_buf out;
    fin_buf_init(&out);
    char header[128];
    snprintf(header, sizeof header, "[delivery \"%s\"]", name);
    bool skipping = false;
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        size_t ll = nl ? (size_t)(nl - line + 1) : strlen(line);
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '[')
            skipping = strncmp(p, header, strlen(header)) == 0;
        if (!skipping)
            fin_buf_append(&out, line, ll);
        line += ll;
    }
    if (append) {
        if (out.len && out.data[out.len - 1] != '\n')
            fin_buf_append(&out, "\n", 1);
        fin_buf_puts(&out, append);
    }
    free(text);
    if (!fin_buf_cstr(&out)) {
        fin_buf_fini(&out);
        return FIN_ENOMEM;
    }
    rc = fin_write_file_atomic(svc->config_path, out.data, out.len);
    fin_buf_fini(&out);
    return rc;
}

/* ---- CreateDeliveryStream ---- */

/* The value of parameter `pname` of the first processor of type `type`, or NULL. */
static const char *processor_param(json_t *pc, const char *type, const char *pname, bool *found)
{
    size_t i, j;
    json_t *p, *q;
    json_array_foreach(json_object_get(pc, "Processors"), i, p) {
        if (!json_is_string(json_object_get(p, "Type")) ||
            strcmp(json_string_value(json_object_get(p, "Type")), type) != 0)
            continue;
        if (found)
            *found = true;
        json_array_foreach(json_object_get(p, "Parameters"), j, q)
            if (json_is_string(json_object_get(q, "ParameterName")) &&
                strcmp(json_string_value(json_object_get(q, "ParameterName")), pname) == 0)
                return json_string_value(json_object_get(q, "ParameterValue"));
    }
    return NULL;
}

static bool enabled(json_t *conf, bool def)
{
    json_t *e = json_object_get(conf, "Enabled");
    return conf && (json_is_boolean(e) ? json_is_true(e) : def);
}

/* The checks that span members, in Firehose's words where it has them; sets up set
 * (defaults applied already) and the destination description *desc. 0 or FIN_EINVAL
 * with the answer given. */
static int create_settings(struct freq *r, const char *source, json_t *dst, bool extended,
                           struct fin_delivery_settings *set, json_t **desc)
{
    const char *bucket_arn = json_string_value(json_object_get(dst, "BucketARN"));
    const char *prefix = json_string_value(json_object_get(dst, "Prefix"));
    const char *eprefix = json_string_value(json_object_get(dst, "ErrorOutputPrefix"));
    const char *comp = json_string_value(json_object_get(dst, "CompressionFormat"));
    json_t *hints = json_object_get(dst, "BufferingHints");
    json_t *pc = extended ? json_object_get(dst, "ProcessingConfiguration") : NULL;
    json_t *dc = extended ? json_object_get(dst, "DataFormatConversionConfiguration") : NULL;
    json_t *dp = extended ? json_object_get(dst, "DynamicPartitioningConfiguration") : NULL;
    bool convert = enabled(dc, true), partition = enabled(dp, false), process = enabled(pc, false);
    char where[64];
    snprintf(where, sizeof where, "%s", extended ? "ExtendedS3DestinationConfiguration"
                                                 : "S3DestinationConfiguration");

    /* The bucket is a folder of the lake: S3's bucket-name rules keep it one. */
    /* arn:PARTITION:s3:::BUCKET, the partition aws, aws-cn, aws-us-gov, ... */
    const char *part = bucket_arn + 4;
    const char *bucket = part + strcspn(part, ":");
    if (strncmp(bucket_arn, "arn:aws", 7) != 0 || strncmp(bucket, ":s3:::", 6) != 0) {
        ferr(r, "InvalidArgumentException", "BucketARN %s is not an S3 bucket ARN "
             "(arn:aws:s3:::BUCKET).", bucket_arn);
        return FIN_EINVAL;
    }
    bucket += 6;
    if (fin_s3_bucket_check(bucket)) {
        ferr(r, "InvalidArgumentException", "BucketARN %s: %s.", bucket_arn, fin_err_msg());
        return FIN_EINVAL;
    }
    if (comp && strcmp(comp, "UNCOMPRESSED") != 0 && strcmp(comp, "GZIP") != 0) {
        ferr(r, "InvalidArgumentException", "CompressionFormat %s is not supported here: "
             "UNCOMPRESSED or GZIP.", comp);
        return FIN_EINVAL;
    }
    json_t *mb = json_object_get(hints, "SizeInMBs"), *secs = json_object_get(hints, "IntervalInSeconds");
    json_int_t size_mb = json_is_integer(mb) ? json_integer_value(mb)
                         : convert || partition ? FIREHOSE_CONVERSION_MIN_MB
                                                : FIREHOSE_DEFAULT_SIZE_MB;
    json_int_t interval = json_is_integer(secs) ? json_integer_value(secs)
                                                : FIREHOSE_DEFAULT_INTERVAL_S;
    if ((convert || partition) && size_mb < FIREHOSE_CONVERSION_MIN_MB) {
        ferr(r, "InvalidArgumentException", "BufferingHints.SizeInMBs must be at least %d when "
             "%s is enabled.", FIREHOSE_CONVERSION_MIN_MB,
             convert ? "data format conversion" : "dynamic partitioning");
        return FIN_EINVAL;
    }
    if (json_is_string(json_object_get(dst, "S3BackupMode")) &&
        strcmp(json_string_value(json_object_get(dst, "S3BackupMode")), "Enabled") == 0) {
        ferr(r, "InvalidArgumentException", "S3BackupMode Enabled is not supported here: the "
             "source stream keeps the records for its retention period.");
        return FIN_EINVAL;
    }
    const char *ext = json_string_value(json_object_get(dst, "FileExtension"));
    const char *tz = json_string_value(json_object_get(dst, "CustomTimeZone"));
    if ((ext && *ext) || (tz && *tz && strcmp(tz, "UTC") != 0)) {
        ferr(r, "InvalidArgumentException", "%s is not supported here: object names end as "
             "Firehose's defaults and prefixes use UTC.", ext && *ext ? "FileExtension"
                                                                   : "CustomTimeZone");
        return FIN_EINVAL;
    }

    /* Data format conversion: JSON in, Parquet out. */
    if (convert) {
        json_t *se = json_object_get(json_object_get(dc, "OutputFormatConfiguration"), "Serializer");
        json_t *de = json_object_get(json_object_get(dc, "InputFormatConfiguration"), "Deserializer");
        json_t *pq = json_object_get(se, "ParquetSerDe");
        const char *pqc = json_string_value(json_object_get(pq, "Compression"));
        if (!json_object_get(dc, "SchemaConfiguration") || !de || !se) {
            ferr(r, "InvalidArgumentException", "SchemaConfiguration, InputFormatConfiguration "
                 "and OutputFormatConfiguration are required when DataFormatConversion is "
                 "enabled.");
            return FIN_EINVAL;
        }
        if (json_object_get(se, "OrcSerDe") || !pq) {
            ferr(r, "InvalidArgumentException", "Only ParquetSerDe is supported here as the "
                 "output format's serializer.");
            return FIN_EINVAL;
        }
        if (json_object_get(de, "OpenXJsonSerDe") && json_object_get(de, "HiveJsonSerDe")) {
            ferr(r, "InvalidArgumentException", "Only one of OpenXJsonSerDe and HiveJsonSerDe "
                 "may be given.");
            return FIN_EINVAL;
        }
        if (pqc && strcmp(pqc, "SNAPPY") != 0) {
            ferr(r, "InvalidArgumentException", "ParquetSerDe Compression %s is not supported "
                 "here: Parquet objects are written with SNAPPY.", pqc);
            return FIN_EINVAL;
        }
        if (comp && strcmp(comp, "UNCOMPRESSED") != 0) {
            ferr(r, "InvalidArgumentException", "CompressionFormat must be UNCOMPRESSED when "
                 "DataFormatConversion is enabled.");
            return FIN_EINVAL;
        }
    }

    /* Processing: MetadataExtraction (JQ) for dynamic partitioning; the delimiter is
     * always appended here. */
    const char *query = NULL;
    if (process) {
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(pc, "Processors"), i, p) {
            const char *t = json_string_value(json_object_get(p, "Type"));
            if (t && strcmp(t, "MetadataExtraction") != 0 && strcmp(t, "AppendDelimiterToRecord") != 0) {
                ferr(r, "InvalidArgumentException", "Processor type %s is not supported here "
                     "(MetadataExtraction and AppendDelimiterToRecord are).", t);
                return FIN_EINVAL;
            }
        }
        bool found = false;
        query = processor_param(pc, "MetadataExtraction", "MetadataExtractionQuery", &found);
        const char *engine = processor_param(pc, "MetadataExtraction", "JsonParsingEngine", NULL);
        if (found && (!query || !engine)) {
            ferr(r, "InvalidArgumentException", "MetadataExtraction processor requires the "
                 "MetadataExtractionQuery and JsonParsingEngine parameters.");
            return FIN_EINVAL;
        }
        if (engine && strcmp(engine, "JQ-1.6") != 0) {
            ferr(r, "InvalidArgumentException", "JsonParsingEngine %s is not supported: JQ-1.6.",
                 engine);
            return FIN_EINVAL;
        }
        if (found && !partition) {
            ferr(r, "InvalidArgumentException", "MetadataExtraction processor is only supported "
                 "when dynamic partitioning is enabled.");
            return FIN_EINVAL;
        }
    }
    bool uses_keys = prefix && strstr(prefix, "!{partitionKeyFromQuery:");
    if (prefix && strstr(prefix, "!{partitionKeyFromLambda:")) {
        ferr(r, "InvalidArgumentException", "partitionKeyFromLambda is not supported here: no "
             "Lambda processor runs records.");
        return FIN_EINVAL;
    }
    if (uses_keys && !partition) {
        ferr(r, "InvalidArgumentException", "The partitionKeyFromQuery namespace can be used "
             "only when dynamic partitioning is enabled.");
        return FIN_EINVAL;
    }
    if (partition && !uses_keys) {
        ferr(r, "InvalidArgumentException", "When dynamic partitioning is enabled, Prefix must "
             "use at least one !{partitionKeyFromQuery:KEY}.");
        return FIN_EINVAL;
    }
    if (uses_keys && !query) {
        ferr(r, "InvalidArgumentException", "Prefix uses partitionKeyFromQuery but no "
             "MetadataExtraction processor defines the keys.");
        return FIN_EINVAL;
    }
    if (prefix && strstr(prefix, "!{") && (!eprefix || !*eprefix)) {
        ferr(r, "InvalidArgumentException", "ErrorOutputPrefix cannot be null or empty when "
             "Prefix contains expressions.");
        return FIN_EINVAL;
    }

    /* The settings, through the delivery's own table (its ranges and choices). */
    char num[32], dest[4096];
    snprintf(dest, sizeof dest, "%s/lake/%s", r->svc->data_dir, bucket);
    struct kv { const char *key; const char *val; } kv[9];
    size_t n = 0;
    kv[n++] = (struct kv){"source", source};
    kv[n++] = (struct kv){"destination", dest};
    if (prefix && *prefix)
        kv[n++] = (struct kv){"prefix", prefix};
    if (eprefix && *eprefix)
        kv[n++] = (struct kv){"error_prefix", eprefix};
    kv[n++] = (struct kv){"compression", comp && strcmp(comp, "GZIP") == 0 ? "gzip" : "none"};
    kv[n++] = (struct kv){"format", convert ? "parquet" : "json"};
    if (query)
        kv[n++] = (struct kv){"partition_query", query};
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = fin_opts_set(fin_delivery_opts, set, kv[i].key, kv[i].val, where);
    snprintf(num, sizeof num, "%lldMiB", (long long)size_mb);
    if (!rc)
        rc = fin_opts_set(fin_delivery_opts, set, "buffer_size", num, "BufferingHints.SizeInMBs");
    snprintf(num, sizeof num, "%llds", (long long)interval);
    if (!rc)
        rc = fin_opts_set(fin_delivery_opts, set, "buffer_interval", num,
                          "BufferingHints.IntervalInSeconds");
    if (!rc)
        rc = fin_delivery_settings_check(set);
    if (rc) {
        ferr(r, "InvalidArgumentException", "%s", fin_err_msg());
        return FIN_EINVAL;
    }

    /* What DescribeDeliveryStream shows: the request's destination, defaults filled in. */
    json_t *d = json_deep_copy(dst);
    if (!d)
        return FIN_ENOMEM;
    json_object_set_new(d, "BufferingHints", json_pack("{s:I, s:I}", "SizeInMBs", size_mb,
                                                       "IntervalInSeconds", interval));
    json_object_set_new(d, "CompressionFormat", json_string(comp ? comp : "UNCOMPRESSED"));
    if (!json_object_get(d, "EncryptionConfiguration"))
        json_object_set_new(d, "EncryptionConfiguration",
                            json_pack("{s:s}", "NoEncryptionConfig", "NoEncryption"));
    if (extended && !json_object_get(d, "S3BackupMode"))
        json_object_set_new(d, "S3BackupMode", json_string("Disabled"));
    if (dc && !json_object_get(dc, "Enabled"))
        json_object_set_new(json_object_get(d, "DataFormatConversionConfiguration"), "Enabled",
                            json_true());
    *desc = d;
    return 0;
}

static void create_delivery(struct freq *r)
{
    json_t *b = r->body;
    struct verr v = {.n = 0};
    fin_buf_init(&v.msg);
    static const char *const types[] = {"DirectPut", "KinesisStreamAsSource", "MSKAsSource",
                                        "DatabaseAsSource", NULL};
    const char *name = v_str(&v, b, "DeliveryStreamName", "", true, 1, FIN_DELIVERY_MAX_NAME, P_NAME);
    const char *type = v_enum(&v, b, "DeliveryStreamType", "", false, types);
    json_t *ks = v_obj(&v, b, "KinesisStreamSourceConfiguration");
    if (ks) {
        v_str(&v, ks, "KinesisStreamARN", "kinesisStreamSourceConfiguration", true, 1, 512, P_ARN);
        v_str(&v, ks, "RoleARN", "kinesisStreamSourceConfiguration", true, 1, 512, P_ARN);
    }
    v_obj(&v, b, "DeliveryStreamEncryptionConfigurationInput");
    json_t *s3 = v_obj(&v, b, "S3DestinationConfiguration");
    if (s3)
        v_destination(&v, s3, "s3DestinationConfiguration", false);
    json_t *ext = v_obj(&v, b, "ExtendedS3DestinationConfiguration");
    if (ext)
        v_destination(&v, ext, "extendedS3DestinationConfiguration", true);
    v_list(&v, b, "Tags");
    if (verr_answer(r, &v))
        return;

    /* Names with "__" are serve's own (the private streams): never a delivery stream;
     * and every name follows the one rule for names (names.h: no leading '.'). */
    if (strncmp(name, "__", 2) == 0) {
        ferr(r, "InvalidArgumentException", "Delivery stream names beginning with '__' are "
             "reserved here.");
        return;
    }
    if (fin_name_check(FIN_NAME_DELIVERY, name) != 0) {
        ferr(r, "InvalidArgumentException", "%s", fin_err_msg());
        return;
    }
    if (!r->svc->config_path) {
        fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "no configuration file");
        return;
    }
    static const char *const others[] = {
        "RedshiftDestinationConfiguration", "ElasticsearchDestinationConfiguration",
        "AmazonopensearchserviceDestinationConfiguration", "SplunkDestinationConfiguration",
        "HttpEndpointDestinationConfiguration", "AmazonOpenSearchServerlessDestinationConfiguration",
        "SnowflakeDestinationConfiguration", "IcebergDestinationConfiguration",
        "MSKSourceConfiguration", "DatabaseSourceConfiguration"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        if (json_object_get(b, others[i])) {
            ferr(r, "InvalidArgumentException", "%s is not supported here: delivery streams "
                 "write to S3 (the lake).", others[i]);
            return;
        }
    if (!type)
        type = "DirectPut";
    bool direct = strcmp(type, "DirectPut") == 0;
    if (!direct && strcmp(type, "KinesisStreamAsSource") != 0) {
        ferr(r, "InvalidArgumentException", "DeliveryStreamType %s is not supported here: "
             "DirectPut or KinesisStreamAsSource.", type);
        return;
    }
    if ((s3 != NULL) == (ext != NULL)) {
        ferr(r, "InvalidArgumentException", "%s", s3 ? "Only one destination configuration may "
             "be given: S3DestinationConfiguration or ExtendedS3DestinationConfiguration."
             : "A destination configuration is required: ExtendedS3DestinationConfiguration "
             "(or S3DestinationConfiguration).");
        return;
    }
    char source[FIN_STREAM_MAX_NAME + 16];
    const char *src_arn = NULL;
    if (direct) {
        if (ks) {
            ferr(r, "InvalidArgumentException", "KinesisStreamSourceConfiguration is only "
                 "allowed when DeliveryStreamType is KinesisStreamAsSource.");
            return;
        }
        snprintf(source, sizeof source, "stream:" FIN_SERVE_INTERNAL_PREFIX "%s", name);
    } else {
        src_arn = json_string_value(json_object_get(ks, "KinesisStreamARN"));
        const char *slash = src_arn ? strstr(src_arn, ":stream/") : NULL;
        if (!src_arn) {
            ferr(r, "InvalidArgumentException", "KinesisStreamSourceConfiguration is required "
                 "when DeliveryStreamType is KinesisStreamAsSource.");
            return;
        }
        if (!slash || strncmp(src_arn, "arn:aws", 7) != 0 || !strstr(src_arn, ":kinesis:") ||
            fin_name_check(FIN_NAME_STREAM, slash + 8) != 0 ||
            reg_internal_name(slash + 8)) {
            ferr(r, "InvalidArgumentException", "KinesisStreamARN %s does not name a Kinesis "
                 "stream (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME).", src_arn);
            return;
        }
        snprintf(source, sizeof source, "stream:%s", slash + 8);
    }

    struct fin_delivery_settings set;
    json_t *desc = NULL, *meta = NULL;
    struct fin_buf section;
    fin_buf_init(&section);
    int rc = fin_delivery_settings_defaults(&set);
    if (rc || create_settings(r, source, ext ? ext : s3, ext != NULL, &set, &desc)) {
        if (rc)
            fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "%s", fin_err_msg());
        fin_delivery_settings_fini(&set);
        return;
    }
    rc = fin_buf_puts(&section, "\n; made by CreateDeliveryStream through finstream serve\n");
    if (!rc && (rc = fin_delivery_settings_format(&set, name, &section)))
        ferr(r, "InvalidArgumentException", "%s", fin_err_msg());
    fin_delivery_settings_fini(&set);
    meta = rc ? NULL : json_pack("{s:s, s:I, s:o}", "DeliveryStreamType", type, "CreatedMs",
                                 (json_int_t)now_ms(r->svc), "Destination", desc);
    desc = NULL;
    if (meta && !ext)
        json_object_set_new(meta, "Plain", json_true());   /* S3DestinationConfiguration */
    if (meta && !direct) {
        json_object_set_new(meta, "SourceStream", json_string(source + 7));
        json_object_set(meta, "SourceRoleARN", json_object_get(ks, "RoleARN"));
    }
    if (rc || !meta) {
        if (!rc)
            fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "out of memory");
        json_decref(meta);
        fin_buf_fini(&section);
        return;
    }

    reg_lock(r->svc);
    struct sdelivery *d = find_locked(r->svc, name);
    if (d) {
        reg_unlock(r->svc);
        ferr(r, "ResourceInUseException", "Firehose %s under account %s already exists.", name,
             r->svc->account);
        goto done;
    }
    struct sstream *src = direct ? NULL : reg_find_locked(r->svc, source + 7);
    if (!direct && (!src || sstream_status(r->svc, src) == ST_DELETING)) {
        reg_unlock(r->svc);
        ferr(r, "InvalidArgumentException", "Stream %s under account %s not found.", source + 7,
             r->svc->account);
        goto done;
    }
    struct sstream *old = direct ? reg_find_locked(r->svc, source + 7) : NULL;
    if (old && old->gone) {
        /* the private stream of a delivery stream of this name, deleted a moment ago */
        reg_unlock(r->svc);
        ferr(r, "ResourceInUseException", "Firehose %s under account %s is being deleted; "
             "try again shortly.", name, r->svc->account);
        goto done;
    }
    if (direct) {
        /* A private stream without its delivery stream holds nothing anyone was told is
         * delivered (puts need the delivery stream): left by an attempt that stopped before
         * the section was written, or made outside serve. Its records are not adopted. */
        if (old && old->refs > 0) {
            reg_unlock(r->svc);
            ferr(r, "ResourceInUseException", "Firehose %s under account %s is in use.", name,
                 r->svc->account);
            goto done;
        }
        if (old && old->st) {
            fin_stream_close(old->st);
            old->st = NULL;
        }
        rc = fin_stream_delete(r->svc->data_dir, source + 7);
        if (rc == FIN_ENOENT)
            rc = 0;
        char state[4096];   /* and no checkpoints of an earlier stream of that name */
        snprintf(state, sizeof state, "%s/deliveries/%s", r->svc->data_dir, name);
        if (!rc && fin_path_exists(state))
            rc = fin_remove_tree(state);
        struct fin_stream_config cfg;
        fin_stream_config_defaults(&cfg);
        if (!rc)
            rc = fin_stream_create(r->svc->data_dir, source + 7, &cfg);
        struct sstream *ss = rc ? NULL : reg_find_locked(r->svc, source + 7);
        if (!rc && !ss && (ss = sstream_new(source + 7))) {
            ss->created_s = now_ms(r->svc) / 1000;
            ss->next = r->svc->streams;
            r->svc->streams = ss;
        }
    }
    d = rc ? NULL : delivery_new(r->svc, name);
    if (!rc && !d)
        rc = FIN_ENOMEM;
    /* The description first, the section (which makes the delivery stream exist) last. */
    if (!rc)
        rc = meta_write(r->svc, name, meta);
    bool written = false;
    if (!rc && fin_buf_cstr(&section))
        written = !(rc = ini_rewrite(r->svc, name, section.data));
    if (!rc && !(rc = describe_load(r->svc, d)))
        rc = worker_start(d);
    if (rc && written) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", fin_err_msg());
        ini_rewrite(r->svc, name, NULL);   /* no section without its worker */
        fin_err_set(rc, "%s", msg);
    }
    if (rc) {
        reg_unlock(r->svc);
        delivery_free(d);
        fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "%s", fin_err_msg());
        goto done;
    }
    /* Its resources exist now (the section, the private stream, the worker): ACTIVE at
     * once, so puts right after the call succeed as the documented examples expect. */
    d->status = ST_ACTIVE;
    d->next = r->svc->deliveries;
    r->svc->deliveries = d;
    reg_unlock(r->svc);
    respond_value(r->svc, r->resp, json_pack("{s:o}", "DeliveryStreamARN", delivery_arn(r, name)));
done:
    json_decref(meta);
    fin_buf_fini(&section);
}

static void delete_delivery(struct freq *r)
{
    struct verr v = {.n = 0};
    fin_buf_init(&v.msg);
    const char *name = v_str(&v, r->body, "DeliveryStreamName", "", true, 1,
                             FIN_DELIVERY_MAX_NAME, P_NAME);
    v_bool(&v, r->body, "AllowForceDelete", false);
    if (verr_answer(r, &v))
        return;
    reg_lock(r->svc);
    struct sdelivery **pp = &r->svc->deliveries;
    while (*pp && strcmp((*pp)->name, name) != 0)
        pp = &(*pp)->next;
    struct sdelivery *d = *pp;
    if (!d) {
        reg_unlock(r->svc);
        not_found(r, name);
        return;
    }
    *pp = d->next;
    /* The worker flushes what it holds before it stops: nothing acknowledged is lost. */
    worker_stop(d);
    int rc = ini_rewrite(r->svc, name, NULL);
    char path[4096];
    if (!rc && meta_path(r->svc, name, path, sizeof path) == 0)
        unlink(path);
    if (!rc && d->direct) {
        char sname[FIN_STREAM_MAX_NAME + 1];
        snprintf(sname, sizeof sname, FIN_SERVE_INTERNAL_PREFIX "%s", name);
        struct sstream *ss = reg_find_locked(r->svc, sname);
        if (ss)
            reg_delete_locked(r->svc, ss);
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/deliveries/%s", r->svc->data_dir, name);
    fin_remove_tree(dir);
    reg_unlock(r->svc);
    delivery_free(d);
    if (rc)
        fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "%s", fin_err_msg());
    else
        respond_value(r->svc, r->resp, json_object());
}

/* S3DestinationDescription: the members the plain S3 destination has. */
static json_t *plain_description(json_t *ext)
{
    static const char *const keys[] = {"RoleARN", "BucketARN", "Prefix", "ErrorOutputPrefix",
                                       "BufferingHints", "CompressionFormat",
                                       "EncryptionConfiguration", "CloudWatchLoggingOptions"};
    json_t *o = json_object();
    for (size_t i = 0; o && i < sizeof keys / sizeof keys[0]; i++)
        if (json_object_get(ext, keys[i]))
            json_object_set(o, keys[i], json_object_get(ext, keys[i]));
    return o;
}

static void describe_delivery(struct freq *r)
{
    struct verr v = {.n = 0};
    fin_buf_init(&v.msg);
    const char *name = v_str(&v, r->body, "DeliveryStreamName", "", true, 1,
                             FIN_DELIVERY_MAX_NAME, P_NAME);
    json_int_t lim;
    v_int(&v, r->body, "Limit", "", 1, 10000, &lim);
    v_str(&v, r->body, "ExclusiveStartDestinationId", "", false, 1, 100, P_NAME);
    if (verr_answer(r, &v))
        return;
    reg_lock(r->svc);
    struct sdelivery *d = find_locked(r->svc, name);
    if (!d || !d->settings) {
        reg_unlock(r->svc);
        not_found(r, name);
        return;
    }
    json_t *m = d->settings;
    json_t *dest = json_object_get(m, "Destination");
    json_t *dst = json_pack("{s:s, s:o}", "DestinationId", "destinationId-000000000001",
                            "S3DestinationDescription", plain_description(dest));
    if (dst && !json_is_true(json_object_get(m, "Plain")))
        json_object_set(dst, "ExtendedS3DestinationDescription", dest);
    json_t *desc = json_pack(
        "{s:s, s:o, s:s, s:{s:s}, s:s, s:s, s:f, s:[o], s:b}", "DeliveryStreamName", d->name,
        "DeliveryStreamARN", delivery_arn(r, d->name), "DeliveryStreamStatus", "ACTIVE",
        "DeliveryStreamEncryptionConfiguration", "Status", "DISABLED", "DeliveryStreamType",
        d->direct ? "DirectPut" : "KinesisStreamAsSource", "VersionId", "1", "CreateTimestamp",
        (double)json_integer_value(json_object_get(m, "CreatedMs")) / 1000.0, "Destinations",
        dst, "HasMoreDestinations", 0);
    const char *src = json_string_value(json_object_get(m, "SourceStream"));
    if (desc && !d->direct && src) {
        json_t *ksd = json_pack("{s:o, s:f}", "KinesisStreamARN",
                                json_sprintf("arn:aws:kinesis:%s:%s:stream/%s", r->region,
                                             r->svc->account, src),
                                "DeliveryStartTimestamp",
                                (double)json_integer_value(json_object_get(m, "CreatedMs")) / 1000.0);
        if (ksd && json_is_string(json_object_get(m, "SourceRoleARN")))
            json_object_set(ksd, "RoleARN", json_object_get(m, "SourceRoleARN"));
        json_object_set_new(desc, "Source", json_pack("{s:o}", "KinesisStreamSourceDescription", ksd));
    }
    reg_unlock(r->svc);
    respond_value(r->svc, r->resp, desc ? json_pack("{s:o}", "DeliveryStreamDescription", desc)
                                        : NULL);
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void list_deliveries(struct freq *r)
{
    struct verr v = {.n = 0};
    fin_buf_init(&v.msg);
    json_int_t limit = 10;
    static const char *const types[] = {"DirectPut", "KinesisStreamAsSource", "MSKAsSource",
                                        "DatabaseAsSource", NULL};
    v_int(&v, r->body, "Limit", "", 1, 10000, &limit);
    const char *type = v_enum(&v, r->body, "DeliveryStreamType", "", false, types);
    const char *start = v_str(&v, r->body, "ExclusiveStartDeliveryStreamName", "", false, 1,
                              FIN_DELIVERY_MAX_NAME, P_NAME);
    if (verr_answer(r, &v))
        return;
    reg_lock(r->svc);
    size_t n = 0, k = 0;
    for (struct sdelivery *d = r->svc->deliveries; d; d = d->next)
        n++;
    const char **names_v = calloc(n ? n : 1, sizeof *names_v);
    for (struct sdelivery *d = r->svc->deliveries; d && names_v; d = d->next)
        if (!type || strcmp(type, d->direct ? "DirectPut" : "KinesisStreamAsSource") == 0)
            names_v[k++] = d->name;
    qsort(names_v, k, sizeof *names_v, cmp_cstr);
    json_t *names = json_array();
    size_t i = 0;
    if (start)
        while (i < k && strcmp(names_v[i], start) <= 0)
            i++;
    for (; i < k && (json_int_t)json_array_size(names) < limit; i++)
        json_array_append_new(names, json_string(names_v[i]));
    reg_unlock(r->svc);
    free(names_v);
    respond_value(r->svc, r->resp, json_pack("{s:o, s:b}", "DeliveryStreamNames", names,
                                             "HasMoreDeliveryStreams", i < k));
}

/* ---- PutRecord, PutRecordBatch ---- */

#define FIREHOSE_BATCH_MAX   500
#define FIREHOSE_BATCH_BYTES (4 * 1024 * 1024)
#define FIREHOSE_RECORD_MAX  (1000 * 1024)

static void put(struct freq *r, bool batch)
{
    int64_t t0 = fin_mono_ns(r->svc->clock);
    struct fin_put_entry *e = NULL;
    struct fin_put_result *res = NULL;
    unsigned char *arena = NULL;
    struct sstream *ss = NULL;
    struct verr v = {.n = 0};
    fin_buf_init(&v.msg);
    const char *name = v_str(&v, r->body, "DeliveryStreamName", "", true, 1,
                             FIN_DELIVERY_MAX_NAME, P_NAME);
    json_t *recs = batch ? v_list(&v, r->body, "Records") : NULL;
    json_t *one = batch ? NULL : v_obj(&v, r->body, "Record");
    size_t n = batch ? json_array_size(recs) : 1;
    if (batch && recs && (n < 1 || n > FIREHOSE_BATCH_MAX))
        vadd(&v, "records", recs, "Member must have length %s %d", n < 1 ?
             "greater than or equal to" : "less than or equal to", n < 1 ? 1 : FIREHOSE_BATCH_MAX);
    if ((batch && !recs && !json_object_get(r->body, "Records")) ||
        (!batch && !one && !json_object_get(r->body, "Record")))
        vadd(&v, batch ? "records" : "record", NULL, "Member must not be null");
    size_t cap = 0;
    for (size_t i = 0; (batch ? recs != NULL : one != NULL) && i < n && n <= FIREHOSE_BATCH_MAX; i++) {
        json_t *o = batch ? json_array_get(recs, i) : one;
        char where[64];
        if (batch)
            snprintf(where, sizeof where, "records.%zu.member", i + 1);
        else
            snprintf(where, sizeof where, "record");
        if (!json_is_object(o)) {
            vtype(&v, o, "Structure");
            continue;
        }
        const char *data = v_str(&v, o, "Data", where, true, 0, SIZE_MAX, P_ANY);
        if (data)
            cap += json_string_length(json_object_get(o, "Data")) / 4 * 3 + 3;
    }
    if (verr_answer(r, &v))
        return;
    reg_lock(r->svc);
    struct sdelivery *d = find_locked(r->svc, name);
    if (d && !d->settings)
        d = NULL;   /* its section did not load (logged at start): as Describe says, absent */
    bool ok = d && d->direct;
    reg_unlock(r->svc);
    if (!ok) {
        if (d)
            ferr(r, "InvalidArgumentException", "This operation is not permitted on "
                                                "KinesisStreamAsSource delivery stream type.");
        else
            not_found(r, name);
        return;
    }
    e = calloc(n, sizeof *e);
    res = calloc(n, sizeof *res);
    arena = malloc(cap + 1);
    int *rcs = calloc(n, sizeof *rcs);
    if (!e || !res || !arena || !rcs) {
        fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "out of memory");
        goto done;
    }
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *data = json_object_get(batch ? json_array_get(recs, i) : one, "Data");
        long dn = b64_decode(json_string_value(data), json_string_length(data), arena + off);
        if (dn < 0) {
            fin_serve_error(r->svc, r->resp, 400, "SerializationException",
                            "Base64 encoded value of record %zu is not valid", i + 1);
            goto done;
        }
        if (dn > FIREHOSE_RECORD_MAX) {
            char where[64];
            if (batch)
                snprintf(where, sizeof where, "records.%zu.member.data", i + 1);
            else
                snprintf(where, sizeof where, "record.data");
            ferr(r, "ValidationException", "1 validation error detected: Value at '%s' failed "
                 "to satisfy constraint: Member must have length less than or equal to %d",
                 where, FIREHOSE_RECORD_MAX);
            goto done;
        }
        e[i] = (struct fin_put_entry){"direct", 6, arena + off, (size_t)dn};
        off += (size_t)dn;
    }
    if (off > FIREHOSE_BATCH_BYTES) {
        ferr(r, "InvalidArgumentException", "Records size exceeds 4 MiB limit");
        goto done;
    }
    char sname[FIN_STREAM_MAX_NAME + 1];
    snprintf(sname, sizeof sname, FIN_SERVE_INTERNAL_PREFIX "%s", name);
    struct fin_serve_response tmp = {0};
    if (reg_acquire_private(r->svc, sname, false, &ss, &tmp)) {
        *r->resp = tmp;
        goto done;
    }
    int rc = fin_stream_put_batch(ss->st, e, n, res);
    atomic_fetch_add(&r->svc->m.fh_records, rc ? 0 : n);
    atomic_fetch_add(&r->svc->m.fh_bytes, rc ? 0 : off);
    struct fin_buf b;
    fin_buf_init(&b);
    if (!batch) {
        if (rc)
            fin_serve_error(r->svc, r->resp, 500, "ServiceUnavailableException", "%s",
                            fin_err_msg());
        else {
            fin_buf_printf(&b, "{\"RecordId\":\"%s\",\"Encrypted\":false}", res[0].seq);
            respond_json(r->resp, &b);
        }
    } else {
        /* A failed write or fsync leaves unknown which records reached the disk: all
         * are reported failed and the client sends them again (at least once). */
        fin_buf_printf(&b, "{\"FailedPutCount\":%zu,\"Encrypted\":false,\"RequestResponses\":[",
                       rc ? n : 0);
        for (size_t i = 0; i < n; i++) {
            if (i)
                fin_buf_append(&b, ",", 1);
            if (rc)
                fin_buf_puts(&b, "{\"ErrorCode\":\"ServiceUnavailableException\","
                                 "\"ErrorMessage\":\"Slow down.\"}");
            else
                fin_buf_printf(&b, "{\"RecordId\":\"%s\"}", res[i].seq);
        }
        fin_buf_puts(&b, "]}");
        if (fin_buf_cstr(&b))
            respond_json(r->resp, &b);
        else
            fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "out of memory");
    }
    fin_buf_fini(&b);
done:
    metrics_put_latency(&r->svc->m, fin_mono_ns(r->svc->clock) - t0);
    reg_release(r->svc, ss);
    free(e);
    free(res);
    free(arena);
    free(rcs);
}

void firehose_dispatch(struct fin_serve *svc, const struct fin_serve_request *req, const char *op,
                       json_t *body, struct fin_serve_response *resp)
{
    struct freq r = {svc, req, body, resp, ""};
    scope_region(&r);
    if (strcmp(op, "PutRecordBatch") == 0)
        put(&r, true);
    else if (strcmp(op, "PutRecord") == 0)
        put(&r, false);
    else if (strcmp(op, "CreateDeliveryStream") == 0)
        create_delivery(&r);
    else if (strcmp(op, "DeleteDeliveryStream") == 0)
        delete_delivery(&r);
    else if (strcmp(op, "DescribeDeliveryStream") == 0)
        describe_delivery(&r);
    else if (strcmp(op, "ListDeliveryStreams") == 0)
        list_deliveries(&r);
    else
        fin_serve_error(svc, resp, 400, "UnknownOperationException", "unknown operation %s", op);
}
