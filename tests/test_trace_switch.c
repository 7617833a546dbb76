/* Tracing's runtime switch: started, stopped and started again (with
 * other sampling) from inside handlers and hooks while flows run. What a
 * handler's sends look at (the hot trace) must follow: never the freed
 * trace of a stop (ASan would see it), and flows kept whole again once
 * tracing is back. */
#include "trace_world.h"

#include <stdlib.h>
#include <string.h>

enum { T_BALL = 1, T_SWITCH };

enum { ROUNDS = 400 };

typedef struct court {
    acto_ref ping, pong;
    memsink *sink;
    int hits;
    int stops, starts;
} court;

static void
start_tracing(acto_system *sys, court *c, double sample)
{
    acto_trace_sink sk = {.write = mem_write, .user = c->sink};
    acto_trace_opts o = {.sample = sample, .seed = 5};
    assert_acto_ok(acto_trace_start(sys, &sk, &o));
    c->starts++;
}

/* ping switches tracing at fixed hits: off at 100, on with every flow
 * kept at 200, off at 300 (always from inside a handler of the flow). */
static void
switch_at(acto_system *sys, court *c)
{
    switch (c->hits) {
    case 100:
    case 300:
        assert_acto_ok(acto_trace_stop(sys));
        c->stops++;
        break;
    case 200:
        start_tracing(sys, c, 0);
        break;
    default:
        break;
    }
}

static int
ball_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    court *c = state;
    (void)m;
    bool ping = acto_ref_eq(acto_self(ctx), c->ping);
    if (ping) {
        switch_at(acto_ctx_system(ctx), c);
        if (++c->hits == ROUNDS) {
            return 0;
        }
    }
    return acto_tell(ctx, ping ? c->pong : c->ping, T_BALL, NULL, 0);
}

static const acto_behaviour ball_b = {.receive = ball_receive};

/* Started with half the flows kept: the one flow of the rally is kept or
 * not; stopped at 100 hits, started again at 200 with every flow kept
 * (the rally, begun before, starts flows again), stopped at 300. */
static void
trace_switches_from_handlers_while_a_flow_runs(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    memsink s = {0};
    court c = {.sink = &s};
    start_tracing(sys, &c, 0.5);
    assert_acto_ok(acto_spawn(sys, &ball_b, &c, NULL, &c.ping));
    assert_acto_ok(acto_spawn(sys, &ball_b, &c, NULL, &c.pong));
    assert_acto_ok(acto_test_send_int(sys, c.ping, T_BALL, 0));
    acto_test_settle(env);
    assert_int_equal(c.hits, ROUNDS);
    assert_int_equal(c.stops, 2);
    assert_int_equal(c.starts, 2);
    assert_false(acto_trace_enabled(sys));
    /* Between 200 and 300 every send was recorded, and handled on the
     * record: about 2 x 100 of each. */
    size_t sends = count(&s, ACTO_TRACE_SEND);
    size_t handles = count(&s, ACTO_TRACE_HANDLE);
    assert_true(sends >= 198);
    assert_true(handles >= 197);
    acto_test_close_system(env, sys);
    free(s.ev);
}

/* An actor whose start hook stops tracing, and another whose start hook
 * starts it: a hook's sends take the traced path while it runs, and what
 * the hook leaves behind must not point at a stopped trace. */
typedef struct hooks {
    memsink *sink;
    acto_ref peer;
    bool start;
} hooks;

static int
hook_start(acto_ctx *ctx, void *state)
{
    hooks *h = state;
    acto_system *sys = acto_ctx_system(ctx);
    if (h->start) {
        acto_trace_sink sk = {.write = mem_write, .user = h->sink};
        acto_trace_opts o = {.sample = 0.999, .seed = 1}; /* sampling */
        assert_acto_ok(acto_trace_start(sys, &sk, &o));
    } else {
        assert_acto_ok(acto_trace_stop(sys));
    }
    return acto_tell(ctx, h->peer, T_SWITCH, NULL, 0);
}

static int
quiet_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)ctx;
    (void)m;
    (*(int *)state)++;
    return 0;
}

static const acto_behaviour hook_b = {.receive = quiet_receive,
                                      .start = hook_start};
static const acto_behaviour quiet_b = {.receive = quiet_receive};

static void
trace_switches_from_start_hooks(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    memsink s = {0};
    int got = 0;
    acto_ref peer, a, b;
    assert_acto_ok(acto_spawn(sys, &quiet_b, &got, NULL, &peer));
    acto_trace_sink sk = {.write = mem_write, .user = &s};
    assert_acto_ok(acto_trace_start(sys, &sk, NULL));
    hooks stop = {.sink = &s, .peer = peer, .start = false};
    hooks start = {.sink = &s, .peer = peer, .start = true};
    assert_acto_ok(acto_spawn(sys, &hook_b, &stop, NULL, &a));
    assert_false(acto_trace_enabled(sys));
    assert_acto_ok(acto_spawn(sys, &hook_b, &start, NULL, &b));
    assert_true(acto_trace_enabled(sys));
    acto_test_settle(env);
    assert_int_equal(got, 2);
    /* The second hook's send started a flow (kept: 99.9% are), its
     * handling on the record with it. */
    assert_acto_ok(acto_trace_flush(sys));
    size_t sends = 0, handles = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.ev[i].type == T_SWITCH) {
            sends += s.ev[i].kind == ACTO_TRACE_SEND;
            handles += s.ev[i].kind == ACTO_TRACE_HANDLE;
        }
    }
    assert_int_equal(sends, 1);
    assert_int_equal(handles, 1);
    assert_acto_ok(acto_trace_stop(sys));
    acto_test_close_system(env, sys);
    free(s.ev);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(trace_switches_from_handlers_while_a_flow_runs),
        acto_unit_test(trace_switches_from_start_hooks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
