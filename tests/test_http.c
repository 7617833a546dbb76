/* The HTTP client against a local server: responses, the connection
 * pool, timeouts, cancellation, errors and streamed bodies. */
#include "http_world.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

enum { T_CHUNK = 3 };

/* ---- responses -------------------------------------------------------- */

static void
get_returns_status_headers_and_body(void **state)
{
    (void)state;
    world_session(NULL);
    acto_future *f = get(url("/ok"));
    const acto_http_response *r = acto_http_response_of(f);
    assert_non_null(r);
    assert_int_equal(r->status, 200);
    assert_int_equal(r->body_len, 2);
    assert_string_equal(r->body, "ok");
    assert_string_equal(r->url, url("/ok"));
    assert_string_equal(acto_http_header_get(r, "content-type"), "text/plain");
    assert_string_equal(acto_http_header_get(r, "Content-Length"), "2");
    assert_null(acto_http_header_get(r, "X-None"));
    acto_future_release(f);
}

static void
post_sends_method_headers_and_body(void **state)
{
    (void)state;
    world_session(NULL);
    acto_http_header h[] = {{"X-Test", "hello there"}};
    static const char body[] = "a\0binary body";
    acto_http_request req = {.url = url("/echo"),
                             .headers = h,
                             .n_headers = 1,
                             .body = body,
                             .body_len = sizeof(body)};
    acto_future *f = fetch(&req);
    const acto_http_response *r = acto_http_response_of(f);
    assert_non_null(r);
    assert_int_equal(r->status, 200);
    assert_string_equal(acto_http_header_get(r, "X-Method"), "POST");
    assert_string_equal(acto_http_header_get(r, "X-Got-Header"), "hello there");
    assert_int_equal(r->body_len, sizeof(body));
    assert_memory_equal(r->body, body, sizeof(body));
    acto_future_release(f);

    req.method = "PUT";
    f = fetch(&req);
    assert_string_equal(
        acto_http_header_get(acto_http_response_of(f), "X-Method"), "PUT");
    acto_future_release(f);
    /* A large body goes at once (no "Expect: 100-continue" wait). */
    char *large = malloc(12000);
    assert_non_null(large);
    memset(large, 'x', 12000);
    req.method = NULL;
    req.body = large;
    req.body_len = 12000;
    f = fetch(&req);
    assert_int_equal(acto_http_response_of(f)->body_len, 12000);
    acto_future_release(f);
    free(large);
    /* GET with a body, and POST without one. */
    req = (acto_http_request){
        .method = "GET", .url = url("/echo"), .body = "q", .body_len = 1};
    f = fetch(&req);
    r = acto_http_response_of(f);
    assert_string_equal(acto_http_header_get(r, "X-Method"), "GET");
    assert_string_equal(r->body, "q");
    acto_future_release(f);
    req = (acto_http_request){.method = "POST", .url = url("/echo")};
    f = fetch(&req);
    r = acto_http_response_of(f);
    assert_string_equal(acto_http_header_get(r, "X-Method"), "POST");
    assert_int_equal(r->body_len, 0);
    acto_future_release(f);
    /* The reused handle forgets the last request's method and body. */
    f = get(url("/echo"));
    r = acto_http_response_of(f);
    assert_string_equal(acto_http_header_get(r, "X-Method"), "GET");
    assert_string_equal(acto_http_header_get(r, "X-Got-Header"), "");
    assert_int_equal(r->body_len, 0);
    acto_future_release(f);
}

static void
error_statuses_are_responses_and_redirects_are_followed(void **state)
{
    (void)state;
    world_session(NULL);
    acto_future *f = get(url("/status/503"));
    const acto_http_response *r = acto_http_response_of(f);
    assert_int_equal(r->status, 503);
    assert_string_equal(r->body, "status 503");
    acto_future_release(f);

    f = get(url("/redirect"));
    r = acto_http_response_of(f);
    assert_int_equal(r->status, 200);
    assert_string_equal(r->body, "ok");
    assert_string_equal(r->url, url("/ok"));
    assert_null(acto_http_header_get(r, "Location"));
    acto_future_release(f);

    acto_http_request req = {.method = "HEAD", .url = url("/ok")};
    f = fetch(&req);
    r = acto_http_response_of(f);
    assert_int_equal(r->status, 200);
    assert_int_equal(r->body_len, 0);
    acto_future_release(f);
}

