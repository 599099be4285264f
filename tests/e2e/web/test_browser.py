"""One real-browser smoke test: headless Chromium signs in, starts a template and watches the live log.

Test design: the portal is served on a real socket (``live_server``) and driven by Debian's
Chromium through chromedriver's W3C WebDriver HTTP protocol, spoken with httpx (no Selenium
needed). It is the one test that runs the portal's JavaScript: the task log must stream over
Server-Sent Events and the page must reload itself to the completed task with its output links.
It skips, saying why, where Chromium or chromedriver is not installed
(``apt-get install chromium chromium-driver``).
"""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.platform import LiveServer

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None or CHROMEDRIVER is None,
        reason="no headless browser: install Debian's chromium and chromium-driver to run the portal's browser test",
    ),
]


class WebDriver:
    """The few W3C WebDriver commands the smoke test needs."""

    def __init__(self, endpoint: str) -> None:
        self.http = httpx.Client(base_url=endpoint, timeout=60)
        options = {"binary": CHROMIUM, "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                                                "--disable-dev-shm-usage", "--window-size=1280,1000"]}  # fmt: skip
        created = self.call("POST", "/session", {"capabilities": {"alwaysMatch": {"goog:chromeOptions": options}}})
        self.session = f"/session/{created['sessionId']}"

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.request(
            method, path, json=body if body is not None else ({} if method == "POST" else None)
        )
        assert response.status_code == 200, response.text
        return response.json()["value"]

    def open(self, url: str) -> None:
        self.call("POST", f"{self.session}/url", {"url": url})

    def find(self, css: str) -> str:
        return str(self.call("POST", f"{self.session}/element", {"using": "css selector", "value": css})[ELEMENT])

    def type(self, css: str, text: str) -> None:
        self.call("POST", f"{self.session}/element/{self.find(css)}/value", {"text": text})

    def click(self, css: str) -> None:
        self.call("POST", f"{self.session}/element/{self.find(css)}/click")

    def text(self, css: str) -> str:
        return str(self.call("GET", f"{self.session}/element/{self.find(css)}/text"))

    def attribute(self, css: str, name: str) -> str:
        return str(self.call("GET", f"{self.session}/element/{self.find(css)}/attribute/{name}"))

    def url(self) -> str:
        return str(self.call("GET", f"{self.session}/url"))

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self.call("GET", f"{self.session}/screenshot")))

    def wait_for(self, check: Any, *, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except AssertionError:
                pass  # the page is between two loads
            time.sleep(0.2)
        raise AssertionError("the browser did not reach the expected state in time")

    def quit(self) -> None:
        self.http.delete(self.session)
        self.http.close()


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert CHROMEDRIVER is not None
    driver = subprocess.Popen([CHROMEDRIVER, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{endpoint}/status").json()["value"]["ready"]:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)
        web = WebDriver(endpoint)
        try:
            yield web
        finally:
            web.quit()
    finally:
        driver.terminate()
        driver.wait(timeout=10)


def test_a_person_signs_in_runs_a_golden_path_and_watches_its_log_live(
    live_server: LiveServer, browser: WebDriver, tmp_path: Path
) -> None:
    browser.open(f"{live_server.url}/")
    browser.wait_for(lambda: "/ui/sign-in" in browser.url())
    browser.type("#token", live_server.token)
    browser.click("form.stack button[type=submit]")
    browser.wait_for(lambda: browser.url().endswith("/ui/"))
    assert browser.text("h1") == "Platform overview"

    browser.open(f"{live_server.url}/ui/templates/default/python-service")
    browser.type("#p-serviceName", "browser-svc")
    browser.type("#p-owner", "team-a")
    browser.type("#p-description", "Made in a browser")
    browser.click("button[value=create]")
    browser.wait_for(lambda: "/ui/tasks/" in browser.url())
    # The task takes a second or more (git pushes, catalog registration), so the page first shows it
    # running; from here nothing but portal.js navigates: it follows the event stream and reloads the
    # page on the completion event, and only the reloaded page is rendered with a terminal task.
    assert browser.attribute("#task-log", "data-terminal") == "false"
    browser.wait_for(lambda: bool(browser.find("#task-log[data-terminal=true]")))
    assert browser.text("#task-status") == "completed"
    assert "fetch:template" in browser.text("table")
    assert browser.text("#task-log").count("\n") >= 3
    assert "Open in catalog" in browser.text("#output-links")
    browser.screenshot(tmp_path / "task.png")

    browser.click("#output-links a[href^='/ui/catalog/']")
    browser.wait_for(lambda: browser.url().endswith("/ui/catalog/component/default/browser-svc"))
    assert "browser-svc" in browser.text("h1")
