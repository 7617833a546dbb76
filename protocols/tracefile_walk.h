/* Private to protocols/: a bounds-checked msgpack walker. */
#ifndef ACTO_TRACEFILE_WALK_H
#define ACTO_TRACEFILE_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Returned when the object may continue past the bytes given. */
#define ACTO__TF_WALK_MORE 1

typedef struct acto__tf_walk {
    const uint8_t *start;
    size_t len;    /* the object's length, on success */
    size_t bad;    /* on error: where the problem is, from start */
    char msg[128]; /* on error: what it is, without an offset */
} acto__tf_walk;

/* acto__tf_walk_one finds the end of the msgpack object at start, reading
 * nothing past start + avail. Every array/map count must be at most
 * 65536 and (when final) at most the bytes left, at least one per
 * element; every str/bin length at most the bytes left; nesting at most
 * 16 deep; ext types and 0xc1 are refused. final says avail is all there
 * is; otherwise running out of bytes is not an error.
 * Returns 0 (w->len set), ACTO__TF_WALK_MORE (only when !final), or
 * UV_EPROTO (corrupt) / UV_EOF (cut short) with w->bad and w->msg. */
int acto__tf_walk_one(acto__tf_walk *w, const uint8_t *start, size_t avail,
                      bool final);

#endif /* ACTO_TRACEFILE_WALK_H */
