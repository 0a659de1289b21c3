/* fuzz_crawl.c - the crawler's sampling (JSON with NaN tokens, CSV quoting, gzip) and the
 * catalog file round trip, on arbitrary object bytes.
 *
 * The input becomes one object in a fresh lake; whatever it holds, the crawl must end
 * with a catalog that saves and loads back to the same table. */
#include "finstream/catalog.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(void *ctx, const char *msg)
{
    (void)ctx;
    (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char root[] = "/tmp/finstream-fuzz-crawl-XXXXXX";
    if (!mkdtemp(root))
        return 0;
    char lake[128], obj[160];
    snprintf(lake, sizeof lake, "%s/lake/2020/05/14/13", root);
    snprintf(obj, sizeof obj, "%s/obj", lake);
    if (fin_mkdir_p(lake, 0755) == 0 && fin_write_file_atomic(obj, data, size) == 0) {
        snprintf(lake, sizeof lake, "%s/lake", root);
        struct fin_catalog *cat;
        struct fin_crawl_opts o = {.table = "t", .sample = 0, .report = quiet};
        if (fin_catalog_open(&cat, root) == 0) {
            int rc = fin_crawl(cat, lake, &o, NULL);
            if (rc == 0 && fin_catalog_save(cat) != 0)
                abort();
            size_t before = fin_catalog_table_count(cat);
            const struct fin_table *t = fin_catalog_find(cat, "t");
            size_t cols = t ? t->columns.n : 0;
            char *ddl = NULL;
            if (t && fin_catalog_ddl(t, "s3://b/p", &ddl) != 0)
                abort();
            free(ddl);
            fin_catalog_close(cat);
            if (rc == 0) {
                if (fin_catalog_open(&cat, root) != 0)
                    abort();   /* what was saved must load */
                t = fin_catalog_find(cat, "t");
                if (fin_catalog_table_count(cat) != before || (t ? t->columns.n : 0) != cols)
                    abort();
                fin_catalog_close(cat);
            }
        }
    }
    fin_remove_tree(root);
    return 0;
}
