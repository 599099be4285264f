"""The generated Alertmanager config loads in Alertmanager and routes alerts by service and severity.

amtool comes from Debian's ``prometheus-alertmanager`` package. It goes beyond the issue's
acceptance (which rests on promtool), so unlike the promtool tests these skip, with the install
command as the reason, when amtool is absent.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from observability_support import CONFIGS

from blacktop.observability import alerting, prometheus


@pytest.fixture(scope="module")
def amtool() -> Path:
    found = shutil.which("amtool")
    if found is None:
        pytest.skip("amtool is not on PATH; apt-get install -y prometheus-alertmanager")
    return Path(found)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    specs = [c.spec for name, c in CONFIGS.items() if name in ("design-payment-service", "minimal-defaults")]
    path = tmp_path / "alertmanager.yml"
    path.write_text(prometheus.dump_yaml(alerting.render_alertmanager_config(specs)))
    return path


def _amtool(amtool: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(amtool), *args], capture_output=True, text=True, timeout=60, check=False)


def test_config_is_accepted(amtool: Path, config_file: Path) -> None:
    result = _amtool(amtool, "check-config", str(config_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        pytest.param(["service=payment-service", "severity=critical"], "payment-service-page", id="page"),
        pytest.param(["service=payment-service", "severity=warning"], "payment-service-ticket", id="ticket"),
        pytest.param(["service=orders", "severity=critical"], "orders-page", id="other-service"),
        pytest.param(["service=unknown", "severity=critical"], "blackhole", id="unmanaged"),
    ],
)
def test_alerts_reach_the_right_receiver(amtool: Path, config_file: Path, labels: list[str], receiver: str) -> None:
    result = _amtool(amtool, "config", "routes", "test", f"--config.file={config_file}", *labels)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == receiver
