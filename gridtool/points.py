"""The love bank (爱心银行): points rules, the append-only points ledger, balances and the honour roll.

Why it is shaped this way:

* **The ledger is the truth.** Table ``points`` only ever gains entries (``tx.create``); nothing
  updates or deletes one. A balance is the sum of a volunteer's entries, computed every time, never
  stored, so two laptops that exchanged their operations agree on every balance.
* **Every entry says why.** A ``credit`` (written when the order is done) names the order and
  the rule that earned it (with the rule's points as they were that day, so editing the rules
  table later changes no history); a ``bonus`` (written when it is rated 5) names the order, the
  rating and the rule; a ``redeem`` names the item; a ``correction`` names the entry it corrects
  and the reason. A mistake is fixed by a correction, never by an edit.
* **An order earns once.** Its credit and bonus entries have ids derived from the order's id
  (:func:`gridtool.ids.derived_id`), so two laptops that both record the same order as done write
  the same entry, which sync merges or flags, rather than two entries that add up.
* **A correction comes after what it corrects** (its ``--at`` is not before the entry's), and
  counts on the same side: correcting a redemption changes what was spent, not what was earned.
* **A balance never goes negative** on this laptop: a redemption or a correction that would take
  it below zero is refused with the balance shown. A backdated one (``--at``) must also leave
  every later running balance at zero or more (:func:`available`), so the ledger read in time
  order never dips below zero either.
* **Rules are a CSV an office edits** (``data/points_rules.csv``, or ``<config dir>/points_rules.csv``
  which replaces it): ``per-service`` points for one service done, ``per-hour`` points times the
  hours worked (rounded half up to a whole point), and ``bonus-5-star`` points when the resident
  rates the service 5 (a rule for the service wins over the ``*`` rule for every service).

**Ranking** (``rank``) orders volunteers by points *earned* in the year (credits, bonuses and
corrections of them; redemptions, and corrections of redemptions, do not change anyone's
honour). Ties are broken, in this order, by more services completed in the year, then by who
reached their total first (the time of their last earning entry), then by the volunteer id (the
one registered first). Every replica computes the same order. ``--team`` ranks the team's
members as they are now.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from gridtool.errors import InputError, NotFound, Problem, ValidationError
from gridtool.i18n import t
from gridtool.ids import derived_id, new_id, short
from gridtool.paths import decode_table, in_force, load_table
from gridtool.store import Store, Transaction
from gridtool.validate import FREE_TEXT_FIELDS, MAX_YEAR, MIN_YEAR, Invalid, check_text

RULES_FILE = "points_rules.csv"
RULE_COLUMNS = ("rule", "service", "basis", "points", "name")
BASES = ("per-service", "per-hour", "bonus-5-star")
ANY_SERVICE = "*"
EARNING = frozenset({"credit", "bonus"})
"""Entry kinds that count towards the points earned (the ranking); redemptions only spend.
A correction counts on the side of the entry it corrects (:func:`earns`)."""
MAX_POINTS = 100_000
RETIRED = "retired"
"""The basis of a credit for a service no longer in the rules table: 0 points, no rule."""
_ID = re.compile(r"[a-z0-9][a-z0-9\-_]{0,39}\Z")


# -- the rules table --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One row of the rules table."""

    rule: str
    service: str
    basis: str
    points: int
    name: str


