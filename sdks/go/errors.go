package evalguard

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Error is an answer other than 2xx, with the API's error object. Use it with
// errors.As:
//
//	var apiErr *evalguard.Error
//	if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound { … }
//
// It never holds the API key or the request's headers.
type Error struct {
	// Status is the HTTP status, e.g. 400.
	Status int
	// Code is the API's snake_case error code, e.g. "invalid_request".
	Code string
	// Message says what is wrong, for a person.
	Message string
	// Param names the request field the error is about, e.g. "target.model".
	Param string
	// RequestID is the server's x-request-id, to quote when asking for help.
	RequestID string
	// RetryAfter is the wait the server asked for (429), zero when it did not say.
	RetryAfter time.Duration
	// Body is the answer as received.
	Body []byte
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "evalguard: %d", e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Param != "" {
		fmt.Fprintf(&b, " (param %s)", e.Param)
	}
	return b.String()
}

// Is makes errors.Is(err, evalguard.ErrNotFound) and the like match on the status.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == "" && t.Message == "" && t.Status == e.Status
}

// Errors to compare with errors.Is, one per status a client usually handles.
var (
	ErrBadRequest      = &Error{Status: http.StatusBadRequest}
	ErrUnauthorized    = &Error{Status: http.StatusUnauthorized}
	ErrForbidden       = &Error{Status: http.StatusForbidden}
	ErrNotFound        = &Error{Status: http.StatusNotFound}
	ErrConflict        = &Error{Status: http.StatusConflict}
	ErrTooManyRequests = &Error{Status: http.StatusTooManyRequests}
)

// ConnectionError is a request that got no answer: the connection failed, or
// the per-request timeout passed (then errors.Is(err, context.DeadlineExceeded)).
type ConnectionError struct {
	Method string
	Path   string
	Err    error
}

func (e *ConnectionError) Error() string {
	return fmt.Sprintf("evalguard: %s %s: no answer: %v", e.Method, e.Path, e.Err)
}

func (e *ConnectionError) Unwrap() error { return e.Err }

// WaitTimeoutError is AutoEval.Wait giving up before the job finished. Job is
// the last state read; the job goes on (cancel it if it is no longer wanted).
type WaitTimeoutError struct {
	Job     *Job
	Timeout time.Duration
}

func (e *WaitTimeoutError) Error() string {
	return fmt.Sprintf("evalguard: job %s is still %s after %s (%d/%d samples done)",
		e.Job.JobID, e.Job.Status, e.Timeout, e.Job.Progress.Done, e.Job.Progress.Total)
}

// errorFromResponse builds the Error of a non-2xx answer.
func errorFromResponse(resp *http.Response, body []byte, now time.Time) *Error {
	e := &Error{
		Status:    resp.StatusCode,
		RequestID: resp.Header.Get("X-Request-Id"),
		Body:      body,
	}
	var decoded struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Param   string `json:"param"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &decoded) == nil && decoded.Error.Code != "" {
		e.Code = decoded.Error.Code
		e.Message = decoded.Error.Message
		e.Param = decoded.Error.Param
	} else {
		e.Message = strings.TrimSpace(string(body))
		if e.Message == "" {
			e.Message = http.StatusText(resp.StatusCode)
		}
	}
	if d, ok := retryAfter(resp.Header, now); ok {
		e.RetryAfter = d
	}
	return e
}
