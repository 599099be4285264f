"""Built-in templates: folders under ``blacktop/scaffolder/builtin`` become catalog templates that run.

Test design: a stand-in built-in folder (the real golden paths are written elsewhere) is registered
the way the wiring does at start, then a task runs from it, reading its skeleton from beside it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from blacktop.bootstrap import Platform, build_platform, running
from blacktop.wiring.scaffolder import BuiltinTemplates, builtin_templates_dir
from tests.fixtures.platform import settings_for

TEMPLATE = {
    "apiVersion": "scaffolder.backstage.io/v1beta3",
    "kind": "Template",
    "metadata": {"name": "hello-builtin"},
    "spec": {
        "type": "service",
        "owner": "platform-team",
        "steps": [{"id": "fetch", "action": "fetch:template", "input": {"url": "./skeleton", "values": {"x": 1}}}],
        "output": {"text": [{"title": "t", "content": "done"}]},
    },
}


@pytest.fixture
async def api_only(tmp_path: Path) -> AsyncIterator[Platform]:
    built = await build_platform(
        settings_for(
            tmp_path / "state", engine={"enabled": False}, scaffolder={"workers": 0, "register_builtin": False}
        )
    )
    async with running(built):
        yield built


def test_the_package_ships_the_builtin_folder_convention() -> None:
    folder = builtin_templates_dir()
    assert (folder / "README.md").is_file()
    assert folder.parent.name == "scaffolder"


async def test_builtin_templates_register_and_run_from_their_folder(api_only: Platform, tmp_path: Path) -> None:
    folder = tmp_path / "builtin"
    (folder / "hello-builtin" / "skeleton").mkdir(parents=True)
    (folder / "hello-builtin" / "template.yaml").write_text(yaml.safe_dump(TEMPLATE))
    (folder / "hello-builtin" / "skeleton" / "x.txt").write_text("x=${{ values.x }}\n")
    catalog = api_only.wiring.services["catalog"]
    assert BuiltinTemplates(catalog, tmp_path / "empty").target() is None

    await BuiltinTemplates(catalog, folder).register()
    await BuiltinTemplates(catalog, folder).register()  # a restart refreshes, never conflicts

    scaffolder = api_only.wiring.services["scaffolder"]
    task = await scaffolder.create_task("hello-builtin", {}, user={}, created_by="user:default/t")
    assert await scaffolder.runner.run_once() == task.id
    done = await scaffolder.require_task(task.id)
    assert (done.status, done.error) == ("completed", None)
    assert done.spec.base_url == f"file://{(folder / 'hello-builtin').resolve()}"
