/* TCP workloads: an echo server on acto's TCP actors against a plain
 * libuv echo server written for the benchmark, both loaded by the same
 * plain libuv client over loopback in the same run.
 *
 * echo: 64 connections, each sending 32-byte requests one at a time and
 * waiting for the echo (request/response): requests per second, acto's
 * over the plain server's. The server runs on a thread of its own, the
 * client on the bench's main thread.
 * echo_idle: memory per idle connection, what acto allocates for it (the
 * actor, its mailbox, the connection's state and socket), against the
 * plain server's per-connection struct. */
#include "bench.h"

#include <acto/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>

#define CONNS 64
#define MSG 32

/* ---- the servers ------------------------------------------------------ */

typedef struct server {
    bool acto;
    uv_thread_t thread;
    uv_sem_t ready;
    uv_loop_t loop;
    uv_async_t stop;
    uint16_t port;
    atomic_uint opened; /* connections the server has taken on */
    /* plain */
    uv_tcp_t listener;
    /* acto */
    acto_system *sys;
    acto_ref lref;
} server;

/* The plain server: one read buffer for the loop, one copy into the
 * write request, as a careful libuv program does. */
typedef struct plain_wreq {
    uv_write_t req;
    char data[];
} plain_wreq;

static char plain_rbuf[64 * 1024];

static void
plain_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)h;
    (void)hint;
    *b = uv_buf_init(plain_rbuf, sizeof(plain_rbuf));
}

static void
plain_freed(uv_handle_t *h)
{
    free(h);
}

static void
plain_wrote(uv_write_t *req, int status)
{
    (void)status;
    free(req);
}

static void
plain_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    if (n < 0) {
        uv_close((uv_handle_t *)st, plain_freed);
        return;
    }
    if (n == 0) {
        return;
    }
    plain_wreq *w = malloc(sizeof(*w) + (size_t)n);
    memcpy(w->data, b->base, (size_t)n);
    uv_buf_t out = uv_buf_init(w->data, (unsigned)n);
    if (uv_write(&w->req, st, &out, 1, plain_wrote) != 0) {
        free(w);
    }
}

static void
plain_conn(uv_stream_t *l, int status)
{
    server *s = l->data;
    uv_tcp_t *c = malloc(sizeof(*c));
    if (status != 0 || c == NULL) {
        free(c);
        return;
    }
    uv_tcp_init(l->loop, c);
    c->data = NULL;
    uv_tcp_nodelay(c, 1);
    if (uv_accept(l, (uv_stream_t *)c) == 0) {
        atomic_fetch_add(&s->opened, 1);
        uv_read_start((uv_stream_t *)c, plain_alloc, plain_read);
    } else {
        uv_close((uv_handle_t *)c, plain_freed);
    }
}

static void
close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) {
        uv_close(h, h->type == UV_TCP && h->data == NULL ? plain_freed : NULL);
    }
}

/* acto's server: the echo handler acto-echo runs. */
static int
echo_open(acto_ctx *ctx, acto_tcp_conn *c, void *user, void **state)
{
    (void)ctx;
    (void)c;
    (void)state;
    atomic_fetch_add(&((server *)user)->opened, 1);
    return 0;
}

static int
echo_receive(acto_ctx *ctx, acto_tcp_conn *c, void *state, const acto_msg *m)
{
    (void)state;
    if (acto_msg_type(m) != ACTO_TCP_DATA) {
        return 0;
    }
    return acto_tcp_conn_write_received(ctx, c, m, NULL);
}

static const acto_tcp_handler echo_handler = {.open = echo_open,
                                              .receive = echo_receive};

static void
on_stop(uv_async_t *a)
{
    server *s = a->data;
    uv_close((uv_handle_t *)a, NULL);
    if (s->acto) {
        (void)acto_shutdown(s->sys, s->lref);
    } else {
        uv_walk(&s->loop, close_any, NULL);
    }
}

static int
acto_listen(server *s)
{
    acto_system_opts so = {.loop = &s->loop};
    int rc = acto_system_alloc(&so, &s->sys);
    acto_tcp_listen_opts o = {
        .handler = &echo_handler, .user = s, .backlog = 1024};
    o.limits.max_connections = 100000;
    if (rc == 0) {
        rc = acto_tcp_listen(s->sys, &o, &s->lref);
    }
    if (rc == 0) {
        rc = acto_tcp_listener_port(s->sys, s->lref, &s->port);
    }
    return rc;
}

