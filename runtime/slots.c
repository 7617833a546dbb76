/* The slot table behind refs and timer ids. */
#include "slots.h"

#include "alloc.h"

#include <acto/error.h>
#include <string.h>

#define NO_SLOT ACTO__NO_SLOT
#define FIRST_CAP 64
#define SHRINK_MIN 4096 /* smaller arrays are not worth shrinking */

void
acto__slots_init(acto__slots *t, uint32_t gen_mask)
{
    memset(t, 0, sizeof(*t));
    t->free_head = NO_SLOT;
    t->gen_mask = gen_mask;
    t->gen_base = 1;
}

void
acto__slots_fini(acto__slots *t)
{
    acto__free(t->v, (size_t)t->cap * sizeof(acto__slot));
    acto__slots_init(t, t->gen_mask);
}

static uint32_t
next_gen(const acto__slots *t, uint32_t gen)
{
    gen = (gen + 1) & t->gen_mask;
    return gen != 0 ? gen : 1;
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
acto__slots_add_slow(acto__slots *t, void *ptr, uint32_t *slot, uint32_t *gen)
{
    /* Free slots above fresh were given back: skip them. The free list is
     * empty before a fresh slot is handed out, so none is ever listed
     * while in use. */
    while (t->free_head != NO_SLOT && t->free_head >= t->fresh) {
        t->free_head = t->v[t->free_head].next_free;
    }
    uint32_t i;
    if (t->free_head != NO_SLOT) {
        i = t->free_head;
        t->free_head = t->v[i].next_free;
    } else {
        if (t->fresh == t->cap) {
            int rc = grow(t);
            if (rc != 0) {
                return rc;
            }
        }
        i = t->fresh++;
        /* Never generation 0, so slot 0 never yields a zero id. */
        t->v[i] = (acto__slot){NULL, t->gen_base, NO_SLOT};
        if (t->gen_base > t->max_gen) {
            t->max_gen = t->gen_base;
        }
    }
    t->v[i].ptr = ptr;
    t->used++;
    *slot = i;
    *gen = t->v[i].gen;
    return 0;
}

/* shrink_array moves the slots below fresh to an array of ncap, listing
 * only those as free. */
static void
shrink_array(acto__slots *t, uint32_t ncap)
{
    acto__slot *nv = acto__malloc((size_t)ncap * sizeof(acto__slot));
    if (nv == NULL) {
        return; /* keep the larger array: still correct */
    }
    if (t->fresh > 0) {
        memcpy(nv, t->v, (size_t)t->fresh * sizeof(acto__slot));
    }
    acto__free(t->v, (size_t)t->cap * sizeof(acto__slot));
    t->v = nv;
    t->cap = ncap;
    t->free_head = NO_SLOT;
    for (uint32_t i = t->fresh; i-- > 0;) {
        if (nv[i].ptr == NULL) {
            nv[i].next_free = t->free_head;
            t->free_head = i;
        }
    }
}

/* give_back lowers fresh below the free slots at the top of the table; a
 * slot above it is handed out again as fresh, with a generation above
 * every one used before, so old ids stay dead. Each slot is passed once
 * per use, so this is O(1) amortized. */
void
acto__slots_give_back(acto__slots *t)
{
    while (t->fresh > ACTO__SLOTS_KEEP && t->v[t->fresh - 1].ptr == NULL) {
        t->fresh--;
    }
    t->gen_base = next_gen(t, t->max_gen);
    if (t->cap > SHRINK_MIN && t->fresh < t->cap / 4) {
        uint32_t ncap = t->cap;
        while (ncap > SHRINK_MIN && t->fresh <= ncap / 4) {
            ncap /= 2; /* still twice what is in use */
        }
        shrink_array(t, ncap);
    }
}
