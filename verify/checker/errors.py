"""The root of the one error hierarchy, kept in the trusted kernel.

The checker raises :class:`InputError` on unusable files; :mod:`verify.errors` re-exports both
classes and adds the toolkit's other errors, so there is one hierarchy and the kernel needs
nothing outside itself.

Examples
--------
>>> from verify.checker.errors import InputError, VerifyError
>>> issubclass(InputError, VerifyError) and issubclass(InputError, ValueError)
True
"""

from __future__ import annotations

__all__ = ["VerifyError", "InputError", "MissingFileError"]


class VerifyError(Exception):
    """Base class of every error raised on purpose by ``verify``."""


class InputError(VerifyError, ValueError):
    """Unusable input: a data set, a model or an option that cannot be used as given.

    The message says what was expected, what was received and, where possible, how to fix it.
    """


class MissingFileError(InputError):
    """A file that does not exist (``PATH: no such file``, maybe followed by where the path
    came from): ``verify regress`` reports it as ``missing-file`` by this class, not by the
    message's text (which holds paths from a certificate)."""


# Their public home is verify.errors (which re-exports them): tracebacks and pickles name it.
VerifyError.__module__ = InputError.__module__ = MissingFileError.__module__ = "verify.errors"
