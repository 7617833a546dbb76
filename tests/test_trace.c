/* Tracing: every event kind where it belongs, with its causal parent and
 * flow; exact loss counting under a full ring; the flight recorder; flow
 * sampling that keeps whole flows; label patterns; a failing sink. */
#include "acto_test.h"

#include <acto/supervisor.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T_GO = 1, T_NEXT, T_REQ, T_REPLY, T_TICK, T_DIE, T_DONE };

/* ---- a sink that keeps everything in memory --------------------------- */

typedef struct memsink {
    acto_trace_event *ev;
    size_t n, cap;
    int writes, closes, names;
    int fail_after; /* fail the write after this many (0: never) */
} memsink;

static int
mem_write(const acto_trace_event *ev, size_t n, void *user)
{
    memsink *s = user;
    if (s->fail_after > 0 && ++s->writes > s->fail_after) {
        return ACTO_EFAILED;
    }
    if (s->n + n > s->cap) {
        s->cap = (s->n + n) * 2;
        s->ev = realloc(s->ev, s->cap * sizeof(*s->ev));
        assert_non_null(s->ev);
    }
    memcpy(s->ev + s->n, ev, n * sizeof(*ev));
    s->n += n;
    return 0;
}

static void
mem_close(void *user)
{
    ((memsink *)user)->closes++;
}

static void
mem_name(acto_ref actor, const char *name, void *user)
{
    (void)actor;
    (void)name;
    ((memsink *)user)->names++;
}

static acto_trace_sink
sink_of(memsink *s)
{
    return (acto_trace_sink){mem_write, mem_close, mem_name, s};
}

static const acto_trace_event *
find(const memsink *s, uint16_t kind, uint64_t msg)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->ev[i].kind == kind && (msg == 0 || s->ev[i].msg == msg)) {
            return &s->ev[i];
        }
    }
    return NULL;
}

static size_t
count(const memsink *s, uint16_t kind)
{
    size_t c = 0;
    for (size_t i = 0; i < s->n; i++) {
        c += s->ev[i].kind == kind;
    }
    return c;
}

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
    /* The ask's future resolved while b handled the request, and the
     * continuation to a stays in the flow. */
    const acto_trace_event *fut = find(&s, ACTO_TRACE_FUTURE, 0);
    assert_non_null(fut);
    assert_int_equal(fut->flow, flow);
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
        acto_unit_test(trace_records_a_failure_and_the_restart_it_caused),
        acto_unit_test(trace_counts_exactly_what_a_full_ring_loses),
        acto_unit_test(trace_records_what_a_start_hook_sends),
        acto_unit_test(trace_sampling_keeps_whole_flows),
        acto_unit_test(trace_sampling_keeps_messages_passed_on_in_their_flow),
        acto_unit_test(trace_follows_label_patterns),
        acto_unit_test(trace_stops_when_its_sink_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
