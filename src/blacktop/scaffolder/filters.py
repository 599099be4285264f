"""The scaffolder's own template filters: ``parseRepoUrl``, ``projectSlug``, ``parseEntityRef``, ``pick``, ``dump``.

These are plain functions over JSON-like values, kept apart from the Jinja environment so the API can
list them (``GET /v2/templating-extensions``) and tests can call them directly. Their behaviour
follows Backstage's built-ins: ``parseRepoUrl`` reads the ``RepoUrlPicker`` format
``host?owner=o&repo=r`` and checks the query parameters the host's type needs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

DEFAULT_REPO_HOSTS: Final[Mapping[str, str]] = {
    "github.com": "github",
    "gitlab.com": "gitlab",
    "bitbucket.org": "bitbucketCloud",
    "dev.azure.com": "azure",
    "gitea.com": "gitea",
}
"""Host name -> integration type for the public hosts; deployments add their own hosts."""

_REQUIRED_BY_TYPE: Final[Mapping[str, tuple[tuple[str, ...], ...]]] = {
    # Each entry lists alternatives: one full tuple of parameters must be present.
    "github": (("owner", "repo"),),
    "gitlab": (("owner", "repo"), ("project",)),
    "bitbucketCloud": (("workspace", "project", "repo"),),
    "bitbucketServer": (("project", "repo"),),
    "azure": (("project", "repo"),),
    "gitea": (("repo",),),
    "gerrit": (("repo",),),
}


class FilterError(ValueError):
    """A filter was given a value it cannot work on; the message says which and why."""


@dataclass(frozen=True, slots=True)
class RepoUrlParser:
    """``parseRepoUrl`` bound to the configured hosts.

    ``hosts`` maps host names to integration types. With ``strict`` a host not in ``hosts`` is
    refused, as Backstage refuses hosts without an integration; otherwise unknown hosts only need
    ``repo``.
    """

    hosts: Mapping[str, str]
    strict: bool = False

    def __call__(self, repo_url: Any) -> dict[str, str]:
        """Parse ``host?owner=o&repo=r[&organization=..&workspace=..&project=..]``."""
        if not isinstance(repo_url, str) or not repo_url:
            raise FilterError(f"parseRepoUrl needs a string like 'github.com?owner=o&repo=r', got {repo_url!r}")
        parts = urlsplit(f"https://{repo_url}")
        host = parts.netloc
        if not host:
            raise FilterError(f"parseRepoUrl: {repo_url!r} has no host; expected 'github.com?owner=o&repo=r'")
        query = {k: v[0] for k, v in parse_qs(parts.query).items() if v}
        kind = self.hosts.get(host)
        if kind is None and self.strict:
            raise FilterError(
                f"parseRepoUrl: no integration is configured for host {host!r}; add one or use a configured host"
            )
        alternatives = _REQUIRED_BY_TYPE.get(kind or "", (("repo",),))
        if not any(all(query.get(p) for p in needed) for needed in alternatives):
            wanted = " or ".join("+".join(n) for n in alternatives)
            raise FilterError(f"parseRepoUrl: {repo_url!r} is missing query parameters {wanted} for {host!r}")
        result = {"host": host}
        for key in ("owner", "repo", "organization", "workspace", "project"):
            if query.get(key):
                result[key] = query[key]
        return result

    def project_slug(self, repo_url: Any) -> str:
        """``projectSlug``: ``owner/repo`` (``workspace/repo`` or ``project/repo`` where no owner)."""
        parsed = self(repo_url)
        owner = parsed.get("owner") or parsed.get("workspace") or parsed.get("project") or ""
        repo = parsed.get("repo", "")
        return f"{owner}/{repo}" if owner and repo else owner or repo


_REF: Final = re.compile(r"^(?:(?P<kind>[^:/]+):)?(?:(?P<namespace>[^:/]+)/)?(?P<name>[^:/]+)$")


def parse_entity_ref(ref: Any, context: Any = None) -> dict[str, str]:
    """``parseEntityRef``: ``[kind:][namespace/]name`` or ``{kind?, namespace?, name}`` to its parts.

    ``context`` may give ``defaultKind`` and ``defaultNamespace``; the namespace defaults to
    ``default``. Case is kept, as Backstage's filter keeps it.
    """
    options = context if isinstance(context, Mapping) else {}
    if isinstance(ref, Mapping):
        kind, namespace, name = ref.get("kind"), ref.get("namespace"), ref.get("name")
    elif isinstance(ref, str):
        match = _REF.match(ref.strip())
        if match is None:
            raise FilterError(f"parseEntityRef: {ref!r} is not an entity ref like 'component:default/my-service'")
        kind, namespace, name = match.group("kind"), match.group("namespace"), match.group("name")
    else:
        raise FilterError(f"parseEntityRef needs a ref string or object, got {ref!r}")
    kind = kind or options.get("defaultKind")
    namespace = namespace or options.get("defaultNamespace") or "default"
    if not kind:
        raise FilterError(f"parseEntityRef: {ref!r} has no kind and no defaultKind was given")
    if not name:
        raise FilterError(f"parseEntityRef: {ref!r} has no name")
    return {"kind": str(kind), "namespace": str(namespace), "name": str(name)}


_PATH_PART: Final = re.compile(r"[^.\[\]]+|\[(\d+)\]|\[['\"]([^'\"]*)['\"]\]")


def pick(value: Any, path: Any) -> Any:
    """``pick``: the value at a lodash-style path (``a.b[0].c``), or None when it is not there."""
    current = value
    for match in _PATH_PART.finditer(str(path)):
        token = match.group(1) if match.group(1) is not None else match.group(2) or match.group(0)
        if isinstance(current, Mapping):
            current = current.get(token)
        elif isinstance(current, list | tuple) and token.isascii() and token.isdigit() and int(token) < len(current):
            current = current[int(token)]
        else:
            return None
    return current


def dump(value: Any, spaces: Any = None) -> str:
    """``dump``: JSON text like ``JSON.stringify(value, null, spaces)`` (compact by default)."""
    indent = spaces if isinstance(spaces, int) and spaces > 0 else None
    separators = (",", ": ") if indent else (",", ":")
    return json.dumps(_jsonable(value), indent=indent, separators=separators, ensure_ascii=False)


def nl2br(value: Any) -> str:
    """``nl2br``: newlines replaced by ``<br />`` (a nunjucks built-in Jinja lacks)."""
    return re.sub(r"\r\n|\n", "<br />\n", str(value))


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
