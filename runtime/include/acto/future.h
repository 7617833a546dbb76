/* acto_future: asyncio.Future for acto.
 *
 * A future is pending until it is completed once: with a result (a pointer
 * the future owns, with an optional destructor), with an error (an
 * acto_error value), or by cancellation (with an optional message). Done
 * callbacks run in the order they were added, each exactly once, from the
 * system's loop and never from inside the call that added them or that
 * completed the future.
 *
 * Lifetime: futures are reference counted. acto_future_new returns one
 * reference; every function that hands a future out says whether it gives
 * the caller a reference. The future is freed, with its result, when the
 * last reference goes. A future that failed and is freed without anyone
 * having read its error (acto_future_result, acto_future_exception) is
 * reported once to the system's exception handler: "exception was never
 * retrieved", with where it was created in debug mode.
 *
 * Thread: the system's loop thread only.
 */
#ifndef ACTO_FUTURE_H
#define ACTO_FUTURE_H

#include <acto/actor.h>
#include <acto/msg.h>
#include <acto/system.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct acto_future acto_future;

typedef enum acto_future_state {
    ACTO_FUTURE_PENDING = 0,
    ACTO_FUTURE_DONE,   /* completed with a result */
    ACTO_FUTURE_FAILED, /* completed with an error */
    ACTO_FUTURE_CANCELLED
} acto_future_state;

/* A done callback. f is borrowed for the call (retain it to keep it). */
typedef void (*acto_future_cb)(acto_future *f, void *user);

/* ---- lifetime --------------------------------------------------------- */

/* acto_future_new makes a pending future. Returns 0 and sets *out (one
 * reference, the caller's); ACTO_EINVAL; ACTO_ENOMEM; ACTO_ECLOSED. In
 * debug mode the future remembers where it was created (the macro passes
 * the caller's file and line), for the never-retrieved report. */
int acto_future_new_at(acto_system *sys, acto_future **out, const char *file,
                       int line);
#define acto_future_new(sys, out)                                              \
    acto_future_new_at((sys), (out), __FILE__, __LINE__)

/* acto_future_retain adds a reference. */
void acto_future_retain(acto_future *f);

/* acto_future_release drops a reference; the last one frees the future and
 * its result (NULL is ignored). */
void acto_future_release(acto_future *f);

/* ---- completing ------------------------------------------------------- */

/* acto_future_set_result completes f with value; free_fn(value, user) runs
 * when the future is freed, unless the value was taken first (free_fn may
 * be NULL). Returns 0, or ACTO_EDONE (f already done: value stays the
 * caller's). */
int acto_future_set_result(acto_future *f, void *value, acto_free_fn free_fn,
                           void *user);

/* acto_future_set_error completes f with an error; type and the formatted
 * text are copied (type NULL: the code's name). A non-negative code becomes
 * ACTO_EFAILED. Returns 0, ACTO_EDONE, or ACTO_ENOMEM (f stays pending). */
