/* The world the TCP tests share: a plain libuv peer (connect, write,
 * read everything, half-close, reset), an echo handler for the server
 * side and loop runners. Included by test_tcp.c and test_tcp_client.c
 * (static helpers). */
#ifndef ACTO_TCP_WORLD_H
#define ACTO_TCP_WORLD_H

#define TCP_UNUSED __attribute__((unused))

#include "acto_test.h"

#include <acto/tcp.h>

#include <stdlib.h>
#include <string.h>

#define DEADLINE_MS 10000
#define BIG_BYTES ((size_t)1 << 20)

/* ---- a plain libuv peer ----------------------------------------------- */

typedef struct peer {
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_shutdown_t sreq;
    bool connected;
    int connect_status; /* 1 until the connect ends */
    char *buf;          /* everything read */
    size_t got, cap;
    bool eof;
    int read_err;
    bool closed;
    size_t written; /* bytes whose write completed */
} peer;

static void
peer_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    b->base = malloc(suggested);
    b->len = suggested;
}

static void
peer_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    peer *p = st->data;
    if (n > 0) {
        if (p->got + (size_t)n > p->cap) {
            p->cap = (p->got + (size_t)n) * 2;
            p->buf = realloc(p->buf, p->cap);
        }
        memcpy(p->buf + p->got, b->base, (size_t)n);
        p->got += (size_t)n;
    } else if (n == UV_EOF) {
        p->eof = true;
    } else if (n < 0) {
        p->read_err = (int)n;
    }
    free(b->base);
}

static void
peer_connected(uv_connect_t *req, int status)
{
    peer *p = req->handle->data;
    p->connect_status = status;
    p->connected = status == 0;
    if (status == 0) {
        uv_read_start((uv_stream_t *)&p->tcp, peer_alloc, peer_read);
    }
}

static TCP_UNUSED bool
peer_connect_ended(void *arg)
{
    return ((peer *)arg)->connect_status != 1;
}

/* peer_connect connects p to 127.0.0.1:port and reads from then on.
 * Returns the connect's status. */
static TCP_UNUSED int
peer_connect(uv_loop_t *loop, peer *p, uint16_t port)
{
    memset(p, 0, sizeof(*p));
    p->connect_status = 1;
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", port, &a);
    assert_int_equal(uv_tcp_init(loop, &p->tcp), 0);
    p->tcp.data = p;
    assert_int_equal(uv_tcp_connect(&p->creq, &p->tcp, (struct sockaddr *)&a,
                                    peer_connected),
                     0);
    assert_true(acto_test_run_until(loop, peer_connect_ended, p, DEADLINE_MS));
    return p->connect_status;
}

typedef struct peer_wreq {
    uv_write_t req;
    peer *p;
    size_t len;
    char data[];
} peer_wreq;

static void
peer_wrote(uv_write_t *req, int status)
{
    peer_wreq *w = (peer_wreq *)req;
    if (status == 0) {
        w->p->written += w->len;
    }
    free(w);
}

static TCP_UNUSED void
peer_write(peer *p, const void *data, size_t len)
{
    peer_wreq *w = malloc(sizeof(*w) + len);
    w->p = p;
    w->len = len;
    memcpy(w->data, data, len);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    assert_int_equal(
        uv_write(&w->req, (uv_stream_t *)&p->tcp, &b, 1, peer_wrote), 0);
}

static void
peer_shut(uv_shutdown_t *req, int status)
{
    (void)req;
    (void)status;
}

/* peer_shutdown half-closes: our FIN after the writes queued. */
static TCP_UNUSED void
peer_shutdown(peer *p)
{
    assert_int_equal(uv_shutdown(&p->sreq, (uv_stream_t *)&p->tcp, peer_shut),
                     0);
}

static void
peer_closed(uv_handle_t *h)
{
    peer *p = h->data;
    p->closed = true;
    free(p->buf);
    p->buf = NULL;
}

static TCP_UNUSED bool
peer_is_closed(void *arg)
{
    return ((peer *)arg)->closed;
}

/* peer_close closes p (with a reset when reset) and waits for it. */
static TCP_UNUSED void
peer_close(uv_loop_t *loop, peer *p, bool reset)
{
    if (reset) {
        assert_int_equal(uv_tcp_close_reset(&p->tcp, peer_closed), 0);
    } else {
        uv_close((uv_handle_t *)&p->tcp, peer_closed);
    }
    assert_true(acto_test_run_until(loop, peer_is_closed, p, DEADLINE_MS));
}

