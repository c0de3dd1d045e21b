"""Untrusted files: a regular file read once with a size cap, strict JSON, and the paths a
certificate names, which must stay inside its folder.

Part of the trusted checker (standard library only).  Every file the checker opens goes
through :func:`read_file` (a FIFO or ``/proc/self/mem`` is refused before a byte is read);
every JSON text through :func:`load_json` (no duplicate keys, no ``NaN``, no huge integers);
every path a certificate states through :func:`inside_path`.
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path, PurePosixPath
from typing import Any

from verify.checker.errors import InputError, MissingFileError

__all__ = ["read_file", "load_json", "inside_path", "shorten"]


def read_file(path: str | Path, max_bytes: int, name: str | None = None) -> bytes:
    """The bytes of a regular, nonempty file of at most ``max_bytes`` bytes, read once with
    that cap (an empty or special file such as ``/proc/self/mem`` is refused unread)."""
    name = str(path) if name is None else name
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever;
        # the fstat below refuses it (and any other special file) before a byte is read
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise InputError(f"{name}: not a regular file")
            if st.st_size == 0:
                raise InputError(f"{name}: empty file")
            if st.st_size > max_bytes:
                raise InputError(f"{name}: {st.st_size} bytes, more than the {max_bytes} this "
                                 "check needs")
            raw = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise MissingFileError(f"{name}: no such file") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot be read ({exc.strerror or exc.__class__.__name__})"
                         ) from None
    if len(raw) > max_bytes:
        raise InputError(f"{name}: more than the {max_bytes} bytes this check needs")
    return raw


def load_json(raw: bytes | str, name: str) -> Any:
    """Strict JSON: a duplicate key, ``NaN``/``Infinity``, a non-finite number or an integer
    of more than 30 digits make the file malformed (:class:`InputError`)."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(items)
        if len(out) != len(items):
            seen: set[str] = set()
            for k, _ in items:
                if k in seen:
                    raise InputError(f"{name}: malformed JSON: duplicate key {k!r}")
                seen.add(k)
        return out

    def const(text: str) -> Any:
        raise InputError(f"{name}: malformed JSON: {text} is not a number")

    def number(text: str) -> float:
        v = float(text)
        if not math.isfinite(v):
            raise InputError(f"{name}: malformed JSON: {text[:20]} is out of the float range")
        return v

    def integer(text: str) -> int:
        if len(text) > 30:
            raise InputError(f"{name}: malformed JSON: an integer of {len(text)} digits")
        return int(text)

    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
        return json.loads(text, object_pairs_hook=pairs, parse_constant=const,
                          parse_float=number, parse_int=integer)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else "nested too deeply"
        raise InputError(f"{name}: not valid JSON ({exc.__class__.__name__}: {first})"
                         ) from None


def shorten(text: str, width: int = 200) -> str:
    """``text`` cut in the middle to at most ``width`` characters (a file name from a hostile
    certificate can be as long as the certificate; its two ends say which file it is).

    Examples
    --------
    >>> shorten("a" * 10 + "b" * 10, 9)
    'aaa...bbb'
    >>> shorten("short")
    'short'
    """
    if len(text) <= width:
        return text
    keep = max(width - 3, 2)
    return text[: (keep + 1) // 2] + "..." + text[len(text) - keep // 2:]


def inside_path(base: Path, rel: Any, what: str) -> Path:
    """The file ``rel`` (a certificate's ``data.path``/``model.path``) inside the folder
    ``base``: relative, POSIX, no ``..``, and resolving (symlinks followed) inside ``base``.
    Any other path is refused with the same message, whether it exists or not.

    Examples
    --------
    >>> try:
    ...     inside_path(Path("/tmp"), "../etc/passwd", "data")
    ... except InputError as exc:
    ...     print(str(exc)[:58])
    data.path '../etc/passwd' is not a file inside the certifi
    """
    hint = f"(give --{what} FILE to check against another file)"
    if type(rel) is not str:
        raise InputError(f"{what}.path is {'missing' if rel is None else 'not a string'} in "
                         f"the certificate {hint}")
    root = base.resolve()
    try:
        parts = PurePosixPath(rel).parts
        ok = bool(parts) and not any(c in rel for c in "\\:\x00") and not rel.startswith("/") \
            and ".." not in parts
        target = (root / rel).resolve() if ok else root
        ok = ok and root in target.parents
    except (OSError, RuntimeError, ValueError):
        ok = False
    if not ok:
        raise InputError(f"{what}.path {shorten(repr(rel))} is not a file inside the "
                         "certificate's folder "
                         + hint)
    return target
