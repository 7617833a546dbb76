/* The connection actor: runs the user's handler over one socket, keeps
 * the limits (idle, write bound, slow reader) and counts how each
 * connection ended (see tcp.h and tcp_internal.h). */
#include "sigpipe.h"
#include "tcp_internal.h"

#include <string.h>

#define DEFAULT_MAX_CONNECTIONS 1024
#define DEFAULT_IDLE_MS 60000
#define DEFAULT_BUFFER_BYTES ((size_t)256 * 1024)
#define DEFAULT_SLOW_MS 10000
#define DEFAULT_MAILBOX 64
#define DEFAULT_SHUTDOWN_MS 5000
#define READ_BUFFER ((size_t)64 * 1024)

/* ---- shared state ----------------------------------------------------- */

static void
fill_defaults(acto_tcp_limits *l)
{
    l->max_connections =
        l->max_connections ? l->max_connections : DEFAULT_MAX_CONNECTIONS;
    l->idle_ms = l->idle_ms ? l->idle_ms : DEFAULT_IDLE_MS;
    l->max_read_bytes =
        l->max_read_bytes ? l->max_read_bytes : DEFAULT_BUFFER_BYTES;
    l->max_write_bytes =
        l->max_write_bytes ? l->max_write_bytes : DEFAULT_BUFFER_BYTES;
    l->slow_reader_ms = l->slow_reader_ms ? l->slow_reader_ms : DEFAULT_SLOW_MS;
    l->mailbox = l->mailbox ? l->mailbox : DEFAULT_MAILBOX;
    l->shutdown_ms = l->shutdown_ms ? l->shutdown_ms : DEFAULT_SHUTDOWN_MS;
    l->max_frame = l->max_frame ? l->max_frame : ACTO_FRAME_DEFAULT_MAX;
}

int
acto__tcp_shared_new(const acto_tcp_limits *lim, const acto_tcp_handler *h,
                     void *user, acto__tcp_shared **out)
{
    if (h == NULL || h->receive == NULL ||
        (unsigned)lim->framing > ACTO_FRAME_MSGPACK ||
        lim->max_frame > ACTO_FRAME_CEILING) {
        return ACTO_EINVAL;
    }
    acto__tcp_shared *sh = acto_calloc(1, sizeof(*sh));
    if (sh == NULL) {
        return ACTO_ENOMEM;
    }
    acto__sigpipe_ignore_default();
    sh->rbuf = acto_malloc(READ_BUFFER);
    if (sh->rbuf == NULL) {
        acto_free(sh, sizeof(*sh));
        return ACTO_ENOMEM;
    }
    sh->rbuf_size = READ_BUFFER;
    sh->refs = 1;
    sh->lim = *lim;
    fill_defaults(&sh->lim);
    sh->h = h;
    sh->user = user;
    *out = sh;
    return 0;
}

void
acto__tcp_shared_release(acto__tcp_shared *sh)
{
    if (sh != NULL && --sh->refs == 0) {
        acto_free(sh->rbuf, sh->rbuf_size);
        acto_free(sh, sizeof(*sh));
    }
}

acto_tcp_conn *
acto__tcp_conn_new(acto_system *sys, acto__tcp_shared *sh)
{
    acto_tcp_conn *c = acto_calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    if (sh->lim.framing != ACTO_FRAME_NONE &&
        acto_frame_decoder_alloc(sh->lim.framing, sh->lim.max_frame, &c->dec) !=
            0) {
        acto_free(c, sizeof(*c));
        return NULL;
    }
    c->sys = sys;
    c->sh = sh;
    sh->refs++;
    return c;
}

void
acto__tcp_conn_free(acto_tcp_conn *c)
{
    acto_frame_decoder_free(c->dec);
    acto__tcp_shared_release(c->sh);
    acto_free(c, sizeof(*c));
}

void
acto__tcp_spawn_opts(const acto__tcp_shared *sh, acto_spawn_opts *o)
{
    *o = (acto_spawn_opts){.label = "tcp.conn",
                           .capacity = sh->lim.mailbox,
                           .on_shutdown = ACTO_SHUTDOWN_NOTIFY};
}

/* ---- ending ----------------------------------------------------------- */