static void
bad_requests_are_refused_at_once(void **state)
{
    (void)state;
    world_session(NULL);
    acto_future *f = NULL;
    acto_http_request req = {.url = "ftp://127.0.0.1/x"};
    assert_acto_err(acto_http_fetch(g_w.sys, g_w.session, &req, &f),
                    ACTO_EINVAL);
    req.url = NULL;
    assert_acto_err(acto_http_fetch(g_w.sys, g_w.session, &req, &f),
                    ACTO_EINVAL);
    acto_http_header bad[] = {{"X-Bad\r\nInjected", "1"}};
    req =
        (acto_http_request){.url = url("/ok"), .headers = bad, .n_headers = 1};
    assert_acto_err(acto_http_fetch(g_w.sys, g_w.session, &req, &f),
                    ACTO_EINVAL);
    req = (acto_http_request){.url = url("/ok"),
                              .stream_to = g_w.session,
                              .item_type = ACTO_STREAM_EOS};
    assert_acto_err(acto_http_fetch(g_w.sys, g_w.session, &req, &f),
                    ACTO_EINVAL);
    req = (acto_http_request){.url = url("/ok"), .method = "G T"};
    assert_acto_err(acto_http_fetch(g_w.sys, g_w.session, &req, &f),
                    ACTO_EINVAL);
    assert_acto_err(acto_http_get(g_w.sys, ACTO_REF_NONE, url("/ok"), &f),
                    ACTO_ENOACTOR);
    assert_null(f);
    acto_http_stats st;
    assert_acto_ok(acto_http_session_stats(g_w.sys, g_w.session, &st));
    assert_int_equal(st.started, 0);
}

/* ---- the pool --------------------------------------------------------- */

/* get_ok_times fetches /ok n times, one after the other. */
static void
get_ok_times(int n)
{
    for (int i = 0; i < n; i++) {
        acto_future *f = get(url("/ok"));
        assert_int_equal(acto_http_response_of(f)->status, 200);
        assert_int_equal(acto_http_response_of(f)->body_len, 2);
        acto_future_release(f);
    }
}

/* assert_traffic checks the connections the server accepted, the
 * requests it read, and that the session finished as many with none in
 * flight, over the connections it opened. */
static void
assert_traffic(uint64_t accepted, uint64_t requests, uint64_t connections)
{
    http_server_stats st = server_stats();
    assert_int_equal(st.accepted, accepted);
    assert_int_equal(st.requests, requests);
    acto_http_stats hs;
    assert_acto_ok(acto_http_session_stats(g_w.sys, g_w.session, &hs));
    assert_int_equal(hs.started, requests);
    assert_int_equal(hs.finished, requests);
    assert_int_equal(hs.in_flight, 0);
    assert_int_equal(hs.connections, connections);
}

static void
sequential_requests_reuse_one_connection(void **state)
{
    (void)state;
    world_session(NULL);
    get_ok_times(5);
    assert_traffic(1, 5, 1);
}

/* A pooled connection the server closed while it waited (its socket
 * turns readable, with nobody watching for curl) is found dead by the
 * next request, which opens another. */
static void
a_pooled_connection_the_server_dropped_is_replaced(void **state)
{
    (void)state;
    world_session(NULL);
    acto_future *f = get(url("/drop"));
    assert_int_equal(acto_http_response_of(f)->status, 200);
    acto_future_release(f);
    assert_true(server_wait(server_closed_all));
    acto_test_settle(g_w.env); /* the session sees the socket's end */
    get_ok_times(3);
    assert_traffic(2, 4, 2);
}

/* run_many starts n fetches of path at once and waits for all. */
static void
run_many(const char *path, size_t n)
{
    acto_future *fs[16];
    assert_true(n <= 16);
    for (size_t i = 0; i < n; i++) {
        assert_acto_ok(acto_http_get(g_w.sys, g_w.session, url(path), &fs[i]));
    }
    for (size_t i = 0; i < n; i++) {
        wait_done(fs[i]);
        assert_int_equal(acto_http_response_of(fs[i])->status, 200);
        acto_future_release(fs[i]);
    }
}

