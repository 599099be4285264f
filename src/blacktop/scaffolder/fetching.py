"""The built-in file actions: ``fetch:template``, ``fetch:template:file``, ``fetch:plain``,
``fetch:plain:file``, ``fs:delete``, ``fs:rename``, ``debug:log`` and ``debug:wait``.

They only touch the task's ``Workspace`` and read skeletons through a ``SkeletonReader``, so the
same code serves real runs (a folder on disk) and dry runs (memory). ``fetch:template`` follows
Backstage: file contents *and* names are rendered with ``values`` (``${{ values.x }}``, or
``{{ cookiecutter.x }}`` with ``cookiecutterCompat``); an entry whose rendered path is empty, absolute
or contains ``//`` is skipped (how skeletons drop files conditionally); binary files and symlinks are
copied raw; the executable bit is kept; existing files are kept unless ``replace: true``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from . import paths
from .actions import ActionContext, ActionExample, TemplateAction
from .errors import InvalidActionInput, PathNotAllowed
from .ports import SkeletonReader, WorkspaceFile
from .templating import TemplateRenderer

_URL: Final = {"type": "string", "title": "URL", "description": "Folder or file, relative to the template or absolute"}
_TARGET: Final = {"type": "string", "title": "Target path", "description": "Path in the workspace (default: its root)"}
_TOKEN: Final = {"type": "string", "title": "Token", "description": "Token for reading a remote URL"}
_VALUES: Final = {"type": "object", "title": "Values", "description": "Values the skeleton is rendered with"}
MAX_WAIT_SECONDS: Final = 600.0


def is_binary(content: bytes) -> bool:
    """Whether skeleton content is binary (a NUL byte, or not UTF-8) and so copied without rendering."""
    if b"\x00" in content[:8192]:
        return True
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _rendered_path_is_dropped(rendered: str) -> bool:
    return rendered.strip() == "" or rendered.startswith("/") or "//" in rendered or rendered.endswith("/")


class FetchTemplate(TemplateAction):
    """``fetch:template``: render a skeleton folder into the workspace."""

    id = "fetch:template"
    description = (
        "Downloads a skeleton, renders its file names and contents with values, and writes it to the workspace."
    )
    input_schema: Mapping[str, Any] = {
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": _URL,
            "targetPath": _TARGET,
            "values": _VALUES,
            "copyWithoutTemplating": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Globs of files copied without rendering their contents (names are still rendered)",
            },
            "copyWithoutRender": {
                "type": "array",
                "items": {"type": "string"},
                "deprecated": True,
                "description": "Deprecated: like copyWithoutTemplating, but the matched names are not rendered either",
            },
            "cookiecutterCompat": {"type": "boolean", "description": "Use {{ cookiecutter.x }} syntax"},
            "templateFileExtension": {
                "type": ["string", "boolean"],
                "description": "Render only files with this extension (true = .njk), stripping it",
            },
            "replace": {"type": "boolean", "description": "Overwrite files that already exist"},
            "trimBlocks": {"type": "boolean"},
            "lstripBlocks": {"type": "boolean"},
            "token": _TOKEN,
        },
    }
    supports_dry_run = True
    repeatable = True
    examples = (
        ActionExample(
            description="Render a skeleton with a service name",
            step={"action": "fetch:template", "input": {"url": "./skeleton", "values": {"name": "payments"}}},
            skeleton={"skeleton/README.md": "# ${{ values.name }}\n", "skeleton/${{ values.name }}.txt": "hello"},
        ),
    )

    def __init__(self, *, skeletons: SkeletonReader, renderer: TemplateRenderer) -> None:
        self._skeletons = skeletons
        self._renderer = renderer

    async def run(self, ctx: ActionContext, input: Mapping[str, Any]) -> None:
        """Render every skeleton entry into ``targetPath``."""
        options = _template_options(ctx, input)
        files = await self._skeletons.fetch_tree(str(input["url"]), base_url=ctx.template_info.base_url)
        ctx.log(f"Fetched {len(files)} skeleton file(s) from {input['url']}; writing to {options.target or '.'}")
        for file in files:
            await self._write(ctx, file, options)

    async def _write(self, ctx: ActionContext, file: WorkspaceFile, options: _TemplateOptions) -> None:
        location, render_contents = file.path, not options.raw_only(file.path)
        if options.extension:
            render_contents = location.endswith(options.extension)
            location = location[: -len(options.extension)] if render_contents else location
        where = f"skeleton path {file.path!r}"
        rendered = location
        if render_contents or options.render_raw_names:
            rendered = self._renderer.render_file(location, options.values, path=where, **options.render)
        if _rendered_path_is_dropped(rendered):
            ctx.log(f"Skipping {file.path}: its rendered path {rendered!r} is empty or not a file path")
            return
        destination = paths.join_path(options.target, rendered, what=f"rendered skeleton path {rendered!r}")
        if not options.replace and await ctx.workspace.exists(destination):
            ctx.log(f"Skipping {destination}: it already exists (set replace: true to overwrite)")
            return
        content = file.content
        if file.symlink is None and render_contents and not is_binary(content):
            text = content.decode("utf-8")
            where = f"skeleton file {file.path!r}"
            content = self._renderer.render_file(text, options.values, path=where, **options.render).encode("utf-8")
        await ctx.workspace.save(WorkspaceFile(destination, content, file.executable, file.symlink))


@dataclass(frozen=True, slots=True)
class _TemplateOptions:
    target: str
    values: Mapping[str, Any]
    extension: str | None
    raw_only: Callable[[str], bool]
    render_raw_names: bool
    replace: bool
    render: Mapping[str, bool]


def _template_options(ctx: ActionContext, input: Mapping[str, Any]) -> _TemplateOptions:
    """Read ``fetch:template``'s options, refusing combinations Backstage refuses."""
    raw_globs = list(input.get("copyWithoutTemplating") or [])
    legacy = list(input.get("copyWithoutRender") or [])
    if legacy and raw_globs:
        raise InvalidActionInput(
            "fetch:template: copyWithoutRender and copyWithoutTemplating cannot be used together; "
            "use copyWithoutTemplating"
        )
    if legacy:
        # The deprecated spelling also leaves the matched entries' names unrendered.
        ctx.log("[Deprecated] copyWithoutRender is deprecated; use copyWithoutTemplating instead")
        raw_globs = legacy
    extension = input.get("templateFileExtension")
    extension = ".njk" if extension is True else (str(extension) if extension else None)
    cookiecutter = bool(input.get("cookiecutterCompat"))
    if extension and (raw_globs or cookiecutter):
        raise InvalidActionInput(
            "fetch:template: templateFileExtension cannot be combined with copyWithoutTemplating or "
            "cookiecutterCompat; use one of them"
        )
    return _TemplateOptions(
        target=paths.normalize_path(str(input.get("targetPath") or "./"), what="targetPath"),
        values=dict(input.get("values") or {}),
        extension=(extension if extension.startswith(".") else "." + extension) if extension else None,
        raw_only=paths.glob_matcher(raw_globs),
        render_raw_names=not legacy,
        replace=bool(input.get("replace")),
        render={
            "cookiecutter": cookiecutter,
            "trim_blocks": bool(input.get("trimBlocks")),
            "lstrip_blocks": bool(input.get("lstripBlocks")),
        },
    )


