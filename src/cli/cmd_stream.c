/* cmd_stream.c - finstream stream create|list|describe|put|get|split|merge|scale|delete.
 *
 * The command-line face of the stream: what the AWS CLI's `kinesis` commands do, on
 * the local data directory. `put` takes records from arguments or one per stdin line;
 * `get --follow` keeps printing records as a writer in another process appends them. */
#include "cli.h"
#include "cli_util.h"
#include "finstream/interrupt.h"
#include "finstream/config.h"
#include "finstream/error.h"
#include "finstream/log.h"
#include "finstream/stream.h"
#include "finstream/timeutil.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: finstream stream <command> [options]\n"
            "\n"
            "Streams are durable, sharded logs with Kinesis semantics, kept in\n"
            "<data-dir>/streams/<name>/.\n"
            "\n"
            "commands:\n"
            "  create NAME [--shards N] [--retention DUR] [--fsync always|interval|never]\n"
            "              [--fsync-interval DUR] [--segment-size SIZE]\n"
            "        settings not given come from [stream \"NAME\"] in finstream.ini, then:\n");
    fin_opts_print_help(fin_stream_opts, out);
    fprintf(out,
            "  list [--format json]         the streams, one per line (json: {\"name\":...}\n"
            "                               per line)\n"
            "  describe NAME [--format json]\n"
            "                               settings, and per shard (open and closed): hash-key\n"
            "                               range, parents and children, sequence range,\n"
            "                               segments, bytes, first and last sequence number\n"
            "                               (json: one document, shards as an array)\n"
            "  put NAME [--key KEY | --key-field FIELD] [--hash-key N] [RECORD...]\n"
            "        appends each RECORD, or each line of stdin when none is given; the\n"
            "        partition key is KEY, or the JSON field FIELD of each record\n"
            "        (default: --key-field name); prints shard and sequence number per\n"
            "        argument record, a count for stdin\n"
            "  get NAME [--shard N] [--iterator TYPE] [--seq SEQ] [--timestamp TIME]\n"
            "           [--limit N] [--follow] [--show-seq] [--skip-damaged]\n"
            "        prints records' data, one per line (--show-seq: shard, sequence\n"
            "        number, arrival time and key before it, tab-separated); TYPE is\n"
            "        TRIM_HORIZON (default), LATEST, AT_SEQUENCE_NUMBER,\n"
            "        AFTER_SEQUENCE_NUMBER or AT_TIMESTAMP (records that arrived at or\n"
            "        after TIME: " FIN_CLI_TIME_CONVENTION "); --follow keeps reading as\n"
            "        records arrive, until interrupted\n"
            "        with --shard, also the children of that shard once it is read to its\n"
            "        closed end; without, every shard, each after its parents;\n"
            "        --skip-damaged steps over damaged frames with a warning (offset and\n"
            "        bytes) instead of stopping there\n"
            "  split NAME --shard ID [--at HASHKEY]\n"
            "        closes shard ID (shardId-000000000000 or 0) and opens two children:\n"
            "        [start, HASHKEY-1] and [HASHKEY, end]; default HASHKEY: the middle\n"
            "  merge NAME --shard ID --adjacent ID\n"
            "        closes two shards whose hash-key ranges touch and opens one child\n"
            "        with both ranges\n"
            "  scale NAME --shards N        splits and merges until N open shards have even\n"
            "                               ranges (N from half to double the open count)\n"
            "        (split, merge and scale need the stream free of other writers; closed\n"
            "        shards keep their records until retention removes them)\n"
            "  delete NAME                  removes the stream and all its records\n");
}

/* ---- create ---- */

