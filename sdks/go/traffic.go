package evalguard

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
)

// The server's limits on one POST /api/v1/traffic.
const (
	MaxSamplesPerRequest = 10_000
	MaxTrafficBodyBytes  = 16 << 20
)

// TrafficService sends live traffic (/api/v1/traffic), in bulk with Send or
// one sample at a time through a Buffer.
type TrafficService struct{ c *Client }

// SendOption tunes how Send splits samples into requests.
type SendOption func(*sendSettings)

type sendSettings struct{ maxSamples, maxBytes int }

// BatchSamples sets the most samples in one request (at most 10,000).
func BatchSamples(n int) SendOption { return func(s *sendSettings) { s.maxSamples = n } }

// BatchBytes sets the largest request body (the server's default limit is 16 MiB).
func BatchBytes(n int) SendOption { return func(s *sendSettings) { s.maxBytes = n } }

// Send sends any number of samples, in as many requests as the server's
// limits need, one after another, and answers how many were accepted (on an
// error, those accepted before it). A sample without ID is given a random one,
// so that a request repeated after a lost answer stores each sample once.
func (s *TrafficService) Send(ctx context.Context, samples []Sample, opts ...SendOption) (int, error) {
	settings := sendSettings{maxSamples: MaxSamplesPerRequest, maxBytes: MaxTrafficBodyBytes}
	for _, opt := range opts {
		opt(&settings)
	}
	if settings.maxSamples < 1 || settings.maxSamples > MaxSamplesPerRequest {
		settings.maxSamples = MaxSamplesPerRequest
	}
	encoded := make([][]byte, len(samples))
	for i, sample := range samples {
		if sample.ID == "" {
			sample.ID = NewIdempotencyKey()
		}
		b, err := json.Marshal(sample)
		if err != nil {
			return 0, fmt.Errorf("evalguard: encoding sample %d: %w", i, err)
		}
		encoded[i] = b
	}
	accepted := 0
	for _, body := range trafficBodies(encoded, settings.maxSamples, settings.maxBytes) {
		var answer struct {
			Accepted int `json:"accepted"`
		}
		r := &RawRequest{Method: "POST", Path: "/api/v1/traffic", Body: json.RawMessage(body), IdempotencyKey: NewIdempotencyKey()}
		if err := s.c.Do(ctx, r, &answer); err != nil {
			return accepted, err
		}
		accepted += answer.Accepted
	}
	return accepted, nil
}

var (
	bodyOpen  = []byte(`{"samples":[`)
	bodyClose = []byte(`]}`)
)

// trafficBodies joins encoded samples into request bodies of at most
// maxSamples samples and maxBytes bytes, in order. A sample too large on its
// own gets a body of its own, which the server then refuses with a 413.
func trafficBodies(encoded [][]byte, maxSamples, maxBytes int) [][]byte {
	var bodies [][]byte
	var cur bytes.Buffer
	count := 0
	finish := func() {
		cur.Write(bodyClose)
		bodies = append(bodies, append([]byte(nil), cur.Bytes()...))
		cur.Reset()
		count = 0
	}
	for _, sample := range encoded {
		if count > 0 && (count >= maxSamples || cur.Len()+1+len(sample)+len(bodyClose) > maxBytes) {
			finish()
		}
		if count == 0 {
			cur.Write(bodyOpen)
		} else {
			cur.WriteByte(',')
		}
		cur.Write(sample)
		count++
	}
	if count > 0 {
		finish()
	}
	return bodies
}
