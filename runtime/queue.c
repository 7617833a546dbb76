/* acto_queue: asyncio.Queue on a libuv loop.
 *
 * Items live in a ring (FIFO, LIFO) or a binary heap (priority). Waiting
 * requests sit on three intrusive lists (getters, putters, joiners). When an
 * item or a slot becomes available the first waiter is "woken": moved to the
 * ready list, to be granted its item or slot when its callback is about to
 * run. Requests whose outcome is already decided (cancelled, shut down,
 * joined) wait on the same ready list. A uv_idle_t, active only while the
 * ready list is non-empty, runs the callbacks, so no callback ever runs
 * inside the call that started it.
 */
#include <acto/error.h>
#include <acto/queue.h>

#include "alloc.h"
#include "list.h"

#include <stdint.h>
#include <string.h>

/* Callbacks run per idle turn before the loop polls for I/O again. */
#define DISPATCH_BUDGET 1024
#define MIN_CAPACITY 16

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

enum req_op { OP_GET = 1, OP_PUT, OP_JOIN };

enum req_state {
    REQ_IDLE = 0, /* not pending */
    REQ_WAITING,  /* on getters, putters or joiners */
    REQ_WOKEN,    /* on ready; item or slot granted when dispatched */
    REQ_DONE      /* on ready; status decided */
};

typedef struct heap_entry {
    void *item;
    uint64_t seq; /* put order, so equal priorities leave FIFO */
} heap_entry;

struct acto_queue {
    uv_idle_t idle; /* runs the ready list; its data is the queue */
    acto_queue_opts opts;
    union {
        void **ring;      /* FIFO and LIFO */
        heap_entry *heap; /* PRIORITY */
    } buf;
    size_t put_limit;  /* count at which puts fail: maxsize, SIZE_MAX when
                          unbounded, 0 once shut down or closing */
    size_t fast_limit; /* count below which put_nowait takes the fast path:
                          min(put_limit, cap) for a ring, 0 for a heap */
    size_t cap;        /* slots in buf; a power of two for the ring */
    size_t mask;       /* cap - 1, for ring indices */
    /* Items are at ring[head & mask] .. ring[(tail - 1) & mask]; the
     * indices run free, so head is written only by gets and tail only by
     * puts. A heap keeps head at 0 and tail at its item count. */
    size_t head;
    size_t tail;
    uint64_t next_seq;
    size_t unfinished;
    size_t woken_getters; /* woken getters each expect one item */
    size_t woken_putters; /* woken putters each expect one slot */
    acto__link getters;
    acto__link putters;
    acto__link joiners;
    acto__link ready;
    bool shutdown;
    bool closing;
    acto_queue_close_cb close_cb;
    void *close_user;
};

static inline size_t
count(const acto_queue *q)
{
    return q->tail - q->head;
}

static size_t
entry_size(const acto_queue *q)
{
    return q->opts.kind == ACTO_QUEUE_PRIORITY ? sizeof(heap_entry)
                                               : sizeof(void *);
}

/* update_limits recomputes the thresholds the nowait fast paths test. */
static void
update_limits(acto_queue *q)
{
    if (q->shutdown || q->closing) {
        q->put_limit = 0;
    } else {
        q->put_limit = q->opts.maxsize == 0 ? SIZE_MAX : q->opts.maxsize;
    }
    bool ring = q->opts.kind != ACTO_QUEUE_PRIORITY;
    q->fast_limit = ring && q->cap < q->put_limit ? q->cap
                    : ring                        ? q->put_limit
                                                  : 0;
}

/* ---- storage ---------------------------------------------------------- */

/* grow makes room for one more item. Returns 0 or ACTO_ENOMEM, in which
 * case the storage is unchanged. */
static __attribute__((noinline)) int
grow(acto_queue *q)
{
    size_t esize = entry_size(q);
    size_t ncap = q->cap == 0 ? MIN_CAPACITY : q->cap * 2;
    if (ncap > SIZE_MAX / esize) {
        return ACTO_ENOMEM;
    }
    char *nbuf = acto__malloc(ncap * esize);
    if (nbuf == NULL) {
        return ACTO_ENOMEM;
    }
    size_t n = count(q);
    if (q->opts.kind == ACTO_QUEUE_PRIORITY) {
        if (n > 0) { /* memcpy must not see the NULL first buffer */
            memcpy(nbuf, q->buf.heap, n * esize);
        }
    } else {
        /* Unwrap the ring so the items start at index 0. */
        for (size_t i = 0; i < n; i++) {
            ((void **)(void *)nbuf)[i] = q->buf.ring[(q->head + i) & q->mask];
        }
    }
    q->head = 0;
    q->tail = n;
    acto__free(q->buf.ring, q->cap * esize);
    q->buf.ring = (void **)(void *)nbuf;
    q->cap = ncap;
    q->mask = ncap - 1;
    update_limits(q);
    return 0;
}

