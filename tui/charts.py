"""Terminal charts for the figures tab: the 12-month trend, this month by category, people per grid.

Drawn with block characters in plain ``Static`` widgets rather than a plotting library: the
figures are a dozen bars, the pictures stay the same from one terminal to the next (snapshot
tests), and the dashboard's start-up pays nothing for them (textual-plotext would import plotext).
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from gridtool.i18n import t

EIGHTHS = " ▁▂▃▄▅▆▇█"
"""Column heights in eighths of a cell, from empty to full."""
WIDTHS = " ▏▎▍▌▋▊▉█"
"""Bar lengths in eighths of a cell."""
RECEIVED, RESOLVED = "dodger_blue1", "green3"
ELDERLY, OTHERS = "dark_orange", "grey62"
COLUMN_ROWS = 8
BAR_CELLS = 30


def hbar(value: int, top: int, cells: int = BAR_CELLS) -> str:
    """A horizontal bar ``value / top`` of ``cells`` long, to an eighth of a cell."""
    if top <= 0 or value <= 0:
        return ""
    eighths = max(1, round(8 * cells * value / top))
    return "█" * (eighths // 8) + (WIDTHS[eighths % 8] if eighths % 8 else "")


def columns(series: list[tuple[list[int], str]], labels: list[str], rows: int = COLUMN_ROWS) -> Text:
    """Side-by-side columns per label (one per series, in its colour), ``rows`` high, labels below."""
    top = max((v for values, _ in series for v in values), default=0)
    text = Text()
    for row in range(rows, 0, -1):
        for index in range(len(labels)):
            for values, style in series:
                eighths = round(8 * rows * values[index] / top) if top else 0
                filled = eighths - 8 * (row - 1)
                text.append(EIGHTHS[min(max(filled, 0), 8)], style=style)
            text.append(" ")
        text.append("\n")
    text.append("".join(f"{label:<{len(series) + 1}}" for label in labels))
    return text


def _pad(label: str, width: int) -> str:
    return label + " " * max(width - cell_len(label), 0)


class FiguresCharts(Vertical):
    """The charts under the figures table, redrawn by :meth:`show` from ``gridtool.monthly.Figures``."""

    DEFAULT_CSS = """
    FiguresCharts { height: auto; padding: 0 2; }
    FiguresCharts Static { height: auto; margin: 0 0 1 0; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", id="chart-trend")
        yield Static("", id="chart-categories")
        yield Static("", id="chart-population")

    def show(self, figures: Any) -> None:
        trend = figures.trend
        picture = Text(t("tui.chart.trend") + "  ", style="bold")
        picture.append("█ " + t("monthly.trend.received"), style=RECEIVED)
        picture.append("  ")
        picture.append("█ " + t("monthly.trend.resolved"), style=RESOLVED)
        top = max((m.received for m in trend), default=0)
        picture.append("  " + t("tui.chart.max", n=top) + "\n", style="dim")
        picture.append_text(
            columns(
                [([m.received for m in trend], RECEIVED), ([m.resolved for m in trend], RESOLVED)],
                [m.name[5:] for m in trend],
            )
        )
        self.query_one("#chart-trend", Static).update(picture)
        self.query_one("#chart-categories", Static).update(self._bars(figures.by_category))
        self.query_one("#chart-population", Static).update(self._people(figures.population))

    def _bars(self, groups: list[Any]) -> Text:
        text = Text(t("tui.chart.by_category") + "\n", style="bold")
        if not groups:
            return text.append(t("tui.chart.none"), style="dim")
        ordered = sorted(groups, key=lambda m: (-m.received, m.name))
        width = max(cell_len(m.name) for m in ordered) + 1
        top = max(m.received for m in ordered)
        for m in ordered:
            text.append(_pad(m.name, width))
            text.append(hbar(m.received, top), style=RECEIVED)
            text.append(f" {m.received}")
            text.append(f" / {m.resolved}\n", style=RESOLVED)
        text.rstrip()
        return text

    def _people(self, population: Any) -> Text:
        text = Text(t("tui.chart.population") + "  ", style="bold")
        text.append("█ " + t("tui.chart.elderly_key"), style=ELDERLY)
        text.append("\n")
        rows = population.rows
        if not rows:
            return text.append(t("tui.chart.none"), style="dim")
        width = max(cell_len(row.name) for row in rows) + 1
        top = max(row.residents for row in rows)
        for row in rows:
            elderly = row.ages["age_60_79"] + row.ages["age_80_plus"]
            bar = hbar(row.residents, top)
            old = round(BAR_CELLS * elderly / top) if top else 0  # whole cells: the bar's own colours
            text.append(_pad(row.name, width))
            text.append(bar[:old], style=ELDERLY)
            text.append(bar[old:], style=OTHERS)
            text.append(" " + t("tui.chart.residents", n=row.residents, elderly=elderly) + "\n")
        text.rstrip()
        return text
