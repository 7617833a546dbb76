/* Pipelines: source, stages (map, filter, flat_map), batch and sink; end
 * of stream and join semantics; backpressure; every error policy; cancel
 * (drop and drain); the builder's errors; allocation failure. All on the
 * virtual clock. */
#include "pipe_world.h"

#include <acto/pipeline.h>
#include <string.h>

enum { T_NUM = 1, T_WORD };

/* ---- building blocks -------------------------------------------------- */

typedef struct counter {
    int next, last; /* the source produces next..last */
    int pulls;
    int consumed_seen; /* set by the sink: for the backpressure bound */
} counter;

static int
count_up(acto_emitter *out, void *state)
{
    counter *c = state;
    c->pulls++;
    if (c->next > c->last) {
        return ACTO_PIPE_END;
    }
    int v = c->next++;
    int rc = acto_emit_bytes(out, T_NUM, &v, sizeof(v));
    return rc != 0 ? rc : 0;
}

/* Doubles the item in place and passes the same message on. */
static int
double_it(acto_emitter *out, void *state, acto_msg *item)
{
    (void)state;
    size_t len;
    int *v = acto_msg_data_mut(item, &len);
    *v *= 2;
    return acto_emit(out, item);
}

/* Keeps multiples of 4 (a filter: items not emitted are freed). */
static int
keep_fours(acto_emitter *out, void *state, acto_msg *item)
{
    (void)state;
    return item_int(item) % 4 == 0 ? acto_emit(out, item) : 0;
}

typedef struct tally {
    long sum;
    int n, last;
    bool ordered;
    counter *src; /* for the backpressure bound */
    int max_gap;
    bool fini_ran;
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
    t->last = v;
    t->sum += v;
    t->n++;
    if (t->src != NULL) {
        int gap = (t->src->next - 1) - t->n; /* produced, not yet here */
        if (gap > t->max_gap) {
            t->max_gap = gap;
        }
    }
    return 0;
}

static void
tally_fini(void *state)
{
    ((tally *)state)->fini_ran = true;
}

static acto_system *
vsys(acto_test_env *env)
{
    return acto_test_system(env, &(acto_system_opts){.virtual_time = true});
}

/* run_done runs the loop until f is done; returns its state. */
static acto_future_state
run_done(acto_test_env *env, acto_future *f)
{
    acto_test_settle(env);
    return acto_future_state_of(f);
}

/* ---- the straight path ------------------------------------------------ */

static void
pipeline_maps_filters_and_sinks_in_order(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = vsys(env);
    counter c = {.next = 1, .last = 1000};
    tally t = {.ordered = true};
    acto_pipeline *p;
    acto_stage *src, *dbl, *flt, *snk;
    assert_acto_ok(acto_pipeline_new(sys, NULL, &p));
    assert_acto_ok(acto_pipeline_source(p, count_up, &c, NULL, &src));
    assert_acto_ok(acto_pipeline_stage(
        p, src, double_it, NULL, &(acto_stage_opts){.name = "double"}, &dbl));
    assert_acto_ok(acto_pipeline_stage(p, dbl, keep_fours, NULL, NULL, &flt));
    acto_stage_opts so = {.name = "sum", .fini = tally_fini};
    assert_acto_ok(acto_pipeline_sink(p, flt, add_up, &t, &so, &snk));
    acto_future *done;
    assert_acto_ok(acto_pipeline_start(p, &done));
    assert_int_equal(run_done(env, done), ACTO_FUTURE_DONE);
    /* 2, 4, ..., 2000 filtered to multiples of 4: 4, 8, ..., 2000. */
    assert_int_equal(t.n, 500);
    assert_int_equal(t.sum, 4L * 500 * 501 / 2);
    assert_true(t.ordered);
    assert_true(t.fini_ran); /* the sink's fini ran before done */
    acto_stage_stats st;
    assert_acto_ok(acto_pipeline_stats(p, src, &st));
    assert_int_equal(st.out, 1000);
    assert_acto_ok(acto_pipeline_stats(p, dbl, &st));
    assert_string_equal(st.name, "double");
    assert_int_equal(st.in, 1000);
    assert_int_equal(st.out, 1000);
    assert_acto_ok(acto_pipeline_stats(p, flt, &st));
    assert_int_equal(st.in, 1000);
    assert_int_equal(st.out, 500);
    assert_acto_ok(acto_pipeline_stats(p, snk, &st));
    assert_int_equal(st.in, 500);
    assert_int_equal(st.dropped, 0);
    acto_future_release(done);
    assert_acto_ok(acto_pipeline_free(p));
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
}

