/* A seeded random walk over futures and what is built on them, checked
 * against a model.
 *
 * Each seed drives one virtual-time system through a few thousand random
 * steps over a pool of futures: plain futures made and completed with
 * results (counted values), errors or cancels; done callbacks added (also
 * from inside callbacks) and removed; retains and releases; gathers (with
 * and without return_exceptions), waits (every mode, with and without a
 * timeout), as_completed, wait_for, shield, groups and then-chains over
 * random subsets of the pool (combinator outs, asks, event waits and
 * acquires included, done or not, sometimes twice); cancels of any of
 * them; events and semaphores (bounded or not); asks to a server actor
 * that answers, ignores or fails; notify and then from inside an actor;
 * time advances and loop turns.
 *
 * Every future gets a tracker as its first done callback. Trackers run in
 * the order the futures completed (the system's ready list), so the order
 * they run in gives each future a completion rank, from which the model
 * checks what each combinator saw: a wait's done and pending sets, the
 * member a gather or a group reports, the order as_completed delivers.
 * The model then checks every callback runs once, in the order added and
 * never inside the call that added it or completed the future; every value
 * is freed once and never before its future goes; only cancels some
 * combinator or the test asked for happen; semaphore permits are
 * conserved; the exception handler sees exactly the never-retrieved errors
 * and server failures the model expects; no future is left. A failure
 * names the seed and step. */
#include "acto_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_SEEDS 20
#define FZ_STEPS 2000
#define FZ_FUTS 8192
#define FZ_MEMS 32768
#define FZ_CBS 8192
#define FZ_VALS 4096
#define FZ_ASKS 1024
#define FZ_JOBS 1024
#define FZ_GROUPS 256
#define FZ_GMEMS 8
#define FZ_ASCS 1024
#define FZ_EVENTS 64
#define FZ_SEMS 64
#define FZ_MAXN 6

enum {
    T_REQ = 1,          /* bytes: fz_req, to the server */
    T_REPLY,            /* bytes: the ask number */
    T_JOB,              /* pointer: an fz_job, to the continuation actor */
    T_NOTIFIED = 0x1000 /* + the job number */
};

typedef enum fz_kind {
    K_PLAIN,
    K_GATHER,
    K_WAIT,
    K_ASC,
    K_WAITFOR,
    K_SHIELD,
    K_GROUP,
    K_EVWAIT,
    K_ACQ,
    K_ASK,
    K_THEN,
    K_KINDS
} fz_kind;

static const char *const kind_names[K_KINDS] = {
    "plain", "gather", "wait",    "as_completed", "wait_for", "shield",
    "group", "event",  "acquire", "ask",          "then"};

typedef struct fz fz;

/* One future of the pool. */
typedef struct fz_fut {
    acto_future *f; /* identity; usable only while refs > 0 */
    int idx;
    fz_kind kind;
    int refs;      /* the test's references */
    int live_pos;  /* in fz.live while refs > 0 */
    bool orphan;   /* released while pending */
    bool released; /* the test let go of its last reference */
    bool shared;   /* given to something that may read its error */
    bool read;     /* the test read its error */
    bool taken;    /* its value was taken */
    bool cancelled_by_me;
    bool completed_by_me;
    bool licensed; /* something was entitled to cancel it */
    uint64_t born; /* virtual time */
    uint64_t timeout;
    int aux; /* mode, return_exceptions, group, event, semaphore, ask, job,
                as_completed record */
    int aux2;
    int mem_off, n_mem; /* members, for combinators */
    int last_cb;        /* seq of the last order callback run */
    int tracker_runs;
    uint64_t done_seq; /* completion rank, from the tracker; 0 before */
    /* The outcome, recorded when set by the test or seen by the tracker. */
    acto_future_state state;
    int val; /* DONE plain: the fz_val, or -1 */
    void *vptr;
    int err_code;
    char err_type[24];
    char err_text[64];
    int unretrieved_reports;
    bool expect_unretrieved;
    int next_of; /* 1 + the job whose then step returned it, or 0 */
} fz_fut;

typedef struct fz_cb {
    int fut;
    int seq;
    bool removed;
    int ran;
} fz_cb;

typedef struct fz_val {
    int owner;
    int freed;
} fz_val;

typedef struct fz_req {
    int ask;
    int mode; /* 0 answer, 1 ignore, 2 fail */
} fz_req;

typedef struct fz_ask {
    int fut;
    int mode;
    int server; /* incarnation */
    bool handled;
    uint64_t handled_at;
} fz_ask;

typedef struct fz_job {
    fz *f;
    int id;
    int fut;  /* the future the job is about (the message holds a ref) */
    int op;   /* 0 notify, 1 then NULL, 2 then a new plain, 3 then an ask */
    int out;  /* then: the chain's future */
    int next; /* then: the future fn returned, or -1 */
    int notified;
    int fn_calls;
    int msg_freed;
    bool handled;
} fz_job;

typedef struct fz_group {
    acto_group *g;
    int members[FZ_GMEMS];
    bool done_at_add[FZ_GMEMS];
    int n;
    int done; /* pool index of done, or -1 */
    bool closed, cancel_called, freed, freed_open;
} fz_group;

typedef struct fz_asc {
    int out;
    bool delivered[FZ_MAXN];
    int n_delivered;
    int last_status;
    int last_index;
    uint64_t last_seq;
    bool any_pending_delivered;
} fz_asc;

typedef struct fz_event {
    acto_event *e;
    bool set;
    bool freed;
} fz_event;

typedef struct fz_sem {
    acto_semaphore *s;
    bool bounded;
    unsigned total; /* value + held, once settled */
    int held;       /* permits the test holds */
    int n_acq;
    int last_fifo;
    bool freed;
} fz_sem;

struct fz {
    acto_test_env *env;
    acto_system *sys;
    unsigned seed;
    int step;
    uint64_t rng;
    bool in_api;     /* inside a call of the test into acto */
    bool in_advance; /* inside acto_system_advance */
    bool closing;    /* acto_system_close was called */
    bool closed;
    bool allow_orphans;
    uint64_t seq; /* completion ranks */
    fz_fut futs[FZ_FUTS];
    int n_futs;
    int live[FZ_FUTS];
    int n_live;
    int mems[FZ_MEMS];
    bool mem_done[FZ_MEMS];
    int n_mems;
    fz_cb cbs[FZ_CBS];
    int n_cbs;
    fz_val vals[FZ_VALS];
    int n_vals;
    fz_ask asks[FZ_ASKS];
    int n_asks;
    fz_job jobs[FZ_JOBS];
    int n_jobs;
    fz_group groups[FZ_GROUPS];
    int n_groups;
    fz_asc ascs[FZ_ASCS];
    int n_ascs;
    fz_event events[FZ_EVENTS];
    int n_events;
    fz_sem sems[FZ_SEMS];
    int n_sems;
    acto_ref server;
    acto_ref old_servers[64];
    int n_old_servers;
    int server_gen;
    bool server_dead; /* a fail request was handled */
    int server_failures;
    int server_failure_reports;
    uint64_t late_replies;
    acto_ref cont;
    int cont_state; /* the continuation actor's state, by address */
    int unretrieved_reports;
};

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

/* FZ_API runs e as a call of the test into acto: no done callback may run
 * meanwhile. */
#define FZ_API(f, e)                                                           \
    do {                                                                       \
        bool was_ = (f)->in_api;                                               \
        (f)->in_api = true;                                                    \
        e;                                                                     \
        (f)->in_api = was_;                                                    \
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

/* ---- the pool ---------------------------------------------------------- */

static void fz_tracker(acto_future *fut, void *user);

static void
fz_copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src != NULL ? src : "");
}

/* fz_adopt makes fut (one reference, the test's) entry of the pool and adds
 * its tracker, first of the test's callbacks. */
static int
fz_adopt(fz *f, acto_future *fut, fz_kind kind)
{
    FZ_CHECK(f->n_futs < FZ_FUTS, "pool full");
    int i = f->n_futs++;
    fz_fut *e = &f->futs[i];
    *e = (fz_fut){.f = fut,
                  .idx = i,
                  .kind = kind,
                  .refs = 1,
                  .born = acto_system_now(f->sys),
                  .val = -1,
                  .mem_off = f->n_mems,
                  .state = ACTO_FUTURE_PENDING};
    e->live_pos = f->n_live;
    f->live[f->n_live++] = i;
    FZ_API(f, FZ_RC(acto_future_add_done_cb(fut, fz_tracker, e), 0));
    return i;
}

static void
fz_unlive(fz *f, fz_fut *e)
{
    int last = f->live[--f->n_live];
    f->live[e->live_pos] = last;
    f->futs[last].live_pos = e->live_pos;
}

/* A random future the test holds (-1 if none); plain ones if asked. */
static int
fz_pick(fz *f, bool plain_only, bool pending_only)
{
    if (f->n_live == 0) {
        return -1;
    }
    for (int tries = 0; tries < 8; tries++) {
        int i = f->live[fz_rand(f, (uint32_t)f->n_live)];
        fz_fut *e = &f->futs[i];
        if ((plain_only && e->kind != K_PLAIN) ||
            (pending_only && acto_future_done(e->f))) {
            continue;
        }
        return i;
    }
    return -1;
}

/* fz_members picks up to max members for a combinator (possibly the same
 * one twice), records them and marks them shared. Returns how many. */
