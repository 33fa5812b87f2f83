"""Planning and applying an import: checking each operation and each transaction's author,
admitting what continues each author's run, holding the rest back, and writing it all in one store
transaction. Also what ``sync status`` and ``sync held`` report."""

from __future__ import annotations

import bisect
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from gridtool.store import Store, collector_paused
from gridtool.sync import derived
from gridtool.sync.bundle import BATCH_OPS, read_bundle
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


# A bundle that says its operations inflate to less is parsed once and kept, until the bytes read
# pass it (the manifest's size is checked only at the end): a first sync of 30,000 households, some
# 66 MB, is not parsed twice. Parsed, they take five to six times that.
KEEP_BYTES = 72 << 20


def _import(
    store: Store, src: str | os.PathLike[str], dry_run: bool, passphrase: str | None, actor: str | None
) -> ImportResult:
    bundle = read_bundle(store, src, passphrase)
    manifest = bundle.manifest
    result = ImportResult(manifest["bundle"], manifest["sender"], bundle.signer, dry_run=dry_run)
    with store.lock.hold(exclusive=True):  # a dry run too: it is the import, taken back at the end
        store.refresh()
        state = load_state(store)
        _walk_log(store, state)  # an import whose state was never saved is still recorded in the log
        if manifest["bundle"] in state["imported"]:
            result.already = True
            return result
        if manifest["sender"] != store.replica:  # so messages name the sender from the roster
            state["peers"].setdefault(manifest["sender"], {})["key_id"] = manifest.get("key_id")
        verifier = _Verifier(store, state, manifest)
        admitted = _check_bundle(store, state, bundle, verifier)
        plan = _apply(store, state, verifier, admitted, actor, manifest["bundle"], dry_run)
        _tell(store, state, plan, result)
        result.refused = verifier.refused
        if dry_run:
            return result
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


Batches = Callable[[], Iterator[list[Op]]]  # the operations to plan, a batch at a time, as often as asked


def _check_bundle(store: Store, state: dict[str, Any], bundle: Any, verifier: _Verifier) -> Batches:
    """Read the whole bundle once, checking every operation and every transaction's author before
    anything is written (one bad operation refuses it all); returns how to read what may be applied.

    What the first pass parsed is kept when the manifest says the operations come to less than
    :data:`KEEP_BYTES`, and only while the bytes read do (a manifest may lie); a bigger bundle is read again
    when applied, following the decisions made here, so no more than a batch of its operations is
    ever held (a million operations, some 200 MB of text, would take over 1 GB)."""
    keep = 0 < bundle.size <= KEEP_BYTES
    kept: list[tuple[int, list[Op]]] = []  # (transaction's number in the bundle, operations)
    decisions = bytearray()  # per transaction in the bundle: 1 when it is applied
    sequences: dict[str, int] = {}
    kept_waiting = [ops for header, ops in verifier.waiting() if verifier.judge(header, ops)]
    big: _BigTransaction | None = None
    try:
        for batch in bundle.batches():
            ops = [op for piece in batch for op in piece.ops]
            _check_peer_input(store, state, ops, any(p.controls for p in batch), sequences)
            for piece in batch:
                if piece.first and piece.last:
                    decisions.append(verifier.judge(piece.header, piece.ops, piece.lines))
                else:
                    if piece.first:
                        big = _BigTransaction(verifier, piece.header)
                    assert big is not None
                    big.add(piece.ops, piece.lines)
                    if piece.last:
                        decisions.append(big.judge())
                        big = None
                if keep:
                    kept.append((len(decisions) - piece.last, piece.ops))
            if keep and bundle.inflated[0] > KEEP_BYTES:
                keep, kept = False, []
    except SyncError:
        bundle.drain()  # damaged bytes are called damage, whatever error they raised first
        raise
    verifier.finish()

    def again() -> Iterator[list[Op]]:
        if kept_waiting:
            yield [op for ops in kept_waiting for op in ops]
        if keep:
            taken: list[Op] = []
            for number, ops in kept:
                if decisions[number]:
                    taken += ops
                if len(taken) >= BATCH_OPS:
                    yield taken
                    taken = []
            yield taken
            return
        number = 0
        for batch in bundle.batches(read_before=True):
            taken = []
            for piece in batch:
                if decisions[number]:
                    taken += piece.ops
                number += piece.last
            yield taken

    return again


def _check_peer_input(
    store: Store,
    state: dict[str, Any],
    ops: list[Op],
    controls: bool = True,
    sequences: dict[str, int] | None = None,
) -> None:
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
        check_sequences(ops, sequences)
    except PeerInputError as error:
        error.author = peer_name(store, state, error.author)
        raise


