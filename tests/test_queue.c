/* acto_queue: asyncio.Queue semantics, the callback contract, cancellation,
 * join, shutdown, close and allocation failure. */
#include "acto_test.h"

#include <stdlib.h>
#include <string.h>

#define ITEM(i) ((void *)(uintptr_t)(i))
#define NUM(p) ((int)(uintptr_t)(p))

/* One completed callback, in the global order callbacks ran. */
typedef struct rec {
    int calls;
    int status;
    void *item;
    int order;
} rec;

static int cb_order;

static void
record_cb(acto_queue *q, int status, void *item, void *user)
{
    (void)q;
    rec *r = user;
    r->calls++;
    r->status = status;
    r->item = item;
    r->order = ++cb_order;
}

static acto_queue *
make_queue(acto_test_env *env, acto_queue_kind kind, size_t maxsize)
{
    acto_queue_opts o = {.kind = kind, .maxsize = maxsize};
    acto_queue *q = NULL;
    assert_acto_ok(acto_queue_alloc(&env->loop, &o, &q));
    return q;
}

/* Runs every callback that is due. The queue's handle is active only while
 * callbacks are due, so the loop goes quiet once they have all run. */
static void
flush(acto_test_env *env)
{
    assert_true(acto_test_quiesce(&env->loop, 2000));
}

static void
close_queue(acto_queue *q)
{
    assert_acto_ok(acto_queue_close(q, NULL, NULL));
}

static int
int_cmp(const void *a, const void *b, void *user)
{
    (void)user;
    /* Items encode priority * 100 + sequence; order by priority only. */
    int pa = NUM(a) / 100;
    int pb = NUM(b) / 100;
    return (pa > pb) - (pa < pb);
}

/* ---- construction ----------------------------------------------------- */

static void
test_queue_alloc_rejects_bad_arguments(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = NULL;
    acto_queue_opts bad_kind = {.kind = (acto_queue_kind)7};
    acto_queue_opts no_cmp = {.kind = ACTO_QUEUE_PRIORITY};
    assert_acto_err(acto_queue_alloc(NULL, NULL, &q), ACTO_EINVAL);
    assert_acto_err(acto_queue_alloc(&env->loop, NULL, NULL), ACTO_EINVAL);
    assert_acto_err(acto_queue_alloc(&env->loop, &bad_kind, &q), ACTO_EINVAL);
    assert_acto_err(acto_queue_alloc(&env->loop, &no_cmp, &q), ACTO_EINVAL);
    assert_null(q);
}

static void
test_queue_alloc_failure_at_every_allocation_is_enomem(void **state)
{
    acto_test_env *env = *state;
    for (long n = 1;; n++) {
        acto_test_alloc_fail_nth(n);
        acto_queue *q = NULL;
        int rc = acto_queue_alloc(&env->loop, NULL, &q);
        if (!acto_test_alloc_failed()) {
            assert_acto_ok(rc);
            close_queue(q);
            break;
        }
        assert_acto_err(rc, ACTO_ENOMEM);
        assert_null(q);
        assert_int_equal(acto_test_alloc_live(), 0);
    }
    acto_test_alloc_fail_nth(0);
}

/* ---- order ------------------------------------------------------------ */

static void
test_queue_fifo_returns_items_in_put_order(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 0);
    for (int i = 1; i <= 100; i++) {
        assert_acto_ok(acto_queue_put_nowait(q, ITEM(i)));
    }
    for (int i = 1; i <= 100; i++) {
        void *item;
        assert_acto_ok(acto_queue_get_nowait(q, &item));
        assert_int_equal(NUM(item), i);
    }
    close_queue(q);
}

static void
test_queue_fifo_keeps_order_across_wraparound_and_growth(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 0);
    int next_in = 1;
    int next_out = 1;
    /* Interleave so the ring wraps before it has to grow, many times. */
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 7 + round; i++) {
            assert_acto_ok(acto_queue_put_nowait(q, ITEM(next_in++)));
        }
        for (int i = 0; i < 5 + round / 2; i++) {
            void *item;
            assert_acto_ok(acto_queue_get_nowait(q, &item));
            assert_int_equal(NUM(item), next_out++);
        }
    }
    assert_int_equal(acto_queue_qsize(q), (size_t)(next_in - next_out));
    void *item;
    while (acto_queue_get_nowait(q, &item) == 0) {
        assert_int_equal(NUM(item), next_out++);
    }
    assert_int_equal(next_out, next_in);
    close_queue(q);
}

static void
test_queue_lifo_returns_newest_first(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_LIFO, 0);
    for (int i = 1; i <= 40; i++) {
        assert_acto_ok(acto_queue_put_nowait(q, ITEM(i)));
    }
    for (int i = 40; i >= 1; i--) {
        void *item;
        assert_acto_ok(acto_queue_get_nowait(q, &item));
        assert_int_equal(NUM(item), i);
    }
    close_queue(q);
}

