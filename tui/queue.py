"""The triage queue: open issues by urgency then time left, with filters, details and actions.

The filter line takes free text (title, number, address, names, pinyin initials) and tokens:
``grid:QF-01``, ``status:assigned``, ``cat:repair``, ``@谭石泉`` (assignee), ``overdue``, ``all``
(closed and rejected too). Every action is a key that opens a small form; the form calls the
same ``gridtool.issues`` functions as ``gridtool issue ...``.
"""

from __future__ import annotations

import getpass
from datetime import date
from typing import Any, ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Static

from gridtool import issues, register
from gridtool.errors import GridtoolError
from gridtool.i18n import field_label, t
from gridtool.search import SearchIndex
from gridtool.store import Store

from .forms import ActionForm, Field, text_field
from .keys import TextPane, relabel
from .record_list import Column, RecordList

COUNTDOWN_STYLE = {"green": "green", "yellow": "bold yellow", "red": "bold red"}
URGENCY_ORDER = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
ACTION_KEYS = {  # key -> action; the footer and the help panel list them
    "n": "new",
    "a": "assign",
    "t": "accept",
    "o": "note",
    "x": "extend",
    "e": "escalate",
    "d": "resolve",
    "f": "visit",
    "R": "reopen",
    "D": "reject",
    "c": "close",
}


def parse_filter(text: str) -> dict[str, Any]:
    """Split the filter line into tokens and free text."""
    wanted: dict[str, Any] = {"text": [], "all": False, "overdue": False}
    for word in text.split():
        key, _, value = word.partition(":")
        if value and key in ("grid", "status", "cat", "category"):
            wanted["category" if key == "cat" else key] = value
        elif word.startswith("@") and len(word) > 1:
            wanted["assignee"] = word[1:]
        elif word.lower() in ("overdue", "超期"):
            wanted["overdue"] = True
        elif word.lower() in ("all", "全部"):
            wanted["all"] = True
        else:
            wanted["text"].append(word)
    wanted["text"] = " ".join(wanted["text"])
    return wanted


