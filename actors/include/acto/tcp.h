/* TCP actors: a listener that runs one actor per connection, and a client
 * that connects (and reconnects) to a server.
 *
 * The connection actor. Every connection, accepted or made, is an actor
 * that owns its socket and runs the user's acto_tcp_handler. Bytes read
 * from the socket arrive in its mailbox as ACTO_TCP_DATA messages, in
 * order: one per read, or one per frame with a framing (<acto/frame.h>).
 * The handler writes with acto_tcp_conn_write (inside the actor); other
 * actors send bytes to it with acto_tcp_send, which is a message to the
 * connection actor. Either may ask for a future that completes once the
 * bytes were handed to the kernel (or fails with the socket's error).
 *
 * Backpressure, both ways. When the connection's mailbox is full (its
 * handler is slow, or parked on a full receiver), or holds more than
 * limits.max_read_bytes of received bytes, reading stops (uv_read_stop)
 * until there is room: the peer's TCP window then closes, as with
 * Erlang's {active, once}. Writes queue in the kernel and then in the
 * connection, up to limits.max_write_bytes; past it the actor suspends
 * itself, so its mailbox fills and actors sending to it park like at any
 * full mailbox, and it stops reading too. A peer that reads nothing keeps
 * it there: after limits.slow_reader_ms it is cut (counted).
 *
 * Limits by default: listening on 127.0.0.1, at most 1024 connections
 * (the rest are accepted and reset at once, counted as refused), an idle
 * timeout of 60 s (nothing received, nothing to write), 256 KiB of
 * received bytes waiting and 256 KiB of bytes to write per connection.
 *
 * Half-close. When the peer shuts down its side, the handler gets
 * ACTO_TCP_EOF after the last data. Then, unless limits.keep_open_on_eof,
 * the connection finishes its writes, shuts down its side and closes (the
 * echo-server behaviour asyncio's default gives); with keep_open_on_eof
 * the handler may go on writing and closes with acto_tcp_conn_close.
 *
 * Failures. A read or write error (a reset), a frame over the limit
 * ("FrameTooLarge", UV_EMSGSIZE) or a malformed one ("MalformedFrame",
 * UV_EPROTO), or an error returned by the handler, fail the connection
 * actor: it stops, the socket is closed, its pending write futures fail,
 * and the failure is counted. Other connections are unaffected; the
 * listener goes on.
 *
 * SIGPIPE. A write to a peer that reset fails with UV_EPIPE; so that it
 * does not kill the process instead, the first listener or client sets
 * SIGPIPE to be ignored unless the program installed a handler for it.
 *
 * Graceful stop. acto_shutdown(listener) (or a supervisor above it, or
 * acto_stop_on_signals) stops accepting, lets every connection finish the
 * writes it has within limits.shutdown_ms (each shuts down its side and
 * closes), kills those still open after that, then stops the listener.
 *
 * Thread: everything here runs on the system's loop thread.
 */
#ifndef ACTO_TCP_H
#define ACTO_TCP_H

#include <acto/acto.h>
#include <acto/frame.h>
#include <acto/stream.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Message types from ACTO_TCP_BASE to ACTO_TCP_BASE + 0x1F are TCP's. */
#define ACTO_TCP_BASE (ACTO_STREAM_BASE + 0x60u)
/* To the handler: bytes received (one read, or one frame), a bytes
 * payload; read with acto_msg_data. */
#define ACTO_TCP_DATA (ACTO_TCP_BASE + 0u)
/* To the handler: the peer shut down its side; no DATA follows. */
#define ACTO_TCP_EOF (ACTO_TCP_BASE + 1u)
/* To the handler of a client: a connection is up (acto_tcp_conn_write
 * works from now on). */
#define ACTO_TCP_CONNECTED (ACTO_TCP_BASE + 2u)
/* To the handler of a client with reconnect: the connection is gone and
 * a reconnect follows (without reconnect the client stops instead). */
#define ACTO_TCP_DISCONNECTED (ACTO_TCP_BASE + 3u)
/* To a connection actor (acto_tcp_send builds these): bytes to write. */
#define ACTO_TCP_WRITE (ACTO_TCP_BASE + 4u)
/* To a connection actor: close gracefully (acto_tcp_close); a client
 * then stops instead of reconnecting. */
