/* The file sink: appends the bytes of the items it receives to a file,
 * through two buffers.
 *
 * Buffers. Items are copied into the filling buffer; a full one is
 * written while the other fills. When the filling one is full too while a
 * write (or the open) is in flight, the sink suspends itself: it takes no
 * more messages, its bounded mailbox fills and its senders park, until
 * the request ends (the libuv callback resumes it). An item that did not
 * fit waits as the rest of that message (taken, not copied, when the
 * runtime allows). */
#include "file_internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_BUFFER ((size_t)64 * 1024)
#define DEFAULT_CAPACITY 64
#define DEFAULT_PERM 0644

typedef enum stage {
    ST_INIT = 0, /* waiting for ACTO__FILE_MSG_OPEN */
    ST_OPENING,  /* the open in flight */
    ST_OPEN,     /* taking items */
    ST_SYNCING,  /* after EOS and the last write: fsync in flight */
    ST_CLOSING,  /* close in flight */
    ST_DONE      /* closed; stopping */
} stage;

typedef struct sink {
    acto__file_io io; /* first: the state is freed through it */
    acto_file_sink_opts o;
    stage stage;
    bool eos;
    char *buf[2];
    size_t fill[2];
    int cur;     /* the buffer filling; the other is empty or being written */
    int widx;    /* the buffer being written */
    size_t woff; /* how much of it is written */
    /* The rest of an item that did not fit: hleft bytes at hp, owned
     * through held (a taken message) or hcopy; hnl: its newline is owed. */
    acto_msg *held;
    char *hcopy;
    size_t hcopy_size;
    const char *hp;
    size_t hleft;
    bool hnl;
    uint64_t written;
} sink;

static void
sink_free(acto__file_io *io)
{
    sink *k = (sink *)io;
    acto_free(k->buf[0], k->o.buffer_bytes);
    acto_free(k->buf[1], k->o.buffer_bytes);
    acto_free(k->hcopy, k->hcopy_size);
    acto_free(k, sizeof(*k));
}

/* drop_held lets go of the rest of an item (the system must be alive). */
static void
drop_held(sink *k)
{
    acto_msg_free(k->held);
    acto_free(k->hcopy, k->hcopy_size);
    k->held = NULL;
    k->hcopy = NULL;
    k->hcopy_size = 0;
    k->hp = NULL;
    k->hleft = 0;
    k->hnl = false;
}

/* ---- writing ---------------------------------------------------------- */

static bool
can_write(const sink *k)
{
    return k->stage == ST_OPEN && k->io.op == ACTO__FILE_NONE;
}

static int
write_rest(acto_ctx *ctx, sink *k)
{
    int rc = acto__file_write(ctx, &k->io, k->buf[k->widx] + k->woff,
                              k->fill[k->widx] - k->woff);
    return rc != 0 ? acto__file_fail_uv(ctx, &k->io, rc, "write") : 0;
}

/* rotate starts writing the filling buffer and fills the other (empty,
 * since no write is in flight). */
static int
rotate(acto_ctx *ctx, sink *k)
{
    k->widx = k->cur;
    k->woff = 0;
    k->cur ^= 1;
    return write_rest(ctx, k);
}

/* put copies as much of n bytes at *p as there is room for, writing full
 * buffers when it can; *p and *n say what is left. */
static int
put(acto_ctx *ctx, sink *k, const char **p, size_t *n)
{
    size_t cap = k->o.buffer_bytes;
    while (*n > 0) {
        if (k->fill[k->cur] == cap) {
            if (!can_write(k)) {
                return 0;
            }
            int rc = rotate(ctx, k);
            if (rc != 0) {
                return rc;
            }
        }
        size_t c = cap - k->fill[k->cur];
        c = c < *n ? c : *n;
        memcpy(k->buf[k->cur] + k->fill[k->cur], *p, c);
        k->fill[k->cur] += c;
        *p += c;
        *n -= c;
    }
    /* A buffer that is full goes out at once. */
    if (k->fill[k->cur] == cap && can_write(k)) {
        return rotate(ctx, k);
    }
    return 0;
}

