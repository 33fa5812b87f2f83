"""The register commands as a grid worker types them, checked through the library afterwards."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click
import pytest

from gridtool.commands import cli
from gridtool.store import Store
from tests.conftest import snapshot

MEMBER = "程金娇,43010519790312002X,户主"


def _setup(run, lang: str = "en") -> dict[str, str]:
    assert run("init", lang=lang).exit_code == 0
    assert (
        run(
            "grid",
            "add",
            "TL-03",
            "--name",
            "铁园社区第三网格",
            "--worker",
            "刘丹",
            "--phone",
            "13807310000",
            lang=lang,
        ).exit_code
        == 0
    )
    building = run(
        "building",
        "add",
        "--grid",
        "TL-03",
        "--compound",
        "湘离小区",
        "--number",
        "5",
        "--units",
        "3",
        "--floors",
        "7",
        "-q",
        lang=lang,
    )
    assert building.exit_code == 0, building.stderr
    b = building.stdout.strip()
    lead = run(
        "lead",
        "add",
        "谭石泉",
        "--phone",
        "13907320001",
        "--role",
        "building-lead",
        "--role",
        "party-member",
        "--building",
        b,
        lang=lang,
    )
    assert lead.exit_code == 0, lead.stderr
    household = run(
        "household",
        "add",
        "--grid",
        "TL-03",
        "--building",
        b,
        "--unit",
        "2",
        "--room",
        "0502",
        "--head",
        "程金娇",
        "--phone",
        "13512345678",
        "--member",
        MEMBER,
        "--tag",
        "独居老人",
        "-q",
        lang=lang,
    )
    assert household.exit_code == 0, household.stderr
    return {"building": b, "household": household.stdout.strip()}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_readme_walkthrough_works_in_both_languages(run, store_path: Path, lang: str) -> None:
    ids = _setup(run, lang)
    listing = run("household", "list", "--grid", "TL-03", "--tag", "独居老人", lang=lang)
    assert listing.exit_code == 0
    header = listing.stdout.splitlines()[0]
    assert (
        ("地址" in header and "户主" in header)
        if lang == "zh"
        else ("address" in header and "head" in header)
    )
    assert "湘离小区5栋2单元0502" in listing.stdout and "135****5678" in listing.stdout
    assert "13512345678" not in listing.stdout

    found = run("household", "find", "cjj", lang=lang)
    assert ids["household"][-8:] in found.stdout
    shown = run("household", "show", ids["household"][-6:], lang=lang)
    assert "4301**********002X" in shown.stdout and "谭石泉" in shown.stdout
    assert "43010519790312002X" in run("household", "show", ids["household"], "--show-pii").stdout

    store = Store(store_path)
    lead = next(iter(store.records("leads").values()))
    assert lead["roles"] == ["building-lead", "party-member"] and lead["buildings"] == [ids["building"]]


def test_chinese_columns_line_up_in_tables(run) -> None:
    _setup(run)
    run("household", "add", "--building", "湘离小区/5", "--unit", "1", "--room", "0101", "--head", "欧阳娜娜")
    lines = run("household", "list", lang="zh").stdout.splitlines()
    from wcwidth import wcswidth

    rule = lines[1]
    assert set(rule) <= {"-", " "}
    starts = {i for i, ch in enumerate(rule) if ch == "-" and (i == 0 or rule[i - 1] == " ")}
    for line in [lines[0], *lines[2:]]:
        assert wcswidth(line.rstrip()) <= len(rule)
        assert _cell_starts(line) <= starts, line


def _cell_starts(line: str) -> set[int]:
    """Display columns where a cell's text begins (after at least two spaces, or at 0)."""
    from wcwidth import wcwidth

    found, width, spaces = set(), 0, 2
    for ch in line:
        if ch != " " and spaces >= 2:
            found.add(width)
        spaces = spaces + 1 if ch == " " else 0
        width += wcwidth(ch)
    return found


