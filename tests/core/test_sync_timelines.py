"""Sync and issue timelines: after an import an issue shows its whole timeline folded, on every laptop.

Two laptops that acted on one issue apart made two events, both on the timeline; the merge alone
would take each cached field from whichever laptop wrote it last by the clock, which can mix them
into a state no timeline gives (reassigned by one laptop, resolved by the other: "assigned" with a
resolution time). The import folds the timeline again and writes what differs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from contextlib import ExitStack, suppress
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import orjson
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from gridtool import issues, register, sync, volunteers  # noqa: F401 - issues registers the refold
from gridtool import store as store_module
from gridtool.errors import GridtoolError
from gridtool.store import Store, public
from gridtool.sync import derived
from tests.conftest import snapshot

T0 = datetime(2026, 7, 1, 9, 0)
ROOT = Path(__file__).resolve().parents[2]


def replicas(tmp_path: Path, n: int = 2) -> list[Store]:
    """``n`` laptops trusting one another; the first holds a grid cell to report issues in."""
    stores = [Store.init(tmp_path / f"laptop{i}" / "gridtool.json", name=f"laptop{i}") for i in range(n)]
    keys = [sync.whoami(s)["public_key"] for s in stores]
    for i, store in enumerate(stores):
        for j, key in enumerate(keys):
            if i != j:
                sync.trust_add(store, f"laptop{j}", key)
    register.add(
        stores[0],
        "grid_cell",
        {"code": "TL-03", "name": "铁园社区第三网格", "worker": "刘丹", "worker_phone": "13807310000"},
    )
    return stores


def report(store: Store, at: datetime = T0) -> dict[str, Any]:
    fields = {"grid_cell": "TL-03", "category": "repair", "urgency": "normal", "channel": "phone"}
    issue, _ = issues.report(store, {**fields, "title": "楼道灯坏了"}, at=at, actor="刘丹")
    return issue


def swap(a: Store, b: Store, tmp: Path, tag: str) -> None:
    """Each laptop exports everything it has and imports the other's bundle."""
    sync.export_bundle(a, tmp / f"{tag}-a.gtb")
    sync.export_bundle(b, tmp / f"{tag}-b.gtb")
    sync.import_bundle(a, tmp / f"{tag}-b.gtb")
    sync.import_bundle(b, tmp / f"{tag}-a.gtb")


def folded(store: Store, issue_id: str) -> dict[str, Any]:
    state = issues.fold(issues.timeline(store, issue_id), strict=False)
    return issues.cache_of(state)


def shown(store: Store, issue_id: str) -> dict[str, Any]:
    return issues.cache_of(store.get("issues", issue_id))


def acted_apart(tmp_path: Path) -> tuple[Store, Store, str]:
    """Laptop A resolves an accepted issue while laptop B, offline, reassigns it an hour later;
    they have not met since."""
    a, b = replicas(tmp_path)
    issue = report(a)
    issues.perform(a, "assign", issue["number"], at=T0 + timedelta(hours=1), to="物业")
    issues.perform(a, "accept", issue["number"], at=T0 + timedelta(hours=2))
    swap(a, b, tmp_path, "0")
    issues.perform(a, "resolve", issue["number"], at=T0 + timedelta(hours=3), summary="换了灯泡")
    issues.perform(b, "reassign", issue["number"], at=T0 + timedelta(hours=4), to="水电班")
    return a, b, issue["id"]


def resolved_here_reassigned_there(tmp_path: Path) -> tuple[Store, Store, str]:
    """:func:`acted_apart`, then they swap bundles."""
    a, b, issue_id = acted_apart(tmp_path)
    swap(a, b, tmp_path, "1")
    return a, b, issue_id


