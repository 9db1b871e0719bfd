#include "remotemedia/executor.h"

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
  if (!s.has_node()) s.with_node(n.id, n.type_name, item_index);
  return s;
}

// Stages [first, end) of the chain over `cur`, stage by stage over whole batches; `seen[i]` counts
// the items node i has taken so far, so item indexes continue across calls. Keeps the
// item-at-a-time error rule: when a stage fails on its input i, the outputs it made before i still
// run downstream, and a failure there happened earlier in item-at-a-time order, so it wins.
Status run_stages(const Graph& graph, std::vector<std::unique_ptr<Node>>& nodes, size_t first,
                  std::vector<int64_t>& seen, Batch& cur) {
  const std::vector<size_t>& order = graph.topological_order();
  Status pending;
  for (size_t k = first; k < order.size(); ++k) {
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

// A chain: every input item through every stage, then, at end of input, each node's flush in
// order, what it emits running through the stages after it before the next flush (so a flush runs
// only when nothing failed before it in item-at-a-time order).
Result<Batch> run_chain(const Graph& graph, std::vector<std::unique_ptr<Node>>& nodes, Batch cur) {
  std::vector<int64_t> seen(nodes.size(), 0);
  RM_RETURN_IF_ERROR(run_stages(graph, nodes, 0, seen, cur));
  const std::vector<size_t>& order = graph.topological_order();
  for (size_t k = 0; k < order.size(); ++k) {
    Batch tail;
    VectorEmitter emitter(tail.items);
    Status f = nodes[order[k]]->flush(emitter);
    if (!tail.items.empty()) {
      RM_RETURN_IF_ERROR(run_stages(graph, nodes, k + 1, seen, tail));
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

// Item-at-a-time, depth-first: the definition of the semantics, used for graphs that are not a
// chain. An emitted item travels downstream before its node sees the next input.
class PushRun {
 public:
  PushRun(const Graph& graph, std::vector<std::unique_ptr<Node>>& nodes)
      : graph_(graph), nodes_(nodes), counters_(nodes.size(), 0) {}

  Result<Batch> run(Batch in) {
    in.box();
    for (Value& item : in.items) {
      const auto& sources = graph_.sources();
      for (size_t k = 0; k < sources.size() && error_.ok(); ++k) push(sources[k], item);
      if (!error_.ok()) return std::move(error_);
    }
    for (size_t i : graph_.topological_order()) {
      NodeEmitter emitter(*this, i);
      Status s = nodes_[i]->flush(emitter);
      if (!error_.ok()) return std::move(error_);
      if (!s.ok()) return locate(std::move(s), graph_.nodes()[i], std::nullopt);
    }
    Batch out;
    out.items = std::move(results_);
    return out;
  }

 private:
  class NodeEmitter final : public Emitter {
   public:
    NodeEmitter(PushRun& run, size_t node) : run_(run), node_(node) {}
    void emit(Value item) override { run_.deliver(node_, 0, std::move(item)); }
    void emit_to(size_t port, Value item) override { run_.deliver(node_, port, std::move(item)); }

   private:
    PushRun& run_;
    size_t node_;
  };

  void push(size_t i, Value item) {
    if (!error_.ok()) return;
    const int64_t index = counters_[i]++;
    NodeEmitter emitter(*this, i);
    Status s = nodes_[i]->process(std::move(item), emitter);
    if (error_.ok() && !s.ok()) error_ = locate(std::move(s), graph_.nodes()[i], index);
  }

  // An output port without connections is a sink: what it emits joins the result.
  void deliver(size_t from, size_t port, Value item) {
    if (!error_.ok()) return;  // a downstream failure already ended the run
    const auto& ports = graph_.nodes()[from].port_successors;
    if (port >= ports.size()) {
      error_ = locate(InternalError("emitted on output port " + std::to_string(port) + ", which it does not have"),
                      graph_.nodes()[from], std::nullopt);
      return;
    }
    const auto& successors = ports[port];
    if (successors.empty()) {
      results_.push_back(std::move(item));
      return;
    }
    for (size_t k = 0; k < successors.size(); ++k) {
      if (k + 1 == successors.size()) push(successors[k], std::move(item));
      else push(successors[k], item);
    }
  }

  const Graph& graph_;
  std::vector<std::unique_ptr<Node>>& nodes_;
  std::vector<int64_t> counters_;
  std::vector<Value> results_;
  Status error_;
};

}  // namespace

Result<Batch> run_batch(const Graph& graph, Batch inputs) {
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
  Result<Batch> result = open_error.ok() ? (graph.is_chain() ? run_chain(graph, nodes, std::move(inputs))
                                                             : PushRun(graph, nodes).run(std::move(inputs)))
                                         : Result<Batch>(std::move(open_error));
  for (size_t i = opened; i-- > 0;) {
    Status s = nodes[i]->close();
    if (!s.ok()) result = locate(std::move(s), graph.nodes()[i], std::nullopt);
  }
  return result;
}

Result<std::vector<Value>> run(const Graph& graph, std::vector<Value> inputs) {
  Batch in;
  in.items = std::move(inputs);
  RM_ASSIGN_OR_RETURN(Batch out, run_batch(graph, std::move(in)));
  out.box();
  return std::move(out.items);
}

}  // namespace remotemedia
