/* Debug mode: dead letters, slow handlers, mailbox high-water marks and
 * never-retrieved future errors are reported with where they came from. */
#include "acto_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Captures what the runtime writes to stderr between begin and end. */
typedef struct capture {
    int saved;
    FILE *file;
    char text[8192];
} capture;

static void
capture_begin(capture *c)
{
    fflush(stderr);
    c->file = tmpfile();
    assert_non_null(c->file);
    c->saved = dup(fileno(stderr));
    assert_true(c->saved >= 0);
    assert_true(dup2(fileno(c->file), fileno(stderr)) >= 0);
}

static void
capture_end(capture *c)
{
    fflush(stderr);
    dup2(c->saved, fileno(stderr));
    close(c->saved);
    rewind(c->file);
    size_t n = fread(c->text, 1, sizeof(c->text) - 1, c->file);
    c->text[n] = '\0';
    fclose(c->file);
}

static acto_system *
debug_system(acto_test_env *env)
{
    acto_system_opts o = {
        .debug = true, .slow_handler_ms = 2, .mailbox_high_water = 5};
    return acto_test_system(env, &o);
}

static int
slow_receive(acto_ctx *ctx, void *state, const acto_msg *m)
{
    (void)ctx;
    (void)state;
    if (acto_msg_type(m) == 2) {
        /* Busy for 10 ms of monotonic time: deterministic, no sleep. */
        uint64_t end = uv_hrtime() + 10u * 1000000u;
        while (uv_hrtime() < end) {
        }
    }
    return 0;
}

static const acto_behaviour slow_b = {slow_receive, NULL, NULL};

static void
test_debug_reports_slow_handlers_and_high_water_marks(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = debug_system(env);
    acto_spawn_opts o = {.label = "sluggish"};
    acto_ref ref;
    assert_acto_ok(acto_spawn(sys, &slow_b, NULL, &o, &ref));
    capture c;
    capture_begin(&c);
    for (int i = 0; i < 7; i++) {
        assert_acto_ok(acto_test_send_int(sys, ref, 1, i));
    }
    assert_acto_ok(acto_test_send_int(sys, ref, 2, 0));
    acto_test_settle(env);
    capture_end(&c);
    assert_non_null(strstr(c.text, "slow handler"));
    assert_non_null(strstr(c.text, "sluggish"));
    assert_non_null(strstr(c.text, "passed 5 messages"));
    /* Once per crossing, not once per message. */
    const char *first = strstr(c.text, "passed 5");
    assert_null(strstr(first + 1, "passed 5"));
    acto_test_close_system(env, sys);
}

static void
test_debug_reports_dead_letters(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = debug_system(env);
    capture c;
    capture_begin(&c);
    assert_acto_ok(acto_test_send_int(sys, ACTO_REF_NONE, 1, 0));
    capture_end(&c);
    assert_non_null(strstr(c.text, "dead letter"));
    acto_system_set_debug(sys, false);
    assert_false(acto_system_debug(sys));
    capture_begin(&c);
    assert_acto_ok(acto_test_send_int(sys, ACTO_REF_NONE, 1, 0));
    capture_end(&c);
    assert_null(strstr(c.text, "dead letter"));
    acto_test_close_system(env, sys);
}

typedef struct report {
    int n;
    char text[400];
} report;

static void
keep_report(acto_system *sys, const acto_error *e, void *user)
{
    (void)sys;
    report *r = user;
    r->n++;
    snprintf(r->text, sizeof(r->text), "%s", e->text);
}

static void
test_debug_names_where_a_never_retrieved_future_was_created(void **state)
{
    acto_test_env *env = *state;
    acto_system *sys = debug_system(env);
    report r = {0};
    acto_system_set_exception_handler(sys, keep_report, &r);
    acto_future *f;
    assert_acto_ok(acto_future_new(sys, &f));
    assert_acto_ok(acto_future_set_error(f, ACTO_EINVAL, NULL, "lost"));
    acto_future_release(f);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.text, "test_debug.c:"));
    assert_non_null(strstr(r.text, "lost"));
    acto_test_close_system(env, sys);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(test_debug_reports_slow_handlers_and_high_water_marks),
        acto_unit_test(test_debug_reports_dead_letters),
        acto_unit_test(
            test_debug_names_where_a_never_retrieved_future_was_created),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
