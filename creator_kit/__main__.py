"""Run the command line with ``python -m creator_kit``."""

import sys

from creator_kit.cli import main

sys.exit(main())
