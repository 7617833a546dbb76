/* The TCP listener and connection actors over real sockets on 127.0.0.1:
 * echo, limits, idle timeout, half-close, backpressure both ways, resets,
 * frames and the graceful stop. */
#include "tcp_world.h"

/* ---- echo ------------------------------------------------------------- */

static void
test_tcp_echoes_and_counts(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    uint16_t port;
    acto_ref l = start_server(sys, NULL, NULL, 0, &port);
    assert_true(port != 0);
    peer p;
    assert_int_equal(peer_connect(&env->loop, &p, port), 0);
    peer_write(&p, "hello", 5);
    assert_true(peer_wait_bytes(&env->loop, &p, 5));
    assert_memory_equal(p.buf, "hello", 5);
    /* A client closing its side ends the connection, after the echo. */
    peer_shutdown(&p);
    assert_true(acto_test_run_until(&env->loop, peer_ended, &p, DEADLINE_MS));
    assert_true(p.eof);
    assert_true(wait_stat(env, sys, l, closed, 1));
    acto_tcp_stats st = stats_of(sys, l);
    assert_int_equal(st.accepted, 1);
    assert_int_equal(st.bytes_in, 5);
    assert_int_equal(st.bytes_out, 5);
    assert_int_equal(st.active, 0);
    assert_int_equal(st.failed, 0);
    peer_close(&env->loop, &p, false);
    stop_listener(env, sys, l);
    acto_test_close_system(env, sys);
}

static void
test_tcp_listen_rejects_bad_options(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    acto_ref l;
    acto_tcp_listen_opts o = {.handler = NULL};
    assert_acto_err(acto_tcp_listen(sys, &o, &l), ACTO_EINVAL);
    static const acto_tcp_handler no_receive = {.receive = NULL};
    o.handler = &no_receive;
    assert_acto_err(acto_tcp_listen(sys, &o, &l), ACTO_EINVAL);
    o.handler = &echo_handler;
    o.host = "not an address";
    assert_acto_err(acto_tcp_listen(sys, &o, &l), ACTO_EINVAL);
    o.host = NULL;
    o.limits.max_frame = ACTO_FRAME_CEILING + 1;
    o.limits.framing = ACTO_FRAME_LINES;
    assert_acto_err(acto_tcp_listen(sys, &o, &l), ACTO_EINVAL);
    /* A port in use is libuv's error, and nothing stays open. */
    uint16_t port;
    acto_ref first = start_server(sys, NULL, NULL, 0, &port);
    o.limits = (acto_tcp_limits){0};
    o.port = port;
    assert_acto_err(acto_tcp_listen(sys, &o, &l), UV_EADDRINUSE);
    uint16_t none;
    assert_acto_err(acto_tcp_listener_port(sys, ACTO_REF_NONE, &none),
                    ACTO_ENOACTOR);
    assert_acto_err(acto_tcp_conn_write_received(NULL, NULL, NULL, NULL),
                    ACTO_EINVAL);
    stop_listener(env, sys, first);
    acto_test_close_system(env, sys);
}

/* ---- limits ----------------------------------------------------------- */

static void
test_tcp_refuses_connections_over_the_limit(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    uint16_t port;
    acto_tcp_limits lim = {.max_connections = 1};
    acto_ref l = start_server(sys, &lim, NULL, 0, &port);
    peer a, b;
    assert_int_equal(peer_connect(&env->loop, &a, port), 0);
    assert_true(wait_stat(env, sys, l, accepted, 1));
    /* The extra one is reset at once (maybe before its connect reports);
     * the first still works. */
    int st_b = peer_connect(&env->loop, &b, port);
    assert_true(st_b == 0 || st_b == UV_ECONNRESET);
    if (st_b == 0) {
        assert_true(
            acto_test_run_until(&env->loop, peer_ended, &b, DEADLINE_MS));
    }
    peer_write(&a, "ok", 2);
    assert_true(peer_wait_bytes(&env->loop, &a, 2));
    acto_tcp_stats st = stats_of(sys, l);
    assert_int_equal(st.refused, 1);
    assert_int_equal(st.accepted, 1);
    assert_int_equal(st.active, 1);
    peer_close(&env->loop, &b, false);
    peer_close(&env->loop, &a, false);
    assert_true(wait_stat(env, sys, l, closed, 1));
    stop_listener(env, sys, l);
    acto_test_close_system(env, sys);
}

