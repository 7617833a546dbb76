/* Scenarios: the Python asyncio examples acto grew from, each written the
 * acto way (actors, futures, asks, combinators, Event, queue) on virtual
 * time, so every sleep and timeout is exact and instant.
 *
 * Most tasks are plain futures completed by a runner actor after a virtual
 * delay (asyncio.sleep followed by a return or a raise). */
#include "acto_test.h"

#include <stdio.h>
#include <string.h>

enum { T_WAKE = 1, T_GO, T_ASKED, T_DONE, T_SQUARE, T_ITEM };

/* ---- the world: a virtual-time system and its runner -------------------- */

typedef struct world {
    acto_test_env *env;
    acto_system *sys;
    acto_ref runner;
    int reports; /* errors that reached the exception handler */
} world;

/* A task: its future completes after steps * step_ms of virtual time, with
 * &value, or with an error of type fail when fail is set. */
typedef struct task {
    acto_future *f;       /* the task's outcome (the test's reference) */
    uint64_t step_ms;     /* virtual time each step takes */
    int steps;            /* steps to run; 0 counts as 1 */
    int value;            /* the result when it succeeds */
    const char *fail;     /* NULL: succeeds; else the error type it raises */
    int ran;              /* steps run so far */
    uint64_t step_at[4];  /* when each step ran */
    bool found_cancelled; /* woke up to find its future cancelled */
} task;

static void
count_report(acto_system *sys, const acto_error *err, void *user)
{
    (void)sys;
    (void)err;
    (*(int *)user)++;
}

/* schedule wakes the runner for t's next step after t->step_ms. */
static void
schedule(acto_system *sys, acto_ref runner, task *t)
{
    acto_msg *m;
    assert_acto_ok(acto_msg_new_ptr(sys, T_WAKE, t, NULL, NULL, &m));
    assert_acto_ok(acto_send_after(sys, t->step_ms, runner, m, NULL));
}

static int
runner_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)state;
    task *t = acto_msg_ptr(m);
    acto_system *sys = acto_ctx_system(ctx);
    if (acto_future_done(t->f)) {
        /* Someone cancelled the task while it slept: stop here. */
        t->found_cancelled = acto_future_cancelled(t->f);
        return 0;
    }
    t->step_at[t->ran++] = acto_system_now(sys);
    if (t->ran < (t->steps > 0 ? t->steps : 1)) {
        schedule(sys, acto_self(ctx), t);
        return 0;
    }
    if (t->fail != NULL) {
        assert_acto_ok(acto_future_set_error(t->f, ACTO_EINVAL, t->fail,
                                             "%s after %d ms", t->fail,
                                             (int)acto_system_now(sys)));
    } else {
        assert_acto_ok(acto_future_set_result(t->f, &t->value, NULL, NULL));
    }
    return 0;
}

static const acto_behaviour runner_b = {runner_receive, NULL, NULL};

/* task_begin starts t: a new future unless t->f is already set. */
static void
task_begin(acto_system *sys, acto_ref runner, task *t)
{
    if (t->f == NULL) {
        assert_acto_ok(acto_future_new(sys, &t->f));
    }
    schedule(sys, runner, t);
}

static void
task_run(world *w, task *t, uint64_t ms, int value, const char *fail)
{
    t->step_ms = ms;
    t->value = value;
    t->fail = fail;
    task_begin(w->sys, w->runner, t);
}

static void
tasks_release(task *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        acto_future_release(t[i].f);
        t[i].f = NULL;
    }
}

static void
world_open(world *w, void **state)
{
    memset(w, 0, sizeof(*w));
    w->env = *state;
    w->sys =
        acto_test_system(w->env, &(acto_system_opts){.virtual_time = true});
    acto_system_set_exception_handler(w->sys, count_report, &w->reports);
    assert_acto_ok(acto_spawn(w->sys, &runner_b, NULL, NULL, &w->runner));
}

/* world_close closes the system; no error may have gone unread. */
static void
world_close(world *w)
{
    acto_test_settle(w->env);
    assert_int_equal(w->reports, 0);
    acto_test_assert_stats_balance(w->sys);
    acto_test_close_system(w->env, w->sys);
}

static void
settle(world *w)
{
    acto_test_settle(w->env);
}

/* advance moves virtual time by ms, one millisecond at a time, handling
 * everything due at each: acto_system_advance moves the clock first and
 * fires what is due after, so a handler run by one long jump would see the
 * clock at its end rather than at its timer's due time. */
static void
advance(world *w, uint64_t ms)
{
    for (uint64_t i = 0; i < ms; i++) {
        assert_acto_ok(acto_system_advance(w->sys, 1));
        acto_test_settle(w->env);
    }
}

/* jump moves virtual time by ms at once (nothing due in between). */
static void
jump(world *w, uint64_t ms)
{
    assert_acto_ok(acto_system_advance(w->sys, ms));
    acto_test_settle(w->env);
}

static uint64_t
now(world *w)
{
    return acto_system_now(w->sys);
}

static acto_msg *
int_msg(acto_system *sys, uint32_t type, int n)
{
    acto_msg *m;
    assert_acto_ok(acto_msg_new_bytes(sys, type, &n, sizeof(n), &m));
    return m;
}

static int
int_result(acto_future *f)
{
    void *v = NULL;
    assert_acto_ok(acto_future_result(f, &v));
    return *(int *)v;
}

