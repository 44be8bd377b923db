/**
 * When and how long to wait before repeating a request: exponential backoff
 * with jitter, or the server's `Retry-After` when it gave one.
 */

/** Statuses worth repeating: timeouts, rate limits and server failures. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Methods that change nothing, so repeating them is always safe. */
export function isSafeMethod(method: string): boolean {
  return method === "GET" || method === "HEAD" || method === "OPTIONS";
}

const INITIAL_DELAY_MS = 500;
const MAX_DELAY_MS = 8_000;

/** The delay before retry number `retry` (0 for the first): 0.5 s, 1 s, 2 s… up to 8 s, less up to 25% jitter. */
export function backoffDelayMs(retry: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_DELAY_MS, INITIAL_DELAY_MS * 2 ** retry);
  return base * (1 - 0.25 * random());
}

/**
 * The wait a `Retry-After` (delay-seconds or an HTTP date) or `retry-after-ms`
 * header asks for, in milliseconds; `undefined` when absent or unreadable.
 */
export function retryAfterMs(headers: Headers, now: number = Date.now()): number | undefined {
  const ms = headers.get("retry-after-ms");
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) {
    return Number(ms);
  }
  const raw = headers.get("retry-after");
  if (raw === null) return undefined;
  const value = raw.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
