/* Framing decoders: lines and length-prefixed msgpack (see frame.h).
 *
 * A frame that lies whole inside the caller's input is handed out in
 * place; only a frame cut across reads is copied into the decoder's
 * buffer, which is sized from the checked header (msgpack) or grows by
 * doubling up to the limit (lines). */
#include <acto/acto.h>
#include <acto/frame.h>

#include "tracefile_walk.h"

#include <string.h>
#include <uv.h>

struct acto_frame_decoder {
    acto_frame_kind kind;
    size_t max;
    int error; /* sticky UV_EMSGSIZE or UV_EPROTO */
    uint8_t hdr[ACTO_FRAME_HEADER];
    size_t hdr_fill; /* MSGPACK: header bytes read so far */
    size_t want;     /* MSGPACK: the payload's length, once known */
    bool have_len;
    uint8_t *buf; /* the part of a frame cut across reads */
    size_t cap;
    size_t fill;
    bool deliver_buf; /* the last frame handed out was buf: reset next */
};

int
acto_frame_decoder_alloc(acto_frame_kind kind, size_t max_frame,
                         acto_frame_decoder **out)
{
    if (out == NULL ||
        (kind != ACTO_FRAME_LINES && kind != ACTO_FRAME_MSGPACK) ||
        max_frame > ACTO_FRAME_CEILING) {
        return ACTO_EINVAL;
    }
    acto_frame_decoder *d = acto_calloc(1, sizeof(*d));
    if (d == NULL) {
        return ACTO_ENOMEM;
    }
    d->kind = kind;
    d->max = max_frame == 0 ? ACTO_FRAME_DEFAULT_MAX : max_frame;
    *out = d;
    return 0;
}

void
acto_frame_decoder_free(acto_frame_decoder *d)
{
    if (d != NULL) {
        acto_free(d->buf, d->cap);
        acto_free(d, sizeof(*d));
    }
}

size_t
acto_frame_buffered(const acto_frame_decoder *d)
{
    return d->deliver_buf ? 0 : d->fill + d->hdr_fill;
}

/* reserve makes room for need bytes in buf. Returns 0 or ACTO_ENOMEM. */
static int
reserve(acto_frame_decoder *d, size_t need)
{
    if (need <= d->cap) {
        return 0;
    }
    size_t cap = d->cap == 0 ? 256 : d->cap;
    while (cap < need) {
        cap *= 2;
    }
    if (cap > d->max + 1) {
        cap = d->max + 1 > need ? d->max + 1 : need;
    }
    uint8_t *p = acto_malloc(cap);
    if (p == NULL) {
        return ACTO_ENOMEM;
    }
    if (d->fill > 0) {
        memcpy(p, d->buf, d->fill);
    }
    acto_free(d->buf, d->cap);
    d->buf = p;
    d->cap = cap;
    return 0;
}

static int
fail(acto_frame_decoder *d, int err)
{
    d->error = err;
    return err;
}

/* ---- lines ------------------------------------------------------------ */

static size_t
strip_cr(const uint8_t *p, size_t n)
{
    return n > 0 && p[n - 1] == '\r' ? n - 1 : n;
}

static int
next_line(acto_frame_decoder *d, const uint8_t *in, size_t len, size_t *used,
          const void **frame, size_t *flen)
{
    const uint8_t *nl = len > 0 ? memchr(in, '\n', len) : NULL;
    size_t take = nl != NULL ? (size_t)(nl - in) : len;
    /* The limit counts the line without '\n' and '\r': a last byte '\r'
     * may be the one before a '\n' still to come. */
    uint8_t last =
        take > 0 ? in[take - 1] : (d->fill > 0 ? d->buf[d->fill - 1] : 0);
    if (d->fill + take - (last == '\r') > d->max) {
        return fail(d, UV_EMSGSIZE);
    }
    if (nl != NULL && d->fill == 0) {
        *used = take + 1;
        *frame = in;
        *flen = strip_cr(in, take);
        return 1;
    }
    int rc = reserve(d, d->fill + take);
    if (rc != 0) {
        *used = 0;
        return rc;
    }
    memcpy(d->buf + d->fill, in, take);
    d->fill += take;
    if (nl == NULL) {
        *used = len;
        return 0;
    }
    *used = take + 1;
    *frame = d->buf;
    *flen = strip_cr(d->buf, d->fill);
    d->deliver_buf = true;
    return 1;
}

