/* acto-echo: the classic echo server on acto's TCP actors, and a load
 * client for it.
 *
 *   acto-echo [--host H] [--port P] [--max-connections N] [--idle-ms MS]
 *             [--lines]
 *   acto-echo --client [--host H] --port P [--connections N]
 *             [--messages M] [--size B] [--depth D]
 *
 * The server listens on H:P (default 127.0.0.1, port 7007; 0 picks a free
 * port), prints "listening on H:P" once it does, and echoes every byte
 * (every line with --lines) back. SIGINT or SIGTERM stop it gracefully:
 * no new connection is accepted, open ones finish their writes, then it
 * exits with status 0 (124 if the 10 s budget ran out, 130 on a second
 * SIGINT).
 *
 * The client opens N connections (default 64); each sends M messages
 * (default 1000) of B bytes (default 32), at most D (default 1) unanswered
 * at a time, checks that every byte comes back in order, and closes. It
 * prints the requests per second and exits with 0 when every connection
 * got all its bytes back, 1 otherwise.
 */
#include "tool_num.h"

#include <acto/acto.h>
#include <acto/signals.h>
#include <acto/supervisor.h>
#include <acto/tcp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct args {
    bool client;
    const char *host;
    uint16_t port;
    uint32_t max_connections;
    uint32_t idle_ms;
    bool lines;
    uint32_t connections;
    uint32_t messages;
    uint32_t size;
    uint32_t depth;
} args;

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: acto-echo [--host H] [--port P] [--max-connections N]\n"
            "                 [--idle-ms MS] [--lines]\n"
            "       acto-echo --client [--host H] --port P [--connections N]\n"
            "                 [--messages M] [--size B] [--depth D]\n");
}

static bool
num(const char *s, uint32_t max, uint32_t *out)
{
    uint64_t v;
    if (!tool_parse_u64(s, 10, 0, max, &v)) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

/* parse fills a from argv. Returns 0, 1 (bad usage) or -1 (--help). */
static int
parse(int argc, char **argv, args *a)
{
    *a = (args){.host = "127.0.0.1",
                .port = 7007,
                .connections = 64,
                .messages = 1000,
                .size = 32,
                .depth = 1};
    uint32_t port = a->port;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true, val = true;
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            return -1;
        } else if (strcmp(o, "--client") == 0) {
            a->client = true;
            val = false;
        } else if (strcmp(o, "--lines") == 0) {
            a->lines = true;
            val = false;
        } else if (strcmp(o, "--host") == 0) {
            a->host = v;
            ok = v != NULL;
        } else if (strcmp(o, "--port") == 0) {
            ok = num(v, 65535, &port);
        } else if (strcmp(o, "--max-connections") == 0) {
            ok = num(v, UINT32_MAX, &a->max_connections);
        } else if (strcmp(o, "--idle-ms") == 0) {
            ok = num(v, UINT32_MAX, &a->idle_ms);
        } else if (strcmp(o, "--connections") == 0) {
            ok = num(v, 100000, &a->connections) && a->connections > 0;
        } else if (strcmp(o, "--messages") == 0) {
            ok = num(v, UINT32_MAX, &a->messages);
        } else if (strcmp(o, "--size") == 0) {
            ok = num(v, 1u << 20, &a->size) && a->size > 0;
        } else if (strcmp(o, "--depth") == 0) {
            ok = num(v, 1024, &a->depth) && a->depth > 0;
        } else {
            fprintf(stderr, "acto-echo: unknown option '%s'\n", o);
            return 1;
        }
        if (!ok) {
            fprintf(stderr, "acto-echo: bad value for %s\n", o);
            return 1;
        }
        i += val;
    }
    a->port = (uint16_t)port;
    if (a->client && a->port == 0) {
        fprintf(stderr, "acto-echo: --client needs --port\n");
        return 1;
    }
    return 0;
}

