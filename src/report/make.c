/* make.c - the report in one call: load the bars, summarise the day, render it, and
 * describe the source on the page (which folder, how many objects and bytes). Shared by
 * `finstream report` and `finstream run`. */
#include "report_int.h"

#include "finstream/error.h"
#include "finstream/fsutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "1.2 MiB" */
static void fmt_bytes(char *out, size_t cap, uint64_t b)
{
    if (b < 1024)
        snprintf(out, cap, "%llu bytes", (unsigned long long)b);
    else if (b < 1024 * 1024)
        snprintf(out, cap, "%.1f KiB", (double)b / 1024);
    else
        snprintf(out, cap, "%.1f MiB", (double)b / (1024 * 1024));
}

int fin_report_make(const struct fin_report_request *req, struct fin_report_output *out,
                    struct fin_report_data_stats *st)
{
    int rc = 0;
    struct fin_report_data *d = NULL;
    char *lake = NULL, *dir = NULL;
    const char *from = req->from;
    if (st)
        memset(st, 0, sizeof *st);
    if (out)
        memset(out, 0, sizeof *out);
    if (!from) {
        if (!req->data_dir)
            return fin_err_set(FIN_EINVAL, "report: no data directory and no folder to read");
        from = lake = fin_path_join(req->data_dir, "lake");
        if (!lake)
            return FIN_ENOMEM;
    }
    rc = fin_report_data_create(&d);
    if (rc)
        goto fail;
    rc = fin_report_load_dir(d, from);
    if (rc)
        goto fail;

    struct fin_report_data_stats s;
    fin_report_data_stats(d, &s);
    char size[32], source[4400];
    fmt_bytes(size, sizeof size, s.bytes);
    snprintf(source, sizeof source, "%s (%llu object%s, %s)", from,
             (unsigned long long)s.objects, s.objects == 1 ? "" : "s", size);
    rc = fin_report_data_set_source(d, source);
    if (rc)
        goto fail;

    const struct fin_report_input *in;
    rc = fin_report_data_finish(d, &req->sel, &in);
    if (rc)
        goto fail;
    struct fin_report_input input = *in;
    input.prov.query = req->query;
    input.prov.result_file = req->result_file;
    input.generated_at = req->generated_at;

    const char *out_dir = req->out_dir;
    if (!out_dir) {
        char rel[64];
        if (!req->data_dir) {
            rc = fin_err_set(FIN_EINVAL, "report: no output folder and no data directory");
            goto fail;
        }
        snprintf(rel, sizeof rel, "reports/%s", in->date);
        out_dir = dir = fin_path_join(req->data_dir, rel);
        if (!dir) {
            rc = FIN_ENOMEM;
            goto fail;
        }
    }
    rc = fin_report_render(&input, out_dir, out);
fail:
    if (st && d)
        fin_report_data_stats(d, st);
    fin_report_data_destroy(d);
    free(lake);
    free(dir);
    return rc;
}
