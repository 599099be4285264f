package config

import (
	"testing"
	"time"
)

func TestFromEnv(t *testing.T) {
	cases := map[string]struct {
		env  map[string]string
		want Config
	}{
		"defaults": {
			env:  map[string]string{},
			want: Config{ServiceName: "${{ values.serviceName }}", Port: 8080, LogLevel: "info", ShutdownGrace: 10 * time.Second},
		},
		"overrides": {
			env:  map[string]string{"PORT": "9000", "LOG_LEVEL": "debug", "SERVICE_NAME": "other", "SHUTDOWN_GRACE": "3s"},
			want: Config{ServiceName: "other", Port: 9000, LogLevel: "debug", ShutdownGrace: 3 * time.Second},
		},
		"invalid-port-keeps-default": {
			env:  map[string]string{"PORT": "http"},
			want: Config{ServiceName: "${{ values.serviceName }}", Port: 8080, LogLevel: "info", ShutdownGrace: 10 * time.Second},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := FromEnv(func(k string) string { return tc.env[k] })
			if got != tc.want {
				t.Fatalf("FromEnv() = %+v, want %+v", got, tc.want)
			}
		})
	}
}
