// node-redis 5 against a running norikv-sidecar on a devnode that serves Vector:
// node tests/e2e/node-redis.js SOCKET DEVNODE-CONTROL-SOCKET NODES
//
// The vector-set methods as an app calls them, on RESP3 (`RESP: 3`) and RESP2: vAdd,
// vSim, vSimWithScores (scores checked against Redis' cosine similarity), vEmb, vRem; and
// subscribe() to norikv:topology receiving the JSON event of a devnode `move` within 2 s.
// Prints one line per test and `N passed, M failed`; exit status 1 on a failure.
"use strict";

const path = require("path");
const net = require("net");
const assert = require("assert");
const { withTimeout, run } = require("./runner.js");

const [sock, ctl, nodes] = process.argv.slice(2);
if (!sock || !ctl || !nodes) {
  console.error("usage: node tests/e2e/node-redis.js SOCKET CONTROL-SOCKET NODES");
  process.exit(2);
}
const modules = process.env.NORIKV_JS_MODULES || path.join(__dirname, "..", "js", "node_modules");
const { createClient } = require(require.resolve("redis", { paths: [modules] }));
const version = require(require.resolve("redis/package.json", { paths: [modules] })).version;
const addrs = nodes.split(",");

const RUN = Math.random().toString(16).slice(2, 10);
const key = (name) => `e2e:node-redis:${RUN}:${name}`;
const clients = [];

async function client(resp) {
  const c = createClient({
    socket: { path: sock, connectTimeout: 5000, reconnectStrategy: false },
    RESP: resp,
  });
  c.on("error", () => {}); // reported through the promises
  clients.push(c);
  await withTimeout(c.connect(), 10000, "connect");
  return c;
}

// One line to the devnode's control socket; resolves with the text after "OK".
function control(line) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const s = net.createConnection(ctl);
      let data = "";
      s.on("data", (d) => {
        data += d;
        if (data.endsWith("\n")) {
          s.end();
          if (data.startsWith("OK")) resolve(data.slice(2).trim());
          else reject(new Error(`control ${line}: ${data.trim()}`));
        }
      });
      s.on("error", reject);
      s.write(line + "\n");
    }),
    10000,
    `control ${line}`
  );
}

function cosScore(a, b) {
  const dot = a.reduce((s, x, i) => s + x * b[i], 0);
  const na = Math.hypot(...a);
  const nb = Math.hypot(...b);
  if (na === 0 || nb === 0) return 0.5;
  const c = Math.max(-1, Math.min(1, dot / (na * nb)));
  return 1 - (1 - c) / 2;
}

const f32 = (x) => Math.fround(x);
const POINTS = { east: [1, 0, 0], north: [0, 1, 0], west: [-1, 0, 0], ne: [0.6, 0.8, 0] };

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

for (const resp of [3, 2]) {
  test(`RESP${resp}: vAdd, vSim, vSimWithScores, vEmb, vRem`, async () => {
    const r = await client(resp);
    const k = key(`vset-${resp}`);
    for (const [name, v] of Object.entries(POINTS)) {
      assert.strictEqual(await r.vAdd(k, v, name), true, `vAdd ${name}: added`);
    }
    assert.strictEqual(await r.vAdd(k, [0.8, 0.6, 0], "ne"), false, "vAdd of an existing element");
    assert.strictEqual(await r.vAdd(k, [0, 0, 1], "up", { QUANT: "NOQUANT", EF: 100, CAS: true }),
      true, "vAdd with options NoriKV ignores");
    const q = [1, 0.3, 0];
    const order = Object.keys({ ...POINTS, up: 0 })
      .map((n) => [n, n === "up" ? [0, 0, 1] : n === "ne" ? [0.8, 0.6, 0] : POINTS[n]])
      .sort((a, b) => cosScore(q, b[1]) - cosScore(q, a[1]));
    assert.deepStrictEqual(await r.vSim(k, q), order.map((e) => e[0]), "vSim: nearest first");
    assert.deepStrictEqual(await r.vSim(k, "north", { COUNT: 2 }), ["north", "ne"],
      "vSim by element, COUNT 2");
    const scores = await r.vSimWithScores(k, q, { COUNT: 3 });
    assert.deepStrictEqual(Object.keys(scores), order.slice(0, 3).map((e) => e[0]),
      "vSimWithScores: the 3 nearest");
    for (const [name, v] of order.slice(0, 3)) {
      const want = cosScore(q.map(f32), v.map(f32));
      assert.ok(Math.abs(scores[name] - want) < 1e-6, `score of ${name}: ${scores[name]} vs ${want}`);
    }
    assert.deepStrictEqual(await r.vEmb(k, "ne"), [0.8, 0.6, 0].map(f32), "vEmb: the vector");
    assert.strictEqual(await r.vRem(k, "ne"), true, "vRem: removed");
    assert.strictEqual(await r.vRem(k, "ne"), false, "vRem again: nothing to remove");
    assert.deepStrictEqual(await r.vSim(k, "north", { COUNT: 2 }), ["north", "east"],
      "vSim after vRem");
    let err = null;
    try {
      await r.vAdd(k, [1, 2], "bad");
    } catch (e) {
      err = e;
    }
    assert.ok(err && /Vector dimension mismatch - got 2 but set has 3/.test(err.message),
      `vAdd of the wrong dimension rejected: ${err}`);
  });
}

test("subscribe to norikv:topology: a move arrives within 2 s", async () => {
  const r = await client(3);
  const sub = r.duplicate();
  sub.on("error", () => {});
  clients.push(sub);
  await withTimeout(sub.connect(), 10000, "connect the subscriber");
  const shard = 29;
  const leader = Number(await control(`leader ${shard}`));
  const target = (leader % addrs.length) + 1;
  let resolveMsg;
  const got = new Promise((resolve) => (resolveMsg = resolve));
  await sub.subscribe("norikv:topology", (message) => {
    const ev = JSON.parse(message);
    if (ev.leader_changes.some((c) => c.shard === shard && c.new === addrs[target - 1])) {
      resolveMsg(ev);
    }
  });
  const t0 = Date.now();
  await control(`move ${shard} ${target}`);
  const ev = await withTimeout(got, 2000, "the event of the move");
  assert.ok(Date.now() - t0 < 2000, "within 2 s");
  assert.ok(ev.current_epoch > (ev.previous_epoch ?? -1), "epochs move on");
  assert.deepStrictEqual(ev.removed_nodes, [], "no node removed by a move");
  assert.strictEqual(await r.ping(), "PONG", "the other connection still answers");
  await sub.unsubscribe("norikv:topology");
});

// ---- the runner ----

run(`node-redis ${version} against ${sock}`, tests, () => {
  while (clients.length) {
    const c = clients.pop();
    try {
      c.destroy();
    } catch (e) {
      // already closed
    }
  }
});
