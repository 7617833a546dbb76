/* The pipeline workloads: flows built with <acto/pipeline.h>, each beside
 * its plain-C floor.
 *
 *   pipe5     a source, 5 map stages and a sink, mailboxes bounded at 64;
 *             each map stage changes the item in place and passes the
 *             same message on (acto_emit of the item it was given). A hop
 *             is one item moving from one stage to the next: 6 per item
 *             (source -> map1 ... map5 -> sink). The floor is the floor
 *             scheduler (bench_floor_*) doing the same 6 hops per item.
 *   pool8     a source, a key-routed pool of 8 workers (ACTO_ROUTE_KEY:
 *             the source routes each item to its worker itself) and a
 *             sink whose mailbox holds a full one of each worker's, as the
 *             floor's sink does; items per second. The floor routes by the
 *             same hash, through a router of its own.
 *   flood     a source far faster than its sink, 100M items: the peak RSS
 *             growth shows that the bounded mailboxes hold memory flat.
 *   wordfreq  acto-wordfreq on a generated 1 GB text, spawned as a
 *             process, beside Python asyncio (wordfreq_asyncio.py) and
 *             `tr | sort | uniq -c | sort -rn | head`; the floor is the
 *             same counting code (wordmap.c) in plain C, in this process.
 *
 * Items are one inline uint64_t, so no message allocates beyond the
 * runtime's pools; every run checks its count and sum before its time
 * counts.
 */
#include "bench.h"

#include <acto/pipeline.h>
#include <stdio.h>
#include <stdlib.h>

#define BOUND 64        /* every mailbox of pipe5, pool8 and flood */
#define SOURCE_BURST 64 /* items a source emits per call */
#define PIPE_MAPS 5
#define POOL_WORKERS 8
/* The flood's sink burns this per item: ~100 times the source function's
 * own work for an item (a counter step and an 8-byte inline item). */
#define FLOOD_SPIN_NS 200

enum { MSG_ITEM = 1 };

static uint64_t
triangle(uint64_t n)
{
    return n * (n + 1) / 2;
}

/* ---- the acto side: a source, a map and a sink ------------------------ */

typedef struct gen {
    uint64_t n;
    uint64_t next;
    uint32_t burst;
} gen;

/* gen_next emits the next burst of items 1..n. */
static int
gen_next(acto_emitter *out, void *state)
{
    gen *g = state;
    for (uint32_t k = 0; k < g->burst && g->next < g->n; k++) {
        g->next++;
        int rc = acto_emit_bytes(out, MSG_ITEM, &g->next, sizeof(g->next));
        if (rc != 0) {
            return rc;
        }
    }
    return g->next < g->n ? 0 : ACTO_PIPE_END;
}

/* bump adds 1 to the item in place and passes the same message on. */
static int
bump(acto_emitter *out, void *state, acto_msg *item)
{
    (void)state;
    size_t len;
    uint64_t v;
    void *data = acto_msg_data_mut(item, &len);
    if (data != NULL && len == sizeof(v)) {
        memcpy(&v, data, sizeof(v));
        v++;
        memcpy(data, &v, sizeof(v));
    }
    return acto_emit(out, item);
}

/* pass passes the item on as it is. */
static int
pass(acto_emitter *out, void *state, acto_msg *item)
{
    (void)state;
    return acto_emit(out, item);
}

typedef struct tally {
    uint64_t got;
    uint64_t sum;
} tally;

static int
add_up(acto_emitter *out, void *state, const acto_msg *item)
{
    (void)out;
    tally *t = state;
    t->got++;
    t->sum += bench_msg_u64(item);
    return 0;
}

static void
check_ok(int rc, const char *what)
{
    if (rc != 0) {
        bench_die(what, rc);
    }
}

/* run_pipeline starts p, runs sys until it is quiet, checks that p
 * finished and frees it. Returns the nanoseconds spent. */
static uint64_t
run_pipeline(acto_system *sys, acto_pipeline *p, const char *workload)
{
    acto_future *done;
    check_ok(acto_pipeline_start(p, &done), workload);
    uint64_t ns = bench_run_timed(sys);
    if (acto_future_state_of(done) != ACTO_FUTURE_DONE) {
        const acto_error *e = acto_future_state_of(done) == ACTO_FUTURE_FAILED
                                  ? acto_future_exception(done)
                                  : NULL;
        fprintf(stderr, "acto-bench: %s: the pipeline did not finish: %s\n",
                workload, e != NULL ? e->text : "no error");
        exit(1);
    }
    acto_future_release(done);
    check_ok(acto_pipeline_free(p), workload);
    return ns;
}

static const acto_stage_opts bounded = {.capacity = BOUND};

/* ---- pipe5 ------------------------------------------------------------ */

