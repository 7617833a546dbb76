/* Futures: completion, done callbacks, never-retrieved errors, futures and
 * actors (notify, pipe_to, then), and asks with timeouts, cancel notices,
 * deadlines and late replies. */
#include "acto_test.h"

#include <stdlib.h>
#include <string.h>

enum { T_NUM = 1, T_DONE, T_ASK, T_REPLY, T_GO, T_SLOW };

static acto_system *
virtual_system(acto_test_env *env)
{
    acto_system_opts o = {.virtual_time = true};
    return acto_test_system(env, &o);
}

/* ---- callbacks recorder ----------------------------------------------- */

typedef struct calls {
    int n;
    int order[16];
    acto_future_state state[16];
} calls;

static int cb_seq;

static void
record_done(acto_future *f, void *user)
{
    calls *c = user;
    c->order[c->n] = ++cb_seq;
    c->state[c->n] = acto_future_state_of(f);
    c->n++;
}

static void
free_int(void *ptr, void *user)
{
    (void)ptr;
    (*(int *)user)++;
}

typedef struct caught {
    int n;
    int code;
    char text[320];
} caught;

static void
catch_exception(acto_system *sys, const acto_error *e, void *user)
{
    (void)sys;
    caught *c = user;
    c->n++;
    c->code = e->code;
    snprintf(c->text, sizeof(c->text), "%s", e->text);
}

/* ---- the future itself ------------------------------------------------ */

static void
test_future_result_is_pending_until_set_then_done_once(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    acto_future *f;
    assert_acto_ok(acto_future_new(sys, &f));
    void *v = NULL;
    assert_acto_err(acto_future_result(f, &v), ACTO_EPENDING);
    assert_false(acto_future_done(f));
    int value = 7, freed = 0;
    assert_acto_ok(acto_future_set_result(f, &value, free_int, &freed));
    assert_acto_err(acto_future_set_result(f, NULL, NULL, NULL), ACTO_EDONE);
    assert_acto_err(acto_future_set_error(f, ACTO_EINVAL, NULL, "x"),
                    ACTO_EDONE);
    assert_acto_err(acto_future_cancel(f, NULL), ACTO_EDONE);
    assert_true(acto_future_done(f));
    assert_false(acto_future_cancelled(f));
    assert_acto_ok(acto_future_result(f, &v));
    assert_ptr_equal(v, &value);
    assert_null(acto_future_exception(f));
    acto_future_release(f);
    assert_int_equal(freed, 1); /* the result goes with the future */
    acto_test_close_system(env, sys);
}

static void
test_future_take_result_moves_the_value_out(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    acto_future *f;
    int value = 1, freed = 0;
    assert_acto_ok(acto_future_new(sys, &f));
    assert_null(acto_future_take_result(f));
    assert_acto_ok(acto_future_set_result(f, &value, free_int, &freed));
    assert_ptr_equal(acto_future_take_result(f), &value);
    acto_future_release(f);
    assert_int_equal(freed, 0);
    acto_test_close_system(env, sys);
}

static void
test_future_error_is_reported_when_never_retrieved(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    caught c = {0};
    acto_system_set_exception_handler(sys, catch_exception, &c);
    acto_future *read, *unread;
    assert_acto_ok(acto_future_new(sys, &read));
    assert_acto_ok(acto_future_new(sys, &unread));
    assert_acto_ok(
        acto_future_set_error(read, ACTO_EINVAL, "ValueError", "bad %d", 1));
    assert_acto_ok(
        acto_future_set_error(unread, ACTO_ETIMEDOUT, NULL, "slow %d", 2));
    assert_acto_err(acto_future_result(read, NULL), ACTO_EINVAL);
    const acto_error *e = acto_future_exception(read);
    assert_string_equal(e->type, "ValueError");
    assert_string_equal(e->text, "bad 1");
    acto_future_release(read);
    assert_int_equal(c.n, 0);
    acto_future_release(unread);
    assert_int_equal(c.n, 1);
    assert_acto_err(c.code, ACTO_ETIMEDOUT);
    assert_non_null(strstr(c.text, "never retrieved"));
    assert_non_null(strstr(c.text, "slow 2"));
    acto_test_close_system(env, sys);
}