class _Verifier:
    """Checks each transaction against its author's key, whoever relayed it (see signing).

    Every author (replica id) is tied to one key and every key to one author, from the first
    signature seen (this replica's own from the start, a bundle's key to its sender): a trusted
    laptop signing in another's name is refused. A transaction under a key not on the roster waits
    in ``state["unverified"]`` (``sync held``) until it is; a revoked key's are refused and counted.
    A transaction without a signature (made before this version) is taken on the bundle's word
    only from its own author, or from a relay for an author never seen signing.
    """

    def __init__(self, store: Store, state: dict[str, Any], manifest: dict[str, Any] | None) -> None:
        self.store, self.state = store, state
        self.authors: dict[str, str] = state.setdefault("authors", {})
        self.signers = set(state.get("signers", []))
        self.owner = {kid: replica for replica, kid in self.authors.items()}
        self.own_kid = key_id(_public_raw(_private_key(store))) if key_path(store).exists() else None
        if self.own_kid:
            self.authors[store.replica], self.owner[self.own_kid] = self.own_kid, store.replica
        self.have = _walk_log(store, state)[0]
        self.sender = manifest.get("sender") if manifest else None
        self.bundle_kid = manifest.get("key_id") if manifest else None
        self.revoked = state["revoked"]
        sender, kid = self.sender, self.bundle_kid
        if sender and kid and sender not in self.authors and kid not in self.owner:
            self.authors[sender], self.owner[kid] = kid, sender
        self.headers: list[dict[str, Any]] = []  # of the signed transactions taken, for the log line
        self.refused: dict[str, int] = {}
        self.seen: set[tuple[str, int]] = set()

    def waiting(self) -> list[tuple[dict[str, Any], list[Op]]]:
        """What waited for its author's key, judged again before the bundle (and then forgotten
        unless it still waits)."""
        pending = [(item["h"], item["ops"]) for item in self.state.get("unverified", [])]
        self.state["unverified"] = []
        return pending

    def judge(self, header: dict[str, Any] | None, ops: list[Op], lines: list[bytes] | None = None) -> bool:
        """Whether a transaction is applied (planned with the rest); one that is not is held
        (waiting for its key), refused (revoked) or already here. Raises for a forgery."""
        from gridtool.sync import signing

        if not ops:
            return False
        origin = signing.author_of(ops)
        if origin is None:
            raise SyncError("sync.tx_mixed")

        def hold(why: str) -> None:
            self.state["unverified"].append({"h": header, "ops": ops, "why": why})

        def verify(raw: bytes) -> bool:
            return header is not None and signing.verify(raw, header, ops, lines)

        seqs = (ops[0]["id"][1], ops[-1]["id"][1])
        return self.decide(header, origin, seqs, ops[0], len(ops), verify, hold)

    def decide(
        self,
        header: dict[str, Any] | None,
        origin: str,
        seqs: tuple[int, int],
        sample: Op,
        count: int,
        verify: Callable[[bytes], bool],
        hold: Callable[[str], None],
    ) -> bool:
        """:meth:`judge` for a transaction given by its author, its ``seqs`` range, an operation to
        name in messages, its size, how to check its signature and how to hold it back."""
        from gridtool.sync.peer_input import PeerInputError

        store, state, authors, revoked = self.store, self.state, self.authors, self.revoked
        first, last = seqs
        if (origin, first) in self.seen:
            return False
        self.seen.add((origin, first))
        bound = authors.get(origin)
        if header is None or "sig" not in header:
            if last <= self.have.get(origin, 0):
                return True  # held already: compared with this log's copy, never applied again
            if bound in revoked:
                self._refuse(bound, count)
                return False
            if origin == store.replica and self.bundle_kid != self.own_kid:
                error = PeerInputError("sync.peer_forged_own")
                error.author, error.table, error.record = (
                    peer_name(store, state, origin),
                    sample["t"],
                    sample["r"],
                )
                raise error
            if (origin == self.sender and bound in (None, self.bundle_kid)) or origin not in self.signers:
                return True
            hold("unsigned")
            return False
        kid = header["key"]
        if kid in revoked:
            if last > self.have.get(origin, 0):  # what came before the revocation stays, unremarked
                self._refuse(kid, count)
            return False
        if kid == self.own_kid:
            raw = _public_raw(_private_key(store))
        else:
            name = _name_of_key(state, kid)
            if name is None:
                hold("unknown_key")
                return False
            raw = parse_public_key(state["trust"][name]["key"])
        if (bound is not None and bound != kid) or self.owner.get(kid, origin) != origin:
            signer = store.meta.get("name") if kid == self.own_kid else _name_of_key(state, kid)
            author = peer_name(store, state, origin)
            raise SyncError("sync.forged_author", signer=signer or kid, author=author)
        if not verify(raw):
            raise SyncError("sync.tx_bad_signature", author=peer_name(store, state, origin))
        authors[origin], self.owner[kid] = kid, origin
        self.signers.add(origin)
        relay = {k: v for k, v in header.items() if k != "n"}
        self.headers.append({**relay, "origin": origin, "seqs": [first, last]})
        return True

    def _refuse(self, kid: str, count: int) -> None:
        name = self.revoked[kid]
        self.refused[name] = self.refused.get(name, 0) + count

    def finish(self) -> None:
        self.state["signers"] = sorted(self.signers)


