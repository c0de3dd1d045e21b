"""verify: exact certificates for two-layer ReLU networks and their data.

Implements Wang & Pilanci, "The convex geometry of backpropagation" (ICLR 2022): dataset
audits (orthogonal separability, spike-free property, exact activation-pattern chambers),
with every verdict decided in exact arithmetic.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
