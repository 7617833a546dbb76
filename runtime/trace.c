/* Tracing: a preallocated ring of fixed-size events on the loop thread,
 * handed to a sink in batches off the hot path.
 *
 * Recording an event is a few stores into the ring; the clock is read
 * once per record (uv_hrtime), or taken from the system's virtual clock.
 * The ring is handed to the sink at the end of each scheduler round and
 * when it is half full; when it is full, DROP_NEW counts what it loses and
 * records a LOST event once there is room, FLIGHT overwrites the oldest,
 * BLOCK hands it over at once. Flows are sampled by a hash of their id, so
 * a flow is kept or skipped as a whole without any state per flow. */
#include "internal.h"

#include <fnmatch.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#define HAVE_TSC 1
#else
#define HAVE_TSC 0
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_RING 65536u
#define MAX_RING (1u << 24)
#define MAX_PATTERN 255
/* Between turns, a ring holding this many events is handed over: the
 * events a round records (a whole time slice's) would otherwise walk
 * through megabytes, out of the caches, before the round's end. */
#define TURNS_CHUNK 4096u

struct acto__trace {
    acto_trace_event *ring;
    uint32_t mask;
    uint64_t head;    /* events written */
    uint64_t flushed; /* events handed to the sink (or overwritten) */
    uint64_t half_at; /* head at half full: flushed + half the ring */
    uint64_t lost;    /* lost since the last LOST event */
    acto_trace_mode mode;
    acto_trace_sink sink;
    uint64_t sample_below; /* a flow is kept when its hash is below */
    uint64_t seed;
    bool dump_on_failure;
    char *only, *except;
    acto_trace_stats stats;
    /* The clock: raw cycle counts on the hot path, turned into
     * nanoseconds when the ring is handed over. */
    bool raw;
    uint64_t tsc0, ns0;
    uint64_t ns_per_tick; /* 32.32 fixed point */
    uint64_t last_ns;     /* converted stamps never go back */
    /* The stamp of the last HANDLED, for the HANDLE straight after it:
     * valid while the ring's head is still at reuse_at and the scheduler
     * has taken just one message since (reuse_handled). */
    uint64_t reuse_at, reuse_ts, reuse_handled;
    /* Stands for the message that made an actor stop while its stop
     * sends its notices (acto__trace_stopped). */
    acto_msg why;
};

static acto_trace_sink_factory env_factory;

void
acto_trace_set_env_factory(acto_trace_sink_factory factory)
{
    env_factory = factory;
}

/* ---- deciding what is traced ------------------------------------------ */

static uint64_t
mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static bool
flow_kept(const acto__trace *t, uint64_t flow)
{
    return t->sample_below == UINT64_MAX ||
           mix(flow ^ t->seed) < t->sample_below;
}

static bool
label_traced(const acto__trace *t, const char *label)
{
    const char *l = label != NULL ? label : "";
    if (t->only != NULL && fnmatch(t->only, l, 0) != 0) {
        return false;
    }
    return t->except == NULL || fnmatch(t->except, l, 0) != 0;
}

void
acto__trace_actor_born(acto_system *sys, acto_actor *a)
{
    acto__trace *t = sys->trace;
    const char *label = a->ext != NULL ? a->ext->label : NULL;
    if (label_traced(t, label)) {
        a->flags |= ACTOR_TRACED;
    } else {
        a->flags &= (uint8_t)~ACTOR_TRACED;
    }
    if ((a->flags & ACTOR_TRACED) && label != NULL && t->sink.name != NULL) {
        t->sink.name(a->self, label, t->sink.user);
    }
}

/* ---- the clock ------------------------------------------------------ */

/* Cycles to nanoseconds in 32.32 fixed point: a multiply per event at
 * the hand-over, where a double conversion costs several. */
static void
set_rate(acto__trace *t, uint64_t dtsc, uint64_t dns)
{
    double r = dtsc > 0 ? (double)dns / (double)dtsc : 1.0;
    t->ns_per_tick = r < 1e6 ? (uint64_t)(r * 4294967296.0) : UINT64_MAX;
}

__extension__ typedef unsigned __int128 u128;

static inline uint64_t
scale(uint64_t dtsc, uint64_t ns_per_tick)
{
    return (uint64_t)(((u128)dtsc * ns_per_tick) >> 32);
}

/* ---- the ring --------------------------------------------------------- */

