"""The built-in golden paths (``python-service``, ``microservice-golang``) render into working repositories.

Test design notes: each template runs with the in-process runner (``run_template``) on a real folder,
with the real ``fetch:template``, ``publish:github``, ``catalog:register`` and ``argocd:create-app``
actions over in-memory git host, catalog and GitOps fakes (those actions are tested end to end
elsewhere; here only the generated content matters). The generated trees are then checked the way
their own users would check them: parameters as the design wrote them, CI files against the GitHub
Actions schema, the Helm chart rendered (gotpl's Helm engine) and validated against Kubernetes'
schemas, kustomize overlays built with ``kubectl kustomize``, claims against the platform's own
XRDs, the catalog descriptor and ObservabilityConfig through the platform's parsers, a golden listing
per case (``BLACKTOP_UPDATE_GOLDEN=1`` rewrites it), and finally the projects' own test suites: the
Go service builds, vets and tests with the system's ``go`` (offline, standard library only) and the
Python service's pytest suite passes in a fresh virtual environment (``slow``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml
from gotpl.exts.helm import HelmTemplateEngine

from blacktop.scaffolder import (
    ActionRegistry,
    InvalidParameters,
    LocalDirectoryWorkspace,
    LocalSkeletonReader,
    RunOptions,
    RunResult,
    TemplateRenderer,
    builtin_actions,
    run_template,
    validate_values,
)
from blacktop.scaffolder.argocd import ArgoCdCreateApp
from blacktop.scaffolder.builtin import builtin_template, builtin_templates
from blacktop.scaffolder.cataloging import CatalogRegister
from blacktop.scaffolder.publishing import PublishGithub
from tests.corpus import corpus_dir, examples_dir
from tests.unit.scaffolder.fakes import FakeCatalog, FakeGitOps, FakeHost, FakeHosts

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "scaffolder"
RESOURCE_PROFILE = Path(__file__).resolve().parents[3] / "src" / "blacktop" / "resources" / "profile"
USER = {"ref": "user:default/alice", "entity": {"metadata": {"name": "alice"}}}


@dataclass
class Generated:
    """A finished run: its result, the folder the skeleton was rendered into and the fakes it touched."""

    result: RunResult
    root: Path
    host: FakeHost
    catalog: FakeCatalog
    gitops: FakeGitOps

    def text(self, path: str) -> str:
        return (self.root / path).read_text(encoding="utf-8")

    def yaml(self, path: str) -> Any:
        return yaml.safe_load(self.text(path))


async def generate(name: str, values: Mapping[str, Any], dest: Path) -> Generated:
    """Validate ``values`` and run the built-in template ``name`` into the existing folder ``dest``."""
    builtin = builtin_template(name)
    renderer = TemplateRenderer()
    parameters = validate_values(builtin.template, values, renderer=renderer)
    host, gitops = FakeHost(), FakeGitOps()
    service = str(parameters["serviceName"])
    catalog = FakeCatalog(
        refs_for_url={
            f"https://git.test/acme-corp/{service}/blob/main/catalog-info.yaml": (f"component:default/{service}",)
        }
    )
    registry = ActionRegistry(
        [
            *builtin_actions(skeletons=LocalSkeletonReader(), renderer=renderer),
            PublishGithub(hosts=FakeHosts({"github.com": host})),
            CatalogRegister(catalog=catalog),
            ArgoCdCreateApp(gitops=gitops),
        ]
    )
    result = await run_template(
        builtin.template, parameters, registry=registry, renderer=renderer,
        workspace=LocalDirectoryWorkspace(dest), options=RunOptions(user=USER, template_info=builtin.info),
    )  # fmt: skip
    assert (result.status, result.error) == ("completed", None), [(s.id, s.error, s.logs) for s in result.steps]
    return Generated(result=result, root=dest, host=host, catalog=catalog, gitops=gitops)


def tree_listing(root: Path, *, contents: tuple[str, ...]) -> str:
    """Every file with its mode, sorted; files named in ``contents`` with their text (the value-dependent ones)."""
    lines = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        mode = "755" if os.access(path, os.X_OK) else "644"
        lines.append(f"{rel} ({mode})")
    for rel in contents:
        if (root / rel).is_file():
            lines.append(f"\n--- {rel}\n{(root / rel).read_text(encoding='utf-8')}")
    return "\n".join(lines) + "\n"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("BLACKTOP_UPDATE_GOLDEN") == "1" or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{path} differs; review and rerun with BLACKTOP_UPDATE_GOLDEN=1"


# --- cases ----------------------------------------------------------------------------------------

GO_CASES: dict[str, dict[str, Any]] = {
    "go-minimal": {"serviceName": "payments-api", "owner": "team-a", "description": "Takes payments"},
    "go-critical-postgresql-cache": {
        "serviceName": "ledger", "owner": "group:default/payments", "description": "Keeps the ledger",
        "tier": "critical", "needsDatabase": True, "databaseEngine": "postgresql", "needsCache": True,
    },
    "go-internal-mysql": {
        "serviceName": "batch-jobs", "owner": "data-team", "description": "Nightly jobs", "tier": "internal",
        "needsDatabase": True, "databaseEngine": "mysql",
    },
}  # fmt: skip
PY_CASES: dict[str, dict[str, Any]] = {
    "py-standard": {"serviceName": "orders-api", "owner": "orders-team", "description": "Takes orders"},
    "py-critical": {
        "serviceName": "checkout", "owner": "group:default/payments", "description": "Checks out\ncarts",
        "tier": "critical", "alertChannel": "#payments-oncall", "tracingSamplingRate": 0.5,
    },
}  # fmt: skip
CASES = {
    **{k: ("microservice-golang", v) for k, v in GO_CASES.items()},
    **{k: ("python-service", v) for k, v in PY_CASES.items()},
}
VALUE_FILES = (
    "catalog-info.yaml", "deploy/helm/Chart.yaml", "deploy/helm/values.yaml", "deploy/claims/database.yaml",
    "deploy/claims/cache.yaml", "observability.yaml", "deploy/kustomize/overlays/production/kustomization.yaml",
)  # fmt: skip


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Generated]:
    """Every case rendered once for the module (the folders are read-only for the tests below)."""
    import asyncio

    root = tmp_path_factory.mktemp("golden-paths")
    runs = {}
    for case, (name, values) in CASES.items():
        (root / case).mkdir()
        runs[case] = asyncio.run(generate(name, values, root / case))
    return runs


# --- the templates themselves ---------------------------------------------------------------------


def test_both_golden_paths_ship_as_builtin_templates() -> None:
    found = {b.template.name: b for b in builtin_templates()}
    assert set(found) >= {"python-service", "microservice-golang"}
    for builtin in found.values():
        assert builtin.skeleton.is_dir(), f"{builtin.template.name} has no skeleton folder"
        assert [s.action for s in builtin.template.steps] == [
            "fetch:template", "publish:github", "catalog:register", "argocd:create-app",
        ]  # fmt: skip


def test_microservice_golang_has_exactly_the_design_parameters_and_steps() -> None:
    design = yaml.safe_load((examples_dir() / "template-microservice-golang.yaml").read_text())
    ours = builtin_template("microservice-golang").template.raw
    assert ours["metadata"] == design["metadata"]
    assert ours["spec"]["parameters"] == design["spec"]["parameters"]
    assert {k: v for k, v in ours["spec"].items() if k not in ("steps", "output")} == {
        k: v for k, v in design["spec"].items() if k != "steps"
    }
    for mine, theirs in zip(ours["spec"]["steps"], design["spec"]["steps"], strict=True):
        if mine["id"] == "scaffold":
            # The skeleton also needs the infrastructure choices: same values, more of them.
            assert mine["input"]["url"] == theirs["input"]["url"]
            assert mine["input"]["values"].items() >= theirs["input"]["values"].items()
        else:
            assert mine == theirs


def test_every_skeleton_file_ships_as_package_data() -> None:
    """Each skeleton file matches a ``[tool.setuptools.package-data]`` glob (hidden names need their own)."""
    import glob
    import tomllib

    package = RESOURCE_PROFILE.parents[1]
    pyproject = tomllib.loads((package.parents[1] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["blacktop"]
    shipped = {Path(p) for pattern in patterns for p in glob.glob(pattern, root_dir=package, recursive=True)}
    for builtin in builtin_templates():
        files = {p.relative_to(package) for p in builtin.folder.rglob("*") if p.is_file()}
        assert files - shipped == set(), f"add package-data globs in pyproject.toml for {sorted(files - shipped)}"


@dataclass(frozen=True)
class ParamCase:
    values: dict[str, Any]
    want_paths: list[str]


DESIGN_PARAMS = {
    "minimal-valid": ParamCase({"serviceName": "abc", "owner": "team-a", "description": "d"}, []),
    "full-valid": ParamCase(
        {"serviceName": "pay-2", "owner": "group:default/pay", "description": "d", "tier": "internal",
         "needsDatabase": True, "databaseEngine": "mongodb", "needsCache": True}, [],
    ),
    "database-without-engine-valid": ParamCase(
        {"serviceName": "abc", "owner": "o", "description": "d", "needsDatabase": True}, []
    ),
    "missing-required": ParamCase({"serviceName": "abc"}, ["owner", "description"]),
    "name-uppercase": ParamCase({"serviceName": "Payments", "owner": "o", "description": "d"}, ["serviceName"]),
    "name-too-short": ParamCase({"serviceName": "ab", "owner": "o", "description": "d"}, ["serviceName"]),
    "name-too-long": ParamCase({"serviceName": "a" * 32, "owner": "o", "description": "d"}, ["serviceName"]),
    "description-too-long": ParamCase({"serviceName": "abc", "owner": "o", "description": "x" * 201}, ["description"]),
    "tier-not-in-enum": ParamCase({"serviceName": "abc", "owner": "o", "description": "d", "tier": "gold"}, ["tier"]),
    "engine-not-in-enum": ParamCase(
        {"serviceName": "abc", "owner": "o", "description": "d", "needsDatabase": True, "databaseEngine": "oracle"},
        ["databaseEngine"],
    ),
    "engine-without-database": ParamCase(
        {"serviceName": "abc", "owner": "o", "description": "d", "databaseEngine": "mysql"}, ["databaseEngine"]
    ),
    "every-field-wrong-at-once": ParamCase(
        {"serviceName": "1x", "description": "x" * 201, "tier": "gold", "needsCache": "yes"},
        ["serviceName", "owner", "description", "tier", "needsCache"],
    ),
}  # fmt: skip


def problem_paths(name: str, values: Mapping[str, Any]) -> list[str]:
    try:
        validate_values(builtin_template(name).template, values, renderer=TemplateRenderer())
    except InvalidParameters as exc:
        return sorted({p.path for p in exc.problems})
    return []


@pytest.mark.parametrize("case", DESIGN_PARAMS.values(), ids=DESIGN_PARAMS.keys())
def test_design_parameters_are_validated_field_by_field(case: ParamCase) -> None:
    assert problem_paths("microservice-golang", case.values) == sorted(case.want_paths)


PY_PARAMS = {
    "minimal-valid": ParamCase({"serviceName": "orders", "owner": "o", "description": "d"}, []),
    "channel-and-rate": ParamCase(
        {"serviceName": "orders", "owner": "o", "description": "d", "alertChannel": "Not a channel",
         "tracingSamplingRate": 2}, ["alertChannel", "tracingSamplingRate"],
    ),
    "name-pattern": ParamCase({"serviceName": "-orders", "owner": "o", "description": "d"}, ["serviceName"]),
}  # fmt: skip


@pytest.mark.parametrize("case", PY_PARAMS.values(), ids=PY_PARAMS.keys())
def test_python_service_parameters_are_validated(case: ParamCase) -> None:
    assert problem_paths("python-service", case.values) == sorted(case.want_paths)


def test_python_service_name_error_uses_the_templates_own_words() -> None:
    with pytest.raises(InvalidParameters) as caught:
        validate_values(
            builtin_template("python-service").template,
            {"serviceName": "Orders", "owner": "o", "description": "d"},
            renderer=TemplateRenderer(),
        )
    assert [p.message for p in caught.value.problems if p.path == "serviceName"] == [
        "must start with a lowercase letter and hold 3 to 31 lowercase letters, digits or dashes"
    ]


# --- the generated repositories -------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=CASES.keys())
def test_generated_tree_matches_golden_listing(generated: dict[str, Generated], case: str) -> None:
    check_golden(f"builtin-{case}.txt", tree_listing(generated[case].root, contents=VALUE_FILES))


@pytest.mark.parametrize("case", CASES, ids=CASES.keys())
def test_run_publishes_registers_and_creates_the_argocd_app(generated: dict[str, Generated], case: str) -> None:
    run = generated[case]
    service = CASES[case][1]["serviceName"]
    pushed = run.host.repos[f"acme-corp/{service}"]
    on_disk = {p.relative_to(run.root).as_posix() for p in run.root.rglob("*") if p.is_file()}
    assert set(pushed) == on_disk
    assert [url for url, _ in run.catalog.locations.values()] == [
        f"https://git.test/acme-corp/{service}/blob/main/catalog-info.yaml"
    ]
    application = yaml.safe_load(run.gitops.files[f"argocd/applications/{service}.yaml"])
    assert application["spec"]["source"]["path"] == "deploy/helm"
    assert run.result.output["links"][0] == {"title": "Repository", "url": f"https://git.test/acme-corp/{service}.git"}


@pytest.mark.parametrize("case", CASES, ids=CASES.keys())
def test_ci_workflow_is_valid_against_the_github_schema(generated: dict[str, Generated], case: str) -> None:
    schema = json.loads(corpus_dir("github", "github-workflow.json").read_text())
    workflow = generated[case].yaml(".github/workflows/ci.yaml")
    workflow["on"] = workflow.pop(True)  # YAML 1.1 reads the key `on` as true; GitHub reads YAML 1.2
    jsonschema.Draft7Validator(schema).validate(workflow)
    text = generated[case].text(".github/workflows/ci.yaml")
    assert "${{ github.sha }}" in text, "GitHub expressions survive fetch:template (copyWithoutTemplating)"


@pytest.mark.parametrize("case", CASES, ids=CASES.keys())
def test_catalog_info_is_a_valid_component_filled_from_the_parameters(
    generated: dict[str, Generated], case: str
) -> None:
    from blacktop import catalog

    values = CASES[case][1]
    entity = catalog.validate_document(generated[case].yaml("catalog-info.yaml"))
    assert (entity.kind, entity.metadata["name"]) == ("Component", values["serviceName"])
    assert entity.spec["owner"] == values["owner"]
    assert entity.metadata["description"] == values["description"].replace("\n", " ")
    assert entity.metadata["labels"]["tier"] == values.get("tier", "standard")


def render_chart(chart_dir: Path, *, release: str = "ci", namespace: str = "team") -> list[dict[str, Any]]:
    """``helm template`` with gotpl's Helm engine: every non-empty document of every template."""
    chart = yaml.safe_load((chart_dir / "Chart.yaml").read_text())
    values = yaml.safe_load((chart_dir / "values.yaml").read_text())
    sources = {p.relative_to(chart_dir).as_posix(): p.read_text() for p in (chart_dir / "templates").iterdir()}
    context = {
        "Values": values,
        "Release": {"Name": release, "Namespace": namespace, "Service": "Helm", "IsInstall": True},
        "Chart": {"Name": chart["name"], "Version": chart["version"], "AppVersion": chart["appVersion"]},
    }
    engine = HelmTemplateEngine(sources, strict=True)
    rendered = engine.render({name: context for name in sources if not name.endswith(".tpl")})
    return [doc for text in rendered.values() for doc in yaml.safe_load_all(text) if doc]


