"""Planning and applying an import: checking each operation and each transaction's author,
admitting what continues each author's run, holding the rest back, and writing it all in one store
transaction. Also what ``sync status`` and ``sync held`` report."""

from __future__ import annotations

import bisect
import math
import os
from dataclasses import dataclass, field
from typing import Any

from gridtool.store import Store, collector_paused
from gridtool.sync import derived
from gridtool.sync.bundle import read_bundle
from gridtool.sync.conflicts import (
    Conflict,
    _all_conflicts,
    _ancestors,
    _naive,
    materialize,
    record_conflicts,
)
from gridtool.sync.log import _index_append, _scan, _walk_log
from gridtool.sync.operations import Key, Op, SyncError, _iso, _now_ms, canonical, clock_ahead_ms, shareable
from gridtool.sync.roster import (
    _name_of_key,
    _private_key,
    _public_raw,
    _save_state,
    key_id,
    key_path,
    load_state,
    parse_public_key,
    peer_name,
)

FUTURE_MS = 86_400_000  # operations stamped more than a day ahead of this clock are held back


def _guard_ms(state: dict[str, Any]) -> int:
    """This laptop's time for the clock guard: its clock, or the latest one it read at an earlier
    import (a clock reset to last year still knows roughly what time it is). Not the hybrid clock,
    which other laptops' stamps push forward: each import could let the next one a day further."""
    return max(_now_ms(), state.get("clock_high", 0))


def _admit(candidates: list[Op], have: dict[str, int], now_ms: int) -> tuple[list[Op], list[Op], list[Op]]:
    """Split new operations into those to apply now, those past a gap, and those from the future.

    An operation is applied only when it is the next ``seq`` of its origin and every ``pred`` is
    held, so the log stays gap-free and the vector never claims an operation it lacks.
    """
    have = dict(have)
    pending = candidates  # a sender's log order is already causal: usually one pass takes all
    accepted: list[Op] = []
    future = [op for op in pending if op["hlc"][0] > now_ms + FUTURE_MS]
    pending = [op for op in pending if op["hlc"][0] <= now_ms + FUTURE_MS]
    progress = True
    while progress and pending:
        progress = False
        rest: list[Op] = []
        for op in pending:
            origin, seq = op["id"]
            ready = seq == have.get(origin, 0) + 1
            if ready:
                for p in op.get("pred") or ():
                    if p[1] > have.get(p[0], 0):
                        ready = False
                        break
            if ready:
                have[origin] = seq
                accepted.append(op)
                progress = True
            else:
                rest.append(op)
        pending = rest
    return accepted, pending, future


@dataclass
class Held:
    origin: str
    name: str
    count: int
    reason: str  # "gap" or "future"
    first_missing: int = 0
    latest_ms: int = 0


@dataclass
class ImportResult:
    bundle: str
    sender: str
    signer: str
    already: bool = False
    dry_run: bool = False
    applied: int = 0
    added: int = 0
    updated: int = 0
    deleted: int = 0
    new_conflicts: list[Conflict] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)  # revoked author's name -> operations


def import_bundle(
    store: Store,
    src: str | os.PathLike[str],
    dry_run: bool = False,
    passphrase: str | None = None,
    actor: str | None = None,
) -> ImportResult:
    """Check a bundle, then apply what is new in one store transaction (nothing on ``dry_run``)."""
    with collector_paused():
        return _import(store, src, dry_run, passphrase, actor)


