/* Graceful shutdown and the runtime calls supervision and I/O actors use:
 * acto_shutdown's three modes, a parent's failure decider (resume),
 * acto_watch_children, acto_suspend/acto_resume, acto_call_as, and
 * stopping a tree on SIGINT/SIGTERM, in this process and in a real
 * service process. */
#include "acto_test.h"

#include <acto/signals.h>
#include <acto/supervisor.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define MSG_WORK 1u
#define MSG_FAIL 2u

/* ---- a recording actor ------------------------------------------------ */

typedef struct rec {
    int handled;
    int last;
    int stops;
    acto_exit_kind reason;
    bool ignore_notice; /* NOTIFY mode: do not stop on the notice */
    int notices;
    char log[128]; /* stop order, as names */
    const char *name;
} rec;

static int
rec_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    rec *r = state;
    switch (acto_msg_type(m)) {
    case ACTO_MSG_SHUTDOWN:
        r->notices++;
        if (!r->ignore_notice) {
            return acto_stop(acto_ctx_system(ctx), acto_self(ctx));
        }
        return 0;
    case MSG_FAIL:
        return acto_fail(ctx, ACTO_EINVAL, "BadInput", "item %d",
                         acto_test_msg_int(m));
    default:
        r->handled++;
        r->last = acto_test_msg_int(m);
        return 0;
    }
}

static void
rec_stop(acto_ctx *ctx, void *state, const acto_exit_reason *why)
{
    (void)ctx;
    rec *r = state;
    r->stops++;
    r->reason = why->kind;
}

static const acto_behaviour rec_b = {.receive = rec_receive, .stop = rec_stop};

static acto_ref
spawn_rec(acto_system *sys, rec *r, acto_on_shutdown mode)
{
    acto_ref ref;
    acto_spawn_opts o = {.on_shutdown = mode};
    assert_acto_ok(acto_spawn(sys, &rec_b, r, &o, &ref));
    return ref;
}

static bool
stopped(void *arg)
{
    return ((rec *)arg)->stops > 0;
}

/* ---- acto_shutdown ---------------------------------------------------- */

static void
shutdown_stop_mode_discards_the_mailbox(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    rec r = {0};
    acto_ref a = spawn_rec(sys, &r, ACTO_SHUTDOWN_STOP);
    for (int i = 0; i < 3; i++) {
        assert_acto_ok(acto_test_send_int(sys, a, MSG_WORK, i));
    }
    assert_acto_ok(acto_shutdown(sys, a));
    assert_acto_err(acto_shutdown(sys, a), ACTO_EALREADY);
    assert_true(acto_test_run_until(&env->loop, stopped, &r, 5000));
    assert_int_equal(r.reason, ACTO_EXIT_SHUTDOWN);
    assert_int_equal(r.handled, 0);
    assert_int_equal(acto_dead_letters(sys), 3);
    assert_acto_err(acto_shutdown(sys, a), ACTO_ENOACTOR);
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
}

static void
shutdown_drain_mode_handles_what_is_queued(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    rec r = {0};
    acto_ref a = spawn_rec(sys, &r, ACTO_SHUTDOWN_DRAIN);
    for (int i = 1; i <= 100; i++) {
        assert_acto_ok(acto_test_send_int(sys, a, MSG_WORK, i));
    }
    assert_acto_ok(acto_shutdown(sys, a));
    assert_acto_err(acto_shutdown(sys, a), ACTO_EALREADY);
    assert_true(acto_test_run_until(&env->loop, stopped, &r, 5000));
    assert_int_equal(r.handled, 100);
    assert_int_equal(r.last, 100);
    assert_int_equal(r.reason, ACTO_EXIT_SHUTDOWN);
    assert_int_equal(acto_dead_letters(sys), 0);
    /* An idle draining actor stops at once. */
    rec idle = {0};
    acto_ref b = spawn_rec(sys, &idle, ACTO_SHUTDOWN_DRAIN);
    acto_test_settle(env);
    assert_acto_ok(acto_shutdown(sys, b));
    assert_true(acto_test_run_until(&env->loop, stopped, &idle, 5000));
    assert_int_equal(idle.reason, ACTO_EXIT_SHUTDOWN);
    acto_test_close_system(env, sys);
}