static void
test_queue_priority_returns_lowest_first_and_ties_in_put_order(void **state)
{
    acto_test_env *env = *state;
    acto_queue_opts o = {.kind = ACTO_QUEUE_PRIORITY, .cmp = int_cmp};
    acto_queue *q;
    assert_acto_ok(acto_queue_alloc(&env->loop, &o, &q));
    /* 60 items, priorities 0..5 in a scrambled order; the last two digits
     * count puts per priority so ties can be checked. */
    int seen[6] = {0};
    srand(7);
    for (int i = 0; i < 60; i++) {
        int p = rand() % 6;
        assert_acto_ok(acto_queue_put_nowait(q, ITEM(p * 100 + seen[p]++)));
    }
    int last_p = -1;
    int last_seq = -1;
    for (int i = 0; i < 60; i++) {
        void *item;
        assert_acto_ok(acto_queue_get_nowait(q, &item));
        int p = NUM(item) / 100;
        int s = NUM(item) % 100;
        assert_true(p >= last_p);
        if (p == last_p) {
            assert_int_equal(s, last_seq + 1);
        } else {
            assert_int_equal(s, 0);
        }
        last_p = p;
        last_seq = s;
    }
    close_queue(q);
}

/* ---- observers and the nowait calls ----------------------------------- */

static void
test_queue_observers_report_size_empty_full_and_maxsize(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 2);
    assert_true(acto_queue_empty(q));
    assert_false(acto_queue_full(q));
    assert_int_equal(acto_queue_maxsize(q), 2);
    assert_ptr_equal(acto_queue_loop(q), &env->loop);
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(1)));
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(2)));
    assert_int_equal(acto_queue_qsize(q), 2);
    assert_false(acto_queue_empty(q));
    assert_true(acto_queue_full(q));
    close_queue(q);
}

static void
test_queue_unbounded_is_never_full(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 0);
    for (int i = 1; i <= 1000; i++) {
        assert_acto_ok(acto_queue_put_nowait(q, ITEM(i)));
    }
    assert_false(acto_queue_full(q));
    assert_int_equal(acto_queue_maxsize(q), 0);
    close_queue(q);
}

static void
test_queue_put_nowait_fails_when_full_and_changes_nothing(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 1);
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(1)));
    assert_acto_err(acto_queue_put_nowait(q, ITEM(2)), ACTO_EQUEUEFULL);
    assert_int_equal(acto_queue_qsize(q), 1);
    assert_int_equal(acto_queue_unfinished(q), 1);
    void *item;
    assert_acto_ok(acto_queue_get_nowait(q, &item));
    assert_int_equal(NUM(item), 1);
    close_queue(q);
}

static void
test_queue_get_nowait_fails_when_empty_and_leaves_item_untouched(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 0);
    void *item = ITEM(99);
    assert_acto_err(acto_queue_get_nowait(q, &item), ACTO_EQUEUEEMPTY);
    assert_int_equal(NUM(item), 99);
    close_queue(q);
}

/* ---- waiting put and get ---------------------------------------------- */

static void
test_queue_callbacks_never_run_inside_the_call(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 0);
    acto_queue_req put_req, get_req, join_req;
    rec put = {0}, get = {0}, join = {0};
    assert_acto_ok(acto_queue_put(q, &put_req, ITEM(1), record_cb, &put));
    assert_int_equal(put.calls, 0);
    flush(env);
    assert_int_equal(put.calls, 1);
    assert_acto_ok(put.status);
    assert_acto_ok(acto_queue_get(q, &get_req, record_cb, &get));
    assert_acto_ok(acto_queue_task_done(q));
    assert_acto_ok(acto_queue_join(q, &join_req, record_cb, &join));
    assert_int_equal(get.calls, 0);
    assert_int_equal(join.calls, 0);
    flush(env);
    assert_int_equal(get.calls, 1);
    assert_int_equal(NUM(get.item), 1);
    assert_int_equal(join.calls, 1);
    assert_acto_ok(join.status);
    close_queue(q);
}

static void
test_queue_waiting_calls_reject_missing_req_or_callback(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 0);
    acto_queue_req req;
    rec r = {0};
    assert_acto_err(acto_queue_put(q, NULL, ITEM(1), record_cb, &r),
                    ACTO_EINVAL);
    assert_acto_err(acto_queue_put(q, &req, ITEM(1), NULL, &r), ACTO_EINVAL);
    assert_acto_err(acto_queue_get(q, &req, NULL, &r), ACTO_EINVAL);
    assert_acto_err(acto_queue_join(q, NULL, record_cb, &r), ACTO_EINVAL);
    assert_acto_err(acto_queue_cancel(NULL), ACTO_EINVAL);
    assert_int_equal(acto_queue_qsize(q), 0);
    flush(env);
    assert_int_equal(r.calls, 0);
    close_queue(q);
}

