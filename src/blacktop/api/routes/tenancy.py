"""Who am I, and API tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ..deps import CurrentContext, Services

router = APIRouter(prefix="/api/v1/tenancy", tags=["tenancy"])


class TokenRequest(BaseModel):
    """A request for a new API token."""

    user: str | None = Field(default=None, description="for whom; platform admins only, default yourself")
    groups: list[str] = Field(default_factory=list, max_length=50)
    description: str = Field(default="", max_length=200)
    ttlDays: int | None = Field(default=None, ge=1, le=3650)  # noqa: N815 - API field name


@router.get("/whoami", operation_id="tenancy-whoami")
async def whoami(ctx: CurrentContext) -> dict[str, Any]:
    """The authenticated caller and its groups."""
    return {"name": ctx.caller.name, "kind": ctx.caller.kind.value, "groups": sorted(ctx.caller.groups)}


@router.post("/tokens", status_code=201, operation_id="tenancy-create-token")
async def create_token(body: TokenRequest, svc: Services, ctx: CurrentContext) -> dict[str, Any]:
    """Issue an API token; the token text is returned once and stored only as a hash."""
    return await svc.tokens.issue(
        caller=ctx.caller,
        user=body.user or ctx.caller.name,
        groups=body.groups,
        description=body.description,
        ttl_days=body.ttlDays,
    )