static int
fz_members(fz *f, acto_future **out, int max, int *off)
{
    int n = (int)fz_rand(f, (uint32_t)max + 1);
    if (fz_rand(f, 12) != 0 && n == 0) {
        n = 1;
    }
    *off = f->n_mems;
    int got = 0;
    for (int k = 0; k < n && f->n_mems < FZ_MEMS; k++) {
        int i;
        if (got > 0 && fz_rand(f, 10) == 0) {
            i = f->mems[*off + (int)fz_rand(f, (uint32_t)got)];
        } else {
            i = fz_pick(f, false, false);
        }
        if (i < 0 || f->futs[i].taken) {
            continue;
        }
        f->futs[i].shared = true;
        f->mems[f->n_mems] = i;
        f->mem_done[f->n_mems] = acto_future_done(f->futs[i].f);
        f->n_mems++;
        out[got++] = f->futs[i].f;
    }
    return got;
}

static void
fz_set_members(fz *f, int i, int off, int n)
{
    f->futs[i].mem_off = off;
    f->futs[i].n_mem = n;
}

static fz_fut *
fz_mem(fz *f, const fz_fut *e, int k)
{
    return &f->futs[f->mems[e->mem_off + k]];
}

/* Whether two recorded failures are the same error. */
static bool
fz_same_error(const fz_fut *a, const acto_error *err)
{
    return a->state == ACTO_FUTURE_FAILED && a->err_code == err->code &&
           strncmp(a->err_type, err->type, sizeof(a->err_type) - 1) == 0 &&
           strncmp(a->err_text, err->text, sizeof(a->err_text) - 1) == 0;
}

static void
fz_record_error(fz_fut *e, const acto_error *err)
{
    e->err_code = err->code;
    fz_copy(e->err_type, sizeof(e->err_type), err->type);
    fz_copy(e->err_text, sizeof(e->err_text), err->text);
}

/* ---- values ------------------------------------------------------------ */

static void
fz_val_free(void *ptr, void *user)
{
    fz *f = user;
    fz_val *v = ptr;
    v->freed++;
    FZ_CHECK(v->freed == 1, "value %d freed %d times", (int)(v - f->vals),
             v->freed);
    fz_fut *o = &f->futs[v->owner];
    FZ_CHECK(o->refs == 0,
             "value of future %d freed while the test holds %d "
             "references",
             o->idx, o->refs);
}

static void
fz_check_value(fz *f, const fz_fut *src, void *v, const char *what)
{
    FZ_CHECK(v == src->vptr, "%s: value %p, want future %d's %p", what, v,
             src->idx, src->vptr);
    if (src->kind == K_PLAIN && src->val >= 0) {
        FZ_CHECK(f->vals[src->val].freed == 0, "%s: value of %d already freed",
                 what, src->idx);
    }
}

/* ---- the model's checks, run by each future's tracker ------------------ */

static bool
fz_wait_cond(int mode, size_t n_pending, bool any_failed)
{
    switch (mode) {
    case ACTO_WAIT_FIRST_COMPLETED:
        return true; /* checked on n_done */
    case ACTO_WAIT_FIRST_EXCEPTION:
        return n_pending == 0 || any_failed;
    default:
        return n_pending == 0;
    }
}

static void
fz_check_gather(fz *f, fz_fut *e)
{
    bool rex = e->aux != 0;
    if (e->state == ACTO_FUTURE_DONE) {
        const acto_gather_result *r = e->vptr;
        FZ_CHECK(r != NULL && r->n == (size_t)e->n_mem, "gather %d: %zu items",
                 e->idx, r != NULL ? r->n : 0);
        for (int k = 0; k < e->n_mem; k++) {
            fz_fut *m = fz_mem(f, e, k);
            const acto_gather_item *it = &r->items[k];
            FZ_CHECK(it->future == m->f, "gather %d item %d is not member %d",
                     e->idx, k, m->idx);
            FZ_CHECK(m->done_seq != 0 && it->state == m->state,
                     "gather %d item %d: state %d, member %d state %d (seq "
                     "%llu)",
                     e->idx, k, (int)it->state, m->idx, (int)m->state,
                     (unsigned long long)m->done_seq);
            FZ_CHECK(rex || it->state == ACTO_FUTURE_DONE,
                     "gather %d succeeded with member %d in state %d", e->idx,
                     m->idx, (int)it->state);
            if (it->state == ACTO_FUTURE_DONE) {
                fz_check_value(f, m, it->value, "gather item");
            } else if (it->state == ACTO_FUTURE_FAILED) {
                FZ_CHECK(it->error != NULL && fz_same_error(m, it->error),
                         "gather %d item %d: wrong error", e->idx, k);
            }
        }
        return;
    }
    if (e->state != ACTO_FUTURE_FAILED) {
        return; /* cancelled: the licence pass checks it */
    }
    FZ_CHECK(!rex, "gather %d with return_exceptions failed", e->idx);
    /* The culprit is the first member to end not DONE, in the order the
     * gather saw them: members done when it was made come first. */
    bool early = false;
    int first = -1;
    for (int k = 0; k < e->n_mem; k++) {
        fz_fut *m = fz_mem(f, e, k);
        if (m->done_seq == 0 || m->state == ACTO_FUTURE_DONE) {
            continue;
        }
        if (f->mem_done[e->mem_off + k]) {
            early = true;
        } else if (first < 0 || m->done_seq < f->futs[first].done_seq) {
            first = m->idx;
        }
    }
    bool found = false;
    for (int k = 0; k < e->n_mem && !found; k++) {
        fz_fut *m = fz_mem(f, e, k);
        if (m->done_seq == 0 || m->state == ACTO_FUTURE_DONE) {
            continue;
        }
        if (early ? !f->mem_done[e->mem_off + k] : m->idx != first) {
            continue;
        }
        if (m->state == ACTO_FUTURE_CANCELLED) {
            found = e->err_code == ACTO_ECANCELED &&
                    strcmp(e->err_type, "CancelledError") == 0;
        } else {
            found = e->err_code == m->err_code &&
                    strcmp(e->err_type, m->err_type) == 0 &&
                    strcmp(e->err_text, m->err_text) == 0;
        }
    }
    FZ_CHECK(found, "gather %d failed with %s \"%s\", no first culprit (%d)",
             e->idx, acto_err_name(e->err_code), e->err_text, first);
}

static void
fz_check_wait(fz *f, fz_fut *e)
{
    FZ_CHECK(e->state != ACTO_FUTURE_FAILED, "wait %d failed", e->idx);
    if (e->state != ACTO_FUTURE_DONE) {
        return;
    }
    const acto_wait_result *r = e->vptr;
    FZ_CHECK(r->n_done + r->n_pending == (size_t)e->n_mem,
             "wait %d: %zu + %zu for %d", e->idx, r->n_done, r->n_pending,
             e->n_mem);
    size_t d = 0, p = 0;
    bool any_failed = false;
    for (int k = 0; k < e->n_mem; k++) {
        fz_fut *m = fz_mem(f, e, k);
        if (m->done_seq != 0) {
            FZ_CHECK(d < r->n_done && r->done[d] == m->f,
                     "wait %d: member %d (arg %d) done before it, not in "
                     "done",
                     e->idx, m->idx, k);
            d++;
            any_failed |= m->state == ACTO_FUTURE_FAILED;
        } else {
            FZ_CHECK(p < r->n_pending && r->pending[p] == m->f,
                     "wait %d: member %d (arg %d) done after it, not in "
                     "pending",
                     e->idx, m->idx, k);
            p++;
        }
    }
    bool cond =
        fz_wait_cond(e->aux, r->n_pending, any_failed) &&
        (e->aux != ACTO_WAIT_FIRST_COMPLETED || r->n_done > 0 || e->n_mem == 0);
    if (!cond) {
        FZ_CHECK(e->timeout > 0 &&
                     acto_system_now(f->sys) >= e->born + e->timeout,
                 "wait %d (mode %d) ended without its condition or timeout",
                 e->idx, e->aux);
    }
}

static void
fz_check_mirror(fz *f, fz_fut *e, const fz_fut *src, const char *what)
{
    switch (e->state) {
    case ACTO_FUTURE_DONE:
        FZ_CHECK(src->state == ACTO_FUTURE_DONE && src->done_seq != 0,
                 "%s %d done, source %d in state %d", what, e->idx, src->idx,
                 (int)src->state);
        fz_check_value(f, src, e->vptr, what);
        break;
    case ACTO_FUTURE_FAILED:
        if (src->state == ACTO_FUTURE_FAILED && src->err_code == e->err_code &&
            strcmp(src->err_type, e->err_type) == 0 &&
            strcmp(src->err_text, e->err_text) == 0) {
            break;
        }
        FZ_CHECK(e->kind == K_WAITFOR && e->timeout > 0 &&
                     e->err_code == ACTO_ETIMEDOUT &&
                     strcmp(e->err_type, "TimeoutError") == 0 &&
                     acto_system_now(f->sys) >= e->born + e->timeout,
                 "%s %d failed with %s \"%s\", source %d state %d", what,
                 e->idx, acto_err_name(e->err_code), e->err_text, src->idx,
                 (int)src->state);
        FZ_CHECK(src->state == ACTO_FUTURE_CANCELLED ||
                     acto_future_cancelled(src->f),
                 "%s %d timed out but left %d", what, e->idx, src->idx);
        break;
    default:
        break;
    }
}

static void
fz_check_asc_out(fz *f, fz_fut *e)
{
    fz_asc *a = &f->ascs[e->aux];
    FZ_CHECK(a->n_delivered == e->n_mem,
             "as_completed %d ended with %d of %d delivered", e->idx,
             a->n_delivered, e->n_mem);
    if (e->state == ACTO_FUTURE_DONE) {
        FZ_CHECK(a->last_status == 0 && e->vptr == NULL,
                 "as_completed %d done after status %s", e->idx,
                 acto_err_name(a->last_status));
    } else if (e->state == ACTO_FUTURE_FAILED) {
        FZ_CHECK(e->err_code == ACTO_ETIMEDOUT &&
                     a->last_status == ACTO_ETIMEDOUT && e->timeout > 0,
                 "as_completed %d failed with %s", e->idx,
                 acto_err_name(e->err_code));
    }
}

