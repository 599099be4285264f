"""When an ExternalSecret syncs again, and the status ESO reports about it.

ESO's rules (pkg/controllers/externalsecret): with ``refreshPolicy: Periodic`` a sync happens when
the generation changed, when it never synced, or when ``refreshTime + refreshInterval`` has passed.
``refreshInterval: 0`` means "sync once": after the first sync nothing refreshes, not even a spec
change. ``CreatedOnce`` syncs only if never synced; ``OnChange`` only when the generation or the
labels/annotations changed. Independently, a missing, hand-edited or unmanaged target secret
always forces a sync. All functions take ``now``; nothing reads the clock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Literal

from blacktop.kernel.clock import format_timestamp

from . import eso, syncing
from .crypto import Entropy
from .errors import SyncError, TemplateError
from .syncing import DATA_HASH_ANNOTATION, MANAGED_LABEL, data_hash
from .templating import TemplateEngine

READY: Final = "Ready"
REASON_SYNCED: Final = "SecretSynced"
REASON_ERROR: Final = "SecretSyncedError"
REASON_DELETED: Final = "SecretDeleted"
REASON_MISSING: Final = "SecretMissing"


@dataclass(frozen=True, slots=True)
class Condition:
    """A status condition as ESO writes it."""

    type: str
    status: Literal["True", "False", "Unknown"]
    reason: str
    message: str
    last_transition_time: datetime

    def to_json(self) -> dict[str, str]:
        """The condition as it appears in ``status.conditions[]``."""
        return {
            "type": self.type,
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
            "lastTransitionTime": format_timestamp(self.last_transition_time),
        }


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """``ExternalSecret.status``: when it last synced, for which object version, and how."""

    refresh_time: datetime | None = None
    synced_resource_version: str | None = None
    conditions: tuple[Condition, ...] = ()
    binding_name: str | None = None

    def to_json(self) -> dict[str, object]:
        """The status subresource as ESO writes it."""
        out: dict[str, object] = {"conditions": [c.to_json() for c in self.conditions]}
        if self.refresh_time is not None:
            out["refreshTime"] = format_timestamp(self.refresh_time)
        if self.synced_resource_version is not None:
            out["syncedResourceVersion"] = self.synced_resource_version
        if self.binding_name is not None:
            out["binding"] = {"name": self.binding_name}
        return out


@dataclass(frozen=True, slots=True)
class ObservedTarget:
    """What the caller sees of the existing target secret (None when it does not exist)."""

    data: Mapping[str, bytes] = field(repr=False)
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


def synced_resource_version(meta: eso.ObjectMeta) -> str:
    """``<generation>-<hash of labels and annotations>``, as ESO records it."""
    blob = json.dumps({"labels": meta.labels, "annotations": meta.annotations}, sort_keys=True).encode()
    return f"{meta.generation}-{hashlib.sha256(blob).hexdigest()[:32]}"


def is_target_valid(target: ObservedTarget | None) -> bool:
    """A target is valid when it exists, carries the managed label and its data hash matches."""
    if target is None:
        return False
    if target.labels.get(MANAGED_LABEL) != "true":
        return False
    return target.annotations.get(DATA_HASH_ANNOTATION) == data_hash(target.data)


def should_refresh(es: eso.ExternalSecret, status: SyncStatus, *, now: datetime) -> bool:
    """ESO's ``shouldRefresh``, per refresh policy."""
    synced = status.synced_resource_version is not None
    policy = es.spec.refresh_policy
    if policy == "CreatedOnce":
        return not synced
    if policy == "OnChange":
        return not synced or status.synced_resource_version != synced_resource_version(es.metadata)
    interval = es.spec.interval
    if interval <= timedelta(0) and synced:
        return False
    if status.synced_resource_version != synced_resource_version(es.metadata):
        return True
    if status.refresh_time is None or status.refresh_time > now:
        return True
    return status.refresh_time + interval <= now


def needs_sync(es: eso.ExternalSecret, status: SyncStatus, *, target: ObservedTarget | None, now: datetime) -> bool:
    """Whether to sync now: a refresh is due, or the target is missing, unmanaged or hand-edited."""
    if es.spec.target.creation_policy in ("Merge", "None") and target is not None:
        return should_refresh(es, status, now=now)
    return should_refresh(es, status, now=now) or not is_target_valid(target)


def requeue_after(es: eso.ExternalSecret, status: SyncStatus, *, now: datetime) -> timedelta | None:
    """How long until the next periodic refresh; None when the interval is 0 (no requeue)."""
    interval = es.spec.interval
    if interval <= timedelta(0) or es.spec.refresh_policy != "Periodic":
        return None
    if status.refresh_time is None:
        return interval
    return max(interval - (now - status.refresh_time), timedelta(0))


