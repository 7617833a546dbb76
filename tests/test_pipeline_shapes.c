/* Pipeline shapes beyond a chain: pools (round robin, shortest mailbox,
 * by key with the order per key kept), merge, broadcast, an input fed by
 * other actors and threads, and a source fed by an acto_queue. */
#include "acto_test.h"

#include <acto/pipeline.h>
#include <pthread.h>
#include <string.h>

enum { T_NUM = 1 };

typedef struct counter {
    int next, last;
} counter;

static int
count_up(acto_emitter *out, void *state)
{
    counter *c = state;
    if (c->next > c->last) {
        return ACTO_PIPE_END;
    }
    int v = c->next++;
    return acto_emit_bytes(out, T_NUM, &v, sizeof(v));
}

static int
pass(acto_emitter *out, void *state, acto_msg *item)
{
    int *handled = state;
    if (handled != NULL) {
        (*handled)++;
    }
    return acto_emit(out, item);
}

#define MAXV 4096
typedef struct tally {
    int n;
    long sum;
    int last_by_key[8];
    bool key_ordered;
    int count_of[MAXV];
} tally;

static int
add_up(acto_emitter *out, void *state, const acto_msg *item)
{
    (void)out;
    tally *t = state;
    int v = acto_test_msg_int(item);
    t->n++;
    t->sum += v;
    int k = v % 8;
    if (v < t->last_by_key[k]) {
        t->key_ordered = false;
    }
    t->last_by_key[k] = v;
    if (v >= 0 && v < MAXV) {
        t->count_of[v]++;
    }
    return 0;
}

static acto_system *
vsys(acto_test_env *env)
{
    return acto_test_system(env, &(acto_system_opts){.virtual_time = true});
}

static void
finish(acto_test_env *env, acto_pipeline *p, acto_future *done)
{
    acto_test_settle(env);
    assert_int_equal(acto_future_state_of(done), ACTO_FUTURE_DONE);
    acto_future_release(done);
    assert_acto_ok(acto_pipeline_free(p));
}

/* ---- pools ------------------------------------------------------------ */

static uint64_t
key_mod8(const acto_msg *item, void *user)
{
    (void)user;
    return (uint64_t)(acto_test_msg_int(item) % 8);
}

static void
pool_routes_every_way_and_loses_nothing(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = vsys(env);
    for (int route = 0; route <= ACTO_ROUTE_KEY; route++) {
        counter c = {.next = 1, .last = 3000};
        tally t = {.key_ordered = true};
        int handled = 0;
        acto_pipeline *p;
        acto_stage *src, *pool, *snk;
        assert_acto_ok(acto_pipeline_new(sys, NULL, &p));
        assert_acto_ok(acto_pipeline_source(p, count_up, &c, NULL, &src));
        acto_pool_opts po = {
            .workers = 4, .route = (acto_route)route, .key = key_mod8};
        acto_stage_opts so = {.name = "pool", .capacity = 8};
        assert_acto_ok(
            acto_pipeline_pool(p, src, &po, pass, &handled, &so, &pool));
        assert_acto_ok(acto_pipeline_sink(p, pool, add_up, &t, NULL, &snk));
        acto_future *done;
        assert_acto_ok(acto_pipeline_start(p, &done));
        acto_test_settle(env);
        assert_int_equal(acto_future_state_of(done), ACTO_FUTURE_DONE);
        assert_int_equal(t.n, 3000);
        assert_int_equal(t.sum, 3000L * 3001 / 2);
        assert_int_equal(handled, 3000);
        if (route == ACTO_ROUTE_KEY) {
            assert_true(t.key_ordered); /* same key, same worker */
        }
        acto_stage_stats st;
        assert_acto_ok(acto_pipeline_stats(p, pool, &st));
        assert_string_equal(st.name, "pool");
        assert_int_equal(st.in, 3000);
        assert_int_equal(st.out, 3000); /* its workers' */
        acto_future_release(done);
        assert_acto_ok(acto_pipeline_free(p));
    }
    acto_test_close_system(env, sys);
}

typedef struct flaky {
    int inits;
} flaky;

static int
flaky_init(void *arg, void **state)
{
    ((flaky *)arg)->inits++;
    *state = arg;
    return 0;
}

static int
fail_on_hundreds(acto_emitter *out, void *state, acto_msg *item)
{
    (void)state;
    if (acto_test_msg_int(item) % 100 == 0) {
        return ACTO_EINVAL;
    }
    return acto_emit(out, item);
}

