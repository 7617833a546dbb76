/* Actors: spawn, stop, fail, finalize; contexts and monitors.
 *
 * Actors come from slabs, so a live idle actor costs its 112-byte core and
 * a slot; the parts few actors use live in an extension allocated on first
 * use (acto__ext). */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_BATCH 64
#define MAX_LABEL 255
#define SLAB_ACTORS 64

_Static_assert(sizeof(acto_actor) <= 112, "an idle actor must stay small");

static acto_ref
make_ref(const acto_system *sys, uint32_t slot, uint32_t gen)
{
    return (acto_ref){((uint64_t)sys->shard << 56) |
                      ((uint64_t)(gen & 0xFFFFFFu) << 32) | slot};
}

bool
acto_in_handler(const acto_system *sys)
{
    return sys != NULL && sys->current != NULL;
}

bool
acto_alive(const acto_system *sys, acto_ref ref)
{
    acto_actor *a = acto__lookup(sys, ref);
    return a != NULL && a->life <= LIFE_RUNNING;
}

/* ---- memory: slabs and extensions ------------------------------------- */

/* Actors come from slabs of SLAB_ACTORS, found from an actor by its index
 * in its slab. A slab that empties goes back to the allocator, except a
 * few kept for the next spawns, so memory returns to where it was once a
 * crowd of actors has stopped, without a malloc per spawn in between. */
#define KEEP_EMPTY_SLABS 4

typedef struct slab {
    acto__link link; /* on aslabs (some free) or aslabs_full */
    acto_actor *free;
    uint32_t n_free;
    acto_actor actors[SLAB_ACTORS];
} slab;

static slab *
slab_of(acto_actor *a)
{
    acto_actor *first = a - a->slab_pos;
    return (slab *)(void *)((char *)first - offsetof(slab, actors));
}

static slab *
slab_new(acto_system *sys)
{
    slab *s = acto__malloc(sizeof(*s));
    if (s == NULL) {
        return NULL;
    }
    s->free = NULL;
    for (int i = SLAB_ACTORS - 1; i >= 0; i--) {
        s->actors[i].next_run = s->free;
        s->actors[i].slab_pos = (uint8_t)i;
        s->free = &s->actors[i];
    }
    s->n_free = SLAB_ACTORS;
    acto__list_push_back(&sys->aslabs, &s->link);
    sys->aslabs_empty++;
    return s;
}

void
acto__slabs_init(acto_system *sys)
{
    acto__list_init(&sys->aslabs);
    acto__list_init(&sys->aslabs_full);
}

static acto_actor *
alloc_actor(acto_system *sys)
{
    acto__link *l = acto__list_first(&sys->aslabs);
    slab *s = l != NULL ? acto__container_of(l, slab, link) : slab_new(sys);
    if (s == NULL) {
        return NULL;
    }
    acto_actor *a = s->free;
    s->free = a->next_run;
    if (s->n_free-- == SLAB_ACTORS) {
        sys->aslabs_empty--;
    }
    if (s->n_free == 0) {
        acto__list_remove(&s->link);
        acto__list_push_back(&sys->aslabs_full, &s->link);
    }
    return a;
}

static void
free_ext(acto__actor_ext *x)
{
    if (x != NULL) {
        acto__error_unref(x->error);
        acto__free(x->label, x->label_size);
        acto__free(x, sizeof(*x));
    }
}

/* free_actor gives a's memory back to its slab (init_actor wipes it all
 * but slab_pos on the next spawn). */
static void
free_actor(acto_actor *a)
{
    acto_system *sys = a->sys;
    free_ext(a->ext);
    a->ext = NULL;
    slab *s = slab_of(a);
    a->next_run = s->free;
    s->free = a;
    if (s->n_free++ == 0) {
        acto__list_remove(&s->link);
        acto__list_push_front(&sys->aslabs, &s->link);
    }
    if (s->n_free == SLAB_ACTORS) {
        if (sys->aslabs_empty >= KEEP_EMPTY_SLABS) {
            acto__list_remove(&s->link);
            acto__free(s, sizeof(*s));
        } else {
            sys->aslabs_empty++;
        }
    }
}

