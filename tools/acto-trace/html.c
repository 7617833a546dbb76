/* acto-trace html: one self-contained HTML report, with no network
 * request (inline CSS, JS and SVG only): the trace's totals, the topology
 * of the busiest actors, a timeline of how busy each of the busiest
 * actors was (a second pass), and the per-actor table (sortable). */
#include "at.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TOPO_NODES 24
#define PI_ 3.14159265358979323846
#define TIME_ROWS 30
#define BUCKETS 200
#define TABLE_ROWS 2000

typedef struct row {
    uint32_t ix;
    uint64_t key;
} row;

static int
by_key(const void *x, const void *y)
{
    const row *a = x, *b = y;
    if (a->key != b->key) {
        return a->key > b->key ? -1 : 1;
    }
    return a->ix < b->ix ? -1 : a->ix > b->ix;
}

/* top lists the actors by key, largest first; returns how many. */
static size_t
top(at_trace *t, row *out, size_t max, bool by_traffic)
{
    row *all = at_alloc(t->n_actors * sizeof(*all));
    size_t n = 0;
    for (uint32_t i = 0; i < t->n_actors; i++) {
        at_actor *a = t->actors[i];
        uint64_t k = by_traffic ? a->in + a->out : a->handled;
        if (k > 0 || (by_traffic && a->failures > 0)) {
            all[n++] = (row){i, k};
        }
    }
    qsort(all, n, sizeof(*all), by_key);
    n = n < max ? n : max;
    memcpy(out, all, n * sizeof(*all));
    free(all);
    return n;
}

static const char style[] =
    "<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}"
    "h1{font-size:20px}h2{font-size:16px;margin-top:28px}"
    "table{border-collapse:collapse}td,th{padding:3px 8px;border-bottom:1px "
    "solid #ddd;text-align:right}td:first-child,th:first-child{text-align:"
    "left}th{cursor:pointer;background:#f4f4f4}.bad{color:#c00;font-weight:"
    "bold}svg text{font:11px sans-serif}.note{color:#666}</style>\n";

/* The page's script: sortable columns (the sort kept in the URL's hash,
 * "#sort=3" or "#sort=-3", so a link opens the page sorted), then a mark
 * of what rendered: per part, the elements with a box on screen out of
 * those in the page ("timeline 5/5"); a test reads it back. */
static const char script[] =
    "<script>\n"
    "(function(){\n"
    "var table=document.getElementById('actors');\n"
    "function sortBy(i,asc){\n"
    " var tb=table.tBodies[0],th=table.tHead.rows[0].cells[i];\n"
    " if(!th)return;\n"
    " var rows=Array.prototype.slice.call(tb.rows);\n"
    " th.dataset.asc=asc?'1':'0';\n"
    " rows.sort(function(a,b){\n"
    "  var x=a.cells[i].dataset.v||a.cells[i].textContent;\n"
    "  var y=b.cells[i].dataset.v||b.cells[i].textContent;\n"
    "  var nx=parseFloat(x),ny=parseFloat(y);\n"
    "  var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);\n"
    "  return asc?c:-c;});\n"
    " rows.forEach(function(r){tb.appendChild(r);});\n"
    " history.replaceState(null,'','#sort='+(asc?'':'-')+i);}\n"
    "Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,i){\n"
    " th.addEventListener('click',function(){sortBy(i,th.dataset.asc!=='1');"
    "});});\n"
    "var m=/^#sort=(-?)([0-9]+)$/.exec(location.hash);\n"
    "if(m)sortBy(+m[2],m[1]!=='-');\n"
    "function shown(sel){\n"
    " var all=document.querySelectorAll(sel),n=0;\n"
    " all.forEach(function(e){var r=e.getBoundingClientRect();\n"
    "  if(r.width>0&&r.height>0)n++;});\n"
    " return n+'/'+all.length;}\n"
    "document.documentElement.dataset.actoRendered='topology '+\n"
    " shown('#topology circle')+' timeline '+shown('#timeline text')+\n"
    " ' table '+shown('#actors tbody tr');\n"
    "})();\n"
    "</script>\n";

