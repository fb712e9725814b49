/*
 * check_pbgrpc: the protobuf-c <-> gRPC glue. Round trips through byte buffers (one
 * slice and several, with malloc or the caller's allocator), presence of message
 * fields, maps, packed floats, metadata lookup and status-code names.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <grpc/grpc.h>

#include "norikv.pb-c.h"
#include "pbgrpc.h"

START_TEST(test_put_request_round_trip)
{
    Norikv__V1__PutRequest req = NORIKV__V1__PUT_REQUEST__INIT, *back;
    Norikv__V1__Version ver = NORIKV__V1__VERSION__INIT;
    grpc_byte_buffer *bb;

    grpc_init();
    req.key.data = (uint8_t *)"user:1";
    req.key.len = 6;
    req.value.data = (uint8_t *)"";
    req.value.len = 0;
    req.ttl_ms = 1500;
    req.idempotency_key = "idem-1";
    ver.term = 0;
    ver.index = 42;
    req.if_match = &ver;
    bb = pbgrpc_pack(&req.base);
    back = (Norikv__V1__PutRequest *)pbgrpc_unpack(bb, &norikv__v1__put_request__descriptor);
    ck_assert_ptr_nonnull(back);
    ck_assert_uint_eq(back->key.len, 6);
    ck_assert_mem_eq(back->key.data, "user:1", 6);
    ck_assert_uint_eq(back->ttl_ms, 1500);
    ck_assert_str_eq(back->idempotency_key, "idem-1");
    /* if_match {0, 42} must survive as present, term 0 included */
    ck_assert_ptr_nonnull(back->if_match);
    ck_assert_uint_eq(back->if_match->term, 0);
    ck_assert_uint_eq(back->if_match->index, 42);
    protobuf_c_message_free_unpacked(&back->base, NULL);
    grpc_byte_buffer_destroy(bb);

    /* and an unconditional write carries no if_match at all */
    req.if_match = NULL;
    bb = pbgrpc_pack(&req.base);
    back = (Norikv__V1__PutRequest *)pbgrpc_unpack(bb, &norikv__v1__put_request__descriptor);
    ck_assert_ptr_null(back->if_match);
    protobuf_c_message_free_unpacked(&back->base, NULL);
    grpc_byte_buffer_destroy(bb);
    grpc_shutdown_blocking();
}
END_TEST

START_TEST(test_get_response_presence_and_map)
{
    Norikv__V1__GetResponse resp = NORIKV__V1__GET_RESPONSE__INIT, *back;
    Norikv__V1__GetResponse__MetaEntry e = NORIKV__V1__GET_RESPONSE__META_ENTRY__INIT;
    Norikv__V1__GetResponse__MetaEntry *ents[1] = {&e};
    grpc_byte_buffer *bb;

    grpc_init();
    /* a missing key: empty value and no version */
    bb = pbgrpc_pack(&resp.base);
    back = (Norikv__V1__GetResponse *)pbgrpc_unpack(bb, &norikv__v1__get_response__descriptor);
    ck_assert_uint_eq(back->value.len, 0);
    ck_assert_ptr_null(back->version);
    protobuf_c_message_free_unpacked(&back->base, NULL);
    grpc_byte_buffer_destroy(bb);

    e.key = "served-by";
    e.value = "node1";
    resp.n_meta = 1;
    resp.meta = ents;
    bb = pbgrpc_pack(&resp.base);
    back = (Norikv__V1__GetResponse *)pbgrpc_unpack(bb, &norikv__v1__get_response__descriptor);
    ck_assert_uint_eq(back->n_meta, 1);
    ck_assert_str_eq(back->meta[0]->key, "served-by");
    ck_assert_str_eq(back->meta[0]->value, "node1");
    protobuf_c_message_free_unpacked(&back->base, NULL);
    grpc_byte_buffer_destroy(bb);
    grpc_shutdown_blocking();
}
END_TEST

START_TEST(test_multi_slice_and_floats)
{
    Norikv__V1__VectorSearchRequest req = NORIKV__V1__VECTOR_SEARCH_REQUEST__INIT, *back;
    float q[5] = {0.5f, -1.0f, 3.25f, 0.0f, 1e-3f};
    size_t len;
    uint8_t *buf;
    grpc_slice parts[3];
    grpc_byte_buffer *bb;

    grpc_init();
    req.namespace_ = "docs";
    req.n_query = 5;
    req.query = q;
    req.k = 7;
    req.consistency = "eventual";
    len = protobuf_c_message_get_packed_size(&req.base);
    buf = malloc(len);
    protobuf_c_message_pack(&req.base, buf);
    /* the same bytes in three slices, as a large message arrives off the wire */
    parts[0] = grpc_slice_from_copied_buffer((const char *)buf, 3);
    parts[1] = grpc_slice_from_copied_buffer((const char *)buf + 3, 10);
    parts[2] = grpc_slice_from_copied_buffer((const char *)buf + 13, len - 13);
    bb = grpc_raw_byte_buffer_create(parts, 3);
    for (int i = 0; i < 3; i++)
        grpc_slice_unref(parts[i]);
    back = (Norikv__V1__VectorSearchRequest *)pbgrpc_unpack(
        bb, &norikv__v1__vector_search_request__descriptor);
    ck_assert_ptr_nonnull(back);
    ck_assert_str_eq(back->namespace_, "docs");
    ck_assert_uint_eq(back->n_query, 5);
    ck_assert_mem_eq(back->query, q, sizeof(q));
    ck_assert_uint_eq(back->k, 7);
    ck_assert_str_eq(back->consistency, "eventual");
    protobuf_c_message_free_unpacked(&back->base, NULL);
    grpc_byte_buffer_destroy(bb);
    free(buf);

    /* garbage does not decode, and a NULL buffer is no message */
    parts[0] = grpc_slice_from_static_string("\xff\xff\xff");
    bb = grpc_raw_byte_buffer_create(parts, 1);
    ck_assert_ptr_null(pbgrpc_unpack(bb, &norikv__v1__vector_search_request__descriptor));
    grpc_byte_buffer_destroy(bb);
    ck_assert_ptr_null(pbgrpc_unpack(NULL, &norikv__v1__get_request__descriptor));
    grpc_shutdown_blocking();
}
END_TEST