class Rules:
    """The points rules in force: one base rule per service, and 5-star bonuses."""

    def __init__(self, rows: Sequence[Rule], path: Path) -> None:
        self.rows = list(rows)
        self.path = path
        self._base = {r.service: r for r in rows if r.basis != "bonus-5-star"}
        self._bonus = {r.service: r for r in rows if r.basis == "bonus-5-star"}

    def services(self) -> list[str]:
        """The services residents can order: those with a base rule, in table order."""
        return list(self._base)

    def base_or_none(self, service: str) -> Rule | None:
        """The service's base rule, or ``None`` for a service no longer in the table."""
        return self._base.get(service)

    def bonus(self, service: str) -> Rule | None:
        """The 5-star bonus for ``service``: its own rule, else the ``*`` rule, else none."""
        return self._bonus.get(service) or self._bonus.get(ANY_SERVICE)

    def service_name(self, service: str | None) -> str:
        """What a person calls a service (the table's ``name``), or its id if unknown."""
        rule = self._base.get(service or "")
        return rule.name if rule and rule.name else (service or "")

    def rule_name(self, rule: str | None) -> str:
        """What a person calls a rule (五星好评奖励 for five-star), or its id if no longer in the table."""
        for row in self.rows:
            if row.rule == rule and row.name:
                return row.name
        return rule or ""

    def service_id(self, text: str) -> str | None:
        """The service ``text`` names, by id or by its name in the table (理发 → haircut)."""
        wanted = str(text or "").strip()
        if wanted.lower() in self._base:
            return wanted.lower()
        for service, rule in self._base.items():
            if rule.name and rule.name == wanted:
                return service
        return None


def unknown_service(rules: Rules, value: str) -> Problem:
    known = ", ".join(f"{s} ({rules.service_name(s)})" for s in rules.services())
    return Problem("service", "points.unknown_service", {"known": known}, str(value))


def rules_path() -> Path:
    """The table in force: the user's ``<config dir>/points_rules.csv`` if present, else the shipped one."""
    return in_force(RULES_FILE)


def load_rules(path: Path | None = None) -> Rules:
    """Load and validate a rules table; re-read only when the file changed."""
    path = rules_path() if path is None else Path(path)
    return load_table(path, lambda p, data: Rules(_parse_rules(p, data), p), "points.rules_unreadable")


def _parse_rules(path: Path, data: bytes) -> list[Rule]:
    text = decode_table(data)
    if text is None:
        raise InputError("points.rules_bad_row", path=str(path), row=1, reason=t("points.reason.encoding"))
    reader = csv.reader(io.StringIO(text, newline=""))

    def bad(row: int, reason: str, /, **params: object) -> InputError:
        return InputError("points.rules_bad_row", path=str(path), row=row, reason=t(reason, **params))

    header = [cell.strip().lower() for cell in next(reader, [])]
    for column in RULE_COLUMNS:
        if column not in header:
            raise bad(1, "points.reason.missing_column", column=column)
    where = {column: header.index(column) for column in RULE_COLUMNS}
    rows: list[Rule] = []
    seen_rules: set[str] = set()
    seen_base: set[str] = set()
    seen_bonus: set[str] = set()
    for cells in reader:
        n = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        values = {c: (cells[where[c]].strip() if where[c] < len(cells) else "") for c in RULE_COLUMNS}
        rule, service, basis = values["rule"].lower(), values["service"].lower(), values["basis"].lower()
        if not _ID.match(rule):
            raise bad(n, "points.reason.bad_id", column="rule", value=values["rule"])
        if rule in seen_rules:
            raise bad(n, "points.reason.duplicate", value=rule)
        if basis not in BASES:
            raise bad(n, "points.reason.bad_basis", value=values["basis"], known=", ".join(BASES))
        if not (_ID.match(service) or (service == ANY_SERVICE and basis == "bonus-5-star")):
            raise bad(n, "points.reason.bad_id", column="service", value=values["service"])
        try:
            points = int(values["points"])
        except ValueError:
            raise bad(n, "points.reason.bad_points", value=values["points"]) from None
        if not 0 < points <= MAX_POINTS:
            raise bad(n, "points.reason.bad_points", value=values["points"])
        seen = seen_bonus if basis == "bonus-5-star" else seen_base
        if service in seen:
            raise bad(n, "points.reason.duplicate", value=service)
        seen.add(service)
        seen_rules.add(rule)
        rows.append(Rule(rule, service, basis, points, values["name"]))
    for r in rows:
        if r.basis == "bonus-5-star" and r.service != ANY_SERVICE and r.service not in seen_base:
            raise bad(1, "points.reason.bonus_without_base", value=r.service)
    if not seen_base:
        raise bad(2, "points.reason.no_rows")
    return rows


