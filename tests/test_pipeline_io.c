/* Pipelines talking to the outside: async stages with a concurrency limit
 * (alone and sharing one semaphore), and file stages (a file streamed
 * through a pipeline into another file; file errors failing it; draining
 * a file source). */
#include "acto_test.h"

#include <acto/pipeline.h>
#include <acto/sync.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { T_NUM = 1, T_LINE, T_REQ, T_REPLY };

typedef struct counter {
    int next, last;
} counter;

static int
count_up(acto_emitter *out, void *state)
{
    counter *c = state;
    if (c->next > c->last) {
        return ACTO_PIPE_END;
    }
    int v = c->next++;
    return acto_emit_bytes(out, T_NUM, &v, sizeof(v));
}

/* ---- a slow service: answers each request 10 ms later ----------------- */

typedef struct service {
    int in_flight, max_in_flight, served;
    bool drop_sevens; /* never answer multiples of 7 */
} service;

#define T_LATER 9

typedef struct later {
    acto_ref to;
    uint64_t corr;
    int v;
} later;

static int
service_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    service *s = state;
    if (acto_msg_type(m) == T_REQ) {
        int v = acto_test_msg_int(m);
        s->in_flight++;
        if (s->in_flight > s->max_in_flight) {
            s->max_in_flight = s->in_flight;
        }
        if (s->drop_sevens && v % 7 == 0) {
            s->in_flight--;
            return 0;
        }
        later l = {acto_sender(ctx), acto_msg_correlation(m), v * 10};
        acto_msg *t;
        assert_acto_ok(acto_msg_new_bytes(acto_ctx_system(ctx), T_LATER, &l,
                                          sizeof(l), &t));
        assert_acto_ok(
            acto_send_after(acto_ctx_system(ctx), 10, acto_self(ctx), t, NULL));
        return 0;
    }
    if (acto_msg_type(m) == T_LATER) {
        later l;
        memcpy(&l, acto_msg_data(m, NULL), sizeof(l));
        s->in_flight--;
        s->served++;
        acto_msg *r;
        assert_acto_ok(acto_msg_new_bytes(acto_ctx_system(ctx), T_REPLY, &l.v,
                                          sizeof(l.v), &r));
        acto_msg_set_correlation(r, l.corr);
        return acto_send(ctx, l.to, r);
    }
    return 0;
}

static const acto_behaviour service_b = {.receive = service_receive};

typedef struct asker {
    acto_system *sys;
    acto_ref service;
} asker;

static int
ask_service(void *state, const acto_msg *item, acto_future **out)
{
    asker *a = state;
    acto_msg *req;
    int v = acto_test_msg_int(item);
    int rc = acto_msg_new_bytes(a->sys, T_REQ, &v, sizeof(v), &req);
    if (rc == 0 && (rc = acto_ask(a->sys, a->service, req, 100, out)) != 0) {
        acto_msg_free(req);
    }
    return rc;
}

typedef struct tally {
    int n, last;
    long sum;
    bool ordered;
} tally;

static int
add_up(acto_emitter *out, void *state, const acto_msg *item)
{
    (void)out;
    tally *t = state;
    int v = acto_test_msg_int(item);
    if (t->n > 0 && v < t->last) {
        t->ordered = false;
    }
    t->last = v;
    t->sum += v;
    t->n++;
    return 0;
}

static acto_system *
vsys(acto_test_env *env)
{
    return acto_test_system(env, &(acto_system_opts){.virtual_time = true});
}

/* run_clock advances the virtual clock until f is done. */
static void
run_clock(acto_test_env *env, acto_system *sys, acto_future *f)
{
    acto_test_settle(env);
    for (int i = 0; i < 100000 && !acto_future_done(f); i++) {
        assert_acto_ok(acto_system_advance(sys, 1));
        acto_test_settle(env);
    }
    assert_true(acto_future_done(f));
}

