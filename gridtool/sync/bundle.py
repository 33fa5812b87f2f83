"""The bundle file: a zip of ``manifest.json``, ``ops.jsonl`` and a signature, optionally encrypted.

Writing one packs the transactions a peer lacks, each with its author's signature; reading one
checks size, names, the packer's signature (before the operations are inflated), versions and
hashes, and writes nothing."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import os
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from gridtool.ids import new_id
from gridtool.store import SCHEMA_VERSION, Store, collector_paused, write_private
from gridtool.sync.log import _walk_log
from gridtool.sync.operations import Op, SyncError, _now_ms, _sha256, canonical, clock_ahead_ms, shareable
from gridtool.sync.peer_input import may_hold_controls
from gridtool.sync.roster import _check_signature, _private_key, _public_raw, key_id, load_state

FORMAT_VERSION = 2  # 2: each transaction travels with its author's signature (1: operations only)


FEATURES = frozenset({"ops", "tx"})  # must-understand features this version knows how to apply


MEMBERS = ("manifest.json", "ops.jsonl", "signature")


MAX_BUNDLE_BYTES = 256 << 20


MAX_MEMBER_BYTES = {"manifest.json": 1 << 20, "ops.jsonl": 1 << 30, "signature": 1 << 10}


ENC_MAGIC = b"GRIDTOOL-SYNC-AESGCM-1\n"


SCRYPT_N = 2**15


MIN_PASSPHRASE = 10  # characters: anyone holding a bundle can try short ones offline, without limit


@dataclass
class ExportResult:
    path: Path
    bundle: str
    ops: int
    size: int
    full: bool
    encrypted: bool
    ahead_ms: int = 0  # this laptop's hybrid clock ahead of its wall clock: see clock_ahead_ms


def _peer_vector(store: Store, state: dict[str, Any], peer: str) -> dict[str, int]:
    """What ``peer`` (roster name or replica id) last said it holds; empty when not known yet."""
    entry = state["trust"].get(peer)
    if entry is not None:
        for replica, known in state["peers"].items():
            if known.get("key_id") == entry["key_id"] and replica != store.replica:
                return dict(known.get("vector", {}))
        return {}
    matches = [r for r in state["peers"] if r == peer or (len(peer) >= 4 and r.endswith(peer.upper()))]
    if len(matches) == 1:
        return dict(state["peers"][matches[0]].get("vector", {}))
    raise SyncError("sync.unknown_peer", peer=peer)


def export_bundle(
    store: Store,
    dest: str | os.PathLike[str],
    peer: str | None = None,
    full: bool = False,
    passphrase: str | None = None,
    since: dict[str, int] | None = None,
) -> ExportResult:
    """Write a signed bundle of what ``peer`` lacks (everything when unknown or ``full``).

    ``since`` overrides the assumed vector (tests use it to model a lost, optimistic delivery).
    """
    with collector_paused():
        return _export(store, dest, peer, full, passphrase, since)


def _export(
    store: Store,
    dest: str | os.PathLike[str],
    peer: str | None,
    full: bool,
    passphrase: str | None,
    since: dict[str, int] | None,
) -> ExportResult:
    if store.owns(dest):  # before the key is made or anything read: the store's files stay as they are
        raise SyncError("sync.target_is_store", path=str(dest))
    if passphrase is not None and len(passphrase) < MIN_PASSPHRASE:
        raise SyncError("sync.passphrase_short", min=MIN_PASSPHRASE, length=len(passphrase))
    if since is None and not full and peer is not None:  # an unknown peer is refused before the key is made
        _peer_vector(store, load_state(store), peer)
    private = _private_key(store)
    public = _public_raw(private)
    with store.lock.hold(exclusive=False):
        store.refresh()
        state = load_state(store)
        if since is None:
            since = {} if full or peer is None else _peer_vector(store, state, peer)
        mine, units = _units_since(store, state, since, private)
    sort = orjson.OPT_SORT_KEYS
    lines: list[bytes] = []
    count = 0
    for header, ops in units:
        lines.append(orjson.dumps({**header, "n": len(ops)}, option=sort))
        lines += [orjson.dumps(op if "eff" not in op else shareable(op), option=sort) for op in ops]
        count += len(ops)
    if not all(line.isascii() for line in lines):
        text = b"\n".join(lines).decode("utf-8")
        if not unicodedata.is_normalized("NFC", text):  # rare: only then walk every value
            lines = [canonical(orjson.loads(line)) for line in lines]
    body = b"\n".join(lines) + (b"\n" if lines else b"")
    manifest = {
        "format": FORMAT_VERSION,
        "features": sorted(FEATURES),
        "schema": SCHEMA_VERSION,
        "bundle": new_id(),
        "sender": store.replica,
        "key_id": key_id(public),
        "vector": mine,
        "assumed": {o: s for o, s in since.items() if s},
        "created": _now_ms(),
        "ops": count,
        "members": {"ops.jsonl": {"sha256": _sha256(body), "size": len(body)}},
    }
    manifest_bytes = canonical(manifest)
    signature = base64.b64encode(private.sign(manifest_bytes)) + b"\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, data in (("manifest.json", manifest_bytes), ("ops.jsonl", body), ("signature", signature)):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zf.writestr(info, data, compresslevel=1)  # 3x faster than the default, 25% bigger
    data = buffer.getvalue()
    if passphrase:
        data = _encrypt(data, passphrase)
    path = Path(dest)
    try:
        write_private(path, data)
    except OSError as exc:
        raise SyncError("sync.cannot_write", path=str(path), reason=exc.strerror or str(exc)) from None
    return ExportResult(
        path, manifest["bundle"], count, len(data), not since, bool(passphrase), clock_ahead_ms(store)
    )


Unit = tuple[dict[str, Any], list[Op]]  # a transaction as it travels: its header and its operations


def _units_since(
    store: Store, state: dict[str, Any], since: dict[str, int], private: Any
) -> tuple[dict[str, int], list[Unit]]:
    """The transactions holding what a peer at ``since`` lacks, each whole (its signature covers
    all its operations), in log order. A transaction adopted in parts (some of it was held back)
    is gathered from its lines; when a part lies before where the walk started, walk again."""
    lowered = dict(since)
    for _ in range(3):
        entries: list[dict[str, Any]] = []
        mine = _walk_log(store, state, lowered, entries)[0]
        units = _entry_units(store, entries, private)
        short = {}
        for header, ops in units:
            if "seqs" in header and len(ops) < header["seqs"][1] - header["seqs"][0] + 1:
                origin = ops[0]["id"][0]
                short[origin] = min(short.get(origin, header["seqs"][0]), header["seqs"][0])
        if not short:
            break
        for origin, first in short.items():
            lowered[origin] = min(lowered.get(origin, 0), first - 1)
    out: list[Unit] = []
    for header, ops in units:
        if any(op["id"][1] > since.get(op["id"][0], 0) for op in ops):
            out.append(({k: v for k, v in header.items() if k not in ("origin", "seqs")}, ops))
    return mine, out


def _entry_units(store: Store, entries: list[dict[str, Any]], private: Any) -> list[Unit]:
    """Log lines as transactions: this replica's own (signed now if committed unsigned), others'
    still under their authors' signatures, and runs of operations an older version adopted
    without one (they travel unsigned, as before)."""
    from gridtool.sync import signing

    units: list[Unit] = []
    relayed: dict[tuple[str, str], Unit] = {}
    for entry in entries:
        ops = entry["ops"]
        if "sig" in entry and "txs" not in entry:  # this replica's own, signed when committed
            header = {"tx": entry["tx"], "key": entry["key"], "sig": entry["sig"]}
            for name in signing.PORTABLE:
                if entry.get(name) is not None:
                    header[name] = entry[name]
            units.append((header, [op if "eff" not in op else shareable(op) for op in ops]))
            continue
        ops = [op if "eff" not in op else shareable(op) for op in ops]
        covered: set[tuple[str, int]] = set()
        by_origin: dict[str, dict[int, Op]] = {}
        if "txs" in entry:
            for op in ops:
                by_origin.setdefault(op["id"][0], {})[op["id"][1]] = op
        spans = {origin: (min(seqs), max(seqs)) for origin, seqs in by_origin.items()}
        for header in entry.get("txs", ()):
            origin, (first, last) = header["origin"], header["seqs"]
            mine = by_origin.get(origin, {})
            if not mine:
                continue
            low, high = spans[origin]  # a line holds a part of a big transaction: look only there
            part = [mine[seq] for seq in range(max(first, low), min(last, high) + 1) if seq in mine]
            covered.update((origin, op["id"][1]) for op in part)
            key = (origin, header["tx"])
            if key in relayed:
                relayed[key][1].extend(part)
            else:
                relayed[key] = (header, part)
                units.append(relayed[key])
        rest = [op for op in ops if (op["id"][0], op["id"][1]) not in covered]
        runs: list[list[Op]] = []
        for op in rest:
            if runs and runs[-1][0]["id"][0] == op["id"][0]:
                runs[-1].append(op)
            else:
                runs.append([op])
        for number, run in enumerate(runs):
            header = {"tx": entry["tx"] if len(runs) == 1 else f"{entry['tx']}.{number}"}
            for name in signing.PORTABLE:
                if entry.get(name) is not None:
                    header[name] = entry[name]
            if run[0]["id"][0] == store.replica:
                if len(runs) == 1 and "sig" in entry and "txs" not in entry:
                    header.update(key=entry["key"], sig=entry["sig"])
                else:  # committed before this version, or with no key yet: signed by its author now
                    header.update(signing.sign(private, header, run))
            units.append((header, run))
    return units


def _derive(passphrase: str, salt: bytes) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=SCRYPT_N, r=8, p=1).derive(passphrase.encode("utf-8"))


def _encrypt(data: bytes, passphrase: str) -> bytes:
    """AES-256-GCM under a key scrypt derives from the community passphrase (never stored)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = os.urandom(16), os.urandom(12)
    return ENC_MAGIC + salt + nonce + AESGCM(_derive(passphrase, salt)).encrypt(nonce, data, ENC_MAGIC)


