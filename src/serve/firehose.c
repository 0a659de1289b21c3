/* firehose.c - the Kinesis Data Firehose actions of the JSON 1.1 API (target prefix
 * Firehose_20150804), mapped onto finstream's delivery streams.
 *
 * A delivery stream is a [delivery "NAME"] section of finstream.ini, so one made here
 * is the same thing `finstream deliver` runs: CreateDeliveryStream appends the section
 * (atomically, the whole file replaced) and DeleteDeliveryStream takes it out. The S3
 * bucket of the destination maps to the lake folder <data_dir>/lake/<bucket>; prefix,
 * error prefix, buffering hints and compression map to the section's keys.
 *
 * Direct puts go to a stream that serve keeps for the delivery stream,
 * "__firehose.NAME", with the same group commit as Kinesis puts: a record is
 * acknowledged once it is durable there. The delivery stream reads that stream (or,
 * with a Kinesis source, the named stream) in a worker thread of its own running
 * fin_delivery_run, which writes the objects exactly once. */
#include "internal.h"

#include "finstream/delivery.h"
#include "finstream/error.h"
#include "finstream/names.h"
#include "finstream/fsutil.h"
#include "finstream/log.h"
#include "finstream/progress.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIRECT_PREFIX "__firehose."

struct freq {
    struct fin_serve *svc;
    json_t *body;
    struct fin_serve_response *resp;
};

static void ferr(struct freq *r, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void ferr(struct freq *r, const char *type, const char *fmt, ...)
{
    char msg[768];
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
    snprintf(d->name, sizeof d->name, "%s", name);
    return d;
}

/* Fills d's description fields from its section. */
static int describe_load(struct fin_serve *svc, struct sdelivery *d)
{
    struct fin_delivery_settings set;
    int rc = fin_delivery_settings_load(&set, svc->config_path, d->name);
    if (rc)
        return rc;
    json_decref(d->settings);
    d->settings = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s}", "source", set.source,
                            "prefix", set.prefix ? set.prefix : "", "error_prefix",
                            set.error_prefix ? set.error_prefix : "", "buffer_size",
                            (json_int_t)set.buffer_size, "buffer_interval_ms",
                            (json_int_t)set.buffer_interval_ms, "compression",
                            set.compression == FIN_COMPRESS_GZIP ? "GZIP" : "UNCOMPRESSED",
                            "destination", set.destination ? set.destination : "");
    fin_delivery_settings_fini(&set);
    return d->settings ? 0 : FIN_ENOMEM;
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
            d->created_s = now_ms(svc) / 1000;
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
        json_decref(d->settings);
        free(d);
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

static bool name_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    return n <= max && fin_name_valid(FIN_NAME_STREAM, s, n);
}

static bool ini_safe(const char *s)
{
    return !strpbrk(s, ";#\n\r\"");
}

