/* Combinators over futures: gather, wait, as_completed, wait_for, shield
 * and groups. See acto/combinators.h.
 *
 * Every combinator but the group is a comb: a block holding out, one slot
 * per member and a reference count. References are held by the call that
 * makes the comb, by every done callback still registered (on a member or
 * on out) and by a pending timeout message, so each entry point runs with
 * the comb alive and the last of them frees it. Everything a combinator
 * needs to complete (its result, its out) is allocated when it is made:
 * completing never allocates, except to copy an error.
 *
 * Timeouts are callouts on the system's timing wheel embedded in the comb:
 * no allocation, no message, no actor; a comb stops its callout when it
 * finishes or is freed.
 */
#include <acto/combinators.h>

#include "internal.h"

#include <string.h>

/* ---- the comb --------------------------------------------------------- */

typedef struct comb comb;

typedef struct slot {
    comb *c;
    acto_future *f; /* retained */
    acto__cb cb;    /* our done callback's record on f */
    size_t index;
    bool armed;     /* our done callback is registered on f */
    bool delivered; /* as_completed: handed to the user */
} slot;

typedef struct comb_ops {
    /* A member's done callback ran while the comb was not finished. */
    void (*member)(comb *c, slot *s);
    /* out was completed by someone else (cancelled, as a rule). */
    void (*out_done)(comb *c);
    /* The timeout fired while the comb was not finished. */
    void (*timeout)(comb *c);
    /* Frees what the variant owns beside the block (may be NULL). */
    void (*fini)(comb *c);
    /* A member's done callback ran after the comb finished (may be
     * NULL). */
    void (*late)(comb *c, slot *s);
} comb_ops;

struct comb {
    const comb_ops *ops;
    acto_system *sys;
    acto_future *out; /* the comb's reference */
    size_t size;      /* of the block */
    uint32_t refs;
    bool finished; /* out is complete or being completed by us */
    acto__callout timeout;
    size_t n;
    slot *slots;
};

static void on_member(acto_future *f, void *user);
static void on_timeout(acto__callout *co);

/* comb_alloc allocates a block of head bytes followed by n slots, which
 * must be where the variant's flexible array of slots begins. The members
 * are retained; the block holds one reference, the caller's. */
static comb *
comb_alloc(const comb_ops *ops, acto_system *sys, size_t head,
           acto_future *const *members, size_t n)
{
    if (n > (SIZE_MAX - head) / sizeof(slot)) {
        return NULL;
    }
    size_t size = head + n * sizeof(slot);
    comb *c = acto__malloc(size);
    if (c == NULL) {
        return NULL;
    }
    memset(c, 0, head); /* the loop below writes every slot whole */
    c->ops = ops;
    c->sys = sys;
    c->size = size;
    c->refs = 1;
    c->n = n;
    acto__callout_init(&c->timeout, on_timeout);
    c->slots = (slot *)(void *)((char *)c + head);
    for (size_t i = 0; i < n; i++) {
        c->slots[i] = (slot){.c = c, .f = members[i], .index = i};
        acto_future_retain(members[i]);
    }
    return c;
}

static void
comb_unref(comb *c)
{
    if (--c->refs > 0) {
        return;
    }
    acto__callout_stop(c->sys, &c->timeout);
    if (c->ops->fini != NULL) {
        c->ops->fini(c);
    }
    for (size_t i = 0; i < c->n; i++) {
        acto_future_release(c->slots[i].f);
    }
    acto_future_release(c->out);
    acto__free(c, c->size);
}

/* check_members validates the arguments every combinator shares. */
static int
check_members(acto_system *sys, acto_future *const *members, size_t n,
              acto_future **out)
{
    if (sys == NULL || out == NULL || (n > 0 && members == NULL)) {
        return ACTO_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (members[i] == NULL || acto_future_system(members[i]) != sys) {
            return ACTO_EINVAL;
        }
    }
    return 0;
}

/* detach stops watching the members not yet done; their callbacks will
 * not run. */