static void
test_queue_blocked_putters_resume_in_order_as_items_are_taken(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 2);
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(1)));
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(2)));
    acto_queue_req reqs[4];
    rec recs[4] = {{0}};
    for (int i = 0; i < 4; i++) {
        assert_acto_ok(
            acto_queue_put(q, &reqs[i], ITEM(3 + i), record_cb, &recs[i]));
    }
    flush(env);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(recs[i].calls, 0);
    }
    /* Each item taken lets exactly one putter in, oldest first. */
    for (int taken = 1; taken <= 6; taken++) {
        void *item;
        assert_acto_ok(acto_queue_get_nowait(q, &item));
        assert_int_equal(NUM(item), taken);
        flush(env);
        for (int i = 0; i < 4; i++) {
            assert_int_equal(recs[i].calls, i < taken ? 1 : 0);
        }
        assert_int_equal(acto_queue_qsize(q), taken <= 4 ? 2 : 6 - taken);
    }
    for (int i = 1; i < 4; i++) {
        assert_true(recs[i - 1].order < recs[i].order);
        assert_acto_ok(recs[i].status);
        assert_int_equal(NUM(recs[i].item), 3 + i);
    }
    close_queue(q);
}

static void
test_queue_getters_are_woken_in_order(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 0);
    acto_queue_req reqs[5];
    rec recs[5] = {{0}};
    for (int i = 0; i < 5; i++) {
        assert_acto_ok(acto_queue_get(q, &reqs[i], record_cb, &recs[i]));
    }
    flush(env);
    assert_int_equal(recs[0].calls, 0);
    for (int i = 0; i < 5; i++) {
        assert_acto_ok(acto_queue_put_nowait(q, ITEM(10 + i)));
    }
    flush(env);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(recs[i].calls, 1);
        assert_int_equal(NUM(recs[i].item), 10 + i);
        if (i > 0) {
            assert_true(recs[i - 1].order < recs[i].order);
        }
    }
    assert_true(acto_queue_empty(q));
    close_queue(q);
}

static void
test_queue_priority_getter_receives_lowest_item_present(void **state)
{
    acto_test_env *env = *state;
    acto_queue_opts o = {.kind = ACTO_QUEUE_PRIORITY, .cmp = int_cmp};
    acto_queue *q;
    assert_acto_ok(acto_queue_alloc(&env->loop, &o, &q));
    acto_queue_req req;
    rec r = {0};
    assert_acto_ok(acto_queue_get(q, &req, record_cb, &r));
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(500)));
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(100)));
    flush(env);
    assert_int_equal(NUM(r.item), 100);
    close_queue(q);
}

/* A consumer that takes items with get and re-arms from its callback. */
typedef struct consumer {
    acto_queue_req req;
    int received[64];
    int n;
    int stop_after;
} consumer;

static void
consume_cb(acto_queue *q, int status, void *item, void *user)
{
    consumer *c = user;
    if (status != 0) {
        return;
    }
    c->received[c->n++] = NUM(item);
    assert_acto_ok(acto_queue_task_done(q));
    if (c->n < c->stop_after) {
        assert_acto_ok(acto_queue_get(q, &c->req, consume_cb, c));
    }
}

static bool
consumer_done(void *arg)
{
    consumer *c = arg;
    return c->n == c->stop_after;
}

static void
test_queue_req_can_be_reused_from_its_own_callback(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 3);
    consumer c = {.stop_after = 20};
    assert_acto_ok(acto_queue_get(q, &c.req, consume_cb, &c));
    acto_queue_req put_reqs[20];
    rec puts[20] = {{0}};
    for (int i = 0; i < 20; i++) {
        assert_acto_ok(
            acto_queue_put(q, &put_reqs[i], ITEM(i + 1), record_cb, &puts[i]));
    }
    assert_true(acto_test_run_until(&env->loop, consumer_done, &c, 2000));
    for (int i = 0; i < 20; i++) {
        assert_int_equal(c.received[i], i + 1);
    }
    flush(env);
    assert_int_equal(acto_queue_unfinished(q), 0);
    close_queue(q);
}

/* ---- cancellation ----------------------------------------------------- */

static void
test_queue_cancel_waiting_getter_loses_nothing(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 0);
    acto_queue_req a, b;
    rec ra = {0}, rb = {0};
    assert_acto_ok(acto_queue_get(q, &a, record_cb, &ra));
    assert_acto_ok(acto_queue_get(q, &b, record_cb, &rb));
    assert_acto_ok(acto_queue_cancel(&a));
    assert_int_equal(ra.calls, 0); /* deferred, like every callback */
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(1)));
    flush(env);
    assert_int_equal(ra.calls, 1);
    assert_acto_err(ra.status, ACTO_ECANCELED);
    assert_null(ra.item);
    assert_int_equal(rb.calls, 1);
    assert_int_equal(NUM(rb.item), 1);
    close_queue(q);
}

static void
test_queue_cancel_woken_getter_leaves_item_for_next_getter(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 0);
    acto_queue_req a, b;
    rec ra = {0}, rb = {0};
    assert_acto_ok(acto_queue_get(q, &a, record_cb, &ra));
    assert_acto_ok(acto_queue_get(q, &b, record_cb, &rb));
    /* The put wakes a; it is cancelled before its callback could run. */
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(1)));
    assert_acto_ok(acto_queue_cancel(&a));
    assert_int_equal(acto_queue_qsize(q), 1);
    flush(env);
    assert_acto_err(ra.status, ACTO_ECANCELED);
    assert_null(ra.item);
    assert_acto_ok(rb.status);
    assert_int_equal(NUM(rb.item), 1);
    assert_true(acto_queue_empty(q));
    close_queue(q);
}

