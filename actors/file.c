/* The file source: streams a file as lines or chunks, one read buffer at
 * a time.
 *
 * Demand. After the items of a buffer are sent, the source sends itself
 * ACTO__FILE_MSG_READ rather than reading on: if a send parked it on a
 * full receiver, it handles nothing, that message included, until the
 * receiver has taken the parked items. So at most one buffer's items are
 * in flight beyond the receiver's mailbox. */
#include "file_internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_CHUNK ((size_t)64 * 1024)
#define DEFAULT_MAX_LINE ((size_t)1024 * 1024)
#define MIN_PART 256

typedef enum stage {
    ST_INIT = 0, /* waiting for ACTO__FILE_MSG_OPEN */
    ST_OPENING,  /* open, then fstat, in flight */
    ST_IDLE,     /* between reads: waiting for ACTO__FILE_MSG_READ */
    ST_READING,  /* a read in flight */
    ST_DONE      /* EOS sent */
} stage;

typedef struct source {
    acto__file_io io; /* first: the state is freed through it */
    acto_file_source_opts o;
    stage stage;
    char *buf;   /* chunk_size bytes */
    size_t fill; /* CHUNKS: bytes of the chunk read so far */
    char *part;  /* LINES: the line read so far, without its end */
    size_t part_len;
    size_t part_cap;
    uint64_t offset; /* bytes read */
    uint64_t size;   /* of a regular file when opened */
    bool regular;
} source;

static void
source_free(acto__file_io *io)
{
    source *s = (source *)io;
    acto_free(s->buf, s->o.chunk_size);
    acto_free(s->part, s->part_cap);
    acto_free(s, sizeof(*s));
}

/* ---- items ------------------------------------------------------------ */

static int
send_item(acto_ctx *ctx, source *s, const char *p, size_t len)
{
    int rc = acto_tell(ctx, s->o.to, s->o.item_type, p, len);
    if (rc != 0) {
        return acto__file_fail(ctx, rc, acto_err_name(rc),
                               "send an item of %s: %s", s->io.path,
                               acto_strerror(rc));
    }
    return 0;
}

static int
too_long(acto_ctx *ctx, source *s)
{
    return acto__file_fail(
        ctx, UV_EMSGSIZE, "LineTooLong",
        "read %s: a line longer than %zu bytes before byte %llu", s->io.path,
        s->o.max_line, (unsigned long long)s->offset);
}

/* send_line sends one line without its '\r'. */
static int
send_line(acto_ctx *ctx, source *s, const char *p, size_t len)
{
    if (len > 0 && p[len - 1] == '\r') {
        len--;
    }
    if (len > s->o.max_line) {
        return too_long(ctx, s);
    }
    return send_item(ctx, s, p, len);
}

/* part_append adds n bytes to the partial line. It may grow to max_line
 * + 1 bytes: the line's '\r' may still be there. */
static int
part_append(acto_ctx *ctx, source *s, const char *p, size_t n)
{
    size_t need = s->part_len + n;
    if (need > s->o.max_line + 1) {
        return too_long(ctx, s);
    }
    if (need > s->part_cap) {
        size_t cap = s->part_cap > 0 ? s->part_cap : MIN_PART;
        while (cap < need) {
            cap *= 2;
        }
        if (cap > s->o.max_line + 1) {
            cap = s->o.max_line + 1;
        }
        char *np = acto_malloc(cap);
        if (np == NULL) {
            return acto__file_fail(ctx, ACTO_ENOMEM, "ACTO_ENOMEM",
                                   "read %s: out of memory for a line",
                                   s->io.path);
        }
        if (s->part_len > 0) {
            memcpy(np, s->part, s->part_len);
        }
        acto_free(s->part, s->part_cap);
        s->part = np;
        s->part_cap = cap;
    }
    if (n > 0) {
        memcpy(s->part + s->part_len, p, n);
    }
    s->part_len = need;
    return 0;
}

/* emit_lines sends the complete lines among n bytes just read and keeps
 * the rest as the partial line. */
