// Package server holds the HTTP surface: health, readiness, metrics and the request middleware that
// gives every request an id, a log line and a metric sample.
package server

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"regexp"
	"sync/atomic"
	"time"

	"github.com/acme-corp/${{ values.serviceName }}/internal/config"
	"github.com/acme-corp/${{ values.serviceName }}/internal/logging"
	"github.com/acme-corp/${{ values.serviceName }}/internal/metrics"
)

// RequestIDHeader carries the request id in and out; a valid incoming one is kept.
const RequestIDHeader = "X-Request-ID"

var (
	validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)
	// W3C trace context: version-traceid-parentid-flags.
	traceparent = regexp.MustCompile(`^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$`)
)

// Server is the service's HTTP handler set.
type Server struct {
	cfg     config.Config
	log     logging.Logger
	metrics *metrics.Registry
	ready   atomic.Bool
	mux     *http.ServeMux
	routes  map[string]bool
}

// New builds the server; it reports not ready until SetReady(true).
func New(cfg config.Config, log logging.Logger, registry *metrics.Registry) *Server {
	s := &Server{cfg: cfg, log: log, metrics: registry, mux: http.NewServeMux(), routes: map[string]bool{}}
	s.handle("/healthz", http.HandlerFunc(s.healthz))
	s.handle("/readyz", http.HandlerFunc(s.readyz))
	s.handle("/metrics", registry.Handler())
	s.handle("/", http.HandlerFunc(s.index))
	return s
}

// SetReady flips readiness (false while starting and while draining at shutdown).
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

// Handler is the root handler with the request middleware applied.
func (s *Server) Handler() http.Handler { return s.middleware(s.mux) }

func (s *Server) handle(pattern string, h http.Handler) {
	s.routes[pattern] = true
	s.mux.Handle(pattern, h)
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if !s.ready.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "starting or draining"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found", "path": r.URL.Path})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"service": s.cfg.ServiceName})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		requestID := r.Header.Get(RequestIDHeader)
		if !validRequestID.MatchString(requestID) {
			requestID = newRequestID()
		}
		traceID := ""
		if m := traceparent.FindStringSubmatch(r.Header.Get("traceparent")); m != nil {
			traceID = m[1]
		}
		w.Header().Set(RequestIDHeader, requestID)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)

		elapsed := time.Since(start)
		s.metrics.ObserveRequest(r.Method, s.routeOf(r), rec.status, elapsed)
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" {
			return // probes and scrapes would drown the request log
		}
		s.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"duration_ms", float64(elapsed.Microseconds())/1000, "request_id", requestID, "trace_id", traceID)
	})
}

// routeOf is the registered route serving r, so metric labels stay few whatever paths clients send.
func (s *Server) routeOf(r *http.Request) string {
	_, pattern := s.mux.Handler(r)
	if pattern == "/" && r.URL.Path != "/" {
		return "other"
	}
	if s.routes[pattern] {
		return pattern
	}
	return "other"
}

func newRequestID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "unknown"
	}
	return hex.EncodeToString(b[:])
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
