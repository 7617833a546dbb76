/* Private allocation entry points of the runtime layer. */
#ifndef ACTO__ALLOC_H
#define ACTO__ALLOC_H

#include <acto/alloc.h>

/* acto__malloc returns size bytes from the hook, or NULL (also for 0). */
void *acto__malloc(size_t size);

/* acto__calloc returns n * size zeroed bytes, or NULL on overflow or
 * failure. Free it with acto__free(p, n * size). */
void *acto__calloc(size_t n, size_t size);

/* acto__free releases p (NULL is ignored); size must match the request. */
void acto__free(void *p, size_t size);

#endif /* ACTO__ALLOC_H */
