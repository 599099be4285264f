"""How feature contexts plug into the composition root.

Each feature (catalog, scaffolder, secrets, resources, observability, …) has a module here with a
``wire(w: Wiring)`` function that registers its kinds, controllers, HTTP routers and services.
The composition root builds the platform core, calls every ``wire`` in ``FEATURES`` order, then
starts the HTTP app and the engine with what they registered. Only ``bootstrap`` imports this
package.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncEngine

from blacktop.apiserver import ResourceService
from blacktop.engine import Controller
from blacktop.integrations import GitRepositories, LocalGitRepository
from blacktop.kernel.clock import Clock
from blacktop.kernel.kinds import KindInfo, KindRegistry
from blacktop.settings import Settings
from blacktop.store import SqlResourceStore
from blacktop.telemetry import PlatformMetrics


@dataclass
class Wiring:
    """The platform core a feature wires into, and what the feature contributes."""

    settings: Settings
    db: AsyncEngine
    store: SqlResourceStore
    kinds: KindRegistry
    resources: ResourceService
    clock: Clock
    metrics: PlatformMetrics
    git: GitRepositories
    """Bare git repositories under ``<data_dir>/git`` (the built-in git host serves them)."""
    gitops: LocalGitRepository
    """The platform's GitOps repository (``platform/gitops``) that Argo CD syncs."""
    controllers: list[Controller] = field(default_factory=list)
    routers: list[APIRouter] = field(default_factory=list)
    startup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    services: dict[str, Any] = field(default_factory=dict)
    demo_files: list[tuple[str, bytes]] = field(default_factory=list)

    def add_kinds(self, kinds: list[KindInfo]) -> None:
        """Register kinds the feature serves."""
        for kind in kinds:
            self.kinds.register(kind)
