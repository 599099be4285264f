"""Reading ``url:`` locations over HTTP(S), only from allowed hosts, with size and time limits.

Outbound fetches are a classic SSRF vector, so a host must be listed (exactly, or ``*.example.com``)
before anything is requested, redirects are followed only to allowed hosts, and bodies are read as
a stream that stops at ``max_bytes``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from urllib.parse import urlsplit

import httpx

from blacktop.kernel.errors import InputError, NotAllowedError, TooLargeError, UnavailableError

from .. import locations


class HttpLocationReader:
    """``LocationReader`` for ``url:`` locations."""

    def __init__(
        self,
        *,
        allowed_hosts: Sequence[str],
        max_bytes: int = 4 * 1024 * 1024,
        timeout_seconds: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.allowed_hosts = tuple(h.lower() for h in allowed_hosts)
        self.max_bytes = max_bytes
        self.timeout = timeout_seconds
        self._transport = transport

    def is_allowed(self, url: str) -> bool:
        """Whether ``url`` is http(s) on an allowed host (``host`` or ``host:port`` patterns)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False
        host = parts.hostname.lower()
        netloc = f"{host}:{parts.port}" if parts.port else host
        return any(fnmatch.fnmatchcase(host, p) or fnmatch.fnmatchcase(netloc, p) for p in self.allowed_hosts)

    async def fetch_text(self, location: locations.LocationSpec) -> str | None:
        """The body at the URL, or None on 404."""
        url = location.target
        if location.type != "url":
            raise InputError(f"location {location.key} is not a url location")
        if not self.is_allowed(url):
            raise NotAllowedError(
                f"host of {url} is not in the catalog's allowed hosts; add it to catalog.reading.allowed_hosts"
            )
        async with httpx.AsyncClient(timeout=self.timeout, transport=self._transport) as client:
            for _ in range(5):
                try:
                    async with client.stream("GET", url) as response:
                        if response.is_redirect:
                            url = str(response.url.join(response.headers.get("location", "")))
                            if not self.is_allowed(url):
                                raise NotAllowedError(f"redirect to {url} leaves the allowed hosts")
                            continue
                        if response.status_code == 404:
                            return None
                        if response.status_code >= 400:
                            raise UnavailableError(f"GET {url} answered {response.status_code}")
                        body = bytearray()
                        async for chunk in response.aiter_bytes():
                            body.extend(chunk)
                            if len(body) > self.max_bytes:
                                raise TooLargeError(f"{url} is larger than the limit of {self.max_bytes} bytes")
                        return body.decode("utf-8", errors="replace")
                except httpx.TimeoutException as exc:
                    raise UnavailableError(f"GET {url} took longer than {self.timeout} s") from exc
                except httpx.TransportError as exc:
                    raise UnavailableError(f"GET {url} failed: {exc.__class__.__name__}") from exc
        raise UnavailableError(f"GET {location.target} redirected too often")

    async def list_matching(self, location: locations.LocationSpec) -> list[locations.LocationSpec]:
        """Globs need a repository listing; use a ``git:`` location for that."""
        raise InputError(f"location {location.key} uses a glob; url locations cannot list files, use a git location")
