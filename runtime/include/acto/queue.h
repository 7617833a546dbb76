/* acto_queue: asyncio.Queue in C, bound to a libuv loop.
 *
 * A queue of void * items with asyncio's semantics: FIFO, LIFO or priority
 * order; an optional maxsize; put/get that complete later through a callback
 * when the queue is full/empty; task_done/join; and shutdown as in Python
 * 3.13. Waiting putters and getters are served in the order they arrived.
 *
 * Requests. A put, get or join that may have to wait takes an acto_queue_req
 * owned by the caller (as libuv's requests are): the queue links it while
 * it is pending and never allocates for it. The req must stay valid and
 * untouched from the call until its callback starts; inside the callback
 * and afterwards it may be reused or freed.
 *
 * The callback contract. When a call returns an error its callback never
 * runs. When it returns 0 the callback runs exactly once, from the loop and
 * never from inside the call that started it: with 0 on success, or with
 * ACTO_ECANCELED (acto_queue_cancel, acto_queue_close), ACTO_ESHUTDOWN
 * (acto_queue_shutdown) or ACTO_ENOMEM (a put that could not grow the
 * queue's storage when its turn came).
 *
 * Like asyncio, a put or get is only granted its item or slot when its
 * callback is about to run. So cancelling a request never loses or
 * duplicates an item: a cancelled put inserts nothing, and an item a
 * cancelled getter was about to receive stays at the front of the queue for
 * the next getter.
 *
 * Thread: every function here must be called on the loop's thread.
 */
#ifndef ACTO_QUEUE_H
#define ACTO_QUEUE_H

#include <acto/detail.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

typedef struct acto_queue acto_queue;
typedef struct acto_queue_req acto_queue_req;

typedef enum acto_queue_kind {
    ACTO_QUEUE_FIFO = 0, /* first in, first out (asyncio.Queue) */
    ACTO_QUEUE_LIFO,     /* last in, first out (asyncio.LifoQueue) */
    ACTO_QUEUE_PRIORITY  /* lowest first by cmp; FIFO among equals */
} acto_queue_kind;

/* Orders items of a priority queue: negative when a goes before b, 0 when
 * they tie (ties leave in the order they were put), positive otherwise. */
typedef int (*acto_queue_cmp_fn)(const void *a, const void *b, void *user);

/* Receives an item the queue throws away: one still queued at an
 * immediate shutdown or at close. The item becomes the callee's. */
typedef void (*acto_queue_discard_fn)(void *item, void *user);

/* Completes a put, get or join. status is 0 or a negative ACTO_E* code.
 * item: for a get, the item received (NULL on failure), now the callee's;
 * for a put, the item that was put (on failure it is still the caller's);
 * for a join, NULL. user is the pointer given to the call. */
typedef void (*acto_queue_cb)(acto_queue *q, int status, void *item,
                              void *user);

/* Called once a closed queue is torn down; q is freed when it returns. */
typedef void (*acto_queue_close_cb)(acto_queue *q, void *user);

typedef struct acto_queue_opts {
    acto_queue_kind kind;          /* default ACTO_QUEUE_FIFO */
    size_t maxsize;                /* 0: unbounded */
    acto_queue_cmp_fn cmp;         /* required for ACTO_QUEUE_PRIORITY */
    acto_queue_discard_fn discard; /* optional; see acto_queue_discard_fn */
    void *user;                    /* passed to cmp and discard */
} acto_queue_opts;

/* A pending put, get or join. Allocate it anywhere (stack, struct, pool);
 * acto initialises it. Its fields are private. */
struct acto_queue_req {
    acto__link link_;
    acto_queue *queue_;
    acto_queue_cb cb_;
    void *user_;
    void *item_;
    int op_;
    int state_;
    int status_;
};

/* acto_queue_alloc creates a queue on loop. opts may be NULL (an unbounded
 * FIFO queue).
 * Returns 0 and sets *out; ACTO_EINVAL for a NULL loop or out, an unknown
 * kind, or a priority queue without cmp; ACTO_ENOMEM; or a libuv error.
 * Ownership: the queue is the caller's until acto_queue_close; *opts is
 * copied. The queue keeps one libuv handle on loop, active only while
 * callbacks are due, so close the queue before closing the loop.
 * Thread: loop thread. */
int acto_queue_alloc(uv_loop_t *loop, const acto_queue_opts *opts,
                     acto_queue **out);

/* acto_queue_close tears q down. Every pending request completes with
 * ACTO_ECANCELED, items still queued go to opts.discard (or are forgotten
 * when there is none), then cb runs (cb may be NULL) and q is freed.
 * Returns 0, or ACTO_ECLOSED if q is already closing.
 * Ownership: q must not be used after cb starts. Calls made while it
 * closes fail with ACTO_ECLOSED.
 * Thread: loop thread. */
