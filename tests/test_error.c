/* The error table: names and messages for acto's and libuv's codes. */
#include "acto_test.h"

#include <string.h>

static void
test_error_names_acto_codes(void **state)
{
    (void)state;
    assert_string_equal(acto_err_name(ACTO_EQUEUEFULL), "ACTO_EQUEUEFULL");
    assert_string_equal(acto_err_name(ACTO_ENOMEM), "ACTO_ENOMEM");
    assert_string_equal(acto_strerror(ACTO_EQUEUEEMPTY), "queue is empty");
    assert_string_equal(acto_err_name(0), "OK");
}

static void
test_error_codes_sit_below_libuv_block(void **state)
{
    (void)state;
#define CHECK_BLOCK(name, value, msg) assert_true((value) <= -20000);
    ACTO_ERRNO_MAP(CHECK_BLOCK)
#undef CHECK_BLOCK
}

static void
test_error_passes_libuv_codes_through(void **state)
{
    (void)state;
    assert_string_equal(acto_err_name(UV_EAGAIN), "UV_EAGAIN");
    assert_string_equal(acto_strerror(UV_EAGAIN), uv_strerror(UV_EAGAIN));
}

static void
test_error_names_unknown_codes_without_guessing(void **state)
{
    (void)state;
    assert_string_equal(acto_err_name(-29999), "UNKNOWN");
    assert_string_equal(acto_strerror(-29999), "unknown error");
    assert_string_equal(acto_err_name(12345), "UNKNOWN");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_names_acto_codes),
        cmocka_unit_test(test_error_codes_sit_below_libuv_block),
        cmocka_unit_test(test_error_passes_libuv_codes_through),
        cmocka_unit_test(test_error_names_unknown_codes_without_guessing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
