/* A seeded random walk over the actor API, checked against a model.
 *
 * Each seed drives one virtual-time system through a few thousand random
 * steps: spawns (bounded, unbounded, every overflow policy, send timeouts),
 * sends from outside (send, send_wait, asks, timers), stops and kills, time
 * advances and loop turns. Every handler acts on what its message carries:
 * it sends on to live or dead refs, spawns children, stops itself, kills
 * another, fails, monitors and demonitors, sets a receive timeout, names
 * actors, asks another and is notified, replies. The model (arrays indexed
 * by actor, message, monitor, wait and ask number) then checks that every
 * payload is freed exactly once, every monitor gets its one down notice,
 * every send_wait calls back once, every failure reaches its parent or the
 * exception handler once, messages from one sender arrive in order, and
 * the counters balance. A failure names the seed and step. */
#include "acto_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_SEEDS 20
#define FZ_STEPS 3000
#define FZ_ACTORS 400
#define FZ_OUTSIDE FZ_ACTORS /* the sender index of outside sends */
#define FZ_MSGS 40000
#define FZ_MONS 2048
#define FZ_WAITS 2048
#define FZ_ASKS 2048
#define FZ_TIMERS 1024
#define FZ_NAMES 4

enum {
    T_WORK = 1,        /* pointer payload: a fz_msg */
    T_ASK,             /* pointer payload: a fz_msg with ask >= 0 */
    T_TIMED,           /* pointer payload, sent by a timer */
    T_REPLY,           /* bytes: the ask number */
    T_ASKDONE = 0x1000 /* + the ask number: a notify */
};

typedef struct fz fz;

typedef struct fz_actor {
    fz *f;
    int idx;
    int parent; /* -1: none */
    acto_ref ref;
    bool exists;      /* spawn succeeded */
    bool start_fails; /* the start hook refuses */
    int started;
    int stop_runs;
    acto_exit_kind exit_kind;
    bool stopping;            /* a stop or kill of ours succeeded */
    acto_exit_kind requested; /* which one */
    int fail_code;            /* what its handler failed with (0: none) */
    bool parent_alive_at_fail;
    int child_failed_seen; /* ACTO_MSG_CHILD_FAILED about it, at its parent */
    int exceptions;        /* exception handler calls about it */
    acto_spawn_opts opts;
    int handled;
    int live_pos; /* in fz.live while present */
} fz_actor;

typedef struct fz_msg {
    int id;
    uint32_t type;
    int from; /* sender index for the FIFO check; -1: not checked */
    int to;   /* receiver index; -1: ACTO_REF_NONE */
    uint32_t seq;
    uint32_t script;
    int hops;
    int ask; /* ask number, or -1 */
    int freed;
    int handled;
} fz_msg;

typedef struct fz_mon {
    int watcher, target;
    uint64_t id;
    bool noactor; /* the target was already gone */
    bool demonitored;
    int downs;
} fz_mon;

typedef struct fz_wait {
    fz *f;
    int to, msg;
    bool expected; /* the send_wait returned 0 */
    int calls;
    int status;
} fz_wait;

typedef struct fz_ask {
    acto_future *fut;
    int asker; /* -1: outside */
    int target;
    int msg;
    int notified;
    bool replied;
} fz_ask;

typedef struct fz_timer {
    uint64_t id;
    int msg;
} fz_timer;

struct fz {
    acto_test_env *env;
    acto_system *sys;
    unsigned seed;
    int step;
    uint64_t rng;
    bool final;   /* handlers only record from now on */
    bool closing; /* acto_system_close was called */
    fz_actor actors[FZ_ACTORS];
    int n_actors;
    int live[FZ_ACTORS]; /* indices of present actors */
    int n_live;
    fz_msg msgs[FZ_MSGS];
    int n_msgs;
    uint32_t next_seq[FZ_ACTORS + 1][FZ_ACTORS];
    uint32_t last_seq[FZ_ACTORS + 1][FZ_ACTORS];
    fz_mon mons[FZ_MONS];
    int n_mons;
    fz_wait waits[FZ_WAITS];
    int n_waits;
    fz_ask asks[FZ_ASKS];
    int n_asks;
    fz_timer timers[FZ_TIMERS];
    int n_timers;
    int name_owner[FZ_NAMES];
    int never_retrieved;
};

/* The run under way, for failure messages. */
static fz *fz_cur;

