/* timeutil.h - civil dates, the New York exchange's clock and calendar, and fast
 * timestamp formatting, without the C library's time-zone state.
 *
 * The classic record's ts is the bar start in exchange-local time with its UTC offset,
 * "2020-05-14 09:30:00-04:00". New York's offset follows the US daylight-saving rules
 * (since 2007: second Sunday of March to first Sunday of November, at 02:00 local;
 * 1987-2006: first Sunday of April to last Sunday of October). */
#ifndef FINSTREAM_TIMEUTIL_H
#define FINSTREAM_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Days since 1970-01-01 for a proleptic Gregorian date, and back. */
int64_t fin_days_from_civil(int y, unsigned m, unsigned d);
void fin_civil_from_days(int64_t days, int *y, unsigned *m, unsigned *d);
/* 0 = Sunday ... 6 = Saturday. */
int fin_weekday(int64_t days);

/* America/New_York's UTC offset in seconds (-14400 or -18000) at UTC time t. */
int32_t fin_ny_utc_offset(int64_t t);
/* The UTC time of a New York local wall-clock time on a date. */
int64_t fin_ny_local_to_utc(int y, unsigned m, unsigned d, int hh, int mm, int ss);

/* True when the NYSE trades on that date (weekdays that are not exchange holidays). */
bool fin_nyse_is_trading_day(int y, unsigned m, unsigned d);
/* Why the exchange is closed that day ("a Saturday", "Thanksgiving, an exchange
 * holiday"), or NULL on a trading day. A static string. */
const char *fin_nyse_closed_reason(int y, unsigned m, unsigned d);

/* Writes "YYYY-MM-DD hh:mm:ss+hh:mm" for UTC time t shown at offset (seconds east);
 * returns 25. out needs 26 bytes (NUL written). */
size_t fin_format_ts_offset(char *out, int64_t t, int32_t offset);
/* Writes "YYYY-MM-DD"; returns 10 (NUL written). */
size_t fin_format_date(char *out, int64_t days);

/* Parses "YYYY-MM-DD" into days; FIN_EINVAL with a message otherwise. */
int fin_parse_date(const char *s, int64_t *days);
/* Parses a time: "YYYY-MM-DD", "YYYY-MM-DD hh:mm[:ss]", "YYYY-MM-DDThh:mm[:ss]", with an
 * optional offset ("Z", "+hh:mm", "-hhmm"). Without an offset, default_offset applies
 * (pass FIN_TZ_NEW_YORK for New York local time). Result: UTC seconds. */
#define FIN_TZ_NEW_YORK INT32_MIN
int fin_parse_time(const char *s, int32_t default_offset, int64_t *t);

#endif