static void
test_queue_cancel_woken_getter_without_others_keeps_item_queued(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 0);
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(1)));
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(2)));
    acto_queue_req a;
    rec ra = {0};
    assert_acto_ok(acto_queue_get(q, &a, record_cb, &ra));
    assert_acto_ok(acto_queue_cancel(&a));
    flush(env);
    assert_acto_err(ra.status, ACTO_ECANCELED);
    void *item;
    assert_acto_ok(acto_queue_get_nowait(q, &item));
    assert_int_equal(NUM(item), 1); /* still at the front */
    close_queue(q);
}

static void
test_queue_cancel_waiting_putter_inserts_nothing(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 1);
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(1)));
    acto_queue_req a, b;
    rec ra = {0}, rb = {0};
    assert_acto_ok(acto_queue_put(q, &a, ITEM(2), record_cb, &ra));
    assert_acto_ok(acto_queue_put(q, &b, ITEM(3), record_cb, &rb));
    assert_acto_ok(acto_queue_cancel(&a));
    void *item;
    assert_acto_ok(acto_queue_get_nowait(q, &item));
    flush(env);
    assert_acto_err(ra.status, ACTO_ECANCELED);
    assert_int_equal(NUM(ra.item), 2); /* handed back to the caller */
    assert_acto_ok(rb.status);
    assert_acto_ok(acto_queue_get_nowait(q, &item));
    assert_int_equal(NUM(item), 3);
    assert_true(acto_queue_empty(q));
    assert_int_equal(acto_queue_unfinished(q), 2); /* items 1 and 3 */
    close_queue(q);
}

static void
test_queue_cancel_woken_putter_inserts_nothing_and_passes_slot_on(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 1);
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(1)));
    acto_queue_req a, b;
    rec ra = {0}, rb = {0};
    assert_acto_ok(acto_queue_put(q, &a, ITEM(2), record_cb, &ra));
    assert_acto_ok(acto_queue_put(q, &b, ITEM(3), record_cb, &rb));
    void *item;
    assert_acto_ok(acto_queue_get_nowait(q, &item)); /* wakes a */
    assert_acto_ok(acto_queue_cancel(&a));           /* slot goes to b */
    flush(env);
    assert_acto_err(ra.status, ACTO_ECANCELED);
    assert_acto_ok(rb.status);
    assert_int_equal(acto_queue_qsize(q), 1);
    assert_acto_ok(acto_queue_get_nowait(q, &item));
    assert_int_equal(NUM(item), 3);
    close_queue(q);
}

static void
test_queue_cancel_is_busy_once_decided_and_einval_once_done(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 0);
    acto_queue_req a;
    rec ra = {0};
    assert_acto_ok(acto_queue_get(q, &a, record_cb, &ra));
    assert_acto_ok(acto_queue_cancel(&a));
    assert_acto_err(acto_queue_cancel(&a), ACTO_EBUSY);
    flush(env);
    assert_int_equal(ra.calls, 1);
    assert_acto_err(acto_queue_cancel(&a), ACTO_EINVAL);
    close_queue(q);
}

static void
test_queue_get_nowait_may_take_item_of_woken_getter_which_waits_again(
    void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 0);
    acto_queue_req a, b;
    rec ra = {0}, rb = {0};
    assert_acto_ok(acto_queue_get(q, &a, record_cb, &ra));
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(1))); /* wakes a */
    void *item;
    assert_acto_ok(acto_queue_get_nowait(q, &item)); /* takes it first */
    assert_int_equal(NUM(item), 1);
    flush(env);
    assert_int_equal(ra.calls, 0); /* a waits again, still first in line */
    assert_acto_ok(acto_queue_get(q, &b, record_cb, &rb));
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(2)));
    flush(env);
    assert_int_equal(NUM(ra.item), 2);
    assert_int_equal(rb.calls, 0);
    assert_acto_ok(acto_queue_cancel(&b));
    flush(env);
    assert_acto_err(rb.status, ACTO_ECANCELED);
    close_queue(q);
}

static void
test_queue_put_nowait_may_take_slot_of_woken_putter_which_waits_again(
    void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 1);
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(1)));
    acto_queue_req a;
    rec ra = {0};
    assert_acto_ok(acto_queue_put(q, &a, ITEM(2), record_cb, &ra));
    void *item;
    assert_acto_ok(acto_queue_get_nowait(q, &item));   /* wakes a */
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(3))); /* takes its slot */
    flush(env);
    assert_int_equal(ra.calls, 0);
    assert_acto_ok(acto_queue_get_nowait(q, &item));
    assert_int_equal(NUM(item), 3);
    flush(env);
    assert_acto_ok(ra.status);
    assert_acto_ok(acto_queue_get_nowait(q, &item));
    assert_int_equal(NUM(item), 2);
    close_queue(q);
}

/* ---- task_done and join ----------------------------------------------- */