#define FZ_CHECK(cond, ...)                                                    \
    do {                                                                       \
        if (!(cond)) {                                                         \
            char why_[256];                                                    \
            snprintf(why_, sizeof(why_), __VA_ARGS__);                         \
            fail_msg("seed %u step %d: %s (%s)", fz_cur->seed, fz_cur->step,   \
                     why_, #cond);                                             \
        }                                                                      \
    } while (0)

#define FZ_RC(e, want)                                                         \
    do {                                                                       \
        int rc_ = (e);                                                         \
        int want_ = (want);                                                    \
        if (rc_ != want_) {                                                    \
            fail_msg("seed %u step %d: %s: got %s, want %s", fz_cur->seed,     \
                     fz_cur->step, #e, acto_err_name(rc_),                     \
                     acto_err_name(want_));                                    \
        }                                                                      \
    } while (0)

/* ---- randomness -------------------------------------------------------- */

static uint32_t
rng_next(uint64_t *s)
{
    /* xorshift64* */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (uint32_t)((*s * 0x2545F4914F6CDD1Dull) >> 32);
}

static uint32_t
fz_rand(fz *f, uint32_t n)
{
    return rng_next(&f->rng) % n;
}

/* ---- the model --------------------------------------------------------- */

static acto_ref
fz_ref(const fz *f, int t)
{
    return t >= 0 ? f->actors[t].ref : ACTO_REF_NONE;
}

/* Whether the runtime still holds t (alive or stopping). */
static bool
fz_present(const fz *f, int t)
{
    return t >= 0 && f->actors[t].exists && f->actors[t].stop_runs == 0;
}

static int
fz_find(const fz *f, acto_ref ref)
{
    for (int i = 0; i < f->n_actors; i++) {
        if (f->actors[i].started > 0 && acto_ref_eq(f->actors[i].ref, ref)) {
            return i;
        }
    }
    return -1;
}

/* A random receiver: mostly a present actor, else any actor so far
 * (likely dead), or none at all. */
static int
fz_pick(fz *f, uint64_t *r)
{
    uint32_t k = rng_next(r) % 16;
    if (f->n_actors == 0 || k == 0) {
        return -1;
    }
    if (k < 13 && f->n_live > 0) {
        return f->live[rng_next(r) % (uint32_t)f->n_live];
    }
    return (int)(rng_next(r) % (uint32_t)f->n_actors);
}

static void
fz_free(void *ptr, void *user)
{
    (void)user;
    fz_msg *m = ptr;
    m->freed++;
    FZ_CHECK(m->freed == 1, "message %d freed %d times", m->id, m->freed);
}

/* fz_new_msg builds a pointer message from -> to; from < 0 skips the
 * order check. Returns its number, or -1 when the budget is spent. */
static int
fz_new_msg(fz *f, uint32_t type, int from, int to, int hops, acto_msg **out)
{
    if (f->n_msgs >= FZ_MSGS) {
        return -1;
    }
    int id = f->n_msgs++;
    fz_msg *fm = &f->msgs[id];
    *fm = (fz_msg){.id = id,
                   .type = type,
                   .from = to >= 0 ? from : -1,
                   .to = to,
                   .script = rng_next(&f->rng),
                   .hops = hops,
                   .ask = -1};
    if (fm->from >= 0) {
        fm->seq = ++f->next_seq[from][to];
    }
    FZ_RC(acto_msg_new_ptr(f->sys, type, fm, fz_free, f, out), 0);
    return id;
}

/* A send refused for a full mailbox is allowed only by these policies. */
static void
fz_check_refused(fz *f, int rc, int to, bool outside)
{
    if (rc == 0) {
        return;
    }
    FZ_RC(rc, ACTO_EQUEUEFULL);
    FZ_CHECK(to >= 0 && f->actors[to].opts.capacity > 0, "refused by %d", to);
    acto_overflow o = f->actors[to].opts.overflow;
    FZ_CHECK(o == ACTO_OVERFLOW_FAIL || (outside && o == ACTO_OVERFLOW_PARK),
             "actor %d with policy %d refused a send", to, (int)o);
}

/* fz_stop stops or kills t, from anywhere, checking the result against
 * the model. */
static void
fz_stop(fz *f, int t, bool kill)
{
    acto_ref ref = fz_ref(f, t);
    bool alive = acto_alive(f->sys, ref);
    if (t >= 0 && (f->actors[t].stopping || f->actors[t].stop_runs > 0)) {
        FZ_CHECK(!alive, "actor %d stopped but alive", t);
    }
    int want = alive ? 0 : fz_present(f, t) ? ACTO_EALREADY : ACTO_ENOACTOR;
    FZ_RC(kill ? acto_kill(f->sys, ref) : acto_stop(f->sys, ref), want);
    if (want == 0) {
        f->actors[t].stopping = true;
        f->actors[t].requested = kill ? ACTO_EXIT_KILLED : ACTO_EXIT_NORMAL;
    }
}

static void
fz_check_names(fz *f)
{
    for (int k = 0; k < FZ_NAMES; k++) {
        char name[8];
        snprintf(name, sizeof(name), "fz%d", k);
        acto_ref want = fz_ref(f, f->name_owner[k]);
        if (f->name_owner[k] < 0) {
            want = ACTO_REF_NONE;
        }
        FZ_CHECK(acto_ref_eq(acto_whereis(f->sys, name), want),
                 "name %s should be actor %d", name, f->name_owner[k]);
    }
}

static void
fz_name(fz *f, uint64_t *r, int t)
{
    int k = (int)(rng_next(r) % FZ_NAMES);
    char name[8];
    snprintf(name, sizeof(name), "fz%d", k);
    if (rng_next(r) % 3 == 0) {
        FZ_RC(acto_unregister(f->sys, name),
              f->name_owner[k] >= 0 ? 0 : ACTO_ENOTFOUND);
        f->name_owner[k] = -1;
        return;
    }
    acto_ref ref = fz_ref(f, t);
    int want = !acto_alive(f->sys, ref) ? ACTO_ENOACTOR
               : f->name_owner[k] >= 0  ? ACTO_EEXIST
                                        : 0;
    FZ_RC(acto_register(f->sys, name, ref), want);
    if (want == 0) {
        f->name_owner[k] = t;
    }
}

/* ---- the actor ---------------------------------------------------------- */

static int fz_receive(acto_ctx *ctx, void *state, const acto_msg *m);
static int fz_start(acto_ctx *ctx, void *state);
static void fz_stop_hook(acto_ctx *ctx, void *state,
                         const acto_exit_reason *reason);

static const acto_behaviour fz_behaviour = {fz_receive, fz_start, fz_stop_hook};

static int
fz_start(acto_ctx *ctx, void *state)
{
    fz_actor *a = state;
    fz *f = a->f;
    a->started++;
    a->ref = acto_self(ctx);
    FZ_CHECK(acto_ref_eq(acto_parent(ctx), fz_ref(f, a->parent)),
             "actor %d has the wrong parent", a->idx);
    return a->start_fails ? ACTO_EINVAL : 0;
}

static void
fz_stop_hook(acto_ctx *ctx, void *state, const acto_exit_reason *reason)
{
    fz_actor *a = state;
    fz *f = a->f;
    FZ_CHECK(acto_ref_eq(acto_self(ctx), a->ref), "stop hook of %d", a->idx);
    a->stop_runs++;
    FZ_CHECK(a->stop_runs == 1, "stop hook of %d ran %d times", a->idx,
             a->stop_runs);
    int last = f->live[--f->n_live];
    f->live[a->live_pos] = last;
    f->actors[last].live_pos = a->live_pos;
    a->exit_kind = reason->kind;
    if (a->fail_code != 0) {
        FZ_CHECK(reason->kind == ACTO_EXIT_FAILED, "actor %d failed, exit %d",
                 a->idx, (int)reason->kind);
    } else if (a->stopping) {
        FZ_CHECK(reason->kind == a->requested, "actor %d exit %d, want %d",
                 a->idx, (int)reason->kind, (int)a->requested);
    } else {
        /* Only a send timeout or the close stop an actor on their own. */
        FZ_CHECK(reason->kind == ACTO_EXIT_FAILED ||
                     (f->closing && reason->kind == ACTO_EXIT_SHUTDOWN),
                 "actor %d stopped by itself with exit %d", a->idx,
                 (int)reason->kind);
    }
    if (reason->kind == ACTO_EXIT_FAILED) {
        const acto_error *e = reason->error;
        FZ_CHECK(e != NULL, "actor %d failed without an error", a->idx);
        int want = a->fail_code != 0 ? a->fail_code : ACTO_ETIMEDOUT;
        FZ_CHECK(e->code == want, "actor %d failed with %s, want %s", a->idx,
                 acto_err_name(e->code), acto_err_name(want));
        FZ_CHECK(acto_ref_eq(e->origin, a->ref), "origin of %d", a->idx);
        if (a->fail_code == 0) {
            FZ_CHECK(strcmp(e->type, "SendTimeout") == 0 && e->msg == NULL,
                     "send timeout of %d: %s", a->idx, e->type);
            FZ_CHECK(a->opts.send_timeout_ms > 0,
                     "actor %d timed out without a send timeout", a->idx);
        }
        a->parent_alive_at_fail =
            a->parent >= 0 && acto_alive(f->sys, fz_ref(f, a->parent));
    } else {
        FZ_CHECK(reason->error == NULL, "actor %d: an error without failing",
                 a->idx);
    }
    for (int k = 0; k < FZ_NAMES; k++) {
        if (f->name_owner[k] == a->idx) {
            f->name_owner[k] = -1; /* dropped as it stops */
        }
    }
}

static int fz_spawn(fz *f, int parent);

static void
fz_on_down(fz *f, fz_actor *a, const acto_msg *m)
{
    const acto_down *d = acto_msg_down(m);
    FZ_CHECK(d != NULL && d->monitor >= 1 && d->monitor <= (uint64_t)f->n_mons,
             "actor %d: down with a bad monitor id", a->idx);
    fz_mon *mon = &f->mons[d->monitor - 1];
    FZ_CHECK(mon->id == d->monitor, "monitor ids out of step");
    FZ_CHECK(mon->watcher == a->idx, "down for %d reached %d", mon->watcher,
             a->idx);
    mon->downs++;
    FZ_CHECK(mon->downs == 1, "monitor %llu: %d downs",
             (unsigned long long)mon->id, mon->downs);
    FZ_CHECK(!mon->demonitored, "down after a successful demonitor");
    acto_ref tref = fz_ref(f, mon->target);
    FZ_CHECK(acto_ref_eq(d->actor, tref) &&
                 acto_ref_eq(acto_msg_sender(m), tref),
             "down names the wrong actor");
    if (mon->noactor) {
        FZ_CHECK(d->reason.kind == ACTO_EXIT_NOACTOR, "kind %d",
                 (int)d->reason.kind);
        return;
    }
    fz_actor *t = &f->actors[mon->target];
    FZ_CHECK(t->stop_runs == 1, "down before %d stopped", t->idx);
    FZ_CHECK(d->reason.kind == t->exit_kind, "down kind %d, stop hook kind %d",
             (int)d->reason.kind, (int)t->exit_kind);
    if (t->exit_kind == ACTO_EXIT_FAILED) {
        int want = t->fail_code != 0 ? t->fail_code : ACTO_ETIMEDOUT;
        FZ_CHECK(d->reason.error != NULL && d->reason.error->code == want,
                 "down of failed %d carries the wrong error", t->idx);
    } else {
        FZ_CHECK(d->reason.error == NULL, "down with an error");
    }
}

static void
fz_on_child_failed(fz *f, fz_actor *a, const acto_msg *m)
{
    const acto_error *e = acto_msg_error(m);
    FZ_CHECK(e != NULL, "child failure without an error");
    int c = fz_find(f, acto_msg_sender(m));
    FZ_CHECK(c >= 0 && acto_ref_eq(e->origin, f->actors[c].ref),
             "child failure from an unknown actor");
    fz_actor *child = &f->actors[c];
    FZ_CHECK(child->parent == a->idx, "failure of %d reached %d, not %d", c,
             a->idx, child->parent);
    FZ_CHECK(child->stop_runs == 1 && child->exit_kind == ACTO_EXIT_FAILED &&
                 child->parent_alive_at_fail,
             "child %d: unexpected failure notice", c);
    child->child_failed_seen++;
    FZ_CHECK(child->child_failed_seen == 1 && child->exceptions == 0,
             "failure of %d reported %d + %d times", c,
             child->child_failed_seen, child->exceptions);
    int want = child->fail_code != 0 ? child->fail_code : ACTO_ETIMEDOUT;
    FZ_CHECK(e->code == want, "child %d failed with %s", c,
             acto_err_name(e->code));
    if (e->msg != NULL) {
        /* Quarantined: not freed while the error lives. */
        fz_msg *q = acto_msg_ptr(e->msg);
        FZ_CHECK(q != NULL && q->freed == 0 && q->to == c,
                 "quarantined message of %d", c);
    } else {
        FZ_CHECK(child->fail_code == 0,
                 "child %d: handler failure lost its "
                 "message",
                 c);
    }
}

static void
fz_on_ask_done(fz *f, fz_actor *a, const acto_msg *m, int k)
{
    FZ_CHECK(k >= 0 && k < f->n_asks, "notify for ask %d", k);
    fz_ask *ask = &f->asks[k];
    FZ_CHECK(ask->asker == a->idx, "notify of ask %d reached %d", k, a->idx);
    FZ_CHECK(acto_msg_future(m) == ask->fut, "notify carries another future");
    ask->notified++;
    FZ_CHECK(ask->notified == 1, "ask %d notified %d times", k, ask->notified);
    acto_future *fut = ask->fut;
    switch (acto_future_state_of(fut)) {
    case ACTO_FUTURE_DONE: {
        void *v = NULL;
        FZ_RC(acto_future_result(fut, &v), 0);
        FZ_CHECK(ask->replied, "ask %d done without a reply", k);
        FZ_CHECK(acto_msg_type(v) == T_REPLY && acto_test_msg_int(v) == k,
                 "ask %d: wrong reply", k);
        FZ_CHECK(acto_ref_eq(acto_msg_sender(v), fz_ref(f, ask->target)),
                 "ask %d: reply from the wrong actor", k);
        break;
    }
    case ACTO_FUTURE_FAILED: {
        const acto_error *e = acto_future_exception(fut);
        int tf = ask->target >= 0 ? f->actors[ask->target].fail_code : 0;
        FZ_CHECK(e->code == ACTO_ETIMEDOUT || e->code == ACTO_ENOACTOR ||
                     (tf != 0 && e->code == tf),
                 "ask %d failed with %s", k, acto_err_name(e->code));
        break;
    }
    default:
        FZ_CHECK(false, "ask %d notified in state %d", k,
                 (int)acto_future_state_of(fut));
    }
}

static void
fz_ask_from(fz *f, acto_ctx *ctx, fz_actor *a, uint64_t *r, int hops)
{
    if (f->n_asks >= FZ_ASKS) {
        return;
    }
    int t = fz_pick(f, r);
    acto_msg *req;
    int id = fz_new_msg(f, T_ASK, -1, t, hops, &req);
    if (id < 0) {
        return;
    }
    acto_future *fut;
    int rc = acto_ask(f->sys, fz_ref(f, t), req, 1 + rng_next(r) % 100, &fut);
    if (rc != 0) {
        /* A full fail-policy mailbox refuses the ask: the request is still
         * ours and there is no future. */
        fz_check_refused(f, rc, t, false);
        acto_msg_free(req);
        return;
    }
    int k = f->n_asks++;
    f->msgs[id].ask = k;
    fz_ask *ask = &f->asks[k];
    *ask = (fz_ask){
        .asker = a != NULL ? a->idx : -1, .target = t, .msg = id, .fut = fut};
    if (ctx != NULL) {
        FZ_RC(acto_future_notify(ctx, ask->fut, (uint32_t)(T_ASKDONE + k)), 0);
    }
}

static void
fz_send_after(fz *f, uint64_t *r, int hops)
{
    if (f->n_timers >= FZ_TIMERS) {
        return;
    }
    int t = fz_pick(f, r);
    acto_msg *m;
    int id = fz_new_msg(f, T_TIMED, -1, t, hops, &m);
    if (id < 0) {
        return;
    }
    fz_timer *tm = &f->timers[f->n_timers++];
    tm->msg = id;
    FZ_RC(acto_send_after(f->sys, rng_next(r) % 50, fz_ref(f, t), m, &tm->id),
          0);
}

/* fz_act does what message fm tells actor a to. Returns the handler's
 * result. */
static int
fz_act(acto_ctx *ctx, fz_actor *a, fz_msg *fm)
{
    fz *f = a->f;
    acto_system *sys = f->sys;
    uint64_t r = ((uint64_t)fm->script << 1 | 1) * 0x9E3779B97F4A7C15ull;
    if (fm->ask >= 0 && rng_next(&r) % 4 != 0) {
        int k = fm->ask;
        FZ_RC(acto_reply(ctx, T_REPLY, &k, sizeof(k)), 0);
        f->asks[k].replied = true;
    }
    if (fm->hops <= 0) {
        return 0;
    }
    int actions = 1 + (int)(rng_next(&r) % 3);
    for (int i = 0; i < actions; i++) {
        uint32_t op = rng_next(&r) % 100;
        if (op < 36) {
            int n = 1 + (int)(rng_next(&r) % 3);
            for (int j = 0; j < n; j++) {
                int t = fz_pick(f, &r);
                acto_msg *m;
                if (fz_new_msg(f, T_WORK, a->idx, t, fm->hops - 1, &m) < 0) {
                    break;
                }
                int rc = acto_send(ctx, fz_ref(f, t), m);
                fz_check_refused(f, rc, t, false);
                if (rc != 0) {
                    acto_msg_free(m);
                }
            }
        } else if (op < 40) {
            if (f->n_live < 24) {
                fz_spawn(f, a->idx);
            }
        } else if (op < 42) {
            if (f->n_live < 12) {
                continue; /* keep enough actors about */
            }
            FZ_RC(acto_stop(sys, a->ref), a->stopping ? ACTO_EALREADY : 0);
            if (!a->stopping) {
                a->stopping = true;
                a->requested = ACTO_EXIT_NORMAL;
            }
        } else if (op < 44) {
            fz_stop(f, fz_pick(f, &r), rng_next(&r) % 2 == 0);
        } else if (op < 47) {
            static const int codes[] = {ACTO_EINVAL, ACTO_EFAILED, ACTO_ENOMEM,
                                        ACTO_ETIMEDOUT};
            int code = codes[rng_next(&r) % 4];
            a->fail_code = code;
            if (rng_next(&r) % 2 == 0) {
                return code;
            }
            return acto_fail(ctx, code, "FuzzError", "seed %u message %d",
                             f->seed, fm->id);
        } else if (op < 57) {
            if (f->n_mons >= FZ_MONS) {
                continue;
            }
            int t = fz_pick(f, &r);
            fz_mon *mon = &f->mons[f->n_mons];
            *mon = (fz_mon){
                .watcher = a->idx, .target = t, .noactor = !fz_present(f, t)};
            FZ_RC(acto_monitor(ctx, fz_ref(f, t), &mon->id), 0);
            f->n_mons++;
            FZ_CHECK(mon->id == (uint64_t)f->n_mons, "monitor id %llu",
                     (unsigned long long)mon->id);
        } else if (op < 64) {
            /* One of its own monitors, from a random place on. */
            fz_mon *mon = NULL;
            uint32_t from =
                f->n_mons > 0 ? rng_next(&r) % (uint32_t)f->n_mons : 0;
            for (int j = 0; j < f->n_mons && mon == NULL; j++) {
                fz_mon *c =
                    &f->mons[(from + (uint32_t)j) % (uint32_t)f->n_mons];
                if (c->watcher == a->idx) {
                    mon = c;
                }
            }
            if (mon == NULL) {
                continue;
            }
            bool active = !mon->noactor && !mon->demonitored &&
                          f->actors[mon->target].stop_runs == 0;
            FZ_RC(acto_demonitor(ctx, mon->id), active ? 0 : ACTO_ENOTFOUND);
            if (active) {
                mon->demonitored = true;
            }
        } else if (op < 71) {
            uint64_t ms = rng_next(&r) % 4 == 0 ? 0 : 1 + rng_next(&r) % 50;
            FZ_RC(acto_set_receive_timeout(ctx, ms), 0);
        } else if (op < 76) {
            fz_name(f, &r, rng_next(&r) % 2 == 0 ? a->idx : fz_pick(f, &r));
        } else if (op < 84) {
            fz_ask_from(f, ctx, a, &r, fm->hops - 1);
        } else if (op < 90) {
            fz_send_after(f, &r, fm->hops - 1);
        } else {
            /* A plain reply: to the sending actor, if any. */
            acto_ref sender = acto_sender(ctx);
            int s = acto_ref_is_none(sender) ? -1 : fz_find(f, sender);
            int k = fm->ask;
            int rc = acto_reply(ctx, T_REPLY, &k, sizeof(k));
            if (k >= 0) {
                FZ_RC(rc, 0); /* a second reply is dropped */
                f->asks[k].replied = true;
            } else if (acto_ref_is_none(sender)) {
                FZ_RC(rc, ACTO_ENOACTOR);
            } else {
                fz_check_refused(f, rc, s, false);
            }
        }
    }
    return 0;
}

static int
fz_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    fz_actor *a = state;
    fz *f = a->f;
    FZ_CHECK(a->stop_runs == 0 && acto_ref_eq(acto_self(ctx), a->ref),
             "actor %d handles after stopping", a->idx);
    a->handled++;
    uint32_t type = acto_msg_type(m);
    switch (type) {
    case ACTO_MSG_DOWN:
        fz_on_down(f, a, m);
        return 0;
    case ACTO_MSG_CHILD_FAILED:
        fz_on_child_failed(f, a, m);
        return 0;
    case ACTO_MSG_RECEIVE_TIMEOUT:
    case T_REPLY:
        return 0;
    default:
        break;
    }
    if (type >= T_ASKDONE) {
        fz_on_ask_done(f, a, m, (int)(type - T_ASKDONE));
        return 0;
    }
    FZ_CHECK(type == T_WORK || type == T_ASK || type == T_TIMED,
             "actor %d got type %u", a->idx, type);
    fz_msg *fm = acto_msg_ptr(m);
    FZ_CHECK(fm != NULL, "a message without its payload");
    FZ_CHECK(fm->freed == 0 && fm->handled == 0,
             "message %d handled after "
             "being freed or handled",
             fm->id);
    FZ_CHECK(fm->to == a->idx, "message %d for %d reached %d", fm->id, fm->to,
             a->idx);
    fm->handled++;
    if (fm->from >= 0) {
        acto_ref want =
            fm->from == FZ_OUTSIDE ? ACTO_REF_NONE : f->actors[fm->from].ref;
        FZ_CHECK(acto_ref_eq(acto_msg_sender(m), want), "message %d: sender",
                 fm->id);
        uint32_t *last = &f->last_seq[fm->from][a->idx];
        FZ_CHECK(fm->seq > *last,
                 "from %d to %d: message seq %u after seq %u (message %d)",
                 fm->from, a->idx, fm->seq, *last, fm->id);
        *last = fm->seq;
    }
    if (f->final) {
        return 0;
    }
    return fz_act(ctx, a, fm);
}