static void
topology(at_out *o, at_trace *t, const at_edge *edges, size_t n_edges,
         unsigned max_edges)
{
    row nodes[TOPO_NODES];
    size_t n = top(t, nodes, TOPO_NODES, true);
    const double cx = 420, cy = 310, rad = 240;
    for (uint32_t i = 0; i < t->n_actors; i++) {
        t->actors[i]->aux = 0;
    }
    double x[TOPO_NODES], y[TOPO_NODES];
    for (size_t i = 0; i < n; i++) {
        double a = 2 * PI_ * (double)i / (double)(n ? n : 1) - PI_ / 2;
        x[i] = cx + rad * cos(a);
        y[i] = cy + rad * sin(a);
        t->actors[nodes[i].ix]->aux = i + 1;
    }
    at_out_str(o, "<h2>Topology</h2>\n<p class=note>The busiest actors by "
                  "messages in and out, the busiest edges between them "
                  "with their message counts; failing actors in red.</p>\n"
                  "<svg id=topology width=840 height=620 "
                  "viewBox=\"0 0 840 620\">"
                  "<defs><marker id=arr viewBox=\"0 0 10 10\" refX=10 "
                  "refY=5 markerWidth=6 markerHeight=6 orient=auto>"
                  "<path d=\"M0,0L10,5L0,10z\" fill=\"#888\"/></marker>"
                  "</defs>\n");
    size_t drawn = 0;
    for (size_t i = 0; i < n_edges && drawn < max_edges; i++) {
        uint64_t a = t->actors[edges[i].from]->aux;
        uint64_t b = t->actors[edges[i].to]->aux;
        if (a == 0 || b == 0 || a == b) {
            continue;
        }
        drawn++;
        double x1 = x[a - 1], y1 = y[a - 1], x2 = x[b - 1], y2 = y[b - 1];
        double dx = x2 - x1, dy = y2 - y1, len = sqrt(dx * dx + dy * dy);
        double ux = len > 0 ? dx / len : 0, uy = len > 0 ? dy / len : 0;
        double w = 1 + log2((double)edges[i].count) / 2;
        at_out_printf(o,
                      "<line x1=%.1f y1=%.1f x2=%.1f y2=%.1f "
                      "stroke=\"#888\" stroke-width=%.1f "
                      "marker-end=\"url(#arr)\"/>"
                      "<text x=%.1f y=%.1f fill=\"#555\">%llu</text>\n",
                      x1 + ux * 22, y1 + uy * 22, x2 - ux * 24, y2 - uy * 24, w,
                      (x1 + x2) / 2 + 4, (y1 + y2) / 2 - 4,
                      (unsigned long long)edges[i].count);
    }
    for (size_t i = 0; i < n; i++) {
        at_actor *a = t->actors[nodes[i].ix];
        at_out_printf(o,
                      "<circle cx=%.1f cy=%.1f r=20 fill=\"%s\" "
                      "stroke=\"%s\"><title>",
                      x[i], y[i], a->failures ? "#ffd6d6" : "#eef3ff",
                      a->failures ? "#c00" : "#46a");
        at_out_html(o, at_actor_label(t, a));
        at_out_printf(o,
                      ": in %llu, out %llu, failures %llu</title>"
                      "</circle><text x=%.1f y=%.1f text-anchor=middle>",
                      (unsigned long long)a->in, (unsigned long long)a->out,
                      (unsigned long long)a->failures, x[i], y[i] + 34);
        at_out_html(o, at_actor_label(t, a));
        at_out_str(o, "</text>\n");
    }
    at_out_str(o, "</svg>\n");
}

/* timeline reads the trace again, summing each row's busy time per
 * bucket, and draws it. */