@pytest.mark.parametrize(
    ("args", "field_en", "field_zh"),
    [
        (["--phone", "1351234567"], "phone", "手机号"),
        (["--member", "程金娇,43010519790312002Y,户主"], "ID number", "身份证号"),
        (["--member", "程金娇,4.30105E+17,户主"], "ID number", "身份证号"),
        (["--unit", "9"], "unit", "单元"),
    ],
)
def test_bad_input_exits_2_names_the_field_and_changes_nothing(
    run, store_path: Path, args, field_en, field_zh
):
    _setup(run)
    before = snapshot(store_path)
    base = ["household", "add", "--building", "湘离小区/5", "--unit", "1", "--room", "0301", "--head", "张三"]
    for lang, field in (("en", field_en), ("zh", field_zh)):
        opts = dict(zip(base[2::2], base[3::2], strict=False))
        for flag, value in zip(args[::2], args[1::2], strict=True):
            opts[flag] = value
        result = run("household", "add", *[x for kv in opts.items() for x in kv], lang=lang)
        assert result.exit_code == 2
        assert field in result.stderr and "Traceback" not in result.stderr
        assert snapshot(store_path) == before


def test_excel_scientific_notation_is_explained(run) -> None:
    _setup(run)
    result = run(
        "household",
        "add",
        "--building",
        "湘离小区/5",
        "--unit",
        "1",
        "--room",
        "0301",
        "--head",
        "张三",
        "--member",
        "张三,4.30105E+17,户主",
        lang="zh",
    )
    assert "科学计数法" in result.stderr


def test_duplicate_address_and_grid_code_are_refused(run, store_path: Path) -> None:
    _setup(run)
    before = snapshot(store_path)
    again = run(
        "household", "add", "--building", "湘离小区/5", "--unit", "2", "--room", "0502", "--head", "别人"
    )
    assert again.exit_code == 2 and "already registered" in again.stderr
    assert run("grid", "add", "tl-03", "--name", "x").exit_code == 2
    assert snapshot(store_path) == before


def test_json_and_csv_are_plain_and_complete(run) -> None:
    _setup(run)
    data = json.loads(run("household", "list", "--format", "json").stdout)
    assert data[0]["members"][0]["id_number"] == "4301**********002X"
    assert data[0]["tags"] == ["独居老人"] and data[0]["address"] == "湘离小区5栋2单元0502"
    full = json.loads(run("household", "list", "--format", "json", "--show-pii").stdout)
    assert full[0]["phone"] == "13512345678"
    text = run("household", "list", "--format", "csv").stdout
    assert "\x1b" not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["head"] == "程金娇" and rows[0]["phone"] == "135****5678" and len(rows[0]["id"]) == 26


def test_edit_and_remove(run, store_path: Path) -> None:
    ids = _setup(run)
    assert (
        run(
            "household", "edit", ids["household"], "--add-tag", "低保户", "--remove-tag", "独居老人"
        ).exit_code
        == 0
    )
    assert Store(store_path).get("households", ids["household"])["tags"] == ["低保户"]
    assert run("building", "remove", ids["building"], "--yes").exit_code == 2  # a household still lives there
    assert run("household", "remove", ids["household"], "--yes").exit_code == 0
    assert run("building", "remove", ids["building"], "--yes").exit_code == 0
    store = Store(store_path)
    assert store.records("households") == {} and store.records("buildings") == {}
    assert run("lead", "edit", "谭石泉", "--inactive", "--add-role", "五老").exit_code == 0
    lead = next(iter(Store(store_path).records("leads").values()))
    assert lead["active"] is False and "five-elders" in lead["roles"]


def test_the_store_comes_from_gridtool_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    monkeypatch.setenv("GRIDTOOL_DB", str(tmp_path / "env.json"))
    assert CliRunner().invoke(cli, ["init"]).exit_code == 0
    assert (tmp_path / "env.json").exists()


def test_a_missing_or_corrupt_store_is_a_clear_error(run, store_path: Path) -> None:
    missing = run("household", "list")
    assert missing.exit_code == 2 and "gridtool init" in missing.stderr
    run("init")
    store_path.write_text("{broken", encoding="utf-8")
    corrupt = run("household", "list")
    assert corrupt.exit_code == 2 and str(store_path) in corrupt.stderr and "Traceback" not in corrupt.stderr
    assert store_path.read_text(encoding="utf-8") == "{broken"


def test_a_directory_given_as_the_store_is_a_clear_error(run, tmp_path: Path) -> None:
    folder = tmp_path / "not-a-file.json"
    folder.mkdir()
    result = run("--db", str(folder), "household", "list")
    assert result.exit_code == 2 and str(folder) in result.stderr and "Traceback" not in result.stderr


