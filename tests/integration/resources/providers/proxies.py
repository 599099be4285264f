"""A TCP proxy that a test cuts and restores: a server outage without stopping the shared server.

The machine's MariaDB and Redis serve every engineer's test runs, so an outage test must never
stop them. The provider is pointed at this proxy instead; ``cut()`` closes the listening socket
(new connections are refused, as when the server process is gone) and aborts every open
connection (idle pooled connections die as they would on a server restart). ``restore()`` listens
again on the same port. ``cut_when_client_sends(marker)`` arms a cut for the moment a client
sends ``marker`` (a statement's text): that chunk is dropped, never reaching the server, so the
outage falls exactly between two provisioning statements.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Final

CHUNK: Final = 65536


class CuttableProxy:
    """Forwards 127.0.0.1:``port`` to ``upstream`` (``(host, port)`` or a Unix socket path) until cut."""

    def __init__(self, upstream: tuple[str, int] | str) -> None:
        self._upstream = upstream
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._marker: bytes | None = None
        self.port = 0
        self.tripped = asyncio.Event()
        """Set when an armed marker cut the proxy."""

    @property
    def is_up(self) -> bool:
        """Whether the proxy accepts connections."""
        return self._server is not None

    async def start(self) -> None:
        """Listen (on a free port the first time, on the same port afterwards)."""
        if self._server is not None:
            return
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def restore(self) -> None:
        """Accept connections again on the same port."""
        await self.start()

    async def cut(self) -> None:
        """Refuse new connections and abort the open ones."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def cut_when_client_sends(self, marker: bytes) -> None:
        """Cut the proxy when a client next sends ``marker``, without forwarding what carried it."""
        self.tripped.clear()
        self._marker = marker

    async def close(self) -> None:
        """Cut, and wait for the forwarding tasks to end."""
        await self.cut()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self._writers.add(client_writer)
        try:
            if isinstance(self._upstream, str):
                server_reader, server_writer = await asyncio.open_unix_connection(self._upstream)
            else:
                server_reader, server_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            self._writers.discard(client_writer)
            client_writer.transport.abort()
            return
        self._writers.add(server_writer)
        upstream = asyncio.create_task(self._pump(client_reader, server_writer, watch=True))
        downstream = asyncio.create_task(self._pump(server_reader, client_writer, watch=False))
        self._tasks.update((upstream, downstream))
        try:
            await asyncio.wait((upstream, downstream), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for writer in (client_writer, server_writer):
                self._writers.discard(writer)
                writer.transport.abort()
            for task in (upstream, downstream):
                task.cancel()
                self._tasks.discard(task)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, watch: bool) -> None:
        tail = b""
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while chunk := await reader.read(CHUNK):
                if watch and self._marker is not None:
                    # The tail catches a marker split across two reads.
                    window = tail + chunk
                    if self._marker in window:
                        self._marker = None
                        await self.cut()
                        self.tripped.set()
                        return
                    tail = window[-len(self._marker) :]
                writer.write(chunk)
                await writer.drain()
