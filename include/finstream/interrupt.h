/* interrupt.h - Ctrl-C and SIGTERM end any command promptly.
 *
 * The command line installs one handler for SIGINT and SIGTERM. The handler only sets a
 * flag and writes a byte to a pipe; everything else happens in ordinary code:
 *
 *   - the real clock's sleep (fin_clock_real) waits on that pipe, so every back-off,
 *     retry delay and polling pause ends the moment a signal arrives;
 *   - long loops ask fin_interrupted() between steps and stop with FIN_ECANCELED;
 *   - work that blocks inside a library (a DuckDB query, a libcurl transfer or DNS
 *     look-up) registers a watch: a small thread calls it when the signal comes, and
 *     again every 50 ms while the work is still running (so a watch registered just as
 *     the signal arrived is not missed).
 *
 * What was already acknowledged stays: callers flush and close as on any error. A second
 * signal while the first is being handled ends the process at once (exit status 130).
 * Without fin_interrupt_install nothing changes: fin_interrupted() is always false. */
#ifndef FINSTREAM_INTERRUPT_H
#define FINSTREAM_INTERRUPT_H

#include <signal.h>
#include <stdbool.h>

/* Installs the handlers for SIGINT and SIGTERM. Idempotent.
 * Returns 0 or a FIN_E* code. */
int fin_interrupt_install(void);

/* True once SIGINT or SIGTERM arrived (or fin_interrupt_raise was called). */
bool fin_interrupted(void);

/* The signal that arrived (SIGINT, SIGTERM), 0 when none. */
int fin_interrupt_signal(void);

/* The flag the handler sets, for APIs that take a stop flag (delivery's run options). */
volatile sig_atomic_t *fin_interrupt_flag(void);

/* Sets the flag as a signal would (tests, and code that wants to stop everything). */
void fin_interrupt_raise(void);

/* Sleeps ns nanoseconds or until an interrupt, whichever comes first. Returns 0, or
 * FIN_ECANCELED when interrupted (also when it already was on entry). */
int fin_interrupt_sleep_ns(long long ns);

/* Registers fn(ctx), called from the watcher thread when an interrupt comes while the
 * watch is registered (and every 50 ms after, until it is removed). fn must be safe to
 * call from another thread (duckdb_interrupt, setting an atomic). Returns a handle for
 * fin_interrupt_unwatch, or -1 when the table is full or nothing is installed (the work
 * then simply runs to its end). */
int fin_interrupt_watch(void (*fn)(void *ctx), void *ctx);
void fin_interrupt_unwatch(int handle);

/* "interrupted (SIGINT)": the message a command prints when it stops for a signal;
 * records it as the error detail and returns FIN_ECANCELED. */
int fin_interrupt_error(void);

#endif
