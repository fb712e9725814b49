/*
 * tls: the PEM files of the client's TLS settings, read and checked before gRPC is given
 * them: gRPC parses them only at the first handshake, and a call then fails with no word
 * of the file. The authorities' file must hold one or more certificates, the client
 * certificate file a certificate, and the key file a private key that belongs to it.
 * Owns only the texts it hands back; leaves OpenSSL's error queue empty, as gRPC shares it.
 */
#ifndef NORIKV_TLS_H
#define NORIKV_TLS_H

#include <stddef.h>

#include "kv.h"

/* The files' texts, NUL-terminated PEM; NULL where the setting is empty. */
typedef struct tls_pem {
    char *ca;
    char *cert;
    char *key;
} tls_pem;

/* Reads and checks the files cfg names into p; -1 with err naming the file and what is
 * wrong with it (p then holds nothing). tls_pem_free releases p. */
int tls_pem_load(tls_pem *p, const kv_tls_config *cfg, char *err, size_t errlen);
/* Frees p's texts, the private key wiped first. */
void tls_pem_free(tls_pem *p);

#endif
