"""Limits the harness runs the pandas baseline under, and the report names (one module, so
the harness and the report do not import each other)."""

# pandas holds every raw row as Python objects: measured ~1 KB/row of RSS at 100x90, so the
# largest size would need ~10 GB and tens of minutes on 2 shared cores. Above this many raw
# rows the harness extrapolates it from the largest size it ran, and says so.
PANDAS_MAX_RAW_ROWS = 3_000_000
# When the baseline does run large, it is killed past this resident size (the cores and memory
# are shared); the report then says it did not fit.
PANDAS_RSS_CAP = 12 * 2**30