int acto_queue_close(acto_queue *q, acto_queue_close_cb cb, void *user);

/* acto_queue_put_nowait adds item if there is room (asyncio's put_nowait).
 * Returns 0; ACTO_EQUEUEFULL when the queue is at maxsize; ACTO_ESHUTDOWN
 * after acto_queue_shutdown; ACTO_ENOMEM when its storage cannot grow;
 * ACTO_ECLOSED while closing. On error nothing changes.
 * Ownership: on success the queue holds item until a get hands it out; on
 * error item stays with the caller.
 * Thread: loop thread. */
int acto_queue_put_nowait(acto_queue *q, void *item);

/* acto_queue_get_nowait removes the next item into *item.
 * Returns 0; ACTO_EQUEUEEMPTY when there is none; ACTO_ESHUTDOWN when the
 * queue is shut down and empty; ACTO_ECLOSED while closing. On error
 * nothing changes and *item is untouched.
 * Ownership: the item becomes the caller's.
 * Thread: loop thread. */
int acto_queue_get_nowait(acto_queue *q, void **item);

/* acto_queue_put adds item once there is room, waiting behind earlier
 * putters (asyncio's await put()). cb reports the outcome.
 * Returns 0 (cb will run); ACTO_ESHUTDOWN; ACTO_ECLOSED; ACTO_EINVAL for a
 * NULL req or cb. On error cb never runs.
 * Ownership: item moves to the queue only when cb reports 0.
 * Thread: loop thread. */
int acto_queue_put(acto_queue *q, acto_queue_req *req, void *item,
                   acto_queue_cb cb, void *user);

/* acto_queue_get removes the next item once there is one, waiting behind
 * earlier getters (asyncio's await get()). cb receives the item.
 * Returns 0 (cb will run); ACTO_ESHUTDOWN when shut down and empty;
 * ACTO_ECLOSED; ACTO_EINVAL for a NULL req or cb. On error cb never runs.
 * Ownership: the item passed to cb with status 0 is the callee's.
 * Thread: loop thread. */
int acto_queue_get(acto_queue *q, acto_queue_req *req, acto_queue_cb cb,
                   void *user);

/* acto_queue_join completes when every item ever put has been marked done
 * by acto_queue_task_done (asyncio's await join()); at once (still through
 * cb) when none is unfinished.
 * Returns 0 (cb will run); ACTO_ECLOSED; ACTO_EINVAL for a NULL req or cb.
 * Thread: loop thread. */
int acto_queue_join(acto_queue *q, acto_queue_req *req, acto_queue_cb cb,
                    void *user);

/* acto_queue_cancel cancels a pending put, get or join: its callback runs
 * with ACTO_ECANCELED, and nothing is inserted or removed on its behalf.
 * Returns 0; ACTO_EBUSY when the request's outcome is already decided and
 * its callback is about to run; ACTO_EINVAL when req is not pending.
 * Ownership: req stays the caller's and must stay valid until its
 * callback starts.
 * Thread: loop thread. */
int acto_queue_cancel(acto_queue_req *req);

/* acto_queue_task_done marks one item as processed (asyncio's task_done).
 * Returns 0, or ACTO_EINVAL (changing nothing) when called more times than
 * items were put. When the count of unfinished items reaches zero every
 * pending join completes.
 * Thread: loop thread. */
int acto_queue_task_done(acto_queue *q);

/* acto_queue_shutdown shuts q down as Python 3.13's Queue.shutdown: puts
 * fail with ACTO_ESHUTDOWN from now on and waiting putters complete with
 * it; gets drain what is left and then fail with ACTO_ESHUTDOWN, waiting
 * getters included. With immediate, the remaining items are removed (passed
 * to opts.discard), the unfinished count drops by as many so join can
 * complete, and every waiting getter completes with ACTO_ESHUTDOWN.
 * Calling it again is allowed (immediate may follow a draining shutdown).
 * Returns 0, or ACTO_ECLOSED while closing.
 * Thread: loop thread. */
int acto_queue_shutdown(acto_queue *q, bool immediate);

/* Observers (asyncio's qsize, empty, full, maxsize), plus the count of
 * items put and not yet marked done, the shutdown flag and the loop.
 * Returns the value; they never fail. Ownership: none moves.
 * Thread: loop thread. */
size_t acto_queue_qsize(const acto_queue *q);
bool acto_queue_empty(const acto_queue *q);
bool acto_queue_full(const acto_queue *q); /* false when unbounded */
size_t acto_queue_maxsize(const acto_queue *q);
size_t acto_queue_unfinished(const acto_queue *q);
bool acto_queue_is_shutdown(const acto_queue *q);
uv_loop_t *acto_queue_loop(const acto_queue *q);

#endif /* ACTO_QUEUE_H */
