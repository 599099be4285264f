package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestLoggerWritesOneJSONObjectPerLine(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, "info").With("service", "${{ values.serviceName }}")
	log.Debug("hidden")
	log.Info("hello", "request_id", "abc", "status", 200)

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one line (debug is below info), got %q", buf.String())
	}
	var record map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &record); err != nil {
		t.Fatalf("not JSON: %v: %s", err, lines[0])
	}
	for key, want := range map[string]any{"msg": "hello", "level": "INFO", "service": "${{ values.serviceName }}", "request_id": "abc", "status": float64(200)} {
		if record[key] != want {
			t.Errorf("record[%q] = %v, want %v", key, record[key], want)
		}
	}
}

func TestParseLevel(t *testing.T) {
	cases := map[string]int{"debug": LevelDebug, "INFO": LevelInfo, "warning": LevelWarn, "error": LevelError, "bogus": LevelInfo}
	for name, want := range cases {
		if got := ParseLevel(name); got != want {
			t.Errorf("ParseLevel(%q) = %d, want %d", name, got, want)
		}
	}
}
