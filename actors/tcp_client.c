/* The TCP client: a connection actor whose socket it makes itself, with a
 * connect timeout and reconnects behind a doubling backoff (see tcp.h).
 *
 * The actor outlives its sockets: each connect makes a new one, numbered,
 * and messages read from an older socket are recognised by that number
 * (their correlation id) and dropped. */
#include "tcp_internal.h"

#include <string.h>

struct acto__tcp_client {
    struct sockaddr_storage addr;
    uint32_t timeout_ms;
    uint32_t retry_min;
    uint32_t retry_max;
    uint32_t max_attempts;
    bool reconnect;
    uint32_t failures; /* consecutive failed attempts */
    uint32_t delay;    /* the next backoff */
    uint64_t timer;    /* the connect timeout or the retry */
    bool up;           /* connected (CONNECTED was sent) */
};

static void on_connect(uv_connect_t *req, int status);
static void on_timeout(acto_system *sys, void *user);

static void attempt_failed(acto_tcp_conn *c, int err);

static int
try_connect(acto_tcp_conn *c)
{
    acto__tcp_client *cl = c->cl;
    acto__tcp_sock *s = acto__tcp_sock_new(c, acto_system_loop(c->sys));
    if (s == NULL) {
        return ACTO_ENOMEM;
    }
    c->s = s;
    s->connecting = true;
    int rc = uv_tcp_connect(&s->creq, &s->tcp,
                            (const struct sockaddr *)&cl->addr, on_connect);
    if (rc == 0) {
        rc = acto_call_after(c->sys, cl->timeout_ms, on_timeout, c, &cl->timer);
    }
    if (rc != 0) {
        acto__tcp_sock_close(s);
    }
    return rc;
}

void
acto__tcp_client_connect(acto_tcp_conn *c)
{
    int rc = try_connect(c);
    if (rc != 0) {
        attempt_failed(c, rc);
    }
}

/* notify sends the actor a client event from outside its handler: a
 * timer message waits for room in a full mailbox rather than fail. */
static void
notify(acto_tcp_conn *c, uint32_t type, int code)
{
    acto_msg *m = NULL;
    if (acto_msg_new_bytes(c->sys, type, &code, sizeof(code), &m) == 0 &&
        acto_send_after(c->sys, 0, c->self, m, NULL) != 0) {
        acto_msg_free(m);
        (void)acto_kill(c->sys, c->self);
    } else if (m == NULL) {
        (void)acto_kill(c->sys, c->self);
    }
}

static void on_retry(acto_system *sys, void *user);

static void
attempt_failed(acto_tcp_conn *c, int err)
{
    acto__tcp_client *cl = c->cl;
    c->sh->stats.connect_failures++;
    cl->failures++;
    if (c->s != NULL) {
        acto__tcp_sock_close(c->s);
    }
    if (c->final) {
        (void)acto_stop(c->sys, c->self);
        return;
    }
    if (cl->max_attempts != 0 && cl->failures >= cl->max_attempts) {
        notify(c, ACTO__TCP_MSG_UP, err);
        return;
    }
    if (acto_call_after(c->sys, cl->delay, on_retry, c, &cl->timer) != 0) {
        notify(c, ACTO__TCP_MSG_UP, ACTO_ENOMEM);
        return;
    }
    cl->delay = cl->delay * 2 > cl->retry_max ? cl->retry_max : cl->delay * 2;
}

static void
on_retry(acto_system *sys, void *user)
{
    (void)sys;
    acto_tcp_conn *c = user;
    c->cl->timer = 0;
    acto__tcp_client_connect(c);
}

static void
on_timeout(acto_system *sys, void *user)
{
    (void)sys;
    acto_tcp_conn *c = user;
    c->cl->timer = 0;
    if (c->s != NULL && c->s->connecting) {
        attempt_failed(c, UV_ETIMEDOUT);
    }
}

/* reset readies the connection's state for a new socket. */
static int
reset(acto_tcp_conn *c)
{
    c->closing = c->shut = c->paused = false;
    c->rq_bytes = 0;
    c->why = ACTO__TCP_WHY_NONE;
    if (c->dec != NULL) {
        acto_frame_decoder_free(c->dec);
        c->dec = NULL;
        return acto_frame_decoder_alloc(c->sh->lim.framing,
                                        c->sh->lim.max_frame, &c->dec);
    }
    return 0;
}