static void
test_future_cancel_keeps_its_message(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    acto_future *f;
    assert_acto_ok(acto_future_new(sys, &f));
    assert_acto_ok(acto_future_cancel(f, "user left"));
    assert_true(acto_future_cancelled(f));
    assert_true(acto_future_done(f));
    assert_string_equal(acto_future_cancel_message(f), "user left");
    assert_acto_err(acto_future_result(f, NULL), ACTO_ECANCELED);
    acto_future_release(f);
    acto_test_close_system(env, sys);
}

static void
test_future_callbacks_run_in_order_once_and_never_inside_the_call(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    acto_future *f;
    calls a = {0}, b = {0}, late = {0};
    assert_acto_ok(acto_future_new(sys, &f));
    assert_acto_ok(acto_future_add_done_cb(f, record_done, &a));
    assert_acto_ok(acto_future_add_done_cb(f, record_done, &b));
    assert_acto_ok(acto_future_set_result(f, NULL, NULL, NULL));
    assert_int_equal(a.n, 0); /* not inside set_result */
    acto_test_settle(env);
    assert_int_equal(a.n, 1);
    assert_int_equal(b.n, 1);
    assert_true(a.order[0] < b.order[0]);
    assert_int_equal(a.state[0], ACTO_FUTURE_DONE);
    assert_acto_ok(acto_future_add_done_cb(f, record_done, &late));
    assert_int_equal(late.n, 0); /* not inside add_done_cb */
    acto_test_settle(env);
    assert_int_equal(late.n, 1);
    assert_int_equal(a.n, 1);
    acto_future_release(f);
    acto_test_close_system(env, sys);
}

static void
test_future_removed_callbacks_do_not_run(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    acto_future *f;
    calls a = {0}, b = {0};
    assert_acto_ok(acto_future_new(sys, &f));
    assert_acto_ok(acto_future_add_done_cb(f, record_done, &a));
    assert_acto_ok(acto_future_add_done_cb(f, record_done, &b));
    assert_acto_ok(acto_future_add_done_cb(f, record_done, &a));
    assert_int_equal(acto_future_remove_done_cb(f, record_done, &a), 2);
    assert_int_equal(acto_future_remove_done_cb(f, record_done, &a), 0);
    assert_acto_ok(acto_future_cancel(f, NULL));
    acto_test_settle(env);
    assert_int_equal(a.n, 0);
    assert_int_equal(b.n, 1);
    assert_int_equal(b.state[0], ACTO_FUTURE_CANCELLED);
    acto_future_release(f);
    acto_test_close_system(env, sys);
}

/* A callback that completes another future: its callbacks must wait for
 * their own turn, not run nested inside this one. */
typedef struct chain {
    acto_future *other;
    calls *other_calls;
    int other_calls_seen_inside;
} chain;

static void
complete_other(acto_future *f, void *user)
{
    (void)f;
    chain *c = user;
    acto_future_set_result(c->other, NULL, NULL, NULL);
    c->other_calls_seen_inside = c->other_calls->n;
}

static void
test_future_completing_inside_a_callback_does_not_reenter(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    acto_future *f, *g;
    calls gc = {0};
    assert_acto_ok(acto_future_new(sys, &f));
    assert_acto_ok(acto_future_new(sys, &g));
    chain c = {g, &gc, -1};
    assert_acto_ok(acto_future_add_done_cb(g, record_done, &gc));
    assert_acto_ok(acto_future_add_done_cb(f, complete_other, &c));
    assert_acto_ok(acto_future_set_result(f, NULL, NULL, NULL));
    acto_test_settle(env);
    assert_int_equal(c.other_calls_seen_inside, 0);
    assert_int_equal(gc.n, 1);
    acto_future_release(f);
    acto_future_release(g);
    acto_test_close_system(env, sys);
}

static void
test_future_with_callbacks_outlives_its_callers_reference(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    acto_future *f;
    calls a = {0};
    assert_acto_ok(acto_future_new(sys, &f));
    assert_acto_ok(acto_future_add_done_cb(f, record_done, &a));
    acto_future_retain(f);  /* a completer's reference */
    acto_future_release(f); /* the watcher lets go */
    assert_acto_ok(acto_future_set_result(f, NULL, NULL, NULL));
    acto_future_release(f); /* the completer lets go */
    acto_test_settle(env);
    assert_int_equal(a.n, 1);
    acto_test_close_system(env, sys);
}

