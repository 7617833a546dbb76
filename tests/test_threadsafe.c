/* acto_send_threadsafe: many producer threads to one actor with exact
 * counts and per-thread order, the in-flight capacity, bad arguments,
 * dead receivers, and sends once closing has started. */
#include "acto_test.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

enum { T_SEQ = 1, T_BIG };

#define PRODUCERS 4
#define PER_PRODUCER 20000

/* ---- fixture helpers -------------------------------------------------- */

/* A system on env's loop with at most capacity messages from other threads
 * in flight. */
static acto_system *
capped_system(acto_test_env *env, uint32_t capacity)
{
    return acto_test_system(
        env, &(acto_system_opts){.threadsafe_capacity = capacity});
}

/* The system's async handle is unreferenced, as the runtime wants it while
 * idle, so a loop with nothing else to do would not wait for other
 * threads' sends. A referenced handle of the test's own keeps it waiting
 * (acto_test_run_until still bounds each wait by its deadline). */
static void
keepalive_open(acto_test_env *env, uv_async_t *h)
{
    assert_int_equal(uv_async_init(&env->loop, h, NULL), 0);
}

static void
keepalive_close(uv_async_t *h)
{
    uv_close((uv_handle_t *)h, NULL);
}

/* ---- the counter: checks each producer's order ------------------------ */

typedef struct seq_payload {
    uint32_t thread;
    uint32_t seq;
} seq_payload;

typedef struct counter {
    long total;
    uint32_t next[PRODUCERS];
    long out_of_order;
    long bad;
    long big;
    long want; /* total the test waits for */
} counter;

static int
counter_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)ctx;
    counter *c = state;
    size_t len;
    const void *d = acto_msg_data(m, &len);
    c->total++;
    if (acto_msg_type(m) == T_BIG) {
        c->big++;
        return 0;
    }
    seq_payload p;
    if (acto_msg_type(m) != T_SEQ || len != sizeof(p) ||
        !acto_ref_is_none(acto_msg_sender(m))) {
        c->bad++;
        return 0;
    }
    memcpy(&p, d, sizeof(p));
    if (p.thread >= PRODUCERS) {
        c->bad++;
    } else if (p.seq != c->next[p.thread]++) {
        c->out_of_order++;
    }
    return 0;
}

static const acto_behaviour counter_beh = {counter_receive, NULL, NULL};

static bool
counter_reached(void *arg)
{
    counter *c = arg;
    return c->total >= c->want;
}

/* ---- producers -------------------------------------------------------- */

typedef struct producer {
    pthread_t tid;
    acto_system *sys;
    acto_ref to;
    uint32_t id;
    atomic_long retries;  /* ACTO_EQUEUEFULL, retried */
    atomic_int first_err; /* anything else */
} producer;

static void *
produce(void *arg)
{
    producer *p = arg;
    for (uint32_t seq = 0; seq < PER_PRODUCER; seq++) {
        seq_payload pl = {p->id, seq};
        int rc;
        while ((rc = acto_send_threadsafe(p->sys, p->to, T_SEQ, &pl,
                                          sizeof(pl))) == ACTO_EQUEUEFULL) {
            atomic_fetch_add(&p->retries, 1);
            sched_yield();
        }
        if (rc != 0) {
            atomic_store(&p->first_err, rc);
            return NULL;
        }
    }
    return NULL;
}

static void
run_producers(acto_test_env *env, uint32_t ts_capacity, uint32_t mailbox)
{
    acto_system *sys = capped_system(env, ts_capacity);
    counter c = {.want = PRODUCERS * (long)PER_PRODUCER};
    acto_ref to;
    acto_spawn_opts o = {.capacity = mailbox};
    assert_acto_ok(acto_spawn(sys, &counter_beh, &c, &o, &to));
    uv_async_t keep;
    keepalive_open(env, &keep);
    producer ps[PRODUCERS];
    for (uint32_t i = 0; i < PRODUCERS; i++) {
        ps[i].sys = sys;
        ps[i].to = to;
        ps[i].id = i;
        atomic_init(&ps[i].retries, 0);
        atomic_init(&ps[i].first_err, 0);
        assert_int_equal(pthread_create(&ps[i].tid, NULL, produce, &ps[i]), 0);
    }
    bool all = acto_test_run_until(&env->loop, counter_reached, &c, 20000);
    for (uint32_t i = 0; i < PRODUCERS; i++) {
        pthread_join(ps[i].tid, NULL);
        assert_acto_ok(atomic_load(&ps[i].first_err));
    }
    keepalive_close(&keep);
    assert_true(all);
    acto_test_settle(env);
    assert_int_equal(c.bad, 0);
    assert_int_equal(c.out_of_order, 0);
    assert_int_equal(c.total, PRODUCERS * PER_PRODUCER);
    for (uint32_t i = 0; i < PRODUCERS; i++) {
        assert_int_equal(c.next[i], PER_PRODUCER);
    }
    acto_stats st;
    acto_system_stats(sys, &st);
    assert_int_equal(st.handled, PRODUCERS * PER_PRODUCER);
    assert_int_equal(st.dead_letters, 0);
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
}

