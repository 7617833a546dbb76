/* The futures workloads: asks answered with acto_reply, gathers over them,
 * and the memory a pending ask holds.
 *
 * An asker continues from each reply as a message: it asks, has the ask's
 * future delivered to itself with acto_future_notify, and asks again from
 * the handler of that message, so every ask pays the whole path a real
 * caller pays (future, ask slot, request, reply, completion, notify message)
 * and nothing is waited for outside the loop.
 *
 * The floors are the same request/reply flows on the floor's scheduler
 * (bench.h): a request is an item to the server's ring, a reply an item back
 * to the asker's, with no future, no correlation and no allocation.
 */
#include "bench.h"

#include <acto/acto.h>
#include <acto/combinators.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GATHER_MEMBERS 1000
#define ASK_TIMEOUT_MS 1000     /* the pending asks' timeout, in virtual time */
#define FLOOR_START UINTPTR_MAX /* starts a floor asker */

enum { MSG_START = 1, MSG_REQUEST, MSG_REPLY, MSG_ANSWERED, MSG_GATHERED };

/* ---- shared: the server and the asks ---------------------------------- */

/* The server answers each request v with v + 1. */
static int
serve(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)state;
    uint64_t v = bench_msg_u64(m) + 1;
    return acto_reply(ctx, MSG_REPLY, &v, sizeof(v));
}

/* ask_u64 asks to for v and returns the future (one reference, the
 * caller's) in *out. Returns 0 or the error of making or asking. */
static int
ask_u64(acto_system *sys, acto_ref to, uint64_t v, uint64_t timeout_ms,
        acto_future **out)
{
    acto_msg *req;
    int rc = acto_msg_new_bytes(sys, MSG_REQUEST, &v, sizeof(v), &req);
    if (rc != 0) {
        return rc;
    }
    if ((rc = acto_ask(sys, to, req, timeout_ms, out)) != 0) {
        acto_msg_free(req);
    }
    return rc;
}

/* reply_of reads the value a DONE ask's reply carries into *v. Returns 0,
 * or the future's error. */
static int
reply_of(acto_future *f, uint64_t *v)
{
    void *reply;
    int rc = acto_future_result(f, &reply);
    if (rc == 0) {
        *v = bench_msg_u64(reply);
    }
    return rc;
}

/* The floor's server: each request v goes back to the asker as v + 1. */
static void
fl_serve(bench_floor *s, bench_floor_actor *a, uintptr_t v)
{
    bench_floor_send(s, a->next, v + 1);
}

/* ---- ask -------------------------------------------------------------- */

typedef struct asker {
    acto_ref server;
    uint64_t n;
    uint64_t answered; /* replies checked */
} asker;

/* ask_next asks for answered and has the reply delivered as MSG_ANSWERED.
 * The notify message holds its own reference, so ours goes at once. */
static int
ask_next(acto_ctx *ctx, asker *a)
{
    acto_future *f;
    int rc = ask_u64(acto_ctx_system(ctx), a->server, a->answered, 0, &f);
    if (rc != 0) {
        return rc;
    }
    rc = acto_future_notify(ctx, f, MSG_ANSWERED);
    acto_future_release(f);
    return rc;
}

static int
ask_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    asker *a = state;
    if (acto_msg_type(m) == MSG_ANSWERED) {
        uint64_t v = 0;
        int rc = reply_of(acto_msg_future(m), &v);
        if (rc != 0) {
            return rc;
        }
        if (v != a->answered + 1) {
            return acto_fail(ctx, ACTO_EFAILED, "BadReply",
                             "reply %llu to ask %llu", (unsigned long long)v,
                             (unsigned long long)a->answered);
        }
        a->answered++;
    }
    return a->answered < a->n ? ask_next(ctx, a) : 0;
}

/* Returns ns per ask: request, reply, completion and continuation. */
static double
acto_ask_run(uint64_t n)
{
    acto_system *sys = bench_system_new();
    asker a = {.n = n};
    a.server = bench_spawn_actor(sys, serve, NULL, 0);
    bench_kick(sys, bench_spawn_actor(sys, ask_receive, &a, 0), MSG_START, 0);
    uint64_t ns = bench_run_timed(sys);
    bench_check(a.answered == n, "ask", "answered asks", a.answered, n);
    bench_system_free(sys);
    return (double)ns / (double)n;
}