static void
test_future_pending_with_callbacks_is_cancelled_at_close(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    acto_future *f;
    calls a = {0};
    assert_acto_ok(acto_future_new(sys, &f));
    assert_acto_ok(acto_future_add_done_cb(f, record_done, &a));
    acto_future_release(f);
    acto_test_close_system(env, sys);
    assert_int_equal(a.n, 1);
    assert_int_equal(a.state[0], ACTO_FUTURE_CANCELLED);
}

/* ---- futures and actors ----------------------------------------------- */

typedef struct waiter {
    acto_future *f;
    int notified;
    acto_future_state seen;
    acto_ref self;
} waiter;

static int
waiter_start(acto_ctx *ctx, void *state)
{
    waiter *w = state;
    w->self = acto_self(ctx);
    return acto_future_notify(ctx, w->f, T_DONE);
}

static int
waiter_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)ctx;
    waiter *w = state;
    if (acto_msg_type(m) == T_DONE) {
        w->notified++;
        w->seen = acto_future_state_of(acto_msg_future(m));
    }
    return 0;
}

static const acto_behaviour waiter_b = {waiter_receive, waiter_start, NULL};

static void
test_future_notify_delivers_a_message_to_the_waiting_actor(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    waiter w = {0};
    assert_acto_ok(acto_future_new(sys, &w.f));
    acto_ref ref;
    assert_acto_ok(acto_spawn(sys, &waiter_b, &w, NULL, &ref));
    acto_test_settle(env);
    assert_int_equal(w.notified, 0);
    assert_acto_ok(acto_future_set_result(w.f, NULL, NULL, NULL));
    acto_test_settle(env);
    assert_int_equal(w.notified, 1);
    assert_int_equal(w.seen, ACTO_FUTURE_DONE);
    acto_future_release(w.f);
    acto_test_close_system(env, sys);
}

static void
test_future_pipe_to_a_dead_actor_is_a_dead_letter(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    waiter w = {0};
    acto_future *f;
    assert_acto_ok(acto_future_new(sys, &f));
    assert_acto_ok(acto_future_new(sys, &w.f));
    acto_ref ref;
    assert_acto_ok(acto_spawn(sys, &waiter_b, &w, NULL, &ref));
    assert_acto_ok(acto_future_pipe_to(f, ref, T_DONE));
    assert_acto_err(acto_future_pipe_to(f, ref, ACTO_MSG_DOWN), ACTO_EINVAL);
    assert_acto_ok(acto_future_set_error(f, ACTO_EINVAL, NULL, "x"));
    acto_test_settle(env);
    assert_int_equal(w.notified, 1);
    assert_int_equal(w.seen, ACTO_FUTURE_FAILED);
    assert_acto_ok(acto_stop(sys, ref));
    acto_test_settle(env);
    uint64_t dead = acto_dead_letters(sys);
    acto_future *g;
    assert_acto_ok(acto_future_new(sys, &g));
    assert_acto_ok(acto_future_pipe_to(g, ref, T_DONE));
    acto_future_release(g);
    assert_acto_ok(acto_future_cancel(g, NULL)); /* still alive: piped */
    acto_test_settle(env);
    assert_int_equal(acto_dead_letters(sys), dead + 1);
    acto_future_exception(f);
    acto_future_release(f);
    acto_future_cancel(w.f, NULL);
    acto_future_release(w.f);
    acto_test_close_system(env, sys);
}

/* ---- asks ------------------------------------------------------------- */

typedef struct server {
    int seen;
    int replied;
    bool cancelled_when_handled;
    uint64_t deadline_seen;
    acto_ref inner; /* asks this one further when set */
    acto_future *inner_f;
    uint64_t inner_deadline;
} server;

static int
server_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    server *s = state;
    s->seen++;
    s->cancelled_when_handled = acto_request_cancelled(ctx);
    s->deadline_seen = acto_request_deadline(ctx);
    if (acto_msg_type(m) == T_ASK) {
        int n = acto_test_msg_int(m) * 10;
        s->replied++;
        return acto_reply(ctx, T_REPLY, &n, sizeof(n));
    }
    if (acto_msg_type(m) == T_GO && !acto_ref_is_none(s->inner)) {
        acto_msg *req;
        assert_acto_ok(
            acto_msg_new_bytes(acto_ctx_system(ctx), T_SLOW, NULL, 0, &req));
        /* Asks further with a generous timeout: the caller's deadline wins. */
        assert_acto_ok(
            acto_ask(acto_ctx_system(ctx), s->inner, req, 100000, &s->inner_f));
    }
    return 0; /* T_SLOW: never answered */
}

