/*
 * cell_bits: Redis' bit commands on one key's value (SETBIT, GETBIT, BITCOUNT, BITPOS,
 * BITFIELD, BITFIELD_RO), as cell functions (cell.h): pure, no I/O, run by the
 * compare-and-swap engine like the other string commands. Bit 0 is the most significant
 * bit of the first byte, as in Redis; bytes past the value read as zero.
 */
#ifndef NORIKV_CELL_BITS_H
#define NORIKV_CELL_BITS_H

#include "cell.h"

/* The bit offsets Redis accepts: below proto-max-bulk-len's default (512 MB) in bytes.
 * Reads take all of them (past the value, a bit is 0); a write that would make the value
 * longer than CELL_VALUE_LIMIT is refused with an error that says so. */
#define CELL_BITS_REDIS_MAX_BYTES 536870912ull

cell_fn cell_setbit, cell_getbit, cell_bitcount, cell_bitpos, cell_bitfield, cell_bitfield_ro;

#endif
