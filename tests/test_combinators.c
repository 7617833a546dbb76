/* Combinators: gather, wait, as_completed, wait_for, shield and groups —
 * success, failure, cancellation, exact timeouts on virtual time, the empty
 * case, allocation failure at every allocation, and callbacks that are
 * never re-entered. Members are plain futures completed by the tests. */
#include "acto_test.h"

#include <string.h>

static int v0 = 10, v1 = 11, v2 = 12;

/* ---- the fixture ------------------------------------------------------ */

typedef struct fx {
    acto_test_env *env;
    acto_system *sys;
    int reports; /* errors that reached the exception handler */
    acto_future *m[3];
} fx;

static void
count_report(acto_system *sys, const acto_error *err, void *user)
{
    (void)sys;
    (void)err;
    (*(int *)user)++;
}

static void
fx_open(fx *x, void **state)
{
    memset(x, 0, sizeof(*x));
    x->env = *state;
    x->sys =
        acto_test_system(x->env, &(acto_system_opts){.virtual_time = true});
    acto_system_set_exception_handler(x->sys, count_report, &x->reports);
    for (int i = 0; i < 3; i++) {
        assert_acto_ok(acto_future_new(x->sys, &x->m[i]));
    }
}

/* fx_close releases the members and closes the system; no error may have
 * gone unread. */
static void
fx_close(fx *x)
{
    for (int i = 0; i < 3; i++) {
        acto_future_release(x->m[i]);
    }
    acto_test_settle(x->env);
    assert_int_equal(x->reports, 0);
    acto_test_close_system(x->env, x->sys);
}

static void
settle(fx *x)
{
    acto_test_settle(x->env);
}

static void
advance(fx *x, uint64_t ms)
{
    assert_acto_ok(acto_system_advance(x->sys, ms));
    acto_test_settle(x->env);
}

static void
set_value(acto_future *f, int *v)
{
    assert_acto_ok(acto_future_set_result(f, v, NULL, NULL));
}

static void
set_failed(acto_future *f, const char *type)
{
    assert_acto_ok(acto_future_set_error(f, ACTO_EINVAL, type, "bad %d", 1));
}

#define assert_state(f, s) assert_int_equal(acto_future_state_of(f), (s))

/* A done callback that counts its runs and whether it ran re-entered. */
typedef struct counter {
    int runs;
    int depth;
    int max_depth;
} counter;

static void
count_cb(acto_future *f, void *user)
{
    (void)f;
    counter *c = user;
    c->runs++;
}

static acto_future *
gather3(fx *x, bool return_exceptions)
{
    acto_future *out = NULL;
    assert_acto_ok(acto_gather(x->sys, x->m, 3, return_exceptions, &out));
    return out;
}

/* ---- gather ----------------------------------------------------------- */

static void
test_gather_collects_results_in_argument_order(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_future *out = gather3(&x, false);
    set_value(x.m[2], &v2);
    set_value(x.m[0], &v0);
    settle(&x);
    assert_state(out, ACTO_FUTURE_PENDING);
    set_value(x.m[1], &v1);
    settle(&x);
    assert_state(out, ACTO_FUTURE_DONE);
    acto_gather_result *r = NULL;
    assert_acto_ok(acto_future_result(out, (void **)&r));
    assert_int_equal(r->n, 3);
    int *want[3] = {&v0, &v1, &v2};
    for (size_t i = 0; i < 3; i++) {
        assert_ptr_equal(r->items[i].future, x.m[i]);
        assert_int_equal(r->items[i].state, ACTO_FUTURE_DONE);
        assert_ptr_equal(r->items[i].value, want[i]);
        assert_null(r->items[i].error);
    }
    /* The result keeps the members alive after the caller lets go. */
    for (int i = 0; i < 3; i++) {
        acto_future_release(x.m[i]);
        x.m[i] = NULL;
    }
    assert_int_equal(*(int *)r->items[2].value, 12);
    acto_future_release(out);
    fx_close(&x);
}

static void
test_gather_fails_with_the_first_error_and_cancels_the_rest(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_future *out = gather3(&x, false);
    set_failed(x.m[1], "ParseError");
    settle(&x);
    assert_state(out, ACTO_FUTURE_FAILED);
    const acto_error *e = acto_future_exception(out);
    assert_int_equal(e->code, ACTO_EINVAL);
    assert_string_equal(e->type, "ParseError");
    assert_string_equal(e->text, "bad 1");
    assert_true(acto_future_cancelled(x.m[0]));
    assert_true(acto_future_cancelled(x.m[2]));
    acto_future_release(out);
    fx_close(&x);
}

static void
test_gather_fails_when_a_member_is_cancelled(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_future *out = gather3(&x, false);
    assert_acto_ok(acto_future_cancel(x.m[0], NULL));
    settle(&x);
    assert_acto_err(acto_future_result(out, NULL), ACTO_ECANCELED);
    assert_string_equal(acto_future_exception(out)->type, "CancelledError");
    assert_true(acto_future_cancelled(x.m[1]));
    assert_true(acto_future_cancelled(x.m[2]));
    acto_future_release(out);
    fx_close(&x);
}

