/* The actor workloads: message flows between acto actors, each beside its
 * plain-C floor.
 *
 * The floor is the same flow with no runtime around it: every "actor" is a
 * bench_ring mailbox and a handler reached through a function pointer, and
 * a run queue of actors with something to do, drained by a loop that pops
 * the runnable one and runs a batch of its messages. A bounded mailbox parks
 * its sender the way acto does: a sender whose target is full is not run
 * again until the target takes a message. No libuv, no allocation per
 * message, no refs to look up: what is left is the physical cost of moving
 * the messages.
 *
 * Producers are actors too. They send a burst of items from one handler and
 * then send themselves a "continue" message. With the default batch the
 * continue is taken again in the same turn, so a producer offers up to 64
 * bursts a turn while each receiver takes 64 items: into bounded mailboxes
 * (pipeline, backpressure) that makes it park on the first full one, which
 * is the point; into unbounded ones (fanout) it would only queue everything,
 * so there the producer handles one message per turn (batch 1).
 *
 * Every acto run gets a fresh system on its own loop and checks its result
 * (a count, a sum, a number of hops) before the time counts.
 */
#include "bench.h"

#include <acto/acto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BURST 64 /* items a producer sends per handler call */
#define BOUND 64 /* the pipeline's and backpressure's mailboxes */
#define STAGES 4 /* pipeline stages between producer and sink */
#define RING_ACTORS 1000
#define FANOUT_WORKERS 8
/* The spawner's "continue" lands in its own mailbox and is taken in the
 * same turn, so one turn spawns up to a batch of bursts. */
#define TURN_ITEMS (BURST * BENCH_FLOOR_BATCH)
#define SPAWN_TABLE (2 * TURN_ITEMS) /* floor slots, more than ever live */
/* The slow consumer's cost per message: 10M messages take 8 s. */
#define SPIN_NS 800

enum { MSG_ITEM = 1, MSG_CONTINUE, MSG_WORK, MSG_ACK };

static uint64_t
triangle(uint64_t n)
{
    return n * (n + 1) / 2;
}

static void
fl_relay(bench_floor *s, bench_floor_actor *a, uintptr_t item)
{
    bench_floor_send(s, a->next, item + a->add);
}

/* ---- shared actors: producer, relay, sink ----------------------------- */

/* A producer sends items 1..n round-robin over its targets. */
typedef struct producer {
    acto_ref to[FANOUT_WORKERS];
    unsigned n_to;
    uint64_t n;
    uint64_t sent;
} producer;

static int
produce(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)m;
    producer *p = state;
    for (int k = 0; k < BURST && p->sent < p->n; k++) {
        p->sent++;
        int rc =
            bench_tell_u64(ctx, p->to[p->sent % p->n_to], MSG_ITEM, p->sent);
        if (rc != 0) {
            return rc;
        }
    }
    if (p->sent < p->n) {
        return bench_tell_u64(ctx, acto_self(ctx), MSG_CONTINUE, 0);
    }
    return 0;
}

/* spawn_producer spawns p with batch (0: the default) and starts it. */
static void
spawn_producer(acto_system *sys, producer *p, uint32_t capacity, uint32_t batch)
{
    bench_kick(sys, bench_spawn_batch(sys, produce, p, capacity, batch),
               MSG_CONTINUE, 0);
}

/* A relay forwards each item to next, adding add. */
typedef struct relay {
    acto_ref next;
    uint64_t add;
} relay;

static int
relay_item(acto_ctx *ctx, void *state, const acto_msg *m)
{
    relay *r = state;
    return bench_tell_u64(ctx, r->next, MSG_ITEM, bench_msg_u64(m) + r->add);
}

/* A tally counts and sums what reaches a sink. */
typedef struct tally {
    uint64_t got;
    uint64_t sum;
} tally;

static int
sink_item(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)ctx;
    tally *t = state;
    t->got++;
    t->sum += bench_msg_u64(m);
    return 0;
}

/* The floor's producer: the same bursts, stopping early at a full target
 * (acto would park the rest; here they wait for the next turn). */
