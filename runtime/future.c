/* Futures: completion, done callbacks, continuations in actors, and asks.
 *
 * Completing a future never runs its callbacks: it puts the future on the
 * system's ready list, and the scheduler's futures phase runs them, so no
 * callback runs inside the call that added it or completed the future and
 * none is ever re-entered. A future with callbacks pending holds a
 * reference for them, so a caller may let go of a future it only watches.
 *
 * Asks, which build on futures, are in ask.c.
 */
#include "deliver.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- memory ----------------------------------------------------------- */

/* Futures come from slabs: no allocator header each, and
 * kept together, so a million pending asks cost the futures themselves
 * and not the holes that freed request messages would leave between them.
 * The system makes its first slab when it is made and keeps it; other
 * slabs go back to the allocator as soon as they are empty, so memory
 * returns to where it was once the futures are released. Futures may
 * outlive their system (a result read after close): the system counts them
 * and keeps its struct until the last one goes. */
/* The first slab is small; later ones are large enough (over 128 KiB)
 * that malloc maps them apart from the heap, where the messages live, and
 * unmaps them when they are freed. */
#define FIRST_SLAB 64
#define MORE_SLAB 1024

struct acto__fslab {
    acto__link partial; /* on the system's slabs with free futures */
    acto_future *free;  /* chained through their ready.next */
    uint32_t n_free;
    uint32_t cap;
    bool primary; /* the system's first slab, kept until it closes */
    acto_future items[];
};

static size_t
slab_size(uint32_t cap)
{
    return sizeof(acto__fslab) + (size_t)cap * sizeof(acto_future);
}

static acto__fslab *
slab_new(acto_system *sys, bool primary)
{
    uint32_t cap = primary ? FIRST_SLAB : MORE_SLAB;
    acto__fslab *s = acto__malloc(slab_size(cap));
    if (s == NULL) {
        return NULL;
    }
    s->free = NULL;
    for (uint32_t i = cap; i-- > 0;) {
        s->items[i].ready.next = (acto__link *)(void *)s->free;
        s->free = &s->items[i];
    }
    s->n_free = cap;
    s->cap = cap;
    s->primary = primary;
    acto__list_push_back(&sys->fslabs, &s->partial);
    return s;
}

int
acto__futures_init(acto_system *sys)
{
    acto__list_init(&sys->fslabs);
    return slab_new(sys, true) != NULL ? 0 : ACTO_ENOMEM;
}

/* acto__futures_fini frees the slabs no future uses any more (all of them
 * unless futures outlive the system). */
void
acto__futures_fini(acto_system *sys)
{
    acto__link *l = sys->fslabs.next;
    while (l != &sys->fslabs) {
        acto__fslab *s = acto__container_of(l, acto__fslab, partial);
        l = l->next;
        if (s->n_free == s->cap) {
            acto__list_remove(&s->partial);
            acto__free(s, slab_size(s->cap));
        }
    }
}

static acto_future *
future_take(acto_system *sys)
{
    acto__link *l = acto__list_first(&sys->fslabs);
    acto__fslab *s = l != NULL ? acto__container_of(l, acto__fslab, partial)
                               : slab_new(sys, false);
    if (s == NULL) {
        return NULL;
    }
    acto_future *f = s->free;
    s->free = (acto_future *)(void *)f->ready.next;
    if (--s->n_free == 0) {
        acto__list_remove(&s->partial);
    }
    f->slab = s;
    sys->live_futures++;
    return f;
}

static void
future_give(acto_system *sys, acto_future *f)
{
    acto__fslab *s = f->slab;
    f->ready.next = (acto__link *)(void *)s->free;
    s->free = f;
    if (s->n_free++ == 0) {
        acto__list_push_back(&sys->fslabs, &s->partial);
    }
    if (s->n_free == s->cap && (!s->primary || sys->zombie)) {
        acto__list_remove(&s->partial);
        acto__free(s, slab_size(s->cap));
    }
    acto__system_future_gone(sys); /* may free a closed system: last */
}

/* ---- lifetime --------------------------------------------------------- */

