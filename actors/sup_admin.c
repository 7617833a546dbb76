/* Supervisor administration and reports: synchronous calls on the loop
 * thread, each run as the supervisor (acto_call_as) so the children it
 * starts have it as their parent. */
#include "sup_internal.h"

#include <stdio.h>
#include <string.h>

/* What an administrative call needs; each op reads what it uses. */
typedef struct op {
    const acto_child_spec *spec;
    const char *id;
    acto_ref ref;
    const void *arg;
    size_t len;
    acto_ref *out;
    acto_child_info *infos;
    size_t cap;
    size_t *count;
    acto_child_counts *counts;
    sup *state;
} op;

static int
call(acto_system *sys, acto_ref sup_ref, acto_as_fn fn, op *o)
{
    if (sys == NULL) {
        return ACTO_EINVAL;
    }
    return acto_call_as(sys, sup_ref, &acto__sup_behaviour, fn, o);
}

static int
get_state(acto_ctx *ctx, void *state, void *user)
{
    (void)ctx;
    ((op *)user)->state = state;
    return 0;
}

sup *
acto__sup_state(acto_system *sys, acto_ref sup_ref)
{
    op o = {0};
    return call(sys, sup_ref, get_state, &o) == 0 ? o.state : NULL;
}

static child *
find_id(const sup *s, const char *id)
{
    for (child *c = s->all.head; c != NULL; c = c->next) {
        if (strcmp(c->id, id) == 0) {
            return c;
        }
    }
    return NULL;
}

static bool
is_pool(const sup *s)
{
    return s->flags.strategy == ACTO_SIMPLE_ONE_FOR_ONE;
}

static bool
has_ref(const child *c)
{
    return c->state == ACTO_CHILD_RUNNING || c->state == ACTO_CHILD_STOPPING;
}

/* start_new adds c and starts it; a failed start forgets it again. */
static int
start_new(acto_ctx *ctx, sup *s, child *c, acto_ref *out)
{
    acto__sup_list_push(&s->all, c);
    int rc = acto__sup_start_one(ctx, s, c);
    if (rc != 0) {
        acto__sup_list_remove(&s->all, c);
        acto__sup_free_child(s, c);
        return rc;
    }
    *out = c->ref;
    if (c->state == ACTO_CHILD_TERMINATED &&
        (c->restart == ACTO_RESTART_TEMPORARY || is_pool(s))) {
        acto__sup_list_remove(&s->all, c);
        acto__sup_free_child(s, c);
    }
    return 0;
}

static int
op_start_child(acto_ctx *ctx, void *state, void *user)
{
    sup *s = state;
    op *o = user;
    if (is_pool(s)) {
        return ACTO_EINVAL;
    }
    int rc = acto__sup_validate(&s->flags, o->spec);
    if (rc != 0) {
        return rc;
    }
    if (s->phase != PHASE_RUNNING) {
        return ACTO_ESHUTDOWN;
    }
    child *c = find_id(s, o->spec->id);
    if (c != NULL) {
        *o->out = c->ref;
        return has_ref(c) ? ACTO_EALREADY : ACTO_EEXIST;
    }
    if ((c = acto__sup_new_child(s, o->spec, NULL, 0)) == NULL) {
        return ACTO_ENOMEM;
    }
    return start_new(ctx, s, c, o->out);
}

int
acto_sup_start_child(acto_system *sys, acto_ref sup_ref,
                     const acto_child_spec *spec, acto_ref *out)
{
    if (spec == NULL || out == NULL) {
        return ACTO_EINVAL;
    }
    *out = ACTO_REF_NONE;
    op o = {.spec = spec, .out = out};
    return call(sys, sup_ref, op_start_child, &o);
}

static int
op_start_dynamic(acto_ctx *ctx, void *state, void *user)
{
    sup *s = state;
    op *o = user;
    if (!is_pool(s)) {
        return ACTO_EINVAL;
    }
    if (s->phase != PHASE_RUNNING) {
        return ACTO_ESHUTDOWN;
    }
    child *c = acto__sup_new_child(s, &s->pool_spec, o->arg, o->len);
    if (c == NULL) {
        return ACTO_ENOMEM;
    }
    return start_new(ctx, s, c, o->out);
}

int
acto_sup_start_dynamic(acto_system *sys, acto_ref sup_ref, const void *arg,
                       size_t len, acto_ref *out)
{
    if (out == NULL || (arg == NULL && len > 0)) {
        return ACTO_EINVAL;
    }
    *out = ACTO_REF_NONE;
    op o = {.arg = arg, .len = len, .out = out};
    return call(sys, sup_ref, op_start_dynamic, &o);
}

