/* File actors: the source streams lines and chunks with backpressure and
 * names its errors; the sink writes items through bounded buffers, names
 * its errors and closes its file however it stops. Real files in a
 * temporary directory each test makes and removes. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "acto_test.h"

#include <acto/file.h>

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { T_ITEM = 7, T_TICK };

#define DEADLINE_MS 10000

/* ---- the temporary directory ------------------------------------------ */

static char g_dir[64];

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int
file_setup(void **state)
{
    snprintf(g_dir, sizeof(g_dir), "/tmp/acto_file_XXXXXX");
    if (mkdtemp(g_dir) == NULL) {
        return -1;
    }
    return acto_test_setup(state);
}

static int
file_teardown(void **state)
{
    nftw(g_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return acto_test_teardown(state);
}

#define file_test(f)                                                           \
    cmocka_unit_test_setup_teardown(f, file_setup, file_teardown)

/* tpath names a file in the test's directory (four names at a time). */
static const char *
tpath(const char *name)
{
    static char paths[4][128];
    static int next;
    char *p = paths[next++ % 4];
    snprintf(p, sizeof(paths[0]), "%s/%s", g_dir, name);
    return p;
}

static void
write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* read_file returns the file's bytes (malloc'd) and their count. */
static char *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            buf = realloc(buf, cap *= 2);
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

/* pattern_file writes n bytes that differ from chunk to chunk. */
static char *
pattern_file(const char *path, size_t n)
{
    char *data = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        data[i] = (char)('a' + (i * 7 + i / 13) % 26);
    }
    write_file(path, data, n);
    return data;
}

static int
open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    while (readdir(d) != NULL) {
        n++;
    }
    closedir(d);
    return n;
}

/* ---- a receiver that records items ------------------------------------ */

typedef struct collector {
    char *data; /* the items, end to end */
    size_t len, cap;
    size_t *ends; /* where each item ends in data */
    size_t n, ncap;
    int eos;
    int after_eos;
    bool step; /* suspend after each item (the test resumes it) */
} collector;

static int
collector_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    collector *c = state;
    if (acto_msg_type(m) == ACTO_STREAM_EOS) {
        c->eos++;
        return 0;
    }
    if (acto_msg_type(m) != T_ITEM) {
        return 0;
    }
    c->after_eos += c->eos > 0;
    size_t len;
    const char *p = acto_msg_data(m, &len);
    if (c->len + len > c->cap) {
        c->cap = (c->len + len) * 2 + 64;
        c->data = realloc(c->data, c->cap);
    }
    memcpy(c->data + c->len, p, len);
    c->len += len;
    if (c->n == c->ncap) {
        c->ncap = c->ncap * 2 + 16;
        c->ends = realloc(c->ends, c->ncap * sizeof(*c->ends));
    }
    c->ends[c->n++] = c->len;
    if (c->step) {
        acto_suspend(ctx);
    }
    return 0;
}

static const acto_behaviour collector_b = {.receive = collector_receive};

static void
collector_free(collector *c)
{
    free(c->data);
    free(c->ends);
}

static void
assert_items(const collector *c, const char *const *want, size_t n)
{
    assert_int_equal(c->n, n);
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = c->ends[i] - start;
        if (len != strlen(want[i]) || memcmp(c->data + start, want[i], len)) {
            fail_msg("item %zu: got \"%.*s\", want \"%s\"", i, (int)len,
                     c->data + start, want[i]);
        }
        start = c->ends[i];
    }
}

/* ---- errors nobody else received -------------------------------------- */

typedef struct caught {
    int n;
    int code;
    char type[64];
    char text[256];
} caught;

static void
on_exception(acto_system *sys, const acto_error *e, void *user)
{
    (void)sys;
    caught *c = user;
    c->n++;
    c->code = e->code;
    snprintf(c->type, sizeof(c->type), "%s", e->type);
    snprintf(c->text, sizeof(c->text), "%s", e->text);
}

/* ---- running ---------------------------------------------------------- */

static bool
future_done(void *arg)
{
    return acto_future_done(arg);
}

static void
wait_done(acto_test_env *env, acto_future *f)
{
    assert_true(acto_test_run_until(&env->loop, future_done, f, DEADLINE_MS));
}

/* A system whose stray failures land in *ex. */
static acto_system *
new_system(acto_test_env *env, caught *ex)
{
    acto_system *sys = acto_test_system(env, NULL);
    acto_system_set_exception_handler(sys, on_exception, ex);
    return sys;
}

/* stream runs a source over path into a fresh collector and waits for the
 * end; returns done's code and sets *bytes. */
