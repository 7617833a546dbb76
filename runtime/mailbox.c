/* Mailboxes and the message path: sending, parking, taking, dead letters,
 * and running an actor's turn.
 *
 * A mailbox is an intrusive FIFO of messages with a bound, a system lane
 * that the bound never blocks, and a FIFO of parked messages waiting for
 * room. Whenever a handler takes a message from a full mailbox, the oldest
 * parked message moves in, so parked senders are served in order and a
 * non-empty park list always means a full mailbox.
 *
 * Everything a message passes through from send to handler lives in this
 * file, so the compiler can inline the whole path.
 */
#include "deliver.h"

#include <stdio.h>
#include <string.h>

static inline void
mq_push(acto__mq *q, acto_msg *m)
{
    fifo_push(&q->head, &q->tail, m);
    q->count++;
}

static inline acto_msg *
mailbox_pop(acto_actor *a)
{
    acto_msg *m = fifo_pop(&a->mb_head, &a->mb_tail);
    if (m != NULL) {
        a->mb_count--;
    }
    return m;
}

static inline uint32_t
parked_count(const acto_actor *a)
{
    return a->ext != NULL ? a->ext->parked.count : 0;
}

static inline acto_actor *
runq_pop(acto_system *sys)
{
    acto_actor *a = sys->runq_head;
    if (a != NULL) {
        sys->runq_head = a->next_run;
        if (sys->runq_head == NULL) {
            sys->runq_tail = NULL;
        }
    }
    return a;
}

void
acto__schedule(acto_actor *a)
{
    schedule(a);
}

void
acto__complete_wait(acto_system *sys, acto_msg *m, int status)
{
    if (!(m->flags & MSG_SEND_WAIT)) {
        return; /* m->wait is left over from another use */
    }
    acto__wait *w = m->wait;
    m->wait = NULL;
    m->flags &= (uint16_t)~MSG_SEND_WAIT;
    w->status = status;
    acto__list_push_back(&sys->completions, &w->link);
    acto__kick(sys);
}

/* landed accounts for a message that left a park list or the inflight
 * count: its waiting sender, actor or thread, may go on. */
void
acto__landed(acto_system *sys, acto_msg *m, int status)
{
    if (m->flags & MSG_ACTOR_PARK) {
        m->flags &= (uint16_t)~MSG_ACTOR_PARK;
        if (acto__tracing(sys) && !acto__msg_out(sys, m)) {
            acto__trace_record(sys, ACTO_TRACE_UNPARK, acto__msg_flow(m), m->id,
                               m->cause, m->sender, m->to, m->type, 0);
        }
        acto__unpark_sender(sys, m->sender);
    }
    if (m->flags & MSG_THREADSAFE) {
        m->flags &= (uint16_t)~MSG_THREADSAFE;
        atomic_fetch_sub(&sys->inflight, 1);
    }
    acto__complete_wait(sys, m, status);
}

static inline void
maybe_landed(acto_system *sys, acto_msg *m, int status)
{
    if (unlikely(m->flags & MSG_WAITED)) {
        acto__landed(sys, m, status);
    }
}

void
acto__dead_letter(acto_system *sys, acto_msg *m)
{
    sys->stats.dead_letters++;
    if (acto__tracing(sys) && !acto__msg_out(sys, m)) {
        acto__trace_record(sys, ACTO_TRACE_DEAD, acto__msg_flow(m), m->id,
                           m->cause, m->sender, m->to, m->type, 0);
    }
    if (unlikely(m->flags & MSG_ASK)) {
        acto__ask_lost(sys, m); /* the caller need not wait for a timeout */
    }
    if (sys->debug) {
        fprintf(stderr,
                "acto: dead letter: message %llu of type 0x%x to actor "
                "%u.%u\n",
                (unsigned long long)m->id, m->type, acto_ref_slot(m->to),
                acto_ref_generation(m->to));
    }
    /* A waiting sender learns why: the receiver died, or the system is
     * closing under both of them. */
    maybe_landed(sys, m, sys->closing ? ACTO_ECANCELED : ACTO_ENOACTOR);
    acto__msg_release(m);
}

static void
drop(acto_system *sys, acto_msg *m)
{
    sys->stats.dropped++;
    if (acto__tracing(sys) && !acto__msg_out(sys, m)) {
        acto__trace_record(sys, ACTO_TRACE_DROP, acto__msg_flow(m), m->id,
                           m->cause, m->sender, m->to, m->type, 0);
    }
    maybe_landed(sys, m, 0);
    acto__msg_release(m);
}