/* terminate stops c for good (its spec stays unless temporary). */
static int
terminate(acto_ctx *ctx, sup *s, child *c)
{
    if (c->state == ACTO_CHILD_RESTARTING) {
        acto__sup_queue_remove(&s->restartq, c);
        c->state = ACTO_CHILD_TERMINATED;
        if (c->restart == ACTO_RESTART_TEMPORARY || is_pool(s)) {
            acto__sup_list_remove(&s->all, c);
            acto__sup_free_child(s, c);
        }
        return 0;
    }
    if (has_ref(c)) {
        acto__sup_stop_child(s, c, AFTER_TERMINATE);
        (void)acto__sup_pump(ctx, s);
    }
    return 0;
}

static int
op_terminate_child(acto_ctx *ctx, void *state, void *user)
{
    sup *s = state;
    op *o = user;
    if (is_pool(s)) {
        return ACTO_EINVAL;
    }
    child *c = find_id(s, o->id);
    return c != NULL ? terminate(ctx, s, c) : ACTO_ENOTFOUND;
}

int
acto_sup_terminate_child(acto_system *sys, acto_ref sup_ref, const char *id)
{
    if (id == NULL) {
        return ACTO_EINVAL;
    }
    op o = {.id = id};
    return call(sys, sup_ref, op_terminate_child, &o);
}

static int
op_terminate_ref(acto_ctx *ctx, void *state, void *user)
{
    sup *s = state;
    child *c = acto__sup_map_get(&s->by_ref, ((op *)user)->ref);
    return c != NULL ? terminate(ctx, s, c) : ACTO_ENOTFOUND;
}

int
acto_sup_terminate_ref(acto_system *sys, acto_ref sup_ref, acto_ref child_ref)
{
    op o = {.ref = child_ref};
    return call(sys, sup_ref, op_terminate_ref, &o);
}

/* find_terminated finds a static child by id that is not running. */
static int
find_terminated(sup *s, const char *id, child **out)
{
    if (is_pool(s)) {
        return ACTO_EINVAL;
    }
    child *c = find_id(s, id);
    if (c == NULL) {
        return ACTO_ENOTFOUND;
    }
    if (has_ref(c)) {
        return ACTO_EBUSY;
    }
    if (c->state == ACTO_CHILD_RESTARTING) {
        return ACTO_EPENDING;
    }
    *out = c;
    return 0;
}

static int
op_restart_child(acto_ctx *ctx, void *state, void *user)
{
    sup *s = state;
    op *o = user;
    child *c = NULL;
    int rc = find_terminated(s, o->id, &c);
    if (rc == 0 && (rc = acto__sup_start_one(ctx, s, c)) == 0) {
        *o->out = c->ref;
    }
    return rc;
}

int
acto_sup_restart_child(acto_system *sys, acto_ref sup_ref, const char *id,
                       acto_ref *out)
{
    acto_ref ignored;
    if (id == NULL) {
        return ACTO_EINVAL;
    }
    op o = {.id = id, .out = out != NULL ? out : &ignored};
    *o.out = ACTO_REF_NONE;
    return call(sys, sup_ref, op_restart_child, &o);
}

static int
op_delete_child(acto_ctx *ctx, void *state, void *user)
{
    (void)ctx;
    sup *s = state;
    child *c = NULL;
    int rc = find_terminated(s, ((op *)user)->id, &c);
    if (rc == 0) {
        acto__sup_list_remove(&s->all, c);
        acto__sup_free_child(s, c);
    }
    return rc;
}

int
acto_sup_delete_child(acto_system *sys, acto_ref sup_ref, const char *id)
{
    if (id == NULL) {
        return ACTO_EINVAL;
    }
    op o = {.id = id};
    return call(sys, sup_ref, op_delete_child, &o);
}

/* ---- the system's root ------------------------------------------------- */

int
acto_sup_root(acto_system *sys, acto_ref *out)
{
    if (sys == NULL || out == NULL) {
        return ACTO_EINVAL;
    }
    acto_ref root = acto_whereis(sys, ACTO_SUP_ROOT_NAME);
    if (acto__sup_state(sys, root) != NULL) {
        *out = root;
        return 0;
    }
    if (acto_in_handler(sys)) {
        return ACTO_EBUSY;
    }
    acto_sup_flags f = {.intensity = 10, .period_ms = 10000, .label = "root"};
    int rc = acto_sup_start(sys, &f, NULL, 0, &root);
    if (rc == 0 && (rc = acto_register(sys, ACTO_SUP_ROOT_NAME, root)) != 0) {
        (void)acto_kill(sys, root);
    }
    if (rc == 0) {
        *out = root;
    }
    return rc;
}

/* ---- reports ---------------------------------------------------------- */

