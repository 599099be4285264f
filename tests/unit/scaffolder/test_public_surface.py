"""The scaffolder's public names are pinned: removing or renaming one is a deliberate, reviewed change."""

from __future__ import annotations

import blacktop.scaffolder as scaffolder

EXPECTED = {
    "ENTRY_POINT_GROUP", "OMITTED", "ActionContext", "ActionExample", "ActionExists", "ActionNotFound",
    "ActionRegistry", "EachItem", "InMemorySkeletonReader", "InMemoryWorkspace", "InvalidActionInput",
    "InvalidParameters", "InvalidTemplate", "LocalDirectoryWorkspace", "LocalSkeletonReader", "ParameterPage",
    "PathNotAllowed", "PreparedStep", "RenderLimitExceeded", "RenderLimits", "RunOptions", "RunResult",
    "SandboxViolation", "ScaffolderError", "SkeletonReader", "Step", "StepResult", "Template", "TemplateAction",
    "TemplateInfo", "TemplateOutput", "TemplateRenderError", "TemplateRenderer", "Workspace", "WorkspaceFile",
    "WorkspaceFileExists", "WorkspaceFileNotFound", "WorkspaceLimitExceeded", "WorkspaceLimits", "actions",
    "adapters", "build_context", "builtin_actions", "errors", "executing", "fake_output", "fetching", "filters",
    "input_problems", "is_truthy", "load_entry_point_actions", "model", "normalize_path", "parameter_schema",
    "parameters", "parse_template", "parse_template_yaml", "paths", "ports", "prepare_step", "prepare_values",
    "problems_in", "run_prepared_step", "run_template", "secret_fields", "templating", "validate_input",
    "validate_secrets", "validate_values",
}  # fmt: skip


def test_public_surface_is_pinned() -> None:
    assert set(scaffolder.__all__) == EXPECTED
    assert len(scaffolder.__all__) == len(EXPECTED)
    for name in scaffolder.__all__:
        assert hasattr(scaffolder, name), name
