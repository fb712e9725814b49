#!/usr/bin/python3
"""End-to-end tests of norikv-sidecar: server and connection commands.

Server and connection commands: INFO (server, cluster, commandstats), COMMAND (COUNT, LIST,
DOCS) against norikv-sidecar --commands, CONFIG GET, TIME, CLIENT (SETNAME, GETNAME, ID,
LIST, INFO, KILL), RESET, SELECT and HELLO 3.

Usage: python3 tests/e2e/test_server.py [-v] [NAME-SUBSTRING ...]; see harness.py.
"""

import re
import sys
import time

import redis

from harness import (E, Fail, RUN, SIDECAR, check, cli_ok, encode, eq, info_field, key, run, test,
                     main)


@test
def cli_info_server():
    r = E.sc.cli("INFO", "server")
    text = r.out.replace("\r", "")
    check(r.rc == 0 and text.startswith("# Server\n"), "INFO server to start with '# Server'", r)
    v = info_field(text, "redis_version")
    check(v and re.fullmatch(r"\d+\.\d+\.\d+", v), "redis_version:<x.y.z>", text)
    eq(info_field(text, "loading"), "0", "loading")
    eq(info_field(text, "process_id"), str(E.sc.proc.pid), "process_id")
    eq(info_field(text, "unix_socket"), E.sc.sock, "unix_socket")


@test
def cli_info_cluster():
    r = E.sc.cli("INFO", "cluster")
    text = r.out.replace("\r", "")
    check(r.rc == 0 and text.startswith("# Cluster\n"), "INFO cluster to start with '# Cluster'", r)
    eq(info_field(text, "cluster_enabled"), "0", "cluster_enabled")
    eq(info_field(text, "norikv_nodes"), E.dn.nodes, "norikv_nodes")
    eq(info_field(text, "norikv_known_nodes"), str(len(E.dn.addrs)), "norikv_known_nodes")
    r = E.sc.cli("INFO")
    for sec in ("# Server", "# Clients", "# Stats", "# Cluster"):
        check(sec in r.out, "section %r in the default INFO" % sec, r.out)


def top_level_commands():
    r = run([SIDECAR, "--commands"])
    rows = [l for l in r.out.split("\n") if l.startswith("| `")]
    return r, sorted(set(re.match(r"\| `([^ `]+)", l).group(1) for l in rows))


@test
def cli_command_count():
    r, names = top_level_commands()
    check(r.rc == 0 and len(names) > 10, "norikv-sidecar --commands to list commands", r)
    cli_ok(E.sc.cli("COMMAND", "COUNT"), "%d\n" % len(names),
           "COMMAND COUNT vs the %d top-level commands of --commands" % len(names))
    listed = sorted(E.sc.cli("COMMAND", "LIST").out.upper().split())
    eq(listed, names, "COMMAND LIST vs --commands")


@test
def cli_command_docs_get():
    r = E.sc.cli("COMMAND", "DOCS", "GET")
    lines = r.out.split("\n")
    check(r.rc == 0 and lines[0] == "get" and "summary" in lines,
          "COMMAND DOCS GET to name get and have a summary", r)
    summary = lines[lines.index("summary") + 1]
    check(len(summary) > 5, "a non-empty summary", summary)


@test
def command_docs_keys_are_bulk_strings():
    # Redis sends COMMAND DOCS field names as bulk strings; redis-cli asserts that they are
    # (cliCountCommands) when it loads the command docs, as it does on every stdin session.
    with E.sc.conn() as c:
        c.send(b"COMMAND DOCS get\r\n")
        lines = [c.raw_reply_line() for _ in range(4)]
    eq(lines, [b"*2", b"$3", b"get", b"*10"], "the first lines of COMMAND DOCS get")
    with E.sc.conn() as c:
        c.send(b"COMMAND DOCS get\r\n")
        for _ in range(4):
            c.raw_reply_line()
        eq(c.raw_reply_line(), b"$7", "the field name 'summary' as a bulk string")


