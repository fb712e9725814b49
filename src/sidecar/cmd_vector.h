/*
 * cmd_vector: the handlers of vector sets and NoriKV's vector API (cmd_vector.c).
 */
#ifndef NORIKV_CMD_VECTOR_H
#define NORIKV_CMD_VECTOR_H

#include "req.h"

cmd_proc cmd_vadd, cmd_vsim, cmd_vrem, cmd_vemb, cmd_vismember, cmd_nori_vcreate, cmd_nori_vdrop,
    cmd_nori_vinsert, cmd_nori_vdelete, cmd_nori_vsearch, cmd_nori_vget;

#endif
