"""Hybrid ML nodes: native pre- and post-processing, inference in Python. Not written yet."""

__all__: list[str] = []
