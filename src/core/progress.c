/* progress.c - the progress line and log events (progress.h).
 *
 * Counters are atomics the working threads bump; one drawing thread, started with the
 * first stage, reads them every 200 ms and redraws the line with "\r" and an erase. The
 * rate is the average since the stage began (steadier than an instantaneous one), and
 * the time left is (total - done) / rate. A mutex orders the redraw against fin_log's
 * messages and against begin/end, so a message never lands in the middle of the line. */
#include "finstream/progress.h"
#include "finstream/log.h"

#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_bool enabled;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t thread_once = PTHREAD_ONCE_INIT;

/* The stage, guarded by lock; the counters are read without it. */
static const char *stage_name;
static const char *stage_unit;
static _Atomic uint64_t total_units, total_bytes;
static _Atomic uint64_t done_units, done_bytes;
static struct timespec stage_start;
static bool line_shown;

void fin_progress_enable(bool on) { atomic_store(&enabled, on); }
bool fin_progress_enabled(void) { return atomic_load(&enabled); }

static double since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void count(char *out, size_t cap, uint64_t v)
{
    char d[32];
    int n = snprintf(d, sizeof d, "%" PRIu64, v);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < cap; i++) {
        if (i && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = d[i];
    }
    out[o] = '\0';
}

static void bytes_text(char *out, size_t cap, double b)
{
    if (b >= 1073741824.0)
        snprintf(out, cap, "%.2f GiB", b / 1073741824.0);
    else if (b >= 1048576.0)
        snprintf(out, cap, "%.1f MiB", b / 1048576.0);
    else if (b >= 1024.0)
        snprintf(out, cap, "%.0f KiB", b / 1024.0);
    else
        snprintf(out, cap, "%.0f bytes", b);
}

static void clear_locked(void)
{
    if (line_shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        line_shown = false;
    }
}

/* Caller holds lock. */
static void draw_locked(void)
{
    if (!stage_name || !atomic_load(&enabled))
        return;
    double secs = since(&stage_start);
    if (secs < 0.5)
        return;   /* a stage that ends at once draws nothing */
    uint64_t u = atomic_load(&done_units), b = atomic_load(&done_bytes);
    uint64_t tu = atomic_load(&total_units), tb = atomic_load(&total_bytes);
    char line[256], n[32], t[32], x[32];
    size_t o = (size_t)snprintf(line, sizeof line, "%-9s ", stage_name);
    if (u || tu) {
        count(n, sizeof n, u);
        if (tu) {
            count(t, sizeof t, tu);
            o += (size_t)snprintf(line + o, sizeof line - o, "%s / %s %s", n, t, stage_unit);
        } else {
            o += (size_t)snprintf(line + o, sizeof line - o, "%s %s", n, stage_unit);
        }
    }
    if (b) {
        bytes_text(x, sizeof x, (double)b);
        o += (size_t)snprintf(line + o, sizeof line - o, "  %s", x);
    }
    if (u && secs > 0) {
        count(x, sizeof x, (uint64_t)((double)u / secs));
        o += (size_t)snprintf(line + o, sizeof line - o, "  %s/s", x);
    }
    /* The fraction done, by units when their total is known, else by bytes. */
    double frac = tu ? (double)u / (double)tu : tb ? (double)b / (double)tb : -1;
    if (frac >= 0 && frac <= 1) {
        o += (size_t)snprintf(line + o, sizeof line - o, "  %.0f%%", frac * 100);
        if (frac > 0.01) {
            double left = secs * (1 - frac) / frac;
            if (left >= 60)
                snprintf(line + o, sizeof line - o, "  %d:%02d left", (int)left / 60, (int)left % 60);
            else
                snprintf(line + o, sizeof line - o, "  %.0f s left", left);
        }
    } else {
        snprintf(line + o, sizeof line - o, "  %.1f s", secs);
    }
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
    line_shown = true;
}

