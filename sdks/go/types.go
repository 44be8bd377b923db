package evalguard

import (
	"encoding/json"
	"time"
)

// JobStatus is where a job is in its life; the last three are terminal.
type JobStatus string

const (
	JobQueued    JobStatus = "queued"
	JobRunning   JobStatus = "running"
	JobSucceeded JobStatus = "succeeded"
	JobFailed    JobStatus = "failed"
	JobCancelled JobStatus = "cancelled"
)

// Terminal reports whether the job is finished (it never changes again).
func (s JobStatus) Terminal() bool {
	return s == JobSucceeded || s == JobFailed || s == JobCancelled
}

// FlagKind is what a flag warns of.
type FlagKind string

const (
	FlagHallucination FlagKind = "hallucination"
	FlagDrift         FlagKind = "drift"
	FlagRegression    FlagKind = "regression"
)

// Severity of a flag.
type Severity string

const (
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
)

// Role of an API key, from least to most powerful.
type Role string

const (
	RoleViewer Role = "viewer"
	RoleMember Role = "member"
	RoleAdmin  Role = "admin"
	RoleOwner  Role = "owner"
)

// Outcome of one scorer on one sample; only OutcomeScored carries a value.
type Outcome string

const (
	OutcomeScored        Outcome = "scored"
	OutcomeNotApplicable Outcome = "not_applicable"
	OutcomeUnparsable    Outcome = "unparsable"
	OutcomeError         Outcome = "error"
)

// Target is what an auto-eval evaluates: one prompt of one project, served by one model.
type Target struct {
	Model     string `json:"model"`
	PromptID  string `json:"prompt_id"`
	ProjectID string `json:"project_id"`
}

// Sample is one traffic sample. Optional numbers are pointers (evalguard.Ptr
// makes one) so that a zero is sent as zero and an unknown is left out.
// Traffic.Send gives a sample without ID a random one, so that a retried
// request stores it once.
type Sample struct {
	ID               string         `json:"id,omitempty"`
	ProjectID        string         `json:"project_id"`
	Model            string         `json:"model"`
	PromptID         string         `json:"prompt_id"`
	Input            string         `json:"input"`
	Output           string         `json:"output"`
	Context          []string       `json:"context,omitempty"`
	Reference        string         `json:"reference,omitempty"`
	Timestamp        *time.Time     `json:"timestamp,omitempty"`
	Metadata         map[string]any `json:"metadata,omitempty"`
	LatencyMS        *float64       `json:"latency_ms,omitempty"`
	PromptTokens     *int64         `json:"prompt_tokens,omitempty"`
	CompletionTokens *int64         `json:"completion_tokens,omitempty"`
}

// Ptr answers a pointer to v, for the optional fields of Sample and AutoEvalOptions.
func Ptr[T any](v T) *T { return &v }

// Thresholds of the flag decisions; nil fields keep the project's.
type Thresholds struct {
	Alpha             *float64 `json:"alpha,omitempty"`
	MinEffect         *float64 `json:"min_effect,omitempty"`
	HallucinationRate *float64 `json:"hallucination_rate,omitempty"`
	DriftFDR          *float64 `json:"drift_fdr,omitempty"`
	DriftDistance     *float64 `json:"drift_distance,omitempty"`
}

// Baseline names what a job compares with: another model of the same prompt
// (Model and PromptID) or a time window (From and To).
type Baseline struct {
	Model    string     `json:"model,omitempty"`
	PromptID string     `json:"prompt_id,omitempty"`
	From     *time.Time `json:"from,omitempty"`
	To       *time.Time `json:"to,omitempty"`
}

// AutoEvalOptions are the optional parts of an auto-eval request.
type AutoEvalOptions struct {
	Scorers    []string    `json:"scorers,omitempty"`
	Baseline   *Baseline   `json:"baseline,omitempty"`
	Repeats    int         `json:"repeats,omitempty"`
	Cache      *bool       `json:"cache,omitempty"`
	MaxCostUSD *float64    `json:"max_cost_usd,omitempty"`
	Thresholds *Thresholds `json:"thresholds,omitempty"`
	// IdempotencyKey replaces the one generated for the call.
	IdempotencyKey string `json:"-"`
}

// JobCreated is the answer to a new auto-eval.
type JobCreated struct {
	JobID string `json:"job_id"`
}

// Progress of a job over its selected samples.
type Progress struct {
	Total  int `json:"total"`
	Done   int `json:"done"`
	Errors int `json:"errors"`
}

// Usage is what a job spent on judges.
type Usage struct {
	JudgeRequests    int64    `json:"judge_requests"`
	PromptTokens     int64    `json:"prompt_tokens"`
	CompletionTokens int64    `json:"completion_tokens"`
	CacheHits        int64    `json:"cache_hits"`
	CostUSD          *float64 `json:"cost_usd,omitempty"`
}

// Evidence holds the numbers behind a flag; fields that do not apply are nil,
// and test-specific numbers are in Extra.
type Evidence struct {
	Test      string   `json:"test,omitempty"`
	Statistic *float64 `json:"statistic,omitempty"`
	PValue    *float64 `json:"p_value,omitempty"`
	PAdjusted *float64 `json:"p_adjusted,omitempty"`
	// Effect is current minus baseline, on the higher-is-better scale.
	Effect    *float64       `json:"effect,omitempty"`
	CILow     *float64       `json:"ci_low,omitempty"`
	CIHigh    *float64       `json:"ci_high,omitempty"`
	NCurrent  *int64         `json:"n_current,omitempty"`
	NBaseline *int64         `json:"n_baseline,omitempty"`
	Extra     map[string]any `json:"-"`
}

