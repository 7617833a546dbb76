/* Actors: spawn, run, stop, fail, finalize; contexts and monitors. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_BATCH 64
#define MAX_NAME 255

static acto_ref
make_ref(const acto_system *sys, uint32_t slot, uint32_t gen)
{
    return (acto_ref){((uint64_t)sys->shard << 56) |
                      ((uint64_t)(gen & 0xFFFFFFu) << 32) | slot};
}

bool
acto_alive(const acto_system *sys, acto_ref ref)
{
    acto_actor *a = acto__lookup(sys, ref);
    return a != NULL && a->life <= LIFE_RUNNING;
}

/* ---- spawn ------------------------------------------------------------ */

static void
init_actor(acto_actor *a, acto_system *sys, const acto_behaviour *b,
           void *state, const acto_spawn_opts *o)
{
    memset(a, 0, sizeof(*a));
    a->sys = sys;
    a->beh = *b;
    a->state = state;
    a->life = LIFE_STARTING;
    a->overflow = (uint8_t)o->overflow;
    a->batch = o->batch > 0 ? o->batch : DEFAULT_BATCH;
    a->capacity = o->capacity;
    a->send_timeout_ms = o->send_timeout_ms;
    a->park_timer.kind = HOOK_PARK;
    a->recv_timer.kind = HOOK_RECEIVE;
    acto__wheel_entry_init(&a->park_timer.entry);
    acto__wheel_entry_init(&a->recv_timer.entry);
    acto__list_init(&a->run_link);
    acto__list_init(&a->watchers);
    acto__list_init(&a->watching);
    acto__list_init(&a->names);
    a->parent = sys->current != NULL ? sys->current->self : ACTO_REF_NONE;
}

static int
copy_name(acto_actor *a, const char *name)
{
    if (name == NULL) {
        return 0;
    }
    size_t n = strlen(name);
    if (n > MAX_NAME) {
        return ACTO_EINVAL;
    }
    a->name = acto__malloc(n + 1);
    if (a->name == NULL) {
        return ACTO_ENOMEM;
    }
    memcpy(a->name, name, n + 1);
    a->name_size = n + 1;
    return 0;
}

static void
free_actor(acto_actor *a)
{
    acto__free(a->name, a->name_size);
    acto__free(a, sizeof(*a));
}

static bool
valid_spawn(const acto_system *sys, const acto_behaviour *b,
            const acto_spawn_opts *o, const acto_ref *out)
{
    return sys != NULL && b != NULL && b->receive != NULL && out != NULL &&
           (unsigned)o->overflow <= ACTO_OVERFLOW_DROP_NEWEST;
}

/* run_start runs the start hook as the actor. Returns its result. */
static int
run_start(acto_actor *a)
{
    if (a->beh.start == NULL) {
        return 0;
    }
    acto_system *sys = a->sys;
    acto_actor *prev = sys->current;
    sys->current = a;
    a->flags |= ACTOR_IN_HANDLER;
    int rc = a->beh.start(actor_ctx(a), a->state);
    a->flags &= (uint8_t)~ACTOR_IN_HANDLER;
    sys->current = prev;
    return rc;
}

/* unspawn undoes a spawn whose start hook failed: the actor never existed,
 * so no stop hook runs and nobody is told; messages sent to it during its
 * start hook become dead letters. */
