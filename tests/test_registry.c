/* Names and monitors: register, whereis and unregister, their errors,
 * names dropped when actors stop, bucket growth, allocation failure; down
 * notices with their reasons, monitors of dead refs, demonitor, and
 * watchers that die first. */
#include "acto_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T_NUM = 1, T_WATCH, T_UNWATCH, T_FAIL, T_STOP_SELF };

/* ---- fixture helpers -------------------------------------------------- */

static acto_system *
virtual_system(acto_test_env *env)
{
    return acto_test_system(env, &(acto_system_opts){.virtual_time = true});
}

static void
count_exception(acto_system *sys, const acto_error *err, void *user)
{
    (void)sys;
    (void)err;
    (*(int *)user)++;
}

/* ---- a target: fails or stops itself on request ----------------------- */

static int
target_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)state;
    switch (acto_msg_type(m)) {
    case T_FAIL:
        return acto_fail(ctx, ACTO_EINVAL, "ParseError", "bad line %d", 7);
    case T_STOP_SELF:
        return acto_stop(acto_ctx_system(ctx), acto_self(ctx));
    default:
        return 0;
    }
}

static const acto_behaviour target_beh = {target_receive, NULL, NULL};

static acto_ref
spawn_target(acto_system *sys)
{
    acto_ref ref;
    assert_acto_ok(acto_spawn(sys, &target_beh, NULL, NULL, &ref));
    return ref;
}

/* ---- names ------------------------------------------------------------ */

static void
test_registry_register_whereis_and_unregister_a_name(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    acto_ref a = spawn_target(sys);
    acto_ref b = spawn_target(sys);
    assert_true(acto_ref_is_none(acto_whereis(sys, "a")));
    assert_acto_ok(acto_register(sys, "a", a));
    assert_acto_ok(acto_register(sys, "also-a", a));
    assert_acto_ok(acto_register(sys, "b", b));
    assert_true(acto_ref_eq(acto_whereis(sys, "a"), a));
    assert_true(acto_ref_eq(acto_whereis(sys, "also-a"), a));
    assert_true(acto_ref_eq(acto_whereis(sys, "b"), b));
    assert_acto_ok(acto_unregister(sys, "a"));
    assert_true(acto_ref_is_none(acto_whereis(sys, "a")));
    assert_true(acto_ref_eq(acto_whereis(sys, "also-a"), a));
    assert_acto_err(acto_unregister(sys, "a"), ACTO_ENOTFOUND);
    assert_acto_err(acto_unregister(sys, "never"), ACTO_ENOTFOUND);
    /* A dropped name can be taken again, by another actor. */
    assert_acto_ok(acto_register(sys, "a", b));
    assert_true(acto_ref_eq(acto_whereis(sys, "a"), b));
    acto_test_close_system(env, sys);
}

static void
test_registry_register_rejects_taken_names_dead_refs_and_bad_names(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    acto_ref a = spawn_target(sys);
    acto_ref b = spawn_target(sys);
    acto_ref dead = spawn_target(sys);
    acto_ref stopping = spawn_target(sys);
    assert_acto_ok(acto_stop(sys, dead));
    acto_test_settle(env);
    assert_acto_ok(acto_stop(sys, stopping)); /* marked, not yet reaped */
    assert_acto_ok(acto_register(sys, "taken", a));
    assert_acto_err(acto_register(sys, "taken", b), ACTO_EEXIST);
    assert_acto_err(acto_register(sys, "taken", a), ACTO_EEXIST);
    assert_true(acto_ref_eq(acto_whereis(sys, "taken"), a));
    assert_acto_err(acto_register(sys, "dead", dead), ACTO_ENOACTOR);
    assert_acto_err(acto_register(sys, "stopping", stopping), ACTO_ENOACTOR);
    assert_acto_err(acto_register(sys, "none", ACTO_REF_NONE), ACTO_ENOACTOR);
    assert_acto_err(acto_register(sys, "bogus", (acto_ref){0x00ABCDEF00001234}),
                    ACTO_ENOACTOR);
    char name[257];
    memset(name, 'x', 256);
    name[256] = '\0';
    assert_acto_err(acto_register(sys, "", a), ACTO_EINVAL);
    assert_acto_err(acto_register(sys, name, a), ACTO_EINVAL);
    assert_acto_err(acto_register(sys, NULL, a), ACTO_EINVAL);
    assert_acto_err(acto_register(NULL, "x", a), ACTO_EINVAL);
    assert_true(acto_ref_is_none(acto_whereis(sys, name)));
    assert_true(acto_ref_is_none(acto_whereis(sys, "")));
    assert_true(acto_ref_is_none(acto_whereis(sys, NULL)));
    name[255] = '\0'; /* 255 bytes is the longest name allowed */
    assert_acto_ok(acto_register(sys, name, b));
    assert_true(acto_ref_eq(acto_whereis(sys, name), b));
    assert_acto_err(acto_unregister(sys, NULL), ACTO_EINVAL);
    acto_test_settle(env);
    acto_test_close_system(env, sys);
}