static void
on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    acto__tcp_sock *s = req->handle->data;
    acto_tcp_conn *c = s->c;
    if (c == NULL) {
        return;
    }
    if (c->cl != NULL) {
        acto__tcp_client_lost(c);
    } else {
        (void)acto_stop(c->sys, c->self);
    }
}

void
acto__tcp_end(acto_tcp_conn *c, acto__tcp_why why)
{
    if (why != ACTO__TCP_WHY_NONE && c->why == ACTO__TCP_WHY_NONE) {
        c->why = why;
    }
    acto__tcp_sock *s = c->s;
    if (why == ACTO__TCP_WHY_NONE && s != NULL && !c->shut) {
        /* Graceful: our FIN goes after the last write. */
        c->shut = true;
        if (uv_shutdown(&s->sreq, (uv_stream_t *)&s->tcp, on_shutdown) == 0) {
            return;
        }
    }
    if (c->cl != NULL) {
        acto__tcp_client_lost(c);
    } else {
        (void)acto_stop(c->sys, c->self);
    }
}

/* graceful stops reading and ends once the writes are done. */
static int
graceful(acto_tcp_conn *c)
{
    if (c->closing) {
        return ACTO_EALREADY;
    }
    c->closing = true;
    if (c->s != NULL && c->s->reading) {
        uv_read_stop((uv_stream_t *)&c->s->tcp);
        c->s->reading = false;
    }
    if (c->wq_bytes == 0) {
        acto__tcp_end(c, ACTO__TCP_WHY_NONE);
    }
    return 0;
}

static void
on_slow(acto_system *sys, void *user)
{
    (void)sys;
    acto_tcp_conn *c = user;
    c->slow_timer = 0;
    if (c->suspended) {
        acto__tcp_end(c, ACTO__TCP_WHY_SLOW);
    }
}

/* bound_writes suspends the actor while too much waits to be written, so
 * its mailbox fills and whoever writes to it parks. */
static void
bound_writes(acto_ctx *ctx, acto_tcp_conn *c)
{
    if (c->suspended || c->wq_bytes <= c->sh->lim.max_write_bytes ||
        acto_suspend(ctx) != 0) {
        return;
    }
    c->suspended = true;
    c->sh->stats.write_parks++;
    if (acto_call_after(c->sys, c->sh->lim.slow_reader_ms, on_slow, c,
                        &c->slow_timer) != 0) {
        c->slow_timer = 0;
    }
}

/* ---- the actor -------------------------------------------------------- */

static void
unlink_conn(acto_tcp_conn *c)
{
    acto__tcp_shared *sh = c->sh;
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        sh->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    sh->stats.active--;
}

/* start_failed fails the connection from its first turn: stopping inside
 * a start hook would leave the actor half-stopped. When even that cannot
 * be arranged, the spawn fails and its caller frees the state. */
static int
start_failed(acto_ctx *ctx, acto_tcp_conn *c, int rc)
{
    c->why = ACTO__TCP_WHY_FAILED;
    int trc =
        acto_tell(ctx, c->self, ACTO__TCP_MSG_START_FAILED, &rc, sizeof(rc));
    if (trc == 0) {
        return 0;
    }
    unlink_conn(c);
    if (c->opened && c->sh->h->close != NULL) {
        acto_exit_reason why = {.kind = ACTO_EXIT_FAILED};
        c->sh->h->close(ctx, c, c->state, &why);
    }
    return trc;
}

static int
conn_start(acto_ctx *ctx, void *state)
{
    acto_tcp_conn *c = state;
    acto__tcp_shared *sh = c->sh;
    c->self = acto_self(ctx);
    c->next = sh->conns;
    if (sh->conns != NULL) {
        sh->conns->prev = c;
    }
    sh->conns = c;
    sh->stats.active++;
    if (sh->lim.idle_ms != UINT32_MAX) {
        (void)acto_set_receive_timeout(ctx, sh->lim.idle_ms);
    }
    int rc = 0;
    if (sh->h->open != NULL) {
        rc = sh->h->open(ctx, c, sh->user, &c->state);
    }
    c->opened = rc == 0;
    if (rc == 0 && c->cl != NULL) {
        acto__tcp_client_connect(c); /* a failure is a failed attempt */
        return 0;
    }
    if (rc == 0) {
        rc = acto__tcp_read_start(c);
    }
    return rc == 0 ? 0 : start_failed(ctx, c, rc);
}

