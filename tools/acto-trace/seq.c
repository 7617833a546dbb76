/* acto-trace seq: one flow as a Mermaid sequence diagram. Async arrows
 * (-)) per message in time order, -x for dead letters and drops;
 * participants aliased p0, p1, ... with sanitised labels (a participant
 * named "end" breaks the parser); actors spawned during the flow are
 * created by a "spawn" arrow from their parent, actors stopping in it
 * destroyed by a "stopped" arrow to their parent when nothing of theirs
 * follows (else a note); failures, timers and restarts as notes. Cut at
 * --max-arrows arrows or about 45,000 characters (Mermaid's default text
 * limit is 50,000) with a note saying so. */
#include "flow.h"

#include <acto/error.h>

#include <stdlib.h>
#include <string.h>

#define MAX_CHARS 45000

enum { L_ARROW, L_DEAD, L_NOTE, L_CREATE, L_DESTROY, L_STOPPED, L_SKIP };

typedef struct line {
    uint64_t ts;
    uint32_t order;
    int kind;
    bool destroys;     /* the arrow destroys its sender (a stop notice) */
    uint32_t from, to; /* participant numbers */
    char text[160];
} line;

typedef struct seq {
    at_trace *t;
    flow_model *fm;
    line *l;
    size_t n, cap;
    uint32_t n_parts;
    uint32_t *part_actor; /* participant -> actor index */
} seq;

/* part returns the participant number of ref, made on first use. */
static uint32_t
part(seq *s, uint64_t ref)
{
    at_actor *a = at_actor_of(s->t, ref);
    if (a->aux3 == 0) {
        s->part_actor =
            at_realloc(s->part_actor, (s->n_parts + 1) * sizeof(uint32_t));
        s->part_actor[s->n_parts] = s->t->last_ix;
        a->aux3 = ++s->n_parts;
    }
    return (uint32_t)a->aux3 - 1;
}

static void
sanitise(char *d, size_t cap, const char *s)
{
    size_t k = 0;
    for (; *s != '\0' && k + 1 < cap; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || strchr(" _.:,/()-=+*", c) != NULL;
        d[k++] = ok ? c : '_';
    }
    d[k] = '\0';
}

static line *add(seq *s, uint64_t ts, int kind, uint32_t from, uint32_t to,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static line *
add(seq *s, uint64_t ts, int kind, uint32_t from, uint32_t to, const char *fmt,
    ...)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->l = at_realloc(s->l, s->cap * sizeof(*s->l));
    }
    line *l = &s->l[s->n];
    l->ts = ts;
    l->order = (uint32_t)s->n++;
    l->kind = kind;
    l->destroys = false;
    l->from = from;
    l->to = to;
    char raw[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    sanitise(l->text, sizeof(l->text), raw);
    return l;
}

static void
add_message(seq *s, const fmsg *m)
{
    char tb[32];
    const char *type = at_type_name(s->t, m->type, tb);
    if (m->flags & FM_TIMER) {
        uint32_t p = part(s, m->from);
        add(s, m->t_set, L_NOTE, p, p, "timer set: %s in %s", type,
            at_fmt_dur((m->flags & FM_FIRED) ? m->t_fire - m->t_set : 0, tb));
        return;
    }
    if (m->flags & FM_SEND) {
        /* A timer's send comes from no actor: draw it from the setter. */
        uint32_t ti = flow_find(s->fm, m->cause);
        bool timed =
            m->from == 0 && ti != FM_NONE && (s->fm->m[ti].flags & FM_TIMER);
        uint64_t from = timed ? s->fm->m[ti].from : m->from;
        bool lost = (m->flags & (FM_DEAD | FM_DROPPED)) != 0;
        add(s, m->t_send, lost ? L_DEAD : L_ARROW, part(s, from),
            part(s, m->to), "%s (msg %llu%s)%s", type,
            (unsigned long long)m->id, timed ? ", timer" : "",
            (m->flags & FM_DEAD)      ? " dead letter"
            : (m->flags & FM_DROPPED) ? " dropped"
                                      : "");
    }
    if (m->flags & FM_FAILED) {
        uint32_t p = part(s, m->to);
        add(s, m->t_end_event, L_NOTE, p, p, "FAILED %s on msg %llu",
            acto_err_name(m->fail_code), (unsigned long long)m->id);
    }
}

/* Lifecycles inside the flow's time span, of the actors in it. */
static void
add_lifecycles(seq *s)
{
    const flow_model *fm = s->fm;
    uint32_t n = s->n_parts;
    for (uint32_t i = 0; i < n; i++) {
        at_actor *a = s->t->actors[s->part_actor[i]];
        if (a->ref == 0) {
            continue;
        }
        if (a->spawned && a->spawn_ts >= fm->t0 && a->spawn_ts <= fm->t1) {
            bool restart = false;
            for (size_t r = 0; r < fm->n_restarts; r++) {
                restart |= fm->restarts[r].child == a->ref;
            }
            uint32_t parent = part(s, a->parent);
            add(s, a->spawn_ts, L_CREATE, parent, i, "%s",
                restart ? "restart" : "spawn");
        }
        if (a->stopped && a->stop_ts >= fm->t0 && a->stop_ts <= fm->t1) {
            add(s, a->stop_ts, L_DESTROY, i, part(s, a->parent), "stopped (%s)",
                at_exit_name(a->exit_kind));
        }
    }
}

static int
by_time(const void *x, const void *y)
{
    const line *a = x, *b = y;
    if (a->ts != b->ts) {
        return a->ts < b->ts ? -1 : 1;
    }
    return a->order < b->order ? -1 : a->order > b->order;
}

