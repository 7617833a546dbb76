/* Word counting: the tokenizer's table, the counting map and the sorted
 * output. Contracts in wordmap.h. */
#include "wordmap.h"

#include <stdlib.h>
#include <string.h>

#define L(c) ((uint8_t)(c) | 0x20)
#define ROW_UPPER                                                              \
    0, L('A'), L('B'), L('C'), L('D'), L('E'), L('F'), L('G'), L('H'), L('I'), \
        L('J'), L('K'), L('L'), L('M'), L('N'), L('O'), L('P'), L('Q'),        \
        L('R'), L('S'), L('T'), L('U'), L('V'), L('W'), L('X'), L('Y'),        \
        L('Z'), 0, 0, 0, 0, 0

const uint8_t wf_lower[256] = {
    /* 0x00-0x3f: no letters */
    [0x40] = ROW_UPPER, /* '@', 'A'..'Z', '['..'_' */
    [0x60] = ROW_UPPER, /* '`', 'a'..'z', '{'..DEL */
};

#define MIN_SLOTS 1024
#define BLOCK_SIZE ((size_t)64 * 1024)

void
wf_word_of(const char *p, size_t len, wf_word *w)
{
    uint64_t v = 0, h = 0, head = 0;
    for (size_t i = 0; i < len; i++) {
        v = v << 8 | (uint8_t)p[i];
        if (((i + 1) & 7) == 0) {
            head = i + 1 == 8 ? v : head;
            h = (h ^ v) * WF_K;
            v = 0;
        }
    }
    w->p = p;
    w->len = len;
    w->head = len < 8 ? v : head;
    w->hash = wf_mix((h ^ v) * WF_K + len);
}

int
wf_map_init(wf_map *m)
{
    *m = (wf_map){0};
    m->slots = calloc(MIN_SLOTS, sizeof(*m->slots));
    if (m->slots == NULL) {
        return -1;
    }
    m->mask = MIN_SLOTS - 1;
    return 0;
}

void
wf_map_fini(wf_map *m)
{
    char *b = m->block;
    while (b != NULL) {
        char *next;
        memcpy(&next, b, sizeof(next));
        free(b);
        b = next;
    }
    free(m->slots);
    *m = (wf_map){0};
}

/* grow doubles the slots and places every word again. */
static int
grow(wf_map *m)
{
    size_t cap = (m->mask + 1) * 2;
    wf_slot *ns = calloc(cap, sizeof(*ns));
    if (ns == NULL) {
        return -1;
    }
    for (size_t i = 0; i <= m->mask; i++) {
        if (m->slots[i].word != NULL) {
            size_t j = m->slots[i].hash & (cap - 1);
            while (ns[j].word != NULL) {
                j = (j + 1) & (cap - 1);
            }
            ns[j] = m->slots[i];
        }
    }
    free(m->slots);
    m->slots = ns;
    m->mask = cap - 1;
    return 0;
}

/* store copies a word into the map's blocks. A block starts with the
 * pointer to the previous one; a word too big for a block gets its own. */
static char *
store(wf_map *m, const char *w, size_t len)
{
    if (m->block == NULL || m->block_used + len > m->block_size) {
        size_t size = sizeof(char *) + len;
        size = size < BLOCK_SIZE ? BLOCK_SIZE : size;
        char *b = malloc(size);
        if (b == NULL) {
            return NULL;
        }
        memcpy(b, &m->block, sizeof(char *));
        m->block = b;
        m->block_size = size;
        m->block_used = sizeof(char *);
    }
    char *dst = m->block + m->block_used;
    memcpy(dst, w, len);
    m->block_used += len;
    return dst;
}

wf_slot *
wf_map_find(const wf_map *m, const wf_word *w)
{
    for (size_t i = (uint32_t)w->hash & m->mask;; i = (i + 1) & m->mask) {
        wf_slot *s = &m->slots[i];
        if (s->word == NULL) {
            return NULL;
        }
        if (wf_same(s, w)) {
            return s;
        }
    }
}

/* unpack writes the letters of a word of at most 8 from its head. */
static void
unpack(uint64_t head, size_t len, char *out)
{
    for (size_t i = len; i-- > 0;) {
        out[i] = (char)(head & 0xff);
        head >>= 8;
    }
}

int
wf_map_insert(wf_map *m, const wf_word *w, uint64_t n, size_t at)
{
    if (w->len > UINT32_MAX) {
        return -1;
    }
    if ((m->used + 1) * 2 > m->mask + 1) {
        if (grow(m) != 0) {
            return -1;
        }
        return wf_map_add(m, w, n);
    }
    char letters[8];
    const char *p = w->p;
    if (p == NULL) {
        unpack(w->head, w->len, letters);
        p = letters;
    }
    char *copy = store(m, p, w->len);
    if (copy == NULL) {
        return -1;
    }
    m->slots[at] = (wf_slot){.count = n,
                             .head = w->head,
                             .word = copy,
                             .hash = (uint32_t)w->hash,
                             .len = (uint32_t)w->len};
    m->used++;
    return 0;
}

int
wf_count_text(wf_map *m, char *p, size_t n)
{
    char *end = p + n;
    wf_word w;
    while (wf_next_word(&p, end, &w)) {
        if (wf_map_add(m, &w, 1) != 0) {
            return -1;
        }
    }
    return 0;
}

size_t
wf_carry_cut(const char *p, size_t n)
{
    while (n > 0 && wf_lower[(uint8_t)p[n - 1]] != 0) {
        n--;
    }
    return n;
}

static int
by_count_then_word(const void *a, const void *b)
{
    const wf_slot *x = a, *y = b;
    if (x->count != y->count) {
        return x->count > y->count ? -1 : 1;
    }
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->word, y->word, n);
    if (c != 0) {
        return c;
    }
    return x->len < y->len ? -1 : x->len > y->len;
}

wf_slot *
wf_sorted(wf_map *const *maps, size_t n, size_t *count)
{
    size_t total = 0;
    for (size_t k = 0; k < n; k++) {
        total += maps[k]->used;
    }
    wf_slot *v = malloc((total > 0 ? total : 1) * sizeof(*v));
    if (v == NULL) {
        return NULL;
    }
    size_t at = 0;
    for (size_t k = 0; k < n; k++) {
        for (size_t i = 0; i <= maps[k]->mask; i++) {
            if (maps[k]->slots[i].word != NULL) {
                v[at++] = maps[k]->slots[i];
            }
        }
    }
    qsort(v, total, sizeof(*v), by_count_then_word);
    *count = total;
    return v;
}

int
wf_print(FILE *out, const wf_slot *v, size_t n, size_t top)
{
    if (top != 0 && top < n) {
        n = top;
    }
    for (size_t i = 0; i < n; i++) {
        if (fprintf(out, "%.*s %llu\n", (int)v[i].len, v[i].word,
                    (unsigned long long)v[i].count) < 0) {
            return -1;
        }
    }
    return fflush(out) == 0 ? 0 : -1;
}