static int
timeline(at_out *o, at_trace *t)
{
    row rows[TIME_ROWS];
    size_t n = top(t, rows, TIME_ROWS, false);
    uint64_t t0 = t->first_ts, span = t->last_ts - t->first_ts + 1;
    double bw = (double)span / BUCKETS;
    double *busy = at_calloc(n * BUCKETS, sizeof(double));
    for (uint32_t i = 0; i < t->n_actors; i++) {
        t->actors[i]->aux = 0;
        t->actors[i]->open_msg = 0;
    }
    for (size_t i = 0; i < n; i++) {
        t->actors[rows[i].ix]->aux = i + 1;
    }
    at_out_str(o, "<h2>Timeline</h2>\n<p class=note>How busy the busiest "
                  "actors were (darker: a larger share of the time spent "
                  "handling); red ticks: failures, black: dead letters."
                  "</p>\n");
    at_out_printf(o,
                  "<svg id=timeline width=1060 height=%zu "
                  "viewBox=\"0 0 1060 %zu\">\n",
                  n * 20 + 30, n * 20 + 30);
    if (at_trace_rewind(t) != AT_OK) {
        free(busy);
        return AT_FAIL;
    }
    acto_trace_event e;
    while (at_trace_next(t, &e) == 1) {
        bool mine = e.kind == ACTO_TRACE_DEAD || e.kind == ACTO_TRACE_DROP;
        at_actor *a = at_actor_find(t, mine ? e.peer : e.actor);
        if (a == NULL || a->aux == 0) {
            continue;
        }
        size_t r = (size_t)a->aux - 1;
        double rel = (double)(e.ts - t0);
        if (e.kind == ACTO_TRACE_HANDLE) {
            a->open_msg = e.msg;
            a->open_ts = e.ts;
        } else if (e.kind == ACTO_TRACE_HANDLED && a->open_msg == e.msg) {
            double s = (double)(a->open_ts - t0), end = rel;
            for (size_t b = (size_t)(s / bw); b < BUCKETS && b * bw < end;
                 b++) {
                double lo = b * bw > s ? b * bw : s;
                double hi = (b + 1) * bw < end ? (b + 1) * bw : end;
                busy[r * BUCKETS + b] += hi > lo ? hi - lo : 0;
            }
            a->open_msg = 0;
        } else if (e.kind == ACTO_TRACE_FAIL || mine) {
            at_out_printf(o,
                          "<rect x=%.1f y=%zu width=2 height=16 "
                          "fill=\"%s\"/>\n",
                          200 + rel / (double)span * 840, r * 20 + 2,
                          mine ? "#000" : "#c00");
        }
    }
    for (size_t r = 0; r < n; r++) {
        at_out_printf(o, "<text x=0 y=%zu>", r * 20 + 14);
        at_out_html(o, at_actor_label(t, t->actors[rows[r].ix]));
        at_out_str(o, "</text>\n");
        for (size_t b = 0; b < BUCKETS; b++) {
            double share = busy[r * BUCKETS + b] / bw;
            if (share > 0) {
                at_out_printf(o,
                              "<rect x=%.1f y=%zu width=4.2 height=16 "
                              "fill=\"#36c\" fill-opacity=\"%.2f\"/>",
                              200 + b * 4.2, r * 20 + 2,
                              0.15 + 0.85 * (share > 1 ? 1 : share));
            }
        }
        at_out_ch(o, '\n');
    }
    char d[32];
    at_out_printf(o,
                  "<text x=200 y=%zu>0</text><text x=1040 y=%zu "
                  "text-anchor=end>%s</text>\n</svg>\n",
                  n * 20 + 22, n * 20 + 22, at_fmt_dur(span - 1, d));
    free(busy);
    return AT_OK;
}

static void
cell_dur(at_out *o, uint64_t ns)
{
    char d[32];
    at_out_printf(o, "<td data-v=%llu>%s</td>", (unsigned long long)ns,
                  at_fmt_dur(ns, d));
}