@test
def cli_config_get():
    cli_ok(E.sc.cli("CONFIG", "GET", "save"), "save\n\n", "CONFIG GET save")
    cli_ok(E.sc.cli("CONFIG", "GET", "appendonly"), "appendonly\nno\n", "CONFIG GET appendonly")
    cli_ok(E.sc.cli("CONFIG", "GET", "sidecar.max_clients"), "sidecar.max_clients\n10000\n",
           "CONFIG GET sidecar.max_clients")
    cli_ok(E.sc.cli("CONFIG", "GET", "cluster.nodes"), "cluster.nodes\n%s\n" % E.dn.nodes,
           "CONFIG GET cluster.nodes")
    r = E.sc.cli("CONFIG", "GET", "retry.*")
    eq(r.out.split("\n")[0::2][:4], ["retry.max_attempts", "retry.initial_delay_ms",
                                      "retry.max_delay_ms", "retry.jitter_ms"],
       "CONFIG GET retry.* (a glob)")


@test
def cli_time():
    before = time.time()
    r = E.sc.cli("TIME")
    after = time.time()
    m = re.fullmatch(r"(\d+)\n(\d+)\n", r.out)
    check(r.rc == 0 and m, "TIME to print seconds and microseconds", r)
    t = int(m.group(1)) + int(m.group(2)) / 1e6
    check(before - 1 <= t <= after + 1, "a time between %.3f and %.3f" % (before, after), t)
    check(int(m.group(2)) < 1000000, "microseconds below 1000000", m.group(2))


@test
def cli_client_one_connection():
    name = "e2e-conn-" + RUN
    r = E.sc.cli(stdin="CLIENT SETNAME %s\nCLIENT GETNAME\nCLIENT ID\nCLIENT LIST\nCLIENT INFO\n"
                 % name)
    lines = r.out.split("\n")
    check(r.rc == 0 and len(lines) >= 5, "redis-cli reading commands from stdin to exit 0", r)
    eq(lines[0:2], ["OK", name], "CLIENT SETNAME then CLIENT GETNAME")
    cid = lines[2]
    check(cid.isdigit(), "CLIENT ID as an integer", cid)
    mine = [l for l in lines[3:] if l.startswith("id=%s " % cid)]
    check(len(mine) == 2, "this connection (id=%s) in CLIENT LIST and CLIENT INFO" % cid, r.out)
    for l in mine:
        check(" name=%s " % name in l, "name=%s in %r" % (name, l), l)


@test
def client_commands_raw():
    name = "raw-" + RUN
    with E.sc.conn() as c, E.sc.conn() as other:
        eq(c.cmd("CLIENT", "GETNAME"), None, "CLIENT GETNAME before SETNAME")
        eq(c.cmd("CLIENT", "SETNAME", name), "OK", "CLIENT SETNAME")
        eq(c.cmd("CLIENT", "GETNAME"), name.encode(), "CLIENT GETNAME")
        eq(c.cmd("CLIENT", "SETNAME", "has space"),
           "ERR Client names cannot contain spaces, newlines or special characters.",
           "CLIENT SETNAME with a space")
        cid = c.cmd("CLIENT", "ID")
        oid = other.cmd("CLIENT", "ID")
        check(isinstance(cid, int) and isinstance(oid, int) and cid != oid,
              "two different integer ids", (cid, oid))
        listing = c.cmd("CLIENT", "LIST").decode()
        check(re.search(r"^id=%d .* name=%s " % (cid, name), listing, re.M) and
              re.search(r"^id=%d " % oid, listing, re.M),
              "both connections in CLIENT LIST, this one named", listing)
        info = c.cmd("CLIENT", "INFO").decode()
        check(info.startswith("id=%d " % cid) and " name=%s " % name in info,
              "CLIENT INFO of this connection", info)
        eq(c.cmd("CLIENT", "NOSUCH"), "ERR unknown subcommand 'NOSUCH'. Try CLIENT HELP.",
           "CLIENT NOSUCH")


