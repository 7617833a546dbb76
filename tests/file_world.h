/* The world the file actor tests share: a temporary directory per test,
 * a receiver that records items, an exception counter and loop runners.
 * Included by test_file.c and test_file_sink.c (static helpers). */
#ifndef ACTO_FILE_WORLD_H
#define ACTO_FILE_WORLD_H

/* Not every test file uses every helper. */
#define FILE_UNUSED __attribute__((unused))

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

static FILE_UNUSED int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static FILE_UNUSED int
file_setup(void **state)
{
    snprintf(g_dir, sizeof(g_dir), "/tmp/acto_file_XXXXXX");
    if (mkdtemp(g_dir) == NULL) {
        return -1;
    }
    return acto_test_setup(state);
}

static FILE_UNUSED int
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

static FILE_UNUSED void
write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* read_file returns the file's bytes (malloc'd) and their count. */
static FILE_UNUSED char *
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
static FILE_UNUSED char *
pattern_file(const char *path, size_t n)
{
    char *data = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        data[i] = (char)('a' + (i * 7 + i / 13) % 26);
    }
    write_file(path, data, n);
    return data;
}

static FILE_UNUSED int
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

static FILE_UNUSED int
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

static FILE_UNUSED void
collector_free(collector *c)
{
    free(c->data);
    free(c->ends);
}

static FILE_UNUSED void
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

static FILE_UNUSED void
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

static FILE_UNUSED bool
future_done(void *arg)
{
    return acto_future_done(arg);
}

static FILE_UNUSED void
wait_done(acto_test_env *env, acto_future *f)
{
    assert_true(acto_test_run_until(&env->loop, future_done, f, DEADLINE_MS));
}

/* A system whose stray failures land in *ex. */
static FILE_UNUSED acto_system *
new_system(acto_test_env *env, caught *ex)
{
    acto_system *sys = acto_test_system(env, NULL);
    acto_system_set_exception_handler(sys, on_exception, ex);
    return sys;
}

/* stream runs a source over path into a fresh collector and waits for the
 * end; returns done's code and sets *bytes. */
static FILE_UNUSED int
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

/* expect_failure checks a failed done and the stray error it matches. */
static FILE_UNUSED void
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

#endif /* ACTO_FILE_WORLD_H */