static int
stream(acto_test_env *env, const char *path, acto_file_source_opts o,
       collector *c, caught *ex, uint64_t *bytes)
{
    acto_system *sys = new_system(env, ex);
    acto_ref to, src;
    assert_acto_ok(acto_spawn(sys, &collector_b, c, NULL, &to));
    o.to = to;
    o.item_type = T_ITEM;
    acto_future *done;
    assert_acto_ok(acto_file_source_spawn(sys, path, &o, &src, &done));
    wait_done(env, done);
    acto_test_settle(env);
    assert_false(acto_alive(sys, src));
    int rc = acto_file_done_bytes(done, bytes);
    acto_future_release(done);
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
    return rc;
}

/* ---- the source ------------------------------------------------------- */

static void
source_streams_lines_with_exact_content(void **state)
{
    static const char text[] = "alpha\nbeta\r\n\n\r\n  gamma \nlast";
    static const char *const want[] = {"alpha", "beta",     "",
                                       "",      "  gamma ", "last"};
    write_file(tpath("lines"), text, sizeof(text) - 1);
    /* Reads of 1, 3 and 7 bytes split lines and "\r\n" across reads. */
    static const size_t sizes[] = {1, 3, 7, 0};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        collector c = {0};
        caught ex = {0};
        uint64_t bytes = 0;
        acto_file_source_opts o = {.chunk_size = sizes[i]};
        assert_acto_ok(stream(*state, tpath("lines"), o, &c, &ex, &bytes));
        assert_items(&c, want, 6);
        assert_int_equal(c.eos, 1);
        assert_int_equal(c.after_eos, 0);
        assert_int_equal(bytes, sizeof(text) - 1);
        assert_int_equal(ex.n, 0);
        collector_free(&c);
    }
}

static void
source_sends_no_empty_item_after_a_last_newline(void **state)
{
    write_file(tpath("nl"), "a\r\nb\n", 5);
    collector c = {0};
    caught ex = {0};
    uint64_t bytes;
    acto_file_source_opts o = {0};
    assert_acto_ok(stream(*state, tpath("nl"), o, &c, &ex, &bytes));
    static const char *const want[] = {"a", "b"};
    assert_items(&c, want, 2);
    assert_int_equal(bytes, 5);
    collector_free(&c);
}

static void
source_streams_chunks_in_order(void **state)
{
    size_t n = 10000;
    char *data = pattern_file(tpath("chunks"), n);
    collector c = {0};
    caught ex = {0};
    uint64_t bytes;
    acto_file_source_opts o = {.mode = ACTO_FILE_CHUNKS, .chunk_size = 1024};
    assert_acto_ok(stream(*state, tpath("chunks"), o, &c, &ex, &bytes));
    assert_int_equal(c.n, 10);
    for (size_t i = 0; i < 9; i++) {
        assert_int_equal(c.ends[i], (i + 1) * 1024);
    }
    assert_int_equal(c.len, n);
    assert_memory_equal(c.data, data, n);
    assert_int_equal(c.eos, 1);
    assert_int_equal(bytes, n);
    collector_free(&c);
    free(data);
}

static void
source_of_an_empty_file_sends_only_eos(void **state)
{
    write_file(tpath("empty"), "", 0);
    for (int mode = ACTO_FILE_LINES; mode <= ACTO_FILE_CHUNKS; mode++) {
        collector c = {0};
        caught ex = {0};
        uint64_t bytes = 99;
        acto_file_source_opts o = {.mode = (acto_file_mode)mode};
        assert_acto_ok(stream(*state, tpath("empty"), o, &c, &ex, &bytes));
        assert_int_equal(c.n, 0);
        assert_int_equal(c.eos, 1);
        assert_int_equal(bytes, 0);
        collector_free(&c);
    }
}

static void
source_works_without_a_done_future(void **state)
{
    acto_test_env *env = *state;
    write_file(tpath("f"), "x\ny\n", 4);
    caught ex = {0};
    acto_system *sys = new_system(env, &ex);
    collector c = {0};
    acto_ref to, src;
    assert_acto_ok(acto_spawn(sys, &collector_b, &c, NULL, &to));
    acto_file_source_opts o = {.to = to, .item_type = T_ITEM};
    assert_acto_ok(acto_file_source_spawn(sys, tpath("f"), &o, &src, NULL));
    acto_test_settle(env);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.eos, 1);
    acto_test_close_system(env, sys);
    collector_free(&c);
}

