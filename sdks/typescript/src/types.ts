/** The API's models, as the server sends and accepts them (snake_case fields). */

export type JobStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";
export type FlagKind = "hallucination" | "drift" | "regression";
export type Severity = "warning" | "critical";
export type Role = "viewer" | "member" | "admin" | "owner";

/** One prompt of one project, served by one model. */
export interface Target {
  model: string;
  prompt_id: string;
  project_id: string;
}

/** A traffic sample; the SDK gives a sample without `id` a random one, so a retried send stores it once. */
export interface TrafficSample {
  id?: string;
  project_id: string;
  model: string;
  prompt_id: string;
  input: string;
  output: string;
  context?: string | string[];
  reference?: string;
  /** RFC 3339; defaults to the time of receipt. */
  timestamp?: string;
  metadata?: Record<string, unknown>;
  latency_ms?: number;
  prompt_tokens?: number;
  completion_tokens?: number;
}

export interface Thresholds {
  alpha?: number;
  min_effect?: number;
  hallucination_rate?: number;
  drift_fdr?: number;
  drift_distance?: number;
}

/** Options of an auto-eval beyond its target and sample count. */
export interface AutoEvalOptions {
  scorers?: string[];
  baseline?: { model: string; prompt_id: string } | { from: string; to: string };
  repeats?: number;
  cache?: boolean;
  max_cost_usd?: number;
  thresholds?: Thresholds;
  [extra: string]: unknown;
}

export interface Progress {
  total: number;
  done: number;
  errors: number;
}

export interface Usage {
  judge_requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cache_hits: number;
  cost_usd?: number;
}

/** The numbers behind a flag; fields that do not apply are absent. */
export interface Evidence {
  test?: string;
  statistic?: number;
  p_value?: number;
  p_adjusted?: number;
  /** Current minus baseline, on the higher-is-better scale. */
  effect?: number;
  ci_low?: number;
  ci_high?: number;
  n_current?: number;
  n_baseline?: number;
  [extra: string]: unknown;
}

export interface Flag {
  kind: FlagKind;
  severity: Severity;
  metric: string;
  message: string;
  evidence: Evidence;
}

export interface OutcomeCounts {
  scored: number;
  not_applicable: number;
  unparsable: number;
  error: number;
}

export interface ScorerSummary {
  n: number;
  mean: number | null;
  unit?: string;
  outcomes: OutcomeCounts;
  baseline?: { n: number; mean: number | null };
  agreement?: number;
  skipped?: string;
}

export interface BaselineInfo {
  kind: string;
  model?: string;
  prompt_id?: string;
  from?: string;
  to?: string;
  n: number;
  reason?: string;
}

export interface JobWarning {
  code: string;
  scorer?: string;
  message: string;
  count?: number;
}

export interface Job {
  job_id: string;
  status: JobStatus;
  target: Target;
  sample_count: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  progress: Progress;
  partial: boolean;
  stop_reason?: string;
  summary: Record<string, ScorerSummary>;
  flags: Flag[];
  usage: Usage;
  baseline: BaselineInfo | null;
  warnings?: JobWarning[];
  error: { code: string; message: string } | null;
}

export interface JobCreated {
  job_id: string;
}

/** One scorer's outcome for one sample. */
export type ScoreOutcome =
  | { outcome: "scored"; value: number; label?: string; reasoning?: string; passed?: boolean }
  | { outcome: "not_applicable"; reason: string }
  | { outcome: "unparsable"; raw: string; reason: string }
  | { outcome: "error"; cause: string };

/** One item of a job's results. */
export interface SampleResult {
  sample_id: string;
  flagged: boolean;
  sample?: {
    input: string;
    output: string;
    context?: string[];
    model: string;
    prompt_id: string;
    timestamp: string;
  };
  scores: Record<string, ScoreOutcome>;
}

export interface Project {
  id: string;
  name: string;
  created_at: string;
  settings: { scorers?: string[]; thresholds: Thresholds };
}

/** An API key as listed: never its secret. */
export interface ApiKey {
  key_id: string;
  role: Role;
  project_id: string | null;
  name: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** A new key with its secret, shown this once. */
export interface ApiKeyCreated extends ApiKey {
  key: string;
}

/** One page of a list endpoint. */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface TrafficAccepted {
  accepted: number;
  stored?: number;
}
