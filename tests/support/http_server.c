/* The test HTTP server: see http_server.h. One connection parses one
 * request at a time (curl never pipelines), answers it, then parses the
 * next one already buffered. */
#include "http_server.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define BUF_CAP 16384
#define CHUNK ((size_t)64 * 1024)

typedef struct conn conn;

struct http_server {
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_async_t stop;
    uv_thread_t thread;
    int port;
    conn *conns;   /* open connections, to close on stop */
    uint64_t open; /* loop thread only */
    atomic_uint_least64_t accepted;
    atomic_uint_least64_t closed;
    atomic_uint_least64_t open_max;
    atomic_uint_least64_t requests;
    atomic_uint_least64_t body_bytes;
};

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    http_server *srv;
    conn *prev;
    conn *next;
    size_t len;         /* bytes in buf */
    size_t req_len;     /* head and body of the request being answered */
    uint64_t remaining; /* /big, /chunked: body bytes still to write */
    uint64_t offset;    /* their position in the pattern */
    int handles;        /* handles open; the conn is freed at 0 */
    bool busy;          /* answering a request */
    bool close_after;   /* close once the answer is written */
    bool close_unsaid;  /* without saying so in the answer */
    bool closing;
    bool chunked;
    char buf[BUF_CAP];
};

/* The body pattern, written once before any server thread starts. */
static char pattern[CHUNK + 26];
static uv_once_t pattern_once = UV_ONCE_INIT;

static void
pattern_init(void)
{
    for (size_t i = 0; i < sizeof(pattern); i++) {
        pattern[i] = (char)('a' + i % 26);
    }
}

typedef struct wreq {
    uv_write_t req;
    conn *c;
    void (*then)(conn *c); /* after the write, unless closing */
    size_t len;
    char data[];
} wreq;

static void parse(conn *c);

/* ---- connections ------------------------------------------------------ */

static void
on_handle_closed(uv_handle_t *h)
{
    conn *c = h->data;
    if (--c->handles == 0) {
        free(c);
    }
}

static void
conn_close(conn *c)
{
    if (c->closing) {
        return;
    }
    c->closing = true;
    http_server *s = c->srv;
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        s->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    s->open--;
    atomic_fetch_add(&s->closed, 1);
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

static void
on_written(uv_write_t *req, int status)
{
    wreq *w = (wreq *)req;
    conn *c = w->c;
    void (*then)(conn *) = w->then;
    free(w);
    if (status < 0) {
        conn_close(c);
    } else if (then != NULL && !c->closing) {
        then(c);
    }
}

/* send_copy writes a copy of a then b (either may be empty), then calls
 * then. */
static void
send_copy(conn *c, const char *a, size_t alen, const char *b, size_t blen,
          void (*then)(conn *c))
{
    wreq *w = malloc(sizeof(*w) + alen + blen);
    if (w == NULL) {
        conn_close(c);
        return;
    }
    w->c = c;
    w->then = then;
    w->len = alen + blen;
    memcpy(w->data, a, alen);
    if (blen > 0) {
        memcpy(w->data + alen, b, blen);
    }
    uv_buf_t buf = uv_buf_init(w->data, (unsigned)w->len);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_written) != 0) {
        free(w);
        conn_close(c);
    }
}

/* finish ends the answer: close, or go on with the next request. */
static void
finish(conn *c)
{
    if (c->close_after) {
        conn_close(c);
        return;
    }
    memmove(c->buf, c->buf + c->req_len, c->len - c->req_len);
    c->len -= c->req_len;
    c->req_len = 0;
    c->busy = false;
    parse(c);
}

static void
respond(conn *c, int status, const char *extra, const char *body, size_t n)
{
    char head[512];
    int hl = snprintf(
        head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s%s\r\n",
        status, n, extra,
        c->close_after && !c->close_unsaid ? "Connection: close\r\n" : "");
    send_copy(c, head, (size_t)hl, body, n, finish);
}

/* The answer to /ok, written without a copy when the socket takes it. */
static const char ok_response[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                                  "Content-Type: text/plain\r\n\r\nok";

static void
respond_ok(conn *c)
{
    uv_buf_t b = uv_buf_init((char *)ok_response, sizeof(ok_response) - 1);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n == (int)b.len) {
        finish(c);
    } else {
        size_t done = n > 0 ? (size_t)n : 0;
        send_copy(c, ok_response + done, b.len - done, NULL, 0, finish);
    }
}