static void
source_spawn_rejects_bad_arguments(void **state)
{
    acto_test_env *env = *state;
    caught ex = {0};
    acto_system *sys = new_system(env, &ex);
    collector c = {0};
    acto_ref to, out = ACTO_REF_NONE;
    assert_acto_ok(acto_spawn(sys, &collector_b, &c, NULL, &to));
    long live = acto_test_alloc_live();
    acto_file_source_opts ok = {.to = to};
    acto_file_source_opts none = {0};
    acto_file_source_opts mode = {.to = to, .mode = (acto_file_mode)7};
    acto_file_source_opts type = {.to = to, .item_type = ACTO_STREAM_EOS};
    acto_future *done = NULL;
    const char *p = tpath("f");
    assert_acto_err(acto_file_source_spawn(NULL, p, &ok, &out, &done),
                    ACTO_EINVAL);
    assert_acto_err(acto_file_source_spawn(sys, NULL, &ok, &out, &done),
                    ACTO_EINVAL);
    assert_acto_err(acto_file_source_spawn(sys, p, NULL, &out, &done),
                    ACTO_EINVAL);
    assert_acto_err(acto_file_source_spawn(sys, p, &ok, NULL, &done),
                    ACTO_EINVAL);
    assert_acto_err(acto_file_source_spawn(sys, p, &none, &out, &done),
                    ACTO_EINVAL);
    assert_acto_err(acto_file_source_spawn(sys, p, &mode, &out, &done),
                    ACTO_EINVAL);
    assert_acto_err(acto_file_source_spawn(sys, p, &type, &out, &done),
                    ACTO_EINVAL);
    assert_acto_err(acto_file_sink_spawn(NULL, p, NULL, &out, &done),
                    ACTO_EINVAL);
    assert_acto_err(acto_file_sink_spawn(sys, NULL, NULL, &out, &done),
                    ACTO_EINVAL);
    assert_acto_err(acto_file_sink_spawn(sys, p, NULL, NULL, &done),
                    ACTO_EINVAL);
    assert_acto_err(acto_file_done_bytes(NULL, NULL), ACTO_EINVAL);
    assert_null(done);
    assert_true(acto_ref_is_none(out));
    assert_int_equal(acto_test_alloc_live(), live);
    acto_stats st;
    acto_system_stats(sys, &st);
    assert_int_equal(st.spawned, 1);
    acto_test_close_system(env, sys);
    collector_free(&c);
}

/* expect_failure checks a failed done and the stray error it matches. */
static void
expect_failure(int rc, const caught *ex, int code, const char *type,
               const char *path)
{
    assert_acto_err(rc, code);
    assert_int_equal(ex->n, 1);
    assert_int_equal(ex->code, code);
    assert_string_equal(ex->type, type);
    if (strstr(ex->text, path) == NULL) {
        fail_msg("\"%s\" does not name %s", ex->text, path);
    }
}

static void
source_of_a_missing_file_fails_with_file_not_found(void **state)
{
    collector c = {0};
    caught ex = {0};
    acto_file_source_opts o = {0};
    int rc = stream(*state, tpath("nothing"), o, &c, &ex, NULL);
    expect_failure(rc, &ex, UV_ENOENT, "FileNotFound", tpath("nothing"));
    assert_int_equal(c.n + c.eos, 0); /* no EOS after a failure */
    collector_free(&c);
}

static void
source_of_a_directory_fails_with_is_a_directory(void **state)
{
    collector c = {0};
    caught ex = {0};
    acto_file_source_opts o = {.mode = ACTO_FILE_CHUNKS};
    int rc = stream(*state, g_dir, o, &c, &ex, NULL);
    expect_failure(rc, &ex, UV_EISDIR, "IsADirectory", g_dir);
    assert_int_equal(c.n + c.eos, 0);
    collector_free(&c);
}

/* The tests run as root, who may read any file, so a source cannot be
 * denied a read here; the sink's PermissionDenied test covers the name. */

static void
source_fails_on_a_line_longer_than_max_line(void **state)
{
    static const char text[] = "12345678\r\nshort\nthis one is too long\nx\n";
    write_file(tpath("long"), text, sizeof(text) - 1);
    /* Whole in one read, and spread over many (the partial line grows). */
    static const size_t sizes[] = {0, 4};
    for (size_t i = 0; i < 2; i++) {
        collector c = {0};
        caught ex = {0};
        acto_file_source_opts o = {.max_line = 8, .chunk_size = sizes[i]};
        int rc = stream(*state, tpath("long"), o, &c, &ex, NULL);
        expect_failure(rc, &ex, UV_EMSGSIZE, "LineTooLong", tpath("long"));
        static const char *const want[] = {"12345678", "short"};
        assert_items(&c, want, 2);
        assert_int_equal(c.eos, 0);
        collector_free(&c);
    }
}

/* A receiver that handles one item per resume: the slowest consumer. */
typedef struct slow {
    acto_system *sys;
    acto_ref to, src;
    collector c;
    acto_future *done;
    uint64_t peak_queued;
} slow;

static void
slow_start(acto_test_env *env, slow *s, caught *ex, const char *path,
           size_t chunk)
{
    s->sys = new_system(env, ex);
    s->c.step = true;
    acto_spawn_opts bounded = {.capacity = 4};
    assert_acto_ok(acto_spawn(s->sys, &collector_b, &s->c, &bounded, &s->to));
    acto_file_source_opts o = {.to = s->to,
                               .item_type = T_ITEM,
                               .mode = ACTO_FILE_CHUNKS,
                               .chunk_size = chunk};
    assert_acto_ok(acto_file_source_spawn(s->sys, path, &o, &s->src, &s->done));
}

