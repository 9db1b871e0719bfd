#include "python/shutdown_gate.h"

#include <nanobind/nanobind.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace remotemedia::py {

namespace nb = nanobind;

namespace {

struct Gate {
  std::atomic<bool> closed{false};
  std::mutex mutex;
  std::condition_variable idle;
  int active = 0;
};

Gate& gate() {
  static Gate* g = new Gate();  // never destroyed: threads may still look at it during exit
  return *g;
}

}  // namespace

RunTicket::RunTicket() {
  Gate& g = gate();
  std::lock_guard lock(g.mutex);
  if (g.closed.load()) throw nb::builtin_exception(nb::exception_type::runtime_error,
                                                   "the interpreter is shutting down: no new native runs");
  ++g.active;
}

RunTicket::~RunTicket() {
  Gate& g = gate();
  std::lock_guard lock(g.mutex);
  if (--g.active == 0) g.idle.notify_all();
}

bool shutting_down() { return gate().closed.load(std::memory_order_relaxed); }

void close_gate(double timeout_seconds) {
  Gate& g = gate();
  nb::gil_scoped_release release;  // the runs in flight need the GIL to get back to Python
  std::unique_lock lock(g.mutex);
  g.closed.store(true);
  g.idle.wait_for(lock, std::chrono::duration<double>(timeout_seconds), [&] { return g.active == 0; });
}

}  // namespace remotemedia::py
