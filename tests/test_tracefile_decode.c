/* The trace reader's event decoding, byte by byte: every msgpack integer
 * encoding in every element of an event, every byte that is not an
 * integer there, and every value out of its field's range. Each event is
 * read in two places: first in a chunk followed by 100 bytes and more
 * (where the reader's fast path decodes it) and alone in the last chunk,
 * a few bytes before the end of the file (where it is decoded carefully).
 * Both must give the same event, or the same error at the same offset. */
#include "acto_test.h"

#include <acto/tracefile.h>

#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- building files byte by byte --------------------------------------- */

#define REF(slot, gen) ((uint64_t)(gen) << 32 | (uint64_t)(slot))
static const uint64_t table[3] = {REF(1, 1), REF(2, 7), REF(0xffffffff, 3)};

/* How an element is encoded: the shortest way, a fixint (positive or
 * negative), or one of msgpack's sized integers. */
enum { E_SHORT, E_FIX, E_U8, E_U16, E_U32, E_U64, E_I8, E_I16, E_I32, E_I64 };
#define N_ENC 10

/* An event as written: 3 + popcount(mask) elements, each with its
 * encoding; raw: a msgpack object to write in place of element bad (not
 * an integer), raw_len bytes. */
typedef struct spec {
    uint64_t v[11];
    int enc[11];
    int n;
    int bad;
    const char *raw;
    size_t raw_len;
} spec;

/* Whether v fits encoding enc (as the 64 bits of a delta, or a uint). */
static bool
fits(int enc, uint64_t v)
{
    int64_t s = (int64_t)v;
    switch (enc) {
    case E_FIX:
        return s >= -32 && s <= 127;
    case E_U8:
        return v <= 0xff;
    case E_U16:
        return v <= 0xffff;
    case E_U32:
        return v <= 0xffffffffu;
    case E_I8:
        return s >= INT8_MIN && s <= INT8_MAX;
    case E_I16:
        return s >= INT16_MIN && s <= INT16_MAX;
    case E_I32:
        return s >= INT32_MIN && s <= INT32_MAX;
    default:
        return true;
    }
}

static size_t
put_int(uint8_t *w, int enc, uint64_t v)
{
    static const uint8_t type[] = {0,    0,    0xcc, 0xcd, 0xce,
                                   0xcf, 0xd0, 0xd1, 0xd2, 0xd3};
    static const int len[] = {0, 0, 1, 2, 4, 8, 1, 2, 4, 8};
    if (enc == E_SHORT) {
        enc = fits(E_FIX, v)    ? E_FIX
              : fits(E_U8, v)   ? E_U8
              : fits(E_U16, v)  ? E_U16
              : fits(E_U32, v)  ? E_U32
              : (int64_t)v >= 0 ? E_U64
              : fits(E_I8, v)   ? E_I8
              : fits(E_I16, v)  ? E_I16
              : fits(E_I32, v)  ? E_I32
                                : E_I64;
    }
    if (enc == E_FIX) {
        w[0] = (uint8_t)v;
        return 1;
    }
    w[0] = type[enc];
    for (int i = 0; i < len[enc]; i++) {
        w[1 + i] = (uint8_t)(v >> (8 * (len[enc] - 1 - i)));
    }
    return 1 + (size_t)len[enc];
}

/* Writes the event; returns its size, and the offset of element k (from
 * the event's start) in *at when at is not NULL. */
static size_t
put_event(uint8_t *w, const spec *s, int k, size_t *at)
{
    size_t n = 0;
    w[n++] = (uint8_t)(0x90 | s->n);
    for (int i = 0; i < s->n; i++) {
        if (i == k && at != NULL) {
            *at = n;
        }
        if (i == s->bad) {
            memcpy(w + n, s->raw, s->raw_len);
            n += s->raw_len;
        } else {
            n += put_int(w + n, s->enc[i], s->v[i]);
        }
    }
    return n;
}

/* A filler event: HANDLED by actor 1, 5 bytes. */
static size_t
put_filler(uint8_t *w)
{
    memcpy(w, "\x94\x05\x01\x01\x01", 5);
    return 5;
}

#define FILLERS 24 /* 120 bytes: the test event's longest encoding fits */

