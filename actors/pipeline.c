/* Pipelines: building the chain of stages, starting it, cancelling it and
 * resolving its completion future once the last stage actor has gone. */
#include "pipe_internal.h"

#include <stdio.h>
#include <string.h>

#define DEFAULT_CAPACITY 64
#define MAX_NAME 255

int
acto_pipeline_new(acto_system *sys, const acto_pipeline_opts *opts,
                  acto_pipeline **out)
{
    if (sys == NULL || out == NULL ||
        (opts != NULL && (unsigned)opts->cancel > ACTO_CANCEL_DRAIN)) {
        return ACTO_EINVAL;
    }
    acto_pipeline *p = acto_calloc(1, sizeof(*p));
    if (p == NULL) {
        return ACTO_ENOMEM;
    }
    p->sys = sys;
    if (opts != NULL) {
        p->opts = *opts;
    }
    *out = p;
    return 0;
}

/* ---- building --------------------------------------------------------- */

static bool
valid_opts(const acto_stage_opts *o)
{
    return o == NULL || ((unsigned)o->on_error <= ACTO_ON_ERROR_RESTART &&
                         (unsigned)o->after_retries <= ACTO_ON_ERROR_RESTART &&
                         (o->name == NULL || strlen(o->name) <= MAX_NAME));
}

static int
set_name(acto_stage *st, const char *name, size_t index)
{
    char fallback[32];
    if (name == NULL) {
        snprintf(fallback, sizeof(fallback), "stage%zu", index);
        name = fallback;
    }
    st->name_size = strlen(name) + 1;
    st->name = acto_malloc(st->name_size);
    if (st->name == NULL) {
        return ACTO_ENOMEM;
    }
    memcpy(st->name, name, st->name_size);
    return 0;
}

static void
free_stage(acto_stage *st)
{
    for (size_t i = 0; i < st->buf_n; i++) {
        acto_msg_free(st->buf[i]);
    }
    acto_free(st->buf, st->buf_cap * sizeof(*st->buf));
    acto_free(st->name, st->name_size);
    acto_free(st, sizeof(*st));
}

/* add_stage checks and links a new stage of kind reading from `from`. */
static int
add_stage(acto_pipeline *p, acto_stage *from, uint8_t kind, void *state,
          const acto_stage_opts *opts, acto_stage **out)
{
    if (p == NULL || out == NULL || !valid_opts(opts) ||
        p->phase != PHASE_BUILDING || (kind == KIND_SOURCE) != (from == NULL) ||
        (from != NULL && (from->p != p || from->kind == KIND_SINK))) {
        return ACTO_EINVAL;
    }
    if (from != NULL && from->reader != NULL) {
        return ACTO_EBUSY;
    }
    if (p->n == p->cap) {
        size_t cap = p->cap != 0 ? p->cap * 2 : 8;
        acto_stage **ns = acto_malloc(cap * sizeof(*ns));
        if (ns == NULL) {
            return ACTO_ENOMEM;
        }
        if (p->n > 0) {
            memcpy(ns, p->stages, p->n * sizeof(*ns));
        }
        acto_free(p->stages, p->cap * sizeof(*ns));
        p->stages = ns;
        p->cap = cap;
    }
    acto_stage *st = acto_calloc(1, sizeof(*st));
    if (st == NULL) {
        return ACTO_ENOMEM;
    }
    if (opts != NULL) {
        st->opts = *opts;
    }
    int rc = set_name(st, st->opts.name, p->n);
    if (rc != 0) {
        acto_free(st, sizeof(*st));
        return rc;
    }
    st->opts.name = NULL;
    st->p = p;
    st->kind = kind;
    st->arg = state;
    st->state = st->opts.init != NULL ? NULL : state;
    st->writer = from;
    if (from != NULL) {
        from->reader = st;
    }
    p->stages[p->n++] = st;
    *out = st;
    return 0;
}