static void
test_gather_with_return_exceptions_collects_errors_in_place(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_future *out = gather3(&x, true);
    set_failed(x.m[1], "ParseError");
    settle(&x);
    /* Nothing is cancelled and out waits for the others. */
    assert_state(out, ACTO_FUTURE_PENDING);
    assert_state(x.m[0], ACTO_FUTURE_PENDING);
    assert_state(x.m[2], ACTO_FUTURE_PENDING);
    set_value(x.m[0], &v0);
    assert_acto_ok(acto_future_cancel(x.m[2], NULL));
    settle(&x);
    acto_gather_result *r = NULL;
    assert_acto_ok(acto_future_result(out, (void **)&r));
    assert_int_equal(r->items[0].state, ACTO_FUTURE_DONE);
    assert_ptr_equal(r->items[0].value, &v0);
    assert_int_equal(r->items[1].state, ACTO_FUTURE_FAILED);
    assert_null(r->items[1].value);
    assert_string_equal(r->items[1].error->type, "ParseError");
    assert_int_equal(r->items[2].state, ACTO_FUTURE_CANCELLED);
    assert_null(r->items[2].error);
    acto_future_release(out);
    fx_close(&x);
}

static void
test_gather_cancelled_cancels_every_member(void **state)
{
    fx x;
    fx_open(&x, state);
    set_value(x.m[0], &v0);
    acto_future *out = gather3(&x, true);
    assert_acto_ok(acto_future_cancel(out, NULL));
    settle(&x);
    assert_state(x.m[0], ACTO_FUTURE_DONE);
    assert_true(acto_future_cancelled(x.m[1]));
    assert_true(acto_future_cancelled(x.m[2]));
    assert_true(acto_future_cancelled(out));
    acto_future_release(out);
    fx_close(&x);
}

static void
test_gather_of_nothing_completes_at_once_through_callbacks(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_future *out = NULL;
    assert_acto_ok(acto_gather(x.sys, NULL, 0, false, &out));
    assert_state(out, ACTO_FUTURE_DONE);
    acto_gather_result *r = NULL;
    assert_acto_ok(acto_future_result(out, (void **)&r));
    assert_int_equal(r->n, 0);
    counter c = {0};
    assert_acto_ok(acto_future_add_done_cb(out, count_cb, &c));
    assert_int_equal(c.runs, 0); /* never inside the call */
    settle(&x);
    assert_int_equal(c.runs, 1);
    acto_future_release(out);
    fx_close(&x);
}

static void
test_gather_rejects_bad_arguments_and_changes_nothing(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_future *out = NULL;
    acto_future *with_null[2] = {x.m[0], NULL};
    assert_acto_err(acto_gather(x.sys, with_null, 2, false, &out), ACTO_EINVAL);
    assert_acto_err(acto_gather(NULL, x.m, 3, false, &out), ACTO_EINVAL);
    assert_acto_err(acto_gather(x.sys, x.m, 3, false, NULL), ACTO_EINVAL);
    assert_acto_err(acto_wait(x.sys, x.m, 3, (acto_wait_mode)7, 0, &out),
                    ACTO_EINVAL);
    assert_acto_err(acto_as_completed(x.sys, x.m, 3, 0, NULL, NULL, &out),
                    ACTO_EINVAL);
    assert_null(out);
    fx_close(&x);
}

/* ---- wait ------------------------------------------------------------- */

static acto_wait_result *
wait_result(acto_future *out)
{
    acto_wait_result *r = NULL;
    assert_acto_ok(acto_future_result(out, (void **)&r));
    return r;
}

static void
test_wait_first_completed_returns_the_done_and_the_pending(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_future *out = NULL;
    assert_acto_ok(
        acto_wait(x.sys, x.m, 3, ACTO_WAIT_FIRST_COMPLETED, 0, &out));
    settle(&x);
    assert_state(out, ACTO_FUTURE_PENDING);
    set_value(x.m[1], &v1);
    settle(&x);
    acto_wait_result *r = wait_result(out);
    assert_int_equal(r->n_done, 1);
    assert_ptr_equal(r->done[0], x.m[1]);
    assert_int_equal(r->n_pending, 2);
    assert_ptr_equal(r->pending[0], x.m[0]);
    assert_ptr_equal(r->pending[1], x.m[2]);
    /* wait cancels nothing, and no longer watches the rest. */
    assert_state(x.m[0], ACTO_FUTURE_PENDING);
    assert_state(x.m[2], ACTO_FUTURE_PENDING);
    set_value(x.m[0], &v0);
    settle(&x);
    acto_future_release(out);
    fx_close(&x);
}