static void
limit_per_host_bounds_connections(void **state)
{
    (void)state;
    acto_http_session_opts o = {.limit_per_host = 2};
    world_session(&o);
    run_many("/slow?ms=50", 8);
    http_server_stats st = server_stats();
    assert_int_equal(st.requests, 8);
    assert_int_equal(st.accepted, 2);
    assert_int_equal(st.open_max, 2);
}

static void
total_limit_bounds_connections(void **state)
{
    (void)state;
    acto_http_session_opts o = {.limit = 3};
    world_session(&o);
    run_many("/slow?ms=50", 9);
    http_server_stats st = server_stats();
    assert_int_equal(st.requests, 9);
    assert_int_equal(st.accepted, 3);
    assert_int_equal(st.open_max, 3);
}

static void
a_closed_connection_is_replaced(void **state)
{
    (void)state;
    world_session(NULL);
    acto_future *f = get(url("/close"));
    assert_string_equal(acto_http_response_of(f)->body, "bye");
    acto_future_release(f);
    f = get(url("/ok"));
    assert_int_equal(acto_http_response_of(f)->status, 200);
    acto_future_release(f);
    assert_int_equal(server_stats().accepted, 2);
}

/* ---- timeouts --------------------------------------------------------- */

static void
total_timeout_fails_a_slow_request(void **state)
{
    (void)state;
    acto_http_session_opts o = {.timeout.total_ms = 100};
    world_session(&o);
    acto_future *f = get(url("/slow?ms=5000"));
    const char *text = assert_fails(f, ACTO_ETIMEDOUT, "TimeoutError");
    assert_non_null(strstr(text, "/slow?ms=5000"));
    acto_future_release(f);
    /* The aborted transfer's connection is closed, not pooled. */
    assert_true(server_wait(server_closed_all));
}

static void
total_timeout_counts_the_wait_for_a_connection(void **state)
{
    (void)state;
    acto_http_session_opts o = {.limit = 1};
    world_session(&o);
    acto_future *slow, *queued;
    assert_acto_ok(
        acto_http_get(g_w.sys, g_w.session, url("/slow?ms=400"), &slow));
    acto_http_request req = {.url = url("/ok"), .timeout.total_ms = 100};
    assert_acto_ok(acto_http_fetch(g_w.sys, g_w.session, &req, &queued));
    wait_done(queued);
    assert_fails(queued, ACTO_ETIMEDOUT, "TimeoutError");
    wait_done(slow);
    assert_int_equal(acto_http_response_of(slow)->status, 200);
    acto_future_release(slow);
    acto_future_release(queued);
}

static void
read_timeout_fails_a_silent_server(void **state)
{
    (void)state;
    acto_http_session_opts o = {.timeout.read_ms = 100};
    world_session(&o);
    acto_future *f = get(url("/slow?ms=5000"));
    assert_fails(f, ACTO_ETIMEDOUT, "ReadTimeoutError");
    acto_future_release(f);
    /* Headers at once, then a body that never comes in time. */
    f = get(url("/slowbody?ms=5000"));
    assert_fails(f, ACTO_ETIMEDOUT, "ReadTimeoutError");
    acto_future_release(f);
    /* A server within the read timeout is fine. */
    f = get(url("/slow?ms=20"));
    assert_int_equal(acto_http_response_of(f)->status, 200);
    acto_future_release(f);
}

/* A listener with a full accept queue drops new SYNs: a connect that
 * cannot finish, on loopback. */
static int
full_listener(int *fds, int n_fill, int *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    int l = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(l >= 0);
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(l, 0), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    for (int i = 0; i < n_fill; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fds[i], (struct sockaddr *)&a, sizeof(a));
    }
    return l;
}

static void
connect_timeout_fails_a_connect_that_hangs(void **state)
{
    (void)state;
    acto_http_session_opts o = {
        .timeout = {.connect_ms = 200, .total_ms = 5000}};
    world_session(&o);
    int fill[3], port;
    int l = full_listener(fill, 3, &port);
    char u[64];
    snprintf(u, sizeof(u), "http://127.0.0.1:%d/", port);
    acto_future *f = get(u);
    assert_fails(f, ACTO_ETIMEDOUT, "ConnectTimeoutError");
    acto_future_release(f);
    for (int i = 0; i < 3; i++) {
        close(fill[i]);
    }
    close(l);
}

