/* acto__slots: a table of pointers named by (slot, generation) pairs.
 *
 * Refs and timer ids are slot numbers with a generation: freeing a slot
 * bumps its generation, so an old id never finds the slot's next owner.
 * Free slots are kept on a LIFO list so a busy table stays compact, and
 * slots past the high-water mark are never touched, so a large table costs
 * resident memory only for the slots in use. Free slots at the top are
 * given back (and the array shrinks once they are most of it); handed out
 * again later, they start above every generation used before, so old ids
 * stay dead.
 */
#ifndef ACTO__SLOTS_H
#define ACTO__SLOTS_H

#include <stddef.h>
#include <stdint.h>

typedef struct acto__slot {
    void *ptr;          /* NULL when free */
    uint32_t gen;       /* the generation of the current or next owner */
    uint32_t next_free; /* the next free slot, when free */
} acto__slot;

typedef struct acto__slots {
    acto__slot *v;
    uint32_t cap;
    uint32_t used;
    uint32_t fresh;     /* slots from here up were never handed out */
    uint32_t free_head; /* UINT32_MAX: none */
    uint32_t gen_mask;  /* generations wrap within this mask, skipping 0 */
    uint32_t gen_base;  /* the first generation of a fresh slot */
    uint32_t max_gen;   /* the highest generation handed out */
} acto__slots;

/* Makes an empty table whose generations fit gen_mask. */
void acto__slots_init(acto__slots *t, uint32_t gen_mask);

/* Frees the table's memory (not the pointers in it). */
void acto__slots_fini(acto__slots *t);

/* A free list's end. */
#define ACTO__NO_SLOT UINT32_MAX
/* Tables keep this many slots: giving back below it would cost a busy
 * small table (one ask at a time) the slow path on every add. */
#define ACTO__SLOTS_KEEP 1024u

/* The slow path of acto__slots_add: skips free slots that were given back,
 * then takes a listed one or a never-used one, growing the table when it
 * is full. */
int acto__slots_add_slow(acto__slots *t, void *ptr, uint32_t *slot,
                         uint32_t *gen);

/* The slow path of acto__slots_remove: the top slot was freed. */
void acto__slots_give_back(acto__slots *t);

/* Stores ptr in a free slot. Returns 0 and sets *slot and *gen, or
 * ACTO_ENOMEM (the table is unchanged). Never hands out slot 0 with
 * generation 0, so a zero id names nothing. Inline: asks and spawns take
 * a slot each, and a busy table reuses freed ones. */
static inline int
acto__slots_add(acto__slots *t, void *ptr, uint32_t *slot, uint32_t *gen)
{
    uint32_t i = t->free_head;
    if (i >= t->fresh) { /* none listed (NO_SLOT), or given back */
        return acto__slots_add_slow(t, ptr, slot, gen);
    }
    acto__slot *s = &t->v[i];
    t->free_head = s->next_free;
    s->ptr = ptr;
    t->used++;
    *slot = i;
    *gen = s->gen;
    return 0;
}

/* Returns the pointer at slot if its generation matches, else NULL. */
static inline void *
acto__slots_get(const acto__slots *t, uint32_t slot, uint32_t gen)
{
    if (slot >= t->fresh || t->v[slot].gen != gen) {
        return NULL;
    }
    return t->v[slot].ptr;
}

/* Frees slot (which must be in use) and bumps its generation. */
static inline void
acto__slots_remove(acto__slots *t, uint32_t slot)
{
    acto__slot *s = &t->v[slot];
    uint32_t gen = (s->gen + 1) & t->gen_mask;
    s->ptr = NULL;
    s->gen = gen != 0 ? gen : 1;
    if (s->gen > t->max_gen) {
        t->max_gen = s->gen;
    }
    s->next_free = t->free_head;
    t->free_head = slot;
    t->used--;
    if (slot == t->fresh - 1 && slot >= ACTO__SLOTS_KEEP) {
        acto__slots_give_back(t);
    }
}

#endif /* ACTO__SLOTS_H */
