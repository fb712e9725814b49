/*
 * route: key hashing and jump consistent hashing as the NoriKV server computes them.
 * Owns nothing. Must never change its arithmetic without new vectors in
 * tests/check_route.c: clients and server must agree on every key's shard.
 */
#include "route.h"

#include <xxhash.h>

uint64_t route_key_hash(const void *key, size_t len)
{
    return (uint64_t)XXH64(key, len, 0);
}

uint32_t route_jump(uint64_t hash, uint32_t buckets)
{
    int64_t b = -1, j = 0;

    if (buckets == 0)
        return 0;
    while (j < (int64_t)buckets) {
        b = j;
        hash = hash * 2862933555777941757ULL + 1;
        /* The division first, in double precision, as the server does. */
        j = (int64_t)((double)(b + 1) * ((double)(1LL << 31) / (double)((hash >> 33) + 1)));
    }
    return (uint32_t)b;
}

uint32_t route_shard(const void *key, size_t len, uint32_t total_shards)
{
    return route_jump(route_key_hash(key, len), total_shards);
}
