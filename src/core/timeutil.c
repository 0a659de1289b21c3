/* timeutil.c - civil dates (Howard Hinnant's algorithms), New York daylight saving,
 * the NYSE holiday calendar, and timestamp formatting without printf. */
#include "finstream/timeutil.h"
#include "finstream/error.h"

#include <ctype.h>
#include <string.h>

int64_t fin_days_from_civil(int y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void fin_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t yy = (int64_t)yoe + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

int fin_weekday(int64_t days) { return (int)(days >= -4 ? (days + 4) % 7 : (days + 5) % 7 + 6); }

/* The day of the n-th (1-based) weekday wd in a month; n = -1 for the last. */
static int64_t nth_weekday(int y, unsigned m, int wd, int n)
{
    if (n > 0) {
        int64_t first = fin_days_from_civil(y, m, 1);
        int delta = (wd - fin_weekday(first) + 7) % 7;
        return first + delta + 7 * (n - 1);
    }
    int64_t last = fin_days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) - 1;
    int delta = (fin_weekday(last) - wd + 7) % 7;
    return last - delta;
}

/* UTC instants at which New York daylight saving starts and ends in year y. */
static void ny_dst_bounds(int y, int64_t *start, int64_t *end)
{
    int64_t s, e;
    if (y >= 2007) {
        s = nth_weekday(y, 3, 0, 2);
        e = nth_weekday(y, 11, 0, 1);
    } else {
        s = nth_weekday(y, 4, 0, 1);
        e = nth_weekday(y, 10, 0, -1);
    }
    *start = s * 86400 + 2 * 3600 + 5 * 3600;   /* 02:00 EST = 07:00 UTC */
    *end = e * 86400 + 2 * 3600 + 4 * 3600;     /* 02:00 EDT = 06:00 UTC */
}

int32_t fin_ny_utc_offset(int64_t t)
{
    int y;
    unsigned m, d;
    fin_civil_from_days((t - 5 * 3600) / 86400 - ((t - 5 * 3600) % 86400 < 0), &y, &m, &d);
    int64_t s, e;
    ny_dst_bounds(y, &s, &e);
    return (t >= s && t < e) ? -4 * 3600 : -5 * 3600;
}

int64_t fin_ny_local_to_utc(int y, unsigned m, unsigned d, int hh, int mm, int ss)
{
    int64_t local = fin_days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss;
    /* Try standard time first; if that instant is in daylight time, use daylight time. */
    int64_t t = local + 5 * 3600;
    if (fin_ny_utc_offset(t) == -4 * 3600)
        t = local + 4 * 3600;
    return t;
}

/* Easter Sunday (Gregorian, anonymous algorithm). */
static int64_t easter(int y)
{
    int a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4, f = (b + 8) / 25;
    int g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30, i = c / 4, k = c % 4;
    int l = (32 + 2 * e + 2 * i - h - k) % 7, m = (a + 11 * h + 22 * l) / 451;
    int month = (h + l - 7 * m + 114) / 31, day = ((h + l - 7 * m + 114) % 31) + 1;
    return fin_days_from_civil(y, (unsigned)month, (unsigned)day);
}

/* A fixed-date holiday moved to Friday when on Saturday and Monday when on Sunday. */
static bool observed(int64_t day, int y, unsigned m, unsigned d, bool saturday_moves)
{
    int64_t h = fin_days_from_civil(y, m, d);
    int wd = fin_weekday(h);
    if (wd == 6)
        return saturday_moves && day == h - 1;
    if (wd == 0)
        return day == h + 1;
    return day == h;
}

const char *fin_nyse_closed_reason(int y, unsigned m, unsigned d)
{
    int64_t day = fin_days_from_civil(y, m, d);
    int wd = fin_weekday(day);
    if (wd == 0)
        return "a Sunday";
    if (wd == 6)
        return "a Saturday";
    /* New Year's Day: a Saturday holiday is not moved to the Friday before (NYSE rule). */
    if (observed(day, y, 1, 1, false) || observed(day, y + 1, 1, 1, false))
        return "New Year's Day, an exchange holiday";
    if (day == nth_weekday(y, 1, 1, 3) && y >= 1998)
        return "Martin Luther King Jr. Day, an exchange holiday";
    if (day == nth_weekday(y, 2, 1, 3))
        return "Washington's Birthday, an exchange holiday";
    if (day == easter(y) - 2)
        return "Good Friday, an exchange holiday";
    if (day == nth_weekday(y, 5, 1, -1))
        return "Memorial Day, an exchange holiday";
    if (y >= 2022 && observed(day, y, 6, 19, true))
        return "Juneteenth, an exchange holiday";
    if (observed(day, y, 7, 4, true))
        return "Independence Day, an exchange holiday";
    if (day == nth_weekday(y, 9, 1, 1))
        return "Labor Day, an exchange holiday";
    if (day == nth_weekday(y, 11, 4, 4))
        return "Thanksgiving, an exchange holiday";
    if (observed(day, y, 12, 25, true))
        return "Christmas, an exchange holiday";
    return NULL;
}

