/* acto-trace perfetto: Chrome trace JSON as ui.perfetto.dev and
 * chrome://tracing read it (FIELD-NOTES, "Chrome trace JSON"). One track
 * per actor (pid: the system's shard + 1, tid: the actor's index in the
 * trace, named by thread_name metadata), an X slice per handled message,
 * a flow arrow per message from its send to its handling ("s" inside the
 * sending slice, "f" with "bp":"e" inside the handling one; a send made
 * outside any handler gets a 2 ns anchor slice of its own), the mailbox
 * depth as C counters, failures, dead letters, drops, restarts, spawns
 * and stops as i instants, and futures that failed or were cancelled (a
 * timeout, mostly) as i instants on the outside track. Written in one pass;
 * split into OUT.json, OUT.1.json, ... of at most --max-events events each.
 *
 * Slices on a track must nest, and flow points must sit strictly inside
 * their slices. Times are kept in integer ns from the trace's first event;
 * a slice starts no earlier than the previous one on its track ended and
 * lasts at least 2 ns, so slices of virtual-time traces (all at one
 * instant) still line up, shifted by a few ns. */
#include "at.h"

#include <acto/error.h>
#include <acto/future.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct sendrec {
    uint64_t actor, msg, ts;
} sendrec;

typedef struct pf {
    at_trace *t;
    const at_args *args;
    at_out o;
    unsigned part;
    uint64_t in_part, total;
    bool first_in_part;
    uint64_t t0;
    bool have_t0;
    uint64_t max_events; /* per file; UINT64_MAX: not split */
    at_map names;        /* prefix << 40 | (type + 1) -> a JSON string */
    at_map sent;         /* msg -> index + 1 in flying (an "s" was written) */
    sendrec *flying;     /* sends not yet handled: receiver, msg, ts */
    size_t n_flying, cap_flying;
    sendrec *sends; /* sends made inside open slices */
    size_t n_sends, cap_sends;
    int err;
} pf;

/* ---- output ------------------------------------------------------------ */

static char *
part_path(const char *base, unsigned part)
{
    size_t n = strlen(base);
    char *p = at_alloc(n + 16);
    if (part == 0) {
        memcpy(p, base, n + 1);
    } else if (n > 5 && strcmp(base + n - 5, ".json") == 0) {
        snprintf(p, n + 16, "%.*s.%u.json", (int)(n - 5), base, part);
    } else {
        snprintf(p, n + 16, "%s.%u", base, part);
    }
    return p;
}

