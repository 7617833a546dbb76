/* The wordfreq workload: acto-wordfreq against the baselines people would
 * reach for, on one generated text, in one run.
 *
 * The text: 1 GB (10^9 bytes) at scale 1, lines of about 80 characters,
 * words drawn from a vocabulary of 50,000 with a Zipf distribution
 * (s = 1), sentences capitalised and punctuated; xorshift64* with a fixed
 * seed, so every run writes the same bytes. It goes to $TMPDIR (or /tmp)
 * and is removed at exit.
 *
 * The contenders, each timed from spawn to exit with its peak RSS from
 * wait4() (ru_maxrss, taken in a fresh process: see bench_spawn_child;
 * for the shell pipeline the biggest of its processes, which sh waits
 * for):
 *   acto      acto-wordfreq --top 10, found beside this binary
 *             (../acto-wordfreq/acto-wordfreq)
 *   python    python3 wordfreq_asyncio.py --top 10 (asyncio queues,
 *             skipped with a note when python3 is missing)
 *   shell     tr -cs A-Za-z '\n' | tr A-Z a-z | sort | uniq -c | sort -rn
 *             | head, under LC_ALL=C (bytes, and sort's fastest mode)
 *   floor     the same counting code as acto-wordfreq (wordmap.c) in
 *             plain C in this process: read(), tokenize, count, sort
 * acto's top 10 must equal Python's and the floor's line for line, and
 * the shell's counts.
 */
#define _GNU_SOURCE /* wait4 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wordmap.h"

#define VOCAB 50000
#define TABLE_BITS 22 /* the Zipf table: every word gets >= 7 slots */
#define LINE 80
#define MAX_LEN 14 /* letters in a vocabulary word, at most */
#define CHUNK ((size_t)256 * 1024)
#define TOP 10
#define OUT_MAX 4096 /* bytes of a contender's output kept */

/* ---- the text --------------------------------------------------------- */

static uint64_t
rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

typedef struct vocab {
    char word[VOCAB][MAX_LEN];
    uint8_t len[VOCAB];
    uint16_t table[1u << TABLE_BITS]; /* a uniform draw -> a rank */
} vocab;

/* word_len: frequent words are short, as in prose. */
static size_t
word_len(size_t rank, uint64_t r)
{
    if (rank < 20) {
        return 2 + r % 3;
    }
    if (rank < 1000) {
        return 3 + r % 6;
    }
    return 4 + r % (MAX_LEN - 3);
}

/* make_vocab draws VOCAB distinct words and the Zipf table. */
static void
make_vocab(vocab *v, uint64_t *seed)
{
    wf_map seen;
    if (wf_map_init(&seen) != 0) {
        bench_die("wordfreq vocabulary", ACTO_ENOMEM);
    }
    for (size_t i = 0; i < VOCAB; i++) {
        for (;;) {
            size_t len = word_len(i, rng_next(seed));
            for (size_t k = 0; k < len; k++) {
                v->word[i][k] = (char)('a' + rng_next(seed) % 26);
            }
            wf_word w;
            wf_word_of(v->word[i], len, &w);
            if (wf_map_find(&seen, &w) == NULL) {
                if (wf_map_add(&seen, &w, 1) != 0) {
                    bench_die("wordfreq vocabulary", ACTO_ENOMEM);
                }
                v->len[i] = (uint8_t)len;
                break;
            }
        }
    }
    wf_map_fini(&seen);
    double h = 0;
    for (size_t i = 0; i < VOCAB; i++) {
        h += 1.0 / (double)(i + 1);
    }
    double cum = 0;
    size_t at = 0, slots = 1u << TABLE_BITS;
    for (size_t i = 0; i < VOCAB; i++) {
        cum += 1.0 / (double)(i + 1) / h;
        size_t end = i + 1 == VOCAB ? slots : (size_t)(cum * (double)slots);
        while (at < end) {
            v->table[at++] = (uint16_t)i;
        }
    }
}

/* fill writes about n bytes of text into buf (at least n, at most n +
 * LINE + MAX_LEN) and returns how many. */