static void
test_tcp_closes_idle_connections(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    uint16_t port;
    acto_tcp_limits lim = {.idle_ms = 50};
    acto_ref l = start_server(sys, &lim, NULL, 0, &port);
    peer p;
    assert_int_equal(peer_connect(&env->loop, &p, port), 0);
    peer_write(&p, "x", 1);
    assert_true(peer_wait_bytes(&env->loop, &p, 1));
    assert_true(acto_test_run_until(&env->loop, peer_ended, &p, DEADLINE_MS));
    assert_true(wait_stat(env, sys, l, idle_closed, 1));
    acto_tcp_stats st = stats_of(sys, l);
    assert_int_equal(st.closed, 1);
    assert_int_equal(st.failed, 0);
    peer_close(&env->loop, &p, false);
    stop_listener(env, sys, l);
    acto_test_close_system(env, sys);
}

/* ---- half-close ------------------------------------------------------- */

/* With keep_open_on_eof the handler answers the EOF, then closes. */
static int
bye_receive(acto_ctx *ctx, acto_tcp_conn *c, void *state, const acto_msg *m)
{
    if (acto_msg_type(m) == ACTO_TCP_EOF) {
        int rc = acto_tcp_conn_write(c, "bye", 3, NULL);
        return rc != 0 ? rc : acto_tcp_conn_close(c);
    }
    return echo_receive(ctx, c, state, m);
}

static const acto_tcp_handler bye_handler = {.receive = bye_receive};

static void
test_tcp_half_close_lets_the_server_write_after_eof(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    uint16_t port;
    acto_tcp_limits lim = {.keep_open_on_eof = true};
    acto_ref l = start_server(sys, &lim, &bye_handler, 0, &port);
    peer p;
    assert_int_equal(peer_connect(&env->loop, &p, port), 0);
    peer_write(&p, "abc", 3);
    peer_shutdown(&p);
    assert_true(acto_test_run_until(&env->loop, peer_ended, &p, DEADLINE_MS));
    assert_true(p.eof);
    assert_int_equal(p.got, 6);
    assert_memory_equal(p.buf, "abcbye", 6);
    assert_true(wait_stat(env, sys, l, closed, 1));
    assert_int_equal(stats_of(sys, l).failed, 0);
    peer_close(&env->loop, &p, false);
    stop_listener(env, sys, l);
    acto_test_close_system(env, sys);
}

/* ---- backpressure ----------------------------------------------------- */

/* Suspends itself on the first item until the test resumes it, then
 * echoes: the mailbox fills meanwhile and reading must pause. */
static acto_ref g_held;

static int
hold_receive(acto_ctx *ctx, acto_tcp_conn *c, void *state, const acto_msg *m)
{
    if (acto_msg_type(m) == ACTO_TCP_DATA && acto_ref_is_none(g_held)) {
        g_held = acto_self(ctx);
        assert_acto_ok(acto_suspend(ctx));
    }
    return echo_receive(ctx, c, state, m);
}

static const acto_tcp_handler hold_handler = {.receive = hold_receive};

static void
test_tcp_full_mailbox_pauses_reading_and_loses_nothing(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    uint16_t port;
    acto_tcp_limits lim = {.mailbox = 4, .max_read_bytes = 16 * 1024};
    g_held = ACTO_REF_NONE;
    acto_ref l = start_server(sys, &lim, &hold_handler, 0, &port);
    peer p;
    assert_int_equal(peer_connect(&env->loop, &p, port), 0);
    enum { N = 4 << 20 };
    char *data = malloc(N);
    for (size_t i = 0; i < N; i++) {
        data[i] = (char)(i * 7 + i / 4096);
    }
    peer_write(&p, data, N);
    assert_true(wait_stat(env, sys, l, read_pauses, 1));
    /* While the handler holds, the server keeps a bounded amount: the
     * rest waits in the kernel and in the peer. */
    for (int i = 0; i < 50; i++) {
        acto_test_run_once(&env->loop);
    }
    long held = acto_test_alloc_live_bytes();
    assert_true(held < 512 * 1024);
    assert_true(stats_of(sys, l).bytes_in < N);
    assert_acto_ok(acto_resume(sys, g_held));
    assert_true(peer_wait_bytes(&env->loop, &p, N));
    assert_int_equal(p.got, N);
    assert_memory_equal(p.buf, data, N);
    free(data);
    peer_close(&env->loop, &p, false);
    assert_true(wait_stat(env, sys, l, closed, 1));
    stop_listener(env, sys, l);
    acto_test_close_system(env, sys);
}

