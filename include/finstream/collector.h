/* collector.h - bars from a source, formatted as JSON records, handed to a sink.
 *
 * One collection is one window for a list of tickers, like one Lambda run. A source
 * (sim, yahoo, csv, replay) produces bars, or for replay whole records; the emitter
 * formats each bar as one JSON object (DESIGN.md, "The record"), drops bars it has
 * already emitted (so a schedule emits only new bars), counts, and puts the record to a
 * sink (stdout, a file, a stream, a delivery stream). */
#ifndef FINSTREAM_COLLECTOR_H
#define FINSTREAM_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "finstream/config.h"

/* ---- the record ---- */

enum fin_field {
    FIN_FIELD_NAME, FIN_FIELD_TS, FIN_FIELD_OPEN, FIN_FIELD_HIGH,
    FIN_FIELD_LOW, FIN_FIELD_CLOSE, FIN_FIELD_VOLUME, FIN_FIELD_COUNT
};

/* A bar as a source gives it. Strings are borrowed for the duration of the emit call. */
struct fin_bar {
    const char *name;
    size_t name_len;
    int64_t t;             /* bar start, UTC seconds */
    int32_t utc_offset;    /* exchange offset at t, seconds east of UTC */
    double px[4];          /* open, high, low, close */
    int64_t volume;
    unsigned present;      /* bit (1 << FIN_FIELD_x) for each value present; missing ones are omitted */
    const char *px_text[4];/* optional source spelling of each price, written as it is when it is a JSON number */
    size_t px_text_len[4];
};

#define FIN_BAR_ALL ((1u << FIN_FIELD_COUNT) - 1)
#define FIN_RECORD_MAX 512   /* a formatted bar never exceeds this (names are capped at 32) */
#define FIN_TICKER_MAX 32

/* Which fields, in which order: "name,ts,open,high,low,close,volume" by default. */
struct fin_record_format {
    enum fin_field fields[FIN_FIELD_COUNT];
    int n;
};

int fin_record_format_parse(struct fin_record_format *f, const char *spec);
/* Writes the JSON object for bar (no newline) into out (FIN_RECORD_MAX bytes); returns
 * its length. Never uses printf: this is the collector's hot path. */
size_t fin_record_write(char *out, const struct fin_record_format *f, const struct fin_bar *bar);
/* Shortest text that reads back as exactly v, with ".0" on whole numbers (141.0);
 * "null" for NaN or infinity. out needs 32 bytes; returns the length. */
size_t fin_format_double(char *out, double v);
/* True when s is a JSON number. */
bool fin_is_json_number(const char *s, size_t n);

/* ---- the emitter and its sink ---- */

struct fin_record_sink {
    /* Takes one record (no newline); the bytes are borrowed for the call only. */
    int (*put)(void *ctx, const char *key, size_t key_len, const char *rec, size_t len);
    int (*flush)(void *ctx);
    void *ctx;
};

struct fin_collect_stats {
    uint64_t records;      /* records put to the sink */
    uint64_t duplicates;   /* bars dropped because they were emitted before */
    uint64_t skipped;      /* bars with no values (the source's nulls) */
    uint64_t bad;          /* bad input lines or records, reported and skipped */
    int tickers_ok;
    int tickers_failed;
};

struct fin_seen;           /* per ticker: the last bar time emitted, records emitted */

struct fin_emitter {
    struct fin_record_format fmt;
    struct fin_record_sink sink;
    struct fin_collect_stats stats;
    struct fin_seen *seen;
    bool dedupe;
    int64_t min_t, max_t;      /* range of bar times emitted */
};

/* Initialises an emitter; with dedupe, bars at or before the last one emitted for the
 * same ticker are dropped and counted. Freed by fin_emitter_fini. */
int fin_emitter_init(struct fin_emitter *em, const struct fin_record_format *fmt,
                     const struct fin_record_sink *sink, bool dedupe);
/* The de-duplication memory, kept in a file so that a schedule, or a run repeated on the
 * same window, emits only new bars even across restarts. Lines of "TICKER<TAB>unix-seconds".
 * Loading a missing file is not an error. Saving replaces the file atomically: call it
 * after the sink has made the records durable. */
int fin_emitter_load_seen(struct fin_emitter *em, const char *path);
int fin_emitter_save_seen(const struct fin_emitter *em, const char *path);
void fin_emitter_fini(struct fin_emitter *em);
int fin_emit_bar(struct fin_emitter *em, const struct fin_bar *bar);
/* For sources that replay whole objects: with de-duplication on, true when the object
 * (path, size and modification time) was sent before, counting it as seen; otherwise
 * marks it as sent and returns false. Always false without de-duplication. */
