/* Supervisors, part two: restarts (strategies, types, intensity, trees,
 * hanging loops, backoff, deciders, escalation) and significant children.
 * Tests named after a case of OTP's supervisor_SUITE.erl port it; the
 * others test what acto adds. Every test runs on the virtual clock. */
#include "sup_world.h"

static void
die(world *w, acto_ref sup, const char *id)
{
    assert_acto_ok(acto_test_send_int(w->sys, ref_of(w, sup, id), T_DIE, 7));
    settle(w);
}

/* retry lets pending zero-delay restart steps run. */
static void
retry(world *w)
{
    for (int i = 0; i < 20; i++) {
        advance(w, 0);
    }
}

static void
assert_reached_max(world *w, acto_ref sup)
{
    const down *d = down_of(w, sup);
    assert_non_null(d);
    assert_int_equal(d->kind, ACTO_EXIT_FAILED);
    assert_string_equal(d->type, "ReachedMaxRestartIntensity");
}

/* ---- intensity and strategies ----------------------------------------- */

static void
multiple_restarts(void **state)
{
    world *w = wopen(*state);
    acto_sup_flags f = {.intensity = 1, .period_ms = 1000};
    acto_child_spec s = kspec(w, "c1", 0, K_PLAIN, 0);
    acto_ref sup = sup_start(w, &f, &s, 1);
    for (int i = 0; i < 4; i++) { /* a sliding window: 2.1 s apart is fine */
        die(w, sup, "c1");
        assert_null(down_of(w, sup));
        advance(w, 2100);
    }
    assert_int_equal(acto_sup_restarts(w->sys, sup), 4);
    die(w, sup, "c1");
    advance(w, 999);
    die(w, sup, "c1");
    assert_reached_max(w, sup);
    wclose(w);
}

static void
one_for_one(void **state)
{
    world *w = wopen(*state);
    acto_child_spec s[2] = {kspec(w, "c1", 0, K_PLAIN, 0),
                            kspec(w, "c2", 0, K_PLAIN, 0)};
    acto_ref sup = sup_start(w, &ofo, s, 2);
    acto_ref c1 = ref_of(w, sup, "c1"), c2 = ref_of(w, sup, "c2");
    die(w, sup, "c1");
    assert_false(acto_ref_eq(ref_of(w, sup, "c1"), c1));
    assert_true(acto_ref_eq(ref_of(w, sup, "c2"), c2));
    assert_int_equal(w->kids[0].exit, ACTO_EXIT_FAILED);
    die(w, sup, "c1");
    assert_null(down_of(w, sup));
    assert_int_equal(acto_sup_restarts(w->sys, sup), 2);
    die(w, sup, "c1"); /* the third within (2, 3600 s) */
    assert_reached_max(w, sup);
    assert_int_equal(w->kids[1].exit, ACTO_EXIT_SHUTDOWN);
    assert_string_equal(w->log, "+c1 +c2 -c1 +c1 -c1 +c1 -c1 -c2");
    wclose(w);
}

/* escalation: a restart whose start keeps failing kills the supervisor
 * and its other children (OTP's *_escalation cases). */
static void
escalation(void **state, acto_strategy st, const char *victim)
{
    world *w = wopen(*state);
    acto_sup_flags f = {.strategy = st, .intensity = 4, .period_ms = 3600000};
    acto_child_spec s[2] = {kspec(w, "c1", 0, K_PLAIN, 0),
                            kspec(w, "c2", 0, K_PLAIN, 0)};
    acto_ref sup = sup_start(w, &f, s, 2);
    w->fail_name = "c1", w->fail_rc = ACTO_EFAILED, w->fail_left = -1;
    die(w, sup, victim);
    retry(w);
    assert_reached_max(w, sup);
    assert_true(w->starts > 2 && w->starts <= 12); /* it retried */
    for (int i = 0; i < w->nkids; i++) {
        assert_true(w->kids[i].stopped);
    }
    wclose(w);
}

SUP_CASE(one_for_one_escalation, escalation, ACTO_ONE_FOR_ONE, "c1")
SUP_CASE(one_for_all_escalation, escalation, ACTO_ONE_FOR_ALL, "c2")
SUP_CASE(rest_for_one_escalation, escalation, ACTO_REST_FOR_ONE, "c1")

