/* The system: its loop handles, the scheduler, the clock and closing.
 *
 * One loop turn of the scheduler, from the idle handle, in phases:
 *   1. completions: callbacks of outside senders whose wait is decided;
 *   2. actors: run queue turns until it is empty or the time slice is
 *      spent (each turn handles at most the actor's batch);
 *   3. reap: finalize actors marked as stopping, outside any handler.
 * The idle handle is active only while one of those has work, so an idle
 * system lets the loop sleep; timers and thread-safe sends wake it.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_SLICE_US 1000
#define DEFAULT_TS_CAPACITY 65536

uint64_t
acto__now(const acto_system *sys)
{
    return sys->virtual_time ? sys->vnow : uv_now(sys->loop);
}

uint64_t
acto_system_now(const acto_system *sys)
{
    return acto__now(sys);
}

static void
default_exception(acto_system *sys, const acto_error *e, void *user)
{
    (void)sys;
    (void)user;
    fprintf(stderr, "acto: unhandled failure in actor %u.%u: %s: %s (%s)\n",
            acto_ref_slot(e->origin), acto_ref_generation(e->origin), e->type,
            e->text, acto_err_name(e->code));
}

void
acto__report_exception(acto_system *sys, const acto_error *e)
{
    sys->on_exception(sys, e, sys->exception_user);
}

void
acto_system_set_exception_handler(acto_system *sys, acto_exception_fn fn,
                                  void *user)
{
    sys->on_exception = fn != NULL ? fn : default_exception;
    sys->exception_user = fn != NULL ? user : NULL;
}

/* ---- the scheduler ---------------------------------------------------- */

static void
run_completions(acto_system *sys)
{
    acto__link *l;
    while ((l = acto__list_first(&sys->completions)) != NULL) {
        acto__wait *w = acto__container_of(l, acto__wait, link);
        acto__list_remove(l);
        acto_send_cb cb = w->cb;
        void *user = w->user;
        int status = w->status;
        acto__free(w, sizeof(*w));
        cb(sys, status, user);
    }
}

static void
reap(acto_system *sys)
{
    acto_actor *a;
    while ((a = sys->dying) != NULL) {
        sys->dying = a->next_run;
        acto__finalize(a);
    }
}

static void finish_close(acto_system *sys);

static bool
has_work(const acto_system *sys)
{
    return sys->runq_head != NULL || sys->dying != NULL ||
           !acto__list_empty(&sys->completions) ||
           !acto__list_empty(&sys->ready_futures);
}

void
acto__on_idle(uv_idle_t *idle)
{
    acto_system *sys = idle->data;
    uint64_t deadline = uv_hrtime() + sys->slice_ns;
    unsigned rounds = 0;
    /* The phases feed each other (a reply completes a future, whose
     * callback wakes an actor), so go round until nothing is left or the
     * slice is spent: a request/reply must not cost a loop iteration. The
     * clock is read every few rounds, since a round can be very short. */
    do {
        run_completions(sys);
        acto__futures_run(sys);
        acto__run_queue(sys, deadline);
        reap(sys);
        if (acto__tracing(sys)) {
            acto__trace_round_end(sys);
        }
        if (!has_work(sys)) {
            uv_idle_stop(&sys->idle);
            sys->idle_on = false;
            if (sys->closing) {
                finish_close(sys);
            }
            return;
        }
    } while (++rounds % 16 != 0 || uv_hrtime() < deadline);
}

/* ---- thread-safe sends ------------------------------------------------ */

static void
deliver_inbox(acto_system *sys)
{
    acto__mpsc_node *n;
    for (;;) {
        while ((n = acto__mpsc_pop(&sys->inbox)) != NULL) {
            acto_msg *m = acto__container_of(n, acto_msg, node);
            m->sys = sys;
            acto__deliver_or_drop(sys, m->to, m, SEND_OUTSIDE_WAIT);
        }
        if (acto__mpsc_drain_done(&sys->inbox)) {
            return;
        }
    }
}