/* feed puts the rest of the held item, then its newline. */
static int
feed(acto_ctx *ctx, sink *k)
{
    int rc = put(ctx, k, &k->hp, &k->hleft);
    if (rc != 0 || k->hleft > 0) {
        return rc;
    }
    if (k->hnl) {
        const char *nl = "\n";
        size_t one = 1;
        if ((rc = put(ctx, k, &nl, &one)) != 0 || one > 0) {
            return rc;
        }
    }
    drop_held(k);
    return 0;
}

static bool
holding(const sink *k)
{
    return k->hleft > 0 || k->hnl;
}

/* pause_if_full suspends the sink while both buffers are full and a request is
 * in flight; that request's callback resumes it. */
static void
pause_if_full(acto_ctx *ctx, sink *k)
{
    if (k->fill[k->cur] == k->o.buffer_bytes && k->io.op != ACTO__FILE_NONE &&
        !k->io.suspended && acto_suspend(ctx) == 0) {
        k->io.suspended = true;
    }
}

/* advance does what can be done now: write a full buffer, take in the
 * held item, and after EOS flush, fsync and close. */
static int
advance(acto_ctx *ctx, sink *k)
{
    int rc = 0;
    if (k->fill[k->cur] == k->o.buffer_bytes && can_write(k)) {
        rc = rotate(ctx, k);
    }
    if (rc == 0 && holding(k)) {
        rc = feed(ctx, k);
    }
    if (rc == 0 && k->eos && !holding(k) && can_write(k)) {
        if (k->fill[k->cur] > 0) {
            rc = rotate(ctx, k);
        } else {
            k->stage = ST_SYNCING;
            rc = acto__file_fsync(ctx, &k->io);
            if (rc != 0) {
                return acto__file_fail_uv(ctx, &k->io, rc, "fsync");
            }
        }
    }
    if (rc == 0) {
        pause_if_full(ctx, k);
    }
    return rc;
}

/* ---- messages --------------------------------------------------------- */

/* hold keeps the rest of the item m that did not fit. */
static int
hold(acto_ctx *ctx, sink *k)
{
    if (k->hleft == 0) {
        return 0; /* only its newline is owed: nothing to keep */
    }
    acto_msg *own = acto_take_msg(ctx);
    if (own != NULL) {
        k->held = own; /* hp points into it, unmoved */
        return 0;
    }
    /* The runtime keeps some messages (from other threads, asks): copy. */
    k->hcopy = acto_malloc(k->hleft);
    if (k->hcopy == NULL) {
        return acto__file_fail(ctx, ACTO_ENOMEM, "ACTO_ENOMEM",
                               "write %s: out of memory for an item",
                               k->io.path);
    }
    k->hcopy_size = k->hleft;
    memcpy(k->hcopy, k->hp, k->hleft);
    k->hp = k->hcopy;
    return 0;
}

static int
on_item(acto_ctx *ctx, sink *k, const acto_msg *m)
{
    if (k->eos) {
        return 0;
    }
    size_t len = 0;
    k->hp = acto_msg_data(m, &len);
    k->hleft = len;
    k->hnl = k->o.newline;
    int rc = feed(ctx, k);
    if (rc == 0 && holding(k)) {
        rc = hold(ctx, k);
    }
    if (rc == 0) {
        pause_if_full(ctx, k);
    }
    return rc;
}

static int
on_io(acto_ctx *ctx, sink *k)
{
    acto__file_io *io = &k->io;
    ssize_t r = io->result;
    if (r < 0 && !(io->ended == ACTO__FILE_FSYNC &&
                   (r == UV_EINVAL || r == UV_ENOTSUP))) {
        return acto__file_fail_uv(ctx, io, (int)r,
                                  acto__file_op_name(io->ended));
    }
    switch (io->ended) {
    case ACTO__FILE_OPEN:
        k->stage = ST_OPEN;
        break;
    case ACTO__FILE_WRITE:
        if (r == 0) {
            return acto__file_fail_uv(ctx, io, UV_EIO, "write");
        }
        k->written += (uint64_t)r;
        k->woff += (size_t)r;
        if (k->woff < k->fill[k->widx]) {
            return write_rest(ctx, k); /* a short write */
        }
        k->fill[k->widx] = 0;
        break;
    case ACTO__FILE_FSYNC: {
        k->stage = ST_CLOSING;
        int rc = acto__file_close(ctx, io);
        return rc != 0 ? acto__file_fail_uv(ctx, io, rc, "close") : 0;
    }
    case ACTO__FILE_CLOSE:
        k->stage = ST_DONE;
        acto__file_finish(io, k->written);
        acto_stop(acto_ctx_system(ctx), acto_self(ctx));
        return 0;
    default:
        return 0;
    }
    return advance(ctx, k);
}

