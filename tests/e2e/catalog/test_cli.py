"""``blacktop catalog …`` against a live server, and ``catalog validate`` offline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.fixtures.platform import LiveServer

from .conftest import EXAMPLES, PAYMENT_SERVICE, write

CLI = "import sys; from blacktop.cli.main import build_app, run_app; sys.exit(run_app(build_app()))"


def blacktop(*args: str, server: LiveServer | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a fresh process (as a user would)."""
    env = {**os.environ, "BLACKTOP_CONFIG": "/nonexistent"}
    if server is not None:
        env.update(BLACKTOP_SERVER=server.url, BLACKTOP_TOKEN=server.token)
    return subprocess.run([sys.executable, "-c", CLI, *args], capture_output=True, text=True, env=env, timeout=120)


def test_validate_lists_every_problem_with_file_line_and_path_and_exits_1(tmp_path: Path) -> None:
    bad = write(
        tmp_path / "catalog-info.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: bad name!\nspec:\n"
        "  type: service\n  owner: team-a\n  dependsOn: [db]\n",
    )
    result = blacktop("catalog", "validate", str(bad), str(PAYMENT_SERVICE))
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert lines == [
        f"{bad}:4: metadata.name: 'bad name!' is not a valid name: 1-63 chars of [a-zA-Z0-9] joined by -, _ or .",
        f"{bad}:6: spec.lifecycle: 'lifecycle' is a required property (Component schema)",
        f"{bad}:8: spec.dependsOn[0]: entity ref 'db' had missing or empty kind; write it as 'kind:db'",
    ]
    assert "3 problem(s) in 2 file(s)" in result.stderr
    ok = blacktop("catalog", "validate", str(PAYMENT_SERVICE))
    assert ok.returncode == 0 and "1 file(s) valid" in ok.stdout


def test_register_get_search_impact_score_and_locations(live_server: LiveServer) -> None:
    registered = blacktop("catalog", "register", str(EXAMPLES / "all.yaml"), server=live_server)
    assert registered.returncode == 0, registered.stderr
    assert "34 entities" in registered.stdout and "3 problem(s)" in registered.stdout
    assert "spec.definition" in registered.stdout

    got = blacktop("catalog", "get", "component:artist-lookup", server=live_server)
    assert "name: artist-lookup" in got.stdout and "ownedBy" in got.stdout
    listed = blacktop("catalog", "get", "--kind", "domain", server=live_server)
    assert "artists" in listed.stdout and "playback" in listed.stdout

    found = blacktop("catalog", "search", "artis", server=live_server)
    assert "domain:default/artists" in found.stdout

    # wayback-archive provides an API that wayback-search consumes: an outage reaches it in two hops.
    impact = blacktop("catalog", "impact", "component:wayback-archive", server=live_server)
    assert impact.returncode == 0
    assert "api:default/wayback-archive" in impact.stdout and "component:default/wayback-search" in impact.stdout

    score = blacktop("catalog", "score", "component:artist-lookup", server=live_server)
    assert score.returncode == 0 and "on-call" in score.stdout
    team = blacktop("catalog", "score", "--team", "team-a", server=live_server)
    assert "group:default/team-a" in team.stdout

    locations = blacktop("catalog", "locations", server=live_server)
    assert str(EXAMPLES / "all.yaml") in locations.stdout and "spec.definition" in locations.stdout
    again = blacktop("catalog", "register", str(EXAMPLES / "all.yaml"), server=live_server)
    assert again.returncode == 1 and "already registered" in again.stderr
