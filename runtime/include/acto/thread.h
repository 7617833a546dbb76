/* acto_to_thread: run blocking work on libuv's thread pool and get its
 * result as a future (asyncio.to_thread).
 *
 * The work runs through uv_queue_work on the system's loop, so it shares
 * libuv's pool (UV_THREADPOOL_SIZE threads, 4 by default) with file system
 * and DNS requests. Its outcome is delivered on the loop's thread by
 * completing the future.
 */
#ifndef ACTO_THREAD_H
#define ACTO_THREAD_H

#include <acto/future.h>
#include <acto/msg.h>
#include <acto/system.h>

/* Work for the pool. It runs on a pool thread, never the loop's, so it must
 * not call acto except for thread-safe calls (acto_send_threadsafe). It
 * returns its result, or sets *err to a negative code (*err is 0 on entry)
 * and returns NULL; a non-NULL result returned with an error is freed. */
typedef void *(*acto_thread_fn)(void *arg, int *err);

/* acto_to_thread runs fn(arg, &err) on libuv's thread pool and returns a
 * future for its outcome: done with fn's result (freed by
 * free_result(result, free_user) when the future is freed, unless taken
 * with acto_future_take_result; free_result may be NULL), or failed with
 * the error fn set (the future's error code; a positive one becomes
 * ACTO_EFAILED).
 *
 * Cancelling the future (acto_future_cancel) before fn has started takes
 * the work off the pool's queue (uv_cancel): fn never runs. Once fn has
 * started it runs to its end, and its result is freed with free_result
 * (the future stays cancelled). So a cancelled future does not mean fn is
 * over: free_arg(arg, free_user) is what tells that arg is no longer used.
 * Closing the system cancels the future as acto_future_cancel does; a
 * call whose fn has started still ends on the loop (its result freed,
 * free_arg called), so run the loop until it is quiet, as for any libuv
 * request, before uv_loop_close.
 *
 * Returns 0 and sets *out; ACTO_EINVAL for a NULL sys, fn or out;
 * ACTO_ENOMEM; ACTO_ECLOSED (the system is closing); or libuv's error.
 * On error fn never runs and nothing is freed.
 * Ownership: *out is one reference, the caller's (acto_future_release).
 * On 0 arg belongs to the work: free_arg (may be NULL) runs on the loop
 * thread once fn has returned or has been taken off the queue, after the
 * future is done.
 * Thread: the system's loop thread. */
int acto_to_thread(acto_system *sys, acto_thread_fn fn, void *arg,
                   acto_free_fn free_arg, acto_free_fn free_result,
                   void *free_user, acto_future **out);

#endif /* ACTO_THREAD_H */
