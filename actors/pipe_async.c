/* Async pipeline stages: a future per item with at most max_in_flight
 * pending, each holding a permit of a semaphore (the stage's own, or one
 * shared with other stages), results passed on in item order.
 *
 * An item that finds no permit is held and the stage suspends itself, so
 * its mailbox fills and backpressure reaches the source; the acquire's
 * callback starts it and resumes the stage. Futures complete outside any
 * handler, so their callback runs the stage's code as the stage
 * (acto_call_as), which is what lets it emit. */
#include "pipe_internal.h"

static void flush_async(acto_system *sys, acto_stage *st);

static void
on_result(acto_future *f, void *user)
{
    (void)f;
    acto_stage *st = user;
    flush_async(st->p->sys, st);
}

static int
push_pending(acto_stage *st, acto_future *f)
{
    if (st->pend_n == st->pend_cap) {
        return ACTO_EBUSY; /* never: the stage suspends before */
    }
    st->pend[(st->pend_head + st->pend_n++) % st->pend_cap] = f;
    return 0;
}

/* start runs the function for an item the stage holds a permit for. */
static void
start(acto_ctx *ctx, acto_stage *st, acto_msg *item)
{
    acto_future *f = NULL;
    int rc = st->u.async(st->state, item, &f);
    if (rc == 0 && f == NULL) {
        rc = ACTO_EINVAL;
    }
    if (rc == 0 && (rc = push_pending(st, f)) != 0) {
        acto_future_release(f);
    }
    if (rc == 0 && (rc = acto_future_add_done_cb(f, on_result, st)) != 0) {
        st->pend_n--;
        acto_future_release(f);
    }
    if (rc != 0) {
        (void)acto_semaphore_release(st->limit);
        acto__pipe_on_error(ctx, st, item, rc);
        return;
    }
    acto_msg_free(item);
}

static int
start_held(acto_ctx *ctx, void *state, void *user)
{
    (void)state;
    acto_stage *st = user;
    st->emit.ctx = ctx;
    acto_msg *item = st->held;
    st->held = NULL;
    start(ctx, st, item);
    return 0;
}

static void
on_permit(acto_future *f, void *user)
{
    acto_stage *st = user;
    acto_system *sys = st->p->sys;
    bool granted = acto_future_state_of(f) == ACTO_FUTURE_DONE;
    acto_future_release(f);
    st->acquiring = NULL;
    if (!granted) {
        return; /* cancelled: the stage is stopping */
    }
    (void)acto_call_as(sys, st->ref, &acto__pipe_stage_behaviour, start_held,
                       st);
    if (st->pend_n < st->pend_cap && !st->eos_waits) {
        (void)acto_resume(sys, st->ref);
    }
}

void
acto__pipe_async_item(acto_ctx *ctx, acto_stage *st, acto_msg *item)
{
    if (acto_semaphore_try_acquire(st->limit) == 0) {
        start(ctx, st, item);
    } else {
        acto_future *f;
        int rc = acto_semaphore_acquire(st->limit, &f);
        if (rc == 0 && (rc = acto_future_add_done_cb(f, on_permit, st)) != 0) {
            acto_future_release(f);
        }
        if (rc != 0) {
            acto__pipe_on_error(ctx, st, item, rc);
            return;
        }
        st->held = item;
        st->acquiring = f;
        (void)acto_suspend(ctx);
        return;
    }
    if (st->pend_n == st->pend_cap) {
        (void)acto_suspend(ctx); /* resumed as results go on */
    }
}

/* emit_head passes the oldest future's outcome on. */
static void
emit_head(acto_ctx *ctx, acto_stage *st, acto_future *f)
{
    acto_future_state fs = acto_future_state_of(f);
    if (fs == ACTO_FUTURE_DONE) {
        acto_msg *m = acto_future_take_result(f);
        int rc = m != NULL ? acto_emit(&st->emit, m) : ACTO_EINVAL;
        if (rc != 0) {
            acto__pipe_on_error(ctx, st, NULL, rc);
        }
        return;
    }
    const acto_error *e = acto_future_exception(f);
    int code =
        fs == ACTO_FUTURE_CANCELLED || e == NULL ? ACTO_ECANCELED : e->code;
    if (e != NULL) {
        acto_stage_fail(&st->emit, code, e->type, "%s", e->text);
    }
    acto__pipe_on_error(ctx, st, NULL, code);
}

static int
flush_as_stage(acto_ctx *ctx, void *state, void *user)
{
    (void)state;
    acto_stage *st = user;
    st->emit.ctx = ctx;
    while (st->pend_n > 0) {
        acto_future *f = st->pend[st->pend_head];
        if (!acto_future_done(f)) {
            break; /* the order of the items holds */
        }
        st->pend_head = (st->pend_head + 1) % st->pend_cap;
        st->pend_n--;
        (void)acto_semaphore_release(st->limit);
        emit_head(ctx, st, f);
        acto_future_release(f);
    }
    if (st->eos_waits && st->pend_n == 0 && st->held == NULL) {
        st->eos_waits = false;
        acto__pipe_finish(ctx, st);
    }
    return 0;
}

static void
flush_async(acto_system *sys, acto_stage *st)
{
    if (acto_call_as(sys, st->ref, &acto__pipe_stage_behaviour, flush_as_stage,
                     st) != 0) {
        return; /* stopping: its stop hook cleans up */
    }
    if (st->pend_n < st->pend_cap && st->held == NULL && !st->eos_waits) {
        (void)acto_resume(sys, st->ref);
    }
}

bool
acto__pipe_async_eos(acto_ctx *ctx, acto_stage *st)
{
    if (st->pend_n == 0 && st->held == NULL) {
        return true;
    }
    st->eos_waits = true;
    (void)acto_suspend(ctx);
    return false;
}

void
acto__pipe_async_stop(acto_stage *st)
{
    if (st->acquiring != NULL) {
        (void)acto_future_remove_done_cb(st->acquiring, on_permit, st);
        if (acto_future_cancel(st->acquiring, "pipeline stopping") ==
            ACTO_EDONE) {
            (void)acto_semaphore_release(st->limit);
        }
        acto_future_release(st->acquiring);
        st->acquiring = NULL;
    }
    acto_msg_free(st->held);
    st->held = NULL;
    while (st->pend_n > 0) {
        acto_future *f = st->pend[st->pend_head];
        st->pend_head = (st->pend_head + 1) % st->pend_cap;
        st->pend_n--;
        (void)acto_future_remove_done_cb(f, on_result, st);
        (void)acto_future_cancel(f, "pipeline stopping");
        (void)acto_semaphore_release(st->limit);
        acto_future_release(f);
    }
}
