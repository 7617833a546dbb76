/* What the TCP actors share: the connection core (tcp_conn.c, tcp_io.c)
 * used by accepted connections (tcp_listen.c) and clients (tcp_client.c).
 *
 * Lifetimes. A connection actor's state (acto_tcp_conn) lives from spawn
 * to its stop hook. Its socket (acto__tcp_sock) is separate, because
 * libuv owns a handle until its close callback and a waiting send until
 * its callback: the stop hook detaches the socket (sock->c = NULL) and
 * closes it, and the socket frees itself once nothing of libuv's or the
 * runtime's refers to it. A detached socket touches only the loop and the
 * allocator. The shared part (acto__tcp_shared: limits, counters, the
 * read buffer) is counted: the listener or client holds one reference,
 * every connection one. */
#ifndef ACTO_TCP_INTERNAL_H
#define ACTO_TCP_INTERNAL_H

#include <acto/tcp.h>

#include <uv.h>

/* Private message types (see tcp.h for the public ones). */
#define ACTO__TCP_MSG_ERR (ACTO_TCP_BASE + 0x10u) /* read side failed */
#define ACTO__TCP_MSG_UP (ACTO_TCP_BASE + 0x11u)  /* client: connect ended */
#define ACTO__TCP_MSG_START_FAILED                                             \
    (ACTO_TCP_BASE + 0x12u) /* see conn_start                                  \
                             */

/* Why a connection ended, for the counters. */
typedef enum acto__tcp_why {
    ACTO__TCP_WHY_NONE = 0,
    ACTO__TCP_WHY_IDLE,
    ACTO__TCP_WHY_SLOW,
    ACTO__TCP_WHY_FAILED
} acto__tcp_why;

typedef struct acto__tcp_shared {
    uint32_t refs;
    acto_tcp_stats stats;
    acto_tcp_limits lim; /* with the defaults filled in */
    const acto_tcp_handler *h;
    void *user;
    uint8_t *rbuf; /* one read buffer: reads on a loop never overlap */
    size_t rbuf_size;
    acto_tcp_conn *conns; /* live connections, for a graceful stop */
} acto__tcp_shared;

typedef struct acto__tcp_wreq acto__tcp_wreq;
typedef struct acto__tcp_sock acto__tcp_sock;
typedef struct acto__tcp_client acto__tcp_client;

struct acto__tcp_sock {
    uv_tcp_t tcp;
    acto_tcp_conn *c; /* NULL once detached */
    uint32_t gen;     /* the connection's socket number */
    int pending;      /* close callback and waiting sends to come */
    bool reading;     /* uv_read_start'ed */
    int waiting;      /* sends waiting for room in the mailbox */
    bool read_done;   /* EOF or an error was read */
    bool closing;     /* uv_close'd */
    bool connecting;  /* client: uv_tcp_connect in flight */
    uint8_t *rest;    /* input not yet delivered (mailbox was full) */
    size_t rest_size;
    size_t rest_off;
    acto__tcp_wreq *writes; /* in flight */
    uv_shutdown_t sreq;
    uv_connect_t creq;
};

struct acto_tcp_conn {
    acto_system *sys;
    acto_ref self;
    acto__tcp_shared *sh;
    acto__tcp_sock *s; /* NULL without a socket */
    void *state;       /* the handler's */
    acto_tcp_conn *prev, *next;
    acto_frame_decoder *dec;
    size_t rq_bytes; /* received bytes in the mailbox */
    size_t wq_bytes; /* bytes queued for writing */
    uint32_t gen;
    bool paused;    /* reading paused: rq_bytes over the limit */
    bool closing;   /* graceful close under way */
    bool shut;      /* our side shut down (or shutting down) */
    bool suspended; /* acto_suspend'ed on writes */
    bool opened;    /* handler->open ran (close must run) */
    bool final;     /* closed for good: a client does not reconnect */
    acto__tcp_why why;
    uint64_t slow_timer;
    acto__tcp_client *cl; /* clients only */
};

/* ---- shared ----------------------------------------------------------- */

/* acto__tcp_shared_new fills the limits' defaults and makes the read
 * buffer. Returns 0, ACTO_EINVAL (bad limits) or ACTO_ENOMEM. */
int acto__tcp_shared_new(const acto_tcp_limits *lim, const acto_tcp_handler *h,
                         void *user, acto__tcp_shared **out);
void acto__tcp_shared_release(acto__tcp_shared *sh);

/* acto__tcp_conn_new makes a connection state holding a reference to sh.
 * Returns NULL when out of memory. */
acto_tcp_conn *acto__tcp_conn_new(acto_system *sys, acto__tcp_shared *sh);
/* acto__tcp_conn_free frees a state whose actor never started. */
void acto__tcp_conn_free(acto_tcp_conn *c);

/* acto__tcp_sock_new makes a socket (uv_tcp_init'ed) for c, or NULL. */
acto__tcp_sock *acto__tcp_sock_new(acto_tcp_conn *c, uv_loop_t *loop);
/* acto__tcp_sock_close detaches s from its connection, fails what it was
 * writing with ACTO_ECANCELED and closes it. */
void acto__tcp_sock_close(acto__tcp_sock *s);
/* acto__tcp_read_start starts reading unless something holds it. */
int acto__tcp_read_start(acto_tcp_conn *c);

/* The behaviours, for acto_call_as. */
extern const acto_behaviour acto__tcp_listener_b;

/* The connection actor's behaviour and its spawn options. */
extern const acto_behaviour acto__tcp_conn_b;
void acto__tcp_spawn_opts(const acto__tcp_shared *sh, acto_spawn_opts *o);

/* acto__tcp_write queues data (or m's bytes, taking m) on c's socket.
 * Returns as acto_tcp_conn_write. */
int acto__tcp_write(acto_tcp_conn *c, const void *data, size_t len, acto_msg *m,
                    acto_future *done);

/* acto__tcp_deliver sends m (built on the read side) to c's actor, or
 * waits for room and stops reading. Returns 0 (sent), 1 (waiting) or an
 * error (m freed). */
int acto__tcp_deliver(acto_tcp_conn *c, acto_msg *m);

/* acto__tcp_send_err delivers a read-side failure to the actor, in order
 * after the data. */
void acto__tcp_send_err(acto_tcp_conn *c, int code);

/* acto__tcp_end ends c's current connection: a server connection stops
 * its actor; a client drops the socket and reconnects or stops. */
void acto__tcp_end(acto_tcp_conn *c, acto__tcp_why why);

/* acto__tcp_count_end counts one ended connection. */
void acto__tcp_count_end(acto_tcp_conn *c, acto_exit_kind kind);

/* Client hooks, called by the core (tcp_client.c). */
/* acto__tcp_client_connect starts a connect; a failure to start one is
 * handled as a failed attempt (retry or give up). */
void acto__tcp_client_connect(acto_tcp_conn *c);
void acto__tcp_client_lost(acto_tcp_conn *c);
int acto__tcp_client_msg(acto_ctx *ctx, acto_tcp_conn *c, const acto_msg *m);
void acto__tcp_client_stop(acto_tcp_conn *c);

/* acto__tcp_addr parses a numeric host (or "localhost") and port. */
int acto__tcp_addr(const char *host, uint16_t port,
                   struct sockaddr_storage *out);

#endif /* ACTO_TCP_INTERNAL_H */
