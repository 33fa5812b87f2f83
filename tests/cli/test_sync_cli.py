"""Two grid workers and the office syncing through the CLI, as the README walks them through it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import snapshot

Run = Callable[..., Result]
ROOT = Path(__file__).resolve().parents[2]


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def laptops(tmp_path: Path, run: Run, store_path: Path) -> dict[str, Path]:
    """刘丹's laptop (the README's community), 王芳's, and the office's, each trusting the others."""
    paths = {
        "liudan": store_path,
        "wangfang": tmp_path / "wf" / "g.json",
        "office": tmp_path / "office" / "g.json",
    }
    for name, path in paths.items():
        ok(run("init", "--name", name, db=path))
    ok(run("grid", "add", "TL-03", "--name", "铁园社区第三网格", "--worker", "刘丹", db=store_path))
    keys = {
        name: json.loads(ok(run("sync", "whoami", "--format", "json", db=p)).stdout)
        for name, p in paths.items()
    }
    for name, path in paths.items():
        for other, key in keys.items():
            if other != name:
                ok(run("sync", "trust", "add", other, key["public_key"], db=path))
    return paths


def test_a_first_sync_and_a_conflict_settled_through_the_cli(
    laptops: dict[str, Path], run: Run, tmp_path: Path
) -> None:
    liudan, office, wangfang = laptops["liudan"], laptops["office"], laptops["wangfang"]
    bundle = tmp_path / "liudan-1.gtb"
    exported = ok(run("sync", "export", "--to", str(bundle), db=liudan))
    assert (
        "wrote 1 operation (everything)" in exported.stderr and stat.S_IMODE(bundle.stat().st_mode) == 0o600
    )
    before = snapshot(office)
    dry = ok(run("sync", "import", str(bundle), "--dry-run", db=office))
    assert "1 added" in dry.stderr and "dry run" in dry.stderr and snapshot(office) == before
    assert "1 added" in ok(run("sync", "import", str(bundle), db=office)).stderr
    assert "already imported" in ok(run("sync", "import", str(bundle), db=office)).stderr
    ok(run("sync", "export", "--to", str(tmp_path / "office-1.gtb"), "--for", "wangfang", db=office))
    ok(run("sync", "import", str(tmp_path / "office-1.gtb"), db=wangfang))
    assert "TL-03" in ok(run("grid", "list", db=wangfang)).stdout

    ok(run("grid", "edit", "TL-03", "--phone", "13900000001", db=wangfang))
    ok(run("grid", "edit", "TL-03", "--phone", "13900000002", db=liudan))
    ok(run("sync", "export", "--to", str(tmp_path / "wf.gtb"), "--for", "office", db=wangfang))
    ok(run("sync", "export", "--to", str(tmp_path / "ld.gtb"), "--for", "office", db=liudan))
    ok(run("sync", "import", str(tmp_path / "wf.gtb"), db=office))
    imported = ok(run("sync", "import", str(tmp_path / "ld.gtb"), db=office))
    assert "[needs you]" in imported.stdout and "139****000" in imported.stdout
    assert "13900000001" not in imported.stdout  # phones stay masked unless asked for
    listed = json.loads(ok(run("sync", "conflicts", "list", "--format", "json", db=office)).stdout)
    assert [(c["field"], c["human"]) for c in listed] == [("worker_phone", True)]
    assert "13900000001" not in json.dumps(listed) and "139****0001" in json.dumps(listed)
    unmasked = ok(run("sync", "conflicts", "list", "--format", "json", "--show-pii", db=office)).stdout
    assert "13900000001" in unmasked
    cid = listed[0]["id"]
    shown = ok(run("sync", "conflicts", "show", cid, "--show-pii", db=office)).stdout
    assert "13900000001" in shown and "13900000002" in shown and "wangfang" in shown
    assert run("sync", "conflicts", "resolve", cid, db=office).exit_code == 2  # say how
    ok(run("sync", "conflicts", "resolve", cid, "--take", "13900000001", db=office))
    assert "no conflicts" in ok(run("sync", "conflicts", db=office)).stdout
    ok(run("sync", "export", "--to", str(tmp_path / "office-2.gtb"), "--for", "liudan", db=office))
    ok(run("sync", "import", str(tmp_path / "office-2.gtb"), db=liudan))
    assert "13900000001" in ok(run("grid", "show", "TL-03", "--show-pii", db=liudan)).stdout
    status = json.loads(ok(run("sync", "status", "--format", "json", db=liudan)).stdout)
    assert status["conflicts"] == {"human": 0, "auto": 0} and [p["name"] for p in status["peers"]] == [
        "office"
    ]
    assert "office" in ok(run("sync", "status", db=liudan)).stdout


@pytest.mark.parametrize(("lang", "reason"), [("en", "cut short in transfer"), ("zh", "传输时被截断")])
def test_a_bad_bundle_exits_2_with_one_line_and_changes_nothing(
    laptops: dict[str, Path], run: Run, tmp_path: Path, lang: str, reason: str
) -> None:
    bundle = tmp_path / "b.gtb"
    ok(run("sync", "export", "--to", str(bundle), db=laptops["liudan"]))
    bundle.write_bytes(bundle.read_bytes()[:-40])
    before = snapshot(laptops["office"])
    refused = run("sync", "import", str(bundle), db=laptops["office"], lang=lang)
    assert refused.exit_code == 2 and reason in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.output
    assert snapshot(laptops["office"]) == before


def test_an_untrusted_then_revoked_sender(laptops: dict[str, Path], run: Run, tmp_path: Path) -> None:
    stranger = tmp_path / "stranger" / "g.json"
    ok(run("init", db=stranger))
    ok(run("sync", "export", "--to", str(tmp_path / "s.gtb"), db=stranger))
    refused = run("sync", "import", str(tmp_path / "s.gtb"), db=laptops["office"])
    assert refused.exit_code == 2 and "sync trust add" in refused.stderr
    ok(run("sync", "export", "--to", str(tmp_path / "l.gtb"), db=laptops["liudan"]))
    ok(run("sync", "trust", "revoke", "liudan", db=laptops["office"]))
    roster = json.loads(ok(run("sync", "trust", "list", "--format", "json", db=laptops["office"])).stdout)
    assert {(r["name"], r["revoked"]) for r in roster} == {("liudan", True), ("wangfang", False)}
    revoked = run("sync", "import", str(tmp_path / "l.gtb"), db=laptops["office"], lang="zh")
    assert revoked.exit_code == 2 and "已被吊销" in revoked.stderr


def test_an_encrypted_bundle_with_the_passphrase_from_the_environment(
    laptops: dict[str, Path], run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDTOOL_SYNC_PASSPHRASE", "湘江 north wind 9")
    bundle = tmp_path / "e.gtb"
    assert (
        "encrypted"
        in ok(run("sync", "export", "--to", str(bundle), "--encrypt", db=laptops["liudan"])).stdout
    )
    assert b"TL-03" not in bundle.read_bytes()
    assert "1 added" in ok(run("sync", "import", str(bundle), db=laptops["office"])).stderr
    monkeypatch.setenv("GRIDTOOL_SYNC_PASSPHRASE", "wrong")
    wrong = run("sync", "import", str(bundle), db=laptops["wangfang"])
    assert wrong.exit_code == 2 and "passphrase" in wrong.stderr


def test_sync_help_loads_no_cryptography() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = (
        "import sys\nfrom gridtool.commands import cli\n"
        "try:\n    cli(['sync', 'export', '--help'], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    loaded = set(out.split())
    assert not {m for m in loaded if m.startswith(("cryptography", "gridtool.sync", "gridtool.store"))}


def test_a_bundle_path_that_cannot_be_written_or_read(
    laptops: dict[str, Path], run: Run, tmp_path: Path
) -> None:
    nowhere = tmp_path / "no-such-folder" / "b.gtb"
    refused = run("sync", "export", "--to", str(nowhere), db=laptops["liudan"])
    assert refused.exit_code == 2 and "cannot write" in refused.stderr and "Traceback" not in refused.output
    missing = run("sync", "import", str(nowhere), db=laptops["office"])
    assert missing.exit_code == 2 and "no bundle file" in missing.stderr


def test_every_bad_bundle_exits_2_with_one_line_through_the_cli(
    laptops: dict[str, Path], run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gridtool.store import Store
    from tests.core.test_sync import _bad_bundles

    worker, office = Store(laptops["liudan"]), Store(laptops["office"])
    (tmp_path / "bad").mkdir()
    cases = _bad_bundles(worker, office, tmp_path / "bad")
    monkeypatch.setenv("GRIDTOOL_SYNC_PASSPHRASE", "wrong")
    before = snapshot(laptops["office"])
    for name, (path, _) in cases.items():
        for lang in ("en", "zh"):
            refused = run("sync", "import", str(path), db=laptops["office"], lang=lang)
            assert refused.exit_code == 2, name
            assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.output, name
    assert snapshot(laptops["office"]) == before


@pytest.mark.parametrize("suffix", ["", ".log", ".sync-key"])
def test_export_to_the_store_itself_exits_2_and_keeps_every_byte(
    laptops: dict[str, Path], run: Run, suffix: str
) -> None:
    store = laptops["liudan"]
    before = snapshot(store)
    target = store.with_name(store.name + suffix)
    for lang, words in (("en", "own files"), ("zh", "自己的文件")):
        refused = run("sync", "export", "--to", str(target), db=store, lang=lang)
        assert refused.exit_code == 2 and words in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.output
    assert snapshot(store) == before


def test_resolve_take_checks_the_value_and_keeps_a_phone_as_text(
    laptops: dict[str, Path], run: Run, tmp_path: Path
) -> None:
    liudan, office = laptops["liudan"], laptops["office"]
    ok(run("sync", "export", "--to", str(tmp_path / "0.gtb"), db=liudan))
    ok(run("sync", "import", str(tmp_path / "0.gtb"), db=office))
    ok(run("grid", "edit", "TL-03", "--phone", "13900000001", db=liudan))
    ok(run("grid", "edit", "TL-03", "--phone", "13900000002", db=office))
    ok(run("sync", "export", "--to", str(tmp_path / "1.gtb"), "--for", "office", db=liudan))
    ok(run("sync", "import", str(tmp_path / "1.gtb"), db=office))
    [conflict] = json.loads(ok(run("sync", "conflicts", "list", "--format", "json", db=office)).stdout)
    before = snapshot(office)
    for lang in ("en", "zh"):
        for bad in ("not a phone", "0003"):
            refused = run("sync", "conflicts", "resolve", conflict["id"], "--take", bad, db=office, lang=lang)
            assert refused.exit_code == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.output
    assert snapshot(office) == before
    ok(run("sync", "conflicts", "resolve", conflict["id"], "--take", "13900000003", db=office))
    shown = json.loads(ok(run("grid", "show", "TL-03", "--show-pii", "--format", "json", db=office)).stdout)
    assert shown["worker_phone"] == "13900000003"


def test_a_clock_that_ran_ahead_is_told_and_the_office_accepts_its_changes(
    laptops: dict[str, Path], run: Run, tmp_path: Path
) -> None:
    from unittest import mock

    from gridtool import store as store_module

    liudan, office = laptops["liudan"], laptops["office"]
    real = store_module.wall_ms()
    with mock.patch.object(store_module, "wall_ms", lambda: real + 3 * 86_400_000):
        ok(run("grid", "edit", "TL-03", "--notes", "ahead", db=liudan))
    for command in (("whoami",), ("status",), ("export", "--to", str(tmp_path / "l.gtb"))):
        told = ok(run("sync", *command, db=liudan))
        assert "days ahead of its clock" in told.stderr, command
    held = run("sync", "import", str(tmp_path / "l.gtb"), db=office)
    assert "sync held accept liudan" in ok(held).stderr
    assert "held back 1 operation from liudan" in ok(run("sync", "held", "list", db=office)).stdout
    refused = run("sync", "held", "accept", "wangfang", db=office, lang="zh")
    assert refused.exit_code == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert "1 updated" in ok(run("sync", "held", "accept", "liudan", db=office)).stderr
    assert "nothing is held back" in ok(run("sync", "held", db=office)).stdout
    assert "ahead" in ok(run("grid", "show", "TL-03", db=office)).stdout


def test_an_encrypted_bundle_with_no_passphrase_and_no_terminal_exits_2_with_one_line(
    laptops: dict[str, Path], run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDTOOL_SYNC_PASSPHRASE", "湘江 north wind 9")
    bundle = tmp_path / "e.gtb"
    ok(run("sync", "export", "--to", str(bundle), "--encrypt", db=laptops["liudan"]))
    monkeypatch.delenv("GRIDTOOL_SYNC_PASSPHRASE")
    before = snapshot(laptops["office"])
    for command in (("import", str(bundle)), ("export", "--to", str(tmp_path / "x.gtb"), "--encrypt")):
        refused = run("sync", *command, db=laptops["office"])
        assert refused.exit_code == 2 and "Aborted" not in refused.output, command
        assert (
            refused.stderr.strip().splitlines() == [refused.stderr.strip()] and "passphrase" in refused.stderr
        )
    assert snapshot(laptops["office"]) == before


def test_bare_conflicts_takes_the_list_options_and_messages_count_in_english(
    laptops: dict[str, Path], run: Run, tmp_path: Path
) -> None:
    liudan, office = laptops["liudan"], laptops["office"]
    ok(run("sync", "export", "--to", str(tmp_path / "0.gtb"), db=liudan))
    ok(run("sync", "import", str(tmp_path / "0.gtb"), db=office))
    ok(run("grid", "edit", "TL-03", "--phone", "13900000001", db=liudan))
    ok(run("grid", "edit", "TL-03", "--phone", "13900000002", db=office))
    ok(run("sync", "export", "--to", str(tmp_path / "1.gtb"), "--for", "office", db=liudan))
    imported = ok(run("sync", "import", str(tmp_path / "1.gtb"), db=office))
    assert "applied 1 operation:" in imported.stderr and "1 new conflict;" in imported.stdout
    listed = json.loads(ok(run("sync", "conflicts", "--format", "json", db=office)).stdout)
    assert [c["field"] for c in listed] == ["worker_phone"]
    assert "13900000001" in ok(run("sync", "conflicts", "--show-pii", db=office)).stdout


def test_show_and_resolve_say_which_records_come_back_with_a_kept_household(
    laptops: dict[str, Path], run: Run, tmp_path: Path
) -> None:
    from gridtool import issues, register, volunteers  # noqa: F401  (they count a household's dependents)
    from gridtool.store import Store

    liudan, office = laptops["liudan"], laptops["office"]
    with Store(liudan).transaction() as tx:
        hid = tx.create("households", {"head": "程金娇", "room": "0502"})
        tx.create("members", {"household": hid, "name": "程金娇"})
        tx.create("members", {"household": hid, "name": "程小红"})
    ok(run("sync", "export", "--to", str(tmp_path / "0.gtb"), db=liudan))
    ok(run("sync", "import", str(tmp_path / "0.gtb"), db=office))
    register.remove(Store(liudan), "household", hid)
    with Store(office).transaction() as tx:
        tx.update("households", hid, {"room": "0503"})
    ok(run("sync", "export", "--to", str(tmp_path / "1.gtb"), "--for", "office", db=liudan))
    ok(run("sync", "import", str(tmp_path / "1.gtb"), db=office))
    [conflict] = json.loads(ok(run("sync", "conflicts", "list", "--format", "json", db=office)).stdout)
    shown = ok(run("sync", "conflicts", "show", conflict["id"], db=office)).stdout
    assert "also restores 2 records deleted with it" in shown and "room=0503" in shown
    settled = ok(run("sync", "conflicts", "resolve", conflict["id"], "--keep-mine", db=office))
    assert "also restored 2 records deleted with it" in settled.stdout
    assert len(Store(office).records("members")) == 2


def test_a_passphrase_shorter_than_10_characters_is_refused_and_says_why(
    laptops: dict[str, Path], run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDTOOL_SYNC_PASSPHRASE", "铁园社区")
    out = tmp_path / "short.gtb"
    refused = run("sync", "export", "--to", str(out), "--encrypt", db=laptops["liudan"])
    assert refused.exit_code == 2 and not out.exists()
    assert "10" in refused.stderr and "4" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("lang", "reason"), [("en", "is missing, but its changes were signed"), ("zh", "丢失")]
)
@pytest.mark.parametrize("remembered_by", ["the note beside the key", "a signed line in the log"])
def test_a_lost_signing_key_is_refused_not_replaced(
    laptops: dict[str, Path], run: Run, tmp_path: Path, lang: str, reason: str, remembered_by: str
) -> None:
    """Peers bind 刘丹's replica to her first key: a new one would get all her later changes
    refused as forged, so the laptop says the file is missing instead of making another. Her
    changes before the key were signed only in the bundle that first carried them, so the note
    made with the key remembers it; a change signed in the log does too."""
    from gridtool.store import Store
    from gridtool.sync.roster import key_path

    liudan = laptops["liudan"]
    ok(run("sync", "export", "--to", str(tmp_path / "first.gtb"), db=liudan))
    ok(run("sync", "import", str(tmp_path / "first.gtb"), db=laptops["office"]))
    if remembered_by == "a signed line in the log":
        ok(run("grid", "add", "TL-04", "--name", "铁园社区第四网格", db=liudan))
        Store(liudan).sidecar("sync-key-id").unlink()
    key = key_path(Store(liudan))
    kept = key.read_bytes()
    key.unlink()
    before = snapshot(liudan)
    for command in (["sync", "export", "--to", str(tmp_path / "b.gtb")], ["sync", "whoami"]):
        refused = run(*command, db=liudan, lang=lang)
        assert refused.exit_code == 2 and reason in refused.stderr and str(key) in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.output
    assert not key.exists() and snapshot(liudan) == before

    key.write_bytes(kept)  # restored from a backup: everything goes on as before
    key.chmod(0o600)
    ok(run("grid", "add", "TL-05", "--name", "铁园社区第五网格", db=liudan))
    ok(run("sync", "export", "--to", str(tmp_path / "b.gtb"), db=liudan))
    ok(run("sync", "import", str(tmp_path / "b.gtb"), db=laptops["office"]))
    office_cells = ok(run("grid", "list", "--format", "json", db=laptops["office"])).stdout
    assert "TL-05" in office_cells
