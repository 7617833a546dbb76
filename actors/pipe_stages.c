/* Pipeline stages as actors: one behaviour for every kind (source, stage,
 * batch, sink), an emitter that passes items on without copying, and the
 * error policies (fail, skip, retry with backoff, restart in place).
 *
 * A retry keeps the item and suspends the stage (acto_suspend), so nothing
 * overtakes it and the mailbox keeps bounding the flow; a timer
 * (acto_call_after) runs the retry as the stage (acto_call_as) and
 * resumes it. A restart runs the stage's fini and init hooks on the same
 * actor, so the items waiting in its mailbox are kept. */
#include "pipe_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- errors ----------------------------------------------------------- */

int
acto_stage_fail(acto_emitter *out, int code, const char *type, const char *fmt,
                ...)
{
    if (code >= 0) {
        code = ACTO_EFAILED;
    }
    if (out == NULL) {
        return code;
    }
    acto_stage *st = out->st;
    snprintf(st->err_type, sizeof(st->err_type), "%s",
             type != NULL ? type : acto_err_name(code));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->err_text, sizeof(st->err_text), fmt != NULL ? fmt : "", ap);
    va_end(ap);
    st->has_err = true;
    return code;
}

/* make_error describes st's failure with code, as acto_stage_fail said or
 * from the code alone. */
static acto_error
make_error(acto_stage *st, int code, const acto_msg *item, char *text,
           size_t size)
{
    const char *type = acto_err_name(code);
    if (st->has_err) {
        type = st->err_type;
        snprintf(text, size, "stage '%s': %s", st->name, st->err_text);
    } else {
        snprintf(text, size, "stage '%s': %s", st->name, acto_strerror(code));
    }
    st->has_err = false;
    return (acto_error){code, type, text, st->ref, item};
}

static void
report(acto_stage *st, const acto_error *e, acto_on_error action)
{
    acto_pipeline *p = st->p;
    if (p->opts.on_error != NULL) {
        acto_pipe_error pe = {st->name, e, action};
        p->opts.on_error(&pe, p->opts.user);
    }
}

/* restart_state runs fini then init on the same actor. Returns 0 or
 * init's error. */
static int
restart_state(acto_stage *st)
{
    st->stats.restarts++;
    if (st->opts.fini != NULL) {
        st->opts.fini(st->state);
    }
    if (st->opts.init == NULL) {
        return 0;
    }
    st->state = NULL;
    return st->opts.init(st->arg, &st->state);
}

/* trace_restart records a restart in place as a trace shows an actor's
 * (the failure on the item, then the restart it led to, by the pool's
 * supervisor for a worker), so trace tools count and show it although the
 * actor itself never stopped. */
static void
trace_restart(acto_stage *st, const acto_msg *item, int code, bool restarted)
{
    acto_system *sys = st->p->sys;
    uint64_t id = item != NULL ? acto_msg_id(item) : 0;
    acto_ref by = st->pool != NULL ? st->pool->ext : ACTO_REF_NONE;
    acto_trace_emit(sys, ACTO_TRACE_FAIL, st->ref, by, id, 0, (uint32_t)code);
    if (restarted) {
        acto_trace_emit(sys, ACTO_TRACE_RESTART, st->ref, by, id, id,
                        (uint32_t)st->stats.restarts);
    }
}

static void retry_later(acto_ctx *ctx, acto_stage *st, acto_msg *item);

/* on_error applies st's policy to a failure (item may be NULL: a source's
 * failure, or an item already passed on). Ownership: item is taken. */
