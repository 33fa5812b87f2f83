"""The operating system's refusals in the user's words, not its English ``strerror``."""

from __future__ import annotations

import errno
import zipfile
from pathlib import Path

import pytest

from gridtool import i18n
from gridtool.errors import GridtoolError
from gridtool.ledger.sheets import read_file
from gridtool.oserrors import os_reason


@pytest.mark.parametrize(
    ("code", "chinese"),
    [
        (errno.ENOENT, "找不到该文件或文件夹"),
        (errno.EACCES, "没有权限"),
        (errno.ENOSPC, "磁盘空间已满"),
        (errno.EISDIR, "这是一个文件夹"),
    ],
)
def test_common_reasons_are_translated(code: int, chinese: str) -> None:
    i18n.set_language("zh")
    assert os_reason(OSError(code, "English words")) == chinese
    assert os_reason(code) == chinese


def test_an_uncommon_reason_keeps_the_system_s_words_and_never_fails() -> None:
    i18n.set_language("zh")
    assert os_reason(OSError(errno.ECONNRESET, "Connection reset by peer")) == "Connection reset by peer"
    assert os_reason(ValueError()) == "ValueError"
    assert "zip" in os_reason(zipfile.BadZipFile("File is not a zip file"))


def test_a_broken_workbook_and_a_folder_are_explained_in_chinese(tmp_path: Path) -> None:
    i18n.set_language("zh")
    fake = tmp_path / "住户.xlsx"
    fake.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(GridtoolError) as broken:
        read_file(fake)
    assert "不是 zip 文件" in broken.value.message()
    with pytest.raises(GridtoolError) as folder:
        read_file(tmp_path)
    assert "这是一个文件夹" in folder.value.message()
