"""Translating database driver failures into the kernel's error kinds, in one place.

Everything below this package speaks SQLAlchemy and driver exceptions; everything above it sees
``UnavailableError`` (the database is down, locked or otherwise failing: retrying may help) or
``ConflictError`` (a unique key was violated). The original exception stays chained as the cause,
and driver messages are cut to one short line so no payload leaks into an operator message.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL

from blacktop.kernel.errors import BlacktopError, ConflictError, UnavailableError

_MAX_DETAIL: Final = 200


def describe_url(url: URL) -> str:
    """The database URL with its password hidden, fit for messages and logs."""
    return url.render_as_string(hide_password=True)


def _detail(exc: BaseException) -> str:
    source = exc.orig if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None else exc
    lines = str(source).strip().splitlines()
    text = lines[0] if lines else type(source).__name__
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


def is_translatable(exc: BaseException) -> bool:
    """Whether ``exc`` is a database or connection failure this module turns into a kernel error."""
    return isinstance(exc, sa_exc.DBAPIError | sa_exc.TimeoutError | OSError) and not isinstance(exc, BlacktopError)


def translate(exc: BaseException, *, url: URL, action: str) -> BlacktopError:
    """The kernel error for a failure of ``action`` (e.g. "list resources") against ``url``."""
    where = describe_url(url)
    if isinstance(exc, sa_exc.IntegrityError):
        return ConflictError(f"cannot {action}: it conflicts with stored data ({_detail(exc)})")
    return UnavailableError(
        f"cannot {action}: the database at {where} is unavailable ({_detail(exc)}); "
        "check that it is running, reachable and migrated, then retry"
    )