static void
fz_exception(acto_system *sys, const acto_error *e, void *user)
{
    (void)sys;
    fz *f = user;
    if (strncmp(e->text, "exception was never retrieved", 29) == 0) {
        f->never_retrieved++;
        return;
    }
    int c = fz_find(f, e->origin);
    FZ_CHECK(c >= 0, "exception from an unknown actor: %s", e->text);
    fz_actor *a = &f->actors[c];
    FZ_CHECK(a->stop_runs == 1 && a->exit_kind == ACTO_EXIT_FAILED &&
                 !a->parent_alive_at_fail,
             "exception for %d, which had a live parent or did not fail", c);
    a->exceptions++;
    FZ_CHECK(a->exceptions == 1 && a->child_failed_seen == 0,
             "failure of %d reported %d + %d times", c, a->child_failed_seen,
             a->exceptions);
}

/* fz_spawn spawns an actor with random options, from outside (parent -1)
 * or from parent's handler. Returns its index or -1. */
static int
fz_spawn(fz *f, int parent)
{
    if (f->n_actors >= FZ_ACTORS) {
        return -1;
    }
    int idx = f->n_actors++;
    fz_actor *a = &f->actors[idx];
    *a = (fz_actor){.f = f, .idx = idx, .parent = parent};
    acto_spawn_opts *o = &a->opts;
    uint32_t kind = fz_rand(f, 10);
    if (kind < 3) {
        o->capacity = 0;
    } else {
        o->capacity = 1 + fz_rand(f, 4);
        o->overflow = kind < 7   ? ACTO_OVERFLOW_PARK
                      : kind < 8 ? ACTO_OVERFLOW_DROP_OLDEST
                      : kind < 9 ? ACTO_OVERFLOW_DROP_NEWEST
                                 : ACTO_OVERFLOW_FAIL;
    }
    if (fz_rand(f, 3) == 0) {
        o->send_timeout_ms = 1 + fz_rand(f, 50);
    }
    o->batch = fz_rand(f, 4);
    o->label = fz_rand(f, 4) == 0 ? "fuzzed" : NULL;
    a->start_fails = fz_rand(f, 25) == 0;
    acto_ref ref = ACTO_REF_NONE;
    int rc = acto_spawn(f->sys, &fz_behaviour, a, o, &ref);
    FZ_CHECK(a->started == 1, "start hook of %d ran %d times", idx, a->started);
    if (a->start_fails) {
        FZ_RC(rc, ACTO_EINVAL);
        return idx; /* its ref stays, for sends to an actor that never was */
    }
    FZ_RC(rc, 0);
    FZ_CHECK(acto_ref_eq(ref, a->ref), "spawn returned another ref");
    a->exists = true;
    a->live_pos = f->n_live;
    f->live[f->n_live++] = idx;
    return idx;
}

