// Package config reads the service's settings from the environment (twelve-factor style).
package config

import (
	"fmt"
	"strconv"
	"time"
)

// Config holds every setting the service reads at start.
type Config struct {
	ServiceName   string
	Port          int
	LogLevel      string
	ShutdownGrace time.Duration
}

// FromEnv builds a Config from environment lookups; getenv is os.Getenv in production.
func FromEnv(getenv func(string) string) Config {
	cfg := Config{ServiceName: "${{ values.serviceName }}", Port: 8080, LogLevel: "info", ShutdownGrace: 10 * time.Second}
	if v := getenv("SERVICE_NAME"); v != "" {
		cfg.ServiceName = v
	}
	if v, err := strconv.Atoi(getenv("PORT")); err == nil && v > 0 {
		cfg.Port = v
	}
	if v := getenv("LOG_LEVEL"); v != "" {
		cfg.LogLevel = v
	}
	if v, err := time.ParseDuration(getenv("SHUTDOWN_GRACE")); err == nil && v > 0 {
		cfg.ShutdownGrace = v
	}
	return cfg
}

// Addr is the address the HTTP server listens on.
func (c Config) Addr() string {
	return fmt.Sprintf(":%d", c.Port)
}
