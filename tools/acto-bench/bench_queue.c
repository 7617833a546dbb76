/* The queue workload: acto_queue against a bare ring buffer.
 *
 * nowait: put_nowait/get_nowait pairs in bursts of BURST, so the storage
 * wraps as it does in real use; the floor does the same pushes and pops on
 * a bench_ring reached through a pointer, as a ring shared by producer and
 * consumer code is (a ring private to one loop, its indices in registers,
 * runs about 1.3x faster still). waiting: producers and consumers that each
 * keep one put or get pending and re-arm it from their callback, through a
 * queue bounded at 64, so every item passes through the waiter lists and the
 * loop.
 */
#include "bench.h"

#include <acto/acto.h>
#include <stdio.h>
#include <stdlib.h>

#define BURST 64
#define WAIT_MAXSIZE 64
#define WAIT_SIDES 4

static void
die(const char *what, int rc)
{
    fprintf(stderr, "acto-bench: %s: %s\n", what, acto_strerror(rc));
    exit(1);
}

/* floor_ring does pairs ring pushes and pops, burst at a time, and
 * returns ns per pair: the floor for both figures (burst BURST for nowait,
 * 1 for the item-at-a-time handoff of waiting producers and consumers). */
static double
floor_ring(uint64_t pairs, uintptr_t burst)
{
    bench_ring *r = bench_ring_alloc(BURST);
    if (r == NULL) {
        die("floor ring", ACTO_ENOMEM);
    }
    uint64_t sum = 0;
    uint64_t t0 = bench_now_ns();
    for (uint64_t done = 0; done < pairs; done += burst) {
        for (uintptr_t i = 1; i <= burst; i++) {
            bench_ring_push(r, (void *)i);
        }
        __asm__ volatile("" ::: "memory");
        void *item;
        while (bench_ring_pop(r, &item)) {
            sum += (uintptr_t)item;
        }
    }
    uint64_t t1 = bench_now_ns();
    bench_consume(sum);
    bench_ring_free(r);
    return (double)(t1 - t0) / (double)pairs;
}

/* warm_up fills and empties q once so its storage is sized before timing:
 * steady state allocates nothing. */
static void
warm_up(acto_queue *q)
{
    for (uintptr_t i = 1; i <= BURST; i++) {
        acto_queue_put_nowait(q, (void *)i);
    }
    void *item;
    while (acto_queue_get_nowait(q, &item) == 0) {
    }
}

