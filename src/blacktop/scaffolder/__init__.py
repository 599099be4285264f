"""Golden paths: Backstage-compatible Software Templates (parsing, parameters, templating, actions).

This package is the pure core the task runner, API and CLI build on: ``parse_template`` reads a
``scaffolder.backstage.io/v1beta3`` document, ``validate_values`` checks a user's values against its
parameter pages, ``TemplateRenderer`` renders ``${{ }}`` values in a sandbox, and ``ActionRegistry``
holds the template actions (``builtin_actions`` gives the file and debug ones) that work on a
``Workspace`` and read skeletons through a ``SkeletonReader``.
"""

from . import (
    actions,
    adapters,
    errors,
    executing,
    fetching,
    filters,
    linting,
    model,
    parameters,
    paths,
    ports,
    templating,
)
from .actions import (
    ENTRY_POINT_GROUP,
    ActionContext,
    ActionExample,
    ActionRegistry,
    TemplateAction,
    TemplateInfo,
    fake_output,
    input_problems,
    load_entry_point_actions,
    validate_input,
)
from .adapters import InMemorySkeletonReader, InMemoryWorkspace, LocalDirectoryWorkspace, LocalSkeletonReader
from .errors import (
    ActionExists,
    ActionNotFound,
    InvalidActionInput,
    InvalidParameters,
    InvalidTemplate,
    PathNotAllowed,
    RenderLimitExceeded,
    SandboxViolation,
    ScaffolderError,
    TemplateRenderError,
    WorkspaceFileExists,
    WorkspaceFileNotFound,
    WorkspaceLimitExceeded,
)
from .executing import PreparedStep, RunOptions, RunResult, StepResult, prepare_step, run_prepared_step, run_template
from .fetching import builtin_actions
from .linting import lint_template
from .model import ParameterPage, Step, Template, TemplateOutput, parse_template, parse_template_yaml
from .parameters import (
    parameter_schema,
    prepare_values,
    problems_in,
    secret_fields,
    validate_secrets,
    validate_values,
)
from .paths import normalize_path
from .ports import SkeletonReader, Workspace, WorkspaceFile, WorkspaceLimits
from .templating import OMITTED, EachItem, RenderLimits, TemplateRenderer, build_context, is_truthy

__all__ = [
    "ENTRY_POINT_GROUP",
    "OMITTED",
    "ActionContext",
    "ActionExample",
    "ActionExists",
    "ActionNotFound",
    "ActionRegistry",
    "EachItem",
    "InMemorySkeletonReader",
    "InMemoryWorkspace",
    "InvalidActionInput",
    "InvalidParameters",
    "InvalidTemplate",
    "LocalDirectoryWorkspace",
    "LocalSkeletonReader",
    "ParameterPage",
    "PathNotAllowed",
    "PreparedStep",
    "RenderLimitExceeded",
    "RenderLimits",
    "RunOptions",
    "RunResult",
    "SandboxViolation",
    "ScaffolderError",
    "SkeletonReader",
    "Step",
    "StepResult",
    "Template",
    "TemplateAction",
    "TemplateInfo",
    "TemplateOutput",
    "TemplateRenderError",
    "TemplateRenderer",
    "Workspace",
    "WorkspaceFile",
    "WorkspaceFileExists",
    "WorkspaceFileNotFound",
    "WorkspaceLimitExceeded",
    "WorkspaceLimits",
    "actions",
    "adapters",
    "build_context",
    "builtin_actions",
    "errors",
    "executing",
    "fake_output",
    "fetching",
    "filters",
    "input_problems",
    "is_truthy",
    "lint_template",
    "linting",
    "load_entry_point_actions",
    "model",
    "normalize_path",
    "parameter_schema",
    "parameters",
    "parse_template",
    "parse_template_yaml",
    "paths",
    "ports",
    "prepare_step",
    "prepare_values",
    "problems_in",
    "run_prepared_step",
    "run_template",
    "secret_fields",
    "templating",
    "validate_input",
    "validate_secrets",
    "validate_values",
]
