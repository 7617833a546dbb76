/* Tracing causality where no message is being handled: a future chain
 * whose steps complete from future callbacks, an ask that times out, and
 * the DOWN notice of a stopping actor. Each stays in its flow, with the
 * right cause and sender. */
#include "trace_world.h"

#include <stdlib.h>
#include <string.h>

enum { T_GO = 1, T_NEXT, T_REQ, T_REPLY, T_LAST };

static acto_system *
traced_system(acto_test_env *env, memsink *s)
{
    acto_system *sys =
        acto_test_system(env, &(acto_system_opts){.virtual_time = true});
    acto_trace_sink sk = {.write = mem_write, .user = s};
    assert_acto_ok(acto_trace_start(sys, &sk, NULL));
    return sys;
}

/* find_send finds the nth (from 0) send of a type. */
static const acto_trace_event *
find_send(const memsink *s, uint32_t type, int nth)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->ev[i].kind == ACTO_TRACE_SEND && s->ev[i].type == type &&
            nth-- == 0) {
            return &s->ev[i];
        }
    }
    return NULL;
}

static int
replier_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)state;
    return acto_msg_type(m) == T_REQ ? acto_reply(ctx, T_REPLY, "ok", 2) : 0;
}

static const acto_behaviour replier_b = {.receive = replier_receive};

/* ---- a chain of two steps, the first one asking again ----------------- */

typedef struct chain_state {
    acto_ref b;
    acto_future *ask, *chain1, *chain2;
} chain_state;

static acto_future *
ask_again(acto_ctx *ctx, void *state, acto_future *prev, void *user)
{
    (void)prev;
    (void)user;
    chain_state *cs = state;
    acto_system *sys = acto_ctx_system(ctx);
    acto_msg *req;
    assert_acto_ok(acto_msg_new_bytes(sys, T_REQ, NULL, 0, &req));
    acto_future *f;
    assert_acto_ok(acto_ask(sys, cs->b, req, 100, &f));
    return f; /* the chain completes when this does: from a callback */
}

static acto_future *
tell_last(acto_ctx *ctx, void *state, acto_future *prev, void *user)
{
    (void)prev;
    (void)user;
    chain_state *cs = state;
    assert_acto_ok(acto_tell(ctx, cs->b, T_LAST, NULL, 0));
    return NULL;
}

static int
chain_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    chain_state *cs = state;
    acto_system *sys = acto_ctx_system(ctx);
    if (acto_msg_type(m) == T_GO) {
        acto_msg *req;
        assert_acto_ok(acto_msg_new_bytes(sys, T_REQ, NULL, 0, &req));
        assert_acto_ok(acto_ask(sys, cs->b, req, 100, &cs->ask));
        assert_acto_ok(
            acto_future_then(ctx, cs->ask, ask_again, NULL, &cs->chain1));
        assert_acto_ok(
            acto_future_then(ctx, cs->chain1, tell_last, NULL, &cs->chain2));
    }
    return 0;
}

static const acto_behaviour chain_b = {.receive = chain_receive};