static void
on_async(uv_async_t *async)
{
    acto_system *sys = async->data;
    deliver_inbox(sys);
    /* A send from the loop's own thread referenced the handle so the loop
     * would not end before delivering it; what it delivered now keeps the
     * loop alive through the scheduler. */
    if (!sys->keep_alive) {
        uv_unref((uv_handle_t *)&sys->async);
    }
}

void
acto_system_set_keep_alive(acto_system *sys, bool on)
{
    sys->keep_alive = on;
    if (on) {
        uv_ref((uv_handle_t *)&sys->async);
    } else {
        uv_unref((uv_handle_t *)&sys->async);
    }
}

int
acto_send_threadsafe(acto_system *sys, acto_ref to, uint32_t type,
                     const void *data, size_t len)
{
    if (sys == NULL || (data == NULL && len > 0) || len > UINT32_MAX ||
        type >= ACTO_MSG_SYSTEM_BASE) {
        return ACTO_EINVAL;
    }
    if (atomic_load(&sys->ts_closed)) {
        return ACTO_ECLOSED;
    }
    if (atomic_fetch_add(&sys->inflight, 1) >= sys->ts_capacity) {
        atomic_fetch_sub(&sys->inflight, 1);
        return ACTO_EQUEUEFULL;
    }
    /* Built here, not from the loop's pool, which only the loop touches. */
    acto_msg *m = acto__malloc(sizeof(*m));
    void *copy = len > ACTO_MSG_INLINE ? acto__malloc(len) : NULL;
    if (m == NULL || (len > ACTO_MSG_INLINE && copy == NULL)) {
        acto__free(m, sizeof(*m));
        atomic_fetch_sub(&sys->inflight, 1);
        return ACTO_ENOMEM;
    }
    memset(m, 0, sizeof(*m));
    m->type = type;
    m->kind = ACTO_PAYLOAD_BYTES;
    m->flags = MSG_THREADSAFE;
    m->len = (uint32_t)len;
    m->to = to;
    if (copy != NULL) {
        memcpy(copy, data, len);
        m->u.data = copy;
        m->flags |= MSG_HEAP_DATA;
    } else {
        if (len > 0) {
            memcpy(m->u.bytes, data, len);
        }
        m->flags |= MSG_INLINE;
    }
    uv_thread_t self = uv_thread_self();
    if (uv_thread_equal(&self, &sys->loop_thread)) {
        uv_ref((uv_handle_t *)&sys->async); /* see on_async */
    }
    if (acto__mpsc_push(&sys->inbox, &m->node)) {
        uv_async_send(&sys->async);
    }
    return 0;
}

/* ---- lifecycle -------------------------------------------------------- */