static void
test_tcp_cuts_a_client_that_stops_reading(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    uint16_t port;
    acto_tcp_limits lim = {.max_write_bytes = 64 * 1024,
                           .slow_reader_ms = 200,
                           .framing = ACTO_FRAME_LINES};
    acto_ref l = start_server(sys, &lim, NULL, 0, &port);
    peer p;
    assert_int_equal(peer_connect(&env->loop, &p, port), 0);
    uv_read_stop((uv_stream_t *)&p.tcp);
    /* Each "big" asks for 1 MiB: the server parks past 64 KiB queued
     * and must not grow however many the client sends. */
    for (int i = 0; i < 16; i++) {
        peer_write(&p, "big\n", 4);
    }
    assert_true(wait_stat(env, sys, l, write_parks, 1));
    long held = acto_test_alloc_live_bytes();
    assert_true(held < 4 * (long)BIG_BYTES);
    assert_true(wait_stat(env, sys, l, slow_reader_cut, 1));
    acto_tcp_stats st = stats_of(sys, l);
    assert_int_equal(st.closed, 1);
    assert_int_equal(st.active, 0);
    peer_close(&env->loop, &p, false);
    stop_listener(env, sys, l);
    acto_test_close_system(env, sys);
}

/* A producer actor writes CHUNK-byte blocks to a connection whose peer
 * does not read yet, one per turn: the connection suspends past its
 * write bound, its mailbox fills and the producer parks, so the server
 * holds a bounded amount however much is produced. */
#define CHUNK (64 * 1024)
enum { T_NEXT = 1 };

typedef struct producer {
    acto_ref conn;
    int left;
    char block[CHUNK];
} producer;

static acto_ref g_conn;

static char g_peer[64];

static int
record_open(acto_ctx *ctx, acto_tcp_conn *c, void *user, void **state)
{
    (void)ctx;
    (void)user;
    (void)state;
    g_conn = acto_tcp_conn_ref(c);
    assert_acto_ok(acto_tcp_conn_peer(c, g_peer, sizeof(g_peer)));
    char tiny[4];
    assert_acto_err(acto_tcp_conn_peer(c, tiny, sizeof(tiny)), UV_ENOBUFS);
    return 0;
}

static const acto_tcp_handler record_handler = {.open = record_open,
                                                .receive = echo_receive};

static int
producer_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)m;
    producer *p = state;
    if (p->left == 0) {
        return acto_stop(acto_ctx_system(ctx), acto_self(ctx));
    }
    p->left--;
    int rc = acto_tcp_send(acto_ctx_system(ctx), ctx, p->conn, p->block, CHUNK,
                           NULL);
    return rc != 0 ? rc : acto_tell(ctx, acto_self(ctx), T_NEXT, NULL, 0);
}

static void
producer_stop(acto_ctx *ctx, void *state, const acto_exit_reason *why)
{
    (void)ctx;
    (void)why;
    free(state);
}

static const acto_behaviour producer_b = {.receive = producer_receive,
                                          .stop = producer_stop};

static bool
parked(void *arg)
{
    acto_stats st;
    acto_system_stats(arg, &st);
    return st.parks > 0;
}

