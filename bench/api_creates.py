"""Creates per second through the HTTP API, on SQLite (embedded default) or PostgreSQL.

Starts ``blacktop up`` as a separate process (API, pipeline, engine, all of it), then creates
``--count`` objects over HTTP with ``--concurrency`` clients in flight and reports the rate and the
latency percentiles of the create calls. The objects are EnvironmentConfigs: a plain data kind with
no controller, so the figure is the write pipeline's own cost (authenticate, authorize, validate,
admit, store, audit, event), not a controller's.

    .venv/bin/python bench/api_creates.py --count 3000
    .venv/bin/python bench/api_creates.py --count 3000 --database-url postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

TOKEN = "bt_bench-token-" + secrets.token_hex(8)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fresh_postgres(url: str) -> tuple[str, str]:
    name = f"blacktop_bench_{secrets.token_hex(4)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}", name


async def run(base: str, count: int, concurrency: int, prefix: str) -> list[float]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as client:

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                body = {
                    "apiVersion": "apiextensions.crossplane.io/v1beta1",
                    "kind": "EnvironmentConfig",
                    "metadata": {"name": f"{prefix}-{i}", "labels": {"bench": "creates", "shard": str(i % 10)}},
                    "data": {"region": "eu-west-1", "index": i, "tags": {"team": f"team-{i % 20}"}},
                }
                started = time.perf_counter()
                response = await client.post("/apis/apiextensions.crossplane.io/v1beta1/environmentconfigs", json=body)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 201:
                    raise SystemExit(f"create failed: {response.status_code} {response.text}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--py-spy", default="", help="record the server with py-spy into this file (collapsed stacks)")
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        env = dict(os.environ, BLACKTOP_BOOTSTRAP_TOKEN=TOKEN)
        label = "sqlite"
        dropped = None
        if args.database_url:
            url, dropped = fresh_postgres(args.database_url)
            env["BLACKTOP_DATABASE_URL"] = url
            label = "postgresql"
        blacktop = Path(sys.executable).parent / "blacktop"
        command = [str(blacktop), "up", "--data-dir", data, "--port", str(port)]
        if args.py_spy:
            py_spy = Path(sys.executable).parent / "py-spy"
            command = [str(py_spy), "record", "-r", "200", "-f", "raw", "-o", args.py_spy, "--", *command]
        server = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            asyncio.run(run(base, 50, 4, "warmup"))
            started = time.perf_counter()
            latencies = asyncio.run(run(base, args.count, args.concurrency, "rb"))
            elapsed = time.perf_counter() - started
        finally:
            server.send_signal(signal.SIGINT if args.py_spy else signal.SIGTERM)
            server.wait(timeout=60)
            if dropped:
                with psycopg.connect(args.database_url, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{dropped}" WITH (FORCE)')
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p95 = latencies[int(len(latencies) * 0.95)] * 1000
    print(
        f"{label}: {args.count} creates over HTTP, concurrency {args.concurrency}: "
        f"{args.count / elapsed:.0f} creates/s; latency p50 {p50:.1f} ms, p95 {p95:.1f} ms"
    )


if __name__ == "__main__":
    main()
