/* The framing decoders of <acto/frame.h>: frames cut anywhere across
 * reads, limits checked before allocating, malformed input refused for
 * good, and the headers writers put before a payload. */
#include "acto_test.h"

#include <acto/frame.h>
#include <string.h>

/* feed_all runs every byte of in through d, one chunk of at most step
 * bytes at a time, and appends the frames to out as "len:bytes;".
 * Returns the first error, or 0. */
static int
feed_all(acto_frame_decoder *d, const void *in, size_t len, size_t step,
         char *out, size_t cap)
{
    const uint8_t *p = in;
    size_t o = 0;
    while (len > 0) {
        size_t n = len < step ? len : step;
        while (n > 0) {
            size_t used = 0, flen = 0;
            const void *f = NULL;
            int rc = acto_frame_next(d, p, n, &used, &f, &flen);
            if (rc < 0) {
                return rc;
            }
            p += used;
            n -= used;
            len -= used;
            if (rc == 1) {
                int w = snprintf(out + o, cap - o, "%zu:%.*s;", flen, (int)flen,
                                 (const char *)f);
                o += (size_t)w;
            }
        }
    }
    return 0;
}

static void
test_frame_lines_cut_anywhere(void **state)
{
    (void)state;
    const char in[] = "one\ntwo\r\n\nthree\n";
    for (size_t step = 1; step <= sizeof(in); step++) {
        acto_frame_decoder *d;
        assert_acto_ok(acto_frame_decoder_alloc(ACTO_FRAME_LINES, 16, &d));
        char out[128] = "";
        assert_acto_ok(feed_all(d, in, sizeof(in) - 1, step, out, sizeof(out)));
        assert_string_equal(out, "3:one;3:two;0:;5:three;");
        assert_int_equal(acto_frame_buffered(d), 0);
        acto_frame_decoder_free(d);
    }
}

static void
test_frame_lines_over_the_limit_fail_for_good(void **state)
{
    (void)state;
    acto_frame_decoder *d;
    assert_acto_ok(acto_frame_decoder_alloc(ACTO_FRAME_LINES, 4, &d));
    char out[64] = "";
    /* Exactly the limit, with a "\r\n", is fine. */
    assert_acto_ok(feed_all(d, "abcd\r\n", 6, 1, out, sizeof(out)));
    assert_string_equal(out, "4:abcd;");
    /* One more byte without a newline is refused before it arrives. */
    assert_acto_err(feed_all(d, "abcde", 5, 5, out, sizeof(out)), UV_EMSGSIZE);
    assert_acto_err(feed_all(d, "ok\n", 3, 3, out, sizeof(out)), UV_EMSGSIZE);
    acto_frame_decoder_free(d);
}

static void
test_frame_msgpack_cut_anywhere(void **state)
{
    (void)state;
    /* [1, "hi"] then "ok" then 7 */
    const uint8_t in[] = {0, 0, 0,    5,   0x92, 0x01, 0xa2, 'h', 'i', 0,   0,
                          0, 3, 0xa2, 'o', 'k',  0,    0,    0,   1,   0x07};
    for (size_t step = 1; step <= sizeof(in); step++) {
        acto_frame_decoder *d;
        assert_acto_ok(acto_frame_decoder_alloc(ACTO_FRAME_MSGPACK, 0, &d));
        int frames = 0;
        const uint8_t *p = in;
        size_t len = sizeof(in);
        while (len > 0) {
            size_t n = len < step ? len : step, used, flen;
            const void *f;
            int rc = acto_frame_next(d, p, n, &used, &f, &flen);
            assert_true(rc >= 0);
            if (rc == 1) {
                size_t want[] = {5, 3, 1};
                assert_int_equal(flen, want[frames]);
                frames++;
            }
            p += used;
            len -= used;
        }
        assert_int_equal(frames, 3);
        acto_frame_decoder_free(d);
    }
}

