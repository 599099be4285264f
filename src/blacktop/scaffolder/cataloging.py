"""``catalog:register``, ``catalog:write`` and ``catalog:fetch``: the template actions that meet the catalog.

``catalog:register`` registers the new repository's descriptor as a location through the
``CatalogGateway``; blacktop's catalog ingests a location when it is registered, so the entity is
readable when the step ends (Backstage's #8597 complaint). Its ``undo`` removes the location,
which takes the entities with it. ``catalog:write`` only writes ``catalog-info.yaml`` into the
workspace, stamped with the template it came from. ``catalog:fetch`` reads entities.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import yaml

from blacktop.kernel.errors import NotFoundError

from .actions import ActionContext, ActionExample, TemplateAction
from .errors import InvalidActionInput
from .filters import parse_entity_ref
from .ports import CatalogGateway, WorkspaceFile

SOURCE_TEMPLATE: Final = "backstage.io/source-template"
"""The annotation ``catalog:write`` adds: which template produced the entity."""


class CatalogRegister(TemplateAction):
    """``catalog:register``: register a descriptor URL (or a repository's contents URL plus a path)."""

    id = "catalog:register"
    description = "Registers entities from a catalog descriptor file in the software catalog."
    input_schema: Mapping[str, Any] = {
        "type": "object",
        "oneOf": [{"required": ["catalogInfoUrl"]}, {"required": ["repoContentsUrl"]}],
        "properties": {
            "catalogInfoUrl": {"type": "string", "description": "URL of the catalog-info.yaml to register"},
            "repoContentsUrl": {"type": "string", "description": "Contents URL of the repository (publish output)"},
            "catalogInfoPath": {"type": "string", "default": "/catalog-info.yaml"},
            "optional": {"type": "boolean", "description": "Do not fail when the location cannot be registered"},
        },
    }
    output_schema: Mapping[str, Any] = {
        "type": "object",
        "properties": {
            "entityRef": {"type": "string", "examples": ["component:default/example"]},
            "catalogInfoUrl": {"type": "string"},
            "locationId": {"type": "string"},
        },
    }
    supports_dry_run = False
    repeatable = True
    examples = (
        ActionExample(
            description="Register the descriptor of a freshly published repository",
            step={
                "id": "register",
                "action": "catalog:register",
                "input": {"catalogInfoUrl": "http://127.0.0.1:7007/git/acme-corp/svc/blob/main/catalog-info.yaml"},
            },
        ),
    )

    def __init__(self, *, catalog: CatalogGateway) -> None:
        self._catalog = catalog

    async def run(self, ctx: ActionContext, input: Mapping[str, Any]) -> None:
        """Register the location and output the main entity's ref."""
        url = catalog_info_url(input)
        ctx.log(f"Registering {url} in the catalog")
        try:
            location = await self._catalog.register(url)
        except Exception as exc:
            if input.get("optional"):
                ctx.log(f"Could not register {url} ({exc}); continuing because optional is true")
                ctx.output("catalogInfoUrl", url)
                return
            raise
        ctx.output("locationId", location.location_id)
        ctx.output("catalogInfoUrl", url)
        ref = main_entity_ref(location.entity_refs)
        if ref is not None:
            ctx.output("entityRef", ref)
        shown = ", ".join(location.entity_refs) or "no entities"
        ctx.log(f"Registered location {location.location_id} ({location.target}): {shown}")

    async def undo(self, ctx: ActionContext, input: Mapping[str, Any], outputs: Mapping[str, Any]) -> None:
        """Unregister the location this step registered."""
        location_id = outputs.get("locationId")
        if not location_id:
            ctx.log("Nothing to undo: this step registered no location")
            return
        removed = await self._catalog.unregister(str(location_id))
        ctx.log(f"Unregistered location {location_id}" if removed else f"Location {location_id} was already gone")


def catalog_info_url(input: Mapping[str, Any]) -> str:
    """``catalogInfoUrl``, or ``repoContentsUrl`` joined with ``catalogInfoPath``."""
    if input.get("catalogInfoUrl"):
        return str(input["catalogInfoUrl"])
    contents = input.get("repoContentsUrl")
    if not contents:
        raise InvalidActionInput("catalog:register needs catalogInfoUrl, or repoContentsUrl and catalogInfoPath")
    path = str(input.get("catalogInfoPath") or "/catalog-info.yaml")
    return f"{str(contents).rstrip('/')}/{path.lstrip('/')}"


def main_entity_ref(entity_refs: tuple[str, ...]) -> str | None:
    """The first Component, else the first entity that is not a Location (Backstage's choice)."""
    non_locations = [r for r in entity_refs if not r.lower().startswith("location:")]
    components = [r for r in non_locations if r.lower().startswith("component:")]
    chosen = components or non_locations
    return chosen[0] if chosen else None


class CatalogWrite(TemplateAction):
    """``catalog:write``: write an entity as ``catalog-info.yaml`` into the workspace."""

    id = "catalog:write"
    description = "Writes the catalog-info.yaml for your template, annotated with the template it came from."
    input_schema: Mapping[str, Any] = {
        "type": "object",
        "required": ["entity"],
        "properties": {
            "entity": {"type": "object", "description": "The entity to write"},
            "filePath": {"type": "string", "default": "catalog-info.yaml"},
        },
    }
    supports_dry_run = True
    repeatable = True
    examples = (
        ActionExample(
            description="Write a Component descriptor",
            step={
                "id": "write",
                "action": "catalog:write",
                "input": {
                    "entity": {
                        "apiVersion": "backstage.io/v1alpha1",
                        "kind": "Component",
                        "metadata": {"name": "svc"},
                        "spec": {"type": "service", "lifecycle": "experimental", "owner": "team-a"},
                    }
                },
            },
        ),
    )

    async def run(self, ctx: ActionContext, input: Mapping[str, Any]) -> None:
        """Write the entity with the ``backstage.io/source-template`` annotation."""
        entity = dict(input["entity"])
        metadata = dict(entity.get("metadata") or {})
        annotations = dict(metadata.get("annotations") or {})
        if ctx.template_info.entity_ref:
            annotations[SOURCE_TEMPLATE] = ctx.template_info.entity_ref
        if annotations:
            metadata["annotations"] = annotations
        entity["metadata"] = metadata
        path = str(input.get("filePath") or "catalog-info.yaml")
        text = yaml.safe_dump(entity, sort_keys=False, allow_unicode=True)
        await ctx.workspace.save(WorkspaceFile(path, text.encode()))
        ctx.log(f"Wrote {path}")


class CatalogFetch(TemplateAction):
    """``catalog:fetch``: read one entity (``entity``) or several (``entities``) from the catalog."""

    id = "catalog:fetch"
    description = "Returns entities from the catalog by ref."
    input_schema: Mapping[str, Any] = {
        "type": "object",
        "oneOf": [{"required": ["entityRef"]}, {"required": ["entityRefs"]}],
        "properties": {
            "entityRef": {"type": "string"},
            "entityRefs": {"type": "array", "items": {"type": "string"}},
            "optional": {"type": "boolean", "description": "Return null for missing entities instead of failing"},
            "defaultKind": {"type": "string"},
            "defaultNamespace": {"type": "string"},
        },
    }
    output_schema: Mapping[str, Any] = {
        "type": "object",
        "properties": {"entity": {"type": "object"}, "entities": {"type": "array", "items": {"type": "object"}}},
    }
    supports_dry_run = True
    repeatable = True
    examples = (
        ActionExample(
            description="Read the owner group",
            step={"id": "owner", "action": "catalog:fetch", "input": {"entityRef": "group:default/team-a"}},
        ),
    )

    def __init__(self, *, catalog: CatalogGateway) -> None:
        self._catalog = catalog

    async def run(self, ctx: ActionContext, input: Mapping[str, Any]) -> None:
        """Fetch the entities; missing ones fail the step unless ``optional``."""
        context = {k: v for k, v in (("defaultKind", input.get("defaultKind")),) if v}
        context["defaultNamespace"] = str(input.get("defaultNamespace") or "default")
        if "entityRef" in input:
            ctx.output("entity", await self._one(str(input["entityRef"]), context, bool(input.get("optional"))))
            return
        ctx.output(
            "entities",
            [await self._one(str(ref), context, bool(input.get("optional"))) for ref in input["entityRefs"]],
        )

    async def _one(self, ref: str, context: Mapping[str, Any], optional: bool) -> Mapping[str, Any] | None:
        try:
            parts = parse_entity_ref(ref, context)
        except ValueError as exc:
            raise InvalidActionInput(f"catalog:fetch: {exc}") from exc
        if not parts.get("kind"):
            raise InvalidActionInput(f"catalog:fetch: entity ref {ref!r} has no kind; give one or set defaultKind")
        full = f"{parts['kind']}:{parts['namespace']}/{parts['name']}"
        found = await self._catalog.fetch(full)
        if found is None and not optional:
            raise NotFoundError(f"catalog:fetch: entity {full} is not in the catalog; set optional: true to allow it")
        return found