static void
trace_keeps_a_future_chain_in_its_flow(void **state)
{
    acto_test_env *env = *state;
    memsink s = {0};
    acto_system *sys = traced_system(env, &s);
    chain_state cs = {0};
    acto_ref a;
    assert_acto_ok(acto_spawn(sys, &replier_b, NULL, NULL, &cs.b));
    assert_acto_ok(acto_spawn(sys, &chain_b, &cs, NULL, &a));
    assert_acto_ok(acto_test_send_int(sys, a, T_GO, 0));
    acto_test_settle(env);
    assert_int_equal(acto_future_state_of(cs.chain2), ACTO_FUTURE_DONE);
    assert_acto_ok(acto_trace_flush(sys));
    const acto_trace_event *go = find_send(&s, T_GO, 0);
    const acto_trace_event *reply2 = find_send(&s, T_REPLY, 1);
    assert_non_null(go);
    assert_non_null(reply2);
    assert_int_equal(reply2->flow, go->flow);
    /* The first step's chain completes in a callback of the second ask:
     * still in Go's flow, caused by the reply that completed that ask. */
    const acto_trace_event *c1 =
        find(&s, ACTO_TRACE_FUTURE, (uint64_t)(uintptr_t)cs.chain1);
    assert_non_null(c1);
    assert_int_equal(c1->arg, ACTO_FUTURE_DONE);
    assert_int_equal(c1->flow, go->flow);
    assert_int_equal(c1->cause, reply2->msg);
    /* The second step goes on in the flow, and so does what it sends. */
    const acto_trace_event *step2 =
        find_send(&s, ACTO_MSG_SYSTEM_BASE + 0x100u, 1);
    assert_non_null(step2);
    assert_int_equal(step2->flow, go->flow);
    assert_int_equal(step2->cause, reply2->msg);
    const acto_trace_event *last = find_send(&s, T_LAST, 0);
    assert_non_null(last);
    assert_int_equal(last->flow, go->flow);
    assert_int_equal(last->cause, step2->msg);
    const acto_trace_event *c2 =
        find(&s, ACTO_TRACE_FUTURE, (uint64_t)(uintptr_t)cs.chain2);
    assert_non_null(c2);
    assert_int_equal(c2->flow, go->flow);
    acto_future_release(cs.ask);
    acto_future_release(cs.chain1);
    acto_future_release(cs.chain2);
    acto_test_close_system(env, sys);
    free(s.ev);
}

/* ---- an ask that times out -------------------------------------------- */

static int
mute_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)ctx;
    (void)state;
    (void)m;
    return 0;
}

static const acto_behaviour mute_b = {.receive = mute_receive};

typedef struct asker_state {
    acto_ref b;
    acto_future *ask;
} asker_state;

static int
asker_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    asker_state *as = state;
    acto_system *sys = acto_ctx_system(ctx);
    if (acto_msg_type(m) == T_GO) {
        acto_msg *req;
        assert_acto_ok(acto_msg_new_bytes(sys, T_REQ, NULL, 0, &req));
        assert_acto_ok(acto_ask(sys, as->b, req, 5, &as->ask));
        assert_acto_ok(acto_future_notify(ctx, as->ask, T_NEXT));
    }
    return 0;
}

static const acto_behaviour asker_b = {.receive = asker_receive};

static void
trace_puts_a_timed_out_ask_in_the_flow_of_its_request(void **state)
{
    acto_test_env *env = *state;
    memsink s = {0};
    acto_system *sys = traced_system(env, &s);
    asker_state as = {0};
    acto_ref a;
    assert_acto_ok(acto_spawn(sys, &mute_b, NULL, NULL, &as.b));
    assert_acto_ok(acto_spawn(sys, &asker_b, &as, NULL, &a));
    assert_acto_ok(acto_test_send_int(sys, a, T_GO, 0));
    acto_test_settle(env);
    assert_acto_ok(acto_system_advance(sys, 10));
    acto_test_settle(env);
    assert_int_equal(acto_future_state_of(as.ask), ACTO_FUTURE_FAILED);
    assert_int_equal(acto_future_exception(as.ask)->code, ACTO_ETIMEDOUT);
    assert_acto_ok(acto_trace_flush(sys));
    const acto_trace_event *go = find_send(&s, T_GO, 0);
    const acto_trace_event *req = find_send(&s, T_REQ, 0);
    assert_non_null(go);
    assert_non_null(req);
    /* The deadline of the request failed it: the request is the cause. */
    const acto_trace_event *fut =
        find(&s, ACTO_TRACE_FUTURE, (uint64_t)(uintptr_t)as.ask);
    assert_non_null(fut);
    assert_int_equal(fut->arg, ACTO_FUTURE_FAILED);
    assert_int_equal(fut->flow, go->flow);
    assert_int_equal(fut->cause, req->msg);
    /* The notice it sends goes on in the flow, with the same cause. */
    const acto_trace_event *next = find_send(&s, T_NEXT, 0);
    assert_non_null(next);
    assert_int_equal(next->flow, go->flow);
    assert_int_equal(next->cause, req->msg);
    const acto_trace_event *h = find(&s, ACTO_TRACE_HANDLE, next->msg);
    assert_non_null(h);
    assert_int_equal(h->flow, go->flow);
    acto_future_release(as.ask);
    acto_test_close_system(env, sys);
    free(s.ev);
}