def show_hours(hours: float | None) -> str:
    """``1.5``, ``2`` (not ``2.0``)."""
    if hours is None:
        return ""
    return str(int(hours)) if float(hours).is_integer() else str(hours)


def hour_points(rate: int, hours: float) -> int:
    """``rate`` points an hour for ``hours``, rounded half up to a whole point (1.5 h × 5 = 8)."""
    exact = Decimal(str(hours)) * rate
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# -- reading the ledger -----------------------------------------------------------------------------


def _by_volunteer(store: Store) -> Any:
    return store.index("points", "volunteer", lambda e: (e.get("volunteer"),))


def entry_order(entry: dict[str, Any]) -> tuple[str, str]:
    """Ledger order: time, then id (ULIDs count up, so entries of one command keep their order)."""
    return (entry.get("at") or "", entry.get("id", ""))


def entries(store: Store, volunteer_id: str | None = None) -> list[dict[str, Any]]:
    """Ledger entries in order, all or one volunteer's."""
    records = store.records("points")
    if volunteer_id is None:
        found: Any = records.values()
    else:
        found = (records[i] for i in _by_volunteer(store).lookup(volunteer_id))
    return sorted(found, key=entry_order)


def balance(store: Store, volunteer_id: str) -> int:
    """The volunteer's points: the sum of their ledger entries, computed, never stored."""
    records = store.records("points")
    return sum(int(records[i]["points"]) for i in _by_volunteer(store).lookup(volunteer_id))


def available(store: Store, volunteer_id: str, at: datetime, entry_id: str | None = None) -> int:
    """What can be spent at ``at`` without the running balance going below zero at any point.

    For an entry made now that is the balance. A backdated one (``--at`` in the past) must also
    leave every later running balance at zero or more, so the ledger read in time order never
    shows a negative balance: the least running balance from the new entry's place on. Its place is
    found by the ledger's own order (:func:`entry_order`), with the id it will be written under
    (an order's credit may share the moment, and even the millisecond, of a redemption).
    """
    key = (at.isoformat(timespec="seconds"), entry_id or "~")
    running = 0
    lowest: int | None = None
    for e in entries(store, volunteer_id):
        if lowest is None and entry_order(e) > key:
            lowest = running
        running += int(e["points"])
        if lowest is not None:
            lowest = min(lowest, running)
    return running if lowest is None else lowest


def earns(entry: dict[str, Any], records: dict[str, dict[str, Any]]) -> bool:
    """Whether an entry counts as points earned (the ranking) rather than spent.

    A correction adjusts the side of the entry it corrects: giving back 5 points of a redemption
    lowers what was spent, it is not an honour earned. A correction of a correction follows the
    chain to the entry first corrected; one whose target is unknown here counts as earned.
    """
    seen: set[str] = set()
    while entry.get("kind") == "correction":
        target = records.get(entry.get("corrects") or "")
        if target is None or target["id"] in seen:
            return True
        seen.add(target["id"])
        entry = target
    return entry.get("kind") in EARNING


def entry_by_ref(store: Store, ref: str) -> dict[str, Any]:
    return store.records("points")[store.resolve("points", ref)]


# -- writing the ledger -----------------------------------------------------------------------------


def _stamp(at: datetime, actor: str | None) -> dict[str, Any]:
    return {"at": at.isoformat(timespec="seconds"), "actor": actor or ""}


