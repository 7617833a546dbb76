/* The listener: accepts connections, spawns one connection actor per
 * client as its child and supervises them (see tcp.h).
 *
 * Why the listener supervises its connections itself rather than through
 * a dynamic-pool supervisor: connections are temporary children (never
 * restarted), and a graceful stop must let all of them finish within one
 * budget at the same time, where a supervisor stops children one after
 * the other, each within its own budget. It watches its children
 * (acto_watch_children), so a failed connection reaches it as a down
 * message: counted, forgotten, and the listener goes on. */
#include "tcp_internal.h"

#include <string.h>

typedef struct lstn {
    uv_tcp_t tcp;
    uv_tcp_t spare; /* refuses a client when memory is short */
    bool spare_busy;
    acto_system *sys;
    acto_ref self;
    acto__tcp_shared *sh;
    uint32_t live; /* connection actors alive */
    int pending;   /* the actor and handles still to go */
    bool stopping; /* graceful stop under way */
    bool handle_closing;
    uint64_t budget; /* the graceful stop's timer */
    acto_tcp_error_fn on_error;
    void *error_user;
} lstn;

static void
maybe_free(lstn *l)
{
    if (--l->pending == 0) {
        acto_free(l, sizeof(*l));
    }
}

static void
on_handle_closed(uv_handle_t *h)
{
    maybe_free(h->data);
}

static void
on_spare_closed(uv_handle_t *h)
{
    lstn *l = h->data;
    l->spare_busy = false;
    maybe_free(l);
}

static void
free_closed(uv_handle_t *h)
{
    acto_free(h, sizeof(uv_tcp_t));
}

static void
close_listen(lstn *l)
{
    if (!l->handle_closing) {
        l->handle_closing = true;
        uv_close((uv_handle_t *)&l->tcp, on_handle_closed);
    }
}

/* ---- accepting -------------------------------------------------------- */

/* refuse accepts a client only to reset it: libuv has no other way to
 * turn one away, and an unaccepted one would stall the listener. */
static void
refuse(lstn *l, uv_stream_t *server)
{
    l->sh->stats.refused++;
    uv_loop_t *loop = server->loop;
    uv_tcp_t *t = acto_malloc(sizeof(*t));
    uv_close_cb cb = free_closed;
    if (t == NULL && !l->spare_busy) {
        t = &l->spare;
        t->data = l;
        l->spare_busy = true;
        l->pending++;
        cb = on_spare_closed;
    }
    if (t == NULL || uv_tcp_init(loop, t) != 0) {
        /* Nothing to accept into: the next accept drains it. */
        if (t != NULL && t != &l->spare) {
            acto_free(t, sizeof(*t));
        }
        return;
    }
    if (t != &l->spare) {
        t->data = NULL;
    }
    if (uv_accept(server, (uv_stream_t *)t) != 0 ||
        uv_tcp_close_reset(t, cb) != 0) {
        uv_close((uv_handle_t *)t, cb);
    }
}

static int
spawn_conn(acto_ctx *ctx, void *state, void *user)
{
    (void)state;
    acto_tcp_conn *c = user;
    acto_spawn_opts o;
    acto__tcp_spawn_opts(c->sh, &o);
    acto_ref r;
    return acto_spawn(acto_ctx_system(ctx), &acto__tcp_conn_b, c, &o, &r);
}

static void
on_connection(uv_stream_t *server, int status)
{
    lstn *l = server->data;
    if (status < 0 || l->stopping) {
        return;
    }
    if (l->live >= l->sh->lim.max_connections) {
        refuse(l, server);
        return;
    }
    acto_tcp_conn *c = acto__tcp_conn_new(l->sys, l->sh);
    acto__tcp_sock *s = c != NULL ? acto__tcp_sock_new(c, server->loop) : NULL;
    if (s == NULL) {
        if (c != NULL) {
            acto__tcp_conn_free(c);
        }
        refuse(l, server);
        return;
    }
    c->s = s;
    int rc = uv_accept(server, (uv_stream_t *)&s->tcp);
    if (rc == 0) {
        rc =
            acto_call_as(l->sys, l->self, &acto__tcp_listener_b, spawn_conn, c);
    }
    if (rc != 0) {
        l->sh->stats.failed++;
        acto__tcp_sock_close(s);
        acto__tcp_conn_free(c);
        return;
    }
    l->sh->stats.accepted++;
    l->live++;
}

/* ---- stopping --------------------------------------------------------- */

static void
on_budget(acto_system *sys, void *user)
{
    lstn *l = user;
    l->budget = 0;
    for (acto_tcp_conn *c = l->sh->conns; c != NULL; c = c->next) {
        (void)acto_kill(sys, c->self);
    }
}

/* begin_stop stops accepting and asks every connection to finish its
 * writes and close; the budget's timer kills the rest. */
static void
begin_stop(lstn *l)
{
    if (l->stopping) {
        return;
    }
    l->stopping = true;
    close_listen(l);
    for (acto_tcp_conn *c = l->sh->conns; c != NULL; c = c->next) {
        (void)acto_shutdown(l->sys, c->self);
    }
    if (l->live == 0) {
        (void)acto_stop(l->sys, l->self);
    } else if (acto_call_after(l->sys, l->sh->lim.shutdown_ms, on_budget, l,
                               &l->budget) != 0) {
        on_budget(l->sys, l);
    }
}

