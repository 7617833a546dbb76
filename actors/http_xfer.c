/* One HTTP transfer: an easy handle set up from a request, its body
 * callbacks (whole or streamed with backpressure), its total and read
 * timeouts, cancellation through its future, and its end. */
#include "http_internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_REDIRECTS 10L

/* ---- the end of a transfer -------------------------------------------- */

static void on_future_done(acto_future *f, void *user);

static void
xfer_free(acto__http_xfer *x)
{
    acto_free(x->head, x->head_cap);
    acto_free(x->body, x->body_cap);
    acto_free(x->method, x->method_size);
    acto_free(x, sizeof(*x));
}

/* finish detaches x from curl, its timers, its future and the session,
 * then frees it (or leaves that to a chunk still waiting for room). */
static void
finish(acto__http_xfer *x)
{
    acto__http_session *s = x->s;
    if (x->easy != NULL) {
        long conns = 0;
        curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &conns);
        s->stats.connections += (uint64_t)conns;
        curl_multi_remove_handle(s->multi, x->easy);
        acto__http_easy_put(s, x->easy);
        x->easy = NULL;
    }
    curl_slist_free_all(x->req_headers);
    x->req_headers = NULL;
    acto__http_stream_release(x);
    if (x->total_timer != 0) {
        acto_timer_cancel(s->sys, x->total_timer);
    }
    if (x->read_timer != 0) {
        acto_timer_cancel(s->sys, x->read_timer);
    }
    if (x->doom_timer != 0) {
        acto_timer_cancel(s->sys, x->doom_timer);
    }
    acto_future_remove_done_cb(x->f, on_future_done, x);
    acto_future_release(x->f);
    x->f = NULL;
    if (x->prev != NULL) {
        x->prev->next = x->next;
    } else {
        s->xfers = x->next;
    }
    if (x->next != NULL) {
        x->next->prev = x->prev;
    }
    s->stats.finished++;
    if (x->waiting) {
        x->ended = true;
    } else {
        xfer_free(x);
    }
}

/* deliver completes the future with the response, the transfer going on
 * (a stream's body): the future's completion is no cancellation. */
static int
deliver(acto__http_xfer *x)
{
    acto_future_remove_done_cb(x->f, on_future_done, x);
    return acto__http_deliver(x);
}

/* fail_now ends x from outside curl with an error of ours. */
static void
fail_now(acto__http_xfer *x, int code, const char *type, const char *text)
{
    acto__http_fail(x, code, type, text);
    finish(x);
}

void
acto__http_xfer_done(acto__http_xfer *x, CURLcode rc)
{
    if (rc == CURLE_OK && x->err_code == 0) {
        int err = x->delivered ? 0 : deliver(x);
        if (err != 0) {
            acto__http_fail(x, x->err_code, x->err_type, x->err_text);
        } else if (x->stream) {
            acto__http_stream_end(x, 0, NULL, NULL);
        }
    } else {
        int code;
        const char *type, *text;
        acto__http_map(x, rc, &code, &type, &text);
        acto__http_fail(x, code, type, text);
    }
    finish(x);
}

void
acto__http_xfer_abort(acto__http_xfer *x, int code, const char *type,
                      const char *text)
{
    if (!acto_future_done(x->f)) {
        acto_future_cancel(x->f, text);
    }
    acto__http_fail(x, code, type, text);
    finish(x);
}

/* A cancelled (or otherwise completed) future aborts its transfer. */
static void
on_future_done(acto_future *f, void *user)
{
    (void)f;
    acto__http_xfer *x = user;
    finish(x);
}

/* ---- timeouts --------------------------------------------------------- */

static void on_read_timer(acto_system *sys, void *user);

static void
arm_read(acto__http_xfer *x, uint64_t ms)
{
    if (acto_call_after(x->s->sys, ms, on_read_timer, x, &x->read_timer) != 0) {
        x->read_timer = 0; /* out of memory: the total timeout still holds */
    }
}