static void
table(at_out *o, at_trace *t)
{
    at_out_str(o,
               "<h2>Actors</h2>\n<p class=note>Click a column to sort. "
               "Handle time: handling a message; wait: from its send "
               "to the start of its handling.</p>\n<table id=actors><thead><tr>"
               "<th>actor</th><th>in</th><th>out</th><th>handled</th>"
               "<th>handle p50</th><th>p99</th><th>max</th>"
               "<th>wait p50</th><th>p99</th><th>peak mailbox</th>"
               "<th>failures</th><th>restarts</th><th>dead letters</th>"
               "<th>dropped</th></tr></thead><tbody>\n");
    size_t shown = 0, active = 0;
    for (size_t i = 0; i < t->n_actors; i++) {
        at_actor *a = t->actors[i];
        if (!(a->in || a->out || a->handled || a->failures || a->spawned)) {
            continue;
        }
        if (active++ >= TABLE_ROWS) {
            continue;
        }
        shown++;
        at_out_str(o, "<tr><td>");
        at_out_html(o, at_actor_label(t, a));
        at_out_printf(o, "</td><td>%llu</td><td>%llu</td><td>%llu</td>",
                      (unsigned long long)a->in, (unsigned long long)a->out,
                      (unsigned long long)a->handled);
        cell_dur(o, at_vec_pct(&a->handle_ns, 0.5));
        cell_dur(o, at_vec_pct(&a->handle_ns, 0.99));
        cell_dur(o, at_vec_max(&a->handle_ns));
        cell_dur(o, at_vec_pct(&a->wait_ns, 0.5));
        cell_dur(o, at_vec_pct(&a->wait_ns, 0.99));
        at_out_printf(
            o,
            "<td>%llu</td><td%s>%llu</td><td>%llu</td>"
            "<td>%llu</td><td>%llu</td></tr>\n",
            (unsigned long long)a->peak_depth, a->failures ? " class=bad" : "",
            (unsigned long long)a->failures, (unsigned long long)a->restarts,
            (unsigned long long)a->dead, (unsigned long long)a->dropped);
    }
    at_out_str(o, "</tbody></table>\n");
    if (shown < active) {
        at_out_printf(o, "<p class=note>%zu more actors not shown.</p>\n",
                      active - shown);
    }
}

static void
summary(at_out *o, at_trace *t, const at_totals *tot)
{
    char d[32];
    at_out_str(o, "<h1>acto trace: ");
    at_out_html(o, t->path);
    at_out_printf(
        o,
        "</h1>\n<p>%llu events over %s; %llu sends, %llu "
        "handled, <span%s>%llu failures</span>, %llu restarts, "
        "%llu dead letters, %llu dropped; <span%s>%llu events "
        "lost</span>.",
        (unsigned long long)tot->events,
        at_fmt_dur(t->last_ts - t->first_ts, d), (unsigned long long)tot->sends,
        (unsigned long long)tot->handled, tot->failures ? " class=bad" : "",
        (unsigned long long)tot->failures, (unsigned long long)tot->restarts,
        (unsigned long long)tot->dead, (unsigned long long)tot->drops,
        tot->lost ? " class=bad" : "", (unsigned long long)tot->lost);
    if (t->info_ok) {
        at_out_printf(o, " Written by ");
        at_out_html(o, t->info.writer);
        at_out_printf(o, " (process %llu).", (unsigned long long)t->info.pid);
    }
    at_out_str(o, "</p>\n");
}

int
at_cmd_html(const at_args *args)
{
    at_trace t;
    if (at_trace_open(&t, args->trace) != AT_OK) {
        return AT_FAIL;
    }
    at_totals tot;
    at_map pairs = {0};
    at_stats_pass(&t, &tot, &pairs);
    if (at_trace_report(&t) != AT_OK) {
        at_map_free(&pairs);
        at_trace_close(&t);
        return AT_FAIL;
    }
    size_t n;
    at_edge *edges = at_edges_sorted(&pairs, &n);
    at_out o;
    int rc = AT_OK, err = at_out_open(&o, args->out);
    if (err != 0) {
        fprintf(stderr, "acto-trace: %s: %s\n", args->out, strerror(err));
        rc = AT_FAIL;
    } else {
        /* The policy makes the page's promise checkable: a browser
         * refuses any request it would make, and says so. */
        at_out_str(&o, "<!DOCTYPE html>\n<html lang=en><head><meta "
                       "charset=utf-8><meta http-equiv=Content-Security-Policy "
                       "content=\"default-src 'none'; style-src "
                       "'unsafe-inline'; script-src 'unsafe-inline'\">"
                       "<title>acto trace</title>\n");
        at_out_str(&o, style);
        at_out_str(&o, "</head><body>\n");
        summary(&o, &t, &tot);
        topology(&o, &t, edges, n, args->max_edges);
        rc = timeline(&o, &t);
        table(&o, &t);
        at_out_str(&o, script);
        at_out_str(&o, "</body></html>\n");
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
