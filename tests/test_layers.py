"""The project's structural promises: the library stays free of front ends, help stays light."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
FRONT_ENDS = ("click", "textual", "gridtool.commands", "gridtool.tui", "rich")


def test_the_library_imports_no_front_end() -> None:
    offenders = []
    for path in (ROOT / "gridtool").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}" for n in names if n.split(".")[0] in ("click", "textual", "rich")
            ]
    assert not offenders


def _run_python(code: str) -> str:
    """What ``code`` prints in a fresh interpreter: imports there start from nothing."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout


def _modules_after(code: str) -> set[str]:
    return set(_run_python(code + "\nimport sys; print(' '.join(sys.modules))").split())


def test_importing_every_library_module_loads_no_front_end() -> None:
    modules = sorted(p.stem for p in (ROOT / "gridtool").glob("*.py") if p.stem != "__init__")
    loaded = _modules_after("".join(f"import gridtool.{m}\n" for m in modules))
    assert not {m for m in loaded if m.split(".")[0] in ("click", "textual", "rich")}


def test_help_does_not_load_the_store_tables_or_the_dashboard() -> None:
    loaded = _modules_after(
        "from gridtool.commands import cli\n"
        "try:\n    cli(['--help'], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
    )
    heavy = {
        "textual",
        "tinydb",
        "tabulate",
        "wcwidth",
        "chinese_calendar",
        "gridtool.store",
        "gridtool.register",
    }
    assert not heavy & loaded


def test_translations_have_the_same_keys_and_placeholders() -> None:
    import string

    for en_path in (ROOT / "data" / "i18n").glob("*.en.json"):
        zh_path = en_path.with_name(en_path.name.replace(".en.", ".zh."))
        en, zh = orjson.loads(en_path.read_bytes()), orjson.loads(zh_path.read_bytes())
        assert set(en) <= set(zh), f"{zh_path.name} lacks {set(en) - set(zh)}"
        extra = {k for k in set(zh) - set(en) if "." in k and " " not in k}
        assert not extra, f"{en_path.name} lacks {extra}"
        for key, text in en.items():
            fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
            assert fields == {f for _, f, _, _ in string.Formatter().parse(zh[key]) if f}, key


def test_every_shipped_data_file_is_packaged() -> None:
    import fnmatch

    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    dirs = {package: ROOT / path for package, path in config["package-dir"].items()}
    patterns = config["package-data"]
    missing = []
    for package, folder in dirs.items():
        if not package.startswith("gridtool.data"):
            continue
        for path in folder.iterdir():
            if (
                path.is_file()
                and path.suffix != ".py"
                and not any(fnmatch.fnmatch(path.name, glob) for glob in patterns.get(package, []))
            ):
                missing.append(str(path.relative_to(ROOT)))
    assert not missing, f"not installed by pip install .: {missing}"


def test_lang_on_the_command_line_translates_help_too() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GRIDTOOL_LANG": "en"}
    code = (
        "import sys; sys.argv = ['gridtool', '--lang', 'zh', 'household', 'add', '--help']\n"
        "from gridtool.commands import main\nmain()"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout
    assert "按地址添加住户" in out
    locale = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.argv[1:] = ['--help']\nfrom gridtool.commands import main; main()",
        ],
        env={**env, "GRIDTOOL_LANG": "zh_CN.UTF-8"},
        capture_output=True,
        text=True,
    )
    assert locale.returncode == 0 and "住户台账" in locale.stdout


LAYERS = ("moments", "masking", "roster", "register", "issues", "points", "volunteers", "views")
"""The library's core modules, lowest first: each may import only those before it. A lower one
that must ask a higher one gets the answer registered with it (``register.count_dependents``)."""


def _gridtool_imports(path: Path) -> set[str]:
    """Every ``gridtool`` module a file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if node.module == "gridtool":  # ``from gridtool import issues``
                found |= {f"gridtool.{alias.name}" for alias in node.names}
    return {name.split(".")[1] for name in found if name.startswith("gridtool.")}


def test_the_core_modules_import_only_those_below_them() -> None:
    against = [
        f"{module} imports {other}"
        for rank, module in enumerate(LAYERS)
        for other in _gridtool_imports(ROOT / "gridtool" / f"{module}.py")
        if other in LAYERS[rank:]
    ]
    assert not against


def test_a_household_with_an_open_issue_is_kept_when_only_the_register_is_imported(
    store_path: Path, community: dict[str, str]
) -> None:
    from gridtool import issues
    from gridtool.store import Store
    from tests.conftest import snapshot

    issues.report(
        Store(store_path),
        {
            "household": community["household"],
            "category": "repair",
            "urgency": "normal",
            "channel": "phone",
            "title": "返水",
        },
    )
    before = snapshot(store_path)
    code = (
        "import sys\n"
        "from gridtool import register\n"
        "from gridtool.store import Store\n"
        "try:\n"
        f"    register.remove(Store({str(store_path)!r}), 'household', {community['household']!r})\n"
        "except Exception as refused:\n"
        "    print('refused', type(refused).__name__)\n"
        "else:\n"
        "    print('removed')\n"
        "print(' '.join(m for m in ('gridtool.issues', 'gridtool.volunteers') if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == ["refused RuntimeError", ""]
    assert snapshot(store_path) == before


def test_sync_imports_nothing_that_builds_on_it() -> None:
    """A module that imports sync (issues registers its refold and its status check there) sits
    above it; sync reaches such a module only by the name it registers under, never by import."""
    above = {path.stem for path in (ROOT / "gridtool").glob("*.py") if "sync" in _gridtool_imports(path)}
    assert "issues" in above
    offenders = sorted(
        f"{path.name} imports {module}"
        for path in (ROOT / "gridtool" / "sync").glob("*.py")
        for module in _gridtool_imports(path) & above
    )
    assert not offenders


def test_a_status_typed_to_settle_a_conflict_is_checked_by_issues_when_only_sync_was_imported() -> None:
    """Sync asks the owner of the issues table by name, so a script that imported sync alone still
    refuses a status issues does not know."""
    out = _run_python(
        "import sys, gridtool.sync\n"
        "assert 'gridtool.issues' not in sys.modules\n"
        "check = sys.modules['gridtool.sync.conflicts']._value_check('issues', 'status')\n"
        "assert check(' resolved ') == 'resolved'\n"
        "try:\n    check('done')\nexcept Exception as refused:\n    print(type(refused).__name__)\n"
    )
    assert out.strip() == "ValidationError"
