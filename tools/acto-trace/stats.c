/* acto-trace stats: per actor, messages in and out, handle time and
 * mailbox wait quantiles, peak mailbox depth, failures, restarts, dead
 * letters and drops; per message type, messages sent and handled and
 * handle time quantiles; trace-wide, the events lost. One pass; memory is the
 * actors' duration samples and the messages in flight. */
#include "at.h"

#include <acto/error.h>

#include <stdlib.h>
#include <string.h>

/* Per message type (stats only): messages sent and handled, and how long
 * their handling took. */
typedef struct type_stat {
    uint32_t type;
    uint64_t sent, handled;
    at_vec handle_ns;
} type_stat;

typedef struct type_table {
    at_map ix; /* type + 1 -> index + 1 */
    type_stat *v;
    size_t n, cap;
} type_table;

static type_stat *
type_of(type_table *tt, uint32_t type)
{
    bool fresh;
    uint64_t *ix = at_map_put(&tt->ix, (uint64_t)type + 1, &fresh);
    if (fresh) {
        if (tt->n == tt->cap) {
            tt->cap = tt->cap ? tt->cap * 2 : 16;
            tt->v = at_realloc(tt->v, tt->cap * sizeof(*tt->v));
        }
        tt->v[tt->n] = (type_stat){.type = type};
        *ix = ++tt->n;
    }
    return &tt->v[*ix - 1];
}

static void
types_free(type_table *tt)
{
    for (size_t i = 0; i < tt->n; i++) {
        at_vec_free(&tt->v[i].handle_ns);
    }
    free(tt->v);
    at_map_free(&tt->ix);
}

/* The pass's state beside the actors: messages sent and not yet handled
 * (id -> send ts) and failed messages (id -> the failed actor's ref). */
typedef struct pass {
    at_map pending;
    at_map failed;
    at_map *edges;
    type_table *types; /* NULL: not kept */
} pass;

static void
on_send(at_trace *t, pass *p, const acto_trace_event *e, at_totals *tot)
{
    at_actor *from = at_actor_of(t, e->actor);
    uint64_t fi = t->last_ix;
    at_actor *to = at_actor_of(t, e->peer);
    if (p->edges != NULL) {
        ++*at_map_put(p->edges, (fi + 1) << 32 | ((uint64_t)t->last_ix + 1),
                      NULL);
    }
    from->out++;
    to->in++;
    to->depth = e->arg;
    if (e->arg > to->peak_depth) {
        to->peak_depth = e->arg;
    }
    if (e->msg != 0) {
        *at_map_put(&p->pending, e->msg, NULL) = e->ts;
    }
    if (p->types != NULL) {
        type_of(p->types, e->type)->sent++;
    }
    tot->sends++;
}

static void
on_handle(at_trace *t, pass *p, const acto_trace_event *e)
{
    at_actor *a = at_actor_of(t, e->actor);
    uint64_t sent;
    if (e->msg != 0 && at_map_del(&p->pending, e->msg, &sent)) {
        at_vec_push(&a->wait_ns, e->ts >= sent ? e->ts - sent : 0);
    }
    a->open_msg = e->msg;
    a->open_ts = e->ts;
    if (a->depth > 0) {
        a->depth--;
    }
}

static void
on_handled(at_trace *t, pass *p, const acto_trace_event *e, at_totals *tot)
{
    at_actor *a = at_actor_of(t, e->actor);
    type_stat *ts = p->types != NULL ? type_of(p->types, e->type) : NULL;
    if (a->open_msg == e->msg && a->open_ts != 0) {
        uint64_t ns = e->ts >= a->open_ts ? e->ts - a->open_ts : 0;
        at_vec_push(&a->handle_ns, ns);
        if (ts != NULL) {
            at_vec_push(&ts->handle_ns, ns);
        }
        a->open_ts = 0;
    }
    if (ts != NULL) {
        ts->handled++;
    }
    a->open_msg = 0;
    a->handled++;
    tot->handled++;
}

static void
on_restart(at_trace *t, pass *p, const acto_trace_event *e, at_totals *tot)
{
    uint64_t *who = e->cause != 0 ? at_map_get(&p->failed, e->cause) : NULL;
    /* The failed incarnation was restarted; without its failure in the
     * trace, the new one carries the count. */
    at_actor_of(t, who != NULL ? *who : e->actor)->restarts++;
    at_actor *n = at_actor_of(t, e->actor);
    n->parent = e->peer;
    tot->restarts++;
}

