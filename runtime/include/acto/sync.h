/* acto_event and acto_semaphore: asyncio's Event, Semaphore and
 * BoundedSemaphore, with futures in place of awaits.
 *
 * A call that may have to wait returns a future (one reference, the
 * caller's). It completes, through its done callbacks and never inside the
 * call, with a NULL result when the wait is over; with ACTO_ECANCELED when
 * it was cancelled or the object was freed while it waited. Cancel a wait
 * with acto_future_cancel: the waiter is removed, and for a semaphore no
 * permit is ever lost (see acto_semaphore_acquire). A wait future only
 * dropped (acto_future_release) without being cancelled keeps waiting, and
 * the permit it may later receive is lost with it: cancel before dropping.
 *
 * Thread: every function here must be called on the system's loop thread.
 */
#ifndef ACTO_SYNC_H
#define ACTO_SYNC_H

#include <acto/future.h>
#include <acto/system.h>
#include <stdbool.h>

typedef struct acto_event acto_event;
typedef struct acto_semaphore acto_semaphore;

/* ---- events (asyncio.Event) ------------------------------------------- */

/* acto_event_new makes an event, initially clear.
 * Returns 0 and sets *out; ACTO_EINVAL for a NULL sys or out; ACTO_ENOMEM.
 * Ownership: the event is the caller's until acto_event_free.
 * Thread: loop thread. */
int acto_event_new(acto_system *sys, acto_event **out);

/* acto_event_free frees ev (NULL is ignored). Waits still pending complete
 * with ACTO_ECANCELED (their callbacks run later, from the loop).
 * Ownership: ev must not be used afterwards; wait futures stay valid for
 * whoever holds references to them.
 * Thread: loop thread. */
void acto_event_free(acto_event *ev);

/* acto_event_set sets ev and completes every pending wait. Setting a set
 * event does nothing. Thread: loop thread. */
void acto_event_set(acto_event *ev);

/* acto_event_clear clears ev: later waits wait for the next set.
 * Thread: loop thread. */
void acto_event_clear(acto_event *ev);

/* acto_event_is_set tells whether ev is set. Thread: loop thread. */
bool acto_event_is_set(const acto_event *ev);

/* acto_event_wait returns a future that completes (NULL result) once ev is
 * set: at once, still through its callbacks, when ev is already set.
 * Cancelling the future removes the waiter.
 * Returns 0 and sets *out; ACTO_EINVAL; ACTO_ENOMEM; ACTO_ECLOSED (the
 * system is closing). On error nothing changes.
 * Ownership: *out is one reference, the caller's (acto_future_release).
 * Thread: loop thread. */
int acto_event_wait(acto_event *ev, acto_future **out);

/* ---- semaphores (asyncio.Semaphore, asyncio.BoundedSemaphore) --------- */

/* acto_semaphore_new makes a semaphore holding value permits. A bounded one
 * (BoundedSemaphore) refuses a release that would take it above value.
 * Returns 0 and sets *out; ACTO_EINVAL for a NULL sys or out; ACTO_ENOMEM.
 * Ownership: the semaphore is the caller's until acto_semaphore_free.
 * Thread: loop thread. */
int acto_semaphore_new(acto_system *sys, unsigned value, bool bounded,
                       acto_semaphore **out);

/* acto_semaphore_free frees s (NULL is ignored). Acquires still pending,
 * or granted but not yet delivered, complete with ACTO_ECANCELED. Permits
 * already delivered need no release.
 * Ownership: s must not be used afterwards; acquire futures stay valid for
 * whoever holds references to them.
 * Thread: loop thread. */
void acto_semaphore_free(acto_semaphore *s);

/* acto_semaphore_acquire returns a future that completes (NULL result)
 * once the caller holds a permit: at once, still through its callbacks,
 * when a permit is free and nobody waits; otherwise after the earlier
 * waiters, in FIFO order.
 *
 * The permit belongs to whoever holds the future once it is DONE (give it
 * back with acto_semaphore_release). Like asyncio, a release grants its
 * permit to the first waiter at once but delivers it (completes the
 * future) on a later loop turn; cancelling the future before delivery,
 * even after the grant, gives the permit back to the next waiter, so a
 * cancelled acquire never holds or loses a permit. acto_future_cancel
 * returning ACTO_EDONE means the permit was delivered: release it.
 *
 * Returns 0 and sets *out; ACTO_EINVAL; ACTO_ENOMEM; ACTO_ECLOSED (the
 * system is closing). On error nothing changes (no permit is taken).
 * Ownership: *out is one reference, the caller's (acto_future_release).
 * Thread: loop thread. */
int acto_semaphore_acquire(acto_semaphore *s, acto_future **out);

/* acto_semaphore_try_acquire takes a permit if one is free and nobody
 * waits (acquire without waiting).
 * Returns 0 (the caller holds a permit); ACTO_EBUSY when it would have to
 * wait, changing nothing; ACTO_EINVAL for a NULL s.
 * Thread: loop thread. */
int acto_semaphore_try_acquire(acto_semaphore *s);

/* acto_semaphore_release gives a permit back, granting it to the first
 * waiter if there is one.
 * Returns 0; ACTO_EINVAL for a NULL s, or when a bounded semaphore would
 * go above its initial value (nothing changes).
 * Thread: loop thread. */
int acto_semaphore_release(acto_semaphore *s);

/* acto_semaphore_value returns the permits free now (granted permits not
 * yet delivered are not free). Thread: loop thread. */
unsigned acto_semaphore_value(const acto_semaphore *s);

/* acto_semaphore_locked tells whether an acquire would have to wait: no
 * permit is free, or someone waits. Thread: loop thread. */
bool acto_semaphore_locked(const acto_semaphore *s);

#endif /* ACTO_SYNC_H */
