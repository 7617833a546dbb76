/* Pipelines: producer/consumer flows as actors, with bounded memory and
 * real backpressure, without writing queues by hand.
 *
 * A pipeline is built from stages, each an actor with a bounded mailbox
 * (64 items by default): a pull-based source, stages that map, filter or
 * expand items (one function with an emitter does all three), batches,
 * and a sink. Items are messages (acto_msg); a stage passes an item on
 * without copying it. A stage sending to a full mailbox is parked, so a
 * fast source cannot flood a slow sink: memory stays bounded by the
 * mailboxes.
 *
 * A stage handles the run of items waiting in its mailbox in one turn, and
 * what it emits meanwhile goes on together at the end of the turn, up to
 * the room its reader had (one delivery per run); beyond that room an emit
 * goes at once and parks the stage, as above. A writer to a key-routed
 * pool routes each item to its worker itself, up to each worker's room
 * (256 items per turn in all); a source feeding one is not asked again in
 * a turn once one of those workers is full. A stage's turn takes its
 * whole mailbox, so the reader of a pool of N workers with mailboxes of B
 * takes a full round of their runs without parking them if its own
 * mailbox holds N x B.
 *
 * End of stream travels after the last item, in order (ACTO_STREAM_EOS).
 * The completion future resolves once the sink has handled everything
 * (join semantics end to end), and per-stage counters say how many items
 * came in, went out, failed, were skipped or retried.
 *
 * Errors, per stage (acto_on_error): fail the pipeline (the first error
 * stops every stage, the future fails with it), skip the item (counted,
 * reported to the pipeline's error callback), retry it with backoff, or
 * restart the stage's state in place (its fini then init hooks run; the
 * mailbox is kept, so no waiting item is lost) and quarantine the item;
 * a trace shows such a restart as an actor's: a FAIL event on the item,
 * then a RESTART event caused by it.
 * Exactly: in = out + skipped + quarantined + failed for a stage that
 * emits one item per item, with retried counted apart.
 *
 * Thread: the system's loop thread, except where noted.
 */
#ifndef ACTO_PIPELINE_H
#define ACTO_PIPELINE_H

#include <acto/acto.h>
#include <acto/file.h>
#include <acto/stream.h>

typedef struct acto_pipeline acto_pipeline;
typedef struct acto_stage acto_stage;

/* Where a stage function puts what it produces. Valid during the call. */
typedef struct acto_emitter acto_emitter;

/* acto_emit passes m on to the next stage: an item the function was given
 * (changed in place or not: no copy) or one it built. When the next
 * stage's mailbox is full the stage is parked after this call, so a
 * function should emit a few items per call, not thousands.
 * Ownership: m is always taken (freed when it cannot be passed on).
 * Returns 0; ACTO_EINVAL; ACTO_ECANCELED when the pipeline is stopping;
 * acto_send's errors. */
int acto_emit(acto_emitter *out, acto_msg *m);

/* acto_emit_bytes builds an item of type carrying a copy of len bytes and
 * passes it on. Returns as acto_emit, or ACTO_ENOMEM. */
int acto_emit_bytes(acto_emitter *out, uint32_t type, const void *data,
                    size_t len);

/* acto_stage_fail records a typed error for the running stage function to
 * return: `return acto_stage_fail(out, ACTO_EINVAL, "ParseError", "bad
 * line %d", n);`. Returns code (ACTO_EFAILED if code is not negative). */
