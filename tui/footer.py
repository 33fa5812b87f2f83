"""The footer of keys, without the leak of Textual's own (textualize/textual#6666)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    """Textual's footer composes its keys again whenever the focused view's bindings change (each
    tab switch here), and every key watches the footer's ``compact`` through ``data_bind``.
    Textual drops such a watcher only when ``compact`` changes, which it never does here, so each
    tab switch kept the replaced keys alive: 18 widgets and 2,500 objects, all day, and a longer
    list for every new key to scan. Drop this class once Textual forgets the watchers of removed
    widgets itself."""

    _composed: tuple[tuple[str, str, str, bool, str], ...] | None = None

    def _shown(self) -> tuple[tuple[str, str, str, bool, str], ...]:
        return tuple(
            (binding.key, binding.action, binding.description, enabled, tooltip)
            for _, binding, enabled, tooltip in self.screen.active_bindings.values()
            if binding.show
        )

    def compose(self) -> ComposeResult:
        # Recorded with the keys composed, from the same bindings: focus may move while a
        # recompose waits for the old keys to go.
        shown, keys = self._shown(), list(super().compose())
        self._composed = shown if keys else None  # nothing yet: bindings not ready
        yield from keys

    async def recompose(self) -> None:
        # Textual composes the keys again on every change of focus (twice a tab switch), even
        # when the keys shown stay the same, as they do across our tabs: that was half the CPU
        # of a switch.
        if self._composed is not None and self._shown() == self._composed:
            return
        await super().recompose()
        watchers = getattr(self, "__watchers", {}).get("compact")  # where Textual's watch() keeps them
        if watchers:
            watchers[:] = [(node, callback) for node, callback in watchers if node.is_attached]
