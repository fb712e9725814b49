/*
 * pbgrpc: protobuf-c <-> gRPC byte buffer glue, metadata lookup, status names.
 * One copy on pack (straight into the slice); a flattening copy on unpack only when
 * the buffer has more than one slice (or is compressed). Must never keep a reference to
 * what it is given.
 */
#include "pbgrpc.h"

#include <string.h>
#include <strings.h>

#include <grpc/byte_buffer_reader.h>
#include <grpc/support/time.h>

#include "parse.h"

grpc_byte_buffer *pbgrpc_pack(const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    grpc_slice s = grpc_slice_malloc(len);
    grpc_byte_buffer *bb;

    protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(s));
    bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    return bb;
}

ProtobufCMessage *pbgrpc_unpack_with(grpc_byte_buffer *bb, const ProtobufCMessageDescriptor *desc,
                                     ProtobufCAllocator *alloc)
{
    grpc_byte_buffer_reader r;
    ProtobufCMessage *m;
    grpc_slice s;

    if (bb == NULL)
        return NULL;
    /* The common case, an uncompressed message in one slice: decoded where it lies. */
    if (bb->type == GRPC_BB_RAW && bb->data.raw.compression == GRPC_COMPRESS_NONE &&
        bb->data.raw.slice_buffer.count == 1) {
        s = bb->data.raw.slice_buffer.slices[0];
        return protobuf_c_message_unpack(desc, alloc, GRPC_SLICE_LENGTH(s),
                                         GRPC_SLICE_START_PTR(s));
    }
    if (!grpc_byte_buffer_reader_init(&r, bb))
        return NULL;
    s = grpc_byte_buffer_reader_readall(&r);
    grpc_byte_buffer_reader_destroy(&r);
    m = protobuf_c_message_unpack(desc, alloc, GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
    grpc_slice_unref(s);
    return m;
}

ProtobufCMessage *pbgrpc_unpack(grpc_byte_buffer *bb, const ProtobufCMessageDescriptor *desc)
{
    return pbgrpc_unpack_with(bb, desc, NULL);
}

const char *pbgrpc_md_find(const grpc_metadata_array *md, const char *key, size_t *len)
{
    size_t klen = strlen(key);

    for (size_t i = 0; i < md->count; i++) {
        const grpc_metadata *e = &md->metadata[i];
        if (GRPC_SLICE_LENGTH(e->key) == klen &&
            memcmp(GRPC_SLICE_START_PTR(e->key), key, klen) == 0) {
            if (len != NULL)
                *len = GRPC_SLICE_LENGTH(e->value);
            return (const char *)GRPC_SLICE_START_PTR(e->value);
        }
    }
    return NULL;
}

static const char *const status_names[] = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

#define STATUS_COUNT (sizeof(status_names) / sizeof(status_names[0]))

const char *pbgrpc_status_name(grpc_status_code code)
{
    if ((unsigned)code >= STATUS_COUNT)
        return "UNKNOWN";
    return status_names[code];
}

bool pbgrpc_status_parse(const char *name, grpc_status_code *code)
{
    long long n;

    for (size_t i = 0; i < STATUS_COUNT; i++) {
        if (strcasecmp(name, status_names[i]) == 0) {
            *code = (grpc_status_code)i;
            return true;
        }
    }
    if (parse_ll(name, 0, (long long)STATUS_COUNT - 1, &n)) {
        *code = (grpc_status_code)n;
        return true;
    }
    return false;
}

gpr_timespec pbgrpc_deadline_ms(int64_t ms)
{
    return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(ms, GPR_TIMESPAN));
}
