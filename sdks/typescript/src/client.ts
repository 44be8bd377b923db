import { randomUUID } from "node:crypto";

import {
  APIConnectionError,
  APIConnectionTimeoutError,
  EvalGuardError,
  errorForStatus,
  type ApiErrorBody,
} from "./errors.js";
import { AutoEval } from "./resources/auto-eval.js";
import { Keys } from "./resources/keys.js";
import { Projects } from "./resources/projects.js";
import { Traffic } from "./resources/traffic.js";
import { backoffDelayMs, isRetryableStatus, isSafeMethod, retryAfterMs, sleep } from "./retry.js";
import { VERSION } from "./version.js";

export const DEFAULT_BASE_URL = "http://127.0.0.1:8080";
export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_RETRIES = 2;
/** A `Retry-After` longer than this is not waited for: the error is thrown instead. */
export const MAX_RETRY_AFTER_MS = 60_000;

export interface ClientOptions {
  /** The API key; defaults to the environment variable `EVALGUARD_API_KEY`. */
  apiKey?: string | undefined;
  /** Defaults to `EVALGUARD_BASE_URL`, else `http://127.0.0.1:8080`. */
  baseURL?: string | undefined;
  /** Per attempt, in milliseconds (default 60,000). */
  timeout?: number | undefined;
  /** Retries of a failed safe request (default 2). */
  maxRetries?: number | undefined;
  /** Sent with every request. */
  defaultHeaders?: Record<string, string> | undefined;
  /** A `fetch` implementation; defaults to the global one. */
  fetch?: typeof fetch | undefined;
}

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS";

export interface RequestOptions {
  method: HttpMethod | Lowercase<HttpMethod>;
  /** From the server's root, e.g. `/api/v1/auto-eval`. */
  path: string;
  /** Sent as JSON. */
  body?: unknown;
  /** A body already serialised as JSON (instead of `body`). */
  rawJson?: string;
  query?: Record<string, string | number | boolean | null | undefined>;
  headers?: Record<string, string>;
  /**
   * Makes a POST safe to retry: the server answers a repeat with the first
   * result. `true` generates one (kept across retries of this call).
   */
  idempotencyKey?: string | true | undefined;
  timeout?: number | undefined;
  maxRetries?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** Per-call overrides accepted by the helpers. */
export type CallOptions = Pick<RequestOptions, "timeout" | "maxRetries" | "signal" | "headers" | "idempotencyKey">;

function envVar(name: string): string | undefined {
  const value = typeof process === "undefined" ? undefined : process.env[name];
  return value === undefined || value === "" ? undefined : value;
}

/** The EvalGuard API client. */
export class EvalGuard {
  readonly baseURL: string;
  readonly timeout: number;
  readonly maxRetries: number;
  readonly traffic: Traffic;
  readonly autoEval: AutoEval;
  readonly projects: Projects;
  readonly keys: Keys;

  // A private field: never shown by console.log, util.inspect or JSON.stringify.
  readonly #apiKey: string;
  readonly #defaultHeaders: Record<string, string>;
  readonly #fetch: typeof fetch;

  constructor(options: ClientOptions = {}) {
    const apiKey = options.apiKey ?? envVar("EVALGUARD_API_KEY");
    if (apiKey === undefined || apiKey === "") {
      throw new EvalGuardError(
        "no API key: pass { apiKey } or set the EVALGUARD_API_KEY environment variable",
        { code: "missing_api_key" },
      );
    }
    this.#apiKey = apiKey;
    this.baseURL = (options.baseURL ?? envVar("EVALGUARD_BASE_URL") ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
    this.timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
    this.maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.#defaultHeaders = { ...options.defaultHeaders };
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== "function") {
      throw new EvalGuardError("no fetch: use Node.js 18 or later, or pass { fetch }");
    }
    this.#fetch = fetchImpl;
    this.traffic = new Traffic(this);
    this.autoEval = new AutoEval(this);
    this.projects = new Projects(this);
    this.keys = new Keys(this);
  }