static void
test_wait_first_exception_ends_on_a_failure_not_a_result(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_future *out = NULL;
    assert_acto_ok(
        acto_wait(x.sys, x.m, 3, ACTO_WAIT_FIRST_EXCEPTION, 0, &out));
    set_value(x.m[0], &v0);
    assert_acto_ok(acto_future_cancel(x.m[1], NULL));
    settle(&x);
    assert_state(out, ACTO_FUTURE_PENDING); /* cancelled is no exception */
    set_failed(x.m[2], "IOError");
    settle(&x);
    acto_wait_result *r = wait_result(out);
    assert_int_equal(r->n_done, 3);
    assert_int_equal(r->n_pending, 0);
    assert_ptr_equal(r->done[2], x.m[2]);
    /* wait does not read errors: the caller does. */
    assert_non_null(acto_future_exception(x.m[2]));
    acto_future_release(out);
    fx_close(&x);
}

static void
test_wait_first_exception_without_failure_waits_for_all(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_future *out = NULL;
    assert_acto_ok(
        acto_wait(x.sys, x.m, 2, ACTO_WAIT_FIRST_EXCEPTION, 0, &out));
    set_value(x.m[0], &v0);
    settle(&x);
    assert_state(out, ACTO_FUTURE_PENDING);
    set_value(x.m[1], &v1);
    settle(&x);
    acto_wait_result *r = wait_result(out);
    assert_int_equal(r->n_done, 2);
    assert_int_equal(r->n_pending, 0);
    acto_future_release(out);
    fx_close(&x);
}

static void
test_wait_all_completed_waits_for_every_member(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_future *out = NULL;
    assert_acto_ok(acto_wait(x.sys, x.m, 3, ACTO_WAIT_ALL_COMPLETED, 0, &out));
    set_failed(x.m[0], "E");
    set_value(x.m[1], &v1);
    settle(&x);
    assert_state(out, ACTO_FUTURE_PENDING);
    set_value(x.m[2], &v2);
    settle(&x);
    acto_wait_result *r = wait_result(out);
    assert_int_equal(r->n_done, 3);
    assert_ptr_equal(r->done[0], x.m[0]);
    assert_ptr_equal(r->done[1], x.m[1]);
    assert_ptr_equal(r->done[2], x.m[2]);
    assert_int_equal(r->n_pending, 0);
    assert_non_null(acto_future_exception(x.m[0]));
    acto_future_release(out);
    fx_close(&x);
}

static void
test_wait_times_out_exactly_and_cancels_nothing(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_future *out = NULL;
    assert_acto_ok(
        acto_wait(x.sys, x.m, 3, ACTO_WAIT_ALL_COMPLETED, 100, &out));
    set_value(x.m[0], &v0);
    settle(&x);
    advance(&x, 99);
    assert_state(out, ACTO_FUTURE_PENDING);
    advance(&x, 1);
    acto_wait_result *r = wait_result(out);
    assert_int_equal(r->n_done, 1);
    assert_ptr_equal(r->done[0], x.m[0]);
    assert_int_equal(r->n_pending, 2);
    assert_ptr_equal(r->pending[0], x.m[1]);
    assert_ptr_equal(r->pending[1], x.m[2]);
    assert_state(x.m[1], ACTO_FUTURE_PENDING);
    assert_state(x.m[2], ACTO_FUTURE_PENDING);
    acto_future_release(out);
    fx_close(&x);
}

static void
test_wait_done_before_its_timeout_disarms_the_timer(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_future *out = NULL;
    assert_acto_ok(
        acto_wait(x.sys, x.m, 1, ACTO_WAIT_FIRST_COMPLETED, 100, &out));
    set_value(x.m[0], &v0);
    settle(&x);
    assert_int_equal(wait_result(out)->n_done, 1);
    advance(&x, 1000); /* a late timeout would find nothing to do */
    assert_int_equal(wait_result(out)->n_done, 1);
    acto_future_release(out);
    fx_close(&x);
}

static void
test_wait_cancelled_cancels_no_member(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_future *out = NULL;
    assert_acto_ok(acto_wait(x.sys, x.m, 3, ACTO_WAIT_ALL_COMPLETED, 50, &out));
    assert_acto_ok(acto_future_cancel(out, NULL));
    settle(&x);
    advance(&x, 50);
    for (int i = 0; i < 3; i++) {
        assert_state(x.m[i], ACTO_FUTURE_PENDING);
    }
    assert_true(acto_future_cancelled(out));
    acto_future_release(out);
    fx_close(&x);
}

static void
test_wait_on_nothing_completes_at_once_with_empty_sets(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_future *out = NULL;
    assert_acto_ok(
        acto_wait(x.sys, NULL, 0, ACTO_WAIT_FIRST_COMPLETED, 10, &out));
    acto_wait_result *r = wait_result(out);
    assert_int_equal(r->n_done, 0);
    assert_int_equal(r->n_pending, 0);
    acto_future_release(out);
    fx_close(&x);
}

/* ---- as_completed ----------------------------------------------------- */

typedef struct deliveries {
    int n;
    size_t index[8];
    int status[8];
    int depth;
    int max_depth;
    acto_future *complete_inside; /* completed from inside the first cb */
} deliveries;

