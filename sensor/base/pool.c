/* pool.c - fixed-size object pool (see pool.h). */
#include "pool.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Slabs of a huge page or more are aligned to one and offered to the
 * kernel as huge-page memory: one page fault per 2 MiB instead of 512. */
#define POOL_HUGE_PAGE (2u * 1024u * 1024u)

/* Objects of p's size in a slab of about slab_bytes (at least one). */
static size_t pool_objects_in(const struct pool *p, size_t slab_bytes)
{
    size_t room = slab_bytes > POOL_SLAB_HEADER ? slab_bytes - POOL_SLAB_HEADER : 0;
    return room / p->obj_size ? room / p->obj_size : 1;
}

void pool_init_growing(struct pool *p, size_t obj_size, size_t first_bytes,
                       size_t max_bytes)
{
    memset(p, 0, sizeof(*p));
    if (obj_size < sizeof(void *))
        obj_size = sizeof(void *);
    p->obj_size = (obj_size + POOL_ALIGN - 1) / POOL_ALIGN * POOL_ALIGN;
    p->per_slab_max = pool_objects_in(p, max_bytes);
    p->per_slab = pool_objects_in(p, first_bytes < max_bytes ? first_bytes : max_bytes);
}

void pool_init(struct pool *p, size_t obj_size, size_t slab_bytes)
{
    pool_init_growing(p, obj_size, slab_bytes, slab_bytes);
}

/* Adds one slab; its objects become the fresh ones. -1 when out of memory. */
static int pool_grow(struct pool *p)
{
    size_t bytes = POOL_SLAB_HEADER + p->per_slab * p->obj_size;
    char *slab;
    if (bytes >= POOL_HUGE_PAGE) {
        bytes = (bytes + POOL_HUGE_PAGE - 1) / POOL_HUGE_PAGE * POOL_HUGE_PAGE;
        slab = aligned_alloc(POOL_HUGE_PAGE, bytes);
#ifdef MADV_HUGEPAGE
        if (slab)
            (void)madvise(slab, bytes, MADV_HUGEPAGE);   /* a hint: may fail */
#endif
    } else {
        slab = malloc(bytes);
    }
    if (!slab)
        return -1;
    memcpy(slab, &p->slabs, sizeof(void *));
    p->slabs = slab;
    p->fresh = slab + POOL_SLAB_HEADER;
    p->fresh_left = p->per_slab;
    p->capacity += p->per_slab;
    /* The next slab doubles this one (up to the largest): fixed-size pools
     * have per_slab == per_slab_max already. Doubling the whole slab, header
     * included, keeps a slab of twice 1 MiB exactly one huge page. */
    if (p->per_slab < p->per_slab_max)
        p->per_slab = pool_objects_in(p, 2 * (POOL_SLAB_HEADER + p->per_slab * p->obj_size));
    if (p->per_slab > p->per_slab_max)
        p->per_slab = p->per_slab_max;
    return 0;
}

void *pool_alloc(struct pool *p)
{
    void *obj;
    if (p->free_list) {
        obj = p->free_list;
        memcpy(&p->free_list, obj, sizeof(void *));
    } else {
        if (!p->fresh_left && pool_grow(p) != 0)
            return NULL;
        obj = p->fresh;
        p->fresh += p->obj_size;
        p->fresh_left--;
    }
    p->in_use++;
    assert(p->in_use <= p->capacity);
    memset(obj, 0, p->obj_size);
    return obj;
}

void pool_free(struct pool *p, void *obj)
{
    if (!obj)
        return;
    assert(p->in_use > 0);
    p->in_use--;
    memcpy(obj, &p->free_list, sizeof(void *));
    p->free_list = obj;
}

void pool_destroy(struct pool *p)
{
    void *slab = p->slabs;
    while (slab) {
        void *next;
        memcpy(&next, slab, sizeof(void *));
        free(slab);
        slab = next;
    }
    size_t obj_size = p->obj_size, per_slab_max = p->per_slab_max;
    memset(p, 0, sizeof(*p));
    p->obj_size = obj_size;
    p->per_slab = per_slab_max;
    p->per_slab_max = per_slab_max;
}