def stage_credit(
    tx: Transaction,
    order: dict[str, Any],
    hours: float,
    at: datetime,
    actor: str | None = None,
    rules: Rules | None = None,
) -> dict[str, Any]:
    """Credit the volunteer of a completed order under the service's rule (inside a transaction).

    An order taken before the office retired its service from the rules table is still done: it
    is credited **0 points** under no rule (basis ``retired``), because no rule says what it is
    worth and guessing would put invented points in an audited ledger. The entry still records the
    service done (the rank counts it) and can be corrected with the points the office decides.
    """
    rules = rules or load_rules()
    rule = rules.base_or_none(order["service"])
    if rule is None:
        points, rule_id, basis, rate = 0, "", RETIRED, 0
    else:
        points = rule.points if rule.basis == "per-service" else hour_points(rule.points, hours)
        rule_id, basis, rate = rule.rule, rule.basis, rule.points
    entry = {
        "volunteer": order["volunteer"],
        "kind": "credit",
        "points": points,
        "order": order["id"],
        "order_number": order["number"],
        "rule": rule_id,
        "basis": basis,
        "rate": rate,
        "hours": hours,
        **_stamp(at, actor),
    }
    if rule is None:
        entry["service"] = order["service"]
    return {"id": tx.create("points", entry, record_id=derived_id(order["id"], "credit")), **entry}


def stage_bonus(
    tx: Transaction,
    order: dict[str, Any],
    rating: int,
    at: datetime,
    actor: str | None = None,
    rules: Rules | None = None,
) -> dict[str, Any] | None:
    """The 5-star bonus for a rated order, if the rating is 5 and a bonus rule applies."""
    if rating != 5:
        return None
    rule = (rules or load_rules()).bonus(order["service"])
    if rule is None:
        return None
    entry = {
        "volunteer": order["volunteer"],
        "kind": "bonus",
        "points": rule.points,
        "order": order["id"],
        "order_number": order["number"],
        "rule": rule.rule,
        "basis": rule.basis,
        "rating": rating,
        **_stamp(at, actor),
    }
    return {"id": tx.create("points", entry, record_id=derived_id(order["id"], "bonus")), **entry}


def _whole_points(value: Any, allow_negative: bool = False) -> int:
    if value is None or not str(value).strip():  # a forgotten --points is missing, not "None"
        raise ValidationError([Problem("points", "invalid.required")])
    try:
        points = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError([Problem("points", "invalid.integer", {}, str(value))]) from None
    if points == 0 and allow_negative:
        raise ValidationError([Problem("points", "points.zero", {}, str(value))])
    if points < 1 and not allow_negative:
        raise ValidationError([Problem("points", "invalid.minimum", {"minimum": 1}, str(value))])
    if abs(points) > MAX_POINTS:
        raise ValidationError([Problem("points", "points.too_many", {"max": MAX_POINTS}, str(value))])
    return points


def _text(field: str, value: Any, required: bool, limit: int = 200) -> str:
    try:
        text = check_text(value, field, multiline=field in FREE_TEXT_FIELDS, max_len=limit)
    except Invalid as bad:
        raise ValidationError([Problem(field, bad.key, dict(bad.params))]) from None
    if required and not text:
        raise ValidationError([Problem(field, "invalid.required")])
    return text


def redeem(
    store: Store,
    volunteer_ref: str,
    points: Any,
    item: str,
    at: datetime | None = None,
    actor: str | None = None,
) -> tuple[dict[str, Any], int]:
    """Exchange points for an item (大米5kg ...); refused when the balance is short.

    Returns the entry and the balance after it.
    """
    from gridtool.moments import entered_at
    from gridtool.roster import volunteer_by_ref

    amount = _whole_points(points)
    what = _text("item", item, required=True)
    moment = entered_at(at)
    with store.transaction(actor=actor, at=moment) as tx:
        volunteer = volunteer_by_ref(tx.store, volunteer_ref)
        have = balance(tx.store, volunteer["id"])
        entry_id = new_id()
        free = available(tx.store, volunteer["id"], moment, entry_id)
        if amount > free:
            raise InputError("points.insufficient", name=volunteer["name"], balance=free, wanted=amount)
        entry = {
            "volunteer": volunteer["id"],
            "kind": "redeem",
            "points": -amount,
            "item": what,
            **_stamp(moment, actor),
        }
        tx.create("points", entry, record_id=entry_id)
    return {"id": entry_id, **entry}, have - amount


