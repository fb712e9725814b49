/*
 * slab: objects of one size from 64 KiB blocks mapped for them alone, apart from the malloc
 * heap. An object that lives long (a connection's state) then never pins a heap page
 * between short-lived allocations, and a block whose objects are all freed goes back to the
 * system at once (but one, kept against churn until slab_trim). One thread only.
 */
#ifndef NORIKV_SLAB_H
#define NORIKV_SLAB_H

#include <stddef.h>

typedef struct slab_block slab_block;

typedef struct slab_pool {
    size_t size;       /* of one object, rounded up to 16 bytes; 0 until slab_init */
    slab_block *avail; /* blocks with room, the last one freed into first */
    slab_block *spare; /* an empty block kept for the next allocation */
    size_t blocks;     /* blocks mapped, the spare included */
    size_t objects;    /* objects allocated and not freed */
} slab_pool;

/* Objects of size bytes (at most SLAB_MAX_OBJECT). */
#define SLAB_MAX_OBJECT (16 * 1024)
void slab_init(slab_pool *p, size_t size);
/* A zeroed object, 16-byte aligned; never NULL (aborts out of memory, as xmalloc does). */
void *slab_alloc(slab_pool *p);
void slab_free(slab_pool *p, void *obj);
/* Unmaps the spare block: with no object left, the pool then holds no memory. */
void slab_trim(slab_pool *p);

#endif
