/* The HTTP workload: small responses fetched from a local server with 64
 * requests in flight, through an acto HTTP session and through bare curl
 * multi (curl_multi_perform and curl_multi_poll, easy handles reused), in
 * the same process against the same server.
 *
 * The server (tests/support/http_server.c) runs on its own thread and
 * loop, keeps connections alive and answers /ok from a constant buffer, so
 * it costs both sides the same. Each measurement first warms its pool up
 * (64 connections opened and used) and then times n requests, so the
 * figure is the steady state of a pooled client. */
#include "bench.h"
#include "http_server.h"

#include <acto/http.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>

#define IN_FLIGHT 64
#define WARM_UP (IN_FLIGHT * 2)

static char g_url[64];

/* ---- acto ------------------------------------------------------------- */

typedef struct driver {
    acto_system *sys;
    acto_ref session;
    uint64_t target;
    uint64_t started;
    uint64_t done;
    uint64_t ok;
} driver;

static void start_one(driver *d);

static void
on_fetched(acto_future *f, void *user)
{
    driver *d = user;
    const acto_http_response *r = acto_http_response_of(f);
    if (r != NULL && r->status == 200 && r->body_len == 2) {
        d->ok++;
    }
    acto_future_release(f);
    d->done++;
    if (d->started < d->target) {
        start_one(d);
    } else if (d->done == d->target) {
        acto_system_stop(d->sys);
    }
}

static void
start_one(driver *d)
{
    acto_future *f;
    int rc = acto_http_get(d->sys, d->session, g_url, &f);
    if (rc != 0) {
        bench_die("acto_http_get", rc);
    }
    d->started++;
    rc = acto_future_add_done_cb(f, on_fetched, d);
    if (rc != 0) {
        bench_die("acto_future_add_done_cb", rc);
    }
}

/* acto_batch fetches n responses, IN_FLIGHT at a time; returns ns. */
static uint64_t
acto_batch(driver *d, uint64_t n)
{
    d->target = n;
    d->started = d->done = d->ok = 0;
    for (int i = 0; i < IN_FLIGHT && d->started < n; i++) {
        start_one(d);
    }
    uint64_t ns = bench_run_timed(d->sys);
    bench_check(d->ok == n, "http", "acto responses", d->ok, n);
    return ns;
}

static double
http_acto(uint64_t n)
{
    driver d = {.sys = bench_system_new()};
    acto_http_session_opts o = {.limit = IN_FLIGHT};
    int rc = acto_http_session_spawn(d.sys, &o, &d.session);
    if (rc != 0) {
        bench_die("acto_http_session_spawn", rc);
    }
    acto_batch(&d, WARM_UP);
    uint64_t ns = acto_batch(&d, n);
    acto_stop(d.sys, d.session);
    bench_system_free(d.sys);
    return (double)ns / (double)n;
}

/* ---- bare curl multi -------------------------------------------------- */

static size_t
count_body(char *p, size_t size, size_t n, void *user)
{
    (void)p;
    *(size_t *)user += size * n;
    return size * n;
}

typedef struct bare {
    CURLM *multi;
    CURL *easy[IN_FLIGHT];
    size_t body[IN_FLIGHT];
} bare;

static void
bare_add(bare *b, int i)
{
    b->body[i] = 0;
    if (curl_multi_add_handle(b->multi, b->easy[i]) != CURLM_OK) {
        bench_die("curl_multi_add_handle", ACTO_EINVAL);
    }
}

/* bare_finish ends the transfers curl reports done and starts new ones
 * while started < n. Returns the number of good responses. */
static uint64_t
bare_finish(bare *b, uint64_t *started, uint64_t n)
{
    uint64_t ok = 0;
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(b->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        char *priv;
        long status = 0;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        int i = (int)(priv - (char *)b->body) / (int)sizeof(b->body[0]);
        ok += msg->data.result == CURLE_OK && status == 200 && b->body[i] == 2;
        curl_multi_remove_handle(b->multi, msg->easy_handle);
        if (*started < n) {
            (*started)++;
            bare_add(b, i);
        }
    }
    return ok;
}

static uint64_t
bare_batch(bare *b, uint64_t n)
{
    uint64_t t0 = bench_now_ns();
    uint64_t started = 0, done = 0;
    for (int i = 0; i < IN_FLIGHT && started < n; i++, started++) {
        bare_add(b, i);
    }
    while (done < n) {
        int running;
        curl_multi_perform(b->multi, &running);
        done += bare_finish(b, &started, n);
        if (done < n) {
            curl_multi_poll(b->multi, NULL, 0, 1000, NULL);
        }
    }
    uint64_t ns = bench_now_ns() - t0;
    bench_check(done == n, "http", "curl responses", done, n);
    return ns;
}

static double
http_bare(uint64_t n)
{
    bare b = {.multi = curl_multi_init()};
    curl_multi_setopt(b.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)IN_FLIGHT);
    curl_multi_setopt(b.multi, CURLMOPT_MAXCONNECTS, (long)IN_FLIGHT);
    for (int i = 0; i < IN_FLIGHT; i++) {
        CURL *e = curl_easy_init();
        curl_easy_setopt(e, CURLOPT_URL, g_url);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, count_body);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, &b.body[i]);
        curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)&b.body[i]);
        /* The same request on the wire as the session sends. */
        curl_easy_setopt(e, CURLOPT_USERAGENT, "acto/0.1");
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(e, CURLOPT_PROXY, "");
        b.easy[i] = e;
    }
    bare_batch(&b, WARM_UP);
    uint64_t ns = bare_batch(&b, n);
    for (int i = 0; i < IN_FLIGHT; i++) {
        curl_easy_cleanup(b.easy[i]);
    }
    curl_multi_cleanup(b.multi);
    return (double)ns / (double)n;
}

void
bench_http(const bench_opts *opts)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    http_server *srv;
    int rc = http_server_start(&srv);
    if (rc != 0) {
        bench_die("http_server_start", rc);
    }
    snprintf(g_url, sizeof(g_url), "http://127.0.0.1:%d/ok",
             http_server_port(srv));
    uint64_t n = bench_count(opts, 10000);
    bench_paired(opts, "http", http_acto, http_bare, n, "ns/req", "req/s");
    http_server_stop(srv);
}
