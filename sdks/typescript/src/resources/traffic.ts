import { randomUUID } from "node:crypto";
import { Buffer } from "node:buffer";

import type { CallOptions, EvalGuard } from "../client.js";
import { TrafficBuffer, type TrafficBufferOptions } from "../traffic-buffer.js";
import type { TrafficAccepted, TrafficSample } from "../types.js";

/** The server's limits on one `POST /api/v1/traffic`. */
export const MAX_SAMPLES_PER_REQUEST = 10_000;
export const MAX_TRAFFIC_BODY_BYTES = 16 * 1024 * 1024;

export interface SendOptions extends CallOptions {
  /** Samples per request (at most 10,000). */
  maxBatchSamples?: number;
  /** Bytes per request body (the server's default limit is 16 MiB). */
  maxBatchBytes?: number;
}

const OPEN = '{"samples":[';
const CLOSE = "]}";

/**
 * Splits serialised samples into request bodies of at most `maxSamples`
 * samples and `maxBytes` bytes. A sample too large on its own gets a body of
 * its own, which the server then refuses with a 413.
 */
export function* trafficBodies(encoded: readonly string[], maxSamples: number, maxBytes: number): Generator<{ json: string; count: number }> {
  let parts: string[] = [];
  let bytes = OPEN.length + CLOSE.length;
  for (const part of encoded) {
    const size = Buffer.byteLength(part) + (parts.length > 0 ? 1 : 0);
    if (parts.length > 0 && (parts.length >= maxSamples || bytes + size > maxBytes)) {
      yield { json: OPEN + parts.join(",") + CLOSE, count: parts.length };
      parts = [];
      bytes = OPEN.length + CLOSE.length;
    }
    bytes += Buffer.byteLength(part) + (parts.length > 0 ? 1 : 0);
    parts.push(part);
  }
  if (parts.length > 0) yield { json: OPEN + parts.join(",") + CLOSE, count: parts.length };
}

/** `/api/v1/traffic`: send live traffic, in bulk or one sample at a time through a buffer. */
export class Traffic {
  readonly #client: EvalGuard;

  constructor(client: EvalGuard) {
    this.#client = client;
  }

  /**
   * Sends any number of samples, in as many requests as the server's limits
   * need, one after another; answers how many were accepted. A sample without
   * an `id` is given a random one, so that a retried request stores it once.
   */
  async send(samples: readonly TrafficSample[], options: SendOptions = {}): Promise<number> {
    const { maxBatchSamples, maxBatchBytes, ...call } = options;
    const maxSamples = Math.min(MAX_SAMPLES_PER_REQUEST, Math.max(1, maxBatchSamples ?? MAX_SAMPLES_PER_REQUEST));
    const maxBytes = Math.max(1, maxBatchBytes ?? MAX_TRAFFIC_BODY_BYTES);
    const encoded = samples.map((s) => JSON.stringify(s.id === undefined ? { id: randomUUID(), ...s } : s));
    let accepted = 0;
    for (const { json } of trafficBodies(encoded, maxSamples, maxBytes)) {
      const answer = await this.#client.request<TrafficAccepted>({
        idempotencyKey: true,
        ...call,
        method: "POST",
        path: "/api/v1/traffic",
        rawJson: json,
      });
      accepted += answer.accepted;
    }
    return accepted;
  }

  /**
   * A buffer for samples produced one at a time: `add` returns at once and
   * batches go out in the background (on size, on an interval, and when the
   * process is about to exit). Call `close()` when done.
   */
  buffer(options: TrafficBufferOptions = {}): TrafficBuffer {
    return new TrafficBuffer((batch) => this.send(batch), options);
  }
}
