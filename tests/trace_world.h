/* A trace sink that keeps every event in memory, and lookups over what it
 * kept. Included by test_trace.c and test_trace_causes.c (static helpers). */
#ifndef ACTO_TRACE_WORLD_H
#define ACTO_TRACE_WORLD_H

/* Not every test file uses every helper. */
#define TRACE_UNUSED __attribute__((unused))

#include "acto_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a sink that keeps everything in memory --------------------------- */

typedef struct memsink {
    acto_trace_event *ev;
    size_t n, cap;
    int writes, closes, names, types;
    uint32_t last_type;
    char last_type_name[256];
    int fail_after; /* fail the write after this many (0: never) */
} memsink;

static TRACE_UNUSED int
mem_write(const acto_trace_event *ev, size_t n, void *user)
{
    memsink *s = user;
    if (s->fail_after > 0 && ++s->writes > s->fail_after) {
        return ACTO_EFAILED;
    }
    if (s->n + n > s->cap) {
        s->cap = (s->n + n) * 2;
        s->ev = realloc(s->ev, s->cap * sizeof(*s->ev));
        assert_non_null(s->ev);
    }
    memcpy(s->ev + s->n, ev, n * sizeof(*ev));
    s->n += n;
    return 0;
}

static TRACE_UNUSED void
mem_close(void *user)
{
    ((memsink *)user)->closes++;
}

static TRACE_UNUSED void
mem_name(acto_ref actor, const char *name, void *user)
{
    (void)actor;
    (void)name;
    ((memsink *)user)->names++;
}

static TRACE_UNUSED void
mem_type(uint32_t type, const char *name, void *user)
{
    memsink *s = user;
    s->types++;
    s->last_type = type;
    snprintf(s->last_type_name, sizeof(s->last_type_name), "%s", name);
}

static TRACE_UNUSED acto_trace_sink
sink_of(memsink *s)
{
    return (acto_trace_sink){.write = mem_write,
                             .close = mem_close,
                             .name = mem_name,
                             .user = s,
                             .type_name = mem_type};
}

static TRACE_UNUSED const acto_trace_event *
find(const memsink *s, uint16_t kind, uint64_t msg)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->ev[i].kind == kind && (msg == 0 || s->ev[i].msg == msg)) {
            return &s->ev[i];
        }
    }
    return NULL;
}

static TRACE_UNUSED size_t
count(const memsink *s, uint16_t kind)
{
    size_t c = 0;
    for (size_t i = 0; i < s->n; i++) {
        c += s->ev[i].kind == kind;
    }
    return c;
}

#endif /* ACTO_TRACE_WORLD_H */
