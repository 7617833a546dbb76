/* Timers: send-after and send-every on virtual time, cancellation, dead
 * receivers, receive timeouts, send timeouts, cleanup at close, the cost of
 * many pending timers, and one real-time band. */
#include "acto_test.h"

#include <stdlib.h>

enum { T_NUM = 1, T_OFF, T_KICK, T_PING };

#define REC_MAX 64

/* ---- fixture helpers -------------------------------------------------- */

/* With virtual time no libuv timer is armed, so acto_test_settle stops once
 * nothing is runnable. */
static acto_system *
virtual_system(acto_test_env *env)
{
    return acto_test_system(env, &(acto_system_opts){.virtual_time = true});
}

/* advance moves virtual time and handles what it delivered. */
static void
advance(acto_test_env *env, acto_system *sys, uint64_t ms)
{
    assert_acto_ok(acto_system_advance(sys, ms));
    acto_test_settle(env);
}

static acto_msg *
num_msg(acto_system *sys, int n)
{
    acto_msg *m = NULL;
    assert_acto_ok(acto_msg_new_bytes(sys, T_NUM, &n, sizeof(n), &m));
    return m;
}

static void
count_free(void *ptr, void *user)
{
    (void)ptr;
    (*(int *)user)++;
}

/* ---- the recorder: an actor that writes down what it got and when ----- */

typedef struct rec {
    acto_system *sys;
    uint64_t start_timeout; /* receive timeout set by the start hook */
    int n;                  /* T_NUM messages */
    int values[REC_MAX];
    uint64_t at[REC_MAX];
    int timeouts;
    uint64_t timeout_at[REC_MAX];
    int others;
    long total; /* every T_NUM, also past REC_MAX */
} rec;

static int
rec_start(acto_ctx *ctx, void *state)
{
    rec *r = state;
    if (r->start_timeout > 0) {
        return acto_set_receive_timeout(ctx, r->start_timeout);
    }
    return 0;
}

static int
rec_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    rec *r = state;
    uint64_t now = acto_system_now(r->sys);
    switch (acto_msg_type(m)) {
    case T_NUM:
        if (r->n < REC_MAX) {
            r->values[r->n] = acto_test_msg_int(m);
            r->at[r->n] = now;
            r->n++;
        }
        r->total++;
        return 0;
    case ACTO_MSG_RECEIVE_TIMEOUT:
        if (r->timeouts < REC_MAX) {
            r->timeout_at[r->timeouts] = now;
        }
        r->timeouts++;
        return 0;
    case T_OFF:
        return acto_set_receive_timeout(ctx, 0);
    default:
        r->others++;
        return 0;
    }
}

static const acto_behaviour rec_beh = {rec_receive, rec_start, NULL};

static acto_ref
spawn_rec(acto_system *sys, rec *r)
{
    r->sys = sys;
    acto_ref ref;
    assert_acto_ok(acto_spawn(sys, &rec_beh, r, NULL, &ref));
    return ref;
}

/* ---- send-after ------------------------------------------------------- */

static void
test_timer_send_after_delivers_once_at_exactly_the_due_time(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    rec r = {0};
    acto_ref to = spawn_rec(sys, &r);
    uint64_t id = 0;
    assert_acto_ok(acto_send_after(sys, 100, to, num_msg(sys, 7), &id));
    assert_int_not_equal(id, 0);
    advance(env, sys, 99);
    assert_int_equal(r.n, 0);
    advance(env, sys, 1);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.values[0], 7);
    assert_int_equal(r.at[0], 100);
    advance(env, sys, 1000);
    assert_int_equal(r.n, 1);
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
}

static void
test_timer_send_after_with_zero_delay_fires_on_the_next_advance(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    rec r = {0};
    acto_ref to = spawn_rec(sys, &r);
    assert_acto_ok(acto_send_after(sys, 0, to, num_msg(sys, 1), NULL));
    acto_test_settle(env);
    assert_int_equal(r.n, 0); /* a timer only fires when time is driven */
    advance(env, sys, 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.at[0], 0);
    acto_test_close_system(env, sys);
}