int
acto_pipeline_source(acto_pipeline *p, acto_source_fn next, void *state,
                     const acto_stage_opts *opts, acto_stage **out)
{
    if (next == NULL) {
        return ACTO_EINVAL;
    }
    int rc = add_stage(p, NULL, KIND_SOURCE, state, opts, out);
    if (rc == 0) {
        (*out)->u.source = next;
    }
    return rc;
}

int
acto_pipeline_stage(acto_pipeline *p, acto_stage *from, acto_stage_fn fn,
                    void *state, const acto_stage_opts *opts, acto_stage **out)
{
    if (fn == NULL) {
        return ACTO_EINVAL;
    }
    int rc = add_stage(p, from, KIND_STAGE, state, opts, out);
    if (rc == 0) {
        (*out)->u.fn = fn;
    }
    return rc;
}

int
acto_pipeline_sink(acto_pipeline *p, acto_stage *from, acto_sink_fn fn,
                   void *state, const acto_stage_opts *opts, acto_stage **out)
{
    if (fn == NULL) {
        return ACTO_EINVAL;
    }
    int rc = add_stage(p, from, KIND_SINK, state, opts, out);
    if (rc == 0) {
        (*out)->u.sink = fn;
    }
    return rc;
}

int
acto_pipeline_batch(acto_pipeline *p, acto_stage *from, uint32_t count,
                    uint32_t window_ms, const acto_stage_opts *opts,
                    acto_stage **out)
{
    if (count == 0 && window_ms == 0) {
        return ACTO_EINVAL;
    }
    int rc = add_stage(p, from, KIND_BATCH, NULL, opts, out);
    if (rc == 0) {
        (*out)->batch_count = count;
        (*out)->batch_window_ms = window_ms;
    }
    return rc;
}

/* ---- starting --------------------------------------------------------- */

/* complete tells whether the stages form one chain from the source to a
 * sink. */
static bool
complete(const acto_pipeline *p)
{
    if (p->n < 2 || p->stages[0]->kind != KIND_SOURCE) {
        return false;
    }
    size_t len = 1;
    const acto_stage *st = p->stages[0];
    while (st->reader != NULL) {
        st = st->reader;
        len++;
    }
    return st->kind == KIND_SINK && len == p->n;
}

static int
spawn_stage(acto_pipeline *p, acto_stage *st)
{
    acto_spawn_opts o = {
        .label = st->name,
        .capacity =
            st->opts.capacity != 0 ? st->opts.capacity : DEFAULT_CAPACITY,
    };
    return acto_spawn(p->sys, &acto__pipe_stage_behaviour, st, &o, &st->ref);
}

int
acto_pipeline_start(acto_pipeline *p, acto_future **done)
{
    if (p == NULL || done == NULL || p->phase != PHASE_BUILDING ||
        !complete(p)) {
        return ACTO_EINVAL;
    }
    int rc = acto_future_new(p->sys, &p->done);
    if (rc != 0) {
        return rc;
    }
    p->phase = PHASE_RUNNING;
    /* Readers first, so every stage knows where to send. */
    for (size_t i = p->n; i-- > 0 && rc == 0;) {
        rc = spawn_stage(p, p->stages[i]);
    }
    acto_msg *pull = NULL;
    if (rc == 0) {
        rc = acto_msg_new_bytes(p->sys, PIPE_MSG_PULL, NULL, 0, &pull);
    }
    if (rc == 0 &&
        (rc = acto_system_send(p->sys, p->stages[0]->ref, pull)) != 0) {
        acto_msg_free(pull);
    }
    if (rc != 0) {
        /* Those already running stop; done is not the caller's. */
        p->outcome = OUTCOME_FAILED;
        p->phase = PHASE_STOPPING;
        acto__pipe_stop_all(p);
        if (p->live == 0) {
            p->phase = PHASE_OVER;
        }
        acto_future_release(p->done);
        p->done = NULL;
        return rc;
    }
    acto_future_retain(p->done);
    *done = p->done;
    return 0;
}

/* ---- ending ----------------------------------------------------------- */

void
acto__pipe_stop_all(acto_pipeline *p)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->stages[i]->running) {
            (void)acto_stop(p->sys, p->stages[i]->ref);
        }
    }
}

