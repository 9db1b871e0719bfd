// remotemedia._runtime: the nanobind module. The GIL is held while converting items and released
// around the native run.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/vector.h>

#include "python/convert.h"
#include "python/raise_status.h"
#include "remotemedia/executor.h"
#include "remotemedia/graph.h"
#include "remotemedia/manifest.h"
#include "remotemedia/registry.h"

namespace nb = nanobind;
using namespace nb::literals;
using namespace remotemedia;

namespace {

Graph compile_or_raise(std::string_view manifest_json) {
  Result<Graph> graph = [&] {
    nb::gil_scoped_release release;
    Result<Manifest> manifest = parse_manifest(manifest_json);
    if (!manifest.ok()) return Result<Graph>(manifest.take_status());
    return Graph::compile(manifest.value(), Registry::global());
  }();
  if (!graph.ok()) py::raise_status(graph.status());
  return std::move(graph).value();
}

// A manifest compiled once and run any number of times (each run makes fresh node instances).
class CompiledPipeline {
 public:
  explicit CompiledPipeline(std::string_view manifest_json) : graph_(compile_or_raise(manifest_json)) {}

  nb::object run(nb::handle items) const {
    Batch in = py::batch_from_python(items);
    Result<Batch> out = [&] {
      nb::gil_scoped_release release;  // item values that die in here take the GIL themselves
      return run_batch(graph_, std::move(in));
    }();
    if (!out.ok()) py::raise_status(out.status());
    return py::batch_to_python(out.value());
  }

  std::vector<std::string> node_ids() const {
    std::vector<std::string> ids;
    for (const GraphNode& n : graph_.nodes()) ids.push_back(n.id);
    return ids;
  }
  const Graph& graph() const { return graph_; }

 private:
  Graph graph_;
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

  nb::class_<CompiledPipeline>(m, "CompiledPipeline")
      .def(nb::init<std::string_view>(), "manifest_json"_a,
           "Parses, checks and compiles a v1 manifest; raises remotemedia.errors.ManifestError and subclasses.")
      .def("__init__", [](CompiledPipeline* self, nb::bytes manifest_json) {
             new (self) CompiledPipeline(std::string_view(manifest_json.c_str(), manifest_json.size()));
           }, "manifest_json"_a, "The same, from UTF-8 bytes.")
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
