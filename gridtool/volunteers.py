"""Volunteer teams, volunteers and service orders (群众点单、志愿者接单).

Why it is shaped this way:

* Teams (``teams``), volunteers (``volunteers``) and orders (``orders``) are tables of their own,
  each kept in its own file by the store and written only through transactions, so the sync log
  carries them like everything else.
* An **order** is a resident's request for a service (理发, 辅导功课, 维修 ...). It runs
  ``open → taken → done → rated``, or is ``cancelled`` while open or taken; :data:`TRANSITIONS`
  says what is allowed from where, and the refusal message lists it. Each step stamps its time on
  the order. ``done`` credits the volunteer in the points ledger and ``rate`` may add the 5-star
  bonus (:mod:`gridtool.points`), in the same transaction as the step itself.
* An order can come **from an issue** (a resident's issue handed to a volunteer). It is linked both
  ways: the order keeps the issue's id and number, and the issue's timeline gets a note when the
  order is created and when it is done, written through :func:`gridtool.issues.stage` like any
  other note, in the same transaction.
* Order **numbers** read ``V2026-000001`` (V for 志愿; issue numbers have no letter, so the two are
  never confused): the year's highest in this store + 1, allocated inside the write transaction.
  After a sync two laptops may share a number; a lookup that matches several is refused and asks
  for the id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gridtool.errors import InputError, NotFound, Problem, TransitionError, ValidationError
from gridtool.i18n import labelled_ids, t
from gridtool.ids import SHORT_LEN, short
from gridtool.points import show_hours
from gridtool.register import Problems, count_dependents
from gridtool.roster import team_by_ref, team_names, volunteer_by_ref, volunteer_name
from gridtool.store import Store
from gridtool.validate import MAX_YEAR, MIN_YEAR

TEAM_KINDS = ("five-elders", "party", "safety", "womens-care", "elders-care", "village", "other")
"""银发/五老, 党员先锋, 平安, 巾帼, 助老, 村志愿服务队, 其他."""
ORDER_STATUSES = ("open", "taken", "done", "rated", "cancelled")
OPEN_ORDERS = frozenset({"open", "taken"})
MAX_LONG_TEXT = 2000
MAX_HOURS = 24.0


@dataclass(frozen=True)
class Step:
    sources: frozenset[str]
    target: str


TRANSITIONS: dict[str, Step] = {
    "take": Step(frozenset({"open"}), "taken"),  # 接单
    "done": Step(frozenset({"taken"}), "done"),  # 完成服务, points credited
    "rate": Step(frozenset({"done"}), "rated"),  # 评单, 5 stars earn the bonus
    "cancel": Step(OPEN_ORDERS, "cancelled"),
}
STAMPS = {"take": "taken_at", "done": "done_at", "rate": "rated_at", "cancel": "cancelled_at"}


def label(kind: str, value: str | None) -> str:
    """A team kind or order status in the user's language (an unknown id as is)."""
    if not value:
        return ""
    from gridtool.i18n import has

    key = f"{kind}.{value}"
    return t(key) if has(key) else value


# -- checking input ---------------------------------------------------------------------------------


class _Check(Problems):
    """The register's problem collector, plus choices named by key or by label in either language."""

    def choice(self, data: dict[str, Any], field: str, known: Sequence[str], kind: str) -> str:
        text = str(data.get(field) or "").strip()
        if not text:
            self.add(field, "invalid.required")
            return ""
        if text.lower() in known:
            return text.lower()
        from gridtool.i18n import catalog

        for key in known:
            for lang in ("zh", "en"):
                if catalog(lang).get(f"{kind}.{key}", "").lower() == text.lower():
                    return key
        self.add(field, "issue.unknown_choice", text, known=labelled_ids(kind, known))
        return text


def _moment(at: datetime | None, after: str | None = None, what: str = "") -> datetime:
    """``at`` (default now) to the second: within the years allowed, not more than a day ahead,
    not before ``after``."""
    from gridtool.moments import entered_at, iso, show_time

    moment = entered_at(at)
    if after and iso(moment) < after:
        raise InputError(
            "order.at_before_last", number=what, at=show_time(iso(moment)), last=show_time(after)
        )
    return moment


