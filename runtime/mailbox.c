/* Mailboxes: delivering, parking, taking and dead-lettering messages.
 *
 * A mailbox is an intrusive FIFO of messages with a bound, a system lane
 * that the bound never blocks, and a FIFO of parked messages waiting for
 * room. Whenever a handler takes a message from a full mailbox, the oldest
 * parked message moves in, so parked senders are served in order and a
 * non-empty park list always means a full mailbox.
 */
#include "internal.h"

#include <stdio.h>

static inline void
mq_push(acto__mq *q, acto_msg *m)
{
    m->next = NULL;
    if (q->tail != NULL) {
        q->tail->next = m;
    } else {
        q->head = m;
    }
    q->tail = m;
    q->count++;
}

static inline acto_msg *
mq_pop(acto__mq *q)
{
    acto_msg *m = q->head;
    if (m != NULL) {
        q->head = m->next;
        if (q->head == NULL) {
            q->tail = NULL;
        }
        q->count--;
    }
    return m;
}

void
acto__schedule(acto_actor *a)
{
    if ((a->flags & (ACTOR_QUEUED | ACTOR_IN_HANDLER | ACTOR_PARKED)) ||
        a->life != LIFE_RUNNING) {
        return;
    }
    if (a->mailbox.count == 0 && a->lane.count == 0) {
        return;
    }
    a->flags |= ACTOR_QUEUED;
    acto__list_push_back(&a->sys->runq, &a->run_link);
    acto__kick(a->sys);
}

void
acto__complete_wait(acto_system *sys, acto_msg *m, int status)
{
    acto__wait *w = m->wait;
    if (w == NULL) {
        return;
    }
    m->wait = NULL;
    w->status = status;
    acto__list_push_back(&sys->completions, &w->link);
    acto__kick(sys);
}

/* landed accounts for a message that left a park list or the inflight
 * count: its waiting sender, actor or thread, may go on. */
static void
landed(acto_system *sys, acto_msg *m, int status)
{
    if (m->flags & MSG_ACTOR_PARK) {
        m->flags &= (uint8_t)~MSG_ACTOR_PARK;
        acto__unpark_sender(sys, m->sender);
    }
    if (m->flags & MSG_THREADSAFE) {
        m->flags &= (uint8_t)~MSG_THREADSAFE;
        atomic_fetch_sub(&sys->inflight, 1);
    }
    acto__complete_wait(sys, m, status);
}

void
acto__dead_letter(acto_system *sys, acto_msg *m)
{
    sys->stats.dead_letters++;
    if (sys->debug) {
        fprintf(stderr,
                "acto: dead letter: message %llu of type 0x%x to actor "
                "%u.%u\n",
                (unsigned long long)m->id, m->type, acto_ref_slot(m->to),
                acto_ref_generation(m->to));
    }
    landed(sys, m, ACTO_ENOACTOR);
    acto__msg_release(m);
}

static void
drop(acto_system *sys, acto_msg *m)
{
    sys->stats.dropped++;
    landed(sys, m, 0);
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
    acto__schedule(s);
}

static void
enqueue(acto_actor *r, acto_msg *m)
{
    mq_push(&r->mailbox, m);
    r->sys->stats.queued++;
    acto__schedule(r);
}

/* park appends m to r's park list; an actor sender parks until it lands. */
static void
park(acto_actor *r, acto_actor *from, acto_msg *m)
{
    acto_system *sys = r->sys;
    mq_push(&r->parked, m);
    sys->stats.queued++;
    sys->stats.parks++;
    if (from != NULL && from->life <= LIFE_RUNNING) {
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
    case ACTO_OVERFLOW_DROP_OLDEST: {
        acto_msg *old = mq_pop(&r->mailbox);
        sys->stats.queued--;
        drop(sys, old);
        sys->stats.sent++;
        enqueue(r, m);
        return 0;
    }
    case ACTO_OVERFLOW_FAIL:
        return ACTO_EQUEUEFULL;
    default:
        if (mode == SEND_OUTSIDE) {
            return ACTO_EQUEUEFULL;
        }
        sys->stats.sent++;
        park(r, from, m);
        return 0;
    }
}

int
acto__deliver(acto_system *sys, acto_actor *from, acto_ref to, acto_msg *m,
              enum send_mode mode)
{
    m->to = to;
    m->id = ++sys->next_msg_id;
    acto_actor *r = acto__lookup(sys, to);
    if (unlikely(r == NULL || r->life >= LIFE_STOPPING)) {
        sys->stats.sent++;
        acto__dead_letter(sys, m);
        return 0;
    }
    if (mode == SEND_LANE) {
        sys->stats.sent++;
        mq_push(&r->lane, m);
        sys->stats.queued++;
        acto__schedule(r);
        return 0;
    }
    /* A self-send never waits on itself: a parked actor could never drain
     * the mailbox it waits for. */
    if (likely(r->capacity == 0 || r->mailbox.count < r->capacity ||
               r == from)) {
        sys->stats.sent++;
        enqueue(r, m);
        landed(sys, m, 0);
        return 0;
    }
    return full_mailbox(r, from, m, mode);
}

acto_msg *
acto__take(acto_actor *a)
{
    acto_msg *m = mq_pop(&a->lane);
    if (m == NULL) {
        m = mq_pop(&a->mailbox);
        if (m == NULL) {
            return NULL;
        }
        acto_msg *p = mq_pop(&a->parked);
        if (unlikely(p != NULL)) {
            mq_push(&a->mailbox, p);
            landed(a->sys, p, 0);
        }
    }
    a->sys->stats.queued--;
    return m;
}

static void
dead_letter_all(acto_system *sys, acto__mq *q)
{
    acto_msg *m;
    while ((m = mq_pop(q)) != NULL) {
        sys->stats.queued--;
        acto__dead_letter(sys, m);
    }
}

void
acto__discard_mailbox(acto_actor *a)
{
    dead_letter_all(a->sys, &a->lane);
    dead_letter_all(a->sys, &a->mailbox);
    dead_letter_all(a->sys, &a->parked);
}