static uint64_t
ticks(void)
{
#if HAVE_TSC
    return __rdtsc();
#else
    return uv_hrtime();
#endif
}

/* now_ns is the event clock: cycles while raw (a few ns to read, where
 * clock_gettime costs tens in a VM), else nanoseconds. */
static inline uint64_t
now_ns(const acto_system *sys, const acto__trace *t)
{
    if (likely(t->raw)) {
        return ticks();
    }
    return sys->virtual_time ? sys->vnow * 1000000u : uv_hrtime();
}

/* calibrate measures the cycle counter against the monotonic clock for
 * about 200 us, the first estimate; later hand-overs refine it. */
static void
calibrate(acto__trace *t)
{
    t->tsc0 = ticks();
    t->ns0 = uv_hrtime();
    uint64_t ns;
    while ((ns = uv_hrtime()) - t->ns0 < 200000) {
    }
    set_rate(t, ticks() - t->tsc0, ns - t->ns0);
}

/* to_ns turns the raw stamps of n events into nanoseconds. */
static void
to_ns(acto__trace *t, acto_trace_event *ev, size_t n)
{
    if (!t->raw) {
        return;
    }
    uint64_t tsc = ticks(), ns = uv_hrtime();
    if (ns - t->ns0 > 10000000) { /* 10 ms: a better estimate */
        set_rate(t, tsc - t->tsc0, ns - t->ns0);
    }
    uint64_t last = t->last_ns;
    for (size_t i = 0; i < n; i++) {
        uint64_t d = ev[i].ts > t->tsc0 ? ev[i].ts - t->tsc0 : 0;
        uint64_t at = t->ns0 + scale(d, t->ns_per_tick);
        /* A refined rate must not move time back across a hand-over. */
        last = at > last ? at : last;
        ev[i].ts = last;
    }
    t->last_ns = last;
}

static int flush(acto_system *sys, acto__trace *t);
static void note_lost(acto_system *sys, acto__trace *t);

/* set_flushed moves the hand-over mark, and with it the fill level at
 * which slot turns to slot_slow: half the ring past it. */
static void
set_flushed(acto__trace *t, uint64_t flushed)
{
    t->flushed = flushed;
    t->half_at = flushed + ((uint64_t)t->mask + 1) / 2;
}

/* fill takes the next slot of the ring. */
static inline acto_trace_event *
fill(acto__trace *t)
{
    t->stats.recorded++;
    return &t->ring[t->head++ & t->mask];
}

/* slot_slow is slot past the ring's first half: the hand-over is asked
 * for at half full, and a full ring drops, overwrites or blocks. */
static __attribute__((noinline)) acto_trace_event *
slot_slow(acto_system *sys)
{
    acto__trace *t = sys->trace;
    if (t->head - t->flushed > t->mask) { /* full */
        switch (t->mode) {
        case ACTO_TRACE_FLIGHT:
            set_flushed(t, t->flushed + 1); /* the oldest goes */
            break;
        case ACTO_TRACE_BLOCK:
            if (flush(sys, t) != 0 || sys->trace == NULL) {
                return NULL;
            }
            break;
        default:
            t->lost++;
            t->stats.lost++;
            return NULL;
        }
    }
    if (t->lost > 0 && t->head - t->flushed < t->mask) {
        note_lost(sys, t); /* before the event that found room */
    }
    if (t->mode != ACTO_TRACE_FLIGHT &&
        t->head - t->flushed == (uint64_t)(t->mask + 1) / 2) {
        acto__kick(sys); /* half full: the round's end hands it over */
    }
    return fill(t);
}

/* slot is the next event's place, or NULL (counted) when there is none.
 * Below half full, one test: nothing is lost then (what a full ring
 * lost is noted by the hand-over that empties it). */
static inline acto_trace_event *
slot(acto_system *sys, acto__trace *t)
{
    if (likely(t->head < t->half_at)) {
        return fill(t);
    }
    return slot_slow(sys);
}

/* put_at writes one event stamped ts (0: now), when there is room, and
 * returns it. Inlined into the recorders of the hot path (send, handle),
 * which then store fields as they read them rather than pass nine
 * arguments along. */