static const acto_behaviour server_b = {server_receive, NULL, NULL};

static acto_msg *
int_msg(acto_system *sys, uint32_t type, int n)
{
    acto_msg *m;
    assert_acto_ok(acto_msg_new_bytes(sys, type, &n, sizeof(n), &m));
    return m;
}

static void
test_future_ask_completes_with_the_reply_message(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    server s = {0};
    acto_ref ref;
    assert_acto_ok(acto_spawn(sys, &server_b, &s, NULL, &ref));
    acto_future *f;
    assert_acto_ok(acto_ask(sys, ref, int_msg(sys, T_ASK, 4), 1000, &f));
    acto_test_settle(env);
    void *v;
    assert_acto_ok(acto_future_result(f, &v));
    const acto_msg *reply = v;
    assert_int_equal(acto_msg_type(reply), T_REPLY);
    assert_int_equal(acto_test_msg_int(reply), 40);
    assert_true(acto_ref_eq(acto_msg_sender(reply), ref));
    assert_false(s.cancelled_when_handled);
    assert_int_equal(s.deadline_seen, acto_system_now(sys) + 1000);
    acto_future_release(f);
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
}

static void
test_future_ask_times_out_exactly_and_counts_the_late_reply(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    server s = {0};
    acto_ref ref;
    assert_acto_ok(acto_spawn(sys, &server_b, &s, NULL, &ref));
    acto_future *f;
    assert_acto_ok(acto_ask(sys, ref, int_msg(sys, T_SLOW, 1), 50, &f));
    acto_test_settle(env);
    assert_acto_ok(acto_system_advance(sys, 49));
    acto_test_settle(env);
    assert_false(acto_future_done(f));
    assert_acto_ok(acto_system_advance(sys, 1));
    acto_test_settle(env);
    assert_acto_err(acto_future_result(f, NULL), ACTO_ETIMEDOUT);
    acto_future_release(f);
    /* A reply arriving now is dropped and counted. */
    assert_acto_ok(acto_ask(sys, ref, int_msg(sys, T_ASK, 1), 10, &f));
    assert_acto_ok(acto_future_cancel(f, "gave up"));
    acto_test_settle(env);
    assert_true(s.cancelled_when_handled);
    acto_stats st;
    acto_system_stats(sys, &st);
    assert_int_equal(st.late_replies, 1);
    acto_future_release(f);
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
}

static void
test_future_ask_to_a_dead_actor_fails_at_once_with_enoactor(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    server s = {0};
    acto_ref ref;
    assert_acto_ok(acto_spawn(sys, &server_b, &s, NULL, &ref));
    assert_acto_ok(acto_stop(sys, ref));
    acto_test_settle(env);
    acto_future *f;
    assert_acto_ok(acto_ask(sys, ref, int_msg(sys, T_ASK, 1), 0, &f));
    acto_test_settle(env);
    assert_acto_err(acto_future_result(f, NULL), ACTO_ENOACTOR);
    acto_future_release(f);
    acto_test_close_system(env, sys);
}

static void
test_future_nested_ask_inherits_the_callers_deadline(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    server inner = {0}, outer = {0};
    acto_ref iref, oref;
    assert_acto_ok(acto_spawn(sys, &server_b, &inner, NULL, &iref));
    outer.inner = iref;
    assert_acto_ok(acto_spawn(sys, &server_b, &outer, NULL, &oref));
    acto_future *f;
    assert_acto_ok(acto_ask(sys, oref, int_msg(sys, T_GO, 0), 30, &f));
    acto_test_settle(env);
    assert_non_null(outer.inner_f);
    assert_int_equal(inner.deadline_seen, acto_system_now(sys) + 30);
    assert_acto_ok(acto_system_advance(sys, 30));
    acto_test_settle(env);
    assert_acto_err(acto_future_result(f, NULL), ACTO_ETIMEDOUT);
    assert_acto_err(acto_future_result(outer.inner_f, NULL), ACTO_ETIMEDOUT);
    acto_future_release(f);
    acto_future_release(outer.inner_f);
    acto_test_close_system(env, sys);
}

