"""`python -m benchmarks [--sizes 10x30,100x90,500x365] [--out benchmarks/results.md]`."""

import sys

from benchmarks.harness import main

sys.exit(main())
