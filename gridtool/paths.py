"""Where gridtool finds its shipped data, the user's store and the user's config."""

from __future__ import annotations

import os
from pathlib import Path

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
