"""The whole command line read in each language: Click's own words included, nothing left over.

Help texts are translated when their command is defined, so each language is read in a fresh
process (``WALK`` below): every command's ``--help`` and one usage error per command.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from gridtool import i18n
from gridtool.commands.clicktext import CLICK_MESSAGES, click_text
from gridtool.commands.root import cli

ROOT = Path(__file__).resolve().parents[2]

WALK = """
import json, sys
import click
from click.testing import CliRunner
from gridtool.commands.root import cli

runner = CliRunner()
pages = {}

def walk(command, path):
    ctx = click.Context(command, info_name=path[-1] if path else "gridtool")
    words = set(path)
    for param in command.params:
        words.update(o.lstrip("-") for o in (*param.opts, *param.secondary_opts))
        words.update(str(c) for c in getattr(param.type, "choices", None) or ())
        if isinstance(param.default, str):
            words.add(param.default)
    names = command.list_commands(ctx) if isinstance(command, click.Group) else []
    words.update(names)
    required = any(p.required for p in command.params)
    bad = [*path] if required else [*path, "--no-such-option"]
    shown = runner.invoke(cli, [*path, "--help"], prog_name="gridtool")
    refused = runner.invoke(cli, bad, prog_name="gridtool")
    pages[" ".join(["gridtool", *path])] = {
        "help": shown.output, "help_code": shown.exit_code,
        "error": refused.output, "error_code": refused.exit_code, "words": sorted(words),
    }
    for name in names:
        walk(command.get_command(ctx, name), [*path, name])