static inline __attribute__((always_inline)) acto_trace_event *
put_at(acto_system *sys, uint64_t ts, uint16_t kind, uint64_t flow,
       uint64_t msg, uint64_t cause, uint64_t actor, uint64_t peer,
       uint32_t type, uint32_t arg)
{
    acto_trace_event *e = slot(sys, sys->trace);
    if (likely(e != NULL)) {
        e->ts = ts != 0 ? ts : now_ns(sys, sys->trace);
        e->flow = flow;
        e->msg = msg;
        e->cause = cause;
        e->actor = actor;
        e->peer = peer;
        e->type = type;
        e->arg = arg;
        e->kind = kind;
        e->flags = 0;
        e->pad = 0;
    }
    return e;
}

/* put writes one event stamped now, when there is room. */
static inline __attribute__((always_inline)) void
put(acto_system *sys, uint16_t kind, uint64_t flow, uint64_t msg,
    uint64_t cause, uint64_t actor, uint64_t peer, uint32_t type, uint32_t arg)
{
    (void)put_at(sys, 0, kind, flow, msg, cause, actor, peer, type, arg);
}

void
acto__trace_record(acto_system *sys, uint16_t kind, uint64_t flow, uint64_t msg,
                   uint64_t cause, acto_ref actor, acto_ref peer, uint32_t type,
                   uint32_t arg)
{
    put(sys, kind, flow, msg, cause, actor.id, peer.id, type, arg);
}

/* A HANDLE straight after the scheduler's last HANDLED, with nothing
 * recorded, handled or handed over between, shares its stamp: reading
 * the clock costs more than the scheduling between them (11 ns a read
 * in a VM), which counts as this handling's. 0: read the clock. */
static uint64_t
handle_stamp(const acto_system *sys, const acto__trace *t)
{
    return t->head == t->reuse_at && sys->stats.handled == t->reuse_handled + 1
               ? t->reuse_ts
               : 0;
}

void
acto__trace_handle(acto_system *sys, const acto_actor *a, const acto_msg *m)
{
    /* m may be freed by a handler that takes it: HANDLED reads these. */
    uint64_t flow = acto__msg_flow(m);
    sys->trace_msg = m->id;
    sys->trace_flow = flow;
    sys->trace_type = m->type;
    put_at(sys, handle_stamp(sys, sys->trace), ACTO_TRACE_HANDLE, flow, m->id,
           m->cause, a->self.id, m->sender.id, m->type, 0);
}

void
acto__trace_handled(acto_system *sys, const acto_actor *a, int rc)
{
    acto__trace *t = sys->trace;
    acto_trace_event *e =
        put_at(sys, 0, ACTO_TRACE_HANDLED, sys->trace_flow, sys->trace_msg, 0,
               a->self.id, 0, sys->trace_type, (uint32_t)rc);
    if (e != NULL) {
        t->reuse_at = t->head;
        t->reuse_ts = e->ts;
        t->reuse_handled = sys->stats.handled;
    }
}

void
acto__trace_run_begins(acto_system *sys)
{
    sys->trace->reuse_at = UINT64_MAX; /* what ran before was no handling */
}

void
acto__trace_send_to(acto_system *sys, acto_actor *from, acto_actor *r,
                    acto_ref to, acto_msg *m, bool resent)
{
    const acto_msg *cur = sys->current_msg;
    if (cur != NULL && m->cause == 0 &&
        (cur == &sys->trace->why || sys->current == NULL)) {
        /* A stop's notice is caused by what stopped it; a send from a
         * future's callback, by what resolved the future. */
        m->cause = cur->id;
    }
    if (from == NULL &&
        (m->type == ACTO_MSG_DOWN || m->type == ACTO_MSG_CHILD_FAILED)) {
        from = acto__lookup(sys, m->sender); /* the stopping actor's notice */
    }
    if (!(m->flags & MSG_FLOWED)) {
        /* Sent while handling a message: its flow goes on, sampled in or
         * out as it was; else a flow starts here, and is sampled now. */
        if ((cur != NULL && acto__msg_out(sys, cur)) ||
            (resent && acto__msg_out(sys, m))) {
            /* A flow sampled out goes on so: no id to follow. A message
             * passed on without one was in such a flow (or sent before
             * tracing began), wherever it is passed on from. */
            m->flags |= MSG_FLOWED | MSG_UNSAMPLED;
        } else if (cur != NULL && (cur->flags & MSG_FLOWED) && cur->flow != 0) {
            acto__msg_follow(m, cur);
        } else {
            m->flow = m->id;
            m->flags |= MSG_FLOWED;
            if (!flow_kept(sys->trace, m->flow)) {
                m->flags |= MSG_UNSAMPLED;
            }
        }
    }
    if ((m->flags & MSG_ASK) && m->sender.id == sys->ask_ref.id) {
        acto__ask_traced(sys, m); /* a request: its deadline's flow */
    }
    if (!acto__msg_sampled(m)) {
        return;
    }
    m->flags |= MSG_SLOW; /* its handling is recorded too */
    bool traced = from != NULL ? (from->flags & ACTOR_TRACED) != 0
                               : r == NULL || (r->flags & ACTOR_TRACED);
    if (traced) {
        put(sys, ACTO_TRACE_SEND, m->flow, m->id, m->cause,
            from != NULL ? from->self.id : 0, to.id, m->type,
            r != NULL ? r->mb_count + 1 : 0);
    }
}