static void create_delivery(struct freq *r)
{
    json_t *b = r->body;
    const char *name = json_string_value(json_object_get(b, "DeliveryStreamName"));
    if (!name) {
        ferr(r, "ValidationException", "1 validation error detected: Value null at "
                                       "'deliveryStreamName' failed to satisfy constraint: Member "
                                       "must not be null");
        return;
    }
    if (!name_ok(name, FIN_DELIVERY_MAX_NAME) || strncmp(name, "__", 2) == 0) {
        ferr(r, "ValidationException", "1 validation error detected: Value '%s' at "
                                       "'deliveryStreamName' failed to satisfy constraint: Member "
                                       "must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
             name);
        return;
    }
    if (!r->svc->config_path) {
        fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "no configuration file");
        return;
    }
    const char *type = json_string_value(json_object_get(b, "DeliveryStreamType"));
    if (!type)
        type = "DirectPut";
    bool direct = strcmp(type, "DirectPut") == 0;
    if (!direct && strcmp(type, "KinesisStreamAsSource") != 0) {
        ferr(r, "InvalidArgumentException", "DeliveryStreamType %s is not supported: DirectPut "
                                            "or KinesisStreamAsSource", type);
        return;
    }
    char source[FIN_STREAM_MAX_NAME + 16];
    if (direct) {
        snprintf(source, sizeof source, "stream:" DIRECT_PREFIX "%s", name);
    } else {
        const char *arn = json_string_value(json_object_get(
            json_object_get(b, "KinesisStreamSourceConfiguration"), "KinesisStreamARN"));
        const char *slash = arn ? strstr(arn, ":stream/") : NULL;
        if (!slash || !name_ok(slash + 8, FIN_STREAM_MAX_NAME)) {
            ferr(r, "InvalidArgumentException",
                 "KinesisStreamSourceConfiguration.KinesisStreamARN must name a stream "
                 "(arn:aws:kinesis:REGION:ACCOUNT:stream/NAME)");
            return;
        }
        snprintf(source, sizeof source, "stream:%s", slash + 8);
    }
    json_t *dst = json_object_get(b, "ExtendedS3DestinationConfiguration");
    if (!dst)
        dst = json_object_get(b, "S3DestinationConfiguration");
    const char *bucket_arn = json_string_value(json_object_get(dst, "BucketARN"));
    if (!bucket_arn || strncmp(bucket_arn, "arn:aws:s3:::", 13) != 0 ||
        !name_ok(bucket_arn + 13, 63)) {
        ferr(r, "InvalidArgumentException",
             "an ExtendedS3DestinationConfiguration with BucketARN arn:aws:s3:::BUCKET is required");
        return;
    }
    const char *prefix = json_string_value(json_object_get(dst, "Prefix"));
    const char *eprefix = json_string_value(json_object_get(dst, "ErrorOutputPrefix"));
    const char *comp = json_string_value(json_object_get(dst, "CompressionFormat"));
    json_t *hints = json_object_get(dst, "BufferingHints");
    json_t *mb = json_object_get(hints, "SizeInMBs"), *secs = json_object_get(hints, "IntervalInSeconds");
    if ((prefix && !ini_safe(prefix)) || (eprefix && !ini_safe(eprefix))) {
        ferr(r, "InvalidArgumentException", "Prefix and ErrorOutputPrefix may not contain ; # \" "
                                            "or line breaks here");
        return;
    }
    if (comp && strcmp(comp, "UNCOMPRESSED") != 0 && strcmp(comp, "GZIP") != 0) {
        ferr(r, "InvalidArgumentException", "CompressionFormat %s is not supported: UNCOMPRESSED "
                                            "or GZIP", comp);
        return;
    }
    json_int_t size_mb = json_is_integer(mb) ? json_integer_value(mb) : 5;
    json_int_t interval = json_is_integer(secs) ? json_integer_value(secs) : 300;
    if (size_mb < 1 || size_mb > 128 || interval < 0 || interval > 900) {
        ferr(r, "InvalidArgumentException", "BufferingHints: SizeInMBs is 1 to 128 and "
                                            "IntervalInSeconds 0 to 900");
        return;
    }
    char section[4096];
    int n = snprintf(section, sizeof section,
                     "\n[delivery \"%s\"]\n"
                     "; made by CreateDeliveryStream (%s) through finstream serve\n"
                     "source = %s\n"
                     "buffer_size = %lldMiB\n"
                     "buffer_interval = %llds\n"
                     "compression = %s\n"
                     "destination = %s/lake/%s\n"
                     "%s%s%s%s%s%s",
                     name, type, source, (long long)size_mb, (long long)interval,
                     comp && strcmp(comp, "GZIP") == 0 ? "gzip" : "none", r->svc->data_dir,
                     bucket_arn + 13, prefix && *prefix ? "prefix = " : "",
                     prefix && *prefix ? prefix : "", prefix && *prefix ? "\n" : "",
                     eprefix && *eprefix ? "error_prefix = " : "",
                     eprefix && *eprefix ? eprefix : "", eprefix && *eprefix ? "\n" : "");
    if (n < 0 || (size_t)n >= sizeof section) {
        ferr(r, "InvalidArgumentException", "prefixes too long");
        return;
    }
    /* Checked the way the delivery will read it, before anything is written. */
    struct fin_ini ini;
    int rc = fin_ini_load_string(&ini, section, "CreateDeliveryStream");
    if (!rc) {
        struct fin_delivery_settings set;
        fin_delivery_settings_defaults(&set);
        const struct fin_ini_section *sec = fin_ini_find(&ini, "delivery", name);
        rc = sec ? fin_opts_apply_section(fin_delivery_opts, &set, &ini, sec) : FIN_EINVAL;
        if (!rc)
            rc = fin_delivery_settings_check(&set);
        fin_delivery_settings_fini(&set);
        fin_ini_fini(&ini);
    }
    if (rc) {
        ferr(r, "InvalidArgumentException", "%s", fin_err_msg());
        return;
    }

    reg_lock(r->svc);
    struct sdelivery *d = find_locked(r->svc, name);
    if (d) {
        reg_unlock(r->svc);
        ferr(r, "ResourceInUseException", "Firehose %s under account %s already exists.", name,
             r->svc->account);
        return;
    }
    if (!direct && !reg_find_locked(r->svc, source + 7)) {
        reg_unlock(r->svc);
        ferr(r, "InvalidArgumentException", "Stream %s under account %s not found.", source + 7,
             r->svc->account);
        return;
    }
    if (direct) {
        struct fin_stream_config cfg;
        fin_stream_config_defaults(&cfg);
        rc = fin_stream_create(r->svc->data_dir, source + 7, &cfg);
        if (rc == FIN_EEXIST)
            rc = 0;  /* left by a delivery stream of this name deleted with its records */
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
    if (!rc)
        rc = ini_rewrite(r->svc, name, section);
    if (!rc && !(rc = describe_load(r->svc, d)))
        rc = worker_start(d);
    if (rc) {
        reg_unlock(r->svc);
        if (d)
            json_decref(d->settings);
        free(d);
        fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "%s", fin_err_msg());
        return;
    }
    d->created_s = now_ms(r->svc) / 1000;
    d->status = ST_CREATING;
    d->until_ms = now_ms(r->svc) + r->svc->cfg.creating_ms;
    d->direct = direct;
    d->next = r->svc->deliveries;
    r->svc->deliveries = d;
    reg_unlock(r->svc);
    json_t *out = json_pack("{s:o}", "DeliveryStreamARN",
                            json_sprintf("arn:aws:firehose:%s:%s:deliverystream/%s",
                                         r->svc->region, r->svc->account, name));
    respond_value(r->svc, r->resp, out);
}