walk(cli, [])
json.dump(pages, sys.stdout, ensure_ascii=False)
"""

# What may stay in Latin letters in a Chinese page: what the user types or sees in a file.
ALLOWED = {
    "gridtool", "csv", "json", "jsonl", "xlsx", "markdown", "excel", "utf", "gbk", "gb", "bom",
    "id", "ids", "pii", "zip", "cron", "wechat", "kg", "cjj", "bash", "zsh", "fish",
}  # fmt: skip
STRIP = (
    re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*"),  # option names
    re.compile(r"\b[A-Z][A-Z0-9_]*\b"),  # metavars (PATH, OPTIONS) and variables (GRIDTOOL_DB)
    re.compile(r"'[^'\n]*'"),  # names and values Click quotes
    re.compile(r"`[^`\n]*`"),  # commands quoted in help texts
    re.compile(r"\b[\w.-]+\.(?:csv|json|jsonl|xlsx|md|txt|zip)\b"),  # file names
    re.compile(r"~?[\w.-]*/[\w./-]+"),  # paths (~/.bashrc)
)
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]+")


@cache
def pages(lang: str) -> dict[str, dict[str, Any]]:
    env = {**os.environ, "GRIDTOOL_LANG": lang, "PYTHONPATH": str(ROOT), "GRIDTOOL_DB": "/nonexistent/x.json"}
    out = subprocess.run([sys.executable, "-c", WALK], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@cache
def catalog_ids() -> set[str]:
    """Ids the catalog labels (``status.accepted`` → accepted) and the services of the points
    rules (haircut): codes a user may type."""
    rules = (ROOT / "data" / "points_rules.csv").read_text(encoding="utf-8").splitlines()[1:]
    ids = {line.partition(",")[0] for line in rules}
    for key in i18n.catalog("en"):
        if "." in key and " " not in key:
            ids.update(re.split(r"[-_.]", key.rpartition(".")[2].lower()))
    return ids


def english_words(page: dict[str, Any], text: str) -> set[str]:
    allowed = ALLOWED | catalog_ids() | {part for w in page["words"] for part in re.split(r"[-_]", w.lower())}
    for pattern in STRIP:
        text = pattern.sub(" ", text)
    return {w for w in re.findall(r"[A-Za-z]{2,}", text) if w.lower() not in allowed}


def test_every_page_and_usage_error_reads_in_chinese() -> None:
    found = pages("zh")
    assert len(found) > 50
    leftovers = {}
    for command, page in found.items():
        assert page["help_code"] == 0 and page["error_code"] == 2, command
        assert "用法：" in page["help"] and "错误：" in page["error"], command
        for part in ("help", "error"):
            if words := english_words(page, page[part]):
                leftovers[f"{command} ({part})"] = sorted(words)
    assert leftovers == {}


def test_every_page_and_usage_error_reads_in_english_without_stray_chinese() -> None:
    """English pages keep Chinese only where the English text itself has it (住户, 独居老人)."""
    english_texts = [*i18n.catalog("en").values(), *i18n.catalog("zh")]  # zh keys: English help texts
    known = {run for text in english_texts for run in CJK.findall(text)}
    keys = {k for k in i18n.catalog("en") if "." in k and " " not in k}
    stray = {}
    for command, page in pages("en").items():
        assert page["help_code"] == 0 and page["error_code"] == 2, command
        for part in ("help", "error"):
            text = page[part]
            runs = {run for run in CJK.findall(text) if run not in known}
            raw_keys = {w for w in re.findall(r"\b[a-z_]+\.[a-z_.]+\b", text) if w in keys}
            if runs or raw_keys:
                stray[f"{command} ({part})"] = sorted(runs | raw_keys)
    assert stray == {}


def test_every_click_message_has_a_chinese_text_with_the_same_placeholders() -> None:
    zh = i18n.catalog("zh")
    for message in CLICK_MESSAGES:
        assert message in zh, message
        names = set(re.findall(r"\{(\w+)", message))
        assert set(re.findall(r"\{(\w+)", zh[message])) == names, message


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("Missing option '--to'.", "缺少选项 '--to'。"),
        (
            "Invalid value for '--limit': 'x' is not a valid integer.",
            "'--limit' 的取值无效：'x' 不是有效的整数。",
        ),
        ("Got unexpected extra argument (b)", "多出了参数（b）"),
        ("A sentence a later Click may add.", "A sentence a later Click may add."),
    ],
)
def test_click_sentences_are_read_back_and_translated(english: str, chinese: str) -> None:
    i18n.set_language("zh")
    assert click_text(english) == chinese
    i18n.set_language("en")
    assert click_text(english) == english


def run(*args: str, **env: str) -> Any:
    return CliRunner().invoke(cli, list(args), prog_name="gridtool", env=env)


def test_a_mistyped_command_option_or_value_gets_a_suggestion() -> None:
    assert "Did you mean household?" in run("houshold").output
    assert "Did you mean --grid" in run("household", "list", "--gird").output  # (or --wide, as close)
    assert "Did you mean table?" in run("report", "overdue", "--format", "tabel").output
    i18n.set_language("zh")
    refused = run("houshold")
    assert refused.exit_code == 2 and "您是不是要找 household？" in refused.output


def test_lang_takes_zh_or_en_only() -> None:
    refused = run("--lang", "fr", "grid", "list")
    assert refused.exit_code == 2 and "'fr' is not one of 'zh', 'en'" in refused.output
    assert run("--lang", "en", "--version").exit_code == 0


def test_an_unknown_gridtool_lang_falls_back_with_one_warning() -> None:
    i18n.set_language(None)
    result = run("--version", GRIDTOOL_LANG="fr", LC_ALL="", LANG="", LANGUAGE="", LC_MESSAGES="")
    assert result.exit_code == 0
    assert result.output.count("GRIDTOOL_LANG=fr") == 1 and "English" in result.output
    assert i18n.detect_language({"GRIDTOOL_LANG": "fr", "LANG": "zh_CN.UTF-8"}) == "zh"
    assert i18n.detect_language({"GRIDTOOL_LANG": "zh_CN.UTF-8"}) == "zh"


@pytest.mark.parametrize("stop", [click.Abort, KeyboardInterrupt, EOFError])
def test_an_aborted_command_says_so_in_chinese(stop: type[BaseException]) -> None:
    from gridtool.commands.clicktext import TranslatedGroup

    @click.group(cls=TranslatedGroup)
    def root() -> None:
        pass

    @root.command()
    def wait() -> None:
        raise stop()

    i18n.set_language("zh")
    result = CliRunner().invoke(root, ["wait"])
    assert result.exit_code == 1 and result.output.rstrip().endswith("已中止！")


def test_a_confirmation_takes_chinese_answers_and_complains_in_chinese(
    store_path: Path, community: Any
) -> None:
    i18n.set_language("zh")
    args = ["--db", str(store_path), "household", "remove", "程金娇"]
    kept = CliRunner().invoke(cli, args, input="也许\n否\n")
    assert kept.exit_code == 1 and "错误：输入无效" in kept.output and "[y/N]" in kept.output
    assert "程金娇" in CliRunner().invoke(cli, ["--db", str(store_path), "household", "list"]).output


def test_a_secret_asked_twice_says_in_chinese_when_the_two_differ() -> None:
    from gridtool.commands.clicktext import prompt_twice

    @click.command()
    def ask() -> None:
        click.echo(f"got {prompt_twice('口令')}")

    i18n.set_language("zh")
    result = CliRunner().invoke(ask, input="a\nb\nc\nc\n")
    assert "请再输入一次以确认" in result.output and "错误：两次输入的不一致。" in result.output
    assert result.output.rstrip().endswith("got c")
