/* A traced acto program with a known flow, for acto-trace's tests:
 *
 *   outside --Go--> alpha
 *     alpha --Next--> beta
 *     alpha --Req--> gamma (an ask); gamma replies; the ask's future is
 *       delivered to alpha as Done
 *     alpha sets a 2 ms timer: Tick to beta
 *     alpha --Die--> worker, which fails; its supervisor restarts it
 *     alpha --Hello--> ghost, stopped before: a dead letter
 *
 * Usage: trace_sample OUT.acto            the flow above
 *        trace_sample OUT.acto --big N    N ping-pong round trips too
 *        trace_sample OUT.acto --broken   a hand-made trace with problems
 *                                         for `acto-trace check` to find
 *
 * Prints "flow <id>" (the Go message's id: the flow's id) and the ids of
 * the messages alpha handled ("go <id>", "done <id>") on stdout. */
#include <acto/acto.h>
#include <acto/supervisor.h>
#include <acto/tracefile.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    T_GO = 1,
    T_NEXT,
    T_REQ,
    T_REPLY,
    T_TICK,
    T_DIE,
    T_HELLO,
    T_DONE,
    T_BALL
};

typedef struct world {
    acto_ref alpha, beta, gamma, ghost, sup;
    acto_future *ask;
    uint64_t go_id, done_id;
    uint64_t rally, balls;
    acto_ref ping, pong;
} world;

static world w;

static int
fail_on(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "trace_sample: %s: %s\n", what, acto_strerror(rc));
        exit(1);
    }
    return rc;
}

static int
tell_new(acto_system *sys, acto_ref to, uint32_t type, acto_msg **out)
{
    fail_on(acto_msg_new_bytes(sys, type, NULL, 0, out), "acto_msg_new");
    (void)to;
    return 0;
}

static int
alpha_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)state;
    acto_system *sys = acto_ctx_system(ctx);
    if (acto_msg_type(m) == T_DONE) {
        w.done_id = acto_msg_id(m);
        return 0;
    }
    if (acto_msg_type(m) != T_GO) {
        return 0;
    }
    w.go_id = acto_msg_id(m);
    fail_on(acto_tell(ctx, w.beta, T_NEXT, NULL, 0), "tell beta");
    acto_msg *req, *tick;
    tell_new(sys, w.gamma, T_REQ, &req);
    fail_on(acto_ask(sys, w.gamma, req, 1000, &w.ask), "ask");
    fail_on(acto_future_notify(ctx, w.ask, T_DONE), "notify");
    tell_new(sys, w.beta, T_TICK, &tick);
    fail_on(acto_send_after(sys, 2, w.beta, tick, NULL), "send_after");
    acto_child_info info;
    size_t n;
    fail_on(acto_sup_which_children(sys, w.sup, &info, 1, &n), "children");
    fail_on(acto_tell(ctx, info.ref, T_DIE, NULL, 0), "tell worker");
    fail_on(acto_tell(ctx, w.ghost, T_HELLO, NULL, 0), "tell ghost");
    return 0;
}

static int
beta_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)ctx;
    (void)state;
    (void)m;
    return 0;
}

static int
gamma_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)state;
    if (acto_msg_type(m) == T_REQ) {
        return acto_reply(ctx, T_REPLY, "ok", 2);
    }
    return 0;
}

static int
worker_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)state;
    if (acto_msg_type(m) == T_DIE) {
        return acto_fail(ctx, ACTO_EINVAL, "Boom", "told to die");
    }
    return 0;
}

static int
ball_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)state;
    (void)m;
    bool ping = acto_ref_eq(acto_self(ctx), w.ping);
    if (ping && ++w.balls >= w.rally) {
        return 0;
    }
    return acto_tell(ctx, ping ? w.pong : w.ping, T_BALL, NULL, 0);
}

static const acto_behaviour alpha_b = {.receive = alpha_receive};
static const acto_behaviour beta_b = {.receive = beta_receive};
static const acto_behaviour gamma_b = {.receive = gamma_receive};
static const acto_behaviour worker_b = {.receive = worker_receive};
static const acto_behaviour ball_b = {.receive = ball_receive};

static int
start_worker(acto_ctx *sup, const void *arg, size_t len, acto_ref *out)
{
    (void)arg;
    (void)len;
    acto_spawn_opts o = {.label = "worker"};
    return acto_spawn(acto_ctx_system(sup), &worker_b, NULL, &o, out);
}

static void
spawn_named(acto_system *sys, const acto_behaviour *b, const char *label,
            acto_ref *out)
{
    acto_spawn_opts o = {.label = label};
    fail_on(acto_spawn(sys, b, NULL, &o, out), label);
}

