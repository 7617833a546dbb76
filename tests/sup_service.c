/* A small long-running service for test_shutdown: a root supervisor over
 * three workers, stopped by SIGINT/SIGTERM. "protected" holds work in
 * flight (a 300 ms job) and, asked to shut down, finishes it first. With
 * --hang it ignores the shutdown notice, so only a second signal (or the
 * deadline) stops it. Every step is printed on its own line, flushed, for
 * the test to read; the exit status is the watcher's. */
#include <acto/acto.h>
#include <acto/signals.h>
#include <acto/supervisor.h>
#include <stdio.h>
#include <string.h>

#define MSG_WORK_DONE 1u

static bool hang;

static void
say(const char *line)
{
    printf("%s\n", line);
    fflush(stdout);
}

static int
plain_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)ctx;
    (void)state;
    (void)m;
    return 0;
}

static void
plain_stop(acto_ctx *ctx, void *state, const acto_exit_reason *why)
{
    (void)ctx;
    char line[64];
    snprintf(line, sizeof(line), "stop %s reason %d", (const char *)state,
             (int)why->kind);
    say(line);
}

static const acto_behaviour plain = {.receive = plain_receive,
                                     .stop = plain_stop};

static const char store[] = "store", logger[] = "logger";

/* arg is borrowed for the call: the child's state must be its own. */
static int
start_plain(acto_ctx *sup, const void *arg, size_t len, acto_ref *out)
{
    const char *name =
        len == sizeof(store) && memcmp(arg, store, len) == 0 ? store : logger;
    return acto_spawn(acto_ctx_system(sup), &plain, (void *)name, NULL, out);
}

/* protected: starts a job at once; on the shutdown notice it lets the job
 * finish, then stops itself. */
static int
protected_start(acto_ctx *ctx, void *state)
{
    (void)state;
    acto_msg *m = NULL;
    int rc =
        acto_msg_new_bytes(acto_ctx_system(ctx), MSG_WORK_DONE, NULL, 0, &m);
    if (rc == 0) {
        rc =
            acto_send_after(acto_ctx_system(ctx), 300, acto_self(ctx), m, NULL);
    }
    return rc;
}

static int
protected_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    bool *stopping = state;
    if (acto_msg_type(m) == ACTO_MSG_SHUTDOWN) {
        say("protected: shutdown notice");
        if (!hang) {
            *stopping = true;
        }
    } else if (acto_msg_type(m) == MSG_WORK_DONE) {
        say("protected: work done");
        if (*stopping) {
            return acto_stop(acto_ctx_system(ctx), acto_self(ctx));
        }
    }
    return 0;
}

static void
protected_stop(acto_ctx *ctx, void *state, const acto_exit_reason *why)
{
    (void)ctx;
    (void)state;
    char line[64];
    snprintf(line, sizeof(line), "stop protected reason %d", (int)why->kind);
    say(line);
}

static const acto_behaviour protected_b = {.receive = protected_receive,
                                           .start = protected_start,
                                           .stop = protected_stop};

static bool protected_stopping;

static int
start_protected(acto_ctx *sup, const void *arg, size_t len, acto_ref *out)
{
    (void)arg;
    (void)len;
    acto_spawn_opts o = {.on_shutdown = ACTO_SHUTDOWN_NOTIFY};
    return acto_spawn(acto_ctx_system(sup), &protected_b, &protected_stopping,
                      &o, out);
}

static int exit_status = 3;

static void
on_done(acto_system *sys, const acto_signals_report *r, void *user)
{
    (void)user;
    exit_status = r->status;
    acto_system_set_keep_alive(sys, false);
    printf("done signal %d forced %d status %d\n", r->signo, (int)r->forced,
           r->status);
    fflush(stdout);
}

int
main(int argc, char **argv)
{
    hang = argc > 1 && strcmp(argv[1], "--hang") == 0;
    acto_system *sys = NULL;
    if (acto_system_alloc(NULL, &sys) != 0) {
        return 2;
    }
    acto_child_spec specs[] = {
        {.id = "store",
         .start = start_plain,
         .arg = store,
         .arg_len = sizeof(store)},
        {.id = "logger",
         .start = start_plain,
         .arg = logger,
         .arg_len = sizeof(logger)},
        {.id = "protected",
         .start = start_protected,
         .shutdown_ms = ACTO_SHUTDOWN_INFINITY},
    };
    acto_ref root;
    acto_signals *watch = NULL;
    if (acto_sup_start(sys, NULL, specs, 3, &root) != 0 ||
        acto_stop_on_signals(sys, root, &(acto_signals_opts){.done = on_done},
                             &watch) != 0) {
        return 2;
    }
    /* The pending job's timer keeps the loop running until it is done;
     * after that a service waits for signals. */
    acto_system_set_keep_alive(sys, true);
    say("ready");
    acto_system_run(sys);
    acto_system_free(sys);
    return exit_status;
}