class FetchTemplateFile(TemplateAction):
    """``fetch:template:file``: render one skeleton file to ``targetPath``."""

    id = "fetch:template:file"
    description = "Downloads one file, renders its contents with values, and writes it to the workspace."
    input_schema: Mapping[str, Any] = {
        "type": "object",
        "required": ["url", "targetPath"],
        "properties": {
            "url": _URL,
            "targetPath": _TARGET,
            "values": _VALUES,
            "cookiecutterCompat": {"type": "boolean"},
            "replace": {"type": "boolean"},
            "trimBlocks": {"type": "boolean"},
            "lstripBlocks": {"type": "boolean"},
            "token": _TOKEN,
        },
    }
    supports_dry_run = True
    repeatable = True

    def __init__(self, *, skeletons: SkeletonReader, renderer: TemplateRenderer) -> None:
        self._skeletons = skeletons
        self._renderer = renderer

    async def run(self, ctx: ActionContext, input: Mapping[str, Any]) -> None:
        """Render the file and save it."""
        destination = paths.normalize_path(str(input["targetPath"]), what="targetPath")
        if destination == "":
            raise PathNotAllowed("fetch:template:file: targetPath must name a file, not the workspace root")
        if await ctx.workspace.exists(destination) and not input.get("replace"):
            ctx.log(f"Skipping {destination}: it already exists (set replace: true to overwrite)")
            return
        file = await self._skeletons.fetch_file(str(input["url"]), base_url=ctx.template_info.base_url)
        content = file.content
        if not is_binary(content):
            content = self._renderer.render_file(
                content.decode("utf-8"),
                dict(input.get("values") or {}),
                cookiecutter=bool(input.get("cookiecutterCompat")),
                trim_blocks=bool(input.get("trimBlocks")),
                lstrip_blocks=bool(input.get("lstripBlocks")),
                path=f"skeleton file {input['url']!r}",
            ).encode("utf-8")
        await ctx.workspace.save(WorkspaceFile(destination, content, file.executable))