static void
on_total_timer(acto_system *sys, void *user)
{
    (void)sys;
    acto__http_xfer *x = user;
    x->total_timer = 0;
    char text[64];
    snprintf(text, sizeof(text), "no response within the total timeout (%u ms)",
             x->total_ms);
    fail_now(x, ACTO_ETIMEDOUT, "TimeoutError", text);
}

/* The read clock runs once the request is out and not while the transfer
 * is paused for a full receiver. */
static void
on_read_timer(acto_system *sys, void *user)
{
    acto__http_xfer *x = user;
    x->read_timer = 0;
    uint64_t now = acto_system_now(sys);
    if (!x->sent || x->waiting) {
        arm_read(x, x->read_ms);
        return;
    }
    uint64_t idle = now - x->last_read;
    if (idle < x->read_ms) {
        arm_read(x, x->read_ms - idle);
        return;
    }
    char text[64];
    snprintf(text, sizeof(text), "no data within the read timeout (%u ms)",
             x->read_ms);
    fail_now(x, ACTO_ETIMEDOUT, "ReadTimeoutError", text);
}

static void
on_doom(acto_system *sys, void *user)
{
    (void)sys;
    acto__http_xfer *x = user;
    x->doom_timer = 0;
    fail_now(x, x->err_code, x->err_type, x->err_text);
}

void
acto__http_doom(CURL *e, int code)
{
    acto__http_xfer *x = NULL;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
    if (x == NULL) {
        return;
    }
    acto__http_set_err(x, code,
                       code == ACTO_ENOMEM ? "ACTO_ENOMEM" : "ClientError",
                       "cannot watch a socket: %s", acto_strerror(code));
    if (x->doom_timer == 0 &&
        acto_call_after(x->s->sys, 0, on_doom, x, &x->doom_timer) != 0) {
        x->doom_timer = 0; /* the total timeout ends it */
    }
}

/* ---- curl's callbacks ------------------------------------------------- */

static int
on_prereq(void *user, char *ip, char *local_ip, int port, int local_port)
{
    (void)ip;
    (void)local_ip;
    (void)port;
    (void)local_port;
    acto__http_xfer *x = user;
    x->sent = true;
    x->last_read = acto_system_now(x->s->sys);
    return CURL_PREREQFUNC_OK;
}

static size_t
on_header(char *p, size_t size, size_t n, void *user)
{
    acto__http_xfer *x = user;
    size_t len = size * n;
    x->last_read = acto_system_now(x->s->sys);
    int err = 0;
    bool final = acto__http_head_line(x, p, len, &err);
    if (err != 0) {
        acto__http_set_err(x, err, "ACTO_ENOMEM", "out of memory for headers");
        return 0;
    }
    if (final && x->stream && !x->delivered && deliver(x) != 0) {
        return 0;
    }
    return len;
}

static void
on_room(acto_system *sys, int status, void *user)
{
    (void)sys;
    acto__http_xfer *x = user;
    x->waiting = false;
    if (x->ended) {
        xfer_free(x);
        return;
    }
    if (status != 0) {
        fail_now(x, status,
                 status == ACTO_ENOACTOR ? "ReceiverGone"
                                         : acto_err_name(status),
                 "the body's receiver is gone");
        return;
    }
    if (x->paused) {
        x->paused = false;
        x->last_read = acto_system_now(x->s->sys);
        curl_easy_pause(x->easy, CURLPAUSE_CONT);
        acto__http_collect(x->s);
    }
}

/* stream_chunk sends len bytes to the receiver; a full mailbox takes the
 * chunk through a waiting send and pauses the transfer at the next one. */