/* group: c2 of c1..c3 fails; want is the log of what stopped and started. */
static void
group(void **state, acto_strategy st, const char *want, bool c1_kept)
{
    world *w = wopen(*state);
    acto_sup_flags f = ofo;
    f.strategy = st;
    acto_child_spec s[3] = {kspec(w, "c1", 0, K_PLAIN, 0),
                            kspec(w, "c2", 0, K_PLAIN, 0),
                            kspec(w, "c3", 0, K_PLAIN, 0)};
    acto_ref sup = sup_start(w, &f, s, 3);
    w->log[0] = '\0';
    die(w, sup, "c2");
    assert_string_equal(w->log, want);
    assert_int_equal(acto_ref_eq(ref_of(w, sup, "c1"), w->kids[0].self),
                     c1_kept);
    assert_false(acto_ref_eq(ref_of(w, sup, "c2"), w->kids[1].self));
    assert_false(acto_ref_eq(ref_of(w, sup, "c3"), w->kids[2].self));
    assert_int_equal(w->kids[1].exit, ACTO_EXIT_FAILED);
    assert_int_equal(w->kids[2].exit, ACTO_EXIT_SHUTDOWN);
    assert_counts(w, sup, 3, 3, 0, 3);
    die(w, sup, "c3");
    assert_null(down_of(w, sup));
    die(w, sup, "c1");
    assert_reached_max(w, sup);
    for (int i = 0; i < w->nkids; i++) {
        assert_true(w->kids[i].stopped);
    }
    wclose(w);
}

SUP_CASE(one_for_all, group, ACTO_ONE_FOR_ALL, "-c2 -c3 -c1 +c1 +c2 +c3", false)
SUP_CASE(rest_for_one, group, ACTO_REST_FOR_ONE, "-c2 -c3 +c2 +c3", true)

static void
order_of_children(void **state)
{
    world *w = wopen(*state);
    acto_sup_flags f = ofo;
    f.strategy = ACTO_REST_FOR_ONE;
    acto_child_spec s[4] = {
        kspec(w, "c1", 0, K_PLAIN, 0), kspec(w, "c2", 0, K_SLOW, 30),
        kspec(w, "c3", 0, K_SLOW, 20), kspec(w, "c4", 0, K_SLOW, 10)};
    acto_ref sup = sup_start(w, &f, s, 4);
    assert_string_equal(w->log, "+c1 +c2 +c3 +c4");
    w->log[0] = '\0';
    /* The later ones stop in reverse order, one at a time, each waited
     * for (c4 takes 10 ms, c3 20 ms), then restart in order. */
    die(w, sup, "c2");
    advance(w, 9);
    assert_string_equal(w->log, "-c2");
    advance(w, 1);
    assert_string_equal(w->log, "-c2 -c4");
    advance(w, 20);
    assert_string_equal(w->log, "-c2 -c4 -c3 +c2 +c3 +c4");
    w->log[0] = '\0';
    assert_acto_ok(acto_shutdown(w->sys, sup));
    assert_int_equal(step_until_down(w, sup, 1000), 60);
    assert_string_equal(w->log, "-c4 -c3 -c2 -c1");
    wclose(w);
}

/* ---- dynamic pools ---------------------------------------------------- */

static void
simple_one_for_one(void **state)
{
    world *w = wopen(*state);
    acto_sup_flags f = ofo;
    f.strategy = ACTO_SIMPLE_ONE_FOR_ONE;
    acto_child_spec s = kspec(w, "c", 0, K_PLAIN, 0);
    acto_ref sup = sup_start(w, &f, &s, 1), c1, c2;
    assert_acto_ok(start_dyn(w, sup, "c", 1, &c1));
    assert_acto_ok(start_dyn(w, sup, "c", 2, &c2));
    assert_acto_ok(acto_test_send_int(w->sys, c1, T_DIE, 0));
    settle(w);
    assert_counts(w, sup, 1, 2, 0, 2);
    kid *again = &w->kids[2]; /* restarted with its own argument */
    assert_int_equal(again->a.value, 1);
    assert_true(acto_alive(w->sys, c2));
    assert_acto_ok(acto_test_send_int(w->sys, again->self, T_DIE, 0));
    settle(w);
    assert_null(down_of(w, sup));
    assert_acto_ok(acto_test_send_int(w->sys, c2, T_DIE, 0));
    settle(w);
    assert_reached_max(w, sup);
    wclose(w);
}

static void
simple_one_for_one_escalation(void **state)
{
    world *w = wopen(*state);
    acto_sup_flags f = {.strategy = ACTO_SIMPLE_ONE_FOR_ONE, .intensity = 4};
    acto_child_spec s = kspec(w, "c", 0, K_PLAIN, 0);
    acto_ref sup = sup_start(w, &f, &s, 1), c1, c2;
    assert_acto_ok(start_dyn(w, sup, "c", 1, &c1));
    assert_acto_ok(start_dyn(w, sup, "c", 2, &c2));
    w->fail_name = "c", w->fail_rc = ACTO_EFAILED, w->fail_left = -1;
    assert_acto_ok(acto_kill(w->sys, c1));
    settle(w);
    retry(w);
    assert_reached_max(w, sup);
    assert_int_equal(w->kids[1].exit, ACTO_EXIT_SHUTDOWN);
    wclose(w);
}

