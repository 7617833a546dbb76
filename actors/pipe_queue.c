/* A pipeline source fed by an acto_queue of messages: it takes what is
 * there, and when the queue is empty it waits with a get request whose
 * callback hands over the item and wakes the pipeline. The queue's
 * shutdown ends the stream. */
#include "pipe_internal.h"

typedef struct qsource {
    acto_queue *q;
    acto_queue_req req;
    acto_pipeline *p;
    acto_msg *held; /* what a get brought while the source waited */
    bool pending;   /* the get request is out */
    bool shut;      /* the queue said it is shut down */
    bool orphaned;  /* the stage is gone: the callback frees this */
} qsource;

static void
on_get(acto_queue *q, int status, void *item, void *user)
{
    (void)q;
    qsource *qs = user;
    qs->pending = false;
    if (qs->orphaned) {
        acto_msg_free(item);
        acto_free(qs, sizeof(*qs));
        return;
    }
    if (status == 0) {
        qs->held = item;
    } else if (status == ACTO_ESHUTDOWN) {
        qs->shut = true;
    }
    (void)acto_pipeline_wake(qs->p);
}

static int
queue_next(acto_emitter *out, void *state)
{
    qsource *qs = state;
    if (qs->held != NULL) {
        acto_msg *m = qs->held;
        qs->held = NULL;
        return acto_emit(out, m);
    }
    if (qs->pending) {
        return ACTO_PIPE_WAIT;
    }
    void *item;
    int rc = acto_queue_get_nowait(qs->q, &item);
    if (rc == 0) {
        return acto_emit(out, item);
    }
    if (rc == ACTO_ESHUTDOWN || qs->shut) {
        return ACTO_PIPE_END;
    }
    if (rc != ACTO_EQUEUEEMPTY) {
        return rc;
    }
    rc = acto_queue_get(qs->q, &qs->req, on_get, qs);
    if (rc != 0) {
        return rc;
    }
    qs->pending = true;
    return ACTO_PIPE_WAIT;
}

/* When the stage stops, a get still out is cancelled; its callback then
 * frees the state, which the stage no longer owns. */
static void
queue_stop(acto_stage *st)
{
    qsource *qs = st->own;
    acto_msg_free(qs->held);
    qs->held = NULL;
    if (qs->pending) {
        /* Cancelled or about to run with an item: the callback runs
         * either way, and frees what it brings. */
        (void)acto_queue_cancel(&qs->req);
        qs->orphaned = true;
        st->own = NULL;
        st->state = NULL;
    }
}

static void
queue_free(acto_stage *st)
{
    qsource *qs = st->own;
    if (qs != NULL) {
        acto_msg_free(qs->held);
        acto_free(qs, sizeof(*qs));
    }
}

int
acto_pipeline_source_queue(acto_pipeline *p, acto_queue *q,
                           const acto_stage_opts *opts, acto_stage **out)
{
    if (q == NULL ||
        (opts != NULL && (opts->init != NULL || opts->fini != NULL))) {
        return ACTO_EINVAL;
    }
    qsource *qs = acto_calloc(1, sizeof(*qs));
    if (qs == NULL) {
        return ACTO_ENOMEM;
    }
    qs->q = q;
    qs->p = p;
    int rc = acto_pipeline_source(p, queue_next, qs, opts, out);
    if (rc != 0) {
        acto_free(qs, sizeof(*qs));
        return rc;
    }
    (*out)->own = qs;
    (*out)->own_stop = queue_stop;
    (*out)->own_free = queue_free;
    return 0;
}
