/* acto-demo: acto's three uses at once, with no server to start.
 *
 *   acto-demo [--input FILE] [--workers N] [--out DIR] [--no-trace] ...
 *
 * A supervised service (a root supervisor over a log-processing
 * pipeline) reads a web server's access log it generated (a fixed seed),
 * parses it with a pool of workers that crash on malformed lines (each
 * restarted, the line quarantined), counts requests by status code and
 * path, asks a slow "geo" service where the clients are (some asks time
 * out), and traces the whole run. At the end it writes the report, the
 * trace, its Perfetto JSON and its HTML report into one folder and says
 * what to open. See demo.h for the tree and the pipeline. */
#include "at.h"
#include "demo.h"
#include "tool_num.h"

#include <acto/signals.h>
#include <acto/tracefile.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_LINES 300000
#define DEFAULT_SEED 42
#define DEFAULT_WORKERS 4
#define MAX_WORKERS 64
#define DEFAULT_DEADLINE_MS 25
#define DEFAULT_SAMPLE 0.05
#define DEFAULT_OUT "acto-demo-out"

/* ---- options ---------------------------------------------------------- */

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: acto-demo [options]\n"
            "\n"
            "Runs a supervised log-processing service on acto and traces it:\n"
            "a generated web-server access log (or yours) is read, parsed by\n"
            "a pool of workers that crash on malformed lines (each crashed\n"
            "worker is restarted, its line quarantined), counted by status\n"
            "code and path, and enriched by a slow geo-lookup service that\n"
            "some asks time out on. Ctrl-C stops the service tree\n"
            "gracefully and still writes everything. The output folder\n"
            "gets access.log (when generated), report.txt, quarantine.log,\n"
            "trace.acto (acto-trace reads it), trace.json (open it in\n"
            "https://ui.perfetto.dev) and trace.html (any browser).\n"
            "\n"
            "  --input FILE    read this access log (combined format) instead\n"
            "                  of generating one\n"
            "  --lines N       lines to generate (default %d)\n"
            "  --seed N        the generator's seed (default %d)\n"
            "  --workers N     parser workers, 1 to %d (default %d)\n"
            "  --out DIR       the output folder, made if missing (default\n"
            "                  ./%s)\n"
            "  --deadline MS   how long the aggregator waits for a geo\n"
            "                  answer (default %d; some take 30-90 ms)\n"
            "  --no-trace      no tracing: no trace file, JSON or HTML\n"
            "  --sample F      the share of log lines whose whole journey\n"
            "                  is traced, 0 to 1 (default %g; 1: every\n"
            "                  line, a large trace); failures, restarts and\n"
            "                  the tree's life are always traced\n"
            "  --rate N        replay the log at N lines a second (default:\n"
            "                  as fast as it goes)\n"
            "  -h, --help      print this help\n"
            "\n"
            "Exit status: 0 when the log was processed, 1 on an error (an\n"
            "unreadable input, a folder that cannot be written), 2 for bad\n"
            "usage, 128+N when signal N stopped it (130 for Ctrl-C).\n",
            DEFAULT_LINES, DEFAULT_SEED, MAX_WORKERS, DEFAULT_WORKERS,
            DEFAULT_OUT, DEFAULT_DEADLINE_MS, DEFAULT_SAMPLE);
}

static int bad_usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int
bad_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "acto-demo: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(acto-demo --help lists the options)\n");
    va_end(ap);
    return 2;
}

/* number_opt reads the value of option argv[*i] into *out. Returns -1,
 * or the usage status. */
static int
number_opt(char **argv, int *i, uint64_t min, uint64_t max, uint64_t *out)
{
    const char *name = argv[*i], *v = argv[++*i];
    if (!tool_parse_u64(v, 10, min, max, out)) {
        return bad_usage("%s takes a number from %llu to %llu, not '%s'", name,
                         (unsigned long long)min, (unsigned long long)max, v);
    }
    return -1;
}

