/*
 * dict: a hash table of byte-string keys whose entries live inside the caller's own
 * structs (a dict_entry member), so that one record can be in several tables and a key can
 * be shared instead of copied. Chained, hashed with a per-table seed (XXH3), doubled rather
 * than hold more entries than buckets, halved below a quarter full. Owns only its bucket
 * array; the caller owns the entries and their keys. One thread only.
 */
#ifndef NORIKV_DICT_H
#define NORIKV_DICT_H

#include <stddef.h>
#include <stdint.h>

typedef struct dict_entry {
    struct dict_entry *next;
    uint64_t hash;
    const void *key; /* the caller's bytes, which must outlive the entry's stay */
    size_t len;
} dict_entry;

typedef struct dict {
    dict_entry **buckets; /* NULL while empty */
    size_t nbuckets;      /* 0 or a power of two */
    size_t count;
    uint64_t seed;
} dict;

/* The struct of type holding the entry e as its member. */
#define dict_item(e, type, member) ((type *)(void *)((char *)(e)-offsetof(type, member)))

/* A seed for dict_init from the kernel's random source: keys an attacker chooses then
 * cannot be made to share buckets. */
uint64_t dict_seed(void);
void dict_init(dict *d, uint64_t seed);
/* The hash of len bytes at key under seed, as a table with that seed hashes its keys. */
uint64_t dict_hash(uint64_t seed, const void *key, size_t len);
/* Frees the bucket array; the entries left in it are the caller's to free. */
void dict_release(dict *d);

dict_entry *dict_find(const dict *d, const void *key, size_t len);
/* Puts e in under key (len bytes, kept by pointer), which must not be in d already. */
void dict_add(dict *d, dict_entry *e, const void *key, size_t len);
/* Takes e, which is in d, out of it. */
void dict_remove(dict *d, dict_entry *e);
/* The entry after e (the first with e NULL), in no particular order; NULL after the last.
 * The table must not change during a walk. */
dict_entry *dict_next(const dict *d, const dict_entry *e);
/* The bytes of the bucket array, the table's own memory. */
size_t dict_mem(const dict *d);

#endif
