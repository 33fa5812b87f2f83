"""The Textual dashboard (gridtool.tui). It calls the gridtool library only."""
