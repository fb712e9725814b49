/*
 * cmd_data: the handlers of the data commands that are not one key's read-modify-write
 * (cmd_data.c): reads, writes and multi-key commands on the cluster.
 */
#ifndef NORIKV_CMD_DATA_H
#define NORIKV_CMD_DATA_H

#include "req.h"

cmd_proc cmd_get, cmd_set, cmd_setex, cmd_psetex, cmd_del, cmd_exists, cmd_mget, cmd_mset,
    cmd_nori_put, cmd_nori_get, cmd_nori_del, cmd_lcs, cmd_set_combine, cmd_sintercard;

#endif