typedef struct fl_producer {
    bench_floor_actor *to[FANOUT_WORKERS];
    unsigned n_to;
    uint64_t n;
    uint64_t sent;
} fl_producer;

static void
fl_produce(bench_floor *s, bench_floor_actor *a, uintptr_t item)
{
    (void)item;
    fl_producer *p = a->state;
    for (int k = 0; k < BURST && p->sent < p->n; k++) {
        bench_floor_actor *to = p->to[(p->sent + 1) % p->n_to];
        if (bench_ring_full(to->box)) {
            break;
        }
        bench_floor_send(s, to, ++p->sent);
    }
    if (p->sent < p->n) {
        bench_floor_send(s, a, 0);
    }
}

static void
fl_sink(bench_floor *s, bench_floor_actor *a, uintptr_t item)
{
    (void)s;
    tally *t = a->state;
    t->got++;
    t->sum += item;
}

/* ---- pingpong --------------------------------------------------------- */

typedef struct pingpong {
    acto_ref ping;
    acto_ref pong;
    uint64_t n;
    uint64_t done;
} pingpong;

static int
ping(acto_ctx *ctx, void *state, const acto_msg *m)
{
    pingpong *p = state;
    uint64_t v = bench_msg_u64(m);
    if (v == p->n) {
        p->done = v;
        return 0;
    }
    return bench_tell_u64(ctx, p->pong, MSG_ITEM, v);
}

static int
pong(acto_ctx *ctx, void *state, const acto_msg *m)
{
    pingpong *p = state;
    return bench_tell_u64(ctx, p->ping, MSG_ITEM, bench_msg_u64(m) + 1);
}

/* Returns ns per round trip. */
static double
acto_pingpong(uint64_t n)
{
    pingpong p = {.n = n};
    acto_system *sys = bench_system_new();
    p.ping = bench_spawn_actor(sys, ping, &p, 0);
    p.pong = bench_spawn_actor(sys, pong, &p, 0);
    bench_kick(sys, p.ping, MSG_ITEM, 0);
    uint64_t ns = bench_run_timed(sys);
    bench_check(p.done == n, "pingpong", "round trips", p.done, n);
    bench_system_free(sys);
    return (double)ns / (double)n;
}

static void
fl_ping(bench_floor *s, bench_floor_actor *a, uintptr_t v)
{
    pingpong *p = a->state;
    if (v == p->n) {
        p->done = v;
        return;
    }
    bench_floor_send(s, a->next, v);
}

static double
floor_pingpong(uint64_t n)
{
    pingpong p = {.n = n};
    bench_floor s;
    bench_floor_actor a, b;
    bench_floor_init(&s, 2);
    bench_floor_actor_init(&a, 2, fl_ping, &p);
    bench_floor_actor_init(&b, 2, fl_relay, &p);
    a.next = &b;
    b.next = &a;
    b.add = 1;
    bench_floor_send(&s, &a, 0);
    uint64_t ns = bench_floor_run(&s);
    bench_check(p.done == n, "pingpong floor", "round trips", p.done, n);
    bench_ring_free(a.box);
    bench_ring_free(b.box);
    bench_ring_free(s.runq);
    return (double)ns / (double)n;
}

void
bench_pingpong(const bench_opts *opts)
{
    bench_paired(opts, "pingpong", acto_pingpong, floor_pingpong,
                 bench_count(opts, 1000000), "ns/roundtrip", "roundtrips/s");
}

/* ---- pipeline --------------------------------------------------------- */

/* Returns ns per hop: items times STAGES + 1. */
static double
acto_pipeline(uint64_t n)
{
    acto_system *sys = bench_system_new();
    tally t = {0};
    relay stage[STAGES];
    producer p = {.n_to = 1, .n = n};
    acto_ref next = bench_spawn_actor(sys, sink_item, &t, BOUND);
    for (int i = STAGES - 1; i >= 0; i--) {
        stage[i] = (relay){.next = next, .add = 1};
        next = bench_spawn_actor(sys, relay_item, &stage[i], BOUND);
    }
    p.to[0] = next;
    spawn_producer(sys, &p, BOUND, 0);
    uint64_t ns = bench_run_timed(sys);
    bench_check(t.got == n, "pipeline", "item count", t.got, n);
    bench_check(t.sum == triangle(n) + STAGES * n, "pipeline", "sum", t.sum,
                triangle(n) + STAGES * n);
    bench_system_free(sys);
    return (double)ns / (double)(n * (STAGES + 1));
}