static void
detach(comb *c)
{
    for (size_t i = 0; i < c->n; i++) {
        slot *s = &c->slots[i];
        if (s->armed && acto_future_remove_done_cb(s->f, on_member, s) > 0) {
            s->armed = false;
            c->refs--; /* never the last: the caller holds one */
        }
    }
}

/* cancel_members cancels every member still pending. */
static void
cancel_members(comb *c, const char *why)
{
    for (size_t i = 0; i < c->n; i++) {
        acto_future_cancel(c->slots[i].f, why);
    }
}

/* ---- timeouts --------------------------------------------------------- */

static void timer_cancel(comb *c);

/* sync_out notices that out was completed by someone else. */
static void
sync_out(comb *c)
{
    if (!c->finished && acto_future_done(c->out)) {
        c->finished = true;
        timer_cancel(c);
        c->ops->out_done(c);
    }
}

/* on_timeout is the comb's callout firing. The comb is alive: it stops
 * its callout when it finishes or is freed. */
static void
on_timeout(acto__callout *co)
{
    comb *c = acto__container_of(co, comb, timeout);
    sync_out(c);
    if (!c->finished) {
        c->ops->timeout(c);
    }
}

static void
timer_cancel(comb *c)
{
    acto__callout_stop(c->sys, &c->timeout);
}

/* ---- callbacks -------------------------------------------------------- */

static void
on_member(acto_future *f, void *user)
{
    (void)f;
    slot *s = user;
    comb *c = s->c;
    s->armed = false;
    sync_out(c);
    if (!c->finished) {
        c->ops->member(c, s);
    } else if (c->ops->late != NULL) {
        c->ops->late(c, s);
    }
    comb_unref(c);
}

static void
on_out(acto_future *out, void *user)
{
    (void)out;
    comb *c = user;
    sync_out(c);
    comb_unref(c);
}

/* comb_arm starts watching: the members, then out (out last, so an error
 * never leaves a callback on out), then a timer. The members' callback
 * records are their slots' own, so only out's can fail. On error
 * everything armed is undone and the comb holds only the caller's
 * reference. */
static int
comb_arm(comb *c, uint64_t timeout_ms)
{
    for (size_t i = 0; i < c->n; i++) {
        slot *s = &c->slots[i];
        acto__future_add_cb(s->f, &s->cb, on_member, s);
        s->armed = true;
        c->refs++;
    }
    int rc = acto_future_add_done_cb(c->out, on_out, c);
    if (rc == 0) {
        c->refs++;
        if (timeout_ms > 0) {
            acto__callout_start(c->sys, &c->timeout, timeout_ms);
        }
        return 0;
    }
    detach(c);
    return rc;
}

/* comb_start makes out and arms the comb; on success *out gets the
 * caller's reference. The call's own reference is dropped either way. */
static int
comb_start(comb *c, uint64_t timeout_ms, acto_future **out)
{
    int rc = acto_future_new(c->sys, &c->out);
    if (rc == 0) {
        rc = comb_arm(c, timeout_ms);
    }
    if (rc == 0) {
        acto_future_retain(c->out);
        *out = c->out;
    }
    comb_unref(c);
    return rc;
}

/* ---- gather ----------------------------------------------------------- */

typedef struct gather {
    comb c;
    bool return_exceptions;
    size_t remaining;        /* members whose callback has not run */
    acto_gather_result *res; /* until handed to out */
    size_t res_size;
    slot slots[];
} gather;

static void
free_gather_result(void *ptr, void *user)
{
    acto_gather_result *r = ptr;
    for (size_t i = 0; i < r->n; i++) {
        acto_future_release(r->items[i].future);
    }
    acto__free(r, (size_t)(uintptr_t)user);
}

/* gather_complete fills the result from the members, now all done. */
static void
gather_complete(gather *g)
{
    acto_gather_result *r = g->res;
    r->n = g->c.n;
    for (size_t i = 0; i < r->n; i++) {
        acto_future *f = g->c.slots[i].f;
        acto_gather_item *it = &r->items[i];
        acto_future_retain(f);
        *it = (acto_gather_item){f, acto_future_state_of(f), NULL, NULL};
        if (it->state == ACTO_FUTURE_DONE) {
            acto_future_result(f, &it->value);
        } else if (it->state == ACTO_FUTURE_FAILED) {
            it->error = acto_future_exception(f);
        }
    }
    g->res = NULL;
    g->c.finished = true;
    acto_future_set_result(g->c.out, r, free_gather_result,
                           (void *)(uintptr_t)g->res_size);
}