static void
test_tcp_writers_park_while_the_peer_does_not_read(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    uint16_t port;
    acto_tcp_limits lim = {.mailbox = 4, .max_write_bytes = 2 * CHUNK};
    g_conn = ACTO_REF_NONE;
    acto_ref l = start_server(sys, &lim, &record_handler, 0, &port);
    peer p;
    assert_int_equal(peer_connect(&env->loop, &p, port), 0);
    uv_read_stop((uv_stream_t *)&p.tcp);
    assert_true(wait_stat(env, sys, l, accepted, 1));
    assert_true(strncmp(g_peer, "127.0.0.1:", 10) == 0);
    enum { BLOCKS = 400 }; /* 25 MiB: more than the kernel buffers */
    producer *pr = calloc(1, sizeof(*pr));
    pr->conn = g_conn;
    pr->left = BLOCKS;
    memset(pr->block, 'z', CHUNK);
    acto_ref a;
    assert_acto_ok(acto_spawn(sys, &producer_b, pr, NULL, &a));
    assert_acto_ok(acto_test_send_bytes(sys, a, T_NEXT, NULL, 0));
    assert_true(acto_test_run_until(&env->loop, parked, sys, DEADLINE_MS));
    assert_true(wait_stat(env, sys, l, write_parks, 1));
    for (int i = 0; i < 50; i++) {
        acto_test_run_once(&env->loop);
    }
    /* The mailbox (4), the parked send and the write bound. */
    assert_true(acto_test_alloc_live_bytes() < 16 * CHUNK);
    assert_true(pr->left > 0);
    /* The peer reads: everything arrives. */
    uv_read_start((uv_stream_t *)&p.tcp, peer_alloc, peer_read);
    assert_true(peer_wait_bytes(&env->loop, &p, (size_t)BLOCKS * CHUNK));
    assert_int_equal(p.got, (size_t)BLOCKS * CHUNK);
    assert_int_equal(stats_of(sys, l).slow_reader_cut, 0);
    assert_true(wait_dead(env, sys, a));
    peer_close(&env->loop, &p, false);
    assert_true(wait_stat(env, sys, l, closed, 1));
    stop_listener(env, sys, l);
    acto_test_close_system(env, sys);
}

/* ---- failures --------------------------------------------------------- */

static void
test_tcp_reset_mid_write_fails_only_that_connection(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    uint16_t port;
    acto_ref l = start_server(sys, NULL, NULL, 0, &port);
    peer a, b;
    assert_int_equal(peer_connect(&env->loop, &a, port), 0);
    assert_int_equal(peer_connect(&env->loop, &b, port), 0);
    peer_write(&a, "big", 3);
    assert_true(peer_wait_bytes(&env->loop, &a, 1));
    peer_close(&env->loop, &a, true);
    assert_true(wait_stat(env, sys, l, failed, 1));
    peer_write(&b, "still here", 10);
    assert_true(peer_wait_bytes(&env->loop, &b, 10));
    assert_memory_equal(b.buf, "still here", 10);
    acto_tcp_stats st = stats_of(sys, l);
    assert_int_equal(st.closed, 1);
    assert_int_equal(st.active, 1);
    assert_true(acto_alive(sys, l));
    peer_close(&env->loop, &b, false);
    assert_true(wait_stat(env, sys, l, closed, 2));
    stop_listener(env, sys, l);
    acto_test_close_system(env, sys);
}

/* A write's future fails when the peer resets before it is written. */
static acto_future *g_write;

static int
future_receive(acto_ctx *ctx, acto_tcp_conn *c, void *state, const acto_msg *m)
{
    (void)ctx;
    (void)state;
    if (acto_msg_type(m) != ACTO_TCP_DATA || g_write != NULL) {
        return 0;
    }
    static char big[32 << 20];
    return acto_tcp_conn_write(c, big, sizeof(big), &g_write);
}

static const acto_tcp_handler future_handler = {.receive = future_receive};

static bool
write_started(void *arg)
{
    (void)arg;
    return g_write != NULL;
}

