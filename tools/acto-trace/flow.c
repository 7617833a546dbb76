/* acto-trace flow and why: one flow's causal tree, or the chain of causes
 * that led to one message, each hop split into time queued (sent until
 * its handling began) and time handled, with the critical path (from the
 * root, always towards the subtree that ends last) marked '*'. */
#include "flow.h"

#include <acto/error.h>

#include <stdlib.h>
#include <string.h>

#define MAX_TREE_LINES 5000
#define MAX_INDENT 32

/* ---- loading ----------------------------------------------------------- */

uint32_t
flow_find(const flow_model *fm, uint64_t id)
{
    uint64_t *v = id != 0 ? at_map_get(&fm->ix, id) : NULL;
    return v != NULL ? (uint32_t)(*v - 1) : FM_NONE;
}

/* fmsg_at is message id of the flow, or NULL. */
static fmsg *
fmsg_at(flow_model *fm, uint64_t id)
{
    uint32_t i = flow_find(fm, id);
    return i != FM_NONE ? &fm->m[i] : NULL;
}

static fmsg *
msg_of(flow_model *fm, uint64_t id)
{
    bool fresh;
    uint64_t *v = at_map_put(&fm->ix, id, &fresh);
    if (fresh) {
        if (fm->n == fm->cap) {
            fm->cap = fm->cap ? fm->cap * 2 : 64;
            fm->m = at_realloc(fm->m, fm->cap * sizeof(*fm->m));
        }
        fmsg *m = &fm->m[fm->n];
        memset(m, 0, sizeof(*m));
        m->id = id;
        m->parent = m->first_child = m->last_child = m->next = FM_NONE;
        *v = ++fm->n;
    }
    return &fm->m[*v - 1];
}

uint64_t
flow_start(const fmsg *m)
{
    return (m->flags & FM_TIMER) ? m->t_set : m->t_send;
}

uint64_t
flow_end(const fmsg *m)
{
    uint64_t e = flow_start(m);
    uint64_t c[] = {m->t_fire, m->t_send, m->t_handle, m->t_handled,
                    m->t_end_event};
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        e = c[i] > e ? c[i] : e;
    }
    return e;
}

static void
add_event(flow_model *fm, const acto_trace_event *e)
{
    fmsg *m;
    switch (e->kind) {
    case ACTO_TRACE_SEND:
        m = msg_of(fm, e->msg);
        m->flags |= FM_SEND;
        m->t_send = e->ts;
        m->from = e->actor;
        m->to = e->peer;
        m->type = e->type;
        m->cause = e->cause;
        if (at_ref_is_ask(e->peer)) {
            m->flags |= FM_REPLY;
        }
        break;
    case ACTO_TRACE_FUTURE: /* a reply's future completing */
        if ((m = fmsg_at(fm, e->cause)) == NULL || !(m->flags & FM_REPLY)) {
            return;
        }
        m->flags |= FM_RESOLVED;
        m->t_handle = e->ts;
        break;
    case ACTO_TRACE_TIMER_SET:
        m = msg_of(fm, e->msg);
        m->flags |= FM_TIMER;
        m->t_set = e->ts;
        m->delay_ms = e->arg;
        m->from = e->actor;
        m->to = e->peer;
        m->type = e->type;
        m->cause = e->cause;
        break;
    case ACTO_TRACE_TIMER_FIRE:
        m = msg_of(fm, e->msg);
        m->flags |= FM_FIRED;
        m->t_fire = e->ts;
        break;
    case ACTO_TRACE_HANDLE:
        m = msg_of(fm, e->msg);
        m->flags |= FM_HANDLE;
        m->t_handle = e->ts;
        m->to = e->actor;
        m->type = e->type;
        break;
    case ACTO_TRACE_HANDLED:
        m = msg_of(fm, e->msg);
        m->flags |= FM_HANDLED;
        m->t_handled = e->ts;
        m->rc = (int32_t)e->arg;
        break;
    case ACTO_TRACE_DEAD:
    case ACTO_TRACE_DROP:
        m = msg_of(fm, e->msg);
        m->flags |= e->kind == ACTO_TRACE_DEAD ? FM_DEAD : FM_DROPPED;
        m->t_end_event = e->ts;
        break;
    case ACTO_TRACE_FAIL:
        if (e->msg != 0) {
            m = msg_of(fm, e->msg);
            m->flags |= FM_FAILED;
            m->fail_code = (int32_t)e->arg;
            m->t_end_event = e->ts;
        }
        break;
    case ACTO_TRACE_PARK:
        msg_of(fm, e->msg)->flags |= FM_PARKED;
        break;
    default:
        return;
    }
    fm->t0 = fm->t0 == 0 || e->ts < fm->t0 ? e->ts : fm->t0;
    fm->t1 = e->ts > fm->t1 ? e->ts : fm->t1;
}

