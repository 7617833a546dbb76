/* Pipelines moving runs of items: a source that emits bursts feeds stages
 * that take the run waiting in their mailbox in one call and pass what
 * they emit on together. Order, counts, bounds and error policies must be
 * what one item at a time gives: a flat_map that parks in the middle of a
 * run, a retry that suspends a stage in the middle of one, writers routing
 * straight to a key-routed pool's workers, and debug mode (one message at
 * a time). All on the virtual clock. */
#include "pipe_world.h"

#include <acto/pipeline.h>
#include <stdlib.h>
#include <string.h>

enum { T_NUM = 1 };

/* ---- building blocks -------------------------------------------------- */

typedef struct burst {
    int next, last; /* produces next..last */
    int per_call;   /* items per call */
} burst;

static int
burst_next(acto_emitter *out, void *state)
{
    burst *b = state;
    for (int k = 0; k < b->per_call && b->next <= b->last; k++) {
        int v = b->next++;
        int rc = acto_emit_bytes(out, T_NUM, &v, sizeof(v));
        if (rc != 0) {
            return rc;
        }
    }
    return b->next <= b->last ? 0 : ACTO_PIPE_END;
}

/* Fails each multiple of 10 twice, then passes it on. */
typedef struct flaky {
    int tries[2001];
} flaky;

static int
flaky_fn(acto_emitter *out, void *state, acto_msg *item)
{
    flaky *f = state;
    int v = item_int(item);
    if (v % 10 == 0 && f->tries[v]++ < 2) {
        return acto_stage_fail(out, ACTO_EINVAL, "Flaky", "not yet %d", v);
    }
    return acto_emit(out, item);
}

static int
pass(acto_emitter *out, void *state, acto_msg *item)
{
    (void)state;
    return acto_emit(out, item);
}

#define KEYS 5

static uint64_t
key_of(const acto_msg *item, void *user)
{
    (void)user;
    return (uint64_t)(item_int(item) % KEYS);
}

typedef struct tally {
    int n;
    long sum;
    int last;
    bool ordered;
    int last_by_key[KEYS];
    bool key_ordered;
    const burst *src; /* for the in-flight bound */
    int max_gap;
} tally;

static int
add_up(acto_emitter *out, void *state, const acto_msg *item)
{
    (void)out;
    tally *t = state;
    int v = item_int(item);
    if (t->n > 0 && v < t->last) {
        t->ordered = false;
    }
    if (v < t->last_by_key[v % KEYS]) {
        t->key_ordered = false;
    }
    t->last_by_key[v % KEYS] = v;
    t->last = v;
    t->sum += v;
    t->n++;
    if (t->src != NULL) {
        int gap = (t->src->next - 1) - t->n / 3; /* produced, not here */
        if (gap > t->max_gap) {
            t->max_gap = gap;
        }
    }
    return 0;
}

static acto_system *
vsys(acto_test_env *env, bool debug)
{
    return acto_test_system(
        env, &(acto_system_opts){.virtual_time = true, .debug = debug});
}

/* finish runs the pipeline to its end (advancing the clock for retries)
 * and returns the state of its future. */
static acto_future_state
finish(acto_test_env *env, acto_system *sys, acto_pipeline *p)
{
    acto_future *done;
    assert_acto_ok(acto_pipeline_start(p, &done));
    acto_test_settle(env);
    for (int i = 0;
         i < 200 && acto_future_state_of(done) == ACTO_FUTURE_PENDING; i++) {
        assert_acto_ok(acto_system_advance(sys, 100)); /* retries wait */
        acto_test_settle(env);
    }
    acto_future_state fs = acto_future_state_of(done);
    acto_future_release(done);
    return fs;
}

/* ---- the tests -------------------------------------------------------- */

/* A flat_map behind small mailboxes parks in the middle of a run (its
 * third emit finds no room): the rest of the run waits for its turn, and
 * the source never runs further ahead than the mailboxes and the parked
 * emits of one call hold. */