/* ---- a DOWN notice ---------------------------------------------------- */

typedef struct watcher_state {
    acto_ref target;
    int downs;
} watcher_state;

static int
watcher_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    watcher_state *ws = state;
    uint64_t id;
    if (acto_msg_type(m) == T_GO) {
        assert_acto_ok(acto_monitor(ctx, ws->target, &id));
        assert_acto_ok(acto_stop(acto_ctx_system(ctx), ws->target));
    } else if (acto_msg_type(m) == ACTO_MSG_DOWN) {
        ws->downs++;
    }
    return 0;
}

static const acto_behaviour watcher_b = {.receive = watcher_receive};

static void
trace_sends_a_down_notice_from_the_stopped_actor(void **state)
{
    acto_test_env *env = *state;
    memsink s = {0};
    acto_system *sys = traced_system(env, &s);
    watcher_state ws = {0};
    acto_ref w;
    assert_acto_ok(acto_spawn(sys, &mute_b, NULL, NULL, &ws.target));
    assert_acto_ok(acto_spawn(sys, &watcher_b, &ws, NULL, &w));
    assert_acto_ok(acto_test_send_int(sys, w, T_GO, 0));
    acto_test_settle(env);
    assert_int_equal(ws.downs, 1);
    assert_acto_ok(acto_trace_flush(sys));
    const acto_trace_event *go = find_send(&s, T_GO, 0);
    const acto_trace_event *down = find_send(&s, ACTO_MSG_DOWN, 0);
    assert_non_null(go);
    assert_non_null(down);
    assert_int_equal(down->actor, ws.target.id);
    assert_int_equal(down->peer, w.id);
    assert_int_equal(down->flow, go->flow);
    assert_int_equal(down->cause, go->msg);
    const acto_trace_event *h = find(&s, ACTO_TRACE_HANDLE, down->msg);
    assert_non_null(h);
    assert_int_equal(h->peer, ws.target.id);
    acto_test_close_system(env, sys);
    free(s.ev);
}

/* ---- an ask two hops into a flow sampled out -------------------------- */

typedef struct hop_state {
    acto_ref next, server;
    acto_future *asks[256];
    int n;
} hop_state;

static int
hop_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    hop_state *hs = state;
    acto_system *sys = acto_ctx_system(ctx);
    if (acto_msg_type(m) == T_GO) {
        /* The first hop passes it on four times: more messages than the
         * pool holds, so some are fresh, their flow field never set. */
        for (int i = 0; i < 4; i++) {
            assert_acto_ok(acto_tell(ctx, hs->next, T_NEXT, NULL, 0));
        }
        return 0;
    }
    acto_msg *req; /* the second asks */
    assert_acto_ok(acto_msg_new_bytes(sys, T_REQ, NULL, 0, &req));
    assert_acto_ok(acto_ask(sys, hs->server, req, 5, &hs->asks[hs->n++]));
    return 0;
}

static const acto_behaviour hop_b = {.receive = hop_receive};

static bool
kept(const memsink *s, uint64_t flow)
{
    const acto_trace_event *root = find(s, ACTO_TRACE_SEND, flow);
    return root != NULL && root->type == T_GO;
}

