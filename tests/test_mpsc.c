/* The intrusive MPSC queue: order, the wake-up protocol, pushes in flight,
 * node reuse, and concurrent producers against a consumer that sleeps. */
#include "acto_test.h"

#include "../runtime/list.h"
#include "../runtime/mpsc.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* ThreadSanitizer slows the threads down by an order of magnitude. */
#if defined(__SANITIZE_THREAD__)
#define TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TSAN 1
#endif
#endif

#define PRODUCERS 4
/* Sized to finish in about a second, even under TSan; the deadline only
 * catches a consumer that was never woken, so it is far above that, for
 * machines busy with other work. */
#ifdef TSAN
#define PER_PRODUCER 30000
#else
#define PER_PRODUCER 200000
#endif
#define DEADLINE_SEC 100
#define YIELD_EVERY 4

typedef struct item {
    acto__mpsc_node node;
    uint32_t producer;
    uint32_t seq;
    int popped; /* written by the consumer only */
} item;

static item *
item_of(acto__mpsc_node *n)
{
    return n == NULL ? NULL : acto__container_of(n, item, node);
}

static item *
pop_item(acto__mpsc *q)
{
    return item_of(acto__mpsc_pop(q));
}

/* The first half of acto__mpsc_push: n is queued but not yet linked, as
 * when its producer is preempted between the two steps. Returns the node
 * the second half must link n behind. */
static acto__mpsc_node *
push_first_half(acto__mpsc *q, acto__mpsc_node *n)
{
    atomic_store(&n->next, NULL);
    return atomic_exchange(&q->head, n);
}

/* The second half, exactly as acto__mpsc_push finishes: link, then look at
 * the sleeping flag. Returns whether the producer must wake the consumer. */
static bool
push_second_half(acto__mpsc *q, acto__mpsc_node *prev, acto__mpsc_node *n)
{
    atomic_store(&prev->next, n);
    return atomic_load(&q->sleeping) && atomic_exchange(&q->sleeping, false);
}

/* ---- one thread ------------------------------------------------------- */

static void
test_mpsc_pop_on_an_empty_queue_returns_null(void **state)
{
    (void)state;
    acto__mpsc q;
    acto__mpsc_init(&q);
    assert_null(acto__mpsc_pop(&q));
    assert_true(acto__mpsc_drain_done(&q));
    assert_null(acto__mpsc_pop(&q));
}

static void
test_mpsc_pop_returns_nodes_in_push_order_without_allocating(void **state)
{
    (void)state;
    enum { N = 100 };
    item items[N];
    acto__mpsc q;
    acto__mpsc_init(&q);
    for (uint32_t i = 0; i < N; i++) {
        items[i].seq = i;
        acto__mpsc_push(&q, &items[i].node);
    }
    for (uint32_t i = 0; i < N; i++) {
        item *it = pop_item(&q);
        assert_ptr_equal(it, &items[i]);
        assert_int_equal(it->seq, i);
    }
    assert_null(acto__mpsc_pop(&q));
    assert_true(acto__mpsc_drain_done(&q));
    assert_int_equal(acto_test_alloc_total(), 0);
}

static void
test_mpsc_push_asks_for_a_wake_up_only_when_the_consumer_may_sleep(void **state)
{
    (void)state;
    item a, b, c, d;
    acto__mpsc q;
    acto__mpsc_init(&q);
    /* A new queue's consumer is asleep. */
    assert_true(acto__mpsc_push(&q, &a.node));
    assert_false(acto__mpsc_push(&q, &b.node));
    assert_ptr_equal(pop_item(&q), &a);
    assert_ptr_equal(pop_item(&q), &b);
    assert_null(acto__mpsc_pop(&q));
    /* Popping alone does not make the consumer sleep. */
    assert_false(acto__mpsc_push(&q, &c.node));
    assert_ptr_equal(pop_item(&q), &c);
    assert_null(acto__mpsc_pop(&q));
    assert_true(acto__mpsc_drain_done(&q));
    assert_true(acto__mpsc_push(&q, &d.node));
    assert_false(acto__mpsc_push(&q, &a.node));
    assert_ptr_equal(pop_item(&q), &d);
    assert_ptr_equal(pop_item(&q), &a);
    assert_null(acto__mpsc_pop(&q));
    assert_true(acto__mpsc_drain_done(&q));
}

static void
test_mpsc_drain_done_keeps_the_consumer_awake_while_nodes_are_left(void **state)
{
    (void)state;
    item a, b;
    acto__mpsc q;
    acto__mpsc_init(&q);
    assert_true(acto__mpsc_push(&q, &a.node));
    assert_false(acto__mpsc_drain_done(&q));
    /* The consumer is draining again, so no wake-up is due. */
    assert_false(acto__mpsc_push(&q, &b.node));
    assert_ptr_equal(pop_item(&q), &a);
    assert_false(acto__mpsc_drain_done(&q));
    assert_ptr_equal(pop_item(&q), &b);
    assert_null(acto__mpsc_pop(&q));
    assert_true(acto__mpsc_drain_done(&q));
}

