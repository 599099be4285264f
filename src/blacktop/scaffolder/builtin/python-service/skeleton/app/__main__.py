"""``python -m app``: read the settings, set up logging and tracing, and serve the app with uvicorn."""

from __future__ import annotations

import os

import uvicorn
from opentelemetry import trace

from app.logs import configure_logging
from app.main import create_app
from app.settings import Settings
from app.tracing import build_tracer_provider


def main() -> None:
    """Run the service until SIGTERM."""
    settings = Settings.from_env(os.environ)
    configure_logging(service=settings.service_name, level=settings.log_level)
    provider = build_tracer_provider(settings)
    if provider is not None:
        trace.set_tracer_provider(provider)  # libraries that trace (HTTP clients, ...) report to it too
    app = create_app(settings, tracer_provider=provider)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, timeout_graceful_shutdown=20)


if __name__ == "__main__":
    main()