/* ---- the outside ------------------------------------------------------- */

static void
fz_on_sent(acto_system *sys, int status, void *user)
{
    (void)sys;
    fz_wait *w = user;
    fz *f = w->f;
    w->calls++;
    w->status = status;
    FZ_CHECK(w->expected && w->calls == 1, "send_wait callback ran %d times",
             w->calls);
    if (status == ACTO_ECANCELED) {
        FZ_CHECK(f->closing, "send_wait cancelled before the close");
    } else if (status == ACTO_ENOACTOR) {
        fz_msg *fm = &f->msgs[w->msg];
        FZ_CHECK(fm->freed == 1 && fm->handled == 0,
                 "send_wait reported a dead receiver for message %d", w->msg);
    } else {
        FZ_RC(status, 0);
    }
}

static void
fz_settle(fz *f)
{
    acto_test_settle(f->env);
    acto_test_assert_stats_balance(f->sys);
    acto_stats st;
    acto_system_stats(f->sys, &st);
    uint64_t live = 0;
    for (int i = 0; i < f->n_actors; i++) {
        live += fz_present(f, i);
    }
    FZ_CHECK(st.live == live, "%llu live actors, model says %llu",
             (unsigned long long)st.live, (unsigned long long)live);
    fz_check_names(f);
}