static void
on_event(at_trace *t, pass *p, const acto_trace_event *e, at_totals *tot)
{
    at_actor *a;
    switch (e->kind) {
    case ACTO_TRACE_SEND:
        on_send(t, p, e, tot);
        break;
    case ACTO_TRACE_HANDLE:
        on_handle(t, p, e);
        break;
    case ACTO_TRACE_HANDLED:
        on_handled(t, p, e, tot);
        break;
    case ACTO_TRACE_FAIL:
        at_actor_of(t, e->actor)->failures++;
        if (e->msg != 0) {
            *at_map_put(&p->failed, e->msg, NULL) = e->actor;
        }
        tot->failures++;
        break;
    case ACTO_TRACE_RESTART:
        on_restart(t, p, e, tot);
        break;
    case ACTO_TRACE_DEAD:
        at_actor_of(t, e->peer)->dead++;
        at_map_del(&p->pending, e->msg, NULL);
        tot->dead++;
        break;
    case ACTO_TRACE_DROP:
        at_actor_of(t, e->peer)->dropped++;
        at_map_del(&p->pending, e->msg, NULL);
        tot->drops++;
        break;
    case ACTO_TRACE_PARK:
        at_actor_of(t, e->actor)->parks++;
        break;
    case ACTO_TRACE_SPAWN:
        a = at_actor_of(t, e->actor);
        a->spawned = true;
        a->spawn_ts = e->ts;
        a->parent = e->peer;
        break;
    case ACTO_TRACE_STOP:
        a = at_actor_of(t, e->actor);
        a->stopped = true;
        a->stop_ts = e->ts;
        a->exit_kind = e->arg;
        break;
    case ACTO_TRACE_LOST:
        tot->lost_events++;
        tot->lost += e->arg;
        break;
    default:
        break;
    }
}

static int
stats_pass(at_trace *t, at_totals *tot, at_map *edges, type_table *types)
{
    pass p = {.edges = edges, .types = types};
    acto_trace_event e;
    memset(tot, 0, sizeof(*tot));
    while (at_trace_next(t, &e) == 1) {
        on_event(t, &p, &e, tot);
    }
    tot->events = t->events;
    at_map_free(&p.pending);
    at_map_free(&p.failed);
    return t->status < 0 ? AT_FAIL : AT_OK;
}

int
at_stats_pass(at_trace *t, at_totals *tot, at_map *edges)
{
    return stats_pass(t, tot, edges, NULL);
}

/* ---- printing ---------------------------------------------------------- */

/* by_handled orders types by messages handled, then sent, then type. */
static int
by_handled(const void *x, const void *y)
{
    const type_stat *a = x, *b = y;
    if (a->handled != b->handled) {
        return a->handled > b->handled ? -1 : 1;
    }
    if (a->sent != b->sent) {
        return a->sent > b->sent ? -1 : 1;
    }
    return a->type < b->type ? -1 : a->type > b->type;
}

/* print_types writes the per-type table; in TSV, rows begin with "#type"
 * so that readers of the actor rows skip them as comments. */
static void
print_types(at_out *o, at_trace *t, type_table *tt, bool tsv)
{
    qsort(tt->v, tt->n, sizeof(*tt->v), by_handled);
    at_out_str(o, tsv ? "#type\tname\tsent\thandled\thandle_p50_ns\t"
                        "handle_p99_ns\thandle_max_ns\n"
                      : "\nmessage type                     sent  handled "
                        "  hdl p50   hdl p99   hdl max\n");
    for (size_t i = 0; i < tt->n; i++) {
        type_stat *ts = &tt->v[i];
        char tb[32], d[3][32];
        const char *name = at_type_name(t, ts->type, tb);
        uint64_t p50 = at_vec_pct(&ts->handle_ns, 0.5);
        uint64_t p99 = at_vec_pct(&ts->handle_ns, 0.99);
        uint64_t max = at_vec_max(&ts->handle_ns);
        if (tsv) {
            at_out_printf(o, "#type\t%s\t%llu\t%llu\t%llu\t%llu\t%llu\n", name,
                          (unsigned long long)ts->sent,
                          (unsigned long long)ts->handled,
                          (unsigned long long)p50, (unsigned long long)p99,
                          (unsigned long long)max);
        } else {
            at_out_printf(o, "%-28.28s %8llu %8llu %9s %9s %9s\n", name,
                          (unsigned long long)ts->sent,
                          (unsigned long long)ts->handled,
                          at_fmt_dur(p50, d[0]), at_fmt_dur(p99, d[1]),
                          at_fmt_dur(max, d[2]));
        }
    }
}

static bool
active(const at_actor *a)
{
    return a->in || a->out || a->handled || a->failures || a->restarts ||
           a->dead || a->dropped || a->spawned;
}

static void
print_tsv(at_out *o, at_trace *t)
{
    at_out_str(o, "actor\tname\tin\tout\thandled\thandle_p50_ns\t"
                  "handle_p99_ns\thandle_max_ns\twait_p50_ns\twait_p99_ns\t"
                  "peak_depth\tfailures\trestarts\tdead_letters\tdropped\n");
    for (size_t i = 0; i < t->n_actors; i++) {
        at_actor *a = t->actors[i];
        if (!active(a)) {
            continue;
        }
        char ref[32];
        const char *n = at_actor_name(t, a);
        at_out_printf(o, "%s\t%s", a->ref == 0 ? "-" : at_ref_str(a->ref, ref),
                      n != NULL ? n : "");
        uint64_t v[] = {a->in,
                        a->out,
                        a->handled,
                        at_vec_pct(&a->handle_ns, 0.5),
                        at_vec_pct(&a->handle_ns, 0.99),
                        at_vec_max(&a->handle_ns),
                        at_vec_pct(&a->wait_ns, 0.5),
                        at_vec_pct(&a->wait_ns, 0.99),
                        a->peak_depth,
                        a->failures,
                        a->restarts,
                        a->dead,
                        a->dropped};
        for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
            at_out_ch(o, '\t');
            at_out_u64(o, v[k]);
        }
        at_out_ch(o, '\n');
    }
}

