"""The small trusted checker of ``verify`` certificates (``docs/certificate.md``).

It never solves anything: it replays the evidence of a certificate in exact rational/integer
arithmetic and recomputes ``LB <= P* <= UB`` for every class.  It imports only the standard
library, :mod:`verify.geometry.rationals`, :mod:`verify.checker.readers`,
:mod:`verify.checker.counting` and
:mod:`verify.errors` (no numpy,
scipy, cvxpy or networkx; a test runs it with those modules blocked).  One explicit
``if ...: fail(rule, detail)`` per rule; every failure names the offending class, chamber,
sample or neuron.  Unusable input (missing or malformed files, a wrong format or version)
raises :class:`verify.errors.InputError` instead.

Examples
--------
>>> from fractions import Fraction
>>> sq_norm_le([[1, 0], [0, 1]], 0, [3, 4], 1, Fraction(5))  # columns of X = I
True
"""

from __future__ import annotations

import functools
import gc
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import compress
from operator import mul
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from verify.checker.arithmetic import format_rational, parse_rational, sqrt_bounds
from verify.checker.branch_and_bound import check_branch_and_bound, check_support
from verify.checker.counting import SignPack, gram_sign_rows, replay_count, spread_bits
from verify.checker.errors import InputError
from verify.checker.readers import (
    DEN_BITS,
    MAX_VALUES,
    VALUE_DIGITS,
    data_sha256,
    load_json,
    model_sha256,
    positive_label,
    read_data,
    read_file,
    read_model,
)
from verify.checker.readers import common_denominator as _common
from verify.checker.readers import parse_nd as _nd
from verify.checker.readers import witness_ints as _witness

_T = TypeVar("_T")

__all__ = [
    "FORMAT",
    "VERSION",
    "VERSIONS",
    "Failure",
    "CheckResult",
    "check_certificate",
    "check_file",
    "sq_norm_le",
]

FORMAT = "verify-certificate"
VERSION = 2  # the newest format version; VERSIONS are all those this checker reads
VERSIONS = (1, 2)  # 2 = 1 plus the "branch-and-bound" and "support-chambers" evidence methods
_V2_METHODS = ("branch-and-bound", "support-chambers")
_MAX_LISTED = 20  # failures listed per rule before summarising
#: Size rules (``docs/certificate.md``, "What the checker promises and what it refuses"):
#: decimal digits per integer of a bound, ``s``, a gap or the tolerance (rounded to 64
#: significant bits, at most ~1,600 digits even on the most extreme float data) ...
BOUND_DIGITS = 2000
#: (``VALUE_DIGITS`` and ``DEN_BITS`` of :mod:`verify.checker.readers` for the other numbers.)
#: Bytes of a certificate file.
MAX_CERT_BYTES = 1 << 33
_WORD = re.compile(r"[a-z][a-z-]{0,39}")  # solve.method, solve.status: provenance words


@dataclass(frozen=True)
class Failure:
    """One failed rule: ``rule`` (a short stable name) and ``detail`` (what, where)."""

    rule: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "detail": self.detail}


@dataclass(frozen=True)
class CheckResult:
    """Outcome of :func:`check_certificate`: ``valid`` iff no rule failed.

    ``lower_bound``/``upper_bound`` are the recomputed totals over the classes (``None`` when
    some class has no lower bound).
    """

    valid: bool
    lower_bound: Fraction | None
    upper_bound: Fraction | None
    failures: tuple[Failure, ...] = ()
    classes: tuple[dict[str, Any], ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "lower_bound": _exact_float(self.lower_bound),
            "upper_bound": _exact_float(self.upper_bound),
            "failures": [f.to_dict() for f in self.failures],
            "classes": list(self.classes),
        }


# ----------------------------------------------------------------------------- helpers


def _exact_float(v: Fraction | None) -> dict[str, Any] | None:
    """``{"exact": "p/q", "float": ...}`` (``None`` stays ``None``), as bounds are written."""
    return None if v is None else {"exact": format_rational(v), "float": _fl(v)}


def _fl(q: Fraction | int) -> float:
    """``float(q)`` for people, clamped to the largest finite float (never raises)."""
    try:
        return float(q)
    except OverflowError:
        return 1.7976931348623157e308 if q > 0 else -1.7976931348623157e308