static void
test_future_pending_asks_are_cancelled_at_close(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    server s = {0};
    acto_ref ref;
    assert_acto_ok(acto_spawn(sys, &server_b, &s, NULL, &ref));
    acto_future *f;
    assert_acto_ok(acto_ask(sys, ref, int_msg(sys, T_SLOW, 1), 0, &f));
    acto_test_settle(env);
    acto_test_close_system(env, sys);
    assert_true(acto_future_cancelled(f));
    acto_future_release(f);
}

/* An actor that asks a server which never answers, has the ask notified
 * to itself and lets go of its own reference at once, as callers of
 * acto_future_notify do. */
typedef struct notified_asker {
    acto_ref server;
    int notified;
} notified_asker;

static int
notified_asker_start(acto_ctx *ctx, void *state)
{
    notified_asker *n = state;
    acto_system *sys = acto_ctx_system(ctx);
    acto_future *f;
    assert_acto_ok(acto_ask(sys, n->server, int_msg(sys, T_SLOW, 1), 0, &f));
    int rc = acto_future_notify(ctx, f, T_DONE);
    acto_future_release(f);
    return rc;
}

static int
notified_asker_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)ctx;
    notified_asker *n = state;
    if (acto_msg_type(m) == T_DONE) {
        n->notified++;
    }
    return 0;
}

static const acto_behaviour notified_asker_b = {notified_asker_receive,
                                                notified_asker_start, NULL};

static void
test_future_notified_ask_nobody_holds_is_freed_at_close(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    server s = {0};
    notified_asker n = {0};
    assert_acto_ok(acto_spawn(sys, &server_b, &s, NULL, &n.server));
    acto_ref ref;
    assert_acto_ok(acto_spawn(sys, &notified_asker_b, &n, NULL, &ref));
    acto_test_settle(env);
    assert_int_equal(s.seen, 1);
    assert_int_equal(n.notified, 0);
    /* Only the notify message holds the ask; closing cancels it, and the
     * teardown finds nothing left allocated. */
    acto_test_close_system(env, sys);
}

/* ---- then ------------------------------------------------------------- */

typedef struct flow {
    acto_ref server;
    acto_future *final;
    int step1_runs;
    int step2_runs;
    int result;
    bool done;
} flow;

static acto_future *
step2(acto_ctx *ctx, void *state, acto_future *prev, void *user)
{
    (void)ctx;
    (void)user;
    flow *fl = state;
    fl->step2_runs++;
    void *v;
    assert_acto_ok(acto_future_result(prev, &v));
    fl->result = acto_test_msg_int(v);
    return NULL; /* the chain ends with prev's outcome */
}

static acto_future *
step1(acto_ctx *ctx, void *state, acto_future *prev, void *user)
{
    (void)user;
    flow *fl = state;
    fl->step1_runs++;
    void *v;
    assert_acto_ok(acto_future_result(prev, &v));
    int n = acto_test_msg_int(v);
    acto_future *next, *out;
    acto_system *sys = acto_ctx_system(ctx);
    assert_acto_ok(acto_ask(sys, fl->server, int_msg(sys, T_ASK, n), 0, &next));
    assert_acto_ok(acto_future_then(ctx, next, step2, NULL, &out));
    acto_future_release(out);
    return next;
}

static int
flow_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    flow *fl = state;
    acto_system *sys = acto_ctx_system(ctx);
    if (acto_msg_type(m) == T_GO) {
        acto_future *first;
        assert_acto_ok(
            acto_ask(sys, fl->server, int_msg(sys, T_ASK, 2), 0, &first));
        assert_acto_ok(acto_future_then(ctx, first, step1, NULL, &fl->final));
        acto_future_release(first);
        assert_acto_ok(acto_future_notify(ctx, fl->final, T_DONE));
    } else if (acto_msg_type(m) == T_DONE) {
        fl->done = true;
    }
    return 0;
}

static const acto_behaviour flow_b = {flow_receive, NULL, NULL};

