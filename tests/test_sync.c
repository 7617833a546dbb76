/* Events and semaphores: asyncio's Event, Semaphore and BoundedSemaphore. */
#include "acto_test.h"

#include <acto/sync.h>

#include <stdlib.h>

/* ---- helpers ---------------------------------------------------------- */

/* What one future's done callback saw. */
typedef struct probe {
    int calls;
    int order; /* when it ran, counting from 1 across all probes */
    acto_future_state state;
} probe;

static int probe_seq;

static void
on_probe(acto_future *f, void *user)
{
    probe *p = user;
    p->calls++;
    p->order = ++probe_seq;
    p->state = acto_future_state_of(f);
}

static void
watch(acto_future *f, probe *p)
{
    *p = (probe){0};
    assert_acto_ok(acto_future_add_done_cb(f, on_probe, p));
}

static acto_system *
sync_system(void **state)
{
    probe_seq = 0;
    return acto_test_system(*state, NULL);
}

/* ---- events ----------------------------------------------------------- */

static void
test_event_set_wakes_every_waiter(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = sync_system(state);
    acto_event *ev;
    assert_acto_ok(acto_event_new(sys, &ev));
    acto_future *f[3];
    probe p[3];
    for (int i = 0; i < 3; i++) {
        assert_acto_ok(acto_event_wait(ev, &f[i]));
        watch(f[i], &p[i]);
    }
    acto_test_settle(env);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(p[i].calls, 0);
    }
    assert_false(acto_event_is_set(ev));
    acto_event_set(ev);
    assert_true(acto_event_is_set(ev));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(p[i].calls, 0); /* never inside the call */
    }
    acto_test_settle(env);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(p[i].calls, 1);
        assert_int_equal(p[i].state, ACTO_FUTURE_DONE);
        assert_acto_ok(acto_future_result(f[i], NULL));
        acto_future_release(f[i]);
    }
    acto_event_free(ev);
    acto_test_close_system(env, sys);
}

static void
test_event_wait_on_a_set_event_completes_through_its_callback(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = sync_system(state);
    acto_event *ev;
    assert_acto_ok(acto_event_new(sys, &ev));
    acto_event_set(ev);
    acto_future *f;
    probe p;
    assert_acto_ok(acto_event_wait(ev, &f));
    assert_true(acto_future_done(f));
    watch(f, &p);
    assert_int_equal(p.calls, 0);
    acto_test_settle(env);
    assert_int_equal(p.calls, 1);
    assert_int_equal(p.state, ACTO_FUTURE_DONE);
    acto_future_release(f);
    acto_event_free(ev);
    acto_test_close_system(env, sys);
}

static void
test_event_clear_makes_later_waits_wait_for_the_next_set(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = sync_system(state);
    acto_event *ev;
    assert_acto_ok(acto_event_new(sys, &ev));
    acto_event_set(ev);
    acto_event_clear(ev);
    assert_false(acto_event_is_set(ev));
    acto_future *f;
    probe p;
    assert_acto_ok(acto_event_wait(ev, &f));
    watch(f, &p);
    acto_test_settle(env);
    assert_false(acto_future_done(f));
    acto_event_set(ev);
    acto_test_settle(env);
    assert_int_equal(p.calls, 1);
    assert_int_equal(p.state, ACTO_FUTURE_DONE);
    acto_future_release(f);
    acto_event_free(ev);
    acto_test_close_system(env, sys);
}

static void
test_event_cancelled_waiter_is_removed_and_others_still_wake(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = sync_system(state);
    acto_event *ev;
    assert_acto_ok(acto_event_new(sys, &ev));
    long before = acto_test_alloc_live();
    acto_future *gone, *kept;
    probe pg, pk;
    assert_acto_ok(acto_event_wait(ev, &gone));
    assert_acto_ok(acto_event_wait(ev, &kept));
    watch(gone, &pg);
    watch(kept, &pk);
    assert_acto_ok(acto_future_cancel(gone, NULL));
    acto_future_release(gone);
    acto_test_settle(env);
    assert_int_equal(pg.calls, 1);
    assert_int_equal(pg.state, ACTO_FUTURE_CANCELLED);
    acto_event_set(ev);
    acto_test_settle(env);
    assert_int_equal(pk.calls, 1);
    assert_int_equal(pk.state, ACTO_FUTURE_DONE);
    acto_future_release(kept);
    /* Both waiters and futures are gone: nothing is left of the waits. */
    assert_int_equal(acto_test_alloc_live(), before);
    acto_event_free(ev);
    acto_test_close_system(env, sys);
}

