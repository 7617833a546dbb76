/* acto-bench: shared pieces of the benchmark harness.
 *
 * Every workload runs acto and a plain-C floor (the same pushes and pops on
 * a bare ring buffer, no loop) in the same process, several times each, and
 * reports medians with the ratio acto/floor in cost terms (1.0 is the
 * floor, bigger is slower).
 */
#ifndef ACTO_BENCH_H
#define ACTO_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bench_opts {
    int runs;     /* repetitions per figure; the median is reported */
    double scale; /* multiplies every workload's operation count */
    bool tsv;     /* machine-readable output */
} bench_opts;

typedef struct bench_workload {
    const char *name;
    const char *what;
    void (*run)(const bench_opts *opts);
} bench_workload;

/* How a figure compares with its floor. */
typedef enum bench_kind {
    BENCH_COST, /* time or memory per operation: lower is better */
    BENCH_RATE, /* operations per second: higher is better */
    BENCH_PLAIN /* no floor */
} bench_kind;

/* bench_report prints one figure, as a table row or a TSV line. floor is
 * ignored for BENCH_PLAIN. */
void bench_report(const bench_opts *opts, const char *workload,
                  const char *figure, bench_kind kind, double value,
                  const char *unit, double floor);

/* bench_report_runs reports paired runs: acto[i] and floor[i] were
 * measured back to back. It prints the median of each and the median of
 * the per-run ratios, which holds steady when the machine's speed drifts
 * between runs. */
void bench_report_runs(const bench_opts *opts, const char *workload,
                       const char *figure, bench_kind kind, const double *acto,
                       const double *floor, int runs, const char *unit);

/* Prints the table header unless the output is TSV. */
void bench_header(const bench_opts *opts);

/* bench_median sorts v in place and returns its median. */
double bench_median(double *v, int n);

/* Monotonic nanoseconds. */
uint64_t bench_now_ns(void);

/* Scales a base operation count, never below 1. */
uint64_t bench_count(const bench_opts *opts, uint64_t base);

/* A counting allocator for acto, so workloads can prove they allocate
 * nothing in steady state. */
void bench_alloc_install(void);
uint64_t bench_alloc_count(void);

/* Keeps the compiler from optimizing a computed value away. */
void bench_consume(uint64_t v);

/* A bare ring of void * with a power-of-two capacity: the floor. */
typedef struct bench_ring {
    void **slot;
    size_t mask;
    size_t head;
    size_t tail;
} bench_ring;

bench_ring *bench_ring_alloc(size_t cap);
void bench_ring_free(bench_ring *r);

static inline bool
bench_ring_push(bench_ring *r, void *item)
{
    if (r->tail - r->head > r->mask) {
        return false;
    }
    r->slot[r->tail++ & r->mask] = item;
    return true;
}

static inline bool
bench_ring_pop(bench_ring *r, void **item)
{
    if (r->head == r->tail) {
        return false;
    }
    *item = r->slot[r->head++ & r->mask];
    return true;
}

/* The workloads: bench_queue.c, and bench_actors.c for the actors'. */
void bench_queue(const bench_opts *opts);
void bench_pingpong(const bench_opts *opts);
void bench_pipeline(const bench_opts *opts);
void bench_token_ring(const bench_opts *opts); /* "ring" */
void bench_spawn(const bench_opts *opts);
void bench_fanout(const bench_opts *opts);
void bench_backpressure(const bench_opts *opts);

#endif /* ACTO_BENCH_H */
