"""The dashboard's tests run without animations, and a failed snapshot says in the test's own
output what changed on screen.

An animation runs on the wall clock: on a busy machine a picture or a scroll offset could be taken
halfway through one. CI keeps only what pytest prints, not the HTML report, so a mismatch would
otherwise be known only as ``assert False``.
"""

from __future__ import annotations

import difflib
import html
import pickle
import re
from collections.abc import Callable
from typing import Any

import pytest

_TEXT = re.compile(r'<text[^>]*\by="([\d.]+)"[^>]*>(.*?)</text>', re.S)


def screen_rows(svg: str) -> list[str]:
    """The characters of a Textual SVG screenshot, row by row."""
    rows: dict[float, list[str]] = {}
    for y, text in _TEXT.findall(svg):
        rows.setdefault(float(y), []).append(html.unescape(text).replace("\xa0", " "))
    return ["".join(parts).rstrip() for _, parts in sorted(rows.items())]


@pytest.fixture(autouse=True)
def settled_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every app these tests start scrolls and slides in one step (``TEXTUAL_ANIMATIONS=none``)."""
    from textual import constants

    monkeypatch.setattr(constants, "TEXTUAL_ANIMATIONS", "none")


@pytest.fixture
def snap_compare(snap_compare: Callable[..., bool], request: pytest.FixtureRequest) -> Callable[..., bool]:
    from pytest_textual_snapshot import node_to_report_path

    def compare(app: Any, **kwargs: Any) -> bool:
        same = snap_compare(app, **kwargs)
        if not same:
            expected, actual = pickle.loads(node_to_report_path(request.node).read_bytes())[1:3]
            diff = difflib.unified_diff(
                screen_rows(expected), screen_rows(actual), "expected", "actual", lineterm=""
            )
            print("What changed on screen:", *diff, sep="\n")
        return same

    return compare
