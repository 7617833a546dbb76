/* Pipelines: building the chain of stages, starting it, cancelling it and
 * resolving its completion future once the last stage actor has gone. */
#include "pipe_internal.h"

#include <stdio.h>
#include <string.h>

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
    if (st->own_free != NULL) {
        st->own_free(st);
    }
    acto_free(st->outs, st->outs_cap * sizeof(*st->outs));
    acto_free(st->chain,
              st->chain != NULL ? PIPE_OUT_MAX * sizeof(*st->chain) : 0);
    acto_free(st->pend, st->pend_cap * sizeof(*st->pend));
    if (st->own_limit) {
        acto_semaphore_free(st->limit);
    }
    acto_free(st->buf, st->buf_cap * sizeof(*st->buf));
    acto_free(st->name, st->name_size);
    acto_free(st, sizeof(*st));
}

static bool
is_sink(const acto_stage *st)
{
    return st->kind == KIND_SINK || st->kind == KIND_FORWARD;
}

/* can_read tells whether a new stage may read from `from`: its reader is
 * free, or it is a broadcast, which has many. */
static int
can_read(const acto_pipeline *p, const acto_stage *from)
{
    if (from == NULL || from->p != p || is_sink(from) || from->hidden) {
        return ACTO_EINVAL;
    }
    if (from->kind != KIND_BROADCAST && from->reader != NULL) {
        return ACTO_EBUSY;
    }
    return 0;
}

static int
push_out(acto_stage *st, acto_stage *out)
{
    acto_stage **outs =
        acto__pipe_grown(st->outs, sizeof(*outs), st->n_outs, &st->outs_cap, 4);
    if (outs == NULL) {
        return ACTO_ENOMEM;
    }
    st->outs = outs;
    st->outs[st->n_outs++] = out;
    return 0;
}

/* link makes st read from `from` (checked with can_read). */
static int
link(acto_stage *from, acto_stage *st)
{
    if (from->kind == KIND_BROADCAST) {
        int rc = push_out(from, st);
        if (rc != 0) {
            return rc;
        }
        from->reader = st; /* marks it read; items go to outs */
        st->writers++;
        return 0;
    }
    from->reader = st;
    if (from->kind == KIND_POOL) {
        for (size_t i = 0; i < from->n_outs; i++) {
            from->outs[i]->reader = st; /* its workers write to st */
        }
        st->writers += from->n_outs;
    } else {
        st->writers++;
    }
    return 0;
}

/* unlink_reader undoes link(from, st) for a stage about to be dropped. */
static void
unlink_reader(acto_stage *from, acto_stage *st)
{
    if (from == NULL) {
        return;
    }
    if (from->kind == KIND_BROADCAST) {
        for (size_t i = 0; i < from->n_outs; i++) {
            if (from->outs[i] == st) {
                from->outs[i] = from->outs[--from->n_outs];
                break;
            }
        }
        from->reader = from->n_outs > 0 ? from->outs[0] : NULL;
        return;
    }
    from->reader = NULL;
    if (from->kind == KIND_POOL) {
        for (size_t i = 0; i < from->n_outs; i++) {
            from->outs[i]->reader = NULL;
        }
    }
}

void *
acto__pipe_grown(void *v, size_t elem, size_t n, size_t *cap, size_t first)
{
    if (n < *cap) {
        return v;
    }
    size_t ncap = *cap != 0 ? *cap * 2 : first;
    void *nv = acto_malloc(ncap * elem);
    if (nv == NULL) {
        return NULL;
    }
    if (n > 0) {
        memcpy(nv, v, n * elem);
    }
    acto_free(v, *cap * elem);
    *cap = ncap;
    return nv;
}

/* new_stage makes a stage of kind, not yet linked. */
static int
new_stage(acto_pipeline *p, uint8_t kind, void *state,
          const acto_stage_opts *opts, acto_stage **out)
{
    if (p == NULL || out == NULL || !valid_opts(opts) ||
        p->phase != PHASE_BUILDING) {
        return ACTO_EINVAL;
    }
    acto_stage **stages =
        acto__pipe_grown(p->stages, sizeof(*stages), p->n, &p->cap, 8);
    if (stages == NULL) {
        return ACTO_ENOMEM;
    }
    p->stages = stages;
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
    p->stages[p->n++] = st;
    *out = st;
    return 0;
}