static void
fz_check_group_done(fz *f, fz_fut *e)
{
    fz_group *g = &f->groups[e->aux];
    int failed = 0;
    for (int k = 0; k < g->n; k++) {
        fz_fut *m = &f->futs[g->members[k]];
        if (e->state != ACTO_FUTURE_CANCELLED) {
            FZ_CHECK(m->done_seq != 0, "group %d done before member %d", e->aux,
                     m->idx);
        }
        failed += m->done_seq != 0 && m->state == ACTO_FUTURE_FAILED;
    }
    if (!g->freed) {
        const acto_error *errs[FZ_GMEMS];
        size_t n = acto_group_errors(g->g, errs, FZ_GMEMS);
        if (e->state != ACTO_FUTURE_CANCELLED) {
            FZ_CHECK(n == (size_t)failed, "group %d: %zu errors, %d failed",
                     e->aux, n, failed);
        }
        if (e->state == ACTO_FUTURE_FAILED) {
            FZ_CHECK(n > 0 && errs[0]->code == e->err_code &&
                         strcmp(errs[0]->text, e->err_text) == 0,
                     "group %d failed with another error than its first",
                     e->aux);
        }
    }
    switch (e->state) {
    case ACTO_FUTURE_DONE:
        FZ_CHECK(failed == 0 && !g->cancel_called && !g->freed_open &&
                     e->vptr == NULL,
                 "group %d done with %d failures, cancel %d", e->aux, failed,
                 g->cancel_called);
        break;
    case ACTO_FUTURE_FAILED: {
        bool match = false;
        for (int k = 0; k < g->n && !match; k++) {
            fz_fut *m = &f->futs[g->members[k]];
            match = m->state == ACTO_FUTURE_FAILED &&
                    m->err_code == e->err_code &&
                    strcmp(m->err_text, e->err_text) == 0;
        }
        FZ_CHECK(match, "group %d failed with no member's error", e->aux);
        break;
    }
    default:
        break;
    }
}

static void
fz_check_ask(fz *f, fz_fut *e)
{
    fz_ask *a = &f->asks[e->aux];
    uint64_t now = acto_system_now(f->sys);
    switch (e->state) {
    case ACTO_FUTURE_DONE: {
        const acto_msg *m = e->vptr;
        FZ_CHECK(a->handled && a->mode == 0, "ask %d done unanswered", e->aux);
        FZ_CHECK(acto_msg_type(m) == T_REPLY && acto_test_msg_int(m) == e->aux,
                 "ask %d: wrong reply", e->aux);
        break;
    }
    case ACTO_FUTURE_FAILED:
        if (e->err_code == ACTO_ETIMEDOUT) {
            FZ_CHECK(e->timeout > 0 && now >= e->born + e->timeout,
                     "ask %d timed out early", e->aux);
            FZ_CHECK(!a->handled || a->mode == 1 ||
                         a->handled_at >= e->born + e->timeout,
                     "ask %d timed out though handled at %llu (mode %d)",
                     e->aux, (unsigned long long)a->handled_at, a->mode);
        } else if (e->err_code == ACTO_EINVAL) {
            FZ_CHECK(a->handled && a->mode == 2 &&
                         strcmp(e->err_type, "ServerError") == 0,
                     "ask %d failed with the server's error", e->aux);
        } else {
            FZ_CHECK(e->err_code == ACTO_ENOACTOR && !a->handled,
                     "ask %d failed with %s (handled %d mode %d)", e->aux,
                     acto_err_name(e->err_code), a->handled, a->mode);
        }
        break;
    default:
        break;
    }
}

static void
fz_check_then(fz *f, fz_fut *e)
{
    fz_job *j = &f->jobs[e->aux];
    if (e->state == ACTO_FUTURE_CANCELLED) {
        return;
    }
    FZ_CHECK(j->fn_calls == 1, "then %d completed, its step ran %d times",
             e->idx, j->fn_calls);
    const fz_fut *src = &f->futs[j->next >= 0 ? j->next : j->fut];
    if (e->state == ACTO_FUTURE_DONE || src->state != ACTO_FUTURE_CANCELLED) {
        fz_check_mirror(f, e, src, "then");
    }
}

static void
fz_tracker(acto_future *fut, void *user)
{
    fz_fut *e = user;
    fz *f = fz_cur;
    FZ_CHECK(!f->in_api, "tracker of %d (%s) ran inside a call", e->idx,
             kind_names[e->kind]);
    FZ_CHECK(fut == e->f, "tracker of %d got another future", e->idx);
    e->tracker_runs++;
    FZ_CHECK(e->tracker_runs == 1, "tracker of %d ran %d times", e->idx,
             e->tracker_runs);
    FZ_CHECK(acto_future_done(fut), "tracker of %d: not done", e->idx);
    e->done_seq = ++f->seq;
    acto_future_state st = acto_future_state_of(fut);
    if (e->kind == K_PLAIN && e->completed_by_me) {
        FZ_CHECK(st == e->state, "future %d: state %d, set %d", e->idx, (int)st,
                 (int)e->state);
    }
    e->state = st;
    if (st == ACTO_FUTURE_DONE) {
        void *v = NULL;
        FZ_RC(acto_future_result(fut, &v), 0);
        if (e->kind == K_PLAIN && e->completed_by_me) {
            FZ_CHECK(e->taken || v == e->vptr, "future %d: value", e->idx);
        }
        e->vptr = v;
    } else if (st == ACTO_FUTURE_FAILED && e->kind != K_PLAIN) {
        fz_record_error(e, acto_future_exception(fut));
        e->read = true;
    } else if (st == ACTO_FUTURE_FAILED) {
        FZ_CHECK(e->completed_by_me, "plain future %d failed by itself",
                 e->idx);
    }
    if (st == ACTO_FUTURE_CANCELLED && e->kind == K_PLAIN &&
        !e->cancelled_by_me) {
        e->completed_by_me = false;
    }
    switch (e->kind) {
    case K_GATHER:
        fz_check_gather(f, e);
        break;
    case K_WAIT:
        fz_check_wait(f, e);
        break;
    case K_ASC:
        fz_check_asc_out(f, e);
        break;
    case K_WAITFOR:
    case K_SHIELD:
        fz_check_mirror(f, e, fz_mem(f, e, 0),
                        e->kind == K_SHIELD ? "shield" : "wait_for");
        break;
    case K_GROUP:
        fz_check_group_done(f, e);
        break;
    case K_ASK:
        fz_check_ask(f, e);
        break;
    case K_THEN:
        fz_check_then(f, e);
        break;
    case K_EVWAIT:
        FZ_CHECK(st != ACTO_FUTURE_FAILED, "event wait %d failed", e->idx);
        break;
    case K_ACQ: {
        FZ_CHECK(st != ACTO_FUTURE_FAILED, "acquire %d failed", e->idx);
        fz_sem *s = &f->sems[e->aux];
        if (st == ACTO_FUTURE_DONE && !s->freed) {
            s->held++; /* the permit is the test's now */
            if (e->aux2 >= 0) {
                FZ_CHECK(e->aux2 > s->last_fifo,
                         "semaphore %d: acquire %d served after %d", e->aux,
                         e->aux2, s->last_fifo);
                s->last_fifo = e->aux2;
            }
        }
        break;
    }
    default:
        break;
    }
}

/* ---- order callbacks ---------------------------------------------------- */

static void fz_add_cb(fz *f, int i);
static void fz_cancel_any(fz *f);
static void fz_comb(fz *f, uint32_t which);

static void
fz_order_cb(acto_future *fut, void *user)
{
    fz *f = fz_cur;
    fz_cb *c = user;
    fz_fut *e = &f->futs[c->fut];
    FZ_CHECK(!f->in_api, "callback %d of %d ran inside a call",
             (int)(c - f->cbs), e->idx);
    FZ_CHECK(fut == e->f && acto_future_done(fut), "callback %d: future",
             (int)(c - f->cbs));
    c->ran++;
    FZ_CHECK(c->ran == 1 && !c->removed,
             "callback %d ran %d times (removed %d)", (int)(c - f->cbs), c->ran,
             c->removed);
    FZ_CHECK(e->tracker_runs == 1, "callback %d of %d before its tracker",
             (int)(c - f->cbs), e->idx);
    FZ_CHECK(c->seq > e->last_cb, "future %d: callback %d after %d", e->idx,
             c->seq, e->last_cb);
    e->last_cb = c->seq;
    if (fz_rand(f, 8) == 0) {
        fz_add_cb(f, e->idx); /* from inside a callback: runs later */
    }
}

static void
fz_add_cb(fz *f, int i)
{
    if (f->n_cbs >= FZ_CBS) {
        return;
    }
    fz_cb *c = &f->cbs[f->n_cbs];
    *c = (fz_cb){.fut = i, .seq = f->n_cbs + 1};
    FZ_API(f, FZ_RC(acto_future_add_done_cb(f->futs[i].f, fz_order_cb, c), 0));
    f->n_cbs++;
}

/* ---- the server and the continuation actor ------------------------------ */

