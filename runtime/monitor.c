/* Monitors: down notices to watchers when an actor stops. */
#include "internal.h"

int
acto__send_down(acto_system *sys, acto_ref watcher, acto_ref target,
                uint64_t id, acto_exit_kind kind, acto__error_box *err)
{
    acto_msg *m = acto__msg_alloc(sys);
    if (m == NULL) {
        return ACTO_ENOMEM;
    }
    m->type = ACTO_MSG_DOWN;
    m->sender = target;
    if (err != NULL) {
        acto__error_ref(err);
        m->flags |= MSG_OWNS;
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
    acto__actor_ext *x = a->ext;
    if (x == NULL) {
        return;
    }
    acto__link *l;
    while ((l = acto__list_first(&x->watchers)) != NULL) {
        acto__monitor *mon = acto__container_of(l, acto__monitor, by_target);
        /* Out of memory loses this notice; the watcher can still find the
         * target dead with acto_alive. */
        (void)acto__send_down(a->sys, mon->watcher, a->self, mon->id,
                              (acto_exit_kind)a->exit_kind, x->error);
        free_monitor(mon);
    }
    while ((l = acto__list_first(&x->watching)) != NULL) {
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
    if (t == NULL || t->life == LIFE_DEAD) {
        uint64_t mid = sys->next_monitor_id + 1;
        int rc =
            acto__send_down(sys, w->self, target, mid, ACTO_EXIT_NOACTOR, NULL);
        if (rc == 0) {
            sys->next_monitor_id = mid;
            *id = mid;
        }
        return rc;
    }
    acto__monitor *mon = acto__malloc(sizeof(*mon));
    if (mon == NULL || acto__ext(w) == NULL || acto__ext(t) == NULL) {
        acto__free(mon, sizeof(*mon));
        return ACTO_ENOMEM;
    }
    *mon = (acto__monitor){
        .id = ++sys->next_monitor_id, .watcher = w->self, .target = target};
    acto__list_push_back(&t->ext->watchers, &mon->by_target);
    acto__list_push_back(&w->ext->watching, &mon->by_watcher);
    *id = mon->id;
    return 0;
}

int
acto_demonitor(acto_ctx *ctx, uint64_t id)
{
    acto__actor_ext *x = ctx_actor(ctx)->ext;
    if (x == NULL) {
        return ACTO_ENOTFOUND;
    }
    for (acto__link *l = x->watching.next; l != &x->watching; l = l->next) {
        acto__monitor *mon = acto__container_of(l, acto__monitor, by_watcher);
        if (mon->id == id) {
            free_monitor(mon);
            return 0;
        }
    }
    return ACTO_ENOTFOUND;
}
