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
from collections.abc import Mapping
from pathlib import Path

from verify.errors import InputError, MissingFileError

__all__ = ["write_atomic", "check_writable", "existing_file", "load_npz"]


def write_atomic(path: str | os.PathLike[str], content: str | bytes) -> None:
    """Write ``content`` (text as UTF-8, or bytes) to ``path`` atomically.

    The bytes go to a temporary file in the target's folder (flushed to disk), which then
    replaces ``path`` in one rename; on any error the temporary file is removed and an
    existing ``path`` is left as it was.  This is the one atomic writer of the package.

    Raises
    ------
    InputError
        If the folder does not exist or the file cannot be written.

    Examples
    --------
    >>> import os, tempfile
    >>> write_atomic(os.path.join(tempfile.mkdtemp(), "nodir", "x.txt"), "a")
    Traceback (most recent call last):
    ...
    verify.errors.InputError: cannot write ...x.txt: directory ...nodir does not exist
    """
    target = check_writable(path)
    folder = target.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {_reason(exc)}") from None
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {_reason(exc)}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def check_writable(path: str | os.PathLike[str], *, option: str | None = None,
                   inputs: Mapping[str, str | os.PathLike[str] | None] | None = None) -> Path:
    """``path`` as a :class:`~pathlib.Path` after checking that it can be written.

    Commands call this before long computations, so a wrong output path fails at once
    rather than after the work.  ``option`` (e.g. ``"--record"``) prefixes the message.
    ``inputs`` maps a role (``"data"``, ``"model"``) to a file the command reads: an output
    that is one of them (by any spelling or link) is refused, never replaced.

    Raises
    ------
    InputError
        ``"cannot write <path>: directory <folder> does not exist"`` (or: is not a
        directory, or ``<path>`` is a directory, or it is one of the ``inputs``).

    Examples
    --------
    >>> check_writable("x.npz").name
    'x.npz'
    >>> check_writable("nodir/x.npz", option="-o")
    Traceback (most recent call last):
    ...
    verify.errors.InputError: -o: cannot write nodir/x.npz: directory nodir does not exist
    >>> check_writable("./x.npz", option="-o", inputs={"data": "x.npz"})
    Traceback (most recent call last):
    ...
    verify.errors.InputError: -o: cannot write ./x.npz: it is the data file x.npz; ...
    """
    target = Path(path)
    folder = target.parent
    pre = f"{option}: " if option else ""
    if not folder.exists():
        raise InputError(f"{pre}cannot write {path}: directory {folder} does not exist")
    if not folder.is_dir():
        raise InputError(f"{pre}cannot write {path}: {folder} is not a directory")
    if target.is_dir():
        raise InputError(f"{pre}cannot write {path}: it is a directory")
    for role, inp in (inputs or {}).items():
        if inp is not None and _same_file(target, Path(inp)):
            raise InputError(f"{pre}cannot write {path}: it is the {role} file {inp}; "
                             "choose another name")
    return target


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or exc.__class__.__name__


def existing_file(path: str | os.PathLike[str]) -> Path:
    """``path`` as a :class:`~pathlib.Path` after checking that it is an existing file.

    Raises
    ------
    InputError
        ``"<path>: no such file"`` (a :class:`~verify.errors.MissingFileError`) or
        ``"<path>: not a file"``.
    """
    p = Path(path)
    if not p.exists():
        raise MissingFileError(f"{path}: no such file")
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
