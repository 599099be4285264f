"""The golden paths blacktop ships: one folder per template, ``<name>/template.yaml`` + ``<name>/skeleton/``.

The templates are package data, not code: the scaffolder wiring registers them in the catalog at
start (``file:<this folder>/*/template.yaml``), and ``builtin_templates`` parses them for callers
that run them directly (tests, ``blacktop template dry-run`` on a built-in). Each template's
``fetch:template`` step reads ``./skeleton`` relative to its folder, so the folder is the template's
``base_url`` (``TemplateInfo.base_url``).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from blacktop.kernel.errors import NotFoundError

from .. import model
from ..actions import TemplateInfo

__all__ = ["BuiltinTemplate", "builtin_template", "builtin_templates", "builtin_templates_folder"]


@dataclass(frozen=True, slots=True)
class BuiltinTemplate:
    """A parsed built-in template and the folder it ships in."""

    template: model.Template
    folder: Path

    @property
    def skeleton(self) -> Path:
        """The skeleton folder its ``fetch:template`` step renders."""
        return self.folder / "skeleton"

    @property
    def info(self) -> TemplateInfo:
        """What a run needs to resolve ``./skeleton``: the entity ref and the template's folder."""
        return TemplateInfo(entity_ref=self.template.ref, base_url=str(self.folder))


def builtin_templates_folder() -> Path:
    """The folder holding every built-in template (inside the installed package)."""
    return Path(str(resources.files(__name__)))


def builtin_templates() -> list[BuiltinTemplate]:
    """Every built-in template, parsed, sorted by name; an invalid one raises ``InvalidTemplate``."""
    found = []
    for path in sorted(builtin_templates_folder().glob("*/template.yaml")):
        template = model.parse_template_yaml(path.read_text(encoding="utf-8"), source=str(path))
        found.append(BuiltinTemplate(template=template, folder=path.parent))
    return found


def builtin_template(name: str) -> BuiltinTemplate:
    """The built-in template called ``name``; raises ``NotFoundError`` naming the ones that exist."""
    templates = builtin_templates()
    for item in templates:
        if item.template.name == name:
            return item
    known = ", ".join(t.template.name for t in templates) or "none"
    raise NotFoundError(f"built-in template {name!r} does not exist; built-in templates are: {known}")