def _import(
    store: Store, src: str | os.PathLike[str], dry_run: bool, passphrase: str | None, actor: str | None
) -> ImportResult:
    bundle = read_bundle(store, src, passphrase)
    manifest = bundle.manifest
    result = ImportResult(manifest["bundle"], manifest["sender"], bundle.signer, dry_run=dry_run)
    with store.lock.hold(exclusive=not dry_run):
        store.refresh()
        state = load_state(store)
        _walk_log(store, state)  # an import whose state was never saved is still recorded in the log
        if manifest["bundle"] in state["imported"]:
            result.already = True
            return result
        if manifest["sender"] != store.replica:  # so messages name the sender from the roster
            state["peers"].setdefault(manifest["sender"], {})["key_id"] = manifest.get("key_id")
        _check_peer_input(store, state, bundle.ops, bundle.controls)
        checked = _verify(store, state, bundle.units, manifest)
        plan = _plan(store, state, checked.ops, _guard_ms(state))
        _tell(store, state, plan, result)
        result.refused = checked.refused
        if dry_run:
            return result
        _apply_plan(store, state, plan, actor, checked.headers, bundle=manifest["bundle"])
        if manifest["bundle"] not in state["imported"]:
            state["imported"].append(manifest["bundle"])
        peer = state["peers"].setdefault(manifest["sender"], {})
        if manifest["sender"] != store.replica:
            peer["key_id"] = manifest.get("key_id")
            merged = dict(peer.get("vector", {}))
            for origin, seq in (manifest.get("vector") or {}).items():
                if isinstance(seq, int) and seq > merged.get(origin, 0):
                    merged[origin] = seq
            peer["vector"] = merged
            peer["last_import"] = _now_ms()
        else:
            state["peers"].pop(manifest["sender"], None)
        try:
            _save_state(store, state)
        except OSError as exc:  # the log line already says which bundle it was: importing it again is safe
            raise SyncError("sync.state_unsaved", reason=exc.strerror or str(exc)) from None
    return result


def _check_peer_input(store: Store, state: dict[str, Any], ops: list[Op], controls: bool = True) -> None:
    """Refuse the bundle at its first operation that is no honest peer's (see peer_input)."""
    from gridtool.sync.peer_input import PeerInputError, check_op, check_ops, check_sequences

    try:
        check_ops(ops, controls)
    except PeerInputError:
        for op in ops:  # name the operation: the first that check_op refuses
            try:
                check_op(op, controls)
            except PeerInputError as error:
                ident = op.get("id")
                origin = ident[0] if type(ident) is list and ident and type(ident[0]) is str else "?"
                error.author = peer_name(store, state, origin)
                error.table, error.record = str(op.get("t", ""))[:40], str(op.get("r", ""))[:40]
                raise
        raise
    try:
        check_sequences(ops)
    except PeerInputError as error:
        error.author = peer_name(store, state, error.author)
        raise


@dataclass
class _Verified:
    ops: list[Op] = field(default_factory=list)  # what may be planned and applied
    headers: list[dict[str, Any]] = field(default_factory=list)  # their signed transactions
    refused: dict[str, int] = field(default_factory=dict)


