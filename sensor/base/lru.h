/* lru.h - an intrusive doubly-linked list kept in least-recently-used order.
 *
 * A struct that can be on a list embeds a struct lru_node; the list holds
 * no memory of its own, and lru_entry gets from a node back to its struct
 * (like Linux's container_of). The head is the least recently used entry,
 * the tail the most recently used: append on use, evict from the head, walk
 * oldest first with `for (n = list->head; n; n = n->next)`.
 *
 * Invariants (asserted): a node not on a list has prev == next == NULL
 * (zero it, e.g. with calloc, before its first append); head->prev and
 * tail->next are NULL; for every linked node, its neighbours point back to
 * it, or the list's head/tail does.
 *
 * Part of the floor (sensor/base/): includes libc headers only. */
#ifndef SW_BASE_LRU_H
#define SW_BASE_LRU_H

#include <assert.h>
#include <stddef.h>

struct lru_node {
    struct lru_node *prev;   /* towards the head (less recently used) */
    struct lru_node *next;   /* towards the tail (more recently used) */
};

struct lru_list {
    struct lru_node *head;   /* least recently used, NULL when empty */
    struct lru_node *tail;   /* most recently used, NULL when empty */
};

/* The struct of `type` whose `member` is the node n (n must not be NULL). */
#define lru_entry(n, type, member) \
    ((type *)(void *)((char *)(n) - offsetof(type, member)))

static inline void lru_init(struct lru_list *l)
{
    l->head = l->tail = NULL;
}

static inline int lru_is_empty(const struct lru_list *l)
{
    assert((l->head == NULL) == (l->tail == NULL));
    return l->head == NULL;
}

/* Least recently used node, or NULL when the list is empty. */
static inline struct lru_node *lru_oldest(const struct lru_list *l)
{
    return l->head;
}

/* Most recently used node, or NULL when the list is empty. */
static inline struct lru_node *lru_newest(const struct lru_list *l)
{
    return l->tail;
}

/* Puts an unlinked node at the tail: it becomes the most recently used. */
static inline void lru_append(struct lru_list *l, struct lru_node *n)
{
    assert(n->prev == NULL && n->next == NULL && l->head != n);
    assert(l->tail == NULL || l->tail->next == NULL);
    n->prev = l->tail;
    n->next = NULL;
    if (l->tail)
        l->tail->next = n;
    else
        l->head = n;
    l->tail = n;
}

/* Takes n off list l (it must be on l) and leaves it unlinked. */
static inline void lru_unlink(struct lru_list *l, struct lru_node *n)
{
    assert(n->prev ? n->prev->next == n : l->head == n);
    assert(n->next ? n->next->prev == n : l->tail == n);
    if (n->prev)
        n->prev->next = n->next;
    else
        l->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        l->tail = n->prev;
    n->prev = n->next = NULL;
}

/* Marks n (on list l) as the most recently used. */
static inline void lru_move_to_tail(struct lru_list *l, struct lru_node *n)
{
    if (l->tail == n)
        return;
    lru_unlink(l, n);
    lru_append(l, n);
}

#endif