# -- teams ------------------------------------------------------------------------------------------


def add_team(store: Store, data: dict[str, Any], actor: str | None = None) -> dict[str, Any]:
    """Register a volunteer team: name (unique), colour, kind, leader."""
    check = _Check()
    with store.transaction(actor=actor) as tx:
        record = _clean_team(tx.store, data, None, check)
        check.raise_if_any()
        team_id = tx.create("teams", record)
    return store.records("teams")[team_id]


def edit_team(store: Store, ref: str, data: dict[str, Any], actor: str | None = None) -> dict[str, Any]:
    """Change a team: fields given in ``data`` (``None`` keeps one); the name stays unique.

    Members keep the team: they refer to it by id, so a new name or leader shows everywhere.
    """
    check = _Check()
    with store.transaction(actor=actor) as tx:
        current = team_by_ref(tx.store, ref)
        merged = {**current, **{k: v for k, v in data.items() if v is not None}}
        record = _clean_team(tx.store, merged, current["id"], check)
        check.raise_if_any()
        tx.update("teams", current["id"], record)
    return store.records("teams")[current["id"]]


def _clean_team(store: Store, data: dict[str, Any], own_id: str | None, check: _Check) -> dict[str, Any]:
    """A team as stored, its problems noted in ``check``: the name unique among other teams."""
    record = {
        "name": check.text(data, "name", required=True),
        "colour": check.text(data, "colour", limit=20),
        "kind": check.choice({"kind": data.get("kind") or "other"}, "kind", TEAM_KINDS, "team_kind"),
        "leader": check.text(data, "leader"),
        "notes": check.text(data, "notes", limit=MAX_LONG_TEXT),
    }
    if record["name"] and any(
        r.get("name") == record["name"] and r["id"] != own_id for r in store.records("teams").values()
    ):
        check.add("name", "invalid.duplicate", None, existing=record["name"])
    return record


def team_rows(store: Store, teams: Sequence[dict[str, Any]], full_ids: bool = False) -> list[dict[str, Any]]:
    members: dict[str, int] = {}
    for v in store.records("volunteers").values():
        for tid in v.get("teams") or []:
            members[tid] = members.get(tid, 0) + 1
    return [
        {
            "id": team["id"] if full_ids else short(team["id"]),
            "name": team["name"],
            "kind": label("team_kind", team.get("kind")),
            "colour": team.get("colour") or "",
            "leader": team.get("leader") or "",
            "size": members.get(team["id"], 0),
        }
        for team in teams
    ]


def list_teams(store: Store) -> list[dict[str, Any]]:
    return sorted(store.records("teams").values(), key=lambda r: (r.get("kind", ""), r["name"], r["id"]))


# -- volunteers -------------------------------------------------------------------------------------


def _clean_volunteer(
    store: Store,
    data: dict[str, Any],
    own_id: str | None,
    check: _Check,
    kept: Iterable[str] = (),
) -> dict[str, Any]:
    """A volunteer record from what was typed; problems collected in ``check``.

    Skills in ``kept`` (those already stored) stay as they are even when the office has since
    retired that service from the rules table: only new input is checked against the rules.
    """
    from gridtool.points import load_rules, unknown_service
    from gridtool.validate import Invalid, check_mobile

    rules = load_rules()
    phone = str(data.get("phone") or "").strip()
    if phone:
        try:
            phone = check_mobile(phone)
        except Invalid as bad:
            check.add("phone", bad.key, **bad.params)
        else:
            same = [
                v
                for v in store.records("volunteers").values()
                if v.get("phone") == phone and v["id"] != own_id
            ]
            if same:
                check.add("phone", "invalid.duplicate", None, existing=same[0]["name"])
    skills = []
    stored = set(kept)
    for skill in check.strings(data, "skills"):
        service = skill if skill in stored else rules.service_id(skill)
        if service is None:
            check.items.append(unknown_service(rules, skill))
        else:
            skills.append(service)
    teams = []
    for ref in check.strings(data, "teams"):
        try:
            teams.append(team_by_ref(store, ref)["id"])
        except NotFound as missing:
            check.add("teams", "invalid.missing_ref", ref, what=missing.message())
    return {
        "name": check.text(data, "name", required=True),
        "phone": phone,
        "teams": list(dict.fromkeys(teams)),
        "skills": list(dict.fromkeys(skills)),
        "active": bool(data.get("active", True)),
        "notes": check.text(data, "notes", limit=MAX_LONG_TEXT),
    }