static TCP_UNUSED bool
peer_ended(void *arg)
{
    peer *p = arg;
    return p->eof || p->read_err != 0;
}

/* Waits until p has read at least want bytes. */
typedef struct peer_want {
    peer *p;
    size_t want;
} peer_want;

static TCP_UNUSED bool
peer_has(void *arg)
{
    peer_want *w = arg;
    return w->p->got >= w->want;
}

static TCP_UNUSED bool
peer_wait_bytes(uv_loop_t *loop, peer *p, size_t want)
{
    peer_want w = {p, want};
    return acto_test_run_until(loop, peer_has, &w, DEADLINE_MS);
}

/* ---- the echo handler ------------------------------------------------- */

/* Echoes every item; "big" is answered with BIG_BYTES of a pattern. */
static int
echo_receive(acto_ctx *ctx, acto_tcp_conn *c, void *state, const acto_msg *m)
{
    (void)state;
    if (acto_msg_type(m) != ACTO_TCP_DATA) {
        return 0;
    }
    size_t len = 0;
    const char *p = acto_msg_data(m, &len);
    if (len == 3 && memcmp(p, "big", 3) == 0) {
        char *big = malloc(BIG_BYTES);
        for (size_t i = 0; i < BIG_BYTES; i++) {
            big[i] = (char)('a' + i % 26);
        }
        int rc = acto_tcp_conn_write(c, big, BIG_BYTES, NULL);
        free(big);
        return rc;
    }
    return acto_tcp_conn_write_received(ctx, c, m, NULL);
}

static const acto_tcp_handler echo_handler = {.receive = echo_receive};

/* ---- the server ------------------------------------------------------- */

static TCP_UNUSED acto_ref
start_server(acto_system *sys, const acto_tcp_limits *lim,
             const acto_tcp_handler *h, uint16_t port, uint16_t *bound)
{
    acto_tcp_listen_opts o = {.handler = h != NULL ? h : &echo_handler,
                              .port = port};
    if (lim != NULL) {
        o.limits = *lim;
    }
    acto_ref l;
    assert_acto_ok(acto_tcp_listen(sys, &o, &l));
    if (bound != NULL) {
        assert_acto_ok(acto_tcp_listener_port(sys, l, bound));
    }
    return l;
}

static TCP_UNUSED acto_tcp_stats
stats_of(acto_system *sys, acto_ref r)
{
    acto_tcp_stats st;
    assert_acto_ok(acto_tcp_stats_of(sys, r, &st));
    return st;
}

typedef struct stat_wait {
    acto_system *sys;
    acto_ref ref;
    size_t offset; /* of the counter in acto_tcp_stats */
    uint64_t want;
} stat_wait;

static TCP_UNUSED bool
stat_reached(void *arg)
{
    stat_wait *w = arg;
    acto_tcp_stats st;
    if (acto_tcp_stats_of(w->sys, w->ref, &st) != 0) {
        return false;
    }
    uint64_t v;
    memcpy(&v, (const char *)&st + w->offset, sizeof(v));
    return v >= w->want;
}

/* Runs the loop until the counter field of ref's stats reaches want. */
#define wait_stat(env, sys, ref, field, n)                                     \
    acto_test_run_until(                                                       \
        &(env)->loop, stat_reached,                                            \
        &(stat_wait){(sys), (ref), offsetof(acto_tcp_stats, field), (n)},      \
        DEADLINE_MS)

typedef struct dead_wait {
    acto_system *sys;
    acto_ref ref;
} dead_wait;

static TCP_UNUSED bool
is_dead(void *arg)
{
    dead_wait *w = arg;
    return !acto_alive(w->sys, w->ref) &&
           acto_mailbox_count(w->sys, w->ref) == 0;
}

static TCP_UNUSED bool
wait_dead(acto_test_env *env, acto_system *sys, acto_ref r)
{
    dead_wait w = {sys, r};
    return acto_test_run_until(&env->loop, is_dead, &w, DEADLINE_MS);
}

/* stop_listener shuts the listener l down gracefully and waits until it
 * is gone. */
static TCP_UNUSED void
stop_listener(acto_test_env *env, acto_system *sys, acto_ref l)
{
    assert_acto_ok(acto_shutdown(sys, l));
    assert_true(wait_dead(env, sys, l));
}

#endif /* ACTO_TCP_WORLD_H */