int acto_future_set_error(acto_future *f, int code, const char *type,
                          const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* acto_future_set_exception completes f with a copy of e. Returns as
 * acto_future_set_error. */
int acto_future_set_exception(acto_future *f, const acto_error *e);

/* acto_future_cancel cancels a pending f (msg, copied, may be NULL); its
 * callbacks then run with the future cancelled. Returns 0; ACTO_EDONE when
 * f is already done (as asyncio's cancel returns False). */
int acto_future_cancel(acto_future *f, const char *msg);

/* ---- reading ---------------------------------------------------------- */

acto_future_state acto_future_state_of(const acto_future *f);
/* Done means not pending: a result, an error or cancelled (as asyncio). */
bool acto_future_done(const acto_future *f);
bool acto_future_cancelled(const acto_future *f);
acto_system *acto_future_system(const acto_future *f);

/* acto_future_result reads the outcome. Returns 0 and sets *value (may be
 * NULL; the value stays the future's); the error's code when it failed
 * (and marks the error retrieved); ACTO_ECANCELED when cancelled;
 * ACTO_EPENDING when not done (asyncio's InvalidStateError). */
int acto_future_result(acto_future *f, void **value);

/* acto_future_take_result moves a DONE future's value to the caller (the
 * future will not free it). Returns the value, or NULL otherwise. */
void *acto_future_take_result(acto_future *f);

/* acto_future_exception returns the error of a FAILED future (borrowed,
 * valid while f lives) and marks it retrieved; NULL otherwise. */
const acto_error *acto_future_exception(acto_future *f);

/* The message given to acto_future_cancel (NULL if none or not cancelled). */
const char *acto_future_cancel_message(const acto_future *f);

/* ---- callbacks -------------------------------------------------------- */

/* acto_future_add_done_cb arranges cb(f, user) once f is done; on an
 * already done f it is scheduled at once (still never inside this call).
 * Returns 0, or ACTO_ENOMEM. The future keeps itself alive until its
 * callbacks have run. */
int acto_future_add_done_cb(acto_future *f, acto_future_cb cb, void *user);

/* acto_future_remove_done_cb removes every registration of (cb, user) not
 * yet run. Returns how many it removed. */
int acto_future_remove_done_cb(acto_future *f, acto_future_cb cb, void *user);

/* ---- futures and actors ----------------------------------------------- */

/* acto_future_notify delivers a message of type to the running actor once
 * f is done, so the continuation runs serialised with its mailbox and may
 * touch its state without locks. The message carries f: read it with
 * acto_msg_future (the message holds a reference until it is freed). It
 * uses the system lane, so a full mailbox never holds up a continuation.
 * Returns 0; ACTO_EINVAL outside a handler or hook; ACTO_ENOMEM. */
int acto_future_notify(acto_ctx *ctx, acto_future *f, uint32_t type);

/* acto_future_pipe_to delivers f's outcome as a message of type to any
 * actor (from outside actors too); read it with acto_msg_future. A dead
 * receiver makes it a dead letter. Returns 0, ACTO_EINVAL or ACTO_ENOMEM. */
int acto_future_pipe_to(acto_future *f, acto_ref to, uint32_t type);

/* The future a notify or pipe_to message carries (borrowed), else NULL. */
acto_future *acto_msg_future(const acto_msg *m);

/* A step of a chain: called in the actor's context once prev is done;
 * returns the next future (one reference, given to the chain) or NULL to
 * finish the chain with prev's outcome. */
typedef acto_future *(*acto_then_fn)(acto_ctx *ctx, void *state,
                                     acto_future *prev, void *user);

/* acto_future_then runs fn inside the running actor once f is done and
 * returns, in *out, a future (one reference, the caller's) that completes
 * with the outcome of the future fn returns, or with f's outcome when fn
 * returns NULL. A result is shared, not moved: *out's value is that
 * future's, kept alive with it. Cancelling *out cancels the step in
 * flight.
 * Returns 0; ACTO_EINVAL outside a handler; ACTO_ENOMEM. */
int acto_future_then(acto_ctx *ctx, acto_future *f, acto_then_fn fn, void *user,
                     acto_future **out);

/* ---- asks ------------------------------------------------------------- */

/* acto_ask sends req to to and returns a future (one reference, the
 * caller's) for the reply: the reply message itself, as the future's
 * result (an acto_msg *, freed with the future; the receiver answers with
 * acto_reply). From inside a handler the request's sender is the running
 * actor's ask slot, so the reply completes the future instead of reaching
 * the handler; from outside it works the same. After timeout_ms (0: none)
 * the future fails with ACTO_ETIMEDOUT; a deadline inherited from the
 * request being handled shortens it. A handler that fails on the request
 * fails the future at once with its error; a request that becomes a dead
 * letter fails it with ACTO_ENOACTOR. On timeout or cancel a late reply is
 * dropped and counted (acto_stats.late_replies). Returns 0; ACTO_EINVAL;
 * ACTO_ENOMEM; ACTO_ECLOSED; ACTO_EQUEUEFULL when to's mailbox is full and
 * its policy is to fail. Ownership: req is taken on 0. */
int acto_ask_at(acto_system *sys, acto_ref to, acto_msg *req,
                uint64_t timeout_ms, acto_future **out, const char *file,
                int line);
#define acto_ask(sys, to, req, timeout_ms, out)                                \
    acto_ask_at((sys), (to), (req), (timeout_ms), (out), __FILE__, __LINE__)

/* acto_request_cancelled tells a callee whether the ask behind the message
 * it is handling was cancelled or timed out (false for plain sends), so
 * callees need not work blind for callers who left. */
bool acto_request_cancelled(const acto_ctx *ctx);

/* acto_request_deadline returns the absolute time (acto_system_now's clock)
 * by which the ask behind the handled message must be answered, or
 * UINT64_MAX when there is none. acto_ask uses it to shorten nested asks. */
uint64_t acto_request_deadline(const acto_ctx *ctx);

#endif /* ACTO_FUTURE_H */
