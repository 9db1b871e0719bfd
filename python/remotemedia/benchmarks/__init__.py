"""Benchmarks that compare the runtimes side by side in one process (docs/PERFORMANCE.md).

``python -m remotemedia.benchmarks.compare_runtimes`` (also ``remotemedia bench``): the seed's six
scenarios on the Python executor, the native runtime (list and numpy input), a plain Python loop
and a numpy expression, plus the peak memory of one large run (``remotemedia.benchmarks.memory``).
"""
