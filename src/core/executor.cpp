#include "remotemedia/executor.h"

#include "core/push_engine.h"

#include <algorithm>
#include <iterator>
#include <limits>

namespace remotemedia {

void Batch::box() {
  if (!column) return;
  items.clear();
  items.reserve(static_cast<size_t>(column->size()));
  for (int64_t i = 0; i < column->size(); ++i) items.push_back(Value::array(column->element(i)));
  column = Ref<NDArray>();
}

namespace {

Status locate(Status s, const GraphNode& n, std::optional<int64_t> item_index) {
  return locate_error(std::move(s), n, item_index);
}

Status stopped() { return Status(StatusCode::kCancelled, "the run was stopped"); }

bool should_stop(const StopCheck* stop) { return stop != nullptr && (*stop)(); }

// Stages [first, end) of the chain over `cur`, stage by stage over whole batches; `seen[i]` counts
// the items node i has taken so far, so item indexes continue across calls. Keeps the
// item-at-a-time error rule: when a stage fails on its input i, the outputs it made before i still
// run downstream, and a failure there happened earlier in item-at-a-time order, so it wins.
Status run_stages(const Graph& graph, std::vector<std::unique_ptr<Node>>& nodes, size_t first,
                  std::vector<int64_t>& seen, Batch& cur, const StopCheck* stop) {
  const std::vector<size_t>& order = graph.topological_order();
  Status pending;
  for (size_t k = first; k < order.size(); ++k) {
    if (should_stop(stop)) return stopped();
    const size_t i = order[k];
    Node& node = *nodes[i];
    const int64_t offset = seen[i];
    seen[i] += static_cast<int64_t>(cur.size());
    Batch next;
    size_t failed_at = std::numeric_limits<size_t>::max();
    Status s;
    if (cur.is_column()) {
      Ref<NDArray> out;
      s = node.process_column(cur.column, &out, &failed_at);
      if (s.code() == StatusCode::kNotImplemented) {
        cur.box();
        s = Status::OK();
      } else {
        next.column = std::move(out);
      }
    }
    if (!cur.is_column()) s = node.process_batch(cur.items, next.items, &failed_at);
    if (!s.ok()) pending = locate(std::move(s), graph.nodes()[i], offset + static_cast<int64_t>(failed_at));
    cur = std::move(next);
    if (!pending.ok() && cur.size() == 0) break;  // nothing left that could fail earlier
  }
  return pending;
}

// Items that carry buffers (audio chunks, arrays) go through the stages a block at a time: each
// stage's outputs are still in cache when the next stage reads them, where whole-batch stages would
// stream every intermediate buffer through memory (one hour of 20 ms chunks is 180,000 of them).
// Small items keep whole-batch stages, whose per-call cost a block would multiply.
constexpr size_t kHeavyItemBlock = 32;

bool carries_buffers(const Batch& batch) {
  if (batch.is_column() || batch.items.empty()) return false;
  const ValueKind kind = batch.items.front().kind();
  return kind == ValueKind::kAudio || kind == ValueKind::kArray;
}

// Every input item through every stage, a block at a time. A block's failure ends the run: every
// item of later blocks comes after it in item-at-a-time order.
Status run_blocks(const Graph& graph, std::vector<std::unique_ptr<Node>>& nodes, std::vector<int64_t>& seen,
                  Batch& cur, const StopCheck* stop) {
  if (!carries_buffers(cur) || cur.items.size() <= kHeavyItemBlock) {
    return run_stages(graph, nodes, 0, seen, cur, stop);
  }
  std::vector<Value> inputs = std::move(cur.items);
  Batch out;
  for (size_t begin = 0; begin < inputs.size(); begin += kHeavyItemBlock) {
    const size_t end = std::min(inputs.size(), begin + kHeavyItemBlock);
    Batch block;
    block.items.assign(std::make_move_iterator(inputs.begin() + static_cast<std::ptrdiff_t>(begin)),
                       std::make_move_iterator(inputs.begin() + static_cast<std::ptrdiff_t>(end)));
    Status s = run_stages(graph, nodes, 0, seen, block, stop);
    block.box();
    for (Value& v : block.items) out.items.push_back(std::move(v));
    if (!s.ok()) {
      cur = std::move(out);
      return s;
    }
  }
  cur = std::move(out);
  return Status::OK();
}

// A chain: every input item through every stage, then, at end of input, each node's flush in
// order, what it emits running through the stages after it before the next flush (so a flush runs
// only when nothing failed before it in item-at-a-time order).
Result<Batch> run_chain(const Graph& graph, std::vector<std::unique_ptr<Node>>& nodes, Batch cur,
                        const StopCheck* stop) {
  std::vector<int64_t> seen(nodes.size(), 0);
  RM_RETURN_IF_ERROR(run_blocks(graph, nodes, seen, cur, stop));
  const std::vector<size_t>& order = graph.topological_order();
  for (size_t k = 0; k < order.size(); ++k) {
    if (should_stop(stop)) return stopped();
    Batch tail;
    VectorEmitter emitter(tail.items);
    Status f = nodes[order[k]]->flush(emitter);
    if (!tail.items.empty()) {
      RM_RETURN_IF_ERROR(run_stages(graph, nodes, k + 1, seen, tail, stop));
      tail.box();
      if (!tail.items.empty()) {
        cur.box();
        for (Value& v : tail.items) cur.items.push_back(std::move(v));
      }
    }
    if (!f.ok()) return locate(std::move(f), graph.nodes()[order[k]], std::nullopt);
  }
  return cur;
}

// Other graphs run item at a time, depth-first (core/push_engine.h).
Result<Batch> run_push(const Graph& graph, std::vector<std::unique_ptr<Node>>& nodes, Batch in,
                       const StopCheck* stop) {
  in.box();
  PushEngine engine(graph, nodes);
  Batch out;
  for (Value& item : in.items) {
    if (should_stop(stop)) return stopped();
    RM_RETURN_IF_ERROR(engine.push_item(std::move(item), out.items));
  }
  if (should_stop(stop)) return stopped();
  RM_RETURN_IF_ERROR(engine.flush_all(out.items));
  return out;
}

}  // namespace

Result<Batch> run_batch(const Graph& graph, Batch inputs, std::vector<Status>* replaced_errors,
                        const StopCheck* stop) {
  if (replaced_errors != nullptr) replaced_errors->clear();
  if (graph.nodes().empty()) return inputs;
  RM_ASSIGN_OR_RETURN(std::vector<std::unique_ptr<Node>> nodes, graph.instantiate());
  size_t opened = 0;
  Status open_error;
  for (; opened < nodes.size(); ++opened) {
    Status s = nodes[opened]->open();
    if (!s.ok()) {
      open_error = locate(std::move(s), graph.nodes()[opened], std::nullopt);
      break;
    }
  }
  Result<Batch> result = open_error.ok() ? (graph.is_chain() ? run_chain(graph, nodes, std::move(inputs), stop)
                                                             : run_push(graph, nodes, std::move(inputs), stop))
                                         : Result<Batch>(std::move(open_error));
  // A close failure replaces the outcome as an exception raised in a `finally` does; what it
  // replaced is kept so that the binding can chain it as the new error's __context__.
  for (size_t i = opened; i-- > 0;) {
    Status s = nodes[i]->close();
    if (s.ok()) continue;
    if (!result.ok() && replaced_errors != nullptr) replaced_errors->push_back(result.take_status());
    result = locate(std::move(s), graph.nodes()[i], std::nullopt);
  }
  return result;
}

Result<std::vector<Value>> run(const Graph& graph, std::vector<Value> inputs, std::vector<Status>* replaced_errors) {
  Batch in;
  in.items = std::move(inputs);
  RM_ASSIGN_OR_RETURN(Batch out, run_batch(graph, std::move(in), replaced_errors));
  out.box();
  return std::move(out.items);
}

}  // namespace remotemedia