static void
async_stage_keeps_at_most_k_in_flight_in_order(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = vsys(env);
    service svc = {0};
    asker a = {sys, ACTO_REF_NONE};
    assert_acto_ok(acto_spawn(sys, &service_b, &svc, NULL, &a.service));
    counter c = {.next = 1, .last = 200};
    tally t = {.ordered = true};
    acto_pipeline *p;
    acto_stage *src, *as, *snk;
    assert_acto_ok(acto_pipeline_new(sys, NULL, &p));
    assert_acto_ok(acto_pipeline_source(p, count_up, &c, NULL, &src));
    acto_async_opts ao = {.max_in_flight = 3};
    assert_acto_ok(
        acto_pipeline_async(p, src, &ao, ask_service, &a, NULL, &as));
    assert_acto_ok(acto_pipeline_sink(p, as, add_up, &t, NULL, &snk));
    acto_future *done;
    assert_acto_ok(acto_pipeline_start(p, &done));
    run_clock(env, sys, done);
    assert_int_equal(acto_future_state_of(done), ACTO_FUTURE_DONE);
    assert_int_equal(svc.max_in_flight, 3); /* the limit, and used */
    assert_int_equal(t.n, 200);
    assert_true(t.ordered);
    assert_int_equal(t.sum, 10L * 200 * 201 / 2);
    acto_future_release(done);
    assert_acto_ok(acto_pipeline_free(p));
    acto_test_close_system(env, sys);
}

static void
async_stages_share_one_semaphore(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = vsys(env);
    service svc = {0};
    asker a = {sys, ACTO_REF_NONE};
    assert_acto_ok(acto_spawn(sys, &service_b, &svc, NULL, &a.service));
    acto_semaphore *limit;
    assert_acto_ok(acto_semaphore_new(sys, 4, true, &limit));
    counter c1 = {.next = 1, .last = 100}, c2 = {.next = 1, .last = 100};
    tally t = {.ordered = true};
    acto_pipeline *p;
    acto_stage *s1, *s2, *a1, *a2, *m, *snk;
    assert_acto_ok(acto_pipeline_new(sys, NULL, &p));
    assert_acto_ok(acto_pipeline_source(p, count_up, &c1, NULL, &s1));
    assert_acto_ok(acto_pipeline_source(p, count_up, &c2, NULL, &s2));
    acto_async_opts ao = {.max_in_flight = 16, .limit = limit};
    assert_acto_ok(acto_pipeline_async(p, s1, &ao, ask_service, &a, NULL, &a1));
    assert_acto_ok(acto_pipeline_async(p, s2, &ao, ask_service, &a, NULL, &a2));
    acto_stage *both[2] = {a1, a2};
    assert_acto_ok(acto_pipeline_merge(p, both, 2, NULL, &m));
    assert_acto_ok(acto_pipeline_sink(p, m, add_up, &t, NULL, &snk));
    acto_future *done;
    assert_acto_ok(acto_pipeline_start(p, &done));
    run_clock(env, sys, done);
    assert_int_equal(acto_future_state_of(done), ACTO_FUTURE_DONE);
    assert_int_equal(svc.max_in_flight, 4); /* shared: 4 in all, not 32 */
    assert_int_equal(t.n, 200);
    assert_int_equal(acto_semaphore_value(limit), 4); /* all given back */
    acto_future_release(done);
    assert_acto_ok(acto_pipeline_free(p));
    acto_semaphore_free(limit);
    acto_test_close_system(env, sys);
}

static void
async_timeouts_go_to_the_policy(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = vsys(env);
    service svc = {.drop_sevens = true};
    asker a = {sys, ACTO_REF_NONE};
    assert_acto_ok(acto_spawn(sys, &service_b, &svc, NULL, &a.service));
    counter c = {.next = 1, .last = 70};
    tally t = {.ordered = true};
    acto_pipeline *p;
    acto_stage *src, *as, *snk;
    assert_acto_ok(acto_pipeline_new(sys, NULL, &p));
    assert_acto_ok(acto_pipeline_source(p, count_up, &c, NULL, &src));
    acto_stage_opts so = {.on_error = ACTO_ON_ERROR_SKIP};
    assert_acto_ok(
        acto_pipeline_async(p, src, NULL, ask_service, &a, &so, &as));
    assert_acto_ok(acto_pipeline_sink(p, as, add_up, &t, NULL, &snk));
    acto_future *done;
    assert_acto_ok(acto_pipeline_start(p, &done));
    run_clock(env, sys, done);
    assert_int_equal(acto_future_state_of(done), ACTO_FUTURE_DONE);
    acto_stage_stats st;
    assert_acto_ok(acto_pipeline_stats(p, as, &st));
    assert_int_equal(st.skipped, 10); /* 7, 14, ..., 70 timed out */
    assert_int_equal(t.n, 60);
    assert_true(t.ordered);
    acto_future_release(done);
    assert_acto_ok(acto_pipeline_free(p));
    acto_test_close_system(env, sys);
}

