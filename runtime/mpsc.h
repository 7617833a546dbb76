/* An intrusive multi-producer single-consumer queue (Dmitry Vyukov's
 * non-blocking node queue) with a wake-up protocol for a sleeping consumer.
 *
 * Any thread may push; one consumer thread pops. Nodes are embedded in the
 * caller's objects and the stub node lives inside the queue, so nothing is
 * ever allocated. A push is wait-free: one exchange of the producers' end and
 * one store that links the node behind its predecessor. Between those two
 * steps the node is "in flight": it, the node before it and every node
 * after it are queued but not reachable, so pop returns NULL although the
 * queue is not empty.
 *
 * The wake-up protocol. The queue holds a "sleeping" flag, set by the
 * consumer before it goes to sleep and taken (exchanged back to false) by the
 * first push that finds it set; that push returns true and its caller must
 * wake the consumer (uv_async_send). A push looks at the flag only after it
 * has linked its node, so a consumer that sleeps while a push is in flight is
 * woken by that very push once the node is reachable. The consumer's side of
 * the contract, for every wake-up:
 *
 *     for (;;) {
 *         acto__mpsc_node *n;
 *         while ((n = acto__mpsc_pop(q)) != NULL) {
 *             handle(acto__container_of(n, msg, node));
 *         }
 *         if (acto__mpsc_drain_done(q)) {
 *             break; // sleep until the next wake-up
 *         }
 *     }
 *
 * Guarantee: if the consumer follows that loop, every pushed node is popped.
 * When acto__mpsc_drain_done returns true, no node is reachable, the next
 * push to look at the flag returns true, and every push still in flight
 * looks at the flag only after linking its node. So a node left in the queue
 * is always followed by a wake-up after which it is reachable: at least one
 * push of each batch the consumer has not seen returns true. Wake-ups may be
 * spurious (a drain finds nothing); they are never missing. The consumer may
 * stop a drain early (to bound a loop turn) only if it runs the loop again
 * without waiting for a wake-up.
 */
#ifndef ACTO__MPSC_H
#define ACTO__MPSC_H

#include <stdatomic.h>
#include <stdbool.h>

/* The link embedded in each queued object; find the object again with
 * acto__container_of. A node may be pushed again once pop has returned it. */
typedef struct acto__mpsc_node {
    _Atomic(struct acto__mpsc_node *) next;
} acto__mpsc_node;

/* Producers' fields first, then the consumer's; the stub is written by
 * both. All fields are private to mpsc.c. */
typedef struct acto__mpsc {
    _Atomic(acto__mpsc_node *) head; /* newest node; producers exchange it */
    atomic_bool sleeping;            /* consumer asleep; first push takes it */
    acto__mpsc_node stub;            /* keeps the list non-empty */
    acto__mpsc_node *tail;           /* oldest node or the stub; consumer */
} acto__mpsc;

/* acto__mpsc_init makes q an empty queue whose consumer is asleep, so the
 * first push returns true. Returns nothing. Ownership: q is the caller's
 * storage; the queue never frees anything and needs no fini (it may be
 * discarded once no producer can push and the nodes left in it have been
 * dealt with). Thread: before q is shared with any other thread. */
void acto__mpsc_init(acto__mpsc *q);

/* acto__mpsc_push appends n behind every node already pushed; nodes pushed
 * by one thread pop in the order that thread pushed them. Wait-free.
 * Returns true when the consumer may be asleep: the caller must then wake it
 * (for instance with uv_async_send); false means a wake-up is already due or
 * the consumer is still draining and will see n. Ownership: n stays the
 * caller's memory but belongs to the queue until pop returns it; it must
 * not be in this or another queue. Thread: any. */
bool acto__mpsc_push(acto__mpsc *q, acto__mpsc_node *n);

/* acto__mpsc_pop removes the oldest reachable node. Returns it, or NULL when
 * the queue is empty or the next node's push is still in flight (the pusher
 * then wakes the consumer once it completes, see acto__mpsc_drain_done).
 * Ownership: the returned node goes back to the caller, who may push it
 * again. Thread: the consumer only. */
acto__mpsc_node *acto__mpsc_pop(acto__mpsc *q);

/* acto__mpsc_drain_done is the consumer's last step after pop returned NULL:
 * it marks the consumer asleep, then checks whether pop could make progress
 * after all. Returns true when the consumer may sleep until a push returns
 * true; false when it must pop again (the queue then counts it as awake, so
 * pushes return false until it next finishes). Ownership: none moves.
 * Thread: the consumer only. */
bool acto__mpsc_drain_done(acto__mpsc *q);

#endif /* ACTO__MPSC_H */
