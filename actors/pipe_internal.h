/* Pipelines, inside: the builder's records, shared by pipeline.c (building,
 * starting, ending) and pipe_stages.c (the stage actors). Private. */
#ifndef ACTO_PIPE_INTERNAL_H
#define ACTO_PIPE_INTERNAL_H

#include <acto/pipeline.h>

enum stage_kind {
    KIND_SOURCE = 0, /* asks a source function for items */
    KIND_STAGE,      /* runs a stage function (also a pool's worker) */
    KIND_BATCH,      /* groups items */
    KIND_SINK,       /* consumes items */
    KIND_PASS,       /* passes items on: a merge, or an input fed from
                        outside */
    KIND_BROADCAST,  /* copies each item to every reader */
    KIND_POOL,       /* routes items to its workers */
    KIND_ASYNC,      /* a future per item, a bounded number at once */
    KIND_FORWARD     /* passes items to an actor outside (a file sink) */
};

/* Internal messages, below the stream's own. */
#define PIPE_MSG_PULL (ACTO_STREAM_BASE + 16u)  /* a source: produce more */
#define PIPE_MSG_FLUSH (ACTO_STREAM_BASE + 17u) /* a batch window ended */
#define PIPE_MSG_DRAIN (ACTO_STREAM_BASE + 18u) /* a source: end it now */

/* Items a stage emits during one handler call wait in its pipeline's
 * outbox and are sent together at its end (acto_send_many): at most this
 * many at once. */
#define PIPE_OUT_MAX 64
/* Items a writer to a key-routed pool may hold on its workers' chains at
 * once, each chain within its worker's room and PIPE_OUT_MAX: runs of 16
 * items for 8 workers, while a round's messages (128 bytes each: 16 KB)
 * stay in the first-level cache; 192 and 256 measured slower. */
#define PIPE_KEYED_MAX 128

/* The outbox (pipe_emit.c). One per pipeline, lent to the stage whose
 * handler runs (its owner): only one runs at a time on the loop. Items
 * for a key-routed pool's workers wait on each worker's chain instead
 * (n stays 0), about PIPE_KEYED_MAX in all. */
typedef struct pipe_outbox {
    struct acto_stage *owner;
    uint32_t n;
    acto_msg *m[PIPE_OUT_MAX];
    struct acto_stage *touched[PIPE_KEYED_MAX]; /* workers with a chain */
    uint32_t n_touched;
} pipe_outbox;

struct acto_emitter {
    struct acto_stage *st;
    acto_ctx *ctx;
};

