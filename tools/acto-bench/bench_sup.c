/* Supervision workloads: restart latency, and a dynamic pool started and
 * stopped at two sizes (linearity and memory). */
#include "bench.h"

#include <acto/supervisor.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- restart ---------------------------------------------------------- */

/* A worker fails on the first message it handles; its supervisor restarts
 * it and the new worker's start hook sends it its next message. A sample is
 * the time from one failure to the next worker handling that message:
 * failure, down notice, restart decision, spawn, start hook, delivery. */
typedef struct restart_run {
    uint64_t n;
    uint64_t done;
    uint64_t failed_at;
    double *samples;
} restart_run;

static restart_run *the_run; /* the start function's only way in */

#define MSG_GO 1u

static int
worker_start(acto_ctx *ctx, void *state)
{
    (void)state;
    return acto_tell(ctx, acto_self(ctx), MSG_GO, NULL, 0);
}

static int
worker_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)state;
    (void)m;
    restart_run *r = the_run;
    uint64_t now = bench_now_ns();
    if (r->failed_at != 0) {
        r->samples[r->done++] = (double)(now - r->failed_at);
    }
    if (r->done == r->n) {
        /* transient: a normal stop is not restarted */
        return acto_stop(acto_ctx_system(ctx), acto_self(ctx));
    }
    r->failed_at = bench_now_ns();
    return ACTO_EFAILED;
}

static const acto_behaviour worker = {.receive = worker_receive,
                                      .start = worker_start};

static int
start_worker(acto_ctx *sup, const void *arg, size_t len, acto_ref *out)
{
    (void)arg;
    (void)len;
    return acto_spawn(acto_ctx_system(sup), &worker, NULL, NULL, out);
}

static void
acto_restarts(restart_run *r)
{
    acto_system *sys = bench_system_new();
    the_run = r;
    /* Intensity out of the way: this measures the restart path. */
    acto_sup_flags f = {.intensity = UINT32_MAX - 1, .period_ms = 1};
    acto_child_spec spec = {.id = "worker",
                            .start = start_worker,
                            .restart = ACTO_RESTART_TRANSIENT};
    acto_ref sup;
    int rc = acto_sup_start(sys, &f, &spec, 1, &sup);
    if (rc != 0) {
        bench_die("acto_sup_start", rc);
    }
    (void)bench_run_timed(sys);
    bench_check(r->done == r->n, "restart", "restarts", r->done, r->n);
    bench_check(acto_sup_restarts(sys, sup) == r->n, "restart",
                "supervisor restarts", acto_sup_restarts(sys, sup), r->n);
    bench_system_free(sys);
}

/* The floor: what a restart must at least do in plain C: free the old
 * state, allocate the new, and pass one message through a ring. */
static void
floor_restarts(restart_run *r)
{
    bench_ring *ring = bench_ring_new(2);
    void *state = malloc(128);
    uint64_t failed_at = 0;
    for (uint64_t i = 0; i <= r->n; i++) {
        if (failed_at != 0) {
            free(state);
            state = malloc(128);
            void *item = NULL;
            bench_ring_push(ring, state);
            bench_ring_pop(ring, &item);
            bench_consume((uintptr_t)item);
            r->samples[r->done++] = (double)(bench_now_ns() - failed_at);
        }
        failed_at = bench_now_ns();
    }
    free(state);
    bench_ring_free(ring);
}

void
bench_restart(const bench_opts *opts)
{
    uint64_t n = bench_count(opts, 100000);
    int runs = opts->runs;
    double *v = calloc(4 * (size_t)runs, sizeof(double));
    double *samples = calloc(n, sizeof(double));
    if (v == NULL || samples == NULL) {
        bench_die("restart", ACTO_ENOMEM);
    }
    double *p50 = v, *p99 = v + runs, *f50 = v + 2 * runs, *f99 = v + 3 * runs;
    for (int i = 0; i < runs; i++) {
        restart_run fl = {.n = n, .samples = samples};
        floor_restarts(&fl);
        f50[i] = bench_percentile(samples, n, 0.50);
        f99[i] = bench_percentile(samples, n, 0.99);
        restart_run r = {.n = n, .samples = samples};
        acto_restarts(&r);
        p50[i] = bench_percentile(samples, n, 0.50);
        p99[i] = bench_percentile(samples, n, 0.99);
    }
    bench_report_runs(opts, "restart", "restart_p50", BENCH_COST, p50, f50,
                      runs, "ns");
    bench_report_runs(opts, "restart", "restart_p99", BENCH_COST, p99, f99,
                      runs, "ns");
    free(samples);
    free(v);
}

/* ---- pool ------------------------------------------------------------- */

static const acto_behaviour idle = {.receive = bench_idle_receive};