static int
plain_listen(server *s)
{
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    uv_tcp_init(&s->loop, &s->listener);
    s->listener.data = s;
    int rc = uv_tcp_bind(&s->listener, (struct sockaddr *)&a, 0);
    if (rc == 0) {
        rc = uv_listen((uv_stream_t *)&s->listener, 1024, plain_conn);
    }
    struct sockaddr_storage ss;
    int n = sizeof(ss);
    if (rc == 0) {
        rc = uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &n);
        s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
    return rc;
}

static void
closed_sys(acto_system *sys, void *user)
{
    (void)sys;
    (void)user;
}

static void
server_main(void *arg)
{
    server *s = arg;
    uv_loop_init(&s->loop);
    uv_async_init(&s->loop, &s->stop, on_stop);
    s->stop.data = s;
    int rc = s->acto ? acto_listen(s) : plain_listen(s);
    if (rc != 0) {
        bench_die("echo server: listen", rc);
    }
    uv_sem_post(&s->ready);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    if (s->acto) {
        acto_system_close(s->sys, closed_sys, NULL);
        uv_run(&s->loop, UV_RUN_DEFAULT);
    }
    if (uv_loop_close(&s->loop) != 0) {
        bench_die("echo server: loop not closed", UV_EBUSY);
    }
}

static void
server_start(server *s, bool acto)
{
    memset(s, 0, sizeof(*s));
    s->acto = acto;
    uv_sem_init(&s->ready, 0);
    uv_thread_create(&s->thread, server_main, s);
    uv_sem_wait(&s->ready);
}

static void
server_stop(server *s)
{
    uv_async_send(&s->stop);
    uv_thread_join(&s->thread);
    uv_sem_destroy(&s->ready);
}

/* ---- the load client -------------------------------------------------- */

typedef struct client client;

typedef struct lconn {
    uv_tcp_t tcp;
    uv_connect_t creq;
    client *cl;
    size_t got; /* bytes of the current answer */
    uint64_t left;
} lconn;

struct client {
    uv_loop_t loop;
    lconn *conns;
    int n;
    int connected;
    int finished;
    bool echo; /* send requests once connected */
    char msg[MSG];
    char rbuf[64 * 1024];
};

static void
l_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)hint;
    lconn *c = h->data;
    *b = uv_buf_init(c->cl->rbuf, sizeof(c->cl->rbuf));
}

/* l_send writes one request; 32 bytes always fit an idle socket's
 * buffer, so the client needs no write requests. */
static void
l_send(lconn *c)
{
    uv_buf_t b = uv_buf_init(c->cl->msg, MSG);
    int rc = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (rc != MSG) {
        bench_die("echo client: write", rc < 0 ? rc : UV_EIO);
    }
}

static void
l_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    lconn *c = st->data;
    if (n < 0) {
        bench_die("echo client: read", (int)n);
    }
    c->got += (size_t)n;
    while (c->got >= MSG && c->left > 0) {
        c->got -= MSG;
        if (--c->left == 0) {
            c->cl->finished++;
            uv_read_stop(st);
        } else {
            l_send(c);
        }
    }
}

static void
l_connected(uv_connect_t *req, int status)
{
    lconn *c = req->data;
    if (status != 0) {
        bench_die("echo client: connect", status);
    }
    c->cl->connected++;
}

/* client_connect opens n connections to the server s, at most a
 * backlog's worth not yet taken on by the server at a time: a flood of
 * connects overflows the listen queue, and a connection whose last
 * handshake packet was dropped there looks open to an idle client while
 * the server never sees it. */
static void wait_opened(server *s, unsigned n);

static void
client_connect(client *cl, int n, server *s)
{
    memset(cl->msg, 'x', MSG);
    uv_loop_init(&cl->loop);
    cl->conns = calloc((size_t)n, sizeof(lconn));
    cl->n = n;
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", s->port, &a);
    for (int i = 0; i < n; i++) {
        lconn *c = &cl->conns[i];
        c->cl = cl;
        uv_tcp_init(&cl->loop, &c->tcp);
        uv_tcp_nodelay(&c->tcp, 1);
        c->tcp.data = c;
        c->creq.data = c;
        uv_tcp_connect(&c->creq, &c->tcp, (struct sockaddr *)&a, l_connected);
        if ((i + 1) % 64 == 0 || i + 1 == n) {
            while (cl->connected < i + 1) {
                uv_run(&cl->loop, UV_RUN_ONCE);
            }
            wait_opened(s, (unsigned)(i + 1));
        }
    }
}

