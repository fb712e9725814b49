/*
 * dict: chained buckets of intrusive entries. A resize rehashes every entry at once, which
 * the growth policy pays for: a table doubles rather than hold more entries than buckets
 * and halves when under a quarter full, so each resize follows as many inserts or removes
 * as it moves entries, or a quarter of that. An empty table holds no memory at all.
 */
#include "dict.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <xxhash.h>

#include "xalloc.h"

#define MIN_BUCKETS 8

uint64_t dict_seed(void)
{
    uint64_t seed;
    struct timespec ts;

    if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
        return seed;
    /* no entropy yet (early boot): still different from one run to the next */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return XXH3_64bits_withSeed(&ts, sizeof(ts), (uint64_t)(uintptr_t)&ts);
}

uint64_t dict_hash(uint64_t seed, const void *key, size_t len)
{
    return XXH3_64bits_withSeed(key, len, seed);
}

void dict_init(dict *d, uint64_t seed)
{
    memset(d, 0, sizeof(*d));
    d->seed = seed;
}

void dict_release(dict *d)
{
    free(d->buckets);
    dict_init(d, d->seed);
}

static dict_entry **bucket_of(const dict *d, uint64_t hash)
{
    return &d->buckets[hash & (d->nbuckets - 1)];
}

dict_entry *dict_find(const dict *d, const void *key, size_t len)
{
    uint64_t hash;

    if (d->count == 0)
        return NULL;
    hash = dict_hash(d->seed, key, len);
    for (dict_entry *e = *bucket_of(d, hash); e != NULL; e = e->next)
        if (e->hash == hash && e->len == len && (len == 0 || memcmp(e->key, key, len) == 0))
            return e;
    return NULL;
}

static void resize(dict *d, size_t nbuckets)
{
    dict_entry **old = d->buckets;
    size_t nold = d->nbuckets;

    d->buckets = xcalloc(nbuckets, sizeof(*d->buckets));
    d->nbuckets = nbuckets;
    for (size_t i = 0; i < nold; i++) {
        dict_entry *e = old[i];
        while (e != NULL) {
            dict_entry *next = e->next, **b = bucket_of(d, e->hash);
            e->next = *b;
            *b = e;
            e = next;
        }
    }
    free(old);
}

void dict_add(dict *d, dict_entry *e, const void *key, size_t len)
{
    dict_entry **b;

    if (d->nbuckets == 0)
        resize(d, MIN_BUCKETS);
    else if (d->count >= d->nbuckets)
        resize(d, d->nbuckets * 2);
    e->hash = dict_hash(d->seed, key, len);
    e->key = key;
    e->len = len;
    b = bucket_of(d, e->hash);
    e->next = *b;
    *b = e;
    d->count++;
}

void dict_remove(dict *d, dict_entry *e)
{
    dict_entry **pp = bucket_of(d, e->hash);

    while (*pp != e)
        pp = &(*pp)->next;
    *pp = e->next;
    e->next = NULL;
    if (--d->count == 0)
        dict_release(d);
    else if (d->nbuckets > MIN_BUCKETS && d->count < d->nbuckets / 4)
        resize(d, d->nbuckets / 2);
}

dict_entry *dict_next(const dict *d, const dict_entry *e)
{
    size_t i = 0;

    if (e != NULL) {
        if (e->next != NULL)
            return e->next;
        i = (e->hash & (d->nbuckets - 1)) + 1;
    }
    for (; i < d->nbuckets; i++)
        if (d->buckets[i] != NULL)
            return d->buckets[i];
    return NULL;
}

size_t dict_mem(const dict *d)
{
    return d->nbuckets * sizeof(*d->buckets);
}