static size_t
fill(const vocab *v, uint64_t *seed, char *buf, size_t n)
{
    size_t at = 0, col = 0;
    bool cap = true;
    while (at < n) {
        uint64_t r = rng_next(seed);
        size_t w = v->table[r >> (64 - TABLE_BITS)];
        size_t len = v->len[w];
        if (col + len + 2 > LINE) {
            buf[at++] = '\n';
            col = 0;
        } else if (col > 0) {
            buf[at++] = ' ';
            col++;
        }
        memcpy(buf + at, v->word[w], len);
        if (cap) {
            buf[at] = (char)(buf[at] - 'a' + 'A');
            cap = false;
        }
        at += len;
        col += len + 1;
        if ((r & 0xf) == 0) {
            buf[at++] = '.';
            cap = true;
        } else if ((r & 0xf) == 1) {
            buf[at++] = ',';
        }
    }
    buf[at++] = '\n';
    return at;
}

static char text_path[PATH_MAX];

static void
remove_text(void)
{
    if (text_path[0] != '\0') {
        unlink(text_path);
        text_path[0] = '\0';
    }
}

/* write_text writes the text of about size bytes and returns its size. */
static uint64_t
write_text(uint64_t size)
{
    const char *dir = getenv("TMPDIR");
    snprintf(text_path, sizeof(text_path), "%s/acto-wordfreq-XXXXXX",
             dir != NULL && dir[0] != '\0' ? dir : "/tmp");
    int fd = mkstemp(text_path);
    if (fd < 0) {
        text_path[0] = '\0';
        bench_die("wordfreq: mkstemp", -errno);
    }
    atexit(remove_text);
    vocab *v = malloc(sizeof(*v));
    char *buf = malloc(CHUNK + 2 * LINE);
    if (v == NULL || buf == NULL) {
        bench_die("wordfreq text", ACTO_ENOMEM);
    }
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    make_vocab(v, &seed);
    uint64_t written = 0;
    while (written < size) {
        size_t want = size - written < CHUNK ? size - written : CHUNK;
        size_t n = fill(v, &seed, buf, want);
        if (write(fd, buf, n) != (ssize_t)n) {
            bench_die("wordfreq: writing the text", -errno);
        }
        written += n;
    }
    close(fd);
    free(buf);
    free(v);
    return written;
}

/* ---- the floor: the same counting in plain C -------------------------- */

/* floor_count counts the words of the text into one map and keeps the top
 * TOP lines in out. Returns ns spent. */
static double
floor_count(char *out, size_t out_size)
{
    uint64_t t0 = bench_now_ns();
    int fd = open(text_path, O_RDONLY);
    char *buf = malloc(CHUNK);
    wf_map m;
    if (fd < 0 || buf == NULL || wf_map_init(&m) != 0) {
        bench_die("wordfreq floor", fd < 0 ? -errno : ACTO_ENOMEM);
    }
    size_t keep = 0; /* letters carried from the last read */
    for (;;) {
        ssize_t got = read(fd, buf + keep, CHUNK - keep);
        if (got < 0) {
            bench_die("wordfreq floor: read", -errno);
        }
        size_t n = keep + (size_t)got;
        size_t cut = got == 0 ? n : wf_carry_cut(buf, n);
        if (cut == 0 && n == CHUNK) {
            cut = n; /* a word of a whole buffer: count it as it is */
        }
        if (wf_count_text(&m, buf, cut) != 0) {
            bench_die("wordfreq floor", ACTO_ENOMEM);
        }
        memmove(buf, buf + cut, n - cut);
        keep = n - cut;
        if (got == 0) {
            break;
        }
    }
    close(fd);
    wf_map *maps[1] = {&m};
    size_t n;
    wf_slot *v = wf_sorted(maps, 1, &n);
    FILE *f = fmemopen(out, out_size, "w");
    if (v == NULL || f == NULL || wf_print(f, v, n, TOP) != 0) {
        bench_die("wordfreq floor: output", ACTO_ENOMEM);
    }
    fclose(f);
    free(v);
    wf_map_fini(&m);
    free(buf);
    return (double)(bench_now_ns() - t0);
}

/* ---- the contenders: processes ---------------------------------------- */

typedef struct outcome {
    double ns;
    double rss_mb;
    char out[OUT_MAX]; /* the first bytes of its standard output */
} outcome;

/* Peak RSS. Linux's exec records the forking image's peak RSS as the new
 * program's, so a child forked straight from this process, grown by the
 * workloads before, would report at least that. The fork and wait4 happen
 * instead in a fresh, small copy of acto-bench (bench_spawn_child, reached
 * through SPAWN_ARG), which writes the child's ru_maxrss to its fd 3. */

