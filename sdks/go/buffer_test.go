package evalguard_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/evalguard/evalguard-go"
)

type drop struct {
	n      int
	reason evalguard.DropReason
	err    error
}

type dropLog struct {
	mu    sync.Mutex
	drops []drop
}

func (d *dropLog) record(samples []evalguard.Sample, reason evalguard.DropReason, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.drops = append(d.drops, drop{len(samples), reason, err})
}

func (d *dropLog) all() []drop {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]drop(nil), d.drops...)
}

func TestBuffer(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	mustCreateProject(t, srv.Client(), "buffer")
	p := startProxy(t, srv.BaseURL, func(*http.Request, int) action { return forward })
	c := evalguard.NewClient(srv.OwnerKey, evalguard.WithBaseURL(p.URL))
	target := func(prompt string) evalguard.Target {
		return evalguard.Target{Model: "gpt-4o-mini", PromptID: prompt, ProjectID: "buffer"}
	}

	t.Run("a full batch goes out at once, the rest on Close", func(t *testing.T) {
		p.Reset()
		b := c.Traffic.NewBuffer(evalguard.BufferOptions{MaxBatchSize: 3, FlushInterval: time.Hour})
		started := time.Now()
		for _, s := range samples(7, target("by-size")) {
			if !b.Add(s) {
				t.Fatal("dropped")
			}
		}
		if time.Since(started) > 50*time.Millisecond {
			t.Fatal("Add waited")
		}
		eventually(t, 10*time.Second, func() bool { return b.Stats().Sent == 6 })
		if st := b.Stats(); st.Queued != 1 {
			t.Fatalf("%+v", st)
		}
		if err := b.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if st := b.Stats(); st.Sent != 7 || st.Queued != 0 {
			t.Fatalf("%+v", st)
		}
		if got := batchSizes(t, p.Seen()); !reflect.DeepEqual(got, []int{3, 3, 1}) {
			t.Fatalf("batches %v", got)
		}
		if got := storedCount(t, c, target("by-size")); got != 7 {
			t.Fatalf("stored %d", got)
		}
	})

	t.Run("a partial batch goes out on the interval", func(t *testing.T) {
		b := c.Traffic.NewBuffer(evalguard.BufferOptions{FlushInterval: 50 * time.Millisecond})
		defer b.Close(ctx)
		b.Add(samples(1, target("by-interval"))[0])
		eventually(t, 5*time.Second, func() bool { return b.Stats().Sent == 1 })
	})

	t.Run("Flush sends what is queued now", func(t *testing.T) {
		b := c.Traffic.NewBuffer(evalguard.BufferOptions{FlushInterval: time.Hour})
		defer b.Close(ctx)
		for _, s := range samples(4, target("by-flush")) {
			b.Add(s)
		}
		if err := b.Flush(ctx); err != nil || b.Stats().Sent != 4 {
			t.Fatalf("%+v %v", b.Stats(), err)
		}
	})

	t.Run("a full queue drops to the callback", func(t *testing.T) {
		var log dropLog
		b := c.Traffic.NewBuffer(evalguard.BufferOptions{MaxBatchSize: 100, MaxQueueSize: 2, FlushInterval: time.Hour, OnDrop: log.record})
		s := samples(3, target("bounded"))
		if !b.Add(s[0]) || !b.Add(s[1]) || b.Add(s[2]) {
			t.Fatal("the third sample should be dropped")
		}
		if err := b.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if b.Add(s[2]) {
			t.Fatal("Add after Close")
		}
		want := []drop{{1, evalguard.DropQueueFull, nil}, {1, evalguard.DropClosed, nil}}
		if got := log.all(); !reflect.DeepEqual(got, want) {
			t.Fatalf("%+v", got)
		}
		if st := b.Stats(); st.Sent != 2 || st.Dropped != 2 {
			t.Fatalf("%+v", st)
		}
	})

	t.Run("a batch that cannot be sent is reported, not returned to the caller", func(t *testing.T) {
		url := refusedURL(t)
		var log dropLog
		unreachable := evalguard.NewClient("k", evalguard.WithBaseURL(url), evalguard.WithMaxRetries(0))
		b := unreachable.Traffic.NewBuffer(evalguard.BufferOptions{OnDrop: log.record})
		b.Add(samples(1, target("unsent"))[0])
		if err := b.Close(ctx); err != nil {
			t.Fatal(err)
		}
		got := log.all()
		var connErr *evalguard.ConnectionError
		if len(got) != 1 || got[0].reason != evalguard.DropSendFailed || !errors.As(got[0].err, &connErr) {
			t.Fatalf("%+v", got)
		}
	})
}