static void delete_delivery(struct freq *r)
{
    const char *name = json_string_value(json_object_get(r->body, "DeliveryStreamName"));
    if (!name) {
        ferr(r, "ValidationException", "1 validation error detected: Value null at "
                                       "'deliveryStreamName' failed to satisfy constraint: Member "
                                       "must not be null");
        return;
    }
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
    if (!rc && d->direct) {
        char sname[FIN_STREAM_MAX_NAME + 1];
        snprintf(sname, sizeof sname, DIRECT_PREFIX "%s", name);
        struct sstream *ss = reg_find_locked(r->svc, sname);
        if (ss)
            reg_delete_locked(r->svc, ss);
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/deliveries/%s", r->svc->data_dir, name);
    fin_remove_tree(dir);
    reg_unlock(r->svc);
    json_decref(d->settings);
    free(d);
    if (rc)
        fin_serve_error(r->svc, r->resp, 500, "InternalFailure", "%s", fin_err_msg());
    else
        respond_value(r->svc, r->resp, json_object());
}

static void describe_delivery(struct freq *r)
{
    const char *name = json_string_value(json_object_get(r->body, "DeliveryStreamName"));
    reg_lock(r->svc);
    struct sdelivery *d = name ? find_locked(r->svc, name) : NULL;
    if (!d) {
        reg_unlock(r->svc);
        not_found(r, name ? name : "");
        return;
    }
    json_t *s = d->settings;
    const char *source = json_string_value(json_object_get(s, "source"));
    const char *dest = json_string_value(json_object_get(s, "destination"));
    const char *slash = dest ? strrchr(dest, '/') : NULL;
    bool creating = d->status == ST_CREATING && now_ms(r->svc) < d->until_ms;
    json_t *desc = json_pack(
        "{s:s, s:o, s:s, s:s, s:s, s:I, s:[{s:s, s:{s:o, s:s, s:s, s:{s:I, s:I}, s:s, s:s}}], "
        "s:b}",
        "DeliveryStreamName", d->name, "DeliveryStreamARN",
        json_sprintf("arn:aws:firehose:%s:%s:deliverystream/%s", r->svc->region, r->svc->account,
                     d->name),
        "DeliveryStreamStatus", creating ? "CREATING" : "ACTIVE", "DeliveryStreamType",
        d->direct ? "DirectPut" : "KinesisStreamAsSource", "VersionId", "1", "CreateTimestamp",
        (json_int_t)d->created_s, "Destinations", "DestinationId", "destinationId-000000000001",
        "ExtendedS3DestinationDescription", "BucketARN",
        json_sprintf("arn:aws:s3:::%s", slash ? slash + 1 : "lake"), "Prefix",
        json_string_value(json_object_get(s, "prefix")), "ErrorOutputPrefix",
        json_string_value(json_object_get(s, "error_prefix")), "BufferingHints", "SizeInMBs",
        (json_int_t)(json_integer_value(json_object_get(s, "buffer_size")) >> 20),
        "IntervalInSeconds",
        (json_int_t)(json_integer_value(json_object_get(s, "buffer_interval_ms")) / 1000),
        "CompressionFormat", json_string_value(json_object_get(s, "compression")), "RoleARN",
        "arn:aws:iam::000000000000:role/finstream", "HasMoreDestinations", 0);
    if (desc && !d->direct && source && strncmp(source, "stream:", 7) == 0)
        json_object_set_new(desc, "Source",
                            json_pack("{s:{s:o}}", "KinesisStreamSourceDescription",
                                      "KinesisStreamARN",
                                      json_sprintf("arn:aws:kinesis:%s:%s:stream/%s",
                                                   r->svc->region, r->svc->account, source + 7)));
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
    json_t *lim = json_object_get(r->body, "Limit");
    json_int_t limit = json_is_integer(lim) ? json_integer_value(lim) : 10;
    const char *start = json_string_value(json_object_get(r->body, "ExclusiveStartDeliveryStreamName"));
    if (limit < 1 || limit > 10000) {
        ferr(r, "ValidationException", "1 validation error detected: Value '%lld' at 'limit' "
                                       "failed to satisfy constraint: Member must have value "
                                       "between 1 and 10000", (long long)limit);
        return;
    }
    reg_lock(r->svc);
    size_t n = 0, k = 0;
    for (struct sdelivery *d = r->svc->deliveries; d; d = d->next)
        n++;
    const char **v = calloc(n ? n : 1, sizeof *v);
    for (struct sdelivery *d = r->svc->deliveries; d && v; d = d->next)
        v[k++] = d->name;
    qsort(v, k, sizeof *v, cmp_cstr);
    json_t *names = json_array();
    size_t i = 0;
    if (start)
        while (i < k && strcmp(v[i], start) <= 0)
            i++;
    for (; i < k && (json_int_t)json_array_size(names) < limit; i++)
        json_array_append_new(names, json_string(v[i]));
    reg_unlock(r->svc);
    free(v);
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
    const char *name = json_string_value(json_object_get(r->body, "DeliveryStreamName"));
    json_t *recs = batch ? json_object_get(r->body, "Records") : NULL;
    json_t *one = batch ? NULL : json_object_get(r->body, "Record");
    struct fin_put_entry *e = NULL;
    struct fin_put_result *res = NULL;
    unsigned char *arena = NULL;
    struct sstream *ss = NULL;
    size_t n = batch ? json_array_size(recs) : 1;
    if (!name) {
        ferr(r, "ValidationException", "1 validation error detected: Value null at "
                                       "'deliveryStreamName' failed to satisfy constraint: Member "
                                       "must not be null");
        return;
    }
    if ((batch && !json_is_array(recs)) || (!batch && !json_is_object(one)) || n < 1 ||
        n > FIREHOSE_BATCH_MAX) {
        ferr(r, "ValidationException", "1 validation error detected: Value at '%s' failed to "
                                       "satisfy constraint: Member must have length between 1 "
                                       "and %d", batch ? "records" : "record", FIREHOSE_BATCH_MAX);
        return;
    }
    reg_lock(r->svc);
    struct sdelivery *d = find_locked(r->svc, name);
    bool ok = d && d->direct;
    bool creating = d && d->status == ST_CREATING && now_ms(r->svc) < d->until_ms;
    reg_unlock(r->svc);
    if (!ok || creating) {
        if (d && !d->direct)
            ferr(r, "InvalidArgumentException", "This operation is not permitted on "
                                                "KinesisStreamAsSource delivery stream type.");
        else if (creating)
            ferr(r, "ResourceInUseException", "Firehose %s under account %s is not ACTIVE.",
                 name, r->svc->account);
        else
            not_found(r, name);
        return;
    }
    size_t cap = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *o = batch ? json_array_get(recs, i) : one;
        json_t *data = json_object_get(o, "Data");
        if (!json_is_string(data)) {
            ferr(r, "ValidationException", "1 validation error detected: Value null at "
                                           "'record.data' failed to satisfy constraint: Member "
                                           "must not be null");
            return;
        }
        cap += json_string_length(data) / 4 * 3 + 3;
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
            ferr(r, "ValidationException", "1 validation error detected: Value at "
                                           "'record.data' failed to satisfy constraint: Member "
                                           "must have length less than or equal to %d",
                 FIREHOSE_RECORD_MAX);
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
    snprintf(sname, sizeof sname, DIRECT_PREFIX "%s", name);
    struct fin_serve_response tmp = {0};
    if (reg_acquire(r->svc, sname, false, &ss, &tmp)) {
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

void firehose_dispatch(struct fin_serve *svc, const char *op, json_t *body,
                       struct fin_serve_response *resp)
{
    struct freq r = {svc, body, resp};
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
