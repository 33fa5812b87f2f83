"""Fields derived from other records, made right again after an import, in the import's transaction.

Why: the merge takes each field from the operation with the highest hybrid clock. For fields that
follow from other records (an issue's status, assignee and deadline are its timeline folded), two
laptops that acted apart each wrote their own view of them, and the field-by-field merge can mix
the two into a state no timeline gives (resolved by one laptop, reassigned by the other: "assigned"
with a resolution time). So after an import has adopted its operations, the layer that owns such
fields works them out again from what they follow from, and writes what differs as this replica's
own update, in the same transaction: the import commits with it or not at all. Every replica that
holds the same records works out the same values, so the updates agree and the replicas converge.

The sync layer sits below the issues layer and never imports it: the owner registers its answer
here (:func:`register_refold`, as :func:`gridtool.store.register_tx_signer`). An import that
brings records of a table in :data:`REFOLDED_ELSEWHERE` while nothing is registered for it is
refused outright (``RuntimeError``), rather than letting a missing import leave the fields mixed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from gridtool.store import Transaction
from gridtool.sync.operations import Op

Refold = Callable[[Transaction, list[Op]], None]
"""Given an open transaction and the operations it just adopted, write what they put wrong."""

REFOLDED_ELSEWHERE = frozenset({"issues", "events"})
"""Tables whose operations leave fields a higher layer must work out again (gridtool.issues)."""

_REFOLDS: dict[str, Refold] = {}


def register_refold(tables: Iterable[str], refold: Refold) -> None:
    """Let a higher layer rework, after every import, the fields it derives from ``tables``."""
    for table in tables:
        _REFOLDS[table] = refold


def refold(tx: Transaction, adopted: list[Op], vector: dict[str, int]) -> None:
    """Run every registered refold over what ``tx`` adopted; count its own updates in ``vector``
    (this replica's entry in the version vector the import records for its log line)."""
    missing = REFOLDED_ELSEWHERE - _REFOLDS.keys()
    if missing:
        touched = sorted(missing & {op["t"] for op in adopted})
        if touched:
            raise RuntimeError(
                f"cannot import {', '.join(touched)} before their owner registers how to rework what "
                "it derives from them: import gridtool.issues first"
            )
    store = tx.store
    before = store.meta["seq"]
    for each in dict.fromkeys(_REFOLDS.values()):
        each(tx, adopted)
    if store.meta["seq"] != before:
        vector[store.replica] = store.meta["seq"]
