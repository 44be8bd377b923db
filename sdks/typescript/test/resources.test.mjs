// The helpers over a real server: traffic split into requests, jobs waited
// for, results read across pages, projects and keys.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { AuthenticationError, EvalGuard, WaitTimeoutError, trafficBodies } from "@evalguard/sdk";

import { samples, startProxy, startServer } from "./support.mjs";

let server;
let apiOnly;
let client;
const target = { model: "gpt-4o-mini", prompt_id: "answer-v3", project_id: "helpers" };

before(async () => {
  [server, apiOnly] = await Promise.all([startServer(), startServer(["--workers", "0"])]);
  client = new EvalGuard({ apiKey: server.ownerKey, baseURL: server.baseURL });
  await client.projects.create({ id: "helpers", name: "Helpers" });
});
after(async () => {
  await Promise.all([server?.stop(), apiOnly?.stop()]);
});

test("traffic.send splits by sample count and by body size, and answers the accepted count", async () => {
  const proxy = await startProxy(server.baseURL);
  try {
    const viaProxy = new EvalGuard({ apiKey: server.ownerKey, baseURL: proxy.url });
    const batch = samples(25, { ...target, prompt_id: "split" });
    assert.equal(await viaProxy.traffic.send(batch, { maxBatchSamples: 10 }), 25);
    assert.deepEqual(
      proxy.seen.map((r) => JSON.parse(r.body).samples.length),
      [10, 10, 5],
    );
    proxy.seen.length = 0;
    assert.equal(await viaProxy.traffic.send(batch, { maxBatchBytes: 2_000 }), 25);
    assert.ok(proxy.seen.length > 1);
    for (const r of proxy.seen) assert.ok(Buffer.byteLength(r.body) <= 2_000, `${Buffer.byteLength(r.body)} bytes`);
    assert.equal(
      proxy.seen.reduce((n, r) => n + JSON.parse(r.body).samples.length, 0),
      25,
    );
    // The same samples again: given ids by the SDK, each is a new sample.
    proxy.seen.length = 0;
    assert.equal(await viaProxy.traffic.send(samples(10_001, { ...target, prompt_id: "big" })), 10_001);
    assert.deepEqual(
      proxy.seen.map((r) => JSON.parse(r.body).samples.length),
      [10_000, 1],
    );
  } finally {
    await proxy.close();
  }
});

test("traffic.send keeps every request within the server's 16 MiB body limit", async () => {
  const proxy = await startProxy(server.baseURL);
  try {
    const viaProxy = new EvalGuard({ apiKey: server.ownerKey, baseURL: proxy.url });
    // About 21 MiB in 3,000 samples: under the sample limit, over the byte limit.
    const batch = samples(3_000, { ...target, prompt_id: "large" }, { output: "x".repeat(7_000) });
    assert.equal(await viaProxy.traffic.send(batch), 3_000);
    assert.equal(proxy.seen.length, 2);
    for (const r of proxy.seen) assert.ok(Buffer.byteLength(r.body) <= 16 * 1024 * 1024);
  } finally {
    await proxy.close();
  }
});

test("trafficBodies keeps every body valid JSON within its limits, in order", () => {
  const encoded = Array.from({ length: 50 }, (_, i) => JSON.stringify({ id: `s${i}`, text: "é".repeat(i) }));
  const bodies = [...trafficBodies(encoded, 7, 300)];
  const ids = bodies.flatMap(({ json, count }) => {
    assert.ok(Buffer.byteLength(json) <= 300 || count === 1);
    const parsed = JSON.parse(json).samples;
    assert.equal(parsed.length, count);
    assert.ok(count <= 7);
    return parsed.map((s) => s.id);
  });
  assert.deepEqual(
    ids,
    encoded.map((e) => JSON.parse(e).id),
  );
});

