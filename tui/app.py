"""The dashboard: one front end over the gridtool library, keyboard first.

Every write goes through the same ``gridtool`` functions the command line uses, under the store's
lock; every second the dashboard takes in what other processes wrote (an import in another
terminal, a sync, cron) and redraws.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import Hit, Hits, Provider
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.system_commands import SystemCommandsProvider
from textual.widgets import Header, Input, Static, TabbedContent, TabPane

from gridtool import register, views
from gridtool.i18n import field_label, t
from gridtool.ids import short
from gridtool.store import Store

from .footer import Footer
from .keys import MainScreen
from .queue import ACTION_KEYS, QueueView
from .record_list import Column, RecordList

POLL_SECONDS = 1.0
EAGER_TIMELINE_BYTES = 16 << 20


class RegisterView(Vertical):
    """A searchable list of one kind of record with its details beside it."""

    DEFAULT_CSS = """
    RegisterView Input { margin: 0 0 1 0; }
    RegisterView Horizontal { height: 1fr; }
    RegisterView RecordList { width: 2fr; }
    RegisterView .detail {
        width: 1fr; min-width: 36; padding: 0 1; border-left: solid $panel-lighten-2; overflow-y: auto;
    }
    """

    def __init__(self, kind: str, columns: list[Column], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kind = kind
        self.columns = columns
        self.revealed: set[str] = set()
        self.query_text = ""

    def compose(self) -> ComposeResult:
        yield Input(placeholder=t("tui.search_placeholder"), id=f"{self.kind}-search")
        with Horizontal():
            yield RecordList(self.columns, self._cell, id=f"{self.kind}-list")
            yield Static("", classes="detail", id=f"{self.kind}-detail")

    @property
    def store(self) -> Store:
        return self.app.store  # type: ignore[attr-defined, no-any-return]

    @property
    def record_list(self) -> RecordList:
        return self.query_one(RecordList)

    def reload(self) -> None:
        from gridtool.issues import open_counts_by

        records = register.list_records(self.store, self.kind, query=self.query_text or None)
        self.rows = views.list_rows(self.store, self.kind, records, show_pii=False, full_ids=True)
        if self.kind in ("household", "lead"):  # what each still has open: visits, workload
            counts = open_counts_by(self.store, "household" if self.kind == "household" else "assignee")
            for row in self.rows:
                row["open_issues"] = counts.get(row["id"], 0)
        self.record_list.set_rows(self.rows, keep=lambda row: row["id"])
        self.show_detail(self.record_list.current_row)

    def _cell(self, row: dict[str, Any], key: str) -> str:
        value = row.get(key, "")
        if key == "id":
            return short(value)
        if isinstance(value, bool):
            return t("yes") if value else t("no")
        return "" if value is None else str(value)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value.strip()
        self.reload()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.record_list.focus()

    def on_record_list_highlighted(self, event: RecordList.Highlighted) -> None:
        self.show_detail(event.row)

    def show_detail(self, row: dict[str, Any] | None) -> None:
        panel = self.query_one(".detail", Static)
        if row is None:
            panel.update(t("list.empty"))
            return
        record = self.store.get(register.kind(self.kind).table, row["id"])
        if record is None:
            panel.update(t("list.empty"))
            return
        detail = views.detail(self.store, self.kind, record, show_pii=row["id"] in self.revealed)
        lines = []
        for key, value in detail.items():
            if key == "members":
                lines.append(f"[b]{field_label(key)}[/b]")
                for member in value:
                    lines.append(
                        "  "
                        + "  ".join(
                            str(member.get(k, ""))
                            for k in ("name", "relation", "id_number", "birth_date")
                            if member.get(k)
                        )
                    )
            elif isinstance(value, bool):
                lines.append(f"[b]{field_label(key)}[/b]  {t('yes') if value else t('no')}")
            elif value not in ("", None, []):
                shown = "、".join(map(str, value)) if isinstance(value, list) else value
                lines.append(f"[b]{field_label(key)}[/b]  {shown}")
        if row["id"] not in self.revealed:
            lines.append("")
            lines.append(f"[dim]{t('tui.reveal_hint')}[/dim]")
        panel.update("\n".join(lines))

    def toggle_reveal(self) -> None:
        row = self.record_list.current_row
        if row is not None:
            self.revealed ^= {row["id"]}
            self.show_detail(row)


class StatsView(VerticalScroll):
    """This month's figures by grid cell: the same numbers as ``gridtool report stats --by grid``,
    then charts of them (scrolls when the terminal is too short for both)."""

    DEFAULT_CSS = "StatsView #stats-body { padding: 1 2; height: auto; }"

    def compose(self) -> ComposeResult:
        from .charts import FiguresCharts

        yield Static("", id="stats-body")
        yield FiguresCharts(id="figures-charts")

    def reload(self) -> None:
        from gridtool.formats import render_table
        from gridtool.reports import definitions, stats, stats_rows

        today = self.app.clock().date()  # type: ignore[attr-defined]
        report = stats(self.app.store, date(today.year, today.month, 1), today, by="grid")  # type: ignore[attr-defined]
        body = [
            t("tui.stats_period", start=report.start.isoformat(), end=report.end.isoformat()),
            "",
            render_table(stats_rows(report, labels=True)),
            "",
            *definitions(),
        ]
        self.query_one("#stats-body", Static).update("\n".join(body))
        from gridtool.monthly import figures

        self.query_one("#figures-charts").show(figures(self.app.store, today))  # type: ignore[attr-defined]


class ServiceView(Vertical):
    """Volunteer orders still open and the households due a visit today: what to chase this morning.

    The same rows as ``gridtool order list --open`` and ``gridtool report visits-due`` (phones
    masked), each in its own :class:`RecordList` so a long list scrolls instead of pushing the
    other off screen or wrapping mid-row on a narrow terminal; Tab moves between the two.
    """

    DEFAULT_CSS = """
    ServiceView .service-title { padding: 0 1; height: auto; text-style: bold; }
    ServiceView RecordList { height: 1fr; margin: 0 0 1 0; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", id="orders-title", classes="service-title", markup=False)
        yield RecordList(
            [
                Column("order", field_label("order"), 12, 12),
                Column("status", field_label("status"), 6, 8),
                Column("service", field_label("service"), 8, 10),
                Column("household", field_label("household"), 6, 10),
                Column("address", field_label("address"), 12, 40, flexible=True),
                Column("volunteer", field_label("volunteer"), 6, 10),
                Column("wanted_by", field_label("wanted_by"), 10, 10),
                Column("issue", field_label("issue"), 4, 11),
            ],
            _text_cell,
            id="orders-list",
        )
        yield Static("", id="visits-title", classes="service-title", markup=False)
        yield RecordList(
            [
                Column("due", field_label("due"), 10, 10),
                Column("days_overdue", field_label("days_overdue"), 2, 4),
                Column("head", field_label("head"), 6, 10),
                Column("address", field_label("address"), 12, 40, flexible=True),
                Column("phone", field_label("phone"), 11, 11),
                Column("grid", field_label("grid"), 5, 8),
                Column("tag", field_label("tag"), 8, 10),
                Column("every", field_label("every"), 7, 14),
                Column("last_visit", field_label("last_visit"), 10, 16),
            ],
            _text_cell,
            id="visits-list",
        )

    def reload(self) -> None:
        from gridtool import visits, volunteers

        store = self.app.store  # type: ignore[attr-defined]
        today = self.app.clock().date()  # type: ignore[attr-defined]
        orders = volunteers.list_orders(store, open_only=True)
        due = visits.due(store, as_of=today)
        params = visits.listing_params(due)
        self.query_one("#orders-title", Static).update(t("tui.open_orders", count=len(orders)))
        self.query_one("#orders-list", RecordList).set_rows(
            volunteers.order_rows(store, orders), keep=lambda row: row["id"]
        )
        self.query_one("#visits-title", Static).update(
            t("report.visits_due.summary", **params) if due.rows else t("report.visits_due.none", **params)
        )
        rows = [
            {**row, "household": plain["household"]}
            for row, plain in zip(visits.listing_rows(due, labels=True), due.rows, strict=True)
        ]
        self.query_one("#visits-list", RecordList).set_rows(rows, keep=lambda row: row["household"])


def _text_cell(row: dict[str, Any], key: str) -> str:
    value = row.get(key, "")
    return "" if value is None else str(value)


def _action_label(action: str) -> str:
    from gridtool.issues import label

    return t("tui.new_issue") if action == "new" else label("action", action)


def app_bindings() -> list[BindingType]:
    """The dashboard's keys, labelled in the current language."""
    return [
        Binding("q", "quit", t("tui.quit"), id="quit"),
        Binding("slash", "search", t("tui.search"), id="search"),
        Binding("p", "reveal", t("tui.reveal"), id="reveal"),
        Binding("question_mark", "help", t("tui.help"), id="help"),
        Binding("1", "show_tab('queue')", t("tui.queue"), show=False),
        Binding("2", "show_tab('households')", t("tui.households"), show=False),
        Binding("3", "show_tab('leads')", t("tui.leads"), show=False),
        Binding("4", "show_tab('stats')", t("tui.stats"), show=False),
        Binding("5", "show_tab('service')", t("tui.service"), show=False),
        *[
            Binding(
                key,
                f"issue('{action}')",
                _action_label(action),
                id=f"issue-{action}",
                show=action in ("new", "assign", "accept", "resolve", "visit"),
            )
            for key, action in ACTION_KEYS.items()
        ],
        Binding("escape", "focus_list", show=False),
        Binding("l", "load_timelines", t("tui.timeline"), show=False),
        Binding("6", "conflicts", t("tui.conflicts"), show=False),
        Binding(
            "ctrl+p",
            "command_palette",
            t("tui.palette"),
            show=False,
            priority=True,
            tooltip=t("tui.palette_tip"),
        ),
        Binding("ctrl+q", "quit", t("tui.quit"), show=False, priority=True, tooltip=t("tui.quit_tip")),
    ]


TEXTUAL_COMMANDS = {  # Textual's palette entries we keep, by their English title: our catalog key
    "Theme": "tui.cmd_theme",
    "Quit": "tui.cmd_quit",
    "Keys": "tui.cmd_keys",
    "Screenshot": "tui.cmd_screenshot",
}


class PaletteCommands(SystemCommandsProvider):
    """The palette's commands, found by their name or its pinyin initials (fd finds 分单)."""

    async def search(self, query: str) -> Hits:
        from gridtool.search import is_initials_query, matches_initials

        matcher = self.matcher(query)
        initials = query.strip().lower()
        for name, help_text, callback, *_ in self.app.get_system_commands(self.screen):
            score = matcher.match(name)
            if score <= 0 and is_initials_query(initials) and matches_initials(initials, name):
                score = 0.9
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


class GridtoolApp(App[None]):
    """The grid office's dashboard over one store."""

    TITLE = "gridtool"
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {PaletteCommands}
    BINDINGS: ClassVar[list[BindingType]] = app_bindings()

    def __init__(
        self,
        store_path: Path,
        poll_seconds: float = POLL_SECONDS,
        clock: Callable[[], datetime] = datetime.now,
    ) -> None:
        # Key labels are made when the class is; a language chosen later (--lang, a test) needs
        # them made again before Textual copies them into this app.
        type(self).BINDINGS = app_bindings()
        type(self)._merged_bindings = type(self)._merge_bindings()
        super().__init__()
        self.timeline_ready = False
        self.event_file: Any = None  # gridtool.timelines.EventFile, once timelines are asked for
        self.store = Store(store_path)
        self.poll_seconds = poll_seconds
        self.clock = clock
        self.sub_title = self.store.meta.get("name") or store_path.name

    def get_default_screen(self) -> Screen[Any]:
        return MainScreen(id="_default")

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="queue"):
            with TabPane(t("tui.queue"), id="queue"):
                yield QueueView(id="queue-view")
            with TabPane(t("tui.households"), id="households"):
                yield RegisterView(
                    "household",
                    [
                        Column("id", field_label("id"), 8, 8),
                        Column("grid", field_label("grid"), 5, 8),
                        Column("address", field_label("address"), 12, 40, flexible=True),
                        Column("head", field_label("head"), 6, 10),
                        Column("phone", field_label("phone"), 11, 11),
                        Column("tags", field_label("tags"), 4, 24),
                        Column("open_issues", field_label("open_issues"), 4, 8),
                    ],
                    id="households-view",
                )
            with TabPane(t("tui.leads"), id="leads"):
                yield RegisterView(
                    "lead",
                    [
                        Column("id", field_label("id"), 8, 8),
                        Column("name", field_label("name"), 4, 16, flexible=True),
                        Column("roles", field_label("roles"), 4, 24),
                        Column("open_issues", field_label("open_issues"), 4, 8),
                        Column("grid", field_label("grid"), 5, 8),
                        Column("buildings", field_label("buildings"), 4, 30),
                    ],
                    id="leads-view",
                )
            with TabPane(t("tui.stats"), id="stats"):
                yield StatsView(id="stats-view")
            with TabPane(t("tui.service"), id="service"):
                yield ServiceView(id="service-view")
        yield Footer()

    def on_mount(self) -> None:
        events = self.store.table_path("events")
        # Timelines live in the events table, the biggest one (160 MB for 100,000 issues). A small
        # one is read now; a big one when the lead first asks for a timeline (Enter or ``l``), so
        # the queue opens at once. Parsing holds the interpreter, so a thread would not help.
        self.timeline_ready = not events.exists() or events.stat().st_size < EAGER_TIMELINE_BYTES
        self.reload_views()
        self.main.query_one("#queue-list", RecordList).focus()
        self.set_interval(self.poll_seconds, self.take_in_changes)

    def action_load_timelines(self) -> None:
        if not self.timeline_ready:
            from gridtool.issues import timeline
            from gridtool.timelines import EventFile

            found = EventFile(self.store)
            if found.build():  # where each issue's events lie: half a second, not the whole table
                self.event_file = found
            else:
                timeline(self.store, "")  # loads the table and builds its index by issue
            self.timeline_ready = True
        queue = self.main.query_one(QueueView)
        queue.show_detail(queue.current())

    def timeline(self, issue_id: str) -> list[dict[str, Any]]:
        """An issue's events in order, from the events file while the table is not loaded."""
        from gridtool.issues import event_order, timeline

        if self.event_file is not None and not self.store.is_loaded("events"):
            events = self.event_file.events(issue_id)
            if events is not None:
                return sorted(events, key=event_order)
        return timeline(self.store, issue_id)

    def on_record_list_selected(self, event: RecordList.Selected) -> None:
        if event.record_list.id == "queue-list":
            self.action_load_timelines()
            queue = self.main.query_one(QueueView)
            if queue.narrow:  # no room beside the list: the detail takes the screen
                from .detail import DetailScreen

                self.push_screen(DetailScreen(queue.detail_text(queue.current())))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Issue keys only where there is an issue to act on: not over the conflicts."""
        if action in ("issue", "load_timelines", "reveal"):
            from .detail import DetailScreen

            return self.screen is self.main or isinstance(self.screen, DetailScreen)
        if action in ("search", "focus_list"):
            return self.screen is self.main
        return True

    @property
    def main(self) -> Screen[Any]:
        """The screen with the tabs, under any detail, form or conflicts screen on top of it."""
        return self.screen_stack[0]

    def reload_views(self) -> None:
        """Reload the view on screen now, the others when they are next shown."""
        active = self.main.query_one(TabbedContent).active or "queue"
        self._stale_tabs = {"queue", "households", "leads", "stats", "service"} - {active}
        self._active_view().reload()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        tab = event.pane.id or ""
        if tab in getattr(self, "_stale_tabs", set()):
            self._stale_tabs.discard(tab)
            self._active_view().reload()

    def take_in_changes(self) -> None:
        """Redraw when another process wrote the store; never write anything ourselves here."""
        if self.store.refresh():
            self.reload_views()

    def _active_view(self) -> Any:
        pane = self.main.query_one(TabbedContent).active_pane
        assert pane is not None
        return pane.query_one("RegisterView, QueueView, StatsView, ServiceView")

    def action_issue(self, action: str) -> None:
        from .detail import DetailScreen

        if isinstance(self.screen, DetailScreen):  # act on the issue shown, then see the list again
            self.pop_screen()
        elif self.screen is not self.main:
            self.bell()
            return
        if self.main.query_one(TabbedContent).active != "queue":
            self.action_show_tab("queue")
        self.main.query_one(QueueView).start(action)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):  # Textual's own, in our language
            title = TEXTUAL_COMMANDS.get(command.title)
            if title is not None:
                yield command._replace(title=t(title), help=t(f"{title}_help"))
        for key, action in ACTION_KEYS.items():
            yield SystemCommand(
                _action_label(action), t("tui.palette_key", key=key), partial(self.action_issue, action)
            )
        for tab in ("queue", "households", "leads", "stats", "service"):
            yield SystemCommand(t(f"tui.{tab}"), t("tui.palette_view"), partial(self.action_show_tab, tab))
        yield SystemCommand(t("tui.conflicts"), t("tui.palette_key", key="6"), self.action_conflicts)

    def action_search(self) -> None:
        for found in self._active_view().query(Input):
            found.focus()

    def action_focus_list(self) -> None:
        if self.screen.query("HelpPanel"):  # Escape closes the list of keys first
            self.action_hide_help_panel()
            return
        view = self._active_view()
        found = view.query(RecordList)
        if found:
            found.first().focus()  # the view's first list; Tab reaches the others
        elif view.focusable:  # the figures scroll: focus stays in the tab shown, or it switches back
            view.focus()
        else:
            self.screen.set_focus(None)

    def action_reveal(self) -> None:
        view = self._active_view()
        if hasattr(view, "toggle_reveal"):
            view.toggle_reveal()

    def action_show_tab(self, tab: str) -> None:
        self.main.query_one(TabbedContent).active = tab
        self.action_focus_list()

    def action_conflicts(self) -> None:
        """The sync conflicts waiting to be settled (``gridtool sync conflicts``)."""
        from .conflicts import ConflictsScreen

        if isinstance(self.screen, ConflictsScreen):  # 6 again goes back rather than stacking a copy
            self.pop_screen()
            return
        self.push_screen(ConflictsScreen())

    def action_help(self) -> None:
        """``?`` opens the list of keys and closes it again."""
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()


def run(store_path: Path) -> None:
    GridtoolApp(store_path).run()