static void
runs_flat_map_parks_mid_run_and_keeps_order(void **state)
{
    acto_test_env *env = *state;
    for (int dbg = 0; dbg <= 1; dbg++) {
        acto_system *sys = vsys(env, dbg == 1);
        burst b = {.next = 1, .last = 3000, .per_call = 16};
        tally t = {.ordered = true, .key_ordered = true, .src = &b};
        acto_pipeline *p;
        acto_stage *src, *tri, *snk;
        acto_stage_opts small = {.capacity = 4};
        assert_acto_ok(acto_pipeline_new(sys, NULL, &p));
        assert_acto_ok(acto_pipeline_source(p, burst_next, &b, &small, &src));
        assert_acto_ok(acto_pipeline_stage(p, src, triple, NULL, &small, &tri));
        assert_acto_ok(acto_pipeline_sink(p, tri, add_up, &t, &small, &snk));
        assert_int_equal(finish(env, sys, p), ACTO_FUTURE_DONE);
        assert_int_equal(t.n, 3 * 3000);
        assert_int_equal(t.sum, 3L * 3000 * 3001 / 2);
        assert_true(t.ordered);
        /* The source's parked emits of one call (16), the stage's mailbox
         * (4) and item in hand, its parked emits (3 items, 1 source item)
         * and the sink's mailbox (4 items, 2 source items). */
        assert_true(t.max_gap <= 16 + 4 + 1 + 1 + 2 + 1);
        acto_stage_stats st;
        assert_acto_ok(acto_pipeline_stats(p, tri, &st));
        assert_int_equal(st.in, 3000);
        assert_int_equal(st.out, 9000);
        assert_int_equal(st.dropped, 0);
        assert_acto_ok(acto_pipeline_stats(p, snk, &st));
        assert_int_equal(st.in, 9000);
        assert_acto_ok(acto_pipeline_free(p));
        acto_test_assert_stats_balance(sys);
        acto_test_close_system(env, sys);
    }
}

/* A retry suspends the stage in the middle of a run: the items behind the
 * failed one go back to the mailbox and nothing overtakes it. */
static void
runs_retry_mid_run_keeps_order(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = vsys(env, false);
    burst b = {.next = 1, .last = 2000, .per_call = 64};
    flaky *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    tally t = {.ordered = true, .key_ordered = true};
    acto_pipeline *p;
    acto_stage *src, *mid, *snk;
    acto_stage_opts o = {
        .on_error = ACTO_ON_ERROR_RETRY, .retries = 3, .retry_backoff_ms = 5};
    assert_acto_ok(acto_pipeline_new(sys, NULL, &p));
    assert_acto_ok(acto_pipeline_source(p, burst_next, &b, NULL, &src));
    assert_acto_ok(acto_pipeline_stage(p, src, flaky_fn, f, &o, &mid));
    assert_acto_ok(acto_pipeline_sink(p, mid, add_up, &t, NULL, &snk));
    assert_int_equal(finish(env, sys, p), ACTO_FUTURE_DONE);
    assert_int_equal(t.n, 2000);
    assert_true(t.ordered);
    acto_stage_stats st;
    assert_acto_ok(acto_pipeline_stats(p, mid, &st));
    assert_int_equal(st.in, 2000);
    assert_int_equal(st.out, 2000);
    assert_int_equal(st.retried, 2 * 200);
    assert_acto_ok(acto_pipeline_free(p));
    free(f);
    acto_test_close_system(env, sys);
}

/* A stage writing to a key-routed pool routes each item to its worker
 * itself, through small mailboxes that park it: the order per key holds
 * and every item is counted once, in the pool and in its workers. */
