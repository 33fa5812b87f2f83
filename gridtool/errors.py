"""Errors the user can act on. Their text is translated when shown, not when raised."""

from __future__ import annotations

from dataclasses import dataclass, field

from gridtool.i18n import field_label, t


def _translated(params: dict[str, object]) -> dict[str, object]:
    """Table names in messages are shown in the user's language."""
    if "table" in params:
        return {**params, "table": t(f"table.{params['table']}")}
    return params


class GridtoolError(Exception):
    """Base of every error gridtool reports to a person rather than as a traceback."""

    exit_code = 2

    def __init__(self, key: str, /, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def message(self) -> str:
        return t(self.key, **_translated(self.params))

    def __str__(self) -> str:
        return self.message()


class InputError(GridtoolError):
    """The user's input cannot be accepted (exit code 2); nothing was written."""


class NotFound(InputError):
    pass


class TransitionError(InputError):
    pass


class StoreError(GridtoolError):
    """The store file cannot be used as it is: corrupt, too new, locked, missing."""


@dataclass
class Problem:
    """One reason a record was refused: which field, why, and the (masked) value."""

    field: str
    key: str
    params: dict[str, object] = field(default_factory=dict)
    value: str | None = None
    table: str | None = None
    """The kind of record (``building``...), whose own field labels come first."""

    def message(self) -> str:
        text = f"{field_label(self.field, self.table)}: {t(self.key, **_translated(self.params))}"
        if "n" in self.params:
            text = f"{t('member.n', n=self.params['n'])} {text}"
        if self.value:
            text += f" ({self.value})"
        return text


class ValidationError(InputError):
    """One or more fields of a record are invalid."""

    def __init__(self, problems: list[Problem], where: str | None = None) -> None:
        super().__init__("error.validation")
        self.problems = problems
        self.where = where

    def message(self) -> str:
        lines = [p.message() for p in self.problems]
        text = "; ".join(lines)
        return f"{self.where}: {text}" if self.where else text

    @property
    def fields(self) -> list[str]:
        return [p.field for p in self.problems]
