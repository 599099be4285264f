"""Documents shared by the environments unit tests: the design's example and small variations of it."""

from __future__ import annotations

import copy
from typing import Any

import yaml
from tests.corpus import examples_dir

DESIGN_FILE = examples_dir() / "preview-environment.yaml"


def design() -> dict[str, Any]:
    """The design's PreviewEnvironment exactly as shipped."""
    loaded: dict[str, Any] = yaml.safe_load(DESIGN_FILE.read_text())
    return loaded


def storable(document: dict[str, Any] | None = None) -> dict[str, Any]:
    """The design's example with its one label value Kubernetes refuses ('/' in ``branch``) made valid."""
    copied = copy.deepcopy(document or design())
    copied["metadata"]["labels"]["branch"] = "feature-payment-refactor"
    return copied


def preview(**spec: Any) -> dict[str, Any]:
    """A minimal valid PreviewEnvironment with ``spec`` fields replaced."""
    body: dict[str, Any] = {"source": {"repository": "acme-corp/svc", "commit": "0123abc"}}
    body.update(spec)
    return {
        "apiVersion": "platform.company.io/v1alpha1",
        "kind": "PreviewEnvironment",
        "metadata": {"name": "pr-7", "namespace": "team-a"},
        "spec": body,
    }
