/* Output, statistics and helpers shared by the workloads. */
#include "bench.h"

#include <acto/acto.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void
bench_header(const bench_opts *opts)
{
    if (!opts->tsv) {
        printf("%-12s %-16s %14s %-12s %14s %8s\n", "workload", "figure",
               "value", "unit", "floor", "ratio");
    }
}

/* The ratio is acto's cost over the floor's: for a rate, floor / acto. */
static double
cost_ratio(bench_kind kind, double value, double floor)
{
    if (kind == BENCH_COST) {
        return floor > 0 ? value / floor : (double)NAN;
    }
    return value > 0 ? floor / value : (double)NAN;
}

static void
print_row(const bench_opts *opts, const char *workload, const char *figure,
          double value, const char *unit, bool has_floor, double floor,
          double ratio)
{
    if (opts->tsv) {
        printf("%s\t%s\t%.6g\t%s\t", workload, figure, value, unit);
        if (has_floor) {
            printf("%.6g\t%.3f\n", floor, ratio);
        } else {
            printf("\t\n");
        }
    } else if (has_floor) {
        printf("%-12s %-16s %14.4g %-12s %14.4g %8.2f\n", workload, figure,
               value, unit, floor, ratio);
    } else {
        printf("%-12s %-16s %14.4g %-12s %14s %8s\n", workload, figure, value,
               unit, "-", "-");
    }
    fflush(stdout);
}

void
bench_report(const bench_opts *opts, const char *workload, const char *figure,
             bench_kind kind, double value, const char *unit, double floor)
{
    bool has_floor = kind != BENCH_PLAIN;
    double ratio = has_floor ? cost_ratio(kind, value, floor) : (double)NAN;
    print_row(opts, workload, figure, value, unit, has_floor, floor, ratio);
}

void
bench_report_runs(const bench_opts *opts, const char *workload,
                  const char *figure, bench_kind kind, const double *acto,
                  const double *floor, int runs, const char *unit)
{
    double *v = malloc(3 * (size_t)runs * sizeof(double));
    if (v == NULL) {
        fprintf(stderr, "acto-bench: out of memory\n");
        exit(1);
    }
    double *a = v, *f = v + runs, *r = v + 2 * runs;
    for (int i = 0; i < runs; i++) {
        a[i] = acto[i];
        f[i] = floor[i];
        r[i] = cost_ratio(kind, acto[i], floor[i]);
    }
    print_row(opts, workload, figure, bench_median(a, runs), unit, true,
              bench_median(f, runs), bench_median(r, runs));
    free(v);
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

double
bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double
bench_percentile(double *v, uint64_t n, double p)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return v[(uint64_t)(p * (double)(n - 1))];
}

int
bench_idle_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)ctx;
    (void)state;
    (void)m;
    return 0;
}

void
bench_spin_ns(uint64_t ns)
{
    uint64_t until = bench_now_ns() + ns;
    while (bench_now_ns() < until) {
    }
}

uint64_t
bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
bench_count(const bench_opts *opts, uint64_t base)
{
    double n = (double)base * opts->scale;
    return n < 1 ? 1 : (uint64_t)n;
}

static atomic_uint_fast64_t alloc_calls;
static atomic_int_fast64_t alloc_bytes; /* live bytes acto holds */

static void *
count_malloc(size_t size, void *user)
{
    (void)user;
    atomic_fetch_add_explicit(&alloc_calls, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&alloc_bytes, (int_fast64_t)size,
                              memory_order_relaxed);
    return malloc(size);
}

static void
count_free(void *ptr, size_t size, void *user)
{
    (void)user;
    atomic_fetch_sub_explicit(&alloc_bytes, (int_fast64_t)size,
                              memory_order_relaxed);
    free(ptr);
}

void
bench_alloc_install(void)
{
    static const acto_allocator a = {count_malloc, count_free, NULL};
    acto_allocator_set(&a);
}

uint64_t
bench_alloc_count(void)
{
    return atomic_load(&alloc_calls);
}

int64_t
bench_alloc_live_bytes(void)
{
    return atomic_load(&alloc_bytes);
}

static volatile uint64_t sink;

void
bench_consume(uint64_t v)
{
    sink += v;
}

bench_ring *
bench_ring_alloc(size_t cap)
{
    bench_ring *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return NULL;
    }
    r->slot = calloc(cap, sizeof(void *));
    if (r->slot == NULL) {
        free(r);
        return NULL;
    }
    r->mask = cap - 1;
    return r;
}

void
bench_ring_free(bench_ring *r)
{
    free(r->slot);
    free(r);
}
