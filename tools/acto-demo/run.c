/* acto-demo: the service tree and the log job.
 *
 * The root supervisor starts geo, then logs. logs is an actor whose start
 * hook builds and starts the pipeline, so the stages are its children; it
 * watches the pipeline's done future (acto_future_notify). When the job
 * is over it asks for the tree to stop (acto_signals_stop: the same
 * graceful path as Ctrl-C). On Ctrl-C the root shuts logs down first:
 * logs cancels the pipeline in drain mode (the source stops, the lines
 * already read are finished, so the counts still add up) and stops once
 * done resolves; then geo stops, and the loop ends. */
#include "demo.h"

#include <acto/signals.h>
#include <acto/supervisor.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH_RECORDS 256
#define BATCH_WINDOW_MS 20
#define AGG_IN_FLIGHT 16
#define SHUTDOWN_BUDGET_MS 8000

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* on_quarantine keeps a quarantined line for quarantine.log (within a
 * bound: the count stays exact beyond it). */
static void
on_quarantine(const acto_pipe_error *e, void *user)
{
    demo_quarantine *q = &((demo_app *)user)->quarantine;
    if (e->action != ACTO_ON_ERROR_RESTART) {
        return; /* a failure of the pipeline: reported as its outcome */
    }
    q->lines++;
    size_t n;
    const char *line =
        e->error->msg != NULL ? acto_msg_data(e->error->msg, &n) : NULL;
    if (line == NULL || q->len + n + 1 > (size_t)8 << 20) {
        return;
    }
    if (q->len + n + 1 > q->cap) {
        size_t cap = q->cap != 0 ? q->cap * 2 : 64 * 1024;
        while (cap < q->len + n + 1) {
            cap *= 2;
        }
        char *b = realloc(q->buf, cap);
        if (b == NULL) {
            return;
        }
        q->buf = b;
        q->cap = cap;
    }
    memcpy(q->buf + q->len, line, n);
    q->buf[q->len + n] = '\n';
    q->len += n + 1;
    q->kept++;
}

/* build adds the stages: read -> [pace] -> parse pool -> batch ->
 * aggregate -> report. */
static int
build(demo_app *a)
{
    acto_pipeline *p = a->p;
    acto_file_source_opts fo = {.item_type = T_LINE, .mode = ACTO_FILE_LINES};
    acto_stage_opts ro = {.name = "read"};
    acto_stage *s;
    int rc = acto_pipeline_source_file(p, a->input, &fo, &ro, &a->read);
    s = a->read;
    if (rc == 0 && a->o.rate > 0) {
        acto_async_opts ao = {.max_in_flight = 1};
        acto_stage_opts po = {.name = "pace"};
        rc = (a->pacer = demo_pacer_new(a->sys, a->o.rate)) != NULL
                 ? acto_pipeline_async(p, s, &ao, demo_pace, a->pacer, &po, &s)
                 : ACTO_ENOMEM;
    }
    acto_pool_opts pp = {.workers = a->o.workers,
                         .route = ACTO_ROUTE_ROUND_ROBIN};
    acto_stage_opts pso = {.name = "parse",
                           .on_error = ACTO_ON_ERROR_RESTART,
                           .init = demo_parse_init,
                           .fini = demo_parse_fini};
    if (rc == 0) {
        rc = acto_pipeline_pool(p, s, &pp, demo_parse, a, &pso, &a->parse);
    }
    acto_stage_opts bo = {.name = "batch"};
    if (rc == 0) {
        rc = acto_pipeline_batch(p, a->parse, BATCH_RECORDS, BATCH_WINDOW_MS,
                                 &bo, &s);
    }
    acto_async_opts ago = {.max_in_flight = AGG_IN_FLIGHT};
    acto_stage_opts go = {.name = "aggregate"};
    if (rc == 0) {
        rc = acto_pipeline_async(p, s, &ago, demo_aggregate, &a->agg, &go,
                                 &a->aggregate);
    }
    acto_stage_opts so = {.name = "report"};
    if (rc == 0) {
        rc = acto_pipeline_sink(p, a->aggregate, demo_report, &a->totals, &so,
                                &a->report);
    }
    return rc;
}

/* ---- the logs actor ---------------------------------------------------- */

typedef struct logs {
    demo_app *a;
    bool stopping;
} logs;