static int
open_part(pf *p)
{
    char *path = part_path(p->args->out, p->part);
    int err = at_out_open(&p->o, path);
    if (err != 0) {
        fprintf(stderr, "acto-trace: %s: %s\n", path, strerror(err));
        free(path);
        return AT_FAIL;
    }
    p->o.path = path;
    at_out_str(&p->o, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
    p->first_in_part = true;
    p->in_part = 0;
    return AT_OK;
}

static int
close_part(pf *p)
{
    at_out_str(&p->o, "\n]}\n");
    char *path = (char *)p->o.path;
    int err = at_out_close(&p->o);
    if (err != 0) {
        fprintf(stderr, "acto-trace: %s: %s\n", path, strerror(err));
    }
    free(path);
    return err != 0 ? AT_FAIL : AT_OK;
}

/* begin starts an event object: the separator, then {"ph":"X". */
static void
begin(pf *p, char ph)
{
    if (!p->first_in_part) {
        at_out_str(&p->o, ",\n");
    }
    p->first_in_part = false;
    at_out_str(&p->o, "{\"ph\":\"");
    at_out_ch(&p->o, ph);
    at_out_ch(&p->o, '"');
    p->in_part++;
    p->total++;
}

static void
key_u64(pf *p, const char *key, uint64_t v)
{
    at_out_str(&p->o, key);
    at_out_u64(&p->o, v);
}

static void
key_ts(pf *p, const char *key, uint64_t ns)
{
    at_out_str(&p->o, key);
    at_out_us(&p->o, ns);
}

static uint32_t
pid_of(uint64_t ref)
{
    return (uint32_t)(ref >> 56) + 1;
}

/* The track's name, once per part before the track's first event. */
static uint64_t
track(pf *p, uint64_t ref)
{
    at_actor *a = at_actor_of(p->t, ref);
    uint64_t tid = p->t->last_ix; /* at_actor_of's index */
    if (a->aux2 != p->part + 1u) {
        a->aux2 = p->part + 1u;
        char ref_s[32];
        if (a->label == NULL) {
            const char *n = at_actor_name(p->t, a);
            char buf[1100];
            if (ref == 0) {
                snprintf(buf, sizeof(buf), "outside (no actor)");
            } else if (at_ref_is_ask(ref)) {
                snprintf(buf, sizeof(buf), "ask (replies complete futures)");
            } else {
                snprintf(buf, sizeof(buf), "actor %s%s%s",
                         at_ref_str(ref, ref_s), n != NULL ? " " : "",
                         n != NULL ? n : "");
            }
            a->label = at_strdup(buf);
        }
        begin(p, 'M');
        at_out_str(&p->o, ",\"name\":\"thread_name\"");
        key_u64(p, ",\"pid\":", pid_of(ref));
        key_u64(p, ",\"tid\":", tid);
        at_out_str(&p->o, ",\"args\":{\"name\":");
        at_out_json_str(&p->o, a->label);
        at_out_str(&p->o, "}}");
    }
    return tid;
}

/* head writes ,"pid":P,"tid":T of ref's track. */
static void
head(pf *p, uint64_t ref, uint64_t tid)
{
    key_u64(p, ",\"pid\":", pid_of(ref));
    key_u64(p, ",\"tid\":", tid);
}

/* name_field is ,"name":"<a><b>", escaped, in memory of its own. */
static char *
name_field(const char *a, const char *b)
{
    char buf[1200];
    snprintf(buf, sizeof(buf), "%s%s", a, b);
    at_out o = {0};
    /* Escape into memory: a writer whose buffer is the string. */
    o.buf = at_alloc(AT_OUT_BUF);
    at_out_str(&o, ",\"name\":");
    at_out_json_str(&o, buf);
    o.buf[o.len] = '\0';
    return at_realloc(o.buf, o.len + 1);
}

/* name_typed writes ,"name":"<what><type name>", escaped once per
 * (what, type) and cached. */
static void
name_typed(pf *p, const char *what, uint32_t type)
{
    bool fresh;
    uint64_t key = (uint64_t)(uint8_t)what[0] << 40 |
                   (uint64_t)(uint8_t)what[5] << 48 | ((uint64_t)type + 1);
    uint64_t *v = at_map_put(&p->names, key, &fresh);
    if (fresh) {
        char tb[32];
        *v =
            (uint64_t)(uintptr_t)name_field(what, at_type_name(p->t, type, tb));
    }
    at_out_str(&p->o, (const char *)(uintptr_t)*v);
}

static void
flow_point(pf *p, char ph, uint64_t ref, uint64_t tid, uint64_t msg,
           uint64_t ns)
{
    begin(p, ph);
    if (ph == 'f') {
        at_out_str(&p->o, ",\"bp\":\"e\"");
    }
    at_out_str(&p->o, ",\"name\":\"msg\",\"cat\":\"send\"");
    key_u64(p, ",\"id\":", msg);
    head(p, ref, tid);
    key_ts(p, ",\"ts\":", ns);
    at_out_ch(&p->o, '}');
}

static void
counter(pf *p, uint64_t ref, uint64_t ns, uint64_t depth)
{
    at_actor *a = at_actor_of(p->t, ref);
    /* Only changes: a mailbox that stays empty costs nothing. */
    if (a->peak_depth == depth + 1) {
        return;
    }
    a->peak_depth = depth + 1; /* the last depth written, + 1 */
    track(p, ref);
    begin(p, 'C');
    if (a->label2 == NULL) { /* escaped once per actor */
        a->label2 = name_field("mailbox ", a->label);
    }
    at_out_str(&p->o, a->label2);
    key_u64(p, ",\"pid\":", pid_of(ref));
    key_ts(p, ",\"ts\":", ns);
    key_u64(p, ",\"args\":{\"depth\":", depth);
    at_out_str(&p->o, "}}");
}

static void
instant(pf *p, uint64_t ref, uint64_t ns, const char *name, uint64_t msg,
        const char *extra)
{
    uint64_t tid = track(p, ref);
    begin(p, 'i');
    at_out_str(&p->o, ",\"s\":\"t\",\"name\":");
    at_out_json_str(&p->o, name);
    at_out_str(&p->o, ",\"cat\":\"actor\"");
    head(p, ref, tid);
    key_ts(p, ",\"ts\":", ns);
    key_u64(p, ",\"args\":{\"msg\":", msg);
    if (extra != NULL) {
        at_out_str(&p->o, extra);
    }
    at_out_str(&p->o, "}}");
}

/* ---- events ------------------------------------------------------------ */

/* slot_start is where a slice beginning at ns may start on a's track. */
static uint64_t
slot_start(at_actor *a, uint64_t ns)
{
    return ns > a->aux ? ns : a->aux;
}

static void
on_send(pf *p, const acto_trace_event *e, uint64_t ns)
{
    at_actor *from = at_actor_of(p->t, e->actor);
    if (e->actor != 0 && from->open_msg != 0) {
        if (p->n_sends == p->cap_sends) {
            p->cap_sends = p->cap_sends ? p->cap_sends * 2 : 64;
            p->sends = at_realloc(p->sends, p->cap_sends * sizeof(*p->sends));
        }
        p->sends[p->n_sends++] = (sendrec){e->actor, e->msg, ns};
    } else {
        /* No slice is open on the sender's track: an anchor of its own. */
        uint64_t tid = track(p, e->actor);
        uint64_t s = slot_start(from, ns);
        begin(p, 'X');
        name_typed(p, e->actor == 0 ? "send " : "send (outside a handler) ",
                   e->type);
        at_out_str(&p->o, ",\"cat\":\"anchor\"");
        head(p, e->actor, tid);
        key_ts(p, ",\"ts\":", s);
        at_out_str(&p->o, ",\"dur\":0.002");
        key_u64(p, ",\"args\":{\"msg\":", e->msg);
        at_out_str(&p->o, "}}");
        flow_point(p, 's', e->actor, tid, e->msg, s + 1);
        from->aux = s + 2;
    }
    if (p->n_flying == p->cap_flying) {
        p->cap_flying = p->cap_flying ? p->cap_flying * 2 : 64;
        p->flying = at_realloc(p->flying, p->cap_flying * sizeof(*p->flying));
    }
    p->flying[p->n_flying] = (sendrec){e->peer, e->msg, ns};
    *at_map_put(&p->sent, e->msg, NULL) = ++p->n_flying;
    if (at_ref_is_ask(e->peer)) {
        return; /* a reply: no mailbox; its future ends its arrow */
    }
    at_actor *to = at_actor_of(p->t, e->peer);
    to->depth = e->arg;
    counter(p, e->peer, ns, e->arg);
}

static void
on_handle(pf *p, const acto_trace_event *e, uint64_t ns)
{
    at_actor *a = at_actor_of(p->t, e->actor);
    uint64_t tid = track(p, e->actor);
    uint64_t s = slot_start(a, ns);
    a->open_msg = e->msg;
    a->open_ts = s;
    a->open_cause = e->cause;
    a->open_type = e->type;
    a->aux3 = 0;
    uint64_t ix;
    if (at_map_del(&p->sent, e->msg, &ix)) {
        flow_point(p, 'f', e->actor, tid, e->msg, s + 1);
        uint64_t sent = p->flying[ix - 1].ts;
        a->aux3 = (ns > sent ? ns - sent : 0) + 1; /* the wait + 1 */
    }
    a->depth = a->depth > 0 ? a->depth - 1 : 0;
    counter(p, e->actor, ns, a->depth);
}

static void
on_handled(pf *p, const acto_trace_event *e, uint64_t ns)
{
    at_actor *a = at_actor_of(p->t, e->actor);
    if (a->open_msg == 0 || a->open_msg != e->msg) {
        return; /* no HANDLE: check reports it */
    }
    uint64_t tid = track(p, e->actor);
    uint64_t s = a->open_ts;
    uint64_t end = ns > s + 2 ? ns : s + 2;
    begin(p, 'X');
    name_typed(p, "handle ", a->open_type);
    at_out_str(&p->o, ",\"cat\":\"actor\"");
    head(p, e->actor, tid);
    key_ts(p, ",\"ts\":", s);
    key_ts(p, ",\"dur\":", end - s);
    key_u64(p, ",\"args\":{\"msg\":", e->msg);
    key_u64(p, ",\"cause\":", a->open_cause);
    if (a->aux3 != 0) {
        key_u64(p, ",\"wait_ns\":", a->aux3 - 1);
    }
    if (e->arg != 0) {
        at_out_str(&p->o, ",\"error\":");
        at_out_json_str(&p->o, acto_err_name((int32_t)e->arg));
    }
    at_out_str(&p->o, "}}");
    size_t keep = 0;
    for (size_t i = 0; i < p->n_sends; i++) {
        sendrec *r = &p->sends[i];
        if (r->actor != e->actor) {
            p->sends[keep++] = *r;
            continue;
        }
        uint64_t at = r->ts < s + 1 ? s + 1 : r->ts > end - 1 ? end - 1 : r->ts;
        flow_point(p, 's', e->actor, tid, r->msg, at);
    }
    p->n_sends = keep;
    a->aux = end;
    a->open_msg = 0;
}

/* end_arrow ends the arrow of a message that is never handled (a dead
 * letter, a drop, still queued when the trace ends) in an anchor slice on
 * the receiver's track. */
static void
end_arrow(pf *p, uint64_t msg, const char *why, uint64_t ns)
{
    uint64_t ix;
    if (!at_map_del(&p->sent, msg, &ix)) {
        return;
    }
    uint64_t ref = p->flying[ix - 1].actor;
    at_actor *a = at_actor_of(p->t, ref);
    uint64_t tid = track(p, ref);
    if (a->open_msg != 0) {
        return; /* inside its open slice: that slice takes the arrow */
    }
    uint64_t s = slot_start(a, ns);
    begin(p, 'X');
    at_out_str(&p->o, ",\"name\":");
    at_out_json_str(&p->o, why);
    at_out_str(&p->o, ",\"cat\":\"anchor\"");
    head(p, ref, tid);
    key_ts(p, ",\"ts\":", s);
    at_out_str(&p->o, ",\"dur\":0.002");
    key_u64(p, ",\"args\":{\"msg\":", msg);
    at_out_str(&p->o, "}}");
    flow_point(p, 'f', ref, tid, msg, s + 1);
    a->aux = s + 2;
}

static void
on_other(pf *p, const acto_trace_event *e, uint64_t ns)
{
    char extra[160];
    switch (e->kind) {
    case ACTO_TRACE_FAIL:
        snprintf(extra, sizeof(extra), ",\"error\":\"%s\"",
                 acto_err_name((int32_t)e->arg));
        instant(p, e->actor, ns, "failure", e->msg, extra);
        break;
    case ACTO_TRACE_DEAD:
    case ACTO_TRACE_DROP:
        end_arrow(p, e->msg,
                  e->kind == ACTO_TRACE_DEAD ? "dead letter" : "dropped", ns);
        snprintf(extra, sizeof(extra), ",\"type_id\":%u", e->type);
        instant(p, e->peer, ns,
                e->kind == ACTO_TRACE_DEAD ? "dead_letter" : "dropped", e->msg,
                extra);
        break;
    case ACTO_TRACE_RESTART:
        snprintf(extra, sizeof(extra), ",\"cause\":%llu,\"restart\":%u",
                 (unsigned long long)e->cause, e->arg);
        instant(p, e->peer, ns, "restart", e->msg, extra);
        break;
    case ACTO_TRACE_FUTURE:
        if (e->cause != 0) { /* a reply's arrow ends at its future */
            end_arrow(p, e->cause, "future completed", ns);
        }
        /* A failure or a cancel (a timeout, mostly) on the outside track:
         * no actor resolves it. Successes show as their replies' arrows. */
        if (e->arg == ACTO_FUTURE_FAILED || e->arg == ACTO_FUTURE_CANCELLED) {
            snprintf(extra, sizeof(extra), ",\"cause\":%llu",
                     (unsigned long long)e->cause);
            instant(p, 0, ns,
                    e->arg == ACTO_FUTURE_FAILED ? "future failed"
                                                 : "future cancelled",
                    e->msg, extra);
        }
        break;
    case ACTO_TRACE_SPAWN:
        instant(p, e->actor, ns, "spawn", 0, NULL);
        break;
    case ACTO_TRACE_STOP:
        snprintf(extra, sizeof(extra), ",\"exit\":\"%s\"",
                 at_exit_name(e->arg));
        instant(p, e->actor, ns, "stop", 0, extra);
        break;
    case ACTO_TRACE_LOST:
        begin(p, 'i');
        at_out_str(&p->o, ",\"s\":\"g\",\"name\":\"events lost\"");
        key_u64(p, ",\"pid\":", 1);
        key_ts(p, ",\"ts\":", ns);
        key_u64(p, ",\"args\":{\"lost\":", e->arg);
        at_out_str(&p->o, "}}");
        break;
    default:
        break;
    }
}

static int
on_event(pf *p, const acto_trace_event *e)
{
    if (!p->have_t0) {
        p->t0 = e->ts;
        p->have_t0 = true;
    }
    uint64_t ns = e->ts > p->t0 ? e->ts - p->t0 : 0;
    switch (e->kind) {
    case ACTO_TRACE_SEND:
        on_send(p, e, ns);
        break;
    case ACTO_TRACE_HANDLE:
        on_handle(p, e, ns);
        break;
    case ACTO_TRACE_HANDLED:
        on_handled(p, e, ns);
        break;
    default:
        on_other(p, e, ns);
        break;
    }
    if (p->in_part >= p->max_events) {
        if (close_part(p) != AT_OK) {
            return AT_FAIL;
        }
        p->part++;
        return open_part(p);
    }
    return AT_OK;
}

static void
process_name(pf *p)
{
    begin(p, 'M');
    at_out_str(&p->o, ",\"name\":\"process_name\",\"pid\":1,\"args\":"
                      "{\"name\":");
    char buf[64];
    snprintf(buf, sizeof(buf), "acto system (pid %llu)",
             (unsigned long long)(p->t->info_ok ? p->t->info.pid : 0));
    at_out_json_str(&p->o, buf);
    at_out_str(&p->o, "}}");
}

int
at_cmd_perfetto(const at_args *args)
{
    at_trace t;
    if (at_trace_open(&t, args->trace) != AT_OK) {
        return AT_FAIL;
    }
    pf p = {.t = &t, .args = args, .max_events = args->max_events};
    struct stat st;
    if (strcmp(args->out, "-") == 0 ||
        (stat(args->out, &st) == 0 && !S_ISREG(st.st_mode))) {
        p.max_events = UINT64_MAX; /* not a file: not split */
    }
    int rc = open_part(&p);
    acto_trace_event e;
    if (rc == AT_OK) {
        process_name(&p);
    }
    while (rc == AT_OK && at_trace_next(&t, &e) == 1) {
        if (p.first_in_part) {
            process_name(&p);
        }
        rc = on_event(&p, &e);
    }
    /* Arrows of messages still queued at the end. */
    for (size_t i = 0; rc == AT_OK && i < p.n_flying; i++) {
        uint64_t *ix = at_map_get(&p.sent, p.flying[i].msg);
        if (ix != NULL && *ix == i + 1) {
            end_arrow(&p, p.flying[i].msg, "not handled in the trace",
                      t.last_ts - p.t0);
        }
    }
    if (rc == AT_OK) {
        rc = close_part(&p);
    }
    if (at_trace_report(&t) != AT_OK) {
        rc = AT_FAIL;
    }
    if (rc == AT_OK && !args->quiet) {
        fprintf(stderr,
                "acto-trace: wrote %llu trace events from %llu "
                "events into %u file%s\n",
                (unsigned long long)p.total, (unsigned long long)t.events,
                p.part + 1, p.part > 0 ? "s" : "");
    }
    for (size_t i = 0; i < p.names.cap; i++) {
        if (p.names.keys[i] != 0) {
            free((void *)(uintptr_t)p.names.vals[i]);
        }
    }
    at_map_free(&p.names);
    at_map_free(&p.sent);
    free(p.sends);
    free(p.flying);
    at_trace_close(&t);
    return rc;
}