#define ACTO_TCP_CLOSE (ACTO_TCP_BASE + 5u)

/* The connection, as the handler sees it. Borrowed for the handler call;
 * valid while the actor lives. */
typedef struct acto_tcp_conn acto_tcp_conn;

/* What a connection actor runs. Every function runs inside the
 * connection actor (it may send, spawn, fail with acto_fail). */
typedef struct acto_tcp_handler {
    /* Optional. Runs in the actor's start hook, with the user pointer of
     * the options, before any message; sets *state (NULL by default).
     * A negative return closes the connection (counted as failed). */
    int (*open)(acto_ctx *ctx, acto_tcp_conn *c, void *user, void **state);
    /* Required. Every message for the connection: ACTO_TCP_DATA,
     * ACTO_TCP_EOF, ACTO_TCP_CONNECTED/DISCONNECTED (clients), and any
     * message of the user's own. A negative return fails the actor. The
     * connection handles ACTO_TCP_WRITE, ACTO_TCP_CLOSE, the shutdown
     * notice and the idle timeout itself: the handler never sees them. */
    int (*receive)(acto_ctx *ctx, acto_tcp_conn *c, void *state,
                   const acto_msg *m);
    /* Optional. Runs once when the actor stops, whatever the reason: the
     * place to free state. The socket may no longer be written to. */
    void (*close)(acto_ctx *ctx, acto_tcp_conn *c, void *state,
                  const acto_exit_reason *why);
} acto_tcp_handler;

/* Per-connection limits; zero fields give the defaults. */
typedef struct acto_tcp_limits {
    uint32_t max_connections; /* listener: open at once; 0: 1024 */
    uint32_t idle_ms;         /* close after this long with nothing read
                                 and nothing to write; 0: 60000;
                                 UINT32_MAX: never */
    size_t max_read_bytes;    /* received bytes waiting in the mailbox
                                 before reading pauses; 0: 256 KiB */
    size_t max_write_bytes;   /* bytes queued for writing before the actor
                                 suspends; 0: 256 KiB */
    uint32_t slow_reader_ms;  /* how long a connection may stay over
                                 max_write_bytes before it is cut;
                                 0: 10000 */
    uint32_t mailbox;         /* the connection's mailbox bound in
                                 messages; 0: 64 */
    uint32_t shutdown_ms;     /* graceful stop budget; 0: 5000 */
    acto_frame_kind framing;  /* ACTO_FRAME_NONE (default), LINES or
                                 MSGPACK: how reads and writes are cut */
    size_t max_frame;         /* with framing; 0: 1 MiB */
    bool keep_open_on_eof;    /* see half-close above */
} acto_tcp_limits;

/* Counters, readable with acto_tcp_stats. */
typedef struct acto_tcp_stats {
    uint64_t accepted;         /* connections accepted (listener) */
    uint64_t refused;          /* over max_connections: reset at once */
    uint64_t active;           /* connection actors alive now */
    uint64_t closed;           /* connections ended, for any reason */
    uint64_t failed;           /* of which failed (resets, frame errors,
                                  handler errors) */
    uint64_t idle_closed;      /* of which closed by the idle timeout */
    uint64_t slow_reader_cut;  /* of which cut as slow readers */
    uint64_t frame_errors;     /* of which frames over the limit or
                                  malformed */
    uint64_t killed;           /* of which killed at the end of a
                                  graceful stop's budget */
    uint64_t bytes_in;         /* bytes read */
    uint64_t bytes_out;        /* bytes written (handed to the kernel) */
    uint64_t read_pauses;      /* times reading paused for room */
    uint64_t write_parks;      /* times a connection suspended on writes */
    uint64_t connects;         /* client: connections made */
    uint64_t connect_failures; /* client: attempts that failed or timed
                                  out */
} acto_tcp_stats;

/* ---- the listener ----------------------------------------------------- */

/* Told of a connection that failed (the listener counts it and goes on):
 * conn is the stopped connection actor, err its error (type, code and
 * text, e.g. "FrameTooLarge"), borrowed for the call. Runs inside the
 * listener's handler. */
typedef void (*acto_tcp_error_fn)(acto_system *sys, acto_ref conn,
                                  const acto_error *err, void *user);

