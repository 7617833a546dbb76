/* The HTTP session actor: a curl multi handle on the system's loop.
 *
 * curl tells which sockets to watch (on_socket: one uv_poll_t each) and
 * when to call it back (on_curl_timer: one uv_timer_t); libuv tells curl
 * when a socket is ready or the timer fired (curl_multi_socket_action),
 * after which the transfers curl reports done are ended. The actor itself
 * handles no message: requests arrive through acto_call_as (http.h says
 * why a call and not an ask: cancelling must reach the transfer). */
#include "http_internal.h"
#include "sigpipe.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_LIMIT 100
#define DEFAULT_TOTAL_MS 300000
#define DEFAULT_MAX_BODY ((size_t)64 * 1024 * 1024)

/* ---- libcurl's global state ------------------------------------------- */

static uv_once_t global_once = UV_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void
global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- handles ---------------------------------------------------------- */

static void
session_free(acto__http_session *s)
{
    acto_free(s->user_agent, s->ua_size);
    acto_free(s, sizeof(*s));
}

static void
on_handle_closed(uv_handle_t *h)
{
    acto__http_session *s = h->data;
    if (h != (uv_handle_t *)&s->timer) {
        acto_free(h, sizeof(acto__http_sock));
    }
    if (--s->handles == 0 && s->stopped) {
        session_free(s);
    }
}

static void
sock_close(acto__http_session *s, acto__http_sock *k)
{
    if (k->prev != NULL) {
        k->prev->next = k->next;
    } else {
        s->socks = k->next;
    }
    if (k->next != NULL) {
        k->next->prev = k->prev;
    }
    k->poll.data = s;
    uv_close((uv_handle_t *)&k->poll, on_handle_closed);
}

void
acto__http_collect(acto__http_session *s)
{
    CURLMsg *msg;
    int left;
    while (s->multi != NULL &&
           (msg = curl_multi_info_read(s->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        acto__http_xfer *x = NULL;
        CURLcode rc = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (x != NULL) {
            acto__http_xfer_done(x, rc);
        }
    }
}

static void
on_poll(uv_poll_t *p, int status, int events)
{
    acto__http_sock *k = (acto__http_sock *)p;
    acto__http_session *s = k->s;
    if (!k->watched) {
        /* A pooled connection's socket became ready (the server closed
         * it): curl finds out when it next picks the connection. */
        uv_poll_stop(p);
        k->events = 0;
        return;
    }
    int flags = 0;
    if (status < 0) {
        flags = CURL_CSELECT_ERR;
    } else {
        flags |= (events & UV_READABLE) ? CURL_CSELECT_IN : 0;
        flags |= (events & UV_WRITABLE) ? CURL_CSELECT_OUT : 0;
    }
    int running;
    /* k may be closed inside (curl removes the socket): not used after. */
    curl_multi_socket_action(s->multi, k->fd, flags, &running);
    acto__http_collect(s);
}

static void
on_timeout(uv_timer_t *t)
{
    acto__http_session *s = t->data;
    int running;
    curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    acto__http_collect(s);
}

static int
sock_open(acto__http_session *s, curl_socket_t fd, acto__http_sock **out)
{
    acto__http_sock *k = acto_calloc(1, sizeof(*k));
    if (k == NULL) {
        return ACTO_ENOMEM;
    }
    int rc = uv_poll_init_socket(s->loop, &k->poll, fd);
    if (rc != 0) {
        acto_free(k, sizeof(*k));
        return rc;
    }
    k->s = s;
    k->fd = fd;
    k->next = s->socks;
    if (s->socks != NULL) {
        s->socks->prev = k;
    }
    s->socks = k;
    s->handles++;
    *out = k;
    return 0;
}

static acto__http_sock *
sock_find(const acto__http_session *s, curl_socket_t fd)
{
    for (acto__http_sock *k = s->socks; k != NULL; k = k->next) {
        if (k->fd == fd) {
            return k;
        }
    }
    return NULL;
}

curl_socket_t
acto__http_open_socket(void *clientp, curlsocktype purpose,
                       struct curl_sockaddr *address)
{
    acto__http_xfer *x = clientp;
    (void)purpose;
    curl_socket_t fd =
        socket(address->family, address->socktype, address->protocol);
    acto__http_sock *k;
    if (fd == CURL_SOCKET_BAD || x == NULL) {
        return fd;
    }
    int rc = sock_open(x->s, fd, &k);
    if (rc != 0) {
        /* curl fails the connect; the transfer says why */
        acto__http_set_err(x, rc,
                           rc == ACTO_ENOMEM ? "ACTO_ENOMEM" : "ClientError",
                           "cannot watch a socket: %s", acto_strerror(rc));
        close(fd);
        return CURL_SOCKET_BAD;
    }
    k->conn = true;
    return fd;
}

int
acto__http_close_socket(void *clientp, curl_socket_t fd)
{
    acto__http_session *s = clientp;
    acto__http_sock *k = sock_find(s, fd);
    if (k != NULL) {
        sock_close(s, k); /* libuv stops watching before the fd goes */
    }
    return close(fd);
}

/* curl's socket callback: watch fd for what, or stop watching it. A
 * connection's socket keeps its handle, still watching, when curl stops:
 * the next request on it usually wants the same events. Other sockets
 * (the resolver's) close theirs. A socket that cannot be watched fails
 * its transfer (from outside curl); the return is 0 all the same, since
 * -1 would abort every transfer. */
static int
on_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
    acto__http_session *s = userp;
    acto__http_sock *k = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (k != NULL) {
            curl_multi_assign(s->multi, fd, NULL);
            k->watched = false;
            if (!k->conn) {
                sock_close(s, k);
            }
        }
        return 0;
    }
    int rc = 0;
    if (k == NULL && (k = sock_find(s, fd)) == NULL) {
        rc = sock_open(s, fd, &k);
    }
    if (rc == 0) {
        int ev = ((what & CURL_POLL_IN) ? UV_READABLE : 0) |
                 ((what & CURL_POLL_OUT) ? UV_WRITABLE : 0);
        curl_multi_assign(s->multi, fd, k);
        k->watched = true;
        if (ev != k->events) {
            rc = uv_poll_start(&k->poll, ev, on_poll);
            k->events = rc == 0 ? ev : 0;
        }
    }
    if (rc != 0) {
        acto__http_doom(e, rc);
    }
    return 0;
}

