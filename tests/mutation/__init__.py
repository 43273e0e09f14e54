"""Mutation testing of the quality rules: `python -m tests.mutation` (see harness.py)."""
