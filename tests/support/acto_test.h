/* Helpers every acto test uses: cmocka, asserts that name acto errors, a
 * counting allocator that can fail the Nth allocation, and loop runners that
 * stop on a condition or a deadline instead of sleeping. */
#ifndef ACTO_TEST_H
#define ACTO_TEST_H

/* cmocka needs these before its header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <acto/acto.h>
#include <stdbool.h>
#include <uv.h>

#define assert_acto_ok(e)                                                      \
    do {                                                                       \
        int rc_ = (e);                                                         \
        if (rc_ != 0) {                                                        \
            fail_msg("%s: %s", #e, acto_err_name(rc_));                        \
        }                                                                      \
    } while (0)

#define assert_acto_err(e, want)                                               \
    do {                                                                       \
        int rc_ = (e);                                                         \
        int want_ = (want);                                                    \
        if (rc_ != want_) {                                                    \
            fail_msg("%s: got %s, want %s", #e, acto_err_name(rc_),            \
                     acto_err_name(want_));                                    \
        }                                                                      \
    } while (0)

/* ---- the counting allocator ------------------------------------------- */

/* Installs the counting allocator as acto's hook and zeroes its counters.
 * It checks every sized free against the size allocated. Thread-safe. */
void acto_test_alloc_install(void);
/* Restores the default allocator. */
void acto_test_alloc_uninstall(void);
/* Makes the nth allocation from now fail (1 is the next one); 0 disables. */
void acto_test_alloc_fail_nth(long n);
/* Whether the failure armed by acto_test_alloc_fail_nth has happened. */
bool acto_test_alloc_failed(void);
/* Allocations made and not yet freed, in blocks and in bytes. */
long acto_test_alloc_live(void);
long acto_test_alloc_live_bytes(void);
/* Allocations made since install. */
long acto_test_alloc_total(void);

#define assert_no_leaks()                                                      \
    do {                                                                       \
        if (acto_test_alloc_live() != 0) {                                     \
            fail_msg("%ld allocation(s), %ld bytes still live",                \
                     acto_test_alloc_live(), acto_test_alloc_live_bytes());    \
        }                                                                      \
    } while (0)

/* ---- running the loop ------------------------------------------------- */

typedef bool (*acto_test_pred)(void *arg);

/* Runs loop until pred(arg) holds, timeout_ms passes, or nothing is left
 * that could make progress. Returns whether pred holds. Never sleeps
 * beyond what the loop itself waits for. */
bool acto_test_run_until(uv_loop_t *loop, acto_test_pred pred, void *arg,
                         uint64_t timeout_ms);

/* Runs loop until no handle or request keeps it alive, or timeout_ms
 * passes. Returns whether it became quiet. */
bool acto_test_quiesce(uv_loop_t *loop, uint64_t timeout_ms);

/* Runs exactly one non-blocking loop iteration. */
void acto_test_run_once(uv_loop_t *loop);

/* ---- the standard fixture --------------------------------------------- */

/* Per-test environment: a fresh loop and the counting allocator. */
typedef struct acto_test_env {
    uv_loop_t loop;
} acto_test_env;

/* cmocka setup: *state becomes an acto_test_env. */
int acto_test_setup(void **state);
/* cmocka teardown: quiesces the loop, fails the test unless uv_loop_close
 * returns 0 (listing the handles left open) and no allocation is live. */
int acto_test_teardown(void **state);

#define acto_unit_test(f)                                                      \
    cmocka_unit_test_setup_teardown(f, acto_test_setup, acto_test_teardown)

/* ---- systems and messages -------------------------------------------- */

/* An acto_test_pred: whether the bool at arg is set. */
bool acto_test_flag(void *arg);

/* An acto_system_close_cb: sets the bool at user. */
void acto_test_on_system_closed(acto_system *sys, void *user);

/* Makes a system on env's loop with opts (NULL: the defaults); opts->loop is
 * replaced by &env->loop. Fails the test unless that succeeds. */
acto_system *acto_test_system(acto_test_env *env, const acto_system_opts *opts);

/* Closes sys and runs the loop until its close callback has run; fails the
 * test if the close fails or the callback has not run within 5 s. */
void acto_test_close_system(acto_test_env *env, acto_system *sys);

/* Runs env's loop until nothing is runnable (a system's handles are
 * unreferenced while idle, and with virtual time no libuv timer is armed,
 * so the loop then stops by itself); fails the test if it is not quiet
 * within 5 s. */
void acto_test_settle(acto_test_env *env);

/* Sends a bytes message of len bytes copied from data (NULL when len is 0)
 * from outside any actor. Returns acto's error; on failure the message is
 * freed. */
int acto_test_send_bytes(acto_system *sys, acto_ref to, uint32_t type,
                         const void *data, size_t len);

/* Sends a bytes message carrying n, as acto_test_send_bytes. */
int acto_test_send_int(acto_system *sys, acto_ref to, uint32_t type, int n);

/* The int a message carries, or -1 when its payload is not an int. */
int acto_test_msg_int(const acto_msg *m);

/* Fails the test unless sys's counters balance: sent = handled +
 * dead_letters + dropped + queued. */
void acto_test_assert_stats_balance(acto_system *sys);

/* ---- child processes -------------------------------------------------- */

/* A program run by a test, its standard output collected in text (stderr
 * is the test's own). Zeroed by acto_test_proc_start. */
typedef struct acto_test_proc {
    uv_process_t proc;
    uv_pipe_t out;
    char text[4096];
    size_t len;
    bool exited;
    int64_t status;
    int term_signal;
    int closed; /* handles closed: the process and the pipe */
} acto_test_proc;

/* acto_test_proc_start runs args[0] with args (NULL-terminated) on loop.
 * Fails the test if it cannot be started. p must stay put until
 * acto_test_proc_done holds. */
void acto_test_proc_start(uv_loop_t *loop, acto_test_proc *p, char **args);
/* A predicate: the process (an acto_test_proc *) exited and its handles
 * are closed. */
bool acto_test_proc_done(void *arg);
/* acto_test_proc_wait_for runs loop until p has printed want, failing the
 * test with what it did print after timeout_ms. */
void acto_test_proc_wait_for(uv_loop_t *loop, acto_test_proc *p,
                             const char *want, uint64_t timeout_ms);

#endif /* ACTO_TEST_H */