/* ---- file stages ------------------------------------------------------ */

static char dir[64];

static void
make_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/acto-pipe-XXXXXX");
    assert_non_null(mkdtemp(dir));
}

static void
remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void
path_in(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
}

/* Upper-cases a line in place and passes it on. */
static int
shout(acto_emitter *out, void *state, acto_msg *item)
{
    (void)state;
    size_t len;
    char *s = acto_msg_data_mut(item, &len);
    for (size_t i = 0; i < len; i++) {
        if (s[i] >= 'a' && s[i] <= 'z') {
            s[i] = (char)(s[i] - 'a' + 'A');
        }
    }
    return acto_emit(out, item);
}

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 20];
    *len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    return buf;
}

static void
file_through_pipeline_into_file(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    make_dir();
    char in[128], out_path[128];
    path_in(in, sizeof(in), "in.txt");
    path_in(out_path, sizeof(out_path), "out.txt");
    FILE *f = fopen(in, "w");
    assert_non_null(f);
    for (int i = 0; i < 5000; i++) {
        fprintf(f, "line %d of the input\n", i);
    }
    fclose(f);
    acto_pipeline *p;
    acto_stage *src, *up, *snk;
    assert_acto_ok(acto_pipeline_new(sys, NULL, &p));
    acto_file_source_opts fo = {.item_type = T_LINE, .chunk_size = 4096};
    assert_acto_ok(acto_pipeline_source_file(p, in, &fo, NULL, &src));
    assert_acto_ok(acto_pipeline_stage(p, src, shout, NULL, NULL, &up));
    acto_file_sink_opts so = {.newline = true};
    assert_acto_ok(acto_pipeline_sink_file(p, up, out_path, &so, NULL, &snk));
    acto_future *done;
    assert_acto_ok(acto_pipeline_start(p, &done));
    acto_test_settle(env);
    assert_int_equal(acto_future_state_of(done), ACTO_FUTURE_DONE);
    uint64_t rbytes, wbytes;
    assert_acto_ok(acto_pipeline_file_bytes(src, &rbytes));
    assert_acto_ok(acto_pipeline_file_bytes(snk, &wbytes));
    assert_int_equal(rbytes, wbytes);
    size_t len;
    char *text = slurp(out_path, &len);
    assert_int_equal(len, wbytes);
    assert_true(strncmp(text, "LINE 0 OF THE INPUT\nLINE 1 OF", 29) == 0);
    assert_non_null(strstr(text, "LINE 4999 OF THE INPUT\n"));
    acto_stage_stats st;
    assert_acto_ok(acto_pipeline_stats(p, snk, &st));
    assert_int_equal(st.in, 5000);
    assert_acto_err(acto_pipeline_file_bytes(up, &rbytes), ACTO_EINVAL);
    acto_future_release(done);
    assert_acto_ok(acto_pipeline_free(p));
    remove_dir();
    acto_test_close_system(env, sys);
}

static void
file_errors_fail_the_pipeline(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    make_dir();
    char missing[128], in[128];
    path_in(missing, sizeof(missing), "missing.txt");
    path_in(in, sizeof(in), "in.txt");
    FILE *f = fopen(in, "w");
    assert_non_null(f);
    for (int i = 0; i < 20000; i++) {
        fprintf(f, "%d\n", i);
    }
    fclose(f);
    const char *sources[2] = {missing, in};
    const char *sinks[2] = {"/tmp", "/dev/full"};
    const char *types[2] = {"FileNotFound", "DiskFull"};
    for (int k = 0; k < 2; k++) {
        acto_pipeline *p;
        acto_stage *src, *snk;
        assert_acto_ok(acto_pipeline_new(sys, NULL, &p));
        assert_acto_ok(
            acto_pipeline_source_file(p, sources[k], NULL, NULL, &src));
        char sink_path[128];
        snprintf(sink_path, sizeof(sink_path), "%s%s", sinks[k],
                 k == 0 ? "/acto-never-written" : "");
        assert_acto_ok(
            acto_pipeline_sink_file(p, src, sink_path, NULL, NULL, &snk));
        acto_future *done;
        assert_acto_ok(acto_pipeline_start(p, &done));
        acto_test_settle(env);
        assert_int_equal(acto_future_state_of(done), ACTO_FUTURE_FAILED);
        assert_string_equal(acto_future_exception(done)->type, types[k]);
        acto_future_release(done);
        assert_acto_ok(acto_pipeline_free(p));
    }
    unlink("/tmp/acto-never-written");
    remove_dir();
    acto_test_close_system(env, sys);
}

