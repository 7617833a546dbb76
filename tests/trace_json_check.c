/* A strict JSON parser (RFC 8259: no trailing commas, no leading zeros,
 * no control characters or invalid UTF-8 in strings, nothing after the
 * value) and checks of acto-trace's JSON exports:
 *
 *   trace_json_check json FILE             parses
 *   trace_json_check perfetto FILE...      Chrome trace JSON: every event
 *       has its fields; every "s" has its "f" (by id, cat and name; across
 *       the files given) and "f" has "bp":"e"; X slices nest on each track;
 *       each flow point lies strictly inside a slice of its track
 *   trace_json_check otlp FILE             OTLP JSON: spans with hex ids,
 *       kind 5, decimal-string times, start <= end, acto's attributes,
 *       parents that exist
 *
 * Prints what it found; exits 1 on the first violation. */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jkind;

typedef struct jval jval;
struct jval {
    jkind kind;
    double num;
    char *str; /* J_STR: decoded; J_NUM: the text */
    bool b;
    size_t n;    /* items or members */
    jval *items; /* J_ARR items; J_OBJ values */
    char **keys; /* J_OBJ */
};

static const char *src, *file;
static size_t pos, len;

static void
die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "trace_json_check: %s: ", file);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void *
xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (p == NULL) {
        die("out of memory");
    }
    return p;
}

static void
ws(void)
{
    while (pos < len && (src[pos] == ' ' || src[pos] == '\t' ||
                         src[pos] == '\n' || src[pos] == '\r')) {
        pos++;
    }
}

static void parse_value(jval *v, int depth);

static unsigned
hex4(void)
{
    unsigned u = 0;
    for (int i = 0; i < 4; i++, pos++) {
        if (pos >= len || !isxdigit((unsigned char)src[pos])) {
            die("offset %zu: bad \\u escape", pos);
        }
        char c = src[pos];
        u = u * 16 + (unsigned)(isdigit((unsigned char)c)
                                    ? c - '0'
                                    : (tolower((unsigned char)c) - 'a' + 10));
    }
    return u;
}