/* Returns ns per pair; *allocs gets the allocations made while timed. */
static double
acto_nowait(uv_loop_t *loop, uint64_t pairs, uint64_t *allocs)
{
    acto_queue *q;
    int rc = acto_queue_alloc(loop, NULL, &q);
    if (rc != 0) {
        die("acto_queue_alloc", rc);
    }
    warm_up(q);
    void *item;
    uint64_t sum = 0;
    uint64_t a0 = bench_alloc_count();
    uint64_t t0 = bench_now_ns();
    for (uint64_t done = 0; done < pairs; done += BURST) {
        for (uintptr_t i = 1; i <= BURST; i++) {
            acto_queue_put_nowait(q, (void *)i);
        }
        while (acto_queue_get_nowait(q, &item) == 0) {
            sum += (uintptr_t)item;
        }
    }
    uint64_t t1 = bench_now_ns();
    *allocs = bench_alloc_count() - a0;
    bench_consume(sum);
    acto_queue_close(q, NULL, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    return (double)(t1 - t0) / (double)pairs;
}

typedef struct side {
    acto_queue_req req;
    struct waiting *w;
} side;

typedef struct waiting {
    acto_queue *q;
    uint64_t to_put;
    uint64_t to_get;
    uint64_t sum;
    side producers[WAIT_SIDES];
    side consumers[WAIT_SIDES];
} waiting;

static void on_put(acto_queue *q, int status, void *item, void *user);

static void
put_next(side *s)
{
    waiting *w = s->w;
    if (w->to_put == 0) {
        return;
    }
    int rc = acto_queue_put(w->q, &s->req, (void *)(uintptr_t)w->to_put--,
                            on_put, s);
    if (rc != 0) {
        die("acto_queue_put", rc);
    }
}

static void
on_put(acto_queue *q, int status, void *item, void *user)
{
    (void)q;
    (void)item;
    if (status != 0) {
        die("put callback", status);
    }
    put_next(user);
}

static void
on_get(acto_queue *q, int status, void *item, void *user)
{
    side *s = user;
    waiting *w = s->w;
    if (status != 0) {
        die("get callback", status);
    }
    w->sum += (uintptr_t)item;
    if (--w->to_get >= WAIT_SIDES) {
        int rc = acto_queue_get(q, &s->req, on_get, s);
        if (rc != 0) {
            die("acto_queue_get", rc);
        }
    }
}

/* Returns ns per pair. Each consumer stops re-arming once the remaining
 * items are covered by the gets already pending. */
static double
acto_waiting(uv_loop_t *loop, uint64_t pairs, uint64_t *allocs)
{
    waiting w = {.to_put = pairs, .to_get = pairs};
    acto_queue_opts o = {.maxsize = WAIT_MAXSIZE};
    int rc = acto_queue_alloc(loop, &o, &w.q);
    if (rc != 0) {
        die("acto_queue_alloc", rc);
    }
    warm_up(w.q);
    uint64_t a0 = bench_alloc_count();
    uint64_t t0 = bench_now_ns();
    for (int i = 0; i < WAIT_SIDES; i++) {
        w.consumers[i].w = &w;
        w.producers[i].w = &w;
        if (pairs >= WAIT_SIDES) {
            rc = acto_queue_get(w.q, &w.consumers[i].req, on_get,
                                &w.consumers[i]);
            if (rc != 0) {
                die("acto_queue_get", rc);
            }
        }
        put_next(&w.producers[i]);
    }
    uv_run(loop, UV_RUN_DEFAULT);
    uint64_t t1 = bench_now_ns();
    *allocs = bench_alloc_count() - a0;
    bench_consume(w.sum);
    acto_queue_close(w.q, NULL, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    return (double)(t1 - t0) / (double)pairs;
}

/* Reports ns per pair and pairs per second for paired runs. */
static void
report_pair(const bench_opts *opts, const char *figure, const double *acto,
            const double *floor, int runs)
{
    double *rate = malloc(2 * (size_t)runs * sizeof(double));
    if (rate == NULL) {
        die("report", ACTO_ENOMEM);
    }
    for (int i = 0; i < runs; i++) {
        rate[i] = 1e9 / acto[i];
        rate[runs + i] = 1e9 / floor[i];
    }
    char name[64];
    bench_report_runs(opts, "queue", figure, BENCH_COST, acto, floor, runs,
                      "ns/pair");
    snprintf(name, sizeof(name), "%s_rate", figure);
    bench_report_runs(opts, "queue", name, BENCH_RATE, rate, rate + runs, runs,
                      "pairs/s");
    free(rate);
}

void
bench_queue(const bench_opts *opts)
{
    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0) {
        die("uv_loop_init", ACTO_ENOMEM);
    }
    int runs = opts->runs;
    double *a = calloc((size_t)runs * 4, sizeof(double));
    double *acto_nw = a, *floor_nw = a + runs;
    double *acto_w = a + 2 * runs, *floor_w = a + 3 * runs;
    uint64_t nowait_pairs = bench_count(opts, 10000000);
    uint64_t waiting_pairs = bench_count(opts, 1000000);
    uint64_t allocs_nw = 0, allocs_w = 0, worst_nw = 0, worst_w = 0;
    for (int i = 0; i < runs; i++) {
        floor_nw[i] = floor_ring(nowait_pairs, BURST);
        acto_nw[i] = acto_nowait(&loop, nowait_pairs, &allocs_nw);
        floor_w[i] = floor_ring(waiting_pairs, 1);
        acto_w[i] = acto_waiting(&loop, waiting_pairs, &allocs_w);
        worst_nw = allocs_nw > worst_nw ? allocs_nw : worst_nw;
        worst_w = allocs_w > worst_w ? allocs_w : worst_w;
    }
    report_pair(opts, "nowait", acto_nw, floor_nw, runs);
    bench_report(opts, "queue", "nowait_allocs", BENCH_PLAIN, (double)worst_nw,
                 "allocs", 0);
    report_pair(opts, "waiting", acto_w, floor_w, runs);
    bench_report(opts, "queue", "waiting_allocs", BENCH_PLAIN, (double)worst_w,
                 "allocs", 0);
    free(a);
    uv_loop_close(&loop);
}
