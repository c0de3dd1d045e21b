"""JSON optimality certificates of trained networks (format in ``docs/certificate.md``).

The solves come from :mod:`verify.convex.routes`.  :func:`build_certificate` certifies a
trained network: ``UB(θ)`` from its exact margins, ``LB = y^T λ / max(1, s)`` from a
dual-feasible ``λ`` of the convex solve with the evidence for ``s`` (the complete chamber
list with witnesses, slack multipliers and count proof; the chamber list of ``X_S``,
``S = supp λ``, with the same evidence on the support rows; the branch-and-bound trees over the
support of ``λ``; or orthogonal separability and the closed-form identity), and a verdict.  The
trusted :mod:`verify.checker.check` replays it in exact arithmetic.

Examples
--------
>>> from verify.io.datasets import check_dataset
>>> ds = check_dataset(np.array([[1.65, 0.47], [-0.47, 1.35]]), np.array([1, -1]))
>>> [(c.method, c.solution.status.value) for c in solve_dataset(ds)]
[('closed-form', 'optimal')]
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from verify import __version__
from verify.certificate.messages import printable, with_labels
from verify.checker.arithmetic import format_rational, sqrt_bounds
from verify.checker.check import verdict_detail
from verify.convex.bounds import certified_dual_norm, project_lambda, upper_bound
from verify.convex.chamber_oracle import chamber_walls, oracle
from verify.convex.programs import _frac
from verify.convex.routes import DEFAULT_LIMIT, DEFAULT_TOLERANCE, ClassSolve, solve_dataset
from verify.convex.solvers import choose_solver
from verify.convex.support_chambers import SupportChamberEvidence
from verify.errors import CertificateError, EnumerationLimitError, InputError
from verify.geometry.proven_linalg import exact_signs
from verify.io.datasets import Dataset
from verify.network.model import Network, exact_margins, objective_upper_bound
from verify.progress import progress

__all__ = [
    "DEFAULT_TOLERANCE",
    "parse_tolerance",
    "certify_network",
    "data_digest",
    "model_digest",
    "build_certificate",
    "dumps_certificate",
    "short_witnesses",
]

_TOLERANCE = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE]([-+]?[0-9]+))?|[0-9]+/[0-9]+")


def parse_tolerance(value: Any, option: str = "--tolerance") -> Fraction:
    """A tolerance ``>= 0``, exactly: a :class:`~fractions.Fraction`, a finite number, or text
    as a decimal (``1e-6``, ``0.001``) or ``p/q`` of at most 40 characters and an exponent of
    at most 100 in size, so it never expands (``Fraction("1e-999999999")`` would not finish).

    Examples
    --------
    >>> parse_tolerance("1e-6"), parse_tolerance("1/8"), parse_tolerance(0.5)
    (Fraction(1, 1000000), Fraction(1, 8), Fraction(1, 2))
    >>> parse_tolerance("1e-999999999")
    Traceback (most recent call last):
    ...
    verify.errors.InputError: --tolerance: expected a number >= 0 such as 1e-6 (at most 40 ...
    """
    if isinstance(value, Fraction) or (isinstance(value, (int, float)) and
                                       not isinstance(value, bool)):
        if isinstance(value, float) and not math.isfinite(value):
            raise InputError(f"{option}: expected a finite number >= 0, got {value!r}")
        q = Fraction(value)
        if q < 0:
            raise InputError(f"{option}: expected a number >= 0, got {value!r}")
        return q
    text = value if isinstance(value, str) else ""
    m = _TOLERANCE.fullmatch(text.strip()) if len(text) <= 40 else None
    if m is None or (m[1] is not None and abs(int(m[1])) > 100):
        shown = printable(str(value)[:40])
        raise InputError(f"{option}: expected a number >= 0 such as 1e-6 (at most 40 characters, "
                         f"exponent at most 100), got {shown!r}")
    try:
        return Fraction(text.strip())
    except ZeroDivisionError:
        raise InputError(f"{option}: zero denominator in {printable(text)!r}") from None


def _json(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _round(q: Fraction, up: bool, bits: int = 64) -> Fraction:
    """``q`` rounded outward to ``bits`` significant bits (a shorter exact rational)."""
    if q == 0:
        return q
    e = math.floor(math.log2(abs(q))) - bits
    scale = Fraction(2) ** e
    t = q / scale
    n = math.ceil(t) if up else math.floor(t)
    return n * scale


# ----------------------------------------------------------------------------- hashes


def data_digest(X: np.ndarray, Y: np.ndarray) -> str:
    """Canonical SHA-256 of the data (``docs/certificate.md``; numpy route)."""
    h = hashlib.sha256(b"verify-data-v1\n")
    h.update(np.array([X.shape[0], X.shape[1], Y.shape[1]], dtype="<u8").tobytes())
    h.update(np.ascontiguousarray(X, dtype="<f8").tobytes())
    h.update(np.ascontiguousarray(Y, dtype="<i8").tobytes())
    return h.hexdigest()


def model_digest(W1: np.ndarray, w2: np.ndarray) -> str:
    """Canonical SHA-256 of the model weights (``docs/certificate.md``; numpy route)."""
    h = hashlib.sha256(b"verify-model-v1\n")
    for a in (W1, w2):
        h.update(np.array([a.ndim, *a.shape], dtype="<u8").tobytes())
        h.update(np.ascontiguousarray(a, dtype="<f8").tobytes())
    return h.hexdigest()


# ----------------------------------------------------------------------------- certificate


def _float_str(v: float) -> str:
    """``format_rational(Fraction(v))`` of a finite float, without the ``Fraction``."""
    n, d = float(v).as_integer_ratio()  # exact, lowest terms
    return str(n) if d == 1 else f"{n}/{d}"


def _strs(a: Any) -> list[Any]:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1:
        return [_float_str(v) for v in a.tolist()]
    return [_strs(r) for r in a]


#: Scales tried by :func:`short_witnesses`: integer points with coordinates up to ``2**k``.
_WITNESS_BITS = (3, 6, 10, 14, 20, 27, 35, 44, 52)
_WITNESS_CHUNK = 1 << 15


def short_witnesses(X: np.ndarray, patterns: np.ndarray, witnesses: np.ndarray, *,
                    bits: tuple[int, ...] = _WITNESS_BITS) -> np.ndarray:
    """Short exact points of the same open chambers: integer vectors where possible.

    For every chamber ``j`` (boolean pattern row ``patterns[j]``, float witness
    ``witnesses[j]``) the candidates ``round(u * 2**k / max|u|)`` (divided by the gcd of their
    entries) are tried for ``k`` in ``bits``; the first whose *exact* sign pattern
    (:func:`verify.geometry.proven_linalg.exact_signs`: a rigorous float filter, integers for the
    rest) equals
    the chamber's, with ``x_n . u != 0`` on every nonzero row, replaces the witness.  A chamber
    with no such candidate keeps its original witness.  Returns float64 ``(p, d)``.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [1.0, 1e-3]])
    >>> W = np.array([[0.3, -0.0001], [-0.7, -0.2], [1e-4, -1.0]])
    >>> P = exact_signs(X, W) >= 0
    >>> short_witnesses(X, P, W).tolist()   # the thin third chamber needs k = 14
    [[1.0, 0.0], [-4.0, -1.0], [1.0, -8192.0]]
    """
    X = np.asarray(X, dtype=np.float64)
    P = np.asarray(patterns, dtype=bool)
    W = np.asarray(witnesses, dtype=np.float64)
    if W.ndim != 2 or P.shape != (W.shape[0], X.shape[0]) or W.shape[1] != X.shape[1]:
        raise InputError(f"short_witnesses: patterns {P.shape} and witnesses {W.shape} do not "
                         f"fit X {X.shape}")
    out = W.copy()
    nz = np.any(X != 0, axis=1)
    if not nz.any():
        return out
    Xn = X[nz]
    for s in range(0, W.shape[0], _WITNESS_CHUNK):
        rows = np.arange(s, min(s + _WITNESS_CHUNK, W.shape[0]))
        top = np.max(np.abs(W[rows]), axis=1)
        rows = rows[(top > 0) & np.isfinite(top)]
        for k in bits:
            if not rows.size:
                break
            with np.errstate(over="ignore", invalid="ignore"):
                C = np.rint(W[rows] / np.max(np.abs(W[rows]), axis=1)[:, None] * 2.0**k)
            fin = np.all(np.isfinite(C), axis=1) & np.any(C != 0, axis=1)
            rows, C = rows[fin], C[fin]
            if not rows.size:
                break
            Ci = C.astype(np.int64)  # |C| <= 2**52: exact
            g = np.gcd.reduce(Ci, axis=1)
            C = (Ci // g[:, None]).astype(np.float64)
            S = exact_signs(Xn, C)
            ok = np.all((S != 0) & ((S > 0) == P[rows][:, nz]), axis=1)
            out[rows[ok]] = C[ok]
            rows = rows[~ok]
    return out


def _witness_strs(X: np.ndarray, P: np.ndarray, ch: Any) -> list[list[str]]:
    """Exact witness strings of every chamber: the short (or float) witness where its exact
    pattern is the chamber's, else the chamber's exact integer point (chambers thinner than
    any float witness found, ``ch.exact_witnesses``)."""
    W = short_witnesses(X, P, ch.witnesses)
    out = _strs(W)  # integers print as such
    rows = sorted(getattr(ch, "exact_witnesses", {}))
    if rows:
        nz = np.any(X != 0, axis=1)
        S = exact_signs(X[nz], W[rows])
        ok = np.all((S != 0) & ((S > 0) == P[rows][:, nz]), axis=1)
        for j, good in zip(rows, ok.tolist()):
            if not good:
                out[j] = [str(v) for v in ch.exact_witnesses[j]]
    return out


def _chamber_evidence(X: np.ndarray, lam: np.ndarray, ch: Any,
                      executor: Any = None) -> tuple[dict[str, Any], Fraction]:
    P = ch.pattern_matrix()
    # The list is complete here, so each cone is cut out by its walls alone: the slack
    # multipliers live on the wall rows (same minimum, far smaller NNLS problems).
    res = oracle(X, lam, P, keep_slack=True, executor=executor, walls=chamber_walls(X, P))
    zp: list[Any] = [None] * P.shape[0]
    zm: list[Any] = [None] * P.shape[0]
    mults = []
    for (j, sg), z in sorted(res.slack.items()):
        if not z.indices:
            continue
        (zp if sg > 0 else zm)[j] = z
        mults.append({"chamber": int(j), "sign": int(sg), "indices": [int(i) for i in z.indices],
                      "values": [_float_str(v) for v in z.values]})
    s, _ = certified_dual_norm(X, lam, P, zp, zm)
    ev = {
        "pattern_encoding": "hex of packbits(pattern, bitorder='little'); bit n = 1 iff x_n.u >= 0",
        "patterns": [bytes(row).hex() for row in ch.patterns],
        "witnesses": _witness_strs(X, P, ch),
        "multipliers": mults,
        # the listed flats (rank >= 4) name the tool's own hyperplane numbering: the checker
        # recomputes the lattice and cannot compare them, so they are no part of a certificate
        "count_proof": {k: v for k, v in ch.count_proof.items() if k != "flats"},
        "enumeration_method": ch.method,
    }
    return ev, s


def _closed_form_s(X: np.ndarray, y: np.ndarray, lam: np.ndarray) -> Fraction:
    from verify.convex.bounds import exact_norm_sq

    sq = max(exact_norm_sq(X, np.where(y == sg, sg * lam, 0.0)) for sg in (1, -1))
    return sqrt_bounds(sq)[1]


def _objective_lower(X: np.ndarray, y: np.ndarray, W1: np.ndarray, w2: np.ndarray) -> Fraction:
    F = exact_margins(X, y.astype(np.int64), W1, w2)
    gamma = min(F)
    num = Fraction(0)
    for i in range(W1.shape[1]):
        if w2[i] != 0:
            sq = sum((Fraction(float(v)) ** 2 for v in W1[:, i]), Fraction(0))
            num += sqrt_bounds(sq)[0] * abs(Fraction(float(w2[i])))
    return num / gamma


def _class_entry(
    X: np.ndarray, cs: ClassSolve, sub: Network, *, limit: int, tol: Fraction,
    executor: Any = None,
) -> dict[str, Any]:
    from verify.geometry.chambers import enumerate_chambers

    y = cs.y
    sol = cs.solution
    ub, _ = objective_upper_bound(sub, X, y.astype(np.int64))
    obj_lo = _objective_lower(X, y, sub.W1, sub.w2)
    lam = project_lambda(y, sol.lam)
    entry: dict[str, Any] = {
        "index": cs.index,
        "label": cs.label,
        "solve": {"method": cs.method, "status": sol.status.value},
        "lambda": _strs(lam),
    }
    lb: Fraction | None = None
    if cs.orthogonal:
        s = _closed_form_s(X, y, lam)
        entry["method"] = "closed-form"
        entry["evidence"] = {"orthogonal_separability": "binary; re-checked exactly by the checker"}
    elif isinstance(sol.evidence, SupportChamberEvidence):
        # the chambers of X_S, S = supp lam (lam vanishes off S): the chamber evidence on the
        # support rows, with bit k of a pattern and multiplier index k meaning row S[k]
        S = list(sol.evidence.support)
        ev, s = _chamber_evidence(X[S], lam[S], sol.evidence.chambers, executor)
        entry["method"] = "support-chambers"
        entry["evidence"] = {"support": S, **ev}
    elif cs.method == "branch-and-bound" and sol.evidence is not None:
        # lam is support-exact and sign-projected by the route; the trees are its evidence
        ev_b = sol.evidence
        entry["method"] = "branch-and-bound"
        entry["evidence"] = ev_b.evidence
        s = ev_b.s
    else:
        ch = cs.chambers
        if ch is None and cs.method not in ("restricted", "branch-and-bound"):
            try:
                ch = enumerate_chambers(X, limit=limit)
            except EnumerationLimitError:
                ch = None
        if ch is not None and ch.complete:
            ev, s = _chamber_evidence(X, lam, ch, executor)
            entry["method"] = "chambers"
            entry["evidence"] = ev
        else:
            s = None
            entry["method"] = "restricted"
            why = re.search(r"chamber list not proven complete \(.*\)(?=: no lower bound)",
                            sol.message or "")
            reason = why[0] if why else "the chamber list could not be enumerated completely"
            entry["evidence"] = {"reason": reason}
    if s is not None:
        s = _round(s, up=True)
        entry["s"] = format_rational(s)
        yl = sum((Fraction(float(a)) * Fraction(float(b)) for a, b in zip(y, lam)), Fraction(0))
        lb = _round(yl / max(Fraction(1), s), up=False)
    ub_c = _round(ub, up=True)
    entry["upper_bound"] = _frac(ub_c)
    entry["lower_bound"] = _frac(lb)
    gap = None if lb is None else _round((ub_c - lb) / ub_c, up=True)
    entry["relative_gap"] = _frac(gap)
    ub_opt = None
    if sol.neurons:
        W1o = np.column_stack([n.w1 for n in sol.neurons])
        w2o = np.array([n.w2 for n in sol.neurons])
        try:
            ub_opt = upper_bound(X, y, W1o, w2o)
        except InputError:
            ub_opt = None
    if gap is not None and gap <= tol:
        verdict = "globally-optimal-within"
        detail = verdict_detail(verdict, gap)
    elif ub_opt is not None and ub_opt < obj_lo:
        verdict = "suboptimal"
        detail = verdict_detail(verdict, obj_lo, ub_opt)
        entry["optimal_network"] = {"W1": _strs(W1o), "w2": _strs(w2o),
                                    "upper_bound": _frac(_round(ub_opt, up=True))}
    elif lb is None:
        verdict = "restricted"
        detail = verdict_detail(verdict)
    else:
        verdict = "proven-gap"
        detail = verdict_detail(verdict, gap, tol, s)
    entry["verdict"] = verdict
    entry["verdict_detail"] = detail
    return entry


def relative_path(path: str | os.PathLike[str], cert_path: str | os.PathLike[str]) -> str:
    """``path`` relative to the folder of ``cert_path`` (POSIX separators): how a certificate
    names the files it certifies."""
    base = Path(cert_path).resolve().parent
    return Path(os.path.relpath(Path(path).resolve(), base)).as_posix()


def require_checkable_model(model_path: str | os.PathLike[str]) -> None:
    """Refuse a model file the trusted checker cannot read (it reads ``.npz`` and
    ``.safetensors`` and never unpickles): a certificate must name a file it can check.

    Examples
    --------
    >>> require_checkable_model("net.pt")
    Traceback (most recent call last):
    ...
    verify.errors.InputError: net.pt: the checker reads .npz and .safetensors models, not ...
    """
    suffix = Path(model_path).suffix.lower()
    if suffix in (".pt", ".pth"):
        raise InputError(
            f"{model_path}: the checker reads .npz and .safetensors models, not {suffix!r}, and "
            "the certificate must name a file it can read; convert it first: verify convert "
            f"{model_path} -o MODEL.npz, then certify MODEL.npz"
        )


def build_certificate(
    ds: Dataset,
    net: Network,
    *,
    data_path: str | os.PathLike[str],
    model_path: str | os.PathLike[str],
    cert_path: str | os.PathLike[str],
    solver: str | None = None,
    limit: int = DEFAULT_LIMIT,
    tolerance: Fraction = DEFAULT_TOLERANCE,
    solves: list[ClassSolve] | None = None,
    executor: Any = None,
    budget: float | None = None,
    sampled: bool = False,
    full_chambers: bool = False,
    sdp_depth: int | None = None,
) -> dict[str, Any]:
    """The certificate (a JSON-ready dict) of the trained network ``net`` on ``ds``.

    Beyond the chamber ``limit`` the solve runs column generation with the branch-and-bound
    oracle from the network's own patterns (``budget`` seconds per problem) and the class
    carries its trees (``"method": "branch-and-bound"``, certificate version 2), or, when the
    chambers of ``X_S`` (``S = supp λ``) fit ``limit``, their chamber evidence
    (``"method": "support-chambers"``, version 2); ``sampled``
    keeps the old sampled chambers (no lower bound).  Below the limit the chambers of ``X_S``
    are the evidence too when they are clearly fewer than those of ``X``
    (:func:`verify.convex.support_samples.with_support_evidence`); ``full_chambers`` keeps
    the whole list (``"method": "chambers"``); ``sdp_depth`` as in
    :func:`verify.convex.routes.solve_binary`.

    ``executor`` (a dask ``Client``, :func:`verify.distributed.executor_from_options`) runs the
    per-chamber oracle and slack multipliers there; the certificate is identical.

    Raises
    ------
    InputError
        Infeasible data, a model that does not fit the data, or a model whose margin is not
        positive on some class.
    """
    from verify.network.model import iter_classes, require_positive_margins

    require_checkable_model(model_path)
    ds.require_feasible()
    K = ds.Y.shape[1]
    if net.n_classes != K or (K == 1 and not net.is_binary):
        raise InputError(f"the model has {net.n_classes} output(s), the data need {K}")
    if net.n_features != ds.n_features:
        raise InputError(f"the model expects {net.n_features} features, the data have "
                         f"{ds.n_features}")
    # cheap before any solve: a model that misclassifies a sample gets no certificate
    require_positive_margins(net, ds.X, ds.Y if K > 1 else ds.Y[:, 0],
                             labels=[_json(c) for c in ds.classes])
    if solves is None:
        solves = solve_dataset(ds, solver=solver, limit=limit, executor=executor, budget=budget,
                               sampled=sampled, network=net, full_chambers=full_chambers,
                               tolerance=tolerance, sdp_depth=sdp_depth)
    subs = {k: sub for k, sub, _ in iter_classes(net, ds.Y if K > 1 else ds.Y[:, 0])}
    entries = []
    steps = [1 + (len(cs.chambers) if cs.chambers is not None else 0) for cs in solves]
    with progress("certifying", total=sum(steps)) as bar:  # in chambers: the work per class
        for cs, n in zip(solves, steps):
            entries.append(_class_entry(ds.X, cs, subs[cs.index], limit=limit, tol=tolerance,
                                        executor=executor))
            bar.advance(n)
    lbs = [e["lower_bound"] for e in entries]
    total_lb = None if any(v is None for v in lbs) else sum(
        (Fraction(v["exact"]) for v in lbs), Fraction(0))
    total_ub = sum((Fraction(e["upper_bound"]["exact"]) for e in entries), Fraction(0))
    return {
        "format": "verify-certificate",
        "version": 2 if any(e["method"] in _V2_METHODS for e in entries) else 1,
        "tool": {"name": "verify", "version": __version__},
        "data": {
            "path": relative_path(data_path, cert_path),
            "sha256": data_digest(ds.X, ds.Y),
            "n_samples": ds.n_samples,
            "n_features": ds.n_features,
            "bias": bool(ds.bias),
            "classes": [_json(c) for c in ds.classes],
        },
        "model": {
            "path": relative_path(model_path, cert_path),
            "sha256": model_digest(net.W1, net.w2),
            "shape_W1": list(net.W1.shape),
            "shape_w2": list(net.w2.shape),
        },
        "solver": choose_solver(solver).to_dict(),
        "tolerance": format_rational(tolerance),
        "classes": entries,
        "total": {"lower_bound": _frac(total_lb), "upper_bound": _frac(total_ub)},
    }


def certify_network(
    ds: Dataset,
    net: Network,
    *,
    data_path: str | os.PathLike[str],
    model_path: str | os.PathLike[str],
    cert_path: str | os.PathLike[str],
    self_check: bool = True,
    **options: Any,
) -> dict[str, Any]:
    """The certificate of ``net`` on ``ds`` (:func:`build_certificate` with ``options``),
    re-checked by the trusted checker from the files before it is returned: the one certify
    job of ``verify certify`` and :func:`verify.certify`.

    Raises
    ------
    CertificateError
        The trusted checker rejects the certificate (a bug: please report it); the message
        names every failed rule, with the class labels.
    """
    cert = build_certificate(ds, net, data_path=data_path, model_path=model_path,
                             cert_path=cert_path, **options)
    if self_check:
        from verify.checker.check import check_certificate
        from verify.checker.readers import read_data, read_model

        X, classes, Y = read_data(data_path, bias=ds.bias)
        res = check_certificate(json.loads(dumps_certificate(cert)), X, classes, Y,
                                read_model(model_path), progress=progress)
        if not res.valid:
            labels = [c["label"] for c in cert["classes"]]
            raise CertificateError(
                "the trusted checker rejects the certificate (not written): "
                + "; ".join(f"{f.rule}: {with_labels(f.detail, labels)}" for f in res.failures))
    return cert


_V2_METHODS = ("branch-and-bound", "support-chambers")  # evidence methods of version 2
_ONE_LINE = ("multipliers", "patterns", "witnesses")  # chamber evidence: one entry a line


def dumps_certificate(cert: dict[str, Any]) -> str:
    """Deterministic text: sorted keys, two-space indent, ``\\n`` line ends, final newline;
    the per-chamber evidence lists (``patterns``, ``witnesses``, ``multipliers``) and the
    branch-and-bound trees hold one compact entry per line (same JSON value, a third of the
    bytes; the tree nodes without JSON's optional spaces).

    Examples
    --------
    >>> c = {"classes": [{"evidence": {"patterns": ["01", "02"], "witnesses": [["1", "-2"]],
    ...                                "multipliers": []}}]}
    >>> print(dumps_certificate(c), end="")
    {
      "classes": [
        {
          "evidence": {
            "multipliers": [],
            "patterns": [
              "01",
              "02"
            ],
            "witnesses": [
              ["1", "-2"]
            ]
          }
        }
      ]
    }
    >>> json.loads(dumps_certificate(c)) == c
    True
    """
    lists: dict[str, list[Any]] = {}
    tree_keys: set[str] = set()  # tree nodes are written without the optional spaces
    shallow = dict(cert)
    classes = cert.get("classes")
    if isinstance(classes, list):
        shallow["classes"] = []
        for k, ent in enumerate(classes):
            ev = ent.get("evidence") if isinstance(ent, dict) else None
            if isinstance(ev, dict):
                ev = dict(ev)
                for name in _ONE_LINE:
                    if isinstance(ev.get(name), list) and ev[name]:
                        key = f"@verify-one-line-list-{k}-{name}@"
                        lists[key] = ev[name]
                        ev[name] = key
                trees = ev.get("trees")  # branch-and-bound: one node a line
                if isinstance(trees, dict) and "witnesses" not in ev:
                    trees = dict(trees)
                    for sg in sorted(trees):
                        if isinstance(trees[sg], list) and trees[sg]:
                            key = f"@verify-one-line-list-{k}-tree{sg}@"
                            tree_keys.add(key)
                            lists[key] = trees[sg]
                            trees[sg] = key
                    ev["trees"] = trees
                ent = {**ent, "evidence": ev}
            shallow["classes"].append(ent)
    text = json.dumps(shallow, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    if not lists:
        return text
    if text.count('"@verify-one-line-list-') != len(lists):  # a label that looks like a key
        return json.dumps(cert, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    encode = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode
    compact = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode
    parts = []
    pos = 0
    for key, items in lists.items():
        at = text.index(f'"{key}"', pos)
        line = text.rfind("\n", 0, at) + 1
        indent = " " * (len(text[line:at]) - len(text[line:at].lstrip(" ")))
        body = f",\n{indent}  ".join(map(compact if key in tree_keys else encode, items))
        parts.append(text[pos:at])
        parts.append(f"[\n{indent}  {body}\n{indent}]")
        pos = at + len(key) + 2
    parts.append(text[pos:])
    return "".join(parts)
