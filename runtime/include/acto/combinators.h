/* Combinators over acto_future: asyncio's gather, wait, as_completed,
 * wait_for, shield and TaskGroup.
 *
 * Each combinator watches its members through done callbacks and completes
 * a future of its own (out), so it inherits the future contract: out's
 * callbacks run from the system's loop, never inside the call that made out
 * nor inside the call that completed a member, and never re-entered.
 *
 * Common rules. Every function that makes out returns it with one
 * reference, the caller's. Members are borrowed from the caller and
 * retained by the combinator while it needs them (and by out's result when
 * the result refers to them). A combinator stays alive until it completed
 * and its watches are gone; a member that never completes keeps it alive,
 * as in asyncio (cancel out, or close the system, to end it). Members must
 * belong to sys; a NULL member or one of another system is ACTO_EINVAL. An
 * error return (ACTO_EINVAL, ACTO_ENOMEM, ACTO_ECLOSED) changes nothing:
 * no member is cancelled, watched or retained, and *out is untouched.
 *
 * Timeouts run on the system's timers, so virtual time drives them
 * (acto_system_advance): a timeout of t ms fires exactly when the clock
 * has moved t ms past the call; a pending timeout costs no allocation and
 * no libuv handle. A timeout of 0 means none.
 *
 * Thread: the system's loop thread only.
 */
#ifndef ACTO_COMBINATORS_H
#define ACTO_COMBINATORS_H

#include <acto/future.h>
#include <acto/system.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- gather ----------------------------------------------------------- */

/* One member's outcome in an acto_gather_result. */
typedef struct acto_gather_item {
    acto_future *future;     /* the member (kept alive by the result) */
    acto_future_state state; /* DONE, FAILED or CANCELLED */
    void *value;             /* DONE: the member's value, borrowed */
    const acto_error *error; /* FAILED: the member's error, borrowed */
} acto_gather_item;

/* The result of a gather: one item per member, in argument order. */
typedef struct acto_gather_result {
    size_t n;
    acto_gather_item items[];
} acto_gather_result;

/* acto_gather completes *out once every member is done, with an
 * acto_gather_result (argument order) as its value.
 * Without return_exceptions, the first member to fail fails out with a
 * copy of its error, and a member cancelled fails out with ACTO_ECANCELED
 * ("CancelledError"); unlike asyncio, the members still pending are then
 * cancelled. With return_exceptions, failed and cancelled members are
 * recorded in their items and out succeeds. Cancelling out cancels every
 * member still pending (as asyncio). n == 0 completes out at once.
 * Returns 0 and sets *out; ACTO_EINVAL; ACTO_ENOMEM; ACTO_ECLOSED.
 * Ownership: *out is the caller's (one reference). The result is out's and
 * freed with it; it holds a reference to every member, so the items'
 * values and errors stay valid while out lives. The gather reads the
 * errors it reports, so they no longer count as never retrieved.
 * Thread: loop thread. */
int acto_gather(acto_system *sys, acto_future *const *members, size_t n,
                bool return_exceptions, acto_future **out);

/* ---- wait ------------------------------------------------------------- */

typedef enum acto_wait_mode {
    ACTO_WAIT_FIRST_COMPLETED = 0, /* any member done */
    ACTO_WAIT_FIRST_EXCEPTION,     /* any member failed (not cancelled),
                                      or all done */
    ACTO_WAIT_ALL_COMPLETED        /* every member done */
} acto_wait_mode;

/* The result of a wait: the members done and those still pending when the
 * wait ended, each set in argument order (a member given twice appears
 * twice). */
typedef struct acto_wait_result {
    size_t n_done;
    acto_future **done;
    size_t n_pending;
    acto_future **pending;
} acto_wait_result;

/* acto_wait completes *out, with an acto_wait_result as its value, once
 * mode's condition holds or timeout_ms (0: none) passed, whichever comes
 * first; a timeout is not an error. It cancels nothing, neither on timeout
 * nor when out is cancelled (then it just stops watching). n == 0
 * completes out at once with empty sets.
 * Returns 0 and sets *out; ACTO_EINVAL (also for an unknown mode);
 * ACTO_ENOMEM; ACTO_ECLOSED.
 * Ownership: *out is the caller's; the result is freed with out and holds
 * a reference to every member in its sets. It does not read the members'
 * errors. Thread: loop thread. */
int acto_wait(acto_system *sys, acto_future *const *members, size_t n,
              acto_wait_mode mode, uint64_t timeout_ms, acto_future **out);

/* ---- as_completed ----------------------------------------------------- */

/* Delivers one member of acto_as_completed. member is borrowed for the
 * call (retain it to keep it); index is its position in the arguments.
 * status is 0 when member is done (read its outcome), ACTO_ETIMEDOUT when
 * the overall timeout came first, ACTO_ECANCELED when out was cancelled
 * first; in the last two cases member may still be pending. */
typedef void (*acto_as_completed_cb)(acto_future *member, size_t index,
                                     int status, void *user);

