/* The TCP client actor over real sockets on 127.0.0.1: connecting,
 * writes with futures, reconnecting with backoff to a listener that
 * appears later, connect failures and the connect timeout. */
#include "tcp_world.h"

#include <sys/socket.h>
#include <unistd.h>

/* What the client's handler saw. */
typedef struct seen {
    int connected;
    int disconnected;
    char got[256];
    size_t n;
    bool closed;
} seen;

static int
client_open(acto_ctx *ctx, acto_tcp_conn *c, void *user, void **state)
{
    (void)ctx;
    (void)c;
    *state = user;
    return 0;
}

static int
client_receive(acto_ctx *ctx, acto_tcp_conn *c, void *state, const acto_msg *m)
{
    (void)ctx;
    seen *s = state;
    size_t len = 0;
    const void *p = acto_msg_data(m, &len);
    switch (acto_msg_type(m)) {
    case ACTO_TCP_CONNECTED:
        s->connected++;
        return acto_tcp_conn_write(c, "ping", 4, NULL);
    case ACTO_TCP_DISCONNECTED:
        s->disconnected++;
        break;
    case ACTO_TCP_DATA:
        if (s->n + len <= sizeof(s->got)) {
            memcpy(s->got + s->n, p, len);
            s->n += len;
        }
        break;
    default:
        break;
    }
    return 0;
}

static void
client_close(acto_ctx *ctx, acto_tcp_conn *c, void *state,
             const acto_exit_reason *why)
{
    (void)ctx;
    (void)c;
    (void)why;
    ((seen *)state)->closed = true;
}

static bool
is_closed(void *arg)
{
    return ((seen *)arg)->closed;
}

static const acto_tcp_handler client_handler = {
    .open = client_open, .receive = client_receive, .close = client_close};

typedef struct got_n {
    seen *s;
    size_t n;
} got_n;

static bool
has_n(void *arg)
{
    got_n *g = arg;
    return g->s->n >= g->n;
}

static bool
wait_got(acto_test_env *env, seen *s, size_t n)
{
    got_n g = {s, n};
    return acto_test_run_until(&env->loop, has_n, &g, DEADLINE_MS);
}

/* The last error nobody else received. */
static acto_error g_err;
static char g_type[64];

static void
on_exception(acto_system *sys, const acto_error *err, void *user)
{
    (void)sys;
    (void)user;
    g_err = *err;
    snprintf(g_type, sizeof(g_type), "%s", err->type);
}

static bool
got_error(void *arg)
{
    (void)arg;
    return g_err.code != 0;
}

/* free_port finds a port nobody listens on (briefly bound, then freed). */
static uint16_t
free_port(acto_test_env *env, acto_system *sys)
{
    uint16_t port;
    acto_ref l = start_server(sys, NULL, NULL, 0, &port);
    stop_listener(env, sys, l);
    return port;
}

static void
stop_server(acto_test_env *env, acto_system *sys, acto_ref l)
{
    stop_listener(env, sys, l);
}

/* ---- connecting ------------------------------------------------------- */

