"""Composition selection and CompositionRevisions, as Crossplane resolves them (spec sheet 1.10).

Test design notes: the selection chain is exercised rung by rung (enforced > ref > default >
selector) with one table; the corpus e2e "composition-selection" claim selects its composition
by labels. Revisions are checked through their life: first revision, unchanged spec, new spec,
rollback to an older spec, and an XR following them under Automatic and Manual policies.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml
from tests.corpus import corpus_dir

from blacktop.resources.composition import (
    NoCompatibleCompositionError,
    RevisionNotFoundError,
    composition_from_revision,
    plan_revision,
    render_composite,
    select_composition,
    select_revision,
)

API, KIND = "platform.example.org/v1alpha1", "XDatabase"


def comp(name: str, labels: dict[str, str] | None = None, kind: str = KIND) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.crossplane.io/v1",
        "kind": "Composition",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"compositeTypeRef": {"apiVersion": API, "kind": kind}, "resources": []},
    }


def xr(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": API, "kind": KIND, "metadata": {"name": "db-1"}, "spec": spec}


def xrd(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "xdatabases.platform.example.org"}, "spec": spec}


COMPOSITIONS = [
    comp("aws", {"provider": "aws", "engine": "postgresql"}),
    comp("local", {"provider": "local", "engine": "postgresql"}),
    comp("local-mysql", {"provider": "local", "engine": "mysql"}),
    comp("cache", {"provider": "local"}, kind="XCache"),
]


@dataclass(frozen=True)
class Case:
    xr: dict[str, Any]
    want: str
    reason: str
    xrd: dict[str, Any] = field(default_factory=dict)


CASES = {
    "enforced-beats-everything": Case(
        xr(compositionRef={"name": "local"}),
        "aws",
        "enforced by XRD",
        xrd(enforcedCompositionRef={"name": "aws"}, defaultCompositionRef={"name": "local"}),
    ),
    "ref-beats-default": Case(
        xr(compositionRef={"name": "local"}), "local", "compositionRef", xrd(defaultCompositionRef={"name": "aws"})
    ),
    "default-when-nothing-set": Case(xr(), "aws", "default of XRD", xrd(defaultCompositionRef={"name": "aws"})),
    "selector-beats-default": Case(
        xr(compositionSelector={"matchLabels": {"provider": "local", "engine": "mysql"}}),
        "local-mysql",
        "compositionSelector",
        xrd(defaultCompositionRef={"name": "aws"}),
    ),
    "selector-picks-among-matches": Case(
        xr(compositionSelector={"matchLabels": {"provider": "local"}}), "local", "matched 2"
    ),
    "no-selector-means-every-compatible": Case(xr(), "aws", "among 3 compatible"),
    "v2-fields-under-spec-crossplane": Case(
        xr(crossplane={"compositionSelector": {"matchLabels": {"provider": "aws"}}}), "aws", "matched 1"
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_selection_chain(case: Case) -> None:
    selection = select_composition(case.xr, COMPOSITIONS, xrd=case.xrd or None)
    assert selection.name == case.want
    assert case.reason in selection.reason


def test_pick_chooses_among_selector_matches() -> None:
    chosen = select_composition(
        xr(compositionSelector={"matchLabels": {"provider": "local"}}),
        COMPOSITIONS,
        pick=lambda candidates: candidates[-1],
    )
    assert chosen.name == "local-mysql"


REFUSALS = {
    "no-label-match": (xr(compositionSelector={"matchLabels": {"provider": "gcp"}}), {}, "no compatible Compositions"),
    "ref-to-missing": (xr(compositionRef={"name": "nope"}), {}, "'nope' (named by compositionRef) does not exist"),
    "ref-to-incompatible": (xr(compositionRef={"name": "cache"}), {}, "does not compose"),
    "enforced-missing": (xr(), xrd(enforcedCompositionRef={"name": "gone"}), "'gone'"),
}


@pytest.mark.parametrize(("the_xr", "the_xrd", "fragment"), REFUSALS.values(), ids=REFUSALS.keys())
def test_selection_refusals(the_xr: dict[str, Any], the_xrd: dict[str, Any], fragment: str) -> None:
    with pytest.raises(NoCompatibleCompositionError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        select_composition(the_xr, COMPOSITIONS, xrd=the_xrd or None)


def test_corpus_claim_selects_its_composition_by_labels() -> None:
    folder = corpus_dir("crossplane", "crossplane-v1.20-e2e", "composition", "composition-selection")
    compositions = [d for d in yaml.safe_load_all((folder / "setup" / "composition.yaml").read_text()) if d]
    definition = yaml.safe_load((folder / "setup" / "definition.yaml").read_text())
    claim = yaml.safe_load((folder / "claim.yaml").read_text())
    composite = {**claim, "kind": definition["spec"]["names"]["kind"]}
    selection = select_composition(composite, compositions, xrd=definition)
    assert selection.name == "testing-au"
    assert selection.composition["metadata"]["labels"] == {"environment": "testing", "region": "AU"}


# -- revisions ------------------------------------------------------------------------------------


def evolve(base: dict[str, Any], engine: str) -> dict[str, Any]:
    changed: dict[str, Any] = copy.deepcopy(base)
    changed["spec"]["resources"] = [
        {"name": "db", "base": {"apiVersion": "v1", "kind": "Thing", "spec": {"engine": engine}}}
    ]
    return changed


def test_revisions_through_a_compositions_life() -> None:
    v1 = evolve(comp("local"), "postgres")
    first = plan_revision(v1, [])
    assert first.action == "create"
    rev1 = first.revision
    assert rev1["spec"]["revision"] == 1
    assert rev1["metadata"]["name"].startswith("local-")
    assert rev1["metadata"]["labels"]["crossplane.io/composition-name"] == "local"
    assert plan_revision(v1, [rev1]).action == "none"

    v2 = evolve(v1, "mysql")
    second = plan_revision(v2, [rev1])
    assert second.action == "create"
    rev2 = second.revision
    assert rev2["spec"]["revision"] == 2
    assert rev2["metadata"]["name"] != rev1["metadata"]["name"]

    rollback = plan_revision(v1, [rev1, rev2])
    assert rollback.action == "update"
    assert rollback.revision["metadata"]["name"] == rev1["metadata"]["name"]
    assert rollback.revision["spec"]["revision"] == 3
    assert rev1["spec"]["revision"] == 1  # the input is not mutated


def test_update_policies_follow_or_pin_revisions() -> None:
    rev1 = plan_revision(evolve(comp("local"), "postgres"), []).revision
    rev2 = plan_revision(evolve(comp("local"), "mysql"), [rev1]).revision
    revisions = [rev1, rev2]
    automatic = select_revision(xr(), revisions, composition_name="local")
    assert (automatic.name, automatic.policy) == (rev2["metadata"]["name"], "Automatic")
    pinned = select_revision(
        xr(compositionUpdatePolicy="Manual", compositionRevisionRef={"name": rev1["metadata"]["name"]}),
        revisions,
        composition_name="local",
    )
    assert (pinned.name, pinned.policy) == (rev1["metadata"]["name"], "Manual")
    first_manual = select_revision(
        xr(), revisions, composition_name="local", xrd=xrd(defaultCompositionUpdatePolicy="Manual")
    )
    assert (first_manual.name, first_manual.policy) == (rev2["metadata"]["name"], "Manual")


def test_revision_selector_narrows_the_choice() -> None:
    blue = plan_revision(evolve(comp("local", {"channel": "stable"}), "postgres"), []).revision
    green = plan_revision(evolve(comp("local", {"channel": "beta"}), "mysql"), [blue]).revision
    chosen = select_revision(
        xr(compositionRevisionSelector={"matchLabels": {"channel": "stable"}}), [blue, green], composition_name="local"
    )
    assert chosen.name == blue["metadata"]["name"]


def test_a_pinned_revision_that_does_not_exist_is_not_found() -> None:
    with pytest.raises(RevisionNotFoundError, match="'local-0000000'"):
        select_revision(
            xr(compositionUpdatePolicy="Manual", compositionRevisionRef={"name": "local-0000000"}),
            [],
            composition_name="local",
        )


def test_a_revision_renders_like_its_composition() -> None:
    doc = evolve(comp("local"), "postgres")
    revision = plan_revision(doc, []).revision
    from_revision = render_composite(xr(), composition_from_revision(revision))
    direct = render_composite(xr(), doc)
    assert [r.resource for r in from_revision.resources] == [r.resource for r in direct.resources]
    assert from_revision.composition == "local"
