/* Types that public structs embed by value so callers can allocate them.
 * They are not part of the API: never read or write their fields.
 */
#ifndef ACTO_DETAIL_H
#define ACTO_DETAIL_H

/* An intrusive doubly linked list node (see runtime/list.h). */
typedef struct acto__link {
    struct acto__link *next;
    struct acto__link *prev;
} acto__link;

#endif /* ACTO_DETAIL_H */
