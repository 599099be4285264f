"""The built-in git host over HTTP: git's smart protocol, served by ``git http-backend`` as a CGI.

``git clone http://127.0.0.1:7007/git/acme-corp/svc.git`` reaches the bare repository
``<data_dir>/git/acme-corp/svc.git``. git's own ``http-backend`` speaks the protocol (v0 and v2,
gzip bodies, shallow fetches), which is far more robust than reimplementing it: this route only
authenticates, authorizes, and streams the request body into the CGI and its output back.

Every request needs a platform token, as a password in Basic auth (``git clone
http://x:<token>@host/git/...``, or a credential helper) or as ``Authorization: Bearer``. Any
authenticated caller may clone and fetch; pushing (``git-receive-pack``) is for platform admins.
``/git/{owner}/{repo}/blob/{branch}/{path}`` serves one file's raw content, which is what the
publishers' ``repoContentsUrl`` points into.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from blacktop.integrations import GitRepositories
from blacktop.kernel.errors import BlacktopError, NotFoundError
from blacktop.kernel.identity import SYSTEM_GROUP_ADMINS, Caller

from ..deps import Services

router = APIRouter(tags=["git"], include_in_schema=False)

_UNAUTHORIZED = Response(
    "authentication required: use a blacktop API token as the password\n",
    status_code=401,
    headers={"WWW-Authenticate": 'Basic realm="blacktop git"'},
    media_type="text/plain",
)


def _repositories(svc: Any) -> GitRepositories:
    found = svc.extra.get("git")
    if not isinstance(found, GitRepositories):
        raise NotFoundError("the built-in git host is not enabled in this blacktop")
    return found


def _token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            _, _, password = base64.b64decode(value.strip()).decode().partition(":")
            return password or None
    return None


async def _caller(request: Request, svc: Any) -> Caller | None:
    token = _token(request)
    if token is None:
        return None
    try:
        caller: Caller = await svc.authenticator.authenticate(token)
    except BlacktopError:
        return None
    return caller


@router.api_route("/git/{owner}/{repo}.git/{rest:path}", methods=["GET", "POST"])
async def smart_http(owner: str, repo: str, rest: str, request: Request, svc: Services) -> Response:
    """Serve git's smart HTTP protocol for ``owner/repo`` through ``git http-backend``."""
    repositories = _repositories(svc)
    caller = await _caller(request, svc)
    if caller is None:
        return _UNAUTHORIZED
    pushing = rest == "git-receive-pack" or request.query_params.get("service") == "git-receive-pack"
    if pushing and SYSTEM_GROUP_ADMINS not in caller.groups:
        return Response(f"{caller.ref} may clone {owner}/{repo} but not push to it\n", status_code=403)
    if not repositories.exists(f"{owner}/{repo}"):
        return Response(f"repository {owner}/{repo} does not exist on the built-in git host\n", status_code=404)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_PROJECT_ROOT": str(repositories.root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "GIT_CONFIG_NOSYSTEM": "1",
        "PATH_INFO": f"/{owner}/{repo}.git/{rest}",
        "REQUEST_METHOD": request.method,
        "QUERY_STRING": request.url.query,
        "CONTENT_TYPE": request.headers.get("content-type", ""),
        "REMOTE_USER": caller.name,
        "REMOTE_ADDR": request.client.host if request.client else "",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    for header, variable in (("content-encoding", "HTTP_CONTENT_ENCODING"), ("git-protocol", "GIT_PROTOCOL")):
        if request.headers.get(header):
            env[variable] = request.headers[header]
    return await _run_cgi(env, request)


async def _run_cgi(env: dict[str, str], request: Request) -> Response:
    # The body is read whole before the response starts: Starlette's StreamingResponse listens for
    # disconnects on the same receive channel and would swallow body chunks still in flight.
    payload = await request.body()
    env["CONTENT_LENGTH"] = str(len(payload))
    process = await asyncio.create_subprocess_exec(
        "git", "http-backend", env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdin is not None and process.stdout is not None

    async def feed() -> None:
        assert process.stdin is not None
        try:
            process.stdin.write(payload)
            await process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the backend answered without reading everything (an error response)
        finally:
            process.stdin.close()

    feeding = asyncio.create_task(feed())
    status, headers = 200, {}
    while True:
        line = (await process.stdout.readline()).decode("latin-1").rstrip("\r\n")
        if not line:
            break
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.strip().split(" ", 1)[0])
        else:
            headers[name.strip()] = value.strip()

    async def body() -> AsyncIterator[bytes]:
        assert process.stdout is not None
        try:
            while chunk := await process.stdout.read(65536):
                yield chunk
            await feeding
            await asyncio.wait_for(process.wait(), timeout=60)
        finally:
            if process.returncode is None:  # the client went away, or the backend hung
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()

    media_type = headers.pop("Content-Type", None)
    return StreamingResponse(body(), status_code=status, headers=headers, media_type=media_type)


@router.get("/git/{owner}/{repo}/blob/{branch}/{path:path}")
async def raw_file(owner: str, repo: str, branch: str, path: str, request: Request, svc: Services) -> Response:
    """One file of a built-in repository at ``branch``, as raw bytes."""
    repositories = _repositories(svc)
    if await _caller(request, svc) is None:
        return _UNAUTHORIZED
    repository = repositories.get(f"{owner}/{repo}", create=False)
    content = await asyncio.to_thread(repository.read, path, ref=f"refs/heads/{branch}")
    return Response(content, media_type="text/plain; charset=utf-8")