static int cmd_create(struct fin_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"shards", required_argument, NULL, 's'},
        {"retention", required_argument, NULL, 'r'},
        {"fsync", required_argument, NULL, 'f'},
        {"fsync-interval", required_argument, NULL, 'i'},
        {"segment-size", required_argument, NULL, 'z'},
        {NULL, 0, NULL, 0},
    };
    const char *vals[5] = {0};
    static const char *keys[5] = {"shards", "retention", "fsync", "fsync_interval",
                                  "segment_size"};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's': vals[0] = optarg; break;
        case 'r': vals[1] = optarg; break;
        case 'f': vals[2] = optarg; break;
        case 'i': vals[3] = optarg; break;
        case 'z': vals[4] = optarg; break;
        default: return fin_cli_usage_error("stream", "bad option for create");
        }
    }
    if (optind + 1 != argc)
        return fin_cli_usage_error("stream", "create takes one stream name");
    const char *name = argv[optind];
    struct fin_ini ini;
    int rc = fin_ini_load(&ini, cli->config, true);
    if (rc) {
        fin_log_err(rc, "cannot read configuration");
        return 1;
    }
    struct fin_stream_config cfg;
    struct fin_stream_settings set;
    rc = fin_stream_config_from_ini(&ini, name, &cfg);
    fin_ini_fini(&ini);
    fin_stream_config_to_settings(&cfg, &set);
    for (int k = 0; k < 5 && !rc; k++) {
        char where[64];
        snprintf(where, sizeof where, "--%s", opts[k].name);
        if (vals[k])
            rc = fin_opts_set(fin_stream_opts, &set, keys[k], vals[k], where);
    }
    if (rc) {
        fprintf(stderr, "finstream stream: %s\n", fin_err_msg());
        return 2;
    }
    fin_stream_settings_to_config(&set, &cfg);
    if ((rc = fin_stream_create(cli->data_dir, name, &cfg))) {
        fin_log_err(rc, "stream create");
        return 1;
    }
    if (!cli->quiet)
        printf("created stream %s: %d shard%s, retention %lld s, fsync %s\n", name, cfg.shards,
               cfg.shards == 1 ? "" : "s", (long long)(cfg.retention_ms / 1000),
               fin_fsync_policy_name(cfg.fsync));
    return 0;
}

/* ---- list, describe, delete ---- */

static int cmd_list(struct fin_cli *cli, int argc, char **argv)
{
    bool json = false;
    int frc = fin_cli_take_format("stream", &argc, argv, &json);
    if (frc)
        return frc;
    if (argc > 1)
        return fin_cli_usage_error("stream", "list takes no arguments");
    char **names;
    size_t n;
    int rc = fin_stream_list(cli->data_dir, &names, &n);
    if (rc) {
        fin_log_err(rc, "stream list");
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (json)
            fin_cli_print_json(json_pack("{s:s}", "name", names[i]));
        else
            printf("%s\n", names[i]);
        free(names[i]);
    }
    free(names);
    return 0;
}

/* describe --format json: one document with the settings and every shard. */
static int describe_json(struct fin_stream *s, const char *name)
{
    const struct fin_stream_config *c = fin_stream_get_config(s);
    int n = fin_stream_shard_count(s), rc = 0;
    json_t *shards = json_array();
    json_t *o = json_pack("{s:s,s:i,s:i,s:I,s:s,s:I,s:I}", "stream", name,
                          "open_shards", fin_stream_open_shard_count(s),
                          "closed_shards", n - fin_stream_open_shard_count(s),
                          "retention_s", (json_int_t)(c->retention_ms / 1000),
                          "fsync", fin_fsync_policy_name(c->fsync),
                          "fsync_interval_ms", (json_int_t)c->fsync_interval_ms,
                          "segment_size", (json_int_t)c->segment_bytes);
    for (int i = 0; i < n && !rc; i++) {
        struct fin_shard_info info;
        if ((rc = fin_stream_shard_info(s, i, &info)))
            break;
        const struct fin_shard_desc *d = &info.desc;
        json_t *children = json_array();
        for (int j = i + 1; j < n; j++) {
            struct fin_shard_info ci;
            if (fin_stream_shard_info(s, j, &ci) == 0 &&
                (!strcmp(ci.desc.parent, info.id) || !strcmp(ci.desc.adjacent_parent, info.id)))
                json_array_append_new(children, json_string(ci.id));
        }
        json_t *parents = json_array();
        if (d->parent[0])
            json_array_append_new(parents, json_string(d->parent));
        if (d->adjacent_parent[0])
            json_array_append_new(parents, json_string(d->adjacent_parent));
        json_t *sh = json_pack("{s:s,s:b,s:s,s:s,s:o,s:o,s:s,s:s?,s:I,s:I,s:s?,s:s?}", "id", info.id,
                               "closed", d->closed, "hash_key_start", info.hash_start,
                               "hash_key_end", info.hash_end, "parents", parents,
                               "children", children, "starting_seq", d->starting_seq,
                               "ending_seq", d->closed ? d->ending_seq : NULL,
                               "segments", (json_int_t)info.segments, "bytes", (json_int_t)info.bytes,
                               "first_seq", info.empty ? NULL : info.first_seq,
                               "last_seq", info.empty ? NULL : info.last_seq);
        json_array_append_new(shards, sh);
    }
    json_object_set_new(o, "shards", shards);
    if (!rc)
        fin_cli_print_json(o);
    else
        json_decref(o);
    return rc;
}

static int describe_json(struct fin_stream *s, const char *name);