void
acto__trace_send(acto_system *sys, acto_actor *from, acto_ref to, acto_msg *m)
{
    acto__trace_send_to(sys, from, acto__lookup(sys, to), to, m, false);
}

void
acto__trace_type_named(acto_system *sys, uint32_t type, const char *name)
{
    const acto_trace_sink *sink = &sys->trace->sink;
    if (sink->type_name != NULL) {
        sink->type_name(type, name, sink->user);
    }
}

/* current_flow is the flow of the message being handled, when it is
 * recorded (0: none, or sampled out). */
static uint64_t
current_flow(const acto_system *sys)
{
    const acto_msg *cur = sys->current_msg;
    return cur != NULL && acto__msg_sampled(cur) ? acto__msg_flow(cur) : 0;
}

void
acto_trace_emit(acto_system *sys, acto_trace_kind kind, acto_ref actor,
                acto_ref peer, uint64_t msg, uint64_t cause, uint32_t arg)
{
    if (sys != NULL && sys->trace != NULL) {
        acto__trace_record(sys, (uint16_t)kind, current_flow(sys), msg, cause,
                           actor, peer, 0, arg);
    }
}

void
acto__trace_spawned(acto_system *sys, acto_actor *a)
{
    uint64_t flow = current_flow(sys);
    acto__trace_record(sys, ACTO_TRACE_SPAWN, flow, 0,
                       flow != 0 ? sys->current_msg->id : 0, a->self, a->parent,
                       0, 0);
}

void
acto__trace_stop_cause(acto_actor *a, uint64_t flow, uint64_t id)
{
    if (flow == 0) { /* the message being handled, if recorded */
        flow = current_flow(a->sys);
        id = flow != 0 ? a->sys->current_msg->id : 0;
    }
    acto__actor_ext *x;
    if (flow != 0 && (a->flags & ACTOR_TRACED) && (x = acto__ext(a)) != NULL) {
        x->stop_flow = flow;
        x->stop_cause = id;
    }
}

const acto_msg *
acto__trace_stopped(acto_system *sys, acto_actor *a)
{
    const acto_msg *cur = sys->current_msg;
    const acto__actor_ext *x = a->ext;
    uint64_t flow = x != NULL ? x->stop_flow : 0;
    uint64_t cause = flow != 0 ? x->stop_cause : 0;
    if (a->flags & ACTOR_TRACED) {
        acto__trace_record(sys, ACTO_TRACE_STOP, flow, 0, cause, a->self,
                           a->parent, 0, a->exit_kind);
    }
    if (flow != 0) {
        acto_msg *why = &sys->trace->why;
        why->id = cause;
        why->flow = flow;
        why->flags = MSG_FLOWED;
        sys->current_msg = why;
    }
    return cur;
}

/* A flow context: the flow something happens in and its cause. */
typedef struct flow_ctx {
    uint64_t flow, cause;
    bool flowed, sampled;
} flow_ctx;

/* follow puts a continuation m in the flow c, caused by its cause. */
static void
follow(acto_msg *m, flow_ctx c)
{
    m->cause = c.cause;
    m->flow = c.flow;
    m->flags |= MSG_FLOWED | (c.sampled ? 0 : MSG_UNSAMPLED);
}

/* settle_ctx is what resolved f: the message being handled (a reply
 * stands for one), else what f carries from where it began (an ask's
 * request, when its deadline fails it). */
