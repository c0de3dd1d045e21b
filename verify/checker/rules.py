"""Where each rule of the trusted checker lives, and its public names (``docs/certificate.md``).

The checker re-checks a certificate in exact arithmetic, one named rule per statement.  Its
public entry points are :func:`~verify.checker.check.check_certificate` and
:func:`~verify.checker.check.check_file`; they are importable from here as before.  The rules,
by the module that checks them:

* :mod:`verify.checker.check` -- the top-level check: ``data-hash``, ``data-shape``,
  ``data-classes``, ``model-hash``, ``model-shape``, ``classes``, ``tolerance``, ``method``,
  ``lambda-length``, ``lambda-sign``, ``s-sign``, ``model-margin``, ``upper-bound``,
  ``lower-bound``, ``relative-gap``, ``verdict``, ``verdict-detail``, ``total`` and
  ``unchecked-claim`` (``solve``, the closed form's note);
* :mod:`verify.checker.fields` -- the format: ``unchecked-claim`` (keys outside the format)
  and ``float-twin``;
* :mod:`verify.checker.network_objective` -- the network's objective behind ``upper-bound``,
  ``model-margin`` and a ``suboptimal`` verdict;
* :mod:`verify.checker.chambers` -- chamber evidence: ``pattern-encoding``,
  ``witness-interior``, ``witness-pattern``, ``patterns-distinct``, ``multiplier-index``,
  ``multiplier-sign``, ``dual-norm``, ``chamber-count`` and (``support-chambers``)
  ``support``;
* :mod:`verify.checker.counting` -- the chamber count: ``count-proof``, ``chamber-count``;
* :mod:`verify.checker.closed_form` -- closed-form evidence: ``orthogonal-separability``,
  ``closed-form-norm``;
* :mod:`verify.checker.branch_and_bound` -- branch-and-bound evidence: the ``bab-*`` rules
  (``bab-support``, ``bab-tree``, ``bab-rows``, ``bab-alpha``, ``bab-interval``,
  ``bab-chord``, ``bab-multipliers``, ``bab-leaf``, ``bab-size``);
* :mod:`verify.checker.semidefinite` -- the sdp leaves of branch-and-bound evidence:
  ``bab-sdp`` and their ``bab-size`` limits (order, bits, the elimination budget).

Unusable input raises :class:`~verify.checker.errors.InputError` (exit code 2): the file and
path safety of :mod:`verify.checker.files`, the size limits of :mod:`verify.checker.limits`,
the readers of :mod:`verify.checker.readers`, :mod:`verify.checker.arrays` and the canonical
hashes of :mod:`verify.checker.hashes`.  The outcome is a :class:`CheckResult` of
:class:`Failure` objects (:mod:`verify.checker.result`).
"""

from __future__ import annotations

from verify.checker.check import check_certificate, check_file
from verify.checker.fields import FORMAT, VERSION, VERSIONS
from verify.checker.result import CheckResult, Failure

__all__ = [
    "FORMAT",
    "VERSION",
    "VERSIONS",
    "Failure",
    "CheckResult",
    "check_certificate",
    "check_file",
]