static void
pack_chunk(msgpack_sbuffer *sb, uint64_t seq, uint64_t lost, uint32_t n)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 6);
    msgpack_pack_str_with_body(&pk, "chunk", 5);
    msgpack_pack_uint64(&pk, seq);
    msgpack_pack_uint64(&pk, lost);
    msgpack_pack_array(&pk, 3);
    for (int i = 0; i < 3; i++) {
        msgpack_pack_uint64(&pk, table[i]);
    }
    msgpack_pack_array(&pk, 0);
    msgpack_pack_array(&pk, n);
}

/* A LOST event's arg counts in its chunk's lost count. */
static uint64_t
lost_of(const spec *s)
{
    bool lost = s->bad != 3 && s->n == 4 && s->v[0] == ACTO_TRACE_LOST &&
                s->v[2] == 0x10;
    return lost ? (uint32_t)s->v[3] : 0;
}

/* header; chunk 0: 2 fillers, event a, FILLERS fillers; chunk 1: event b
 * alone; the end record. *at_a, *at_b: the offsets of element k of a and
 * of b (k -1: of the event). */
static uint8_t *
build(const spec *a, const spec *b, int k, size_t *len, size_t *at_a,
      size_t *at_b)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 7);
    msgpack_pack_str_with_body(&pk, "acto-trace", 10);
    msgpack_pack_uint32(&pk, 1);
    msgpack_pack_str_with_body(&pk, "monotonic-ns", 12);
    msgpack_pack_uint64(&pk, 1);
    msgpack_pack_uint64(&pk, 2);
    msgpack_pack_uint64(&pk, 3);
    msgpack_pack_str_with_body(&pk, "test", 4);
    uint8_t ev[128], fill[8];
    size_t fl = put_filler(fill);
    size_t at = 0, n = put_event(ev, a, k, &at);
    uint64_t lost = lost_of(a);
    pack_chunk(&sb, 0, lost, 3 + FILLERS);
    for (int i = 0; i < 2; i++) {
        msgpack_sbuffer_write(&sb, (const char *)fill, fl);
    }
    *at_a = sb.size + at;
    msgpack_sbuffer_write(&sb, (const char *)ev, n);
    for (int i = 0; i < FILLERS; i++) {
        msgpack_sbuffer_write(&sb, (const char *)fill, fl);
    }
    at = 0, n = put_event(ev, b, k, &at);
    lost += lost_of(b);
    pack_chunk(&sb, 1, lost, 1);
    *at_b = sb.size + at;
    msgpack_sbuffer_write(&sb, (const char *)ev, n);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_str_with_body(&pk, "end", 3);
    msgpack_pack_uint64(&pk, 2);
    msgpack_pack_uint64(&pk, 4 + FILLERS);
    msgpack_pack_uint64(&pk, lost);
    *len = sb.size;
    return (uint8_t *)msgpack_sbuffer_release(&sb);
}

/* An event of kind with mask, every element in its shortest encoding:
 * actor 1, peer 3, msg 100, type 7, arg -20001, flow 9, cause -2, flags 1. */
static spec
make_spec(uint16_t kind, uint64_t dts, unsigned mask)
{
    static const uint64_t field[8] = {
        1, 3, 100, 7, (uint64_t)-20001, 9, (uint64_t)-2, 1};
    spec s = {.v = {kind, dts, mask}, .n = 3, .bad = -1};
    for (int b = 0; b < 8; b++) {
        if (mask & (1u << b)) {
            s.v[s.n++] = field[b];
        }
    }
    return s;
}

/* The field mask bit element i of s stands for (0 for kind, dts, mask). */
static unsigned
bit_of(const spec *s, int i)
{
    for (unsigned b = 0, k = 3; b < 8; b++) {
        if (s->v[2] & (1u << b) && k++ == (unsigned)i) {
            return 1u << b;
        }
    }
    return 0;
}