static void
test_tcp_client_connects_writes_and_reads(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    uint16_t port;
    acto_ref l = start_server(sys, NULL, NULL, 0, &port);
    seen s = {0};
    acto_tcp_connect_opts o = {
        .port = port, .handler = &client_handler, .user = &s};
    acto_ref c;
    assert_acto_ok(acto_tcp_connect(sys, &o, &c));
    assert_true(wait_got(env, &s, 4));
    assert_memory_equal(s.got, "ping", 4);
    /* From outside, with a future for the write. */
    acto_future *f = NULL;
    assert_acto_ok(acto_tcp_send(sys, NULL, c, "pong", 4, &f));
    assert_true(wait_got(env, &s, 8));
    assert_memory_equal(s.got + 4, "pong", 4);
    assert_acto_ok(acto_future_result(f, NULL));
    acto_future_release(f);
    acto_tcp_stats st = stats_of(sys, c);
    assert_int_equal(st.connects, 1);
    assert_int_equal(st.bytes_out, 8);
    assert_int_equal(st.bytes_in, 8);
    /* A graceful close stops the client; later sends fail their future. */
    assert_acto_ok(acto_tcp_close(sys, NULL, c));
    assert_true(acto_test_run_until(&env->loop, is_closed, &s, DEADLINE_MS));
    assert_int_equal(s.disconnected, 0);
    assert_acto_ok(acto_tcp_send(sys, NULL, c, "late", 4, &f));
    acto_test_run_until(&env->loop, (acto_test_pred)acto_future_done, f,
                        DEADLINE_MS);
    assert_acto_err(acto_future_result(f, NULL), ACTO_ENOACTOR);
    acto_future_release(f);
    stop_server(env, sys, l);
    acto_test_close_system(env, sys);
}

static void
test_tcp_client_reconnects_to_a_listener_that_appears_later(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    uint16_t port = free_port(env, sys);
    seen s = {0};
    acto_tcp_connect_opts o = {.port = port,
                               .handler = &client_handler,
                               .user = &s,
                               .reconnect = true,
                               .retry_min_ms = 10,
                               .retry_max_ms = 40};
    acto_ref c;
    uint64_t t0 = uv_now(&env->loop);
    assert_acto_ok(acto_tcp_connect(sys, &o, &c));
    assert_true(wait_stat(env, sys, c, connect_failures, 3));
    /* Refusals come at once: the time is the backoff, 10 then 20 ms. */
    uv_update_time(&env->loop);
    assert_true(uv_now(&env->loop) - t0 >= 30);
    assert_int_equal(s.connected, 0);
    acto_ref l = start_server(sys, NULL, NULL, port, NULL);
    assert_true(wait_got(env, &s, 4));
    assert_int_equal(s.connected, 1);
    /* The server goes away: the client notices, and comes back with the
     * next server. */
    stop_server(env, sys, l);
    assert_true(wait_stat(env, sys, c, closed, 1));
    l = start_server(sys, NULL, NULL, port, NULL);
    assert_true(wait_got(env, &s, 8));
    assert_int_equal(s.connected, 2);
    assert_int_equal(s.disconnected, 1);
    acto_tcp_stats st = stats_of(sys, c);
    assert_int_equal(st.connects, 2);
    assert_true(st.connect_failures >= 3);
    assert_acto_ok(acto_tcp_close(sys, NULL, c));
    assert_true(wait_dead(env, sys, c));
    stop_server(env, sys, l);
    acto_test_close_system(env, sys);
}

static void
test_tcp_client_without_reconnect_fails_when_refused(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    acto_system_set_exception_handler(sys, on_exception, NULL);
    g_err = (acto_error){0};
    uint16_t port = free_port(env, sys);
    seen s = {0};
    acto_tcp_connect_opts o = {
        .port = port, .handler = &client_handler, .user = &s};
    acto_ref c;
    assert_acto_ok(acto_tcp_connect(sys, &o, &c));
    assert_true(acto_test_run_until(&env->loop, got_error, NULL, DEADLINE_MS));
    assert_int_equal(g_err.code, UV_ECONNREFUSED);
    assert_string_equal(g_type, "ConnectFailed");
    assert_true(acto_test_run_until(&env->loop, is_closed, &s, DEADLINE_MS));
    acto_test_close_system(env, sys);
}

/* A listening socket nobody accepts on (not even libuv, which would take
 * one connection off the queue): once its queue holds one connection,
 * the kernel drops further SYNs and a connect hangs, which is what a
 * timeout is for. */
static int
silent_listener(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 0), 0);
    socklen_t n = sizeof(a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &n), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void