def _get(obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise InputError(f"malformed certificate: {where} has no {key!r}")
    v = obj[key]
    if not isinstance(v, kind) or (isinstance(v, bool) and kind is int):
        raise InputError(f"malformed certificate: {where}.{key} has the wrong type")
    return v


def _q(text: Any, where: str, digits: int = BOUND_DIGITS) -> Fraction:
    if type(text) is str:
        num, _, den = text.partition("/")
        if len(num) > digits + 1 or len(den) > digits:
            raise InputError(f"malformed certificate: {where}: more than {digits} digits")
    try:
        return parse_rational(text)
    except ValueError as exc:
        raise InputError(f"malformed certificate: {where}: {exc}") from None


#: The keys each object of a certificate may hold: anything else would be a claim the checker
#: does not recompute (rule ``unchecked-claim``).
_KEYS = {
    "certificate": {"format", "version", "tool", "data", "model", "solver", "tolerance",
                    "classes", "total"},
    "tool": {"name", "version"},
    "data": {"path", "sha256", "n_samples", "n_features", "bias", "classes"},
    "model": {"path", "sha256", "shape_W1", "shape_w2"},
    "total": {"lower_bound", "upper_bound"},
    "class": {"index", "label", "method", "solve", "lambda", "s", "upper_bound", "lower_bound",
              "relative_gap", "verdict", "verdict_detail", "evidence", "optimal_network"},
    "optimal_network": {"W1", "w2", "upper_bound"},
    "bound": {"exact", "float"},
    "chambers": {"pattern_encoding", "patterns", "witnesses", "multipliers", "count_proof",
                 "enumeration_method"},
    "closed-form": {"orthogonal_separability"},
    "restricted": {"reason"},
    "branch-and-bound": {"support", "trees"},
    "support-chambers": {"support", "pattern_encoding", "patterns", "witnesses", "multipliers",
                         "count_proof", "enumeration_method"},
    "multiplier": {"chamber", "sign", "indices", "values"},
}
#: The closed form's evidence is the checker's own re-check; the builder's one sentence says so.
CLOSED_FORM_NOTE = "binary; re-checked exactly by the checker"


def _only_keys(obj: Any, kind: str, where: str, fail: Any) -> None:
    """Rule ``unchecked-claim``: ``obj`` holds no key outside ``_KEYS[kind]``."""
    if isinstance(obj, dict):
        extra = sorted(set(obj) - _KEYS[kind], key=str)
        if extra:
            shown = ", ".join(repr(str(k))[:40] for k in extra[:5])
            fail("unchecked-claim", f"{where}: key(s) {shown} are not part of the format (a "
                 "claim the checker does not recompute)")


def _bound(obj: Any, where: str, fail: Any = None) -> Fraction | None:
    """The exact value of a ``{"exact", "float"}`` bound; ``float`` must be the correctly
    rounded float64 of ``exact`` (rule ``float-twin``)."""
    if obj is None:
        return None
    if fail is not None:
        _only_keys(obj, "bound", where, fail)
    q = _q(_get(obj, "exact", str, where), where + ".exact")
    tw = obj.get("float")
    try:
        ok = type(tw) in (int, float) and tw == float(q)
    except OverflowError:
        ok = False
    if not ok and fail is not None:
        fail("float-twin", f"{where}: float {tw!r} is not the float64 nearest to the exact value")
    return q


def _ints(values: list[Fraction], where: str = "values") -> tuple[list[int], int]:
    """``values == ints / den`` with one common positive denominator (at most ``DEN_BITS``)."""
    den = 1
    for v in values:
        if v.denominator != 1:
            den = math.lcm(den, v.denominator)
            if den.bit_length() > DEN_BITS:
                raise InputError(f"malformed certificate: {where}: the common denominator has "
                                 f"more than {DEN_BITS} bits")
    return [v.numerator * (den // v.denominator) for v in values], den


def sq_norm_le(XT: list[list[int]], xe: int, a: list[int], aden: int, s: Fraction) -> bool:
    """Exact test ``||X^T a||^2 <= s^2`` with ``X = XI * 2**xe`` given by its columns ``XT``
    (integers) and ``a = a_int / aden``.

    Examples
    --------
    >>> sq_norm_le([[1, 0], [0, 1]], 0, [3, 4], 1, Fraction(49, 10))
    False
    """
    v = [sum(map(mul, a, col)) for col in XT]
    lhs = sum(t * t for t in v) * s.denominator**2
    rhs = s.numerator**2 * aden**2
    if xe >= 0:
        lhs <<= 2 * xe
    else:
        rhs <<= -2 * xe
    return lhs <= rhs


class _Quiet:
    """The default progress bar of the kernel: counts nothing, draws nothing."""

    def __init__(self, label: str, total: int | None = None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


_BATCH = 4096  # chambers per progress step


class _Fails:
    def __init__(self) -> None:
        self.items: list[Failure] = []
        self.counts: dict[str, int] = {}

    def __call__(self, rule: str, detail: str) -> None:
        c = self.counts.get(rule, 0)
        self.counts[rule] = c + 1
        if c < _MAX_LISTED:
            self.items.append(Failure(rule, detail))

    def result(self) -> tuple[Failure, ...]:
        extra = [
            Failure(r, f"... and {c - _MAX_LISTED} more failures of this rule")
            for r, c in self.counts.items()
            if c > _MAX_LISTED
        ]
        return tuple(self.items + extra)


# ----------------------------------------------------------------------------- network bounds


def _network_objective(
    XI: list[list[int]], xe: int, y: list[int], W1: list[list[Fraction]], w2: list[Fraction]
) -> tuple[Fraction, Fraction, int, Fraction]:
    """``(UB, LB_obj, argmin sample, min margin)`` of a network: the objective
    ``sum ||w1_i|| |w2_i| / min_n y_n f(x_n)`` bounded above/below with :func:`sqrt_bounds`."""
    d, m = len(W1), len(w2)
    cols, wden = _ints([W1[k][i] for i in range(m) for k in range(d)])
    v2, vden = _ints(w2)
    best: Fraction | None = None
    arg = -1
    for n, row in enumerate(XI):
        f = 0
        for i in range(m):
            if v2[i]:
                pre = sum(map(mul, row, cols[i * d : (i + 1) * d]))
                if pre > 0:
                    f += pre * v2[i]
        mg = Fraction(y[n] * f, wden * vden) * (Fraction(2) ** xe)
        if best is None or mg < best:
            best, arg = mg, n
    assert best is not None
    hi = lo = Fraction(0)
    for i in range(m):
        if w2[i]:
            sq = sum((W1[k][i] ** 2 for k in range(d)), Fraction(0))
            b = sqrt_bounds(sq)
            lo += b[0] * abs(w2[i])
            hi += b[1] * abs(w2[i])
    if best <= 0:
        return Fraction(-1), Fraction(-1), arg, best
    return hi / best, lo / best, arg, best


def verdict_detail(verdict: str, a: Fraction | None = None, b: Fraction | None = None,
                   s: Fraction | None = None) -> str:
    """The one sentence ``verdict_detail`` of a class: ``a`` is the relative gap
    (``globally-optimal-within``, ``proven-gap``, the legacy ``inconclusive``) or the model's
    objective bounded below (``suboptimal``); ``b`` is the optimal network's ``UB``
    (``suboptimal``), or the tolerance and ``s`` the evidence's bound on ``s(lambda)``
    (``proven-gap``: an ``s > 1``, an unfinished branch-and-bound tree, is named).  The builder
    writes it with this function and the checker compares it.

    Examples
    --------
    >>> verdict_detail("globally-optimal-within", Fraction(1, 10**9))
    'globally-optimal-within 1e-09 (relative gap)'
    >>> verdict_detail("proven-gap", Fraction(1, 20), Fraction(1, 10**6), Fraction(5, 4))
    'proven-gap 0.05 (relative gap, above the tolerance 1e-06; LB = y^T lambda / s, s = 1.25)'
    """
    if verdict == "globally-optimal-within":
        return f"globally-optimal-within {_fl(a or 0):.3g} (relative gap)"
    if verdict == "suboptimal":
        return (f"suboptimal: objective >= {_fl(a or 0):.9g} > {_fl(b or 0):.9g} >= P*"
                " (the convex optimum's network)")
    if verdict == "proven-gap":
        why = (f"; LB = y^T lambda / s, s = {_fl(s):.6g}"
               if s is not None and s > 1 else "")
        return (f"proven-gap {_fl(a or 0):.3g} (relative gap, above the tolerance "
                f"{_fl(b or 0):.3g}{why})")
    if verdict == "inconclusive":  # version-1 files; the builder writes proven-gap
        return f"inconclusive: relative gap {_fl(a or 0):.3g} above the tolerance"
    return "restricted: no complete evidence for a lower bound"


# ----------------------------------------------------------------------------- main check


def _witness_failure(XI: list[list[int]], u: list[int], bits: bytes, fail: Any, where: str,
                     j: int) -> None:
    """Name the first sample at which witness ``u`` contradicts the pattern (slow, exact)."""
    for n, row in enumerate(XI):
        dot = sum(map(mul, row, u))
        if dot == 0 and any(row):
            fail("witness-interior", f"{where}: chamber {j}: witness is on the hyperplane "
                 f"of sample {n}")
            return
        if (1 if dot >= 0 else 0) != bits[n]:
            fail("witness-pattern", f"{where}: chamber {j}: sample {n} has sign "
                 f"{'+' if dot > 0 else '-'} but the pattern bit is {bits[n]}")
            return


def _multipliers(mults: list[Any], n_ch: int, N: int, fail: Any,
                 where: str) -> dict[tuple[int, int], tuple[list[int], list[int], int]]:
    """Validated slack multipliers ``(j, sign) -> (indices, integer values, denominator)``."""
    zs: dict[tuple[int, int], tuple[list[int], list[int], int]] = {}
    for t, mu in enumerate(mults):
        at = f"{where}.multipliers[{t}]"
        try:
            j, sg, idx, vs = mu["chamber"], mu["sign"], mu["indices"], mu["values"]
        except (TypeError, KeyError, IndexError):
            j = sg = idx = vs = None
        if type(j) is not int or type(sg) is not int or type(idx) is not list \
                or type(vs) is not list:  # not the plain shape: _get names the problem
            j, sg = _get(mu, "chamber", int, at), _get(mu, "sign", int, at)
            idx, vs = _get(mu, "indices", list, at), _get(mu, "values", list, at)
        vals = [_nd(v, at) for v in vs]
        if len(mu) != 4:  # chamber, sign, indices, values: any other key is a claim
            _only_keys(mu, "multiplier", at, fail)
        if not (0 <= j < n_ch) or sg not in (1, -1) or (j, sg) in zs:
            fail("multiplier-index", f"{where}: multiplier {t}: chamber {j} sign {sg} is not a "
                 "listed chamber/sign or is repeated")
            continue
        if len(idx) != len(vals) or not all(type(i) is int and 0 <= i < N for i in idx) or (
                len(idx) > 1 and len(set(idx)) != len(idx)):
            fail("multiplier-index", f"{where}: multiplier {t} (chamber {j}): indices must be "
                 f"distinct samples 0..{N - 1}, one per value")
            continue
        if any(v < 0 for v, _ in vals):
            neg = next(i for i, (v, _) in zip(idx, vals) if v < 0)
            fail("multiplier-sign", f"{where}: chamber {j} sign {sg}: z is negative at sample "
                 f"{neg}")
            continue
        if len(vals) == 1:
            zs[(j, sg)] = (idx, [vals[0][0]], vals[0][1])
        else:
            zi, zden = _common(vals)
            zs[(j, sg)] = (idx, zi, zden)
    return zs


def _norm_le(v: list[int], den: int, xe: int, s: Fraction) -> bool:
    """``||v / den * 2**xe||^2 <= s^2`` exactly."""
    lhs = sum(map(mul, v, v)) * s.denominator**2
    rhs = s.numerator**2 * den**2
    if xe >= 0:
        lhs <<= 2 * xe
    else:
        rhs <<= -2 * xe
    return lhs <= rhs


def _check_chambers(ev: Any, XI: list[list[int]], xe: int, lam: list[Fraction], s: Fraction,
                    fail: Any, where: str, tick: Any = None) -> None:
    N, d = len(XI), len(XI[0])
    patterns = _get(ev, "patterns", list, where)
    witnesses = _get(ev, "witnesses", list, where)
    mults = _get(ev, "multipliers", list, where)
    proof = _get(ev, "count_proof", dict, where)
    if len(witnesses) != len(patterns):
        fail("witness-pattern", f"{where}: {len(patterns)} patterns but {len(witnesses)} witnesses")
    n_ch = min(len(patterns), len(witnesses))
    zs = _multipliers(mults, n_ch, N, fail, where)
    li, lden = _ints(lam, where + ".lambda")
    LX = [[li[n] * XI[n][k] for n in range(N)] for k in range(d)]  # columns of D-free X^T lam
    pack = SignPack(XI)
    nzrows = pack.rows
    allrows = len(nzrows) == N
    zrows = sorted(set(range(N)) - set(nzrows))
    nbytes = (N + 7) // 8
    seen: dict[bytes, int] = {}
    verified = 0
    for j, (hx, wit) in enumerate(zip(patterns, witnesses)):
        if tick is not None and j % _BATCH == _BATCH - 1:
            tick(_BATCH)
        if not isinstance(hx, str) or not isinstance(wit, list) or len(wit) != d:
            raise InputError(f"malformed certificate: {where} chamber {j}")
        try:
            raw = bytes.fromhex(hx)
        except ValueError:
            raise InputError(f"malformed certificate: {where} chamber {j} pattern is not "
                             "hex") from None
        bits = spread_bits(raw)
        if len(raw) != nbytes or bits.find(1, N) >= 0:
            fail("pattern-encoding", f"{where}: chamber {j}: pattern {hx!r} is not {N} bits")
            continue
        # the witness: x_n . u != 0 on nonzero rows and 1[x_n . u >= 0] = bit n
        u = _witness(wit, f"{where} chamber {j} witness")
        t0, t1 = pack.tops(u)
        want = bits[:N] if allrows else bytes(bits[n] for n in nzrows)
        ok = t0 == want and t1 == want and all(bits[n] for n in zrows)  # x_n . u = 0 >= 0
        if not ok:
            _witness_failure(XI, u, bits, fail, where, j)
        if raw in seen:
            fail("patterns-distinct", f"{where}: chamber {j} repeats chamber {seen[raw]}")
            ok = False
        else:
            seen[raw] = j
        verified += ok
        # dual norm: ||+-X^T D_j lambda + X^T (2 D_j - I) z|| <= s for both signs
        base = [sum(compress(col, bits)) for col in LX]  # lden * X^T D_j lambda (unscaled)
        plus, minus = zs.get((j, 1)), zs.get((j, -1))
        for sg, z in ((1, plus), (-1, minus)):
            if sg == -1 and plus is None and minus is None:
                continue  # ||-v|| = ||v||: already checked
            if z is None:
                v, den = (base if sg == 1 else [-b for b in base]), lden
            else:
                idx, zi, zden = z
                v = [sg * zden * b for b in base]
                for i, zv in zip(idx, zi):
                    w = zv * lden if bits[i] else -zv * lden
                    row = XI[i]
                    for k in range(d):
                        v[k] += w * row[k]
                den = lden * zden
            if not _norm_le(v, den, xe, s):
                fail("dual-norm", f"{where}: chamber {j} sign {'+' if sg > 0 else '-'}: "
                     f"||{'+' if sg > 0 else '-'}X^T D_j lambda + X^T (2D_j - I) z|| > s")
    if tick is not None:
        tick(n_ch % _BATCH)
    count = replay_count(XI, proof, fail, where, listed=verified)
    if count is not None and verified != count:
        fail("chamber-count", f"{where}: {verified} distinct verified chambers, the replayed "
             f"count is {count}")


def _check_support_chambers(ev: Any, XI: list[list[int]], xe: int, lam: list[Fraction],
                            s: Fraction, fail: Any, where: str, tick: Any = None) -> None:
    """Method ``support-chambers``: rule ``support`` (as ``bab-support``, and nonempty), then
    the chamber evidence replayed by :func:`_check_chambers` on the support rows ``X_S`` and
    ``lambda_S`` (bit ``k`` of a pattern, multiplier index ``k`` and "sample ``k``" in its
    failures mean row ``support[k]``).  Since ``lambda`` vanishes off ``S``,
    ``max_{||u||<=1} |lambda^T (Xu)_+|`` is the same maximum over the chambers of ``X_S``."""
    support = _get(ev, "support", list, where + ".evidence")
    if not check_support(support, len(XI), lam, fail, where, "support"):
        return
    if not support:
        fail("support", f"{where}: the support is empty (lambda = 0 proves nothing)")
        return
    _check_chambers(ev, [XI[n] for n in support], xe, [lam[n] for n in support], s, fail,
                    f"{where} (on X_S, rows numbered in the support)", tick)


def _check_closed_form(XI: list[list[int]], xe: int, y: list[int], lam: list[Fraction],
                       s: Fraction, fail: Any, where: str) -> None:
    N = len(XI)
    rows_ok = gram_sign_rows(XI, y)
    for n in range(N):
        if rows_ok[n]:
            continue
        for m in range(N):
            g = sum(map(mul, XI[n], XI[m]))
            if y[n] == y[m] and g <= 0 and m >= n:
                fail("orthogonal-separability", f"{where}: samples {n} and {m} have the "
                     "same label but x_n . x_m <= 0")
            elif y[n] != y[m] and g > 0 and (m > n or rows_ok[m]):
                fail("orthogonal-separability", f"{where}: samples {n} and {m} have "
                     "different labels but x_n . x_m > 0")
    li, lden = _ints(lam, where + ".lambda")
    XT = [list(c) for c in zip(*XI)]
    for sign in (1, -1):
        mu = [sign * li[n] if y[n] == sign else 0 for n in range(N)]
        if not sq_norm_le(XT, xe, mu, lden, s):
            fail("closed-form-norm", f"{where}: ||X_{'+' if sign > 0 else '-'}^T mu|| > s")


def _units(ent: Any) -> int:
    """Progress steps of one class entry: 1 plus its number of chambers."""
    ev = ent.get("evidence") if isinstance(ent, dict) else None
    pats = ev.get("patterns") if isinstance(ev, dict) else None
    return 1 + (len(pats) if isinstance(pats, list) else 0)


def _gc_paused(fn: Callable[..., _T]) -> Callable[..., _T]:
    """Run ``fn`` with the cyclic garbage collector paused: the replay creates no cycles,
    and with a parsed certificate of millions of objects its full passes would dominate."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> _T:
        was = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if was:
                gc.enable()

    return run


@_gc_paused
def check_certificate(
    cert: Any,
    X: list[list[float]],
    classes: list[Any],
    Y: list[list[int]],
    model: tuple[Any, tuple[int, ...], Any, tuple[int, ...], bool],
    *,
    progress: Callable[..., Any] | None = None,
) -> CheckResult:
    """Check a parsed certificate against the data ``(X, classes, Y)`` and the model
    (as returned by :func:`verify.checker.readers.read_data` /
    :func:`~verify.checker.readers.read_model`),
    with the garbage collector paused (:func:`_gc_paused`).

    ``progress(label, total=...)``, when given, makes a bar with ``advance()`` and ``close()``
    (e.g. :func:`verify.progress.progress`); the kernel itself draws nothing.
    """
    fail = _Fails()
    if _get(cert, "format", str, "certificate") != FORMAT:
        raise InputError(f"not a verify certificate (format {cert.get('format')!r})")
    if _get(cert, "version", int, "certificate") not in VERSIONS:
        raise InputError(f"unsupported certificate version {cert.get('version')!r}; "
                         f"this checker reads versions {', '.join(map(str, VERSIONS))}")
    data = _get(cert, "data", dict, "certificate")
    _only_keys(cert, "certificate", "certificate", fail)
    _only_keys(data, "data", "data", fail)
    _only_keys(cert.get("model"), "model", "model", fail)
    _only_keys(cert.get("tool"), "tool", "tool", fail)
    _only_keys(cert.get("total"), "total", "total", fail)
    mod = _get(cert, "model", dict, "certificate")
    W1, s1, w2, s2, mbias = model
    N, d, K = len(X), len(X[0]), len(Y[0])
    if data_sha256(X, Y) != _get(data, "sha256", str, "data"):
        fail("data-hash", "the SHA-256 of the data differs from the certificate's")
    if _get(data, "classes", list, "data") != classes:
        fail("data-classes", f"the data's classes {classes} differ from the certificate's")
    if model_sha256(W1, s1, w2, s2) != _get(mod, "sha256", str, "model"):
        fail("model-hash", "the SHA-256 of the model differs from the certificate's")
    if data.get("n_samples") != N or data.get("n_features") != d:
        fail("data-shape", f"the certificate states {data.get('n_samples')} x "
             f"{data.get('n_features')} data, the file has {N} x {d}")
    if mod.get("shape_W1") != list(s1) or mod.get("shape_w2") != list(s2):
        fail("model-shape", f"the certificate states shapes {mod.get('shape_W1')} and "
             f"{mod.get('shape_w2')}, the model has {list(s1)} and {list(s2)}")
    if s1[-2] != d or (len(s1) == 2 and K != 1) or (len(s1) == 3 and s1[0] != K):
        fail("model-shape", f"model W1 of shape {list(s1)} does not fit data with d = {d} and "
             f"{K} one-vs-all problems")
        return CheckResult(False, None, None, fail.result())
    if mbias and not _get(data, "bias", bool, "data"):
        fail("model-shape", "the model has a bias feature but the data were used without it")
    Xq = [Fraction(v) for row in X for v in row]
    flat, xden = _ints(Xq)
    if xden & (xden - 1):
        raise InputError("data values are not binary floating-point numbers")
    xe = -(xden.bit_length() - 1)
    XI = [flat[n * d : (n + 1) * d] for n in range(N)]
    tol = _q(_get(cert, "tolerance", str, "certificate"), "tolerance")
    if not 0 <= tol < 1:
        fail("tolerance", f"the tolerance {_fl(tol):.6g} is not in [0, 1)")
    entries = _get(cert, "classes", list, "certificate")
    if len(entries) != K:
        fail("classes", f"{len(entries)} class entries for {K} one-vs-all problems")
    total_lb: Fraction | None = Fraction(0)
    total_ub: Fraction | None = Fraction(0)
    summary = []
    bar = (progress or _Quiet)("checking", total=sum(_units(ent) for ent in entries))
    for c, ent in enumerate(entries):
        bar.advance()
        where = f"class {c}"
        k = _get(ent, "index", int, where)
        _only_keys(ent, "class", where, fail)
        _only_keys(ent.get("optimal_network"), "optimal_network", where + ".optimal_network",
                   fail)
        ev_ = ent.get("evidence")
        if ent.get("method") in _KEYS:
            _only_keys(ev_, ent["method"], where + ".evidence", fail)
        if ent.get("method") == "closed-form" and isinstance(ev_, dict) and ev_.get(
                "orthogonal_separability") != CLOSED_FORM_NOTE:
            fail("unchecked-claim", f"{where}.evidence: orthogonal_separability must read "
                 f"{CLOSED_FORM_NOTE!r} (the checker re-checks it; any other text is a claim)")
        if k != c:
            fail("classes", f"{where}: entry has index {k}")
            continue
        y = [Y[n][k] for n in range(N)]
        want = classes[k] if K > 1 else positive_label(classes)
        if ent.get("label") != want:
            fail("data-classes", f"{where}: label {ent.get('label')!r}, the data's is {want!r}")
        Wk = W1 if len(s1) == 2 else W1[k]
        w2k = w2 if len(s1) == 2 else w2[k]
        ub_c = _bound(ent.get("upper_bound"), where + ".upper_bound", fail)
        lb_c = _bound(ent.get("lower_bound"), where + ".lower_bound", fail)
        gap_c = _bound(ent.get("relative_gap"), where + ".relative_gap", fail)
        verdict = _get(ent, "verdict", str, where)
        solve = ent.get("solve", {})
        if not isinstance(solve, dict) or set(solve) - {"method", "status"} or not all(
                isinstance(v, str) and _WORD.fullmatch(v) for v in solve.values()):
            fail("unchecked-claim", f"{where}: solve may hold only 'method' and 'status', each "
                 "a lowercase word (solve.value is a number the checker cannot recompute)")
        # UB of the certified model
        Wq = [[Fraction(v) for v in row] for row in Wk]
        vq = [Fraction(v) for v in w2k]
        ub, obj_lo, arg, gam = _network_objective(XI, xe, y, Wq, vq)
        if gam <= 0:
            fail("model-margin", f"{where}: sample {arg} has y_n f(x_n) = {_fl(gam):.6g} <= 0")
            total_lb = total_ub = None
            continue
        if ub_c is None or ub_c < ub:
            fail("upper-bound", f"{where}: claimed UB {None if ub_c is None else _fl(ub_c)} is "
                 f"below the recomputed UB(theta) {_fl(ub):.17g}")
        if total_ub is not None:
            total_ub += ub
        # LB from lambda and the evidence for s
        lb: Fraction | None = None
        s_used: Fraction | None = None
        lam = [_q(t, f"{where}.lambda", VALUE_DIGITS) for t in _get(ent, "lambda", list, where)]
        method = _get(ent, "method", str, where)
        if len(lam) != N:
            fail("lambda-length", f"{where}: lambda has {len(lam)} entries for {N} samples")
        elif method in _V2_METHODS and cert["version"] < 2:
            fail("method", f"{where}: method {method!r} needs certificate version 2")
        elif method in ("chambers", "closed-form", *_V2_METHODS):
            for n in range(N):
                if y[n] * lam[n] < 0:
                    fail("lambda-sign", f"{where}: sample {n}: y_n lambda_n < 0")
            s = _q(_get(ent, "s", str, where), where + ".s")
            ev = _get(ent, "evidence", dict, where)
            if s < 0:  # s bounds a norm; a negative s would pass the squared tests
                fail("s-sign", f"{where}: s = {_fl(s):.6g} is negative")
                s = Fraction(0)
            if method == "chambers":
                _check_chambers(ev, XI, xe, lam, s, fail, where, bar.advance)
            elif method == "branch-and-bound":
                check_branch_and_bound(ev, XI, xe, lam, s, fail, where)
            elif method == "support-chambers":
                _check_support_chambers(ev, XI, xe, lam, s, fail, where, bar.advance)
            else:
                _check_closed_form(XI, xe, y, lam, s, fail, where)
            s_used = s
            li, lden = _ints(lam, where + ".lambda")  # DEN_BITS: never a Fraction sum
            lb = Fraction(sum(map(mul, y, li)), lden) / max(Fraction(1), s)
            if lb_c is None or lb_c > lb:
                fail("lower-bound", f"{where}: claimed LB {None if lb_c is None else _fl(lb_c)}"
                     f" exceeds the recomputed y^T lambda / max(1, s) = {_fl(lb):.17g}")
        elif method != "restricted":
            fail("method", f"{where}: unknown evidence method {method!r}")
        if method == "restricted" and lb_c is not None:
            fail("lower-bound", f"{where}: a restricted certificate claims a lower bound")
        if lb_c is not None and ub_c is not None and ub_c > 0:
            gap = (ub_c - lb_c) / ub_c
            if gap_c is None or gap_c < gap:
                fail("relative-gap",
                     f"{where}: claimed gap is below (UB - LB)/UB = {_fl(gap):.6g}")
        elif gap_c is not None:
            fail("relative-gap", f"{where}: a relative gap without a lower and an upper bound")
        detail: str | None = None
        if verdict == "globally-optimal-within":
            if lb is None or gap_c is None or gap_c > tol:
                fail("verdict", f"{where}: 'globally-optimal-within' needs a lower bound and a "
                     f"relative gap <= the tolerance {_fl(tol):.3g}")
            else:
                detail = verdict_detail(verdict, gap_c)
        elif verdict == "suboptimal" and gap_c is not None and gap_c <= tol:
            # the verdicts' order: a gap within the tolerance is globally-optimal-within first
            fail("verdict", f"{where}: 'suboptimal' with a relative gap {_fl(gap_c):.3g} <= the "
                 f"tolerance {_fl(tol):.3g}: the verdict is 'globally-optimal-within'")
        elif verdict == "suboptimal" and not isinstance(ent.get("optimal_network"), dict):
            fail("verdict", f"{where}: 'suboptimal' without an optimal_network as evidence")
        elif verdict == "suboptimal":
            opt = ent["optimal_network"]
            at = where + ".optimal_network"
            OW = [[_q(t, at, VALUE_DIGITS) for t in row] for row in _get(opt, "W1", list, at)]
            ow = [_q(t, at, VALUE_DIGITS) for t in _get(opt, "w2", list, at)]
            oub_c = _bound(opt.get("upper_bound"), at + ".upper_bound", fail)
            if len(OW) != d or any(len(r) != len(ow) for r in OW):
                fail("verdict", f"{where}: optimal_network has the wrong shape")
            else:
                oub, _, oarg, ogam = _network_objective(XI, xe, y, OW, ow)
                if ogam <= 0:
                    fail("verdict", f"{where}: optimal_network has margin <= 0 at sample {oarg}")
                elif not oub < obj_lo:
                    fail("verdict", f"{where}: 'suboptimal' needs UB(optimal_network) "
                         f"{_fl(oub):.17g} < the model's objective {_fl(obj_lo):.17g}")
                else:
                    detail = verdict_detail(verdict, obj_lo, oub)
                if ogam > 0 and (oub_c is None or oub_c < oub):
                    fail("upper-bound", f"{where}: optimal_network.upper_bound is below its "
                         f"recomputed UB {_fl(oub):.17g}")
        elif verdict == "restricted" and lb_c is None:
            detail = verdict_detail(verdict)
        elif verdict in ("proven-gap", "inconclusive") and gap_c is not None and gap_c <= tol:
            fail("verdict", f"{where}: {verdict!r} says the gap {_fl(gap_c):.3g} is above the "
                 f"tolerance {_fl(tol):.3g}; it is not")
        elif verdict == "proven-gap" and lb is not None and gap_c is not None:
            detail = verdict_detail(verdict, gap_c, tol, s_used)
        elif verdict == "inconclusive" and gap_c is not None:
            detail = verdict_detail(verdict, gap_c)
        elif verdict not in ("restricted", "proven-gap", "inconclusive"):
            fail("verdict", f"{where}: unknown verdict {verdict!r}")
        else:
            fail("verdict", f"{where}: {verdict!r} with the wrong bounds (a restricted class has "
                 "no lower bound, a proven-gap one a lower bound and a gap)")
        if "verdict_detail" in ent and ent["verdict_detail"] != detail:
            fail("verdict-detail", f"{where}: verdict_detail is not the checker's own sentence "
                 + (f"{detail!r}" if detail is not None else
                    "(the verdict failed its own rule, so there is none)"))
        if lb is None or total_lb is None:
            total_lb = None
        else:
            total_lb += lb
        summary.append({"index": k, "label": want, "lower_bound": _exact_float(lb),
                        "upper_bound": _exact_float(ub), "verdict": verdict,
                        "relative_gap": None if lb is None else _exact_float((ub - lb) / ub)})
    bar.close()
    tot = _get(cert, "total", dict, "certificate")
    tl = _bound(tot.get("lower_bound"), "total.lower_bound", fail)
    tu = _bound(tot.get("upper_bound"), "total.upper_bound", fail)
    if tl is not None and (total_lb is None or tl > total_lb):
        fail("total", "the claimed total lower bound is not implied")
    if tu is None or total_ub is None or tu < total_ub:
        fail("total", "the claimed total upper bound is not implied")
    failures = fail.result()
    return CheckResult(not failures, total_lb, total_ub, failures, tuple(summary))


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
    root = base.resolve()
    try:
        parts = PurePosixPath(rel).parts if type(rel) is str else ("..",)
        ok = bool(parts) and not any(c in rel for c in "\\:\x00") and not rel.startswith("/") \
            and ".." not in parts
        target = (root / rel).resolve() if ok else root
        ok = ok and root in target.parents
    except (OSError, RuntimeError, ValueError):
        ok = False
    if not ok:
        raise InputError(f"{what}.path {rel!r} is not a file inside the certificate's folder "
                         f"(give --{what} FILE to check against another file)")
    return target


def _budget(cert: dict[str, Any]) -> tuple[int, int]:
    """Values the data and the model files may hold: four times what the certificate states
    (``N`` at most the length of its ``lambda``), plus 4,096, at most ``MAX_VALUES``."""
    def num(v: Any) -> int:
        return v if type(v) is int and 0 <= v <= MAX_VALUES else MAX_VALUES

    data, mod = cert.get("data") or {}, cert.get("model") or {}
    lams = [len(c["lambda"]) for c in cert.get("classes") or []
            if isinstance(c, dict) and isinstance(c.get("lambda"), list)]
    n = min(num(data.get("n_samples")), max(lams, default=0))
    shapes = [mod.get("shape_W1"), mod.get("shape_w2")]
    m = sum(math.prod(num(v) for v in sh) if isinstance(sh, list) and len(sh) <= 3
            else MAX_VALUES for sh in shapes)
    return (min(MAX_VALUES, 4 * n * (num(data.get("n_features")) + 2) + 4096),
            min(MAX_VALUES, 4 * m + 4096))


def check_file(cert_path: str | Path, *, data: str | Path | None = None,
               model: str | Path | None = None,
               progress: Callable[..., Any] | None = None) -> CheckResult:
    """Read a certificate file and the files it names (or ``data``/``model``) and check it.

    The files a certificate names must lie inside its folder (:func:`inside_path`); each file
    is read at most once, with a size cap relative to what the certificate states.

    Raises
    ------
    InputError
        Missing or malformed files, a wrong format or version (exit code 2 of ``verify check``).
    """
    p = Path(cert_path)
    raw = read_file(p, MAX_CERT_BYTES, str(cert_path))
    was = gc.isenabled()
    gc.disable()  # json.loads of a large certificate: millions of objects, no cycles
    try:
        cert = load_json(raw, str(cert_path))
    finally:
        if was:
            gc.enable()
    del raw
    if not isinstance(cert, dict):
        raise InputError(f"{cert_path}: not a verify certificate (not a JSON object)")
    base = p.resolve().parent
    dinfo = _get(cert, "data", dict, "certificate")
    minfo = _get(cert, "model", dict, "certificate")
    dpath = Path(data) if data is not None else inside_path(base, dinfo.get("path"), "data")
    mpath = Path(model) if model is not None else inside_path(base, minfo.get("path"), "model")
    for q, what in ((dpath, "data"), (mpath, "model")):
        if q.resolve() == p.resolve():
            raise InputError(f"{cert_path}: names itself as its {what} file")
    dmax, mmax = _budget(cert)
    X, classes, Y = read_data(dpath, bias=_get(dinfo, "bias", bool, "data"), max_values=dmax)
    return check_certificate(cert, X, classes, Y, read_model(mpath, mmax), progress=progress)
