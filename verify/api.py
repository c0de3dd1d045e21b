"""The public Python API: the command line's jobs as functions (``verify.load_dataset`` ...).

Each function takes a file path or an object already loaded, and returns a dataclass; the
names are re-exported lazily by :mod:`verify` (importing :mod:`verify.checker` never loads
numpy).  The functions are thin: they call the layers below (``io``, ``geometry``,
``convex``, ``network``, ``certificate``, ``checker``) exactly as the CLI does, so the
Python and command-line answers are the same.

Examples
--------
>>> import os, tempfile, verify
>>> d = tempfile.mkdtemp()
>>> data = os.path.join(d, "data.json")
>>> _ = open(data, "w").write('{"X": [[2, 0], [1, 1], [-2, 0], [-1, -1]], "y": [1, 1, -1, -1]}')
>>> verify.audit(data).separability.separable
True
>>> sol = verify.solve(data)
>>> sol.save_network(os.path.join(d, "opt.npz"))
>>> cert = verify.certify(data, os.path.join(d, "opt.npz"))
>>> cert.save(os.path.join(d, "opt.cert.json"))
>>> [v.verdict for v in cert.verdicts.values()]
['globally-optimal-within']
>>> verify.check(os.path.join(d, "opt.cert.json")).valid
True
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verify.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from verify.checker.result import CheckResult
    from verify.convex.routes import ClassSolve
    from verify.geometry.audit import AuditReport
    from verify.geometry.chambers import Chambers
    from verify.io.datasets import Dataset
    from verify.network.model import Network
    from verify.network.training import TrainResult

__all__ = [
    "load_dataset",
    "load_network",
    "audit",
    "enumerate_chambers",
    "solve",
    "Solution",
    "certify",
    "Certificate",
    "ClassVerdict",
    "check",
    "train",
]

PathLike = str | os.PathLike[str]


def load_dataset(path: PathLike, *, bias: bool = False) -> Dataset:
    """Read a data set (``.json``, ``.csv`` or ``.npz``; see :mod:`verify.io.datasets`).

    ``bias=True`` appends a column of ones (a first-layer bias, as ``--bias``).

    Examples
    --------
    >>> import os, tempfile, verify
    >>> p = os.path.join(tempfile.mkdtemp(), "d.csv")
    >>> _ = open(p, "w").write("x1,x2,y\\n1,0,a\\n0,1,b\\n")
    >>> ds = verify.load_dataset(p, bias=True)
    >>> ds.X.shape, ds.classes
    ((2, 3), ('a', 'b'))
    """
    from verify.io.datasets import load_dataset as _load

    return _load(path, bias=bias)


def _dataset(data: Any, bias: bool = False) -> Dataset:
    """A path, a :class:`~verify.io.datasets.Dataset` or a pair ``(X, y)``, as a Dataset."""
    from verify.io.datasets import Dataset, check_dataset

    if isinstance(data, Dataset):
        if bias and not data.bias:
            raise InputError("bias=True with a Dataset loaded without it: load it with bias=True")
        return data
    if isinstance(data, (str, os.PathLike)):
        return load_dataset(data, bias=bias)
    if isinstance(data, tuple) and len(data) == 2:
        return check_dataset(data[0], data[1], bias=bias)
    raise InputError(f"expected a data file path, a Dataset or a pair (X, y), got "
                     f"{type(data).__name__}")


def _limit(limit: Any) -> int:
    from verify.convex.routes import DEFAULT_LIMIT

    if limit is None:
        return DEFAULT_LIMIT
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InputError(f"limit: expected a positive integer (chambers), got {limit!r}")
    return limit


def load_network(path: PathLike, *, data: Any = None) -> Network:
    """Read a trained network (``.npz``, ``.safetensors`` or a PyTorch ``state_dict``);
    with ``data`` (a path or :class:`~verify.io.datasets.Dataset`) its width is checked.

    Examples
    --------
    >>> import numpy as np, os, tempfile, verify
    >>> from verify.io.models import save_model
    >>> p = os.path.join(tempfile.mkdtemp(), "m.npz")
    >>> save_model(p, np.ones((2, 3)), np.ones(3))
    >>> verify.load_network(p).W1.shape
    (2, 3)
    """
    from verify.network.model import load_network as _load

    if data is None:
        return _load(path)
    ds = _dataset(data)
    return _load(path, n_features=ds.n_features, data_bias=ds.bias)


def audit(data: Any, *, bias: bool = False, limit: int | None = None, spike: bool = True,
          executor: Any = None) -> AuditReport:
    """Audit a data set (as ``verify audit``): exact rank, orthogonal separability, the
    spike-free property, the chambers with their proven count.

    Returns :class:`verify.geometry.audit.AuditReport` (``.to_dict()`` is the ``--json``).

    Examples
    --------
    >>> import numpy as np, verify
    >>> from verify.io.datasets import check_dataset
    >>> ds = check_dataset(np.array([[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]]), [1, 1, -1])
    >>> verify.audit(ds).separability.separable
    True
    """
    from verify.geometry.audit import audit as _audit

    return _audit(_dataset(data, bias), limit=_limit(limit), spike=spike, executor=executor)


def enumerate_chambers(data: Any, *, bias: bool = False, limit: int | None = None) -> Chambers:
    """The exact chambers (activation patterns ``D_j`` with interior witnesses) of the rows
    of the data (a path, a :class:`~verify.io.datasets.Dataset` or an array ``X``).

    Examples
    --------
    >>> import numpy as np, verify
    >>> verify.enumerate_chambers(np.array([[1.0, 0.0], [0.0, 1.0]])).count
    4
    """
    from verify.geometry.chambers import enumerate_chambers as _enum
    from verify.io.datasets import Dataset, check_dataset

    if isinstance(data, (str, os.PathLike, Dataset, tuple)):
        X = _dataset(data, bias).X
    else:  # rows only: any labels do (the chambers depend on X alone)
        X = check_dataset(data, [1] * len(data), bias=bias).X
    return _enum(X, limit=_limit(limit))


@dataclass(frozen=True)
class Solution:
    """The convex program (14) solved for every one-vs-all problem (:func:`solve`).

    Attributes
    ----------
    classes : tuple of ClassSolve
        One per problem: the method, the exact bounds ``LB <= P* <= UB``, the neurons.
    network : Network
        The optimal network recovered from the convex solution (:meth:`save_network`).
    data_sha256 : str
        The digest of the data solved (:func:`certify` refuses a solution of other data).

    Examples
    --------
    >>> import numpy as np, verify
    >>> sol = verify.solve((np.array([[1.0, 0.0], [-1.0, 0.0]]), [1, -1]))
    >>> [cs.method for cs in sol.classes], sol.network.W1.shape[0]
    (['closed-form'], 2)
    """

    classes: tuple[ClassSolve, ...]
    network: Network
    data_sha256: str = ""

    def save_network(self, path: PathLike) -> None:
        """Write the optimal network (``.npz``, ``.safetensors`` or, binary, ``.pt``)."""
        from verify.io.models import save_model

        save_model(path, self.network.W1, self.network.w2,
                   bias_feature=self.network.has_bias_feature)

    @property
    def lower_bound(self) -> Fraction | None:
        """Sum of the classes' exact lower bounds (``None`` if one has none)."""
        lbs = [cs.solution.lower_bound for cs in self.classes]
        return None if any(v is None for v in lbs) else sum(lbs, Fraction(0))

    @property
    def upper_bound(self) -> Fraction | None:
        """Sum of the classes' exact upper bounds (``None`` if one has none)."""
        ubs = [cs.solution.upper_bound for cs in self.classes]
        return None if any(v is None for v in ubs) else sum(ubs, Fraction(0))


