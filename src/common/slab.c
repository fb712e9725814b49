/*
 * slab: fixed-size objects from blocks of their own. Blocks are aligned to their size, so
 * the block of an object is its address rounded down; objects are carved from a block as
 * they are first needed (untouched pages cost nothing) and reused through a free list.
 */
#include "slab.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define BLOCK (64 * 1024)

/* Under AddressSanitizer a freed object is poisoned past its free-list link, so that a use
 * after free of a connection's state is reported as it would be with malloc. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

struct slab_block {
    slab_block *prev, *next; /* in the pool's avail list, while in it */
    void *free;              /* objects freed, each holding the next */
    char *bump, *end;        /* objects never used yet */
    size_t used;
    int in_avail;
};

#define FIRST_OBJECT(b) ((char *)(b) + ((sizeof(slab_block) + 15) & ~(size_t)15))

void slab_init(slab_pool *p, size_t size)
{
    assert(size > 0 && size <= SLAB_MAX_OBJECT);
    memset(p, 0, sizeof(*p));
    p->size = (size + 15) & ~(size_t)15;
    if (p->size < sizeof(void *))
        p->size = sizeof(void *);
}

static void block_reset(slab_pool *p, slab_block *b)
{
    UNPOISON(b, BLOCK);
    b->prev = b->next = NULL;
    b->free = NULL;
    b->bump = FIRST_OBJECT(b);
    b->end = b->bump + (BLOCK - (size_t)(b->bump - (char *)b)) / p->size * p->size;
    b->used = 0;
    b->in_avail = 0;
}

/* A block aligned to BLOCK: map twice the size and give back what is around it. */
static slab_block *block_map(void)
{
    char *m = mmap(NULL, 2 * BLOCK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uintptr_t at;
    size_t head;

    if (m == MAP_FAILED) {
        fprintf(stderr, "out of memory mapping a %d KiB slab block: aborting\n", BLOCK / 1024);
        abort();
    }
    at = ((uintptr_t)m + BLOCK - 1) & ~(uintptr_t)(BLOCK - 1);
    head = (size_t)(at - (uintptr_t)m);
    if (head > 0)
        munmap(m, head);
    munmap((char *)at + BLOCK, BLOCK - head);
    return (slab_block *)at;
}

static void avail_push(slab_pool *p, slab_block *b)
{
    b->prev = NULL;
    b->next = p->avail;
    if (p->avail != NULL)
        p->avail->prev = b;
    p->avail = b;
    b->in_avail = 1;
}

static void avail_remove(slab_pool *p, slab_block *b)
{
    if (b->prev != NULL)
        b->prev->next = b->next;
    else
        p->avail = b->next;
    if (b->next != NULL)
        b->next->prev = b->prev;
    b->prev = b->next = NULL;
    b->in_avail = 0;
}

void *slab_alloc(slab_pool *p)
{
    slab_block *b = p->avail;
    void *obj;

    assert(p->size > 0);
    if (b == NULL) {
        if (p->spare != NULL) {
            b = p->spare;
            p->spare = NULL;
        } else {
            b = block_map();
            p->blocks++;
        }
        block_reset(p, b);
        avail_push(p, b);
    }
    if (b->free != NULL) {
        obj = b->free;
        UNPOISON(obj, p->size);
        memcpy(&b->free, obj, sizeof(void *));
    } else {
        obj = b->bump;
        b->bump += p->size;
    }
    b->used++;
    p->objects++;
    if (b->free == NULL && b->bump == b->end)
        avail_remove(p, b); /* full */
    memset(obj, 0, p->size);
    return obj;
}

void slab_free(slab_pool *p, void *obj)
{
    slab_block *b;

    if (obj == NULL)
        return;
    b = (slab_block *)((uintptr_t)obj & ~(uintptr_t)(BLOCK - 1));
    assert(b->used > 0 && p->objects > 0);
    memcpy(obj, &b->free, sizeof(void *));
    POISON((char *)obj + sizeof(void *), p->size - sizeof(void *));
    b->free = obj;
    b->used--;
    p->objects--;
    if (b->used > 0) {
        if (!b->in_avail)
            avail_push(p, b);
        return;
    }
    if (b->in_avail)
        avail_remove(p, b);
    if (p->spare == NULL) {
        p->spare = b;
    } else {
        UNPOISON(b, BLOCK);
        munmap(b, BLOCK);
        p->blocks--;
    }
}

void slab_trim(slab_pool *p)
{
    if (p->spare == NULL)
        return;
    UNPOISON(p->spare, BLOCK);
    munmap(p->spare, BLOCK);
    p->spare = NULL;
    p->blocks--;
}
