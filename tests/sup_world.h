/* The world the supervisor tests share: generic children that obey
 * T_DIE and T_STOP, a start/stop log, a watcher of supervisor exits and
 * helpers for the virtual clock. Included by test_supervisor.c and
 * test_supervisor_restart.c (static helpers, one copy per test). */
#ifndef ACTO_SUP_WORLD_H
#define ACTO_SUP_WORLD_H

/* Not every test file uses every helper. */
#define SUP_UNUSED __attribute__((unused))

#include "acto_test.h"

#include <acto/supervisor.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the world: children, a log, a watcher ---------------------------- */

enum { T_DIE = 1, T_STOP, T_INC };

/* How a child meets acto_shutdown: K_PLAIN stops at once; K_DEAF ignores
 * ACTO_MSG_SHUTDOWN (killed at its budget); K_SLOW stops `delay` ms later. */
enum { K_PLAIN = 0, K_DEAF, K_SLOW };

typedef struct subtree { /* the flags and specs of a child supervisor */
    acto_sup_flags flags;
    acto_child_spec specs[4];
    size_t n;
} subtree;

typedef struct karg { /* a child's start argument, copied by supervisors */
    struct world *w;
    char name[16];
    int mode, value;
    uint32_t delay;
    const subtree *sub; /* not NULL: start a supervisor of this tree */
} karg;

typedef struct kid {
    struct world *w;
    karg a;
    acto_ref self;
    int count; /* T_INC messages handled */
    bool stopped;
    acto_exit_kind exit;
} kid;

typedef struct down { /* how a watched actor stopped */
    acto_ref ref;
    acto_exit_kind kind;
    char type[48];
} down;

#define KIDS_MAX 2600
typedef struct world {
    acto_test_env *env;
    acto_system *sys;
    acto_ref watcher;
    int starts;             /* start function calls */
    const char *fail_name;  /* starts of this name return fail_rc */
    int fail_rc, fail_left; /* fail_left more times (-1: always) */
    int dyn_mode;           /* the mode start_dyn gives */
    int exceptions;         /* failures nobody received */
    char log[2048];         /* "+id" started, "-id" stopped, in order */
    down downs[64];
    int ndowns, nargs, nkids;
    karg args[32];
    kid kids[KIDS_MAX];
} world;

static SUP_UNUSED void
logc(world *w, char sign, const char *name)
{
    size_t n = strlen(w->log);
    if (n + strlen(name) + 3 < sizeof(w->log)) {
        snprintf(w->log + n, sizeof(w->log) - n, "%s%c%s", n ? " " : "", sign,
                 name);
    }
}

static SUP_UNUSED int
kid_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    kid *k = state;
    acto_system *sys = acto_ctx_system(ctx);
    acto_msg *late;
    switch (acto_msg_type(m)) {
    case T_DIE:
        return acto_fail(ctx, ACTO_EFAILED, "Die", "%s told to die", k->a.name);
    case T_STOP:
        (void)acto_stop(sys, acto_self(ctx));
        return 0;
    case T_INC:
        k->count++;
        return 0;
    case ACTO_MSG_SHUTDOWN:
        if (k->a.mode == K_SLOW) {
            assert_acto_ok(acto_msg_new_bytes(sys, T_STOP, NULL, 0, &late));
            assert_acto_ok(
                acto_send_after(sys, k->a.delay, acto_self(ctx), late, NULL));
        }
        return 0;
    default:
        return 0;
    }
}

static SUP_UNUSED void
kid_stop(acto_ctx *ctx, void *state, const acto_exit_reason *reason)
{
    (void)ctx;
    kid *k = state;
    k->stopped = true;
    k->exit = reason->kind;
    logc(k->w, '-', k->a.name);
}

static const acto_behaviour kid_b = {kid_receive, NULL, kid_stop};