void
acto__unpark_sender(acto_system *sys, acto_ref sender)
{
    acto_actor *s = acto__lookup(sys, sender);
    if (s == NULL || s->my_parked == 0 || --s->my_parked > 0) {
        return;
    }
    s->flags &= (uint8_t)~ACTOR_PARKED;
    acto__park_timer_stop(s);
    schedule(s);
}

uint32_t
acto_mailbox_count(const acto_system *sys, acto_ref ref)
{
    acto_actor *a = sys != NULL ? acto__lookup(sys, ref) : NULL;
    return a != NULL ? a->mb_count + parked_count(a) : 0;
}

acto_msg *
acto_take_msg(acto_ctx *ctx)
{
    if (ctx == NULL) {
        return NULL;
    }
    acto_actor *a = ctx_actor(ctx);
    acto_msg *m = (acto_msg *)a->sys->current_msg;
    if (a->sys->current != a || m == NULL || a->sys->msg_taken ||
        m->type >= ACTO_MSG_SYSTEM_BASE || (m->flags & ~MSG_TAKEABLE) != 0) {
        return NULL;
    }
    /* Passed on, it goes on in its flow, sampled in or out as it was,
     * and recorded (MSG_SLOW) even if a handler of a flow sampled out
     * sends it. */
    m->flags &= MSG_TAKE_KEPT;
    a->sys->msg_taken = true; /* run_actor must not touch it again */
    return m;
}

int
acto_suspend(acto_ctx *ctx)
{
    if (ctx == NULL) {
        return ACTO_EINVAL;
    }
    ctx_actor(ctx)->flags |= ACTOR_SUSPENDED;
    return 0;
}

int
acto_resume(acto_system *sys, acto_ref ref)
{
    acto_actor *a = sys != NULL ? acto__lookup(sys, ref) : NULL;
    if (a == NULL || a->life > LIFE_RUNNING) {
        return ACTO_ENOACTOR;
    }
    if (!(a->flags & ACTOR_SUSPENDED)) {
        return ACTO_EALREADY;
    }
    a->flags &= (uint8_t)~ACTOR_SUSPENDED;
    schedule(a);
    return 0;
}

/* high_water warns, in debug mode, when a mailbox grows past the mark. */
__attribute__((noinline)) void
acto__high_water(const acto_actor *r)
{
    const char *label = r->ext != NULL ? r->ext->label : NULL;
    fprintf(stderr, "acto: mailbox of actor %u.%u%s%s passed %u messages\n",
            acto_ref_slot(r->self), acto_ref_generation(r->self),
            label != NULL ? " " : "", label != NULL ? label : "",
            r->sys->high_water);
}

/* park appends m to r's park list; an actor sender parks until it lands. */
static void
park(acto_actor *r, acto_actor *from, acto_msg *m)
{
    acto_system *sys = r->sys;
    mq_push(&r->ext->parked, m); /* bounded mailboxes have their ext */
    sys->stats.sent++;
    sys->stats.parks++;
    if (from != NULL && from->life <= LIFE_RUNNING) {
        if (acto__tracing(sys) && !acto__msg_out(sys, m)) {
            acto__trace_record(sys, ACTO_TRACE_PARK, acto__msg_flow(m), m->id,
                               m->cause, from->self, r->self, m->type, 0);
        }
        m->flags |= MSG_ACTOR_PARK;
        if (from->my_parked++ == 0) {
            from->flags |= ACTOR_PARKED;
            acto__park_timer_start(from);
        }
    }
}

/* full_mailbox applies r's overflow policy to m. */
static int
full_mailbox(acto_actor *r, acto_actor *from, acto_msg *m, enum send_mode mode)
{
    acto_system *sys = r->sys;
    switch (r->overflow) {
    case ACTO_OVERFLOW_DROP_NEWEST:
        sys->stats.sent++;
        drop(sys, m);
        return 0;
    case ACTO_OVERFLOW_DROP_OLDEST:
        drop(sys, mailbox_pop(r));
        enqueue(r, m);
        maybe_landed(sys, m, 0);
        return 0;
    case ACTO_OVERFLOW_FAIL:
        return ACTO_EQUEUEFULL;
    default:
        if (mode == SEND_OUTSIDE) {
            return ACTO_EQUEUEFULL;
        }
        park(r, from, m);
        return 0;
    }
}

