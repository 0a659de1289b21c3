/* source_sim.c - a seeded market simulator: the default source, offline and deterministic.
 *
 * Each ticker's daily open follows a random walk anchored at a plausible price on
 * 2020-05-14 (the classic exercise's day); within a day, one-minute log returns follow
 * geometric Brownian motion whose volatility has the U shape of real sessions (busy at
 * the open, calmer at midday, busy again into the close), and so does volume. Longer
 * bars (5m, 15m, 1h, 1d) aggregate the one-minute path, so they agree with it.
 *
 * Determinism: every random draw comes from a generator seeded by (seed, ticker, day),
 * so the same seed gives the same bytes whatever the window, ticker order or schedule.
 * Prices are on the cent grid, as exchanges quote them, and every bar keeps
 * low <= open, close <= high.
 *
 * Tickers are upper-cased first ("fb" is FB, with FB's profile and path), as exchanges
 * list them. A window without a trading day says why (a weekend, which holiday), so an
 * empty answer is never a mystery. */
#include "finstream/collector.h"
#include "finstream/error.h"
#include "finstream/interrupt.h"
#include "finstream/log.h"
#include "finstream/progress.h"
#include "finstream/timeutil.h"
#include "round.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SESSION_MINUTES 390
#define ANCHOR_DAY_Y 2020
#define ANCHOR_DAY_M 5
#define ANCHOR_DAY_D 14

struct fin_source {
    uint64_t seed;
};

