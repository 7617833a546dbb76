/* Timers on the system's wheel: send-after, send-every, receive timeouts
 * and send timeouts. One uv_timer_t is armed for the wheel's next due time
 * (none with virtual time, where acto_system_advance drives the wheel), so
 * a pending timer costs its record, not a libuv handle. */
#include "internal.h"

static void
free_timer(acto_system *sys, acto__timer *t)
{
    acto__wheel_remove(&sys->wheel, &t->hook.entry);
    acto__slots_remove(&sys->timers, t->slot);
    if (t->msg != NULL) {
        acto__msg_release(t->msg);
    }
    acto__free(t, sizeof(*t));
}

/* fire_timer sends the timer's message (a copy for an interval timer). */
static void
fire_timer(acto_system *sys, acto__timer *t, uint64_t due)
{
    if (t->call != NULL) {
        acto_call_fn call = t->call;
        void *user = t->user;
        free_timer(sys, t);
        call(sys, user);
        return;
    }
    if (acto__tracing(sys) && !acto__msg_out(sys, t->msg)) {
        acto__trace_record(sys, ACTO_TRACE_TIMER_FIRE, acto__msg_flow(t->msg),
                           t->msg->id, t->msg->cause, t->msg->sender, t->to,
                           t->msg->type, 0);
        t->msg->cause = t->msg->id; /* the send it makes follows the fire */
    }
    if (t->interval == 0) {
        acto_msg *m = t->msg;
        t->msg = NULL;
        free_timer(sys, t);
        acto__deliver_or_drop(sys, m->to, m, SEND_OUTSIDE_WAIT);
        return;
    }
    if (!acto_alive(sys, t->to)) {
        free_timer(sys, t); /* an interval ends with its receiver */
        return;
    }
    acto_msg *copy;
    if (acto__msg_clone(t->msg, &copy) == 0) {
        copy->sender = t->msg->sender;
        acto__deliver_or_drop(sys, t->to, copy, SEND_OUTSIDE_WAIT);
    }
    /* Fixed rate: the next due time follows the schedule, not the delay
     * of this firing. */
    acto__wheel_add(&sys->wheel, &t->hook.entry, due + t->interval);
}

static void
fire_receive_timeout(acto_actor *a)
{
    acto_msg *m = acto__msg_alloc(a->sys);
    if (m != NULL) {
        m->type = ACTO_MSG_RECEIVE_TIMEOUT;
        acto__deliver(a->sys, NULL, a->self, m, SEND_LANE);
    }
}

static void
fire_send_timeout(acto_actor *a)
{
    if (a->life != LIFE_RUNNING || a->my_parked == 0) {
        return;
    }
    acto_system *sys = a->sys;
    acto__error_unref(sys->pending);
    sys->pending = acto__error_new(ACTO_ETIMEDOUT, "SendTimeout",
                                   "a send waited too long for room", a->self);
    acto__fail(a, ACTO_ETIMEDOUT, NULL);
}

static void
on_expire(acto__wheel_entry *e, void *user)
{
    acto_system *sys = user;
    acto__hook *h = acto__container_of(e, acto__hook, entry);
    switch (h->kind) {
    case HOOK_TIMER:
        fire_timer(sys, acto__container_of(h, acto__timer, hook), e->due);
        break;
    case HOOK_ASK:
        acto__ask_timeout(h);
        break;
    case HOOK_CALLOUT: {
        acto__callout *c = acto__container_of(h, acto__callout, hook);
        c->fire(c);
        break;
    }
    case HOOK_RECEIVE:
        fire_receive_timeout(
            acto__container_of(h, acto__actor_ext, recv_timer)->owner);
        break;
    default:
        fire_send_timeout(
            acto__container_of(h, acto__actor_ext, park_timer)->owner);
        break;
    }
}

static void
on_timer(uv_timer_t *timer)
{
    acto_system *sys = timer->data;
    sys->armed_due = UINT64_MAX;
    acto__timers_fire(sys);
}

static void
arm_at(acto_system *sys, uint64_t due)
{
    uint64_t now = uv_now(sys->loop);
    uv_timer_start(&sys->timer, on_timer, due > now ? due - now : 0, 0);
    sys->armed_due = due;
}

static void
disarm(acto_system *sys)
{
    if (sys->armed_due != UINT64_MAX) {
        uv_timer_stop(&sys->timer);
        sys->armed_due = UINT64_MAX;
    }
}

