/* Supervisors: Erlang/OTP's supervisor, for acto actors.
 *
 * A supervisor is an actor that starts children from specs, watches them
 * and acts when one stops: restart it (one-for-one), restart every child
 * (one-for-all) or it and the children started after it (rest-for-one),
 * or, for a dynamic pool (OTP's simple_one_for_one), run many children of
 * one spec added at run time. A child's failure reaches the supervisor as
 * an exception message; a decider may map it to restart, resume, stop or
 * escalate.
 *
 * Restart intensity: more than `intensity` restarts within `period_ms`
 * make the supervisor stop all its children (reverse start order, each
 * within its shutdown budget) and fail itself with an error of type
 * "ReachedMaxRestartIntensity"; its parent then receives that failure, so
 * escalation climbs the tree. Restarts can also wait behind a backoff with
 * jitter (min, max, multiplier; reset after a quiet period).
 *
 * Stopping: children start in spec order and stop in reverse order, one at
 * a time, each asked with acto_shutdown and killed (acto_kill) when its
 * budget runs out. acto_shutdown(sys, sup) stops a supervisor this way; it
 * then stops itself with ACTO_EXIT_SHUTDOWN. A supervisor that is killed,
 * fails or is stopped by the system closing kills its remaining children
 * at once, in reverse order.
 *
 * Clock: budgets, intensity windows and backoff use the system's clock, so
 * with opts.virtual_time they follow acto_system_advance exactly.
 *
 * Thread: everything here runs on the system's loop thread, inside or
 * outside handlers.
 */
#ifndef ACTO_SUPERVISOR_H
#define ACTO_SUPERVISOR_H

#include <acto/acto.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- child specs ------------------------------------------------------ */

/* A child start function returns this to start nothing (OTP's ignore): a
 * static child's spec is kept, not running; a temporary or dynamic child
 * is forgotten. */
#define ACTO_SUP_IGNORE 1

/* Starts one child: spawn it with acto_spawn(acto_ctx_system(sup), ...)
 * from this call, so the supervisor becomes its parent, and set *out.
 * arg and len are the spec's argument bytes (or a dynamic child's),
 * borrowed for the call. Returns 0, ACTO_SUP_IGNORE, or a negative error
 * (the child is then not kept). */
typedef int (*acto_child_start_fn)(acto_ctx *sup, const void *arg, size_t len,
                                   acto_ref *out);

typedef enum acto_restart {
    ACTO_RESTART_PERMANENT = 0, /* always restarted */
    ACTO_RESTART_TRANSIENT,     /* restarted only after a failure or kill */
    ACTO_RESTART_TEMPORARY      /* never restarted; forgotten once stopped */
} acto_restart;

typedef enum acto_child_kind {
    ACTO_CHILD_WORKER = 0,
    ACTO_CHILD_SUPERVISOR
} acto_child_kind;

/* shutdown_ms values besides a positive budget in milliseconds. */
#define ACTO_SHUTDOWN_DEFAULT 0        /* 5000 ms (worker), infinity (sup) */
#define ACTO_SHUTDOWN_BRUTAL_KILL (-1) /* acto_kill at once */
#define ACTO_SHUTDOWN_INFINITY (-2)    /* wait as long as it takes */

typedef struct acto_child_spec {
    const char *id;            /* required, unique in its supervisor;
                                  copied; at most 255 bytes */
    acto_child_start_fn start; /* required */
    const void *arg;           /* bytes given to start; copied (a
                                  temporary child's are freed once it has
                                  started) */
    size_t arg_len;
    acto_restart restart;
    int64_t shutdown_ms; /* budget, or ACTO_SHUTDOWN_* */
    acto_child_kind kind;
    bool significant; /* its stop may stop the supervisor: see
                         acto_auto_shutdown; not with permanent */
} acto_child_spec;

/* ---- supervisor flags ------------------------------------------------- */

typedef enum acto_strategy {
    ACTO_ONE_FOR_ONE = 0,
    ACTO_ONE_FOR_ALL,
    ACTO_REST_FOR_ONE,
    ACTO_SIMPLE_ONE_FOR_ONE /* a dynamic pool: exactly one spec */
} acto_strategy;

/* When significant children stopping on their own (not through
 * acto_sup_terminate_child) and not restarted stop the supervisor. */
typedef enum acto_auto_shutdown {
    ACTO_AUTO_SHUTDOWN_NEVER = 0,
    ACTO_AUTO_SHUTDOWN_ANY_SIGNIFICANT,
    ACTO_AUTO_SHUTDOWN_ALL_SIGNIFICANT
} acto_auto_shutdown;