static void
test_event_set_right_after_a_cancel_skips_the_cancelled_waiter(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = sync_system(state);
    acto_event *ev;
    assert_acto_ok(acto_event_new(sys, &ev));
    acto_future *f;
    probe p;
    assert_acto_ok(acto_event_wait(ev, &f));
    watch(f, &p);
    /* The waiter's own callback has not run yet when the set comes. */
    assert_acto_ok(acto_future_cancel(f, NULL));
    acto_event_set(ev);
    acto_test_settle(env);
    assert_int_equal(p.calls, 1);
    assert_int_equal(p.state, ACTO_FUTURE_CANCELLED);
    acto_future_release(f);
    acto_event_free(ev);
    acto_test_close_system(env, sys);
}

static void
test_event_free_cancels_pending_waits(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = sync_system(state);
    acto_event *ev;
    assert_acto_ok(acto_event_new(sys, &ev));
    acto_future *f[2];
    probe p[2];
    for (int i = 0; i < 2; i++) {
        assert_acto_ok(acto_event_wait(ev, &f[i]));
        watch(f[i], &p[i]);
    }
    acto_event_free(ev);
    acto_test_settle(env);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(p[i].calls, 1);
        assert_acto_err(acto_future_result(f[i], NULL), ACTO_ECANCELED);
        acto_future_release(f[i]);
    }
    acto_test_close_system(env, sys);
}

static void
test_event_waits_are_cancelled_when_the_system_closes(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = sync_system(state);
    acto_event *ev;
    assert_acto_ok(acto_event_new(sys, &ev));
    acto_future *f;
    assert_acto_ok(acto_event_wait(ev, &f));
    acto_test_close_system(env, sys);
    assert_true(acto_future_cancelled(f));
    acto_future_release(f);
    acto_event_set(ev); /* nobody left to wake */
    acto_event_free(ev);
}

static void
test_event_fails_cleanly_when_out_of_memory(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = sync_system(state);
    acto_event *ev = NULL;
    /* The constructor. */
    for (long n = 1;; n++) {
        long before = acto_test_alloc_live();
        acto_test_alloc_fail_nth(n);
        int rc = acto_event_new(sys, &ev);
        acto_test_alloc_fail_nth(0);
        if (rc == 0) {
            break;
        }
        assert_acto_err(rc, ACTO_ENOMEM);
        assert_int_equal(acto_test_alloc_live(), before);
    }
    /* A wait that has to wait, then one on a set event. */
    for (int set = 0; set < 2; set++) {
        acto_future *f = NULL;
        for (long n = 1;; n++) {
            long before = acto_test_alloc_live();
            acto_test_alloc_fail_nth(n);
            int rc = acto_event_wait(ev, &f);
            acto_test_alloc_fail_nth(0);
            if (rc == 0) {
                break;
            }
            assert_acto_err(rc, ACTO_ENOMEM);
            acto_test_settle(env);
            assert_int_equal(acto_test_alloc_live(), before);
        }
        acto_event_set(ev);
        acto_test_settle(env);
        assert_int_equal(acto_future_state_of(f), ACTO_FUTURE_DONE);
        acto_future_release(f);
    }
    acto_event_free(ev);
    acto_test_close_system(env, sys);
}

/* ---- semaphores ------------------------------------------------------- */

