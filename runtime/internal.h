/* The runtime's private structures: systems, actors, messages, timers.
 *
 * The files that share them: system.c (the system, its loop handles and the
 * scheduler), actor.c (spawn, stop, failure, monitors), mailbox.c (sending,
 * parking and dead letters), msg.c (messages and errors), timer.c (timers
 * on the wheel) and registry.c (names).
 */
#ifndef ACTO__INTERNAL_H
#define ACTO__INTERNAL_H

#include <acto/acto.h>
#include <acto/future.h>

#include "alloc.h"
#include "list.h"
#include "mpsc.h"
#include "slots.h"
#include "wheel.h"

#include <stdatomic.h>
#include <string.h>

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* ---- messages --------------------------------------------------------- */

enum msg_flag {
    MSG_HEAP_DATA = 1u << 0,  /* u.data points to an allocated copy */
    MSG_THREADSAFE = 1u << 1, /* counted in the system's inflight */
    MSG_SYS_LANE = 1u << 2,   /* goes on the system lane */
    MSG_ACTOR_PARK = 1u << 3, /* parked by an actor sender */
    MSG_ASK = 1u << 4,        /* a request whose correlation names an ask */
    MSG_FLOWED = 1u << 5,     /* tracing gave it its flow (m->flow) */
    MSG_UNSAMPLED = 1u << 6,  /* its flow is not sampled: no events */
    MSG_SEND_WAIT = 1u << 7,  /* m->wait is set: one flag test says so */
    /* Its handling takes the slow path (receive_special): a continuation
     * step, or a message of a sampled flow while tracing is on. A flag, so
     * that a turn tests the message and not the system: a flow sampled out
     * costs its turns nothing. */
    MSG_SLOW = 1u << 8,
    /* Its payload holds something to let go of beyond inline bytes: a
     * pointer with its free function, an error box. With MSG_HEAP_DATA,
     * the one flag test that frees a message pays for nothing else. */
    MSG_OWNS = 1u << 9,
    /* Its payload is bytes or msgpack held inline (u.bytes): what
     * acto_msg_data asks of every item, answered by one flag test. */
    MSG_INLINE = 1u << 10
};

/* What a handler may take (acto_take_msg, acto_take_run): a message
 * carrying only these flags, of which it keeps MSG_TAKE_KEPT (what it
 * owns, and its flow's marks, so that it goes on in its flow). A run
 * takes no MSG_SLOW message, whose handling is recorded one by one. */
#define MSG_TAKE_KEPT                                                          \
    (MSG_HEAP_DATA | MSG_OWNS | MSG_INLINE | MSG_FLOWED | MSG_UNSAMPLED |      \
     MSG_SLOW)
#define MSG_TAKEABLE (MSG_TAKE_KEPT | MSG_ACTOR_PARK)

/* A continuation step of acto_future_then, run in place of the receive
 * function (see future.c). */
#define ACTO__MSG_THEN (ACTO_MSG_SYSTEM_BASE + 0x100u)

/* An error with its strings and a reference count, so one failure can be
 * carried by several messages (down notices, child-failed) at once. */
typedef struct acto__error_box {
    size_t size; /* of the whole allocation */
    uint32_t refs;
    acto_error e;
    acto_msg *msg; /* the quarantined message, owned */
} acto__error_box;

/* A waiting outside sender (acto_system_send_wait). */
typedef struct acto__wait {
    acto__link link; /* on the system's completions once decided */
    acto_send_cb cb;
    void *user;
    int status;
} acto__wait;

struct acto_msg {
    union {
        acto_msg *next;       /* mailbox, lane, park list or pool */
        acto__mpsc_node node; /* the thread-safe inbox */
    };
    acto_system *sys;
    uint32_t type;
    uint8_t kind;   /* acto_payload_kind */
    uint16_t flags; /* enum msg_flag (in the padding before len) */
    uint32_t len;   /* payload bytes (BYTES, MSGPACK) */
    /* to beside sender, so that a send stamps both with one store, and
     * sender to cause side by side, so that a new message's are reset
     * with two. */
    acto_ref to;
    acto_ref sender;
    uint64_t correlation;
    uint64_t id;
    uint64_t cause;
    uint64_t flow;    /* the flow's first message id, while tracing */
    acto__wait *wait; /* with MSG_SEND_WAIT: an outside sender waiting */
    union {
        unsigned char bytes[ACTO_MSG_INLINE];
        void *data;
        struct {
            void *ptr;
            acto_free_fn free_fn;
            void *user;
        } ptr;
        acto__error_box *error; /* ACTO_MSG_CHILD_FAILED */
        acto_down down;         /* ACTO_MSG_DOWN */
    } u;
};