/* What to do with a child whose handler failed. */
typedef enum acto_sup_action {
    ACTO_SUP_RESTART = 0, /* as its restart type says (the default) */
    ACTO_SUP_RESUME,      /* drop the failed message, keep the child and
                             its state; nothing restarts */
    ACTO_SUP_STOP,        /* let it stop; do not restart it */
    ACTO_SUP_ESCALATE     /* stop every child and fail the supervisor with
                             this error */
} acto_sup_action;

/* A child failure, as a decider sees it. Borrowed for the call. */
typedef struct acto_child_failure {
    const char *id;          /* the child's spec id */
    acto_ref child;          /* the child that failed */
    const acto_error *error; /* error->msg: the message it was handling,
                                quarantined (not handled again) */
    uint32_t restarts;       /* restarts of this child so far */
} acto_child_failure;

/* Maps a failure to an action. It runs inside the failing child's turn
 * (so ACTO_SUP_RESUME can keep it): it must not send, spawn or stop.
 * A failure seen only after the child stopped (one it did not spawn
 * itself) cannot be resumed: RESUME then means RESTART. */
typedef acto_sup_action (*acto_decider_fn)(const acto_child_failure *f,
                                           void *user);

/* Restart backoff: the n-th consecutive restart of a child waits
 * min_ms * multiplier^(n-1), capped at max_ms, spread by +-jitter. */
typedef struct acto_backoff {
    uint32_t min_ms;   /* 0: no backoff, restart at once */
    uint32_t max_ms;   /* 0: 30000 */
    double multiplier; /* below 1: 2.0 */
    double jitter;     /* 0..1, a fraction of the delay */
    uint32_t reset_ms; /* a child up this long starts over at min_ms;
                          0: max_ms */
    uint64_t seed;     /* of the jitter's generator (repeatable) */
} acto_backoff;

/* intensity value for a supervisor that never restarts. */
#define ACTO_SUP_NO_RESTARTS UINT32_MAX

typedef struct acto_sup_flags {
    acto_strategy strategy;
    uint32_t intensity; /* restarts allowed within period_ms; 0: 1 (OTP's
                           default); ACTO_SUP_NO_RESTARTS: none */
    uint32_t period_ms; /* 0: 5000 */
    acto_auto_shutdown auto_shutdown;
    acto_backoff backoff;
    acto_decider_fn decider; /* NULL: always ACTO_SUP_RESTART */
    void *decider_user;
    const char *label; /* the supervisor actor's label; copied */
} acto_sup_flags;

/* ---- starting --------------------------------------------------------- */

/* acto_sup_start spawns a supervisor and starts its n children in order
 * before returning. Called from a handler or hook (a child start function
 * of another supervisor, say) the running actor becomes its parent.
 * flags (NULL: one-for-one, defaults) and specs are copied.
 * Returns 0 and sets *out; ACTO_EINVAL for invalid flags or specs (no id
 * or start, a duplicate id, an unknown enum value, a negative budget other
 * than ACTO_SHUTDOWN_*, significant with permanent or with auto-shutdown
 * never, auto-shutdown or n != 1 with ACTO_SIMPLE_ONE_FOR_ONE, jitter
 * outside 0..1); ACTO_ENOMEM; ACTO_ECLOSED; or the error of the first
 * child that failed to start: the ones already started are then killed
 * in reverse order (one with messages waiting finalizes when the
 * scheduler reaches it) and the supervisor never existed. */
int acto_sup_start(acto_system *sys, const acto_sup_flags *flags,
                   const acto_child_spec *specs, size_t n, acto_ref *out);

/* The name the system's root supervisor is registered under. */
#define ACTO_SUP_ROOT_NAME "acto.root"

/* acto_sup_root returns the system's root supervisor, starting it on first
 * use: a one-for-one supervisor without a parent, registered as
 * ACTO_SUP_ROOT_NAME, allowing 10 restarts in 10 s, which top-level trees
 * join with acto_sup_start_child (their start function calls
 * acto_sup_start). acto_stop_on_signals with root ACTO_REF_NONE stops it.
 * Returns 0 and sets *out; ACTO_EINVAL; ACTO_EBUSY inside a handler (the
 * root must not get a parent); ACTO_ENOMEM; ACTO_ECLOSED. */
int acto_sup_root(acto_system *sys, acto_ref *out);

/* ---- administration --------------------------------------------------- */
/* All of these return ACTO_ENOACTOR when sup is not a live supervisor
 * (OTP's noproc) and ACTO_EINVAL for a NULL argument. */

/* acto_sup_start_child adds a spec and starts it (not for dynamic pools:
 * ACTO_EINVAL). Returns 0 and sets *out (ACTO_REF_NONE when the start
 * ignored); ACTO_EALREADY when a child with that id runs (*out is set to
 * it: OTP's already_started); ACTO_EEXIST when the id is known but not
 * running (already_present); ACTO_ENOMEM; the start function's error (the
 * spec is then not kept). */
