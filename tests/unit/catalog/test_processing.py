"""Descriptor parsing, the Location walk, placeholders, allow rules, conflicts and orphans.

Test design notes: everything runs on an in-memory reader with small hand-written files, so each row
isolates one rule of the spec sheet section 5 (and 6.6 for orphans).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import pytest

from blacktop.catalog import (
    AllowRule,
    EntityRef,
    IngestOptions,
    InvalidLocation,
    KindMatcher,
    LocationMatcher,
    LocationSpec,
    OrphanStrategy,
    PlaceholderPolicy,
    decide_claim,
    find_orphans,
    ingest_location,
    ingestion_edges,
    is_allowed,
    is_same_repository,
    mark_orphan,
    parse_descriptor,
    parse_location_ref,
    plan_orphans,
    resolve_target,
    substitute,
    validate_entity,
)
from blacktop.catalog.adapters import InMemoryLocationReader


def yaml_text(text: str) -> str:
    return textwrap.dedent(text).lstrip()


COMPONENT = yaml_text("""
    apiVersion: backstage.io/v1alpha1
    kind: Component
    metadata:
      name: {name}
    spec:
      type: service
      lifecycle: production
      owner: team-a
""")


def component(name: str) -> str:
    return COMPONENT.replace("{name}", name)


def location(*targets: str, presence: str = "required", name: str = "root") -> str:
    lines = "\n".join(f"    - {t}" for t in targets)
    return (
        f"apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: {name}\n"
        f"spec:\n  presence: {presence}\n  targets:\n{lines}\n"
    )


# --- parsing ---------------------------------------------------------------------------------------


def test_parse_descriptor_keeps_document_lines_and_skips_empty_documents() -> None:
    text = component("a") + "---\n---\n" + component("b")
    parsed = parse_descriptor(text, source="file:/x.yaml")
    assert parsed.problems == ()
    assert [d.line for d in parsed.documents] == [1, 11]
    assert parsed.documents[1].line_of("spec.owner") == 18


def test_parse_descriptor_reports_non_mapping_documents() -> None:
    parsed = parse_descriptor(component("a") + "---\n- just\n- a list\n", source="file:/x.yaml")
    assert len(parsed.documents) == 1
    assert [(p.document, p.line) for p in parsed.problems] == [("file:/x.yaml", 10)]


def test_parse_descriptor_reports_yaml_syntax_error_with_line() -> None:
    parsed = parse_descriptor("kind: Component\nmetadata: {name: [unclosed\n", source="file:/x.yaml")
    assert parsed.documents == ()
    assert parsed.problems[0].line is not None
    assert "YAML syntax error" in parsed.problems[0].message


def test_line_of_handles_dotted_annotation_keys_and_indices() -> None:
    text = yaml_text("""
        metadata:
          annotations:
            backstage.io/techdocs-ref: dir:.
          tags:
            - a
            - B
    """)
    doc = parse_descriptor(text, source="x").documents[0]
    assert doc.line_of("metadata.annotations.backstage.io/techdocs-ref") == 3
    assert doc.line_of("metadata.tags[1]") == 6
    assert doc.line_of("spec.missing") == 1


# --- the walk --------------------------------------------------------------------------------------


async def test_invalid_entity_problem_names_file_line_and_field() -> None:
    bad = component("a").replace("owner: team-a\n", "owner: 7\n")
    reader = InMemoryLocationReader(
        {"file:/r/root.yaml": location("./a.yaml", "./b.yaml"), "file:/r/a.yaml": bad, "file:/r/b.yaml": component("b")}
    )
    ingestion = await ingest_location(LocationSpec("file", "/r/root.yaml"), reader)
    assert ingestion.refs() == ["location:default/root", "component:default/b"]
    assert [(p.document, p.line, p.path) for p in ingestion.problems] == [("file:/r/a.yaml", 8, "spec.owner")]


async def test_optional_missing_target_is_not_an_error_but_required_is() -> None:
    reader = InMemoryLocationReader(
        {
            "file:/r/root.yaml": location("./opt.yaml", presence="optional")
            + "---\n"
            + location("./req.yaml", name="other"),
        }
    )
    ingestion = await ingest_location(LocationSpec("file", "/r/root.yaml"), reader)
    assert [p.document for p in ingestion.problems] == ["file:/r/req.yaml"]


async def test_glob_targets_and_cycles() -> None:
    reader = InMemoryLocationReader(
        {
            "file:/r/root.yaml": location("./svc/*.yaml", "./root.yaml"),
            "file:/r/svc/a.yaml": component("a"),
            "file:/r/svc/b.yaml": component("b"),
        }
    )
    ingestion = await ingest_location(LocationSpec("file", "/r/root.yaml"), reader)
    assert ingestion.problems == ()
    assert ingestion.refs() == ["location:default/root", "component:default/a", "component:default/b"]


async def test_url_locations_resolve_relative_targets_against_the_file() -> None:
    base = "https://github.com/acme/repo/blob/main/catalog/all.yaml"
    reader = InMemoryLocationReader(
        {
            f"url:{base}": location("./svc.yaml"),
            "url:https://github.com/acme/repo/blob/main/catalog/svc.yaml": component("svc"),
        }
    )
    ingestion = await ingest_location(LocationSpec("url", base), reader)
    assert ingestion.problems == ()
    assert ingestion.refs() == ["location:default/root", "component:default/svc"]


async def test_second_file_claiming_an_entity_is_a_conflict_naming_both() -> None:
    reader = InMemoryLocationReader(
        {
            "file:/r/root.yaml": location("./a.yaml", "./b.yaml"),
            "file:/r/a.yaml": component("dup"),
            "file:/r/b.yaml": component("DUP"),
        }
    )
    ingestion = await ingest_location(LocationSpec("file", "/r/root.yaml"), reader)
    assert ingestion.refs() == ["location:default/root", "component:default/dup"]
    (problem,) = ingestion.problems
    assert problem.document == "file:/r/b.yaml"
    assert "file:/r/a.yaml" in problem.message
    assert "file:/r/b.yaml" in problem.message


CLAIMS = {
    "unowned-is-claimed": (None, "file:/a", True),
    "empty-key-is-claimed": ("", "file:/a", True),
    "owner-reclaims": ("file:/a", "file:/a", True),
    "second-location-is-refused": ("file:/a", "file:/b", False),
}


@pytest.mark.parametrize(("owner", "claimant", "accepted"), CLAIMS.values(), ids=CLAIMS.keys())
def test_first_location_wins(owner: str | None, claimant: str, accepted: bool) -> None:
    assert decide_claim(EntityRef("Component", "default", "x"), owner=owner, claimant=claimant).accepted is accepted


# --- orphans ---------------------------------------------------------------------------------------


async def test_entities_no_longer_emitted_become_orphans() -> None:
    files = {
        "file:/r/root.yaml": location("./a.yaml", "./b.yaml"),
        "file:/r/a.yaml": component("a"),
        "file:/r/b.yaml": component("b"),
    }
    before = await ingest_location(LocationSpec("file", "/r/root.yaml"), InMemoryLocationReader(files))
    files["file:/r/root.yaml"] = location("./a.yaml")
    after = await ingest_location(LocationSpec("file", "/r/root.yaml"), InMemoryLocationReader(files))
    known = [e.entity.ref for e in before.entities]
    orphans = find_orphans(known, ingestion_edges(after))
    assert [o.key for o in orphans] == ["component:default/b"]
    assert plan_orphans(orphans, strategy=OrphanStrategy.DELETE).delete == tuple(orphans)
    kept = plan_orphans(orphans, strategy=OrphanStrategy.KEEP)
    assert kept.delete == ()
    assert kept.mark == tuple(orphans)


def test_kept_orphan_is_annotated() -> None:
    entity = validate_entity(
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {"name": "a"},
            "spec": {"type": "s", "lifecycle": "l", "owner": "o"},
        }
    )
    assert mark_orphan(entity).annotations == {"backstage.io/orphan": "true"}


# --- placeholders ----------------------------------------------------------------------------------


async def test_placeholders_json_yaml_text_nested_and_unknown() -> None:
    reader = InMemoryLocationReader(
        {"file:/r/d.json": '{"a": [1, 2]}', "file:/r/d.yaml": "x: 1\n", "file:/r/t.txt": "hello"}
    )
    document = {
        "spec": {
            "json": {"$json": "./d.json"},
            "deep": [{"yaml": {"$yaml": "./d.yaml"}}],
            "text": {"$text": "./t.txt"},
            "unknown": {"$openapi": "./x"},
            "two-keys": {"$text": "./t.txt", "other": 1},
        }
    }
    result = await substitute(document, base=LocationSpec("file", "/r/entity.yaml"), reader=reader)
    assert result.problems == []
    assert result.document["spec"] == {
        "json": {"a": [1, 2]},
        "deep": [{"yaml": {"x": 1}}],
        "text": "hello",
        "unknown": {"$openapi": "./x"},
        "two-keys": {"$text": "./t.txt", "other": 1},
    }
    assert result.refresh_keys == ["file:/r/d.json", "file:/r/d.yaml", "file:/r/t.txt"]


PLACEHOLDER_PROBLEMS = {
    "missing-file": ({"$text": "./nope.txt"}, "does not exist"),
    "not-a-string": ({"$text": 3}, "non-empty string"),
    "bad-json": ({"$json": "./t.txt"}, "could not parse"),
    "multi-document-yaml": ({"$yaml": "./two.yaml"}, "exactly one YAML document"),
}


@pytest.mark.parametrize(("value", "message"), PLACEHOLDER_PROBLEMS.values(), ids=PLACEHOLDER_PROBLEMS.keys())
async def test_placeholder_problems_name_the_field(value: object, message: str) -> None:
    reader = InMemoryLocationReader({"file:/r/t.txt": "not json {", "file:/r/two.yaml": "a: 1\n---\nb: 2\n"})
    result = await substitute({"spec": {"definition": value}}, base=LocationSpec("file", "/r/e.yaml"), reader=reader)
    assert [p.path for p in result.problems] == ["spec.definition"]
    assert message in result.problems[0].message


SAME_REPO = {
    "relative-in-same-repo": ("./api.yaml", True),
    "absolute-same-repo-other-dir": ("https://github.com/acme/pay/blob/main/docs/api.yaml", True),
    "other-repo-same-owner": ("https://github.com/acme/ledger/blob/main/api.yaml", False),
    "other-owner": ("https://github.com/evil/pay/blob/main/api.yaml", False),
    "non-scm-host": ("https://specs.acme.io/api.yaml", True),
}


@pytest.mark.parametrize(("value", "allowed"), SAME_REPO.values(), ids=SAME_REPO.keys())
async def test_placeholders_from_a_repository_stay_in_that_repository(value: str, allowed: bool) -> None:
    base = LocationSpec("url", "https://github.com/acme/pay/blob/main/catalog-info.yaml")
    reader = InMemoryLocationReader()
    reader.files = dict.fromkeys(("url:https://github.com/acme/pay/blob/main/api.yaml", f"url:{value}"), "text")
    result = await substitute({"spec": {"definition": {"$text": value}}}, base=base, reader=reader)
    assert (result.problems == []) is allowed
    if not allowed:
        assert "same repository" in result.problems[0].message
    relaxed = await substitute(
        {"spec": {"definition": {"$text": value}}},
        base=base,
        reader=reader,
        policy=PlaceholderPolicy(same_repository=False),
    )
    assert relaxed.problems == []


REPOS = {
    "github-same": ("https://github.com/a/b/blob/main/x.yaml", "https://github.com/a/b/tree/dev/y", True),
    "github-case-insensitive": ("https://github.com/A/B/blob/main/x.yaml", "https://github.com/a/b/raw/x", True),
    "gitlab-nested-groups": (
        "https://gitlab.com/g/sub/repo/-/blob/main/x.yaml",
        "https://gitlab.com/g/sub/repo/-/raw/main/y",
        True,
    ),
    "gitlab-other-subgroup": (
        "https://gitlab.com/g/sub/repo/-/blob/main/x.yaml",
        "https://gitlab.com/g/other/repo/-/raw/main/y",
        False,
    ),
    "azure-same": ("https://dev.azure.com/o/p/_git/r?path=/x.yaml", "https://dev.azure.com/o/p/_git/r?path=/y", True),
}


@pytest.mark.parametrize(("base", "target", "same"), REPOS.values(), ids=REPOS.keys())
def test_is_same_repository(base: str, target: str, same: bool) -> None:
    assert is_same_repository(base, target) is same


# --- locations and allow rules ---------------------------------------------------------------------

TARGETS = {
    "file-relative-dot": (LocationSpec("file", "/r/a/all.yaml"), "./b/c.yaml", None, "file:/r/a/b/c.yaml"),
    "file-parent-dir": (LocationSpec("file", "/r/a/all.yaml"), "../x.yaml", None, "file:/r/x.yaml"),
    "file-absolute-verbatim": (LocationSpec("file", "/r/a/all.yaml"), "/etc/x.yaml", None, "file:/etc/x.yaml"),
    "url-relative": (
        LocationSpec("url", "https://h/o/r/blob/main/a/all.yaml"),
        "./c.yaml",
        None,
        "url:https://h/o/r/blob/main/a/c.yaml",
    ),
    "other-type-verbatim": (LocationSpec("file", "/r/all.yaml"), "./c.yaml", "url", "url:./c.yaml"),
}


@pytest.mark.parametrize(("base", "target", "target_type", "want"), TARGETS.values(), ids=TARGETS.keys())
def test_resolve_target(base: LocationSpec, target: str, target_type: str | None, want: str) -> None:
    assert resolve_target(base, target, target_type=target_type).key == want


LOCATION_REFS = {
    "url": ("url:https://github.com/a/b/blob/main/catalog-info.yaml", "url"),
    "file": ("file:/srv/catalog/all.yaml", "file"),
    "https-as-type": ("https://github.com/a/b", None),
    "javascript-target": ("url:javascript:alert(1)", None),
    "file-directory": ("file:/srv/catalog/", None),
    "no-type": ("catalog-info.yaml", None),
}


@pytest.mark.parametrize(("text", "want_type"), LOCATION_REFS.values(), ids=LOCATION_REFS.keys())
def test_parse_location_ref(text: str, want_type: str | None) -> None:
    if want_type is None:
        with pytest.raises(InvalidLocation):
            parse_location_ref(text)
    else:
        assert parse_location_ref(text).type == want_type


@dataclass(frozen=True)
class RuleCase:
    kind: str
    spec_type: str
    origin: str
    allowed: bool


RULES = (
    AllowRule(allow=(KindMatcher("Component"), KindMatcher("api"))),
    AllowRule(
        allow=(KindMatcher("Group"), KindMatcher("User")),
        locations=(LocationMatcher("url", pattern="https://github.com/acme/org/*"),),
    ),
    AllowRule(
        allow=(KindMatcher("Resource", "database"),), locations=(LocationMatcher("file", exact="/srv/infra.yaml"),)
    ),
)
RULE_CASES = {
    "component-anywhere": RuleCase("Component", "service", "file:/x.yaml", True),
    "api-case-insensitive": RuleCase("API", "openapi", "file:/x.yaml", True),
    "group-from-org-repo": RuleCase("Group", "team", "url:https://github.com/acme/org/blob/main/g.yaml", True),
    "group-from-elsewhere": RuleCase("Group", "team", "url:https://github.com/acme/app/g.yaml", False),
    "resource-database-exact": RuleCase("Resource", "Database", "file:/srv/infra.yaml", True),
    "resource-other-type": RuleCase("Resource", "queue", "file:/srv/infra.yaml", False),
    "system-never": RuleCase("System", "", "file:/srv/infra.yaml", False),
}


@pytest.mark.parametrize("case", RULE_CASES.values(), ids=RULE_CASES.keys())
def test_allow_rules(case: RuleCase) -> None:
    document = {"kind": case.kind, "spec": {"type": case.spec_type}}
    assert is_allowed(document, parse_location_ref(case.origin), RULES) is case.allowed


async def test_disallowed_child_is_reported_on_its_file_and_others_continue() -> None:
    group = "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: g}\nspec: {type: team, children: []}\n"
    reader = InMemoryLocationReader(
        {
            "file:/r/root.yaml": location("./g.yaml", "./c.yaml"),
            "file:/r/g.yaml": group,
            "file:/r/c.yaml": component("c"),
        }
    )
    ingestion = await ingest_location(LocationSpec("file", "/r/root.yaml"), reader, options=IngestOptions())
    assert ingestion.refs() == ["location:default/root", "component:default/c"]
    assert [(p.document, p.path) for p in ingestion.problems] == [("file:/r/g.yaml", "kind")]


async def test_file_placeholder_without_dot_is_relative_to_the_entity_file() -> None:
    reader = InMemoryLocationReader({"file:/r/docs/api.yaml": "openapi: 3.0.0\n"})
    result = await substitute(
        {"definition": {"$text": "docs/api.yaml"}}, base=LocationSpec("file", "/r/e.yaml"), reader=reader
    )
    assert result.document == {"definition": "openapi: 3.0.0\n"}