/* Counts a trace's FAIL and RESTART events; each restart must follow the
 * failure of the item that caused it, by a supervisor. */
typedef struct restart_sink {
    int fails, restarts, unmatched;
    uint64_t last_fail;
} restart_sink;

static int
restart_write(const acto_trace_event *ev, size_t n, void *user)
{
    restart_sink *s = user;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].kind == ACTO_TRACE_FAIL) {
            s->fails++;
            s->last_fail = ev[i].msg;
        } else if (ev[i].kind == ACTO_TRACE_RESTART) {
            s->restarts++;
            s->unmatched += ev[i].cause == 0 || ev[i].cause != s->last_fail ||
                            ev[i].peer == 0;
        }
    }
    return 0;
}

static void
pool_worker_restarts_in_place_keeping_its_mailbox(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = vsys(env);
    counter c = {.next = 1, .last = 1000};
    tally t = {.key_ordered = true};
    flaky f = {0};
    acto_pipeline *p;
    acto_stage *src, *pool, *snk;
    assert_acto_ok(acto_pipeline_new(sys, NULL, &p));
    assert_acto_ok(acto_pipeline_source(p, count_up, &c, NULL, &src));
    acto_pool_opts po = {.workers = 3};
    acto_stage_opts so = {
        .on_error = ACTO_ON_ERROR_RESTART, .init = flaky_init, .capacity = 16};
    assert_acto_ok(
        acto_pipeline_pool(p, src, &po, fail_on_hundreds, &f, &so, &pool));
    assert_acto_ok(acto_pipeline_sink(p, pool, add_up, &t, NULL, &snk));
    restart_sink rs = {0};
    acto_trace_sink sink = {.write = restart_write, .user = &rs};
    assert_acto_ok(acto_trace_start(
        sys, &sink, &(acto_trace_opts){.mode = ACTO_TRACE_BLOCK}));
    acto_future *done;
    assert_acto_ok(acto_pipeline_start(p, &done));
    acto_test_settle(env);
    assert_int_equal(acto_future_state_of(done), ACTO_FUTURE_DONE);
    assert_acto_ok(acto_trace_stop(sys));
    /* The trace shows each crash and the restart it caused. */
    assert_int_equal(rs.fails, 10);
    assert_int_equal(rs.restarts, 10);
    assert_int_equal(rs.unmatched, 0);
    acto_stage_stats st;
    assert_acto_ok(acto_pipeline_stats(p, pool, &st));
    /* count in = out + quarantined, exactly */
    assert_int_equal(st.in, 1000);
    assert_int_equal(st.quarantined, 10);
    assert_int_equal(st.out, 990);
    assert_int_equal(st.restarts, 10);
    assert_int_equal(f.inits, 3 + 10);
    assert_int_equal(t.n, 990);
    acto_future_release(done);
    assert_acto_ok(acto_pipeline_free(p));
    acto_test_close_system(env, sys);
}

/* ---- merge and broadcast ---------------------------------------------- */

static void
merge_and_broadcast(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = vsys(env);
    counter a = {.next = 1, .last = 100}, b = {.next = 1001, .last = 1100};
    tally left = {0}, right = {0};
    acto_pipeline *p;
    acto_stage *sa, *sb, *m, *bc, *kl, *kr, *dup;
    assert_acto_ok(acto_pipeline_new(sys, NULL, &p));
    assert_acto_ok(acto_pipeline_source(p, count_up, &a, NULL, &sa));
    assert_acto_ok(acto_pipeline_source(p, count_up, &b, NULL, &sb));
    acto_stage *both[2] = {sa, sb};
    acto_stage *twice[2] = {sa, sa};
    assert_acto_err(acto_pipeline_merge(p, twice, 2, NULL, &dup), ACTO_EINVAL);
    assert_acto_ok(acto_pipeline_merge(p, both, 2, NULL, &m));
    assert_acto_err(acto_pipeline_merge(p, both, 2, NULL, &dup), ACTO_EBUSY);
    assert_acto_ok(acto_pipeline_broadcast(p, m, NULL, &bc));
    assert_acto_ok(acto_pipeline_sink(p, bc, add_up, &left, NULL, &kl));
    assert_acto_ok(acto_pipeline_sink(p, bc, add_up, &right, NULL, &kr));
    acto_future *done;
    assert_acto_ok(acto_pipeline_start(p, &done));
    acto_test_settle(env);
    assert_int_equal(acto_future_state_of(done), ACTO_FUTURE_DONE);
    long want = 100L * 101 / 2 + (1001L + 1100) * 100 / 2;
    assert_int_equal(left.n, 200);
    assert_int_equal(right.n, 200);
    assert_int_equal(left.sum, want);
    assert_int_equal(right.sum, want);
    acto_future_release(done);
    assert_acto_ok(acto_pipeline_free(p));
    acto_test_close_system(env, sys);
}