/* A singly linked FIFO of messages. */
typedef struct acto__mq {
    acto_msg *head;
    acto_msg *tail;
    uint32_t count;
} acto__mq;

/* ---- actors ----------------------------------------------------------- */

enum actor_life {
    LIFE_STARTING = 0, /* inside its start hook */
    LIFE_RUNNING,
    LIFE_STOPPING, /* marked; finalized in the reap phase */
    LIFE_DEAD
};

enum actor_flag {
    ACTOR_QUEUED = 1u << 0,         /* on the run queue */
    ACTOR_IN_HANDLER = 1u << 1,     /* a handler or hook is running */
    ACTOR_PARKED = 1u << 2,         /* has sends parked on full mailboxes */
    ACTOR_DRAINING = 1u << 3,       /* shut down once the mailbox is empty */
    ACTOR_SHUTDOWN_ASKED = 1u << 4, /* acto_shutdown was called */
    ACTOR_SUSPENDED = 1u << 5,      /* acto_suspend: handles nothing */
    ACTOR_TRACED = 1u << 6          /* tracing records what it does */
};

/* What a wheel entry belongs to. */
enum hook_kind {
    HOOK_TIMER = 1,
    HOOK_RECEIVE,
    HOOK_PARK,
    HOOK_ASK,
    HOOK_CALLOUT
};

typedef struct acto__hook {
    acto__wheel_entry entry;
    uint8_t kind; /* enum hook_kind */
} acto__hook;

/* The parts of an actor most never need, allocated on first use: a park
 * list (bounded mailboxes), timers, monitors, names, a label, a failure. An
 * idle actor without them costs its 112-byte core and a slot. */
typedef struct acto__actor_ext {
    struct acto_actor *owner;
    acto__mq parked;        /* others' messages waiting for room here */
    acto__error_box *error; /* the failure, when it failed */
    acto__hook park_timer;
    acto__hook recv_timer;
    uint64_t recv_timeout_ms;
    uint32_t send_timeout_ms;
    acto__link watchers;        /* monitors on me */
    acto__link watching;        /* my monitors */
    acto__link names;           /* my registry entries */
    acto_child_fail_fn fail_fn; /* decides my children's failures */
    bool watch_children;        /* a down notice for each child's stop */
    void *fail_user;
    char *label;
    size_t label_size;
    uint64_t stop_flow, stop_cause; /* while tracing: what made it stop */
} acto__actor_ext;

typedef struct acto_actor {
    struct acto_actor *next_run; /* run queue or dying list */
    acto_system *sys;
    const acto_behaviour *beh;
    void *state;
    acto_ref self;
    acto_ref parent;
    acto_msg *mb_head; /* the mailbox */
    acto_msg *mb_tail;
    acto_msg *lane_head; /* the system lane */
    acto_msg *lane_tail;
    uint32_t mb_count;
    uint32_t capacity;  /* 0: unbounded */
    uint32_t my_parked; /* my sends waiting on full mailboxes */
    uint16_t batch;
    uint8_t life;
    uint8_t flags;
    uint8_t overflow;
    uint8_t exit_kind;
    uint8_t on_shutdown; /* enum acto_on_shutdown */
    uint8_t slab_pos;    /* its index in its slab */
    acto__actor_ext *ext;
} acto_actor;

/* acto__ext returns a's extension, allocating it on first use; NULL when
 * out of memory. */
acto__actor_ext *acto__ext(acto_actor *a);

/* A monitor: linked on its target's watchers and its watcher's watching. */
typedef struct acto__monitor {
    acto__link by_target;
    acto__link by_watcher;
    uint64_t id;
    acto_ref watcher;
    acto_ref target;
} acto__monitor;

/* A timer set by acto_send_after/acto_send_every. */
typedef struct acto__timer {
    acto__hook hook;
    acto_msg *msg;
    acto_ref to;
    uint64_t interval; /* 0: one-shot */
    uint32_t slot;
    acto_call_fn call; /* acto_call_after: called instead of a send */
    void *user;
} acto__timer;

