"""A table drawn line by line: only the visible rows are rendered, so 100,000 rows open at once.

Textual's DataTable measures every cell up front (about 16 s for 100,000 rows on this machine);
this widget, like toolong's log view, renders a row only when it scrolls into sight. Column widths
come from the header and a sample of rows, and cells are cut by display width so Chinese text
lines up.
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

from gridtool.validate import visible

SAMPLE_ROWS = 60
GAP = 2


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    min_width: int = 4
    max_width: int = 30
    flexible: bool = False  # takes the width left over (a title or an address)


class RecordList(ScrollView, can_focus=True):
    """Rows of any objects; ``cell(row, key)`` turns one into text and ``row_style(row)`` colours it."""

    DEFAULT_CSS = """
    RecordList { height: 1fr; }
    RecordList > .record-list--header { text-style: bold; }
    RecordList > .record-list--cursor { background: $accent 40%; }
    RecordList:focus > .record-list--cursor { background: $accent; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"record-list--header", "record-list--cursor"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
    ]
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
        super().__init__(**kwargs)
        self.columns = list(columns)
        self.cell = cell
        self.row_style = row_style
        self.cell_style = cell_style
        self.rows: Sequence[Any] = []
        self.widths = [max(c.min_width, cell_len(c.label)) for c in self.columns]

    # -- data ---------------------------------------------------------------------------------

    def set_rows(self, rows: Sequence[Any], keep: Callable[[Any], Any] | None = None) -> None:
        """Show ``rows``; with ``keep`` (a key function) the cursor stays on the same record."""
        current = self.current_row
        self.rows = rows
        self._measure()
        self.virtual_size = Size(sum(self.widths) + GAP * len(self.widths), len(rows) + 1)
        target = 0
        if keep is not None and current is not None:
            wanted = keep(current)
            target = next(
                (i for i, r in enumerate(rows) if keep(r) == wanted), min(self.cursor, len(rows) - 1)
            )
        self.cursor = max(0, min(target, len(rows) - 1))
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
        widths = []
        for column in self.columns:
            longest = max((cell_len(self.cell(r, column.key)) for r in sample), default=0)
            widths.append(max(column.min_width, cell_len(column.label), min(longest, column.max_width)))
        spare = self.size.width - sum(widths) - GAP * len(widths)
        flexible = [i for i, c in enumerate(self.columns) if c.flexible]
        if flexible and spare > 0:
            for i in flexible:
                widths[i] += spare // len(flexible)
        elif spare < 0:
            # Too narrow: flexible columns give up their slack first, then the widest, so every
            # column stays on screen before anything needs a sideways scroll.
            def slack(i: int) -> int:
                return widths[i] - max(self.columns[i].min_width, cell_len(self.columns[i].label))

            for i in sorted(range(len(widths)), key=lambda i: (not self.columns[i].flexible, -slack(i))):
                give = min(-spare, slack(i))
                widths[i] -= give
                spare += give
                if spare >= 0:
                    break
        self.widths = widths

    def on_resize(self, event: events.Resize) -> None:
        self._measure()
        self.virtual_size = Size(sum(self.widths) + GAP * len(self.widths), len(self.rows) + 1)

    # -- drawing ------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        base = self.rich_style
        if y == 0:  # the header stays put while the rows scroll
            style = base + self.get_component_rich_style("record-list--header")
            return self._strip([c.label for c in self.columns], style, None).crop_extend(
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
        styles = None
        if self.cell_style is not None:
            styles = [self.cell_style(row, c.key) for c in self.columns]
        return self._strip([self.cell(row, c.key) for c in self.columns], style, styles).crop_extend(
            scroll_x, scroll_x + width, style
        )

    def _strip(self, cells: list[str], style: Style, styles: list[str | None] | None) -> Strip:
        segments = []
        for n, (text, width) in enumerate(zip(cells, self.widths, strict=False)):
            own = style + Style.parse(styles[n]) if styles and styles[n] else style
            shown = visible(text.replace("\n", " "))  # the data never drives the terminal
            segments.append(Segment(set_cell_size(shown, width), own))
            segments.append(Segment(" " * GAP, style))
        return Strip(segments)

    # -- moving -------------------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh()
        visible = max(1, self.size.height - 1)
        top = int(self.scroll_y)
        if new < top:
            self.scroll_to(y=new, animate=False)
        elif new >= top + visible:
            self.scroll_to(y=new - visible + 1, animate=False)
        if old != new:
            self.post_message(self.Highlighted(self, self.current_row))

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