static void
test_queue_join_completes_only_when_every_item_is_done(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 0);
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(1)));
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(2)));
    acto_queue_req j1, j2;
    rec r1 = {0}, r2 = {0};
    assert_acto_ok(acto_queue_join(q, &j1, record_cb, &r1));
    assert_acto_ok(acto_queue_join(q, &j2, record_cb, &r2));
    void *item;
    assert_acto_ok(acto_queue_get_nowait(q, &item));
    assert_acto_ok(acto_queue_get_nowait(q, &item));
    flush(env);
    assert_int_equal(r1.calls, 0); /* taken but not yet done */
    assert_acto_ok(acto_queue_task_done(q));
    flush(env);
    assert_int_equal(r1.calls, 0);
    assert_acto_ok(acto_queue_task_done(q));
    flush(env);
    assert_int_equal(r1.calls, 1);
    assert_int_equal(r2.calls, 1);
    assert_true(r1.order < r2.order);
    assert_acto_ok(r1.status);
    close_queue(q);
}

static void
test_queue_join_with_nothing_unfinished_completes_at_once(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 0);
    acto_queue_req j;
    rec r = {0};
    assert_acto_ok(acto_queue_join(q, &j, record_cb, &r));
    assert_int_equal(r.calls, 0);
    flush(env);
    assert_int_equal(r.calls, 1);
    assert_acto_ok(r.status);
    close_queue(q);
}

static void
test_queue_join_can_be_cancelled(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 0);
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(1)));
    acto_queue_req j;
    rec r = {0};
    assert_acto_ok(acto_queue_join(q, &j, record_cb, &r));
    assert_acto_ok(acto_queue_cancel(&j));
    flush(env);
    assert_acto_err(r.status, ACTO_ECANCELED);
    assert_int_equal(acto_queue_unfinished(q), 1);
    close_queue(q);
}

static void
test_queue_task_done_too_many_times_is_einval_and_changes_nothing(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 0);
    assert_acto_err(acto_queue_task_done(q), ACTO_EINVAL);
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(1)));
    assert_acto_ok(acto_queue_task_done(q));
    assert_acto_err(acto_queue_task_done(q), ACTO_EINVAL);
    assert_int_equal(acto_queue_unfinished(q), 0);
    assert_int_equal(acto_queue_qsize(q), 1);
    close_queue(q);
}

/* ---- shutdown --------------------------------------------------------- */

static void
test_queue_shutdown_fails_puts_and_lets_gets_drain(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 0);
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(1)));
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(2)));
    assert_acto_ok(acto_queue_shutdown(q, false));
    assert_true(acto_queue_is_shutdown(q));
    acto_queue_req req;
    rec r = {0};
    assert_acto_err(acto_queue_put_nowait(q, ITEM(3)), ACTO_ESHUTDOWN);
    assert_acto_err(acto_queue_put(q, &req, ITEM(3), record_cb, &r),
                    ACTO_ESHUTDOWN);
    void *item;
    assert_acto_ok(acto_queue_get_nowait(q, &item));
    assert_int_equal(NUM(item), 1);
    assert_acto_ok(acto_queue_get(q, &req, record_cb, &r));
    flush(env);
    assert_int_equal(NUM(r.item), 2);
    assert_acto_err(acto_queue_get_nowait(q, &item), ACTO_ESHUTDOWN);
    assert_acto_err(acto_queue_get(q, &req, record_cb, &r), ACTO_ESHUTDOWN);
    assert_int_equal(r.calls, 1);
    close_queue(q);
}

static void
test_queue_shutdown_wakes_waiters_on_both_sides(void **state)
{
    acto_test_env *env = *state;
    acto_queue *getq = make_queue(env, ACTO_QUEUE_FIFO, 0);
    acto_queue *putq = make_queue(env, ACTO_QUEUE_FIFO, 1);
    assert_acto_ok(acto_queue_put_nowait(putq, ITEM(1)));
    acto_queue_req g[2], p[2];
    rec rg[2] = {{0}}, rp[2] = {{0}};
    for (int i = 0; i < 2; i++) {
        assert_acto_ok(acto_queue_get(getq, &g[i], record_cb, &rg[i]));
        assert_acto_ok(
            acto_queue_put(putq, &p[i], ITEM(2 + i), record_cb, &rp[i]));
    }
    flush(env);
    assert_acto_ok(acto_queue_shutdown(getq, false));
    assert_acto_ok(acto_queue_shutdown(putq, false));
    flush(env);
    for (int i = 0; i < 2; i++) {
        assert_acto_err(rg[i].status, ACTO_ESHUTDOWN);
        assert_null(rg[i].item);
        assert_acto_err(rp[i].status, ACTO_ESHUTDOWN);
        assert_int_equal(NUM(rp[i].item), 2 + i); /* still the caller's */
    }
    assert_int_equal(acto_queue_qsize(putq), 1); /* drains normally */
    close_queue(getq);
    close_queue(putq);
}

static void
test_queue_shutdown_serves_woken_getters_items_left(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 0);
    acto_queue_req g[3];
    rec rg[3] = {{0}};
    for (int i = 0; i < 3; i++) {
        assert_acto_ok(acto_queue_get(q, &g[i], record_cb, &rg[i]));
    }
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(1))); /* wakes g[0] */
    assert_acto_ok(acto_queue_shutdown(q, false));
    flush(env);
    assert_int_equal(NUM(rg[0].item), 1);
    assert_acto_err(rg[1].status, ACTO_ESHUTDOWN);
    assert_acto_err(rg[2].status, ACTO_ESHUTDOWN);
    close_queue(q);
}