static void
runs_writer_routes_to_a_key_pool(void **state)
{
    acto_test_env *env = *state;
    for (int dbg = 0; dbg <= 1; dbg++) {
        acto_system *sys = vsys(env, dbg == 1);
        burst b = {.next = 1, .last = 5000, .per_call = 32};
        tally t = {.key_ordered = true};
        acto_pipeline *p;
        acto_stage *src, *mid, *pool, *snk;
        acto_stage_opts small = {.capacity = 4};
        acto_pool_opts po = {
            .workers = 3, .route = ACTO_ROUTE_KEY, .key = key_of};
        assert_acto_ok(acto_pipeline_new(sys, NULL, &p));
        assert_acto_ok(acto_pipeline_source(p, burst_next, &b, &small, &src));
        assert_acto_ok(acto_pipeline_stage(p, src, pass, NULL, &small, &mid));
        assert_acto_ok(
            acto_pipeline_pool(p, mid, &po, pass, NULL, &small, &pool));
        assert_acto_ok(acto_pipeline_sink(p, pool, add_up, &t, &small, &snk));
        assert_int_equal(finish(env, sys, p), ACTO_FUTURE_DONE);
        assert_int_equal(t.n, 5000);
        assert_int_equal(t.sum, 5000L * 5001 / 2);
        assert_true(t.key_ordered);
        acto_stage_stats st;
        assert_acto_ok(acto_pipeline_stats(p, pool, &st));
        assert_int_equal(st.in, 5000);
        assert_int_equal(st.out, 5000);
        assert_int_equal(st.dropped, 0);
        assert_acto_ok(acto_pipeline_stats(p, mid, &st));
        assert_int_equal(st.out, 5000);
        assert_acto_ok(acto_pipeline_free(p));
        acto_test_assert_stats_balance(sys);
        acto_test_close_system(env, sys);
    }
}

/* A source fed straight into a key-routed pool whose function fails some
 * items (skipped): counted exactly, in = out + skipped. */
static int
skip_sevens(acto_emitter *out, void *state, acto_msg *item)
{
    (void)state;
    if (item_int(item) % 7 == 0) {
        return acto_stage_fail(out, ACTO_EINVAL, "Seven", "no sevens");
    }
    return acto_emit(out, item);
}

static void
runs_source_into_key_pool_counts_skips(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = vsys(env, false);
    burst b = {.next = 1, .last = 700, .per_call = 64};
    tally t = {.key_ordered = true};
    acto_pipeline *p;
    acto_stage *src, *pool, *snk;
    acto_stage_opts wo = {.capacity = 8, .on_error = ACTO_ON_ERROR_SKIP};
    acto_pool_opts po = {.workers = 4, .route = ACTO_ROUTE_KEY, .key = key_of};
    assert_acto_ok(acto_pipeline_new(sys, NULL, &p));
    assert_acto_ok(acto_pipeline_source(p, burst_next, &b, NULL, &src));
    assert_acto_ok(
        acto_pipeline_pool(p, src, &po, skip_sevens, NULL, &wo, &pool));
    assert_acto_ok(acto_pipeline_sink(p, pool, add_up, &t, NULL, &snk));
    assert_int_equal(finish(env, sys, p), ACTO_FUTURE_DONE);
    assert_int_equal(t.n, 600);
    assert_true(t.key_ordered);
    acto_stage_stats st;
    assert_acto_ok(acto_pipeline_stats(p, pool, &st));
    assert_int_equal(st.in, 700);
    assert_int_equal(st.out, 600);
    assert_int_equal(st.skipped, 100);
    assert_acto_ok(acto_pipeline_stats(p, src, &st));
    assert_int_equal(st.out, 700);
    assert_acto_ok(acto_pipeline_free(p));
    acto_test_close_system(env, sys);
}

/* sends_parked runs a source (per_call items a call, 1..last) into a
 * key-routed pool of 4 workers of mailbox 8 and a sink with room for all
 * four's runs; it checks that every item came in key order, and returns
 * how many sends had to park. */
static uint64_t
sends_parked(acto_test_env *env, int per_call, int last)
{
    acto_system *sys = vsys(env, false);
    burst b = {.next = 1, .last = last, .per_call = per_call};
    tally t = {.key_ordered = true};
    acto_pipeline *p;
    acto_stage *src, *pool, *snk;
    acto_stage_opts wo = {.capacity = 8};
    acto_stage_opts so = {.capacity = 4 * 8};
    acto_pool_opts po = {.workers = 4, .route = ACTO_ROUTE_KEY, .key = key_of};
    assert_acto_ok(acto_pipeline_new(sys, NULL, &p));
    assert_acto_ok(acto_pipeline_source(p, burst_next, &b, NULL, &src));
    assert_acto_ok(acto_pipeline_pool(p, src, &po, pass, NULL, &wo, &pool));
    assert_acto_ok(acto_pipeline_sink(p, pool, add_up, &t, &so, &snk));
    assert_int_equal(finish(env, sys, p), ACTO_FUTURE_DONE);
    assert_int_equal(t.n, last);
    assert_int_equal(t.sum, (long)last * (last + 1) / 2);
    assert_true(t.key_ordered);
    acto_stage_stats st;
    assert_acto_ok(acto_pipeline_stats(p, pool, &st));
    assert_int_equal(st.in, last);
    assert_int_equal(st.out, last);
    acto_stats sys_st;
    acto_system_stats(sys, &sys_st);
    assert_acto_ok(acto_pipeline_free(p));
    acto_test_close_system(env, sys);
    return sys_st.parks;
}