/* ---- inputs ----------------------------------------------------------- */

typedef struct feeder {
    acto_system *sys;
    acto_ref to;
    int n;
} feeder;

static void *
feed(void *arg)
{
    feeder *f = arg;
    for (int v = 1; v <= f->n; v++) {
        while (acto_send_threadsafe(f->sys, f->to, T_NUM, &v, sizeof(v)) ==
               ACTO_EQUEUEFULL) {
        }
    }
    while (acto_send_threadsafe(f->sys, f->to, ACTO_STREAM_EOS, NULL, 0) ==
           ACTO_EQUEUEFULL) {
    }
    return NULL;
}

static bool
done_or_failed(void *arg)
{
    return acto_future_done(arg);
}

static void
input_fed_by_another_thread(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    tally t = {0};
    acto_pipeline *p;
    acto_stage *in, *mid, *snk;
    assert_acto_ok(acto_pipeline_new(sys, NULL, &p));
    assert_acto_ok(
        acto_pipeline_input(p, &(acto_stage_opts){.capacity = 16}, &in));
    assert_acto_ok(acto_pipeline_stage(p, in, pass, NULL, NULL, &mid));
    assert_acto_ok(acto_pipeline_sink(p, mid, add_up, &t, NULL, &snk));
    assert_true(acto_ref_is_none(acto_pipeline_ref(in)));
    acto_future *done;
    assert_acto_ok(acto_pipeline_start(p, &done));
    feeder f = {sys, acto_pipeline_ref(in), 20000};
    assert_false(acto_ref_is_none(f.to));
    acto_system_set_keep_alive(sys, true);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, feed, &f), 0);
    bool ok = acto_test_run_until(&env->loop, done_or_failed, done, 20000);
    pthread_join(th, NULL);
    acto_system_set_keep_alive(sys, false);
    assert_true(ok);
    assert_int_equal(acto_future_state_of(done), ACTO_FUTURE_DONE);
    assert_int_equal(t.n, 20000);
    assert_int_equal(t.sum, 20000L * 20001 / 2);
    acto_future_release(done);
    assert_acto_ok(acto_pipeline_free(p));
    acto_test_close_system(env, sys);
}

/* ---- a queue source --------------------------------------------------- */

static void
put_num(acto_system *sys, acto_queue *q, int v)
{
    acto_msg *m;
    assert_acto_ok(acto_msg_new_bytes(sys, T_NUM, &v, sizeof(v), &m));
    assert_acto_ok(acto_queue_put_nowait(q, m));
}

static void
discard_msg(void *item, void *user)
{
    (void)user;
    acto_msg_free(item);
}

static void
queue_source_waits_and_ends_at_shutdown(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = vsys(env);
    acto_queue *q;
    acto_queue_opts qo = {.discard = discard_msg};
    assert_acto_ok(acto_queue_alloc(&env->loop, &qo, &q));
    put_num(sys, q, 1);
    put_num(sys, q, 2);
    tally t = {0};
    acto_pipeline *p;
    acto_stage *src, *snk;
    assert_acto_ok(acto_pipeline_new(sys, NULL, &p));
    assert_acto_ok(acto_pipeline_source_queue(p, q, NULL, &src));
    assert_acto_ok(acto_pipeline_sink(p, src, add_up, &t, NULL, &snk));
    acto_future *done;
    assert_acto_ok(acto_pipeline_start(p, &done));
    acto_test_settle(env);
    assert_int_equal(t.n, 2);
    assert_false(acto_future_done(done)); /* waiting on the empty queue */
    put_num(sys, q, 3);
    acto_test_settle(env);
    assert_int_equal(t.n, 3);
    put_num(sys, q, 4);
    assert_acto_ok(acto_queue_shutdown(q, false));
    finish(env, p, done);
    assert_int_equal(t.n, 4);
    assert_int_equal(t.sum, 10);
    bool closed = false;
    assert_acto_ok(acto_queue_close(q, NULL, NULL));
    (void)closed;
    acto_test_close_system(env, sys);
}