static void
test_future_then_chains_steps_inside_the_actor(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    server s = {0};
    flow fl = {0};
    acto_ref sref, fref;
    assert_acto_ok(acto_spawn(sys, &server_b, &s, NULL, &sref));
    fl.server = sref;
    assert_acto_ok(acto_spawn(sys, &flow_b, &fl, NULL, &fref));
    assert_acto_ok(acto_test_send_int(sys, fref, T_GO, 0));
    acto_test_settle(env);
    assert_int_equal(fl.step1_runs, 1);
    assert_int_equal(fl.step2_runs, 1);
    assert_int_equal(fl.result, 200); /* 2 * 10 * 10 */
    assert_true(fl.done);
    void *v;
    assert_acto_ok(acto_future_result(fl.final, &v));
    assert_int_equal(acto_test_msg_int(v), 200); /* moved from step 1's ask */
    acto_future_release(fl.final);
    acto_test_close_system(env, sys);
}

typedef struct canceller {
    acto_ref server;
    acto_future *step;  /* the step in flight */
    acto_future *chain; /* the chain's future */
} canceller;

static acto_future *
slow_step(acto_ctx *ctx, void *state, acto_future *prev, void *user)
{
    (void)prev;
    (void)user;
    canceller *c = state;
    acto_system *sys = acto_ctx_system(ctx);
    assert_acto_ok(
        acto_ask(sys, c->server, int_msg(sys, T_SLOW, 0), 0, &c->step));
    acto_future_retain(c->step); /* one for the test, one for the chain */
    return c->step;
}

static int
canceller_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)m;
    canceller *c = state;
    acto_future *first;
    assert_acto_ok(acto_future_new(acto_ctx_system(ctx), &first));
    assert_acto_ok(acto_future_then(ctx, first, slow_step, NULL, &c->chain));
    assert_acto_ok(acto_future_set_result(first, NULL, NULL, NULL));
    acto_future_release(first);
    return 0;
}

static const acto_behaviour canceller_b = {canceller_receive, NULL, NULL};

static void
test_future_cancelling_a_chain_cancels_the_step_in_flight(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    server s = {0};
    canceller c = {0};
    acto_ref sref, cref;
    assert_acto_ok(acto_spawn(sys, &server_b, &s, NULL, &sref));
    c.server = sref;
    assert_acto_ok(acto_spawn(sys, &canceller_b, &c, NULL, &cref));
    assert_acto_ok(acto_test_send_int(sys, cref, T_GO, 0));
    acto_test_settle(env);
    assert_non_null(c.step);
    assert_false(acto_future_done(c.step));
    assert_acto_ok(acto_future_cancel(c.chain, "caller left"));
    acto_test_settle(env);
    assert_true(acto_future_cancelled(c.step));
    assert_string_equal(acto_future_cancel_message(c.step), "caller left");
    acto_future_release(c.step);
    acto_future_release(c.chain);
    acto_test_close_system(env, sys);
}

static void
test_future_with_all_callbacks_removed_is_freed_normally(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    acto_future *f;
    calls a = {0};
    assert_acto_ok(acto_future_new(sys, &f));
    assert_acto_ok(acto_future_add_done_cb(f, record_done, &a));
    assert_int_equal(acto_future_remove_done_cb(f, record_done, &a), 1);
    assert_acto_ok(acto_future_set_result(f, NULL, NULL, NULL));
    acto_future_release(f);
    acto_test_settle(env);
    assert_int_equal(a.n, 0);
    /* Pending when its last callback goes: freed by its last release. */
    assert_acto_ok(acto_future_new(sys, &f));
    assert_acto_ok(acto_future_add_done_cb(f, record_done, &a));
    assert_int_equal(acto_future_remove_done_cb(f, record_done, &a), 1);
    acto_stats st;
    acto_system_stats(sys, &st);
    assert_int_equal(st.futures, 1);
    acto_future_release(f);
    acto_system_stats(sys, &st);
    assert_int_equal(st.futures, 0);
    /* A future read after its system closed is still safe to release. */
    void *v;
    assert_acto_ok(acto_future_new(sys, &f));
    int value = 3, freed = 0;
    assert_acto_ok(acto_future_set_result(f, &value, free_int, &freed));
    acto_test_close_system(env, sys);
    assert_acto_ok(acto_future_result(f, &v));
    assert_ptr_equal(v, &value);
    acto_future_release(f); /* frees the closed system's struct too */
    assert_int_equal(freed, 1);
}