/* drop_last undoes new_stage for the stage just made. */
static void
drop_last(acto_pipeline *p)
{
    free_stage(p->stages[--p->n]);
}

/* add_stage makes a stage of kind reading from `from` (none: a source). */
int
acto__pipe_add_stage(acto_pipeline *p, acto_stage *from, uint8_t kind,
                     void *state, const acto_stage_opts *opts, acto_stage **out)
{
    if (p == NULL || out == NULL) {
        return ACTO_EINVAL;
    }
    /* Only a source and an input read from no stage. */
    if ((kind == KIND_SOURCE || kind == KIND_PASS) != (from == NULL)) {
        return ACTO_EINVAL;
    }
    int rc = from != NULL ? can_read(p, from) : 0;
    if (rc == 0) {
        rc = new_stage(p, kind, state, opts, out);
    }
    if (rc == 0 && from != NULL && (rc = link(from, *out)) != 0) {
        drop_last(p);
    }
    return rc;
}

int
acto_pipeline_source(acto_pipeline *p, acto_source_fn next, void *state,
                     const acto_stage_opts *opts, acto_stage **out)
{
    if (next == NULL) {
        return ACTO_EINVAL;
    }
    int rc = acto__pipe_add_stage(p, NULL, KIND_SOURCE, state, opts, out);
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
    int rc = acto__pipe_add_stage(p, from, KIND_STAGE, state, opts, out);
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
    int rc = acto__pipe_add_stage(p, from, KIND_SINK, state, opts, out);
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
    int rc = acto__pipe_add_stage(p, from, KIND_BATCH, NULL, opts, out);
    if (rc == 0) {
        (*out)->batch_count = count;
        (*out)->batch_window_ms = window_ms;
    }
    return rc;
}

int
acto_pipeline_input(acto_pipeline *p, const acto_stage_opts *opts,
                    acto_stage **out)
{
    int rc = acto__pipe_add_stage(p, NULL, KIND_PASS, NULL, opts, out);
    if (rc == 0) {
        (*out)->fed = true;
        (*out)->writers = 1; /* whoever feeds it sends the end */
    }
    return rc;
}

int
acto_pipeline_merge(acto_pipeline *p, acto_stage *const *from, size_t n,
                    const acto_stage_opts *opts, acto_stage **out)
{
    if (from == NULL || n == 0) {
        return ACTO_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        int rc = can_read(p, from[i]);
        for (size_t j = 0; rc == 0 && j < i; j++) {
            rc = from[j] == from[i] ? ACTO_EINVAL : 0;
        }
        if (rc != 0) {
            return rc;
        }
    }
    int rc = new_stage(p, KIND_PASS, NULL, opts, out);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = link(from[i], *out); /* fails only for a broadcast's memory */
        if (rc != 0) {
            for (size_t j = 0; j < i; j++) {
                unlink_reader(from[j], *out);
            }
            drop_last(p);
        }
    }
    return rc;
}

int
acto_pipeline_broadcast(acto_pipeline *p, acto_stage *from,
                        const acto_stage_opts *opts, acto_stage **out)
{
    return acto__pipe_add_stage(p, from, KIND_BROADCAST, NULL, opts, out);
}

int
acto_pipeline_async(acto_pipeline *p, acto_stage *from,
                    const acto_async_opts *async, acto_async_fn fn, void *state,
                    const acto_stage_opts *opts, acto_stage **out)
{
    static const acto_async_opts defaults = {0};
    const acto_async_opts *ao = async != NULL ? async : &defaults;
    if (fn == NULL || ao->max_in_flight > 1u << 20) {
        return ACTO_EINVAL;
    }
    int rc = acto__pipe_add_stage(p, from, KIND_ASYNC, state, opts, out);
    if (rc != 0) {
        return rc;
    }
    acto_stage *st = *out;
    st->u.async = fn;
    st->pend_cap = ao->max_in_flight != 0 ? ao->max_in_flight : 16;
    st->pend = acto_calloc(st->pend_cap, sizeof(*st->pend));
    st->limit = ao->limit;
    if (st->pend != NULL && st->limit == NULL) {
        rc = acto_semaphore_new(p->sys, (unsigned)st->pend_cap, true,
                                &st->limit);
        st->own_limit = rc == 0;
    }
    if (st->pend == NULL || rc != 0) {
        unlink_reader(from, st);
        drop_last(p);
        return rc != 0 ? rc : ACTO_ENOMEM;
    }
    return 0;
}

