/* The trace reader's fast path (tracefile_fast.h): events decoded
 * straight from the buffer with no error reporting, each checked whole
 * before the delta state takes it. The usual kinds and masks are decoded
 * by code inlined for them, and an event whose fields are all fixints
 * (most of them) is read at fixed offsets after a single test. */
#include "tracefile_fast.h"

#include <acto/trace.h>

/* An integer of any encoding at *pp, with no bounds check: the caller
 * made sure 9 bytes are there (acto__tf_fast_run: an event's first 11
 * values, each at most 9 bytes, lie within the ACTO__TF_FAST_EVENT_BYTES it
 * checked, and so do the 9 bytes from the start of each). False when it is not
 * an integer. A fixint (0x00..0x7f, 0xe0..0xff) is exactly a byte whose int8
 * value is at least -32, and that is its value: one test. */
static inline __attribute__((always_inline)) bool
fast_int(const uint8_t **pp, uint64_t *v)
{
    const uint8_t *p = *pp;
    int8_t s = (int8_t)*p;
    if (__builtin_expect(s >= -32, 1)) {
        *v = (uint64_t)(int64_t)s;
        *pp = p + 1;
        return true;
    }
    uint64_t x; /* the 8 bytes after the type byte, big-endian */
    memcpy(&x, p + 1, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    x = __builtin_bswap64(x);
#endif
    switch (*p) {
    case 0xcc:
        *v = x >> 56;
        *pp = p + 2;
        return true;
    case 0xcd:
        *v = x >> 48;
        *pp = p + 3;
        return true;
    case 0xce:
        *v = x >> 32;
        *pp = p + 5;
        return true;
    case 0xcf:
        *v = x;
        *pp = p + 9;
        return true;
    case 0xd0:
        *v = (uint64_t)((int64_t)x >> 56);
        *pp = p + 2;
        return true;
    case 0xd1:
        *v = (uint64_t)((int64_t)x >> 48);
        *pp = p + 3;
        return true;
    case 0xd2:
        *v = (uint64_t)((int64_t)x >> 32);
        *pp = p + 5;
        return true;
    case 0xd3:
        *v = x;
        *pp = p + 9;
        return true;
    default:
        return false;
    }
}

/* The array header byte of an event with each mask: a fixarray of
 * 3 + popcount(mask) elements. Comparing an event's first byte with it
 * checks the element count against the mask (and its range) at once. */
static const uint8_t event_head[256] = {
#define B2(n) 0x93 + n, 0x93 + n + 1, 0x93 + n + 1, 0x93 + n + 2
#define B4(n) B2(n), B2(n + 1), B2(n + 1), B2(n + 2)
#define B6(n) B4(n), B4(n + 1), B4(n + 1), B4(n + 2)
    B6(0), B6(1), B6(1), B6(2)
#undef B2
#undef B4
#undef B6
};

/* Whether the nf (0..8) bytes at p are all fixints: a byte is not one
 * when its bit 7 is set and bits 6 and 5 are not both set (0x80..0xdf).
 * The caller made sure 8 bytes are there. */
static inline __attribute__((always_inline)) bool
fast_all_fixints(const uint8_t *p, unsigned nf)
{
    uint64_t w;
    memcpy(&w, p, 8);
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    w = __builtin_bswap64(w); /* byte i at bits 8i.. */
#endif
    /* Bit 7 of each byte of w << 1 is its bit 6, of w << 2 its bit 5. */
    uint64_t bad = w & ~((w << 1) & (w << 2)) & 0x8080808080808080u;
    return (nf == 8 ? bad : bad & ((UINT64_C(1) << (8 * nf)) - 1)) == 0;
}

/* The next value of an event: a fixint at *pp when fix (fast_event
 * checked them all), else any integer (see fast_int). */
static inline __attribute__((always_inline)) bool
fast_next(const uint8_t **pp, bool fix, uint64_t *v)
{
    if (fix) {
        const uint8_t *p = *pp;
        *v = (uint64_t)(int64_t)(int8_t)p[0];
        *pp = p + 1;
        return true;
    }
    return fast_int(pp, v);
}

/* The fields mask names, from *pp, into *e with kind and dts, and the
 * delta state updated; false (and nothing touched) when a field is not
 * an integer in range. Inlined with a constant mask and fix for the
 * usual masks, so their bits are not tested at run time and fixints are
 * read at fixed offsets. */
static inline __attribute__((always_inline)) bool
fast_fields(const uint8_t **pp, unsigned mask, bool fix, uint64_t kind,
            uint64_t dts, acto__tf_fast *st, acto_trace_event *e)
{
    const uint8_t *p = *pp;
    uint64_t actor = 0, peer = 0, msg = 0, type = 0, arg = 0, flow = 0;
    uint64_t cause = 0, flags = 0;
    if ((mask & ACTO__TF_F_ACTOR) &&
        (!fast_next(&p, fix, &actor) || actor > st->n_actors)) {
        return false;
    }
    if ((mask & ACTO__TF_F_PEER) &&
        (!fast_next(&p, fix, &peer) || peer > st->n_actors)) {
        return false;
    }
    if ((mask & ACTO__TF_F_MSG) && !fast_next(&p, fix, &msg)) {
        return false;
    }
    if ((mask & ACTO__TF_F_TYPE) &&
        (!fast_next(&p, fix, &type) || type > UINT32_MAX)) {
        return false;
    }
    if ((mask & ACTO__TF_F_ARG) &&
        (!fast_next(&p, fix, &arg) || (int64_t)arg < INT32_MIN ||
         (int64_t)arg > INT32_MAX)) {
        return false;
    }
    if ((mask & ACTO__TF_F_FLOW) && !fast_next(&p, fix, &flow)) {
        return false;
    }
    if ((mask & ACTO__TF_F_CAUSE) && !fast_next(&p, fix, &cause)) {
        return false;
    }
    if ((mask & ACTO__TF_F_FLAGS) &&
        (!fast_next(&p, fix, &flags) || flags > UINT16_MAX)) {
        return false;
    }
    /* All valid: only now the delta state. */
    if (mask & ACTO__TF_F_MSG) {
        if (kind == ACTO_TRACE_FUTURE) {
            msg = st->fut0 += msg;
        } else {
            msg = st->msg0 += msg;
        }
    }
    if (mask & ACTO__TF_F_FLOW) {
        flow = st->flow0 += flow;
    }
    if (mask & ACTO__TF_F_CAUSE) {
        cause = st->hmsg - cause;
    }
    if (kind == ACTO_TRACE_HANDLE) {
        st->hmsg = msg;
    }
    if ((mask & ACTO__TF_F_ARG) && kind == ACTO_TRACE_LOST) {
        st->lost += (uint32_t)arg;
    }
    *e = (acto_trace_event){
        .ts = st->ts += dts,
        .flow = flow,
        .msg = msg,
        .cause = cause,
        .actor = (mask & ACTO__TF_F_ACTOR) ? st->actors[actor] : 0,
        .peer = (mask & ACTO__TF_F_PEER) ? st->actors[peer] : 0,
        .type = (uint32_t)type,
        .arg = (uint32_t)arg,
        .kind = (uint16_t)kind,
        .flags = (uint16_t)flags,
    };
    *pp = p;
    return true;
}

/* An event's fields (see fast_fields), at fixed offsets when they are
 * all fixints (one test for all of them). */
static inline __attribute__((always_inline)) bool
fast_event(const uint8_t **pp, unsigned mask, uint64_t kind, uint64_t dts,
           acto__tf_fast *st, acto_trace_event *e)
{
    if (fast_all_fixints(*pp, acto__tf_popcount8(mask))) {
        return fast_fields(pp, mask, true, kind, dts, st, e);
    }
    return fast_fields(pp, mask, false, kind, dts, st, e);
}

/* The header is read first (kind, dts and mask, usually fixints: one
 * test), then the fields by the code for the event's kind and mask. */
size_t
acto__tf_fast_run(const uint8_t **pp, const uint8_t *lim, acto__tf_fast *stp,
                  acto_trace_event *out, size_t cap)
{
    const uint8_t *p = *pp;
    acto__tf_fast st = *stp; /* a local copy: kept in registers */
    acto_trace_event *e = out;
    acto_trace_event *const end = out + cap;
    for (; e < end && p < lim; e++) {
        const uint8_t *q = p + 4;
        uint64_t kind, dts, mask;
        uint32_t h; /* the array header, kind, dts and mask, usually */
        memcpy(&h, p, 4);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        const uint32_t high = 0x80808000u; /* bit 7 of p[1], p[2], p[3] */
#else
        const uint32_t high = 0x00808080u;
#endif
        if ((h & high) == 0) { /* all three positive fixints: in range */
            kind = p[1], dts = p[2], mask = p[3];
        } else if (q = p + 1, !fast_int(&q, &kind) || kind > UINT16_MAX ||
                                  !fast_int(&q, &dts) || !fast_int(&q, &mask) ||
                                  mask > 0xFF) {
            break;
        }
        if (*p != event_head[mask]) {
            break;
        }
        /* The runtime's usual kinds and masks (TRACE-FORMAT.md, with the
         * fields that are often 0 left out), most frequent first, then
         * the usual masks, then any other. */
        bool ok;
#define EVENT(k, m) fast_event(&q, (m), (k), dts, &st, e)
        const uint64_t key = kind << 8 | mask;
        if (key == (ACTO_TRACE_HANDLE << 8 | 0x6f)) {
            ok = EVENT(ACTO_TRACE_HANDLE, 0x6f);
        } else if (key == (ACTO_TRACE_SEND << 8 | 0x7f)) {
            ok = EVENT(ACTO_TRACE_SEND, 0x7f);
        } else if (key == (ACTO_TRACE_HANDLED << 8 | 0x2d)) {
            ok = EVENT(ACTO_TRACE_HANDLED, 0x2d);
        } else {
            switch (mask) {
            case 0x03:
                ok = EVENT(kind, 0x03);
                break;
            case 0x10:
                ok = EVENT(kind, 0x10);
                break;
            case 0x13:
                ok = EVENT(kind, 0x13);
                break;
            case 0x2d:
                ok = EVENT(kind, 0x2d);
                break;
            case 0x37:
                ok = EVENT(kind, 0x37);
                break;
            case 0x3d:
                ok = EVENT(kind, 0x3d);
                break;
            case 0x57:
                ok = EVENT(kind, 0x57);
                break;
            case 0x6f:
                ok = EVENT(kind, 0x6f);
                break;
            case 0x75:
                ok = EVENT(kind, 0x75);
                break;
            case 0x7f:
                ok = EVENT(kind, 0x7f);
                break;
            default:
                ok = EVENT(kind, (unsigned)mask);
                break;
            }
        }
#undef EVENT
        if (!ok) {
            break;
        }
        p = q;
    }
    *pp = p;
    *stp = st;
    return (size_t)(e - out);
}
