module github.com/acme-corp/${{ values.serviceName }}

// Standard library only: builds offline, with no module proxy. Go 1.19 or newer
// (structured logs use log/slog from Go 1.21 on, and a compatible JSON logger before).
go 1.19