/* ---- the server ------------------------------------------------------- */

static int
echo_receive(acto_ctx *ctx, acto_tcp_conn *c, void *state, const acto_msg *m)
{
    (void)state;
    if (acto_msg_type(m) != ACTO_TCP_DATA) {
        return 0;
    }
    return acto_tcp_conn_write_received(ctx, c, m, NULL);
}

static const acto_tcp_handler echo_handler = {.receive = echo_receive};

static void
on_conn_error(acto_system *sys, acto_ref conn, const acto_error *err,
              void *user)
{
    (void)sys;
    (void)conn;
    (void)user;
    fprintf(stderr, "acto-echo: connection: %s: %s\n", err->type, err->text);
}

static args g_args;
static acto_ref g_listener;
static int g_status = 2;

static int
start_listener(acto_ctx *sup, const void *arg, size_t len, acto_ref *out)
{
    (void)arg;
    (void)len;
    acto_tcp_listen_opts o = {.host = g_args.host,
                              .port = g_args.port,
                              .handler = &echo_handler,
                              .on_error = on_conn_error};
    o.limits.max_connections = g_args.max_connections;
    o.limits.idle_ms = g_args.idle_ms;
    o.limits.framing = g_args.lines ? ACTO_FRAME_LINES : ACTO_FRAME_NONE;
    int rc = acto_tcp_listen(acto_ctx_system(sup), &o, out);
    if (rc == 0) {
        g_listener = *out;
    }
    return rc;
}

static void
on_stopped(acto_system *sys, const acto_signals_report *r, void *user)
{
    (void)user;
    g_status = r->status;
    acto_system_set_keep_alive(sys, false);
    printf("stopped (signal %d, %s, %llu ms)\n", r->signo,
           r->forced ? "forced" : "clean", (unsigned long long)r->elapsed_ms);
    fflush(stdout);
}

static int
serve(acto_system *sys)
{
    acto_ref root;
    acto_child_spec spec = {.id = "listener",
                            .start = start_listener,
                            .restart = ACTO_RESTART_TRANSIENT,
                            .shutdown_ms = 6000};
    int rc = acto_sup_root(sys, &root);
    acto_ref l;
    if (rc == 0) {
        rc = acto_sup_start_child(sys, root, &spec, &l);
    }
    uint16_t port = 0;
    if (rc == 0) {
        rc = acto_tcp_listener_port(sys, g_listener, &port);
    }
    acto_signals *w = NULL;
    if (rc == 0) {
        acto_signals_opts so = {.done = on_stopped};
        rc = acto_stop_on_signals(sys, root, &so, &w);
    }
    if (rc != 0) {
        fprintf(stderr, "acto-echo: listen on %s:%u: %s\n", g_args.host,
                (unsigned)g_args.port, acto_strerror(rc));
        return 1;
    }
    printf("listening on %s:%u\n", g_args.host, (unsigned)port);
    fflush(stdout);
    acto_system_set_keep_alive(sys, true);
    acto_system_run(sys);
    return g_status;
}

/* ---- the load client -------------------------------------------------- */

typedef struct load {
    uint32_t sent;     /* messages sent */
    uint64_t received; /* bytes received */
    bool bad;          /* a byte came back wrong */
} load;

static uint32_t g_closed, g_complete;
static uint64_t g_t0;

static char
pattern(uint64_t i)
{
    return (char)('a' + i % 23);
}

/* The pattern repeats every 23 bytes: message k starts at offset
 * k * size % 23 of this buffer (size + 23 bytes, made once). */
static char *g_pattern;

static int
send_one(acto_tcp_conn *c, load *l)
{
    uint64_t off = (uint64_t)l->sent * g_args.size;
    l->sent++;
    return acto_tcp_conn_write(c, g_pattern + off % 23, g_args.size, NULL);
}

