"""Where the key-encryption key comes from: environment, file, or the generated embedded default.

Test design: ``load_keyring`` is called with explicit ``Settings`` over temporary folders; each case
checks the current KEK id, the retired ids, file modes, and that refusals name the fix.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from blacktop.settings import Settings
from blacktop.wiring.secrets import load_keyring

KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()


def settings(data_dir: Path, **secrets: object) -> Settings:
    return Settings(data_dir=data_dir, secrets=secrets)


def test_embedded_default_generates_a_private_key_outside_the_database_once(tmp_path: Path) -> None:
    first = load_keyring(settings(tmp_path))
    assert first.generated and first.ring.current.kek_id == "kek-1"
    key_file = tmp_path / "keys" / "kek-1.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "keys").stat().st_mode & 0o777 == 0o700
    assert not (tmp_path / "state.db").exists()
    again = load_keyring(settings(tmp_path))
    assert not again.generated and again.ring.current == first.ring.current


def test_environment_kek_wins_and_key_directory_files_stay_readable_as_retired(tmp_path: Path) -> None:
    load_keyring(settings(tmp_path))
    source = load_keyring(settings(tmp_path, kek=f"prod-2027:{KEY_A}"))
    assert source.ring.current.kek_id == "prod-2027"
    assert [k.kek_id for k in source.ring.retired] == ["kek-1"]
    assert "environment variable" in source.description


def test_kek_file_and_retired_files(tmp_path: Path) -> None:
    current, old = tmp_path / "k-new.key", tmp_path / "k-old.key"
    for path, text in ((current, KEY_A), (old, KEY_B)):
        path.write_text(text + "\n")
        path.chmod(0o600)
    source = load_keyring(settings(tmp_path, kek_file=str(current), retired_kek_files=[str(old)]))
    assert (source.ring.current.kek_id, [k.kek_id for k in source.ring.retired]) == ("k-new", ["k-old"])


def test_refusals_name_the_fix(tmp_path: Path) -> None:
    loose = tmp_path / "loose.key"
    loose.write_text(KEY_A)
    loose.chmod(0o644)
    with pytest.raises(PermissionError, match="chmod 600"):
        load_keyring(settings(tmp_path, kek_file=str(loose)))
    with pytest.raises(ValueError, match="<kek-id>:<base64"):
        load_keyring(settings(tmp_path, kek=KEY_A))
    with pytest.raises(ValueError, match="openssl rand -base64 32"):
        load_keyring(settings(tmp_path, kek="k:not base64!"))


def test_environment_variables_reach_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLACKTOP_SECRETS__KEK", f"from-env:{KEY_B}")
    source = load_keyring(Settings(data_dir=tmp_path))
    assert source.ring.current.kek_id == "from-env" and source.ring.current.key == b"b" * 32
