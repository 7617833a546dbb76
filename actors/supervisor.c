/* The supervisor: starting children, watching them (as their parent, or
 * through a monitor for one another actor spawned) and acting on their
 * stops by strategy, intensity and backoff.
 *
 * A supervisor never blocks: stopping a child means asking it
 * (acto_shutdown), arming a kill timer for its budget and waiting for its
 * down message. Children queued to stop (stopq) are asked one at a time in
 * queue order, so a group stops in exact reverse start order; a dynamic
 * pool asks all at once, as OTP does. What happens once all are down
 * depends on the phase: restart the waiting children (restartq), stop the
 * supervisor, or fail it (escalation). */
#include "sup_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The supervisor's own messages (timers it sets on itself). */
#define MSG_KILL (ACTO_MSG_SYSTEM_BASE - 1u)  /* a budget ran out */
#define MSG_RETRY (ACTO_MSG_SYSTEM_BASE - 2u) /* run the restart step */
#define RETRY_QUEUED UINT64_MAX /* retry_timer: a retry message, no timer */

/* forget drops a child record entirely (a temporary or dynamic child). */
static void
forget(sup *s, child *c)
{
    if (c->queue == Q_STOP) {
        acto__sup_queue_remove(&s->stopq, c);
    } else if (c->queue == Q_RESTART) {
        acto__sup_queue_remove(&s->restartq, c);
    }
    acto__sup_list_remove(&s->all, c);
    acto__sup_free_child(s, c);
}

/* ---- starting children ------------------------------------------------ */

int
acto__sup_start_one(acto_ctx *ctx, sup *s, child *c)
{
    acto_ref ref = ACTO_REF_NONE;
    int rc = c->start(ctx, c->arg, c->arg_len, &ref);
    if (rc == ACTO_SUP_IGNORE) {
        c->state = ACTO_CHILD_TERMINATED;
        return 0;
    }
    if (rc == 0 && acto_ref_is_none(ref)) {
        rc = ACTO_EINVAL; /* claimed success without a child */
    }
    if (rc != 0) {
        return rc < 0 ? rc : ACTO_EFAILED;
    }
    c->ref = ref;
    c->monitor = 0;
    rc = acto__sup_map_put(&s->by_ref, c);
    /* Its own children report their stops (acto_watch_children); one
     * another actor spawned needs a monitor. */
    if (rc == 0 && !acto_ref_eq(acto_parent_of(s->sys, ref), s->self)) {
        rc = acto_monitor(ctx, ref, &c->monitor);
        if (rc != 0) {
            acto__sup_map_del(&s->by_ref, c);
        }
    }
    if (rc != 0) {
        /* Unwatched, it could not be supervised: undo the start. */
        acto_kill(s->sys, ref);
        c->ref = ACTO_REF_NONE;
        return rc;
    }
    c->state = ACTO_CHILD_RUNNING;
    c->started_at = acto_system_now(s->sys);
    if (c->restart == ACTO_RESTART_TEMPORARY) {
        acto__sup_drop_arg(c); /* it never restarts: keep nothing */
    }
    return 0;
}

/* ---- stopping children ------------------------------------------------ */

/* stop_now kills c at once: nobody can wait for it. Killing (not asking)
 * queues nothing on it, so idle children finalize in the order killed. */
static void
stop_now(sup *s, child *c)
{
    (void)acto_kill(s->sys, c->ref);
}

static void
arm_kill_timer(sup *s, child *c, uint64_t ms)
{
    acto_msg *m = NULL;
    if (acto_msg_new_bytes(s->sys, MSG_KILL, &c->ref, sizeof(c->ref), &m) !=
            0 ||
        acto_send_after(s->sys, ms, s->self, m, &c->kill_timer) != 0) {
        /* Without a timer the budget cannot be kept: kill now. */
        acto_msg_free(m);
        c->kill_timer = 0;
        (void)acto_kill(s->sys, c->ref);
    }
}

