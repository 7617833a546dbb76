/* ACTO_TRACE=path: the sink factory the runtime uses to trace a program
 * without code changes, registered by a library constructor. The
 * protocols target links with -u acto_tracefile_env_factory, so this
 * object (and its constructor) is part of every program linking it. */
#include <acto/alloc.h>
#include <acto/error.h>
#include <acto/tracefile.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Weak, so a runtime built without tracing still links; with tracing,
 * any program that makes a system links the runtime's trace functions
 * and the call below registers the factory. */
#pragma weak acto_trace_set_env_factory

/* How many times each path was opened here (by a hash of the path), so
 * the second system writing "t.acto" writes "t.acto.1". */
#define PATHS 64
typedef struct path_use {
    uint64_t hash;
    unsigned uses;
} path_use;
static path_use paths[PATHS];
static unsigned npaths;
static pthread_mutex_t paths_lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned
count_use(const char *path)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const char *s = path; *s != '\0'; s++) {
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    }
    pthread_mutex_lock(&paths_lock);
    unsigned i = 0;
    while (i < npaths && paths[i].hash != h) {
        i++;
    }
    if (i == npaths && npaths < PATHS) {
        paths[npaths++] = (path_use){.hash = h};
    }
    unsigned n = i < PATHS ? paths[i].uses++ : 0;
    pthread_mutex_unlock(&paths_lock);
    return n;
}

/* Writes path with "%p" expanded (and ".n" appended when n > 0) into a
 * new buffer of *size bytes. */
static char *
expand(const char *path, unsigned n, size_t *size)
{
    char pid[24], suffix[16] = "";
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    if (n > 0) {
        snprintf(suffix, sizeof(suffix), ".%u", n);
    }
    size_t len = strlen(path), npids = 0;
    for (const char *s = path; (s = strstr(s, "%p")) != NULL; s += 2) {
        npids++;
    }
    *size = len + npids * strlen(pid) + strlen(suffix) + 1;
    char *out = acto_malloc(*size);
    if (out == NULL) {
        return NULL;
    }
    char *w = out;
    for (const char *s = path; *s != '\0'; s++) {
        if (s[0] == '%' && s[1] == 'p') {
            w += sprintf(w, "%s", pid);
            s++;
        } else {
            *w++ = *s;
        }
    }
    strcpy(w, suffix);
    return out;
}

int
acto_tracefile_env_factory(const char *path, acto_trace_sink *out)
{
    if (path == NULL || path[0] == '\0' || out == NULL) {
        return ACTO_EINVAL;
    }
    size_t size, size1 = 0;
    char *plain = expand(path, 0, &size);
    if (plain == NULL) {
        return ACTO_ENOMEM;
    }
    unsigned n = count_use(plain);
    char *full = n == 0 ? plain : expand(path, n, &size1);
    int rc = full != NULL ? acto_tracefile_open(full, NULL, out) : ACTO_ENOMEM;
    if (full != plain) {
        acto_free(full, size1);
    }
    acto_free(plain, size);
    return rc;
}

__attribute__((constructor)) static void
register_factory(void)
{
    if (acto_trace_set_env_factory != NULL) {
        acto_trace_set_env_factory(acto_tracefile_env_factory);
    }
}
