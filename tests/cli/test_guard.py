"""The one guard around every command: a bug ends as one line, a crash file and exit 70."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from gridtool import workdays
from gridtool.commands import CRASH_EXIT, cli, guarded

SECRET = "张三 430105199001010012"


def _explode(*args: object, **kwargs: object) -> bool:
    resident = SECRET  # a local value that must not reach the crash file
    raise RuntimeError(f"boom for {resident}")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_unexpected_exception_is_one_line_a_private_crash_file_and_exit_70(
    lang: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GRIDTOOL_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(workdays, "is_workday", _explode)

    code = guarded(cli, ["--lang", lang, "calendar", "is-workday", "2026-10-08"])

    assert code == CRASH_EXIT
    err = capsys.readouterr().err
    assert "Traceback" not in err and "RuntimeError" not in err and SECRET not in err
    assert len(err.strip().splitlines()) == 1
    (crash,) = (tmp_path / "state").glob("crash-*.txt")
    assert str(crash) in err
    assert ("unexpected problem" in err) == (lang == "en")
    assert ("意外问题" in err) == (lang == "zh")
    assert stat.S_IMODE(crash.stat().st_mode) == 0o600
    report = crash.read_text(encoding="utf-8")
    assert "RuntimeError" in report and "_explode" in report and "test_guard.py" in report
    assert SECRET not in report and "boom for 张三" not in report


def test_ordinary_exits_pass_through_the_guard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDTOOL_STATE_DIR", str(tmp_path / "state"))
    assert guarded(cli, ["calendar", "is-workday", "2026-10-08"]) == 0
    assert guarded(cli, ["calendar", "is-workday", "2026-10-03"]) == 1
    assert guarded(cli, ["calendar", "is-workday", "not-a-day"]) == 2
    assert not (tmp_path / "state").exists()


def test_the_installed_command_never_prints_a_traceback(tmp_path: Path) -> None:
    """Through the real entry point: a crash file the state folder cannot take still ends in one line."""
    blocked = tmp_path / "state"
    blocked.write_text("a file where the folder should be")
    code = (
        "import sys; from gridtool import workdays\n"
        "def boom(*a, **k): raise KeyError('resident')\n"
        "workdays.is_workday = boom\n"
        "sys.argv = ['gridtool', 'calendar', 'is-workday', '2026-10-08']\n"
        "from gridtool.commands import main; main()\n"
    )
    env = {"GRIDTOOL_STATE_DIR": str(blocked), "GRIDTOOL_LANG": "en", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == CRASH_EXIT
    assert "Traceback" not in done.stderr and "resident" not in done.stderr
    assert "unexpected problem" in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_crash_after_a_change_was_saved_says_the_change_is_kept(
    lang: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A crash after a commit must not claim that nothing was saved: the grid cell is there."""
    from gridtool import register
    from gridtool.store import Store

    monkeypatch.setenv("GRIDTOOL_STATE_DIR", str(tmp_path / "state"))
    db = tmp_path / "s" / "gridtool.json"
    Store.init(db)
    add = register.add

    def add_then_explode(*args: object, **kwargs: object) -> object:
        add(*args, **kwargs)  # type: ignore[arg-type]
        raise RuntimeError("after the commit")

    monkeypatch.setattr(register, "add", add_then_explode)
    code = guarded(cli, ["--lang", lang, "--db", str(db), "grid", "add", "TL-03", "--name", "第三网格"])

    assert code == CRASH_EXIT
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert ("1 change(s), which are kept" in err) == (lang == "en")
    assert ("已保存的 1 项更改均保留" in err) == (lang == "zh")
    assert "nothing was saved;" not in err and "未保存任何内容" not in err
    assert [g["code"] for g in Store(db).records("grid_cells").values()] == ["TL-03"]

    monkeypatch.setattr(workdays, "is_workday", _explode)  # the next command counts its own saves
    assert guarded(cli, ["--lang", lang, "calendar", "is-workday", "2026-10-08"]) == CRASH_EXIT
    err = capsys.readouterr().err
    assert ("nothing was saved;" in err) == (lang == "en") and ("未保存任何内容" in err) == (lang == "zh")