static void
unspawn(acto_actor *a)
{
    acto_system *sys = a->sys;
    a->life = LIFE_DEAD;
    acto__discard_mailbox(a);
    acto__notify_down(a);
    acto__registry_drop_actor(a);
    acto__park_timer_stop(a);
    acto__wheel_remove(&sys->wheel, &a->recv_timer.entry);
    acto__error_unref(a->pending);
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
    acto_actor *a = acto__malloc(sizeof(*a));
    if (a == NULL) {
        return ACTO_ENOMEM;
    }
    init_actor(a, sys, b, state, o);
    uint32_t slot, gen;
    int rc = copy_name(a, o->name);
    if (rc == 0) {
        rc = acto__slots_add(&sys->actors, a, &slot, &gen);
    }
    if (rc != 0) {
        free_actor(a);
        return rc;
    }
    a->self = make_ref(sys, slot, gen);
    rc = run_start(a);
    if (rc != 0) {
        unspawn(a);
        return rc < 0 ? rc : ACTO_EFAILED;
    }
    sys->stats.spawned++;
    sys->stats.live++;
    if (a->life == LIFE_STARTING) {
        a->life = LIFE_RUNNING;
        acto__schedule(a);
    }
    *out = a->self;
    return 0;
}

/* ---- stopping --------------------------------------------------------- */

