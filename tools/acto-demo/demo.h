/* acto-demo: the parts of the demo, shared between its files.
 *
 * The service tree, under the system's root supervisor:
 *
 *   acto.root (one-for-one)
 *    +- geo   a "geo lookup" service that answers asks after a simulated
 *    |        latency, some slower than the aggregator waits (geo.c)
 *    +- logs  the log job: it starts the pipeline (the stages are its
 *             children) and stops once it is over (main.c)
 *
 * The pipeline, each box an actor with a bounded mailbox:
 *
 *   read access.log -> [pace] -> parse pool (N workers) -> batch
 *        -> aggregate (asks geo) -> report
 *
 * parse (parse.c) fails on a malformed line: the RESTART policy
 * quarantines that line and restarts the worker's state; aggregate
 * (aggregate.c) counts requests by status code and path and asks geo
 * for each client network it does not know yet, every ask under
 * acto_wait_for with a deadline, the batch's asks under acto_gather. */
#ifndef ACTO_DEMO_H
#define ACTO_DEMO_H

#include <acto/acto.h>
#include <acto/pipeline.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Message types, named in the trace file. */
enum {
    T_LINE = 1,  /* a log line, as read */
    T_RECORD,    /* a parsed line: demo_rec */
    T_SUMMARY,   /* a batch, aggregated: demo_summary */
    T_GEO_ASK,   /* uint32_t network, asked of geo */
    T_GEO_DUE,   /* geo's timer: a reply is due (geo_due) */
    T_GEO_REPLY, /* uint8_t country */
    T_LOGS_DONE, /* the pipeline's done future, to the logs actor */
    T_TYPES_END
};

#define DEMO_PATH_MAX 48
#define DEMO_COUNTRIES 12

/* A parsed request. Travels as bytes, cut after the path. */
typedef struct demo_rec {
    uint32_t net; /* the client's /24 network: a.b.c */
    uint16_t status;
    uint8_t path_len;
    uint8_t pad;
    uint64_t bytes;
    char path[DEMO_PATH_MAX];
} demo_rec;

/* One batch's records, aggregated, for the report sink. */
typedef struct demo_summary {
    uint32_t records;
    uint32_t no_country; /* records whose network's lookup timed out */
    uint32_t country[DEMO_COUNTRIES];
} demo_summary;

extern const char *const demo_country_names[DEMO_COUNTRIES];

/* The requests by status code and path (the aggregator's table). */
typedef struct demo_entry {
    uint16_t status;
    uint8_t path_len;
    char path[DEMO_PATH_MAX];
    uint64_t count, bytes;
} demo_entry;

typedef struct demo_table {
    demo_entry *slots; /* open addressing; count 0: empty */
    size_t cap, n;
} demo_table;

/* demo_table_add counts one request. Returns 0 or ACTO_ENOMEM. */
int demo_table_add(demo_table *t, const demo_rec *r);
/* demo_table_sorted returns the entries, most requests first (malloc'd),
 * or NULL when out of memory. */
demo_entry *demo_table_sorted(const demo_table *t);
void demo_table_free(demo_table *t);

/* ---- the app ---------------------------------------------------------- */

typedef struct demo_opts {
    const char *input; /* NULL: generate */
    const char *out;   /* the output folder */
    uint64_t lines;    /* lines to generate */
    uint64_t seed;
    uint32_t workers;
    uint32_t deadline_ms; /* the aggregator's wait for geo */
    uint32_t rate;        /* lines per second; 0: as fast as it goes */
    double sample;        /* share of line flows traced */
    bool trace;
} demo_opts;

/* The geo service's counters and its generator. */
typedef struct demo_geo {
    uint64_t rng;
    uint64_t asked, answered;
} demo_geo;

/* The aggregator: its table, the networks it knows, its counters. */
typedef struct demo_agg {
    struct demo_app *app;
    demo_table table;
    uint64_t *known; /* network + 1 -> country + 1, open addressing */
    size_t known_cap, known_n;
    uint64_t records, batches;
    uint64_t asks, answers, timeouts, failures;
} demo_agg;