static void
pipeline_flat_map_and_empty_source(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = vsys(env);
    for (int last = 0; last <= 5; last += 5) {
        counter c = {.next = 1, .last = last};
        tally t = {.ordered = true};
        acto_pipeline *p;
        acto_stage *src, *tri, *snk;
        assert_acto_ok(acto_pipeline_new(sys, NULL, &p));
        assert_acto_ok(acto_pipeline_source(p, count_up, &c, NULL, &src));
        assert_acto_ok(acto_pipeline_stage(p, src, triple, NULL, NULL, &tri));
        assert_acto_ok(acto_pipeline_sink(p, tri, add_up, &t, NULL, &snk));
        acto_future *done;
        assert_acto_ok(acto_pipeline_start(p, &done));
        assert_int_equal(run_done(env, done), ACTO_FUTURE_DONE);
        assert_int_equal(t.n, 3 * last);
        assert_int_equal(t.sum, 3L * last * (last + 1) / 2);
        assert_true(t.ordered);
        acto_future_release(done);
        assert_acto_ok(acto_pipeline_free(p));
    }
    acto_test_close_system(env, sys);
}

/* A sink that handles one item per turn at most, behind small mailboxes:
 * the source may never run ahead of it by more than the mailboxes hold. */
static void
pipeline_backpressure_bounds_what_is_in_flight(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = vsys(env);
    counter c = {.next = 1, .last = 20000};
    tally t = {.ordered = true, .src = &c};
    acto_pipeline *p;
    acto_stage *src, *dbl, *snk;
    acto_stage_opts small = {.capacity = 4};
    assert_acto_ok(acto_pipeline_new(sys, NULL, &p));
    assert_acto_ok(acto_pipeline_source(p, count_up, &c, &small, &src));
    assert_acto_ok(acto_pipeline_stage(p, src, double_it, NULL, &small, &dbl));
    assert_acto_ok(acto_pipeline_sink(p, dbl, add_up, &t, &small, &snk));
    acto_future *done;
    assert_acto_ok(acto_pipeline_start(p, &done));
    assert_int_equal(run_done(env, done), ACTO_FUTURE_DONE);
    assert_int_equal(t.n, 20000);
    /* Two mailboxes of 4, one item parked per sender, one in hand. */
    assert_true(t.max_gap <= 2 * 4 + 2 + 1);
    acto_future_release(done);
    assert_acto_ok(acto_pipeline_free(p));
    acto_test_close_system(env, sys);
}

/* ---- error policies --------------------------------------------------- */

/* Fails on multiples of 10; with fail_times > 0 only that many times per
 * item (then succeeds), for retries. */
typedef struct picky {
    int fail_times;
    int tries[1001];
    int inits, finis;
    int generation; /* bumped by each init */
} picky;

static int
picky_fn(acto_emitter *out, void *state, acto_msg *item)
{
    picky *k = state;
    int v = item_int(item);
    if (v % 10 == 0 && (k->fail_times == 0 || k->tries[v]++ < k->fail_times)) {
        return acto_stage_fail(out, ACTO_EINVAL, "Picky", "no %d", v);
    }
    return acto_emit(out, item);
}

static int
picky_init(void *arg, void **state)
{
    picky *k = arg;
    k->inits++;
    k->generation++;
    *state = k;
    return 0;
}

static void
picky_fini(void *state)
{
    ((picky *)state)->finis++;
}

typedef struct seen {
    int n;
    int items[8];
    char stage[16], type[16];
    acto_on_error action;
} seen;

static void
on_pipe_error(const acto_pipe_error *e, void *user)
{
    seen *s = user;
    if (s->n < 8) {
        s->items[s->n] = e->error->msg != NULL ? item_int(e->error->msg) : -1;
    }
    s->n++;
    snprintf(s->stage, sizeof(s->stage), "%s", e->stage);
    snprintf(s->type, sizeof(s->type), "%s", e->error->type);
    s->action = e->action;
}

