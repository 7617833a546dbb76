/* acto-echo as a real process: an echo round trip from a plain socket, a
 * run of its own load client against it, and SIGTERM ending it with
 * status 0 while a connection is still open. */
#include "tcp_world.h"

#include <signal.h>
#include <stdio.h>

typedef struct proc {
    uv_process_t proc;
    uv_pipe_t out;
    char text[4096];
    size_t len;
    bool exited;
    int64_t status;
    int term_signal;
    int closed; /* handles closed: the process and the pipe */
} proc;

static void
p_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    proc *p = h->data;
    *buf =
        uv_buf_init(p->text + p->len, (unsigned)(sizeof(p->text) - 1 - p->len));
}

static void
p_closed(uv_handle_t *h)
{
    ((proc *)h->data)->closed++;
}

static void
p_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    proc *p = st->data;
    if (n > 0) {
        p->len += (size_t)n;
        p->text[p->len] = '\0';
    } else if (n < 0) {
        uv_close((uv_handle_t *)st, p_closed);
    }
}

static void
p_exit(uv_process_t *h, int64_t status, int sig)
{
    proc *p = h->data;
    p->exited = true;
    p->status = status;
    p->term_signal = sig;
    uv_close((uv_handle_t *)h, p_closed);
}

static void
p_start(uv_loop_t *loop, proc *p, char **args)
{
    memset(p, 0, sizeof(*p));
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE,
         .data.stream = (uv_stream_t *)&p->out},
        {.flags = UV_INHERIT_FD, .data.fd = 2},
    };
    uv_process_options_t o = {.exit_cb = p_exit,
                              .file = ACTO_ECHO_PATH,
                              .args = args,
                              .stdio = stdio,
                              .stdio_count = 3};
    assert_int_equal(uv_pipe_init(loop, &p->out, 0), 0);
    p->out.data = p;
    p->proc.data = p;
    assert_int_equal(uv_spawn(loop, &p->proc, &o), 0);
    assert_int_equal(uv_read_start((uv_stream_t *)&p->out, p_alloc, p_read), 0);
}

static bool
p_listening(void *arg)
{
    return strstr(((proc *)arg)->text, "listening on ") != NULL &&
           strchr(strstr(((proc *)arg)->text, "listening on "), '\n') != NULL;
}

static bool
p_done(void *arg)
{
    proc *p = arg;
    return p->exited && p->closed == 2;
}

static void
test_acto_echo_echoes_and_stops_on_sigterm(void **state)
{
    acto_test_env *env = *state;
    proc srv;
    char *sargs[] = {(char *)ACTO_ECHO_PATH, (char *)"--port", (char *)"0",
                     NULL};
    p_start(&env->loop, &srv, sargs);
    if (!acto_test_run_until(&env->loop, p_listening, &srv, DEADLINE_MS)) {
        fail_msg("acto-echo never listened; it said:\n%s", srv.text);
    }
    unsigned port = 0;
    assert_int_equal(sscanf(strstr(srv.text, "listening on "),
                            "listening on 127.0.0.1:%u", &port),
                     1);
    peer p;
    assert_int_equal(peer_connect(&env->loop, &p, (uint16_t)port), 0);
    peer_write(&p, "round trip", 10);
    assert_true(peer_wait_bytes(&env->loop, &p, 10));
    assert_memory_equal(p.buf, "round trip", 10);
    /* Its own load client, against it. */
    char portarg[16];
    snprintf(portarg, sizeof(portarg), "%u", port);
    char *cargs[] = {(char *)ACTO_ECHO_PATH,
                     (char *)"--client",
                     (char *)"--port",
                     portarg,
                     (char *)"--connections",
                     (char *)"4",
                     (char *)"--messages",
                     (char *)"50",
                     NULL};
    proc cl;
    p_start(&env->loop, &cl, cargs);
    assert_true(acto_test_run_until(&env->loop, p_done, &cl, DEADLINE_MS));
    assert_int_equal(cl.status, 0);
    assert_non_null(strstr(cl.text, "4/4 connections complete"));
    /* SIGTERM with our connection open: a graceful stop closes it. */
    assert_int_equal(uv_process_kill(&srv.proc, SIGTERM), 0);
    assert_true(acto_test_run_until(&env->loop, peer_ended, &p, DEADLINE_MS));
    assert_true(p.eof);
    assert_true(acto_test_run_until(&env->loop, p_done, &srv, DEADLINE_MS));
    assert_int_equal(srv.term_signal, 0);
    assert_int_equal(srv.status, 0);
    assert_non_null(strstr(srv.text, "stopped (signal 15, clean"));
    peer_close(&env->loop, &p, false);
}

static void
test_acto_echo_rejects_bad_usage(void **state)
{
    acto_test_env *env = *state;
    proc p;
    char *args[] = {(char *)ACTO_ECHO_PATH, (char *)"--port", (char *)"70000",
                    NULL};
    p_start(&env->loop, &p, args);
    assert_true(acto_test_run_until(&env->loop, p_done, &p, DEADLINE_MS));
    assert_int_equal(p.status, 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(test_acto_echo_echoes_and_stops_on_sigterm),
        acto_unit_test(test_acto_echo_rejects_bad_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
