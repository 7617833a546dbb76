/* The slot table behind refs and timer ids. */
#include "slots.h"

#include "alloc.h"

#include <acto/error.h>
#include <string.h>

#define NO_SLOT ACTO__NO_SLOT
#define FIRST_CAP 64

void
acto__slots_init(acto__slots *t, uint32_t gen_mask)
{
    memset(t, 0, sizeof(*t));
    t->free_head = NO_SLOT;
    t->gen_mask = gen_mask;
}

void
acto__slots_fini(acto__slots *t)
{
    acto__free(t->v, (size_t)t->cap * sizeof(acto__slot));
    acto__slots_init(t, t->gen_mask);
}

/* grow doubles the table. The new half is left untouched (never-used slots
 * are initialised when handed out), so its pages stay unmapped. */
static int
grow(acto__slots *t)
{
    uint32_t ncap = t->cap == 0 ? FIRST_CAP : t->cap * 2;
    if (ncap <= t->cap || ncap > UINT32_MAX / 2) {
        return ACTO_ENOMEM;
    }
    acto__slot *nv = acto__malloc((size_t)ncap * sizeof(acto__slot));
    if (nv == NULL) {
        return ACTO_ENOMEM;
    }
    if (t->fresh > 0) {
        memcpy(nv, t->v, (size_t)t->fresh * sizeof(acto__slot));
    }
    acto__free(t->v, (size_t)t->cap * sizeof(acto__slot));
    t->v = nv;
    t->cap = ncap;
    return 0;
}

int
acto__slots_add_fresh(acto__slots *t, void *ptr, uint32_t *slot, uint32_t *gen)
{
    if (t->fresh == t->cap) {
        int rc = grow(t);
        if (rc != 0) {
            return rc;
        }
    }
    uint32_t i = t->fresh++;
    /* Generation 1 first, so slot 0 never yields a zero id. */
    t->v[i] = (acto__slot){ptr, 1, NO_SLOT};
    t->used++;
    *slot = i;
    *gen = 1;
    return 0;
}