static void
free_slab_list(acto__link *head)
{
    acto__link *l;
    while ((l = acto__list_first(head)) != NULL) {
        acto__list_remove(l);
        acto__free(acto__container_of(l, slab, link), sizeof(slab));
    }
}

void
acto__slabs_fini(acto_system *sys)
{
    free_slab_list(&sys->aslabs);
    free_slab_list(&sys->aslabs_full);
    sys->aslabs_empty = 0;
}

acto__actor_ext *
acto__ext(acto_actor *a)
{
    if (a->ext != NULL) {
        return a->ext;
    }
    acto__actor_ext *x = acto__calloc(1, sizeof(*x));
    if (x == NULL) {
        return NULL;
    }
    x->owner = a;
    x->park_timer.kind = HOOK_PARK;
    x->recv_timer.kind = HOOK_RECEIVE;
    acto__wheel_entry_init(&x->park_timer.entry);
    acto__wheel_entry_init(&x->recv_timer.entry);
    acto__list_init(&x->watchers);
    acto__list_init(&x->watching);
    acto__list_init(&x->names);
    a->ext = x;
    return x;
}

/* ---- spawn ------------------------------------------------------------ */

static void
init_actor(acto_actor *a, acto_system *sys, const acto_behaviour *b,
           void *state, const acto_spawn_opts *o)
{
    uint8_t pos = a->slab_pos;
    memset(a, 0, sizeof(*a));
    a->slab_pos = pos;
    a->sys = sys;
    a->beh = b;
    a->state = state;
    a->life = LIFE_STARTING;
    a->overflow = (uint8_t)o->overflow;
    a->batch = (uint16_t)(o->batch > 0
                              ? (o->batch < UINT16_MAX ? o->batch : UINT16_MAX)
                              : DEFAULT_BATCH);
    a->capacity = o->capacity;
    a->on_shutdown = (uint8_t)o->on_shutdown;
    a->parent = sys->current != NULL ? sys->current->self : ACTO_REF_NONE;
}

/* init_ext sets up what the options ask for. Returns 0 or ACTO_ENOMEM. */
static int
init_ext(acto_actor *a, const acto_spawn_opts *o)
{
    /* A bounded mailbox needs its park list before the first park, which
     * must not fail for lack of memory. */
    if (o->label == NULL && o->send_timeout_ms == 0 && o->capacity == 0) {
        return 0;
    }
    acto__actor_ext *x = acto__ext(a);
    if (x == NULL) {
        return ACTO_ENOMEM;
    }
    x->send_timeout_ms = o->send_timeout_ms;
    if (o->label != NULL) {
        size_t n = strlen(o->label) + 1;
        if ((x->label = acto__malloc(n)) == NULL) {
            return ACTO_ENOMEM;
        }
        memcpy(x->label, o->label, n);
        x->label_size = n;
    }
    return 0;
}

static bool
valid_spawn(const acto_system *sys, const acto_behaviour *b,
            const acto_spawn_opts *o, const acto_ref *out)
{
    return sys != NULL && b != NULL && b->receive != NULL && out != NULL &&
           (unsigned)o->overflow <= ACTO_OVERFLOW_DROP_NEWEST &&
           (unsigned)o->on_shutdown <= ACTO_SHUTDOWN_NOTIFY &&
           (o->label == NULL || strlen(o->label) <= MAX_LABEL);
}

/* enter makes a the running actor for one of its hooks; leave undoes it. */
typedef struct running {
    acto_actor *actor;
    const acto_msg *msg;
    bool hot;
} running;

/* A hook handles no message: what it sends starts flows, so its sends
 * take the traced path (sys->trace_hot) while tracing. */
static running
enter(acto_actor *a)
{
    acto_system *sys = a->sys;
    running prev = {sys->current, sys->current_msg, sys->trace_hot != NULL};
    sys->current = a;
    sys->current_msg = NULL;
    sys->trace_hot = sys->trace;
    a->flags |= ACTOR_IN_HANDLER;
    return prev;
}

static void
leave(acto_actor *a, running prev)
{
    acto_system *sys = a->sys;
    a->flags &= (uint8_t)~ACTOR_IN_HANDLER;
    sys->current = prev.actor;
    sys->current_msg = prev.msg;
    acto__trace_cool(sys, prev.hot);
}