def _verify(
    store: Store,
    state: dict[str, Any],
    units: list[tuple[dict[str, Any] | None, list[Op]]],
    manifest: dict[str, Any] | None,
) -> _Verified:
    """Check each transaction against its author's key, whoever relayed it (see signing).

    Every author (replica id) is tied to one key and every key to one author, from the first
    signature seen (this replica's own from the start, a bundle's key to its sender): a trusted
    laptop signing in another's name is refused. A transaction under a key not on the roster waits
    in ``state["unverified"]`` (``sync held``) until it is; a revoked key's are refused and counted.
    A transaction without a signature (made before this version) is taken on the bundle's word
    only from its own author, or from a relay for an author never seen signing.
    """
    from gridtool.sync import signing
    from gridtool.sync.peer_input import PeerInputError

    authors: dict[str, str] = state.setdefault("authors", {})
    signers = set(state.get("signers", []))
    owner = {kid: replica for replica, kid in authors.items()}
    own_kid = key_id(_public_raw(_private_key(store))) if key_path(store).exists() else None
    if own_kid:
        authors[store.replica], owner[own_kid] = own_kid, store.replica
    have = _walk_log(store, state)[0]
    sender = manifest.get("sender") if manifest else None
    bundle_kid = manifest.get("key_id") if manifest else None
    revoked = state["revoked"]
    if sender and bundle_kid and sender not in authors and bundle_kid not in owner:
        authors[sender], owner[bundle_kid] = bundle_kid, sender
    pending = [(item["h"], item["ops"]) for item in state.get("unverified", [])] + list(units)
    state["unverified"] = []
    out = _Verified()
    seen: set[tuple[str, int]] = set()

    def refuse(kid: str, ops: list[Op]) -> None:
        name = revoked[kid]
        out.refused[name] = out.refused.get(name, 0) + len(ops)

    for header, ops in pending:
        if not ops:
            continue
        origin = signing.author_of(ops)
        if origin is None:
            raise SyncError("sync.tx_mixed")
        first, last = ops[0]["id"][1], ops[-1]["id"][1]
        if (origin, first) in seen:
            continue
        seen.add((origin, first))
        bound = authors.get(origin)
        if header is None or "sig" not in header:
            if last <= have.get(origin, 0):
                out.ops += ops  # held already: compared with this log's copy, never applied again
            elif bound in revoked:
                refuse(bound, ops)
            elif origin == store.replica and bundle_kid != own_kid:
                error = PeerInputError("sync.peer_forged_own")
                error.author, error.table, error.record = (
                    peer_name(store, state, origin),
                    ops[0]["t"],
                    ops[0]["r"],
                )
                raise error
            elif (origin == sender and bound in (None, bundle_kid)) or origin not in signers:
                out.ops += ops
            else:
                state["unverified"].append({"h": header, "ops": ops, "why": "unsigned"})
            continue
        kid = header["key"]
        if kid in revoked:
            if last > have.get(origin, 0):  # what came before the revocation stays, unremarked
                refuse(kid, ops)
            continue
        if kid == own_kid:
            raw = _public_raw(_private_key(store))
        else:
            name = _name_of_key(state, kid)
            if name is None:
                state["unverified"].append({"h": header, "ops": ops, "why": "unknown_key"})
                continue
            raw = parse_public_key(state["trust"][name]["key"])
        if (bound is not None and bound != kid) or owner.get(kid, origin) != origin:
            signer = store.meta.get("name") if kid == own_kid else _name_of_key(state, kid)
            raise SyncError(
                "sync.forged_author", signer=signer or kid, author=peer_name(store, state, origin)
            )
        if not signing.verify(raw, header, ops):
            raise SyncError("sync.tx_bad_signature", author=peer_name(store, state, origin))
        authors[origin], owner[kid] = kid, origin
        signers.add(origin)
        out.ops += ops
        relay = {k: v for k, v in header.items() if k != "n"}
        out.headers.append({**relay, "origin": origin, "seqs": [first, last]})
    state["signers"] = sorted(signers)
    return out


def release(store: Store, actor: str | None = None) -> ImportResult:
    """Apply what waits for a key that is now on the roster (``trust add`` calls this)."""
    with store.lock.hold(exclusive=True), collector_paused():
        store.refresh()
        state = load_state(store)
        result = ImportResult("", "", "")
        if not state.get("unverified"):
            return result
        checked = _verify(store, state, [], None)
        plan = _plan(store, state, checked.ops, _guard_ms(state))
        _tell(store, state, plan, result)
        result.refused = checked.refused
        _apply_plan(store, state, plan, actor, checked.headers)
        _save_state(store, state)
    return result


def _tell(store: Store, state: dict[str, Any], plan: _Plan, result: ImportResult) -> None:
    """Put in ``result`` what ``plan`` does: its counts, new conflicts and what stays held."""
    result.applied = len(plan.logged)
    result.added, result.updated, result.deleted = plan.added, plan.updated, plan.deleted
    result.new_conflicts = plan.new_conflicts
    result.held = _summarise_held(store, state, plan.vector_after, plan.gap, plan.future)