static void
test_semaphore_acquire_completes_at_once_through_its_callback(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = sync_system(state);
    acto_semaphore *s;
    assert_acto_ok(acto_semaphore_new(sys, 2, false, &s));
    acto_future *f;
    probe p;
    assert_acto_ok(acto_semaphore_acquire(s, &f));
    assert_int_equal(acto_semaphore_value(s), 1);
    assert_true(acto_future_done(f));
    watch(f, &p);
    assert_int_equal(p.calls, 0);
    acto_test_settle(env);
    assert_int_equal(p.calls, 1);
    assert_int_equal(p.state, ACTO_FUTURE_DONE);
    acto_future_release(f);
    assert_acto_ok(acto_semaphore_release(s));
    assert_int_equal(acto_semaphore_value(s), 2);
    acto_semaphore_free(s);
    acto_test_close_system(env, sys);
}

static void
test_semaphore_waiters_acquire_in_fifo_order(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = sync_system(state);
    acto_semaphore *s;
    assert_acto_ok(acto_semaphore_new(sys, 1, false, &s));
    assert_acto_ok(acto_semaphore_try_acquire(s));
    enum { N = 5 };
    acto_future *f[N];
    probe p[N];
    for (int i = 0; i < N; i++) {
        assert_acto_ok(acto_semaphore_acquire(s, &f[i]));
        watch(f[i], &p[i]);
    }
    assert_true(acto_semaphore_locked(s));
    /* Each release goes to the first waiter, and only to it. */
    for (int i = 0; i < N; i++) {
        assert_acto_ok(acto_semaphore_release(s));
        assert_int_equal(acto_semaphore_value(s), 0);
        acto_test_settle(env);
        for (int j = 0; j < N; j++) {
            assert_int_equal(p[j].calls, j <= i ? 1 : 0);
        }
        assert_int_equal(p[i].order, i + 1);
        assert_int_equal(p[i].state, ACTO_FUTURE_DONE);
    }
    /* Releases in one go keep the order too. */
    assert_acto_ok(acto_semaphore_release(s));
    for (int i = 0; i < N; i++) {
        acto_future_release(f[i]);
        assert_acto_ok(acto_semaphore_acquire(s, &f[i]));
        watch(f[i], &p[i]);
    }
    acto_test_settle(env);
    for (int i = 1; i < N; i++) {
        assert_acto_ok(acto_semaphore_release(s));
    }
    acto_test_settle(env);
    for (int i = 0; i < N; i++) {
        assert_int_equal(p[i].calls, 1);
        if (i > 0) {
            assert_true(p[i].order > p[i - 1].order);
        }
        acto_future_release(f[i]);
    }
    assert_acto_ok(acto_semaphore_release(s));
    assert_int_equal(acto_semaphore_value(s), 1);
    assert_false(acto_semaphore_locked(s));
    acto_semaphore_free(s);
    acto_test_close_system(env, sys);
}

static void
test_semaphore_new_acquire_waits_behind_earlier_waiters(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = sync_system(state);
    acto_semaphore *s;
    assert_acto_ok(acto_semaphore_new(sys, 0, false, &s));
    acto_future *first, *late;
    probe p1, p2;
    assert_acto_ok(acto_semaphore_acquire(s, &first));
    watch(first, &p1);
    /* The permit is granted to first at once, so it is not free for a
     * newcomer, nor for a try_acquire, though first has not seen it. */
    assert_acto_ok(acto_semaphore_release(s));
    assert_acto_err(acto_semaphore_try_acquire(s), ACTO_EBUSY);
    assert_acto_ok(acto_semaphore_acquire(s, &late));
    watch(late, &p2);
    acto_test_settle(env);
    assert_int_equal(p1.state, ACTO_FUTURE_DONE);
    assert_int_equal(p2.calls, 0);
    assert_acto_ok(acto_semaphore_release(s));
    acto_test_settle(env);
    assert_int_equal(p2.state, ACTO_FUTURE_DONE);
    assert_acto_ok(acto_semaphore_release(s));
    assert_int_equal(acto_semaphore_value(s), 1);
    acto_future_release(first);
    acto_future_release(late);
    acto_semaphore_free(s);
    acto_test_close_system(env, sys);
}