/* xoshiro256** seeded through splitmix64. */
struct rng {
    uint64_t s[4];
    double spare;
    bool has_spare;
};

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t x = a ^ (b * 0xD1B54A32D192ED03ULL) ^ (c * 0x8CB92BA72F3D8DD7ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix(&x);
    r->spare = 0;
    r->has_spare = false;
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in (0, 1). */
static inline double rng_uniform(struct rng *r) { return ((double)(rng_next(r) >> 11) + 0.5) * 0x1.0p-53; }

/* Standard normal by Marsaglia's polar method: no trigonometry, both values used. */
static inline double rng_normal(struct rng *r)
{
    if (r->has_spare) {
        r->has_spare = false;
        return r->spare;
    }
    double u, v, q;
    do {
        u = 2.0 * rng_uniform(r) - 1.0;
        v = 2.0 * rng_uniform(r) - 1.0;
        q = u * u + v * v;
    } while (q >= 1.0 || q == 0.0);
    double f = sqrt(-2.0 * log(q) / q);
    r->spare = v * f;
    r->has_spare = true;
    return u * f;
}

static uint64_t hash_str(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* Plausible prices for the classic ten on 2020-05-14; others get one from their name. */
static void ticker_profile(const char *t, size_t n, double *price, double *daily_vol, double *volume)
{
    static const struct { const char *name; double price, vol, volume; } known[] = {
        {"FB", 206.0, 0.025, 12000}, {"SHOP", 700.0, 0.040, 2500}, {"BYND", 135.0, 0.060, 7000},
        {"NFLX", 440.0, 0.028, 5000}, {"PINS", 18.6, 0.045, 9000}, {"SQ", 78.0, 0.040, 11000},
        {"TTD", 270.0, 0.045, 1800}, {"OKTA", 160.0, 0.035, 2200}, {"SNAP", 15.5, 0.045, 30000},
        {"DDOG", 62.0, 0.040, 4000}, {"AAPL", 307.0, 0.020, 40000}, {"MSFT", 180.0, 0.020, 35000},
        {"AMZN", 2390.0, 0.022, 5000}, {"GOOG", 1370.0, 0.020, 2000}, {"TSLA", 800.0, 0.050, 25000},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strlen(known[i].name) == n && memcmp(known[i].name, t, n) == 0) {
            *price = known[i].price;
            *daily_vol = known[i].vol;
            *volume = known[i].volume;
            return;
        }
    uint64_t h = hash_str(t, n);
    *price = 10.0 * exp((double)(h % 4000) / 1000.0);        /* 10 .. 546 */
    *daily_vol = 0.015 + (double)((h >> 16) % 40) / 1000.0;    /* 1.5% .. 5.4% */
    *volume = 1000.0 + (double)((h >> 32) % 20000);
}

/* Intraday shape: more movement and volume near the open and the close. */
static double shape(int minute)
{
    return 0.55 + 1.6 * exp(-minute / 25.0) + 0.7 * exp(-(SESSION_MINUTES - 1 - minute) / 30.0);
}

/* The shape per minute of the session, computed once, and its norm (so that a day's
 * variance matches the ticker's daily volatility). */
struct shape_table {
    double v[SESSION_MINUTES];
    double norm;
};

static const struct shape_table *shape_table_get(void)
{
    static struct shape_table t;
    static int ready;   /* set once; the values are the same whichever thread computes them */
    if (!ready) {
        double sum = 0;
        for (int i = 0; i < SESSION_MINUTES; i++) {
            t.v[i] = shape(i);
            sum += t.v[i] * t.v[i];
        }
        t.norm = sqrt(sum);
        ready = 1;
    }
    return &t;
}

static double round_cents(double x) { return fin_round_even(x * 100.0) / 100.0; }

/* fmax and fmin without the libm calls: prices are never NaN. */
static inline double max2(double a, double b) { return a > b ? a : b; }
static inline double min2(double a, double b) { return a < b ? a : b; }

static int create(struct fin_source **out, const char *arg, const struct fin_collect_settings *set)
{
    (void)arg;
    struct fin_source *s = calloc(1, sizeof *s);
    if (!s)
        return FIN_ENOMEM;
    s->seed = (uint64_t)set->seed;
    *out = s;
    return 0;
}

static void destroy(struct fin_source *s) { free(s); }

/* One ticker's trading day, minute by minute: open, high, low, close, volume. */
struct minute_bar {
    double o, h, l, c;
    int64_t v;
};

static void simulate_day(const struct fin_source *src, const char *t, size_t n, int64_t day,
                         double open, double daily_vol, double base_volume, struct minute_bar *m)
{
    struct rng r;
    rng_seed(&r, src->seed, hash_str(t, n), (uint64_t)day);
    const struct shape_table *sh = shape_table_get();
    double sigma = daily_vol / sh->norm;
    double drift = 0.0002 * rng_normal(&r) / SESSION_MINUTES;
    double price = open;
    for (int i = 0; i < SESSION_MINUTES; i++) {
        double s = sigma * sh->v[i];
        /* A minute opens where the last one closed, as a continuous auction does. */
        double o = price;
        double c = round_cents(price * exp(drift - 0.5 * s * s + s * rng_normal(&r)));
        if (c < 0.01)
            c = 0.01;
        /* Wicks: a half-normal excursion beyond the body (first order in s, which is
         * small for one minute, so no exp is needed). */
        double top = max2(o, c), bottom = min2(o, c);
        double hi = top * (1.0 + fabs(rng_normal(&r)) * s * 0.6);
        double lo = bottom * (1.0 - fabs(rng_normal(&r)) * s * 0.6);
        hi = max2(round_cents(hi), top);
        lo = min2(round_cents(lo), bottom);
        if (lo < 0.01)
            lo = 0.01;
        double vol = base_volume * sh->v[i] * exp(0.45 * rng_normal(&r));
        m[i].o = o;
        m[i].h = hi;
        m[i].l = lo;
        m[i].c = c;
        m[i].v = vol < 1 ? 1 : (int64_t)vol;
        price = c;
    }
}

/* The daily open: a walk of daily log returns from the anchor day, one draw per
 * calendar day, kept per ticker so that consecutive days cost one step each. */
struct walk {
    int64_t day;
    double logp, daily_vol;
    uint64_t th;
};

static void walk_init(struct walk *wk, const char *t, size_t n, double anchor_price, double daily_vol)
{
    wk->day = fin_days_from_civil(ANCHOR_DAY_Y, ANCHOR_DAY_M, ANCHOR_DAY_D);
    wk->logp = log(anchor_price);
    wk->daily_vol = daily_vol;
    wk->th = hash_str(t, n) ^ 0xA5A5A5A5ULL;
}

/* The log return from day d-1 to day d: a pure function of (seed, ticker, d), so walking
 * forward and back are exact inverses and a day's open never depends on the window. */
static double walk_step(const struct fin_source *src, const struct walk *wk, int64_t d)
{
    struct rng r;
    rng_seed(&r, src->seed, wk->th, (uint64_t)d);
    return 0.7 * wk->daily_vol * rng_normal(&r);
}

static double walk_to(const struct fin_source *src, struct walk *wk, int64_t day)
{
    while (wk->day < day) {
        wk->day++;
        wk->logp += walk_step(src, wk, wk->day);
    }
    while (wk->day > day) {
        wk->logp -= walk_step(src, wk, wk->day);
        wk->day--;
    }
    double p = round_cents(exp(wk->logp));
    return p < 0.01 ? 0.01 : p;   /* a price on the grid, never zero */
}

/* Says why the window holds no trading day: each closed day and its reason (the first
 * few). Called only when no bar time fell into a session. */
static void say_closed(int64_t first_day, int64_t last_day)
{
    char msg[512];
    size_t o = 0;
    int shown = 0;
    for (int64_t day = first_day; day <= last_day && o < sizeof msg; day++) {
        int y;
        unsigned mo, d;
        fin_civil_from_days(day, &y, &mo, &d);
        const char *why = fin_nyse_closed_reason(y, mo, d);
        if (!why)
            continue;
        if (shown++ == 3) {
            o += (size_t)snprintf(msg + o, sizeof msg - o, "; ...");
            break;
        }
        char date[16];
        fin_format_date(date, day);
        o += (size_t)snprintf(msg + o, sizeof msg - o, "%s%s is %s", o ? "; " : "", date, why);
    }
    if (shown)
        fin_warn("sim: no bars: %s (the exchange is closed)", msg);
    else
        fin_warn("sim: no bars: the window holds no trading minute (09:30 to 16:00 New York time)");
}

static int collect(struct fin_source *src, const char *const *tickers, size_t n_tickers,
                   const struct fin_window *w, struct fin_emitter *em)
{
    int step_min = w->interval_s / 60;
    bool daily = w->interval_s >= 86400;
    int64_t first_day = (w->start + fin_ny_utc_offset(w->start)) / 86400;
    int64_t last_day = (w->end - 1 + fin_ny_utc_offset(w->end - 1)) / 86400;
    struct minute_bar m[SESSION_MINUTES];
    bool any_session = false;
    fin_progress_set_total(n_tickers, 0);

    for (size_t ti = 0; ti < n_tickers; ti++) {
        if (fin_interrupted())
            return fin_interrupt_error();
        char t[FIN_TICKER_MAX + 1];
        size_t tn = strlen(tickers[ti]);
        if (tn > FIN_TICKER_MAX)
            return fin_err_set(FIN_EINVAL, "sim: ticker '%s' is longer than %d characters",
                               tickers[ti], FIN_TICKER_MAX);
        for (size_t k = 0; k <= tn; k++)
            t[k] = (char)toupper((unsigned char)tickers[ti][k]);
        double anchor_price, daily_vol, base_volume;
        ticker_profile(t, tn, &anchor_price, &daily_vol, &base_volume);
        struct walk wk;
        walk_init(&wk, t, tn, anchor_price, daily_vol);
        for (int64_t day = first_day; day <= last_day; day++) {
            int y;
            unsigned mo, d;
            fin_civil_from_days(day, &y, &mo, &d);
            if (!fin_nyse_is_trading_day(y, mo, d))
                continue;
            int64_t session_start = fin_ny_local_to_utc(y, mo, d, 9, 30, 0);
            if (session_start + SESSION_MINUTES * 60 <= w->start || session_start >= w->end)
                continue;
            any_session = true;
            double open = walk_to(src, &wk, day);
            simulate_day(src, t, tn, day, open, daily_vol, base_volume, m);

            int32_t offset = fin_ny_utc_offset(session_start);
            int span = daily ? SESSION_MINUTES : step_min;
            for (int i = 0; i < SESSION_MINUTES; i += span) {
                int64_t bar_t = session_start + (int64_t)i * 60;
                if (bar_t < w->start || bar_t >= w->end)
                    continue;
                int end = i + span < SESSION_MINUTES ? i + span : SESSION_MINUTES;
                struct fin_bar b;
                memset(&b, 0, sizeof b);
                b.name = t;
                b.name_len = tn;
                b.t = bar_t;
                b.utc_offset = offset;
                b.px[0] = m[i].o;
                b.px[1] = m[i].h;
                b.px[2] = m[i].l;
                b.px[3] = m[end - 1].c;
                b.volume = 0;
                for (int k = i; k < end; k++) {
                    if (m[k].h > b.px[1]) b.px[1] = m[k].h;
                    if (m[k].l < b.px[2]) b.px[2] = m[k].l;
                    b.volume += m[k].v;
                }
                b.present = FIN_BAR_ALL;
                int rc = fin_emit_bar(em, &b);
                if (rc)
                    return rc;
            }
        }
        em->stats.tickers_ok++;
        fin_progress_add(1, 0);
    }
    if (!any_session && n_tickers)
        say_closed(first_day, last_day);
    return 0;
}

const struct fin_source_ops fin_source_sim = {"sim", create, collect, destroy};