static int
emit_lines(acto_ctx *ctx, source *s, const char *p, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        if (nl == NULL) {
            return part_append(ctx, s, p, n);
        }
        size_t seg = (size_t)(nl - p);
        int rc;
        if (s->part_len > 0) {
            rc = part_append(ctx, s, p, seg);
            if (rc == 0) {
                rc = send_line(ctx, s, s->part, s->part_len);
            }
            s->part_len = 0;
        } else {
            rc = send_line(ctx, s, p, seg);
        }
        if (rc != 0) {
            return rc;
        }
        p += seg + 1;
        n -= seg + 1;
    }
    return 0;
}

/* ---- reading ---------------------------------------------------------- */

static int
start_read(acto_ctx *ctx, source *s)
{
    if (!acto_alive(acto_ctx_system(ctx), s->o.to)) {
        return acto__file_fail(ctx, ACTO_ENOACTOR, "ReceiverGone",
                               "read %s: the receiver has stopped", s->io.path);
    }
    size_t at = s->o.mode == ACTO_FILE_CHUNKS ? s->fill : 0;
    /* Pipes and devices have no offsets: they read from where they are. */
    int64_t off = s->regular ? (int64_t)s->offset : -1;
    int rc =
        acto__file_read(ctx, &s->io, s->buf + at, s->o.chunk_size - at, off);
    if (rc != 0) {
        return acto__file_fail_uv(ctx, &s->io, rc, "read");
    }
    s->stage = ST_READING;
    return 0;
}

/* at_eof ends the stream: the last partial item, EOS, done, stop. */
static int
at_eof(acto_ctx *ctx, source *s)
{
    if (s->regular && s->offset < s->size) {
        return acto__file_fail(
            ctx, UV_EIO, "FileTruncated",
            "read %s: the file ended at byte %llu of the %llu it had "
            "when opened",
            s->io.path, (unsigned long long)s->offset,
            (unsigned long long)s->size);
    }
    int rc = 0;
    if (s->o.mode == ACTO_FILE_CHUNKS && s->fill > 0) {
        rc = send_item(ctx, s, s->buf, s->fill);
    } else if (s->o.mode == ACTO_FILE_LINES && s->part_len > 0) {
        rc = send_line(ctx, s, s->part, s->part_len);
    }
    if (rc != 0) {
        return rc;
    }
    rc = acto_stream_send_eos(ctx, s->o.to);
    if (rc != 0) {
        return acto__file_fail(ctx, rc, acto_err_name(rc),
                               "send the end of %s: %s", s->io.path,
                               acto_strerror(rc));
    }
    s->stage = ST_DONE;
    acto__file_finish(&s->io, s->offset);
    acto_stop(acto_ctx_system(ctx), acto_self(ctx));
    return 0;
}

/* on_read handles n > 0 bytes read, then asks itself for more. */
static int
on_read(acto_ctx *ctx, source *s, size_t n)
{
    s->offset += n;
    int rc;
    if (s->o.mode == ACTO_FILE_CHUNKS) {
        s->fill += n;
        rc = 0;
        if (s->fill == s->o.chunk_size) {
            s->fill = 0;
            rc = send_item(ctx, s, s->buf, s->o.chunk_size);
        }
    } else {
        rc = emit_lines(ctx, s, s->buf, n);
    }
    if (rc != 0) {
        return rc;
    }
    s->stage = ST_IDLE;
    rc = acto_tell(ctx, acto_self(ctx), ACTO__FILE_MSG_READ, NULL, 0);
    if (rc != 0) {
        return acto__file_fail(ctx, rc, acto_err_name(rc), "read %s: %s",
                               s->io.path, acto_strerror(rc));
    }
    return 0;
}

static int
on_stat(acto_ctx *ctx, source *s)
{
    const uv_stat_t *st = &s->io.stat;
    if (S_ISDIR(st->st_mode)) {
        return acto__file_fail(ctx, UV_EISDIR, "IsADirectory",
                               "open %s: is a directory", s->io.path);
    }
    s->regular = S_ISREG(st->st_mode);
    s->size = s->regular ? st->st_size : 0;
    return start_read(ctx, s);
}

