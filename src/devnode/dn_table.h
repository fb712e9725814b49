/*
 * dn_table: the devnode's byte-keyed hash table (chained, XXH64, doubling).
 * Owns its keys and, through the free function given at creation, its values.
 * Single-threaded; never shrinks.
 */
#ifndef NORIKV_DN_TABLE_H
#define NORIKV_DN_TABLE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct dn_table dn_table;

dn_table *dn_table_new(void (*free_val)(void *val));
void dn_table_free(dn_table *t);
size_t dn_table_count(const dn_table *t);
/* The value slot of key, or NULL when absent. */
void **dn_table_get(dn_table *t, const void *key, size_t len);
/* The value slot of key, inserted with a NULL value when absent. */
void **dn_table_put(dn_table *t, const void *key, size_t len);
/* Removes key and frees its value; false when absent. */
bool dn_table_del(dn_table *t, const void *key, size_t len);
/* Calls fn for every entry, in no particular order; fn must not modify the table. */
void dn_table_each(dn_table *t, void (*fn)(const void *key, size_t len, void *val, void *arg),
                   void *arg);

#endif