static void
gather_member(comb *c, slot *s)
{
    gather *g = (gather *)c;
    g->remaining--;
    acto_future_state st = acto_future_state_of(s->f);
    if (!g->return_exceptions && st != ACTO_FUTURE_DONE) {
        c->finished = true;
        if (st == ACTO_FUTURE_FAILED) {
            acto__future_fail_copy(c->out, acto_future_exception(s->f));
        } else if (acto_future_set_error(
                       c->out, ACTO_ECANCELED, "CancelledError",
                       "a gathered future was cancelled") == ACTO_ENOMEM) {
            acto_future_cancel(c->out, NULL);
        }
        cancel_members(c, "gather: another member failed");
        return;
    }
    if (g->remaining == 0) {
        gather_complete(g);
    }
}

static void
gather_out_done(comb *c)
{
    if (acto_future_cancelled(c->out)) {
        cancel_members(c, "gather: cancelled");
    }
}

static void
gather_fini(comb *c)
{
    gather *g = (gather *)c;
    acto__free(g->res, g->res_size);
}

static const comb_ops gather_ops = {gather_member, gather_out_done, NULL,
                                    gather_fini, NULL};

int
acto_gather(acto_system *sys, acto_future *const *members, size_t n,
            bool return_exceptions, acto_future **out)
{
    int rc = check_members(sys, members, n, out);
    if (rc != 0) {
        return rc;
    }
    gather *g =
        (gather *)comb_alloc(&gather_ops, sys, sizeof(gather), members, n);
    if (g == NULL) {
        return ACTO_ENOMEM;
    }
    g->return_exceptions = return_exceptions;
    g->remaining = n;
    /* n fits: comb_alloc checked n slots, and an item is no larger. */
    g->res_size = sizeof(acto_gather_result) + n * sizeof(acto_gather_item);
    if ((g->res = acto__malloc(g->res_size)) == NULL) {
        comb_unref(&g->c);
        return ACTO_ENOMEM;
    }
    if (n == 0) {
        if ((rc = acto_future_new(sys, &g->c.out)) == 0) {
            gather_complete(g);
            acto_future_retain(g->c.out);
            *out = g->c.out;
        }
        comb_unref(&g->c);
        return rc;
    }
    return comb_start(&g->c, 0, out);
}

/* ---- wait ------------------------------------------------------------- */

typedef struct waiter {
    comb c;
    acto_wait_mode mode;
    size_t remaining;
    acto_wait_result *res; /* until handed to out */
    size_t res_size;
    slot slots[];
} waiter;

static void
free_wait_result(void *ptr, void *user)
{
    acto_wait_result *r = ptr;
    for (size_t i = 0; i < r->n_done; i++) {
        acto_future_release(r->done[i]);
    }
    for (size_t i = 0; i < r->n_pending; i++) {
        acto_future_release(r->pending[i]);
    }
    acto__free(r, (size_t)(uintptr_t)user);
}

/* wait_complete splits the members by whether they are done now, as
 * asyncio does: one done whose callback has not run yet counts as done. */
static void
wait_complete(waiter *w)
{
    acto_wait_result *r = w->res;
    for (size_t i = 0; i < w->c.n; i++) {
        acto_future *f = w->c.slots[i].f;
        acto_future_retain(f);
        if (acto_future_done(f)) {
            r->done[r->n_done++] = f;
        } else {
            r->pending[r->n_pending++] = f;
        }
    }
    w->res = NULL;
    w->c.finished = true;
    timer_cancel(&w->c);
    detach(&w->c);
    acto_future_set_result(w->c.out, r, free_wait_result,
                           (void *)(uintptr_t)w->res_size);
}

