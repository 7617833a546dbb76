/* acto__wheel: a hierarchical timing wheel (see wheel.h for the design).
 *
 * Invariants, outside expire and between its steps:
 * - An entry with due > pos is in slot (due >> 6L) & 63 of level L, where L
 *   is the highest 6-bit group in which due and pos differ. As pos moves
 *   towards due, L can only change when pos reaches the start of that slot,
 *   which is exactly when expire cascades it; so equal due times always
 *   share a slot, in add order.
 * - Hence all of level L lies after all of levels below L, and the earliest
 *   entry is in the first occupied slot of the lowest occupied level.
 * - The min cache of an occupied slot is at most its true minimum; it is
 *   exact unless the slot's stale bit is set. next_due refreshes the first
 *   occupied slot when it is stale, so a removal never rescans. Level 0
 *   slots hold one due time each, so are never stale.
 */
#include "wheel.h"

#include "list.h"

#define BITS ACTO__WHEEL_BITS
#define SLOTS ACTO__WHEEL_SLOTS
#define LEVELS ACTO__WHEEL_LEVELS
#define SLOT_MASK ((uint64_t)SLOTS - 1)

/* Values of acto__wheel_entry.where. */
enum {
    WHERE_NONE = 0, /* unlinked */
    WHERE_LIST = 1, /* on expired or firing: no slot bookkeeping */
    WHERE_SLOT = 2  /* WHERE_SLOT + level * SLOTS + slot */
};

static acto__wheel_entry *
entry_of(acto__link *l)
{
    return acto__container_of(l, acto__wheel_entry, link);
}

static uint64_t
bit_of(unsigned slot)
{
    return UINT64_C(1) << slot;
}

/* The level for due as seen from pos; due > pos. */
static unsigned
level_for(uint64_t pos, uint64_t due)
{
    unsigned msb = 63u - (unsigned)__builtin_clzll(due ^ pos);
    return msb / BITS;
}

/* The first time slot covers at level, in the block that holds pos. */
static uint64_t
slot_start(uint64_t pos, unsigned level, unsigned slot)
{
    unsigned shift = level * BITS;
    uint64_t base = 0;
    if (shift + BITS < 64) {
        base = pos & ~((UINT64_C(1) << (shift + BITS)) - 1);
    }
    return base | ((uint64_t)slot << shift);
}

static bool
first_slot(const acto__wheel *w, unsigned *level, unsigned *slot)
{
    for (unsigned l = 0; l < LEVELS; l++) {
        if (w->occupied[l] != 0) {
            *level = l;
            *slot = (unsigned)__builtin_ctzll(w->occupied[l]);
            return true;
        }
    }
    return false;
}

/* Restores the exact minimum of the first slot if a removal spoiled it. */
static void
refresh_first(acto__wheel *w)
{
    unsigned level;
    unsigned slot;
    if (!first_slot(w, &level, &slot) || !(w->stale[level] & bit_of(slot))) {
        return;
    }
    acto__link *head = &w->slots[level][slot];
    uint64_t min = UINT64_MAX;
    uint32_t count = 0;
    for (acto__link *l = head->next; l != head; l = l->next) {
        uint64_t due = entry_of(l)->due;
        if (due < min) {
            min = due;
            count = 1;
        } else if (due == min) {
            count++;
        }
    }
    w->min[level][slot] = min;
    w->min_count[level][slot] = count;
    w->stale[level] &= ~bit_of(slot);
}

/* Links e into its slot; due >= pos. due == pos only while cascading, and
 * goes to level 0, the slot of the current millisecond. */
static void
place(acto__wheel *w, acto__wheel_entry *e)
{
    unsigned level = e->due == w->pos ? 0 : level_for(w->pos, e->due);
    unsigned slot = (unsigned)((e->due >> (level * BITS)) & SLOT_MASK);
    uint64_t bit = bit_of(slot);
    acto__list_push_back(&w->slots[level][slot], &e->link);
    e->where = WHERE_SLOT + level * SLOTS + slot;
    if (!(w->occupied[level] & bit)) {
        w->occupied[level] |= bit;
        w->min[level][slot] = e->due;
        w->min_count[level][slot] = 1;
    } else if (e->due < w->min[level][slot]) {
        /* Below a lower bound of the others: exact again. */
        w->min[level][slot] = e->due;
        w->min_count[level][slot] = 1;
        w->stale[level] &= ~bit;
    } else if (e->due == w->min[level][slot]) {
        w->min_count[level][slot]++; /* meaningful only while exact */
    }
}

/* Links e into the past-due list after every entry due no later. */
static void
place_expired(acto__wheel *w, acto__wheel_entry *e)
{
    acto__link *pos = &w->expired;
    while (pos->prev != &w->expired && entry_of(pos->prev)->due > e->due) {
        pos = pos->prev;
    }
    acto__list_insert_before(pos, &e->link);
    e->where = WHERE_LIST;
}