def add_volunteer(store: Store, data: dict[str, Any], actor: str | None = None) -> dict[str, Any]:
    """Register a volunteer: name, mobile, teams, skills (services from the points rules)."""
    check = _Check()
    with store.transaction(actor=actor) as tx:
        record = _clean_volunteer(tx.store, {**data, "active": True}, None, check)
        check.raise_if_any()
        volunteer_id = tx.create("volunteers", record)
    return store.records("volunteers")[volunteer_id]


def edit_volunteer(
    store: Store,
    ref: str,
    data: dict[str, Any],
    add: dict[str, Sequence[str]] | None = None,
    remove: dict[str, Sequence[str]] | None = None,
    actor: str | None = None,
) -> dict[str, Any]:
    """Change a volunteer: fields given in ``data`` (``None`` keeps one), teams and skills added or
    removed, ``active`` False when someone stops volunteering (their ledger stays; they can no
    longer take orders)."""
    from gridtool.points import load_rules

    check = _Check()
    with store.transaction(actor=actor) as tx:
        current = volunteer_by_ref(tx.store, ref)
        merged = {**current, **{k: v for k, v in data.items() if v is not None}}
        rules = load_rules()
        for field in ("teams", "skills"):
            items = list(current.get(field) or [])
            for item in (add or {}).get(field, ()):
                items.append(item)
            drop = set()
            absent = []
            for item in (remove or {}).get(field, ()):
                if field == "teams":
                    try:
                        target = team_by_ref(tx.store, item)["id"]
                    except NotFound as missing:
                        check.add("teams", "invalid.missing_ref", item, what=missing.message())
                        continue
                else:
                    target = rules.service_id(item) or str(item).strip().lower()
                if target not in items:  # a typo must not look like a successful removal
                    absent.append(str(item).strip())
                drop.add(target)
            if absent:
                check.add(field, "invalid.not_there", items="、".join(absent))
            merged[field] = [i for i in items if i not in drop]
        record = _clean_volunteer(tx.store, merged, current["id"], check, kept=current.get("skills") or [])
        check.raise_if_any()
        tx.update("volunteers", current["id"], record)
    return store.records("volunteers")[current["id"]]


def list_volunteers(store: Store, team: str | None = None, skill: str | None = None) -> list[dict[str, Any]]:
    """Volunteers in name order, optionally of one team or with one skill."""
    found: Iterable[dict[str, Any]] = store.records("volunteers").values()
    if team:
        team_id = team_by_ref(store, team)["id"]
        found = [v for v in found if team_id in (v.get("teams") or [])]
    if skill:
        from gridtool.points import load_rules, unknown_service

        rules = load_rules()
        service = rules.service_id(skill) or _retired(
            skill, (s for v in store.records("volunteers").values() for s in v.get("skills") or [])
        )
        if service is None:
            raise ValidationError([unknown_service(rules, skill)])
        found = [v for v in found if service in (v.get("skills") or [])]
    return sorted(found, key=lambda v: (v["name"], v["id"]))


def _retired(text: str, stored: Iterable[str]) -> str | None:
    """A service id no longer in the rules that stored records still carry (a filter may name it)."""
    wanted = str(text or "").strip().lower()
    return wanted if wanted and wanted in set(stored) else None


def volunteer_rows(
    store: Store, found: Sequence[dict[str, Any]], show_pii: bool = False, full_ids: bool = False
) -> list[dict[str, Any]]:
    """Rows with the phone masked unless asked, and each balance computed from the ledger."""
    from gridtool.points import balance, load_rules
    from gridtool.validate import mask_phone

    rules = load_rules()
    return [
        {
            "id": v["id"] if full_ids else short(v["id"]),
            "name": v["name"],
            "phone": v.get("phone", "") if show_pii else mask_phone(v.get("phone")),
            "teams": team_names(store, v.get("teams") or []),
            "skills": [rules.service_name(s) for s in v.get("skills") or []],
            "balance": balance(store, v["id"]),
            "active": v.get("active", True),
        }
        for v in found
    ]