static void
deliver_dead(acto_system *sys, acto_msg *m)
{
    sys->stats.sent++;
    acto__dead_letter(sys, m);
}

int
acto__deliver_slow(acto_system *sys, acto_actor *from, acto_actor *r,
                   acto_msg *m, enum send_mode mode)
{
    if (r == NULL && m->to.id == sys->ask_ref.id) {
        return acto__ask_reply(sys, m);
    }
    if (r == NULL || r->life >= LIFE_STOPPING) {
        deliver_dead(sys, m);
        return 0;
    }
    if (mode == SEND_LANE) {
        lane_push(r, m);
        sys->stats.sent++;
        schedule(r);
        return 0;
    }
    /* A self-send never waits on itself: a parked actor could never drain
     * the mailbox it waits for. */
    if (r->capacity == 0 || r->mb_count < r->capacity || r == from) {
        enqueue(r, m);
        maybe_landed(sys, m, 0);
        return 0;
    }
    return full_mailbox(r, from, m, mode);
}

int
acto__deliver_traced(acto_system *sys, acto_actor *from, acto_ref to,
                     acto_msg *m, enum send_mode mode)
{
    bool resent = m->id != 0; /* a new message's is 0 */
    m->id = ++sys->next_msg_id;
    acto_actor *r = acto__lookup(sys, to);
    acto__trace_send_to(sys, from, r, to, m, resent);
    return deliver_to(sys, from, r, m, mode);
}

int
acto__deliver(acto_system *sys, acto_actor *from, acto_ref to, acto_msg *m,
              enum send_mode mode)
{
    return deliver(sys, from, to, m, mode);
}

void
acto__deliver_or_drop(acto_system *sys, acto_ref to, acto_msg *m,
                      enum send_mode mode)
{
    /* Only a full fail-policy mailbox refuses; with no caller to hand the
     * message back to, that refusal is a counted drop, never a leak. */
    if (deliver(sys, NULL, to, m, mode) != 0) {
        sys->stats.sent++;
        drop(sys, m);
    }
}

/* take removes the next message for a's handler: the system lane first,
 * then the mailbox, letting the oldest parked message in behind it. */
static inline acto_msg *
take(acto_actor *a)
{
    if (unlikely(a->lane_head != NULL)) {
        return fifo_pop(&a->lane_head, &a->lane_tail);
    }
    acto_msg *m = mailbox_pop(a);
    if (unlikely(parked_count(a) > 0) && m != NULL) {
        acto_msg *p = mq_pop(&a->ext->parked);
        mailbox_push(a, p);
        acto__landed(a->sys, p, 0);
    }
    return m;
}

static void
dead_letter_fifo(acto_system *sys, acto_msg **head, acto_msg **tail)
{
    acto_msg *m;
    while ((m = fifo_pop(head, tail)) != NULL) {
        acto__dead_letter(sys, m);
    }
}

void
acto__discard_mailbox(acto_actor *a)
{
    dead_letter_fifo(a->sys, &a->lane_head, &a->lane_tail);
    dead_letter_fifo(a->sys, &a->mb_head, &a->mb_tail);
    a->mb_count = 0;
    if (a->ext != NULL) {
        acto__mq *p = &a->ext->parked;
        dead_letter_fifo(a->sys, &p->head, &p->tail);
        p->count = 0;
    }
}

/* ---- an actor's turn -------------------------------------------------- */

static __attribute__((noinline)) int
receive_timed(acto_actor *a, const acto_msg *m)
{
    uint64_t t0 = uv_hrtime();
    int rc = a->beh->receive(actor_ctx(a), a->state, m);
    uint64_t ns = uv_hrtime() - t0;
    /* asyncio's slow_callback_duration */
    if (ns > a->sys->slow_handler_ns) {
        const char *label = a->ext != NULL ? a->ext->label : NULL;
        fprintf(stderr,
                "acto: slow handler: actor %u.%u%s%s took %.1f ms on a "
                "message of type 0x%x\n",
                acto_ref_slot(a->self), acto_ref_generation(a->self),
                label != NULL ? " " : "", label != NULL ? label : "",
                (double)ns / 1e6, m->type);
    }
    return rc;
}

/* receive_special runs a continuation step, or a handler under debug
 * mode's stopwatch; either is a handling for tracing. */