static void
simple_one_for_one_shutdown(void **state)
{
    world *w = wopen(*state);
    acto_sup_flags f = {.strategy = ACTO_SIMPLE_ONE_FOR_ONE};
    acto_child_spec s = kspec(w, "c", 0, K_PLAIN, 0);
    s.shutdown_ms = 2000;
    acto_ref sup = sup_start(w, &f, &s, 1), c[3];
    w->dyn_mode = K_SLOW;
    for (int i = 0; i < 3; i++) {
        assert_acto_ok(start_dyn(w, sup, "c", i, &c[i]));
    }
    w->kids[0].a.delay = w->kids[1].a.delay = 1000; /* graceful */
    w->kids[2].a.delay = 5000;                      /* killed at 2000 */
    assert_acto_ok(acto_shutdown(w->sys, sup));
    uint64_t t = step_until_down(w, sup, 10000);
    assert_true(t >= 1000 && t < 5000);
    assert_int_equal(w->kids[0].exit, ACTO_EXIT_SHUTDOWN);
    assert_int_equal(w->kids[1].exit, ACTO_EXIT_SHUTDOWN);
    assert_int_equal(w->kids[2].exit, ACTO_EXIT_KILLED);
    assert_int_equal(down_of(w, sup)->kind, ACTO_EXIT_SHUTDOWN);
    wclose(w);
}

static void
simple_one_for_one_restart_ignore(void **state)
{
    for (int r = 0; r < 2; r++) { /* permanent, transient */
        world *w = wopen(*state);
        acto_sup_flags f = {.strategy = ACTO_SIMPLE_ONE_FOR_ONE};
        acto_child_spec s = kspec(w, "c", (acto_restart)r, K_PLAIN, 0);
        acto_ref sup = sup_start(w, &f, &s, 1), c1, c2;
        assert_acto_ok(start_dyn(w, sup, "c", 1, &c1));
        assert_acto_ok(start_dyn(w, sup, "c", 2, &c2));
        w->fail_name = "c", w->fail_rc = ACTO_SUP_IGNORE, w->fail_left = 1;
        assert_acto_ok(acto_kill(w->sys, c1));
        settle(w);
        retry(w);
        assert_int_equal(w->starts, 3);
        assert_int_equal(state_of(w, sup, "c"), ACTO_CHILD_RUNNING);
        assert_counts(w, sup, 1, 1, 0, 1); /* c2 only: c1 is removed */
        stop_sup(w, sup);
        wclose(w);
    }
}

/* ---- restart types ---------------------------------------------------- */

enum { RESTARTED, KEPT, FORGOTTEN };

/* exit_case ends child c1 of restart type r by each of hows (0 normal, 1
 * shutdown, 2 abnormal, 3 kill) and checks what became of it. */
static void
exit_case(void **state, acto_restart r, int from, int to, int want)
{
    for (int how = from; how <= to; how++) {
        world *w = wopen(*state);
        acto_child_spec s = kspec(w, "c1", r, K_PLAIN, 0);
        acto_ref sup = sup_start(w, &ofo, &s, 1), c1 = ref_of(w, sup, "c1");
        if (how == 0 || how == 2) {
            int type = how == 0 ? T_STOP : T_DIE;
            assert_acto_ok(acto_test_send_int(w->sys, c1, type, 0));
        } else if (how == 1) {
            assert_acto_ok(acto_shutdown(w->sys, c1));
        } else {
            assert_acto_ok(acto_kill(w->sys, c1));
        }
        settle(w);
        static const acto_exit_kind kinds[] = {
            ACTO_EXIT_NORMAL, ACTO_EXIT_SHUTDOWN, ACTO_EXIT_FAILED,
            ACTO_EXIT_KILLED};
        assert_int_equal(w->kids[0].exit, kinds[how]);
        int st = state_of(w, sup, "c1");
        assert_int_equal(st, want == RESTARTED ? ACTO_CHILD_RUNNING
                             : want == KEPT    ? ACTO_CHILD_TERMINATED
                                               : -1);
        assert_int_equal(w->nkids, want == RESTARTED ? 2 : 1);
        assert_int_equal(acto_sup_restarts(w->sys, sup), want == RESTARTED);
        stop_sup(w, sup);
        wclose(w);
    }
}