/* ask_stop asks a running child to stop within its budget. */
static void
ask_stop(sup *s, child *c)
{
    c->state = ACTO_CHILD_STOPPING;
    s->stopping++;
    if (c->shutdown_ms == ACTO_SHUTDOWN_BRUTAL_KILL) {
        (void)acto_kill(s->sys, c->ref);
        return;
    }
    int rc = acto_shutdown(s->sys, c->ref);
    if (rc == ACTO_ENOMEM) {
        (void)acto_kill(s->sys, c->ref);
        return;
    }
    /* One that stops at once (the default) needs no kill timer. */
    if (c->shutdown_ms != ACTO_SHUTDOWN_INFINITY &&
        acto_alive(s->sys, c->ref)) {
        arm_kill_timer(s, c, (uint64_t)c->shutdown_ms);
    }
}

void
acto__sup_stop_child(sup *s, child *c, uint8_t after)
{
    if (c->state == ACTO_CHILD_RESTARTING) {
        acto__sup_queue_remove(&s->restartq, c);
        c->state = ACTO_CHILD_TERMINATED;
    }
    if (c->state == ACTO_CHILD_STOPPING || c->queue == Q_STOP) {
        /* Already on its way: a terminate wins over a restart. */
        if (after == AFTER_TERMINATE) {
            c->after = AFTER_TERMINATE;
        }
        return;
    }
    if (c->state != ACTO_CHILD_RUNNING) {
        if (after == AFTER_RESTART) {
            acto__sup_queue_push(&s->restartq, c, Q_RESTART);
            c->state = ACTO_CHILD_RESTARTING;
        }
        return;
    }
    c->after = after;
    acto__sup_queue_push(&s->stopq, c, Q_STOP);
}

/* ---- escalation and the restart step ---------------------------------- */

static void
set_escalation(sup *s, int code, const char *type, const char *text)
{
    if (s->phase == PHASE_ESCALATING) {
        return; /* the first reason stands */
    }
    s->esc_code = code < 0 ? code : ACTO_EFAILED;
    snprintf(s->esc_type, sizeof(s->esc_type), "%s", type);
    snprintf(s->esc_text, sizeof(s->esc_text), "%s", text);
}

static void cancel_retry(sup *s);

/* stop_all queues every running child, last started first, and sets the
 * phase that decides what happens once they are down. */
static void
stop_all(sup *s, uint8_t phase)
{
    cancel_retry(s);
    child *c;
    while ((c = s->restartq.head) != NULL) {
        acto__sup_queue_remove(&s->restartq, c);
        c->state = ACTO_CHILD_TERMINATED;
    }
    for (c = s->all.tail; c != NULL; c = c->prev) {
        acto__sup_stop_child(s, c, AFTER_TERMINATE);
    }
    if (phase > s->phase) {
        s->phase = phase;
    }
}

static void
escalate(sup *s, int code, const char *type, const char *text)
{
    set_escalation(s, code, type, text);
    stop_all(s, PHASE_ESCALATING);
}

/* too_many_restarts escalates past the intensity; why (may be NULL) tells
 * what the last restart ran into. */
static void
too_many_restarts(sup *s, const char *id, const char *why)
{
    char text[192];
    snprintf(text, sizeof(text),
             "more than %u restarts within %llu ms (last: child '%s'%s%s)",
             (unsigned)acto__sup_intensity(s),
             (unsigned long long)acto__sup_period(s), id,
             why != NULL ? ", " : "", why != NULL ? why : "");
    escalate(s, ACTO_EFAILED, "ReachedMaxRestartIntensity", text);
}

/* cancel_retry forgets a scheduled restart step: a timer is cancelled, a
 * message already queued is recognised as stale by its sequence. */
static void
cancel_retry(sup *s)
{
    if (s->retry_timer != 0 && s->retry_timer != RETRY_QUEUED) {
        (void)acto_timer_cancel(s->sys, s->retry_timer);
    }
    s->retry_timer = 0;
    s->retry_seq++;
}

/* schedule_retry runs the restart step after delay_ms; with no delay it
 * is a message to itself, so a retry needs no clock to move (OTP retries
 * at once too). */
static void
schedule_retry(sup *s, uint64_t delay_ms)
{
    if (s->retry_timer != 0) {
        return;
    }
    acto_msg *m = NULL;
    uint64_t seq = ++s->retry_seq;
    int rc = acto_msg_new_bytes(s->sys, MSG_RETRY, &seq, sizeof(seq), &m);
    if (rc == 0 && delay_ms == 0) {
        rc = acto_system_send(s->sys, s->self, m);
        s->retry_timer = RETRY_QUEUED;
    } else if (rc == 0) {
        rc = acto_send_after(s->sys, delay_ms, s->self, m, &s->retry_timer);
    }
    if (rc != 0) {
        acto_msg_free(m);
        s->retry_timer = 0;
        escalate(s, ACTO_ENOMEM, "OutOfMemory", "could not schedule a restart");
    }
}