class _BigTransaction:
    """A transaction of more operations than a piece, checked as its pieces stream by: only the
    running digest of its signed content is kept, never its operations. Its lines must be the
    canonical form the exporter writes; one that waits for its author's key cannot be held (it
    would have to be kept whole) and refuses the bundle."""

    def __init__(self, verifier: _Verifier, header: dict[str, Any] | None) -> None:
        from gridtool.sync import signing

        self.verifier, self.header = verifier, header
        self.origin: str | None = None
        self.first = self.last = self.count = 0
        self.sample: Op | None = None
        self.signed = header is not None and "sig" in header
        self.hash = signing.ContentHash(header) if header is not None and self.signed else None

    def add(self, ops: list[Op], lines: list[bytes] | None) -> None:
        from gridtool.sync import signing

        origin = signing.author_of(ops)
        if origin is None or (self.origin is not None and origin != self.origin):
            raise SyncError("sync.tx_mixed")
        if self.sample is None:
            self.origin, self.sample, self.first = origin, ops[0], ops[0]["id"][1]
        if self.hash is not None and lines is not None:
            self.hash.add(lines)
        self.last = ops[-1]["id"][1]
        self.count += len(ops)

    def judge(self) -> bool:
        from gridtool.sync import signing

        verifier, header, origin, sample = self.verifier, self.header, self.origin, self.sample
        assert origin is not None and sample is not None
        digest = self.hash.digest() if self.hash is not None else b""

        def hold(why: str) -> None:
            author = peer_name(verifier.store, verifier.state, origin)
            raise SyncError("sync.held_too_big", count=self.count, author=author)

        def verify(raw: bytes) -> bool:
            return header is not None and signing.verify_digest(raw, header, digest)

        return verifier.decide(header, origin, (self.first, self.last), sample, self.count, verify, hold)


def release(store: Store, actor: str | None = None) -> ImportResult:
    """Apply what waits for a key that is now on the roster (``trust add`` calls this)."""
    with store.lock.hold(exclusive=True), collector_paused():
        store.refresh()
        state = load_state(store)
        result = ImportResult("", "", "")
        if not state.get("unverified"):
            return result
        verifier = _Verifier(store, state, None)
        taken = [ops for header, ops in verifier.waiting() if verifier.judge(header, ops)]
        verifier.finish()
        plan = _apply(store, state, verifier, lambda: iter(taken), actor)
        _tell(store, state, plan, result)
        result.refused = verifier.refused
        _save_state(store, state)
    return result


def _tell(store: Store, state: dict[str, Any], plan: _Plan, result: ImportResult) -> None:
    """Put in ``result`` what ``plan`` does: its counts, new conflicts and what stays held."""
    result.applied = plan.applied
    result.added, result.updated, result.deleted = plan.added, plan.updated, plan.deleted
    result.new_conflicts = plan.new_conflicts
    result.held = _summarise_held(store, state, plan.vector_after, plan.gap, plan.future)


PART_OPS = 20_000  # operations per log line of a big import (see Transaction.write_part)


class _DryRun(Exception):
    """Ends a dry run's transaction, so the store takes back everything it wrote."""