test_tcp_client_connect_times_out(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    acto_system_set_exception_handler(sys, on_exception, NULL);
    g_err = (acto_error){0};
    uint16_t port;
    int fd = silent_listener(&port);
    peer fill;
    assert_int_equal(peer_connect(&env->loop, &fill, port), 0);
    seen s = {0};
    acto_tcp_connect_opts o = {.port = port,
                               .handler = &client_handler,
                               .user = &s,
                               .connect_timeout_ms = 100};
    acto_ref c;
    uint64_t t0 = uv_now(&env->loop);
    assert_acto_ok(acto_tcp_connect(sys, &o, &c));
    assert_true(acto_test_run_until(&env->loop, got_error, NULL, DEADLINE_MS));
    assert_int_equal(g_err.code, UV_ETIMEDOUT);
    assert_string_equal(g_type, "ConnectFailed");
    assert_true(uv_now(&env->loop) - t0 >= 90);
    assert_int_equal(s.connected, 0);
    assert_true(acto_test_run_until(&env->loop, is_closed, &s, DEADLINE_MS));
    peer_close(&env->loop, &fill, false);
    close(fd);
    acto_test_close_system(env, sys);
}

static void
test_tcp_connect_rejects_bad_options(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    acto_ref c;
    acto_tcp_connect_opts o = {.port = 0, .handler = &client_handler};
    assert_acto_err(acto_tcp_connect(sys, &o, &c), ACTO_EINVAL);
    o.port = 1;
    o.host = "example.invalid";
    assert_acto_err(acto_tcp_connect(sys, &o, &c), ACTO_EINVAL);
    o.host = NULL;
    o.handler = NULL;
    assert_acto_err(acto_tcp_connect(sys, &o, &c), ACTO_EINVAL);
    acto_test_close_system(env, sys);
}

static bool
echoed_or_closed(void *arg)
{
    seen *s = arg;
    return s->n >= 4 || s->closed;
}

/* Every allocation of a client's life failing in turn: connect, the
 * exchange, the close. Each time acto_tcp_connect fails with ACTO_ENOMEM,
 * or the client echoes, fails or stops; nothing crashes or leaks. */
static void
test_tcp_client_survives_each_allocation_failing(void **state)
{
    acto_test_env *env = *state;
    bool failed = true;
    long n = 1;
    for (; failed && n < 300; n++) {
        acto_system *sys = acto_test_system(env, NULL);
        acto_system_set_exception_handler(sys, on_exception, NULL);
        uint16_t port;
        acto_ref l = start_server(sys, NULL, NULL, 0, &port);
        seen s = {0};
        acto_tcp_connect_opts o = {
            .port = port, .handler = &client_handler, .user = &s};
        acto_ref c;
        acto_test_alloc_fail_nth(n);
        int rc = acto_tcp_connect(sys, &o, &c);
        if (rc != 0) {
            assert_acto_err(rc, ACTO_ENOMEM);
        } else {
            acto_test_run_until(&env->loop, echoed_or_closed, &s, DEADLINE_MS);
            failed = acto_test_alloc_failed();
            acto_test_alloc_fail_nth(0);
            if (!s.closed) {
                (void)acto_tcp_close(sys, NULL, c);
            }
            if (!acto_test_run_until(&env->loop, is_closed, &s, DEADLINE_MS)) {
                fail_msg("allocation %ld failing: the client never stopped", n);
            }
        }
        acto_test_alloc_fail_nth(0);
        stop_server(env, sys, l);
        acto_test_close_system(env, sys);
    }
    assert_false(failed);
    assert_true(n > 5);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(test_tcp_client_connects_writes_and_reads),
        acto_unit_test(
            test_tcp_client_reconnects_to_a_listener_that_appears_later),
        acto_unit_test(test_tcp_client_without_reconnect_fails_when_refused),
        acto_unit_test(test_tcp_client_connect_times_out),
        acto_unit_test(test_tcp_connect_rejects_bad_options),
        acto_unit_test(test_tcp_client_survives_each_allocation_failing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