class QueueView(Vertical):
    DEFAULT_CSS = """
    QueueView .summary { height: 1; background: $panel; padding: 0 1; }
    QueueView Input { margin: 0 0 1 0; }
    QueueView Horizontal { height: 1fr; }
    QueueView RecordList { width: 2fr; }
    QueueView .detail {
        width: 1fr; min-width: 36; max-width: 52; padding: 0 1; border-left: solid $panel-lighten-2;
    }
    QueueView .detail Static { height: auto; }
    QueueView.-narrow .detail { display: none; }
    """
    NARROW = 100  # below this many columns the detail opens full screen on Enter instead of beside

    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self, **kwargs: Any) -> None:
        relabel(type(self), [Binding("space", "mark", t("tui.mark"), show=False)])
        super().__init__(**kwargs)
        self.filter_text = ""
        self.revealed: set[str] = set()
        self._indexes: dict[bool, SearchIndex] = {}
        self._everything: list[dict[str, Any]] | None = None
        self._open: list[dict[str, Any]] = []
        self.marked: dict[str, str] = {}  # issue id -> number, marked with space for ``a``

    @property
    def store(self) -> Store:
        return self.app.store  # type: ignore[attr-defined, no-any-return]

    def compose(self) -> ComposeResult:
        yield Static("", classes="summary", id="queue-summary")
        yield Input(placeholder=t("tui.queue_placeholder"), id="queue-filter")
        with Horizontal():
            yield RecordList(
                [  # what triage needs first; the last ones are left out when the room runs short
                    Column("number", field_label("number"), 12, 12),  # with ● when marked
                    Column("countdown", field_label("countdown"), 4, 6),
                    Column("status", field_label("status"), 6, 10),
                    Column("assignee", field_label("assignee"), 6, 10),
                    Column("title", field_label("title"), 8, 40, flexible=True),
                    Column("grid_cell", field_label("grid_cell"), 5, 8, priority=3),
                    Column("category", field_label("category"), 8, 12, priority=2),
                    Column("address", field_label("address"), 10, 22, priority=1),
                ],
                self._cell,
                cell_style=self._cell_style,
                id="queue-list",
            )
            with TextPane(classes="detail", id="queue-detail-pane"):
                yield Static("", id="queue-detail")

    # -- data ---------------------------------------------------------------------------------

    def reload(self) -> None:
        """Re-read the issues (after a write here or elsewhere) and re-apply the filter."""
        self.now = self.app.clock()  # type: ignore[attr-defined]
        records = self.store.records("issues").values()
        self._open = sorted((r for r in records if r.get("status") in issues.OPEN), key=self._order)
        self._everything: list[dict[str, Any]] | None = None  # sorted when someone asks for "all"
        self._indexes = {}
        self.apply_filter()
        self.update_summary()

    def _order(self, issue: dict[str, Any]) -> tuple[Any, ...]:
        return (
            issue.get("status") not in issues.OPEN,
            URGENCY_ORDER.get(issue.get("urgency") or "", 9),
            issue.get("due") or "9999",
            issue.get("number") or "",
        )

    def everything(self) -> list[dict[str, Any]]:
        """Every issue, open ones first (sorted once, on first use: 100,000 take a while)."""
        if self._everything is None:
            self._everything = sorted(self.store.records("issues").values(), key=self._order)
        return self._everything

    def search_index(self, everything: bool = False) -> SearchIndex:
        """Built on the first keystroke, over the open issues (or all of them with ``all``)."""
        if everything not in self._indexes:
            households = self.store.records("households")

            def text(issue: dict[str, Any]) -> str:
                household = households.get(issue.get("household") or "")
                parts = [
                    issue.get("number") or "",
                    issue.get("title") or "",
                    issues.assignee_name(self.store, issue),
                ]
                if household:
                    parts += [household["head"], register.address(self.store, household)]
                return " ".join(parts)

            self._indexes[everything] = SearchIndex(self.everything() if everything else self._open, text)
        return self._indexes[everything]

    def apply_filter(self) -> None:
        wanted = parse_filter(self.filter_text)
        everything = wanted["all"] or "status" in wanted
        if wanted["text"]:
            rows = self.search_index(everything).filter(wanted["text"])
        else:
            rows = self.everything() if everything else self._open
        if "status" in wanted:  # the code or the label as shown (status:已分单)
            wanted_status = wanted["status"].lower()
            rows = [
                r
                for r in rows
                if wanted_status in (r.get("status"), issues.label("status", r.get("status")).lower())
            ]
        if "grid" in wanted:
            code = wanted["grid"].upper()
            grids = {g["id"] for g in self.store.records("grid_cells").values() if g["code"] == code}
            rows = [r for r in rows if r.get("grid_cell") in grids]
        if "category" in wanted:
            rows = [
                r
                for r in rows
                if r.get("category") == wanted["category"]
                or issues.label("category", r.get("category")) == wanted["category"]
            ]
        if "assignee" in wanted:
            rows = [r for r in rows if wanted["assignee"] in issues.assignee_name(self.store, r)]
        if wanted["overdue"]:
            moment = issues.iso(self.now)
            rows = [r for r in rows if r.get("status") in issues.OPEN and (r.get("due") or "9") < moment]
        self.query_one(RecordList).set_rows(list(rows), keep=lambda r: r["id"])
        self._counts = (len(rows), len(self.everything() if everything else self._open))
        self.show_summary()

    def update_summary(self) -> None:
        from gridtool.reports import stats

        moment = issues.iso(self.now)
        today = moment[:10]
        open_issues = self._open
        overdue = sum(1 for r in open_issues if (r.get("due") or "9") < moment)
        due_today = sum(1 for r in open_issues if (r.get("due") or "")[:10] == today and r["due"] >= moment)
        month = stats(self.store, date(self.now.year, self.now.month, 1), self.now.date())
        rates = month.total.rates()
        self._figures = {
            "open": len(open_issues),
            "overdue": overdue,
            "due_today": due_today,
            "resolution": rates["resolution_rate"].text(),
            "satisfaction": rates["satisfaction_rate"].text(),
        }
        self.show_summary()

    def show_summary(self) -> None:
        """Rows shown of all, marked rows, then the day's figures."""
        if not hasattr(self, "_figures"):
            return
        shown, total = getattr(self, "_counts", (0, 0))
        marked = t("tui.marked", count=len(self.marked)) if self.marked else ""
        self.query_one("#queue-summary", Static).update(
            t("tui.summary", shown=shown, total=total, marked=marked, **self._figures)
        )

    def _cell(self, issue: dict[str, Any], key: str) -> str:
        if key == "number":
            return ("●" if issue["id"] in self.marked else " ") + (issue.get("number") or "")
        if key == "countdown":
            colour = issues.countdown(issue, self.now)
            return issues.label("countdown", colour) if colour else ""
        if key == "address":
            household = self.store.records("households").get(issue.get("household") or "")
            return register.address(self.store, household) if household else ""
        if key == "grid_cell":
            return register.grid_code(self.store, issue.get("grid_cell") or "")
        if key == "assignee":
            return issues.assignee_name(self.store, issue)
        if key in ("status", "category"):
            return issues.label(key, issue.get(key))
        return str(issue.get(key) or "")

    def _cell_style(self, issue: dict[str, Any], key: str) -> str | None:
        if key in ("countdown", "number"):
            colour = issues.countdown(issue, self.now)
            return COUNTDOWN_STYLE.get(colour or "")
        return None

    # -- events -------------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        self.apply_filter()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(RecordList).focus()

    def on_record_list_highlighted(self, event: RecordList.Highlighted) -> None:
        self.show_detail(event.row)

    def current(self) -> dict[str, Any] | None:
        return self.query_one(RecordList).current_row  # type: ignore[no-any-return]

    def show_detail(self, issue: dict[str, Any] | None) -> None:
        """Show ``issue`` beside the list (or in the full-screen detail, if open), scrolled to its
        newest timeline entry."""
        text = self.detail_text(issue)
        self.query_one("#queue-detail", Static).update(text)
        pane = self.query_one("#queue-detail-pane", VerticalScroll)
        if self.app.timeline_ready:  # type: ignore[attr-defined]
            pane.anchor()  # kept at the bottom through the layout to come, until the person scrolls
        else:
            pane.anchor(False)
            pane.scroll_home(animate=False)
        from .detail import DetailScreen

        if isinstance(self.app.screen, DetailScreen):
            self.app.screen.show(text)

    def detail_text(self, issue: dict[str, Any] | None) -> str:
        if issue is None or issue["id"] not in self.store.records("issues"):
            return t("list.empty")
        issue = self.store.records("issues")[issue["id"]]
        timeline_ready = self.app.timeline_ready  # type: ignore[attr-defined]
        events = self.app.timeline(issue["id"]) if timeline_ready else []  # type: ignore[attr-defined]
        shown = issue["id"] in self.revealed
        detail = issues.detail(self.store, issue, self.now, show_pii=shown, events=events)
        lines = [f"[b]{detail.pop('number', '')}[/b]  {detail.pop('title', '')}"]
        detail.pop("id", None)
        for key, value in detail.items():
            lines.append(f"[b]{field_label(key)}[/b]  {value}")
        household = self.store.records("households").get(issue.get("household") or "")
        if household:
            leads = [
                lead["name"] + (f" {lead.get('phone')}" if shown else "")
                for lead in self.store.records("leads").values()
                if household["building"] in lead.get("buildings", ())
            ]
            if leads:
                lines.append(f"[b]{t('role.building-lead')}[/b]  {'、'.join(leads)}")
        lines.append("")
        lines.append(f"[b]{t('tui.timeline')}[/b]")
        if not timeline_ready:
            lines.append(f"[dim]{t('tui.timeline_loading')}[/dim]")
        for row in issues.timeline_rows(self.store, events):
            change = f"  {row['change']}" if row["change"] else ""
            lines.append(f"{row['at']}  {row['type']}{change}  {row['actor']}")
            if row["details"]:
                lines.append(f"    {row['details']}")
        if not shown:
            lines += ["", f"[dim]{t('tui.reveal_hint')}[/dim]"]
        allowed = issues.allowed_actions(issue.get("status"))
        keys = [
            f"{key} {issues.label('action', action)}"
            for key, action in ACTION_KEYS.items()
            if action in allowed or (action == "assign" and "reassign" in allowed)
        ]
        lines += ["", f"[dim]{'  '.join(keys)}[/dim]"]
        return "\n".join(lines)

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < self.NARROW, "-narrow")

    @property
    def narrow(self) -> bool:
        return self.has_class("-narrow")

    def toggle_reveal(self) -> None:
        issue = self.current()
        if issue is not None:
            self.revealed ^= {issue["id"]}
            self.show_detail(issue)

    # -- actions ------------------------------------------------------------------------------

    def actor(self) -> str:
        return str(self.store.meta.get("name") or getpass.getuser())

    def start(self, action: str) -> None:
        """Open the form for ``action`` on the highlighted issue (or a new issue; with rows marked,
        ``a`` assigns all of them)."""
        if action == "new":
            self._new_issue()
            return
        if action == "assign" and self.marked:
            self._assign_marked()
            return
        issue = self.current()
        if issue is None:
            self.app.bell()
            return
        issue = self.store.records("issues")[issue["id"]]
        status = issue.get("status")
        if action == "assign" and status != "reported":
            action = "reassign"
        refusal = self.refusal(action, issue)
        if refusal:
            self.app.notify(refusal, title=issues.label("action", action), severity="warning")
            return
        fields = self._fields(action, issue)
        title = f"{issues.label('action', action)} · {issue.get('number')} {issue.get('title')}"

        def submit(values: dict[str, str]) -> Any:
            params: dict[str, Any] = {k: v for k, v in values.items() if v != ""}
            if params.get("other"):
                params["to"] = params.pop("other")
            params.pop("other", None)
            return issues.perform(self.store, action, issue["id"], actor=self.actor(), **params)

        done = t("tui.done", action=issues.label("action", action), number=issue.get("number") or "")
        if not fields:
            try:
                submit({})
            except GridtoolError as err:
                self.app.notify(err.message(), title=issues.label("action", action), severity="error")
                return
            self.after_write(done)
            return
        self.app.push_screen(
            ActionForm(title, fields, submit),
            lambda result: self.after_write(done if result is not None else ""),
        )

    def refusal(self, action: str, issue: dict[str, Any]) -> str:
        """Why ``action`` cannot be taken on ``issue`` now, naming its status and the keys that
        can be pressed instead; empty when it can."""
        status = issue.get("status")
        allowed = issues.allowed_actions(status)
        if action in allowed:
            return ""
        keys = [
            f"{key} {issues.label('action', a)}"
            for key, a in ACTION_KEYS.items()
            if a in allowed or (a == "assign" and "reassign" in allowed)
        ]
        return t(
            "tui.refused",
            number=issue.get("number") or "",
            status=issues.label("status", status),
            action=issues.label("action", action),
            keys=t("issue.list_sep").join(keys) or "—",
        )

    def action_mark(self) -> None:
        self.toggle_mark()

    def toggle_mark(self) -> None:
        """Space: mark the highlighted row for ``a`` (assign all marked), or unmark it."""
        issue = self.current()
        if issue is None:
            return
        if self.marked.pop(issue["id"], None) is None:
            self.marked[issue["id"]] = issue.get("number") or ""
        listing = self.query_one(RecordList)
        listing.refresh()
        listing.action_cursor(1)
        self.show_summary()

    def _assign_marked(self) -> None:
        """One form for every marked row. Rows whose status forbids it are named and left alone;
        the others are assigned (a refusal of what was typed, such as an unknown assignee, keeps
        the form open with nothing written)."""
        records = self.store.records("issues")
        chosen = [records[i] for i in self.marked if i in records]
        refused = [issue for issue in chosen if self._assign_action(issue) is None]
        going = [issue for issue in chosen if self._assign_action(issue) is not None]
        if not going:
            self.app.notify("\n".join(self.refusal("assign", i) for i in refused), severity="warning")
            return
        fields = self._fields("assign", going[0])
        title = t("tui.assign_marked", count=len(going))

        def submit(values: dict[str, str]) -> Any:
            params: dict[str, Any] = {k: v for k, v in values.items() if v != ""}
            if params.get("other"):
                params["to"] = params.pop("other")
            params.pop("other", None)
            problems = [self.refusal("assign", i) for i in refused]
            assigned = []
            for issue in going:
                try:
                    issues.perform(
                        self.store,
                        self._assign_action(issue) or "assign",
                        issue["id"],
                        actor=self.actor(),
                        **params,
                    )
                except GridtoolError as err:
                    if not assigned:
                        raise  # nothing written yet: the form shows why and stays open
                    problems.append(f"{issue.get('number')}: {err.message()}")
                else:
                    assigned.append(issue)
            return assigned, problems

        def after(result: Any) -> None:
            if not result:
                self.after_write("")
                return
            done, problems = result
            self.marked.clear()
            numbers = "、".join(str(i.get("number")) for i in done[:5]) + ("…" if len(done) > 5 else "")
            self.after_write(t("tui.assigned_marked", count=len(done), numbers=numbers))
            if problems:
                self.app.notify(
                    "\n".join(problems), title=t("tui.not_assigned"), severity="warning", timeout=15
                )

        self.app.push_screen(ActionForm(title, fields, submit), after)

    @staticmethod
    def _assign_action(issue: dict[str, Any]) -> str | None:
        """assign for a new issue, reassign for one already with someone, None when neither."""
        allowed = issues.allowed_actions(issue.get("status"))
        return next((a for a in ("assign", "reassign") if a in allowed), None)

    def _fields(self, action: str, issue: dict[str, Any]) -> list[Field]:
        if action in ("assign", "reassign", "escalate"):
            fields = (
                []
                if action == "escalate"
                else [Field("to", field_label("assignee"), choices=self._assignees(issue))]
            )
            if action == "escalate":  # the office it goes to is the assignee: named so in the form
                fields.append(
                    Field("to", t("tui.escalate_to"), placeholder="镇综治办", stands_for="assignee")
                )
                fields.append(text_field("reason"))
            else:
                fields.append(Field("other", t("tui.or_team"), placeholder="镇综治办"))
                fields.append(text_field("due", placeholder=t("tui.example", example=self._in_days(3))))
            return fields
        return {
            "accept": [],
            "close": [text_field("comment")],
            "note": [text_field("text")],
            "extend": [text_field("days", "3"), text_field("reason")],
            "resolve": [text_field("summary")],
            "visit": [
                Field(
                    "rating",
                    t("tui.rating_digits"),
                    choices=[(str(n), f"{n}  {'★' * n}") for n in (5, 4, 3, 2, 1)],
                ),
                text_field("comment"),
            ],
            "reopen": [text_field("reason")],
            "reject": [
                text_field("duplicate_of", placeholder=t("tui.example", example=f"{self.now.year}-000123")),
                text_field("reason"),
            ],
        }[action]

    def _in_days(self, days: int) -> str:
        """A date ``days`` from today, for the examples in forms (never one in the past)."""
        from datetime import timedelta

        return (self.now.date() + timedelta(days=days)).isoformat()

    def _assignees(self, issue: dict[str, Any]) -> list[tuple[str, str]]:
        """Leads of the issue's grid first, each with their open workload."""
        load = issues.open_counts_by(self.store, "assignee")
        leads = [lead for lead in self.store.records("leads").values() if lead.get("active", True)]
        leads.sort(
            key=lambda lead: (
                lead.get("grid_cell") != issue.get("grid_cell"),
                load.get(lead["id"], 0),
                lead["name"],
            )
        )
        return [
            (
                lead["id"],
                t(
                    "tui.lead_choice",
                    name=lead["name"],
                    grid=register.grid_code(self.store, lead.get("grid_cell") or ""),
                    open=load.get(lead["id"], 0),
                ),
            )
            for lead in leads
        ]

    def _new_issue(self) -> None:
        from gridtool.sla import load_sla

        sla = load_sla()
        fields = [
            Field("household", field_label("household"), placeholder=t("tui.household_hint")),
            text_field("title"),
            Field(
                "category",
                field_label("category"),
                choices=[(c, issues.label("category", c)) for c in sla.categories()],
            ),
            Field(
                "urgency",
                field_label("urgency"),
                value="normal",
                choices=[(u, issues.label("urgency", u)) for u in sla.urgencies()],
            ),
            Field(
                "channel",
                field_label("channel"),
                choices=[(c, issues.label("channel", c)) for c in issues.CHANNELS],
            ),
        ]

        def submit(values: dict[str, str]) -> Any:
            household = self._pick_household(values.pop("household"))
            return issues.report(self.store, {**values, "household": household["id"]}, actor=self.actor())

        def after(result: Any) -> None:
            if not result:
                return
            issue, _ = result
            self.after_write(t("tui.reported", number=issue.get("number") or ""), highlight=issue["id"])

        self.app.push_screen(ActionForm(t("tui.new_issue"), fields, submit), after)

    def _pick_household(self, query: str) -> dict[str, Any]:
        from gridtool.errors import InputError, NotFound

        try:
            return register.household_by_ref(self.store, query)
        except NotFound:
            found = register.find_households(self.store, query, limit=6) if query else []
            if len(found) == 1:
                return found[0]
            if not found:
                raise
            names = "、".join(register.describe(self.store, "household", h) for h in found[:5])
            raise InputError("tui.household_ambiguous", count=len(found), names=names) from None

    def after_write(self, done: str = "", highlight: str | None = None) -> None:
        """Show what changed: the list and detail again, ``done`` said, ``highlight`` on screen."""
        self.reload()
        if highlight is not None:
            listing = self.query_one(RecordList)
            index = next((i for i, row in enumerate(listing.rows) if row["id"] == highlight), None)
            if index is None and self.filter_text:  # hidden by the filter: show the queue whole
                self.query_one("#queue-filter", Input).value = ""
                self.filter_text = ""
                self.apply_filter()
                index = next((i for i, row in enumerate(listing.rows) if row["id"] == highlight), None)
            if index is not None:
                listing.cursor = index
                listing.scroll_to_cursor()
        self.show_detail(self.current())
        if done:
            self.app.notify(done, timeout=4)
