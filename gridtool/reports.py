"""Reports for people and for cron: overdue, due soon, follow-ups owed, and the office's statistics.

Reports only read. Opening the store takes its shared lock just long enough to load a consistent
view, and every report works from the fields cached on issue records (status, due, resolved_at,
rating, rework ...), and reads the events table only for the issues whose timeline moved after
the report's moment, so a report for today over 100,000 issues does not parse their half-million
events.

**Rounding, stated once:** :func:`rate` gives a percentage to one decimal place, rounding half up
(72 of 81 = 88.888… → 88.9; 1 of 8 = 12.5; 1 of 16 = 6.25 → 6.3), and ``None`` (shown as —) when the
denominator is 0. Means and medians use the same :func:`round_half_up`. Every rate carries its
numerator and the name of its denominator (:class:`Rate`):

* resolution rate 办结率 = resolved, visited or closed / received
* on-time rate 按期办结率 = resolved by the deadline in force / resolved, visited or closed
* satisfaction rate 满意率 = latest rating 4–5 / issues rated
* rework rate 返工率 = issues reopened at least once / issues resolved at least once

``stats`` counts the issues *received* (reported) between ``--from`` and ``--to`` inclusive, and
describes where each of them stood at ``--as-of`` (default now).

**The past is rebuilt, not remembered.** Every report takes a moment (``as_of``) and sees each
issue's status, assignee and deadline as its timeline stood then (:func:`gridtool.issues.issues_as_of`):
events after the moment do not exist for it, so a report made again after the month equals the
one made at its end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from gridtool.errors import InputError
from gridtool.i18n import t
from gridtool.issues import DONE, OPEN, issues_as_of, label, show_time
from gridtool.store import Store
from gridtool.workdays import work_time_text

LISTING_GROUPS = ("grid", "assignee", "category")
STATS_GROUPS = ("grid", "category", "assignee", "month")
SATISFIED = 4
"""Ratings from this up count as satisfied (满意)."""


def round_half_up(value: Decimal | int | float, places: int = 1) -> float:
    """The one rounding rule of every report: ``places`` decimals, halves rounded up (away from 0)."""
    exact = value if isinstance(value, Decimal) else Decimal(str(value))
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def rate(n: int, d: int) -> float | None:
    """``n`` of ``d`` as a percentage, one decimal, half up; ``None`` when ``d`` is 0."""
    if d == 0:
        return None
    return round_half_up(Decimal(100 * n) / Decimal(d))


def show_percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


@dataclass(frozen=True)
class Rate:
    """A rate with its parts, so every figure says what it is a share of."""

    key: str
    numerator: int
    denominator: int
    of: str
    """The denominator's name: received, resolved, rated or resolved_ever."""

    @property
    def percent(self) -> float | None:
        return rate(self.numerator, self.denominator)

    def as_dict(self) -> dict[str, Any]:
        return {
            "percent": self.percent,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "of": self.of,
        }

    def text(self) -> str:
        """``88.9% (72/81)``"""
        return f"{show_percent(self.percent)} ({self.numerator}/{self.denominator})"


# -- listings: overdue, due soon, follow-ups --------------------------------------------------------


@dataclass
class Listing:
    """Issues a report lists, with the moment it is computed for and how it is grouped."""

    kind: str
    as_of: datetime
    rows: list[dict[str, Any]]
    group_by: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def groups(self) -> list[tuple[str, list[dict[str, Any]]]]:
        """``(group name, rows)`` in name order; one unnamed group when not grouped."""
        if not self.group_by:
            return [("", self.rows)]
        grouped: dict[str, list[dict[str, Any]]] = {}
        for row in self.rows:
            if self.group_by == "category":
                name = label("category", row["category"])
            else:
                name = row[self.group_by] or t("report.unassigned")
            grouped.setdefault(name, []).append(row)
        return sorted(grouped.items())


def _check_group(group_by: str | None, allowed: Sequence[str]) -> None:
    if group_by and group_by not in allowed:
        raise InputError("report.bad_group", value=group_by, known=", ".join(allowed))


def _grid_filter(store: Store, grid: str | None) -> Callable[[dict[str, Any]], bool]:
    if not grid:
        return lambda issue: True
    from gridtool.register import grid_cell_by_ref

    grid_id = grid_cell_by_ref(store, grid)["id"]
    return lambda issue: issue.get("grid_cell") == grid_id


