/* Word counting pieces shared by acto-wordfreq and acto-bench's plain-C
 * floor for it: the tokenizer (words are runs of ASCII letters,
 * lowercased), the word hash and a counting hash map.
 *
 * Not thread-safe: each map belongs to one thread at a time.
 */
#ifndef WORDMAP_H
#define WORDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* wf_lower maps an ASCII letter to its lower case and every other byte to
 * 0. */
extern const uint8_t wf_lower[256];

/* A word as the tokenizer sees it. */
typedef struct wf_word {
    const char *p; /* its letters, lowercase; may be NULL when len <= 8 */
    size_t len;
    uint64_t head; /* its first 8 letters, packed: the whole word when
                      len <= 8 */
    uint64_t hash;
} wf_word;

#define WF_K 0x9ddfea08eb382d69ULL

/* wf_mix finishes a word's hash so that all its bits are usable: the low
 * 32 for the map, the high ones for partitions. */
static inline uint64_t
wf_mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

/* wf_next_word finds the next word in [*pos, end), lowercases it in place
 * and describes it in *w; *pos moves past it. Returns false when no word
 * is left. The hash takes the letters 8 at a time. */
static inline bool
wf_next_word(char **pos, char *end, wf_word *w)
{
    uint8_t *p = (uint8_t *)*pos;
    uint8_t *e = (uint8_t *)end;
    while (p < e && wf_lower[*p] == 0) {
        p++;
    }
    if (p == e) {
        *pos = end;
        return false;
    }
    uint8_t *start = p;
    uint64_t v = 0, h = 0, head = 0;
    uint8_t c;
    while (p < e && (c = wf_lower[*p]) != 0) {
        *p++ = c;
        v = v << 8 | c;
        if (((size_t)(p - start) & 7) == 0) {
            head = p - start == 8 ? v : head;
            h = (h ^ v) * WF_K;
            v = 0;
        }
    }
    *pos = (char *)p;
    w->p = (const char *)start;
    w->len = (size_t)(p - start);
    w->head = w->len < 8 ? v : head;
    w->hash = wf_mix((h ^ v) * WF_K + w->len);
    return true;
}

/* wf_word_of describes a word that is already lowercase, as wf_next_word
 * would. */
void wf_word_of(const char *p, size_t len, wf_word *w);

/* One counted word. word points into the map's own storage. */
typedef struct wf_slot {
    uint64_t count;
    uint64_t head; /* as wf_word's */
    char *word;    /* NULL: an empty slot */
    uint32_t hash;
    uint32_t len;
} wf_slot;

/* A counting map: open addressing, linear probing, words copied into
 * blocks the map owns. Zero-initialised is not enough: wf_map_init. */
typedef struct wf_map {
    wf_slot *slots;
    size_t mask; /* slots - 1, a power of two minus one */
    size_t used;
    char *block; /* the block words are copied into; a list through
                    each block's first pointer */
    size_t block_used, block_size;
} wf_map;

/* wf_map_init makes an empty map. Returns 0, or -1 when out of memory. */
int wf_map_init(wf_map *m);

/* wf_map_fini frees what the map holds. */
void wf_map_fini(wf_map *m);

/* wf_same tells whether slot s holds word w. */
static inline bool
wf_same(const wf_slot *s, const wf_word *w)
{
    if (s->hash != (uint32_t)w->hash || s->len != w->len ||
        s->head != w->head) {
        return false;
    }
    if (w->len <= 8) {
        return true;
    }
    for (size_t i = 8; i < w->len; i++) {
        if (s->word[i] != w->p[i]) {
            return false;
        }
    }
    return true;
}

/* wf_map_insert puts w with count n in the empty slot at, where
 * wf_map_add's probe ended. Returns 0 or -1 (out of memory). */
int wf_map_insert(wf_map *m, const wf_word *w, uint64_t n, size_t at);

/* wf_map_add adds n to the count of w, inserting it when new. Returns 0,
 * or -1 when out of memory (the map is unchanged then). */
static inline int
wf_map_add(wf_map *m, const wf_word *w, uint64_t n)
{
    size_t i = (uint32_t)w->hash & m->mask;
    for (;; i = (i + 1) & m->mask) {
        wf_slot *s = &m->slots[i];
        if (s->word == NULL) {
            return wf_map_insert(m, w, n, i);
        }
        if (wf_same(s, w)) {
            s->count += n;
            return 0;
        }
    }
}

/* wf_map_find returns w's slot, or NULL when it is not counted. */
wf_slot *wf_map_find(const wf_map *m, const wf_word *w);

/* wf_count_text counts every word of [p, p + n), lowercasing in place.
 * Words cut at the ends are counted as they are. Returns 0 or -1. */
int wf_count_text(wf_map *m, char *p, size_t n);

/* wf_sorted copies the slots of n maps (which must count disjoint sets of
 * words) into one array sorted by count, highest first, then by word in
 * byte order. Returns the array (the caller's to free; its words still
 * point into the maps) and its length in *count, or NULL when out of
 * memory. */
wf_slot *wf_sorted(wf_map *const *maps, size_t n, size_t *count);

/* wf_print prints the first top entries (all when top is 0) as "word
 * count" lines. Returns 0, or -1 on a write error. */
int wf_print(FILE *out, const wf_slot *v, size_t n, size_t top);

/* wf_carry_cut returns the length of the longest prefix of [p, p + n)
 * that ends with a non-letter (0 if every byte is a letter): what can be
 * counted now when the bytes that follow may continue the last word. */
size_t wf_carry_cut(const char *p, size_t n);

#endif /* WORDMAP_H */