static const char *
err_type(int code)
{
    switch (code) {
    case UV_EMSGSIZE:
        return "FrameTooLarge";
    case UV_EPROTO:
        return "MalformedFrame";
    case UV_ECONNRESET:
        return "ConnectionReset";
    default:
        return "TCPError";
    }
}

static int
on_err(acto_ctx *ctx, acto_tcp_conn *c, const acto_msg *m)
{
    int code = UV_EIO;
    size_t len = 0;
    const void *p = acto_msg_data(m, &len);
    if (p != NULL && len == sizeof(code)) {
        memcpy(&code, p, sizeof(code));
    }
    c->why = ACTO__TCP_WHY_FAILED;
    if (c->cl != NULL) {
        acto__tcp_end(c, ACTO__TCP_WHY_FAILED);
        return 0;
    }
    return acto_fail(ctx, code, err_type(code), "tcp: %s", acto_strerror(code));
}

static int
on_start_failed(acto_ctx *ctx, const acto_msg *m)
{
    int code = UV_EIO;
    size_t len = 0;
    const void *p = acto_msg_data(m, &len);
    if (p != NULL && len == sizeof(code)) {
        memcpy(&code, p, sizeof(code));
    }
    return acto_fail(ctx, code, "OpenFailed",
                     "tcp: the connection could not start: %s",
                     acto_strerror(code));
}

static void
took_data(acto_tcp_conn *c, const acto_msg *m)
{
    size_t len = 0;
    (void)acto_msg_data(m, &len);
    c->rq_bytes -= len < c->rq_bytes ? len : c->rq_bytes;
    if (c->paused && c->rq_bytes <= c->sh->lim.max_read_bytes / 2) {
        c->paused = false;
        if (acto__tcp_read_start(c) != 0) {
            acto__tcp_send_err(c, UV_EIO);
        }
    }
}

/* A future-carrying write from acto_tcp_send. */
typedef struct send_req {
    acto_future *f;
    int status; /* what f fails with if it is never written */
    size_t len;
    size_t size;
    uint8_t data[];
} send_req;

static void
send_req_free(void *ptr, void *user)
{
    (void)user;
    send_req *r = ptr;
    if (r->f != NULL) {
        (void)acto_future_set_error(r->f, r->status, NULL, "tcp send: %s",
                                    acto_strerror(r->status));
        acto_future_release(r->f);
    }
    acto_free(r, r->size);
}

static int
on_write_msg(acto_ctx *ctx, acto_tcp_conn *c, const acto_msg *m)
{
    send_req *r = acto_msg_ptr(m);
    size_t len = 0;
    const void *data = r != NULL ? r->data : acto_msg_data(m, &len);
    len = r != NULL ? r->len : len;
    acto_future *f = r != NULL ? r->f : NULL;
    acto_msg *own = acto_take_msg(ctx);
    int rc = acto__tcp_write(c, data, len, own, f);
    if (rc == 0 && r != NULL) {
        r->f = NULL; /* the write completes it now */
    } else if (r != NULL) {
        r->status = rc;
    }
    if (rc != 0) {
        acto_msg_free(own);
    }
    return 0; /* a write that cannot happen fails its future, not us */
}

static int
conn_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    acto_tcp_conn *c = state;
    const acto_tcp_handler *h = c->sh->h;
    bool stale = acto_msg_correlation(m) != c->gen || c->s == NULL;
    int rc = 0;
    switch (acto_msg_type(m)) {
    case ACTO_TCP_DATA:
        took_data(c, m);
        rc = stale ? 0 : h->receive(ctx, c, c->state, m);
        break;
    case ACTO_TCP_EOF:
        if (!stale) {
            rc = h->receive(ctx, c, c->state, m);
            if (rc == 0 && !c->sh->lim.keep_open_on_eof) {
                (void)graceful(c);
            }
        }
        break;
    case ACTO__TCP_MSG_ERR:
        rc = stale ? 0 : on_err(ctx, c, m);
        break;
    case ACTO_TCP_WRITE:
        rc = on_write_msg(ctx, c, m);
        break;
    case ACTO_TCP_CLOSE:
    case ACTO_MSG_SHUTDOWN:
        c->final = true;
        (void)graceful(c);
        break;
    case ACTO_MSG_RECEIVE_TIMEOUT:
        if (c->wq_bytes == 0 && c->s != NULL && !c->s->connecting) {
            acto__tcp_end(c, ACTO__TCP_WHY_IDLE);
        }
        break;
    case ACTO__TCP_MSG_UP:
        rc = acto__tcp_client_msg(ctx, c, m);
        break;
    case ACTO__TCP_MSG_START_FAILED:
        rc = on_start_failed(ctx, m);
        break;
    default:
        rc = h->receive(ctx, c, c->state, m);
    }
    bound_writes(ctx, c);
    return rc;
}