/* add_workers makes a pool's n workers, each a hidden stage running fn. */
static int
add_workers(acto_pipeline *p, acto_stage *pool, uint32_t n, acto_stage_fn fn,
            void *state, const acto_stage_opts *opts)
{
    for (uint32_t i = 0; i < n; i++) {
        acto_stage *w;
        acto_stage_opts wo = opts != NULL ? *opts : (acto_stage_opts){0};
        char name[300];
        snprintf(name, sizeof(name), "%s.%u", pool->name, (unsigned)i);
        wo.name = name;
        int rc = new_stage(p, KIND_STAGE, state, &wo, &w);
        if (rc == 0 && (rc = push_out(pool, w)) != 0) {
            drop_last(p);
        }
        if (rc != 0) {
            return rc;
        }
        w->u.fn = fn;
        w->hidden = true;
        w->pool = pool;
        w->writers = 1;
        if (pool->route == ACTO_ROUTE_KEY) { /* its chain (pipe_emit.c) */
            w->chain = acto_calloc(PIPE_OUT_MAX, sizeof(*w->chain));
            if (w->chain == NULL) {
                return ACTO_ENOMEM;
            }
        }
    }
    return 0;
}

int
acto_pipeline_pool(acto_pipeline *p, acto_stage *from,
                   const acto_pool_opts *pool, acto_stage_fn fn, void *state,
                   const acto_stage_opts *opts, acto_stage **out)
{
    static const acto_pool_opts defaults = {0};
    const acto_pool_opts *po = pool != NULL ? pool : &defaults;
    if (fn == NULL || (unsigned)po->route > ACTO_ROUTE_KEY ||
        (po->route == ACTO_ROUTE_KEY && po->key == NULL) ||
        po->workers > 65536) {
        return ACTO_EINVAL;
    }
    acto_stage_opts ro = opts != NULL ? *opts : (acto_stage_opts){0};
    ro.init = NULL; /* the router has no state of its own */
    ro.fini = NULL;
    ro.flush = NULL;
    int rc = acto__pipe_add_stage(p, from, KIND_POOL, NULL, &ro, out);
    if (rc != 0) {
        return rc;
    }
    acto_stage *router = *out;
    router->own_start = acto__pipe_pool_start;
    router->route = (uint8_t)po->route;
    router->key = po->key;
    router->key_user = po->key_user;
    size_t before = p->n;
    rc = add_workers(p, router, po->workers != 0 ? po->workers : 4, fn, state,
                     opts);
    if (rc != 0) {
        /* Unmake the workers and the router (the last stages made). */
        while (p->n > before) {
            drop_last(p);
        }
        router->n_outs = 0;
        unlink_reader(from, router);
        drop_last(p);
    }
    return rc;
}

/* ---- starting --------------------------------------------------------- */

/* complete tells whether every stage but a sink has a reader, with at
 * least one source (or input) and one sink. Stages can only read from
 * earlier ones, so there is no cycle. */
static bool
complete(const acto_pipeline *p)
{
    bool source = false, sink = false;
    for (size_t i = 0; i < p->n; i++) {
        const acto_stage *st = p->stages[i];
        source |= st->kind == KIND_SOURCE || st->fed;
        sink |= is_sink(st);
        if (!is_sink(st) && st->reader == NULL) {
            return false;
        }
    }
    return source && sink;
}