static void
test_timer_timers_fire_in_due_order_and_ties_in_the_order_set(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    rec r = {0};
    acto_ref to = spawn_rec(sys, &r);
    /* value = due * 10 + the order among its ties */
    static const int delays[] = {30, 10, 20, 10, 30, 5, 20, 10};
    static const int want[] = {50, 100, 101, 102, 200, 201, 300, 301};
    int tie[64] = {0};
    for (size_t i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
        int d = delays[i];
        assert_acto_ok(acto_send_after(sys, (uint64_t)d, to,
                                       num_msg(sys, d * 10 + tie[d]++), NULL));
    }
    advance(env, sys, 30);
    assert_int_equal(r.n, 8);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(r.values[i], want[i]);
    }
    acto_test_close_system(env, sys);
}

static void
test_timer_send_after_to_a_dead_actor_becomes_a_dead_letter(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    rec r1 = {0}, r2 = {0};
    acto_ref dead = spawn_rec(sys, &r1);
    acto_ref dies_later = spawn_rec(sys, &r2);
    assert_acto_ok(acto_stop(sys, dead));
    acto_test_settle(env);
    assert_false(acto_alive(sys, dead));
    assert_int_equal(acto_dead_letters(sys), 0);
    assert_acto_ok(acto_send_after(sys, 10, dead, num_msg(sys, 1), NULL));
    assert_acto_ok(acto_send_after(sys, 20, dies_later, num_msg(sys, 2), NULL));
    advance(env, sys, 10);
    assert_int_equal(acto_dead_letters(sys), 1);
    assert_acto_ok(acto_stop(sys, dies_later));
    acto_test_settle(env);
    advance(env, sys, 10);
    assert_int_equal(acto_dead_letters(sys), 2);
    acto_stats st;
    acto_system_stats(sys, &st);
    assert_int_equal(st.dead_letters, 2);
    assert_int_equal(st.handled, 0);
    assert_int_equal(r1.n + r2.n, 0);
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
}

/* ---- send-every ------------------------------------------------------- */

static void
test_timer_send_every_delivers_once_per_interval_until_cancelled(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    rec r = {0};
    acto_ref to = spawn_rec(sys, &r);
    uint64_t id;
    assert_acto_ok(acto_send_every(sys, 10, to, num_msg(sys, 3), &id));
    for (int k = 1; k <= 5; k++) {
        advance(env, sys, 9);
        assert_int_equal(r.n, k - 1);
        advance(env, sys, 1);
        assert_int_equal(r.n, k);
        assert_int_equal(r.values[k - 1], 3);
        assert_int_equal(r.at[k - 1], (uint64_t)k * 10);
    }
    assert_acto_ok(acto_timer_cancel(sys, id));
    assert_acto_err(acto_timer_cancel(sys, id), ACTO_ENOTFOUND);
    advance(env, sys, 100);
    assert_int_equal(r.n, 5);
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
}

static void
test_timer_send_every_fires_for_every_interval_of_one_long_advance(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    rec r = {0};
    acto_ref to = spawn_rec(sys, &r);
    assert_acto_ok(acto_send_every(sys, 10, to, num_msg(sys, 4), NULL));
    /* acto_system_advance fires every timer now due: after 50 ms an
     * interval of 10 ms has been due five times. */
    advance(env, sys, 50);
    assert_int_equal(r.n, 5);
    advance(env, sys, 50);
    assert_int_equal(r.n, 10);
    acto_test_close_system(env, sys);
}

static void
test_timer_send_every_stops_and_is_freed_when_its_receiver_dies(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    rec r = {0};
    acto_ref to = spawn_rec(sys, &r);
    uint64_t id;
    assert_acto_ok(acto_send_every(sys, 10, to, num_msg(sys, 5), &id));
    advance(env, sys, 10);
    assert_int_equal(r.n, 1);
    assert_acto_ok(acto_stop(sys, to));
    acto_test_settle(env);
    long live_stopped = acto_test_alloc_live();
    advance(env, sys, 10);
    advance(env, sys, 100);
    /* No copy was sent to the dead receiver, and the timer is gone. */
    assert_int_equal(acto_dead_letters(sys), 0);
    assert_int_equal(r.n, 1);
    assert_acto_err(acto_timer_cancel(sys, id), ACTO_ENOTFOUND);
    assert_true(acto_test_alloc_live() < live_stopped);
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
}