/* The event s decodes to as the first of its chunk. */
static acto_trace_event
expected(const spec *s)
{
    acto_trace_event e = {.kind = (uint16_t)s->v[0], .ts = s->v[1]};
    for (int i = 3; i < s->n; i++) {
        uint64_t v = s->v[i];
        switch (bit_of(s, i)) {
        case 0x01:
            e.actor = v == 0 ? 0 : table[v - 1];
            break;
        case 0x02:
            e.peer = v == 0 ? 0 : table[v - 1];
            break;
        case 0x04:
            e.msg = v; /* 0 + v: the first msg (or future) of the chunk */
            break;
        case 0x08:
            e.type = (uint32_t)v;
            break;
        case 0x10:
            e.arg = (uint32_t)v;
            break;
        case 0x20:
            e.flow = v;
            break;
        case 0x40:
            e.cause = 0 - v; /* no HANDLE before it: hmsg is 0 */
            break;
        default:
            e.flags = (uint16_t)v;
            break;
        }
    }
    return e;
}

/* Reads data whole in batches of cap; returns the code, the event count
 * in *n, and copies event `want` (0-based) into *one. */
static int
read_all(const uint8_t *data, size_t len, size_t cap, size_t want,
         acto_trace_event *one, size_t *n, char *err, size_t errlen,
         uint64_t *off)
{
    acto_tracefile_reader *r;
    assert_acto_ok(acto_tracefile_reader_open_memory(data, len, NULL, &r));
    acto_trace_event b[64];
    size_t got;
    int rc;
    *n = 0;
    while ((rc = acto_tracefile_next_batch(r, b, cap, &got)) == 1) {
        if (want >= *n && want < *n + got) {
            *one = b[want - *n];
        }
        *n += got;
    }
    snprintf(err, errlen, "%s", acto_tracefile_error(r));
    *off = acto_tracefile_error_offset(r);
    acto_tracefile_reader_close(r);
    return rc;
}

static void
assert_same_event(const acto_trace_event *got, const acto_trace_event *want,
                  const char *what, const char *path)
{
    if (memcmp(got, want, sizeof(*got)) != 0) {
        fail_msg("%s (%s path): got kind %u ts %llx actor %llx peer %llx "
                 "msg %llx type %x arg %x flow %llx cause %llx flags %x; "
                 "want kind %u ts %llx actor %llx peer %llx msg %llx type "
                 "%x arg %x flow %llx cause %llx flags %x",
                 what, path, got->kind, (unsigned long long)got->ts,
                 (unsigned long long)got->actor, (unsigned long long)got->peer,
                 (unsigned long long)got->msg, got->type, got->arg,
                 (unsigned long long)got->flow, (unsigned long long)got->cause,
                 got->flags, want->kind, (unsigned long long)want->ts,
                 (unsigned long long)want->actor,
                 (unsigned long long)want->peer, (unsigned long long)want->msg,
                 want->type, want->arg, (unsigned long long)want->flow,
                 (unsigned long long)want->cause, want->flags);
    }
}

/* s is valid: both copies decode to its expected event, in batches of
 * 64 and one by one. */
static void
check_valid(const spec *s, const char *what)
{
    size_t len, at_a, at_b, n;
    uint8_t *data = build(s, s, -1, &len, &at_a, &at_b);
    acto_trace_event want = expected(s), got;
    char err[256];
    uint64_t off;
    for (size_t cap = 1; cap <= 64; cap += 63) {
        for (int copy = 0; copy < 2; copy++) {
            size_t i = copy == 0 ? 2 : 3 + FILLERS;
            memset(&got, 0xa5, sizeof(got));
            int rc =
                read_all(data, len, cap, i, &got, &n, err, sizeof(err), &off);
            want.ts = s->v[1] + (copy == 0 ? 2 : 0); /* 2 fillers first */
            if (rc != 0 || n != 4 + FILLERS) {
                fail_msg("%s: %s, %zu events, '%s'", what, acto_err_name(rc), n,
                         err);
            }
            assert_same_event(&got, &want, what,
                              copy == 0 ? "fast" : "careful");
        }
    }
    free(data);
}

/* s is refused at its element k (-1: the event as a whole), with text:
 * the events before it are returned, then UV_EPROTO at k's offset;
 * whether it is read by the fast path (first copy) or carefully (second
 * copy, the first one then a valid event). */