/* ---- streamed bodies -------------------------------------------------- */

static void
write_big(conn *c)
{
    if (c->remaining == 0) {
        if (c->chunked) {
            send_copy(c, "0\r\n\r\n", 5, NULL, 0, finish);
        } else {
            finish(c);
        }
        return;
    }
    size_t n = c->remaining < CHUNK ? (size_t)c->remaining : CHUNK;
    char frame[32];
    int fl = c->chunked ? snprintf(frame, sizeof(frame), "%zx\r\n", n) : 0;
    const char *data = pattern + c->offset % 26;
    c->remaining -= n;
    c->offset += n;
    atomic_fetch_add(&c->srv->body_bytes, n);
    if (c->chunked) {
        /* frame, data and the chunk's CRLF in one copy */
        wreq *w = malloc(sizeof(*w) + (size_t)fl + n + 2);
        if (w == NULL) {
            conn_close(c);
            return;
        }
        memcpy(w->data, frame, (size_t)fl);
        memcpy(w->data + fl, data, n);
        memcpy(w->data + fl + n, "\r\n", 2);
        w->c = c;
        w->then = write_big;
        w->len = (size_t)fl + n + 2;
        uv_buf_t b = uv_buf_init(w->data, (unsigned)w->len);
        if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
            free(w);
            conn_close(c);
        }
        return;
    }
    send_copy(c, data, n, NULL, 0, write_big);
}

static void
start_big(conn *c, uint64_t bytes, bool chunked)
{
    char head[256];
    int hl;
    if (chunked) {
        hl = snprintf(head, sizeof(head),
                      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    } else {
        hl = snprintf(head, sizeof(head),
                      "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\n\r\n",
                      (unsigned long long)bytes);
    }
    c->remaining = bytes;
    c->offset = 0;
    c->chunked = chunked;
    send_copy(c, head, (size_t)hl, NULL, 0, write_big);
}

/* ---- timers ----------------------------------------------------------- */

static void
on_slow(uv_timer_t *t)
{
    respond(t->data, 200, "", "slow", 4);
}

static void
on_slow_body(uv_timer_t *t)
{
    send_copy(t->data, "body", 4, NULL, 0, finish);
}

/* After /slowbody's head: the body's timer is already running. */
static void
then_wait(conn *c)
{
    (void)c;
}

/* ---- requests --------------------------------------------------------- */

/* find returns the first occurrence of needle in hay[0..n), or NULL. */
static const char *
find(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++) {
        if (memcmp(hay + i, needle, k) == 0) {
            return hay + i;
        }
    }
    return NULL;
}

static int
lower(int ch)
{
    return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
}

/* header copies the value of header name (case-insensitive) of the head
 * into out, or returns false. */
static bool
header(const char *head, size_t n, const char *name, char *out, size_t cap)
{
    size_t k = strlen(name);
    for (const char *p = head; p < head + n;) {
        const char *eol = find(p, (size_t)(head + n - p), "\r\n");
        if (eol == NULL) {
            break;
        }
        size_t i = 0;
        while (i < k && p + i < eol && lower(p[i]) == lower(name[i])) {
            i++;
        }
        if (i == k && p + k < eol && p[k] == ':') {
            const char *v = p + k + 1;
            while (v < eol && *v == ' ') {
                v++;
            }
            size_t vl =
                (size_t)(eol - v) < cap - 1 ? (size_t)(eol - v) : cap - 1;
            memcpy(out, v, vl);
            out[vl] = 0;
            return true;
        }
        p = eol + 2;
    }
    return false;
}

static uint64_t
param(const char *query, const char *name)
{
    const char *p = query != NULL ? strstr(query, name) : NULL;
    if (p == NULL || p[strlen(name)] != '=') {
        return 0;
    }
    return strtoull(p + strlen(name) + 1, NULL, 10);
}

/* respond_tree answers /tree/N with the links of a binary tree of 63
 * pages: /tree/2N and /tree/2N+1, one a line. */
static void
respond_tree(conn *c, uint64_t n)
{
    char body[64] = "";
    int len = 0;
    if (n >= 1 && 2 * n + 1 <= 63) {
        len = snprintf(body, sizeof(body), "/tree/%llu\n/tree/%llu\n",
                       (unsigned long long)(2 * n),
                       (unsigned long long)(2 * n + 1));
    }
    respond(c, n >= 1 && n <= 63 ? 200 : 404, "", body, (size_t)len);
}

