/* The bounds-checked msgpack walker: finds where one object ends without
 * unpacking or allocating anything, checking every length, count and
 * nesting depth against the bytes there are (see tracefile_walk.h). */
#include "tracefile_walk.h"

#include "tracefile_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <uv.h>

static int walk_error(acto__tf_walk *w, int rc, const uint8_t *at,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
walk_error(acto__tf_walk *w, int rc, const uint8_t *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
    va_end(ap);
    w->bad = (size_t)(at - w->start);
    return rc;
}

static uint64_t
be_read(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

/* What the byte b starts: a header of hdr bytes holding a length (of a
 * str or bin: *blob) or a count (of an array or map: *cont, with *per
 * elements per entry), or a scalar of fixed extra bytes. */
typedef struct shape {
    int hdr;      /* big-endian length/count bytes after b */
    uint32_t imm; /* the length or count b itself holds */
    bool blob;    /* str or bin */
    bool cont;    /* array or map */
    int per;      /* elements per entry: 1 (array) or 2 (map) */
    int fixed;    /* bytes of a scalar's value after b */
    bool bad;     /* 0xc1 or an ext type */
} shape;

static shape
shape_of(uint8_t b)
{
    shape s = {0};
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
        return s;
    }
    if (b <= 0x8f) {
        s.cont = true, s.per = 2, s.imm = b & 0x0f;
    } else if (b <= 0x9f) {
        s.cont = true, s.per = 1, s.imm = b & 0x0f;
    } else if (b <= 0xbf) {
        s.blob = true, s.imm = b & 0x1f;
    } else {
        switch (b) {
        case 0xc4:
        case 0xd9:
            s.blob = true, s.hdr = 1;
            break;
        case 0xc5:
        case 0xda:
            s.blob = true, s.hdr = 2;
            break;
        case 0xc6:
        case 0xdb:
            s.blob = true, s.hdr = 4;
            break;
        case 0xcc:
        case 0xd0:
            s.fixed = 1;
            break;
        case 0xcd:
        case 0xd1:
            s.fixed = 2;
            break;
        case 0xca:
        case 0xce:
        case 0xd2:
            s.fixed = 4;
            break;
        case 0xcb:
        case 0xcf:
        case 0xd3:
            s.fixed = 8;
            break;
        case 0xdc:
            s.cont = true, s.per = 1, s.hdr = 2;
            break;
        case 0xdd:
            s.cont = true, s.per = 1, s.hdr = 4;
            break;
        case 0xde:
            s.cont = true, s.per = 2, s.hdr = 2;
            break;
        case 0xdf:
            s.cont = true, s.per = 2, s.hdr = 4;
            break;
        default:
            s.bad = true;
            break; /* 0xc1, ext 0xc7-0xc9, 0xd4-0xd8 */
        }
    }
    return s;
}

int
acto__tf_walk_one(acto__tf_walk *w, const uint8_t *start, size_t avail,
                  bool final)
{
    const uint8_t *p = start, *end = start + avail;
    uint32_t left[ACTO__TF_MAX_DEPTH];
    int depth = 0;
    w->start = start;
    do {
        const uint8_t *obj = p;
        if (p == end) {
            goto out_of_bytes;
        }
        uint8_t b = *p++;
        if (b <= 0x7f || b >= 0xe0) {
            goto done; /* fixints: most of a trace */
        }
        if (b >= 0x91 && b <= 0x9f && (size_t)(end - p) >= (size_t)(b & 0x0f)) {
            /* A small array of fixints (most events): all at once. */
            size_t k = b & 0x0f, j = 0;
            while (j < k && (p[j] <= 0x7f || p[j] >= 0xe0)) {
                j++;
            }
            if (j == k) {
                p += k;
                goto done;
            }
        }
        if (b >= 0xcc && b <= 0xd3) {
            size_t k = (size_t)1 << ((b - 0xcc) & 3); /* other ints */
            if ((size_t)(end - p) < k) {
                goto out_of_bytes;
            }
            p += k;
            goto done;
        }
        shape s = shape_of(b);
        if (s.bad) {
            return walk_error(w, UV_EPROTO, obj,
                              b == 0xc1 ? "byte 0xc1 is not msgpack"
                                        : "ext type 0x%02x is not used by "
                                          "this format",
                              b);
        }
        if ((size_t)(end - p) < (size_t)(s.hdr + s.fixed)) {
            goto out_of_bytes;
        }
        uint64_t n = s.hdr != 0 ? be_read(p, s.hdr) : s.imm;
        p += s.hdr + s.fixed;
        size_t rest = (size_t)(end - p);
        if (s.blob && n > rest) {
            if (!final) {
                goto out_of_bytes;
            }
            return walk_error(
                w, UV_EOF, obj, "%s length %llu exceeds the %zu bytes left",
                b == 0xc4 || b == 0xc5 || b == 0xc6 ? "bin" : "str",
                (unsigned long long)n, rest);
        }
        if (s.blob) {
            p += n;
        }
        if (s.cont) {
            const char *what = s.per == 1 ? "array" : "map";
            if (final && n * (uint64_t)s.per > rest) {
                /* Within the limit, a longer file could have held it. */
                int rc = n > ACTO__TF_MAX_COUNT ? UV_EPROTO : UV_EOF;
                return walk_error(w, rc, obj,
                                  "%s count %llu exceeds the %zu bytes left",
                                  what, (unsigned long long)n, rest);
            }
            if (n > ACTO__TF_MAX_COUNT) {
                return walk_error(w, UV_EPROTO, obj,
                                  "%s count %llu exceeds the limit of %u", what,
                                  (unsigned long long)n, ACTO__TF_MAX_COUNT);
            }
            if (n != 0) {
                if (depth == ACTO__TF_MAX_DEPTH) {
                    return walk_error(w, UV_EPROTO, obj,
                                      "nesting deeper than %d levels",
                                      ACTO__TF_MAX_DEPTH);
                }
                left[depth++] = (uint32_t)(n * (uint64_t)s.per);
                continue;
            }
        }
    done:
        while (depth > 0 && --left[depth - 1] == 0) {
            depth--;
        }
    } while (depth > 0);
    w->len = (size_t)(p - start);
    return 0;

out_of_bytes:
    if (!final) {
        return ACTO__TF_WALK_MORE;
    }
    return walk_error(w, UV_EOF, end, "the file ends inside a record");
}