struct acto_stage {
    acto_pipeline *p;
    struct acto_stage *reader; /* where its items go (none: a sink) */
    struct acto_stage **outs;  /* a broadcast's readers, a pool's workers */
    size_t n_outs, outs_cap;
    struct acto_stage *pool; /* a worker's pool */
    size_t writers;          /* stages sending it items and an end */
    size_t eos_seen;         /* ends of stream received so far */
    uint64_t sent;           /* items sent to it */
    bool hidden;             /* a pool's worker: not the user's */
    bool started;            /* its actor started once: next is a restart */
    bool fed;                /* an input: fed from outside */
    uint8_t route;           /* a pool's acto_route */
    acto_key_fn key;
    void *key_user;
    size_t rr;    /* round robin's next worker */
    uint8_t kind; /* enum stage_kind */
    bool running; /* its actor is alive */
    bool ended;   /* it passed the end of the stream on */
    bool waiting; /* a source that said ACTO_PIPE_WAIT */
    /* demand: a source whose items only one stage takes (or the workers
     * of one key-routed pool) is asked for more by that stage's turn, not
     * by itself (by_demand; wants_pull: it waits to be asked); feeder is
     * that source, on the stages that ask it */
    bool by_demand;
    bool wants_pull;
    struct acto_stage *feeder;
    char *name;
    size_t name_size;
    acto_stage_opts opts;
    void *arg;   /* what init gets (or the state itself, without init) */
    void *state; /* the live state */
    union {
        acto_source_fn source;
        acto_stage_fn fn;
        acto_sink_fn sink;
        acto_async_fn async;
    } u;
    uint32_t batch_count;
    uint32_t batch_window_ms;
    acto_ref ref;
    acto_stage_stats stats;
    acto_emitter emit;
    /* its use of the outbox: items may wait there for its reader while
     * the outbox holds fewer than out_end (0: acto_emit sends at once;
     * 0 and out_keyed false whenever the pipeline is stopping);
     * halt: its item loop stops at the next item (a send of this run
     * parked it, a retry waits, or the pipeline is stopping), one test
     * per item for all three */
    uint32_t out_end;
    bool out_keyed; /* it holds the outbox and its reader is a key-routed
                       pool: items go on its workers' chains */
    bool halt;
    /* a key-routed pool worker's chain, the items waiting in the outbox
     * for it (while touched), and how many it may hold: the room its
     * mailbox had when the chain began (0 while not touched); chain holds
     * PIPE_OUT_MAX, sent as it is */
    bool touched;
    acto_msg **chain;
    uint32_t chain_n;
    uint32_t chain_end;
    /* a built-in source's own state and hooks (a queue source's) */
    void *own;
    int (*own_start)(acto_ctx *ctx, struct acto_stage *st); /* spawned */
    void (*own_stop)(struct acto_stage *st); /* when its actor stops */
    acto_ref ext;          /* a file actor it feeds or is fed by */
    acto_future *ext_done; /* that actor's done future */
    void (*own_free)(struct acto_stage *st); /* with the pipeline */
    /* an async stage's futures, in item order (a ring), its permits and
     * the item waiting for one */
    acto_future **pend;
    size_t pend_head, pend_n, pend_cap;
    acto_semaphore *limit;
    bool own_limit;
    acto_msg *held;
    acto_future *acquiring;
    bool eos_waits; /* the end of stream waits for the futures */
    /* a batch being filled */
    acto_msg **buf;
    size_t buf_n, buf_cap;
    uint64_t window_timer;
    uint64_t window_seq;
    /* the item in hand, and an error acto_stage_fail recorded */
    acto_msg *current;
    bool current_emitted;
    bool has_err;
    char err_type[48];
    char err_text[192];
    /* a retry waiting for its backoff */
    acto_msg *retry_item;
    uint32_t attempt;
    uint64_t retry_timer;
};

enum pipe_phase {
    PHASE_BUILDING = 0,
    PHASE_RUNNING,
    PHASE_DRAINING, /* cancelled: the source ended, items finish */
    PHASE_STOPPING, /* failed or cancelled: every stage stops now */
    PHASE_OVER
};

enum pipe_outcome { OUTCOME_OK = 0, OUTCOME_FAILED, OUTCOME_CANCELLED };

struct acto_pipeline {
    acto_system *sys;
    acto_pipeline_opts opts;
    acto_stage **stages;
    size_t n, cap;
    acto_future *done;
    uint8_t phase;   /* enum pipe_phase */
    uint8_t outcome; /* enum pipe_outcome */
    size_t live;     /* stage actors alive */
    /* the first error of a FAIL stage */
    int err_code;
    char err_type[64];
    char err_text[256];
    pipe_outbox ob;
};

extern const acto_behaviour acto__pipe_stage_behaviour;

/* acto__pipe_capacity_of is a stage's mailbox bound: its own, or 64. */
static inline uint32_t
acto__pipe_capacity_of(const acto_stage_opts *o)
{
    return o->capacity != 0 ? o->capacity : 64;
}

/* acto__pipe_batch_of is the turn of a stage's actor (messages handled
 * at most): its whole mailbox and the end of the stream, 64 at least. A
 * reader that took fewer per turn than its writers pass it per round (a
 * pool's eight workers a run each) would back up and park them. */
static inline uint32_t
acto__pipe_batch_of(const acto_stage_opts *o)
{
    uint32_t cap = acto__pipe_capacity_of(o);
    return cap < 64 ? 64 : cap + 1;
}

/* acto__pipe_grown makes room for one more element of size elem in the
 * array v holding n (capacity *cap, doubling from first). Returns v, or
 * the array that replaced it (v freed, *cap updated), or NULL when out of
 * memory (v unchanged). */
void *acto__pipe_grown(void *v, size_t elem, size_t n, size_t *cap,
                       size_t first);

