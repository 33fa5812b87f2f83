"""A table drawn line by line: only the visible rows are rendered, so 100,000 rows open at once.

Textual's DataTable measures every cell up front (about 16 s for 100,000 rows on this machine);
this widget, like toolong's log view, renders a row only when it scrolls into sight. Column widths
come from the header and a sample of rows, and cells are cut by display width (with …) so Chinese
text lines up. When the columns do not fit, those of lowest priority are left out rather than
the list scrolling sideways, and the highlighted row always stays in sight.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from gridtool.i18n import t
from gridtool.validate import visible

from .keys import relabel

SAMPLE_ROWS = 60
GAP = 2


def list_keys() -> list[BindingType]:
    """Moving through the rows, labelled in the current language."""
    return [
        Binding("up,k", "cursor(-1)", t("tui.key_up"), show=False),
        Binding("down,j", "cursor(1)", t("tui.key_down"), show=False),
        Binding("pageup", "page(-1)", t("tui.key_page_up"), show=False),
        Binding("pagedown", "page(1)", t("tui.key_page_down"), show=False),
        Binding("home", "jump(0)", t("tui.key_first"), show=False),
        Binding("end", "jump(-1)", t("tui.key_last"), show=False),
        Binding("enter", "select", t("tui.key_open"), show=False),
        Binding("left", "scroll_left", show=False, system=True),
        Binding("right", "scroll_right", show=False, system=True),
        Binding("ctrl+pageup", "page_left", show=False, system=True),
        Binding("ctrl+pagedown", "page_right", show=False, system=True),
    ]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    min_width: int = 4
    max_width: int = 30
    flexible: bool = False  # takes the width left over (a title or an address)
    priority: int = 0  # when the columns do not fit, the lowest are left out first (0: never)


class RecordList(ScrollView, can_focus=True):
    """Rows of any objects; ``cell(row, key)`` turns one into text and ``row_style(row)`` colours it."""

    DEFAULT_CSS = """
    RecordList { height: 1fr; }
    RecordList > .record-list--header { text-style: bold; }
    RecordList > .record-list--cursor { background: $accent 40%; }
    RecordList:focus > .record-list--cursor { background: $accent; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"record-list--header", "record-list--cursor"}
    BINDINGS: ClassVar[list[BindingType]] = []
    cursor: reactive[int] = reactive(0)

    class Highlighted(Message):
        def __init__(self, record_list: RecordList, row: Any | None) -> None:
            super().__init__()
            self.record_list = record_list
            self.row = row

    class Selected(Highlighted):
        pass

    def __init__(
        self,
        columns: Sequence[Column],
        cell: Callable[[Any, str], str],
        row_style: Callable[[Any], str | None] | None = None,
        cell_style: Callable[[Any, str], str | None] | None = None,
        **kwargs: Any,
    ) -> None:
        relabel(type(self), list_keys())
        super().__init__(**kwargs)
        self.columns = list(columns)
        self.cell = cell
        self.row_style = row_style
        self.cell_style = cell_style
        self.rows: Sequence[Any] = []
        self.widths = [max(c.min_width, cell_len(c.label)) for c in self.columns]
        self.shown = list(range(len(self.columns)))  # the columns that fit, in their order

    # -- data ---------------------------------------------------------------------------------

    def set_rows(self, rows: Sequence[Any], keep: Callable[[Any], Any] | None = None) -> None:
        """Show ``rows``; with ``keep`` (a key function) the cursor stays on the same record."""
        current = self.current_row
        self.rows = rows
        self._measure()
        target = 0
        if keep is not None and current is not None:
            wanted = keep(current)
            target = next(
                (i for i, r in enumerate(rows) if keep(r) == wanted), min(self.cursor, len(rows) - 1)
            )
        self.cursor = max(0, min(target, len(rows) - 1))
        self.call_after_refresh(self.scroll_to_cursor)  # the same index may now be off screen
        self.refresh()
        self.post_message(self.Highlighted(self, self.current_row))

    def set_columns(self, columns: Sequence[Column]) -> None:
        self.columns = list(columns)
        self.set_rows(self.rows)

    @property
    def current_row(self) -> Any | None:
        if 0 <= self.cursor < len(self.rows):
            return self.rows[self.cursor]
        return None

    def _measure(self) -> None:
        sample = self.rows[:SAMPLE_ROWS]
        natural, least = [], []
        for column in self.columns:
            longest = max((cell_len(self.cell(r, column.key)) for r in sample), default=0)
            least.append(max(column.min_width, cell_len(column.label)))
            natural.append(max(least[-1], min(longest, column.max_width)))
        room = self.scrollable_content_region.width or self.size.width
        shown = list(range(len(self.columns)))
        if room:
            # Columns keep their natural width (a status cut to "escala" helps nobody); only the
            # flexible ones shrink, down to their least, before a column of low priority goes.
            def needed(i: int) -> int:
                return (least[i] if self.columns[i].flexible else natural[i]) + GAP

            droppable = sorted(
                (i for i in shown if self.columns[i].priority), key=lambda i: self.columns[i].priority
            )
            while droppable and sum(map(needed, shown)) - GAP > room:
                shown.remove(droppable.pop(0))
        widths = {i: natural[i] for i in shown}
        used = sum(widths.values()) + GAP * (len(shown) - 1)  # no gap after the last column
        spare = (room or used) - used
        flexible = [i for i in shown if self.columns[i].flexible]
        if flexible and spare > 0:
            for i in flexible:
                widths[i] += spare // len(flexible)
        elif spare < 0:
            # Too narrow still: flexible columns give up their slack first, then the widest.
            for i in sorted(shown, key=lambda i: (not self.columns[i].flexible, least[i] - widths[i])):
                give = min(-spare, widths[i] - least[i])
                widths[i] -= give
                spare += give
                if spare >= 0:
                    break
        self.shown = shown
        self.widths = [widths.get(i, 0) for i in range(len(self.columns))]
        self.virtual_size = Size(sum(widths.values()) + GAP * (len(shown) - 1), len(self.rows) + 1)

    def on_resize(self, event: events.Resize) -> None:
        self._measure()
        self.scroll_to_cursor()

    # -- drawing ------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        base = self.rich_style
        if y == 0:  # the header stays put while the rows scroll
            style = base + self.get_component_rich_style("record-list--header")
            return self._strip({c.key: c.label for c in self.columns}, style, None).crop_extend(
                scroll_x, scroll_x + width, base
            )
        index = scroll_y + y - 1
        if index >= len(self.rows):
            return Strip.blank(width, base)
        row = self.rows[index]
        style = base
        extra = self.row_style(row) if self.row_style else None
        if extra:
            style = style + Style.parse(extra)
        if index == self.cursor:
            style = style + self.get_component_rich_style("record-list--cursor")
        keys = [self.columns[i].key for i in self.shown]
        styles = None
        if self.cell_style is not None:
            styles = {key: self.cell_style(row, key) for key in keys}
        return self._strip({key: self.cell(row, key) for key in keys}, style, styles).crop_extend(
            scroll_x, scroll_x + width, style
        )

    def _strip(self, cells: dict[str, str], style: Style, styles: dict[str, str | None] | None) -> Strip:
        segments = []
        for i in self.shown:
            key = self.columns[i].key
            own = style + Style.parse(styles[key]) if styles and styles.get(key) else style  # type: ignore[arg-type]
            if segments:
                segments.append(Segment(" " * GAP, style))
            segments.append(Segment(fit(cells.get(key, ""), self.widths[i]), own))
        return Strip(segments)

    # -- moving -------------------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh()
        self.scroll_to_cursor()
        if old != new:
            self.post_message(self.Highlighted(self, self.current_row))

    def scroll_to_cursor(self) -> None:
        """Scroll so the highlighted row is in sight, above a horizontal scrollbar if there is one."""
        visible = max(1, self.scrollable_content_region.height - 1)  # less the header
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False)

    def action_cursor(self, step: int) -> None:
        if self.rows:
            self.cursor = max(0, min(len(self.rows) - 1, self.cursor + step))

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(1, self.size.height - 2))

    def action_jump(self, where: int) -> None:
        if self.rows:
            self.cursor = where if where >= 0 else len(self.rows) - 1

    def action_select(self) -> None:
        if self.current_row is not None:
            self.post_message(self.Selected(self, self.current_row))

    def on_click(self, event: events.Click) -> None:
        index = int(self.scroll_y) + event.y - 1
        if event.y >= 1 and 0 <= index < len(self.rows):
            self.cursor = index
            if event.chain == 2:
                self.action_select()


def fit(text: str, width: int) -> str:
    """``text`` on one line in exactly ``width`` cells, cut with … when it is longer."""
    text = visible(text.replace("\n", " "))  # the data never drives the terminal
    if cell_len(text) > width > 1:
        return set_cell_size(text, width - 1) + "…"
    return set_cell_size(text, width)