int
bench_spawn_child(int argc, char **argv)
{
    if (argc < 3) {
        return 127;
    }
    pid_t pid = fork();
    if (pid < 0) {
        return 127;
    }
    if (pid == 0) {
        close(3);
        execvp(argv[2], argv + 2);
        fprintf(stderr, "acto-bench: wordfreq: exec %s: %s\n", argv[2],
                strerror(errno));
        _exit(127);
    }
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            return 127;
        }
    }
    dprintf(3, "%ld\n", ru.ru_maxrss);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 127;
}

/* spawn runs argv (through bench_spawn_child) with its output in a
 * temporary file and fills o. Returns false (with a message) when it could
 * not run or failed. */
static bool
spawn(const char *const argv[], outcome *o)
{
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    FILE *out = tmpfile(), *rss = tmpfile();
    if (len <= 0 || out == NULL || rss == NULL) {
        bench_die("wordfreq: spawn", -errno);
    }
    self[len] = '\0';
    fflush(NULL);
    uint64_t t0 = bench_now_ns();
    pid_t pid = fork();
    if (pid < 0) {
        bench_die("wordfreq: fork", -errno);
    }
    if (pid == 0) {
        const char *args[16] = {self, BENCH_SPAWN_ARG};
        for (size_t i = 0; argv[i] != NULL && i + 3 < 16; i++) {
            args[i + 2] = argv[i];
        }
        dup2(fileno(out), STDOUT_FILENO);
        dup2(fileno(rss), 3);
        execv(self, (char *const *)args);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            bench_die("wordfreq: waitpid", -errno);
        }
    }
    o->ns = (double)(bench_now_ns() - t0);
    long kb = 0;
    rewind(rss);
    if (fscanf(rss, "%ld", &kb) != 1) {
        kb = 0;
    }
    o->rss_mb = (double)kb / 1024.0;
    rewind(out);
    size_t n = fread(o->out, 1, sizeof(o->out) - 1, out);
    o->out[n] = '\0';
    fclose(out);
    fclose(rss);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "acto-bench: wordfreq: %s failed (status %d)\n",
                argv[0], WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return false;
    }
    return true;
}

/* beside_me returns the path of name relative to this binary's folder. */
static bool
beside_me(const char *name, char *path, size_t size)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
        return false;
    }
    self[n] = '\0';
    snprintf(path, size, "%s/%s", dirname(self), name);
    return access(path, R_OK) == 0;
}

/* in_path tells whether an executable named name is on $PATH. */
static bool
in_path(const char *name)
{
    const char *path = getenv("PATH");
    char full[PATH_MAX];
    while (path != NULL && *path != '\0') {
        size_t len = strcspn(path, ":");
        int n = len > 0 ? snprintf(full, sizeof(full), "%.*s/%s", (int)len,
                                   path, name)
                        : snprintf(full, sizeof(full), "./%s", name);
        if (n > 0 && (size_t)n < sizeof(full) && access(full, X_OK) == 0) {
            return true;
        }
        path += len + (path[len] == ':');
    }
    return false;
}

/* shell_counts reads the counts of `uniq -c` lines into c (at most TOP).
 * Returns how many. */
static size_t
shell_counts(const char *out, uint64_t *c)
{
    size_t n = 0;
    while (n < TOP && *out != '\0') {
        char *end;
        unsigned long long v = strtoull(out, &end, 10);
        if (end == out) {
            break;
        }
        c[n++] = v;
        out = strchr(end, '\n');
        out = out != NULL ? out + 1 : "";
    }
    return n;
}

/* same_counts compares the counts of acto's "word count" lines with the
 * shell's (whose order among equal counts differs). */
static bool
same_counts(const char *acto, const char *shell)
{
    uint64_t a[TOP], s[TOP];
    size_t na = 0;
    for (const char *p = acto; na < TOP && *p != '\0';) {
        const char *sp = strchr(p, ' ');
        if (sp == NULL) {
            break;
        }
        a[na++] = strtoull(sp + 1, NULL, 10);
        p = strchr(sp, '\n');
        p = p != NULL ? p + 1 : "";
    }
    size_t ns = shell_counts(shell, s);
    return na == ns && memcmp(a, s, na * sizeof(a[0])) == 0;
}