static int
fz_server_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    fz *f = state;
    if (acto_msg_type(m) != T_REQ) {
        return 0;
    }
    fz_req rq;
    size_t len;
    const void *d = acto_msg_data(m, &len);
    FZ_CHECK(d != NULL && len == sizeof(rq), "a request without its data");
    memcpy(&rq, d, sizeof(rq));
    fz_ask *a = &f->asks[rq.ask];
    FZ_CHECK(!a->handled, "ask %d handled twice", rq.ask);
    a->handled = true;
    a->handled_at = acto_system_now(f->sys);
    fz_fut *e = &f->futs[a->fut];
    bool gone = e->refs == 0 || acto_future_done(e->f);
    FZ_CHECK(acto_request_cancelled(ctx) == gone,
             "ask %d: request_cancelled %d, future gone %d", rq.ask,
             acto_request_cancelled(ctx), gone);
    if (!gone) {
        uint64_t want = e->timeout > 0 ? e->born + e->timeout : UINT64_MAX;
        FZ_CHECK(acto_request_deadline(ctx) == want, "ask %d: deadline",
                 rq.ask);
    }
    switch (rq.mode) {
    case 0:
        if (gone) {
            f->late_replies++;
        }
        FZ_API(f, FZ_RC(acto_reply(ctx, T_REPLY, &rq.ask, sizeof(rq.ask)), 0));
        return 0;
    case 1:
        return 0;
    default:
        f->server_failures++;
        f->server_dead = true;
        return acto_fail(ctx, ACTO_EINVAL, "ServerError", "ask %d refused",
                         rq.ask);
    }
}

static const acto_behaviour fz_server_b = {fz_server_receive, NULL, NULL};

static void
fz_spawn_server(fz *f)
{
    if (f->server_gen > 0 && f->n_old_servers < 64) {
        f->old_servers[f->n_old_servers++] = f->server;
    }
    FZ_API(f, FZ_RC(acto_spawn(f->sys, &fz_server_b, f, NULL, &f->server), 0));
    f->server_gen++;
    f->server_dead = false;
}

/* fz_ask asks the server (or an old, dead one) from the outside or from
 * inside a handler. Returns the pool index or -1. */
static int
fz_ask_server(fz *f, uint64_t *r)
{
    if (f->n_asks >= FZ_ASKS) {
        return -1;
    }
    int k = f->n_asks;
    fz_req rq = {k, (int)(rng_next(r) % 10)};
    rq.mode = rq.mode < 6 ? 0 : rq.mode < 9 ? 1 : 2;
    acto_ref to = f->server;
    if (f->n_old_servers > 0 && rng_next(r) % 10 == 0) {
        to = f->old_servers[rng_next(r) % (uint32_t)f->n_old_servers];
    }
    uint64_t timeout = rng_next(r) % 5 == 0 ? 0 : 1 + rng_next(r) % 60;
    acto_msg *m;
    FZ_RC(acto_msg_new_bytes(f->sys, T_REQ, &rq, sizeof(rq), &m), 0);
    acto_future *fut = NULL;
    FZ_API(f, FZ_RC(acto_ask(f->sys, to, m, timeout, &fut), 0));
    f->n_asks++;
    f->asks[k] = (fz_ask){.mode = rq.mode, .server = f->server_gen};
    int i = fz_adopt(f, fut, K_ASK);
    f->futs[i].aux = k;
    f->futs[i].timeout = timeout;
    f->asks[k].fut = i;
    return i;
}

static acto_future *
fz_then_fn(acto_ctx *ctx, void *state, acto_future *prev, void *user)
{
    fz_job *j = user;
    fz *f = j->f;
    FZ_CHECK(!f->in_api, "then step of job %d inside a call", j->id);
    FZ_CHECK(state == &f->cont_state && acto_ref_eq(acto_self(ctx), f->cont),
             "then step of job %d outside its actor", j->id);
    FZ_CHECK(prev == f->futs[j->fut].f && acto_future_done(prev),
             "then step of job %d: prev", j->id);
    j->fn_calls++;
    FZ_CHECK(j->fn_calls == 1, "then step of job %d ran %d times", j->id,
             j->fn_calls);
    fz_fut *out = &f->futs[j->out];
    FZ_CHECK(out->refs > 0 && !acto_future_done(out->f),
             "then step of job %d ran for a finished chain", j->id);
    acto_future *next = NULL;
    if (j->op == 2) {
        FZ_API(f, FZ_RC(acto_future_new(f->sys, &next), 0));
        j->next = fz_adopt(f, next, K_PLAIN);
    } else if (j->op == 3) {
        uint64_t r = f->rng ^ (uint64_t)j->id * 0x9E3779B97F4A7C15ull;
        j->next = fz_ask_server(f, &r);
        next = j->next >= 0 ? f->futs[j->next].f : NULL;
    }
    if (next != NULL) {
        f->futs[j->next].shared = true;
        f->futs[j->next].next_of = j->id + 1;
        acto_future_retain(next); /* the chain's */
    }
    return next;
}

static int
fz_cont_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    fz *f = fz_cur;
    FZ_CHECK(state == &f->cont_state, "continuation state");
    uint32_t type = acto_msg_type(m);
    if (type >= T_NOTIFIED && type < T_NOTIFIED + FZ_JOBS) {
        fz_job *j = &f->jobs[type - T_NOTIFIED];
        acto_future *fut = acto_msg_future(m);
        FZ_CHECK(fut == f->futs[j->fut].f && acto_future_done(fut),
                 "notify of job %d carries the wrong future", j->id);
        FZ_CHECK(f->futs[j->fut].done_seq != 0,
                 "notify of job %d before the future's callbacks", j->id);
        j->notified++;
        FZ_CHECK(j->notified == 1, "job %d notified %d times", j->id,
                 j->notified);
        return 0;
    }
    FZ_CHECK(type == T_JOB, "continuation got type %u", type);
    fz_job *j = acto_msg_ptr(m);
    j->handled = true;
    acto_future *fut = f->futs[j->fut].f;
    if (j->op == 0) {
        FZ_API(f,
               FZ_RC(acto_future_notify(ctx, fut, T_NOTIFIED + (uint32_t)j->id),
                     0));
        return 0;
    }
    acto_future *out = NULL;
    FZ_API(f, FZ_RC(acto_future_then(ctx, fut, fz_then_fn, j, &out), 0));
    j->out = fz_adopt(f, out, K_THEN);
    f->futs[j->out].aux = j->id;
    fz_set_members(f, j->out, f->n_mems, 0);
    return 0;
}

static const acto_behaviour fz_cont_b = {fz_cont_receive, NULL, NULL};

static void
fz_job_free(void *ptr, void *user)
{
    fz *f = user;
    fz_job *j = ptr;
    j->msg_freed++;
    FZ_CHECK(j->msg_freed == 1, "job %d freed %d times", j->id, j->msg_freed);
    acto_future_release(f->futs[j->fut].f);
}

static void
fz_send_job(fz *f)
{
    int i = fz_pick(f, false, false);
    if (i < 0 || f->n_jobs >= FZ_JOBS || f->futs[i].taken) {
        return;
    }
    fz_job *j = &f->jobs[f->n_jobs];
    *j = (fz_job){.f = f,
                  .id = f->n_jobs,
                  .fut = i,
                  .op = (int)fz_rand(f, 4),
                  .out = -1,
                  .next = -1};
    f->n_jobs++;
    f->futs[i].shared = true;
    acto_future_retain(f->futs[i].f); /* the message's */
    acto_msg *m;
    FZ_RC(acto_msg_new_ptr(f->sys, T_JOB, j, fz_job_free, f, &m), 0);
    FZ_API(f, FZ_RC(acto_system_send(f->sys, f->cont, m), 0));
}

/* ---- the exception handler --------------------------------------------- */

static void
fz_exception(acto_system *sys, const acto_error *err, void *user)
{
    (void)sys;
    fz *f = user;
    const char *nr = "exception was never retrieved";
    if (strncmp(err->text, nr, strlen(nr)) == 0) {
        const char *p = strstr(err->text, "fz#");
        FZ_CHECK(p != NULL, "never retrieved: %s", err->text);
        int i = atoi(p + 3);
        FZ_CHECK(i >= 0 && i < f->n_futs, "never retrieved: %s", err->text);
        fz_fut *e = &f->futs[i];
        e->unretrieved_reports++;
        f->unretrieved_reports++;
        FZ_CHECK(e->expect_unretrieved && e->unretrieved_reports == 1,
                 "future %d reported never retrieved %d times (expected %d, "
                 "shared %d read %d)",
                 i, e->unretrieved_reports, e->expect_unretrieved, e->shared,
                 e->read);
        return;
    }
    FZ_CHECK(err->code == ACTO_EINVAL && strcmp(err->type, "ServerError") == 0,
             "unexpected exception %s: %s", acto_err_name(err->code),
             err->text);
    f->server_failure_reports++;
}

/* ---- steps --------------------------------------------------------------- */

static void
fz_new_plain(fz *f)
{
    acto_future *fut;
    FZ_API(f, FZ_RC(acto_future_new(f->sys, &fut), 0));
    fz_adopt(f, fut, K_PLAIN);
}

