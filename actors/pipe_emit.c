/* Emitting: how a stage passes items on. While a stage's handler runs,
 * the items it emits wait in the outbox, up to the free places of its
 * reader's mailbox, and go together at the end (acto_send_many): one
 * delivery for the run instead of one per item. Only this handler could
 * fill those places meanwhile, so that is the same as sending each at
 * once; the first emit that finds no place is sent at once, after those
 * waiting, and parks the stage as before. Outside a handler's run (a
 * retry's timer, an async result) items go at once.
 *
 * A key-routed pool's router, or a writer routing by key, does the same
 * for each of the pool's workers: a chain of items per worker, each within
 * that worker's free places, so that each worker gets a long run per turn.
 * A source is not asked again this turn once the chains hold about
 * PIPE_KEYED_MAX items, or one of them is full (the outbox is tight): its
 * next item for that worker would park it. Only counts per chain change
 * per item: the totals are taken between calls and at the end. */
#include "pipe_internal.h"

/* ---- a stage's reader ------------------------------------------------- */

static void
count_out(acto_stage *st, acto_stage *to, uint32_t n)
{
    to->sent += n;
    st->stats.out += n;
    if (st->kind == KIND_SOURCE) {
        st->stats.in += n;
    }
}

/* count_routed counts k items owner passed to the workers of a key-routed
 * pool (each worker counts its own in `sent`): owner is that pool's
 * router, or a writer routing by itself (then the pool took them in and
 * routed them). */
static void
count_routed(acto_stage *owner, acto_stage *pool, uint32_t k)
{
    pool->stats.out += k;
    if (owner != pool) {
        count_out(owner, pool, k);
        pool->stats.in += k;
    }
}

/* send_run sends n items to `to` at once; one that cannot be sent (the
 * system is closing) is freed: its reader counts it dropped. */
static void
send_run(acto_ctx *ctx, acto_stage *to, acto_msg **m, uint32_t n)
{
    size_t sent = 0;
    (void)acto_send_many(ctx, to->ref, m, n, &sent);
    for (size_t i = sent; i < n; i++) {
        acto_msg_free(m[i]);
    }
}

static void flush_chains(acto_stage *owner);

/* flush_out sends the items waiting in the outbox for st's reader (or,
 * chained, for a pool's workers). */
static void
flush_out(acto_stage *st)
{
    pipe_outbox *ob = &st->p->ob;
    if (ob->owner != st) {
        return;
    }
    if (ob->n_touched > 0) {
        flush_chains(st);
        return;
    }
    uint32_t n = ob->n;
    if (n == 0) {
        return;
    }
    ob->n = 0;
    count_out(st, st->reader, n);
    send_run(st->emit.ctx, st->reader, ob->m, n);
}

/* by_key tells whether st's items go straight to the workers of a
 * key-routed pool (the pool's router only passes the end of the stream
 * on): the writer routes them by the same hash, saving a hop. */
static inline bool
by_key(const acto_stage *st)
{
    return st->reader->kind == KIND_POOL && st->reader->route == ACTO_ROUTE_KEY;
}

/* room_of is asked at the start of every run a stage passes on: flattened,
 * so the runtime's acto_send_room is inlined into it where the build can
 * (with LTO). */
static __attribute__((flatten)) uint32_t
room_of(acto_stage *st, const acto_stage *to)
{
    uint32_t room = acto_send_room(st->emit.ctx, to->ref);
    uint32_t free_slots = PIPE_OUT_MAX - st->p->ob.n;
    return room < free_slots ? room : free_slots;
}

/* ---- a pool's workers ------------------------------------------------- */

/* flush_chains sends each worker its chain, in the order items came. */
static void
flush_chains(acto_stage *owner)
{
    pipe_outbox *ob = &owner->p->ob;
    uint32_t n_touched = ob->n_touched;
    if (n_touched == 0) {
        return;
    }
    acto_stage *pool = ob->touched[0]->pool; /* one pool: owner's */
    uint32_t total = 0;
    ob->n_touched = 0;
    for (uint32_t t = 0; t < n_touched; t++) {
        acto_stage *w = ob->touched[t];
        uint32_t k = w->chain_n;
        w->touched = false;
        w->chain_end = 0; /* emit_chained tests this alone */
        w->chain_n = 0;
        w->sent += k;
        total += k;
        send_run(owner->emit.ctx, w, w->chain, k);
    }
    count_routed(owner, pool, total); /* once for all the chains */
}

