"""An issue's detail on the whole screen: on a terminal under 100 columns there is no room beside
the list, so Enter opens it here, scrolled to the newest timeline entry; Escape goes back."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Header, Static

from gridtool.i18n import t

from .footer import Footer
from .keys import TextPane, relabel, screen_keys


class DetailScreen(Screen[None]):
    DEFAULT_CSS = """
    DetailScreen VerticalScroll { height: 1fr; padding: 0 1; }
    DetailScreen Static { height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self, text: str) -> None:
        relabel(type(self), [*screen_keys(), Binding("escape", "app.pop_screen", t("tui.back"))])
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        yield Header()
        with TextPane(id="detail-pane"):
            yield Static(self.text, id="detail-full")
        yield Footer()

    def on_mount(self) -> None:
        pane = self.query_one(TextPane)
        pane.focus()
        pane.anchor()  # on the newest entry once laid out, until the person scrolls

    def show(self, text: str) -> None:
        """Show the issue again after a change (an action taken from here, another program)."""
        self.text = text
        self.query_one("#detail-full", Static).update(text)