static int
on_retry(acto_ctx *ctx, sup *s, const acto_msg *m)
{
    size_t len = 0;
    const void *p = acto_msg_data(m, &len);
    uint64_t seq;
    if (p == NULL || len != sizeof(seq)) {
        return 0;
    }
    memcpy(&seq, p, sizeof(seq));
    if (seq != s->retry_seq) {
        return 0; /* cancelled or superseded */
    }
    s->retry_timer = 0;
    return acto__sup_pump(ctx, s);
}

/* restart_step starts the waiting children in start order. A start that
 * fails counts as a restart and is retried (OTP's try_again) until the
 * intensity gives up. */
static void
restart_step(acto_ctx *ctx, sup *s)
{
    child *c;
    while (s->phase == PHASE_RUNNING && (c = s->restartq.head) != NULL) {
        int rc = acto__sup_start_one(ctx, s, c);
        if (rc == 0) {
            acto__sup_queue_remove(&s->restartq, c);
            c->restarts++;
            acto_trace_emit(s->sys, ACTO_TRACE_RESTART, c->ref, s->self,
                            c->failed_msg, c->failed_msg, c->restarts);
            if (c->state == ACTO_CHILD_TERMINATED &&
                (c->restart == ACTO_RESTART_TEMPORARY ||
                 s->flags.strategy == ACTO_SIMPLE_ONE_FOR_ONE)) {
                forget(s, c); /* ignored: nothing to keep */
            }
            continue;
        }
        if (!acto__sup_add_restart(s)) {
            char why[96];
            snprintf(why, sizeof(why), "its start failed: %s",
                     acto_strerror(rc));
            too_many_restarts(s, c->id, why);
            return;
        }
        schedule_retry(s, acto__sup_backoff_ms(s, c));
        return;
    }
}

/* ---- pumping the stop queue ------------------------------------------- */

static int
fail_self(acto_ctx *ctx, sup *s)
{
    return acto_fail(ctx, s->esc_code, s->esc_type, "%s", s->esc_text);
}

int
acto__sup_pump(acto_ctx *ctx, sup *s)
{
    bool parallel = s->flags.strategy == ACTO_SIMPLE_ONE_FOR_ONE;
    child *c;
    while ((c = s->stopq.head) != NULL && (parallel || s->stopping == 0)) {
        acto__sup_queue_remove(&s->stopq, c);
        ask_stop(s, c);
    }
    if (s->stopping > 0 || s->stopq.head != NULL) {
        return 0;
    }
    switch (s->phase) {
    case PHASE_SHUTTING_DOWN:
        (void)acto_stop(s->sys, s->self);
        return 0;
    case PHASE_ESCALATING:
        return fail_self(ctx, s);
    default:
        break;
    }
    if (s->restartq.head != NULL && s->retry_timer == 0) {
        restart_step(ctx, s);
        if (s->phase != PHASE_RUNNING) {
            return acto__sup_pump(ctx, s);
        }
    }
    return 0;
}

/* ---- acting on a child's stop ----------------------------------------- */

static bool
wants_restart(const child *c, acto_exit_kind kind)
{
    switch ((acto_restart)c->restart) {
    case ACTO_RESTART_PERMANENT:
        return true;
    case ACTO_RESTART_TRANSIENT:
        return kind != ACTO_EXIT_NORMAL && kind != ACTO_EXIT_SHUTDOWN;
    default:
        return false;
    }
}

static bool
significant_left(const sup *s)
{
    for (const child *c = s->all.head; c != NULL; c = c->next) {
        if (c->significant && c->state != ACTO_CHILD_TERMINATED) {
            return true;
        }
    }
    return false;
}

/* after_gone handles a child that stopped on its own and is not restarted:
 * forget or keep it, then apply auto-shutdown. */