def test_a_resolution_and_a_concurrent_reassignment_leave_the_timelines_fold_on_both_laptops(
    tmp_path: Path,
) -> None:
    a, b, issue_id = resolved_here_reassigned_there(tmp_path)
    for store in (a, b):
        assert shown(store, issue_id) == folded(store, issue_id)
        view = store.get("issues", issue_id)
        # The reassignment came after the resolution, which the table does not allow: the issue
        # stays resolved, and the timeline shows both what A and what B did.
        assert (view["status"], view["assignee"]) == ("resolved", "物业")
        assert view["resolved_at"] == "2026-07-01T12:00:00"
        assert view["last_event_at"] == "2026-07-01T13:00:00"  # B's reassignment, the latest event
        assert [e["type"] for e in issues.timeline(store, issue_id)][-2:] == ["resolve", "reassign"]
        assert sync.conflicts(store) == []
    assert public(a.get("issues", issue_id)) == public(b.get("issues", issue_id))


def test_conflicts_list_names_no_derived_field(tmp_path: Path) -> None:
    from gridtool.commands import cli

    a, b, issue_id = resolved_here_reassigned_there(tmp_path)
    with b.transaction() as tx:  # and a real conflict beside it, over a field a person wrote
        tx.update("issues", issue_id, {"title": "三楼楼道灯坏了"})
    with a.transaction() as tx:
        tx.update("issues", issue_id, {"title": "楼道灯不亮"})
    swap(a, b, tmp_path, "2")
    for store in (a, b):
        out = CliRunner().invoke(
            cli, ["--db", str(store.path), "sync", "conflicts", "list", "--format", "json"]
        )
        assert out.exit_code == 0, out.output
        assert [c["field"] for c in orjson.loads(out.output)] == ["title"]
        assert shown(store, issue_id) == folded(store, issue_id)


def test_an_import_with_nothing_concurrent_writes_nothing_of_its_own(tmp_path: Path) -> None:
    a, b = replicas(tmp_path)
    issue = report(a)
    issues.perform(a, "assign", issue["number"], at=T0 + timedelta(hours=1), to="物业")
    swap(a, b, tmp_path, "0")
    made_by_a = sync.vector(a)[a.replica]
    assert b.replica not in sync.vector(b)  # importing A's issue wrote nothing of B's own
    issues.perform(b, "accept", issue["number"], at=T0 + timedelta(hours=2))  # an event and the cache
    swap(a, b, tmp_path, "1")
    assert sync.vector(a) == {a.replica: made_by_a, b.replica: 2} == sync.vector(b)
    assert shown(a, issue["id"]) == folded(a, issue["id"]) == shown(b, issue["id"])


def test_an_import_of_a_new_title_alone_leaves_the_events_table_unread(tmp_path: Path) -> None:
    """The events table is a store's biggest (two seconds to load for 100,000 issues): an import
    that changes nothing a timeline decides does not read it."""
    a, b = replicas(tmp_path)
    issue = report(a)
    swap(a, b, tmp_path, "0")
    with a.transaction() as tx:
        tx.update("issues", issue["id"], {"title": "三楼楼道灯坏了"})
    sync.export_bundle(a, tmp_path / "title.gtb", peer="laptop1")
    fresh = Store(b.path)
    sync.import_bundle(fresh, tmp_path / "title.gtb")
    assert fresh.get("issues", issue["id"])["title"] == "三楼楼道灯坏了"
    assert not fresh.is_loaded("events")


def test_repeated_exchange_reaches_a_fixed_point(tmp_path: Path) -> None:
    a, b, _ = resolved_here_reassigned_there(tmp_path)
    vectors = []
    for round_ in range(4):
        swap(a, b, tmp_path, f"again{round_}")
        vectors.append(sync.vector(a))
        assert sync.vector(a) == sync.vector(b)
    assert vectors[-1] == vectors[-2], "laptops kept writing corrections to each other"
    assert {op_ref for op_ref in (sync.op_ref(op["id"]) for op in sync.all_ops(a))} == {
        sync.op_ref(op["id"]) for op in sync.all_ops(b)
    }