/* on_io handles the end of the request in flight. */
static int
on_io(acto_ctx *ctx, source *s)
{
    acto__file_io *io = &s->io;
    if (io->result < 0) {
        return acto__file_fail_uv(ctx, io, (int)io->result,
                                  acto__file_op_name(io->ended));
    }
    switch (io->ended) {
    case ACTO__FILE_OPEN: {
        int rc = acto__file_fstat(ctx, io);
        return rc != 0 ? acto__file_fail_uv(ctx, io, rc, "fstat") : 0;
    }
    case ACTO__FILE_FSTAT:
        return on_stat(ctx, s);
    case ACTO__FILE_READ:
        return io->result == 0 ? at_eof(ctx, s)
                               : on_read(ctx, s, (size_t)io->result);
    default:
        return 0;
    }
}

/* ---- the actor -------------------------------------------------------- */

static int
source_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    source *s = state;
    bool own = acto_ref_eq(acto_sender(ctx), acto_self(ctx));
    switch (acto_msg_type(m)) {
    case ACTO__FILE_MSG_OPEN:
        if (own && s->stage == ST_INIT) {
            int rc = acto__file_open(ctx, &s->io, O_RDONLY | O_CLOEXEC, 0);
            if (rc != 0) {
                return acto__file_fail_uv(ctx, &s->io, rc, "open");
            }
            s->stage = ST_OPENING;
        }
        return 0;
    case ACTO__FILE_MSG_READ:
        return own && s->stage == ST_IDLE ? start_read(ctx, s) : 0;
    case ACTO__FILE_MSG_IO:
        return acto__file_ended(&s->io, m) ? on_io(ctx, s) : 0;
    default:
        return 0; /* a source takes no orders */
    }
}

static int
source_start(acto_ctx *ctx, void *state)
{
    (void)state;
    return acto_tell(ctx, acto_self(ctx), ACTO__FILE_MSG_OPEN, NULL, 0);
}

static void
source_stop(acto_ctx *ctx, void *state, const acto_exit_reason *reason)
{
    (void)ctx;
    source *s = state;
    acto__file_stop(&s->io, reason, "file source");
}

static const acto_behaviour source_b = {
    .receive = source_receive,
    .start = source_start,
    .stop = source_stop,
};

static bool
source_opts_ok(const acto_file_source_opts *o)
{
    return !acto_ref_is_none(o->to) &&
           (o->mode == ACTO_FILE_LINES || o->mode == ACTO_FILE_CHUNKS) &&
           o->item_type < ACTO_STREAM_BASE && o->max_line < SIZE_MAX;
}

int
acto_file_source_spawn(acto_system *sys, const char *path,
                       const acto_file_source_opts *opts, acto_ref *out,
                       acto_future **done)
{
    if (sys == NULL || path == NULL || opts == NULL || out == NULL ||
        !source_opts_ok(opts)) {
        return ACTO_EINVAL;
    }
    source *s = acto_calloc(1, sizeof(*s));
    if (s == NULL) {
        return ACTO_ENOMEM;
    }
    s->o = *opts;
    if (s->o.chunk_size == 0) {
        s->o.chunk_size = DEFAULT_CHUNK;
    }
    if (s->o.max_line == 0) {
        s->o.max_line = DEFAULT_MAX_LINE;
    }
    int rc = acto__file_io_init(&s->io, sys, path, done != NULL, source_free);
    if (rc != 0) {
        acto_free(s, sizeof(*s));
        return rc;
    }
    s->buf = acto_malloc(s->o.chunk_size);
    char label[256];
    snprintf(label, sizeof(label), "file-source %s", path);
    acto_spawn_opts so = {.label = label};
    rc = s->buf != NULL ? acto_spawn(sys, &source_b, s, &so, out) : ACTO_ENOMEM;
    if (rc != 0) {
        acto__file_io_fini(&s->io);
        source_free(&s->io);
        return rc;
    }
    if (done != NULL) {
        acto_future_retain(s->io.done);
        *done = s->io.done;
    }
    return 0;
}
