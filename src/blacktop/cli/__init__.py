"""The ``blacktop`` command line."""

from .main import build_app, report_error, run, run_app

__all__ = ["build_app", "report_error", "run", "run_app"]