def _decrypt(data: bytes, passphrase: str | None) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not passphrase:
        raise SyncError("sync.needs_passphrase")
    body = data[len(ENC_MAGIC) :]
    salt, nonce, sealed = body[:16], body[16:28], body[28:]
    try:
        return AESGCM(_derive(passphrase, salt)).decrypt(nonce, sealed, ENC_MAGIC)
    except (InvalidTag, ValueError):
        raise SyncError("sync.bad_passphrase") from None


def is_encrypted(path: str | os.PathLike[str]) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(len(ENC_MAGIC)) == ENC_MAGIC
    except OSError:
        return False


BATCH_OPS = 20_000  # operations checked, planned and written at a time: a bundle is never held whole
RUN_OPS = 10_000  # a format-1 bundle's run of one author's operations, read a part at a time
PIECE_OPS = 50_000  # a bigger transaction is read in pieces of this many operations


@dataclass
class Piece:
    """A transaction as read, or a piece of a big one (``first``/``last`` say which)."""

    header: dict[str, Any] | None
    ops: list[Op]
    lines: list[bytes] | None  # its operations' lines as they came: what the signature covers
    controls: bool  # whether its text may hold a control character (see peer_input)
    first: bool = True
    last: bool = True


@dataclass
class Bundle:
    """A bundle whose manifest and packer's signature hold; its operations are read as a stream,
    a batch of transactions at a time, as often as needed (nothing parsed is kept)."""

    manifest: dict[str, Any]
    signer: str  # roster name, or this replica's own name
    data: bytes = field(repr=False)
    fmt: int = FORMAT_VERSION
    inflated: list[int] = field(default_factory=lambda: [0])  # bytes of ops.jsonl read so far
    _lines: Iterator[list[bytes]] | None = field(default=None, repr=False)

    @property
    def size(self) -> int:
        """The inflated size of ``ops.jsonl`` as the signed manifest gives it (checked at the end)."""
        size = self.manifest["members"]["ops.jsonl"].get("size")
        return size if type(size) is int else 0

    def batches(self, size: int | None = None, read_before: bool = False) -> Iterator[list[Piece]]:
        """The transactions of ``ops.jsonl`` in batches of about ``size`` operations; one of more
        than :data:`PIECE_OPS` operations comes in pieces. The member's size and hash are checked
        after the last batch: act on none before the stream is read to its end (and call
        :meth:`drain` when stopping early on an error, so damage is named as damage). ``read_before``:
        this bundle's batches were read to the end once already, every line one item, so a chunk's
        lines are parsed at once (a first sync's second reading costs a third less)."""
        size = size or BATCH_OPS
        self.inflated[0] = 0
        self._lines = _ops_batches(self.data, self.manifest["members"]["ops.jsonl"], self.inflated)
        reader = _UnitReader(self.fmt, self.manifest.get("ops"), read_before)
        batch: list[Piece] = []
        count = 0
        for lines in self._lines:
            lines = [line for line in lines if line.strip()]
            if not lines:
                continue
            controls = may_hold_controls(b"\n".join(lines))
            for piece in reader.feed(lines, controls):
                batch.append(piece)
                count += len(piece.ops)
                if count >= size:
                    yield batch
                    batch, count = [], 0
        batch += reader.close()
        if batch:
            yield batch

    def drain(self) -> None:
        """Read the rest of ``ops.jsonl`` to check its hash: a damaged bundle is refused as damaged,
        whatever error its damaged bytes raised first."""
        if self._lines is not None:
            for _ in self._lines:
                pass


