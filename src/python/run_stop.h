// RunStop: how a native run in the binding learns that it should stop early. Two sources: a
// Python caller setting it (an awaited run whose task was cancelled; the run goes on in a worker
// thread), and Ctrl-C while a run_sync runs in the main thread. The signal arrives as Python's C
// handler setting a flag; the handler that raises KeyboardInterrupt only runs when someone calls
// PyErr_CheckSignals with the GIL, so the run's stop check does that, at most every 2 ms.
#pragma once

#include <nanobind/nanobind.h>

#include <atomic>
#include <chrono>
#include <optional>

#include "remotemedia/executor.h"

namespace remotemedia::py {

namespace nb = nanobind;

class RunStop {
 public:
  void set() { requested_.store(true, std::memory_order_relaxed); }
  bool is_set() const { return requested_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> requested_{false};
};

// The RunStop of the run on this thread, for the Python nodes of that run, whose batches can take
// long enough to be worth stopping in the middle (RunStopScope sets it around a run).
inline thread_local const RunStop* current_run_stop = nullptr;

class RunStopScope {
 public:
  explicit RunStopScope(const RunStop* stop) : saved_(current_run_stop) { current_run_stop = stop; }
  ~RunStopScope() { current_run_stop = saved_; }
  RunStopScope(const RunStopScope&) = delete;
  RunStopScope& operator=(const RunStopScope&) = delete;

 private:
  const RunStop* saved_;
};

inline bool current_run_stopped() { return current_run_stop != nullptr && current_run_stop->is_set(); }

// The executor's stop check for one run, called without the GIL on the run's thread. With
// `check_signals` (the run is in the main thread), a pending signal handler runs; the exception it
// raises (KeyboardInterrupt) is kept, and rethrown by rethrow_signal() once the run has closed its
// nodes.
class RunStopCheck {
 public:
  RunStopCheck(const RunStop* stop, bool check_signals) : stop_(stop), check_signals_(check_signals) {}
  bool operator()() {
    if (stop_ != nullptr && stop_->is_set()) return true;
    if (!check_signals_ || error_) return error_.has_value();
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(2)) return false;
    last_ = now;
    nb::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() == 0) return false;
    error_.emplace();  // takes the raised exception
    return true;
  }

  // With the GIL: raises what a signal handler raised during the run, if anything did.
  void rethrow_signal() {
    if (error_) throw nb::python_error(*error_);
  }

 private:
  const RunStop* stop_;
  const bool check_signals_;
  std::chrono::steady_clock::time_point last_{};
  std::optional<nb::python_error> error_;  // its destructor takes the GIL itself
};

}  // namespace remotemedia::py