static void
after_gone(sup *s, child *c)
{
    bool significant = c->significant;
    if (c->restart == ACTO_RESTART_TEMPORARY ||
        s->flags.strategy == ACTO_SIMPLE_ONE_FOR_ONE) {
        forget(s, c);
    }
    if (!significant) {
        return;
    }
    acto_auto_shutdown mode = s->flags.auto_shutdown;
    if (mode == ACTO_AUTO_SHUTDOWN_ANY_SIGNIFICANT ||
        (mode == ACTO_AUTO_SHUTDOWN_ALL_SIGNIFICANT && !significant_left(s))) {
        /* Shut down as if asked, so the exit reason says shutdown. */
        if (acto_shutdown(s->sys, s->self) == ACTO_ENOMEM) {
            stop_all(s, PHASE_SHUTTING_DOWN);
        }
    }
}

/* restart_order re-sorts the restart queue into start order. */
static void
restart_order(sup *s)
{
    if (s->restartq.n < 2) {
        return;
    }
    child_list sorted = {0};
    for (child *c = s->all.head; c != NULL; c = c->next) {
        if (c->queue == Q_RESTART) {
            acto__sup_queue_remove(&s->restartq, c);
            acto__sup_queue_push(&sorted, c, Q_RESTART);
        }
    }
    s->restartq = sorted;
}

/* restart_by_strategy queues what the strategy restarts after c failed. */
static void
restart_by_strategy(sup *s, child *c)
{
    acto__sup_queue_push(&s->restartq, c, Q_RESTART);
    c->state = ACTO_CHILD_RESTARTING;
    acto_strategy st = s->flags.strategy;
    if (st == ACTO_ONE_FOR_ALL || st == ACTO_REST_FOR_ONE) {
        /* The others stop last-started first, then all restart in start
         * order (restart_order sorts the queue once they are down). */
        for (child *o = s->all.tail; o != NULL; o = o->prev) {
            if (o == c) {
                if (st == ACTO_REST_FOR_ONE) {
                    break;
                }
                continue;
            }
            acto__sup_stop_child(s, o, AFTER_RESTART);
        }
        restart_order(s);
    }
    uint64_t delay = acto__sup_backoff_ms(s, c);
    if (delay > 0) {
        schedule_retry(s, delay);
    }
}

static acto_sup_action
decide(sup *s, child *c, const acto_error *err)
{
    if (c->decision != 0) {
        acto_sup_action a = (acto_sup_action)(c->decision - 1);
        c->decision = 0;
        return a;
    }
    if (s->flags.decider == NULL || err == NULL) {
        return ACTO_SUP_RESTART;
    }
    acto_child_failure f = {c->id, c->ref, err, c->restarts};
    return s->flags.decider(&f, s->flags.decider_user);
}

static void
on_own_stop(sup *s, child *c, const acto_down *d)
{
    acto_exit_kind kind = d->reason.kind;
    const acto_error *fe = d->reason.error;
    c->failed_msg = fe != NULL && fe->msg != NULL ? acto_msg_id(fe->msg) : 0;
    acto_sup_action act = kind == ACTO_EXIT_FAILED
                              ? decide(s, c, d->reason.error)
                              : ACTO_SUP_RESTART;
    if (act == ACTO_SUP_ESCALATE) {
        const acto_error *e = d->reason.error;
        escalate(s, e != NULL ? e->code : ACTO_EFAILED,
                 e != NULL ? e->type : "ChildFailed",
                 e != NULL ? e->text : "a child failed");
        return;
    }
    if (act == ACTO_SUP_STOP || !wants_restart(c, kind)) {
        after_gone(s, c);
        return;
    }
    if (!acto__sup_add_restart(s)) {
        too_many_restarts(s, c->id, NULL);
        return;
    }
    restart_by_strategy(s, c);
}

