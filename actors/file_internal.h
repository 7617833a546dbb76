/* What the file source (file.c) and the file sink (file_sink.c) share: one
 * libuv fs request at a time, completed into the actor as a message.
 *
 * How a request completes. Each request gets a future that the actor is
 * notified of (acto_future_notify): the libuv callback only records the
 * result and completes the future, which delivers the notification on the
 * actor's system lane at once, so the result is handled in the actor's
 * turn, where it may send and fail. A suspended actor is resumed by the
 * callback; the system lane is taken before the mailbox, so the
 * completion is handled before any queued item.
 *
 * Lifetime. libuv owns a request's memory until its callback has run, so
 * an actor that stops with a request in flight leaves its state behind
 * ("orphaned"): the callback then closes the file, if open, and frees the
 * state. An orphan touches nothing of the system (which may be gone by
 * then), only the loop and the allocator. */
#ifndef ACTO_FILE_INTERNAL_H
#define ACTO_FILE_INTERNAL_H

#include <acto/file.h>

#include <stdarg.h>
#include <uv.h>

/* The file actors' own message types (see file.h). */
#define ACTO__FILE_MSG_IO (ACTO_STREAM_BASE + 0x40u)   /* a request ended */
#define ACTO__FILE_MSG_OPEN (ACTO_STREAM_BASE + 0x41u) /* open the file */
#define ACTO__FILE_MSG_READ (ACTO_STREAM_BASE + 0x42u) /* source: read on */

typedef enum acto__file_op {
    ACTO__FILE_NONE = 0,
    ACTO__FILE_OPEN,
    ACTO__FILE_FSTAT,
    ACTO__FILE_READ,
    ACTO__FILE_WRITE,
    ACTO__FILE_FSYNC,
    ACTO__FILE_CLOSE
} acto__file_op;

typedef struct acto__file_io acto__file_io;

/* Frees the actor's whole state (io is embedded in it). */
typedef void (*acto__file_free_fn)(acto__file_io *io);

struct acto__file_io {
    uv_fs_t req;
    uv_loop_t *loop;
    acto_system *sys;
    acto_ref self;
    acto_future *f;      /* the request's future, until its message */
    acto_future *done;   /* the actor's reference to done, or NULL */
    uint64_t *count;     /* done's result, allocated up front */
    char *path;          /* a copy */
    size_t path_size;    /* strlen + 1 */
    uv_file fd;          /* -1 when not open */
    acto__file_op op;    /* the request in flight, or NONE */
    acto__file_op ended; /* the request that ended last */
    ssize_t result;      /* its result */
    uv_stat_t stat;      /* the last fstat's */
    bool suspended;      /* acto_suspend'ed, waiting for the request */
    bool orphan;         /* the actor stopped; free once idle */
    acto__file_free_fn free_fn;
};

/* acto__file_io_init prepares io for path, with a done future when
 * want_done. Returns 0 or ACTO_ENOMEM (then io holds nothing). */
int acto__file_io_init(acto__file_io *io, acto_system *sys, const char *path,
                       bool want_done, acto__file_free_fn free_fn);

/* acto__file_io_fini frees what init allocated, for a spawn that failed
 * (the done future is dropped uncompleted). */
void acto__file_io_fini(acto__file_io *io);

/* acto__file_io_release frees path and count (the orphan's last step and
 * the owner's free function call it). */
void acto__file_io_release(acto__file_io *io);

/* Request starters: each begins one request, completed later as an
 * ACTO__FILE_MSG_IO message. Returns 0, ACTO_ENOMEM or a libuv error (then
 * nothing is in flight). Call only from the actor's handler or start hook
 * with no request in flight. */
int acto__file_open(acto_ctx *ctx, acto__file_io *io, int flags, int mode);
int acto__file_fstat(acto_ctx *ctx, acto__file_io *io);
int acto__file_read(acto_ctx *ctx, acto__file_io *io, char *buf, size_t len,
                    int64_t offset);
int acto__file_write(acto_ctx *ctx, acto__file_io *io, const char *buf,
                     size_t len);
int acto__file_fsync(acto_ctx *ctx, acto__file_io *io);
int acto__file_close(acto_ctx *ctx, acto__file_io *io);

/* acto__file_ended tells whether m is the completion of io's request in
 * flight (stale or forged messages are not); then io->ended and
 * io->result describe it. */
bool acto__file_ended(acto__file_io *io, const acto_msg *m);

/* acto__file_op_name names op for error texts ("read"). */
const char *acto__file_op_name(acto__file_op op);

/* acto__file_fail fails the running actor with code, type and a text
 * (formatted) that should name the path. Returns the code for the handler
 * to return. */
int acto__file_fail(acto_ctx *ctx, int code, const char *type, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));

/* acto__file_fail_uv fails the running actor with a libuv error of the
 * operation what on io's path, typed as file.h's table says. */
int acto__file_fail_uv(acto_ctx *ctx, acto__file_io *io, int err,
                       const char *what);

/* acto__file_finish completes done with bytes (when there is a done). */
void acto__file_finish(acto__file_io *io, uint64_t bytes);

/* acto__file_stop is the common part of the stop hooks: completes done
 * from the reason if still pending (the error, or a cancellation), then
 * closes the file and frees the state through free_fn, after the request
 * in flight if any. io must not be used after. */
void acto__file_stop(acto__file_io *io, const acto_exit_reason *reason,
                     const char *who);

#endif /* ACTO_FILE_INTERNAL_H */