typedef struct discards {
    int n;
    int items[16];
} discards;

static void
discard_cb(void *item, void *user)
{
    discards *d = user;
    d->items[d->n++] = NUM(item);
}

static void
test_queue_shutdown_immediate_discards_items_and_releases_join(void **state)
{
    acto_test_env *env = *state;
    discards d = {0};
    acto_queue_opts o = {.maxsize = 3, .discard = discard_cb, .user = &d};
    acto_queue *q;
    assert_acto_ok(acto_queue_alloc(&env->loop, &o, &q));
    for (int i = 1; i <= 3; i++) {
        assert_acto_ok(acto_queue_put_nowait(q, ITEM(i)));
    }
    void *item;
    assert_acto_ok(acto_queue_get_nowait(q, &item)); /* 1 taken, not done */
    acto_queue_req j;
    rec rj = {0};
    assert_acto_ok(acto_queue_join(q, &j, record_cb, &rj));
    assert_acto_ok(acto_queue_shutdown(q, true));
    assert_int_equal(d.n, 2);
    assert_int_equal(d.items[0], 2);
    assert_int_equal(d.items[1], 3);
    assert_true(acto_queue_empty(q));
    assert_int_equal(acto_queue_unfinished(q), 1);
    flush(env);
    assert_int_equal(rj.calls, 0); /* item 1 is still being worked on */
    assert_acto_ok(acto_queue_task_done(q));
    flush(env);
    assert_int_equal(rj.calls, 1);
    assert_acto_err(acto_queue_get_nowait(q, &item), ACTO_ESHUTDOWN);
    close_queue(q);
}

static void
test_queue_shutdown_immediate_fails_woken_getters(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 0);
    acto_queue_req g;
    rec rg = {0};
    assert_acto_ok(acto_queue_get(q, &g, record_cb, &rg));
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(1))); /* wakes g */
    assert_acto_ok(acto_queue_shutdown(q, true));      /* item discarded */
    flush(env);
    assert_acto_err(rg.status, ACTO_ESHUTDOWN);
    assert_int_equal(acto_queue_unfinished(q), 0);
    close_queue(q);
}

/* ---- close ------------------------------------------------------------ */

static void
on_closed(acto_queue *q, void *user)
{
    (void)q;
    (*(int *)user)++;
}

static void
test_queue_close_cancels_pending_requests_and_discards_items(void **state)
{
    acto_test_env *env = *state;
    discards d = {0};
    acto_queue_opts o = {.maxsize = 1, .discard = discard_cb, .user = &d};
    acto_queue *q, *q2;
    assert_acto_ok(acto_queue_alloc(&env->loop, &o, &q));
    assert_acto_ok(acto_queue_alloc(&env->loop, NULL, &q2));
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(1)));
    acto_queue_req p, j, g;
    rec rp = {0}, rj = {0}, rg = {0};
    assert_acto_ok(acto_queue_put(q, &p, ITEM(2), record_cb, &rp));
    assert_acto_ok(acto_queue_join(q, &j, record_cb, &rj));
    assert_acto_ok(acto_queue_get(q2, &g, record_cb, &rg));
    int closed = 0;
    assert_acto_ok(acto_queue_close(q, on_closed, &closed));
    assert_acto_ok(acto_queue_close(q2, on_closed, &closed));
    assert_int_equal(closed, 0); /* never inside the call */
    flush(env);
    assert_int_equal(closed, 2);
    assert_acto_err(rp.status, ACTO_ECANCELED);
    assert_int_equal(NUM(rp.item), 2);
    assert_acto_err(rj.status, ACTO_ECANCELED);
    assert_acto_err(rg.status, ACTO_ECANCELED);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.items[0], 1);
}

static void
test_queue_calls_on_a_closing_queue_fail_with_eclosed(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 0);
    int closed = 0;
    assert_acto_ok(acto_queue_close(q, on_closed, &closed));
    acto_queue_req req;
    rec r = {0};
    void *item;
    assert_acto_err(acto_queue_close(q, on_closed, &closed), ACTO_ECLOSED);
    assert_acto_err(acto_queue_put_nowait(q, ITEM(1)), ACTO_ECLOSED);
    assert_acto_err(acto_queue_get_nowait(q, &item), ACTO_ECLOSED);
    assert_acto_err(acto_queue_put(q, &req, ITEM(1), record_cb, &r),
                    ACTO_ECLOSED);
    assert_acto_err(acto_queue_get(q, &req, record_cb, &r), ACTO_ECLOSED);
    assert_acto_err(acto_queue_join(q, &req, record_cb, &r), ACTO_ECLOSED);
    assert_acto_err(acto_queue_shutdown(q, false), ACTO_ECLOSED);
    flush(env);
    assert_int_equal(closed, 1);
    assert_int_equal(r.calls, 0);
}

typedef struct closer {
    acto_queue_req req;
    int calls;
    int closed;
} closer;

