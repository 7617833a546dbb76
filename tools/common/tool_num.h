/* Reading numbers from the command line, shared by the tools. */
#ifndef ACTO_TOOL_NUM_H
#define ACTO_TOOL_NUM_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

/* tool_parse_u64 reads s as an unsigned number from min to max, in base
 * (10, or 0 for C's prefixes: 0x hexadecimal). The whole of s must be the
 * number: no sign, no space, nothing after it.
 * Returns whether it did, setting *out only then. Thread: any. */
static inline bool
tool_parse_u64(const char *s, int base, uint64_t min, uint64_t max,
               uint64_t *out)
{
    if (s == NULL || s[0] < '0' || s[0] > '9') {
        return false;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, base);
    if (*end != '\0' || errno != 0 || v < min || v > max) {
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

#endif /* ACTO_TOOL_NUM_H */