/* A registry entry. */
typedef struct acto__name {
    acto__link in_bucket;
    acto__link by_actor;
    acto_ref ref;
    size_t size;
    char name[];
} acto__name;

/* ---- futures ---------------------------------------------------------- */

/* A done callback; drop (may be NULL) frees user if it never runs. */
typedef struct acto__cb {
    struct acto__cb *next;
    acto_future_cb cb;
    void *user;
    void (*drop)(void *user);
    bool embedded; /* in its owner's storage (acto__future_add_cb) */
} acto__cb;

enum future_flag {
    FUT_RETRIEVED = 1u << 0, /* the error was read */
    FUT_ASK = 1u << 1,       /* registered in the system's ask table */
    FUT_QUEUED = 1u << 2,    /* on the system's ready list */
    FUT_CB_REF = 1u << 3,    /* holds a reference for pending callbacks */
    FUT_FLOWED = 1u << 4,    /* tracing: trace_flow and trace_cause are set */
    FUT_UNSAMPLED = 1u << 5  /* tracing: that flow is sampled out */
};

typedef struct acto__fslab acto__fslab;

struct acto_future {
    acto__link ready; /* the system's ready or watched list */
    acto__fslab *slab;
    acto_system *sys;
    uint32_t refs;
    uint8_t state; /* acto_future_state */
    uint8_t flags; /* enum future_flag */
    union {
        struct {
            void *value;
            acto_free_fn free_fn;
            void *user;
        } ok;
        acto__error_box *err;
        struct {
            char *msg;
            size_t size;
        } cancel;
    } u;
    acto_msg *notify; /* a notify message to deliver when done: the common
                         continuation, without a callback record */
    acto__cb *cbs;    /* callbacks, FIFO */
    acto__cb *cbs_tail;
    acto__hook timer; /* an ask's timeout; set up only with a deadline */
    uint32_t ask_slot;
    uint64_t deadline; /* an ask's, UINT64_MAX: none */
    const char *file;  /* where it was created (debug mode) */
    int line;
    /* Tracing: the flow and cause an ask's timeout or a callback run
     * outside any handler goes on in (FUT_FLOWED). */
    uint64_t trace_flow, trace_cause;
};

/* ---- the system ------------------------------------------------------- */

struct acto_system {
    /* Hot: touched by every message, kept together at the front. */
    acto_actor *current;         /* the actor whose code is running */
    const acto_msg *current_msg; /* the message it is handling */
    struct acto__trace *trace;   /* NULL: tracing is off */
    /* What an actor's send looks at: trace while every flow is kept, a
     * recorded flow is handled or a hook runs; else NULL, so that the
     * handlers of flows sampled out send as if tracing were off. */
    struct acto__trace *trace_hot;
    bool trace_all;       /* tracing keeps every flow (no sampling) */
    uint32_t trace_epoch; /* tracing's starts: a trace is still the one */
    bool special;         /* debug mode: every turn takes the slow path */
    uint64_t trace_msg, trace_flow; /* the message being handled, traced */
    uint32_t trace_type;
    bool msg_taken;         /* acto_take_msg took current_msg */
    uint32_t turn_left;     /* messages turn_actor's turn may still take */
    uint32_t turn_held;     /* taken by acto_take_run, still counted */
    acto_actor *turn_actor; /* the actor whose turn runs (acto_take_run) */
    acto_actor *runq_head;  /* actors with work, FIFO */
    acto_actor *runq_tail;
    acto_msg *pool; /* free messages */
    uint32_t pool_size;
    uint8_t shard;
    bool closing;
    bool debug;
    bool idle_on; /* the scheduler's idle handle is started */
    uint64_t next_msg_id;
    acto__slots actors;
    acto_stats stats;
    acto_ref ask_ref; /* where replies to asks are sent */
    uint32_t high_water;

