"""Loading key-encryption keys from files, which live apart from the data they protect.

A KEK file holds the base64 of 32 random bytes (``openssl rand -base64 32 > kek-2026.key``); the
key id is the file name without its suffix. Files readable by group or others are refused, because
anyone who can read the KEK and the database can read every secret.
"""

from __future__ import annotations

import stat
from collections.abc import Sequence
from pathlib import Path

from ..crypto import Kek, KeyRing, parse_kek


def read_kek_file(path: Path) -> Kek:
    """Read one KEK file; its id is the file's stem."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PermissionError(f"KEK file {path} is accessible by group or others; run `chmod 600 {path}`")
    return parse_kek(path.stem, path.read_text())


def keyring_from_files(current: Path, retired: Sequence[Path] = ()) -> KeyRing:
    """A key ring whose current KEK is ``current``; ``retired`` files stay available for unwrapping."""
    return KeyRing(current=read_kek_file(current), retired=tuple(read_kek_file(p) for p in retired))