static void
close_from_cb(acto_queue *q, int status, void *item, void *user)
{
    (void)item;
    closer *c = user;
    c->calls++;
    assert_acto_ok(status);
    assert_acto_ok(acto_queue_close(q, on_closed, &c->closed));
}

static void
test_queue_close_from_inside_a_callback_is_safe(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 0);
    closer c = {0};
    acto_queue_req other;
    rec ro = {0};
    assert_acto_ok(acto_queue_get(q, &c.req, close_from_cb, &c));
    assert_acto_ok(acto_queue_get(q, &other, record_cb, &ro));
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(1)));
    flush(env);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.closed, 1);
    assert_acto_err(ro.status, ACTO_ECANCELED);
}

/* ---- allocation failure ----------------------------------------------- */

static void
test_queue_put_nowait_out_of_memory_leaves_queue_as_it_was(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 0);
    int n = 0;
    /* Fill until the next put must grow the storage, then fail that. */
    for (;;) {
        long before = acto_test_alloc_total();
        acto_test_alloc_fail_nth(1);
        int rc = acto_queue_put_nowait(q, ITEM(n + 1));
        acto_test_alloc_fail_nth(0);
        if (rc == ACTO_ENOMEM) {
            break;
        }
        assert_acto_ok(rc);
        assert_int_equal(acto_test_alloc_total(), before);
        n++;
        assert_true(n < 100000);
    }
    /* n > 0: the first put into an empty queue needs memory too, so check
     * the state whichever put failed. */
    assert_int_equal(acto_queue_qsize(q), (size_t)n);
    assert_int_equal(acto_queue_unfinished(q), (size_t)n);
    assert_acto_ok(acto_queue_put_nowait(q, ITEM(n + 1)));
    for (int i = 1; i <= n + 1; i++) {
        void *item;
        assert_acto_ok(acto_queue_get_nowait(q, &item));
        assert_int_equal(NUM(item), i);
    }
    close_queue(q);
}

static void
test_queue_waiting_put_reports_out_of_memory_and_returns_item(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q = make_queue(env, ACTO_QUEUE_FIFO, 0);
    acto_queue_req req;
    rec r = {0};
    assert_acto_ok(acto_queue_put(q, &req, ITEM(5), record_cb, &r));
    acto_test_alloc_fail_nth(1); /* the first insert allocates storage */
    flush(env);
    acto_test_alloc_fail_nth(0);
    assert_acto_err(r.status, ACTO_ENOMEM);
    assert_int_equal(NUM(r.item), 5);
    assert_true(acto_queue_empty(q));
    assert_int_equal(acto_queue_unfinished(q), 0);
    close_queue(q);
}

/* ---- a seeded random interleaving: nothing lost, nothing duplicated --- */

#define FUZZ_REQS 8
#define FUZZ_ITEMS 4000

typedef struct fuzz {
    acto_queue *q;
    acto_queue_req reqs[FUZZ_REQS];
    bool pending[FUZZ_REQS];
    int op[FUZZ_REQS]; /* 0 get, 1 put */
    int received[FUZZ_ITEMS + 1];
    int returned[FUZZ_ITEMS + 1]; /* puts that failed hand items back */
    int next_item;
} fuzz;

typedef struct fuzz_slot {
    fuzz *f;
    int i;
} fuzz_slot;

static fuzz_slot slots[FUZZ_REQS];

static void
fuzz_cb(acto_queue *q, int status, void *item, void *user)
{
    (void)q;
    fuzz_slot *s = user;
    fuzz *f = s->f;
    f->pending[s->i] = false;
    if (f->op[s->i] == 0 && status == 0) {
        f->received[NUM(item)]++;
    } else if (f->op[s->i] == 1 && status != 0) {
        f->returned[NUM(item)]++;
    }
}

static void
fuzz_step(fuzz *f, acto_test_env *env)
{
    int r = rand() % 10;
    int i = rand() % FUZZ_REQS;
    void *item;
    if (r < 2 && f->next_item <= FUZZ_ITEMS) {
        int rc = acto_queue_put_nowait(f->q, ITEM(f->next_item));
        if (rc == 0) {
            f->next_item++;
        } else {
            assert_acto_err(rc, ACTO_EQUEUEFULL);
        }
    } else if (r < 4) {
        if (acto_queue_get_nowait(f->q, &item) == 0) {
            f->received[NUM(item)]++;
        }
    } else if (r < 7 && !f->pending[i]) {
        f->op[i] = rand() % 2;
        if (f->op[i] == 1 && f->next_item <= FUZZ_ITEMS) {
            assert_acto_ok(acto_queue_put(
                f->q, &f->reqs[i], ITEM(f->next_item++), fuzz_cb, &slots[i]));
            f->pending[i] = true;
        } else if (f->op[i] == 0) {
            assert_acto_ok(
                acto_queue_get(f->q, &f->reqs[i], fuzz_cb, &slots[i]));
            f->pending[i] = true;
        }
    } else if (r < 8 && f->pending[i]) {
        int rc = acto_queue_cancel(&f->reqs[i]);
        assert_true(rc == 0 || rc == ACTO_EBUSY);
    } else {
        acto_test_run_once(&env->loop);
    }
}

