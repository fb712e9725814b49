/*
 * cmd_conn: the handlers of connection and introspection commands (cmd_conn.c).
 */
#ifndef NORIKV_CMD_CONN_H
#define NORIKV_CMD_CONN_H

#include "req.h"

cmd_proc cmd_ping, cmd_echo, cmd_quit, cmd_reset, cmd_hello, cmd_auth, cmd_select, cmd_info,
    cmd_time, cmd_nori_consistency, cmd_nori_shard, cmd_nori_topology, cmd_nori_stats;
cmd_proc cmd_client_id, cmd_client_getname, cmd_client_setname, cmd_client_setinfo, cmd_client_info,
    cmd_client_list, cmd_client_kill, cmd_client_reply, cmd_client_help;
cmd_proc cmd_config_get, cmd_config_set, cmd_config_help;

#endif
