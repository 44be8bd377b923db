package evalguard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestBackoffDoublesUpToEightSecondsWithJitter(t *testing.T) {
	var got []time.Duration
	for _, n := range []int{0, 1, 2, 3, 4, 5, 10} {
		got = append(got, backoff(n, func() float64 { return 0 }))
	}
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second, 8 * time.Second}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%v", got)
	}
	if d := backoff(0, func() float64 { return 0.999999 }); d <= 375*time.Millisecond-time.Millisecond || d > 500*time.Millisecond {
		t.Fatal(d)
	}
	for i := 0; i < 100; i++ {
		if d := backoff(2, jitter); d <= 1500*time.Millisecond || d > 2*time.Second {
			t.Fatal(d)
		}
	}
}

func TestRetryAfterForms(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		header http.Header
		want   time.Duration
		ok     bool
	}{
		{http.Header{"Retry-After": {"3"}}, 3 * time.Second, true},
		{http.Header{"Retry-After": {"Tue, 01 Dec 2026 12:00:05 GMT"}}, 5 * time.Second, true},
		{http.Header{"Retry-After": {"Tue, 01 Dec 2026 11:00:00 GMT"}}, 0, true},
		{http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"9"}}, 250 * time.Millisecond, true},
		{http.Header{"Retry-After": {"soon"}}, 0, false},
		{http.Header{}, 0, false},
	}
	for _, c := range cases {
		if got, ok := retryAfter(c.header, now); got != c.want || ok != c.ok {
			t.Errorf("%v: %s %v", c.header, got, ok)
		}
	}
}

func TestRetryableStatusesAndSafeMethods(t *testing.T) {
	for _, s := range []int{408, 429, 500, 502, 503, 504} {
		if !retryableStatus(s) {
			t.Error(s)
		}
	}
	for _, s := range []int{400, 401, 403, 404, 409, 413, 422} {
		if retryableStatus(s) {
			t.Error(s)
		}
	}
	if !safeMethod("GET") || safeMethod("POST") || safeMethod("DELETE") {
		t.Error("safe methods")
	}
}

func TestTrafficBodiesAreValidJSONWithinLimitsInOrder(t *testing.T) {
	var encoded [][]byte
	for i := 0; i < 50; i++ {
		encoded = append(encoded, []byte(fmt.Sprintf(`{"id":"s%d","text":%q}`, i, string(bytes.Repeat([]byte("é"), i)))))
	}
	var ids []string
	for _, body := range trafficBodies(encoded, 7, 300) {
		var decoded struct {
			Samples []struct {
				ID string `json:"id"`
			} `json:"samples"`
		}
		if err := json.Unmarshal(body, &decoded); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		n := len(decoded.Samples)
		if n == 0 || n > 7 || (len(body) > 300 && n != 1) {
			t.Fatalf("%d samples in %d bytes", n, len(body))
		}
		for _, s := range decoded.Samples {
			ids = append(ids, s.ID)
		}
	}
	for i, id := range ids {
		if id != fmt.Sprintf("s%d", i) {
			t.Fatalf("out of order: %v", ids)
		}
	}
	if len(ids) != 50 {
		t.Fatal(len(ids))
	}
}

func TestEvidenceKeepsTestSpecificNumbers(t *testing.T) {
	var e Evidence
	if err := json.Unmarshal([]byte(`{"test":"wilson","p_value":0.01,"n_current":40,"threshold":0.05,"rate":0.2}`), &e); err != nil {
		t.Fatal(err)
	}
	if e.Test != "wilson" || *e.PValue != 0.01 || *e.NCurrent != 40 || e.Effect != nil {
		t.Fatalf("%+v", e)
	}
	if len(e.Extra) != 2 || e.Extra["threshold"] != 0.05 || e.Extra["rate"] != 0.2 {
		t.Fatalf("%v", e.Extra)
	}
}

func TestErrorFromAnswerWithoutErrorObject(t *testing.T) {
	resp := &http.Response{StatusCode: 502, Header: http.Header{"Retry-After": {"2"}}}
	e := errorFromResponse(resp, []byte("bad gateway\n"), time.Now())
	if e.Status != 502 || e.Code != "" || e.Message != "bad gateway" || e.RetryAfter != 2*time.Second {
		t.Fatalf("%+v", e)
	}
	if e.Error() != "evalguard: 502: bad gateway" {
		t.Fatal(e.Error())
	}
}
