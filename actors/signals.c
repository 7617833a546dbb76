/* Graceful shutdown on SIGINT/SIGTERM: a small watcher actor monitors the
 * root, and two unreferenced uv_signal_t handles (they never keep the loop
 * alive on their own) start and force the shutdown. The deadline is a
 * timer message to the watcher, so it follows a virtual clock too. */
#include <acto/signals.h>
#include <acto/supervisor.h>

#include "sigpipe.h"

#include <signal.h>
#include <string.h>
#include <uv.h>

#define DEFAULT_DEADLINE_MS 10000
#define MSG_DEADLINE (ACTO_MSG_SYSTEM_BASE - 16u)
#define STATUS_DEADLINE 124

struct acto_signals {
    acto_system *sys;
    acto_ref root;
    acto_ref self;
    acto_signals_opts opts;
    uv_signal_t sigint;
    uv_signal_t sigterm;
    int refs; /* open handles, plus one while the watcher lives */
    bool closed;
    bool finished;
    bool cancelled;
    acto_signals_report report;
    uint64_t started;
    uint64_t dead_letters_at_start;
    uint64_t deadline_timer;
};

static void
release(acto_signals *s)
{
    if (--s->refs == 0) {
        acto_free(s, sizeof(*s));
    }
}

static void
on_close(uv_handle_t *h)
{
    release(h->data);
}

static void
close_handles(acto_signals *s)
{
    if (s->closed) {
        return;
    }
    s->closed = true;
    uv_close((uv_handle_t *)&s->sigint, on_close);
    uv_close((uv_handle_t *)&s->sigterm, on_close);
}

static void
force(acto_signals *s, int status)
{
    if (s->report.forced) {
        return;
    }
    s->report.forced = true;
    s->report.status = status;
    (void)acto_kill(s->sys, s->root);
}

static int
begin(acto_signals *s, int signo)
{
    if (s->started != 0 || s->finished) {
        return ACTO_EALREADY;
    }
    s->report.signo = signo;
    s->started = acto_system_now(s->sys) + 1; /* 0 means not started */
    acto_stats st;
    acto_system_stats(s->sys, &st);
    s->dead_letters_at_start = st.dead_letters;
    acto_msg *m = NULL;
    uint32_t ms =
        s->opts.deadline_ms != 0 ? s->opts.deadline_ms : DEFAULT_DEADLINE_MS;
    if (acto_msg_new_bytes(s->sys, MSG_DEADLINE, NULL, 0, &m) != 0 ||
        acto_send_after(s->sys, ms, s->self, m, &s->deadline_timer) != 0) {
        acto_msg_free(m);
        s->deadline_timer = 0;
    }
    if (acto_shutdown(s->sys, s->root) == ACTO_ENOMEM) {
        force(s, STATUS_DEADLINE);
    }
    return 0;
}

static void
on_signal(uv_signal_t *h, int signo)
{
    acto_signals *s = h->data;
    if (begin(s, signo) == ACTO_EALREADY && !s->finished) {
        force(s, 128 + signo);
    }
}

/* finish reports once the root is down, then retires the watcher. */
static void
finish(acto_signals *s)
{
    s->finished = true;
    if (s->deadline_timer != 0) {
        (void)acto_timer_cancel(s->sys, s->deadline_timer);
        s->deadline_timer = 0;
    }
    if (s->started != 0) {
        s->report.elapsed_ms = acto_system_now(s->sys) + 1 - s->started;
        acto_stats st;
        acto_system_stats(s->sys, &st);
        s->report.dead_letters = st.dead_letters - s->dead_letters_at_start;
    }
    close_handles(s);
    if (s->opts.done != NULL && !s->cancelled) {
        s->opts.done(s->sys, &s->report, s->opts.user);
    }
    (void)acto_stop(s->sys, s->self);
}

static int
watcher_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)ctx;
    acto_signals *s = state;
    if (s->finished) {
        return 0;
    }
    if (acto_msg_type(m) == ACTO_MSG_DOWN &&
        acto_ref_eq(acto_msg_down(m)->actor, s->root)) {
        finish(s);
    } else if (acto_msg_type(m) == MSG_DEADLINE) {
        s->deadline_timer = 0;
        force(s, STATUS_DEADLINE);
    }
    return 0;
}

static int
watcher_start(acto_ctx *ctx, void *state)
{
    acto_signals *s = state;
    uint64_t id;
    s->self = acto_self(ctx);
    return acto_monitor(ctx, s->root, &id);
}

static void
watcher_stop(acto_ctx *ctx, void *state, const acto_exit_reason *why)
{
    (void)ctx;
    (void)why;
    acto_signals *s = state;
    close_handles(s);
    release(s);
}

static const acto_behaviour watcher = {
    .receive = watcher_receive,
    .start = watcher_start,
    .stop = watcher_stop,
};

static int
open_handle(acto_signals *s, uv_signal_t *h, int signo)
{
    int rc = uv_signal_init(acto_system_loop(s->sys), h);
    if (rc != 0) {
        return rc;
    }
    h->data = s;
    s->refs++;
    rc = uv_signal_start(h, on_signal, signo);
    uv_unref((uv_handle_t *)h);
    return rc;
}

int
acto_stop_on_signals(acto_system *sys, acto_ref root,
                     const acto_signals_opts *opts, acto_signals **out)
{
    if (sys == NULL || out == NULL) {
        return ACTO_EINVAL;
    }
    if (acto_ref_is_none(root)) {
        int rc = acto_sup_root(sys, &root);
        if (rc != 0) {
            return rc;
        }
    }
    if (!acto_alive(sys, root)) {
        return ACTO_ENOACTOR;
    }
    acto_signals *s = acto_calloc(1, sizeof(*s));
    if (s == NULL) {
        return ACTO_ENOMEM;
    }
    s->sys = sys;
    s->root = root;
    if (opts != NULL) {
        s->opts = *opts;
    }
    int rc = acto_spawn(sys, &watcher, s,
                        &(acto_spawn_opts){.label = "signals"}, &s->self);
    if (rc != 0) {
        acto_free(s, sizeof(*s));
        return rc;
    }
    s->refs = 1; /* the watcher */
    rc = open_handle(s, &s->sigint, SIGINT);
    if (rc == 0) {
        rc = open_handle(s, &s->sigterm, SIGTERM);
    }
    if (rc != 0) {
        /* Close what opened; the watcher's stop frees the rest. */
        s->cancelled = true;
        s->finished = true;
        if (s->refs == 3) {
            close_handles(s);
        } else if (s->refs == 2) {
            s->closed = true;
            uv_close((uv_handle_t *)&s->sigint, on_close);
        }
        (void)acto_stop(sys, s->self);
        return rc;
    }
    *out = s;
    return 0;
}

int
acto_signals_stop(acto_signals *s)
{
    return s != NULL ? begin(s, 0) : ACTO_EINVAL;
}

void
acto_signals_cancel(acto_signals *s)
{
    if (s == NULL || s->finished) {
        return;
    }
    s->cancelled = true;
    s->finished = true;
    if (s->deadline_timer != 0) {
        (void)acto_timer_cancel(s->sys, s->deadline_timer);
    }
    close_handles(s);
    (void)acto_stop(s->sys, s->self);
}

int
acto_signals_status(const acto_signals *s)
{
    return s != NULL ? s->report.status : 0;
}

void
acto__sigpipe_ignore_default(void)
{
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
        sa.sa_handler = SIG_IGN;
        (void)sigaction(SIGPIPE, &sa, NULL);
    }
}