static void
test_timer_send_every_rejects_pointers_and_zero_intervals_leaving_message(
    void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    rec r = {0};
    acto_ref to = spawn_rec(sys, &r);
    int freed = 0;
    int payload = 9;
    acto_msg *pm;
    assert_acto_ok(
        acto_msg_new_ptr(sys, T_NUM, &payload, count_free, &freed, &pm));
    assert_acto_err(acto_send_every(sys, 10, to, pm, NULL), ACTO_EINVAL);
    assert_int_equal(freed, 0);
    acto_msg *bm = num_msg(sys, 8);
    assert_acto_err(acto_send_every(sys, 0, to, bm, NULL), ACTO_EINVAL);
    assert_acto_err(acto_send_every(sys, 10, to, NULL, NULL), ACTO_EINVAL);
    assert_acto_err(acto_send_after(sys, 10, to, NULL, NULL), ACTO_EINVAL);
    assert_acto_err(acto_send_after(NULL, 10, to, bm, NULL), ACTO_EINVAL);
    /* Both messages are still the caller's and still usable. */
    assert_acto_ok(acto_system_send(sys, to, bm));
    acto_test_settle(env);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.values[0], 8);
    acto_msg_free(pm);
    assert_int_equal(freed, 1);
    advance(env, sys, 100);
    assert_int_equal(r.n, 1);
    acto_test_close_system(env, sys);
}

static void
test_timer_send_every_accepts_msgpack_payloads(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    rec r = {0};
    acto_ref to = spawn_rec(sys, &r);
    static const unsigned char mp[] = {0x92, 0x01, 0x02}; /* [1, 2] */
    acto_msg *m;
    assert_acto_ok(acto_msg_new_msgpack(sys, T_KICK, mp, sizeof(mp), &m));
    assert_acto_ok(acto_send_every(sys, 7, to, m, NULL));
    advance(env, sys, 7);
    advance(env, sys, 7);
    assert_int_equal(r.others, 2);
    acto_test_close_system(env, sys);
}

/* ---- cancel ----------------------------------------------------------- */

static void
test_timer_cancel_frees_pending_message_and_fails_for_fired_or_unknown(
    void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    rec r = {0};
    acto_ref to = spawn_rec(sys, &r);
    int freed = 0;
    int payload = 1;
    acto_msg *pm;
    assert_acto_ok(
        acto_msg_new_ptr(sys, T_KICK, &payload, count_free, &freed, &pm));
    uint64_t pending, fired;
    assert_acto_ok(acto_send_after(sys, 50, to, pm, &pending));
    assert_acto_ok(acto_send_after(sys, 10, to, num_msg(sys, 2), &fired));
    assert_int_not_equal(pending, fired);
    assert_acto_ok(acto_timer_cancel(sys, pending));
    assert_int_equal(freed, 1);
    assert_acto_err(acto_timer_cancel(sys, pending), ACTO_ENOTFOUND);
    advance(env, sys, 10);
    assert_int_equal(r.n, 1);
    assert_acto_err(acto_timer_cancel(sys, fired), ACTO_ENOTFOUND);
    assert_acto_err(acto_timer_cancel(sys, 0), ACTO_ENOTFOUND);
    assert_acto_err(acto_timer_cancel(sys, 0x123456789abcdefULL),
                    ACTO_ENOTFOUND);
    assert_acto_err(acto_timer_cancel(sys, UINT64_MAX), ACTO_ENOTFOUND);
    advance(env, sys, 100);
    assert_int_equal(r.others, 0);
    assert_int_equal(freed, 1);
    acto_test_close_system(env, sys);
}

static void
test_timer_cancelled_id_does_not_cancel_the_timer_reusing_its_slot(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    rec r = {0};
    acto_ref to = spawn_rec(sys, &r);
    uint64_t old_id, new_id;
    assert_acto_ok(acto_send_after(sys, 10, to, num_msg(sys, 1), &old_id));
    assert_acto_ok(acto_timer_cancel(sys, old_id));
    assert_acto_ok(acto_send_after(sys, 10, to, num_msg(sys, 2), &new_id));
    assert_int_not_equal(old_id, new_id);
    assert_acto_err(acto_timer_cancel(sys, old_id), ACTO_ENOTFOUND);
    advance(env, sys, 10);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.values[0], 2);
    acto_test_close_system(env, sys);
}

