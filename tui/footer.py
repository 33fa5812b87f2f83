"""The footer of keys, without the leak of Textual's own (textualize/textual#6666)."""

from __future__ import annotations

from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    """Textual's footer composes its keys again whenever the focused view's bindings change (each
    tab switch here), and every key watches the footer's ``compact`` through ``data_bind``.
    Textual drops such a watcher only when ``compact`` changes, which it never does here, so each
    tab switch kept the replaced keys alive: 18 widgets and 2,500 objects, all day, and a longer
    list for every new key to scan. Drop this class once Textual forgets the watchers of removed
    widgets itself."""

    _composed: tuple[tuple[str, str, str, bool, str], ...] | None = None

    async def recompose(self) -> None:
        # Textual composes the keys again on every change of focus (twice a tab switch), even
        # when the keys shown stay the same, as they do across our tabs: that was half the CPU
        # of a switch.
        shown = tuple(
            (binding.key, binding.action, binding.description, enabled, tooltip)
            for _, binding, enabled, tooltip in self.screen.active_bindings.values()
            if binding.show
        )
        if shown == self._composed:
            return
        await super().recompose()
        self._composed = shown if self.is_attached else None
        watchers = getattr(self, "__watchers", {}).get("compact")  # where Textual's watch() keeps them
        if watchers:
            watchers[:] = [(node, callback) for node, callback in watchers if node.is_attached]
