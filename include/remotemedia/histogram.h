// Histogram: a log-scale histogram of non-negative integers (latencies in nanoseconds), for
// percentiles with about 3% resolution at a fixed small cost per record.
//
// Recording and reading may happen on different threads at once: counters are relaxed atomics, so
// a reader sees a consistent-enough snapshot (each bucket exact, the total possibly a few records
// behind).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace remotemedia {

class Histogram {
 public:
  static constexpr int kSubBits = 5;  // 32 buckets per power of two
  static constexpr int kBuckets = (64 - kSubBits) * (1 << kSubBits) + (1 << kSubBits);

  void record(uint64_t value);
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  // The value at quantile q in [0, 1] (an upper bound of its bucket); 0 when empty.
  uint64_t quantile(double q) const;

  static int bucket_of(uint64_t value);
  static uint64_t bucket_upper(int bucket);

 private:
  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> count_{0};
};

}  // namespace remotemedia