static void
test_bounded_semaphore_refuses_a_release_above_its_initial_value(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = sync_system(state);
    acto_semaphore *b, *u;
    assert_acto_ok(acto_semaphore_new(sys, 2, true, &b));
    assert_acto_err(acto_semaphore_release(b), ACTO_EINVAL);
    assert_int_equal(acto_semaphore_value(b), 2);
    assert_acto_ok(acto_semaphore_try_acquire(b));
    assert_acto_ok(acto_semaphore_release(b));
    assert_acto_err(acto_semaphore_release(b), ACTO_EINVAL);
    assert_int_equal(acto_semaphore_value(b), 2);
    /* An unbounded one counts past its initial value, as asyncio's. */
    assert_acto_ok(acto_semaphore_new(sys, 2, false, &u));
    assert_acto_ok(acto_semaphore_release(u));
    assert_int_equal(acto_semaphore_value(u), 3);
    acto_semaphore_free(b);
    acto_semaphore_free(u);
    acto_test_close_system(env, sys);
}

static void
test_semaphore_try_acquire_takes_a_free_permit_or_is_busy(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = sync_system(state);
    acto_semaphore *s;
    assert_acto_ok(acto_semaphore_new(sys, 1, false, &s));
    assert_false(acto_semaphore_locked(s));
    assert_acto_ok(acto_semaphore_try_acquire(s));
    assert_true(acto_semaphore_locked(s));
    assert_int_equal(acto_semaphore_value(s), 0);
    assert_acto_err(acto_semaphore_try_acquire(s), ACTO_EBUSY);
    assert_int_equal(acto_semaphore_value(s), 0);
    assert_acto_ok(acto_semaphore_release(s));
    assert_int_equal(acto_semaphore_value(s), 1);
    assert_acto_err(acto_semaphore_try_acquire(NULL), ACTO_EINVAL);
    acto_semaphore_free(s);
    acto_test_close_system(env, sys);
}

static void
test_semaphore_acquire_cancelled_while_waiting_never_takes_a_permit(
    void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = sync_system(state);
    acto_semaphore *s;
    assert_acto_ok(acto_semaphore_new(sys, 1, true, &s));
    assert_acto_ok(acto_semaphore_try_acquire(s));
    acto_future *a, *b, *c;
    probe pa, pb, pc;
    assert_acto_ok(acto_semaphore_acquire(s, &a));
    assert_acto_ok(acto_semaphore_acquire(s, &b));
    assert_acto_ok(acto_semaphore_acquire(s, &c));
    watch(a, &pa);
    watch(b, &pb);
    watch(c, &pc);
    /* a leaves after its callback has run; b is cancelled and the release
     * comes before its callback runs: the release must pass over both. */
    assert_acto_ok(acto_future_cancel(a, NULL));
    acto_test_settle(env);
    assert_acto_ok(acto_future_cancel(b, NULL));
    assert_acto_ok(acto_semaphore_release(s));
    assert_int_equal(acto_semaphore_value(s), 0);
    acto_test_settle(env);
    assert_int_equal(pa.state, ACTO_FUTURE_CANCELLED);
    assert_int_equal(pb.state, ACTO_FUTURE_CANCELLED);
    assert_int_equal(pc.state, ACTO_FUTURE_DONE);
    assert_acto_ok(acto_semaphore_release(s));
    assert_int_equal(acto_semaphore_value(s), 1);
    /* Exactly one: a bounded semaphore would refuse a permit too many. */
    assert_acto_err(acto_semaphore_release(s), ACTO_EINVAL);
    acto_future_release(a);
    acto_future_release(b);
    acto_future_release(c);
    acto_semaphore_free(s);
    acto_test_close_system(env, sys);
}

static void
test_semaphore_release_passes_over_a_cancelled_waiter_at_once(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = sync_system(state);
    acto_semaphore *s;
    assert_acto_ok(acto_semaphore_new(sys, 0, false, &s));
    acto_future *a;
    assert_acto_ok(acto_semaphore_acquire(s, &a));
    assert_true(acto_semaphore_locked(s));
    /* Cancelled, its callback not run yet: it no longer counts as a
     * waiter (asyncio's locked() ignores cancelled waiters). */
    assert_acto_ok(acto_future_cancel(a, NULL));
    assert_acto_ok(acto_semaphore_release(s));
    assert_int_equal(acto_semaphore_value(s), 1);
    assert_false(acto_semaphore_locked(s));
    assert_acto_ok(acto_semaphore_try_acquire(s));
    acto_test_settle(env);
    assert_int_equal(acto_semaphore_value(s), 0);
    assert_acto_ok(acto_semaphore_release(s));
    acto_future_release(a);
    acto_semaphore_free(s);
    acto_test_close_system(env, sys);
}