def test_demo_loads_an_invented_community(tmp_path: Path) -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, ["demo", "--path", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    store = Store(tmp_path / "demo" / "gridtool.json")
    assert len(store.records("grid_cells")) >= 3 and len(store.records("buildings")) >= 10
    households = store.records("households").values()
    assert len(households) >= 300
    people = store.records("members").values()
    assert len(people) > len(households) and all(m["id_number"].startswith("4399") for m in people)
    assert any("独居老人" in h["tags"] for h in households) and len(store.records("leads")) >= 10


def test_demo_generate_is_deterministic_per_seed(tmp_path: Path) -> None:
    from click.testing import CliRunner

    for name in ("a.json", "b.json"):
        out = tmp_path / name
        assert (
            CliRunner()
            .invoke(cli, ["demo", "generate", "--households", "50", "--seed", "3", "--output", str(out)])
            .exit_code
            == 0
        )
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def _commands(group: click.Group, ctx: click.Context, prefix: tuple[str, ...] = ()):
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, ctx, (*prefix, name))


def test_every_command_has_help() -> None:
    commands = list(_commands(cli, click.Context(cli)))
    assert len(commands) >= 20
    for path, command in commands:
        assert command.help, f"gridtool {' '.join(path)} has no help"


HELP_IN_CHINESE = """
import re, click
from gridtool.commands import cli
from tests.cli.test_register_cli import _commands
for path, command in _commands(cli, click.Context(cli)):
    texts = [command.help] + [p.help for p in command.params if getattr(p, "help", None)]
    for text in texts:
        if not re.search(r"[\u4e00-\u9fff]", text):
            print(" ".join(path), "|", text)
"""


