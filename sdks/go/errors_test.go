package evalguard_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evalguard/evalguard-go"
)

// wantAPIError checks err is an *evalguard.Error with this status and code ("" = any code).
func wantAPIError(t *testing.T, err error, status int, code, param string) *evalguard.Error {
	t.Helper()
	var apiErr *evalguard.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("want *evalguard.Error, got %T %v", err, err)
	}
	if apiErr.Status != status || (code != "" && apiErr.Code != code) || apiErr.Param != param {
		t.Fatalf("want %d %s %q, got %+v", status, code, param, apiErr)
	}
	if !regexp.MustCompile(`^[a-z_]+$`).MatchString(apiErr.Code) || apiErr.Message == "" || apiErr.RequestID == "" {
		t.Fatalf("incomplete error %+v", apiErr)
	}
	return apiErr
}

func TestTypedErrors(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	owner := srv.Client()
	mustCreateProject(t, owner, "errors")
	target := evalguard.Target{Model: "gpt-4o-mini", PromptID: "answer-v3", ProjectID: "errors"}

	t.Run("400 names the field", func(t *testing.T) {
		_, err := owner.AutoEval.Create(ctx, target, 0, nil)
		wantAPIError(t, err, 400, "invalid_request", "sample_count")
		_, err = owner.Traffic.Send(ctx, []evalguard.Sample{{ProjectID: "errors", Model: "m", PromptID: "p", Input: "q", Output: "a", LatencyMS: evalguard.Ptr(-5.0)}})
		wantAPIError(t, err, 400, "invalid_request", "samples[0].latency_ms")
	})

	t.Run("401 for an unknown key, which no error shows", func(t *testing.T) {
		stranger := evalguard.NewClient("eg_not_a_real_key_0123456789", evalguard.WithBaseURL(srv.BaseURL))
		_, err := stranger.Projects.List(ctx).All()
		apiErr := wantAPIError(t, err, 401, "invalid_api_key", "")
		for _, text := range []string{err.Error(), fmt.Sprintf("%+v", apiErr), fmt.Sprintf("%#v", apiErr)} {
			if strings.Contains(text, "eg_not_a_real_key") {
				t.Fatalf("the key is shown: %s", text)
			}
		}
		if !errors.Is(err, evalguard.ErrUnauthorized) {
			t.Fatal("errors.Is(err, ErrUnauthorized)")
		}
	})

	t.Run("403 for a viewer and for another project's scoped key", func(t *testing.T) {
		viewer := evalguard.NewClient(srv.CreateKey("viewer", ""), evalguard.WithBaseURL(srv.BaseURL))
		_, err := viewer.AutoEval.Create(ctx, target, 10, nil)
		wantAPIError(t, err, 403, "insufficient_role", "")
		mustCreateProject(t, owner, "other")
		scoped := evalguard.NewClient(srv.CreateKey("member", "other"), evalguard.WithBaseURL(srv.BaseURL))
		_, err = scoped.Projects.Get(ctx, "errors")
		wantAPIError(t, err, 403, "", "")
	})

	t.Run("404 for a job that does not exist", func(t *testing.T) {
		_, err := owner.AutoEval.Get(ctx, "00000000-0000-0000-0000-000000000000")
		wantAPIError(t, err, 404, "not_found", "")
		if !errors.Is(err, evalguard.ErrNotFound) || errors.Is(err, evalguard.ErrConflict) {
			t.Fatal("errors.Is matches on the status")
		}
	})

	t.Run("409 for a taken project id", func(t *testing.T) {
		_, err := owner.Projects.Create(ctx, evalguard.ProjectParams{ID: "errors"})
		wantAPIError(t, err, 409, "project_exists", "")
	})
}

func TestRefusedConnectionIsRetriedThenAConnectionError(t *testing.T) {
	url := refusedURL(t)
	var calls int32
	counting := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		atomic.AddInt32(&calls, 1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	c := evalguard.NewClient("k", evalguard.WithBaseURL(url), evalguard.WithHTTPClient(counting))
	_, err := c.AutoEval.Get(context.Background(), "x")
	var connErr *evalguard.ConnectionError
	if !errors.As(err, &connErr) {
		t.Fatalf("want *ConnectionError, got %T %v", err, err)
	}
	if n := atomic.LoadInt32(&calls); n != 3 {
		t.Fatalf("a GET is tried once and retried twice, got %d calls", n)
	}
}

func TestSilentServerTimesOutPerRequest(t *testing.T) {
	release := make(chan struct{})
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer silent.Close()
	defer close(release)
	c := evalguard.NewClient("k", evalguard.WithBaseURL(silent.URL), evalguard.WithTimeout(200*time.Millisecond), evalguard.WithMaxRetries(0))
	started := time.Now()
	_, err := c.AutoEval.Get(context.Background(), "x")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want a deadline error, got %v", err)
	}
	if time.Since(started) > 5*time.Second {
		t.Fatal("the timeout was not applied")
	}
}

func TestClientNeverPrintsItsKey(t *testing.T) {
	const key = "eg_secret_0123456789abcdef"
	c := evalguard.NewClient(key, evalguard.WithBaseURL("http://127.0.0.1:1"))
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		if text := fmt.Sprintf(verb, c); strings.Contains(text, key) || strings.Contains(text, fmt.Sprintf("%x", key)) {
			t.Fatalf("%s shows the key: %s", verb, text)
		}
	}
	if text := fmt.Sprintf("%+v", *c); strings.Contains(text, key) {
		t.Fatalf("the client value shows the key: %s", text)
	}
}

func TestBaseURLFromOptionElseEnvironmentElseDefault(t *testing.T) {
	t.Setenv("EVALGUARD_BASE_URL", "")
	if got := evalguard.NewClient("k").BaseURL(); got != "http://127.0.0.1:8080" {
		t.Fatal(got)
	}
	t.Setenv("EVALGUARD_BASE_URL", "http://example.test:9000/")
	if got := evalguard.NewClient("k").BaseURL(); got != "http://example.test:9000" {
		t.Fatal(got)
	}
	if got := evalguard.NewClient("k", evalguard.WithBaseURL("http://other.test")).BaseURL(); got != "http://other.test" {
		t.Fatal(got)
	}
}

func TestMissingKeySaysHowToGiveOne(t *testing.T) {
	t.Setenv("EVALGUARD_API_KEY", "")
	_, err := evalguard.NewClient("").Request(context.Background(), "GET", "/api/v1/projects", nil)
	if err == nil || !strings.Contains(err.Error(), "EVALGUARD_API_KEY") {
		t.Fatal(err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
