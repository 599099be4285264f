//go:build !go1.21

package logging

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// New returns a JSON logger writing to w at the named level (log/slog's shape: time, level, msg, then attributes).
func New(w io.Writer, level string) Logger {
	return &jsonLogger{out: &lockedWriter{w: w}, level: ParseLevel(level)}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

type jsonLogger struct {
	out   *lockedWriter
	level int
	attrs []any
}

func (j *jsonLogger) Debug(msg string, args ...any) { j.log(LevelDebug, "DEBUG", msg, args) }
func (j *jsonLogger) Info(msg string, args ...any)  { j.log(LevelInfo, "INFO", msg, args) }
func (j *jsonLogger) Warn(msg string, args ...any)  { j.log(LevelWarn, "WARN", msg, args) }
func (j *jsonLogger) Error(msg string, args ...any) { j.log(LevelError, "ERROR", msg, args) }

func (j *jsonLogger) With(args ...any) Logger {
	attrs := append(append([]any{}, j.attrs...), args...)
	return &jsonLogger{out: j.out, level: j.level, attrs: attrs}
}

func (j *jsonLogger) log(level int, name, msg string, args []any) {
	if level < j.level {
		return
	}
	record := map[string]any{"time": time.Now().Format(time.RFC3339Nano), "level": name, "msg": msg}
	all := append(append([]any{}, j.attrs...), args...)
	for i := 0; i < len(all); i += 2 {
		key := fmt.Sprint(all[i])
		if i+1 == len(all) {
			record["!BADKEY"] = all[i]
			break
		}
		value := all[i+1]
		if err, ok := value.(error); ok {
			value = err.Error()
		}
		record[key] = value
	}
	line, err := json.Marshal(record)
	if err != nil {
		line, _ = json.Marshal(map[string]any{"level": "ERROR", "msg": "unencodable log record", "error": err.Error()})
	}
	j.out.mu.Lock()
	defer j.out.mu.Unlock()
	_, _ = j.out.w.Write(append(line, '\n'))
}