class _Rows:
    """Builds listing rows with the lookups done once (a listing can hold thousands of issues)."""

    def __init__(self, store: Store, resolved: bool = False) -> None:
        self.grids = {gid: g["code"] for gid, g in store.records("grid_cells").items()}
        self.leads = {lid: lead["name"] for lid, lead in store.records("leads").items()}
        self.households = store.records("households") if resolved else None

    def __call__(self, issue: dict[str, Any]) -> dict[str, Any]:
        assignee = issue.get("assignee") or ""
        if assignee and issue.get("assignee_kind") == "lead":
            assignee = self.leads.get(assignee) or assignee[-8:]
        row = {
            "number": issue.get("number"),
            "id": issue["id"],
            "title": issue.get("title"),
            "status": issue.get("status"),
            "category": issue.get("category"),
            "urgency": issue.get("urgency"),
            "grid": self.grids.get(issue.get("grid_cell") or "", ""),
            "assignee": assignee,
            "reported_at": issue.get("reported_at"),
            "due": issue.get("due"),
        }
        if self.households is not None:  # follow-ups: who to visit, and since when
            household = self.households.get(issue.get("household") or "")
            row["reporter"] = household["head"] if household else ""
            row["resolved_at"] = issue.get("resolved_at")
        return row


def overdue(
    store: Store, as_of: datetime | None = None, grid: str | None = None, group_by: str | None = None
) -> Listing:
    """Open issues past their deadline at ``as_of`` (default now), most overdue first."""
    from gridtool.issues import now
    from gridtool.workdays import workdays_between

    _check_group(group_by, LISTING_GROUPS)
    moment = as_of or now()
    cutoff = moment.isoformat(timespec="seconds")
    keep = _grid_filter(store, grid)
    found = [
        issue
        for issue in issues_as_of(store, moment)
        if issue["status"] in OPEN and (issue["due"] or "9") < cutoff and keep(issue)
    ]
    found.sort(key=lambda i: (i["due"], i.get("number") or ""))
    make = _Rows(store)
    rows = []
    for issue in found:
        row = make(issue)
        row["overdue_workdays"] = workdays_between(_from_iso(issue["due"]), moment)
        rows.append(row)
    return Listing("overdue", moment, rows, group_by)


MAX_WITHIN_DAYS = 3_650
"""``--within`` looks ahead at most ten years."""


def parse_within(text: str) -> float:
    """Working hours in ``1d`` (or ``1``: a working day's office hours), ``8h``, ``1.5d``."""
    from gridtool.durations import parse_span
    from gridtool.workdays import work_hours

    span = parse_span(text, "dh")
    if span is None or span[0] <= 0:
        raise InputError("report.bad_within", value=text)
    amount, unit = span
    if (amount if unit == "d" else amount / 24) > MAX_WITHIN_DAYS:
        raise InputError("input.within_too_long", value=text, max=MAX_WITHIN_DAYS)
    return amount * work_hours().day / 3600 if unit == "d" else amount


def due_soon(
    store: Store,
    within: str = "1d",
    as_of: datetime | None = None,
    grid: str | None = None,
    group_by: str | None = None,
) -> Listing:
    """Open issues not yet overdue whose deadline falls within ``within`` working time of ``as_of``."""
    from gridtool.issues import now
    from gridtool.workdays import add_work_hours, work_seconds_between

    _check_group(group_by, LISTING_GROUPS)
    hours = parse_within(within)
    moment = as_of or now()
    start = moment.isoformat(timespec="seconds")
    end = add_work_hours(moment, hours).isoformat(timespec="seconds")
    keep = _grid_filter(store, grid)
    found = [
        issue
        for issue in issues_as_of(store, moment)
        if issue["status"] in OPEN and start <= (issue["due"] or "") <= end and keep(issue)
    ]
    found.sort(key=lambda i: (i["due"], i.get("number") or ""))
    make = _Rows(store)
    rows = []
    for issue in found:
        row = make(issue)
        left = work_seconds_between(moment, _from_iso(issue["due"])) / 3600
        row["hours_left"] = round_half_up(left)
        rows.append(row)
    return Listing("due_soon", moment, rows, group_by, {"within": within, "hours": hours})