def _apply_plan(
    store: Store,
    state: dict[str, Any],
    plan: _Plan,
    actor: str | None,
    headers: list[dict[str, Any]] | None = None,
    bundle: str | None = None,
) -> None:
    """Write what ``_plan`` admitted in one transaction and keep the rest held (state not saved).

    The log line keeps each adopted transaction's header (its author's key and signature, and
    its operations' range), so this replica passes it on as its author signed it.
    """
    every = [*state.get("held_tx", []), *(headers or [])]
    ranges: dict[str, list[tuple[int, int, int]]] = {}  # by author: (first, last, header) sorted
    for number, header in enumerate(every):
        first, last = header["seqs"]
        ranges.setdefault(header["origin"], []).append((first, last, number))
    for spans in ranges.values():
        spans.sort()

    def header_of(op: Op) -> int | None:
        """The header of the signed transaction holding ``op`` (a range per transaction, not an
        entry per operation: a million-operation bundle would hold a million more tuples)."""
        origin, seq = op["id"]
        spans = ranges.get(origin)
        if not spans:
            return None
        at = 0 if len(spans) == 1 else bisect.bisect_right(spans, (seq, math.inf, math.inf)) - 1
        if at >= 0 and spans[at][0] <= seq <= spans[at][1]:
            return spans[at][2]
        return None

    if plan.logged:  # _plan has read every table these touch, before the big log line lands
        with store.transaction(actor=actor) as tx:
            used: dict[int, None] = {}
            for op in plan.logged:
                tx.adopt(op)
                number = header_of(op)
                if number is not None:
                    used[number] = None
            derived.refold(tx, plan.logged, plan.vector_after)  # issues' cached fields: their timelines
            tx.relayed = [every[n] for n in used]
            if bundle is not None:  # the bundle and the merge's state commit with its operations
                tx.notes = {"sync": {"bundle": bundle, "forks": plan.forks}}
        _index_append(store, state, plan.vector_after)
    still = {n for op in plan.gap + plan.future if (n := header_of(op)) is not None}
    state["held_tx"] = [every[n] for n in sorted(still)]
    state["held"] = plan.gap + plan.future
    state["clock_high"] = max(state.get("clock_high", 0), _now_ms())
    state["forks"] = plan.forks


def held(store: Store) -> list[Held]:
    """What is held back, by origin and reason (past a gap, or stamped in the future)."""
    store.refresh()
    state = load_state(store)
    with store.lock.hold(exclusive=False):
        mine = _walk_log(store, state)[0]
    guard = _guard_ms(state) + FUTURE_MS
    return _summarise_held(
        store,
        state,
        mine,
        [op for op in state["held"] if op["hlc"][0] <= guard],
        [op for op in state["held"] if op["hlc"][0] > guard],
    )


def accept_clock(store: Store, peer: str, actor: str | None = None) -> ImportResult:
    """Apply what the clock guard holds back from ``peer``, after a person decided to trust it.

    A laptop whose clock ran ahead keeps stamping its changes at that future time even after the
    clock is fixed (its hybrid clock never goes back), so without this its changes would wait
    until the calendar caught up. Accepting moves this laptop's own notion of "now" (the guard's
    time, and with the applied operations its hybrid clock) to the latest stamp held from the
    peer, so this laptop's next changes carry that time too and its peers will be asked the same.
    """
    with store.lock.hold(exclusive=True), collector_paused():
        store.refresh()
        state = load_state(store)
        guard = _guard_ms(state) + FUTURE_MS
        future = [op for op in state["held"] if op["hlc"][0] > guard]
        origins = {op["id"][0] for op in future}
        needle = peer.strip()
        matches = sorted(
            o
            for o in origins
            if needle in (o, peer_name(store, state, o)) or (len(needle) >= 4 and o.endswith(needle.upper()))
        )
        if len(matches) != 1:
            raise SyncError("sync.nothing_held", peer=peer)
        latest = max(op["hlc"][0] for op in future if op["id"][0] == matches[0])
        state["clock_high"] = max(state.get("clock_high", 0), latest)
        plan = _plan(store, state, [], _guard_ms(state))
        result = ImportResult("", matches[0], peer_name(store, state, matches[0]))
        _tell(store, state, plan, result)
        _apply_plan(store, state, plan, actor)
        _save_state(store, state)
    return result