/* ---- receive timeouts ------------------------------------------------- */

static void
test_timer_receive_timeout_fires_after_exactly_n_ms_of_silence(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    rec r = {.start_timeout = 100};
    spawn_rec(sys, &r);
    acto_test_settle(env);
    advance(env, sys, 99);
    assert_int_equal(r.timeouts, 0);
    advance(env, sys, 1);
    assert_int_equal(r.timeouts, 1);
    assert_int_equal(r.timeout_at[0], 100);
    acto_test_close_system(env, sys);
}

static void
test_timer_receive_timeout_is_pushed_back_by_each_message(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    rec r = {.start_timeout = 100};
    acto_ref to = spawn_rec(sys, &r);
    advance(env, sys, 60);
    assert_acto_ok(acto_system_send(sys, to, num_msg(sys, 1)));
    acto_test_settle(env); /* handled at 60: the timeout moves to 160 */
    advance(env, sys, 90);
    assert_acto_ok(acto_system_send(sys, to, num_msg(sys, 2)));
    acto_test_settle(env); /* handled at 150: the timeout moves to 250 */
    advance(env, sys, 99);
    assert_int_equal(r.timeouts, 0);
    assert_int_equal(r.n, 2);
    advance(env, sys, 1);
    assert_int_equal(r.timeouts, 1);
    assert_int_equal(r.timeout_at[0], 250);
    acto_test_close_system(env, sys);
}

static void
test_timer_receive_timeout_of_zero_turns_it_off(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    rec r = {.start_timeout = 100};
    acto_ref to = spawn_rec(sys, &r);
    advance(env, sys, 50);
    assert_acto_ok(acto_test_send_bytes(sys, to, T_OFF, NULL, 0));
    acto_test_settle(env);
    advance(env, sys, 1000);
    assert_int_equal(r.timeouts, 0);
    assert_acto_err(acto_set_receive_timeout(NULL, 10), ACTO_EINVAL);
    acto_test_close_system(env, sys);
}

/* ---- send timeouts ---------------------------------------------------- */

/* A pinger answers T_KICK with a T_PING to its peer and counts pings. */
typedef struct pinger {
    acto_ref peer;
    int kicks;
    int pings;
} pinger;

static int
pinger_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    pinger *p = state;
    if (acto_msg_type(m) == T_KICK) {
        p->kicks++;
        return acto_tell(ctx, p->peer, T_PING, NULL, 0);
    }
    if (acto_msg_type(m) == T_PING) {
        p->pings++;
    }
    return 0;
}

/* The parent spawns its child from its start hook and records failures. */
typedef struct parent {
    pinger *child_state;
    acto_ref child;
    int failed;
    int code;
    acto_ref failed_child;
} parent;

static int
parent_start(acto_ctx *ctx, void *state)
{
    parent *p = state;
    static const acto_behaviour child = {pinger_receive, NULL, NULL};
    acto_spawn_opts o = {.capacity = 1, .send_timeout_ms = 50};
    return acto_spawn(acto_ctx_system(ctx), &child, p->child_state, &o,
                      &p->child);
}

static int
parent_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)ctx;
    parent *p = state;
    if (acto_msg_type(m) == ACTO_MSG_CHILD_FAILED) {
        p->failed++;
        p->code = acto_msg_error(m)->code;
        p->failed_child = acto_msg_sender(m);
    }
    return 0;
}

static void
count_send_cb(acto_system *sys, int status, void *user)
{
    (void)sys;
    (void)status;
    (*(int *)user)++;
}

static void
send_wait_kick(acto_system *sys, acto_ref to, int *done)
{
    acto_msg *m;
    assert_acto_ok(acto_msg_new_bytes(sys, T_KICK, NULL, 0, &m));
    assert_acto_ok(acto_system_send_wait(sys, to, m, count_send_cb, done));
}