/* slow_step lets everything run that can (the loop goes quiet: the source
 * is not reading), notes the messages in flight, and lets the receiver
 * take one more. Returns whether the stream ended. */
static bool
slow_step(acto_test_env *env, slow *s)
{
    acto_test_settle(env);
    acto_stats st;
    acto_system_stats(s->sys, &st);
    if (st.queued > s->peak_queued) {
        s->peak_queued = st.queued;
    }
    /* The source is done once EOS is sent; the receiver is not yet. */
    if (s->c.eos > 0 || acto_future_state_of(s->done) == ACTO_FUTURE_FAILED) {
        return true;
    }
    assert_acto_ok(acto_resume(s->sys, s->to));
    return false;
}

static void
slow_finish(acto_test_env *env, slow *s)
{
    acto_future_release(s->done);
    acto_test_close_system(env, s->sys);
    collector_free(&s->c);
}

static void
source_does_not_read_ahead_of_a_slow_bounded_receiver(void **state)
{
    acto_test_env *env = *state;
    size_t n = 200 * 64;
    char *data = pattern_file(tpath("big"), n);
    caught ex = {0};
    slow s = {0};
    slow_start(env, &s, &ex, tpath("big"), 64);
    int steps = 0;
    while (!slow_step(env, &s)) {
        steps++;
        /* Each step the receiver took one item; the source never has more
         * than one buffer's item beyond the mailbox's four. */
        assert_true(s.c.n == (size_t)steps);
    }
    /* 4 queued items, 1 parked, the source's own "read more". */
    assert_in_range(s.peak_queued, 4, 4 + 2);
    assert_int_equal(s.c.len, n);
    assert_memory_equal(s.c.data, data, n);
    uint64_t bytes;
    assert_acto_ok(acto_file_done_bytes(s.done, &bytes));
    assert_int_equal(bytes, n);
    slow_finish(env, &s);
    free(data);
}

static void
source_fails_when_the_file_is_truncated_while_read(void **state)
{
    acto_test_env *env = *state;
    size_t n = 100 * 1024;
    char *data = pattern_file(tpath("shrinks"), n);
    caught ex = {0};
    slow s = {0};
    slow_start(env, &s, &ex, tpath("shrinks"), 1024);
    assert_false(slow_step(env, &s));
    assert_int_equal(s.c.n, 1);
    assert_int_equal(truncate(tpath("shrinks"), 2048), 0);
    while (!slow_step(env, &s)) {
    }
    uint64_t bytes;
    expect_failure(acto_file_done_bytes(s.done, &bytes), &ex, UV_EIO,
                   "FileTruncated", tpath("shrinks"));
    assert_int_equal(s.c.eos, 0);
    assert_true(s.c.n < 100);
    assert_memory_equal(s.c.data, data, s.c.len); /* what came was right */
    slow_finish(env, &s);
    free(data);
}

/* A parent that spawns a source from its handler sees its failure. */
typedef struct parent {
    const char *path;
    acto_ref to;
    acto_ref child;
    char type[64];
} parent;

static int
parent_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    parent *p = state;
    if (acto_msg_type(m) == T_TICK) {
        acto_file_source_opts o = {.to = p->to, .item_type = T_ITEM};
        return acto_file_source_spawn(acto_ctx_system(ctx), p->path, &o,
                                      &p->child, NULL);
    }
    const acto_error *e = acto_msg_error(m);
    if (acto_msg_type(m) == ACTO_MSG_CHILD_FAILED && e != NULL &&
        acto_ref_eq(e->origin, p->child)) {
        snprintf(p->type, sizeof(p->type), "%s", e->type);
    }
    return 0;
}

static const acto_behaviour parent_b = {.receive = parent_receive};

static void
source_spawned_in_a_handler_fails_to_its_parent(void **state)
{
    acto_test_env *env = *state;
    caught ex = {0};
    acto_system *sys = new_system(env, &ex);
    collector c = {0};
    parent p = {.path = tpath("absent")};
    acto_ref pa;
    assert_acto_ok(acto_spawn(sys, &collector_b, &c, NULL, &p.to));
    assert_acto_ok(acto_spawn(sys, &parent_b, &p, NULL, &pa));
    assert_acto_ok(acto_test_send_int(sys, pa, T_TICK, 0));
    acto_test_settle(env);
    assert_string_equal(p.type, "FileNotFound");
    assert_int_equal(ex.n, 0);
    acto_test_close_system(env, sys);
    collector_free(&c);
}

/* ---- the sink --------------------------------------------------------- */

