// PythonNode: a remotemedia.Node (built-in or the user's own Python class) running inside a native
// pipeline.
//
// The GIL rules of DESIGN.md, as they apply here: the executor runs with the GIL released; this node
// takes it once per batch (rule 2), on the thread's existing thread state (rule 3), calls the
// process method it looked up once per run (rule 1), and lets go before returning. A Python
// exception becomes a kUserError Status holding the exception object (rule 6). Coroutines and async
// generators run on the runtime's own event loop (rule 8, remotemedia/core/async_runner.py), waited
// for without the GIL (rule 4).
#pragma once

#include <nanobind/nanobind.h>

#include <string>
#include <vector>

#include "remotemedia/node.h"
#include "remotemedia/registry.h"

namespace remotemedia::py {

namespace nb = nanobind;

class PythonNode final : public Node {
 public:
  // `node` is the Python Node instance (a PyObjectHandle); the same instance serves every run, as
  // on the Python executor, so its attributes persist as the user expects.
  // `ports`: the node's output ports (node.output_ports()); with several, the node emits on one by
  // returning remotemedia.core.node.ToPort(port, item).
  PythonNode(Ref<OpaqueObject> node, std::vector<std::string> ports);
  ~PythonNode() override;

  Status open() override;
  Status process(Value item, Emitter& out) override;
  Status process_batch(std::vector<Value>& items, std::vector<Value>& out, size_t* failed_at) override;
  Status flush(Emitter& out) override;
  Status close() override;

  // Imports what PythonNode needs; called once from the module's init (see init_conversions).
  static void init();

  // A factory for Graph's ExternalNodes: every instance wraps the same Python node (a
  // PyObjectHandle).
  static NodeFactory factory_for(Ref<OpaqueObject> node, std::vector<std::string> ports);

 private:
  enum class Kind { kPlain, kGenerator, kBatch, kAsync };
  static Kind kind_of(nb::handle name);

  // Where outputs go: the values, and (for a node with several ports) the port of each.
  struct Outputs {
    std::vector<Value>& values;
    std::vector<uint32_t>* ports;
  };
  Status run_items(std::vector<Value>& items, Outputs out, size_t* failed_at);
  // Appends one output, routed by a ToPort when the node has several ports. GIL held.
  Status append(PyObject* output, Outputs out);
  // Appends the outputs of one call's result (a value, or the items a generator yields). GIL held.
  Status collect(PyObject* result, Kind kind, Outputs out);
  // Runs an Outcome tuple (outputs, failing index, exception) from native_stage into `out`.
  Status take_outcome(nb::handle outcome, Outputs out, size_t* failed_at);
  void drop_python_state();  // GIL held

  Ref<OpaqueObject> node_;
  std::vector<std::string> ports_;
  nb::object stage_;    // remotemedia.core.native_stage.NativeStage for the current run
  nb::object process_;  // the bound process / process_batch
  Kind process_kind_ = Kind::kPlain;
  Kind flush_kind_ = Kind::kPlain;
};

}  // namespace remotemedia::py
