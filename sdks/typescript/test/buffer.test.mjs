// The background buffer: flushes on size, on its interval, on close and at
// process exit; never blocks add(); drops to its callback when full or failing.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { promisify } from "node:util";

import { EvalGuard } from "@evalguard/sdk";

import { eventually, packageRoot, refusedURL, samples, startProxy, startServer } from "./support.mjs";

const run = promisify(execFile);
let server;
let proxy;
let client;
const target = { model: "gpt-4o-mini", prompt_id: "buffered", project_id: "buffer" };

before(async () => {
  server = await startServer();
  proxy = await startProxy(server.baseURL);
  client = new EvalGuard({ apiKey: server.ownerKey, baseURL: proxy.url });
  await client.projects.create({ id: "buffer" });
});
after(async () => {
  await proxy?.close();
  await server?.stop();
});

/** Sizes of the traffic requests the proxy saw since `from`. */
function trafficBatches(from = 0) {
  return proxy.seen
    .slice(from)
    .filter((r) => r.url === "/api/v1/traffic")
    .map((r) => JSON.parse(r.body).samples.length);
}

/** How many samples of `prompt_id` the server stored, by running a job over them. */
async function storedCount(prompt_id) {
  const { job_id } = await client.autoEval.create({ ...target, prompt_id }, 1_000, { scorers: ["output_length"] });
  const job = await client.autoEval.wait(job_id, { timeout: 30_000, pollInterval: 50 });
  return job.progress.total;
}

test("a full batch goes out at once; the rest on close", async () => {
  const from = proxy.seen.length;
  const buffer = client.traffic.buffer({ maxBatchSize: 3, flushInterval: 60_000 });
  const started = performance.now();
  for (const s of samples(7, { ...target, prompt_id: "by-size" })) assert.equal(buffer.add(s), true);
  assert.ok(performance.now() - started < 50, "add never waits for the network");
  await eventually(() => buffer.sent === 6);
  assert.equal(buffer.size, 1);
  await buffer.close();
  assert.equal(buffer.sent, 7);
  assert.deepEqual(trafficBatches(from), [3, 3, 1]);
  assert.equal(await storedCount("by-size"), 7);
});

test("a partial batch goes out on the interval", async () => {
  const buffer = client.traffic.buffer({ maxBatchSize: 1_000, flushInterval: 50 });
  try {
    buffer.add(samples(1, { ...target, prompt_id: "by-interval" })[0]);
    await eventually(() => buffer.sent === 1, 5_000);
  } finally {
    await buffer.close();
  }
});

test("a full queue drops to the callback instead of growing", async () => {
  const dropped = [];
  const buffer = client.traffic.buffer({
    maxBatchSize: 100,
    maxQueueSize: 2,
    flushInterval: 60_000,
    onDrop: (items, reason) => dropped.push([items.length, reason]),
  });
  const [a, b, c] = samples(3, { ...target, prompt_id: "bounded" });
  assert.equal(buffer.add(a), true);
  assert.equal(buffer.add(b), true);
  assert.equal(buffer.add(c), false);
  assert.deepEqual(dropped, [[1, "queue_full"]]);
  await buffer.close();
  assert.equal(buffer.sent, 2);
  assert.equal(buffer.add(c), false);
  assert.deepEqual(dropped.at(-1), [1, "closed"]);
  assert.equal(buffer.dropped, 2);
});

test("a batch that cannot be sent is reported, not thrown at the caller", async () => {
  const url = await refusedURL();
  const unreachable = new EvalGuard({ apiKey: server.ownerKey, baseURL: url, maxRetries: 0 });
  const drops = [];
  const buffer = unreachable.traffic.buffer({ onDrop: (items, reason, error) => drops.push({ n: items.length, reason, error }) });
  buffer.add(samples(1, target)[0]);
  await buffer.close();
  assert.equal(drops.length, 1);
  assert.equal(drops[0].reason, "send_failed");
  assert.equal(drops[0].error.name, "APIConnectionError");
});

test("samples still queued when the process ends are sent before it exits", async () => {
  const script = `
    import { EvalGuard } from "@evalguard/sdk";
    const client = new EvalGuard({ baseURL: process.env.EVALGUARD_BASE_URL });
    const buffer = client.traffic.buffer({ maxBatchSize: 1000, flushInterval: 60000 });
    for (let i = 0; i < 5; i++) {
      buffer.add({ project_id: "buffer", model: "gpt-4o-mini", prompt_id: "at-exit", input: "q" + i, output: "a" + i });
    }
    // No close(): the process simply runs out of work.
  `;
  await run(process.execPath, ["--input-type=module", "-e", script], {
    cwd: packageRoot,
    env: { ...process.env, EVALGUARD_API_KEY: server.ownerKey, EVALGUARD_BASE_URL: server.baseURL },
  });
  assert.equal(await storedCount("at-exit"), 5);
});