class _UnitReader:
    """Parses ``ops.jsonl`` line by line into transactions: a header line then its operations
    (format 2), or, in a bundle of format 1, runs of one author's operations with no header. Each
    line is parsed on its own, so an operation is always the line its signature is checked over."""

    def __init__(self, fmt: int, declared: Any, read_before: bool = False) -> None:
        self.headers = fmt >= 2
        self.read_before = read_before
        self.declared = declared if type(declared) is int and declared >= 0 else 1 << 40
        self.number = 0  # lines read
        self.ops_read = 0
        self.header: dict[str, Any] | None = None
        self.header_line = 0
        self.left = 0
        self.first = True
        self.ops: list[Op] = []
        self.raw: list[bytes] = []
        self.origin: Any = None
        self.controls = False

    def _piece(self, last: bool) -> Piece:
        piece = Piece(
            self.header, self.ops, self.raw if self.headers else None, self.controls, self.first, last
        )
        self.ops, self.raw, self.first = [], [], last
        return piece

    def feed(self, lines: list[bytes], controls: bool) -> Iterator[Piece]:
        if self.ops or self.header is not None:  # a transaction still open takes this chunk's flag too
            self.controls = self.controls or controls
        items: list[Any] | None = None
        if self.read_before:
            items = orjson.loads(b"[" + b",".join(lines) + b"]")
            if len(items) != len(lines):  # not the bytes read before: never so, but never trusted
                raise SyncError("sync.damaged")
        for at, line in enumerate(lines):
            self.number += 1
            if items is not None:
                item = items[at]
            else:
                try:
                    item = orjson.loads(line)
                except orjson.JSONDecodeError:
                    raise SyncError("sync.bad_ops", line=self.number) from None
            if type(item) is not dict or "eff" in item or ("tx" in item and not self.headers):
                raise SyncError("sync.bad_ops", line=self.number)
            if not self.headers:
                ident = item.get("id")
                origin = ident[0] if type(ident) is list and ident else None
                if self.ops and (self.origin != origin or len(self.ops) >= RUN_OPS):
                    yield self._piece(last=True)
                if not self.ops:
                    self.controls = controls
                self.origin = origin
                self.ops.append(item)
                self.ops_read += 1
            elif self.header is None:
                from gridtool.sync.signing import header_ok

                if not header_ok(item, self.declared - self.ops_read):
                    raise SyncError("sync.bad_ops", line=self.number)
                self.header, self.header_line, self.left = item, self.number, item["n"]
                self.ops, self.raw, self.first, self.controls = [], [], True, controls
            elif "tx" in item:  # a header where its transaction's operations should be
                raise SyncError("sync.bad_ops", line=self.number)
            else:
                self.ops.append(item)
                self.raw.append(line)
                self.ops_read += 1
                self.left -= 1
                if not self.left:
                    yield self._piece(last=True)
                    self.header = None
                elif len(self.ops) >= PIECE_OPS:
                    yield self._piece(last=False)

    def close(self) -> list[Piece]:
        """The last run of a format-1 bundle; a transaction cut short by the member's end refused."""
        if self.header is not None:
            raise SyncError("sync.bad_ops", line=self.header_line)
        return [self._piece(last=True)] if self.ops else []