def solve(data: Any, *, bias: bool = False, solver: str | None = None, limit: int | None = None,
          budget: float | None = None, sampled: bool = False, executor: Any = None,
          full_chambers: bool = False, sdp_depth: int | None = None) -> Solution:
    """Solve the convex max-margin program by the fastest proven route (as ``verify solve``).

    Parameters
    ----------
    data : path, Dataset or (X, y)
    bias : bool
        Append a column of ones (with a path or ``(X, y)``).
    solver : str, optional
        ``"MOSEK"``, ``"CLARABEL"``, ...; default: MOSEK when licensed, else Clarabel.
    limit : int, optional
        Largest chamber list enumerated (default 200,000); beyond it, branch and bound.
    budget : float, optional
        Seconds per one-vs-all problem for the branch-and-bound route (default: none).
    sampled : bool
        Beyond ``limit``, sampled chambers instead (no lower bound).
    executor : dask Client, optional
    full_chambers : bool
        Below ``limit``, keep the whole chamber list as the evidence of the lower bound (by
        default the chambers of ``X_S``, ``S = supp lambda``, replace it when they are at most
        half as many: a certificate built from this solution carries them).
    sdp_depth : int, optional
        Beyond ``limit``, the depth from which the proofs try the semidefinite node bound;
        the final proof then ends on a partition with semidefinite leaves (default ``0``:
        neither; docs/branch_and_bound.md).

    Examples
    --------
    >>> import numpy as np, verify
    >>> from verify.io.datasets import check_dataset
    >>> sol = verify.solve(check_dataset(np.array([[1.0, 0.0], [-1.0, 0.0]]), [1, -1]))
    >>> float(sol.lower_bound) == float(sol.upper_bound) == 2.0
    True
    """
    from verify.certificate.build import data_digest
    from verify.convex.routes import optimal_weights, solve_dataset
    from verify.network.model import Network
    from verify.network.training import warm_start

    ds = _dataset(data, bias)
    solves = solve_dataset(ds, solver=solver, limit=_limit(limit), executor=executor,
                           budget=budget, sampled=sampled, warm_start=warm_start,
                           full_chambers=full_chambers, sdp_depth=sdp_depth)
    W1, w2 = optimal_weights(solves, ds.n_features)
    net = Network(W1, w2, source="<solve>", has_bias_feature=bool(ds.bias))
    return Solution(tuple(solves), net, data_digest(ds.X, ds.Y))


