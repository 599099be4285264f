"""``argocd:create-app``: an Argo CD ``Application`` for the new service, committed to the GitOps repository.

blacktop does not call an Argo CD API: the platform's GitOps repository is what Argo CD syncs
(an app-of-apps pointed at ``APPS_FOLDER``), so creating the app is one commit of one manifest.
``plan_application`` builds the manifest (pure, shared with dry runs); the action commits it.
Writing the same manifest again changes nothing, so the action is safe to repeat; ``undo``
deletes the file, which makes Argo CD prune the app.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import yaml

from blacktop.kernel.errors import ConflictError

from .actions import ActionContext, ActionExample, TemplateAction
from .errors import InvalidActionInput
from .ports import GitOpsRepository

APPS_FOLDER: Final = "argocd/applications"
"""Where Application manifests live in the GitOps repository."""
_DNS_LABEL: Final = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def manifest_path(app_name: str) -> str:
    """The GitOps repository path of ``app_name``'s Application manifest."""
    return f"{APPS_FOLDER}/{app_name}.yaml"


def plan_application(input: Mapping[str, Any]) -> dict[str, Any]:
    """The Argo CD ``Application`` document for a step's input (validated: names must be DNS labels)."""
    name = str(input["appName"])
    namespace = str(input.get("namespace") or name)
    problems = [
        f"{field} {value!r} must be a lowercase DNS label (a-z, 0-9, '-')"
        for field, value in (("appName", name), ("namespace", namespace))
        if not _DNS_LABEL.match(value) or len(value) > 63
    ]
    if problems:
        raise InvalidActionInput("argocd:create-app: " + "; ".join(problems))
    source: dict[str, Any] = {
        "repoURL": str(input["repoUrl"]),
        "path": str(input["path"]).strip("/") or ".",
        "targetRevision": str(input.get("targetRevision") or "HEAD"),
    }
    if input.get("valueFiles"):
        source["helm"] = {"valueFiles": [str(v) for v in input["valueFiles"]]}
    labels = {str(k): str(v) for k, v in dict(input.get("labels") or {}).items()}
    labels.setdefault("app.kubernetes.io/managed-by", "blacktop")
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": name,
            "namespace": str(input.get("argoNamespace") or "argocd"),
            "labels": labels,
            "finalizers": ["resources-finalizer.argocd.argoproj.io"],
        },
        "spec": {
            "project": str(input.get("projectName") or "default"),
            "source": source,
            "destination": {"server": str(input.get("destinationServer") or "https://kubernetes.default.svc"),
                            "namespace": namespace},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}, "syncOptions": ["CreateNamespace=true"]},
        },
    }  # fmt: skip


class ArgoCdCreateApp(TemplateAction):
    """``argocd:create-app``: commit an Argo CD Application to the platform's GitOps repository."""

    id = "argocd:create-app"
    description = "Writes an Argo CD Application for the service into the platform's GitOps repository."
    input_schema: Mapping[str, Any] = {
        "type": "object",
        "required": ["appName", "repoUrl", "path"],
        "properties": {
            "appName": {"type": "string", "description": "Application name (a DNS label)"},
            "repoUrl": {"type": "string", "description": "Git URL Argo CD syncs from"},
            "path": {"type": "string", "description": "Folder of the manifests or Helm chart in that repository"},
            "targetRevision": {"type": "string", "default": "HEAD"},
            "namespace": {"type": "string", "description": "Destination namespace (default: appName)"},
            "projectName": {"type": "string", "default": "default"},
            "argoNamespace": {"type": "string", "default": "argocd"},
            "argoInstance": {"type": "string", "description": "Accepted for compatibility; one GitOps repository"},
            "destinationServer": {"type": "string", "default": "https://kubernetes.default.svc"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "valueFiles": {"type": "array", "items": {"type": "string"}},
        },
    }
    output_schema: Mapping[str, Any] = {
        "type": "object",
        "properties": {
            "manifestPath": {"type": "string"},
            "commitHash": {"type": "string"},
            "gitopsRepoUrl": {"type": "string"},
        },
    }
    supports_dry_run = True
    repeatable = True
    examples = (
        ActionExample(
            description="Deploy the service's Helm chart with Argo CD",
            step={
                "id": "argocd",
                "action": "argocd:create-app",
                "input": {
                    "appName": "svc",
                    "repoUrl": "http://127.0.0.1:7007/git/acme-corp/svc.git",
                    "path": "deploy/helm",
                },
            },
        ),
    )

    def __init__(self, *, gitops: GitOpsRepository) -> None:
        self._gitops = gitops

    async def run(self, ctx: ActionContext, input: Mapping[str, Any]) -> None:
        """Commit the Application manifest (a dry run only logs it)."""
        document = plan_application(input)
        path = manifest_path(str(input["appName"]))
        text = yaml.safe_dump(document, sort_keys=False)
        ctx.output("manifestPath", path)
        ctx.output("gitopsRepoUrl", self._gitops.url)
        if ctx.is_dry_run:
            ctx.log(f"Dry run: would commit {path} to the GitOps repository {self._gitops.url}:\n{text}")
            ctx.output("commitHash", "0" * 40)
            return
        existing = await self._gitops.read(path)
        if existing is not None and yaml.safe_load(existing) != document:
            raise ConflictError(
                f"Argo CD application {input['appName']!r} already exists in the GitOps repository ({path}) with "
                "different content; choose another appName or remove the existing application"
            )
        commit = await self._gitops.write({path: text}, message=f"argocd: add application {input['appName']}")
        ctx.output("commitHash", commit or "")
        ctx.log(f"Committed Argo CD Application {input['appName']} to {self._gitops.url} at {path}")

    async def undo(self, ctx: ActionContext, input: Mapping[str, Any], outputs: Mapping[str, Any]) -> None:
        """Delete the Application manifest, so Argo CD prunes the app."""
        path = str(outputs.get("manifestPath") or manifest_path(str(input["appName"])))
        if await self._gitops.read(path) is None:
            ctx.log(f"Nothing to undo: {path} is not in the GitOps repository")
            return
        await self._gitops.write({path: None}, message=f"argocd: remove application {input['appName']}")
        ctx.log(f"Removed Argo CD Application {input['appName']} ({path}) from the GitOps repository")
