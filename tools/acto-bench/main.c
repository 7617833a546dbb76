/* acto-bench: acto's benchmarks, each beside its plain-C floor.
 *
 *   acto-bench [--runs N] [--scale X] [--tsv] [WORKLOAD...]
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const bench_workload workloads[] = {
    {"queue",
     "acto_queue: 10M put_nowait/get_nowait pairs, 1M put/get "
     "pairs through waiting producers and consumers",
     bench_queue},
    {"pingpong", "2 actors: 1M round trips of small inline messages",
     bench_pingpong},
    {"pipeline", "producer, 4 stages, sink, mailboxes bounded at 64: 2M items",
     bench_pipeline},
    {"ring", "1,000 actors passing one token: 2M hops", bench_token_ring},
    {"spawn",
     "200k actors spawned, sent one message, acknowledged, stopped; "
     "RSS per live idle actor",
     bench_spawn},
    {"fanout", "1 producer, 8 workers, 1 sink: 2M items, 4M messages",
     bench_fanout},
    {"backpressure",
     "a fast producer, a slow consumer bounded at 64: 10M messages, peak "
     "RSS growth (one run)",
     bench_backpressure},
    {"ask",
     "an actor asks a server 1M times, one after another, continuing from "
     "each reply as a message",
     bench_ask},
    {"gather", "200 rounds of acto_gather over 1,000 asks to a server",
     bench_gather},
    {"ask_memory",
     "1M asks pending at once to a server that never answers: RSS per "
     "pending ask, then all time out",
     bench_ask_memory},
    {"restart",
     "a worker fails, its supervisor restarts it, the new worker handles "
     "its next message: 100k restarts, p50 and p99",
     bench_restart},
    {"pool",
     "a dynamic pool of 1k, then 100k children started and shut down: "
     "time per child, 100k/1k time ratio, memory kept",
     bench_pool},
    {"timers",
     "1M timers set ten to a millisecond and cancelled in due order, as "
     "ask timeouts are when replies arrive in turn",
     bench_timers},
    {"pipe5",
     "pipeline: a source, 5 map stages passing each item on in place, a "
     "sink, mailboxes bounded at 64: 5M items, 30M stage-hops",
     bench_pipe5},
    {"pool8",
     "pipeline: a source, a key-routed pool of 8 workers, a sink: 5M items",
     bench_pool8},
    {"flood",
     "pipeline: a source into a sink that burns 200 ns an item (100x the "
     "source function's work) over a mailbox bounded at 64: 100M items, "
     "peak RSS growth (one run)",
     bench_flood},
    {"wordfreq",
     "acto-wordfreq on a generated 1 GB text beside Python asyncio and "
     "tr|sort|uniq, and the same counting in plain C (one run)",
     bench_wordfreq},
    {"http",
     "HTTP: 10,000 small responses from a local keep-alive server, 64 in "
     "flight, through an acto session beside bare curl multi",
     bench_http},
    {"echo",
     "echo server over loopback, 64 connections of 32-byte request/"
     "response: 400k requests, against a plain libuv echo server",
     bench_echo},
    {"echo_idle",
     "bytes acto allocates per idle TCP connection (4,000 connections)",
     bench_echo_idle},
    {"trace",
     "ping-pong untraced, fully traced and with 1% of flows sampled: ns "
     "added per event; a traced ping-pong's file: bytes per event, decode "
     "and acto-trace perfetto rates",
     bench_trace},
};

#define N_WORKLOADS (sizeof(workloads) / sizeof(workloads[0]))

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: acto-bench [--runs N] [--scale X] [--tsv] [WORKLOAD...]\n"
            "\n"
            "Runs each workload (all by default) and prints the median of N\n"
            "runs (default 5) beside a plain-C floor measured in the same\n"
            "process; ratio = acto cost / floor cost (1.0 is the floor).\n"
            "--scale multiplies every operation count (default 1.0).\n"
            "--tsv prints workload, figure, value, unit, floor, ratio,\n"
            "tab-separated, one line per figure.\n"
            "\nworkloads:\n");
    for (size_t i = 0; i < N_WORKLOADS; i++) {
        fprintf(out, "  %-12s %s\n", workloads[i].name, workloads[i].what);
    }
}

static const bench_workload *
find_workload(const char *name)
{
    for (size_t i = 0; i < N_WORKLOADS; i++) {
        if (strcmp(workloads[i].name, name) == 0) {
            return &workloads[i];
        }
    }
    return NULL;
}

/* parse_number reads a positive number or returns false. */
static bool
parse_number(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !(v > 0) || v > 1e6) {
        return false;
    }
    *out = v;
    return true;
}

int
main(int argc, char **argv)
{
    bench_opts opts = {.runs = 5, .scale = 1.0, .tsv = false};
    const bench_workload *chosen[N_WORKLOADS];
    size_t n_chosen = 0;
    if (argc > 1 && strcmp(argv[1], BENCH_SPAWN_ARG) == 0) {
        return bench_spawn_child(argc, argv);
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        double v;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--tsv") == 0) {
            opts.tsv = true;
        } else if (strcmp(a, "--runs") == 0 && i + 1 < argc) {
            if (!parse_number(argv[++i], &v) || v > 1000) {
                fprintf(stderr, "acto-bench: --runs takes 1 to 1000\n");
                return 2;
            }
            opts.runs = (int)v;
        } else if (strcmp(a, "--scale") == 0 && i + 1 < argc) {
            if (!parse_number(argv[++i], &opts.scale)) {
                fprintf(stderr, "acto-bench: --scale takes a number > 0\n");
                return 2;
            }
        } else if (a[0] == '-') {
            fprintf(stderr, "acto-bench: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else {
            const bench_workload *w = find_workload(a);
            if (w == NULL) {
                fprintf(stderr, "acto-bench: unknown workload '%s'\n", a);
                usage(stderr);
                return 2;
            }
            if (n_chosen < N_WORKLOADS) {
                chosen[n_chosen++] = w;
            }
        }
    }
    if (n_chosen == 0) {
        for (size_t i = 0; i < N_WORKLOADS; i++) {
            chosen[n_chosen++] = &workloads[i];
        }
    }
    bench_alloc_install();
    bench_header(&opts);
    for (size_t i = 0; i < n_chosen; i++) {
        chosen[i]->run(&opts);
    }
    return 0;
}