/* fz_complete completes plain future i as the dice say. */
static void
fz_complete(fz *f, int i, uint32_t how)
{
    fz_fut *e = &f->futs[i];
    bool was_done = acto_future_done(e->f);
    int want = was_done ? ACTO_EDONE : 0;
    if (how < 5 && f->n_vals < FZ_VALS) {
        fz_val *v = &f->vals[f->n_vals];
        *v = (fz_val){.owner = i};
        FZ_API(f, FZ_RC(acto_future_set_result(e->f, v, fz_val_free, f), want));
        if (want == 0) {
            f->n_vals++;
            e->completed_by_me = true;
            e->state = ACTO_FUTURE_DONE;
            e->val = (int)(v - f->vals);
            e->vptr = v;
        }
    } else if (how < 8) {
        static const int codes[] = {ACTO_EINVAL, ACTO_EFAILED, ACTO_ETIMEDOUT,
                                    ACTO_ENOMEM, 7};
        int code = codes[fz_rand(f, 5)];
        FZ_API(f,
               FZ_RC(acto_future_set_error(e->f, code, "FuzzError", "fz#%d", i),
                     want));
        if (want == 0) {
            e->completed_by_me = true;
            e->state = ACTO_FUTURE_FAILED;
            e->err_code = code < 0 ? code : ACTO_EFAILED;
            fz_copy(e->err_type, sizeof(e->err_type), "FuzzError");
            snprintf(e->err_text, sizeof(e->err_text), "fz#%d", i);
        }
    } else {
        FZ_API(f,
               FZ_RC(acto_future_cancel(e->f, how % 2 ? "by the test" : NULL),
                     want));
        if (want == 0) {
            e->completed_by_me = true;
            e->cancelled_by_me = true;
            e->state = ACTO_FUTURE_CANCELLED;
        }
    }
    if (was_done) {
        return;
    }
    FZ_CHECK(acto_future_state_of(e->f) == e->state,
             "future %d: state %d after completing it with %d", i,
             (int)acto_future_state_of(e->f), (int)e->state);
}

/* fz_release drops one of the test's references to i; the last only when
 * done, or (when allowed) for a pending plain future, orphaning it. */
static void
fz_release(fz *f, int i, bool force)
{
    fz_fut *e = &f->futs[i];
    if (e->refs > 1) {
        acto_future_release(e->f);
        e->refs--;
        return;
    }
    bool done = acto_future_done(e->f);
    if (!done && !(force || (f->allow_orphans && e->kind == K_PLAIN))) {
        return;
    }
    if (done && acto_future_state_of(e->f) == ACTO_FUTURE_FAILED) {
        if (e->kind != K_PLAIN || e->shared || fz_rand(f, 2) == 0) {
            (void)acto_future_exception(e->f);
            e->read = true;
        }
        e->expect_unretrieved = !e->read;
    }
    e->orphan = !done;
    e->refs = 0;
    e->released = true;
    fz_unlive(f, e);
    FZ_API(f, acto_future_release(e->f));
}

static void
fz_comb(fz *f, uint32_t which)
{
    acto_future *ms[FZ_MAXN];
    int off;
    int n = fz_members(f, ms, which == 2 || which == 3 ? 1 : FZ_MAXN, &off);
    acto_future *out = NULL;
    fz_kind kind;
    int aux = 0;
    uint64_t timeout = 0;
    switch (which) {
    case 0:
        kind = K_GATHER;
        aux = (int)fz_rand(f, 2);
        FZ_API(f, FZ_RC(acto_gather(f->sys, ms, (size_t)n, aux != 0, &out), 0));
        break;
    case 1:
        kind = K_WAIT;
        aux = (int)fz_rand(f, 3);
        timeout = fz_rand(f, 2) ? 0 : 1 + fz_rand(f, 40);
        FZ_API(f, FZ_RC(acto_wait(f->sys, ms, (size_t)n, (acto_wait_mode)aux,
                                  timeout, &out),
                        0));
        break;
    case 2:
        if (n == 0) {
            return;
        }
        kind = K_WAITFOR;
        timeout = fz_rand(f, 3) == 0 ? 0 : 1 + fz_rand(f, 40);
        FZ_API(f, FZ_RC(acto_wait_for(f->sys, ms[0], timeout, &out), 0));
        break;
    default:
        if (n == 0) {
            return;
        }
        kind = K_SHIELD;
        FZ_API(f, FZ_RC(acto_shield(f->sys, ms[0], &out), 0));
        break;
    }
    int i = fz_adopt(f, out, kind);
    fz_set_members(f, i, off, n);
    f->futs[i].aux = aux;
    f->futs[i].timeout = timeout;
}

static void
fz_asc_cb(acto_future *member, size_t index, int status, void *user)
{
    fz *f = fz_cur;
    fz_asc *a = user;
    fz_fut *e = &f->futs[a->out];
    /* A timeout fires inside acto_system_advance, and delivers there. */
    FZ_CHECK(!f->in_api || f->in_advance,
             "as_completed %d delivered inside a call", e->idx);
    FZ_CHECK(index < (size_t)e->n_mem && !a->delivered[index],
             "as_completed %d: index %zu again", e->idx, index);
    fz_fut *m = fz_mem(f, e, (int)index);
    FZ_CHECK(member == m->f, "as_completed %d: index %zu is not its member",
             e->idx, index);
    a->delivered[index] = true;
    a->n_delivered++;
    if (status == 0) {
        FZ_CHECK(a->last_status == 0, "as_completed %d: done after status %s",
                 e->idx, acto_err_name(a->last_status));
        FZ_CHECK(acto_future_done(member) && m->done_seq != 0,
                 "as_completed %d: member %d delivered before done", e->idx,
                 m->idx);
        if (f->mem_done[e->mem_off + (int)index]) {
            FZ_CHECK(!a->any_pending_delivered,
                     "as_completed %d: member %d done at the start came late",
                     e->idx, m->idx);
        } else {
            FZ_CHECK(m->done_seq >= a->last_seq,
                     "as_completed %d: member %d out of completion order",
                     e->idx, m->idx);
            a->last_seq = m->done_seq;
            a->any_pending_delivered = true;
        }
        return;
    }
    if (fz_rand(f, 4) == 0) {
        fz_cancel_any(f); /* from inside a delivery, maybe a timer's */
    } else if (fz_rand(f, 4) == 0) {
        fz_comb(f, 1 + fz_rand(f, 2)); /* a new timeout, from inside */
    }
    FZ_CHECK(a->last_status == 0 || a->last_status == status,
             "as_completed %d: status %s after %s", e->idx,
             acto_err_name(status), acto_err_name(a->last_status));
    FZ_CHECK((int)index > a->last_index || a->last_status == 0,
             "as_completed %d: rest out of argument order", e->idx);
    a->last_status = status;
    a->last_index = (int)index;
    if (status == ACTO_ETIMEDOUT) {
        FZ_CHECK(e->timeout > 0 &&
                     acto_system_now(f->sys) >= e->born + e->timeout,
                 "as_completed %d timed out early", e->idx);
    } else {
        FZ_RC(status, ACTO_ECANCELED);
        FZ_CHECK(acto_future_cancelled(e->f),
                 "as_completed %d: cancelled delivery, out not cancelled",
                 e->idx);
    }
}

static void
fz_as_completed(fz *f)
{
    if (f->n_ascs >= FZ_ASCS) {
        return;
    }
    acto_future *ms[FZ_MAXN];
    int off;
    int n = fz_members(f, ms, FZ_MAXN, &off);
    fz_asc *a = &f->ascs[f->n_ascs];
    *a = (fz_asc){.out = f->n_futs, .last_index = -1};
    uint64_t timeout = fz_rand(f, 2) ? 0 : 1 + fz_rand(f, 40);
    acto_future *out;
    FZ_API(f, FZ_RC(acto_as_completed(f->sys, ms, (size_t)n, timeout, fz_asc_cb,
                                      a, &out),
                    0));
    int i = fz_adopt(f, out, K_ASC);
    FZ_CHECK(i == a->out, "as_completed index");
    fz_set_members(f, i, off, n);
    f->futs[i].aux = f->n_ascs++;
    f->futs[i].timeout = timeout;
}

static void
fz_group_step(fz *f)
{
    int gi = -1;
    for (int k = f->n_groups - 1; k >= 0 && k >= f->n_groups - 3; k--) {
        if (!f->groups[k].freed && fz_rand(f, 2) == 0) {
            gi = k;
        }
    }
    if (gi < 0) {
        if (f->n_groups >= FZ_GROUPS) {
            return;
        }
        gi = f->n_groups++;
        fz_group *g = &f->groups[gi];
        *g = (fz_group){.done = -1};
        FZ_API(f, FZ_RC(acto_group_new(f->sys, &g->g), 0));
    }
    fz_group *g = &f->groups[gi];
    uint32_t op = fz_rand(f, 10);
    if (op < 6) {
        int i = fz_pick(f, false, false);
        if (i < 0 || f->futs[i].taken || g->n >= FZ_GMEMS) {
            return;
        }
        bool any_failed = false;
        for (int k = 0; k < g->n; k++) {
            any_failed |= acto_future_state_of(f->futs[g->members[k]].f) ==
                              ACTO_FUTURE_FAILED ||
                          f->futs[g->members[k]].state == ACTO_FUTURE_FAILED;
        }
        bool done_cancelled =
            g->done >= 0 && f->futs[g->done].state == ACTO_FUTURE_CANCELLED;
        bool was_done = acto_future_done(f->futs[i].f);
        int rc;
        FZ_API(f, rc = acto_group_add(g->g, f->futs[i].f));
        if (g->closed) {
            FZ_RC(rc, ACTO_ECLOSED);
        } else if (rc == ACTO_ECANCELED) {
            FZ_CHECK(g->cancel_called || any_failed || done_cancelled,
                     "group %d refused a member without aborting", gi);
        } else {
            FZ_RC(rc, 0);
            FZ_CHECK(!g->cancel_called,
                     "group %d took a member after its "
                     "cancel",
                     gi);
            f->futs[i].shared = true;
            g->done_at_add[g->n] = was_done;
            g->members[g->n++] = i;
        }
    } else if (op < 8) {
        if (g->closed) {
            acto_future *d = NULL;
            FZ_API(f, FZ_RC(acto_group_close(g->g, &d), ACTO_ECLOSED));
            return;
        }
        acto_future *d;
        FZ_API(f, FZ_RC(acto_group_close(g->g, &d), 0));
        g->closed = true;
        g->done = fz_adopt(f, d, K_GROUP);
        f->futs[g->done].aux = gi;
    } else if (op < 9) {
        int rc;
        FZ_API(f, rc = acto_group_cancel(g->g));
        if (rc == ACTO_EDONE) {
            FZ_CHECK(g->done >= 0 && acto_future_done(f->futs[g->done].f),
                     "group %d: cancel says finished, done pending", gi);
        } else {
            FZ_RC(rc, 0);
            FZ_CHECK(g->done < 0 || !acto_future_done(f->futs[g->done].f) ||
                         acto_future_cancelled(f->futs[g->done].f),
                     "group %d cancelled after done completed", gi);
            g->cancel_called = true;
        }
    } else {
        g->freed_open = !g->closed;
        g->freed = true;
        FZ_API(f, acto_group_free(g->g));
    }
}