static int cmd_describe(struct fin_cli *cli, int argc, char **argv)
{
    bool json = false;
    int frc = fin_cli_take_format("stream", &argc, argv, &json);
    if (frc)
        return frc;
    if (argc != 2)
        return fin_cli_usage_error("stream", "describe takes one stream name");
    struct fin_stream *s;
    int rc = fin_stream_open(&s, cli->data_dir, argv[1], FIN_STREAM_READ, NULL);
    if (rc) {
        fin_log_err(rc, "stream describe");
        return 1;
    }
    if (json) {
        rc = describe_json(s, argv[1]);
        fin_stream_close(s);
        if (rc)
            fin_log_err(rc, "stream describe");
        return rc ? 1 : 0;
    }
    const struct fin_stream_config *c = fin_stream_get_config(s);
    int n = fin_stream_shard_count(s);
    printf("stream          %s\n"
           "shards          %d",
           argv[1], fin_stream_open_shard_count(s));
    if (n != fin_stream_open_shard_count(s))
        printf(" open, %d closed", n - fin_stream_open_shard_count(s));
    printf("\nretention       %lld s\n"
           "fsync           %s",
           (long long)(c->retention_ms / 1000),
           fin_fsync_policy_name(c->fsync));
    if (c->fsync == FIN_FSYNC_INTERVAL)
        printf(" (every %lld ms)", (long long)c->fsync_interval_ms);
    printf("\nsegment_size    %lld bytes\n", (long long)c->segment_bytes);
    for (int i = 0; i < n && !rc; i++) {
        struct fin_shard_info info;
        if ((rc = fin_stream_shard_info(s, i, &info)))
            break;
        const struct fin_shard_desc *d = &info.desc;
        printf("\n%s%s\n  hash keys     %s .. %s\n", info.id, d->closed ? "  (closed)" : "",
               info.hash_start, info.hash_end);
        if (d->parent[0])
            printf("  parent        %s%s%s\n", d->parent, d->adjacent_parent[0] ? ", " : "",
                   d->adjacent_parent);
        /* children: the shards that name this one as a parent */
        bool first = true;
        for (int j = i + 1; j < n; j++) {
            struct fin_shard_info ci;
            if (fin_stream_shard_info(s, j, &ci) != 0)
                continue;
            if (strcmp(ci.desc.parent, info.id) && strcmp(ci.desc.adjacent_parent, info.id))
                continue;
            printf("%s%s", first ? "  children      " : ", ", ci.id);
            first = false;
        }
        if (!first)
            printf("\n");
        printf("  sequence      %s ..", d->starting_seq);
        printf(" %s\n", d->closed ? d->ending_seq : "(open)");
        printf("  segments      %zu (%llu bytes)\n", info.segments, (unsigned long long)info.bytes);
        if (info.empty)
            printf("  records       none\n");
        else
            printf("  first seq     %s\n  last seq      %s\n", info.first_seq, info.last_seq);
    }
    fin_stream_close(s);
    if (rc) {
        fin_log_err(rc, "stream describe");
        return 1;
    }
    return 0;
}

/* "3" or "shardId-000000000003". */
static int parse_shard_arg(const char *arg, int *out)
{
    int64_t v;
    if (strncmp(arg, "shardId-", 8) == 0)
        arg += 8;
    if (fin_parse_int(arg, &v) || v < 0 || v > 999999999)
        return FIN_EINVAL;
    *out = (int)v;
    return 0;
}

/* ---- split, merge, scale ---- */

/* Opens NAME for writing, runs fn, and prints the open shards after it. */
static int reshard_cmd(struct fin_cli *cli, const char *what, const char *name,
                       int (*fn)(struct fin_stream *, const void *), const void *arg)
{
    struct fin_stream *s;
    int rc = fin_stream_open(&s, cli->data_dir, name, FIN_STREAM_WRITE, NULL);
    if (rc) {
        fin_log_err(rc, what);
        return 1;
    }
    if ((rc = fn(s, arg))) {
        fin_log_err(rc, what);
        fin_stream_close(s);
        return 1;
    }
    struct fin_shard_desc *v;
    size_t n;
    if (!cli->quiet && fin_stream_list_shards(s, &v, &n) == 0) {
        printf("%s: %d open shard%s\n", name, fin_stream_open_shard_count(s),
               fin_stream_open_shard_count(s) == 1 ? "" : "s");
        for (size_t i = 0; i < n; i++) {
            if (v[i].closed)
                continue;
            printf("  %s  %s .. %s", v[i].id, v[i].hash_start, v[i].hash_end);
            if (v[i].parent[0])
                printf("  (from %s%s%s)", v[i].parent, v[i].adjacent_parent[0] ? " + " : "",
                       v[i].adjacent_parent);
            printf("\n");
        }
        free(v);
    }
    fin_stream_close(s);
    return 0;
}

