#!/usr/bin/python3
"""Chaos measurement (not a test): how often a write is applied twice, or applied and then
answered VERSIONMISMATCH, when replies are lost and shard leaders die.

It starts a three-node norikv-devnode (--profile real by default: one idempotency cache and
one cluster view per node, as the real server; --election-ms 300; a control socket) and one
norikv-sidecar on a Unix socket in a temporary directory, sets `lose-reply 0.05` for the
whole run and starts a chaos thread that, every 2 s, asks the sidecar for a random key's
shard (NORI.SHARD), asks the devnode which node leads it (`leader S`), kills that node and
revives it 1 s later. Then, in two phases:

  1. SETs, CHAOS_SECONDS (default 60): 8 redis-py clients each run
     `SET chaos:<thread>:<n> <unique value>` in a loop, counting acknowledged and failed
     SETs. Every value is unique, so the devnode's `duplicate_applies` counts SETs applied
     twice.
  2. Conditional writes, CHAOS_CAS_SECONDS (default half of CHAOS_SECONDS): 4 clients, one
     key each, read the key's version (`NORI.GET key CONSISTENCY linearizable`) and write a
     unique value with `NORI.PUT key value IFMATCH term index`. No one else writes these
     keys, so a -VERSIONMISMATCH can only come from the write's own retry: the key is read
     again and, if it holds the value this very write tried to set, the write was applied
     yet answered VERSIONMISMATCH.

At the end it prints one table (the clients' counts and the devnode's `stats`, per phase)
and the error replies seen. Everything it starts is stopped on any exit; loopback and a
temporary directory only; the run is bounded by a watchdog.

Run from the build directory (binaries from NORIKV_DEVNODE and NORIKV_SIDECAR, default
./norikv-devnode and ./norikv-sidecar; Debian's python3 with python3-redis):

    CHAOS_SECONDS=120 tests/bench/chaos.py

CHAOS_DEVNODE_ARGS (default "--profile real") replaces the devnode's profile arguments;
CHAOS_SEED seeds the chaos thread's choices (default: from the clock); CHAOS_LOSE_RATE
replaces 0.05; CHAOS_ACTION=move moves the shard's leadership to another node (control:
`move S N`) instead of killing its leader, a leader change with every node up (the case
where a write retried on its first node is answered from that node's cache).
"""

import collections
import os
import random
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "e2e"))
import harness as H  # noqa: E402  (exits 77 when python3-redis is missing)
import redis  # noqa: E402

SECONDS = float(os.environ.get("CHAOS_SECONDS", "60"))
CAS_SECONDS = float(os.environ.get("CHAOS_CAS_SECONDS", str(max(5.0, SECONDS / 2))))
DEVNODE_ARGS = shlex.split(os.environ.get("CHAOS_DEVNODE_ARGS", "--profile real"))
SEED = int(os.environ.get("CHAOS_SEED", str(int(time.time() * 1000) & 0xffffffff)))
SET_THREADS = 8
CAS_THREADS = 4
CHAOS_EVERY = 2.0  # seconds between kills
DOWN_FOR = 1.0  # seconds a killed node stays down
LOSE_RATE = float(os.environ.get("CHAOS_LOSE_RATE", "0.05"))
ACTION = os.environ.get("CHAOS_ACTION", "kill")  # kill (and revive) the leader, or move
WATCHDOG = SECONDS + CAS_SECONDS + 180  # the whole run, at most

stop_sets = threading.Event()
stop_cas = threading.Event()
stop_chaos = threading.Event()


def norm(msg):
    """An error text with its numbers and addresses folded, to group like errors."""
    msg = re.sub(r"127\.0\.0\.1:\d+", "ADDR", msg)
    msg = re.sub(r"\d+", "N", msg)
    return msg[:160]


class SetWorker(threading.Thread):
    def __init__(self, sc, idx):
        super().__init__(name="set-%d" % idx, daemon=True)
        self.sc, self.idx = sc, idx
        self.n = 0
        self.acked = 0
        self.failed = 0
        self.errors = collections.Counter()
        self.crash = None

    def run(self):
        try:
            c = self.sc.client(socket_timeout=30)
            while not stop_sets.is_set():
                self.n += 1
                k = "chaos:%d:%d" % (self.idx, self.n)
                v = "%s:%d:%d" % (H.RUN, self.idx, self.n)
                try:
                    r = c.set(k, v)
                    if r is True:
                        self.acked += 1
                    else:
                        self.failed += 1
                        self.errors["unexpected reply %r" % (r,)] += 1
                except redis.ResponseError as e:
                    self.failed += 1
                    self.errors[norm(str(e))] += 1
                except (redis.ConnectionError, redis.TimeoutError) as e:
                    self.failed += 1
                    self.errors["client: %s" % norm(str(e))] += 1
                    if stop_sets.is_set():
                        break
                    time.sleep(0.1)
        except Exception as e:  # noqa: BLE001  (reported, not hidden)
            self.crash = repr(e)


