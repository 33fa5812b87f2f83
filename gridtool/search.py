"""Free-text matching as grid workers search: Chinese text, digits, or pinyin initials.

Typing ``cjj`` finds 程金娇 and ``zs`` finds 张三: each letter is matched against every reading
of the character at that place, so polyphonic surnames (单: dān/shàn) match either way.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from gridtool.paths import data_file


@cache
def _initials_table() -> dict[str, str]:
    table: dict[str, str] = {}
    with open(data_file("pinyin_initials.txt"), encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            letters, _, chars = line.rstrip("\n").partition("\t")
            for ch in chars:
                table[ch] = letters
    return table


@cache
def initials(text: str) -> tuple[str, ...]:
    """For each character, the letters it can start with (itself, lower-cased, if not Chinese)."""
    table = _initials_table()
    return tuple(table.get(ch) or ch.lower() for ch in text)


def matches_initials(query: str, text: str) -> bool:
    """Whether ``query`` (ASCII letters) spells the initials of consecutive characters of text."""
    options = initials(text)
    n = len(query)
    return any(all(query[i] in options[start + i] for i in range(n)) for start in range(len(options) - n + 1))


def is_initials_query(query: str) -> bool:
    return query.isascii() and query.isalpha()


def text_matches(query: str, *texts: str | None) -> bool:
    """Whether a normalised query matches any text: as a substring, or as pinyin initials."""
    q = query.strip().lower()
    if not q:
        return True
    pinyin = is_initials_query(q)
    for text in texts:
        if not text:
            continue
        if q in text.lower():
            return True
        if pinyin and matches_initials(q, text):
            return True
    return False


class SearchIndex:
    """Filter many rows as a person types, in one C-level pass per keystroke.

    Each row keeps one string: its text lower-cased, then the first initial of every character, so
    ``zs`` finds 张三 and ``下水`` finds 卫生间下水道返水 among 100,000 issues in tens of
    milliseconds (``bench/bench_dashboard.py``).
    """

    def __init__(self, rows: list[Any], text_of: Callable[[Any], str]) -> None:
        to_initials = _translation()
        self.rows = rows
        self.haystacks = []
        for row in rows:
            text = text_of(row).lower()
            self.haystacks.append(f"{text}\x00{text.translate(to_initials)}")

    def filter(self, query: str) -> list[Any]:
        needle = query.strip().lower()
        if not needle:
            return list(self.rows)
        return [row for row, hay in zip(self.rows, self.haystacks, strict=True) if needle in hay]


@cache
def _translation() -> dict[int, str]:
    return {ord(ch): letters[0] for ch, letters in _initials_table().items()}