static bool
heap_before(const acto_queue *q, const heap_entry *a, const heap_entry *b)
{
    int c = q->opts.cmp(a->item, b->item, q->opts.user);
    return c < 0 || (c == 0 && a->seq < b->seq);
}

static __attribute__((noinline)) void
heap_push(acto_queue *q, void *item)
{
    heap_entry *h = q->buf.heap;
    heap_entry e = {item, q->next_seq++};
    size_t i = q->tail;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!heap_before(q, &e, &h[parent])) {
            break;
        }
        h[i] = h[parent];
        i = parent;
    }
    h[i] = e;
}

static __attribute__((noinline)) void *
heap_pop(acto_queue *q)
{
    heap_entry *h = q->buf.heap;
    void *top = h[0].item;
    heap_entry last = h[q->tail - 1];
    size_t n = q->tail - 1;
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n) {
            break;
        }
        if (child + 1 < n && heap_before(q, &h[child + 1], &h[child])) {
            child++;
        }
        if (!heap_before(q, &h[child], &last)) {
            break;
        }
        h[i] = h[child];
        i = child;
    }
    h[i] = last;
    return top;
}

/* store_push adds item, growing the storage if needed. Returns 0 or
 * ACTO_ENOMEM with nothing changed. Room under maxsize is the caller's
 * business. */
static inline int
store_push(acto_queue *q, void *item)
{
    if (unlikely(count(q) == q->cap)) {
        int rc = grow(q);
        if (rc != 0) {
            return rc;
        }
    }
    if (unlikely(q->opts.kind == ACTO_QUEUE_PRIORITY)) {
        heap_push(q, item);
    } else {
        q->buf.ring[q->tail & q->mask] = item;
    }
    q->tail++;
    q->unfinished++;
    return 0;
}

/* store_pop removes the next item; the queue must not be empty. */
static inline void *
store_pop(acto_queue *q)
{
    switch (q->opts.kind) {
    case ACTO_QUEUE_PRIORITY: {
        void *item = heap_pop(q);
        q->tail--;
        return item;
    }
    case ACTO_QUEUE_LIFO:
        return q->buf.ring[--q->tail & q->mask];
    default:
        return q->buf.ring[q->head++ & q->mask];
    }
}

static bool
is_full(const acto_queue *q)
{
    return q->opts.maxsize > 0 && count(q) >= q->opts.maxsize;
}

/* ---- the ready list ---------------------------------------------------- */

static void on_idle(uv_idle_t *idle);

static void
push_ready(acto_queue *q, acto_queue_req *req, int state, int status)
{
    req->state_ = state;
    req->status_ = status;
    acto__list_push_back(&q->ready, &req->link_);
    /* Starting an active idle handle is a no-op, so no flag is kept. */
    uv_idle_start(&q->idle, on_idle);
}

/* finish moves a waiting or woken request to a decided status, keeping a
 * woken request's place on the ready list. */
static void
finish(acto_queue *q, acto_queue_req *req, int status)
{
    if (req->state_ == REQ_WOKEN) {
        if (req->op_ == OP_GET) {
            q->woken_getters--;
        } else {
            q->woken_putters--;
        }
        req->state_ = REQ_DONE;
        req->status_ = status;
        return;
    }
    acto__list_remove(&req->link_);
    push_ready(q, req, REQ_DONE, status);
}

static acto_queue_req *
first_req(const acto__link *list)
{
    acto__link *l = acto__list_first(list);
    return l == NULL ? NULL : acto__container_of(l, acto_queue_req, link_);
}

static void
wake(acto_queue *q, acto_queue_req *req)
{
    acto__list_remove(&req->link_);
    push_ready(q, req, REQ_WOKEN, 0);
}

/* The wake functions stay out of line: they are the slow path of the
 * nowait calls, and inlined they would tax the fast path with spills. */

/* Wakes getters while queued items outnumber the getters already woken;
 * after shutdown, every getter (dispatch fails those left without items). */