static void
on_delivery(acto_future *member, size_t index, int status, void *user)
{
    deliveries *d = user;
    d->depth++;
    if (d->depth > d->max_depth) {
        d->max_depth = d->depth;
    }
    assert_non_null(member);
    d->index[d->n] = index;
    d->status[d->n] = status;
    d->n++;
    if (d->complete_inside != NULL) {
        acto_future *f = d->complete_inside;
        d->complete_inside = NULL;
        set_value(f, &v0);
        assert_int_equal(d->n, 1); /* not delivered inside this call */
    }
    d->depth--;
}

static void
test_as_completed_delivers_in_completion_order(void **state)
{
    fx x;
    fx_open(&x, state);
    deliveries d = {0};
    acto_future *out = NULL;
    assert_acto_ok(acto_as_completed(x.sys, x.m, 3, 0, on_delivery, &d, &out));
    set_value(x.m[2], &v2);
    settle(&x);
    assert_int_equal(d.n, 1);
    set_value(x.m[0], &v0);
    set_value(x.m[1], &v1);
    settle(&x);
    assert_int_equal(d.n, 3);
    size_t want[3] = {2, 0, 1};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(d.index[i], want[i]);
        assert_int_equal(d.status[i], 0);
    }
    assert_state(out, ACTO_FUTURE_DONE);
    acto_future_release(out);
    fx_close(&x);
}

static void
test_as_completed_times_out_the_rest_exactly(void **state)
{
    fx x;
    fx_open(&x, state);
    deliveries d = {0};
    acto_future *out = NULL;
    assert_acto_ok(acto_as_completed(x.sys, x.m, 3, 50, on_delivery, &d, &out));
    set_value(x.m[1], &v1);
    settle(&x);
    advance(&x, 49);
    assert_int_equal(d.n, 1);
    assert_state(out, ACTO_FUTURE_PENDING);
    advance(&x, 1);
    assert_int_equal(d.n, 3);
    assert_int_equal(d.index[1], 0);
    assert_int_equal(d.status[1], ACTO_ETIMEDOUT);
    assert_int_equal(d.index[2], 2);
    assert_int_equal(d.status[2], ACTO_ETIMEDOUT);
    assert_acto_err(acto_future_result(out, NULL), ACTO_ETIMEDOUT);
    /* No member is cancelled, and a late completion is not delivered. */
    assert_state(x.m[0], ACTO_FUTURE_PENDING);
    set_value(x.m[0], &v0);
    settle(&x);
    assert_int_equal(d.n, 3);
    acto_future_release(out);
    fx_close(&x);
}

static void
test_as_completed_cancelled_delivers_the_rest_as_cancelled(void **state)
{
    fx x;
    fx_open(&x, state);
    deliveries d = {0};
    acto_future *out = NULL;
    assert_acto_ok(acto_as_completed(x.sys, x.m, 3, 0, on_delivery, &d, &out));
    set_value(x.m[2], &v2);
    settle(&x);
    assert_acto_ok(acto_future_cancel(out, NULL));
    settle(&x);
    assert_int_equal(d.n, 3);
    assert_int_equal(d.index[1], 0);
    assert_int_equal(d.status[1], ACTO_ECANCELED);
    assert_int_equal(d.index[2], 1);
    assert_int_equal(d.status[2], ACTO_ECANCELED);
    assert_state(x.m[0], ACTO_FUTURE_PENDING);
    acto_future_release(out);
    fx_close(&x);
}

static void
test_as_completed_of_nothing_completes_at_once(void **state)
{
    fx x;
    fx_open(&x, state);
    deliveries d = {0};
    acto_future *out = NULL;
    assert_acto_ok(
        acto_as_completed(x.sys, NULL, 0, 10, on_delivery, &d, &out));
    assert_state(out, ACTO_FUTURE_DONE);
    settle(&x);
    assert_int_equal(d.n, 0);
    acto_future_release(out);
    fx_close(&x);
}

static void
test_as_completed_callback_is_never_re_entered(void **state)
{
    fx x;
    fx_open(&x, state);
    deliveries d = {.complete_inside = NULL};
    acto_future *out = NULL;
    assert_acto_ok(acto_as_completed(x.sys, x.m, 2, 0, on_delivery, &d, &out));
    d.complete_inside = x.m[0];
    set_value(x.m[1], &v1);
    settle(&x);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.max_depth, 1);
    assert_int_equal(d.index[0], 1);
    assert_int_equal(d.index[1], 0);
    assert_state(out, ACTO_FUTURE_DONE);
    acto_future_release(out);
    fx_close(&x);
}

/* ---- wait_for --------------------------------------------------------- */

static void
test_wait_for_mirrors_a_result_in_time(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_future *out = NULL;
    assert_acto_ok(acto_wait_for(x.sys, x.m[0], 100, &out));
    advance(&x, 99);
    set_value(x.m[0], &v0);
    settle(&x);
    void *v = NULL;
    assert_acto_ok(acto_future_result(out, &v));
    assert_ptr_equal(v, &v0);
    advance(&x, 10);
    assert_state(out, ACTO_FUTURE_DONE);
    acto_future_release(out);
    fx_close(&x);
}

