/* Messages: the system's pool, constructors, readers, and errors. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

acto_msg *
acto__msg_alloc_slow(acto_system *sys)
{
    acto_msg *m = acto__malloc(sizeof(acto_msg));
    if (m != NULL) {
        m->sys = sys;
    }
    return m;
}

void
acto__msg_free_payload(acto_msg *m)
{
    if (m->kind == ACTO_PAYLOAD_PTR) {
        if (m->u.ptr.free_fn != NULL) {
            m->u.ptr.free_fn(m->u.ptr.ptr, m->u.ptr.user);
        }
    } else if (m->flags & MSG_HEAP_DATA) {
        acto__free(m->u.data, m->len);
    } else if (m->type == ACTO_MSG_CHILD_FAILED) {
        acto__error_unref(m->u.error);
    } else if (m->type == ACTO_MSG_DOWN && m->u.down.reason.error != NULL) {
        acto__error_unref(
            acto__container_of(m->u.down.reason.error, acto__error_box, e));
    }
}

void
acto__msg_unpool(acto_msg *m)
{
    /* A handler that took its message and freed it must not leave the
     * system pointing at freed memory (acto_sender, a send's cause). */
    if (m->sys != NULL && m->sys->current_msg == m) {
        m->sys->current_msg = NULL;
    }
    acto__free(m, sizeof(*m));
}

void
acto__pool_fini(acto_system *sys)
{
    while (sys->pool != NULL) {
        acto_msg *m = sys->pool;
        sys->pool = m->next;
        acto__free(m, sizeof(*m));
    }
    sys->pool_size = 0;
}

/* set_bytes copies len bytes into m, inline when they fit. */
static int
set_bytes(acto_msg *m, const void *data, size_t len)
{
    if (len > UINT32_MAX) {
        return ACTO_EINVAL;
    }
    if (len > ACTO_MSG_INLINE) {
        void *copy = acto__malloc(len);
        if (copy == NULL) {
            return ACTO_ENOMEM;
        }
        memcpy(copy, data, len);
        m->u.data = copy;
        m->flags |= MSG_HEAP_DATA;
    } else {
        acto__copy_small(m->u.bytes, data, len);
        m->flags |= MSG_INLINE;
    }
    m->len = (uint32_t)len;
    return 0;
}

static int
new_copy(acto_system *sys, uint32_t type, acto_payload_kind kind,
         const void *data, size_t len, acto_msg **out)
{
    if (sys == NULL || out == NULL || (data == NULL && len > 0) ||
        type >= ACTO_MSG_SYSTEM_BASE) {
        return ACTO_EINVAL;
    }
    acto_msg *m = acto__msg_alloc(sys);
    if (m == NULL) {
        return ACTO_ENOMEM;
    }
    m->type = type;
    m->kind = kind;
    int rc = set_bytes(m, data, len);
    if (rc != 0) {
        acto__msg_release(m);
        return rc;
    }
    *out = m;
    return 0;
}

int
acto_msg_new_bytes(acto_system *sys, uint32_t type, const void *data,
                   size_t len, acto_msg **out)
{
    /* The common case, a few bytes from the pool, without new_copy's
     * general path: requests and replies are built this way. */
    if (likely(sys != NULL && out != NULL && data != NULL &&
               len <= ACTO_MSG_INLINE && type < ACTO_MSG_SYSTEM_BASE &&
               sys->pool != NULL)) {
        acto_msg *m = acto__msg_alloc(sys);
        acto__msg_fill_inline(m, type, data, len);
        *out = m;
        return 0;
    }
    return new_copy(sys, type, ACTO_PAYLOAD_BYTES, data, len, out);
}

int
acto_msg_new_msgpack(acto_system *sys, uint32_t type, const void *data,
                     size_t len, acto_msg **out)
{
    return new_copy(sys, type, ACTO_PAYLOAD_MSGPACK, data, len, out);
}