static void
test_tcp_write_future_fails_when_the_peer_resets(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    uint16_t port;
    acto_tcp_limits lim = {.max_write_bytes = 64 << 20};
    g_write = NULL;
    acto_ref l = start_server(sys, &lim, &future_handler, 0, &port);
    peer p;
    assert_int_equal(peer_connect(&env->loop, &p, port), 0);
    uv_read_stop((uv_stream_t *)&p.tcp);
    peer_write(&p, "x", 1);
    assert_true(
        acto_test_run_until(&env->loop, write_started, NULL, DEADLINE_MS));
    assert_false(acto_future_done(g_write));
    peer_close(&env->loop, &p, true);
    assert_true(acto_test_run_until(
        &env->loop, (acto_test_pred)acto_future_done, g_write, DEADLINE_MS));
    int rc = acto_future_result(g_write, NULL);
    assert_true(rc == UV_ECONNRESET || rc == UV_EPIPE || rc == ACTO_ECANCELED);
    acto_future_release(g_write);
    assert_true(wait_stat(env, sys, l, failed, 1));
    stop_listener(env, sys, l);
    acto_test_close_system(env, sys);
}

/* The errors of failed connections, as the listener reports them. */
static char g_errors[256];

static void
on_conn_error(acto_system *sys, acto_ref conn, const acto_error *err,
              void *user)
{
    (void)sys;
    (void)conn;
    (void)user;
    size_t n = strlen(g_errors);
    snprintf(g_errors + n, sizeof(g_errors) - n, "%s(%s);", err->type,
             acto_err_name(err->code));
}

/* A handler whose open fails: that connection closes, counted as
 * failed, with the open's error. */
static int
refusing_open(acto_ctx *ctx, acto_tcp_conn *c, void *user, void **state)
{
    (void)ctx;
    (void)c;
    (void)user;
    (void)state;
    return UV_EACCES;
}

static const acto_tcp_handler refusing = {.open = refusing_open,
                                          .receive = echo_receive};

static void
test_tcp_open_failure_closes_that_connection(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    acto_tcp_listen_opts o = {.handler = &refusing, .on_error = on_conn_error};
    g_errors[0] = '\0';
    acto_ref l;
    assert_acto_ok(acto_tcp_listen(sys, &o, &l));
    uint16_t port;
    assert_acto_ok(acto_tcp_listener_port(sys, l, &port));
    peer p;
    int st = peer_connect(&env->loop, &p, port);
    assert_true(st == 0 || st == UV_ECONNRESET);
    assert_true(wait_stat(env, sys, l, failed, 1));
    assert_string_equal(g_errors, "OpenFailed(UV_EACCES);");
    acto_tcp_stats s = stats_of(sys, l);
    assert_int_equal(s.closed, 1);
    assert_int_equal(s.active, 0);
    peer_close(&env->loop, &p, false);
    stop_listener(env, sys, l);
    acto_test_close_system(env, sys);
}

/* ---- frames ----------------------------------------------------------- */

static void
frame(peer *p, const void *payload, uint32_t len)
{
    uint8_t h[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16),
                    (uint8_t)(len >> 8), (uint8_t)len};
    peer_write(p, h, 4);
    if (payload != NULL) {
        peer_write(p, payload, len);
    }
}