void
acto__pipe_on_error(acto_ctx *ctx, acto_stage *st, acto_msg *item, int code)
{
    acto_on_error policy = st->opts.on_error;
    if (policy == ACTO_ON_ERROR_RETRY) {
        uint32_t retries = st->opts.retries != 0 ? st->opts.retries : 3;
        if (st->attempt < retries &&
            (item != NULL || st->kind == KIND_SOURCE)) {
            st->has_err = false;
            retry_later(ctx, st, item);
            return;
        }
        policy = st->opts.after_retries == ACTO_ON_ERROR_RETRY
                     ? ACTO_ON_ERROR_FAIL
                     : st->opts.after_retries;
    }
    st->attempt = 0;
    char text[256];
    acto_error e = make_error(st, code, item, text, sizeof(text));
    /* An item is lost with this error: the one in hand, or an async
     * stage's whose request failed (a source's failure loses none, but
     * counts as a skip). */
    uint64_t lost = item != NULL || st->kind == KIND_ASYNC;
    switch (policy) {
    case ACTO_ON_ERROR_SKIP:
        st->stats.skipped += lost || st->kind == KIND_SOURCE;
        report(st, &e, ACTO_ON_ERROR_SKIP);
        break;
    case ACTO_ON_ERROR_RESTART:
        st->stats.quarantined += lost;
        report(st, &e, ACTO_ON_ERROR_RESTART);
        int rc = restart_state(st);
        trace_restart(st, item, code, rc == 0);
        if (rc != 0) {
            acto_error ie = {rc, "StageInitFailed", "a restart's init failed",
                             st->ref, NULL};
            acto__pipe_fail(st->p, st, &ie);
        }
        break;
    default:
        st->stats.failed += lost;
        report(st, &e, ACTO_ON_ERROR_FAIL);
        acto__pipe_fail(st->p, st, &e);
        break;
    }
    acto_msg_free(item);
}

/* ---- handling --------------------------------------------------------- */

/* ask_source asks the source src for more (PIPE_MSG_PULL), from the
 * source itself or from the reader it waits for; a source that cannot be
 * asked would never go on, so that fails the pipeline. Apart (at most once
 * a turn): inlined, it grew stage_receive past where GCC still inlines
 * acto_msg_free into it, +9 instructions an item in pool8. */
static __attribute__((noinline)) void
ask_source(acto_ctx *ctx, acto_stage *src)
{
    if (acto_tell(ctx, src->ref, PIPE_MSG_PULL, NULL, 0) != 0) {
        acto_error e = {ACTO_ENOMEM, "OutOfMemory", "a source could not go on",
                        src->ref, NULL};
        acto__pipe_fail(src->p, src, &e);
    }
}

/* eos_lost fails the pipeline: a reader that never hears the end of the
 * stream would wait forever. */
static void
eos_lost(acto_stage *st, int rc)
{
    acto_error e = {rc, acto_err_name(rc),
                    "the end of the stream could not be passed on", st->ref,
                    NULL};
    acto__pipe_fail(st->p, st, &e);
}

void
acto__pipe_end_stream(acto_ctx *ctx, acto_stage *st)
{
    acto__pipe_out_close(st); /* the last items go before the end */
    st->ended = true;
    int rc = 0;
    if (st->kind == KIND_BROADCAST || st->kind == KIND_POOL) {
        for (size_t i = 0; i < st->n_outs; i++) {
            int r = acto_stream_send_eos(ctx, st->outs[i]->ref);
            rc = rc != 0 ? rc : r;
        }
    } else if (st->reader != NULL) {
        rc = acto_stream_send_eos(ctx, st->reader->ref);
    }
    if (rc != 0) {
        eos_lost(st, rc);
    }
    (void)acto_stop(acto_ctx_system(ctx), acto_self(ctx));
}

/* ---- demand ----------------------------------------------------------- */

void
acto__pipe_link_feeders(acto_pipeline *p)
{
    for (size_t i = 0; i < p->n; i++) {
        acto_stage *src = p->stages[i];
        acto_stage *r = src->reader;
        if (src->kind != KIND_SOURCE || r == NULL || r->writers != 1) {
            continue; /* a merge's sources each go on by themselves */
        }
        src->by_demand = true;
        if (r->kind == KIND_POOL && r->route == ACTO_ROUTE_KEY) {
            for (size_t w = 0; w < r->n_outs; w++) {
                r->outs[w]->feeder = src; /* they take its items */
            }
        } else {
            r->feeder = src;
        }
    }
}

