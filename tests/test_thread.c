/* acto_to_thread: blocking work on libuv's pool, its outcome as a future. */
#include "acto_test.h"

#include <acto/thread.h>

#include <stdatomic.h>
#include <stdlib.h>

/* libuv's pool size, fixed by main before the pool starts. */
#define POOL 4

/* ---- helpers ---------------------------------------------------------- */

static atomic_int fn_runs;
static atomic_int results_freed;
static atomic_int args_freed;

/* A gate pool threads wait at until the test opens it. */
typedef struct gate {
    uv_mutex_t mu;
    uv_cond_t cond;
    int arrived;
    bool open;
} gate;

static void
gate_init(gate *g)
{
    assert_int_equal(uv_mutex_init(&g->mu), 0);
    assert_int_equal(uv_cond_init(&g->cond), 0);
    g->arrived = 0;
    g->open = false;
}

static void
gate_fini(gate *g)
{
    uv_cond_destroy(&g->cond);
    uv_mutex_destroy(&g->mu);
}

/* Waits (up to 5 s) until n threads are at the gate. */
static bool
gate_wait_arrived(gate *g, int n)
{
    uint64_t end = uv_hrtime() + 5000000000u;
    uv_mutex_lock(&g->mu);
    while (g->arrived < n && uv_hrtime() < end) {
        uv_cond_timedwait(&g->cond, &g->mu, 10000000u);
    }
    bool ok = g->arrived >= n;
    uv_mutex_unlock(&g->mu);
    return ok;
}

static void
gate_open(gate *g)
{
    uv_mutex_lock(&g->mu);
    g->open = true;
    uv_cond_broadcast(&g->cond);
    uv_mutex_unlock(&g->mu);
}

static void *
wait_at_gate(void *arg, int *err)
{
    (void)err;
    gate *g = arg;
    atomic_fetch_add(&fn_runs, 1);
    uv_mutex_lock(&g->mu);
    g->arrived++;
    uv_cond_broadcast(&g->cond);
    while (!g->open) {
        uv_cond_wait(&g->cond, &g->mu);
    }
    uv_mutex_unlock(&g->mu);
    int *r = malloc(sizeof(*r));
    *r = 7;
    return r;
}

static void
free_int(void *p, void *user)
{
    (void)user;
    atomic_fetch_add(&results_freed, 1);
    free(p);
}

static void
count_arg(void *p, void *user)
{
    (void)p;
    (void)user;
    atomic_fetch_add(&args_freed, 1);
}

/* Doubles the int at arg into a new int. */
static void *
twice(void *arg, int *err)
{
    (void)err;
    atomic_fetch_add(&fn_runs, 1);
    int *r = malloc(sizeof(*r));
    *r = 2 * *(int *)arg;
    return r;
}

/* What a done callback saw, and on which thread. */
typedef struct seen {
    int calls;
    bool on_loop_thread;
    acto_future_state state;
} seen;

static uv_thread_t loop_thread;

static void
on_seen(acto_future *f, void *user)
{
    seen *s = user;
    uv_thread_t self = uv_thread_self();
    s->calls++;
    s->on_loop_thread = uv_thread_equal(&self, &loop_thread) != 0;
    s->state = acto_future_state_of(f);
}

static bool
seen_once(void *arg)
{
    return ((seen *)arg)->calls == 1;
}

static bool
args_freed_reaches(void *arg)
{
    return atomic_load(&args_freed) >= *(int *)arg;
}

static acto_system *
thread_system(void **state)
{
    atomic_store(&fn_runs, 0);
    atomic_store(&results_freed, 0);
    atomic_store(&args_freed, 0);
    loop_thread = uv_thread_self();
    return acto_test_system(*state, NULL);
}

/* ---- tests ------------------------------------------------------------ */

static void
test_to_thread_delivers_the_result_on_the_loop_thread(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = thread_system(state);
    int in = 21;
    acto_future *f;
    seen s = {0};
    assert_acto_ok(
        acto_to_thread(sys, twice, &in, count_arg, free_int, NULL, &f));
    assert_acto_ok(acto_future_add_done_cb(f, on_seen, &s));
    assert_true(acto_test_run_until(&env->loop, seen_once, &s, 5000));
    assert_true(s.on_loop_thread);
    assert_int_equal(s.state, ACTO_FUTURE_DONE);
    void *v;
    assert_acto_ok(acto_future_result(f, &v));
    assert_int_equal(*(int *)v, 42);
    assert_int_equal(atomic_load(&args_freed), 1);
    assert_int_equal(atomic_load(&results_freed), 0);
    acto_future_release(f); /* frees the result */
    assert_int_equal(atomic_load(&results_freed), 1);
    acto_test_close_system(env, sys);
}