int
acto_msg_new_ptr(acto_system *sys, uint32_t type, void *ptr,
                 acto_free_fn free_fn, void *user, acto_msg **out)
{
    if (sys == NULL || out == NULL || type >= ACTO_MSG_SYSTEM_BASE) {
        return ACTO_EINVAL;
    }
    acto_msg *m = acto__msg_alloc(sys);
    if (m == NULL) {
        return ACTO_ENOMEM;
    }
    m->type = type;
    m->kind = ACTO_PAYLOAD_PTR;
    m->flags |= MSG_OWNS;
    m->u.ptr.ptr = ptr;
    m->u.ptr.free_fn = free_fn;
    m->u.ptr.user = user;
    *out = m;
    return 0;
}

int
acto__msg_clone(const acto_msg *m, acto_msg **out)
{
    if (m->kind != ACTO_PAYLOAD_BYTES && m->kind != ACTO_PAYLOAD_MSGPACK) {
        return ACTO_EINVAL;
    }
    size_t len;
    const void *data = acto_msg_data(m, &len);
    int rc =
        new_copy(m->sys, m->type, (acto_payload_kind)m->kind, data, len, out);
    if (rc == 0) {
        (*out)->correlation = m->correlation;
    }
    return rc;
}

void
acto_msg_free(acto_msg *m)
{
    if (m != NULL) {
        acto__msg_release(m);
    }
}

void
acto_msg_set_correlation(acto_msg *m, uint64_t id)
{
    m->correlation = id;
}

uint32_t
acto_msg_type(const acto_msg *m)
{
    return m->type;
}

acto_payload_kind
acto_msg_kind(const acto_msg *m)
{
    return (acto_payload_kind)m->kind;
}

const void *
acto_msg_data(const acto_msg *m, size_t *len)
{
    if (likely(m->flags & MSG_INLINE)) { /* bytes or msgpack, inline */
        if (len != NULL) {
            *len = m->len;
        }
        return m->u.bytes;
    }
    if (m->kind != ACTO_PAYLOAD_BYTES && m->kind != ACTO_PAYLOAD_MSGPACK) {
        if (len != NULL) {
            *len = 0;
        }
        return NULL;
    }
    if (len != NULL) {
        *len = m->len;
    }
    return (m->flags & MSG_HEAP_DATA) ? m->u.data : m->u.bytes;
}

void *
acto_msg_data_mut(acto_msg *m, size_t *len)
{
    return (void *)acto_msg_data(m, len);
}

void
acto_msg_set_type(acto_msg *m, uint32_t type)
{
    if (m != NULL && type < ACTO_MSG_SYSTEM_BASE) {
        m->type = type;
    }
}

void *
acto_msg_ptr(const acto_msg *m)
{
    return m->kind == ACTO_PAYLOAD_PTR ? m->u.ptr.ptr : NULL;
}

acto_ref
acto_msg_sender(const acto_msg *m)
{
    return m->sender;
}

uint64_t
acto_msg_correlation(const acto_msg *m)
{
    return m->correlation;
}

uint64_t
acto_msg_id(const acto_msg *m)
{
    return m->id;
}

uint64_t
acto_msg_cause(const acto_msg *m)
{
    return m->cause;
}

const acto_error *
acto_msg_error(const acto_msg *m)
{
    return m->type == ACTO_MSG_CHILD_FAILED ? &m->u.error->e : NULL;
}

const acto_down *
acto_msg_down(const acto_msg *m)
{
    return m->type == ACTO_MSG_DOWN ? &m->u.down : NULL;
}

/* ---- errors ----------------------------------------------------------- */

acto__error_box *
acto__error_new(int code, const char *type, const char *text, acto_ref origin)
{
    size_t tlen = strlen(type) + 1;
    size_t xlen = strlen(text) + 1;
    size_t size = sizeof(acto__error_box) + tlen + xlen;
    acto__error_box *b = acto__malloc(size);
    if (b == NULL) {
        return NULL;
    }
    char *strings = (char *)(b + 1);
    memcpy(strings, type, tlen);
    memcpy(strings + tlen, text, xlen);
    b->size = size;
    b->refs = 1;
    b->msg = NULL;
    b->e = (acto_error){code, strings, strings + tlen, origin, NULL};
    return b;
}

void
acto__error_ref(acto__error_box *b)
{
    b->refs++;
}

void
acto__error_unref(acto__error_box *b)
{
    if (b == NULL || --b->refs > 0) {
        return;
    }
    if (b->msg != NULL) {
        acto__msg_release(b->msg);
    }
    acto__free(b, b->size);
}