/* policy_run runs 1..100 through a picky stage with opts; returns done's
 * state and fills t and the picky stage's stats. */
static acto_future_state
policy_run(acto_test_env *env, acto_system *sys, picky *k,
           const acto_stage_opts *opts, seen *s, tally *t, acto_stage_stats *st,
           acto_future **keep)
{
    counter c = {.next = 1, .last = 100};
    acto_pipeline *p;
    acto_stage *src, *mid, *snk;
    acto_pipeline_opts po = {.on_error = on_pipe_error, .user = s};
    assert_acto_ok(acto_pipeline_new(sys, &po, &p));
    assert_acto_ok(acto_pipeline_source(p, count_up, &c, NULL, &src));
    assert_acto_ok(acto_pipeline_stage(p, src, picky_fn, k, opts, &mid));
    assert_acto_ok(acto_pipeline_sink(p, mid, add_up, t, NULL, &snk));
    acto_future *done;
    assert_acto_ok(acto_pipeline_start(p, &done));
    acto_future_state fs = run_done(env, done);
    for (int i = 0; i < 20 && fs == ACTO_FUTURE_PENDING; i++) {
        assert_acto_ok(acto_system_advance(sys, 1000)); /* retries wait */
        fs = run_done(env, done);
    }
    assert_acto_ok(acto_pipeline_stats(p, mid, st));
    acto_stage_stats sk;
    assert_acto_ok(acto_pipeline_stats(p, snk, &sk));
    /* Nothing unaccounted for: in = out + skipped + quarantined + failed
     * + dropped, at the picky stage and at the sink. */
    assert_int_equal(st->in,
                     st->out + st->skipped + st->quarantined + st->failed);
    assert_int_equal(st->out, sk.in + sk.dropped);
    if (keep != NULL) {
        *keep = done;
    } else {
        acto_future_release(done);
    }
    assert_acto_ok(acto_pipeline_free(p));
    return fs;
}

static void
pipeline_skip_counts_and_reports(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = vsys(env);
    picky k = {0};
    seen s = {0};
    tally t = {.ordered = true};
    acto_stage_stats st;
    acto_stage_opts o = {.name = "picky", .on_error = ACTO_ON_ERROR_SKIP};
    assert_int_equal(policy_run(env, sys, &k, &o, &s, &t, &st, NULL),
                     ACTO_FUTURE_DONE);
    assert_int_equal(st.skipped, 10);
    assert_int_equal(t.n, 90);
    assert_int_equal(s.n, 10);
    assert_int_equal(s.items[0], 10);
    assert_string_equal(s.stage, "picky");
    assert_string_equal(s.type, "Picky");
    assert_int_equal(s.action, ACTO_ON_ERROR_SKIP);
    acto_test_close_system(env, sys);
}

static void
pipeline_retry_keeps_order_and_succeeds(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = vsys(env);
    picky k = {.fail_times = 2};
    seen s = {0};
    tally t = {.ordered = true};
    acto_stage_stats st;
    acto_stage_opts o = {
        .on_error = ACTO_ON_ERROR_RETRY, .retries = 3, .retry_backoff_ms = 5};
    assert_int_equal(policy_run(env, sys, &k, &o, &s, &t, &st, NULL),
                     ACTO_FUTURE_DONE);
    assert_int_equal(t.n, 100);
    assert_true(t.ordered); /* nothing overtook a retried item */
    assert_int_equal(st.retried, 20);
    assert_int_equal(s.n, 0);
    acto_test_close_system(env, sys);
}