def read_bundle(store: Store, src: str | os.PathLike[str], passphrase: str | None = None) -> Bundle:
    """Open and check a bundle: size, names, signature, versions, hashes. Writes nothing."""
    path = Path(src)
    try:
        size = path.stat().st_size
        if size > MAX_BUNDLE_BYTES:
            raise SyncError("sync.too_large", size=size, limit=MAX_BUNDLE_BYTES)
        data = path.read_bytes()
    except FileNotFoundError:
        raise SyncError("sync.no_file", path=str(path)) from None
    except IsADirectoryError:
        raise SyncError("sync.no_file", path=str(path)) from None
    except OSError as exc:
        raise SyncError("sync.cannot_read", path=str(path), reason=exc.strerror or str(exc)) from None
    if data.startswith(ENC_MAGIC):
        data = _decrypt(data, passphrase)
    members = _unzip(data, ("manifest.json", "signature"))  # ops.jsonl only once the signature holds
    if "signature" not in members:
        raise SyncError("sync.unsigned")
    try:
        manifest = orjson.loads(members["manifest.json"])
        if not isinstance(manifest, dict):
            raise ValueError("not an object")
    except (orjson.JSONDecodeError, ValueError):
        raise SyncError("sync.bad_manifest") from None
    fmt = manifest.get("format")
    if not isinstance(fmt, int):
        raise SyncError("sync.bad_manifest")
    if fmt > FORMAT_VERSION:
        raise SyncError("sync.too_new", found=fmt, supported=FORMAT_VERSION)
    unknown = sorted(set(manifest.get("features") or ()) - FEATURES)
    if unknown:
        raise SyncError("sync.unknown_features", features=", ".join(map(str, unknown)))
    if manifest.get("schema") != SCHEMA_VERSION:
        raise SyncError("sync.schema", found=manifest.get("schema"), supported=SCHEMA_VERSION)
    signer = _check_signature(store, manifest, members["manifest.json"], members["signature"])
    try:
        expected = manifest["members"]["ops.jsonl"]
        well_formed = (
            isinstance(manifest["bundle"], str)
            and isinstance(manifest["sender"], str)
            and isinstance(manifest["vector"], dict)
            and all(isinstance(o, str) and type(n) is int for o, n in manifest["vector"].items())
            and isinstance(expected, dict)
        )
    except (KeyError, TypeError):
        well_formed = False
    if not well_formed:
        raise SyncError("sync.bad_manifest")
    known = load_state(store)["peers"].get(manifest["sender"], {}).get("key_id")
    if known and known != manifest.get("key_id"):  # a trusted key speaking for another laptop
        raise SyncError("sync.sender_mismatch", name=signer)
    return Bundle(manifest, signer, data, fmt)


