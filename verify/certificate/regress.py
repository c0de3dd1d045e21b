"""Certificate regression: re-check (and optionally regenerate) a folder of certificates.

:func:`find_certificates` lists the certificates of a folder (every ``*.json``, recursively,
except ``schema-*.json`` and the data files the certificates name; a file named
``*.cert.json`` or holding a ``"format"`` key is always a certificate, even when some
certificate names it as its data, and that certificate then fails);
:func:`check_one` replays one with the trusted checker (:func:`verify.checker.check.check_file`)
against the data and model files it names; :func:`compare_one` rebuilds it from the same
data and model with the current solver (:func:`verify.certificate.build.build_certificate`) and
compares the bounds; :func:`regress` does all of it and :func:`render_table`,
:func:`junit_xml` render the report.  ``verify regress DIR`` is the command line.

A certificate *passes* iff the checker accepts it (exit 0 of ``verify check``) and, with
``compare``, no bound of the regenerated certificate is worse than the committed one by more
than the relative tolerance: ``LB_new < LB_old - T·|LB_old|`` or ``UB_new > UB_old + T·|UB_old|``
(exact rational comparisons), or a lower bound lost altogether.

Examples
--------
>>> from pathlib import Path
>>> root = Path(__file__).resolve().parent.parent / "certificates"
>>> rep = regress(root)  # doctest: +SKIP
>>> rep.passed  # doctest: +SKIP
True
>>> find_certificates("/no/such/dir")
Traceback (most recent call last):
...
verify.errors.InputError: /no/such/dir: no such directory or certificate file
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from verify.certificate.messages import certificate_labels, clip, printable, with_labels
from verify.checker.arithmetic import format_rational, parse_rational
from verify.checker.files import inside_path
from verify.errors import InputError, MissingFileError
from verify.progress import progress

__all__ = [
    "DEFAULT_COMPARE_TOLERANCE",
    "Problem",
    "Comparison",
    "Outcome",
    "RegressReport",
    "find_certificates",
    "check_one",
    "compare_one",
    "regress",
    "render_table",
    "junit_xml",
]

#: Default relative tolerance of ``--compare``.
DEFAULT_COMPARE_TOLERANCE = Fraction(1, 10**6)


@dataclass(frozen=True)
class Problem:
    """One reason a certificate fails: ``rule`` (short name) and ``detail`` (what, where)."""

    rule: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "detail": self.detail}


def _fl(v: Fraction) -> float:
    try:
        return float(v)
    except OverflowError:
        return 1.7976931348623157e308 if v > 0 else -1.7976931348623157e308


def _q(v: Fraction | None) -> dict[str, Any] | None:
    return None if v is None else {"exact": format_rational(v), "float": _fl(v)}


@dataclass(frozen=True)
class Comparison:
    """Committed bounds against regenerated ones, per class and in total.

    ``classes``: dicts ``{index, label, old_lower_bound, new_lower_bound, old_upper_bound,
    new_upper_bound}`` (bounds as ``{"exact", "float"}`` or ``None``); ``problems``: the bounds
    that got worse beyond the tolerance (empty when the comparison passes).
    """

    classes: tuple[dict[str, Any], ...]
    problems: tuple[Problem, ...] = ()
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "classes": list(self.classes),
                "problems": [p.to_dict() for p in self.problems], "seconds": self.seconds}


@dataclass(frozen=True)
class Outcome:
    """The result for one certificate.

    ``name``: path relative to the folder; ``valid``: the checker accepts it;
    ``lower_bound``/``upper_bound``: the checker's recomputed totals (``None`` if not
    recomputed); ``problems``: failed rules (or the unusable input: a missing file is named);
    ``verdicts``: the certificate's verdict per class as the checker read it;
    ``comparison``: with ``compare`` only.
    """

    name: str
    path: str
    valid: bool
    lower_bound: Fraction | None = None
    upper_bound: Fraction | None = None
    problems: tuple[Problem, ...] = ()
    seconds: float = 0.0
    comparison: Comparison | None = None
    verdicts: tuple[str, ...] = ()

    @property
    def verdict(self) -> str:
        """One word for the table: ``optimal-within`` (every class
        ``globally-optimal-within``), ``suboptimal``, ``proven-gap``, ``restricted``,
        ``inconclusive`` (version-1 files),
        ``mixed``, or ``-`` (none, or the checker rejects the certificate: its verdicts are
        then claims, not results)."""
        short = {"globally-optimal-within": "optimal-within"}
        vs = {short.get(v, v) for v in self.verdicts} if self.valid else set()
        return "-" if not vs else vs.pop() if len(vs) == 1 else "mixed"

    @property
    def gap(self) -> float | None:
        """Relative gap ``(UB − LB)/UB`` of the recomputed totals (float, for people)."""
        lb, ub = self.lower_bound, self.upper_bound
        if lb is None or ub is None or ub == 0 or not self.valid:
            return None
        return float((ub - lb) / ub)

    @property
    def passed(self) -> bool:
        return self.valid and (self.comparison is None or self.comparison.ok)

    def all_problems(self) -> tuple[Problem, ...]:
        extra = self.comparison.problems if self.comparison is not None else ()
        return self.problems + extra

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "path": self.path, "passed": self.passed, "valid": self.valid,
            "verdicts": list(self.verdicts),
            "lower_bound": _q(self.lower_bound), "upper_bound": _q(self.upper_bound),
            "relative_gap": self.gap, "seconds": self.seconds,
            "failures": [p.to_dict() for p in self.problems],
            "comparison": None if self.comparison is None else self.comparison.to_dict(),
        }


@dataclass(frozen=True)
class RegressReport:
    """All outcomes of :func:`regress`, in path order."""

    directory: str
    outcomes: tuple[Outcome, ...]
    compare: bool = False
    tolerance: Fraction | None = None
    seconds: float = 0.0
    skipped: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return all(o.passed for o in self.outcomes)

    @property
    def n_failed(self) -> int:
        return sum(not o.passed for o in self.outcomes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": self.directory, "passed": self.passed,
            "certificates": len(self.outcomes), "failed": self.n_failed,
            "compare": self.compare,
            "tolerance": None if self.tolerance is None else format_rational(self.tolerance),
            "seconds": self.seconds, "skipped": list(self.skipped),
            "results": [o.to_dict() for o in self.outcomes],
        }


# ----------------------------------------------------------------------------- discovery


def _role(p: Path) -> tuple[bool, Path | None]:
    """``(is a certificate, the data file it names or None)``: a file named ``*.cert.json`` or
    a JSON object with a ``"format"`` key is a certificate."""
    named = p.name.lower().endswith(".cert.json")  # any case: what a certificate is named
    try:
        obj = json.loads(p.read_bytes())  # bytes, as the checker reads them (BOM, UTF-16)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return named, None
    is_cert = named or (isinstance(obj, dict) and "format" in obj)
    try:
        return is_cert, inside_path(p.parent, obj["data"]["path"], "data")
    except (InputError, KeyError, TypeError):
        return is_cert, None


def find_certificates(directory: str | os.PathLike[str]) -> list[Path]:
    """The certificates in ``directory`` (recursively), sorted; ``directory`` may also be one
    certificate file.

    Every ``*.json`` file (the suffix in any case: ``.JSON``, ``.Json``) counts except
    ``schema-*.json`` and the files that a certificate in the folder names as its data; a
    ``*.cert.json`` file (any case) or a JSON object with a ``"format"`` key counts even then
    (a schema or data file that is a certificate is checked; the certificate naming it fails:
    a certificate is no data file).
    Anything else that is not a valid certificate will fail the check (nothing is skipped).

    Raises
    ------
    InputError
        If ``directory`` does not exist or holds no certificate.
    """
    root = Path(directory)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise InputError(f"{directory}: no such directory or certificate file")
    files = sorted(p for p in root.rglob("*")
                   if p.name.lower().endswith(".json") and p.is_file())
    roles = {p: _role(p) for p in files}
    data = {d for _, d in roles.values() if d is not None}
    certs = [p for p in files if roles[p][0] or (
        p.resolve() not in data and not p.name.startswith("schema-"))]
    if not certs:
        raise InputError(f"{directory}: no certificates found (no *.json files other than "
                         "schema-*.json and data files)")
    return certs


# ----------------------------------------------------------------------------- checking


def _unusable(exc: BaseException) -> Problem:
    if isinstance(exc, InputError):
        msg = str(exc)
        # by the class, not the text: a message holds a certificate's paths (matching it
        # with a pattern took time quadratic in a hostile data.path)
        rule = "missing-file" if isinstance(exc, MissingFileError) else "unusable-input"
        return Problem(rule, msg)
    first = str(exc).splitlines()[0] if str(exc) else ""
    return Problem("malformed-certificate", f"{exc.__class__.__name__}: {first}")


_MALFORMED = (KeyError, TypeError, ValueError, IndexError, AttributeError, ArithmeticError,
              RecursionError)


def _hint(detail: str, cert: Path) -> str:
    """The checker's hint ``--data FILE``/``--model FILE`` (options of ``verify check``, not of
    ``regress``) as the command that takes it: ``'verify check CERT --data FILE'``."""
    for what in ("data", "model"):
        detail = detail.replace(f"--{what} FILE", f"'verify check {cert} --{what} FILE'")
    return detail


def check_one(path: str | os.PathLike[str], *, name: str | None = None) -> Outcome:
    """Replay one certificate with the trusted checker against the files it names.

    Never raises for a bad certificate: a missing data or model file, malformed JSON or a
    wrong format becomes a failed :class:`Outcome` naming the problem.
    """
    from verify.checker.check import check_file

    p = Path(path)
    label = name if name is not None else p.as_posix()
    t0 = time.perf_counter()
    try:
        obj = json.loads(p.read_bytes())  # as the checker reads it (BOM, UTF-16)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        obj = None  # check_file names the problem (nesting too deep: one line, no traceback)
    if isinstance(obj, dict) and "format" not in obj:
        hint = " (a data file that no certificate names?)" if "X" in obj else ""
        return Outcome(label, str(p), False, problems=(Problem(
            "not-a-certificate", f"{p}: a JSON object without 'format'{hint}"),),
            seconds=time.perf_counter() - t0)
    try:
        res = check_file(p, progress=progress)
    except (InputError, *_MALFORMED) as exc:
        prob = _unusable(exc)
        return Outcome(label, str(p), False, problems=(Problem(prob.rule,
                                                               _hint(prob.detail, p)),),
                       seconds=time.perf_counter() - t0)
    return Outcome(label, str(p), res.valid, res.lower_bound, res.upper_bound,
                   tuple(Problem(f.rule, _hint(f.detail, p)) for f in res.failures),
                   time.perf_counter() - t0,
                   verdicts=tuple(str(c.get("verdict")) for c in res.classes))


def _rational(text: Any) -> Fraction:
    """A rational ``p/q`` of a certificate (at most 4,000 characters: never expands)."""
    if not isinstance(text, str) or len(text) > 4000:
        raise InputError("malformed certificate: a rational of more than 4,000 characters")
    return parse_rational(text)


def _bound(obj: Any) -> Fraction | None:
    return None if obj is None else _rational(obj["exact"])


def _worse(kind: str, old: Fraction | None, new: Fraction | None, tol: Fraction) -> bool:
    if old is None:
        return False
    if new is None:
        return True
    if kind == "lower":
        return new < old - tol * abs(old)
    return new > old + tol * abs(old)


def compare_one(path: str | os.PathLike[str], *,
                tolerance: Fraction = DEFAULT_COMPARE_TOLERANCE,
                solver: str | None = None) -> Comparison:
    """Rebuild the certificate at ``path`` from its data and model and compare the bounds.

    The certificate is rebuilt in a temporary folder with the current solver and the
    certificate's own ``tolerance`` (verdict threshold); a committed bound beaten by more
    than ``tolerance`` (relative) is a problem.  Unusable inputs become a problem too.
    """
    from verify.certificate.build import build_certificate
    from verify.convex.routes import DEFAULT_LIMIT
    from verify.io.datasets import load_dataset
    from verify.network.model import load_network

    p = Path(path)
    t0 = time.perf_counter()
    try:
        old = json.loads(p.read_text(encoding="utf-8"))
        base = p.resolve().parent
        dpath = inside_path(base, old["data"]["path"], "data")
        mpath = inside_path(base, old["model"]["path"], "model")
        bias = bool(old["data"]["bias"])
        ds = load_dataset(dpath, bias=bias)
        net = load_network(mpath, n_features=ds.n_features, data_bias=bias)
        with tempfile.TemporaryDirectory(prefix="verify-regress-") as tmp:
            new = build_certificate(
                ds, net, data_path=dpath, model_path=mpath,
                cert_path=Path(tmp) / p.name, solver=solver, limit=DEFAULT_LIMIT,
                tolerance=_rational(old.get("tolerance", "1/1000000")),
            )
        rows, probs = _compare_bounds(old, new, tolerance)
    except (OSError, UnicodeDecodeError, InputError, *_MALFORMED) as exc:
        prob = _unusable(exc)  # a committed file of the wrong shape, too: never a traceback
        return Comparison((), (Problem("compare-" + prob.rule, prob.detail),),
                          time.perf_counter() - t0)
    return Comparison(tuple(rows), tuple(probs), time.perf_counter() - t0)


def _compare_bounds(old: Any, new: dict[str, Any], tolerance: Fraction
                    ) -> tuple[list[dict[str, Any]], list[Problem]]:
    """The rows and problems of :func:`compare_one` (``old`` as read from the file: a wrong
    shape raises ``KeyError``/``TypeError``/``AttributeError``, a huge number ``InputError``)."""
    rows, probs = [], []
    pairs = [(f"class {c.get('index', k)}", c, n)
             for k, (c, n) in enumerate(zip(old["classes"], new["classes"]))]
    if len(old["classes"]) != len(new["classes"]):
        probs.append(Problem("compare-classes", f"{len(old['classes'])} classes committed, "
                                                f"{len(new['classes'])} regenerated"))
    pairs.append(("total", old["total"], new["total"]))
    for where, o, n in pairs:
        lo, ln = _bound(o.get("lower_bound")), _bound(n.get("lower_bound"))
        uo, un = _bound(o.get("upper_bound")), _bound(n.get("upper_bound"))
        rows.append({"where": where, "label": o.get("label"),
                     "old_lower_bound": _q(lo), "new_lower_bound": _q(ln),
                     "old_upper_bound": _q(uo), "new_upper_bound": _q(un)})
        if _worse("lower", lo, ln, tolerance):
            probs.append(Problem("compare-lower-bound", f"{where}: LB decreased from "
                                 f"{_fmt(lo)} to {_fmt(ln)}"))
        if _worse("upper", uo, un, tolerance):
            probs.append(Problem("compare-upper-bound", f"{where}: UB increased from "
                                 f"{_fmt(uo)} to {_fmt(un)}"))
    return rows, probs


def _fmt(v: Fraction | float | None, digits: int = 12) -> str:
    return "none" if v is None else f"{_fl(Fraction(v)):.{digits}g}"


def regress(directory: str | os.PathLike[str], *, compare: bool = False,
            tolerance: Fraction = DEFAULT_COMPARE_TOLERANCE,
            solver: str | None = None) -> RegressReport:
    """Check every certificate of ``directory`` (and, with ``compare``, regenerate it).

    Raises
    ------
    InputError
        If ``directory`` does not exist or holds no certificate (:func:`find_certificates`),
        or ``tolerance`` is negative.
    """
    tolerance = Fraction(tolerance)
    if tolerance < 0 or tolerance.denominator.bit_length() > 400:
        raise InputError(f"tolerance: expected a number >= 0, got {tolerance}")
    t0 = time.perf_counter()
    root = Path(directory)
    outs = []
    paths = find_certificates(root)
    with progress("regress", total=len(paths)) as bar:
        for p in paths:
            o = check_one(p, name=p.name if root.is_file() else p.relative_to(root).as_posix())
            if compare:
                o = Outcome(o.name, o.path, o.valid, o.lower_bound, o.upper_bound, o.problems,
                            o.seconds, compare_one(p, tolerance=tolerance, solver=solver),
                            o.verdicts)
            outs.append(o)
            bar.advance()
    return RegressReport(str(directory), tuple(outs), compare,
                         tolerance if compare else None, time.perf_counter() - t0)


# ----------------------------------------------------------------------------- rendering


def render_table(report: RegressReport) -> str:
    """A plain-text table (at most 100 columns) with one line per certificate, the failed
    rules under a failing one, and a summary line."""
    w = max([4] + [len(o.name) for o in report.outcomes])
    w = min(w, 32)
    head = (f"{'name':<{w}}  {'result':<6}  {'verdict':<14}  {'LB':>11}  {'UB':>11}  "
            f"{'gap':>8}  {'time s':>6}")
    lines = [head, "-" * len(head)]
    for o in report.outcomes:
        name = printable(o.name)
        name = name if len(name) <= w else "…" + name[-(w - 1):]
        result = "pass" if o.passed else "FAIL"
        gap = "-" if o.gap is None else f"{o.gap:.2e}"
        lb, ub = (_fmt(o.lower_bound, 7), _fmt(o.upper_bound, 7)) if o.valid else ("-", "-")
        lines.append(f"{name:<{w}}  {result:<6}  {o.verdict:<14}  {lb:>11}  {ub:>11}  "
                     f"{gap:>8}  {o.seconds:>6.2f}")
        if o.comparison is not None:
            for r in o.comparison.classes:
                lines.append(clip(f"    compare {r['where']}: LB {_num(r['old_lower_bound'])} -> "
                             f"{_num(r['new_lower_bound'])}, UB {_num(r['old_upper_bound'])} "
                             f"-> {_num(r['new_upper_bound'])}"))
        labels = certificate_labels(o.path) if o.all_problems() else None
        for pr in o.all_problems():
            lines.append(clip(f"    {pr.rule}: {with_labels(pr.detail, labels)}"))
    n = len(report.outcomes)
    what = "checked and compared" if report.compare else "checked"
    lines.append(f"{n - report.n_failed} of {n} certificate(s) passed ({what}, "
                 f"{report.seconds:.1f} s)" + ("" if report.passed else
                                               f"; {report.n_failed} FAILED"))
    return "\n".join(lines)


def _num(b: dict[str, Any] | None) -> str:
    return "none" if b is None else f"{b['float']:.9g}"


def junit_xml(report: RegressReport) -> str:
    """JUnit XML: one ``testsuite`` named ``verify-regress``, one ``testcase`` per
    certificate, a ``failure`` element listing the failed rules of a failing one."""
    suite = ET.Element("testsuite", {
        "name": "verify-regress", "tests": str(len(report.outcomes)),
        "failures": str(report.n_failed), "errors": "0", "skipped": "0",
        "time": f"{report.seconds:.3f}",
    })
    for o in report.outcomes:
        secs = o.seconds + (o.comparison.seconds if o.comparison is not None else 0.0)
        case = ET.SubElement(suite, "testcase", {
            "classname": "verify.certificate.regress", "name": printable(o.name),
            "file": printable(o.path),
            "time": f"{secs:.3f}",
        })
        if not o.passed:
            probs = o.all_problems()
            f = ET.SubElement(case, "failure", {
                "message": printable("; ".join(p.rule for p in probs) or "failed"),
                "type": "CertificateRegression",
            })
            f.text = "\n".join(printable(f"{p.rule}: {p.detail}") for p in probs)
        else:
            out = ET.SubElement(case, "system-out")
            out.text = f"LB {_fmt(o.lower_bound)} UB {_fmt(o.upper_bound)}"
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, "unicode") + "\n"
