/*
 * pbgrpc: the seam between protobuf-c messages and gRPC C-core.
 * Packs messages straight into byte buffers, unpacks responses, reads metadata and
 * names status codes. Owns no state; every returned object is the caller's to free
 * (grpc_byte_buffer_destroy, protobuf_c_message_free_unpacked, free).
 */
#ifndef NORIKV_PBGRPC_H
#define NORIKV_PBGRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <grpc/grpc.h>
#include <protobuf-c/protobuf-c.h>

grpc_byte_buffer *pbgrpc_pack(const ProtobufCMessage *msg);
ProtobufCMessage *pbgrpc_unpack(grpc_byte_buffer *bb, const ProtobufCMessageDescriptor *desc);
/* The same with the caller's allocator (NULL: malloc), which must also be given to
 * protobuf_c_message_free_unpacked. */
ProtobufCMessage *pbgrpc_unpack_with(grpc_byte_buffer *bb, const ProtobufCMessageDescriptor *desc,
                                     ProtobufCAllocator *alloc);

/* The value of the first metadata entry named key (lower case), or NULL. */
const char *pbgrpc_md_find(const grpc_metadata_array *md, const char *key, size_t *len);

/* "UNAVAILABLE" for GRPC_STATUS_UNAVAILABLE, "UNKNOWN" for anything out of range. */
const char *pbgrpc_status_name(grpc_status_code code);
/* Accepts the upper-case names, case-insensitively, and the decimal codes 0..16. */
bool pbgrpc_status_parse(const char *name, grpc_status_code *code);

gpr_timespec pbgrpc_deadline_ms(int64_t ms);

#endif