#define assert_state(f, s) assert_int_equal(acto_future_state_of(f), (s))

/* ---- 1. a failing coroutine caught by its awaiter ----------------------- */

typedef struct boss {
    acto_ref worker;
    acto_future *ask;
    int child_failures;
    acto_ref failed_child;
    char child_type[32];
    char child_text[64];
    uint32_t quarantined_type; /* the request the worker was handling */
    int answers;
    int answer_code;
    char answer_type[32];
    uint64_t answered_at;
} boss;

static int
worker_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)state;
    return acto_fail(ctx, ACTO_EINVAL, "ValueError", "cannot handle %d",
                     acto_test_msg_int(m));
}

static const acto_behaviour worker_b = {worker_receive, NULL, NULL};

static int
boss_start(acto_ctx *ctx, void *state)
{
    boss *b = state;
    /* Spawned from the hook: the boss is the worker's parent. */
    return acto_spawn(acto_ctx_system(ctx), &worker_b, NULL, NULL, &b->worker);
}

static int
boss_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    boss *b = state;
    acto_system *sys = acto_ctx_system(ctx);
    if (acto_msg_type(m) == T_GO) {
        assert_acto_ok(
            acto_ask(sys, b->worker, int_msg(sys, T_ASKED, 7), 1000, &b->ask));
        assert_acto_ok(acto_future_notify(ctx, b->ask, T_DONE));
    } else if (acto_msg_type(m) == T_DONE) {
        acto_future *f = acto_msg_future(m);
        b->answers++;
        b->answered_at = acto_system_now(sys);
        b->answer_code = acto_future_result(f, NULL);
        const acto_error *e = acto_future_exception(f);
        snprintf(b->answer_type, sizeof(b->answer_type), "%s",
                 e != NULL ? e->type : "");
        acto_future_release(b->ask);
        b->ask = NULL;
    } else if (acto_msg_type(m) == ACTO_MSG_CHILD_FAILED) {
        const acto_error *e = acto_msg_error(m);
        b->child_failures++;
        b->failed_child = acto_msg_sender(m);
        snprintf(b->child_type, sizeof(b->child_type), "%s", e->type);
        snprintf(b->child_text, sizeof(b->child_text), "%s", e->text);
        b->quarantined_type = e->msg != NULL ? acto_msg_type(e->msg) : 0;
    }
    return 0;
}

static void
boss_stop(acto_ctx *ctx, void *state, const acto_exit_reason *reason)
{
    (void)ctx;
    (void)reason;
    boss *b = state;
    acto_future_release(b->ask); /* still pending only if nobody answered */
    b->ask = NULL;
}

static const acto_behaviour boss_b = {boss_receive, boss_start, boss_stop};

static void
test_scenario_an_asker_sees_its_failed_workers_error_and_the_parent_is_told(
    void **state)
{
    world w;
    world_open(&w, state);
    boss b = {0};
    acto_ref ref;
    assert_acto_ok(acto_spawn(w.sys, &boss_b, &b, NULL, &ref));
    assert_acto_ok(acto_test_send_int(w.sys, ref, T_GO, 0));
    settle(&w);
    /* The parent hears of the failure as an exception message. */
    assert_int_equal(b.child_failures, 1);
    assert_true(acto_ref_eq(b.failed_child, b.worker));
    assert_string_equal(b.child_type, "ValueError");
    assert_string_equal(b.child_text, "cannot handle 7");
    assert_int_equal(b.quarantined_type, T_ASKED);
    assert_false(acto_alive(w.sys, b.worker));
    assert_true(acto_alive(w.sys, ref)); /* the boss carries on */
    int answers = b.answers;
    world_close(&w); /* checked after, so a failure leaves nothing open */
    /* The asker is told at once, without waiting for its ask's 1000 ms
     * timeout, and sees the worker's own error, as awaiting a task that
     * raised gives its exception. */
    if (answers == 0) {
        fail_msg("the ask was still pending at t=0 after its worker failed "
                 "(it would only have ended at its 1000 ms timeout)");
    }
    assert_int_equal(b.answers, 1);
    assert_int_equal(b.answered_at, 0);
    assert_acto_err(b.answer_code, ACTO_EINVAL);
    assert_string_equal(b.answer_type, "ValueError");
    assert_null(b.ask);
}

/* ---- 2. wait FIRST_EXCEPTION: a long and a short task ------------------- */

static bool
holds(const acto_future *const *set, size_t n, const acto_future *f)
{
    for (size_t i = 0; i < n; i++) {
        if (set[i] == f) {
            return true;
        }
    }
    return false;
}