static void
pipeline_retry_exhausted_fails_the_pipeline(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = vsys(env);
    picky k = {.fail_times = 0, .inits = 0};
    seen s = {0};
    tally t = {.ordered = true};
    acto_stage_stats st;
    acto_stage_opts o = {.name = "picky",
                         .on_error = ACTO_ON_ERROR_RETRY,
                         .retries = 2,
                         .retry_backoff_ms = 5};
    acto_future *done;
    assert_int_equal(policy_run(env, sys, &k, &o, &s, &t, &st, &done),
                     ACTO_FUTURE_FAILED);
    assert_int_equal(st.retried, 2);
    assert_int_equal(st.failed, 1);
    const acto_error *e = acto_future_exception(done);
    assert_non_null(e);
    assert_string_equal(e->type, "Picky");
    assert_non_null(strstr(e->text, "stage 'picky': no 10"));
    assert_int_equal(t.n, 9); /* 1..9 made it */
    acto_future_release(done);
    acto_test_close_system(env, sys);
}

static void
pipeline_restart_quarantines_and_loses_nothing(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = vsys(env);
    picky k = {0};
    seen s = {0};
    tally t = {.ordered = true};
    acto_stage_stats st;
    acto_stage_opts o = {.on_error = ACTO_ON_ERROR_RESTART,
                         .init = picky_init,
                         .fini = picky_fini};
    assert_int_equal(policy_run(env, sys, &k, &o, &s, &t, &st, NULL),
                     ACTO_FUTURE_DONE);
    assert_int_equal(st.quarantined, 10);
    assert_int_equal(st.restarts, 10);
    assert_int_equal(k.inits, 11); /* start, then each restart */
    assert_int_equal(k.finis, 11); /* each restart, then the stop */
    assert_int_equal(t.n, 90);     /* every other item went through */
    assert_int_equal(s.action, ACTO_ON_ERROR_RESTART);
    acto_test_close_system(env, sys);
}

static void
pipeline_fail_stops_every_stage(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = vsys(env);
    picky k = {0};
    seen s = {0};
    tally t = {.ordered = true};
    acto_stage_stats st;
    acto_stage_opts o = {.fini = picky_fini};
    acto_future *done;
    assert_int_equal(policy_run(env, sys, &k, &o, &s, &t, &st, &done),
                     ACTO_FUTURE_FAILED);
    assert_int_equal(st.failed, 1);
    assert_int_equal(k.finis, 1);
    assert_int_equal(acto_future_exception(done)->code, ACTO_EINVAL);
    acto_future_release(done);
    acto_test_close_system(env, sys);
}

/* ---- batches ---------------------------------------------------------- */

typedef struct batches {
    int n;
    int sizes[16];
    int sum;
} batches;

static int
take_batch(acto_emitter *out, void *state, const acto_msg *item)
{
    (void)out;
    batches *b = state;
    const acto_pipe_batch *pb = acto_pipe_batch_of(item);
    assert_non_null(pb);
    if (b->n < 16) {
        b->sizes[b->n] = (int)pb->n;
    }
    b->n++;
    for (size_t i = 0; i < pb->n; i++) {
        b->sum += item_int(pb->items[i]);
    }
    return 0;
}

static void
pipeline_batches_by_count_and_by_window(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = vsys(env);
    counter c = {.next = 1, .last = 10};
    batches b = {0};
    acto_pipeline *p;
    acto_stage *src, *bat, *snk;
    assert_acto_ok(acto_pipeline_new(sys, NULL, &p));
    assert_acto_ok(acto_pipeline_source(p, count_up, &c, NULL, &src));
    assert_acto_ok(acto_pipeline_batch(p, src, 3, 0, NULL, &bat));
    assert_acto_ok(acto_pipeline_sink(p, bat, take_batch, &b, NULL, &snk));
    acto_future *done;
    assert_acto_ok(acto_pipeline_start(p, &done));
    assert_int_equal(run_done(env, done), ACTO_FUTURE_DONE);
    assert_int_equal(b.n, 4);
    assert_int_equal(b.sizes[0], 3);
    assert_int_equal(b.sizes[3], 1); /* the rest, at the end of stream */
    assert_int_equal(b.sum, 55);
    acto_stage_stats st;
    assert_acto_ok(acto_pipeline_stats(p, bat, &st));
    assert_int_equal(st.in, 10);
    assert_int_equal(st.out, 10);
    acto_future_release(done);
    assert_acto_ok(acto_pipeline_free(p));
    assert_acto_err(acto_pipeline_batch(NULL, NULL, 0, 0, NULL, &bat),
                    ACTO_EINVAL);
    acto_test_close_system(env, sys);
}

