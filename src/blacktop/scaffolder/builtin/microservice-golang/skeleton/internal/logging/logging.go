// Package logging writes structured JSON logs, one object per line, on the standard library only.
//
// From Go 1.21 the logger is log/slog's JSON handler (slog.go); older toolchains, such as Debian's
// golang-go 1.19, get a small encoder with the same output shape (fallback.go). Callers only see Logger.
package logging

import "strings"

// Logger is the structured logger the service uses; args are alternating keys and values.
type Logger interface {
	Debug(msg string, args ...any)
	Info(msg string, args ...any)
	Warn(msg string, args ...any)
	Error(msg string, args ...any)
	// With returns a logger that adds args to every record.
	With(args ...any) Logger
}

// Levels, numbered as log/slog numbers them.
const (
	LevelDebug = -4
	LevelInfo  = 0
	LevelWarn  = 4
	LevelError = 8
)

// ParseLevel maps "debug", "info", "warn" or "error" to a level; anything else is info.
func ParseLevel(name string) int {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "debug":
		return LevelDebug
	case "warn", "warning":
		return LevelWarn
	case "error":
		return LevelError
	default:
		return LevelInfo
	}
}
