"""verify: exact certificates for two-layer ReLU networks and their data.

Implements Wang & Pilanci, "The convex geometry of backpropagation" (ICLR 2022): dataset
audits (orthogonal separability, spike-free property, exact activation-pattern chambers),
the convex max-margin program and its dual, and optimality certificates of trained
networks that the trusted checker (:mod:`verify.checker`) re-verifies in exact arithmetic.

The public API (:mod:`verify.api`) is loaded on first use, so that ``import verify.checker``
needs nothing but the standard library.

Examples
--------
>>> import verify
>>> sorted(verify.__all__)[:3]
['Certificate', 'ClassVerdict', 'Solution']
>>> callable(verify.certify)
True
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_API = (
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
)

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        from verify import api

        return getattr(api, name)
    raise AttributeError(f"module 'verify' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
