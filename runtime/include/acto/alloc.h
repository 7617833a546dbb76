/* The allocator hook: every byte acto allocates goes through it.
 *
 * acto never calls malloc directly and never replaces libuv's allocator
 * (inside someone else's libuv program that belongs to them). Out of memory
 * is reported as ACTO_ENOMEM by the call that needed the memory.
 */
#ifndef ACTO_ALLOC_H
#define ACTO_ALLOC_H

#include <stddef.h>

typedef struct acto_allocator {
    /* Returns size bytes aligned for any object type, or NULL on failure.
     * size is never 0. Called from any thread acto runs on. */
    void *(*malloc)(size_t size, void *user);
    /* Releases ptr, which came from malloc with exactly this size
     * (a sized free). ptr is never NULL. Called from any thread. */
    void (*free)(void *ptr, size_t size, void *user);
    /* Passed to both functions unchanged. */
    void *user;
} acto_allocator;

/* acto_allocator_set installs a; NULL restores the default (libc malloc).
 * Returns 0, or ACTO_EINVAL (changing nothing) when a function is missing.
 * Ownership: *a is copied; the caller keeps it.
 * Thread: not thread-safe. Call it only while no acto object exists, since
 * memory must go back to the allocator it came from. */
int acto_allocator_set(const acto_allocator *a);

/* acto_allocator_get copies the allocator in use into *out.
 * Thread: any thread, but not concurrently with acto_allocator_set. */
void acto_allocator_get(acto_allocator *out);

/* Allocation through the hook, for acto's other layers and for code that
 * wants its memory counted with acto's. acto_malloc returns NULL for size
 * 0 or on failure; acto_calloc zeroes (NULL also on n * size overflow);
 * acto_free takes the size given at allocation (NULL is ignored).
 * Thread: any thread. */
void *acto_malloc(size_t size);
void *acto_calloc(size_t n, size_t size);
void acto_free(void *ptr, size_t size);

#endif /* ACTO_ALLOC_H */