WANT_REPLICAS = {"critical": 3, "standard": 2, "internal": 1}


@pytest.mark.parametrize("case", CASES, ids=CASES.keys())
def test_helm_chart_renders_valid_kubernetes_objects(generated: dict[str, Generated], case: str) -> None:
    values = CASES[case][1]
    chart = generated[case].yaml("deploy/helm/Chart.yaml")
    assert (chart["apiVersion"], chart["name"]) == ("v2", values["serviceName"])
    documents = render_chart(generated[case].root / "deploy/helm")
    for document in documents:
        kubernetes_validate.validate(document, "1.31", strict=True)
    kinds = sorted(d["kind"] for d in documents)
    tier = values.get("tier", "standard")
    assert kinds == sorted(["Deployment", "Service"] + (["PodDisruptionBudget"] if tier != "internal" else []))
    deployment = next(d for d in documents if d["kind"] == "Deployment")
    assert deployment["spec"]["replicas"] == WANT_REPLICAS[tier]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == f"ghcr.io/acme-corp/{values['serviceName']}:0.1.0"
    assert {p["httpGet"]["path"] for p in (container["livenessProbe"], container["readinessProbe"])} == {
        "/healthz", "/readyz",
    }  # fmt: skip
    if case.startswith("py-"):
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["OTEL_SERVICE_NAME"] == values["serviceName"]
        assert env["OTEL_TRACES_SAMPLER_ARG"] == str(values.get("tracingSamplingRate", 0.1))