/* run_start runs the start hook as the actor. Returns its result. */
static int
run_start(acto_actor *a)
{
    if (a->beh->start == NULL) {
        return 0;
    }
    running prev = enter(a);
    int rc = a->beh->start(actor_ctx(a), a->state);
    leave(a, prev);
    return rc;
}

/* drop_ext_links unhooks everything the extension ties to others. */
static void
drop_ext_links(acto_actor *a)
{
    if (a->ext == NULL) {
        return;
    }
    acto__park_timer_stop(a);
    acto__wheel_remove(&a->sys->wheel, &a->ext->recv_timer.entry);
    acto__timers_removed(a->sys);
    acto__registry_drop_actor(a);
}

/* unspawn undoes a spawn whose start hook failed: the actor never existed,
 * so no stop hook runs; messages sent to it during its start hook become
 * dead letters and monitors set on it learn it is gone. */
static void
unspawn(acto_actor *a)
{
    acto_system *sys = a->sys;
    a->life = LIFE_DEAD;
    a->exit_kind = ACTO_EXIT_NOACTOR;
    acto__discard_mailbox(a);
    acto__notify_down(a);
    drop_ext_links(a);
    acto__slots_remove(&sys->actors, acto_ref_slot(a->self));
    free_actor(a);
}

int
acto_spawn(acto_system *sys, const acto_behaviour *b, void *state,
           const acto_spawn_opts *opts, acto_ref *out)
{
    static const acto_spawn_opts defaults = {0};
    const acto_spawn_opts *o = opts != NULL ? opts : &defaults;
    if (!valid_spawn(sys, b, o, out)) {
        return ACTO_EINVAL;
    }
    if (sys->closing) {
        return ACTO_ECLOSED;
    }
    acto_actor *a = alloc_actor(sys);
    if (a == NULL) {
        return ACTO_ENOMEM;
    }
    init_actor(a, sys, b, state, o);
    uint32_t slot, gen;
    int rc = init_ext(a, o);
    if (rc == 0) {
        rc = acto__slots_add(&sys->actors, a, &slot, &gen);
    }
    if (rc != 0) {
        free_actor(a);
        return rc;
    }
    a->self = make_ref(sys, slot, gen);
    if (acto__tracing(sys)) {
        acto__trace_actor_born(sys, a); /* its start hook's sends too */
    }
    rc = run_start(a);
    if (rc != 0) {
        unspawn(a);
        return rc < 0 ? rc : ACTO_EFAILED;
    }
    sys->stats.spawned++;
    sys->stats.live++;
    if (acto__tracing(sys)) {
        if (a->flags & ACTOR_TRACED) {
            acto__trace_spawned(sys, a);
        }
    }
    if (a->life == LIFE_STARTING) {
        a->life = LIFE_RUNNING;
        acto__schedule(a);
    } else if (!(a->flags & ACTOR_QUEUED)) {
        /* It stopped itself in its start hook, where acto__mark_stopping
         * could not queue it (it was in a hook): finish the stop now. */
        acto__push_dying(a);
    }
    *out = a->self;
    return 0;
}

/* ---- stopping --------------------------------------------------------- */

void
acto__push_dying(acto_actor *a)
{
    acto_system *sys = a->sys;
    a->next_run = NULL;
    if (sys->dying == NULL) {
        sys->dying = a;
    } else {
        sys->dying_tail->next_run = a;
    }
    sys->dying_tail = a;
    acto__kick(sys);
}

void
acto__mark_stopping(acto_actor *a, acto_exit_kind kind)
{
    a->life = LIFE_STOPPING;
    a->exit_kind = (uint8_t)kind;
    if (acto__tracing(a->sys)) {
        acto__trace_stop_cause(a, 0, 0);
    }
    /* A running handler finishes first, and a queued actor is passed to
     * the dying list when the scheduler reaches it. */
    if (!(a->flags & (ACTOR_IN_HANDLER | ACTOR_QUEUED))) {
        acto__push_dying(a);
    }
}

