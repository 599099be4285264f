"""The reconcile engine: controllers per kind, a de-duplicating work queue, backoff, leases for scale-out.

The composition root builds an ``Engine`` with the store as its ``ResourceSource``, the write
pipeline adapted to a ``ResourceWriter``, a ``ControllerRegistry`` and, for several processes,
a ``LeaseStore``. Controllers are planners: they return a ``Plan`` and the engine writes it.
Only the kernel is imported here; everything else arrives through the Protocols in ``ports``.
"""

from .controllers import (
    Action,
    AddFinalizer,
    ConditionUpdate,
    Controller,
    ControllerRegistry,
    CreateChild,
    DeleteChild,
    FunctionController,
    PatchObject,
    Plan,
    ReconcileContext,
    RemoveFinalizer,
    Result,
    SetStatus,
    compute_status,
    generation_of,
    has_finalizer,
    is_deleting,
    is_observed,
    observed_generation_of,
    plan_finalizer,
    plan_status,
)
from .leasing import AllShards, LeaseSettings, ShardCoordinator, fair_share, shard_of
from .ports import EngineMetrics, Lease, LeaseStore, NullMetrics, ResourceSource, ResourceWriter
from .queueing import Backoff, WorkQueue
from .running import OUTCOMES, Engine, EngineSettings

__all__ = [
    "OUTCOMES",
    "Action",
    "AddFinalizer",
    "AllShards",
    "Backoff",
    "ConditionUpdate",
    "Controller",
    "ControllerRegistry",
    "CreateChild",
    "DeleteChild",
    "Engine",
    "EngineMetrics",
    "EngineSettings",
    "FunctionController",
    "Lease",
    "LeaseSettings",
    "LeaseStore",
    "NullMetrics",
    "PatchObject",
    "Plan",
    "ReconcileContext",
    "RemoveFinalizer",
    "ResourceSource",
    "ResourceWriter",
    "Result",
    "SetStatus",
    "ShardCoordinator",
    "WorkQueue",
    "compute_status",
    "fair_share",
    "generation_of",
    "has_finalizer",
    "is_deleting",
    "is_observed",
    "observed_generation_of",
    "plan_finalizer",
    "plan_status",
    "shard_of",
]
