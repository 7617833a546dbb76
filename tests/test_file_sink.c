/* File actors, part two: the sink writes items through bounded buffers,
 * names its errors and closes its file however it stops; both actors
 * killed at any moment, closed with the system, or short of memory. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "file_world.h"

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
