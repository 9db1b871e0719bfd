// PushEngine: item-at-a-time, depth-first execution of a graph's node instances (the definition
// of the semantics, docs/SEMANTICS.md). The batch executor uses it for graphs that are not a chain;
// a streaming Session uses it for everything. Private to src/core.
//
// Not thread-safe: one thread drives an engine at a time (its owner makes sure of that).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/tick_clock.h"
#include "remotemedia/graph.h"
#include "remotemedia/node.h"
#include "remotemedia/status.h"

namespace remotemedia {

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