static void
trace_keeps_an_ask_in_a_flow_sampled_out(void **state)
{
    acto_test_env *env = *state;
    memsink s = {0};
    acto_system *sys =
        acto_test_system(env, &(acto_system_opts){.virtual_time = true});
    acto_trace_sink sk = {.write = mem_write, .user = &s};
    acto_trace_opts o = {.sample = 0.5, .seed = 3};
    assert_acto_ok(acto_trace_start(sys, &sk, &o));
    hop_state h2 = {0}, h1 = {0};
    acto_ref first;
    assert_acto_ok(acto_spawn(sys, &mute_b, NULL, NULL, &h2.server));
    assert_acto_ok(acto_spawn(sys, &hop_b, &h2, NULL, &h1.next));
    assert_acto_ok(acto_spawn(sys, &hop_b, &h1, NULL, &first));
    for (int i = 0; i < 64; i++) {
        assert_acto_ok(acto_test_send_int(sys, first, T_GO, i));
    }
    acto_test_settle(env);
    assert_acto_ok(acto_system_advance(sys, 10)); /* every ask times out */
    acto_test_settle(env);
    assert_acto_ok(acto_trace_flush(sys));
    /* Whole flows or none: every request and every timed-out ask recorded
     * is in a flow whose root was kept, and some flows were not. */
    size_t reqs = 0, futs = 0;
    for (size_t i = 0; i < s.n; i++) {
        const acto_trace_event *e = &s.ev[i];
        if ((e->kind == ACTO_TRACE_SEND && e->type == T_REQ) ||
            e->kind == ACTO_TRACE_FUTURE) {
            assert_true(kept(&s, e->flow));
            reqs += e->kind == ACTO_TRACE_SEND;
            futs += e->kind == ACTO_TRACE_FUTURE;
        }
    }
    assert_int_equal(reqs, futs);
    assert_true(reqs > 0 && reqs < 256);
    for (int i = 0; i < h2.n; i++) {
        assert_int_equal(acto_future_exception(h2.asks[i])->code,
                         ACTO_ETIMEDOUT);
        acto_future_release(h2.asks[i]);
    }
    assert_int_equal(h2.n, 256);
    acto_test_close_system(env, sys);
    free(s.ev);
}

/* ---- messages that waited for room ------------------------------------ */

static int
burst_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    if (acto_msg_type(m) == T_GO) {
        for (int i = 0; i < 5; i++) { /* the second on wait for room */
            assert_acto_ok(
                acto_tell(ctx, *(acto_ref *)state, T_NEXT, &i, sizeof(i)));
        }
    }
    return 0;
}

static const acto_behaviour burst_b = {.receive = burst_receive};

/* A message that waited in a full mailbox's park list is still handled
 * on the record: landing must not drop what marks it for tracing. */
static void
trace_records_the_handling_of_a_message_that_waited(void **state)
{
    acto_test_env *env = *state;
    memsink s = {0};
    acto_system *sys = traced_system(env, &s);
    acto_ref b, a;
    acto_spawn_opts one = {.capacity = 1};
    assert_acto_ok(acto_spawn(sys, &replier_b, NULL, &one, &b));
    assert_acto_ok(acto_spawn(sys, &burst_b, &b, NULL, &a));
    assert_acto_ok(acto_test_send_int(sys, a, T_GO, 0));
    acto_test_settle(env);
    assert_acto_ok(acto_trace_flush(sys));
    assert_true(count(&s, ACTO_TRACE_PARK) > 0);
    for (int i = 0; i < 5; i++) {
        const acto_trace_event *e = find_send(&s, T_NEXT, i);
        assert_non_null(e);
        const acto_trace_event *h = find(&s, ACTO_TRACE_HANDLE, e->msg);
        assert_non_null(h);
        assert_int_equal(h->actor, b.id);
        assert_int_equal(h->flow, e->flow);
    }
    acto_test_close_system(env, sys);
    free(s.ev);
}

/* ---- stamps ----------------------------------------------------------- */

/* A relay of three: "a" hands the ball to "quiet" (not traced), which
 * spends a microsecond and hands it to "b", which hands it back to "a". */
typedef struct relay {
    acto_ref a, quiet, b;
    int left;
} relay;

static int
relay_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    relay *r = state;
    (void)m;
    acto_ref self = acto_self(ctx);
    if (acto_ref_eq(self, r->quiet)) {
        uint64_t t0 = uv_hrtime();
        while (uv_hrtime() - t0 < 1000) {
        }
        return acto_tell(ctx, r->b, T_NEXT, NULL, 0);
    }
    if (acto_ref_eq(self, r->b)) {
        return acto_tell(ctx, r->a, T_NEXT, NULL, 0);
    }
    return --r->left > 0 ? acto_tell(ctx, r->quiet, T_NEXT, NULL, 0) : 0;
}

static const acto_behaviour relay_b = {.receive = relay_receive};

