// Package testmetrics reads a plex node's Prometheus metrics in tests, the
// way an operator's scraper does: through GET /metrics of the node's HTTP
// handler. It is for tests only; nothing in a production binary imports it.
package testmetrics

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Value returns the first sample of metric name that h serves at /metrics
// whose labels hold the value lv ("": any sample), or 0 when there is none
// (a counter that was never incremented).
func Value(t testing.TB, h http.Handler, name, lv string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		labeled := strings.HasPrefix(line, name+"{") && (lv == "" || strings.Contains(line, `"`+lv+`"`))
		if labeled || lv == "" && strings.HasPrefix(line, name+" ") {
			f := strings.Fields(line)
			v, err := strconv.ParseFloat(f[len(f)-1], 64)
			if err != nil {
				t.Fatalf("metric %s: %v", name, err)
			}
			return v
		}
	}
	return 0
}

// Growth returns how much value grew while the caller waited d.
func Growth(d time.Duration, value func() float64) float64 {
	before := value()
	time.Sleep(d)
	return value() - before
}