/* Updates the bitmaps after e (already unlinked) left its slot. */
static void
unslot(acto__wheel *w, const acto__wheel_entry *e)
{
    unsigned idx = e->where - WHERE_SLOT;
    unsigned level = idx / SLOTS;
    unsigned slot = idx % SLOTS;
    uint64_t bit = bit_of(slot);
    if (acto__list_empty(&w->slots[level][slot])) {
        w->occupied[level] &= ~bit;
        w->stale[level] &= ~bit;
    } else if (level > 0 && e->due == w->min[level][slot]) {
        if (!(w->stale[level] & bit) && --w->min_count[level][slot] > 0) {
            return; /* another entry still holds the minimum */
        }
        /* Rescanned only when next_due needs it: removing timers in due
         * order (asks answered in turn) must not rescan a slot each time. */
        w->stale[level] |= bit;
    }
}

/* Moves every entry of a slot above level 0 down, in order. The levels
 * below are empty, since this slot was the first occupied one. */
static void
cascade(acto__wheel *w, unsigned level, unsigned slot)
{
    acto__link batch;
    acto__link *l;
    acto__list_init(&batch);
    acto__list_splice(&batch, &w->slots[level][slot]);
    w->occupied[level] &= ~bit_of(slot);
    w->stale[level] &= ~bit_of(slot);
    while ((l = acto__list_first(&batch)) != NULL) {
        acto__list_remove(l);
        place(w, entry_of(l));
    }
    refresh_first(w);
}

/* Fires the entries on head one at a time, so a callback that removes a
 * later one stops it from firing. */
static size_t
fire(acto__wheel *w, acto__link *head, acto__wheel_cb cb, void *user)
{
    size_t n = 0;
    acto__link *l;
    while ((l = acto__list_first(head)) != NULL) {
        acto__wheel_entry *e = entry_of(l);
        acto__wheel_remove(w, e);
        cb(e, user);
        n++;
    }
    return n;
}

void
acto__wheel_init(acto__wheel *w, uint64_t now_ms)
{
    w->now = now_ms;
    w->pos = now_ms;
    w->count = 0;
    acto__list_init(&w->expired);
    acto__list_init(&w->firing);
    for (unsigned l = 0; l < LEVELS; l++) {
        w->occupied[l] = 0;
        w->stale[l] = 0;
        for (unsigned s = 0; s < SLOTS; s++) {
            w->min[l][s] = UINT64_MAX;
            acto__list_init(&w->slots[l][s]);
        }
    }
}

void
acto__wheel_entry_init(acto__wheel_entry *e)
{
    acto__list_init(&e->link);
    e->due = 0;
    e->where = WHERE_NONE;
}

void
acto__wheel_add(acto__wheel *w, acto__wheel_entry *e, uint64_t due_ms)
{
    acto__wheel_remove(w, e);
    e->due = due_ms;
    w->count++;
    /* During expire pos < now: an entry due in (pos, now] still goes to the
     * past-due list, so it waits for the next call. */
    if (due_ms <= w->now) {
        place_expired(w, e);
    } else {
        place(w, e);
    }
}

void
acto__wheel_remove(acto__wheel *w, acto__wheel_entry *e)
{
    if (e->where == WHERE_NONE) {
        return;
    }
    acto__list_remove(&e->link);
    w->count--;
    if (e->where >= WHERE_SLOT) {
        unslot(w, e);
    }
    e->where = WHERE_NONE;
}

bool
acto__wheel_entry_pending(const acto__wheel_entry *e)
{
    return e->where != WHERE_NONE;
}

size_t
acto__wheel_expire(acto__wheel *w, uint64_t now_ms, acto__wheel_cb cb,
                   void *user)
{
    size_t fired;
    unsigned level;
    unsigned slot;
    if (now_ms > w->now) {
        w->now = now_ms;
    }
    /* Phase 1: entries that were already due. Taking them as one batch
     * leaves expired free for entries the callbacks add. */
    acto__list_splice(&w->firing, &w->expired);
    fired = fire(w, &w->firing, cb, user);
    /* Phase 2: walk the position to now, one occupied slot at a time. */
    while (first_slot(w, &level, &slot)) {
        uint64_t start = slot_start(w->pos, level, slot);
        if (start > w->now) {
            break;
        }
        w->pos = start;
        if (level == 0) {
            fired += fire(w, &w->slots[0][slot], cb, user);
        } else {
            cascade(w, level, slot);
        }
    }
    /* Every slot now starts after now, so no entry changes level. */
    w->pos = w->now;
    return fired;
}

bool
acto__wheel_next_due(acto__wheel *w, uint64_t *due_ms)
{
    unsigned level;
    unsigned slot;
    if (w->count == 0) {
        return false;
    }
    if (!acto__list_empty(&w->expired) || !acto__list_empty(&w->firing) ||
        !first_slot(w, &level, &slot)) {
        *due_ms = w->now;
        return true;
    }
    refresh_first(w);
    uint64_t due = w->min[level][slot];
    *due_ms = due < w->now ? w->now : due;
    return true;
}

size_t
acto__wheel_count(const acto__wheel *w)
{
    return w->count;
}
