"""The sync conflicts as a queue to settle: what ``gridtool sync conflicts`` lists, one key per decision.

Opened with ``6`` from anywhere in the dashboard, closed with ``6`` again or ``Escape``.
Settling goes through ``gridtool.sync.resolve``, the same operation the command line writes, so
the decision travels with the next bundle.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Header, OptionList, Static
from textual.widgets.option_list import Option

from gridtool import sync
from gridtool.errors import GridtoolError
from gridtool.i18n import field_label, t, table_label, tn

from .footer import Footer
from .keys import screen_keys


class ConflictsScreen(Screen[None]):
    """Every unsettled conflict on the left, the values of the highlighted one on the right."""

    DEFAULT_CSS = """
    ConflictsScreen Horizontal { height: 1fr; }
    ConflictsScreen OptionList { width: 3fr; }
    ConflictsScreen #conflict-detail { width: 2fr; padding: 0 1; border-left: solid $panel-lighten-2; }
    """

    def __init__(self) -> None:
        # Key labels in the current language, made before Textual copies them (as the app does).
        type(self).BINDINGS = self.bindings()
        type(self)._merged_bindings = type(self)._merge_bindings()
        super().__init__()
        self.found: list[sync.Conflict] = []
        self.revealed = False
        self.message = ""  # what was just settled, shown until the person moves on
        self._settling = False

    @staticmethod
    def bindings() -> list[BindingType]:
        return [
            *screen_keys(),
            Binding("escape", "app.pop_screen", t("tui.back")),
            Binding("m", "settle('mine')", t("tui.keep_mine")),
            Binding("o", "settle('theirs')", t("tui.keep_theirs")),
            Binding("p", "reveal", t("tui.reveal")),
        ]

    BINDINGS: ClassVar[list[BindingType]] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield OptionList(id="conflict-list")
            yield Static("", id="conflict-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        self.query_one(OptionList).focus()

    @property
    def store(self) -> Any:
        return self.app.store  # type: ignore[attr-defined]

    def reload(self) -> None:
        self.found = sync.conflicts(self.store)
        self.state = sync.load_state(self.store)  # peers' names, read once per reload, not per key
        listing = self.query_one(OptionList)
        listing.clear_options()
        if not self.found:
            listing.add_option(Option(t("sync.no_conflicts"), disabled=True))
        for conflict in self.found:
            # Text, not markup: "[needs you]" would be read as a style and vanish.
            listing.add_option(Option(Text(self.heading(conflict)), id=conflict.id))
        if self.found:
            self._settling = True  # this highlight is ours: the confirmation stays
            listing.highlighted = 0
        self.show_detail()

    def heading(self, conflict: sync.Conflict) -> str:
        """The CLI's title with the record named as people name it."""
        from gridtool.conflict_names import record_name

        badge = t("sync.badge_human") if conflict.human else t("sync.badge_auto")
        what = t("sync.field_record") if conflict.field == "*" else field_label(conflict.field)
        return f"{badge}  {record_name(self.store, conflict.table, conflict.record)} · {what}"

    def current(self) -> sync.Conflict | None:
        index = self.query_one(OptionList).highlighted
        return self.found[index] if self.found and index is not None and index < len(self.found) else None

    def on_option_list_option_highlighted(self, _: OptionList.OptionHighlighted) -> None:
        if not self._settling:
            self.message = ""  # the confirmation stays until the person moves on
        self._settling = False
        self.show_detail()

    def show_detail(self) -> None:
        from gridtool.conflict_names import laptop_name, record_name, unmask_differences

        conflict = self.current()
        lines = [self.message, ""] if self.message else []
        if conflict is not None:
            name = record_name(self.store, conflict.table, conflict.record)
            lines += [f"[b]{escape(name)}[/b]  [dim]{table_label(conflict.table)}[/dim]", ""]
            shown = [
                sync.shown_value(conflict, option, self.revealed, self.store) for option in conflict.options
            ]
            if not self.revealed:
                plain = [sync.shown_value(conflict, option, True, self.store) for option in conflict.options]
                unmasked = unmask_differences(shown, plain)
                if unmasked != shown:
                    shown = unmasked
                    lines += [f"[dim]{t('tui.conflict_digits_shown')}[/dim]", ""]
            for n, (option, value) in enumerate(zip(conflict.options, shown, strict=True)):
                mark = "→" if n == conflict.winner else " "
                who = laptop_name(
                    self.store, option["origin"], sync.peer_name(self.store, self.state, option["origin"])
                )
                lines.append(f"{mark} {escape(value)}  [dim]({escape(who)})[/dim]")
            lines += ["", f"[dim]{t('tui.conflict_keys')}[/dim]"]
        self.query_one("#conflict-detail", Static).update("\n".join(lines))

    def action_reveal(self) -> None:
        self.revealed = not self.revealed
        self.show_detail()

    def action_settle(self, keep: str) -> None:
        conflict = self.current()
        if conflict is None:
            return
        try:
            settled, _ = sync.resolve(self.store, conflict.id, keep=keep)
        except GridtoolError as err:
            self.message = f"[red]{escape(err.message())}[/red]"
            self.show_detail()
            return
        message = t("sync.resolved", id=conflict.id)
        if settled.restored:  # a kept household came back with its members: say so here too
            tables = sorted({table_label(item["table"]) for item in settled.restored})
            message += "\n" + tn("sync.restored", len(settled.restored), what=", ".join(tables))
        self.message = f"[green]{escape(message)}[/green]"
        self.reload()
        self.app.reload_views()  # type: ignore[attr-defined]  # the queue and details show the kept value