static const char *const valued[] = {"--input",   "--lines", "--seed",
                                     "--workers", "--out",   "--deadline",
                                     "--sample",  "--rate",  NULL};

static bool
takes_value(const char *s)
{
    for (size_t i = 0; valued[i] != NULL; i++) {
        if (strcmp(s, valued[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* parse_numbers handles the numeric options. Returns -1 to go on, else
 * an exit status; 0 when s is not one of them. */
static int
parse_numbers(demo_opts *o, char **argv, int *i)
{
    const char *s = argv[*i];
    uint64_t v;
    int rc;
    if (strcmp(s, "--lines") == 0) {
        rc = number_opt(argv, i, 1, 100000000, &o->lines);
    } else if (strcmp(s, "--seed") == 0) {
        rc = number_opt(argv, i, 0, UINT64_MAX, &o->seed);
    } else if (strcmp(s, "--workers") == 0) {
        rc = number_opt(argv, i, 1, MAX_WORKERS, &v);
        o->workers = (uint32_t)v;
    } else if (strcmp(s, "--deadline") == 0) {
        rc = number_opt(argv, i, 1, 60000, &v);
        o->deadline_ms = (uint32_t)v;
    } else if (strcmp(s, "--rate") == 0) {
        rc = number_opt(argv, i, 1, 100000000, &v);
        o->rate = (uint32_t)v;
    } else {
        return 0;
    }
    return rc;
}

/* parse_args fills o. Returns -1 to go on, else an exit status. */
static int
parse_args(demo_opts *o, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        int rc;
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(s, "--no-trace") == 0) {
            o->trace = false;
        } else if (!takes_value(s)) {
            return bad_usage("unknown option '%s'", s);
        } else if (i + 1 == argc) {
            return bad_usage("%s needs a value", s);
        } else if ((rc = parse_numbers(o, argv, &i)) != 0) {
            if (rc >= 0) {
                return rc;
            }
        } else if (strcmp(s, "--input") == 0) {
            o->input = argv[++i];
        } else if (strcmp(s, "--out") == 0) {
            o->out = argv[++i];
        } else { /* --sample */
            char *end;
            o->sample = strtod(argv[++i], &end);
            if (*end != '\0' || end == argv[i] || !(o->sample > 0) ||
                o->sample > 1) {
                return bad_usage("--sample takes a share above 0, at most "
                                 "1, not '%s'",
                                 argv[i]);
            }
        }
    }
    if (o->out[0] == '\0') {
        return bad_usage("--out needs a folder name");
    }
    return -1;
}

/* ---- files ------------------------------------------------------------ */

/* make_dirs makes path and its missing parents. Returns 0 or errno. */
static int
make_dirs(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
        return ENAMETOOLONG;
    }
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
                return errno;
            }
            *p = c;
            if (c == '\0') {
                break;
            }
        }
    }
    struct stat st;
    return stat(path, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

static bool
join(char *buf, size_t size, const char *dir, const char *name)
{
    return snprintf(buf, size, "%s/%s", dir, name) < (int)size;
}

/* check_input tells, before anything starts, why a file cannot be read. */
static int
check_input(const char *path)
{
    struct stat st;
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "acto-demo: cannot read --input %s: %s\n", path,
                strerror(errno));
        return 1;
    }
    int err = fstat(fd, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
    close(fd);
    if (err != 0) {
        fprintf(stderr, "acto-demo: cannot read --input %s: %s\n", path,
                strerror(err));
        return 1;
    }
    return 0;
}

/* prepare makes the folder, the paths and the input. Returns -1 to go
 * on, else an exit status. */