/* pull_feeder asks st's source for more, once st took what it was given:
 * the source's next turn then comes after the turns st's own sends
 * scheduled, so a round of items leaves the pipeline before the next
 * comes in, and fewer items are in flight (in the caches). */
static void
pull_feeder(acto_ctx *ctx, acto_stage *st)
{
    acto_stage *src = st->feeder;
    if (!src->wants_pull || !src->running || st->p->phase >= PHASE_STOPPING) {
        return; /* stopping: the source stops with the rest */
    }
    src->wants_pull = false;
    ask_source(ctx, src);
}

/* Calls of a source function per turn, at most. */
#define SOURCE_CALLS 64

/* produce asks the source for more, then asks itself to go on: the next
 * pull waits behind a park, so the source runs only when there is room. */
static void
produce(acto_ctx *ctx, acto_stage *st)
{
    if (st->p->phase == PHASE_DRAINING) {
        acto__pipe_end_stream(ctx, st);
        return;
    }
    /* Asked again while its reader still has room in this turn: a source
     * that emits one item per call fills a run as one that emits many. */
    acto__pipe_out_open(ctx, st);
    uint64_t out_before = st->stats.out;
    int rc;
    int calls = 0;
    do {
        rc = st->u.source(&st->emit, st->state);
    } while (rc == 0 && ++calls < SOURCE_CALLS && acto__pipe_out_room(st));
    acto__pipe_out_close(st);
    /* What it passed on makes its reader run, and ask for more. */
    bool asked_later = st->by_demand && st->stats.out != out_before;
    if (rc == ACTO_PIPE_END) {
        acto__pipe_end_stream(ctx, st);
    } else if (rc == ACTO_PIPE_WAIT) {
        st->waiting = true; /* acto_pipeline_wake asks again */
    } else if (rc < 0) {
        acto__pipe_on_error(ctx, st, NULL, rc);
        if (st->p->phase < PHASE_STOPPING && st->retry_timer == 0) {
            ask_source(ctx, st);
        }
    } else {
        st->attempt = 0;
        if (asked_later) {
            st->wants_pull = true;
        } else {
            ask_source(ctx, st);
        }
    }
}

/* run_item runs st's function on an item it owns. Returns 0 or the
 * function's error; the item is freed unless it was passed on or kept. */
static int
run_item(acto_stage *st, acto_msg *item, acto_msg **left)
{
    int rc;
    st->current = item;
    st->current_emitted = false;
    st->has_err = false;
    switch (st->kind) {
    case KIND_SINK:
        rc = st->u.sink(&st->emit, st->state, item);
        break;
    default:
        rc = st->u.fn(&st->emit, st->state, item);
        break;
    }
    st->current = NULL;
    *left = st->current_emitted ? NULL : item;
    return rc;
}

/* send_to passes an item straight to a reader (a broadcast's or a
 * pool's). Ownership: item is taken. */
static void
send_to(acto_ctx *ctx, acto_stage *st, acto_stage *to, acto_msg *item)
{
    if (acto_send_room(ctx, to->ref) == 0) {
        st->halt = true; /* this send parks the stage */
    }
    int rc = acto_send(ctx, to->ref, item);
    if (rc != 0) {
        acto_msg_free(item);
        acto__pipe_on_error(ctx, st, NULL, rc);
        return;
    }
    to->sent++;
    st->stats.out++;
}

static void
broadcast(acto_ctx *ctx, acto_stage *st, acto_msg *item)
{
    size_t len;
    const void *data = acto_msg_data(item, &len);
    uint32_t type = acto_msg_type(item);
    if (data == NULL && len == 0 && acto_msg_kind(item) == ACTO_PAYLOAD_PTR) {
        acto_stage_fail(&st->emit, ACTO_EINVAL, "NotCopyable",
                        "a pointer item cannot be broadcast");
        acto__pipe_on_error(ctx, st, item, ACTO_EINVAL);
        return;
    }
    for (size_t i = 0; i + 1 < st->n_outs; i++) {
        acto_msg *copy;
        if (acto_msg_new_bytes(acto_ctx_system(ctx), type, data, len, &copy) !=
            0) {
            acto__pipe_on_error(ctx, st, item, ACTO_ENOMEM);
            return;
        }
        send_to(ctx, st, st->outs[i], copy);
    }
    send_to(ctx, st, st->outs[st->n_outs - 1], item);
}