/* A source feeding a key-routed pool is asked again only while none of
 * the workers it fills this turn is full: one item a call never parks,
 * though the workers' mailboxes (32 places) hold fewer than a turn's
 * outbox. A source emitting more per call than all of them hold parks
 * for the rest, and still loses nothing and keeps the order per key. */
static void
runs_key_pool_source_stops_at_a_full_worker(void **state)
{
    acto_test_env *env = *state;
    assert_int_equal(sends_parked(env, 1, 3000), 0);
    assert_true(sends_parked(env, 300, 3000) > 0);
}

/* A source emitting one item a call that notes, at each call, how many
 * of its items the sink has not had yet. */
typedef struct paced {
    int next, last;
    const tally *sink;
    int max_ahead;
} paced;

static int
paced_next(acto_emitter *out, void *state)
{
    paced *s = state;
    int ahead = (s->next - 1) - s->sink->n;
    if (ahead > s->max_ahead) {
        s->max_ahead = ahead;
    }
    int v = s->next++;
    int rc = acto_emit_bytes(out, T_NUM, &v, sizeof(v));
    return rc != 0 ? rc : s->next <= s->last ? 0 : ACTO_PIPE_END;
}

/* A source with one reader is asked for more by that reader's turn (or
 * by the workers of the key-routed pool it feeds), so the turns the
 * reader's own sends scheduled come first: when the source is asked, the
 * sink has had everything of its earlier turns, and a turn's items are
 * all it has in flight (fewer than its readers' room: 8 in a line, 4 x 8
 * in the pool). Asking itself, it ran a turn ahead of the sink. */
static void
runs_source_asked_by_its_reader(void **state)
{
    acto_test_env *env = *state;
    for (int keyed = 0; keyed <= 1; keyed++) {
        acto_system *sys = vsys(env, false);
        tally t = {.key_ordered = true};
        paced s = {.next = 1, .last = 2000, .sink = &t};
        acto_pipeline *p;
        acto_stage *src, *mid, *snk;
        acto_stage_opts small = {.capacity = 8};
        acto_stage_opts wide = {.capacity = 4 * 8};
        acto_pool_opts po = {
            .workers = 4, .route = ACTO_ROUTE_KEY, .key = key_of};
        assert_acto_ok(acto_pipeline_new(sys, NULL, &p));
        assert_acto_ok(acto_pipeline_source(p, paced_next, &s, NULL, &src));
        if (keyed) {
            assert_acto_ok(
                acto_pipeline_pool(p, src, &po, pass, NULL, &small, &mid));
        } else {
            assert_acto_ok(
                acto_pipeline_stage(p, src, pass, NULL, &small, &mid));
        }
        assert_acto_ok(acto_pipeline_sink(p, mid, add_up, &t, &wide, &snk));
        assert_int_equal(finish(env, sys, p), ACTO_FUTURE_DONE);
        assert_int_equal(t.n, 2000);
        assert_true(t.key_ordered);
        assert_true(s.max_ahead < (keyed ? 4 * 8 : 8));
        assert_acto_ok(acto_pipeline_free(p));
        acto_test_close_system(env, sys);
    }
}

#define MANY_KEYS 250

static uint64_t
many_key(const acto_msg *item, void *user)
{
    (void)user;
    return (uint64_t)(item_int(item) % MANY_KEYS);
}

typedef struct key_order {
    int n;
    long sum;
    int last[MANY_KEYS];
    bool ordered;
} key_order;

static int
check_key_order(acto_emitter *out, void *state, const acto_msg *item)
{
    (void)out;
    key_order *k = state;
    int v = item_int(item);
    k->ordered &= v > k->last[v % MANY_KEYS];
    k->last[v % MANY_KEYS] = v;
    k->sum += v;
    k->n++;
    return 0;
}