/* The libuv timer is armed for a time no later than the wheel's earliest
 * entry: adding an earlier entry brings it forward, removing entries
 * leaves it (a wake-up that finds nothing due re-arms exactly), and only
 * an empty wheel stops it, so the loop can end. This keeps next_due, which
 * may rescan a slot, off the path of every add and removal: it runs once
 * per wake-up. */
void
acto__timers_arm(acto_system *sys)
{
    uint64_t due;
    if (sys->virtual_time || sys->closing ||
        !acto__wheel_next_due(&sys->wheel, &due)) {
        disarm(sys);
        return;
    }
    if (due != sys->armed_due) {
        arm_at(sys, due);
    }
}

void
acto__timers_added(acto_system *sys, uint64_t due)
{
    if (!sys->virtual_time && !sys->closing && due < sys->armed_due) {
        arm_at(sys, due);
    }
}

void
acto__timers_removed(acto_system *sys)
{
    if (acto__wheel_count(&sys->wheel) == 0) {
        disarm(sys);
    }
}

void
acto__timers_advance(acto_system *sys, uint64_t to)
{
    /* Step from due time to due time: an interval timer re-added by one
     * expire call fires on the next, so one long jump still delivers every
     * interval it covers, each at its own time. */
    uint64_t due;
    while (acto__wheel_next_due(&sys->wheel, &due) && due <= to) {
        if (due > sys->vnow) {
            sys->vnow = due;
        }
        acto__wheel_expire(&sys->wheel, sys->vnow, on_expire, sys);
    }
    sys->vnow = to;
}

void
acto__timers_fire(acto_system *sys)
{
    acto__wheel_expire(&sys->wheel, acto__now(sys), on_expire, sys);
    acto__timers_arm(sys);
}

/* trace_timer_set records a timer set: its message gets an id now (a
 * timer's message is the flow's next step), and the delay. */
static void
trace_timer_set(acto_system *sys, acto_msg *m, uint64_t delay)
{
    const acto_msg *cur = sys->current_msg;
    m->id = ++sys->next_msg_id;
    m->cause = cur != NULL ? cur->id : 0;
    uint64_t f = cur != NULL ? acto__msg_flow(cur) : 0;
    m->flow = f != 0 ? f : m->id;
    m->flags |= MSG_FLOWED;
    if (cur != NULL && acto__msg_out(sys, cur)) {
        m->flags |= MSG_UNSAMPLED; /* its flow is not recorded */
        return;
    }
    acto__trace_record(sys, ACTO_TRACE_TIMER_SET, acto__msg_flow(m), m->id,
                       m->cause, m->sender, m->to, m->type,
                       delay > UINT32_MAX ? UINT32_MAX : (uint32_t)delay);
}

/* add_timer schedules a timer record after delay. */
static int
add_timer(acto_system *sys, uint64_t delay, uint64_t interval, acto_ref to,
          acto_msg *m, uint64_t *id, acto__timer **made)
{
    if (sys == NULL) {
        return ACTO_EINVAL;
    }
    if (sys->closing) {
        return ACTO_ECLOSED;
    }
    acto__timer *t = acto__malloc(sizeof(*t));
    if (t == NULL) {
        return ACTO_ENOMEM;
    }
    uint32_t gen;
    if (acto__slots_add(&sys->timers, t, &t->slot, &gen) != 0) {
        acto__free(t, sizeof(*t));
        return ACTO_ENOMEM;
    }
    t->hook.kind = HOOK_TIMER;
    acto__wheel_entry_init(&t->hook.entry);
    t->msg = m;
    t->to = to;
    t->interval = interval;
    t->call = NULL;
    if (m != NULL) {
        m->to = to;
        m->sender = sys->current != NULL ? sys->current->self : ACTO_REF_NONE;
        if (acto__tracing(sys)) {
            trace_timer_set(sys, m, delay);
        }
    }
    acto__wheel_add(&sys->wheel, &t->hook.entry, acto__now(sys) + delay);
    acto__timers_added(sys, t->hook.entry.due);
    if (id != NULL) {
        *id = ((uint64_t)gen << 32) | t->slot;
    }
    if (made != NULL) {
        *made = t;
    }
    return 0;
}

int
acto_send_after(acto_system *sys, uint64_t delay_ms, acto_ref to, acto_msg *m,
                uint64_t *id)
{
    if (m == NULL) {
        return ACTO_EINVAL;
    }
    return add_timer(sys, delay_ms, 0, to, m, id, NULL);
}

