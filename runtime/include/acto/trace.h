/* Tracing: the runtime records what happens to messages and actors.
 *
 * With tracing on, the runtime writes a fixed-size event per happening
 * (spawn, stop, send, handle begin and end, park and unpark, failure,
 * restart, future resolve, timer set and fire, dead letter, drop) into a
 * preallocated ring on the loop's thread, and hands filled parts of the
 * ring to a sink in batches, off the hot path (between scheduler turns
 * once a few thousand events wait, at the end of a scheduler round, or
 * when the ring is half full). protocols/ implements the sink
 * that writes the msgpack trace file; tests and tools may use their own.
 *
 * Causality without user code: every message carries a flow id (the id of
 * the message that started the flow) and a causal parent (the message
 * being handled when it was sent, or the future or timer that caused it),
 * so whole flows can be rebuilt across actors, futures and timers.
 *
 * Overload never blocks actors. Modes: ACTO_TRACE_DROP_NEW (the default)
 * drops events when the ring is full and records exactly how many, as a
 * drop event when there is room again; ACTO_TRACE_FLIGHT keeps the last N
 * events in memory and writes them only on acto_trace_dump (and on a
 * failure, if asked); ACTO_TRACE_BLOCK hands the ring to the sink as soon
 * as it is full (for tests: nothing is lost). Sampling keeps whole flows
 * or none, decided when a flow starts; the handlers of a flow sampled out
 * run as with tracing off. Off, tracing costs a branch.
 *
 * Thread: the system's loop thread.
 */
#ifndef ACTO_TRACE_H
#define ACTO_TRACE_H

#include <acto/ref.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct acto_system acto_system;

/* What an event records. The numbers are part of the trace file format:
 * never renumber, only add. */
typedef enum acto_trace_kind {
    ACTO_TRACE_SPAWN = 1,  /* actor: the new one; peer: its parent; flow,
                              cause: the message being handled */
    ACTO_TRACE_STOP,       /* actor; arg: the acto_exit_kind; flow, cause:
                              what made it stop (the notices its stop
                              sends follow it) */
    ACTO_TRACE_SEND,       /* actor: sender (none from outside); peer:
                              receiver; msg, type; arg: the receiver's
                              mailbox depth after the send. A reply to an
                              ask goes to the ask ref (slot UINT32_MAX) */
    ACTO_TRACE_HANDLE,     /* handling began: actor; msg, type. Straight
                              after the scheduler's HANDLED (nothing else
                              handled or recorded between) it has that
                              stamp: the scheduling between counts as
                              this handling's */
    ACTO_TRACE_HANDLED,    /* handling ended: actor; msg; arg: 0 or the
                              negative error code */
    ACTO_TRACE_PARK,       /* actor: the sender parked; peer: the full
                              receiver; msg */
    ACTO_TRACE_UNPARK,     /* actor: the sender; peer: the receiver; msg */
    ACTO_TRACE_FAIL,       /* actor; msg: the one it was handling; arg: the
                              negative error code */
    ACTO_TRACE_RESTART,    /* actor: the new child; peer: its supervisor;
                              cause: the message whose failure led to it */
    ACTO_TRACE_FUTURE,     /* a future resolved: msg: the future's id; arg:
                              its acto_future_state; cause: what resolved
                              it (a reply, the message being handled, or
                              0); its continuations have that cause */
    ACTO_TRACE_TIMER_SET,  /* actor: who set it; msg: the timer's message;
                              arg: the delay in ms (capped at UINT32_MAX) */
    ACTO_TRACE_TIMER_FIRE, /* msg: the timer's message; peer: receiver */
    ACTO_TRACE_DEAD,       /* a dead letter: peer: the dead receiver; msg */
    ACTO_TRACE_DROP,       /* a drop-policy mailbox dropped msg; peer (or
                              a late reply; peer: the ask ref) */
    ACTO_TRACE_LOST        /* the ring was full: arg events were lost
                              before this one (no other field) */
} acto_trace_kind;

/* One event: 64 bytes, written on the hot path as one store sequence. */
typedef struct acto_trace_event {
    uint64_t ts;    /* monotonic nanoseconds (virtual time: ms * 1e6) */
    uint64_t flow;  /* the flow's id: its first message's id (0: none) */
    uint64_t msg;   /* the message (or future, or timer message) id */
    uint64_t cause; /* the causal parent's message id (0: none) */
    uint64_t actor; /* acto_ref id of the actor it happened on */
    uint64_t peer;  /* acto_ref id of the other actor, per kind */
    uint32_t type;  /* the message type, per kind */
    uint32_t arg;   /* per kind, see acto_trace_kind */
    uint16_t kind;  /* acto_trace_kind */
    uint16_t flags; /* reserved, 0 */
    uint32_t pad;   /* 0 */
} acto_trace_event;