static __attribute__((noinline)) void
wake_getters(acto_queue *q)
{
    acto_queue_req *req;
    while ((q->shutdown || q->woken_getters < count(q)) &&
           (req = first_req(&q->getters)) != NULL) {
        q->woken_getters++;
        wake(q, req);
    }
}

static size_t
free_slots(const acto_queue *q)
{
    return q->opts.maxsize == 0 ? SIZE_MAX : q->opts.maxsize - count(q);
}

/* Wakes putters while free slots outnumber the putters already woken;
 * after shutdown, every putter (dispatch fails them). */
static __attribute__((noinline)) void
wake_putters(acto_queue *q)
{
    acto_queue_req *req;
    while ((q->shutdown || q->woken_putters < free_slots(q)) &&
           (req = first_req(&q->putters)) != NULL) {
        q->woken_putters++;
        wake(q, req);
    }
}

static void
complete_joiners(acto_queue *q)
{
    acto_queue_req *req;
    while ((req = first_req(&q->joiners)) != NULL) {
        finish(q, req, 0);
    }
}

/* ---- dispatch --------------------------------------------------------- */

/* grant_get decides a woken getter: an item, shutdown, or back to the front
 * of the getters when a get_nowait took the item first. Returns false in
 * that last case. */
static bool
grant_get(acto_queue *q, acto_queue_req *req)
{
    q->woken_getters--;
    if (count(q) > 0) {
        req->item_ = store_pop(q);
        req->status_ = 0;
        wake_putters(q);
        return true;
    }
    if (q->shutdown) {
        req->status_ = ACTO_ESHUTDOWN;
        return true;
    }
    req->state_ = REQ_WAITING;
    acto__list_push_front(&q->getters, &req->link_);
    return false;
}

/* grant_put decides a woken putter: inserted, shutdown, out of memory, or
 * back to the front of the putters when a put_nowait took the slot. */
static bool
grant_put(acto_queue *q, acto_queue_req *req)
{
    q->woken_putters--;
    if (q->shutdown) {
        req->status_ = ACTO_ESHUTDOWN;
        return true;
    }
    if (is_full(q)) {
        req->state_ = REQ_WAITING;
        acto__list_push_front(&q->putters, &req->link_);
        return false;
    }
    req->status_ = store_push(q, req->item_);
    if (req->status_ == 0) {
        wake_getters(q);
    } else {
        wake_putters(q); /* the slot it gave up may serve the next */
    }
    return true;
}

static void
dispatch_one(acto_queue *q, acto_queue_req *req)
{
    acto__list_remove(&req->link_);
    if (req->state_ == REQ_WOKEN) {
        bool decided =
            req->op_ == OP_GET ? grant_get(q, req) : grant_put(q, req);
        if (!decided) {
            return;
        }
    }
    void *item = req->item_;
    if (req->op_ == OP_GET && req->status_ != 0) {
        item = NULL;
    }
    req->state_ = REQ_IDLE;
    req->queue_ = NULL;
    /* Last: the callback may reuse req or close q. */
    req->cb_(q, req->status_, item, req->user_);
}

static void
finish_close(uv_handle_t *handle)
{
    acto_queue *q = handle->data;
    acto__free(q->buf.ring, q->cap * entry_size(q));
    if (q->close_cb != NULL) {
        q->close_cb(q, q->close_user);
    }
    acto__free(q, sizeof(*q));
}

static void
on_idle(uv_idle_t *idle)
{
    acto_queue *q = idle->data;
    acto_queue_req *req;
    for (int n = 0; n < DISPATCH_BUDGET; n++) {
        if ((req = first_req(&q->ready)) == NULL) {
            break;
        }
        dispatch_one(q, req);
    }
    if (acto__list_empty(&q->ready)) {
        uv_idle_stop(&q->idle);
        if (q->closing && !uv_is_closing((uv_handle_t *)&q->idle)) {
            uv_close((uv_handle_t *)&q->idle, finish_close);
        }
    }
}

/* ---- public API ------------------------------------------------------- */

static bool
valid_opts(const acto_queue_opts *o)
{
    switch (o->kind) {
    case ACTO_QUEUE_FIFO:
    case ACTO_QUEUE_LIFO:
        return true;
    case ACTO_QUEUE_PRIORITY:
        return o->cmp != NULL;
    default:
        return false;
    }
}