int
acto_call_after(acto_system *sys, uint64_t delay_ms, acto_call_fn fn,
                void *user, uint64_t *id)
{
    if (fn == NULL) {
        return ACTO_EINVAL;
    }
    acto__timer *t = NULL;
    int rc = add_timer(sys, delay_ms, 0, ACTO_REF_NONE, NULL, id, &t);
    if (rc == 0) {
        t->call = fn;
        t->user = user;
    }
    return rc;
}

int
acto_send_every(acto_system *sys, uint64_t interval_ms, acto_ref to,
                acto_msg *m, uint64_t *id)
{
    if (interval_ms == 0 || m == NULL ||
        (m->kind != ACTO_PAYLOAD_BYTES && m->kind != ACTO_PAYLOAD_MSGPACK)) {
        return ACTO_EINVAL;
    }
    return add_timer(sys, interval_ms, interval_ms, to, m, id, NULL);
}

int
acto_timer_cancel(acto_system *sys, uint64_t id)
{
    if (sys == NULL) {
        return ACTO_EINVAL;
    }
    acto__timer *t =
        acto__slots_get(&sys->timers, (uint32_t)id, (uint32_t)(id >> 32));
    if (t == NULL) {
        return ACTO_ENOTFOUND;
    }
    free_timer(sys, t);
    acto__timers_removed(sys);
    return 0;
}

void
acto__timers_fini(acto_system *sys)
{
    for (uint32_t i = 0; i < sys->timers.fresh; i++) {
        acto__timer *t = sys->timers.v[i].ptr;
        if (t != NULL) {
            free_timer(sys, t);
        }
    }
}

/* ---- callouts -------------------------------------------------------- */

void
acto__callout_init(acto__callout *c, void (*fire)(acto__callout *c))
{
    c->hook.kind = HOOK_CALLOUT;
    acto__wheel_entry_init(&c->hook.entry);
    c->fire = fire;
}

void
acto__callout_start(acto_system *sys, acto__callout *c, uint64_t delay_ms)
{
    uint64_t now = acto__now(sys);
    uint64_t due = delay_ms < UINT64_MAX - now ? now + delay_ms : UINT64_MAX;
    acto__wheel_add(&sys->wheel, &c->hook.entry, due);
    acto__timers_added(sys, due);
}

void
acto__callout_stop(acto_system *sys, acto__callout *c)
{
    if (acto__wheel_entry_pending(&c->hook.entry)) {
        acto__wheel_remove(&sys->wheel, &c->hook.entry);
        acto__timers_removed(sys);
    }
}

/* ---- per-actor timeouts ----------------------------------------------- */

void
acto__receive_rearm(acto_actor *a)
{
    acto_system *sys = a->sys;
    acto__actor_ext *x = a->ext;
    acto__wheel_add(&sys->wheel, &x->recv_timer.entry,
                    acto__now(sys) + x->recv_timeout_ms);
    acto__timers_added(sys, x->recv_timer.entry.due);
}

int
acto_set_receive_timeout(acto_ctx *ctx, uint64_t ms)
{
    if (ctx == NULL) {
        return ACTO_EINVAL;
    }
    acto_actor *a = ctx_actor(ctx);
    if (a->sys->current != a) {
        return ACTO_EINVAL;
    }
    acto__actor_ext *x = acto__ext(a);
    if (x == NULL) {
        return ACTO_ENOMEM;
    }
    x->recv_timeout_ms = ms;
    if (ms == 0) {
        acto__wheel_remove(&a->sys->wheel, &x->recv_timer.entry);
        acto__timers_removed(a->sys);
    } else {
        acto__receive_rearm(a);
    }
    return 0;
}

void
acto__park_timer_start(acto_actor *a)
{
    acto__actor_ext *x = a->ext;
    if (x == NULL || x->send_timeout_ms == 0) {
        return;
    }
    acto_system *sys = a->sys;
    acto__wheel_add(&sys->wheel, &x->park_timer.entry,
                    acto__now(sys) + x->send_timeout_ms);
    acto__timers_added(sys, x->park_timer.entry.due);
}

void
acto__park_timer_stop(acto_actor *a)
{
    acto__actor_ext *x = a->ext;
    if (x != NULL && acto__wheel_entry_pending(&x->park_timer.entry)) {
        acto__wheel_remove(&a->sys->wheel, &x->park_timer.entry);
        acto__timers_removed(a->sys);
    }
}