SUP_CASE(permanent_normal, exit_case, ACTO_RESTART_PERMANENT, 0, 0, RESTARTED)
SUP_CASE(transient_normal, exit_case, ACTO_RESTART_TRANSIENT, 0, 0, KEPT)
SUP_CASE(temporary_normal, exit_case, ACTO_RESTART_TEMPORARY, 0, 0, FORGOTTEN)
SUP_CASE(permanent_shutdown, exit_case, ACTO_RESTART_PERMANENT, 1, 1, RESTARTED)
SUP_CASE(transient_shutdown, exit_case, ACTO_RESTART_TRANSIENT, 1, 1, KEPT)
SUP_CASE(temporary_shutdown, exit_case, ACTO_RESTART_TEMPORARY, 1, 1, FORGOTTEN)
SUP_CASE(permanent_abnormal, exit_case, ACTO_RESTART_PERMANENT, 2, 3, RESTARTED)
SUP_CASE(transient_abnormal, exit_case, ACTO_RESTART_TRANSIENT, 2, 3, RESTARTED)
SUP_CASE(temporary_abnormal, exit_case, ACTO_RESTART_TEMPORARY, 2, 3, FORGOTTEN)

static void
do_not_save_child_specs_for_temporary_children(void **state)
{
    world *w = wopen(*state);
    acto_sup_flags f = {.intensity = 10};
    acto_ref sup = sup_start(w, &f, NULL, 0), c, out;
    acto_child_spec t = kspec(w, "t", ACTO_RESTART_TEMPORARY, 0, 0);
    for (int how = 0; how < 4; how++) { /* kill, normal, abnormal, API */
        assert_acto_ok(acto_sup_start_child(w->sys, sup, &t, &c));
        if (how == 0) {
            assert_acto_ok(acto_kill(w->sys, c));
        } else if (how == 3) {
            assert_acto_ok(acto_sup_terminate_child(w->sys, sup, "t"));
        } else {
            int type = how == 1 ? T_STOP : T_DIE;
            assert_acto_ok(acto_test_send_int(w->sys, c, type, 0));
        }
        settle(w);
        assert_int_equal(state_of(w, sup, "t"), -1);
        assert_acto_err(acto_sup_restart_child(w->sys, sup, "t", &out),
                        ACTO_ENOTFOUND);
    }
    acto_child_spec p = kspec(w, "p", ACTO_RESTART_PERMANENT, 0, 0);
    assert_acto_ok(acto_sup_start_child(w->sys, sup, &p, &c));
    assert_acto_ok(acto_kill(w->sys, c));
    settle(w);
    assert_int_equal(state_of(w, sup, "p"), ACTO_CHILD_RUNNING); /* restarted */
    assert_acto_ok(acto_sup_terminate_child(w->sys, sup, "p"));
    settle(w);
    assert_acto_err(acto_sup_start_child(w->sys, sup, &p, &c), ACTO_EEXIST);
    stop_sup(w, sup);
    wclose(w);
}

/* ---- trees ------------------------------------------------------------ */

static void
tree(void **state)
{
    world *w = wopen(*state);
    static subtree sub1 = {.flags = {.intensity = 4, .period_ms = 3600000},
                           .n = 2};
    static subtree sub2 = {.flags = {.intensity = 4, .period_ms = 3600000}};
    sub1.specs[0] = kspec(w, "child1", 0, K_PLAIN, 0);
    sub1.specs[1] = kspec(w, "child2", 0, K_PLAIN, 0);
    acto_child_spec c3 = kspec(w, "child3", 0, K_PLAIN, 0);
    acto_child_spec c4 = kspec(w, "child4", 0, K_PLAIN, 0);
    acto_child_spec sups[2] = {subspec(w, "supchild1", &sub1),
                               subspec(w, "supchild2", &sub2)};
    acto_sup_flags top_f = {
        .strategy = ACTO_ONE_FOR_ALL, .intensity = 4, .period_ms = 3600000};
    acto_ref top = sup_start(w, &top_f, NULL, 0), s1, s2, out;
    assert_acto_ok(acto_sup_start_child(w->sys, top, &sups[0], &s1));
    assert_acto_ok(acto_sup_start_child(w->sys, top, &sups[1], &s2));
    assert_counts(w, top, 2, 2, 2, 0);
    assert_counts(w, s1, 2, 2, 0, 2);
    assert_acto_ok(acto_sup_start_child(w->sys, s2, &c3, &out));
    assert_acto_ok(acto_sup_start_child(w->sys, s2, &c4, &out));
    /* Only the dead worker restarts. */
    acto_ref w1 = ref_of(w, s1, "child1"), w3 = ref_of(w, s2, "child3");
    die(w, s2, "child4");
    assert_true(acto_ref_eq(ref_of(w, s1, "child1"), w1));
    assert_true(acto_ref_eq(ref_of(w, s2, "child3"), w3));
    assert_false(acto_ref_eq(ref_of(w, s2, "child4"), out));
    /* A dead sub-supervisor restarts both subtrees (one-for-all); the
     * children added to supchild2 at run time are not recreated. */
    assert_acto_ok(acto_kill(w->sys, s2));
    settle(w);
    acto_ref n1 = ref_of(w, top, "supchild1"), n2 = ref_of(w, top, "supchild2");
    assert_false(acto_ref_eq(n1, s1) || acto_ref_eq(n2, s2));
    assert_false(acto_alive(w->sys, s1) || acto_alive(w->sys, w1));
    assert_false(acto_ref_eq(ref_of(w, n1, "child1"), w1));
    assert_counts(w, n1, 2, 2, 0, 2);
    assert_counts(w, n2, 0, 0, 0, 0);
    assert_int_equal(acto_sup_restarts(w->sys, top), 1);
    /* A sub-supervisor past its intensity escalates: the top restarts. */
    watch(w, n1);
    for (int i = 0; i < 5; i++) {
        die(w, n1, "child1");
    }
    assert_reached_max(w, n1);
    assert_int_equal(acto_sup_restarts(w->sys, top), 2);
    assert_false(acto_ref_eq(ref_of(w, top, "supchild1"), n1));
    assert_false(acto_ref_eq(ref_of(w, top, "supchild2"), n2));
    assert_counts(w, ref_of(w, top, "supchild1"), 2, 2, 0, 2);
    stop_sup(w, top);
    assert_int_equal(w->exceptions, 0);
    wclose(w);
}

