"""The real ``@backstage/catalog-client`` npm package against a live blacktop over HTTP.

``node/check.js`` drives the client (addLocation, getLocationByRef, getEntities with filters,
getEntityByRef, getEntitiesByRefs, queryEntities with a cursor, full-text filter, getEntityFacets,
validateEntity, refreshEntity, getLocationByEntity, removeLocationById) and prints what it received;
the assertions here are computed from the corpus files, not from blacktop. ``npm ci`` installs the
locked client when ``node_modules`` is missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.fixtures.platform import LiveServer

from .conftest import EXAMPLES

NODE_DIR = Path(__file__).resolve().parent / "node"


@pytest.fixture(scope="module")
def node_client() -> Path:
    """The folder with ``@backstage/catalog-client`` installed."""
    node = shutil.which("node")
    npm = shutil.which("npm")
    assert node and npm, "Node 20 and npm are required for the catalog-client test"
    if not (NODE_DIR / "node_modules" / "@backstage" / "catalog-client").is_dir():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, capture_output=True, timeout=600
        )
    return NODE_DIR


def _corpus(kind: str, folder: Path = EXAMPLES) -> list[dict[str, Any]]:
    """Every document of ``kind`` in the corpus files under ``folder`` (read with PyYAML, not blacktop)."""
    found = []
    for path in sorted(folder.rglob("*.yaml")):
        if folder == EXAMPLES and "acme" in path.parts:
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == kind:
                found.append(doc)
    return found


def test_backstage_catalog_client_speaks_to_blacktop(
    live_server: LiveServer, node_client: Path, tmp_path: Path
) -> None:
    location = EXAMPLES / "all.yaml"
    org = EXAMPLES / "acme" / "org.yaml"
    # The users come from a second location registered over HTTP first, so the cursor has pages to walk.
    headers = {"Authorization": f"Bearer {live_server.token}"}
    response = httpx.post(f"{live_server.url}/api/catalog/locations", json={"type": "file", "target": str(org)},
                          headers=headers, timeout=60)  # fmt: skip
    assert response.status_code == 201, response.text
    run = subprocess.run(
        ["node", "check.js", live_server.url, live_server.token, str(location), str(EXAMPLES / "all-domains.yaml")],
        cwd=node_client, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)

    assert got["addLocation"] == {"type": "file", "target": str(location), "entities": 34}
    # A dry run of a location nobody registered: it exists=false and lists the Location plus its domains.
    assert got["dryRun"] == {"exists": False, "entities": 1 + len(_corpus("Domain"))}
    assert got["getLocationByRef"] == {"id": True, "target": str(location)}
    assert got["getLocationById"] == str(location)
    websites = [f"Component:{d['metadata']['name']}" for d in _corpus("Component") if d["spec"]["type"] == "website"]
    domains = [d["metadata"]["name"] for d in _corpus("Domain")]
    resources = [d["metadata"]["name"] for d in _corpus("Resource")]
    assert got["getEntities"] == sorted(websites + [f"Domain:{n}" for n in domains])
    assert got["anyOf"] == sorted(domains + resources)
    assert got["exists"] and all(isinstance(n, str) for n in got["exists"])
    assert got["getEntityByRef"]["name"] == "artist-lookup" and got["getEntityByRef"]["owner"] == "team-a"
    assert got["getEntityByRef"]["relations"] > 0
    assert got["missing"] is True
    assert got["getEntitiesByRefs"] == ["artists", None]
    users = [d["metadata"]["name"] for d in _corpus("User", EXAMPLES / "acme")]
    assert got["totalItems"] == len(users) == 17
    assert got["cursorNames"] == sorted(users)
    assert got["fullText"] and all("artist" in n for n in got["fullText"])
    facets = sorted((f["value"], f["count"]) for f in got["facets"])
    assert facets == [("Domain", len(domains)), ("System", len(_corpus("System")))]
    assert got["validateEntity"] is True
    assert got["refreshed"] is True
    assert got["getLocationByEntity"] is True
    assert got["afterRemove"] is True
