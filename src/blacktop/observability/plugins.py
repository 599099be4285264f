"""Sloth plugins blacktop implements: SLI plugins (query builders) and the SLO plugin ids it knows.

Sloth loads plugins as Go code at run time; blacktop cannot, so it ships Python equivalents of the
plugins the corpus exercises and rejects every other plugin id by name (never silently generating
something different). SLI plugins turn options into a raw error-ratio query; SLO plugins rewrite
the generated rules and live in ``rules`` beside the rules they rewrite.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Final

SLIPlugin = Callable[[Mapping[str, str], Mapping[str, str]], str]
"""``(slo_labels, options) -> error ratio query with {{.window}}``; raises ValueError on bad input."""

SLO_PLUGIN_DEBUG: Final = "sloth.dev/core/debug/v1"
SLO_PLUGIN_DENOMINATOR_CORRECTED: Final = "sloth.dev/contrib/denominator_corrected_rules/v1"
SUPPORTED_SLO_PLUGINS: Final = frozenset({SLO_PLUGIN_DEBUG, SLO_PLUGIN_DENOMINATOR_CORRECTED})
"""SLO plugin ids blacktop runs (the debug plugin only logs, so it changes nothing)."""

_FILTER_RE: Final = re.compile(r'([^=]+="[^=,"]+",)+')


def getting_started_availability(labels: Mapping[str, str], options: Mapping[str, str]) -> str:
    """Sloth's ``getting_started_availability`` example: 5xx and 429 over all HTTP requests of a job.

    Options: ``job`` (required) and ``filter`` (extra ``k="v"`` matchers). The SLO must carry
    non-empty ``owner`` and ``tier`` labels, as the example plugin demands.
    """
    job = options.get("job")
    if not job:
        raise ValueError("option job is required")
    for key in ("owner", "tier"):
        if not labels.get(key):
            raise ValueError(f"label {key!r} is required")
    selector_filter = options.get("filter", "")
    if selector_filter:
        selector_filter = selector_filter.strip("{}").strip(",") + ","
        if not _FILTER_RE.match(selector_filter):
            raise ValueError(f"invalid prometheus filter: {selector_filter}")
    metric = "http_request_duration_seconds_count"
    return (
        f'\nsum(rate({metric}{{ {selector_filter}job="{job}",code=~"(5..|429)" }}[{{{{.window}}}}]))\n'
        f"/\n"
        f'sum(rate({metric}{{ {selector_filter}job="{job}" }}[{{{{.window}}}}]))'
    )


SLI_PLUGINS: Final[Mapping[str, SLIPlugin]] = {"getting_started_availability": getting_started_availability}
"""SLI plugins by id."""