/* ---- cancellation ----------------------------------------------------- */

static bool
server_got_request(void *arg)
{
    (void)arg;
    return server_stats().requests >= 1;
}

static void
cancelling_the_future_aborts_the_transfer(void **state)
{
    (void)state;
    world_session(NULL);
    acto_future *f;
    assert_acto_ok(
        acto_http_get(g_w.sys, g_w.session, url("/slow?ms=10000"), &f));
    assert_true(server_wait(server_got_request));
    assert_acto_ok(acto_future_cancel(f, "changed my mind"));
    /* The server sees the connection close long before its 10 s. */
    assert_true(server_wait(server_closed_all));
    assert_true(acto_future_cancelled(f));
    acto_http_stats st;
    assert_acto_ok(acto_http_session_stats(g_w.sys, g_w.session, &st));
    assert_int_equal(st.in_flight, 0);
    acto_future_release(f);
}

static void
stopping_the_session_cancels_requests_in_flight(void **state)
{
    (void)state;
    world_session(NULL);
    acto_future *f;
    assert_acto_ok(
        acto_http_get(g_w.sys, g_w.session, url("/slow?ms=10000"), &f));
    assert_true(server_wait(server_got_request));
    assert_acto_ok(acto_stop(g_w.sys, g_w.session));
    wait_done(f);
    assert_true(acto_future_cancelled(f));
    assert_true(server_wait(server_closed_all));
    acto_future_release(f);
    acto_future *g = NULL;
    assert_acto_err(acto_http_get(g_w.sys, g_w.session, url("/ok"), &g),
                    ACTO_ENOACTOR);
}

/* ---- errors ----------------------------------------------------------- */

static void
a_malformed_url_fails_its_future(void **state)
{
    (void)state;
    world_session(NULL);
    acto_future *f = get("http://[bad/");
    assert_fails(f, ACTO_EINVAL, "InvalidURL");
    acto_future_release(f);
}

static void
on_sigpipe(int sig)
{
    (void)sig;
}

/* A session keeps a write to a peer that reset from killing the process,
 * but leaves a SIGPIPE handler the program installed alone. */
static void
a_session_ignores_sigpipe_unless_the_program_handles_it(void **state)
{
    (void)state;
    struct sigaction sa = {.sa_handler = SIG_DFL}, now;
    assert_int_equal(sigaction(SIGPIPE, &sa, NULL), 0);
    world_session(NULL);
    assert_int_equal(sigaction(SIGPIPE, NULL, &now), 0);
    assert_ptr_equal(now.sa_handler, SIG_IGN);

    sa.sa_handler = on_sigpipe;
    assert_int_equal(sigaction(SIGPIPE, &sa, NULL), 0);
    acto_ref second;
    assert_acto_ok(acto_http_session_spawn(g_w.sys, NULL, &second));
    assert_int_equal(sigaction(SIGPIPE, NULL, &now), 0);
    assert_ptr_equal(now.sa_handler, on_sigpipe);
    sa.sa_handler = SIG_IGN; /* the server thread still writes */
    assert_int_equal(sigaction(SIGPIPE, &sa, NULL), 0);
}

static void
a_closed_port_is_connection_refused(void **state)
{
    (void)state;
    world_session(NULL);
    char u[64];
    snprintf(u, sizeof(u), "http://127.0.0.1:%d/", http_closed_port());
    acto_future *f = get(u);
    const char *text = assert_fails(f, UV_ECONNREFUSED, "ConnectionRefused");
    assert_non_null(strstr(text, "GET http://127.0.0.1:"));
    acto_future_release(f);
}

static void
an_unknown_host_is_a_dns_error(void **state)
{
    (void)state;
    /* .invalid never resolves (RFC 6761); the connect timeout bounds a
     * resolver that would hang without a network. */
    acto_http_session_opts o = {.timeout.connect_ms = 3000};
    world_session(&o);
    acto_future *f = get("http://acto-test.invalid/");
    assert_fails(f, UV_EAI_NONAME, "DNSError");
    acto_future_release(f);
}

