// The code sample of the published page, run as published, and the same call
// completed so that it queues a job.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";

import { BadRequestError, EvalGuard, EvalGuardError } from "@evalguard/sdk";

import { packageRoot, startServer } from "./support.mjs";

const run = promisify(execFile);
let server;

before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

test("the published TypeScript sample runs unchanged and gets the typed 400 for its empty target", async () => {
  const sample = path.join(packageRoot, "build", "examples", "published-sample.js");
  const outcome = await run(process.execPath, [sample], {
    env: { ...process.env, EVALGUARD_API_KEY: server.ownerKey, EVALGUARD_BASE_URL: server.baseURL },
  }).then(
    () => ({ code: 0, stderr: "" }),
    (err) => ({ code: err.code, stderr: err.stderr }),
  );
  // The sample does not catch: Node prints the thrown error with its fields.
  assert.equal(outcome.code, 1);
  assert.match(outcome.stderr, /BadRequestError: 400 invalid_request/);
  assert.match(outcome.stderr, /status: 400/);
  assert.match(outcome.stderr, /code: 'invalid_request'/);
  assert.match(outcome.stderr, /param: 'target\.model'/);
  assert.ok(!outcome.stderr.includes(server.ownerKey), "the key must not be printed");
});

test("the sample's call, in process, throws BadRequestError with status, code and param", async () => {
  process.env.EVALGUARD_API_KEY = server.ownerKey;
  const client = new EvalGuard({ apiKey: process.env.EVALGUARD_API_KEY, baseURL: server.baseURL });
  await assert.rejects(
    client.request({ method: "POST", path: "/api/v1/auto-eval", body: { target: {}, sample_count: 100 } }),
    (err) => {
      assert.ok(err instanceof BadRequestError);
      assert.ok(err instanceof EvalGuardError);
      assert.equal(err.status, 400);
      assert.equal(err.code, "invalid_request");
      assert.equal(err.param, "target.model");
      assert.match(err.message, /target\.model/);
      return true;
    },
  );
});

test("the same call with a complete target answers a job id", async () => {
  const client = new EvalGuard({ apiKey: server.ownerKey, baseURL: server.baseURL });
  await client.projects.create({ id: "support-bot", name: "Support bot" });
  const response = await client.request({
    method: "POST",
    path: "/api/v1/auto-eval",
    body: {
      target: { model: "gpt-4o-mini", prompt_id: "answer-v3", project_id: "support-bot" },
      sample_count: 100,
    },
  });
  assert.deepEqual(Object.keys(response), ["job_id"]);
  assert.match(response.job_id, /^[0-9a-f-]{36}$/);
  const job = await client.autoEval.get(response.job_id);
  assert.equal(job.job_id, response.job_id);
  assert.equal(job.target.prompt_id, "answer-v3");
});

test("the package loads with require() too (CommonJS build)", async () => {
  const script = `
    const { EvalGuard, NotFoundError } = require("@evalguard/sdk");
    const client = new EvalGuard({ baseURL: process.env.EVALGUARD_BASE_URL });
    client.autoEval.get("00000000-0000-0000-0000-000000000000").then(
      () => process.exit(3),
      (err) => { console.log(err instanceof NotFoundError, err.status, err.code); },
    );`;
  const { stdout } = await run(process.execPath, ["-e", script], {
    cwd: packageRoot,
    env: { ...process.env, EVALGUARD_API_KEY: server.ownerKey, EVALGUARD_BASE_URL: server.baseURL },
  });
  assert.equal(stdout.trim(), "true 404 not_found");
});