def test_changes_held_for_an_unknown_author_are_refolded_when_released(tmp_path: Path) -> None:
    """A third laptop that trusts only B gets A's changes from B held back (A's key is unknown
    there) and B's own admitted; trusting A releases them, and that import folds the timeline too."""
    a, b, issue_id = resolved_here_reassigned_there(tmp_path)
    c = Store.init(tmp_path / "laptop2" / "gridtool.json", name="laptop2")
    sync.trust_add(c, "laptop1", sync.whoami(b)["public_key"])
    sync.export_bundle(b, tmp_path / "b-for-c.gtb")
    sync.import_bundle(c, tmp_path / "b-for-c.gtb")
    assert c.get("issues", issue_id) is None and "unknown_key" in [h.reason for h in sync.held(c)]
    sync.trust_add(c, "laptop0", sync.whoami(a)["public_key"])  # releases what waited
    assert public(c.get("issues", issue_id)) == public(a.get("issues", issue_id))
    assert shown(c, issue_id) == folded(c, issue_id) and c.get("issues", issue_id)["status"] == "resolved"


def test_two_assignments_made_apart_leave_the_later_current(tmp_path: Path) -> None:
    a, b = replicas(tmp_path)
    issue = report(a)
    swap(a, b, tmp_path, "0")
    issues.perform(b, "assign", issue["number"], at=T0 + timedelta(hours=2), to="水电班")
    issues.perform(a, "assign", issue["number"], at=T0 + timedelta(hours=1), to="物业")  # later by clock
    swap(a, b, tmp_path, "1")
    for store in (a, b):
        view = store.get("issues", issue["id"])
        assert (view["status"], view["assignee"], view["assignee_kind"]) == ("assigned", "水电班", "team")
        assert shown(store, issue["id"]) == folded(store, issue["id"])
        assert [e["type"] for e in issues.timeline(store, issue["id"])] == ["report", "assign", "assign"]


class _Nothing:
    """A refold that does nothing."""

    def __init__(self, store: Any) -> None:
        pass

    def see(self, adopted: Any) -> None:
        pass

    def finish(self, tx: Any) -> None:
        pass


def test_without_the_refold_the_merge_mixes_the_two_laptops(tmp_path: Path) -> None:
    """The tests above can fail: with the issues layer's refold replaced by one that does nothing,
    the field-by-field merge leaves B's status and assignee beside A's resolution time."""
    with mock.patch.dict(derived._REFOLDS, {"issues": _Nothing, "events": _Nothing}):
        a, _, issue_id = resolved_here_reassigned_there(tmp_path)
    view = a.get("issues", issue_id)
    mixed = ("assigned", "水电班", "2026-07-01T12:00:00")
    assert (view["status"], view["assignee"], view["resolved_at"]) == mixed
    assert shown(a, issue_id) != folded(a, issue_id)


