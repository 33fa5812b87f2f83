"""Scheduled visits (走访) to households that need them: plans by tag, the visit log, due dates.

Why it is shaped this way:

* A **plan** (table ``visit_plans``) says how often households with a tag are visited: 独居老人
  every 7 days, 残疾人 or 脱贫户 every month. One plan per tag; planning a tag again changes its
  interval. A household with several planned tags follows the most frequent plan.
* A **visit** (table ``visits``) is appended, never edited: household, time, note, who.
* **Due dates** are computed, never stored, so they follow the register (a new 独居老人 tag is due at
  once) and agree on every laptop after a sync:

  - the base is the household's last visit, or the plan's start for a household never visited;
  - a household never visited is due on the base day itself; otherwise the interval is added
    in **calendar days** (``7d``, ``2w``) or **calendar months** (``1m``: 31 Jan + 1 m = 28/29 Feb),
    because an elder living alone needs someone every week whatever the calendar says;
  - a due date that falls on a weekend or a public holiday **moves to the next working day**
    (:func:`gridtool.workdays.is_workday`, so make-up working days 调休 count as working days):
    a visit due on 1 October is due on the first working day after the National Day holiday.

* ``visits-due`` lists households due on or before the day ``within`` calendar days after
  ``as_of`` (overdue ones included); ``visits-overdue`` lists those whose due day is before
  ``as_of``'s day. Both sort most overdue first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from gridtool.errors import InputError, NotFound, Problem, ValidationError
from gridtool.i18n import t
from gridtool.ids import short
from gridtool.store import Store
from gridtool.validate import Invalid, check_text

MAX_NOTE = 2000
MAX_WITHIN = 3660
"""``visits-due --within`` at most ten years: further ahead is a typo, and overflows near 9999."""


def parse_every(text: str) -> tuple[int, str]:
    """``7d`` (or ``7``), ``2w``, ``1m`` (also 7天, 2周, 1个月) as ``(n, unit)`` with unit ``d`` or
    ``m`` (:func:`gridtool.durations.parse_span`: a bare number means days)."""
    from gridtool.durations import parse_span

    span = parse_span(text, "dwm", whole=True)
    if span is None or not 1 <= span[0] <= 999:
        raise ValidationError([Problem("every", "visit.bad_every", {}, str(text))])
    n, unit = int(span[0]), span[1]
    if unit == "w":
        return n * 7, "d"
    return n, unit


def parse_within_days(text: str | int) -> int:
    """``visits-due --within``: ``2`` or ``2d`` days, ``1w`` a week, as calendar days (0 allowed)."""
    from gridtool.durations import parse_span

    span = parse_span(text, "dw", whole=True)
    if span is None:
        raise ValidationError([Problem("within", "visit.bad_within", {}, str(text))])
    return int(span[0]) * (7 if span[1] == "w" else 1)


def show_every(n: int, unit: str) -> str:
    return t(f"visit.every.{unit}", n=n)


def _approx_days(n: int, unit: str) -> int:
    return n * 30 if unit == "m" else n


def _plan_order(p: dict[str, Any]) -> tuple[int, str, str]:
    """The most frequent plan first; ties by tag, then id, so every replica picks the same one."""
    return (_approx_days(p["n"], p["unit"]), p["tag"], p["id"])


def add_interval(day: date, n: int, unit: str) -> date:
    """``day`` plus ``n`` calendar days or calendar months (clamped to the month's last day)."""
    if unit == "d":
        return day + timedelta(days=n)
    from dateutil.relativedelta import relativedelta

    return day + relativedelta(months=n)


def next_working_day(day: date) -> date:
    """``day`` itself if it is a working day, else the first working day after it."""
    from gridtool.workdays import is_workday

    while not is_workday(day):
        day += timedelta(days=1)
    return day


def due_date(last: date | None, start: date, n: int, unit: str) -> date:
    """When the next visit is due (see the module's rules)."""
    nominal = start if last is None else add_interval(last, n, unit)
    return next_working_day(nominal)


# -- writing ----------------------------------------------------------------------------------------


def _tag(value: Any) -> str:
    try:
        text = check_text(value, "tag", max_len=40)
    except Invalid as bad:
        raise ValidationError([Problem("tag", bad.key, dict(bad.params))]) from None
    if not text:
        raise ValidationError([Problem("tag", "invalid.required")])
    return text


def plan(
    store: Store,
    tag: str,
    every: str,
    start: str | date | None = None,
    actor: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """Visit households tagged ``tag`` every ``every``; returns the plan and whether it is new.

    ``start`` (default today) is the day a household never visited is first due.
    """
    from gridtool.issues import now, parse_date
    from gridtool.validate import MAX_YEAR, MIN_YEAR, check_year

    name = _tag(tag)
    n, unit = parse_every(every)
    try:
        first = parse_date(start) if start else now().date()
    except InputError as bad:
        key = "invalid.year_range" if bad.key == "input.year_range" else "order.bad_date"
        params = {"min": MIN_YEAR, "max": MAX_YEAR} if bad.key == "input.year_range" else {}
        raise ValidationError([Problem("start", key, params, str(start))]) from None
    check_year(first, "start")
    with store.transaction(actor=actor) as tx:
        existing = sorted(
            (p for p in tx.store.records("visit_plans").values() if p["tag"] == name), key=_plan_order
        )
        if existing:
            current = existing[0]
            tx.update(
                "visit_plans",
                current["id"],
                {"n": n, "unit": unit, **({"start": first.isoformat()} if start else {})},
            )
            plan_id, created = current["id"], False
        else:
            plan_id = tx.create(
                "visit_plans", {"tag": name, "n": n, "unit": unit, "start": first.isoformat()}
            )
            created = True
    return store.records("visit_plans")[plan_id], created


def unplan(store: Store, tag: str, actor: str | None = None) -> dict[str, Any]:
    """Stop visiting by a tag (a tombstone in the log; visits already logged stay)."""
    name = _tag(tag)
    with store.transaction(actor=actor) as tx:
        found = [p for p in tx.store.records("visit_plans").values() if p["tag"] == name]
        if not found:
            raise NotFound("visit.no_plan", tag=name)
        for p in found:  # after a sync there may be one per laptop
            tx.delete("visit_plans", p["id"])
    return found[0]


def log(
    store: Store,
    household_ref: str,
    note: str | None = None,
    at: datetime | None = None,
    actor: str | None = None,
) -> dict[str, Any]:
    """Record a visit to a household (appended, never edited)."""
    from gridtool.issues import entered_at, iso
    from gridtool.register import household_by_ref

    try:
        text = check_text(note, "note", multiline=True, max_len=MAX_NOTE)
    except Invalid as bad:
        raise ValidationError([Problem("note", bad.key, dict(bad.params))]) from None
    moment = entered_at(at)
    with store.transaction(actor=actor, at=moment) as tx:
        try:
            household = household_by_ref(tx.store, household_ref)
        except NotFound as missing:
            raise ValidationError(
                [Problem("household", "invalid.missing_ref", {"what": missing.message()})]
            ) from None
        record = {"household": household["id"], "at": iso(moment), "note": text, "by": actor or ""}
        visit_id = tx.create("visits", record)
    return store.records("visits")[visit_id]


# -- reading ----------------------------------------------------------------------------------------


def tag_counts(store: Store) -> dict[str, int]:
    """How many households carry each tag, most common first (to tell a typo from a new tag)."""
    counts: dict[str, int] = {}
    for household in store.records("households").values():
        for tag in household.get("tags") or []:
            counts[tag] = counts.get(tag, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def plans(store: Store) -> list[dict[str, Any]]:
    return sorted(store.records("visit_plans").values(), key=_plan_order)


def history(store: Store, household_id: str) -> list[dict[str, Any]]:
    """A household's visits, newest first."""
    found = [v for v in store.records("visits").values() if v["household"] == household_id]
    return sorted(found, key=lambda v: (v["at"], v["id"]), reverse=True)


def last_visits(store: Store, until: date | None = None) -> dict[str, str]:
    """The time of each household's latest visit, on or before the day ``until`` if given.

    A report for a past day must not see visits logged after it, or it hides who was overdue then.
    """
    last: dict[str, str] = {}
    end = until.isoformat() if until else None
    for v in store.records("visits").values():
        if end and v["at"][:10] > end:
            continue
        if v["at"] > last.get(v["household"], ""):
            last[v["household"]] = v["at"]
    return last


def schedule(store: Store, as_of: date | None = None) -> list[dict[str, Any]]:
    """Every household under a plan with its plan, last visit and due date (as of a day, if given:
    visits after it are not counted)."""
    by_tag: dict[str, dict[str, Any]] = {}
    for p in sorted(store.records("visit_plans").values(), key=_plan_order, reverse=True):
        by_tag[p["tag"]] = p  # two laptops that planned one tag: every replica keeps the same one
    if not by_tag:
        return []
    last = last_visits(store, as_of)
    out = []
    for household in store.records("households").values():
        matching = [by_tag[tag] for tag in household.get("tags") or [] if tag in by_tag]
        if not matching:
            continue
        chosen = min(matching, key=_plan_order)
        seen = last.get(household["id"])
        due = due_date(
            date.fromisoformat(seen[:10]) if seen else None,
            date.fromisoformat(chosen["start"]),
            chosen["n"],
            chosen["unit"],
        )
        out.append({"household": household, "plan": chosen, "last_visit": seen, "due": due})
    return out


@dataclass
class VisitListing:
    """Households a visit report lists, and the day it is computed for."""

    kind: str
    as_of: date
    rows: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)


def _listing(
    store: Store, kind: str, as_of: date, limit: date, grid: str | None, show_pii: bool
) -> VisitListing:
    from gridtool.register import address, grid_cell_by_ref, grid_code
    from gridtool.validate import mask_phone

    grid_id = grid_cell_by_ref(store, grid)["id"] if grid else None
    rows = []
    for item in schedule(store, as_of):
        household, chosen, due = item["household"], item["plan"], item["due"]
        if due > limit or (grid_id and household.get("grid_cell") != grid_id):
            continue
        phone = household.get("phone") or ""
        rows.append(
            {
                "household": household["id"],
                "head": household["head"],
                "address": address(store, household),
                "phone": phone if show_pii else mask_phone(phone),
                "grid": grid_code(store, household.get("grid_cell") or ""),
                "tag": chosen["tag"],
                "every": show_every(chosen["n"], chosen["unit"]),
                "last_visit": item["last_visit"] or "",
                "due": due.isoformat(),
                "days_overdue": max((as_of - due).days, 0),
            }
        )
    rows.sort(key=lambda r: (r["due"], r["grid"], r["address"]))
    return VisitListing(kind, as_of, rows)


def _day(as_of: date | datetime | None) -> date:
    from gridtool.issues import now
    from gridtool.validate import check_year

    if as_of is None:
        return now().date()
    day = as_of.date() if isinstance(as_of, datetime) else as_of
    check_year(day, "as_of")
    return day


def due(
    store: Store,
    as_of: date | datetime | None = None,
    within: int | str = 0,
    grid: str | None = None,
    show_pii: bool = False,
) -> VisitListing:
    """Households due for a visit on or before ``within`` days after ``as_of`` (overdue included)."""
    if isinstance(within, str):
        within = parse_within_days(within)
    if within < 0:
        raise ValidationError([Problem("within", "invalid.minimum", {"minimum": 0}, str(within))])
    day = _day(as_of)
    if within > MAX_WITHIN:
        raise ValidationError([Problem("within", "invalid.maximum", {"maximum": MAX_WITHIN}, str(within))])
    listing = _listing(store, "visits_due", day, day + timedelta(days=within), grid, show_pii)
    listing.params["within"] = within
    return listing


def overdue(
    store: Store, as_of: date | datetime | None = None, grid: str | None = None, show_pii: bool = False
) -> VisitListing:
    """Households whose visit was due before ``as_of``'s day."""
    day = _day(as_of)
    return _listing(store, "visits_overdue", day, day - timedelta(days=1), grid, show_pii)


LISTING_COLUMNS = ("due", "days_overdue", "head", "address", "phone", "grid", "tag", "every", "last_visit")


def listing_rows(listing: VisitListing, labels: bool) -> list[dict[str, Any]]:
    from gridtool.issues import show_time

    out = []
    for row in listing.rows:
        flat = {c: row[c] for c in LISTING_COLUMNS}
        if labels:
            flat["last_visit"] = show_time(row["last_visit"]) or t("visit.never")
        else:
            flat["household_id"] = row["household"]
        out.append(flat)
    return out


def listing_json(listing: VisitListing) -> dict[str, Any]:
    """For scripts, named as everywhere: ``household_id`` the household's id (``household`` is a
    name wherever else it appears)."""
    return {
        "report": listing.kind,
        "as_of": listing.as_of.isoformat(),
        "count": len(listing.rows),
        **listing.params,
        "households": [
            {("household_id" if k == "household" else k): v for k, v in row.items()} for row in listing.rows
        ],
    }


def listing_params(listing: VisitListing) -> dict[str, Any]:
    return {"as_of": listing.as_of.isoformat(), "count": len(listing.rows), **listing.params}


def listing_markdown(listing: VisitListing) -> str:
    """A list to paste into the workers' WeChat group."""
    params = listing_params(listing)
    lines = [t(f"visit.md.{listing.kind}.title", **params), ""]
    if not listing.rows:
        lines.append(t(f"report.{listing.kind}.none", **params))
        return "\n".join(lines) + "\n"
    lines.append(t(f"report.{listing.kind}.summary", **params))
    lines.append("")
    for n, row in enumerate(listing.rows, start=1):
        lines.append(
            f"{n}. "
            + t(
                "visit.md.item",
                head=row["head"],
                address=row["address"],
                tag=row["tag"],
                due=row["due"],
                days=row["days_overdue"],
                last=row["last_visit"][:10] or t("visit.never"),
            )
        )
    return "\n".join(lines) + "\n"


def plan_rows(store: Store, found: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    counts = tag_counts(store)
    return [
        {
            "tag": p["tag"],
            "every": show_every(p["n"], p["unit"]),
            "start": p["start"],
            "households": counts.get(p["tag"], 0),
            "id": short(p["id"]),
        }
        for p in found
    ]
