/* acto-demo: the parser workers. Each parses a combined-format log line
 * into a demo_rec and passes it on; a malformed line makes the worker's
 * handler fail (acto_stage_fail, "ParseError"). The stage's RESTART
 * policy then quarantines that line and restarts the worker's state (its
 * fini, then its init), keeping its mailbox: the lines waiting behind
 * the bad one are parsed by the fresh worker, none is lost. */
#include "demo.h"

#include <stdlib.h>
#include <string.h>

typedef struct cursor {
    const char *p, *end;
} cursor;

static bool
eat(cursor *c, char ch)
{
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

/* number reads up to max_digits digits into *v. */
static bool
number(cursor *c, unsigned max_digits, uint64_t *v)
{
    unsigned n = 0;
    *v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9' && n < max_digits) {
        *v = *v * 10 + (uint64_t)(*c->p++ - '0');
        n++;
    }
    return n > 0;
}

/* until moves c to the next ch (not past end). */
static bool
until(cursor *c, char ch)
{
    const char *q = memchr(c->p, ch, (size_t)(c->end - c->p));
    if (q == NULL) {
        return false;
    }
    c->p = q;
    return true;
}

static const char *
client(cursor *c, uint32_t *net)
{
    uint64_t part[4];
    for (int i = 0; i < 4; i++) {
        if ((i > 0 && !eat(c, '.')) || !number(c, 3, &part[i]) ||
            part[i] > 255) {
            return "no client address";
        }
    }
    *net = (uint32_t)(part[0] << 16 | part[1] << 8 | part[2]);
    /* ident and user, then the time in brackets */
    if (!eat(c, ' ') || !until(c, ' ') || !eat(c, ' ') || !until(c, ' ') ||
        !eat(c, ' ') || !eat(c, '[') || !until(c, ']') || !eat(c, ']') ||
        !eat(c, ' ')) {
        return "no [time]";
    }
    return NULL;
}

static const char *
request(cursor *c, demo_rec *r)
{
    if (!eat(c, '"') || !until(c, ' ') || !eat(c, ' ')) {
        return "no \"METHOD PATH PROTOCOL\"";
    }
    const char *path = c->p;
    if (!until(c, ' ') || c->p == path || *path != '/') {
        return "no path";
    }
    size_t len = (size_t)(c->p - path);
    if (len >= DEMO_PATH_MAX) { /* kept, cut: "/very/long/pa..." */
        memcpy(r->path, path, DEMO_PATH_MAX - 4);
        memcpy(r->path + DEMO_PATH_MAX - 4, "...", 3);
        len = DEMO_PATH_MAX - 1;
    } else {
        memcpy(r->path, path, len);
    }
    r->path[len] = '\0';
    r->path_len = (uint8_t)len;
    if (!until(c, '"') || !eat(c, '"') || !eat(c, ' ')) {
        return "request not closed";
    }
    return NULL;
}

static const char *
outcome(cursor *c, demo_rec *r)
{
    uint64_t v;
    if (!number(c, 3, &v) || v < 100 || v > 599 || !eat(c, ' ')) {
        return "no status code";
    }
    r->status = (uint16_t)v;
    if (eat(c, '-')) {
        r->bytes = 0;
    } else if (!number(c, 19, &r->bytes)) {
        return "no size";
    }
    /* "referer" "user agent", the agent's quote closing the line */
    if (!eat(c, ' ') || !eat(c, '"') || !until(c, '"') || !eat(c, '"') ||
        !eat(c, ' ') || !eat(c, '"') || c->p >= c->end || c->end[-1] != '"') {
        return "no \"referer\" \"user agent\"";
    }
    return NULL;
}

const char *
demo_parse_line(const char *s, size_t n, demo_rec *r)
{
    cursor c = {s, s + n};
    memset(r, 0, sizeof(*r));
    const char *why = client(&c, &r->net);
    if (why == NULL) {
        why = request(&c, r);
    }
    return why != NULL ? why : outcome(&c, r);
}

/* ---- the stage -------------------------------------------------------- */

/* A worker's state: what it parsed since it (re)started. */
typedef struct parser {
    uint64_t parsed;
} parser;

int
demo_parse_init(void *arg, void **state)
{
    (void)arg;
    parser *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return ACTO_ENOMEM;
    }
    *state = p;
    return 0;
}

void
demo_parse_fini(void *state)
{
    free(state);
}

int
demo_parse(acto_emitter *out, void *state, acto_msg *item)
{
    parser *p = state;
    size_t n;
    const char *line = acto_msg_data(item, &n);
    demo_rec r;
    const char *why = line != NULL ? demo_parse_line(line, n, &r) : "empty";
    if (why != NULL) {
        return acto_stage_fail(out, ACTO_EINVAL, "ParseError",
                               "malformed log line (%s)", why);
    }
    p->parsed++;
    size_t len = offsetof(demo_rec, path) + r.path_len + 1;
    return acto_emit_bytes(out, T_RECORD, &r, len);
}