static void
test_mpsc_nodes_can_be_pushed_again_after_pop(void **state)
{
    (void)state;
    item a, b;
    acto__mpsc q;
    acto__mpsc_init(&q);
    for (int round = 0; round < 3; round++) {
        /* Alone: a is the last node, so pop puts the stub behind it. */
        acto__mpsc_push(&q, &a.node);
        assert_ptr_equal(pop_item(&q), &a);
        assert_null(acto__mpsc_pop(&q));
        /* With b behind it, then b alone again. */
        acto__mpsc_push(&q, &a.node);
        acto__mpsc_push(&q, &b.node);
        assert_ptr_equal(pop_item(&q), &a);
        acto__mpsc_push(&q, &a.node);
        assert_ptr_equal(pop_item(&q), &b);
        assert_ptr_equal(pop_item(&q), &a);
        assert_null(acto__mpsc_pop(&q));
        assert_true(acto__mpsc_drain_done(&q));
    }
}

static void
test_mpsc_first_push_in_flight_pops_null_and_wakes_the_sleeping_consumer(
    void **state)
{
    (void)state;
    item a;
    acto__mpsc q;
    acto__mpsc_init(&q);
    acto__mpsc_node *prev = push_first_half(&q, &a.node);
    assert_null(acto__mpsc_pop(&q));
    assert_true(acto__mpsc_drain_done(&q));
    assert_true(push_second_half(&q, prev, &a.node));
    assert_ptr_equal(pop_item(&q), &a);
    assert_null(acto__mpsc_pop(&q));
    assert_true(acto__mpsc_drain_done(&q));
}

static void
test_mpsc_push_in_flight_holds_back_older_nodes_and_its_pusher_wakes_them(
    void **state)
{
    (void)state;
    item a, b, c;
    acto__mpsc q;
    acto__mpsc_init(&q);
    assert_true(acto__mpsc_push(&q, &a.node));
    acto__mpsc_node *prev = push_first_half(&q, &b.node);
    assert_ptr_equal(prev, &a.node);
    /* a cannot be returned until b's link gives the queue a new tail. */
    assert_null(acto__mpsc_pop(&q));
    assert_true(acto__mpsc_drain_done(&q));
    /* Later pushes are linked behind b but cannot be reached either; the
     * first to see the sleeping consumer asks for a wake-up, which finds
     * nothing. b's pusher is the one whose wake-up matters. */
    assert_true(acto__mpsc_push(&q, &c.node));
    assert_null(acto__mpsc_pop(&q));
    assert_true(acto__mpsc_drain_done(&q));
    assert_true(push_second_half(&q, prev, &b.node));
    assert_ptr_equal(pop_item(&q), &a);
    assert_ptr_equal(pop_item(&q), &b);
    assert_ptr_equal(pop_item(&q), &c);
    assert_null(acto__mpsc_pop(&q));
    assert_true(acto__mpsc_drain_done(&q));
}

/* ---- producers on other threads --------------------------------------- */

/* The consumer sleeps on cv until a push returns true, the way the loop
 * thread waits for a uv_async_t: signals coalesce into one pending bit. */
typedef struct stress {
    acto__mpsc q;
    item *items;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool pending;    /* under mu */
    long wake_ups;   /* pushes that returned true; under mu */
    long sleeps;     /* consumer only */
    long received;   /* consumer only */
    char error[160]; /* consumer only; empty when all went well */
    struct timespec deadline;
} stress;

typedef struct producer {
    stress *s;
    uint32_t id;
    pthread_t thread;
} producer;

