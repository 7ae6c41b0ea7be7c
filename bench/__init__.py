"""Benchmarks for ``make bench``: each figure printed next to its baseline measured in the same run."""
