package evalguard

import (
	"math/rand"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	initialBackoff = 500 * time.Millisecond
	maxBackoff     = 8 * time.Second
	// maxRetryAfter: a longer Retry-After is not waited for; the error is returned.
	maxRetryAfter = 60 * time.Second
)

// retryableStatus: timeouts, rate limits and server failures are worth repeating.
func retryableStatus(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// safeMethod: methods that change nothing, so repeating them is always safe.
func safeMethod(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// backoff is the wait before retry number n (0 for the first): 0.5 s, 1 s,
// 2 s… up to 8 s, less up to 25% jitter drawn from random (in [0, 1)).
func backoff(n int, random func() float64) time.Duration {
	d := initialBackoff
	for i := 0; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	if d > maxBackoff {
		d = maxBackoff
	}
	return time.Duration(float64(d) * (1 - 0.25*random()))
}

// retryAfter reads Retry-After (delay-seconds or an HTTP date) or retry-after-ms.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if ms := strings.TrimSpace(h.Get("Retry-After-Ms")); ms != "" {
		if v, err := strconv.ParseFloat(ms, 64); err == nil && v >= 0 {
			return time.Duration(v * float64(time.Millisecond)), true
		}
	}
	raw := strings.TrimSpace(h.Get("Retry-After"))
	if raw == "" {
		return 0, false
	}
	if secs, err := strconv.ParseUint(raw, 10, 32); err == nil {
		return time.Duration(secs) * time.Second, true
	}
	if at, err := http.ParseTime(raw); err == nil {
		if d := at.Sub(now); d > 0 {
			return d, true
		}
		return 0, true
	}
	return 0, false
}

// Go 1.19's global math/rand source starts from the same seed in every
// process, which would make clients retry in step; this one is seeded apart.
var (
	jitterMu     sync.Mutex
	jitterSource = rand.New(rand.NewSource(time.Now().UnixNano()))
)

// jitter is the random source of backoff, in [0, 1).
func jitter() float64 {
	jitterMu.Lock()
	defer jitterMu.Unlock()
	return jitterSource.Float64()
}
