/* The inline fast path of message delivery, shared by the files that send
 * on the hot path (mailbox.c, ask.c, future.c): a running receiver with
 * room and nobody waiting on the message. Everything else goes to
 * acto__deliver_slow in mailbox.c. Private to the runtime.
 */
#ifndef ACTO__DELIVER_H
#define ACTO__DELIVER_H

#include "internal.h"

/* Flags that make a message's arrival matter to someone waiting
 * (MSG_SEND_WAIT: an outside sender's callback, m->wait). */
#define MSG_WAITED (MSG_THREADSAFE | MSG_ACTOR_PARK | MSG_SEND_WAIT)

/* Message FIFOs are a head and a tail pointer; the mailbox keeps its own
 * count beside them. */
static inline void
fifo_push(acto_msg **head, acto_msg **tail, acto_msg *m)
{
    m->next = NULL;
    if (*tail != NULL) {
        (*tail)->next = m;
    } else {
        *head = m;
    }
    *tail = m;
}

static inline acto_msg *
fifo_pop(acto_msg **head, acto_msg **tail)
{
    acto_msg *m = *head;
    if (m != NULL) {
        *head = m->next;
        if (*head == NULL) {
            *tail = NULL;
        }
    }
    return m;
}

static inline acto_msg *
mq_pop(acto__mq *q)
{
    acto_msg *m = fifo_pop(&q->head, &q->tail);
    if (m != NULL) {
        q->count--;
    }
    return m;
}

static inline void
mailbox_push(acto_actor *a, acto_msg *m)
{
    fifo_push(&a->mb_head, &a->mb_tail, m);
    a->mb_count++;
}

static inline void
lane_push(acto_actor *a, acto_msg *m)
{
    fifo_push(&a->lane_head, &a->lane_tail, m);
}

static inline void
runq_push(acto_system *sys, acto_actor *a)
{
    a->next_run = NULL;
    if (sys->runq_tail != NULL) {
        sys->runq_tail->next_run = a;
    } else {
        sys->runq_head = a;
    }
    sys->runq_tail = a;
}

/* Always inlined: with deliver split in two, GCC's LTO otherwise calls it
 * out of line from every send (+4% instructions in ping-pong). */
static inline __attribute__((always_inline)) void
schedule(acto_actor *a)
{
    if ((a->flags &
         (ACTOR_QUEUED | ACTOR_IN_HANDLER | ACTOR_PARKED | ACTOR_SUSPENDED)) ||
        a->life != LIFE_RUNNING) {
        return;
    }
    if (a->mb_count == 0 && a->lane_head == NULL) {
        return;
    }
    a->flags |= ACTOR_QUEUED;
    runq_push(a->sys, a);
    acto__kick(a->sys);
}

/* In mailbox.c: the slow path, the debug-mode high-water report, and the
 * accounting of a message that left a park list (its sender goes on). */
int acto__deliver_slow(acto_system *sys, acto_actor *from, acto_actor *r,
                       acto_msg *m, enum send_mode mode);
void acto__high_water(const acto_actor *r);
void acto__landed(acto_system *sys, acto_msg *m, int status);

/* In mailbox.c: number and deliver a message whose send is recorded (or
 * starts a flow): apart, and called last, so that deliver keeps no
 * register across the trace call. */
int acto__deliver_traced(acto_system *sys, acto_actor *from, acto_ref to,
                         acto_msg *m, enum send_mode mode);

/* In runs.c: after a handler that took runs, ends their count in the
 * mailbox and lets parked messages in as they fit. */
void acto__settle_held(acto_actor *a);

static inline void
enqueue(acto_actor *r, acto_msg *m)
{
    mailbox_push(r, m);
    r->sys->stats.sent++;
    if (unlikely(r->sys->debug) && r->mb_count == r->sys->high_water + 1) {
        acto__high_water(r);
    }
    schedule(r);
}

/* deliver_to puts m, addressed and numbered, in the mailbox (or the
 * lane) of r, its receiver looked up (NULL: none): the fast path when r
 * runs and has room and nobody waits on the message, else the slow one. */
static inline int
deliver_to(acto_system *sys, acto_actor *from, acto_actor *r, acto_msg *m,
           enum send_mode mode)
{
    if (likely(r != NULL && r->life == LIFE_RUNNING &&
               !(m->flags & MSG_WAITED))) {
        if (mode == SEND_LANE) { /* replies, continuations, notices */
            lane_push(r, m);
            sys->stats.sent++;
            schedule(r);
            return 0;
        }
        if (r->capacity == 0 || r->mb_count < r->capacity) {
            enqueue(r, m);
            return 0;
        }
    }
    return acto__deliver_slow(sys, from, r, m, mode);
}

/* deliver_as is acto__deliver's fast path, inlined into the sends of
 * this file; t is the trace it looks at: sys->trace, or sys->trace_hot
 * for a handler's send. */
static inline __attribute__((always_inline)) int
deliver_as(acto_system *sys, const struct acto__trace *t, acto_actor *from,
           acto_ref to, acto_msg *m, enum send_mode mode)
{
    m->to = to;
    if (ACTO_TRACING && unlikely(t != NULL)) {
        const acto_msg *cur = sys->current_msg;
        if (cur != NULL && acto__msg_out(sys, cur) &&
            !(m->flags & (MSG_FLOWED | MSG_ASK))) {
            /* Sampled out: nothing is recorded, now or for what it
             * causes, so its flow id is never read: a flag suffices. */
            m->flags |= MSG_FLOWED | MSG_UNSAMPLED;
        } else {
            return acto__deliver_traced(sys, from, to, m, mode);
        }
    }
    m->id = ++sys->next_msg_id;
    return deliver_to(sys, from, acto__lookup(sys, to), m, mode);
}

static inline int
deliver(acto_system *sys, acto_actor *from, acto_ref to, acto_msg *m,
        enum send_mode mode)
{
    return deliver_as(sys, sys->trace, from, to, m, mode);
}

#endif /* ACTO__DELIVER_H */