@dataclass
class _Plan:
    logged: list[Op]
    gap: list[Op]
    future: list[Op]
    vector_after: dict[str, int]
    added: int = 0
    updated: int = 0
    deleted: int = 0
    new_conflicts: list[Conflict] = field(default_factory=list)
    forks: list[list[str]] = field(default_factory=list)


def _fields(record: dict[str, Any] | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {k: v for k, v in record.items() if k != "id" and not k.startswith("_")}


def _plan(store: Store, state: dict[str, Any], incoming: list[Op], now_ms: int) -> _Plan:
    """Work out which operations apply, what each does to the view, and what conflicts arise.

    Most operations extend the only head of their record (their ``pred`` is the operation the view
    shows last) or create a record: the view alone says what they do, and no conflict can arise.
    Only records with concurrent operations (``forks``) need their history read from the log.
    """
    candidates: dict[tuple[str, int], Op] = {}
    for op in [*state["held"], *incoming]:
        candidates.setdefault((op["id"][0], op["id"][1]), op)
    have, _ = _walk_log(store, state)
    known = [op for op in incoming if op["id"][1] <= have.get(op["id"][0], 0)]
    if known:
        _same_as_held(store, state, have, known)
    fresh = [op for op in candidates.values() if op["id"][1] > have.get(op["id"][0], 0)]
    accepted, gap, future = _admit(fresh, have, now_ms)
    forks = {(k[0], k[1]) for k in state.get("forks", [])}
    views = {table: store.records(table) for table in sorted({op["t"] for op in accepted})}
    fast: dict[Key, tuple[dict[str, Any] | None, Any]] = {}
    before: dict[Key, tuple[dict[str, Any] | None, Any]] = {}
    slow: set[Key] = set()
    for op in accepted:
        key = (op["t"], op["r"])
        if key in slow:
            continue
        if key not in fast:
            if key in forks:
                slow.add(key)
                continue
            seen = views[op["t"]].get(op["r"])
            head = store.last_op(seen)[0] if seen is not None else None
            fast[key] = before[key] = (_fields(seen), head)
        rec, head = fast[key]
        pred = op.get("pred") or []
        if not pred and rec is None and head is None and "set" in op:
            fast[key] = (op["set"], op["id"])  # a create: never changed in place, so no copy
        elif (not pred and rec is None and head is None) or (rec is not None and pred == [head]):
            fast[key] = _naive(fast[key], op)
        else:
            slow.add(key)
    history: dict[Key, list[Op]] = {}
    if slow:
        _, history = _scan(store, slow)
    conflicts_before = {c.id for key in slow for c in record_conflicts(*key, history.get(key, []))}
    current: dict[Key, tuple[dict[str, Any] | None, Any]] = {}
    for key in slow:
        before[key] = current[key] = materialize(history.get(key, []))
    logged: list[Op] = []
    for op in accepted:
        key = (op["t"], op["r"])
        entry = op
        if key in slow:
            ops = history.setdefault(key, [])
            ops.append(op)
            merged = materialize(ops)
            if _naive(current[key], op) != merged:
                entry = {**op, "eff": {"rec": merged[0], "op": merged[1]}}
            current[key] = merged
        logged.append(entry)
    after = dict(have)
    for op in accepted:
        after[op["id"][0]] = max(after.get(op["id"][0], 0), op["id"][1])
    plan = _Plan(logged, gap, future, after)
    for key, (old, _) in before.items():
        new = current[key][0] if key in slow else fast[key][0]
        if old is None and new is not None:
            plan.added += 1
        elif old is not None and new is None:
            plan.deleted += 1
        elif old != new:
            plan.updated += 1
    for key in sorted(slow):
        ops = history[key]
        plan.new_conflicts += [c for c in record_conflicts(*key, ops) if c.id not in conflicts_before]
        if _head_count(ops) > 1:
            forks.add(key)
        else:
            forks.discard(key)
    plan.forks = sorted([list(k) for k in forks])
    return plan


def _same_as_held(store: Store, state: dict[str, Any], have: dict[str, int], known: list[Op]) -> None:
    """Refuse a bundle whose operation has an id this log holds with other content.

    Two laptops then use one replica id (a copied or restored store): each numbers its own
    operations 1, 2, 3, so keeping whichever arrived first would split the community's data for
    good. Only the log from the lowest such ``seq`` on is read, so fresh deltas cost nothing here.
    """
    since = dict(have)
    for op in known:
        origin, seq = op["id"]
        since[origin] = min(since[origin], seq - 1)
    _, held_ops = _walk_log(store, state, since)
    mine = {(op["id"][0], op["id"][1]): op for op in held_ops}
    for op in known:
        local = mine.get((op["id"][0], op["id"][1]))
        if local is None:
            continue
        local = shareable(local)
        if local != op and canonical(local) != canonical(op):
            raise SyncError("sync.replica_clash", replica=op["id"][0][-6:])


def _head_count(ops: list[Op]) -> int:
    anc = _ancestors(ops)
    covered: set[tuple[str, int]] = set().union(*anc.values())
    return sum((op["id"][0], op["id"][1]) not in covered for op in ops)


def _summarise_held(
    store: Store, state: dict[str, Any], have: dict[str, int], gap: list[Op], future: list[Op]
) -> list[Held]:
    out: list[Held] = []
    by_origin: dict[tuple[str, str], list[Op]] = {}
    for reason, ops in (("gap", gap), ("future", future)):
        for op in ops:
            by_origin.setdefault((op["id"][0], reason), []).append(op)
    for item in state.get("unverified", []):
        ops = item["ops"]
        by_origin.setdefault((ops[0]["id"][0], item["why"]), []).extend(ops)
    for (origin, reason), ops in sorted(by_origin.items()):
        out.append(
            Held(
                origin,
                peer_name(store, state, origin),
                len(ops),
                reason,
                first_missing=have.get(origin, 0) + 1,
                latest_ms=max(op["hlc"][0] for op in ops),
            )
        )
    return out


def status(store: Store) -> dict[str, Any]:
    """Known peers, what each has acknowledged and still lacks, held operations, open conflicts."""
    store.refresh()
    state = load_state(store)
    with store.lock.hold(exclusive=False), collector_paused():
        mine, history = _scan(store, None)  # one read of the log for the vector and the conflicts
        found = _all_conflicts(history)
        del history
    peers = []
    for replica, peer in sorted(state["peers"].items()):
        acked = peer.get("vector", {})
        lacks = sum(max(0, seq - acked.get(origin, 0)) for origin, seq in mine.items())
        peers.append(
            {
                "replica": replica,
                "name": peer_name(store, state, replica),
                "acknowledged": acked,
                "lacks": lacks,
                "last_import": _iso(peer["last_import"]) if peer.get("last_import") else "",
            }
        )
    held = _summarise_held(
        store,
        state,
        mine,
        [op for op in state["held"] if op["hlc"][0] <= _guard_ms(state) + FUTURE_MS],
        [op for op in state["held"] if op["hlc"][0] > _guard_ms(state) + FUTURE_MS],
    )
    return {
        "replica": store.replica,
        "name": store.meta.get("name", ""),
        "vector": mine,
        "peers": peers,
        "held": [h.__dict__ for h in held],
        "conflicts": {"human": sum(c.human for c in found), "auto": sum(not c.human for c in found)},
        "imported": len(state["imported"]),
        "ahead_ms": clock_ahead_ms(store),
    }
