/* fuzz_report.c - the report's record reading and summaries on arbitrary objects: records
 * in any framing with any keys, times and prices, then the day's summary, the hourly pivot
 * and the HTML page (everything but the PLplot drawing, which takes checked input). */
#include "report/report_int.h"

#include "finstream/buf.h"
#include "finstream/log.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fin_report_data *d;
    fin_log_set_level(FIN_LOG_ERROR);
    if (fin_report_data_create(&d) != 0)
        return 0;
    fin__report_load_mem(d, data, size, "fuzz");
    const struct fin_report_input *in;
    struct fin_report_select sel = {NULL, "FB,nflx,,x"};
    if (fin_report_data_finish(d, &sel, &in) == 0) {
        struct fin__hourly_grid g;
        if (fin__hourly_grid_build(in->hourly, in->n_hourly, &g) == 0) {
            struct fin_buf page;
            struct fin__page_chart charts[2] = {{"range", "Trading range"}, {"hourly", "Hourly"}};
            fin_buf_init(&page);
            fin__html_page(&page, in, &g, in->n_ranges > 3 ? 3 : in->n_ranges, charts, 2);
            fin_buf_fini(&page);
            fin__hourly_grid_fini(&g);
        }
        /* The same data for an explicit day. */
        sel.date = in->date;
        fin_report_data_finish(d, &sel, &in);
    }
    fin_report_data_destroy(d);
    return 0;
}