/* Receives events in order, in batches, on the loop thread. events is
 * borrowed for the call. Returns 0, or a negative error: tracing then
 * stops (the sink is closed) and the error is reported to the system's
 * exception handler. */
typedef int (*acto_trace_write_fn)(const acto_trace_event *events, size_t n,
                                   void *user);

/* Called once when tracing stops (acto_trace_stop, the system closing),
 * after the last write; frees the sink's resources. */
typedef void (*acto_trace_close_fn)(void *user);

/* An actor's name for traces (its label or registered name), to resolve
 * refs into names in files; the sink gets it on spawn and when a name is
 * registered. Borrowed for the call. */
typedef void (*acto_trace_name_fn)(acto_ref actor, const char *name,
                                   void *user);

/* A message type's name for traces (acto_msg_type_name): the sink gets
 * every name when tracing starts, and each one given while it is on.
 * Borrowed for the call. */
typedef void (*acto_trace_type_fn)(uint32_t type, const char *name, void *user);

typedef struct acto_trace_sink {
    acto_trace_write_fn write; /* required */
    acto_trace_close_fn close; /* optional */
    acto_trace_name_fn name;   /* optional */
    void *user;
    acto_trace_type_fn type_name; /* optional */
} acto_trace_sink;

typedef enum acto_trace_mode {
    ACTO_TRACE_DROP_NEW = 0,
    ACTO_TRACE_FLIGHT,
    ACTO_TRACE_BLOCK
} acto_trace_mode;

typedef struct acto_trace_opts {
    acto_trace_mode mode;
    uint32_t ring_events; /* the ring's size in events, rounded up to a
                             power of two; 0: 65536 (4 MiB) */
    double sample;        /* the share of flows kept, 0..1; 0: all.
                             Sampling keeps no flow that began before
                             tracing started (its root went unseen) */
    uint64_t seed;        /* for sampling decisions (repeatable) */
    bool dump_on_failure; /* FLIGHT: dump when an actor fails */
    const char *only;     /* trace only actors whose label matches this
                             pattern (fnmatch, e.g. "parser*"); NULL:
                             all. Copied. */
    const char *except;   /* never trace actors whose label matches */
} acto_trace_opts;

/* acto_trace_start turns tracing on for sys with sink (copied). opts may
 * be NULL (the defaults). Returns 0; ACTO_EINVAL (no write function, a
 * sample outside 0..1, an unknown mode); ACTO_EALREADY (already on: stop
 * it first); ACTO_ENOMEM. */
int acto_trace_start(acto_system *sys, const acto_trace_sink *sink,
                     const acto_trace_opts *opts);

/* acto_trace_stop hands what the ring holds to the sink (not in FLIGHT
 * mode: there only acto_trace_dump writes), closes the sink and turns
 * tracing off. Returns 0, or ACTO_EALREADY when it is off. */
int acto_trace_stop(acto_system *sys);

/* acto_trace_flush hands what the ring holds to the sink now (DROP_NEW,
 * BLOCK). Returns 0; ACTO_EALREADY when off; the sink's error. */
int acto_trace_flush(acto_system *sys);

/* acto_trace_dump writes a FLIGHT ring's last events to the sink. Returns
 * 0; ACTO_EINVAL in another mode; ACTO_EALREADY when off. */
int acto_trace_dump(acto_system *sys);

/* acto_trace_enabled tells whether tracing is on. */
bool acto_trace_enabled(const acto_system *sys);

/* Tracing any program without code changes: ACTO_TRACE=path (with
 * ACTO_TRACE_SAMPLE=0.01, ACTO_TRACE_MODE=flight|drop|block) makes every
 * system start tracing when it is made, through the sink factory a
 * library registered (protocols' trace file writer registers one when it
 * is linked in). The factory makes a sink for path; returns 0 or an
 * error (then the system starts untraced and reports it on stderr). */
typedef int (*acto_trace_sink_factory)(const char *path, acto_trace_sink *out);

/* acto_trace_set_env_factory registers the factory ACTO_TRACE uses (the
 * last one registered wins; NULL unregisters). Thread: before any system
 * is made (a library constructor). */
void acto_trace_set_env_factory(acto_trace_sink_factory factory);

/* acto_trace_emit records an event a library knows of (the supervisor
 * records restarts with it), in the flow of the message being handled;
 * nothing when tracing is off. */
void acto_trace_emit(acto_system *sys, acto_trace_kind kind, acto_ref actor,
                     acto_ref peer, uint64_t msg, uint64_t cause, uint32_t arg);

/* Counters: events recorded, events lost to a full ring. */
typedef struct acto_trace_stats {
    uint64_t recorded;
    uint64_t lost;
    uint64_t flows_kept;
    uint64_t flows_skipped;
} acto_trace_stats;

void acto_trace_get_stats(const acto_system *sys, acto_trace_stats *out);

#endif /* ACTO_TRACE_H */
