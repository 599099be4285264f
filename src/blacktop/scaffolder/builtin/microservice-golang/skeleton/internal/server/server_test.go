package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/acme-corp/${{ values.serviceName }}/internal/config"
	"github.com/acme-corp/${{ values.serviceName }}/internal/logging"
	"github.com/acme-corp/${{ values.serviceName }}/internal/metrics"
)

func newServer(logs *bytes.Buffer) *Server {
	cfg := config.FromEnv(func(string) string { return "" })
	return New(cfg, logging.New(logs, "info"), metrics.NewRegistry(cfg.ServiceName, "test"))
}

func get(h http.Handler, path string, headers map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestProbes(t *testing.T) {
	s := newServer(&bytes.Buffer{})
	h := s.Handler()
	cases := []struct {
		name  string
		ready bool
		path  string
		want  int
	}{
		{"healthz-always-ok", false, "/healthz", http.StatusOK},
		{"readyz-before-start", false, "/readyz", http.StatusServiceUnavailable},
		{"readyz-when-ready", true, "/readyz", http.StatusOK},
		{"unknown-path", true, "/nope", http.StatusNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.SetReady(tc.ready)
			if got := get(h, tc.path, nil).Code; got != tc.want {
				t.Fatalf("GET %s = %d, want %d", tc.path, got, tc.want)
			}
		})
	}
}

func TestRequestsAreCountedByRoute(t *testing.T) {
	h := newServer(&bytes.Buffer{}).Handler()
	get(h, "/healthz", nil)
	get(h, "/no/such/path", nil)
	body := get(h, "/metrics", nil).Body.String()
	for _, want := range []string{
		`http_requests_total{method="GET",route="/healthz",code="200"} 1`,
		`http_requests_total{method="GET",route="other",code="404"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

func TestRequestLogCarriesRequestAndTraceIDs(t *testing.T) {
	var logs bytes.Buffer
	h := newServer(&logs).Handler()
	rec := get(h, "/", map[string]string{
		RequestIDHeader: "req-123",
		"traceparent":   "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	})
	if got := rec.Header().Get(RequestIDHeader); got != "req-123" {
		t.Fatalf("response request id = %q, want the incoming one", got)
	}
	var record map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(logs.Bytes()), &record); err != nil {
		t.Fatalf("request log is not one JSON object: %v: %s", err, logs.String())
	}
	if record["request_id"] != "req-123" || record["trace_id"] != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Fatalf("request log = %v, want request_id and trace_id", record)
	}
}

func TestRequestIDIsGeneratedWhenMissingOrInvalid(t *testing.T) {
	h := newServer(&bytes.Buffer{}).Handler()
	for _, incoming := range []string{"", "bad id with spaces"} {
		got := get(h, "/healthz", map[string]string{RequestIDHeader: incoming}).Header().Get(RequestIDHeader)
		if len(got) != 32 {
			t.Errorf("incoming %q: response request id = %q, want a fresh 32-hex id", incoming, got)
		}
	}
}
