"""``python -m verify.cli`` runs the command line (as ``python -m verify``)."""

from verify.cli.main import main

raise SystemExit(main())
