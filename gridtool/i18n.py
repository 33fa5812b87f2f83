"""The one translation layer: every user-facing string goes through :func:`t`.

Messages live in ``data/i18n/<area>.<lang>.json`` (one file per area of the tool, merged)
as flat ``key -> template`` maps using ``str.format`` placeholders. The language comes from
``GRIDTOOL_LANG`` (``zh`` or ``en``), else from the locale variables, else English.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from functools import cache

from gridtool.paths import data_file

LANGUAGES = ("zh", "en")
_current: str | None = None


def detect_language(environ: dict[str, str] | None = None) -> str:
    """``GRIDTOOL_LANG`` (``zh``, ``en``, or a locale name such as ``zh_CN.UTF-8``), else the
    locale variables, else English. A ``GRIDTOOL_LANG`` naming another language is passed over
    (:func:`unrecognised_setting` names it, for a warning)."""
    env = os.environ if environ is None else environ
    chosen = env.get("GRIDTOOL_LANG", "").strip().lower()
    if chosen.startswith(LANGUAGES):
        return chosen[:2]
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = env.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def unrecognised_setting(environ: dict[str, str] | None = None) -> str | None:
    """The value of ``GRIDTOOL_LANG`` when it names neither language, else ``None``."""
    env = os.environ if environ is None else environ
    chosen = env.get("GRIDTOOL_LANG", "").strip()
    return chosen if chosen and not chosen.lower().startswith(LANGUAGES) else None


def language() -> str:
    global _current
    if _current is None:
        _current = detect_language()
    return _current


def set_language(lang: str | None) -> None:
    """Pick the language for this process; ``None`` goes back to detecting it."""
    global _current
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; use one of {', '.join(LANGUAGES)}")
    _current = lang


@cache
def catalog(lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted(data_file("i18n").glob(f"*.{lang}.json")):
        merged.update(json.loads(path.read_bytes()))  # stdlib: orjson would slow `--help` by 7 ms
    return merged


def t(key: str, /, **params: object) -> str:
    """The message ``key`` in the current language, with ``params`` filled in.

    A key missing from the current language falls back to English, then to the key itself: help
    texts use their English sentence as the key, so only the Chinese catalog lists them.
    """
    lang = language()
    template = catalog(lang).get(key)
    if template is None and lang != "en":
        template = catalog("en").get(key)
    if template is None:
        template = key
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


def tn(key: str, n: int, /, **params: object) -> str:
    """A message about ``n`` things: ``KEY.one`` when ``n`` is 1 and the language has one (English
    does, Chinese needs none), else ``KEY``; so no "1 new conflicts"."""
    if n == 1 and f"{key}.one" in catalog(language()):
        key = f"{key}.one"
    return t(key, n=n, **params)


def has(key: str) -> bool:
    return key in catalog("en")


def labelled_ids(prefix: str, ids: Iterable[str]) -> str:
    """Ids a user may type, each beside its label (``accept（接单）、close（结案）``), for a message
    that lists the choices: the label says what it is, the id is what to type."""
    items = []
    for id_ in ids:
        key = f"{prefix}.{id_}"
        label = t(key) if has(key) else id_
        same = label.lower() == re.sub(r"[-_]", " ", id_).lower()  # repair (Repair) says it twice
        items.append(id_ if same else t("issue.allowed_item", command=id_, label=label))
    return t("issue.list_sep").join(items) or "—"


def table_label(table: str) -> str:
    """The translated name of a table (住户 for households), or the name itself."""
    key = f"table.{table}"
    return t(key) if has(key) else table


def field_label(field: str, table: str | None = None) -> str:
    """The translated name of a record field, as shown in headers and error messages.

    ``table`` (``building``, ``issue``...) looks in that table's own labels first
    (``field.building.number``: a building's 楼号, not an issue's 诉求编号)."""
    if table:
        own = f"field.{table}.{field}"
        if has(own):
            return t(own)
    key = f"field.{field}"
    return t(key) if has(key) else field
