/* Actors: spawn, send, stop, monitors, names and timers.
 *
 * An actor is a behaviour (a receive function and optional start and stop
 * hooks), a state pointer and a mailbox. Its handlers run one message at a
 * time on the system's loop thread and borrow the message they are given.
 *
 * Backpressure. A mailbox may be bounded. An actor that sends to a full
 * mailbox is parked: the message waits on the receiver, in order, and the
 * sender handles nothing more until all its parked sends have landed.
 * Senders outside actors choose: acto_system_send fails at once with
 * ACTO_EQUEUEFULL, acto_system_send_wait calls back once there is room. A
 * mailbox spawned with a drop policy drops instead (counted), for every
 * sender. A send timeout turns a too-long park into a failure of the
 * sender (ACTO_ETIMEDOUT), so cyclic flows cannot hang silently.
 *
 * Ordering: messages from one sender to one receiver are handled in the
 * order sent. System messages (child failures, down notices, timeouts) use
 * a lane that a full mailbox never blocks.
 *
 * Failure. A handler fails by returning a negative code, or by returning
 * acto_fail(...) to give the error a type and text. The actor then stops:
 * its stop hook runs, its mailbox becomes dead letters, monitors get
 * ACTO_MSG_DOWN, and its parent gets ACTO_MSG_CHILD_FAILED carrying the
 * error (and the message it was handling). With no live parent the error
 * goes to the system's exception handler.
 *
 * Thread: everything here runs on the system's loop thread.
 */
#ifndef ACTO_ACTOR_H
#define ACTO_ACTOR_H

#include <acto/msg.h>
#include <acto/ref.h>
#include <acto/system.h>
#include <stdbool.h>
#include <stdint.h>

/* The running actor, given to its handlers and hooks. Valid only during
 * the call it was passed to. */
typedef struct acto_ctx acto_ctx;

/* Handles one message. Returns 0, or a negative code to fail the actor. */
typedef int (*acto_receive_fn)(acto_ctx *ctx, void *state, const acto_msg *msg);
/* Runs inside acto_spawn. Returns 0, or a negative code: spawn then fails
 * with it and the actor never existed (its stop hook does not run). */
typedef int (*acto_start_fn)(acto_ctx *ctx, void *state);
/* Runs once when the actor stops, whatever the reason: the place to free
 * state. It may send messages but not receive them. */
typedef void (*acto_stop_fn)(acto_ctx *ctx, void *state,
                             const acto_exit_reason *reason);

typedef struct acto_behaviour {
    acto_receive_fn receive; /* required */
    acto_start_fn start;     /* optional */
    acto_stop_fn stop;       /* optional */
} acto_behaviour;

/* What a full mailbox does with one more message. */
typedef enum acto_overflow {
    ACTO_OVERFLOW_PARK = 0,    /* actor senders park; acto_system_send fails */
    ACTO_OVERFLOW_FAIL,        /* every send fails with ACTO_EQUEUEFULL */
    ACTO_OVERFLOW_DROP_OLDEST, /* the oldest queued message is dropped */
    ACTO_OVERFLOW_DROP_NEWEST  /* the new message is dropped */
} acto_overflow;

/* What acto_shutdown does to an actor (OTP's shutdown, for C): */
typedef enum acto_on_shutdown {
    /* stop at once: the stop hook runs, the mailbox becomes dead letters */
    ACTO_SHUTDOWN_STOP = 0,
    /* keep handling messages until the mailbox is empty, then stop */
    ACTO_SHUTDOWN_DRAIN,
    /* receive ACTO_MSG_SHUTDOWN on the system lane, finish the work in
     * flight, then acto_stop itself (the reason stays ACTO_EXIT_SHUTDOWN) */
    ACTO_SHUTDOWN_NOTIFY
} acto_on_shutdown;

typedef struct acto_spawn_opts {
    const char *label;            /* for debugging and traces (not a registered
                                     name); copied; at most 255 bytes */
    uint32_t capacity;            /* mailbox bound; 0: unbounded */
    acto_overflow overflow;       /* what a full mailbox does */
    uint32_t send_timeout_ms;     /* this actor's longest park; 0: no limit */
    uint32_t batch;               /* messages per turn; 0: 64 */
    acto_on_shutdown on_shutdown; /* what acto_shutdown does */
} acto_spawn_opts;

/* ---- lifecycle -------------------------------------------------------- */

