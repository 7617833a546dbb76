/* Supervisors, part one: starting, stopping within budgets, child
 * administration and reports. Each test ports the case of Erlang/OTP's
 * supervisor_SUITE.erl it is named after (see
 * shared/OTP-SUPERVISOR-CASES.md). The shared world is sup_world.h.
 * Every test runs on the virtual clock. */
#include "sup_world.h"

/* ---- sup_start -------------------------------------------------------- */

static void
sup_start_normal(void **state)
{
    world *w = wopen(*state);
    acto_ref sup = sup_start(w, &ofo, NULL, 0);
    assert_counts(w, sup, 0, 0, 0, 0);
    stop_sup(w, sup);
    assert_int_equal(w->exceptions, 0);
    wclose(w);
}

/* ignore_case: child1 of restart r returns ignore at the supervisor's
 * start (via_api false) or through start_child. */
static void
ignore_case(void **state, acto_restart r, bool via_api)
{
    world *w = wopen(*state);
    acto_child_spec s[2] = {kspec(w, "child1", r, K_PLAIN, 0),
                            kspec(w, "child2", 0, K_PLAIN, 0)};
    w->fail_name = "child1", w->fail_rc = ACTO_SUP_IGNORE, w->fail_left = 1;
    acto_ref sup = sup_start(w, &ofo, via_api ? &s[1] : s, via_api ? 1 : 2);
    acto_ref out = {42};
    if (via_api) {
        assert_acto_ok(acto_sup_start_child(w->sys, sup, &s[0], &out));
        assert_true(acto_ref_is_none(out));
    }
    acto_child_info info;
    bool kept = r != ACTO_RESTART_TEMPORARY;
    assert_int_equal(info_of(w, sup, "child1", &info), kept);
    if (kept) {
        assert_int_equal(info.state, ACTO_CHILD_TERMINATED);
        assert_true(acto_ref_is_none(info.ref));
    }
    assert_int_equal(state_of(w, sup, "child2"), ACTO_CHILD_RUNNING);
    /* OTP's [2,1,0,2] or [1,1,0,1]: workers running or not */
    assert_counts(w, sup, kept ? 2 : 1, 1, 0, kept ? 2 : 1);
    stop_sup(w, sup);
    wclose(w);
}

SUP_CASE(sup_start_ignore_child, ignore_case, ACTO_RESTART_PERMANENT, false)
SUP_CASE(sup_start_ignore_temporary_child, ignore_case, ACTO_RESTART_TEMPORARY,
         false)
SUP_CASE(sup_start_ignore_temporary_child_start_child, ignore_case,
         ACTO_RESTART_TEMPORARY, true)

static void
ignore_simple(void **state, acto_restart r)
{
    world *w = wopen(*state);
    acto_sup_flags f = {.strategy = ACTO_SIMPLE_ONE_FOR_ONE};
    acto_child_spec s = kspec(w, "c", r, K_PLAIN, 0);
    acto_ref sup = sup_start(w, &f, &s, 1), c1, c2 = {42};
    assert_acto_ok(start_dyn(w, sup, "c", 1, &c1));
    w->fail_name = "c", w->fail_rc = ACTO_SUP_IGNORE, w->fail_left = 1;
    assert_acto_ok(start_dyn(w, sup, "c", 2, &c2));
    assert_true(acto_ref_is_none(c2));
    acto_child_info info[4];
    size_t n = 0;
    assert_acto_ok(acto_sup_which_children(w->sys, sup, info, 4, &n));
    assert_int_equal(n, 1); /* the ignored child is not listed */
    assert_true(acto_ref_eq(info[0].ref, c1));
    /* sup_start_child_returns_error_simple: an error, and no child */
    w->fail_rc = ACTO_EFAILED, w->fail_left = 1;
    assert_acto_err(start_dyn(w, sup, "c", 3, &c2), ACTO_EFAILED);
    assert_counts(w, sup, 1, 1, 0, 1);
    stop_sup(w, sup); /* still exits with shutdown (the OTP regression) */
    assert_int_equal(w->kids[0].exit, ACTO_EXIT_SHUTDOWN);
    wclose(w);
}

SUP_CASE(sup_start_ignore_temporary_child_start_child_simple, ignore_simple,
         ACTO_RESTART_TEMPORARY)
