"""The dashboard's lists never hand a control sequence from the data to the terminal (issue 16)."""

from __future__ import annotations

from pathlib import Path

from gridtool.demo import create_store, shipped
from gridtool.store import Store
from gridtool.tui.app import GridtoolApp
from gridtool.tui.record_list import RecordList

HOSTILE = "\x1b]0;pwned\x07返水\u202e"


async def test_a_title_holding_an_escape_is_drawn_escaped(tmp_path: Path) -> None:
    path = tmp_path / "demo" / "gridtool.json"
    create_store(path, shipped())
    store = Store(path)
    issue_id = next(i for i, r in store.records("issues").items() if r.get("status") == "reported")
    with store.transaction() as tx:  # as a store written before the validator, or a peer, holds it
        tx.update("issues", issue_id, {"title": HOSTILE})
    app = GridtoolApp(path)
    async with app.run_test(size=(200, 45)) as pilot:
        listing = app.query_one("#queue-list", RecordList)
        listing.cursor = next(n for n, row in enumerate(listing.rows) if row["id"] == issue_id)
        await pilot.pause()
        drawn = "".join(
            segment.text for y in range(listing.size.height) for segment in listing.render_line(y)
        )
    assert "\x1b" not in drawn and "\x07" not in drawn and "\u202e" not in drawn
    assert "\\x1b]0;pwned\\x07返水" in drawn
