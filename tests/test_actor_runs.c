/* Runs of messages: acto_take_run and acto_put_back, or acto_run_begin,
 * acto_run_next and acto_run_end (a handler working through the messages
 * waiting behind its own; the receivers' tests run both ways),
 * acto_send_many and acto_send_room (a handler passing a run on with one
 * delivery). */
#include "acto_test.h"

#include <string.h>

enum { T_NUM = 1, T_CTRL = 100 };

#define LOG_MAX 256

/* ---- a receiver that takes runs --------------------------------------- */

typedef struct taker {
    int n;
    int nums[LOG_MAX];
    int calls;           /* handler calls */
    int runs[LOG_MAX];   /* messages each call took with acto_take_run */
    int keep;            /* handle at most this many of a run (0: all) */
    bool suspend_after;  /* suspend once it put some back (or left some) */
    bool cursor;         /* acto_run_begin/next/end, not acto_take_run */
    uint32_t count_seen; /* acto_mailbox_count while it held a run */
    acto_system *sys;
    acto_ref self;
} taker;

static void
log_num(taker *t, const acto_msg *m)
{
    if (t->n < LOG_MAX) {
        t->nums[t->n++] = acto_test_msg_int(m);
    }
}

/* take_by_cursor takes the run one message at a time, at most keep of it
 * (0: all): the rest stay in the mailbox, with nothing to put back. */
static void
take_by_cursor(acto_ctx *ctx, taker *t)
{
    acto_run run;
    int n = 0;
    if (acto_run_begin(ctx, T_NUM, LOG_MAX, &run)) {
        acto_msg *m;
        while ((t->keep == 0 || n < t->keep) &&
               (m = acto_run_next(&run)) != NULL) {
            n++;
            log_num(t, m);
            acto_msg_free(m);
        }
        t->count_seen = acto_mailbox_count(t->sys, t->self);
        acto_run_end(&run);
    }
    t->runs[t->calls++ % LOG_MAX] = n;
    if (t->suspend_after && t->keep > 0 && n == t->keep) {
        t->suspend_after = false;
        assert_acto_ok(acto_suspend(ctx));
    }
}

static int
taker_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    taker *t = state;
    log_num(t, m);
    if (acto_msg_type(m) != T_NUM) {
        return 0;
    }
    if (t->cursor) {
        take_by_cursor(ctx, t);
        return 0;
    }
    acto_msg *run[LOG_MAX];
    size_t n = acto_take_run(ctx, T_NUM, run, LOG_MAX);
    t->runs[t->calls++ % LOG_MAX] = (int)n;
    t->count_seen = acto_mailbox_count(t->sys, t->self);
    size_t use = t->keep > 0 && (size_t)t->keep < n ? (size_t)t->keep : n;
    for (size_t i = 0; i < use; i++) {
        log_num(t, run[i]);
        acto_msg_free(run[i]);
    }
    if (use < n) {
        assert_acto_ok(acto_put_back(ctx, run + use, n - use));
        if (t->suspend_after) {
            t->suspend_after = false;
            assert_acto_ok(acto_suspend(ctx));
        }
    }
    return 0;
}

static const acto_behaviour taker_b = {taker_receive, NULL, NULL};

/* Whether the test running takes its runs by cursor (set by its entry in
 * main's list). */
static bool by_cursor;

static acto_ref
spawn_taker(acto_system *sys, taker *t, uint32_t capacity, uint32_t batch)
{
    acto_spawn_opts o = {.capacity = capacity, .batch = batch};
    t->sys = sys;
    t->cursor = by_cursor;
    assert_acto_ok(acto_spawn(sys, &taker_b, t, &o, &t->self));
    return t->self;
}

static void
assert_in_order(const taker *t, int n)
{
    assert_int_equal(t->n, n);
    for (int i = 0; i < n; i++) {
        assert_int_equal(t->nums[i], i);
    }
}

static void
test_runs_take_in_order_within_the_batch_budget(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    taker t = {0};
    acto_ref r = spawn_taker(sys, &t, 0, 10);
    for (int i = 0; i < 30; i++) {
        assert_acto_ok(acto_test_send_int(sys, r, T_NUM, i));
    }
    acto_test_settle(env);
    assert_in_order(&t, 30);
    /* Each turn: one message handed over, nine taken with it. */
    assert_int_equal(t.calls, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(t.runs[i], 9);
    }
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
}

