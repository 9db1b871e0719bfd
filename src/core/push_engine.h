// PushEngine: item-at-a-time, depth-first execution of a graph's node instances (the definition
// of the semantics, docs/SEMANTICS.md). The batch executor uses it for graphs that are not a chain;
// a streaming Session uses it for everything. Private to src/core.
//
// Not thread-safe: one thread drives an engine at a time (its owner makes sure of that).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "remotemedia/graph.h"
#include "remotemedia/node.h"
#include "remotemedia/status.h"

namespace remotemedia {

// The clock of the sessions' metrics. A node call is timed by two reads, so a read's cost is paid
// twice per node per item: steady_clock::now() costs 20-40 ns on a VM, the time stamp counter about
// 9. Ticks are the invariant time stamp counter on x86-64 when the CPU has one (the same rate on
// every core and in every power state), else steady_clock nanoseconds; durations (and percentiles
// of them) are converted to nanoseconds when they are read.
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

// Optional per-node accounting (streaming sessions' metrics). Called by the driving thread.
class NodeObserver {
 public:
  virtual ~NodeObserver() = default;
  // One process() call of node `node` that emitted `emitted` items, taking `ticks` (tick_clock).
  virtual void processed(size_t node, uint64_t emitted, uint64_t ticks, bool failed) = 0;
  // The flush() of node `node` at end of input, which emitted `emitted` items.
  virtual void flushed(size_t node, uint64_t emitted, bool failed) = 0;
};

class PushEngine {
 public:
  PushEngine(const Graph& graph, std::vector<std::unique_ptr<Node>>& nodes, NodeObserver* observer = nullptr);

  // Sends one input item through the graph; what reaches a sink is appended to `outputs` (a graph
  // without nodes passes the item straight through, as run() does). On a failure the error is
  // returned (located at its node and item index) and outputs appended before it stay. After a
  // failure the engine refuses further work.
  Status push_item(Value item, std::vector<Value>& outputs);
  // End of input: every node's flush in topological order, what it emits travelling on.
  Status flush_all(std::vector<Value>& outputs);

 private:
  class NodeEmitter;

  void push(size_t node, Value item);
  void deliver(size_t from, size_t port, Value item);

  const Graph& graph_;
  std::vector<std::unique_ptr<Node>>& nodes_;
  NodeObserver* observer_;
  std::vector<int64_t> counters_;
  std::vector<uint64_t> emitted_;  // per node, for the observer
  std::vector<Value>* results_ = nullptr;
  Status error_;
};

// Locates a node's error at the node (and item) unless it is already located.
Status locate_error(Status s, const GraphNode& node, std::optional<int64_t> item_index);

}  // namespace remotemedia
