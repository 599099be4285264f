//go:build go1.21

package logging

import (
	"io"
	"log/slog"
)

// New returns a JSON logger writing to w at the named level.
func New(w io.Writer, level string) Logger {
	handler := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.Level(ParseLevel(level))})
	return slogLogger{slog.New(handler)}
}

type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Debug(msg string, args ...any) { s.l.Debug(msg, args...) }
func (s slogLogger) Info(msg string, args ...any)  { s.l.Info(msg, args...) }
func (s slogLogger) Warn(msg string, args ...any)  { s.l.Warn(msg, args...) }
func (s slogLogger) Error(msg string, args ...any) { s.l.Error(msg, args...) }
func (s slogLogger) With(args ...any) Logger       { return slogLogger{s.l.With(args...)} }
