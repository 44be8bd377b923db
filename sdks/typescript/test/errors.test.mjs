// Typed errors for every status a client meets, connection failures and
// timeouts, and the API key kept out of every string form.
import assert from "node:assert/strict";
import http from "node:http";
import { inspect } from "node:util";
import { after, before, test } from "node:test";

import {
  APIConnectionError,
  APIConnectionTimeoutError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  EvalGuard,
  EvalGuardError,
  NotFoundError,
  PermissionDeniedError,
} from "@evalguard/sdk";

import { refusedURL, startServer } from "./support.mjs";

let server;
let owner;
const target = { model: "gpt-4o-mini", prompt_id: "answer-v3", project_id: "errors" };

before(async () => {
  server = await startServer();
  owner = new EvalGuard({ apiKey: server.ownerKey, baseURL: server.baseURL });
  await owner.projects.create({ id: "errors" });
});
after(async () => {
  await server?.stop();
});

function expectError(type, status, code, param) {
  return (err) => {
    assert.ok(err instanceof type, `${err?.name} is not ${type.name}`);
    assert.ok(err instanceof EvalGuardError);
    assert.equal(err.status, status);
    if (code !== undefined) assert.equal(err.code, code);
    else assert.match(err.code ?? "", /^[a-z_]+$/);
    if (param !== undefined) assert.equal(err.param, param);
    assert.match(err.requestId ?? "", /^[0-9a-f-]+$/);
    return true;
  };
}

test("400: a value out of range names its field", async () => {
  await assert.rejects(
    owner.autoEval.create(target, 0),
    expectError(BadRequestError, 400, "invalid_request", "sample_count"),
  );
  await assert.rejects(
    owner.traffic.send([{ project_id: "errors", model: "m", prompt_id: "p", input: "q" }]),
    expectError(BadRequestError, 400, "invalid_request", "samples[0].output"),
  );
});

test("401: an unknown key", async () => {
  const stranger = new EvalGuard({ apiKey: "eg_not_a_real_key_0123456789", baseURL: server.baseURL });
  await assert.rejects(stranger.projects.list().toArray(), (err) => {
    expectError(AuthenticationError, 401, "invalid_api_key")(err);
    assert.ok(!err.message.includes("eg_not_a_real_key"), "the key must not appear in the message");
    assert.ok(!inspect(err).includes("eg_not_a_real_key"), "nor in the inspected error");
    return true;
  });
});

test("403: a viewer cannot trigger an auto-eval, a scoped key cannot read another project", async () => {
  const viewer = new EvalGuard({ apiKey: await server.createKey("viewer"), baseURL: server.baseURL });
  await assert.rejects(viewer.autoEval.create(target, 10), expectError(PermissionDeniedError, 403, "insufficient_role"));
  await owner.projects.create({ id: "other" });
  const scoped = new EvalGuard({ apiKey: await server.createKey("member", "other"), baseURL: server.baseURL });
  await assert.rejects(scoped.projects.get("errors"), expectError(PermissionDeniedError, 403));
});

test("404: a job id that does not exist", async () => {
  await assert.rejects(
    owner.autoEval.get("00000000-0000-0000-0000-000000000000"),
    expectError(NotFoundError, 404, "not_found"),
  );
});

test("409: a project id that is taken", async () => {
  await assert.rejects(owner.projects.create({ id: "errors" }), expectError(ConflictError, 409, "project_exists"));
});

test("no answer: a refused connection is an APIConnectionError after the retries", async () => {
  const url = await refusedURL();
  let calls = 0;
  const client = new EvalGuard({
    apiKey: server.ownerKey,
    baseURL: url,
    fetch: (...args) => {
      calls += 1;
      return fetch(...args);
    },
  });
  await assert.rejects(client.autoEval.get("x"), (err) => {
    assert.ok(err instanceof APIConnectionError);
    assert.equal(err.status, undefined);
    return true;
  });
  assert.equal(calls, 3, "a GET is tried once and retried twice");
});

test("a server that never answers times out per request", async () => {
  const silent = http.createServer(() => {});
  await new Promise((resolve) => silent.listen(0, "127.0.0.1", resolve));
  try {
    const client = new EvalGuard({
      apiKey: server.ownerKey,
      baseURL: `http://127.0.0.1:${silent.address().port}`,
      timeout: 200,
      maxRetries: 0,
    });
    const started = Date.now();
    await assert.rejects(client.autoEval.get("x"), APIConnectionTimeoutError);
    assert.ok(Date.now() - started < 5_000);
  } finally {
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
  }
});

test("the API key never appears in the client's string forms", () => {
  const client = new EvalGuard({ apiKey: server.ownerKey, baseURL: server.baseURL });
  for (const text of [inspect(client, { depth: 5, showHidden: true }), JSON.stringify(client), String(client)]) {
    assert.ok(!text.includes(server.ownerKey), text);
  }
});

test("a client without a key says how to give one", () => {
  const saved = process.env.EVALGUARD_API_KEY;
  delete process.env.EVALGUARD_API_KEY;
  try {
    assert.throws(() => new EvalGuard(), (err) => err instanceof EvalGuardError && err.code === "missing_api_key");
  } finally {
    if (saved !== undefined) process.env.EVALGUARD_API_KEY = saved;
  }
});

test("the base URL comes from the option, else EVALGUARD_BASE_URL, else 127.0.0.1:8080", () => {
  const saved = process.env.EVALGUARD_BASE_URL;
  try {
    delete process.env.EVALGUARD_BASE_URL;
    assert.equal(new EvalGuard({ apiKey: "k" }).baseURL, "http://127.0.0.1:8080");
    process.env.EVALGUARD_BASE_URL = "http://example.test:9000/";
    assert.equal(new EvalGuard({ apiKey: "k" }).baseURL, "http://example.test:9000");
    assert.equal(new EvalGuard({ apiKey: "k", baseURL: "http://other.test" }).baseURL, "http://other.test");
  } finally {
    if (saved === undefined) delete process.env.EVALGUARD_BASE_URL;
    else process.env.EVALGUARD_BASE_URL = saved;
  }
});
