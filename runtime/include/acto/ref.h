/* acto_ref: the name of an actor, a value that stays safe after it dies.
 *
 * A ref packs a shard number (8 bits), a generation (24 bits) and a slot
 * (32 bits) into 64 bits. A slot is reused only with a new generation, so a
 * ref to a stopped actor never reaches its successor: sends to it become
 * dead letters.
 */
#ifndef ACTO_REF_H
#define ACTO_REF_H

#include <stdbool.h>
#include <stdint.h>

typedef struct acto_ref {
    uint64_t id;
} acto_ref;

/* The ref that names no actor (a zero id). */
#define ACTO_REF_NONE ((acto_ref){0})

/* acto_ref_eq tells whether a and b name the same actor. Thread: any. */
static inline bool
acto_ref_eq(acto_ref a, acto_ref b)
{
    return a.id == b.id;
}

/* acto_ref_is_none tells whether r is ACTO_REF_NONE. Thread: any. */
static inline bool
acto_ref_is_none(acto_ref r)
{
    return r.id == 0;
}

/* The parts of a ref, for printing and for routing between shards. */
static inline uint32_t
acto_ref_shard(acto_ref r)
{
    return (uint32_t)(r.id >> 56);
}

static inline uint32_t
acto_ref_slot(acto_ref r)
{
    return (uint32_t)r.id;
}

static inline uint32_t
acto_ref_generation(acto_ref r)
{
    return (uint32_t)(r.id >> 32) & 0xFFFFFFu;
}

#endif /* ACTO_REF_H */
