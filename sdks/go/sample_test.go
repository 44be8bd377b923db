package evalguard_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/evalguard/evalguard-go"
)

// The published Go sample, in a module of its own that requires this one,
// runs unchanged: its empty target is refused with a 400 that it panics with.
func TestPublishedSampleRunsUnchanged(t *testing.T) {
	srv := startServer(t)
	sdk, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	app := t.TempDir()
	sample, err := os.ReadFile(filepath.Join("testdata", "published", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	goMod := "module example.com/app\n\ngo 1.19\n\nrequire github.com/evalguard/evalguard-go v0.0.0\n\n" +
		"replace github.com/evalguard/evalguard-go => " + sdk + "\n"
	for name, content := range map[string][]byte{"go.mod": []byte(goMod), "main.go": sample} {
		if err := os.WriteFile(filepath.Join(app, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "run", ".")
	cmd.Dir = app
	cmd.Env = append(os.Environ(), "EVALGUARD_API_KEY="+srv.OwnerKey, "EVALGUARD_BASE_URL="+srv.BaseURL,
		"GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("the sample should panic with the API's 400; err %v, stderr %s", err, stderr.String())
	}
	if !regexp.MustCompile(`panic: evalguard: 400 invalid_request: .*\(param target\.model\)`).MatchString(stderr.String()) {
		t.Fatalf("stderr: %s", stderr.String())
	}
	if strings.Contains(stderr.String(), srv.OwnerKey) {
		t.Fatal("the key was printed")
	}
}

func TestPublishedCallGetsTypedBadRequest(t *testing.T) {
	srv := startServer(t)
	t.Setenv("EVALGUARD_BASE_URL", srv.BaseURL)
	t.Setenv("EVALGUARD_API_KEY", srv.OwnerKey)
	client := evalguard.NewClient(os.Getenv("EVALGUARD_API_KEY"))
	_, err := client.Request(context.Background(), "POST", "/api/v1/auto-eval", map[string]any{"target": map[string]any{}, "sample_count": 100})
	var apiErr *evalguard.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("want *evalguard.Error, got %T %v", err, err)
	}
	if apiErr.Status != 400 || apiErr.Code != "invalid_request" || apiErr.Param != "target.model" || apiErr.Message == "" {
		t.Fatalf("%+v", apiErr)
	}
	if !errors.Is(err, evalguard.ErrBadRequest) {
		t.Fatal("errors.Is(err, ErrBadRequest)")
	}
}

func TestPublishedCallWithCompleteTargetAnswersJobID(t *testing.T) {
	srv := startServer(t)
	client := srv.Client()
	mustCreateProject(t, client, "support-bot")
	resp, err := client.Request(context.Background(), "POST", "/api/v1/auto-eval", map[string]any{
		"target":       map[string]any{"model": "gpt-4o-mini", "prompt_id": "answer-v3", "project_id": "support-bot"},
		"sample_count": 100,
	})
	if err != nil {
		t.Fatal(err)
	}
	answer, ok := resp.(map[string]any)
	if !ok || len(answer) != 1 {
		t.Fatalf("%#v", resp)
	}
	id, _ := answer["job_id"].(string)
	if !regexp.MustCompile(`^[0-9a-f-]{36}$`).MatchString(id) {
		t.Fatalf("job_id %q", id)
	}
	job, err := client.AutoEval.Get(context.Background(), id)
	if err != nil || job.JobID != id || job.Target.PromptID != "answer-v3" {
		t.Fatalf("%+v %v", job, err)
	}
}
