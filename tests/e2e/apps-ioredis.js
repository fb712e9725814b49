// Everyday app patterns through ioredis 6 against a running norikv-sidecar that stores
// strings in the typed format: node tests/e2e/apps-ioredis.js SOCKET
//
// A session store with a sliding TTL, a hash-backed object store, a leaderboard on a
// sorted set and a work queue on a list, as an app writes them with ioredis. Prints one
// line per test and `N passed, M failed`; exit status 1 on a failure.
"use strict";

const path = require("path");
const assert = require("assert");
const { run } = require("./runner.js");

const sock = process.argv[2];
if (!sock) {
  console.error("usage: node tests/e2e/apps-ioredis.js SOCKET");
  process.exit(2);
}
const modules = process.env.NORIKV_JS_MODULES || path.join(__dirname, "..", "js", "node_modules");
const Redis = require(require.resolve("ioredis", { paths: [modules] }));
const version = require(require.resolve("ioredis/package.json", { paths: [modules] })).version;

const RUN = Math.random().toString(16).slice(2, 10);
const key = (name) => `e2e:apps-ioredis:${RUN}:${name}`;
const clients = [];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function client() {
  const r = new Redis({ path: sock, connectTimeout: 5000, commandTimeout: 10000,
                        maxRetriesPerRequest: 1, retryStrategy: () => null });
  r.on("error", () => {});
  clients.push(r);
  return r;
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test("session store: SET EX, sliding EXPIRE, TTL, expiry", async () => {
  const r = client();
  const k = key("session");
  const session = JSON.stringify({ user: 42, roles: ["admin"] });
  assert.strictEqual(await r.set(k, session, "EX", 60), "OK");
  assert.strictEqual(await r.get(k), session);
  const ttl = await r.ttl(k);
  assert.ok(ttl > 55 && ttl <= 60, `TTL ${ttl} of a 60 s session`);
  assert.strictEqual(await r.expire(k, 1), 1, "sliding the expiry");
  assert.ok((await r.pttl(k)) <= 1000, "PTTL after EXPIRE 1");
  // a touch that rewrites the value keeps the TTL (typed strings)
  assert.strictEqual(await r.set(k, session + " ", "KEEPTTL"), "OK");
  assert.ok((await r.pttl(k)) > 0, "KEEPTTL kept the TTL");
  await sleep(1200);
  assert.strictEqual(await r.get(k), null, "the session expired");
  assert.strictEqual(await r.exists(k), 0);
});

test("object store: HSET, HGETALL, HINCRBY, HDEL, HEXISTS", async () => {
  const r = client();
  const k = key("user:1");
  assert.strictEqual(await r.hset(k, { name: "Ada", email: "ada@example.org", visits: 0 }), 3);
  assert.deepStrictEqual(await r.hgetall(k), { name: "Ada", email: "ada@example.org",
                                                visits: "0" });
  assert.strictEqual(await r.hincrby(k, "visits", 5), 5);
  assert.strictEqual(await r.hdel(k, "email"), 1);
  assert.strictEqual(await r.hexists(k, "email"), 0);
  assert.deepStrictEqual(await r.hmget(k, "name", "visits", "nope"), ["Ada", "5", null]);
  assert.strictEqual(await r.type(k), "hash");
  assert.strictEqual(await r.expire(k, 100), 1);
  const ttl = await r.ttl(k);
  assert.ok(ttl > 95 && ttl <= 100, `the hash's TTL ${ttl}`);
});

test("leaderboard: ZADD, ZINCRBY, ZREVRANGE WITHSCORES, ZREVRANK, ZSCORE", async () => {
  const r = client();
  const k = key("board");
  assert.strictEqual(await r.zadd(k, 10, "ann", 25, "bob", 17, "cid"), 3);
  assert.strictEqual(await r.zincrby(k, 20, "ann"), "30");
  assert.deepStrictEqual(await r.zrevrange(k, 0, 1, "WITHSCORES"), ["ann", "30", "bob", "25"]);
  assert.strictEqual(await r.zrevrank(k, "cid"), 2);
  assert.strictEqual(await r.zscore(k, "bob"), "25");
  assert.strictEqual(await r.zcard(k), 3);
  // many players at once: every increment lands
  const rs = [client(), client(), client(), client()];
  await Promise.all(rs.flatMap((c, i) => Array.from({ length: 25 }, () => c.zincrby(k, 1, `p${i}`))));
  for (let i = 0; i < 4; i++) assert.strictEqual(await r.zscore(k, `p${i}`), "25");
});

test("work queue: RPUSH by producers, LPOP by consumers, each item once", async () => {
  const k = key("queue");
  const producers = [client(), client()];
  const consumers = [client(), client(), client()];
  await Promise.all(producers.map((p, i) => (async () => {
    for (let j = 0; j < 50; j++) await p.rpush(k, `job-${i}-${j}`);
  })()));
  assert.strictEqual(await producers[0].llen(k), 100);
  const all = await producers[0].lrange(k, 0, -1);
  assert.strictEqual(new Set(all).size, 100, "LRANGE 0 -1 holds every job once");
  // each producer's jobs in the order it pushed them
  for (let i = 0; i < 2; i++) {
    const mine = all.filter((x) => x.startsWith(`job-${i}-`));
    assert.deepStrictEqual(mine, Array.from({ length: 50 }, (_, j) => `job-${i}-${j}`));
  }
  const got = [];
  await Promise.all(consumers.map((c) => (async () => {
    for (;;) {
      const item = await c.lpop(k);
      if (item === null) return;
      got.push(item);
    }
  })()));
  assert.strictEqual(got.length, 100, "every job consumed");
  assert.strictEqual(new Set(got).size, 100, "no job consumed twice");
  assert.strictEqual(await producers[0].exists(k), 0, "the empty list is gone");
});

run(`ioredis ${version} app patterns against ${sock}`, tests, () => {
  while (clients.length) clients.pop().disconnect();
});
