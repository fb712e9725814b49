/*
 * check_method: the wire method table against the NoriKV server contract. The paths
 * are the ones the server registers (and the ones pool.c and dn_server.c spelled out by
 * hand before the table), and each method's request and response are the messages of
 * proto/norikv.proto.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "method.h"
#include "norikv.pb-c.h"

static const struct {
    method_id id;
    const char *path, *request, *response;
    const ProtobufCMessageDescriptor *req_desc, *resp_desc;
} contract[] = {
    {METHOD_PUT, "/norikv.v1.Kv/Put", "norikv.v1.PutRequest", "norikv.v1.PutResponse",
     &norikv__v1__put_request__descriptor, &norikv__v1__put_response__descriptor},
    {METHOD_GET, "/norikv.v1.Kv/Get", "norikv.v1.GetRequest", "norikv.v1.GetResponse",
     &norikv__v1__get_request__descriptor, &norikv__v1__get_response__descriptor},
    {METHOD_DELETE, "/norikv.v1.Kv/Delete", "norikv.v1.DeleteRequest", "norikv.v1.DeleteResponse",
     &norikv__v1__delete_request__descriptor, &norikv__v1__delete_response__descriptor},
    {METHOD_WATCH_CLUSTER, "/norikv.v1.Meta/WatchCluster", "norikv.v1.ClusterView",
     "norikv.v1.ClusterView", &norikv__v1__cluster_view__descriptor,
     &norikv__v1__cluster_view__descriptor},
    {METHOD_TRANSFER_SHARD, "/norikv.v1.Admin/TransferShard", "norikv.v1.ShardInfo",
     "norikv.v1.ShardInfo", &norikv__v1__shard_info__descriptor,
     &norikv__v1__shard_info__descriptor},
    {METHOD_VECTOR_CREATE_INDEX, "/norikv.v1.Vector/CreateIndex",
     "norikv.v1.CreateVectorIndexRequest", "norikv.v1.CreateVectorIndexResponse",
     &norikv__v1__create_vector_index_request__descriptor,
     &norikv__v1__create_vector_index_response__descriptor},
    {METHOD_VECTOR_DROP_INDEX, "/norikv.v1.Vector/DropIndex", "norikv.v1.DropVectorIndexRequest",
     "norikv.v1.DropVectorIndexResponse", &norikv__v1__drop_vector_index_request__descriptor,
     &norikv__v1__drop_vector_index_response__descriptor},
    {METHOD_VECTOR_INSERT, "/norikv.v1.Vector/Insert", "norikv.v1.VectorInsertRequest",
     "norikv.v1.VectorInsertResponse", &norikv__v1__vector_insert_request__descriptor,
     &norikv__v1__vector_insert_response__descriptor},
    {METHOD_VECTOR_DELETE, "/norikv.v1.Vector/Delete", "norikv.v1.VectorDeleteRequest",
     "norikv.v1.VectorDeleteResponse", &norikv__v1__vector_delete_request__descriptor,
     &norikv__v1__vector_delete_response__descriptor},
    {METHOD_VECTOR_SEARCH, "/norikv.v1.Vector/Search", "norikv.v1.VectorSearchRequest",
     "norikv.v1.VectorSearchResponse", &norikv__v1__vector_search_request__descriptor,
     &norikv__v1__vector_search_response__descriptor},
    {METHOD_VECTOR_GET, "/norikv.v1.Vector/Get", "norikv.v1.VectorGetRequest",
     "norikv.v1.VectorGetResponse", &norikv__v1__vector_get_request__descriptor,
     &norikv__v1__vector_get_response__descriptor},
};

#define NCONTRACT ((int)(sizeof(contract) / sizeof(contract[0])))

START_TEST(test_every_method_in_the_contract)
{
    ck_assert_int_eq(NCONTRACT, METHOD_COUNT);
    for (int m = 0; m < METHOD_COUNT; m++) {
        int found = 0;
        for (int i = 0; i < NCONTRACT; i++)
            found += contract[i].id == (method_id)m;
        ck_assert_msg(found == 1, "method %d appears %d times in the contract", m, found);
    }
}
END_TEST

START_TEST(test_paths)
{
    for (int i = 0; i < NCONTRACT; i++) {
        const method_info *e = method_get(contract[i].id);
        ck_assert_ptr_nonnull(e);
        ck_assert_str_eq(e->path, contract[i].path);
    }
    ck_assert_str_eq(method_get(METHOD_PUT)->path, "/norikv.v1.Kv/Put");
    ck_assert_str_eq(method_get(METHOD_WATCH_CLUSTER)->path, "/norikv.v1.Meta/WatchCluster");
    ck_assert_str_eq(method_get(METHOD_VECTOR_SEARCH)->path, "/norikv.v1.Vector/Search");
    ck_assert_str_eq(method_get(METHOD_TRANSFER_SHARD)->path, "/norikv.v1.Admin/TransferShard");
}
END_TEST

START_TEST(test_paths_distinct)
{
    for (int a = 0; a < METHOD_COUNT; a++)
        for (int b = a + 1; b < METHOD_COUNT; b++)
            ck_assert_str_ne(method_get((method_id)a)->path, method_get((method_id)b)->path);
}
END_TEST

START_TEST(test_messages)
{
    for (int i = 0; i < NCONTRACT; i++) {
        const method_info *e = method_get(contract[i].id);
        ck_assert_str_eq(e->request->name, contract[i].request);
        ck_assert_str_eq(e->response->name, contract[i].response);
        ck_assert_ptr_eq(e->request, contract[i].req_desc);
        ck_assert_ptr_eq(e->response, contract[i].resp_desc);
    }
    ck_assert_str_eq(method_get(METHOD_PUT)->request->name, "norikv.v1.PutRequest");
    ck_assert_str_eq(method_get(METHOD_PUT)->response->name, "norikv.v1.PutResponse");
}
END_TEST

START_TEST(test_service_and_name)
{
    const method_info *put = method_get(METHOD_PUT), *vdel = method_get(METHOD_VECTOR_DELETE);

    ck_assert_ptr_eq(put->service, &norikv__v1__kv__descriptor);
    ck_assert_str_eq(put->name, "Put");
    ck_assert_ptr_eq(method_get(METHOD_WATCH_CLUSTER)->service, &norikv__v1__meta__descriptor);
    ck_assert_ptr_eq(method_get(METHOD_TRANSFER_SHARD)->service, &norikv__v1__admin__descriptor);
    /* same method name, two services: Kv/Delete and Vector/Delete */
    ck_assert_ptr_eq(vdel->service, &norikv__v1__vector__descriptor);
    ck_assert_str_eq(vdel->name, method_get(METHOD_DELETE)->name);
    /* built once: the same entry every time */
    ck_assert_ptr_eq(method_get(METHOD_PUT), put);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("method");
    TCase *tc = tcase_create("table");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_every_method_in_the_contract);
    tcase_add_test(tc, test_paths);
    tcase_add_test(tc, test_paths_distinct);
    tcase_add_test(tc, test_messages);
    tcase_add_test(tc, test_service_and_name);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
