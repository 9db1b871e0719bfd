"""Benchmarks that compare the runtimes side by side in one process (see docs/PERFORMANCE.md)."""
