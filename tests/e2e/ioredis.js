// ioredis 6 against a running norikv-sidecar: node tests/ioredis.js SOCKET
//
// ioredis 6 opens every connection with HELLO 3 (its default `protocol: 3`), then
// CLIENT SETINFO, then the INFO ready check (enableReadyCheck). This checks that path and
// the RESP2 one (`protocol: 2`), commands, a 500-command pipeline, multi() on one key and on
// two (refused with EXECABORT), and errors. Prints one line per test and `N passed, M failed`;
// exit status 1 on a failure.
"use strict";

const path = require("path");
const assert = require("assert");
const { withTimeout, run } = require("./runner.js");

const sock = process.argv[2];
if (!sock) {
  console.error("usage: node tests/ioredis.js SOCKET");
  process.exit(2);
}
const modules = process.env.NORIKV_JS_MODULES || path.join(__dirname, "..", "js", "node_modules");
const Redis = require(require.resolve("ioredis", { paths: [modules] }));
const { ReplyError } = require(require.resolve("redis-errors", { paths: [modules] }));
const version = require(require.resolve("ioredis/package.json", { paths: [modules] })).version;

const RUN = Math.random().toString(16).slice(2, 10);
const key = (name) => `e2e:js:${RUN}:${name}`;
const clients = [];

// Every client: no reconnect loop, bounded connect and command times.
function client(extra = {}) {
  const r = new Redis({
    path: sock,
    enableReadyCheck: true,
    connectTimeout: 5000,
    commandTimeout: 10000,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
    lazyConnect: true,
    ...extra,
  });
  r.on("error", () => {}); // reported through the promises
  clients.push(r);
  return r;
}

