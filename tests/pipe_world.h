/* Building blocks the pipeline tests share (static helpers). */
#ifndef ACTO_PIPE_WORLD_H
#define ACTO_PIPE_WORLD_H

#define PIPE_UNUSED __attribute__((unused))

#include "acto_test.h"

#include <acto/pipeline.h>

/* item_int is an item's int payload. */
static PIPE_UNUSED int
item_int(const acto_msg *m)
{
    return acto_test_msg_int(m);
}

/* triple emits each item three times, as new items of its type (a
 * flat_map). */
static PIPE_UNUSED int
triple(acto_emitter *out, void *state, acto_msg *item)
{
    (void)state;
    int v = item_int(item);
    for (int i = 0; i < 3; i++) {
        int rc = acto_emit_bytes(out, acto_msg_type(item), &v, sizeof(v));
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

#endif /* ACTO_PIPE_WORLD_H */