static void
test_runs_stop_at_a_message_above_max_type(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    taker t = {0};
    acto_ref r = spawn_taker(sys, &t, 0, 0);
    for (int i = 0; i < 6; i++) {
        assert_acto_ok(acto_test_send_int(sys, r, i == 3 ? T_CTRL : T_NUM, i));
    }
    acto_test_settle(env);
    /* 0 takes 1 and 2; 3 is handled on its own; 4 takes 5. */
    assert_in_order(&t, 6);
    assert_int_equal(t.calls, 2);
    assert_int_equal(t.runs[0], 2);
    assert_int_equal(t.runs[1], 1);
    acto_test_close_system(env, sys);
}

/* A run taken from a full bounded mailbox still counts in it, so parked
 * senders come in only once the handler is done: the bound holds. */
static void
test_runs_keep_counting_in_a_bounded_mailbox(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    taker t = {0};
    acto_ref r = spawn_taker(sys, &t, 4, 0);
    int sent = 0;
    for (; sent < 4; sent++) {
        assert_acto_ok(acto_test_send_int(sys, r, T_NUM, sent));
    }
    assert_acto_err(acto_test_send_int(sys, r, T_NUM, sent), ACTO_EQUEUEFULL);
    acto_test_run_once(&env->loop);
    assert_in_order(&t, 4);
    assert_int_equal(t.runs[0], 3);
    /* The message handed over left the mailbox, as always; the three of
     * the run, in the handler's hands, still count. */
    assert_int_equal(t.count_seen, 3);
    assert_int_equal(acto_mailbox_count(sys, r), 0);
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
}

/* ---- a sender that parks on the taker --------------------------------- */

typedef struct pusher {
    acto_ref to;
    int next, last;
    int parks_seen;
} pusher;

static int
pusher_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)m;
    pusher *p = state;
    /* Ten at a time: the first that does not fit parks the pusher, and
     * its turn ends with its continue message. */
    acto_msg *batch[10];
    size_t n = 0;
    while (n < 10 && p->next <= p->last) {
        int v = p->next++;
        assert_acto_ok(acto_msg_new_bytes(acto_ctx_system(ctx), T_NUM, &v,
                                          sizeof(v), &batch[n]));
        n++;
    }
    if (acto_send_room(ctx, p->to) < n) {
        p->parks_seen++;
    }
    size_t sent = 0;
    assert_acto_ok(acto_send_many(ctx, p->to, batch, n, &sent));
    assert_int_equal(sent, n);
    if (p->next <= p->last) {
        assert_acto_ok(acto_tell(ctx, acto_self(ctx), T_NUM, NULL, 0));
    }
    return 0;
}

static const acto_behaviour pusher_b = {pusher_receive, NULL, NULL};

static bool
taker_has(void *arg)
{
    taker *t = arg;
    return t->n >= 200;
}

static void
test_runs_and_send_many_keep_order_under_backpressure(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    taker t = {.keep = 3};
    acto_ref r = spawn_taker(sys, &t, 8, 0);
    pusher p = {.to = r, .next = 0, .last = 199};
    acto_ref pr;
    assert_acto_ok(acto_spawn(sys, &pusher_b, &p, NULL, &pr));
    assert_acto_ok(acto_test_send_int(sys, pr, T_NUM, 0));
    assert_true(acto_test_run_until(&env->loop, taker_has, &t, 5000));
    assert_in_order(&t, 200);
    assert_true(p.parks_seen > 0);
    acto_stats st;
    acto_system_stats(sys, &st);
    assert_true(st.parks > 0);
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
}

/* A handler that suspends itself in the middle of a run puts the rest
 * back: they wait, in order, for acto_resume. */
static void
test_runs_put_back_waits_for_resume(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    taker t = {.keep = 2, .suspend_after = true};
    acto_ref r = spawn_taker(sys, &t, 16, 0);
    for (int i = 0; i < 10; i++) {
        assert_acto_ok(acto_test_send_int(sys, r, T_NUM, i));
    }
    acto_test_settle(env);
    assert_in_order(&t, 3);
    assert_int_equal(acto_mailbox_count(sys, r), 7);
    assert_acto_ok(acto_resume(sys, r));
    acto_test_settle(env);
    assert_in_order(&t, 10);
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
}

/* ---- when no run is taken --------------------------------------------- */

typedef struct refuser {
    int handled;
    size_t taken;
    bool suspend_first;
    bool shutdown_first;
    uint32_t types[8];
} refuser;

