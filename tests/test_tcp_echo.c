/* acto-echo as a real process: an echo round trip from a plain socket, a
 * run of its own load client against it, and SIGTERM ending it with
 * status 0 while a connection is still open. */
#include "tcp_world.h"

#include <signal.h>
#include <stdio.h>

static bool
p_listening(void *arg)
{
    return strstr(((acto_test_proc *)arg)->text, "listening on ") != NULL &&
           strchr(strstr(((acto_test_proc *)arg)->text, "listening on "),
                  '\n') != NULL;
}

static void
test_acto_echo_echoes_and_stops_on_sigterm(void **state)
{
    acto_test_env *env = *state;
    acto_test_proc srv;
    char *sargs[] = {(char *)ACTO_ECHO_PATH, (char *)"--port", (char *)"0",
                     NULL};
    acto_test_proc_start(&env->loop, &srv, sargs);
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
    acto_test_proc cl;
    acto_test_proc_start(&env->loop, &cl, cargs);
    assert_true(
        acto_test_run_until(&env->loop, acto_test_proc_done, &cl, DEADLINE_MS));
    assert_int_equal(cl.status, 0);
    assert_non_null(strstr(cl.text, "4/4 connections complete"));
    /* SIGTERM with our connection open: a graceful stop closes it. */
    assert_int_equal(uv_process_kill(&srv.proc, SIGTERM), 0);
    assert_true(acto_test_run_until(&env->loop, peer_ended, &p, DEADLINE_MS));
    assert_true(p.eof);
    assert_true(acto_test_run_until(&env->loop, acto_test_proc_done, &srv,
                                    DEADLINE_MS));
    assert_int_equal(srv.term_signal, 0);
    assert_int_equal(srv.status, 0);
    assert_non_null(strstr(srv.text, "stopped (signal 15, clean"));
    peer_close(&env->loop, &p, false);
}

static void
test_acto_echo_rejects_bad_usage(void **state)
{
    acto_test_env *env = *state;
    acto_test_proc p;
    char *args[] = {(char *)ACTO_ECHO_PATH, (char *)"--port", (char *)"70000",
                    NULL};
    acto_test_proc_start(&env->loop, &p, args);
    assert_true(
        acto_test_run_until(&env->loop, acto_test_proc_done, &p, DEADLINE_MS));
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
