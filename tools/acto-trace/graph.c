/* acto-trace graph: the actor topology as Graphviz dot. An edge per
 * (sender, receiver) pair labelled with its message count, the
 * --max-edges busiest kept (dot slows to minutes on dense graphs: see
 * FIELD-NOTES), failing actors in red, dead letters noted. */
#include "at.h"

#include <stdlib.h>
#include <string.h>

/* dot_str writes s inside a dot "..." string. */
static void
dot_str(at_out *o, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\') {
            at_out_ch(o, '\\');
        }
        if ((unsigned char)*s < 0x20) {
            at_out_ch(o, ' ');
            continue;
        }
        at_out_ch(o, *s);
    }
}

static void
node(at_out *o, at_trace *t, uint32_t ix)
{
    at_actor *a = t->actors[ix];
    char ref[32];
    const char *n = at_actor_name(t, a);
    at_out_printf(o, "  a%u [label=\"", ix);
    if (a->ref == 0) {
        at_out_str(o, "outside\", shape=ellipse, fillcolor=\"#eeeeee\"];\n");
        return;
    }
    if (n != NULL) {
        dot_str(o, n);
        at_out_str(o, "\\n");
    }
    at_out_printf(o, "%s\\nhandled %llu", at_ref_str(a->ref, ref),
                  (unsigned long long)a->handled);
    if (a->failures > 0) {
        at_out_printf(o, "\\nfailures %llu", (unsigned long long)a->failures);
    }
    if (a->restarts > 0) {
        at_out_printf(o, "\\nrestarts %llu", (unsigned long long)a->restarts);
    }
    if (a->dead > 0) {
        at_out_printf(o, "\\ndead letters %llu", (unsigned long long)a->dead);
    }
    at_out_ch(o, '"');
    if (a->failures > 0) {
        at_out_str(o, ", color=\"#cc0000\", fillcolor=\"#ffd6d6\", "
                      "penwidth=2");
    } else if (a->dead > 0 || a->stopped) {
        at_out_str(o, ", style=\"rounded,filled,dashed\"");
    }
    at_out_str(o, "];\n");
}

static void
write_dot(at_out *o, at_trace *t, const at_edge *edges, size_t n, unsigned max)
{
    size_t shown = n < max ? n : max;
    uint64_t cut = 0;
    for (size_t i = shown; i < n; i++) {
        cut += edges[i].count;
    }
    at_out_str(o, "digraph acto {\n  graph [rankdir=LR, labelloc=t, "
                  "fontname=\"Helvetica\", label=\"");
    if (shown < n) {
        at_out_printf(o,
                      "acto trace: the %zu busiest of %zu edges; %llu "
                      "messages on the others not shown (--max-edges; try "
                      "sfdp for dense graphs)",
                      shown, n, (unsigned long long)cut);
    } else {
        at_out_printf(o, "acto trace: %zu edges", n);
    }
    at_out_str(o, "\"];\n  node [shape=box, style=\"rounded,filled\", "
                  "fillcolor=\"#eef3ff\", fontname=\"Helvetica\"];\n"
                  "  edge [fontname=\"Helvetica\", fontsize=10];\n");
    /* Nodes: those on a shown edge, and every failing actor. */
    for (size_t i = 0; i < t->n_actors; i++) {
        t->actors[i]->aux = 0;
    }
    for (size_t i = 0; i < shown; i++) {
        t->actors[edges[i].from]->aux = 1;
        t->actors[edges[i].to]->aux = 1;
    }
    for (uint32_t i = 0; i < t->n_actors; i++) {
        if (t->actors[i]->aux || t->actors[i]->failures > 0) {
            node(o, t, i);
        }
    }
    for (size_t i = 0; i < shown; i++) {
        const at_edge *e = &edges[i];
        at_out_printf(o, "  a%u -> a%u [label=\"%llu\"", e->from, e->to,
                      (unsigned long long)e->count);
        if (t->actors[e->to]->failures > 0) {
            at_out_str(o, ", color=\"#cc0000\"");
        }
        at_out_str(o, "];\n");
    }
    at_out_str(o, "}\n");
}

int
at_cmd_graph(const at_args *args)
{
    at_trace t;
    if (at_trace_open(&t, args->trace) != AT_OK) {
        return AT_FAIL;
    }
    at_totals tot;
    at_map pairs = {0};
    int rc = at_stats_pass(&t, &tot, &pairs);
    size_t n;
    at_edge *edges = at_edges_sorted(&pairs, &n);
    at_out o;
    int err = at_out_open(&o, args->out);
    if (err != 0) {
        fprintf(stderr, "acto-trace: %s: %s\n", args->out, strerror(err));
        rc = AT_FAIL;
    } else {
        write_dot(&o, &t, edges, n, args->max_edges);
        if ((err = at_out_close(&o)) != 0) {
            fprintf(stderr, "acto-trace: %s: %s\n", o.path, strerror(err));
            rc = AT_FAIL;
        }
    }
    if (at_trace_report(&t) != AT_OK) {
        rc = AT_FAIL;
    }
    free(edges);
    at_map_free(&pairs);
    at_trace_close(&t);
    return rc;
}