static void
test_threadsafe_producer_threads_lose_and_duplicate_nothing_in_order(
    void **state)
{
    run_producers(*state, 0, 0);
}

static void
test_threadsafe_producers_retrying_on_a_small_capacity_lose_nothing(
    void **state)
{
    /* 64 in flight at most: producers meet ACTO_EQUEUEFULL and retry. */
    run_producers(*state, 64, 0);
}

static void
test_threadsafe_producers_to_a_small_mailbox_wait_for_room_and_lose_nothing(
    void **state)
{
    /* A park-policy mailbox of 16 never drops a thread-safe send: the
     * messages wait for room, in order, holding their in-flight places. */
    run_producers(*state, 256, 16);
}

/* ---- capacity, arguments, dead receivers, close ----------------------- */

static void
test_threadsafe_capacity_fills_with_equeuefull_and_frees_once_delivered(
    void **state)
{
    acto_test_env *env = *state;
    enum { CAP = 8 };
    acto_system *sys = capped_system(env, CAP);
    counter c = {0};
    acto_ref to;
    assert_acto_ok(acto_spawn(sys, &counter_beh, &c, NULL, &to));
    acto_test_settle(env);
    for (uint32_t round = 0; round < 3; round++) {
        for (uint32_t i = 0; i < CAP; i++) {
            seq_payload pl = {0, round * CAP + i};
            assert_acto_ok(
                acto_send_threadsafe(sys, to, T_SEQ, &pl, sizeof(pl)));
        }
        seq_payload extra = {0, 999};
        assert_acto_err(
            acto_send_threadsafe(sys, to, T_SEQ, &extra, sizeof(extra)),
            ACTO_EQUEUEFULL);
        c.want = (round + 1) * CAP;
        uv_async_t keep;
        keepalive_open(env, &keep);
        assert_true(acto_test_run_until(&env->loop, counter_reached, &c, 2000));
        keepalive_close(&keep);
        acto_test_settle(env);
        assert_int_equal(c.total, (round + 1) * CAP);
    }
    assert_int_equal(c.next[0], 3 * CAP);
    assert_int_equal(c.out_of_order, 0);
    acto_test_close_system(env, sys);
}

static void
test_threadsafe_send_from_loop_thread_arrives_without_other_handles(
    void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    counter c = {.want = 1};
    acto_ref to;
    assert_acto_ok(acto_spawn(sys, &counter_beh, &c, NULL, &to));
    acto_test_settle(env);
    seq_payload pl = {0, 0};
    assert_acto_ok(acto_send_threadsafe(sys, to, T_SEQ, &pl, sizeof(pl)));
    /* The message is in flight: the loop has work and must run it. */
    assert_true(acto_test_run_until(&env->loop, counter_reached, &c, 2000));
    assert_int_equal(c.total, 1);
    acto_test_close_system(env, sys);
}

static void
test_threadsafe_rejects_bad_arguments_with_einval(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    counter c = {0};
    acto_ref to;
    assert_acto_ok(acto_spawn(sys, &counter_beh, &c, NULL, &to));
    char byte = 1;
    assert_acto_err(acto_send_threadsafe(NULL, to, T_SEQ, &byte, 1),
                    ACTO_EINVAL);
    assert_acto_err(acto_send_threadsafe(sys, to, T_SEQ, NULL, 1), ACTO_EINVAL);
    assert_acto_err(
        acto_send_threadsafe(sys, to, ACTO_MSG_SYSTEM_BASE, &byte, 1),
        ACTO_EINVAL);
    assert_acto_err(acto_send_threadsafe(sys, to, ACTO_MSG_DOWN, &byte, 1),
                    ACTO_EINVAL);
    /* The length is checked before any byte is read. */
    assert_acto_err(
        acto_send_threadsafe(sys, to, T_SEQ, &byte, (size_t)UINT32_MAX + 1),
        ACTO_EINVAL);
    acto_test_settle(env);
    assert_int_equal(c.total, 0);
    /* Empty and heap-sized payloads are fine. */
    static char big[1000];
    memset(big, 'b', sizeof(big));
    uv_async_t keep;
    keepalive_open(env, &keep);
    assert_acto_ok(acto_send_threadsafe(sys, to, T_BIG, NULL, 0));
    assert_acto_ok(acto_send_threadsafe(sys, to, T_BIG, big, sizeof(big)));
    c.want = 2;
    assert_true(acto_test_run_until(&env->loop, counter_reached, &c, 2000));
    keepalive_close(&keep);
    acto_test_settle(env);
    assert_int_equal(c.big, 2);
    acto_test_close_system(env, sys);
}

