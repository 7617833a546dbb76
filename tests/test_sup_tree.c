/* Checking a supervision tree: shutdown budgets that exceed their
 * parent's, restart budgets multiplied across levels, and the check debug
 * mode runs when a supervisor starts. */
#include "sup_world.h"

#include <acto/signals.h>

#include <unistd.h>

typedef struct warnings {
    int n;
    char ids[8][16];
    char texts[8][160];
} warnings;

static void
collect(acto_ref sup, const char *child_id, const char *text, void *user)
{
    (void)sup;
    warnings *w = user;
    if (w->n < 8) {
        snprintf(w->ids[w->n], sizeof(w->ids[0]), "%s", child_id);
        snprintf(w->texts[w->n], sizeof(w->texts[0]), "%s", text);
    }
    w->n++;
}

/* root (one_for_one, intensity 3) -> mid (budget 1000 ms, intensity 4)
 * -> slow (budget 5000 ms: more than mid's) and fast (budget 100 ms). */
static acto_ref
start_tree(world *w, subtree *mid)
{
    mid->flags = (acto_sup_flags){.intensity = 4, .period_ms = 1000};
    mid->specs[0] = kspec(w, "slow", 0, K_PLAIN, 0);
    mid->specs[0].shutdown_ms = 5000;
    mid->specs[1] = kspec(w, "fast", 0, K_PLAIN, 0);
    mid->specs[1].shutdown_ms = 100;
    mid->n = 2;
    acto_child_spec top = subspec(w, "mid", mid);
    top.shutdown_ms = 1000;
    acto_sup_flags f = {.intensity = 3, .period_ms = 1000};
    return sup_start(w, &f, &top, 1);
}

static void
check_warns_about_budgets_beyond_the_parent(void **state)
{
    world *w = wopen(*state);
    subtree mid;
    acto_ref root = start_tree(w, &mid);
    warnings got = {0};
    assert_int_equal(acto_sup_check(w->sys, root, 0, collect, &got), 1);
    assert_string_equal(got.ids[0], "slow");
    assert_non_null(strstr(got.texts[0], "5000"));
    assert_non_null(strstr(got.texts[0], "1000"));
    stop_sup(w, root);
    wclose(w);
}

static void
check_multiplies_restart_budgets_across_levels(void **state)
{
    world *w = wopen(*state);
    subtree mid;
    acto_ref root = start_tree(w, &mid);
    /* A worker may restart (3 + 1) * (4 + 1) - 1 = 19 times. */
    warnings got = {0};
    assert_int_equal(acto_sup_check(w->sys, root, 19, collect, &got), 1);
    got = (warnings){0};
    assert_int_equal(acto_sup_check(w->sys, root, 18, collect, &got), 3);
    assert_string_equal(got.ids[1], "slow");
    assert_non_null(strstr(got.texts[1], "19 times"));
    assert_string_equal(got.ids[2], "fast");
    assert_acto_err(acto_sup_check(w->sys, ACTO_REF_NONE, 0, NULL, NULL),
                    ACTO_ENOACTOR);
    stop_sup(w, root);
    wclose(w);
}

static void
check_runs_in_debug_mode_at_start(void **state)
{
    world *w = wopen(*state);
    acto_system_set_debug(w->sys, true);
    /* The warning goes to stderr (caught here); the tree starts all the
     * same. */
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    fflush(stderr);
    int saved = dup(2);
    assert_true(saved >= 0 && dup2(fileno(tmp), 2) == 2);
    subtree mid;
    acto_ref root = start_tree(w, &mid);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char said[512] = {0};
    rewind(tmp);
    size_t n = fread(said, 1, sizeof(said) - 1, tmp);
    fclose(tmp);
    assert_true(n > 0);
    assert_non_null(strstr(said, "child 'slow': shutdown budget 5000 ms"));
    assert_int_equal(state_of(w, ref_of(w, root, "mid"), "slow"),
                     ACTO_CHILD_RUNNING);
    acto_system_set_debug(w->sys, false);
    stop_sup(w, root);
    wclose(w);
}

/* ---- the system's root ------------------------------------------------ */

static int
root_from_handler(acto_ctx *ctx, void *state, void *user)
{
    (void)state;
    acto_ref r;
    *(int *)user = acto_sup_root(acto_ctx_system(ctx), &r);
    return 0;
}

static void
done_flag(acto_system *sys, const acto_signals_report *r, void *user)
{
    (void)sys;
    (void)r;
    *(bool *)user = true;
}

static void
root_supervisor_holds_top_level_trees(void **state)
{
    world *w = wopen(*state);
    acto_ref root, again;
    assert_acto_ok(acto_sup_root(w->sys, &root));
    assert_acto_ok(acto_sup_root(w->sys, &again));
    assert_true(acto_ref_eq(root, again));
    assert_true(acto_ref_eq(acto_whereis(w->sys, ACTO_SUP_ROOT_NAME), root));
    assert_true(acto_ref_is_none(acto_parent_of(w->sys, root)));
    watch(w, root);
    /* A tree joins it as a supervisor child. */
    subtree mid;
    mid.flags = (acto_sup_flags){.intensity = 1};
    mid.specs[0] = kspec(w, "worker", 0, K_PLAIN, 0);
    mid.n = 1;
    acto_child_spec top = subspec(w, "app", &mid);
    acto_ref app;
    assert_acto_ok(acto_sup_start_child(w->sys, root, &top, &app));
    assert_true(acto_ref_eq(acto_parent_of(w->sys, app), root));
    /* Not from inside a handler, where it would get a parent. */
    acto_stop(w->sys, root); /* a fresh one is made next time */
    settle(w);
    int rc = 0;
    assert_acto_ok(
        acto_call_as(w->sys, w->watcher, &watcher_b, root_from_handler, &rc));
    assert_acto_err(rc, ACTO_EBUSY);
    /* Signals stop the root when given no ref. */
    bool done = false;
    acto_signals *sig;
    assert_acto_ok(acto_stop_on_signals(
        w->sys, ACTO_REF_NONE,
        &(acto_signals_opts){.done = done_flag, .user = &done}, &sig));
    assert_acto_ok(acto_sup_root(w->sys, &root));
    assert_acto_ok(acto_signals_stop(sig));
    settle(w);
    assert_true(done);
    assert_false(acto_alive(w->sys, root));
    wclose(w);
}

static void
closing_the_system_stops_a_live_tree(void **state)
{
    world *w = wopen(*state);
    subtree mid;
    acto_ref root = start_tree(w, &mid);
    acto_sup_flags pool = {.strategy = ACTO_SIMPLE_ONE_FOR_ONE};
    acto_child_spec ps = kspec(w, "p", 0, K_DEAF, 0);
    acto_ref dyn = sup_start(w, &pool, &ps, 1), c;
    for (int i = 0; i < 5; i++) {
        assert_acto_ok(start_dyn(w, dyn, "p", i, &c));
    }
    (void)root;
    /* No shutdown first: the system's close stops everything, and the
     * fixture checks nothing leaks and the loop closes. */
    wclose(w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(check_warns_about_budgets_beyond_the_parent),
        acto_unit_test(check_multiplies_restart_budgets_across_levels),
        acto_unit_test(check_runs_in_debug_mode_at_start),
        acto_unit_test(root_supervisor_holds_top_level_trees),
        acto_unit_test(closing_the_system_stops_a_live_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