static void
test_scenario_wait_first_exception_returns_the_failed_short_task_as_done(
    void **state)
{
    world w;
    world_open(&w, state);
    task t[2] = {{0}};
    task_run(&w, &t[0], 100, 1, NULL);          /* long */
    task_run(&w, &t[1], 10, 0, "RuntimeError"); /* short, fails */
    acto_future *members[2] = {t[0].f, t[1].f};
    acto_future *out;
    assert_acto_ok(
        acto_wait(w.sys, members, 2, ACTO_WAIT_FIRST_EXCEPTION, 0, &out));
    advance(&w, 9);
    assert_state(out, ACTO_FUTURE_PENDING);
    advance(&w, 1);
    assert_state(out, ACTO_FUTURE_DONE);
    acto_wait_result *r = NULL;
    assert_acto_ok(acto_future_result(out, (void **)&r));
    assert_int_equal(r->n_done, 1);
    assert_ptr_equal(r->done[0], t[1].f);
    assert_int_equal(r->n_pending, 1);
    assert_ptr_equal(r->pending[0], t[0].f);
    assert_false(holds((const acto_future *const *)r->done, r->n_done, t[0].f));
    /* Inspect each done member: the short one raised. */
    assert_acto_err(acto_future_result(r->done[0], NULL), ACTO_EINVAL);
    const acto_error *e = acto_future_exception(r->done[0]);
    assert_string_equal(e->type, "RuntimeError");
    assert_string_equal(e->text, "RuntimeError after 10 ms");
    /* wait cancels nothing: the long one finishes on its own time. */
    assert_state(t[0].f, ACTO_FUTURE_PENDING);
    advance(&w, 90);
    assert_int_equal(int_result(t[0].f), 1);
    assert_int_equal(t[0].step_at[0], 100);
    acto_future_release(out);
    tasks_release(t, 2);
    world_close(&w);
}

/* ---- 3. cancelling a sleeping task ------------------------------------- */

typedef struct sleeper {
    acto_future *f;
    uint64_t timer;
    int woke;
    int saw_cancel;
    char cancel_msg[32];
    uint64_t saw_at;
    int timer_cancel_rc;
} sleeper;

static int
sleeper_start(acto_ctx *ctx, void *state)
{
    sleeper *s = state;
    acto_system *sys = acto_ctx_system(ctx);
    acto_msg *m;
    assert_acto_ok(acto_msg_new_bytes(sys, T_WAKE, NULL, 0, &m));
    /* Sleeps an hour, but hears at once if its future is cancelled. */
    assert_acto_ok(acto_send_after(sys, 3600000, acto_self(ctx), m, &s->timer));
    return acto_future_notify(ctx, s->f, T_DONE);
}

static int
sleeper_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    sleeper *s = state;
    acto_system *sys = acto_ctx_system(ctx);
    if (acto_msg_type(m) == T_WAKE) {
        s->woke++;
        return acto_future_set_result(s->f, NULL, NULL, NULL);
    }
    acto_future *f = acto_msg_future(m);
    if (acto_future_cancelled(f)) {
        s->saw_cancel++;
        s->saw_at = acto_system_now(sys);
        snprintf(s->cancel_msg, sizeof(s->cancel_msg), "%s",
                 acto_future_cancel_message(f));
        s->timer_cancel_rc = acto_timer_cancel(sys, s->timer);
    }
    return 0;
}

static const acto_behaviour sleeper_b = {sleeper_receive, sleeper_start, NULL};

static void
test_scenario_a_cancelled_sleeper_sees_the_cancellation_and_never_wakes(
    void **state)
{
    world w;
    world_open(&w, state);
    sleeper s = {0};
    assert_acto_ok(acto_future_new(w.sys, &s.f));
    acto_ref ref;
    assert_acto_ok(acto_spawn(w.sys, &sleeper_b, &s, NULL, &ref));
    advance(&w, 1000);
    assert_state(s.f, ACTO_FUTURE_PENDING);
    assert_acto_ok(acto_future_cancel(s.f, "stop sleeping"));
    settle(&w);
    assert_int_equal(s.saw_cancel, 1);
    assert_int_equal(s.saw_at, 1000);
    assert_string_equal(s.cancel_msg, "stop sleeping");
    assert_acto_ok(s.timer_cancel_rc);
    /* The awaiter sees CancelledError. */
    assert_acto_err(acto_future_result(s.f, NULL), ACTO_ECANCELED);
    jump(&w, 3600000);
    assert_int_equal(s.woke, 0);
    assert_int_equal(s.saw_cancel, 1);
    acto_future_release(s.f);
    world_close(&w);
}

/* ---- 4. a chained workflow ending in an Event -------------------------- */

typedef struct workflow {
    acto_ref runner;
    acto_ref calc;
    task task1;
    acto_event *ev;
    acto_future *chain;
    int task2_arg;
    uint64_t task2_started_at;
    int result;
    uint64_t set_at;
} workflow;

static int
calc_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)state;
    int n = acto_test_msg_int(m);
    n *= n;
    return acto_reply(ctx, T_SQUARE, &n, sizeof(n));
}

static const acto_behaviour calc_b = {calc_receive, NULL, NULL};

/* start_task2 runs once task1 is done and starts task2 with its result. */
static acto_future *
start_task2(acto_ctx *ctx, void *state, acto_future *prev, void *user)
{
    (void)user;
    workflow *fl = state;
    acto_system *sys = acto_ctx_system(ctx);
    fl->task2_arg = int_result(prev);
    fl->task2_started_at = acto_system_now(sys);
    acto_future *task2;
    assert_acto_ok(acto_ask(sys, fl->calc,
                            int_msg(sys, T_SQUARE, fl->task2_arg), 0, &task2));
    return task2;
}

static int
workflow_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    workflow *fl = state;
    acto_system *sys = acto_ctx_system(ctx);
    if (acto_msg_type(m) == T_GO) {
        fl->task1.step_ms = 20;
        fl->task1.value = 7;
        task_begin(sys, fl->runner, &fl->task1);
        assert_acto_ok(
            acto_future_then(ctx, fl->task1.f, start_task2, NULL, &fl->chain));
        assert_acto_ok(acto_future_notify(ctx, fl->chain, T_DONE));
    } else if (acto_msg_type(m) == T_DONE) {
        void *reply = NULL;
        assert_acto_ok(acto_future_result(acto_msg_future(m), &reply));
        fl->result = acto_test_msg_int(reply);
        fl->set_at = acto_system_now(sys);
        acto_event_set(fl->ev);
    }
    return 0;
}

