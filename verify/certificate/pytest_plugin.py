"""pytest plugin: one test per certificate, passing iff ``verify check`` would exit 0.

Registered as the ``pytest11`` entry point ``verify`` (or load it with
``-p verify.certificate.pytest_plugin``).  It adds one option::

    pytest --verify-certificates DIR [--verify-certificates DIR2 ...]

and then collects, for every certificate of ``DIR`` (found as ``verify regress`` finds
them: :func:`verify.certificate.regress.find_certificates`), a test item ``<path>::verify-check``
that
replays it with the trusted checker against the data and model files it names.  A failing
item lists the failed rules (or names the missing file).  A ``DIR`` that does not exist or
holds no certificate is a usage error (the run stops; nothing passes silently).

Without the option the plugin does nothing: it imports nothing from ``verify`` and adds no
item, so it neither slows down nor changes an ordinary test run.

Examples
--------
>>> CertificateFailure("f1.cert.json", ["hash: data sha256 mismatch"]).args[0]
'f1.cert.json'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "OPTION",
    "ENTRY_POINT",
    "CertificateFailure",
    "CertificateFile",
    "CertificateItem",
    "pytest_addhooks",
    "pytest_addoption",
    "pytest_configure",
    "pytest_make_collect_report",
]

#: The command-line option.
OPTION = "--verify-certificates"


class CertificateFailure(Exception):
    """Raised by :class:`CertificateItem` when the checker rejects the certificate."""

    def __init__(self, name: str, problems: list[str]) -> None:
        super().__init__(name, problems)
        self.name = name
        self.problems = problems


#: The ``pytest11`` entry-point name of this plugin (``pyproject.toml``).
ENTRY_POINT = "verify"


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Loaded explicitly (``-p verify.certificate.pytest_plugin``) before the installed entry
    point: block
    the entry point, which would register this module a second time and stop pytest."""
    import sys

    me = sys.modules[__name__]
    if pluginmanager.get_name(me) != ENTRY_POINT and pluginmanager.get_plugin(ENTRY_POINT) is None:
        pluginmanager.set_blocked(ENTRY_POINT)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("verify", "verify certificates")
    group.addoption(
        OPTION,
        action="append",
        default=[],
        metavar="DIR",
        dest="verify_certificates",
        help="add one test per certificate in DIR (recursively): it passes iff "
        "'verify check' accepts the certificate; may be repeated",
    )


class CertificateFile(pytest.File):
    """A certificate file: collects one :class:`CertificateItem`."""

    def collect(self) -> Any:
        yield CertificateItem.from_parent(self, name="verify-check")


class CertificateItem(pytest.Item):
    """Replays one certificate with the trusted checker
    (:func:`verify.certificate.regress.check_one`).
    """

    def runtest(self) -> None:
        from verify.certificate.regress import check_one

        out = check_one(self.path)
        if not out.valid:
            raise CertificateFailure(str(self.path),
                                     [f"{p.rule}: {p.detail}" for p in out.problems])
        self.user_properties.append(("upper_bound", str(out.upper_bound)))
        self.user_properties.append(("lower_bound", str(out.lower_bound)))

    def repr_failure(self, excinfo: Any, style: Any = None) -> Any:
        if isinstance(excinfo.value, CertificateFailure):
            e = excinfo.value
            from verify.certificate.messages import printable

            lines = [printable(f"certificate {e.name} rejected by the trusted checker "
                               f"({len(e.problems)} failed rule(s)):")]
            lines += [printable(f"  {p}") for p in e.problems]  # strings from files, escaped
            return "\n".join(lines)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        from verify.certificate.messages import printable

        return self.path, None, printable(f"verify check {self.path.name}")


def pytest_configure(config: pytest.Config) -> None:
    """Find the certificates of every ``--verify-certificates DIR`` before the session starts.

    An unusable ``DIR`` stops pytest here with one ``ERROR:`` line (a usage error raised
    later, inside a collection hook wrapper, would come with a pluggy warning block).
    """
    dirs = config.getoption("verify_certificates", default=None)
    if not dirs:
        return
    from verify.certificate.regress import find_certificates
    from verify.errors import InputError

    found: list[Path] = []
    for d in dirs:
        try:
            found += [Path(p).resolve() for p in find_certificates(d)]
        except InputError as exc:
            raise pytest.UsageError(f"{OPTION} {d}: {exc}") from None
    config.stash[_FOUND] = found


_FOUND = pytest.StashKey[list]()


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Any:
    """Append one :class:`CertificateFile` per certificate to the session's children."""
    outcome = yield
    if not isinstance(collector, pytest.Session):
        return
    paths = collector.config.stash.get(_FOUND, None)
    if not paths:
        return
    rep = outcome.get_result()
    if not rep.passed:
        return
    seen = {getattr(n, "path", None) for n in rep.result}
    from verify.certificate.messages import printable

    for rp in paths:
        if rp not in seen:
            seen.add(rp)
            node = CertificateFile.from_parent(collector, path=rp)
            shown = printable(node.nodeid)  # pytest prints node ids raw: a file name with
            if shown != node.nodeid:        # ESC or U+202E must not reach the terminal
                node = CertificateFile.from_parent(collector, path=rp, nodeid=shown)
            rep.result.append(node)
