// Everyday app patterns through node-redis 5 against a running norikv-sidecar that stores
// strings in the typed format: node tests/e2e/apps-node-redis.js SOCKET
//
// A session store with a sliding TTL, a hash-backed object store, a leaderboard on a
// sorted set and a work queue on a list, as an app writes them with node-redis (RESP3).
// Prints one line per test and `N passed, M failed`; exit status 1 on a failure.
"use strict";

const path = require("path");
const assert = require("assert");
const { withTimeout, run } = require("./runner.js");

const sock = process.argv[2];
if (!sock) {
  console.error("usage: node tests/e2e/apps-node-redis.js SOCKET");
  process.exit(2);
}
const modules = process.env.NORIKV_JS_MODULES || path.join(__dirname, "..", "js", "node_modules");
const { createClient } = require(require.resolve("redis", { paths: [modules] }));
const version = require(require.resolve("redis/package.json", { paths: [modules] })).version;

const RUN = Math.random().toString(16).slice(2, 10);
const key = (name) => `e2e:apps-node-redis:${RUN}:${name}`;
const clients = [];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function client() {
  const c = createClient({ socket: { path: sock, connectTimeout: 5000, reconnectStrategy: false },
                           RESP: 3 });
  c.on("error", () => {});
  clients.push(c);
  await withTimeout(c.connect(), 10000, "connect");
  return c;
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test("session store: SET EX, sliding EXPIRE, TTL, expiry", async () => {
  const r = await client();
  const k = key("session");
  const session = JSON.stringify({ user: 7 });
  assert.strictEqual(await r.set(k, session, { EX: 60 }), "OK");
  assert.strictEqual(await r.get(k), session);
  const ttl = await r.ttl(k);
  assert.ok(ttl > 55 && ttl <= 60, `TTL ${ttl} of a 60 s session`);
  assert.strictEqual(await r.pExpire(k, 800), 1, "sliding the expiry");
  assert.ok((await r.pTTL(k)) <= 800, "PTTL after PEXPIRE 800");
  assert.strictEqual(await r.getEx(k, { PX: 900 }), session, "GETEX refreshes it");
  await sleep(1100);
  assert.strictEqual(await r.get(k), null, "the session expired");
});

test("object store: hSet, hGetAll, hIncrBy, hDel", async () => {
  const r = await client();
  const k = key("cart:9");
  assert.strictEqual(await r.hSet(k, { apples: "3", pears: "1" }), 2);
  assert.strictEqual(await r.hIncrBy(k, "apples", 2), 5);
  assert.strictEqual(await r.hDel(k, "pears"), 1);
  const all = await r.hGetAll(k);
  assert.deepStrictEqual({ ...all }, { apples: "5" });
  assert.strictEqual(await r.hLen(k), 1);
  assert.strictEqual(await r.type(k), "hash");
});

test("leaderboard: zAdd, zIncrBy, zRangeWithScores REV, zRank", async () => {
  const r = await client();
  const k = key("board");
  assert.strictEqual(await r.zAdd(k, [{ score: 3, value: "x" }, { score: 9, value: "y" },
                                     { score: 5, value: "z" }]), 3);
  assert.strictEqual(await r.zIncrBy(k, 10, "x"), 13);
  assert.deepStrictEqual(await r.zRangeWithScores(k, 0, -1, { REV: true }),
                         [{ value: "x", score: 13 }, { value: "y", score: 9 },
                          { value: "z", score: 5 }]);
  assert.strictEqual(await r.zRank(k, "z"), 0);
  assert.strictEqual(await r.zScore(k, "y"), 9);
});

test("work queue: rPush by producers, lPop by consumers, each item once", async () => {
  const k = key("queue");
  const p = await client();
  const cs = [await client(), await client()];
  for (let j = 0; j < 60; j++) await p.rPush(k, `job-${j}`);
  assert.strictEqual(await p.lLen(k), 60);
  const got = [];
  await Promise.all(cs.map((c) => (async () => {
    for (;;) {
      const items = await c.lPopCount(k, 7);
      if (items === null || items.length === 0) return;
      got.push(...items);
    }
  })()));
  assert.strictEqual(got.length, 60, "every job consumed");
  assert.strictEqual(new Set(got).size, 60, "no job consumed twice");
  assert.strictEqual(await p.exists(k), 0, "the empty list is gone");
});

run(`node-redis ${version} app patterns against ${sock}`, tests, () => {
  while (clients.length) {
    const c = clients.pop();
    try {
      c.destroy();
    } catch (e) {
      // already closed
    }
  }
});