static void
shutdown_notify_mode_lets_the_actor_decide(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    rec r = {.ignore_notice = true};
    acto_ref a = spawn_rec(sys, &r, ACTO_SHUTDOWN_NOTIFY);
    assert_acto_ok(acto_test_send_int(sys, a, MSG_WORK, 7));
    assert_acto_ok(acto_shutdown(sys, a));
    acto_test_settle(env);
    /* The notice overtakes queued work (system lane); nothing stopped. */
    assert_int_equal(r.notices, 1);
    assert_int_equal(r.handled, 1);
    assert_int_equal(r.stops, 0);
    assert_true(acto_alive(sys, a));
    assert_acto_err(acto_shutdown(sys, a), ACTO_EALREADY);
    /* Stopping itself after the notice keeps the shutdown reason. */
    assert_acto_ok(acto_stop(sys, a));
    assert_true(acto_test_run_until(&env->loop, stopped, &r, 5000));
    assert_int_equal(r.reason, ACTO_EXIT_SHUTDOWN);
    acto_test_close_system(env, sys);
}

static void
shutdown_rejects_bad_input(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    assert_acto_err(acto_shutdown(NULL, ACTO_REF_NONE), ACTO_ENOACTOR);
    assert_acto_err(acto_shutdown(sys, ACTO_REF_NONE), ACTO_ENOACTOR);
    acto_ref ref;
    acto_spawn_opts o = {.on_shutdown = (acto_on_shutdown)7};
    assert_acto_err(acto_spawn(sys, &rec_b, NULL, &o, &ref), ACTO_EINVAL);
    acto_test_close_system(env, sys);
}

/* ---- a parent's failure decider --------------------------------------- */

typedef struct parent {
    rec *child_state;
    acto_ref child;
    int decided;
    int failed_item; /* from the quarantined message */
    int child_failed_msgs;
} parent;

static acto_fail_action
resume_all(acto_system *sys, acto_ref child, const acto_error *err, void *user)
{
    (void)sys;
    (void)child;
    parent *p = user;
    p->decided++;
    p->failed_item = err->msg != NULL ? acto_test_msg_int(err->msg) : -2;
    return strcmp(err->type, "BadInput") == 0 ? ACTO_FAIL_RESUME
                                              : ACTO_FAIL_STOP;
}

static int
parent_start(acto_ctx *ctx, void *state)
{
    parent *p = state;
    assert_acto_ok(acto_set_child_fail_fn(ctx, resume_all, p));
    return acto_spawn(acto_ctx_system(ctx), &rec_b, p->child_state, NULL,
                      &p->child);
}

static int
parent_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)ctx;
    parent *p = state;
    p->child_failed_msgs += acto_msg_type(m) == ACTO_MSG_CHILD_FAILED;
    return 0;
}

static const acto_behaviour parent_b = {.receive = parent_receive,
                                        .start = parent_start};

static void
child_fail_fn_resumes_and_drops_the_message(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    rec r = {0};
    parent p = {.child_state = &r};
    acto_ref pref;
    assert_acto_ok(acto_spawn(sys, &parent_b, &p, NULL, &pref));
    assert_acto_ok(acto_test_send_int(sys, p.child, MSG_WORK, 1));
    assert_acto_ok(acto_test_send_int(sys, p.child, MSG_FAIL, 2));
    assert_acto_ok(acto_test_send_int(sys, p.child, MSG_WORK, 3));
    acto_test_settle(env);
    assert_int_equal(p.decided, 1);
    assert_int_equal(p.failed_item, 2);
    assert_int_equal(r.handled, 2);
    assert_int_equal(r.last, 3);
    assert_int_equal(r.stops, 0);
    assert_int_equal(p.child_failed_msgs, 0);
    acto_stats st;
    acto_system_stats(sys, &st);
    assert_int_equal(st.failures, 1);
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
}

/* ---- acto_watch_children ---------------------------------------------- */

typedef struct watcher {
    rec kids[2];
    acto_ref refs[2];
    int downs;
    acto_exit_kind kinds[2];
    char failed_type[32]; /* copied: the error is borrowed */
    int child_failed_msgs;
} watcher;

