/* The trace file's figures, part of the "trace" workload: a fully traced
 * ping-pong written to a file by the protocols/ writer (bytes per event),
 * that file decoded in memory by the reader (events per second, one core),
 * summed up by `acto-trace stats` and exported to Chrome JSON by
 * `acto-trace perfetto`, found beside this binary (events per second of
 * the child's CPU time, user + system: on a loaded machine its wall time
 * is mostly waiting for a core; output written to a temporary folder and
 * removed). */
#define _GNU_SOURCE /* wait4 */
#include "bench.h"

#include <acto/tracefile.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* write_trace plays n round trips traced into path; returns the events. */
static uint64_t
write_trace(const char *path, uint64_t n)
{
    acto_trace_sink sink;
    int rc = acto_tracefile_open(path, NULL, &sink);
    if (rc != 0) {
        bench_die("trace file: open", rc);
    }
    acto_trace_opts o = {.mode = ACTO_TRACE_BLOCK}; /* nothing lost */
    acto_trace_stats st;
    (void)bench_rally(n, &sink, &o, &st);
    return st.recorded;
}

static void *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat sb;
    if (f == NULL || fstat(fileno(f), &sb) != 0) {
        bench_die("trace file: read", -errno);
    }
    char *p = malloc((size_t)sb.st_size + 1);
    if (p == NULL || fread(p, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
        bench_die("trace file: read", ACTO_ENOMEM);
    }
    fclose(f);
    *len = (size_t)sb.st_size;
    return p;
}

/* decode_ns reads every event of the file held in data; checks the count. */
static double
decode_ns(const void *data, size_t len, uint64_t events)
{
    acto_tracefile_reader *r;
    int rc = acto_tracefile_reader_open_memory(data, len, NULL, &r);
    if (rc != 0) {
        bench_die("trace file: reader", rc);
    }
    static acto_trace_event batch[256];
    uint64_t seen = 0, sum = 0, t0 = bench_now_ns();
    size_t n;
    while ((rc = acto_tracefile_next_batch(r, batch, 256, &n)) == 1) {
        seen += n;
        sum += batch[n - 1].msg;
    }
    double ns = (double)(bench_now_ns() - t0);
    acto_tracefile_reader_close(r);
    bench_check(rc == 0 && seen == events, "trace", "decoded events", seen,
                events);
    bench_consume(sum);
    return ns;
}

/* tool_ns runs `acto-trace CMD path` (perfetto: into dir) and returns
 * the CPU time it took; -1 when it is not there. */
static double
tool_ns(const char *cmd, const char *path, const char *dir)
{
    char self[PATH_MAX], tool[PATH_MAX], out[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
        return -1;
    }
    self[n] = '\0';
    snprintf(tool, sizeof(tool), "%s/../acto-trace/acto-trace", dirname(self));
    snprintf(out, sizeof(out), "%s/p.json", dir);
    if (access(tool, X_OK) != 0) {
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) { /* its output and report line not shown */
        if (freopen("/dev/null", "w", stderr) == NULL ||
            freopen("/dev/null", "w", stdout) == NULL) {
            _exit(126);
        }
        execl(tool, tool, cmd, path, "-o", out, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    struct rusage ru = {0};
    while (pid > 0 && wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
    }
    if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "acto-bench: trace: acto-trace %s failed\n", cmd);
        bench_die("trace file: acto-trace", ACTO_EFAILED);
    }
    return ((double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec) * 1e9 +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) * 1e3;
}

void
bench_tracefile(const bench_opts *opts)
{
    char dir[] = "/tmp/acto-bench-XXXXXX", path[64], json[80];
    if (mkdtemp(dir) == NULL) {
        bench_die("trace file: mkdtemp", -errno);
    }
    snprintf(path, sizeof(path), "%s/t.acto", dir);
    uint64_t events = write_trace(path, bench_count(opts, 200000));
    size_t len;
    void *data = slurp(path, &len);
    int runs = opts->runs;
    double *v = calloc(3 * (size_t)runs, sizeof(double));
    if (v == NULL) {
        bench_die("trace file", ACTO_ENOMEM);
    }
    double *dec = v, *exp = v + runs, *sum = v + 2 * (size_t)runs;
    bool exported = true;
    for (int i = 0; i < runs; i++) {
        dec[i] = (double)events / decode_ns(data, len, events) * 1e9;
        double ns = exported ? tool_ns("perfetto", path, dir) : -1;
        exported = ns > 0;
        exp[i] = exported ? (double)events / ns * 1e9 : 0;
        ns = exported ? tool_ns("stats", path, dir) : -1;
        sum[i] = exported ? (double)events / ns * 1e9 : 0;
    }
    bench_report(opts, "trace", "file_bytes_per_event", BENCH_PLAIN,
                 (double)len / (double)events, "bytes", 0);
    bench_report(opts, "trace", "decode", BENCH_PLAIN,
                 bench_median(dec, runs) / 1e6, "M events/s", 0);
    if (exported) {
        bench_report(opts, "trace", "stats_cpu", BENCH_PLAIN,
                     bench_median(sum, runs) / 1e6, "M events/s", 0);
        bench_report(opts, "trace", "perfetto_export_cpu", BENCH_PLAIN,
                     bench_median(exp, runs) / 1e6, "M events/s", 0);
    } else {
        fprintf(stderr, "acto-bench: trace: no acto-trace beside acto-bench: "
                        "perfetto export not measured\n");
    }
    free(v);
    free(data);
    remove(path);
    for (int part = 0; part < 1000; part++) { /* p.json, p.1.json, ... */
        if (part == 0) {
            snprintf(json, sizeof(json), "%s/p.json", dir);
        } else {
            snprintf(json, sizeof(json), "%s/p.%d.json", dir, part);
        }
        if (remove(json) != 0 && part > 0) {
            break;
        }
    }
    rmdir(dir);
}
