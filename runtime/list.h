/* Intrusive circular doubly linked lists with a sentinel head.
 *
 * Objects embed an acto__link and are found again with acto__container_of,
 * so linking never allocates. An unlinked node points at itself, which makes
 * removing it twice harmless.
 */
#ifndef ACTO__LIST_H
#define ACTO__LIST_H

#include <acto/detail.h>
#include <stddef.h>

#define acto__container_of(ptr, type, member)                                  \
    ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

static inline void
acto__list_init(acto__link *head)
{
    head->next = head;
    head->prev = head;
}

static inline int
acto__list_empty(const acto__link *head)
{
    return head->next == head;
}

static inline void
acto__list_insert_before(acto__link *pos, acto__link *node)
{
    node->next = pos;
    node->prev = pos->prev;
    pos->prev->next = node;
    pos->prev = node;
}

static inline void
acto__list_push_back(acto__link *head, acto__link *node)
{
    acto__list_insert_before(head, node);
}

static inline void
acto__list_push_front(acto__link *head, acto__link *node)
{
    acto__list_insert_before(head->next, node);
}

static inline void
acto__list_remove(acto__link *node)
{
    node->prev->next = node->next;
    node->next->prev = node->prev;
    acto__list_init(node);
}

/* Returns the first node, or NULL when the list is empty. */
static inline acto__link *
acto__list_first(const acto__link *head)
{
    return head->next == head ? NULL : head->next;
}

/* Moves every node of from to the back of to, leaving from empty. */
static inline void
acto__list_splice(acto__link *to, acto__link *from)
{
    if (acto__list_empty(from)) {
        return;
    }
    from->next->prev = to->prev;
    to->prev->next = from->next;
    from->prev->next = to;
    to->prev = from->prev;
    acto__list_init(from);
}

#endif /* ACTO__LIST_H */