static double
floor_pipeline(uint64_t n)
{
    bench_floor s;
    bench_floor_actor a[STAGES + 2]; /* producer, stages, sink */
    tally t = {0};
    fl_producer p = {.n_to = 1, .n = n};
    bench_floor_init(&s, STAGES + 2);
    bench_floor_actor_init(&a[0], 2, fl_produce, &p);
    for (int i = 1; i <= STAGES; i++) {
        bench_floor_actor_init(&a[i], BOUND, fl_relay, NULL);
        a[i].add = 1;
    }
    bench_floor_actor_init(&a[STAGES + 1], BOUND, fl_sink, &t);
    for (int i = 0; i <= STAGES; i++) {
        a[i].next = &a[i + 1];
    }
    p.to[0] = &a[1];
    bench_floor_send(&s, &a[0], 0);
    uint64_t ns = bench_floor_run(&s);
    bench_check(t.sum == triangle(n) + STAGES * n, "pipeline floor", "sum",
                t.sum, triangle(n) + STAGES * n);
    for (int i = 0; i < STAGES + 2; i++) {
        bench_ring_free(a[i].box);
    }
    bench_ring_free(s.runq);
    return (double)ns / (double)(n * (STAGES + 1));
}

void
bench_pipeline(const bench_opts *opts)
{
    bench_paired(opts, "pipeline", acto_pipeline, floor_pipeline,
                 bench_count(opts, 2000000), "ns/msg", "msgs/s");
}

/* ---- ring ------------------------------------------------------------- */

typedef struct ring_node {
    acto_ref next;
    uint64_t *done; /* where the last node records the hops */
    uint64_t hops;  /* the token's journey */
} ring_node;

/* The token carries the hops made so far; it stops when they reach hops. */
static int
ring_hop(acto_ctx *ctx, void *state, const acto_msg *m)
{
    ring_node *r = state;
    uint64_t v = bench_msg_u64(m);
    if (v == r->hops) {
        *r->done = v;
        return 0;
    }
    return bench_tell_u64(ctx, r->next, MSG_ITEM, v + 1);
}

static double
acto_ring(uint64_t hops)
{
    acto_system *sys = bench_system_new();
    ring_node *node = calloc(RING_ACTORS, sizeof(*node));
    acto_ref *ref = calloc(RING_ACTORS, sizeof(*ref));
    if (node == NULL || ref == NULL) {
        bench_die("ring", ACTO_ENOMEM);
    }
    uint64_t done = 0;
    for (int i = 0; i < RING_ACTORS; i++) {
        node[i] = (ring_node){.done = &done, .hops = hops};
        ref[i] = bench_spawn_actor(sys, ring_hop, &node[i], 0);
    }
    for (int i = 0; i < RING_ACTORS; i++) {
        node[i].next = ref[(i + 1) % RING_ACTORS];
    }
    bench_kick(sys, ref[0], MSG_ITEM, 0);
    uint64_t ns = bench_run_timed(sys);
    bench_check(done == hops, "ring", "hops", done, hops);
    bench_system_free(sys);
    free(node);
    free(ref);
    return (double)ns / (double)hops;
}

static void
fl_ring_hop(bench_floor *s, bench_floor_actor *a, uintptr_t v)
{
    uint64_t *hops = a->state; /* [0] the journey, [1] done */
    if (v == hops[0]) {
        hops[1] = v;
        return;
    }
    bench_floor_send(s, a->next, v + 1);
}