static void *
fail_with_arg(void *arg, int *err)
{
    atomic_fetch_add(&fn_runs, 1);
    *err = *(int *)arg;
    /* A result returned with an error is freed, not delivered. */
    return malloc(1);
}

static void
test_to_thread_fails_the_future_with_the_error_fn_sets(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = thread_system(state);
    int codes[2] = {UV_EIO, 5}; /* a positive code becomes ACTO_EFAILED */
    int want[2] = {UV_EIO, ACTO_EFAILED};
    for (int i = 0; i < 2; i++) {
        acto_future *f;
        seen s = {0};
        assert_acto_ok(acto_to_thread(sys, fail_with_arg, &codes[i], NULL,
                                      free_int, NULL, &f));
        assert_acto_ok(acto_future_add_done_cb(f, on_seen, &s));
        assert_true(acto_test_run_until(&env->loop, seen_once, &s, 5000));
        assert_true(s.on_loop_thread);
        assert_int_equal(s.state, ACTO_FUTURE_FAILED);
        assert_acto_err(acto_future_result(f, NULL), want[i]);
        const acto_error *e = acto_future_exception(f);
        assert_non_null(e);
        assert_int_equal(e->code, want[i]);
        acto_future_release(f);
    }
    assert_int_equal(atomic_load(&results_freed), 2);
    acto_test_close_system(env, sys);
}

static void
test_to_thread_runs_a_hundred_calls_concurrently(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = thread_system(state);
    enum { N = 100 };
    int in[N];
    acto_future *f[N];
    seen s[N];
    for (int i = 0; i < N; i++) {
        in[i] = i;
        s[i] = (seen){0};
        assert_acto_ok(acto_to_thread(sys, twice, &in[i], count_arg, free_int,
                                      NULL, &f[i]));
        assert_acto_ok(acto_future_add_done_cb(f[i], on_seen, &s[i]));
    }
    int n = N;
    assert_true(acto_test_run_until(&env->loop, args_freed_reaches, &n, 10000));
    acto_test_settle(env);
    for (int i = 0; i < N; i++) {
        assert_int_equal(s[i].calls, 1);
        assert_true(s[i].on_loop_thread);
        void *v;
        assert_acto_ok(acto_future_result(f[i], &v));
        assert_int_equal(*(int *)v, 2 * i);
        acto_future_release(f[i]);
    }
    assert_int_equal(atomic_load(&fn_runs), N);
    assert_int_equal(atomic_load(&results_freed), N);
    acto_test_close_system(env, sys);
}

static void
test_to_thread_cancelled_before_it_starts_never_runs(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = thread_system(state);
    gate g;
    gate_init(&g);
    /* Occupy every pool thread, so the next call stays queued. */
    acto_future *blockers[POOL];
    for (int i = 0; i < POOL; i++) {
        assert_acto_ok(acto_to_thread(sys, wait_at_gate, &g, count_arg,
                                      free_int, NULL, &blockers[i]));
    }
    assert_true(gate_wait_arrived(&g, POOL));
    int in = 1;
    acto_future *victim;
    seen s = {0};
    assert_acto_ok(
        acto_to_thread(sys, twice, &in, count_arg, free_int, NULL, &victim));
    assert_acto_ok(acto_future_add_done_cb(victim, on_seen, &s));
    assert_acto_ok(acto_future_cancel(victim, NULL));
    /* The work leaves the queue: its arg comes back while the pool is
     * still full. */
    int one = 1;
    assert_true(
        acto_test_run_until(&env->loop, args_freed_reaches, &one, 5000));
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.state, ACTO_FUTURE_CANCELLED);
    assert_acto_err(acto_future_result(victim, NULL), ACTO_ECANCELED);
    gate_open(&g);
    int all = POOL + 1;
    assert_true(
        acto_test_run_until(&env->loop, args_freed_reaches, &all, 5000));
    acto_test_settle(env);
    assert_int_equal(atomic_load(&fn_runs), POOL); /* not the victim */
    for (int i = 0; i < POOL; i++) {
        assert_int_equal(acto_future_state_of(blockers[i]), ACTO_FUTURE_DONE);
        acto_future_release(blockers[i]);
    }
    acto_future_release(victim);
    assert_int_equal(atomic_load(&results_freed), POOL);
    gate_fini(&g);
    acto_test_close_system(env, sys);
}