/* On the real clock, stamps never go back; a HANDLE right after the
 * scheduler's HANDLED shares its stamp (b's turn, then a's), but not
 * across a handling that was not recorded (quiet's, before b's). */
static void
trace_shares_a_stamp_only_between_turns_back_to_back(void **state)
{
    acto_test_env *env = *state;
    memsink s = {0};
    acto_system *sys = acto_test_system(env, NULL);
    acto_trace_sink sk = {.write = mem_write, .user = &s};
    acto_trace_opts o = {.except = "quiet"};
    assert_acto_ok(acto_trace_start(sys, &sk, &o));
    relay r = {.left = 200};
    acto_spawn_opts quiet = {.label = "quiet"};
    assert_acto_ok(acto_spawn(sys, &relay_b, &r, NULL, &r.a));
    assert_acto_ok(acto_spawn(sys, &relay_b, &r, &quiet, &r.quiet));
    assert_acto_ok(acto_spawn(sys, &relay_b, &r, NULL, &r.b));
    assert_acto_ok(acto_test_send_int(sys, r.a, T_GO, 0));
    acto_test_settle(env);
    assert_int_equal(r.left, 0);
    assert_acto_ok(acto_trace_flush(sys));
    int shared = 0, into_b = 0;
    for (size_t i = 1; i < s.n; i++) {
        const acto_trace_event *e = &s.ev[i], *prev = &s.ev[i - 1];
        assert_true(e->ts >= prev->ts);
        if (e->kind != ACTO_TRACE_HANDLE || prev->kind != ACTO_TRACE_HANDLED) {
            continue;
        }
        if (e->actor == r.b.id) {
            into_b++; /* quiet's handling came between */
            assert_true(e->ts > prev->ts);
        } else if (e->ts == prev->ts) {
            shared++;
        }
    }
    assert_true(into_b >= 150);
    assert_true(shared >= 150);
    acto_test_close_system(env, sys);
    free(s.ev);
}

/* ---- sampling a flow with every kind of step -------------------------- */

enum { ROOTS = 100 };

typedef struct rich {
    acto_ref beta, gamma, ghost;
    acto_future *asks[ROOTS], *steps[ROOTS];
    int n, beta_got;
} rich;

static acto_future *
tell_beta(acto_ctx *ctx, void *state, acto_future *prev, void *user)
{
    (void)prev;
    (void)user;
    assert_acto_ok(acto_tell(ctx, ((rich *)state)->beta, T_LAST, NULL, 0));
    return NULL;
}

/* alpha's T_GO: a tell, an ask notified back and chained, a timer, a
 * dead letter; the rest it gets counts for beta. */
static int
rich_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    rich *r = state;
    acto_system *sys = acto_ctx_system(ctx);
    if (acto_ref_eq(acto_self(ctx), r->beta)) {
        r->beta_got++;
        return 0;
    }
    if (acto_msg_type(m) != T_GO) {
        return 0;
    }
    int i = r->n++;
    assert_acto_ok(acto_tell(ctx, r->beta, T_NEXT, NULL, 0));
    acto_msg *req, *tick;
    assert_acto_ok(acto_msg_new_bytes(sys, T_REQ, NULL, 0, &req));
    assert_acto_ok(acto_ask(sys, r->gamma, req, 100, &r->asks[i]));
    assert_acto_ok(acto_future_notify(ctx, r->asks[i], T_REPLY));
    assert_acto_ok(
        acto_future_then(ctx, r->asks[i], tell_beta, NULL, &r->steps[i]));
    assert_acto_ok(acto_msg_new_bytes(sys, T_NEXT, NULL, 0, &tick));
    assert_acto_ok(acto_send_after(sys, 1, r->beta, tick, NULL));
    return acto_tell(ctx, r->ghost, T_NEXT, NULL, 0);
}

static const acto_behaviour rich_b = {.receive = rich_receive};

static bool
in(const uint64_t *flows, size_t n, uint64_t flow)
{
    for (size_t i = 0; i < n; i++) {
        if (flows[i] == flow) {
            return true;
        }
    }
    return false;
}