struct split_arg {
    const char *shard, *at;
};
static int do_split(struct fin_stream *s, const void *arg)
{
    const struct split_arg *a = arg;
    return fin_stream_split_shard(s, a->shard, a->at);
}
static int do_merge(struct fin_stream *s, const void *arg)
{
    const struct split_arg *a = arg;
    return fin_stream_merge_shards(s, a->shard, a->at);
}
static int do_scale(struct fin_stream *s, const void *arg)
{
    return fin_stream_update_shard_count(s, *(const int *)arg);
}

/* Reads --shard/--at (split), --shard/--adjacent (merge) or --shards (scale). */
static int cmd_reshard(struct fin_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"shard", required_argument, NULL, 's'},
        {"at", required_argument, NULL, 'a'},
        {"adjacent", required_argument, NULL, 'j'},
        {"shards", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = argv[0];
    struct split_arg a = {NULL, NULL};
    const char *adjacent = NULL;
    char ids[2][FIN_SHARD_ID_LEN + 1];
    int64_t target = -1;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int num;
        switch (c) {
        case 's':
        case 'j':
            if (parse_shard_arg(optarg, &num))
                return fin_cli_usage_error("stream", "--%s: '%s' is not a shard id",
                                           c == 's' ? "shard" : "adjacent", optarg);
            snprintf(ids[c == 'j'], sizeof ids[0], "shardId-%012d", num);
            if (c == 's')
                a.shard = ids[0];
            else
                adjacent = ids[1];
            break;
        case 'a': a.at = optarg; break;
        case 'n':
            if (fin_parse_int(optarg, &target) || target < 1 || target > FIN_STREAM_MAX_SHARDS)
                return fin_cli_usage_error("stream", "--shards: '%s' is not 1 to %d", optarg,
                                           FIN_STREAM_MAX_SHARDS);
            break;
        default: return fin_cli_usage_error("stream", "bad option for %s", cmd);
        }
    }
    if (optind + 1 != argc)
        return fin_cli_usage_error("stream", "%s takes one stream name", cmd);
    const char *name = argv[optind];
    if (!strcmp(cmd, "split")) {
        if (!a.shard || adjacent || target >= 0)
            return fin_cli_usage_error("stream", "split takes --shard and, optionally, --at");
        return reshard_cmd(cli, "stream split", name, do_split, &a);
    }
    if (!strcmp(cmd, "merge")) {
        if (!a.shard || !adjacent || a.at || target >= 0)
            return fin_cli_usage_error("stream", "merge takes --shard and --adjacent");
        a.at = adjacent;
        return reshard_cmd(cli, "stream merge", name, do_merge, &a);
    }
    if (target < 0 || a.shard || a.at || adjacent)
        return fin_cli_usage_error("stream", "scale takes --shards N");
    int t = (int)target;
    return reshard_cmd(cli, "stream scale", name, do_scale, &t);
}

static int cmd_delete(struct fin_cli *cli, int argc, char **argv)
{
    if (argc != 2)
        return fin_cli_usage_error("stream", "delete takes one stream name");
    int rc = fin_stream_delete(cli->data_dir, argv[1]);
    if (rc) {
        fin_log_err(rc, "stream delete");
        return 1;
    }
    if (!cli->quiet)
        printf("deleted stream %s\n", argv[1]);
    return 0;
}

/* ---- put ---- */

/* The partition key of a JSON record: the field's string, or the text of a number. */
static int key_from_json(const char *line, size_t len, const char *field, char *out, size_t cap,
                         size_t *out_len)
{
    json_error_t err;
    json_t *j = json_loadb(line, len, JSON_DECODE_ANY, &err);
    int rc = 0;
    if (!j || !json_is_object(j)) {
        rc = fin_err_set(FIN_EPARSE, "not a JSON object%s%s", j ? "" : ": ", j ? "" : err.text);
        goto done;
    }
    json_t *v = json_object_get(j, field);
    if (json_is_string(v)) {
        *out_len = (size_t)snprintf(out, cap, "%s", json_string_value(v));
    } else if (json_is_integer(v)) {
        *out_len = (size_t)snprintf(out, cap, "%lld", (long long)json_integer_value(v));
    } else {
        rc = fin_err_set(FIN_EPARSE, "no string field \"%s\" for the partition key", field);
        goto done;
    }
    if (*out_len >= cap)
        rc = fin_err_set(FIN_ELIMIT, "partition key from \"%s\" is longer than %d characters",
                         field, FIN_STREAM_MAX_KEY);
done:
    json_decref(j);
    return rc;
}

