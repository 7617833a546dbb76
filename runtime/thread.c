/* acto_to_thread: blocking work on libuv's pool, its outcome as a future.
 *
 * One allocation per call holds the uv_work_t and everything the work and
 * its after-work callback need. It has two owners, each of which runs
 * exactly once: the after-work callback (which completes the future) and a
 * done callback on the future (which notices a cancel and takes the work
 * off the pool's queue while it has not started). The last of the two
 * frees it, so neither can see it freed under it, whichever order the
 * loop runs them in.
 */
#include <acto/error.h>
#include <acto/thread.h>

#include "alloc.h"

#include <stdbool.h>

typedef struct work {
    uv_work_t req;  /* req.data is unused: the work is found by offset */
    acto_future *f; /* our reference */
    acto_thread_fn fn;
    void *arg;
    acto_free_fn free_arg;
    acto_free_fn free_result;
    void *free_user;
    void *result; /* written by the pool thread, read after it */
    int err;
    int owners;    /* after-work and the done callback still to run */
    bool finished; /* the after-work callback has run */
} work;

static void
drop(work *w)
{
    if (--w->owners == 0) {
        acto_future_release(w->f);
        acto__free(w, sizeof(*w));
    }
}

/* Runs on a pool thread. libuv orders this before after_work (through its
 * queue's lock and the async wake-up), so result and err need no atomics. */
static void
run_work(uv_work_t *req)
{
    work *w = (work *)(void *)req;
    w->result = w->fn(w->arg, &w->err);
}

static void
free_result(work *w, void *result)
{
    if (result != NULL && w->free_result != NULL) {
        w->free_result(result, w->free_user);
    }
}

/* Completes the future with fn's outcome; frees the result when the
 * future cannot take it (it was cancelled while fn ran). */
static void
deliver(work *w)
{
    if (w->err != 0) {
        free_result(w, w->result);
        int rc = acto_future_set_error(w->f, w->err, NULL, "to_thread: %s",
                                       acto_strerror(w->err));
        if (rc == ACTO_ENOMEM) {
            /* The error cannot be recorded; the future must still end. */
            acto_future_cancel(w->f, NULL);
        }
        return;
    }
    if (acto_future_set_result(w->f, w->result, w->free_result, w->free_user) !=
        0) {
        free_result(w, w->result);
    }
}

/* Runs on the loop thread once fn returned or was taken off the queue
 * (status UV_ECANCELED: the future was cancelled already). */
static void
after_work(uv_work_t *req, int status)
{
    work *w = (work *)(void *)req;
    w->finished = true;
    if (status != UV_ECANCELED) {
        deliver(w);
    }
    if (w->free_arg != NULL) {
        w->free_arg(w->arg, w->free_user);
    }
    drop(w);
}

/* The future is done: by after_work, or by a cancel while the work is
 * queued or running. uv_cancel succeeds only while fn has not started;
 * otherwise (UV_EBUSY) fn runs to its end and after_work frees its result. */
static void
on_done(acto_future *f, void *user)
{
    (void)f;
    work *w = user;
    if (!w->finished) {
        uv_cancel((uv_req_t *)&w->req);
    }
    drop(w);
}

int
acto_to_thread(acto_system *sys, acto_thread_fn fn, void *arg,
               acto_free_fn free_arg, acto_free_fn free_result_fn,
               void *free_user, acto_future **out)
{
    if (sys == NULL || fn == NULL || out == NULL) {
        return ACTO_EINVAL;
    }
    work *w = acto__malloc(sizeof(*w));
    if (w == NULL) {
        return ACTO_ENOMEM;
    }
    *w = (work){.fn = fn,
                .arg = arg,
                .free_arg = free_arg,
                .free_result = free_result_fn,
                .free_user = free_user,
                .owners = 2};
    int rc = acto_future_new(sys, &w->f);
    if (rc == 0 && (rc = acto_future_add_done_cb(w->f, on_done, w)) != 0) {
        acto_future_release(w->f);
    }
    if (rc != 0) {
        acto__free(w, sizeof(*w));
        return rc;
    }
    rc = uv_queue_work(acto_system_loop(sys), &w->req, run_work, after_work);
    if (rc != 0) {
        /* Unreachable with libuv 1.44 (it fails only without a work
         * function). The callback cannot be removed without leaving the
         * future's callback reference behind, so the call is abandoned:
         * on_done frees it on the next futures phase, without freeing arg. */
        w->finished = true;
        w->owners = 1;
        acto_future_cancel(w->f, NULL);
        return rc;
    }
    acto_future_retain(w->f);
    *out = w->f;
    return 0;
}