def _apply(
    store: Store,
    state: dict[str, Any],
    verifier: _Verifier | None,
    batches: Batches,
    actor: str | None,
    bundle: str | None = None,
    dry_run: bool = False,
) -> _Plan:
    """Plan and write what may be applied, a batch at a time, in one store transaction, and keep
    the rest held (state not saved). A dry run is the same import, taken back at its end.

    Each log line keeps the headers of the signed transactions it holds operations of (their
    author's key and signature, and their operations' range), so this replica passes them on as
    their authors signed them.
    """
    every = [*state.get("held_tx", []), *(verifier.headers if verifier else [])]
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

    planner = _Planner(store, state, _guard_ms(state))
    used: dict[int, None] = {}

    def adopt(tx: Any, logged: list[Op]) -> None:
        at = 0
        while at < len(logged):
            if len(tx.ops) >= PART_OPS:  # before the next one: the last line keeps operations too
                tx.relayed = [every[n] for n in used]
                used.clear()
                tx.write_part()
            piece = logged[at : at + PART_OPS - len(tx.ops)]
            at += len(piece)
            tx.adopt_many(piece)
            span: tuple[str, int, int] = ("", 0, -1)  # consecutive operations share a transaction
            for op in piece:
                origin, seq = op["id"]
                if origin == span[0] and span[1] <= seq <= span[2]:
                    continue
                number = header_of(op)
                if number is not None:
                    used[number] = None
                    first, last = every[number]["seqs"]
                    span = (origin, first, last)
        refolding.see(logged)

    refolding = derived.Refolding(store)
    try:
        with store.transaction(actor=actor) as tx:
            planner.tx = tx
            adopt(tx, planner.feed(list(state["held"]), incoming=False))
            for batch in batches():
                adopt(tx, planner.feed(batch))
            adopt(tx, planner.finish())
            refolding.finish(tx, planner.plan.vector_after)  # issues' cached fields: their timelines
            tx.relayed = [every[n] for n in used]
            if bundle is not None and tx.written:  # the bundle and the merge's state commit with them
                tx.notes = {"sync": {"bundle": bundle, "forks": planner.plan.forks}}
            if dry_run:
                raise _DryRun
    except _DryRun:
        return planner.plan
    plan = planner.plan
    if plan.applied:
        _index_append(store, state, plan.vector_after)
    still = {n for op in plan.gap + plan.future if (n := header_of(op)) is not None}
    state["held_tx"] = [every[n] for n in sorted(still)]
    state["held"] = plan.gap + plan.future
    state["clock_high"] = max(state.get("clock_high", 0), _now_ms())
    state["forks"] = plan.forks
    return plan


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
        plan = _apply(store, state, None, lambda: iter(()), actor)
        result = ImportResult("", matches[0], peer_name(store, state, matches[0]))
        _tell(store, state, plan, result)
        _save_state(store, state)
    return result


@dataclass
class _Plan:
    gap: list[Op] = field(default_factory=list)
    future: list[Op] = field(default_factory=list)
    vector_after: dict[str, int] = field(default_factory=dict)
    applied: int = 0
    added: int = 0
    updated: int = 0
    deleted: int = 0
    new_conflicts: list[Conflict] = field(default_factory=list)
    forks: list[list[str]] = field(default_factory=list)