static double
floor_ring(uint64_t n)
{
    bench_floor s;
    bench_floor_actor *a = calloc(RING_ACTORS, sizeof(*a));
    if (a == NULL) {
        bench_die("ring floor", ACTO_ENOMEM);
    }
    uint64_t hops[2] = {n, 0};
    bench_floor_init(&s, RING_ACTORS);
    for (int i = 0; i < RING_ACTORS; i++) {
        bench_floor_actor_init(&a[i], 2, fl_ring_hop, hops);
        a[i].next = &a[(i + 1) % RING_ACTORS];
    }
    bench_floor_send(&s, &a[0], 0);
    uint64_t ns = bench_floor_run(&s);
    bench_check(hops[1] == n, "ring floor", "hops", hops[1], n);
    for (int i = 0; i < RING_ACTORS; i++) {
        bench_ring_free(a[i].box);
    }
    bench_ring_free(s.runq);
    free(a);
    return (double)ns / (double)n;
}

void
bench_token_ring(const bench_opts *opts)
{
    bench_paired(opts, "ring", acto_ring, floor_ring,
                 bench_count(opts, 2000000), "ns/hop", "hops/s");
}

/* ---- spawn ------------------------------------------------------------ */

/* A spawner spawns n workers in bursts, sends each one message and counts
 * the acknowledgements; each worker acknowledges and stops. */
typedef struct spawner {
    uint64_t n;
    uint64_t spawned;
    uint64_t acks;
} spawner;

static int
work_once(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)state;
    (void)m;
    int rc = acto_reply(ctx, MSG_ACK, NULL, 0);
    if (rc == 0) {
        rc = acto_stop(acto_ctx_system(ctx), acto_self(ctx));
    }
    return rc;
}

static int
spawn_burst(acto_ctx *ctx, spawner *s)
{
    acto_system *sys = acto_ctx_system(ctx);
    static const acto_behaviour b = {.receive = work_once};
    for (int k = 0; k < BURST && s->spawned < s->n; k++) {
        acto_ref w;
        int rc = acto_spawn(sys, &b, NULL, NULL, &w);
        if (rc == 0) {
            rc = bench_tell_u64(ctx, w, MSG_WORK, ++s->spawned);
        }
        if (rc != 0) {
            return rc;
        }
    }
    if (s->spawned < s->n) {
        return bench_tell_u64(ctx, acto_self(ctx), MSG_CONTINUE, 0);
    }
    return 0;
}

static int
spawner_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    spawner *s = state;
    if (acto_msg_type(m) == MSG_ACK) {
        s->acks++;
        return 0;
    }
    return spawn_burst(ctx, s);
}

/* Returns ns per actor: spawn, one message, its acknowledgement, stop. */
static double
acto_spawn_run(uint64_t n)
{
    acto_system *sys = bench_system_new();
    spawner s = {.n = n};
    bench_kick(sys, bench_spawn_actor(sys, spawner_receive, &s, 0),
               MSG_CONTINUE, 0);
    uint64_t ns = bench_run_timed(sys);
    acto_stats st;
    acto_system_stats(sys, &st);
    bench_check(s.acks == n, "spawn", "acknowledgements", s.acks, n);
    bench_check(st.stopped == n, "spawn", "stopped actors", st.stopped, n);
    bench_system_free(sys);
    return (double)ns / (double)n;
}

/* The floor's spawner: a table of malloc'd actors, each with its ring.
 * A worker acknowledges and puts itself on the dying list; the spawner
 * frees the dying before each burst, as acto reaps stopped actors after
 * their turn (never inside it). */
typedef struct fl_spawner {
    bench_floor_actor *table[SPAWN_TABLE];
    bench_floor_actor *dying[SPAWN_TABLE];
    size_t n_dying;
    uint64_t n;
    uint64_t spawned;
    uint64_t acks;
} fl_spawner;

static void
fl_work_once(bench_floor *s, bench_floor_actor *a, uintptr_t item)
{
    (void)item;
    fl_spawner *sp = a->state;
    bench_floor_send(s, a->next, 1);
    sp->dying[sp->n_dying++] = a;
}