static flow_ctx
settle_ctx(const acto_system *sys, const acto_future *f)
{
    const acto_msg *cur = sys->current_msg;
    /* A message can be flagged with a flow of 0 (none): not one to go on
     * in. A flow sampled out has no id to read. */
    if (cur != NULL && acto__msg_out(sys, cur)) {
        return (flow_ctx){0, cur->id, true, false};
    }
    if (cur != NULL && (cur->flags & MSG_FLOWED) && cur->flow != 0) {
        return (flow_ctx){cur->flow, cur->id, true, true};
    }
    if (f->flags & FUT_FLOWED) {
        return (flow_ctx){f->trace_flow, f->trace_cause, true,
                          !(f->flags & FUT_UNSAMPLED)};
    }
    return (flow_ctx){0, 0, false, true};
}

/* keep_ctx makes f carry c, for its callbacks to run in. */
static void
keep_ctx(acto_future *f, flow_ctx c)
{
    f->trace_flow = c.flow;
    f->trace_cause = c.cause;
    f->flags &= (uint8_t)~FUT_UNSAMPLED;
    f->flags |= FUT_FLOWED | (c.sampled ? 0 : FUT_UNSAMPLED);
}

void
acto__trace_settle(acto_future *f)
{
    acto_system *sys = f->sys;
    flow_ctx c = settle_ctx(sys, f);
    if (c.sampled) {
        acto__trace_record(sys, ACTO_TRACE_FUTURE, c.flowed ? c.flow : 0,
                           (uint64_t)(uintptr_t)f, c.flowed ? c.cause : 0,
                           sys->current != NULL ? sys->current->self
                                                : ACTO_REF_NONE,
                           ACTO_REF_NONE, 0, f->state);
    }
    if (!c.flowed) {
        return;
    }
    keep_ctx(f, c);
    /* What it delivers goes on in the flow (sampled out if it is): the
     * notify message, then-steps and notices sent by callback. */
    if (f->notify != NULL) {
        follow(f->notify, c);
    }
    for (acto__cb *cb = f->cbs; cb != NULL; cb = cb->next) {
        if (cb->cb == acto__deliver_on_done) {
            follow(cb->user, c);
        }
    }
}

void
acto__trace_ask_request(acto_future *f, const acto_msg *req)
{
    keep_ctx(f, (flow_ctx){req->flow, req->id, true, acto__msg_sampled(req)});
}

const acto_msg *
acto__trace_callbacks(acto_system *sys, const acto_future *f, acto_msg *stand)
{
    const acto_msg *cur = sys->current_msg;
    if (f->flags & FUT_FLOWED) {
        stand->id = f->trace_cause;
        stand->flow = f->trace_flow;
        stand->flags =
            MSG_FLOWED | ((f->flags & FUT_UNSAMPLED) ? MSG_UNSAMPLED : 0);
        sys->current_msg = stand;
    }
    return cur;
}

/* note_lost records, when there is room, how many events were lost. */
static void
note_lost(acto_system *sys, acto__trace *t)
{
    if (t->lost == 0 || t->head - t->flushed > t->mask) {
        return;
    }
    acto_trace_event *e = &t->ring[t->head++ & t->mask];
    *e = (acto_trace_event){.ts = now_ns(sys, t),
                            .kind = ACTO_TRACE_LOST,
                            .arg = t->lost > UINT32_MAX ? UINT32_MAX
                                                        : (uint32_t)t->lost};
    t->lost = 0;
}

static int hand_over(acto_system *sys, acto__trace *t);

/* flush hands the ring to the sink, then the count of what was lost
 * meanwhile, if any. */
static int
flush(acto_system *sys, acto__trace *t)
{
    int rc = hand_over(sys, t);
    if (rc == 0 && sys->trace == t && t->lost > 0) {
        note_lost(sys, t);
        rc = hand_over(sys, t);
    }
    return rc;
}

/* hand_over hands the unflushed part of the ring to the sink, in at most
 * two pieces (the ring wraps). */