static int
stop_with(acto_system *sys, acto_ref ref, acto_exit_kind kind)
{
    if (sys == NULL) {
        return ACTO_EINVAL;
    }
    acto_actor *a = acto__lookup(sys, ref);
    if (a == NULL || a->life == LIFE_DEAD) {
        return ACTO_ENOACTOR;
    }
    if (a->life == LIFE_STOPPING) {
        return ACTO_EALREADY;
    }
    /* An actor stopping itself after a shutdown notice obeys it. */
    if (kind == ACTO_EXIT_NORMAL && (a->flags & ACTOR_SHUTDOWN_ASKED)) {
        kind = ACTO_EXIT_SHUTDOWN;
    }
    acto__mark_stopping(a, kind);
    return 0;
}

static bool
mailbox_empty(const acto_actor *a)
{
    return a->mb_head == NULL && a->lane_head == NULL &&
           (a->ext == NULL || a->ext->parked.count == 0);
}

void
acto__drain_check(acto_actor *a)
{
    if (a->life <= LIFE_RUNNING && mailbox_empty(a)) {
        acto__mark_stopping(a, ACTO_EXIT_SHUTDOWN);
    }
}

/* notify_shutdown puts ACTO_MSG_SHUTDOWN on a's system lane. */
static int
notify_shutdown(acto_actor *a)
{
    acto_msg *m = acto__msg_alloc(a->sys);
    if (m == NULL) {
        return ACTO_ENOMEM;
    }
    m->type = ACTO_MSG_SHUTDOWN;
    return acto__deliver(a->sys, NULL, a->self, m, SEND_LANE);
}

int
acto_shutdown(acto_system *sys, acto_ref ref)
{
    acto_actor *a = sys != NULL ? acto__lookup(sys, ref) : NULL;
    if (a == NULL || a->life == LIFE_DEAD) {
        return ACTO_ENOACTOR;
    }
    if (a->life == LIFE_STOPPING || (a->flags & ACTOR_SHUTDOWN_ASKED)) {
        return ACTO_EALREADY;
    }
    switch ((acto_on_shutdown)a->on_shutdown) {
    case ACTO_SHUTDOWN_NOTIFY: {
        int rc = notify_shutdown(a);
        if (rc != 0) {
            return rc;
        }
        break;
    }
    case ACTO_SHUTDOWN_DRAIN:
        a->flags |= ACTOR_DRAINING;
        /* A running or queued actor is checked at the end of its turn. */
        if (!(a->flags & (ACTOR_IN_HANDLER | ACTOR_QUEUED))) {
            acto__drain_check(a);
        }
        break;
    case ACTO_SHUTDOWN_STOP:
    default:
        acto__mark_stopping(a, ACTO_EXIT_SHUTDOWN);
        break;
    }
    a->flags |= ACTOR_SHUTDOWN_ASKED;
    return 0;
}

int
acto_stop(acto_system *sys, acto_ref ref)
{
    return stop_with(sys, ref, ACTO_EXIT_NORMAL);
}

int
acto_kill(acto_system *sys, acto_ref ref)
{
    return stop_with(sys, ref, ACTO_EXIT_KILLED);
}

/* ---- failure ---------------------------------------------------------- */

/* take_pending returns the error acto_fail recorded for a with this code,
 * or a plain one made from the code. */
static acto__error_box *
take_pending(acto_actor *a, int code)
{
    acto_system *sys = a->sys;
    acto__error_box *b = sys->pending;
    sys->pending = NULL;
    if (b != NULL &&
        (b->e.code != code || !acto_ref_eq(b->e.origin, a->self))) {
        acto__error_unref(b);
        b = NULL;
    }
    if (b == NULL) {
        b = acto__error_new(code, acto_err_name(code), acto_strerror(code),
                            a->self);
    }
    return b;
}

/* parent_resumes asks a's parent whether a, whose handler failed with b
 * while handling m, goes on. The message is dropped either way. */
static bool
parent_resumes(acto_actor *a, acto__error_box *b, acto_msg *m)
{
    acto_actor *p = acto__lookup(a->sys, a->parent);
    if (m == NULL || b == NULL || p == NULL || p->life > LIFE_RUNNING ||
        p->ext == NULL || p->ext->fail_fn == NULL) {
        return false;
    }
    b->msg = m;
    b->e.msg = m;
    acto_fail_action act =
        p->ext->fail_fn(a->sys, a->self, &b->e, p->ext->fail_user);
    if (act != ACTO_FAIL_RESUME) {
        return false;
    }
    acto__error_unref(b); /* frees m too */
    return true;
}

