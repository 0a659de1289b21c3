/* emitter.c - from bars to records: format, de-duplicate, count, hand to the sink.
 *
 * De-duplication is what makes a schedule (--every) emit only new bars: the emitter
 * remembers, per ticker, the start of the last bar it emitted, and drops bars at or
 * before it. The table is a small open-addressing hash keyed by ticker. */
#include "finstream/collector.h"
#include "finstream/buf.h"
#include "finstream/error.h"
#include "finstream/fsutil.h"
#include "finstream/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct seen_slot {
    char name[FIN_TICKER_MAX + 1];
    size_t name_len;
    int64_t last_t;
    uint64_t records;
    bool used;
};

struct fin_seen {
    struct seen_slot *slots;
    size_t cap, n;
    struct seen_slot *last;    /* bars come in runs of one ticker: the slot used last */
};

static uint64_t hash_name(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static struct seen_slot *seen_find(struct fin_seen *st, const char *name, size_t n, bool insert)
{
    if (n > FIN_TICKER_MAX)
        n = FIN_TICKER_MAX;
    if (st->last && st->last->name_len == n && memcmp(st->last->name, name, n) == 0)
        return st->last;
    st->last = NULL;   /* a rehash below moves the slots */
    if (insert && (st->n + 1) * 2 > st->cap) {
        size_t ncap = st->cap ? st->cap * 2 : 64;
        struct seen_slot *ns = calloc(ncap, sizeof *ns);
        if (!ns)
            return NULL;
        for (size_t i = 0; i < st->cap; i++) {
            if (!st->slots[i].used)
                continue;
            size_t j = hash_name(st->slots[i].name, st->slots[i].name_len) & (ncap - 1);
            while (ns[j].used)
                j = (j + 1) & (ncap - 1);
            ns[j] = st->slots[i];
        }
        free(st->slots);
        st->slots = ns;
        st->cap = ncap;
    }
    if (!st->cap)
        return NULL;
    size_t j = hash_name(name, n) & (st->cap - 1);
    while (st->slots[j].used) {
        if (st->slots[j].name_len == n && memcmp(st->slots[j].name, name, n) == 0)
            return st->last = &st->slots[j];
        j = (j + 1) & (st->cap - 1);
    }
    if (!insert)
        return NULL;
    memcpy(st->slots[j].name, name, n);
    st->slots[j].name[n] = '\0';
    st->slots[j].name_len = n;
    st->slots[j].used = true;
    st->slots[j].last_t = INT64_MIN;
    st->slots[j].records = 0;
    st->n++;
    return st->last = &st->slots[j];
}

int fin_emitter_init(struct fin_emitter *em, const struct fin_record_format *fmt,
                     const struct fin_record_sink *sink, bool dedupe)
{
    memset(em, 0, sizeof *em);
    em->fmt = *fmt;
    em->sink = *sink;
    em->min_t = INT64_MAX;
    em->max_t = INT64_MIN;
    em->dedupe = dedupe;
    em->seen = calloc(1, sizeof *em->seen);
    return em->seen ? 0 : FIN_ENOMEM;
}

void fin_emitter_fini(struct fin_emitter *em)
{
    if (em->seen) {
        free(em->seen->slots);
        free(em->seen);
    }
    em->seen = NULL;
}

int fin_emit_bar(struct fin_emitter *em, const struct fin_bar *bar)
{
    unsigned values = bar->present & ~((1u << FIN_FIELD_NAME) | (1u << FIN_FIELD_TS));
    if (!values) {
        em->stats.skipped++;
        return 0;
    }
    struct seen_slot *s = seen_find(em->seen, bar->name, bar->name_len, true);
    if (!s)
        return FIN_ENOMEM;
    if (em->dedupe && bar->t <= s->last_t) {
        em->stats.duplicates++;
        return 0;
    }
    char rec[FIN_RECORD_MAX];
    size_t n = fin_record_write(rec, &em->fmt, bar);
    size_t kl = bar->name_len > FIN_TICKER_MAX ? FIN_TICKER_MAX : bar->name_len;
    int rc = em->sink.put(em->sink.ctx, bar->name, kl, rec, n);
    if (rc)
        return rc;
    em->stats.records++;
    s->records++;
    if (bar->t > s->last_t)
        s->last_t = bar->t;
    if (bar->t < em->min_t)
        em->min_t = bar->t;
    if (bar->t > em->max_t)
        em->max_t = bar->t;
    return 0;
}

int fin_emit_raw(struct fin_emitter *em, const char *key, size_t key_len, const char *rec, size_t len)
{
    int rc = em->sink.put(em->sink.ctx, key, key_len, rec, len);
    if (rc)
        return rc;
    em->stats.records++;
    struct seen_slot *s = seen_find(em->seen, key, key_len, true);
    if (!s)
        return FIN_ENOMEM;
    s->records++;
    return 0;
}

/* Objects share the memory with tickers: the key is '@' and a hash of the path (a key no
 * ticker can have), the "time" a hash of size and modification time, so a changed object
 * is sent again. */
bool fin_emit_object_seen(struct fin_emitter *em, const char *path, int64_t size, int64_t mtime)
{
    if (!em->dedupe)
        return false;
    static const char hex[] = "0123456789abcdef";
    uint64_t h = hash_name(path, strlen(path));
    char key[18];
    key[0] = '@';
    for (int i = 0; i < 16; i++)
        key[1 + i] = hex[(h >> (60 - 4 * i)) & 15];
    key[17] = '\0';
    int64_t version = (int64_t)((uint64_t)size * 1000003u ^ (uint64_t)mtime) & INT64_MAX;
    struct seen_slot *s = seen_find(em->seen, key, 17, true);
    if (!s)
        return false;
    if (s->last_t == version) {
        em->stats.duplicates++;
        return true;
    }
    s->last_t = version;
    return false;
}

size_t fin_emitter_tickers(const struct fin_emitter *em)
{
    size_t n = 0;
    for (size_t i = 0; i < em->seen->cap; i++)
        n += em->seen->slots[i].used && em->seen->slots[i].records > 0 && em->seen->slots[i].name[0] != '@';
    return n;
}

void fin_emit_bad(struct fin_emitter *em, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    em->stats.bad++;
    /* The first few are shown one by one; the summary counts the rest. */
    if (em->stats.bad <= 20)
        fin_warn("%s", msg);
    else if (em->stats.bad == 21)
        fin_warn("more bad input; only the count is reported from here on");
}

int fin_emitter_load_seen(struct fin_emitter *em, const char *path)
{
    char *data;
    size_t len;
    int rc = fin_read_file(path, &data, &len);
    if (rc == FIN_ENOENT)
        return 0;
    if (rc)
        return rc;
    int line = 0;
    for (char *save = NULL, *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        line++;
        char *tab = strchr(l, '\t');
        char *end = NULL;
        long long t = tab ? strtoll(tab + 1, &end, 10) : 0;
        if (!tab || tab == l || (size_t)(tab - l) > FIN_TICKER_MAX || !end || *end) {
            rc = fin_err_set(FIN_ECORRUPT, "%s:%d: expected TICKER<tab>seconds", path, line);
            break;
        }
        struct seen_slot *s = seen_find(em->seen, l, (size_t)(tab - l), true);
        if (!s) {
            rc = FIN_ENOMEM;
            break;
        }
        if (t > s->last_t)
            s->last_t = t;
    }
    free(data);
    return rc;
}

int fin_emitter_save_seen(const struct fin_emitter *em, const char *path)
{
    struct fin_buf b;
    fin_buf_init(&b);
    int rc = 0;
    for (size_t i = 0; i < em->seen->cap && !rc; i++) {
        const struct seen_slot *s = &em->seen->slots[i];
        if (s->used && s->last_t != INT64_MIN)
            rc = fin_buf_printf(&b, "%s\t%" PRId64 "\n", s->name, s->last_t);
    }
    if (!rc)
        rc = fin_write_file_atomic(path, b.data ? b.data : "", b.len);
    fin_buf_fini(&b);
    return rc;
}