    /* Everything else. */
    uv_loop_t *loop;
    bool owns_loop;
    bool virtual_time;
    bool keep_alive;
    bool zombie; /* closed, kept only for live futures */
    uint8_t handles_open;
    uint64_t slice_ns;
    uint64_t slow_handler_ns;
    uint64_t vnow;
    uint64_t armed_due; /* when the uv timer fires; UINT64_MAX: stopped */
    acto_actor *dying;  /* actors marked as stopping, FIFO: they
                           finalize in the order they were stopped */
    acto_actor *dying_tail;
    acto__link aslabs;        /* actor slabs with free actors */
    acto__link aslabs_full;   /* actor slabs without */
    uint32_t aslabs_empty;    /* empty ones kept for the next spawns */
    acto__link completions;   /* decided acto__wait records */
    acto__link ready_futures; /* futures whose callbacks are due */
    acto__link watched;       /* pending futures with callbacks */
    acto__slots asks;         /* pending asks by correlation id */
    acto__slots timers;
    uint64_t live_futures;    /* the struct outlives close until they go */
    acto__link fslabs;        /* future slabs with free futures */
    acto__error_box *pending; /* recorded by acto_fail for current */
    uint64_t next_monitor_id;
    acto__link *buckets;
    uint32_t n_buckets;
    uint32_t n_names;
    acto_exception_fn on_exception;
    void *exception_user;
    acto_system_close_cb close_cb;
    void *close_user;
    uv_idle_t idle;   /* the scheduler */
    uv_timer_t timer; /* the wheel's next due time */
    uv_async_t async; /* thread-safe sends */
    uv_thread_t loop_thread;
    acto__mpsc inbox;
    atomic_uint inflight;
    atomic_bool ts_closed;
    uint32_t ts_capacity;
    acto__wheel wheel;
    struct acto__type_name *type_names; /* by type (msgtype.c) */
    uint32_t n_type_names, cap_type_names;
};

/* A message type's name (msgtype.c). */
typedef struct acto__type_name {
    uint32_t type;
    uint32_t len; /* strlen(name) */
    char *name;
} acto__type_name;

/* acto__type_names_fini frees the system's type names. */
void acto__type_names_fini(acto_system *sys);

struct acto_ctx {
    acto_actor actor; /* a ctx is its actor, seen from its handlers */
};

static inline acto_ctx *
actor_ctx(acto_actor *a)
{
    return (acto_ctx *)(void *)a;
}

static inline acto_actor *
ctx_actor(const acto_ctx *ctx)
{
    return (acto_actor *)(void *)ctx;
}

/* ---- shared between the runtime's files ------------------------------- */

/* acto__lookup finds the actor ref names, or NULL when it is dead, never
 * existed or lives on another shard. */
static inline acto_actor *
acto__lookup(const acto_system *sys, acto_ref ref)
{
    if (unlikely(acto_ref_shard(ref) != sys->shard)) {
        return NULL;
    }
    return acto__slots_get(&sys->actors, acto_ref_slot(ref),
                           acto_ref_generation(ref));
}

void acto__on_idle(uv_idle_t *idle);

/* acto__kick makes sure the scheduler runs on this loop iteration. */
static inline void
acto__kick(acto_system *sys)
{
    if (!sys->idle_on) {
        sys->idle_on = true;
        uv_idle_start(&sys->idle, acto__on_idle);
    }
}

/* msg.c */
acto_msg *acto__msg_alloc_slow(acto_system *sys);
void acto__msg_free_payload(acto_msg *m);
void acto__msg_unpool(acto_msg *m);
void acto__pool_fini(acto_system *sys);
int acto__msg_clone(const acto_msg *m, acto_msg **out);
acto__error_box *acto__error_new(int code, const char *type, const char *text,
                                 acto_ref origin);
void acto__error_ref(acto__error_box *b);
void acto__error_unref(acto__error_box *b);

/* Free messages kept for reuse; past this many they go back to the
 * allocator, so a burst does not pin its peak memory forever. */
#define ACTO__POOL_MAX 4096

/* acto__msg_alloc takes a message from the pool (or the allocator) with
 * its header reset; the caller sets type and payload. NULL when out of
 * memory. */
static inline acto_msg *
acto__msg_alloc(acto_system *sys)
{
    acto_msg *m = sys->pool;
    if (likely(m != NULL)) {
        sys->pool = m->next;
        sys->pool_size--;
    } else if ((m = acto__msg_alloc_slow(sys)) == NULL) {
        return NULL;
    }
    /* A pooled message keeps its system's pointer (the pool is the
     * system's own): only a new one is given it, by the slow path. */
    m->kind = ACTO_PAYLOAD_NONE;
    m->flags = 0;
    m->len = 0;
    m->sender = ACTO_REF_NONE;
    m->correlation = 0;
    m->id = 0; /* never sent (tracing tells a message sent on by it) */
    m->cause = 0;
    /* wait is read only under MSG_SEND_WAIT, which flags just cleared. */
    return m;
}