static void
dispatch(conn *c, const char *method, char *path, const char *head,
         size_t head_len, const char *body, size_t body_len)
{
    char *query = strchr(path, '?');
    if (query != NULL) {
        *query++ = 0;
    }
    if (strcmp(path, "/ok") == 0) {
        respond_ok(c);
    } else if (strcmp(path, "/slow") == 0) {
        uv_timer_start(&c->timer, on_slow, param(query, "ms"), 0);
    } else if (strcmp(path, "/slowbody") == 0) {
        static const char h[] = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n";
        send_copy(c, h, sizeof(h) - 1, NULL, 0, then_wait);
        uv_timer_start(&c->timer, on_slow_body, param(query, "ms"), 0);
    } else if (strcmp(path, "/big") == 0 || strcmp(path, "/chunked") == 0) {
        start_big(c, param(query, "bytes"), path[1] == 'c');
    } else if (strncmp(path, "/status/", 8) == 0) {
        char text[32];
        int st = atoi(path + 8);
        int n = snprintf(text, sizeof(text), "status %d", st);
        respond(c, st, "", text, (size_t)n);
    } else if (strcmp(path, "/echo") == 0) {
        char got[128] = "", extra[320];
        header(head, head_len, "X-Test", got, sizeof(got));
        snprintf(extra, sizeof(extra), "X-Method: %s\r\nX-Got-Header: %s\r\n",
                 method, got);
        respond(c, 200, extra, body, body_len);
    } else if (strncmp(path, "/tree/", 6) == 0) {
        respond_tree(c, strtoull(path + 6, NULL, 10));
    } else if (strcmp(path, "/redirect") == 0) {
        respond(c, 302, "Location: /ok\r\n", "", 0);
    } else if (strcmp(path, "/drop") == 0) {
        c->close_after = true;
        c->close_unsaid = true;
        respond(c, 200, "", "ok", 2);
    } else if (strcmp(path, "/close") == 0) {
        c->close_after = true;
        respond(c, 200, "", "bye", 3);
    } else if (strcmp(path, "/garbage") == 0) {
        c->close_after = true;
        send_copy(c, "\x01\x02garbage\xff\r\n\r\n", 15, NULL, 0, finish);
    } else {
        respond(c, 404, "", "not found", 9);
    }
}

/* looks_like_http tells whether the buffer starts with a method and a
 * space (as far as it goes). */
static bool
looks_like_http(const conn *c)
{
    for (size_t i = 0; i < c->len && i < 8; i++) {
        char ch = c->buf[i];
        if (ch == ' ' && i > 0) {
            return true;
        }
        if (ch < 'A' || ch > 'Z') {
            return false;
        }
    }
    return c->len < 8;
}

static void
reject(conn *c, const char *text)
{
    c->busy = true;
    c->close_after = true;
    send_copy(c, text, strlen(text), NULL, 0, finish);
}

static void
parse(conn *c)
{
    if (c->busy || c->closing || c->len == 0) {
        return;
    }
    if (!looks_like_http(c)) {
        reject(c, "not http\r\n");
        return;
    }
    const char *end = find(c->buf, c->len, "\r\n\r\n");
    if (end == NULL) {
        if (c->len == BUF_CAP) {
            reject(c, "HTTP/1.1 431 Too Large\r\nContent-Length: 0\r\n\r\n");
        }
        return;
    }
    size_t head_len = (size_t)(end - c->buf) + 4;
    char v[64];
    size_t body_len = 0;
    if (header(c->buf, head_len, "Content-Length", v, sizeof(v))) {
        body_len = strtoull(v, NULL, 10);
    }
    if (body_len > BUF_CAP - head_len) {
        reject(c, "HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\n\r\n");
        return;
    }
    if (c->len < head_len + body_len) {
        return;
    }
    c->busy = true;
    c->req_len = head_len + body_len;
    atomic_fetch_add(&c->srv->requests, 1);
    c->close_after = header(c->buf, head_len, "Connection", v, sizeof(v)) &&
                     strcmp(v, "close") == 0;
    char method[16] = "", path[1024] = "";
    if (sscanf(c->buf, "%15s %1023s", method, path) != 2) {
        reject(c, "HTTP/1.1 400 Bad\r\nContent-Length: 0\r\n\r\n");
        return;
    }
    dispatch(c, method, path, c->buf, head_len, c->buf + head_len, body_len);
}

