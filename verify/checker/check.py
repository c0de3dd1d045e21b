"""The top-level check of a certificate: :func:`check_certificate` and :func:`check_file`.

It never solves anything: it replays the evidence of a certificate in exact rational/integer
arithmetic and recomputes ``LB <= P* <= UB`` for every class.  This module holds the rules that
tie a certificate together (data and model hashes and shapes, the tolerance, ``lambda``, the
upper and lower bounds, the relative gap, the verdict and its sentence, the totals) and hands
each class's evidence to the module of its method (:mod:`verify.checker.chambers`,
:mod:`verify.checker.closed_form`, :mod:`verify.checker.branch_and_bound`).  Like the whole
kernel it imports only the standard library and :mod:`verify.checker` (no numpy, scipy, cvxpy
or networkx; a test runs it with those modules blocked).  One explicit
``if ...: fail(rule, detail)`` per rule; every failure names the offending class, chamber,
sample or neuron.  Unusable input (missing or malformed files, a wrong format or version)
raises :class:`verify.errors.InputError` instead.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from fractions import Fraction
from operator import mul
from pathlib import Path
from typing import Any, TypeVar

from verify.checker.branch_and_bound import check_branch_and_bound
from verify.checker.chambers import check_chambers, check_support_chambers
from verify.checker.closed_form import check_closed_form
from verify.checker.errors import InputError
from verify.checker.fields import (
    _KEYS,
    _V2_METHODS,
    _WORD,
    CLOSED_FORM_NOTE,
    FORMAT,
    VERSIONS,
    _bound,
    _get,
    _ints,
    _only_keys,
    _q,
)
from verify.checker.files import inside_path, load_json, read_file, shorten
from verify.checker.hashes import data_sha256, model_sha256
from verify.checker.limits import MAX_CERT_BYTES, VALUE_DIGITS, _budget
from verify.checker.network_objective import network_objective
from verify.checker.readers import positive_label, read_data, read_model
from verify.checker.result import CheckResult, _exact_float, _Fails, _fl
from verify.checker.semidefinite import WorkBudget

_T = TypeVar("_T")

__all__ = ["API_HINT", "CLI_HINT", "check_certificate", "check_file", "check_parsed",
           "verdict_detail"]

#: How a message says to give another data or model file, ``{what}`` standing for ``data`` or
#: ``model``: the options of ``verify check`` ...
CLI_HINT = "--{what} FILE"
#: ... and the keywords of :func:`verify.check` (a library caller has no command line).
API_HINT = "verify.check(..., {what}=FILE)"


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


class _Quiet:
    """The default progress bar of the kernel: counts nothing, draws nothing."""

    def __init__(self, label: str, total: int | None = None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


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
    data_name: str | None = None,
    model_name: str | None = None,
    hint: str = CLI_HINT,
) -> CheckResult:
    """Check a parsed certificate against the data ``(X, classes, Y)`` and the model
    (as returned by :func:`verify.checker.readers.read_data` /
    :func:`~verify.checker.readers.read_model`),
    with the garbage collector paused (:func:`_gc_paused`).

    ``progress(label, total=...)``, when given, makes a bar with ``advance()`` and ``close()``
    (e.g. :func:`verify.progress.progress`); the kernel itself draws nothing.
    ``data_name``/``model_name``, when given, are the files the data and the model were read
    from: the failures of the rules about them (``data-hash``, ``data-classes``,
    ``data-shape``, ``model-hash``, ``model-shape``) name them and say how to give another
    file: ``hint`` with ``{what}`` standing for ``data`` or ``model`` (by default
    :data:`CLI_HINT`, ``--data FILE``/``--model FILE``; :data:`API_HINT` for
    :func:`verify.check`).
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
    din = f" in {data_name}" if data_name is not None else ""
    min_ = f" in {model_name}" if model_name is not None else ""
    dfix = (f" (not the certified data; give the certified data file with "
            f"{hint.format(what='data')})" if data_name is not None else "")
    mfix = (f" (not the certified model; give the certified model file with "
            f"{hint.format(what='model')})" if model_name is not None else "")
    if data_sha256(X, Y) != _get(data, "sha256", str, "data"):
        fail("data-hash", f"the SHA-256 of the data{din} differs from the certificate's{dfix}")
    cclasses = _get(data, "classes", list, "data")
    if cclasses != classes:
        fail("data-classes", f"the data's classes {_stated(classes)}{din} differ from the "
             f"certificate's {_stated(cclasses)}{dfix}")
    if model_sha256(W1, s1, w2, s2) != _get(mod, "sha256", str, "model"):
        fail("model-hash", f"the SHA-256 of the model{min_} differs from the certificate's"
             f"{mfix}")
    if data.get("n_samples") != N or data.get("n_features") != d:
        with_bias = " (the bias column included)" if data.get("bias") is True else ""
        fail("data-shape", f"the certificate states {_stated(data.get('n_samples'))} x "
             f"{_stated(data.get('n_features'))} data, the data{din} are {N} x {d}{with_bias}")
    if mod.get("shape_W1") != list(s1) or mod.get("shape_w2") != list(s2):
        fail("model-shape", f"the certificate states shapes {_stated(mod.get('shape_W1'))} and "
             f"{_stated(mod.get('shape_w2'))}, the model{min_} has {list(s1)} and {list(s2)}")
    if s1[-2] != d or (len(s1) == 2 and K != 1) or (len(s1) == 3 and s1[0] != K):
        fail("model-shape", f"model W1 of shape {list(s1)}{min_} does not fit the data{din} "
             f"(d = {d}, {K} one-vs-all problems)")
        return CheckResult(False, None, None, fail.result())
    if mbias and not _get(data, "bias", bool, "data"):
        fail("model-shape", f"the model{min_} has a bias feature but the certificate's data "
             f"were used without it{mfix}")
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
    sdp_work = WorkBudget()  # the exact tests of all sdp leaves of the certificate (bab-size)
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
        ub, obj_lo, arg, gam = network_objective(XI, xe, y, Wq, vq)
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
                check_chambers(ev, XI, xe, lam, s, fail, where, bar.advance)
            elif method == "branch-and-bound":
                check_branch_and_bound(ev, XI, xe, lam, s, fail, where, sdp_work)
            elif method == "support-chambers":
                check_support_chambers(ev, XI, xe, lam, s, fail, where, bar.advance)
            else:
                check_closed_form(XI, xe, y, lam, s, fail, where)
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
                oub, _, oarg, ogam = network_objective(XI, xe, y, OW, ow)
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


