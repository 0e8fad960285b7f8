"""``python -m mafmt`` runs the command line."""

import sys

from mafmt.cli import main

sys.exit(main())