static void
a_body_over_max_body_is_too_large(void **state)
{
    (void)state;
    acto_http_session_opts o = {.max_body = 1000};
    world_session(&o);
    acto_future *f = get(url("/big?bytes=1000"));
    assert_int_equal(acto_http_response_of(f)->body_len, 1000);
    acto_future_release(f);
    /* Refused from its Content-Length, and counted when chunked. */
    f = get(url("/big?bytes=1001"));
    assert_fails(f, UV_EMSGSIZE, "PayloadTooLarge");
    acto_future_release(f);
    f = get(url("/chunked?bytes=100000"));
    assert_fails(f, UV_EMSGSIZE, "PayloadTooLarge");
    acto_future_release(f);
}

static void
a_malformed_response_is_a_server_response_error(void **state)
{
    (void)state;
    world_session(NULL);
    acto_future *f = get(url("/garbage"));
    assert_fails(f, UV_EREMOTEIO, "ServerResponseError");
    acto_future_release(f);
    /* The session goes on. */
    f = get(url("/ok"));
    assert_int_equal(acto_http_response_of(f)->status, 200);
    acto_future_release(f);
}

static void
tls_to_a_plain_port_is_a_tls_error(void **state)
{
    (void)state;
    world_session(NULL);
    char u[64];
    snprintf(u, sizeof(u), "https://127.0.0.1:%d/ok",
             http_server_port(g_w.srv));
    acto_future *f = get(u);
    assert_fails(f, UV_EPROTO, "TLSError");
    acto_future_release(f);
}

/* ---- streamed bodies -------------------------------------------------- */

typedef struct sink {
    uint64_t bytes;
    uint64_t chunks;
    bool eos;
    bool pattern_ok;
    bool hold; /* suspend at the first chunk */
    bool suspended;
    bool stop_first; /* stop at the first chunk */
    int fail_code;
    char fail_type[32];
} sink;

static int
sink_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    sink *s = state;
    size_t len;
    const char *p = acto_msg_data(m, &len);
    switch (acto_msg_type(m)) {
    case T_CHUNK:
        for (size_t i = 0; i < len; i++) {
            s->pattern_ok &= p[i] == (char)('a' + (s->bytes + i) % 26);
        }
        s->bytes += len;
        s->chunks++;
        if (s->hold && !s->suspended) {
            s->suspended = true;
            return acto_suspend(ctx);
        }
        if (s->stop_first) {
            return acto_stop(acto_ctx_system(ctx), acto_self(ctx));
        }
        return 0;
    case ACTO_STREAM_EOS:
        s->eos = true;
        return 0;
    case ACTO_HTTP_MSG_BODY_FAILED: {
        const acto_error *e = acto_http_msg_error(m);
        s->fail_code = e->code;
        snprintf(s->fail_type, sizeof(s->fail_type), "%s", e->type);
        return 0;
    }
    default:
        return 0;
    }
}

static const acto_behaviour sink_b = {.receive = sink_receive};

static acto_ref
spawn_sink(sink *s, uint32_t capacity)
{
    s->pattern_ok = true;
    acto_spawn_opts o = {.capacity = capacity};
    acto_ref r;
    assert_acto_ok(acto_spawn(g_w.sys, &sink_b, s, &o, &r));
    return r;
}

static bool
sink_ended(void *arg)
{
    sink *s = arg;
    return s->eos || s->fail_code != 0;
}

static void
a_streamed_body_arrives_as_items_then_eos(void **state)
{
    (void)state;
    world_session(NULL);
    sink s = {0};
    acto_http_request req = {.url = url("/big?bytes=300000"),
                             .stream_to = spawn_sink(&s, 8),
                             .item_type = T_CHUNK};
    acto_future *f = fetch(&req);
    const acto_http_response *r = acto_http_response_of(f);
    assert_int_equal(r->status, 200);
    assert_int_equal(r->body_len, 0);
    assert_string_equal(acto_http_header_get(r, "Content-Length"), "300000");
    assert_true(
        acto_test_run_until(&g_w.env->loop, sink_ended, &s, DEADLINE_MS));
    assert_true(s.eos);
    assert_int_equal(s.bytes, 300000);
    assert_true(s.pattern_ok);
    assert_true(s.chunks >= 300000 / 16384);
    acto_future_release(f);
}

