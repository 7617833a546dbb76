/* acto-trace: reads acto trace files (protocols/TRACE-FORMAT.md) and
 * prints statistics, causal trees and checks, or exports them to the
 * viewers people use: Perfetto/Chrome JSON, OpenTelemetry JSON, Mermaid,
 * Graphviz and a self-contained HTML report. */
#include "at.h"
#include "tool_num.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage_text[] =
    "usage: acto-trace COMMAND [options] TRACE [ID]\n"
    "\n"
    "commands:\n"
    "  stats TRACE          per actor: messages in/out, handle time and\n"
    "                       mailbox wait p50/p99/max, peak mailbox depth,\n"
    "                       failures, restarts, dead letters; per message\n"
    "                       type: sent, handled, handle time; events lost\n"
    "  flow TRACE FLOW      the causal tree of one flow (FLOW: the id of its\n"
    "                       first message), each hop's queued and handled\n"
    "                       time, the critical path marked with '*'\n"
    "  why TRACE MSG        the chain of causes that led to message MSG\n"
    "  perfetto TRACE -o OUT.json\n"
    "                       Chrome trace JSON for ui.perfetto.dev and\n"
    "                       chrome://tracing; split into OUT.json,\n"
    "                       OUT.1.json, ... of at most --max-events events\n"
    "  otlp TRACE           OpenTelemetry JSON (OTLP): a span per handled\n"
    "                       message\n"
    "  seq TRACE FLOW       a Mermaid sequence diagram of one flow\n"
    "  graph TRACE          a Graphviz dot graph of who sent to whom\n"
    "  html TRACE           a self-contained HTML report (topology,\n"
    "                       timeline, per-actor table)\n"
    "  check TRACE          validates the trace; exits 1 on problems\n"
    "  dump TRACE           every event as a line of text\n"
    "  decode TRACE         reads every event and prints the rate\n"
    "\n"
    "options:\n"
    "  -o, --output FILE    write there (default: standard output)\n"
    "  --tsv                stats: tab-separated values, times in ns\n"
    "  --max-events N       perfetto: events per file (default 1000000)\n"
    "  --max-arrows N       seq: arrows before the diagram is cut (500)\n"
    "  --max-edges N        graph, html: edges kept, by count (200)\n"
    "  --time               print the elapsed time and rate on stderr\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit status: 0 fine, 1 a bad trace file or problems found (check),\n"
    "2 bad arguments.\n";

/* usage prints what is wrong (fmt with its one %s replaced by arg), then
 * the usage text; returns the usage status. */
static int
usage(const char *fmt, const char *arg)
{
    if (fmt != NULL) {
        const char *at = strstr(fmt, "%s");
        fputs("acto-trace: ", stderr);
        if (at != NULL) {
            fwrite(fmt, 1, (size_t)(at - fmt), stderr);
            fputs(arg, stderr);
            fputs(at + 2, stderr);
        } else {
            fputs(fmt, stderr);
        }
        fputs("\n\n", stderr);
    }
    fputs(usage_text, stderr);
    return AT_USAGE;
}

typedef struct command {
    const char *name;
    bool wants_id;
    int (*run)(const at_args *a);
} command;

static int
run_flow(const at_args *a)
{
    return at_cmd_flow(a, false);
}

static int
run_why(const at_args *a)
{
    return at_cmd_flow(a, true);
}

static const command commands[] = {
    {"stats", false, at_cmd_stats}, {"flow", true, run_flow},
    {"why", true, run_why},         {"perfetto", false, at_cmd_perfetto},
    {"otlp", false, at_cmd_otlp},   {"seq", true, at_cmd_seq},
    {"graph", false, at_cmd_graph}, {"html", false, at_cmd_html},
    {"check", false, at_cmd_check}, {"decode", false, at_cmd_decode},
    {"dump", false, at_cmd_dump},
};

/* An option taking a number; returns 0, or the usage status. */
static int
number_opt(int argc, char **argv, int *i, uint64_t *v)
{
    if (*i + 1 >= argc) {
        return usage("%s needs a value", argv[*i]);
    }
    if (!tool_parse_u64(argv[*i + 1], 0, 0, UINT64_MAX, v) || *v == 0) {
        return usage("not a positive number: '%s'", argv[*i + 1]);
    }
    ++*i;
    return 0;
}

static int
parse(int argc, char **argv, const command *c, at_args *a, bool *timed)
{
    const char *pos[2] = {NULL, NULL};
    int npos = 0;
    uint64_t v;
    int rc;
    for (int i = 2; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
            fputs(usage_text, stdout);
            exit(AT_OK);
        } else if (strcmp(s, "-o") == 0 || strcmp(s, "--output") == 0) {
            if (i + 1 >= argc) {
                return usage("%s needs a file name", s);
            }
            a->out = argv[++i];
        } else if (strcmp(s, "--tsv") == 0) {
            a->tsv = true;
        } else if (strcmp(s, "--time") == 0) {
            *timed = true;
        } else if (strcmp(s, "--max-events") == 0) {
            if ((rc = number_opt(argc, argv, &i, &v)) != 0) {
                return rc;
            }
            a->max_events = v;
        } else if (strcmp(s, "--max-arrows") == 0 ||
                   strcmp(s, "--max-edges") == 0) {
            if ((rc = number_opt(argc, argv, &i, &v)) != 0) {
                return rc;
            }
            unsigned u = v > 1000000 ? 1000000u : (unsigned)v;
            *(s[6] == 'a' ? &a->max_arrows : &a->max_edges) = u;
        } else if (s[0] == '-' && s[1] != '\0') {
            return usage("unknown option '%s'", s);
        } else if (npos < 2) {
            pos[npos++] = s;
        } else {
            return usage("too many arguments at '%s'", s);
        }
    }
    if (npos == 0) {
        return usage("%s needs a trace file", c->name);
    }
    a->trace = pos[0];
    if (c->wants_id) {
        if (npos < 2) {
            return usage("%s needs an id (a message id, as flow and stats "
                         "print them)",
                         c->name);
        }
        if (!tool_parse_u64(pos[1], 0, 0, UINT64_MAX, &a->id) || a->id == 0) {
            return usage("not a message id: '%s'", pos[1]);
        }
    } else if (npos > 1) {
        return usage("unexpected argument '%s'", pos[1]);
    }
    return 0;
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        return usage(NULL, NULL);
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage_text, stdout);
        return AT_OK;
    }
    const command *c = NULL;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            c = &commands[i];
        }
    }
    if (c == NULL) {
        return usage("unknown command '%s'", argv[1]);
    }
    at_args a = {.max_events = 1000000, .max_arrows = 500, .max_edges = 200};
    bool timed = false;
    int rc = parse(argc, argv, c, &a, &timed);
    if (rc != 0) {
        return rc;
    }
    if (strcmp(c->name, "perfetto") == 0 && a.out == NULL) {
        return usage("%s needs -o OUT.json (it may write several files)",
                     c->name);
    }
    double t0 = now_s();
    rc = c->run(&a);
    if (timed) {
        double dt = now_s() - t0;
        fprintf(stderr, "acto-trace: %s took %.3f s\n", c->name, dt);
    }
    return rc;
}
