"""A log-scale histogram for latencies and durations (docs/SESSIONS.md, "Metrics").

Values (non-negative numbers, e.g. nanoseconds) are counted in buckets 2**(1/16) wide, about 4.4%,
so a percentile is known to within that, whatever the range, in a few hundred counters at most.
"""

from __future__ import annotations

import math
from typing import Iterable

__all__ = ["LogHistogram"]

_PER_OCTAVE = 16  # buckets per power of two: 2**(1/16) = 1.044
_LOG2 = math.log2


class LogHistogram:
    """Counts of non-negative values in log-scale buckets.

    ``record(v)`` / ``record_many(v, n)``; ``percentile(q)`` for q in [0, 1] gives a value within
    one bucket (about 4.4%) of the exact one, clamped to the smallest and largest value recorded,
    so percentiles are ordered (``percentile(0.5) <= percentile(0.99)``) and a histogram of one
    value gives that value exactly. ``merge`` adds another histogram's counts.
    """

    __slots__ = ("_buckets", "count", "total", "min", "max")

    def __init__(self, values: Iterable[float] = ()) -> None:
        self._buckets: dict[int, int] = {}
        self.count = 0
        self.total = 0.0
        self.min = math.inf
        self.max = -math.inf
        for v in values:
            self.record(v)

    @staticmethod
    def _index(value: float) -> int:
        # Bucket 0 holds [0, 1); bucket i >= 1 holds [2**((i-1)/16), 2**(i/16)).
        return 0 if value < 1 else 1 + int(_LOG2(value) * _PER_OCTAVE)

    def record(self, value: float) -> None:
        self.record_many(value, 1)

    def record_many(self, value: float, n: int) -> None:
        """Count ``value`` ``n`` times."""
        if n <= 0:
            return
        if value < 0 or value != value:
            raise ValueError(f"a histogram counts non-negative values, got {value!r}")
        i = 0 if value < 1 else 1 + int(_LOG2(value) * _PER_OCTAVE)
        buckets = self._buckets
        buckets[i] = buckets.get(i, 0) + n
        self.count += n
        self.total += value * n
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value

    def merge(self, other: LogHistogram) -> None:
        for i, n in other._buckets.items():
            self._buckets[i] = self._buckets.get(i, 0) + n
        self.count += other.count
        self.total += other.total
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)

    def percentile(self, q: float) -> float:
        """The value below which a fraction ``q`` of the counted values lie (0.0 when empty)."""
        if not 0 <= q <= 1:
            raise ValueError(f"a percentile is between 0 and 1, got {q!r}")
        if self.count == 0:
            return 0.0
        rank = max(1, math.ceil(q * self.count))  # the rank-th smallest value
        seen = 0
        for i in sorted(self._buckets):
            seen += self._buckets[i]
            if seen >= rank:
                break
        # The bucket's geometric middle (the middle of [0, 1) for bucket 0), within [min, max].
        middle = 0.5 if i == 0 else 2 ** ((i - 0.5) / _PER_OCTAVE)
        return min(max(middle, self.min), self.max)

    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    def summary(self, scale: float = 1.0, **quantiles: float) -> dict[str, float]:
        """``{name: percentile(q) * scale}`` rounded to 3 decimals, for metrics dicts:
        ``h.summary(1e-3, p50=0.5, p99=0.99)``."""
        return {name: round(self.percentile(q) * scale, 3) for name, q in quantiles.items()}

    def __len__(self) -> int:
        return self.count

    def __repr__(self) -> str:
        if not self.count:
            return "LogHistogram(empty)"
        p = self.summary(p50=0.5, p99=0.99)
        return f"LogHistogram(count={self.count}, p50={p['p50']}, p99={p['p99']}, max={self.max})"
