"""Confining relative paths to a root: the one place that decides what a workspace path may be.

Template authors and template users both choose paths (``targetPath``, skeleton file names rendered
from parameters, ``fs:rename`` targets). Every adapter normalises them here first, so a path that is
absolute, carries a drive letter or NUL byte, or climbs above its root with ``..`` is refused the same
way in memory and on disk. Normalised paths use ``/``, have no ``.``/``..``/empty segments, and the
root itself is ``""``. Symlinks can only be judged by an adapter that sees the file system; it checks
them after normalising.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from .errors import PathNotAllowed

_DRIVE: Final = re.compile(r"^[A-Za-z]:")


def normalize_path(path: str, *, what: str = "path") -> str:
    """Return ``path`` as a clean relative path inside its root, or raise ``PathNotAllowed``.

    ``a/./b//c`` becomes ``a/b/c`` and ``a/../b`` becomes ``b``; ``""``, ``.`` and ``./`` mean the
    root. A ``..`` that climbs above the root, an absolute path, a Windows drive or UNC path, a
    backslash or a NUL byte are refused, naming ``what`` so the message says which input was wrong.
    """
    if "\x00" in path:
        raise PathNotAllowed(f"{what} {path!r} contains a NUL byte; remove it")
    if "\\" in path:
        raise PathNotAllowed(f"{what} {path!r} contains a backslash; use '/' to separate folders")
    if path.startswith("/") or _DRIVE.match(path):
        raise PathNotAllowed(
            f"{what} {path!r} is absolute; give a path relative to the workspace, such as 'src/app.py'"
        )
    parts: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if not parts:
                raise PathNotAllowed(f"{what} {path!r} leaves the workspace through '..'; stay inside it")
            parts.pop()
            continue
        parts.append(segment)
    return "/".join(parts)


def join_path(base: str, path: str, *, what: str = "path") -> str:
    """Join ``path`` under the normalised ``base``; the result must still lie under ``base``."""
    clean_base = normalize_path(base, what=what)
    joined = normalize_path(f"{clean_base}/{path}" if clean_base else path, what=what)
    if clean_base and not is_within(joined, clean_base):
        raise PathNotAllowed(f"{what} {path!r} leaves {clean_base!r} through '..'; stay inside it")
    return joined


def is_within(path: str, root: str) -> bool:
    """Whether the normalised ``path`` is ``root`` or lies below it (both relative, normalised)."""
    return root == "" or path == root or path.startswith(root + "/")


def parent_of(path: str) -> str:
    """The folder holding ``path`` (``""`` for a top-level entry)."""
    return path.rsplit("/", 1)[0] if "/" in path else ""


def resolve_link(link_path: str, target: str) -> str:
    """Where a relative symlink at ``link_path`` points, normalised; refused if it leaves the root."""
    if target.startswith("/"):
        raise PathNotAllowed(f"symlink {link_path!r} points to the absolute path {target!r}; only relative links")
    parent = parent_of(link_path)
    return normalize_path(f"{parent}/{target}" if parent else target, what=f"symlink {link_path!r} target")


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """A minimatch-style glob (``**``, ``*``, ``?``, ``[abc]``, ``{a,b}``; dot files match) as a regex."""
    text = pattern[2:] if pattern.startswith("./") else pattern
    out: list[str] = []
    i = 0
    depth = 0
    while i < len(text):
        c = text[i]
        if text.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if text.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = text.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = text[i + 1 : end].replace("\\", "\\\\")
                out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
                i = end
        elif c == "{":
            depth += 1
            out.append("(?:")
        elif c == "}" and depth:
            depth -= 1
            out.append(")")
        elif c == "," and depth:
            out.append("|")
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("^" + "".join(out).rstrip("/") + "$")


def glob_matcher(patterns: list[str] | tuple[str, ...]) -> Callable[[str], bool]:
    """A predicate over normalised file paths: later ``!pattern`` entries exclude what earlier ones matched.

    Like globby with ``dot: true``: ``*`` stays within one folder, ``**`` spans folders, and a
    pattern naming a folder does not match the files inside it (write ``folder/**`` for that).
    """
    compiled = [(p.startswith("!"), glob_to_regex(p[1:] if p.startswith("!") else p)) for p in patterns]

    def matches(path: str) -> bool:
        result = False
        for negated, regex in compiled:
            if regex.match(path):
                result = not negated
        return result

    return matches