/* The floor's asker: each reply v (v asks answered) asks again. */
static void
fl_ask(bench_floor *s, bench_floor_actor *a, uintptr_t v)
{
    asker *p = a->state;
    if (v == FLOOR_START) {
        v = 0;
    } else if (v != p->answered + 1) {
        bench_check(false, "ask floor", "reply", v, p->answered + 1);
    } else {
        p->answered = v;
    }
    if (p->answered < p->n) {
        bench_floor_send(s, a->next, p->answered);
    }
}

static double
floor_ask(uint64_t n)
{
    asker p = {.n = n};
    bench_floor s;
    bench_floor_actor a, b;
    bench_floor_init(&s, 2);
    bench_floor_actor_init(&a, 2, fl_ask, &p);
    bench_floor_actor_init(&b, 2, fl_serve, NULL);
    a.next = &b;
    b.next = &a;
    bench_floor_send(&s, &a, FLOOR_START);
    uint64_t ns = bench_floor_run(&s);
    bench_check(p.answered == n, "ask floor", "answered asks", p.answered, n);
    bench_ring_free(a.box);
    bench_ring_free(b.box);
    bench_ring_free(s.runq);
    return (double)ns / (double)n;
}

void
bench_ask(const bench_opts *opts)
{
    bench_paired(opts, "ask", acto_ask_run, floor_ask,
                 bench_count(opts, 1000000), "ns/ask", "asks/s");
}

/* ---- gather ----------------------------------------------------------- */

/* A gatherer runs rounds of GATHER_MEMBERS asks, one gather each; the ask
 * round * GATHER_MEMBERS + i is answered with that plus 1. */
typedef struct gatherer {
    acto_ref server;
    uint64_t rounds;
    uint64_t round;
    uint64_t completions; /* member replies checked */
    acto_future *member[GATHER_MEMBERS];
} gatherer;

static void
release_members(gatherer *g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        acto_future_release(g->member[i]);
    }
}

/* gather_round makes the round's asks and gathers them, delivered as
 * MSG_GATHERED. The gather's result holds the members, so ours go. */
static int
gather_round(acto_ctx *ctx, gatherer *g)
{
    acto_system *sys = acto_ctx_system(ctx);
    uint64_t first = g->round * GATHER_MEMBERS;
    for (size_t i = 0; i < GATHER_MEMBERS; i++) {
        int rc = ask_u64(sys, g->server, first + i, 0, &g->member[i]);
        if (rc != 0) {
            release_members(g, i);
            return rc;
        }
    }
    acto_future *all;
    int rc = acto_gather(sys, g->member, GATHER_MEMBERS, false, &all);
    release_members(g, GATHER_MEMBERS);
    if (rc != 0) {
        return rc;
    }
    rc = acto_future_notify(ctx, all, MSG_GATHERED);
    acto_future_release(all);
    return rc;
}

/* check_round checks every member's reply in a gather's result. */
static int
check_round(acto_ctx *ctx, gatherer *g, acto_future *all)
{
    void *value;
    int rc = acto_future_result(all, &value);
    if (rc != 0) {
        return rc;
    }
    const acto_gather_result *r = value;
    uint64_t first = g->round * GATHER_MEMBERS;
    for (size_t i = 0; i < r->n; i++) {
        uint64_t v = 0;
        if (r->items[i].state != ACTO_FUTURE_DONE ||
            reply_of(r->items[i].future, &v) != 0 || v != first + i + 1) {
            return acto_fail(ctx, ACTO_EFAILED, "BadReply",
                             "member %zu of round %llu", i,
                             (unsigned long long)g->round);
        }
    }
    g->completions += r->n;
    return 0;
}

static int
gather_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    gatherer *g = state;
    if (acto_msg_type(m) == MSG_GATHERED) {
        int rc = check_round(ctx, g, acto_msg_future(m));
        if (rc != 0) {
            return rc;
        }
        g->round++;
    }
    return g->round < g->rounds ? gather_round(ctx, g) : 0;
}

/* Returns ns per member: its ask, its reply and its share of the gather. */
static double
acto_gather_run(uint64_t rounds)
{
    acto_system *sys = bench_system_new();
    gatherer *g = calloc(1, sizeof(*g));
    if (g == NULL) {
        bench_die("gather", ACTO_ENOMEM);
    }
    g->rounds = rounds;
    g->server = bench_spawn_actor(sys, serve, NULL, 0);
    bench_kick(sys, bench_spawn_actor(sys, gather_receive, g, 0), MSG_START, 0);
    uint64_t ns = bench_run_timed(sys);
    uint64_t want = rounds * GATHER_MEMBERS;
    bench_check(g->completions == want, "gather", "member completions",
                g->completions, want);
    bench_system_free(sys);
    free(g);
    return (double)ns / (double)want;
}