int
acto_future_new_at(acto_system *sys, acto_future **out, const char *file,
                   int line)
{
    if (sys == NULL || out == NULL) {
        return ACTO_EINVAL;
    }
    if (sys->closing) {
        return ACTO_ECLOSED;
    }
    acto_future *f = future_take(sys);
    if (f == NULL) {
        return ACTO_ENOMEM;
    }
    /* Field by field rather than a memset of the whole future: the
     * outcome (u) and ask_slot are written before they are ever read. */
    f->sys = sys;
    f->refs = 1;
    f->state = ACTO_FUTURE_PENDING;
    f->flags = 0;
    f->notify = NULL;
    f->cbs = NULL;
    f->cbs_tail = NULL;
    f->file = NULL;
    f->line = 0;
    if (sys->debug) {
        f->file = file;
        f->line = line;
    }
    f->deadline = UINT64_MAX; /* the timer is set up by asks with one */
    acto__list_init(&f->ready);
    *out = f;
    return 0;
}

void
acto_future_retain(acto_future *f)
{
    f->refs++;
}

static inline void
unregister_ask(acto_future *f)
{
    if (!(f->flags & FUT_ASK)) {
        return;
    }
    f->flags &= (uint8_t)~FUT_ASK;
    acto__slots_remove(&f->sys->asks, f->ask_slot);
    /* Only an ask with a deadline was ever put on the wheel. */
    if (f->deadline != UINT64_MAX &&
        acto__wheel_entry_pending(&f->timer.entry)) {
        acto__wheel_remove(&f->sys->wheel, &f->timer.entry);
        acto__timers_removed(f->sys);
    }
}

static void
report_never_retrieved(acto_future *f)
{
    const acto_error *e = &f->u.err->e;
    char text[320];
    if (f->file != NULL) {
        snprintf(text, sizeof(text),
                 "exception was never retrieved (future created at %s:%d): "
                 "%s",
                 f->file, f->line, e->text);
    } else {
        snprintf(text, sizeof(text), "exception was never retrieved: %s",
                 e->text);
    }
    acto_error r = {e->code, e->type, text, e->origin, e->msg};
    acto__report_exception(f->sys, &r);
}

static void
free_outcome(acto_future *f)
{
    switch (f->state) {
    case ACTO_FUTURE_DONE:
        if (f->u.ok.free_fn != NULL) {
            f->u.ok.free_fn(f->u.ok.value, f->u.ok.user);
        }
        break;
    case ACTO_FUTURE_FAILED:
        acto__error_unref(f->u.err);
        break;
    case ACTO_FUTURE_CANCELLED:
        acto__free(f->u.cancel.msg, f->u.cancel.size);
        break;
    default:
        break;
    }
}

/* cb_free frees a callback record, unless its owner embeds it. */
static void
cb_free(acto__cb *c)
{
    if (!c->embedded) {
        acto__free(c, sizeof(*c));
    }
}

static void
drop_callbacks(acto_future *f)
{
    while (f->cbs != NULL) {
        acto__cb *c = f->cbs;
        f->cbs = c->next;
        void (*drop)(void *) = c->drop;
        void *user = c->user;
        cb_free(c); /* first: drop may free an embedded record's owner */
        if (drop != NULL) {
            drop(user);
        }
    }
    f->cbs_tail = NULL;
}

void
acto_future_release(acto_future *f)
{
    if (f == NULL || --f->refs > 0) {
        return;
    }
    if (f->state == ACTO_FUTURE_FAILED && !(f->flags & FUT_RETRIEVED)) {
        report_never_retrieved(f);
    }
    unregister_ask(f);
    drop_callbacks(f);
    free_outcome(f);
    future_give(f->sys, f);
}

/* ---- completing ------------------------------------------------------- */

/* queue_callbacks puts a done future with callbacks on the ready list. */
static void
queue_callbacks(acto_future *f)
{
    if (f->cbs == NULL || (f->flags & FUT_QUEUED)) {
        return;
    }
    f->flags |= FUT_QUEUED;
    f->refs++; /* the ready list's, dropped after the callbacks ran */
    acto__list_push_back(&f->sys->ready_futures, &f->ready);
    acto__kick(f->sys);
}

/* settle records the outcome, then hands the callbacks to the ready list;
 * when they were all removed meanwhile, the reference kept for them goes
 * (which may free f: callers touch f no more). */
