/* acto-demo: report.txt and the summary printed at the end. */
#include "demo.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOP_ROWS 25

#ifndef ACTO_TRACE_BIN
#define ACTO_TRACE_BIN "acto-trace"
#endif

/* num formats v with thousands separators ("1,234,567"). */
static const char *
num(uint64_t v, char buf[32])
{
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
    int j = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0) {
            buf[j++] = ',';
        }
        buf[j++] = tmp[i];
    }
    buf[j] = '\0';
    return buf;
}

static double
seconds(const demo_app *a)
{
    return a->finished_ns > a->started_ns
               ? (double)(a->finished_ns - a->started_ns) / 1e9
               : 0;
}

/* lost counts the lines read that neither reached the report nor were
 * quarantined. */
static uint64_t
lost(const demo_app *a)
{
    uint64_t accounted = a->parse_st.quarantined + a->totals.records;
    return a->read_st.out > accounted ? a->read_st.out - accounted : 0;
}

static const char *
outcome(const demo_app *a, char *buf, size_t size)
{
    if (a->signo != 0) {
        snprintf(buf, size,
                 "interrupted by %s: the tree shut down gracefully, every "
                 "line read was finished",
                 a->signo == SIGINT ? "SIGINT (Ctrl-C)" : "a signal");
    } else if (a->failure != NULL) {
        snprintf(buf, size, "failed: %s", a->failure);
    } else if (!a->finished) {
        snprintf(buf, size, "stopped before the end");
    } else {
        snprintf(buf, size, "finished");
    }
    return buf;
}

/* counts writes the numbers the summary and the tests check. */
static void
counts(FILE *f, const demo_app *a)
{
    char b[6][32];
    const acto_stage_stats *r = &a->read_st, *p = &a->parse_st;
    fprintf(f, "lines read:          %s\n", num(r->out, b[0]));
    fprintf(f, "lines parsed:        %s\n", num(p->out, b[1]));
    fprintf(f, "lines quarantined:   %s (malformed; quarantine.log)\n",
            num(p->quarantined, b[2]));
    fprintf(f, "parser crashes:      %s\n", num(a->quarantine.lines, b[3]));
    fprintf(f, "parser restarts:     %s\n", num(p->restarts, b[4]));
    fprintf(f, "lines lost:          %s\n", num(lost(a), b[5]));
    fprintf(f, "records aggregated:  %s\n", num(a->agg.records, b[0]));
    fprintf(f, "records reported:    %s\n", num(a->totals.records, b[1]));
    fprintf(f, "geo asks:            %s\n", num(a->agg.asks, b[2]));
    fprintf(f, "geo answers:         %s\n", num(a->agg.answers, b[3]));
    fprintf(f, "geo timeouts:        %s (deadline %u ms)\n",
            num(a->agg.timeouts, b[4]), a->o.deadline_ms);
    fprintf(f, "geo failures:        %s\n", num(a->agg.failures, b[5]));
    fprintf(f, "late geo replies:    %s (dropped by the runtime)\n",
            num(a->late_replies, b[0]));
    fprintf(f, "records, no country: %s (their lookup timed out)\n",
            num(a->totals.no_country, b[1]));
}

static void
by_path(FILE *f, const demo_app *a)
{
    demo_entry *v = demo_table_sorted(&a->agg.table);
    size_t n = a->agg.table.n;
    if (v == NULL) {
        fprintf(f, "\n(no memory to sort the requests)\n");
        return;
    }
    fprintf(f, "\nrequests by status code and path (%zu pairs%s):\n", n,
            n > TOP_ROWS ? ", the busiest" : "");
    fprintf(f, "  %10s  %6s  %12s  %s\n", "requests", "status", "bytes",
            "path");
    for (size_t i = 0; i < n && i < TOP_ROWS; i++) {
        char b[2][32];
        fprintf(f, "  %10s  %6u  %12s  %s\n", num(v[i].count, b[0]),
                v[i].status, num(v[i].bytes, b[1]), v[i].path);
    }
    free(v);
}