static int
parent_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)ctx;
    world *w = state;
    if (acto_msg_type(m) == ACTO_MSG_CHILD_FAILED) {
        down *r = &w->downs[w->ndowns++]; /* recorded as a down */
        r->ref = acto_msg_sender(m);
        r->kind = ACTO_EXIT_FAILED;
        snprintf(r->type, sizeof(r->type), "%s", acto_msg_error(m)->type);
    }
    return 0;
}

static const acto_behaviour parent_b = {parent_receive, NULL, NULL};

typedef struct start_req {
    acto_sup_flags flags;
    acto_child_spec spec;
    acto_ref sup;
} start_req;

static int
start_as(acto_ctx *ctx, void *state, void *user)
{
    (void)state;
    start_req *r = user;
    return acto_sup_start(acto_ctx_system(ctx), &r->flags, &r->spec, 1,
                          &r->sup);
}

/* A supervisor's failure reaches its parent as ACTO_MSG_CHILD_FAILED. */
static void
sup_failure_reaches_parent(void **state)
{
    world *w = wopen(*state);
    acto_ref parent;
    assert_acto_ok(acto_spawn(w->sys, &parent_b, w, NULL, &parent));
    start_req r = {.flags = {.intensity = ACTO_SUP_NO_RESTARTS},
                   .spec = kspec(w, "c1", 0, K_PLAIN, 0)};
    assert_acto_ok(acto_call_as(w->sys, parent, &parent_b, start_as, &r));
    die(w, r.sup, "c1");
    assert_reached_max(w, r.sup); /* recorded by parent_receive */
    assert_int_equal(w->exceptions, 0);
    wclose(w);
}

/* ---- hanging restart loops -------------------------------------------- */

static const acto_backoff second = {.min_ms = 1000, .multiplier = 1.0};

static void
hanging_restart_loop(void **state)
{
    world *w = wopen(*state);
    acto_sup_flags f = {.intensity = 8, .period_ms = 10000, .backoff = second};
    acto_child_spec s = kspec(w, "child1", 0, K_PLAIN, 0);
    s.shutdown_ms = ACTO_SHUTDOWN_BRUTAL_KILL;
    acto_ref sup = sup_start(w, &f, &s, 1), out;
    w->fail_name = "child1", w->fail_rc = ACTO_EFAILED, w->fail_left = -1;
    die(w, sup, "child1");
    advance(w, 1000); /* the restart fails: it keeps restarting */
    assert_int_equal(w->starts, 2);
    acto_child_info info;
    assert_true(info_of(w, sup, "child1", &info));
    assert_int_equal(info.state, ACTO_CHILD_RESTARTING);
    assert_true(acto_ref_is_none(info.ref));
    assert_acto_err(acto_sup_start_child(w->sys, sup, &s, &out), ACTO_EEXIST);
    assert_acto_err(acto_sup_restart_child(w->sys, sup, "child1", &out),
                    ACTO_EPENDING);
    assert_acto_err(acto_sup_delete_child(w->sys, sup, "child1"),
                    ACTO_EPENDING);
    assert_counts(w, sup, 1, 0, 0, 1); /* restarting: a worker, not active */
    /* terminate_child ends the loop. */
    assert_acto_ok(acto_sup_terminate_child(w->sys, sup, "child1"));
    assert_int_equal(state_of(w, sup, "child1"), ACTO_CHILD_TERMINATED);
    advance(w, 60000);
    assert_int_equal(w->starts, 2);
    assert_acto_err(acto_sup_restart_child(w->sys, sup, "child1", &out),
                    ACTO_EFAILED);
    assert_int_equal(state_of(w, sup, "child1"), ACTO_CHILD_TERMINATED);
    w->fail_left = 0;
    assert_acto_ok(acto_sup_restart_child(w->sys, sup, "child1", &out));
    assert_true(acto_alive(w->sys, out));
    stop_sup(w, sup);
    wclose(w);
}