static int
on_down(acto_ctx *ctx, sup *s, const acto_down *d)
{
    child *c = acto__sup_map_get(&s->by_ref, d->actor);
    if (c == NULL || c->monitor != d->monitor) {
        return 0; /* not (or no longer) ours */
    }
    acto__sup_map_del(&s->by_ref, c);
    c->ref = ACTO_REF_NONE;
    if (c->kill_timer != 0) {
        (void)acto_timer_cancel(s->sys, c->kill_timer);
        c->kill_timer = 0;
    }
    if (c->queue == Q_STOP) {
        acto__sup_queue_remove(&s->stopq, c); /* beat us to it */
        c->state = ACTO_CHILD_STOPPING;
        s->stopping++;
    }
    if (c->state == ACTO_CHILD_STOPPING) {
        s->stopping--;
        c->state = ACTO_CHILD_TERMINATED;
        uint8_t after = c->after;
        c->after = AFTER_NOTHING;
        if (after == AFTER_RESTART && s->phase == PHASE_RUNNING) {
            acto__sup_queue_push(&s->restartq, c, Q_RESTART);
            c->state = ACTO_CHILD_RESTARTING;
            restart_order(s);
        } else if (c->restart == ACTO_RESTART_TEMPORARY ||
                   s->flags.strategy == ACTO_SIMPLE_ONE_FOR_ONE) {
            forget(s, c);
        }
    } else {
        c->state = ACTO_CHILD_TERMINATED;
        if (s->phase == PHASE_RUNNING) {
            on_own_stop(s, c, d);
        } else if (c->restart == ACTO_RESTART_TEMPORARY ||
                   s->flags.strategy == ACTO_SIMPLE_ONE_FOR_ONE) {
            forget(s, c);
        }
    }
    return acto__sup_pump(ctx, s);
}

static int
on_kill_timer(sup *s, const acto_msg *m)
{
    size_t len = 0;
    const void *p = acto_msg_data(m, &len);
    acto_ref ref;
    if (p == NULL || len != sizeof(ref)) {
        return 0;
    }
    memcpy(&ref, p, sizeof(ref));
    child *c = acto__sup_map_get(&s->by_ref, ref);
    if (c != NULL && c->state == ACTO_CHILD_STOPPING) {
        c->kill_timer = 0;
        (void)acto_kill(s->sys, ref);
    }
    return 0;
}

/* ---- the supervisor actor --------------------------------------------- */

static acto_fail_action
on_child_fail(acto_system *sys, acto_ref ref, const acto_error *err, void *user)
{
    (void)sys;
    sup *s = user;
    child *c = acto__sup_map_get(&s->by_ref, ref);
    if (c == NULL || s->flags.decider == NULL || s->phase != PHASE_RUNNING) {
        return ACTO_FAIL_STOP;
    }
    acto_child_failure f = {c->id, ref, err, c->restarts};
    acto_sup_action a = s->flags.decider(&f, s->flags.decider_user);
    if (a == ACTO_SUP_RESUME) {
        return ACTO_FAIL_RESUME;
    }
    c->decision = (uint8_t)(a + 1);
    return ACTO_FAIL_STOP;
}

static int
sup_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    sup *s = state;
    switch (acto_msg_type(m)) {
    case ACTO_MSG_DOWN:
        return on_down(ctx, s, acto_msg_down(m));
    case ACTO_MSG_SHUTDOWN:
        stop_all(s, PHASE_SHUTTING_DOWN);
        return acto__sup_pump(ctx, s);
    case MSG_KILL:
        return on_kill_timer(s, m);
    case MSG_RETRY:
        return on_retry(ctx, s, m);
    default:
        /* Child failures arrive as down messages too; anything else is
         * not for a supervisor. */
        return 0;
    }
}

static void
free_sup(sup *s)
{
    child *c;
    while ((c = s->all.head) != NULL) {
        acto__sup_list_remove(&s->all, c);
        acto__sup_free_child(s, c);
    }
    acto_free(s->by_ref.slots, s->by_ref.cap * sizeof(*s->by_ref.slots));
    acto_free(s->history, s->hist_cap * sizeof(*s->history));
    if (s->pool_spec.id != NULL) {
        acto_free((char *)s->pool_spec.id, strlen(s->pool_spec.id) + 1);
    }
    acto_free(s, sizeof(*s));
}

/* Killed, failed or stopped by the system: nobody waits any more, so the
 * children left are stopped at once, last started first. */
static void
sup_stop(acto_ctx *ctx, void *state, const acto_exit_reason *why)
{
    (void)ctx;
    (void)why;
    sup *s = state;
    cancel_retry(s);
    for (child *c = s->all.tail; c != NULL; c = c->prev) {
        if (c->kill_timer != 0) {
            (void)acto_timer_cancel(s->sys, c->kill_timer);
        }
        if (!acto_ref_is_none(c->ref)) {
            stop_now(s, c);
        }
    }
    free_sup(s);
}