/* The floor's gatherer: FLOOR_START or a round's last reply sends the next
 * round's requests; replies are counted and summed per round. */
typedef struct fl_gatherer {
    uint64_t rounds;
    uint64_t round;
    uint64_t got; /* replies in this round */
    uint64_t sum; /* of this round's replies */
    uint64_t completions;
} fl_gatherer;

static void
fl_gather(bench_floor *s, bench_floor_actor *a, uintptr_t v)
{
    fl_gatherer *g = a->state;
    if (v != FLOOR_START) {
        g->got++;
        g->sum += v;
        if (g->got < GATHER_MEMBERS) {
            return;
        }
        uint64_t first = g->round * GATHER_MEMBERS;
        uint64_t want = GATHER_MEMBERS * first +
                        (uint64_t)GATHER_MEMBERS * (GATHER_MEMBERS + 1) / 2;
        bench_check(g->sum == want, "gather floor", "sum", g->sum, want);
        g->completions += g->got;
        g->got = g->sum = 0;
        g->round++;
    }
    for (uint64_t i = 0; g->round < g->rounds && i < GATHER_MEMBERS; i++) {
        bench_floor_send(s, a->next, g->round * GATHER_MEMBERS + i);
    }
}

static double
floor_gather(uint64_t rounds)
{
    fl_gatherer g = {.rounds = rounds};
    bench_floor s;
    bench_floor_actor a, b;
    bench_floor_init(&s, 2);
    bench_floor_actor_init(&a, GATHER_MEMBERS, fl_gather, &g);
    bench_floor_actor_init(&b, GATHER_MEMBERS, fl_serve, NULL);
    a.next = &b;
    b.next = &a;
    bench_floor_send(&s, &a, FLOOR_START);
    uint64_t ns = bench_floor_run(&s);
    uint64_t want = rounds * GATHER_MEMBERS;
    bench_check(g.completions == want, "gather floor", "member completions",
                g.completions, want);
    bench_ring_free(a.box);
    bench_ring_free(b.box);
    bench_ring_free(s.runq);
    return (double)ns / (double)want;
}

void
bench_gather(const bench_opts *opts)
{
    bench_paired(opts, "gather", acto_gather_run, floor_gather,
                 bench_count(opts, 200), "ns/member", "completions/s");
}

/* ---- ask_memory ------------------------------------------------------- */

/* The silent server receives requests and never answers; it stops the
 * loop once it has received want of them. */
typedef struct silent {
    uint64_t got;
    uint64_t want;
} silent;

static int
ignore(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)m;
    silent *s = state;
    if (++s->got == s->want) {
        acto_system_stop(acto_ctx_system(ctx));
    }
    return 0;
}

static acto_system *
virtual_system_new(void)
{
    const acto_system_opts o = {.virtual_time = true};
    acto_system *sys;
    int rc = acto_system_alloc(&o, &sys);
    if (rc != 0) {
        bench_die("acto_system_alloc", rc);
    }
    return sys;
}

/* run_until runs sys until *got reaches want, or exits when the loop stops
 * short of it. */
static void
run_until(acto_system *sys, const uint64_t *got, uint64_t want)
{
    while (*got < want) {
        uint64_t before = *got;
        bench_run_timed(sys);
        if (*got == before) {
            bench_check(false, "ask_memory", "requests received", *got, want);
        }
    }
}

/* count_timeouts reads every future, counts those failed with
 * ACTO_ETIMEDOUT and releases them all. */
static uint64_t
count_timeouts(acto_future **f, uint64_t n)
{
    uint64_t timeouts = 0;
    for (uint64_t i = 0; i < n; i++) {
        void *v;
        if (acto_future_result(f[i], &v) == ACTO_ETIMEDOUT) {
            timeouts++;
        }
        acto_future_release(f[i]);
    }
    return timeouts;
}

/* Makes n asks from outside the actors, all pending at once, and returns
 * the RSS growth per pending ask once the server has received every
 * request; then lets them time out. *timeouts gets how many did. The
 * array of futures is the benchmark's own: it is resident before the
 * baseline, so it does not count. */
