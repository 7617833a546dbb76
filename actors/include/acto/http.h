/* The HTTP client: a session actor (aiohttp's ClientSession for acto).
 *
 * A session owns a libcurl multi handle driven by the system's own libuv
 * loop (curl's multi-socket API: one uv_poll_t per socket curl uses, one
 * uv_timer_t for curl's timeouts), so no transfer ever blocks the loop,
 * and a connection pool: connections are kept alive and reused, at most
 * `limit` open at once and at most `limit_per_host` to one host (aiohttp's
 * TCPConnector(limit, limit_per_host)); requests beyond the limits wait in
 * order for a connection. Redirects are followed (at most 10), and gzip,
 * deflate, brotli and zstd bodies are decoded, as aiohttp does; proxy
 * variables of the environment are ignored (aiohttp's trust_env=False).
 *
 * A request returns a future (acto_http_fetch). It completes with the
 * response (acto_http_response_of reads it): status, headers and the whole
 * body; or, for a streamed request, status and headers as soon as they have
 * arrived, the body then travelling to an actor as <acto/stream.h> items
 * with backpressure. Cancelling the future (acto_future_cancel, or
 * acto_wait_for's timeout) aborts the transfer and closes its connection.
 * The response is the future's: it lives as long as the future does.
 *
 * Timeouts (aiohttp's ClientTimeout): total bounds the whole request,
 * waiting for a connection included; connect bounds name resolution, the
 * TCP connect and the TLS handshake; read bounds every wait for bytes from
 * the server once the request is sent (the wait for the status line, and
 * each gap in the body). They run on the system's timers.
 *
 * Errors. A request that fails fails its future with an acto_error whose
 * text names the URL and carries curl's own description. Codes and types:
 *   ACTO_ETIMEDOUT    "TimeoutError" (total), "ConnectTimeoutError",
 *                     "ReadTimeoutError"
 *   UV_EAI_NONAME     "DNSError": the host name did not resolve
 *   UV_ECONNREFUSED   "ConnectionRefused" (other connect failures pass
 *                     the system's error through, type "ConnectionError")
 *   UV_ECONNRESET     "ServerDisconnected": the connection broke while
 *                     sending or receiving
 *   UV_EPROTO         "TLSError": the TLS handshake or the certificate
 *                     check failed
 *   UV_EREMOTEIO      "ServerResponseError": what the server sent is not
 *                     a valid HTTP response (including no response at all,
 *                     or a body cut short)
 *   UV_EMSGSIZE       "PayloadTooLarge": the body passed max_body
 *   UV_ELOOP          "TooManyRedirects": more than 10 redirects
 *   ACTO_EINVAL       "InvalidURL": curl could not parse the URL
 *   ACTO_ENOACTOR     "ReceiverGone": a streamed body's receiver stopped
 *   ACTO_EQUEUEFULL   "ReceiverFull": its fail-policy mailbox was full
 *   ACTO_ECANCELED    the future is cancelled (not failed) when the
 *                     session stops
 *   ACTO_ENOMEM       "ACTO_ENOMEM"
 *   UV_EIO            "ClientError": anything else curl reports
 * A transfer that fails after its response started is closed, never
 * returned to the pool.
 * A status of 4xx or 5xx is a response, not an error (aiohttp's default,
 * raise_for_status=False).
 *
 * Why a call and not an ask. The session actor handles no messages:
 * acto_http_fetch runs inside it on the loop thread (acto_call_as) and
 * hands back the transfer's own future. A cancelled ask never reaches its
 * callee, and cancelling a request must abort its transfer.
 *
 * Message types ACTO_STREAM_BASE + 0x50 to + 0x5F are the HTTP client's.
 *
 * Thread: everything here runs on the system's loop thread.
 */
#ifndef ACTO_HTTP_H
#define ACTO_HTTP_H

#include <acto/acto.h>
#include <acto/stream.h>
#include <stddef.h>
#include <stdint.h>

/* Timeouts in milliseconds; 0 means "the default": the session's for a
 * request, none for a session (total: 300000, as aiohttp). */
typedef struct acto_http_timeout {
    uint32_t total_ms;   /* the whole request, waiting for a connection
                            included */
    uint32_t connect_ms; /* name resolution, TCP connect, TLS handshake */
    uint32_t read_ms;    /* each wait for bytes once the request is sent */
} acto_http_timeout;

/* Zero-initialised fields give the defaults. */
typedef struct acto_http_session_opts {
    uint32_t limit;            /* connections open at once; 0: 100 */
    uint32_t limit_per_host;   /* to one host; 0: no limit beyond `limit` */
    acto_http_timeout timeout; /* defaults of every request */
    size_t max_body;           /* largest body read whole, in bytes;
                                  0: 64 MiB */
    const char *user_agent;    /* copied; NULL: "acto/0.1" */
} acto_http_session_opts;

/* One header of a request ("Name: value" lines) or a response. */
typedef struct acto_http_header {
    const char *name;
    const char *value;
} acto_http_header;

