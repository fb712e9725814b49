// What the Node.js client tests share (ioredis.js, node-redis.js): a timeout around a
// promise, and the runner that runs each test in turn, prints PASS/FAIL lines and a count,
// closes the clients a test left open, and bounds the whole run.
"use strict";

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// Bounds on a test and on the run: longer against NoriKV's own server (make check-real),
// whose every write waits for its next 150 ms commit tick.
const real = Boolean(process.env.NORIKV_SERVER);
const TEST_MS = real ? 180000 : 30000;
const RUN_MS = real ? 900000 : 90000;

// Runs tests ([{name, fn}]) one after another; closeClients() after each. Sets the exit
// status: 0 when every test passed.
async function run(title, tests, closeClients) {
  let passed = 0;
  let failed = 0;
  const watchdog = setTimeout(() => {
    console.log(`FAIL the whole run: not done within ${RUN_MS / 1000} s`);
    console.log(`${passed} passed, ${failed + 1} failed`);
    process.exit(1);
  }, RUN_MS);
  console.log(title);
  for (const t of tests) {
    const t0 = Date.now();
    try {
      await withTimeout(t.fn(), TEST_MS, "the test");
      passed++;
      console.log(`PASS ${t.name} (${Date.now() - t0} ms)`);
    } catch (e) {
      failed++;
      const why = String(e && e.message ? e.message : e).replace(/\s*\n\s*/g, " ");
      console.log(`FAIL ${t.name}: ${why}`);
    }
    closeClients();
  }
  clearTimeout(watchdog);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

module.exports = { withTimeout, run };
