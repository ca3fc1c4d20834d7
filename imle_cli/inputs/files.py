"""What every reader of a user's file shares: the checks on the file itself, and one line of a
library's error message."""
from __future__ import annotations

from pathlib import Path

from imle_cli.errors import UserError


def check_file(path: Path, what: str) -> None:
    """Refuse a path that is missing, a folder or empty, naming ``what`` it was given as."""
    if not path.exists():
        raise UserError(f"{what} {str(path)!r} does not exist; give the path of an image or a cost array")
    if path.is_dir():
        raise UserError(f"{what} {str(path)!r} is a folder; give the path of an image or a cost array")
    if path.stat().st_size == 0:
        raise UserError(f"{what} {str(path)!r} is empty")


def first_line(error: BaseException) -> str:
    """The first line of an error's message (the type's name when it has none)."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