static size_t
put_utf8(char *d, unsigned c)
{
    if (c < 0x80) {
        d[0] = (char)c;
        return 1;
    } else if (c < 0x800) {
        d[0] = (char)(0xc0 | c >> 6);
        d[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    } else if (c < 0x10000) {
        d[0] = (char)(0xe0 | c >> 12);
        d[1] = (char)(0x80 | (c >> 6 & 0x3f));
        d[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    d[0] = (char)(0xf0 | c >> 18);
    d[1] = (char)(0x80 | (c >> 12 & 0x3f));
    d[2] = (char)(0x80 | (c >> 6 & 0x3f));
    d[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

/* utf8 checks one UTF-8 sequence at pos; returns its length. */
static size_t
utf8(void)
{
    const unsigned char *s = (const unsigned char *)src + pos;
    unsigned c = s[0], min;
    size_t n;
    if (c < 0x80) {
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        n = 2, min = 0x80, c &= 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3, min = 0x800, c &= 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4, min = 0x10000, c &= 0x07;
    } else {
        die("offset %zu: invalid UTF-8", pos);
    }
    for (size_t i = 1; i < n; i++) {
        if (pos + i >= len || (s[i] & 0xc0) != 0x80) {
            die("offset %zu: invalid UTF-8", pos);
        }
        c = c << 6 | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
        die("offset %zu: invalid UTF-8", pos);
    }
    return n;
}

static char *
parse_string(void)
{
    pos++; /* the quote */
    size_t cap = 16, k = 0;
    char *d = xrealloc(NULL, cap);
    for (;;) {
        if (pos >= len) {
            die("unterminated string");
        }
        if (k + 8 > cap) {
            d = xrealloc(d, cap *= 2);
        }
        unsigned char c = (unsigned char)src[pos];
        if (c == '"') {
            pos++;
            break;
        }
        if (c < 0x20) {
            die("offset %zu: control character in a string", pos);
        }
        if (c != '\\') {
            size_t n = utf8();
            memcpy(d + k, src + pos, n);
            k += n, pos += n;
            continue;
        }
        if (++pos >= len) {
            die("unterminated escape");
        }
        char e = src[pos++];
        const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
        const char *at = strchr(from, e);
        if (e != 'u' && (at == NULL || e == '\0')) {
            die("offset %zu: bad escape \\%c", pos - 1, e);
        }
        if (e != 'u') {
            d[k++] = to[at - from];
            continue;
        }
        unsigned u = hex4();
        if (u >= 0xd800 && u <= 0xdbff) {
            if (pos + 2 > len || src[pos] != '\\' || src[pos + 1] != 'u') {
                die("offset %zu: lone surrogate", pos);
            }
            pos += 2;
            unsigned lo = hex4();
            if (lo < 0xdc00 || lo > 0xdfff) {
                die("offset %zu: bad surrogate pair", pos);
            }
            u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
        } else if (u >= 0xdc00 && u <= 0xdfff) {
            die("offset %zu: lone surrogate", pos);
        }
        k += put_utf8(d + k, u);
    }
    d[k] = '\0';
    return d;
}

static void
parse_number(jval *v)
{
    size_t start = pos;
    if (src[pos] == '-') {
        pos++;
    }
    if (pos >= len || !isdigit((unsigned char)src[pos])) {
        die("offset %zu: bad number", start);
    }
    if (src[pos] == '0' && pos + 1 < len &&
        isdigit((unsigned char)src[pos + 1])) {
        die("offset %zu: leading zero", start);
    }
    while (pos < len && isdigit((unsigned char)src[pos])) {
        pos++;
    }
    if (pos < len && src[pos] == '.') {
        if (++pos >= len || !isdigit((unsigned char)src[pos])) {
            die("offset %zu: bad fraction", start);
        }
        while (pos < len && isdigit((unsigned char)src[pos])) {
            pos++;
        }
    }
    if (pos < len && (src[pos] == 'e' || src[pos] == 'E')) {
        pos++;
        if (pos < len && (src[pos] == '+' || src[pos] == '-')) {
            pos++;
        }
        if (pos >= len || !isdigit((unsigned char)src[pos])) {
            die("offset %zu: bad exponent", start);
        }
        while (pos < len && isdigit((unsigned char)src[pos])) {
            pos++;
        }
    }
    v->kind = J_NUM;
    v->str = xrealloc(NULL, pos - start + 1);
    memcpy(v->str, src + start, pos - start);
    v->str[pos - start] = '\0';
    v->num = strtod(v->str, NULL);
}

static void
parse_items(jval *v, int depth, bool obj)
{
    char close = obj ? '}' : ']';
    size_t cap = 0;
    pos++;
    ws();
    if (pos < len && src[pos] == close) {
        pos++;
        return;
    }
    for (;;) {
        if (v->n == cap) {
            cap = cap ? cap * 2 : 4;
            v->items = xrealloc(v->items, cap * sizeof(jval));
            if (obj) {
                v->keys = xrealloc(v->keys, cap * sizeof(char *));
            }
        }
        ws();
        if (obj) {
            if (pos >= len || src[pos] != '"') {
                die("offset %zu: expected a key", pos);
            }
            v->keys[v->n] = parse_string();
            ws();
            if (pos >= len || src[pos++] != ':') {
                die("offset %zu: expected ':'", pos - 1);
            }
        }
        parse_value(&v->items[v->n++], depth + 1);
        ws();
        if (pos < len && src[pos] == ',') {
            pos++;
            continue;
        }
        if (pos < len && src[pos] == close) {
            pos++;
            return;
        }
        die("offset %zu: expected ',' or '%c'", pos, close);
    }
}

static void
parse_value(jval *v, int depth)
{
    memset(v, 0, sizeof(*v));
    if (depth > 256) {
        die("nesting too deep");
    }
    ws();
    if (pos >= len) {
        die("unexpected end of input");
    }
    char c = src[pos];
    if (c == '{' || c == '[') {
        v->kind = c == '{' ? J_OBJ : J_ARR;
        parse_items(v, depth, c == '{');
    } else if (c == '"') {
        v->kind = J_STR;
        v->str = parse_string();
    } else if (c == '-' || isdigit((unsigned char)c)) {
        parse_number(v);
    } else if (len - pos >= 4 && memcmp(src + pos, "true", 4) == 0) {
        v->kind = J_BOOL, v->b = true, pos += 4;
    } else if (len - pos >= 5 && memcmp(src + pos, "false", 5) == 0) {
        v->kind = J_BOOL, pos += 5;
    } else if (len - pos >= 4 && memcmp(src + pos, "null", 4) == 0) {
        v->kind = J_NULL, pos += 4;
    } else {
        die("offset %zu: unexpected '%c'", pos, c);
    }
}

/* What was parsed stays reachable until exit (the checker frees
 * nothing: it runs once). */
static jval *kept[4096];
static char *kept_text[4096];
static size_t n_kept;

static jval *
parse_file(const char *path)
{
    file = path;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        die("cannot open");
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = xrealloc(NULL, (size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        die("cannot read");
    }
    fclose(f);
    src = buf, len = (size_t)n, pos = 0;
    jval *v = xrealloc(NULL, sizeof(*v));
    if (n_kept < sizeof(kept) / sizeof(kept[0])) {
        kept_text[n_kept] = buf;
        kept[n_kept++] = v;
    }
    parse_value(v, 0);
    ws();
    if (pos != len) {
        die("offset %zu: data after the value", pos);
    }
    return v;
}

static const jval *
get(const jval *o, const char *key)
{
    if (o == NULL || o->kind != J_OBJ) {
        return NULL;
    }
    for (size_t i = 0; i < o->n; i++) {
        if (strcmp(o->keys[i], key) == 0) {
            return &o->items[i];
        }
    }
    return NULL;
}

static const jval *
need(const jval *o, const char *key, jkind kind, size_t at)
{
    const jval *v = get(o, key);
    if (v == NULL || v->kind != kind) {
        die("event %zu: \"%s\" missing or of the wrong type", at, key);
    }
    return v;
}

/* ---- Chrome trace JSON -------------------------------------------------- */

typedef struct slice {
    uint64_t track;     /* pid << 32 | tid */
    int64_t start, end; /* ns */
} slice;

typedef struct point {
    uint64_t track, id;
    int64_t ts;
    char ph;
    char key[96]; /* cat + name */
} point;

static int64_t
ns_of(const jval *v)
{
    /* Microseconds with up to three decimals, exactly. */
    const char *s = v->str;
    int64_t whole = 0, frac = 0;
    int digits = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        whole = whole * 10 + (*s - '0');
    }
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9' && digits < 3; s++, digits++) {
            frac = frac * 10 + (*s - '0');
        }
    }
    for (; digits < 3; digits++) {
        frac *= 10;
    }
    return whole * 1000 + frac;
}

static int
by_track_start(const void *x, const void *y)
{
    const slice *a = x, *b = y;
    if (a->track != b->track) {
        return a->track < b->track ? -1 : 1;
    }
    if (a->start != b->start) {
        return a->start < b->start ? -1 : 1;
    }
    return a->end > b->end ? -1 : a->end < b->end; /* outer first */
}

static int
by_key(const void *x, const void *y)
{
    const point *a = x, *b = y;
    if (a->id != b->id) {
        return a->id < b->id ? -1 : 1;
    }
    int c = strcmp(a->key, b->key);
    return c != 0 ? c : a->ph - b->ph;
}

static slice *slices;
static size_t n_slices, cap_slices;
static point *points;
static size_t n_points, cap_points;

static void
take_event(const jval *e, size_t at)
{
    const char *ph = need(e, "ph", J_STR, at)->str;
    if (ph[0] == 'M') {
        need(e, "name", J_STR, at);
        need(need(e, "args", J_OBJ, at), "name", J_STR, at);
        return;
    }
    need(e, "name", J_STR, at);
    need(e, "pid", J_NUM, at);
    const jval *ts = need(e, "ts", J_NUM, at);
    if (ph[0] == 'C' || ph[0] == 'i') {
        need(e, "args", J_OBJ, at);
        return;
    }
    uint64_t track = (uint64_t)need(e, "pid", J_NUM, at)->num << 32 |
                     (uint64_t)need(e, "tid", J_NUM, at)->num;
    if (ph[0] == 'X') {
        if (n_slices == cap_slices) {
            cap_slices = cap_slices ? cap_slices * 2 : 1024;
            slices = xrealloc(slices, cap_slices * sizeof(*slices));
        }
        int64_t s = ns_of(ts);
        slices[n_slices++] =
            (slice){track, s, s + ns_of(need(e, "dur", J_NUM, at))};
        return;
    }
    if (ph[0] != 's' && ph[0] != 'f') {
        die("event %zu: unexpected ph \"%s\"", at, ph);
    }
    if (ph[0] == 'f') {
        const jval *bp = need(e, "bp", J_STR, at);
        if (strcmp(bp->str, "e") != 0) {
            die("event %zu: an f without \"bp\":\"e\"", at);
        }
    }
    if (n_points == cap_points) {
        cap_points = cap_points ? cap_points * 2 : 1024;
        points = xrealloc(points, cap_points * sizeof(*points));
    }
    point *p = &points[n_points++];
    p->track = track;
    p->id = (uint64_t)need(e, "id", J_NUM, at)->num;
    p->ts = ns_of(ts);
    p->ph = ph[0];
    snprintf(p->key, sizeof(p->key), "%s/%s", need(e, "cat", J_STR, at)->str,
             need(e, "name", J_STR, at)->str);
}

/* inside tells whether a slice of track holds ts strictly inside. */
static bool
inside(uint64_t track, int64_t ts)
{
    size_t lo = 0, hi = n_slices;
    while (lo < hi) { /* the first slice after (track, ts) */
        size_t mid = (lo + hi) / 2;
        const slice *s = &slices[mid];
        if (s->track < track || (s->track == track && s->start < ts)) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    for (size_t i = lo, k = 0; i-- > 0 && k < 256; k++) {
        if (slices[i].track != track) {
            break;
        }
        if (slices[i].start < ts && ts < slices[i].end) {
            return true;
        }
    }
    return false;
}

static int
check_perfetto(int n, char **paths)
{
    size_t events = 0;
    for (int f = 0; f < n; f++) {
        jval *root = parse_file(paths[f]);
        const jval *evs = need(root, "traceEvents", J_ARR, 0);
        need(root, "displayTimeUnit", J_STR, 0);
        for (size_t i = 0; i < evs->n; i++) {
            take_event(&evs->items[i], events + i);
        }
        events += evs->n;
    }
    qsort(slices, n_slices, sizeof(*slices), by_track_start);
    /* Nesting: a slice ends inside the one enclosing it. */
    size_t *stack = xrealloc(NULL, (n_slices + 1) * sizeof(size_t));
    size_t sp = 0;
    for (size_t i = 0; i < n_slices; i++) {
        const slice *s = &slices[i];
        while (sp > 0 && (slices[stack[sp - 1]].track != s->track ||
                          slices[stack[sp - 1]].end <= s->start)) {
            sp--;
        }
        if (sp > 0 && s->end > slices[stack[sp - 1]].end) {
            die("slices overlap on track %llu: [%lld, %lld] and [%lld, %lld]",
                (unsigned long long)s->track,
                (long long)slices[stack[sp - 1]].start,
                (long long)slices[stack[sp - 1]].end, (long long)s->start,
                (long long)s->end);
        }
        stack[sp++] = i;
    }
    free(stack);
    qsort(points, n_points, sizeof(*points), by_key);
    size_t arrows = 0;
    for (size_t i = 0; i < n_points; i++) {
        const point *p = &points[i];
        if (!inside(p->track, p->ts)) {
            die("flow point %c of id %llu at %lld ns is not inside a slice "
                "of its track",
                p->ph, (unsigned long long)p->id, (long long)p->ts);
        }
        bool pair = i + 1 < n_points && points[i + 1].id == p->id &&
                    strcmp(points[i + 1].key, p->key) == 0;
        if (!pair || p->ph != 'f' || points[i + 1].ph != 's') {
            die("flow id %llu (%s): %s", (unsigned long long)p->id, p->key,
                pair ? "not one s and one f"
                     : "an s without its f, or an f "
                       "without its s");
        }
        if (i + 2 < n_points && points[i + 2].id == p->id &&
            strcmp(points[i + 2].key, p->key) == 0) {
            die("flow id %llu is used by more than one arrow",
                (unsigned long long)p->id);
        }
        i++;
        arrows++;
    }
    printf("perfetto: %zu events, %zu slices nested, %zu arrows matched\n",
           events, n_slices, arrows);
    return 0;
}

/* ---- OTLP JSON ---------------------------------------------------------- */

static bool
hex_of(const char *s, size_t n)
{
    if (strlen(s) != n) {
        return false;
    }
    bool nonzero = false;
    for (size_t i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) {
            return false;
        }
        nonzero |= s[i] != '0';
    }
    return nonzero;
}

static uint64_t
decimal(const jval *v, size_t at)
{
    char *end;
    if (v->str[0] == '\0' || v->str[0] == '-') {
        die("span %zu: a time that is not a decimal string", at);
    }
    unsigned long long x = strtoull(v->str, &end, 10);
    if (*end != '\0') {
        die("span %zu: a time that is not a decimal string", at);
    }
    return x;
}

static int
by_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static int
check_otlp(const char *path)
{
    jval *root = parse_file(path);
    const jval *rs = need(root, "resourceSpans", J_ARR, 0);
    if (rs->n != 1) {
        die("one resourceSpans expected");
    }
    need(need(&rs->items[0], "resource", J_OBJ, 0), "attributes", J_ARR, 0);
    const jval *ss = need(&rs->items[0], "scopeSpans", J_ARR, 0);
    const jval *spans = need(&ss->items[0], "spans", J_ARR, 0);
    size_t parents = 0, errors = 0;
    static char **ids;
    ids = xrealloc(NULL, (spans->n + 1) * sizeof(*ids));
    for (size_t i = 0; i < spans->n; i++) {
        const jval *s = &spans->items[i];
        ids[i] = xrealloc(NULL, 64);
        snprintf(ids[i], 64, "%s%s", need(s, "traceId", J_STR, i)->str,
                 need(s, "spanId", J_STR, i)->str);
    }
    qsort(ids, spans->n, sizeof(*ids), by_str);
    for (size_t i = 0; i < spans->n; i++) {
        const jval *s = &spans->items[i];
        if (!hex_of(need(s, "traceId", J_STR, i)->str, 32) ||
            !hex_of(need(s, "spanId", J_STR, i)->str, 16)) {
            die("span %zu: bad traceId or spanId", i);
        }
        if (need(s, "kind", J_NUM, i)->num != 5.0) {
            die("span %zu: kind is not CONSUMER (5)", i);
        }
        need(s, "name", J_STR, i);
        uint64_t a = decimal(need(s, "startTimeUnixNano", J_STR, i), i);
        uint64_t b = decimal(need(s, "endTimeUnixNano", J_STR, i), i);
        if (a > b) {
            die("span %zu ends before it starts", i);
        }
        const jval *attrs = need(s, "attributes", J_ARR, i);
        bool sys = false, op = false, dest = false, id = false;
        for (size_t k = 0; k < attrs->n; k++) {
            const char *key = need(&attrs->items[k], "key", J_STR, i)->str;
            const jval *val = need(&attrs->items[k], "value", J_OBJ, i);
            const jval *str = get(val, "stringValue");
            sys |= strcmp(key, "messaging.system") == 0 && str != NULL &&
                   strcmp(str->str, "acto") == 0;
            op |= strcmp(key, "messaging.operation.name") == 0 && str != NULL &&
                  strcmp(str->str, "process") == 0;
            dest |= strcmp(key, "messaging.destination.name") == 0;
            id |= strcmp(key, "messaging.message.id") == 0;
            errors += strcmp(key, "error.type") == 0;
        }
        if (!sys || !op || !dest || !id) {
            die("span %zu: a messaging attribute is missing", i);
        }
        need(s, "status", J_OBJ, i);
        const jval *p = get(s, "parentSpanId");
        if (p != NULL) {
            char key[64];
            snprintf(key, sizeof(key), "%s%s",
                     need(s, "traceId", J_STR, i)->str, p->str);
            if (bsearch(&(const char *){key}, ids, spans->n, sizeof(*ids),
                        by_str) == NULL) {
                die("span %zu: parent %s is not a span of its trace", i,
                    p->str);
            }
            parents++;
        }
    }
    printf("otlp: %zu spans, %zu with parents (all found), %zu with "
           "error.type\n",
           spans->n, parents, errors);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: trace_json_check json|perfetto|otlp FILE...\n");
        return 2;
    }
    if (strcmp(argv[1], "json") == 0) {
        for (int i = 2; i < argc; i++) {
            parse_file(argv[i]);
        }
        printf("json: %d file(s) valid\n", argc - 2);
        return 0;
    }
    if (strcmp(argv[1], "perfetto") == 0) {
        return check_perfetto(argc - 2, argv + 2);
    }
    if (strcmp(argv[1], "otlp") == 0) {
        return check_otlp(argv[2]);
    }
    fprintf(stderr, "trace_json_check: unknown mode %s\n", argv[1]);
    return 2;
}