@pytest.mark.parametrize("case", PY_CASES, ids=PY_CASES.keys())
@pytest.mark.parametrize("overlay", ["staging", "production"])
def test_kustomize_overlays_build(generated: dict[str, Generated], case: str, overlay: str) -> None:
    kubectl = shutil.which("kubectl")
    folder = generated[case].root / "deploy/kustomize/overlays" / overlay
    if kubectl is None:
        # Without kubectl, check what can be checked: the overlay's shape and the base manifests themselves.
        kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
        assert kustomization["resources"] == ["../../base"] and kustomization["namespace"].endswith(f"-{overlay}")
        for name in ("deployment.yaml", "service.yaml"):
            kubernetes_validate.validate(generated[case].yaml(f"deploy/kustomize/base/{name}"), "1.31", strict=True)
        return
    built = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True, timeout=60)
    assert built.returncode == 0, built.stderr
    documents = [d for d in yaml.safe_load_all(built.stdout) if d]
    for document in documents:
        kubernetes_validate.validate(document, "1.31", strict=True)
    deployment = next(d for d in documents if d["kind"] == "Deployment")
    assert deployment["metadata"]["namespace"].endswith(f"-{overlay}")
    env = {e["name"]: e["value"] for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["ENVIRONMENT"] == overlay and env["OTEL_EXPORTER_OTLP_ENDPOINT"].startswith("http")


@pytest.mark.parametrize("case", PY_CASES, ids=PY_CASES.keys())
def test_observability_config_is_accepted_by_the_platform(generated: dict[str, Generated], case: str) -> None:
    from blacktop import observability

    values = CASES[case][1]
    config = observability.parse_observability_config(generated[case].yaml("observability.yaml"))
    assert config.spec.service == values["serviceName"]
    assert config.spec.tracing.sampling_rate == values.get("tracingSamplingRate", 0.1)
    assert config.spec.alerts.channels == [values.get("alertChannel", f"#{values['owner'].split('/')[-1]}-alerts")]


def claim_validator(xrd_file: str) -> jsonschema.Draft7Validator:
    """The platform's own claim schema for a built-in XRD (``resources/profile``)."""
    from blacktop.resources.definitions import load_definition

    definition = load_definition(yaml.safe_load((RESOURCE_PROFILE / xrd_file).read_text()))
    assert definition.claim is not None
    return jsonschema.Draft7Validator(definition.claim.schema)


@pytest.mark.parametrize("case", GO_CASES, ids=GO_CASES.keys())
def test_infrastructure_choices_become_claims(generated: dict[str, Generated], case: str) -> None:
    values = CASES[case][1]
    root = generated[case].root
    claims = {p.name for p in (root / "deploy/claims").glob("*.yaml")} if (root / "deploy/claims").is_dir() else set()
    want = {"database.yaml"} if values.get("needsDatabase") else set()
    want |= {"cache.yaml"} if values.get("needsCache") else set()
    assert claims == want
    owner = values["owner"].split("/")[-1]
    if values.get("needsDatabase"):
        claim = generated[case].yaml("deploy/claims/database.yaml")
        claim_validator("xrd-database.yaml").validate(claim)
        assert (claim["kind"], claim["spec"]["engine"]) == ("Database", values["databaseEngine"])
        assert (claim["metadata"]["namespace"], claim["spec"]["owner"]) == (owner, owner)
    if values.get("needsCache"):
        claim = generated[case].yaml("deploy/claims/cache.yaml")
        claim_validator("xrd-cache.yaml").validate(claim)
        assert claim["kind"] == "Cache"


# --- the generated projects' own builds and tests -------------------------------------------------


def offline_go_env() -> dict[str, str]:
    """``go`` with no module proxy and no downloads: the services use the standard library only.

    The build cache stays the user's (``go env GOCACHE``), so the standard library compiles once per machine.
    """
    return {**os.environ, "GOPROXY": "off", "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}


@pytest.mark.slow
@pytest.mark.parametrize("case", GO_CASES, ids=GO_CASES.keys())
def test_generated_go_service_builds_vets_and_passes_its_tests(generated: dict[str, Generated], case: str) -> None:
    go = shutil.which("go")
    if go is None:
        pytest.fail(
            "the Go toolchain is not on PATH: install Debian's with `apt-get install -y golang-go` "
            "(scripts/lib.sh ensure_system_tools does) to build the generated microservice-golang service"
        )
    env = offline_go_env()
    root = generated[case].root
    for command in (["build", "./..."], ["vet", "./..."], ["test", "./..."]):
        done = subprocess.run([go, *command], cwd=root, env=env, capture_output=True, text=True, timeout=240)
        assert done.returncode == 0, f"go {' '.join(command)} failed in {root}:\n{done.stdout}\n{done.stderr}"
    unformatted = subprocess.run(
        [str(Path(go).resolve().parent / "gofmt"), "-l", "."], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert unformatted.stdout == "", f"gofmt would change: {unformatted.stdout}"


WHEELHOUSE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "blacktop" / "golden-path-wheels"


def pip_install(python: Path, requirements: str, *, cwd: Path, env: Mapping[str, str]) -> None:
    """Install from the local wheelhouse when it has everything, else fill it from PyPI first.

    Resolving against the index costs most of a cold install; later runs install offline in seconds.
    """
    pip = [str(python), "-m", "pip", "--disable-pip-version-check", "-q"]
    offline = [*pip, "install", "--no-index", "--find-links", str(WHEELHOUSE), "-r", requirements]

    def run(command: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)

    if WHEELHOUSE.is_dir() and run(offline).returncode == 0:
        return
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    fetched = run([*pip, "download", "--prefer-binary", "-d", str(WHEELHOUSE), "-r", requirements])
    assert fetched.returncode == 0, f"pip download from PyPI failed:\n{fetched.stdout}\n{fetched.stderr}"
    installed = run(offline)
    assert installed.returncode == 0, f"pip install failed:\n{installed.stdout}\n{installed.stderr}"


@pytest.mark.slow
def test_generated_python_service_passes_its_own_tests_in_a_fresh_venv(
    generated: dict[str, Generated], tmp_path: Path
) -> None:
    """The acceptance check: a fresh venv, the project's own requirements from PyPI, its own pytest suite."""
    root = generated["py-critical"].root
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "OTEL_"))}
    pip_install(python, "requirements-dev.txt", cwd=root, env=env)
    tested = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert tested.returncode == 0, f"the generated project's tests failed:\n{tested.stdout}\n{tested.stderr}"
    assert " passed" in tested.stdout and " failed" not in tested.stdout


def test_generated_python_service_is_lint_clean(generated: dict[str, Generated]) -> None:
    """The generated code passes the ruff check its own CI runs (blacktop's ruff, the project's config)."""
    ruff = Path(sys.executable).parent / "ruff"
    root = generated["py-standard"].root
    for command in (["check", "."], ["format", "--check", "."]):
        done = subprocess.run([str(ruff), *command], cwd=root, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"ruff {' '.join(command)}:\n{done.stdout}\n{done.stderr}"