static void
fl_reap(fl_spawner *sp)
{
    while (sp->n_dying > 0) {
        bench_floor_actor *w = sp->dying[--sp->n_dying];
        sp->table[w->add] = NULL;
        bench_ring_free(w->box);
        free(w);
    }
}

static void
fl_spawn_burst(bench_floor *s, bench_floor_actor *self, fl_spawner *sp)
{
    fl_reap(sp);
    for (int k = 0; k < BURST && sp->spawned < sp->n; k++) {
        size_t slot = sp->spawned++ % SPAWN_TABLE;
        bench_floor_actor *w = malloc(sizeof(*w));
        if (w == NULL || sp->table[slot] != NULL) {
            bench_die("spawn floor: table", ACTO_ENOMEM);
        }
        bench_floor_actor_init(w, 2, fl_work_once, sp);
        w->next = self;
        w->add = slot;
        sp->table[slot] = w;
        bench_floor_send(s, w, 1);
    }
    if (sp->spawned < sp->n) {
        bench_floor_send(s, self, 0);
    }
}

/* Message 0 is "continue", 1 an acknowledgement. */
static void
fl_spawner_receive(bench_floor *s, bench_floor_actor *a, uintptr_t item)
{
    fl_spawner *sp = a->state;
    if (item == 0) {
        fl_spawn_burst(s, a, sp);
    } else {
        sp->acks++;
    }
}

static double
floor_spawn(uint64_t n)
{
    bench_floor s;
    bench_floor_actor a;
    fl_spawner *sp = calloc(1, sizeof(*sp));
    if (sp == NULL) {
        bench_die("spawn floor", ACTO_ENOMEM);
    }
    sp->n = n;
    bench_floor_init(&s, SPAWN_TABLE + 1);
    /* The first turn spawns TURN_ITEMS workers; their acknowledgements
     * queue up while later bursts interleave with them. */
    bench_floor_actor_init(&a, 4 * TURN_ITEMS, fl_spawner_receive, sp);
    bench_floor_send(&s, &a, 0);
    uint64_t ns = bench_floor_run(&s);
    fl_reap(sp);
    bench_check(sp->acks == n, "spawn floor", "acknowledgements", sp->acks, n);
    bench_ring_free(a.box);
    bench_ring_free(s.runq);
    free(sp);
    return (double)ns / (double)n;
}

/* Returns the peak RSS growth per live idle actor, in bytes. */
static double
spawn_memory(uint64_t n)
{
    acto_system *sys = bench_system_new();
    uint64_t base = bench_peak_reset();
    for (uint64_t i = 0; i < n; i++) {
        bench_spawn_actor(sys, bench_idle_receive, NULL, 0);
    }
    double bytes = bench_peak_growth(base);
    acto_stats st;
    acto_system_stats(sys, &st);
    bench_check(st.live == n, "spawn", "live actors", st.live, n);
    bench_system_free(sys);
    return bytes / (double)n;
}

void
bench_spawn(const bench_opts *opts)
{
    bench_paired(opts, "spawn", acto_spawn_run, floor_spawn,
                 bench_count(opts, 200000), "ns/actor", "actors/s");
    double *v = calloc((size_t)opts->runs, sizeof(double));
    if (v == NULL) {
        bench_die("spawn", ACTO_ENOMEM);
    }
    for (int i = 0; i < opts->runs; i++) {
        v[i] = spawn_memory(bench_count(opts, 200000));
    }
    bench_report(opts, "spawn", "spawn_memory", BENCH_PLAIN,
                 bench_median(v, opts->runs), "bytes/actor", 0);
    free(v);
}

/* ---- fanout ----------------------------------------------------------- */