static void
run_fuzz(acto_test_env *env, acto_queue_kind kind, unsigned seed)
{
    acto_queue_opts o = {.kind = kind, .maxsize = 5, .cmp = int_cmp};
    fuzz *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_acto_ok(acto_queue_alloc(&env->loop, &o, &f->q));
    f->next_item = 1;
    for (int i = 0; i < FUZZ_REQS; i++) {
        slots[i] = (fuzz_slot){f, i};
    }
    srand(seed);
    for (int step = 0; step < 40000; step++) {
        fuzz_step(f, env);
    }
    /* Drain: getters take what is left, then shutdown fails the rest. */
    flush(env);
    void *item;
    while (acto_queue_get_nowait(f->q, &item) == 0) {
        f->received[NUM(item)]++;
    }
    assert_acto_ok(acto_queue_shutdown(f->q, false));
    flush(env);
    while (acto_queue_get_nowait(f->q, &item) == 0) {
        f->received[NUM(item)]++;
    }
    for (int i = 0; i < FUZZ_REQS; i++) {
        assert_false(f->pending[i]);
    }
    for (int n = 1; n < f->next_item; n++) {
        if (f->received[n] + f->returned[n] != 1) {
            fail_msg("seed %u: item %d received %d times, returned %d", seed, n,
                     f->received[n], f->returned[n]);
        }
    }
    close_queue(f->q);
    flush(env);
    free(f);
}

static void
test_queue_random_interleavings_lose_and_duplicate_nothing(void **state)
{
    acto_test_env *env = *state;
    for (unsigned seed = 1; seed <= 10; seed++) {
        run_fuzz(env, (acto_queue_kind)(seed % 3), seed);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(test_queue_alloc_rejects_bad_arguments),
        acto_unit_test(test_queue_alloc_failure_at_every_allocation_is_enomem),
        acto_unit_test(test_queue_fifo_returns_items_in_put_order),
        acto_unit_test(
            test_queue_fifo_keeps_order_across_wraparound_and_growth),
        acto_unit_test(test_queue_lifo_returns_newest_first),
        acto_unit_test(
            test_queue_priority_returns_lowest_first_and_ties_in_put_order),
        acto_unit_test(test_queue_observers_report_size_empty_full_and_maxsize),
        acto_unit_test(test_queue_unbounded_is_never_full),
        acto_unit_test(
            test_queue_put_nowait_fails_when_full_and_changes_nothing),
        acto_unit_test(
            test_queue_get_nowait_fails_when_empty_and_leaves_item_untouched),
        acto_unit_test(test_queue_callbacks_never_run_inside_the_call),
        acto_unit_test(test_queue_waiting_calls_reject_missing_req_or_callback),
        acto_unit_test(
            test_queue_blocked_putters_resume_in_order_as_items_are_taken),
        acto_unit_test(test_queue_getters_are_woken_in_order),
        acto_unit_test(test_queue_priority_getter_receives_lowest_item_present),
        acto_unit_test(test_queue_req_can_be_reused_from_its_own_callback),
        acto_unit_test(test_queue_cancel_waiting_getter_loses_nothing),
        acto_unit_test(
            test_queue_cancel_woken_getter_leaves_item_for_next_getter),
        acto_unit_test(
            test_queue_cancel_woken_getter_without_others_keeps_item_queued),
        acto_unit_test(test_queue_cancel_waiting_putter_inserts_nothing),
        acto_unit_test(
            test_queue_cancel_woken_putter_inserts_nothing_and_passes_slot_on),
        acto_unit_test(
            test_queue_cancel_is_busy_once_decided_and_einval_once_done),
        acto_unit_test(
            test_queue_get_nowait_may_take_item_of_woken_getter_which_waits_again),
        acto_unit_test(
            test_queue_put_nowait_may_take_slot_of_woken_putter_which_waits_again),
        acto_unit_test(test_queue_join_completes_only_when_every_item_is_done),
        acto_unit_test(
            test_queue_join_with_nothing_unfinished_completes_at_once),
        acto_unit_test(test_queue_join_can_be_cancelled),
        acto_unit_test(
            test_queue_task_done_too_many_times_is_einval_and_changes_nothing),
        acto_unit_test(test_queue_shutdown_fails_puts_and_lets_gets_drain),
        acto_unit_test(test_queue_shutdown_wakes_waiters_on_both_sides),
        acto_unit_test(test_queue_shutdown_serves_woken_getters_items_left),
        acto_unit_test(
            test_queue_shutdown_immediate_discards_items_and_releases_join),
        acto_unit_test(test_queue_shutdown_immediate_fails_woken_getters),
        acto_unit_test(
            test_queue_close_cancels_pending_requests_and_discards_items),
        acto_unit_test(test_queue_calls_on_a_closing_queue_fail_with_eclosed),
        acto_unit_test(test_queue_close_from_inside_a_callback_is_safe),
        acto_unit_test(
            test_queue_put_nowait_out_of_memory_leaves_queue_as_it_was),
        acto_unit_test(
            test_queue_waiting_put_reports_out_of_memory_and_returns_item),
        acto_unit_test(
            test_queue_random_interleavings_lose_and_duplicate_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