static void
test_registry_name_is_dropped_when_its_actor_stops(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    int exceptions = 0;
    acto_system_set_exception_handler(sys, count_exception, &exceptions);
    acto_ref stopped = spawn_target(sys);
    acto_ref killed = spawn_target(sys);
    acto_ref failed = spawn_target(sys);
    acto_ref self_stopped = spawn_target(sys);
    acto_ref keeper = spawn_target(sys);
    assert_acto_ok(acto_register(sys, "stopped", stopped));
    assert_acto_ok(acto_register(sys, "stopped-2", stopped));
    assert_acto_ok(acto_register(sys, "killed", killed));
    assert_acto_ok(acto_register(sys, "failed", failed));
    assert_acto_ok(acto_register(sys, "self", self_stopped));
    assert_acto_ok(acto_register(sys, "keeper", keeper));
    assert_acto_ok(acto_stop(sys, stopped));
    assert_acto_ok(acto_kill(sys, killed));
    assert_acto_ok(acto_test_send_bytes(sys, failed, T_FAIL, NULL, 0));
    assert_acto_ok(
        acto_test_send_bytes(sys, self_stopped, T_STOP_SELF, NULL, 0));
    acto_test_settle(env);
    assert_int_equal(exceptions, 1);
    assert_true(acto_ref_is_none(acto_whereis(sys, "stopped")));
    assert_true(acto_ref_is_none(acto_whereis(sys, "stopped-2")));
    assert_true(acto_ref_is_none(acto_whereis(sys, "killed")));
    assert_true(acto_ref_is_none(acto_whereis(sys, "failed")));
    assert_true(acto_ref_is_none(acto_whereis(sys, "self")));
    assert_true(acto_ref_eq(acto_whereis(sys, "keeper"), keeper));
    assert_acto_err(acto_unregister(sys, "stopped"), ACTO_ENOTFOUND);
    /* The names are free for new actors. */
    acto_ref next = spawn_target(sys);
    assert_acto_ok(acto_register(sys, "stopped", next));
    assert_true(acto_ref_eq(acto_whereis(sys, "stopped"), next));
    acto_test_close_system(env, sys);
}