acto_stage *
acto__pipe_key_worker(const acto_stage *pool, const acto_msg *item)
{
    uint64_t k = pool->key(item, pool->key_user);
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    /* Multiply-shift of the mixed low half: a multiplication where
     * k % n_outs would be a 64-bit division, on every item's path. */
    return pool->outs[((k & 0xffffffffu) * (uint32_t)pool->n_outs) >> 32];
}

/* pick_worker chooses the worker for an item. Round robin and shortest
 * mailbox pass over a worker that is down (its supervisor restarts it);
 * by key the item goes to its worker whatever, or the order per key would
 * break (one sent while that worker is down is counted as dropped). */
static acto_stage *
pick_worker(acto_ctx *ctx, acto_stage *st, const acto_msg *item)
{
    size_t n = st->n_outs;
    if (st->route == ACTO_ROUTE_KEY) {
        return acto__pipe_key_worker(st, item);
    }
    acto_system *sys = acto_ctx_system(ctx);
    size_t best = st->rr;
    uint32_t least = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t w = (st->rr + i) % n; /* ties go round */
        if (!acto_alive(sys, st->outs[w]->ref)) {
            continue; /* down or going down */
        }
        if (st->route != ACTO_ROUTE_SHORTEST) {
            best = w;
            break;
        }
        uint32_t c = acto_mailbox_count(sys, st->outs[w]->ref);
        if (c < least) {
            least = c;
            best = w;
            if (c == 0) {
                break;
            }
        }
    }
    st->rr = (best + 1) % n;
    return st->outs[best];
}

/* apply runs st's function on an item it owns and settles the outcome:
 * the error policy on failure, else the item is freed unless it was passed
 * on (a sink counts it consumed). Returns whether it succeeded. */
static bool
apply(acto_ctx *ctx, acto_stage *st, acto_msg *item)
{
    acto_msg *left;
    int rc = run_item(st, item, &left);
    if (rc != 0) {
        acto__pipe_on_error(ctx, st, left, rc);
        return false;
    }
    if (st->kind == KIND_SINK) {
        st->stats.out++; /* consumed */
    }
    acto_msg_free(left);
    return true;
}

static void
handle_item(acto_ctx *ctx, acto_stage *st, acto_msg *item)
{
    st->stats.in++;
    switch (st->kind) {
    case KIND_PASS: {
        int rc = acto_emit(&st->emit, item);
        if (rc != 0) {
            acto__pipe_on_error(ctx, st, NULL, rc);
        }
        return;
    }
    case KIND_BROADCAST:
        broadcast(ctx, st, item);
        return;
    case KIND_POOL:
        if (st->route == ACTO_ROUTE_KEY) {
            int rc = acto__pipe_pool_route(
                ctx, st, acto__pipe_key_worker(st, item), item);
            if (rc != 0) {
                acto__pipe_on_error(ctx, st, NULL, rc);
            }
        } else {
            send_to(ctx, st, pick_worker(ctx, st, item), item);
        }
        return;
    case KIND_ASYNC:
        acto__pipe_async_item(ctx, st, item);
        return;
    case KIND_FORWARD: {
        int rc = acto_send(ctx, st->ext, item); /* parks when it is full */
        if (rc != 0) {
            acto_msg_free(item);
            acto__pipe_on_error(ctx, st, NULL, rc);
        } else {
            st->stats.out++;
        }
        return;
    }
    default:
        break;
    }
    if (st->kind == KIND_BATCH) {
        int rc = acto__pipe_batch_add(ctx, st, item);
        if (rc != 0) {
            acto__pipe_on_error(ctx, st, item, rc);
        }
        return;
    }
    (void)apply(ctx, st, item);
}

