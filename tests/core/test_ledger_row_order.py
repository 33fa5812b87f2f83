"""A ledger means the same whatever the order of its rows.

The import writes new households in bulk at the end and lets people move between households of
one file; both must leave the same register (or the same refusal) for every order of the rows.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from gridtool import register
from gridtool.ledger import import_file
from gridtool.store import Store
from tests.conftest import snapshot
from tests.core.test_ledger_import import HEADER, household_row, ident, write_csv

PEOPLE = 8
HOMES = 6  # rooms 0101..0106; the first four are registered before the ledger arrives


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[list[int], list[int], list[int]]:
    """Where each person lives before, where the ledger puts them (-1: not listed), and an order
    of the ledger's rows. Homes 4 and 5 are new households the ledger creates."""
    before = [draw(st.integers(0, 3)) for _ in range(PEOPLE)]
    after = [draw(st.sampled_from([home, home, -1, *range(HOMES)])) for home in before]
    order = draw(st.permutations(range(HOMES)))
    return before, after, list(order)


def _row(home: int, people: list[int]) -> list[str]:
    head = f"户{home}"
    members = ";".join([f"{head},,户主", *(f"人{p},{ident('20000101', f'{p:03d}')},子" for p in people)])
    return household_row(f"01{home + 1:02d}", head, "19700101", 身份证号="", 家庭成员=members)


def _register(store: Store) -> dict[str, list[str]]:
    return {
        household["head"]: sorted(m["name"] for m in register.members_of(store, household["id"]))
        for household in store.records("households").values()
    }


@given(ledgers(), st.booleans())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_order_of_a_ledgers_rows_leaves_the_same_register(
    tmp_path_factory: Any,
    community: dict,
    store: Store,
    ledger: tuple[list[int], list[int], list[int]],
    skip_invalid: bool,
) -> None:
    before, after, order = ledger
    directory: Path = tmp_path_factory.mktemp("order")
    first = [HEADER] + [_row(h, [p for p in range(PEOPLE) if before[p] == h]) for h in range(4)]
    base = directory / "base" / "gridtool.json"
    shutil.copytree(store.path.parent, base.parent)
    assert not import_file(Store(base), "household", write_csv(directory / "before.csv", first)).problems

    rows = {h: _row(h, [p for p in range(PEOPLE) if after[p] == h]) for h in range(HOMES)}
    outcomes = []
    for n, sequence in enumerate((list(range(HOMES)), order)):
        copy = directory / f"run{n}" / "gridtool.json"
        shutil.copytree(base.parent, copy.parent)
        target = Store(copy)
        untouched = snapshot(copy)
        path = write_csv(directory / f"after{n}.csv", [HEADER] + [rows[h] for h in sequence])
        report = import_file(target, "household", path, skip_invalid=skip_invalid)
        refused = sorted((p.key, sequence[p.row - 2]) for p in report.problems)  # by home, not row
        if report.refused:
            assert snapshot(copy) == untouched
        outcomes.append((refused, report.counts(), _register(target)))
    assert outcomes[0] == outcomes[1]
    event("refused" if outcomes[0][0] else "accepted")
    moves = sum(1 for b, a in zip(before, after, strict=True) if a >= 0 and a != b)
    event(f"{min(moves, 3)}{'+' if moves >= 3 else ''} people moving")
    if not outcomes[0][0]:  # all accepted: everyone listed lives where the ledger says
        for person, home in enumerate(after):
            if home >= 0:
                assert f"人{person}" in outcomes[0][2][f"户{home}"]