/* Half the flows sampled: a flow sampled out leaves no event (its
 * handlers send the fast way, marking nothing), and every flow kept has
 * all its steps, across asks, futures, continuations and timers. */
static void
trace_sampling_keeps_flows_of_every_step_whole(void **state)
{
    acto_test_env *env = *state;
    memsink s = {0};
    acto_system *sys =
        acto_test_system(env, &(acto_system_opts){.virtual_time = true});
    acto_trace_sink sk = {.write = mem_write, .user = &s};
    acto_trace_opts half = {.sample = 0.5, .seed = 3};
    assert_acto_ok(acto_trace_start(sys, &sk, &half));
    rich r = {0};
    acto_ref alpha;
    assert_acto_ok(acto_spawn(sys, &rich_b, &r, NULL, &r.beta));
    assert_acto_ok(acto_spawn(sys, &replier_b, NULL, NULL, &r.gamma));
    assert_acto_ok(acto_spawn(sys, &rich_b, &r, NULL, &r.ghost));
    assert_acto_ok(acto_stop(sys, r.ghost));
    assert_acto_ok(acto_spawn(sys, &rich_b, &r, NULL, &alpha));
    for (int i = 0; i < ROOTS; i++) {
        assert_acto_ok(acto_test_send_int(sys, alpha, T_GO, i));
    }
    acto_test_settle(env);
    assert_acto_ok(acto_system_advance(sys, 1));
    acto_test_settle(env);
    assert_int_equal(r.n, ROOTS);
    assert_int_equal(r.beta_got, 3 * ROOTS); /* tell, timer, chain */
    assert_acto_ok(acto_trace_flush(sys));
    uint64_t kept[ROOTS];
    size_t n = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.ev[i].kind == ACTO_TRACE_SEND && s.ev[i].type == T_GO) {
            kept[n++] = s.ev[i].flow;
        }
    }
    assert_true(n > 25 && n < 75);
    for (size_t k = 0; k < n; k++) {
        int handles = 0, dead = 0, timers = 0, futures = 0;
        for (size_t i = 0; i < s.n; i++) {
            const acto_trace_event *e = &s.ev[i];
            handles += e->flow == kept[k] && e->kind == ACTO_TRACE_HANDLE;
            dead += e->flow == kept[k] && e->kind == ACTO_TRACE_DEAD;
            timers += e->flow == kept[k] && e->kind == ACTO_TRACE_TIMER_FIRE;
            futures += e->flow == kept[k] && e->kind == ACTO_TRACE_FUTURE;
        }
        /* GO, NEXT, REQ, the notice, the step, the timer's NEXT, LAST */
        assert_int_equal(handles, 7);
        assert_int_equal(dead, 1);
        assert_int_equal(timers, 1);
        assert_true(futures >= 2);
    }
    for (size_t i = 0; i < s.n; i++) {
        uint16_t k = s.ev[i].kind;
        if (k != ACTO_TRACE_SPAWN && k != ACTO_TRACE_STOP) {
            assert_true(in(kept, n, s.ev[i].flow)); /* none of the others */
        }
    }
    for (int i = 0; i < ROOTS; i++) {
        acto_future_release(r.asks[i]);
        acto_future_release(r.steps[i]);
    }
    acto_test_close_system(env, sys);
    free(s.ev);
}

/* ---- runs in a flow sampled out --------------------------------------- */

enum { HELD_MAX = 512 };

/* A stage that holds what it gets for a turn: each turn it passes on
 * what it held (acto_send_many), then takes its message and the run
 * behind it. What it gets comes from an actor in front of it, so that
 * what it takes in flows sampled out has no mark. */
typedef struct holder {
    acto_ref front, stage, to;
    acto_msg *held[HELD_MAX];
    size_t n;
    int taken_in_runs, got;
} holder;

