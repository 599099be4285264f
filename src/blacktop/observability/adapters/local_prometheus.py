"""Running Debian's ``prometheus`` binary for local mode: write its files, start it, reload it, stop it.

The configuration comes from ``local.render_local_files``; this adapter only touches the disk and
the process. Files are written only when their content changed, and a change is applied with
Prometheus' ``/-/reload`` endpoint (started with ``--web.enable-lifecycle``), so rule updates need
no restart. The process is ours: it is started with its own arguments and stopped by its pid.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import IO

import httpx

from blacktop.kernel.errors import UnavailableError

from .. import local

log = logging.getLogger("blacktop.observability")


def find_prometheus(binary: str = "prometheus") -> str | None:
    """The path of the Prometheus binary, or None when it is not installed."""
    return shutil.which(binary)


class LocalPrometheus:
    """One Prometheus process serving ``http://<host>:<port>`` from files under ``directory``."""

    def __init__(self, *, binary: str, directory: Path, host: str = "127.0.0.1", port: int = 9090) -> None:
        self.binary = binary
        self.directory = directory
        self.host = host
        self.port = port
        self._process: asyncio.subprocess.Process | None = None
        self._written: dict[str, str] = {}
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """Where the Prometheus UI and API answer."""
        return f"http://{self.host}:{self.port}"

    @property
    def is_running(self) -> bool:
        """Whether the process is alive."""
        return self._process is not None and self._process.returncode is None

    def write(self, files: Mapping[str, str]) -> bool:
        """Write the files (removing rules files no longer wanted); whether anything changed."""
        self.directory.mkdir(parents=True, exist_ok=True)
        changed = False
        for relative, text in files.items():
            if self._written.get(relative) == text:
                continue
            path = self.directory / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            changed = True
        rules = self.directory / local.RULES_DIR
        for stale in sorted(rules.glob("*.yml")) if rules.is_dir() else []:
            if f"{local.RULES_DIR}/{stale.name}" not in files:
                stale.unlink()
                changed = True
        self._written = dict(files)
        return changed

    async def start(self) -> None:
        """Start Prometheus on the written configuration."""
        if self.is_running:
            return
        (self.directory / "data").mkdir(parents=True, exist_ok=True)
        self._log = (self.directory / "prometheus.log").open("ab")
        self._process = await asyncio.create_subprocess_exec(
            self.binary,
            f"--config.file={self.directory / local.CONFIG_FILE}",
            f"--storage.tsdb.path={self.directory / 'data'}",
            f"--web.listen-address={self.host}:{self.port}",
            "--web.enable-lifecycle",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=self._log,
        )
        log.info("local Prometheus started (pid %s): %s", self._process.pid, self.url)

    async def reload(self) -> None:
        """Ask the running Prometheus to re-read its files."""
        if not self.is_running:
            return
        try:
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.post(f"{self.url}/-/reload")
        except httpx.HTTPError as exc:
            raise UnavailableError(f"local Prometheus at {self.url} did not take the reload: {exc}") from exc
        if response.status_code >= 400:
            raise UnavailableError(f"local Prometheus at {self.url} refused the reload: {response.text[:300]}")

    async def is_ready(self) -> bool:
        """Whether Prometheus answers ``/-/ready``."""
        try:
            async with httpx.AsyncClient(timeout=2.0) as client:
                return (await client.get(f"{self.url}/-/ready")).status_code == 200
        except httpx.HTTPError:
            return False

    async def stop(self) -> None:
        """Terminate the process (and kill it if it does not exit within five seconds)."""
        process, self._process = self._process, None
        logfile, self._log = self._log, None
        try:
            if process is not None and process.returncode is None:
                await self._terminate(process)
        finally:
            if logfile is not None:
                logfile.close()

    async def _terminate(self, process: asyncio.subprocess.Process) -> None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout=5)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