static int
spawn_stage(acto_pipeline *p, acto_stage *st)
{
    acto_spawn_opts o = {
        .label = st->name,
        .capacity = acto__pipe_capacity_of(&st->opts),
        /* A source makes one burst per turn, then lets its readers drain:
         * a second burst in the same turn would only find them full and
         * park item by item. */
        .batch = st->kind == KIND_SOURCE ? 1 : acto__pipe_batch_of(&st->opts),
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
    for (size_t i = p->n; i-- > 0 && rc == 0;) {
        if (!p->stages[i]->hidden) { /* a pool starts its workers */
            rc = spawn_stage(p, p->stages[i]);
        }
    }
    for (size_t i = 0; i < p->n; i++) {
        if (p->stages[i]->kind == KIND_SOURCE) {
            p->stages[i]->waiting = true;
        }
    }
    acto__pipe_link_feeders(p);
    if (rc == 0) {
        rc = acto_pipeline_wake(p);
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
    acto__pipe_out_shut(p);
    for (size_t i = 0; i < p->n; i++) {
        p->stages[i]->halt = true; /* a handler running now stops too */
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
        if (st->sent > st->stats.in) {
            st->stats.dropped += st->sent - st->stats.in;
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

static void
eos_sent(acto_system *sys, int status, void *user)
{
    (void)sys;
    (void)status;
    (void)user;
}

/* drain_file_inputs ends the streams of file sources: the file actor is
 * killed (what it sent stays in order) and the end follows. */
static void
drain_file_inputs(acto_pipeline *p)
{
    for (size_t i = 0; i < p->n; i++) {
        acto_stage *st = p->stages[i];
        acto_msg *m = NULL;
        if (!st->fed || !st->running || acto_ref_is_none(st->ext) ||
            !acto_alive(p->sys, st->ext)) {
            continue;
        }
        (void)acto_kill(p->sys, st->ext);
        if (acto_msg_new_bytes(p->sys, ACTO_STREAM_EOS, NULL, 0, &m) != 0 ||
            acto_system_send_wait(p->sys, st->ref, m, eos_sent, NULL) != 0) {
            acto_msg_free(m);
            acto_error e = {ACTO_ENOMEM, "OutOfMemory",
                            "could not end a file source", st->ref, NULL};
            acto__pipe_fail(p, st, &e);
            return;
        }
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
        p->phase = PHASE_DRAINING; /* a source ends at its next pull */
        drain_file_inputs(p);
    } else {
        p->phase = PHASE_STOPPING;
        acto__pipe_stop_all(p);
    }
    return 0;
}

int
acto_pipeline_wake(acto_pipeline *p)
{
    if (p == NULL) {
        return ACTO_EINVAL;
    }
    for (size_t i = 0; i < p->n; i++) {
        acto_stage *src = p->stages[i];
        if (src->kind != KIND_SOURCE || !src->waiting || !src->running) {
            continue;
        }
        acto_msg *m;
        int rc = acto_msg_new_bytes(p->sys, PIPE_MSG_PULL, NULL, 0, &m);
        if (rc == 0 && (rc = acto_system_send(p->sys, src->ref, m)) != 0) {
            acto_msg_free(m);
        }
        if (rc != 0) {
            return rc;
        }
        src->waiting = false;
    }
    return 0;
}

acto_ref
acto_pipeline_worker(const acto_stage *pool, size_t i)
{
    if (pool == NULL || pool->kind != KIND_POOL || i >= pool->n_outs) {
        return ACTO_REF_NONE;
    }
    return acto_pipeline_ref(pool->outs[i]);
}

acto_ref
acto_pipeline_ref(const acto_stage *s)
{
    return s != NULL && s->running ? s->ref : ACTO_REF_NONE;
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
    if (s->kind == KIND_POOL) {
        /* A pool routes: what came out, failed or retried is its
         * workers'. */
        out->out = 0;
        for (size_t i = 0; i < s->n_outs; i++) {
            const acto_stage_stats *w = &s->outs[i]->stats;
            out->out += w->out;
            out->skipped += w->skipped;
            out->quarantined += w->quarantined;
            out->failed += w->failed;
            out->retried += w->retried;
            out->restarts += w->restarts;
            out->dropped += w->dropped;
        }
    }
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
