/* The file actors' shared machinery: one libuv fs request at a time,
 * completed into the actor as a message; errors named as file.h says; the
 * done future; orphaned state after a stop (see file_internal.h). */
#include "file_internal.h"

#include <stdio.h>
#include <string.h>

/* ---- done ------------------------------------------------------------- */

static void
free_count(void *ptr, void *user)
{
    (void)user;
    acto_free(ptr, sizeof(uint64_t));
}

int
acto_file_done_bytes(acto_future *done, uint64_t *bytes)
{
    if (done == NULL) {
        return ACTO_EINVAL;
    }
    void *v = NULL;
    int rc = acto_future_result(done, &v);
    if (rc == 0 && bytes != NULL) {
        *bytes = v != NULL ? *(const uint64_t *)v : 0;
    }
    return rc;
}

void
acto__file_finish(acto__file_io *io, uint64_t bytes)
{
    if (io->done == NULL || io->count == NULL) {
        return;
    }
    *io->count = bytes;
    if (acto_future_set_result(io->done, io->count, free_count, NULL) == 0) {
        io->count = NULL; /* the future's now */
    }
}

/* ---- set-up and teardown ---------------------------------------------- */

int
acto__file_io_init(acto__file_io *io, acto_system *sys, const char *path,
                   bool want_done, acto__file_free_fn free_fn)
{
    memset(io, 0, sizeof(*io));
    io->sys = sys;
    io->loop = acto_system_loop(sys);
    io->fd = -1;
    io->free_fn = free_fn;
    io->path_size = strlen(path) + 1;
    io->path = acto_malloc(io->path_size);
    if (io->path == NULL) {
        return ACTO_ENOMEM;
    }
    memcpy(io->path, path, io->path_size);
    if (!want_done) {
        return 0;
    }
    io->count = acto_malloc(sizeof(*io->count));
    int rc = io->count != NULL ? acto_future_new(sys, &io->done) : ACTO_ENOMEM;
    if (rc != 0) {
        acto__file_io_fini(io);
    }
    return rc;
}

void
acto__file_io_release(acto__file_io *io)
{
    acto_free(io->path, io->path_size);
    acto_free(io->count, sizeof(*io->count));
    io->path = NULL;
    io->count = NULL;
}

void
acto__file_io_fini(acto__file_io *io)
{
    acto_future_release(io->done);
    io->done = NULL;
    acto__file_io_release(io);
}

/* ---- requests --------------------------------------------------------- */

/* The most one read or write asks for (libuv's lengths are unsigned int);
 * callers handle short reads and writes anyway. */
#define MAX_IO ((size_t)1 << 30)

static void orphan_step(acto__file_io *io);

/* on_fs records how the request ended and hands it to the actor. It runs
 * on the loop, outside any handler. */
static void
on_fs(uv_fs_t *req)
{
    acto__file_io *io = req->data;
    io->ended = io->op;
    io->op = ACTO__FILE_NONE;
    io->result = req->result;
    if (io->ended == ACTO__FILE_OPEN && req->result >= 0) {
        io->fd = (uv_file)req->result;
    } else if (io->ended == ACTO__FILE_CLOSE) {
        io->fd = -1; /* closed even on error, as Linux does */
    } else if (io->ended == ACTO__FILE_FSTAT && req->result == 0) {
        io->stat = req->statbuf;
    }
    uv_fs_req_cleanup(req);
    if (io->orphan) {
        orphan_step(io);
        return;
    }
    /* Delivers the notification at once, on the system lane. */
    acto_future_set_result(io->f, NULL, NULL, NULL);
    if (io->suspended) {
        io->suspended = false;
        acto_resume(io->sys, io->self);
    }
}

/* begin gives the request a future the actor is notified of. */
static int
begin(acto_ctx *ctx, acto__file_io *io, acto__file_op op)
{
    acto_future *f;
    int rc = acto_future_new(io->sys, &f);
    if (rc != 0) {
        return rc;
    }
    rc = acto_future_notify(ctx, f, ACTO__FILE_MSG_IO);
    if (rc != 0) {
        acto_future_release(f);
        return rc;
    }
    io->f = f;
    io->self = acto_self(ctx);
    io->op = op;
    io->req.data = io;
    return 0;
}

/* issued finishes a start: a request libuv refused never completes, so its
 * future is cancelled (its stale notification is ignored). */
static int
issued(acto__file_io *io, int rc)
{
    if (rc >= 0) {
        return 0;
    }
    io->op = ACTO__FILE_NONE;
    acto_future_cancel(io->f, NULL);
    acto_future_release(io->f);
    io->f = NULL;
    return rc;
}

int
acto__file_open(acto_ctx *ctx, acto__file_io *io, int flags, int mode)
{
    int rc = begin(ctx, io, ACTO__FILE_OPEN);
    if (rc != 0) {
        return rc;
    }
    return issued(io,
                  uv_fs_open(io->loop, &io->req, io->path, flags, mode, on_fs));
}

int
acto__file_fstat(acto_ctx *ctx, acto__file_io *io)
{
    int rc = begin(ctx, io, ACTO__FILE_FSTAT);
    if (rc != 0) {
        return rc;
    }
    return issued(io, uv_fs_fstat(io->loop, &io->req, io->fd, on_fs));
}

