"""Key labels in the current language for Textual's own bindings (screens, lists, scrolling).

Textual labels its keys in English when its classes are defined; the help panel lists them all.
Each of our classes takes labelled bindings when it is made, before Textual copies them, because
the language may be chosen after import (``--lang``, a test).
"""

from __future__ import annotations

from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import Screen

from gridtool.i18n import t


def relabel(cls: type[DOMNode], bindings: list[BindingType]) -> None:
    """Give ``cls`` these bindings, merged over its bases' as Textual does at class creation."""
    cls.BINDINGS = bindings
    cls._merged_bindings = cls._merge_bindings()


def screen_keys() -> list[BindingType]:
    """What every screen offers: Tab between areas, copying."""
    return [
        Binding("tab", "app.focus_next", t("tui.key_focus_next"), show=False),
        Binding("shift+tab", "app.focus_previous", t("tui.key_focus_previous"), show=False),
        Binding("ctrl+c,super+c", "screen.copy_text", t("tui.key_copy"), show=False),
    ]


def scroll_keys() -> list[BindingType]:
    """Scrolling a pane of text (an issue's detail, a form's fields)."""
    return [
        Binding("up", "scroll_up", t("tui.key_scroll_up"), show=False),
        Binding("down", "scroll_down", t("tui.key_scroll_down"), show=False),
        Binding("left", "scroll_left", show=False, system=True),
        Binding("right", "scroll_right", show=False, system=True),
        Binding("home", "scroll_home", t("tui.key_first"), show=False),
        Binding("end", "scroll_end", t("tui.key_last"), show=False),
        Binding("pageup", "page_up", t("tui.key_page_up"), show=False),
        Binding("pagedown", "page_down", t("tui.key_page_down"), show=False),
        Binding("ctrl+pageup", "page_left", show=False, system=True),
        Binding("ctrl+pagedown", "page_right", show=False, system=True),
    ]


class MainScreen(Screen[None]):
    """The screen with the tabs, its keys labelled in the current language."""

    def __init__(self, **kwargs: object) -> None:
        relabel(type(self), screen_keys())
        super().__init__(**kwargs)  # type: ignore[arg-type]


class TextPane(VerticalScroll):
    """A scrolling pane of text whose keys are labelled in the current language."""

    def __init__(self, *children: object, **kwargs: object) -> None:
        relabel(type(self), scroll_keys())
        super().__init__(*children, **kwargs)  # type: ignore[arg-type]