// Connects and waits for "ready" (after the handshake and the INFO ready check).
async function ready(r) {
  await withTimeout(r.connect(), 10000, "connect and ready check");
  assert.strictEqual(r.status, "ready", "status after connect");
  return r;
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

// ---- the tests ----

test("default connection sends HELLO 3 and passes the INFO ready check", async () => {
  const r = client();
  const sent = [];
  const orig = r.sendCommand.bind(r);
  r.sendCommand = (cmd, stream) => {
    sent.push(String(cmd.name).toLowerCase());
    return orig(cmd, stream);
  };
  await ready(r);
  assert.ok(sent.includes("hello"), `HELLO among the handshake commands: ${sent}`);
  assert.ok(sent.includes("info"), `INFO (the ready check) sent: ${sent}`);
  const info = await r.client("INFO");
  assert.match(String(info), /resp=3/, "the connection on RESP3");
  assert.match(String(info), /lib-name=ioredis/, "CLIENT SETINFO LIB-NAME taken");
  assert.strictEqual(await r.ping(), "PONG");
});

test("RESP2 connection (protocol: 2) passes the ready check", async () => {
  const r = await ready(client({ protocol: 2 }));
  const info = String(await r.client("INFO"));
  assert.match(info, /resp=2/, "the connection on RESP2");
  assert.strictEqual(await r.ping(), "PONG");
});

for (const protocol of [3, 2]) {
  test(`set/get, missing key, binary value (RESP${protocol})`, async () => {
    const r = await ready(client({ protocol }));
    assert.strictEqual(await r.set(key("a" + protocol), "hello"), "OK");
    assert.strictEqual(await r.get(key("a" + protocol)), "hello");
    assert.strictEqual(await r.get(key("missing")), null, "GET of a missing key");
    const bin = Buffer.from([0, 13, 10, 255, 0, 36, 42]);
    await r.set(key("bin" + protocol), bin);
    assert.deepStrictEqual(await r.getBuffer(key("bin" + protocol)), bin, "binary value");
    assert.deepStrictEqual(await r.mget(key("a" + protocol), key("missing")), ["hello", null]);
    assert.strictEqual(await r.exists(key("a" + protocol), key("missing")), 1);
    assert.strictEqual(await r.del(key("a" + protocol), key("missing")), 1);
    assert.strictEqual(await r.call("NORI.CONSISTENCY"), "lease");
  });
}

test("SET with EX, then the key expires", async () => {
  const r = await ready(client());
  assert.strictEqual(await r.set(key("ex"), "v", "PX", 300), "OK");
  assert.strictEqual(await r.get(key("ex")), "v");
  await new Promise((res) => setTimeout(res, 600));
  assert.strictEqual(await r.get(key("ex")), null, "GET after the expiry");
});

for (const protocol of [3, 2]) {
  test(`pipeline of 500 mixed commands replies in order (RESP${protocol})`, async () => {
    const r = await ready(client({ protocol }));
    const keys = Array.from({ length: 60 }, (_, i) => key(`p${protocol}-${i}`));
    await r.del(...keys);
    const model = new Map();
    const want = [];
    const p = r.pipeline();
    let seed = 12345;
    const rnd = (n) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
    for (let i = 0; i < 500; i++) {
      const k = keys[rnd(keys.length)];
      switch (rnd(8)) {
        case 0: case 1: case 2: {
          const v = `v${i}`;
          p.set(k, v);
          model.set(k, v);
          want.push([`SET ${k}`, "OK"]);
          break;
        }
        case 3: case 4: case 5:
          p.get(k);
          want.push([`GET ${k}`, model.has(k) ? model.get(k) : null]);
          break;
        case 6: {
          const ks = [keys[rnd(keys.length)], keys[rnd(keys.length)], k];
          p.mget(...ks);
          want.push([`MGET ${ks}`, ks.map((x) => (model.has(x) ? model.get(x) : null))]);
          break;
        }
        default:
          p.del(k);
          want.push([`DEL ${k}`, model.delete(k) ? 1 : 0]);
      }
    }
    const got = await withTimeout(p.exec(), 20000, "the pipeline");
    assert.strictEqual(got.length, 500, "number of replies");
    got.forEach(([err, value], i) => {
      assert.strictEqual(err, null, `reply ${i} (${want[i][0]}) is no error`);
      assert.deepStrictEqual(value, want[i][1], `reply ${i} (${want[i][0]})`);
    });
  });
}

for (const protocol of [3, 2]) {
  test(`multi() on one key: incr, expire (RESP${protocol})`, async () => {
    const r = await ready(client({ protocol }));
    const k = key(`multi-one-${protocol}`);
    assert.deepStrictEqual(await r.multi().incr(k).expire(k, 10).exec(), [[null, 1], [null, 1]]);
    assert.strictEqual(await r.get(k), "1", "GET after the transaction");
    assert.deepStrictEqual(await r.multi().incrby(k, 5).get(k).exec(), [[null, 6], [null, "6"]]);
  });
}

test("multi() on two keys rejects with EXECABORT; nothing runs; the connection goes on", async () => {
  // multi().exec() rejects, so the application takes the transaction as not done: none of
  // its commands may have taken effect.
  const r = await ready(client());
  const a = key("multi-a");
  const b = key("multi-b");
  let err = null;
  try {
    await r.multi().set(a, "x").set(b, "y").exec();
  } catch (e) {
    err = e;
  }
  assert.ok(err, "multi().exec() to reject");
  assert.match(err.message, /^EXECABORT /, err.message);
  assert.ok(err.message.includes(a) && err.message.includes(b), `the reason names both keys: ${err.message}`);
  assert.strictEqual(await r.ping(), "PONG", "the connection still works");
  assert.deepStrictEqual(await r.mget(a, b), [null, null], "the SETs inside the rejected multi()");
});

test("errors become ReplyError with the server's message", async () => {
  const r = await ready(client());
  const cases = [
    [() => r.call("NOSUCHCMD", "a"), "ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' "],
    [() => r.call("GET"), "ERR wrong number of arguments for 'get' command"],
    [() => r.call("SETNX", key("e"), "v"), "ERR SETNX is not supported: NoriKV has no atomic put-if-absent"],
    [() => r.set(key("e"), "v", "NX"), "ERR SET NX is not supported: NoriKV has no atomic put-if-absent"],
    [() => r.call("NORI.PUT", key("cas"), "v", "IFMATCH", "0", "7"), "VERSIONMISMATCH expected 0:7, key does not exist"],
    [() => r.call("KEYS", "*"), "ERR KEYS is not supported: NoriKV cannot enumerate keys"],
  ];
  for (const [fn, msg] of cases) {
    let err = null;
    try {
      await fn();
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof ReplyError, `a ReplyError for ${msg}: got ${err}`);
    assert.strictEqual(err.message, msg);
  }
  assert.strictEqual(await r.ping(), "PONG", "the connection still works");
});

test("NORI.PUT / NORI.GET versions through call()", async () => {
  const r = await ready(client());
  const v1 = await r.call("NORI.PUT", key("nori"), "one");
  assert.ok(Array.isArray(v1) && v1.length === 2, `a [term, index] version: ${v1}`);
  const g = await r.call("NORI.GET", key("nori"));
  assert.deepStrictEqual(g, ["one", v1[0], v1[1]]);
  const v2 = await r.call("NORI.PUT", key("nori"), "two", "IFMATCH", v1[0], v1[1]);
  assert.ok(v2[1] > v1[1], "a newer version");
  assert.strictEqual(await r.call("NORI.GET", key("missing")), null);
});

test("20 connections in parallel, no cross-talk", async () => {
  const rs = await Promise.all(Array.from({ length: 20 }, () => ready(client())));
  await Promise.all(
    rs.map(async (r, t) => {
      for (let j = 0; j < 50; j++) {
        const k = key(`par-${t}-${j % 5}`);
        assert.strictEqual(await r.set(k, `t${t}-${j}`), "OK");
        assert.strictEqual(await r.get(k), `t${t}-${j}`, `thread ${t} op ${j}`);
      }
    })
  );
});

// ---- the runner ----

run(`ioredis ${version} against ${sock}`, tests, () => {
  while (clients.length) clients.pop().disconnect();
});
