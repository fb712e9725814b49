/*
 * tval: the sidecar's typed value format, how a Redis type and a readable expiry are kept in
 * a NoriKV value, which is only bytes with a TTL the server never reads back (README "The
 * typed value format" describes it byte for byte).
 *
 * A typed value is a 24-byte header and a payload:
 *
 *   0..3    magic F1 4E 4B 54 ("\xF1NKT")
 *   4       format version, 1
 *   5       type: 0 string, 1 hash, 2 set, 3 sorted set, 4 list
 *   6       flags: bit 0 set when bytes 8..15 hold an expiry; the other bits 0
 *   7       0
 *   8..15   expiry, Unix time in ms, little-endian signed (0 without bit 0)
 *   16..23  check: XXH3 64-bit of bytes 0..15, little-endian
 *
 * A value that is not exactly such a header followed by a payload is a plain string, as
 * whatever wrote it (an SDK, NORI.PUT, the sidecar with string_format raw) meant it. No
 * text starts with the magic (0xF1 must be followed by a continuation byte in UTF-8, 'N' is
 * not one), and the check makes a random value pass with a chance of 2^-96. A value written
 * through the sidecar that starts with the magic is always stored typed, so it reads back
 * exactly.
 *
 * Payloads: a string's is its bytes. A collection's is its count as a 4-byte little-endian
 * unsigned, then its items, each byte string a 4-byte little-endian length and the bytes:
 * a hash, field then value per entry; a set, its members; a list, its elements from head
 * to tail; a sorted set, per member its score (IEEE 754 double, 8 bytes little-endian) then
 * the member, in Redis' order (score, then member bytes).
 */
#ifndef NORIKV_TVAL_H
#define NORIKV_TVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TVAL_HEADER_LEN 24u
#define TVAL_VERSION    1u

typedef enum tval_type {
    TVAL_STRING = 0,
    TVAL_HASH = 1,
    TVAL_SET = 2,
    TVAL_ZSET = 3,
    TVAL_LIST = 4,
} tval_type;

#define TVAL_TYPES 5

/* A stored value as read: its type, expiry (0: none) and payload (inside the value). */
typedef struct tval {
    tval_type type;
    int64_t expire_at;
    const char *payload;
    size_t len;
} tval;

/* true when value carries the header (v filled in); false: a plain string (v still filled
 * in: type string, no expiry, the whole value as payload). */
bool tval_decode(const void *value, size_t len, tval *v);

/* Writes the header of a value of this type and expiry (Unix ms, 0: none) into hdr. */
void tval_header(unsigned char hdr[TVAL_HEADER_LEN], tval_type type, int64_t expire_at);

/* Whether a string stored without a header would be read as typed (it starts with the
 * magic): such a value must be stored with a header. */
bool tval_looks_typed(const void *value, size_t len);

/* Redis' name of a type, as TYPE answers ("string", "hash", "set", "zset", "list"). */
const char *tval_type_name(tval_type t);

/* ---- collection payloads ---------------------------------------------------------------- */

/* Reads a payload front to back; every read checks the bounds (a malformed payload reads
 * as an error, never past the end). */
typedef struct tval_reader {
    const unsigned char *p, *end;
} tval_reader;

void tval_reader_init(tval_reader *r, const void *payload, size_t len);
bool tval_read_u32(tval_reader *r, uint32_t *v);
bool tval_read_str(tval_reader *r, const char **ptr, size_t *len);
bool tval_read_double(tval_reader *r, double *v);
bool tval_reader_done(const tval_reader *r); /* every byte read */

/* Builds a payload in a growing buffer (xmalloc'ed, NUL-terminated as cells keep values). */
typedef struct tval_writer {
    char *buf;
    size_t len, cap;
} tval_writer;

void tval_writer_init(tval_writer *w, size_t hint);
void tval_write_u32(tval_writer *w, uint32_t v);
void tval_write_str(tval_writer *w, const void *p, size_t len);
void tval_write_double(tval_writer *w, double v);
/* Hands the buffer over (*len its length); the writer is empty again. */
char *tval_writer_take(tval_writer *w, size_t *len);
void tval_writer_free(tval_writer *w);

/* The bytes a collection item adds to a payload: its length prefix and bytes. */
#define TVAL_STR_COST(n) ((size_t)(n) + 4u)

#endif
