"""The shared Crossplane corpus: expected renders match, and every Composition loads or is refused by name.

Test design notes:

* Golden renders. The corpus holds two expected outputs of ``crossplane render``, extracted from
  the function-patch-and-transform READMEs. They are the golden files; nothing here is generated
  by running blacktop. Normalisation is limited to what the READMEs themselves abbreviate (the
  top-level README writes ``ownerReferences: # Omitted for brevity`` and shows the XR without its
  status), and the render clock is pinned to the README's ``2024-01-01T00:00:00Z``.
* The multistep example runs function-go-templating between two P&T steps. blacktop cannot run Go
  templates, so the test supplies a runner for that one step which produces the object the
  template describes (hand-written from the template in the composition, reading the region from
  the desired bucket it is given); the two P&T steps, Crossplane metadata and readiness are
  blacktop's.
* The walk parses every YAML document in the corpus. Docs snippets that do not parse, or parse but
  say "Removed for brevity", are fragments (SOURCES.md); a fragment must load or be refused cleanly
  with field paths. Every other Composition must load, or be refused with an
  ``UnsupportedFeatureError`` naming each unsupported function, pinned in ``UNSUPPORTED`` below.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.corpus import corpus_dir, examples_dir

from blacktop.kernel.errors import Problem
from blacktop.resources.composition import (
    InvalidCompositionError,
    UnsupportedFeatureError,
    load_composition,
    render_composite,
)

CROSSPLANE = corpus_dir("crossplane")
README_CLOCK = datetime(2024, 1, 1, tzinfo=UTC)


def load_all(path: Path) -> list[Any]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def load_one(path: Path) -> dict[str, Any]:
    (doc,) = load_all(path)
    assert isinstance(doc, dict)
    return doc


def drop(obj: dict[str, Any], dotted: str) -> None:
    *parents, leaf = dotted.split(".")
    for key in parents:
        obj = obj.get(key) or {}
    obj.pop(leaf, None)


# -- golden renders -------------------------------------------------------------------------------


def test_pt_example_renders_to_the_readme_output() -> None:
    folder = CROSSPLANE / "function-patch-and-transform" / "example"
    result = render_composite(load_one(folder / "xr.yaml"), load_one(folder / "composition.yaml"))
    got = result.manifests(now=README_CLOCK)
    want = load_all(folder / "expected-render.from-README.yaml")
    # README abbreviations: the XR is shown without status and ownerReferences are omitted.
    assert "status" not in want[0]
    assert want[1]["metadata"]["ownerReferences"] is None
    drop(got[0], "status")
    drop(got[1], "metadata.ownerReferences")
    drop(want[1], "metadata.ownerReferences")
    assert got == want


def go_templating_bucket_acl(request: Mapping[str, Any]) -> Mapping[str, Any]:
    """What the multistep composition's go-template renders: a BucketACL in the bucket's region."""
    desired = copy.deepcopy(dict(request["desired"]))
    region = desired["resources"]["bucket"]["resource"]["spec"]["forProvider"]["region"]
    desired["resources"]["bucketACL"] = {
        "resource": {
            "apiVersion": "s3.aws.upbound.io/v1beta1",
            "kind": "BucketACL",
            "metadata": {"annotations": {"crossplane.io/composition-resource-name": "bucketACL"}},
            "spec": {"forProvider": {"bucketSelector": {"matchControllerRef": True}, "region": region}},
        }
    }
    return {"desired": desired, "context": request["context"]}


def test_multistep_example_renders_to_the_readme_output() -> None:
    folder = CROSSPLANE / "function-patch-and-transform" / "example" / "multistep"
    result = render_composite(
        load_one(folder / "xr.yaml"),
        load_one(folder / "composition.yaml"),
        functions={"function-go-templating": go_templating_bucket_acl},
    )
    assert result.manifests(now=README_CLOCK) == load_all(folder / "expected-render.from-README.yaml")
    acl = result.resource("bucketACL")
    assert acl.source_of("spec.forProvider.acl") is not None
    assert acl.source_of("spec.forProvider.acl").origin == "patch"  # type: ignore[union-attr]
    assert acl.source_of("spec.forProvider.region").origin == "function"  # type: ignore[union-attr]


def test_multistep_example_without_a_go_templating_runner_is_refused_by_name() -> None:
    folder = CROSSPLANE / "function-patch-and-transform" / "example" / "multistep"
    with pytest.raises(UnsupportedFeatureError, match="function-go-templating") as caught:
        render_composite(load_one(folder / "xr.yaml"), load_one(folder / "composition.yaml"))
    assert caught.value.feature == "composition function 'function-go-templating'"
    assert [p.path for p in caught.value.problems] == ["spec.pipeline[1].functionRef.name"]


# -- the walk -------------------------------------------------------------------------------------

UNSUPPORTED: dict[str, set[str]] = {
    "crossplane-v1.20-e2e/composition/functions/setup/composition-nested.yaml": {"function-dummy"},
    "crossplane-v1.20-e2e/composition/functions/setup/composition.yaml": {"function-dummy", "function credentials"},
    "crossplane-v1.20-render-testdata/composition.yaml": {"function-dummy"},
    "docs-manifests/master/get-started/composition/composition-kcl.yaml": {"crossplane-contrib-function-kcl"},
    "docs-manifests/master/get-started/composition/composition-python.yaml": {"crossplane-contrib-function-python"},
    "docs-manifests/master/get-started/composition/composition-pythonic.yaml": {"function-pythonic"},
    "docs-manifests/master/get-started/composition/composition-templated-yaml.yaml": {
        "crossplane-contrib-function-go-templating"
    },
    "docs-manifests/master/get-started/composition/composition-yaml-cel.yaml": {"crossplane-contrib-function-kro"},
    "docs-manifests/master/guides/connection-details-composition/composition-go-templating.yaml": {
        "function-go-templating"
    },
    "docs-manifests/master/guides/connection-details-composition/composition-kcl.yaml": {"function-kcl"},
    "docs-manifests/master/guides/connection-details-composition/composition-python.yaml": {"function-python"},
    "docs-manifests/master/guides/connection-details-composition/composition-pythonic.yaml": {"function-pythonic"},
    "function-patch-and-transform/example/multistep/composition.yaml": {"function-go-templating"},
}


def corpus_compositions() -> list[tuple[str, int, dict[str, Any]]]:
    found = []
    for path in sorted(CROSSPLANE.rglob("*.yaml")):
        rel = path.relative_to(CROSSPLANE).as_posix()
        try:
            docs = load_all(path)
        except yaml.YAMLError:
            assert rel.startswith("docs-snippets/"), f"{rel} does not parse but is not a docs fragment"
            continue
        for index, doc in enumerate(docs):
            if isinstance(doc, dict) and doc.get("kind") == "Composition":
                found.append((rel, index, doc))
    return found


COMPOSITIONS = corpus_compositions()


def is_fragment(rel: str) -> bool:
    """A docs snippet whose body (below the provenance header) elides parts of the Composition."""
    if not rel.startswith("docs-snippets/"):
        return False
    body = (CROSSPLANE / rel).read_text().split("\n")[2:]
    return any("removed for brevity" in line.lower() for line in body)


def test_the_walk_finds_the_corpus_compositions() -> None:
    assert len(COMPOSITIONS) >= 57
    assert {rel for rel, _, _ in COMPOSITIONS} >= set(UNSUPPORTED)


@pytest.mark.parametrize(("rel", "index", "doc"), COMPOSITIONS, ids=[f"{r}#{i}" for r, i, _ in COMPOSITIONS])
def test_every_corpus_composition_loads_or_is_refused_by_feature(rel: str, index: int, doc: dict[str, Any]) -> None:
    if rel in UNSUPPORTED:
        with pytest.raises(UnsupportedFeatureError) as caught:
            load_composition(doc)
        for feature in UNSUPPORTED[rel]:
            assert feature in str(caught.value)
        assert caught.value.problems
        assert all(p.path.startswith("spec.") for p in caught.value.problems)
    elif is_fragment(rel):
        problems = fragment_problems(doc)
        assert all(p.path for p in problems)
    else:
        composition = load_composition(doc)
        assert composition.steps


def fragment_problems(doc: dict[str, Any]) -> list[Problem]:
    """A fragment either loads (no problems) or is refused with every problem located."""
    try:
        load_composition(doc)
    except InvalidCompositionError as invalid:
        return list(invalid.problems) or [Problem(path="", message="refused without problems")]
    return []


LOADABLE = [(r, i, d) for r, i, d in COMPOSITIONS if r not in UNSUPPORTED and not is_fragment(r)]


@pytest.mark.parametrize(("rel", "index", "doc"), LOADABLE, ids=[f"{r}#{i}" for r, i, _ in LOADABLE])
def test_every_loadable_composition_renders_a_bare_composite(rel: str, index: int, doc: dict[str, Any]) -> None:
    type_ref = doc["spec"]["compositeTypeRef"]
    xr = {"apiVersion": type_ref["apiVersion"], "kind": type_ref["kind"], "metadata": {"name": "bare"}}
    result = render_composite(xr, doc)
    for composed in result.resources:
        assert composed.resource["metadata"]["labels"]["crossplane.io/composite"] == "bare"
        assert composed.resource["metadata"]["ownerReferences"][0]["name"] == "bare"
        assert not composed.ready


# -- the same API in both dialects ---------------------------------------------------------------


CLAIM_ONLY_FIELDS = ("compositeDeletePolicy", "resourceRef", "writeConnectionSecretToRef")


def claim_to_composite(claim: Mapping[str, Any], xrd: Mapping[str, Any], name: str) -> dict[str, Any]:
    """What the claim controller hands the renderer: the XR kind, the claim's spec minus claim-only
    fields, and the claim labels."""
    spec = {k: copy.deepcopy(v) for k, v in claim["spec"].items() if k not in CLAIM_ONLY_FIELDS}
    return {
        "apiVersion": claim["apiVersion"],
        "kind": xrd["spec"]["names"]["kind"],
        "metadata": {
            "name": name,
            "uid": "6c1d1a4c-0000-4000-8000-000000000001",
            "labels": {
                "crossplane.io/composite": name,
                "crossplane.io/claim-name": claim["metadata"]["name"],
                "crossplane.io/claim-namespace": claim["metadata"]["namespace"],
            },
        },
        "spec": spec,
    }


def test_legacy_and_pipeline_database_compositions_render_the_same_resources() -> None:
    root = CROSSPLANE / "configuration-aws-database"
    claim = load_all(root / "v0.3.0-legacy" / "examples" / "postgres-claim.yaml")[0]
    xrd = load_one(root / "v0.3.0-legacy" / "definition.yaml")
    xr = claim_to_composite(claim, xrd, "configuration-aws-database-postgres-x7k2p")
    # Crossplane points a v1 XR's secret at the composition's namespace, named by the XR's UID.
    xr["spec"]["writeConnectionSecretToRef"] = {
        "name": xr["metadata"]["uid"],
        "namespace": "upbound-system",
    }
    # Defaults the API server applies from the XRD schema.
    xr["spec"]["parameters"].setdefault("deletionPolicy", "Delete")
    xr["spec"]["parameters"].setdefault("providerConfigName", "default")
    legacy = render_composite(xr, load_one(root / "v0.3.0-legacy" / "composition.yaml"))
    pipeline = render_composite(xr, load_one(root / "v0.14.0-pipeline" / "composition.yaml"))
    assert [r.name for r in legacy.resources] == [r.name for r in pipeline.resources]
    assert [r.resource for r in legacy.resources] == [r.resource for r in pipeline.resources]
    assert legacy.connection_secret_ref == pipeline.connection_secret_ref
    assert pipeline.connection_secret_ref == {
        "name": "6c1d1a4c-0000-4000-8000-000000000001",
        "namespace": "upbound-system",
    }
    instance = pipeline.resource("RDSInstanceSmall").resource
    assert instance["spec"]["forProvider"]["engine"] == "postgres"
    assert instance["spec"]["writeConnectionSecretToRef"] == {
        "name": "6c1d1a4c-0000-4000-8000-000000000001-sql",
        "namespace": "upbound-system",
    }
    assert instance["metadata"]["labels"]["crossplane.io/claim-name"] == "configuration-aws-database-postgres"


def test_the_designs_aws_composition_renders_the_orders_db_claim() -> None:
    composition = load_one(examples_dir() / "composition-database-aws.yaml")
    claim = load_one(examples_dir() / "database-orders-db.yaml")
    xr = {
        "apiVersion": claim["apiVersion"],
        "kind": "XDatabase",
        "metadata": {"name": "orders-db-x7k2p", "labels": {"crossplane.io/claim-name": "orders-db"}},
        "spec": claim["spec"],
    }
    result = render_composite(xr, composition)
    assert [r.name for r in result.resources] == ["rds-instance", "security-group", "connection-secret"]
    rds = result.resource("rds-instance")
    assert rds.resource["spec"]["forProvider"]["instanceClass"] == "db.r6g.large"  # size: medium
    assert rds.resource["spec"]["forProvider"]["dbName"] == "orders-db-x7k2p"
    assert rds.resource["spec"]["forProvider"]["engineVersion"] == "16.2"
    assert rds.resource["metadata"]["generateName"] == "orders-db-x7k2p-"
    source = rds.source_of("spec.forProvider.instanceClass")
    assert source is not None
    assert source.describe() == "patch 0 (FromCompositeFieldPath spec.size)"
    assert rds.source_of("spec.forProvider.storageEncrypted").origin == "base"  # type: ignore[union-attr]


# -- every corpus claim and XR renders with the compositions written for it ----------------------


def corpus_instances() -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(instance file, composition file, XR, composition) for claims/XRs and compatible compositions.

    Claims become XRs the way the claim controller hands them over (the XRD's composite kind, the
    claim's spec and the claim labels); pairs are kept within one corpus folder.
    """
    xr_kinds: dict[tuple[str, str], str] = {}
    compositions: list[tuple[str, dict[str, Any]]] = []
    instances: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(CROSSPLANE.rglob("*.yaml")):
        rel = path.relative_to(CROSSPLANE).as_posix()
        if rel.startswith(("docs-snippets/", "docs-crds/")):
            continue
        for doc in load_all(path):
            if not isinstance(doc, dict):
                continue
            if doc.get("kind") == "CompositeResourceDefinition":
                spec = doc["spec"]
                for version in spec.get("versions") or []:
                    api = f"{spec['group']}/{version['name']}"
                    xr_kinds[(api, spec["names"]["kind"])] = spec["names"]["kind"]
                    if spec.get("claimNames"):
                        xr_kinds[(api, spec["claimNames"]["kind"])] = spec["names"]["kind"]
            elif doc.get("kind") == "Composition":
                compositions.append((rel, doc))
            else:
                instances.append((rel, doc))
    pairs = []
    for rel, doc in instances:
        kind = xr_kinds.get((doc.get("apiVersion", ""), doc.get("kind", "")))
        if kind is None:
            continue
        name = doc["metadata"]["name"]
        xr = {
            "apiVersion": doc["apiVersion"],
            "kind": kind,
            "metadata": {
                "name": f"{name}-x7k2p",
                "labels": {**(doc["metadata"].get("labels") or {}), "crossplane.io/claim-name": name},
            },
            "spec": doc.get("spec") or {},
        }
        for comp_rel, composition in compositions:
            type_ref = composition["spec"]["compositeTypeRef"]
            same_folder = comp_rel.split("/")[0] == rel.split("/")[0]
            compatible = (type_ref["apiVersion"], type_ref["kind"]) == (xr["apiVersion"], kind)
            if same_folder and compatible and comp_rel not in UNSUPPORTED:
                pairs.append((rel, comp_rel, xr, composition))
    return pairs