static void
test_registry_10000_names_grow_the_buckets_and_all_resolve(void **state)
{
    acto_test_env *env = *state;
    enum { ACTORS = 100, NAMES = 10000 };
    acto_system *sys = virtual_system(env);
    acto_ref refs[ACTORS];
    for (int i = 0; i < ACTORS; i++) {
        refs[i] = spawn_target(sys);
    }
    char name[32];
    for (int i = 0; i < NAMES; i++) {
        snprintf(name, sizeof(name), "worker-%d", i);
        assert_acto_ok(acto_register(sys, name, refs[i % ACTORS]));
    }
    for (int i = 0; i < NAMES; i++) {
        snprintf(name, sizeof(name), "worker-%d", i);
        assert_true(acto_ref_eq(acto_whereis(sys, name), refs[i % ACTORS]));
    }
    for (int i = 0; i < NAMES; i += 2) {
        snprintf(name, sizeof(name), "worker-%d", i);
        assert_acto_ok(acto_unregister(sys, name));
    }
    for (int i = 0; i < NAMES; i++) {
        snprintf(name, sizeof(name), "worker-%d", i);
        acto_ref got = acto_whereis(sys, name);
        if (i % 2 == 0) {
            assert_true(acto_ref_is_none(got));
        } else {
            assert_true(acto_ref_eq(got, refs[i % ACTORS]));
        }
    }
    /* Half the actors stop: their names go, the others stay. */
    for (int i = 0; i < ACTORS; i += 2) {
        assert_acto_ok(acto_stop(sys, refs[i]));
    }
    acto_test_settle(env);
    for (int i = 1; i < NAMES; i += 2) {
        snprintf(name, sizeof(name), "worker-%d", i);
        acto_ref got = acto_whereis(sys, name);
        if ((i % ACTORS) % 2 == 0) {
            assert_true(acto_ref_is_none(got));
        } else {
            assert_true(acto_ref_eq(got, refs[i % ACTORS]));
        }
    }
    acto_test_close_system(env, sys);
}

/* register_until_ok fails each allocation of one acto_register in turn,
 * checking that every failure is ENOMEM and changes nothing, until the
 * call succeeds. */
static void
register_until_ok(acto_system *sys, const char *name, acto_ref ref,
                  int existing)
{
    char other[32];
    for (long n = 1;; n++) {
        long live = acto_test_alloc_live();
        acto_test_alloc_fail_nth(n);
        int rc = acto_register(sys, name, ref);
        bool failed = acto_test_alloc_failed();
        acto_test_alloc_fail_nth(0);
        if (!failed) {
            assert_acto_ok(rc);
            break;
        }
        assert_acto_err(rc, ACTO_ENOMEM);
        /* Nothing leaks. The very first call may keep the empty bucket
         * array it made before the entry failed: no name changes, and the
         * array goes at close like any other. */
        assert_in_range(acto_test_alloc_live(), live,
                        live + (existing == 0 ? 1 : 0));
        assert_true(acto_ref_is_none(acto_whereis(sys, name)));
        for (int i = 0; i < existing; i++) {
            snprintf(other, sizeof(other), "n%d", i);
            assert_true(acto_ref_eq(acto_whereis(sys, other), ref));
        }
        assert_true(n < 100);
    }
    assert_true(acto_ref_eq(acto_whereis(sys, name), ref));
}

static void
test_registry_register_out_of_memory_at_every_allocation_changes_nothing(
    void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    acto_ref a = spawn_target(sys);
    char name[32];
    /* The first name makes the buckets, the 65th doubles them, the others
     * need only their entry. */
    for (int i = 0; i < 70; i++) {
        snprintf(name, sizeof(name), "n%d", i);
        register_until_ok(sys, name, a, i);
    }
    assert_acto_ok(acto_stop(sys, a));
    acto_test_settle(env);
    assert_true(acto_ref_is_none(acto_whereis(sys, "n0")));
    acto_test_close_system(env, sys);
}

/* ---- monitors --------------------------------------------------------- */

#define MAX_DOWNS 8

typedef struct down_rec {
    acto_ref actor;
    acto_ref sender;
    uint64_t monitor;
    acto_exit_kind kind;
    bool has_error;
    int code;
    char type[32];
    char text[64];
} down_rec;

/* A watcher monitors the ref carried by T_WATCH and demonitors its last
 * monitor on T_UNWATCH. */
typedef struct watcher {
    int monitor_rc;
    uint64_t ids[MAX_DOWNS];
    int n_ids;
    int demonitor_rc[2];
    int n_demonitor;
    int downs;
    down_rec down[MAX_DOWNS];
} watcher;

