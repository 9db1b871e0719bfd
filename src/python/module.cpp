// remotemedia._runtime: the nanobind module. The GIL is held while converting items and released
// around the native run.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/vector.h>

#include <nanobind/stl/optional.h>

#include <optional>

#include "python/compiled_pipeline.h"
#include "python/native_session.h"
#include "python/convert.h"
#include "python/py_object.h"
#include "python/shutdown_gate.h"
#include "python/python_node.h"
#include "python/raise_status.h"
#include "python/run_stop.h"
#include "remotemedia/executor.h"
#include "remotemedia/graph.h"
#include "remotemedia/manifest.h"
#include "remotemedia/registry.h"

namespace nb = nanobind;
using namespace nb::literals;
using namespace remotemedia;
using remotemedia::py::CompiledPipeline;
using remotemedia::py::compile_or_raise;

namespace {

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
      d["maximum"] = p.maximum ? nb::cast(*p.maximum) : nb::none();
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
  // Audio objects cross as AudioBuffer; the class is plain Python (numpy only), so importing it
  // here cannot come back to this module.
  py::register_audio_class(nb::module_::import_("remotemedia.core.audio").attr("Audio"));
  py::PythonNode::init();
  py::install_worker_thread_hooks();
  py::bind_native_session(m);

  m.def("_close_for_shutdown", &py::close_gate, "timeout_seconds"_a,
        "Refuses new native runs and waits for those in flight (registered with atexit).");
  nb::module_::import_("atexit").attr("register")(m.attr("_close_for_shutdown"), 10.0);

  nb::class_<py::RunStop>(m, "RunStop", "Set from any thread to end the native run given it early.")
      .def(nb::init<>())
      .def("set", &py::RunStop::set)
      .def_prop_ro("is_set", &py::RunStop::is_set);

  nb::class_<CompiledPipeline>(m, "CompiledPipeline", nb::type_slots(py::compiled_pipeline_slots))
      .def(nb::init<std::string_view, nb::handle>(), "manifest_json"_a, "python_nodes"_a = nb::none(),
           "Parses, checks and compiles a v1 manifest; raises remotemedia.errors.ManifestError and subclasses. "
           "`python_nodes` ({node id: remotemedia.Node}) run as Python inside the native pipeline.")
      .def("__init__", [](CompiledPipeline* self, nb::bytes manifest_json, nb::handle python_nodes) {
             new (self) CompiledPipeline(std::string_view(manifest_json.c_str(), manifest_json.size()), python_nodes);
           }, "manifest_json"_a, "python_nodes"_a = nb::none(), "The same, from UTF-8 bytes.")
      .def("run", &CompiledPipeline::run, "items"_a, "stop"_a = nb::none(), "check_signals"_a = false,
           "Runs the pipeline over `items`; returns a list, or a numpy array for a 1-D numeric array input "
           "that stayed a column. A set `stop` (RunStop) ends it early (RemoteMediaError: the run was stopped); "
           "`check_signals` (main thread only) lets Ctrl-C end it with KeyboardInterrupt.")
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
