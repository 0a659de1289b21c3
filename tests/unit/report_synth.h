/* report_synth.h - a synthetic trading day for the report's tests and benchmark: n tickers
 * of 390 one-minute bars (09:30 .. 15:59 New York, 2020-05-14, UTC-04:00) from a seeded
 * random walk, with the day ranges and the hourly-high rows computed from the bars the
 * way the classic query does (ties kept). */
#ifndef REPORT_SYNTH_H
#define REPORT_SYNTH_H

#include "finstream/report.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SYNTH_BARS 390
#define SYNTH_OFFSET (-4 * 3600)
/* 2020-05-14 09:30:00-04:00 */
#define SYNTH_T0 1589463000LL

struct synth_ticker {
    char name[16];
    int64_t t[SYNTH_BARS];
    double high[SYNTH_BARS], low[SYNTH_BARS];
    char ts[SYNTH_BARS][20];
};

struct synth_day {
    size_t n;
    struct synth_ticker *tk;
    struct fin_report_series *series;   /* one per ticker */
    struct fin_report_range *ranges;
    struct fin_report_hourly *hourly;
    size_t n_hourly;
};

static inline double synth_rand(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

static inline void synth_day_init(struct synth_day *d, size_t n, uint64_t seed)
{
    static const char *classic[] = {"FB", "SHOP", "BYND", "NFLX", "PINS",
                                    "SQ", "TTD", "OKTA", "SNAP", "DDOG"};
    memset(d, 0, sizeof *d);
    d->n = n;
    d->tk = calloc(n, sizeof *d->tk);
    d->series = calloc(n, sizeof *d->series);
    d->ranges = calloc(n, sizeof *d->ranges);
    d->hourly = calloc(n * SYNTH_BARS, sizeof *d->hourly);
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        struct synth_ticker *k = &d->tk[i];
        if (i < 10)
            snprintf(k->name, sizeof k->name, "%s", classic[i]);
        else
            snprintf(k->name, sizeof k->name, "T%c%c%u", 'A' + (int)(i % 26), 'A' + (int)(i / 26 % 26), (unsigned)(i % 1000));
        double p = 10.0 + 500.0 * synth_rand(&s);
        double vol = 0.0008 + 0.002 * synth_rand(&s);
        for (int b = 0; b < SYNTH_BARS; b++) {
            double open = p;
            p *= exp(vol * (synth_rand(&s) * 2 - 1));
            double hi = fmax(open, p) * (1 + vol * 0.5 * synth_rand(&s));
            double lo = fmin(open, p) * (1 - vol * 0.5 * synth_rand(&s));
            k->high[b] = round(hi * 100) / 100;
            k->low[b] = round(lo * 100) / 100;
            if (b % 97 == 5 && b > 0)
                k->high[b] = k->high[b - 1];     /* a tie now and then */
            if (k->low[b] > k->high[b])
                k->low[b] = k->high[b];
            k->t[b] = SYNTH_T0 + 60LL * b;
            int mins = 9 * 60 + 30 + b;
            snprintf(k->ts[b], sizeof k->ts[b], "2020-05-14 %02d:%02d:00", mins / 60, mins % 60);
        }
        d->series[i] = (struct fin_report_series){k->name, SYNTH_BARS, k->t, k->high, k->low,
                                                  SYNTH_OFFSET, "1-minute"};
        fin_report_range_from_series(&d->series[i], &d->ranges[i]);
        for (int h = 9; h <= 15; h++) {
            double m = -1;
            for (int b = 0; b < SYNTH_BARS; b++)
                if ((9 * 60 + 30 + b) / 60 == h && k->high[b] > m)
                    m = k->high[b];
            for (int b = 0; b < SYNTH_BARS; b++)
                if ((9 * 60 + 30 + b) / 60 == h && k->high[b] == m)
                    d->hourly[d->n_hourly++] = (struct fin_report_hourly){k->name, h, m, k->ts[b]};
        }
    }
}

static inline void synth_day_input(const struct synth_day *d, struct fin_report_input *in,
                                   size_t n_series)
{
    memset(in, 0, sizeof *in);
    in->date = "2020-05-14";
    in->ranges = d->ranges;
    in->n_ranges = d->n;
    in->series = d->series;
    in->n_series = n_series;
    in->hourly = d->hourly;
    in->n_hourly = d->n_hourly;
    in->prov.source = "synthetic day (seeded random walk)";
    in->prov.window = "2020-05-14 09:30:00-04:00 .. 2020-05-14 15:59:00-04:00";
    in->prov.records = (uint64_t)d->n * SYNTH_BARS;
    in->prov.query = "SELECT name, substring(ts, 12, 2) AS hour, max(high) ...";
    in->generated_at = 1764150000;
}

static inline void synth_day_fini(struct synth_day *d)
{
    free(d->tk);
    free(d->series);
    free(d->ranges);
    free(d->hourly);
    memset(d, 0, sizeof *d);
}

#endif