static void
settle(acto_future *f, acto_future_state state)
{
    f->state = (uint8_t)state;
    unregister_ask(f);
    if (acto__tracing(f->sys)) {
        acto__trace_settle(f);
    }
    if (f->notify != NULL) {
        /* A message, not a callback: delivering it here runs no code of
         * the actor's until its turn. */
        acto_msg *m = f->notify;
        f->notify = NULL;
        deliver(f->sys, NULL, m->to, m, SEND_LANE);
    }
    bool cb_ref = f->flags & FUT_CB_REF;
    if (cb_ref) {
        acto__list_remove(&f->ready); /* off the watched list */
    }
    if (f->cbs != NULL) {
        queue_callbacks(f);
    } else if (cb_ref) {
        f->flags &= (uint8_t)~FUT_CB_REF;
        acto_future_release(f);
    }
}

int
acto_future_set_result(acto_future *f, void *value, acto_free_fn free_fn,
                       void *user)
{
    if (f->state != ACTO_FUTURE_PENDING) {
        return ACTO_EDONE;
    }
    f->u.ok.value = value;
    f->u.ok.free_fn = free_fn;
    f->u.ok.user = user;
    settle(f, ACTO_FUTURE_DONE);
    return 0;
}

static int
fail_with(acto_future *f, acto__error_box *b)
{
    if (b == NULL) {
        return ACTO_ENOMEM;
    }
    f->u.err = b;
    settle(f, ACTO_FUTURE_FAILED);
    return 0;
}

int
acto_future_set_error(acto_future *f, int code, const char *type,
                      const char *fmt, ...)
{
    if (f->state != ACTO_FUTURE_PENDING) {
        return ACTO_EDONE;
    }
    if (code >= 0) {
        code = ACTO_EFAILED;
    }
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt != NULL ? fmt : "", ap);
    va_end(ap);
    acto_actor *cur = f->sys->current;
    return fail_with(
        f, acto__error_new(code, type != NULL ? type : acto_err_name(code),
                           text, cur != NULL ? cur->self : ACTO_REF_NONE));
}

int
acto_future_set_exception(acto_future *f, const acto_error *e)
{
    if (f->state != ACTO_FUTURE_PENDING) {
        return ACTO_EDONE;
    }
    if (e == NULL) {
        return ACTO_EINVAL;
    }
    return fail_with(f, acto__error_new(e->code < 0 ? e->code : ACTO_EFAILED,
                                        e->type, e->text, e->origin));
}

int
acto_future_cancel(acto_future *f, const char *msg)
{
    if (f->state != ACTO_FUTURE_PENDING) {
        return ACTO_EDONE;
    }
    f->u.cancel.msg = NULL;
    f->u.cancel.size = 0;
    if (msg != NULL) {
        size_t n = strlen(msg) + 1;
        /* Out of memory keeps the cancellation and loses only its text. */
        if ((f->u.cancel.msg = acto__malloc(n)) != NULL) {
            memcpy(f->u.cancel.msg, msg, n);
            f->u.cancel.size = n;
        }
    }
    settle(f, ACTO_FUTURE_CANCELLED);
    return 0;
}

void
acto__future_fail_copy(acto_future *f, const acto_error *e)
{
    /* Without memory for the copy, cancelling still completes f. */
    if (acto_future_set_exception(f, e) == ACTO_ENOMEM) {
        acto_future_cancel(f, "out of memory copying an error");
    }
}

/* ---- reading ---------------------------------------------------------- */

acto_future_state
acto_future_state_of(const acto_future *f)
{
    return (acto_future_state)f->state;
}

bool
acto_future_done(const acto_future *f)
{
    return f->state != ACTO_FUTURE_PENDING;
}

bool
acto_future_cancelled(const acto_future *f)
{
    return f->state == ACTO_FUTURE_CANCELLED;
}

acto_system *
acto_future_system(const acto_future *f)
{
    return f->sys;
}