static bool
env_debug(void)
{
    const char *v = getenv("ACTO_DEBUG");
    return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

static void
init_fields(acto_system *sys, const acto_system_opts *o)
{
    sys->shard = o->shard;
    sys->virtual_time = o->virtual_time;
    sys->debug = o->debug || env_debug();
    sys->special = sys->debug;
    sys->slow_handler_ns =
        (uint64_t)(o->slow_handler_ms ? o->slow_handler_ms : 100) * 1000000u;
    sys->high_water = o->mailbox_high_water ? o->mailbox_high_water : 10000;
    sys->slice_ns =
        (uint64_t)(o->slice_us ? o->slice_us : DEFAULT_SLICE_US) * 1000u;
    sys->ts_capacity =
        o->threadsafe_capacity ? o->threadsafe_capacity : DEFAULT_TS_CAPACITY;
    sys->on_exception = default_exception;
    sys->armed_due = UINT64_MAX;
    sys->loop_thread = uv_thread_self();
    acto__slots_init(&sys->actors, 0xFFFFFFu);
    acto__slabs_init(sys);
    acto__slots_init(&sys->timers, 0xFFFFFFFFu);
    acto__list_init(&sys->completions);
    acto__list_init(&sys->ready_futures);
    acto__list_init(&sys->watched);
    acto__slots_init(&sys->asks, 0xFFFFFFFFu);
    /* Slot UINT32_MAX with generation 0 never names an actor. */
    sys->ask_ref = (acto_ref){((uint64_t)o->shard << 56) | UINT32_MAX};
    acto__mpsc_init(&sys->inbox);
    atomic_init(&sys->inflight, 0);
    atomic_init(&sys->ts_closed, false);
}

/* open_handles adds the system's three handles to its loop, unreferenced
 * so an idle system does not keep the loop alive by itself. */
static int
open_handles(acto_system *sys)
{
    int rc = uv_idle_init(sys->loop, &sys->idle);
    if (rc != 0) {
        return rc;
    }
    sys->handles_open++;
    sys->idle.data = sys;
    if ((rc = uv_timer_init(sys->loop, &sys->timer)) != 0) {
        return rc;
    }
    sys->handles_open++;
    sys->timer.data = sys;
    if ((rc = uv_async_init(sys->loop, &sys->async, on_async)) != 0) {
        return rc;
    }
    sys->handles_open++;
    sys->async.data = sys;
    uv_unref((uv_handle_t *)&sys->async);
    return 0;
}

static void
free_system(acto_system *sys)
{
    acto_system_close_cb cb = sys->close_cb;
    void *user = sys->close_user;
    acto__pool_fini(sys);
    acto__slabs_fini(sys);
    acto__futures_fini(sys);
    acto__slots_fini(&sys->actors);
    acto__slots_fini(&sys->timers);
    acto__slots_fini(&sys->asks);
    acto__registry_fini(sys);
    acto__type_names_fini(sys);
    if (cb != NULL) {
        cb(sys, user);
    }
    /* Futures may outlive the system (a result read after close): the
     * struct stays, with its pools drained and closed, until the last one
     * is released. */
    if (sys->live_futures > 0) {
        sys->zombie = true;
        sys->pool_size = ACTO__POOL_MAX;
        return;
    }
    acto__free(sys, sizeof(*sys));
}

void
acto__system_future_gone(acto_system *sys)
{
    if (--sys->live_futures == 0 && sys->zombie) {
        acto__free(sys, sizeof(*sys));
    }
}

static void
on_handle_closed(uv_handle_t *h)
{
    acto_system *sys = h->data;
    if (--sys->handles_open == 0) {
        free_system(sys);
    }
}

static void
close_handles(acto_system *sys)
{
    uv_handle_t *hs[3] = {(uv_handle_t *)&sys->idle, (uv_handle_t *)&sys->timer,
                          (uv_handle_t *)&sys->async};
    unsigned n = sys->handles_open;
    if (n == 0) {
        free_system(sys);
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        uv_close(hs[i], on_handle_closed);
    }
}

int
acto_system_alloc(const acto_system_opts *opts, acto_system **out)
{
    static const acto_system_opts defaults = {0};
    const acto_system_opts *o = opts != NULL ? opts : &defaults;
    if (out == NULL) {
        return ACTO_EINVAL;
    }
    acto_system *sys = acto__calloc(1, sizeof(*sys));
    if (sys == NULL) {
        return ACTO_ENOMEM;
    }
    init_fields(sys, o);
    int rc = acto__futures_init(sys);
    if (rc != 0) {
        acto__futures_fini(sys);
        acto__free(sys, sizeof(*sys));
        return rc;
    }
    if (o->loop != NULL) {
        sys->loop = o->loop;
    } else if ((sys->loop = acto__malloc(sizeof(uv_loop_t))) == NULL) {
        rc = ACTO_ENOMEM;
    } else if ((rc = uv_loop_init(sys->loop)) != 0) {
        acto__free(sys->loop, sizeof(uv_loop_t));
    } else {
        sys->owns_loop = true;
    }
    if (rc == 0) {
        acto__wheel_init(&sys->wheel, acto__now(sys));
        rc = open_handles(sys);
        if (rc != 0) {
            sys->closing = true;
            close_handles(sys); /* frees sys once the loop closes them */
            return rc;
        }
        *out = sys;
        acto__trace_from_env(sys);
        return 0;
    }
    acto__futures_fini(sys);
    acto__free(sys, sizeof(*sys));
    return rc;
}

int
acto_system_run(acto_system *sys)
{
    if (sys->closing) {
        return ACTO_ECLOSED;
    }
    uv_run(sys->loop, UV_RUN_DEFAULT);
    return 0;
}

void
acto_system_stop(acto_system *sys)
{
    uv_stop(sys->loop);
}

uv_loop_t *
acto_system_loop(const acto_system *sys)
{
    return sys->loop;
}

bool
acto_system_debug(const acto_system *sys)
{
    return sys->debug;
}

void
acto_system_set_debug(acto_system *sys, bool on)
{
    sys->debug = on;
    sys->special = on;
}

void
acto_system_stats(const acto_system *sys, acto_stats *out)
{
    *out = sys->stats;
    out->futures = sys->live_futures;
    /* Counted from the mailboxes themselves, so the identity sent =
     * handled + dead letters + dropped + queued checks the other counters
     * instead of restating them. */
    out->queued = 0;
    for (uint32_t i = 0; i < sys->actors.fresh; i++) {
        const acto_actor *a = sys->actors.v[i].ptr;
        if (a == NULL) {
            continue;
        }
        out->queued += a->mb_count;
        for (const acto_msg *m = a->lane_head; m != NULL; m = m->next) {
            out->queued++;
        }
        if (a->ext != NULL) {
            out->queued += a->ext->parked.count;
        }
    }
}

uint64_t
acto_dead_letters(const acto_system *sys)
{
    return sys->stats.dead_letters;
}

int
acto_system_advance(acto_system *sys, uint64_t ms)
{
    if (!sys->virtual_time) {
        return ACTO_EINVAL;
    }
    acto__timers_advance(sys, sys->vnow + ms);
    return 0;
}

/* stop_all finalizes every actor with reason shutdown, then whatever the
 * stop hooks started. */
static void
stop_all(acto_system *sys)
{
    for (uint32_t i = 0; i < sys->actors.fresh; i++) {
        acto_actor *a = sys->actors.v[i].ptr;
        if (a != NULL && a->life == LIFE_RUNNING) {
            acto__mark_stopping(a, ACTO_EXIT_SHUTDOWN);
        }
    }
    reap(sys);
}

/* finish_close runs once nothing is left to run: it cancels the waits still
 * open and closes the handles. */
static void
finish_close(acto_system *sys)
{
    if (uv_is_closing((uv_handle_t *)&sys->idle)) {
        return;
    }
    if (sys->trace != NULL) {
        (void)acto_trace_stop(sys); /* every stop recorded: flushed, closed */
    }
    close_handles(sys);
}

static int
begin_close(acto_system *sys, acto_system_close_cb cb, void *user)
{
    if (sys->closing) {
        return ACTO_ECLOSED;
    }
    if (sys->current != NULL) {
        return ACTO_EINVAL;
    }
    sys->closing = true;
    sys->close_cb = cb;
    sys->close_user = user;
    atomic_store(&sys->ts_closed, true);
    deliver_inbox(sys); /* they become dead letters or queue up, then go */
    stop_all(sys);
    acto__asks_cancel_all(sys);
    acto__watched_cancel_all(sys);
    acto__timers_fini(sys);
    uv_timer_stop(&sys->timer);
    sys->armed_due = UINT64_MAX;
    /* The idle turn runs the completions left and then closes. */
    acto__kick(sys);
    return 0;
}

int
acto_system_close(acto_system *sys, acto_system_close_cb cb, void *user)
{
    if (sys == NULL) {
        return ACTO_EINVAL;
    }
    if (sys->owns_loop) {
        return ACTO_EINVAL;
    }
    return begin_close(sys, cb, user);
}

int
acto_system_free(acto_system *sys)
{
    if (sys == NULL || !sys->owns_loop) {
        return ACTO_EINVAL;
    }
    uv_loop_t *loop = sys->loop;
    int rc = begin_close(sys, NULL, NULL);
    if (rc != 0) {
        return rc;
    }
    uv_run(loop, UV_RUN_DEFAULT); /* runs until the handles are closed */
    rc = uv_loop_close(loop);
    acto__free(loop, sizeof(*loop));
    return rc;
}
