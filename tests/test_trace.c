/* Tracing: every event kind where it belongs, with its causal parent and
 * flow; exact loss counting under a full ring; the flight recorder; flow
 * sampling that keeps whole flows; label patterns; a failing sink. */
#include "trace_world.h"

#include <acto/supervisor.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T_GO = 1, T_NEXT, T_REQ, T_REPLY, T_TICK, T_DIE, T_DONE };

/* ---- a small flow: outside → a → b, a timer, an ask ------------------- */

typedef struct flow_state {
    acto_ref b;
    acto_future *ask;
} flow_state;

static int
b_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)state;
    switch (acto_msg_type(m)) {
    case T_REQ:
        return acto_reply(ctx, T_REPLY, "ok", 2);
    default:
        return 0;
    }
}

static int
a_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    flow_state *fs = state;
    acto_system *sys = acto_ctx_system(ctx);
    if (acto_msg_type(m) == T_GO) {
        /* a send, a timer and an ask, all caused by this message */
        assert_acto_ok(acto_tell(ctx, fs->b, T_NEXT, NULL, 0));
        acto_msg *t;
        assert_acto_ok(acto_msg_new_bytes(sys, T_TICK, NULL, 0, &t));
        assert_acto_ok(acto_send_after(sys, 5, fs->b, t, NULL));
        acto_msg *req;
        assert_acto_ok(acto_msg_new_bytes(sys, T_REQ, NULL, 0, &req));
        assert_acto_ok(acto_ask(sys, fs->b, req, 100, &fs->ask));
        assert_acto_ok(acto_future_notify(ctx, fs->ask, T_DONE));
    }
    return 0;
}

static const acto_behaviour a_b = {.receive = a_receive};
static const acto_behaviour b_b = {.receive = b_receive};