typedef struct held {
    sink *s;
    acto_ref r;
} held;

static bool
sink_full(void *arg)
{
    held *h = arg;
    return h->s->suspended && acto_mailbox_count(g_w.sys, h->r) >= 4;
}

static void
a_slow_receiver_pauses_the_transfer(void **state)
{
    (void)state;
    /* The read clock stops while the receiver holds the transfer up. */
    acto_http_session_opts o = {.timeout.read_ms = 100};
    world_session(&o);
    sink s = {.hold = true};
    const uint64_t total = (uint64_t)64 << 20;
    char path[64];
    snprintf(path, sizeof(path), "/big?bytes=%llu", (unsigned long long)total);
    held h = {&s, spawn_sink(&s, 4)};
    acto_http_request req = {
        .url = url(path), .stream_to = h.r, .item_type = T_CHUNK};
    acto_future *f = fetch(&req);
    assert_true(
        acto_test_run_until(&g_w.env->loop, sink_full, &h, DEADLINE_MS));
    /* The receiver holds: after a while the mailbox is still bounded and
     * the server, whose socket no one reads, has stopped writing. */
    run_for(300);
    assert_true(acto_mailbox_count(g_w.sys, h.r) <= 5);
    uint64_t written = server_stats().body_bytes;
    run_for(100);
    assert_int_equal(server_stats().body_bytes, written);
    assert_true(written < total / 2);
    s.hold = false;
    assert_acto_ok(acto_resume(g_w.sys, h.r));
    assert_true(
        acto_test_run_until(&g_w.env->loop, sink_ended, &s, DEADLINE_MS * 3));
    assert_true(s.eos);
    assert_int_equal(s.bytes, total);
    assert_true(s.pattern_ok);
    acto_future_release(f);
}

static void
stopping_the_session_ends_a_stream_with_body_failed(void **state)
{
    (void)state;
    world_session(NULL);
    sink s = {.hold = true};
    held h = {&s, spawn_sink(&s, 4)};
    acto_http_request req = {.url = url("/big?bytes=67108864"),
                             .stream_to = h.r,
                             .item_type = T_CHUNK};
    acto_future *f = fetch(&req);
    assert_true(
        acto_test_run_until(&g_w.env->loop, sink_full, &h, DEADLINE_MS));
    assert_acto_ok(acto_stop(g_w.sys, g_w.session));
    /* The end waits behind the chunks, in order. */
    s.hold = false;
    assert_acto_ok(acto_resume(g_w.sys, h.r));
    assert_true(
        acto_test_run_until(&g_w.env->loop, sink_ended, &s, DEADLINE_MS));
    assert_false(s.eos);
    assert_int_equal(s.fail_code, ACTO_ECANCELED);
    assert_string_equal(s.fail_type, "SessionClosed");
    assert_true(s.pattern_ok);
    assert_true(server_wait(server_closed_all));
    acto_future_release(f);
}

static void
a_stream_failing_mid_body_ends_with_body_failed(void **state)
{
    (void)state;
    world_session(NULL);
    sink s = {0};
    acto_http_request req = {.url = url("/chunked?bytes=1000000"),
                             .max_body = 100000,
                             .stream_to = spawn_sink(&s, 0),
                             .item_type = T_CHUNK};
    acto_future *f = fetch(&req);
    assert_int_equal(acto_http_response_of(f)->status, 200);
    assert_true(
        acto_test_run_until(&g_w.env->loop, sink_ended, &s, DEADLINE_MS));
    assert_false(s.eos);
    assert_int_equal(s.fail_code, UV_EMSGSIZE);
    assert_string_equal(s.fail_type, "PayloadTooLarge");
    assert_true(s.bytes <= 100000);
    acto_future_release(f);
}

static void
a_receiver_that_stops_aborts_its_stream(void **state)
{
    (void)state;
    world_session(NULL);
    sink s = {.stop_first = true};
    acto_http_request req = {.url = url("/big?bytes=67108864"),
                             .stream_to = spawn_sink(&s, 4),
                             .item_type = T_CHUNK};
    acto_future *f = fetch(&req);
    assert_int_equal(acto_http_response_of(f)->status, 200);
    assert_true(
        acto_test_run_until(&g_w.env->loop, session_idle, NULL, DEADLINE_MS));
    assert_true(server_wait(server_closed_all));
    assert_true(server_stats().body_bytes < 67108864);
    acto_future_release(f);
}