static int
prepare(demo_app *a, char *input, size_t size)
{
    int err = make_dirs(a->o.out);
    if (err != 0) {
        fprintf(stderr, "acto-demo: cannot make the folder %s: %s\n", a->o.out,
                strerror(err));
        return 1;
    }
    const char *d = a->o.out;
    if (!join(a->trace_path, sizeof(a->trace_path), d, "trace.acto") ||
        !join(a->json_path, sizeof(a->json_path), d, "trace.json") ||
        !join(a->html_path, sizeof(a->html_path), d, "trace.html") ||
        !join(a->report_path, sizeof(a->report_path), d, "report.txt") ||
        !join(a->quarantine_path, sizeof(a->quarantine_path), d,
              "quarantine.log") ||
        !join(input, size, d, "access.log")) {
        fprintf(stderr, "acto-demo: the folder name is too long\n");
        return 1;
    }
    if (a->o.input != NULL) {
        a->input = a->o.input;
        return check_input(a->input) == 0 ? -1 : 1;
    }
    a->input = input;
    printf("acto-demo: generating %s (%llu lines, seed %llu)\n", input,
           (unsigned long long)a->o.lines, (unsigned long long)a->o.seed);
    if ((err = demo_generate(input, a->o.lines, a->o.seed,
                             &a->generated_bad)) != 0) {
        fprintf(stderr, "acto-demo: cannot write %s: %s\n", input,
                strerror(err));
        return 1;
    }
    return -1;
}

/* ---- tracing ---------------------------------------------------------- */

static void
on_trace_closed(const acto_tracefile_stats *s, void *user)
{
    demo_app *a = user;
    a->trace_bytes = s->bytes;
    a->trace_status = s->status;
}

static const char *const type_names[] = {
    [T_LINE] = "LogLine",          [T_RECORD] = "Record",
    [T_SUMMARY] = "Summary",       [T_GEO_ASK] = "GeoAsk",
    [T_GEO_DUE] = "GeoReplyDue",   [T_GEO_REPLY] = "GeoReply",
    [T_LOGS_DONE] = "PipelineDone"};

/* start_trace turns tracing on into trace.acto. Returns 0 or an error. */
static int
start_trace(demo_app *a)
{
    acto_tracefile_opts to = {.on_close = on_trace_closed, .on_close_user = a};
    acto_trace_sink sink;
    int rc = acto_tracefile_open(a->trace_path, &to, &sink);
    if (rc != 0) {
        fprintf(stderr, "acto-demo: cannot write %s: %s\n", a->trace_path,
                acto_strerror(rc));
        return rc;
    }
    for (uint32_t t = 1; t < T_TYPES_END && rc == 0; t++) {
        rc = acto_tracefile_name_type(&sink, t, type_names[t]);
    }
    if (acto_trace_enabled(a->sys)) {
        (void)acto_trace_stop(a->sys); /* ACTO_TRACE=...: ours instead */
    }
    acto_trace_opts o = {.sample = a->o.sample >= 1 ? 0 : a->o.sample,
                         .seed = a->o.seed};
    if (rc == 0) {
        rc = acto_trace_start(a->sys, &sink, &o);
    }
    if (rc != 0) {
        sink.close(sink.user);
        fprintf(stderr, "acto-demo: cannot trace: %s\n", acto_strerror(rc));
        return rc;
    }
    a->traced = true;
    return 0;
}

/* export writes the Perfetto JSON and the HTML report from the trace. */
static int export(demo_app *a)
{
    at_args ta = {.trace = a->trace_path,
                  .out = a->json_path,
                  .max_events = 1000000,
                  .max_arrows = 500,
                  .max_edges = 200,
                  .quiet = true};
    int rc = at_cmd_perfetto(&ta);
    ta.out = a->html_path;
    if (at_cmd_html(&ta) != AT_OK) {
        rc = AT_FAIL;
    }
    return rc;
}

/* ---- running ---------------------------------------------------------- */