static size_t
stream_chunk(acto__http_xfer *x, const char *p, size_t len)
{
    acto_system *sys = x->s->sys;
    if (x->waiting) {
        x->paused = true;
        return CURL_WRITEFUNC_PAUSE;
    }
    if (!x->delivered && deliver(x) != 0) {
        return 0;
    }
    if (!acto_alive(sys, x->to)) {
        acto__http_set_err(x, ACTO_ENOACTOR, "ReceiverGone",
                           "the body's receiver stopped");
        return 0;
    }
    acto_msg *m = NULL;
    int rc = acto_msg_new_bytes(sys, x->item_type, p, len, &m);
    if (rc == 0 && (rc = acto_system_send(sys, x->to, m)) == ACTO_EQUEUEFULL) {
        rc = acto_system_send_wait(sys, x->to, m, on_room, x);
        x->waiting = rc == 0;
    }
    if (rc != 0) {
        acto_msg_free(m); /* NULL when it was never made */
        acto__http_set_err(
            x, rc, rc == ACTO_EQUEUEFULL ? "ReceiverFull" : acto_err_name(rc),
            "send a body chunk: %s", acto_strerror(rc));
        return 0;
    }
    return len;
}

static size_t
on_body(char *p, size_t size, size_t n, void *user)
{
    acto__http_xfer *x = user;
    size_t len = size * n;
    x->last_read = acto_system_now(x->s->sys);
    if (x->max_body > 0 && len > x->max_body - x->streamed - x->body_len) {
        acto__http_set_err(x, UV_EMSGSIZE, "PayloadTooLarge",
                           "the body is larger than %zu bytes", x->max_body);
        return 0;
    }
    if (x->stream) {
        size_t took = stream_chunk(x, p, len);
        if (took == len) {
            x->streamed += len;
        }
        return took;
    }
    if (x->body_len + len + 1 > x->body_cap) {
        size_t cap = x->body_cap > 0 ? x->body_cap : 1024;
        while (cap < x->body_len + len + 1) {
            cap *= 2;
        }
        char *nb = acto_malloc(cap);
        if (nb == NULL) {
            acto__http_set_err(x, ACTO_ENOMEM, "ACTO_ENOMEM",
                               "out of memory for a body of %zu bytes",
                               x->body_len + len);
            return 0;
        }
        if (x->body_len > 0) {
            memcpy(nb, x->body, x->body_len);
        }
        acto_free(x->body, x->body_cap);
        x->body = nb;
        x->body_cap = cap;
    }
    memcpy(x->body + x->body_len, p, len);
    x->body_len += len;
    return len;
}

/* ---- setting up ------------------------------------------------------- */

/* url_ok checks the scheme; curl parses the rest when the transfer
 * starts (a malformed URL fails the future: parsing it twice would cost
 * every request a second parse). */
static bool
url_ok(const char *url)
{
    return (strncasecmp(url, "http://", 7) == 0 && url[7] != 0) ||
           (strncasecmp(url, "https://", 8) == 0 && url[8] != 0);
}

/* add_headers builds the request's header list ("Name: value", or
 * "Name;" for an empty value, which is how curl sends one). */
static int
add_headers(acto__http_xfer *x, const acto_http_request *req)
{
    for (size_t i = 0; i < req->n_headers; i++) {
        const acto_http_header *h = &req->headers[i];
        if (h->name == NULL || h->name[0] == 0 ||
            strpbrk(h->name, ":\r\n") != NULL ||
            (h->value != NULL && strpbrk(h->value, "\r\n") != NULL)) {
            return ACTO_EINVAL;
        }
        const char *v = h->value != NULL ? h->value : "";
        char line[1024];
        int n = v[0] != 0 ? snprintf(line, sizeof(line), "%s: %s", h->name, v)
                          : snprintf(line, sizeof(line), "%s;", h->name);
        if (n < 0 || (size_t)n >= sizeof(line)) {
            return ACTO_EINVAL;
        }
        struct curl_slist *l = curl_slist_append(x->req_headers, line);
        if (l == NULL) {
            return ACTO_ENOMEM;
        }
        x->req_headers = l;
    }
    /* curl would send "Expect: 100-continue" before a large body and
     * wait for an answer many servers never give (aiohttp does not). */
    if (req->body_len > 0) {
        struct curl_slist *l = curl_slist_append(x->req_headers, "Expect:");
        if (l == NULL) {
            return ACTO_ENOMEM;
        }
        x->req_headers = l;
    }
    return 0;
}