SUP_CASE(sup_start_ignore_permanent_child_start_child_simple, ignore_simple,
         ACTO_RESTART_PERMANENT)

static void
sup_start_child_returns_error(void **state)
{
    world *w = wopen(*state);
    acto_child_spec s[3] = {kspec(w, "c1", 0, K_PLAIN, 0),
                            kspec(w, "c2", 0, K_DEAF, 0),
                            kspec(w, "c3", 0, K_PLAIN, 0)};
    /* At start: the error is returned, the started ones are killed at
     * once (no budget is waited for) in reverse order, and the supervisor
     * never existed. */
    w->fail_name = "c3", w->fail_rc = ACTO_ETIMEDOUT, w->fail_left = 1;
    acto_stats st;
    acto_system_stats(w->sys, &st);
    uint64_t live = st.live;
    acto_ref sup;
    assert_acto_err(acto_sup_start(w->sys, &ofo, s, 3, &sup), ACTO_ETIMEDOUT);
    settle(w);
    assert_string_equal(w->log, "+c1 +c2 -c2 -c1");
    assert_int_equal(w->kids[1].exit, ACTO_EXIT_KILLED);
    acto_system_stats(w->sys, &st);
    assert_int_equal(st.live, live);
    /* Through start_child: the error is returned, the child not kept. */
    sup = sup_start(w, &ofo, s, 1);
    w->fail_left = 1;
    assert_acto_err(acto_sup_start_child(w->sys, sup, &s[2], &(acto_ref){0}),
                    ACTO_ETIMEDOUT);
    assert_counts(w, sup, 1, 1, 0, 1);
    stop_sup(w, sup);
    assert_int_equal(w->exceptions, 0);
    wclose(w);
}

static void
sup_start_restart_child_returns_error(void **state)
{
    world *w = wopen(*state);
    acto_child_spec s = kspec(w, "c1", 0, K_PLAIN, 0);
    acto_ref sup = sup_start(w, &ofo, &s, 1), out;
    assert_acto_ok(acto_sup_terminate_child(w->sys, sup, "c1"));
    settle(w);
    w->fail_name = "c1", w->fail_rc = ACTO_ENOMEM, w->fail_left = 1;
    assert_acto_err(acto_sup_restart_child(w->sys, sup, "c1", &out),
                    ACTO_ENOMEM);
    assert_int_equal(state_of(w, sup, "c1"), ACTO_CHILD_TERMINATED);
    assert_acto_ok(acto_sup_restart_child(w->sys, sup, "c1", NULL));
    assert_int_equal(state_of(w, sup, "c1"), ACTO_CHILD_RUNNING);
    stop_sup(w, sup);
    wclose(w);
}

/* ---- sup_stop --------------------------------------------------------- */

static void
sup_stop_infinity(void **state)
{
    world *w = wopen(*state);
    static subtree sub = {.n = 1};
    sub.specs[0] = kspec(w, "g", 0, K_SLOW, 700);
    sub.specs[0].shutdown_ms = ACTO_SHUTDOWN_INFINITY;
    acto_child_spec s[2] = {kspec(w, "c1", 0, K_SLOW, 10000),
                            subspec(w, "sup1", &sub)};
    s[0].shutdown_ms = s[1].shutdown_ms = ACTO_SHUTDOWN_INFINITY;
    acto_ref sup = sup_start(w, &ofo, s, 2), sub_ref = ref_of(w, sup, "sup1");
    watch(w, sub_ref);
    assert_acto_ok(acto_shutdown(w->sys, sup));
    /* sup1 (started last) goes first, waiting for g, then c1. */
    assert_int_equal(step_until_down(w, sub_ref, 20000), 700);
    assert_int_equal(down_of(w, sub_ref)->kind, ACTO_EXIT_SHUTDOWN);
    assert_int_equal(step_until_down(w, sup, 20000), 10000);
    assert_int_equal(w->kids[0].exit, ACTO_EXIT_SHUTDOWN); /* c1 */
    assert_int_equal(w->kids[1].exit, ACTO_EXIT_SHUTDOWN); /* g */
    assert_string_equal(w->log, "+c1 +sup1 +g -g -c1");
    wclose(w);
}