static const acto_behaviour workflow_b = {workflow_receive, NULL, NULL};

static void
test_scenario_a_chained_workflow_sets_the_event_the_main_flow_waits_on(
    void **state)
{
    world w;
    world_open(&w, state);
    workflow fl = {.runner = w.runner};
    assert_acto_ok(acto_event_new(w.sys, &fl.ev));
    assert_acto_ok(acto_spawn(w.sys, &calc_b, NULL, NULL, &fl.calc));
    acto_ref ref;
    assert_acto_ok(acto_spawn(w.sys, &workflow_b, &fl, NULL, &ref));
    acto_future *waited;
    assert_acto_ok(acto_event_wait(fl.ev, &waited));
    assert_acto_ok(acto_test_send_int(w.sys, ref, T_GO, 0));
    settle(&w); /* task1 starts at t=0 */
    advance(&w, 19);
    assert_state(waited, ACTO_FUTURE_PENDING);
    assert_false(acto_event_is_set(fl.ev));
    assert_int_equal(fl.task2_arg, 0); /* task2 waits for task1 */
    advance(&w, 1);
    assert_state(waited, ACTO_FUTURE_DONE);
    assert_true(acto_event_is_set(fl.ev));
    assert_int_equal(fl.task1.step_at[0], 20);
    assert_int_equal(fl.task2_arg, 7);
    assert_int_equal(fl.task2_started_at, 20);
    assert_int_equal(fl.result, 49);
    assert_int_equal(fl.set_at, 20);
    assert_state(fl.chain, ACTO_FUTURE_DONE);
    acto_future_release(waited);
    acto_future_release(fl.chain);
    acto_future_release(fl.task1.f);
    acto_event_free(fl.ev);
    world_close(&w);
}

/* ---- 5. producer and consumer over a bounded queue ----------------------- */

enum { N_ITEMS = 6 };

typedef struct pipeline {
    acto_system *sys;
    acto_queue *q;
    acto_ref consumer;
    acto_queue_req put_req, get_req, join_req;
    int items[N_ITEMS];
    int next_put;
    int consumed[N_ITEMS];
    int n_consumed;
    uint64_t consumed_at[N_ITEMS];
    size_t max_qsize;
    bool joined;
    uint64_t joined_at;
    int last_get_status;
    bool closed;
} pipeline;

static void
watch_qsize(pipeline *p)
{
    size_t n = acto_queue_qsize(p->q);
    if (n > p->max_qsize) {
        p->max_qsize = n;
    }
}

static void put_next(pipeline *p);

static void
on_put(acto_queue *q, int status, void *item, void *user)
{
    (void)q;
    (void)item;
    pipeline *p = user;
    assert_acto_ok(status);
    p->next_put++;
    watch_qsize(p);
    put_next(p);
}

static void
put_next(pipeline *p)
{
    if (p->next_put < N_ITEMS) {
        assert_acto_ok(acto_queue_put(p->q, &p->put_req, &p->items[p->next_put],
                                      on_put, p));
    }
}

/* on_get hands the item to the consumer actor, which takes 10 ms on it. */
static void
on_get(acto_queue *q, int status, void *item, void *user)
{
    (void)q;
    pipeline *p = user;
    p->last_get_status = status;
    if (status != 0) {
        return;
    }
    acto_msg *m;
    assert_acto_ok(acto_msg_new_ptr(p->sys, T_ITEM, item, NULL, NULL, &m));
    assert_acto_ok(acto_send_after(p->sys, 10, p->consumer, m, NULL));
}

static void
get_next(pipeline *p)
{
    assert_acto_ok(acto_queue_get(p->q, &p->get_req, on_get, p));
}

static int
consumer_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    pipeline *p = state;
    p->consumed_at[p->n_consumed] = acto_system_now(acto_ctx_system(ctx));
    p->consumed[p->n_consumed++] = *(int *)acto_msg_ptr(m);
    assert_acto_ok(acto_queue_task_done(p->q));
    get_next(p);
    return 0;
}

static const acto_behaviour consumer_b = {consumer_receive, NULL, NULL};

static void
on_join(acto_queue *q, int status, void *item, void *user)
{
    (void)item;
    pipeline *p = user;
    assert_acto_ok(status);
    p->joined = true;
    (void)q;
    p->joined_at = acto_system_now(p->sys);
}

static void
on_queue_closed(acto_queue *q, void *user)
{
    (void)q;
    ((pipeline *)user)->closed = true;
}