def correct(
    store: Store,
    entry_ref: str,
    points: Any,
    reason: str,
    at: datetime | None = None,
    actor: str | None = None,
) -> tuple[dict[str, Any], int]:
    """A correction of an earlier entry: a new entry of +/- points naming it and why.

    The corrected entry stays as it was. Refused when it would take the balance below zero.
    Returns the new entry and the balance after it.
    """
    from gridtool.moments import entered_at

    amount = _whole_points(points, allow_negative=True)
    why = _text("reason", reason, required=True, limit=2000)
    moment = entered_at(at)
    with store.transaction(actor=actor, at=moment) as tx:
        try:
            target = entry_by_ref(tx.store, entry_ref)
        except NotFound as missing:
            raise ValidationError(
                [Problem("entry", "invalid.missing_ref", {"what": missing.message()})]
            ) from None
        if moment.isoformat(timespec="seconds") < target["at"]:
            from gridtool.moments import show_time

            raise InputError(
                "points.correction_before_entry",
                entry=short(target["id"]),
                at=show_time(moment.isoformat(timespec="seconds")),
                entry_at=show_time(target["at"]),
            )
        have = balance(tx.store, target["volunteer"])
        entry_id = new_id()
        free = available(tx.store, target["volunteer"], moment, entry_id)
        if free + amount < 0:
            from gridtool.roster import volunteer_name

            raise InputError(
                "points.correction_negative",
                name=volunteer_name(tx.store, target["volunteer"]),
                balance=free,
                points=amount,
            )
        entry = {
            "volunteer": target["volunteer"],
            "kind": "correction",
            "points": amount,
            "corrects": target["id"],
            "reason": why,
            **_stamp(moment, actor),
        }
        for key in ("order", "order_number"):
            if target.get(key):
                entry[key] = target[key]
        tx.create("points", entry, record_id=entry_id)
    return {"id": entry_id, **entry}, have + amount


# -- what a person sees -----------------------------------------------------------------------------

LEDGER_COLUMNS = ("at", "volunteer", "kind", "points", "balance", "details", "id")


def entry_details(entry: dict[str, Any]) -> str:
    """Why an entry exists, in one line of the user's language."""
    kind = entry.get("kind")
    if kind == "credit" and entry.get("basis") == RETIRED:
        service = load_rules().service_name(entry.get("service"))
        return t("points.detail.retired", order=entry.get("order_number"), service=service)
    if kind == "credit":
        basis = (
            t("points.detail.per_hour", rate=entry.get("rate"), hours=show_hours(entry.get("hours")))
            if entry.get("basis") == "per-hour"
            else t("points.detail.per_service", rate=entry.get("rate"))
        )
        rule = load_rules().rule_name(entry.get("rule"))
        return t("points.detail.credit", order=entry.get("order_number"), rule=rule, basis=basis)
    if kind == "bonus":
        return t(
            "points.detail.bonus",
            order=entry.get("order_number"),
            rule=load_rules().rule_name(entry.get("rule")),
            rating=entry.get("rating"),
        )
    if kind == "redeem":
        return t("points.detail.redeem", item=entry.get("item"))
    return t("points.detail.correction", entry=short(entry.get("corrects") or ""), reason=entry.get("reason"))


def ledger_rows(
    store: Store, found: Sequence[dict[str, Any]], labels: bool = True, full_ids: bool = False
) -> list[dict[str, Any]]:
    """One row per entry with the running balance of that volunteer after it."""
    from gridtool.moments import show_time
    from gridtool.roster import volunteer_name

    running: dict[str, int] = {}
    out = []
    for e in found:
        vid = e["volunteer"]
        running[vid] = running.get(vid, 0) + int(e["points"])
        row = {
            "at": show_time(e["at"]) if labels else e["at"],
            "volunteer": volunteer_name(store, vid),
            "kind": t(f"points.kind.{e['kind']}") if labels else e["kind"],
            "points": f"{int(e['points']):+d}" if labels else int(e["points"]),
            "balance": running[vid],
            "details": entry_details(e),
            "id": e["id"] if full_ids else short(e["id"]),
        }
        if not labels:
            row.update(
                volunteer_id=vid,
                order=e.get("order_number") or "",
                rule=e.get("rule") or "",
                item=e.get("item") or "",
                corrects=e.get("corrects") or "",
                reason=e.get("reason") or "",
            )
        out.append(row)
    return out