static int
watcher_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    watcher *w = state;
    switch (acto_msg_type(m)) {
    case T_WATCH: {
        acto_ref target;
        memcpy(&target, acto_msg_data(m, NULL), sizeof(target));
        uint64_t id = 0;
        w->monitor_rc = acto_monitor(ctx, target, &id);
        if (w->monitor_rc == 0 && w->n_ids < MAX_DOWNS) {
            w->ids[w->n_ids++] = id;
        }
        return 0;
    }
    case T_UNWATCH:
        for (int i = 0; i < 2; i++) {
            w->demonitor_rc[i] = acto_demonitor(ctx, w->ids[w->n_ids - 1]);
        }
        w->n_demonitor++;
        return 0;
    case ACTO_MSG_DOWN: {
        const acto_down *d = acto_msg_down(m);
        if (d != NULL && w->downs < MAX_DOWNS) {
            down_rec *r = &w->down[w->downs];
            r->actor = d->actor;
            r->sender = acto_msg_sender(m);
            r->monitor = d->monitor;
            r->kind = d->reason.kind;
            if ((r->has_error = d->reason.error != NULL)) {
                r->code = d->reason.error->code;
                snprintf(r->type, sizeof(r->type), "%s", d->reason.error->type);
                snprintf(r->text, sizeof(r->text), "%s", d->reason.error->text);
            }
        }
        w->downs++;
        return 0;
    }
    default:
        return 0;
    }
}

static const acto_behaviour watcher_beh = {watcher_receive, NULL, NULL};

static acto_ref
spawn_watcher(acto_system *sys, watcher *w)
{
    acto_ref ref;
    assert_acto_ok(acto_spawn(sys, &watcher_beh, w, NULL, &ref));
    return ref;
}

/* watch makes watcher w monitor target from inside its handler. */
static void
watch(acto_test_env *env, acto_system *sys, acto_ref w, acto_ref target)
{
    assert_acto_ok(
        acto_test_send_bytes(sys, w, T_WATCH, &target, sizeof(target)));
    acto_test_settle(env);
}

static void
test_monitor_down_reports_normal_after_stop(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    watcher w = {0};
    acto_ref wref = spawn_watcher(sys, &w);
    acto_ref t = spawn_target(sys);
    watch(env, sys, wref, t);
    assert_acto_ok(w.monitor_rc);
    assert_int_equal(w.n_ids, 1);
    assert_int_equal(w.downs, 0);
    assert_acto_ok(acto_stop(sys, t));
    acto_test_settle(env);
    assert_int_equal(w.downs, 1);
    assert_true(acto_ref_eq(w.down[0].actor, t));
    assert_true(acto_ref_eq(w.down[0].sender, t));
    assert_int_equal(w.down[0].monitor, w.ids[0]);
    assert_int_equal(w.down[0].kind, ACTO_EXIT_NORMAL);
    assert_false(w.down[0].has_error);
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
}

static void
test_monitor_down_reports_killed_after_kill(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    watcher w = {0};
    acto_ref wref = spawn_watcher(sys, &w);
    acto_ref t = spawn_target(sys);
    watch(env, sys, wref, t);
    assert_acto_ok(acto_kill(sys, t));
    acto_test_settle(env);
    assert_int_equal(w.downs, 1);
    assert_true(acto_ref_eq(w.down[0].actor, t));
    assert_int_equal(w.down[0].kind, ACTO_EXIT_KILLED);
    assert_false(w.down[0].has_error);
    acto_test_close_system(env, sys);
}

