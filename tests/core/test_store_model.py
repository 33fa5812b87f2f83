"""A property: whatever mix of transactions, failures, checkpoints and reopenings happens, the
store reads back exactly what a plain dict model says it should hold."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridtool import store as store_module
from gridtool.store import Store

TABLES = ["households", "issues"]  # one table in the main file, one kept apart
names = st.text(alphabet="程金娇谭石泉刘丹abc 0123", min_size=0, max_size=6)
write = st.tuples(
    st.sampled_from(["create", "update", "delete"]), st.sampled_from(TABLES), st.integers(0, 5), names
)
step = st.one_of(
    st.tuples(st.just("tx"), st.lists(write, min_size=1, max_size=4), st.booleans()),
    st.just(("checkpoint",)),
    st.just(("reopen",)),
    st.just(("second_writer",)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, max_size=25), st.integers(60, 400))
def test_the_store_always_reads_back_its_model(steps: list, checkpoint_bytes: int) -> None:
    original = store_module.CHECKPOINT_BYTES
    store_module.CHECKPOINT_BYTES = checkpoint_bytes  # checkpoint often, at varying points
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "g.json"
            store = Store.init(path)
            model: dict[str, dict[str, dict]] = {t: {} for t in TABLES}
            for s in steps:
                if s[0] == "tx":
                    _transaction(store, model, s[1], fail=s[2])
                elif s[0] == "checkpoint":
                    store.checkpoint()
                elif s[0] == "reopen":
                    store = Store(path)
                else:  # another process's handle writes; ours must see it before writing
                    other = Store(path)
                    _transaction(other, model, [("create", "households", 0, "另一个")], fail=False)
                    assert store.refresh() is True
                for table in TABLES:
                    assert _plain(store.records(table)) == model[table]
            fresh = Store(path)
            for table in TABLES:
                assert _plain(fresh.records(table)) == model[table]
    finally:
        store_module.CHECKPOINT_BYTES = original


def _transaction(store: Store, model: dict, writes: list, fail: bool) -> None:
    staged = {t: {k: dict(v) for k, v in recs.items()} for t, recs in model.items()}
    try:
        with store.transaction() as tx:
            for action, table, pick, name in writes:
                ids = sorted(staged[table])
                if action == "create" or not ids:
                    rid = tx.create(table, {"name": name})
                    staged[table][rid] = {"id": rid, "name": name}
                elif action == "update":
                    rid = ids[pick % len(ids)]
                    tx.update(table, rid, {"name": name})
                    staged[table][rid]["name"] = name
                else:
                    rid = ids[pick % len(ids)]
                    tx.delete(table, rid)
                    del staged[table][rid]
            if fail:
                raise KeyboardInterrupt
    except KeyboardInterrupt:
        return
    model.clear()
    model.update(staged)


def _plain(records: dict) -> dict:
    return {rid: {k: v for k, v in r.items() if not k.startswith("_")} for rid, r in records.items()}