/* ---- retries ---------------------------------------------------------- */

static int
retry_now(acto_ctx *ctx, void *state, void *user)
{
    (void)state;
    acto_stage *st = user;
    st->emit.ctx = ctx;
    acto_msg *item = st->retry_item;
    st->retry_item = NULL;
    if (st->kind == KIND_SOURCE) {
        produce(ctx, st);
        return 0;
    }
    if (apply(ctx, st, item)) {
        st->attempt = 0;
    }
    return 0;
}

static void
retry_fire(acto_system *sys, void *user)
{
    acto_stage *st = user;
    st->retry_timer = 0;
    (void)acto_call_as(sys, st->ref, &acto__pipe_stage_behaviour, retry_now,
                       st);
    if (st->retry_timer == 0 && st->running) {
        (void)acto_resume(sys, st->ref);
    }
}

static void
retry_later(acto_ctx *ctx, acto_stage *st, acto_msg *item)
{
    uint64_t delay =
        st->opts.retry_backoff_ms != 0 ? st->opts.retry_backoff_ms : 10;
    for (uint32_t i = 0; i < st->attempt && delay < 3600000; i++) {
        delay *= 2;
    }
    st->attempt++;
    st->stats.retried++;
    st->retry_item = item;
    (void)acto_suspend(ctx);
    st->halt = true; /* its item loop stops here */
    if (acto_call_after(acto_ctx_system(ctx), delay, retry_fire, st,
                        &st->retry_timer) != 0) {
        st->retry_timer = 0;
        st->retry_item = NULL;
        acto_error e = {ACTO_ENOMEM, "OutOfMemory", "could not retry", st->ref,
                        item};
        acto__pipe_fail(st->p, st, &e);
        acto_msg_free(item);
    }
}

/* ---- the end ---------------------------------------------------------- */

void
acto__pipe_finish(acto_ctx *ctx, acto_stage *st)
{
    if (st->opts.flush != NULL) {
        st->has_err = false;
        int rc = st->opts.flush(&st->emit, st->state);
        if (rc != 0) {
            acto__pipe_on_error(ctx, st, NULL, rc);
        }
        if (st->p->phase >= PHASE_STOPPING) {
            return; /* its error failed the pipeline */
        }
    }
    if (st->kind == KIND_BATCH) {
        acto__pipe_batch_emit(ctx, st);
    }
    acto__pipe_end_stream(ctx, st);
}

/* ---- the actor -------------------------------------------------------- */

/* The item loops below handle the item of the message being handled and
 * then the items waiting behind it (acto_run_begin), in one call: a run of
 * items costs one trip through the scheduler, and what they emit goes on
 * together. They stop where one message at a time would (the stage
 * parked, suspended itself for a retry, or is stopping); the rest of the
 * run was never taken and waits in the mailbox as before. */
#define ITEM_MAX (ACTO_STREAM_BASE - 1u)

typedef void (*item_fn)(acto_ctx *ctx, acto_stage *st, acto_msg *item);

/* run_items runs fn on the items waiting behind the one in hand, taking
 * each as it goes (the next is found while fn works on this one), until
 * none waits, the turn's budget is spent or the stage must stop (halt):
 * the rest were never taken and wait in the mailbox. Returns how many it
 * ran fn on. Inlined with fn known. */
static inline __attribute__((always_inline)) size_t
run_items(acto_ctx *ctx, acto_stage *st, item_fn fn)
{
    acto_run run;
    if (st->halt || !acto_run_begin(ctx, ITEM_MAX, SIZE_MAX, &run)) {
        return 0;
    }
    size_t done = 0;
    acto_msg *m;
    while ((m = acto_run_next(&run)) != NULL) {
        fn(ctx, st, m);
        done++;
        if (__builtin_expect(st->halt, 0)) {
            break;
        }
    }
    acto_run_end(&run);
    return done;
}

/* map_one runs a stage function on an item it owns, as apply does; the
 * loop that calls it counts the items in and lets go of the item in hand
 * (current) once done. */
