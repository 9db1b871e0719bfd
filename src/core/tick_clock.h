// tick_clock: the clock of the sessions' metrics. A node call is timed by two reads, so a read's
// cost is paid twice per node per item: steady_clock::now() costs 20-40 ns on a VM, the time stamp
// counter about 9. Ticks are the invariant time stamp counter on x86-64 when the CPU has one (the same rate on
// every core and in every power state), else steady_clock nanoseconds; durations (and percentiles
// of them) are converted to nanoseconds when they are read.
#pragma once

#include <chrono>
#include <cstdint>

namespace remotemedia {

namespace tick_clock {

namespace internal {
extern const bool kUsesTsc;  // decided once, when the library loads
}

inline uint64_t now() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (internal::kUsesTsc) return __builtin_ia32_rdtsc();
#endif
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

// Nanoseconds per tick, measured against steady_clock over at least 10 ms from when the library
// loaded (so the first call in a fresh process may wait up to that long); then fixed. Thread-safe.
double ns_per_tick();

inline uint64_t to_ns(uint64_t ticks) { return static_cast<uint64_t>(static_cast<double>(ticks) * ns_per_tick() + 0.5); }

}  // namespace tick_clock

}  // namespace remotemedia
