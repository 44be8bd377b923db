// Package evalguard is the client of the EvalGuard API: send live traffic,
// trigger auto-evals, wait for them, read their results, manage projects and
// API keys. Standard library only.
//
//	client := evalguard.NewClient(os.Getenv("EVALGUARD_API_KEY"))
//	job, err := client.AutoEval.Create(ctx, target, 100, nil)
package evalguard

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Version of this package, sent in the User-Agent.
const Version = "0.1.0"

// Defaults of a new Client.
const (
	DefaultBaseURL    = "http://127.0.0.1:8080"
	DefaultTimeout    = 60 * time.Second
	DefaultMaxRetries = 2
)

// Client calls the EvalGuard API. It is safe for concurrent use.
type Client struct {
	AutoEval *AutoEvalService
	Traffic  *TrafficService
	Projects *ProjectsService
	Keys     *KeysService

	apiKey     string
	baseURL    string
	timeout    time.Duration
	maxRetries int
	http       *http.Client
	headers    http.Header
}

// NewClient makes a client with an API key (an empty one falls back to the
// environment variable EVALGUARD_API_KEY).
func NewClient(apiKey string, opts ...Option) *Client {
	if apiKey == "" {
		apiKey = os.Getenv("EVALGUARD_API_KEY")
	}
	c := &Client{
		apiKey:     apiKey,
		baseURL:    DefaultBaseURL,
		timeout:    DefaultTimeout,
		maxRetries: DefaultMaxRetries,
		http:       http.DefaultClient,
		headers:    http.Header{},
	}
	if env := os.Getenv("EVALGUARD_BASE_URL"); env != "" {
		c.baseURL = strings.TrimRight(env, "/")
	}
	for _, opt := range opts {
		opt(c)
	}
	c.AutoEval = &AutoEvalService{c: c}
	c.Traffic = &TrafficService{c: c}
	c.Projects = &ProjectsService{c: c}
	c.Keys = &KeysService{c: c}
	return c
}

// BaseURL is the server's URL the client calls.
func (c *Client) BaseURL() string { return c.baseURL }

// Format prints the client's settings and never its API key, whatever the verb
// (%v, %+v, %#v, %s…), for a Client and a *Client alike.
func (c Client) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "evalguard.Client{BaseURL: %q, Timeout: %s, MaxRetries: %d}", c.baseURL, c.timeout, c.maxRetries)
}

// String describes the client without its API key.
func (c Client) String() string { return fmt.Sprintf("%v", c) }

// Request calls any endpoint with a JSON body (nil for none) and answers the
// decoded JSON of a 2xx answer (a map[string]any for an object). Any other
// answer is an *Error. Requests that are safe to repeat are retried.
func (c *Client) Request(ctx context.Context, method, path string, body any) (any, error) {
	var out any
	err := c.Do(ctx, &RawRequest{Method: method, Path: path, Body: body}, &out)
	return out, err
}

// RawRequest is a request with every option, for Client.Do.
type RawRequest struct {
	Method string
	// Path from the server's root, e.g. "/api/v1/auto-eval".
	Path  string
	Query url.Values
	// Body is sent as JSON unless nil; a json.RawMessage is sent as is.
	Body   any
	Header http.Header
	// IdempotencyKey makes a POST safe to retry: the server answers a repeat
	// with the first result. NewIdempotencyKey makes one.
	IdempotencyKey string
	// MaxRetries overrides the client's when not nil.
	MaxRetries *int
}

// Do sends a request and decodes a 2xx answer into out (unless out is nil or
// the answer empty). It retries 408, 429, 5xx and connection failures when the
// request is safe to repeat: GET, HEAD, OPTIONS, or any with an Idempotency-Key.
func (c *Client) Do(ctx context.Context, r *RawRequest, out any) error {
	method := strings.ToUpper(r.Method)
	if c.apiKey == "" {
		return errors.New("evalguard: no API key: pass one to NewClient or set EVALGUARD_API_KEY")
	}
	target, err := url.Parse(c.baseURL + "/" + strings.TrimLeft(r.Path, "/"))
	if err != nil {
		return fmt.Errorf("evalguard: bad URL for path %q: %w", r.Path, err)
	}
	if len(r.Query) > 0 {
		target.RawQuery = r.Query.Encode()
	}
	var payload []byte
	if r.Body != nil {
		if raw, ok := r.Body.(json.RawMessage); ok {
			payload = raw
		} else if payload, err = json.Marshal(r.Body); err != nil {
			return fmt.Errorf("evalguard: encoding the request body: %w", err)
		}
	}
	retries := 0
	if safeMethod(method) || r.IdempotencyKey != "" {
		retries = c.maxRetries
		if r.MaxRetries != nil {
			retries = *r.MaxRetries
		}
	}
	for attempt := 0; ; attempt++ {
		status, header, body, err := c.attempt(ctx, method, target.String(), payload, r)
		if err != nil {
			if ctx.Err() != nil {
				return &ConnectionError{Method: method, Path: r.Path, Err: ctx.Err()}
			}
			if attempt < retries {
				if werr := sleepContext(ctx, backoff(attempt, jitter)); werr != nil {
					return &ConnectionError{Method: method, Path: r.Path, Err: werr}
				}
				continue
			}
			return &ConnectionError{Method: method, Path: r.Path, Err: err}
		}
		if status >= 200 && status < 300 {
			if out == nil || len(bytes.TrimSpace(body)) == 0 {
				return nil
			}
			if err := json.Unmarshal(body, out); err != nil {
				return fmt.Errorf("evalguard: decoding the answer of %s %s: %w", method, r.Path, err)
			}
			return nil
		}
		apiErr := errorFromResponse(&http.Response{StatusCode: status, Header: header}, body, time.Now())
		if attempt < retries && retryableStatus(status) {
			wait, asked := retryAfter(header, time.Now())
			if !asked {
				wait = backoff(attempt, jitter)
			}
			if wait <= maxRetryAfter {
				if werr := sleepContext(ctx, wait); werr != nil {
					return apiErr
				}
				continue
			}
		}
		return apiErr
	}
}

// attempt sends the request once and reads the whole answer within the timeout.
func (c *Client) attempt(ctx context.Context, method, target string, payload []byte, r *RawRequest) (int, http.Header, []byte, error) {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return 0, nil, nil, err
	}
	for name, values := range c.headers {
		req.Header[name] = values
	}
	for name, values := range r.Header {
		req.Header[http.CanonicalHeaderKey(name)] = values
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "evalguard-go/"+Version)
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.IdempotencyKey != "" {
		req.Header.Set("Idempotency-Key", r.IdempotencyKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, unwrapURLError(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	return resp.StatusCode, resp.Header, data, nil
}

// unwrapURLError keeps the cause of a *url.Error: its text repeats the URL,
// which adds nothing to the ConnectionError's method and path.
func unwrapURLError(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// NewIdempotencyKey makes a random Idempotency-Key (a UUID v4).
func NewIdempotencyKey() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; a time-based key
		// still keeps retries of this one call together.
		return fmt.Sprintf("evalguard-%d", time.Now().UnixNano())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