/* fix_destroy keeps line i, a destroy, last for its participant: the
 * notices a stopping actor sends after its stop (DOWN, CHILD_FAILED)
 * become the destroying arrow; anything else of it after the stop makes
 * the stop a note. */
static void
fix_destroy(seq *s, size_t i)
{
    line *l = &s->l[i];
    size_t last = i;
    for (size_t j = i + 1; j < s->n; j++) {
        const line *k = &s->l[j];
        if (k->to == l->from ||
            (k->from == l->from && k->kind != L_ARROW && k->kind != L_DEAD)) {
            l->kind = L_NOTE;
            l->to = l->from;
            return;
        }
        last = k->from == l->from ? j : last;
    }
    if (last != i) {
        l->kind = L_SKIP;
        s->l[last].destroys = true;
    }
}

/* fix applies Mermaid's rules: a created participant must not appear
 * before its creation (else it is declared instead), and a destroyed one
 * must appear nowhere after (else its stop is a note). */
static void
fix(seq *s, bool *declared)
{
    bool *seen = at_calloc(s->n_parts + 1, sizeof(bool));
    for (size_t i = 0; i < s->n; i++) {
        line *l = &s->l[i];
        if (l->kind == L_CREATE && seen[l->to]) {
            l->kind = L_ARROW;
        }
        if (!seen[l->from]) {
            declared[l->from] = true;
        }
        if (!seen[l->to] && l->kind != L_CREATE) {
            declared[l->to] = true;
        }
        seen[l->from] = seen[l->to] = true;
    }
    for (size_t i = 0; i < s->n; i++) {
        if (s->l[i].kind == L_DESTROY) {
            fix_destroy(s, i);
        }
    }
    free(seen);
}

static void
alias(at_out *o, seq *s, uint32_t p)
{
    at_actor *a = s->t->actors[s->part_actor[p]];
    char label[300];
    sanitise(label, sizeof(label), at_actor_label(s->t, a));
    at_out_printf(o, "participant p%u as %s\n", p, label);
}

static void
write_line(at_out *o, seq *s, const line *l)
{
    if (l->destroys) {
        at_out_printf(o, "destroy p%u\n", l->from);
    }
    switch (l->kind) {
    case L_ARROW:
        at_out_printf(o, "p%u-)p%u: %s\n", l->from, l->to, l->text);
        break;
    case L_DEAD:
        at_out_printf(o, "p%u-xp%u: %s\n", l->from, l->to, l->text);
        break;
    case L_NOTE:
        at_out_printf(o, "Note over p%u: %s\n", l->from, l->text);
        break;
    case L_CREATE:
        at_out_str(o, "create ");
        alias(o, s, l->to);
        at_out_printf(o, "p%u-)p%u: %s\n", l->from, l->to, l->text);
        break;
    case L_DESTROY:
        at_out_printf(o, "destroy p%u\np%u--xp%u: %s\n", l->from, l->from,
                      l->to, l->text);
        break;
    default:
        break;
    }
}

static void
write_seq(at_out *o, seq *s, unsigned max_arrows)
{
    bool *declared = at_calloc(s->n_parts + 1, sizeof(bool));
    qsort(s->l, s->n, sizeof(*s->l), by_time);
    fix(s, declared);
    char d[32];
    at_out_printf(o,
                  "sequenceDiagram\n%%%% acto flow %llu: %zu messages "
                  "over %s\n",
                  (unsigned long long)s->fm->flow, s->fm->n,
                  at_fmt_dur(s->fm->t1 - s->fm->t0, d));
    for (uint32_t p = 0; p < s->n_parts; p++) {
        if (declared[p]) {
            alias(o, s, p);
        }
    }
    unsigned arrows = 0;
    size_t i = 0;
    for (; i < s->n; i++) {
        if (arrows >= max_arrows || o->total >= MAX_CHARS) {
            break;
        }
        arrows += s->l[i].kind != L_NOTE && s->l[i].kind != L_SKIP;
        write_line(o, s, &s->l[i]);
    }
    if (i < s->n) {
        uint32_t first = 0;
        while (first < s->n_parts && !declared[first]) {
            first++;
        }
        at_out_printf(o,
                      "Note over p%u: CUT HERE - %zu more lines not shown "
                      "(limit %u arrows or %d characters)\n",
                      first, s->n - i, max_arrows, MAX_CHARS);
    }
    free(declared);
}

int
at_cmd_seq(const at_args *args)
{
    at_trace t;
    if (at_trace_open(&t, args->trace) != AT_OK) {
        return AT_FAIL;
    }
    flow_model fm;
    int rc = flow_load(&t, args->id, false, &fm);
    if (rc != AT_OK) {
        at_trace_close(&t);
        return rc;
    }
    seq s = {.t = &t, .fm = &fm};
    for (size_t i = 0; i < fm.n; i++) {
        add_message(&s, &fm.m[i]);
    }
    add_lifecycles(&s);
    for (size_t i = 0; i < fm.n_restarts; i++) {
        const frestart *r = &fm.restarts[i];
        uint32_t p = part(&s, r->sup);
        add(&s, r->ts, L_NOTE, p, p, "restarted %s (restart %u)",
            at_actor_label(&t, at_actor_of(&t, r->child)), r->count);
    }
    at_out o;
    int err = at_out_open(&o, args->out);
    if (err != 0) {
        fprintf(stderr, "acto-trace: %s: %s\n", args->out, strerror(err));
        rc = AT_FAIL;
    } else {
        write_seq(&o, &s, args->max_arrows);
        if ((err = at_out_close(&o)) != 0) {
            fprintf(stderr, "acto-trace: %s: %s\n", o.path, strerror(err));
            rc = AT_FAIL;
        }
    }
    free(s.l);
    free(s.part_actor);
    flow_free(&fm);
    at_trace_close(&t);
    return rc;
}