# -- orders -----------------------------------------------------------------------------------------

_NUMBER = re.compile(r"\s*[Vv](\d{4})-(\d{1,7})\s*\Z")


def format_number(year: int, counter: int) -> str:
    return f"V{year}-{counter:06d}"


def _next_number(store: Store, year: int) -> str:
    highest = 0
    for record in store.records("orders").values():
        m = _NUMBER.match(record.get("number") or "")
        if m and int(m.group(1)) == year:
            highest = max(highest, int(m.group(2)))
    return format_number(year, highest + 1)


def order_by_ref(store: Store, ref: str) -> dict[str, Any]:
    """An order by number (``V2026-000001`` or ``V2026-1``), id, or the id's last characters."""
    records = store.records("orders")
    text = str(ref or "").strip()
    m = _NUMBER.match(text)
    if m:
        number = format_number(int(m.group(1)), int(m.group(2)))
        found = [r for r in records.values() if r.get("number") == number]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise NotFound("error.ambiguous", table="orders", ref=text, count=len(found), length=SHORT_LEN)
        raise NotFound("error.not_found", table="orders", ref=text)
    return records[store.resolve("orders", text)]


def _not_allowed(order: dict[str, Any], action: str) -> TransitionError:
    allowed = [a for a, step in TRANSITIONS.items() if order["status"] in step.sources]
    return TransitionError(
        "order.not_allowed",
        number=order["number"],
        status=label("order_status", order["status"]),
        action=label("order_action", action),
        allowed=labelled_ids("order_action", allowed),
    )


def new_order(
    store: Store, data: dict[str, Any], at: datetime | None = None, actor: str | None = None
) -> dict[str, Any]:
    """A resident's request (群众点单): household, service, wanted-by date; or from an issue.

    ``from_issue`` (an issue number) takes the household and the description from the issue, links
    both, and notes the order on the issue's timeline.
    """
    from gridtool import issues
    from gridtool.points import load_rules, unknown_service
    from gridtool.register import household_by_ref

    rules = load_rules()
    check = _Check()
    moment = _moment(at)
    service = rules.service_id(str(data.get("service") or ""))
    if not str(data.get("service") or "").strip():
        check.add("service", "invalid.required")
    elif service is None:
        check.items.append(unknown_service(rules, str(data.get("service"))))
    description = check.text(data, "description", limit=MAX_LONG_TEXT)
    wanted_by = None
    if data.get("wanted_by"):
        try:
            wanted_by = issues.parse_date(str(data["wanted_by"])).isoformat()
        except InputError as bad:
            if bad.key == "input.year_range":
                check.add("wanted_by", "invalid.year_range", data["wanted_by"], min=MIN_YEAR, max=MAX_YEAR)
            else:
                check.add("wanted_by", "order.bad_date", data["wanted_by"])
        else:
            if not MIN_YEAR <= int(wanted_by[:4]) <= MAX_YEAR:
                check.add("wanted_by", "invalid.year_range", wanted_by, min=MIN_YEAR, max=MAX_YEAR)
            elif wanted_by < moment.date().isoformat():
                check.add("wanted_by", "order.wanted_past", wanted_by)
    with store.transaction(actor=actor, at=moment) as tx:
        issue = None
        household_id = ""
        issue_household_gone = False
        if data.get("from_issue"):
            try:
                issue = issues.issue_by_ref(tx.store, str(data["from_issue"]))
            except NotFound as missing:
                check.add("from_issue", "invalid.missing_ref", what=missing.message())
            else:
                household_id = issue.get("household") or ""
                description = description or issue.get("title", "")
                if issue.get("status") not in issues.LIVE:  # over: an order would serve nobody
                    status = issues.label("status", issue["status"])
                    check.add("from_issue", "order.issue_finished", number=issue["number"], status=status)
                if household_id and household_id not in tx.store.records("households"):
                    # removed after its issues were closed: no household to serve, say so
                    check.add("from_issue", "order.issue_household_gone", number=issue["number"])
                    issue_household_gone, household_id = True, ""
        if data.get("household"):
            try:
                household = household_by_ref(tx.store, str(data["household"]))
            except NotFound as missing:
                check.add("household", "invalid.missing_ref", what=missing.message())
            else:
                if household_id and household["id"] != household_id:
                    check.add("household", "order.household_mismatch", data["household"])
                household_id = household["id"]
        elif not data.get("from_issue"):
            check.add("household", "invalid.required")
        if issue is not None and not household_id and not issue_household_gone:
            check.add("household", "order.issue_without_household", issue["number"])
        check.raise_if_any()
        households = tx.store.records("households")
        record = {
            "number": _next_number(tx.store, moment.year),
            "household": household_id,
            "grid_cell": households[household_id].get("grid_cell", ""),
            "service": service,
            "description": description,
            "wanted_by": wanted_by,
            "status": "open",
            "volunteer": None,
            "created_at": issues.iso(moment),
            "hours": None,
            "rating": None,
            "issue": issue["id"] if issue else None,
            "issue_number": issue["number"] if issue else None,
        }
        order_id = tx.create("orders", record)
        if issue is not None:
            said = {
                "key": "order.issue_note.new",
                "params": {"number": record["number"], "service": rules.service_name(service)},
            }
            issues.stage(tx, "note", issue["id"], at=moment, actor=actor, said=said)
    return store.records("orders")[order_id]