static void
add_restart(flow_model *fm, const acto_trace_event *e)
{
    if (fm->n_restarts == fm->cap_restarts) {
        fm->cap_restarts = fm->cap_restarts ? fm->cap_restarts * 2 : 8;
        fm->restarts =
            at_realloc(fm->restarts, fm->cap_restarts * sizeof(*fm->restarts));
    }
    fm->restarts[fm->n_restarts++] =
        (frestart){e->ts, e->actor, e->peer, e->cause, e->arg};
    fm->t1 = e->ts > fm->t1 ? e->ts : fm->t1;
}

/* Lifecycle events go to the actor table, whatever the flow. */
static void
note_actor(at_trace *t, const acto_trace_event *e)
{
    at_actor *a;
    if (e->kind == ACTO_TRACE_SPAWN) {
        a = at_actor_of(t, e->actor);
        a->spawned = true;
        a->spawn_ts = e->ts;
        a->parent = e->peer;
    } else if (e->kind == ACTO_TRACE_STOP) {
        a = at_actor_of(t, e->actor);
        a->stopped = true;
        a->stop_ts = e->ts;
        a->exit_kind = e->arg;
    }
}

static int
read_flow(at_trace *t, uint64_t flow, flow_model *fm)
{
    acto_trace_event e;
    fm->flow = flow;
    while (at_trace_next(t, &e) == 1) {
        if (e.kind == ACTO_TRACE_SPAWN || e.kind == ACTO_TRACE_STOP) {
            note_actor(t, &e);
        } else if (e.kind == ACTO_TRACE_RESTART) {
            if (flow_find(fm, e.cause) != FM_NONE) {
                add_restart(fm, &e);
            }
        } else if (e.flow == flow) {
            add_event(fm, &e);
        }
    }
    return t->status < 0 ? AT_FAIL : AT_OK;
}

/* find_flow_of finds the flow message id belongs to (0: not found). */
static uint64_t
find_flow_of(at_trace *t, uint64_t id)
{
    acto_trace_event e;
    while (at_trace_next(t, &e) == 1) {
        if (e.msg == id && e.flow != 0 &&
            (e.kind == ACTO_TRACE_SEND || e.kind == ACTO_TRACE_TIMER_SET ||
             e.kind == ACTO_TRACE_HANDLE)) {
            return e.flow;
        }
    }
    return 0;
}

/* link builds the tree: a message's parent is its cause when that is in
 * the flow (and earlier), children in order of their start. */
