/* Asks: request/reply through a future.
 *
 * An ask registers its future in the system's ask table; the slot and its
 * generation are the request's correlation id, and the request's sender is
 * the system's ask ref, which no actor owns: the reply (acto_reply) is
 * caught on its way there and completes the future, without a lookup
 * table or a message to a broker actor. Timeouts are the future's own
 * wheel entry; a request that dies (dead letter, failed handler) fails the
 * ask at once.
 */
#include "deliver.h"

/* ---- asks ------------------------------------------------------------- */

static uint64_t
correlation_of(uint32_t slot, uint32_t gen)
{
    return ((uint64_t)gen << 32) | slot;
}

static acto_future *
ask_of(const acto_system *sys, uint64_t correlation)
{
    return acto__slots_get(&sys->asks, (uint32_t)correlation,
                           (uint32_t)(correlation >> 32));
}

/* The ask behind the message being handled, if it is one and still
 * pending. */
static acto_future *
current_ask(const acto_ctx *ctx, bool *is_ask)
{
    const acto_actor *a = ctx_actor(ctx);
    const acto_msg *m = a->sys->current == a ? a->sys->current_msg : NULL;
    *is_ask = m != NULL && (m->flags & MSG_ASK);
    return *is_ask ? ask_of(a->sys, m->correlation) : NULL;
}

bool
acto_request_cancelled(const acto_ctx *ctx)
{
    bool is_ask;
    acto_future *f = current_ask(ctx, &is_ask);
    return is_ask && (f == NULL || f->state != ACTO_FUTURE_PENDING);
}

uint64_t
acto_request_deadline(const acto_ctx *ctx)
{
    bool is_ask;
    acto_future *f = current_ask(ctx, &is_ask);
    if (!is_ask) {
        return UINT64_MAX;
    }
    /* An ask already gone has no time left. */
    return f != NULL ? f->deadline : acto__now(ctx_actor(ctx)->sys);
}

/* inherited_deadline is the deadline of the ask being handled, if any:
 * acto_request_deadline for the running actor, without its detours, since
 * every ask pays for it. */
static uint64_t
inherited_deadline(acto_system *sys)
{
    const acto_msg *m = sys->current != NULL ? sys->current_msg : NULL;
    if (m == NULL || !(m->flags & MSG_ASK)) {
        return UINT64_MAX;
    }
    acto_future *f = ask_of(sys, m->correlation);
    return f != NULL ? f->deadline : acto__now(sys);
}

static int
register_ask(acto_system *sys, acto_future *f, uint64_t timeout_ms,
             uint64_t *correlation)
{
    uint32_t slot, gen;
    int rc = acto__slots_add(&sys->asks, f, &slot, &gen);
    if (rc != 0) {
        return rc;
    }
    f->flags |= FUT_ASK;
    f->ask_slot = slot;
    /* Without a timeout of its own, an ask reads no clock. */
    uint64_t deadline = UINT64_MAX;
    if (timeout_ms > 0) {
        uint64_t now = acto__now(sys);
        if (timeout_ms < UINT64_MAX - now) {
            deadline = now + timeout_ms;
        }
    }
    uint64_t inherited = inherited_deadline(sys);
    f->deadline = inherited < deadline ? inherited : deadline;
    if (f->deadline != UINT64_MAX) {
        f->timer.kind = HOOK_ASK;
        acto__wheel_entry_init(&f->timer.entry);
        acto__wheel_add(&sys->wheel, &f->timer.entry, f->deadline);
        acto__timers_added(sys, f->deadline);
    }
    *correlation = correlation_of(slot, gen);
    return 0;
}

