/* Private to protocols/: the trace reader's fast path, the common case of
 * decoding events without error reporting (tracefile_fast.c). */
#ifndef ACTO_TRACEFILE_FAST_H
#define ACTO_TRACEFILE_FAST_H

#include "tracefile_int.h"

#include <acto/trace.h>

#include <stddef.h>
#include <stdint.h>

/* The most acto__tf_fast_run reads of one event: an array header and up
 * to 11 integers of up to 9 bytes each, whatever their values (another
 * writer may use long encodings). It reads no further: each value is read
 * with the 9 bytes from its start (a value starts at most 9 * 10 bytes
 * after the header), and the fields' fixint test reads the 8 bytes from
 * the first field (at most 28 bytes in). */
#define ACTO__TF_FAST_EVENT_BYTES (1 + (3 + ACTO__TF_NFIELDS) * 9)

/* A chunk's delta state (TRACE-FORMAT.md) and actor table. */
typedef struct acto__tf_fast {
    uint64_t ts, msg0, fut0, flow0, hmsg, lost;
    const uint64_t *actors; /* by index: [0] is 0 (no actor) */
    uint64_t n_actors;
} acto__tf_fast;

/* Decodes up to cap events from *pp into out, each with all its bytes
 * there and every value in range: while *pp < lim, where
 * ACTO__TF_FAST_EVENT_BYTES from *pp are readable. Each event is checked
 * whole before *st takes it. Returns how many, *pp after the last; it
 * stops at the first event it cannot vouch for (the caller then decodes
 * that one carefully, and so says what is wrong). */
size_t acto__tf_fast_run(const uint8_t **pp, const uint8_t *lim,
                         acto__tf_fast *st, acto_trace_event *out, size_t cap);

#endif
