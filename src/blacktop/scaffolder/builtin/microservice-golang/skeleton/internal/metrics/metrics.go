// Package metrics keeps the service's request metrics and writes them in the Prometheus text
// exposition format (version 0.0.4), on the standard library only.
package metrics

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Buckets are the request duration histogram's upper bounds, in seconds.
var Buckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type requestKey struct {
	method, route, code string
}

type histogram struct {
	counts []uint64 // one per bucket, not cumulative
	sum    float64
	count  uint64
}

// Registry holds the counters and histograms; it is safe for concurrent use.
type Registry struct {
	mu        sync.Mutex
	service   string
	version   string
	started   time.Time
	requests  map[requestKey]uint64
	durations map[requestKey]*histogram
}

// NewRegistry returns an empty registry labelled with the service's name and version.
func NewRegistry(service, version string) *Registry {
	return &Registry{
		service: service, version: version, started: time.Now(),
		requests: map[requestKey]uint64{}, durations: map[requestKey]*histogram{},
	}
}

// ObserveRequest records one finished HTTP request.
func (r *Registry) ObserveRequest(method, route string, code int, elapsed time.Duration) {
	key := requestKey{method: method, route: route, code: strconv.Itoa(code)}
	seconds := elapsed.Seconds()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests[key]++
	h := r.durations[key]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(Buckets))}
		r.durations[key] = h
	}
	for i, bound := range Buckets {
		if seconds <= bound {
			h.counts[i]++
			break
		}
	}
	h.sum += seconds
	h.count++
}

// WriteText writes every metric in the Prometheus text format.
func (r *Registry) WriteText(w io.Writer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	b.WriteString("# HELP app_build_info Build information of the running service.\n# TYPE app_build_info gauge\n")
	fmt.Fprintf(&b, "app_build_info{service=%q,version=%q} 1\n", escape(r.service), escape(r.version))
	b.WriteString("# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n")
	b.WriteString("# TYPE process_start_time_seconds gauge\n")
	fmt.Fprintf(&b, "process_start_time_seconds %s\n", formatFloat(float64(r.started.UnixNano())/1e9))

	keys := make([]requestKey, 0, len(r.requests))
	for k := range r.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, c := keys[i], keys[j]
		return a.route+" "+a.method+" "+a.code < c.route+" "+c.method+" "+c.code
	})
	b.WriteString("# HELP http_requests_total HTTP requests handled, by method, route and status code.\n")
	b.WriteString("# TYPE http_requests_total counter\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "http_requests_total%s %d\n", labels(k, ""), r.requests[k])
	}
	b.WriteString("# HELP http_request_duration_seconds HTTP request latency, by method, route and status code.\n")
	b.WriteString("# TYPE http_request_duration_seconds histogram\n")
	for _, k := range keys {
		h := r.durations[k]
		var cumulative uint64
		for i, bound := range Buckets {
			cumulative += h.counts[i]
			fmt.Fprintf(&b, "http_request_duration_seconds_bucket%s %d\n", labels(k, formatFloat(bound)), cumulative)
		}
		fmt.Fprintf(&b, "http_request_duration_seconds_bucket%s %d\n", labels(k, "+Inf"), h.count)
		fmt.Fprintf(&b, "http_request_duration_seconds_sum%s %s\n", labels(k, ""), formatFloat(h.sum))
		fmt.Fprintf(&b, "http_request_duration_seconds_count%s %d\n", labels(k, ""), h.count)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Handler serves the metrics for Prometheus to scrape.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_ = r.WriteText(w)
	})
}

// labels renders a sample's label set, with the histogram bucket bound when le is not empty.
func labels(k requestKey, le string) string {
	set := fmt.Sprintf("method=%q,route=%q,code=%q", escape(k.method), escape(k.route), k.code)
	if le != "" {
		set += fmt.Sprintf(",le=%q", le)
	}
	return "{" + set + "}"
}

// escape prepares a label value for %q: Prometheus escapes backslash, quote and newline, as %q does,
// but %q would also escape non-ASCII runes, which Prometheus keeps as UTF-8.
func escape(value string) string {
	return strings.ToValidUTF8(value, "\uFFFD")
}

func formatFloat(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}