/* copy_small copies up to ACTO_MSG_INLINE bytes in fixed-size steps the
 * compiler inlines, instead of calling memcpy for a few bytes. */
static inline void
acto__copy_small(unsigned char *dst, const void *src, size_t len)
{
    const unsigned char *s = src;
    if (likely(len == 8)) { /* a pointer or a 64-bit value */
        memcpy(dst, s, 8);
        return;
    }
    for (; len >= 8; len -= 8, dst += 8, s += 8) {
        memcpy(dst, s, 8);
    }
    if (len >= 4) {
        memcpy(dst, s, 4);
        len -= 4;
        dst += 4;
        s += 4;
    }
    while (len-- > 0) {
        *dst++ = *s++;
    }
}

/* acto__msg_fill_inline makes m, just taken from acto__msg_alloc, a
 * message of type carrying len (at most ACTO_MSG_INLINE) bytes inline:
 * the one place that marks such a payload MSG_INLINE for acto_msg_data. */
static inline void
acto__msg_fill_inline(acto_msg *m, uint32_t type, const void *data, size_t len)
{
    m->type = type;
    m->kind = ACTO_PAYLOAD_BYTES;
    m->flags = MSG_INLINE;
    m->len = (uint32_t)len;
    acto__copy_small(m->u.bytes, data, len);
}

/* acto__msg_release frees what the payload owns and pools the message. */
static inline void
acto__msg_release(acto_msg *m)
{
    if (unlikely(m->flags & (MSG_HEAP_DATA | MSG_OWNS))) {
        acto__msg_free_payload(m);
    }
    acto_system *sys = m->sys;
    if (likely(sys->pool_size < ACTO__POOL_MAX)) {
        m->next = sys->pool;
        sys->pool = m;
        sys->pool_size++;
    } else {
        acto__msg_unpool(m);
    }
}

/* mailbox.c */
enum send_mode {
    SEND_FROM_ACTOR,   /* parks the sender when full */
    SEND_OUTSIDE,      /* fails with ACTO_EQUEUEFULL when full */
    SEND_OUTSIDE_WAIT, /* waits for room (m->wait may carry a callback) */
    SEND_LANE          /* the system lane: never blocked */
};
int acto__deliver(acto_system *sys, acto_actor *from, acto_ref to, acto_msg *m,
                  enum send_mode mode);
/* Delivers a message that has no sender to hand it back to (timers,
 * thread-safe sends): a refusal becomes a counted drop. */
void acto__deliver_or_drop(acto_system *sys, acto_ref to, acto_msg *m,
                           enum send_mode mode);
void acto__dead_letter(acto_system *sys, acto_msg *m);
void acto__discard_mailbox(acto_actor *a);
void acto__unpark_sender(acto_system *sys, acto_ref sender);
void acto__complete_wait(acto_system *sys, acto_msg *m, int status);
void acto__schedule(acto_actor *a);
void acto__run_queue(acto_system *sys, uint64_t deadline);

/* actor.c */
void acto__slabs_init(acto_system *sys);
void acto__slabs_fini(acto_system *sys);
void acto__push_dying(acto_actor *a);
void acto__finalize(acto_actor *a);
void acto__fail(acto_actor *a, int code, acto_msg *m);
void acto__mark_stopping(acto_actor *a, acto_exit_kind kind);
/* acto__drain_check stops a draining actor whose mailbox is empty. */
void acto__drain_check(acto_actor *a);
void acto__notify_down(acto_actor *a);
/* acto__send_down puts ACTO_MSG_DOWN about target (monitor id, exit kind,
 * error, which it references) on watcher's system lane. Returns 0 or
 * ACTO_ENOMEM. */
int acto__send_down(acto_system *sys, acto_ref watcher, acto_ref target,
                    uint64_t id, acto_exit_kind kind, acto__error_box *err);

/* timer.c */

/* A callout: a function the wheel calls at a time, for the runtime's own
 * timeouts (combinators), embedded in its owner: no allocation, no
 * message. fire runs from the timer phase; it may complete futures (whose
 * callbacks then wait for their own phase) but not expire the wheel. */
typedef struct acto__callout {
    acto__hook hook;
    void (*fire)(struct acto__callout *c);
} acto__callout;