static int
start_idle(acto_ctx *sup, const void *arg, size_t len, acto_ref *out)
{
    (void)arg;
    (void)len;
    return acto_spawn(acto_ctx_system(sup), &idle, NULL, NULL, out);
}

/* pool_round starts n children in a dynamic pool, each with a small
 * argument, then shuts the pool down; returns the nanoseconds spent. */
static double
pool_round(acto_system *sys, uint64_t n)
{
    acto_sup_flags f = {.strategy = ACTO_SIMPLE_ONE_FOR_ONE};
    acto_child_spec spec = {.id = "conn", .start = start_idle};
    acto_ref sup, child;
    uint64_t t0 = bench_now_ns();
    int rc = acto_sup_start(sys, &f, &spec, 1, &sup);
    for (uint64_t i = 0; rc == 0 && i < n; i++) {
        rc = acto_sup_start_dynamic(sys, sup, &i, sizeof(i), &child);
    }
    if (rc != 0) {
        bench_die("pool start", rc);
    }
    acto_child_counts c;
    (void)acto_sup_count_children(sys, sup, &c);
    bench_check(c.active == n, "pool", "children", c.active, n);
    (void)acto_shutdown(sys, sup);
    (void)bench_run_timed(sys);
    uint64_t t1 = bench_now_ns();
    bench_check(!acto_alive(sys, sup), "pool", "stopped", 0, 0);
    return (double)(t1 - t0);
}

#define SMALL_ROUNDS 21

/* The floor for the same round in plain C: per child, the memory acto
 * needs at least (an actor, a child record, a down notice) allocated,
 * listed, then freed. */
static double
floor_round(uint64_t n)
{
    void **v = malloc(n * 3 * sizeof(*v));
    if (v == NULL) {
        bench_die("pool floor", ACTO_ENOMEM);
    }
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        v[3 * i] = calloc(1, 112);
        v[3 * i + 1] = calloc(1, 160);
        v[3 * i + 2] = malloc(128);
        memset(v[3 * i + 2], (int)i, 128);
    }
    uint64_t sum = 0;
    for (uint64_t i = 0; i < 3 * n; i++) {
        sum += (uintptr_t)v[i];
        free(v[i]);
    }
    uint64_t t1 = bench_now_ns();
    bench_consume(sum);
    free(v);
    return (double)(t1 - t0);
}

static double
floor_ratio(uint64_t small, uint64_t big)
{
    double rounds[SMALL_ROUNDS];
    for (int k = 0; k < SMALL_ROUNDS; k++) {
        rounds[k] = floor_round(small);
    }
    return floor_round(big) / bench_median(rounds, SMALL_ROUNDS);
}

void
bench_pool(const bench_opts *opts)
{
    uint64_t big = bench_count(opts, 100000);
    uint64_t small = big / 100 > 0 ? big / 100 : 1;
    int runs = opts->runs;
    double *v = calloc(4 * (size_t)runs, sizeof(double));
    if (v == NULL) {
        bench_die("pool", ACTO_ENOMEM);
    }
    double *ratio = v, *per_small = v + runs, *per_big = v + 2 * runs,
           *fratio = v + 3 * runs;
    acto_system *sys = bench_system_new();
    pool_round(sys, small); /* warm the slabs' first pages */
    int64_t before = bench_alloc_live_bytes();
    for (int i = 0; i < runs; i++) {
        /* A small round is short: take the median of several. */
        double rounds[SMALL_ROUNDS];
        for (int k = 0; k < SMALL_ROUNDS; k++) {
            rounds[k] = pool_round(sys, small);
        }
        double ts = bench_median(rounds, SMALL_ROUNDS);
        double tb = pool_round(sys, big);
        ratio[i] = tb / ts;
        fratio[i] = floor_ratio(small, big);
        per_small[i] = ts / (double)small;
        per_big[i] = tb / (double)big;
    }
    int64_t after = bench_alloc_live_bytes();
    bench_system_free(sys);
    char fig[64];
    snprintf(fig, sizeof(fig), "per_child_%llu", (unsigned long long)small);
    bench_report(opts, "pool", fig, BENCH_PLAIN, bench_median(per_small, runs),
                 "ns", 0);
    snprintf(fig, sizeof(fig), "per_child_%llu", (unsigned long long)big);
    bench_report(opts, "pool", fig, BENCH_PLAIN, bench_median(per_big, runs),
                 "ns", 0);
    /* Linear would be big/small; the target allows 1.2 times that. */
    bench_report_runs(opts, "pool", "time_big_over_small", BENCH_COST, ratio,
                      fratio, runs, "x");
    bench_report(opts, "pool", "live_bytes_kept", BENCH_PLAIN,
                 (double)(after - before), "B", 0);
    free(v);
}
