"""``python -m verify``: the same as the ``verify`` console script."""

import sys

from verify.cli.main import main

sys.exit(main())
