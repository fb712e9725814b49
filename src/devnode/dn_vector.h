/*
 * dn_vector: the Vector service of the devnode, served for real: named indexes with a
 * dimension and a distance, exact (brute-force) search, one replicated group led by
 * shard 0's leader. Owns d->vindex and d->videm.
 */
#ifndef NORIKV_DN_VECTOR_H
#define NORIKV_DN_VECTOR_H

#include <protobuf-c/protobuf-c.h>

#include "devnode.h"
#include "dn_util.h"

#define DN_VEC_NAMESPACE_LIMIT 256u
#define DN_VEC_ID_LIMIT        512u
#define DN_VEC_DIM_LIMIT       4096u

void dn_vector_init(devnode *d);
void dn_vector_free(devnode *d);

void dn_vector_create(devnode *d, dn_node *n, const ProtobufCMessage *req, dn_reply *r);
void dn_vector_drop(devnode *d, dn_node *n, const ProtobufCMessage *req, dn_reply *r);
void dn_vector_insert(devnode *d, dn_node *n, const ProtobufCMessage *req, dn_reply *r);
void dn_vector_delete(devnode *d, dn_node *n, const ProtobufCMessage *req, dn_reply *r);
void dn_vector_search(devnode *d, dn_node *n, const ProtobufCMessage *req, dn_reply *r);
void dn_vector_get(devnode *d, dn_node *n, const ProtobufCMessage *req, dn_reply *r);

/* Distance between a and b of dim floats, as the NoriKV engine defines it (smaller is closer). */
float dn_vector_distance(int distance, const float *a, const float *b, size_t dim);

#endif
