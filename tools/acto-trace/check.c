/* acto-trace check: validates a trace. Problems (exit 1): the reader's
 * error, timestamps going back, a HANDLED without its HANDLE, handlers
 * overlapping on one actor or never ending, a message handled twice,
 * events on a stopped actor, inconsistent loss counts. Orphans (a HANDLE
 * of a message never sent, a cause never seen, a timer fired but never
 * set, a restart without its failure) are problems in a complete trace
 * and warnings when events were lost. Also `decode`, the reading rate. */
#include "at.h"

#include <acto/error.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PRINTED 50

/* What is known of a message id. */
enum { M_SENT = 1, M_HANDLED = 2, M_TIMER = 4, M_FAILED = 8 };

typedef struct checker {
    at_trace *t;
    at_map msgs;
    uint64_t problems, orphans, warnings;
    uint64_t printed;
    uint64_t lost, lost_events;
    uint64_t prev_ts;
    uint64_t index;
    at_map open; /* actor ref -> message being handled */
} checker;

static void report(checker *c, const acto_trace_event *e, bool orphan,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
report(checker *c, const acto_trace_event *e, bool orphan, const char *fmt, ...)
{
    if (orphan) {
        c->orphans++;
    } else {
        c->problems++;
    }
    if (c->printed++ >= MAX_PRINTED) {
        return;
    }
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (e != NULL) {
        printf("%s: event %llu (%s, ts %llu): %s\n",
               orphan ? "orphan" : "problem", (unsigned long long)c->index,
               at_kind_name(e->kind), (unsigned long long)e->ts, text);
    } else {
        printf("%s: %s\n", orphan ? "orphan" : "problem", text);
    }
}

static uint64_t *
msg_of(checker *c, uint64_t id)
{
    return at_map_put(&c->msgs, id, NULL);
}

static void
seen_cause(checker *c, const acto_trace_event *e)
{
    if (e->cause == 0) {
        return;
    }
    uint64_t *m = at_map_get(&c->msgs, e->cause);
    if (m == NULL || (*m & (M_SENT | M_TIMER | M_HANDLED)) == 0) {
        report(c, e, true, "cause %llu of message %llu never appears before",
               (unsigned long long)e->cause, (unsigned long long)e->msg);
    }
}

static void
on_handle(checker *c, const acto_trace_event *e)
{
    char ref[32];
    if (e->msg == 0) {
        report(c, e, false, "HANDLE without a message id");
        return;
    }
    bool fresh;
    uint64_t *open = at_map_put(&c->open, e->actor, &fresh);
    if (!fresh && *open != 0) {
        report(c, e, false,
               "actor %s begins message %llu while handling "
               "%llu",
               at_ref_str(e->actor, ref), (unsigned long long)e->msg,
               (unsigned long long)*open);
    }
    *open = e->msg;
    uint64_t *m = msg_of(c, e->msg);
    if (*m & M_HANDLED) {
        report(c, e, false, "message %llu is handled a second time",
               (unsigned long long)e->msg);
    } else if (!(*m & M_SENT)) {
        report(c, e, true, "message %llu is handled but never sent",
               (unsigned long long)e->msg);
    }
    at_actor *a = at_actor_of(c->t, e->actor);
    if (a->stopped) {
        report(c, e, false, "actor %s handles a message after it stopped",
               at_ref_str(e->actor, ref));
    }
    *m |= M_HANDLED;
}

static void
on_handled(checker *c, const acto_trace_event *e)
{
    char ref[32];
    uint64_t *open = at_map_get(&c->open, e->actor);
    if (open == NULL || *open != e->msg) {
        report(c, e, false,
               "HANDLED of message %llu on actor %s without "
               "its HANDLE",
               (unsigned long long)e->msg, at_ref_str(e->actor, ref));
        return;
    }
    *open = 0;
}

static void
on_event(checker *c, const acto_trace_event *e)
{
    char ref[32];
    if (e->ts < c->prev_ts) {
        report(c, e, false, "the timestamp goes back %llu ns",
               (unsigned long long)(c->prev_ts - e->ts));
    }
    c->prev_ts = e->ts > c->prev_ts ? e->ts : c->prev_ts;
    uint64_t *m;
    switch (e->kind) {
    case ACTO_TRACE_SEND:
        if (e->msg == 0) {
            report(c, e, false, "SEND without a message id");
            break;
        }
        m = msg_of(c, e->msg);
        if (*m & M_SENT) {
            report(c, e, false, "message %llu is sent twice",
                   (unsigned long long)e->msg);
        }
        *m |= M_SENT;
        seen_cause(c, e);
        break;
    case ACTO_TRACE_HANDLE:
        on_handle(c, e);
        break;
    case ACTO_TRACE_HANDLED:
        on_handled(c, e);
        break;
    case ACTO_TRACE_TIMER_SET:
        *msg_of(c, e->msg) |= M_TIMER;
        seen_cause(c, e);
        break;
    case ACTO_TRACE_TIMER_FIRE:
        m = at_map_get(&c->msgs, e->msg);
        if (m == NULL || !(*m & M_TIMER)) {
            report(c, e, true, "timer message %llu fires but was never set",
                   (unsigned long long)e->msg);
        }
        break;
    case ACTO_TRACE_FAIL:
        if (e->msg != 0) {
            *msg_of(c, e->msg) |= M_FAILED;
        }
        break;
    case ACTO_TRACE_RESTART:
        m = e->cause != 0 ? at_map_get(&c->msgs, e->cause) : NULL;
        if (e->cause != 0 && (m == NULL || !(*m & M_FAILED))) {
            report(c, e, true,
                   "restart of %s caused by message %llu, whose "
                   "failure is not in the trace",
                   at_ref_str(e->actor, ref), (unsigned long long)e->cause);
        }
        break;
    case ACTO_TRACE_STOP:
        at_actor_of(c->t, e->actor)->stopped = true;
        break;
    case ACTO_TRACE_LOST:
        c->lost += e->arg;
        c->lost_events++;
        break;
    default:
        if (e->kind == 0 || e->kind > ACTO_TRACE_LOST) {
            c->warnings++;
            if (c->printed++ < MAX_PRINTED) {
                printf("warning: event %llu has unknown kind %u\n",
                       (unsigned long long)c->index, e->kind);
            }
        }
        break;
    }
}

static void
finish(checker *c)
{
    char ref[32];
    for (size_t i = 0; i < c->open.cap; i++) {
        if (c->open.keys[i] != 0 && c->open.vals[i] != 0) {
            report(c, NULL, false,
                   "actor %s never ends handling message "
                   "%llu",
                   at_ref_str(c->open.keys[i], ref),
                   (unsigned long long)c->open.vals[i]);
        }
    }
    uint64_t file_lost = acto_tracefile_lost(c->t->r);
    if (file_lost != c->lost) {
        report(c, NULL, false,
               "the LOST events add up to %llu, the file "
               "counts %llu",
               (unsigned long long)c->lost, (unsigned long long)file_lost);
    }
}

int
at_cmd_check(const at_args *args)
{
    at_trace t;
    if (at_trace_open(&t, args->trace) != AT_OK) {
        return AT_FAIL;
    }
    checker c = {.t = &t};
    acto_trace_event e;
    while (at_trace_next(&t, &e) == 1) {
        c.index = t.events - 1;
        on_event(&c, &e);
    }
    bool damaged = t.status < 0;
    if (damaged) {
        c.problems++;
        printf("problem: the file: %s\n", t.err);
    } else {
        finish(&c);
    }
    if (c.printed > MAX_PRINTED) {
        printf("... %llu more not shown\n",
               (unsigned long long)(c.printed - MAX_PRINTED));
    }
    if (c.lost > 0) {
        printf("warning: %llu events were lost (%llu LOST events); orphans "
               "are expected then\n",
               (unsigned long long)c.lost, (unsigned long long)c.lost_events);
        c.warnings++;
    }
    uint64_t problems = c.problems + (c.lost > 0 ? 0 : c.orphans);
    printf("check: %llu events, %llu actors, %llu problems, %llu orphans, "
           "%llu warnings: %s\n",
           (unsigned long long)t.events, (unsigned long long)(t.n_actors - 1),
           (unsigned long long)c.problems, (unsigned long long)c.orphans,
           (unsigned long long)c.warnings, problems ? "FAILED" : "ok");
    at_map_free(&c.msgs);
    at_map_free(&c.open);
    at_trace_close(&t);
    return problems ? AT_FAIL : AT_OK;
}

/* ---- decode: the reading rate ------------------------------------------ */

int
at_cmd_decode(const at_args *args)
{
    at_trace t;
    if (at_trace_open(&t, args->trace) != AT_OK) {
        return AT_FAIL;
    }
    struct timespec a, b;
    acto_trace_event e;
    uint64_t sum = 0;
    clock_gettime(CLOCK_MONOTONIC, &a);
    while (at_trace_next(&t, &e) == 1) {
        sum += e.msg; /* touch the event */
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s =
        (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("decoded %llu events in %.3f s: %.1fM events/s (checksum %llu)\n",
           (unsigned long long)t.events, s,
           s > 0 ? (double)t.events / s / 1e6 : 0.0,
           (unsigned long long)(sum & 0xffff));
    int rc = at_trace_report(&t);
    at_trace_close(&t);
    return rc;
}

/* ---- dump: every event as a line of text ------------------------------- */

int
at_cmd_dump(const at_args *args)
{
    at_trace t;
    if (at_trace_open(&t, args->trace) != AT_OK) {
        return AT_FAIL;
    }
    at_out o;
    int err = at_out_open(&o, args->out);
    if (err != 0) {
        fprintf(stderr, "acto-trace: %s: %s\n", args->out, strerror(err));
        at_trace_close(&t);
        return AT_FAIL;
    }
    acto_trace_event e;
    at_out_str(&o, "# ts\tkind\tflow\tmsg\tcause\tactor\tpeer\ttype\targ\n");
    while (at_trace_next(&t, &e) == 1) {
        char a[32], p[32], tb[32];
        at_out_printf(&o, "%llu\t%s\t%llu\t%llu\t%llu\t%s\t%s\t%s\t%d\n",
                      (unsigned long long)e.ts, at_kind_name(e.kind),
                      (unsigned long long)e.flow, (unsigned long long)e.msg,
                      (unsigned long long)e.cause,
                      e.actor ? at_ref_str(e.actor, a) : "-",
                      e.peer ? at_ref_str(e.peer, p) : "-",
                      at_type_name(&t, e.type, tb), (int32_t)e.arg);
    }
    int rc = at_out_close(&o) != 0 ? AT_FAIL : AT_OK;
    if (at_trace_report(&t) != AT_OK) {
        rc = AT_FAIL;
    }
    at_trace_close(&t);
    return rc;
}