def test_help_is_translated_when_the_language_is_chinese() -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "GRIDTOOL_LANG": "zh", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    untranslated = subprocess.run(
        [sys.executable, "-c", HELP_IN_CHINESE], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert untranslated == ""


def test_colour_only_on_a_terminal_and_never_with_no_color(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    db = str(tmp_path / "c.json")
    on_terminal = CliRunner().invoke(cli, ["--db", db, "init"], color=True)
    assert "\x1b[" in on_terminal.stderr
    piped = CliRunner().invoke(cli, ["--db", db, "grid", "add", "A1", "--name", "甲"])
    assert "\x1b[" not in piped.stderr and "A1" in piped.stderr
    monkeypatch.setenv("NO_COLOR", "1")
    refused = CliRunner().invoke(cli, ["--db", db, "grid", "add", "A1", "--name", "甲"], color=True)
    assert refused.exit_code == 2 and "\x1b[" not in refused.stderr


def test_the_process_ends_with_its_whole_output_its_status_and_its_exit_handlers(tmp_path: Path) -> None:
    """``main`` leaves through ``os._exit`` (shutdown would free every object one by one): what a
    command printed still arrives whole through a pipe, statuses are kept, and exit handlers run."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "GRIDTOOL_LANG": "en"}
    gridtool = [sys.executable, "-m", "gridtool.commands"]
    demo = tmp_path / "demo"
    made = subprocess.run([*gridtool, "demo", "--path", str(demo)], env=env, capture_output=True, check=False)
    assert made.returncode == 0, made.stderr
    listed = subprocess.run(
        [
            *gridtool,
            "--db",
            str(demo / "gridtool.json"),
            "household",
            "list",
            "--format",
            "json",
            "--show-pii",
        ],
        env=env,
        capture_output=True,
        check=False,
    )
    assert listed.returncode == 0 and len(listed.stdout) > 4 * 65536  # several times a pipe's buffer
    assert len(json.loads(listed.stdout)) == 300
    usage = subprocess.run([*gridtool, "household", "list", "--format", "pdf"], env=env, capture_output=True)
    assert usage.returncode == 2 and b"pdf" in usage.stderr and usage.stdout == b""
    handler = (
        "import atexit, sys; atexit.register(lambda: print('handler ran', file=sys.stderr)); "
        "sys.argv = ['gridtool', '--version']; from gridtool.commands import main; main()"
    )
    ran = subprocess.run(
        [sys.executable, "-c", handler], env=env, capture_output=True, text=True, check=False
    )
    assert ran.returncode == 0 and "version" in ran.stdout and "handler ran" in ran.stderr
    closed = (  # as `gridtool --version >&-`: Python starts with sys.stdout None
        "import sys; sys.stdout = None; sys.argv = ['gridtool', '--version']; "
        "from gridtool.commands import main; main()"
    )
    no_stdout = subprocess.run([sys.executable, "-c", closed], env=env, capture_output=True, check=False)
    assert no_stdout.returncode == 0 and no_stdout.stderr == b""
    message = "import sys; sys.argv = ['gridtool']; import gridtool.commands as c; c.leave('went wrong')"
    failed = subprocess.run(
        [sys.executable, "-c", message], env=env, capture_output=True, text=True, check=False
    )
    assert failed.returncode == 1 and "went wrong" in failed.stderr


def test_the_demo_dashboard_leaves_no_copy_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    import gridtool.tui.app

    seen: list[Path] = []

    def run(path: Path) -> None:  # the dashboard, as far as the command can tell
        assert Store(path).records("households")
        seen.append(path)

    monkeypatch.setattr(gridtool.tui.app, "run", run)
    result = CliRunner().invoke(cli, ["dashboard", "--demo"])
    assert result.exit_code == 0, result.output
    [path] = seen
    assert path.name == "gridtool.json" and not path.parent.exists()


def test_demo_goes_where_the_global_db_says_when_no_path_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    target = tmp_path / "练习" / "gridtool.json"
    result = CliRunner().invoke(cli, ["--db", str(target), "--lang", "en", "demo"])
    assert result.exit_code == 0, result.output
    assert str(target) in result.output and len(Store(target).records("households")) >= 300
    again = CliRunner().invoke(cli, ["--db", str(target), "demo"])  # never over an existing store
    assert again.exit_code == 2
    folder = tmp_path / "by-path"
    result = CliRunner().invoke(cli, ["--db", str(target), "demo", "--path", str(folder)])
    assert result.exit_code == 0 and (folder / "gridtool.json").exists()  # --path wins
    monkeypatch.chdir(tmp_path)
    env_only = CliRunner(env={"GRIDTOOL_DB": str(tmp_path / "real.json")})
    assert env_only.invoke(cli, ["demo"]).exit_code == 0
    assert (tmp_path / "gridtool-demo" / "gridtool.json").exists() and not (tmp_path / "real.json").exists()


def test_a_fresh_demo_removes_only_its_own_files(tmp_path: Path) -> None:
    """`--db` may name a demo store beside anything: `--fresh` deletes the demo's files only,
    never a neighbour whose name merely starts with the demo's (office.json beside office)."""
    from gridtool.demo import create_store, shipped
    from gridtool.errors import StoreError

    demo = tmp_path / "office"
    create_store(demo, shipped())
    real = Store.init(tmp_path / "office.json")
    (tmp_path / "office-notes.txt").write_text("notes", encoding="utf-8")
    neighbours = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("office.json")}
    neighbours["office-notes.txt"] = b"notes"
    demo_files = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name not in neighbours}
    with pytest.raises(StoreError) as refused:  # init could not start beside them: said, nothing deleted
        create_store(demo, shipped(), fresh=True)
    assert "office.json" in refused.value.message()
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == {**demo_files, **neighbours}
    assert Store(real.path).meta["replica"] == real.meta["replica"]
    (tmp_path / "office.json").rename(tmp_path / "elsewhere.json")  # moved away as the message asks
    for name in ("office.json.log", "office.json.lock"):
        (tmp_path / name).rename(tmp_path / name.replace("office", "elsewhere"))
    (tmp_path / "office-notes.txt").unlink()
    create_store(demo, shipped(), fresh=True)
    assert len(Store(demo).records("households")) >= 300
    from click.testing import CliRunner

    synced = CliRunner().invoke(cli, ["--db", str(demo), "sync", "export", "--to", str(tmp_path / "b.gtb")])
    assert synced.exit_code == 0 and (tmp_path / "office.sync-key").exists()  # sync's files are the store's
    create_store(demo, shipped(), fresh=True)
    assert not (tmp_path / "office.sync-key").exists()