class FetchPlain(TemplateAction):
    """``fetch:plain``: copy a folder into the workspace as it is."""

    id = "fetch:plain"
    description = "Downloads a folder and copies it into the workspace without rendering."
    input_schema: Mapping[str, Any] = {
        "type": "object",
        "required": ["url"],
        "properties": {"url": _URL, "targetPath": _TARGET, "token": _TOKEN},
    }
    supports_dry_run = True
    repeatable = True
    examples = (
        ActionExample(
            description="Copy static docs into docs/",
            step={"action": "fetch:plain", "input": {"url": "./docs", "targetPath": "docs"}},
            skeleton={"docs/index.md": "# ${{ kept as written }}\n"},
        ),
    )

    def __init__(self, *, skeletons: SkeletonReader) -> None:
        self._skeletons = skeletons

    async def run(self, ctx: ActionContext, input: Mapping[str, Any]) -> None:
        """Copy every file under ``url`` to ``targetPath``."""
        target = paths.normalize_path(str(input.get("targetPath") or "./"), what="targetPath")
        files = await self._skeletons.fetch_tree(str(input["url"]), base_url=ctx.template_info.base_url)
        for file in files:
            destination = paths.join_path(target, file.path, what="fetched path")
            await ctx.workspace.save(WorkspaceFile(destination, file.content, file.executable, file.symlink))
        ctx.log(f"Copied {len(files)} file(s) from {input['url']} to {target or '.'}")


class FetchPlainFile(TemplateAction):
    """``fetch:plain:file``: copy one file into the workspace as it is."""

    id = "fetch:plain:file"
    description = "Downloads one file and writes it to targetPath without rendering."
    input_schema: Mapping[str, Any] = {
        "type": "object",
        "required": ["url", "targetPath"],
        "properties": {"url": _URL, "targetPath": _TARGET, "token": _TOKEN},
    }
    supports_dry_run = True
    repeatable = True

    def __init__(self, *, skeletons: SkeletonReader) -> None:
        self._skeletons = skeletons

    async def run(self, ctx: ActionContext, input: Mapping[str, Any]) -> None:
        """Copy the file."""
        destination = paths.normalize_path(str(input["targetPath"]), what="targetPath")
        if destination == "":
            raise PathNotAllowed("fetch:plain:file: targetPath must name a file, not the workspace root")
        file = await self._skeletons.fetch_file(str(input["url"]), base_url=ctx.template_info.base_url)
        await ctx.workspace.save(WorkspaceFile(destination, file.content, file.executable))
        ctx.log(f"Copied {input['url']} to {destination}")


_GLOB_CHARS: Final = frozenset("*?[{")


class FsDelete(TemplateAction):
    """``fs:delete``: delete files and folders (globs allowed) from the workspace."""

    id = "fs:delete"
    description = "Deletes files and folders from the workspace; entries may be globs."
    input_schema: Mapping[str, Any] = {
        "type": "object",
        "required": ["files"],
        "properties": {"files": {"type": "array", "items": {"type": "string"}, "description": "Paths or globs"}},
    }
    supports_dry_run = True
    repeatable = True
    examples = (
        ActionExample(
            description="Remove a placeholder file",
            step={"action": "fs:delete", "input": {"files": ["PLACEHOLDER.md"]}},
            workspace={"PLACEHOLDER.md": "delete me"},
        ),
    )

    async def run(self, ctx: ActionContext, input: Mapping[str, Any]) -> None:
        """Delete each path, or every file matching each glob."""
        for entry in input["files"]:
            text = str(entry)
            if _GLOB_CHARS & set(text):
                paths.normalize_path(text.lstrip("!"), what="fs:delete glob")
                match = paths.glob_matcher([text])
                for path in [p for p in await ctx.workspace.list() if match(p)]:
                    await ctx.workspace.delete(path)
                    ctx.log(f"Deleted {path}")
                continue
            clean = paths.normalize_path(text, what="fs:delete path")
            if clean == "":
                raise PathNotAllowed("fs:delete refuses to delete the whole workspace; name files or folders")
            if await ctx.workspace.delete(clean):
                ctx.log(f"Deleted {clean}")
            else:
                ctx.log(f"Nothing to delete at {clean}")