static void
sup_stop_timeout(void **state)
{
    world *w = wopen(*state);
    acto_child_spec s[3] = {kspec(w, "c1", 0, K_DEAF, 0),
                            kspec(w, "c2", 0, K_SLOW, 300),
                            kspec(w, "c3", 0, K_PLAIN, 0)};
    s[0].shutdown_ms = s[1].shutdown_ms = s[2].shutdown_ms = 1000;
    acto_ref sup = sup_start(w, &ofo, s, 3);
    assert_acto_ok(acto_shutdown(w->sys, sup));
    settle(w);
    assert_string_equal(w->log, "+c1 +c2 +c3 -c3");
    /* c2 stops at 300; c1 is asked then and killed 1000 ms later. */
    assert_int_equal(step_until_down(w, sup, 5000), 1300);
    assert_int_equal(w->kids[0].exit, ACTO_EXIT_KILLED);
    assert_int_equal(w->kids[1].exit, ACTO_EXIT_SHUTDOWN);
    assert_int_equal(w->kids[2].exit, ACTO_EXIT_SHUTDOWN);
    assert_string_equal(w->log, "+c1 +c2 +c3 -c3 -c2 -c1");
    assert_int_equal(down_of(w, sup)->kind, ACTO_EXIT_SHUTDOWN);
    wclose(w);
}

/* Also sup_start_map's default budget: c3's zeroed spec gets 5000 ms. */
static void
sup_stop_brutal_kill(void **state)
{
    world *w = wopen(*state);
    acto_child_spec s[3] = {kspec(w, "c1", 0, K_SLOW, 100),
                            kspec(w, "c2", 0, K_SLOW, 100),
                            kspec(w, "c3", 0, K_DEAF, 0)};
    s[0].shutdown_ms = ACTO_SHUTDOWN_BRUTAL_KILL;
    s[1].shutdown_ms = 1000;
    acto_ref sup = sup_start(w, &ofo, s, 3);
    assert_acto_ok(acto_shutdown(w->sys, sup));
    assert_int_equal(step_until_down(w, sup, 9000), 5100);
    assert_int_equal(w->kids[0].exit, ACTO_EXIT_KILLED);
    assert_int_equal(w->kids[1].exit, ACTO_EXIT_SHUTDOWN);
    assert_int_equal(w->kids[2].exit, ACTO_EXIT_KILLED);
    assert_string_equal(w->log, "+c1 +c2 +c3 -c3 -c2 -c1");
    wclose(w);
}

static void
sup_stop_brutal_kill_dynamic(void **state)
{
    world *w = wopen(*state);
    acto_sup_flags f = {.strategy = ACTO_SIMPLE_ONE_FOR_ONE};
    acto_child_spec s = kspec(w, "c", 0, K_DEAF, 0);
    s.shutdown_ms = ACTO_SHUTDOWN_BRUTAL_KILL;
    acto_ref sup = sup_start(w, &f, &s, 1);
    w->dyn_mode = K_DEAF;
    for (int i = 0; i < 10; i++) {
        assert_acto_ok(start_dyn(w, sup, "c", i, &(acto_ref){0}));
    }
    assert_counts(w, sup, 1, 10, 0, 10);
    stop_sup(w, sup); /* no time needs to pass */
    for (int i = 0; i < 10; i++) {
        assert_int_equal(w->kids[i].exit, ACTO_EXIT_KILLED);
    }
    wclose(w);
}

/* ---- administration --------------------------------------------------- */