static void
test_scenario_a_producer_waits_on_a_full_queue_and_join_ends_when_all_done(
    void **state)
{
    world w;
    world_open(&w, state);
    pipeline p = {.sys = w.sys};
    for (int i = 0; i < N_ITEMS; i++) {
        p.items[i] = i + 1;
    }
    assert_acto_ok(acto_queue_alloc(acto_system_loop(w.sys),
                                    &(acto_queue_opts){.maxsize = 2}, &p.q));
    assert_acto_ok(acto_spawn(w.sys, &consumer_b, &p, NULL, &p.consumer));
    get_next(&p);
    put_next(&p);
    settle(&w);
    /* The consumer holds item 1, items 2 and 3 fill the queue and the
     * producer waits to put item 4. */
    assert_int_equal(acto_queue_qsize(p.q), 2);
    assert_true(acto_queue_full(p.q));
    assert_int_equal(p.next_put, 3);
    assert_acto_ok(acto_queue_join(p.q, &p.join_req, on_join, &p));
    for (int i = 1; i < N_ITEMS; i++) {
        advance(&w, 10);
        assert_int_equal(p.n_consumed, i);
        assert_false(p.joined);
    }
    advance(&w, 10);
    assert_int_equal(p.n_consumed, N_ITEMS);
    assert_true(p.joined);
    assert_int_equal(p.joined_at, 60);
    for (int i = 0; i < N_ITEMS; i++) {
        assert_int_equal(p.consumed[i], i + 1);
        assert_int_equal(p.consumed_at[i], 10 * (i + 1));
    }
    assert_true(p.max_qsize <= 2);
    assert_int_equal(acto_queue_unfinished(p.q), 0);
    /* The consumer waits for more: cancel it, as asyncio's example does. */
    assert_acto_ok(acto_queue_cancel(&p.get_req));
    settle(&w);
    assert_acto_err(p.last_get_status, ACTO_ECANCELED);
    assert_acto_ok(acto_queue_close(p.q, on_queue_closed, &p));
    settle(&w);
    assert_true(p.closed);
    world_close(&w);
}

/* ---- 6. setting and awaiting a bare future ------------------------------ */

typedef struct seen {
    world *w;
    int runs;
    int value;
    uint64_t at;
} seen;

static void
on_bare_done(acto_future *f, void *user)
{
    seen *s = user;
    s->runs++;
    s->value = int_result(f);
    s->at = now(s->w);
}

static void
test_scenario_a_bare_future_set_later_wakes_its_awaiter_once(void **state)
{
    world w;
    world_open(&w, state);
    task setter = {0};
    assert_acto_ok(acto_future_new(w.sys, &setter.f));
    seen s = {.w = &w};
    assert_acto_ok(acto_future_add_done_cb(setter.f, on_bare_done, &s));
    task_run(&w, &setter, 50, 42, NULL); /* set_result after 50 ms */
    advance(&w, 49);
    assert_int_equal(s.runs, 0);
    advance(&w, 1);
    assert_int_equal(s.runs, 1);
    assert_int_equal(s.value, 42);
    assert_int_equal(s.at, 50);
    advance(&w, 1000);
    assert_int_equal(s.runs, 1);
    acto_future_release(setter.f);
    world_close(&w);
}

/* ---- 7. gather, with and without return_exceptions ------------------- */

static void
start_three(world *w, task t[3], const char *middle_fails)
{
    task_run(w, &t[0], 30, 1, NULL);
    task_run(w, &t[1], 10, 2, middle_fails);
    task_run(w, &t[2], 20, 3, NULL);
}

static void
test_scenario_gather_returns_results_in_argument_order(void **state)
{
    world w;
    world_open(&w, state);
    task t[3] = {{0}};
    start_three(&w, t, NULL);
    acto_future *members[3] = {t[0].f, t[1].f, t[2].f};
    acto_future *out;
    assert_acto_ok(acto_gather(w.sys, members, 3, false, &out));
    advance(&w, 29);
    assert_state(out, ACTO_FUTURE_PENDING);
    advance(&w, 1);
    acto_gather_result *r = NULL;
    assert_acto_ok(acto_future_result(out, (void **)&r));
    assert_int_equal(r->n, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r->items[i].state, ACTO_FUTURE_DONE);
        assert_int_equal(*(int *)r->items[i].value, i + 1);
    }
    acto_future_release(out);
    tasks_release(t, 3);
    world_close(&w);
}

static void
test_scenario_gather_fails_with_the_first_error_and_cancels_the_others(
    void **state)
{
    world w;
    world_open(&w, state);
    task t[3] = {{0}};
    start_three(&w, t, "ValueError");
    acto_future *members[3] = {t[0].f, t[1].f, t[2].f};
    acto_future *out;
    assert_acto_ok(acto_gather(w.sys, members, 3, false, &out));
    advance(&w, 10);
    assert_state(out, ACTO_FUTURE_FAILED);
    const acto_error *e = acto_future_exception(out);
    assert_int_equal(e->code, ACTO_EINVAL);
    assert_string_equal(e->type, "ValueError");
    assert_string_equal(e->text, "ValueError after 10 ms");
    assert_true(acto_future_cancelled(t[0].f));
    assert_true(acto_future_cancelled(t[2].f));
    advance(&w, 20);
    /* The cancelled tasks wake up to find themselves cancelled. */
    assert_true(t[0].found_cancelled);
    assert_true(t[2].found_cancelled);
    assert_int_equal(t[0].ran, 0);
    acto_future_release(out);
    tasks_release(t, 3);
    world_close(&w);
}