/* What acto_sup_start hands to the start hook. */
typedef struct start_args {
    const acto_child_spec *specs;
    size_t n;
    bool ran; /* the start hook ran (and owns s from then on) */
} start_args;

static int
start_children(acto_ctx *ctx, sup *s, const start_args *a)
{
    for (size_t i = 0; i < a->n; i++) {
        child *c = acto__sup_new_child(s, &a->specs[i], NULL, 0);
        if (c == NULL) {
            return ACTO_ENOMEM;
        }
        acto__sup_list_push(&s->all, c);
        int rc = acto__sup_start_one(ctx, s, c);
        if (rc != 0) {
            return rc;
        }
        if (c->state == ACTO_CHILD_TERMINATED &&
            c->restart == ACTO_RESTART_TEMPORARY) {
            forget(s, c); /* a temporary child that ignored is not kept */
        }
    }
    return 0;
}

static int
sup_start_hook(acto_ctx *ctx, void *state)
{
    sup *s = state;
    s->self = acto_self(ctx);
    start_args *a = (start_args *)s->starting;
    s->starting = NULL;
    a->ran = true;
    int rc = acto_set_child_fail_fn(ctx, on_child_fail, s);
    if (rc == 0) {
        rc = acto_watch_children(ctx, true);
    }
    if (rc == 0 && s->flags.strategy != ACTO_SIMPLE_ONE_FOR_ONE) {
        rc = start_children(ctx, s, a);
    }
    if (rc != 0) {
        /* The supervisor never existed, so its stop hook will not run. */
        for (child *c = s->all.tail; c != NULL; c = c->prev) {
            if (!acto_ref_is_none(c->ref)) {
                stop_now(s, c);
            }
        }
        free_sup(s);
    }
    return rc;
}

const acto_behaviour acto__sup_behaviour = {
    .receive = sup_receive,
    .start = sup_start_hook,
    .stop = sup_stop,
};

static int
init_pool_spec(sup *s, const acto_child_spec *spec)
{
    size_t n = strlen(spec->id) + 1;
    char *id = acto_malloc(n);
    if (id == NULL) {
        return ACTO_ENOMEM;
    }
    memcpy(id, spec->id, n);
    s->pool_spec = *spec;
    s->pool_spec.id = id;
    s->pool_spec.arg = NULL;
    s->pool_spec.arg_len = 0;
    return 0;
}

int
acto_sup_start(acto_system *sys, const acto_sup_flags *flags,
               const acto_child_spec *specs, size_t n, acto_ref *out)
{
    static const acto_sup_flags defaults = {0};
    const acto_sup_flags *f = flags != NULL ? flags : &defaults;
    if (sys == NULL || out == NULL) {
        return ACTO_EINVAL;
    }
    int rc = acto__sup_validate_flags(f, specs, n);
    if (rc != 0) {
        return rc;
    }
    sup *s = acto_calloc(1, sizeof(*s));
    if (s == NULL) {
        return ACTO_ENOMEM;
    }
    s->sys = sys;
    s->flags = *f;
    s->flags.label = NULL;
    s->rng = f->backoff.seed != 0 ? f->backoff.seed : 0x9E3779B97F4A7C15ULL;
    if (f->strategy == ACTO_SIMPLE_ONE_FOR_ONE &&
        (rc = init_pool_spec(s, &specs[0])) != 0) {
        acto_free(s, sizeof(*s));
        return rc;
    }
    /* The start hook is the only place children can start as the
     * supervisor before it exists for others. */
    start_args a = {specs, n, false};
    s->starting = &a;
    acto_spawn_opts o = {.label = f->label,
                         .on_shutdown = ACTO_SHUTDOWN_NOTIFY};
    rc = acto_spawn(sys, &acto__sup_behaviour, s, &o, out);
    if (rc == 0 && acto_system_debug(sys)) {
        (void)acto_sup_check(sys, *out, 0, NULL, NULL); /* to stderr */
    }
    if (rc != 0 && !a.ran) {
        /* spawn failed before the start hook ran */
        if (s->pool_spec.id != NULL) {
            acto_free((char *)s->pool_spec.id, strlen(s->pool_spec.id) + 1);
        }
        acto_free(s, sizeof(*s));
    }
    return rc;
}