void acto__callout_init(acto__callout *c, void (*fire)(acto__callout *c));
void acto__callout_start(acto_system *sys, acto__callout *c, uint64_t delay_ms);
void acto__callout_stop(acto_system *sys, acto__callout *c);

void acto__timers_fire(acto_system *sys);
void acto__timers_advance(acto_system *sys, uint64_t to);
void acto__timers_arm(acto_system *sys);
/* After adding an entry due at due / after removing entries. */
void acto__timers_added(acto_system *sys, uint64_t due);
void acto__timers_removed(acto_system *sys);
void acto__timers_fini(acto_system *sys);
void acto__receive_rearm(acto_actor *a);
void acto__park_timer_start(acto_actor *a);
void acto__park_timer_stop(acto_actor *a);

/* future.c */
void acto__futures_run(acto_system *sys);
int acto__futures_init(acto_system *sys);
void acto__futures_fini(acto_system *sys);
/* acto__future_add_cb registers cb(f, user) like acto_future_add_done_cb,
 * in a record c the caller embeds in its own storage, so it cannot fail:
 * the combinators arm one per member without an allocation each. c must
 * stay in place until the callback has run or has been removed with
 * acto_future_remove_done_cb; the future never frees it. */
void acto__future_add_cb(acto_future *f, acto__cb *c, acto_future_cb cb,
                         void *user);
/* Fails f with a copy of e, or cancels it when the copy cannot be made. */
void acto__future_fail_copy(acto_future *f, const acto_error *e);
int acto__ask_reply(acto_system *sys, acto_msg *m);
void acto__ask_lost(acto_system *sys, const acto_msg *req);
/* Tracing: the ask of request req, just given its flow, goes on in it. */
void acto__ask_traced(acto_system *sys, const acto_msg *req);
void acto__ask_failed(acto_system *sys, const acto_msg *req,
                      const acto_error *e);
void acto__ask_timeout(acto__hook *h);
void acto__asks_cancel_all(acto_system *sys);
void acto__watched_cancel_all(acto_system *sys);
void acto__run_then(acto_actor *a, acto_msg *m);

/* registry.c */
void acto__registry_drop_actor(acto_actor *a);
void acto__registry_fini(acto_system *sys);

/* system.c (and acto__on_idle above) */
void acto__system_future_gone(acto_system *sys);
uint64_t acto__now(const acto_system *sys);
void acto__report_exception(acto_system *sys, const acto_error *e);

/* ---- tracing (trace.c) ------------------------------------------------ */

typedef struct acto__trace acto__trace;

/* acto__trace_record writes one event unless its flow is sampled out or
 * the ring is full (counted). Only when sys->trace is set. */
void acto__trace_record(acto_system *sys, uint16_t kind, uint64_t flow,
                        uint64_t msg, uint64_t cause, acto_ref actor,
                        acto_ref peer, uint32_t type, uint32_t arg);
/* acto__trace_send gives m, a new message, its flow and records the
 * send; acto__trace_send_to, when the receiver r was looked up (NULL:
 * none), and m was sent before (resent: a handler took it and passes it
 * on) or not. */
void acto__trace_send(acto_system *sys, acto_actor *from, acto_ref to,
                      acto_msg *m);
void acto__trace_send_to(acto_system *sys, acto_actor *from, acto_actor *r,
                         acto_ref to, acto_msg *m, bool resent);
/* acto__trace_handle records a beginning to handle m; then
 * acto__trace_handled its end (rc: the handler's result), m being gone
 * perhaps (a handler may take it). */
void acto__trace_handle(acto_system *sys, const acto_actor *a,
                        const acto_msg *m);
void acto__trace_handled(acto_system *sys, const acto_actor *a, int rc);
/* acto__trace_run_begins tells a scheduler's run of turns begins: a HANDLE
 * shares the stamp of a HANDLED just before it only within one run. */
void acto__trace_run_begins(acto_system *sys);
/* acto__trace_actor_born decides whether a is traced (its label) and
 * tells the sink its name. */
void acto__trace_actor_born(acto_system *sys, acto_actor *a);
/* acto__trace_round_end hands the ring to the sink at a round's end;
 * acto__trace_between_turns, when it holds a few thousand events. */
void acto__trace_between_turns(acto_system *sys);
void acto__trace_round_end(acto_system *sys);
/* acto__trace_failed dumps a flight recorder that asked for it. */
void acto__trace_failed(acto_system *sys);
/* acto__trace_spawned records a's SPAWN, in the flow of the message being
 * handled (its cause). */
