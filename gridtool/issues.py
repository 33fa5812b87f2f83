"""Residents' issues (诉求) from report to follow-up: numbers, the event timeline, the state machine.

Why it is shaped this way:

* **Events are the truth.** Every command appends one ``events`` record (issue, type, at, actor,
  from, to, payload) and never edits it. An issue's status is :func:`fold` of its events in
  ``(at, id)`` order (ids are ULIDs that count up within a millisecond, so two events entered in
  the same second keep their order). The ``issues`` record caches what the fold gives
  (:data:`CACHE_FIELDS`) beside the facts lists need (number, title, category, urgency, scale,
  household, grid cell), so lists and reports never read the much bigger events table. The rest of
  what was reported (description, channel, the time limit applied) stays in the ``report`` event:
  every field of a row costs ~30 ms per 100,000 issues to parse, for every report. A command writes
  the event and the new cache in one transaction, after validating everything: a refused command
  writes nothing.
* **One transition table.** :data:`TRANSITIONS` says which action is allowed from which status and
  where it leads; the error message, the CLI and the tests all read it.
* **Numbers** (``2026-000123``: the year of the report and a counter) are allocated inside the write
  transaction as the year's highest number in this store + 1, so concurrent shells on one laptop
  never share one (the store's lock serialises them). Identity is the ULID ``id`` kept beside the
  number. We did not put a replica code into the number: workers read numbers out over the phone and
  copy them into paper ledgers, where ``2026-000123`` works and ``2026-7KQ-000123`` does not. The
  price: after a sync two laptops may both have a ``2026-000123``; a lookup by number that matches
  more than one issue is refused and asks for the id (or its last 8 characters), never guesses.

Datetimes are naive local time stored as ISO strings to the second (``2026-07-03T09:00:00``), so
comparing two of them as strings compares the moments; reports rely on that for speed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gridtool.errors import InputError, NotFound, Problem, TransitionError, ValidationError
from gridtool.i18n import labelled_ids, t
from gridtool.ids import SHORT_LEN, new_id, short

# The ``X as X`` names are re-exported: commands, reports, visits and tests call them ``issues.X``.
from gridtool.moments import END_OF_DAY as END_OF_DAY
from gridtool.moments import check_moment, iso, now, parse_when, show_time
from gridtool.moments import entered_at as entered_at
from gridtool.moments import parse_date as parse_date
from gridtool.register import count_dependents
from gridtool.store import Store, Transaction
from gridtool.sync.conflicts import register_value_check
from gridtool.sync.derived import register_refold
from gridtool.validate import FREE_TEXT_FIELDS, Invalid, check_text

if TYPE_CHECKING:
    from gridtool.sla import SlaTable

CHANNELS = ("walk-in", "phone", "wechat", "suggestion-box", "patrol", "12345")
"""How an issue reached the office: 来访, 电话, 微信群, 意见箱, 巡查, 12345 hotline."""

STATUSES = (
    "reported",
    "assigned",
    "accepted",
    "escalated",
    "resolved",
    "visited",
    "reopened",
    "closed",
    "rejected",
)
OPEN = frozenset({"reported", "assigned", "accepted", "escalated", "reopened"})
"""Someone still has to act: these have a running deadline and a countdown colour."""
DONE = frozenset({"resolved", "visited", "closed"})
"""Counted as resolved (办结) by the reports."""
LIVE = frozenset(STATUSES) - {"closed", "rejected"}
"""Statuses of issues that still hold on to their household and assignee (removal is refused)."""

LOW_RATING = 2
"""A follow-up rating at or below this reopens the issue as rework."""
MAX_TEXT = 200
MAX_LONG_TEXT = 2000


@dataclass(frozen=True)
class Transition:
    """Where an action may start and where it leads (``None``: the status does not change)."""

    sources: frozenset[str]
    target: str | None


TRANSITIONS: dict[str, Transition] = {
    "report": Transition(frozenset(), "reported"),  # creates the issue (群众点单)
    "assign": Transition(frozenset({"reported"}), "assigned"),  # 分单
    "accept": Transition(frozenset({"assigned", "escalated", "reopened"}), "accepted"),  # 接单
    "escalate": Transition(frozenset({"reported", "assigned", "accepted", "reopened"}), "escalated"),
    "reassign": Transition(frozenset({"assigned", "accepted", "escalated", "reopened"}), "assigned"),
    "extend": Transition(OPEN, None),
    "note": Transition(frozenset(STATUSES), None),
    "resolve": Transition(frozenset({"accepted", "escalated"}), "resolved"),  # 办结
    "visit": Transition(frozenset({"resolved"}), "visited"),  # 回访/评单; rating <= 2 -> reopened
    "reopen": Transition(frozenset({"resolved", "visited", "closed"}), "reopened"),  # rework
    "reject": Transition(
        frozenset({"reported", "assigned", "accepted", "escalated", "reopened"}), "rejected"
    ),
    "close": Transition(frozenset({"visited"}), "closed"),
}
"""The state machine. ``visit`` with a rating of 1–2 goes to ``reopened`` instead (see :func:`target`);
``reopen`` and such a visit count as rework and start a fresh deadline."""

ACTIONS = tuple(TRANSITIONS)
COMMANDS = tuple(a for a in ACTIONS if a != "report")
"""Actions a command applies to an existing issue (``report`` is ``issue new``)."""

CACHE_FIELDS = (
    "status",
    "reported_at",
    "assignee",
    "assignee_kind",
    "due",
    "window_start",
    "resolved_at",
    "rating",
    "rework",
    "last_event_at",
)
"""Fields of an issue record that :func:`fold` derives from its events. ``window_start`` is when the
running deadline's clock started if not at the report (after a reopening), else null."""


