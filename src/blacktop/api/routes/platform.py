"""Platform-wide endpoints: multi-document apply, kind discovery and CRD export."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from blacktop.kernel.documents import iter_objects
from blacktop.kernel.errors import InputError, Problem
from blacktop.kernel.kinds import describe_kinds, to_crd

from ..deps import CurrentContext, Services, read_documents

router = APIRouter(prefix="/api/v1/platform", tags=["platform"])


@router.post(
    "/apply",
    operation_id="platform-apply",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/yaml": {"schema": {"type": "string"}},
                "application/json": {"schema": {}},
            },
        }
    },
)
async def apply(request: Request, svc: Services, ctx: CurrentContext) -> dict[str, Any]:
    """Create or update every document in a YAML/JSON stream, all or nothing."""
    documents = await read_documents(request, svc)
    items = _sourced(documents[0].content) if len(documents) == 1 else None
    if items is None:
        items = [(f"request body#{doc.index + 1} (line {doc.line})", obj) for doc, obj in iter_objects(documents)]
    results = await svc.resources.apply(ctx, items)
    return {
        "results": [
            {
                "source": r.source,
                "action": r.action,
                "apiVersion": r.object.get("apiVersion"),
                "kind": r.object.get("kind"),
                "namespace": (r.object.get("metadata") or {}).get("namespace"),
                "name": (r.object.get("metadata") or {}).get("name"),
                "resourceVersion": (r.object.get("metadata") or {}).get("resourceVersion"),
            }
            for r in results
        ]
    }


def _sourced(content: Any) -> list[tuple[str, Any]] | None:
    """The CLI's form: ``{"kind": "ApplyRequest", "documents": [{"source": "file.yaml:3", "object": {...}}]}``.

    It lets error messages name the user's own files and lines instead of positions in one stream.
    """
    if not isinstance(content, dict) or content.get("kind") != "ApplyRequest":
        return None
    documents = content.get("documents")
    if not isinstance(documents, list):
        raise InputError(
            "an ApplyRequest needs a list of documents",
            problems=[Problem("documents", "send a list of {source, object}")],
        )
    items: list[tuple[str, Any]] = []
    for index, entry in enumerate(documents):
        if not isinstance(entry, dict) or "object" not in entry:
            raise InputError(
                "an ApplyRequest document needs an object",
                problems=[Problem(f"documents[{index}]", "send {source, object}")],
            )
        items.append((str(entry.get("source") or f"document {index + 1}")[:300], entry["object"]))
    return items


@router.get("/kinds", operation_id="platform-kinds")
async def kinds(svc: Services, ctx: CurrentContext) -> dict[str, Any]:
    """Every served kind with its names and scope."""
    return {"kinds": describe_kinds(svc.kinds.all())}


@router.get("/crds", operation_id="platform-crds")
async def crds(svc: Services, ctx: CurrentContext) -> dict[str, Any]:
    """Every served kind as a Kubernetes CustomResourceDefinition."""
    return {"apiVersion": "v1", "kind": "List", "items": [to_crd(k) for k in svc.kinds.all()]}