static void
fz_step(fz *f)
{
    uint32_t op = fz_rand(f, 100);
    uint64_t *r = &f->rng;
    if (op < 4 || f->n_live < 6) {
        fz_spawn(f, -1);
    } else if (op < 38) {
        int t = fz_pick(f, r);
        acto_msg *m;
        if (fz_new_msg(f, T_WORK, FZ_OUTSIDE, t, 1 + (int)fz_rand(f, 4), &m) <
            0) {
            return;
        }
        int rc = acto_system_send(f->sys, fz_ref(f, t), m);
        fz_check_refused(f, rc, t, true);
        if (rc != 0) {
            acto_msg_free(m);
        }
    } else if (op < 46) {
        if (f->n_waits >= FZ_WAITS) {
            return;
        }
        int t = fz_pick(f, r);
        acto_msg *m;
        int id =
            fz_new_msg(f, T_WORK, FZ_OUTSIDE, t, 1 + (int)fz_rand(f, 4), &m);
        if (id < 0) {
            return;
        }
        fz_wait *w = &f->waits[f->n_waits++];
        *w = (fz_wait){.f = f, .to = t, .msg = id, .expected = true};
        int rc = acto_system_send_wait(f->sys, fz_ref(f, t), m, fz_on_sent, w);
        if (rc != 0) {
            w->expected = false;
            fz_check_refused(f, rc, t, false);
            acto_msg_free(m);
        }
    } else if (op < 48) {
        if (f->n_live > 10) {
            fz_stop(f, fz_pick(f, r), false);
        }
    } else if (op < 50) {
        fz_stop(f, fz_pick(f, r), true);
    } else if (op < 62) {
        FZ_RC(acto_system_advance(f->sys, fz_rand(f, 40)), 0);
    } else if (op < 78) {
        acto_test_run_once(&f->env->loop);
    } else if (op < 84) {
        fz_settle(f);
    } else if (op < 88) {
        fz_ask_from(f, NULL, NULL, r, 1 + (int)fz_rand(f, 3));
    } else if (op < 92) {
        fz_send_after(f, r, 1 + (int)fz_rand(f, 3));
    } else if (op < 95) {
        if (f->n_timers == 0) {
            return;
        }
        fz_timer *tm = &f->timers[fz_rand(f, (uint32_t)f->n_timers)];
        int rc = acto_timer_cancel(f->sys, tm->id);
        if (rc == 0) {
            FZ_CHECK(f->msgs[tm->msg].freed == 1 &&
                         f->msgs[tm->msg].handled == 0,
                     "cancelled timer message %d", tm->msg);
        } else {
            FZ_RC(rc, ACTO_ENOTFOUND);
        }
    } else {
        fz_name(f, r, fz_pick(f, r));
    }
}

