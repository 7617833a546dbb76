/* What the HTTP session (http_session.c: the actor, the multi handle and
 * its libuv glue) and its transfers (http_xfer.c: one request each,
 * http_response.c: building responses and errors) share.
 *
 * Re-entrancy. curl calls back (socket, timer, write, header, prereq)
 * only from inside curl_multi_* and curl_easy_pause calls; those callbacks
 * never call back into the multi handle's action functions: they record,
 * arm a uv timer, start or stop a uv poll, send a message or complete a
 * future (whose callbacks run later, from the loop). Transfers end
 * (curl_multi_remove_handle) only from outside curl: after
 * curl_multi_socket_action has returned, or from an acto timer, a future's
 * done callback or a send's completion.
 *
 * Lifetime. The session's state outlives its actor until every uv handle
 * it opened is closed (a uv_poll_t or uv_timer_t is freed only in its
 * close callback). A transfer is freed when it ends, unless a streamed
 * chunk is still waiting for room in its receiver: then the send's
 * completion frees it. */
#ifndef ACTO_HTTP_INTERNAL_H
#define ACTO_HTTP_INTERNAL_H

#include <acto/http.h>

#include <curl/curl.h>
#include <stdbool.h>
#include <uv.h>

typedef struct acto__http_session acto__http_session;
typedef struct acto__http_xfer acto__http_xfer;
typedef struct acto__http_sock acto__http_sock;

/* Easy handles kept for reuse (reset, their connections stay pooled in
 * the multi handle). */
#define ACTO__HTTP_SPARE 64

struct acto__http_session {
    acto_system *sys;
    acto_ref self;
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer; /* curl's timeout */
    acto__http_xfer *xfers;
    acto__http_sock *socks;
    CURL *spare[ACTO__HTTP_SPARE];
    size_t n_spare;
    acto_http_timeout timeout;
    size_t max_body;
    char *user_agent;
    size_t ua_size;
    uint32_t limit;
    uint32_t limit_per_host;
    acto_http_stats stats;
    int handles;  /* uv handles not yet closed */
    bool stopped; /* the actor stopped: free once handles is 0 */
};

/* A socket curl watches, with its poll handle. A connection's socket is
 * opened and closed through the session (acto__http_open_socket,
 * acto__http_close_socket), so its handle can outlive curl's watch: while
 * the connection waits in the pool, and for the next request on it, no
 * poll handle is made or closed and no event mask changes (the requests
 * of a keep-alive connection cost no epoll_ctl). */
struct acto__http_sock {
    uv_poll_t poll;
    acto__http_session *s;
    acto__http_sock *prev;
    acto__http_sock *next;
    curl_socket_t fd;
    int events;   /* what the handle watches now (0: stopped) */
    bool watched; /* curl watches it; else a pooled connection's */
    bool conn;    /* opened by the session: closed through it too */
};

/* curl's open and close socket callbacks (CURLOPT_OPENSOCKETFUNCTION,
 * whose clientp is the transfer, and CURLOPT_CLOSESOCKETFUNCTION, whose
 * clientp is the session: a pooled connection closes after its transfer):
 * a connection's socket gets its poll handle when it opens, and loses it
 * just before it closes, as libuv requires. */
curl_socket_t acto__http_open_socket(void *clientp, curlsocktype purpose,
                                     struct curl_sockaddr *address);
int acto__http_close_socket(void *clientp, curl_socket_t fd);

