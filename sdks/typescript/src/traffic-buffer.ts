import type { TrafficSample } from "./types.js";

/** Why samples were dropped: the queue was full, sending failed after retries, or the buffer was closed. */
export type DropReason = "queue_full" | "send_failed" | "closed";

export interface TrafficBufferOptions {
  /** Send as soon as this many samples are queued (default 1,000; at most 10,000). */
  maxBatchSize?: number;
  /** Send what is queued at least this often, in milliseconds (default 1,000). */
  flushInterval?: number;
  /** Samples held at most; beyond, `add` drops the sample (default 100,000). */
  maxQueueSize?: number;
  /** Told about every sample that will not be sent. */
  onDrop?: (samples: TrafficSample[], reason: DropReason, error?: unknown) => void;
  /** Send what is left when the process is about to exit (default true). */
  flushOnExit?: boolean;
}

/** Batches samples added one at a time and sends them in the background. */
export class TrafficBuffer {
  readonly #send: (batch: TrafficSample[]) => Promise<number>;
  readonly #maxBatchSize: number;
  readonly #maxQueueSize: number;
  readonly #onDrop: TrafficBufferOptions["onDrop"];
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #onExit: (() => void) | undefined;
  #queue: TrafficSample[] = [];
  #sending: Promise<void> | undefined;
  #closed = false;
  #sent = 0;
  #dropped = 0;

  constructor(send: (batch: TrafficSample[]) => Promise<number>, options: TrafficBufferOptions = {}) {
    this.#send = send;
    this.#maxBatchSize = Math.min(10_000, Math.max(1, options.maxBatchSize ?? 1_000));
    this.#maxQueueSize = Math.max(1, options.maxQueueSize ?? 100_000);
    this.#onDrop = options.onDrop;
    // The timer must not keep an otherwise finished process alive.
    this.#timer = setInterval(() => this.#start(true), Math.max(1, options.flushInterval ?? 1_000));
    this.#timer.unref?.();
    if (options.flushOnExit ?? true) {
      // `beforeExit` (unlike `exit`) lets asynchronous work run: the last batch goes out.
      this.#onExit = () => void this.close();
      process.once("beforeExit", this.#onExit);
    }
  }

  /** Samples waiting to be sent. */
  get size(): number {
    return this.#queue.length;
  }

  /** Samples the server accepted so far. */
  get sent(): number {
    return this.#sent;
  }

  /** Samples dropped so far (each also reported to `onDrop`). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Queues a sample without waiting; `false` when it was dropped (queue full or buffer closed). */
  add(sample: TrafficSample): boolean {
    if (this.#closed) {
      this.#drop([sample], "closed");
      return false;
    }
    if (this.#queue.length >= this.#maxQueueSize) {
      this.#drop([sample], "queue_full");
      return false;
    }
    this.#queue.push(sample);
    // Started after the caller's synchronous code, so add() itself only queues.
    if (this.#queue.length >= this.#maxBatchSize) queueMicrotask(() => this.#start(false));
    return true;
  }

  /** Sends everything queued now; resolves when it has been sent (or dropped). */
  async flush(): Promise<void> {
    while (this.#sending !== undefined || this.#queue.length > 0) {
      this.#start(true);
      await this.#sending;
    }
  }

  /** Stops the timer, sends what is left; later `add`s are dropped. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    if (this.#onExit !== undefined) process.removeListener("beforeExit", this.#onExit);
    await this.flush();
  }

  /** Starts sending unless already sending: full batches only, or (`all`) everything queued. */
  #start(all: boolean): void {
    if (this.#sending !== undefined || this.#queue.length === 0) return;
    this.#sending = this.#drain(all).finally(() => {
      this.#sending = undefined;
    });
  }

  async #drain(all: boolean): Promise<void> {
    // A size-triggered drain leaves a partial batch for the interval to send.
    while (this.#queue.length >= (all ? 1 : this.#maxBatchSize)) {
      const batch = this.#queue.splice(0, this.#maxBatchSize);
      try {
        this.#sent += await this.#send(batch);
      } catch (error) {
        this.#drop(batch, "send_failed", error);
      }
    }
  }

  #drop(samples: TrafficSample[], reason: DropReason, error?: unknown): void {
    this.#dropped += samples.length;
    try {
      this.#onDrop?.(samples, reason, error);
    } catch {
      // A failing callback must not stop the buffer.
    }
  }
}