static void
fz_event_step(fz *f)
{
    if (f->n_events == 0 || (fz_rand(f, 20) == 0 && f->n_events < FZ_EVENTS)) {
        fz_event *ev = &f->events[f->n_events++];
        *ev = (fz_event){0};
        FZ_API(f, FZ_RC(acto_event_new(f->sys, &ev->e), 0));
        return;
    }
    int ei = f->n_events - 1 - (int)fz_rand(f, f->n_events > 1 ? 2 : 1);
    fz_event *ev = &f->events[ei];
    if (ev->freed) {
        return;
    }
    FZ_CHECK(acto_event_is_set(ev->e) == ev->set, "event %d: is_set", ei);
    uint32_t op = fz_rand(f, 10);
    if (op < 5) {
        acto_future *w;
        FZ_API(f, FZ_RC(acto_event_wait(ev->e, &w), 0));
        FZ_CHECK(acto_future_state_of(w) ==
                     (ev->set ? ACTO_FUTURE_DONE : ACTO_FUTURE_PENDING),
                 "event %d: a wait on a %s event", ei,
                 ev->set ? "set" : "clear");
        int i = fz_adopt(f, w, K_EVWAIT);
        f->futs[i].aux = ei;
    } else if (op < 9) {
        bool set = op < 7;
        if (set) {
            FZ_API(f, acto_event_set(ev->e));
        } else {
            FZ_API(f, acto_event_clear(ev->e));
        }
        ev->set = set;
        for (int k = 0; k < f->n_live && set; k++) {
            fz_fut *e = &f->futs[f->live[k]];
            if (e->kind == K_EVWAIT && e->aux == ei) {
                FZ_CHECK(acto_future_done(e->f),
                         "event %d set, wait %d still pending", ei, e->idx);
            }
        }
    } else {
        FZ_API(f, acto_event_free(ev->e));
        ev->freed = true;
        for (int k = 0; k < f->n_live; k++) {
            fz_fut *e = &f->futs[f->live[k]];
            if (e->kind == K_EVWAIT && e->aux == ei) {
                FZ_CHECK(acto_future_done(e->f),
                         "event %d freed, wait %d still pending", ei, e->idx);
            }
        }
    }
}

static void
fz_sem_step(fz *f)
{
    if (f->n_sems == 0 || (fz_rand(f, 25) == 0 && f->n_sems < FZ_SEMS)) {
        fz_sem *s = &f->sems[f->n_sems++];
        *s = (fz_sem){.bounded = fz_rand(f, 2) == 0,
                      .total = fz_rand(f, 4),
                      .last_fifo = -1};
        FZ_API(f, FZ_RC(acto_semaphore_new(f->sys, s->total, s->bounded, &s->s),
                        0));
        return;
    }
    int si = f->n_sems - 1;
    fz_sem *s = &f->sems[si];
    uint32_t op = fz_rand(f, 20);
    if (op < 8) {
        bool locked = acto_semaphore_locked(s->s);
        acto_future *a;
        FZ_API(f, FZ_RC(acto_semaphore_acquire(s->s, &a), 0));
        FZ_CHECK(acto_future_done(a) == !locked,
                 "semaphore %d: acquire done %d, locked %d", si,
                 acto_future_done(a), locked);
        int i = fz_adopt(f, a, K_ACQ);
        f->futs[i].aux = si;
        f->futs[i].aux2 = locked ? s->n_acq++ : -1;
    } else if (op < 11) {
        bool locked = acto_semaphore_locked(s->s);
        unsigned before = acto_semaphore_value(s->s);
        int rc;
        FZ_API(f, rc = acto_semaphore_try_acquire(s->s));
        FZ_RC(rc, locked ? ACTO_EBUSY : 0);
        if (rc == 0) {
            s->held++;
            FZ_CHECK(acto_semaphore_value(s->s) == before - 1,
                     "semaphore %d: try_acquire took no permit", si);
        }
    } else if (op < 18) {
        if (s->held > 0) {
            FZ_API(f, FZ_RC(acto_semaphore_release(s->s), 0));
            s->held--;
        } else if (!s->bounded && fz_rand(f, 4) == 0) {
            FZ_API(f, FZ_RC(acto_semaphore_release(s->s), 0));
            s->total++;
        }
    } else if (op < 19) {
        FZ_API(f, acto_semaphore_free(s->s));
        s->freed = true;
        for (int k = 0; k < f->n_live; k++) {
            fz_fut *e = &f->futs[f->live[k]];
            if (e->kind == K_ACQ && e->aux == si) {
                FZ_CHECK(acto_future_done(e->f),
                         "semaphore %d freed, acquire %d pending", si, e->idx);
            }
        }
        fz_sem *n = &f->sems[f->n_sems < FZ_SEMS ? f->n_sems++ : si];
        if (n != s) {
            *n = (fz_sem){.bounded = fz_rand(f, 2) == 0,
                          .total = fz_rand(f, 4),
                          .last_fifo = -1};
            FZ_API(f, FZ_RC(acto_semaphore_new(f->sys, n->total, n->bounded,
                                               &n->s),
                            0));
        }
    }
}

/* fz_check_sems checks, once settled, that permits are conserved and that
 * no acquire waits while a permit is free. */
static void
fz_check_sems(fz *f)
{
    for (int si = 0; si < f->n_sems; si++) {
        fz_sem *s = &f->sems[si];
        if (s->freed) {
            continue;
        }
        unsigned v = acto_semaphore_value(s->s);
        FZ_CHECK(v + (unsigned)s->held == s->total,
                 "semaphore %d: value %u + held %d != %u", si, v, s->held,
                 s->total);
        bool waiting = false;
        for (int k = 0; k < f->n_live; k++) {
            fz_fut *e = &f->futs[f->live[k]];
            waiting |=
                e->kind == K_ACQ && e->aux == si && !acto_future_done(e->f);
        }
        FZ_CHECK(v == 0 || !waiting, "semaphore %d: %u free, yet a waiter", si,
                 v);
        FZ_CHECK(acto_semaphore_locked(s->s) == (v == 0 || waiting),
                 "semaphore %d: locked", si);
        if (s->bounded && v == s->total) {
            FZ_API(f, FZ_RC(acto_semaphore_release(s->s), ACTO_EINVAL));
        }
    }
}

/* fz_licence marks which futures something was entitled to cancel, and
 * checks that everything so entitled is done. */
static void
fz_licence(fz *f, bool check_done)
{
    for (int i = 0; i < f->n_futs; i++) {
        fz_fut *e = &f->futs[i];
        bool lic = false;
        acto_future_state st = e->state;
        switch (e->kind) {
        case K_GATHER:
            lic = e->done_seq != 0 && st != ACTO_FUTURE_DONE;
            break;
        case K_WAITFOR:
            lic = e->done_seq != 0 &&
                  (st == ACTO_FUTURE_CANCELLED ||
                   (st == ACTO_FUTURE_FAILED &&
                    strcmp(e->err_text, "wait_for timed out") == 0));
            break;
        case K_THEN:
            lic = e->done_seq != 0 && st == ACTO_FUTURE_CANCELLED;
            if (lic && f->jobs[e->aux].next >= 0) {
                f->futs[f->jobs[e->aux].next].licensed = true;
                if (check_done) {
                    FZ_CHECK(f->futs[f->jobs[e->aux].next].done_seq != 0,
                             "then %d cancelled, its step %d pending", i,
                             f->jobs[e->aux].next);
                }
            }
            lic = false;
            break;
        default:
            break;
        }
        for (int k = 0; k < e->n_mem && lic; k++) {
            fz_fut *m = fz_mem(f, e, k);
            m->licensed = true;
            if (check_done) {
                FZ_CHECK(m->done_seq != 0,
                         "%s %d ended (state %d), member %d still pending",
                         kind_names[e->kind], i, (int)st, m->idx);
            }
        }
    }
    for (int gi = 0; gi < f->n_groups; gi++) {
        fz_group *g = &f->groups[gi];
        bool lic = g->cancel_called || g->freed_open ||
                   (g->done >= 0 && f->futs[g->done].done_seq != 0 &&
                    f->futs[g->done].state == ACTO_FUTURE_CANCELLED);
        for (int k = 0; k < g->n && !lic; k++) {
            fz_fut *m = &f->futs[g->members[k]];
            lic = m->done_seq != 0 && m->state == ACTO_FUTURE_FAILED;
        }
        for (int k = 0; k < g->n && lic; k++) {
            fz_fut *m = &f->futs[g->members[k]];
            m->licensed = true;
            if (check_done) {
                FZ_CHECK(m->done_seq != 0,
                         "group %d aborted, member %d pending", gi, m->idx);
            }
        }
    }
    for (int i = 0; i < f->n_futs; i++) {
        fz_fut *e = &f->futs[i];
        if (e->kind == K_EVWAIT && f->events[e->aux].freed) {
            e->licensed = true;
        }
        if (e->kind == K_ACQ && f->sems[e->aux].freed) {
            e->licensed = true;
        }
        /* Mirrors pass a cancel on; a cancelled group cancels done. */
        if ((e->kind == K_WAITFOR || e->kind == K_SHIELD) &&
            fz_mem(f, e, 0)->state == ACTO_FUTURE_CANCELLED) {
            e->licensed = true;
        }
        if (e->kind == K_THEN) {
            const fz_job *j = &f->jobs[e->aux];
            if (f->futs[j->next >= 0 ? j->next : j->fut].state ==
                ACTO_FUTURE_CANCELLED) {
                e->licensed = true;
            }
        }
        if (e->kind == K_GROUP &&
            (f->groups[e->aux].cancel_called || f->groups[e->aux].freed_open)) {
            e->licensed = true;
        }
        if (e->done_seq != 0 && e->state == ACTO_FUTURE_CANCELLED &&
            !e->cancelled_by_me && !f->closing) {
            FZ_CHECK(e->licensed, "%s %d cancelled, and nothing may have",
                     kind_names[e->kind], i);
        }
    }
}