static void
test_to_thread_cancelled_while_running_ends_and_frees_its_result(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = thread_system(state);
    gate g;
    gate_init(&g);
    acto_future *f;
    seen s = {0};
    assert_acto_ok(
        acto_to_thread(sys, wait_at_gate, &g, count_arg, free_int, NULL, &f));
    assert_acto_ok(acto_future_add_done_cb(f, on_seen, &s));
    assert_true(gate_wait_arrived(&g, 1));
    assert_acto_ok(acto_future_cancel(f, NULL));
    assert_true(acto_test_run_until(&env->loop, seen_once, &s, 5000));
    assert_int_equal(s.state, ACTO_FUTURE_CANCELLED);
    /* Cancelled, but fn still runs: arg is still in use. */
    assert_int_equal(atomic_load(&args_freed), 0);
    gate_open(&g);
    int one = 1;
    assert_true(
        acto_test_run_until(&env->loop, args_freed_reaches, &one, 5000));
    assert_int_equal(atomic_load(&results_freed), 1);
    assert_true(acto_future_cancelled(f));
    acto_future_release(f);
    gate_fini(&g);
    acto_test_close_system(env, sys);
}

static void
test_to_thread_future_released_early_still_frees_everything(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = thread_system(state);
    int in = 3;
    acto_future *f;
    assert_acto_ok(
        acto_to_thread(sys, twice, &in, count_arg, free_int, NULL, &f));
    acto_future_release(f); /* nobody wants the result */
    int one = 1;
    assert_true(
        acto_test_run_until(&env->loop, args_freed_reaches, &one, 5000));
    acto_test_settle(env);
    assert_int_equal(atomic_load(&results_freed), 1);
    acto_test_close_system(env, sys);
}

static void
test_to_thread_in_flight_when_the_system_closes_is_cancelled(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = thread_system(state);
    gate g;
    gate_init(&g);
    acto_future *f;
    assert_acto_ok(
        acto_to_thread(sys, wait_at_gate, &g, count_arg, free_int, NULL, &f));
    assert_true(gate_wait_arrived(&g, 1));
    acto_test_close_system(env, sys);
    assert_true(acto_future_cancelled(f));
    gate_open(&g);
    int one = 1;
    assert_true(
        acto_test_run_until(&env->loop, args_freed_reaches, &one, 5000));
    assert_int_equal(atomic_load(&results_freed), 1);
    acto_future_release(f);
    gate_fini(&g);
}

static void
test_to_thread_fails_cleanly_when_out_of_memory(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = thread_system(state);
    int in = 5;
    acto_future *f = NULL;
    for (long n = 1;; n++) {
        long before = acto_test_alloc_live();
        acto_test_alloc_fail_nth(n);
        int rc = acto_to_thread(sys, twice, &in, count_arg, free_int, NULL, &f);
        acto_test_alloc_fail_nth(0);
        if (rc == 0) {
            break;
        }
        assert_acto_err(rc, ACTO_ENOMEM);
        acto_test_settle(env);
        assert_int_equal(acto_test_alloc_live(), before);
        assert_int_equal(atomic_load(&fn_runs), 0);
        assert_int_equal(atomic_load(&args_freed), 0);
    }
    int one = 1;
    assert_true(
        acto_test_run_until(&env->loop, args_freed_reaches, &one, 5000));
    acto_test_settle(env);
    void *v;
    assert_acto_ok(acto_future_result(f, &v));
    assert_int_equal(*(int *)v, 10);
    acto_future_release(f);
    assert_int_equal(atomic_load(&fn_runs), 1);
    acto_test_close_system(env, sys);
}

static void
test_to_thread_rejects_null_arguments(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = thread_system(state);
    acto_future *f;
    assert_acto_err(acto_to_thread(NULL, twice, NULL, NULL, NULL, NULL, &f),
                    ACTO_EINVAL);
    assert_acto_err(acto_to_thread(sys, NULL, NULL, NULL, NULL, NULL, &f),
                    ACTO_EINVAL);
    assert_acto_err(acto_to_thread(sys, twice, NULL, NULL, NULL, NULL, NULL),
                    ACTO_EINVAL);
    acto_test_close_system(env, sys);
}

int
main(void)
{
    /* Before the pool starts: the cancellation test fills exactly POOL
     * threads. */
    setenv("UV_THREADPOOL_SIZE", "4", 1);
    const struct CMUnitTest tests[] = {
        acto_unit_test(test_to_thread_delivers_the_result_on_the_loop_thread),
        acto_unit_test(test_to_thread_fails_the_future_with_the_error_fn_sets),
        acto_unit_test(test_to_thread_runs_a_hundred_calls_concurrently),
        acto_unit_test(test_to_thread_cancelled_before_it_starts_never_runs),
        acto_unit_test(
            test_to_thread_cancelled_while_running_ends_and_frees_its_result),
        acto_unit_test(
            test_to_thread_future_released_early_still_frees_everything),
        acto_unit_test(
            test_to_thread_in_flight_when_the_system_closes_is_cancelled),
        acto_unit_test(test_to_thread_fails_cleanly_when_out_of_memory),
        acto_unit_test(test_to_thread_rejects_null_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
