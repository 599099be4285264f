package metrics

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestRegistryWritesPrometheusText(t *testing.T) {
	r := NewRegistry("${{ values.serviceName }}", "1.0.0")
	r.ObserveRequest("GET", "/healthz", 200, 3*time.Millisecond)
	r.ObserveRequest("GET", "/healthz", 200, 30*time.Millisecond)
	r.ObserveRequest("GET", "/other", 404, time.Second)

	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q, want the Prometheus text format", got)
	}
	for _, want := range []string{
		`app_build_info{service="${{ values.serviceName }}",version="1.0.0"} 1`,
		"# TYPE http_requests_total counter",
		`http_requests_total{method="GET",route="/healthz",code="200"} 2`,
		`http_requests_total{method="GET",route="/other",code="404"} 1`,
		`http_request_duration_seconds_bucket{method="GET",route="/healthz",code="200",le="0.005"} 1`,
		`http_request_duration_seconds_bucket{method="GET",route="/healthz",code="200",le="0.05"} 2`,
		`http_request_duration_seconds_bucket{method="GET",route="/healthz",code="200",le="+Inf"} 2`,
		`http_request_duration_seconds_count{method="GET",route="/other",code="404"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}