static void
test_monitor_down_reports_failed_with_the_error_after_a_failing_handler(
    void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    int exceptions = 0;
    acto_system_set_exception_handler(sys, count_exception, &exceptions);
    watcher w1 = {0}, w2 = {0};
    acto_ref w1ref = spawn_watcher(sys, &w1);
    acto_ref w2ref = spawn_watcher(sys, &w2);
    acto_ref t = spawn_target(sys);
    watch(env, sys, w1ref, t);
    watch(env, sys, w2ref, t);
    watch(env, sys, w2ref, t); /* a second monitor, a second notice */
    assert_acto_ok(acto_test_send_bytes(sys, t, T_FAIL, NULL, 0));
    acto_test_settle(env);
    assert_int_equal(exceptions, 1); /* no parent: the handler got it */
    assert_int_equal(w1.downs, 1);
    assert_int_equal(w2.downs, 2);
    assert_int_not_equal(w2.down[0].monitor, w2.down[1].monitor);
    down_rec *all[] = {&w1.down[0], &w2.down[0], &w2.down[1]};
    for (int i = 0; i < 3; i++) {
        assert_true(acto_ref_eq(all[i]->actor, t));
        assert_int_equal(all[i]->kind, ACTO_EXIT_FAILED);
        assert_true(all[i]->has_error);
        assert_acto_err(all[i]->code, ACTO_EINVAL);
        assert_string_equal(all[i]->type, "ParseError");
        assert_string_equal(all[i]->text, "bad line 7");
    }
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
}

static void
test_monitor_of_a_dead_ref_delivers_down_at_once_with_noactor(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    watcher w = {0};
    acto_ref wref = spawn_watcher(sys, &w);
    acto_ref t = spawn_target(sys);
    assert_acto_ok(acto_stop(sys, t));
    acto_test_settle(env);
    watch(env, sys, wref, t);
    watch(env, sys, wref, ACTO_REF_NONE);
    assert_acto_ok(w.monitor_rc);
    assert_int_equal(w.downs, 2);
    assert_true(acto_ref_eq(w.down[0].actor, t));
    assert_int_equal(w.down[0].monitor, w.ids[0]);
    assert_int_equal(w.down[0].kind, ACTO_EXIT_NOACTOR);
    assert_false(w.down[0].has_error);
    assert_true(acto_ref_is_none(w.down[1].actor));
    assert_int_equal(w.down[1].monitor, w.ids[1]);
    assert_int_equal(w.down[1].kind, ACTO_EXIT_NOACTOR);
    assert_int_not_equal(w.ids[0], w.ids[1]);
    acto_test_close_system(env, sys);
}

static void
test_monitor_demonitor_prevents_the_down_message(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    watcher w = {0};
    acto_ref wref = spawn_watcher(sys, &w);
    acto_ref t = spawn_target(sys);
    watch(env, sys, wref, t);
    assert_acto_ok(acto_test_send_bytes(sys, wref, T_UNWATCH, NULL, 0));
    acto_test_settle(env);
    assert_int_equal(w.n_demonitor, 1);
    assert_acto_ok(w.demonitor_rc[0]);
    assert_acto_err(w.demonitor_rc[1], ACTO_ENOTFOUND);
    assert_acto_ok(acto_stop(sys, t));
    acto_test_settle(env);
    assert_int_equal(w.downs, 0);
    assert_int_equal(acto_dead_letters(sys), 0);
    acto_test_close_system(env, sys);
}

static void
test_monitor_watcher_that_dies_first_leaves_no_dangling_monitor(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    watcher w = {0}, other = {0};
    acto_ref wref = spawn_watcher(sys, &w);
    acto_ref oref = spawn_watcher(sys, &other);
    acto_ref t = spawn_target(sys);
    watch(env, sys, wref, t);
    watch(env, sys, wref, t);
    watch(env, sys, oref, t);
    assert_acto_ok(acto_stop(sys, wref));
    acto_test_settle(env);
    long live = acto_test_alloc_live();
    assert_acto_ok(acto_stop(sys, t));
    acto_test_settle(env);
    /* Only the live watcher hears of it; nothing is sent to the dead one. */
    assert_int_equal(w.downs, 0);
    assert_int_equal(other.downs, 1);
    assert_int_equal(acto_dead_letters(sys), 0);
    assert_true(acto_test_alloc_live() < live);
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
}