/* A source fed by hand: it emits what the test put in `pending`. */
typedef struct manual {
    int pending[8];
    int n;
    bool end;
} manual;

static int
manual_next(acto_emitter *out, void *state)
{
    manual *m = state;
    if (m->n > 0) {
        int v = m->pending[--m->n];
        return acto_emit_bytes(out, T_NUM, &v, sizeof(v));
    }
    return m->end ? ACTO_PIPE_END : ACTO_PIPE_WAIT;
}

static void
pipeline_batch_window_flushes_on_time(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = vsys(env);
    manual m = {.pending = {2, 1}, .n = 2};
    batches b = {0};
    acto_pipeline *p;
    acto_stage *src, *bat, *snk;
    assert_acto_ok(acto_pipeline_new(sys, NULL, &p));
    assert_acto_ok(acto_pipeline_source(p, manual_next, &m, NULL, &src));
    assert_acto_ok(acto_pipeline_batch(p, src, 100, 50, NULL, &bat));
    assert_acto_ok(acto_pipeline_sink(p, bat, take_batch, &b, NULL, &snk));
    acto_future *done;
    assert_acto_ok(acto_pipeline_start(p, &done));
    acto_test_settle(env);
    assert_int_equal(b.n, 0); /* waiting for more or for the window */
    assert_acto_ok(acto_system_advance(sys, 49));
    acto_test_settle(env);
    assert_int_equal(b.n, 0);
    assert_acto_ok(acto_system_advance(sys, 1));
    acto_test_settle(env);
    assert_int_equal(b.n, 1);
    assert_int_equal(b.sizes[0], 2);
    /* More, then the end: the last group goes with the end of stream. */
    m.pending[0] = 3;
    m.n = 1;
    m.end = true;
    assert_acto_ok(acto_pipeline_wake(p));
    assert_int_equal(run_done(env, done), ACTO_FUTURE_DONE);
    assert_int_equal(b.n, 2);
    assert_int_equal(b.sizes[1], 1);
    assert_int_equal(b.sum, 6);
    acto_future_release(done);
    assert_acto_ok(acto_pipeline_free(p));
    acto_test_close_system(env, sys);
}

/* ---- cancelling ------------------------------------------------------- */

static acto_pipeline *
endless(acto_system *sys, acto_cancel_mode mode, counter *c, tally *t,
        acto_stage **src, acto_stage **snk)
{
    acto_pipeline *p;
    acto_stage *dbl;
    acto_pipeline_opts po = {.cancel = mode};
    assert_acto_ok(acto_pipeline_new(sys, &po, &p));
    assert_acto_ok(acto_pipeline_source(p, count_up, c, NULL, src));
    assert_acto_ok(acto_pipeline_stage(p, *src, double_it, NULL, NULL, &dbl));
    acto_stage_opts so = {.fini = tally_fini};
    assert_acto_ok(acto_pipeline_sink(p, dbl, add_up, t, &so, snk));
    return p;
}

static bool
some_arrived(void *arg)
{
    return ((tally *)arg)->n >= 100;
}

static void
pipeline_cancel_drop_and_drain(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = vsys(env);
    for (int mode = 0; mode < 2; mode++) {
        counter c = {.next = 1, .last = 1 << 30};
        tally t = {.ordered = true};
        acto_stage *src, *snk;
        acto_pipeline *p =
            endless(sys, (acto_cancel_mode)mode, &c, &t, &src, &snk);
        acto_future *done;
        assert_acto_ok(acto_pipeline_start(p, &done));
        assert_true(acto_test_run_until(&env->loop, some_arrived, &t, 5000));
        assert_acto_err(acto_pipeline_free(p), ACTO_EBUSY);
        assert_acto_ok(acto_pipeline_cancel(p));
        assert_acto_err(acto_pipeline_cancel(p), ACTO_EALREADY);
        assert_int_equal(run_done(env, done), ACTO_FUTURE_CANCELLED);
        assert_true(t.fini_ran);
        acto_stage_stats s_src, s_snk;
        assert_acto_ok(acto_pipeline_stats(p, src, &s_src));
        assert_acto_ok(acto_pipeline_stats(p, snk, &s_snk));
        if (mode == ACTO_CANCEL_DRAIN) {
            /* Everything produced arrived. */
            assert_int_equal(s_snk.in, s_src.out);
            assert_int_equal(s_snk.dropped, 0);
        } else {
            assert_int_equal(s_snk.in + s_snk.dropped +
                                 (s_src.out - s_snk.in - s_snk.dropped),
                             s_src.out);
        }
        assert_true(t.ordered);
        acto_future_release(done);
        assert_acto_ok(acto_pipeline_free(p));
    }
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
}

