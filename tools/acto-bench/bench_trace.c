/* Tracing's cost: ping-pong untraced, fully traced and with 1% of flows
 * sampled, into a sink that only counts (what the runtime pays, not a
 * file writer's). Paired runs, each traced run against untraced slices
 * alternated with its own (SLICES). */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>

#define MSG_BALL 1u

typedef struct court {
    acto_ref ping, pong;
    uint64_t n, done;
} court;

static int
hit(acto_ctx *ctx, void *state, const acto_msg *m)
{
    court *c = state;
    uint64_t v = bench_msg_u64(m);
    bool am_ping = acto_ref_eq(acto_self(ctx), c->ping);
    if (am_ping && v == c->n) {
        c->done = v;
        return 0;
    }
    return bench_tell_u64(ctx, am_ping ? c->pong : c->ping, MSG_BALL,
                          am_ping ? v : v + 1);
}

/* The sink of the timed rallies: the trace's own stats count the events,
 * so they are dropped once handed over. */
static int
drop_events(const acto_trace_event *ev, size_t n, void *user)
{
    (void)ev;
    (void)n;
    (void)user;
    return 0;
}

double
bench_rally(uint64_t n, const acto_trace_sink *sink,
            const acto_trace_opts *opts, acto_trace_stats *st)
{
    court c = {.n = n};
    acto_system *sys = bench_system_new();
    int rc;
    if (sink != NULL && (rc = acto_trace_start(sys, sink, opts)) != 0) {
        bench_die("acto_trace_start", rc);
    }
    c.ping = bench_spawn_actor(sys, hit, &c, 0);
    c.pong = bench_spawn_actor(sys, hit, &c, 0);
    bench_kick(sys, c.ping, MSG_BALL, 0);
    uint64_t ns = bench_run_timed(sys);
    bench_check(c.done == n, "trace", "round trips", c.done, n);
    if (sink != NULL) {
        (void)acto_trace_flush(sys);
        acto_trace_get_stats(sys, st);
        if ((rc = acto_trace_stop(sys)) != 0) { /* closes a file sink */
            bench_die("acto_trace_stop", rc);
        }
    }
    bench_system_free(sys);
    return (double)ns;
}

/* rally plays n round trips, traced as opts say (NULL: untraced) into a
 * sink that drops them, and returns the nanoseconds; *events gets how many
 * events were recorded. */
static double
rally(uint64_t n, const acto_trace_opts *opts, uint64_t *events)
{
    acto_trace_sink sink = {.write = drop_events};
    acto_trace_stats st;
    double ns = bench_rally(n, opts != NULL ? &sink : NULL, opts, &st);
    if (opts != NULL) {
        *events = st.recorded;
    }
    return ns;
}

/* The sampled-out rallies alternate with untraced ones in this many
 * slices of a few milliseconds, and the figure is the median of the
 * slices' ratios: a slow spell of this shared machine (they last tens of
 * milliseconds) spoils a few slices, not the difference of a few per
 * cent measured. (Full tracing is compared whole: each slice's new
 * system would page its ring in again, which is not what an event
 * costs.) */
#define SLICES 21

/* sampled_out plays n round trips untraced and n in a flow sampled out
 * (opts: its seed decides the rally's one flow out), in SLICES
 * alternating slices; returns the median of traced time over untraced. */
static double
sampled_out(uint64_t n, const acto_trace_opts *opts)
{
    double ratio[SLICES];
    uint64_t ev, kept = 0;
    for (int k = 0; k < SLICES; k++) {
        double untraced = rally(n / SLICES, NULL, NULL);
        ratio[k] = rally(n / SLICES, opts, &ev) / untraced;
        kept += ev;
    }
    bench_check(kept < SLICES * 8, "trace", "events of flows sampled out", kept,
                0); /* only each slice's root send is recorded */
    return bench_median(ratio, SLICES);
}

void
bench_trace(const bench_opts *opts)
{
    uint64_t n = bench_count(opts, 1000000);
    int runs = opts->runs;
    double *v = calloc(5 * (size_t)runs, sizeof(double));
    if (v == NULL) {
        bench_die("trace", ACTO_ENOMEM);
    }
    double *per_event = v, *full = v + runs, *out = v + 2 * runs,
           *base = v + 3 * runs, *mixed = v + 4 * runs;
    acto_trace_opts all = {.mode = ACTO_TRACE_DROP_NEW};
    acto_trace_opts one_pct = {.sample = 0.01, .seed = 7};
    uint64_t events = 0;
    for (int i = 0; i < runs; i++) {
        double b = rally(n, NULL, NULL);
        double t = rally(n, &all, &events);
        base[i] = b / (double)n;
        full[i] = t / b;
        out[i] = sampled_out(n, &one_pct);
        per_event[i] = (t - b) / (double)(events != 0 ? events : 1);
        /* 1% of equal flows: 99 sampled out for one traced whole. */
        mixed[i] = 0.99 * out[i] + 0.01 * full[i];
    }
    bench_report(opts, "trace", "untraced", BENCH_PLAIN,
                 bench_median(base, runs), "ns/roundtrip", 0);
    bench_report(opts, "trace", "added_per_event", BENCH_PLAIN,
                 bench_median(per_event, runs), "ns", 0);
    bench_report(opts, "trace", "full_over_untraced", BENCH_PLAIN,
                 bench_median(full, runs), "x", 0);
    bench_report(opts, "trace", "sampled_out_over_untraced", BENCH_PLAIN,
                 bench_median(out, runs), "x", 0);
    bench_report(opts, "trace", "sampled_1pct_over_untraced", BENCH_PLAIN,
                 bench_median(mixed, runs), "x", 0);
    bench_report(opts, "trace", "events_per_roundtrip", BENCH_PLAIN,
                 (double)events / (double)n, "events", 0);
    free(v);
    bench_tracefile(opts);
}