static int
watcher_start(acto_ctx *ctx, void *state)
{
    watcher *w = state;
    assert_acto_ok(acto_watch_children(ctx, true));
    for (int i = 0; i < 2; i++) {
        assert_acto_ok(acto_spawn(acto_ctx_system(ctx), &rec_b, &w->kids[i],
                                  NULL, &w->refs[i]));
    }
    return 0;
}

static int
watcher_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)ctx;
    watcher *w = state;
    const acto_down *d = acto_msg_down(m);
    if (d != NULL && w->downs < 2) {
        assert_int_equal(d->monitor, 0);
        w->kinds[w->downs++] = d->reason.kind;
        if (d->reason.error != NULL) {
            snprintf(w->failed_type, sizeof(w->failed_type), "%s",
                     d->reason.error->type);
        }
    }
    w->child_failed_msgs += acto_msg_type(m) == ACTO_MSG_CHILD_FAILED;
    return 0;
}

static const acto_behaviour watcher_b = {.receive = watcher_receive,
                                         .start = watcher_start};

static void
watch_children_reports_every_stop_as_down(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    watcher w = {0};
    acto_ref p;
    assert_acto_ok(acto_spawn(sys, &watcher_b, &w, NULL, &p));
    assert_true(acto_ref_eq(acto_parent_of(sys, w.refs[0]), p));
    assert_true(acto_ref_is_none(acto_parent_of(sys, p)));
    assert_acto_ok(acto_stop(sys, w.refs[0]));
    acto_test_settle(env);
    assert_true(acto_ref_is_none(acto_parent_of(sys, w.refs[0])));
    assert_acto_ok(acto_test_send_int(sys, w.refs[1], MSG_FAIL, 3));
    acto_test_settle(env);
    assert_int_equal(w.downs, 2);
    assert_int_equal(w.kinds[0], ACTO_EXIT_NORMAL);
    assert_int_equal(w.kinds[1], ACTO_EXIT_FAILED);
    assert_string_equal(w.failed_type, "BadInput");
    assert_int_equal(w.child_failed_msgs, 0);
    acto_test_close_system(env, sys);
}

/* ---- acto_suspend / acto_resume --------------------------------------- */

static int
suspender_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    rec *r = state;
    r->handled++;
    r->last = acto_test_msg_int(m);
    return r->last == 1 ? acto_suspend(ctx) : 0;
}

static const acto_behaviour suspender_b = {.receive = suspender_receive,
                                           .stop = rec_stop};

static void
suspend_holds_messages_until_resume(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    rec r = {0};
    acto_ref a;
    acto_spawn_opts o = {.capacity = 2, .overflow = ACTO_OVERFLOW_FAIL};
    assert_acto_ok(acto_spawn(sys, &suspender_b, &r, &o, &a));
    assert_acto_err(acto_resume(sys, a), ACTO_EALREADY);
    assert_acto_ok(acto_test_send_int(sys, a, MSG_WORK, 1));
    acto_test_settle(env);
    assert_int_equal(r.handled, 1);
    /* Suspended: the mailbox fills and refuses more, as its policy says. */
    assert_acto_ok(acto_test_send_int(sys, a, MSG_WORK, 2));
    assert_acto_ok(acto_test_send_int(sys, a, MSG_WORK, 3));
    assert_acto_err(acto_test_send_int(sys, a, MSG_WORK, 4), ACTO_EQUEUEFULL);
    acto_test_settle(env);
    assert_int_equal(r.handled, 1);
    assert_acto_ok(acto_resume(sys, a));
    acto_test_settle(env);
    assert_int_equal(r.handled, 3);
    assert_int_equal(r.last, 3);
    /* A suspended actor still stops. */
    assert_acto_ok(acto_test_send_int(sys, a, MSG_WORK, 1));
    acto_test_settle(env);
    assert_acto_ok(acto_kill(sys, a));
    acto_test_settle(env);
    assert_int_equal(r.reason, ACTO_EXIT_KILLED);
    assert_acto_err(acto_resume(sys, a), ACTO_ENOACTOR);
    acto_test_close_system(env, sys);
}

/* ---- acto_call_as ----------------------------------------------------- */

static int
spawn_as(acto_ctx *ctx, void *state, void *user)
{
    (void)state;
    return acto_spawn(acto_ctx_system(ctx), &rec_b, user, NULL,
                      (acto_ref *)((rec *)user + 1));
}

