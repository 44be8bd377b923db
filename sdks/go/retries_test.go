package evalguard_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/evalguard/evalguard-go"
)

// recordingClient records the status of every answer.
func recordingClient(key, baseURL string) (*evalguard.Client, func() []int) {
	var mu sync.Mutex
	var statuses []int
	h := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err == nil {
			mu.Lock()
			statuses = append(statuses, resp.StatusCode)
			mu.Unlock()
		}
		return resp, err
	})}
	c := evalguard.NewClient(key, evalguard.WithBaseURL(baseURL), evalguard.WithHTTPClient(h))
	return c, func() []int {
		mu.Lock()
		defer mu.Unlock()
		return append([]int(nil), statuses...)
	}
}

// exhaust uses up a key's rate limit and answers the first 429.
func exhaust(t *testing.T, key, baseURL string) *evalguard.Error {
	t.Helper()
	c := evalguard.NewClient(key, evalguard.WithBaseURL(baseURL), evalguard.WithMaxRetries(0))
	for i := 0; i < 1000; i++ {
		_, err := c.Projects.List(context.Background()).All()
		var apiErr *evalguard.Error
		if errors.As(err, &apiErr) && apiErr.Status == http.StatusTooManyRequests {
			return apiErr
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("the rate limit never answered 429")
	return nil
}

func TestRateLimit(t *testing.T) {
	limited := startServer(t, "--rate-limit-per-minute", "60")

	t.Run("429 is a typed error with Retry-After", func(t *testing.T) {
		apiErr := exhaust(t, limited.CreateKey("viewer", ""), limited.BaseURL)
		if apiErr.Code != "rate_limited" || apiErr.RetryAfter < time.Second {
			t.Fatalf("%+v", apiErr)
		}
		if !errors.Is(apiErr, evalguard.ErrTooManyRequests) {
			t.Fatal("errors.Is(err, ErrTooManyRequests)")
		}
	})

	t.Run("a GET refused with 429 is retried after Retry-After", func(t *testing.T) {
		key := limited.CreateKey("viewer", "")
		exhaust(t, key, limited.BaseURL)
		c, statuses := recordingClient(key, limited.BaseURL)
		started := time.Now()
		projects, err := c.Projects.List(context.Background()).All()
		if err != nil || len(projects) != 0 {
			t.Fatalf("%v %v", projects, err)
		}
		got := statuses()
		if got[0] != 429 || got[len(got)-1] != 200 {
			t.Fatalf("statuses %v", got)
		}
		// Retry-After is at least 1 s; the first backoff step alone is at most 0.5 s.
		if elapsed := time.Since(started); elapsed < 900*time.Millisecond {
			t.Fatalf("retried after %s", elapsed)
		}
	})

	t.Run("a POST without an Idempotency-Key is not retried", func(t *testing.T) {
		key := limited.CreateKey("owner", "")
		exhaust(t, key, limited.BaseURL)
		c, statuses := recordingClient(key, limited.BaseURL)
		_, err := c.Projects.Create(context.Background(), evalguard.ProjectParams{ID: "never"})
		if !errors.Is(err, evalguard.ErrTooManyRequests) {
			t.Fatal(err)
		}
		if got := statuses(); len(got) != 1 {
			t.Fatalf("statuses %v", got)
		}
	})
}

func TestLostAnswers(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	direct := srv.Client()
	mustCreateProject(t, direct, "retries")

	t.Run("an auto-eval whose answer is lost is retried with the same key: one job", func(t *testing.T) {
		p := startProxy(t, srv.BaseURL, dropFirst("POST", "/api/v1/auto-eval"))
		c := evalguard.NewClient(srv.OwnerKey, evalguard.WithBaseURL(p.URL))
		target := evalguard.Target{Model: "gpt-4o-mini", PromptID: "idempotent", ProjectID: "retries"}
		created, err := c.AutoEval.Create(ctx, target, 5, nil)
		if err != nil {
			t.Fatal(err)
		}
		seen := p.Seen()
		if len(seen) != 2 {
			t.Fatalf("want the call retried once, saw %d requests", len(seen))
		}
		k1, k2 := seen[0].Header.Get("Idempotency-Key"), seen[1].Header.Get("Idempotency-Key")
		if k1 == "" || k1 != k2 {
			t.Fatalf("keys %q %q", k1, k2)
		}
		if ua := seen[0].Header.Get("User-Agent"); ua != "evalguard-go/"+evalguard.Version {
			t.Fatalf("User-Agent %q", ua)
		}
		jobs, err := direct.AutoEval.List(ctx, evalguard.JobFilter{ProjectID: "retries"}).All()
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, j := range jobs {
			if j.Target.PromptID == "idempotent" {
				ids = append(ids, j.JobID)
			}
		}
		if len(ids) != 1 || ids[0] != created.JobID {
			t.Fatalf("jobs %v, created %s", ids, created.JobID)
		}
	})

	t.Run("traffic whose answer is lost is retried and stored once", func(t *testing.T) {
		p := startProxy(t, srv.BaseURL, dropFirst("POST", "/api/v1/traffic"))
		c := evalguard.NewClient(srv.OwnerKey, evalguard.WithBaseURL(p.URL))
		target := evalguard.Target{Model: "gpt-4o-mini", PromptID: "traffic-once", ProjectID: "retries"}
		n, err := c.Traffic.Send(ctx, samples(3, target))
		if err != nil || n != 3 {
			t.Fatalf("%d %v", n, err)
		}
		if seen := p.Seen(); len(seen) != 2 || seen[0].Header.Get("Idempotency-Key") != seen[1].Header.Get("Idempotency-Key") {
			t.Fatalf("seen %d", len(seen))
		}
		if got := storedCount(t, direct, target); got != 3 {
			t.Fatalf("stored %d samples, want 3", got)
		}
	})

	t.Run("a 503 is retried after its Retry-After", func(t *testing.T) {
		p := startProxy(t, srv.BaseURL, func(r *http.Request, n int) action {
			if r.Method == "GET" && n == 1 {
				return action{status: 503, retryAfter: "0"}
			}
			return forward
		})
		c := evalguard.NewClient(srv.OwnerKey, evalguard.WithBaseURL(p.URL))
		project, err := c.Projects.Get(ctx, "retries")
		if err != nil || project.ID != "retries" || len(p.Seen()) != 2 {
			t.Fatalf("%v %v %d", project, err, len(p.Seen()))
		}
	})

	t.Run("a POST without an Idempotency-Key whose answer is lost is not repeated", func(t *testing.T) {
		p := startProxy(t, srv.BaseURL, func(*http.Request, int) action { return action{drop: true} })
		c := evalguard.NewClient(srv.OwnerKey, evalguard.WithBaseURL(p.URL))
		_, err := c.Projects.Create(ctx, evalguard.ProjectParams{ID: "once"})
		var connErr *evalguard.ConnectionError
		if !errors.As(err, &connErr) || len(p.Seen()) != 1 {
			t.Fatalf("%v, %d requests", err, len(p.Seen()))
		}
	})
}