static void
link(flow_model *fm)
{
    fm->n_roots = 0;
    for (uint32_t i = 0; i < fm->n; i++) {
        fmsg *m = &fm->m[i];
        uint32_t p = m->cause != m->id ? flow_find(fm, m->cause) : FM_NONE;
        if (p == FM_NONE || p >= i) {
            m->parent = FM_NONE;
            fm->n_roots++;
            continue;
        }
        m->parent = p;
        fmsg *pm = &fm->m[p];
        if (pm->last_child == FM_NONE) {
            pm->first_child = i;
        } else {
            fm->m[pm->last_child].next = i;
        }
        pm->last_child = i;
    }
    /* Children come after parents: one backward sweep sums the ends. */
    for (uint32_t i = 0; i < fm->n; i++) {
        fm->m[i].sub_end = flow_end(&fm->m[i]);
    }
    for (uint32_t i = (uint32_t)fm->n; i-- > 0;) {
        fmsg *m = &fm->m[i];
        if (m->parent != FM_NONE && m->sub_end > fm->m[m->parent].sub_end) {
            fm->m[m->parent].sub_end = m->sub_end;
        }
    }
    /* The critical path: from the root that ends last, down. */
    uint32_t at = FM_NONE;
    for (uint32_t i = 0; i < fm->n; i++) {
        if (fm->m[i].parent == FM_NONE &&
            (at == FM_NONE || fm->m[i].sub_end > fm->m[at].sub_end)) {
            at = i;
        }
    }
    while (at != FM_NONE) {
        fm->m[at].flags |= FM_CRITICAL;
        uint32_t best = FM_NONE;
        for (uint32_t c = fm->m[at].first_child; c != FM_NONE;
             c = fm->m[c].next) {
            if (best == FM_NONE || fm->m[c].sub_end > fm->m[best].sub_end) {
                best = c;
            }
        }
        at = best;
    }
}

int
flow_load(at_trace *t, uint64_t id, bool msg_of_first, flow_model *fm)
{
    memset(fm, 0, sizeof(*fm));
    uint64_t flow = id;
    if (msg_of_first) {
        flow = find_flow_of(t, id);
        if (t->status < 0) {
            return at_trace_report(t);
        }
        if (flow == 0) {
            fprintf(stderr, "acto-trace: %s: no message %llu in the trace\n",
                    t->path, (unsigned long long)id);
            return AT_FAIL;
        }
        if (at_trace_rewind(t) != AT_OK) {
            return AT_FAIL;
        }
    }
    int rc = read_flow(t, flow, fm);
    if (rc == AT_OK && fm->n == 0 && !msg_of_first) {
        /* Not a flow id: perhaps a message in one. */
        if (at_trace_rewind(t) != AT_OK) {
            return AT_FAIL;
        }
        flow = find_flow_of(t, id);
        if (flow != 0 && at_trace_rewind(t) == AT_OK) {
            rc = read_flow(t, flow, fm);
        }
    }
    if (at_trace_report(t) != AT_OK) {
        return AT_FAIL;
    }
    if (fm->n == 0) {
        fprintf(stderr,
                "acto-trace: %s: no flow or message %llu in the "
                "trace\n",
                t->path, (unsigned long long)id);
        return AT_FAIL;
    }
    link(fm);
    return AT_OK;
}

void
flow_free(flow_model *fm)
{
    free(fm->m);
    free(fm->restarts);
    at_map_free(&fm->ix);
    memset(fm, 0, sizeof(*fm));
}

/* ---- printing ---------------------------------------------------------- */