/* copy runs source -> sink from src to dst; returns both done codes. */
static void
copy(acto_test_env *env, const char *src, const char *dst,
     acto_file_source_opts so, acto_file_sink_opts ko, uint64_t *read,
     uint64_t *written)
{
    caught ex = {0};
    acto_system *sys = new_system(env, &ex);
    acto_ref sink, source;
    acto_future *sdone, *kdone;
    assert_acto_ok(acto_file_sink_spawn(sys, dst, &ko, &sink, &kdone));
    so.to = sink;
    assert_acto_ok(acto_file_source_spawn(sys, src, &so, &source, &sdone));
    wait_done(env, kdone);
    acto_test_settle(env);
    assert_acto_ok(acto_file_done_bytes(sdone, read));
    assert_acto_ok(acto_file_done_bytes(kdone, written));
    assert_false(acto_alive(sys, sink));
    assert_int_equal(ex.n, 0);
    acto_future_release(sdone);
    acto_future_release(kdone);
    acto_test_assert_stats_balance(sys);
    acto_test_close_system(env, sys);
}

static void
sink_round_trip_copies_identical_bytes(void **state)
{
    acto_test_env *env = *state;
    size_t n = 300 * 1024 + 17;
    char *data = pattern_file(tpath("in"), n);
    for (size_t i = 50; i < n; i += 97) {
        data[i] = '\n'; /* lines, for the second copy */
    }
    data[n - 1] = '\n';
    write_file(tpath("in"), data, n);
    uint64_t r = 0, w = 0;
    acto_file_source_opts chunks = {.mode = ACTO_FILE_CHUNKS,
                                    .chunk_size = 4096};
    acto_file_sink_opts plain = {.buffer_bytes = 10000};
    copy(env, tpath("in"), tpath("out"), chunks, plain, &r, &w);
    size_t len;
    char *got = read_file(tpath("out"), &len);
    assert_int_equal(len, n);
    assert_memory_equal(got, data, n);
    assert_int_equal(r, n);
    assert_int_equal(w, n);
    free(got);
    /* Lines back into lines, through buffers smaller than some lines. */
    acto_file_source_opts lines = {.chunk_size = 1000};
    acto_file_sink_opts nl = {.newline = true, .buffer_bytes = 64};
    copy(env, tpath("in"), tpath("out2"), lines, nl, &r, &w);
    got = read_file(tpath("out2"), &len);
    assert_int_equal(len, n);
    assert_memory_equal(got, data, n);
    assert_int_equal(w, n);
    free(got);
    free(data);
}

static void
sink_appends_or_truncates(void **state)
{
    acto_test_env *env = *state;
    write_file(tpath("src"), "one\ntwo\n", 8);
    write_file(tpath("dst"), "old content\n", 12);
    uint64_t r, w;
    acto_file_source_opts lines = {0};
    acto_file_sink_opts nl = {.newline = true};
    copy(env, tpath("src"), tpath("dst"), lines, nl, &r, &w);
    nl.append = true;
    copy(env, tpath("src"), tpath("dst"), lines, nl, &r, &w);
    size_t len;
    char *got = read_file(tpath("dst"), &len);
    assert_int_equal(len, 16);
    assert_memory_equal(got, "one\ntwo\none\ntwo\n", 16);
    free(got);
}

/* A producer that sends one item per turn: it asks itself for the next
 * only after the send, so a full sink parks it in between. */
typedef struct producer {
    acto_ref to;
    int left;
} producer;

static int
producer_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    producer *p = state;
    (void)m;
    if (p->left-- == 0) {
        return acto_stream_send_eos(ctx, p->to);
    }
    int rc = acto_tell(ctx, p->to, T_ITEM, "0123456789", 10);
    return rc != 0 ? rc : acto_tell(ctx, acto_self(ctx), T_TICK, NULL, 0);
}

static const acto_behaviour producer_b = {.receive = producer_receive};

static void
sink_suspends_while_both_buffers_are_full(void **state)
{
    acto_test_env *env = *state;
    caught ex = {0};
    acto_system *sys = new_system(env, &ex);
    acto_file_sink_opts ko = {.buffer_bytes = 16, .capacity = 2};
    acto_ref sink, pr;
    acto_future *done;
    assert_acto_ok(acto_file_sink_spawn(sys, tpath("o"), &ko, &sink, &done));
    producer p = {.to = sink, .left = 300};
    assert_acto_ok(acto_spawn(sys, &producer_b, &p, NULL, &pr));
    assert_acto_ok(acto_test_send_int(sys, pr, T_TICK, 0));
    wait_done(env, done);
    acto_test_settle(env);
    uint64_t w;
    assert_acto_ok(acto_file_done_bytes(done, &w));
    assert_int_equal(w, 3000);
    acto_stats st;
    acto_system_stats(sys, &st);
    assert_true(st.parks > 0); /* the producer waited for the sink */
    size_t len;
    char *got = read_file(tpath("o"), &len);
    assert_int_equal(len, 3000);
    for (size_t i = 0; i < len; i++) {
        assert_int_equal(got[i], '0' + (char)(i % 10));
    }
    free(got);
    acto_future_release(done);
    acto_test_close_system(env, sys);
}

