/*
 * method: the NoriKV gRPC methods the programs call or serve, derived from the service
 * descriptors protoc-c generates from proto/norikv.proto (gen/norikv.pb-c.c). One table
 * for the client library and the devnode: each method's full path ("/norikv.v1.Kv/Put",
 * from the service's and the method's names) and its request and response messages.
 * Built once, on the first method_get, under pthread_once: the programs call it from
 * their loop thread only, but a first call from any thread would be safe too. The table
 * is static and never freed.
 */
#ifndef NORIKV_METHOD_H
#define NORIKV_METHOD_H

#include <protobuf-c/protobuf-c.h>

/* In the devnode's registration order; Raft and Admin/SnapshotShard are not used. */
typedef enum method_id {
    METHOD_PUT,
    METHOD_GET,
    METHOD_DELETE,
    METHOD_WATCH_CLUSTER,
    METHOD_TRANSFER_SHARD,
    METHOD_VECTOR_CREATE_INDEX,
    METHOD_VECTOR_DROP_INDEX,
    METHOD_VECTOR_INSERT,
    METHOD_VECTOR_DELETE,
    METHOD_VECTOR_SEARCH,
    METHOD_VECTOR_GET,
    METHOD_COUNT
} method_id;

#define METHOD_PATH_MAX 64

typedef struct method_info {
    const ProtobufCServiceDescriptor *service;  /* norikv__v1__kv__descriptor, ... */
    const char *name;                           /* "Put", as in the .proto */
    char path[METHOD_PATH_MAX];                 /* "/norikv.v1.Kv/Put": the gRPC path */
    const ProtobufCMessageDescriptor *request;  /* norikv.v1.PutRequest */
    const ProtobufCMessageDescriptor *response; /* norikv.v1.PutResponse */
} method_info;

/* The entry of m, which must be below METHOD_COUNT. Never NULL: a method missing from
 * the generated descriptors is a build mistake and aborts at the first call. */
const method_info *method_get(method_id m);

#endif