class FsRename(TemplateAction):
    """``fs:rename``: move files and folders inside the workspace."""

    id = "fs:rename"
    description = "Renames files and folders in the workspace."
    input_schema: Mapping[str, Any] = {
        "type": "object",
        "required": ["files"],
        "properties": {
            "files": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["from", "to"],
                    "properties": {
                        "from": {"type": "string"},
                        "to": {"type": "string"},
                        "overwrite": {"type": "boolean"},
                    },
                },
            }
        },
    }
    supports_dry_run = True
    repeatable = False
    examples = (
        ActionExample(
            description="Rename a file",
            step={"action": "fs:rename", "input": {"files": [{"from": "a.txt", "to": "b.txt"}]}},
            workspace={"a.txt": "hello"},
        ),
    )

    async def run(self, ctx: ActionContext, input: Mapping[str, Any]) -> None:
        """Rename each entry in order."""
        for entry in input["files"]:
            await ctx.workspace.rename(str(entry["from"]), str(entry["to"]), overwrite=bool(entry.get("overwrite")))
            ctx.log(f"Renamed {entry['from']} to {entry['to']}")


class DebugLog(TemplateAction):
    """``debug:log``: write a message (and optionally the workspace listing) to the task log."""

    id = "debug:log"
    description = "Writes a message into the log and can list the workspace."
    input_schema: Mapping[str, Any] = {
        "type": "object",
        "properties": {
            "message": {"type": "string", "description": "Message to write"},
            "listWorkspace": {
                "oneOf": [{"type": "boolean"}, {"type": "string", "enum": ["with-filenames", "with-contents"]}],
                "description": "List the workspace: true/with-filenames, or with-contents",
            },
        },
    }
    supports_dry_run = True
    repeatable = True
    examples = (
        ActionExample(description="Log a greeting", step={"action": "debug:log", "input": {"message": "Hello"}}),
    )

    async def run(self, ctx: ActionContext, input: Mapping[str, Any]) -> None:
        """Log the message and the listing."""
        if input.get("message") is not None:
            ctx.log(str(input["message"]))
        listing = input.get("listWorkspace")
        if not listing:
            return
        files = await ctx.workspace.snapshot()
        ctx.log(f"Workspace has {len(files)} file(s):")
        for file in files:
            if listing == "with-contents" and not is_binary(file.content):
                ctx.log(f"{file.path}:\n{file.content.decode('utf-8')}")
            else:
                ctx.log(file.path)


class DebugWait(TemplateAction):
    """``debug:wait``: pause the task (at most ten minutes)."""

    id = "debug:wait"
    description = "Waits for the given time before the next step (at most 10 minutes)."
    input_schema: Mapping[str, Any] = {
        "type": "object",
        "properties": {
            "minutes": {"type": "number", "minimum": 0},
            "seconds": {"type": "number", "minimum": 0},
            "milliseconds": {"type": "number", "minimum": 0},
        },
    }
    supports_dry_run = True
    repeatable = True
    examples = (ActionExample(description="Wait two seconds", step={"action": "debug:wait", "input": {"seconds": 2}}),)

    async def run(self, ctx: ActionContext, input: Mapping[str, Any]) -> None:
        """Sleep through ``ctx.sleep``."""
        total = (
            float(input.get("minutes") or 0) * 60
            + float(input.get("seconds") or 0)
            + float(input.get("milliseconds") or 0) / 1000
        )
        if total > MAX_WAIT_SECONDS:
            raise InvalidActionInput(
                f"debug:wait: {total:g} s is longer than the maximum of {MAX_WAIT_SECONDS:g} s; wait less"
            )
        ctx.log(f"Waiting {total:g} s")
        await ctx.sleep(total)


def builtin_actions(*, skeletons: SkeletonReader, renderer: TemplateRenderer) -> list[TemplateAction]:
    """The file and debug actions this module provides, wired to a skeleton reader and renderer."""
    return [
        FetchTemplate(skeletons=skeletons, renderer=renderer),
        FetchTemplateFile(skeletons=skeletons, renderer=renderer),
        FetchPlain(skeletons=skeletons),
        FetchPlainFile(skeletons=skeletons),
        FsDelete(),
        FsRename(),
        DebugLog(),
        DebugWait(),
    ]


__all__ = [
    "DebugLog",
    "DebugWait",
    "FetchPlain",
    "FetchPlainFile",
    "FetchTemplate",
    "FetchTemplateFile",
    "FsDelete",
    "FsRename",
    "builtin_actions",
    "is_binary",
]