static SUP_UNUSED int
kid_start(acto_ctx *sup, const void *arg, size_t len, acto_ref *out)
{
    karg a;
    assert_true(len >= sizeof(a));
    memcpy(&a, arg, sizeof(a));
    world *w = a.w;
    w->starts++;
    if (w->fail_name != NULL && strcmp(w->fail_name, a.name) == 0 &&
        w->fail_left != 0) {
        w->fail_left -= w->fail_left > 0;
        return w->fail_rc;
    }
    logc(w, '+', a.name);
    acto_system *sys = acto_ctx_system(sup);
    if (a.sub != NULL) {
        return acto_sup_start(sys, &a.sub->flags, a.sub->specs, a.sub->n, out);
    }
    assert_true(w->nkids < KIDS_MAX);
    kid *k = &w->kids[w->nkids++];
    *k = (kid){.w = w, .a = a};
    acto_spawn_opts o = {.label = a.name,
                         .on_shutdown = a.mode != K_PLAIN ? ACTO_SHUTDOWN_NOTIFY
                                                          : ACTO_SHUTDOWN_STOP};
    assert_acto_ok(acto_spawn(sys, &kid_b, k, &o, out));
    k->self = *out;
    return 0;
}

static SUP_UNUSED int
watcher_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)ctx;
    world *w = state;
    const acto_down *d = acto_msg_down(m);
    if (d != NULL && w->ndowns < 64) {
        down *r = &w->downs[w->ndowns++];
        r->ref = d->actor;
        r->kind = d->reason.kind;
        if (d->reason.error != NULL && d->reason.error->type != NULL) {
            snprintf(r->type, sizeof(r->type), "%s", d->reason.error->type);
        }
    }
    return 0;
}

static const acto_behaviour watcher_b = {watcher_receive, NULL, NULL};

static SUP_UNUSED int
do_monitor(acto_ctx *ctx, void *state, void *user)
{
    (void)state;
    uint64_t id;
    return acto_monitor(ctx, *(acto_ref *)user, &id);
}

/* watch makes the watcher record how ref stops. */
static SUP_UNUSED void
watch(world *w, acto_ref ref)
{
    assert_acto_ok(
        acto_call_as(w->sys, w->watcher, &watcher_b, do_monitor, &ref));
}

/* down_of returns how a watched ref stopped, or NULL while it has not. */
static const down *
down_of(world *w, acto_ref ref)
{
    for (int i = 0; i < w->ndowns; i++) {
        if (acto_ref_eq(w->downs[i].ref, ref)) {
            return &w->downs[i];
        }
    }
    return NULL;
}

static SUP_UNUSED void
on_exception(acto_system *sys, const acto_error *err, void *user)
{
    (void)sys;
    (void)err;
    ((world *)user)->exceptions++;
}

static SUP_UNUSED world *
wopen(acto_test_env *env)
{
    world *w = calloc(1, sizeof(*w));
    assert_non_null(w);
    w->env = env;
    w->sys = acto_test_system(env, &(acto_system_opts){.virtual_time = true});
    acto_system_set_exception_handler(w->sys, on_exception, w);
    assert_acto_ok(acto_spawn(w->sys, &watcher_b, w, NULL, &w->watcher));
    return w;
}

static SUP_UNUSED void
wclose(world *w)
{
    acto_test_close_system(w->env, w->sys);
    free(w);
}

#define settle(w) acto_test_settle((w)->env)

static SUP_UNUSED void
advance(world *w, uint64_t ms)
{
    assert_acto_ok(acto_system_advance(w->sys, ms));
    settle(w);
}

/* step_until_down advances 1 ms at a time until ref is down: how long. */
static SUP_UNUSED uint64_t
step_until_down(world *w, acto_ref ref, uint64_t max_ms)
{
    uint64_t t = 0;
    for (settle(w); down_of(w, ref) == NULL && t < max_ms; t++) {
        advance(w, 1);
    }
    return t;
}