static void
test_tcp_bad_frames_close_their_connection_only(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    acto_tcp_listen_opts o = {
        .handler = &echo_handler,
        .limits = {.framing = ACTO_FRAME_MSGPACK, .max_frame = 1024},
        .on_error = on_conn_error};
    g_errors[0] = '\0';
    acto_ref l;
    assert_acto_ok(acto_tcp_listen(sys, &o, &l));
    uint16_t port;
    assert_acto_ok(acto_tcp_listener_port(sys, l, &port));
    peer good, big, bad;
    assert_int_equal(peer_connect(&env->loop, &good, port), 0);
    assert_int_equal(peer_connect(&env->loop, &big, port), 0);
    assert_int_equal(peer_connect(&env->loop, &bad, port), 0);
    /* A valid frame, cut across two writes, comes back framed. */
    const uint8_t obj[] = {0x92, 0x01, 0xa2, 'h', 'i'}; /* [1, "hi"] */
    frame(&good, NULL, sizeof(obj));
    peer_write(&good, obj, 2);
    peer_write(&good, obj + 2, sizeof(obj) - 2);
    assert_true(peer_wait_bytes(&env->loop, &good, 4 + sizeof(obj)));
    assert_memory_equal(good.buf + 4, obj, sizeof(obj));
    assert_int_equal((uint8_t)good.buf[3], sizeof(obj));
    /* Over the limit: refused from the header alone. */
    frame(&big, NULL, 1u << 30);
    assert_true(acto_test_run_until(&env->loop, peer_ended, &big, DEADLINE_MS));
    assert_true(wait_stat(env, sys, l, failed, 1));
    assert_string_equal(g_errors, "FrameTooLarge(UV_EMSGSIZE);");
    /* Not one msgpack object: two, and a reserved byte. */
    const uint8_t two[] = {0x01, 0x02};
    frame(&bad, two, sizeof(two));
    assert_true(acto_test_run_until(&env->loop, peer_ended, &bad, DEADLINE_MS));
    assert_true(wait_stat(env, sys, l, failed, 2));
    assert_string_equal(
        g_errors, "FrameTooLarge(UV_EMSGSIZE);MalformedFrame(UV_EPROTO);");
    acto_tcp_stats st = stats_of(sys, l);
    assert_int_equal(st.frame_errors, 2);
    assert_int_equal(st.active, 1);
    frame(&good, obj, sizeof(obj));
    assert_true(peer_wait_bytes(&env->loop, &good, 2 * (4 + sizeof(obj))));
    peer_close(&env->loop, &big, false);
    peer_close(&env->loop, &bad, false);
    peer_close(&env->loop, &good, false);
    assert_true(wait_stat(env, sys, l, closed, 3));
    stop_listener(env, sys, l);
    acto_test_close_system(env, sys);
}

static void
test_tcp_line_framing_cuts_lines_and_bounds_them(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    uint16_t port;
    acto_tcp_limits lim = {.framing = ACTO_FRAME_LINES, .max_frame = 8};
    acto_ref l = start_server(sys, &lim, NULL, 0, &port);
    peer p, q;
    assert_int_equal(peer_connect(&env->loop, &p, port), 0);
    assert_int_equal(peer_connect(&env->loop, &q, port), 0);
    peer_write(&p, "a\nbb\r\ncc", 8);
    peer_write(&p, "c\n", 2);
    assert_true(peer_wait_bytes(&env->loop, &p, 9));
    assert_memory_equal(p.buf, "a\nbb\nccc\n", 9);
    peer_write(&q, "123456789", 9);
    assert_true(acto_test_run_until(&env->loop, peer_ended, &q, DEADLINE_MS));
    assert_true(wait_stat(env, sys, l, frame_errors, 1));
    peer_close(&env->loop, &p, false);
    peer_close(&env->loop, &q, false);
    assert_true(wait_stat(env, sys, l, closed, 2));
    assert_int_equal(stats_of(sys, l).failed, 1);
    stop_listener(env, sys, l);
    acto_test_close_system(env, sys);
}

/* ---- the graceful stop ------------------------------------------------ */

static void
test_tcp_graceful_stop_delivers_pending_writes(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    uint16_t port;
    acto_tcp_limits lim = {.max_write_bytes = 4 * BIG_BYTES};
    acto_ref l = start_server(sys, &lim, NULL, 0, &port);
    peer p;
    assert_int_equal(peer_connect(&env->loop, &p, port), 0);
    peer_write(&p, "big", 3);
    assert_true(peer_wait_bytes(&env->loop, &p, 1));
    assert_acto_ok(acto_shutdown(sys, l));
    /* Everything queued arrives, then the server's FIN. */
    assert_true(acto_test_run_until(&env->loop, peer_ended, &p, DEADLINE_MS));
    assert_true(p.eof);
    assert_int_equal(p.got, BIG_BYTES);
    assert_int_equal(p.buf[BIG_BYTES - 1], (char)('a' + (BIG_BYTES - 1) % 26));
    assert_true(wait_dead(env, sys, l));
    /* Nobody listens any more. */
    peer q;
    assert_int_equal(peer_connect(&env->loop, &q, port), UV_ECONNREFUSED);
    uv_close((uv_handle_t *)&q.tcp, NULL);
    peer_close(&env->loop, &p, false);
    acto_test_close_system(env, sys);
}