/* name_types names the message types in [from, to) with the runtime's
 * registry: the trace file gets them from it (those named before tracing
 * starts when it starts, the others as they are named). */
static void
name_types(acto_system *sys, uint32_t from, uint32_t to)
{
    static const char *const names[] = {"",     "Go",  "Next",  "Req",  "Reply",
                                        "Tick", "Die", "Hello", "Done", "Ball"};
    for (uint32_t i = from; i < to; i++) {
        fail_on(acto_msg_type_name(sys, i, names[i]), "acto_msg_type_name");
    }
}

/* broken writes events straight to a trace file sink: a timestamp going
 * back, a HANDLED without its HANDLE, a message handled but never sent. */
static int
broken(const char *path)
{
    acto_trace_sink sink;
    fail_on(acto_tracefile_open(path, NULL, &sink), "acto_tracefile_open");
    const acto_trace_event ev[] = {
        {.ts = 1000, .kind = ACTO_TRACE_SPAWN, .actor = 1},
        {.ts = 2000, .kind = ACTO_TRACE_SEND, .flow = 1, .msg = 1, .peer = 1},
        {.ts = 1500,
         .kind = ACTO_TRACE_HANDLE,
         .flow = 1,
         .msg = 1,
         .actor = 1},
        {.ts = 2500,
         .kind = ACTO_TRACE_HANDLED,
         .flow = 1,
         .msg = 1,
         .actor = 1},
        {.ts = 2600,
         .kind = ACTO_TRACE_HANDLED,
         .flow = 1,
         .msg = 7,
         .actor = 1},
        {.ts = 2700,
         .kind = ACTO_TRACE_HANDLE,
         .flow = 9,
         .msg = 9,
         .actor = 1},
        {.ts = 2800,
         .kind = ACTO_TRACE_HANDLED,
         .flow = 9,
         .msg = 9,
         .actor = 1},
    };
    fail_on(sink.write(ev, sizeof(ev) / sizeof(ev[0]), sink.user), "write");
    sink.close(sink.user);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: trace_sample OUT.acto [--big N]\n");
        return 2;
    }
    if (argc >= 3 && strcmp(argv[2], "--broken") == 0) {
        return broken(argv[1]);
    }
    w.rally = argc >= 4 && strcmp(argv[2], "--big") == 0
                  ? strtoull(argv[3], NULL, 10)
                  : 0;
    acto_system *sys;
    fail_on(acto_system_alloc(NULL, &sys), "acto_system_alloc");
    acto_trace_sink sink;
    fail_on(acto_tracefile_open(argv[1], NULL, &sink), "acto_tracefile_open");
    name_types(sys, 1, 8);
    acto_trace_opts topts = {.mode = ACTO_TRACE_BLOCK};
    fail_on(acto_trace_start(sys, &sink, &topts), "acto_trace_start");
    name_types(sys, 8, 10);

    spawn_named(sys, &alpha_b, "alpha", &w.alpha);
    spawn_named(sys, &beta_b, "beta", &w.beta);
    spawn_named(sys, &gamma_b, "gamma", &w.gamma);
    spawn_named(sys, &beta_b, "ghost", &w.ghost);
    fail_on(acto_stop(sys, w.ghost), "stop ghost");
    acto_child_spec spec = {.id = "worker", .start = start_worker};
    fail_on(acto_sup_start(sys, NULL, &spec, 1, &w.sup), "acto_sup_start");
    fail_on(acto_system_run(sys), "run");

    acto_msg *go;
    tell_new(sys, w.alpha, T_GO, &go);
    fail_on(acto_system_send(sys, w.alpha, go), "send go");
    fail_on(acto_system_run(sys), "run");

    if (w.rally > 0) {
        spawn_named(sys, &ball_b, "ping", &w.ping);
        spawn_named(sys, &ball_b, "pong", &w.pong);
        acto_msg *ball;
        tell_new(sys, w.ping, T_BALL, &ball);
        fail_on(acto_system_send(sys, w.ping, ball), "send ball");
        fail_on(acto_system_run(sys), "run");
    }
    acto_future_release(w.ask);
    printf("flow %llu\ngo %llu\ndone %llu\n", (unsigned long long)w.go_id,
           (unsigned long long)w.go_id, (unsigned long long)w.done_id);
    fail_on(acto_trace_stop(sys), "acto_trace_stop");
    fail_on(acto_system_free(sys), "acto_system_free");
    return 0;
}
