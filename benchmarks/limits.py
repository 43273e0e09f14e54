"""How far the pandas baseline is allowed to go; shared by the harness that enforces the limits
and the report that says when a run used other ones."""

# pandas holds every raw row as Python objects (about 1 KB of RSS per row, docs/performance.md
# "Reproduce"), so above this many raw rows the harness extrapolates the baseline from the
# largest size it ran, and says so.
PANDAS_MAX_RAW_ROWS = 3_000_000
# When the baseline does run large, it is killed past this resident size (the cores and memory
# are shared); the report then says it did not fit.
PANDAS_RSS_CAP = 12 * 2**30