static void
test_monitor_watcher_and_target_stopping_together_is_safe(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    watcher w = {0};
    acto_ref wref = spawn_watcher(sys, &w);
    acto_ref t = spawn_target(sys);
    watch(env, sys, wref, t);
    assert_acto_ok(acto_stop(sys, t));
    assert_acto_ok(acto_stop(sys, wref));
    acto_test_settle(env);
    assert_int_equal(w.downs, 0);
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
}

static void
test_monitor_still_watching_at_close_leaks_nothing(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = virtual_system(env);
    watcher w1 = {0}, w2 = {0};
    acto_ref w1ref = spawn_watcher(sys, &w1);
    acto_ref w2ref = spawn_watcher(sys, &w2);
    acto_ref t = spawn_target(sys);
    watch(env, sys, w1ref, t);
    watch(env, sys, w1ref, w2ref);
    watch(env, sys, w2ref, w1ref);
    acto_test_close_system(env, sys);
    /* The teardown proves the monitors and their notices were freed. */
}

/* ---- refs across memory given back ------------------------------------ */

#define CROWD 20000

static void
test_refs_stay_dead_after_a_crowd_gives_its_memory_back(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    acto_ref keeper = spawn_target(sys);
    long base = acto_test_alloc_live_bytes();
    acto_ref *refs = calloc(CROWD, sizeof(*refs));
    assert_non_null(refs);
    for (int i = 0; i < CROWD; i++) {
        refs[i] = spawn_target(sys);
    }
    long peak = acto_test_alloc_live_bytes();
    for (int i = 0; i < CROWD; i++) {
        assert_acto_ok(acto_stop(sys, refs[i]));
    }
    acto_test_settle(env);
    /* Actor slabs and the ref table shrink back (a few slabs and a 4096-slot
     * table are kept). */
    long kept = acto_test_alloc_live_bytes() - base;
    assert_true(peak - base > 2000000);
    if (kept > 128 * 1024) {
        fail_msg("%ld bytes kept after %d actors stopped", kept, CROWD);
    }
    /* New actors reuse the slots, never the old refs' generations. */
    for (int i = 0; i < CROWD; i++) {
        acto_ref fresh = spawn_target(sys);
        assert_false(acto_ref_eq(fresh, refs[i]));
        assert_false(acto_alive(sys, refs[i]));
        assert_acto_err(acto_stop(sys, refs[i]), ACTO_ENOACTOR);
    }
    assert_true(acto_alive(sys, keeper));
    for (int i = 0; i < CROWD; i++) {
        assert_acto_ok(acto_test_send_int(sys, refs[i], T_NUM, i));
    }
    acto_test_settle(env);
    assert_int_equal(acto_dead_letters(sys), CROWD);
    free(refs);
    acto_test_close_system(env, sys);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(test_registry_register_whereis_and_unregister_a_name),
        acto_unit_test(
            test_registry_register_rejects_taken_names_dead_refs_and_bad_names),
        acto_unit_test(test_registry_name_is_dropped_when_its_actor_stops),
        acto_unit_test(
            test_registry_10000_names_grow_the_buckets_and_all_resolve),
        acto_unit_test(
            test_registry_register_out_of_memory_at_every_allocation_changes_nothing),
        acto_unit_test(test_monitor_down_reports_normal_after_stop),
        acto_unit_test(test_monitor_down_reports_killed_after_kill),
        acto_unit_test(
            test_monitor_down_reports_failed_with_the_error_after_a_failing_handler),
        acto_unit_test(
            test_monitor_of_a_dead_ref_delivers_down_at_once_with_noactor),
        acto_unit_test(test_monitor_demonitor_prevents_the_down_message),
        acto_unit_test(
            test_monitor_watcher_that_dies_first_leaves_no_dangling_monitor),
        acto_unit_test(
            test_monitor_watcher_and_target_stopping_together_is_safe),
        acto_unit_test(test_monitor_still_watching_at_close_leaks_nothing),
        acto_unit_test(test_refs_stay_dead_after_a_crowd_gives_its_memory_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