static void
call_as_runs_as_the_actor(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    rec host = {0};
    acto_ref h = spawn_rec(sys, &host, ACTO_SHUTDOWN_STOP);
    struct {
        rec r;
        acto_ref ref;
    } kid = {0};
    assert_acto_ok(acto_call_as(sys, h, &rec_b, spawn_as, &kid));
    /* The host is the new actor's parent: its failure reaches the host. */
    assert_acto_ok(acto_test_send_int(sys, kid.ref, MSG_FAIL, 1));
    acto_test_settle(env);
    assert_int_equal(kid.r.stops, 1);
    assert_acto_err(acto_call_as(sys, h, &parent_b, spawn_as, &kid),
                    ACTO_ENOACTOR);
    assert_acto_err(acto_call_as(sys, kid.ref, &rec_b, spawn_as, &kid),
                    ACTO_ENOACTOR);
    assert_acto_err(acto_call_as(sys, h, &rec_b, NULL, NULL), ACTO_EINVAL);
    acto_test_close_system(env, sys);
}

/* ---- signals, in this process ----------------------------------------- */

typedef struct done_box {
    bool done;
    acto_signals_report report;
} done_box;

static void
on_done(acto_system *sys, const acto_signals_report *r, void *user)
{
    (void)sys;
    done_box *d = user;
    d->done = true;
    d->report = *r;
}

static int
start_rec(acto_ctx *sup, const void *arg, size_t len, acto_ref *out)
{
    rec *r;
    assert_int_equal(len, sizeof(r));
    memcpy(&r, arg, sizeof(r));
    acto_spawn_opts o = {.on_shutdown = ACTO_SHUTDOWN_NOTIFY};
    return acto_spawn(acto_ctx_system(sup), &rec_b, r, &o, out);
}

static acto_ref
tree(acto_system *sys, rec *kids, const rec **ptrs, int64_t budget)
{
    acto_child_spec specs[2] = {
        {.id = "a",
         .start = start_rec,
         .arg = &ptrs[0],
         .arg_len = sizeof(rec *),
         .shutdown_ms = budget},
        {.id = "b",
         .start = start_rec,
         .arg = &ptrs[1],
         .arg_len = sizeof(rec *),
         .shutdown_ms = budget},
    };
    (void)kids;
    acto_ref root;
    assert_acto_ok(acto_sup_start(sys, NULL, specs, 2, &root));
    return root;
}

static void
first_signal_stops_the_tree_gracefully(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    rec kids[2] = {{0}, {0}};
    const rec *ptrs[2] = {&kids[0], &kids[1]};
    acto_ref root = tree(sys, kids, ptrs, ACTO_SHUTDOWN_INFINITY);
    done_box d = {0};
    acto_signals *w;
    assert_acto_ok(acto_stop_on_signals(
        sys, root, &(acto_signals_opts){.done = on_done, .user = &d}, &w));
    /* Signals reach the loop only while something keeps it running. */
    acto_system_set_keep_alive(sys, true);
    assert_int_equal(raise(SIGTERM), 0);
    assert_true(acto_test_run_until(&env->loop, acto_test_flag, &d.done, 5000));
    assert_int_equal(d.report.signo, SIGTERM);
    assert_false(d.report.forced);
    assert_int_equal(d.report.status, 0);
    assert_int_equal(kids[0].reason, ACTO_EXIT_SHUTDOWN);
    assert_int_equal(kids[1].reason, ACTO_EXIT_SHUTDOWN);
    acto_system_set_keep_alive(sys, false);
    acto_test_close_system(env, sys);
}

static bool
noticed(void *arg)
{
    return ((rec *)arg)->notices > 0;
}