bool fin_nyse_is_trading_day(int y, unsigned m, unsigned d)
{
    return fin_nyse_closed_reason(y, m, d) == NULL;
}

static inline void put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

size_t fin_format_date(char *out, int64_t days)
{
    int y;
    unsigned m, d;
    fin_civil_from_days(days, &y, &m, &d);
    unsigned yy = (unsigned)y % 10000;
    put2(out, yy / 100);
    put2(out + 2, yy % 100);
    out[4] = '-';
    put2(out + 5, m);
    out[7] = '-';
    put2(out + 8, d);
    out[10] = '\0';
    return 10;
}

size_t fin_format_ts_offset(char *out, int64_t t, int32_t offset)
{
    /* Bars come in runs of the same day: keep the last date's text. */
    static _Thread_local int64_t cached_day = INT64_MIN;
    static _Thread_local char cached_date[11];
    int64_t local = t + offset;
    int64_t days = local / 86400 - (local % 86400 < 0);
    int64_t sod = local - days * 86400;
    if (days != cached_day) {
        fin_format_date(cached_date, days);
        cached_day = days;
    }
    memcpy(out, cached_date, 10);
    out[10] = ' ';
    put2(out + 11, (unsigned)(sod / 3600));
    out[13] = ':';
    put2(out + 14, (unsigned)(sod / 60 % 60));
    out[16] = ':';
    put2(out + 17, (unsigned)(sod % 60));
    int32_t a = offset < 0 ? -offset : offset;
    out[19] = offset < 0 ? '-' : '+';
    put2(out + 20, (unsigned)(a / 3600));
    out[22] = ':';
    put2(out + 23, (unsigned)(a / 60 % 60));
    out[25] = '\0';
    return 25;
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int parse_date_part(const char **p, int *y, int *m, int *d)
{
    if (digits(p, 4, y) || **p != '-')
        return -1;
    (*p)++;
    if (digits(p, 2, m) || **p != '-')
        return -1;
    (*p)++;
    if (digits(p, 2, d))
        return -1;
    if (*m < 1 || *m > 12 || *d < 1 || *d > 31)
        return -1;
    /* Reject 2021-02-30 and the like by a round trip. */
    int ry;
    unsigned rm, rd;
    fin_civil_from_days(fin_days_from_civil(*y, (unsigned)*m, (unsigned)*d), &ry, &rm, &rd);
    return (ry == *y && (int)rm == *m && (int)rd == *d) ? 0 : -1;
}

int fin_parse_date(const char *s, int64_t *days)
{
    const char *p = s;
    int y, m, d;
    if (parse_date_part(&p, &y, &m, &d) || *p)
        return fin_err_set(FIN_EINVAL, "'%s' is not a date (YYYY-MM-DD)", s);
    *days = fin_days_from_civil(y, (unsigned)m, (unsigned)d);
    return 0;
}

int fin_parse_time(const char *s, int32_t default_offset, int64_t *t)
{
    const char *p = s;
    int y, mo, d, hh = 0, mi = 0, ss = 0;
    if (parse_date_part(&p, &y, &mo, &d))
        goto bad;
    if (*p == ' ' || *p == 'T') {
        p++;
        if (digits(&p, 2, &hh) || *p++ != ':' || digits(&p, 2, &mi))
            goto bad;
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &ss))
                goto bad;
            if (*p == '.') {   /* fractional seconds are dropped */
                p++;
                while (isdigit((unsigned char)*p))
                    p++;
            }
        }
        if (hh > 23 || mi > 59 || ss > 60)
            goto bad;
    }
    while (*p == ' ')
        p++;
    int64_t local = fin_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + hh * 3600 + mi * 60 + ss;
    if (*p == 'Z' && p[1] == '\0') {
        *t = local;
        return 0;
    }
    if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om = 0;
        p++;
        if (digits(&p, 2, &oh))
            goto bad;
        if (*p == ':')
            p++;
        if (*p && digits(&p, 2, &om))
            goto bad;
        if (*p || oh > 18 || om > 59)   /* +99:00 is no offset anywhere */
            goto bad;
        *t = local - sign * (oh * 3600 + om * 60);
        return 0;
    }
    if (*p)
        goto bad;
    if (default_offset == FIN_TZ_NEW_YORK)
        *t = fin_ny_local_to_utc(y, (unsigned)mo, (unsigned)d, hh, mi, ss);
    else
        *t = local - default_offset;
    return 0;
bad:
    return fin_err_set(FIN_EINVAL, "'%s' is not a time (YYYY-MM-DD[ hh:mm[:ss]][+hh:mm])", s);
}