/* A request. Only url is required. */
typedef struct acto_http_request {
    const char *method; /* NULL: "GET", or "POST" when body_len > 0 */
    const char *url;    /* http:// or https:// */
    const acto_http_header *headers; /* sent as given */
    size_t n_headers;
    const void *body; /* sent as the request body (copied) */
    size_t body_len;
    acto_http_timeout timeout; /* 0 fields: the session's */
    size_t max_body;           /* 0: the session's for a whole body, no
                                  limit for a streamed one; a
                                  Content-Length above it fails the
                                  request before any body byte */
    /* Streaming: when stream_to is not ACTO_REF_NONE, the body goes to
     * that actor as bytes messages of type item_type (below
     * ACTO_STREAM_BASE), in order, at most 16 KiB each, then one
     * ACTO_STREAM_EOS; or, if the transfer fails after the response
     * completed the future, one ACTO_HTTP_MSG_BODY_FAILED. The messages
     * come from outside any actor (no sender). When the receiver's
     * park-policy mailbox is full the transfer pauses (curl stops reading
     * the socket, so the server stops sending) until there is room: a
     * slow receiver bounds the memory a body takes. */
    acto_ref stream_to;
    uint32_t item_type;
} acto_http_request;

/* A response. Every pointer lives as long as the future that holds it. */
typedef struct acto_http_response {
    int status;                      /* e.g. 200 */
    const char *url;                 /* the last URL, after redirects */
    const acto_http_header *headers; /* of the final response, in order */
    size_t n_headers;
    const char *body; /* the whole body, with a '\0' after it; "" when
                         streamed */
    size_t body_len;
} acto_http_response;

/* The message that ends a streamed body whose transfer failed after the
 * response was delivered; acto_http_msg_error reads the error. */
#define ACTO_HTTP_MSG_BODY_FAILED (ACTO_STREAM_BASE + 0x50u)

/* acto_http_session_spawn spawns a session actor with opts (NULL: the
 * defaults). Called from inside a handler, the running actor becomes its
 * parent. Stopping the session (acto_stop, its supervisor, closing the
 * system) cancels every request in flight, closes its connections and
 * ends its streamed bodies with ACTO_HTTP_MSG_BODY_FAILED.
 * SIGPIPE: as a TCP listener does (tcp.h), the session sets SIGPIPE to be
 * ignored unless the program installed a handler for it, since libcurl
 * runs with CURLOPT_NOSIGNAL and a write to a peer that reset (TLS
 * included) would otherwise kill the process.
 * Returns 0 and sets *out; ACTO_EINVAL (NULL sys or out); ACTO_ENOMEM;
 * UV_EIO when libcurl cannot be initialised; acto_spawn's errors.
 * Ownership: opts and its strings are copied.
 * Thread: the loop thread. libcurl's global initialisation happens once
 * per process, the first time, under a lock. */
int acto_http_session_spawn(acto_system *sys,
                            const acto_http_session_opts *opts, acto_ref *out);

/* acto_http_fetch starts req on session and returns a future for its
 * response (acto_http_response_of). The transfer starts at once (or waits
 * for a connection under the pool's limits); the future completes from the
 * loop, never inside this call. Cancelling it aborts the transfer.
 * Returns 0 and sets *out; ACTO_EINVAL (NULL arguments; a url that is not
 * http:// or https://; a stream item type at or above ACTO_STREAM_BASE; a
 * header name that is empty or holds ':', CR or LF, a value holding CR or
 * LF, or a header line over 1023 bytes; a method that is empty or holds a
 * space, CR or LF; body NULL with body_len > 0); ACTO_ENOACTOR (session is
 * not a live session); ACTO_ENOMEM. On error nothing was sent. A URL curl
 * cannot parse fails the future ("InvalidURL").
 * Ownership: req and everything it points to are copied. *out is one
 * reference, the caller's (acto_future_release).
 * Thread: the loop thread, inside or outside handlers. */
int acto_http_fetch(acto_system *sys, acto_ref session,
                    const acto_http_request *req, acto_future **out);

/* acto_http_get is acto_http_fetch of a GET of url with the session's
 * defaults. Returns, ownership and thread as acto_http_fetch. */
int acto_http_get(acto_system *sys, acto_ref session, const char *url,
                  acto_future **out);

/* acto_http_response_of returns the response of a completed fetch future,
 * or NULL when f is NULL, pending, failed or cancelled. f must be a fetch
 * future or one whose value is a fetch's response (acto_wait_for's or
 * acto_shield's over a fetch, a gather item's future).
 * Ownership: borrowed, valid while f lives.
 * Thread: the loop thread. */
const acto_http_response *acto_http_response_of(acto_future *f);

/* acto_http_header_get returns the value of the first header named name
 * (ASCII case-insensitive) in resp, or NULL (also for NULL arguments).
 * Ownership: borrowed from resp. Thread: any. */
const char *acto_http_header_get(const acto_http_response *resp,
                                 const char *name);

/* acto_http_msg_error returns the error an ACTO_HTTP_MSG_BODY_FAILED
 * message carries, else NULL. Ownership: borrowed from the message.
 * Thread: the loop thread. */
const acto_error *acto_http_msg_error(const acto_msg *m);

/* acto_http_session_stats copies a session's counters: requests started,
 * finished (any outcome) and in flight, and connections curl opened.
 * Returns 0; ACTO_ENOACTOR (not a live session); ACTO_EINVAL (NULL sys or
 * out). Ownership: copied into *out. Thread: the loop thread. */
typedef struct acto_http_stats {
    uint64_t started;
    uint64_t finished;
    uint64_t in_flight;
    uint64_t connections; /* opened over the session's life */
} acto_http_stats;
int acto_http_session_stats(acto_system *sys, acto_ref session,
                            acto_http_stats *out);

#endif /* ACTO_HTTP_H */
