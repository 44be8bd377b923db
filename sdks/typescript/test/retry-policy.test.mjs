// The retry policy's pure parts: backoff growth and jitter, Retry-After forms.
import assert from "node:assert/strict";
import { test } from "node:test";

import { backoffDelayMs, isRetryableStatus, isSafeMethod, retryAfterMs } from "../dist/esm/retry.js";

test("backoff doubles from 0.5 s up to 8 s, less at most 25% jitter", () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 10].map((n) => backoffDelayMs(n, () => 0)),
    [500, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000],
  );
  assert.equal(backoffDelayMs(0, () => 1), 375);
  for (let i = 0; i < 100; i++) {
    const d = backoffDelayMs(2);
    assert.ok(d > 1_500 && d <= 2_000, String(d));
  }
});

test("Retry-After is read as seconds, as an HTTP date, or as retry-after-ms", () => {
  const now = Date.parse("2026-12-01T12:00:00Z");
  assert.equal(retryAfterMs(new Headers({ "retry-after": "3" }), now), 3_000);
  assert.equal(retryAfterMs(new Headers({ "retry-after": "Tue, 01 Dec 2026 12:00:05 GMT" }), now), 5_000);
  assert.equal(retryAfterMs(new Headers({ "retry-after": "Tue, 01 Dec 2026 11:00:00 GMT" }), now), 0);
  assert.equal(retryAfterMs(new Headers({ "retry-after-ms": "250", "retry-after": "9" }), now), 250);
  assert.equal(retryAfterMs(new Headers({ "retry-after": "soon" }), now), undefined);
  assert.equal(retryAfterMs(new Headers(), now), undefined);
});

test("408, 429 and 5xx are retried; other statuses are not; only GET-like methods are safe", () => {
  for (const s of [408, 429, 500, 502, 503, 504]) assert.ok(isRetryableStatus(s), String(s));
  for (const s of [400, 401, 403, 404, 409, 413, 422]) assert.ok(!isRetryableStatus(s), String(s));
  assert.ok(isSafeMethod("GET"));
  assert.ok(!isSafeMethod("POST"));
  assert.ok(!isSafeMethod("DELETE"));
});