static void
on_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
    (void)size;
    conn *c = h->data;
    *buf = uv_buf_init(c->buf + c->len, (unsigned)(BUF_CAP - c->len));
}

static void
on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    conn *c = st->data;
    if (n < 0) {
        conn_close(c);
        return;
    }
    c->len += (size_t)n;
    parse(c);
}

static void
on_connection(uv_stream_t *l, int status)
{
    http_server *s = l->data;
    conn *c = status == 0 ? calloc(1, sizeof(*c)) : NULL;
    if (c == NULL) {
        return;
    }
    c->srv = s;
    uv_tcp_init(&s->loop, &c->tcp);
    uv_timer_init(&s->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->handles = 2;
    c->next = s->conns;
    if (s->conns != NULL) {
        s->conns->prev = c;
    }
    s->conns = c;
    atomic_fetch_add(&s->accepted, 1);
    if (++s->open > atomic_load(&s->open_max)) {
        atomic_store(&s->open_max, s->open);
    }
    if (uv_accept(l, (uv_stream_t *)&c->tcp) != 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
}

/* ---- the server ------------------------------------------------------- */

static void
on_stop(uv_async_t *a)
{
    http_server *s = a->data;
    uv_close((uv_handle_t *)&s->listener, NULL);
    uv_close((uv_handle_t *)&s->stop, NULL);
    while (s->conns != NULL) {
        conn_close(s->conns);
    }
}

static void
run(void *arg)
{
    http_server *s = arg;
    uv_run(&s->loop, UV_RUN_DEFAULT);
}

static int
bind_loopback(uv_tcp_t *t, int *port)
{
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    int rc = uv_tcp_bind(t, (const struct sockaddr *)&addr, 0);
    struct sockaddr_storage got;
    int len = sizeof(got);
    if (rc == 0) {
        rc = uv_tcp_getsockname(t, (struct sockaddr *)&got, &len);
    }
    if (rc == 0) {
        *port = ntohs(((struct sockaddr_in *)&got)->sin_port);
    }
    return rc;
}

int
http_server_start(http_server **out)
{
    uv_once(&pattern_once, pattern_init);
    /* Clients abort mid-body (max_body, cancellation): a write to them must
     * fail with EPIPE, not kill the test. */
    signal(SIGPIPE, SIG_IGN);
    http_server *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return UV_ENOMEM;
    }
    int rc = uv_loop_init(&s->loop);
    if (rc != 0) {
        free(s);
        return rc;
    }
    uv_tcp_init(&s->loop, &s->listener);
    uv_async_init(&s->loop, &s->stop, on_stop);
    s->listener.data = s;
    s->stop.data = s;
    rc = bind_loopback(&s->listener, &s->port);
    if (rc == 0) {
        rc = uv_listen((uv_stream_t *)&s->listener, 512, on_connection);
    }
    if (rc == 0) {
        rc = uv_thread_create(&s->thread, run, s);
    }
    if (rc != 0) {
        uv_close((uv_handle_t *)&s->listener, NULL);
        uv_close((uv_handle_t *)&s->stop, NULL);
        uv_run(&s->loop, UV_RUN_DEFAULT);
        uv_loop_close(&s->loop);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int
http_server_port(const http_server *s)
{
    return s->port;
}

void
http_server_stats_get(http_server *s, http_server_stats *out)
{
    out->accepted = atomic_load(&s->accepted);
    out->closed = atomic_load(&s->closed);
    out->open_max = atomic_load(&s->open_max);
    out->requests = atomic_load(&s->requests);
    out->body_bytes = atomic_load(&s->body_bytes);
}

void
http_server_stop(http_server *s)
{
    uv_async_send(&s->stop);
    uv_thread_join(&s->thread);
    if (uv_loop_close(&s->loop) != 0) {
        fprintf(stderr, "http_server: handles left open\n");
        abort();
    }
    free(s);
}

int
http_closed_port(void)
{
    uv_loop_t loop;
    uv_tcp_t t;
    int port = 0;
    int rc = uv_loop_init(&loop);
    if (rc != 0) {
        return rc;
    }
    uv_tcp_init(&loop, &t);
    rc = bind_loopback(&t, &port);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return rc != 0 ? rc : port;
}
