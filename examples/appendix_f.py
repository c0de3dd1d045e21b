"""The paper's Appendix F experiments (F.1 and F.2) through the library API.

The same job as ``verify demo``: audit, convex optimum, gradient descent over seeds and
training lengths, certificates re-checked by the trusted checker, the paper's figures.

Run from the repository root:  python examples/appendix_f.py [OUTDIR]
"""

from __future__ import annotations

import sys

from verify.cli.demo import render_demo, run_demo


def main() -> None:
    outdir = sys.argv[1] if len(sys.argv) > 1 else "appendix-f-out"
    print(render_demo(run_demo(outdir)))


if __name__ == "__main__":
    main()