int
acto_future_result(acto_future *f, void **value)
{
    switch (f->state) {
    case ACTO_FUTURE_DONE:
        if (value != NULL) {
            *value = f->u.ok.value;
        }
        return 0;
    case ACTO_FUTURE_FAILED:
        f->flags |= FUT_RETRIEVED;
        return f->u.err->e.code;
    case ACTO_FUTURE_CANCELLED:
        return ACTO_ECANCELED;
    default:
        return ACTO_EPENDING;
    }
}

void *
acto_future_take_result(acto_future *f)
{
    if (f->state != ACTO_FUTURE_DONE) {
        return NULL;
    }
    void *v = f->u.ok.value;
    f->u.ok.value = NULL;
    f->u.ok.free_fn = NULL;
    return v;
}

const acto_error *
acto_future_exception(acto_future *f)
{
    if (f->state != ACTO_FUTURE_FAILED) {
        return NULL;
    }
    f->flags |= FUT_RETRIEVED;
    return &f->u.err->e;
}

const char *
acto_future_cancel_message(const acto_future *f)
{
    return f->state == ACTO_FUTURE_CANCELLED ? f->u.cancel.msg : NULL;
}

/* ---- callbacks -------------------------------------------------------- */

/* watch keeps a pending future alive until it completes, for its
 * callbacks or notify message, and lists it so closing the system can
 * cancel it rather than leak it. */
static void
watch(acto_future *f)
{
    if (!(f->flags & FUT_CB_REF)) {
        f->flags |= FUT_CB_REF;
        f->refs++;
        acto__list_push_back(&f->sys->watched, &f->ready);
    }
}

/* link_cb appends c to f's callbacks, queued at once if f is done. */
static void
link_cb(acto_future *f, acto__cb *c)
{
    if (f->cbs_tail != NULL) {
        f->cbs_tail->next = c;
    } else {
        f->cbs = c;
    }
    f->cbs_tail = c;
    if (f->state != ACTO_FUTURE_PENDING) {
        queue_callbacks(f);
    } else {
        watch(f);
    }
}

static int
add_cb(acto_future *f, acto_future_cb cb, void *user, void (*drop)(void *))
{
    acto__cb *c = acto__malloc(sizeof(*c));
    if (c == NULL) {
        return ACTO_ENOMEM;
    }
    *c = (acto__cb){NULL, cb, user, drop, false};
    link_cb(f, c);
    return 0;
}

void
acto__future_add_cb(acto_future *f, acto__cb *c, acto_future_cb cb, void *user)
{
    *c = (acto__cb){NULL, cb, user, NULL, true};
    link_cb(f, c);
}

int
acto_future_add_done_cb(acto_future *f, acto_future_cb cb, void *user)
{
    if (f == NULL || cb == NULL) {
        return ACTO_EINVAL;
    }
    return add_cb(f, cb, user, NULL);
}

int
acto_future_remove_done_cb(acto_future *f, acto_future_cb cb, void *user)
{
    int removed = 0;
    acto__cb **p = &f->cbs;
    f->cbs_tail = NULL;
    while (*p != NULL) {
        acto__cb *c = *p;
        if (c->cb == cb && c->user == user) {
            *p = c->next;
            cb_free(c);
            removed++;
        } else {
            f->cbs_tail = c;
            p = &c->next;
        }
    }
    /* A pending future no one watches any more is no longer kept alive for
     * its callbacks (this may free it: f is not touched after). */
    if (f->cbs == NULL && f->notify == NULL && (f->flags & FUT_CB_REF) &&
        f->state == ACTO_FUTURE_PENDING) {
        f->flags &= (uint8_t)~FUT_CB_REF;
        acto__list_remove(&f->ready);
        acto_future_release(f);
    }
    return removed;
}

/* run_callbacks runs every callback of a done future, in order; callbacks
 * added meanwhile run in the same pass, after the others. */
static void
run_callbacks(acto_future *f)
{
    acto__cb *c;
    while ((c = f->cbs) != NULL) {
        f->cbs = c->next;
        if (f->cbs == NULL) {
            f->cbs_tail = NULL;
        }
        acto_future_cb cb = c->cb;
        void *user = c->user;
        cb_free(c);
        cb(f, user);
    }
}

