"""A slow action that is not safe to repeat, for the worker-crash tests (real actions are quick)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from blacktop.scaffolder import ActionContext, TemplateAction


class SlowOnce(TemplateAction):
    """``test:slow-once``: waits ``seconds``; declares itself not repeatable, like a payment would."""

    id = "test:slow-once"
    input_schema: Mapping[str, Any] = {"type": "object", "properties": {"seconds": {"type": "number"}}}
    repeatable = False

    async def run(self, ctx: ActionContext, input: Mapping[str, Any]) -> None:
        ctx.log("started the slow, non-repeatable work")
        await asyncio.sleep(float(input.get("seconds", 1)))
        ctx.output("done", True)
