"""One syntax for every span a person types (``--within``, ``--every``): a number and a unit.

``2`` and ``2d`` are two days, ``8h`` eight hours, ``2w`` two weeks, ``1m`` a month; Chinese units
(天, 小时, 周, 个月) too. A bare number means days everywhere, so ``report due-soon --within 2`` and
``report visits-due --within 2`` mean the same. Each option says which units make sense for it
(working hours ahead of a deadline; weeks and months between visits); what a day *is* (a working
day or a calendar day) is the caller's rule and is said in its help.
"""

from __future__ import annotations

import re

UNITS = {
    "d": "d",
    "天": "d",
    "日": "d",
    "h": "h",
    "小时": "h",
    "时": "h",
    "w": "w",
    "周": "w",
    "星期": "w",
    "m": "m",
    "个月": "m",
    "月": "m",
}
_SPAN = re.compile(r"\s*(\d{1,9}(?:\.\d+)?)\s*(d|h|w|m|天|日|小时|时|周|星期|个月|月)?\s*\Z", re.IGNORECASE)


def parse_span(text: object, units: str = "dhwm", whole: bool = False) -> tuple[float, str] | None:
    """``(amount, unit)`` of a span (unit one of ``d h w m``; none given means ``d``), or ``None``
    when ``text`` is not a span in one of ``units`` (a fraction too, with ``whole``)."""
    m = _SPAN.match(str(text if text is not None else ""))
    if not m:
        return None
    unit = UNITS[(m.group(2) or "d").lower()]
    amount = float(m.group(1))
    if unit not in units or (whole and not amount.is_integer()):
        return None
    return amount, unit