/* ---- allocation failure into a file sink ------------------------------ */

/* Whichever allocation fails, a pipeline into a file sink ends: done or
 * failed, never waiting forever for an end of stream that was lost. */
static void
file_sink_pipeline_ends_whatever_allocation_fails(void **state)
{
    acto_test_env *env = *state;
    make_dir();
    char out[128];
    path_in(out, sizeof(out), "out.txt");
    for (long nth = 1; nth < 400; nth++) {
        acto_system *sys = acto_test_system(env, NULL);
        counter c = {.next = 1, .last = 50};
        acto_pipeline *p = NULL;
        acto_stage *src, *snk;
        acto_future *done = NULL;
        acto_test_alloc_fail_nth(nth);
        int rc = acto_pipeline_new(sys, NULL, &p);
        if (rc == 0) {
            rc = acto_pipeline_source(p, count_up, &c, NULL, &src);
        }
        if (rc == 0) {
            rc = acto_pipeline_sink_file(p, src, out, NULL, NULL, &snk);
        }
        if (rc == 0) {
            rc = acto_pipeline_start(p, &done);
        }
        acto_test_settle(env);
        bool failed = acto_test_alloc_failed();
        acto_test_alloc_fail_nth(0);
        if (done != NULL) {
            acto_future_state fs = acto_future_state_of(done);
            assert_true(fs == ACTO_FUTURE_DONE || fs == ACTO_FUTURE_FAILED);
            (void)acto_future_exception(done);
            acto_future_release(done);
        } else {
            assert_int_not_equal(rc, 0);
        }
        if (p != NULL) {
            assert_acto_ok(acto_pipeline_free(p));
        }
        acto_test_close_system(env, sys);
        assert_no_leaks();
        if (!failed) {
            break; /* every allocation was tried */
        }
    }
    remove_dir();
}

/* ---- the system closing under a pipeline ------------------------------ */

static bool
some_arrived(void *arg)
{
    return ((tally *)arg)->n >= 100;
}

static void
system_close_stops_a_running_pipeline(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = acto_test_system(env, NULL);
    counter c = {.next = 1, .last = 1 << 30};
    tally t = {.ordered = true};
    acto_pipeline *p;
    acto_stage *src, *snk;
    assert_acto_ok(acto_pipeline_new(sys, NULL, &p));
    assert_acto_ok(acto_pipeline_source(p, count_up, &c, NULL, &src));
    assert_acto_ok(acto_pipeline_sink(p, src, add_up, &t, NULL, &snk));
    acto_future *done;
    assert_acto_ok(acto_pipeline_start(p, &done));
    assert_true(acto_test_run_until(&env->loop, some_arrived, &t, 5000));
    acto_test_close_system(env, sys);
    /* Every stage stopped: the future failed, the pipeline can go. */
    assert_int_equal(acto_future_state_of(done), ACTO_FUTURE_FAILED);
    assert_string_equal(acto_future_exception(done)->type, "StageStopped");
    acto_future_release(done);
    assert_acto_ok(acto_pipeline_free(p));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(async_stage_keeps_at_most_k_in_flight_in_order),
        acto_unit_test(async_stages_share_one_semaphore),
        acto_unit_test(async_timeouts_go_to_the_policy),
        acto_unit_test(file_through_pipeline_into_file),
        acto_unit_test(file_errors_fail_the_pipeline),
        acto_unit_test(file_sink_pipeline_ends_whatever_allocation_fails),
        acto_unit_test(system_close_stops_a_running_pipeline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