static void
trace_links_sends_timers_and_asks_to_their_cause(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys =
        acto_test_system(env, &(acto_system_opts){.virtual_time = true});
    memsink s = {0};
    acto_trace_sink sk = sink_of(&s);
    assert_acto_ok(acto_trace_start(sys, &sk, NULL));
    assert_acto_err(acto_trace_start(sys, &sk, NULL), ACTO_EALREADY);
    flow_state fs = {0};
    acto_ref a;
    acto_spawn_opts named = {.label = "b"};
    assert_acto_ok(acto_spawn(sys, &b_b, NULL, &named, &fs.b));
    assert_acto_ok(acto_spawn(sys, &a_b, &fs, NULL, &a));
    assert_acto_ok(acto_test_send_int(sys, a, T_GO, 0));
    acto_test_settle(env);
    assert_acto_ok(acto_system_advance(sys, 5));
    acto_test_settle(env);
    assert_acto_ok(acto_trace_flush(sys));
    assert_int_equal(count(&s, ACTO_TRACE_SPAWN), 2);
    assert_int_equal(s.names, 1); /* b has a label */
    /* The root: the outside send to a starts the flow. */
    const acto_trace_event *go = NULL;
    for (size_t i = 0; i < s.n; i++) {
        if (s.ev[i].kind == ACTO_TRACE_SEND && s.ev[i].type == T_GO) {
            go = &s.ev[i];
        }
    }
    assert_non_null(go);
    uint64_t flow = go->flow;
    assert_int_equal(flow, go->msg);
    assert_int_equal(go->peer, a.id);
    const acto_trace_event *h = find(&s, ACTO_TRACE_HANDLE, go->msg);
    assert_non_null(h);
    assert_int_equal(h->actor, a.id);
    assert_non_null(find(&s, ACTO_TRACE_HANDLED, go->msg));
    /* Everything a did while handling it is caused by it, in its flow. */
    int caused = 0;
    for (size_t i = 0; i < s.n; i++) {
        const acto_trace_event *e = &s.ev[i];
        if (e->kind == ACTO_TRACE_SEND && e->cause == go->msg) {
            assert_int_equal(e->flow, flow);
            caused++;
        }
    }
    assert_int_equal(caused, 2); /* the tell and the ask's request */
    const acto_trace_event *set = NULL;
    for (size_t i = 0; i < s.n; i++) {
        if (s.ev[i].kind == ACTO_TRACE_TIMER_SET) {
            set = &s.ev[i];
        }
    }
    assert_non_null(set);
    assert_int_equal(set->cause, go->msg);
    assert_int_equal(set->flow, flow);
    assert_int_equal(set->arg, 5);
    const acto_trace_event *fire = find(&s, ACTO_TRACE_TIMER_FIRE, set->msg);
    assert_non_null(fire);
    assert_true(fire->ts - set->ts == 5000000); /* 5 virtual ms */
    /* The tick's send follows the fire, in the same flow. */
    bool tick_sent = false;
    for (size_t i = 0; i < s.n; i++) {
        if (s.ev[i].kind == ACTO_TRACE_SEND && s.ev[i].cause == set->msg) {
            assert_int_equal(s.ev[i].flow, flow);
            tick_sent = true;
        }
    }
    assert_true(tick_sent);
    /* b's reply is a send to the ask (no actor), caused by the request;
     * it resolved the ask's future, and the continuation to a follows. */
    const acto_trace_event *req = NULL, *reply = NULL;
    for (size_t i = 0; i < s.n; i++) {
        if (s.ev[i].kind == ACTO_TRACE_SEND && s.ev[i].type == T_REQ) {
            req = &s.ev[i];
        } else if (s.ev[i].kind == ACTO_TRACE_SEND && s.ev[i].type == T_REPLY) {
            reply = &s.ev[i];
        }
    }
    assert_non_null(req);
    assert_non_null(reply);
    assert_int_equal(reply->actor, fs.b.id);
    assert_int_equal(acto_ref_slot((acto_ref){reply->peer}), UINT32_MAX);
    assert_int_equal(reply->cause, req->msg);
    assert_int_equal(reply->flow, flow);
    const acto_trace_event *fut = find(&s, ACTO_TRACE_FUTURE, 0);
    assert_non_null(fut);
    assert_true(fut > reply);
    assert_int_equal(fut->flow, flow);
    assert_int_equal(fut->cause, reply->msg);
    assert_int_equal(fut->arg, ACTO_FUTURE_DONE);
    assert_int_equal(fut->actor, fs.b.id);
    bool done_sent = false;
    for (size_t i = 0; i < s.n; i++) {
        if (s.ev[i].kind == ACTO_TRACE_SEND && s.ev[i].peer == a.id &&
            s.ev[i].cause == fut->cause && s.ev[i].type != T_GO) {
            assert_int_equal(s.ev[i].flow, flow);
            done_sent = true;
        }
    }
    assert_true(done_sent);
    acto_future_release(fs.ask);
    acto_test_close_system(env, sys);
    assert_int_equal(s.closes, 1); /* closing the system stops tracing */
    assert_true(count(&s, ACTO_TRACE_STOP) >= 2);
    free(s.ev);
}

/* ---- continuations, spawns and stops from a handler -------------------- */

typedef struct then_state {
    acto_ref b;
    acto_future *ask, *chain;
    acto_ref child;
} then_state;

static acto_future *
then_step(acto_ctx *ctx, void *state, acto_future *prev, void *user)
{
    (void)prev;
    (void)user;
    then_state *ts = state;
    assert_acto_ok(acto_tell(ctx, ts->b, T_NEXT, NULL, 0)); /* from the step */
    return NULL;
}

static int
idle_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)ctx;
    (void)state;
    (void)m;
    return 0;
}

static const acto_behaviour idle_b = {.receive = idle_receive};

static int
then_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    then_state *ts = state;
    acto_system *sys = acto_ctx_system(ctx);
    if (acto_msg_type(m) == T_GO) {
        acto_msg *req;
        assert_acto_ok(acto_msg_new_bytes(sys, T_REQ, NULL, 0, &req));
        assert_acto_ok(acto_ask(sys, ts->b, req, 100, &ts->ask));
        assert_acto_ok(
            acto_future_then(ctx, ts->ask, then_step, NULL, &ts->chain));
        assert_acto_ok(acto_spawn(sys, &idle_b, NULL, NULL, &ts->child));
    } else if (acto_msg_type(m) == T_DIE) {
        assert_acto_ok(acto_stop(sys, ts->child));
    }
    return 0;
}

static const acto_behaviour then_b = {.receive = then_receive};

