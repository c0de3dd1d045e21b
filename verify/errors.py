"""The one error hierarchy of ``verify``.

Every error the toolkit raises on purpose derives from :class:`VerifyError`, so a caller
(and the CLI) can tell an expected failure, reported with a clear message, from a bug.
The root (:class:`VerifyError`, :class:`InputError`) lives in the trusted kernel
(:mod:`verify.checker.errors`), which must not import anything outside itself.

Examples
--------
>>> from verify.errors import InputError, VerifyError
>>> issubclass(InputError, VerifyError) and issubclass(InputError, ValueError)
True
"""

from __future__ import annotations

from verify.checker.errors import InputError, MissingFileError, VerifyError

__all__ = [
    "VerifyError",
    "InputError",
    "MissingFileError",
    "SolverError",
    "CertificateError",
    "EnumerationLimitError",
]


class SolverError(VerifyError):
    """A conic solver failed, is missing, or is not licensed."""


class CertificateError(VerifyError):
    """A certificate file is malformed (not a failed check: that is a verdict)."""


class EnumerationLimitError(VerifyError):
    """An exact enumeration would exceed the limit the caller set.

    Attributes
    ----------
    count : int or None
        The exact number of objects, when it was proven before giving up.
    proof : dict or None
        How that count was shown (JSON-ready).
    """

    def __init__(self, message: str, *, count: int | None = None, proof: dict | None = None):
        super().__init__(message)
        self.count = count
        self.proof = proof
