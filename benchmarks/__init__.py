"""Scale and speed benchmarks for stockpipe (issue #7): `python -m benchmarks --help`."""
