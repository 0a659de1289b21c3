/* sinks.h - where the collector's records go: stdout, a file, a stream, a delivery stream.
 * Shared by finstream collect and finstream run. */
#ifndef FINSTREAM_CLI_SINKS_H
#define FINSTREAM_CLI_SINKS_H

#include "finstream/collector.h"

#include <stdint.h>

struct fin_sink;

/* Opens the sink named by to ("stdout", "file:PATH", "stream:NAME", "delivery:NAME",
 * "kinesis:STREAM", "firehose:DELIVERY").
 * A stream that does not exist is created from its [stream "NAME"] section of the
 * configuration (or the defaults). Freed by fin_sink_close. */
int fin_sink_open(struct fin_sink **out, const char *data_dir, const char *config, const char *to);

/* The record sink to hand to an emitter; borrowed until close. */
const struct fin_record_sink *fin_sink_records(struct fin_sink *s);

/* True for sinks that keep records durably (streams, delivery streams): the collector then
 * remembers what it emitted across runs, so a repeated run adds no duplicate. */
bool fin_sink_is_durable(const struct fin_sink *s);

/* A line for the run summary, e.g. "3,900 appended to stocks (2 shards)"; "" if none. */
const char *fin_sink_describe(struct fin_sink *s, uint64_t records);

/* Flushes and frees; returns the flush's result. Accepts NULL. */
int fin_sink_close(struct fin_sink *s);

#endif