static void
test_scenario_gather_with_return_exceptions_keeps_errors_in_place(void **state)
{
    world w;
    world_open(&w, state);
    task t[3] = {{0}};
    start_three(&w, t, "ValueError");
    acto_future *members[3] = {t[0].f, t[1].f, t[2].f};
    acto_future *out;
    assert_acto_ok(acto_gather(w.sys, members, 3, true, &out));
    advance(&w, 29);
    assert_state(out, ACTO_FUTURE_PENDING);
    advance(&w, 1);
    acto_gather_result *r = NULL;
    assert_acto_ok(acto_future_result(out, (void **)&r));
    assert_int_equal(r->items[0].state, ACTO_FUTURE_DONE);
    assert_int_equal(*(int *)r->items[0].value, 1);
    assert_int_equal(r->items[1].state, ACTO_FUTURE_FAILED);
    assert_null(r->items[1].value);
    assert_string_equal(r->items[1].error->type, "ValueError");
    assert_int_equal(r->items[2].state, ACTO_FUTURE_DONE);
    assert_int_equal(*(int *)r->items[2].value, 3);
    acto_future_release(out);
    tasks_release(t, 3);
    world_close(&w);
}

/* ---- 8. as_completed with a timeout ----------------------------------- */

typedef struct arrivals {
    world *w;
    int n;
    size_t index[4];
    int status[4];
    int value[4];
    uint64_t at[4];
} arrivals;

static void
on_arrival(acto_future *member, size_t index, int status, void *user)
{
    arrivals *a = user;
    a->index[a->n] = index;
    a->status[a->n] = status;
    a->value[a->n] = status == 0 ? int_result(member) : -1;
    a->at[a->n] = now(a->w);
    a->n++;
}

static void
test_scenario_as_completed_reports_the_slow_members_as_timed_out(void **state)
{
    world w;
    world_open(&w, state);
    task t[4] = {{0}};
    for (int i = 0; i < 4; i++) {
        task_run(&w, &t[i], 40 - 10 * (uint64_t)i, i, NULL); /* 40..10 ms */
    }
    acto_future *members[4] = {t[0].f, t[1].f, t[2].f, t[3].f};
    arrivals a = {.w = &w};
    acto_future *out;
    assert_acto_ok(
        acto_as_completed(w.sys, members, 4, 25, on_arrival, &a, &out));
    advance(&w, 24);
    assert_int_equal(a.n, 2);
    assert_state(out, ACTO_FUTURE_PENDING);
    advance(&w, 1);
    assert_int_equal(a.n, 4);
    size_t want_index[4] = {3, 2, 0, 1};
    int want_status[4] = {0, 0, ACTO_ETIMEDOUT, ACTO_ETIMEDOUT};
    uint64_t want_at[4] = {10, 20, 25, 25};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(a.index[i], want_index[i]);
        assert_acto_err(a.status[i], want_status[i]);
        assert_int_equal(a.at[i], want_at[i]);
    }
    assert_int_equal(a.value[0], 3);
    assert_int_equal(a.value[1], 2);
    assert_acto_err(acto_future_result(out, NULL), ACTO_ETIMEDOUT);
    /* Nothing was cancelled: the slow ones still finish, undelivered. */
    advance(&w, 15);
    assert_int_equal(int_result(t[0].f), 0);
    assert_int_equal(int_result(t[1].f), 1);
    assert_int_equal(a.n, 4);
    acto_future_release(out);
    tasks_release(t, 4);
    world_close(&w);
}

/* ---- 9. wait FIRST_COMPLETED in a loop ------------------------------- */

typedef struct rounds {
    world *w;
    task *t;
    size_t n_tasks;
    acto_future *waits[8];
    int n;
    size_t size[8]; /* members done in each round */
    uint64_t at[8];
    size_t order[8]; /* task indexes, in completion order */
    int n_order;
} rounds;

static void on_round(acto_future *f, void *user);

static void
wait_round(rounds *r, acto_future *const *members, size_t n)
{
    acto_future *out;
    assert_acto_ok(
        acto_wait(r->w->sys, members, n, ACTO_WAIT_FIRST_COMPLETED, 0, &out));
    r->waits[r->n] = out;
    assert_acto_ok(acto_future_add_done_cb(out, on_round, r));
}

static void
on_round(acto_future *f, void *user)
{
    rounds *r = user;
    acto_wait_result *res = NULL;
    assert_acto_ok(acto_future_result(f, (void **)&res));
    r->size[r->n] = res->n_done;
    r->at[r->n] = now(r->w);
    for (size_t i = 0; i < res->n_done; i++) {
        for (size_t k = 0; k < r->n_tasks; k++) {
            if (r->t[k].f == res->done[i]) {
                r->order[r->n_order++] = k;
            }
        }
    }
    r->n++;
    if (res->n_pending > 0) {
        wait_round(r, res->pending, res->n_pending);
    }
}

static void
test_scenario_wait_first_completed_in_a_loop_until_nothing_is_pending(
    void **state)
{
    world w;
    world_open(&w, state);
    task t[4] = {{0}};
    uint64_t delay[4] = {30, 10, 20, 20};
    for (int i = 0; i < 4; i++) {
        task_run(&w, &t[i], delay[i], i, NULL);
    }
    rounds r = {.w = &w, .t = t, .n_tasks = 4};
    acto_future *members[4] = {t[0].f, t[1].f, t[2].f, t[3].f};
    wait_round(&r, members, 4);
    for (int ms = 0; ms < 30; ms += 10) {
        advance(&w, 10);
    }
    assert_int_equal(r.n, 3);
    size_t want_size[3] = {1, 2, 1};
    uint64_t want_at[3] = {10, 20, 30};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r.size[i], want_size[i]);
        assert_int_equal(r.at[i], want_at[i]);
    }
    assert_int_equal(r.n_order, 4);
    size_t want_order[4] = {1, 2, 3, 0};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(r.order[i], want_order[i]);
    }
    for (int i = 0; i < r.n; i++) {
        acto_future_release(r.waits[i]);
    }
    tasks_release(t, 4);
    world_close(&w);
}