static void
check_refused(const spec *s, int k, const char *text, const char *what)
{
    const spec good = make_spec(ACTO_TRACE_SEND, 1, 0x7f);
    for (int copy = 0; copy < 2; copy++) {
        size_t len, at_a, at_b, n;
        uint8_t *data = copy == 0 ? build(s, &good, k, &len, &at_a, &at_b)
                                  : build(&good, s, k, &len, &at_a, &at_b);
        size_t want_n = copy == 0 ? 2 : 3 + FILLERS;
        size_t want_off = copy == 0 ? at_a : at_b;
        acto_trace_event got;
        char err[256];
        uint64_t off;
        int rc = read_all(data, len, 64, 0, &got, &n, err, sizeof(err), &off);
        if (rc != UV_EPROTO || n != want_n || off != want_off ||
            strstr(err, text) == NULL) {
            fail_msg("%s (%s path): got %s, %zu events, offset %llu '%s'; "
                     "want UV_EPROTO, %zu events, offset %zu '%s'",
                     what, copy == 0 ? "fast" : "careful", acto_err_name(rc), n,
                     (unsigned long long)off, err, want_n, want_off, text);
        }
        free(data);
    }
}

/* ---- the tests --------------------------------------------------------- */

/* The kinds and masks the runtime writes (each decoded its own way),
 * and others. */
static const struct {
    uint16_t kind;
    unsigned mask;
} shapes[] = {
    {ACTO_TRACE_HANDLE, 0x6f},
    {ACTO_TRACE_SEND, 0x7f},
    {ACTO_TRACE_HANDLED, 0x2d},
    {ACTO_TRACE_PARK, 0x6f},
    {ACTO_TRACE_SPAWN, 0x03},
    {ACTO_TRACE_LOST, 0x10},
    {ACTO_TRACE_STOP, 0x13},
    {ACTO_TRACE_FAIL, 0x37},
    {ACTO_TRACE_HANDLED, 0x3d},
    {ACTO_TRACE_RESTART, 0x57},
    {ACTO_TRACE_FUTURE, 0x75},
    {ACTO_TRACE_SEND, 0x7e},
    {1000, 0xff},
    {65535, 0x00},
    {ACTO_TRACE_HANDLE, 0x80},
    {ACTO_TRACE_FUTURE, 0x04},
};
#define N_SHAPES (sizeof(shapes) / sizeof(shapes[0]))

/* Values to try at element i of s, in every encoding they fit. */
static size_t
values_for(const spec *s, int i, uint64_t *v)
{
    static const uint64_t delta[] = {
        0,
        5,
        (uint64_t)-5,
        127,
        (uint64_t)-32,
        200,
        (uint64_t)-200,
        40000,
        (uint64_t)-40000,
        UINT64_C(1) << 40,
        (uint64_t)INT64_MIN,
        UINT64_MAX,
        (uint64_t)INT64_MAX,
    };
    size_t n = 0;
    if (i == 0 || i == 2) { /* kind, mask: the same, another way */
        v[n++] = s->v[i];
        return n;
    }
    if (i == 1) {
        memcpy(v, delta, sizeof(delta));
        return sizeof(delta) / sizeof(delta[0]);
    }
    switch (bit_of(s, i)) {
    case 0x01:
    case 0x02:
        v[n++] = 0, v[n++] = 3;
        break;
    case 0x08:
        v[n++] = 0, v[n++] = 127, v[n++] = 0xffffffffu;
        break;
    case 0x10:
        v[n++] = 0, v[n++] = (uint64_t)-1, v[n++] = INT32_MAX;
        v[n++] = (uint64_t)(int64_t)INT32_MIN, v[n++] = 200;
        break;
    case 0x80:
        v[n++] = 0, v[n++] = 255, v[n++] = 65535;
        break;
    default:
        memcpy(v, delta, sizeof(delta));
        n = sizeof(delta) / sizeof(delta[0]);
        break;
    }
    return n;
}