/* acto_spawn creates an actor running b with state and runs its start hook
 * before returning. Called from inside a handler or hook, the running
 * actor becomes the new one's parent. b is used in place, not copied: it
 * must outlive the actor (a static const behaviour is the usual way).
 * Returns 0 and sets *out; ACTO_EINVAL (no receive function, NULL out);
 * ACTO_ENOMEM; ACTO_ECLOSED; or the start hook's error.
 * Ownership: state stays the caller's; the stop hook is where to free it.
 * opts (may be NULL) is copied. */
int acto_spawn(acto_system *sys, const acto_behaviour *b, void *state,
               const acto_spawn_opts *opts, acto_ref *out);

/* acto_stop stops an actor gracefully: a message being handled finishes,
 * the stop hook runs with ACTO_EXIT_NORMAL, the rest of the mailbox becomes
 * dead letters. Safe from inside the actor's own handler (it only marks the
 * actor; memory is reclaimed after the handler returns).
 * Returns 0; ACTO_ENOACTOR for a dead or unknown ref; ACTO_EALREADY when it
 * is already stopping. */
int acto_stop(acto_system *sys, acto_ref ref);

/* acto_kill is acto_stop with reason ACTO_EXIT_KILLED. Returns likewise. */
int acto_kill(acto_system *sys, acto_ref ref);

/* acto_shutdown asks an actor to stop with reason ACTO_EXIT_SHUTDOWN, as
 * its spawn options' on_shutdown says: at once, once its mailbox is empty,
 * or when it stops itself after ACTO_MSG_SHUTDOWN. Nothing bounds how long
 * the last two take: whoever asked enforces a budget with acto_kill (the
 * supervisor does). Returns 0; ACTO_ENOACTOR for a dead or unknown ref;
 * ACTO_EALREADY when it is already stopping or was already asked;
 * ACTO_ENOMEM (the notice could not be made; nothing changed). */
int acto_shutdown(acto_system *sys, acto_ref ref);

/* acto_in_handler tells whether an actor's handler or hook is running now
 * (so a spawn would give the new actor a parent). */
bool acto_in_handler(const acto_system *sys);

/* acto_mailbox_count returns how many messages wait for ref: in its
 * mailbox and parked on it (0 for a dead ref). */
uint32_t acto_mailbox_count(const acto_system *sys, acto_ref ref);

/* acto_alive tells whether ref names a live actor that is not stopping. */
bool acto_alive(const acto_system *sys, acto_ref ref);

/* Runs fn as the actor ref, as if from one of its hooks: inside, acto_spawn
 * makes ref the parent and acto_send sends from ref. Returns fn's result. */
typedef int (*acto_as_fn)(acto_ctx *ctx, void *state, void *user);

/* acto_call_as runs fn(ctx, state, user) as the live actor ref, whose
 * behaviour must be b (the type check that makes state safe to use). This
 * is how a library gives an actor a synchronous API on the loop thread
 * (the supervisor's child administration does). Returns fn's result;
 * ACTO_ENOACTOR when ref is dead, stopping or runs another behaviour;
 * ACTO_EINVAL. Thread: the loop thread; it may nest inside a handler. */
int acto_call_as(acto_system *sys, acto_ref ref, const acto_behaviour *b,
                 acto_as_fn fn, void *user);

/* ---- inside handlers -------------------------------------------------- */

acto_ref acto_self(const acto_ctx *ctx);
/* The sender of the message being handled (ACTO_REF_NONE outside one). */
acto_ref acto_sender(const acto_ctx *ctx);
acto_ref acto_parent(const acto_ctx *ctx);
acto_system *acto_ctx_system(const acto_ctx *ctx);

/* acto_fail records an error for the running handler to return: `return
 * acto_fail(ctx, ACTO_EINVAL, "ParseError", "bad line %d", n);`. type and
 * the formatted text are copied. Returns code (ACTO_EFAILED if code is not
 * negative). */
