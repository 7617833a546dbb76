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
#include <string.h>

#include <acto/acto.h>

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

/* bench_percentile sorts v in place and returns its p-th (0..1) value. */
double bench_percentile(double *v, uint64_t n, double p);

/* A receive function that does nothing, for idle actors. */
int bench_idle_receive(acto_ctx *ctx, void *state, const acto_msg *m);

/* bench_spin_ns burns ns nanoseconds of CPU (a slow handler's work). */
void bench_spin_ns(uint64_t ns);

/* Monotonic nanoseconds. */
uint64_t bench_now_ns(void);

/* Scales a base operation count, never below 1. */
uint64_t bench_count(const bench_opts *opts, uint64_t base);

/* A counting allocator for acto, so workloads can prove they allocate
 * nothing in steady state. */
void bench_alloc_install(void);
uint64_t bench_alloc_count(void);
/* Bytes acto has allocated and not freed (its own requests, without the
 * allocator's overhead or fragmentation). */
int64_t bench_alloc_live_bytes(void);

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

/* ---- bench_common.c: helpers shared by the workload files ------------- */

/* bench_die prints what failed with rc's text and exits with 1. */
_Noreturn void bench_die(const char *what, int rc);

/* bench_check exits with a message unless a workload's result is right. */
void bench_check(bool ok, const char *workload, const char *what, uint64_t got,
                 uint64_t want);

/* A system on its own loop, real time; freed with bench_system_free. */
acto_system *bench_system_new(void);
void bench_system_free(acto_system *sys);

/* bench_run_timed runs sys until it is quiet and returns the nanoseconds
 * spent. */
uint64_t bench_run_timed(acto_system *sys);

/* bench_spawn_batch spawns an actor receiving with fn (a behaviour kept for
 * the program's life), a mailbox bound of capacity (0: none) and batch
 * messages per turn (0: the default). */
acto_ref bench_spawn_batch(acto_system *sys, acto_receive_fn fn, void *state,
                           uint32_t capacity, uint32_t batch);
acto_ref bench_spawn_actor(acto_system *sys, acto_receive_fn fn, void *state,
                           uint32_t capacity);

/* Items travel as one inline uint64_t, so no message allocates:
 * bench_msg_u64 reads one (0 for another payload), bench_tell_u64 sends one
 * from the running actor, bench_kick from outside the actors. */
static inline uint64_t
bench_msg_u64(const acto_msg *m)
{
    size_t len;
    const void *data = acto_msg_data(m, &len);
    uint64_t v = 0;
    if (data != NULL && len == sizeof(v)) {
        memcpy(&v, data, sizeof(v));
    }
    return v;
}

/* Inline, as a handler's own code would be: the workloads time the
 * runtime, not a call into the harness per message. */
static inline int
bench_tell_u64(acto_ctx *ctx, acto_ref to, uint32_t type, uint64_t v)
{
    return acto_tell(ctx, to, type, &v, sizeof(v));
}
void bench_kick(acto_system *sys, acto_ref to, uint32_t type, uint64_t v);

/* The floor's scheduler: every "actor" is a bench_ring mailbox and a
 * handler reached through a function pointer, and a run queue of actors
 * with something to do, drained by a loop that pops the runnable one and
 * runs a batch of its messages. An actor whose next mailbox is full parks
 * on it until that one takes a message, as acto parks a sender. */
#define BENCH_FLOOR_BATCH 64 /* messages per floor turn, as acto's default */

typedef struct bench_floor_actor bench_floor_actor;
typedef struct bench_floor bench_floor;
typedef void (*bench_floor_fn)(bench_floor *s, bench_floor_actor *a,
                               uintptr_t item);

struct bench_floor_actor {
    bench_ring *box;
    bench_floor_fn handle;
    bench_floor_actor *next;   /* where it sends; a full next parks it */
    bench_floor_actor *waiter; /* the sender parked on this one's room */
    void *state;
    uintptr_t add; /* what a relay adds to each item */
    int batch;     /* messages per turn */
    bool queued;
};

struct bench_floor {
    bench_ring *runq;
};

/* bench_ring_new is bench_ring_alloc for at least cap items, or exits. */
bench_ring *bench_ring_new(size_t cap);

/* Each actor is queued at most once, so a run queue of max_actors never
 * overflows. The rings are the caller's to free with bench_ring_free. */
void bench_floor_init(bench_floor *s, size_t max_actors);
void bench_floor_actor_init(bench_floor_actor *a, size_t cap,
                            bench_floor_fn handle, void *state);