static void
test_timer_send_timeout_fails_parked_sender_and_tells_parent_etimedout(
    void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    pinger c = {0}, r = {0};
    parent p = {.child_state = &c};
    static const acto_behaviour parent_beh = {parent_receive, parent_start,
                                              NULL};
    static const acto_behaviour peer_beh = {pinger_receive, NULL, NULL};
    acto_ref pref, rref;
    assert_acto_ok(acto_spawn(sys, &parent_beh, &p, NULL, &pref));
    acto_spawn_opts ro = {.capacity = 1};
    assert_acto_ok(acto_spawn(sys, &peer_beh, &r, &ro, &rref));
    c.peer = rref;
    r.peer = p.child;
    /* Both mailboxes hold one kick with a second waiting. The child runs
     * first and parks on the peer's full mailbox; the peer then parks on
     * the child's: neither can take a message again. */
    int done = 0;
    send_wait_kick(sys, p.child, &done);
    send_wait_kick(sys, p.child, &done);
    send_wait_kick(sys, rref, &done);
    send_wait_kick(sys, rref, &done);
    acto_test_settle(env);
    assert_int_equal(c.kicks, 1);
    assert_int_equal(r.kicks, 1);
    assert_true(acto_alive(sys, p.child));
    acto_stats st;
    acto_system_stats(sys, &st);
    assert_true(st.parks >= 2);
    advance(env, sys, 49);
    assert_true(acto_alive(sys, p.child));
    assert_int_equal(p.failed, 0);
    advance(env, sys, 1);
    assert_false(acto_alive(sys, p.child));
    assert_int_equal(p.failed, 1);
    assert_acto_err(p.code, ACTO_ETIMEDOUT);
    assert_true(acto_ref_eq(p.failed_child, p.child));
    /* The peer, unparked by the child's death, went on. */
    assert_true(acto_alive(sys, rref));
    assert_int_equal(r.kicks, 2);
    assert_int_equal(r.pings, 1);
    assert_int_equal(done, 4);
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
}

/* ---- close and scale -------------------------------------------------- */

static void
test_timer_pending_timers_are_freed_at_close(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    rec r = {0};
    acto_ref to = spawn_rec(sys, &r);
    int freed = 0;
    int payload = 0;
    for (int i = 0; i < 10; i++) {
        acto_msg *pm;
        assert_acto_ok(
            acto_msg_new_ptr(sys, T_KICK, &payload, count_free, &freed, &pm));
        assert_acto_ok(acto_send_after(sys, 1000 + (uint64_t)i, to, pm, NULL));
    }
    assert_acto_ok(acto_send_every(sys, 5, to, num_msg(sys, 1), NULL));
    assert_acto_ok(acto_send_after(sys, 1u << 30, to, num_msg(sys, 2), NULL));
    advance(env, sys, 5);
    assert_int_equal(r.n, 1);
    acto_test_close_system(env, sys);
    assert_int_equal(freed, 10);
    /* The teardown proves nothing else is left. */
}

static void
count_handle(uv_handle_t *h, void *arg)
{
    int *n = arg;
    n[0]++;
    if (uv_is_active(h)) {
        n[1]++;
    }
}

static void
test_timer_100000_pending_timers_use_no_handles_and_fire_in_one_advance(
    void **state)
{
    acto_test_env *env = *state;
    enum { N = 100000 };
    acto_system *sys = virtual_system(env);
    rec r = {0};
    acto_ref to = spawn_rec(sys, &r);
    acto_test_settle(env);
    int before[2] = {0}, after[2] = {0};
    uv_walk(&env->loop, count_handle, before);
    for (int i = 0; i < N; i++) {
        assert_acto_ok(acto_send_after(sys, 1 + (uint64_t)(i % 1000), to,
                                       num_msg(sys, i), NULL));
    }
    uv_walk(&env->loop, count_handle, after);
    assert_int_equal(after[0], before[0]);
    assert_int_equal(after[1], before[1]);
    advance(env, sys, 999);
    assert_int_equal(r.total, N - N / 1000);
    advance(env, sys, 1);
    assert_int_equal(r.total, N);
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
}

/* ---- real time -------------------------------------------------------- */

