#include "remotemedia/histogram.h"

#include <bit>
#include <cmath>

namespace remotemedia {

int Histogram::bucket_of(uint64_t v) {
  constexpr uint64_t kExact = uint64_t{1} << kSubBits;
  if (v < kExact) return static_cast<int>(v);
  const int msb = 63 - std::countl_zero(v);  // >= kSubBits
  const int shift = msb - kSubBits;
  const int sub = static_cast<int>((v >> shift) & (kExact - 1));
  return (shift + 1) * static_cast<int>(kExact) + sub;
}

uint64_t Histogram::bucket_upper(int b) {
  constexpr int kExact = 1 << kSubBits;
  if (b < kExact) return static_cast<uint64_t>(b);
  const int shift = b / kExact - 1;
  const uint64_t sub = static_cast<uint64_t>(b % kExact);
  const uint64_t low = (uint64_t{1} << (shift + kSubBits)) | (sub << shift);
  return low + ((uint64_t{1} << shift) - 1);
}

void Histogram::record(uint64_t value) {
  buckets_[static_cast<size_t>(bucket_of(value))].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

uint64_t Histogram::quantile(double q) const {
  uint64_t total = 0;
  for (const auto& b : buckets_) total += b.load(std::memory_order_relaxed);
  if (total == 0) return 0;
  const auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total)));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets_[static_cast<size_t>(i)].load(std::memory_order_relaxed);
    if (seen >= rank && seen > 0) return bucket_upper(i);
  }
  return bucket_upper(kBuckets - 1);
}

}  // namespace remotemedia