static void
hanging_restart_loop_simple(void **state)
{
    world *w = wopen(*state);
    acto_sup_flags f = {.strategy = ACTO_SIMPLE_ONE_FOR_ONE,
                        .intensity = 8,
                        .period_ms = 10000,
                        .backoff = second};
    acto_child_spec s = kspec(w, "c", 0, K_PLAIN, 0);
    acto_ref sup = sup_start(w, &f, &s, 1), c1, out;
    assert_acto_ok(start_dyn(w, sup, "c", 1, &c1));
    w->fail_name = "c", w->fail_rc = ACTO_EFAILED, w->fail_left = -1;
    assert_acto_ok(acto_test_send_int(w->sys, c1, T_DIE, 0));
    settle(w);
    advance(w, 1000);
    assert_int_equal(w->starts, 2);
    acto_child_info info;
    size_t n = 0;
    assert_acto_ok(acto_sup_which_children(w->sys, sup, &info, 1, &n));
    assert_int_equal(n, 1);
    assert_int_equal(info.state, ACTO_CHILD_RESTARTING);
    assert_true(acto_ref_is_none(info.ref));
    assert_counts(w, sup, 1, 0, 0, 1);
    assert_acto_err(acto_sup_restart_child(w->sys, sup, "c", &out),
                    ACTO_EINVAL);
    assert_acto_err(acto_sup_terminate_ref(w->sys, sup, c1), ACTO_ENOTFOUND);
    stop_sup(w, sup); /* while restarting: no hang */
    wclose(w);
}

/* ---- deciders --------------------------------------------------------- */

typedef struct verdict {
    acto_sup_action act;
    int calls;
    char id[16], type[16];
    acto_ref child;
    uint32_t restarts, msg_type;
    int msg_int;
} verdict;

static acto_sup_action
decide(const acto_child_failure *f, void *user)
{
    verdict *v = user;
    v->calls++;
    snprintf(v->id, sizeof(v->id), "%s", f->id);
    snprintf(v->type, sizeof(v->type), "%s", f->error->type);
    v->child = f->child;
    v->restarts = f->restarts;
    v->msg_type = f->error->msg ? acto_msg_type(f->error->msg) : 0;
    v->msg_int = f->error->msg ? acto_test_msg_int(f->error->msg) : -1;
    return v->act;
}

static acto_ref
decided_sup(world *w, verdict *v, acto_sup_action act)
{
    v->act = act;
    acto_sup_flags f = {.intensity = 5, .decider = decide, .decider_user = v};
    acto_child_spec s[2] = {kspec(w, "c1", 0, K_PLAIN, 0),
                            kspec(w, "c2", 0, K_PLAIN, 0)};
    return sup_start(w, &f, s, 2);
}

static void
decider_resume_keeps_state_and_drops_the_message(void **state)
{
    world *w = wopen(*state);
    verdict v = {0};
    acto_ref sup = decided_sup(w, &v, ACTO_SUP_RESUME);
    acto_ref c1 = ref_of(w, sup, "c1");
    assert_acto_ok(acto_test_send_int(w->sys, c1, T_INC, 0));
    assert_acto_ok(acto_test_send_int(w->sys, c1, T_DIE, 42));
    assert_acto_ok(acto_test_send_int(w->sys, c1, T_INC, 0));
    settle(w);
    assert_int_equal(v.calls, 1);
    assert_true(acto_ref_eq(ref_of(w, sup, "c1"), c1));
    assert_int_equal(w->kids[0].count, 2); /* its state is kept */
    assert_false(w->kids[0].stopped);
    assert_int_equal(acto_sup_restarts(w->sys, sup), 0);
    acto_child_info info;
    assert_true(info_of(w, sup, "c1", &info));
    assert_int_equal(info.restarts, 0);
    stop_sup(w, sup);
    wclose(w);
}