int
acto__file_read(acto_ctx *ctx, acto__file_io *io, char *buf, size_t len,
                int64_t offset)
{
    int rc = begin(ctx, io, ACTO__FILE_READ);
    if (rc != 0) {
        return rc;
    }
    uv_buf_t b = uv_buf_init(buf, (unsigned)(len < MAX_IO ? len : MAX_IO));
    return issued(io,
                  uv_fs_read(io->loop, &io->req, io->fd, &b, 1, offset, on_fs));
}

int
acto__file_write(acto_ctx *ctx, acto__file_io *io, const char *buf, size_t len)
{
    int rc = begin(ctx, io, ACTO__FILE_WRITE);
    if (rc != 0) {
        return rc;
    }
    /* libuv's buffer type is not const; it only reads from it here. */
    uv_buf_t b = uv_buf_init((char *)(uintptr_t)buf,
                             (unsigned)(len < MAX_IO ? len : MAX_IO));
    return issued(io,
                  uv_fs_write(io->loop, &io->req, io->fd, &b, 1, -1, on_fs));
}

int
acto__file_fsync(acto_ctx *ctx, acto__file_io *io)
{
    int rc = begin(ctx, io, ACTO__FILE_FSYNC);
    if (rc != 0) {
        return rc;
    }
    return issued(io, uv_fs_fsync(io->loop, &io->req, io->fd, on_fs));
}

int
acto__file_close(acto_ctx *ctx, acto__file_io *io)
{
    int rc = begin(ctx, io, ACTO__FILE_CLOSE);
    if (rc != 0) {
        return rc;
    }
    return issued(io, uv_fs_close(io->loop, &io->req, io->fd, on_fs));
}

bool
acto__file_ended(acto__file_io *io, const acto_msg *m)
{
    acto_future *f = acto_msg_future(m);
    if (f == NULL || f != io->f || io->op != ACTO__FILE_NONE) {
        return false;
    }
    acto_future_release(io->f);
    io->f = NULL;
    return true;
}

/* ---- errors ----------------------------------------------------------- */

int
acto__file_fail(acto_ctx *ctx, int code, const char *type, const char *fmt, ...)
{
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    return acto_fail(ctx, code, type, "%s", text);
}

const char *
acto__file_op_name(acto__file_op op)
{
    switch (op) {
    case ACTO__FILE_OPEN:
        return "open";
    case ACTO__FILE_FSTAT:
        return "fstat";
    case ACTO__FILE_READ:
        return "read";
    case ACTO__FILE_WRITE:
        return "write";
    case ACTO__FILE_FSYNC:
        return "fsync";
    case ACTO__FILE_CLOSE:
        return "close";
    default:
        return "use";
    }
}

static const char *
uv_type(int err)
{
    switch (err) {
    case UV_ENOENT:
        return "FileNotFound";
    case UV_EACCES:
    case UV_EPERM:
        return "PermissionDenied";
    case UV_EISDIR:
        return "IsADirectory";
    case UV_ENOSPC:
#ifdef UV_EDQUOT
    case UV_EDQUOT:
#endif
        return "DiskFull";
    default:
        /* acto's own codes (out of memory) keep their names. */
        return err <= ACTO_EINVAL ? acto_err_name(err) : "IOError";
    }
}

int
acto__file_fail_uv(acto_ctx *ctx, acto__file_io *io, int err, const char *what)
{
    return acto__file_fail(ctx, err, uv_type(err), "%s %s: %s", what, io->path,
                           acto_strerror(err));
}

/* ---- stopping --------------------------------------------------------- */

static void
orphan_free(acto__file_io *io)
{
    acto__file_io_release(io);
    io->free_fn(io);
}

/* orphan_step closes the file of a stopped actor once no request is in
 * flight, then frees its state. */
static void
orphan_step(acto__file_io *io)
{
    if (io->fd < 0) {
        orphan_free(io);
        return;
    }
    io->op = ACTO__FILE_CLOSE;
    io->req.data = io;
    if (uv_fs_close(io->loop, &io->req, io->fd, on_fs) < 0) {
        io->op = ACTO__FILE_NONE;
        orphan_free(io);
    }
}

void
acto__file_stop(acto__file_io *io, const acto_exit_reason *reason,
                const char *who)
{
    if (io->f != NULL) {
        acto_future_cancel(io->f, NULL);
        acto_future_release(io->f);
        io->f = NULL;
    }
    if (io->done != NULL && !acto_future_done(io->done)) {
        if (reason->kind != ACTO_EXIT_FAILED || reason->error == NULL ||
            acto_future_set_exception(io->done, reason->error) != 0) {
            char text[256];
            snprintf(text, sizeof(text), "%s %s stopped before the end", who,
                     io->path);
            acto_future_cancel(io->done, text);
        }
    }
    acto_future_release(io->done);
    io->done = NULL;
    /* From here on nothing of the system is touched: it may be gone when
     * the request in flight ends. */
    io->sys = NULL;
    io->orphan = true;
    if (io->op == ACTO__FILE_NONE) {
        orphan_step(io);
    }
}