int
acto_queue_alloc(uv_loop_t *loop, const acto_queue_opts *opts, acto_queue **out)
{
    static const acto_queue_opts defaults = {ACTO_QUEUE_FIFO, 0, NULL, NULL,
                                             NULL};
    if (opts == NULL) {
        opts = &defaults;
    }
    if (loop == NULL || out == NULL || !valid_opts(opts)) {
        return ACTO_EINVAL;
    }
    acto_queue *q = acto__calloc(1, sizeof(*q));
    if (q == NULL) {
        return ACTO_ENOMEM;
    }
    int rc = uv_idle_init(loop, &q->idle);
    if (rc != 0) {
        acto__free(q, sizeof(*q));
        return rc;
    }
    q->idle.data = q;
    q->opts = *opts;
    update_limits(q);
    acto__list_init(&q->getters);
    acto__list_init(&q->putters);
    acto__list_init(&q->joiners);
    acto__list_init(&q->ready);
    *out = q;
    return 0;
}

static void
discard_items(acto_queue *q)
{
    while (count(q) > 0) {
        void *item = store_pop(q);
        if (q->opts.discard != NULL) {
            q->opts.discard(item, q->opts.user);
        }
    }
}

/* Every request on the ready list gets ACTO_ECANCELED unless already
 * decided. */
static void
cancel_ready(acto_queue *q)
{
    for (acto__link *l = q->ready.next; l != &q->ready; l = l->next) {
        acto_queue_req *req = acto__container_of(l, acto_queue_req, link_);
        if (req->state_ == REQ_WOKEN) {
            finish(q, req, ACTO_ECANCELED);
        }
    }
}

static void
cancel_list(acto_queue *q, acto__link *list)
{
    acto_queue_req *req;
    while ((req = first_req(list)) != NULL) {
        finish(q, req, ACTO_ECANCELED);
    }
}

int
acto_queue_close(acto_queue *q, acto_queue_close_cb cb, void *user)
{
    if (q->closing) {
        return ACTO_ECLOSED;
    }
    q->closing = true;
    update_limits(q);
    q->close_cb = cb;
    q->close_user = user;
    cancel_ready(q);
    cancel_list(q, &q->getters);
    cancel_list(q, &q->putters);
    cancel_list(q, &q->joiners);
    discard_items(q);
    /* The idle callback closes the handle once the ready list is empty;
     * starting it here also covers an already empty list. */
    uv_idle_start(&q->idle, on_idle);
    return 0;
}

/* put_refusal says why a put cannot go in: count has reached put_limit. */
static int
put_refusal(const acto_queue *q)
{
    if (q->closing) {
        return ACTO_ECLOSED;
    }
    return q->shutdown ? ACTO_ESHUTDOWN : ACTO_EQUEUEFULL;
}

/* put_slow is put_nowait past its fast path: refusals, growing the
 * storage, the priority heap and waking getters. */
static __attribute__((noinline)) int
put_slow(acto_queue *q, void *item)
{
    if (count(q) >= q->put_limit) {
        return put_refusal(q);
    }
    int rc = store_push(q, item);
    if (rc == 0 && !acto__list_empty(&q->getters)) {
        wake_getters(q);
    }
    return rc;
}

int
acto_queue_put_nowait(acto_queue *q, void *item)
{
    /* One comparison covers full, shut down, closing, a full ring and the
     * heap; what it lets through is a plain ring store. */
    size_t t = q->tail;
    if (unlikely(t - q->head >= q->fast_limit)) {
        return put_slow(q, item);
    }
    q->buf.ring[t & q->mask] = item;
    q->tail = t + 1;
    q->unfinished++;
    if (unlikely(!acto__list_empty(&q->getters))) {
        wake_getters(q);
    }
    return 0;
}

static __attribute__((noinline)) int
get_slow(acto_queue *q, void **item)
{
    /* A closing queue is always empty: close discards the items. */
    if (count(q) == 0) {
        if (q->closing) {
            return ACTO_ECLOSED;
        }
        return q->shutdown ? ACTO_ESHUTDOWN : ACTO_EQUEUEEMPTY;
    }
    *item = store_pop(q);
    if (!acto__list_empty(&q->putters)) {
        wake_putters(q);
    }
    return 0;
}

int
acto_queue_get_nowait(acto_queue *q, void **item)
{
    size_t h = q->head;
    if (unlikely(h == q->tail || q->opts.kind != ACTO_QUEUE_FIFO)) {
        return get_slow(q, item);
    }
    *item = q->buf.ring[h & q->mask];
    q->head = h + 1;
    if (unlikely(!acto__list_empty(&q->putters))) {
        wake_putters(q);
    }
    return 0;
}

