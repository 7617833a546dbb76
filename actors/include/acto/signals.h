/* Graceful shutdown on SIGINT and SIGTERM.
 *
 * acto_stop_on_signals watches SIGINT and SIGTERM (uv_signal_t) for a
 * root actor, usually the root supervisor of the program's tree. The
 * first signal starts a graceful shutdown: acto_shutdown(root), so the
 * tree stops in reverse order, each child within its budget, stop hooks
 * running and mailboxes draining or becoming dead letters as each actor's
 * on_shutdown says. If the root has not stopped after deadline_ms, or a
 * second signal arrives, the root is killed at once (forced). Once the
 * root has stopped, the watcher closes its handles, so the loop can end,
 * and reports how it went.
 *
 * Exit status (acto_signals_status): 0 for a clean stop, 124 when the
 * deadline forced it, 128 + the signal number when a second signal did
 * (130 for SIGINT), as shells report.
 *
 * Thread: the loop thread.
 */
#ifndef ACTO_SIGNALS_H
#define ACTO_SIGNALS_H

#include <acto/acto.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct acto_signals acto_signals;

/* How a shutdown went. */
typedef struct acto_signals_report {
    int signo;             /* the first signal, or 0 (acto_signals_stop) */
    bool forced;           /* killed by the deadline or a second signal */
    int status;            /* the exit status, as above */
    uint64_t elapsed_ms;   /* from the first signal to the root's stop */
    uint64_t dead_letters; /* messages dead-lettered meanwhile */
} acto_signals_report;

/* Called once the root has stopped (cleanly or not), after the signal
 * handles are closed; the report is borrowed. */
typedef void (*acto_signals_done_fn)(acto_system *sys,
                                     const acto_signals_report *r, void *user);

typedef struct acto_signals_opts {
    uint32_t deadline_ms;      /* graceful budget; 0: 10000 */
    acto_signals_done_fn done; /* may be NULL */
    void *user;
} acto_signals_opts;

/* acto_stop_on_signals starts watching root; ACTO_REF_NONE means the
 * system's root supervisor (acto_sup_root, started if need be). A root
 * that stops on its own also ends the watch (a clean report with signo 0).
 * Returns 0 and sets *out; ACTO_EINVAL; ACTO_ENOACTOR (root is not alive);
 * ACTO_ENOMEM; a libuv error; acto_sup_root's errors. Ownership: *out belongs
 * to the system; it is freed after done runs, or by acto_signals_cancel. */
int acto_stop_on_signals(acto_system *sys, acto_ref root,
                         const acto_signals_opts *opts, acto_signals **out);

/* acto_signals_stop starts the same graceful shutdown without a signal
 * (a programmatic first signal). Returns 0; ACTO_EALREADY. */
int acto_signals_stop(acto_signals *s);

/* acto_signals_cancel stops watching without shutting anything down; done
 * does not run. The watcher is freed once its handles close. */
void acto_signals_cancel(acto_signals *s);

/* acto_signals_status returns the exit status so far (0 until forced). */
int acto_signals_status(const acto_signals *s);

#endif /* ACTO_SIGNALS_H */