/* ---- out of memory ---------------------------------------------------- */

/* fetch_with_nth_failing fetches req with the nth allocation failing.
 * Returns whether that allocation was reached. */
static bool
fetch_with_nth_failing(acto_http_request *req, long n, sink *s)
{
    acto_test_alloc_fail_nth(n);
    acto_future *f = NULL;
    int rc = acto_http_fetch(g_w.sys, g_w.session, req, &f);
    if (rc != 0) {
        assert_int_equal(rc, ACTO_ENOMEM);
        assert_null(f);
    } else {
        wait_done(f);
        const acto_http_response *r = acto_http_response_of(f);
        if (r == NULL) {
            /* failed with ENOMEM, or cancelled when even that failed */
            const acto_error *e = acto_future_exception(f);
            assert_true(e == NULL || e->code == ACTO_ENOMEM);
        } else if (s == NULL) {
            assert_int_equal(r->body_len, 5000);
        } else {
            assert_true(acto_test_run_until(&g_w.env->loop, sink_ended, s,
                                            DEADLINE_MS));
        }
        acto_future_release(f);
    }
    bool fired = acto_test_alloc_failed();
    acto_test_alloc_fail_nth(0);
    assert_true(
        acto_test_run_until(&g_w.env->loop, session_idle, NULL, DEADLINE_MS));
    return fired;
}

static void
every_allocation_failure_is_an_error_not_a_crash(void **state)
{
    (void)state;
    world_session(NULL);
    acto_http_request req = {.url = url("/big?bytes=5000")};
    long n = 1;
    while (fetch_with_nth_failing(&req, n, NULL)) {
        n++;
    }
    assert_true(n > 5);
    /* The same for a streamed body, whose end messages are made first. */
    sink s = {0};
    req.stream_to = spawn_sink(&s, 0);
    req.item_type = T_CHUNK;
    for (n = 1;; n++) {
        memset(&s, 0, sizeof(s));
        if (!fetch_with_nth_failing(&req, n, &s)) {
            break;
        }
    }
    assert_true(s.eos);
    assert_int_equal(s.bytes, 5000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        http_test(get_returns_status_headers_and_body),
        http_test(post_sends_method_headers_and_body),
        http_test(error_statuses_are_responses_and_redirects_are_followed),
        http_test(bad_requests_are_refused_at_once),
        http_test(sequential_requests_reuse_one_connection),
        http_test(a_pooled_connection_the_server_dropped_is_replaced),
        http_test(limit_per_host_bounds_connections),
        http_test(total_limit_bounds_connections),
        http_test(a_closed_connection_is_replaced),
        http_test(total_timeout_fails_a_slow_request),
        http_test(total_timeout_counts_the_wait_for_a_connection),
        http_test(read_timeout_fails_a_silent_server),
        http_test(connect_timeout_fails_a_connect_that_hangs),
        http_test(cancelling_the_future_aborts_the_transfer),
        http_test(stopping_the_session_cancels_requests_in_flight),
        http_test(a_malformed_url_fails_its_future),
        http_test(a_session_ignores_sigpipe_unless_the_program_handles_it),
        http_test(a_closed_port_is_connection_refused),
        http_test(an_unknown_host_is_a_dns_error),
        http_test(a_body_over_max_body_is_too_large),
        http_test(a_malformed_response_is_a_server_response_error),
        http_test(tls_to_a_plain_port_is_a_tls_error),
        http_test(a_streamed_body_arrives_as_items_then_eos),
        http_test(a_slow_receiver_pauses_the_transfer),
        http_test(a_stream_failing_mid_body_ends_with_body_failed),
        http_test(stopping_the_session_ends_a_stream_with_body_failed),
        http_test(a_receiver_that_stops_aborts_its_stream),
        http_test(every_allocation_failure_is_an_error_not_a_crash),
    };
    if (getenv("ACTO_TEST_FILTER") != NULL) {
        cmocka_set_test_filter(getenv("ACTO_TEST_FILTER"));
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