static void
wait_member(comb *c, slot *s)
{
    waiter *w = (waiter *)c;
    w->remaining--;
    if (w->remaining == 0 || w->mode == ACTO_WAIT_FIRST_COMPLETED ||
        (w->mode == ACTO_WAIT_FIRST_EXCEPTION &&
         acto_future_state_of(s->f) == ACTO_FUTURE_FAILED)) {
        wait_complete(w);
    }
}

static void
wait_out_done(comb *c)
{
    detach(c);
}

static void
wait_timeout(comb *c)
{
    wait_complete((waiter *)c);
}

static void
wait_fini(comb *c)
{
    waiter *w = (waiter *)c;
    acto__free(w->res, w->res_size);
}

static const comb_ops wait_ops = {wait_member, wait_out_done, wait_timeout,
                                  wait_fini, NULL};

int
acto_wait(acto_system *sys, acto_future *const *members, size_t n,
          acto_wait_mode mode, uint64_t timeout_ms, acto_future **out)
{
    int rc = check_members(sys, members, n, out);
    if (rc != 0) {
        return rc;
    }
    if (mode != ACTO_WAIT_FIRST_COMPLETED &&
        mode != ACTO_WAIT_FIRST_EXCEPTION && mode != ACTO_WAIT_ALL_COMPLETED) {
        return ACTO_EINVAL;
    }
    waiter *w =
        (waiter *)comb_alloc(&wait_ops, sys, sizeof(waiter), members, n);
    if (w == NULL) {
        return ACTO_ENOMEM;
    }
    w->mode = mode;
    w->remaining = n;
    /* One array of 2n pointers holds both sets: n fits (see gather). */
    w->res_size = sizeof(acto_wait_result) + 2 * n * sizeof(acto_future *);
    if ((w->res = acto__malloc(w->res_size)) == NULL) {
        comb_unref(&w->c);
        return ACTO_ENOMEM;
    }
    acto_future **sets = (acto_future **)(void *)(w->res + 1);
    *w->res = (acto_wait_result){0, sets, 0, sets + n};
    if (n == 0) {
        if ((rc = acto_future_new(sys, &w->c.out)) == 0) {
            wait_complete(w);
            acto_future_retain(w->c.out);
            *out = w->c.out;
        }
        comb_unref(&w->c);
        return rc;
    }
    return comb_start(&w->c, timeout_ms, out);
}

/* ---- as_completed ----------------------------------------------------- */

typedef struct completer {
    comb c;
    acto_as_completed_cb cb;
    void *user;
    size_t delivered;
    slot slots[];
} completer;

static void
deliver(completer *k, slot *s, int status)
{
    s->delivered = true;
    k->delivered++;
    k->cb(s->f, s->index, status, k->user);
}

/* deliver_rest stops watching and delivers every member not yet delivered
 * with status, in argument order. */
static void
deliver_rest(completer *k, int status)
{
    detach(&k->c);
    for (size_t i = 0; i < k->c.n; i++) {
        if (!k->c.slots[i].delivered) {
            deliver(k, &k->c.slots[i], status);
        }
    }
}

static void
completer_member(comb *c, slot *s)
{
    completer *k = (completer *)c;
    deliver(k, s, 0);
    if (k->delivered == c->n && !c->finished) {
        c->finished = true;
        timer_cancel(c);
        acto_future_set_result(c->out, NULL, NULL, NULL);
    }
}

static void
completer_out_done(comb *c)
{
    deliver_rest((completer *)c, ACTO_ECANCELED);
}

static void
completer_timeout(comb *c)
{
    c->finished = true;
    deliver_rest((completer *)c, ACTO_ETIMEDOUT);
    if (acto_future_set_error(c->out, ACTO_ETIMEDOUT, "TimeoutError",
                              "as_completed timed out") == ACTO_ENOMEM) {
        acto_future_cancel(c->out, NULL);
    }
}

static const comb_ops completer_ops = {completer_member, completer_out_done,
                                       completer_timeout, NULL, NULL};

