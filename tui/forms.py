"""Small modal forms, one per action. They collect text; the library validates and writes.

A refused action shows the library's own reason under the form and writes nothing; the form stays
open so the grid lead can correct it. The fields scroll when the terminal is short; the title, the
reason and the buttons always stay in sight.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from gridtool.errors import GridtoolError, Problem, ValidationError
from gridtool.i18n import field_label, t

from .keys import TextPane, relabel, screen_keys


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    placeholder: str = ""
    value: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)  # (value, shown): picked from a list
    stands_for: str = ""  # the library's name for this field, when its refusals call it otherwise


class _Reason(Static):
    """The refusal under the fields; the form refits its fields whenever this changes height."""

    def on_resize(self, event: events.Resize) -> None:
        form = self.screen
        if isinstance(form, ActionForm):
            form._fit()


class ActionForm(ModalScreen[Any]):
    """Fill in the fields, press Enter (or ctrl+s) to submit, Escape to cancel."""

    DEFAULT_CSS = """
    ActionForm { align: center middle; }
    ActionForm > Vertical { width: 80%; max-width: 90; height: auto; max-height: 100%;
                            border: thick $accent; background: $surface; padding: 0 2; }
    ActionForm .title { text-style: bold; margin-bottom: 1; }
    ActionForm #form-fields { height: auto; }
    ActionForm Label { margin-top: 1; }
    ActionForm OptionList { height: auto; max-height: 7; }
    ActionForm .error { color: $error; height: auto; }
    ActionForm Horizontal { height: auto; }
    """
    FRAME = 9  # rows around the fields: border, title, error line, buttons
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self, title: str, fields: list[Field], submit: Callable[[dict[str, str]], Any]) -> None:
        relabel(
            type(self),
            [
                *screen_keys(),
                Binding("escape", "cancel", t("tui.cancel"), show=False),
                Binding("ctrl+s", "submit", t("tui.ok"), show=False),
                *[Binding(str(n), f"pick({n})", show=False) for n in range(1, 6)],
            ],
        )
        super().__init__()
        self.form_title = title
        self.fields = fields
        self.submit = submit

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.form_title, classes="title")
            with TextPane(id="form-fields"):
                yield from self._fields()
            yield _Reason("", classes="error", id="form-error")
            with Horizontal():
                yield Button(t("tui.ok"), variant="primary", id="ok")
                yield Button(t("tui.cancel"), id="cancel")

    def _fields(self) -> ComposeResult:
        for f in self.fields:
            yield Label(f.label)
            if f.choices:
                yield OptionList(
                    *[Option(shown, id=value) for value, shown in f.choices], id=f"field-{f.name}"
                )
            else:
                yield Input(value=f.value, placeholder=f.placeholder, id=f"field-{f.name}")

    def on_resize(self, event: events.Resize) -> None:
        self._fit()

    def _fit(self) -> None:
        """Give the fields what the title, the reason and the buttons leave of the screen.

        Runs when the screen or the reason changes size, never on a timer: the reason's height is
        only known once Textual has laid it out, and a refit before that sized the fields for an
        empty reason and drew the form a row taller than its room."""
        error = self.query_one("#form-error", Static)
        room = self.size.height - self.FRAME - error.size.height
        self.query_one("#form-fields").styles.max_height = max(4, room)

    def refuse(self, reason: str) -> None:
        """Show why the library refused, under the fields and above the buttons."""
        self.query_one("#form-error", Static).update(reason)

    def on_mount(self) -> None:
        for f in self.fields:
            if f.choices and f.value:
                options = self.query_one(f"#field-{f.name}", OptionList)
                index = next((i for i, (value, _) in enumerate(f.choices) if value == f.value), 0)
                options.highlighted = index
        if self.fields:
            self.query_one(f"#field-{self.fields[0].name}").focus()

    def values(self) -> dict[str, str]:
        out = {}
        for f in self.fields:
            widget = self.query_one(f"#field-{f.name}")
            if isinstance(widget, OptionList):
                index = widget.highlighted
                out[f.name] = f.choices[index][0] if index is not None else ""
            else:
                out[f.name] = widget.value.strip()  # type: ignore[attr-defined]
        return out

    def action_submit(self) -> None:
        try:
            result = self.submit(self.values())
        except ValidationError as bad:
            self.refuse("\n".join(self._problem(p) for p in bad.problems))
            return
        except GridtoolError as err:
            self.refuse(err.message())
            return
        self.dismiss(result)

    def _problem(self, problem: Problem) -> str:
        """The library's reason, naming the field by its label in this form (escalating names the
        assignee "escalate to")."""
        text = problem.message()
        shown = next((f.label for f in self.fields if problem.field in (f.name, f.stands_for)), None)
        own = field_label(problem.field)
        if shown and shown != own and text.startswith(own):
            text = shown + text[len(own) :]
        return text

    def action_pick(self, digit: int) -> None:
        """A digit picks the choice it names (the rating: 1 to 5) and moves on."""
        for f in self.fields:
            if any(value == str(digit) for value, _ in f.choices):
                options = self.query_one(f"#field-{f.name}", OptionList)
                options.highlighted = next(i for i, (value, _) in enumerate(f.choices) if value == str(digit))
                options.action_select()
                return
        self.app.bell()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        inputs = [f for f in self.fields]
        names = [f"field-{f.name}" for f in inputs]
        here = names.index(event.input.id) if event.input.id in names else -1
        if 0 <= here < len(names) - 1:
            self.query_one(f"#{names[here + 1]}").focus()
        else:
            self.action_submit()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        names = [f"field-{f.name}" for f in self.fields]
        here = names.index(event.option_list.id) if event.option_list.id in names else -1
        if 0 <= here < len(names) - 1:
            self.query_one(f"#{names[here + 1]}").focus()
        else:
            self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self.action_submit()
        else:
            self.action_cancel()


def text_field(name: str, value: str = "", placeholder: str = "") -> Field:
    return Field(name, field_label(name), placeholder, value)