void
acto__mark_stopping(acto_actor *a, acto_exit_kind kind)
{
    acto_system *sys = a->sys;
    a->life = LIFE_STOPPING;
    a->exit_kind = (uint8_t)kind;
    if (a->flags & ACTOR_QUEUED) {
        acto__list_remove(&a->run_link);
        a->flags &= (uint8_t)~ACTOR_QUEUED;
    }
    /* A running handler finishes first; run_actor then sends it here. */
    if (!(a->flags & ACTOR_IN_HANDLER)) {
        a->flags |= ACTOR_DYING;
        acto__list_push_back(&sys->dying, &a->run_link);
        acto__kick(sys);
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
    acto__mark_stopping(a, kind);
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

void
acto__fail(acto_actor *a, int code, acto_msg *m)
{
    acto_system *sys = a->sys;
    acto__error_box *b = a->pending;
    a->pending = NULL;
    if (b == NULL || b->e.code != code) {
        acto__error_unref(b);
        b = acto__error_new(code, acto_err_name(code), acto_strerror(code),
                            a->self);
    }
    if (b != NULL) {
        b->msg = m; /* quarantined: kept aside, not handled again */
        b->e.msg = m;
    } else if (m != NULL) {
        acto__msg_release(m); /* out of memory: the failure stays known
                                 through the exit kind alone */
    }
    acto__error_unref(a->error);
    a->error = b;
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
    if (code >= 0) {
        code = ACTO_EFAILED;
    }
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt != NULL ? fmt : "", ap);
    va_end(ap);
    acto__error_unref(a->pending);
    a->pending = acto__error_new(
        code, type != NULL ? type : acto_err_name(code), text, a->self);
    return code;
}

/* ---- monitors --------------------------------------------------------- */

static int
send_down(acto_system *sys, acto_ref watcher, acto_ref target, uint64_t id,
          acto_exit_kind kind, acto__error_box *err)
{
    acto_msg *m = acto__msg_alloc(sys);
    if (m == NULL) {
        return ACTO_ENOMEM;
    }
    m->type = ACTO_MSG_DOWN;
    m->sender = target;
    if (err != NULL) {
        acto__error_ref(err);
    }
    m->u.down = (acto_down){target, id, {kind, err != NULL ? &err->e : NULL}};
    return acto__deliver(sys, NULL, watcher, m, SEND_LANE);
}

static void
free_monitor(acto__monitor *mon)
{
    acto__list_remove(&mon->by_target);
    acto__list_remove(&mon->by_watcher);
    acto__free(mon, sizeof(*mon));
}

void
acto__notify_down(acto_actor *a)
{
    acto_system *sys = a->sys;
    acto__link *l;
    while ((l = acto__list_first(&a->watchers)) != NULL) {
        acto__monitor *mon = acto__container_of(l, acto__monitor, by_target);
        /* Out of memory loses this notice; the watcher can still find the
         * target dead with acto_alive. */
        (void)send_down(sys, mon->watcher, a->self, mon->id,
                        (acto_exit_kind)a->exit_kind, a->error);
        free_monitor(mon);
    }
    while ((l = acto__list_first(&a->watching)) != NULL) {
        free_monitor(acto__container_of(l, acto__monitor, by_watcher));
    }
}

int
acto_monitor(acto_ctx *ctx, acto_ref target, uint64_t *id)
{
    if (ctx == NULL || id == NULL) {
        return ACTO_EINVAL;
    }
    acto_actor *w = ctx_actor(ctx);
    acto_system *sys = w->sys;
    acto_actor *t = acto__lookup(sys, target);
    uint64_t mid = ++sys->next_monitor_id;
    if (t == NULL || t->life == LIFE_DEAD) {
        int rc = send_down(sys, w->self, target, mid, ACTO_EXIT_NOACTOR, NULL);
        if (rc == 0) {
            *id = mid;
        }
        return rc;
    }
    acto__monitor *mon = acto__malloc(sizeof(*mon));
    if (mon == NULL) {
        return ACTO_ENOMEM;
    }
    *mon = (acto__monitor){.id = mid, .watcher = w->self, .target = target};
    acto__list_push_back(&t->watchers, &mon->by_target);
    acto__list_push_back(&w->watching, &mon->by_watcher);
    *id = mid;
    return 0;
}

int
acto_demonitor(acto_ctx *ctx, uint64_t id)
{
    acto_actor *w = ctx_actor(ctx);
    for (acto__link *l = w->watching.next; l != &w->watching; l = l->next) {
        acto__monitor *mon = acto__container_of(l, acto__monitor, by_watcher);
        if (mon->id == id) {
            free_monitor(mon);
            return 0;
        }
    }
    return ACTO_ENOTFOUND;
}

/* ---- finalizing ------------------------------------------------------- */

static void
run_stop_hook(acto_actor *a)
{
    if (a->beh.stop == NULL) {
        return;
    }
    acto_system *sys = a->sys;
    acto_exit_reason reason = {(acto_exit_kind)a->exit_kind,
                               a->error != NULL ? &a->error->e : NULL};
    acto_actor *prev = sys->current;
    sys->current = a;
    a->flags |= ACTOR_IN_HANDLER;
    a->beh.stop(actor_ctx(a), a->state, &reason);
    a->flags &= (uint8_t)~ACTOR_IN_HANDLER;
    sys->current = prev;
}

/* tell_parent delivers a failure to the parent's system lane, or to the
 * exception handler when no live parent can receive it. */
static void
tell_parent(acto_actor *a)
{
    acto_system *sys = a->sys;
    if (a->exit_kind != ACTO_EXIT_FAILED || a->error == NULL) {
        return;
    }
    if (acto_alive(sys, a->parent)) {
        acto_msg *m = acto__msg_alloc(sys);
        if (m != NULL) {
            m->type = ACTO_MSG_CHILD_FAILED;
            m->sender = a->self;
            acto__error_ref(a->error);
            m->u.error = a->error;
            acto__deliver(sys, NULL, a->parent, m, SEND_LANE);
            return;
        }
    }
    acto__report_exception(sys, &a->error->e);
}

void
acto__finalize(acto_actor *a)
{
    acto_system *sys = a->sys;
    acto__park_timer_stop(a);
    acto__wheel_remove(&sys->wheel, &a->recv_timer.entry);
    run_stop_hook(a);
    a->life = LIFE_DEAD;
    acto__discard_mailbox(a);
    acto__notify_down(a);
    tell_parent(a);
    acto__registry_drop_actor(a);
    acto__error_unref(a->error);
    acto__error_unref(a->pending);
    acto__slots_remove(&sys->actors, acto_ref_slot(a->self));
    sys->stats.stopped++;
    sys->stats.live--;
    free_actor(a);
}

/* ---- contexts --------------------------------------------------------- */

acto_ref
acto_self(const acto_ctx *ctx)
{
    return ctx_actor(ctx)->self;
}

acto_ref
acto_sender(const acto_ctx *ctx)
{
    const acto_msg *m = ctx_actor(ctx)->current;
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