static void
wake_consumer(stress *s)
{
    pthread_mutex_lock(&s->mu);
    s->pending = true;
    s->wake_ups++;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void *
produce(void *arg)
{
    producer *p = arg;
    item *mine = p->s->items + (size_t)p->id * PER_PRODUCER;
    for (uint32_t i = 0; i < PER_PRODUCER; i++) {
        /* Written here, not by the test's thread, so that ThreadSanitizer
         * checks the push publishes a node's contents to the consumer. */
        mine[i].producer = p->id;
        mine[i].seq = i;
        if (acto__mpsc_push(&p->s->q, &mine[i].node)) {
            wake_consumer(p->s);
        }
        /* Pauses let the queue run dry, so the consumer sleeps often and
         * the wake-up protocol is exercised, not just the drain. */
        if (i % YIELD_EVERY == 0) {
            sched_yield();
        }
    }
    return NULL;
}

/* Returns false when the deadline passes without a wake-up. */
static bool
sleep_until_woken(stress *s)
{
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    while (!s->pending && rc == 0) {
        rc = pthread_cond_timedwait(&s->cv, &s->mu, &s->deadline);
    }
    bool woken = s->pending;
    s->pending = false;
    pthread_mutex_unlock(&s->mu);
    s->sleeps++;
    return woken;
}

/* Checks one popped node. Returns false, with s->error set, when it is not
 * the next one its producer pushed. */
static bool
take(stress *s, acto__mpsc_node *n, uint32_t *next_seq)
{
    item *it = item_of(n);
    size_t total = (size_t)PRODUCERS * PER_PRODUCER;
    if (it < s->items || it >= s->items + total) {
        snprintf(s->error, sizeof(s->error), "popped a foreign node %p",
                 (void *)n);
        return false;
    }
    if (it->producer != (size_t)(it - s->items) / PER_PRODUCER) {
        snprintf(s->error, sizeof(s->error), "node %zu: producer %u",
                 (size_t)(it - s->items), (unsigned)it->producer);
        return false;
    }
    if (it->seq != next_seq[it->producer]) {
        snprintf(s->error, sizeof(s->error),
                 "producer %u: popped seq %u, want %u (popped %d times)",
                 (unsigned)it->producer, (unsigned)it->seq,
                 (unsigned)next_seq[it->producer], it->popped + 1);
        return false;
    }
    next_seq[it->producer]++;
    it->popped++;
    s->received++;
    return true;
}

static void *
consume(void *arg)
{
    stress *s = arg;
    uint32_t next_seq[PRODUCERS] = {0};
    long total = (long)PRODUCERS * PER_PRODUCER;
    while (s->received < total) {
        if (!sleep_until_woken(s)) {
            snprintf(s->error, sizeof(s->error),
                     "no wake-up within %d s, %ld of %ld nodes popped",
                     DEADLINE_SEC, s->received, total);
            return NULL;
        }
        for (;;) {
            acto__mpsc_node *n;
            while ((n = acto__mpsc_pop(&s->q)) != NULL) {
                if (!take(s, n, next_seq)) {
                    return NULL;
                }
            }
            if (acto__mpsc_drain_done(&s->q)) {
                break;
            }
        }
    }
    return NULL;
}

static void
stress_init(stress *s)
{
    size_t total = (size_t)PRODUCERS * PER_PRODUCER;
    s->items = calloc(total, sizeof(*s->items));
    assert_non_null(s->items);
    acto__mpsc_init(&s->q);
    pthread_condattr_t attr;
    assert_int_equal(pthread_condattr_init(&attr), 0);
    assert_int_equal(pthread_condattr_setclock(&attr, CLOCK_MONOTONIC), 0);
    assert_int_equal(pthread_cond_init(&s->cv, &attr), 0);
    pthread_condattr_destroy(&attr);
    assert_int_equal(pthread_mutex_init(&s->mu, NULL), 0);
    clock_gettime(CLOCK_MONOTONIC, &s->deadline);
    s->deadline.tv_sec += DEADLINE_SEC;
}

static void
test_mpsc_concurrent_producers_lose_duplicate_and_reorder_nothing(void **state)
{
    (void)state;
    stress *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    stress_init(s);
    pthread_t consumer;
    producer producers[PRODUCERS];
    assert_int_equal(pthread_create(&consumer, NULL, consume, s), 0);
    for (uint32_t i = 0; i < PRODUCERS; i++) {
        producers[i] = (producer){.s = s, .id = i};
        assert_int_equal(
            pthread_create(&producers[i].thread, NULL, produce, &producers[i]),
            0);
    }
    for (int i = 0; i < PRODUCERS; i++) {
        assert_int_equal(pthread_join(producers[i].thread, NULL), 0);
    }
    assert_int_equal(pthread_join(consumer, NULL), 0);
    if (s->error[0] != '\0') {
        fail_msg("%s", s->error);
    }
    size_t total = (size_t)PRODUCERS * PER_PRODUCER;
    assert_int_equal(s->received, total);
    for (size_t i = 0; i < total; i++) {
        if (s->items[i].popped != 1) {
            fail_msg("node %zu popped %d times", i, s->items[i].popped);
        }
    }
    /* Each sleep ended by taking at least one wake-up. */
    assert_true(s->wake_ups >= s->sleeps);
    assert_true(acto__mpsc_drain_done(&s->q));
    print_message("%d producers x %d nodes: %ld wake-ups, %ld sleeps\n",
                  PRODUCERS, PER_PRODUCER, s->wake_ups, s->sleeps);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s->items);
    free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(test_mpsc_pop_on_an_empty_queue_returns_null),
        acto_unit_test(
            test_mpsc_pop_returns_nodes_in_push_order_without_allocating),
        acto_unit_test(
            test_mpsc_push_asks_for_a_wake_up_only_when_the_consumer_may_sleep),
        acto_unit_test(
            test_mpsc_drain_done_keeps_the_consumer_awake_while_nodes_are_left),
        acto_unit_test(test_mpsc_nodes_can_be_pushed_again_after_pop),
        acto_unit_test(
            test_mpsc_first_push_in_flight_pops_null_and_wakes_the_sleeping_consumer),
        acto_unit_test(
            test_mpsc_push_in_flight_holds_back_older_nodes_and_its_pusher_wakes_them),
        acto_unit_test(
            test_mpsc_concurrent_producers_lose_duplicate_and_reorder_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
