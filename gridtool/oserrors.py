"""Why the operating system refused, in the user's language.

An ``OSError``'s ``strerror`` is English whatever the user reads (``No such file or directory``);
its ``errno`` is not. Every message that carries a file's ``reason`` takes it from :func:`os_reason`.
"""

from __future__ import annotations

import errno

from gridtool.i18n import t

_REASONS = {
    errno.ENOENT: "os.not_found",
    errno.EACCES: "os.permission",
    errno.EPERM: "os.permission",
    errno.ENOSPC: "os.disk_full",
    errno.EDQUOT: "os.disk_full",
    errno.EFBIG: "os.too_big",
    errno.EISDIR: "os.is_directory",
    errno.ENOTDIR: "os.not_directory",
    errno.EROFS: "os.read_only",
    errno.EEXIST: "os.exists",
    errno.ENAMETOOLONG: "os.name_too_long",
    errno.EBUSY: "os.busy",
    errno.EIO: "os.io",
    errno.ETXTBSY: "os.busy",
}


def os_reason(error: BaseException | int) -> str:
    """The reason for ``error`` (an exception or an errno) as a short phrase, translated for the
    common cases (not found, no permission, disk full, a folder, not a zip/xlsx file); anything
    else in the system's own words."""
    code = error if isinstance(error, int) else getattr(error, "errno", None)
    key = _REASONS.get(code) if isinstance(code, int) else None
    if key is not None:
        return t(key)
    if type(error).__name__ == "BadZipFile":  # zipfile's, without importing zipfile for the check
        return t("os.not_zip")
    if isinstance(error, int):
        import os

        return os.strerror(error)
    return getattr(error, "strerror", None) or str(error) or type(error).__name__