@dataclass(frozen=True)
class ClassVerdict:
    """One class's verdict in a certificate: the claim and its exact bounds."""

    label: Any
    verdict: str
    text: str
    lower_bound: Fraction | None
    upper_bound: Fraction
    relative_gap: Fraction | None

    def __str__(self) -> str:
        return self.text


def _exact(v: dict[str, Any] | None) -> Fraction | None:
    return None if v is None else Fraction(v["exact"])


@dataclass(frozen=True)
class Certificate:
    """A certificate built by :func:`certify`: ``.save(path)``, ``.to_json()``, ``.verdicts``.

    The file names the data and model files by paths relative to where it is saved, so
    ``verify check`` (or :func:`check`) can re-read them.
    """

    content: dict[str, Any]
    data_path: str
    model_path: str

    @property
    def verdicts(self) -> dict[Any, ClassVerdict]:
        """Label -> :class:`ClassVerdict`, in the certificate's class order."""
        from verify.certificate.messages import verdict_text

        return {c["label"]: ClassVerdict(c["label"], c["verdict"], verdict_text(c),
                                         _exact(c["lower_bound"]),
                                         Fraction(c["upper_bound"]["exact"]),
                                         _exact(c.get("relative_gap")))
                for c in self.content["classes"]}

    def _located(self, cert_path: PathLike) -> dict[str, Any]:
        from verify.certificate.build import relative_path

        obj = dict(self.content)
        obj["data"] = {**obj["data"], "path": relative_path(self.data_path, cert_path)}
        obj["model"] = {**obj["model"], "path": relative_path(self.model_path, cert_path)}
        return obj

    def to_json(self, cert_path: PathLike = "certificate.cert.json") -> str:
        """The certificate's text as :meth:`save` would write it at ``cert_path``."""
        from verify.certificate.build import dumps_certificate

        return dumps_certificate(self._located(cert_path))

    def save(self, path: PathLike) -> None:
        """Write the certificate to ``path`` atomically (no half-written file)."""
        from verify.io.files import write_atomic

        write_atomic(path, self.to_json(path))