static void
test_tcp_graceful_stop_kills_what_outlasts_the_budget(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    uint16_t port;
    g_held = ACTO_REF_NONE;
    acto_tcp_limits lim = {.shutdown_ms = 100};
    acto_ref l = start_server(sys, &lim, &hold_handler, 0, &port);
    peer p;
    assert_int_equal(peer_connect(&env->loop, &p, port), 0);
    peer_write(&p, "x", 1);
    assert_true(wait_stat(env, sys, l, bytes_in, 1));
    /* The held handler never sees the shutdown notice: killed at 100 ms. */
    assert_acto_ok(acto_shutdown(sys, l));
    assert_true(acto_test_run_until(&env->loop, peer_ended, &p, DEADLINE_MS));
    assert_true(wait_dead(env, sys, l));
    peer_close(&env->loop, &p, false);
    acto_test_close_system(env, sys);
}

/* ---- out of memory ---------------------------------------------------- */

static bool
echoed_or_ended(void *arg)
{
    peer *p = arg;
    return p->got >= 2 || peer_ended(p);
}

/* Every allocation from listening to the echo fails in turn: each time
 * the caller gets ACTO_ENOMEM or the client sees the echo or a close;
 * nothing crashes and nothing leaks. */
static void
test_tcp_survives_each_allocation_failing(void **state)
{
    acto_test_env *env = *state;
    bool failed = true;
    long n_done = 0;
    for (long n = 1; failed && n < 200; n++) {
        n_done = n;
        acto_system *sys = acto_test_system(env, NULL);
        acto_test_alloc_fail_nth(n);
        acto_tcp_listen_opts o = {.handler = &echo_handler};
        acto_ref l;
        int rc = acto_tcp_listen(sys, &o, &l);
        if (rc != 0) {
            assert_acto_err(rc, ACTO_ENOMEM);
            failed = true;
        } else {
            uint16_t port;
            assert_acto_ok(acto_tcp_listener_port(sys, l, &port));
            peer p;
            /* Refused (reset) when the connection's memory failed. */
            int st = peer_connect(&env->loop, &p, port);
            assert_true(st == 0 || st == UV_ECONNRESET);
            if (st == 0) {
                peer_write(&p, "hi", 2);
                acto_test_run_until(&env->loop, echoed_or_ended, &p, 2000);
                assert_true(echoed_or_ended(&p));
                if (p.got > 0) {
                    assert_int_equal(p.got, 2);
                    assert_memory_equal(p.buf, "hi", 2);
                }
            }
            failed = acto_test_alloc_failed();
            acto_test_alloc_fail_nth(0);
            peer_close(&env->loop, &p, false);
            assert_acto_ok(acto_shutdown(sys, l));
            assert_true(wait_dead(env, sys, l));
        }
        acto_test_alloc_fail_nth(0);
        acto_test_close_system(env, sys);
    }
    assert_false(failed);
    assert_true(n_done > 5); /* the listen, the accept and the echo */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(test_tcp_echoes_and_counts),
        acto_unit_test(test_tcp_listen_rejects_bad_options),
        acto_unit_test(test_tcp_refuses_connections_over_the_limit),
        acto_unit_test(test_tcp_closes_idle_connections),
        acto_unit_test(test_tcp_half_close_lets_the_server_write_after_eof),
        acto_unit_test(test_tcp_full_mailbox_pauses_reading_and_loses_nothing),
        acto_unit_test(test_tcp_cuts_a_client_that_stops_reading),
        acto_unit_test(test_tcp_writers_park_while_the_peer_does_not_read),
        acto_unit_test(test_tcp_reset_mid_write_fails_only_that_connection),
        acto_unit_test(test_tcp_write_future_fails_when_the_peer_resets),
        acto_unit_test(test_tcp_open_failure_closes_that_connection),
        acto_unit_test(test_tcp_bad_frames_close_their_connection_only),
        acto_unit_test(test_tcp_line_framing_cuts_lines_and_bounds_them),
        acto_unit_test(test_tcp_graceful_stop_delivers_pending_writes),
        acto_unit_test(test_tcp_graceful_stop_kills_what_outlasts_the_budget),
        acto_unit_test(test_tcp_survives_each_allocation_failing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