static void
queue_source_cancelled_while_waiting(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = vsys(env);
    acto_queue *q;
    acto_queue_opts qo = {.discard = discard_msg};
    assert_acto_ok(acto_queue_alloc(&env->loop, &qo, &q));
    tally t = {0};
    acto_pipeline *p;
    acto_stage *src, *snk;
    assert_acto_ok(acto_pipeline_new(sys, NULL, &p));
    assert_acto_ok(acto_pipeline_source_queue(p, q, NULL, &src));
    assert_acto_ok(acto_pipeline_sink(p, src, add_up, &t, NULL, &snk));
    acto_future *done;
    assert_acto_ok(acto_pipeline_start(p, &done));
    acto_test_settle(env);
    assert_acto_ok(acto_pipeline_cancel(p));
    acto_test_settle(env);
    assert_int_equal(acto_future_state_of(done), ACTO_FUTURE_CANCELLED);
    acto_future_release(done);
    assert_acto_ok(acto_pipeline_free(p));
    put_num(sys, q, 5); /* the queue lives on, its get was cancelled */
    assert_acto_ok(acto_queue_close(q, NULL, NULL));
    acto_test_close_system(env, sys);
}

/* ---- cancelling at every point ---------------------------------------- */

static int fini_count;

static void
count_fini(void *state)
{
    (void)state;
    fini_count++;
}

static int
batch_sink(acto_emitter *out, void *state, const acto_msg *item)
{
    (void)out;
    const acto_pipe_batch *b = acto_pipe_batch_of(item);
    *(int *)state += b != NULL ? (int)b->n : 0;
    return 0;
}

static void
cancel_at_every_point(void **state)
{
    acto_test_env *env = *state;
    int cancelled = 0;
    for (int k = 0; k < 40; k++) {
        acto_system *sys = acto_test_system(env, NULL);
        acto_cancel_mode mode = (acto_cancel_mode)(k % 2);
        /* More than the loop iterations below can move: cancelled midway
         * (the scheduler gives the loop back every millisecond). */
        counter c = {.next = 1, .last = 1000000};
        int got = 0;
        fini_count = 0;
        acto_pipeline *p;
        acto_stage *src, *pool, *bat, *snk;
        acto_pipeline_opts po = {.cancel = mode};
        acto_stage_opts fo = {.fini = count_fini, .capacity = 8};
        assert_acto_ok(acto_pipeline_new(sys, &po, &p));
        assert_acto_ok(acto_pipeline_source(p, count_up, &c, &fo, &src));
        acto_pool_opts pl = {.workers = 3};
        assert_acto_ok(acto_pipeline_pool(p, src, &pl, pass, NULL, &fo, &pool));
        assert_acto_ok(acto_pipeline_batch(p, pool, 5, 0, &fo, &bat));
        assert_acto_ok(acto_pipeline_sink(p, bat, batch_sink, &got, &fo, &snk));
        acto_future *done;
        assert_acto_ok(acto_pipeline_start(p, &done));
        for (int i = 0; i < k / 2; i++) {
            acto_test_run_once(&env->loop);
        }
        int rc = acto_pipeline_cancel(p);
        acto_test_settle(env);
        acto_future_state fs = acto_future_state_of(done);
        if (rc == ACTO_EALREADY) {
            assert_int_equal(fs, ACTO_FUTURE_DONE); /* finished first */
        } else {
            assert_acto_ok(rc);
            assert_int_equal(fs, ACTO_FUTURE_CANCELLED);
            cancelled++;
        }
        assert_int_equal(fini_count, 1 + 3 + 1 + 1); /* every stage's */
        acto_stage_stats s_src, s_snk;
        assert_acto_ok(acto_pipeline_stats(p, src, &s_src));
        assert_acto_ok(acto_pipeline_stats(p, snk, &s_snk));
        assert_true((uint64_t)got <= s_src.out);
        /* The sink handled or dropped every batch sent to it. */
        acto_stage_stats s_bat;
        assert_acto_ok(acto_pipeline_stats(p, bat, &s_bat));
        assert_true(s_snk.in + s_snk.dropped <= s_bat.out);
        if (mode == ACTO_CANCEL_DRAIN || rc == ACTO_EALREADY) {
            assert_int_equal(got, (int)s_src.out); /* all arrived */
        }
        acto_future_release(done);
        assert_acto_ok(acto_pipeline_free(p));
        acto_test_assert_stats_balance(sys);
        acto_test_close_system(env, sys);
        assert_no_leaks();
    }
    assert_int_equal(cancelled, 40);
}

/* ---- a pool's supervisor ---------------------------------------------- */