static void
client_close(client *cl)
{
    for (int i = 0; i < cl->n; i++) {
        uv_close((uv_handle_t *)&cl->conns[i].tcp, NULL);
    }
    uv_run(&cl->loop, UV_RUN_DEFAULT);
    uv_loop_close(&cl->loop);
    free(cl->conns);
}

/* wait_opened lets the server take on n connections. */
static void
wait_opened(server *s, unsigned n)
{
    uint64_t t0 = bench_now_ns();
    while (atomic_load(&s->opened) < n) {
        if (bench_now_ns() - t0 > 30000000000ull) {
            bench_die("echo: the server never took the connections",
                      UV_ETIMEDOUT);
        }
        bench_spin_ns(100000);
    }
}

/* server_cpu_ns reads the server thread's CPU clock. */
static uint64_t
server_cpu_ns(server *s)
{
    clockid_t id;
    struct timespec ts;
    if (pthread_getcpuclockid(s->thread, &id) != 0 ||
        clock_gettime(id, &ts) != 0) {
        return 0;
    }
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* echo_run loads a server with total requests; returns requests/s and
 * sets *cpu to the server thread's CPU time per request, which a loaded
 * machine disturbs less than the wall clock. */
static double
echo_run(bool acto, uint64_t total, double *cpu)
{
    server s;
    server_start(&s, acto);
    client cl = {0};
    client_connect(&cl, CONNS, &s);
    uint64_t t0 = bench_now_ns();
    uint64_t c0 = server_cpu_ns(&s);
    for (int i = 0; i < CONNS; i++) {
        lconn *c = &cl.conns[i];
        c->left = total / CONNS + (i < (int)(total % CONNS));
        if (c->left == 0) {
            cl.finished++;
            continue;
        }
        uv_read_start((uv_stream_t *)&c->tcp, l_alloc, l_read);
        l_send(c);
    }
    while (cl.finished < CONNS) {
        uv_run(&cl.loop, UV_RUN_ONCE);
    }
    double secs = (double)(bench_now_ns() - t0) / 1e9;
    *cpu = (double)(server_cpu_ns(&s) - c0) / (double)total;
    client_close(&cl);
    server_stop(&s);
    return (double)total / secs;
}

void
bench_echo(const bench_opts *opts)
{
    uint64_t total = bench_count(opts, 400000);
    double *acto = calloc((size_t)opts->runs * 4, sizeof(double));
    double *floor = acto + opts->runs;
    double *acto_cpu = floor + opts->runs, *floor_cpu = acto_cpu + opts->runs;
    for (int i = 0; i < opts->runs; i++) {
        floor[i] = echo_run(false, total, &floor_cpu[i]);
        acto[i] = echo_run(true, total, &acto_cpu[i]);
    }
    bench_report_runs(opts, "echo", "echo", BENCH_RATE, acto, floor, opts->runs,
                      "req/s");
    bench_report_runs(opts, "echo", "echo_server_cpu", BENCH_COST, acto_cpu,
                      floor_cpu, opts->runs, "ns/req");
    free(acto);
}

/* ---- idle connections ------------------------------------------------- */

static double
idle_bytes(unsigned n)
{
    server s;
    server_start(&s, true);
    /* Let the listener settle before the baseline. */
    bench_spin_ns(1000000);
    int64_t before = bench_alloc_live_bytes();
    client cl = {0};
    client_connect(&cl, (int)n, &s);
    bench_spin_ns(1000000);
    int64_t after = bench_alloc_live_bytes();
    client_close(&cl);
    server_stop(&s);
    return (double)(after - before) / n;
}

void
bench_echo_idle(const bench_opts *opts)
{
    unsigned n = (unsigned)bench_count(opts, 4000);
    n = n < 64 ? 64 : n;
    double *v = calloc((size_t)opts->runs, sizeof(double));
    for (int i = 0; i < opts->runs; i++) {
        v[i] = idle_bytes(n);
    }
    /* The floor: the plain server's uv_tcp_t per connection. */
    bench_report(opts, "echo_idle", "echo_idle", BENCH_COST,
                 bench_median(v, opts->runs), "B/conn",
                 (double)sizeof(uv_tcp_t));
    free(v);
}