static void
fz_settle(fz *f)
{
    acto_test_settle(f->env);
    acto_test_assert_stats_balance(f->sys);
    acto_stats st;
    acto_system_stats(f->sys, &st);
    FZ_CHECK(st.late_replies == f->late_replies, "%llu late replies, want %llu",
             (unsigned long long)st.late_replies,
             (unsigned long long)f->late_replies);
    FZ_CHECK(f->server_failure_reports == f->server_failures,
             "%d server failures reported, %d happened",
             f->server_failure_reports, f->server_failures);
    for (int k = 0; k < f->n_live; k++) {
        fz_fut *e = &f->futs[f->live[k]];
        FZ_CHECK(acto_future_done(e->f) == (e->tracker_runs == 1),
                 "%s %d: done %d, tracker ran %d times", kind_names[e->kind],
                 e->idx, acto_future_done(e->f), e->tracker_runs);
    }
    fz_check_sems(f);
    fz_licence(f, true);
}

static void
fz_cancel_any(fz *f)
{
    int i = fz_pick(f, false, false);
    if (i < 0) {
        return;
    }
    fz_fut *e = &f->futs[i];
    bool was_done = acto_future_done(e->f);
    int rc;
    FZ_API(f, rc = acto_future_cancel(e->f, fz_rand(f, 2) ? "fuzz" : NULL));
    FZ_RC(rc, was_done ? ACTO_EDONE : 0);
    if (rc == 0) {
        e->cancelled_by_me = true;
        if (e->kind == K_PLAIN) {
            e->completed_by_me = true;
            e->state = ACTO_FUTURE_CANCELLED;
        }
    }
}

static void
fz_read(fz *f)
{
    int i = fz_pick(f, false, false);
    if (i < 0) {
        return;
    }
    fz_fut *e = &f->futs[i];
    void *v = NULL;
    int rc = acto_future_result(e->f, &v);
    switch (acto_future_state_of(e->f)) {
    case ACTO_FUTURE_PENDING:
        FZ_RC(rc, ACTO_EPENDING);
        FZ_CHECK(acto_future_exception(e->f) == NULL, "pending error");
        break;
    case ACTO_FUTURE_DONE:
        FZ_RC(rc, 0);
        if (e->kind == K_PLAIN) {
            FZ_CHECK(v == (e->taken ? NULL : e->vptr), "future %d: value", i);
        }
        if (e->kind == K_PLAIN && !e->shared && !e->taken &&
            fz_rand(f, 3) == 0) {
            void *t = acto_future_take_result(e->f);
            FZ_CHECK(t == e->vptr, "future %d: taken value", i);
            e->taken = true;
            f->vals[e->val].freed++; /* ours now: freed by the test */
        }
        break;
    case ACTO_FUTURE_FAILED: {
        FZ_CHECK(rc < 0, "failed future %d: result %d", i, rc);
        const acto_error *err = acto_future_exception(e->f);
        e->read = true;
        FZ_CHECK(err != NULL && err->code == rc, "future %d: error", i);
        if (e->kind == K_PLAIN) {
            FZ_CHECK(fz_same_error(e, err), "future %d: error text", i);
        }
        break;
    }
    default:
        FZ_RC(rc, ACTO_ECANCELED);
        if (e->kind == K_PLAIN && e->cancelled_by_me) {
            const char *msg = acto_future_cancel_message(e->f);
            FZ_CHECK(msg == NULL || strcmp(msg, "by the test") == 0 ||
                         strcmp(msg, "fuzz") == 0,
                     "future %d: cancel message %s", i, msg);
        }
        break;
    }
}

static void
fz_step(fz *f)
{
    uint32_t op = fz_rand(f, 100);
    if (op < 9 || f->n_live < 4) {
        fz_new_plain(f);
    } else if (op < 22) {
        int i = fz_pick(f, true, true);
        if (i >= 0) {
            fz_complete(f, i, fz_rand(f, 10));
        }
    } else if (op < 28) {
        int i = fz_pick(f, false, false);
        if (i >= 0) {
            fz_add_cb(f, i);
        }
    } else if (op < 30) {
        if (f->n_cbs > 0) {
            fz_cb *c = &f->cbs[f->n_cbs - 1 -
                               (int)fz_rand(
                                   f, f->n_cbs < 16 ? (uint32_t)f->n_cbs : 16)];
            fz_fut *e = &f->futs[c->fut];
            if (e->refs > 0 && !c->removed) {
                int n;
                FZ_API(f, n = acto_future_remove_done_cb(e->f, fz_order_cb, c));
                FZ_CHECK(n == (c->ran ? 0 : 1),
                         "removed %d of callback %d (ran %d)", n,
                         (int)(c - f->cbs), c->ran);
                c->removed = n == 1;
            }
        }
    } else if (op < 32) {
        int i = fz_pick(f, false, false);
        if (i >= 0) {
            acto_future_retain(f->futs[i].f);
            f->futs[i].refs++;
        }
    } else if (op < 38) {
        int i = fz_pick(f, false, false);
        if (i >= 0) {
            fz_release(f, i, false);
        }
    } else if (op < 43) {
        fz_comb(f, 0);
    } else if (op < 48) {
        fz_comb(f, 1);
    } else if (op < 51) {
        fz_as_completed(f);
    } else if (op < 54) {
        fz_comb(f, 2);
    } else if (op < 56) {
        fz_comb(f, 3);
    } else if (op < 60) {
        fz_group_step(f);
    } else if (op < 66) {
        fz_cancel_any(f);
    } else if (op < 70) {
        fz_event_step(f);
    } else if (op < 76) {
        fz_sem_step(f);
    } else if (op < 80) {
        if (f->server_dead) {
            fz_spawn_server(f);
        }
        fz_ask_server(f, &f->rng);
    } else if (op < 83) {
        fz_send_job(f);
    } else if (op < 89) {
        f->in_advance = true;
        FZ_API(f, FZ_RC(acto_system_advance(f->sys, fz_rand(f, 30)), 0));
        f->in_advance = false;
    } else if (op < 94) {
        acto_test_run_once(&f->env->loop);
    } else if (op < 97) {
        fz_settle(f);
    } else {
        fz_read(f);
    }
}

/* fz_finish completes what the test can: every pending plain future, every
 * group closed or freed, events and semaphores freed, every permit given
 * back, time past every timeout; then checks the model. */