static void
second_signal_forces(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    rec kids[2] = {{.ignore_notice = true}, {.ignore_notice = true}};
    const rec *ptrs[2] = {&kids[0], &kids[1]};
    acto_ref root = tree(sys, kids, ptrs, ACTO_SHUTDOWN_INFINITY);
    done_box d = {0};
    acto_signals *w;
    assert_acto_ok(acto_stop_on_signals(
        sys, root, &(acto_signals_opts){.done = on_done, .user = &d}, &w));
    /* Signals reach the loop only while something keeps it running. */
    acto_system_set_keep_alive(sys, true);
    assert_int_equal(raise(SIGINT), 0);
    assert_true(acto_test_run_until(&env->loop, noticed, &kids[1], 5000));
    assert_int_equal(kids[1].notices, 1); /* b, last started, asked first */
    assert_int_equal(kids[0].notices, 0); /* a waits for b */
    assert_int_equal(kids[1].stops, 0);
    assert_false(d.done);
    assert_int_equal(raise(SIGINT), 0);
    assert_true(acto_test_run_until(&env->loop, acto_test_flag, &d.done, 5000));
    assert_true(d.report.forced);
    assert_int_equal(d.report.status, 128 + SIGINT);
    assert_int_equal(kids[0].reason, ACTO_EXIT_KILLED);
    assert_int_equal(kids[1].reason, ACTO_EXIT_KILLED);
    acto_system_set_keep_alive(sys, false);
    acto_test_close_system(env, sys);
}

static void
deadline_forces_on_the_virtual_clock(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys =
        acto_test_system(env, &(acto_system_opts){.virtual_time = true});
    rec kids[2] = {{.ignore_notice = true}, {0}};
    const rec *ptrs[2] = {&kids[0], &kids[1]};
    acto_ref root = tree(sys, kids, ptrs, ACTO_SHUTDOWN_INFINITY);
    done_box d = {0};
    acto_signals *w;
    acto_signals_opts o = {.deadline_ms = 1000, .done = on_done, .user = &d};
    assert_acto_ok(acto_stop_on_signals(sys, root, &o, &w));
    assert_acto_ok(acto_signals_stop(w));
    assert_acto_err(acto_signals_stop(w), ACTO_EALREADY);
    acto_test_settle(env);
    assert_int_equal(kids[1].reason, ACTO_EXIT_SHUTDOWN);
    assert_int_equal(kids[0].stops, 0);
    assert_acto_ok(acto_system_advance(sys, 999));
    acto_test_settle(env);
    assert_false(d.done);
    assert_acto_ok(acto_system_advance(sys, 1));
    assert_true(acto_test_run_until(&env->loop, acto_test_flag, &d.done, 5000));
    assert_true(d.report.forced);
    assert_int_equal(d.report.status, 124);
    assert_int_equal(d.report.elapsed_ms, 1000);
    assert_int_equal(kids[0].reason, ACTO_EXIT_KILLED);
    acto_test_close_system(env, sys);
}

static void
cancelled_watch_leaves_the_tree_alone(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    rec kids[2] = {{0}, {0}};
    const rec *ptrs[2] = {&kids[0], &kids[1]};
    acto_ref root = tree(sys, kids, ptrs, 100);
    done_box d = {0};
    acto_signals *w;
    assert_acto_ok(acto_stop_on_signals(
        sys, root, &(acto_signals_opts){.done = on_done, .user = &d}, &w));
    acto_signals_cancel(w);
    acto_test_settle(env);
    assert_true(acto_alive(sys, root));
    assert_false(d.done);
    rec gone = {0};
    acto_ref dead = spawn_rec(sys, &gone, ACTO_SHUTDOWN_STOP);
    assert_acto_ok(acto_stop(sys, dead));
    acto_test_settle(env);
    assert_acto_err(acto_stop_on_signals(sys, dead, NULL, &w), ACTO_ENOACTOR);
    acto_test_close_system(env, sys);
}

/* ---- signals, in a real service process ------------------------------ */

/* Starts the service (tests/sup_service.c), with flag if not NULL. */
static void
svc_start(uv_loop_t *loop, acto_test_proc *s, const char *flag)
{
    char *args[] = {(char *)SUP_SERVICE_PATH, (char *)flag, NULL};
    acto_test_proc_start(loop, s, args);
}

static void
svc_wait_for(acto_test_env *env, acto_test_proc *s, const char *want)
{
    acto_test_proc_wait_for(&env->loop, s, want, 10000);
}

/* line_pos returns where want starts in the output (fails if absent). */
static size_t
line_pos(const acto_test_proc *s, const char *want)
{
    const char *p = strstr(s->text, want);
    if (p == NULL) {
        fail_msg("missing '%s' in:\n%s", want, s->text);
    }
    return (size_t)(p - s->text);
}

