/* The intrusive MPSC queue: Vyukov's node queue plus a sleeping flag.
 *
 * The nodes form a singly linked list from q->tail (oldest, consumer's end)
 * to q->head (newest, producers' end). The stub keeps that list from ever
 * being empty: when the consumer takes the last real node it pushes the stub
 * behind it, and skips the stub whenever it reaches it.
 *
 * Why the consumer never sleeps on a node it could pop. Four kinds of access
 * are sequentially consistent, so they fall into one total order S: the
 * exchange of q->head, the store that links a node, every access to the
 * sleeping flag, and the loads drain_done makes after setting the flag.
 * Suppose drain_done stores sleeping = true (call that store C), finds
 * nothing to pop, and the consumer then sleeps for good. Any push whose look
 * at the flag comes after C in S would take it and return true, so there is
 * none: every push looked at the flag, and therefore linked its node and
 * exchanged q->head, before C. drain_done's loads come after C, so they see
 * every link and the newest head; seeing them, it reports nothing to pop only
 * when every node has been popped. Hence each node is popped before the
 * consumer's last sleep. A push in flight when drain_done runs is not a
 * problem: its look at the flag, being after its link, comes after C.
 *
 * The plain acquire loads in pop need no place in S: when they see a link too
 * late, pop returns NULL early and drain_done's loads decide.
 */
#include "mpsc.h"

#include <stddef.h>

void
acto__mpsc_init(acto__mpsc *q)
{
    atomic_init(&q->stub.next, NULL);
    atomic_init(&q->head, &q->stub);
    atomic_init(&q->sleeping, true);
    q->tail = &q->stub;
}

/* Appends n: after the exchange n is queued but unreachable (in flight)
 * until the store links it behind its predecessor. The release half of
 * both makes n's contents, and n->next's reset, visible to the consumer. */
static void
append(acto__mpsc *q, acto__mpsc_node *n)
{
    atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
    acto__mpsc_node *prev =
        atomic_exchange_explicit(&q->head, n, memory_order_seq_cst);
    atomic_store_explicit(&prev->next, n, memory_order_seq_cst);
}

bool
acto__mpsc_push(acto__mpsc *q, acto__mpsc_node *n)
{
    append(q, n);
    /* Only after the link, so that a consumer which went to sleep while n
     * was in flight is woken now that n is reachable. The load first keeps
     * the flag's cache line shared while the consumer is awake, which is
     * when pushes are frequent. */
    if (!atomic_load_explicit(&q->sleeping, memory_order_seq_cst)) {
        return false;
    }
    return atomic_exchange_explicit(&q->sleeping, false, memory_order_seq_cst);
}

acto__mpsc_node *
acto__mpsc_pop(acto__mpsc *q)
{
    acto__mpsc_node *tail = q->tail;
    acto__mpsc_node *next =
        atomic_load_explicit(&tail->next, memory_order_acquire);
    if (tail == &q->stub) {
        if (next == NULL) {
            return NULL;
        }
        q->tail = next;
        tail = next;
        next = atomic_load_explicit(&next->next, memory_order_acquire);
    }
    if (next != NULL) {
        q->tail = next;
        return tail;
    }
    /* tail is the newest node we can see. Returning it needs a successor
     * to become the new tail: if a push is in flight behind tail, wait for
     * its link; if tail is the newest node, the stub becomes its successor. */
    if (tail != atomic_load_explicit(&q->head, memory_order_acquire)) {
        return NULL;
    }
    append(q, &q->stub);
    /* A push may have slipped in before the stub; then its link is due. */
    next = atomic_load_explicit(&tail->next, memory_order_acquire);
    if (next == NULL) {
        return NULL;
    }
    q->tail = next;
    return tail;
}

/* Whether pop would return a node, judged with loads that follow the
 * consumer's store of the sleeping flag in S (see the top of the file). */
static bool
can_pop(acto__mpsc *q)
{
    acto__mpsc_node *tail = q->tail;
    if (atomic_load_explicit(&tail->next, memory_order_seq_cst) != NULL) {
        return true;
    }
    return tail != &q->stub &&
           atomic_load_explicit(&q->head, memory_order_seq_cst) == tail;
}

bool
acto__mpsc_drain_done(acto__mpsc *q)
{
    atomic_store_explicit(&q->sleeping, true, memory_order_seq_cst);
    if (!can_pop(q)) {
        return true;
    }
    /* Awake again: take the flag back so pushes stop asking for wake-ups.
     * If a push took it first, its wake-up will merely find nothing. */
    atomic_store_explicit(&q->sleeping, false, memory_order_seq_cst);
    return false;
}