static int put_one(struct fin_stream *s, const char *key, const char *field, const char *hash_key,
                   const char *rec, size_t len, struct fin_put_result *res)
{
    char kb[FIN_STREAM_MAX_KEY + 1];
    size_t klen = 0;
    if (key) {
        klen = strlen(key);
    } else {
        int rc = key_from_json(rec, len, field, kb, sizeof kb, &klen);
        if (rc)
            return rc;
        key = kb;
    }
    return fin_stream_put(s, key, klen, rec, len, hash_key, res);
}

/* One batch of stdin lines. keys holds the batch's partition keys back to back. */
struct line_batch {
    struct fin_put_entry *e;
    size_t *key_off;
    size_t n, cap;
    char *keys;
    size_t keys_len, keys_cap;
};

static int batch_add(struct line_batch *b, const char *k, size_t klen, const char *data, size_t len)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        struct fin_put_entry *ne = realloc(b->e, cap * sizeof *ne);
        if (ne)
            b->e = ne;
        size_t *no = realloc(b->key_off, cap * sizeof *no);
        if (no)
            b->key_off = no;
        if (!ne || !no)
            return FIN_ENOMEM;
        b->cap = cap;
    }
    if (b->keys_len + klen > b->keys_cap) {
        size_t cap = b->keys_cap ? b->keys_cap * 2 : 64 * 1024;
        while (cap < b->keys_len + klen)
            cap *= 2;
        char *nk = realloc(b->keys, cap);
        if (!nk)
            return FIN_ENOMEM;
        b->keys = nk;
        b->keys_cap = cap;
    }
    memcpy(b->keys + b->keys_len, k, klen);
    b->key_off[b->n] = b->keys_len;
    b->keys_len += klen;
    b->e[b->n++] = (struct fin_put_entry){NULL, klen, data, len};
    return 0;
}

static int batch_put(struct fin_stream *s, struct line_batch *b, const char *hash_key)
{
    int rc = 0;
    for (size_t i = 0; i < b->n; i++)
        b->e[i].key = b->keys + b->key_off[i];
    if (hash_key) {
        for (size_t i = 0; i < b->n && !rc; i++)
            rc = fin_stream_put(s, b->e[i].key, b->e[i].key_len, b->e[i].data, b->e[i].len,
                                hash_key, NULL);
    } else if (b->n) {
        rc = fin_stream_put_batch(s, b->e, b->n, NULL);
    }
    b->n = 0;
    b->keys_len = 0;
    return rc;
}

#define STDIN_LINE_MAX (FIN_STREAM_MAX_DATA + 2)

/* Puts the lines of stdin, one batch per read(): a file or a fast pipe goes in large
 * batches (one group commit each under fsync = always), while a producer that writes a
 * line now and then sees each one put as it comes. Bad lines are reported by number,
 * counted in *bad and skipped. */
static int put_stdin(struct fin_stream *s, const char *key, const char *field,
                     const char *hash_key, uint64_t *ok, uint64_t *bad)
{
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    struct line_batch b = {0};
    uint64_t lineno = 0;
    bool eof = false, skipping = false;
    int rc = buf ? 0 : FIN_ENOMEM;
    while (!rc && !eof) {
        if (len == cap) {
            if (cap >= 2 * STDIN_LINE_MAX) {
                /* no newline in sight: the line is over the limit; drop it up to its end */
                fin_error("stdin:%llu: line longer than %d bytes", (unsigned long long)lineno + 1,
                          FIN_STREAM_MAX_DATA);
                (*bad)++;
                lineno++;
                skipping = true;
                len = 0;
            } else {
                char *nb = realloc(buf, cap * 2);
                if (!nb) {
                    rc = FIN_ENOMEM;
                    break;
                }
                buf = nb;
                cap *= 2;
            }
        }
        ssize_t r = read(STDIN_FILENO, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = fin_err_errno(errno, "cannot read", "stdin");
            break;
        }
        if (r == 0)
            eof = true;
        len += (size_t)r;
        size_t start = 0;
        for (;;) {
            char *nl = memchr(buf + start, '\n', len - start);
            if (!nl && !(eof && start < len))
                break;
            size_t end = nl ? (size_t)(nl - buf) : len, n = end - start;
            const char *line = buf + start;
            start = nl ? end + 1 : len;
            if (skipping) {
                skipping = false;   /* the rest of the long line */
                continue;
            }
            lineno++;
            while (n > 0 && line[n - 1] == '\r')
                n--;
            if (n == 0)
                continue;
            char kb[FIN_STREAM_MAX_KEY + 1];
            const char *k = key;
            size_t klen = key ? strlen(key) : 0;
            int lrc = 0;
            if (!key) {
                lrc = key_from_json(line, n, field, kb, sizeof kb, &klen);
                k = kb;
            }
            if (!lrc && (klen < 1 || klen > FIN_STREAM_MAX_KEY))
                lrc = fin_err_set(FIN_ELIMIT, "partition key is %zu characters; it must be 1 "
                                  "to %d", klen, FIN_STREAM_MAX_KEY);
            if (!lrc && n > FIN_STREAM_MAX_DATA)
                lrc = fin_err_set(FIN_ELIMIT, "data is %zu bytes; at most %d are allowed", n,
                                  FIN_STREAM_MAX_DATA);
            if (lrc) {
                fin_error("stdin:%llu: %s", (unsigned long long)lineno, fin_err_msg());
                (*bad)++;
                continue;
            }
            if ((rc = batch_add(&b, k, klen, line, n)))
                break;
        }
        size_t batched = b.n;
        if (!rc && (rc = batch_put(s, &b, hash_key)) == 0)
            *ok += batched;
        memmove(buf, buf + start, len - start);
        len -= start;
    }
    free(b.e);
    free(b.key_off);
    free(b.keys);
    free(buf);
    return rc;
}