static __attribute__((noinline)) int
receive_special(acto_actor *a, acto_msg *m)
{
    acto_system *sys = a->sys;
    bool tracing = sys->trace != NULL;
    bool traced =
        tracing && (a->flags & ACTOR_TRACED) && !acto__msg_out(sys, m);
    bool was_hot = sys->trace_hot != NULL;
    uint32_t epoch = sys->trace_epoch;
    if (tracing && (m->flags & (MSG_FLOWED | MSG_UNSAMPLED)) == MSG_FLOWED) {
        sys->trace_hot = sys->trace; /* a recorded flow: its sends too */
    }
    if (traced) {
        acto__trace_handle(sys, a, m);
    }
    int rc = 0;
    if (m->type == ACTO__MSG_THEN) {
        acto__run_then(a, m);
    } else {
        rc = sys->debug ? receive_timed(a, m)
                        : a->beh->receive(actor_ctx(a), a->state, m);
    }
    if (traced && sys->trace != NULL && sys->trace_epoch == epoch) {
        acto__trace_handled(sys, a, rc); /* the trace it began in goes on */
    }
    acto__trace_cool(sys, was_hot);
    return rc;
}

static inline void
run_actor(acto_actor *a)
{
    acto_system *sys = a->sys;
    a->flags = (uint8_t)((a->flags & ~ACTOR_QUEUED) | ACTOR_IN_HANDLER);
    sys->current = a;
    const acto_behaviour *beh = a->beh;
    bool drained = false;
    sys->turn_actor = a;

    for (uint32_t left = a->batch; left > 0;) {
        if (unlikely(a->life != LIFE_RUNNING ||
                     (a->flags & (ACTOR_PARKED | ACTOR_SUSPENDED)))) {
            break;
        }
        acto_msg *m = take(a);
        if (m == NULL) {
            drained = true;
            break;
        }
        sys->stats.handled++;
        sys->current_msg = m;
        sys->turn_left = left - 1; /* acto_take_run may take more */

        /* A flag on the message keeps continuations and sampled flows,
         * and a system flag debug timing, off the path of the others. */
        int rc = likely(!(m->flags & MSG_SLOW) && !sys->special)
                     ? beh->receive(actor_ctx(a), a->state, m)
                     : receive_special(a, m);
        left = sys->turn_left;
        sys->current_msg = NULL;
        if (unlikely(sys->turn_held > 0)) {
            acto__settle_held(a);
        }

        if (unlikely(sys->msg_taken)) {
            sys->msg_taken = false; /* the handler owns it: hands off */
            m = NULL;
        }
        if (unlikely(rc != 0)) {
            acto__fail(a, rc < 0 ? rc : ACTO_EFAILED, m);
            break;
        }
        if (likely(m != NULL)) {
            acto__msg_release(m);
        }
        if (unlikely(a->ext != NULL && a->ext->recv_timeout_ms > 0)) {
            acto__receive_rearm(a);
        }
    }
    sys->current = NULL;
    sys->turn_actor = NULL;
    sys->turn_left = 0;
    if (unlikely(a->flags & ACTOR_DRAINING)) {
        acto__drain_check(a); /* while still in the handler: no push */
    }
    a->flags &= (uint8_t)~ACTOR_IN_HANDLER;
    if (likely(drained && a->life == LIFE_RUNNING)) {
        return; /* nothing left to schedule it for */
    }
    if (unlikely(a->life == LIFE_STOPPING)) {
        acto__push_dying(a);
    } else {
        schedule(a);
    }
}

/* Turns between two looks at the clock. */
#define TURNS_PER_CLOCK_CHECK 64

void
acto__run_queue(acto_system *sys, uint64_t deadline)
{
    unsigned turns = 0;
    acto_actor *a;
    if (acto__tracing(sys)) {
        acto__trace_run_begins(sys);
    }
    while ((a = runq_pop(sys)) != NULL) {
        run_actor(a);
        if (unlikely(++turns % TURNS_PER_CLOCK_CHECK == 0)) {
            if (acto__tracing(sys)) {
                acto__trace_between_turns(sys);
            }
            if (uv_hrtime() >= deadline) {
                break;
            }
        }
    }
}

/* ---- sending ---------------------------------------------------------- */