static void
test_wait_for_mirrors_an_error_and_a_cancellation(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_future *a = NULL, *b = NULL;
    assert_acto_ok(acto_wait_for(x.sys, x.m[0], 0, &a));
    assert_acto_ok(acto_wait_for(x.sys, x.m[1], 0, &b));
    set_failed(x.m[0], "ParseError");
    assert_acto_ok(acto_future_cancel(x.m[1], "stop"));
    settle(&x);
    assert_string_equal(acto_future_exception(a)->type, "ParseError");
    assert_true(acto_future_cancelled(b));
    assert_string_equal(acto_future_cancel_message(b), "stop");
    acto_future_release(a);
    acto_future_release(b);
    fx_close(&x);
}

static void
test_wait_for_times_out_exactly_and_cancels_its_future(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_future *out = NULL;
    assert_acto_ok(acto_wait_for(x.sys, x.m[0], 100, &out));
    advance(&x, 99);
    assert_state(out, ACTO_FUTURE_PENDING);
    assert_state(x.m[0], ACTO_FUTURE_PENDING);
    advance(&x, 1);
    assert_true(acto_future_cancelled(x.m[0]));
    assert_acto_err(acto_future_result(out, NULL), ACTO_ETIMEDOUT);
    assert_string_equal(acto_future_exception(out)->type, "TimeoutError");
    acto_future_release(out);
    fx_close(&x);
}

static void
test_wait_for_cancelled_cancels_its_future(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_future *out = NULL;
    assert_acto_ok(acto_wait_for(x.sys, x.m[0], 100, &out));
    assert_acto_ok(acto_future_cancel(out, NULL));
    settle(&x);
    assert_true(acto_future_cancelled(x.m[0]));
    advance(&x, 100);
    assert_true(acto_future_cancelled(out));
    acto_future_release(out);
    fx_close(&x);
}

static void
test_wait_for_without_timeout_waits_as_long_as_it_takes(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_future *out = NULL;
    assert_acto_ok(acto_wait_for(x.sys, x.m[0], 0, &out));
    advance(&x, 1000000);
    assert_state(out, ACTO_FUTURE_PENDING);
    set_value(x.m[0], &v0);
    settle(&x);
    assert_state(out, ACTO_FUTURE_DONE);
    acto_future_release(out);
    fx_close(&x);
}

/* ---- shield ----------------------------------------------------------- */

static void
test_shield_mirrors_its_future(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_future *out = NULL;
    assert_acto_ok(acto_shield(x.sys, x.m[0], &out));
    set_value(x.m[0], &v0);
    settle(&x);
    void *v = NULL;
    assert_acto_ok(acto_future_result(out, &v));
    assert_ptr_equal(v, &v0);
    acto_future_release(out);
    fx_close(&x);
}

static void
test_shield_cancelled_keeps_its_future_running(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_future *out = NULL, *out2 = NULL;
    assert_acto_ok(acto_shield(x.sys, x.m[0], &out));
    assert_acto_ok(acto_shield(x.sys, x.m[1], &out2));
    assert_acto_ok(acto_future_cancel(out, NULL));
    assert_acto_ok(acto_future_cancel(out2, NULL));
    settle(&x);
    assert_state(x.m[0], ACTO_FUTURE_PENDING);
    acto_future_release(out);
    acto_future_release(out2);
    /* The inner work finishes; its error, unreadable through the
     * cancelled shield, is not reported as never retrieved. */
    set_value(x.m[0], &v0);
    set_failed(x.m[1], "Late");
    settle(&x);
    assert_state(x.m[0], ACTO_FUTURE_DONE);
    fx_close(&x);
}

/* ---- groups ----------------------------------------------------------- */

static acto_group *
group_of(fx *x, int n)
{
    acto_group *g = NULL;
    assert_acto_ok(acto_group_new(x->sys, &g));
    for (int i = 0; i < n; i++) {
        assert_acto_ok(acto_group_add(g, x->m[i]));
    }
    return g;
}

static void
test_group_completes_only_when_every_member_finished(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_group *g = group_of(&x, 2);
    set_value(x.m[0], &v0);
    settle(&x);
    assert_acto_ok(acto_group_add(g, x.m[2])); /* members come and go */
    acto_future *done = NULL;
    assert_acto_ok(acto_group_close(g, &done));
    assert_acto_err(acto_group_add(g, x.m[0]), ACTO_ECLOSED);
    assert_acto_err(acto_group_close(g, &done), ACTO_ECLOSED);
    set_value(x.m[1], &v1);
    settle(&x);
    assert_state(done, ACTO_FUTURE_PENDING);
    set_value(x.m[2], &v2);
    settle(&x);
    assert_state(done, ACTO_FUTURE_DONE);
    assert_int_equal(acto_group_errors(g, NULL, 0), 0);
    assert_acto_err(acto_group_cancel(g), ACTO_EDONE);
    acto_group_free(g);
    acto_future_release(done);
    fx_close(&x);
}

