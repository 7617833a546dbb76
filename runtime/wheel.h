/* acto__wheel: a hierarchical timing wheel with 1 ms resolution.
 *
 * Timers are entries embedded in their owner's struct, so a pending timer
 * costs memory only and the wheel never allocates: its slot arrays live in
 * the struct itself. One libuv timer per system is armed for
 * acto__wheel_next_due(); that glue lives elsewhere.
 *
 * Design. Eleven levels of 64 slots cover all 64 bits of a due time. The
 * wheel has a position, pos (equal to the current time outside expire). An
 * entry lives at the level of the highest 6-bit group in which its due time
 * differs from pos, in the slot named by that group of its due time, so
 * level 0 slots hold one exact millisecond each and level 10 reaches
 * UINT64_MAX without an overflow list. When the position reaches the start
 * of a higher slot, its entries cascade to lower levels, keeping their
 * order, so equal due times leave in the order they were added. Entries due
 * at or before the current time wait on a list sorted by due time.
 *
 * Each slot caches the minimum due time of its entries and how many share
 * it. A removal that takes a slot's last minimum only marks the cache
 * stale; acto__wheel_next_due rescans the earliest slot when it is stale,
 * so it stays exact while removals in due order cost O(1).
 *
 * Cost: add and remove are O(1) (a few bitmap scans); next_due is O(levels)
 * plus, when the earliest slot above level 0 lost its last minimum since
 * the previous call, one rescan of that slot; adding a due time in the past
 * walks back the sorted past-due list past any later past-due entries (none
 * when due times are added in order). Expire is O(levels) per entry over
 * its life plus the callbacks.
 */
#ifndef ACTO__WHEEL_H
#define ACTO__WHEEL_H

#include <acto/detail.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACTO__WHEEL_BITS 6
#define ACTO__WHEEL_SLOTS 64
/* 11 * 6 = 66 bits, enough for any uint64_t due time. */
#define ACTO__WHEEL_LEVELS 11

/* A timer, embedded in its owner. Its fields are private to wheel.c. */
typedef struct acto__wheel_entry {
    acto__link link;
    uint64_t due;   /* absolute due time in ms */
    uint32_t where; /* unlinked, on a list, or which slot (see wheel.c) */
} acto__wheel_entry;

/* The wheel. It holds self-referencing list heads: never copy or move it
 * once initialised. */
typedef struct acto__wheel {
    uint64_t now; /* current time: the largest time given to init/expire */
    uint64_t pos; /* the position slots are relative to; now outside expire */
    size_t count; /* pending entries */
    acto__link expired; /* due <= now, by due time then add order */
    acto__link firing;  /* the past-due batch expire is running */
    uint64_t occupied[ACTO__WHEEL_LEVELS]; /* bit per non-empty slot */
    uint64_t stale[ACTO__WHEEL_LEVELS];    /* bit per slot whose min may be
                                              below its true minimum */
    uint64_t min[ACTO__WHEEL_LEVELS][ACTO__WHEEL_SLOTS];
    /* How many entries of a slot share its (exact) minimum, so removing
     * one of many timers due together does not rescan the slot. */
    uint32_t min_count[ACTO__WHEEL_LEVELS][ACTO__WHEEL_SLOTS];
    acto__link slots[ACTO__WHEEL_LEVELS][ACTO__WHEEL_SLOTS];
} acto__wheel;

/* acto__wheel_cb is called by acto__wheel_expire for each entry that fires,
 * after the entry has been unlinked. It may add or remove any entry,
 * including e, but must not call acto__wheel_expire. */
typedef void (*acto__wheel_cb)(acto__wheel_entry *e, void *user);

/* acto__wheel_init makes w an empty wheel whose current time is now_ms.
 * Returns nothing. Ownership: w is the caller's storage; the wheel holds
 * no other memory, so there is no fini. Thread: single thread, the
 * owner's. */
void acto__wheel_init(acto__wheel *w, uint64_t now_ms);

/* acto__wheel_entry_init puts e in the unlinked state, so it may be added
 * or removed. Returns nothing. Ownership: e is the caller's storage.
 * Thread: single thread, the owner's. */
void acto__wheel_entry_init(acto__wheel_entry *e);

/* acto__wheel_add schedules e to fire at due_ms. A due time at or before
 * the current time fires on the next acto__wheel_expire call (never on the
 * one running, if called from a callback). An entry that is already pending
 * is rescheduled and counts as added now for the order of equal due times.
 * Returns nothing. Ownership: the wheel links e but does not own it; e must
 * stay in place until it fires or is removed. Thread: single thread, the
 * owner's. */
void acto__wheel_add(acto__wheel *w, acto__wheel_entry *e, uint64_t due_ms);

/* acto__wheel_remove unlinks e so it will not fire; harmless when e is not
 * pending. Returns nothing. Ownership: e goes back to its owner, who may
 * free it. Thread: single thread, the owner's. */
void acto__wheel_remove(acto__wheel *w, acto__wheel_entry *e);

/* acto__wheel_entry_pending tells whether e is scheduled. Returns true from
 * acto__wheel_add until e fires or is removed. Ownership: e is borrowed.
 * Thread: single thread, the owner's. */
bool acto__wheel_entry_pending(const acto__wheel_entry *e);

/* acto__wheel_expire advances the wheel to now_ms (a smaller value counts
 * as the current time) and calls cb for every entry pending at the start
 * of the call with due time <= now_ms, in due order, equal due times in
 * add order, each unlinked before its callback. An entry removed or re-added
 * by a callback before its turn does not fire in this call, nor does any
 * entry added during the call with a due time <= now_ms: it fires on the
 * next call, so a zero-interval timer cannot loop. Returns how many
 * fired. Ownership: each fired entry goes back to its owner before cb runs.
 * Thread: single thread, the owner's; not reentrant. */
size_t acto__wheel_expire(acto__wheel *w, uint64_t now_ms, acto__wheel_cb cb,
                          void *user);

/* acto__wheel_next_due finds the earliest due time of any pending entry,
 * exactly, raised to the current time if it is earlier. It may rescan the
 * earliest slot to make its cached minimum exact again (removals only mark
 * it stale), which is why it takes a non-const wheel. Returns false when
 * no entry is pending (and leaves *due_ms alone), true otherwise.
 * Ownership: nothing changes hands. Thread: single thread, the owner's. */
bool acto__wheel_next_due(acto__wheel *w, uint64_t *due_ms);

/* acto__wheel_count returns the number of pending entries. Ownership:
 * nothing changes hands. Thread: single thread, the owner's. */
size_t acto__wheel_count(const acto__wheel *w);

#endif /* ACTO__WHEEL_H */