void
acto__tcp_count_end(acto_tcp_conn *c, acto_exit_kind kind)
{
    acto_tcp_stats *st = &c->sh->stats;
    st->closed++;
    st->failed += kind == ACTO_EXIT_FAILED || c->why == ACTO__TCP_WHY_FAILED;
    st->idle_closed += c->why == ACTO__TCP_WHY_IDLE;
    st->slow_reader_cut += c->why == ACTO__TCP_WHY_SLOW;
    st->killed += kind == ACTO_EXIT_KILLED;
    c->why = ACTO__TCP_WHY_NONE;
}

static void
conn_stop(acto_ctx *ctx, void *state, const acto_exit_reason *why)
{
    acto_tcp_conn *c = state;
    acto__tcp_shared *sh = c->sh;
    (void)acto_timer_cancel(c->sys, c->slow_timer);
    unlink_conn(c);
    if (c->cl == NULL || c->s != NULL) {
        acto__tcp_count_end(c, why->kind);
    }
    if (c->opened && sh->h->close != NULL) {
        sh->h->close(ctx, c, c->state, why);
    }
    if (c->cl != NULL) {
        acto__tcp_client_stop(c);
    }
    if (c->s != NULL) {
        acto__tcp_sock_close(c->s);
    }
    acto__tcp_conn_free(c);
}

const acto_behaviour acto__tcp_conn_b = {
    .receive = conn_receive, .start = conn_start, .stop = conn_stop};

/* ---- the handler's API ------------------------------------------------ */

/* new_done makes the future for a write: one reference for the caller,
 * one for the write. */
static int
new_done(acto_system *sys, bool want, acto_future **f)
{
    *f = NULL;
    if (!want) {
        return 0;
    }
    int rc = acto_future_new(sys, f);
    if (rc == 0) {
        acto_future_retain(*f);
    }
    return rc;
}

static int
write_with(acto_tcp_conn *c, const void *data, size_t len, acto_msg *m,
           acto_future **done)
{
    if (c->closing) {
        return ACTO_ECLOSED;
    }
    acto_future *f;
    int rc = new_done(c->sys, done != NULL, &f);
    if (rc == 0) {
        rc = acto__tcp_write(c, data, len, m, f);
        if (rc != 0 && f != NULL) {
            acto_future_release(f);
            acto_future_release(f);
        }
    }
    if (rc == 0 && done != NULL) {
        *done = f;
    }
    return rc;
}

int
acto_tcp_conn_write(acto_tcp_conn *c, const void *data, size_t len,
                    acto_future **done)
{
    if (c == NULL || (data == NULL && len > 0)) {
        return ACTO_EINVAL;
    }
    return write_with(c, data, len, NULL, done);
}

int
acto_tcp_conn_write_msg(acto_tcp_conn *c, acto_msg *m, acto_future **done)
{
    size_t len = 0;
    const void *data = m != NULL ? acto_msg_data(m, &len) : NULL;
    if (c == NULL || data == NULL) {
        return ACTO_EINVAL;
    }
    return write_with(c, data, len, m, done);
}

int
acto_tcp_conn_write_received(acto_ctx *ctx, acto_tcp_conn *c, const acto_msg *m,
                             acto_future **done)
{
    if (ctx == NULL || c == NULL || m == NULL) {
        return ACTO_EINVAL;
    }
    acto_msg *own = acto_take_msg(ctx); /* m itself, when it may be taken */
    if (own == NULL) {
        size_t len = 0;
        const void *data = acto_msg_data(m, &len);
        return acto_tcp_conn_write(c, data, len, done);
    }
    int rc = acto_tcp_conn_write_msg(c, own, done);
    if (rc != 0) {
        acto_msg_free(own);
    }
    return rc;
}