void
acto__futures_run(acto_system *sys)
{
    acto__link *l;
    while ((l = acto__list_first(&sys->ready_futures)) != NULL) {
        acto_future *f = acto__container_of(l, acto_future, ready);
        acto__list_remove(l);
        f->flags &= (uint8_t)~FUT_QUEUED;
        if (acto__tracing(sys)) {
            /* What the callbacks do goes on in the flow f resolved in. */
            acto_msg stand;
            const acto_msg *cur = acto__trace_callbacks(sys, f, &stand);
            run_callbacks(f);
            sys->current_msg = cur;
        } else {
            run_callbacks(f);
        }
        if (f->flags & FUT_CB_REF) {
            f->flags &= (uint8_t)~FUT_CB_REF;
            acto_future_release(f);
        }
        acto_future_release(f); /* the ready list's */
    }
}

/* ---- futures and actors ----------------------------------------------- */

static void
release_thunk(void *ptr, void *user)
{
    (void)user;
    acto_future_release(ptr);
}

acto_future *
acto_msg_future(const acto_msg *m)
{
    if (m->kind == ACTO_PAYLOAD_PTR && m->u.ptr.free_fn == release_thunk) {
        return m->u.ptr.ptr;
    }
    return NULL;
}

/* future_msg builds the message that carries f (and a reference to it). */
static acto_msg *
future_msg(acto_system *sys, acto_future *f, uint32_t type)
{
    acto_msg *m = acto__msg_alloc(sys);
    if (m == NULL) {
        return NULL;
    }
    m->type = type;
    m->kind = ACTO_PAYLOAD_PTR;
    m->flags |= MSG_OWNS;
    m->u.ptr.ptr = f;
    m->u.ptr.free_fn = release_thunk;
    m->u.ptr.user = NULL;
    acto_future_retain(f);
    return m;
}

void
acto__deliver_on_done(acto_future *f, void *user)
{
    (void)f;
    acto_msg *m = user;
    acto__deliver(m->sys, NULL, m->to, m, SEND_LANE);
}

static void
drop_msg(void *user)
{
    acto__msg_release(user);
}

/* send_when_done delivers a prebuilt message once f is done: built now, so
 * the notification itself can never fail for lack of memory later. */
static int
send_when_done(acto_future *f, acto_ref to, uint32_t type, acto_ref sender)
{
    acto_msg *m = future_msg(f->sys, f, type);
    if (m == NULL) {
        return ACTO_ENOMEM;
    }
    m->to = to;
    m->sender = sender;
    if (f->state == ACTO_FUTURE_PENDING && f->notify == NULL) {
        f->notify = m;
        /* A pending ask needs no watching: m's reference keeps it alive,
         * and closing the system cancels every ask in the ask table, which
         * breaks the cycle between f and m as the watched list would. */
        if (!(f->flags & FUT_ASK)) {
            watch(f);
        }
        return 0;
    }
    int rc = add_cb(f, acto__deliver_on_done, m, drop_msg);
    if (rc != 0) {
        acto__msg_release(m);
    }
    return rc;
}

int
acto_future_notify(acto_ctx *ctx, acto_future *f, uint32_t type)
{
    if (ctx == NULL || f == NULL || type >= ACTO_MSG_SYSTEM_BASE) {
        return ACTO_EINVAL;
    }
    acto_actor *a = ctx_actor(ctx);
    if (a->sys->current != a) {
        return ACTO_EINVAL;
    }
    return send_when_done(f, a->self, type, a->self);
}

int
acto_future_pipe_to(acto_future *f, acto_ref to, uint32_t type)
{
    if (f == NULL || type >= ACTO_MSG_SYSTEM_BASE) {
        return ACTO_EINVAL;
    }
    return send_when_done(f, to, type, ACTO_REF_NONE);
}

/* ---- then ------------------------------------------------------------- */

typedef struct then_step {
    acto_then_fn fn;
    void *user;
    acto_future *prev; /* the future the step waits for */
    acto_future *out;  /* the chain's future */
    acto_future *next; /* the step in flight, once fn returned one */
} then_step;

static void
free_step(void *ptr, void *user)
{
    (void)user;
    then_step *s = ptr;
    acto_future_release(s->prev);
    acto_future_release(s->out);
    acto_future_release(s->next);
    acto__free(s, sizeof(*s));
}

static void
release_owner(void *value, void *owner)
{
    (void)value;
    acto_future_release(owner);
}