/* fz_finish drains everything the model can then check exactly: handlers
 * stop acting, every bounded park-policy actor is killed (so no sender
 * stays parked, even in a cycle), and time jumps past every ask, send and
 * receive timeout. */
static void
fz_finish(fz *f)
{
    f->step = FZ_STEPS;
    f->final = true;
    fz_settle(f);
    for (int i = 0; i < f->n_actors; i++) {
        fz_actor *a = &f->actors[i];
        if (fz_present(f, i) && !a->stopping && a->opts.capacity > 0 &&
            a->opts.overflow == ACTO_OVERFLOW_PARK) {
            fz_stop(f, i, true);
        }
    }
    fz_settle(f);
    FZ_RC(acto_system_advance(f->sys, 10000), 0);
    fz_settle(f);
    acto_stats st;
    acto_system_stats(f->sys, &st);
    FZ_CHECK(st.queued == 0, "%llu messages still queued",
             (unsigned long long)st.queued);

    for (int i = 0; i < f->n_mons; i++) {
        fz_mon *mon = &f->mons[i];
        bool watcher_alive = f->actors[mon->watcher].stop_runs == 0;
        bool target_gone = mon->noactor || f->actors[mon->target].stop_runs > 0;
        if (mon->demonitored) {
            FZ_CHECK(mon->downs == 0, "monitor %d: down after demonitor", i);
        } else if (watcher_alive) {
            FZ_CHECK(mon->downs == (target_gone ? 1 : 0),
                     "monitor %d of %d on %d: %d downs", i, mon->watcher,
                     mon->target, mon->downs);
        }
    }
    for (int i = 0; i < f->n_actors; i++) {
        fz_actor *a = &f->actors[i];
        if (a->stop_runs == 0 || a->exit_kind != ACTO_EXIT_FAILED) {
            FZ_CHECK(a->child_failed_seen + a->exceptions == 0,
                     "actor %d did not fail but was reported", i);
        } else if (!a->parent_alive_at_fail) {
            FZ_CHECK(a->exceptions == 1,
                     "failure of %d without a live parent: "
                     "%d exception calls",
                     i, a->exceptions);
        } else if (fz_present(f, a->parent)) {
            FZ_CHECK(a->child_failed_seen == 1,
                     "failure of %d: %d notices at live parent %d", i,
                     a->child_failed_seen, a->parent);
        }
    }
    for (int k = 0; k < f->n_asks; k++) {
        fz_ask *ask = &f->asks[k];
        FZ_CHECK(acto_future_done(ask->fut), "ask %d still pending", k);
        if (ask->asker >= 0 && fz_present(f, ask->asker)) {
            FZ_CHECK(ask->notified == 1, "ask %d of live %d notified %d times",
                     k, ask->asker, ask->notified);
        }
        (void)acto_future_exception(ask->fut); /* retrieved */
        acto_future_release(ask->fut);
    }
    fz_check_names(f);
}