  /**
   * Calls any endpoint: the decoded JSON of a 2xx answer, else a typed
   * {@link EvalGuardError}. Retries 408, 429, 5xx and connection failures of
   * safe requests (GET, and any request with an Idempotency-Key).
   */
  async request<T = unknown>(options: RequestOptions): Promise<T> {
    const method = options.method.toUpperCase();
    const idempotencyKey = options.idempotencyKey === true ? randomUUID() : options.idempotencyKey;
    const retryable = isSafeMethod(method) || idempotencyKey !== undefined;
    const maxRetries = retryable ? Math.max(0, options.maxRetries ?? this.maxRetries) : 0;
    const url = this.#url(options.path, options.query);
    const headers: Record<string, string> = {
      Accept: "application/json",
      "User-Agent": `evalguard-typescript/${VERSION}`,
      ...this.#defaultHeaders,
      ...options.headers,
      Authorization: `Bearer ${this.#apiKey}`,
    };
    const body = options.rawJson ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (idempotencyKey !== undefined) headers["Idempotency-Key"] = idempotencyKey;
    const timeout = options.timeout ?? this.timeout;

    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await this.#fetchWithTimeout(url, { method, headers, body }, timeout, options.signal);
      } catch (err) {
        if (options.signal?.aborted) throw err;
        if (attempt < maxRetries) {
          await sleep(backoffDelayMs(attempt), options.signal);
          continue;
        }
        throw connectionError(err, method, options.path, timeout);
      }
      if (response.ok) return (await decodeBody(response)) as T;

      const error = await errorFromResponse(response);
      if (attempt < maxRetries && isRetryableStatus(response.status)) {
        const asked = retryAfterMs(response.headers);
        if (asked === undefined || asked <= MAX_RETRY_AFTER_MS) {
          await sleep(asked ?? backoffDelayMs(attempt), options.signal);
          continue;
        }
      }
      throw error;
    }
  }

  /** The client's settings; never the API key. */
  toJSON(): Record<string, unknown> {
    return { baseURL: this.baseURL, timeout: this.timeout, maxRetries: this.maxRetries };
  }

  #url(path: string, query: RequestOptions["query"]): string {
    const url = new URL(this.baseURL + (path.startsWith("/") ? path : `/${path}`));
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null) url.searchParams.set(name, String(value));
    }
    return url.toString();
  }

  async #fetchWithTimeout(
    url: string,
    init: { method: string; headers: Record<string, string>; body: string | undefined },
    timeout: number,
    signal: AbortSignal | undefined,
  ): Promise<Response> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new TimeoutSignal()), timeout);
    const forward = () => controller.abort(signal?.reason);
    signal?.addEventListener("abort", forward, { once: true });
    if (signal?.aborted) forward();
    try {
      const response = await this.#fetch(url, { ...init, signal: controller.signal });
      // Read the body within the same deadline, so a stalled answer times out too.
      const bytes = await response.arrayBuffer();
      return new Response(response.status === 204 || response.status === 304 ? null : bytes, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", forward);
    }
  }
}

/** The abort reason of a request that ran out of time. */
class TimeoutSignal extends Error {}

function connectionError(err: unknown, method: string, path: string, timeout: number): EvalGuardError {
  const timedOut = err instanceof TimeoutSignal || (err instanceof Error && err.cause instanceof TimeoutSignal);
  if (timedOut) {
    return new APIConnectionTimeoutError(`${method} ${path}: no answer within ${timeout} ms`, { cause: err });
  }
  const reason = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
  return new APIConnectionError(`${method} ${path}: connection failed (${reason})`, { cause: err });
}

async function decodeBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function errorFromResponse(response: Response): Promise<EvalGuardError> {
  const body = await decodeBody(response);
  const detail: ApiErrorBody =
    typeof body === "object" && body !== null && typeof (body as { error?: unknown }).error === "object"
      ? ((body as { error: ApiErrorBody }).error ?? {})
      : {};
  const code = typeof detail.code === "string" ? detail.code : undefined;
  const param = typeof detail.param === "string" ? detail.param : undefined;
  const text = typeof detail.message === "string" ? detail.message : typeof body === "string" ? body : response.statusText;
  const message = `${response.status}${code === undefined ? "" : ` ${code}`}: ${text}`;
  const retryAfter = retryAfterMs(response.headers);
  return errorForStatus(response.status, message, {
    code,
    param,
    body,
    requestId: response.headers.get("x-request-id") ?? undefined,
    retryAfter: retryAfter === undefined ? undefined : retryAfter / 1000,
  });
}