static const acto_trace_event *
find_send(const memsink *s, uint32_t type, uint64_t cause)
{
    for (size_t i = 0; i < s->n; i++) {
        const acto_trace_event *e = &s->ev[i];
        if (e->kind == ACTO_TRACE_SEND && e->type == type &&
            (cause == 0 || e->cause == cause)) {
            return e;
        }
    }
    return NULL;
}

static void
trace_links_continuations_spawns_and_stops_to_their_cause(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys =
        acto_test_system(env, &(acto_system_opts){.virtual_time = true});
    memsink s = {0};
    acto_trace_sink sk = sink_of(&s);
    assert_acto_ok(acto_trace_start(sys, &sk, NULL));
    then_state ts = {0};
    acto_ref a;
    assert_acto_ok(acto_spawn(sys, &b_b, NULL, NULL, &ts.b));
    assert_acto_ok(acto_spawn(sys, &then_b, &ts, NULL, &a));
    assert_acto_ok(acto_test_send_int(sys, a, T_GO, 0));
    acto_test_settle(env);
    assert_acto_ok(acto_test_send_int(sys, a, T_DIE, 0));
    acto_test_settle(env);
    assert_acto_ok(acto_trace_flush(sys));
    const acto_trace_event *go = find_send(&s, T_GO, 0);
    assert_non_null(go);
    const acto_trace_event *reply = find_send(&s, T_REPLY, 0);
    assert_non_null(reply);
    assert_int_equal(reply->flow, go->flow);
    /* The step is sent to a when the reply resolves the ask, and handled
     * as a message of its own: what it sends is caused by it. */
    const acto_trace_event *step =
        find_send(&s, ACTO_MSG_SYSTEM_BASE + 0x100u, reply->msg);
    assert_non_null(step);
    assert_int_equal(step->flow, go->flow);
    assert_int_equal(step->peer, a.id);
    const acto_trace_event *h = find(&s, ACTO_TRACE_HANDLE, step->msg);
    assert_non_null(h);
    assert_int_equal(h->actor, a.id);
    assert_int_equal(h->flow, go->flow);
    const acto_trace_event *done = find(&s, ACTO_TRACE_HANDLED, step->msg);
    assert_non_null(done);
    assert_int_equal(done->arg, 0);
    const acto_trace_event *next = find_send(&s, T_NEXT, step->msg);
    assert_non_null(next);
    assert_int_equal(next->flow, go->flow);
    assert_true(next > h && next < done);
    /* The child spawned while a handled Go: in Go's flow, caused by it. */
    const acto_trace_event *spawn = NULL, *stop = NULL;
    for (size_t i = 0; i < s.n; i++) {
        if (s.ev[i].actor == ts.child.id) {
            spawn = s.ev[i].kind == ACTO_TRACE_SPAWN ? &s.ev[i] : spawn;
            stop = s.ev[i].kind == ACTO_TRACE_STOP ? &s.ev[i] : stop;
        }
    }
    assert_non_null(spawn);
    assert_int_equal(spawn->flow, go->flow);
    assert_int_equal(spawn->cause, go->msg);
    /* ... and stopped by a's handling of Die, a flow of its own. */
    const acto_trace_event *die = find_send(&s, T_DIE, 0);
    assert_non_null(die);
    assert_non_null(stop);
    assert_int_equal(stop->flow, die->flow);
    assert_int_equal(stop->cause, die->msg);
    assert_int_equal(stop->arg, ACTO_EXIT_NORMAL);
    acto_future_release(ts.ask);
    acto_future_release(ts.chain);
    acto_test_close_system(env, sys);
    free(s.ev);
}