/* curl's timer callback: call it back after ms (-1: never). */
static int
on_curl_timer(CURLM *m, long ms, void *userp)
{
    (void)m;
    acto__http_session *s = userp;
    if (ms < 0) {
        uv_timer_stop(&s->timer);
    } else {
        uv_timer_start(&s->timer, on_timeout, (uint64_t)ms, 0);
    }
    return 0;
}

/* ---- the actor -------------------------------------------------------- */

static int
session_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)ctx;
    (void)state;
    (void)m;
    return 0; /* requests come through acto_http_fetch */
}

static int
multi_setup(acto__http_session *s)
{
    s->multi = curl_multi_init();
    if (s->multi == NULL) {
        return UV_EIO;
    }
    CURLM *m = s->multi;
    CURLMcode rc = curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
    rc = rc ? rc : curl_multi_setopt(m, CURLMOPT_SOCKETDATA, s);
    rc = rc ? rc : curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    rc = rc ? rc : curl_multi_setopt(m, CURLMOPT_TIMERDATA, s);
    rc = rc ? rc
            : curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                                (long)s->limit);
    rc = rc ? rc
            : curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS,
                                (long)s->limit_per_host);
    /* Keep as many idle connections as may be open. */
    rc = rc ? rc : curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)s->limit);
    if (rc != CURLM_OK) {
        curl_multi_cleanup(m);
        s->multi = NULL;
        return UV_EIO;
    }
    return 0;
}

static int
session_start(acto_ctx *ctx, void *state)
{
    acto__http_session *s = state;
    s->self = acto_self(ctx);
    int rc = multi_setup(s);
    if (rc != 0) {
        return rc;
    }
    uv_timer_init(s->loop, &s->timer);
    s->timer.data = s;
    s->handles = 1;
    return 0;
}

/* session_stop ends every transfer, closes the multi handle (and with it
 * the pooled connections), then the uv handles; the state goes with the
 * last close callback. */
