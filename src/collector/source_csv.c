/* source_csv.c - the csv source. */
#include "finstream/collector.h"
#include "finstream/error.h"

static int create(struct fin_source **out, const char *arg, const struct fin_collect_settings *set)
{
    (void)out;
    (void)arg;
    (void)set;
    return fin_err_set(FIN_EUNSUPPORTED, "the csv source is not available in this build");
}

static int collect(struct fin_source *s, const char *const *tickers, size_t n,
                   const struct fin_window *w, struct fin_emitter *em)
{
    (void)s; (void)tickers; (void)n; (void)w; (void)em;
    return FIN_EUNSUPPORTED;
}

static void destroy(struct fin_source *s) { (void)s; }

const struct fin_source_ops fin_source_csv = {"csv", create, collect, destroy};