static int cmd_put(struct fin_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},
        {"key-field", required_argument, NULL, 'F'},
        {"hash-key", required_argument, NULL, 'H'},
        {NULL, 0, NULL, 0},
    };
    const char *key = NULL, *field = "name", *hash_key = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'k': key = optarg; break;
        case 'F': field = optarg; break;
        case 'H': hash_key = optarg; break;
        default: return fin_cli_usage_error("stream", "bad option for put");
        }
    }
    if (optind >= argc)
        return fin_cli_usage_error("stream", "put needs a stream name");
    const char *name = argv[optind++];
    struct fin_stream *s;
    int rc = fin_stream_open(&s, cli->data_dir, name, FIN_STREAM_WRITE, NULL);
    if (rc) {
        fin_log_err(rc, "stream put");
        return 1;
    }
    int status = 0;
    uint64_t ok = 0, bad = 0;
    if (optind < argc) {
        for (int i = optind; i < argc; i++) {
            struct fin_put_result res;
            rc = put_one(s, key, field, hash_key, argv[i], strlen(argv[i]), &res);
            if (rc) {
                fin_error("record %d: %s", i - optind + 1, fin_err_msg());
                bad++;
                if (rc != FIN_EPARSE && rc != FIN_ELIMIT && rc != FIN_EINVAL)
                    break;
                continue;
            }
            ok++;
            printf("%s\t%s\n", fin_stream_shard_id(s, res.shard), res.seq);
        }
    } else {
        rc = put_stdin(s, key, field, hash_key, &ok, &bad);
        if (rc) {
            fin_log_err(rc, "stream put");
            status = 1;
        }
        if (!cli->quiet)
            fprintf(stderr, "finstream: put %llu record%s to %s\n", (unsigned long long)ok,
                    ok == 1 ? "" : "s", name);
    }
    if ((rc = fin_stream_sync(s))) {
        fin_log_err(rc, "stream put");
        status = 1;
    }
    fin_stream_close(s);
    if (bad) {
        fin_error("%llu record%s rejected", (unsigned long long)bad, bad == 1 ? "" : "s");
        status = 1;
    }
    return status;
}

/* ---- get ---- */


static int parse_iter_type(const char *s, enum fin_iter_type *t)
{
    static const char *names[] = {"TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER",
                                  "AFTER_SEQUENCE_NUMBER", "AT_TIMESTAMP"};
    for (int i = 0; i < 5; i++)
        if (strcasecmp(s, names[i]) == 0) {
            *t = (enum fin_iter_type)i;
            return 0;
        }
    return -1;
}

/* "YYYY-MM-DD[ T]hh:mm[:ss][Z]" in UTC, to seconds since the epoch. */
/* What `get` reads: every shard (or the one chosen and the children that follow it),
 * a child only once each of its parents has been read to its closed end, so records of
 * one partition key come out in the order they were put, as a Kinesis consumer must. */
struct get_state {
    struct fin_stream *s;
    int first;                 /* the shard chosen with --shard, or -1 for all */
    enum fin_iter_type type;
    const char *seq;
    int64_t ts_ms;
    int at_start;              /* shards there when get began take the iterator asked for */
    bool skip_damaged;         /* --skip-damaged */
    struct fin_iter *its[FIN_STREAM_MAX_SHARDS];
    bool wanted[FIN_STREAM_MAX_SHARDS], finished[FIN_STREAM_MAX_SHARDS];
};

