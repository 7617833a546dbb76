/* Framing: cutting a byte stream (a TCP connection) into messages.
 *
 * Two framings, both bounded before anything is allocated:
 *   ACTO_FRAME_LINES   one frame per line, without its '\n' and without a
 *                      '\r' before it; a line longer than max_frame is an
 *                      error (UV_EMSGSIZE) as soon as that many bytes
 *                      arrived without a '\n'.
 *   ACTO_FRAME_MSGPACK a 4-byte big-endian length, then that many bytes
 *                      holding exactly one msgpack object. A length above
 *                      max_frame is an error (UV_EMSGSIZE) read from the
 *                      header alone, before any buffer is made; a payload
 *                      that is not exactly one well-formed msgpack object
 *                      (walked with bounded counts, lengths and depth, see
 *                      FIELD-NOTES) is an error (UV_EPROTO).
 * After an error the decoder stays failed: the stream cannot be resynced.
 *
 * Thread: a decoder belongs to one thread at a time; the functions without
 * a decoder are pure and callable from any thread.
 */
#ifndef ACTO_FRAME_H
#define ACTO_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum acto_frame_kind {
    ACTO_FRAME_NONE = 0, /* no framing: every read is one item */
    ACTO_FRAME_LINES,
    ACTO_FRAME_MSGPACK
} acto_frame_kind;

/* The default and the largest max_frame. */
#define ACTO_FRAME_DEFAULT_MAX ((size_t)1 << 20)
#define ACTO_FRAME_CEILING ((size_t)64 << 20)
/* Bytes of a length prefix. */
#define ACTO_FRAME_HEADER 4

typedef struct acto_frame_decoder acto_frame_decoder;

/* acto_frame_decoder_alloc makes a decoder for kind (LINES or MSGPACK)
 * accepting frames of at most max_frame bytes (0: 1 MiB).
 * Returns 0 and sets *out; ACTO_EINVAL (NULL out, kind NONE or unknown,
 * max_frame above ACTO_FRAME_CEILING); ACTO_ENOMEM.
 * Ownership: *out is the caller's, freed with acto_frame_decoder_free. */
int acto_frame_decoder_alloc(acto_frame_kind kind, size_t max_frame,
                             acto_frame_decoder **out);

/* acto_frame_decoder_free frees d and what it buffered (NULL ignored). */
void acto_frame_decoder_free(acto_frame_decoder *d);

/* acto_frame_next consumes bytes of in (len of them) up to the end of the
 * next complete frame and sets *used to how many it consumed.
 * Returns 1 with *frame and *flen set to the frame (borrowed: valid until
 * the next call on d, pointing into in or into d's buffer); 0 when all of
 * in was consumed (buffered) without completing a frame; UV_EMSGSIZE for
 * a frame over the limit; UV_EPROTO for a malformed msgpack payload;
 * ACTO_ENOMEM (nothing consumed; call again later). After UV_EMSGSIZE or
 * UV_EPROTO every call returns the same error. */
int acto_frame_next(acto_frame_decoder *d, const void *in, size_t len,
                    size_t *used, const void **frame, size_t *flen);

/* acto_frame_buffered returns how many bytes of an incomplete frame d
 * holds (0 when it sits between frames). */
size_t acto_frame_buffered(const acto_frame_decoder *d);

/* acto_frame_header writes what goes before a payload of len bytes in
 * framing kind into out (at least ACTO_FRAME_HEADER bytes) and sets *n:
 * the big-endian length for MSGPACK, nothing for LINES and NONE.
 * Returns 0; UV_EMSGSIZE when len exceeds max_frame (0: 1 MiB);
 * ACTO_EINVAL for an unknown kind. */
int acto_frame_header(acto_frame_kind kind, size_t max_frame, size_t len,
                      uint8_t *out, size_t *n);

/* acto_frame_trailer returns what goes after a payload: "\n" for LINES,
 * "" otherwise (static; never free it). */
const char *acto_frame_trailer(acto_frame_kind kind);

/* acto_frame_check_msgpack tells whether data holds exactly one
 * well-formed msgpack object within acto's bounds. Returns 0 or
 * UV_EPROTO. */
int acto_frame_check_msgpack(const void *data, size_t len);

#endif /* ACTO_FRAME_H */
