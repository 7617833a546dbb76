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

static acto__link *
bucket_of(const acto_system *sys, const char *name)
{
    return &sys->buckets[hash(name) & (sys->n_buckets - 1)];
}

static acto__name *
find(const acto_system *sys, const char *name)
{
    if (sys->n_buckets == 0) {
        return NULL;
    }
    acto__link *b = bucket_of(sys, name);
    for (acto__link *l = b->next; l != b; l = l->next) {
        acto__name *e = acto__container_of(l, acto__name, in_bucket);
        if (strcmp(e->name, name) == 0) {
            return e;
        }
    }
    return NULL;
}

/* grow doubles the buckets (or makes the first ones). Returns 0 or
 * ACTO_ENOMEM with nothing changed. */
static int
grow(acto_system *sys)
{
    uint32_t n = sys->n_buckets ? sys->n_buckets * 2 : FIRST_BUCKETS;
    acto__link *b = acto__malloc(n * sizeof(*b));
    if (b == NULL) {
        return ACTO_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        acto__list_init(&b[i]);
    }
    acto__link *old = sys->buckets;
    uint32_t old_n = sys->n_buckets;
    sys->buckets = b;
    sys->n_buckets = n;
    for (uint32_t i = 0; i < old_n; i++) {
        acto__link *l;
        while ((l = acto__list_first(&old[i])) != NULL) {
            acto__name *e = acto__container_of(l, acto__name, in_bucket);
            acto__list_remove(l);
            acto__list_push_back(bucket_of(sys, e->name), l);
        }
    }
    acto__free(old, old_n * sizeof(*old));
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
    if (find(sys, name) != NULL) {
        return ACTO_EEXIST;
    }
    size_t size = sizeof(acto__name) + len + 1;
    acto__name *e = acto__malloc(size);
    if (e == NULL || acto__ext(a) == NULL) {
        acto__free(e, size);
        return ACTO_ENOMEM;
    }
    if (sys->n_names >= sys->n_buckets && grow(sys) != 0) {
        acto__free(e, size);
        return ACTO_ENOMEM;
    }
    e->ref = ref;
    e->size = size;
    memcpy(e->name, name, len + 1);
    acto__list_push_back(bucket_of(sys, name), &e->in_bucket);
    acto__list_push_back(&a->ext->names, &e->by_actor);
    sys->n_names++;
    return 0;
}

acto_ref
acto_whereis(const acto_system *sys, const char *name)
{
    if (sys == NULL || name == NULL) {
        return ACTO_REF_NONE;
    }
    acto__name *e = find(sys, name);
    return e != NULL ? e->ref : ACTO_REF_NONE;
}

static void
drop(acto_system *sys, acto__name *e)
{
    acto__list_remove(&e->in_bucket);
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
    acto__name *e = find(sys, name);
    if (e == NULL) {
        return ACTO_ENOTFOUND;
    }
    drop(sys, e);
    return 0;
}

void
acto__registry_drop_actor(acto_actor *a)
{
    acto__link *l;
    if (a->ext == NULL) {
        return;
    }
    while ((l = acto__list_first(&a->ext->names)) != NULL) {
        drop(a->sys, acto__container_of(l, acto__name, by_actor));
    }
}

void
acto__registry_fini(acto_system *sys)
{
    for (uint32_t i = 0; i < sys->n_buckets; i++) {
        acto__link *l;
        while ((l = acto__list_first(&sys->buckets[i])) != NULL) {
            drop(sys, acto__container_of(l, acto__name, in_bucket));
        }
    }
    acto__free(sys->buckets, sys->n_buckets * sizeof(*sys->buckets));
    sys->buckets = NULL;
    sys->n_buckets = 0;
}
