/*
 * method: the method table, filled from protobuf-c's ProtobufCServiceDescriptors. The
 * only hand-written part is which service and method name each method_id stands for;
 * paths and message descriptors come from the generated code, so they follow the .proto.
 */
#include "method.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "norikv.pb-c.h"

static const struct {
    const ProtobufCServiceDescriptor *service;
    const char *name;
} sources[METHOD_COUNT] = {
    [METHOD_PUT] = {&norikv__v1__kv__descriptor, "Put"},
    [METHOD_GET] = {&norikv__v1__kv__descriptor, "Get"},
    [METHOD_DELETE] = {&norikv__v1__kv__descriptor, "Delete"},
    [METHOD_WATCH_CLUSTER] = {&norikv__v1__meta__descriptor, "WatchCluster"},
    [METHOD_TRANSFER_SHARD] = {&norikv__v1__admin__descriptor, "TransferShard"},
    [METHOD_VECTOR_CREATE_INDEX] = {&norikv__v1__vector__descriptor, "CreateIndex"},
    [METHOD_VECTOR_DROP_INDEX] = {&norikv__v1__vector__descriptor, "DropIndex"},
    [METHOD_VECTOR_INSERT] = {&norikv__v1__vector__descriptor, "Insert"},
    [METHOD_VECTOR_DELETE] = {&norikv__v1__vector__descriptor, "Delete"},
    [METHOD_VECTOR_SEARCH] = {&norikv__v1__vector__descriptor, "Search"},
    [METHOD_VECTOR_GET] = {&norikv__v1__vector__descriptor, "Get"},
};

static method_info table[METHOD_COUNT];
static pthread_once_t built = PTHREAD_ONCE_INIT;

static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fatal(const char *fmt, ...)
{
    va_list ap;

    fputs("method table: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(": aborting\n", stderr);
    fflush(stderr);
    abort();
}

static void build(void)
{
    for (int m = 0; m < METHOD_COUNT; m++) {
        const ProtobufCServiceDescriptor *s = sources[m].service;
        const ProtobufCMethodDescriptor *md =
            protobuf_c_service_descriptor_get_method_by_name(s, sources[m].name);
        method_info *e = &table[m];
        int len;

        if (md == NULL)
            fatal("%s has no method %s", s->name, sources[m].name);
        len = snprintf(e->path, sizeof(e->path), "/%s/%s", s->name, md->name);
        if (len < 0 || (size_t)len >= sizeof(e->path))
            fatal("/%s/%s is longer than METHOD_PATH_MAX", s->name, md->name);
        e->service = s;
        e->name = md->name;
        e->request = md->input;
        e->response = md->output;
    }
}

const method_info *method_get(method_id m)
{
    pthread_once(&built, build);
    if ((unsigned)m >= METHOD_COUNT)
        fatal("method id %d out of range", (int)m);
    return &table[m];
}