static void
print_table(at_out *o, at_trace *t)
{
    at_out_printf(o,
                  "%-28s %8s %8s %8s %9s %9s %9s %9s %9s %6s %5s %5s %5s "
                  "%5s\n",
                  "actor", "in", "out", "handled", "hdl p50", "hdl p99",
                  "hdl max", "wait p50", "wait p99", "peak", "fail", "rest",
                  "dead", "drop");
    for (size_t i = 0; i < t->n_actors; i++) {
        at_actor *a = t->actors[i];
        if (!active(a)) {
            continue;
        }
        char d[5][32];
        at_out_printf(
            o,
            "%-28.28s %8llu %8llu %8llu %9s %9s %9s %9s %9s %6llu %5llu "
            "%5llu %5llu %5llu\n",
            at_actor_label(t, a), (unsigned long long)a->in,
            (unsigned long long)a->out, (unsigned long long)a->handled,
            at_fmt_dur(at_vec_pct(&a->handle_ns, 0.5), d[0]),
            at_fmt_dur(at_vec_pct(&a->handle_ns, 0.99), d[1]),
            at_fmt_dur(at_vec_max(&a->handle_ns), d[2]),
            at_fmt_dur(at_vec_pct(&a->wait_ns, 0.5), d[3]),
            at_fmt_dur(at_vec_pct(&a->wait_ns, 0.99), d[4]),
            (unsigned long long)a->peak_depth, (unsigned long long)a->failures,
            (unsigned long long)a->restarts, (unsigned long long)a->dead,
            (unsigned long long)a->dropped);
    }
}

int
at_cmd_stats(const at_args *args)
{
    at_trace t;
    if (at_trace_open(&t, args->trace) != AT_OK) {
        return AT_FAIL;
    }
    at_totals tot;
    type_table types = {0};
    int rc = stats_pass(&t, &tot, NULL, &types);
    at_out o;
    int err = at_out_open(&o, args->out);
    if (err != 0) {
        fprintf(stderr, "acto-trace: %s: %s\n", args->out, strerror(err));
        types_free(&types);
        at_trace_close(&t);
        return AT_FAIL;
    }
    if (args->tsv) {
        print_tsv(&o, &t);
    } else {
        print_table(&o, &t);
    }
    print_types(&o, &t, &types, args->tsv);
    types_free(&types);
    uint64_t file_lost = acto_tracefile_lost(t.r);
    at_out_printf(
        &o,
        "%sevents %llu, sends %llu, handled %llu, failures %llu, "
        "restarts %llu, dead letters %llu, dropped %llu\n",
        args->tsv ? "# " : "\n", (unsigned long long)tot.events,
        (unsigned long long)tot.sends, (unsigned long long)tot.handled,
        (unsigned long long)tot.failures, (unsigned long long)tot.restarts,
        (unsigned long long)tot.dead, (unsigned long long)tot.drops);
    at_out_printf(
        &o,
        "%slost events %llu (in %llu LOST events; the file counts "
        "%llu)%s\n",
        args->tsv ? "# " : "", (unsigned long long)tot.lost,
        (unsigned long long)tot.lost_events, (unsigned long long)file_lost,
        t.status < 0 ? "; the trace is damaged, counts are partial" : "");
    if ((err = at_out_close(&o)) != 0) {
        fprintf(stderr, "acto-trace: %s: %s\n", o.path, strerror(err));
        rc = AT_FAIL;
    }
    if (at_trace_report(&t) != AT_OK) {
        rc = AT_FAIL;
    }
    at_trace_close(&t);
    return rc;
}

static int
by_count(const void *a, const void *b)
{
    const at_edge *x = a, *y = b;
    if (x->count != y->count) {
        return x->count > y->count ? -1 : 1;
    }
    return x->from != y->from ? (x->from < y->from ? -1 : 1)
                              : (x->to < y->to ? -1 : x->to > y->to);
}

at_edge *
at_edges_sorted(const at_map *edges, size_t *n)
{
    at_edge *v = at_alloc((edges->n + 1) * sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; i < edges->cap; i++) {
        if (edges->keys[i] != 0) {
            v[k].from = (uint32_t)(edges->keys[i] >> 32) - 1;
            v[k].to = (uint32_t)edges->keys[i] - 1;
            v[k].count = edges->vals[i];
            k++;
        }
    }
    qsort(v, k, sizeof(*v), by_count);
    *n = k;
    return v;
}