static void
session_stop(acto_ctx *ctx, void *state, const acto_exit_reason *reason)
{
    (void)ctx;
    (void)reason;
    acto__http_session *s = state;
    s->stopped = true;
    while (s->xfers != NULL) {
        acto__http_xfer_abort(s->xfers, ACTO_ECANCELED, "SessionClosed",
                              "the HTTP session stopped");
    }
    while (s->n_spare > 0) {
        curl_easy_cleanup(s->spare[--s->n_spare]);
    }
    /* Cleanup may still call on_socket to remove sockets. */
    curl_multi_cleanup(s->multi);
    s->multi = NULL;
    while (s->socks != NULL) {
        sock_close(s, s->socks);
    }
    uv_close((uv_handle_t *)&s->timer, on_handle_closed);
}

static const acto_behaviour session_b = {
    .receive = session_receive,
    .start = session_start,
    .stop = session_stop,
};

static int
session_init(acto__http_session *s, acto_system *sys,
             const acto_http_session_opts *o)
{
    s->sys = sys;
    s->loop = acto_system_loop(sys);
    s->limit = o->limit > 0 ? o->limit : DEFAULT_LIMIT;
    s->limit_per_host = o->limit_per_host;
    s->timeout = o->timeout;
    if (s->timeout.total_ms == 0) {
        s->timeout.total_ms = DEFAULT_TOTAL_MS;
    }
    s->max_body = o->max_body > 0 ? o->max_body : DEFAULT_MAX_BODY;
    const char *ua = o->user_agent != NULL ? o->user_agent : "acto/0.1";
    s->ua_size = strlen(ua) + 1;
    s->user_agent = acto_malloc(s->ua_size);
    if (s->user_agent == NULL) {
        return ACTO_ENOMEM;
    }
    memcpy(s->user_agent, ua, s->ua_size);
    return 0;
}

int
acto_http_session_spawn(acto_system *sys, const acto_http_session_opts *opts,
                        acto_ref *out)
{
    if (sys == NULL || out == NULL) {
        return ACTO_EINVAL;
    }
    uv_once(&global_once, global_init);
    if (global_rc != CURLE_OK) {
        return UV_EIO;
    }
    /* CURLOPT_NOSIGNAL leaves SIGPIPE to us, and a TLS write can raise it. */
    acto__sigpipe_ignore_default();
    acto_http_session_opts dflt = {0};
    acto__http_session *s = acto_calloc(1, sizeof(*s));
    if (s == NULL) {
        return ACTO_ENOMEM;
    }
    int rc = session_init(s, sys, opts != NULL ? opts : &dflt);
    acto_spawn_opts so = {.label = "http-session"};
    if (rc == 0) {
        rc = acto_spawn(sys, &session_b, s, &so, out);
    }
    if (rc != 0) {
        /* A start hook that failed after multi_setup cannot happen: the
         * timer is the last step. */
        if (s->multi != NULL) {
            curl_multi_cleanup(s->multi);
        }
        session_free(s);
    }
    return rc;
}

/* ---- calls into the session ------------------------------------------- */

typedef struct fetch_call {
    const acto_http_request *req;
    acto_future **out;
} fetch_call;

static int
fetch_as(acto_ctx *ctx, void *state, void *user)
{
    (void)ctx;
    fetch_call *c = user;
    return acto__http_xfer_start(state, c->req, c->out);
}

int
acto_http_fetch(acto_system *sys, acto_ref session,
                const acto_http_request *req, acto_future **out)
{
    if (sys == NULL || req == NULL || req->url == NULL || out == NULL ||
        req->item_type >= ACTO_STREAM_BASE) {
        return ACTO_EINVAL;
    }
    fetch_call c = {req, out};
    return acto_call_as(sys, session, &session_b, fetch_as, &c);
}

int
acto_http_get(acto_system *sys, acto_ref session, const char *url,
              acto_future **out)
{
    acto_http_request req = {.url = url};
    return acto_http_fetch(sys, session, &req, out);
}

static int
stats_as(acto_ctx *ctx, void *state, void *user)
{
    (void)ctx;
    acto__http_session *s = state;
    acto_http_stats *out = user;
    *out = s->stats;
    out->in_flight = s->stats.started - s->stats.finished;
    return 0;
}

int
acto_http_session_stats(acto_system *sys, acto_ref session,
                        acto_http_stats *out)
{
    if (sys == NULL || out == NULL) {
        return ACTO_EINVAL;
    }
    return acto_call_as(sys, session, &session_b, stats_as, out);
}
