// Retries: after a 429 with Retry-After, after a 5xx, after a lost answer,
// only for requests that are safe to repeat, and never creating twice.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";

import { APIConnectionError, EvalGuard, RateLimitError, VERSION } from "@evalguard/sdk";

import { packageRoot, samples, startProxy, startServer } from "./support.mjs";

let server;
let limited;
const target = { model: "gpt-4o-mini", prompt_id: "answer-v3", project_id: "retries" };

before(async () => {
  [server, limited] = await Promise.all([startServer(), startServer(["--rate-limit-per-minute", "60"])]);
  await new EvalGuard({ apiKey: server.ownerKey, baseURL: server.baseURL }).projects.create({ id: "retries" });
});
after(async () => {
  await Promise.all([server?.stop(), limited?.stop()]);
});

/** A client whose every answer's status is recorded in `statuses`. */
function recordingClient(apiKey, baseURL, options = {}) {
  const statuses = [];
  const client = new EvalGuard({
    apiKey,
    baseURL,
    ...options,
    fetch: async (...args) => {
      const answer = await fetch(...args);
      statuses.push(answer.status);
      return answer;
    },
  });
  return { client, statuses };
}

/** Uses up a key's rate limit: answers the first RateLimitError. */
async function exhaust(apiKey) {
  const client = new EvalGuard({ apiKey, baseURL: limited.baseURL, maxRetries: 0 });
  for (let i = 0; i < 1_000; i++) {
    try {
      await client.projects.list().toArray();
    } catch (err) {
      if (err instanceof RateLimitError) return err;
      throw err;
    }
  }
  throw new Error("the rate limit never answered 429");
}

test("429: a RateLimitError with the server's Retry-After", async () => {
  const err = await exhaust(await limited.createKey("viewer"));
  assert.equal(err.status, 429);
  assert.equal(err.code, "rate_limited");
  assert.ok(err.retryAfter >= 1, `retryAfter ${err.retryAfter}`);
});

test("a GET refused with 429 is retried after Retry-After and succeeds", async () => {
  const key = await limited.createKey("viewer");
  await exhaust(key);
  const { client, statuses } = recordingClient(key, limited.baseURL);
  const started = Date.now();
  const projects = await client.projects.list().toArray();
  assert.deepEqual(projects, []);
  assert.equal(statuses[0], 429);
  assert.equal(statuses.at(-1), 200);
  // Retry-After is at least one second; the first backoff step alone is at most 0.5 s.
  assert.ok(Date.now() - started >= 900, `retried after ${Date.now() - started} ms`);
});

test("a POST without an Idempotency-Key is not retried on 429", async () => {
  const key = await limited.createKey("owner");
  await exhaust(key);
  const { client, statuses } = recordingClient(key, limited.baseURL);
  await assert.rejects(client.projects.create({ id: "never" }), RateLimitError);
  assert.deepEqual(statuses, [429]);
});

test("an auto-eval whose answer is lost is retried with the same key: one job, not two", async () => {
  const proxy = await startProxy(server.baseURL, (req, n) =>
    req.method === "POST" && req.url === "/api/v1/auto-eval" && n === 1 ? "drop" : "forward",
  );
  try {
    const client = new EvalGuard({ apiKey: server.ownerKey, baseURL: proxy.url });
    const created = await client.autoEval.create({ ...target, prompt_id: "idempotent" }, 5);
    const posts = proxy.seen.filter((r) => r.method === "POST");
    assert.equal(posts.length, 2, "the first answer was dropped, the call retried");
    const keys = posts.map((r) => r.headers["idempotency-key"]);
    assert.ok(keys[0] && keys[0] === keys[1], `same Idempotency-Key: ${keys}`);
    assert.equal(posts[0].headers["user-agent"], `evalguard-typescript/${VERSION}`);
    const direct = new EvalGuard({ apiKey: server.ownerKey, baseURL: server.baseURL });
    const jobs = (await direct.autoEval.list({ project_id: "retries" }).toArray()).filter(
      (j) => j.target.prompt_id === "idempotent",
    );
    assert.deepEqual(
      jobs.map((j) => j.job_id),
      [created.job_id],
    );
  } finally {
    await proxy.close();
  }
});

test("traffic whose answer is lost is retried and stored once", async () => {
  const proxy = await startProxy(server.baseURL, (req, n) =>
    req.method === "POST" && req.url === "/api/v1/traffic" && n === 1 ? "drop" : "forward",
  );
  try {
    const client = new EvalGuard({ apiKey: server.ownerKey, baseURL: proxy.url });
    const sent = { ...target, prompt_id: "traffic-once" };
    assert.equal(await client.traffic.send(samples(3, sent)), 3);
    assert.equal(proxy.seen.length, 2);
    assert.equal(proxy.seen[0].headers["idempotency-key"], proxy.seen[1].headers["idempotency-key"]);
    const direct = new EvalGuard({ apiKey: server.ownerKey, baseURL: server.baseURL });
    const { job_id } = await direct.autoEval.create(sent, 100, { scorers: ["output_length"] });
    const job = await direct.autoEval.wait(job_id, { timeout: 30_000, pollInterval: 50 });
    assert.equal(job.status, "succeeded");
    assert.equal(job.progress.total, 3, "three samples stored, not six");
  } finally {
    await proxy.close();
  }
});

test("a 503 is retried, after the server's Retry-After", async () => {
  const proxy = await startProxy(server.baseURL, (req, n) =>
    req.method === "GET" && n === 1 ? { status: 503, headers: { "retry-after": "0" } } : "forward",
  );
  try {
    const client = new EvalGuard({ apiKey: server.ownerKey, baseURL: proxy.url });
    const project = await client.projects.get("retries");
    assert.equal(project.id, "retries");
    assert.equal(proxy.seen.length, 2);
  } finally {
    await proxy.close();
  }
});

test("a POST without an Idempotency-Key whose answer is lost is not repeated", async () => {
  const proxy = await startProxy(server.baseURL, () => "drop");
  try {
    const client = new EvalGuard({ apiKey: server.ownerKey, baseURL: proxy.url });
    await assert.rejects(client.projects.create({ id: "once" }), APIConnectionError);
    assert.equal(proxy.seen.length, 1);
  } finally {
    await proxy.close();
  }
});

test("the User-Agent's version is the package's", () => {
  const pkg = JSON.parse(readFileSync(path.join(packageRoot, "package.json"), "utf8"));
  assert.equal(VERSION, pkg.version);
});
