// Command server runs ${{ values.serviceName }}: ${{ values.description | replace("\n", " ") | trim }}
package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/acme-corp/${{ values.serviceName }}/internal/config"
	"github.com/acme-corp/${{ values.serviceName }}/internal/logging"
	"github.com/acme-corp/${{ values.serviceName }}/internal/metrics"
	"github.com/acme-corp/${{ values.serviceName }}/internal/server"
)

// version is set at build time: go build -ldflags "-X main.version=1.2.3".
var version = "dev"

func main() {
	cfg := config.FromEnv(os.Getenv)
	log := logging.New(os.Stdout, cfg.LogLevel).With("service", cfg.ServiceName, "version", version)
	if err := run(cfg, log); err != nil {
		log.Error("server stopped", "error", err.Error())
		os.Exit(1)
	}
}

func run(cfg config.Config, log logging.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	srv := server.New(cfg, log, metrics.NewRegistry(cfg.ServiceName, version))
	httpServer := &http.Server{
		Addr:              cfg.Addr(),
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
	}
	errs := make(chan error, 1)
	go func() {
		log.Info("listening", "addr", httpServer.Addr)
		errs <- httpServer.ListenAndServe()
	}()
	srv.SetReady(true)

	select {
	case err := <-errs:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
	}
	// Fail readiness first so the load balancer drains us, then stop accepting requests.
	srv.SetReady(false)
	log.Info("shutting down", "grace", cfg.ShutdownGrace.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	return httpServer.Shutdown(shutdownCtx)
}