/* acto__pipe_add_stage makes a stage of kind reading from `from` (none:
 * a source or an input). */
int acto__pipe_add_stage(acto_pipeline *p, acto_stage *from, uint8_t kind,
                         void *state, const acto_stage_opts *opts,
                         acto_stage **out);

/* Async stages (pipe_async.c): an item, the end of stream, the stop. */
void acto__pipe_async_item(acto_ctx *ctx, acto_stage *st, acto_msg *item);
bool acto__pipe_async_eos(acto_ctx *ctx, acto_stage *st);
void acto__pipe_async_stop(acto_stage *st);

/* Batches (pipe_batch.c): add an item (taken; 0 or ACTO_ENOMEM, then
 * the item stays the caller's), pass the group on, a window's flush. */
int acto__pipe_batch_add(acto_ctx *ctx, acto_stage *st, acto_msg *item);
void acto__pipe_batch_emit(acto_ctx *ctx, acto_stage *st);
void acto__pipe_batch_on_flush(acto_ctx *ctx, acto_stage *st,
                               const acto_msg *m);

/* acto__pipe_on_error applies st's error policy (item may be NULL; it is
 * taken). */
void acto__pipe_on_error(acto_ctx *ctx, acto_stage *st, acto_msg *item,
                         int code);

/* acto__pipe_finish runs st's flush hook (and a batch's last group),
 * then ends its stream. */
void acto__pipe_finish(acto_ctx *ctx, acto_stage *st);

/* acto__pipe_out_open lends st the outbox while its handler runs, so its
 * emits (a pool router's items) wait there and go together;
 * acto__pipe_out_close sends what waits and takes the outbox back. Both do
 * nothing when another stage holds the outbox (st's sends go at once). */
void acto__pipe_out_open(acto_ctx *ctx, acto_stage *st);
void acto__pipe_out_close(acto_stage *st);

/* acto__pipe_out_shut sends the emits of the stage holding the outbox the
 * slow way, which fails them: the pipeline is stopping. What waits there
 * still goes when the stage's handler ends. */
void acto__pipe_out_shut(acto_pipeline *p);

/* acto__pipe_out_room tells whether st holds the outbox and nothing
 * halted it this turn (a send that parked it, the pipeline stopping),
 * with room left for what it emits (a place for its reader; for a
 * key-routed pool's writer, a place in the outbox). */
bool acto__pipe_out_room(const acto_stage *st);

/* acto__pipe_pool_route passes an item (taken) to worker w of a
 * key-routed pool, chained in the outbox when owner holds it (the pool's
 * router, or a writer routing straight to the workers). Returns 0 or
 * acto_send's error (the item is freed). */
int acto__pipe_pool_route(acto_ctx *ctx, acto_stage *owner, acto_stage *w,
                          acto_msg *item);

/* acto__pipe_key_worker is the worker of a key-routed pool for item. */
acto_stage *acto__pipe_key_worker(const acto_stage *pool, const acto_msg *item);

/* acto__pipe_link_feeders marks, at start, the sources asked for more by
 * their readers (see by_demand). */
void acto__pipe_link_feeders(acto_pipeline *p);

/* acto__pipe_end_stream passes the end of the stream on and stops st. */
void acto__pipe_end_stream(acto_ctx *ctx, acto_stage *st);

/* Pools (pipe_pool.c): start the workers under a supervisor (the pool's
 * ext), and hear that supervisor fail. */
int acto__pipe_pool_start(acto_ctx *ctx, acto_stage *pool);
void acto__pipe_pool_child_failed(acto_stage *pool, const acto_msg *m);

/* acto__pipe_fail records the first error and stops every stage. */
void acto__pipe_fail(acto_pipeline *p, const acto_stage *st,
                     const acto_error *e);

/* acto__pipe_stop_all stops every stage still running (items left in
 * their mailboxes become dead letters). */
void acto__pipe_stop_all(acto_pipeline *p);

/* acto__pipe_stage_gone is called by a stage's stop hook: the last one to
 * go resolves the completion future. */
void acto__pipe_stage_gone(acto_stage *st);

#endif /* ACTO_PIPE_INTERNAL_H */