/* An allocator that counts what it hands out and gets back. */
typedef struct counting {
    int live, total;
} counting;

static void *counting_alloc(void *data, size_t size)
{
    counting *c = data;

    c->live++;
    c->total++;
    return malloc(size);
}

static void counting_free(void *data, void *p)
{
    counting *c = data;

    c->live--;
    free(p);
}

START_TEST(test_unpack_with_allocator)
{
    Norikv__V1__GetResponse resp = NORIKV__V1__GET_RESPONSE__INIT, *back;
    Norikv__V1__Version ver = NORIKV__V1__VERSION__INIT;
    counting n = {0, 0};
    ProtobufCAllocator a = {counting_alloc, counting_free, &n};
    grpc_slice parts[2];
    grpc_byte_buffer *bb;
    uint8_t buf[64];
    size_t len;

    grpc_init();
    resp.value.data = (uint8_t *)"hello world";
    resp.value.len = 11;
    ver.term = 3;
    ver.index = 9;
    resp.version = &ver;
    len = protobuf_c_message_pack(&resp.base, buf);
    /* one slice (decoded in place) and two slices (flattened first): the same message,
     * every allocation made through the allocator given, and all of it given back */
    for (int nparts = 1; nparts <= 2; nparts++) {
        parts[0] = grpc_slice_from_copied_buffer((const char *)buf, nparts == 1 ? len : 5);
        parts[1] = grpc_slice_from_copied_buffer((const char *)buf + 5, len - 5);
        bb = grpc_raw_byte_buffer_create(parts, (size_t)nparts);
        grpc_slice_unref(parts[0]);
        grpc_slice_unref(parts[1]);
        n.total = 0;
        back = (Norikv__V1__GetResponse *)pbgrpc_unpack_with(
            bb, &norikv__v1__get_response__descriptor, &a);
        grpc_byte_buffer_destroy(bb); /* the message owns its bytes */
        ck_assert_ptr_nonnull(back);
        ck_assert_uint_eq(back->value.len, 11);
        ck_assert_mem_eq(back->value.data, "hello world", 11);
        ck_assert_ptr_nonnull(back->version);
        ck_assert_uint_eq(back->version->term, 3);
        ck_assert_uint_eq(back->version->index, 9);
        ck_assert_int_ge(n.total, 2); /* the message and its version at least */
        protobuf_c_message_free_unpacked(&back->base, &a);
        ck_assert_int_eq(n.live, 0);
    }
    grpc_shutdown_blocking();
}
END_TEST

START_TEST(test_metadata_lookup)
{
    grpc_metadata md[2];
    grpc_metadata_array arr;
    size_t len = 0;
    const char *v;

    grpc_init();
    md[0].key = grpc_slice_from_static_string("x-norikv-shard");
    md[0].value = grpc_slice_from_static_string("3");
    md[1].key = grpc_slice_from_static_string("leader-hint");
    md[1].value = grpc_slice_from_static_string("127.0.0.1:9002");
    arr.count = 2;
    arr.capacity = 2;
    arr.metadata = md;
    v = pbgrpc_md_find(&arr, "leader-hint", &len);
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(len, 14);
    ck_assert_mem_eq(v, "127.0.0.1:9002", 14);
    ck_assert_ptr_null(pbgrpc_md_find(&arr, "leader", NULL));
    ck_assert_ptr_null(pbgrpc_md_find(&arr, "x-norikv-leader", NULL));
    grpc_shutdown_blocking();
}
END_TEST

START_TEST(test_status_names)
{
    grpc_status_code c;

    ck_assert_str_eq(pbgrpc_status_name(GRPC_STATUS_UNAVAILABLE), "UNAVAILABLE");
    ck_assert_str_eq(pbgrpc_status_name(GRPC_STATUS_FAILED_PRECONDITION), "FAILED_PRECONDITION");
    ck_assert_str_eq(pbgrpc_status_name((grpc_status_code)99), "UNKNOWN");
    ck_assert(pbgrpc_status_parse("unavailable", &c));
    ck_assert_int_eq(c, GRPC_STATUS_UNAVAILABLE);
    ck_assert(pbgrpc_status_parse("DEADLINE_EXCEEDED", &c));
    ck_assert_int_eq(c, GRPC_STATUS_DEADLINE_EXCEEDED);
    ck_assert(pbgrpc_status_parse("13", &c));
    ck_assert_int_eq(c, GRPC_STATUS_INTERNAL);
    ck_assert(!pbgrpc_status_parse("17", &c));
    ck_assert(!pbgrpc_status_parse("NOT_LEADER", &c));
    ck_assert(!pbgrpc_status_parse("", &c));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pbgrpc");
    TCase *tc = tcase_create("glue");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_put_request_round_trip);
    tcase_add_test(tc, test_get_response_presence_and_map);
    tcase_add_test(tc, test_multi_slice_and_floats);
    tcase_add_test(tc, test_unpack_with_allocator);
    tcase_add_test(tc, test_metadata_lookup);
    tcase_add_test(tc, test_status_names);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