static void
on_connect(uv_connect_t *req, int status)
{
    acto__tcp_sock *s = req->handle->data;
    s->connecting = false;
    acto_tcp_conn *c = s->c;
    if (c == NULL) {
        return;
    }
    acto__tcp_client *cl = c->cl;
    (void)acto_timer_cancel(c->sys, cl->timer);
    cl->timer = 0;
    acto_msg *m = NULL;
    if (status == 0) {
        status = reset(c);
    }
    if (status == 0) {
        status = acto_msg_new_bytes(c->sys, ACTO_TCP_CONNECTED, NULL, 0, &m);
    }
    if (status != 0) {
        attempt_failed(c, status);
        return;
    }
    c->sh->stats.connects++;
    cl->failures = 0;
    cl->delay = cl->retry_min;
    cl->up = true;
    if (acto__tcp_deliver(c, m) < 0 || acto__tcp_read_start(c) != 0) {
        acto__tcp_end(c, ACTO__TCP_WHY_FAILED);
    }
}

void
acto__tcp_client_lost(acto_tcp_conn *c)
{
    acto__tcp_client *cl = c->cl;
    if (c->s != NULL) {
        acto__tcp_count_end(c, ACTO_EXIT_NORMAL);
        acto__tcp_sock_close(c->s);
    }
    if (c->suspended) {
        c->suspended = false;
        (void)acto_timer_cancel(c->sys, c->slow_timer);
        (void)acto_resume(c->sys, c->self);
    }
    bool was_up = cl->up;
    cl->up = false;
    if (c->final || !cl->reconnect) {
        (void)acto_stop(c->sys, c->self);
        return;
    }
    if (was_up) {
        notify(c, ACTO_TCP_DISCONNECTED, 0);
    }
    if (cl->timer == 0 &&
        acto_call_after(c->sys, cl->delay, on_retry, c, &cl->timer) != 0) {
        notify(c, ACTO__TCP_MSG_UP, ACTO_ENOMEM);
    }
}

int
acto__tcp_client_msg(acto_ctx *ctx, acto_tcp_conn *c, const acto_msg *m)
{
    (void)c;
    int code = 0;
    size_t len = 0;
    const void *p = acto_msg_data(m, &len);
    if (p != NULL && len == sizeof(code)) {
        memcpy(&code, p, sizeof(code));
    }
    if (code >= 0) {
        return 0;
    }
    return acto_fail(ctx, code, "ConnectFailed", "connect: %s",
                     acto_strerror(code));
}

void
acto__tcp_client_stop(acto_tcp_conn *c)
{
    (void)acto_timer_cancel(c->sys, c->cl->timer);
    acto_free(c->cl, sizeof(*c->cl));
    c->cl = NULL;
}

int
acto_tcp_connect(acto_system *sys, const acto_tcp_connect_opts *opts,
                 acto_ref *out)
{
    if (sys == NULL || opts == NULL || out == NULL || opts->port == 0) {
        return ACTO_EINVAL;
    }
    acto__tcp_client *cl = acto_calloc(1, sizeof(*cl));
    if (cl == NULL) {
        return ACTO_ENOMEM;
    }
    int rc = acto__tcp_addr(opts->host, opts->port, &cl->addr);
    acto__tcp_shared *sh = NULL;
    if (rc == 0) {
        rc =
            acto__tcp_shared_new(&opts->limits, opts->handler, opts->user, &sh);
    }
    acto_tcp_conn *c = rc == 0 ? acto__tcp_conn_new(sys, sh) : NULL;
    acto__tcp_shared_release(sh); /* the connection holds its own */
    if (c == NULL) {
        acto_free(cl, sizeof(*cl));
        return rc != 0 ? rc : ACTO_ENOMEM;
    }
    cl->timeout_ms = opts->connect_timeout_ms ? opts->connect_timeout_ms : 5000;
    cl->retry_min = opts->retry_min_ms ? opts->retry_min_ms : 100;
    cl->retry_max = opts->retry_max_ms ? opts->retry_max_ms : 5000;
    cl->retry_max =
        cl->retry_max < cl->retry_min ? cl->retry_min : cl->retry_max;
    cl->reconnect = opts->reconnect;
    cl->max_attempts =
        opts->max_attempts ? opts->max_attempts : (opts->reconnect ? 0 : 1);
    cl->delay = cl->retry_min;
    c->cl = cl;
    acto_spawn_opts so;
    acto__tcp_spawn_opts(c->sh, &so);
    so.label = "tcp.client";
    rc = acto_spawn(sys, &acto__tcp_conn_b, c, &so, out);
    if (rc != 0) {
        acto_free(cl, sizeof(*cl));
        acto__tcp_conn_free(c);
    }
    return rc;
}
