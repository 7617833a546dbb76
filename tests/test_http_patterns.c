/* The fetch patterns of the seeds, written with acto's combinators and
 * sync objects against the local server: many URLs with gather,
 * responses as they complete with as_completed and a timeout, a crawler
 * limited by a semaphore, and a slow endpoint timing out (wait_for) while
 * the others succeed. */
#include "http_world.h"

#include <acto/combinators.h>
#include <acto/sync.h>

/* ---- gather ----------------------------------------------------------- */

static void
gather_fetches_many_urls_in_argument_order(void **state)
{
    (void)state;
    world_session(NULL);
    enum { N = 40 };
    acto_future *fs[N];
    for (int i = 0; i < N; i++) {
        char path[32];
        snprintf(path, sizeof(path), "/big?bytes=%d", i * 100);
        assert_acto_ok(acto_http_get(g_w.sys, g_w.session, url(path), &fs[i]));
    }
    acto_future *all;
    assert_acto_ok(acto_gather(g_w.sys, fs, N, false, &all));
    wait_done(all);
    acto_gather_result *r = NULL;
    assert_acto_ok(acto_future_result(all, (void **)&r));
    assert_int_equal(r->n, N);
    for (int i = 0; i < N; i++) {
        const acto_http_response *resp = r->items[i].value;
        assert_int_equal(resp->status, 200);
        assert_int_equal(resp->body_len, i * 100);
    }
    acto_future_release(all);
    for (int i = 0; i < N; i++) {
        acto_future_release(fs[i]);
    }
}

/* ---- as_completed ----------------------------------------------------- */

typedef struct arrivals {
    size_t order[8];
    int status[8];
    size_t n;
    size_t timed_out;
} arrivals;

static void
on_arrival(acto_future *member, size_t index, int status, void *user)
{
    arrivals *a = user;
    if (status == ACTO_ETIMEDOUT) {
        a->timed_out++;
        return;
    }
    const acto_http_response *r = acto_http_response_of(member);
    a->order[a->n] = index;
    a->status[a->n] = r != NULL ? r->status : -1;
    a->n++;
}

static void
as_completed_delivers_responses_as_they_arrive_until_the_timeout(void **state)
{
    (void)state;
    world_session(NULL);
    static const char *const paths[] = {"/slow?ms=300", "/slow?ms=10000", "/ok",
                                        "/slow?ms=100"};
    acto_future *fs[4];
    for (int i = 0; i < 4; i++) {
        assert_acto_ok(
            acto_http_get(g_w.sys, g_w.session, url(paths[i]), &fs[i]));
    }
    arrivals a = {0};
    acto_future *out;
    assert_acto_ok(
        acto_as_completed(g_w.sys, fs, 4, 1500, on_arrival, &a, &out));
    wait_done(out);
    assert_acto_err(acto_future_result(out, NULL), ACTO_ETIMEDOUT);
    /* Fastest first; the 10 s one did not make it. */
    assert_int_equal(a.n, 3);
    assert_int_equal(a.order[0], 2);
    assert_int_equal(a.order[1], 3);
    assert_int_equal(a.order[2], 0);
    assert_int_equal(a.status[0], 200);
    assert_int_equal(a.timed_out, 1);
    /* as_completed cancels nothing: the caller gives up on the straggler,
     * and that aborts its transfer. */
    assert_false(acto_future_done(fs[1]));
    assert_acto_ok(acto_future_cancel(fs[1], NULL));
    assert_true(server_wait(server_closed_one));
    acto_future_release(out);
    for (int i = 0; i < 4; i++) {
        acto_future_release(fs[i]);
    }
}

/* ---- a semaphore-limited crawler -------------------------------------- */

enum { T_START = 1, T_PERMIT, T_FETCHED };

#define PAGES 63
#define PERMITS 3

typedef struct crawler {
    acto_semaphore *sem;
    char queue[PAGES][32]; /* paths found and not yet fetched */
    size_t head;
    size_t tail;
    bool seen[PAGES + 1];
    size_t fetched;
    size_t in_flight;
    size_t max_in_flight;
    size_t errors;
    bool done;
} crawler;

/* discover queues path unless seen, and asks for a permit to fetch it. */
static int
discover(acto_ctx *ctx, crawler *c, const char *path)
{
    unsigned long n = strtoul(path + 6, NULL, 10);
    if (strncmp(path, "/tree/", 6) != 0 || n == 0 || n > PAGES || c->seen[n]) {
        return 0;
    }
    c->seen[n] = true;
    snprintf(c->queue[c->tail++], sizeof(c->queue[0]), "%s", path);
    acto_future *permit;
    int rc = acto_semaphore_acquire(c->sem, &permit);
    if (rc == 0) {
        rc = acto_future_notify(ctx, permit, T_PERMIT);
        acto_future_release(permit);
    }
    return rc;
}