static inline __attribute__((always_inline)) int
send_from(acto_actor *a, acto_ref to, acto_msg *m)
{
    acto_system *sys = a->sys;
    if (unlikely(sys->current != a)) {
        return ACTO_EINVAL;
    }
    if (unlikely(sys->closing)) {
        return ACTO_ECLOSED;
    }
    m->sender = a->self;
    m->cause = sys->current_msg != NULL ? sys->current_msg->id : 0;
    /* A recorded flow's message (one a handler held on to) is recorded
     * wherever it is sent from. */
    const struct acto__trace *t = sys->trace_hot;
    if (unlikely(m->flags & MSG_SLOW)) {
        t = sys->trace;
    }
    return deliver_as(sys, t, a, to, m, SEND_FROM_ACTOR);
}

int
acto_send(acto_ctx *ctx, acto_ref to, acto_msg *m)
{
    if (ctx == NULL || m == NULL) {
        return ACTO_EINVAL;
    }
    return send_from(ctx_actor(ctx), to, m);
}

/* new_bytes builds a bytes message on the fast path. */
static inline int
new_bytes(acto_system *sys, uint32_t type, const void *data, size_t len,
          acto_msg **out)
{
    if (unlikely(len > ACTO_MSG_INLINE || type >= ACTO_MSG_SYSTEM_BASE ||
                 (data == NULL && len > 0))) {
        return acto_msg_new_bytes(sys, type, data, len, out);
    }
    acto_msg *m = acto__msg_alloc(sys);
    if (unlikely(m == NULL)) {
        return ACTO_ENOMEM;
    }
    acto__msg_fill_inline(m, type, data, len);
    *out = m;
    return 0;
}

int
acto_tell(acto_ctx *ctx, acto_ref to, uint32_t type, const void *data,
          size_t len)
{
    if (ctx == NULL) {
        return ACTO_EINVAL;
    }
    acto_actor *a = ctx_actor(ctx);
    acto_msg *m;
    int rc = new_bytes(a->sys, type, data, len, &m);
    if (rc != 0) {
        return rc;
    }
    rc = send_from(a, to, m);
    if (unlikely(rc != 0)) {
        acto__msg_release(m);
    }
    return rc;
}

int
acto_reply(acto_ctx *ctx, uint32_t type, const void *data, size_t len)
{
    if (ctx == NULL) {
        return ACTO_EINVAL;
    }
    acto_actor *a = ctx_actor(ctx);
    const acto_msg *req = a->sys->current == a ? a->sys->current_msg : NULL;
    if (req == NULL || acto_ref_is_none(req->sender)) {
        return ACTO_ENOACTOR;
    }
    acto_msg *m;
    int rc = new_bytes(a->sys, type, data, len, &m);
    if (rc != 0) {
        return rc;
    }
    m->correlation = req->correlation;
    if ((req->flags & MSG_ASK) && !a->sys->closing) {
        /* Straight to the waiting future: the ask ref names no actor, so
         * the send path would only find that out the slow way. */
        acto_system *sys = a->sys;
        m->sender = a->self;
        m->cause = req->id;
        m->to = req->sender;
        m->id = ++sys->next_msg_id;
        return acto__ask_reply(sys, m);
    }
    rc = send_from(a, req->sender, m);
    if (rc != 0) {
        acto__msg_release(m);
    }
    return rc;
}

static int
outside_send(acto_system *sys, acto_ref to, acto_msg *m, enum send_mode mode)
{
    if (sys == NULL || m == NULL) {
        return ACTO_EINVAL;
    }
    if (sys->closing) {
        return ACTO_ECLOSED;
    }
    m->sender = ACTO_REF_NONE;
    m->cause = 0;
    return deliver(sys, NULL, to, m, mode);
}

int
acto_system_send(acto_system *sys, acto_ref to, acto_msg *m)
{
    return outside_send(sys, to, m, SEND_OUTSIDE);
}

int
acto_system_send_wait(acto_system *sys, acto_ref to, acto_msg *m,
                      acto_send_cb cb, void *user)
{
    if (cb == NULL || m == NULL) {
        return ACTO_EINVAL;
    }
    acto__wait *w = acto__malloc(sizeof(*w));
    if (w == NULL) {
        return ACTO_ENOMEM;
    }
    *w = (acto__wait){.cb = cb, .user = user};
    acto__list_init(&w->link);
    m->wait = w;
    m->flags |= MSG_SEND_WAIT;
    int rc = outside_send(sys, to, m, SEND_OUTSIDE_WAIT);
    if (rc != 0) {
        m->wait = NULL;
        m->flags &= (uint16_t)~MSG_SEND_WAIT;
        acto__free(w, sizeof(*w));
    }
    return rc;
}
