/* The replaceable allocator behind acto__malloc and acto__free. */
#include "alloc.h"

#include <acto/error.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *
default_malloc(size_t size, void *user)
{
    (void)user;
    return malloc(size);
}

static void
default_free(void *ptr, size_t size, void *user)
{
    (void)size;
    (void)user;
    free(ptr);
}

static acto_allocator hook = {default_malloc, default_free, NULL};

int
acto_allocator_set(const acto_allocator *a)
{
    if (a == NULL) {
        hook = (acto_allocator){default_malloc, default_free, NULL};
        return 0;
    }
    if (a->malloc == NULL || a->free == NULL) {
        return ACTO_EINVAL;
    }
    hook = *a;
    return 0;
}

void
acto_allocator_get(acto_allocator *out)
{
    *out = hook;
}

void *
acto__malloc(size_t size)
{
    if (size == 0) {
        return NULL;
    }
    return hook.malloc(size, hook.user);
}

void *
acto__calloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size) {
        return NULL;
    }
    void *p = acto__malloc(n * size);
    if (p != NULL) {
        memset(p, 0, n * size);
    }
    return p;
}

void
acto__free(void *p, size_t size)
{
    if (p != NULL) {
        hook.free(p, size, hook.user);
    }
}

void *
acto_malloc(size_t size)
{
    return acto__malloc(size);
}

void *
acto_calloc(size_t n, size_t size)
{
    return acto__calloc(n, size);
}

void
acto_free(void *ptr, size_t size)
{
    acto__free(ptr, size);
}
