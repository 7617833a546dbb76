/* The allocator hook and the counting allocator the other tests rely on. */
#include "acto_test.h"

static void *
null_malloc(size_t size, void *user)
{
    (void)size;
    (void)user;
    return NULL;
}

static void
test_alloc_set_rejects_missing_functions(void **state)
{
    (void)state;
    acto_allocator before;
    acto_allocator_get(&before);
    acto_allocator half = {null_malloc, NULL, NULL};
    assert_acto_err(acto_allocator_set(&half), ACTO_EINVAL);
    acto_allocator after;
    acto_allocator_get(&after);
    assert_ptr_equal(before.malloc, after.malloc);
    assert_ptr_equal(before.free, after.free);
}

static void
test_alloc_failing_hook_makes_queue_alloc_return_enomem(void **state)
{
    acto_test_env *env = *state;
    acto_test_alloc_fail_nth(1);
    acto_queue *q = NULL;
    assert_acto_err(acto_queue_alloc(&env->loop, NULL, &q), ACTO_ENOMEM);
    assert_null(q);
    assert_true(acto_test_alloc_failed());
}

static void
test_alloc_counting_allocator_sees_queue_memory(void **state)
{
    acto_test_env *env = *state;
    acto_queue *q;
    assert_acto_ok(acto_queue_alloc(&env->loop, NULL, &q));
    assert_true(acto_test_alloc_live() > 0);
    assert_acto_ok(acto_queue_close(q, NULL, NULL));
    assert_true(acto_test_quiesce(&env->loop, 1000));
    assert_int_equal(acto_test_alloc_live(), 0);
}

static void
test_alloc_set_null_restores_default(void **state)
{
    (void)state;
    acto_test_alloc_install();
    assert_acto_ok(acto_allocator_set(NULL));
    /* Armed, the counting allocator would fail the next allocation; the
     * default one must be in use instead. */
    acto_test_alloc_fail_nth(1);
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    acto_queue *q;
    assert_acto_ok(acto_queue_alloc(&loop, NULL, &q));
    assert_false(acto_test_alloc_failed());
    assert_int_equal(acto_test_alloc_total(), 0);
    assert_acto_ok(acto_queue_close(q, NULL, NULL));
    assert_true(acto_test_quiesce(&loop, 1000));
    assert_int_equal(uv_loop_close(&loop), 0);
    acto_test_alloc_fail_nth(0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_set_rejects_missing_functions),
        acto_unit_test(test_alloc_failing_hook_makes_queue_alloc_return_enomem),
        acto_unit_test(test_alloc_counting_allocator_sees_queue_memory),
        cmocka_unit_test(test_alloc_set_null_restores_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