static int
holder_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    holder *h = state;
    (void)m;
    if (acto_ref_eq(acto_self(ctx), h->to)) {
        h->got++;
        return 0;
    }
    if (acto_ref_eq(acto_self(ctx), h->front)) {
        return acto_tell(ctx, h->stage, acto_msg_type(m), NULL, 0);
    }
    size_t sent = 0;
    assert_acto_ok(acto_send_many(ctx, h->to, h->held, h->n, &sent));
    assert_int_equal(sent, h->n);
    h->n = 0;
    acto_msg *own = acto_take_msg(ctx);
    assert_non_null(own);
    h->held[h->n++] = own;
    size_t k = acto_take_run(ctx, T_LAST, h->held + h->n, HELD_MAX - h->n);
    h->n += k;
    h->taken_in_runs += (int)k;
    return 0;
}

static const acto_behaviour holder_b = {.receive = holder_receive};

/* Half the flows sampled: the stage takes runs of what is sampled out.
 * What it held on to goes on in its own flow whatever flow the turn that
 * passes it on handles: a kept flow's message is recorded, and a message
 * of one sampled out (unmarked) does not join a kept one. */
static void
trace_lets_flows_sampled_out_run_and_keeps_held_ones_whole(void **state)
{
    acto_test_env *env = *state;
    memsink s = {0};
    acto_system *sys = acto_test_system(env, NULL);
    acto_trace_sink sk = {.write = mem_write, .user = &s};
    acto_trace_opts half = {.sample = 0.5, .seed = 9};
    assert_acto_ok(acto_trace_start(sys, &sk, &half));
    holder h = {0};
    assert_acto_ok(acto_spawn(sys, &holder_b, &h, NULL, &h.to));
    assert_acto_ok(acto_spawn(sys, &holder_b, &h, NULL, &h.stage));
    assert_acto_ok(acto_spawn(sys, &holder_b, &h, NULL, &h.front));
    for (int i = 0; i < ROOTS * 2; i++) {
        assert_acto_ok(acto_test_send_int(sys, h.front, T_NEXT, i));
    }
    acto_test_settle(env);
    int gos = 0; /* each passes on what was held, and is held */
    for (; h.got < ROOTS * 2 && gos < 3; gos++) {
        assert_acto_ok(acto_test_send_int(sys, h.front, T_GO, gos));
        acto_test_settle(env);
    }
    assert_int_equal(h.got, ROOTS * 2 + gos - 1);
    assert_int_equal(h.n, 1);
    assert_true(h.taken_in_runs > 0);
    assert_acto_ok(acto_trace_flush(sys));
    size_t kept = 0;
    for (size_t i = 0; i < s.n; i++) {
        const acto_trace_event *e = &s.ev[i];
        if (e->kind != ACTO_TRACE_SEND || e->type != T_NEXT || e->actor != 0) {
            continue;
        }
        kept++; /* a root kept: three sends and handlings, nothing else */
        int sends = 0, handles = 0, others = 0;
        for (size_t j = 0; j < s.n; j++) {
            const acto_trace_event *f = &s.ev[j];
            sends += f->flow == e->flow && f->kind == ACTO_TRACE_SEND;
            handles += f->flow == e->flow && f->kind == ACTO_TRACE_HANDLE;
            others += f->flow == e->flow && f->kind != ACTO_TRACE_SEND &&
                      f->kind != ACTO_TRACE_HANDLE &&
                      f->kind != ACTO_TRACE_HANDLED;
        }
        assert_int_equal(sends, 3);
        assert_int_equal(handles, 3);
        assert_int_equal(others, 0);
    }
    assert_true(kept > ROOTS / 2 && kept < ROOTS * 3 / 2);
    for (size_t i = 0; i < h.n; i++) {
        acto_msg_free(h.held[i]);
    }
    acto_test_close_system(env, sys);
    free(s.ev);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(trace_keeps_a_future_chain_in_its_flow),
        acto_unit_test(trace_puts_a_timed_out_ask_in_the_flow_of_its_request),
        acto_unit_test(trace_sends_a_down_notice_from_the_stopped_actor),
        acto_unit_test(trace_keeps_an_ask_in_a_flow_sampled_out),
        acto_unit_test(trace_records_the_handling_of_a_message_that_waited),
        acto_unit_test(trace_shares_a_stamp_only_between_turns_back_to_back),
        acto_unit_test(trace_sampling_keeps_flows_of_every_step_whole),
        acto_unit_test(
            trace_lets_flows_sampled_out_run_and_keeps_held_ones_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