/* What the report sink adds up. */
typedef struct demo_totals {
    uint64_t records, no_country, batches;
    uint64_t country[DEMO_COUNTRIES];
} demo_totals;

/* Quarantined lines, kept for quarantine.log up to a bound. */
typedef struct demo_quarantine {
    char *buf;
    size_t len, cap;
    uint64_t lines, kept;
} demo_quarantine;

typedef struct demo_app {
    demo_opts o;
    const char *input; /* the file read */
    acto_system *sys;
    acto_ref geo, logs;
    struct acto_signals *sig;
    acto_pipeline *p;
    acto_stage *read, *parse, *aggregate, *report;
    acto_future *done;
    demo_geo geo_state;
    demo_agg agg;
    demo_totals totals;
    demo_quarantine quarantine;
    struct demo_pacer *pacer;
    acto_stage_stats read_st, parse_st, agg_st, report_st;
    uint64_t late_replies, dead_letters;
    uint64_t generated_bad; /* malformed lines written by the generator */
    /* the trace */
    char trace_path[4096], json_path[4096], html_path[4096];
    char report_path[4096], quarantine_path[4096];
    acto_trace_stats trace_st;
    uint64_t trace_bytes;
    int trace_status;  /* the writer's, 0 when fine */
    int export_status; /* 0, or the exports failed */
    bool traced;
    uint64_t started_ns, finished_ns;
    int signo;           /* the signal that stopped the run, or 0 */
    bool forced;         /* the shutdown had to kill */
    bool finished;       /* the pipeline ended on its own */
    const char *failure; /* the pipeline's error text, or NULL */
    char failure_buf[512];
} demo_app;

/* ---- the parts -------------------------------------------------------- */

/* demo_generate writes lines of a combined-format access log to path
 * from seed, about one in 200 of them malformed. Returns 0 or errno. */
int demo_generate(const char *path, uint64_t lines, uint64_t seed,
                  uint64_t *malformed);

/* demo_parse_line parses one combined-format line into r. Returns NULL,
 * or what is wrong with the line. */
const char *demo_parse_line(const char *s, size_t n, demo_rec *r);

/* The parse stage's function and state hooks (arg: the app). */
int demo_parse_init(void *arg, void **state);
void demo_parse_fini(void *state);
int demo_parse(acto_emitter *out, void *state, acto_msg *item);

/* The geo service: its child start function (arg: the app's address). */
int demo_geo_start(acto_ctx *sup, const void *arg, size_t len, acto_ref *out);
/* demo_country_of is where a network is, as geo answers it. */
unsigned demo_country_of(uint32_t net);

/* The aggregate stage's function (state: the demo_agg), and the report
 * sink's (state: the demo_totals). */
int demo_aggregate(void *state, const acto_msg *item, acto_future **out);
int demo_report(acto_emitter *out, void *state, const acto_msg *item);
void demo_agg_free(demo_agg *g);

/* The pace stage (--rate): an async stage that lets rate lines a second
 * through. demo_pacer_new returns NULL when out of memory. */
struct demo_pacer *demo_pacer_new(acto_system *sys, uint32_t rate);
int demo_pace(void *state, const acto_msg *item, acto_future **out);
/* demo_pacer_unpace lets everything through from now on (a stop drains
 * the lines already read at full speed). */
void demo_pacer_unpace(struct demo_pacer *pc);
void demo_pacer_free(struct demo_pacer *pc);

/* demo_start_tree starts geo and logs under the root supervisor, and the
 * watch for Ctrl-C. Returns 0 or an error. */
int demo_start_tree(demo_app *a);
/* demo_finish_pipeline ends a pipeline the tree left running (its actor
 * was killed). */
void demo_finish_pipeline(demo_app *a);

/* demo_write_report writes report.txt. Returns 0 or errno. */
int demo_write_report(const demo_app *a, const char *path);
/* demo_print_summary prints what happened and where the files are. */
void demo_print_summary(const demo_app *a);

/* demo_free_msg frees a message a future holds (an acto_free_fn). */
void demo_free_msg(void *ptr, void *user);

#endif /* ACTO_DEMO_H */
