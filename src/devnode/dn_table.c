/*
 * dn_table: chained hash table for the devnode's keys, idempotency keys, vector ids.
 * Owns every entry; values are freed with the table's free function. The load factor
 * stays at or under 1 by doubling the bucket array.
 */
#include "dn_table.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "xalloc.h"

typedef struct entry {
    struct entry *next;
    uint64_t hash;
    void *val;
    size_t len;
    unsigned char key[];
} entry;

struct dn_table {
    entry **buckets;
    size_t nbuckets; /* a power of two */
    size_t count;
    void (*free_val)(void *val);
};

dn_table *dn_table_new(void (*free_val)(void *val))
{
    dn_table *t = xcalloc(1, sizeof(*t));

    t->nbuckets = 64;
    t->buckets = xcalloc(t->nbuckets, sizeof(*t->buckets));
    t->free_val = free_val;
    return t;
}

void dn_table_free(dn_table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nbuckets; i++) {
        entry *e = t->buckets[i];
        while (e != NULL) {
            entry *next = e->next;
            if (t->free_val != NULL)
                t->free_val(e->val);
            free(e);
            e = next;
        }
    }
    free(t->buckets);
    free(t);
}

size_t dn_table_count(const dn_table *t)
{
    return t->count;
}

static entry **find(dn_table *t, const void *key, size_t len, uint64_t hash)
{
    entry **pp = &t->buckets[hash & (t->nbuckets - 1)];

    for (; *pp != NULL; pp = &(*pp)->next) {
        entry *e = *pp;
        if (e->hash == hash && e->len == len && (len == 0 || memcmp(e->key, key, len) == 0))
            return pp;
    }
    return pp;
}

void **dn_table_get(dn_table *t, const void *key, size_t len)
{
    entry **pp = find(t, key, len, XXH64(key, len, 0));

    return *pp != NULL ? &(*pp)->val : NULL;
}

static void grow(dn_table *t)
{
    size_t n = t->nbuckets * 2;
    entry **b = xcalloc(n, sizeof(*b));

    for (size_t i = 0; i < t->nbuckets; i++) {
        entry *e = t->buckets[i];
        while (e != NULL) {
            entry *next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = n;
}

void **dn_table_put(dn_table *t, const void *key, size_t len)
{
    uint64_t hash = XXH64(key, len, 0);
    entry **pp = find(t, key, len, hash);
    entry *e;

    if (*pp != NULL)
        return &(*pp)->val;
    e = xmalloc(sizeof(*e) + len);
    e->hash = hash;
    e->val = NULL;
    e->len = len;
    if (len > 0)
        memcpy(e->key, key, len);
    e->next = NULL;
    *pp = e;
    if (++t->count > t->nbuckets)
        grow(t);
    return &e->val;
}

bool dn_table_del(dn_table *t, const void *key, size_t len)
{
    entry **pp = find(t, key, len, XXH64(key, len, 0));
    entry *e = *pp;

    if (e == NULL)
        return false;
    *pp = e->next;
    if (t->free_val != NULL)
        t->free_val(e->val);
    free(e);
    t->count--;
    return true;
}

void dn_table_each(dn_table *t, void (*fn)(const void *key, size_t len, void *val, void *arg),
                   void *arg)
{
    for (size_t i = 0; i < t->nbuckets; i++)
        for (entry *e = t->buckets[i]; e != NULL; e = e->next)
            fn(e->key, e->len, e->val, arg);
}
