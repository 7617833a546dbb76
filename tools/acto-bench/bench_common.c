/* Helpers shared by the workload files: acto systems and actors that die
 * with a message on error, the floor's scheduler, paired reporting and the
 * process's RSS. Their contracts are in bench.h. */
#include "bench.h"

#include <acto/acto.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- acto helpers ---------------------------------------------------- */

_Noreturn void
bench_die(const char *what, int rc)
{
    fprintf(stderr, "acto-bench: %s: %s\n", what, acto_strerror(rc));
    exit(1);
}

void
bench_check(bool ok, const char *workload, const char *what, uint64_t got,
            uint64_t want)
{
    if (!ok) {
        fprintf(stderr, "acto-bench: %s: wrong %s: %llu, expected %llu\n",
                workload, what, (unsigned long long)got,
                (unsigned long long)want);
        exit(1);
    }
}

acto_system *
bench_system_new(void)
{
    acto_system *sys;
    int rc = acto_system_alloc(NULL, &sys);
    if (rc != 0) {
        bench_die("acto_system_alloc", rc);
    }
    return sys;
}

void
bench_system_free(acto_system *sys)
{
    int rc = acto_system_free(sys);
    if (rc != 0) {
        bench_die("acto_system_free", rc);
    }
}

uint64_t
bench_run_timed(acto_system *sys)
{
    uint64_t t0 = bench_now_ns();
    int rc = acto_system_run(sys);
    uint64_t t1 = bench_now_ns();
    if (rc != 0) {
        bench_die("acto_system_run", rc);
    }
    return t1 - t0;
}

/* behaviour_of returns a behaviour for fn that lives as long as the
 * program: acto uses behaviours in place, so they must outlive actors. */
static const acto_behaviour *
behaviour_of(acto_receive_fn fn)
{
    static acto_behaviour table[32];
    static size_t n;
    for (size_t i = 0; i < n; i++) {
        if (table[i].receive == fn) {
            return &table[i];
        }
    }
    if (n == sizeof(table) / sizeof(table[0])) {
        bench_die("behaviour table", ACTO_ENOMEM);
    }
    table[n].receive = fn;
    return &table[n++];
}

acto_ref
bench_spawn_batch(acto_system *sys, acto_receive_fn fn, void *state,
                  uint32_t capacity, uint32_t batch)
{
    const acto_spawn_opts o = {.capacity = capacity, .batch = batch};
    acto_ref ref;
    int rc = acto_spawn(sys, behaviour_of(fn), state, &o, &ref);
    if (rc != 0) {
        bench_die("acto_spawn", rc);
    }
    return ref;
}

acto_ref
bench_spawn_actor(acto_system *sys, acto_receive_fn fn, void *state,
                  uint32_t capacity)
{
    return bench_spawn_batch(sys, fn, state, capacity, 0);
}

void
bench_kick(acto_system *sys, acto_ref to, uint32_t type, uint64_t v)
{
    acto_msg *m;
    int rc = acto_msg_new_bytes(sys, type, &v, sizeof(v), &m);
    if (rc == 0 && (rc = acto_system_send(sys, to, m)) != 0) {
        acto_msg_free(m);
    }
    if (rc != 0) {
        bench_die("acto_system_send", rc);
    }
}

/* ---- the floor's scheduler -------------------------------------------- */

static size_t
pow2_at_least(size_t n)
{
    size_t p = 2;
    while (p < n) {
        p *= 2;
    }
    return p;
}

bench_ring *
bench_ring_new(size_t cap)
{
    bench_ring *r = bench_ring_alloc(pow2_at_least(cap));
    if (r == NULL) {
        bench_die("floor ring", ACTO_ENOMEM);
    }
    return r;
}

void
bench_floor_init(bench_floor *s, size_t max_actors)
{
    s->runq = bench_ring_new(max_actors);
}

void
bench_floor_actor_init(bench_floor_actor *a, size_t cap, bench_floor_fn handle,
                       void *state)
{
    *a = (bench_floor_actor){.box = bench_ring_new(cap),
                             .handle = handle,
                             .state = state,
                             .batch = BENCH_FLOOR_BATCH};
}

/* park_on makes a wait for room in r. One waiter per mailbox is enough for
 * the flows here: only the pipeline's mailboxes fill, and each has a single
 * sender; the others are sized never to fill. */
static void
park_on(bench_floor_actor *r, bench_floor_actor *a)
{
    if (r->waiter != NULL && r->waiter != a) {
        bench_die("floor: a second sender parked on one mailbox",
                  ACTO_EQUEUEFULL);
    }
    r->waiter = a;
}

/* fl_turn runs up to a batch of a's messages. An actor whose next mailbox
 * is full parks on it, and the next one's first take wakes it. */
static void
fl_turn(bench_floor *s, bench_floor_actor *a)
{
    a->queued = false;
    for (int n = 0; n < a->batch; n++) {
        if (a->next != NULL && bench_ring_full(a->next->box)) {
            park_on(a->next, a);
            return;
        }
        void *item;
        if (!bench_ring_pop(a->box, &item)) {
            return;
        }
        if (a->waiter != NULL) {
            bench_floor_schedule(s, a->waiter);
            a->waiter = NULL;
        }
        a->handle(s, a, (uintptr_t)item);
    }
    if (a->box->head != a->box->tail) {
        bench_floor_schedule(s, a);
    }
}

uint64_t
bench_floor_run(bench_floor *s)
{
    uint64_t t0 = bench_now_ns();
    void *a;
    while (bench_ring_pop(s->runq, &a)) {
        fl_turn(s, a);
    }
    return bench_now_ns() - t0;
}

/* ---- reporting and memory -------------------------------------------- */

void
bench_paired(const bench_opts *opts, const char *workload,
             bench_measure_fn acto, bench_measure_fn floor, uint64_t n,
             const char *cost_unit, const char *rate_unit)
{
    int runs = opts->runs;
    double *v = calloc(4 * (size_t)runs, sizeof(double));
    if (v == NULL) {
        bench_die("report", ACTO_ENOMEM);
    }
    double *a = v, *f = v + runs, *ar = v + 2 * runs, *fr = v + 3 * runs;
    for (int i = 0; i < runs; i++) {
        f[i] = floor(n);
        a[i] = acto(n);
        ar[i] = 1e9 / a[i];
        fr[i] = 1e9 / f[i];
    }
    char name[64];
    snprintf(name, sizeof(name), "%s_rate", workload);
    bench_report_runs(opts, workload, workload, BENCH_COST, a, f, runs,
                      cost_unit);
    bench_report_runs(opts, workload, name, BENCH_RATE, ar, fr, runs,
                      rate_unit);
    free(v);
}

uint64_t
bench_status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) {
        return 0;
    }
    char line[256];
    size_t klen = strlen(key);
    unsigned long long kb = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            kb = strtoull(line + klen + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}

uint64_t
bench_rss_kb(void)
{
    malloc_trim(0);
    return bench_status_kb("VmRSS");
}

uint64_t
bench_peak_reset(void)
{
    uint64_t kb = bench_rss_kb();
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f != NULL) {
        fputs("5", f);
        fclose(f);
    }
    return kb;
}

double
bench_peak_growth(uint64_t base_kb)
{
    uint64_t hwm = bench_status_kb("VmHWM");
    uint64_t rss = bench_status_kb("VmRSS");
    uint64_t peak = hwm > rss ? hwm : rss;
    return peak > base_kb ? (double)(peak - base_kb) * 1024 : 0;
}