/* Returns ns per hop: items times PIPE_MAPS + 1. */
static double
acto_pipe5(uint64_t n)
{
    acto_system *sys = bench_system_new();
    acto_pipeline *p;
    acto_stage *st, *snk;
    gen g = {.n = n, .burst = SOURCE_BURST};
    tally t = {0};
    check_ok(acto_pipeline_new(sys, NULL, &p), "pipe5");
    check_ok(acto_pipeline_source(p, gen_next, &g, &bounded, &st), "pipe5");
    for (int i = 0; i < PIPE_MAPS; i++) {
        check_ok(acto_pipeline_stage(p, st, bump, NULL, &bounded, &st),
                 "pipe5");
    }
    check_ok(acto_pipeline_sink(p, st, add_up, &t, &bounded, &snk), "pipe5");
    uint64_t ns = run_pipeline(sys, p, "pipe5");
    bench_check(t.got == n, "pipe5", "item count", t.got, n);
    bench_check(t.sum == triangle(n) + PIPE_MAPS * n, "pipe5", "sum", t.sum,
                triangle(n) + PIPE_MAPS * n);
    bench_system_free(sys);
    return (double)ns / (double)(n * (PIPE_MAPS + 1));
}

/* The floor's source: the same bursts, stopping early at a full reader
 * (acto would park the rest; here they wait for the next turn). */
typedef struct fl_gen {
    uint64_t n;
    uint64_t sent;
} fl_gen;

static void
fl_gen_next(bench_floor *s, bench_floor_actor *a, uintptr_t item)
{
    (void)item;
    fl_gen *g = a->state;
    for (int k = 0; k < SOURCE_BURST && g->sent < g->n; k++) {
        if (bench_ring_full(a->next->box)) {
            break;
        }
        bench_floor_send(s, a->next, ++g->sent);
    }
    if (g->sent < g->n) {
        bench_ring_push(a->box, NULL); /* pull again, as a source does */
        bench_floor_schedule(s, a);
    }
}

static void
fl_relay(bench_floor *s, bench_floor_actor *a, uintptr_t item)
{
    bench_floor_send(s, a->next, item + a->add);
}

static void
fl_sink(bench_floor *s, bench_floor_actor *a, uintptr_t item)
{
    (void)s;
    tally *t = a->state;
    t->got++;
    t->sum += item;
}

/* fl_free frees the rings of n floor actors and the run queue. */
static void
fl_free(bench_floor *s, bench_floor_actor *a, int n)
{
    for (int i = 0; i < n; i++) {
        bench_ring_free(a[i].box);
    }
    bench_ring_free(s->runq);
}

static double
floor_pipe5(uint64_t n)
{
    bench_floor s;
    bench_floor_actor a[PIPE_MAPS + 2]; /* source, maps, sink */
    tally t = {0};
    fl_gen g = {.n = n};
    bench_floor_init(&s, PIPE_MAPS + 2);
    bench_floor_actor_init(&a[0], 2, fl_gen_next, &g);
    for (int i = 1; i <= PIPE_MAPS; i++) {
        bench_floor_actor_init(&a[i], BOUND, fl_relay, NULL);
        a[i].add = 1;
    }
    bench_floor_actor_init(&a[PIPE_MAPS + 1], BOUND, fl_sink, &t);
    for (int i = 0; i <= PIPE_MAPS; i++) {
        a[i].next = &a[i + 1];
    }
    a[0].next = &a[1];
    a[0].batch = 1; /* one pull per turn, as the source's continue */
    bench_floor_send(&s, &a[0], 0);
    uint64_t ns = bench_floor_run(&s);
    bench_check(t.sum == triangle(n) + PIPE_MAPS * n, "pipe5 floor", "sum",
                t.sum, triangle(n) + PIPE_MAPS * n);
    fl_free(&s, a, PIPE_MAPS + 2);
    return (double)ns / (double)(n * (PIPE_MAPS + 1));
}

void
bench_pipe5(const bench_opts *opts)
{
    bench_paired(opts, "pipe5", acto_pipe5, floor_pipe5,
                 bench_count(opts, 5000000), "ns/hop", "hops/s");
}

/* ---- pool8 ------------------------------------------------------------ */

static uint64_t
item_key(const acto_msg *item, void *user)
{
    (void)user;
    return bench_msg_u64(item);
}

/* The sink has 8 writers: room for a full mailbox of each, as the
 * floor's. */
static const acto_stage_opts sink_bounded = {.capacity = POOL_WORKERS * BOUND};

/* Returns ns per item (source, worker, sink). */
static double
acto_pool8(uint64_t n)
{
    acto_system *sys = bench_system_new();
    acto_pipeline *p;
    acto_stage *src, *pool, *snk;
    gen g = {.n = n, .burst = SOURCE_BURST};
    tally t = {0};
    acto_pool_opts po = {
        .workers = POOL_WORKERS, .route = ACTO_ROUTE_KEY, .key = item_key};
    check_ok(acto_pipeline_new(sys, NULL, &p), "pool8");
    check_ok(acto_pipeline_source(p, gen_next, &g, &bounded, &src), "pool8");
    check_ok(acto_pipeline_pool(p, src, &po, pass, NULL, &bounded, &pool),
             "pool8");
    check_ok(acto_pipeline_sink(p, pool, add_up, &t, &sink_bounded, &snk),
             "pool8");
    uint64_t ns = run_pipeline(sys, p, "pool8");
    bench_check(t.got == n, "pool8", "item count", t.got, n);
    bench_check(t.sum == triangle(n), "pool8", "sum", t.sum, triangle(n));
    bench_system_free(sys);
    return (double)ns / (double)n;
}