static int
listener_start(acto_ctx *ctx, void *state)
{
    lstn *l = state;
    l->self = acto_self(ctx);
    return acto_watch_children(ctx, true);
}

static int
listener_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)ctx;
    lstn *l = state;
    switch (acto_msg_type(m)) {
    case ACTO_MSG_DOWN: {
        const acto_down *d = acto_msg_down(m);
        if (l->on_error != NULL && d != NULL &&
            d->reason.kind == ACTO_EXIT_FAILED && d->reason.error != NULL) {
            l->on_error(l->sys, d->actor, d->reason.error, l->error_user);
        }
        l->live -= l->live > 0;
        if (l->stopping && l->live == 0) {
            (void)acto_stop(l->sys, l->self);
        }
        break;
    }
    case ACTO_MSG_SHUTDOWN:
        begin_stop(l);
        break;
    default:
        break;
    }
    return 0;
}

static void
listener_stop(acto_ctx *ctx, void *state, const acto_exit_reason *why)
{
    (void)ctx;
    (void)why;
    lstn *l = state;
    (void)acto_timer_cancel(l->sys, l->budget);
    close_listen(l);
    /* Killed or failed: its connections go with it, at once. */
    for (acto_tcp_conn *c = l->sh->conns; c != NULL; c = c->next) {
        (void)acto_kill(l->sys, c->self);
    }
    acto__tcp_shared_release(l->sh);
    l->sh = NULL;
    maybe_free(l);
}

const acto_behaviour acto__tcp_listener_b = {.receive = listener_receive,
                                             .start = listener_start,
                                             .stop = listener_stop};

/* ---- the API ---------------------------------------------------------- */

static int
bind_listen(lstn *l, uv_loop_t *loop, const acto_tcp_listen_opts *o)
{
    struct sockaddr_storage addr;
    int rc = acto__tcp_addr(o->host, o->port, &addr);
    if (rc != 0) {
        return rc;
    }
    rc = uv_tcp_init(loop, &l->tcp);
    if (rc != 0) {
        return rc;
    }
    l->tcp.data = l;
    l->pending = 2; /* the handle and the actor */
    rc = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&addr, 0);
    if (rc == 0) {
        rc = uv_listen((uv_stream_t *)&l->tcp, o->backlog ? o->backlog : 128,
                       on_connection);
    }
    return rc;
}

int
acto_tcp_listen(acto_system *sys, const acto_tcp_listen_opts *opts,
                acto_ref *out)
{
    if (sys == NULL || opts == NULL || out == NULL || opts->backlog < 0) {
        return ACTO_EINVAL;
    }
    lstn *l = acto_calloc(1, sizeof(*l));
    if (l == NULL) {
        return ACTO_ENOMEM;
    }
    l->sys = sys;
    l->on_error = opts->on_error;
    l->error_user = opts->error_user;
    int rc =
        acto__tcp_shared_new(&opts->limits, opts->handler, opts->user, &l->sh);
    if (rc == 0) {
        rc = bind_listen(l, acto_system_loop(sys), opts);
    }
    if (rc == 0) {
        acto_spawn_opts so = {.label = "tcp.listener",
                              .on_shutdown = ACTO_SHUTDOWN_NOTIFY};
        rc = acto_spawn(sys, &acto__tcp_listener_b, l, &so, out);
    }
    if (rc == 0) {
        return 0;
    }
    acto__tcp_shared_release(l->sh);
    if (l->pending == 0) {
        acto_free(l, sizeof(*l));
    } else {
        l->pending = 1;
        close_listen(l);
    }
    return rc;
}

static int
get_port(acto_ctx *ctx, void *state, void *user)
{
    (void)ctx;
    lstn *l = state;
    struct sockaddr_storage ss;
    int n = sizeof(ss);
    if (l->handle_closing) {
        return ACTO_ECLOSED;
    }
    int rc = uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&ss, &n);
    if (rc == 0) {
        *(uint16_t *)user = ntohs(ss.ss_family == AF_INET6
                                      ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                      : ((struct sockaddr_in *)&ss)->sin_port);
    }
    return rc;
}

int
acto_tcp_listener_port(acto_system *sys, acto_ref listener, uint16_t *port)
{
    if (sys == NULL || port == NULL) {
        return ACTO_EINVAL;
    }
    return acto_call_as(sys, listener, &acto__tcp_listener_b, get_port, port);
}

static int
listener_stats(acto_ctx *ctx, void *state, void *user)
{
    (void)ctx;
    *(acto_tcp_stats *)user = ((lstn *)state)->sh->stats;
    return 0;
}

static int
client_stats(acto_ctx *ctx, void *state, void *user)
{
    (void)ctx;
    acto_tcp_conn *c = state;
    if (c->cl == NULL) {
        return ACTO_ENOACTOR;
    }
    *(acto_tcp_stats *)user = c->sh->stats;
    return 0;
}

int
acto_tcp_stats_of(acto_system *sys, acto_ref ref, acto_tcp_stats *out)
{
    if (sys == NULL || out == NULL) {
        return ACTO_EINVAL;
    }
    int rc = acto_call_as(sys, ref, &acto__tcp_listener_b, listener_stats, out);
    if (rc == ACTO_ENOACTOR) {
        rc = acto_call_as(sys, ref, &acto__tcp_conn_b, client_stats, out);
    }
    return rc;
}
