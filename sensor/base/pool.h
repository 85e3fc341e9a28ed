/* pool.h - a pool of fixed-size objects, carved from slabs, with a free list.
 *
 * For things made and unmade once per flow (flow heads, flow extensions):
 * after warm-up, taking and giving back an object is a few pointer moves,
 * with no call into malloc. Slabs are allocated as the pool grows and are
 * only returned by pool_destroy; a freed object goes on the free list and
 * is the next one handed out. Objects in a fresh slab are handed out in
 * address order and untouched until then, so memory the pool never used
 * costs no resident pages. Slabs of 2 MiB or more are aligned to a huge
 * page and advised as such (madvise), to take one page fault per slab.
 * A pool made with pool_init_growing starts with small slabs and doubles
 * each next one up to its largest size, so that a pool holding few objects
 * does not pin a whole huge page (a few thousand flows cost a few hundred
 * KiB, not 2 MiB per worker).
 *
 * Invariants (asserted): in_use counts objects handed out and not yet given
 * back; in_use <= capacity (objects in all slabs together).
 *
 * Part of the floor (sensor/base/): includes libc (and sys/mman.h) only. */
#ifndef SW_BASE_POOL_H
#define SW_BASE_POOL_H

#include <stddef.h>

struct pool {
    size_t obj_size;      /* requested size rounded up to POOL_ALIGN */
    size_t per_slab;      /* objects in the next slab */
    size_t per_slab_max;  /* objects in the largest slab (growing pools) */
    void *free_list;      /* given-back objects, linked through their first word */
    void *slabs;          /* every slab, linked through its first word */
    char *fresh;          /* next never-used object of the newest slab */
    size_t fresh_left;    /* never-used objects left there */
    size_t in_use;        /* objects handed out */
    size_t capacity;      /* objects in all slabs */
};

#define POOL_ALIGN 16u
/* What a slab spends before its first object (the slab list link). */
#define POOL_SLAB_HEADER POOL_ALIGN

/* An empty pool of objects of obj_size bytes, slabs of about slab_bytes
 * (at least one object each). Allocates nothing yet. */
void pool_init(struct pool *p, size_t obj_size, size_t slab_bytes);
/* The same, but the first slab is about first_bytes and each next one
 * twice the last, up to max_bytes. */
void pool_init_growing(struct pool *p, size_t obj_size, size_t first_bytes,
                       size_t max_bytes);
/* A zeroed object, or NULL when out of memory. */
void *pool_alloc(struct pool *p);
/* Gives an object from pool_alloc back (NULL is ignored). */
void pool_free(struct pool *p, void *obj);
/* Frees every slab: objects still handed out become invalid. */
void pool_destroy(struct pool *p);

#endif