static bool
dead_letters_at_least_3(void *arg)
{
    return acto_dead_letters(arg) >= 3;
}

static void *
send_three(void *arg)
{
    producer *p = arg;
    for (uint32_t i = 0; i < 3; i++) {
        seq_payload pl = {0, i};
        int rc = acto_send_threadsafe(p->sys, p->to, T_SEQ, &pl, sizeof(pl));
        if (rc != 0) {
            atomic_store(&p->first_err, rc);
        }
    }
    return NULL;
}

static void
test_threadsafe_sends_to_a_dead_actor_become_dead_letters(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = capped_system(env, 4);
    counter c = {0};
    acto_ref to;
    assert_acto_ok(acto_spawn(sys, &counter_beh, &c, NULL, &to));
    assert_acto_ok(acto_stop(sys, to));
    acto_test_settle(env);
    uv_async_t keep;
    keepalive_open(env, &keep);
    producer p = {.sys = sys, .to = to};
    atomic_init(&p.first_err, 0);
    atomic_init(&p.retries, 0);
    assert_int_equal(pthread_create(&p.tid, NULL, send_three, &p), 0);
    bool ok =
        acto_test_run_until(&env->loop, dead_letters_at_least_3, sys, 5000);
    pthread_join(p.tid, NULL);
    keepalive_close(&keep);
    assert_true(ok);
    assert_acto_ok(atomic_load(&p.first_err));
    acto_test_settle(env);
    assert_int_equal(acto_dead_letters(sys), 3);
    assert_int_equal(c.total, 0);
    /* The dead letters gave their in-flight places back. */
    for (int i = 0; i < 4; i++) {
        assert_acto_ok(acto_send_threadsafe(sys, to, T_SEQ, &i, sizeof(i)));
    }
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys); /* the four still in flight go at close */
}

static void
test_threadsafe_send_after_close_starts_is_eclosed_and_in_flight_are_freed(
    void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    counter c = {0};
    acto_ref to;
    assert_acto_ok(acto_spawn(sys, &counter_beh, &c, NULL, &to));
    static char big[100];
    seq_payload pl = {0, 0};
    assert_acto_ok(acto_send_threadsafe(sys, to, T_SEQ, &pl, sizeof(pl)));
    assert_acto_ok(acto_send_threadsafe(sys, to, T_BIG, big, sizeof(big)));
    bool closed = false;
    assert_acto_ok(acto_system_close(sys, acto_test_on_system_closed, &closed));
    assert_acto_err(acto_send_threadsafe(sys, to, T_SEQ, &pl, sizeof(pl)),
                    ACTO_ECLOSED);
    assert_acto_err(acto_send_threadsafe(sys, to, T_SEQ, NULL, 0),
                    ACTO_ECLOSED);
    assert_true(acto_test_run_until(&env->loop, acto_test_flag, &closed, 5000));
    assert_int_equal(c.total, 0); /* they became dead letters, then freed */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(
            test_threadsafe_producer_threads_lose_and_duplicate_nothing_in_order),
        acto_unit_test(
            test_threadsafe_producers_retrying_on_a_small_capacity_lose_nothing),
        acto_unit_test(
            test_threadsafe_producers_to_a_small_mailbox_wait_for_room_and_lose_nothing),
        acto_unit_test(
            test_threadsafe_capacity_fills_with_equeuefull_and_frees_once_delivered),
        acto_unit_test(
            test_threadsafe_send_from_loop_thread_arrives_without_other_handles),
        acto_unit_test(test_threadsafe_rejects_bad_arguments_with_einval),
        acto_unit_test(
            test_threadsafe_sends_to_a_dead_actor_become_dead_letters),
        acto_unit_test(
            test_threadsafe_send_after_close_starts_is_eclosed_and_in_flight_are_freed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