def target(action: str, status: str | None, payload: dict[str, Any]) -> str:
    """The status after ``action``: the table's target, the same status, or reopened on a low rating."""
    if action == "visit" and int(payload.get("rating") or 0) <= LOW_RATING:
        return "reopened"
    to = TRANSITIONS[action].target
    return to if to is not None else str(status)


def reworks(action: str, status: str | None, payload: dict[str, Any]) -> bool:
    """Whether ``action`` sends the issue back for rework (a reopening, a visit rated 1-2): a new
    round with a fresh deadline. A note or an extension on a reopened issue is no new round."""
    return status != "reopened" and target(action, status, payload) == "reopened"


def allowed_actions(status: str | None) -> list[str]:
    """Actions allowed from ``status``, in the table's order (what the refusal message lists)."""
    if status is None:
        return ["report"]
    return [a for a, tr in TRANSITIONS.items() if status in tr.sources]


def label(kind: str, value: str | None) -> str:
    """A status, action, channel, category... in the user's language (an unknown id as is)."""
    from gridtool.sla import label as sla_label

    return "" if value is None else sla_label(kind, value)


# -- time -------------------------------------------------------------------------------------------

# -- numbers ----------------------------------------------------------------------------------------

_NUMBER = re.compile(r"\s*(\d{4})-(\d{1,7})\s*\Z")


def format_number(year: int, counter: int) -> str:
    return f"{year}-{counter:06d}"


def number_key(number: str) -> tuple[int, int]:
    """Sort key of an issue number (``2026-1000000`` sorts after ``2026-999999``)."""
    year, _, counter = number.partition("-")
    return int(year), int(counter)


class NumberAllocator:
    """Hands out the next number per year: the store's highest + 1, scanned once per transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._last: dict[int, int] | None = None

    def next(self, year: int) -> str:
        last = self._scanned()
        counter = last.get(year, 0) + 1
        last[year] = counter
        return format_number(year, counter)

    def reserve(self, number: str) -> None:
        """A number given elsewhere (a ledger row names it): ``next`` hands out only later ones."""
        last = self._scanned()
        year, counter = number_key(number)
        last[year] = max(last.get(year, 0), counter)

    def _scanned(self) -> dict[int, int]:
        if self._last is None:
            last: dict[int, int] = {}
            for record in self.store.records("issues").values():
                number = record.get("number")
                if number:
                    y, c = number_key(number)
                    if c > last.get(y, 0):
                        last[y] = c
            self._last = last
        return self._last


def _number_index(store: Store) -> Any:
    return store.index("issues", "number", lambda r: (r.get("number"),))


def issue_by_ref(store: Store, ref: str) -> dict[str, Any]:
    """An issue by number (``2026-000123`` or ``2026-123``), by id, or by the id's last characters."""
    text = str(ref).strip()
    m = _NUMBER.match(text)
    records = store.records("issues")
    if m:
        number = format_number(int(m.group(1)), int(m.group(2)))
        ids = sorted(_number_index(store).lookup(number))
        if len(ids) == 1:
            return records[ids[0]]
        if len(ids) > 1:
            raise NotFound(
                "issue.ambiguous_number",
                number=number,
                count=len(ids),
                candidates=", ".join(f"{short(i)} {records[i].get('title', '')}" for i in ids),
                length=SHORT_LEN,
            )
        raise NotFound("error.not_found", table="issues", ref=text)
    return records[store.resolve("issues", text)]


# -- folding events into the cached state -----------------------------------------------------------


def event_order(event: dict[str, Any]) -> tuple[str, str]:
    """The order of a timeline: time, then id (ULIDs sort in the order they were made)."""
    return (event["at"], event.get("id", ""))