int acto_sup_start_child(acto_system *sys, acto_ref sup,
                         const acto_child_spec *spec, acto_ref *out);

/* acto_sup_start_dynamic starts one child of a dynamic pool with its own
 * argument bytes (copied, and kept for restarts unless the spec is
 * temporary). Returns 0 and sets *out (ACTO_REF_NONE when ignored);
 * ACTO_EINVAL when sup is not a dynamic pool; ACTO_ENOMEM; the start
 * function's error. */
int acto_sup_start_dynamic(acto_system *sys, acto_ref sup, const void *arg,
                           size_t len, acto_ref *out);

/* acto_sup_terminate_child stops a child by id within its shutdown budget
 * (asynchronously: the report shows it stopping until it has). It is not
 * restarted; its spec is kept unless it is temporary. Terminating a child
 * that is not running succeeds. Returns 0; ACTO_ENOTFOUND; ACTO_EINVAL for
 * a dynamic pool (use acto_sup_terminate_ref). */
int acto_sup_terminate_child(acto_system *sys, acto_ref sup, const char *id);

/* acto_sup_terminate_ref does the same for the child named by ref, in any
 * supervisor; a dynamic child is forgotten. Returns 0; ACTO_ENOTFOUND when
 * ref is not a running child of sup (it is left alone). */
int acto_sup_terminate_ref(acto_system *sys, acto_ref sup, acto_ref child);

/* acto_sup_restart_child starts a terminated child again from its spec.
 * Returns 0 and sets *out (may be NULL); ACTO_ENOTFOUND; ACTO_EBUSY when
 * it runs or is stopping (OTP's running); ACTO_EPENDING when a restart is
 * waiting (backoff or a retry: OTP's restarting); ACTO_EINVAL for a
 * dynamic pool; the start function's error (the child stays terminated). */
int acto_sup_restart_child(acto_system *sys, acto_ref sup, const char *id,
                           acto_ref *out);

/* acto_sup_delete_child forgets a terminated child's spec. Returns 0;
 * ACTO_ENOTFOUND; ACTO_EBUSY (running or stopping); ACTO_EPENDING
 * (restarting); ACTO_EINVAL for a dynamic pool. */
int acto_sup_delete_child(acto_system *sys, acto_ref sup, const char *id);

typedef enum acto_child_state {
    ACTO_CHILD_RUNNING = 0,
    ACTO_CHILD_STOPPING,   /* asked to shut down, not yet stopped */
    ACTO_CHILD_RESTARTING, /* waiting for its restart (backoff, retry) */
    ACTO_CHILD_TERMINATED  /* spec kept, nothing running (OTP's undefined) */
} acto_child_state;

typedef struct acto_child_info {
    const char *id; /* valid until the supervisor's children change */
    acto_ref ref;   /* ACTO_REF_NONE unless running or stopping */
    acto_child_state state;
    acto_child_kind kind;
    acto_restart restart;
    uint32_t restarts;
} acto_child_info;

/* acto_sup_which_children copies up to cap reports, in start order, and
 * sets *count to the number of children (which may exceed cap). */
int acto_sup_which_children(acto_system *sys, acto_ref sup,
                            acto_child_info *out, size_t cap, size_t *count);

/* OTP's count_children: specs (1 for a dynamic pool), children running
 * (or stopping), and children of each kind, running or not. */
typedef struct acto_child_counts {
    size_t specs;
    size_t active;
    size_t supervisors;
    size_t workers;
} acto_child_counts;

int acto_sup_count_children(acto_system *sys, acto_ref sup,
                            acto_child_counts *out);

/* acto_sup_restarts returns how many restarts sup made (0 if not a live
 * supervisor). */
uint64_t acto_sup_restarts(acto_system *sys, acto_ref sup);

/* ---- checking a tree -------------------------------------------------- */

/* Receives one warning about a tree; text is borrowed for the call. */
typedef void (*acto_sup_warn_fn)(acto_ref sup, const char *child_id,
                                 const char *text, void *user);

/* acto_sup_check walks the tree under root and reports (to fn, or to
 * stderr when fn is NULL) each child whose shutdown budget exceeds the
 * one its parent has within its own supervisor, and each worker whose
 * restart budget, multiplied across the levels above it, exceeds
 * max_restarts (0: no limit). Returns the number of warnings, or
 * ACTO_ENOACTOR. Debug mode runs it on every supervisor start. */
int acto_sup_check(acto_system *sys, acto_ref root, uint64_t max_restarts,
                   acto_sup_warn_fn fn, void *user);

#endif /* ACTO_SUPERVISOR_H */