static void
test_semaphore_acquire_cancelled_after_its_grant_gives_the_permit_back(
    void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = sync_system(state);
    acto_semaphore *s;
    assert_acto_ok(acto_semaphore_new(sys, 1, true, &s));
    assert_acto_ok(acto_semaphore_try_acquire(s));
    acto_future *a;
    probe pa;
    assert_acto_ok(acto_semaphore_acquire(s, &a));
    watch(a, &pa);
    assert_acto_ok(acto_semaphore_release(s)); /* granted to a ... */
    assert_int_equal(acto_semaphore_value(s), 0);
    assert_false(acto_future_done(a));           /* ... not delivered */
    assert_acto_ok(acto_future_cancel(a, NULL)); /* so cancel wins */
    acto_test_settle(env);
    assert_int_equal(pa.state, ACTO_FUTURE_CANCELLED);
    assert_int_equal(acto_semaphore_value(s), 1);
    assert_acto_err(acto_semaphore_release(s), ACTO_EINVAL);
    acto_future_release(a);
    acto_semaphore_free(s);
    acto_test_close_system(env, sys);
}

static void
test_semaphore_permit_given_back_after_a_grant_goes_to_the_next_waiter(
    void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = sync_system(state);
    acto_semaphore *s;
    assert_acto_ok(acto_semaphore_new(sys, 1, true, &s));
    assert_acto_ok(acto_semaphore_try_acquire(s));
    acto_future *a, *b;
    probe pa, pb;
    assert_acto_ok(acto_semaphore_acquire(s, &a));
    assert_acto_ok(acto_semaphore_acquire(s, &b));
    watch(a, &pa);
    watch(b, &pb);
    assert_acto_ok(acto_semaphore_release(s));
    assert_acto_ok(acto_future_cancel(a, NULL));
    acto_test_settle(env);
    assert_int_equal(pa.state, ACTO_FUTURE_CANCELLED);
    assert_int_equal(pb.state, ACTO_FUTURE_DONE);
    assert_int_equal(acto_semaphore_value(s), 0);
    assert_acto_ok(acto_semaphore_release(s));
    assert_int_equal(acto_semaphore_value(s), 1);
    acto_future_release(a);
    acto_future_release(b);
    acto_semaphore_free(s);
    acto_test_close_system(env, sys);
}

static void
test_semaphore_delivered_permit_cannot_be_cancelled_away(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = sync_system(state);
    acto_semaphore *s;
    assert_acto_ok(acto_semaphore_new(sys, 0, false, &s));
    acto_future *a;
    assert_acto_ok(acto_semaphore_acquire(s, &a));
    assert_acto_ok(acto_semaphore_release(s));
    acto_test_settle(env);
    /* Delivered: the holder owns the permit and must release it. */
    assert_acto_err(acto_future_cancel(a, NULL), ACTO_EDONE);
    acto_test_settle(env);
    assert_int_equal(acto_semaphore_value(s), 0);
    assert_acto_ok(acto_semaphore_release(s));
    assert_int_equal(acto_semaphore_value(s), 1);
    acto_future_release(a);
    acto_semaphore_free(s);
    acto_test_close_system(env, sys);
}

static void
test_semaphore_free_cancels_waiting_and_undelivered_acquires(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = sync_system(state);
    acto_semaphore *s;
    assert_acto_ok(acto_semaphore_new(sys, 0, false, &s));
    acto_future *granted, *waiting;
    probe pg, pw;
    assert_acto_ok(acto_semaphore_acquire(s, &granted));
    assert_acto_ok(acto_semaphore_acquire(s, &waiting));
    watch(granted, &pg);
    watch(waiting, &pw);
    assert_acto_ok(acto_semaphore_release(s));
    acto_semaphore_free(s);
    acto_test_settle(env);
    assert_int_equal(pg.state, ACTO_FUTURE_CANCELLED);
    assert_int_equal(pw.state, ACTO_FUTURE_CANCELLED);
    acto_future_release(granted);
    acto_future_release(waiting);
    acto_test_close_system(env, sys);
}