def _fields(record: dict[str, Any] | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {k: v for k, v in record.items() if k != "id" and not k.startswith("_")}


KNOWN_BATCH = 50_000  # operations this log already holds, compared with its copies this many at a time


class _Planner:
    """Works out, a batch at a time, which operations apply and what each does to the view.

    An operation is applied only when it is the next ``seq`` of its origin and every ``pred`` is
    held, so the log stays gap-free and the vector never claims an operation it lacks; the rest
    wait for later batches, and what still waits at the end is held back (past a gap, or from
    the future). Most operations extend the only head of their record (their ``pred`` is the
    operation the view shows last) or create a record: the view alone says what they do, and no
    conflict can arise. Only records with concurrent operations (``forks``) need their history,
    read from the log and this import's operations so far.
    """

    def __init__(self, store: Store, state: dict[str, Any], now_ms: int) -> None:
        self.store, self.state = store, state
        self.horizon = now_ms + FUTURE_MS
        self.have, _ = _walk_log(store, state)
        self.start = dict(self.have)
        self.tx: Any = None
        self.held_ids = {(op["id"][0], op["id"][1]) for op in state["held"]}
        self.pending: list[Op] = []
        self.known: list[Op] = []
        self.forks = {(k[0], k[1]) for k in state.get("forks", [])}
        self.fast: dict[Key, tuple[dict[str, Any] | None, Any]] = {}
        self.before: dict[Key, tuple[dict[str, Any] | None, Any]] = {}
        self.slow: set[Key] = set()
        self.history: dict[Key, list[Op]] = {}
        self.current: dict[Key, tuple[dict[str, Any] | None, Any]] = {}
        self.conflicts_before: set[str] = set()
        self.plan = _Plan()

    def feed(self, ops: list[Op], incoming: bool = True) -> list[Op]:
        """The log entries for what of ``ops`` (and of what waited) applies now, in a causal order."""
        fresh: list[Op] = []
        start, held_ids = self.start, self.held_ids
        for op in ops:
            origin, seq = op["id"]
            if seq <= start.get(origin, 0):
                if incoming:
                    self.known.append(op)
            elif incoming and (origin, seq) in held_ids:
                continue  # held from an earlier bundle and fed already
            elif op["hlc"][0] > self.horizon:
                self.plan.future.append(op)
            else:
                fresh.append(op)
        if len(self.known) >= KNOWN_BATCH:
            self._compare_known()
        return self._effects(self._admit(self.pending + fresh if self.pending else fresh))

    def finish(self) -> list[Op]:
        """What is left to log, then the plan's counts, conflicts and forks."""
        self._compare_known()
        logged = self._effects(self._admit(self.pending)) if self.pending else []
        plan = self.plan
        plan.gap = self.pending
        plan.vector_after = dict(self.have)
        for key, (old, _) in self.before.items():
            new = self.current[key][0] if key in self.slow else self.fast[key][0]
            if old is None and new is not None:
                plan.added += 1
            elif old is not None and new is None:
                plan.deleted += 1
            elif old != new:
                plan.updated += 1
        for key in sorted(self.slow):
            ops = self.history[key]
            plan.new_conflicts += [
                c for c in record_conflicts(*key, ops) if c.id not in self.conflicts_before
            ]
            if _head_count(ops) > 1:
                self.forks.add(key)
            else:
                self.forks.discard(key)
        plan.forks = sorted([list(k) for k in self.forks])
        return logged

    def _admit(self, candidates: list[Op]) -> list[Op]:
        """Take every candidate that continues its origin's run and whose ``pred`` is held; the
        rest wait (a sender's log order is already causal: usually one pass takes all)."""
        have = self.have
        pending = candidates
        accepted: list[Op] = []
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
        self.pending = pending
        self.plan.applied += len(accepted)
        return accepted

    def _effects(self, accepted: list[Op]) -> list[Op]:
        store, fast, slow, forks = self.store, self.fast, self.slow, self.forks
        turning: set[Key] = set()
        for op in accepted:
            key = (op["t"], op["r"])
            if key in slow or key in turning:
                continue
            if key not in fast:
                if key in forks:
                    turning.add(key)
                    continue
                seen = store.records(op["t"]).get(op["r"])
                head = store.last_op(seen)[0] if seen is not None else None
                fast[key] = self.before[key] = (_fields(seen), head)
            rec, head = fast[key]
            pred = op.get("pred") or []
            if not pred and rec is None and head is None and "set" in op:
                fast[key] = (op["set"], op["id"])  # a create: never changed in place, so no copy
            elif (not pred and rec is None and head is None) or (rec is not None and pred == [head]):
                fast[key] = _naive(fast[key], op)
            else:
                turning.add(key)
        if turning:
            self._turn_slow(turning)
        if not slow:
            return accepted
        logged: list[Op] = []
        history, current = self.history, self.current
        for op in accepted:
            key = (op["t"], op["r"])
            entry = op
            if key in slow:
                ops = history[key]
                ops.append(op)
                merged = materialize(ops)
                if _naive(current[key], op) != merged:
                    entry = {**op, "eff": {"rec": merged[0], "op": merged[1]}}
                current[key] = merged
            logged.append(entry)
        return logged

    def _turn_slow(self, keys: set[Key]) -> None:
        """Read the history of records that turn out to have concurrent operations: the log's,
        then this import's so far (already logged as plain extensions of their head)."""
        _, history = _scan(self.store, keys)
        for key in keys:
            ops = history.get(key, [])
            self.conflicts_before.update(c.id for c in record_conflicts(*key, ops))
            self.before.setdefault(key, materialize(ops))
        earlier = {key for key in keys if key in self.fast}
        if earlier and self.tx is not None:
            for key in sorted(earlier):  # only the part lines naming the record are parsed
                for op in self.tx.operations(f'"r":"{key[1]}"'.encode()):
                    if (op["t"], op["r"]) == key:
                        history.setdefault(key, []).append(op)
        for key in keys:
            ops = self.history[key] = history.get(key, [])
            self.current[key] = materialize(ops)
            self.fast.pop(key, None)
        self.slow |= keys

    def _compare_known(self) -> None:
        """Refuse a bundle whose operation has an id this log holds with other content.

        Two laptops then use one replica id (a copied or restored store): each numbers its own
        operations 1, 2, 3, so keeping whichever arrived first would split the community's data
        for good. Only the log from the lowest such ``seq`` on is read, so fresh deltas cost
        nothing here.
        """
        known, self.known = self.known, []
        if not known:
            return
        since = dict(self.start)
        for op in known:
            origin, seq = op["id"]
            since[origin] = min(since[origin], seq - 1)
        _, held_ops = _walk_log(self.store, self.state, since)
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