static SUP_UNUSED acto_child_spec
kspec(world *w, const char *id, acto_restart r, int mode, uint32_t delay)
{
    assert_true(w->nargs < 32);
    karg *a = &w->args[w->nargs++];
    *a = (karg){.w = w, .mode = mode, .delay = delay};
    snprintf(a->name, sizeof(a->name), "%s", id);
    return (acto_child_spec){.id = id,
                             .start = kid_start,
                             .arg = a,
                             .arg_len = sizeof(*a),
                             .restart = r};
}

static SUP_UNUSED acto_child_spec
subspec(world *w, const char *id, const subtree *sub)
{
    acto_child_spec s = kspec(w, id, ACTO_RESTART_PERMANENT, K_PLAIN, 0);
    w->args[w->nargs - 1].sub = sub;
    s.kind = ACTO_CHILD_SUPERVISOR;
    return s;
}

static SUP_UNUSED acto_ref
sup_start(world *w, const acto_sup_flags *f, const acto_child_spec *s, size_t n)
{
    acto_ref sup = ACTO_REF_NONE;
    assert_acto_ok(acto_sup_start(w->sys, f, s, n, &sup));
    assert_true(acto_alive(w->sys, sup));
    watch(w, sup);
    return sup;
}

static SUP_UNUSED int
start_dyn(world *w, acto_ref sup, const char *name, int value, acto_ref *out)
{
    karg a = {.w = w, .value = value, .mode = w->dyn_mode};
    snprintf(a.name, sizeof(a.name), "%s", name);
    return acto_sup_start_dynamic(w->sys, sup, &a, sizeof(a), out);
}

/* info_of finds id in sup's report; state_of says -1 when it is not. */
static SUP_UNUSED bool
info_of(world *w, acto_ref sup, const char *id, acto_child_info *out)
{
    acto_child_info info[64];
    size_t n = 0;
    assert_acto_ok(acto_sup_which_children(w->sys, sup, info, 64, &n));
    for (size_t i = 0; i < n && i < 64; i++) {
        if (strcmp(info[i].id, id) == 0) {
            *out = info[i];
            return true;
        }
    }
    return false;
}

static SUP_UNUSED acto_ref
ref_of(world *w, acto_ref sup, const char *id)
{
    acto_child_info info = {.ref = ACTO_REF_NONE};
    return info_of(w, sup, id, &info) ? info.ref : ACTO_REF_NONE;
}

static SUP_UNUSED int
state_of(world *w, acto_ref sup, const char *id)
{
    acto_child_info info;
    return info_of(w, sup, id, &info) ? (int)info.state : -1;
}

/* [specs, active, supervisors, workers], as OTP's suite writes them. */
#define assert_counts(w, sup, s, a, su, wo)                                    \
    do {                                                                       \
        acto_child_counts c_;                                                  \
        assert_acto_ok(acto_sup_count_children((w)->sys, (sup), &c_));         \
        assert_int_equal(c_.specs, (s));                                       \
        assert_int_equal(c_.active, (a));                                      \
        assert_int_equal(c_.supervisors, (su));                                \
        assert_int_equal(c_.workers, (wo));                                    \
    } while (0)

/* stop_sup shuts sup down and asserts it stopped with reason shutdown. */
static SUP_UNUSED void
stop_sup(world *w, acto_ref sup)
{
    assert_acto_ok(acto_shutdown(w->sys, sup));
    settle(w);
    assert_non_null(down_of(w, sup));
    assert_int_equal(down_of(w, sup)->kind, ACTO_EXIT_SHUTDOWN);
}

static const acto_sup_flags ofo = {
    .strategy = ACTO_ONE_FOR_ONE, .intensity = 2, .period_ms = 3600000};

/* A test named after the OTP case it ports, run by a shared body. */
#define SUP_CASE(name, body, ...)                                              \
    static void name(void **state)                                             \
    {                                                                          \
        body(state, __VA_ARGS__);                                              \
    }

#endif /* ACTO_SUP_WORLD_H */