static void
test_semaphore_acquires_are_cancelled_when_the_system_closes(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = sync_system(state);
    acto_semaphore *s;
    assert_acto_ok(acto_semaphore_new(sys, 1, true, &s));
    assert_acto_ok(acto_semaphore_try_acquire(s));
    acto_future *a, *b;
    assert_acto_ok(acto_semaphore_acquire(s, &a));
    assert_acto_ok(acto_semaphore_acquire(s, &b));
    assert_acto_ok(acto_semaphore_release(s)); /* granted to a */
    acto_test_close_system(env, sys);
    assert_true(acto_future_cancelled(a));
    assert_true(acto_future_cancelled(b));
    /* a's permit came back; nobody else may take it. */
    assert_int_equal(acto_semaphore_value(s), 1);
    acto_future_release(a);
    acto_future_release(b);
    acto_semaphore_free(s);
}

/* A seeded random mix of acquires, cancels (before and after grants),
 * releases and loop turns: at the end every permit is back. */
static void
test_semaphore_random_cancels_and_releases_never_lose_a_permit(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = sync_system(state);
    enum { PERMITS = 3, SLOTS = 16, STEPS = 4000 };
    acto_semaphore *s;
    assert_acto_ok(acto_semaphore_new(sys, PERMITS, true, &s));
    acto_future *f[SLOTS] = {0};
    unsigned seed = 12345;
    for (int step = 0; step < STEPS; step++) {
        int i = rand_r(&seed) % SLOTS;
        switch (rand_r(&seed) % 4) {
        case 0: /* start an acquire in a free slot */
            if (f[i] == NULL) {
                assert_acto_ok(acto_semaphore_acquire(s, &f[i]));
            }
            break;
        case 1: /* cancel: EDONE means it holds a permit */
            if (f[i] != NULL) {
                acto_future_cancel(f[i], NULL);
            }
            break;
        case 2: /* give back a held permit and free the slot */
            if (f[i] != NULL && acto_future_done(f[i])) {
                if (!acto_future_cancelled(f[i])) {
                    assert_acto_ok(acto_semaphore_release(s));
                }
                acto_future_release(f[i]);
                f[i] = NULL;
            }
            break;
        default:
            acto_test_run_once(&env->loop);
            break;
        }
    }
    for (int i = 0; i < SLOTS; i++) {
        if (f[i] != NULL && acto_future_cancel(f[i], NULL) == ACTO_EDONE &&
            !acto_future_cancelled(f[i])) {
            assert_acto_ok(acto_semaphore_release(s));
        }
    }
    acto_test_settle(env);
    assert_int_equal(acto_semaphore_value(s), PERMITS);
    assert_acto_err(acto_semaphore_release(s), ACTO_EINVAL);
    for (int i = 0; i < SLOTS; i++) {
        acto_future_release(f[i]);
    }
    acto_semaphore_free(s);
    acto_test_close_system(env, sys);
}