static int
hand_over(acto_system *sys, acto__trace *t)
{
    while (t->flushed < t->head) {
        uint64_t from = t->flushed & t->mask;
        uint64_t n = t->head - t->flushed;
        if (from + n > (uint64_t)t->mask + 1) {
            n = (uint64_t)t->mask + 1 - from;
        }
        to_ns(t, &t->ring[from], (size_t)n);
        int rc = t->sink.write(&t->ring[from], (size_t)n, t->sink.user);
        if (rc != 0) {
            acto_error e = {rc, "TraceSinkFailed",
                            "the trace sink failed; tracing stopped",
                            ACTO_REF_NONE, NULL};
            acto__report_exception(sys, &e);
            set_flushed(t, t->head);
            (void)acto_trace_stop(sys);
            return rc;
        }
        set_flushed(t, t->flushed + n);
    }
    t->reuse_at = UINT64_MAX; /* the sink's time is no handling's */
    if (t->head == t->flushed) {
        /* Empty: the next events go to the ring's start again, whose
         * lines are still in cache, rather than further on around it. */
        t->head = 0;
        set_flushed(t, 0);
    }
    return 0;
}

void
acto__trace_between_turns(acto_system *sys)
{
    acto__trace *t = sys->trace;
    if (t->mode != ACTO_TRACE_FLIGHT && t->head - t->flushed >= TURNS_CHUNK) {
        (void)flush(sys, t);
    }
}

void
acto__trace_round_end(acto_system *sys)
{
    acto__trace *t = sys->trace;
    if (t->mode != ACTO_TRACE_FLIGHT && t->flushed < t->head) {
        (void)flush(sys, t);
    }
}

/* ---- the switch ------------------------------------------------------- */

static char *
dup_pattern(const char *p)
{
    if (p == NULL) {
        return NULL;
    }
    size_t n = strlen(p) + 1;
    char *d = acto__malloc(n);
    if (d != NULL) {
        memcpy(d, p, n);
    }
    return d;
}

static void
free_pattern(char *p)
{
    if (p != NULL) {
        acto__free(p, strlen(p) + 1);
    }
}

static void
free_trace(acto__trace *t)
{
    acto__free(t->ring, ((size_t)t->mask + 1) * sizeof(*t->ring));
    free_pattern(t->only);
    free_pattern(t->except);
    acto__free(t, sizeof(*t));
}

static bool
valid(const acto_trace_sink *sink, const acto_trace_opts *o)
{
    return sink != NULL && sink->write != NULL &&
           (unsigned)o->mode <= ACTO_TRACE_BLOCK && o->sample >= 0.0 &&
           o->sample <= 1.0 && o->ring_events <= MAX_RING &&
           (o->only == NULL || strlen(o->only) <= MAX_PATTERN) &&
           (o->except == NULL || strlen(o->except) <= MAX_PATTERN);
}

static acto__trace *
new_trace(const acto_trace_sink *sink, const acto_trace_opts *o)
{
    acto__trace *t = acto__calloc(1, sizeof(*t));
    if (t == NULL) {
        return NULL;
    }
    uint32_t cap = 64;
    uint32_t want = o->ring_events != 0 ? o->ring_events : DEFAULT_RING;
    while (cap < want) {
        cap *= 2;
    }
    t->ring = acto__malloc((size_t)cap * sizeof(*t->ring));
    t->only = dup_pattern(o->only);
    t->except = dup_pattern(o->except);
    if (t->ring == NULL || (o->only != NULL && t->only == NULL) ||
        (o->except != NULL && t->except == NULL)) {
        t->mask = cap - 1;
        free_trace(t);
        return NULL;
    }
    t->mask = cap - 1;
    set_flushed(t, 0);
    t->reuse_at = UINT64_MAX;
    t->mode = o->mode;
    t->sink = *sink;
    t->seed = o->seed;
    t->dump_on_failure = o->dump_on_failure;

    t->sample_below = o->sample == 0.0 || o->sample >= 1.0
                          ? UINT64_MAX
                          : (uint64_t)(o->sample * 18446744073709551615.0);
    return t;
}