/* easy_new makes an easy handle with the options every request of the
 * session shares; a reused handle keeps them (no curl_easy_reset, whose
 * cost showed in the benchmark). */
static CURL *
easy_new(acto__http_session *s)
{
    CURL *e = curl_easy_init();
    if (e == NULL) {
        return NULL;
    }
    CURLcode rc = curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    rc = rc ? rc
            : curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION,
                               acto__http_open_socket);
    rc = rc ? rc
            : curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION,
                               acto__http_close_socket);
    rc = rc ? rc : curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, s);
    rc = rc ? rc : curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    rc = rc ? rc : curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    rc = rc ? rc : curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
    rc = rc ? rc : curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    rc = rc ? rc : curl_easy_setopt(e, CURLOPT_MAXREDIRS, MAX_REDIRECTS);
    rc = rc ? rc : curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    rc = rc ? rc
            : curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    rc = rc ? rc : curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    rc = rc ? rc : curl_easy_setopt(e, CURLOPT_USERAGENT, s->user_agent);
    /* No proxy from the environment (aiohttp's trust_env=False). */
    rc = rc ? rc : curl_easy_setopt(e, CURLOPT_PROXY, "");
    if (rc != CURLE_OK) {
        curl_easy_cleanup(e);
        return NULL;
    }
    return e;
}

CURL *
acto__http_easy(acto__http_session *s)
{
    return s->n_spare > 0 ? s->spare[--s->n_spare] : easy_new(s);
}

void
acto__http_easy_put(acto__http_session *s, CURL *e)
{
    if (s->n_spare < ACTO__HTTP_SPARE && !s->stopped) {
        /* Nothing may point into a freed transfer. */
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(e, CURLOPT_PRIVATE, NULL);
        curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, NULL);
        s->spare[s->n_spare++] = e;
    } else {
        curl_easy_cleanup(e);
    }
}

/* set_method sets everything about the method and body, undoing what a
 * reused handle's last request set. curl sends a body only as a POST; any
 * other method with a body (or a POST without one, sent with an empty
 * body) goes out as a custom request line. */
static CURLcode
set_method(acto__http_xfer *x, const acto_http_request *req)
{
    CURL *e = x->easy;
    bool post = strcmp(x->method, "POST") == 0;
    bool head = strcmp(x->method, "HEAD") == 0;
    /* HTTPGET resets POST, NOBODY and upload. */
    CURLcode rc = curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    if (rc == CURLE_OK && (req->body_len > 0 || post)) {
        rc = curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                              (curl_off_t)req->body_len);
        rc = rc ? rc
                : curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS,
                                   req->body_len > 0 ? req->body : "");
    }
    if (rc == CURLE_OK && head && req->body_len == 0) {
        rc = curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    }
    bool plain =
        post || (req->body_len == 0 && (head || strcmp(x->method, "GET") == 0));
    if (rc == CURLE_OK) {
        rc = curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST,
                              plain ? NULL : x->method);
    }
    return rc;
}

/* set_options sets what differs between requests, every time. */
static CURLcode
set_options(acto__http_xfer *x, const acto_http_request *req,
            uint32_t connect_ms)
{
    CURL *e = x->easy;
    CURLcode rc = curl_easy_setopt(e, CURLOPT_URL, req->url);
    rc = rc ? rc : curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)x);
    rc = rc ? rc : curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, x);
    rc = rc ? rc : curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    rc = rc ? rc : curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    rc = rc ? rc : curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    rc = rc ? rc : curl_easy_setopt(e, CURLOPT_PREREQDATA, x);
    rc = rc ? rc : curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 0L);
    /* 0 restores curl's defaults: 300 s to connect, no size limit */
    rc = rc ? rc
            : curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms);
    rc = rc ? rc
            : curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
                               (curl_off_t)x->max_body);
    rc = rc ? rc : curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->req_headers);
    return rc == CURLE_OK ? set_method(x, req) : rc;
}