void
acto__pipe_fail(acto_pipeline *p, const acto_stage *st, const acto_error *e)
{
    if (p->phase >= PHASE_STOPPING) {
        return; /* the first error stands */
    }
    p->err_code = e->code < 0 ? e->code : ACTO_EFAILED;
    snprintf(p->err_type, sizeof(p->err_type), "%s", e->type);
    snprintf(p->err_text, sizeof(p->err_text), "%s", e->text);
    (void)st;
    p->outcome = OUTCOME_FAILED;
    p->phase = PHASE_STOPPING;
    acto__pipe_stop_all(p);
}

/* count_dropped sets each stage's count of items sent to it and never
 * handled (left in its mailbox when it stopped early). */
static void
count_dropped(acto_pipeline *p)
{
    for (size_t i = 0; i < p->n; i++) {
        acto_stage *st = p->stages[i];
        if (st->writer != NULL && st->writer->stats.out > st->stats.in) {
            st->stats.dropped += st->writer->stats.out - st->stats.in;
        }
    }
}

static void
resolve(acto_pipeline *p)
{
    acto_future *f = p->done;
    p->done = NULL;
    switch (p->outcome) {
    case OUTCOME_FAILED:
        (void)acto_future_set_error(f, p->err_code, p->err_type, "%s",
                                    p->err_text);
        break;
    case OUTCOME_CANCELLED:
        (void)acto_future_cancel(f, "pipeline cancelled");
        break;
    default:
        (void)acto_future_set_result(f, NULL, NULL, NULL);
        break;
    }
    acto_future_release(f);
}

void
acto__pipe_stage_gone(acto_stage *st)
{
    acto_pipeline *p = st->p;
    st->running = false;
    if (--p->live > 0) {
        return;
    }
    count_dropped(p);
    p->phase = PHASE_OVER;
    if (p->done != NULL) {
        resolve(p);
    }
}

int
acto_pipeline_cancel(acto_pipeline *p)
{
    if (p == NULL) {
        return ACTO_EINVAL;
    }
    if (p->phase != PHASE_RUNNING) {
        return p->phase == PHASE_BUILDING ? ACTO_EINVAL : ACTO_EALREADY;
    }
    p->outcome = OUTCOME_CANCELLED;
    if (p->opts.cancel == ACTO_CANCEL_DRAIN) {
        p->phase = PHASE_DRAINING; /* the source ends at its next pull */
    } else {
        p->phase = PHASE_STOPPING;
        acto__pipe_stop_all(p);
    }
    return 0;
}

int
acto_pipeline_wake(acto_pipeline *p)
{
    if (p == NULL || p->n == 0) {
        return ACTO_EINVAL;
    }
    acto_stage *src = p->stages[0];
    if (!src->waiting || !src->running) {
        return 0;
    }
    acto_msg *m;
    int rc = acto_msg_new_bytes(p->sys, PIPE_MSG_PULL, NULL, 0, &m);
    if (rc == 0 && (rc = acto_system_send(p->sys, src->ref, m)) != 0) {
        acto_msg_free(m);
    }
    if (rc == 0) {
        src->waiting = false;
    }
    return rc;
}

int
acto_pipeline_stats(const acto_pipeline *p, const acto_stage *s,
                    acto_stage_stats *out)
{
    if (p == NULL || s == NULL || s->p != p || out == NULL) {
        return ACTO_EINVAL;
    }
    *out = s->stats;
    out->name = s->name;
    return 0;
}

int
acto_pipeline_free(acto_pipeline *p)
{
    if (p == NULL) {
        return ACTO_EINVAL;
    }
    if (p->phase != PHASE_BUILDING && p->phase != PHASE_OVER) {
        return ACTO_EBUSY;
    }
    for (size_t i = 0; i < p->n; i++) {
        free_stage(p->stages[i]);
    }
    acto_free(p->stages, p->cap * sizeof(*p->stages));
    acto_future_release(p->done);
    acto_free(p, sizeof(*p));
    return 0;
}