static int
refuser_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    refuser *f = state;
    f->types[f->handled++ % 8] = acto_msg_type(m);
    if (acto_msg_type(m) != T_NUM) {
        return 0;
    }
    if (f->suspend_first) {
        f->suspend_first = false;
        assert_acto_ok(acto_suspend(ctx));
    }
    if (f->shutdown_first) { /* a notice on its own system lane */
        f->shutdown_first = false;
        assert_acto_ok(acto_shutdown(acto_ctx_system(ctx), acto_self(ctx)));
    }
    /* The cursor is refused exactly where a run is. */
    acto_run cur;
    bool began = acto_run_begin(ctx, T_NUM, 4, &cur);
    if (began) {
        acto_run_end(&cur); /* took none */
    }
    acto_msg *run[4];
    size_t n = acto_take_run(ctx, T_NUM, run, 4);
    assert_int_equal(began, n > 0);
    f->taken += n;
    for (size_t i = 0; i < n; i++) {
        acto_msg_free(run[i]);
    }
    return 0;
}

static const acto_behaviour refuser_b = {refuser_receive, NULL, NULL};

static int
take_outside(acto_ctx *ctx, void *state, void *user)
{
    (void)state;
    acto_msg *run[4];
    *(size_t *)user = acto_take_run(ctx, T_NUM, run, 4);
    return 0;
}

static void
test_runs_are_refused_where_messages_go_one_by_one(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    refuser f = {.suspend_first = true};
    acto_spawn_opts o = {.on_shutdown = ACTO_SHUTDOWN_NOTIFY};
    acto_ref r;
    assert_acto_ok(acto_spawn(sys, &refuser_b, &f, &o, &r));
    /* Outside a turn (a call as the actor from outside). */
    for (int i = 0; i < 3; i++) {
        assert_acto_ok(acto_test_send_int(sys, r, T_NUM, i));
    }
    size_t outside = 99;
    assert_acto_ok(acto_call_as(sys, r, &refuser_b, take_outside, &outside));
    assert_int_equal(outside, 0);
    /* Suspended. */
    acto_test_settle(env);
    assert_int_equal(f.handled, 1);
    assert_int_equal(f.taken, 0);
    assert_acto_ok(acto_resume(sys, r));
    acto_test_settle(env);
    assert_int_equal(f.handled, 2);
    assert_int_equal(f.taken, 1);
    /* Something waiting on the system lane goes first: the notice comes
     * between the first message and the run behind it. */
    f = (refuser){.shutdown_first = true};
    for (int i = 0; i < 3; i++) {
        assert_acto_ok(acto_test_send_int(sys, r, T_NUM, i));
    }
    acto_test_settle(env);
    assert_int_equal(f.handled, 3);
    assert_int_equal(f.types[0], T_NUM);
    assert_int_equal(f.types[1], ACTO_MSG_SHUTDOWN);
    assert_int_equal(f.types[2], T_NUM);
    assert_int_equal(f.taken, 1);
    acto_test_close_system(env, sys);
}

static void
test_runs_are_refused_in_debug_mode(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    acto_system_set_debug(sys, true);
    refuser f = {0};
    acto_ref r;
    assert_acto_ok(acto_spawn(sys, &refuser_b, &f, NULL, &r));
    for (int i = 0; i < 5; i++) {
        assert_acto_ok(acto_test_send_int(sys, r, T_NUM, i));
    }
    acto_test_settle(env);
    assert_int_equal(f.handled, 5);
    assert_int_equal(f.taken, 0);
    acto_system_set_debug(sys, false);
    acto_test_close_system(env, sys);
}

/* ---- send_many and send_room ------------------------------------------ */

typedef struct many {
    acto_ref to;
    int rc;
    size_t sent;
    uint32_t room_before, room_after;
    int null_at; /* 1 + the index of a NULL entry; 0: none */
} many;

static int
many_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)m;
    many *y = state;
    acto_msg *msgs[6];
    for (int i = 0; i < 6; i++) {
        assert_acto_ok(acto_msg_new_bytes(acto_ctx_system(ctx), T_NUM, &i,
                                          sizeof(i), &msgs[i]));
    }
    if (y->null_at > 0) {
        acto_msg_free(msgs[y->null_at - 1]);
        msgs[y->null_at - 1] = NULL;
    }
    y->room_before = acto_send_room(ctx, y->to);
    y->rc = acto_send_many(ctx, y->to, msgs, 6, &y->sent);
    y->room_after = acto_send_room(ctx, y->to);
    for (size_t i = y->sent; i < 6; i++) {
        acto_msg_free(msgs[i]);
    }
    return 0;
}