static void
child_adm(void **state)
{
    world *w = wopen(*state);
    acto_system *sys = w->sys;
    acto_ref sup = sup_start(w, &ofo, NULL, 0), c1, again, out;
    acto_child_spec s = kspec(w, "child1", 0, K_PLAIN, 0);
    assert_acto_ok(acto_sup_start_child(sys, sup, &s, &c1));
    assert_acto_err(acto_sup_start_child(sys, sup, &s, &again), ACTO_EALREADY);
    assert_true(acto_ref_eq(again, c1)); /* already_started */
    assert_acto_err(acto_sup_restart_child(sys, sup, "child1", &out),
                    ACTO_EBUSY); /* running */
    assert_acto_err(acto_sup_delete_child(sys, sup, "child1"), ACTO_EBUSY);
    assert_acto_ok(acto_sup_terminate_child(sys, sup, "child1"));
    settle(w);
    assert_int_equal(w->kids[0].exit, ACTO_EXIT_SHUTDOWN);
    assert_int_equal(state_of(w, sup, "child1"), ACTO_CHILD_TERMINATED);
    assert_acto_ok(acto_sup_terminate_child(sys, sup, "child1"));
    assert_acto_err(acto_sup_start_child(sys, sup, &s, &out), ACTO_EEXIST);
    assert_acto_ok(acto_sup_restart_child(sys, sup, "child1", &out));
    assert_true(acto_alive(sys, out) && !acto_ref_eq(out, c1));
    assert_acto_ok(acto_sup_terminate_child(sys, sup, "child1"));
    settle(w);
    assert_acto_ok(acto_sup_delete_child(sys, sup, "child1"));
    assert_counts(w, sup, 0, 0, 0, 0);
    const char *nx = "nx"; /* not_found */
    assert_acto_err(acto_sup_terminate_child(sys, sup, nx), ACTO_ENOTFOUND);
    assert_acto_err(acto_sup_restart_child(sys, sup, nx, &out), ACTO_ENOTFOUND);
    assert_acto_err(acto_sup_delete_child(sys, sup, nx), ACTO_ENOTFOUND);
    assert_acto_err(acto_sup_terminate_child(sys, sup, NULL), ACTO_EINVAL);
    assert_acto_err(start_dyn(w, sup, "x", 0, &out), ACTO_EINVAL);
    acto_child_counts cc; /* noproc: not a supervisor, or a dead one */
    assert_acto_err(acto_sup_count_children(sys, w->watcher, &cc),
                    ACTO_ENOACTOR);
    stop_sup(w, sup);
    assert_acto_err(acto_sup_start_child(sys, sup, &s, &out), ACTO_ENOACTOR);
    assert_acto_err(acto_sup_terminate_child(sys, sup, nx), ACTO_ENOACTOR);
    assert_acto_err(acto_sup_restart_child(sys, sup, nx, &out), ACTO_ENOACTOR);
    assert_acto_err(acto_sup_delete_child(sys, sup, nx), ACTO_ENOACTOR);
    assert_acto_err(acto_sup_count_children(sys, sup, &cc), ACTO_ENOACTOR);
    wclose(w);
}

static void
child_adm_simple(void **state)
{
    world *w = wopen(*state);
    acto_system *sys = w->sys;
    acto_sup_flags f = {.strategy = ACTO_SIMPLE_ONE_FOR_ONE};
    acto_child_spec s = kspec(w, "c", 0, K_PLAIN, 0);
    acto_ref sup = sup_start(w, &f, &s, 1), c1, c2, out;
    assert_acto_ok(start_dyn(w, sup, "c", 1, &c1));
    assert_acto_ok(start_dyn(w, sup, "c", 2, &c2));
    assert_int_equal(w->kids[1].a.value, 2); /* its own argument */
    assert_acto_err(acto_sup_start_child(sys, sup, &s, &out), ACTO_EINVAL);
    assert_acto_err(acto_sup_terminate_child(sys, sup, "c"), ACTO_EINVAL);
    assert_acto_err(acto_sup_restart_child(sys, sup, "c", &out), ACTO_EINVAL);
    assert_acto_err(acto_sup_delete_child(sys, sup, "c"), ACTO_EINVAL);
    assert_acto_err(acto_sup_terminate_ref(sys, sup, w->watcher),
                    ACTO_ENOTFOUND); /* not a child: left alone */
    assert_true(acto_alive(sys, w->watcher));
    assert_acto_ok(acto_sup_terminate_ref(sys, sup, c1));
    settle(w);
    assert_int_equal(w->kids[0].exit, ACTO_EXIT_SHUTDOWN);
    assert_counts(w, sup, 1, 1, 0, 1); /* forgotten, not restarted */
    assert_acto_err(acto_sup_terminate_ref(sys, sup, c1), ACTO_ENOTFOUND);
    stop_sup(w, sup);
    wclose(w);
}

