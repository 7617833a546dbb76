/* The world the HTTP client tests share: a local server (its own thread,
 * started and stopped around each test), a system and a session on the
 * test's loop, and helpers that run the loop until futures are done.
 * Included by test_http.c and test_http_patterns.c (static helpers). */
#ifndef ACTO_HTTP_WORLD_H
#define ACTO_HTTP_WORLD_H

#define HTTP_UNUSED __attribute__((unused))

#include "acto_test.h"
#include "http_server.h"

#include <acto/http.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEADLINE_MS 10000

typedef struct world {
    acto_test_env *env;
    http_server *srv;
    acto_system *sys;
    acto_ref session;
} world;

static world g_w;

/* url names path on the local server (four URLs at a time). */
static const char *
url(const char *path)
{
    static char urls[4][256];
    static int next;
    char *p = urls[next++ % 4];
    snprintf(p, sizeof(urls[0]), "http://127.0.0.1:%d%s",
             http_server_port(g_w.srv), path);
    return p;
}

static HTTP_UNUSED void
world_session(const acto_http_session_opts *o)
{
    assert_acto_ok(acto_http_session_spawn(g_w.sys, o, &g_w.session));
}

static int
http_setup(void **state)
{
    int rc = acto_test_setup(state);
    if (rc != 0) {
        return rc;
    }
    memset(&g_w, 0, sizeof(g_w));
    g_w.env = *state;
    if (http_server_start(&g_w.srv) != 0) {
        return -1;
    }
    g_w.sys = acto_test_system(g_w.env, NULL);
    return 0;
}

static int
http_teardown(void **state)
{
    if (g_w.sys != NULL) {
        acto_test_close_system(g_w.env, g_w.sys);
    }
    http_server_stop(g_w.srv);
    return acto_test_teardown(state);
}

#define http_test(f)                                                           \
    cmocka_unit_test_setup_teardown(f, http_setup, http_teardown)

static bool
future_done(void *arg)
{
    return acto_future_done(arg);
}

/* wait_done runs the loop until f is done (fails the test otherwise). */
static HTTP_UNUSED void
wait_done(acto_future *f)
{
    assert_true(
        acto_test_run_until(&g_w.env->loop, future_done, f, DEADLINE_MS));
}

/* get fetches url and runs the loop until the future is done. */
static HTTP_UNUSED acto_future *
get(const char *u)
{
    acto_future *f;
    assert_acto_ok(acto_http_get(g_w.sys, g_w.session, u, &f));
    wait_done(f);
    return f;
}

/* fetch_opts fetches with a request and waits. */
static HTTP_UNUSED acto_future *
fetch(const acto_http_request *req)
{
    acto_future *f;
    assert_acto_ok(acto_http_fetch(g_w.sys, g_w.session, req, &f));
    wait_done(f);
    return f;
}

/* assert_fails checks f failed with code and type, and returns its text. */
static HTTP_UNUSED const char *
assert_fails(acto_future *f, int code, const char *type)
{
    assert_int_equal(acto_future_state_of(f), ACTO_FUTURE_FAILED);
    const acto_error *e = acto_future_exception(f);
    assert_non_null(e);
    if (e->code != code || strcmp(e->type, type) != 0) {
        fail_msg("got %s %s (%s), want %s %s", acto_err_name(e->code), e->type,
                 e->text, acto_err_name(code), type);
    }
    return e->text;
}

static HTTP_UNUSED http_server_stats
server_stats(void)
{
    http_server_stats st;
    http_server_stats_get(g_w.srv, &st);
    return st;
}

static void
on_poll_tick(uv_timer_t *t)
{
    (void)t;
}

static void
free_tick(uv_handle_t *h)
{
    free(h);
}

/* loop_wait runs the loop until pred(arg) holds or ms pass, polling every 2 ms:
 * the server's counters change on its own thread, which cannot wake this loop,
 * and the loop may have nothing else to do. */
static HTTP_UNUSED bool
loop_wait(acto_test_pred pred, void *arg, uint64_t ms)
{
    uv_timer_t *tick = malloc(sizeof(*tick));
    assert_non_null(tick);
    uv_timer_init(&g_w.env->loop, tick);
    uv_timer_start(tick, on_poll_tick, 2, 2);
    bool ok = acto_test_run_until(&g_w.env->loop, pred, arg, ms);
    uv_close((uv_handle_t *)tick, free_tick);
    return ok;
}

static HTTP_UNUSED bool
server_wait(acto_test_pred pred)
{
    return loop_wait(pred, NULL, DEADLINE_MS);
}

static bool
never(void *arg)
{
    (void)arg;
    return false;
}

/* run_for runs the loop for ms, whatever it has to do. */
static HTTP_UNUSED void
run_for(uint64_t ms)
{
    loop_wait(never, NULL, ms);
}

static HTTP_UNUSED bool
server_closed_all(void *arg)
{
    (void)arg;
    http_server_stats st = server_stats();
    return st.closed == st.accepted && st.accepted > 0;
}

static HTTP_UNUSED bool
server_closed_one(void *arg)
{
    (void)arg;
    return server_stats().closed >= 1;
}

/* session_idle tells whether the session has no transfer in flight. */
static HTTP_UNUSED bool
session_idle(void *arg)
{
    (void)arg;
    acto_http_stats st;
    return acto_http_session_stats(g_w.sys, g_w.session, &st) == 0 &&
           st.in_flight == 0;
}

#endif /* ACTO_HTTP_WORLD_H */
