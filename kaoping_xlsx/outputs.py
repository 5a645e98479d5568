"""Writing outputs safely: never over an input, never a half-written file, clear words when locked."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Callable, Iterable

from .errors import OutputError


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def write_atomically(path: Path, write: Callable[[Path], None], inputs: Iterable[Path] = ()) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place.

    Refuses an output that is one of ``inputs``; turns the usual faults (missing or read-only folder,
    a file held open by Excel or WPS) into :class:`OutputError` with a Chinese message, and leaves no
    partial file behind.
    """
    path = Path(path)
    for source in inputs:
        if _same_file(path, Path(source)):
            raise OutputError(f"输出文件 {path} 与输入文件相同，为保护原始数据已拒绝写入，请换一个输出文件名")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"输出目录不存在：{folder}")
    if path.is_dir():
        raise OutputError(f"输出路径 {path} 是一个文件夹，请给出文件名（如 结果.xlsx）")
    try:
        tmp = _new_file(folder, path.suffix or ".xlsx")
    except OSError as exc:
        raise OutputError(f"无法在 {folder} 中写入文件（{exc.strerror or exc}），请检查目录权限") from None
    try:
        write(tmp)
        os.replace(tmp, path)
    except PermissionError:
        raise OutputError(
            f"无法写入 {path}：文件可能正被 Excel 或 WPS 打开，或没有写入权限。请关闭该文件后重试"
        ) from None
    except OSError as exc:
        raise OutputError(f"无法写入 {path}：{exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _new_file(folder: Path, suffix: str) -> Path:
    """A new, empty, hidden file in ``folder`` with the permissions any new file gets there (the umask's):
    tempfile's are owner-only, and renamed into place they would hide the result from colleagues."""
    while True:
        tmp = folder / f".~kaoping-{secrets.token_hex(8)}{suffix}"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return tmp