static void
test_decode_every_encoding_of_every_element(void **state)
{
    (void)state;
    size_t cases = 0;
    for (size_t sh = 0; sh < N_SHAPES; sh++) {
        spec base = make_spec(shapes[sh].kind, 1000, shapes[sh].mask);
        check_valid(&base, "shortest");
        for (int i = 0; i < base.n; i++) {
            uint64_t v[16];
            size_t nv = values_for(&base, i, v);
            for (size_t k = 0; k < nv; k++) {
                for (int enc = E_FIX; enc < N_ENC; enc++) {
                    if (!fits(enc, v[k])) {
                        continue;
                    }
                    spec s = base;
                    s.v[i] = v[k];
                    s.enc[i] = enc;
                    char what[128];
                    snprintf(what, sizeof(what),
                             "kind %u mask 0x%02x element %d = %llx enc %d",
                             shapes[sh].kind, shapes[sh].mask, i,
                             (unsigned long long)v[k], enc);
                    check_valid(&s, what);
                    cases++;
                }
            }
        }
    }
    print_message("%zu events decoded both ways\n", cases);
    assert_true(cases > 2000);
}

/* Whole msgpack objects that are not integers (each type byte from 0x80
 * to 0xdf, around the fixints), and 0xc1, which is none. */
static const struct {
    const char *raw;
    size_t len;
} not_ints[] = {
    {"\x80", 1},
    {"\x90", 1},
    {"\xa0", 1},
    {"\xbf"
     "0123456789abcdef0123456789abcde",
     32},
    {"\xc0", 1},
    {"\xc1", 1},
    {"\xc2", 1},
    {"\xc3", 1},
    {"\xc4\x00", 2},
    {"\xca\x00\x00\x00\x00", 5},
    {"\xcb\x00\x00\x00\x00\x00\x00\x00\x00", 9},
    {"\xd9\x00", 2},
    {"\xdc\x00\x00", 3},
    {"\xdd\x00\x00\x00\x00", 5},
    {"\xde\x00\x00", 3},
    {"\xdf\x00\x00\x00\x00", 5},
};

static void
test_decode_refuses_what_is_not_an_integer(void **state)
{
    (void)state;
    static const unsigned masks[] = {0x6f, 0x7f, 0x2d, 0xff, 0x10};
    static const uint16_t kinds[] = {ACTO_TRACE_HANDLE, ACTO_TRACE_SEND,
                                     ACTO_TRACE_HANDLED, 1000, ACTO_TRACE_LOST};
    for (size_t m = 0; m < sizeof(masks) / sizeof(masks[0]); m++) {
        spec base = make_spec(kinds[m], 3, masks[m]);
        for (int i = 0; i < base.n; i++) {
            for (size_t b = 0; b < sizeof(not_ints) / sizeof(not_ints[0]);
                 b++) {
                uint8_t type = (uint8_t)not_ints[b].raw[0];
                spec s = base;
                s.bad = i;
                s.raw = not_ints[b].raw;
                s.raw_len = not_ints[b].len;
                char text[64], what[96];
                snprintf(text, sizeof(text),
                         type == 0xc1 ? "byte 0x%02x is not msgpack"
                                      : "expected an integer, found 0x%02x",
                         type);
                snprintf(what, sizeof(what), "mask 0x%02x element %d = 0x%02x",
                         masks[m], i, type);
                check_refused(&s, i, text, what);
            }
        }
    }
}