/* Opens iterators on the shards whose turn has come; *n is the shard count now. */
static int get_update(struct get_state *g, int *n)
{
    struct fin_shard_desc *v;
    size_t nv;
    int rc = fin_stream_list_shards(g->s, &v, &nv);
    if (rc)
        return rc;
    *n = fin_stream_shard_count(g->s);
    for (size_t k = 0; k < nv && !rc; k++) {
        int i = v[k].shard;
        if (g->its[i])
            continue;
        int p = v[k].parent[0] ? fin_stream_shard_find(g->s, v[k].parent) : -1;
        int q = v[k].adjacent_parent[0] ? fin_stream_shard_find(g->s, v[k].adjacent_parent) : -1;
        if (g->first < 0 || i == g->first)
            g->wanted[i] = true;
        else if ((p >= 0 && g->wanted[p]) || (q >= 0 && g->wanted[q]))
            g->wanted[i] = true;   /* a child of what is being read: follow it */
        /* Parents that are read must be finished first; with --shard, a merged child's
         * other parent is not read at all and is not waited for. */
        if (!g->wanted[i] || (p >= 0 && g->wanted[p] && !g->finished[p]) ||
            (q >= 0 && g->wanted[q] && !g->finished[q]))
            continue;
        /* A child that appeared while reading starts at its beginning. */
        enum fin_iter_type type = g->type;
        if (i != g->first && (type == FIN_ITER_AT_SEQUENCE_NUMBER ||
                              type == FIN_ITER_AFTER_SEQUENCE_NUMBER || i >= g->at_start))
            type = type == FIN_ITER_AT_TIMESTAMP ? type : FIN_ITER_TRIM_HORIZON;
        rc = fin_iter_open(&g->its[i], g->s, i, type, g->seq, g->ts_ms);
        if (!rc)
            fin_iter_skip_damaged(g->its[i], g->skip_damaged);
    }
    free(v);
    return rc;
}

