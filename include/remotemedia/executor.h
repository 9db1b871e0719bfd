// The batch executor: runs a compiled Graph over a finite list of items.
//
// Semantics (docs/SEMANTICS.md): results and the reported error are those of item-at-a-time,
// depth-first execution. A chain runs stage by stage over whole vectors (one virtual call per node
// per batch); other graphs push each item depth-first. Both give the identical list.
#pragma once

#include <functional>
#include <vector>

#include "remotemedia/graph.h"
#include "remotemedia/status.h"
#include "remotemedia/value.h"

namespace remotemedia {

// Items in flight: boxed Values, or a column (a 1-D NDArray whose elements are the items, each a
// numpy scalar) that element-wise nodes process without boxing.
struct Batch {
  std::vector<Value> items;
  Ref<NDArray> column;

  bool is_column() const { return static_cast<bool>(column); }
  size_t size() const { return column ? static_cast<size_t>(column->size()) : items.size(); }
  // Turns a column into boxed numpy scalars (no copy of the data: each shares the storage).
  void box();
};

// Errors carry node id, node type and item index (Status::with_node). Every opened node is closed,
// in reverse order, also after a failure; a close() failure replaces the outcome (the run's error,
// or its success) as an exception raised in a `finally` does. `replaced_errors`, when given, is set
// to the errors so replaced, oldest first (the failure, then each close failure but the last), so
// that the binding chains each as the next one's __context__ as a Python run does; it is left empty
// when nothing was replaced (Session::open keeps the same list).
//
// `stop`, when given, is asked before each stage, block of items, pushed item and flush whether to
// stop early (the binding's Ctrl-C check, a cancelled await): a stopped run closes its nodes and
// fails with kCancelled. It runs on the run's thread, so it must be cheap or rate-limit itself.
using StopCheck = std::function<bool()>;
Result<Batch> run_batch(const Graph& graph, Batch inputs, std::vector<Status>* replaced_errors = nullptr,
                        const StopCheck* stop = nullptr);
Result<std::vector<Value>> run(const Graph& graph, std::vector<Value> inputs,
                               std::vector<Status>* replaced_errors = nullptr);

}  // namespace remotemedia