class CasWorker(threading.Thread):
    def __init__(self, sc, idx):
        super().__init__(name="cas-%d" % idx, daemon=True)
        self.sc, self.idx = sc, idx
        self.key = "chaos:cas:%d" % idx
        self.n = 0
        self.tried = 0
        self.ok = 0
        self.mismatch = 0
        self.mismatch_applied = 0
        self.mismatch_unknown = 0  # the read after the mismatch failed
        self.failed = 0
        self.read_failed = 0
        self.errors = collections.Counter()
        self.crash = None

    def read(self, c, attempts=1):
        """[value, term, index] or None, read linearizably; raises after `attempts` errors."""
        for i in range(attempts):
            try:
                return c.execute_command("NORI.GET", self.key, "CONSISTENCY", "linearizable")
            except (redis.ResponseError, redis.ConnectionError, redis.TimeoutError):
                if i + 1 == attempts:
                    raise
                time.sleep(0.2)

    def run(self):
        try:
            c = self.sc.client(socket_timeout=30)
            while not stop_cas.is_set():
                try:
                    cur = self.read(c)
                except (redis.ResponseError, redis.ConnectionError, redis.TimeoutError) as e:
                    self.read_failed += 1
                    self.errors["read: %s" % norm(str(e))] += 1
                    time.sleep(0.1)
                    continue
                self.n += 1
                v = "%s:cas:%d:%d" % (H.RUN, self.idx, self.n)
                if cur is None:  # first write of the key: nothing to match
                    try:
                        c.execute_command("NORI.PUT", self.key, v)
                    except (redis.ResponseError, redis.ConnectionError, redis.TimeoutError):
                        time.sleep(0.1)
                    continue
                _, term, index = cur
                self.tried += 1
                try:
                    c.execute_command("NORI.PUT", self.key, v, "IFMATCH", term, index)
                    self.ok += 1
                except redis.ResponseError as e:
                    if not str(e).startswith("VERSIONMISMATCH"):
                        self.failed += 1
                        self.errors[norm(str(e))] += 1
                        continue
                    self.mismatch += 1
                    try:
                        after = self.read(c, attempts=25)
                    except (redis.ResponseError, redis.ConnectionError, redis.TimeoutError):
                        self.mismatch_unknown += 1
                        continue
                    if after is not None and after[0] == v.encode():
                        self.mismatch_applied += 1
                except (redis.ConnectionError, redis.TimeoutError) as e:
                    self.failed += 1
                    self.errors["client: %s" % norm(str(e))] += 1
                    time.sleep(0.1)
        except Exception as e:  # noqa: BLE001
            self.crash = repr(e)


