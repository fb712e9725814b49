#!/usr/bin/python3
"""Two sidecars racing INCR on one key (a measurement, not a test).

Starts a cluster (NoriKV's own server when NORIKV_SERVER names its binary, one node, as
tests/e2e/harness.py starts it; else the devnode, on its real profile with the server's
timings), two norikv-sidecars in front of it, and RACE_CLIENTS connections on each that
INCR one key until RACE_INCRS increments were acknowledged in all. Then it reads the key
and prints what was acknowledged, what the key holds and the increments lost per 10,000.

Each sidecar runs one key's INCRs one at a time (a read, then a Put conditional on the
version read), so one sidecar alone loses none. Two sidecars race: the server checks a
Put's if_match when the call arrives and applies it on its next 150 ms commit tick, so two
conditional Puts on one version can both succeed, and the later one's value (the same
count + 1) replaces the earlier one's: an increment lost (README, "NoriKV server behaviours
the sidecar works around").

Run from the build directory: tests/bench/incr_race.py (RACE_INCRS, default 1000;
RACE_CLIENTS, default 4).
"""

import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import harness as H  # noqa: E402

INCRS = int(os.environ.get("RACE_INCRS", "1000"))
CLIENTS = int(os.environ.get("RACE_CLIENTS", "4"))


def main():
    H._tmp = tempfile.mkdtemp(prefix="norikv-incr-race.")
    try:
        # the devnode's real profile with its timings, or the server itself
        dn = H.Devnode("race", 1, () if H.SERVER else ("--profile", "real"))
        sides = [H.Sidecar("race-%d" % i, dn) for i in range(2)]
        key = "incr-race:%s" % H.RUN
        acked = [0] * (2 * CLIENTS)
        errors = [0] * (2 * CLIENTS)
        budget = threading.Semaphore(INCRS)

        def worker(slot, sc):
            r = sc.client(socket_timeout=60)
            while budget.acquire(blocking=False):
                try:
                    r.incr(key)
                    acked[slot] += 1
                except Exception:
                    errors[slot] += 1
            r.close()

        t0 = time.monotonic()
        threads = [threading.Thread(target=worker, args=(i, sides[i % 2]))
                   for i in range(2 * CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        secs = time.monotonic() - t0
        final = int(sides[0].client().get(key) or 0)
        a, e = sum(acked), sum(errors)
        lost = a - final
        print("incr_race: %s; 2 sidecars x %d connections, %d INCRs on one key in %.1f s" % (
            "norikv-server %s" % H.SERVER if H.SERVER else "norikv-devnode --profile real",
            CLIENTS, INCRS, secs))
        print("  acknowledged %d, failed %d, the key holds %d: %d lost, %.0f per 10,000 "
              "acknowledged" % (a, e, final, lost, 10000.0 * lost / a if a else 0))
    finally:
        H.cleanup()


if __name__ == "__main__":
    main()
