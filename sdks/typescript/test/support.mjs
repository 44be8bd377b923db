// Starts the real `evalguard serve` on a fresh SQLite database, creates keys
// with `evalguard keys create`, and offers a proxy that can misbehave on
// purpose. Shared by every test file.
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
export const packageRoot = path.resolve(here, "..");
const repoRoot = path.resolve(packageRoot, "..", "..");

export const evalguardBin = process.env.EVALGUARD_BIN || path.join(repoRoot, "target", "debug", "evalguard");

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The URL of a port nothing listens on. */
export async function refusedURL() {
  return `http://127.0.0.1:${await freePort()}`;
}

/**
 * A running server. `flags` are extra command-line flags, e.g.
 * `["--rate-limit-per-minute", "60"]` or `["--workers", "0"]`.
 */
export async function startServer(flags = []) {
  const dir = mkdtempSync(path.join(tmpdir(), "evalguard-ts-sdk-"));
  const databaseUrl = `sqlite://${path.join(dir, "evalguard.db")}`;
  const createKey = async (role = "owner", project) => {
    const args = ["keys", "create", "--database-url", databaseUrl, "--org", "acme", "--role", role];
    if (project !== undefined) args.push("--project", project);
    const { stdout } = await run(evalguardBin, args, { env: { ...process.env, EVALGUARD_LOG: "warn" } });
    return stdout.trim().split("\n").pop().trim();
  };
  const ownerKey = await createKey("owner");
  const port = await freePort();
  const child = spawn(evalguardBin, ["serve", "--addr", `127.0.0.1:${port}`, "--database-url", databaseUrl, ...flags], {
    env: { ...process.env, EVALGUARD_LOG: "warn" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const baseURL = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`evalguard serve exited: ${stderr}`);
    try {
      const answer = await fetch(`${baseURL}/healthz`);
      if (answer.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`evalguard serve did not start: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    baseURL,
    ownerKey,
    createKey,
    async stop() {
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A proxy in front of `target`. For each request it asks `plan(req, n)` (n
 * counts requests with the same method and path) what to do: "forward", "drop"
 * (forward, then cut the connection instead of answering) or a status to
 * answer itself (`{ status, headers }`). Every request seen is in `seen`.
 */
export async function startProxy(target, plan = () => "forward") {
  const seen = [];
  const counts = new Map();
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const key = `${req.method} ${req.url.split("?")[0]}`;
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    seen.push({ method: req.method, url: req.url, headers: req.headers, body: body.toString() });
    const action = plan(req, n);
    if (typeof action === "object") {
      res.writeHead(action.status, { "content-type": "application/json", ...action.headers });
      res.end(JSON.stringify({ error: { code: "proxy", message: "answered by the test proxy" } }));
      return;
    }
    const headers = { ...req.headers };
    delete headers.host;
    delete headers.connection;
    const answer = await fetch(target + req.url, {
      method: req.method,
      headers,
      body: body.length > 0 ? body : undefined,
    });
    const text = await answer.text();
    if (action === "drop") {
      // The server did the work; the client never hears of it.
      req.socket.destroy();
      return;
    }
    res.writeHead(answer.status, Object.fromEntries(answer.headers));
    res.end(text);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}

/** `n` valid samples of one target. */
export function samples(n, target, extra = {}) {
  return Array.from({ length: n }, (_, i) => ({
    project_id: target.project_id,
    model: target.model,
    prompt_id: target.prompt_id,
    input: `question ${i}`,
    output: i % 3 === 0 ? "I'm sorry, I can't help with that." : `answer ${i}`,
    context: [`passage ${i}`],
    latency_ms: 100 + i,
    ...extra,
  }));
}

/** Waits for `condition()` to hold, polling; fails after `timeout` ms. */
export async function eventually(condition, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