static void
trace_records_a_late_reply_as_sent_and_dropped(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys =
        acto_test_system(env, &(acto_system_opts){.virtual_time = true});
    memsink s = {0};
    acto_trace_sink sk = sink_of(&s);
    assert_acto_ok(acto_trace_start(sys, &sk, NULL));
    acto_ref b;
    assert_acto_ok(acto_spawn(sys, &b_b, NULL, NULL, &b));
    acto_msg *req;
    assert_acto_ok(acto_msg_new_bytes(sys, T_REQ, NULL, 0, &req));
    acto_future *f;
    assert_acto_ok(acto_ask(sys, b, req, 5, &f));
    assert_acto_ok(acto_system_advance(sys, 10)); /* times out first */
    acto_test_settle(env);
    assert_int_equal(acto_future_state_of(f), ACTO_FUTURE_FAILED);
    assert_int_equal(acto_future_exception(f)->code, ACTO_ETIMEDOUT);
    assert_acto_ok(acto_trace_flush(sys));
    const acto_trace_event *sent = find_send(&s, T_REQ, 0);
    const acto_trace_event *reply = find_send(&s, T_REPLY, 0);
    assert_non_null(sent);
    assert_non_null(reply);
    assert_int_equal(reply->cause, sent->msg);
    const acto_trace_event *drop = find(&s, ACTO_TRACE_DROP, reply->msg);
    assert_non_null(drop);
    assert_int_equal(drop->peer, reply->peer); /* the ask, over */
    assert_int_equal(drop->flow, sent->flow);
    const acto_trace_event *fut = find(&s, ACTO_TRACE_FUTURE, 0);
    assert_non_null(fut);
    assert_int_equal(fut->arg, ACTO_FUTURE_FAILED);
    assert_true(fut < reply);
    acto_future_release(f);
    acto_test_close_system(env, sys);
    free(s.ev);
}

/* ---- failures and restarts -------------------------------------------- */

static int
dier_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)ctx;
    (void)state;
    return acto_msg_type(m) == T_DIE ? ACTO_EINVAL : 0;
}

static const acto_behaviour dier_b = {.receive = dier_receive};

static int
start_dier(acto_ctx *sup, const void *arg, size_t len, acto_ref *out)
{
    (void)arg;
    (void)len;
    return acto_spawn(acto_ctx_system(sup), &dier_b, NULL, NULL, out);
}

static void
trace_records_a_failure_and_the_restart_it_caused(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    memsink s = {0};
    acto_trace_sink sk = sink_of(&s);
    assert_acto_ok(acto_trace_start(sys, &sk, NULL));
    acto_child_spec spec = {.id = "dier", .start = start_dier};
    acto_ref sup;
    assert_acto_ok(acto_sup_start(sys, NULL, &spec, 1, &sup));
    acto_child_info info;
    size_t n;
    assert_acto_ok(acto_sup_which_children(sys, sup, &info, 1, &n));
    assert_acto_ok(acto_test_send_int(sys, info.ref, T_DIE, 0));
    acto_test_settle(env);
    assert_acto_ok(acto_trace_flush(sys));
    const acto_trace_event *fail = find(&s, ACTO_TRACE_FAIL, 0);
    assert_non_null(fail);
    assert_int_equal(fail->actor, info.ref.id);
    assert_int_equal((int32_t)fail->arg, ACTO_EINVAL);
    const acto_trace_event *restart = find(&s, ACTO_TRACE_RESTART, 0);
    assert_non_null(restart);
    assert_int_equal(restart->cause, fail->msg); /* linked to the message */
    assert_int_equal(restart->peer, sup.id);
    assert_int_equal(restart->arg, 1);
    /* The stop, the supervisor's notice of it, the new child's spawn and
     * the restart are all in the failing message's flow. */
    uint64_t flow = fail->flow;
    assert_int_not_equal(flow, 0);
    const acto_trace_event *stop = NULL, *notice = NULL, *spawn = NULL;
    for (size_t i = 0; i < s.n; i++) {
        const acto_trace_event *e = &s.ev[i];
        if (e->kind == ACTO_TRACE_STOP && e->actor == info.ref.id) {
            stop = e;
        } else if (e->kind == ACTO_TRACE_SEND && e->peer == sup.id) {
            notice = e;
        } else if (e->kind == ACTO_TRACE_SPAWN && e->actor == restart->actor) {
            spawn = e;
        }
    }
    assert_non_null(stop);
    assert_int_equal(stop->flow, flow);
    assert_int_equal(stop->cause, fail->msg);
    assert_int_equal(stop->arg, ACTO_EXIT_FAILED);
    assert_non_null(notice);
    assert_true(notice > stop);
    assert_int_equal(notice->flow, flow);
    assert_int_equal(notice->cause, fail->msg);
    assert_non_null(spawn);
    assert_int_equal(spawn->flow, flow);
    assert_int_equal(spawn->cause, notice->msg); /* spawned handling it */
    assert_int_equal(restart->flow, flow);
    assert_acto_ok(acto_trace_stop(sys));
    assert_acto_err(acto_trace_stop(sys), ACTO_EALREADY);
    acto_test_close_system(env, sys);
    free(s.ev);
}