/* A writer holds chains for at most PIPE_KEYED_MAX (128) workers at once:
 * a turn that reaches more of a big pool's workers sends the chains it
 * holds and goes on with new ones, losing nothing and keeping each key's
 * order. */
static void
runs_key_pool_of_many_workers(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = vsys(env, false);
    burst b = {.next = 1, .last = 3000, .per_call = 300};
    key_order k = {.ordered = true};
    acto_pipeline *p;
    acto_stage *src, *pool, *snk;
    acto_stage_opts wo = {.capacity = 4};
    acto_stage_opts so = {.capacity = 1024};
    acto_pool_opts po = {
        .workers = 300, .route = ACTO_ROUTE_KEY, .key = many_key};
    assert_acto_ok(acto_pipeline_new(sys, NULL, &p));
    assert_acto_ok(acto_pipeline_source(p, burst_next, &b, NULL, &src));
    assert_acto_ok(acto_pipeline_pool(p, src, &po, pass, NULL, &wo, &pool));
    assert_acto_ok(acto_pipeline_sink(p, pool, check_key_order, &k, &so, &snk));
    assert_int_equal(finish(env, sys, p), ACTO_FUTURE_DONE);
    assert_int_equal(k.n, 3000);
    assert_int_equal(k.sum, 3000L * 3001 / 2);
    assert_true(k.ordered);
    acto_stage_stats st;
    assert_acto_ok(acto_pipeline_stats(p, pool, &st));
    assert_int_equal(st.in, 3000);
    assert_int_equal(st.out, 3000);
    assert_acto_ok(acto_pipeline_stats(p, src, &st));
    assert_int_equal(st.out, 3000);
    assert_acto_ok(acto_pipeline_free(p));
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
}

/* A key-routed pool's workers each hold their chain of waiting items:
 * building one fails cleanly when any allocation fails, and once built it
 * runs to the end; nothing leaks either way. */
static void
runs_key_pool_survives_allocation_failure_anywhere(void **state)
{
    acto_test_env *env = *state;
    for (long nth = 1; nth < 400; nth++) {
        acto_system *sys = vsys(env, false);
        burst b = {.next = 1, .last = 300, .per_call = 64};
        tally t = {.key_ordered = true};
        acto_pipeline *p = NULL;
        acto_stage *src, *pool, *snk;
        acto_pool_opts po = {
            .workers = 3, .route = ACTO_ROUTE_KEY, .key = key_of};
        acto_test_alloc_fail_nth(nth);
        int rc = acto_pipeline_new(sys, NULL, &p);
        if (rc == 0) {
            rc = acto_pipeline_source(p, burst_next, &b, NULL, &src);
        }
        if (rc == 0) {
            rc = acto_pipeline_pool(p, src, &po, pass, NULL, NULL, &pool);
        }
        if (rc == 0) {
            rc = acto_pipeline_sink(p, pool, add_up, &t, NULL, &snk);
        }
        bool failed = acto_test_alloc_failed();
        acto_test_alloc_fail_nth(0);
        if (rc != 0) {
            assert_int_equal(rc, ACTO_ENOMEM);
            assert_true(failed);
        } else { /* built: it runs to the end */
            assert_int_equal(finish(env, sys, p), ACTO_FUTURE_DONE);
            assert_int_equal(t.n, 300);
            assert_true(t.key_ordered);
        }
        if (p != NULL) {
            assert_acto_ok(acto_pipeline_free(p));
        }
        acto_test_close_system(env, sys);
        assert_no_leaks();
        if (!failed) {
            break; /* every allocation of the build was tried */
        }
    }
}

/* A stage that cancels its own pipeline (dropping what is in flight) and
 * then emits its item: the emit fails with ACTO_ECANCELED and frees the
 * item, and the stage must not free it again. A double free would put the
 * message in the pool twice, and later allocations would share it. */
typedef struct canceller {
    acto_pipeline *p;
    int at;
    int emit_rc;
} canceller;