static void
test_semaphore_fails_cleanly_when_out_of_memory(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = sync_system(state);
    acto_semaphore *s = NULL;
    for (long n = 1;; n++) {
        long before = acto_test_alloc_live();
        acto_test_alloc_fail_nth(n);
        int rc = acto_semaphore_new(sys, 1, true, &s);
        acto_test_alloc_fail_nth(0);
        if (rc == 0) {
            break;
        }
        assert_acto_err(rc, ACTO_ENOMEM);
        assert_int_equal(acto_test_alloc_live(), before);
    }
    /* An acquire that completes at once, then one that has to wait. */
    for (int waits = 0; waits < 2; waits++) {
        unsigned value = acto_semaphore_value(s);
        acto_future *f = NULL;
        for (long n = 1;; n++) {
            long before = acto_test_alloc_live();
            acto_test_alloc_fail_nth(n);
            int rc = acto_semaphore_acquire(s, &f);
            acto_test_alloc_fail_nth(0);
            if (rc == 0) {
                break;
            }
            assert_acto_err(rc, ACTO_ENOMEM);
            assert_int_equal(acto_semaphore_value(s), value);
            acto_test_settle(env);
            assert_int_equal(acto_test_alloc_live(), before);
            assert_int_equal(acto_semaphore_value(s), value);
        }
        if (waits) {
            /* No failed attempt left a waiter behind: this one is first. */
            assert_false(acto_future_done(f));
            assert_acto_ok(acto_semaphore_release(s));
            acto_test_settle(env);
        }
        assert_int_equal(acto_future_state_of(f), ACTO_FUTURE_DONE);
        assert_int_equal(acto_semaphore_value(s), 0);
        acto_future_release(f);
    }
    assert_acto_ok(acto_semaphore_release(s));
    assert_int_equal(acto_semaphore_value(s), 1);
    acto_semaphore_free(s);
    acto_test_close_system(env, sys);
}

static void
test_sync_calls_reject_null_arguments(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = sync_system(state);
    acto_event *ev;
    acto_semaphore *s;
    acto_future *f;
    assert_acto_err(acto_event_new(NULL, &ev), ACTO_EINVAL);
    assert_acto_err(acto_event_new(sys, NULL), ACTO_EINVAL);
    assert_acto_err(acto_event_wait(NULL, &f), ACTO_EINVAL);
    assert_acto_err(acto_semaphore_new(NULL, 1, false, &s), ACTO_EINVAL);
    assert_acto_err(acto_semaphore_acquire(NULL, &f), ACTO_EINVAL);
    assert_acto_err(acto_semaphore_release(NULL), ACTO_EINVAL);
    acto_event_free(NULL);
    acto_semaphore_free(NULL);
    acto_test_close_system(env, sys);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(test_event_set_wakes_every_waiter),
        acto_unit_test(
            test_event_wait_on_a_set_event_completes_through_its_callback),
        acto_unit_test(
            test_event_clear_makes_later_waits_wait_for_the_next_set),
        acto_unit_test(
            test_event_cancelled_waiter_is_removed_and_others_still_wake),
        acto_unit_test(
            test_event_set_right_after_a_cancel_skips_the_cancelled_waiter),
        acto_unit_test(test_event_free_cancels_pending_waits),
        acto_unit_test(test_event_waits_are_cancelled_when_the_system_closes),
        acto_unit_test(test_event_fails_cleanly_when_out_of_memory),
        acto_unit_test(
            test_semaphore_acquire_completes_at_once_through_its_callback),
        acto_unit_test(test_semaphore_waiters_acquire_in_fifo_order),
        acto_unit_test(test_semaphore_new_acquire_waits_behind_earlier_waiters),
        acto_unit_test(
            test_bounded_semaphore_refuses_a_release_above_its_initial_value),
        acto_unit_test(
            test_semaphore_try_acquire_takes_a_free_permit_or_is_busy),
        acto_unit_test(
            test_semaphore_acquire_cancelled_while_waiting_never_takes_a_permit),
        acto_unit_test(
            test_semaphore_release_passes_over_a_cancelled_waiter_at_once),
        acto_unit_test(
            test_semaphore_acquire_cancelled_after_its_grant_gives_the_permit_back),
        acto_unit_test(
            test_semaphore_permit_given_back_after_a_grant_goes_to_the_next_waiter),
        acto_unit_test(
            test_semaphore_delivered_permit_cannot_be_cancelled_away),
        acto_unit_test(
            test_semaphore_free_cancels_waiting_and_undelivered_acquires),
        acto_unit_test(
            test_semaphore_acquires_are_cancelled_when_the_system_closes),
        acto_unit_test(
            test_semaphore_random_cancels_and_releases_never_lose_a_permit),
        acto_unit_test(test_semaphore_fails_cleanly_when_out_of_memory),
        acto_unit_test(test_sync_calls_reject_null_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