static double
ask_memory_run(uint64_t n, uint64_t *timeouts, double *live)
{
    acto_system *sys = virtual_system_new();
    acto_future **f = malloc(n * sizeof(*f));
    if (f == NULL) {
        bench_die("ask_memory", ACTO_ENOMEM);
    }
    memset(f, 0, n * sizeof(*f));
    silent s = {.want = n};
    acto_ref server = bench_spawn_actor(sys, ignore, &s, 0);
    uint64_t base = bench_rss_kb();
    int64_t base_live = bench_alloc_live_bytes();
    for (uint64_t i = 0; i < n; i++) {
        int rc = ask_u64(sys, server, i, ASK_TIMEOUT_MS, &f[i]);
        if (rc != 0) {
            bench_die("acto_ask", rc);
        }
    }
    run_until(sys, &s.got, n);
    uint64_t held = bench_rss_kb();
    double bytes = held > base ? (double)(held - base) * 1024 : 0;
    *live = (double)(bench_alloc_live_bytes() - base_live) / (double)n;
    int rc = acto_system_advance(sys, ASK_TIMEOUT_MS);
    if (rc != 0) {
        bench_die("acto_system_advance", rc);
    }
    bench_run_timed(sys);
    *timeouts = count_timeouts(f, n);
    bench_check(*timeouts == n, "ask_memory", "asks timed out", *timeouts, n);
    free(f);
    bench_system_free(sys);
    return bytes / (double)n;
}

void
bench_ask_memory(const bench_opts *opts)
{
    uint64_t n = bench_count(opts, 1000000);
    double *v = calloc((size_t)opts->runs, sizeof(double));
    if (v == NULL) {
        bench_die("ask_memory", ACTO_ENOMEM);
    }
    uint64_t timeouts = 0;
    double live = 0;
    for (int i = 0; i < opts->runs; i++) {
        v[i] = ask_memory_run(n, &timeouts, &live);
    }
    bench_report(opts, "ask_memory", "ask_memory", BENCH_PLAIN,
                 bench_median(v, opts->runs), "bytes/ask", 0);
    /* What acto itself holds per pending ask, without malloc's headers and
     * the holes freed requests leave between live futures. */
    bench_report(opts, "ask_memory", "ask_live_bytes", BENCH_PLAIN, live,
                 "bytes/ask", 0);
    bench_report(opts, "ask_memory", "ask_timeouts", BENCH_PLAIN,
                 (double)timeouts, "count", 0);
    free(v);
}

/* ---- timers ----------------------------------------------------------- */

/* Sets n timers ten to a millisecond, as a busy server sets ask timeouts,
 * then cancels them in due order, as replies arriving in turn do. Returns
 * ns per timer (set and cancel). In-order cancels once rescanned the
 * earliest wheel slot each time; they must stay O(1). */
static double
acto_timers_run(uint64_t n)
{
    acto_system *sys = virtual_system_new();
    uint64_t *ids = malloc(n * sizeof(*ids));
    if (ids == NULL) {
        bench_die("timers", ACTO_ENOMEM);
    }
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        acto_msg *m;
        int rc = acto_msg_new_bytes(sys, MSG_REQUEST, &i, sizeof(i), &m);
        if (rc == 0 && (rc = acto_send_after(sys, 1000 + i / 10, ACTO_REF_NONE,
                                             m, &ids[i])) != 0) {
            acto_msg_free(m);
        }
        if (rc != 0) {
            bench_die("acto_send_after", rc);
        }
    }
    for (uint64_t i = 0; i < n; i++) {
        int rc = acto_timer_cancel(sys, ids[i]);
        if (rc != 0) {
            bench_die("acto_timer_cancel", rc);
        }
    }
    uint64_t ns = bench_now_ns() - t0;
    free(ids);
    bench_system_free(sys);
    return (double)ns / (double)n;
}

/* The floor: the same number of pushes and in-order pops on a ring, the
 * cost of a FIFO of deadlines that all share one timeout. */
static double
floor_timers_run(uint64_t n)
{
    bench_ring *r = bench_ring_alloc(1u << 21);
    if (r == NULL) {
        bench_die("floor ring", ACTO_ENOMEM);
    }
    uint64_t sum = 0;
    uint64_t t0 = bench_now_ns();
    for (uint64_t done = 0; done < n; done += 1u << 20) {
        uint64_t k = n - done < (1u << 20) ? n - done : 1u << 20;
        for (uintptr_t i = 1; i <= k; i++) {
            bench_ring_push(r, (void *)i);
        }
        void *item;
        while (bench_ring_pop(r, &item)) {
            sum += (uintptr_t)item;
        }
    }
    uint64_t ns = bench_now_ns() - t0;
    bench_consume(sum);
    bench_ring_free(r);
    return (double)ns / (double)n;
}

void
bench_timers(const bench_opts *opts)
{
    bench_paired(opts, "timers", acto_timers_run, floor_timers_run,
                 bench_count(opts, 1000000), "ns/timer", "timers/s");
}
