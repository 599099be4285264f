"""Property: the SQL translation of a label selector agrees with ``LabelSelector.matches``.

Keys and values come from small alphabets so that random selectors hit, miss and partly match
random label sets. Runs against SQLite; one event loop and one database serve every example.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from blacktop.kernel.ports import ListQuery
from blacktop.kernel.selectors import LabelSelector, Operator, Requirement
from blacktop.store import SqlResourceStore, build_engine, upgrade_to_head
from blacktop.store.tables import STORE_TABLES

KEYS = ("app", "tier", "example.com/team", "x")
VALUES = ("a", "b", "c")

label_sets = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=len(KEYS))


@st.composite
def requirements(draw: st.DrawFn) -> Requirement:
    operator = draw(st.sampled_from(list(Operator)))
    key = draw(st.sampled_from(KEYS))
    if operator in (Operator.EQUALS, Operator.NOT_EQUALS):
        return Requirement(key, operator, (draw(st.sampled_from(VALUES)),))
    if operator in (Operator.IN, Operator.NOT_IN):
        return Requirement(key, operator, tuple(draw(st.sets(st.sampled_from(VALUES), max_size=3))))
    return Requirement(key, operator)


selectors = st.lists(requirements(), max_size=3).map(lambda reqs: LabelSelector(tuple(reqs)))


def test_sql_selectors_agree_with_the_pure_matcher(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'property.db'}"
    upgrade_to_head(url)
    with asyncio.Runner() as runner:
        engine = build_engine(url)
        store = SqlResourceStore(engine)

        async def check(population: list[dict[str, str]], selector: LabelSelector) -> None:
            async with engine.begin() as conn:
                for table in STORE_TABLES:
                    await conn.execute(text(f"DELETE FROM {table}"))
            async with store.transaction() as tx:
                for i, labels in enumerate(population):
                    meta = {"name": f"o-{i:02d}", "namespace": "n", "labels": labels}
                    await tx.create({"apiVersion": "t.io/v1", "kind": "Obj", "metadata": meta})
            page = await store.list(ListQuery(group="t.io", kind="Obj", label_selector=selector))
            want = [f"o-{i:02d}" for i, labels in enumerate(population) if selector.matches(labels)]
            assert [o["metadata"]["name"] for o in page.items] == want, f"selector {selector}"

        @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(population=st.lists(label_sets, max_size=8), selector=selectors)
        def property_holds(population: list[dict[str, str]], selector: LabelSelector) -> None:
            runner.run(check(population, selector))

        try:
            property_holds()
        finally:
            runner.run(engine.dispose())