int
acto_tcp_conn_close(acto_tcp_conn *c)
{
    if (c == NULL) {
        return ACTO_EINVAL;
    }
    c->final = true;
    return graceful(c);
}

acto_ref
acto_tcp_conn_ref(const acto_tcp_conn *c)
{
    return c != NULL ? c->self : ACTO_REF_NONE;
}

size_t
acto_tcp_conn_write_queue(const acto_tcp_conn *c)
{
    return c != NULL ? c->wq_bytes : 0;
}

int
acto_tcp_conn_peer(const acto_tcp_conn *c, char *buf, size_t size)
{
    if (c == NULL || buf == NULL || size == 0) {
        return ACTO_EINVAL;
    }
    if (c->s == NULL || c->s->connecting) {
        return ACTO_ECLOSED;
    }
    struct sockaddr_storage ss;
    int n = sizeof(ss);
    int rc = uv_tcp_getpeername(&c->s->tcp, (struct sockaddr *)&ss, &n);
    char ip[64];
    if (rc == 0) {
        rc = uv_ip_name((struct sockaddr *)&ss, ip, sizeof(ip));
    }
    if (rc == 0) {
        uint16_t port = ss.ss_family == AF_INET6
                            ? ((struct sockaddr_in6 *)&ss)->sin6_port
                            : ((struct sockaddr_in *)&ss)->sin_port;
        int w = snprintf(buf, size, "%s:%u", ip, (unsigned)ntohs(port));
        rc = w < 0 || (size_t)w >= size ? UV_ENOBUFS : 0;
    }
    return rc;
}

/* ---- from other actors ------------------------------------------------ */

static int
send_from(acto_system *sys, acto_ctx *ctx, acto_ref to, acto_msg *m)
{
    return ctx != NULL ? acto_send(ctx, to, m) : acto_system_send(sys, to, m);
}

/* new_send_req builds the write message of acto_tcp_send with a future
 * (*f: one reference for the caller, one held by the message). */
static int
new_send_req(acto_system *sys, const void *data, size_t len, acto_future **f,
             acto_msg **m)
{
    size_t size = sizeof(send_req) + len;
    send_req *r = acto_malloc(size);
    if (r == NULL) {
        return ACTO_ENOMEM;
    }
    *r = (send_req){.status = ACTO_ENOACTOR, .len = len, .size = size};
    if (len > 0) {
        memcpy(r->data, data, len);
    }
    int rc = new_done(sys, true, &r->f);
    if (rc == 0) {
        rc = acto_msg_new_ptr(sys, ACTO_TCP_WRITE, r, send_req_free, NULL, m);
        if (rc != 0) {
            acto_future_release(r->f);
            acto_future_release(r->f);
        }
    }
    if (rc != 0) {
        acto_free(r, size);
        return rc;
    }
    *f = r->f;
    return 0;
}

int
acto_tcp_send(acto_system *sys, acto_ctx *ctx, acto_ref conn, const void *data,
              size_t len, acto_future **done)
{
    if (sys == NULL || (data == NULL && len > 0)) {
        return ACTO_EINVAL;
    }
    acto_msg *m = NULL;
    acto_future *f = NULL;
    int rc = done == NULL
                 ? acto_msg_new_bytes(sys, ACTO_TCP_WRITE, data, len, &m)
                 : new_send_req(sys, data, len, &f, &m);
    if (rc == 0) {
        rc = send_from(sys, ctx, conn, m);
    }
    if (rc != 0 && m != NULL) {
        if (f != NULL) {
            /* Undo quietly: the caller gets the error, not a future. */
            send_req *r = acto_msg_ptr(m);
            acto_future_release(f);
            acto_future_release(f);
            r->f = NULL;
        }
        acto_msg_free(m);
    }
    if (rc == 0 && done != NULL) {
        *done = f;
    }
    return rc;
}

int
acto_tcp_close(acto_system *sys, acto_ctx *ctx, acto_ref conn)
{
    if (sys == NULL) {
        return ACTO_EINVAL;
    }
    acto_msg *m = NULL;
    int rc = acto_msg_new_bytes(sys, ACTO_TCP_CLOSE, NULL, 0, &m);
    if (rc == 0) {
        rc = send_from(sys, ctx, conn, m);
        if (rc != 0) {
            acto_msg_free(m);
        }
    }
    return rc;
}