static void
sink_writes_bytes_and_msgpack_items_and_ignores_others(void **state)
{
    acto_test_env *env = *state;
    caught ex = {0};
    acto_system *sys = new_system(env, &ex);
    acto_file_sink_opts ko = {.buffer_bytes = 4};
    acto_ref sink;
    acto_future *done;
    assert_acto_ok(acto_file_sink_spawn(sys, tpath("o"), &ko, &sink, &done));
    acto_msg *m;
    assert_acto_ok(acto_msg_new_msgpack(sys, T_ITEM,
                                        "\xa3"
                                        "abc",
                                        4, &m));
    assert_acto_ok(acto_system_send(sys, sink, m));
    static int x;
    assert_acto_ok(acto_msg_new_ptr(sys, T_ITEM, &x, NULL, NULL, &m));
    assert_acto_ok(acto_system_send(sys, sink, m));
    assert_acto_ok(
        acto_test_send_bytes(sys, sink, ACTO_STREAM_BASE + 5, "no", 2));
    assert_acto_ok(
        acto_test_send_bytes(sys, sink, ACTO_MSG_SYSTEM_BASE - 1, "no", 2));
    /* The runtime keeps an ask's request, so the rest of one that does
     * not fit is copied; a message from another thread is taken. */
    acto_future *ask;
    assert_acto_ok(acto_msg_new_bytes(sys, T_ITEM, "0123456789", 10, &m));
    assert_acto_ok(acto_ask(sys, sink, m, 0, &ask));
    acto_system_set_keep_alive(sys, true);
    assert_acto_ok(acto_send_threadsafe(sys, sink, T_ITEM, "ABCDEFGHIJ", 10));
    assert_acto_ok(acto_send_threadsafe(sys, sink, ACTO_STREAM_EOS, NULL, 0));
    wait_done(env, done);
    acto_system_set_keep_alive(sys, false);
    acto_test_settle(env);
    uint64_t w;
    assert_acto_ok(acto_file_done_bytes(done, &w));
    assert_int_equal(w, 24);
    size_t len;
    char *got = read_file(tpath("o"), &len);
    assert_int_equal(len, 24);
    assert_memory_equal(got,
                        "\xa3"
                        "abc0123456789ABCDEFGHIJ",
                        24);
    free(got);
    acto_future_release(ask); /* never answered: sinks do not reply */
    acto_future_release(done);
    acto_test_close_system(env, sys);
}

/* sink_fails runs a sink on path with one item and EOS; returns done's
 * code. */
static int
sink_fails(acto_test_env *env, const char *path, caught *ex)
{
    acto_system *sys = new_system(env, ex);
    acto_ref sink;
    acto_future *done;
    assert_acto_ok(acto_file_sink_spawn(sys, path, NULL, &sink, &done));
    assert_acto_ok(acto_test_send_bytes(sys, sink, T_ITEM, "data", 4));
    assert_acto_ok(acto_test_send_bytes(sys, sink, ACTO_STREAM_EOS, NULL, 0));
    wait_done(env, done);
    acto_test_settle(env);
    assert_false(acto_alive(sys, sink));
    int rc = acto_file_done_bytes(done, NULL);
    acto_future_release(done);
    acto_test_close_system(env, sys);
    return rc;
}

static void
sink_to_dev_full_fails_with_disk_full(void **state)
{
    caught ex = {0};
    int fds = open_fds();
    int rc = sink_fails(*state, "/dev/full", &ex);
    expect_failure(rc, &ex, UV_ENOSPC, "DiskFull", "/dev/full");
    assert_int_equal(open_fds(), fds);
}

static void
sink_into_a_missing_directory_fails_with_file_not_found(void **state)
{
    caught ex = {0};
    int rc = sink_fails(*state, tpath("no/such/file"), &ex);
    expect_failure(rc, &ex, UV_ENOENT, "FileNotFound", tpath("no/such/file"));
}

static void
sink_to_a_directory_fails_with_is_a_directory(void **state)
{
    caught ex = {0};
    int rc = sink_fails(*state, g_dir, &ex);
    expect_failure(rc, &ex, UV_EISDIR, "IsADirectory", g_dir);
}

static void
sink_denied_a_file_fails_with_permission_denied(void **state)
{
    /* Root may write most files: a read-only sysctl denies even root. */
    static const char path[] = "/proc/sys/kernel/ostype";
    if (access(path, F_OK) != 0) {
        skip();
    }
    caught ex = {0};
    int rc = sink_fails(*state, path, &ex);
    expect_failure(rc, &ex, UV_EACCES, "PermissionDenied", path);
}

