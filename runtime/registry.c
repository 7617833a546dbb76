/* The name registry: register, whereis, unregister, dropped on death. */
#include "internal.h"

#include <string.h>

#define MAX_NAME 255
#define FIRST_BUCKETS 64

/* FNV-1a: short names, no adversary able to pick them remotely. */
static uint32_t
hash(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s != '\0') {
        h = (h ^ (unsigned char)*s++) * 16777619u;
    }
    return h;
}

static acto__name **
find(const acto_system *sys, const char *name)
{
    if (sys->n_buckets == 0) {
        return NULL;
    }
    acto__name **p = &sys->buckets[hash(name) & (sys->n_buckets - 1)];
    while (*p != NULL && strcmp((*p)->name, name) != 0) {
        p = &(*p)->next;
    }
    return p;
}

/* grow doubles the buckets (or makes the first ones). Returns 0 or
 * ACTO_ENOMEM with nothing changed. */
static int
grow(acto_system *sys)
{
    uint32_t n = sys->n_buckets ? sys->n_buckets * 2 : FIRST_BUCKETS;
    acto__name **b = acto__calloc(n, sizeof(*b));
    if (b == NULL) {
        return ACTO_ENOMEM;
    }
    for (uint32_t i = 0; i < sys->n_buckets; i++) {
        acto__name *e = sys->buckets[i];
        while (e != NULL) {
            acto__name *next = e->next;
            acto__name **slot = &b[hash(e->name) & (n - 1)];
            e->next = *slot;
            *slot = e;
            e = next;
        }
    }
    acto__free(sys->buckets, sys->n_buckets * sizeof(*b));
    sys->buckets = b;
    sys->n_buckets = n;
    return 0;
}

int
acto_register(acto_system *sys, const char *name, acto_ref ref)
{
    size_t len = name != NULL ? strlen(name) : 0;
    if (sys == NULL || len == 0 || len > MAX_NAME) {
        return ACTO_EINVAL;
    }
    acto_actor *a = acto__lookup(sys, ref);
    if (a == NULL || a->life > LIFE_RUNNING) {
        return ACTO_ENOACTOR;
    }
    acto__name **p = find(sys, name);
    if (p != NULL && *p != NULL) {
        return ACTO_EEXIST;
    }
    if (sys->n_names >= sys->n_buckets && grow(sys) != 0) {
        return ACTO_ENOMEM;
    }
    size_t size = sizeof(acto__name) + len + 1;
    acto__name *e = acto__malloc(size);
    if (e == NULL) {
        return ACTO_ENOMEM;
    }
    e->ref = ref;
    e->size = size;
    memcpy(e->name, name, len + 1);
    p = find(sys, name); /* the buckets may have moved */
    e->next = NULL;
    *p = e;
    acto__list_push_back(&a->names, &e->by_actor);
    sys->n_names++;
    return 0;
}

acto_ref
acto_whereis(const acto_system *sys, const char *name)
{
    if (sys == NULL || name == NULL) {
        return ACTO_REF_NONE;
    }
    acto__name **p = find(sys, name);
    return p != NULL && *p != NULL ? (*p)->ref : ACTO_REF_NONE;
}

static void
drop(acto_system *sys, acto__name **p)
{
    acto__name *e = *p;
    *p = e->next;
    acto__list_remove(&e->by_actor);
    sys->n_names--;
    acto__free(e, e->size);
}

int
acto_unregister(acto_system *sys, const char *name)
{
    if (sys == NULL || name == NULL) {
        return ACTO_EINVAL;
    }
    acto__name **p = find(sys, name);
    if (p == NULL || *p == NULL) {
        return ACTO_ENOTFOUND;
    }
    drop(sys, p);
    return 0;
}

void
acto__registry_drop_actor(acto_actor *a)
{
    acto__link *l;
    while ((l = acto__list_first(&a->names)) != NULL) {
        acto__name *e = acto__container_of(l, acto__name, by_actor);
        drop(a->sys, find(a->sys, e->name));
    }
}

void
acto__registry_fini(acto_system *sys)
{
    for (uint32_t i = 0; i < sys->n_buckets; i++) {
        while (sys->buckets[i] != NULL) {
            drop(sys, &sys->buckets[i]);
        }
    }
    acto__free(sys->buckets, sys->n_buckets * sizeof(*sys->buckets));
    sys->buckets = NULL;
    sys->n_buckets = 0;
}