class Chaos(threading.Thread):
    """Every CHAOS_EVERY s: kill the node leading a random key's shard, revive it DOWN_FOR s
    later. A node it killed is always revived before it ends."""

    def __init__(self, dn, sc, set_workers):
        super().__init__(name="chaos", daemon=True)
        self.dn, self.sc, self.set_workers = dn, sc, set_workers
        self.rng = random.Random(SEED)
        self.kills = 0
        self.revives = 0
        self.skipped = 0  # shard without a leader (electing) or NORI.SHARD failed
        self.errors = collections.Counter()
        self.down = None
        self.crash = None

    def random_key(self):
        w = self.rng.choice(self.set_workers)
        if self.rng.random() < 0.2:
            return "chaos:cas:%d" % self.rng.randrange(CAS_THREADS)
        return "chaos:%d:%d" % (w.idx, self.rng.randint(1, max(1, w.n)))

    def revive(self):
        deadline = time.monotonic() + 15
        while True:
            try:
                self.dn.control("revive %d" % self.down)
                self.revives += 1
                self.down = None
                return
            except (H.Fail, OSError) as e:
                if time.monotonic() > deadline:
                    self.errors["revive: %s" % norm(str(e))] += 1
                    return
                time.sleep(0.1)

    def run(self):
        try:
            c = self.sc.client(socket_timeout=10)
            nxt = time.monotonic() + CHAOS_EVERY
            while not stop_chaos.wait(max(0.0, nxt - time.monotonic())):
                nxt += CHAOS_EVERY
                try:
                    shard = int(c.execute_command("NORI.SHARD", self.random_key())[0])
                    leader = int(self.dn.control("leader %d" % shard))
                except (redis.RedisError, H.Fail, OSError, ValueError) as e:
                    self.skipped += 1
                    self.errors["pick: %s" % norm(str(e))] += 1
                    continue
                if leader == 0:
                    self.skipped += 1
                    continue
                if ACTION == "move":
                    to = self.rng.choice([n for n in range(1, len(self.dn.addrs) + 1)
                                          if n != leader])
                    try:
                        self.dn.control("move %d %d" % (shard, to))
                        self.kills += 1
                    except (H.Fail, OSError) as e:
                        self.errors["move: %s" % norm(str(e))] += 1
                    continue
                try:
                    self.dn.control("kill %d" % leader)
                except (H.Fail, OSError) as e:
                    self.errors["kill: %s" % norm(str(e))] += 1
                    continue
                self.kills += 1
                self.down = leader
                stop_chaos.wait(DOWN_FOR)
                self.revive()
        except Exception as e:  # noqa: BLE001
            self.crash = repr(e)
        finally:
            if self.down is not None:
                self.revive()


def stop_all():
    """Stops every process started here, by process group (each runs in its own session):
    SIGTERM, then SIGKILL after 5 s; then removes the temporary directory."""
    procs = list(reversed(H._procs))  # the sidecar before the devnode
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 5
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(5)
    H.cleanup()  # the rest of the harness's list (none) and the temporary directory


def sleep_reporting(seconds, what, report):
    end = time.monotonic() + seconds
    nxt = time.monotonic() + 10
    while True:
        now = time.monotonic()
        if now >= end:
            return
        time.sleep(min(end, nxt) - now)
        if time.monotonic() >= nxt and time.monotonic() < end:
            sys.stderr.write("chaos.py: %s, %.0f s left: %s\n" % (what, end - time.monotonic(),
                                                                   report()))
            nxt += 10


def join_all(threads, timeout):
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    return [t.name for t in threads if t.is_alive()]


def table(rows):
    w0 = max(len(r[0]) for r in rows)
    w1 = max([len("value")] + [len(str(r[1])) for r in rows])
    lines = ["| %-*s | %*s |" % (w0, "measure", w1, "value"),
             "|%s|%s|" % ("-" * (w0 + 2), "-" * (w1 + 2))]
    lines += ["| %-*s | %*s |" % (w0, r[0], w1, r[1]) for r in rows]
    return "\n".join(lines)


def on_alarm(signum, frame):
    raise H.Interrupted("the watchdog (%d s)" % WATCHDOG)