static void
sink_killed_before_eos_closes_its_file_and_cancels_done(void **state)
{
    acto_test_env *env = *state;
    caught ex = {0};
    int fds = open_fds();
    acto_system *sys = new_system(env, &ex);
    acto_ref sink;
    acto_future *done;
    assert_acto_ok(acto_file_sink_spawn(sys, tpath("k"), NULL, &sink, &done));
    assert_acto_ok(acto_test_send_bytes(sys, sink, T_ITEM, "buffered", 8));
    acto_test_settle(env);
    assert_int_equal(open_fds(), fds + 1); /* open, holding the item */
    assert_acto_ok(acto_kill(sys, sink));
    acto_test_settle(env);
    assert_int_equal(open_fds(), fds);
    assert_acto_err(acto_file_done_bytes(done, NULL), ACTO_ECANCELED);
    assert_int_equal(ex.n, 0);
    struct stat st;
    assert_int_equal(stat(tpath("k"), &st), 0);
    assert_int_equal(st.st_size, 0); /* only EOS writes the last buffer */
    acto_future_release(done);
    acto_test_close_system(env, sys);
}

/* Stopping at any moment, requests in flight or not, leaks nothing and
 * leaves no file open: kill after k loop iterations, for many k. */
static void
file_actors_killed_at_any_moment_leak_nothing(void **state)
{
    acto_test_env *env = *state;
    size_t n = 20000;
    free(pattern_file(tpath("src"), n));
    int fds = open_fds();
    for (int k = 0; k < 60; k++) {
        caught ex = {0};
        acto_system *sys = new_system(env, &ex);
        acto_ref sink, source;
        acto_future *sdone, *kdone;
        acto_file_sink_opts ko = {.buffer_bytes = 100, .capacity = 4};
        assert_acto_ok(
            acto_file_sink_spawn(sys, tpath("dst"), &ko, &sink, &kdone));
        acto_file_source_opts so = {
            .to = sink, .mode = ACTO_FILE_CHUNKS, .chunk_size = 150};
        assert_acto_ok(
            acto_file_source_spawn(sys, tpath("src"), &so, &source, &sdone));
        for (int i = 0; i < k; i++) {
            acto_test_run_once(&env->loop);
        }
        acto_kill(sys, k % 2 ? source : sink);
        acto_kill(sys, k % 2 ? sink : source);
        acto_test_settle(env);
        int rs = acto_file_done_bytes(sdone, NULL);
        int rk = acto_file_done_bytes(kdone, NULL);
        assert_true(rs == 0 || rs == ACTO_ECANCELED || rs == ACTO_ENOACTOR);
        assert_true(rk == 0 || rk == ACTO_ECANCELED);
        acto_future_release(sdone);
        acto_future_release(kdone);
        /* Closing with requests in flight frees the state afterwards. */
        acto_test_close_system(env, sys);
        acto_test_settle(env);
        assert_no_leaks();
        assert_int_equal(open_fds(), fds);
    }
}

static void
file_actors_close_with_the_system(void **state)
{
    acto_test_env *env = *state;
    free(pattern_file(tpath("src"), 100000));
    int fds = open_fds();
    caught ex = {0};
    acto_system *sys = new_system(env, &ex);
    acto_ref sink, source;
    acto_future *sdone, *kdone;
    assert_acto_ok(
        acto_file_sink_spawn(sys, tpath("dst"), NULL, &sink, &kdone));
    acto_file_source_opts so = {
        .to = sink, .mode = ACTO_FILE_CHUNKS, .chunk_size = 100};
    assert_acto_ok(
        acto_file_source_spawn(sys, tpath("src"), &so, &source, &sdone));
    for (int i = 0; i < 5; i++) {
        acto_test_run_once(&env->loop);
    }
    acto_test_close_system(env, sys); /* requests may be in flight */
    assert_acto_err(acto_file_done_bytes(sdone, NULL), ACTO_ECANCELED);
    assert_acto_err(acto_file_done_bytes(kdone, NULL), ACTO_ECANCELED);
    acto_future_release(sdone);
    acto_future_release(kdone);
    acto_test_settle(env);
    assert_int_equal(open_fds(), fds);
}

/* ---- out of memory ---------------------------------------------------- */