static bool
got_one(void *arg)
{
    return ((rec *)arg)->n >= 1;
}

static void
test_timer_real_time_send_after_fires_within_a_band(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    rec r = {0};
    acto_ref to = spawn_rec(sys, &r);
    assert_acto_err(acto_system_advance(sys, 1), ACTO_EINVAL);
    uv_update_time(&env->loop);
    uint64_t t0 = acto_system_now(sys);
    uint64_t h0 = uv_hrtime();
    assert_acto_ok(acto_send_after(sys, 20, to, num_msg(sys, 1), NULL));
    assert_true(acto_test_run_until(&env->loop, got_one, &r, 2000));
    uint64_t elapsed_ms = (uv_hrtime() - h0) / 1000000u;
    assert_true(r.at[0] - t0 >= 20);
    assert_true(r.at[0] - t0 < 500);
    assert_true(elapsed_ms < 500);
    acto_test_close_system(env, sys);
}

/* ---- acto_call_after -------------------------------------------------- */

static void
count_call(acto_system *sys, void *user)
{
    (void)sys;
    (*(int *)user)++;
}

static void
test_timer_call_after_calls_once_on_time_and_cancels(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    int calls = 0, cancelled = 0, at_close = 0;
    uint64_t id, id2;
    assert_acto_err(acto_call_after(sys, 5, NULL, NULL, &id), ACTO_EINVAL);
    assert_acto_ok(acto_call_after(sys, 5, count_call, &calls, &id));
    assert_acto_ok(acto_call_after(sys, 5, count_call, &cancelled, &id2));
    assert_acto_ok(acto_timer_cancel(sys, id2));
    assert_acto_ok(acto_call_after(sys, 50, count_call, &at_close, NULL));
    assert_acto_ok(acto_system_advance(sys, 4));
    assert_int_equal(calls, 0);
    assert_acto_ok(acto_system_advance(sys, 1));
    assert_int_equal(calls, 1);
    assert_acto_err(acto_timer_cancel(sys, id), ACTO_ENOTFOUND);
    assert_acto_ok(acto_system_advance(sys, 10));
    assert_int_equal(calls, 1);
    assert_int_equal(cancelled, 0);
    acto_test_close_system(env, sys); /* dropped uncalled */
    assert_int_equal(at_close, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(
            test_timer_send_after_delivers_once_at_exactly_the_due_time),
        acto_unit_test(
            test_timer_send_after_with_zero_delay_fires_on_the_next_advance),
        acto_unit_test(
            test_timer_timers_fire_in_due_order_and_ties_in_the_order_set),
        acto_unit_test(
            test_timer_send_after_to_a_dead_actor_becomes_a_dead_letter),
        acto_unit_test(
            test_timer_send_every_delivers_once_per_interval_until_cancelled),
        acto_unit_test(
            test_timer_send_every_fires_for_every_interval_of_one_long_advance),
        acto_unit_test(
            test_timer_send_every_stops_and_is_freed_when_its_receiver_dies),
        acto_unit_test(
            test_timer_send_every_rejects_pointers_and_zero_intervals_leaving_message),
        acto_unit_test(test_timer_send_every_accepts_msgpack_payloads),
        acto_unit_test(
            test_timer_cancel_frees_pending_message_and_fails_for_fired_or_unknown),
        acto_unit_test(
            test_timer_cancelled_id_does_not_cancel_the_timer_reusing_its_slot),
        acto_unit_test(
            test_timer_receive_timeout_fires_after_exactly_n_ms_of_silence),
        acto_unit_test(
            test_timer_receive_timeout_is_pushed_back_by_each_message),
        acto_unit_test(test_timer_receive_timeout_of_zero_turns_it_off),
        acto_unit_test(
            test_timer_send_timeout_fails_parked_sender_and_tells_parent_etimedout),
        acto_unit_test(test_timer_pending_timers_are_freed_at_close),
        acto_unit_test(
            test_timer_100000_pending_timers_use_no_handles_and_fire_in_one_advance),
        acto_unit_test(test_timer_real_time_send_after_fires_within_a_band),
        acto_unit_test(test_timer_call_after_calls_once_on_time_and_cancels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