static inline void
map_one(acto_ctx *ctx, acto_stage *st, acto_msg *item)
{
    st->current = item;
    st->current_emitted = false;
    st->has_err = false;
    int rc = st->u.fn(&st->emit, st->state, item);
    acto_msg *left = st->current_emitted ? NULL : item;
    if (__builtin_expect(rc != 0, 0)) {
        acto__pipe_on_error(ctx, st, left, rc);
    } else if (left != NULL) {
        acto_msg_free(left);
    }
}

static void
stage_items(acto_ctx *ctx, acto_stage *st, acto_msg *item)
{
    acto__pipe_out_open(ctx, st);
    st->stats.in++;
    map_one(ctx, st, item);
    st->stats.in += run_items(ctx, st, map_one);
    st->current = NULL;
    acto__pipe_out_close(st);
}

/* sink_run runs a sink on an item it owns (counted in by its loop). */
static void
sink_run(acto_ctx *ctx, acto_stage *st, acto_msg *item)
{
    st->has_err = false;
    int rc = st->u.sink(&st->emit, st->state, item);
    if (rc == 0) {
        st->stats.out++;
        if (item == NULL) {
            __builtin_unreachable(); /* a run holds messages: no test */
        }
        acto_msg_free(item);
    } else {
        acto__pipe_on_error(ctx, st, item, rc);
    }
}

/* sink_items borrows the first item from the runtime; the ones it takes
 * after it are its own to free. */
static void
sink_items(acto_ctx *ctx, acto_stage *st, const acto_msg *m)
{
    st->stats.in++;
    st->has_err = false;
    int rc = st->u.sink(&st->emit, st->state, m);
    if (rc == 0) {
        st->stats.out++;
    } else {
        acto__pipe_on_error(ctx, st, acto_take_msg(ctx), rc);
    }
    st->halt = st->p->phase >= PHASE_STOPPING || st->retry_timer != 0;
    st->stats.in += run_items(ctx, st, sink_run);
}

/* pass_items runs a merge's, an input's or a pool's items. */
static void
pass_items(acto_ctx *ctx, acto_stage *st, acto_msg *item)
{
    acto__pipe_out_open(ctx, st);
    handle_item(ctx, st, item);
    (void)run_items(ctx, st, handle_item); /* handle_item counts them */
    acto__pipe_out_close(st);
}

static int
stage_handle(acto_ctx *ctx, acto_stage *st, const acto_msg *m)
{
    st->emit.ctx = ctx;
    uint32_t type = acto_msg_type(m);
    /* The common cases first: an item for a running sink, borrowed (taken
     * only if it fails, for the policy), or for a function stage. */
    if (__builtin_expect(type < ACTO_STREAM_BASE && st->kind == KIND_SINK &&
                             st->p->phase < PHASE_STOPPING && !st->ended,
                         1)) {
        sink_items(ctx, st, m);
        return 0;
    }
    if (__builtin_expect(type < ACTO_STREAM_BASE && st->kind == KIND_STAGE &&
                             st->p->phase < PHASE_STOPPING && !st->ended,
                         1)) {
        acto_msg *item = acto_take_msg(ctx);
        if (__builtin_expect(item != NULL, 1)) {
            stage_items(ctx, st, item);
            return 0;
        }
    }
    if (st->p->phase >= PHASE_STOPPING) {
        return 0; /* stopping: what is left is dropped */
    }
    if (type == ACTO_MSG_CHILD_FAILED && st->kind == KIND_POOL) {
        acto__pipe_pool_child_failed(st, m);
        return 0;
    }
    switch (type) {
    case PIPE_MSG_PULL:
        produce(ctx, st);
        return 0;
    case PIPE_MSG_FLUSH:
        acto__pipe_batch_on_flush(ctx, st, m);
        return 0;
    case ACTO_STREAM_EOS:
        if (++st->eos_seen < st->writers) {
            return 0; /* others still send */
        }
        if (st->kind == KIND_ASYNC && !acto__pipe_async_eos(ctx, st)) {
            return 0; /* once its futures are done */
        }
        if (st->kind == KIND_FORWARD) {
            /* It ends once the file actor has written and synced all. */
            int rc = acto_stream_send_eos(ctx, st->ext);
            if (rc != 0) {
                eos_lost(st, rc);
            }
            return 0;
        }
        acto__pipe_finish(ctx, st);
        return 0;
    default:
        break;
    }
    if ((type >= ACTO_STREAM_BASE && type != ACTO_PIPE_BATCH) ||
        st->kind == KIND_SOURCE || st->ended) {
        return 0; /* not an item for this stage */
    }
    acto_msg *item = acto_take_msg(ctx);
    if (item != NULL && (st->kind == KIND_PASS || st->kind == KIND_POOL)) {
        pass_items(ctx, st, item);
        return 0;
    }
    if (item == NULL) {
        /* Kept by the runtime: work on a copy. */
        size_t len;
        const void *data = acto_msg_data(m, &len);
        if (acto_msg_new_bytes(acto_ctx_system(ctx), type, data, len, &item) !=
            0) {
            acto_error e = {ACTO_ENOMEM, "OutOfMemory",
                            "an item could not be copied", st->ref, m};
            acto__pipe_fail(st->p, st, &e);
            return 0;
        }
    }
    handle_item(ctx, st, item);
    return 0;
}