@test
def client_kill_and_reset():
    with E.sc.conn() as c, E.sc.conn() as victim, E.sc.conn() as third:
        vid = victim.cmd("CLIENT", "ID")
        tid = third.cmd("CLIENT", "ID")
        eq(c.cmd("CLIENT", "KILL", "ID", str(vid)), 1, "CLIENT KILL ID of another client")
        try:
            got = victim.cmd("PING")
            raise Fail("the killed connection to be closed; PING answered %r" % (got,))
        except (EOFError, ConnectionError, OSError):
            pass
        eq(c.cmd("CLIENT", "KILL", "ID", str(vid)), 0, "CLIENT KILL ID of a gone client")
        eq(c.cmd("CLIENT", "KILL", "127.0.0.1:1"), "ERR No such client",
           "CLIENT KILL of an unknown address (old form)")
        eq(third.cmd("PING"), "PONG", "other clients are untouched")
        eq(c.cmd("CLIENT", "KILL", "ID", str(tid), "SKIPME", "yes"), 1, "CLIENT KILL ... SKIPME yes")
        # RESET: protocol 2 again, no name, default consistency
        c.cmd("HELLO", "3")
        c.cmd("CLIENT", "SETNAME", "before-reset")
        c.cmd("NORI.CONSISTENCY", "stale_ok")
        eq(c.cmd("RESET"), "RESET", "RESET")
        eq(c.cmd("CLIENT", "GETNAME"), None, "no name after RESET")
        eq(c.cmd("NORI.CONSISTENCY"), b"lease", "default consistency after RESET")
        c.send(encode("GET", key("reset-missing")))
        eq(c._line(), b"$-1", "RESP2 null after RESET")


@test
def cli_select():
    cli_ok(E.sc.cli("SELECT", "0"), "OK\n", "SELECT 0")
    cli_ok(E.sc.cli("SELECT", "1"), "ERR DB index is out of range\n\n", "SELECT 1")
    cli_ok(E.sc.cli("SELECT", "x"), "ERR value is not an integer or out of range\n\n", "SELECT x")
    # Redis' integer grammar: no '+', no leading zeros, no spaces
    for arg in ("+0", "00", " 0", "0 ", "-0"):
        cli_ok(E.sc.cli("SELECT", arg), "ERR value is not an integer or out of range\n\n",
               "SELECT %r" % arg)
    with E.sc.conn() as c:
        eq(c.cmd("HELLO", "+3"), "ERR Protocol version is not an integer or out of range",
           "HELLO +3")
        eq(c.cmd("CLIENT", "KILL", "ID", "+99999"), "ERR client-id should be greater than 0",
           "CLIENT KILL ID +99999")


@test
def cli_hello3():
    r = E.sc.cli("HELLO", "3", opts=["-3", "--no-raw"])
    want = ['1# "server" => "norikv-sidecar"', '3# "proto" => (integer) 3',
            '5# "mode" => "standalone"', '6# "role" => "master"', '7# "modules" => (empty array)']
    check(r.rc == 0 and all(w in r.out.split("\n") for w in want),
          "redis-cli -3 HELLO 3 to print a map with %s" % want, r)
    check(re.search(r'^2# "version" => "\d+\.\d+\.\d+"$', r.out, re.M), "the version in the map",
          r.out)
    cli_ok(E.sc.cli("GET", key("hello3", "missing"), opts=["-3", "--no-raw"]), "(nil)\n",
           "redis-cli -3 GET <missing>")
    k = key("hello3")
    cli_ok(E.sc.cli("SET", k, "v3", opts=["-3"]), "OK\n", "redis-cli -3 SET")
    cli_ok(E.sc.cli("MGET", k, key("hello3", "missing"), opts=["-3", "--no-raw"]),
           '1) "v3"\n2) (nil)\n', "redis-cli -3 MGET")


@test
def info_commandstats():
    c = E.sc.client()
    before = _cmdstat(c, "get")
    k = key("cmdstat")
    c.get(k)
    c.get(k)
    try:
        c.execute_command("GET")
    except redis.ResponseError:
        pass
    after = _cmdstat(c, "get")
    delta = dict((f, after.get(f, 0) - before.get(f, 0)) for f in ("calls", "rejected_calls"))
    # as Redis counts them: a command refused before it runs (arity) is a rejected call,
    # not a call
    eq(delta, {"calls": 2, "rejected_calls": 1},
       "cmdstat_get changes after two GETs and one GET of the wrong arity")


def _cmdstat(c, name):
    v = c.info("commandstats").get("cmdstat_" + name, {})
    return v if isinstance(v, dict) else {}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
