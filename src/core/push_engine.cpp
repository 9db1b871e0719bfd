#include "core/push_engine.h"

#include <string>

namespace remotemedia {

Status locate_error(Status s, const GraphNode& n, std::optional<int64_t> item_index) {
  if (!s.has_node()) s.with_node(n.id, n.type_name, item_index);
  return s;
}

class PushEngine::NodeEmitter final : public Emitter {
 public:
  NodeEmitter(PushEngine& engine, size_t node) : engine_(engine), node_(node) {}
  void emit(Value item) override { engine_.deliver(node_, 0, std::move(item)); }
  void emit_to(size_t port, Value item) override { engine_.deliver(node_, port, std::move(item)); }

 private:
  PushEngine& engine_;
  size_t node_;
};

PushEngine::PushEngine(const Graph& graph, std::vector<std::unique_ptr<Node>>& nodes, NodeObserver* observer)
    : graph_(graph), nodes_(nodes), observer_(observer), counters_(nodes.size(), 0), emitted_(nodes.size(), 0) {}

Status PushEngine::push_item(Value item, std::vector<Value>& outputs) {
  if (!error_.ok()) return error_;
  if (nodes_.empty()) {
    outputs.push_back(std::move(item));
    return error_;
  }
  results_ = &outputs;
  const auto& sources = graph_.sources();
  for (size_t k = 0; k < sources.size() && error_.ok(); ++k) {
    if (k + 1 == sources.size()) push(sources[k], std::move(item));
    else push(sources[k], item);
  }
  results_ = nullptr;
  return error_;
}

Status PushEngine::flush_all(std::vector<Value>& outputs) {
  if (!error_.ok()) return error_;
  results_ = &outputs;
  for (size_t i : graph_.topological_order()) {
    NodeEmitter emitter(*this, i);
    const uint64_t emitted_before = emitted_[i];
    Status s = nodes_[i]->flush(emitter);
    if (observer_ != nullptr) observer_->flushed(i, emitted_[i] - emitted_before, !s.ok());
    if (!error_.ok()) break;
    if (!s.ok()) {
      error_ = locate_error(std::move(s), graph_.nodes()[i], std::nullopt);
      break;
    }
  }
  results_ = nullptr;
  return error_;
}

void PushEngine::push(size_t i, Value item) {
  if (!error_.ok()) return;
  const int64_t index = counters_[i]++;
  NodeEmitter emitter(*this, i);
  if (observer_ == nullptr) {
    Status s = nodes_[i]->process(std::move(item), emitter);
    if (error_.ok() && !s.ok()) error_ = locate_error(std::move(s), graph_.nodes()[i], index);
    return;
  }
  // Time measured around the node's own call, including what it sends downstream: depth-first
  // execution has no cheaper honest split. The emitted count is this call's own outputs.
  const uint64_t emitted_before = emitted_[i];
  const uint64_t start = tick_clock::now();
  Status s = nodes_[i]->process(std::move(item), emitter);
  const uint64_t end = tick_clock::now();
  observer_->processed(i, emitted_[i] - emitted_before, end > start ? end - start : 0, !s.ok());
  if (error_.ok() && !s.ok()) error_ = locate_error(std::move(s), graph_.nodes()[i], index);
}

// An output port without connections is a sink: what it emits joins the result.
void PushEngine::deliver(size_t from, size_t port, Value item) {
  if (!error_.ok()) return;  // a downstream failure already ended the run
  ++emitted_[from];
  const auto& ports = graph_.nodes()[from].port_successors;
  if (port >= ports.size()) {
    error_ = locate_error(InternalError("emitted on output port " + std::to_string(port) + ", which it does not have"),
                          graph_.nodes()[from], std::nullopt);
    return;
  }
  const auto& successors = ports[port];
  if (successors.empty()) {
    results_->push_back(std::move(item));
    return;
  }
  for (size_t k = 0; k < successors.size(); ++k) {
    if (k + 1 == successors.size()) push(successors[k], std::move(item));
    else push(successors[k], item);
  }
}

}  // namespace remotemedia