/* hop prints one message: what, who to whom, and where its time went. */
static void
hop(at_out *o, at_trace *t, const flow_model *fm, const fmsg *m)
{
    char tb[32], d[4][32];
    at_out_printf(o, "%c #%llu %s: ", (m->flags & FM_CRITICAL) ? '*' : ' ',
                  (unsigned long long)m->id, at_type_name(t, m->type, tb));
    if (m->flags & FM_TIMER) {
        at_out_printf(o, "timer set by %s for %s, ",
                      at_actor_label(t, at_actor_of(t, m->from)),
                      at_actor_label(t, at_actor_of(t, m->to)));
        if (m->flags & FM_FIRED) {
            at_out_printf(o, "fired after %s (asked: %u ms)",
                          at_fmt_dur(m->t_fire - m->t_set, d[0]), m->delay_ms);
        } else {
            at_out_str(o, "not fired in the trace");
        }
    } else {
        at_out_printf(o, "%s -> %s, ",
                      at_actor_label(t, at_actor_of(t, m->from)),
                      at_actor_label(t, at_actor_of(t, m->to)));
        if ((m->flags & FM_SEND) && (m->flags & FM_HANDLE)) {
            at_out_printf(o, "queued %s",
                          at_fmt_dur(m->t_handle - m->t_send, d[0]));
        } else if ((m->flags & FM_RESOLVED) && (m->flags & FM_SEND)) {
            at_out_printf(o, "completed the ask after %s",
                          at_fmt_dur(m->t_handle - m->t_send, d[0]));
        } else if ((m->flags & FM_REPLY) && (m->flags & FM_DROPPED)) {
            at_out_str(o, "DROPPED: the ask was over");
        } else if (!(m->flags & FM_SEND)) {
            at_out_str(o, "sent before the trace");
        } else if (m->flags & FM_DEAD) {
            at_out_str(o, "DEAD LETTER");
        } else if (m->flags & FM_DROPPED) {
            at_out_str(o, "DROPPED");
        } else {
            at_out_str(o, "not handled in the trace");
        }
        if (m->flags & FM_HANDLED) {
            at_out_printf(o, ", handled %s",
                          at_fmt_dur(m->t_handled - m->t_handle, d[1]));
        }
    }
    if (m->flags & FM_PARKED) {
        at_out_str(o, ", sender parked");
    }
    if (m->flags & FM_FAILED) {
        at_out_printf(o, ", FAILED %s", acto_err_name(m->fail_code));
    }
    at_out_printf(o, " [at +%s]", at_fmt_dur(flow_start(m) - fm->t0, d[2]));
    for (size_t i = 0; i < fm->n_restarts; i++) {
        const frestart *r = &fm->restarts[i];
        if (r->cause == m->id) {
            at_out_printf(o, "; restarted by %s as %s (restart %u)",
                          at_actor_label(t, at_actor_of(t, r->sup)),
                          at_actor_label(t, at_actor_of(t, r->child)),
                          r->count);
        }
    }
    at_out_ch(o, '\n');
}

static void
indent(at_out *o, uint32_t depth)
{
    if (depth > MAX_INDENT) {
        at_out_printf(o, "[depth %u] ", depth);
        depth = MAX_INDENT;
    }
    for (uint32_t i = 0; i < depth; i++) {
        at_out_str(o, "  ");
    }
}

/* print_tree walks the tree depth first without recursion (a ping-pong
 * flow is a chain as deep as it is long). */
static void
print_tree(at_out *o, at_trace *t, const flow_model *fm)
{
    uint32_t *depth = at_calloc(fm->n, sizeof(uint32_t));
    uint32_t *stack = at_alloc(fm->n * sizeof(uint32_t));
    size_t sp = 0, lines = 0;
    for (uint32_t i = (uint32_t)fm->n; i-- > 0;) {
        if (fm->m[i].parent == FM_NONE) {
            stack[sp++] = i;
        }
    }
    while (sp > 0 && lines < MAX_TREE_LINES) {
        uint32_t i = stack[--sp];
        const fmsg *m = &fm->m[i];
        indent(o, depth[i]);
        hop(o, t, fm, m);
        lines++;
        /* Push children in reverse so the first is printed first. */
        size_t base = sp;
        for (uint32_t c = m->first_child; c != FM_NONE; c = fm->m[c].next) {
            depth[c] = depth[i] + 1;
            stack[sp++] = c;
        }
        for (size_t a = base, b = sp; b > a + 1; a++, b--) {
            uint32_t x = stack[a];
            stack[a] = stack[b - 1];
            stack[b - 1] = x;
        }
    }
    if (lines < fm->n) {
        at_out_printf(o, "... %zu more messages not shown\n", fm->n - lines);
    }
    free(depth);
    free(stack);
}

/* Sums along a path of hops: queued, handled, timer delays. */
typedef struct sums {
    uint64_t queued, handled, timers;
    uint32_t hops;
} sums;

static void
add_hop(sums *s, const fmsg *m)
{
    s->hops++;
    if ((m->flags & FM_TIMER) && (m->flags & FM_FIRED)) {
        s->timers += m->t_fire - m->t_set;
    }
    if ((m->flags & FM_SEND) && (m->flags & FM_HANDLE)) {
        s->queued += m->t_handle - m->t_send;
    }
    if (m->flags & FM_HANDLED) {
        s->handled += m->t_handled - m->t_handle;
    }
}