/* ---- 10. wait_for timing out ----------------------------------------- */

static void
test_scenario_wait_for_times_out_and_cancels_the_slow_task(void **state)
{
    world w;
    world_open(&w, state);
    task t = {0};
    task_run(&w, &t, 100, 1, NULL);
    acto_future *out;
    assert_acto_ok(acto_wait_for(w.sys, t.f, 50, &out));
    advance(&w, 49);
    assert_state(out, ACTO_FUTURE_PENDING);
    advance(&w, 1);
    assert_acto_err(acto_future_result(out, NULL), ACTO_ETIMEDOUT);
    assert_string_equal(acto_future_exception(out)->type, "TimeoutError");
    assert_true(acto_future_cancelled(t.f));
    advance(&w, 50);
    assert_true(t.found_cancelled);
    assert_int_equal(t.ran, 0);
    acto_future_release(out);
    tasks_release(&t, 1);
    world_close(&w);
}

/* ---- 11. a fatal error in a group, non-fatal errors elsewhere ---------- */

typedef struct error_log {
    int n;
    char type[4][32];
    uint64_t at[4];
    world *w;
} error_log;

/* log_error is a flow's own handler: it reads (and so handles) a failure
 * and lets everything else go on. */
static void
log_error(acto_future *f, void *user)
{
    error_log *log = user;
    const acto_error *e = acto_future_exception(f);
    if (e != NULL) {
        snprintf(log->type[log->n], sizeof(log->type[0]), "%s", e->type);
        log->at[log->n++] = now(log->w);
    }
}

static void
test_scenario_a_fatal_error_cancels_its_group_while_other_flows_go_on(
    void **state)
{
    world w;
    world_open(&w, state);
    /* Group A: one member fails fatally at 20 ms. */
    task a[3] = {{0}};
    task_run(&w, &a[0], 20, 0, "FatalError");
    task_run(&w, &a[1], 100, 1, NULL);
    task_run(&w, &a[2], 50, 2, NULL);
    /* Group B: unaffected members. */
    task b[2] = {{0}};
    task_run(&w, &b[0], 30, 10, NULL);
    task_run(&w, &b[1], 60, 11, NULL);
    /* Free flows: one fails non-fatally at 10 ms and is only logged. */
    task loose[2] = {{0}};
    task_run(&w, &loose[0], 10, 0, "Warning");
    task_run(&w, &loose[1], 70, 21, NULL);
    error_log log = {.w = &w};
    for (int i = 0; i < 2; i++) {
        assert_acto_ok(acto_future_add_done_cb(loose[i].f, log_error, &log));
    }
    acto_group *ga, *gb;
    acto_future *done_a, *done_b;
    assert_acto_ok(acto_group_new(w.sys, &ga));
    assert_acto_ok(acto_group_new(w.sys, &gb));
    for (int i = 0; i < 3; i++) {
        assert_acto_ok(acto_group_add(ga, a[i].f));
    }
    for (int i = 0; i < 2; i++) {
        assert_acto_ok(acto_group_add(gb, b[i].f));
    }
    assert_acto_ok(acto_group_close(ga, &done_a));
    assert_acto_ok(acto_group_close(gb, &done_b));
    advance(&w, 10);
    assert_int_equal(log.n, 1);
    assert_string_equal(log.type[0], "Warning");
    assert_int_equal(log.at[0], 10);
    assert_state(done_a, ACTO_FUTURE_PENDING);
    advance(&w, 10);
    /* The fatal error cancels group A's siblings and fails its done. */
    assert_state(done_a, ACTO_FUTURE_FAILED);
    assert_string_equal(acto_future_exception(done_a)->type, "FatalError");
    assert_true(acto_future_cancelled(a[1].f));
    assert_true(acto_future_cancelled(a[2].f));
    const acto_error *errs[2];
    assert_int_equal(acto_group_errors(ga, errs, 2), 1);
    assert_string_equal(errs[0]->type, "FatalError");
    assert_string_equal(acto_future_exception(a[0].f)->type, "FatalError");
    /* Nothing else noticed. */
    assert_state(done_b, ACTO_FUTURE_PENDING);
    assert_state(b[0].f, ACTO_FUTURE_PENDING);
    assert_state(loose[1].f, ACTO_FUTURE_PENDING);
    advance(&w, 80);
    assert_state(done_b, ACTO_FUTURE_DONE);
    assert_int_equal(int_result(b[0].f), 10);
    assert_int_equal(int_result(b[1].f), 11);
    assert_int_equal(int_result(loose[1].f), 21);
    assert_int_equal(log.n, 1);
    assert_true(a[1].found_cancelled);
    assert_true(a[2].found_cancelled);
    acto_group_free(ga);
    acto_group_free(gb);
    acto_future_release(done_a);
    acto_future_release(done_b);
    tasks_release(a, 3);
    tasks_release(b, 2);
    tasks_release(loose, 2);
    world_close(&w);
}

/* ---- 12. FIRST_COMPLETED over members wrapped in wait_for ------------ */

