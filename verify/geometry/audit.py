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

__all__ = ["AuditReport", "audit", "DEFAULT_LIMIT", "DEFAULT_SPIKE_LIMIT"]

#: Default largest number of chambers the audit enumerates.
DEFAULT_LIMIT = 200_000
#: Default largest number of arrangement faces the exact spike-free test visits.
DEFAULT_SPIKE_LIMIT = 20_000


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
    chamber_list : dict
        ``found`` (chambers enumerated and verified; 0 when not enumerated),
        ``proven_count`` (the exact count, or ``None``), ``complete``, and when incomplete
        the ``reason`` and the ``option`` of ``verify audit`` that lifts the budget (or
        ``None`` when no option does).
    undecided : list of dict
        Every step answered ``unknown``: ``{"step", "reason", "option"}``.
    """

    dataset: dict[str, Any]
    rank: RankInfo
    separability: SeparabilityReport
    spike: SpikeFreeReport | None
    chambers: int | None
    chambers_complete: bool
    count_proof: dict[str, Any] | None
    enumeration: Chambers | None = field(default=None, repr=False, compare=False)
    chamber_list: dict[str, Any] = field(default_factory=dict)
    undecided: list[dict[str, Any]] = field(default_factory=list)

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
            "chamber_list": dict(self.chamber_list),
            "undecided": [dict(u) for u in self.undecided],
        }


def audit(
    dataset: Dataset,
    *,
    limit: int = DEFAULT_LIMIT,
    stop_at_first: bool = False,
    spike: bool = True,
    spike_limit: int | None = DEFAULT_SPIKE_LIMIT,
    executor: Any = None,
) -> AuditReport:
    """Audit a data set: rank, orthogonal separability, spike-free property, chambers.

    Parameters
    ----------
    dataset : Dataset
        From :func:`verify.io.datasets.load_dataset` or :func:`verify.io.datasets.check_dataset`.
    limit : int, keyword-only
        Largest number of chambers to enumerate (the exact count of data not in general
        position gets a work budget that grows with it, see
        :func:`verify.geometry.chambers.enumerate_chambers`).
    stop_at_first : bool, keyword-only
        Stop the separability check at the first violating pair.
    spike : bool, keyword-only
        Run the spike-free test.
    spike_limit : int or None, keyword-only
        Largest number of arrangement faces the exact spike-free test visits (``None``: no
        limit); beyond it the test samples (it can still refute) or says ``unknown``.
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
    chambers, complete, proof, enum, listing = _chambers(X, limit, rank)
    spike_report = (spike_free(X, limit=spike_limit, executor=executor, rank=rank.rank)
                    if spike else None)
    undecided = []
    if not complete:
        undecided.append({"step": "chambers", "reason": listing["reason"],
                          "option": listing["option"]})
    if spike_report is not None and spike_report.spike_free is None:
        budget = spike_report.method in ("sampling", "skipped")
        undecided.append({
            "step": "spike-free",
            "reason": spike_report.reason,
            "option": "raise with --spike-limit N or skip with --no-spike" if budget else None,
        })
    return AuditReport(
        dataset=dataset.summary(),
        rank=rank,
        separability=sep,
        spike=spike_report,
        chambers=chambers,
        chambers_complete=complete,
        count_proof=proof,
        enumeration=enum,
        chamber_list=listing,
        undecided=undecided,
    )


def _chambers(
    X: Any, limit: int, rank: RankInfo | None = None
) -> tuple[int | None, bool, dict[str, Any] | None, Any, dict[str, Any]]:
    """Count, completeness, count proof, the list, and the ``chamber_list`` summary."""
    try:
        enum = enumerate_chambers(X, limit=limit, rank_info=rank)
    except EnumerationLimitError as exc:
        listing = {"found": 0, "proven_count": exc.count, "complete": False,
                   "reason": f"list not enumerated: {exc}", "option": limit_option(exc.count)}
        if exc.count is None or exc.proof is None:
            return None, False, {"method": "none", "reason": str(exc)}, None, listing
        proof = {**exc.proof, "note": f"list not enumerated: {exc}"}
        return exc.count, False, proof, None, listing
    count = enum.count if enum.complete else None
    listing = {"found": len(enum), "proven_count": enum.count, "complete": enum.complete,
               "reason": None, "option": None}
    if not enum.complete:
        listing["reason"] = (
            f"the enumeration found {len(enum)} of the {enum.count} chambers of the proven "
            "count (the missing ones have no verified witness)"
            if enum.count is not None else "the chamber count is not proven"
        )
    return count, enum.complete, enum.count_proof, enum, listing


def limit_option(count: int | None) -> str:
    """The option that lifts the chamber limit, e.g. ``"raise with --limit N (N >= 5)"``.

    Examples
    --------
    >>> limit_option(1234), limit_option(None)
    ('raise with --limit N (N >= 1234)', 'raise with --limit N')
    """
    return "raise with --limit N" + ("" if count is None else f" (N >= {count})")