/* ---- the builder ------------------------------------------------------ */

static int
noop_stage(acto_emitter *out, void *state, acto_msg *item)
{
    (void)out;
    (void)state;
    (void)item;
    return 0;
}

static void
pipeline_builder_rejects_bad_shapes(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = vsys(env);
    counter c = {.next = 1, .last = 3};
    tally t = {0};
    acto_pipeline *p, *q;
    acto_stage *src, *a, *b, *snk, *other;
    acto_future *done;
    assert_acto_err(acto_pipeline_new(NULL, NULL, &p), ACTO_EINVAL);
    assert_acto_ok(acto_pipeline_new(sys, NULL, &p));
    assert_acto_ok(acto_pipeline_new(sys, NULL, &q));
    assert_acto_err(acto_pipeline_start(p, &done), ACTO_EINVAL); /* empty */
    assert_acto_err(acto_pipeline_stage(p, NULL, noop_stage, NULL, NULL, &a),
                    ACTO_EINVAL);
    assert_acto_err(acto_pipeline_source(p, NULL, NULL, NULL, &src),
                    ACTO_EINVAL);
    assert_acto_ok(acto_pipeline_source(p, count_up, &c, NULL, &src));
    assert_acto_ok(acto_pipeline_source(q, count_up, &c, NULL, &other));
    assert_acto_err(acto_pipeline_stage(p, other, noop_stage, NULL, NULL, &a),
                    ACTO_EINVAL); /* another pipeline's stage */
    assert_acto_err(acto_pipeline_stage(p, src, noop_stage, NULL,
                                        &(acto_stage_opts){.on_error = 9}, &a),
                    ACTO_EINVAL);
    assert_acto_ok(acto_pipeline_stage(p, src, noop_stage, NULL, NULL, &a));
    assert_acto_err(acto_pipeline_stage(p, src, noop_stage, NULL, NULL, &b),
                    ACTO_EBUSY); /* src already has a reader */
    assert_acto_err(acto_pipeline_start(p, &done), ACTO_EINVAL); /* no sink */
    assert_acto_ok(acto_pipeline_sink(p, a, add_up, &t, NULL, &snk));
    assert_acto_err(acto_pipeline_stage(p, snk, noop_stage, NULL, NULL, &b),
                    ACTO_EINVAL); /* a sink has no reader */
    assert_acto_ok(acto_pipeline_start(p, &done));
    assert_acto_err(acto_pipeline_start(p, &done), ACTO_EINVAL);
    assert_acto_err(acto_pipeline_sink(p, snk, add_up, &t, NULL, &b),
                    ACTO_EINVAL); /* built already */
    assert_int_equal(run_done(env, done), ACTO_FUTURE_DONE);
    acto_future_release(done);
    assert_acto_ok(acto_pipeline_free(p));
    assert_acto_ok(acto_pipeline_free(q)); /* never started */
    acto_test_close_system(env, sys);
}

/* ---- allocation failure ----------------------------------------------- */