static int
check_req(const acto_queue *q, const acto_queue_req *req, acto_queue_cb cb)
{
    if (req == NULL || cb == NULL) {
        return ACTO_EINVAL;
    }
    return q->closing ? ACTO_ECLOSED : 0;
}

static void
prepare_req(acto_queue *q, acto_queue_req *req, int op, void *item,
            acto_queue_cb cb, void *user)
{
    req->queue_ = q;
    req->op_ = op;
    req->item_ = item;
    req->cb_ = cb;
    req->user_ = user;
    req->status_ = 0;
}

int
acto_queue_put(acto_queue *q, acto_queue_req *req, void *item, acto_queue_cb cb,
               void *user)
{
    int rc = check_req(q, req, cb);
    if (rc != 0) {
        return rc;
    }
    if (q->shutdown) {
        return ACTO_ESHUTDOWN;
    }
    prepare_req(q, req, OP_PUT, item, cb, user);
    req->state_ = REQ_WAITING;
    acto__list_push_back(&q->putters, &req->link_);
    wake_putters(q);
    return 0;
}

int
acto_queue_get(acto_queue *q, acto_queue_req *req, acto_queue_cb cb, void *user)
{
    int rc = check_req(q, req, cb);
    if (rc != 0) {
        return rc;
    }
    if (q->shutdown && count(q) == 0) {
        return ACTO_ESHUTDOWN;
    }
    prepare_req(q, req, OP_GET, NULL, cb, user);
    req->state_ = REQ_WAITING;
    acto__list_push_back(&q->getters, &req->link_);
    wake_getters(q);
    return 0;
}

int
acto_queue_join(acto_queue *q, acto_queue_req *req, acto_queue_cb cb,
                void *user)
{
    int rc = check_req(q, req, cb);
    if (rc != 0) {
        return rc;
    }
    prepare_req(q, req, OP_JOIN, NULL, cb, user);
    if (q->unfinished == 0) {
        push_ready(q, req, REQ_DONE, 0);
    } else {
        req->state_ = REQ_WAITING;
        acto__list_push_back(&q->joiners, &req->link_);
    }
    return 0;
}

int
acto_queue_cancel(acto_queue_req *req)
{
    if (req == NULL || req->queue_ == NULL) {
        return ACTO_EINVAL;
    }
    acto_queue *q = req->queue_;
    switch (req->state_) {
    case REQ_WAITING:
        finish(q, req, ACTO_ECANCELED);
        return 0;
    case REQ_WOKEN: {
        int op = req->op_;
        finish(q, req, ACTO_ECANCELED);
        /* Pass the item or slot it was promised to the next waiter. */
        if (op == OP_GET) {
            wake_getters(q);
        } else {
            wake_putters(q);
        }
        return 0;
    }
    case REQ_DONE:
        return ACTO_EBUSY;
    default:
        return ACTO_EINVAL;
    }
}

int
acto_queue_task_done(acto_queue *q)
{
    if (q->unfinished == 0) {
        return ACTO_EINVAL;
    }
    if (--q->unfinished == 0) {
        complete_joiners(q);
    }
    return 0;
}

int
acto_queue_shutdown(acto_queue *q, bool immediate)
{
    if (q->closing) {
        return ACTO_ECLOSED;
    }
    q->shutdown = true;
    update_limits(q);
    if (immediate) {
        size_t n = count(q);
        discard_items(q);
        q->unfinished -= n < q->unfinished ? n : q->unfinished;
        if (q->unfinished == 0) {
            complete_joiners(q);
        }
    }
    wake_getters(q);
    wake_putters(q);
    return 0;
}

size_t
acto_queue_qsize(const acto_queue *q)
{
    return count(q);
}

bool
acto_queue_empty(const acto_queue *q)
{
    return count(q) == 0;
}

bool
acto_queue_full(const acto_queue *q)
{
    return is_full(q);
}

size_t
acto_queue_maxsize(const acto_queue *q)
{
    return q->opts.maxsize;
}

size_t
acto_queue_unfinished(const acto_queue *q)
{
    return q->unfinished;
}

bool
acto_queue_is_shutdown(const acto_queue *q)
{
    return q->shutdown;
}

uv_loop_t *
acto_queue_loop(const acto_queue *q)
{
    return q->idle.loop;
}