MAX_RATIO = 200  # deflate packs this project's JSON some 5 to 20 times; a bomb, thousands of times


def _unzip(data: bytes, wanted: tuple[str, ...]) -> dict[str, bytes]:
    """Check every member's name and declared size, then inflate only ``wanted``, each capped at
    its limit and at :data:`MAX_RATIO` times its packed size (the declared sizes may lie)."""
    zf = _open_zip(data)
    with zf:
        members: dict[str, bytes] = {}
        for info in zf.infolist():
            if info.filename not in wanted:
                continue
            limit = _inflated_limit(info)
            try:
                with zf.open(info) as fh:
                    content = fh.read(limit + 1)  # the declared size may lie: never read past the limit
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError):
                raise SyncError("sync.damaged") from None
            if len(content) > limit:
                raise SyncError("sync.oversized", name=info.filename, limit=limit)
            members[info.filename] = content
        return members


def _inflated_limit(info: zipfile.ZipInfo) -> int:
    return min(MAX_MEMBER_BYTES[info.filename], max(info.compress_size * MAX_RATIO, 1 << 16))


def _open_zip(data: bytes) -> zipfile.ZipFile:
    """The bundle's zip, once every member's name and declared size are checked."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise SyncError("sync.not_bundle") from None
    with contextlib.ExitStack() as on_error:
        on_error.callback(zf.close)
        infos = zf.infolist()
        seen: set[str] = set()
        for info in infos:
            name = info.filename
            if (
                name in seen
                or name.startswith(("/", "\\"))
                or "/" in name
                or "\\" in name
                or ".." in name
                or ":" in name
            ):
                raise SyncError("sync.unsafe_name", name=name[:60])
            if name not in MEMBERS:
                raise SyncError("sync.unknown_member", name=name[:60])
            seen.add(name)
            if info.file_size > MAX_MEMBER_BYTES[name]:
                raise SyncError("sync.oversized", name=name, limit=MAX_MEMBER_BYTES[name])
            if info.file_size > max(info.compress_size * MAX_RATIO, 1 << 16):
                raise SyncError("sync.bomb", name=name, ratio=MAX_RATIO)
        if "manifest.json" not in seen or "ops.jsonl" not in seen:
            raise SyncError("sync.not_bundle")
        on_error.pop_all()
    return zf


STREAM_CHUNK = 1 << 20


def _ops_batches(
    data: bytes, expected: dict[str, Any], inflated: list[int] | None = None
) -> Iterator[list[bytes]]:
    """The lines of ``ops.jsonl`` a batch at a time, inflated a megabyte at a time (never the whole
    member at once), capped like every member; its size and hash are checked against the signed
    manifest once the last batch is out, so a caller must not act on them before the end."""
    zf = _open_zip(data)
    with zf:
        info = zf.getinfo("ops.jsonl")
        limit = _inflated_limit(info)
        digest = hashlib.sha256()
        size = 0
        rest = b""
        try:
            with zf.open(info) as fh:
                while chunk := fh.read(STREAM_CHUNK):
                    size += len(chunk)
                    if inflated is not None:
                        inflated[0] = size
                    if size > limit:
                        raise SyncError("sync.oversized", name=info.filename, limit=limit)
                    digest.update(chunk)
                    lines = (rest + chunk).split(b"\n")
                    rest = lines.pop()
                    yield lines
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError):
            raise SyncError("sync.damaged") from None
        if rest:
            yield [rest]
        if size != expected.get("size") or digest.hexdigest() != expected.get("sha256"):
            raise SyncError("sync.damaged")


SYNC_TABLES = frozenset(
    {
        "grid_cells",
        "buildings",
        "leads",
        "households",
        "members",
        "issues",
        "events",
        "teams",
        "volunteers",
        "orders",
        "points",
        "visit_plans",
        "visits",
    }
)


"""The tables a bundle may write: a table name becomes part of a file name beside the store, so
an operation for ``log`` or ``sync_state`` must never get that far."""
