#!/usr/bin/python3
"""End-to-end tests of norikv-sidecar: cluster events over pub/sub.

redis-py's pubsub() (RESP2) subscribed to norikv:topology, and to norikv:* by pattern,
receives one JSON message within 2 s of a devnode `move` and of a `kill`; RESP3 pushes
arrive on a connection beside the replies of its normal commands; RESP2 subscribe mode
refuses other commands with Redis' error and answers PING as Redis does; other channels
never deliver, PUBLISH is refused, PUBSUB CHANNELS/NUMSUB/NUMPAT count this sidecar's
subscribers; a subscriber that never reads is closed once its unsent output passes
reply_backlog, and its output never grows far beyond it.

Usage: python3 tests/e2e/test_pubsub.py [-v] [NAME-SUBSTRING ...]; see harness.py.
"""

import json
import re
import socket
import sys
import threading
import time

from harness import (Conn, Devnode, E, Error, Sidecar, check, encode, eq, info_field, key, main,
                     stop, test, wait_for)

CHANNEL = "norikv:topology"


def topology_cluster():
    # the cluster view (every shard with its leader): a move is a leader change in it
    return E.cluster("topology", "--view", "cluster")


def next_message(ps, timeout):
    """The next message (not a subscribe confirmation) within timeout seconds, or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = ps.get_message(timeout=max(0.01, deadline - time.monotonic()))
        if m is not None and m["type"] in ("message", "pmessage"):
            return m
    return None


def drain(ps):
    while ps.get_message(timeout=0.2) is not None:
        pass


def event_of(m):
    ev = json.loads(m["data"])
    for field in ("previous_epoch", "current_epoch", "added_nodes", "removed_nodes",
                  "leader_changes"):
        check(field in ev, "field %s in the event" % field, ev)
    return ev


def other_node(dn, shard):
    leader = int(dn.control("leader %d" % shard))
    return leader % len(dn.addrs) + 1


def wait_for_change(ps, dn, shard, node, what):
    """Messages until one says shard is now led by node; fails after 2 s."""
    deadline = time.monotonic() + 2.0
    seen = []
    while time.monotonic() < deadline:
        m = next_message(ps, deadline - time.monotonic())
        if m is None:
            break
        ev = event_of(m)
        seen.append(ev)
        for ch in ev["leader_changes"]:
            if ch["shard"] == shard and ch["new"] == dn.addrs[node - 1]:
                return m, ev
    check(False, "%s: a message saying shard %d is led by %s within 2 s" %
                (what, shard, dn.addrs[node - 1]), seen)


@test
def redis_py_pubsub_receives_a_move():
    dn, sc = topology_cluster()
    ps = sc.client().pubsub()
    try:
        ps.subscribe(CHANNEL)
        m = ps.get_message(timeout=5)
        eq((m["type"], m["channel"], m["data"]), ("subscribe", CHANNEL.encode(), 1),
           "the subscribe confirmation")
        drain(ps)
        shard = 17
        node = other_node(dn, shard)
        t0 = time.monotonic()
        dn.control("move %d %d" % (shard, node))
        m, ev = wait_for_change(ps, dn, shard, node, "after move")
        check(time.monotonic() - t0 < 2.0, "the message within 2 s", time.monotonic() - t0)
        eq(m["channel"], CHANNEL.encode(), "the message's channel")
        check(isinstance(ev["current_epoch"], int) and
              (ev["previous_epoch"] is None or ev["previous_epoch"] < ev["current_epoch"]),
              "previous_epoch < current_epoch", ev)
        check(re.fullmatch(rb'\{"previous_epoch":[0-9a-z]+,"current_epoch":\d+,"added_nodes":'
                           rb'\[.*\],"removed_nodes":\[.*\],"leader_changes":\[.*\]\}',
                           m["data"]) is not None, "compact JSON, fields in the documented order",
              m["data"][:200])
    finally:
        ps.close()


@test
def redis_py_psubscribe_receives_a_kill():
    dn, sc = E.cluster("topology-kill", "--view", "cluster")
    ps = sc.client().pubsub()
    try:
        ps.psubscribe("norikv:*")
        m = ps.get_message(timeout=5)
        eq((m["type"], m["data"]), ("psubscribe", 1), "the psubscribe confirmation")
        drain(ps)
        t0 = time.monotonic()
        dn.control("kill 3")
        gone = None
        while time.monotonic() - t0 < 2.0 and gone is None:
            m = next_message(ps, 2.0 - (time.monotonic() - t0))
            if m is None:
                break
            eq((m["type"], m["pattern"], m["channel"]), ("pmessage", b"norikv:*", CHANNEL.encode()),
               "a pmessage for the pattern")
            ev = event_of(m)
            if dn.addrs[2] in ev["removed_nodes"]:
                gone = ev
        check(gone is not None, "within 2 s of kill 3, a message naming %s removed" % dn.addrs[2],
              gone)
        check(any(ch["old"] == dn.addrs[2] for ch in gone["leader_changes"]),
              "the dead node's shards among the leader changes", gone["leader_changes"][:3])
        dn.control("revive 3")
        m = next_message(ps, 5.0)
        while m is not None and dn.addrs[2] not in event_of(m)["added_nodes"]:
            m = next_message(ps, 5.0)
        check(m is not None, "a message naming %s added after revive 3" % dn.addrs[2], m)
    finally:
        ps.close()


@test
def resp3_push_beside_replies():
    dn, sc = topology_cluster()
    k = key("push")
    with sc.conn() as c:
        hello = c.cmd("HELLO", "3")
        eq(hello.get("proto"), 3, "HELLO 3")
        c.send(encode("SUBSCRIBE", CHANNEL))
        eq(c.raw_reply_line(), b">3", "SUBSCRIBE confirmed by a push in RESP3")
        eq([c.reply(), c.reply(), c.reply()], [b"subscribe", CHANNEL.encode(), 1],
           "the confirmation")
        eq(c.cmd("SET", k, "v"), "OK", "SET on the subscribed RESP3 connection")
        shard = 33
        node = other_node(dn, shard)
        dn.control("move %d %d" % (shard, node))
        # commands keep being answered; the push comes in between, whole
        pushes, replies = [], []
        deadline = time.monotonic() + 2.0
        while not pushes and time.monotonic() < deadline:
            c.send(encode("GET", k))
            while True:
                line = c.raw_reply_line()
                if line.startswith(b">"):
                    pushes.append([c.reply() for _ in range(int(line[1:]))])
                    continue
                eq(line, b"$1", "the GET reply's header")
                replies.append(c._bytes(1))
                break
            time.sleep(0.05)
        check(pushes, "a push within 2 s of the move, among GET replies", replies)
        eq(pushes[0][:2], [b"message", CHANNEL.encode()], "the push")
        event_of({"data": pushes[0][2]})
        check(replies and all(r == b"v" for r in replies), "every GET answered v", replies)
        eq(c.cmd("GET", k), b"v", "GET after the push")


@test
def resp2_subscribe_mode():
    with E.sc.conn() as c:
        c.send(encode("SUBSCRIBE", CHANNEL, "e2e-other"))
        eq([c.reply(), c.reply()], [[b"subscribe", CHANNEL.encode(), 1],
                                    [b"subscribe", b"e2e-other", 2]], "SUBSCRIBE of two channels")
        r = c.cmd("GET", "x")
        eq(r, Error("ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / "
                    "QUIT / RESET are allowed in this context"), "GET in subscribe mode")
        eq(c.cmd("PING"), [b"pong", b""], "PING in subscribe mode")
        eq(c.cmd("PING", "hi"), [b"pong", b"hi"], "PING hi in subscribe mode")
        eq(c.cmd("PSUBSCRIBE", "norikv:*"), [b"psubscribe", b"norikv:*", 3], "PSUBSCRIBE")
        eq(c.cmd("PUNSUBSCRIBE"), [b"punsubscribe", b"norikv:*", 2], "PUNSUBSCRIBE (all)")
        c.send(encode("UNSUBSCRIBE"))
        got = [c.reply(), c.reply()]
        eq(sorted(m[1] for m in got), [b"e2e-other", CHANNEL.encode()],
           "UNSUBSCRIBE (all): one reply per channel")
        eq([(m[0], m[2]) for m in got], [(b"unsubscribe", 1), (b"unsubscribe", 0)],
           "UNSUBSCRIBE (all): the counts left")
        eq(c.cmd("UNSUBSCRIBE"), [b"unsubscribe", None, 0], "UNSUBSCRIBE with none left")
        eq(c.cmd("PING"), "PONG", "PING out of subscribe mode")
        eq(c.cmd("SUBSCRIBE", "x"), [b"subscribe", b"x", 1], "SUBSCRIBE again")
        eq(c.cmd("RESET"), "RESET", "RESET in subscribe mode")
        eq(c.cmd("GET", key("after-reset")), None, "GET after RESET: out of subscribe mode")


@test
def other_channels_publish_and_pubsub_introspection():
    dn, sc = topology_cluster()
    with sc.conn() as a, sc.conn() as b, sc.conn() as q:
        eq(a.cmd("SUBSCRIBE", CHANNEL), [b"subscribe", CHANNEL.encode(), 1], "a SUBSCRIBE")
        b.send(encode("SUBSCRIBE", CHANNEL, "e2e-quiet"))
        b.reply()
        b.reply()
        eq(a.cmd("PSUBSCRIBE", "norikv:*"), [b"psubscribe", b"norikv:*", 2], "a PSUBSCRIBE")
        eq(b.cmd("PSUBSCRIBE", "norikv:*"), [b"psubscribe", b"norikv:*", 3], "b PSUBSCRIBE")
        eq(sorted(q.cmd("PUBSUB", "CHANNELS")), [b"e2e-quiet", CHANNEL.encode()],
           "PUBSUB CHANNELS")
        eq(q.cmd("PUBSUB", "CHANNELS", "norikv:*"), [CHANNEL.encode()], "PUBSUB CHANNELS norikv:*")
        eq(q.cmd("PUBSUB", "NUMSUB", CHANNEL, "e2e-quiet", "nobody"),
           [CHANNEL.encode(), 2, b"e2e-quiet", 1, b"nobody", 0], "PUBSUB NUMSUB")
        eq(q.cmd("PUBSUB", "NUMPAT"), 1, "PUBSUB NUMPAT (one distinct pattern)")
        r = q.cmd("PUBLISH", "e2e-quiet", "hello")
        check(isinstance(r, Error) and r.startswith("ERR PUBLISH is not supported: NoriKV has no "
                                                    "pub/sub"), "PUBLISH refused", r)
        lst = q.cmd("CLIENT", "LIST").decode()
        check(re.search(r"flags=P .*sub=2 psub=1", lst), "CLIENT LIST: b with flags=P sub=2 "
              "psub=1", lst)
        # a move: a gets one message and one pmessage, b the same; nothing on e2e-quiet
        shard = 51
        dn.control("move %d %d" % (shard, other_node(dn, shard)))
        for name, conn in (("a", a), ("b", b)):
            got = [conn.reply(), conn.reply()]
            kinds = sorted(m[0] for m in got)
            eq(kinds, [b"message", b"pmessage"], "%s: a message and a pmessage" % name)
            check(all(CHANNEL.encode() in m for m in got), "both on norikv:topology", got)
        eq(a.cmd("UNSUBSCRIBE"), [b"unsubscribe", CHANNEL.encode(), 1], "a UNSUBSCRIBE")
        eq(a.cmd("PUNSUBSCRIBE"), [b"punsubscribe", b"norikv:*", 0], "a PUNSUBSCRIBE")
        eq(q.cmd("PUBSUB", "NUMSUB", CHANNEL), [CHANNEL.encode(), 1], "NUMSUB after a left")
        eq(q.cmd("GET", key("q")), None, "the querying connection is no subscriber")


@test
def subscribe_over_max_reply_subscribes_nothing():
    # A SUBSCRIBE whose confirmations would pass max_reply is refused before anything is
    # subscribed: the client told it failed is not subscribed all the same.
    sc = Sidecar("maxreply-sub-sidecar", E.dn, "--sidecar.max_reply=65536")
    try:
        names = ["maxreply-channel-%05d" % i for i in range(2000)]
        with sc.conn() as c, sc.conn() as o:
            e = c.cmd("SUBSCRIBE", *names)
            check(isinstance(e, Error) and e.startswith("ERR reply over max_reply"),
                  "SUBSCRIBE of 2000 channels with max_reply 64 KiB to be refused", str(e)[:200])
            eq(o.cmd("PUBSUB", "NUMSUB", names[0], names[-1]), [names[0].encode(), 0,
                                                                 names[-1].encode(), 0],
               "PUBSUB NUMSUB: nobody subscribed")
            eq(c.cmd("PING"), "PONG", "PING answered as outside subscribe mode")
            c.send(encode("SUBSCRIBE", *names[:100]))
            got = [c.reply() for _ in range(100)]
            eq(got[-1], [b"subscribe", names[99].encode(), 100],
               "SUBSCRIBE of 100: its last confirmation")
    finally:
        stop(sc.proc)


def control_many(dn, lines):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    try:
        s.connect(dn.ctl)
        s.sendall("".join(l + "\n" for l in lines).encode())
        data = b""
        while data.count(b"\n") < len(lines):
            d = s.recv(1 << 16)
            if not d:
                break
            data += d
    finally:
        s.close()
    check(data.count(b"OK") == len(lines), "every control command answered OK", data[-200:])


@test
def subscriber_that_never_reads_is_bounded():
    backlog = 65536
    dn = Devnode("bound-devnode", args=("--view", "cluster"))
    sc = Sidecar("bound-sidecar", dn, "--sidecar.reply_backlog=%d" % backlog)
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    reader = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # the reading subscriber reads on its own thread as fast as the socket gives, so it
    # never falls behind by reply_backlog however loaded the machine is
    stop_reading = threading.Event()
    got = {"bytes": 0, "eof": False}

    def read_all():
        reader.settimeout(0.2)
        while not stop_reading.is_set():
            try:
                d = reader.recv(1 << 16)
            except socket.timeout:
                continue
            if not d:
                got["eof"] = True
                return
            got["bytes"] += len(d)

    thread = threading.Thread(target=read_all, daemon=True)
    try:
        silent.connect(sc.sock)
        silent.sendall(encode("CLIENT", "SETNAME", "silent") + encode("SUBSCRIBE", CHANNEL))
        reader.connect(sc.sock)
        reader.sendall(encode("SUBSCRIBE", CHANNEL))
        thread.start()
        with sc.conn() as q:
            wait_for(lambda: "name=silent" in q.cmd("CLIENT", "LIST").decode() and
                     "sub=1" in q.cmd("CLIENT", "LIST").decode(), 5, "the silent subscriber")
            most = 0
            closed = False
            for round_ in range(40):
                control_many(dn, ["move %d %d" % (s, (s + round_) % 3 + 1) for s in range(1024)])
                lst = q.cmd("CLIENT", "LIST").decode()
                m = re.search(r"name=silent .*?omem=(\d+)", lst)
                if m is None:
                    closed = True
                    break
                most = max(most, int(m.group(1)))
                # its unsent output never grows past the backlog by more than one message
                # (a view change of 1024 shards is about 60 KB of JSON)
                check(most <= backlog + 80000, "the silent subscriber's omem bounded by "
                      "reply_backlog plus one message", most)
            check(closed, "the silent subscriber closed once over reply_backlog; its largest "
                  "omem seen", most)
            stats = q.cmd("INFO", "stats").decode()
            check(int(info_field(stats, "client_output_buffer_limit_disconnections") or 0) >= 1,
                  "INFO stats client_output_buffer_limit_disconnections >= 1", stats)
            # the sidecar serves on, and the reading subscriber still gets messages
            eq(q.cmd("PING"), "PONG", "PING after the storm")
            stop_reading.set()
            thread.join(5)
            check(not got["eof"] and got["bytes"] > 0, "the reading subscriber served through "
                  "the storm and not closed", got)
            reader.settimeout(0.3)
            try:
                while reader.recv(1 << 16):
                    pass
            except socket.timeout:
                pass
            dn.control("move 7 %d" % other_node(dn, 7))
            reader.settimeout(2.0)
            after = b""
            while b"message" not in after:
                d = reader.recv(1 << 16)
                check(d, "the reading subscriber still served after the storm", after)
                after += d
        # what was sent before the close can still be read, then the connection ends
        silent.settimeout(10)
        total = 0
        while True:
            d = silent.recv(1 << 16)
            if not d:
                break
            total += len(d)
        check(total > 0, "the silent subscriber's socket ends after what was sent", total)
    finally:
        silent.close()
        reader.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