bool fin_emit_object_seen(struct fin_emitter *em, const char *path, int64_t size, int64_t mtime);
/* How many tickers (partition keys) have had records emitted. */
size_t fin_emitter_tickers(const struct fin_emitter *em);
/* A record the source already has as JSON (replay): put as it is, keyed by key. */
int fin_emit_raw(struct fin_emitter *em, const char *key, size_t key_len, const char *rec, size_t len);
/* Reports bad input (the message names the place: file and line, record) and counts it. */
void fin_emit_bad(struct fin_emitter *em, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- settings: the [collector "NAME"] section and the command line ---- */

struct fin_collect_settings {
    char *source;        /* sim | yahoo | csv:PATH | replay:PATH */
    char *tickers;       /* comma-separated */
    char *interval;      /* 1m | 5m | 15m | 1h | 1d */
    char *date;          /* YYYY-MM-DD, or empty */
    char *start, *end;   /* window bounds, or empty */
    int64_t every_ms;    /* 0: run once */
    char *to;            /* stdout | file:PATH | stream:NAME | delivery:NAME */
    char *fields;        /* record fields, comma-separated */
    int64_t seed;        /* simulator seed */
    char *yahoo_url;     /* base URL of the chart API */
    int64_t timeout_ms;  /* per HTTP request */
    int64_t retries;     /* attempts after the first, for retriable failures */
    int64_t backoff_ms;  /* first retry delay; doubles up to backoff_max_ms, with jitter */
    int64_t backoff_max_ms;
    int64_t csv_max_line;  /* csv source: longest record in bytes; longer ones are refused */
};

/* The csv source's default csv_max_line. */
#define FIN_CSV_MAX_LINE (1 << 20)

extern const struct fin_opt fin_collect_opts[];

/* The interval in seconds for "1m" ... "1d"; FIN_EINVAL otherwise. */
int fin_interval_seconds(const char *interval, int *seconds);

/* ---- sources ---- */

struct fin_window {
    int64_t start;     /* UTC seconds, inclusive */
    int64_t end;       /* UTC seconds, exclusive */
    int interval_s;
};

struct fin_source;

struct fin_source_ops {
    const char *name;
    /* arg is what follows "name:" in the source setting (or ""). */
    int (*create)(struct fin_source **out, const char *arg, const struct fin_collect_settings *set);
    /* Emits the bars of the window for the tickers. A failure for one ticker is reported
     * (stats.tickers_failed) and the others go on; the return value is for failures that
     * stop everything. */
    int (*collect)(struct fin_source *s, const char *const *tickers, size_t n_tickers,
                   const struct fin_window *w, struct fin_emitter *em);
    void (*destroy)(struct fin_source *s);
};

extern const struct fin_source_ops fin_source_sim;
extern const struct fin_source_ops fin_source_yahoo;
extern const struct fin_source_ops fin_source_csv;
extern const struct fin_source_ops fin_source_replay;

/* The ops for a source setting ("sim", "yahoo", "csv:...", "replay:..."); *arg points
 * into spec after the colon. NULL with a message for an unknown source. */
const struct fin_source_ops *fin_source_lookup(const char *spec, const char **arg);

/* The classic ten tickers. */
#define FIN_CLASSIC_TICKERS "FB,SHOP,BYND,NFLX,PINS,SQ,TTD,OKTA,SNAP,DDOG"

/* ---- the driver ---- */

struct fin_clock;

/* The default date of a collection with no window: the classic day for the simulator
 * (so a first run reproduces the classic exercise), the current day otherwise. */
#define FIN_SIM_DEFAULT_DATE "2020-05-14"

/* Works out the window from settings: date, or start/end, or (live, for schedules) from
 * the start of the current New York day to now, holding only complete bars. clock may be
 * NULL (the real clock). */
int fin_collect_window(const struct fin_collect_settings *set, const struct fin_clock *clock,
                       bool live, struct fin_window *w);

/* Splits set->tickers into a NULL-terminated array; *tickers and *storage are owned by the
 * caller (free() both). */
int fin_collect_tickers(const struct fin_collect_settings *set, char ***tickers, char **storage,
                        size_t *n);

/* One collection: creates the source, emits the window's bars for the tickers, destroys it. */
int fin_collect_once(const struct fin_collect_settings *set, const struct fin_window *w,
                     struct fin_emitter *em);

#endif