/* bench_floor_run runs actors until none is runnable and returns the
 * nanoseconds spent. */
uint64_t bench_floor_run(bench_floor *s);

static inline bool
bench_ring_full(const bench_ring *r)
{
    return r->tail - r->head > r->mask;
}

static inline void
bench_floor_schedule(bench_floor *s, bench_floor_actor *a)
{
    if (!a->queued) {
        a->queued = true;
        bench_ring_push(s->runq, a);
    }
}

/* bench_floor_send never overflows: senders check for room (through next)
 * or the mailbox is sized for the most a flow ever queues there. */
static inline void
bench_floor_send(bench_floor *s, bench_floor_actor *to, uintptr_t item)
{
    if (!bench_ring_push(to->box, (void *)item)) {
        bench_die("floor mailbox overflow", ACTO_EQUEUEFULL);
    }
    bench_floor_schedule(s, to);
}

/* A workload's measurement: ns per operation for n operations. */
typedef double (*bench_measure_fn)(uint64_t n);

/* bench_paired measures floor and acto back to back opts->runs times and
 * reports the cost per operation and the rate, named workload and
 * workload_rate. */
void bench_paired(const bench_opts *opts, const char *workload,
                  bench_measure_fn acto, bench_measure_fn floor, uint64_t n,
                  const char *cost_unit, const char *rate_unit);

/* bench_status_kb reads a "Key: N kB" line of /proc/self/status, or 0. */
uint64_t bench_status_kb(const char *key);

/* bench_rss_kb hands freed heap back to the kernel and returns the RSS in
 * kB: what the live data holds. */
uint64_t bench_rss_kb(void);

/* bench_peak_reset does bench_rss_kb and restarts VmHWM at the current RSS
 * (Linux's clear_refs 5), so the next peak is this measurement's own, not
 * an earlier workload's. Returns the RSS in kB. */
uint64_t bench_peak_reset(void);

/* bench_peak_growth returns the bytes by which the peak RSS passed
 * base_kb. */
double bench_peak_growth(uint64_t base_kb);

/* ---- the workloads ---------------------------------------------------- */

/* bench_queue.c, bench_actors.c for the actors', bench_futures.c for the
 * futures' and asks', bench_sup.c for the supervisors'. */
void bench_queue(const bench_opts *opts);
void bench_pingpong(const bench_opts *opts);
void bench_pipeline(const bench_opts *opts);
void bench_token_ring(const bench_opts *opts); /* "ring" */
void bench_spawn(const bench_opts *opts);
void bench_fanout(const bench_opts *opts);
void bench_backpressure(const bench_opts *opts);
void bench_ask(const bench_opts *opts);
void bench_gather(const bench_opts *opts);
void bench_ask_memory(const bench_opts *opts);
void bench_timers(const bench_opts *opts);
void bench_restart(const bench_opts *opts);
void bench_pool(const bench_opts *opts);
void bench_trace(const bench_opts *opts);
/* bench_rally plays n ping-pong round trips, traced into sink with opts
 * when sink is not NULL (then *st gets the trace's stats and tracing is
 * stopped, closing the sink), and returns the nanoseconds they took. */
double bench_rally(uint64_t n, const acto_trace_sink *sink,
                   const acto_trace_opts *opts, acto_trace_stats *st);
/* Part of bench_trace: the trace file's size, decoding and export rates. */
void bench_tracefile(const bench_opts *opts);
/* bench_pipeline.c: pipelines of <acto/pipeline.h>; bench_wordfreq.c:
 * acto-wordfreq against its baselines. */
void bench_pipe5(const bench_opts *opts);
void bench_pool8(const bench_opts *opts);
void bench_flood(const bench_opts *opts);
void bench_wordfreq(const bench_opts *opts);
/* bench_http.c: the HTTP session against bare curl multi. */
void bench_http(const bench_opts *opts);
/* bench_tcp.c: an echo server on the TCP actors against plain libuv. */
void bench_echo(const bench_opts *opts);
void bench_echo_idle(const bench_opts *opts);

/* acto-bench SPAWN_ARG COMMAND...: runs COMMAND, waits for it and writes
 * its peak RSS in kB to fd 3; exits with its status. Used by wordfreq, so
 * that the forking process is small (bench_wordfreq.c says why). */
#define BENCH_SPAWN_ARG "--spawn-child"
int bench_spawn_child(int argc, char **argv);

#endif /* ACTO_BENCH_H */
