"""Where gridtool finds its shipped data, the user's store and the user's config."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

_DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def data_dir() -> Path:
    """The shipped ``data/`` folder (installed as the ``gridtool.data`` package)."""
    try:
        import gridtool.data as shipped
    except ImportError:  # running from a source tree that was not installed
        return _DATA_DIR
    return Path(next(iter(shipped.__path__)))


def data_file(*parts: str) -> Path:
    return data_dir().joinpath(*parts)


def config_dir() -> Path:
    """The user's config folder: ``GRIDTOOL_CONFIG_DIR`` or the platform's usual place."""
    env = os.environ.get("GRIDTOOL_CONFIG_DIR")
    if env:
        return Path(env)
    from platformdirs import user_config_dir

    return Path(user_config_dir("gridtool", appauthor=False))


def default_store_path() -> Path:
    """The store used when neither ``--db`` nor ``GRIDTOOL_DB`` names one."""
    env = os.environ.get("GRIDTOOL_DB")
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("gridtool", appauthor=False)) / "gridtool.json"


def in_force(name: str) -> Path:
    """An editable table (``sla.csv``, ``points_rules.csv``): the user's copy in the config dir if
    there is one, else the shipped one."""
    user = config_dir() / name
    return user if user.is_file() else data_file(name)


_loaded: dict[str, tuple[tuple[int, int], Any]] = {}


def load_table(path: Path, parse: Callable[[Path, bytes], T], unreadable: str) -> T:
    """``parse(path, bytes)``, re-read only when the file changed, so callers may load a table per
    command or per screen; a file that cannot be read raises ``unreadable`` naming it."""
    from gridtool.errors import InputError
    from gridtool.oserrors import os_reason

    try:
        stat = path.stat()
        key, stamp = str(path.resolve()), (stat.st_mtime_ns, stat.st_size)
        if key in _loaded and _loaded[key][0] == stamp:
            return _loaded[key][1]  # type: ignore[no-any-return]
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(unreadable, path=str(path), reason=os_reason(exc)) from None
    table = parse(path, data)
    _loaded[key] = (stamp, table)
    return table


def decode_table(data: bytes) -> str | None:
    """UTF-8 (with or without BOM) as shipped, or GBK as Excel on a Chinese Windows saves a CSV;
    ``None`` when it is neither."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None