int
acto_trace_start(acto_system *sys, const acto_trace_sink *sink,
                 const acto_trace_opts *opts)
{
    static const acto_trace_opts defaults = {0};
    const acto_trace_opts *o = opts != NULL ? opts : &defaults;
    if (sys == NULL || !valid(sink, o) || !ACTO_TRACING) {
        return ACTO_EINVAL; /* also when compiled without tracing */
    }
    if (sys->trace != NULL) {
        return ACTO_EALREADY;
    }
    acto__trace *t = new_trace(sink, o);
    if (t == NULL) {
        return ACTO_ENOMEM;
    }
    t->raw = HAVE_TSC && !sys->virtual_time;
    if (t->raw) {
        calibrate(t);
    }
    sys->trace = t;
    sys->trace_epoch++;
    sys->trace_all = t->sample_below == UINT64_MAX;
    /* Hot at once when every flow is kept, or in a hook (no message:
     * what it sends starts flows); a handler's message, sent before
     * tracing began, is in no flow kept. */
    sys->trace_hot =
        sys->trace_all || (sys->current != NULL && sys->current_msg == NULL)
            ? t
            : NULL;
    for (uint32_t i = 0; i < sys->n_type_names; i++) {
        acto__trace_type_named(sys, sys->type_names[i].type,
                               sys->type_names[i].name);
    }
    /* Actors already alive are traced or not by their labels too. */
    for (uint32_t i = 0; i < sys->actors.fresh; i++) {
        acto_actor *a = sys->actors.v[i].ptr;
        if (a != NULL) {
            acto__trace_actor_born(sys, a);
        }
    }
    return 0;
}

int
acto_trace_stop(acto_system *sys)
{
    acto__trace *t = sys != NULL ? sys->trace : NULL;
    if (t == NULL) {
        return ACTO_EALREADY;
    }
    if (t->mode != ACTO_TRACE_FLIGHT) {
        (void)flush(sys, t);
    }
    if (sys->trace == NULL) {
        return 0; /* the flush failed and stopped it */
    }
    sys->trace = NULL;
    sys->trace_hot = NULL;
    sys->trace_all = false;
    if (sys->current_msg == &t->why) {
        sys->current_msg = NULL; /* stopped while a stop sent its notices */
    }
    if (t->sink.close != NULL) {
        t->sink.close(t->sink.user);
    }
    free_trace(t);
    return 0;
}

int
acto_trace_flush(acto_system *sys)
{
    acto__trace *t = sys != NULL ? sys->trace : NULL;
    if (t == NULL) {
        return ACTO_EALREADY;
    }
    return t->mode == ACTO_TRACE_FLIGHT ? ACTO_EINVAL : flush(sys, t);
}

int
acto_trace_dump(acto_system *sys)
{
    acto__trace *t = sys != NULL ? sys->trace : NULL;
    if (t == NULL) {
        return ACTO_EALREADY;
    }
    if (t->mode != ACTO_TRACE_FLIGHT) {
        return ACTO_EINVAL;
    }
    return flush(sys, t);
}

void
acto__trace_failed(acto_system *sys)
{
    if (sys->trace->mode == ACTO_TRACE_FLIGHT && sys->trace->dump_on_failure) {
        (void)flush(sys, sys->trace);
    }
}

bool
acto_trace_enabled(const acto_system *sys)
{
    return sys != NULL && sys->trace != NULL;
}

void
acto_trace_get_stats(const acto_system *sys, acto_trace_stats *out)
{
    *out = sys != NULL && sys->trace != NULL ? sys->trace->stats
                                             : (acto_trace_stats){0};
}

/* ---- ACTO_TRACE ------------------------------------------------------- */

void
acto__trace_from_env(acto_system *sys)
{
    const char *path = getenv("ACTO_TRACE");
    if (path == NULL || path[0] == '\0') {
        return;
    }
    if (env_factory == NULL) {
        fprintf(stderr, "acto: ACTO_TRACE is set but no trace writer is "
                        "linked in (link acto::protocols)\n");
        return;
    }
    acto_trace_opts o = {0};
    const char *sample = getenv("ACTO_TRACE_SAMPLE");
    const char *mode = getenv("ACTO_TRACE_MODE");
    if (sample != NULL) {
        o.sample = strtod(sample, NULL);
    }
    if (mode != NULL) {
        o.mode = strcmp(mode, "flight") == 0  ? ACTO_TRACE_FLIGHT
                 : strcmp(mode, "block") == 0 ? ACTO_TRACE_BLOCK
                                              : ACTO_TRACE_DROP_NEW;
    }
    acto_trace_sink sink;
    int rc = env_factory(path, &sink);
    if (rc == 0) {
        rc = acto_trace_start(sys, &sink, &o);
        if (rc != 0 && sink.close != NULL) {
            sink.close(sink.user);
        }
    }
    if (rc != 0) {
        fprintf(stderr, "acto: ACTO_TRACE=%s: %s\n", path, acto_strerror(rc));
    }
}