def _file_of(obj: Any, what: str) -> str:
    if isinstance(obj, (str, os.PathLike)):
        return os.path.abspath(os.fspath(obj))
    src = getattr(obj, "source", None)
    if isinstance(src, str) and Path(src).is_file():
        return os.path.abspath(src)
    raise InputError(f"certify needs the {what} as a file (a certificate names the files it "
                     f"certifies): save it first and pass its path")


def certify(data: Any, network: Any, *, bias: bool = False, tolerance: Any = None,
            solver: str | None = None, limit: int | None = None, budget: float | None = None,
            sampled: bool = False, solution: Solution | None = None, self_check: bool = True,
            executor: Any = None, full_chambers: bool = False,
            sdp_depth: int | None = None) -> Certificate:
    """An optimality certificate of a trained network (as ``verify certify``), re-checked by
    the trusted checker before it is returned (``self_check``).

    ``data`` and ``network`` are file paths (or objects loaded from files): the certificate
    names them.  ``solution`` (from :func:`solve` on the same data) skips the solve.
    ``tolerance`` (default ``1e-6``) is the relative gap called globally optimal; ``limit``,
    ``budget``, ``sampled``, ``sdp_depth`` as in :func:`solve`; ``full_chambers`` keeps the
    whole chamber list of the data as the evidence below ``limit`` (by default the chambers
    of ``X_S``, ``S = supp lambda``, replace it when they are at most half as many; with
    ``solution`` its solve decides).

    Examples
    --------
    >>> import os, tempfile, verify
    >>> from verify.io.models import save_model
    >>> d = tempfile.mkdtemp(); data = os.path.join(d, "d.json")
    >>> _ = open(data, "w").write('{"X": [[1, 0], [-1, 0]], "y": [1, -1]}')
    >>> verify.solve(data).save_network(os.path.join(d, "m.npz"))
    >>> cert = verify.certify(data, os.path.join(d, "m.npz"), tolerance="1e-9")
    >>> {k: v.verdict for k, v in cert.verdicts.items()}
    {1: 'globally-optimal-within'}
    >>> cert.save(os.path.join(d, "m.cert.json")); verify.check(cert).valid
    True

    Raises
    ------
    InputError
        Unusable data or model (infeasible data, a model that misclassifies a sample...).
    CertificateError
        The trusted checker rejects the certificate (a bug: please report it).
    """
    from verify.certificate.build import (
        DEFAULT_TOLERANCE,
        certify_network,
        data_digest,
        parse_tolerance,
    )
    from verify.io.datasets import Dataset
    from verify.network.model import load_network as _load_net

    dpath, mpath = _file_of(data, "data"), _file_of(network, "network")
    if isinstance(data, Dataset):
        bias = bias or bool(data.bias)
    ds = _dataset(dpath, bias)
    if isinstance(data, Dataset) and data_digest(ds.X, ds.Y) != data_digest(data.X, data.Y):
        raise InputError(f"{dpath}: the file no longer holds the Dataset passed (re-load it)")
    net = _load_net(mpath, n_features=ds.n_features, data_bias=ds.bias)
    tol = DEFAULT_TOLERANCE if tolerance is None else parse_tolerance(tolerance, "tolerance")
    if not tol < 1:
        raise InputError(f"tolerance: expected 0 <= gap < 1, got {tolerance}")
    if solution is not None and solution.data_sha256 != data_digest(ds.X, ds.Y):
        raise InputError("solution: it was solved on other data than the data certified")
    content = certify_network(ds, net, data_path=dpath, model_path=mpath,
                              cert_path="certificate", self_check=self_check, solver=solver,
                              limit=_limit(limit), tolerance=tol, budget=budget, sampled=sampled,
                              solves=None if solution is None else list(solution.classes),
                              executor=executor, full_chambers=full_chambers,
                              sdp_depth=sdp_depth)
    return Certificate(content, dpath, mpath)