void acto__trace_spawned(acto_system *sys, acto_actor *a);
/* acto__trace_stop_cause keeps what made a stop (a message's flow and id;
 * the message being handled when flow is 0) for its STOP event. */
void acto__trace_stop_cause(acto_actor *a, uint64_t flow, uint64_t id);
/* acto__trace_stopped records a's STOP in the flow of what made it stop,
 * and makes that stand for the message being handled, so the notices
 * its stop sends follow it; returns the message to restore after. */
const acto_msg *acto__trace_stopped(acto_system *sys, acto_actor *a);
/* acto__trace_settle records future f resolving, caused by the message
 * being handled, and puts the continuations it delivers in its flow. */
void acto__trace_settle(acto_future *f);
/* acto__trace_ask_request lets ask f go on in the flow of its request
 * req, caused by it, should its deadline fail it. */
void acto__trace_ask_request(acto_future *f, const acto_msg *req);
/* acto__trace_callbacks makes stand, filled in from the flow and cause f
 * resolved in, the message being handled while f's callbacks run (outside
 * any actor); returns what to restore after. */
const acto_msg *acto__trace_callbacks(acto_system *sys, const acto_future *f,
                                      acto_msg *stand);
/* acto__trace_type_named hands a type's name to the sink. */
void acto__trace_type_named(acto_system *sys, uint32_t type, const char *name);
/* acto__deliver_on_done is the callback delivering a prebuilt message
 * when a future is done (future.c). */
void acto__deliver_on_done(acto_future *f, void *user);
/* acto__trace_from_env starts tracing as ACTO_TRACE says. */
void acto__trace_from_env(acto_system *sys);

/* Tracing can be compiled out (cmake -DACTO_TRACING=OFF): the hooks then
 * vanish and acto_trace_start fails with ACTO_EINVAL. It exists to
 * measure what the hooks cost while tracing is off. */
#ifndef ACTO_TRACING
#define ACTO_TRACING 1
#endif
#define acto__tracing(sys) (ACTO_TRACING && unlikely((sys)->trace != NULL))

/* acto__msg_sampled tells whether m's flow, once it has one, is recorded;
 * acto__msg_out, for a message that may have none, whether it is in a
 * flow sampled out. */
static inline bool
acto__msg_sampled(const acto_msg *m)
{
    return !(m->flags & MSG_UNSAMPLED);
}

/* acto__msg_flow is m's flow, when tracing gave it one (else 0: the
 * field is not kept up to date while tracing is off, nor for a message
 * sampled out, whose flow is never recorded). */
static inline uint64_t
acto__msg_flow(const acto_msg *m)
{
    return (m->flags & MSG_FLOWED) ? m->flow : 0;
}

/* acto__msg_out tells whether m is in a flow sampled out, tracing on:
 * marked so, or given no flow while flows are sampled. The handler of a
 * flow sampled out sends the fast way, as if tracing were off, so what
 * it sends has no flow; so has what was sent before tracing began, a
 * flow whose root went unseen: neither is kept, then. */
static inline bool
acto__msg_out(const acto_system *sys, const acto_msg *m)
{
    return (m->flags & MSG_FLOWED) ? (m->flags & MSG_UNSAMPLED) != 0
                                   : !sys->trace_all;
}

/* acto__trace_cool ends what made an actor's sends hot (a hook, a
 * recorded handling): hot again only if they were before or every flow is
 * kept, and never pointing at a trace stopped meanwhile. */
static inline void
acto__trace_cool(acto_system *sys, bool was_hot)
{
    sys->trace_hot = sys->trace_all || was_hot ? sys->trace : NULL;
}

/* acto__msg_follow puts m in the flow of cur, a message being handled
 * that has one: the same flow, sampled in or out as cur is. */
static inline void
acto__msg_follow(acto_msg *m, const acto_msg *cur)
{
    m->flow = cur->flow;
    m->flags |= MSG_FLOWED | (cur->flags & MSG_UNSAMPLED);
}

static inline bool
acto__traced(const acto_system *sys, const acto_actor *a)
{
    return acto__tracing(sys) && (a == NULL || (a->flags & ACTOR_TRACED));
}

#endif /* ACTO__INTERNAL_H */