void
acto__fail(acto_actor *a, int code, acto_msg *m)
{
    acto_system *sys = a->sys;
    acto__error_box *b = take_pending(a, code);
    /* An ask whose request killed its handler fails with that error at
     * once, as awaiting a task that raised gives its exception. */
    if (m != NULL && (m->flags & MSG_ASK)) {
        if (b != NULL) {
            acto__ask_failed(sys, m, &b->e);
        } else {
            acto__ask_lost(sys, m);
        }
    }
    if (acto__traced(sys, a) && (m == NULL || !acto__msg_out(sys, m))) {
        uint64_t flow = m != NULL ? acto__msg_flow(m) : sys->trace_flow;
        uint64_t id = m != NULL ? m->id : 0;
        acto__trace_record(sys, ACTO_TRACE_FAIL, flow, id, 0, a->self,
                           a->parent, 0, (uint32_t)code);
        acto__trace_stop_cause(a, flow, id);
        acto__trace_failed(sys);
    }
    if (parent_resumes(a, b, m)) {
        sys->stats.failures++;
        return;
    }
    acto__actor_ext *x = acto__ext(a);
    if (b != NULL && x != NULL) {
        b->msg = m; /* quarantined: kept aside, not handled again */
        b->e.msg = m;
        acto__error_unref(x->error);
        x->error = b;
    } else {
        /* Out of memory: the failure stays known through the exit kind. */
        acto__error_unref(b);
        if (m != NULL) {
            acto__msg_release(m);
        }
    }
    sys->stats.failures++;
    if (a->life < LIFE_STOPPING) {
        acto__mark_stopping(a, ACTO_EXIT_FAILED);
    } else {
        a->exit_kind = ACTO_EXIT_FAILED;
    }
}

int
acto_fail(acto_ctx *ctx, int code, const char *type, const char *fmt, ...)
{
    acto_actor *a = ctx_actor(ctx);
    acto_system *sys = a->sys;
    if (code >= 0) {
        code = ACTO_EFAILED;
    }
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt != NULL ? fmt : "", ap);
    va_end(ap);
    acto__error_unref(sys->pending);
    sys->pending = acto__error_new(
        code, type != NULL ? type : acto_err_name(code), text, a->self);
    return code;
}

int
acto_set_child_fail_fn(acto_ctx *ctx, acto_child_fail_fn fn, void *user)
{
    acto__actor_ext *x = acto__ext(ctx_actor(ctx));
    if (x == NULL) {
        return ACTO_ENOMEM;
    }
    x->fail_fn = fn;
    x->fail_user = user;
    return 0;
}

int
acto_watch_children(acto_ctx *ctx, bool on)
{
    acto__actor_ext *x = acto__ext(ctx_actor(ctx));
    if (x == NULL) {
        return ACTO_ENOMEM;
    }
    x->watch_children = on;
    return 0;
}

acto_ref
acto_parent_of(const acto_system *sys, acto_ref ref)
{
    acto_actor *a = sys != NULL ? acto__lookup(sys, ref) : NULL;
    return a != NULL && a->life <= LIFE_RUNNING ? a->parent : ACTO_REF_NONE;
}

static acto__error_box *
error_of(const acto_actor *a)
{
    return a->ext != NULL ? a->ext->error : NULL;
}

/* ---- finalizing ------------------------------------------------------- */

static void
run_stop_hook(acto_actor *a)
{
    if (a->beh->stop == NULL) {
        return;
    }
    acto__error_box *err = error_of(a);
    acto_exit_reason reason = {(acto_exit_kind)a->exit_kind,
                               err != NULL ? &err->e : NULL};
    running prev = enter(a);
    a->beh->stop(actor_ctx(a), a->state, &reason);
    leave(a, prev);
}

/* The error reported when a failure's own error could not be allocated. */
static void
report_bare_failure(acto_actor *a)
{
    acto_error e = {ACTO_ENOMEM, "OutOfMemory",
                    "an actor failed and its error could not be recorded",
                    a->self, NULL};
    acto__report_exception(a->sys, &e);
}