static void
fz_finish(fz *f)
{
    f->step = FZ_STEPS;
    fz_settle(f);
    for (int round = 0; round < 4; round++) {
        for (int k = 0; k < f->n_live; k++) {
            fz_fut *e = &f->futs[f->live[k]];
            if (e->kind == K_PLAIN && !acto_future_done(e->f)) {
                fz_complete(f, e->idx, fz_rand(f, 10));
            }
        }
        f->in_advance = true;
        FZ_API(f, FZ_RC(acto_system_advance(f->sys, 1000), 0));
        f->in_advance = false;
        fz_settle(f);
    }
    for (int gi = 0; gi < f->n_groups; gi++) {
        fz_group *g = &f->groups[gi];
        if (!g->freed && !g->closed) {
            acto_future *d;
            FZ_API(f, FZ_RC(acto_group_close(g->g, &d), 0));
            g->closed = true;
            g->done = fz_adopt(f, d, K_GROUP);
            f->futs[g->done].aux = gi;
        }
    }
    fz_settle(f);
    for (int k = 0; k < f->n_live; k++) {
        fz_fut *e = &f->futs[f->live[k]];
        if (e->kind == K_ACQ && !acto_future_done(e->f)) {
            FZ_API(f, FZ_RC(acto_future_cancel(e->f, NULL), 0));
            e->cancelled_by_me = true;
        }
    }
    fz_settle(f);
    for (int si = 0; si < f->n_sems; si++) {
        fz_sem *s = &f->sems[si];
        for (; !s->freed && s->held > 0; s->held--) {
            FZ_API(f, FZ_RC(acto_semaphore_release(s->s), 0));
        }
    }
    fz_settle(f);
    for (int si = 0; si < f->n_sems; si++) {
        fz_sem *s = &f->sems[si];
        if (!s->freed) {
            FZ_CHECK(acto_semaphore_value(s->s) == s->total,
                     "semaphore %d: %u of %u permits back", si,
                     acto_semaphore_value(s->s), s->total);
            FZ_API(f, acto_semaphore_free(s->s));
            s->freed = true;
        }
    }
    for (int ei = 0; ei < f->n_events; ei++) {
        if (!f->events[ei].freed) {
            FZ_API(f, acto_event_free(f->events[ei].e));
            f->events[ei].freed = true;
        }
    }
    for (int k = 0; k < f->n_live; k++) {
        fz_fut *e = &f->futs[f->live[k]];
        if (e->kind == K_ASK && !acto_future_done(e->f)) {
            FZ_API(f, FZ_RC(acto_future_cancel(e->f, NULL), 0));
            e->cancelled_by_me = true;
        }
    }
    fz_settle(f);
    for (int round = 0; round < 4; round++) {
        for (int k = 0; k < f->n_live; k++) {
            fz_fut *e = &f->futs[f->live[k]];
            if (e->kind == K_PLAIN && !acto_future_done(e->f)) {
                fz_complete(f, e->idx, fz_rand(f, 10));
            }
        }
        f->in_advance = true;
        FZ_API(f, FZ_RC(acto_system_advance(f->sys, 1000), 0));
        f->in_advance = false;
        fz_settle(f);
    }
    for (int gi = 0; gi < f->n_groups; gi++) {
        fz_group *g = &f->groups[gi];
        if (!g->freed) {
            g->freed = true;
            FZ_API(f, acto_group_free(g->g));
        }
    }
    fz_settle(f);
    /* Without orphans every future is done now; with them, only those
     * waiting on an orphan may be pending. */
    int pending = 0;
    for (int k = 0; k < f->n_live; k++) {
        fz_fut *e = &f->futs[f->live[k]];
        pending += !acto_future_done(e->f);
    }
    FZ_CHECK(f->allow_orphans || pending == 0, "%d futures still pending",
             pending);
    for (int j = 0; j < f->n_jobs; j++) {
        fz_job *jb = &f->jobs[j];
        FZ_CHECK(jb->handled, "job %d not handled", j);
        if (jb->op == 0 && f->futs[jb->fut].done_seq != 0) {
            FZ_CHECK(jb->notified == 1, "job %d: notified %d times", j,
                     jb->notified);
        }
    }
    /* Release all but a few (kept across the close, as are the pending). */
    for (int k = f->n_live - 1; k >= 0; k--) {
        int i = f->live[k];
        fz_fut *e = &f->futs[i];
        if (!acto_future_done(e->f) ||
            (f->allow_orphans && fz_rand(f, 8) == 0)) {
            continue;
        }
        while (e->refs > 0) {
            fz_release(f, i, false);
        }
    }
    fz_settle(f);
    if (!f->allow_orphans) {
        acto_stats st;
        acto_system_stats(f->sys, &st);
        FZ_CHECK(st.futures == 0, "%llu futures alive, none held",
                 (unsigned long long)st.futures);
    }
}

static void
fz_report(fz *f)
{
    int per_kind[K_KINDS] = {0}, states[4] = {0};
    for (int i = 0; i < f->n_futs; i++) {
        per_kind[f->futs[i].kind]++;
        states[f->futs[i].state]++;
    }
    int ran = 0, removed = 0;
    for (int i = 0; i < f->n_cbs; i++) {
        ran += f->cbs[i].ran;
        removed += f->cbs[i].removed;
    }
    fprintf(stderr, "seed %u: %d futures (", f->seed, f->n_futs);
    for (int k = 0; k < K_KINDS; k++) {
        fprintf(stderr, "%s %d%s", kind_names[k], per_kind[k],
                k + 1 < K_KINDS ? ", " : "");
    }
    fprintf(stderr,
            "); done %d failed %d cancelled %d pending %d; %d callbacks (%d "
            "ran, %d removed); %d values; %d asks, %d server failures, %llu "
            "late; %d jobs; %d groups; %d events; %d semaphores; %d never "
            "retrieved\n",
            states[1], states[2], states[3], states[0], f->n_cbs, ran, removed,
            f->n_vals, f->n_asks, f->server_failures,
            (unsigned long long)f->late_replies, f->n_jobs, f->n_groups,
            f->n_events, f->n_sems, f->unretrieved_reports);
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
    f->allow_orphans = seed % 2 == 1;
    acto_system_opts o = {.virtual_time = true, .slice_us = UINT32_MAX};
    f->sys = acto_test_system(env, &o);
    acto_system_set_exception_handler(f->sys, fz_exception, f);
    fz_spawn_server(f);
    FZ_API(f,
           FZ_RC(acto_spawn(f->sys, &fz_cont_b, &f->cont_state, NULL, &f->cont),
                 0));
    for (f->step = 0; f->step < FZ_STEPS; f->step++) {
        fz_step(f);
    }
    fz_finish(f);

    f->closing = true;
    acto_test_close_system(env, f->sys);
    f->closed = true;
    /* Futures outlive the system: whatever is held is done now. */
    for (int k = f->n_live - 1; k >= 0; k--) {
        int i = f->live[k];
        fz_fut *e = &f->futs[i];
        FZ_CHECK(acto_future_done(e->f), "%s %d pending after the close",
                 kind_names[e->kind], i);
        while (e->refs > 0) {
            fz_release(f, i, true);
        }
    }
    if (getenv("FZ_VERBOSE") != NULL) {
        fz_report(f);
    }
    for (int i = 0; i < f->n_futs; i++) {
        fz_fut *e = &f->futs[i];
        FZ_CHECK(e->tracker_runs == 1, "%s %d: tracker ran %d times",
                 kind_names[e->kind], i, e->tracker_runs);
        FZ_CHECK(e->unretrieved_reports == (e->expect_unretrieved ? 1 : 0),
                 "future %d: %d never-retrieved reports, expected %d", i,
                 e->unretrieved_reports, e->expect_unretrieved);
    }
    for (int i = 0; i < f->n_cbs; i++) {
        fz_cb *c = &f->cbs[i];
        FZ_CHECK(c->ran == (c->removed ? 0 : 1), "callback %d ran %d times", i,
                 c->ran);
    }
    for (int i = 0; i < f->n_vals; i++) {
        FZ_CHECK(f->vals[i].freed == 1, "value %d freed %d times", i,
                 f->vals[i].freed);
    }
    for (int j = 0; j < f->n_jobs; j++) {
        FZ_CHECK(f->jobs[j].msg_freed == 1, "job %d freed %d times", j,
                 f->jobs[j].msg_freed);
    }
    FZ_CHECK(f->server_failure_reports == f->server_failures,
             "%d server failures reported, %d happened",
             f->server_failure_reports, f->server_failures);
    FZ_CHECK(acto_test_alloc_live() == 0, "%ld allocation(s) left",
             acto_test_alloc_live());
    fz_cur = NULL;
    free(f);
}

static void
test_future_fuzz_random_operations_keep_every_invariant(void **state)
{
    acto_test_env *env = *state;
    unsigned first = 1, last = FZ_SEEDS;
    const char *one = getenv("FZ_SEED");
    if (one != NULL) {
        first = last = (unsigned)atoi(one);
    }
    for (unsigned seed = first; seed <= last; seed++) {
        run_fuzz(env, seed);
    }
}

/* ---- minimal cases of what the walk found ----------------------------- */

typedef struct then_leak {
    acto_future *prev;
    acto_future *step; /* what the then step returns */
    acto_future *out;
} then_leak;

static acto_future *
then_leak_step(acto_ctx *ctx, void *state, acto_future *prev, void *user)
{
    (void)ctx;
    (void)prev;
    (void)user;
    then_leak *t = state;
    acto_future_retain(t->step); /* the chain's reference */
    return t->step;
}

static int
then_leak_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)m;
    then_leak *t = state;
    return acto_future_then(ctx, t->prev, then_leak_step, NULL, &t->out);
}

static const acto_behaviour then_leak_b = {then_leak_receive, NULL, NULL};

static void
count_value_free(void *ptr, void *user)
{
    (void)user;
    (*(int *)ptr)++;
}

/* A chain cancelled while its step is in flight, the step then completing
 * with a value before the cancel reaches it: the chain's copy of the
 * outcome is refused (the chain is cancelled already), and the reference
 * it took on the step for the value must go with it (it once leaked the
 * step, its value and the system's struct). */
static void
test_future_fuzz_cancelled_then_chain_frees_a_step_that_completes_first(
    void **state)
{
    acto_test_env *env = *state;
    acto_system_opts o = {.virtual_time = true};
    acto_system *sys = acto_test_system(env, &o);
    then_leak t = {0};
    assert_acto_ok(acto_future_new(sys, &t.prev));
    assert_acto_ok(acto_future_new(sys, &t.step));
    acto_ref ref;
    assert_acto_ok(acto_spawn(sys, &then_leak_b, &t, NULL, &ref));
    assert_acto_ok(acto_test_send_int(sys, ref, 1, 0));
    acto_test_settle(env);
    assert_non_null(t.out);
    assert_acto_ok(acto_future_set_result(t.prev, NULL, NULL, NULL));
    acto_test_settle(env); /* the step ran: t.step is in flight */
    assert_false(acto_future_done(t.out));

    int freed = 0;
    assert_acto_ok(acto_future_cancel(t.out, NULL));
    assert_acto_ok(
        acto_future_set_result(t.step, &freed, count_value_free, NULL));
    acto_test_settle(env);
    assert_true(acto_future_cancelled(t.out));
    acto_future_release(t.out);
    acto_future_release(t.step);
    acto_future_release(t.prev);
    acto_test_settle(env);
    acto_stats st;
    acto_system_stats(sys, &st);
    acto_test_close_system(env, sys);
    assert_int_equal(st.futures, 0);
    assert_int_equal(freed, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(test_future_fuzz_random_operations_keep_every_invariant),
        acto_unit_test(
            test_future_fuzz_cancelled_then_chain_frees_a_step_that_completes_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