static void
service_stops_cleanly_on_sigint(void **state)
{
    acto_test_env *env = *state;
    acto_test_proc s;
    svc_start(&env->loop, &s, NULL);
    svc_wait_for(env, &s, "ready\n");
    assert_int_equal(uv_process_kill(&s.proc, SIGINT), 0);
    assert_true(
        acto_test_run_until(&env->loop, acto_test_proc_done, &s, 10000));
    assert_int_equal(s.term_signal, 0);
    assert_int_equal(s.status, 0);
    /* In-flight work finished before its actor stopped, and the tree
     * stopped in reverse start order, each with the shutdown reason. */
    char reason[64];
    snprintf(reason, sizeof(reason), "reason %d", (int)ACTO_EXIT_SHUTDOWN);
    size_t work = line_pos(&s, "protected: work done");
    size_t prot = line_pos(&s, "stop protected");
    size_t logger = line_pos(&s, "stop logger");
    size_t store = line_pos(&s, "stop store");
    assert_true(line_pos(&s, "protected: shutdown notice") < work);
    assert_true(work < prot && prot < logger && logger < store);
    assert_non_null(strstr(s.text + store, reason));
    assert_true(store < line_pos(&s, "done signal 2 forced 0 status 0"));
}

static void
service_forced_by_a_second_signal(void **state)
{
    acto_test_env *env = *state;
    acto_test_proc s;
    svc_start(&env->loop, &s, "--hang");
    svc_wait_for(env, &s, "ready\n");
    assert_int_equal(uv_process_kill(&s.proc, SIGINT), 0);
    svc_wait_for(env, &s, "protected: shutdown notice");
    assert_int_equal(uv_process_kill(&s.proc, SIGINT), 0);
    assert_true(
        acto_test_run_until(&env->loop, acto_test_proc_done, &s, 10000));
    assert_int_equal(s.term_signal, 0);
    assert_int_equal(s.status, 128 + SIGINT);
    char killed[64];
    snprintf(killed, sizeof(killed), "stop protected reason %d",
             (int)ACTO_EXIT_KILLED);
    line_pos(&s, killed);
    line_pos(&s, "done signal 2 forced 1 status 130");
}

/* ---- stopping from the start hook ------------------------------------- */

static int
stop_at_start(acto_ctx *ctx, void *state)
{
    (void)state;
    return acto_stop(acto_ctx_system(ctx), acto_self(ctx));
}

static const acto_behaviour stops_at_start_b = {
    .start = stop_at_start, .receive = rec_receive, .stop = rec_stop};

/* An actor that stops itself in its start hook started (the spawn
 * succeeds), so it must finish stopping: its stop hook runs, what was sent
 * to it is dead-lettered and its memory is given back. */
static void
stop_inside_the_start_hook_finishes_the_stop(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    rec r = {0};
    acto_ref a;
    assert_acto_ok(acto_spawn(sys, &stops_at_start_b, &r, NULL, &a));
    assert_acto_ok(acto_test_send_int(sys, a, MSG_WORK, 1));
    assert_true(acto_test_run_until(&env->loop, stopped, &r, 5000));
    assert_int_equal(r.stops, 1);
    assert_int_equal(r.reason, ACTO_EXIT_NORMAL);
    assert_int_equal(r.handled, 0);
    assert_int_equal(acto_dead_letters(sys), 1);
    assert_false(acto_alive(sys, a));
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(shutdown_stop_mode_discards_the_mailbox),
        acto_unit_test(shutdown_drain_mode_handles_what_is_queued),
        acto_unit_test(shutdown_notify_mode_lets_the_actor_decide),
        acto_unit_test(shutdown_rejects_bad_input),
        acto_unit_test(stop_inside_the_start_hook_finishes_the_stop),
        acto_unit_test(child_fail_fn_resumes_and_drops_the_message),
        acto_unit_test(watch_children_reports_every_stop_as_down),
        acto_unit_test(suspend_holds_messages_until_resume),
        acto_unit_test(call_as_runs_as_the_actor),
        acto_unit_test(first_signal_stops_the_tree_gracefully),
        acto_unit_test(second_signal_forces),
        acto_unit_test(deadline_forces_on_the_virtual_clock),
        acto_unit_test(cancelled_watch_leaves_the_tree_alone),
        acto_unit_test(service_stops_cleanly_on_sigint),
        acto_unit_test(service_forced_by_a_second_signal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
