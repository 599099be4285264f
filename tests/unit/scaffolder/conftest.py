"""Shared helpers for the scaffolder tests: corpus template paths and a renderer."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.corpus import corpus_dir, examples_dir

from blacktop.scaffolder import TemplateRenderer

TEMPLATES_ROOT = corpus_dir("backstage", "templates")
SKELETONS = Path(__file__).resolve().parent / "skeletons"
GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "scaffolder"


def corpus_template(relative: str) -> Path:
    """A corpus template file by its path below ``corpus/backstage/templates``."""
    return TEMPLATES_ROOT / relative


def design_template() -> Path:
    """The design's own Go microservice template."""
    return examples_dir() / "template-microservice-golang.yaml"


@pytest.fixture
def renderer() -> TemplateRenderer:
    return TemplateRenderer()