test("an auto-eval is created, waited for, and its results read across pages", async () => {
  const t = { ...target, prompt_id: "paged" };
  await client.traffic.send(samples(7, t));
  const { job_id } = await client.autoEval.create(t, 7, { scorers: ["refusal", "output_length"] });
  const job = await client.autoEval.wait(job_id, { timeout: 60_000, pollInterval: 50 });
  assert.equal(job.status, "succeeded");
  assert.equal(job.progress.total, 7);
  assert.equal(job.summary.refusal.n, 7);

  const pages = [];
  for await (const page of client.autoEval.results(job_id, { limit: 3 }).pages()) pages.push(page.data.length);
  assert.ok(pages.length >= 2, `pages ${pages}`);

  const all = [];
  for await (const result of client.autoEval.results(job_id, { limit: 2 })) all.push(result);
  const flagged = await client.autoEval.results(job_id, { flagged: true, limit: 1 }).toArray();
  const unflagged = await client.autoEval.results(job_id, { flagged: false, limit: 1 }).toArray();
  assert.equal(new Set(all.map((r) => r.sample_id)).size, all.length, "no result twice");
  assert.ok(flagged.length >= 2, "every third sample is a refusal");
  assert.ok(flagged.every((r) => r.flagged && r.scores.refusal.outcome === "scored"));
  assert.equal(flagged.length + unflagged.length, 7);
  assert.deepEqual(
    (await client.autoEval.results(job_id, true).toArray()).map((r) => r.sample_id),
    flagged.map((r) => r.sample_id),
  );
});

test("jobs are listed across pages, newest first", async () => {
  const t = { ...target, prompt_id: "listed" };
  const ids = [];
  for (let i = 0; i < 3; i++) ids.push((await client.autoEval.create(t, 1)).job_id);
  const listed = (await client.autoEval.list({ project_id: "helpers", limit: 1 }).toArray())
    .filter((j) => j.target.prompt_id === "listed")
    .map((j) => j.job_id);
  assert.deepEqual(listed, [...ids].reverse());
});

test("wait gives up at its timeout with the last state of the job", async () => {
  const idle = new EvalGuard({ apiKey: apiOnly.ownerKey, baseURL: apiOnly.baseURL });
  await idle.projects.create({ id: "helpers" });
  const { job_id } = await idle.autoEval.create(target, 10);
  const started = Date.now();
  await assert.rejects(idle.autoEval.wait(job_id, { timeout: 300, pollInterval: 50 }), (err) => {
    assert.ok(err instanceof WaitTimeoutError);
    assert.equal(err.job.status, "queued");
    assert.equal(err.job.job_id, job_id);
    return true;
  });
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 300 && elapsed < 5_000, `${elapsed} ms`);
  const cancelled = await idle.autoEval.cancel(job_id);
  assert.equal(cancelled.status, "cancelled");
  assert.equal((await idle.autoEval.wait(job_id, { timeout: 1_000 })).status, "cancelled");
});

test("projects: create, get, list across pages", async () => {
  for (const id of ["p-a", "p-b", "p-c"]) await client.projects.create({ id, name: id.toUpperCase() });
  assert.equal((await client.projects.get("p-b")).name, "P-B");
  const ids = (await client.projects.list({ limit: 2 }).toArray()).map((p) => p.id);
  assert.deepEqual(
    ids.filter((id) => id.startsWith("p-")),
    ["p-a", "p-b", "p-c"],
  );
});

test("keys: create, list, revoke; a revoked key is refused", async () => {
  const created = await client.keys.create({ role: "viewer", name: "dashboard reader" });
  assert.equal(created.role, "viewer");
  assert.ok(created.key.length > 20);
  const listed = await client.keys.list();
  const entry = listed.find((k) => k.key_id === created.key_id);
  assert.equal(entry?.name, "dashboard reader");
  assert.ok(!JSON.stringify(listed).includes(created.key), "a list never shows a secret");
  const reader = new EvalGuard({ apiKey: created.key, baseURL: server.baseURL });
  assert.ok((await reader.projects.list().toArray()).length > 0);
  const revoked = await client.keys.revoke(created.key_id);
  assert.ok(revoked.revoked_at);
  await assert.rejects(reader.projects.list().toArray(), AuthenticationError);
});