/* Returns ns per delivered message: two per item. */
static double
acto_fanout(uint64_t n)
{
    acto_system *sys = bench_system_new();
    tally t = {0};
    relay worker[FANOUT_WORKERS];
    producer p = {.n_to = FANOUT_WORKERS, .n = n};
    acto_ref sink = bench_spawn_actor(sys, sink_item, &t, 0);
    for (int i = 0; i < FANOUT_WORKERS; i++) {
        worker[i] = (relay){.next = sink};
        p.to[i] = bench_spawn_actor(sys, relay_item, &worker[i], 0);
    }
    spawn_producer(sys, &p, 0, 1);
    uint64_t ns = bench_run_timed(sys);
    bench_check(t.got == n, "fanout", "item count", t.got, n);
    bench_check(t.sum == triangle(n), "fanout", "sum", t.sum, triangle(n));
    bench_system_free(sys);
    return (double)ns / (double)(2 * n);
}

static double
floor_fanout(uint64_t n)
{
    bench_floor s;
    bench_floor_actor a[FANOUT_WORKERS + 2]; /* producer, workers, sink */
    tally t = {0};
    fl_producer p = {.n_to = FANOUT_WORKERS, .n = n};
    bench_floor_init(&s, FANOUT_WORKERS + 2);
    bench_floor_actor_init(&a[0], 2, fl_produce, &p);
    a[0].batch = 1;
    bench_floor_actor *sink = &a[FANOUT_WORKERS + 1];
    bench_floor_actor_init(sink, 4 * BURST, fl_sink, &t);
    for (int i = 1; i <= FANOUT_WORKERS; i++) {
        bench_floor_actor_init(&a[i], BURST, fl_relay, NULL);
        a[i].next = sink;
        p.to[i - 1] = &a[i];
    }
    bench_floor_send(&s, &a[0], 0);
    uint64_t ns = bench_floor_run(&s);
    bench_check(t.sum == triangle(n), "fanout floor", "sum", t.sum,
                triangle(n));
    for (int i = 0; i < FANOUT_WORKERS + 2; i++) {
        bench_ring_free(a[i].box);
    }
    bench_ring_free(s.runq);
    return (double)ns / (double)(2 * n);
}

void
bench_fanout(const bench_opts *opts)
{
    bench_paired(opts, "fanout", acto_fanout, floor_fanout,
                 bench_count(opts, 2000000), "ns/msg", "msgs/s");
}

/* ---- backpressure ----------------------------------------------------- */

/* The slow consumer burns SPIN_NS per message, dozens of sends' worth. */
static int
slow_item(acto_ctx *ctx, void *state, const acto_msg *m)
{
    bench_spin_ns(SPIN_NS);
    return sink_item(ctx, state, m);
}

/* Runs the flood once; *parks gets the sends that had to wait. Returns
 * the peak RSS growth in bytes. The producer has the default batch, so it
 * takes its own continue again and again in one turn: 64 bursts a turn
 * against the consumer's 64 messages, and every message it sends would
 * stay queued if its first send to the full mailbox did not park it. */
static double
acto_backpressure(uint64_t n, uint64_t *parks)
{
    acto_system *sys = bench_system_new();
    tally t = {0};
    producer p = {.n_to = 1, .n = n};
    uint64_t base = bench_peak_reset();
    p.to[0] = bench_spawn_actor(sys, slow_item, &t, BOUND);
    spawn_producer(sys, &p, 0, 0);
    bench_run_timed(sys);
    double bytes = bench_peak_growth(base);
    acto_stats st;
    acto_system_stats(sys, &st);
    bench_check(t.got == n, "backpressure", "item count", t.got, n);
    bench_check(t.sum == triangle(n), "backpressure", "sum", t.sum,
                triangle(n));
    *parks = st.parks;
    bench_system_free(sys);
    return bytes;
}

/* One run only, whatever --runs says: the figure is a peak, not a time,
 * and a run takes n * SPIN_NS (8 s at scale 1). */
void
bench_backpressure(const bench_opts *opts)
{
    uint64_t parks;
    double bytes = acto_backpressure(bench_count(opts, 10000000), &parks);
    bench_report(opts, "backpressure", "backpressure", BENCH_PLAIN,
                 bytes / (1024.0 * 1024.0), "MB", 0);
    bench_report(opts, "backpressure", "backpressure_parks", BENCH_PLAIN,
                 (double)parks, "count", 0);
}