typedef struct acto_tcp_listen_opts {
    const char *host;                /* numeric IPv4 or IPv6 address;
                                        NULL: "127.0.0.1" */
    uint16_t port;                   /* 0: any free port */
    int backlog;                     /* 0: 128 */
    const acto_tcp_handler *handler; /* required; used in place: it must
                                        outlive the listener */
    void *user;                      /* given to handler->open */
    acto_tcp_limits limits;
    acto_tcp_error_fn on_error; /* may be NULL */
    void *error_user;           /* given to on_error */
} acto_tcp_listen_opts;

/* acto_tcp_listen binds, listens and spawns the listener actor, which
 * accepts connections and spawns one connection actor per client as its
 * children (it supervises them: a connection that fails is counted and
 * forgotten, temporary children in OTP's words). Called from a handler or
 * a supervisor's start function, the running actor becomes its parent,
 * so it joins a supervision tree. The listener stops gracefully on
 * acto_shutdown (see above).
 * Returns 0 and sets *out; ACTO_EINVAL (NULL sys, opts, out or handler,
 * no receive function, a bad address, an unknown framing, max_frame over
 * the ceiling); ACTO_ENOMEM; a libuv error (UV_EADDRINUSE, UV_EACCES...);
 * acto_spawn's errors. On error nothing is left open.
 * Ownership: opts is copied (the handler is borrowed).
 * Thread: the loop thread. */
int acto_tcp_listen(acto_system *sys, const acto_tcp_listen_opts *opts,
                    acto_ref *out);

/* acto_tcp_listener_port sets *port to the port the listener is bound to
 * (useful with port 0). Returns 0; ACTO_ENOACTOR when listener is not a
 * live listener; ACTO_EINVAL; ACTO_ECLOSED once it stopped listening.
 * Ownership: only *port is written. Thread: the loop thread. */
int acto_tcp_listener_port(acto_system *sys, acto_ref listener, uint16_t *port);

/* acto_tcp_stats_of copies the counters of a live listener (for all its
 * connections) or client into *out. Returns 0; ACTO_ENOACTOR when ref is
 * neither; ACTO_EINVAL. Ownership: only *out is written (a copy).
 * Thread: the loop thread. */
int acto_tcp_stats_of(acto_system *sys, acto_ref ref, acto_tcp_stats *out);

/* ---- inside a connection's handler ------------------------------------ */

/* acto_tcp_conn_write queues len bytes (copied; framed as the limits say)
 * for writing. With done, *done becomes a future (one reference, the
 * caller's) completed with no value once the bytes reached the kernel, or
 * failed with the socket's error or ACTO_ECANCELED when the connection
 * closes first. Returns 0; ACTO_EINVAL; ACTO_ECLOSED (no socket, or the
 * connection is closing); UV_EMSGSIZE (over max_frame); ACTO_ENOMEM; a
 * libuv error. Ownership: data is copied; *done is the caller's to
 * release. Thread: inside the connection's actor. */
int acto_tcp_conn_write(acto_tcp_conn *c, const void *data, size_t len,
                        acto_future **done);

/* acto_tcp_conn_write_msg writes the bytes of m without copying them (a
 * received ACTO_TCP_DATA taken with acto_take_msg, say: an echo). Returns
 * as acto_tcp_conn_write (ACTO_EINVAL when m carries no bytes).
 * Ownership: m is taken on 0 and stays the caller's otherwise; *done as
 * for acto_tcp_conn_write. Thread: inside the connection's actor. */
int acto_tcp_conn_write_msg(acto_tcp_conn *c, acto_msg *m, acto_future **done);

/* acto_tcp_conn_write_received writes back the bytes of m, the message
 * the handler is handling (an ACTO_TCP_DATA, say: an echo): without a
 * copy when the handler may take it (acto_take_msg), else copied.
 * Returns as acto_tcp_conn_write. Ownership: m is the runtime's or, taken,
 * the connection's: the caller frees nothing, on error either. *done as
 * for acto_tcp_conn_write. Thread: inside the connection's actor. */
int acto_tcp_conn_write_received(acto_ctx *ctx, acto_tcp_conn *c,
                                 const acto_msg *m, acto_future **done);

/* acto_tcp_conn_close closes gracefully: reading stops, queued writes
 * finish, the connection shuts down its side and the actor stops
 * normally (a client does not reconnect). Returns 0; ACTO_EINVAL;
 * ACTO_EALREADY when closing already. Thread: inside the connection's
 * actor. */
