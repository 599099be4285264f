"""Parsing and formatting entity references exactly as Backstage's ``parseEntityRef`` does.

Textual form ``[<kind>:][<namespace>/]<name>``. The first ``:`` and the first ``/`` split it; a ``/``
before the ``:`` means there is no kind part (``ns/na:me`` is namespace ``ns``, name ``na:me``).
Present-but-empty parts are errors; a missing kind takes the caller's default or fails; a missing
namespace takes the caller's default, else ``default``. Case is kept; nothing else is validated.

Spec fields carry their own default kind (``FIELD_DEFAULT_KINDS``) and default to the referring
entity's namespace, which ``parse_spec_ref`` applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from . import errors, model

FIELD_DEFAULT_KINDS: Final[Mapping[str, str | None]] = {
    "owner": "Group",
    "system": "System",
    "subcomponentOf": "Component",
    "providesApis": "API",
    "consumesApis": "API",
    "dependsOn": None,
    "dependencyOf": None,
    "domain": "Domain",
    "subdomainOf": "Domain",
    "memberOf": "Group",
    "members": "User",
    "parent": "Group",
    "children": "Group",
}
"""The kind a ref without ``kind:`` means, per spec field (None: the kind must be written)."""


def parse_ref(
    value: str | Mapping[str, Any],
    *,
    default_kind: str | None = None,
    default_namespace: str | None = None,
) -> model.EntityRef:
    """Parse a ref string or a compound ``{kind?, namespace?, name}`` object.

    Raises ``InvalidEntityRef`` naming what is wrong with the input.
    """
    if isinstance(value, Mapping):
        return _parse_compound(value, default_kind=default_kind, default_namespace=default_namespace)
    if not isinstance(value, str):
        raise errors.InvalidEntityRef(f"entity ref {value!r} must be a string or an object")
    kind, namespace, name = split_ref(value)
    kind = kind if kind is not None else default_kind
    if not kind:
        raise errors.InvalidEntityRef(f"entity ref {value!r} had missing or empty kind; write it as 'kind:{value}'")
    namespace = namespace if namespace is not None else (default_namespace or model.DEFAULT_NAMESPACE)
    return model.EntityRef(kind, namespace, name)


def split_ref(value: str) -> tuple[str | None, str | None, str]:
    """Split a ref string into (kind or None, namespace or None, name) without applying defaults."""
    colon = value.find(":")
    slash = value.find("/")
    if colon != -1 and (slash == -1 or colon < slash):
        kind: str | None = value[:colon]
        rest = value[colon + 1 :]
    else:
        kind, rest = None, value
    slash = rest.find("/")
    if slash != -1:
        namespace: str | None = rest[:slash]
        name = rest[slash + 1 :]
    else:
        namespace, name = None, rest
    if kind == "" or namespace == "" or name == "":
        raise errors.InvalidEntityRef(
            f"entity ref {value!r} has an empty kind, namespace or name; write it as [kind:][namespace/]name"
        )
    return kind, namespace, name


def _parse_compound(
    value: Mapping[str, Any], *, default_kind: str | None, default_namespace: str | None
) -> model.EntityRef:
    name = value.get("name")
    kind = value.get("kind", default_kind)
    namespace = value.get("namespace", default_namespace or model.DEFAULT_NAMESPACE)
    for label, part in (("name", name), ("kind", kind), ("namespace", namespace)):
        if not isinstance(part, str) or not part:
            raise errors.InvalidEntityRef(f"entity ref {dict(value)!r} had missing or empty {label}")
    return model.EntityRef(str(kind), str(namespace), str(name))


def format_ref(ref: model.EntityRef | Mapping[str, str]) -> str:
    """The canonical lower-cased ``kind:namespace/name`` string (Backstage ``stringifyEntityRef``)."""
    if isinstance(ref, model.EntityRef):
        return ref.key
    return parse_ref(ref).key


def parse_spec_ref(value: str, *, field: str, referrer: model.EntityRef) -> model.EntityRef:
    """Parse a ref found in ``spec.<field>`` of ``referrer`` with that field's defaults.

    The default namespace is the referrer's namespace, not ``default``.
    """
    return parse_ref(value, default_kind=FIELD_DEFAULT_KINDS.get(field), default_namespace=referrer.namespace)


def is_ref(value: str, *, default_kind: str | None = None) -> bool:
    """Whether ``value`` parses as a ref (with ``default_kind`` filling a missing kind)."""
    try:
        parse_ref(value, default_kind=default_kind)
    except errors.InvalidEntityRef:
        return False
    return True
