"""The footer of keys: Textual's, composed only when its keys change and without its leak."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.dom import NoScreen
from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    """Textual's footer, with two changes it should not need.

    It composes its keys again on every change of focus, even when they stay the same, as they
    do across our tabs: this one keeps them then (half the CPU of a tab switch). And each key
    watches the footer's ``compact`` through ``data_bind``, a watcher Textual drops only when
    ``compact`` changes, which it never does here: this one drops the watchers of replaced keys,
    which otherwise stay alive with all their objects (textualize/textual#6666). Drop the class
    once Textual does both itself."""

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
        # Textual schedules this after a refresh; by then the screen may have been popped (6 then
        # Escape), and a detached footer has no screen to read bindings from.
        # ``is_attached`` alone is not enough: the screen can go between this check and the read
        # (seen 1 run in 5 on a loaded 2-core machine), so a screen that has gone ends it too.
        if not self.is_attached or self._pruning:
            return
        try:
            if self._composed is not None and self._shown() == self._composed:
                return
            await super().recompose()
        except NoScreen:
            return
        watchers = getattr(self, "__watchers", {}).get("compact")  # where Textual's watch() keeps them
        if watchers:
            watchers[:] = [(node, callback) for node, callback in watchers if node.is_attached]