/* tell_parent delivers a failure to the parent's system lane, or to the
 * exception handler when no live parent can receive it. */
static void
tell_parent(acto_actor *a)
{
    acto_system *sys = a->sys;
    acto_actor *p = acto__lookup(sys, a->parent);
    if (p != NULL && p->life <= LIFE_RUNNING && p->ext != NULL &&
        p->ext->watch_children) {
        /* Out of memory loses this notice, as with a monitor. */
        (void)acto__send_down(sys, p->self, a->self, 0,
                              (acto_exit_kind)a->exit_kind, error_of(a));
        return;
    }
    if (a->exit_kind != ACTO_EXIT_FAILED) {
        return;
    }
    acto__error_box *err = error_of(a);
    if (err == NULL) {
        report_bare_failure(a);
        return;
    }
    if (acto_alive(sys, a->parent)) {
        acto_msg *m = acto__msg_alloc(sys);
        if (m != NULL) {
            m->type = ACTO_MSG_CHILD_FAILED;
            m->flags |= MSG_OWNS;
            m->sender = a->self;
            acto__error_ref(err);
            m->u.error = err;
            acto__deliver(sys, NULL, a->parent, m, SEND_LANE);
            return;
        }
    }
    acto__report_exception(sys, &err->e);
}

void
acto__finalize(acto_actor *a)
{
    acto_system *sys = a->sys;
    if (a->ext != NULL) {
        acto__park_timer_stop(a);
        acto__wheel_remove(&sys->wheel, &a->ext->recv_timer.entry);
        acto__timers_removed(sys);
    }
    run_stop_hook(a);
    /* While tracing, the notices its stop sends follow what stopped it. */
    const acto_msg *cur = sys->current_msg;
    if (acto__tracing(sys)) {
        cur = acto__trace_stopped(sys, a);
    }
    a->life = LIFE_DEAD;
    acto__discard_mailbox(a);
    acto__notify_down(a);
    tell_parent(a);
    sys->current_msg = cur;
    drop_ext_links(a);
    acto__slots_remove(&sys->actors, acto_ref_slot(a->self));
    sys->stats.stopped++;
    sys->stats.live--;
    free_actor(a);
}

/* ---- contexts --------------------------------------------------------- */

int
acto_call_as(acto_system *sys, acto_ref ref, const acto_behaviour *b,
             acto_as_fn fn, void *user)
{
    if (sys == NULL || b == NULL || fn == NULL) {
        return ACTO_EINVAL;
    }
    acto_actor *a = acto__lookup(sys, ref);
    if (a == NULL || a->life > LIFE_RUNNING || a->beh != b) {
        return ACTO_ENOACTOR;
    }
    if (sys->current == a) {
        return fn(actor_ctx(a), a->state, user);
    }
    /* Entering clears the current message: acto_sender is none inside. A
     * queued actor stays queued; an idle one is not (entering never
     * touches the run queue), so leave must not lose the in-handler flag
     * of a handler this call is nested in. */
    uint8_t had = a->flags & ACTOR_IN_HANDLER;
    running prev = enter(a);
    int rc = fn(actor_ctx(a), a->state, user);
    leave(a, prev);
    a->flags |= had;
    if (a->life == LIFE_STOPPING &&
        !(a->flags & (ACTOR_IN_HANDLER | ACTOR_QUEUED))) {
        acto__push_dying(a);
    }
    return rc;
}

acto_ref
acto_self(const acto_ctx *ctx)
{
    return ctx_actor(ctx)->self;
}

acto_ref
acto_sender(const acto_ctx *ctx)
{
    const acto_actor *a = ctx_actor(ctx);
    const acto_msg *m = a->sys->current == a ? a->sys->current_msg : NULL;
    return m != NULL ? m->sender : ACTO_REF_NONE;
}

acto_ref
acto_parent(const acto_ctx *ctx)
{
    return ctx_actor(ctx)->parent;
}

acto_system *
acto_ctx_system(const acto_ctx *ctx)
{
    return ctx_actor(ctx)->sys;
}