int acto_tcp_conn_close(acto_tcp_conn *c);

/* acto_tcp_conn_ref returns the connection actor's ref, to hand to other
 * actors (ACTO_REF_NONE for NULL). Thread: the loop thread. */
acto_ref acto_tcp_conn_ref(const acto_tcp_conn *c);

/* acto_tcp_conn_write_queue returns the bytes queued for writing and not
 * yet handed to the kernel (0 for NULL). Thread: the loop thread. */
size_t acto_tcp_conn_write_queue(const acto_tcp_conn *c);

/* acto_tcp_conn_peer writes the peer's address as "ip:port" into buf
 * (size bytes, NUL-terminated). Returns 0; ACTO_EINVAL; ACTO_ECLOSED
 * without a connected socket; UV_ENOBUFS when buf is too small; a libuv
 * error. Ownership: buf stays the caller's. Thread: the loop thread. */
int acto_tcp_conn_peer(const acto_tcp_conn *c, char *buf, size_t size);

/* ---- from other actors ------------------------------------------------ */

/* acto_tcp_send sends len bytes (copied) for the connection actor conn to
 * write: from the running actor when ctx is not NULL (it parks if conn's
 * mailbox is full), else from outside (ACTO_EQUEUEFULL when full). done
 * is as for acto_tcp_conn_write; a connection that is gone or closing
 * fails it (ACTO_ENOACTOR, ACTO_ECLOSED). Returns 0; ACTO_EINVAL;
 * ACTO_ENOMEM; acto_send's errors (then *done is untouched).
 * Ownership: data is copied; *done is the caller's to release.
 * Thread: the loop thread. */
int acto_tcp_send(acto_system *sys, acto_ctx *ctx, acto_ref conn,
                  const void *data, size_t len, acto_future **done);

/* acto_tcp_close asks the connection actor conn to close gracefully, after
 * the writes sent before. ctx as for acto_tcp_send. Returns as acto_send
 * (ACTO_EINVAL for NULL sys; ACTO_ENOMEM). Thread: the loop thread. */
int acto_tcp_close(acto_system *sys, acto_ctx *ctx, acto_ref conn);

/* ---- the client ------------------------------------------------------- */

typedef struct acto_tcp_connect_opts {
    const char *host;                /* numeric address or "localhost";
                                        NULL: "127.0.0.1" */
    uint16_t port;                   /* required */
    const acto_tcp_handler *handler; /* required; borrowed, must outlive */
    void *user;                      /* given to handler->open */
    acto_tcp_limits limits;          /* max_connections unused */
    uint32_t connect_timeout_ms;     /* 0: 5000 */
    bool reconnect;                  /* reconnect after a failed attempt
                                        or a lost connection */
    uint32_t retry_min_ms;           /* first backoff; 0: 100 */
    uint32_t retry_max_ms;           /* backoff cap; 0: 5000 */
    uint32_t max_attempts;           /* consecutive failed attempts before
                                        the client fails; 0: no limit with
                                        reconnect, 1 without */
} acto_tcp_connect_opts;

/* acto_tcp_connect spawns a client actor that connects to host:port and
 * runs opts->handler, which gets ACTO_TCP_CONNECTED once a connection is
 * up and ACTO_TCP_DISCONNECTED when it goes. An attempt that does not
 * connect within connect_timeout_ms fails. With reconnect, failed
 * attempts and lost connections are retried after a backoff doubling from
 * retry_min_ms to retry_max_ms (reset by a connection that came up);
 * max_attempts consecutive failures fail the actor ("ConnectFailed", the
 * last error's code). Without reconnect a failed attempt fails the actor
 * and a lost connection stops it normally. Writes while disconnected fail
 * with ACTO_ECLOSED. Called from a handler, the running actor becomes the
 * parent.
 * Returns 0 and sets *out; ACTO_EINVAL (NULL or bad arguments, port 0, an
 * address that is not numeric); ACTO_ENOMEM; acto_spawn's errors.
 * Ownership: opts is copied (the handler is borrowed).
 * Thread: the loop thread. */
int acto_tcp_connect(acto_system *sys, const acto_tcp_connect_opts *opts,
                     acto_ref *out);

#endif /* ACTO_TCP_H */
