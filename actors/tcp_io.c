/* The socket side of a TCP connection: reading into messages with
 * backpressure, queued writes, closing (see tcp_internal.h).
 *
 * Reading. Every read lands in the shared read buffer and is copied once,
 * into the message that carries it (inline for small reads, so an echo of
 * small messages allocates nothing for them). When the actor's mailbox is
 * full the message waits for room (acto_system_send_wait) and reading
 * stops; the input not yet cut into frames is kept aside and delivered
 * first when room comes. */
#include "tcp_internal.h"

#include <string.h>

struct acto__tcp_wreq {
    uv_write_t req;
    acto__tcp_sock *s;
    acto__tcp_wreq *prev, *next;
    acto_msg *m;   /* the message whose bytes are written, or NULL */
    uint8_t *copy; /* or a copy of them */
    size_t copy_size;
    acto_future *done;
    size_t total;
    uint8_t hdr[ACTO_FRAME_HEADER];
};

/* ---- the socket's life ------------------------------------------------ */

acto__tcp_sock *
acto__tcp_sock_new(acto_tcp_conn *c, uv_loop_t *loop)
{
    acto__tcp_sock *s = acto_calloc(1, sizeof(*s));
    if (s == NULL) {
        return NULL;
    }
    if (uv_tcp_init(loop, &s->tcp) != 0) {
        acto_free(s, sizeof(*s));
        return NULL;
    }
    /* Small messages go out at once, as asyncio does by default. */
    (void)uv_tcp_nodelay(&s->tcp, 1);
    s->tcp.data = s;
    s->c = c;
    s->gen = ++c->gen;
    s->pending = 1;
    return s;
}

static void
sock_maybe_free(acto__tcp_sock *s)
{
    if (s->pending == 0) {
        acto_free(s->rest, s->rest_size);
        acto_free(s, sizeof(*s));
    }
}

static void
on_close(uv_handle_t *h)
{
    acto__tcp_sock *s = h->data;
    s->pending--;
    sock_maybe_free(s);
}

/* drop_write lets go of what a write holds, completing its future with
 * status. Only while the system lives (the socket is attached). */
static void
drop_write(acto__tcp_wreq *w, int status)
{
    if (w->done != NULL) {
        if (status == 0) {
            (void)acto_future_set_result(w->done, NULL, NULL, NULL);
        } else {
            (void)acto_future_set_error(w->done, status, NULL, "tcp write: %s",
                                        acto_strerror(status));
        }
        acto_future_release(w->done);
        w->done = NULL;
    }
    acto_msg_free(w->m);
    w->m = NULL;
    acto_free(w->copy, w->copy_size);
    w->copy = NULL;
}

void
acto__tcp_sock_close(acto__tcp_sock *s)
{
    acto_tcp_conn *c = s->c;
    if (c != NULL) {
        c->s = NULL;
        c->wq_bytes = 0;
    }
    s->c = NULL;
    if (!s->closing) {
        s->closing = true;
        uv_close((uv_handle_t *)&s->tcp, on_close);
    }
    /* Closed, the handle reads no buffer again: free them now, while the
     * system (which owns messages and futures) surely lives. */
    for (acto__tcp_wreq *w = s->writes; w != NULL; w = w->next) {
        drop_write(w, ACTO_ECANCELED);
    }
}

/* ---- reading ---------------------------------------------------------- */