def summary(store: Store, volunteer_id: str) -> dict[str, Any]:
    """Balance, earned, spent and services credited: all computed from the ledger."""
    found = entries(store, volunteer_id)
    records = store.records("points")
    earned = sum(int(e["points"]) for e in found if earns(e, records))
    spent = -sum(int(e["points"]) for e in found if not earns(e, records))
    services = len({e["order"] for e in found if e["kind"] == "credit"})
    return {
        "balance": earned - spent,
        "earned": earned,
        "redeemed": spent,
        "services": services,
        "entries": len(found),
    }


# -- ranking ----------------------------------------------------------------------------------------

RANK_COLUMNS = ("rank", "name", "teams", "points", "services", "reached_at")


def rank(
    store: Store, year: int | None = None, team: str | None = None, top: int | None = None
) -> list[dict[str, Any]]:
    """Volunteers by points earned in ``year`` (default this year); ties broken as the module says.

    Only volunteers who earned something appear. ``team`` keeps that team's members.
    """
    from gridtool.moments import now
    from gridtool.roster import team_by_ref, team_names

    year = year or now().year
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationError(
            [Problem("year", "invalid.year_range", {"min": MIN_YEAR, "max": MAX_YEAR}, str(year))]
        )
    if top is not None and top < 1:
        raise ValidationError([Problem("top", "invalid.minimum", {"minimum": 1}, str(top))])
    volunteers = store.records("volunteers")
    team_id = team_by_ref(store, team)["id"] if team else None
    prefix = f"{year:04d}-"
    tally: dict[str, dict[str, Any]] = {}
    records = store.records("points")
    for e in records.values():
        if not str(e.get("at", "")).startswith(prefix) or not earns(e, records):
            continue
        vid = e["volunteer"]
        if team_id and team_id not in (volunteers.get(vid) or {}).get("teams", []):
            continue
        row = tally.setdefault(vid, {"points": 0, "orders": set(), "reached_at": ""})
        row["points"] += int(e["points"])
        if e["kind"] == "credit":
            row["orders"].add(e.get("order"))
        row["reached_at"] = max(row["reached_at"], e["at"])
    ordered = sorted(
        tally.items(),
        key=lambda item: (-item[1]["points"], -len(item[1]["orders"]), item[1]["reached_at"], item[0]),
    )
    out = []
    for n, (vid, row) in enumerate(ordered, start=1):
        if row["points"] <= 0:
            continue
        volunteer = volunteers.get(vid) or {}
        out.append(
            {
                "rank": n,
                "volunteer": volunteer.get("name") or short(vid),
                "volunteer_id": vid,
                "name": volunteer.get("name") or short(vid),
                "teams": team_names(store, volunteer.get("teams") or []),
                "points": row["points"],
                "services": len(row["orders"]),
                "reached_at": row["reached_at"],
            }
        )
    return out[:top] if top else out


def rank_markdown(rows: Sequence[dict[str, Any]], year: int, team: str | None = None) -> str:
    """An honour roll (光荣榜) the office can post: plain text that also renders as Markdown."""
    title = t("points.md.title", year=year) + (f"（{team}）" if team else "")
    lines = [f"# {title}", ""]
    if not rows:
        lines.append(t("points.md.none", year=year))
        return "\n".join(lines) + "\n"
    for row in rows:
        teams = "、".join(row["teams"])
        lines.append(
            t(
                "points.md.item",
                rank=row["rank"],
                name=row["name"],
                teams=f"（{teams}）" if teams else "",
                points=row["points"],
                services=row["services"],
            )
        )
    lines += ["", t("points.md.rule")]
    return "\n".join(lines) + "\n"