def check(certificate: Any, *, data: PathLike | None = None,
          model: PathLike | None = None) -> CheckResult:
    """Re-check a certificate file (or a :class:`Certificate`) with the trusted checker.

    Returns :class:`verify.checker.result.CheckResult` (``.valid``, ``.failures``, the exact
    ``.lower_bound`` and ``.upper_bound``).  ``data``/``model`` check against other files than
    those the certificate names.  The failures about the data or the model name the file
    read (a file path as given, a :class:`Certificate`'s own files by their full path) and
    say how to give another one (``verify.check(..., data=FILE)``).

    Raises
    ------
    InputError
        A missing, unreadable or malformed file or certificate (as ``verify check``).
    """
    from verify.checker.check import check_file

    if not isinstance(certificate, (Certificate, str, os.PathLike)):
        raise InputError(f"expected a certificate file path or a Certificate, got "
                         f"{type(certificate).__name__}")
    if isinstance(certificate, Certificate):
        return _check_certificate_object(certificate, data, model)
    return check_file(certificate, data=data, model=model)


def _check_certificate_object(cert: Certificate, data: PathLike | None,
                              model: PathLike | None) -> CheckResult:
    """:func:`check` of a :class:`Certificate` against its own files or ``data``/``model``:
    the trusted checker's replay of the text :meth:`Certificate.save` writes."""
    from verify.certificate.build import dumps_certificate
    from verify.checker.check import API_HINT, check_parsed

    if not isinstance(cert.content, dict):
        raise InputError("check: the Certificate's content is not a certificate (expected a "
                         f"dict, got {type(cert.content).__name__})")
    files: dict[str, PathLike] = {}
    named_by: dict[str, str] = {}
    for what, given, own in (("data", data, cert.data_path), ("model", model, cert.model_path)):
        if given is None:
            if not isinstance(own, (str, os.PathLike)):
                raise InputError(f"check: the Certificate names no {what} file; give "
                                 f"{API_HINT.format(what=what)}")
            given, named_by[what] = own, "the Certificate"
        elif not isinstance(given, (str, os.PathLike)):
            raise InputError(f"check: {what} must be a file path, got {type(given).__name__}")
        files[what] = given
    try:  # the paths are the save location's; the checker never reads them
        content = json.loads(dumps_certificate(cert.content))
    except (TypeError, ValueError) as exc:
        raise InputError(f"check: the Certificate's content is not JSON ({exc})") from None
    return check_parsed(content, os.fspath(files["data"]), os.fspath(files["model"]),
                        names={what: os.fspath(f) for what, f in files.items()},
                        named_by=named_by, hint=API_HINT)


def train(data: Any, *, neurons: int, steps: int, bias: bool = False,
          **options: Any) -> TrainResult:
    """Gradient descent on the data as in the paper's section 4 (as ``verify train``).

    ``options``: ``lr``, ``init_scale``, ``seed``, ``schedule`` (``"constant"`` or
    ``"loss-scaled"``), ``record``.  The result has ``.save_model(path)``.

    Examples
    --------
    >>> import numpy as np, verify
    >>> from verify.io.datasets import check_dataset
    >>> ds = check_dataset(np.array([[1.0, 0.0], [-1.0, 0.0]]), [1, -1])
    >>> verify.train(ds, neurons=4, steps=50, seed=0).margin > 0
    True
    """
    from verify.network.training import train_dataset

    unknown = set(options) - {"lr", "init_scale", "seed", "schedule", "record"}
    if unknown:
        raise InputError(f"train: unknown option(s) {', '.join(sorted(unknown))}; expected lr, "
                         "init_scale, seed, schedule, record")
    return train_dataset(_dataset(data, bias), neurons=neurons, steps=steps, **options)