static bool
is_item(const acto_msg *m)
{
    acto_payload_kind kind = acto_msg_kind(m);
    return acto_msg_type(m) < ACTO_STREAM_BASE &&
           (kind == ACTO_PAYLOAD_BYTES || kind == ACTO_PAYLOAD_MSGPACK);
}

static int
sink_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    sink *k = state;
    switch (acto_msg_type(m)) {
    case ACTO__FILE_MSG_OPEN: {
        if (k->stage != ST_INIT ||
            !acto_ref_eq(acto_sender(ctx), acto_self(ctx))) {
            return 0;
        }
        int flags =
            O_WRONLY | O_CREAT | O_CLOEXEC | (k->o.append ? O_APPEND : O_TRUNC);
        int rc = acto__file_open(ctx, &k->io, flags, (int)k->o.perm);
        if (rc != 0) {
            return acto__file_fail_uv(ctx, &k->io, rc, "open");
        }
        k->stage = ST_OPENING;
        return 0;
    }
    case ACTO__FILE_MSG_IO:
        return acto__file_ended(&k->io, m) ? on_io(ctx, k) : 0;
    case ACTO_STREAM_EOS:
        if (k->eos) {
            return 0;
        }
        k->eos = true;
        return advance(ctx, k);
    default:
        return is_item(m) ? on_item(ctx, k, m) : 0;
    }
}

static int
sink_start(acto_ctx *ctx, void *state)
{
    (void)state;
    return acto_tell(ctx, acto_self(ctx), ACTO__FILE_MSG_OPEN, NULL, 0);
}

static void
sink_stop(acto_ctx *ctx, void *state, const acto_exit_reason *reason)
{
    (void)ctx;
    sink *k = state;
    drop_held(k);
    acto__file_stop(&k->io, reason, "file sink");
}

static const acto_behaviour sink_b = {
    .receive = sink_receive,
    .start = sink_start,
    .stop = sink_stop,
};

int
acto_file_sink_spawn(acto_system *sys, const char *path,
                     const acto_file_sink_opts *opts, acto_ref *out,
                     acto_future **done)
{
    if (sys == NULL || path == NULL || out == NULL) {
        return ACTO_EINVAL;
    }
    sink *k = acto_calloc(1, sizeof(*k));
    if (k == NULL) {
        return ACTO_ENOMEM;
    }
    if (opts != NULL) {
        k->o = *opts;
    }
    if (k->o.buffer_bytes == 0) {
        k->o.buffer_bytes = DEFAULT_BUFFER;
    }
    if (k->o.capacity == 0) {
        k->o.capacity = DEFAULT_CAPACITY;
    }
    if (k->o.perm == 0) {
        k->o.perm = DEFAULT_PERM;
    }
    int rc = acto__file_io_init(&k->io, sys, path, done != NULL, sink_free);
    if (rc != 0) {
        acto_free(k, sizeof(*k));
        return rc;
    }
    k->buf[0] = acto_malloc(k->o.buffer_bytes);
    k->buf[1] = acto_malloc(k->o.buffer_bytes);
    char label[256];
    snprintf(label, sizeof(label), "file-sink %s", path);
    acto_spawn_opts so = {.label = label, .capacity = k->o.capacity};
    rc = k->buf[0] != NULL && k->buf[1] != NULL
             ? acto_spawn(sys, &sink_b, k, &so, out)
             : ACTO_ENOMEM;
    if (rc != 0) {
        acto__file_io_fini(&k->io);
        sink_free(&k->io);
        return rc;
    }
    if (done != NULL) {
        acto_future_retain(k->io.done);
        *done = k->io.done;
    }
    return 0;
}