static void
pipeline_survives_allocation_failure_anywhere(void **state)
{
    acto_test_env *env = *state;
    for (long nth = 1; nth < 400; nth++) {
        acto_system *sys = vsys(env);
        counter c = {.next = 1, .last = 50};
        tally t = {.ordered = true};
        acto_pipeline *p = NULL;
        acto_stage *src, *dbl, *snk;
        acto_test_alloc_fail_nth(nth);
        acto_future *done = NULL;
        int rc = acto_pipeline_new(sys, NULL, &p);
        if (rc == 0) {
            rc = acto_pipeline_source(p, count_up, &c, NULL, &src);
        }
        if (rc == 0) {
            rc = acto_pipeline_stage(p, src, double_it, NULL, NULL, &dbl);
        }
        if (rc == 0) {
            rc = acto_pipeline_sink(p, dbl, add_up, &t, NULL, &snk);
        }
        if (rc == 0) {
            rc = acto_pipeline_start(p, &done);
        }
        acto_test_settle(env);
        bool failed = acto_test_alloc_failed();
        acto_test_alloc_fail_nth(0);
        if (done != NULL) {
            acto_future_state fs = acto_future_state_of(done);
            assert_true(fs == ACTO_FUTURE_DONE || fs == ACTO_FUTURE_FAILED);
            if (fs == ACTO_FUTURE_DONE) {
                assert_int_equal(t.n, 50); /* nothing lost silently */
            } else {
                (void)acto_future_exception(done);
            }
            acto_future_release(done);
        } else {
            assert_int_not_equal(rc, 0);
        }
        if (p != NULL) {
            assert_acto_ok(acto_pipeline_free(p));
        }
        acto_test_close_system(env, sys);
        assert_no_leaks();
        if (!failed) {
            break; /* every allocation was tried */
        }
    }
}

/* ---- the end-of-stream hook ------------------------------------------- */

typedef struct pairer {
    int held;
    bool has;
} pairer;

/* Emits the sum of every two items; an odd one waits for the end. */
static int
pair_up(acto_emitter *out, void *state, acto_msg *item)
{
    pairer *pr = state;
    int v = item_int(item);
    if (!pr->has) {
        pr->held = v;
        pr->has = true;
        return 0;
    }
    pr->has = false;
    int sum = pr->held + v;
    return acto_emit_bytes(out, T_NUM, &sum, sizeof(sum));
}

static int
pair_flush(acto_emitter *out, void *state)
{
    pairer *pr = state;
    return pr->has ? acto_emit_bytes(out, T_NUM, &pr->held, sizeof(int)) : 0;
}

static void
pipeline_flush_hook_emits_what_a_stage_held(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = vsys(env);
    counter c = {.next = 1, .last = 3};
    pairer pr = {0};
    tally t = {.ordered = true};
    acto_pipeline *p;
    acto_stage *src, *pairs, *snk;
    assert_acto_ok(acto_pipeline_new(sys, NULL, &p));
    assert_acto_ok(acto_pipeline_source(p, count_up, &c, NULL, &src));
    acto_stage_opts po = {.flush = pair_flush};
    assert_acto_ok(acto_pipeline_stage(p, src, pair_up, &pr, &po, &pairs));
    assert_acto_ok(acto_pipeline_sink(p, pairs, add_up, &t, NULL, &snk));
    acto_future *done;
    assert_acto_ok(acto_pipeline_start(p, &done));
    assert_int_equal(run_done(env, done), ACTO_FUTURE_DONE);
    assert_int_equal(t.n, 2); /* 1+2, then the held 3 */
    assert_int_equal(t.sum, 6);
    assert_int_equal(t.last, 3);
    acto_future_release(done);
    assert_acto_ok(acto_pipeline_free(p));
    acto_test_close_system(env, sys);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(pipeline_maps_filters_and_sinks_in_order),
        acto_unit_test(pipeline_flat_map_and_empty_source),
        acto_unit_test(pipeline_backpressure_bounds_what_is_in_flight),
        acto_unit_test(pipeline_skip_counts_and_reports),
        acto_unit_test(pipeline_retry_keeps_order_and_succeeds),
        acto_unit_test(pipeline_retry_exhausted_fails_the_pipeline),
        acto_unit_test(pipeline_restart_quarantines_and_loses_nothing),
        acto_unit_test(pipeline_fail_stops_every_stage),
        acto_unit_test(pipeline_batches_by_count_and_by_window),
        acto_unit_test(pipeline_batch_window_flushes_on_time),
        acto_unit_test(pipeline_cancel_drop_and_drain),
        acto_unit_test(pipeline_builder_rejects_bad_shapes),
        acto_unit_test(pipeline_survives_allocation_failure_anywhere),
        acto_unit_test(pipeline_flush_hook_emits_what_a_stage_held),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
