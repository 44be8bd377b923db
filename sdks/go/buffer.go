package evalguard

import (
	"context"
	"sync"
	"time"
)

// DropReason says why a Buffer dropped samples.
type DropReason string

const (
	// DropQueueFull: Add found the queue at MaxQueueSize.
	DropQueueFull DropReason = "queue_full"
	// DropSendFailed: the batch could not be sent, after the retries.
	DropSendFailed DropReason = "send_failed"
	// DropClosed: Add after Close.
	DropClosed DropReason = "closed"
)

// BufferOptions configure a Buffer; zero fields take the defaults.
type BufferOptions struct {
	// MaxBatchSize: send as soon as this many samples are queued (default 1,000; at most 10,000).
	MaxBatchSize int
	// FlushInterval: send what is queued at least this often (default 1 s).
	FlushInterval time.Duration
	// MaxQueueSize: samples held at most; beyond, Add drops the sample (default 100,000).
	MaxQueueSize int
	// OnDrop hears of every sample that will not be sent (err is set for DropSendFailed).
	// It is called from Add or from the buffer's goroutine, and must not block.
	OnDrop func(samples []Sample, reason DropReason, err error)
}

// BufferStats counts a Buffer's samples.
type BufferStats struct {
	Queued, Sent, Dropped int
}

// Buffer batches samples added one at a time and sends them from its own
// goroutine. Add never waits for the network. Close it (e.g. with defer before
// main returns) to send what is left: Go runs no code at process exit.
type Buffer struct {
	send     func([]Sample) (int, error)
	opts     BufferOptions
	mu       sync.Mutex
	queue    []Sample
	closed   bool
	stats    BufferStats
	full     chan struct{}
	flushReq chan chan struct{}
	stop     chan struct{}
	stopped  chan struct{}
	once     sync.Once
}

// NewBuffer starts a buffer that sends through this service.
func (s *TrafficService) NewBuffer(opts BufferOptions) *Buffer {
	send := func(batch []Sample) (int, error) { return s.Send(context.Background(), batch) }
	return newBuffer(send, opts)
}

func newBuffer(send func([]Sample) (int, error), opts BufferOptions) *Buffer {
	if opts.MaxBatchSize <= 0 {
		opts.MaxBatchSize = 1_000
	}
	if opts.MaxBatchSize > MaxSamplesPerRequest {
		opts.MaxBatchSize = MaxSamplesPerRequest
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = time.Second
	}
	if opts.MaxQueueSize <= 0 {
		opts.MaxQueueSize = 100_000
	}
	b := &Buffer{
		send:     send,
		opts:     opts,
		full:     make(chan struct{}, 1),
		flushReq: make(chan chan struct{}),
		stop:     make(chan struct{}),
		stopped:  make(chan struct{}),
	}
	go b.run()
	return b
}

// Add queues a sample without waiting; false when it was dropped (queue full
// or buffer closed), which OnDrop also hears of.
func (b *Buffer) Add(sample Sample) bool {
	b.mu.Lock()
	var reason DropReason
	switch {
	case b.closed:
		reason = DropClosed
	case len(b.queue) >= b.opts.MaxQueueSize:
		reason = DropQueueFull
	default:
		b.queue = append(b.queue, sample)
		full := len(b.queue) >= b.opts.MaxBatchSize
		b.mu.Unlock()
		if full {
			select {
			case b.full <- struct{}{}:
			default: // already signalled
			}
		}
		return true
	}
	b.stats.Dropped++
	b.mu.Unlock()
	b.drop([]Sample{sample}, reason, nil)
	return false
}

// Flush sends everything queued now and returns when it is sent (or dropped),
// or when ctx ends.
func (b *Buffer) Flush(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case b.flushReq <- done:
	case <-b.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close sends what is left and stops the buffer; later Adds are dropped. It
// returns when all is sent, or when ctx ends (sending then goes on).
func (b *Buffer) Close(ctx context.Context) error {
	b.once.Do(func() {
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
		close(b.stop)
	})
	select {
	case <-b.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats answers the buffer's counts so far.
func (b *Buffer) Stats() BufferStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.stats
	s.Queued = len(b.queue)
	return s
}

func (b *Buffer) run() {
	ticker := time.NewTicker(b.opts.FlushInterval)
	defer ticker.Stop()
	defer close(b.stopped)
	for {
		select {
		case <-b.full:
			b.drain(false)
		case <-ticker.C:
			b.drain(true)
		case done := <-b.flushReq:
			b.drain(true)
			close(done)
		case <-b.stop:
			b.drain(true)
			return
		}
	}
}

// drain sends full batches, or (all) everything queued. A size-triggered
// drain leaves a partial batch for the interval.
func (b *Buffer) drain(all bool) {
	for {
		b.mu.Lock()
		threshold := b.opts.MaxBatchSize
		if all {
			threshold = 1
		}
		if len(b.queue) < threshold {
			b.mu.Unlock()
			return
		}
		n := b.opts.MaxBatchSize
		if n > len(b.queue) {
			n = len(b.queue)
		}
		batch := make([]Sample, n)
		copy(batch, b.queue)
		b.queue = b.queue[n:]
		b.mu.Unlock()

		accepted, err := b.send(batch)
		b.mu.Lock()
		b.stats.Sent += accepted
		if err != nil {
			b.stats.Dropped += len(batch) - accepted
		}
		b.mu.Unlock()
		if err != nil {
			b.drop(batch[accepted:], DropSendFailed, err)
		}
	}
}

func (b *Buffer) drop(samples []Sample, reason DropReason, err error) {
	if b.opts.OnDrop != nil {
		b.opts.OnDrop(samples, reason, err)
	}
}