/* acto_as_completed calls cb once per member, in the order the members
 * complete. After timeout_ms (0: none) the members not yet delivered are
 * delivered at once, in argument order, with ACTO_ETIMEDOUT; if out is
 * cancelled they are delivered with ACTO_ECANCELED. No member is ever
 * cancelled. *out completes after the last delivery: with a NULL value
 * when every member completed in time, failed with ACTO_ETIMEDOUT after a
 * timeout. n == 0 completes out at once and never calls cb.
 * A callback rather than an iterator of futures: delivering a timed-out
 * member needs no allocation at timeout time and cannot fail, and the
 * status keeps the exactly-once contract for every member.
 * Returns 0 and sets *out; ACTO_EINVAL (also a NULL cb); ACTO_ENOMEM;
 * ACTO_ECLOSED. On error cb never runs; on 0 it runs exactly n times,
 * never inside this call.
 * Ownership: *out is the caller's. Thread: loop thread. */
int acto_as_completed(acto_system *sys, acto_future *const *members, size_t n,
                      uint64_t timeout_ms, acto_as_completed_cb cb, void *user,
                      acto_future **out);

/* ---- wait_for and shield ---------------------------------------------- */

/* acto_wait_for completes *out with f's outcome: f's value (borrowed: out
 * keeps f alive while it holds the value), a copy of f's error, or
 * cancelled. If f is not done after timeout_ms (0: none), f is cancelled
 * and out fails with ACTO_ETIMEDOUT ("TimeoutError"). Cancelling out
 * cancels f (as asyncio).
 * Returns 0 and sets *out; ACTO_EINVAL; ACTO_ENOMEM; ACTO_ECLOSED.
 * Ownership: *out is the caller's; f stays the caller's.
 * Thread: loop thread. */
int acto_wait_for(acto_system *sys, acto_future *f, uint64_t timeout_ms,
                  acto_future **out);

/* acto_shield completes *out with f's outcome, as acto_wait_for without a
 * timeout, but cancelling out leaves f running: only out is cancelled. As
 * in asyncio, an error f reports after out was cancelled is marked
 * retrieved (nobody can read it through out any more).
 * Returns 0 and sets *out; ACTO_EINVAL; ACTO_ENOMEM; ACTO_ECLOSED.
 * Ownership: *out is the caller's; f stays the caller's.
 * Thread: loop thread. */
int acto_shield(acto_system *sys, acto_future *f, acto_future **out);

/* ---- groups (asyncio.TaskGroup) --------------------------------------- */

typedef struct acto_group acto_group;

/* acto_group_new makes an open, empty group.
 * Returns 0 and sets *out; ACTO_EINVAL; ACTO_ENOMEM; ACTO_ECLOSED.
 * Ownership: the group is the caller's until acto_group_free.
 * Thread: loop thread. */
int acto_group_new(acto_system *sys, acto_group **out);

/* acto_group_add makes f a member (f is retained). The first member to
 * fail (not one cancelled) aborts the group: every other member still
 * pending is cancelled.
 * Returns 0; ACTO_EINVAL (NULL, or f of another system); ACTO_ECLOSED
 * after acto_group_close; ACTO_ECANCELED once the group aborted (failed
 * or cancelled: f is neither added nor cancelled); ACTO_ENOMEM.
 * Ownership: f stays the caller's; the group holds its own reference.
 * Thread: loop thread. */
int acto_group_add(acto_group *g, acto_future *f);

/* acto_group_close ends the group's membership and returns, in *done, a
 * future that completes only once every member is done: with a NULL value
 * if none failed; failed with a copy of the first member error if any
 * failed (acto_group_errors lists them all); cancelled if the group was
 * cancelled and none failed. Cancelling done cancels the group's members,
 * but done itself is then complete at once: use acto_group_cancel to
 * cancel and still wait for them.
 * Returns 0 and sets *done; ACTO_EINVAL; ACTO_ECLOSED if already closed;
 * ACTO_ENOMEM (the group stays open).
 * Ownership: *done is the caller's (one reference). Thread: loop thread. */
int acto_group_close(acto_group *g, acto_future **done);

/* acto_group_cancel cancels every member still pending and aborts the
 * group (later adds fail); done, once closed, completes when they are.
 * Returns 0, or ACTO_EDONE when the group already finished. */
int acto_group_cancel(acto_group *g);

/* acto_group_errors writes up to cap member errors, in the order the
 * members failed, to errs (may be NULL when cap is 0) and returns how
 * many errors there are in all. The errors are borrowed from the members
 * and valid until acto_group_free. */
size_t acto_group_errors(const acto_group *g, const acto_error **errs,
                         size_t cap);

/* acto_group_free drops the caller's handle. A group never closed is
 * cancelled first; a closed group's done future still completes as
 * described. The group's memory goes once no member is pending.
 * NULL is ignored. Ownership: g must not be used afterwards.
 * Thread: loop thread. */
void acto_group_free(acto_group *g);

#endif /* ACTO_COMBINATORS_H */
