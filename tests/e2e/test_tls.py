#!/usr/bin/python3
"""End-to-end tests of norikv-sidecar: TLS to the cluster.

A certificate authority and node certificates made here with openssl; a devnode serving TLS
(--tls-cert, --tls-key); the sidecar with [cluster] tls, tls_ca and tls_server_name doing a
whole round trip over it, and norikv-cli too; what happens with an untrusted authority, a
name the certificate does not carry, and plaintext against a TLS node; -t on TLS keys.

Usage: python3 tests/e2e/test_tls.py [-v] [NAME-SUBSTRING ...]; see harness.py.
"""

import os
import shutil
import sys

from harness import (CLI, E, Devnode, Fail, SIDECAR, Sidecar, check, cli_ok, eq, info_field, key,
                     run, test, wait_for, main)

import redis

OPENSSL = shutil.which("openssl")
_pki = {}


def openssl(*args):
    r = run([OPENSSL] + list(args), timeout=60)
    check(r.rc == 0, "openssl %s to succeed" % args[0], r)


def pki():
    """ca.pem, and two node certificates signed by it: node (names norikv.test and the IP
    127.0.0.1) and named (norikv.test only), each with its key; a second authority other.pem."""
    if not _pki:
        if OPENSSL is None:
            raise Fail("openssl (Debian: openssl) to make the test's certificates")
        d = os.path.join(E.tmp, "pki")
        os.mkdir(d)
        p = lambda name: os.path.join(d, name)  # noqa: E731
        for ca in ("ca", "other"):
            openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=norikv test %s" % ca, "-keyout", p(ca + ".key"),
                    "-out", p(ca + ".pem"))
        for name, san in (("node", "DNS:norikv.test,IP:127.0.0.1"), ("named", "DNS:norikv.test")):
            with open(p(name + ".ext"), "w") as f:
                f.write("subjectAltName=%s\n" % san)
            openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=norikv.test",
                    "-keyout", p(name + ".key"), "-out", p(name + ".csr"))
            openssl("x509", "-req", "-in", p(name + ".csr"), "-CA", p("ca.pem"),
                    "-CAkey", p("ca.key"), "-CAcreateserial", "-days", "2",
                    "-extfile", p(name + ".ext"), "-out", p(name + ".pem"))
        _pki.update(dir=d, ca=p("ca.pem"), other=p("other.pem"))
        for name in ("node", "named"):
            _pki[name] = (p(name + ".pem"), p(name + ".key"))
    return _pki


def tls_devnode(name, cert):
    """A devnode serving TLS with the certificate `cert` ("node" or "named"), started once."""
    k = "dn-" + name
    if k not in _pki:
        pem, pkey = pki()[cert]
        _pki[k] = Devnode(name, args=("--tls-cert", pem, "--tls-key", pkey))
    return _pki[k]


@test
def tls_round_trip():
    ca = pki()["ca"]
    dn = tls_devnode("tls-devnode", "node")
    sc = Sidecar("tls-sidecar", dn, "--cluster.tls=yes", "--cluster.tls_ca=" + ca)
    c = sc.client()
    k = key("tls")
    eq(c.set(k, "over tls"), True, "SET over TLS")
    eq(c.get(k), b"over tls", "GET over TLS")
    eq(c.incr(k + ":n"), 1, "INCR over TLS (a read-modify-write)")
    eq(info_field(sc.info("cluster"), "norikv_view"), "yes", "a cluster view over TLS")
    r = run([CLI, "--nodes", dn.nodes, "--tls-ca", ca, "get", k])
    cli_ok(r, "over tls\n", "norikv-cli --tls-ca get")


@test
def tls_server_name_override():
    ca = pki()["ca"]
    dn = tls_devnode("named-devnode", "named")  # the certificate names norikv.test only
    sc = Sidecar("named-sidecar", dn, "--cluster.tls=yes", "--cluster.tls_ca=" + ca,
                 "--cluster.tls_server_name=norikv.test")
    k = key("named")
    eq(sc.client().set(k, "v"), True, "SET with tls_server_name matching the certificate")
    bad = Sidecar("unnamed-sidecar", dn, "--cluster.tls=yes", "--cluster.tls_ca=" + ca,
                  "--cluster.timeout_ms=1000", ready=False)
    _refused(bad, "a certificate without the address dialled", ("handshake", "certificate"))


def _refused(sc, what, causes):
    """Commands through sc fail, with a cause holding one of the words in causes, and sc
    gets no cluster view."""
    wait_for(lambda: os.path.exists(sc.sock), 10, "the sidecar's socket")
    c = sc.client()
    try:
        got = c.set(key("refused"), "v")
        raise Fail("SET with %s to fail; it returned %r" % (what, got))
    except redis.ResponseError as e:
        check(str(e).startswith(("UNAVAILABLE ", "TIMEOUT ")),
              "UNAVAILABLE or TIMEOUT with %s" % what, str(e))
        check(any(w in str(e).lower() for w in causes),
              "the cause to say %s" % " or ".join(causes), str(e))
    eq(info_field(sc.info("cluster"), "norikv_view"), "no", "no view with %s" % what)


@test
def tls_untrusted_authority_and_plaintext_refused():
    other = pki()["other"]
    dn = tls_devnode("tls-devnode", "node")
    untrusted = Sidecar("untrusted-sidecar", dn, "--cluster.tls=yes",
                        "--cluster.tls_ca=" + other, "--cluster.timeout_ms=3000", ready=False)
    plain = Sidecar("plain-sidecar", dn, "--cluster.timeout_ms=3000", ready=False)
    _refused(untrusted, "a certificate from an authority not trusted", ("certificate verify",))
    _refused(plain, "plaintext against a TLS node", ("unavailable",))


@test
def tls_configuration_checked():
    r = run([SIDECAR, "-t", "--cluster.tls_ca=/etc/ssl/ca.pem"])
    check(r.rc != 0 and "cluster.tls is off" in r.out + r.err,
          "-t to refuse tls_ca with tls off, saying so", r)
    r = run([SIDECAR, "-t", "--cluster.tls=yes", "--cluster.tls_cert=/x.pem"])
    check(r.rc != 0 and "tls_key" in r.out + r.err, "-t to refuse tls_cert without tls_key", r)
    r = run([SIDECAR, "--sidecar.listen=" + os.path.join(E.tmp, "nofile.sock"),
             "--cluster.tls=yes", "--cluster.tls_ca=" + os.path.join(E.tmp, "missing.pem")])
    check(r.rc != 0 and "missing.pem" in r.out + r.err,
          "a start with an unreadable tls_ca to fail naming the file", r)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