def apply_event(state: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """The cached fields after one more event; :class:`TransitionError` if the table forbids it."""
    action = event["type"]
    status = state.get("status")
    tr = TRANSITIONS.get(action)
    if (
        tr is None
        or (action == "report") != (status is None)
        or (status is not None and status not in tr.sources)
    ):
        raise TransitionError(
            "issue.not_allowed",
            number=state.get("number") or "?",
            status=label("status", status) if status else "—",
            action=label("action", action),
            allowed=allowed_text(status),
        )
    payload = event.get("payload") or {}
    at = event["at"]
    new = dict(state)
    new["last_event_at"] = at
    if action == "report":
        new.update(
            reported_at=at,
            window_start=None,
            due=payload["due"],
            assignee=None,
            assignee_kind=None,
            resolved_at=None,
            rating=None,
            rework=0,
        )
    elif action in ("assign", "reassign", "escalate"):
        new.update(assignee=payload["assignee"], assignee_kind=payload["assignee_kind"])
        if payload.get("due"):
            new["due"] = payload["due"]
    elif action == "extend":
        new["due"] = payload["due"]
    elif action == "resolve":
        new["resolved_at"] = at
    elif action == "visit":
        new["rating"] = int(payload["rating"])
    new["status"] = target(action, status, payload)
    if reworks(action, status, payload):
        new["resolved_at"] = None  # not resolved now; the earlier resolution stays in the timeline
        new["rework"] = int(state.get("rework") or 0) + 1
        new["window_start"] = at
        new["due"] = payload["due"]
    return new


CONCURRENT_AS = {"assign": "reassign"}
"""How a lenient :func:`fold` reads an action the table forbids because another laptop acted first:
two laptops that assigned one reported issue apart made two assignments, and the later one is
current, as if it had been a reassignment."""


def fold(events: Iterable[dict[str, Any]], strict: bool = True) -> dict[str, Any]:
    """The cached fields of an issue from its events, in timeline order.

    With ``strict=False`` an event the table forbids (two laptops that acted on the same issue
    before a sync) is read as :data:`CONCURRENT_AS` says, or else skipped (only its time counts, as
    the last event's) and its id listed under ``conflicts``, instead of raising. The result
    depends only on the events, so every laptop holding them caches the same fields (see
    :class:`ImportRefold`).
    """
    state: dict[str, Any] = {}
    conflicts: list[str] = []
    for event in sorted(events, key=event_order):
        try:
            state = apply_event(state, event)
        except TransitionError:
            if strict:
                raise
            alias = CONCURRENT_AS.get(event["type"])
            if alias is not None and state.get("status") in TRANSITIONS[alias].sources:
                state = apply_event(state, {**event, "type": alias})
            else:
                conflicts.append(event.get("id", ""))
                if state.get("status"):  # it happened, though it changed nothing: the last event
                    state = {**state, "last_event_at": max(state["last_event_at"], event["at"])}
    if conflicts:
        state["conflicts"] = conflicts
    return state


def state_at(
    events: Iterable[dict[str, Any]], moment: datetime | str, strict: bool = False
) -> dict[str, Any]:
    """The cached fields of an issue as they stood at ``moment``: :func:`fold` of the events up to
    it (included). Empty when the issue was not yet reported then.

    Events after the moment do not exist for the answer, so a report for a past day is the report
    a store would have given that day. Lenient by default, as a report must not fail on a timeline
    two laptops wrote into before they synced.
    """
    cutoff = iso(moment) if isinstance(moment, datetime) else str(moment)
    return fold((e for e in events if e["at"] <= cutoff), strict=strict)


def issues_as_of(store: Store, moment: datetime | None = None) -> list[dict[str, Any]]:
    """Every issue as it stood at ``moment`` (default: as cached now), later issues left out.

    An issue whose last event is at or before the moment is its cached record; only those with
    events after it are folded again from their timeline, so a report for today costs no event
    reads and one for last month reads only the timelines that moved since.
    """
    records = store.records("issues").values()
    if moment is None:
        return list(records)
    cutoff = iso(moment)
    out: list[dict[str, Any]] = []
    later: list[dict[str, Any]] = []
    for issue in records:
        if (issue.get("last_event_at") or "") <= cutoff and issue.get("reported_at"):
            out.append(issue)
        elif (issue.get("reported_at") or "") <= cutoff:
            later.append(issue)
    if later:
        events = store.records("events")
        by_issue = store.index("events", "issue", lambda e: (e.get("issue"),))
        for issue in later:
            state = state_at((events[i] for i in by_issue.lookup(issue["id"])), cutoff)
            if state.get("status"):
                state.pop("conflicts", None)
                out.append({**issue, **cache_of(state)})
    return out


def cache_of(record: dict[str, Any]) -> dict[str, Any]:
    return {f: record.get(f) for f in CACHE_FIELDS}


_CACHED = frozenset(CACHE_FIELDS)


class ImportRefold:
    """Make each issue an import touched show its whole timeline folded, in the import's transaction.

    The merge takes each cached field from the operation with the highest hybrid clock, so two
    laptops that acted on one issue apart (one resolved it, the other reassigned it) can leave a mix
    no timeline gives. Events only append, so the timeline holds both actions; its lenient
    :func:`fold` is the same on every laptop that holds the same events. What differs from the view
    is written as this laptop's own update (nothing when they agree, the usual case), which syncs
    like any edit: equal values written on two laptops never conflict.

    An issue this import brings whole, record and every event from one laptop (most of a first
    sync), is that laptop's own cache of its own timeline: it is not folded again; nor is one whose
    title or description alone changed (so such an import never reads the big events table). The
    adopted operations are seen a batch at a time: only what each issue needs is kept.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.touched: dict[str, str] = {}  # issue id -> the one laptop whose operations came ("": several)
        self.born: set[str] = set()  # issues this import creates
        self.arrived: dict[str, int] = {}  # new events by issue
        self.only_new_events = True  # no event was changed or removed (gridtool never does either)

    def see(self, adopted: list[dict[str, Any]]) -> None:
        touched, arrived = self.touched, self.arrived
        for op in adopted:
            table = op["t"]
            if table == "events":
                new = op.get("set")
                issue = new.get("issue") if new is not None and not op.get("pred") else None
                if issue is None:
                    self.only_new_events = False
                    issue = self._issue_of_event(op["r"]) or (new or {}).get("issue")
                    if isinstance(issue, str):
                        touched[issue] = ""
                    continue
                arrived[issue] = arrived.get(issue, 0) + 1
            elif table == "issues":
                issue = op["r"]
                written = op.get("set")
                if written is not None and "eff" not in op and _CACHED.isdisjoint(written):
                    continue  # a title or a description: nothing the timeline decides
                if not op.get("pred") and written is not None:
                    self.born.add(issue)
            else:
                continue
            origin = op["id"][0]
            if touched.setdefault(issue, origin) != origin:
                touched[issue] = ""

    def _issue_of_event(self, event_id: str) -> Any:
        return (self.store.records("events").get(event_id) or {}).get("issue")

    def finish(self, tx: Transaction) -> None:
        store = tx.store
        if not self.touched:
            return
        records = store.records("issues")
        events = store.records("events")
        # Every event here came with this import (a first sync): none waited for its issue to arrive.
        all_new = self.only_new_events and len(events) == sum(self.arrived.values())
        by_issue = store.index("events", "issue", lambda e: (e.get("issue"),))
        for issue_id, origin in self.touched.items():
            if issue_id not in records:
                continue
            if (
                origin
                and issue_id in self.born
                and (all_new or len(by_issue.lookup(issue_id)) == self.arrived.get(issue_id, 0))
            ):
                continue  # one laptop's issue with its whole timeline: that laptop's cache of its fold
            try:
                state = fold((events[e] for e in by_issue.lookup(issue_id)), strict=False)
            except (KeyError, TypeError, ValueError):
                continue  # a timeline this version cannot read: shown as merged, on every laptop alike
            if state.get("status"):  # else its report has not arrived yet
                tx.update("issues", issue_id, cache_of(state))


def allowed_text(status: str | None) -> str:
    actions = [a for a in allowed_actions(status) if a != "report"]
    return (
        t("issue.list_sep").join(
            t("issue.allowed_item", command=a, label=label("action", a)) for a in actions
        )
        or "—"
    )


# -- validating input -------------------------------------------------------------------------------


def _problems_or_raise(problems: list[Problem]) -> None:
    if problems:
        raise ValidationError(problems)


def _max_extension(issue: dict[str, Any]) -> int:
    """The most working days one extension may add: the issue's row of the SLA table says."""
    from gridtool.sla import DEFAULT_MAX_EXTENSION, load_sla

    try:
        return (
            load_sla()
            .limit(issue.get("category", ""), issue.get("urgency", ""), issue.get("scale"))
            .max_extension
        )
    except (InputError, KeyError):  # a category the table no longer has
        return DEFAULT_MAX_EXTENSION


def _text(
    problems: list[Problem], field: str, value: Any, required: bool = False, limit: int = MAX_TEXT
) -> str:
    try:
        text = check_text(value, field, multiline=field in FREE_TEXT_FIELDS, max_len=limit)
    except Invalid as bad:
        problems.append(Problem(field, bad.key, dict(bad.params)))
        return ""
    if required and not text:
        problems.append(Problem(field, "invalid.required"))
    return text


def _choice(problems: list[Problem], field: str, value: Any, known: Sequence[str]) -> str:
    """An id from ``known``, also accepted as its label in either language (维修, 微信群 ...)."""
    text = "" if value is None else str(value).strip()
    if not text:
        problems.append(Problem(field, "invalid.required"))
        return ""
    lowered = text.lower()
    if lowered in known:
        return lowered
    from gridtool.i18n import catalog

    for key in known:
        for lang in ("zh", "en"):
            name = catalog(lang).get(f"{field}.{key}")
            if name and name.lower() == lowered:
                return key
    problems.append(
        Problem(
            field,
            "issue.unknown_choice",
            {"known": ", ".join(f"{k} ({label(field, k)})" for k in known)},
            text,
        )
    )
    return text


def _check_time(state: dict[str, Any], at: datetime, current: datetime) -> None:
    check_moment(at, current)
    last = state.get("last_event_at")
    if last and iso(at) < last:
        raise InputError(
            "issue.at_before_last",
            number=state.get("number", ""),
            at=show_time(iso(at)),
            last=show_time(last),
        )


def _due_after(due: datetime, at: datetime) -> str:
    if due <= at:
        raise InputError("issue.due_before", due=show_time(iso(due)), at=show_time(iso(at)))
    return iso(due)


def resolve_assignee(store: Store, ref: str) -> tuple[str, str, str]:
    """``(value, kind, name)``: a registered lead (by id, id suffix or unique name) or a team's name.

    A name that matches no lead is taken as a team or department such as 镇综治办; a name shared by
    several leads is refused rather than guessed.
    """
    try:
        text = check_text(ref, "assignee", max_len=10_000)  # the length is checked below, for a team
    except Invalid as bad:
        raise ValidationError([Problem("assignee", bad.key, dict(bad.params))]) from None
    if not text:
        raise ValidationError([Problem("assignee", "invalid.required")])
    leads = store.records("leads")
    lead = leads.get(text)
    named = store.index("leads", "lead_name", lambda r: (r.get("name"),)).lookup(text)
    if lead is None and (named or _ID_LIKE.match(text)):  # otherwise no lead can match: skip the scans
        from gridtool.register import lead_by_ref

        try:
            lead = lead_by_ref(store, text)
        except NotFound as missing:
            if missing.key != "error.not_found":
                raise
    if lead is None:
        if len(text) > MAX_TEXT:
            raise ValidationError([Problem("assignee", "invalid.too_long", {"max": MAX_TEXT})])
        return text, "team", text
    if not lead.get("active", True):
        raise InputError("issue.lead_inactive", name=lead["name"])
    return lead["id"], "lead", lead["name"]


_ID_LIKE = re.compile(r"[0-9A-Za-z]{4,26}\Z")


def assignee_name(store: Store, issue: dict[str, Any]) -> str:
    """Who has the issue, as a person reads it (a lead's current name; a team as entered)."""
    value = issue.get("assignee")
    if not value:
        return ""
    if issue.get("assignee_kind") == "lead":
        lead = store.records("leads").get(value)
        return lead["name"] if lead else short(value)
    return str(value)


# -- preparing events -------------------------------------------------------------------------------


@dataclass
class Prepared:
    """A validated event and the issue's cached fields after it."""

    event: dict[str, Any]
    state: dict[str, Any]


def prepare_new(
    store: Store,
    data: dict[str, Any],
    at: datetime | None = None,
    actor: str | None = None,
    numbers: NumberAllocator | None = None,
    current: datetime | None = None,
    sla: SlaTable | None = None,
    number: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The new issue's record and its ``report`` event, validated (raises, writes nothing).
    ``number`` is one already decided (a ledger row names it); else ``numbers`` hands one out."""
    from gridtool.register import grid_cell_by_ref, household_by_ref
    from gridtool.sla import load_sla

    at = at or now()
    current = current or now()
    _check_time({}, at, current)
    sla = sla or load_sla()
    problems: list[Problem] = []
    title = _text(problems, "title", data.get("title"), required=True)
    description = _text(problems, "description", data.get("description"), limit=MAX_LONG_TEXT)
    category = _choice(problems, "category", data.get("category"), sla.categories())
    urgency = _choice(problems, "urgency", data.get("urgency") or "normal", sla.urgencies())
    scale = _choice(problems, "scale", data.get("scale") or "minor", sla.scales())
    channel = _choice(problems, "channel", data.get("channel"), CHANNELS)
    household_id = grid_id = ""
    if data.get("household"):
        try:
            household = household_by_ref(store, str(data["household"]))
        except NotFound as missing:
            problems.append(Problem("household", "invalid.missing_ref", {"what": missing.message()}))
        else:
            household_id, grid_id = household["id"], household["grid_cell"]
    if data.get("grid_cell"):
        try:
            grid = grid_cell_by_ref(store, str(data["grid_cell"]))
        except NotFound as missing:
            problems.append(Problem("grid_cell", "invalid.missing_ref", {"what": missing.message()}))
        else:
            if grid_id and grid["id"] != grid_id:
                problems.append(Problem("grid_cell", "issue.grid_mismatch", {"grid": grid["code"]}))
            grid_id = grid_id or grid["id"]
    elif not data.get("household"):
        problems.append(Problem("household", "issue.household_or_grid"))
    _problems_or_raise(problems)
    limit = sla.limit(category, urgency, scale)
    due = iso(sla.due(at, category, urgency, scale))
    record = {
        "number": number or (numbers or NumberAllocator(store)).next(at.year),
        "title": title,
        "category": category,
        "urgency": urgency,
        "scale": scale,
        "household": household_id,
        "grid_cell": grid_id,
    }
    event = {
        "type": "report",
        "at": iso(at),
        "actor": actor or "",
        "from": None,
        "to": "reported",
        "payload": {
            "due": due,
            "description": description,
            "channel": channel,
            "limit": limit.amount,
            "unit": limit.unit,
            "responsible": limit.responsible,
        },
    }
    state = apply_event({"number": record["number"]}, event)
    record.update(cache_of(state))
    return record, event


def prepare(
    store: Store,
    issue: dict[str, Any],
    action: str,
    at: datetime | None = None,
    actor: str | None = None,
    current: datetime | None = None,
    sla: SlaTable | None = None,
    **params: Any,
) -> Prepared:
    """Validate ``action`` on ``issue`` (its record or cached state) and build the event.

    The transition is checked first, so a closed issue says what is allowed before any detail of
    the input is questioned. Parameters: ``to``, ``due`` (assign/reassign/escalate/reopen),
    ``reason``, ``days`` (extend), ``summary`` (resolve), ``rating``/``comment`` (visit),
    ``text`` (note), or ``said`` (a note as a message key and its parameters, translated when shown),
    ``duplicate_of`` (reject).
    """
    if action not in COMMANDS:
        raise InputError("issue.unknown_action", action=action, known=labelled_ids("action", COMMANDS))
    at = at or now()
    current = current or now()
    status = issue.get("status")
    if status not in TRANSITIONS[action].sources:
        raise TransitionError(
            "issue.not_allowed",
            number=issue.get("number", ""),
            status=label("status", status),
            action=label("action", action),
            allowed=allowed_text(status),
        )
    _check_time(issue, at, current)
    problems: list[Problem] = []
    payload: dict[str, Any] = {}
    due_param = params.get("due")
    if action in ("assign", "reassign", "escalate"):
        value, kind, name = resolve_assignee(store, params.get("to") or "")
        if action == "reassign" and value == issue.get("assignee") and kind == issue.get("assignee_kind"):
            raise InputError("issue.same_assignee", name=name)
        payload.update(assignee=value, assignee_kind=kind, assignee_name=name)
        reason = _text(problems, "reason", params.get("reason"), required=action == "escalate")
        if reason:
            payload["reason"] = reason
        if due_param:
            payload["due"] = _due_after(parse_when(due_param, "due", end_of_day=True), at)
    elif action == "extend":
        from gridtool.workdays import add_workdays

        days = params.get("days")
        reason = _text(problems, "reason", params.get("reason"), required=True)
        try:
            days = int(days)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            problems.append(Problem("days", "invalid.integer", {}, None if days is None else str(days)))
            days = 0
        else:
            if days < 1:
                problems.append(Problem("days", "invalid.minimum", {"minimum": 1}, str(days)))
            elif days > (most := _max_extension(issue)):
                problems.append(Problem("days", "input.extension_too_long", {"max": most}, str(days)))
        _problems_or_raise(problems)
        old = datetime.fromisoformat(issue["due"])
        payload.update(days=days, reason=reason, previous_due=issue["due"], due=iso(add_workdays(old, days)))
    elif action == "note":
        said = params.get("said")
        if said:  # a note another module writes (a volunteer order's step): shown in the reader's language
            payload["said"] = {"key": str(said["key"]), "params": dict(said.get("params") or {})}
        else:
            payload["text"] = _text(problems, "text", params.get("text"), required=True, limit=MAX_LONG_TEXT)
    elif action == "resolve":
        payload["summary"] = _text(
            problems, "summary", params.get("summary"), required=True, limit=MAX_LONG_TEXT
        )
    elif action == "visit":
        rating = params.get("rating")
        try:
            rating = int(rating)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            problems.append(
                Problem("rating", "issue.bad_rating", {}, None if rating is None else str(rating))
            )
        else:
            if not 1 <= rating <= 5:
                problems.append(Problem("rating", "issue.bad_rating", {}, str(rating)))
            payload["rating"] = rating
        comment = _text(problems, "comment", params.get("comment"), limit=MAX_LONG_TEXT)
        if comment:
            payload["comment"] = comment
    elif action == "reopen":
        reason = _text(problems, "reason", params.get("reason"), limit=MAX_LONG_TEXT)
        if reason:
            payload["reason"] = reason
    elif action == "reject":
        reason = _text(problems, "reason", params.get("reason"), limit=MAX_LONG_TEXT)
        dup = params.get("duplicate_of")
        if dup:
            try:
                other = issue_by_ref(store, str(dup))
            except NotFound as missing:
                problems.append(Problem("duplicate_of", "invalid.missing_ref", {"what": missing.message()}))
            else:
                if other["id"] == issue.get("id"):
                    problems.append(Problem("duplicate_of", "issue.duplicate_of_self", {}, str(dup)))
                payload.update(duplicate_of=other["id"], duplicate_number=other["number"])
        elif not reason:
            problems.append(Problem("reason", "issue.reject_needs_reason"))
        if reason:
            payload["reason"] = reason
    elif action == "close":
        comment = _text(problems, "comment", params.get("comment"), limit=MAX_LONG_TEXT)
        if comment:
            payload["comment"] = comment
    _problems_or_raise(problems)
    to = target(action, status, payload)
    if reworks(action, status, payload):  # a fresh time limit from now, unless one is given
        if due_param:
            payload["due"] = _due_after(parse_when(due_param, "due", end_of_day=True), at)
        else:
            from gridtool.sla import load_sla

            table = sla or load_sla()
            payload["due"] = iso(table.due(at, issue["category"], issue["urgency"], issue.get("scale")))
    event = {
        "type": action,
        "at": iso(at),
        "actor": actor or "",
        "from": status,
        "to": to,
        "payload": payload,
    }
    return Prepared(event, apply_event(cache_of(issue) | {"number": issue.get("number")}, event))


# -- writing ----------------------------------------------------------------------------------------


def stage_new(
    tx: Transaction,
    data: dict[str, Any],
    at: datetime | None = None,
    actor: str | None = None,
    numbers: NumberAllocator | None = None,
) -> tuple[str, dict[str, Any]]:
    """Validate and add an issue with its ``report`` event inside an open transaction."""
    record, event = prepare_new(tx.store, data, at, actor, numbers)
    issue_id = tx.create("issues", record, record_id=new_id())
    event = {"issue": issue_id, **event}
    event_id = tx.create("events", event)
    return issue_id, {"id": event_id, **event}


def stage(
    tx: Transaction,
    action: str,
    ref: str,
    at: datetime | None = None,
    actor: str | None = None,
    **params: Any,
) -> tuple[str, dict[str, Any]]:
    """Validate and apply one action inside an open transaction: one event, one cache update.

    Returns the issue's id and the event written.
    """
    issue = issue_by_ref(tx.store, ref)
    prepared = prepare(tx.store, issue, action, at, actor, **params)
    event = {"issue": issue["id"], **prepared.event}
    event_id = tx.create("events", event)
    tx.update("issues", issue["id"], {f: prepared.state.get(f) for f in CACHE_FIELDS})
    return issue["id"], {"id": event_id, **event}


def report(
    store: Store, data: dict[str, Any], at: datetime | None = None, actor: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Register a new issue (群众点单): number, deadline from the time-limit table, first event.

    Returns the issue and its ``report`` event (whose payload names the time limit applied).
    """
    at = at or now()
    with store.transaction(actor=actor, at=at) as tx:
        issue_id, event = stage_new(tx, data, at, actor)
    return store.records("issues")[issue_id], event


def perform(
    store: Store,
    action: str,
    ref: str,
    at: datetime | None = None,
    actor: str | None = None,
    **params: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Apply one action to an issue (assign, accept, ...) in its own transaction.

    Returns the issue as it is now and the event written.
    """
    at = at or now()
    with store.transaction(actor=actor, at=at) as tx:
        issue_id, event = stage(tx, action, ref, at, actor, **params)
    return store.records("issues")[issue_id], event


def build(
    store: Store,
    data: dict[str, Any],
    steps: Sequence[tuple[str, datetime, str | None, dict[str, Any]]],
    numbers: NumberAllocator | None = None,
    current: datetime | None = None,
    sla: SlaTable | None = None,
    number: str | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An issue and its whole timeline, validated step by step as the commands would, not written.

    ``steps`` are ``(action, at, actor, params)`` after the report. Used to load many issues in one
    transaction (the demo, benchmarks) without one cache update per event.
    """
    (first_action, first_at, first_actor, _), rest = steps[0], steps[1:]
    if first_action != "report":
        raise InputError("issue.unknown_action", action=first_action, known="report")
    from gridtool.sla import load_sla

    sla = sla or load_sla()
    record, event = prepare_new(store, data, first_at, first_actor, numbers, current, sla, number)
    events = [event]
    for action, at, actor, params in rest:
        prepared = prepare(store, record, action, at, actor, current, sla, **params)
        events.append(prepared.event)
        record.update(prepared.state)
    return record, events


# -- reading ----------------------------------------------------------------------------------------


def timeline(store: Store, issue_id: str) -> list[dict[str, Any]]:
    """The events of one issue in order."""
    events = store.records("events")
    ids = store.index("events", "issue", lambda e: (e.get("issue"),)).lookup(issue_id)
    return sorted((events[i] for i in ids), key=event_order)


def resolved_at(issue: dict[str, Any]) -> str | None:
    """When the issue was resolved, if it is resolved now (a store cached before reopening cleared
    it may still hold the earlier resolution of a reopened issue)."""
    return issue.get("resolved_at") if issue.get("status") in DONE else None


def countdown(issue: dict[str, Any], at: datetime) -> str | None:
    """green / yellow / red for an open issue (see :func:`gridtool.workdays.countdown`), else None."""
    if issue.get("status") not in OPEN or not issue.get("due"):
        return None
    from gridtool.workdays import countdown as colour

    start = datetime.fromisoformat(issue.get("window_start") or issue["reported_at"])
    return colour(start, datetime.fromisoformat(issue["due"]), at)


def _statuses(value: str | Iterable[str] | None) -> set[str] | None:
    if not value:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    wanted: set[str] = set()
    for item in (i.strip().lower() for i in items):
        if not item:
            continue
        if item == "open":
            wanted |= OPEN
        elif item in STATUSES:
            wanted.add(item)
        else:
            problems = [
                Problem("status", "issue.unknown_choice", {"known": "open, " + ", ".join(STATUSES)}, item)
            ]
            raise ValidationError(problems)
    return wanted


def list_issues(
    store: Store,
    status: str | Iterable[str] | None = None,
    grid: str | None = None,
    assignee: str | None = None,
    category: str | None = None,
    overdue: bool = False,
    due_before: str | datetime | None = None,
    search: str | None = None,
    at: datetime | None = None,
) -> list[dict[str, Any]]:
    """Issues filtered as a worker asks for them, oldest number first.

    ``overdue``: open and past due at ``at`` (default now); ``due_before``: due before that moment
    (a bare date means its start); ``search``: title, description, number, assignee, reporter or
    address, also by pinyin initials.
    """
    from gridtool.register import grid_cell_by_ref

    records: Iterable[dict[str, Any]] = store.records("issues").values()
    wanted = _statuses(status)
    if wanted is not None:
        records = [r for r in records if r.get("status") in wanted]
    if grid:
        grid_id = grid_cell_by_ref(store, grid)["id"]
        records = [r for r in records if r.get("grid_cell") == grid_id]
    if category:
        from gridtool.sla import load_sla

        problems: list[Problem] = []
        wanted_category = _choice(problems, "category", category, load_sla().categories())
        _problems_or_raise(problems)
        records = [r for r in records if r.get("category") == wanted_category]
    if assignee:
        records = _by_assignee(store, records, assignee)
    moment = iso(at or now())
    if overdue:
        records = [r for r in records if r.get("status") in OPEN and (r.get("due") or "9") < moment]
    if due_before:
        limit = iso(parse_when(due_before, "due"))
        records = [r for r in records if r.get("due") and r["due"] < limit]
    if search:
        said = descriptions(store)
        records = [r for r in records if issue_matches(store, r, search, said.get(r["id"]))]
    return sorted(records, key=lambda r: number_key(r.get("number") or "0-0"))


def _by_assignee(store: Store, records: Iterable[dict[str, Any]], ref: str) -> list[dict[str, Any]]:
    from gridtool.register import lead_by_ref

    text = ref.strip()
    try:
        lead_id = lead_by_ref(store, text)["id"]
    except NotFound as missing:
        if missing.key != "error.not_found":
            raise
        return [r for r in records if r.get("assignee_kind") != "lead" and r.get("assignee") == text]
    return [r for r in records if r.get("assignee_kind") == "lead" and r.get("assignee") == lead_id]


def descriptions(store: Store) -> dict[str, str]:
    """What residents said, by issue id (kept in the report events, so this reads the timeline)."""
    return {
        e["issue"]: e["payload"].get("description") or ""
        for e in store.records("events").values()
        if e.get("type") == "report" and e.get("payload")
    }


def report_facts(events: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What the ``report`` event of a timeline recorded: description, channel, the limit applied."""
    return next((dict(e.get("payload") or {}) for e in events if e.get("type") == "report"), {})


def issue_matches(store: Store, issue: dict[str, Any], query: str, description: str | None = None) -> bool:
    """Free-text match on number, title, description, assignee, reporter and address (pinyin too)."""
    from gridtool.register import address
    from gridtool.search import text_matches

    household = store.records("households").get(issue.get("household") or "")
    return text_matches(
        query,
        issue.get("number"),
        issue.get("title"),
        description,
        assignee_name(store, issue),
        household["head"] if household else None,
        address(store, household) if household else None,
    )


def open_counts_by(store: Store, field: str) -> dict[str, int]:
    """Open issues per household (``household``) or per lead (``assignee``), in one pass."""
    counts: dict[str, int] = {}
    for record in store.records("issues").values():
        if record.get("status") in OPEN and (field != "assignee" or record.get("assignee_kind") == "lead"):
            key = record.get(field)
            if key:
                counts[key] = counts.get(key, 0) + 1
    return counts


def open_counts(store: Store, field: str, value: str) -> int:
    """How many not-yet-closed issues point at a household (``household``) or a lead (``assignee``)."""
    n = 0
    for record in store.records("issues").values():
        if record.get(field) == value and record.get("status") in LIVE:
            if field == "assignee" and record.get("assignee_kind") != "lead":
                continue
            n += 1
    return n


# -- what a person sees -----------------------------------------------------------------------------

LIST_COLUMNS = ("number", "status", "countdown", "title", "category", "grid", "assignee", "due", "id")


def rows(
    store: Store, issues: Sequence[dict[str, Any]], at: datetime, labels: bool, full_ids: bool = False
) -> list[dict[str, Any]]:
    """Flat rows for a table (``labels``: translated values) or for CSV (stable ids)."""
    from gridtool.register import grid_code

    out = []
    for issue in issues:
        colour = countdown(issue, at)
        row = {
            "number": issue.get("number"),
            "status": label("status", issue.get("status")) if labels else issue.get("status"),
            "countdown": (label("countdown", colour) if labels else colour) if colour else "",
            "title": issue.get("title"),
            "category": label("category", issue.get("category")) if labels else issue.get("category"),
            "grid": grid_code(store, issue.get("grid_cell") or ""),
            "assignee": assignee_name(store, issue),
            "due": show_time(issue.get("due")) if labels else issue.get("due"),
            "id": issue["id"] if full_ids else short(issue["id"]),
        }
        if not labels:
            row.update(
                urgency=issue.get("urgency"),
                scale=issue.get("scale"),
                reported_at=issue.get("reported_at"),
                resolved_at=resolved_at(issue),
                rating=issue.get("rating"),
                rework=issue.get("rework"),
            )
        out.append(row)
    return out


def json_record(
    store: Store,
    issue: dict[str, Any],
    at: datetime,
    show_pii: bool = False,
    events: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """A whole issue for scripts: stable ids, plus names a person reads and the countdown colour.

    Named as every list and report names them: ``grid`` the cell's code and ``grid_id`` its id,
    ``assignee`` who has it as a person reads it and ``assignee_id`` the lead's id (null for a
    team). With its ``events``, also what the report recorded (description, channel, responsible).
    """
    from gridtool.masking import masked
    from gridtool.register import address, grid_code

    out = masked(issue, show_pii)
    out["household_id"] = out.pop("household", None) or None
    grid_id = out.pop("grid_cell", None)
    out["grid"] = grid_code(store, grid_id or "")
    out["grid_id"] = grid_id or None
    out["assignee"] = assignee_name(store, issue)
    out["assignee_id"] = issue.get("assignee") if issue.get("assignee_kind") == "lead" else None
    out["resolved_at"] = resolved_at(issue)
    facts = report_facts(events)
    for key in ("description", "channel", "responsible"):
        if key in facts:
            out[key] = facts[key]
    out["countdown"] = countdown(issue, at)
    household = store.records("households").get(issue.get("household") or "")
    if household:
        out["reporter"] = household["head"]
        out["address"] = address(store, household)
        if household.get("phone"):
            out["reporter_phone"] = masked({"phone": household["phone"]}, show_pii)["phone"]
    return out


def detail(
    store: Store,
    issue: dict[str, Any],
    at: datetime,
    show_pii: bool = False,
    events: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """One issue for a person: translated values, references spelled out, phone masked unless asked.

    With its ``events``, also who is responsible under the time-limit table applied at report.
    """
    record = json_record(store, issue, at, show_pii, events)
    colour = record.get("countdown")
    out: dict[str, Any] = {
        "number": issue.get("number"),
        "title": issue.get("title"),
        "description": record.get("description"),
        "status": label("status", issue.get("status")),
        "countdown": label("countdown", colour) if colour else "",
        "time_left": _time_left(issue, at),
        "category": label("category", issue.get("category")),
        "urgency": label("urgency", issue.get("urgency")),
        "scale": label("scale", issue.get("scale")),
        "channel": label("channel", record.get("channel")),
        "grid": record["grid"],
        "reporter": record.get("reporter", ""),
        "address": record.get("address", ""),
        "reporter_phone": record.get("reporter_phone", ""),
        "assignee": record["assignee"],
        "responsible": record.get("responsible"),
        "reported_at": show_time(issue.get("reported_at")),
        "due": show_time(issue.get("due")),
        "resolved_at": show_time(resolved_at(issue)),
        "rating": issue.get("rating"),
        "rework": issue.get("rework"),
        "id": issue["id"],
    }
    return {k: v for k, v in out.items() if v not in (None, "")}


def _time_left(issue: dict[str, Any], at: datetime) -> str:
    """Office hours left to the deadline of an open issue, as a person reads them; nothing once
    it is overdue (the countdown says so)."""
    if issue.get("status") not in OPEN or not issue.get("due"):
        return ""
    from gridtool.workdays import work_seconds_between, work_time_text

    due = datetime.fromisoformat(issue["due"])
    if due < at:
        return ""
    return work_time_text(work_seconds_between(at, due) / 3600)


def timeline_rows(
    store: Store, events: Sequence[dict[str, Any]], labels: bool = True
) -> list[dict[str, Any]]:
    """One row per event: when, what, who, from → to, and the details in words."""
    out = []
    for e in events:
        if labels:
            change = (
                label("status", e.get("to"))
                if e.get("from") is None
                else (
                    f"{label('status', e.get('from'))} → {label('status', e.get('to'))}"
                    if e.get("from") != e.get("to")
                    else ""
                )
            )
            out.append(
                {
                    "at": show_time(e["at"]),
                    "type": label("action", e["type"]),
                    "actor": e.get("actor", ""),
                    "change": change,
                    "details": event_details(store, e),
                }
            )
        else:
            out.append(
                {
                    "at": e["at"],
                    "type": e["type"],
                    "actor": e.get("actor", ""),
                    "from": e.get("from") or "",
                    "to": e.get("to"),
                    "details": event_details(store, e),
                    "id": e.get("id", ""),
                }
            )
    return out


def event_details(store: Store, event: dict[str, Any]) -> str:
    """An event's payload in one line of the user's language."""
    p = event.get("payload") or {}
    parts: list[str] = []
    if p.get("assignee_name"):
        parts.append(t("issue.detail.assignee", name=p["assignee_name"]))
    if p.get("days"):
        parts.append(t("issue.detail.extended", days=p["days"]))
    if p.get("due"):
        parts.append(t("issue.detail.due", due=show_time(p["due"])))
    if p.get("rating"):
        parts.append(t("issue.detail.rating", rating=p["rating"]))
    if p.get("duplicate_number"):
        parts.append(t("issue.detail.duplicate", number=p["duplicate_number"]))
    for key in ("summary", "reason", "comment", "text"):
        if p.get(key):
            parts.append(str(p[key]))
    if p.get("said"):
        parts.append(t(p["said"]["key"], **p["said"]["params"]))
    return t("issue.list_sep").join(parts)


def _settled_status(text: str) -> str:
    """A status typed to settle a sync conflict over it: one of :data:`STATUSES`."""
    status = text.strip()
    if status not in STATUSES:
        raise ValidationError(
            [Problem("status", "issue.unknown_choice", {"known": ", ".join(STATUSES)}, status)]
        )
    return status


# Issues not yet closed or rejected still need their household and their lead.
count_dependents("household", "issues", lambda store, record_id: open_counts(store, "household", record_id))
count_dependents("lead", "issues", lambda store, record_id: open_counts(store, "assignee", record_id))

# An import that touches an issue or its events leaves its cached fields as its timeline folds.
register_refold(("issues", "events"), ImportRefold)

# A status typed to settle a sync conflict over it must be one of ours.
register_value_check("issues", "status", _settled_status)