static void
test_decode_refuses_values_out_of_range(void **state)
{
    (void)state;
    enum { KIND = 0x100, MASK = 0x200 };
    const struct {
        unsigned mask; /* the field's bit; KIND or MASK: those elements */
        int enc;
        uint64_t v;
        const char *text;
    } cases[] = {
        {KIND, E_U32, 65536, "kind: 65536 is above 65535"},
        {KIND, E_FIX, (uint64_t)-1, "kind: -1 is negative"},
        {KIND, E_I64, (uint64_t)INT64_MIN, "kind: -9223372036854775808 is neg"},
        {KIND, E_U64, UINT64_MAX, "kind: 18446744073709551615 is above"},
        {MASK, E_U16, 256, "field mask: 256 is above 255"},
        {MASK, E_FIX, (uint64_t)-3, "field mask: -3 is negative"},
        {0x01, E_FIX, 4, "actor index 4, but the chunk's table has 3"},
        {0x01, E_FIX, (uint64_t)-1, "actor index: -1 is negative"},
        {0x01, E_U64, UINT64_MAX, "actor index 18446744073709551615, but"},
        {0x02, E_U8, 200, "actor index 200, but"},
        {0x02, E_I16, (uint64_t)-300, "actor index: -300 is negative"},
        {0x08, E_U64, UINT64_C(1) << 32, "type: 4294967296 is above"},
        {0x08, E_FIX, (uint64_t)-32, "type: -32 is negative"},
        {0x08, E_I8, (uint64_t)-100, "type: -100 is negative"},
        {0x10, E_U32, UINT64_C(1) << 31, "arg 2147483648 is not an int32"},
        {0x10, E_I64, (uint64_t)INT32_MIN - 1, "arg -2147483649 is not"},
        {0x80, E_U32, 65536, "flags: 65536 is above 65535"},
        {0x80, E_FIX, (uint64_t)-32, "flags: -32 is negative"},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        for (int full = 0; full < 2; full++) {
            /* The field alone (mask 0 or its bit, a LOST or SEND), and
             * with every other field (mask 0xff, the generic decoder). */
            unsigned bit = cases[c].mask <= 0xff ? cases[c].mask : 0;
            unsigned mask = full ? 0xff : bit == 0 ? 0x7f : bit;
            spec s = make_spec(bit == 0x10 && !full ? ACTO_TRACE_LOST
                                                    : ACTO_TRACE_SEND,
                               7, mask);
            int i = cases[c].mask == KIND ? 0 : cases[c].mask == MASK ? 2 : 3;
            for (; i >= 3 && bit_of(&s, i) != bit; i++) {
            }
            s.v[i] = cases[c].v;
            s.enc[i] = cases[c].enc;
            char what[96];
            snprintf(what, sizeof(what), "case %zu, mask 0x%02x", c, mask);
            check_refused(&s, i, cases[c].text, what);
        }
    }
}

static void
test_decode_refuses_a_count_that_does_not_match_the_mask(void **state)
{
    (void)state;
    static const struct {
        unsigned mask, written;
    } cases[] = {{0x6f, 0x7f}, {0x7f, 0x6f}, {0x2d, 0x2f},
                 {0x03, 0x07}, {0x00, 0x01}, {0xff, 0xfe}};
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        spec s = make_spec(ACTO_TRACE_HANDLE, 9, cases[c].mask);
        s.v[2] = cases[c].written; /* the count stays 3 + popcount(mask) */
        char text[64], what[64];
        snprintf(text, sizeof(text),
                 "an event of %d elements with field "
                 "mask 0x%02x",
                 s.n, cases[c].written);
        snprintf(what, sizeof(what), "mask 0x%02x written as 0x%02x",
                 cases[c].mask, cases[c].written);
        check_refused(&s, -1, text, what);
    }
    /* An array16 header is valid, if not what acto writes: only the
     * careful path reads it. */
    spec s = make_spec(ACTO_TRACE_HANDLE, 9, 0x6f);
    size_t len, at_a, at_b, n;
    uint8_t *data = build(&s, &s, -1, &len, &at_a, &at_b);
    uint8_t *wide = malloc(len + 4);
    size_t at[2] = {at_a, at_b};
    size_t w = 0, from = 0;
    for (int copy = 0; copy < 2; copy++) { /* 0x99 -> 0xdc 0x00 0x09 */
        memcpy(wide + w, data + from, at[copy] - from);
        w += at[copy] - from;
        memcpy(wide + w, "\xdc\x00\x09", 3);
        w += 3;
        from = at[copy] + 1;
    }
    memcpy(wide + w, data + from, len - from);
    w += len - from;
    acto_trace_event got, want = expected(&s);
    char err[256];
    uint64_t off;
    for (int copy = 0; copy < 2; copy++) {
        size_t i = copy == 0 ? 2 : 3 + FILLERS;
        assert_int_equal(
            read_all(wide, w, 64, i, &got, &n, err, sizeof(err), &off), 0);
        assert_int_equal(n, 4 + FILLERS);
        want.ts = s.v[1] + (copy == 0 ? 2 : 0); /* 2 fillers first */
        assert_same_event(&got, &want, "array16", copy ? "careful" : "fast");
    }
    free(wide);
    free(data);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        acto_unit_test(test_decode_every_encoding_of_every_element),
        acto_unit_test(test_decode_refuses_what_is_not_an_integer),
        acto_unit_test(test_decode_refuses_values_out_of_range),
        acto_unit_test(
            test_decode_refuses_a_count_that_does_not_match_the_mask),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