int
acto_ask_at(acto_system *sys, acto_ref to, acto_msg *req, uint64_t timeout_ms,
            acto_future **out, const char *file, int line)
{
    if (sys == NULL || req == NULL || out == NULL) {
        return ACTO_EINVAL;
    }
    acto_future *f;
    int rc = acto_future_new_at(sys, &f, file, line);
    if (rc != 0) {
        return rc;
    }
    uint64_t correlation;
    if ((rc = register_ask(sys, f, timeout_ms, &correlation)) != 0) {
        acto_future_release(f);
        return rc;
    }
    req->correlation = correlation;
    req->flags |= MSG_ASK;
    req->sender = sys->ask_ref;
    req->cause = sys->current_msg != NULL ? sys->current_msg->id : 0;
    /* An ask never parks its caller: the request waits on a full mailbox
     * like an outside send, bounded by the ask's deadline. */
    rc = deliver(sys, NULL, to, req, SEND_OUTSIDE_WAIT);
    if (rc != 0) {
        /* A full fail-policy mailbox refuses: the request goes back to
         * the caller as it came, and the ask never existed. */
        req->flags &= (uint16_t)~MSG_ASK;
        req->correlation = 0;
        req->sender = ACTO_REF_NONE;
        acto_future_release(f);
        return rc;
    }
    *out = f;
    return 0;
}

static void
free_reply(void *ptr, void *user)
{
    (void)user;
    acto__msg_release(ptr);
}

/* trace_reply records a reply to an ask as a send to the ask ref, unless
 * the send path did (a reply sent the slow way), and lets the future it
 * resolves have the reply as its cause: the reply stands for the message
 * being handled while the future completes. Returns what to restore. */
static const acto_msg *
trace_reply(acto_system *sys, acto_msg *m)
{
    const acto_msg *cur = sys->current_msg;
    if (!(m->flags & MSG_FLOWED)) {
        acto__trace_send(sys, sys->current, m->to, m);
    }
    sys->current_msg = m;
    return cur;
}

int
acto__ask_reply(acto_system *sys, acto_msg *m)
{
    sys->stats.sent++;
    const acto_msg *cur = NULL;
    bool tracing = acto__tracing(sys);
    if (tracing) {
        cur = trace_reply(sys, m);
    }
    acto_future *f = ask_of(sys, m->correlation);
    if (f == NULL || f->state != ACTO_FUTURE_PENDING) {
        sys->stats.late_replies++;
        sys->stats.dropped++;
        if (tracing && acto__traced(sys, sys->current) &&
            acto__msg_sampled(m)) {
            acto__trace_record(sys, ACTO_TRACE_DROP, acto__msg_flow(m), m->id,
                               m->cause, m->sender, m->to, m->type, 0);
        }
        acto__msg_release(m);
    } else {
        sys->stats.handled++; /* its handler is the future */
        m->flags &= (uint16_t)~MSG_ASK;
        acto_future_set_result(f, m, free_reply, NULL);
    }
    if (tracing) {
        sys->current_msg = cur;
    }
    return 0;
}

void
acto__ask_failed(acto_system *sys, const acto_msg *req, const acto_error *e)
{
    acto_future *f = ask_of(sys, req->correlation);
    if (f != NULL && f->state == ACTO_FUTURE_PENDING &&
        acto_future_set_exception(f, e) != 0) {
        acto__ask_lost(sys, req);
    }
}

void
acto__ask_lost(acto_system *sys, const acto_msg *req)
{
    acto_future *f = ask_of(sys, req->correlation);
    if (f != NULL && f->state == ACTO_FUTURE_PENDING) {
        acto_future_set_error(f, ACTO_ENOACTOR, "NoActor",
                              "the actor asked stopped or never existed");
    }
}

void
acto__ask_traced(acto_system *sys, const acto_msg *req)
{
    acto_future *f = ask_of(sys, req->correlation);
    if (f != NULL) {
        acto__trace_ask_request(f, req);
    }
}

void
acto__ask_timeout(acto__hook *h)
{
    acto_future *f = acto__container_of(h, acto_future, timer);
    acto_future_set_error(f, ACTO_ETIMEDOUT, "TimeoutError",
                          "no reply before the ask's deadline");
}

void
acto__asks_cancel_all(acto_system *sys)
{
    for (uint32_t i = 0; i < sys->asks.fresh; i++) {
        acto_future *f = sys->asks.v[i].ptr;
        if (f != NULL) {
            acto_future_cancel(f, "the system closed");
        }
    }
}