static void
must_match(const char *what, const char *acto, const char *other)
{
    if (strcmp(acto, other) != 0) {
        fprintf(stderr,
                "acto-bench: wordfreq: acto's top %d differs from %s's\n"
                "acto:\n%s%s:\n%s",
                TOP, what, acto, what, other);
        exit(1);
    }
}

/* progress tells what runs now, on stderr (TSV output stays clean). */
static void
progress(const char *what, const char *arg)
{
    fprintf(stderr, "wordfreq: %s%s\n", what, arg);
}

/* report_contender prints a contender's rate and peak RSS. */
static void
report_contender(const bench_opts *opts, const char *name, const outcome *o,
                 double mb)
{
    char fig[64];
    bench_report(opts, "wordfreq", name, BENCH_PLAIN, mb * 1e9 / o->ns, "MB/s",
                 0);
    snprintf(fig, sizeof(fig), "%s_peak_rss", name);
    bench_report(opts, "wordfreq", fig, BENCH_PLAIN, o->rss_mb, "MB", 0);
}

/* One run of each, whatever --runs says: the baselines take minutes on a
 * gigabyte. */
void
bench_wordfreq(const bench_opts *opts)
{
    char acto_bin[PATH_MAX], script[PATH_MAX];
    if (!beside_me("../acto-wordfreq/acto-wordfreq", acto_bin,
                   sizeof(acto_bin))) {
        fprintf(stderr, "wordfreq: skipped: acto-wordfreq is not built "
                        "beside acto-bench\n");
        return;
    }
    bool python =
        in_path("python3") && beside_me("../acto-wordfreq/wordfreq_asyncio.py",
                                        script, sizeof(script));
    uint64_t size = bench_count(opts, 1000000000);
    char what[64];
    snprintf(what, sizeof(what), "%.0f MB", (double)size / 1e6);
    progress("writing a text of ", what);
    double mb = (double)write_text(size) / 1e6;
    static outcome acto, py, sh, fl;
    progress("acto-wordfreq on ", text_path);
    const char *acto_argv[] = {acto_bin, "--top", "10", text_path, NULL};
    if (!spawn(acto_argv, &acto)) {
        exit(1);
    }
    progress("the plain-C floor", "");
    fl.ns = floor_count(fl.out, sizeof(fl.out));
    must_match("the floor", acto.out, fl.out);
    bench_report(opts, "wordfreq", "acto", BENCH_RATE, mb * 1e9 / acto.ns,
                 "MB/s", mb * 1e9 / fl.ns);
    bench_report(opts, "wordfreq", "acto_peak_rss", BENCH_PLAIN, acto.rss_mb,
                 "MB", 0);
    if (python) {
        progress("python3 wordfreq_asyncio.py", "");
        const char *py_argv[] = {"python3", script,    "--top",
                                 "10",      text_path, NULL};
        if (!spawn(py_argv, &py)) {
            exit(1);
        }
        must_match("python", acto.out, py.out);
        report_contender(opts, "python", &py, mb);
    } else {
        fprintf(stderr, "wordfreq: python3 not found: the asyncio baseline "
                        "is skipped\n");
    }
    progress("tr | sort | uniq -c | sort -rn | head", "");
    const char *sh_argv[] = {"sh",
                             "-c",
                             "export LC_ALL=C; tr -cs A-Za-z '\\n' < \"$1\" | "
                             "tr A-Z a-z | sort | uniq -c | sort -rn | head",
                             "sh",
                             text_path,
                             NULL};
    if (!spawn(sh_argv, &sh)) {
        exit(1);
    }
    if (!same_counts(acto.out, sh.out)) {
        must_match("the shell", acto.out, sh.out);
    }
    report_contender(opts, "shell", &sh, mb);
    if (python) {
        bench_report(opts, "wordfreq", "acto/python", BENCH_RATE,
                     mb * 1e9 / acto.ns, "MB/s", mb * 1e9 / py.ns);
        bench_report(opts, "wordfreq", "rss_acto/python", BENCH_COST,
                     acto.rss_mb, "MB", py.rss_mb);
    }
    bench_report(opts, "wordfreq", "acto/shell", BENCH_RATE, mb * 1e9 / acto.ns,
                 "MB/s", mb * 1e9 / sh.ns);
    bench_report(opts, "wordfreq", "rss_acto/shell", BENCH_COST, acto.rss_mb,
                 "MB", sh.rss_mb);
    remove_text();
}
