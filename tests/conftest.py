"""Test-wide fixtures live in ``tests/fixtures``; they are registered here and nowhere else."""

pytest_plugins = ["tests.fixtures.postgres", "tests.fixtures.platform"]