def followups(
    store: Store,
    after: int = 3,
    as_of: datetime | None = None,
    grid: str | None = None,
    group_by: str | None = None,
) -> Listing:
    """Resolved issues still without a follow-up visit ``after`` working days or more after resolving."""
    from gridtool.issues import now
    from gridtool.workdays import workdays_between

    _check_group(group_by, LISTING_GROUPS)
    if after < 0:
        raise InputError("report.bad_after", value=after)
    moment = as_of or now()
    keep = _grid_filter(store, grid)
    make = _Rows(store, resolved=True)
    rows = []
    for issue in issues_as_of(store, moment):
        if issue.get("status") != "resolved" or not issue.get("resolved_at") or not keep(issue):
            continue
        waited = workdays_between(_from_iso(issue["resolved_at"]), moment)
        if waited >= after:
            row = make(issue)
            row["waiting_workdays"] = waited
            rows.append(row)
    rows.sort(key=lambda r: (r["resolved_at"], r["number"] or ""))
    return Listing("followups", moment, rows, group_by, {"after": after})


LISTING_COLUMNS = {
    "overdue": ("number", "title", "category", "grid", "assignee", "due", "overdue_workdays", "status"),
    "due_soon": ("number", "title", "category", "grid", "assignee", "due", "hours_left", "status"),
    "followups": ("number", "title", "grid", "reporter", "assignee", "resolved_at", "waiting_workdays"),
}