static void
test_group_failure_cancels_siblings_and_reports_all_errors(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_group *g = group_of(&x, 3);
    acto_future *done = NULL;
    assert_acto_ok(acto_group_close(g, &done));
    /* Two fail in one turn, before the group hears of either. */
    set_failed(x.m[1], "First");
    set_failed(x.m[2], "Second");
    settle(&x);
    assert_true(acto_future_cancelled(x.m[0]));
    assert_state(done, ACTO_FUTURE_FAILED);
    assert_string_equal(acto_future_exception(done)->type, "First");
    const acto_error *errs[4] = {0};
    assert_int_equal(acto_group_errors(g, errs, 4), 2);
    assert_string_equal(errs[0]->type, "First");
    assert_string_equal(errs[1]->type, "Second");
    assert_int_equal(acto_group_errors(g, errs, 1), 2);
    acto_group_free(g);
    acto_future_release(done);
    fx_close(&x);
}

static void
test_group_waits_for_cancelled_siblings_that_finish_late(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_group *g = group_of(&x, 2);
    acto_future *done = NULL;
    assert_acto_ok(acto_group_close(g, &done));
    /* m[0] completes in the same turn m[1] fails, so the cancel finds it
     * done: the group still waits for its callback. */
    set_failed(x.m[1], "Boom");
    set_value(x.m[0], &v0);
    settle(&x);
    assert_state(x.m[0], ACTO_FUTURE_DONE);
    assert_string_equal(acto_future_exception(done)->type, "Boom");
    assert_acto_err(acto_group_add(g, x.m[2]), ACTO_ECLOSED);
    acto_group_free(g);
    acto_future_release(done);
    fx_close(&x);
}

static void
test_group_refuses_members_once_aborted(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_group *g = group_of(&x, 1);
    set_failed(x.m[0], "Boom");
    settle(&x);
    assert_acto_err(acto_group_add(g, x.m[1]), ACTO_ECANCELED);
    assert_state(x.m[1], ACTO_FUTURE_PENDING);
    acto_future *done = NULL;
    assert_acto_ok(acto_group_close(g, &done));
    assert_state(done, ACTO_FUTURE_FAILED); /* nothing left to wait for */
    assert_non_null(acto_future_exception(done));
    acto_group_free(g);
    acto_future_release(done);
    fx_close(&x);
}

static void
test_group_cancel_cancels_members_and_then_done(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_group *g = group_of(&x, 3);
    set_value(x.m[0], &v0);
    acto_future *done = NULL;
    assert_acto_ok(acto_group_close(g, &done));
    assert_acto_ok(acto_group_cancel(g));
    assert_state(x.m[0], ACTO_FUTURE_DONE);
    assert_true(acto_future_cancelled(x.m[1]));
    assert_true(acto_future_cancelled(x.m[2]));
    assert_state(done, ACTO_FUTURE_PENDING); /* callbacks not run yet */
    settle(&x);
    assert_true(acto_future_cancelled(done));
    acto_group_free(g);
    acto_future_release(done);
    fx_close(&x);
}

static void
test_group_done_cancelled_cancels_the_members(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_group *g = group_of(&x, 2);
    acto_future *done = NULL;
    assert_acto_ok(acto_group_close(g, &done));
    assert_acto_ok(acto_future_cancel(done, NULL));
    settle(&x);
    assert_true(acto_future_cancelled(x.m[0]));
    assert_true(acto_future_cancelled(x.m[1]));
    acto_group_free(g);
    acto_future_release(done);
    fx_close(&x);
}

static void
test_group_empty_completes_at_once_and_free_cancels_an_open_one(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_group *g = group_of(&x, 0);
    acto_future *done = NULL;
    assert_acto_ok(acto_group_close(g, &done));
    assert_state(done, ACTO_FUTURE_DONE);
    acto_group_free(g);
    acto_future_release(done);
    g = group_of(&x, 2);
    acto_group_free(g);
    assert_true(acto_future_cancelled(x.m[0]));
    assert_true(acto_future_cancelled(x.m[1]));
    settle(&x);
    acto_group_free(NULL);
    fx_close(&x);
}

/* ---- allocation failure ----------------------------------------------- */

/* What a combinator call under test does: 0 or an error, *out on 0. */
typedef int (*make_fn)(fx *x, acto_future **out);

static int
make_gather(fx *x, acto_future **out)
{
    return acto_gather(x->sys, x->m, 3, false, out);
}

static int
make_wait(fx *x, acto_future **out)
{
    return acto_wait(x->sys, x->m, 3, ACTO_WAIT_ALL_COMPLETED, 100, out);
}

static deliveries oom_d;

static int
make_as_completed(fx *x, acto_future **out)
{
    return acto_as_completed(x->sys, x->m, 3, 100, on_delivery, &oom_d, out);
}

