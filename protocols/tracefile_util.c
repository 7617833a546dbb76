/* The trace file's buffer and hash map (see tracefile_int.h). */
#include "tracefile_int.h"

#include <acto/alloc.h>
#include <acto/error.h>

int
acto__tf_buf_reserve(acto__tf_buf *b, size_t n)
{
    if (b->cap - b->len >= n) {
        return 0;
    }
    if (n > SIZE_MAX / 2 - b->len) {
        return ACTO_ENOMEM;
    }
    size_t cap = b->cap != 0 ? b->cap : 256;
    while (cap - b->len < n) {
        cap *= 2;
    }
    uint8_t *p = acto_malloc(cap);
    if (p == NULL) {
        return ACTO_ENOMEM;
    }
    if (b->len != 0) {
        memcpy(p, b->p, b->len);
    }
    acto_free(b->p, b->cap);
    b->p = p;
    b->cap = cap;
    return 0;
}

void
acto__tf_buf_fini(acto__tf_buf *b)
{
    acto_free(b->p, b->cap);
    *b = (acto__tf_buf){0};
}

static size_t
slot_of(uint64_t key, size_t cap)
{
    /* Fibonacci hashing: refs differ mostly in their low (slot) bits. */
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & (cap - 1);
}

bool
acto__tf_map_get(const acto__tf_map *m, uint64_t key, uint64_t *val)
{
    if (m->cap == 0) {
        return false;
    }
    for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == key) {
            *val = m->vals[i];
            return true;
        }
        if (m->keys[i] == 0) {
            return false;
        }
    }
}

static void
insert(uint64_t *keys, uint64_t *vals, size_t cap, uint64_t key, uint64_t val)
{
    size_t i = slot_of(key, cap);
    while (keys[i] != 0 && keys[i] != key) {
        i = (i + 1) & (cap - 1);
    }
    keys[i] = key;
    vals[i] = val;
}

static int
grow(acto__tf_map *m)
{
    size_t cap = m->cap != 0 ? m->cap * 2 : 64;
    uint64_t *keys = acto_calloc(cap, sizeof(*keys));
    uint64_t *vals = acto_malloc(cap * sizeof(*vals));
    if (keys == NULL || vals == NULL) {
        acto_free(keys, cap * sizeof(*keys));
        acto_free(vals, cap * sizeof(*vals));
        return ACTO_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] != 0) {
            insert(keys, vals, cap, m->keys[i], m->vals[i]);
        }
    }
    size_t n = m->n;
    acto__tf_map_fini(m);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    m->n = n;
    return 0;
}

int
acto__tf_map_put(acto__tf_map *m, uint64_t key, uint64_t val)
{
    size_t n = m->n;
    if ((n + 1) * 2 > m->cap) {
        int rc = grow(m);
        if (rc != 0) {
            return rc;
        }
    }
    uint64_t old;
    if (!acto__tf_map_get(m, key, &old)) {
        n++;
    }
    insert(m->keys, m->vals, m->cap, key, val);
    m->n = n;
    return 0;
}

void
acto__tf_map_clear(acto__tf_map *m)
{
    if (m->n != 0) {
        memset(m->keys, 0, m->cap * sizeof(*m->keys));
        m->n = 0;
    }
}

void
acto__tf_map_fini(acto__tf_map *m)
{
    acto_free(m->keys, m->cap * sizeof(*m->keys));
    acto_free(m->vals, m->cap * sizeof(*m->vals));
    m->keys = NULL;
    m->vals = NULL;
    m->cap = 0;
    m->n = 0;
}