def synced(es: eso.ExternalSecret, *, now: datetime, message: str = "secret synced") -> SyncStatus:
    """The status after a successful sync: Ready=True, reason SecretSynced."""
    return SyncStatus(
        refresh_time=now,
        synced_resource_version=synced_resource_version(es.metadata),
        conditions=(Condition(READY, "True", REASON_SYNCED, message, now),),
        binding_name=es.target_name,
    )


def failed(previous: SyncStatus, *, now: datetime, message: str) -> SyncStatus:
    """The status after a failed sync: Ready=False, reason SecretSyncedError; refresh data kept."""
    return SyncStatus(
        refresh_time=previous.refresh_time,
        synced_resource_version=previous.synced_resource_version,
        conditions=(Condition(READY, "False", REASON_ERROR, message, now),),
        binding_name=previous.binding_name,
    )


def missing_for_merge(es: eso.ExternalSecret, previous: SyncStatus, *, now: datetime) -> SyncStatus:
    """creationPolicy Merge with no existing secret: Ready=True, reason SecretMissing."""
    return SyncStatus(
        refresh_time=previous.refresh_time,
        synced_resource_version=previous.synced_resource_version,
        conditions=(
            Condition(READY, "True", REASON_MISSING, "secret will not be created due to CreationPolicy=Merge", now),
        ),
        binding_name=es.target_name,
    )


EmptyDataAction = Literal["keep", "delete", "clear"]


def empty_data_outcome(es: eso.ExternalSecret, *, now: datetime) -> tuple[EmptyDataAction, SyncStatus]:
    """deletionPolicy when the provider returned no data: keep, delete or clear the secret."""
    policy = es.spec.target.deletion_policy
    if policy == "Delete":
        message = "secret deleted due to DeletionPolicy=Delete"
        condition = Condition(READY, "True", REASON_DELETED, message, now)
        action: EmptyDataAction = "delete"
    elif policy == "Merge":
        condition = Condition(READY, "True", REASON_SYNCED, "secret synced", now)
        action = "clear"
    else:
        message = "secret retained due to DeletionPolicy=Retain"
        condition = Condition(READY, "True", REASON_SYNCED, message, now)
        action = "keep"
    status = SyncStatus(
        refresh_time=now,
        synced_resource_version=synced_resource_version(es.metadata),
        conditions=(condition,),
        binding_name=es.target_name,
    )
    return action, status


@dataclass(frozen=True, slots=True)
class SyncPlan:
    """What the ExternalSecret controller should do now, and the status to record.

    ``action`` is ``skip`` (nothing due), ``write`` (create or update the target with ``target``),
    ``keep`` (provider empty, DeletionPolicy=Retain), ``delete`` (DeletionPolicy=Delete),
    ``clear`` (DeletionPolicy=Merge: remove the managed keys), ``wait`` (Merge target missing) or
    ``fail`` (status carries SecretSyncedError).
    """

    action: Literal["skip", "write", "keep", "delete", "clear", "wait", "fail"]
    status: SyncStatus
    target: syncing.TargetSecret | None = None
    requeue_after: timedelta | None = None


def plan_sync(
    es: eso.ExternalSecret,
    status: SyncStatus,
    *,
    fetched: syncing.Fetched | None,
    observed: ObservedTarget | None,
    now: datetime,
    engine: TemplateEngine,
    entropy: Entropy,
    template_sources: Mapping[tuple[str, str], Mapping[str, str]] | None = None,
    fetch_error: str | None = None,
) -> SyncPlan:
    """Decide one reconcile of an ExternalSecret from what was fetched and what the target looks like.

    ``fetched`` may be None when :func:`needs_sync` said no fetch was needed; ``fetch_error`` is the
    provider's failure message, which becomes a SecretSyncedError condition.
    """
    if not needs_sync(es, status, target=observed, now=now):
        return SyncPlan("skip", status, requeue_after=requeue_after(es, status, now=now))
    if fetch_error is not None or fetched is None:
        message = f"could not get secret data from provider: {fetch_error or 'nothing fetched'}"
        return SyncPlan("fail", failed(status, now=now, message=message), requeue_after=es.spec.interval or None)
    if es.spec.target.creation_policy == "Merge" and observed is None:
        return SyncPlan("wait", missing_for_merge(es, status, now=now), requeue_after=es.spec.interval or None)
    try:
        provider_data = syncing.compute_provider_data(es.spec, fetched, engine=engine, entropy=entropy)
        if not provider_data and not (es.spec.target.template and es.spec.target.template.data):
            action, new_status = empty_data_outcome(es, now=now)
            return SyncPlan(action, new_status, requeue_after=requeue_after(es, new_status, now=now))
        target = syncing.render_target(
            es,
            provider_data,
            engine=engine,
            existing=observed.data if observed is not None else None,
            template_sources=template_sources,
        )
    except (SyncError, TemplateError) as exc:
        return SyncPlan("fail", failed(status, now=now, message=str(exc)), requeue_after=es.spec.interval or None)
    new_status = synced(es, now=now)
    return SyncPlan("write", new_status, target=target, requeue_after=requeue_after(es, new_status, now=now))