static int
op_which(acto_ctx *ctx, void *state, void *user)
{
    (void)ctx;
    sup *s = state;
    op *o = user;
    size_t i = 0;
    for (child *c = s->all.head; c != NULL; c = c->next, i++) {
        if (i < o->cap) {
            o->infos[i] = (acto_child_info){
                c->id,
                c->ref,
                (acto_child_state)c->state,
                (acto_child_kind)c->kind,
                (acto_restart)c->restart,
                c->restarts,
            };
        }
    }
    *o->count = i;
    return 0;
}

int
acto_sup_which_children(acto_system *sys, acto_ref sup_ref,
                        acto_child_info *out, size_t cap, size_t *count)
{
    if (count == NULL || (out == NULL && cap > 0)) {
        return ACTO_EINVAL;
    }
    op o = {.infos = out, .cap = cap, .count = count};
    return call(sys, sup_ref, op_which, &o);
}

static int
op_count(acto_ctx *ctx, void *state, void *user)
{
    (void)ctx;
    sup *s = state;
    acto_child_counts *n = ((op *)user)->counts;
    *n = (acto_child_counts){is_pool(s) ? 1 : s->all.n, 0, 0, 0};
    for (child *c = s->all.head; c != NULL; c = c->next) {
        n->active += has_ref(c);
        if (c->kind == ACTO_CHILD_SUPERVISOR) {
            n->supervisors++;
        } else {
            n->workers++;
        }
    }
    return 0;
}

int
acto_sup_count_children(acto_system *sys, acto_ref sup_ref,
                        acto_child_counts *out)
{
    if (out == NULL) {
        return ACTO_EINVAL;
    }
    op o = {.counts = out};
    return call(sys, sup_ref, op_count, &o);
}

uint64_t
acto_sup_restarts(acto_system *sys, acto_ref sup_ref)
{
    sup *s = acto__sup_state(sys, sup_ref);
    return s != NULL ? s->restarts : 0;
}

/* ---- checking a tree -------------------------------------------------- */

typedef struct check {
    acto_system *sys;
    uint64_t max_restarts;
    acto_sup_warn_fn fn;
    void *user;
    int warnings;
} check;

static void
warn(check *k, acto_ref sup_ref, const char *id, const char *text)
{
    k->warnings++;
    if (k->fn != NULL) {
        k->fn(sup_ref, id, text, k->user);
    } else {
        fprintf(stderr, "acto: supervisor %llx, child '%s': %s\n",
                (unsigned long long)sup_ref.id, id, text);
    }
}

static uint64_t
restart_budget(const sup *s)
{
    uint32_t i = s->flags.intensity;
    return i == ACTO_SUP_NO_RESTARTS ? 0 : i == 0 ? 1 : i;
}

/* budget_exceeds tells whether a shutdown budget b is longer than the
 * parent's p (infinity is the longest; a brutal kill the shortest). */
static bool
budget_exceeds(int64_t b, int64_t p)
{
    if (p == ACTO_SHUTDOWN_INFINITY) {
        return false;
    }
    if (b == ACTO_SHUTDOWN_INFINITY) {
        return true;
    }
    if (b == ACTO_SHUTDOWN_BRUTAL_KILL) {
        return false;
    }
    return p == ACTO_SHUTDOWN_BRUTAL_KILL || b > p;
}

/* walk checks sup_ref, whose own budget is budget and whose ancestors
 * allow product restarts. */
static void
walk(check *k, acto_ref sup_ref, int64_t budget, uint64_t product)
{
    sup *s = acto__sup_state(k->sys, sup_ref);
    if (s == NULL) {
        return;
    }
    uint64_t mine = product * (restart_budget(s) + 1);
    char text[160];
    for (child *c = s->all.head; c != NULL; c = c->next) {
        if (budget_exceeds(c->shutdown_ms, budget)) {
            snprintf(text, sizeof(text),
                     "shutdown budget %lld ms exceeds its supervisor's "
                     "(%lld ms; -2 is infinity)",
                     (long long)c->shutdown_ms, (long long)budget);
            warn(k, sup_ref, c->id, text);
        }
        if (c->kind == ACTO_CHILD_SUPERVISOR && has_ref(c)) {
            walk(k, c->ref, c->shutdown_ms, mine);
        } else if (k->max_restarts != 0 && mine - 1 > k->max_restarts) {
            snprintf(text, sizeof(text),
                     "may be restarted %llu times across the tree (limit "
                     "%llu)",
                     (unsigned long long)(mine - 1),
                     (unsigned long long)k->max_restarts);
            warn(k, sup_ref, c->id, text);
        }
    }
}

int
acto_sup_check(acto_system *sys, acto_ref root, uint64_t max_restarts,
               acto_sup_warn_fn fn, void *user)
{
    if (acto__sup_state(sys, root) == NULL) {
        return ACTO_ENOACTOR;
    }
    check k = {sys, max_restarts, fn, user, 0};
    walk(&k, root, ACTO_SHUTDOWN_INFINITY, 1);
    return k.warnings;
}
