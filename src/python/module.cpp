// remotemedia._runtime: the nanobind module. The GIL is held while converting items and released
// around the native run.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/vector.h>

#include <nanobind/stl/optional.h>

#include <optional>

#include "python/convert.h"
#include "python/py_object.h"
#include "python/shutdown_gate.h"
#include "python/python_node.h"
#include "python/raise_status.h"
#include "remotemedia/executor.h"
#include "remotemedia/graph.h"
#include "remotemedia/manifest.h"
#include "remotemedia/registry.h"

namespace nb = nanobind;
using namespace nb::literals;
using namespace remotemedia;

namespace {

Graph compile_or_raise(std::string_view manifest_json, const ExternalNodes* external = nullptr) {
  Result<Graph> graph = [&] {
    nb::gil_scoped_release release;
    Result<Manifest> manifest = parse_manifest(manifest_json);
    if (!manifest.ok()) return Result<Graph>(manifest.take_status());
    return Graph::compile(manifest.value(), Registry::global(), external);
  }();
  if (!graph.ok()) py::raise_status(graph.status());
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
        Ref<OpaqueObject> handle(new py::PyObjectHandle(node.ptr(), false));
        python_nodes_.push_back(handle);
        std::vector<std::string> ports;
        for (nb::handle port : node.attr("output_ports")()) ports.push_back(nb::cast<std::string>(port));
        external[nb::cast<std::string>(id)] = ExternalNode{nb::cast<std::string>(node.attr("node_type")),
                                                           py::PythonNode::factory_for(handle, ports), ports};
      }
    }
    graph_.emplace(compile_or_raise(manifest_json, &external));
  }

  nb::object run(nb::handle items) const {
    py::RunTicket ticket;  // interpreter shutdown waits for this run to get back to Python
    const Graph& graph = this->graph();
    Batch in = py::batch_from_python(items);
    Result<Batch> out = [&] {
      nb::gil_scoped_release release;  // item values that die in here take the GIL themselves
      return run_batch(graph, std::move(in));
    }();
    if (!out.ok()) py::raise_status(out.status());
    return py::batch_to_python(out.value());
  }

  std::vector<std::string> node_ids() const {
    std::vector<std::string> ids;
    for (const GraphNode& n : graph().nodes()) ids.push_back(n.id);
    return ids;
  }
  const Graph& graph() const {
    if (!graph_) throw nb::value_error("this compiled pipeline was cleared by the garbage collector");
    return *graph_;
  }

  int traverse(visitproc visit, void* arg) const {
    for (const Ref<OpaqueObject>& handle : python_nodes_) Py_VISIT(py::python_object_of(handle.get()));
    return 0;
  }
  void clear() {
    graph_.reset();  // its node factories hold the handles too
    python_nodes_.clear();
  }

 private:
  std::optional<Graph> graph_;
  std::vector<Ref<OpaqueObject>> python_nodes_;
};

int compiled_pipeline_traverse(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(Py_TYPE(self));
  if (!nb::inst_ready(self)) return 0;
  return nb::inst_ptr<CompiledPipeline>(self)->traverse(visit, arg);
}

int compiled_pipeline_clear(PyObject* self) {
  nb::inst_ptr<CompiledPipeline>(self)->clear();
  return 0;
}

PyType_Slot compiled_pipeline_slots[] = {
    {Py_tp_traverse, reinterpret_cast<void*>(compiled_pipeline_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(compiled_pipeline_clear)},
    {0, nullptr},
};

nb::object value_or_none(const Value& v) { return v.is_null() ? nb::none() : py::to_python(v); }

nb::list node_types() {
  nb::list out;
  for (const NodeTypeInfo* info : Registry::global().types()) {
    nb::list params;
    for (const ParamSpec& p : info->params) {
      nb::dict d;
      d["name"] = p.name;
      d["type"] = param_type_name(p.type);
      d["required"] = p.required;
      d["default"] = value_or_none(p.default_value);
      d["choices"] = p.choices;
      d["description"] = p.description;
      d["minimum"] = p.minimum ? nb::cast(*p.minimum) : nb::none();
      params.append(d);
    }
    nb::dict d;
    d["name"] = info->name;
    d["aliases"] = info->aliases;
    d["description"] = info->description;
    d["params"] = params;
    out.append(d);
  }
  return out;
}

}  // namespace

NB_MODULE(_runtime, m) {
  m.doc() = "RemoteMedia's native runtime (C++). Use remotemedia.Pipeline rather than this module.";
  m.attr("__version__") = REMOTEMEDIA_VERSION;

  // A daemon thread may hold a pipeline when the interpreter exits; nanobind would report that as
  // a leak. Reference leaks are what the tests check (tests/python/system/test_python_nodes*.py).
  nb::set_leak_warnings(false);

  py::init_conversions();
  py::PythonNode::init();

  m.def("_close_for_shutdown", &py::close_gate, "timeout_seconds"_a,
        "Refuses new native runs and waits for those in flight (registered with atexit).");
  nb::module_::import_("atexit").attr("register")(m.attr("_close_for_shutdown"), 10.0);

  nb::class_<CompiledPipeline>(m, "CompiledPipeline", nb::type_slots(compiled_pipeline_slots))
      .def(nb::init<std::string_view, nb::handle>(), "manifest_json"_a, "python_nodes"_a = nb::none(),
           "Parses, checks and compiles a v1 manifest; raises remotemedia.errors.ManifestError and subclasses. "
           "`python_nodes` ({node id: remotemedia.Node}) run as Python inside the native pipeline.")
      .def("__init__", [](CompiledPipeline* self, nb::bytes manifest_json, nb::handle python_nodes) {
             new (self) CompiledPipeline(std::string_view(manifest_json.c_str(), manifest_json.size()), python_nodes);
           }, "manifest_json"_a, "python_nodes"_a = nb::none(), "The same, from UTF-8 bytes.")
      .def("run", &CompiledPipeline::run, "items"_a,
           "Runs the pipeline over `items`; returns a list, or a numpy array for a 1-D numeric array input "
           "that stayed a column.")
      .def_prop_ro("name", [](const CompiledPipeline& p) { return p.graph().name(); })
      .def_prop_ro("node_ids", &CompiledPipeline::node_ids)
      .def_prop_ro("is_chain", [](const CompiledPipeline& p) { return p.graph().is_chain(); });

  m.def("validate", [](std::string_view manifest_json) { (void)compile_or_raise(manifest_json); },
        "manifest_json"_a, "Raises the error a run of this manifest would raise before any item, or returns None.");
  m.def("validate", [](nb::bytes manifest_json) {
          (void)compile_or_raise(std::string_view(manifest_json.c_str(), manifest_json.size()));
        }, "manifest_json"_a);
  m.def("node_types", &node_types, "The registry: name, aliases, description and parameter schema of each node type.");
  m.def("has_node_type", [](std::string_view name) { return Registry::global().find(name) != nullptr; }, "name"_a);
}