static void
test_frame_msgpack_length_is_checked_before_allocating(void **state)
{
    (void)state;
    acto_test_alloc_install();
    acto_frame_decoder *d;
    assert_acto_ok(acto_frame_decoder_alloc(ACTO_FRAME_MSGPACK, 1024, &d));
    long before = acto_test_alloc_live_bytes();
    const uint8_t hdr[] = {0x7f, 0xff, 0xff, 0xff};
    size_t used, flen;
    const void *f;
    assert_acto_err(acto_frame_next(d, hdr, sizeof(hdr), &used, &f, &flen),
                    UV_EMSGSIZE);
    assert_int_equal(acto_test_alloc_live_bytes(), before);
    acto_frame_decoder_free(d);
    assert_no_leaks();
    acto_test_alloc_uninstall();
}

static void
test_frame_msgpack_refuses_what_is_not_one_object(void **state)
{
    (void)state;
    const uint8_t two[] = {0, 0, 0, 2, 0x01, 0x02};
    const uint8_t cut[] = {0, 0, 0, 2, 0x92, 0x01}; /* array of 2, 1 given */
    const uint8_t reserved[] = {0, 0, 0, 1, 0xc1};
    const uint8_t bomb[] = {0, 0, 0, 5, 0xdd, 0x42, 0x7f, 0xff, 0x1e};
    const uint8_t empty[] = {0, 0, 0, 0};
    const uint8_t *bad[] = {two, cut, reserved, bomb, empty};
    size_t lens[] = {sizeof(two), sizeof(cut), sizeof(reserved), sizeof(bomb),
                     sizeof(empty)};
    for (size_t i = 0; i < 5; i++) {
        acto_frame_decoder *d;
        assert_acto_ok(acto_frame_decoder_alloc(ACTO_FRAME_MSGPACK, 0, &d));
        size_t used, flen;
        const void *f;
        assert_acto_err(acto_frame_next(d, bad[i], lens[i], &used, &f, &flen),
                        UV_EPROTO);
        assert_acto_err(acto_frame_next(d, bad[i], lens[i], &used, &f, &flen),
                        UV_EPROTO);
        acto_frame_decoder_free(d);
    }
}

static void
test_frame_headers_and_bad_arguments(void **state)
{
    (void)state;
    uint8_t h[ACTO_FRAME_HEADER];
    size_t n;
    assert_acto_ok(acto_frame_header(ACTO_FRAME_MSGPACK, 0, 258, h, &n));
    assert_int_equal(n, 4);
    assert_memory_equal(h, "\x00\x00\x01\x02", 4);
    assert_acto_ok(acto_frame_header(ACTO_FRAME_LINES, 0, 5, h, &n));
    assert_int_equal(n, 0);
    assert_string_equal(acto_frame_trailer(ACTO_FRAME_LINES), "\n");
    assert_string_equal(acto_frame_trailer(ACTO_FRAME_MSGPACK), "");
    assert_acto_err(acto_frame_header(ACTO_FRAME_MSGPACK, 10, 11, h, &n),
                    UV_EMSGSIZE);
    assert_acto_err(acto_frame_header((acto_frame_kind)9, 0, 1, h, &n),
                    ACTO_EINVAL);
    acto_frame_decoder *d;
    assert_acto_err(acto_frame_decoder_alloc(ACTO_FRAME_NONE, 0, &d),
                    ACTO_EINVAL);
    assert_acto_err(
        acto_frame_decoder_alloc(ACTO_FRAME_LINES, ACTO_FRAME_CEILING + 1, &d),
        ACTO_EINVAL);
    assert_acto_err(acto_frame_decoder_alloc(ACTO_FRAME_LINES, 0, NULL),
                    ACTO_EINVAL);
    assert_acto_ok(acto_frame_check_msgpack("\x07", 1));
    assert_acto_err(acto_frame_check_msgpack("\x07\x07", 2), UV_EPROTO);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_lines_cut_anywhere),
        cmocka_unit_test(test_frame_lines_over_the_limit_fail_for_good),
        cmocka_unit_test(test_frame_msgpack_cut_anywhere),
        cmocka_unit_test(
            test_frame_msgpack_length_is_checked_before_allocating),
        cmocka_unit_test(test_frame_msgpack_refuses_what_is_not_one_object),
        cmocka_unit_test(test_frame_headers_and_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