static int
make_wait_for(fx *x, acto_future **out)
{
    return acto_wait_for(x->sys, x->m[0], 100, out);
}

static int
make_shield(fx *x, acto_future **out)
{
    return acto_shield(x->sys, x->m[0], out);
}

static int
idle_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)ctx;
    (void)state;
    (void)m;
    return 0;
}

/* warm_actor_caches spawns, names and stops an actor and sets a timer
 * once, so the system's own caches (actor slabs, slot, timer and name
 * tables, the message pool), which outlive
 * their actors until the system closes, exist before allocations are
 * counted: after that a failed timed combinator must return the count to
 * exactly where it was. */
static void
warm_actor_caches(fx *x)
{
    static const acto_behaviour b = {idle_receive, NULL, NULL};
    acto_ref r;
    assert_acto_ok(acto_spawn(x->sys, &b, NULL, NULL, &r));
    assert_acto_ok(acto_register(x->sys, "warm", r));
    assert_acto_ok(acto_stop(x->sys, r));
    acto_msg *m;
    uint64_t id;
    assert_acto_ok(acto_msg_new_bytes(x->sys, 1, NULL, 0, &m));
    assert_acto_ok(acto_send_after(x->sys, 10, r, m, &id));
    assert_acto_ok(acto_timer_cancel(x->sys, id)); /* m: to the pool */
    settle(x);
}

/* fail_every_allocation fails the 1st, 2nd, ... allocation of make until
 * it succeeds; after each failure nothing may have changed: no allocation
 * left, no actor left, members pending and unwatched. Then the combinator
 * made at last must work: the members complete, out completes. */
static void
fail_every_allocation(void **state, make_fn make, bool timed)
{
    fx x;
    fx_open(&x, state);
    memset(&oom_d, 0, sizeof(oom_d));
    if (timed) {
        warm_actor_caches(&x);
    }
    acto_stats before;
    acto_system_stats(x.sys, &before);
    long live = acto_test_alloc_live();
    acto_future *out = NULL;
    int rc;
    long n = 0;
    do {
        acto_test_alloc_fail_nth(++n);
        rc = make(&x, &out);
        bool failed = acto_test_alloc_failed();
        acto_test_alloc_fail_nth(0);
        if (rc != 0) {
            assert_acto_err(rc, ACTO_ENOMEM);
            assert_true(failed);
            assert_null(out);
            settle(&x);
            acto_stats now;
            acto_system_stats(x.sys, &now);
            assert_int_equal(now.live, before.live);
            assert_int_equal(acto_test_alloc_live(), live);
            for (int i = 0; i < 3; i++) {
                assert_state(x.m[i], ACTO_FUTURE_PENDING);
            }
        }
    } while (rc != 0);
    assert_true(n > 1);
    for (int i = 0; i < 3; i++) {
        set_value(x.m[i], &v0);
    }
    settle(&x);
    assert_state(out, ACTO_FUTURE_DONE);
    if (timed) {
        advance(&x, 100); /* the disarmed timer stays quiet */
        assert_state(out, ACTO_FUTURE_DONE);
    }
    acto_future_release(out);
    fx_close(&x);
}

static void
test_gather_survives_allocation_failure_at_every_allocation(void **state)
{
    fail_every_allocation(state, make_gather, false);
}

static void
test_wait_survives_allocation_failure_at_every_allocation(void **state)
{
    fail_every_allocation(state, make_wait, true);
}

static void
test_as_completed_survives_allocation_failure_at_every_allocation(void **state)
{
    fail_every_allocation(state, make_as_completed, true);
    assert_int_equal(oom_d.n, 3);
}

static void
test_wait_for_survives_allocation_failure_at_every_allocation(void **state)
{
    fail_every_allocation(state, make_wait_for, true);
}

static void
test_shield_survives_allocation_failure_at_every_allocation(void **state)
{
    fail_every_allocation(state, make_shield, false);
}

static void
test_group_survives_allocation_failure_at_every_allocation(void **state)
{
    fx x;
    fx_open(&x, state);
    long live = acto_test_alloc_live();
    acto_group *g = NULL;
    int rc;
    long n = 0;
    do {
        acto_test_alloc_fail_nth(++n);
        rc = acto_group_new(x.sys, &g);
        acto_test_alloc_fail_nth(0);
        if (rc != 0) {
            assert_acto_err(rc, ACTO_ENOMEM);
            assert_int_equal(acto_test_alloc_live(), live);
        }
    } while (rc != 0);
    for (int i = 0; i < 3; i++) {
        n = 0;
        do {
            live = acto_test_alloc_live();
            acto_test_alloc_fail_nth(++n);
            rc = acto_group_add(g, x.m[i]);
            acto_test_alloc_fail_nth(0);
            if (rc != 0) {
                assert_acto_err(rc, ACTO_ENOMEM);
                assert_int_equal(acto_test_alloc_live(), live);
            }
        } while (rc != 0);
    }
    acto_future *done = NULL;
    n = 0;
    do {
        live = acto_test_alloc_live();
        acto_test_alloc_fail_nth(++n);
        rc = acto_group_close(g, &done);
        acto_test_alloc_fail_nth(0);
        if (rc != 0) {
            assert_acto_err(rc, ACTO_ENOMEM);
            assert_int_equal(acto_test_alloc_live(), live);
            assert_acto_ok(acto_group_add(g, x.m[0])); /* still open */
        }
    } while (rc != 0);
    for (int i = 0; i < 3; i++) {
        set_value(x.m[i], &v0);
    }
    settle(&x);
    assert_state(done, ACTO_FUTURE_DONE);
    acto_group_free(g);
    acto_future_release(done);
    fx_close(&x);
}

