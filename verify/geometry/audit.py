"""Dataset audit: every exact verdict about a data set in one report.

The audit gathers, for a validated :class:`~verify.io.datasets.Dataset`:

* the exact rank of ``X`` (:func:`verify.geometry.proven_linalg.exact_rank`);
* orthogonal separability, binary or multi-class
  (:func:`verify.geometry.separability.orthogonal_separability`);
* the spike-free property (:func:`verify.geometry.spike_free.spike_free`), when the chambers can be
  enumerated within ``limit``;
* the number of chambers of the arrangement with the proof that the list is complete
  (:func:`verify.geometry.chambers.enumerate_chambers`,
  :func:`verify.geometry.chambers.count_chambers`);
* data issues that make the max-margin problem infeasible.

Examples
--------
>>> from verify.io.datasets import paper_dataset
>>> rep = audit(paper_dataset("F.1"))
>>> rep.orthogonally_separable, rep.chambers, rep.chambers_complete
(True, 4, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from verify.errors import EnumerationLimitError
from verify.geometry.chambers import Chambers, enumerate_chambers
from verify.geometry.proven_linalg import RankInfo, exact_rank
from verify.geometry.separability import SeparabilityReport, orthogonal_separability
from verify.geometry.spike_free import SpikeFreeReport, spike_free
from verify.io.datasets import Dataset

__all__ = ["AuditReport", "audit", "DEFAULT_LIMIT"]

#: Default largest number of chambers the audit enumerates.
DEFAULT_LIMIT = 200_000


@dataclass(frozen=True)
class AuditReport:
    """Everything :func:`audit` decided about a data set.

    Attributes
    ----------
    dataset : dict
        :meth:`Dataset.summary` (source, sizes, classes, issues).
    rank : RankInfo
        Exact rank of ``X`` with its proof.
    separability : SeparabilityReport
        Orthogonal separability, decided exactly.
    spike : SpikeFreeReport or None
        Spike-free verdict (``None`` when it was not attempted).
    chambers : int or None
        Number of chambers (activation patterns) when known exactly.
    chambers_complete : bool
        True when the enumerated chamber list was proven complete.
    count_proof : dict or None
        How the count was shown, or why it is not known.
    enumeration : Chambers or None
        The chamber list itself when it was enumerated.
    """

    dataset: dict[str, Any]
    rank: RankInfo
    separability: SeparabilityReport
    spike: SpikeFreeReport | None
    chambers: int | None
    chambers_complete: bool
    count_proof: dict[str, Any] | None
    enumeration: Chambers | None = field(default=None, repr=False, compare=False)

    @property
    def orthogonally_separable(self) -> bool:
        return self.separability.separable

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready report with the keys documented in the README."""
        spike = self.spike
        return {
            "source": self.dataset["source"],
            "samples": self.dataset["samples"],
            "features": self.dataset["features"],
            "bias": self.dataset["bias"],
            "rank": self.rank.rank,
            "rank_proof": self.rank.to_dict(),
            "classes": self.dataset["classes"],
            "class_counts": self.dataset["class_counts"],
            "positive_label": self.dataset.get("positive_label"),
            "issues": self.dataset["issues"],
            "warnings": self.dataset.get("warnings", []),
            "max_margin_feasible": not self.dataset["issues"],
            "orthogonally_separable": self.separability.separable,
            "orthogonal_separability": self.separability.to_dict(),
            "spike_free": None if spike is None else spike.spike_free,
            "spike_value": None if spike is None else spike.spike_value,
            "spike_witness": None if spike is None else spike.witness,
            "spike_free_details": None if spike is None else spike.to_dict(),
            "chambers": self.chambers,
            "chambers_complete": self.chambers_complete,
            "count_proof": self.count_proof,
        }


def audit(
    dataset: Dataset,
    *,
    limit: int = DEFAULT_LIMIT,
    stop_at_first: bool = False,
    spike: bool = True,
    executor: Any = None,
) -> AuditReport:
    """Audit a data set: rank, orthogonal separability, spike-free property, chambers.

    Parameters
    ----------
    dataset : Dataset
        From :func:`verify.io.datasets.load_dataset` or :func:`verify.io.datasets.check_dataset`.
    limit : int, keyword-only
        Largest number of chambers to enumerate (for the list and the spike-free test).
    stop_at_first : bool, keyword-only
        Stop the separability check at the first violating pair.
    spike : bool, keyword-only
        Run the spike-free test.
    executor : distributed.Client or concurrent.futures.Executor, keyword-only
        Run the Gram blocks and the per-chamber spike-free work there
        (:func:`verify.distributed.executor_from_options`); results are identical.

    Returns
    -------
    AuditReport

    Examples
    --------
    >>> import numpy as np
    >>> from verify.io.datasets import check_dataset
    >>> rep = audit(check_dataset(np.eye(3), [1, -1, 1]))
    >>> rep.rank.rank, rep.orthogonally_separable, rep.spike.spike_free, rep.chambers
    (3, False, True, 8)
    """
    X = dataset.X
    rank = exact_rank(X)
    sep = orthogonal_separability(
        X, dataset.class_index, stop_at_first=stop_at_first, executor=executor
    )
    chambers, complete, proof, enum = _chambers(X, limit)
    spike_report = spike_free(X, limit=limit, executor=executor) if spike else None
    return AuditReport(
        dataset=dataset.summary(),
        rank=rank,
        separability=sep,
        spike=spike_report,
        chambers=chambers,
        chambers_complete=complete,
        count_proof=proof,
        enumeration=enum,
    )


def _chambers(X: Any, limit: int) -> tuple[int | None, bool, dict[str, Any] | None, Any]:
    try:
        enum = enumerate_chambers(X, limit=limit)
    except EnumerationLimitError as exc:
        if exc.count is None or exc.proof is None:
            return None, False, {"method": "none", "reason": str(exc)}, None
        return exc.count, False, {**exc.proof, "note": f"list not enumerated: {exc}"}, None
    count = enum.count if enum.complete else None
    return count, enum.complete, enum.count_proof, enum