/* ---- a full ring ------------------------------------------------------ */

static int
chatter_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)m;
    int *n = state;
    for (int i = 0; i < *n; i++) {
        assert_acto_ok(acto_tell(ctx, ACTO_REF_NONE, T_NEXT, NULL, 0));
    }
    return 0;
}

static const acto_behaviour chatter_b = {.receive = chatter_receive};

static void
trace_counts_exactly_what_a_full_ring_loses(void **state)
{
    acto_test_env *env = *state;
    for (int mode = 0; mode <= ACTO_TRACE_BLOCK; mode++) {
        acto_system *sys = acto_test_system(env, NULL);
        memsink s = {0};
        acto_trace_sink sk = sink_of(&s);
        acto_trace_opts o = {.mode = (acto_trace_mode)mode, .ring_events = 64};
        assert_acto_ok(acto_trace_start(sys, &sk, &o));
        int sends = 1000;
        acto_ref a;
        assert_acto_ok(acto_spawn(sys, &chatter_b, &sends, NULL, &a));
        assert_acto_ok(acto_test_send_int(sys, a, T_GO, 0));
        acto_test_settle(env);
        acto_trace_stats st;
        acto_trace_get_stats(sys, &st);
        if (mode == ACTO_TRACE_FLIGHT) {
            assert_int_equal(s.n, 0); /* only a dump writes */
            assert_acto_ok(acto_trace_dump(sys));
            assert_int_equal(s.n, 64); /* the last 64 */
            assert_int_equal(s.ev[63].kind, ACTO_TRACE_HANDLED);
        } else {
            assert_acto_ok(acto_trace_flush(sys));
        }
        /* Every send to the dead ref is a send and a dead letter. */
        size_t sends_seen = count(&s, ACTO_TRACE_SEND);
        if (mode == ACTO_TRACE_DROP_NEW) {
            uint64_t lost = 0;
            for (size_t i = 0; i < s.n; i++) {
                if (s.ev[i].kind == ACTO_TRACE_LOST) {
                    lost += s.ev[i].arg;
                }
            }
            assert_true(lost > 0);
            assert_int_equal(lost, st.lost);
            assert_int_equal(s.n - count(&s, ACTO_TRACE_LOST), st.recorded);
        } else if (mode == ACTO_TRACE_BLOCK) {
            assert_int_equal(st.lost, 0);
            assert_int_equal(sends_seen, 1001);
            assert_int_equal(count(&s, ACTO_TRACE_DEAD), 1000);
        }
        acto_test_close_system(env, sys);
        free(s.ev);
    }
}

/* ---- sampling and patterns -------------------------------------------- */

static void
trace_sampling_keeps_whole_flows(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    memsink s = {0};
    acto_trace_sink sk = sink_of(&s);
    acto_trace_opts o = {.sample = 0.5, .seed = 42};
    assert_acto_err(
        acto_trace_start(sys, &sk, &(acto_trace_opts){.sample = 1.5}),
        ACTO_EINVAL);
    assert_acto_ok(acto_trace_start(sys, &sk, &o));
    flow_state fs = {0};
    acto_ref a;
    assert_acto_ok(acto_spawn(sys, &b_b, NULL, NULL, &fs.b));
    assert_acto_ok(acto_spawn(sys, &a_b, &fs, NULL, &a));
    for (int i = 0; i < 200; i++) {
        assert_acto_ok(acto_test_send_int(sys, fs.b, T_NEXT, i));
    }
    acto_test_settle(env);
    assert_acto_ok(acto_trace_flush(sys));
    /* Each flow is one send and its handling: kept whole or not at all. */
    size_t sends = count(&s, ACTO_TRACE_SEND);
    size_t handles = count(&s, ACTO_TRACE_HANDLE);
    assert_int_equal(sends, handles);
    assert_int_equal(handles, count(&s, ACTO_TRACE_HANDLED));
    assert_true(sends > 50 && sends < 150); /* about half of 200 */
    acto_test_close_system(env, sys);
    free(s.ev);
}

