/* acto-trace: memory, the buffered writer, formatting, the hash map and
 * quantiles. */
#include "at.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- memory, errors ---------------------------------------------------- */

void
at_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("acto-trace: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(AT_FAIL);
}

void *
at_alloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        at_die("out of memory (%zu bytes)", n);
    }
    return p;
}

void *
at_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL) {
        at_die("out of memory (%zu x %zu bytes)", n, size);
    }
    return p;
}

void *
at_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL) {
        at_die("out of memory (%zu bytes)", n);
    }
    return q;
}

char *
at_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(at_alloc(n), s, n);
}

/* ---- the writer -------------------------------------------------------- */

int
at_out_open(at_out *o, const char *path)
{
    memset(o, 0, sizeof(*o));
    o->path = path;
    if (path == NULL || strcmp(path, "-") == 0) {
        o->f = stdout;
        o->path = "stdout";
    } else {
        o->f = fopen(path, "w");
        if (o->f == NULL) {
            return errno;
        }
        o->owned = true;
    }
    o->buf = at_alloc(AT_OUT_BUF);
    return 0;
}

void
at_out_flush(at_out *o)
{
    if (o->len > 0 && o->err == 0 &&
        fwrite(o->buf, 1, o->len, o->f) != o->len) {
        o->err = errno != 0 ? errno : EIO;
    }
    o->len = 0;
}

int
at_out_close(at_out *o)
{
    at_out_flush(o);
    if (fflush(o->f) != 0 && o->err == 0) {
        o->err = errno;
    }
    if (o->owned && fclose(o->f) != 0 && o->err == 0) {
        o->err = errno;
    }
    free(o->buf);
    o->buf = NULL;
    return o->err;
}

void
at_out_mem_slow(at_out *o, const char *s, size_t n)
{
    o->total += n;
    at_out_flush(o);
    if (n > AT_OUT_BUF) {
        if (o->err == 0 && fwrite(s, 1, n, o->f) != n) {
            o->err = errno != 0 ? errno : EIO;
        }
        return;
    }
    memcpy(o->buf, s, n);
    o->len = n;
}

/* Two digits at a time: exporters print several numbers per event. */
static const char digit_pairs[] = "0001020304050607080910111213141516171819"
                                  "2021222324252627282930313233343536373839"
                                  "4041424344454647484950515253545556575859"
                                  "6061626364656667686970717273747576777879"
                                  "8081828384858687888990919293949596979899";

/* digits writes v in decimal, ending at end; returns its first byte. */
static char *
digits(char *end, uint64_t v)
{
    while (v >= 100) {
        uint64_t r = v % 100;
        v /= 100;
        end -= 2;
        memcpy(end, &digit_pairs[r * 2], 2);
    }
    if (v >= 10) {
        end -= 2;
        memcpy(end, &digit_pairs[v * 2], 2);
    } else {
        *--end = (char)('0' + v);
    }
    return end;
}

void
at_out_u64(at_out *o, uint64_t v)
{
    char tmp[24];
    char *p = digits(tmp + 24, v);
    at_out_mem(o, p, (size_t)(tmp + 24 - p));
}

void
at_out_i64(at_out *o, int64_t v)
{
    if (v < 0) {
        at_out_ch(o, '-');
        at_out_u64(o, (uint64_t)0 - (uint64_t)v);
    } else {
        at_out_u64(o, (uint64_t)v);
    }
}

void
at_out_us(at_out *o, uint64_t ns)
{
    char tmp[32];
    uint64_t frac = ns % 1000;
    tmp[31] = (char)('0' + frac % 10);
    memcpy(&tmp[29], &digit_pairs[(frac / 10) * 2], 2);
    tmp[28] = '.';
    char *p = digits(tmp + 28, ns / 1000);
    at_out_mem(o, p, (size_t)(tmp + 32 - p));
}

void
at_out_hex(at_out *o, uint64_t v, int digits)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[32];
    for (int i = digits - 1; i >= 0; i--) {
        tmp[i] = i >= digits - 16 ? hex[v & 15] : '0';
        if (i >= digits - 16) {
            v >>= 4;
        }
    }
    at_out_mem(o, tmp, (size_t)digits);
}

/* utf8_len is the length of the valid UTF-8 sequence at s, or 0. */
static size_t
utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n;
    unsigned min;
    if (c < 0x80) {
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        n = 2, min = 0x80, c &= 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3, min = 0x800, c &= 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4, min = 0x10000, c &= 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        c = c << 6 | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
        return 0;
    }
    return n;
}

void
at_out_json_str(at_out *o, const char *str)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    at_out_ch(o, '"');
    while (*s != 0) {
        unsigned char c = *s;
        if (c == '"' || c == '\\') {
            at_out_ch(o, '\\');
            at_out_ch(o, (char)c);
            s++;
        } else if (c < 0x20 || c == 0x7f) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            at_out_mem(o, esc, 6);
            s++;
        } else {
            size_t n = utf8_len(s);
            if (n == 0) {
                at_out_str(o, "\\ufffd");
                s++;
            } else {
                at_out_mem(o, (const char *)s, n);
                s += n;
            }
        }
    }
    at_out_ch(o, '"');
}

void
at_out_html(at_out *o, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s != 0) {
        switch (*s) {
        case '<':
            at_out_str(o, "&lt;");
            break;
        case '>':
            at_out_str(o, "&gt;");
            break;
        case '&':
            at_out_str(o, "&amp;");
            break;
        case '"':
            at_out_str(o, "&quot;");
            break;
        case '\'':
            at_out_str(o, "&#39;");
            break;
        default: {
            size_t n = *s < 0x20 ? 0 : utf8_len(s);
            if (n == 0) {
                at_out_str(o, "&#xfffd;");
                n = 1;
            } else {
                at_out_mem(o, (const char *)s, n);
            }
            s += n;
            continue;
        }
        }
        s++;
    }
}

