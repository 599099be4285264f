"""The portal links to the Prometheus that observability's local mode runs, and only when it runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from blacktop.observability.service import LocalMode
from blacktop.web.services import Portal


@dataclass
class _Observability:
    local: LocalMode


@dataclass
class _Services:
    extra: dict[str, Any] = field(default_factory=dict)


CASES = {
    "running": (
        LocalMode(enabled=True, url="http://127.0.0.1:9090", binary="/usr/bin/prometheus"),
        "http://127.0.0.1:9090",
    ),
    "configured but not running": (LocalMode(enabled=False, reason="prometheus is not installed"), None),
    "off": (LocalMode(), None),
}


@pytest.mark.parametrize(("local", "link"), CASES.values(), ids=CASES.keys())
def test_the_link_is_the_running_prometheus(local: LocalMode, link: str | None) -> None:
    services = _Services(extra={"observability": _Observability(local)})
    assert Portal(services).local_prometheus() == link  # type: ignore[arg-type]


def test_no_observability_feature_means_no_link() -> None:
    assert Portal(_Services()).local_prometheus() is None  # type: ignore[arg-type]