/* An actor that greets itself from its start hook. */
static int
greet_self(acto_ctx *ctx, void *state)
{
    (void)state;
    return acto_tell(ctx, acto_self(ctx), T_GO, NULL, 0);
}

static const acto_behaviour greeter_b = {.receive = b_receive,
                                         .start = greet_self};

static void
trace_records_what_a_start_hook_sends(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    memsink s = {0};
    acto_trace_sink sk = sink_of(&s);
    assert_acto_ok(acto_trace_start(sys, &sk, NULL));
    acto_ref g;
    assert_acto_ok(acto_spawn(sys, &greeter_b, NULL,
                              &(acto_spawn_opts){.label = "greeter"}, &g));
    acto_test_settle(env);
    assert_acto_ok(acto_trace_flush(sys));
    /* The greeting is handled, and so its send is in the trace too. */
    const acto_trace_event *h = find(&s, ACTO_TRACE_HANDLE, 0);
    assert_non_null(h);
    const acto_trace_event *snd = find(&s, ACTO_TRACE_SEND, h->msg);
    assert_non_null(snd);
    assert_int_equal(snd->actor, g.id);
    assert_int_equal(s.names, 1); /* named before it sent */
    acto_test_close_system(env, sys);
    free(s.ev);
}

/* A relay takes each message and passes it on unchanged (no copy). */
typedef struct relay {
    acto_ref to;
    int not_taken;
} relay;

static int
relay_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)m;
    relay *r = state;
    acto_msg *own = acto_take_msg(ctx);
    if (own == NULL) {
        r->not_taken++;
        return 0;
    }
    int rc = acto_send(ctx, r->to, own);
    if (rc != 0) {
        acto_msg_free(own);
    }
    return rc;
}

static const acto_behaviour relay_b = {.receive = relay_receive};

/* has_send tells whether a send to `to` in flow is recorded. */
static bool
has_send(const memsink *s, acto_ref to, uint64_t flow)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->ev[i].kind == ACTO_TRACE_SEND && s->ev[i].peer == to.id &&
            s->ev[i].flow == flow) {
            return true;
        }
    }
    return false;
}

static void
trace_sampling_keeps_messages_passed_on_in_their_flow(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    memsink s = {0};
    acto_trace_sink sk = sink_of(&s);
    assert_acto_ok(
        acto_trace_start(sys, &sk, &(acto_trace_opts){.sample = 0.5}));
    relay r = {0};
    acto_ref via;
    assert_acto_ok(acto_spawn(sys, &b_b, NULL, NULL, &r.to));
    assert_acto_ok(acto_spawn(sys, &relay_b, &r, NULL, &via));
    for (int i = 0; i < 200; i++) {
        assert_acto_ok(acto_test_send_int(sys, via, T_NEXT, i));
    }
    acto_test_settle(env);
    assert_acto_ok(acto_trace_flush(sys));
    /* Sampled out or not, every message could be taken, and each flow
     * kept has both hops: the relay's send continues the outside one. */
    assert_int_equal(r.not_taken, 0);
    size_t hops = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.ev[i].kind == ACTO_TRACE_SEND && s.ev[i].peer == r.to.id) {
            assert_true(has_send(&s, via, s.ev[i].flow));
            hops++;
        }
    }
    assert_int_equal(count(&s, ACTO_TRACE_SEND), 2 * hops);
    assert_true(hops > 50 && hops < 150); /* about half of 200 */
    acto_test_close_system(env, sys);
    free(s.ev);
}

