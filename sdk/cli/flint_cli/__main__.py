"""``python -m flint_cli`` runs the ``flint`` command."""

from flint_cli.main import main

raise SystemExit(main())
