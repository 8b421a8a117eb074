"""`python -m feedsvc` is the same as the `feedsvc` command."""

import sys

from feedsvc.cli import main

sys.exit(main())
