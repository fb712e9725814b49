/*
 * route: key -> shard, bit-exact with the NoriKV server.
 * shard = jump_consistent_hash(XXH64(key, seed 0), total_shards), with the jump step
 * computed in the server's operation order ((b + 1) * (2^31 / d)), which differs from
 * the SDKs' ((b + 1) * 2^31) / d for a few hashes. Pure functions, no state.
 */
#ifndef NORIKV_ROUTE_H
#define NORIKV_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#define ROUTE_DEFAULT_TOTAL_SHARDS 1024u

uint64_t route_key_hash(const void *key, size_t len);
uint32_t route_jump(uint64_t hash, uint32_t buckets);
uint32_t route_shard(const void *key, size_t len, uint32_t total_shards);

#endif