var evidenceFields = []string{"test", "statistic", "p_value", "p_adjusted", "effect", "ci_low", "ci_high", "n_current", "n_baseline"}

// UnmarshalJSON reads the named fields, and keeps the others in Extra.
func (e *Evidence) UnmarshalJSON(data []byte) error {
	type named Evidence
	if err := json.Unmarshal(data, (*named)(e)); err != nil {
		return err
	}
	var all map[string]any
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	for _, f := range evidenceFields {
		delete(all, f)
	}
	if len(all) > 0 {
		e.Extra = all
	}
	return nil
}

// Flag is a drift, regression or hallucination raised by a job.
type Flag struct {
	Kind     FlagKind `json:"kind"`
	Severity Severity `json:"severity"`
	Metric   string   `json:"metric"`
	Message  string   `json:"message"`
	Evidence Evidence `json:"evidence"`
}

// OutcomeCounts counts a scorer's outcomes over a job's samples.
type OutcomeCounts struct {
	Scored        int64 `json:"scored"`
	NotApplicable int64 `json:"not_applicable"`
	Unparsable    int64 `json:"unparsable"`
	Error         int64 `json:"error"`
}

// SideSummary is the baseline's side of a scorer's summary.
type SideSummary struct {
	N    int64    `json:"n"`
	Mean *float64 `json:"mean"`
}

// ScorerSummary is one scorer's line of a job's summary.
type ScorerSummary struct {
	N        int64         `json:"n"`
	Mean     *float64      `json:"mean"`
	Unit     string        `json:"unit,omitempty"`
	Outcomes OutcomeCounts `json:"outcomes"`
	Baseline *SideSummary  `json:"baseline,omitempty"`
	// Agreement is, with repeats, the share of samples whose verdicts all agreed.
	Agreement *float64 `json:"agreement,omitempty"`
	// Skipped says why the scorer did not run.
	Skipped string `json:"skipped,omitempty"`
}

// BaselineInfo is the baseline a job used, or why it had none.
type BaselineInfo struct {
	Kind     string     `json:"kind"`
	Model    string     `json:"model,omitempty"`
	PromptID string     `json:"prompt_id,omitempty"`
	From     *time.Time `json:"from,omitempty"`
	To       *time.Time `json:"to,omitempty"`
	N        int64      `json:"n"`
	Reason   string     `json:"reason,omitempty"`
}

// JobWarning says the job's evidence is incomplete, e.g. judge verdicts missing.
type JobWarning struct {
	Code    string `json:"code"`
	Scorer  string `json:"scorer,omitempty"`
	Message string `json:"message"`
	Count   int64  `json:"count,omitempty"`
}

// JobError is why a job failed.
type JobError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Job is an auto-eval job.
type Job struct {
	JobID       string                   `json:"job_id"`
	Status      JobStatus                `json:"status"`
	Target      Target                   `json:"target"`
	SampleCount int                      `json:"sample_count"`
	CreatedAt   time.Time                `json:"created_at"`
	StartedAt   *time.Time               `json:"started_at"`
	FinishedAt  *time.Time               `json:"finished_at"`
	Progress    Progress                 `json:"progress"`
	Partial     bool                     `json:"partial"`
	StopReason  string                   `json:"stop_reason,omitempty"`
	Summary     map[string]ScorerSummary `json:"summary"`
	Flags       []Flag                   `json:"flags"`
	Usage       Usage                    `json:"usage"`
	Baseline    *BaselineInfo            `json:"baseline"`
	Warnings    []JobWarning             `json:"warnings,omitempty"`
	Error       *JobError                `json:"error"`
}

// Score is one scorer's outcome for one sample.
type Score struct {
	Outcome Outcome `json:"outcome"`
	// Value, Label, Reasoning and Passed: for OutcomeScored.
	Value     *float64 `json:"value,omitempty"`
	Label     string   `json:"label,omitempty"`
	Reasoning string   `json:"reasoning,omitempty"`
	Passed    *bool    `json:"passed,omitempty"`
	// Reason: for OutcomeNotApplicable and OutcomeUnparsable.
	Reason string `json:"reason,omitempty"`
	// Raw: the judge's unreadable reply, for OutcomeUnparsable.
	Raw string `json:"raw,omitempty"`
	// Cause: the provider's failure, for OutcomeError.
	Cause string `json:"cause,omitempty"`
}

// ResultSample is the sample a result is about, when the server includes it.
type ResultSample struct {
	Input     string    `json:"input"`
	Output    string    `json:"output"`
	Context   []string  `json:"context,omitempty"`
	Model     string    `json:"model"`
	PromptID  string    `json:"prompt_id"`
	Timestamp time.Time `json:"timestamp"`
}

// SampleResult is every scorer's outcome for one sample of a job.
type SampleResult struct {
	SampleID string           `json:"sample_id"`
	Flagged  bool             `json:"flagged"`
	Sample   *ResultSample    `json:"sample,omitempty"`
	Scores   map[string]Score `json:"scores"`
}

// ProjectSettings are a project's scorer set and thresholds.
type ProjectSettings struct {
	Scorers    []string   `json:"scorers,omitempty"`
	Thresholds Thresholds `json:"thresholds"`
}

// Project groups traffic, jobs and settings.
type Project struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	CreatedAt time.Time       `json:"created_at"`
	Settings  ProjectSettings `json:"settings"`
}

// APIKey is a key as listed: never its secret.
type APIKey struct {
	KeyID      string     `json:"key_id"`
	Role       Role       `json:"role"`
	ProjectID  *string    `json:"project_id"`
	Name       *string    `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// APIKeyCreated is a new key with its secret, shown this once.
type APIKeyCreated struct {
	APIKey
	Key string `json:"key"`
}

// page is one page of a list endpoint.
type page[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}