static void
read_stop(acto__tcp_sock *s)
{
    if (s->reading) {
        uv_read_stop((uv_stream_t *)&s->tcp);
        s->reading = false;
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

int
acto__tcp_read_start(acto_tcp_conn *c)
{
    acto__tcp_sock *s = c->s;
    if (s == NULL || s->reading || s->waiting > 0 || s->read_done ||
        s->rest != NULL || s->connecting || c->paused || c->closing) {
        return 0;
    }
    int rc = uv_read_start((uv_stream_t *)&s->tcp, on_alloc, on_read);
    s->reading = rc == 0;
    return rc;
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    acto__tcp_sock *s = h->data;
    acto__tcp_shared *sh = s->c->sh;
    *buf = uv_buf_init((char *)sh->rbuf, (unsigned)sh->rbuf_size);
}

static void on_room(acto_system *sys, int status, void *user);

int
acto__tcp_deliver(acto_tcp_conn *c, acto_msg *m)
{
    acto__tcp_sock *s = c->s;
    acto_msg_set_correlation(m, s != NULL ? s->gen : c->gen);
    int rc = acto_system_send(c->sys, c->self, m);
    if (rc != ACTO_EQUEUEFULL || s == NULL) {
        if (rc != 0) {
            acto_msg_free(m);
        }
        return rc;
    }
    rc = acto_system_send_wait(c->sys, c->self, m, on_room, s);
    if (rc != 0) {
        acto_msg_free(m);
        return rc;
    }
    s->waiting++;
    s->pending++;
    c->sh->stats.read_pauses++;
    read_stop(s);
    return 1;
}

void
acto__tcp_send_err(acto_tcp_conn *c, int code)
{
    acto_msg *m = NULL;
    if (c->s != NULL) {
        c->s->read_done = true;
        read_stop(c->s);
    }
    if (acto_msg_new_bytes(c->sys, ACTO__TCP_MSG_ERR, &code, sizeof(code),
                           &m) != 0 ||
        acto__tcp_deliver(c, m) < 0) {
        /* Without memory for the notice, end the connection here. */
        c->why = ACTO__TCP_WHY_FAILED;
        acto__tcp_end(c, ACTO__TCP_WHY_FAILED);
    }
}

/* deliver_frame sends one frame. Returns as acto__tcp_deliver. */
static int
deliver_frame(acto_tcp_conn *c, const void *p, size_t n)
{
    acto_msg *m = NULL;
    int rc = acto_msg_new_bytes(c->sys, ACTO_TCP_DATA, p, n, &m);
    if (rc == 0) {
        c->rq_bytes += n;
        rc = acto__tcp_deliver(c, m);
        if (rc < 0) {
            c->rq_bytes -= n;
        }
    }
    return rc;
}

/* keep_rest keeps the n bytes at p, not yet delivered, until there is
 * room; p may already point into the kept input. */
static int
keep_rest(acto__tcp_sock *s, const uint8_t *p, size_t n, bool from_rest)
{
    if (from_rest) {
        s->rest_off = (size_t)(p - s->rest);
        return 0;
    }
    s->rest = acto_malloc(n);
    if (s->rest == NULL) {
        return ACTO_ENOMEM;
    }
    memcpy(s->rest, p, n);
    s->rest_size = n;
    s->rest_off = 0;
    return 0;
}

static void
drop_rest(acto__tcp_sock *s)
{
    acto_free(s->rest, s->rest_size);
    s->rest = NULL;
    s->rest_size = 0;
    s->rest_off = 0;
}

/* feed cuts n bytes at p into frames (one item without framing) and
 * delivers them; when the mailbox fills, the rest waits in s->rest.
 * from_rest says p points into s->rest. */
static void
feed(acto_tcp_conn *c, acto__tcp_sock *s, const uint8_t *p, size_t n,
     bool from_rest)
{
    int rc = 0;
    while (n > 0 && rc == 0) {
        const void *f = p;
        size_t used = n, flen = n;
        rc = 1;
        if (c->dec != NULL) {
            rc = acto_frame_next(c->dec, p, n, &used, &f, &flen);
        }
        p += used;
        n -= used;
        if (rc == 1) {
            rc = deliver_frame(c, f, flen);
        }
        if (rc == 1 && n > 0) {
            rc = keep_rest(s, p, n, from_rest);
            if (rc == 0) {
                return; /* on_room goes on from here */
            }
        }
    }
    if (rc < 0) {
        if (rc == UV_EMSGSIZE || rc == UV_EPROTO) {
            c->sh->stats.frame_errors++;
        }
        acto__tcp_send_err(c, rc);
    }
    if (from_rest) {
        drop_rest(s);
    }
}

static void
read_end(acto_tcp_conn *c, acto__tcp_sock *s, ssize_t err)
{
    s->read_done = true;
    read_stop(s);
    if (err == UV_EOF) {
        acto_msg *m = NULL;
        if (acto_msg_new_bytes(c->sys, ACTO_TCP_EOF, NULL, 0, &m) != 0 ||
            acto__tcp_deliver(c, m) < 0) {
            acto__tcp_end(c, ACTO__TCP_WHY_FAILED);
        }
        return;
    }
    acto__tcp_send_err(c, (int)err);
}

static void
on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    acto__tcp_sock *s = st->data;
    acto_tcp_conn *c = s->c;
    if (c == NULL || nread == 0) {
        return;
    }
    if (nread < 0) {
        read_end(c, s, nread);
        return;
    }
    c->sh->stats.bytes_in += (uint64_t)nread;
    feed(c, s, (const uint8_t *)buf->base, (size_t)nread, false);
    if (c->rq_bytes > c->sh->lim.max_read_bytes && s->reading) {
        c->paused = true;
        c->sh->stats.read_pauses++;
        read_stop(s);
    }
}

static void
on_room(acto_system *sys, int status, void *user)
{
    (void)sys;
    acto__tcp_sock *s = user;
    s->waiting--;
    s->pending--;
    acto_tcp_conn *c = s->c;
    if (c == NULL || status != 0) {
        drop_rest(s);
        sock_maybe_free(s);
        return;
    }
    if (s->rest != NULL && s->waiting == 0) {
        feed(c, s, s->rest + s->rest_off, s->rest_size - s->rest_off, true);
    }
    if (c->s == s && acto__tcp_read_start(c) != 0) {
        acto__tcp_send_err(c, UV_EIO);
    }
}

/* ---- writing ---------------------------------------------------------- */

static void
on_write(uv_write_t *req, int status)
{
    acto__tcp_wreq *w = req->data;
    acto__tcp_sock *s = w->s;
    if (w->prev != NULL) {
        w->prev->next = w->next;
    } else {
        s->writes = w->next;
    }
    if (w->next != NULL) {
        w->next->prev = w->prev;
    }
    acto_tcp_conn *c = s->c;
    if (c != NULL) {
        c->wq_bytes -= w->total;
        if (status == 0) {
            c->sh->stats.bytes_out += w->total;
        }
        drop_write(w, status);
    }
    acto_free(w, sizeof(*w));
    if (c == NULL) {
        return;
    }
    if (status < 0) {
        acto__tcp_end(c, ACTO__TCP_WHY_FAILED);
        return;
    }
    if (c->suspended && c->wq_bytes <= c->sh->lim.max_write_bytes / 2) {
        c->suspended = false;
        (void)acto_timer_cancel(c->sys, c->slow_timer);
        (void)acto_resume(c->sys, c->self);
    }
    if (c->closing && c->wq_bytes == 0) {
        acto__tcp_end(c, ACTO__TCP_WHY_NONE);
    }
}

/* fill_bufs lays out header, payload and trailer. Returns the count. */
static unsigned
fill_bufs(acto_tcp_conn *c, acto__tcp_wreq *w, const void *data, size_t len,
          size_t hlen, uv_buf_t *bufs)
{
    unsigned nb = 0;
    if (hlen > 0) {
        bufs[nb++] = uv_buf_init((char *)w->hdr, (unsigned)hlen);
    }
    if (len > 0) {
        bufs[nb++] = uv_buf_init((char *)data, (unsigned)len);
    }
    const char *t = acto_frame_trailer(c->sh->lim.framing);
    if (t[0] != '\0') {
        bufs[nb++] = uv_buf_init((char *)t, (unsigned)strlen(t));
    }
    return nb;
}

int
acto__tcp_write(acto_tcp_conn *c, const void *data, size_t len, acto_msg *m,
                acto_future *done)
{
    acto__tcp_sock *s = c->s;
    if (s == NULL || s->connecting || c->shut) {
        return ACTO_ECLOSED;
    }
    acto__tcp_wreq *w = acto_calloc(1, sizeof(*w));
    if (w == NULL) {
        return ACTO_ENOMEM;
    }
    size_t hlen = 0;
    int rc = acto_frame_header(c->sh->lim.framing, c->sh->lim.max_frame, len,
                               w->hdr, &hlen);
    if (rc == 0 && m == NULL && len > 0) {
        w->copy = acto_malloc(len);
        rc = w->copy == NULL ? ACTO_ENOMEM : 0;
        if (rc == 0) {
            memcpy(w->copy, data, len);
            w->copy_size = len;
            data = w->copy;
        }
    }
    uv_buf_t bufs[3];
    unsigned nb = fill_bufs(c, w, data, len, hlen, bufs);
    w->s = s;
    w->req.data = w;
    for (unsigned i = 0; i < nb; i++) {
        w->total += bufs[i].len;
    }
    if (rc == 0) {
        rc = uv_write(&w->req, (uv_stream_t *)&s->tcp, bufs, nb, on_write);
    }
    if (rc != 0) {
        acto_free(w->copy, w->copy_size);
        acto_free(w, sizeof(*w));
        return rc;
    }
    w->m = m;
    w->done = done;
    w->next = s->writes;
    if (s->writes != NULL) {
        s->writes->prev = w;
    }
    s->writes = w;
    c->wq_bytes += w->total;
    return 0;
}

/* ---- addresses -------------------------------------------------------- */

int
acto__tcp_addr(const char *host, uint16_t port, struct sockaddr_storage *out)
{
    if (host == NULL || strcmp(host, "localhost") == 0) {
        host = "127.0.0.1";
    }
    memset(out, 0, sizeof(*out));
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)out) == 0) {
        return 0;
    }
    if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)out) == 0) {
        return 0;
    }
    return ACTO_EINVAL;
}