static int
xfer_init(acto__http_xfer *x, acto__http_session *s,
          const acto_http_request *req)
{
    x->s = s;
    x->stream = !acto_ref_is_none(req->stream_to);
    x->to = req->stream_to;
    x->item_type = req->item_type;
    x->max_body = req->max_body > 0 ? req->max_body
                  : x->stream       ? 0
                                    : s->max_body;
    x->total_ms =
        req->timeout.total_ms ? req->timeout.total_ms : s->timeout.total_ms;
    x->read_ms =
        req->timeout.read_ms ? req->timeout.read_ms : s->timeout.read_ms;
    const char *method = req->method != NULL ? req->method
                         : req->body_len > 0 ? "POST"
                                             : "GET";
    if (method[0] == 0 || strpbrk(method, " \r\n") != NULL ||
        (req->body_len > 0 && req->body == NULL)) {
        return ACTO_EINVAL;
    }
    x->method_size = strlen(method) + 1;
    x->method = acto_malloc(x->method_size);
    if (x->method == NULL) {
        return ACTO_ENOMEM;
    }
    memcpy(x->method, method, x->method_size);
    return add_headers(x, req);
}

/* arm starts the total and read clocks. */
static int
arm(acto__http_xfer *x)
{
    acto_system *sys = x->s->sys;
    int rc =
        acto_call_after(sys, x->total_ms, on_total_timer, x, &x->total_timer);
    if (rc == 0 && x->read_ms > 0) {
        rc = acto_call_after(sys, x->read_ms, on_read_timer, x, &x->read_timer);
    }
    return rc;
}

int
acto__http_xfer_start(acto__http_session *s, const acto_http_request *req,
                      acto_future **out)
{
    if (!url_ok(req->url)) {
        return ACTO_EINVAL;
    }
    acto__http_xfer *x = acto_calloc(1, sizeof(*x));
    if (x == NULL) {
        return ACTO_ENOMEM;
    }
    int rc = xfer_init(x, s, req);
    if (rc == 0 && (x->easy = acto__http_easy(s)) == NULL) {
        rc = ACTO_ENOMEM;
    }
    uint32_t connect_ms = req->timeout.connect_ms ? req->timeout.connect_ms
                                                  : s->timeout.connect_ms;
    if (rc == 0 && set_options(x, req, connect_ms) != CURLE_OK) {
        rc = ACTO_EINVAL;
    }
    if (rc == 0 && x->stream) {
        rc = acto__http_stream_prepare(x);
    }
    rc = rc ? rc : acto_future_new(s->sys, &x->f);
    rc = rc ? rc : acto_future_add_done_cb(x->f, on_future_done, x);
    rc = rc ? rc : arm(x);
    if (rc == 0 && curl_multi_add_handle(s->multi, x->easy) != CURLM_OK) {
        rc = ACTO_ENOMEM;
    }
    if (rc != 0) {
        if (x->total_timer != 0) {
            acto_timer_cancel(s->sys, x->total_timer);
        }
        if (x->f != NULL) {
            acto_future_remove_done_cb(x->f, on_future_done, x);
            acto_future_release(x->f);
        }
        if (x->easy != NULL) {
            acto__http_easy_put(s, x->easy);
        }
        curl_slist_free_all(x->req_headers);
        acto__http_stream_release(x);
        xfer_free(x);
        return rc;
    }
    x->next = s->xfers;
    if (s->xfers != NULL) {
        s->xfers->prev = x;
    }
    s->xfers = x;
    s->stats.started++;
    acto_future_retain(x->f);
    *out = x->f;
    return 0;
}