def main():
    if ACTION not in ("kill", "move"):
        sys.stderr.write("chaos.py: CHAOS_ACTION must be kill or move\n")
        return 2
    for b in (H.DEVNODE, H.SIDECAR):
        if not os.access(b, os.X_OK):
            sys.stderr.write("chaos.py: %s is missing: build first, or set NORIKV_DEVNODE and "
                             "NORIKV_SIDECAR\n" % b)
            return 1
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, H._on_signal)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(WATCHDOG))
    H._tmp = tempfile.mkdtemp(prefix="norikv-chaos.")
    threads = []
    try:
        devnode_args = ["--election-ms", "300"] + DEVNODE_ARGS
        dn = H.Devnode("devnode", 3, devnode_args)
        sc = H.Sidecar("sidecar", dn)
        sys.stderr.write("chaos.py: devnode %s %s (%s), sidecar %s on %s; seed %d; %g s of "
                         "SETs, %g s of conditional writes\n" % (
                             H.DEVNODE, " ".join(devnode_args), dn.nodes, H.SIDECAR, sc.sock,
                             SEED, SECONDS, CAS_SECONDS))
        dn.control("lose-reply %g" % LOSE_RATE)
        start = dn.stats()

        sets = [SetWorker(sc, i) for i in range(SET_THREADS)]
        chaos = Chaos(dn, sc, sets)
        threads = sets + [chaos]
        for t in threads:
            t.start()
        sleep_reporting(SECONDS, "SETs", lambda: "%d acknowledged, %d failed, %d kills" % (
            sum(w.acked for w in sets), sum(w.failed for w in sets), chaos.kills))
        stop_sets.set()
        stuck = join_all(sets, 40)
        mid = dn.stats()

        cas = [CasWorker(sc, i) for i in range(CAS_THREADS)]
        threads += cas
        for t in cas:
            t.start()
        sleep_reporting(CAS_SECONDS, "conditional writes",
                        lambda: "%d tried, %d VERSIONMISMATCH, %d of them applied" % (
                            sum(w.tried for w in cas), sum(w.mismatch for w in cas),
                            sum(w.mismatch_applied for w in cas)))
        stop_cas.set()
        stuck += join_all(cas, 60)
        stop_chaos.set()
        stuck += join_all([chaos], 30)
        end = dn.stats()
        sidecar_alive = sc.alive()
        signal.alarm(0)

        def d(a, b, k):
            return b.get(k, 0) - a.get(k, 0)

        S = lambda k: sum(getattr(w, k) for w in sets)  # noqa: E731
        C = lambda k: sum(getattr(w, k) for w in cas)  # noqa: E731
        rows = [
            ("SETs acknowledged", S("acked")),
            ("SETs failed (error reply or client error)", S("failed")),
            ("SET phase: applied twice (devnode duplicate_applies)",
             d(start, mid, "duplicate_applies")),
            ("SET phase: puts_applied", d(start, mid, "puts_applied")),
            ("SET phase: idempotent_replays", d(start, mid, "idempotent_replays")),
            ("SET phase: replies_lost", d(start, mid, "replies_lost")),
            ("conditional writes tried (NORI.PUT IFMATCH)", C("tried")),
            ("conditional writes acknowledged", C("ok")),
            ("conditional writes answered VERSIONMISMATCH", C("mismatch")),
            ("... of which applied (applied, answered VERSIONMISMATCH)", C("mismatch_applied")),
            ("... of which not checked (the read after it failed)", C("mismatch_unknown")),
            ("conditional writes failed otherwise", C("failed")),
            ("CAS phase: duplicate_applies", d(mid, end, "duplicate_applies")),
            ("CAS phase: puts_applied", d(mid, end, "puts_applied")),
            ("CAS phase: idempotent_replays", d(mid, end, "idempotent_replays")),
            ("CAS phase: replies_lost", d(mid, end, "replies_lost")),
            ("leader kills (each revived %g s later)" % DOWN_FOR if ACTION == "kill"
             else "leader moves", chaos.kills),
        ]
        print()
        print("norikv-sidecar chaos run: %s; sidecar %s; devnode %s %s; %g s SETs x %d "
              "clients, %g s conditional writes x %d clients; lose-reply %g; %s a leader "
              "every %g s; seed %d" % (
                  time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime()), H.SIDECAR, H.DEVNODE,
                  " ".join(devnode_args), SECONDS, SET_THREADS, CAS_SECONDS, CAS_THREADS,
                  LOSE_RATE, ACTION, CHAOS_EVERY, SEED))
        print()
        print(table(rows))
        errs = collections.Counter()
        for w in sets:
            errs.update({"SET: " + k: v for k, v in w.errors.items()})
        for w in cas:
            errs.update({"CAS: " + k: v for k, v in w.errors.items()})
        errs.update({"chaos: " + k: v for k, v in chaos.errors.items()})
        if errs:
            print()
            print("Errors (numbers and addresses folded):")
            for k, v in errs.most_common(20):
                print("  %6d  %s" % (v, k))
        notes = ["%s crashed: %s" % (t.name, t.crash) for t in threads if t.crash]
        notes += ["%s still running at the end" % n for n in stuck]
        notes += ["chaos skipped %d rounds (no leader or NORI.SHARD failed)" % chaos.skipped] \
            if chaos.skipped else []
        notes += [] if sidecar_alive else ["the sidecar exited during the run"]
        if notes:
            print()
            for n in notes:
                print("note: " + n)
        return 0
    except H.Interrupted as e:
        sys.stderr.write("chaos.py: interrupted by %s\n" % e)
        return 130
    finally:
        signal.alarm(0)
        stop_sets.set()
        stop_cas.set()
        stop_chaos.set()
        stop_all()


if __name__ == "__main__":
    sys.exit(main())
