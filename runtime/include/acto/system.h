/* acto_system: actors on one libuv loop.
 *
 * A system runs every actor's code on its loop's thread, so handlers never
 * need locks. The loop is the system's own or one the caller already runs
 * (acto then lives beside the caller's own handles and leaves nothing open
 * once closed). Other threads reach actors only through
 * acto_send_threadsafe.
 *
 * The scheduler runs from a loop handle: each loop iteration it drains the
 * run queue for at most a time slice (default 1 ms), running many actor
 * turns, then returns to the loop so timers and I/O run on time.
 */
#ifndef ACTO_SYSTEM_H
#define ACTO_SYSTEM_H

#include <acto/msg.h>
#include <acto/ref.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct acto_system acto_system;

/* A failure: a value, copied into messages and reports. */
struct acto_error {
    int code;            /* a negative ACTO_E* (or libuv) code */
    const char *type;    /* exception type name, e.g. "ParseError" */
    const char *text;    /* what went wrong, in words */
    acto_ref origin;     /* the actor that failed */
    const acto_msg *msg; /* the message it was handling, kept aside
                            ("quarantined"); NULL if none */
};

typedef struct acto_system_opts {
    uv_loop_t *loop;              /* NULL: the system makes its own */
    uint8_t shard;                /* goes into every ref; default 0 */
    uint32_t slice_us;            /* scheduler time slice; 0: 1000 */
    bool virtual_time;            /* the clock moves only by
                                     acto_system_advance */
    bool debug;                   /* debug mode (also ACTO_DEBUG=1) */
    uint32_t slow_handler_ms;     /* debug: warn above this; 0: 100 */
    uint32_t mailbox_high_water;  /* debug: warn when a mailbox grows past
                                     this many messages; 0: 10000 */
    uint32_t threadsafe_capacity; /* messages from other threads in flight
                                     at once; 0: 65536 */
} acto_system_opts;

/* Receives a failure nobody else received (asyncio's exception handler):
 * an actor without a live parent failed. The error is borrowed. */
typedef void (*acto_exception_fn)(acto_system *sys, const acto_error *err,
                                  void *user);

typedef void (*acto_system_close_cb)(acto_system *sys, void *user);

/* Counters, exact: sent = handled + dead_letters + dropped + queued, where
 * queued counts messages still in mailboxes or parked. */
typedef struct acto_stats {
    uint64_t spawned;
    uint64_t stopped;
    uint64_t live;         /* actors alive now */
    uint64_t sent;         /* messages accepted by a send */
    uint64_t handled;      /* messages given to a handler */
    uint64_t dead_letters; /* sent to a dead actor, or left in a mailbox
                              when its actor stopped */
    uint64_t dropped;      /* dropped by a drop-oldest/newest mailbox */
    uint64_t queued;       /* in mailboxes or parked, not yet handled */
    uint64_t failures;     /* handlers that failed */
    uint64_t parks;        /* sends that had to wait for room */
    uint64_t late_replies; /* replies to asks that had timed out or were
                              cancelled (counted in dropped too) */
    uint64_t futures;      /* futures alive now (made and not yet freed) */
} acto_stats;

/* acto_system_alloc creates a system. opts may be NULL (own loop, real
 * time). Returns 0 and sets *out; ACTO_EINVAL; ACTO_ENOMEM; a libuv error.
 * Ownership: the caller owns the system until acto_system_close or
 * acto_system_free. A borrowed loop stays the caller's; acto adds a few
 * handles to it, unreferenced while there is nothing to do.
 * Thread: the loop's thread. */
int acto_system_alloc(const acto_system_opts *opts, acto_system **out);

/* acto_system_run runs the loop until acto_system_stop or until nothing is
 * left to do (no runnable actor, no timer, no other active handle).
 * Returns 0, or ACTO_ECLOSED once closing. Thread: the loop's thread. */
int acto_system_run(acto_system *sys);

/* acto_system_stop makes acto_system_run return after the current loop
 * iteration. Thread: the loop's thread. */
void acto_system_stop(acto_system *sys);

/* acto_system_close stops every actor (stop hooks run with reason
 * ACTO_EXIT_SHUTDOWN, mailboxes become dead letters), cancels timers,
 * closes the system's handles and, once they are closed, calls cb (may be
 * NULL) and frees the system. The loop must run for that to happen.
 * Returns 0, or ACTO_ECLOSED if already closing. Ownership: sys must not
 * be used after cb starts. Thread: the loop's thread, outside handlers. */
int acto_system_close(acto_system *sys, acto_system_close_cb cb, void *user);

/* acto_system_free closes a system that owns its loop and returns once all
 * is freed, loop included. Returns 0; ACTO_EINVAL for a borrowed loop (use
 * acto_system_close); ACTO_ECLOSED if already closing.
 * Thread: the loop's thread, outside handlers. */
int acto_system_free(acto_system *sys);

/* The loop the system runs on. */
uv_loop_t *acto_system_loop(const acto_system *sys);

/* acto_system_set_exception_handler replaces the default handler (which
 * prints the error to stderr); fn NULL restores it. Thread: loop thread. */
void acto_system_set_exception_handler(acto_system *sys, acto_exception_fn fn,
                                       void *user);

/* The system's clock in milliseconds: the loop's time, or the virtual time
 * with opts.virtual_time. Thread: loop thread. */
uint64_t acto_system_now(const acto_system *sys);

/* acto_system_advance moves virtual time forward by ms and fires every
 * timer now due, in due order (their messages are delivered; run the loop
 * to handle them). Returns 0, or ACTO_EINVAL without virtual time.
 * Thread: loop thread, outside handlers. */
int acto_system_advance(acto_system *sys, uint64_t ms);

/* acto_system_stats copies the counters. Thread: loop thread. */
void acto_system_stats(const acto_system *sys, acto_stats *out);

/* acto_system_debug tells whether debug mode is on (opts.debug,
 * ACTO_DEBUG=1 or acto_system_set_debug): dead letters, handlers slower
 * than opts.slow_handler_ms, mailboxes growing past
 * opts.mailbox_high_water and never-retrieved future errors (with where
 * the future was created) are then reported on stderr or to the exception
 * handler. */
bool acto_system_debug(const acto_system *sys);

/* acto_system_set_debug turns debug mode on or off at run time. */
void acto_system_set_debug(acto_system *sys, bool on);

/* acto_system_set_keep_alive keeps the loop running while the system is
 * idle (on) or lets it end when nothing is left to do (off, the default).
 * Turn it on while other threads may still send: the loop cannot see their
 * future sends. Thread: loop thread. */
void acto_system_set_keep_alive(acto_system *sys, bool on);

/* acto_send_threadsafe sends a copy of len bytes as a message of type from
 * any thread. It reaches the loop through a lock-free queue and an async
 * wake-up; a full mailbox makes it wait for room (it is never dropped by a
 * park-policy mailbox). Returns 0; ACTO_EQUEUEFULL when
 * opts.threadsafe_capacity messages are already in flight; ACTO_ENOMEM;
 * ACTO_ECLOSED once the system is closing; ACTO_EINVAL.
 * Ownership: data is copied. A message to a dead actor is a dead letter.
 * Thread: any thread. The system must outlive the call: stop other
 * threads' sends before closing it. */
int acto_send_threadsafe(acto_system *sys, acto_ref to, uint32_t type,
                         const void *data, size_t len);

#endif /* ACTO_SYSTEM_H */
