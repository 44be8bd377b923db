package evalguard_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evalguard/evalguard-go"
)

// The tests run against the real server: `evalguard serve` on a fresh SQLite
// database, keys made with `evalguard keys create`.

func evalguardBin(t *testing.T) string {
	if bin := os.Getenv("EVALGUARD_BIN"); bin != "" {
		return bin
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(wd, "..", "..", "target", "debug", "evalguard")
}

type server struct {
	t           *testing.T
	bin         string
	databaseURL string
	BaseURL     string
	OwnerKey    string
}

// startServer runs `evalguard serve` with extra flags until the test ends.
func startServer(t *testing.T, flags ...string) *server {
	t.Helper()
	bin := evalguardBin(t)
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("no evalguard binary at %s (set EVALGUARD_BIN): %v", bin, err)
	}
	s := &server{t: t, bin: bin, databaseURL: "sqlite://" + filepath.Join(t.TempDir(), "evalguard.db")}
	s.OwnerKey = s.CreateKey("owner", "")
	port := freePort(t)
	args := append([]string{"serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--database-url", s.databaseURL}, flags...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "EVALGUARD_LOG=warn")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	s.BaseURL = fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("evalguard serve exited: %s", stderr.String())
		default:
		}
		if resp, err := http.Get(s.BaseURL + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("evalguard serve did not start: %s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// CreateKey makes a key with `evalguard keys create`; project "" = organization-wide.
func (s *server) CreateKey(role, project string) string {
	s.t.Helper()
	args := []string{"keys", "create", "--database-url", s.databaseURL, "--org", "acme", "--role", role}
	if project != "" {
		args = append(args, "--project", project)
	}
	cmd := exec.Command(s.bin, args...)
	cmd.Env = append(os.Environ(), "EVALGUARD_LOG=warn")
	out, err := cmd.Output()
	if err != nil {
		s.t.Fatalf("keys create: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// Client is a client of this server with the owner's key.
func (s *server) Client(opts ...evalguard.Option) *evalguard.Client {
	return evalguard.NewClient(s.OwnerKey, append([]evalguard.Option{evalguard.WithBaseURL(s.BaseURL)}, opts...)...)
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// refusedURL is the URL of a port nothing listens on.
func refusedURL(t *testing.T) string {
	return fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
}

// seenRequest is a request the proxy saw.
type seenRequest struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// action is what the proxy does with a request: forward it, forward it and
// cut the connection instead of answering ("drop"), or answer a status itself.
type action struct {
	drop       bool
	status     int
	retryAfter string
}

var forward = action{}

// proxy sits in front of a server; plan decides per request (n counts the
// requests with the same method and path, from 1).
type proxy struct {
	URL  string
	mu   sync.Mutex
	seen []seenRequest
}

func startProxy(t *testing.T, target string, plan func(r *http.Request, n int) action) *proxy {
	p := &proxy{}
	counts := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		key := r.Method + " " + r.URL.Path
		counts[key]++
		n := counts[key]
		p.seen = append(p.seen, seenRequest{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		p.mu.Unlock()
		a := plan(r, n)
		if a.status != 0 {
			w.Header().Set("Content-Type", "application/json")
			if a.retryAfter != "" {
				w.Header().Set("Retry-After", a.retryAfter)
			}
			w.WriteHeader(a.status)
			_, _ = w.Write([]byte(`{"error":{"code":"proxy","message":"answered by the test proxy"}}`))
			return
		}
		req, _ := http.NewRequestWithContext(context.Background(), r.Method, target+r.URL.RequestURI(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if a.drop {
			// The server did the work; the client never hears of it.
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(answer)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Seen answers the requests seen so far.
func (p *proxy) Seen() []seenRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]seenRequest(nil), p.seen...)
}

func (p *proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen = nil
}

// dropFirst drops the answer to the first request with this method and path.
func dropFirst(method, path string) func(*http.Request, int) action {
	return func(r *http.Request, n int) action {
		if r.Method == method && r.URL.Path == path && n == 1 {
			return action{drop: true}
		}
		return forward
	}
}

// samples makes n valid samples of a target; every third is a refusal.
func samples(n int, target evalguard.Target) []evalguard.Sample {
	out := make([]evalguard.Sample, n)
	for i := range out {
		output := fmt.Sprintf("answer %d", i)
		if i%3 == 0 {
			output = "I'm sorry, I can't help with that."
		}
		out[i] = evalguard.Sample{
			ProjectID: target.ProjectID, Model: target.Model, PromptID: target.PromptID,
			Input: fmt.Sprintf("question %d", i), Output: output,
			Context:   []string{fmt.Sprintf("passage %d", i)},
			LatencyMS: evalguard.Ptr(float64(100 + i)),
		}
	}
	return out
}

// storedCount answers how many samples of target the server stored, by running a job over them.
func storedCount(t *testing.T, c *evalguard.Client, target evalguard.Target) int {
	t.Helper()
	ctx := context.Background()
	created, err := c.AutoEval.Create(ctx, target, 1000, &evalguard.AutoEvalOptions{Scorers: []string{"output_length"}})
	if err != nil {
		t.Fatal(err)
	}
	job, err := c.AutoEval.Wait(ctx, created.JobID, 30*time.Second, evalguard.PollEvery(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if job.Status != evalguard.JobSucceeded {
		t.Fatalf("job %s: %+v", job.Status, job.Error)
	}
	return job.Progress.Total
}

func mustCreateProject(t *testing.T, c *evalguard.Client, id string) {
	t.Helper()
	if _, err := c.Projects.Create(context.Background(), evalguard.ProjectParams{ID: id}); err != nil {
		t.Fatal(err)
	}
}

// eventually polls condition until it holds, failing after timeout.
func eventually(t *testing.T, timeout time.Duration, condition func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !condition() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