int
acto_as_completed(acto_system *sys, acto_future *const *members, size_t n,
                  uint64_t timeout_ms, acto_as_completed_cb cb, void *user,
                  acto_future **out)
{
    int rc = check_members(sys, members, n, out);
    if (rc != 0) {
        return rc;
    }
    if (cb == NULL) {
        return ACTO_EINVAL;
    }
    completer *k = (completer *)comb_alloc(&completer_ops, sys,
                                           sizeof(completer), members, n);
    if (k == NULL) {
        return ACTO_ENOMEM;
    }
    k->cb = cb;
    k->user = user;
    if (n == 0) {
        if ((rc = acto_future_new(sys, &k->c.out)) == 0) {
            k->c.finished = true;
            acto_future_set_result(k->c.out, NULL, NULL, NULL);
            acto_future_retain(k->c.out);
            *out = k->c.out;
        }
        comb_unref(&k->c);
        return rc;
    }
    return comb_start(&k->c, timeout_ms, out);
}

/* ---- wait_for and shield ---------------------------------------------- */

typedef struct mirror {
    comb c;
    bool shield;
    slot slots[];
} mirror;

/* The free_fn of a mirrored value: the value is f's, so out drops f. */
static void
release_future(void *value, void *f)
{
    (void)value;
    acto_future_release(f);
}

/* mirror_complete completes out with f's outcome. A value stays f's: out
 * holds a reference to f for as long as it holds the value. */
static void
mirror_complete(comb *c, acto_future *f)
{
    c->finished = true;
    timer_cancel(c);
    switch (acto_future_state_of(f)) {
    case ACTO_FUTURE_DONE: {
        void *v = NULL;
        acto_future_result(f, &v);
        acto_future_retain(f);
        if (acto_future_set_result(c->out, v, release_future, f) != 0) {
            acto_future_release(f);
        }
        break;
    }
    case ACTO_FUTURE_FAILED:
        acto__future_fail_copy(c->out, acto_future_exception(f));
        break;
    default:
        acto_future_cancel(c->out, acto_future_cancel_message(f));
        break;
    }
}

static void
mirror_member(comb *c, slot *s)
{
    mirror_complete(c, s->f);
}

static void
mirror_out_done(comb *c)
{
    mirror *m = (mirror *)c;
    if (!m->shield && acto_future_cancelled(c->out)) {
        cancel_members(c, "wait_for: cancelled");
    }
}

/* mirror_late marks the error of a shielded f retrieved once out was
 * cancelled: nobody can read it through out any more (as asyncio). */
static void
mirror_late(comb *c, slot *s)
{
    if (((mirror *)c)->shield) {
        acto_future_exception(s->f);
    }
}

static void
mirror_timeout(comb *c)
{
    acto_future *f = c->slots[0].f;
    if (acto_future_done(f)) {
        mirror_complete(c, f); /* done, its callback not yet run */
        return;
    }
    c->finished = true;
    /* Our callback then runs, finds the comb finished, and lets go. */
    acto_future_cancel(f, "wait_for: timed out");
    if (acto_future_set_error(c->out, ACTO_ETIMEDOUT, "TimeoutError",
                              "wait_for timed out") == ACTO_ENOMEM) {
        acto_future_cancel(c->out, NULL);
    }
}

static const comb_ops mirror_ops = {mirror_member, mirror_out_done,
                                    mirror_timeout, NULL, mirror_late};

static int
mirror_start(acto_system *sys, acto_future *f, bool shield, uint64_t timeout_ms,
             acto_future **out)
{
    int rc = check_members(sys, &f, 1, out);
    if (rc != 0) {
        return rc;
    }
    mirror *m = (mirror *)comb_alloc(&mirror_ops, sys, sizeof(mirror), &f, 1);
    if (m == NULL) {
        return ACTO_ENOMEM;
    }
    m->shield = shield;
    return comb_start(&m->c, timeout_ms, out);
}

int
acto_wait_for(acto_system *sys, acto_future *f, uint64_t timeout_ms,
              acto_future **out)
{
    return mirror_start(sys, f, false, timeout_ms, out);
}

int
acto_shield(acto_system *sys, acto_future *f, acto_future **out)
{
    return mirror_start(sys, f, true, 0, out);
}
