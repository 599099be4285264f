"""The one place where blacktop errors become HTTP responses.

Every error body has the same shape: ``{"kind": "Status", "code", "error", "reason", "message",
"problems": [{"path", "message", "document", "line"}], "requestId"}``. Unexpected exceptions
become a 500 that names the request id for the logs and never includes a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from blacktop.kernel.errors import BlacktopError, Problem, status_code
from blacktop.kernel.schemas import format_path

log = logging.getLogger("blacktop.api")


def status_body(
    code: int, reason: str, message: str, problems: tuple[Problem, ...] | list[Problem], request_id: str
) -> dict[str, Any]:
    """The JSON error body."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "code": code,
        "error": reason,
        "reason": reason,
        "message": message,
        "problems": [
            {
                k: v
                for k, v in (("path", p.path), ("message", p.message), ("document", p.document), ("line", p.line))
                if v is not None
            }
            for p in problems
        ],
        "requestId": request_id,
    }


def _request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", "") or request.headers.get("x-request-id", ""))


def install(app: FastAPI) -> None:
    """Register the exception handlers on ``app``."""

    @app.exception_handler(BlacktopError)
    async def _blacktop(request: Request, exc: BlacktopError) -> JSONResponse:
        code = status_code(exc)
        problems = getattr(exc, "problems", ())
        headers = {"WWW-Authenticate": "Bearer"} if code == 401 else None
        return JSONResponse(
            status_body(code, exc.reason, str(exc), problems, _request_id(request)), status_code=code, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            Problem(path=format_path(list(err.get("loc", ()))), message=str(err.get("msg", "is invalid")))
            for err in exc.errors()
        ]
        message = "the request is invalid: " + "; ".join(p.describe() for p in problems)
        return JSONResponse(status_body(422, "Invalid", message, problems, _request_id(request)), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        reason = {404: "NotFound", 405: "MethodNotAllowed", 401: "Unauthorized"}.get(exc.status_code, "Error")
        message = str(exc.detail) if exc.status_code != 404 else f"no route {request.url.path}"
        return JSONResponse(
            status_body(exc.status_code, reason, message, [], _request_id(request)), status_code=exc.status_code
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        request_id = _request_id(request)
        log.exception("unexpected error handling request %s", request_id)
        return JSONResponse(
            status_body(
                500,
                "InternalError",
                f"an unexpected error occurred; the server log has the details under request id {request_id}",
                [],
                request_id,
            ),
            status_code=500,
        )