static void
test_future_calls_outside_a_handler_are_einval(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    waiter w = {0};
    acto_ref ref;
    assert_acto_ok(acto_future_new(sys, &w.f));
    assert_acto_ok(acto_spawn(sys, &waiter_b, &w, NULL, &ref));
    acto_future *out;
    assert_acto_err(acto_future_add_done_cb(w.f, NULL, NULL), ACTO_EINVAL);
    assert_acto_err(acto_ask(sys, ref, NULL, 0, &out), ACTO_EINVAL);
    assert_acto_err(acto_future_new(NULL, &out), ACTO_EINVAL);
    acto_future_cancel(w.f, NULL);
    acto_future_release(w.f);
    acto_test_close_system(env, sys);
}

static void
test_future_ask_and_notify_fail_cleanly_at_every_allocation(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    server s = {0};
    acto_ref ref;
    assert_acto_ok(acto_spawn(sys, &server_b, &s, NULL, &ref));
    for (long n = 1;; n++) {
        acto_msg *req = int_msg(sys, T_ASK, 1);
        acto_future *f = NULL;
        acto_test_alloc_fail_nth(n);
        int rc = acto_ask(sys, ref, req, 100, &f);
        bool failed = acto_test_alloc_failed();
        acto_test_alloc_fail_nth(0);
        if (!failed) {
            assert_acto_ok(rc);
            acto_test_settle(env);
            assert_acto_ok(acto_future_result(f, NULL));
            acto_future_release(f);
            break;
        }
        assert_acto_err(rc, ACTO_ENOMEM);
        acto_msg_free(req); /* still ours */
    }
    acto_future *f;
    assert_acto_ok(acto_future_new(sys, &f));
    /* The first pipe_to rides in the future itself; the next ones need a
     * callback record (and maybe a message) and can run out of memory. */
    assert_acto_ok(acto_future_pipe_to(f, ref, T_DONE));
    for (long n = 1; n <= 2; n++) {
        acto_test_alloc_fail_nth(n);
        int rc = acto_future_pipe_to(f, ref, T_DONE);
        if (acto_test_alloc_failed()) {
            assert_acto_err(rc, ACTO_ENOMEM);
        } else {
            assert_acto_ok(rc);
        }
    }
    acto_test_alloc_fail_nth(1);
    assert_acto_err(acto_future_add_done_cb(f, record_done, NULL), ACTO_ENOMEM);
    acto_test_alloc_fail_nth(0);
    assert_acto_ok(acto_future_cancel(f, NULL));
    acto_future_release(f);
    acto_test_settle(env);
    acto_test_close_system(env, sys);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(test_future_result_is_pending_until_set_then_done_once),
        acto_unit_test(test_future_take_result_moves_the_value_out),
        acto_unit_test(test_future_error_is_reported_when_never_retrieved),
        acto_unit_test(test_future_cancel_keeps_its_message),
        acto_unit_test(
            test_future_callbacks_run_in_order_once_and_never_inside_the_call),
        acto_unit_test(test_future_removed_callbacks_do_not_run),
        acto_unit_test(
            test_future_completing_inside_a_callback_does_not_reenter),
        acto_unit_test(
            test_future_with_callbacks_outlives_its_callers_reference),
        acto_unit_test(
            test_future_pending_with_callbacks_is_cancelled_at_close),
        acto_unit_test(
            test_future_notify_delivers_a_message_to_the_waiting_actor),
        acto_unit_test(test_future_pipe_to_a_dead_actor_is_a_dead_letter),
        acto_unit_test(test_future_ask_completes_with_the_reply_message),
        acto_unit_test(
            test_future_ask_times_out_exactly_and_counts_the_late_reply),
        acto_unit_test(
            test_future_ask_to_a_dead_actor_fails_at_once_with_enoactor),
        acto_unit_test(test_future_nested_ask_inherits_the_callers_deadline),
        acto_unit_test(test_future_pending_asks_are_cancelled_at_close),
        acto_unit_test(test_future_notified_ask_nobody_holds_is_freed_at_close),
        acto_unit_test(test_future_then_chains_steps_inside_the_actor),
        acto_unit_test(
            test_future_cancelling_a_chain_cancels_the_step_in_flight),
        acto_unit_test(
            test_future_with_all_callbacks_removed_is_freed_normally),
        acto_unit_test(test_future_calls_outside_a_handler_are_einval),
        acto_unit_test(
            test_future_ask_and_notify_fail_cleanly_at_every_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