INSTANCES = corpus_instances()


def test_the_corpus_has_claims_for_its_compositions() -> None:
    assert len(INSTANCES) >= 150
    assert {c for _, c, _, _ in INSTANCES} >= {
        "configuration-aws-database/v0.3.0-legacy/composition.yaml",
        "configuration-aws-database/v0.14.0-pipeline/composition.yaml",
        "platform-ref-aws/v0.6.0-legacy/cluster/network/composition.yaml",
        "platform-ref-aws/v1.3.0-pipeline/pat/composition.yaml",
    }


@pytest.mark.parametrize(
    ("rel", "comp_rel", "xr", "composition"), INSTANCES, ids=[f"{r}->{c}" for r, c, _, _ in INSTANCES]
)
def test_every_corpus_claim_renders_with_its_compositions(
    rel: str, comp_rel: str, xr: dict[str, Any], composition: dict[str, Any]
) -> None:
    result = render_composite(xr, composition)
    names = [r.name for r in result.resources]
    assert len(names) == len(set(names))
    assert sorted(result.dropped + tuple(names)) == sorted(
        {
            t.name
            for s in load_composition(composition).steps
            if s.patch_and_transform
            for t in s.patch_and_transform.resources
        }
    )
    for composed in result.resources:
        assert (
            composed.resource["metadata"]["labels"]["crossplane.io/claim-name"]
            == xr["metadata"]["labels"]["crossplane.io/claim-name"]
        )


def test_e2e_patch_and_transform_round_trip() -> None:
    folder = CROSSPLANE / "crossplane-v1.20-e2e" / "composition" / "patch-and-transform"
    claim = load_one(folder / "claim.yaml")
    composition = load_one(folder / "setup" / "composition.yaml")
    xr = {
        "apiVersion": claim["apiVersion"],
        "kind": "XNopResource",
        "metadata": {"name": "pandt-x7k2p"},
        "spec": claim["spec"],
    }
    first = render_composite(xr, composition)
    nop = first.resource("nop-resource-1").resource
    assert nop["metadata"]["annotations"]["cool-field"] == "I'M COOL!"
    assert "status" not in first.composite or "coolerField" not in first.composite["status"]
    observed = {**nop, "metadata": {**nop["metadata"], "name": "pandt-x7k2p-q2w4r"}}
    second = render_composite(xr, composition, observed=[observed])
    assert second.composite["status"]["coolerField"] == "I'M COOL!"
    assert second.resource("nop-resource-1").resource["metadata"]["name"] == "pandt-x7k2p-q2w4r"