void
at_out_printf(at_out *o, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    if ((size_t)n < sizeof(tmp)) {
        at_out_mem(o, tmp, (size_t)n);
        return;
    }
    char *big = at_alloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    at_out_mem(o, big, (size_t)n);
    free(big);
}

const char *
at_fmt_dur(uint64_t ns, char buf[32])
{
    if (ns < 1000) {
        snprintf(buf, 32, "%lluns", (unsigned long long)ns);
    } else if (ns < 1000000) {
        snprintf(buf, 32, "%.1fus", (double)ns / 1e3);
    } else if (ns < 1000000000) {
        snprintf(buf, 32, "%.2fms", (double)ns / 1e6);
    } else {
        snprintf(buf, 32, "%.2fs", (double)ns / 1e9);
    }
    return buf;
}

/* ---- the map: linear probing, deletion by backward shift --------------- */

static inline size_t
slot_of(uint64_t key, size_t mask)
{
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return (size_t)key & mask;
}

uint64_t *
at_map_get(const at_map *m, uint64_t key)
{
    if (m->cap == 0) {
        return NULL;
    }
    size_t mask = m->cap - 1;
    for (size_t i = slot_of(key, mask);; i = (i + 1) & mask) {
        if (m->keys[i] == key) {
            return &m->vals[i];
        }
        if (m->keys[i] == 0) {
            return NULL;
        }
    }
}

static void
grow(at_map *m)
{
    at_map g = {0};
    g.cap = m->cap ? m->cap * 2 : 64;
    g.keys = at_calloc(g.cap, sizeof(uint64_t));
    g.vals = at_alloc(g.cap * sizeof(uint64_t));
    size_t mask = g.cap - 1;
    for (size_t j = 0; j < m->cap; j++) {
        if (m->keys[j] != 0) {
            size_t i = slot_of(m->keys[j], mask);
            while (g.keys[i] != 0) {
                i = (i + 1) & mask;
            }
            g.keys[i] = m->keys[j];
            g.vals[i] = m->vals[j];
        }
    }
    g.n = m->n;
    free(m->keys);
    free(m->vals);
    *m = g;
}

uint64_t *
at_map_put(at_map *m, uint64_t key, bool *fresh)
{
    if ((m->n + 1) * 4 > m->cap * 3) { /* load at most 3/4 */
        grow(m);
    }
    size_t mask = m->cap - 1;
    size_t i = slot_of(key, mask);
    while (m->keys[i] != 0) {
        if (m->keys[i] == key) {
            if (fresh != NULL) {
                *fresh = false;
            }
            return &m->vals[i];
        }
        i = (i + 1) & mask;
    }
    m->keys[i] = key;
    m->vals[i] = 0;
    m->n++;
    if (fresh != NULL) {
        *fresh = true;
    }
    return &m->vals[i];
}

bool
at_map_del(at_map *m, uint64_t key, uint64_t *val)
{
    uint64_t *v = at_map_get(m, key);
    if (v == NULL) {
        return false;
    }
    if (val != NULL) {
        *val = *v;
    }
    size_t mask = m->cap - 1;
    size_t i = (size_t)(v - m->vals);
    /* Shift later members of the cluster back so no probe breaks. */
    for (size_t j = (i + 1) & mask; m->keys[j] != 0; j = (j + 1) & mask) {
        size_t home = slot_of(m->keys[j], mask);
        bool movable =
            i <= j ? (home <= i || home > j) : (home <= i && home > j);
        if (movable) {
            m->keys[i] = m->keys[j];
            m->vals[i] = m->vals[j];
            i = j;
        }
    }
    m->keys[i] = 0;
    m->n--;
    return true;
}

void
at_map_free(at_map *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof(*m));
}

/* ---- quantiles --------------------------------------------------------- */

static void
swap(uint64_t *a, uint64_t *b)
{
    uint64_t t = *a;
    *a = *b;
    *b = t;
}

/* select_k puts the k-th smallest at p[k] (quickselect, median of 3). */
static uint64_t
select_k(uint64_t *p, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (hi > lo) {
        size_t mid = lo + (hi - lo) / 2;
        if (p[mid] < p[lo]) {
            swap(&p[mid], &p[lo]);
        }
        if (p[hi] < p[lo]) {
            swap(&p[hi], &p[lo]);
        }
        if (p[hi] < p[mid]) {
            swap(&p[hi], &p[mid]);
        }
        uint64_t pivot = p[mid];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (p[i] < pivot) {
                i++;
            }
            while (p[j] > pivot) {
                j--;
            }
            if (i <= j) {
                swap(&p[i], &p[j]);
                i++;
                if (j == 0) {
                    break;
                }
                j--;
            }
        }
        if (k <= j) {
            hi = j;
        } else if (k >= i) {
            lo = i;
        } else {
            break;
        }
    }
    return p[k];
}

uint64_t
at_vec_pct(at_vec *v, double q)
{
    if (v->n == 0) {
        return 0;
    }
    size_t rank = (size_t)(q * (double)v->n + 0.999999999);
    size_t k = rank == 0 ? 0 : rank - 1;
    if (k >= v->n) {
        k = v->n - 1;
    }
    return select_k(v->p, v->n, k);
}

uint64_t
at_vec_max(const at_vec *v)
{
    uint64_t m = 0;
    for (size_t i = 0; i < v->n; i++) {
        m = v->p[i] > m ? v->p[i] : m;
    }
    return m;
}

void
at_vec_free(at_vec *v)
{
    free(v->p);
    memset(v, 0, sizeof(*v));
}