static void
decider_sees_the_failed_message(void **state)
{
    world *w = wopen(*state);
    verdict v = {0};
    acto_ref sup = decided_sup(w, &v, ACTO_SUP_RESTART);
    acto_ref c1 = ref_of(w, sup, "c1");
    die(w, sup, "c1");
    assert_int_equal(v.calls, 1);
    assert_string_equal(v.id, "c1");
    assert_string_equal(v.type, "Die");
    assert_true(acto_ref_eq(v.child, c1));
    assert_int_equal(v.msg_type, T_DIE); /* quarantined, visible */
    assert_int_equal(v.msg_int, 7);
    assert_int_equal(v.restarts, 0);
    assert_false(acto_ref_eq(ref_of(w, sup, "c1"), c1)); /* restarted */
    die(w, sup, "c1");
    assert_int_equal(v.calls, 2);
    assert_int_equal(v.restarts, 1);
    v.act = ACTO_SUP_STOP; /* it stops, is not restarted, its spec stays */
    die(w, sup, "c1");
    assert_int_equal(state_of(w, sup, "c1"), ACTO_CHILD_TERMINATED);
    assert_int_equal(w->nkids, 4);
    assert_int_equal(acto_sup_restarts(w->sys, sup), 2);
    stop_sup(w, sup);
    wclose(w);
}

static void
decider_escalate(void **state)
{
    world *w = wopen(*state);
    verdict v = {0};
    acto_ref sup = decided_sup(w, &v, ACTO_SUP_ESCALATE);
    die(w, sup, "c1");
    const down *d = down_of(w, sup);
    assert_non_null(d);
    assert_int_equal(d->kind, ACTO_EXIT_FAILED);
    assert_string_equal(d->type, "Die"); /* fails with the child's error */
    assert_int_equal(w->kids[1].exit, ACTO_EXIT_SHUTDOWN);
    assert_int_equal(w->starts, 2);
    assert_int_equal(w->exceptions, 1);
    wclose(w);
}

/* ---- backoff ---------------------------------------------------------- */

/* restart_delay fails c1 and returns the ms until it runs again. */
static uint64_t
restart_delay(world *w, acto_ref sup)
{
    die(w, sup, "c1");
    uint64_t t = 0;
    for (; state_of(w, sup, "c1") != ACTO_CHILD_RUNNING && t < 100000; t++) {
        assert_int_equal(state_of(w, sup, "c1"), ACTO_CHILD_RESTARTING);
        advance(w, 1);
    }
    return t;
}

static void
backoff_delays_restarts_exactly(void **state)
{
    world *w = wopen(*state);
    acto_sup_flags f = {.intensity = 100,
                        .period_ms = 1000000,
                        .backoff = {.min_ms = 100,
                                    .max_ms = 350,
                                    .multiplier = 2.0,
                                    .reset_ms = 10000}};
    acto_child_spec s = kspec(w, "c1", 0, K_PLAIN, 0);
    acto_ref sup = sup_start(w, &f, &s, 1), out;
    die(w, sup, "c1");
    assert_acto_err(acto_sup_restart_child(w->sys, sup, "c1", &out),
                    ACTO_EPENDING);
    advance(w, 99);
    assert_int_equal(state_of(w, sup, "c1"), ACTO_CHILD_RESTARTING);
    advance(w, 1);
    assert_int_equal(state_of(w, sup, "c1"), ACTO_CHILD_RUNNING);
    assert_int_equal(restart_delay(w, sup), 200);
    assert_int_equal(restart_delay(w, sup), 350); /* 400, capped */
    assert_int_equal(restart_delay(w, sup), 350);
    advance(w, 10000); /* up for reset_ms: starts over */
    assert_int_equal(restart_delay(w, sup), 100);
    assert_int_equal(restart_delay(w, sup), 200);
    assert_int_equal(acto_sup_restarts(w->sys, sup), 6);
    stop_sup(w, sup);
    wclose(w);
}

/* ---- significant children --------------------------------------------- */

/* sig_case: in each auto-shutdown mode, a permanent "p" and significant
 * (or not) "s1" (and "s2" for all) of restart r; s1 ends by each how
 * (kill, abnormal, normal, API terminate, acto_shutdown); bit how of shut:
 * whether that shuts the supervisor down. */
static void
sig_case(void **state, acto_restart r, bool sig, unsigned shut_bits)
{
    for (int i = 0; i < 15; i++) {
        int how = i / 3, m = i % 3;
        if (sig && m == ACTO_AUTO_SHUTDOWN_NEVER) {
            continue; /* significant children need auto-shutdown */
        }
        bool shut = shut_bits >> how & 1;
        world *w = wopen(*state);
        acto_sup_flags f = {.intensity = 10, .auto_shutdown = m};
        acto_child_spec s[3] = {kspec(w, "p", 0, K_PLAIN, 0),
                                kspec(w, "s1", r, K_PLAIN, 0),
                                kspec(w, "s2", r, K_PLAIN, 0)};
        s[1].significant = s[2].significant = sig;
        size_t n = m == ACTO_AUTO_SHUTDOWN_ALL_SIGNIFICANT ? 3 : 2;
        acto_ref sup = sup_start(w, &f, s, n), s1 = ref_of(w, sup, "s1");
        if (how == 0 || how == 4) {
            assert_acto_ok((how ? acto_shutdown : acto_kill)(w->sys, s1));
        } else if (how == 3) {
            assert_acto_ok(acto_sup_terminate_child(w->sys, sup, "s1"));
        } else {
            int type = how == 1 ? T_DIE : T_STOP;
            assert_acto_ok(acto_test_send_int(w->sys, s1, type, 0));
        }
        settle(w);
        if (n == 3 && shut) { /* all_significant: not yet, then s2 ends */
            assert_null(down_of(w, sup));
            acto_ref s2 = ref_of(w, sup, "s2");
            assert_acto_ok(acto_test_send_int(w->sys, s2, T_STOP, 0));
            settle(w);
        }
        if (shut) {
            assert_non_null(down_of(w, sup));
            assert_int_equal(down_of(w, sup)->kind, ACTO_EXIT_SHUTDOWN);
            assert_int_equal(w->kids[0].exit, ACTO_EXIT_SHUTDOWN); /* p */
        } else {
            assert_null(down_of(w, sup));
            stop_sup(w, sup);
        }
        wclose(w);
    }
}

