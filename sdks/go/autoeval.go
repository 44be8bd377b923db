package evalguard

import (
	"context"
	"encoding/json"
	"net/url"
	"time"
)

// AutoEvalService triggers auto-evals, reads, waits for and cancels them, and
// reads their results (/api/v1/auto-eval).
type AutoEvalService struct{ c *Client }

func jobPath(jobID string) string { return "/api/v1/auto-eval/" + url.PathEscape(jobID) }

// Create triggers an auto-eval of sampleCount recent samples of target (opts
// may be nil). It carries an Idempotency-Key (generated unless opts gives one),
// so a retried call never starts a second job.
func (s *AutoEvalService) Create(ctx context.Context, target Target, sampleCount int, opts *AutoEvalOptions) (*JobCreated, error) {
	body := map[string]any{}
	key := NewIdempotencyKey()
	if opts != nil {
		// The options' own JSON form, then the required fields over it.
		encoded, err := json.Marshal(opts)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(encoded, &body); err != nil {
			return nil, err
		}
		if opts.IdempotencyKey != "" {
			key = opts.IdempotencyKey
		}
	}
	body["target"] = target
	body["sample_count"] = sampleCount
	var created JobCreated
	err := s.c.Do(ctx, &RawRequest{Method: "POST", Path: "/api/v1/auto-eval", Body: body, IdempotencyKey: key}, &created)
	if err != nil {
		return nil, err
	}
	return &created, nil
}

// Get reads a job.
func (s *AutoEvalService) Get(ctx context.Context, jobID string) (*Job, error) {
	var job Job
	if err := s.c.Do(ctx, &RawRequest{Method: "GET", Path: jobPath(jobID)}, &job); err != nil {
		return nil, err
	}
	return &job, nil
}

// Cancel cancels a job; a finished job is answered unchanged.
func (s *AutoEvalService) Cancel(ctx context.Context, jobID string) (*Job, error) {
	var job Job
	r := &RawRequest{Method: "POST", Path: jobPath(jobID) + "/cancel", IdempotencyKey: NewIdempotencyKey()}
	if err := s.c.Do(ctx, r, &job); err != nil {
		return nil, err
	}
	return &job, nil
}

// WaitOption tunes Wait.
type WaitOption func(*waitSettings)

type waitSettings struct{ every time.Duration }

// PollEvery sets the time between two reads of the job (default 1 s).
func PollEvery(d time.Duration) WaitOption {
	return func(w *waitSettings) { w.every = d }
}

// Wait reads the job until it is succeeded, failed or cancelled, and answers
// it. Past timeout it returns a *WaitTimeoutError holding the last state read.
func (s *AutoEvalService) Wait(ctx context.Context, jobID string, timeout time.Duration, opts ...WaitOption) (*Job, error) {
	settings := waitSettings{every: time.Second}
	for _, opt := range opts {
		opt(&settings)
	}
	deadline := time.Now().Add(timeout)
	for {
		job, err := s.Get(ctx, jobID)
		if err != nil {
			return nil, err
		}
		if job.Status.Terminal() {
			return job, nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, &WaitTimeoutError{Job: job, Timeout: timeout}
		}
		wait := settings.every
		if wait > left {
			wait = left
		}
		if err := sleepContext(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// JobFilter narrows List; empty fields do not filter.
type JobFilter struct {
	ProjectID string
	Status    JobStatus
}

// List walks jobs, newest first.
func (s *AutoEvalService) List(ctx context.Context, filter JobFilter, opts ...ListOption) *Iter[Job] {
	q := url.Values{}
	if filter.ProjectID != "" {
		q.Set("project_id", filter.ProjectID)
	}
	if filter.Status != "" {
		q.Set("status", string(filter.Status))
	}
	return newIter[Job](ctx, s.c, "/api/v1/auto-eval", q, opts)
}

// ResultFilter chooses which results Results walks.
type ResultFilter int

const (
	// AllResults: every sample's result.
	AllResults ResultFilter = iota
	// OnlyFlagged: the results with a score that did not pass.
	OnlyFlagged
	// OnlyUnflagged: the others.
	OnlyUnflagged
)

// Results walks every per-sample result of a job, page after page.
func (s *AutoEvalService) Results(ctx context.Context, jobID string, filter ResultFilter, opts ...ListOption) *Iter[SampleResult] {
	q := url.Values{}
	switch filter {
	case OnlyFlagged:
		q.Set("flagged", "true")
	case OnlyUnflagged:
		q.Set("flagged", "false")
	}
	it := newIter[SampleResult](ctx, s.c, jobPath(jobID)+"/results", q, opts)
	if filter == OnlyUnflagged {
		// Filtering here too keeps "only the others" with servers that answer
		// every result to ?flagged=false.
		it.keep = func(r SampleResult) bool { return !r.Flagged }
	}
	return it
}
