"""`python -m remotemedia`: the `remotemedia` command (remotemedia.cli)."""

import sys

from remotemedia.cli import main

sys.exit(main())