SUP_CASE(nonsignificant_temporary, sig_case, ACTO_RESTART_TEMPORARY, false, 0)
SUP_CASE(nonsignificant_transient, sig_case, ACTO_RESTART_TRANSIENT, false, 0)
/* kill, abnormal, normal and acto_shutdown shut down; API terminate not */
SUP_CASE(significant_temporary, sig_case, ACTO_RESTART_TEMPORARY, true, 0x17)
/* only normal and shutdown exits (the others restart it) */
SUP_CASE(significant_transient, sig_case, ACTO_RESTART_TRANSIENT, true, 0x14)

static void
significant_escalation(void **state)
{
    static subtree inner = {.n = 1};
    inner.flags.auto_shutdown = ACTO_AUTO_SHUTDOWN_ANY_SIGNIFICANT;
    for (int sig = 0; sig < 2; sig++) {
        world *w = wopen(*state);
        inner.specs[0] = kspec(w, "w", ACTO_RESTART_TEMPORARY, 0, 0);
        inner.specs[0].significant = true;
        acto_child_spec s[2] = {kspec(w, "p", 0, K_PLAIN, 0),
                                subspec(w, "inner", &inner)};
        s[1].restart = ACTO_RESTART_TRANSIENT;
        s[1].significant = sig;
        acto_ref sup = sup_start(w, &inner.flags, s, 2);
        acto_ref in = ref_of(w, sup, "inner"), wk = ref_of(w, in, "w");
        watch(w, in);
        assert_acto_ok(acto_test_send_int(w->sys, wk, T_STOP, 0));
        settle(w);
        assert_int_equal(down_of(w, in)->kind, ACTO_EXIT_SHUTDOWN);
        if (sig) { /* a significant child supervisor shuts its parent */
            assert_int_equal(down_of(w, sup)->kind, ACTO_EXIT_SHUTDOWN);
        } else {
            assert_null(down_of(w, sup));
            assert_int_equal(state_of(w, sup, "inner"), ACTO_CHILD_TERMINATED);
            stop_sup(w, sup);
        }
        wclose(w);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(multiple_restarts),
        acto_unit_test(one_for_one),
        acto_unit_test(one_for_one_escalation),
        acto_unit_test(one_for_all),
        acto_unit_test(one_for_all_escalation),
        acto_unit_test(rest_for_one),
        acto_unit_test(rest_for_one_escalation),
        acto_unit_test(order_of_children),
        acto_unit_test(simple_one_for_one),
        acto_unit_test(simple_one_for_one_escalation),
        acto_unit_test(simple_one_for_one_shutdown),
        acto_unit_test(simple_one_for_one_restart_ignore),
        acto_unit_test(permanent_normal),
        acto_unit_test(transient_normal),
        acto_unit_test(temporary_normal),
        acto_unit_test(permanent_shutdown),
        acto_unit_test(transient_shutdown),
        acto_unit_test(temporary_shutdown),
        acto_unit_test(permanent_abnormal),
        acto_unit_test(transient_abnormal),
        acto_unit_test(temporary_abnormal),
        acto_unit_test(do_not_save_child_specs_for_temporary_children),
        acto_unit_test(tree),
        acto_unit_test(sup_failure_reaches_parent),
        acto_unit_test(hanging_restart_loop),
        acto_unit_test(hanging_restart_loop_simple),
        acto_unit_test(decider_resume_keeps_state_and_drops_the_message),
        acto_unit_test(decider_sees_the_failed_message),
        acto_unit_test(decider_escalate),
        acto_unit_test(backoff_delays_restarts_exactly),
        acto_unit_test(nonsignificant_temporary),
        acto_unit_test(nonsignificant_transient),
        acto_unit_test(significant_temporary),
        acto_unit_test(significant_transient),
        acto_unit_test(significant_escalation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
