package evalguard_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/evalguard/evalguard-go"
)

func batchSizes(t *testing.T, seen []seenRequest) []int {
	t.Helper()
	var sizes []int
	for _, r := range seen {
		var body struct {
			Samples []json.RawMessage `json:"samples"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(body.Samples))
	}
	return sizes
}

func TestTrafficSendSplitsRequests(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	mustCreateProject(t, srv.Client(), "helpers")
	p := startProxy(t, srv.BaseURL, func(*http.Request, int) action { return forward })
	c := evalguard.NewClient(srv.OwnerKey, evalguard.WithBaseURL(p.URL))
	target := evalguard.Target{Model: "gpt-4o-mini", PromptID: "split", ProjectID: "helpers"}
	batch := samples(25, target)

	if n, err := c.Traffic.Send(ctx, batch, evalguard.BatchSamples(10)); err != nil || n != 25 {
		t.Fatalf("%d %v", n, err)
	}
	if got := batchSizes(t, p.Seen()); !reflect.DeepEqual(got, []int{10, 10, 5}) {
		t.Fatalf("batches %v", got)
	}

	p.Reset()
	if n, err := c.Traffic.Send(ctx, batch, evalguard.BatchBytes(2000)); err != nil || n != 25 {
		t.Fatalf("%d %v", n, err)
	}
	total := 0
	for i, r := range p.Seen() {
		if len(r.Body) > 2000 {
			t.Fatalf("request %d has %d bytes", i, len(r.Body))
		}
		total += batchSizes(t, []seenRequest{r})[0]
	}
	if total != 25 || len(p.Seen()) < 2 {
		t.Fatalf("%d samples in %d requests", total, len(p.Seen()))
	}

	p.Reset()
	big := samples(10_001, evalguard.Target{Model: "gpt-4o-mini", PromptID: "big", ProjectID: "helpers"})
	if n, err := c.Traffic.Send(ctx, big); err != nil || n != 10_001 {
		t.Fatalf("%d %v", n, err)
	}
	if got := batchSizes(t, p.Seen()); !reflect.DeepEqual(got, []int{10_000, 1}) {
		t.Fatalf("batches %v", got)
	}
	// Samples without ids get fresh ones on each Send: sent twice, stored twice.
	if got := storedCount(t, srv.Client(), target); got != 50 {
		t.Fatalf("stored %d samples, want 50", got)
	}
}

func TestTrafficSendStaysWithinTheBodyLimit(t *testing.T) {
	srv := startServer(t)
	mustCreateProject(t, srv.Client(), "helpers")
	p := startProxy(t, srv.BaseURL, func(*http.Request, int) action { return forward })
	c := evalguard.NewClient(srv.OwnerKey, evalguard.WithBaseURL(p.URL))
	// About 21 MiB in 3,000 samples: under the sample limit, over the byte limit.
	batch := samples(3000, evalguard.Target{Model: "gpt-4o-mini", PromptID: "large", ProjectID: "helpers"})
	for i := range batch {
		batch[i].Output = strings.Repeat("x", 7000)
	}
	if n, err := c.Traffic.Send(context.Background(), batch); err != nil || n != 3000 {
		t.Fatalf("%d %v", n, err)
	}
	seen := p.Seen()
	if len(seen) != 2 {
		t.Fatalf("%d requests", len(seen))
	}
	for _, r := range seen {
		if len(r.Body) > evalguard.MaxTrafficBodyBytes {
			t.Fatalf("%d bytes", len(r.Body))
		}
	}
}

func TestJobsResultsAndWait(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	c := srv.Client()
	mustCreateProject(t, c, "helpers")

	t.Run("created, waited for, results read across pages", func(t *testing.T) {
		target := evalguard.Target{Model: "gpt-4o-mini", PromptID: "paged", ProjectID: "helpers"}
		if _, err := c.Traffic.Send(ctx, samples(7, target)); err != nil {
			t.Fatal(err)
		}
		created, err := c.AutoEval.Create(ctx, target, 7, &evalguard.AutoEvalOptions{Scorers: []string{"refusal", "output_length"}})
		if err != nil {
			t.Fatal(err)
		}
		job, err := c.AutoEval.Wait(ctx, created.JobID, time.Minute, evalguard.PollEvery(50*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		if job.Status != evalguard.JobSucceeded || job.Progress.Total != 7 || job.Summary["refusal"].N != 7 {
			t.Fatalf("%+v", job)
		}
		if unit := job.Summary["output_length"].Unit; unit == "" {
			t.Fatal("a measurement names its unit")
		}

		var requests int
		counting := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			requests++
			return http.DefaultTransport.RoundTrip(r)
		})}
		paged := evalguard.NewClient(srv.OwnerKey, evalguard.WithBaseURL(srv.BaseURL), evalguard.WithHTTPClient(counting))
		all, err := paged.AutoEval.Results(ctx, created.JobID, evalguard.AllResults, evalguard.PageSize(2)).All()
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 7 || requests != 4 {
			t.Fatalf("%d results in %d requests", len(all), requests)
		}
		ids := map[string]bool{}
		for _, r := range all {
			ids[r.SampleID] = true
		}
		if len(ids) != 7 {
			t.Fatal("a result came twice")
		}

		flagged, err := c.AutoEval.Results(ctx, created.JobID, evalguard.OnlyFlagged, evalguard.PageSize(1)).All()
		if err != nil {
			t.Fatal(err)
		}
		unflagged, err := c.AutoEval.Results(ctx, created.JobID, evalguard.OnlyUnflagged, evalguard.PageSize(1)).All()
		if err != nil {
			t.Fatal(err)
		}
		if len(flagged) < 2 || len(flagged)+len(unflagged) != 7 {
			t.Fatalf("%d flagged, %d not", len(flagged), len(unflagged))
		}
		for _, r := range flagged {
			score := r.Scores["refusal"]
			if !r.Flagged || score.Outcome != evalguard.OutcomeScored || score.Value == nil {
				t.Fatalf("%+v", r)
			}
		}
	})

	t.Run("jobs listed across pages, newest first", func(t *testing.T) {
		target := evalguard.Target{Model: "gpt-4o-mini", PromptID: "listed", ProjectID: "helpers"}
		var want []string
		for i := 0; i < 3; i++ {
			created, err := c.AutoEval.Create(ctx, target, 1, nil)
			if err != nil {
				t.Fatal(err)
			}
			want = append([]string{created.JobID}, want...)
		}
		it := c.AutoEval.List(ctx, evalguard.JobFilter{ProjectID: "helpers"}, evalguard.PageSize(1))
		var got []string
		for it.Next() {
			if j := it.Current(); j.Target.PromptID == "listed" {
				got = append(got, j.JobID)
			}
		}
		if it.Err() != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%v %v, want %v", got, it.Err(), want)
		}
	})
}

func TestWaitGivesUpAtItsTimeout(t *testing.T) {
	apiOnly := startServer(t, "--workers", "0")
	ctx := context.Background()
	c := apiOnly.Client()
	mustCreateProject(t, c, "helpers")
	created, err := c.AutoEval.Create(ctx, evalguard.Target{Model: "m", PromptID: "p", ProjectID: "helpers"}, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	_, err = c.AutoEval.Wait(ctx, created.JobID, 300*time.Millisecond, evalguard.PollEvery(50*time.Millisecond))
	var timeout *evalguard.WaitTimeoutError
	if !errors.As(err, &timeout) || timeout.Job.Status != evalguard.JobQueued || timeout.Job.JobID != created.JobID {
		t.Fatalf("%v", err)
	}
	if elapsed := time.Since(started); elapsed < 300*time.Millisecond || elapsed > 5*time.Second {
		t.Fatalf("gave up after %s", elapsed)
	}
	cancelled, err := c.AutoEval.Cancel(ctx, created.JobID)
	if err != nil || cancelled.Status != evalguard.JobCancelled {
		t.Fatalf("%+v %v", cancelled, err)
	}
	if job, err := c.AutoEval.Wait(ctx, created.JobID, time.Second); err != nil || job.Status != evalguard.JobCancelled {
		t.Fatalf("%+v %v", job, err)
	}
}

func TestProjectsAndKeys(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	c := srv.Client()
	for _, id := range []string{"p-a", "p-b", "p-c"} {
		if _, err := c.Projects.Create(ctx, evalguard.ProjectParams{ID: id, Name: "Project " + id}); err != nil {
			t.Fatal(err)
		}
	}
	if p, err := c.Projects.Get(ctx, "p-b"); err != nil || p.Name != "Project p-b" {
		t.Fatalf("%+v %v", p, err)
	}
	projects, err := c.Projects.List(ctx, evalguard.PageSize(2)).All()
	if err != nil || len(projects) != 3 || projects[0].ID != "p-a" || projects[2].ID != "p-c" {
		t.Fatalf("%+v %v", projects, err)
	}

	created, err := c.Keys.Create(ctx, evalguard.KeyParams{Role: evalguard.RoleViewer, Name: "dashboard reader"})
	if err != nil || created.Role != evalguard.RoleViewer || len(created.Key) < 20 {
		t.Fatalf("%+v %v", created, err)
	}
	keys, err := c.Keys.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, k := range keys {
		found = found || (k.KeyID == created.KeyID && k.Name != nil && *k.Name == "dashboard reader")
	}
	if !found {
		t.Fatalf("the new key is not listed: %+v", keys)
	}
	reader := evalguard.NewClient(created.Key, evalguard.WithBaseURL(srv.BaseURL))
	if _, err := reader.Projects.List(ctx).All(); err != nil {
		t.Fatal(err)
	}
	revoked, err := c.Keys.Revoke(ctx, created.KeyID)
	if err != nil || revoked.RevokedAt == nil {
		t.Fatalf("%+v %v", revoked, err)
	}
	if _, err := reader.Projects.List(ctx).All(); !errors.Is(err, evalguard.ErrUnauthorized) {
		t.Fatalf("a revoked key: %v", err)
	}
}