static int
logs_start(acto_ctx *ctx, void *state)
{
    demo_app *a = ((logs *)state)->a;
    acto_pipeline_opts po = {
        .on_error = on_quarantine, .user = a, .cancel = ACTO_CANCEL_DRAIN};
    int rc = a->p == NULL ? acto_pipeline_new(a->sys, &po, &a->p) : ACTO_EBUSY;
    if (rc == 0 && (rc = build(a)) == 0) {
        a->started_ns = now_ns();
        rc = acto_pipeline_start(a->p, &a->done);
    }
    if (rc == 0) {
        rc = acto_future_notify(ctx, a->done, T_LOGS_DONE);
    }
    return rc;
}

/* on_done: the pipeline is over, finished or cancelled. */
static int
on_done(acto_ctx *ctx, logs *l)
{
    demo_app *a = l->a;
    a->finished_ns = now_ns();
    acto_future_state fs = acto_future_state_of(a->done);
    a->finished = fs == ACTO_FUTURE_DONE;
    if (fs == ACTO_FUTURE_FAILED) {
        const acto_error *e = acto_future_exception(a->done);
        snprintf(a->failure_buf, sizeof(a->failure_buf), "%s", e->text);
        a->failure = a->failure_buf;
    }
    if (l->stopping) {
        return acto_stop(acto_ctx_system(ctx), acto_self(ctx));
    }
    (void)acto_signals_stop(a->sig); /* the job is done: stop the tree */
    return 0;
}

static int
logs_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    logs *l = state;
    switch (acto_msg_type(m)) {
    case T_LOGS_DONE:
        return on_done(ctx, l);
    case ACTO_MSG_SHUTDOWN:
        l->stopping = true;
        if (acto_future_done(l->a->done)) {
            return acto_stop(acto_ctx_system(ctx), acto_self(ctx));
        }
        (void)acto_pipeline_cancel(l->a->p); /* drains, then done */
        demo_pacer_unpace(l->a->pacer);
        return 0;
    default:
        return 0;
    }
}

static void
logs_stop(acto_ctx *ctx, void *state, const acto_exit_reason *why)
{
    (void)ctx;
    (void)why;
    free(state);
}

static const acto_behaviour logs_b = {
    .receive = logs_receive, .start = logs_start, .stop = logs_stop};

static int
start_logs(acto_ctx *sup, const void *arg, size_t len, acto_ref *out)
{
    demo_app *a;
    if (len != sizeof(a)) {
        return ACTO_EINVAL;
    }
    memcpy(&a, arg, sizeof(a));
    logs *l = calloc(1, sizeof(*l));
    if (l == NULL) {
        return ACTO_ENOMEM;
    }
    l->a = a;
    acto_spawn_opts o = {.label = "logs", .on_shutdown = ACTO_SHUTDOWN_NOTIFY};
    int rc = acto_spawn(acto_ctx_system(sup), &logs_b, l, &o, out);
    if (rc != 0) {
        free(l);
    } else {
        a->logs = *out;
    }
    return rc;
}

/* ---- the tree ---------------------------------------------------------- */

static void
on_stopped(acto_system *sys, const acto_signals_report *r, void *user)
{
    (void)sys;
    demo_app *a = user;
    a->signo = r->signo;
    a->forced = r->forced;
}

/* demo_start_tree starts geo and logs under the root supervisor and the
 * watch for Ctrl-C. Returns 0 or an error. */
int
demo_start_tree(demo_app *a)
{
    acto_ref root, child;
    demo_app *self = a;
    acto_child_spec geo = {.id = "geo",
                           .start = demo_geo_start,
                           .arg = &self,
                           .arg_len = sizeof(self)};
    acto_child_spec job = {.id = "logs",
                           .start = start_logs,
                           .arg = &self,
                           .arg_len = sizeof(self),
                           .restart = ACTO_RESTART_TRANSIENT,
                           .shutdown_ms = SHUTDOWN_BUDGET_MS};
    acto_signals_opts so = {.done = on_stopped, .user = a};
    int rc = acto_sup_root(a->sys, &root);
    if (rc == 0) {
        rc = acto_stop_on_signals(a->sys, root, &so, &a->sig);
    }
    if (rc == 0) {
        rc = acto_sup_start_child(a->sys, root, &geo, &child);
    }
    if (rc == 0) {
        rc = acto_sup_start_child(a->sys, root, &job, &child);
    }
    return rc;
}

/* demo_finish_pipeline ends a pipeline the tree left running (the logs
 * actor was killed) and frees it. */
void
demo_finish_pipeline(demo_app *a)
{
    if (a->p == NULL) {
        return;
    }
    if (a->done != NULL && !acto_future_done(a->done)) {
        (void)acto_pipeline_cancel(a->p);
        (void)acto_system_run(a->sys);
    }
    if (a->finished_ns == 0) {
        a->finished_ns = now_ns();
    }
}