static int
cancel_then_emit(acto_emitter *out, void *state, acto_msg *item)
{
    canceller *c = state;
    bool now = item_int(item) == c->at;
    if (now) {
        assert_acto_ok(acto_pipeline_cancel(c->p));
    }
    int rc = acto_emit(out, item);
    if (now) {
        c->emit_rc = rc;
    }
    return rc;
}

static void
runs_emit_after_cancel_frees_the_item_once(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = vsys(env, false);
    burst b = {.next = 1, .last = 50, .per_call = 10};
    canceller c = {.at = 3};
    tally t = {0};
    acto_stage *src, *st, *snk;
    assert_acto_ok(acto_pipeline_new(sys, NULL, &c.p));
    assert_acto_ok(acto_pipeline_source(c.p, burst_next, &b, NULL, &src));
    assert_acto_ok(
        acto_pipeline_stage(c.p, src, cancel_then_emit, &c, NULL, &st));
    assert_acto_ok(acto_pipeline_sink(c.p, st, add_up, &t, NULL, &snk));
    assert_int_equal(finish(env, sys, c.p), ACTO_FUTURE_CANCELLED);
    assert_int_equal(c.emit_rc, ACTO_ECANCELED);
    acto_msg *m[300];
    int v = 0;
    for (size_t i = 0; i < 300; i++) {
        assert_acto_ok(acto_msg_new_bytes(sys, T_NUM, &v, sizeof(v), &m[i]));
        for (size_t j = 0; j < i; j++) {
            assert_ptr_not_equal(m[i], m[j]);
        }
    }
    for (size_t i = 0; i < 300; i++) {
        acto_msg_free(m[i]);
    }
    assert_acto_ok(acto_pipeline_free(c.p));
    acto_test_close_system(env, sys);
}

/* A source routing straight to a key-routed pool cancels its pipeline in
 * the middle of a burst, with items already chained for the workers: its
 * next acto_emit_bytes fails with ACTO_ECANCELED and frees the item it
 * built, as any emit does once the pipeline stops; nothing leaks. */
typedef struct cancel_src {
    acto_pipeline *p;
    int next, at;
    int rc_at;
} cancel_src;

static int
cancel_mid_burst(acto_emitter *out, void *state)
{
    cancel_src *c = state;
    for (int k = 0; k < 16; k++) {
        int v = c->next++;
        if (v == c->at) {
            assert_acto_ok(acto_pipeline_cancel(c->p));
        }
        int rc = acto_emit_bytes(out, T_NUM, &v, sizeof(v));
        if (v == c->at) {
            c->rc_at = rc;
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static void
runs_keyed_emit_after_cancel_fails_and_frees(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = vsys(env, false);
    cancel_src c = {.next = 1, .at = 21};
    tally t = {0};
    acto_stage *src, *pool, *snk;
    acto_pool_opts po = {.workers = 3, .route = ACTO_ROUTE_KEY, .key = key_of};
    assert_acto_ok(acto_pipeline_new(sys, NULL, &c.p));
    assert_acto_ok(acto_pipeline_source(c.p, cancel_mid_burst, &c, NULL, &src));
    assert_acto_ok(acto_pipeline_pool(c.p, src, &po, pass, NULL, NULL, &pool));
    assert_acto_ok(acto_pipeline_sink(c.p, pool, add_up, &t, NULL, &snk));
    assert_int_equal(finish(env, sys, c.p), ACTO_FUTURE_CANCELLED);
    assert_int_equal(c.rc_at, ACTO_ECANCELED);
    assert_true(t.n < 21); /* none of what came after the cancel */
    assert_acto_ok(acto_pipeline_free(c.p));
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(runs_flat_map_parks_mid_run_and_keeps_order),
        acto_unit_test(runs_retry_mid_run_keeps_order),
        acto_unit_test(runs_writer_routes_to_a_key_pool),
        acto_unit_test(runs_source_into_key_pool_counts_skips),
        acto_unit_test(runs_key_pool_source_stops_at_a_full_worker),
        acto_unit_test(runs_source_asked_by_its_reader),
        acto_unit_test(runs_key_pool_of_many_workers),
        acto_unit_test(runs_key_pool_survives_allocation_failure_anywhere),
        acto_unit_test(runs_emit_after_cancel_frees_the_item_once),
        acto_unit_test(runs_keyed_emit_after_cancel_fails_and_frees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