def _last_at(order: dict[str, Any]) -> str:
    return max(order.get(f) or "" for f in ("created_at", *STAMPS.values()))


def perform(
    store: Store,
    action: str,
    ref: str,
    at: datetime | None = None,
    actor: str | None = None,
    **params: Any,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Apply ``take`` (volunteer), ``done`` (hours, summary), ``rate`` (rating, comment) or
    ``cancel`` (reason) to an order in one transaction.

    Returns the order as it is now and the points entries written (credit, bonus).
    """
    from gridtool import issues, points

    if action not in TRANSITIONS:
        raise InputError("issue.unknown_action", action=action, known=", ".join(TRANSITIONS))
    written: list[dict[str, Any]] = []
    with store.transaction(actor=actor, at=at) as tx:
        order = order_by_ref(tx.store, ref)
        if order["status"] not in TRANSITIONS[action].sources:
            raise _not_allowed(order, action)
        moment = _moment(at, _last_at(order), order["number"])
        tx.at = moment
        check = _Check()
        change: dict[str, Any] = {"status": TRANSITIONS[action].target, STAMPS[action]: issues.iso(moment)}
        if action == "take":
            volunteer = None
            try:
                volunteer = volunteer_by_ref(tx.store, str(params.get("volunteer") or ""))
            except NotFound as missing:
                if not str(params.get("volunteer") or "").strip():
                    check.add("volunteer", "invalid.required")
                else:
                    check.add("volunteer", "invalid.missing_ref", what=missing.message())
            if volunteer is not None and not volunteer.get("active", True):
                check.add("volunteer", "order.volunteer_inactive", volunteer["name"])
            check.raise_if_any()
            assert volunteer is not None
            change["volunteer"] = volunteer["id"]
        elif action == "done":
            hours = _hours(check, params.get("hours"))
            summary = check.text(params, "summary", limit=MAX_LONG_TEXT)
            check.raise_if_any()
            change.update(hours=hours, summary=summary)
        elif action == "rate":
            rating = params.get("rating")
            try:
                rating = int(rating)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                check.add("rating", "issue.bad_rating", rating)
            else:
                if not 1 <= rating <= 5:
                    check.add("rating", "issue.bad_rating", rating)
            comment = check.text(params, "comment", limit=MAX_LONG_TEXT)
            check.raise_if_any()
            change.update(rating=rating, comment=comment)
        else:
            change["cancel_reason"] = check.text(params, "reason", required=True, limit=MAX_LONG_TEXT)
            check.raise_if_any()
        tx.update("orders", order["id"], change)
        order = tx.store.records("orders")[order["id"]]
        if action == "done":
            written.append(points.stage_credit(tx, order, order["hours"], moment, actor))
        elif action == "rate":
            bonus = points.stage_bonus(tx, order, order["rating"], moment, actor)
            if bonus:
                written.append(bonus)
        if (
            order.get("issue")
            and action in ("done", "cancel")
            and order["issue"] in tx.store.records("issues")
        ):
            issues.stage(
                tx, "note", order["issue"], at=moment, actor=actor, said=_issue_note(tx.store, order)
            )
    return store.records("orders")[order["id"]], written


def _hours(check: _Check, value: Any) -> float | None:
    if value is None or str(value).strip() == "":
        check.add("hours", "invalid.required")
        return None
    try:
        hours = float(str(value).strip())
    except ValueError:
        check.add("hours", "order.bad_hours", value, max=MAX_HOURS)
        return None
    if not 0 < hours <= MAX_HOURS:
        check.add("hours", "order.bad_hours", value, max=MAX_HOURS)
        return None
    return hours


def _issue_note(store: Store, order: dict[str, Any]) -> dict[str, Any]:
    """What the issue's timeline says about the order: a message key, translated when shown."""
    from gridtool.points import load_rules

    service = load_rules().service_name(order["service"])
    if order["status"] == "cancelled":
        params = {"number": order["number"], "service": service, "reason": order["cancel_reason"]}
        return {"key": "order.issue_note.cancelled", "params": params}
    params = {
        "number": order["number"],
        "service": service,
        "volunteer": volunteer_name(store, order.get("volunteer")),
        "hours": show_hours(order.get("hours")),
    }
    return {"key": "order.issue_note.done", "params": params}


def list_orders(
    store: Store,
    open_only: bool = False,
    service: str | None = None,
    volunteer: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """Orders, oldest first; ``open_only`` keeps those still waiting for or in service."""
    found: Iterable[dict[str, Any]] = store.records("orders").values()
    if open_only:
        found = [o for o in found if o["status"] in OPEN_ORDERS]
    if status:
        wanted = status.strip().lower()
        if wanted not in ORDER_STATUSES:
            raise ValidationError(
                [Problem("status", "issue.unknown_choice", {"known": ", ".join(ORDER_STATUSES)}, status)]
            )
        found = [o for o in found if o["status"] == wanted]
    if service:
        from gridtool.points import load_rules, unknown_service

        rules = load_rules()
        sid = rules.service_id(service) or _retired(
            service, (o["service"] for o in store.records("orders").values())
        )
        if sid is None:
            raise ValidationError([unknown_service(rules, service)])
        found = [o for o in found if o["service"] == sid]
    if volunteer:
        vid = volunteer_by_ref(store, volunteer)["id"]
        found = [o for o in found if o.get("volunteer") == vid]
    return sorted(found, key=lambda o: (o.get("created_at") or "", o["number"], o["id"]))


ORDER_COLUMNS = (
    "order",
    "status",
    "service",
    "household",
    "address",
    "volunteer",
    "wanted_by",
    "issue",
    "id",
)


def order_rows(
    store: Store, found: Sequence[dict[str, Any]], labels: bool = True, full_ids: bool = False
) -> list[dict[str, Any]]:
    """Rows for a table (translated) or for CSV/JSON (stable ids)."""
    from gridtool.points import load_rules
    from gridtool.register import address

    rules = load_rules()
    households = store.records("households")
    out = []
    for o in found:
        household = households.get(o.get("household") or "")
        row = {
            "order": o["number"],
            "status": label("order_status", o["status"]) if labels else o["status"],
            "service": rules.service_name(o["service"]) if labels else o["service"],
            "household": household["head"] if household else "",
            "address": address(store, household) if household else "",
            "volunteer": volunteer_name(store, o.get("volunteer")),
            "wanted_by": o.get("wanted_by") or "",
            "issue": o.get("issue_number") or "",
            "id": o["id"] if full_ids else short(o["id"]),
        }
        if not labels:
            row.update(
                household_id=o.get("household"),
                volunteer_id=o.get("volunteer") or "",
                created_at=o.get("created_at"),
                taken_at=o.get("taken_at") or "",
                done_at=o.get("done_at") or "",
                rated_at=o.get("rated_at") or "",
                cancelled_at=o.get("cancelled_at") or "",
                hours=o.get("hours"),
                rating=o.get("rating"),
            )
        out.append(row)
    return out


def order_detail(store: Store, order: dict[str, Any], show_pii: bool = False) -> dict[str, Any]:
    """One order for a person: names spelled out, the household's phone masked unless asked."""
    from gridtool.moments import show_time
    from gridtool.points import load_rules
    from gridtool.register import address

    household = store.records("households").get(order.get("household") or "")
    out = {
        "order": order["number"],
        "status": label("order_status", order["status"]),
        "service": load_rules().service_name(order["service"]),
        "description": order.get("description"),
        "household": household["head"] if household else "",
        "address": address(store, household) if household else "",
        "phone": (household or {}).get("phone") or "",
        "wanted_by": order.get("wanted_by"),
        "issue": order.get("issue_number"),
        "volunteer": volunteer_name(store, order.get("volunteer")),
        "created_at": show_time(order.get("created_at")),
        "taken_at": show_time(order.get("taken_at")),
        "done_at": show_time(order.get("done_at")),
        "rated_at": show_time(order.get("rated_at")),
        "cancelled_at": show_time(order.get("cancelled_at")),
        "hours": show_hours(order.get("hours")),
        "summary": order.get("summary"),
        "rating": order.get("rating"),
        "comment": order.get("comment"),
        "cancel_reason": order.get("cancel_reason"),
        "id": order["id"],
    }
    return {k: v for k, v in _masked(out, show_pii).items() if v not in (None, "")}


def _masked(out: dict[str, Any], show_pii: bool) -> dict[str, Any]:
    """Phones, and numbers typed into descriptions and comments, masked unless asked."""
    from gridtool.masking import mask_field

    return out if show_pii else {k: mask_field(k, v) for k, v in out.items()}


ORDER_RECORD_KEYS = (
    "order", "status", "service", "service_name", "description", "household", "household_id",
    "address", "phone", "wanted_by", "issue", "issue_id", "volunteer", "volunteer_id", "created_at",
    "taken_at", "done_at", "rated_at", "cancelled_at", "hours", "summary", "rating", "comment",
    "cancel_reason", "id",
)  # fmt: skip


def order_record(store: Store, order: dict[str, Any], show_pii: bool = False) -> dict[str, Any]:
    """One order for scripts: the same keys every time (``None`` when unset), raw stable values
    like ``order list --format json`` (status and service ids, ISO times, hours a number), names
    beside ids for reading; the phone masked unless asked."""
    from gridtool.points import load_rules
    from gridtool.register import address

    household = store.records("households").get(order.get("household") or "")
    out = {
        **{key: order.get(key) for key in ORDER_RECORD_KEYS},
        "order": order["number"],
        "service_name": load_rules().service_name(order["service"]),
        "household": household["head"] if household else None,
        "household_id": order.get("household") or None,
        "address": address(store, household) if household else None,
        "phone": (household or {}).get("phone") or None,
        "issue": order.get("issue_number"),
        "issue_id": order.get("issue"),
        "volunteer": volunteer_name(store, order.get("volunteer")) or None,
        "volunteer_id": order.get("volunteer"),
    }
    out = _masked(out, show_pii)
    return {key: out[key] for key in ORDER_RECORD_KEYS}


def order_points(store: Store, order_id: str) -> list[dict[str, Any]]:
    """The ledger entries an order earned (credit, bonus, corrections of them)."""
    from gridtool.points import entries

    return [e for e in entries(store) if e.get("order") == order_id]


def open_orders_by_household(store: Store) -> dict[str, int]:
    counts: dict[str, int] = {}
    for o in store.records("orders").values():
        if o["status"] in OPEN_ORDERS:
            counts[o["household"]] = counts.get(o["household"], 0) + 1
    return counts


# Orders still waiting for or in service need their household.
count_dependents(
    "household", "orders", lambda store, record_id: open_orders_by_household(store).get(record_id, 0)
)
