/*
 * tls: reads the PEM files and parses them with OpenSSL (libcrypto) the way gRPC will
 * (certificates, a private key, the two matched), so that a bad file stops a start or a
 * reload with its name and reason instead of leaving every call to fail. Nothing parsed
 * is kept: gRPC gets the texts.
 */
#include "tls.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "file.h"

/* Larger than any certificate chain or key a node or client would use. */
#define PEM_MAX (1 << 20)

static bool given(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* OpenSSL's reason for the last failure, and its error queue emptied. */
static const char *ssl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

    ERR_clear_error();
    return r != NULL ? r : "no reason given";
}

/* Whether OpenSSL's last failure is the end of the text: no further PEM block. */
static bool no_more_pem(void)
{
    unsigned long e = ERR_peek_last_error();

    return ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

/* The certificates in pem, at least one, each parsed; 0, or -1 with err. */
static int check_certificates(const char *pem, const char *what, const char *path, char *err,
                              size_t errlen)
{
    BIO *in = BIO_new_mem_buf(pem, -1);
    X509 *x;
    int n = 0;
    bool end;

    if (in == NULL) {
        snprintf(err, errlen, "%s %s: %s", what, path, ssl_reason());
        return -1;
    }
    ERR_clear_error();
    while ((x = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
        X509_free(x);
        n++;
    }
    end = no_more_pem();
    if (!end)
        snprintf(err, errlen, "%s %s: certificate %d does not parse: %s", what, path, n + 1,
                 ssl_reason());
    else if (n == 0)
        snprintf(err, errlen, "%s %s holds no PEM certificate (-----BEGIN CERTIFICATE-----)", what,
                 path);
    ERR_clear_error();
    BIO_free(in);
    return end && n > 0 ? 0 : -1;
}

/* A key protected by a passphrase is refused rather than asked for on a terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *arg)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)arg;
    return -1;
}

/* The first certificate of cert and the private key of key belong together; 0, or -1. */
static int check_pair(const char *cert, const char *key, const kv_tls_config *cfg, char *err,
                      size_t errlen)
{
    BIO *cin = BIO_new_mem_buf(cert, -1), *kin = BIO_new_mem_buf(key, -1);
    X509 *x = cin != NULL ? PEM_read_bio_X509(cin, NULL, NULL, NULL) : NULL;
    EVP_PKEY *k = NULL;
    int rc = -1;

    if (x == NULL) {
        snprintf(err, errlen, "certificate file %s: %s", cfg->cert_file, ssl_reason());
        goto out;
    }
    k = kin != NULL ? PEM_read_bio_PrivateKey(kin, NULL, no_passphrase, NULL) : NULL;
    if (k == NULL) {
        if (strstr(key, "PRIVATE KEY-----") == NULL)
            snprintf(err, errlen,
                     "key file %s holds no PEM private key (-----BEGIN PRIVATE KEY-----, or an "
                     "RSA or EC one)%s",
                     cfg->key_file,
                     strstr(key, "-----BEGIN CERTIFICATE-----") != NULL ? ": it holds a certificate"
                                                                        : "");
        else
            snprintf(err, errlen,
                     "key file %s: the private key does not parse (one protected by a passphrase "
                     "cannot be used): %s",
                     cfg->key_file, ssl_reason());
        goto out;
    }
    if (X509_check_private_key(x, k) != 1) {
        snprintf(err, errlen, "key file %s does not hold the private key of certificate file %s",
                 cfg->key_file, cfg->cert_file);
        goto out;
    }
    rc = 0;
out:
    ERR_clear_error();
    EVP_PKEY_free(k);
    X509_free(x);
    BIO_free(kin);
    BIO_free(cin);
    return rc;
}

int tls_pem_load(tls_pem *p, const kv_tls_config *cfg, char *err, size_t errlen)
{
    memset(p, 0, sizeof(*p));
    if (given(cfg->cert_file) != given(cfg->key_file)) {
        snprintf(err, errlen, "a client certificate needs both its certificate and its key");
        return -1;
    }
    if (given(cfg->ca_file) &&
        ((p->ca = file_read_all(cfg->ca_file, PEM_MAX, err, errlen)) == NULL ||
         check_certificates(p->ca, "CA file", cfg->ca_file, err, errlen) != 0))
        goto fail;
    if (given(cfg->cert_file) &&
        ((p->cert = file_read_all(cfg->cert_file, PEM_MAX, err, errlen)) == NULL ||
         (p->key = file_read_all(cfg->key_file, PEM_MAX, err, errlen)) == NULL ||
         check_certificates(p->cert, "certificate file", cfg->cert_file, err, errlen) != 0 ||
         check_pair(p->cert, p->key, cfg, err, errlen) != 0))
        goto fail;
    return 0;
fail:
    tls_pem_free(p);
    return -1;
}

void tls_pem_free(tls_pem *p)
{
    if (p->key != NULL)
        OPENSSL_cleanse(p->key, strlen(p->key)); /* no copy of the key left in freed memory */
    free(p->key);
    free(p->cert);
    free(p->ca);
    memset(p, 0, sizeof(*p));
}