static void
trace_follows_label_patterns(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    memsink s = {0};
    acto_trace_sink sk = sink_of(&s);
    acto_ref p1, p2, q;
    assert_acto_ok(acto_spawn(sys, &b_b, NULL,
                              &(acto_spawn_opts){.label = "parser-1"}, &p1));
    acto_trace_opts o = {.only = "parser*", .except = "*-2"};
    assert_acto_ok(acto_trace_start(sys, &sk, &o)); /* p1 already alive */
    assert_acto_ok(acto_spawn(sys, &b_b, NULL,
                              &(acto_spawn_opts){.label = "parser-2"}, &p2));
    assert_acto_ok(acto_spawn(sys, &b_b, NULL, NULL, &q));
    acto_ref all[3] = {p1, p2, q};
    for (int i = 0; i < 3; i++) {
        assert_acto_ok(acto_test_send_int(sys, all[i], T_NEXT, i));
    }
    acto_test_settle(env);
    assert_acto_ok(acto_trace_flush(sys));
    for (size_t i = 0; i < s.n; i++) {
        if (s.ev[i].kind == ACTO_TRACE_HANDLE) {
            assert_int_equal(s.ev[i].actor, p1.id); /* only parser-1 */
        }
    }
    assert_int_equal(count(&s, ACTO_TRACE_HANDLE), 1);
    acto_test_close_system(env, sys);
    free(s.ev);
}

/* A forwarder takes each message and sends it on: under sampling too
 * (acto_take_msg must not refuse a sampled-out message), and the message
 * stays in its flow, caused by its own handling. */
static int
forward_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)m;
    acto_msg *own = acto_take_msg(ctx);
    assert_non_null(own);
    return acto_send(ctx, *(acto_ref *)state, own);
}

static const acto_behaviour forward_b = {.receive = forward_receive};

static void
trace_keeps_a_taken_message_in_its_flow(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    memsink s = {0};
    acto_trace_sink sk = sink_of(&s);
    assert_acto_ok(
        acto_trace_start(sys, &sk, &(acto_trace_opts){.sample = 0.5}));
    acto_ref b, fwd;
    assert_acto_ok(acto_spawn(sys, &b_b, NULL, NULL, &b));
    assert_acto_ok(acto_spawn(sys, &forward_b, &b, NULL, &fwd));
    for (int i = 0; i < 100; i++) {
        assert_acto_ok(acto_test_send_int(sys, fwd, T_NEXT, i));
    }
    acto_test_settle(env);
    assert_acto_ok(acto_trace_flush(sys));
    size_t kept = 0;
    for (size_t i = 0; i < s.n; i++) {
        const acto_trace_event *e = &s.ev[i];
        if (e->kind != ACTO_TRACE_SEND || e->peer != b.id) {
            continue;
        }
        const acto_trace_event *h = find(&s, ACTO_TRACE_HANDLE, e->cause);
        assert_non_null(h); /* caused by the forwarder's handling */
        assert_int_equal(h->actor, fwd.id);
        assert_int_equal(e->flow, h->flow);
        assert_int_equal(e->flow, h->msg); /* the outside send's flow */
        kept++;
    }
    assert_true(kept > 20 && kept < 80);
    assert_int_equal(count(&s, ACTO_TRACE_HANDLE), 2 * kept);
    acto_test_close_system(env, sys);
    free(s.ev);
}

/* ---- message type names ------------------------------------------------ */

