import type { CallOptions, EvalGuard } from "../client.js";
import { WaitTimeoutError } from "../errors.js";
import { PageIterator } from "../pagination.js";
import { sleep } from "../retry.js";
import type { AutoEvalOptions, Job, JobCreated, JobStatus, Page, SampleResult, Target } from "../types.js";

const TERMINAL: ReadonlySet<JobStatus> = new Set(["succeeded", "failed", "cancelled"]);

export interface WaitOptions {
  /** Give up after this many milliseconds (default 10 minutes) with a `WaitTimeoutError`. */
  timeout?: number;
  /** Between two reads of the job, in milliseconds (default 1,000). */
  pollInterval?: number;
  signal?: AbortSignal;
}

export interface ResultsOptions {
  /** `true`: only flagged samples; `false`: only the others. */
  flagged?: boolean;
  /** Results per page, 1 to 1,000 (the server's default is 100). */
  limit?: number;
}

function jobPath(jobId: string): string {
  return `/api/v1/auto-eval/${encodeURIComponent(jobId)}`;
}

/** `/api/v1/auto-eval`: trigger, read, wait for, cancel jobs and read their results. */
export class AutoEval {
  readonly #client: EvalGuard;

  constructor(client: EvalGuard) {
    this.#client = client;
  }

  /**
   * Triggers an auto-eval (`202 {job_id}`). Carries an Idempotency-Key (one
   * generated unless given), so a retried call never starts a second job.
   */
  create(
    target: Target,
    sampleCount = 100,
    extras: AutoEvalOptions = {},
    options: CallOptions = {},
  ): Promise<JobCreated> {
    return this.#client.request<JobCreated>({
      idempotencyKey: true,
      ...options,
      method: "POST",
      path: "/api/v1/auto-eval",
      body: { ...extras, target, sample_count: sampleCount },
    });
  }

  get(jobId: string, options: CallOptions = {}): Promise<Job> {
    return this.#client.request<Job>({ ...options, method: "GET", path: jobPath(jobId) });
  }

  /** Cancels a job; a finished job is answered unchanged. */
  cancel(jobId: string, options: CallOptions = {}): Promise<Job> {
    return this.#client.request<Job>({
      idempotencyKey: true,
      ...options,
      method: "POST",
      path: `${jobPath(jobId)}/cancel`,
    });
  }

  /**
   * Reads the job until it is `succeeded`, `failed` or `cancelled`, and
   * answers it; past `timeout`, throws a `WaitTimeoutError` holding the last
   * state read (the job goes on: cancel it if it is no longer wanted).
   */
  async wait(jobId: string, options: WaitOptions = {}): Promise<Job> {
    const timeout = options.timeout ?? 600_000;
    const pollInterval = options.pollInterval ?? 1_000;
    const deadline = Date.now() + timeout;
    for (;;) {
      const job = await this.get(jobId, { signal: options.signal });
      if (TERMINAL.has(job.status)) return job;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new WaitTimeoutError(
          `job ${jobId} is still ${job.status} after ${timeout} ms (${job.progress.done}/${job.progress.total} samples done)`,
          job,
        );
      }
      await sleep(Math.min(pollInterval, left), options.signal);
    }
  }

  /** Jobs, newest first, page after page. */
  list(
    params: { project_id?: string; status?: JobStatus; limit?: number } = {},
    options: CallOptions = {},
  ): PageIterator<Job> {
    return new PageIterator((cursor) =>
      this.#client.request<Page<Job>>({
        ...options,
        method: "GET",
        path: "/api/v1/auto-eval",
        query: { ...params, cursor },
      }),
    );
  }

  /** Every per-sample result of a job, page after page: `results(id, true)` for the flagged ones. */
  results(jobId: string, flagged?: boolean | ResultsOptions, options: CallOptions = {}): PageIterator<SampleResult> {
    const params: ResultsOptions = typeof flagged === "object" ? flagged : { flagged };
    return new PageIterator(async (cursor) => {
      const page = await this.#client.request<Page<SampleResult>>({
        ...options,
        method: "GET",
        path: `${jobPath(jobId)}/results`,
        query: { flagged: params.flagged, limit: params.limit, cursor },
      });
      // `flagged: false` means "only the others"; filtering here too keeps that
      // meaning with servers that answer every result to `?flagged=false`.
      return params.flagged === false ? { ...page, data: page.data.filter((r) => !r.flagged) } : page;
    });
  }
}