/* fz_report prints what a run did (FZ_VERBOSE=1), to see the walk
 * reaches every corner. */
static void
fz_report(fz *f)
{
    acto_stats st;
    acto_system_stats(f->sys, &st);
    int downs = 0, demon = 0, cf = 0, exc = 0, notified = 0, waited = 0;
    for (int i = 0; i < f->n_mons; i++) {
        downs += f->mons[i].downs;
        demon += f->mons[i].demonitored;
    }
    for (int i = 0; i < f->n_actors; i++) {
        cf += f->actors[i].child_failed_seen;
        exc += f->actors[i].exceptions;
    }
    for (int i = 0; i < f->n_asks; i++) {
        notified += f->asks[i].notified;
    }
    for (int i = 0; i < f->n_waits; i++) {
        waited += f->waits[i].calls;
    }
    fprintf(stderr,
            "seed %u: %d actors (%llu spawned, %llu live), %d messages, "
            "sent %llu handled %llu dead %llu dropped %llu parks %llu "
            "failures %llu late %llu; %d monitors (%d downs, %d "
            "demonitored); %d child-failed, %d exceptions; %d asks (%d "
            "notified); %d waits (%d called back); %d timers\n",
            f->seed, f->n_actors, (unsigned long long)st.spawned,
            (unsigned long long)st.live, f->n_msgs, (unsigned long long)st.sent,
            (unsigned long long)st.handled, (unsigned long long)st.dead_letters,
            (unsigned long long)st.dropped, (unsigned long long)st.parks,
            (unsigned long long)st.failures,
            (unsigned long long)st.late_replies, f->n_mons, downs, demon, cf,
            exc, f->n_asks, notified, f->n_waits, waited, f->n_timers);
}