static void
file_spawns_fail_cleanly_without_memory(void **state)
{
    acto_test_env *env = *state;
    caught ex = {0};
    acto_system *sys = new_system(env, &ex);
    collector c = {0};
    acto_ref to;
    assert_acto_ok(acto_spawn(sys, &collector_b, &c, NULL, &to));
    for (int sink = 0; sink < 2; sink++) {
        for (long n = 1;; n++) {
            long live = acto_test_alloc_live();
            acto_ref out = ACTO_REF_NONE;
            acto_future *done = NULL;
            acto_file_source_opts o = {.to = to};
            acto_test_alloc_fail_nth(n);
            int rc =
                sink ? acto_file_sink_spawn(sys, tpath("f"), NULL, &out, &done)
                     : acto_file_source_spawn(sys, tpath("f"), &o, &out, &done);
            bool failed = acto_test_alloc_failed();
            acto_test_alloc_fail_nth(0);
            if (!failed) {
                assert_acto_ok(rc);
                assert_acto_ok(acto_kill(sys, out));
                acto_test_settle(env);
                assert_acto_err(acto_file_done_bytes(done, NULL),
                                ACTO_ECANCELED);
                acto_future_release(done);
                break;
            }
            assert_acto_err(rc, ACTO_ENOMEM);
            assert_null(done);
            assert_true(acto_ref_is_none(out));
            assert_int_equal(acto_test_alloc_live(), live);
        }
    }
    acto_test_close_system(env, sys);
    collector_free(&c);
}

/* Failing each allocation in turn while a file is copied: every run ends
 * (done completes one way or another) and leaks nothing. */
static void
file_copy_survives_any_failed_allocation(void **state)
{
    acto_test_env *env = *state;
    char *data = pattern_file(tpath("src"), 3000);
    free(data);
    int fds = open_fds();
    for (long n = 1;; n++) {
        caught ex = {0};
        acto_system *sys = new_system(env, &ex);
        acto_ref sink, source;
        acto_future *sdone = NULL, *kdone = NULL;
        acto_file_sink_opts ko = {.buffer_bytes = 256};
        acto_file_source_opts so = {.chunk_size = 100};
        acto_test_alloc_fail_nth(n);
        int rc = acto_file_sink_spawn(sys, tpath("dst"), &ko, &sink, &kdone);
        if (rc == 0) {
            so.to = sink;
            rc =
                acto_file_source_spawn(sys, tpath("src"), &so, &source, &sdone);
            if (rc != 0) {
                acto_kill(sys, sink);
            }
        }
        if (rc == 0) {
            /* A failed source sends no EOS: the sink is stopped, as a
             * pipeline would. */
            wait_done(env, sdone);
            if (acto_file_done_bytes(sdone, NULL) != 0) {
                acto_kill(sys, sink);
            }
            wait_done(env, kdone);
        }
        acto_test_settle(env);
        bool failed = acto_test_alloc_failed();
        acto_test_alloc_fail_nth(0);
        if (kdone != NULL) {
            wait_done(env, kdone);
            int rk = acto_file_done_bytes(kdone, NULL);
            assert_true(failed || rk == 0);
            acto_future_release(kdone);
        }
        if (sdone != NULL) {
            acto_file_done_bytes(sdone, NULL);
            acto_future_release(sdone);
        }
        acto_test_close_system(env, sys);
        acto_test_settle(env);
        assert_no_leaks();
        assert_int_equal(open_fds(), fds);
        if (!failed) {
            assert_true(n > 10); /* the sweep reached the streaming */
            size_t len;
            char *got = read_file(tpath("dst"), &len);
            assert_int_equal(len, 3000);
            free(got);
            break;
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        file_test(source_streams_lines_with_exact_content),
        file_test(source_sends_no_empty_item_after_a_last_newline),
        file_test(source_streams_chunks_in_order),
        file_test(source_of_an_empty_file_sends_only_eos),
        file_test(source_works_without_a_done_future),
        file_test(source_spawn_rejects_bad_arguments),
        file_test(source_of_a_missing_file_fails_with_file_not_found),
        file_test(source_of_a_directory_fails_with_is_a_directory),
        file_test(source_fails_on_a_line_longer_than_max_line),
        file_test(source_does_not_read_ahead_of_a_slow_bounded_receiver),
        file_test(source_fails_when_the_file_is_truncated_while_read),
        file_test(source_spawned_in_a_handler_fails_to_its_parent),
        file_test(sink_round_trip_copies_identical_bytes),
        file_test(sink_appends_or_truncates),
        file_test(sink_suspends_while_both_buffers_are_full),
        file_test(sink_writes_bytes_and_msgpack_items_and_ignores_others),
        file_test(sink_to_dev_full_fails_with_disk_full),
        file_test(sink_into_a_missing_directory_fails_with_file_not_found),
        file_test(sink_to_a_directory_fails_with_is_a_directory),
        file_test(sink_denied_a_file_fails_with_permission_denied),
        file_test(sink_killed_before_eos_closes_its_file_and_cancels_done),
        file_test(file_actors_killed_at_any_moment_leak_nothing),
        file_test(file_actors_close_with_the_system),
        file_test(file_spawns_fail_cleanly_without_memory),
        file_test(file_copy_survives_any_failed_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