/* ---- closing ---------------------------------------------------------- */

static void
test_closing_the_system_ends_pending_combinators(void **state)
{
    fx x;
    fx_open(&x, state);
    acto_future *outs[4] = {0};
    assert_acto_ok(acto_gather(x.sys, x.m, 3, true, &outs[0]));
    assert_acto_ok(
        acto_wait(x.sys, x.m, 3, ACTO_WAIT_ALL_COMPLETED, 1000, &outs[1]));
    assert_acto_ok(acto_wait_for(x.sys, x.m[0], 1000, &outs[2]));
    assert_acto_ok(acto_shield(x.sys, x.m[1], &outs[3]));
    acto_group *g = group_of(&x, 3);
    settle(&x);
    for (int i = 0; i < 4; i++) {
        acto_future_release(outs[i]);
    }
    acto_group_free(g);
    /* Members and combinators still pending are cancelled by the close;
     * the teardown proves nothing is left. */
    fx_close(&x);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(test_gather_collects_results_in_argument_order),
        acto_unit_test(
            test_gather_fails_with_the_first_error_and_cancels_the_rest),
        acto_unit_test(test_gather_fails_when_a_member_is_cancelled),
        acto_unit_test(
            test_gather_with_return_exceptions_collects_errors_in_place),
        acto_unit_test(test_gather_cancelled_cancels_every_member),
        acto_unit_test(
            test_gather_of_nothing_completes_at_once_through_callbacks),
        acto_unit_test(test_gather_rejects_bad_arguments_and_changes_nothing),
        acto_unit_test(
            test_wait_first_completed_returns_the_done_and_the_pending),
        acto_unit_test(
            test_wait_first_exception_ends_on_a_failure_not_a_result),
        acto_unit_test(test_wait_first_exception_without_failure_waits_for_all),
        acto_unit_test(test_wait_all_completed_waits_for_every_member),
        acto_unit_test(test_wait_times_out_exactly_and_cancels_nothing),
        acto_unit_test(test_wait_done_before_its_timeout_disarms_the_timer),
        acto_unit_test(test_wait_cancelled_cancels_no_member),
        acto_unit_test(test_wait_on_nothing_completes_at_once_with_empty_sets),
        acto_unit_test(test_as_completed_delivers_in_completion_order),
        acto_unit_test(test_as_completed_times_out_the_rest_exactly),
        acto_unit_test(
            test_as_completed_cancelled_delivers_the_rest_as_cancelled),
        acto_unit_test(test_as_completed_of_nothing_completes_at_once),
        acto_unit_test(test_as_completed_callback_is_never_re_entered),
        acto_unit_test(test_wait_for_mirrors_a_result_in_time),
        acto_unit_test(test_wait_for_mirrors_an_error_and_a_cancellation),
        acto_unit_test(test_wait_for_times_out_exactly_and_cancels_its_future),
        acto_unit_test(test_wait_for_cancelled_cancels_its_future),
        acto_unit_test(test_wait_for_without_timeout_waits_as_long_as_it_takes),
        acto_unit_test(test_shield_mirrors_its_future),
        acto_unit_test(test_shield_cancelled_keeps_its_future_running),
        acto_unit_test(test_group_completes_only_when_every_member_finished),
        acto_unit_test(
            test_group_failure_cancels_siblings_and_reports_all_errors),
        acto_unit_test(
            test_group_waits_for_cancelled_siblings_that_finish_late),
        acto_unit_test(test_group_refuses_members_once_aborted),
        acto_unit_test(test_group_cancel_cancels_members_and_then_done),
        acto_unit_test(test_group_done_cancelled_cancels_the_members),
        acto_unit_test(
            test_group_empty_completes_at_once_and_free_cancels_an_open_one),
        acto_unit_test(
            test_gather_survives_allocation_failure_at_every_allocation),
        acto_unit_test(
            test_wait_survives_allocation_failure_at_every_allocation),
        acto_unit_test(
            test_as_completed_survives_allocation_failure_at_every_allocation),
        acto_unit_test(
            test_wait_for_survives_allocation_failure_at_every_allocation),
        acto_unit_test(
            test_shield_survives_allocation_failure_at_every_allocation),
        acto_unit_test(
            test_group_survives_allocation_failure_at_every_allocation),
        acto_unit_test(test_closing_the_system_ends_pending_combinators),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