int acto_stage_fail(acto_emitter *out, int code, const char *type,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A source function is asked for more only when the pipeline has room: it
 * emits items (one or a few) and returns 0 for more, ACTO_PIPE_END once it
 * has emitted its last item, ACTO_PIPE_WAIT when it has nothing now (it
 * is not asked again until acto_pipeline_wake), or a negative error.
 * A source whose items one stage takes (or the workers of one key-routed
 * pool) is asked again by that stage's next turn, as a reactive stream's
 * subscriber requests more: what that turn passed on goes first, so a
 * round of items leaves the pipeline before the next comes in. A source
 * feeding a merge asks itself again after each turn. */
#define ACTO_PIPE_END 1
#define ACTO_PIPE_WAIT 2
typedef int (*acto_source_fn)(acto_emitter *out, void *state);

/* A stage function handles one item, which it owns for the call: it
 * emits it (changed or not), emits others (none, one or many: map, filter
 * and flat_map are all this), and an item it did not emit is freed after
 * it returns. Returns 0, or a negative error for the error policy. */
typedef int (*acto_stage_fn)(acto_emitter *out, void *state, acto_msg *item);

/* A sink function consumes one item, borrowed for the call (out is there
 * for acto_stage_fail; a sink emits nothing). Returns 0, or a negative
 * error for the error policy. */
typedef int (*acto_sink_fn)(acto_emitter *out, void *state,
                            const acto_msg *item);

/* A stage's state hooks, both optional: init makes the state (from arg)
 * when the pipeline starts and again when the stage restarts; fini frees
 * it when the stage stops or before a restart. Without init the state
 * given when building is used as is and a restart keeps it. */
typedef int (*acto_stage_init_fn)(void *arg, void **state);
typedef void (*acto_stage_fini_fn)(void *state);

/* A stage's end-of-stream hook, optional: called once every writer has
 * ended, before the end is passed on, so a stage holding state (a sum, a
 * partial record, a count map) can emit it (a sink: finish it). Returns 0,
 * or a negative error for the error policy. */
typedef int (*acto_stage_flush_fn)(acto_emitter *out, void *state);

typedef enum acto_on_error {
    ACTO_ON_ERROR_FAIL = 0, /* fail the pipeline */
    ACTO_ON_ERROR_SKIP,     /* drop the item, count it, go on */
    ACTO_ON_ERROR_RETRY,    /* run it again after a backoff, up to
                               retries times; then as after_retries */
    ACTO_ON_ERROR_RESTART   /* quarantine the item, restart the state */
} acto_on_error;

typedef struct acto_stage_opts {
    const char *name;  /* for stats and errors; copied; default "stageN" */
    uint32_t capacity; /* mailbox bound; 0: 64 */
    acto_on_error on_error;
    uint32_t retries;            /* RETRY: further attempts; 0: 3 */
    uint32_t retry_backoff_ms;   /* first delay, doubled each time; 0: 10 */
    acto_on_error after_retries; /* FAIL, SKIP or RESTART */
    acto_stage_init_fn init;
    acto_stage_fini_fn fini;
    acto_stage_flush_fn flush;
} acto_stage_opts;

/* A skipped or quarantined item, as the error callback sees it. */
typedef struct acto_pipe_error {
    const char *stage;
    const acto_error *error; /* error->msg: the item, borrowed */
    acto_on_error action;    /* SKIP, RESTART (quarantined) or FAIL */
} acto_pipe_error;

typedef void (*acto_pipe_error_fn)(const acto_pipe_error *e, void *user);

/* What cancelling does with items already inside the pipeline. */
typedef enum acto_cancel_mode {
    ACTO_CANCEL_DROP = 0, /* stop every stage now; items left are dropped
                             and counted */
    ACTO_CANCEL_DRAIN     /* stop the source; items inside finish */
} acto_cancel_mode;

typedef struct acto_pipeline_opts {
    acto_pipe_error_fn on_error; /* skipped and quarantined items; NULL:
                                    counted only */
    void *user;
    acto_cancel_mode cancel;
} acto_pipeline_opts;

/* Counters of one stage. */
typedef struct acto_stage_stats {
    const char *name;
    uint64_t in;          /* items received (a source: items produced) */
    uint64_t out;         /* items passed on */
    uint64_t skipped;     /* dropped by SKIP */
    uint64_t quarantined; /* dropped by RESTART */
    uint64_t failed;      /* the item that failed the pipeline */
    uint64_t retried;     /* extra attempts */
    uint64_t restarts;    /* state restarts */
    uint64_t dropped;     /* items left inside when it stopped early */
} acto_stage_stats;

/* ---- building --------------------------------------------------------- */

/* acto_pipeline_new makes an empty pipeline. opts may be NULL. Returns 0
 * and sets *out; ACTO_EINVAL; ACTO_ENOMEM. Ownership: the caller's until
 * acto_pipeline_free. */
int acto_pipeline_new(acto_system *sys, const acto_pipeline_opts *opts,
                      acto_pipeline **out);

/* The builders add a stage reading from `from` (a source has none) and
 * set *out to it. A stage has one reader (a second gives ACTO_EBUSY),
 * except a broadcast, which copies every item to each of its readers.
 * A pipeline may have several sources and inputs, merged or not, and
 * several sinks. State and arg stay the caller's (or init's and fini's).
 * opts may be NULL. Returns 0; ACTO_EINVAL (a NULL function, a stage of
 * another pipeline, a sink as `from`, building after start); ACTO_EBUSY;
 * ACTO_ENOMEM. */
int acto_pipeline_source(acto_pipeline *p, acto_source_fn next, void *state,
                         const acto_stage_opts *opts, acto_stage **out);
int acto_pipeline_stage(acto_pipeline *p, acto_stage *from, acto_stage_fn fn,
                        void *state, const acto_stage_opts *opts,
                        acto_stage **out);
int acto_pipeline_sink(acto_pipeline *p, acto_stage *from, acto_sink_fn fn,
                       void *state, const acto_stage_opts *opts,
                       acto_stage **out);

/* acto_pipeline_input adds a source fed from outside the pipeline: other
 * actors send it items (acto_send), other threads too
 * (acto_send_threadsafe, which waits for room), and one ACTO_STREAM_EOS
 * ends it. acto_pipeline_ref gives its ref once the pipeline started. */
int acto_pipeline_input(acto_pipeline *p, const acto_stage_opts *opts,
                        acto_stage **out);

/* acto_pipeline_source_queue adds a source that takes its items from q
 * (an acto_queue of acto_msg pointers built with acto_msg_new_*, which
 * pass to the pipeline when taken); the queue's shutdown ends the stream
 * once it is empty (acto_queue_shutdown(q, false)). q must outlive the
 * pipeline. */
int acto_pipeline_source_queue(acto_pipeline *p, acto_queue *q,
                               const acto_stage_opts *opts, acto_stage **out);

/* acto_pipeline_source_file adds a source that streams a file (lines or
 * chunks, as <acto/file.h> says; fo->to is ignored) with demand-driven
 * reads: a file of any size costs a few buffers. A file error (missing,
 * unreadable, truncated while read, a line too long) fails the pipeline
 * with the file actor's error, whatever the stage's policy. */
int acto_pipeline_source_file(acto_pipeline *p, const char *path,
                              const acto_file_source_opts *fo,
                              const acto_stage_opts *opts, acto_stage **out);

/* acto_pipeline_sink_file adds a sink that writes the items' bytes to a
 * file with bounded buffering (<acto/file.h>); the pipeline is done once
 * the file was written, synced and closed (acto_pipeline_file_bytes then
 * says how many bytes). A write error (a full disk) fails the pipeline. */
int acto_pipeline_sink_file(acto_pipeline *p, acto_stage *from,
                            const char *path, const acto_file_sink_opts *fo,
                            const acto_stage_opts *opts, acto_stage **out);

/* acto_pipeline_file_bytes reads how many bytes a file stage read or
 * wrote, once the pipeline is over. Returns 0; ACTO_EINVAL (not a file
 * stage); ACTO_EPENDING (not finished). */
int acto_pipeline_file_bytes(const acto_stage *s, uint64_t *bytes);

/* acto_pipeline_merge adds a stage that passes on what n stages send it
 * (fan-in); it ends once all of them have. */
int acto_pipeline_merge(acto_pipeline *p, acto_stage *const *from, size_t n,
                        const acto_stage_opts *opts, acto_stage **out);

/* acto_pipeline_broadcast adds a stage that sends each item to every
 * stage reading from it (fan-out): copies to all but the last. Items must
 * carry bytes or msgpack (a pointer payload cannot be copied: it fails the
 * stage with ACTO_EINVAL). */
int acto_pipeline_broadcast(acto_pipeline *p, acto_stage *from,
                            const acto_stage_opts *opts, acto_stage **out);

/* How a pool picks the worker for an item. */
typedef enum acto_route {
    ACTO_ROUTE_ROUND_ROBIN = 0,
    ACTO_ROUTE_SHORTEST, /* the worker with the fewest items waiting */
    ACTO_ROUTE_KEY       /* by key: the same key, the same worker, so the
                            order per key is kept */
} acto_route;

/* The key of an item, for ACTO_ROUTE_KEY. */
typedef uint64_t (*acto_key_fn)(const acto_msg *item, void *user);

typedef struct acto_pool_opts {
    uint32_t workers; /* 0: 4 */
    acto_route route;
    acto_key_fn key; /* required with ACTO_ROUTE_KEY */
    void *key_user;
} acto_pool_opts;

/* acto_pipeline_pool adds N workers behind one stage, each running fn as
 * a stage does (each with its own state from init(arg), or sharing state
 * without init: they all run on the loop's thread). The error policy
 * applies per worker: a restart restarts that worker's state in place,
 * keeping its mailbox. The workers are supervised children of the pool:
 * a worker actor that is killed or fails is restarted (its mailbox is
 * lost, counted as dropped); past 10 restarts in a second the pipeline
 * fails. Its stats add up its workers'. */
int acto_pipeline_pool(acto_pipeline *p, acto_stage *from,
                       const acto_pool_opts *pool, acto_stage_fn fn,
                       void *state, const acto_stage_opts *opts,
                       acto_stage **out);

/* An async stage function starts the work for an item, which it borrows
 * (an ask to a service, a thread-pool job), and returns a future for it
 * in *out. The future's result, an acto_msg (an ask's reply is one), goes
 * on as the item once it completes. Returns 0, or a negative error for
 * the error policy. */
typedef int (*acto_async_fn)(void *state, const acto_msg *item,
                             acto_future **out);

typedef struct acto_async_opts {
    uint32_t max_in_flight; /* at most this many futures pending; 0: 16 */
    acto_semaphore *limit;  /* optional, may be shared by several stages:
                               each pending future holds one permit, and
                               items wait for permits in order */
} acto_async_opts;

/* acto_pipeline_async adds a stage with at most max_in_flight requests in
 * flight (and one permit of limit each), the seeds' "don't DDoS the
 * server": further items wait, in order, and the stage's mailbox then
 * fills, so backpressure reaches the source. Results go on in the order of
 * the items; a failed or cancelled future is an error for the policy (a
 * retry is not possible: the item went with the request). The stage ends
 * once every future is done. */
int acto_pipeline_async(acto_pipeline *p, acto_stage *from,
                        const acto_async_opts *async, acto_async_fn fn,
                        void *state, const acto_stage_opts *opts,
                        acto_stage **out);

/* acto_pipeline_batch groups items into one item of type ACTO_PIPE_BATCH
 * (a pointer payload: acto_pipe_batch_of reads it) of `count` items, or
 * fewer when window_ms passes after the first of a group (0: no window),
 * or at the end of the stream. count 0 with a window groups by time only. */
#define ACTO_PIPE_BATCH (ACTO_STREAM_BASE + 1u)
int acto_pipeline_batch(acto_pipeline *p, acto_stage *from, uint32_t count,
                        uint32_t window_ms, const acto_stage_opts *opts,
                        acto_stage **out);

/* The items of a batch, in arrival order, borrowed with the batch. */
typedef struct acto_pipe_batch {
    size_t n;
    acto_msg **items;
} acto_pipe_batch;

/* acto_pipe_batch_of returns a batch item's items, or NULL for another
 * item. */
const acto_pipe_batch *acto_pipe_batch_of(const acto_msg *m);

/* ---- running ---------------------------------------------------------- */

/* acto_pipeline_start spawns every stage (the running actor, if any,
 * becomes their parent) and starts the source. It needs a source and,
 * after every stage, a reader, ending in a sink. *done resolves with no
 * result (NULL) once the sink handled the end of the stream, fails with
 * the first error of a FAIL stage, or is cancelled. Returns 0; ACTO_EINVAL
 * (incomplete, or started already); ACTO_ENOMEM; a stage's init error.
 * Ownership: *done is one reference, the caller's. */
int acto_pipeline_start(acto_pipeline *p, acto_future **done);

/* acto_pipeline_cancel cancels a running pipeline as opts.cancel says;
 * every stage's fini runs; done is cancelled (after the items inside
 * finished, when draining). Returns 0; ACTO_EALREADY when it is over or
 * cancelling. */
int acto_pipeline_cancel(acto_pipeline *p);

/* acto_pipeline_ref returns a stage's actor while the pipeline runs (an
 * input's, to feed it), else ACTO_REF_NONE. */
acto_ref acto_pipeline_ref(const acto_stage *s);

/* acto_pipeline_worker returns the actor of a pool's i-th worker while
 * the pipeline runs (it changes when its supervisor restarts it), else
 * ACTO_REF_NONE. */
acto_ref acto_pipeline_worker(const acto_stage *pool, size_t i);

/* acto_pipeline_wake asks the sources that returned ACTO_PIPE_WAIT for
 * more (from a libuv callback, a queue's callback, anywhere on the loop
 * thread). Returns 0 (also when none was waiting); ACTO_EINVAL;
 * ACTO_ENOMEM. */
int acto_pipeline_wake(acto_pipeline *p);

/* acto_pipeline_stats copies a stage's counters (also after the end).
 * Returns 0; ACTO_EINVAL. */
int acto_pipeline_stats(const acto_pipeline *p, const acto_stage *s,
                        acto_stage_stats *out);

/* acto_pipeline_free frees a pipeline that is over (done resolved) or was
 * never started. Returns 0; ACTO_EBUSY while it runs (cancel it first and
 * run the loop until done resolves). */
int acto_pipeline_free(acto_pipeline *p);

#endif /* ACTO_PIPELINE_H */