static void
trace_gets_the_names_of_message_types(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    assert_acto_ok(acto_msg_type_name(sys, T_GO, "Go"));
    assert_string_equal(acto_msg_type_name_of(sys, T_GO), "Go");
    assert_null(acto_msg_type_name_of(sys, T_NEXT));
    assert_null(acto_msg_type_name_of(NULL, T_GO));
    /* Bad input. */
    char long_name[ACTO_MSG_TYPE_NAME_MAX + 2];
    memset(long_name, 'x', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    assert_acto_err(acto_msg_type_name(NULL, T_NEXT, "Next"), ACTO_EINVAL);
    assert_acto_err(acto_msg_type_name(sys, T_NEXT, NULL), ACTO_EINVAL);
    assert_acto_err(acto_msg_type_name(sys, T_NEXT, ""), ACTO_EINVAL);
    assert_acto_err(acto_msg_type_name(sys, T_NEXT, long_name), ACTO_EINVAL);
    long_name[ACTO_MSG_TYPE_NAME_MAX] = '\0'; /* the longest allowed */
    assert_acto_ok(acto_msg_type_name(sys, 1000, long_name));
    assert_acto_err(acto_msg_type_name(sys, T_NEXT, "Ne\nxt"), ACTO_EINVAL);
    assert_acto_err(acto_msg_type_name(sys, ACTO_MSG_DOWN, "Down"),
                    ACTO_EINVAL);
    /* Duplicates: a type named twice, a name given to two types. */
    assert_acto_err(acto_msg_type_name(sys, T_GO, "Go"), ACTO_EEXIST);
    assert_acto_err(acto_msg_type_name(sys, T_GO, "Start"), ACTO_EEXIST);
    assert_acto_err(acto_msg_type_name(sys, T_NEXT, "Go"), ACTO_EEXIST);
    assert_string_equal(acto_msg_type_name_of(sys, T_GO), "Go");
    /* Out of memory loses nothing. */
    acto_test_alloc_fail_nth(1);
    assert_acto_err(acto_msg_type_name(sys, T_NEXT, "Next"), ACTO_ENOMEM);
    assert_true(acto_test_alloc_failed());
    assert_null(acto_msg_type_name_of(sys, T_NEXT));
    /* Tracing starts: the sink gets the names given so far, and then each
     * new one as it is given. */
    memsink s = {0};
    acto_trace_sink sk = sink_of(&s);
    assert_acto_ok(acto_trace_start(sys, &sk, NULL));
    assert_int_equal(s.types, 2);
    assert_acto_ok(acto_msg_type_name(sys, T_NEXT, "Next"));
    assert_int_equal(s.types, 3);
    assert_int_equal(s.last_type, T_NEXT);
    assert_string_equal(s.last_type_name, "Next");
    assert_acto_ok(acto_trace_stop(sys));
    /* The table is bounded. */
    char name[32];
    uint32_t t = 2000;
    int rc = 0;
    while (rc == 0 && t < 2000 + 2 * ACTO_MSG_TYPE_NAMES_MAX) {
        snprintf(name, sizeof(name), "type %u", t);
        rc = acto_msg_type_name(sys, t++, name);
    }
    assert_acto_err(rc, ACTO_ENOMEM);
    assert_int_equal(3 + (t - 1 - 2000), ACTO_MSG_TYPE_NAMES_MAX);
    assert_non_null(acto_msg_type_name_of(sys, 2000));
    assert_null(acto_msg_type_name_of(sys, 2000 + ACTO_MSG_TYPE_NAMES_MAX));
    acto_test_close_system(env, sys);
    free(s.ev);
}

static int failing_reports;

static void
count_report(acto_system *sys, const acto_error *err, void *user)
{
    (void)sys;
    (void)user;
    failing_reports += strcmp(err->type, "TraceSinkFailed") == 0;
}

static void
trace_stops_when_its_sink_fails(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    acto_system_set_exception_handler(sys, count_report, NULL);
    memsink s = {.fail_after = 1};
    acto_trace_sink sk = sink_of(&s);
    assert_acto_ok(acto_trace_start(sys, &sk, NULL));
    acto_ref b;
    assert_acto_ok(acto_spawn(sys, &b_b, NULL, NULL, &b));
    failing_reports = 0;
    for (int round = 0; round < 3; round++) {
        assert_acto_ok(acto_test_send_int(sys, b, T_NEXT, round));
        acto_test_settle(env);
    }
    assert_false(acto_trace_enabled(sys));
    assert_int_equal(failing_reports, 1);
    assert_int_equal(s.closes, 1);
    assert_acto_err(acto_trace_start(sys, &(acto_trace_sink){0}, NULL),
                    ACTO_EINVAL);
    acto_test_close_system(env, sys);
    free(s.ev);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(trace_links_sends_timers_and_asks_to_their_cause),
        acto_unit_test(
            trace_links_continuations_spawns_and_stops_to_their_cause),
        acto_unit_test(trace_records_a_late_reply_as_sent_and_dropped),
        acto_unit_test(trace_records_a_failure_and_the_restart_it_caused),
        acto_unit_test(trace_counts_exactly_what_a_full_ring_loses),
        acto_unit_test(trace_records_what_a_start_hook_sends),
        acto_unit_test(trace_sampling_keeps_whole_flows),
        acto_unit_test(trace_sampling_keeps_messages_passed_on_in_their_flow),
        acto_unit_test(trace_follows_label_patterns),
        acto_unit_test(trace_stops_when_its_sink_fails),
        acto_unit_test(trace_gets_the_names_of_message_types),
        acto_unit_test(trace_keeps_a_taken_message_in_its_flow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