static void
child_specs(void **state)
{
    world *w = wopen(*state);
    acto_ref out, sup = sup_start(w, &ofo, NULL, 0);
    char long_id[300] = {0};
    memset(long_id, 'x', sizeof(long_id) - 1);
    acto_child_spec ok = kspec(w, "c1", 0, K_PLAIN, 0), bad[8];
    for (int i = 0; i < 8; i++) {
        bad[i] = ok;
    }
    bad[0].id = NULL;                 /* missing_id */
    bad[1].start = NULL;              /* missing_start */
    bad[2].restart = (acto_restart)9; /* invalid_restart_type */
    bad[3].shutdown_ms = -10;         /* invalid_shutdown */
    bad[4].kind = (acto_child_kind)9; /* invalid_child_type */
    bad[5].id = long_id;
    bad[6].significant = true; /* bad_combination: with permanent, */
    bad[7].significant = true; /* or with auto-shutdown never */
    bad[7].restart = ACTO_RESTART_TEMPORARY;
    for (int i = 0; i < 8; i++) {
        assert_acto_err(acto_sup_start(w->sys, &ofo, &bad[i], 1, &out),
                        ACTO_EINVAL);
        assert_acto_err(acto_sup_start_child(w->sys, sup, &bad[i], &out),
                        ACTO_EINVAL);
    }
    acto_child_spec two[2] = {ok, ok}; /* duplicate_child_name */
    assert_acto_err(acto_sup_start(w->sys, &ofo, two, 2, &out), ACTO_EINVAL);
    acto_sup_flags simple = {.strategy = ACTO_SIMPLE_ONE_FOR_ONE};
    two[1] = kspec(w, "c2", 0, K_PLAIN, 0); /* a pool needs exactly one */
    assert_acto_err(acto_sup_start(w->sys, &simple, two, 2, &out), ACTO_EINVAL);
    assert_acto_err(acto_sup_start(w->sys, &simple, NULL, 0, &out),
                    ACTO_EINVAL);
    assert_int_equal(w->starts, 0); /* nothing was started */
    assert_counts(w, sup, 0, 0, 0, 0);
    stop_sup(w, sup);
    wclose(w);
}

static void
sup_flags(void **state)
{
    world *w = wopen(*state);
    acto_ref out;
    acto_child_spec ok = kspec(w, "c1", 0, K_PLAIN, 0);
    acto_sup_flags bad[4] = {ofo, ofo, ofo, ofo};
    bad[0].strategy = (acto_strategy)9;           /* invalid_strategy */
    bad[1].auto_shutdown = (acto_auto_shutdown)9; /* invalid_auto_shutdown */
    bad[2].backoff.jitter = 1.5;
    bad[3].strategy = ACTO_SIMPLE_ONE_FOR_ONE; /* OTP's significant_simple */
    bad[3].auto_shutdown = ACTO_AUTO_SHUTDOWN_ANY_SIGNIFICANT;
    for (int i = 0; i < 4; i++) {
        assert_acto_err(acto_sup_start(w->sys, &bad[i], &ok, 1, &out),
                        ACTO_EINVAL);
    }
    assert_int_equal(w->starts, 0);
    /* NULL flags: one-for-one, intensity 1 within 5000 ms. */
    acto_ref sup = sup_start(w, NULL, &ok, 1);
    assert_acto_ok(acto_test_send_int(w->sys, ref_of(w, sup, "c1"), T_DIE, 0));
    advance(w, 4999);
    assert_acto_ok(acto_test_send_int(w->sys, ref_of(w, sup, "c1"), T_DIE, 0));
    settle(w);
    assert_int_equal(down_of(w, sup)->kind, ACTO_EXIT_FAILED);
    assert_string_equal(down_of(w, sup)->type, "ReachedMaxRestartIntensity");
    assert_int_equal(w->exceptions, 1); /* it had no parent */
    /* ACTO_SUP_NO_RESTARTS: the first failure stops it. */
    sup = sup_start(w, &(acto_sup_flags){.intensity = ACTO_SUP_NO_RESTARTS},
                    &ok, 1);
    assert_acto_ok(acto_test_send_int(w->sys, ref_of(w, sup, "c1"), T_DIE, 0));
    settle(w);
    assert_int_equal(down_of(w, sup)->kind, ACTO_EXIT_FAILED);
    assert_int_equal(w->starts, 3);
    wclose(w);
}

/* ---- reports ---------------------------------------------------------- */