def _stated(value: Any) -> str:
    """A value a file states, for a message: its text cut in the middle at 80 characters
    (a certificate's class list or shape can be as long as the file)."""
    return shorten(str(value), 80)


def _shown(cert_path: str | Path, rel: str, target: Path) -> str:
    """The file ``rel`` that a certificate names, as the user would type it: next to the
    certificate as they spelled it (``certs/data/f1.json``), or the file's full path when that
    spelling leads elsewhere (a certificate reached through a symlink)."""
    typed = Path(cert_path).parent / rel
    try:
        if typed.resolve() == target:
            return str(typed)
    except (OSError, RuntimeError, ValueError):
        pass
    return str(target)


def _same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` resolve to the same path; ``False`` when either cannot be
    resolved (a symlink loop: reading it then says why, in one line)."""
    try:
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError, ValueError):
        return False


def _named_by(origin: str | None, what: str, hint: str, read: Callable[[], _T]) -> _T:
    """``read()``; when the file is one the certificate names (``origin``, e.g. the certificate
    file, is who names it; ``None`` when the user gave the file), an error also says so and how
    to give another file (``hint``, as in :func:`check_certificate`)."""
    try:
        return read()
    except InputError as exc:
        if origin is None:
            raise
        raise type(exc)(f"{exc} (the {what} file {origin} names; give "
                        f"{hint.format(what=what)} to check against another file)"
                        ) from None  # a MissingFileError stays one


def check_parsed(cert: Any, data: str | Path, model: str | Path, *,
                 names: dict[str, str] | None = None,
                 named_by: dict[str, str] | None = None, hint: str = CLI_HINT,
                 progress: Callable[..., Any] | None = None) -> CheckResult:
    """Check the parsed certificate ``cert`` against the data file ``data`` and the model file
    ``model``, each read at most once with a size cap relative to what the certificate states.

    ``names`` (``"data"``/``"model"`` -> text) is how the messages name the files (default
    ``str(path)``; cut in the middle at 200 characters).  ``named_by`` holds, for a file the
    certificate itself names rather than the user, who names it (the certificate file as the
    user typed it, ``"the Certificate"``): an error reading it says so and how to give another
    file (``hint``, as in :func:`check_certificate`).

    Raises
    ------
    InputError
        A missing, unreadable or malformed file, a certificate without ``data``, ``model`` or
        ``data.bias``, a wrong format or version (exit code 2 of ``verify check``).
    """
    files = {"data": data, "model": model}
    shown = {what: shorten(str((names or {}).get(what, f))) for what, f in files.items()}
    origin = named_by or {}
    dinfo = _get(cert, "data", dict, "certificate")
    _get(cert, "model", dict, "certificate")
    dmax, mmax = _budget(cert)
    bias = _get(dinfo, "bias", bool, "data")
    X, classes, Y = _named_by(origin.get("data"), "data", hint, lambda: read_data(
        data, bias=bias, max_values=dmax, name=shown["data"]))
    M = _named_by(origin.get("model"), "model", hint,
                  lambda: read_model(model, mmax, name=shown["model"]))
    return check_certificate(cert, X, classes, Y, M, progress=progress,
                             data_name=shown["data"], model_name=shown["model"], hint=hint)


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
    paths: dict[str, Path] = {}
    names: dict[str, str] = {}
    for what, given, info in (("data", data, dinfo), ("model", model, minfo)):
        if given is not None:
            paths[what], names[what] = Path(given), shorten(str(given))
        else:
            paths[what] = inside_path(base, info.get("path"), what)
            names[what] = shorten(_shown(cert_path, info["path"], paths[what]))
        if _same_file(paths[what], p):
            raise InputError(f"{cert_path}: names itself as its {what} file")
    named_by = {what: str(cert_path) for what, given in (("data", data), ("model", model))
                if given is None}
    return check_parsed(cert, paths["data"], paths["model"], names=names, named_by=named_by,
                        progress=progress)
