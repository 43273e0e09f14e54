"""`python -m runtime.cli ...` is `stockpipe ...`."""

import sys

from .app import main

sys.exit(main())