static void
count_dynamic(void **state, acto_child_kind kind, int n)
{
    world *w = wopen(*state);
    bool sups = kind == ACTO_CHILD_SUPERVISOR;
    static const subtree empty = {.n = 0};
    acto_sup_flags f = {.strategy = ACTO_SIMPLE_ONE_FOR_ONE};
    acto_child_spec s =
        sups ? subspec(w, "c", &empty) : kspec(w, "c", 0, K_PLAIN, 0);
    s.restart = ACTO_RESTART_TEMPORARY;
    acto_ref sup = sup_start(w, &f, &s, 1);
    acto_ref *refs = calloc((size_t)n * 2, sizeof(*refs));
    for (size_t i = 0, k; i < (size_t)n * 2; i++) {
        karg a = {.w = w, .name = "c", .sub = sups ? &empty : NULL};
        assert_acto_ok(
            acto_sup_start_dynamic(w->sys, sup, &a, sizeof(a), &refs[i]));
        if ((k = i + 1) % (size_t)n == 0) { /* after 1000 and 2000 */
            assert_counts(w, sup, 1, k, sups ? k : 0, sups ? 0 : k);
            settle(w);
            assert_counts(w, sup, 1, k, sups ? k : 0, sups ? 0 : k);
        }
    }
    for (int i = 0; i < 2 * n; i++) {
        assert_acto_ok(acto_kill(w->sys, refs[i]));
    }
    settle(w);
    assert_counts(w, sup, 1, 0, 0, 0);
    assert_int_equal(acto_sup_restarts(w->sys, sup), 0);
    free(refs);
    stop_sup(w, sup);
    wclose(w);
}

SUP_CASE(count_children, count_dynamic, ACTO_CHILD_WORKER, 1000)
SUP_CASE(count_children_supervisor, count_dynamic, ACTO_CHILD_SUPERVISOR, 100)

static void
which_children(void **state)
{
    world *w = wopen(*state);
    static const subtree empty = {.n = 0};
    acto_child_spec s[3] = {kspec(w, "c1", ACTO_RESTART_TRANSIENT, 0, 0),
                            subspec(w, "s2", &empty),
                            kspec(w, "c3", ACTO_RESTART_TEMPORARY, 0, 0)};
    acto_ref sup = sup_start(w, &ofo, s, 3);
    acto_child_info info[3];
    size_t n = 0;
    assert_acto_ok(acto_sup_which_children(w->sys, sup, info, 2, &n));
    assert_int_equal(n, 3); /* more than fit */
    assert_acto_ok(acto_sup_which_children(w->sys, sup, info, 3, &n));
    static const char *ids[] = {"c1", "s2", "c3"};
    for (int i = 0; i < 3; i++) { /* in start order */
        assert_string_equal(info[i].id, ids[i]);
        assert_int_equal(info[i].state, ACTO_CHILD_RUNNING);
        assert_int_equal(info[i].restart, s[i].restart);
        assert_int_equal(info[i].kind, s[i].kind);
        assert_true(acto_alive(w->sys, info[i].ref));
    }
    assert_acto_ok(acto_kill(w->sys, info[0].ref));
    settle(w);
    assert_acto_ok(acto_sup_which_children(w->sys, sup, info, 3, &n));
    assert_int_equal(info[0].restarts, 1);
    assert_true(acto_ref_eq(info[0].ref, w->kids[2].self));
    assert_counts(w, sup, 3, 3, 1, 2);
    stop_sup(w, sup);
    wclose(w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(sup_start_normal),
        acto_unit_test(sup_start_ignore_child),
        acto_unit_test(sup_start_ignore_temporary_child),
        acto_unit_test(sup_start_ignore_temporary_child_start_child),
        acto_unit_test(sup_start_ignore_temporary_child_start_child_simple),
        acto_unit_test(sup_start_ignore_permanent_child_start_child_simple),
        acto_unit_test(sup_start_child_returns_error),
        acto_unit_test(sup_start_restart_child_returns_error),
        acto_unit_test(sup_stop_infinity),
        acto_unit_test(sup_stop_timeout),
        acto_unit_test(sup_stop_brutal_kill),
        acto_unit_test(sup_stop_brutal_kill_dynamic),
        acto_unit_test(child_adm),
        acto_unit_test(child_adm_simple),
        acto_unit_test(child_specs),
        acto_unit_test(sup_flags),
        acto_unit_test(count_children),
        acto_unit_test(count_children_supervisor),
        acto_unit_test(which_children),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
