/* Private to protocols/: the trace file's constants, a growable byte
 * buffer with msgpack encoders, and a small hash map of 64-bit keys.
 * TRACE-FORMAT.md is the reference for every constant here. */
#ifndef ACTO_TRACEFILE_INT_H
#define ACTO_TRACEFILE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ACTO__TF_MAGIC "acto-trace"
#define ACTO__TF_TAG_CHUNK "chunk"
#define ACTO__TF_TAG_END "end"
#define ACTO__TF_CLOCK "monotonic-ns"

/* The optional fields of an event, in the order they follow the mask. */
enum {
    ACTO__TF_F_ACTOR = 1u << 0,
    ACTO__TF_F_PEER = 1u << 1,
    ACTO__TF_F_MSG = 1u << 2,
    ACTO__TF_F_TYPE = 1u << 3,
    ACTO__TF_F_ARG = 1u << 4,
    ACTO__TF_F_FLOW = 1u << 5,
    ACTO__TF_F_CAUSE = 1u << 6,
    ACTO__TF_F_FLAGS = 1u << 7,
    ACTO__TF_NFIELDS = 8
};

/* What a name in the string table names. */
enum { ACTO__TF_NAME_ACTOR = 0, ACTO__TF_NAME_TYPE = 1 };

/* Limits (FIELD-NOTES, msgpack-c section). */
#define ACTO__TF_MAX_DEPTH 16
#define ACTO__TF_MAX_COUNT 65536u
#define ACTO__TF_MAX_RECORD_DEFAULT (16u << 20)
#define ACTO__TF_MAX_RECORD_CEILING (64u << 20)
#define ACTO__TF_MAX_NAME 1024u
/* The longest encoding of one event: array header, kind (uint16), ts
 * delta (int64), mask (uint8), eight 9-byte fields. */
#define ACTO__TF_MAX_EVENT_BYTES (1 + 3 + 9 + 2 + 8 * 9)

/* The number of fields a mask (0..255) names. */
static inline unsigned
acto__tf_popcount8(unsigned x)
{
    x = x - ((x >> 1) & 0x55);
    x = (x & 0x33) + ((x >> 2) & 0x33);
    return (x + (x >> 4)) & 0x0f;
}

/* ---- a growable buffer ------------------------------------------------- */

typedef struct acto__tf_buf {
    uint8_t *p;
    size_t len;
    size_t cap;
} acto__tf_buf;

/* Makes room for n more bytes. Returns 0 or ACTO_ENOMEM. */
int acto__tf_buf_reserve(acto__tf_buf *b, size_t n);
void acto__tf_buf_fini(acto__tf_buf *b);

/* ---- msgpack encoders: w has room (the caller reserved) --------------- */

static inline uint8_t *
acto__tf_be(uint8_t *w, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        *w++ = (uint8_t)(v >> (8 * i));
    }
    return w;
}

/* The shortest msgpack encoding of an unsigned integer. */
static inline uint8_t *
acto__tf_pack_uint(uint8_t *w, uint64_t v)
{
    if (v < 128) {
        *w++ = (uint8_t)v;
    } else if (v <= 0xFF) {
        *w++ = 0xcc;
        *w++ = (uint8_t)v;
    } else if (v <= 0xFFFF) {
        *w++ = 0xcd;
        w = acto__tf_be(w, v, 2);
    } else if (v <= 0xFFFFFFFFu) {
        *w++ = 0xce;
        w = acto__tf_be(w, v, 4);
    } else {
        *w++ = 0xcf;
        w = acto__tf_be(w, v, 8);
    }
    return w;
}

/* The shortest msgpack encoding of a signed integer. */
static inline uint8_t *
acto__tf_pack_int(uint8_t *w, int64_t v)
{
    if (v >= 0) {
        return acto__tf_pack_uint(w, (uint64_t)v);
    }
    if (v >= -32) {
        *w++ = (uint8_t)(0xe0 | (uint8_t)(v + 32));
    } else if (v >= INT8_MIN) {
        *w++ = 0xd0;
        *w++ = (uint8_t)(int8_t)v;
    } else if (v >= INT16_MIN) {
        *w++ = 0xd1;
        w = acto__tf_be(w, (uint64_t)v, 2);
    } else if (v >= INT32_MIN) {
        *w++ = 0xd2;
        w = acto__tf_be(w, (uint64_t)v, 4);
    } else {
        *w++ = 0xd3;
        w = acto__tf_be(w, (uint64_t)v, 8);
    }
    return w;
}

static inline uint8_t *
acto__tf_pack_array(uint8_t *w, uint32_t n)
{
    if (n < 16) {
        *w++ = (uint8_t)(0x90 | n);
    } else if (n <= 0xFFFF) {
        *w++ = 0xdc;
        w = acto__tf_be(w, n, 2);
    } else {
        *w++ = 0xdd;
        w = acto__tf_be(w, n, 4);
    }
    return w;
}

/* Needs 5 + n bytes of room. */
static inline uint8_t *
acto__tf_pack_str(uint8_t *w, const char *s, uint32_t n)
{
    if (n < 32) {
        *w++ = (uint8_t)(0xa0 | n);
    } else if (n <= 0xFF) {
        *w++ = 0xd9;
        *w++ = (uint8_t)n;
    } else if (n <= 0xFFFF) {
        *w++ = 0xda;
        w = acto__tf_be(w, n, 2);
    } else {
        *w++ = 0xdb;
        w = acto__tf_be(w, n, 4);
    }
    memcpy(w, s, n);
    return w + n;
}

/* ---- a hash map of nonzero 64-bit keys to 64-bit values ---------------- */

typedef struct acto__tf_map {
    uint64_t *keys; /* 0: an empty slot */
    uint64_t *vals;
    size_t cap; /* a power of two, or 0 */
    size_t n;
} acto__tf_map;

/* Finds key (nonzero). Returns whether it is there, with its value. */
bool acto__tf_map_get(const acto__tf_map *m, uint64_t key, uint64_t *val);
/* Sets key (nonzero) to val. Returns 0 or ACTO_ENOMEM (m unchanged). */
int acto__tf_map_put(acto__tf_map *m, uint64_t key, uint64_t val);
/* Empties m, keeping its storage. */
void acto__tf_map_clear(acto__tf_map *m);
void acto__tf_map_fini(acto__tf_map *m);

#endif /* ACTO_TRACEFILE_INT_H */
