"""``gridtool store check|repair`` from the shell, random damage to every file, and kill -9."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridtool.commands import cli
from gridtool.store import Store


def _gridtool(db: Path, *args: str):
    return CliRunner().invoke(cli, ["--db", str(db), "--lang", "en", *args], catch_exceptions=False)


def _small_store(path: Path) -> None:
    """A store with households, members, issues, a checkpoint, and a line past it."""
    from gridtool import register

    store = Store.init(path)
    register.add(store, "grid_cell", {"code": "TL-03", "name": "三网格"})
    building = register.add(store, "building", {"grid_cell": "TL-03", "compound": "湘离小区", "number": "5"})
    for n in range(3):
        register.add(
            store,
            "household",
            {
                "grid_cell": "TL-03",
                "building": building["id"],
                "unit": 1,
                "room": f"050{n}",
                "head": f"住户{n}",
                "phone": "13512345678",
                "members": [f"住户{n},43010519790312002X,户主"] if n == 0 else [],
            },
        )
    with store.transaction() as tx:
        tx.create("issues", {"title": "楼道飞线充电"})
    store.checkpoint()
    register.edit(store, "household", next(iter(store.records("households"))), {"head": "改过"})  # a tail


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "gridtool.json"
    _small_store(path)
    return path


def _copy(template: Path, into: Path) -> Path:
    for file_path in template.parent.iterdir():
        shutil.copy2(file_path, into / file_path.name)
    return into / template.name


def _files(db: Path) -> list[Path]:
    return sorted(p for p in db.parent.iterdir() if p.is_file() and p.stat().st_size)


def test_check_is_clean_then_finds_a_flip_and_repair_brings_it_back(run, store_path: Path) -> None:
    _small_store(store_path)
    clean = run("store", "check")
    assert clean.exit_code == 0 and "no problems" in clean.stderr and "lines checked" in clean.stdout
    log = store_path.with_name(store_path.name + ".log")
    data = bytearray(log.read_bytes())
    data[-20] ^= 1
    log.write_bytes(bytes(data))
    found = run("store", "check")
    assert found.exit_code == 1 and "gridtool.json.log: line" in found.stdout
    dry = run("store", "repair", "--dry-run")
    assert dry.exit_code == 0 and "dry run" in dry.stdout and log.read_bytes() == bytes(data)
    repaired = run("store", "repair")
    assert repaired.exit_code == 0, repaired.output
    assert "cut from the log" in repaired.stdout and "full bundle from the office" in repaired.stdout
    assert run("store", "check").exit_code == 0 and run("household", "list").exit_code == 0


def test_repair_in_chinese(run, store_path: Path) -> None:
    _small_store(store_path)
    os.chmod(store_path, 0o644)
    repaired = run("store", "repair", lang="zh")
    assert repaired.exit_code == 0 and "设为私有" in repaired.stdout


def test_an_os_error_is_one_line_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    result = _gridtool(tmp_path / "a-file" / "sub" / "gridtool.json", "init")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "a-file" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_an_os_error_inside_any_command_is_one_line(run, store_path: Path, monkeypatch) -> None:
    import errno

    from gridtool import store as store_module

    run("init")

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(store_path) + ".households")

    monkeypatch.setattr(store_module.Store, "checkpoint", disk_full)
    result = run("demo", "--path", str(store_path.parent / "demo"))
    assert "Traceback" not in result.output
    assert result.exit_code == 2 and result.stderr.strip().endswith("the command stopped there")
    assert "No space left on device" in result.stderr


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.integers(min_value=0), where=st.floats(min_value=0, max_value=1), cut=st.booleans())
def test_random_damage_is_refused_by_name_flagged_by_check_and_repaired(
    template: Path, which: int, where: float, cut: bool
) -> None:
    expected = _gridtool(template, "household", "list", "--format", "json", "--show-pii").stdout
    with tempfile.TemporaryDirectory() as tmp:
        db = _copy(template, Path(tmp))
        files = _files(db)
        target = files[which % len(files)]
        data = bytearray(target.read_bytes())
        at = min(int(where * len(data)), len(data) - 1)
        if cut and target.name.endswith(".lock"):  # an empty lock file is a store before commit records
            data[at] ^= 1
        elif cut:
            del data[at:]
        else:
            data[at] ^= 1 << (which % 8)
        target.write_bytes(bytes(data))

        listed = _gridtool(db, "household", "list", "--format", "json", "--show-pii")
        assert "Traceback" not in listed.output
        if listed.exit_code == 0:
            assert listed.stdout == expected  # read exactly as before, or not at all
        else:
            assert listed.exit_code == 2 and target.name in listed.stderr and listed.stdout == ""
        assert _gridtool(db, "store", "check").exit_code == 1
        repaired = _gridtool(db, "store", "repair")
        assert repaired.exit_code == 0, repaired.output
        assert _gridtool(db, "store", "check").exit_code == 0
        assert _gridtool(db, "household", "list").exit_code == 0


REPAIR = [sys.executable, "-c", "from gridtool.commands import main; main()"]


def test_repair_killed_at_any_moment_is_finished_by_the_next_repair(tmp_path: Path) -> None:
    rng = random.Random(15)
    made = CliRunner().invoke(cli, ["demo", "--path", str(tmp_path / "template")])  # repair takes a while
    assert made.exit_code == 0, made.output
    template = tmp_path / "template" / "gridtool.json"
    for trial in range(6):
        folder = tmp_path / f"trial{trial}"
        folder.mkdir()
        db = _copy(template, folder)
        log = db.with_name(db.name + ".log")
        damaged = bytearray(log.read_bytes())
        damaged[rng.randrange(len(damaged))] ^= 4
        log.write_bytes(bytes(damaged))
        env = {**os.environ, "GRIDTOOL_DB": str(db), "GRIDTOOL_LANG": "en"}
        proc = subprocess.Popen(
            [*REPAIR, "store", "repair"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        again = subprocess.run([*REPAIR, "store", "repair"], env=env, capture_output=True, text=True)
        assert again.returncode == 0, again.stdout + again.stderr
        check = subprocess.run([*REPAIR, "store", "check"], env=env, capture_output=True, text=True)
        assert check.returncode == 0, check.stdout
        assert not list(folder.glob(".*.tmp"))
        backups = list(folder.glob("gridtool.json-repair-*"))
        if backups:  # the first backup holds the log as it was damaged
            assert any(
                (b / log.name).read_bytes() == bytes(damaged) for b in backups if (b / log.name).exists()
            )
        assert _gridtool(db, "household", "list").exit_code == 0


def test_a_damaged_log_line_is_never_shipped_in_a_bundle(template: Path, tmp_path: Path) -> None:
    """sync reads the log to pack a bundle: a line failing its checksum stops the export by name,
    instead of sending the damaged operations to every peer."""
    db = tmp_path / "gridtool.json"
    for path in template.parent.glob(template.name + "*"):
        shutil.copy2(path, tmp_path / path.name)
    log = db.with_name(db.name + ".log")
    data = bytearray(log.read_bytes())
    data[len(data) // 2] ^= 0x01
    log.write_bytes(bytes(data))
    out = tmp_path / "out.bundle"
    result = _gridtool(db, "sync", "export", "--to", str(out))
    assert result.exit_code == 2, result.output
    assert "gridtool.json.log" in result.output and "store repair" in result.output
    assert not out.exists()
