"""Every test runs in a temp dir with its own store, config and language; never the user's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gridtool import i18n
from gridtool.store import Store


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDTOOL_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("GRIDTOOL_LANG", "en")
    monkeypatch.delenv("GRIDTOOL_DB", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    i18n.set_language(None)
    yield
    i18n.set_language(None)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store" / "gridtool.json"


@pytest.fixture
def store(store_path: Path) -> Store:
    return Store.init(store_path)


@pytest.fixture
def community(store: Store) -> dict[str, str]:
    """A grid cell, a building with a lead, and one household, as in the README."""
    from gridtool import register

    grid = register.add(
        store,
        "grid_cell",
        {"code": "TL-03", "name": "铁园社区第三网格", "worker": "刘丹", "worker_phone": "13807310000"},
    )
    building = register.add(
        store,
        "building",
        {"grid_cell": "TL-03", "compound": "湘离小区", "number": "5", "units": 3, "floors": 7},
    )
    lead = register.add(
        store,
        "lead",
        {
            "name": "谭石泉",
            "phone": "13907320001",
            "roles": ["building-lead", "party-member"],
            "buildings": [building["id"]],
        },
    )
    household = register.add(
        store,
        "household",
        {
            "grid_cell": "TL-03",
            "building": building["id"],
            "unit": 2,
            "room": "0502",
            "head": "程金娇",
            "phone": "13512345678",
            "members": ["程金娇,43010519790312002X,户主"],
            "tags": ["独居老人"],
        },
    )
    return {"grid": grid["id"], "building": building["id"], "lead": lead["id"], "household": household["id"]}


def snapshot(path: Path) -> dict[str, bytes]:
    """Every file of a store, byte for byte (checkpoint and log; the lock file holds nothing)."""
    return {
        p.name: p.read_bytes()
        for p in sorted(path.parent.glob(path.name + "*"))
        if not p.name.endswith(".lock")
    }


@pytest.fixture
def run(store_path: Path) -> Callable[..., Result]:
    """Run the CLI against the test store: ``run("household", "list", lang="zh")``."""
    from gridtool.commands import cli

    def invoke(*args: str, lang: str = "en", input: str | None = None, db: Path | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(
            cli, ["--db", str(db or store_path), "--lang", lang, *args], input=input, catch_exceptions=False
        )

    return invoke
