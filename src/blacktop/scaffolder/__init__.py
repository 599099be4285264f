"""Golden paths: Backstage-compatible Software Templates (parsing, parameters, templating, actions).

This package holds the pure core; the durable task runner, git host, publishers and HTTP/CLI
surfaces live elsewhere and build on it.
"""