/* chain_add puts item on w's chain if w has room (its room when its
 * chain began, within the chain's places), and a chain can begin. */
static inline bool
chain_add(acto_stage *owner, acto_stage *w, acto_msg *item)
{
    pipe_outbox *ob = &owner->p->ob;
    if (!w->touched) {
        if (ob->n_touched == PIPE_KEYED_MAX) {
            return false; /* chains of as many workers as items */
        }
        uint32_t room = acto_send_room(owner->emit.ctx, w->ref);
        if (room == 0) {
            return false;
        }
        w->chain_end = room < PIPE_OUT_MAX ? room : PIPE_OUT_MAX;
        w->touched = true;
        ob->touched[ob->n_touched++] = w;
    } else if (w->chain_n == w->chain_end) {
        return false;
    }
    w->chain[w->chain_n++] = item;
    return true;
}

int
acto__pipe_pool_route(acto_ctx *ctx, acto_stage *owner, acto_stage *w,
                      acto_msg *item)
{
    if (owner->p->ob.owner == owner) {
        if (chain_add(owner, w, item)) {
            return 0;
        }
        flush_chains(owner); /* what waits goes first, then ask again */
        if (chain_add(owner, w, item)) {
            return 0;
        }
        owner->halt = true; /* the send below parks the owner */
    }
    w->sent++;
    count_routed(owner, w->pool, 1);
    int rc = acto_send(ctx, w->ref, item);
    if (rc != 0) {
        acto_msg_free(item);
    }
    return rc;
}

/* chains_full tells whether the chains in the outbox hold PIPE_KEYED_MAX
 * items, or one of them is full (the outbox is tight): asked between a
 * source's calls, not per item, so a call may go past the first bound by
 * what it emits (each chain stays within its worker's room). */
static bool
chains_full(const pipe_outbox *ob)
{
    uint32_t total = 0;
    for (uint32_t t = 0; t < ob->n_touched; t++) {
        const acto_stage *w = ob->touched[t];
        if (w->chain_n == w->chain_end) {
            return true;
        }
        total += w->chain_n;
    }
    return total >= PIPE_KEYED_MAX;
}

/* ---- lending the outbox ----------------------------------------------- */

/* Flattened for room_of's sake (see there). */
__attribute__((flatten)) void
acto__pipe_out_open(acto_ctx *ctx, acto_stage *st)
{
    pipe_outbox *ob = &st->p->ob;
    st->emit.ctx = ctx;
    st->halt = st->p->phase >= PHASE_STOPPING || st->retry_timer != 0;
    if (ob->owner != NULL && ob->owner != st) {
        return; /* lent to another stage's handler: sends go at once */
    }
    ob->owner = st;
    /* The emits' fast paths open only while the pipeline runs (see
     * acto__pipe_out_shut): they test no phase. */
    if (st->reader != NULL && st->kind != KIND_POOL &&
        st->p->phase < PHASE_STOPPING) {
        if (by_key(st)) {
            st->out_keyed = true;
        } else {
            st->out_end = ob->n + room_of(st, st->reader);
        }
    }
}

void
acto__pipe_out_shut(acto_pipeline *p)
{
    acto_stage *st = p->ob.owner;
    if (st != NULL) {
        st->out_end = 0; /* emits go the slow way, which fails them */
        st->out_keyed = false;
    }
}

bool
acto__pipe_out_room(const acto_stage *st)
{
    const pipe_outbox *ob = &st->p->ob;
    if (ob->owner != st || st->halt) {
        return false;
    }
    if (st->out_keyed) {
        return !chains_full(ob);
    }
    return ob->n < st->out_end;
}

void
acto__pipe_out_close(acto_stage *st)
{
    pipe_outbox *ob = &st->p->ob;
    if (ob->owner != st) {
        return;
    }
    flush_out(st);
    st->out_end = 0;
    st->out_keyed = false;
    ob->owner = NULL;
}

/* ---- emitting --------------------------------------------------------- */

/* emit_keyed passes m straight to w, its worker in st's reader. */
static __attribute__((noinline)) int
emit_keyed(acto_emitter *out, acto_msg *m, acto_stage *w)
{
    acto_stage *st = out->st;
    if (m == st->current) {
        st->current_emitted = true;
    }
    return acto__pipe_pool_route(out->ctx, st, w, m);
}

/* emit_slow is acto_emit for all but an item that finds room in the
 * outbox. */
