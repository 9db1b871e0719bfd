#include "core/tick_clock.h"

#include <thread>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif

namespace remotemedia {

namespace tick_clock {
namespace {

bool has_invariant_tsc() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0x80000007, &eax, &ebx, &ecx, &edx) == 0) return false;
  return (edx & (1u << 8)) != 0;  // "TscInvariant"
#else
  return false;
#endif
}

struct Origin {
  uint64_t ticks;
  std::chrono::steady_clock::time_point steady;
};

}  // namespace

namespace internal {
const bool kUsesTsc = has_invariant_tsc();
}

namespace {
// After kUsesTsc (same translation unit: initialized in order).
const Origin kOrigin{now(), std::chrono::steady_clock::now()};
}  // namespace

double ns_per_tick() {
  static const double ratio = [] {
    if (!internal::kUsesTsc) return 1.0;
    constexpr auto kSpan = std::chrono::milliseconds(10);  // the read jitter (~50 ns) is 5e-6 of it
    const auto since = std::chrono::steady_clock::now() - kOrigin.steady;
    if (since < kSpan) std::this_thread::sleep_for(kSpan - since);
    const uint64_t ticks = now();
    const auto steady = std::chrono::steady_clock::now();
    const double ns = std::chrono::duration<double, std::nano>(steady - kOrigin.steady).count();
    return ticks > kOrigin.ticks ? ns / static_cast<double>(ticks - kOrigin.ticks) : 1.0;
  }();
  return ratio;
}

}  // namespace tick_clock

}  // namespace remotemedia