/* ---- length-prefixed msgpack ------------------------------------------ */

int
acto_frame_check_msgpack(const void *data, size_t len)
{
    acto__tf_walk w;
    int rc = acto__tf_walk_one(&w, data, len, true);
    return rc == 0 && w.len == len ? 0 : UV_EPROTO;
}

/* read_header takes header bytes; returns 0 when the length is known. */
static int
read_header(acto_frame_decoder *d, const uint8_t *in, size_t len, size_t *used)
{
    size_t n = ACTO_FRAME_HEADER - d->hdr_fill;
    n = n < len ? n : len;
    memcpy(d->hdr + d->hdr_fill, in, n);
    d->hdr_fill += n;
    *used += n;
    if (d->hdr_fill < ACTO_FRAME_HEADER) {
        return 1;
    }
    uint32_t v = (uint32_t)d->hdr[0] << 24 | (uint32_t)d->hdr[1] << 16 |
                 (uint32_t)d->hdr[2] << 8 | d->hdr[3];
    if (v > d->max) {
        return fail(d, UV_EMSGSIZE);
    }
    d->want = v;
    d->have_len = true;
    return 0;
}

static int
deliver(acto_frame_decoder *d, const uint8_t *p, size_t n, const void **frame,
        size_t *flen)
{
    if (acto_frame_check_msgpack(p, n) != 0) {
        return fail(d, UV_EPROTO);
    }
    d->hdr_fill = 0;
    d->have_len = false;
    *frame = p;
    *flen = n;
    return 1;
}

static int
next_msgpack(acto_frame_decoder *d, const uint8_t *in, size_t len, size_t *used,
             const void **frame, size_t *flen)
{
    *used = 0;
    if (!d->have_len) {
        int rc = read_header(d, in, len, used);
        if (rc != 0) {
            return rc < 0 ? rc : 0;
        }
        in += *used;
        len -= *used;
    }
    if (d->fill == 0 && len >= d->want) {
        *used += d->want;
        return deliver(d, in, d->want, frame, flen);
    }
    int rc = reserve(d, d->want);
    if (rc != 0) {
        return rc;
    }
    size_t n = d->want - d->fill;
    n = n < len ? n : len;
    memcpy(d->buf + d->fill, in, n);
    d->fill += n;
    *used += n;
    if (d->fill < d->want) {
        return 0;
    }
    d->deliver_buf = true;
    return deliver(d, d->buf, d->fill, frame, flen);
}

int
acto_frame_next(acto_frame_decoder *d, const void *in, size_t len, size_t *used,
                const void **frame, size_t *flen)
{
    *used = 0;
    if (d->error != 0) {
        return d->error;
    }
    if (d->deliver_buf) {
        d->deliver_buf = false;
        d->fill = 0;
    }
    if (d->kind == ACTO_FRAME_LINES) {
        return next_line(d, in, len, used, frame, flen);
    }
    return next_msgpack(d, in, len, used, frame, flen);
}

int
acto_frame_header(acto_frame_kind kind, size_t max_frame, size_t len,
                  uint8_t *out, size_t *n)
{
    size_t max = max_frame == 0 ? ACTO_FRAME_DEFAULT_MAX : max_frame;
    if (kind != ACTO_FRAME_NONE && kind != ACTO_FRAME_LINES &&
        kind != ACTO_FRAME_MSGPACK) {
        return ACTO_EINVAL;
    }
    *n = 0;
    if (kind == ACTO_FRAME_NONE) {
        return 0;
    }
    if (len > max) {
        return UV_EMSGSIZE;
    }
    if (kind == ACTO_FRAME_MSGPACK) {
        out[0] = (uint8_t)(len >> 24);
        out[1] = (uint8_t)(len >> 16);
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        *n = ACTO_FRAME_HEADER;
    }
    return 0;
}

const char *
acto_frame_trailer(acto_frame_kind kind)
{
    return kind == ACTO_FRAME_LINES ? "\n" : "";
}