/* copy_outcome completes out as from completed. A result is shared, not
 * moved (others may still read from): out holds a reference to from for as
 * long as it lives. */
static void
copy_outcome(acto_future *out, acto_future *from)
{
    switch (from->state) {
    case ACTO_FUTURE_DONE:
        acto_future_retain(from);
        if (acto_future_set_result(out, from->u.ok.value, release_owner,
                                   from) != 0) {
            acto_future_release(from); /* out was completed first */
        }
        break;
    case ACTO_FUTURE_FAILED:
        from->flags |= FUT_RETRIEVED;
        acto__future_fail_copy(out, &from->u.err->e);
        break;
    default:
        acto_future_cancel(out, acto_future_cancel_message(from));
        break;
    }
}

/* The chain's callbacks each hold a reference to the other future they
 * touch, dropped when they run or are dropped. */
static void
release_user(void *user)
{
    acto_future_release(user);
}

static void
on_next_done(acto_future *next, void *user)
{
    copy_outcome(user, next);
    acto_future_release(user);
}

static void
on_out_done(acto_future *out, void *user)
{
    acto_future *next = user;
    if (acto_future_cancelled(out)) {
        acto_future_cancel(next, acto_future_cancel_message(out));
    }
    acto_future_release(next);
}

void
acto__run_then(acto_actor *a, acto_msg *m)
{
    then_step *s = m->u.ptr.ptr;
    if (acto_future_done(s->out)) {
        return; /* the chain was cancelled before this step could run */
    }
    acto_future *next = s->fn(actor_ctx(a), a->state, s->prev, s->user);
    if (next == NULL) {
        copy_outcome(s->out, s->prev);
        return;
    }
    s->next = next;
    /* The step's result completes the chain; cancelling the chain cancels
     * the step in flight. */
    acto_future_retain(s->out);
    if (add_cb(next, on_next_done, s->out, release_user) != 0) {
        acto_future_release(s->out);
        acto_future_cancel(next, "out of memory chaining a step");
        acto_future_cancel(s->out, "out of memory chaining a step");
        return;
    }
    acto_future_retain(next);
    if (add_cb(s->out, on_out_done, next, release_user) != 0) {
        acto_future_release(next);
        /* The chain still completes with the step; only cancelling the
         * chain would not reach the step. */
    }
}

int
acto_future_then(acto_ctx *ctx, acto_future *f, acto_then_fn fn, void *user,
                 acto_future **out)
{
    if (ctx == NULL || f == NULL || fn == NULL || out == NULL) {
        return ACTO_EINVAL;
    }
    acto_actor *a = ctx_actor(ctx);
    acto_system *sys = a->sys;
    if (sys->current != a) {
        return ACTO_EINVAL;
    }
    acto_future *o;
    int rc = acto_future_new(sys, &o);
    if (rc != 0) {
        return rc;
    }
    then_step *s = acto__malloc(sizeof(*s));
    acto_msg *m = s != NULL ? acto__msg_alloc(sys) : NULL;
    if (m == NULL) {
        acto__free(s, sizeof(*s));
        acto_future_release(o);
        return ACTO_ENOMEM;
    }
    acto_future_retain(f);
    acto_future_retain(o);
    *s = (then_step){fn, user, f, o, NULL};
    m->type = ACTO__MSG_THEN;
    m->flags |= MSG_SLOW | MSG_OWNS; /* run by receive_special */
    m->kind = ACTO_PAYLOAD_PTR;
    m->u.ptr.ptr = s;
    m->u.ptr.free_fn = free_step; /* releases prev and the chain's ref */
    m->u.ptr.user = NULL;
    m->to = a->self;
    m->sender = a->self;
    rc = add_cb(f, acto__deliver_on_done, m, drop_msg);
    if (rc != 0) {
        acto__msg_release(m);
        acto_future_release(o);
        return rc;
    }
    *out = o;
    return 0;
}

void
acto__watched_cancel_all(acto_system *sys)
{
    acto__link *l;
    while ((l = acto__list_first(&sys->watched)) != NULL) {
        acto_future_cancel(acto__container_of(l, acto_future, ready),
                           "the system closed");
    }
}
