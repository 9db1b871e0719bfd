// CompiledPipeline: a manifest compiled once (with the Python nodes that run inside it), run any
// number of times, and the graph that streaming sessions share.
#pragma once

#include <nanobind/nanobind.h>

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "python/convert.h"
#include "python/py_object.h"
#include "python/python_node.h"
#include "python/raise_status.h"
#include "python/run_stop.h"
#include "python/shutdown_gate.h"
#include "remotemedia/executor.h"
#include "remotemedia/graph.h"
#include "remotemedia/manifest.h"
#include "remotemedia/registry.h"

namespace remotemedia::py {

namespace nb = nanobind;

inline Graph compile_or_raise(std::string_view manifest_json, const ExternalNodes* external = nullptr) {
  Result<Graph> graph = [&] {
    nb::gil_scoped_release release;
    Result<Manifest> manifest = parse_manifest(manifest_json);
    if (!manifest.ok()) return Result<Graph>(manifest.take_status());
    return Graph::compile(manifest.value(), Registry::global(), external);
  }();
  if (!graph.ok()) raise_status(graph.status());
  return std::move(graph).value();
}

// A manifest compiled once and run any number of times (each run makes fresh node instances).
// `python_nodes` maps node ids to the Python Node instances that run as PythonNodes (the Pipeline
// decides which; see Pipeline.explain()).
//
// It holds those Python objects from C++, and they may lead back to it (a node's class -> its
// module's globals -> the Pipeline -> this), so it tells the garbage collector about them
// (tp_traverse / tp_clear below); otherwise such a cycle would never be collected.
class CompiledPipeline {
 public:
  CompiledPipeline(std::string_view manifest_json, nb::handle python_nodes) {
    ExternalNodes external;
    if (python_nodes.is_valid() && !python_nodes.is_none()) {
      for (auto [id, node] : nb::cast<nb::dict>(python_nodes)) {
        Ref<OpaqueObject> handle(new PyObjectHandle(node.ptr(), false));
        python_nodes_.push_back(handle);
        std::vector<std::string> ports;
        for (nb::handle port : node.attr("output_ports")()) ports.push_back(nb::cast<std::string>(port));
        external[nb::cast<std::string>(id)] = ExternalNode{nb::cast<std::string>(node.attr("node_type")),
                                                           PythonNode::factory_for(handle, ports), ports};
      }
    }
    graph_ = std::make_shared<const Graph>(compile_or_raise(manifest_json, &external));
  }

  // `stop` ends the run early when set (from another thread); `check_signals` (the caller is the
  // main thread) lets Ctrl-C end it with KeyboardInterrupt. Either way the nodes are closed first.
  nb::object run(nb::handle items, const RunStop* stop, bool check_signals) const {
    RunTicket ticket;  // interpreter shutdown waits for this run to get back to Python
    const Graph& graph = this->graph();
    Batch in = batch_from_python(items);
    std::vector<Status> replaced;  // errors a close failure replaced: the raised error's __context__
    RunStopCheck check(stop, check_signals);
    const StopCheck stop_check = [&check] { return check(); };
    Result<Batch> out = [&] {
      nb::gil_scoped_release release;  // item values that die in here take the GIL themselves
      RunStopScope scope(stop);
      return run_batch(graph, std::move(in), &replaced,
                       stop != nullptr || check_signals ? &stop_check : nullptr);
    }();
    check.rethrow_signal();
    if (!out.ok()) raise_status(out.status(), replaced);
    return batch_to_python(out.value());
  }

  std::vector<std::string> node_ids() const {
    std::vector<std::string> ids;
    for (const GraphNode& n : graph().nodes()) ids.push_back(n.id);
    return ids;
  }
  const Graph& graph() const { return *shared_graph(); }
  // Sessions hold the graph too, so it outlives this object if they do.
  const std::shared_ptr<const Graph>& shared_graph() const {
    if (!graph_) throw nb::value_error("this compiled pipeline was cleared by the garbage collector");
    return graph_;
  }

  int traverse(visitproc visit, void* arg) const {
    for (const Ref<OpaqueObject>& handle : python_nodes_) Py_VISIT(python_object_of(handle.get()));
    return 0;
  }
  void clear() {
    graph_.reset();  // its node factories hold the handles too
    python_nodes_.clear();
  }

 private:
  std::shared_ptr<const Graph> graph_;
  std::vector<Ref<OpaqueObject>> python_nodes_;
};

inline int compiled_pipeline_traverse(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(Py_TYPE(self));
  if (!nb::inst_ready(self)) return 0;
  return nb::inst_ptr<CompiledPipeline>(self)->traverse(visit, arg);
}

inline int compiled_pipeline_clear(PyObject* self) {
  nb::inst_ptr<CompiledPipeline>(self)->clear();
  return 0;
}

inline PyType_Slot compiled_pipeline_slots[] = {
    {Py_tp_traverse, reinterpret_cast<void*>(compiled_pipeline_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(compiled_pipeline_clear)},
    {0, nullptr},
};

}  // namespace remotemedia::py
