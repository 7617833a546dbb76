/* File actors, part one: the source streams lines and chunks with
 * backpressure and names its errors. Real files in a temporary directory
 * each test makes and removes (file_world.h). */
#define _XOPEN_SOURCE 700 /* nftw */
#include "file_world.h"

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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