int acto_fail(acto_ctx *ctx, int code, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* What becomes of a child whose handler failed. */
typedef enum acto_fail_action {
    ACTO_FAIL_STOP = 0, /* it stops and its parent is told (the default) */
    ACTO_FAIL_RESUME    /* the failed message is dropped; it goes on */
} acto_fail_action;

/* Decides, at the moment a child's handler fails, whether it stops or
 * resumes. It runs inside the failing child's turn: it may read err (and
 * err->msg, the message that failed) but must not send, spawn or stop. */
typedef acto_fail_action (*acto_child_fail_fn)(acto_system *sys, acto_ref child,
                                               const acto_error *err,
                                               void *user);

/* acto_set_child_fail_fn makes fn decide the failures of the running
 * actor's children (those it spawned); NULL restores the default (stop).
 * Failures outside a handler (a send timeout) always stop. A resumed
 * failure counts in stats.failures; an ask the message carried fails with
 * the error. Returns 0; ACTO_ENOMEM. */
int acto_set_child_fail_fn(acto_ctx *ctx, acto_child_fail_fn fn, void *user);

/* acto_watch_children (on) makes the running actor receive ACTO_MSG_DOWN,
 * with monitor id 0, whenever one of its children stops, for any reason,
 * in place of ACTO_MSG_CHILD_FAILED: a monitor on every child without the
 * cost of one (OTP's trap_exit, as a supervisor uses it). Returns 0;
 * ACTO_ENOMEM. */
int acto_watch_children(acto_ctx *ctx, bool on);

/* acto_parent_of returns the parent of the live actor ref (ACTO_REF_NONE
 * when it has none, or is dead or stopping). */
acto_ref acto_parent_of(const acto_system *sys, acto_ref ref);

/* acto_take_msg takes the message being handled from the runtime: the
 * handler owns it from then on, to send it on unchanged (no copy) or
 * changed (acto_msg_data_mut, acto_msg_set_type), or to free it. Returns
 * NULL when the runtime must keep it: outside a handler, a second take,
 * system messages, ask requests, messages from other threads. */
acto_msg *acto_take_msg(acto_ctx *ctx);

/* acto_take_run takes up to max of the messages waiting behind the one
 * being handled, so a handler works through a run of data messages in one
 * call (one trip through the scheduler for the run). It takes them from
 * the front of the mailbox, in order, stopping at the first that is not
 * of type <= max_type or that acto_take_msg would refuse, and takes none
 * when something waits on the system lane, the actor is parked, suspended
 * or stopping, has a receive timeout, or tracing or debug mode is on (they
 * follow each message on its own). The turn's budget (the actor's batch)
 * counts them. Until the handler returns they still count in the mailbox,
 * so a bounded mailbox lets no parked sender in before they are handled.
 * Returns how many were taken into msgs[0..n).
 * Ownership: the caller owns the messages taken, as with acto_take_msg,
 * and gives back those it will not handle now with acto_put_back.
 * Thread: the loop thread, inside a handler of ctx's actor. */
size_t acto_take_run(acto_ctx *ctx, uint32_t max_type, acto_msg **msgs,
                     size_t max);

/* A run taken one message at a time (acto_run_begin). Allocated by the
 * caller; its fields are not part of the API. */
typedef struct acto_run {
    void *actor_;
    void *next_;
    uint32_t max_type_;
    uint32_t left_;
    uint32_t taken_;
} acto_run;

/* acto_run_begin starts taking, one at a time, up to max of the messages
 * waiting behind the one being handled, under acto_take_run's rules
 * (checked here, once). Where acto_take_run walks the whole run before the
 * handler sees its first message, acto_run_next finds each next message
 * while the handler still works on the one before, and a handler that
 * stops early leaves the rest where they are: nothing to put back.
 * Between acto_run_begin and acto_run_end the handler takes no messages
 * any other way (acto_take_msg of the message in hand aside).
 * Returns true when a message may follow (*run is set; end it with
 * acto_run_end), false when none can be taken now.
 * Thread: the loop thread, inside a handler of ctx's actor. */
bool acto_run_begin(acto_ctx *ctx, uint32_t max_type, size_t max,
                    acto_run *run);

/* acto_run_next takes the next message of the run: NULL once max were
 * taken, none waits, or the next is not of type <= max_type or is one
 * acto_take_msg would refuse (it stays first in the mailbox).
 * Ownership: the caller owns the message, as with acto_take_run; until the
 * handler returns it still counts in the mailbox.
 * Thread: as acto_run_begin. */
acto_msg *acto_run_next(acto_run *run);

/* acto_run_end counts the messages the run took in the turn's budget.
 * Thread: as acto_run_begin. */
void acto_run_end(acto_run *run);

/* acto_put_back returns the last n messages acto_take_run gave this
 * handler, unhandled and in order, to the front of the mailbox: for a
 * handler that must stop in the middle of a run (it parked, suspended
 * itself or is stopping), so the rest wait for their turn.
 * Returns 0; ACTO_EINVAL (outside the handler, more than were taken).
 * Ownership: the messages go back to the mailbox.
 * Thread: the loop thread, inside a handler of ctx's actor. */
int acto_put_back(acto_ctx *ctx, acto_msg *const *msgs, size_t n);

/* acto_suspend makes the running actor handle no further message until
 * acto_resume: its mailbox fills and senders park or fail as its overflow
 * policy says. It is how an I/O actor waits for a write to finish without
 * taking more data than it can buffer. The system lane waits too; stopping
 * and killing still work. Returns 0; ACTO_EINVAL. */
int acto_suspend(acto_ctx *ctx);

/* acto_resume lets a suspended actor handle messages again (from anywhere
 * on the loop thread, a libuv callback included). Returns 0;
 * ACTO_ENOACTOR (dead, stopping or unknown); ACTO_EALREADY (not
 * suspended). */
int acto_resume(acto_system *sys, acto_ref ref);

/* ---- sending ---------------------------------------------------------- */

/* acto_send sends m from the running actor to to. When to's mailbox is
 * full (park policy) the message is parked on it and the sender parks.
 * Returns 0 (also when to is dead: m becomes a dead letter, counted, as
 * Erlang does); ACTO_EQUEUEFULL for a full fail-policy mailbox; ACTO_EINVAL
 * (NULL m, ctx not running); ACTO_ECLOSED.
 * Ownership: m is taken only when 0 is returned. */
int acto_send(acto_ctx *ctx, acto_ref to, acto_msg *m);

/* acto_send_many sends msgs[0..n) from the running actor to to, in order,
 * exactly as n calls of acto_send would (the same parking, dead letters
 * and errors), with one lookup of to for all: a stage passing on a run of
 * items pays the delivery once.
 * Returns 0 when all were sent, or the error of the first that was not
 * (acto_send's; ACTO_EINVAL for a NULL entry or a NULL msgs with n > 0).
 * *sent (may be NULL) gets how many were sent: msgs[0..*sent).
 * Ownership: the messages sent are taken; the others stay the caller's.
 * Thread: the loop thread, inside a handler of ctx's actor. */
int acto_send_many(acto_ctx *ctx, acto_ref to, acto_msg *const *msgs, size_t n,
                   size_t *sent);

/* acto_send_room returns how many messages the running actor can send to
 * `to` now before one would not fit: the free places of a bounded mailbox
 * (0 when full: the next send parks or follows the overflow policy),
 * UINT32_MAX for an unbounded mailbox or for itself, 0 for a dead or
 * stopping actor. While the handler runs only its own sends take those
 * places (no other actor runs meanwhile), so a handler may keep that many
 * sends back and make them at its end (acto_send_many) with the same
 * effect as making each at once.
 * Thread: the loop thread, inside a handler of ctx's actor. */
uint32_t acto_send_room(const acto_ctx *ctx, acto_ref to);

/* acto_tell builds a bytes message and sends it as acto_send does; on
 * error nothing is sent and nothing leaks. */
int acto_tell(acto_ctx *ctx, acto_ref to, uint32_t type, const void *data,
              size_t len);

/* acto_reply tells the sender of the message being handled, with that
 * message's correlation id. Returns as acto_tell; ACTO_ENOACTOR when the
 * message has no sender. */
int acto_reply(acto_ctx *ctx, uint32_t type, const void *data, size_t len);

/* acto_system_send sends m from outside any actor (sender ACTO_REF_NONE).
 * Returns 0 (a dead receiver makes m a dead letter); ACTO_EQUEUEFULL when
 * a park- or fail-policy mailbox is full (m stays the caller's); ACTO_EINVAL;
 * ACTO_ECLOSED. Ownership: m is taken only when 0 is returned. */
int acto_system_send(acto_system *sys, acto_ref to, acto_msg *m);

/* Completes acto_system_send_wait: 0 once the message is in the mailbox
 * (or, for a drop-policy mailbox, once it was accepted or dropped as that
 * policy says);
 * ACTO_ENOACTOR when the receiver died first (the message became a dead
 * letter); ACTO_ECANCELED when the system closed first. */
typedef void (*acto_send_cb)(acto_system *sys, int status, void *user);

/* acto_system_send_wait sends m from outside any actor, waiting for room
 * in a full park-policy mailbox behind earlier waiting senders. cb runs
 * exactly once, never inside this call. Returns 0 (cb will run);
 * ACTO_EINVAL; ACTO_ECLOSED; or as acto_system_send for other policies.
 * Ownership: m is taken when 0 is returned, whatever cb later reports. */
int acto_system_send_wait(acto_system *sys, acto_ref to, acto_msg *m,
                          acto_send_cb cb, void *user);

/* ---- monitors --------------------------------------------------------- */

/* acto_monitor asks for ACTO_MSG_DOWN when target stops. A target already
 * dead gets the down message at once (reason ACTO_EXIT_NOACTOR), as
 * Erlang does. Returns 0 and sets *id; ACTO_EINVAL; ACTO_ENOMEM. */
int acto_monitor(acto_ctx *ctx, acto_ref target, uint64_t *id);

/* acto_demonitor cancels a monitor; a down message already queued stays.
 * Returns 0, or ACTO_ENOTFOUND. */
int acto_demonitor(acto_ctx *ctx, uint64_t id);

/* ---- names ------------------------------------------------------------ */

/* acto_register names a live actor; the name is dropped when it stops.
 * Returns 0; ACTO_EEXIST; ACTO_ENOACTOR; ACTO_EINVAL (empty name or over
 * 255 bytes); ACTO_ENOMEM. The name is copied. */
int acto_register(acto_system *sys, const char *name, acto_ref ref);

/* acto_whereis returns the actor registered under name, or ACTO_REF_NONE. */
acto_ref acto_whereis(const acto_system *sys, const char *name);

/* acto_unregister drops a name. Returns 0, or ACTO_ENOTFOUND. */
int acto_unregister(acto_system *sys, const char *name);

/* ---- timers ----------------------------------------------------------- */

/* acto_send_after sends m to to after delay_ms (from the running actor
 * when called inside a handler, else from outside). When it fires it waits
 * for room in a full park-policy mailbox; a fail-policy mailbox refusing it
 * makes it a counted drop. A pending timer costs
 * memory only, not a libuv handle. Returns 0 and sets *id (id may be NULL);
 * ACTO_EINVAL; ACTO_ENOMEM; ACTO_ECLOSED. Ownership: m is taken on 0. */
int acto_send_after(acto_system *sys, uint64_t delay_ms, acto_ref to,
                    acto_msg *m, uint64_t *id);

/* acto_send_every sends a copy of m to to every interval_ms (> 0) until
 * cancelled or to dies. m must carry bytes or msgpack (ACTO_EINVAL for a
 * pointer payload). Returns and ownership as acto_send_after; m is freed
 * when the timer ends. */
int acto_send_every(acto_system *sys, uint64_t interval_ms, acto_ref to,
                    acto_msg *m, uint64_t *id);

/* A function a timer calls on the loop thread. */
typedef void (*acto_call_fn)(acto_system *sys, void *user);

/* acto_call_after calls fn(sys, user) on the loop thread after delay_ms,
 * outside any handler (acto_call_as runs code as an actor from there). It
 * follows virtual time like every timer; acto_timer_cancel cancels it,
 * and closing the system drops it uncalled. Returns 0 and sets *id (id
 * may be NULL); ACTO_EINVAL; ACTO_ENOMEM; ACTO_ECLOSED. */
int acto_call_after(acto_system *sys, uint64_t delay_ms, acto_call_fn fn,
                    void *user, uint64_t *id);

/* acto_timer_cancel cancels a pending timer and frees its message.
 * Returns 0, or ACTO_ENOTFOUND when it already fired (one-shot) or was
 * cancelled. */
int acto_timer_cancel(acto_system *sys, uint64_t id);

/* acto_set_receive_timeout asks for ACTO_MSG_RECEIVE_TIMEOUT after ms
 * without any message (re-armed after each message; 0 turns it off).
 * Returns 0, or ACTO_EINVAL outside a handler or hook. */
int acto_set_receive_timeout(acto_ctx *ctx, uint64_t ms);

/* acto_dead_letters returns the number of dead letters so far. */
uint64_t acto_dead_letters(const acto_system *sys);

#endif /* ACTO_ACTOR_H */