static int
on_permit(acto_ctx *ctx, crawler *c)
{
    acto_future *f;
    int rc = acto_http_get(acto_ctx_system(ctx), g_w.session,
                           url(c->queue[c->head++]), &f);
    if (rc != 0) {
        return rc;
    }
    if (++c->in_flight > c->max_in_flight) {
        c->max_in_flight = c->in_flight;
    }
    rc = acto_future_notify(ctx, f, T_FETCHED);
    acto_future_release(f);
    return rc;
}

static int
on_fetched(acto_ctx *ctx, crawler *c, acto_future *f)
{
    c->in_flight--;
    c->fetched++;
    acto_semaphore_release(c->sem);
    const acto_http_response *r = acto_http_response_of(f);
    if (r == NULL || r->status != 200) {
        c->errors++;
        acto_future_exception(f);
    } else {
        char links[64];
        snprintf(links, sizeof(links), "%s", r->body);
        for (char *l = strtok(links, "\n"); l != NULL; l = strtok(NULL, "\n")) {
            int rc = discover(ctx, c, l);
            if (rc != 0) {
                return rc;
            }
        }
    }
    c->done = c->in_flight == 0 && c->head == c->tail;
    return 0;
}

static int
crawler_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    crawler *c = state;
    switch (acto_msg_type(m)) {
    case T_START:
        return discover(ctx, c, "/tree/1");
    case T_PERMIT:
        return on_permit(ctx, c);
    case T_FETCHED:
        return on_fetched(ctx, c, acto_msg_future(m));
    default:
        return 0;
    }
}

static const acto_behaviour crawler_b = {.receive = crawler_receive};

static void
a_semaphore_limits_a_crawler(void **state)
{
    (void)state;
    world_session(NULL);
    crawler *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    assert_acto_ok(acto_semaphore_new(g_w.sys, PERMITS, true, &c->sem));
    acto_ref r;
    assert_acto_ok(acto_spawn(g_w.sys, &crawler_b, c, NULL, &r));
    assert_acto_ok(acto_test_send_int(g_w.sys, r, T_START, 0));
    assert_true(acto_test_run_until(&g_w.env->loop, acto_test_flag, &c->done,
                                    DEADLINE_MS));
    assert_int_equal(c->fetched, PAGES);
    assert_int_equal(c->errors, 0);
    assert_int_equal(c->max_in_flight, PERMITS);
    http_server_stats st = server_stats();
    assert_int_equal(st.requests, PAGES);
    assert_true(st.open_max <= PERMITS);
    assert_int_equal(acto_semaphore_value(c->sem), PERMITS);
    acto_semaphore_free(c->sem);
    free(c);
}

/* ---- a slow endpoint times out, the others succeed --------------------- */

static void
wait_for_times_out_a_slow_endpoint_while_the_others_succeed(void **state)
{
    (void)state;
    world_session(NULL);
    static const char *const paths[] = {"/ok", "/slow?ms=10000", "/status/404",
                                        "/slow?ms=20"};
    acto_future *fs[4], *bounded[4];
    for (int i = 0; i < 4; i++) {
        assert_acto_ok(
            acto_http_get(g_w.sys, g_w.session, url(paths[i]), &fs[i]));
        assert_acto_ok(acto_wait_for(g_w.sys, fs[i], 300, &bounded[i]));
    }
    acto_future *all;
    assert_acto_ok(acto_gather(g_w.sys, bounded, 4, true, &all));
    wait_done(all);
    acto_gather_result *r = NULL;
    assert_acto_ok(acto_future_result(all, (void **)&r));
    assert_int_equal(r->items[0].state, ACTO_FUTURE_DONE);
    assert_int_equal(r->items[2].state, ACTO_FUTURE_DONE);
    assert_int_equal(r->items[3].state, ACTO_FUTURE_DONE);
    assert_int_equal(((const acto_http_response *)r->items[2].value)->status,
                     404);
    assert_int_equal(r->items[1].state, ACTO_FUTURE_FAILED);
    assert_int_equal(r->items[1].error->code, ACTO_ETIMEDOUT);
    /* wait_for cancelled the slow fetch, which aborted its transfer. */
    assert_true(acto_future_cancelled(fs[1]));
    assert_true(
        acto_test_run_until(&g_w.env->loop, session_idle, NULL, DEADLINE_MS));
    assert_true(server_wait(server_closed_one));
    acto_future_release(all);
    for (int i = 0; i < 4; i++) {
        acto_future_release(bounded[i]);
        acto_future_release(fs[i]);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        http_test(gather_fetches_many_urls_in_argument_order),
        http_test(
            as_completed_delivers_responses_as_they_arrive_until_the_timeout),
        http_test(a_semaphore_limits_a_crawler),
        http_test(wait_for_times_out_a_slow_endpoint_while_the_others_succeed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
