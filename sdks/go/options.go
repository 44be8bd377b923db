package evalguard

import (
	"net/http"
	"strings"
	"time"
)

// Option configures a Client.
type Option func(*Client)

// WithBaseURL sets the server's URL (default: EVALGUARD_BASE_URL, else
// http://127.0.0.1:8080).
func WithBaseURL(url string) Option {
	return func(c *Client) { c.baseURL = strings.TrimRight(url, "/") }
}

// WithMaxRetries sets how many times a failed safe request is repeated (default 2).
func WithMaxRetries(n int) Option {
	return func(c *Client) {
		if n < 0 {
			n = 0
		}
		c.maxRetries = n
	}
}

// WithTimeout sets the time each attempt may take, reading the whole answer
// included (default 60 s).
func WithTimeout(d time.Duration) Option {
	return func(c *Client) { c.timeout = d }
}

// WithHTTPClient sets the http.Client requests go through (its Transport,
// proxy and TLS settings); the per-request timeout still applies.
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) { c.http = h }
}

// WithHeader adds a header to every request.
func WithHeader(name, value string) Option {
	return func(c *Client) { c.headers.Set(name, value) }
}