/* collect reads the counters once the loop is over. */
static void
collect(demo_app *a)
{
    (void)acto_pipeline_stats(a->p, a->read, &a->read_st);
    (void)acto_pipeline_stats(a->p, a->parse, &a->parse_st);
    (void)acto_pipeline_stats(a->p, a->aggregate, &a->agg_st);
    (void)acto_pipeline_stats(a->p, a->report, &a->report_st);
    acto_stats st;
    acto_system_stats(a->sys, &st);
    a->late_replies = st.late_replies;
    a->dead_letters = st.dead_letters;
    if (a->traced) {
        acto_trace_get_stats(a->sys, &a->trace_st);
        (void)acto_trace_stop(a->sys);
    }
}

/* run runs the tree until the job is over or a signal stopped it.
 * Returns 0 or an error before it could start. */
static int
run(demo_app *a)
{
    int rc = acto_system_alloc(NULL, &a->sys);
    if (rc != 0) {
        fprintf(stderr, "acto-demo: %s\n", acto_strerror(rc));
        return rc;
    }
    if (a->o.trace && (rc = start_trace(a)) != 0) {
        (void)acto_system_free(a->sys);
        return rc;
    }
    if ((rc = demo_start_tree(a)) != 0) {
        fprintf(stderr, "acto-demo: the service did not start: %s\n",
                acto_strerror(rc));
        if (a->sig != NULL) {
            (void)acto_signals_stop(a->sig);
        }
    } else {
        printf("acto-demo: started: %u parsers on %s; Ctrl-C stops it "
               "cleanly\n",
               a->o.workers, a->input);
        fflush(stdout);
    }
    (void)acto_system_run(a->sys);
    demo_finish_pipeline(a);
    if (a->p != NULL) {
        collect(a);
        (void)acto_pipeline_free(a->p);
    } else if (a->traced) {
        (void)acto_trace_stop(a->sys);
    }
    acto_future_release(a->done);
    demo_pacer_free(a->pacer);
    (void)acto_system_free(a->sys);
    return rc;
}

/* write_quarantine writes the quarantined lines kept. */
static int
write_quarantine(const demo_app *a)
{
    FILE *f = fopen(a->quarantine_path, "w");
    if (f == NULL) {
        return errno;
    }
    size_t len = a->quarantine.len; /* none kept: no buffer either */
    int err =
        len > 0 && fwrite(a->quarantine.buf, 1, len, f) != len ? errno : 0;
    return fclose(f) != 0 && err == 0 ? errno : err;
}

/* finish writes the files and prints the summary. Returns the exit
 * status. */
static int
finish(demo_app *a)
{
    int err = demo_write_report(a, a->report_path);
    if (err == 0) {
        err = write_quarantine(a);
    }
    if (err != 0) {
        fprintf(stderr, "acto-demo: cannot write in %s: %s\n", a->o.out,
                strerror(err));
    }
    if (a->traced && a->trace_status == 0) {
        a->export_status = export(a);
    }
    demo_print_summary(a);
    if (a->signo != 0) {
        return 128 + a->signo;
    }
    bool ok = err == 0 && a->finished && a->trace_status == 0 &&
              a->export_status == 0;
    return ok ? 0 : 1;
}

int
main(int argc, char **argv)
{
    static demo_app a = {.o = {.out = DEFAULT_OUT,
                               .lines = DEFAULT_LINES,
                               .seed = DEFAULT_SEED,
                               .workers = DEFAULT_WORKERS,
                               .deadline_ms = DEFAULT_DEADLINE_MS,
                               .sample = DEFAULT_SAMPLE,
                               .trace = true}};
    static char input[4096];
    int status = parse_args(&a.o, argc, argv);
    if (status < 0) {
        status = prepare(&a, input, sizeof(input));
    }
    if (status >= 0) {
        return status;
    }
    a.geo_state.rng = a.o.seed * 0x9E3779B97F4A7C15ULL + 7;
    a.agg.app = &a;
    setenv("ACTO_TRACE_NO_PROGRESS", "1", 1);
    status = run(&a) != 0 ? 1 : finish(&a);
    demo_agg_free(&a.agg);
    free(a.quarantine.buf);
    return status;
}
