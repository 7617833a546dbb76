/* Message type names: the names a program gives its message types, so a
 * trace says "Ping" where it would say 0x7.
 *
 * A bounded table sorted by type (binary search for a lookup). Types are
 * named at start-up, a handful per protocol, so a name's uniqueness is
 * checked by a scan. While tracing, each name goes to the trace's sink as
 * it is given, and all of them when tracing starts.
 */
#include "internal.h"

#include <string.h>

/* position is where type is, or would go, in the sorted table. */
static uint32_t
position(const acto_system *sys, uint32_t type, bool *found)
{
    uint32_t lo = 0, hi = sys->n_type_names;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (sys->type_names[mid].type < type) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *found = lo < sys->n_type_names && sys->type_names[lo].type == type;
    return lo;
}

/* name_length is the length of a valid name (printable, 1..255 bytes, no
 * control character: it ends up in JSON, HTML and terminals), else 0. */
static size_t
name_length(const char *name)
{
    size_t n = 0;
    for (; name[n] != '\0'; n++) {
        unsigned char c = (unsigned char)name[n];
        if (c < 0x20 || c == 0x7f || n == ACTO_MSG_TYPE_NAME_MAX) {
            return 0;
        }
    }
    return n;
}

static bool
name_taken(const acto_system *sys, const char *name, size_t len)
{
    for (uint32_t i = 0; i < sys->n_type_names; i++) {
        const acto__type_name *t = &sys->type_names[i];
        if (t->len == len && memcmp(t->name, name, len) == 0) {
            return true;
        }
    }
    return false;
}

/* room makes room for one more name. Returns 0 or ACTO_ENOMEM. */
static int
room(acto_system *sys)
{
    if (sys->n_type_names < sys->cap_type_names) {
        return 0;
    }
    uint32_t cap = sys->cap_type_names != 0 ? sys->cap_type_names * 2 : 16;
    acto__type_name *v = acto__malloc(cap * sizeof(*v));
    if (v == NULL) {
        return ACTO_ENOMEM;
    }
    if (sys->n_type_names > 0) {
        memcpy(v, sys->type_names, sys->n_type_names * sizeof(*v));
    }
    acto__free(sys->type_names, sys->cap_type_names * sizeof(*v));
    sys->type_names = v;
    sys->cap_type_names = cap;
    return 0;
}

int
acto_msg_type_name(acto_system *sys, uint32_t type, const char *name)
{
    size_t len = name != NULL ? name_length(name) : 0;
    if (sys == NULL || len == 0 || type >= ACTO_MSG_SYSTEM_BASE) {
        return ACTO_EINVAL;
    }
    bool found;
    uint32_t at = position(sys, type, &found);
    if (found || name_taken(sys, name, len)) {
        return ACTO_EEXIST;
    }
    if (sys->n_type_names == ACTO_MSG_TYPE_NAMES_MAX || room(sys) != 0) {
        return ACTO_ENOMEM;
    }
    char *copy = acto__malloc(len + 1);
    if (copy == NULL) {
        return ACTO_ENOMEM;
    }
    memcpy(copy, name, len + 1);
    acto__type_name *v = sys->type_names;
    memmove(&v[at + 1], &v[at], (sys->n_type_names - at) * sizeof(*v));
    v[at] = (acto__type_name){type, (uint32_t)len, copy};
    sys->n_type_names++;
    if (sys->trace != NULL) {
        acto__trace_type_named(sys, type, copy);
    }
    return 0;
}

const char *
acto_msg_type_name_of(const acto_system *sys, uint32_t type)
{
    bool found;
    uint32_t at = sys != NULL ? position(sys, type, &found) : 0;
    return sys != NULL && found ? sys->type_names[at].name : NULL;
}

void
acto__type_names_fini(acto_system *sys)
{
    for (uint32_t i = 0; i < sys->n_type_names; i++) {
        acto__free(sys->type_names[i].name, sys->type_names[i].len + 1u);
    }
    acto__free(sys->type_names, sys->cap_type_names * sizeof(*sys->type_names));
    sys->type_names = NULL;
    sys->n_type_names = sys->cap_type_names = 0;
}