static void *drawer(void *arg)
{
    (void)arg;
    for (;;) {
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&lock);
        draw_locked();
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

static void start_thread(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, drawer, NULL) == 0)
        pthread_detach(t);
}

void fin_progress_begin(const char *name, const char *unit, uint64_t units, uint64_t bytes)
{
    if (atomic_load(&enabled))
        pthread_once(&thread_once, start_thread);
    pthread_mutex_lock(&lock);
    clear_locked();
    stage_name = name;
    stage_unit = unit ? unit : "records";
    atomic_store(&total_units, units);
    atomic_store(&total_bytes, bytes);
    atomic_store(&done_units, 0);
    atomic_store(&done_bytes, 0);
    clock_gettime(CLOCK_MONOTONIC, &stage_start);
    pthread_mutex_unlock(&lock);
}

void fin_progress_add(uint64_t units, uint64_t bytes)
{
    if (units)
        atomic_fetch_add_explicit(&done_units, units, memory_order_relaxed);
    if (bytes)
        atomic_fetch_add_explicit(&done_bytes, bytes, memory_order_relaxed);
}

void fin_progress_set_total(uint64_t units, uint64_t bytes)
{
    atomic_store(&total_units, units);
    atomic_store(&total_bytes, bytes);
}

void fin_progress_end(void)
{
    pthread_mutex_lock(&lock);
    clear_locked();
    stage_name = NULL;
    pthread_mutex_unlock(&lock);
}

void fin_progress_clear(void)
{
    pthread_mutex_lock(&lock);
    clear_locked();
    pthread_mutex_unlock(&lock);
}

/* ---- events ---------------------------------------------------------------------- */

static void iso_now(char *out, size_t cap)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, cap - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

void fin_log_event(const char *event, ...)
{
    if (fin_log_get_level() > FIN_LOG_INFO)
        return;
    char when[40];
    iso_now(when, sizeof when);
    bool json = fin_log_json();
    json_t *o = json ? json_object() : NULL;
    char text[2048];
    size_t n = 0;
    if (json) {
        json_object_set_new(o, "time", json_string(when));
        json_object_set_new(o, "event", json_string(event));
    } else {
        n = (size_t)snprintf(text, sizeof text, "%s %s", when, event);
    }
    va_list ap;
    va_start(ap, event);
    const char *key;
    while ((key = va_arg(ap, const char *)) != NULL) {
        enum fin_log_type type = (enum fin_log_type)va_arg(ap, int);
        char v[512];
        json_t *jv = NULL;
        switch (type) {
        case FIN_LOG_STR: {
            const char *s = va_arg(ap, const char *);
            s = s ? s : "";
            bool quote = strpbrk(s, " \t\"=") != NULL || !*s;
            snprintf(v, sizeof v, quote ? "\"%s\"" : "%s", s);
            if (json)
                jv = json_string(s);
            break;
        }
        case FIN_LOG_U64: {
            uint64_t x = va_arg(ap, uint64_t);
            snprintf(v, sizeof v, "%" PRIu64, x);
            if (json)
                jv = json_integer((json_int_t)x);
            break;
        }
        case FIN_LOG_I64: {
            int64_t x = va_arg(ap, int64_t);
            snprintf(v, sizeof v, "%" PRId64, x);
            if (json)
                jv = json_integer((json_int_t)x);
            break;
        }
        default: {
            double x = va_arg(ap, double);
            snprintf(v, sizeof v, "%.3f", x);
            if (json)
                jv = json_real(x);
            break;
        }
        }
        if (json)
            json_object_set_new(o, key, jv);
        else if (n < sizeof text)
            n += (size_t)snprintf(text + n, sizeof text - n, " %s=%s", key, v);
    }
    va_end(ap);
    char *line = json ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    pthread_mutex_lock(&lock);
    clear_locked();
    fprintf(stderr, "%s\n", json ? (line ? line : "{}") : text);
    fflush(stderr);
    pthread_mutex_unlock(&lock);
    free(line);
    json_decref(o);
}