struct acto__http_xfer {
    acto__http_session *s;
    acto__http_xfer *prev;
    acto__http_xfer *next;
    CURL *easy;
    acto_future *f; /* our reference, until the transfer ends */
    struct curl_slist *req_headers;
    char *method; /* for error texts; a copy */
    size_t method_size;
    /* the latest response's head */
    char *head; /* "Name: value\n" lines */
    size_t head_len;
    size_t head_cap;
    int status;
    bool location;  /* it has a Location header */
    bool delivered; /* the future has the response (streaming) */
    /* a whole body */
    char *body;
    size_t body_len;
    size_t body_cap;
    size_t max_body; /* 0: no limit */
    uint64_t streamed;
    /* a streamed body */
    bool stream;
    bool waiting; /* a chunk waits for room in the receiver */
    bool paused;  /* curl is paused until it has room */
    bool ended;   /* ended while waiting: the send's completion frees */
    acto_ref to;
    uint32_t item_type;
    acto_msg *end_ok;   /* EOS, made up front */
    acto_msg *end_fail; /* BODY_FAILED, made up front */
    /* timeouts */
    uint64_t total_timer; /* acto timer ids, 0: none */
    uint64_t read_timer;
    uint64_t doom_timer; /* ends a doomed transfer */
    uint32_t total_ms;
    uint32_t read_ms;
    bool sent;          /* the request went out (curl's prereq) */
    uint64_t last_read; /* acto_system_now of the last bytes read */
    /* an error found by a callback, taking precedence over curl's */
    int err_code;
    const char *err_type;
    char err_text[128];
    char errbuf[CURL_ERROR_SIZE];
};

/* ---- http_session.c --------------------------------------------------- */

/* acto__http_collect ends every transfer curl reports done. Call it after
 * every curl_multi_socket_action and curl_easy_pause, outside curl. */
void acto__http_collect(acto__http_session *s);

/* acto__http_easy gets an easy handle (a spare one or a new one), or
 * NULL. acto__http_easy_put resets it and keeps it, or cleans it up. */
CURL *acto__http_easy(acto__http_session *s);
void acto__http_easy_put(acto__http_session *s, CURL *e);

/* ---- http_xfer.c ------------------------------------------------------ */

/* acto__http_xfer_start makes a transfer of req and adds it to the multi
 * handle. Returns 0 and sets *out (one reference, the caller's);
 * ACTO_EINVAL; ACTO_ENOMEM. On error nothing is left. */
int acto__http_xfer_start(acto__http_session *s, const acto_http_request *req,
                          acto_future **out);

/* acto__http_xfer_done ends x with curl's result (x was removed from the
 * multi handle or is about to be: it removes it). */
void acto__http_xfer_done(acto__http_xfer *x, CURLcode rc);

/* acto__http_doom fails the transfer of e with code soon, from outside
 * curl (called from inside a curl callback). */
void acto__http_doom(CURL *e, int code);

/* acto__http_xfer_abort ends x, whose future is cancelled or about to be,
 * as the session stops: its stream receiver gets BODY_FAILED with err. */
void acto__http_xfer_abort(acto__http_xfer *x, int code, const char *type,
                           const char *text);

/* ---- http_response.c -------------------------------------------------- */

/* acto__http_head_line records one header line of a response as curl
 * gives it (status line, header, or the blank end). Returns whether the
 * head is complete and final (not a 1xx, not a redirect curl follows);
 * *err is set to ACTO_ENOMEM when a line could not be kept. */
bool acto__http_head_line(acto__http_xfer *x, const char *p, size_t n,
                          int *err);

/* acto__http_deliver completes x's future with the response built from
 * what x holds (the body moves to the response). Returns 0 or
 * ACTO_ENOMEM (the future is then failed with it). */
int acto__http_deliver(acto__http_xfer *x);

/* acto__http_map fills code, type and text for a failed transfer: x's own
 * error when a callback recorded one, else curl's rc. */
void acto__http_map(acto__http_xfer *x, CURLcode rc, int *code,
                    const char **type, const char **text);

/* acto__http_fail fails x's future (when still pending) or, for a
 * delivered stream, sends BODY_FAILED to its receiver. */
void acto__http_fail(acto__http_xfer *x, int code, const char *type,
                     const char *text);

/* acto__http_stream_prepare makes a stream's two possible last messages
 * up front, so ending it never needs memory. Returns 0 or ACTO_ENOMEM. */
int acto__http_stream_prepare(acto__http_xfer *x);

/* acto__http_stream_end sends EOS (code 0) or BODY_FAILED with the error,
 * behind any chunk still waiting for room. */
void acto__http_stream_end(acto__http_xfer *x, int code, const char *type,
                           const char *text);

/* acto__http_stream_release frees the last messages not sent. */
void acto__http_stream_release(acto__http_xfer *x);

/* acto__http_set_err records a callback's error on x (the first wins). */
void acto__http_set_err(acto__http_xfer *x, int code, const char *type,
                        const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif /* ACTO_HTTP_INTERNAL_H */
