"""Atomic file output: a temporary file in the target's folder, then one rename.

A reader never sees a half-written file, and a failed write leaves the old file (if any)
and no temporary file behind.

Examples
--------
>>> import os, tempfile
>>> p = os.path.join(tempfile.mkdtemp(), "out.txt")
>>> write_atomic(p, "hello\\n")
>>> open(p).read()
'hello\\n'
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from verify.errors import InputError

__all__ = ["write_atomic", "existing_file", "load_npz"]


def write_atomic(path: str | os.PathLike[str], content: str | bytes) -> None:
    """Write ``content`` (text as UTF-8, or bytes) to ``path`` atomically.

    Raises
    ------
    InputError
        If the folder does not exist or the file cannot be written.
    """
    target = Path(path)
    folder = target.parent
    if not folder.exists():
        raise InputError(f"cannot write {path}: directory {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from None
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def existing_file(path: str | os.PathLike[str]) -> Path:
    """``path`` as a :class:`~pathlib.Path` after checking that it is an existing file.

    Raises
    ------
    InputError
        ``"<path>: no such file"`` or ``"<path>: not a file"``.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{path}: no such file")
    if not p.is_file():
        raise InputError(f"{path}: not a file")
    return p


def load_npz(path: str | os.PathLike[str], name: str) -> dict:
    """Every array of an ``.npz`` file, never unpickling (``allow_pickle=False``).

    Raises
    ------
    InputError
        Not a zip archive, Python objects inside (pickles are never loaded), or unreadable.
    """
    import numpy as np

    with open(path, "rb") as fh:
        if fh.read(4) != b"PK\x03\x04":
            raise InputError(f"{name}: not a readable .npz file (not a zip archive)")
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise InputError(
                f"{name}: the .npz file holds Python objects; only numeric or string arrays "
                "are read (pickles are never loaded)"
            ) from None
        raise InputError(f"{name}: not a readable .npz file ({exc})") from None
    except Exception as exc:
        raise InputError(f"{name}: not a readable .npz file ({exc})") from None