/* The floor's router: the worker by the same hash of the key. */
static void
fl_route(bench_floor *s, bench_floor_actor *a, uintptr_t item)
{
    bench_floor_actor *workers = a->state;
    uint64_t k = item;
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    bench_floor_send(s, &workers[k % POOL_WORKERS], item);
}

static double
floor_pool8(uint64_t n)
{
    bench_floor s;
    /* source, router, sink, then the workers */
    bench_floor_actor a[3 + POOL_WORKERS];
    bench_floor_actor *w = &a[3];
    tally t = {0};
    fl_gen g = {.n = n};
    bench_floor_init(&s, 3 + POOL_WORKERS);
    bench_floor_actor_init(&a[0], 2, fl_gen_next, &g);
    bench_floor_actor_init(&a[1], BOUND, fl_route, w);
    /* The sink has 8 senders and the floor parks only one per mailbox:
     * it is sized so that it never fills (at most a router turn, 64
     * items, arrives per round of the run queue). */
    bench_floor_actor_init(&a[2], POOL_WORKERS * BOUND, fl_sink, &t);
    a[0].next = &a[1];
    a[0].batch = 1;
    for (int i = 0; i < POOL_WORKERS; i++) {
        /* The router's turn sends at most 64, and each worker empties its
         * mailbox before the router's next turn. */
        bench_floor_actor_init(&w[i], BOUND, fl_relay, NULL);
        w[i].next = &a[2];
    }
    bench_floor_send(&s, &a[0], 0);
    uint64_t ns = bench_floor_run(&s);
    bench_check(t.sum == triangle(n), "pool8 floor", "sum", t.sum, triangle(n));
    fl_free(&s, a, 3 + POOL_WORKERS);
    return (double)ns / (double)n;
}

void
bench_pool8(const bench_opts *opts)
{
    bench_paired(opts, "pool8", acto_pool8, floor_pool8,
                 bench_count(opts, 5000000), "ns/item", "items/s");
}

/* ---- flood ------------------------------------------------------------ */

static int
slow_add_up(acto_emitter *out, void *state, const acto_msg *item)
{
    bench_spin_ns(FLOOD_SPIN_NS);
    return add_up(out, state, item);
}

/* flood_run streams n items from a source into a sink (slow or not) over
 * one bounded mailbox. Returns ns per item; *growth gets the peak RSS
 * growth in bytes, *parks the sends that had to wait. */
static double
flood_run(uint64_t n, bool slow, double *growth, uint64_t *parks)
{
    acto_system *sys = bench_system_new();
    acto_pipeline *p;
    acto_stage *src, *snk;
    gen g = {.n = n, .burst = SOURCE_BURST};
    tally t = {0};
    uint64_t base = bench_peak_reset();
    check_ok(acto_pipeline_new(sys, NULL, &p), "flood");
    check_ok(acto_pipeline_source(p, gen_next, &g, &bounded, &src), "flood");
    check_ok(acto_pipeline_sink(p, src, slow ? slow_add_up : add_up, &t,
                                &bounded, &snk),
             "flood");
    uint64_t ns = run_pipeline(sys, p, "flood");
    *growth = bench_peak_growth(base);
    acto_stats st;
    acto_system_stats(sys, &st);
    *parks = st.parks;
    bench_check(t.got == n, "flood", "item count", t.got, n);
    bench_check(t.sum == triangle(n), "flood", "sum", t.sum, triangle(n));
    bench_system_free(sys);
    return (double)ns / (double)n;
}

/* One run only, whatever --runs says: the figure is a peak, not a time,
 * and a run takes n * FLOOD_SPIN_NS (20 s at scale 1). A short run with a
 * sink that does nothing first says how fast the source side goes. */
void
bench_flood(const bench_opts *opts)
{
    uint64_t n = bench_count(opts, 100000000);
    uint64_t parks;
    double growth, idle_growth;
    double fast =
        flood_run(n / 100 > 0 ? n / 100 : 1, false, &idle_growth, &parks);
    double slow = flood_run(n, true, &growth, &parks);
    bench_report(opts, "flood", "flood", BENCH_PLAIN,
                 growth / (1024.0 * 1024.0), "MB", 0);
    bench_report(opts, "flood", "flood_parks", BENCH_PLAIN, (double)parks,
                 "count", 0);
    bench_report(opts, "flood", "flood_sink_ns", BENCH_PLAIN, slow, "ns/item",
                 0);
    bench_report(opts, "flood", "flood_free_ns", BENCH_PLAIN, fast, "ns/item",
                 0);
}