static void
test_scenario_wait_first_completed_tells_which_wrapped_members_timed_out(
    void **state)
{
    world w;
    world_open(&w, state);
    task t[3] = {{0}};
    uint64_t delay[3] = {100, 40, 80};
    uint64_t limit[3] = {30, 60, 30};
    acto_future *wrapped[3];
    for (int i = 0; i < 3; i++) {
        task_run(&w, &t[i], delay[i], i, NULL);
        assert_acto_ok(acto_wait_for(w.sys, t[i].f, limit[i], &wrapped[i]));
    }
    acto_future *out;
    assert_acto_ok(
        acto_wait(w.sys, wrapped, 3, ACTO_WAIT_FIRST_COMPLETED, 0, &out));
    advance(&w, 29);
    assert_state(out, ACTO_FUTURE_PENDING);
    advance(&w, 1);
    acto_wait_result *r = NULL;
    assert_acto_ok(acto_future_result(out, (void **)&r));
    /* Both 30 ms limits expired in the same tick. */
    assert_int_equal(r->n_done, 2);
    assert_ptr_equal(r->done[0], wrapped[0]);
    assert_ptr_equal(r->done[1], wrapped[2]);
    assert_int_equal(r->n_pending, 1);
    assert_ptr_equal(r->pending[0], wrapped[1]);
    int timed_out = 0;
    for (size_t i = 0; i < r->n_done; i++) {
        if (acto_future_result(r->done[i], NULL) == ACTO_ETIMEDOUT) {
            timed_out++;
        }
    }
    assert_int_equal(timed_out, 2);
    assert_true(acto_future_cancelled(t[0].f));
    assert_true(acto_future_cancelled(t[2].f));
    /* The one left pending finishes in its time. */
    acto_future *again;
    assert_acto_ok(acto_wait(w.sys, r->pending, r->n_pending,
                             ACTO_WAIT_FIRST_COMPLETED, 0, &again));
    advance(&w, 10);
    acto_wait_result *r2 = NULL;
    assert_acto_ok(acto_future_result(again, (void **)&r2));
    assert_int_equal(r2->n_done, 1);
    assert_int_equal(int_result(r2->done[0]), 1);
    assert_int_equal(t[1].step_at[0], 40);
    acto_future_release(again);
    acto_future_release(out);
    for (int i = 0; i < 3; i++) {
        acto_future_release(wrapped[i]);
    }
    advance(&w, 100);
    tasks_release(t, 3);
    world_close(&w);
}

/* ---- 13. a shielded critical job outlives its cancelled caller -------- */

static void
test_scenario_a_shielded_job_runs_every_step_while_its_caller_is_cancelled(
    void **state)
{
    world w;
    world_open(&w, state);
    task job = {.steps = 3};
    task_run(&w, &job, 10, 99, NULL);
    acto_future *shielded, *caller;
    assert_acto_ok(acto_shield(w.sys, job.f, &shielded));
    /* The caller gives up after 15 ms: wait_for cancels the shield, not
     * the job behind it. */
    assert_acto_ok(acto_wait_for(w.sys, shielded, 15, &caller));
    advance(&w, 15);
    assert_acto_err(acto_future_result(caller, NULL), ACTO_ETIMEDOUT);
    assert_true(acto_future_cancelled(shielded));
    assert_state(job.f, ACTO_FUTURE_PENDING);
    assert_int_equal(job.ran, 1);
    advance(&w, 15);
    assert_int_equal(job.ran, 3);
    assert_int_equal(job.step_at[0], 10);
    assert_int_equal(job.step_at[1], 20);
    assert_int_equal(job.step_at[2], 30);
    assert_false(job.found_cancelled);
    assert_int_equal(int_result(job.f), 99);
    acto_future_release(caller);
    acto_future_release(shielded);
    tasks_release(&job, 1);
    world_close(&w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(
            test_scenario_an_asker_sees_its_failed_workers_error_and_the_parent_is_told),
        acto_unit_test(
            test_scenario_wait_first_exception_returns_the_failed_short_task_as_done),
        acto_unit_test(
            test_scenario_a_cancelled_sleeper_sees_the_cancellation_and_never_wakes),
        acto_unit_test(
            test_scenario_a_chained_workflow_sets_the_event_the_main_flow_waits_on),
        acto_unit_test(
            test_scenario_a_producer_waits_on_a_full_queue_and_join_ends_when_all_done),
        acto_unit_test(
            test_scenario_a_bare_future_set_later_wakes_its_awaiter_once),
        acto_unit_test(test_scenario_gather_returns_results_in_argument_order),
        acto_unit_test(
            test_scenario_gather_fails_with_the_first_error_and_cancels_the_others),
        acto_unit_test(
            test_scenario_gather_with_return_exceptions_keeps_errors_in_place),
        acto_unit_test(
            test_scenario_as_completed_reports_the_slow_members_as_timed_out),
        acto_unit_test(
            test_scenario_wait_first_completed_in_a_loop_until_nothing_is_pending),
        acto_unit_test(
            test_scenario_wait_for_times_out_and_cancels_the_slow_task),
        acto_unit_test(
            test_scenario_a_fatal_error_cancels_its_group_while_other_flows_go_on),
        acto_unit_test(
            test_scenario_wait_first_completed_tells_which_wrapped_members_timed_out),
        acto_unit_test(
            test_scenario_a_shielded_job_runs_every_step_while_its_caller_is_cancelled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