static int
load_open(acto_ctx *ctx, acto_tcp_conn *c, void *user, void **state)
{
    (void)ctx;
    (void)c;
    (void)user;
    *state = calloc(1, sizeof(load));
    return *state == NULL ? ACTO_ENOMEM : 0;
}

static int
load_receive(acto_ctx *ctx, acto_tcp_conn *c, void *state, const acto_msg *m)
{
    (void)ctx;
    load *l = state;
    int rc = 0;
    if (acto_msg_type(m) == ACTO_TCP_CONNECTED) {
        while (rc == 0 && l->sent < g_args.messages && l->sent < g_args.depth) {
            rc = send_one(c, l);
        }
    } else if (acto_msg_type(m) == ACTO_TCP_DATA) {
        size_t len = 0;
        const char *p = acto_msg_data(m, &len);
        for (size_t i = 0; i < len; i++) {
            l->bad |= p[i] != pattern(l->received + i);
        }
        l->received += len;
        uint64_t answered = l->received / g_args.size;
        while (rc == 0 && l->sent < g_args.messages &&
               l->sent < answered + g_args.depth) {
            rc = send_one(c, l);
        }
        if (answered == g_args.messages) {
            rc = acto_tcp_conn_close(c);
        }
    }
    if (rc == 0 && g_args.messages == 0) {
        rc = acto_tcp_conn_close(c);
    }
    return rc == ACTO_EALREADY ? 0 : rc;
}

static void
load_close(acto_ctx *ctx, acto_tcp_conn *c, void *state,
           const acto_exit_reason *why)
{
    (void)ctx;
    (void)c;
    load *l = state;
    g_closed++;
    g_complete += why->kind == ACTO_EXIT_NORMAL && !l->bad &&
                  l->received == (uint64_t)g_args.messages * g_args.size;
    free(l);
}

static const acto_tcp_handler load_handler = {
    .open = load_open, .receive = load_receive, .close = load_close};

static void
load_exception(acto_system *sys, const acto_error *err, void *user)
{
    (void)sys;
    (void)user;
    fprintf(stderr, "acto-echo: %s: %s\n", err->type, err->text);
}

static int
run_client(acto_system *sys)
{
    acto_system_set_exception_handler(sys, load_exception, NULL);
    acto_tcp_connect_opts o = {
        .host = g_args.host, .port = g_args.port, .handler = &load_handler};
    g_pattern = malloc((size_t)g_args.size + 23);
    if (g_pattern == NULL) {
        return 1;
    }
    for (size_t i = 0; i < (size_t)g_args.size + 23; i++) {
        g_pattern[i] = pattern(i);
    }
    g_t0 = uv_hrtime();
    for (uint32_t i = 0; i < g_args.connections; i++) {
        acto_ref r;
        int rc = acto_tcp_connect(sys, &o, &r);
        if (rc != 0) {
            fprintf(stderr, "acto-echo: connect: %s\n", acto_strerror(rc));
            return 1;
        }
    }
    acto_system_run(sys);
    double s = (double)(uv_hrtime() - g_t0) / 1e9;
    double n = (double)g_args.messages * g_complete;
    printf("%u/%u connections complete, %.0f requests in %.3f s: %.0f "
           "requests/s\n",
           g_complete, g_args.connections, n, s, s > 0 ? n / s : 0.0);
    free(g_pattern);
    return g_complete == g_args.connections ? 0 : 1;
}

int
main(int argc, char **argv)
{
    int rc = parse(argc, argv, &g_args);
    if (rc != 0) {
        usage(rc < 0 ? stdout : stderr);
        return rc < 0 ? 0 : 2;
    }
    acto_system *sys = NULL;
    rc = acto_system_alloc(NULL, &sys);
    if (rc != 0) {
        fprintf(stderr, "acto-echo: %s\n", acto_strerror(rc));
        return 1;
    }
    int status = g_args.client ? run_client(sys) : serve(sys);
    acto_system_free(sys);
    return status;
}
