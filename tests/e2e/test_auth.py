#!/usr/bin/python3
"""End-to-end tests of norikv-sidecar: requirepass.

Requirepass: NOAUTH before AUTH, WRONGPASS, AUTH with and without a user name, RESET,
HELLO 3 AUTH, redis-cli -a and redis-py with and without a password.

Usage: python3 tests/e2e/test_auth.py [-v] [NAME-SUBSTRING ...]; see harness.py.
"""

import sys

import redis

from harness import (E, Error, Fail, Sidecar, check, cli_ok, eq, key, test, main)


def auth_sidecar():
    if not hasattr(auth_sidecar, "sc"):
        auth_sidecar.sc = Sidecar("auth-sidecar", E.dn, "--sidecar.requirepass=secret",
                                  password="secret")
    return auth_sidecar.sc


@test
def auth_noauth_before_auth():
    a = auth_sidecar()
    with a.conn() as c:
        eq(c.cmd("GET", "k"), "NOAUTH Authentication required.", "GET before AUTH")
        eq(c.cmd("PING"), "NOAUTH Authentication required.", "PING before AUTH")
        eq(c.cmd("SET", "k", "v"), "NOAUTH Authentication required.", "SET before AUTH")
    r = a.cli("GET", "k")
    cli_ok(r, "NOAUTH Authentication required.\n\n", "redis-cli GET without -a")


@test
def auth_wrong_password():
    a = auth_sidecar()
    want = "WRONGPASS invalid username-password pair or user is disabled."
    with a.conn() as c:
        eq(c.cmd("AUTH", "wrong"), want, "AUTH wrong")
        eq(c.cmd("AUTH", "default", "secreT"), want, "AUTH default secreT")
        eq(c.cmd("AUTH", "someone", "secret"), want, "AUTH someone secret")
        eq(c.cmd("AUTH", "secretsecret"), want, "AUTH secretsecret")
        eq(c.cmd("GET", "k"), "NOAUTH Authentication required.", "GET after failed AUTHs")
    with a.client(password="nope") as c:
        try:
            c.ping()
            raise Fail("redis-py with a wrong password to fail")
        except redis.ResponseError as e:  # redis-py 4.3 has no class of its own for WRONGPASS
            eq(str(e), want, "redis-py's error for a wrong password")


@test
def auth_then_ok():
    a = auth_sidecar()
    k = key("auth")
    with a.conn() as c:
        eq(c.cmd("AUTH", "secret"), "OK", "AUTH secret")
        eq(c.cmd("PING"), "PONG", "PING after AUTH")
        eq(c.cmd("SET", k, "authed"), "OK", "SET after AUTH")
        eq(c.cmd("GET", k), b"authed", "GET after AUTH")
        eq(c.cmd("RESET"), "RESET", "RESET")
        eq(c.cmd("GET", k), "NOAUTH Authentication required.", "GET after RESET")
    with a.conn() as c:
        eq(c.cmd("AUTH", "default", "secret"), "OK", "AUTH default secret")
        eq(c.cmd("GET", k), b"authed", "GET after AUTH default secret")


@test
def auth_hello3():
    a = auth_sidecar()
    with a.conn() as c:
        r = c.cmd("HELLO", "3")
        check(isinstance(r, Error) and r.startswith("NOAUTH HELLO must be called with the client "
                                                    "already authenticated"),
              "HELLO 3 without AUTH refused with NOAUTH", r)
        r = c.cmd("HELLO", "3", "AUTH", "default", "wrong")
        check(isinstance(r, Error) and r.startswith("WRONGPASS"), "HELLO 3 AUTH wrong: WRONGPASS",
              r)
        r = c.cmd("HELLO", "3", "AUTH", "default", "secret", "SETNAME", "h3")
        check(isinstance(r, dict) and r.get("proto") == 3 and r.get("server") == b"norikv-sidecar",
              "a RESP3 map with proto 3", r)
        eq(c.cmd("GET", key("hello3-auth-missing")), None, "GET of a missing key (RESP3 null)")
        eq(c.cmd("CLIENT", "GETNAME"), b"h3", "the name HELLO set")
    r = a.cli("HELLO", "3", "AUTH", "default", "secret", opts=["--no-raw"])
    check(r.rc == 0 and '"proto"' in r.out, "redis-cli HELLO 3 AUTH default secret", r)


@test
def auth_redis_cli_a():
    a = auth_sidecar()
    k = key("auth-cli")
    cli_ok(a.cli("SET", k, "via-cli", opts=["-a", "secret", "--no-auth-warning"]), "OK\n",
           "redis-cli -a secret SET")
    cli_ok(a.cli("GET", k, opts=["-a", "secret", "--no-auth-warning"]), "via-cli\n",
           "redis-cli -a secret GET")
    r = a.cli("PING", opts=["-a", "wrong", "--no-auth-warning"])
    check("WRONGPASS" in r.out + r.err, "redis-cli -a wrong to show WRONGPASS", r)


@test
def auth_redis_py():
    a = auth_sidecar()
    c = a.client(password="secret")
    k = key("auth-py")
    eq(c.set(k, "py"), True, "SET with password")
    eq(c.get(k), b"py", "GET with password")
    c2 = redis.Redis(unix_socket_path=a.sock, socket_timeout=10)
    try:
        c2.get(k)
        raise Fail("redis-py without a password to fail")
    except redis.AuthenticationError as e:
        check("Authentication required" in str(e), "AuthenticationError 'Authentication required'",
              str(e))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
