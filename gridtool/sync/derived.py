"""Fields derived from other records, made right again after an import, in the import's transaction.

Why: the merge takes each field from the operation with the highest hybrid clock. For fields that
follow from other records (an issue's status, assignee and deadline are its timeline folded), two
laptops that acted apart each wrote their own view of them, and the field-by-field merge can mix
the two into a state no timeline gives (resolved by one laptop, reassigned by the other: "assigned"
with a resolution time). So after an import has adopted its operations, the layer that owns such
fields works them out again from what they follow from, and writes what differs as this replica's
own update, in the same transaction: the import commits with it or not at all. Every replica that
holds the same records works out the same values, so the updates agree and the replicas converge.

The sync layer sits below the issues layer and never imports its code: the owner registers its
answer here (:func:`register_refold`, as :func:`gridtool.store.register_tx_signer`), and an import
that finds nothing registered loads the owner by the name :data:`REFOLDED_ELSEWHERE` gives. If it
still registers nothing, an import that brings records of such a table is refused outright
(``RuntimeError``), rather than letting the fields stay mixed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from gridtool.store import Store, Transaction
from gridtool.sync.operations import Op


class Refold(Protocol):
    """One import's rework of derived fields: shown the adopted operations a batch at a time (an
    import never holds them all), then asked to write, in the open transaction, what they put wrong."""

    def see(self, adopted: list[Op]) -> None: ...

    def finish(self, tx: Transaction) -> None: ...


REFOLDED_ELSEWHERE = {"issues": "gridtool.issues", "events": "gridtool.issues"}
"""Tables whose operations leave fields a higher layer must work out again, and the module that
registers how. Named, never imported here: an import that finds nothing registered loads that
module by name (a library user may have imported sync alone), so sync depends on no code above it."""

_REFOLDS: dict[str, Callable[[Store], Refold]] = {}


def load_owner(table: str) -> None:
    """Import the module above sync that owns ``table``, by name: it registers its hooks (a
    refold, a check of a value typed to settle a conflict) as it loads."""
    owner = REFOLDED_ELSEWHERE.get(table)
    if owner is not None:
        importlib.import_module(owner)


def register_refold(tables: Iterable[str], refold: Callable[[Store], Refold]) -> None:
    """Let a higher layer rework, after every import, the fields it derives from ``tables``:
    ``refold(store)`` makes one :class:`Refold` per import."""
    for table in tables:
        _REFOLDS[table] = refold


class Refolding:
    """Every registered refold over one import."""

    def __init__(self, store: Store) -> None:
        for owner in sorted({m for t, m in REFOLDED_ELSEWHERE.items() if t not in _REFOLDS}):
            importlib.import_module(owner)  # registers its refold as it loads
        self.each = [make(store) for make in dict.fromkeys(_REFOLDS.values())]
        self.tables: set[str] = set()

    def see(self, adopted: list[Op]) -> None:
        self.tables.update(op["t"] for op in adopted)
        for each in self.each:
            each.see(adopted)

    def finish(self, tx: Transaction, vector: dict[str, Any]) -> None:
        """Write the corrections; count them in ``vector`` (this replica's entry in the version
        vector the import records for its log line)."""
        touched = sorted((REFOLDED_ELSEWHERE.keys() - _REFOLDS.keys()) & self.tables)
        if touched:
            raise RuntimeError(
                f"cannot import {', '.join(touched)} before their owner registers how to rework what "
                "it derives from them: import gridtool.issues first"
            )
        store = tx.store
        before = store.meta["seq"]
        for each in self.each:
            each.finish(tx)
        if store.meta["seq"] != before:
            vector[store.replica] = store.meta["seq"]