static void
by_country(FILE *f, const demo_app *a)
{
    const demo_totals *t = &a->totals;
    fprintf(f, "\nrequests by client country:\n");
    for (size_t i = 0; i < DEMO_COUNTRIES; i++) {
        char b[32];
        fprintf(f, "  %s %10s  %5.1f%%\n", demo_country_names[i],
                num(t->country[i], b),
                t->records ? 100.0 * (double)t->country[i] / t->records : 0);
    }
    char b[32];
    fprintf(f, "  ?? %10s  %5.1f%%  (lookup timed out)\n",
            num(t->no_country, b),
            t->records ? 100.0 * (double)t->no_country / t->records : 0);
}

int
demo_write_report(const demo_app *a, const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        return errno;
    }
    char buf[640];
    fprintf(f,
            "acto-demo report\n\ninput:   %s\noutcome: %s\ntime:    %.2f s\n\n",
            a->input, outcome(a, buf, sizeof(buf)), seconds(a));
    counts(f, a);
    by_path(f, a);
    by_country(f, a);
    int err = ferror(f) ? EIO : 0;
    if (fclose(f) != 0 && err == 0) {
        err = errno;
    }
    return err;
}

/* ---- the summary ------------------------------------------------------- */

static bool
exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void
files(const demo_app *a)
{
    printf("\nFiles in %s/:\n", a->o.out);
    if (a->o.input == NULL) {
        printf("  access.log      the generated input (seed %llu)\n",
               (unsigned long long)a->o.seed);
    }
    printf("  report.txt      the counts above; requests by status and path, "
           "by country\n");
    printf("  quarantine.log  the malformed lines, as read\n");
    if (!a->traced) {
        printf("  (no trace: --no-trace)\n");
        return;
    }
    const char *tool =
        access(ACTO_TRACE_BIN, X_OK) == 0 ? ACTO_TRACE_BIN : "acto-trace";
    printf("  trace.acto      the trace; per actor statistics:\n"
           "                    %s stats %s\n",
           tool, a->trace_path);
    if (a->export_status != 0) {
        printf("  (the Perfetto JSON and HTML could not be written: see "
               "above)\n");
        return;
    }
    printf("  trace.json      the timeline: open https://ui.perfetto.dev and "
           "drop the file\n"
           "                  on it (a track per actor, an arrow per message; "
           "crashes,\n"
           "                  restarts and timed-out asks are marked)\n");
    char more[4200];
    snprintf(more, sizeof(more), "%s/trace.1.json", a->o.out);
    if (exists(more)) {
        printf("                  (split: trace.1.json, ... hold the rest)\n");
    }
    printf("  trace.html      a report to open in any browser: topology, "
           "timeline, actors\n");
}

void
demo_print_summary(const demo_app *a)
{
    char b[8][32], out[640];
    const acto_stage_stats *r = &a->read_st, *p = &a->parse_st;
    double s = seconds(a);
    printf("\nacto-demo: %s\n", outcome(a, out, sizeof(out)));
    printf("  tree     acto.root supervises geo (a slow lookup service) and "
           "logs\n           (read -> %u parsers -> batch -> aggregate -> "
           "report)\n",
           a->o.workers);
    printf("  lines    %s read in %.2f s (%s lines/s)\n           = %s "
           "parsed + %s quarantined\n",
           num(r->out, b[0]), s,
           num(s > 0 ? (uint64_t)((double)r->out / s) : 0, b[1]),
           num(p->out, b[2]), num(p->quarantined, b[3]));
    printf("  crashes  %s parser crashes on malformed lines: each line "
           "quarantined,\n           the parser restarted (%s restarts); "
           "%s lines lost\n",
           num(a->quarantine.lines, b[0]), num(p->restarts, b[1]),
           num(lost(a), b[2]));
    printf("  geo      %s asks: %s answered, %s timed out after %u ms "
           "(wait_for,\n           gather); %s records without a country\n",
           num(a->agg.asks, b[0]), num(a->agg.answers, b[1]),
           num(a->agg.timeouts, b[2]), a->o.deadline_ms,
           num(a->totals.no_country, b[3]));
    if (a->traced) {
        printf("  trace    %s events (%s lost), %.1f MB: every crash and "
               "restart, and\n           the whole journey of %g%% of the "
               "lines (--sample)\n",
               num(a->trace_st.recorded, b[0]), num(a->trace_st.lost, b[1]),
               (double)a->trace_bytes / 1e6, a->o.sample * 100);
    }
    files(a);
}