static int cmd_get(struct fin_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"shard", required_argument, NULL, 's'},
        {"iterator", required_argument, NULL, 'i'},
        {"seq", required_argument, NULL, 'q'},
        {"timestamp", required_argument, NULL, 't'},
        {"limit", required_argument, NULL, 'l'},
        {"follow", no_argument, NULL, 'f'},
        {"show-seq", no_argument, NULL, 'S'},
        {"skip-damaged", no_argument, NULL, 'D'},
        {NULL, 0, NULL, 0},
    };
    int shard = -1;
    enum fin_iter_type type = FIN_ITER_TRIM_HORIZON;
    const char *seq = NULL;
    int64_t ts_ms = 0, limit = -1;
    bool follow = false, show = false, have_ts = false, skip_damaged = false;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int64_t v;
        switch (c) {
        case 's':
            if (parse_shard_arg(optarg, &shard))
                return fin_cli_usage_error("stream", "--shard: '%s' is not a shard number or "
                                           "id", optarg);
            break;
        case 'i':
            if (parse_iter_type(optarg, &type))
                return fin_cli_usage_error("stream", "--iterator: unknown type '%s'", optarg);
            break;
        case 'q': seq = optarg; break;
        case 't': {
            int64_t t;
            if (fin_parse_int(optarg, &v) == 0) {
                ts_ms = v * 1000;   /* seconds since the epoch */
            } else if (fin_parse_time(optarg, FIN_TZ_NEW_YORK, &t) == 0) {
                ts_ms = t * 1000;
            } else {
                return fin_cli_usage_error("stream", "--timestamp: '%s' is not a time (%s)",
                                           optarg, FIN_CLI_TIME_CONVENTION);
            }
            have_ts = true;
            break;
        }
        case 'l':
            if (fin_parse_int(optarg, &limit) || limit < 0)
                return fin_cli_usage_error("stream", "--limit: '%s' is not a count", optarg);
            break;
        case 'f': follow = true; break;
        case 'S': show = true; break;
        case 'D': skip_damaged = true; break;
        default: return fin_cli_usage_error("stream", "bad option for get");
        }
    }
    if (optind + 1 != argc)
        return fin_cli_usage_error("stream", "get takes one stream name");
    bool by_seq = type == FIN_ITER_AT_SEQUENCE_NUMBER || type == FIN_ITER_AFTER_SEQUENCE_NUMBER;
    if (by_seq && !seq)
        return fin_cli_usage_error("stream", "--iterator %s needs --seq",
                                   type == FIN_ITER_AT_SEQUENCE_NUMBER ? "AT_SEQUENCE_NUMBER"
                                                                       : "AFTER_SEQUENCE_NUMBER");
    if (type == FIN_ITER_AT_TIMESTAMP && !have_ts)
        return fin_cli_usage_error("stream", "--iterator AT_TIMESTAMP needs --timestamp");
    if (by_seq) {
        /* A sequence number is 56 digits and names its shard (digits 15-26), so --shard
         * may be left out; anything else reads no shard at all, never the whole stream. */
        bool digits_only = strlen(seq) == FIN_SEQ_LEN;
        for (const char *p = seq; digits_only && *p; p++)
            digits_only = *p >= '0' && *p <= '9';
        if (!digits_only)
            return fin_cli_usage_error("stream", "--seq '%s' is not a sequence number (%d digits, "
                                       "as put and get --show-seq print them)", seq, FIN_SEQ_LEN);
        if (shard < 0) {
            char digits[13];
            memcpy(digits, seq + 14, 12);
            digits[12] = '\0';
            shard = atoi(digits);
        }
    }
    struct fin_stream *s;
    int rc = fin_stream_open(&s, cli->data_dir, argv[optind], FIN_STREAM_READ, NULL);
    if (rc) {
        fin_log_err(rc, "stream get");
        return 1;
    }
    int first = -1;
    if (shard >= 0) {
        char id[FIN_SHARD_ID_LEN + 1];
        snprintf(id, sizeof id, "shardId-%012d", shard);
        if ((first = fin_stream_shard_find(s, id)) < 0) {
            fin_stream_close(s);
            fin_error("stream '%s' has no shard %s", argv[optind], id);
            return 1;
        }
    }
    struct get_state g = {.s = s, .first = first, .type = type, .seq = seq, .ts_ms = ts_ms,
                          .at_start = fin_stream_shard_count(s), .skip_damaged = skip_damaged};
    if (follow)
        signal(SIGPIPE, SIG_IGN);
    int status = 0;
    int64_t printed = 0;
    while (!fin_interrupted() && (limit < 0 || printed < limit)) {
        bool any = false;
        int n;
        if ((rc = get_update(&g, &n)))
            break;
        for (int i = 0; i < n && (limit < 0 || printed < limit); i++) {
            if (!g.its[i])
                continue;
            struct fin_record r;
            while ((limit < 0 || printed < limit) && (rc = fin_iter_next(g.its[i], &r)) == 0) {
                any = true;
                if (show)
                    printf("%s\t%s\t%lld\t%.*s\t", fin_stream_shard_id(s, i), r.seq,
                           (long long)r.arrival_ms, (int)r.key_len, r.key);
                fwrite(r.data, 1, r.len, stdout);
                putchar('\n');
                printed++;
            }
            if (rc == FIN_EEND && fin_iter_shard_closed(g.its[i]) && !g.finished[i]) {
                g.finished[i] = true;
                any = true;   /* its children may be read now */
            }
            if (rc && rc != FIN_EEND)
                break;
            rc = 0;
        }
        if (rc)
            break;
        if (!follow && !any)
            break;
        if (fflush(stdout) != 0 || ferror(stdout))
            break;   /* the reader went away */
        if (!any) {
            fin_interrupt_sleep_ns(20 * 1000 * 1000);   /* poll the tail every 20 ms */
        }
    }
    if (rc) {
        fin_log_err(rc, "stream get");
        status = 1;
    }
    if (fflush(stdout) != 0 && errno != EPIPE)
        status = 1;
    for (int i = 0; i < FIN_STREAM_MAX_SHARDS; i++)
        fin_iter_close(g.its[i]);
    fin_stream_close(s);
    return status;
}

int fin_cmd_stream(struct fin_cli *cli, int argc, char **argv)
{
    if (argc < 2 || fin_cli_wants_help(argc, argv)) {
        usage(argc < 2 && !fin_cli_wants_help(argc, argv) ? stderr : stdout);
        return argc < 2 && !fin_cli_wants_help(argc, argv) ? 2 : 0;
    }
    static const struct {
        const char *name;
        int (*fn)(struct fin_cli *, int, char **);
    } subs[] = {{"create", cmd_create}, {"list", cmd_list}, {"describe", cmd_describe},
                {"put", cmd_put},       {"get", cmd_get},   {"delete", cmd_delete},
                {"split", cmd_reshard}, {"merge", cmd_reshard}, {"scale", cmd_reshard}};
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (strcmp(argv[1], subs[i].name) == 0) {
            optind = 1;
            return subs[i].fn(cli, argc - 1, argv + 1);
        }
    return fin_cli_usage_error("stream", "'%s' is not a stream command", argv[1]);
}