static void
run_fuzz(acto_test_env *env, unsigned seed)
{
    fz *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    fz_cur = f;
    f->env = env;
    f->seed = seed;
    f->rng = 0x9E3779B97F4A7C15ull * (seed + 1);
    for (int k = 0; k < FZ_NAMES; k++) {
        f->name_owner[k] = -1;
    }
    acto_system_opts o = {.virtual_time = true,
                          /* One loop turn drains the run queue, so a run
                           * does not depend on how fast the machine is. */
                          .slice_us = UINT32_MAX};
    f->sys = acto_test_system(env, &o);
    acto_system_set_exception_handler(f->sys, fz_exception, f);
    for (f->step = 0; f->step < FZ_STEPS; f->step++) {
        fz_step(f);
    }
    fz_finish(f);
    if (getenv("FZ_VERBOSE") != NULL) {
        fz_report(f);
    }

    f->closing = true;
    acto_test_close_system(env, f->sys);
    f->sys = NULL;
    for (int i = 0; i < f->n_actors; i++) {
        fz_actor *a = &f->actors[i];
        FZ_CHECK(a->stop_runs == (a->exists ? 1 : 0),
                 "actor %d: stop hook ran %d times", i, a->stop_runs);
    }
    for (int i = 0; i < f->n_msgs; i++) {
        fz_msg *fm = &f->msgs[i];
        FZ_CHECK(fm->freed == 1,
                 "message %d (type %u, to %d with policy %d) freed %d times", i,
                 fm->type, fm->to,
                 fm->to >= 0 ? (int)f->actors[fm->to].opts.overflow : -1,
                 fm->freed);
    }
    for (int i = 0; i < f->n_waits; i++) {
        fz_wait *w = &f->waits[i];
        FZ_CHECK(w->calls == (w->expected ? 1 : 0),
                 "send_wait %d called back %d times", i, w->calls);
    }
    FZ_CHECK(f->never_retrieved == 0, "%d futures failed unread",
             f->never_retrieved);
    FZ_CHECK(acto_test_alloc_live() == 0, "%ld allocation(s) left",
             acto_test_alloc_live());
    fz_cur = NULL;
    free(f);
}

static void
test_actor_fuzz_random_operations_keep_every_invariant(void **state)
{
    acto_test_env *env = *state;
    for (unsigned seed = 1; seed <= FZ_SEEDS; seed++) {
        run_fuzz(env, seed);
    }
}

/* ---- minimal cases of what the walk found ----------------------------- */

static void
count_free(void *ptr, void *user)
{
    (void)user;
    (*(int *)ptr)++;
}

static int
ignore_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)ctx;
    (void)state;
    (void)m;
    return 0;
}

static const acto_behaviour ignore_b = {ignore_receive, NULL, NULL};

/* A full fail-policy mailbox refuses the timer's message: with no caller
 * to hand it back to, it must become a counted drop (it once leaked). */
static void
test_actor_fuzz_send_after_to_full_fail_policy_mailbox_frees_the_message(
    void **state)
{
    acto_test_env *env = *state;
    acto_system_opts o = {.virtual_time = true};
    acto_system *sys = acto_test_system(env, &o);
    acto_spawn_opts fail1 = {.capacity = 1, .overflow = ACTO_OVERFLOW_FAIL};
    acto_ref ref;
    assert_acto_ok(acto_spawn(sys, &ignore_b, NULL, &fail1, &ref));
    assert_acto_ok(acto_test_send_int(sys, ref, T_WORK, 1)); /* now full */
    int freed = 0;
    acto_msg *m;
    assert_acto_ok(
        acto_msg_new_ptr(sys, T_TIMED, &freed, count_free, NULL, &m));
    assert_acto_ok(acto_send_after(sys, 5, ref, m, NULL));
    assert_acto_ok(acto_system_advance(sys, 5)); /* fires into the full box */
    acto_test_settle(env);
    int freed_after_firing = freed;
    acto_stats st;
    acto_system_stats(sys, &st);
    acto_test_close_system(env, sys);
    assert_int_equal(freed_after_firing, 1); /* dropped, counted */
    assert_int_equal(st.sent,
                     st.handled + st.dead_letters + st.dropped + st.queued);
    assert_int_equal(freed, 1);
}

/* An ask to a full fail-policy mailbox is refused at once, the request
 * still the caller's (it once returned 0 and lost the request). */
static void
test_actor_fuzz_ask_to_full_fail_policy_mailbox_frees_the_request(void **state)
{
    acto_test_env *env = *state;
    acto_system_opts o = {.virtual_time = true};
    acto_system *sys = acto_test_system(env, &o);
    acto_spawn_opts fail1 = {.capacity = 1, .overflow = ACTO_OVERFLOW_FAIL};
    acto_ref ref;
    assert_acto_ok(acto_spawn(sys, &ignore_b, NULL, &fail1, &ref));
    assert_acto_ok(acto_test_send_int(sys, ref, T_WORK, 1)); /* now full */
    int freed = 0;
    acto_msg *req;
    assert_acto_ok(
        acto_msg_new_ptr(sys, T_ASK, &freed, count_free, NULL, &req));
    acto_future *fut = NULL;
    assert_acto_err(acto_ask(sys, ref, req, 10, &fut), ACTO_EQUEUEFULL);
    assert_null(fut);
    assert_int_equal(freed, 0);
    acto_msg_free(req); /* still ours */
    assert_int_equal(freed, 1);
    acto_test_close_system(env, sys);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(test_actor_fuzz_random_operations_keep_every_invariant),
        acto_unit_test(
            test_actor_fuzz_send_after_to_full_fail_policy_mailbox_frees_the_message),
        acto_unit_test(
            test_actor_fuzz_ask_to_full_fail_policy_mailbox_frees_the_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
