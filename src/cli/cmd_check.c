/* cmd_check.c - finstream check: verify stream logs frame by frame, and repair them.
 *
 * Recovery on open cuts a torn tail by itself; what it refuses (bad bytes with good
 * frames after them, a damaged segment header) is for this command to report and, with
 * --fix, to repair, keeping every intact record. */
#include "cli.h"
#include "cli_util.h"
#include "finstream/error.h"
#include "finstream/log.h"
#include "finstream/stream.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static int check_one(struct fin_cli *cli, const char *name, bool fix, bool json)
{
    struct fin_check_report rep;
    int rc = fin_stream_check(cli->data_dir, name, fix, &rep);
    /* A stream that cannot even be opened (say, a damaged stream.ini) was not checked:
     * say why, never "ok". */
    if (rc && (rc != FIN_ECORRUPT || rep.problems == 0)) {
        fin_log_err(rc, "check");
        return 1;
    }
    if (json) {
        json_t *o = json_pack("{s:s,s:I,s:I,s:I,s:s,s:I,s:I,s:I,s:I}", "stream", name,
                              "segments", (json_int_t)rep.segments, "records", (json_int_t)rep.records,
                              "bytes", (json_int_t)rep.bytes,
                              "status", rep.problems == 0 ? "ok" : rc ? "damaged" : "repaired",
                              "problems", (json_int_t)rep.problems, "fixed", (json_int_t)rep.fixed,
                              "lost_records", (json_int_t)rep.lost_records,
                              "dropped_bytes", (json_int_t)rep.dropped_bytes);
        if (rc)
            json_object_set_new(o, "error", json_string(fin_err_msg()));
        fin_cli_print_json(o);
        return rc ? 1 : 0;
    }
    if (!cli->quiet || rc)
        printf("%s: %llu segment%s, %llu records, %llu bytes: %s", name,
               (unsigned long long)rep.segments, rep.segments == 1 ? "" : "s",
               (unsigned long long)rep.records, (unsigned long long)rep.bytes,
               rc ? "DAMAGED" : rep.problems == 0 ? "ok" : "repaired");
    if (rep.problems && (!cli->quiet || rc))
        printf(" (%llu problem%s, %llu fixed, %llu record%s lost, %llu bytes dropped)",
               (unsigned long long)rep.problems, rep.problems == 1 ? "" : "s",
               (unsigned long long)rep.fixed, (unsigned long long)rep.lost_records,
               rep.lost_records == 1 ? "" : "s", (unsigned long long)rep.dropped_bytes);
    if (!cli->quiet || rc)
        putchar('\n');
    if (rc)
        fin_error("%s", fin_err_msg());
    return rc ? 1 : 0;
}

int fin_cmd_check(struct fin_cli *cli, int argc, char **argv)
{
    if (fin_cli_wants_help(argc, argv)) {
        printf("usage: finstream check [STREAM...] [--fix] [--format text|json]\n"
               "\n"
               "Verifies every frame (length and CRC32C) of every segment and every index\n"
               "of the named streams (all streams when none is named), and reports each\n"
               "problem with its segment file and offset. Exit status 1 when damage remains.\n"
               "\n"
               "  --fix   remove each run of damaged bytes, keeping every intact frame\n"
               "          before and after it (each run is printed with its offsets, its\n"
               "          size and the sequence numbers of the records it held); write\n"
               "          damaged segment headers again; rebuild missing or wrong\n"
               "          indexes. Needs the writer stopped. After a cut at the end of a\n"
               "          shard, sequence numbers go on past the cut bytes, never reused.\n"
               "  --format json  one object per stream and line: stream, segments, records,\n"
               "          bytes, status (ok, damaged, repaired), problems, fixed,\n"
               "          lost_records, dropped_bytes, and error when damage remains\n");
        return 0;
    }
    static const struct option opts[] = {{"fix", no_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
    bool fix = false, json = false;
    int frc = fin_cli_take_format("check", &argc, argv, &json);
    if (frc)
        return frc;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'f')
            fix = true;
        else
            return fin_cli_usage_error("check", "bad option");
    }
    int status = 0;
    if (optind < argc) {
        for (int i = optind; i < argc; i++)
            status |= check_one(cli, argv[i], fix, json);
        return status;
    }
    char **names;
    size_t n;
    int rc = fin_stream_list(cli->data_dir, &names, &n);
    if (rc) {
        fin_log_err(rc, "check");
        return 1;
    }
    if (n == 0 && !cli->quiet && !json)
        printf("no streams in %s\n", cli->data_dir);
    for (size_t i = 0; i < n; i++) {
        status |= check_one(cli, names[i], fix, json);
        free(names[i]);
    }
    free(names);
    return status;
}