static int
stage_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    acto_stage *st = state;
    int rc = stage_handle(ctx, st, m);
    if (st->feeder != NULL) {
        pull_feeder(ctx, st);
    }
    return rc;
}

static int
stage_start(acto_ctx *ctx, void *state)
{
    acto_stage *st = state;
    st->ref = acto_self(ctx);
    st->emit = (acto_emitter){st, ctx};
    if (st->opts.init != NULL) {
        int rc = st->opts.init(st->arg, &st->state);
        if (rc != 0) {
            return rc;
        }
    }
    if (st->own_start != NULL) {
        int rc = st->own_start(ctx, st);
        if (rc != 0) {
            if (st->opts.fini != NULL) {
                st->opts.fini(st->state);
            }
            return rc;
        }
    }
    if (st->started) {
        st->stats.restarts++; /* its supervisor restarted it */
        if (st->feeder != NULL) {
            pull_feeder(ctx, st); /* its lost mailbox may be all there was */
        }
    }
    st->started = true;
    st->running = true;
    st->p->live++;
    return 0;
}

static void
stage_stop(acto_ctx *ctx, void *state, const acto_exit_reason *why)
{
    (void)ctx;
    acto_stage *st = state;
    acto_system *sys = st->p->sys;
    if (st->retry_timer != 0) {
        (void)acto_timer_cancel(sys, st->retry_timer);
        st->retry_timer = 0;
    }
    if (st->window_timer != 0) {
        (void)acto_timer_cancel(sys, st->window_timer);
        st->window_timer = 0;
    }
    acto_msg_free(st->retry_item);
    st->retry_item = NULL;
    if (st->own_stop != NULL) {
        st->own_stop(st);
    }
    if (st->kind == KIND_ASYNC) {
        acto__pipe_async_stop(st);
    }
    st->stats.dropped += st->buf_n;
    for (size_t i = 0; i < st->buf_n; i++) {
        acto_msg_free(st->buf[i]);
    }
    st->buf_n = 0;
    if (st->opts.fini != NULL) {
        st->opts.fini(st->state);
    }
    bool restarts = st->pool != NULL && why->kind != ACTO_EXIT_NORMAL &&
                    why->kind != ACTO_EXIT_SHUTDOWN;
    if (!st->ended && st->p->phase < PHASE_STOPPING && !restarts) {
        acto_error e = {ACTO_ECANCELED, "StageStopped",
                        "a stage stopped before the end of the stream", st->ref,
                        NULL};
        acto__pipe_fail(st->p, st, &e);
    }
    acto__pipe_stage_gone(st);
}

const acto_behaviour acto__pipe_stage_behaviour = {
    .receive = stage_receive,
    .start = stage_start,
    .stop = stage_stop,
};