static const acto_behaviour many_b = {many_receive, NULL, NULL};

static void
test_send_many_counts_room_and_refuses_bad_entries(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    taker t = {0};
    acto_ref r = spawn_taker(sys, &t, 4, 0);
    many y = {.to = r};
    acto_ref yr;
    assert_acto_ok(acto_spawn(sys, &many_b, &y, NULL, &yr));
    assert_acto_ok(acto_test_send_int(sys, yr, T_NUM, 0));
    acto_test_settle(env);
    assert_acto_ok(y.rc);
    assert_int_equal(y.sent, 6);
    assert_int_equal(y.room_before, 4);
    assert_int_equal(y.room_after, 0); /* full, two parked */
    assert_in_order(&t, 6);
    /* A NULL entry stops it there: what came before is sent, whether it
     * is after the first four or among them. */
    for (int null_at = 5; null_at >= 3; null_at -= 2) {
        y = (many){.to = r, .null_at = null_at};
        t.n = 0;
        assert_acto_ok(acto_test_send_int(sys, yr, T_NUM, 0));
        acto_test_settle(env);
        assert_acto_err(y.rc, ACTO_EINVAL);
        assert_int_equal(y.sent, null_at - 1);
        assert_in_order(&t, null_at - 1);
    }
    /* To a dead actor: dead letters, no room. */
    assert_acto_ok(acto_stop(sys, r));
    acto_test_settle(env);
    y = (many){.to = r};
    uint64_t dead = acto_dead_letters(sys);
    assert_acto_ok(acto_test_send_int(sys, yr, T_NUM, 0));
    acto_test_settle(env);
    assert_acto_ok(y.rc);
    assert_int_equal(y.sent, 6);
    assert_int_equal(y.room_before, 0);
    assert_int_equal(acto_dead_letters(sys), dead + 6);
    /* To an unbounded mailbox: no limit. */
    taker u = {0};
    y = (many){.to = spawn_taker(sys, &u, 0, 0)};
    assert_acto_ok(acto_test_send_int(sys, yr, T_NUM, 0));
    acto_test_settle(env);
    assert_int_equal(y.room_before, UINT32_MAX);
    assert_in_order(&u, 6);
    acto_test_assert_stats_balance(sys);
    assert_acto_err(acto_send_many(NULL, yr, NULL, 0, NULL), ACTO_EINVAL);
    acto_test_close_system(env, sys);
}

/* BOTH_WAYS(test) defines test's two entries: by acto_take_run and by
 * cursor. */
#define BOTH_WAYS(test)                                                        \
    static void test##_by_array(void **state)                                  \
    {                                                                          \
        by_cursor = false;                                                     \
        test(state);                                                           \
    }                                                                          \
    static void test##_by_cursor(void **state)                                 \
    {                                                                          \
        by_cursor = true;                                                      \
        test(state);                                                           \
        by_cursor = false;                                                     \
    }

BOTH_WAYS(test_runs_take_in_order_within_the_batch_budget)
BOTH_WAYS(test_runs_stop_at_a_message_above_max_type)
BOTH_WAYS(test_runs_keep_counting_in_a_bounded_mailbox)
BOTH_WAYS(test_runs_and_send_many_keep_order_under_backpressure)
BOTH_WAYS(test_runs_put_back_waits_for_resume)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(
            test_runs_take_in_order_within_the_batch_budget_by_array),
        acto_unit_test(
            test_runs_take_in_order_within_the_batch_budget_by_cursor),
        acto_unit_test(test_runs_stop_at_a_message_above_max_type_by_array),
        acto_unit_test(test_runs_stop_at_a_message_above_max_type_by_cursor),
        acto_unit_test(test_runs_keep_counting_in_a_bounded_mailbox_by_array),
        acto_unit_test(test_runs_keep_counting_in_a_bounded_mailbox_by_cursor),
        acto_unit_test(
            test_runs_and_send_many_keep_order_under_backpressure_by_array),
        acto_unit_test(
            test_runs_and_send_many_keep_order_under_backpressure_by_cursor),
        acto_unit_test(test_runs_put_back_waits_for_resume_by_array),
        acto_unit_test(test_runs_put_back_waits_for_resume_by_cursor),
        acto_unit_test(test_runs_are_refused_where_messages_go_one_by_one),
        acto_unit_test(test_runs_are_refused_in_debug_mode),
        acto_unit_test(test_send_many_counts_room_and_refuses_bad_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
