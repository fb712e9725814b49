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
import signal
import sys
import time

from harness import (CLI, E, Conn, Devnode, Fail, SIDECAR, Sidecar, _read, check, cli_ok, eq,
                     info_field, key, run, spawn, stop, test, wait_for, main)

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
    def answers():  # the socket file appears at bind, a moment before it accepts
        with Conn(sc.sock, timeout=5) as c:
            return c.cmd("PING") == "PONG"
    wait_for(answers, 10, "the sidecar's socket to answer PING")
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



@test
def tls_wrong_authority_logs_a_bounded_number_of_lines():
    """A sidecar whose CA is not the nodes' retries the handshakes by itself, with no
    traffic, and gRPC says "Handshake failed" each time (3 to 4 a second): the log's rate
    limit lets 10 such lines out per 10 s and then one line counting the rest."""
    other = pki()["other"]
    dn = tls_devnode("tls-devnode", "node")
    sc = Sidecar("wrong-ca-sidecar", dn, "--cluster.tls=yes", "--cluster.tls_ca=" + other,
                 ready=False)
    wait_for(lambda: os.path.exists(sc.sock), 10, "the sidecar's socket")
    time.sleep(12.5)
    text = _read(sc.log)
    failed = [ln for ln in text.splitlines() if "Handshake failed" in ln and
              "suppressed" not in ln]
    summaries = [ln for ln in text.splitlines() if "suppressed" in ln]
    check(0 < len(failed) <= 20, "between 1 and 20 'Handshake failed' lines in 12.5 s",
          "%d lines: %s" % (len(failed), failed[-3:]))
    check(any("Handshake failed" in ln for ln in summaries),
          "a line counting the suppressed handshake lines", summaries or text[-800:])
    check(sc.alive(), "the sidecar to keep running", text[-500:])


def bad_files():
    """Files a user may give by mistake: garbage as the CA file, a CA file holding only a key,
    and a certificate block whose body is not a certificate."""
    d = pki()["dir"]
    p = lambda name: os.path.join(d, name)  # noqa: E731
    if not os.path.exists(p("garbage.pem")):
        with open(p("garbage.pem"), "w") as f:
            f.write("this is not a certificate\n" * 20)
        with open(p("broken.pem"), "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nTm9yaUtW\n-----END CERTIFICATE-----\n")
    return p


# (what, TLS options, what the refusal must say)
BAD_TLS = [
    ("garbage as tls_ca", lambda p, k: ["--cluster.tls_ca=" + p("garbage.pem")],
     "holds no PEM certificate"),
    ("a key as tls_ca", lambda p, k: ["--cluster.tls_ca=" + p("ca.key")],
     "holds no PEM certificate"),
    ("a broken certificate in tls_ca", lambda p, k: ["--cluster.tls_ca=" + p("broken.pem")],
     "certificate 1 does not parse"),
    ("the certificate given as tls_key", lambda p, k: [
        "--cluster.tls_cert=" + k["node"][0], "--cluster.tls_key=" + k["node"][0]],
     "holds no PEM private key"),
    ("another certificate's key as tls_key", lambda p, k: [
        "--cluster.tls_cert=" + k["node"][0], "--cluster.tls_key=" + k["named"][1]],
     "does not hold the private key of certificate file"),
    ("garbage as tls_cert", lambda p, k: [
        "--cluster.tls_cert=" + p("garbage.pem"), "--cluster.tls_key=" + k["node"][1]],
     "holds no PEM certificate"),
]


@test
def tls_bad_files_stop_start_and_t():
    """A TLS file that does not parse, or a key that is not the certificate's, stops -t and
    the start, naming the file and the fault (gRPC would only find out at a handshake, and
    every command would fail with `empty address list`)."""
    p, k = bad_files(), pki()
    for what, opts, says in BAD_TLS:
        sock = os.path.join(E.tmp, "bad-tls.sock")
        args = ["--sidecar.listen=" + sock, "--cluster.tls=yes",
                "--cluster.nodes=" + E.dn.nodes] + opts(p, k)
        r = run([SIDECAR, "-t"] + args)
        check(r.rc == 1 and says in r.err and "cluster.tls: " in r.err,
              "-t with %s to exit 1 saying %r" % (what, says), r)
        r = run([SIDECAR] + args, timeout=20)
        check(r.rc == 1 and says in r.out + r.err and not r.timed_out,
              "a start with %s to exit 1 at once saying %r" % (what, says), r)
        check(not os.path.exists(sock), "no socket after the refused start (%s)" % what,
              os.listdir(E.tmp))
    # the same files, right, pass
    r = run([SIDECAR, "-t", "--sidecar.listen=" + os.path.join(E.tmp, "good-tls.sock"),
             "--cluster.tls=yes", "--cluster.tls_ca=" + k["ca"], "--cluster.tls_cert=" +
             k["node"][0], "--cluster.tls_key=" + k["node"][1]])
    check(r.rc == 0, "-t with a good CA, certificate and key to pass", r)


@test
def tls_reload_with_a_bad_file_keeps_the_configuration():
    """SIGHUP while the CA file has been replaced by garbage: the reload is refused with
    the file's fault in the log, a reloadable key changed with it is not applied, and the
    sidecar goes on serving over TLS with what it loaded at start."""
    k = pki()
    dn = tls_devnode("tls-devnode", "node")
    ca = os.path.join(E.tmp, "reload-ca.pem")
    shutil.copy(k["ca"], ca)
    conf = os.path.join(E.tmp, "reload-tls.conf")
    sock = os.path.join(E.tmp, "reload-tls.sock")

    def write(timeout):
        with open(conf, "w") as f:
            f.write("[sidecar]\nlisten = %s\ntimeout = %d\n[cluster]\nnodes = %s\ntls = yes\n"
                    "tls_ca = %s\n" % (sock, timeout, dn.nodes, ca))
    write(0)
    log = os.path.join(E.tmp, "reload-tls.log")
    proc = spawn([SIDECAR, "-c", conf], log)

    def serves():
        with Conn(sock, timeout=5) as c:
            return b"norikv_view:yes" in c.cmd("INFO", "cluster")
    wait_for(serves, 20, "the TLS sidecar run with -c to serve")
    with open(ca, "w") as f:
        f.write("this is not a certificate\n")
    write(300)
    proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "keeping the running configuration" in _read(log), 10,
             "the reload to be refused in the log")
    line = [ln for ln in _read(log).splitlines() if "keeping the running" in ln][-1]
    check("cluster.tls: CA file %s holds no PEM certificate" % ca in line,
          "the refused reload to name the CA file and its fault", line)
    with Conn(sock) as c:
        eq(c.cmd("CONFIG", "GET", "sidecar.timeout"), [b"sidecar.timeout", b"0"],
           "sidecar.timeout after the refused reload")
        kk = key("tls-reload")
        eq(c.cmd("SET", kk, "still"), "OK", "SET over TLS after the refused reload")
        eq(c.cmd("GET", kk), b"still", "GET over TLS after the refused reload")
    check(proc.poll() is None, "the sidecar to keep running", _read(log)[-500:])
    stop(proc)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