static bool
half_way(void *arg)
{
    return ((tally *)arg)->n >= 1000;
}

/* A pipeline of 20,000 counted items through a pool of two workers with
 * mailboxes of 16, run until half of them reached the sink. */
typedef struct half_run {
    counter c;
    tally t;
    acto_pipeline *p;
    acto_stage *pool, *snk;
    acto_future *done;
} half_run;

static void
run_half(acto_test_env *env, acto_system *sys, const acto_pool_opts *po,
         half_run *h)
{
    h->c = (counter){.next = 1, .last = 20000};
    h->t = (tally){.key_ordered = true};
    acto_stage *src;
    acto_stage_opts so = {.capacity = 16};
    assert_acto_ok(acto_pipeline_new(sys, NULL, &h->p));
    assert_acto_ok(acto_pipeline_source(h->p, count_up, &h->c, NULL, &src));
    assert_acto_ok(
        acto_pipeline_pool(h->p, src, po, pass, NULL, &so, &h->pool));
    assert_acto_ok(
        acto_pipeline_sink(h->p, h->pool, add_up, &h->t, NULL, &h->snk));
    assert_acto_ok(acto_pipeline_start(h->p, &h->done));
    assert_true(acto_test_run_until(&env->loop, half_way, &h->t, 5000));
}

/* end_half runs h to its end: done, with restarts restarts of the pool's
 * workers and every item either at the sink or dropped with a killed
 * worker's mailbox. Returns how many were dropped. */
static uint64_t
end_half(acto_test_env *env, acto_system *sys, half_run *h, uint64_t restarts)
{
    acto_test_settle(env);
    assert_int_equal(acto_future_state_of(h->done), ACTO_FUTURE_DONE);
    acto_stage_stats st;
    assert_acto_ok(acto_pipeline_stats(h->p, h->pool, &st));
    assert_int_equal(st.restarts, restarts);
    assert_int_equal((uint64_t)h->t.n + st.dropped, 20000);
    acto_future_release(h->done);
    assert_acto_ok(acto_pipeline_free(h->p));
    acto_test_close_system(env, sys);
    return st.dropped;
}

static void
pool_worker_killed_is_restarted_by_its_supervisor(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    half_run h;
    acto_pool_opts po = {.workers = 2};
    run_half(env, sys, &po, &h);
    acto_ref w0 = acto_pipeline_worker(h.pool, 0);
    assert_false(acto_ref_is_none(w0));
    assert_true(acto_ref_is_none(acto_pipeline_worker(h.pool, 2)));
    assert_true(acto_ref_is_none(acto_pipeline_worker(h.snk, 0)));
    assert_acto_ok(acto_kill(sys, w0));
    uint64_t dropped = end_half(env, sys, &h, 1);
    /* Only what waited in the killed worker's mailbox was lost. */
    if (dropped > 16 + 1) {
        fail_msg("%llu dropped", (unsigned long long)dropped);
    }
}

static uint64_t
same_key(const acto_msg *item, void *user)
{
    (void)item;
    (void)user;
    return 7;
}

/* A source feeding a key-routed pool is asked for more by the workers it
 * fed. Here all its items go to one worker: killed, it loses its mailbox
 * and could not ask, so the worker its supervisor restarts asks instead,
 * and the pipeline goes on to the end. */
static void
pool_worker_killed_while_its_source_waits_for_it(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    half_run h;
    acto_pool_opts po = {
        .workers = 2, .route = ACTO_ROUTE_KEY, .key = same_key};
    run_half(env, sys, &po, &h);
    /* Both: the one with the items, whichever the key hashes to. */
    assert_acto_ok(acto_kill(sys, acto_pipeline_worker(h.pool, 0)));
    assert_acto_ok(acto_kill(sys, acto_pipeline_worker(h.pool, 1)));
    (void)end_half(env, sys, &h, 2);
    assert_true(h.t.key_ordered);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(pool_routes_every_way_and_loses_nothing),
        acto_unit_test(pool_worker_restarts_in_place_keeping_its_mailbox),
        acto_unit_test(merge_and_broadcast),
        acto_unit_test(input_fed_by_another_thread),
        acto_unit_test(queue_source_waits_and_ends_at_shutdown),
        acto_unit_test(queue_source_cancelled_while_waiting),
        acto_unit_test(cancel_at_every_point),
        acto_unit_test(pool_worker_killed_is_restarted_by_its_supervisor),
        acto_unit_test(pool_worker_killed_while_its_source_waits_for_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
