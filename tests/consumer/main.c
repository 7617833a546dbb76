/* A program built against an installed acto, out of acto's tree
 * (tests/test_install.sh builds it with pkg-config and with CMake's
 * find_package): an actor from acto::runtime, a pipeline from
 * acto::actors and a trace file of both from acto::protocols, read back.
 * Usage: consumer TRACE.acto; prints "consumer: ..." and exits 0 when
 * every part did what it should. */
#include <acto/acto.h>
#include <acto/pipeline.h>
#include <acto/tracefile.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MSG_HELLO = 1, MSG_NUM };

static void
check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "consumer: %s: %s\n", what, acto_strerror(rc));
        exit(1);
    }
}

static int
greet(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)ctx;
    (void)m;
    ++*(int *)state;
    return 0;
}

static const acto_behaviour greeter = {.receive = greet};

/* The source: the numbers 1..100, one per call. */
static int
count(acto_emitter *out, void *state)
{
    int *next = state;
    int rc = acto_emit_bytes(out, MSG_NUM, next, sizeof(*next));
    if (rc != 0) {
        return rc;
    }
    return ++*next > 100 ? ACTO_PIPE_END : 0;
}

/* A map stage: doubles the number in place and passes the item on. */
static int
twice(acto_emitter *out, void *state, acto_msg *item)
{
    (void)state;
    int *n = acto_msg_data_mut(item, NULL);
    *n *= 2;
    return acto_emit(out, item);
}

static int
add(acto_emitter *out, void *state, const acto_msg *item)
{
    (void)out;
    int n;
    memcpy(&n, acto_msg_data(item, NULL), sizeof(n));
    *(long *)state += n;
    return 0;
}

/* Counts the events of the trace file at path; -1 when it is damaged. */
static long
events_in(const char *path)
{
    acto_tracefile_reader *r;
    check(acto_tracefile_reader_open(path, NULL, &r), "reader_open");
    acto_trace_event ev;
    long n = 0;
    int rc;
    while ((rc = acto_tracefile_next(r, &ev)) == 1) {
        n++;
    }
    if (rc != 0) {
        fprintf(stderr, "consumer: %s\n", acto_tracefile_error(r));
        n = -1;
    }
    acto_tracefile_reader_close(r);
    return n;
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: consumer TRACE.acto\n");
        return 2;
    }
    acto_system *sys;
    check(acto_system_alloc(NULL, &sys), "system_alloc");
    acto_trace_sink sink;
    check(acto_tracefile_open(argv[1], NULL, &sink), "tracefile_open");
    check(acto_trace_start(sys, &sink, NULL), "trace_start");

    int greeted = 0;
    acto_ref ref;
    acto_msg *hello;
    check(acto_spawn(sys, &greeter, &greeted, NULL, &ref), "spawn");
    check(acto_msg_new_bytes(sys, MSG_HELLO, NULL, 0, &hello), "msg_new");
    check(acto_system_send(sys, ref, hello), "send");

    int next = 1;
    long sum = 0;
    acto_pipeline *p;
    acto_stage *src, *map, *sink_stage;
    acto_future *done;
    check(acto_pipeline_new(sys, NULL, &p), "pipeline_new");
    check(acto_pipeline_source(p, count, &next, NULL, &src), "source");
    check(acto_pipeline_stage(p, src, twice, NULL, NULL, &map), "stage");
    check(acto_pipeline_sink(p, map, add, &sum, NULL, &sink_stage), "sink");
    check(acto_pipeline_start(p, &done), "pipeline_start");
    check(acto_system_run(sys), "system_run");

    bool ok = acto_future_state_of(done) == ACTO_FUTURE_DONE;
    acto_future_release(done);
    check(acto_pipeline_free(p), "pipeline_free");
    check(acto_trace_stop(sys), "trace_stop"); /* closes the file */
    check(acto_system_free(sys), "system_free");
    long events = events_in(argv[1]);
    printf("consumer: greeted %d, sum %ld, %ld trace events\n", greeted, sum,
           events);
    return ok && greeted == 1 && sum == 10100 && events > 0 ? 0 : 1;
}