static void
print_sums(at_out *o, const char *what, const sums *s, uint64_t span)
{
    char d[4][32];
    at_out_printf(o,
                  "%s: %u hops over %s: queued %s, handled %s, in timers "
                  "%s\n",
                  what, s->hops, at_fmt_dur(span, d[0]),
                  at_fmt_dur(s->queued, d[1]), at_fmt_dur(s->handled, d[2]),
                  at_fmt_dur(s->timers, d[3]));
}

static void
print_flow(at_out *o, at_trace *t, const flow_model *fm)
{
    char d[32];
    at_out_printf(o,
                  "flow %llu: %zu messages, %s from the first event to "
                  "the last\n",
                  (unsigned long long)fm->flow, fm->n,
                  at_fmt_dur(fm->t1 - fm->t0, d));
    sums s = {0};
    uint64_t end = fm->t0;
    for (size_t i = 0; i < fm->n; i++) {
        if (fm->m[i].flags & FM_CRITICAL) {
            add_hop(&s, &fm->m[i]);
            end = flow_end(&fm->m[i]) > end ? flow_end(&fm->m[i]) : end;
        }
    }
    print_sums(o, "critical path (*)", &s, end - fm->t0);
    at_out_ch(o, '\n');
    print_tree(o, t, fm);
}

/* print_why prints the chain of causes of message index i, root first. */
static void
print_why(at_out *o, at_trace *t, const flow_model *fm, uint32_t i)
{
    size_t n = 0;
    for (uint32_t at = i; at != FM_NONE; at = fm->m[at].parent) {
        n++;
    }
    uint32_t *chain = at_alloc(n * sizeof(uint32_t));
    size_t k = n;
    for (uint32_t at = i; at != FM_NONE; at = fm->m[at].parent) {
        chain[--k] = at;
    }
    char tb[32];
    const fmsg *m = &fm->m[i];
    at_out_printf(o,
                  "why message %llu (%s to %s), flow %llu: %zu hops from "
                  "the root\n",
                  (unsigned long long)m->id, at_type_name(t, m->type, tb),
                  at_actor_label(t, at_actor_of(t, m->to)),
                  (unsigned long long)fm->flow, n);
    sums s = {0};
    uint64_t worst = 0;
    uint32_t worst_at = FM_NONE;
    for (size_t j = 0; j < n; j++) {
        const fmsg *h = &fm->m[chain[j]];
        add_hop(&s, h);
        uint64_t cost = flow_end(h) - flow_start(h);
        if (worst_at == FM_NONE || cost > worst) {
            worst = cost, worst_at = chain[j];
        }
    }
    const fmsg *root = &fm->m[chain[0]];
    print_sums(o, "the chain", &s, flow_end(m) - flow_start(root));
    if (worst_at != FM_NONE) {
        char d[32];
        at_out_printf(o, "the slowest hop: #%llu (%s)\n",
                      (unsigned long long)fm->m[worst_at].id,
                      at_fmt_dur(worst, d));
    }
    at_out_str(o, "'*': on the flow's critical path\n\n");
    for (size_t j = 0; j < n; j++) {
        indent(o, (uint32_t)j);
        hop(o, t, fm, &fm->m[chain[j]]);
    }
    free(chain);
}

int
at_cmd_flow(const at_args *args, bool why)
{
    at_trace t;
    if (at_trace_open(&t, args->trace) != AT_OK) {
        return AT_FAIL;
    }
    flow_model fm;
    int rc = flow_load(&t, args->id, why, &fm);
    if (rc != AT_OK) {
        at_trace_close(&t);
        return rc;
    }
    at_out o;
    int err = at_out_open(&o, args->out);
    if (err != 0) {
        fprintf(stderr, "acto-trace: %s: %s\n", args->out, strerror(err));
        flow_free(&fm);
        at_trace_close(&t);
        return AT_FAIL;
    }
    if (why) {
        print_why(&o, &t, &fm, flow_find(&fm, args->id));
    } else {
        print_flow(&o, &t, &fm);
    }
    if ((err = at_out_close(&o)) != 0) {
        fprintf(stderr, "acto-trace: %s: %s\n", o.path, strerror(err));
        rc = AT_FAIL;
    }
    flow_free(&fm);
    at_trace_close(&t);
    return rc;
}