def listing_rows(
    listing: Listing, labels: bool, rows: Sequence[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Flat rows: translated values for a table, stable ids (and a group column) for CSV."""
    columns = LISTING_COLUMNS[listing.kind]
    groups = [("", list(rows))] if rows is not None else listing.groups()
    out = []
    for group, members in groups:
        for row in members:
            flat: dict[str, Any] = (
                {"group": group} if listing.group_by and not labels and rows is None else {}
            )
            for c in columns:
                value = row.get(c)
                if labels:
                    if c in ("category", "status"):
                        value = label(c, value)
                    elif c in ("due", "resolved_at"):
                        value = show_time(value)
                    elif c == "hours_left":
                        value = work_time_text(value)
                flat[c] = value
            out.append(flat)
    return out


def listing_json(listing: Listing) -> dict[str, Any]:
    """What a script reads: the moment, the count, and whole rows (in groups when grouped)."""
    data: dict[str, Any] = {
        "report": listing.kind,
        "as_of": listing.as_of.isoformat(timespec="seconds"),
        "count": len(listing.rows),
        **{k: v for k, v in listing.params.items()},
    }
    if listing.group_by:
        data["group_by"] = listing.group_by
        data["groups"] = [
            {"name": name, "count": len(rows), "issues": rows} for name, rows in listing.groups()
        ]
    else:
        data["issues"] = listing.rows
    return data


def listing_params(listing: Listing) -> dict[str, Any]:
    """What a listing's headings say: the moment, the count, and its window in words."""
    params: dict[str, Any] = {"as_of": listing.as_of.strftime("%Y-%m-%d %H:%M"), "count": len(listing.rows)}
    params["after"] = listing.params.get("after", "")
    within = str(listing.params.get("within", ""))
    if within:
        from gridtool.durations import parse_span

        span = parse_span(within, "dh")
        unit = "hours" if span and span[1] == "h" else "days"
        params["span"] = t(f"report.span.{unit}", n=f"{span[0]:g}" if span else within)
    return params


def listing_markdown(listing: Listing) -> str:
    """Text to paste into a WeChat group or a meeting note (reads as plain text, renders as Markdown)."""
    kind = listing.kind
    params = listing_params(listing)
    lines = [t(f"report.md.{kind}.title", **params), ""]
    if not listing.rows:
        lines.append(t(f"report.md.{kind}.none", **params))
        return "\n".join(lines) + "\n"
    lines.append(t(f"report.md.{kind}.summary", **params))
    for name, rows in listing.groups():
        lines.append("")
        if name:
            lines.append(t("report.md.group", name=name, count=len(rows)))
            lines.append("")
        for n, row in enumerate(rows, start=1):
            lines.append(f"{n}. " + _md_item(kind, row))
    return "\n".join(lines) + "\n"


def _md_item(kind: str, row: dict[str, Any]) -> str:
    common = {
        "number": row["number"],
        "title": row["title"],
        "category": label("category", row["category"]),
        "grid": row["grid"] or "—",
        "assignee": row["assignee"] or t("report.unassigned"),
        "reporter": row.get("reporter") or "—",
        "due": show_time(row["due"]),
    }
    if kind == "overdue":
        days = row["overdue_workdays"]
        return t("report.md.overdue.item", days=days if days > 0 else "<1", **common)
    if kind == "due_soon":
        left = work_time_text(row["hours_left"])
        return t("report.md.due_soon.item", hours=row["hours_left"], left=left, **common)
    return t(
        "report.md.followups.item",
        resolved=show_time(row["resolved_at"]),
        days=row["waiting_workdays"],
        **common,
    )


# -- statistics -------------------------------------------------------------------------------------


def workdays_through(first: date, last: date) -> dict[str, int]:
    """For each day from ``first`` to ``last`` (``2026-06-01``), the working days up to and including it.

    The difference between two days' counts is :func:`gridtool.workdays.workdays_between` (the
    first day not counted, as deadlines count: resolved on the third working day after = 3); built
    once per report, so 100,000 issues cost two lookups each rather than two calendar calls.
    """
    from gridtool.workdays import is_workday

    counts: dict[str, int] = {}
    n = 0
    for ordinal in range(first.toordinal(), last.toordinal() + 1):
        day = date.fromordinal(ordinal)
        n += is_workday(day)
        counts[day.isoformat()] = n
    return counts


_from_iso = datetime.fromisoformat


@dataclass
class Metrics:
    """The figures of one group of issues (or of all of them)."""

    name: str
    received: int = 0
    resolved: int = 0
    open: int = 0
    rejected: int = 0
    on_time: int = 0
    rated: int = 0
    satisfied: int = 0
    rating_sum: int = 0
    resolved_ever: int = 0
    reworked: int = 0
    days: list[int] = field(default_factory=list)
    """Working days each issue resolved now took (see :func:`workdays_through`)."""

    @classmethod
    def of(cls, name: str, issues: Sequence[dict[str, Any]], workdays_through: dict[str, int]) -> Metrics:
        """Count one group in a single pass (a group can be 100,000 issues).

        ``workdays_through`` maps a day (``2026-06-01``) to the working days up to and including it.
        """
        resolved = on_time = open_ = rejected = rated = satisfied = rating_sum = resolved_ever = reworked = 0
        days: list[int] = []
        for i in issues:  # locals, not attributes: this loop is most of the report's time
            status = i["status"]
            if status in DONE:
                resolved += 1
                if i["resolved_at"] <= i["due"]:
                    on_time += 1
                days.append(workdays_through[i["resolved_at"][:10]] - workdays_through[i["reported_at"][:10]])
            elif status in OPEN:
                open_ += 1
            elif status == "rejected":
                rejected += 1
            rating = i["rating"]
            if rating is not None:
                rated += 1
                rating_sum += rating
                if rating >= SATISFIED:
                    satisfied += 1
            if i["rework"] or i["resolved_at"]:  # reopened issues were resolved once (rework > 0)
                resolved_ever += 1
                if i["rework"]:
                    reworked += 1
        return cls(
            name,
            received=len(issues),
            resolved=resolved,
            open=open_,
            rejected=rejected,
            on_time=on_time,
            rated=rated,
            satisfied=satisfied,
            rating_sum=rating_sum,
            resolved_ever=resolved_ever,
            reworked=reworked,
            days=days,
        )

    @classmethod
    def merged(cls, name: str, parts: Sequence[Metrics]) -> Metrics:
        """The figures of several groups together (the total row, without counting twice)."""
        m = cls(name)
        for part in parts:
            for key in ("received", "resolved", "open", "rejected", "on_time", "rated", "satisfied"):
                setattr(m, key, getattr(m, key) + getattr(part, key))
            m.rating_sum += part.rating_sum
            m.resolved_ever += part.resolved_ever
            m.reworked += part.reworked
            m.days.extend(part.days)
        return m

    def rates(self) -> dict[str, Rate]:
        return {
            "resolution_rate": Rate("resolution_rate", self.resolved, self.received, "received"),
            "on_time_rate": Rate("on_time_rate", self.on_time, self.resolved, "resolved"),
            "satisfaction_rate": Rate("satisfaction_rate", self.satisfied, self.rated, "rated"),
            "rework_rate": Rate("rework_rate", self.reworked, self.resolved_ever, "resolved_ever"),
        }

    @property
    def median_workdays(self) -> float | None:
        """Median working days from report to resolution, over the issues resolved now."""
        if not self.days:
            return None
        ordered = sorted(self.days)
        middle = len(ordered) // 2
        if len(ordered) % 2:
            return round_half_up(ordered[middle])
        return round_half_up(Decimal(ordered[middle - 1] + ordered[middle]) / 2)

    @property
    def mean_rating(self) -> float | None:
        if not self.rated:
            return None
        return round_half_up(Decimal(self.rating_sum) / Decimal(self.rated))

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "received": self.received,
            "resolved": self.resolved,
            "open": self.open,
            "rejected": self.rejected,
            "on_time": self.on_time,
            "rated": self.rated,
            "satisfied": self.satisfied,
            "resolved_ever": self.resolved_ever,
            "reworked": self.reworked,
            "median_workdays_to_resolve": self.median_workdays,
            "mean_rating": self.mean_rating,
            **{key: r.as_dict() for key, r in self.rates().items()},
        }


@dataclass
class Stats:
    start: date
    end: date
    by: str | None
    total: Metrics
    groups: list[Metrics]
    as_of: datetime | None = None


def stats(
    store: Store,
    start: date,
    end: date,
    by: str | None = None,
    grid: str | None = None,
    as_of: datetime | None = None,
) -> Stats:
    """The office's figures for the issues received from ``start`` to ``end`` (both included), each
    described as it stood at ``as_of`` (default now): a month's report made again later is the same."""
    from gridtool.issues import now

    _check_group(by, STATS_GROUPS)
    if end < start:
        raise InputError("report.bad_period", start=start.isoformat(), end=end.isoformat())
    moment = as_of or now()
    lo, hi = start.isoformat(), end.isoformat() + "T99"
    cohort = [i for i in issues_as_of(store, moment) if lo <= i["reported_at"] <= hi]
    if grid:
        keep = _grid_filter(store, grid)
        cohort = [i for i in cohort if keep(i)]
    # issues are resolved by a day from now at the latest: an event is never entered further ahead
    through = workdays_through(start, max(end, date.today()) + timedelta(days=2))
    raw: dict[Any, list[dict[str, Any]]] = {}
    if by:  # group on the stored value first (cheap), name the groups afterwards
        field = {"grid": "grid_cell", "category": "category", "assignee": "assignee"}.get(by)
        for issue in cohort:
            key = issue[field] if field else issue["reported_at"][:7]
            members = raw.get(key)
            if members is None:
                raw[key] = [issue]
            else:
                members.append(issue)
    grids = store.records("grid_cells")
    leads = store.records("leads")

    def shown(key: Any) -> str:
        if by == "grid":
            return grids[key]["code"] if key in grids else "—"
        if by == "category":
            return label("category", key)
        if by == "assignee" and key in leads:
            return leads[key]["name"]
        return key or t("report.unassigned")

    groups: dict[str, list[dict[str, Any]]] = {}
    for key, members in raw.items():  # two leads of one name, or a team named like a lead, share a row
        groups.setdefault(shown(key), []).extend(members)

    try:
        metrics = [Metrics.of(name, members, through) for name, members in groups.items()]
        total = (
            Metrics.merged(t("report.total"), metrics)
            if by
            else Metrics.of(t("report.total"), cohort, through)
        )
    except KeyError:  # resolved beyond the table (a laptop with its clock ahead synced them): widen it
        last = max(i["resolved_at"] for i in cohort if i["resolved_at"])
        through = workdays_through(start, date.fromisoformat(last[:10]))
        metrics = [Metrics.of(name, members, through) for name, members in groups.items()]
        total = (
            Metrics.merged(t("report.total"), metrics)
            if by
            else Metrics.of(t("report.total"), cohort, through)
        )
    return Stats(start, end, by, total, sorted(metrics, key=lambda m: m.name), moment)


STATS_COLUMNS = (
    "group",
    "received",
    "resolved",
    "resolution_rate",
    "on_time_rate",
    "median_workdays_to_resolve",
    "mean_rating",
    "satisfaction_rate",
    "rework_rate",
)


def stats_rows(report: Stats, labels: bool) -> list[dict[str, Any]]:
    """One row per group and a total row; a table shows ``88.9% (72/81)``, CSV the parts apart."""
    out = []
    for metrics in [*report.groups, report.total]:
        d = metrics.as_dict()
        row: dict[str, Any] = {
            "group": metrics.name,
            "received": metrics.received,
            "resolved": metrics.resolved,
        }
        rates = metrics.rates()
        for key in ("resolution_rate", "on_time_rate"):
            row[key] = rates[key].text() if labels else rates[key].percent
        row["median_workdays_to_resolve"] = (
            _dash(d["median_workdays_to_resolve"]) if labels else d["median_workdays_to_resolve"]
        )
        row["mean_rating"] = _dash(d["mean_rating"]) if labels else d["mean_rating"]
        for key in ("satisfaction_rate", "rework_rate"):
            row[key] = rates[key].text() if labels else rates[key].percent
        if not labels:
            row.update(
                open=metrics.open,
                rejected=metrics.rejected,
                on_time=metrics.on_time,
                rated=metrics.rated,
                satisfied=metrics.satisfied,
                resolved_ever=metrics.resolved_ever,
                reworked=metrics.reworked,
            )
        out.append(row)
    return out


def _dash(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def definitions() -> list[str]:
    """How each figure is computed, in the user's language (printed under tables and reports)."""
    return [
        t(f"report.def.{key}")
        for key in ("period", "resolution", "on_time", "days", "satisfaction", "rework")
    ] + [t("report.def.rounding")]


def stats_json(report: Stats) -> dict[str, Any]:
    return {
        "report": "stats",
        "from": report.start.isoformat(),
        "to": report.end.isoformat(),
        "as_of": report.as_of.isoformat(timespec="seconds") if report.as_of else None,
        "by": report.by,
        "rounding": "percent to one decimal place, half up; null when the denominator is 0",
        "denominators": {
            "resolution_rate": "received",
            "on_time_rate": "resolved (resolved, visited or closed)",
            "satisfaction_rate": "rated (issues with a follow-up rating)",
            "rework_rate": "resolved_ever (issues resolved at least once)",
        },
        "total": {k: v for k, v in report.total.as_dict().items() if k != "name"},
        "groups": [m.as_dict() for m in report.groups],
    }


def stats_markdown(report: Stats) -> str:
    """The figures as a short Chinese (or English) text for a WeChat group or a meeting note."""
    lines = [t("report.md.stats.title", start=report.start.isoformat(), end=report.end.isoformat()), ""]
    lines += _md_metrics(report.total)
    if report.groups:
        lines += ["", t(f"report.md.stats.by.{report.by}"), ""]
        for m in report.groups:
            r = m.rates()
            lines.append(
                "- "
                + t(
                    "report.md.stats.group",
                    name=m.name,
                    received=m.received,
                    resolved=m.resolved,
                    resolution=show_percent(r["resolution_rate"].percent),
                    on_time=show_percent(r["on_time_rate"].percent),
                    satisfaction=show_percent(r["satisfaction_rate"].percent),
                )
            )
    lines += ["", t("report.md.definitions"), ""]
    lines += [f"- {line}" for line in definitions()]
    return "\n".join(lines) + "\n"


def _md_metrics(m: Metrics) -> list[str]:
    r = m.rates()
    return [
        "- "
        + t(
            "report.md.stats.resolution",
            received=m.received,
            resolved=m.resolved,
            rate=show_percent(r["resolution_rate"].percent),
        ),
        "- "
        + t(
            "report.md.stats.on_time",
            on_time=m.on_time,
            resolved=m.resolved,
            rate=show_percent(r["on_time_rate"].percent),
        ),
        "- " + t("report.md.stats.days", days=_dash(m.median_workdays)),
        "- "
        + t(
            "report.md.stats.satisfaction",
            rated=m.rated,
            mean=_dash(m.mean_rating),
            satisfied=m.satisfied,
            rate=show_percent(r["satisfaction_rate"].percent),
        ),
        "- "
        + t(
            "report.md.stats.rework",
            reworked=m.reworked,
            resolved_ever=m.resolved_ever,
            rate=show_percent(r["rework_rate"].percent),
        ),
    ]