static __attribute__((noinline)) int
emit_slow(acto_emitter *out, acto_msg *m)
{
    if (out == NULL || m == NULL) {
        acto_msg_free(m);
        return ACTO_EINVAL;
    }
    acto_stage *st = out->st;
    /* Its own item is taken here, passed on or freed: the stage must not
     * free it again, even when this fails. */
    if (m == st->current) {
        st->current_emitted = true;
    }
    if (st->reader == NULL) {
        acto_msg_free(m);
        return ACTO_EINVAL; /* a sink emits nothing */
    }
    if (st->p->phase >= PHASE_STOPPING) {
        acto_msg_free(m);
        return ACTO_ECANCELED;
    }
    pipe_outbox *ob = &st->p->ob;
    if (ob->owner == st && by_key(st)) {
        return emit_keyed(out, m, acto__pipe_key_worker(st->reader, m));
    }
    if (ob->owner == st) {
        flush_out(st); /* what waits goes first, then ask again */
        st->out_end = ob->n + room_of(st, st->reader);
        if (ob->n < st->out_end) {
            ob->m[ob->n++] = m;
            return 0;
        }
        st->halt = true; /* the send below parks the stage */
    }
    int rc = acto_send(out->ctx, st->reader->ref, m);
    if (rc != 0) {
        acto_msg_free(m);
        return rc;
    }
    count_out(st, st->reader, 1);
    return 0;
}

/* chain_first starts w's chain with m, its first item this run, or
 * passes m on the slow way when w has no room. Apart from emit_chained,
 * which keeps few registers for the common case. */
static __attribute__((noinline)) int
chain_first(acto_stage *st, acto_stage *w, acto_msg *m)
{
    if (chain_add(st, w, m)) {
        st->current_emitted |= m == st->current;
        return 0;
    }
    return emit_keyed(&st->emit, m, w);
}

/* chain_item puts m on its worker's chain when that chain has room, or
 * passes it on the slow way: the body of emit_chained, inlined into
 * acto_emit_bytes as well, where a new item is never the one in hand
 * (own false: no test). */
static inline __attribute__((always_inline)) int
chain_item(acto_stage *st, acto_msg *m, bool own)
{
    acto_stage *w = acto__pipe_key_worker(st->reader, m);
    uint32_t n = w->chain_n;
    /* chain_end is 0 while w has no chain (flush_chains). */
    if (__builtin_expect(n < w->chain_end, 1)) {
        if (own) {
            st->current_emitted |= m == st->current;
        }
        w->chain[n] = m;
        w->chain_n = n + 1;
        return 0;
    }
    return w->touched ? emit_keyed(&st->emit, m, w) : chain_first(st, w, m);
}

/* emit_chained is acto_emit for a writer that holds the outbox and routes
 * straight to a key-routed pool's workers: the item goes on its worker's
 * chain, counted as the chain goes, or the slow way when that chain has
 * no room. Apart, so that acto_emit stays a leaf. */
static __attribute__((noinline)) int
emit_chained(acto_stage *st, acto_msg *m)
{
    return chain_item(st, m, true);
}

/* emit_item is acto_emit, inlined into acto_emit_bytes as well. */
static inline __attribute__((always_inline)) int
emit_item(acto_emitter *out, acto_msg *m)
{
    /* The common cases, kept small: a place in the outbox for the reader,
     * or on a worker's chain. */
    if (__builtin_expect(out != NULL && m != NULL, 1)) {
        acto_stage *st = out->st;
        acto_pipeline *p = st->p;
        uint32_t n = p->ob.n;
        if (__builtin_expect(n < st->out_end, 1)) {
            st->current_emitted |= m == st->current;
            p->ob.m[n] = m;
            p->ob.n = n + 1;
            return 0;
        }
        if (st->out_keyed) {
            return emit_chained(st, m); /* out is &st->emit */
        }
    }
    return emit_slow(out, m);
}

int
acto_emit(acto_emitter *out, acto_msg *m)
{
    return emit_item(out, m);
}

int
acto_emit_bytes(acto_emitter *out, uint32_t type, const void *data, size_t len)
{
    if (out == NULL) {
        return ACTO_EINVAL;
    }
    acto_stage *st = out->st;
    acto_msg *m;
    int rc = acto_msg_new_bytes(st->p->sys, type, data, len, &m);
    if (rc != 0) {
        return rc;
    }
    /* Mostly a source's: a writer routing by key goes straight on. */
    if (st->out_keyed) {
        return chain_item(st, m, false);
    }
    return emit_item(out, m);
}