def test_library_use_that_imported_sync_alone_still_reworks_the_fields(tmp_path: Path) -> None:
    """A script that never imported gridtool.issues: the import loads it by name, and refolds."""
    a, b = resolved_here_reassigned_there(tmp_path)[:2]
    c = Store.init(tmp_path / "c" / "g.json", name="c")
    for store in (a, b):
        sync.trust_add(c, store.meta["name"], sync.whoami(store)["public_key"])
    bundles = [tmp_path / "from-a.gtb", tmp_path / "from-b.gtb"]
    sync.export_bundle(a, bundles[0])
    sync.export_bundle(b, bundles[1])
    code = (
        "import sys\n"
        "from gridtool import sync\n"
        "from gridtool.store import Store\n"
        "loaded = 'gridtool.issues' in sys.modules\n"
        f"for path in {[str(p) for p in bundles]!r}:\n"
        f"    sync.import_bundle(Store({str(c.path)!r}), path)\n"
        "print(loaded, 'gridtool.issues' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
    store = Store(c.path)
    for issue_id in store.records("issues"):
        assert shown(store, issue_id) == folded(store, issue_id)
        assert public(store.get("issues", issue_id)) == public(a.get("issues", issue_id))


def test_an_import_of_issues_is_refused_when_their_owner_registers_nothing(tmp_path: Path) -> None:
    """Were the issues layer to stop registering its refold, an import is refused, writing nothing."""
    from gridtool.sync import derived

    a, b = replicas(tmp_path)
    report(a)
    bundle = tmp_path / "a.gtb"
    sync.export_bundle(a, bundle)
    before = snapshot(b.path)
    with (
        mock.patch.dict(derived._REFOLDS, clear=True),
        pytest.raises(RuntimeError, match=r"gridtool\.issues"),
    ):
        sync.import_bundle(b, bundle)
    assert snapshot(b.path) == before


def test_the_command_line_import_reworks_the_fields_in_a_fresh_process(tmp_path: Path) -> None:
    """``gridtool sync import`` as its own process: whatever it loads, the refold is registered."""
    a, b, issue_id = acted_apart(tmp_path)
    sync.export_bundle(a, tmp_path / "from-a.gtb")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GRIDTOOL_LANG": "en"}
    command = ["--db", str(b.path), "sync", "import", str(tmp_path / "from-a.gtb")]
    subprocess.run(
        [sys.executable, "-m", "gridtool.commands", *command],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    again = Store(b.path)
    assert shown(again, issue_id) == folded(again, issue_id)
    assert again.get("issues", issue_id)["status"] == "resolved"


# -- the property: random actions on a few issues on 2-3 laptops, exchanged until quiet -------------

BASE_MS = 1_790_000_000_000
DAY_MS = 86_400_000
ASSIGNEES = ("物业", "水电班", "镇综治办")
PARAMS: dict[str, dict[str, Any]] = {
    "accept": {},
    "extend": {"days": 2, "reason": "等待配件"},
    "note": {"text": "已电话联系反映人"},
    "resolve": {"summary": "换了灯泡"},
    "reopen": {"reason": "问题复发"},
    "reject": {"reason": "不属于社区职责"},
    "close": {},
}
act = st.tuples(
    st.just("act"),
    st.integers(0, 2),  # laptop
    st.integers(0, 1),  # issue
    st.integers(0, 20),  # which of the actions this laptop's status allows
    st.integers(0, 2),  # assignee, or a rating of 1 (reopens), 3 or 5
    st.sampled_from([0, 0, 1, 7, 45]),  # minutes after the previous action anywhere: ties happen
)
send = st.tuples(st.just("send"), st.integers(0, 2), st.integers(0, 2))
timeline_scenario = st.tuples(
    st.integers(2, 3),
    st.lists(st.sampled_from([0, 0, 0, -3_000, 40_000, -365 * DAY_MS]), min_size=3, max_size=3),
    st.lists(st.one_of(act, act, act, send), min_size=4, max_size=30),
)


class Laptops:
    """Laptops with skewed clocks (the hybrid clock's order need not be the events' order)."""

    def __init__(self, root: Path, n: int, skews: list[int]) -> None:
        self.root, self.skews, self.now, self.who, self.minutes, self.sent = (
            root,
            skews,
            1_790_000_000_000,
            0,
            0,
            0,
        )
        self.stores = replicas(root, n)

    def clock(self) -> int:
        self.now += 5
        return self.now + self.skews[self.who]

    def at(self, i: int) -> Store:
        self.who = i % len(self.stores)
        return self.stores[self.who]

    def send(self, i: int, j: int) -> None:
        path = self.root / f"bundle-{self.sent}.gtb"
        self.sent += 1
        sync.export_bundle(self.at(i), path)
        sync.import_bundle(self.at(j), path)

    def act(self, i: int, issue_id: str, pick: int, choice: int, minutes: int) -> None:
        store = self.at(i)
        issue = store.get("issues", issue_id)
        if issue is None:  # not here yet (held back by the clock guard)
            return
        allowed = issues.allowed_actions(issue["status"])
        action = allowed[pick % len(allowed)]
        self.minutes += minutes
        at = T0 + timedelta(minutes=self.minutes)
        params = dict(PARAMS.get(action, {}))
        if action in ("assign", "reassign", "escalate"):
            params["to"] = ASSIGNEES[choice]
            if action == "escalate":
                params["reason"] = "需街道协调"
        elif action == "visit":
            params["rating"] = (1, 3, 5)[choice]
        with suppress(GridtoolError):  # not allowed from this laptop's status: nothing written
            issues.perform(store, action, issue_id, at=at, **params)


def run_timelines(n: int, skews: list[int], steps: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        laptops: Laptops | None = None
        stack.enter_context(
            mock.patch.object(store_module, "wall_ms", lambda: laptops.clock() if laptops else 0)
        )
        laptops = Laptops(Path(tmp), n, skews[:n])
        numbers = [report(laptops.at(0), T0)["id"] for _ in range(2)]
        for j in range(1, n):
            laptops.send(0, j)
        for step in steps:
            if step[0] == "act":
                laptops.act(step[1], numbers[step[2]], *step[3:])
            elif step[1] % n != step[2] % n:
                laptops.send(step[1] % n, step[2] % n)
        _exchange_until_quiet(laptops)
        _check_folded_and_equal(laptops.stores)


def _exchange_until_quiet(laptops: Laptops, rounds: int = 6) -> None:
    """Every laptop sends everything to every other, until a round brings nothing new anywhere.

    A laptop whose clock was wrong was told so by the clock guard, and fixed it first."""
    laptops.skews = [0] * len(laptops.skews)
    laptops.now += 3 * DAY_MS
    stores = laptops.stores
    before = [sync.vector(s) for s in stores]
    for _ in range(rounds):
        for i in range(len(stores)):
            for j in range(len(stores)):
                if i != j:
                    laptops.send(i, j)
        after = [sync.vector(s) for s in stores]
        if after == before and all(v == after[0] for v in after):
            return
        before = after
    raise AssertionError(f"still writing after {rounds} rounds of exchange: {before}")


def _check_folded_and_equal(stores: list[Store]) -> None:
    first = stores[0]
    for store in stores:
        for issue_id in store.records("issues"):
            assert shown(store, issue_id) == folded(store, issue_id), "cached fields are not the fold"
        assert not {c.field for c in sync.conflicts(store)} & set(issues.CACHE_FIELDS)
        reopened = Store(store.path)  # the view rebuilt from the checkpoint and the log agrees
        for table in ("issues", "events"):
            mine = {rid: public(r) for rid, r in store.records(table).items()}
            assert mine == {rid: public(r) for rid, r in first.records(table).items()}, f"{table} differ"
            assert mine == {rid: public(r) for rid, r in reopened.records(table).items()}


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(timeline_scenario)
def test_every_laptop_caches_each_issues_folded_timeline_after_exchanging_until_quiet(
    case: tuple[Any, ...],
) -> None:
    run_timelines(*case)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(timeline_scenario)
def test_the_timelines_fold_holds_when_imports_are_read_and_written_in_pieces(
    case: tuple[Any, ...],
) -> None:
    """The refold sees a big import a batch at a time: in miniature, batches of two, parts of three."""
    from gridtool.sync import applying, bundle

    with (
        mock.patch.object(bundle, "BATCH_OPS", 2),
        mock.patch.object(applying, "KEEP_BYTES", 0),
        mock.patch.object(applying, "PART_OPS", 3),
    ):
        run_timelines(*case)


def test_the_property_fails_when_the_refold_does_nothing() -> None:
    """So the property can fail: the same examples every run, with the issues layer's refold
    replaced by one that writes nothing, leave a laptop whose cached fields are not the fold."""

    @settings(
        max_examples=60,
        deadline=None,
        phases=[Phase.generate],
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(timeline_scenario)
    def prop(case: tuple[Any, ...]) -> None:
        run_timelines(*case)

    with (
        mock.patch.dict(derived._REFOLDS, {"issues": _Nothing, "events": _Nothing}),
        pytest.raises(AssertionError, match="not the fold"),
    ):
        prop()
