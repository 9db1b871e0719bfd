#include "python/python_node.h"
#include "python/run_stop.h"

#include <memory>

#include "python/convert.h"
#include "python/py_object.h"
#include "python/python_error.h"
#include "python/shutdown_gate.h"

namespace remotemedia::py {

namespace {

// Python code must not run once the interpreter is shutting down (shutdown_gate.h).
Status cancelled_by_shutdown() {
  return Status(StatusCode::kCancelled, "the interpreter is shutting down");
}

// Looked up once, at module init (see PythonNode::init); leaked on purpose, as they must outlive
// every static destructor.
PyObject* native_stage_class() {
  static PyObject* cls = [] {
    nb::module_ m = nb::module_::import_("remotemedia.core.native_stage");
    return nb::object(m.attr("NativeStage")).release().ptr();
  }();
  return cls;
}

PyTypeObject* to_port_class() {
  static PyTypeObject* cls = [] {
    nb::module_ m = nb::module_::import_("remotemedia.core.node");
    return reinterpret_cast<PyTypeObject*>(nb::object(m.attr("ToPort")).release().ptr());
  }();
  return cls;
}

}  // namespace

void PythonNode::init() {
  (void)native_stage_class();
  (void)to_port_class();
}

PythonNode::PythonNode(Ref<OpaqueObject> node, std::vector<std::string> ports)
    : node_(std::move(node)), ports_(std::move(ports)) {}

PythonNode::~PythonNode() {
  if (!stage_.is_valid() && !process_.is_valid()) return;
  if (!Py_IsInitialized()) {  // the interpreter is gone: leak rather than touch it
    (void)stage_.release();
    (void)process_.release();
    return;
  }
  nb::gil_scoped_acquire gil;
  drop_python_state();
}

void PythonNode::drop_python_state() {
  stage_.reset();
  process_.reset();
}

PythonNode::Kind PythonNode::kind_of(nb::handle name) {
  const std::string kind = nb::cast<std::string>(name);
  if (kind == "generator") return Kind::kGenerator;
  if (kind == "batch") return Kind::kBatch;
  if (kind == "async") return Kind::kAsync;
  return Kind::kPlain;
}

NodeFactory PythonNode::factory_for(Ref<OpaqueObject> handle, std::vector<std::string> ports) {
  return [handle, ports](const Value&) -> Result<std::unique_ptr<Node>> {
    return std::unique_ptr<Node>(std::make_unique<PythonNode>(handle, ports));
  };
}

Status PythonNode::open() {
  if (shutting_down()) return cancelled_by_shutdown();
  nb::gil_scoped_acquire gil;
  PyObject* stage = PyObject_CallOneArg(native_stage_class(), python_object_of(node_.get()));
  if (stage == nullptr) return status_from_python_error(/*locate=*/false);
  stage_ = nb::steal(stage);
  process_ = stage_.attr("process");
  process_kind_ = kind_of(stage_.attr("process_kind"));
  flush_kind_ = kind_of(stage_.attr("flush_kind"));
  PyObject* done = PyObject_CallMethod(stage_.ptr(), "initialize", nullptr);
  if (done == nullptr) {
    Status s = status_from_python_error(/*locate=*/false);
    drop_python_state();
    return s;
  }
  Py_DECREF(done);
  return Status::OK();
}

Status PythonNode::close() {
  if (!stage_.is_valid()) return Status::OK();
  if (shutting_down()) return cancelled_by_shutdown();  // the stage is released by the destructor
  nb::gil_scoped_acquire gil;
  PyObject* done = PyObject_CallMethod(stage_.ptr(), "cleanup", nullptr);
  Status s = done == nullptr ? status_from_python_error(/*locate=*/false) : Status::OK();
  Py_XDECREF(done);
  drop_python_state();
  return s;
}

Status PythonNode::append(PyObject* output, Outputs out) {
  if (out.ports == nullptr) {
    out.values.push_back(from_python(output));
    return Status::OK();
  }
  uint32_t port = 0;
  PyObject* item = output;
  if (Py_TYPE(output) == to_port_class()) {  // ToPort(port, item): a NamedTuple
    PyObject* name = PyTuple_GET_ITEM(output, 0);
    item = PyTuple_GET_ITEM(output, 1);
    const char* text = PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : nullptr;
    if (text == nullptr) PyErr_Clear();
    port = static_cast<uint32_t>(ports_.size());
    for (uint32_t p = 0; text != nullptr && p < ports_.size(); ++p) {
      if (ports_[p] == text) port = p;
    }
    if (port == ports_.size()) {
      std::string all;
      for (const std::string& p : ports_) all += (all.empty() ? "" : ", ") + p;
      return ValueError("emitted on output port " + quote(text ? text : "?") +
                        ", which it does not have (its ports: " + all + ")");
    }
  }
  out.values.push_back(from_python(item));
  out.ports->push_back(port);
  return Status::OK();
}

Status PythonNode::collect(PyObject* result, Kind kind, Outputs out) {
  if (kind == Kind::kPlain) {
    return result == Py_None ? Status::OK() : append(result, out);
  }
  // A generator's items, or the iterable a process_batch returned.
  PyObject* iterator = PyObject_GetIter(result);
  if (iterator == nullptr) return status_from_python_error();
  Status s;
  while (PyObject* item = PyIter_Next(iterator)) {
    // A generator's yielded None is an item; a batch result's None means nothing (SEMANTICS.md).
    if (kind == Kind::kGenerator || item != Py_None) s = append(item, out);
    Py_DECREF(item);
    if (!s.ok()) break;
  }
  Py_DECREF(iterator);
  if (s.ok() && PyErr_Occurred()) s = status_from_python_error();
  return s;
}

Status PythonNode::take_outcome(nb::handle outcome, Outputs out, size_t* failed_at) {
  for (nb::handle item : outcome[0]) RM_RETURN_IF_ERROR(append(item.ptr(), out));
  nb::handle exception = outcome[2];
  if (exception.is_none()) return Status::OK();
  *failed_at = nb::cast<size_t>(outcome[1]);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exception.ptr())), exception.ptr());
  return status_from_python_error();
}

Status PythonNode::process_batch(std::vector<Value>& items, std::vector<Value>& out, size_t* failed_at) {
  return run_items(items, Outputs{out, nullptr}, failed_at);
}

Status PythonNode::run_items(std::vector<Value>& items, Outputs out, size_t* failed_at) {
  if (items.empty()) return Status::OK();
  if (shutting_down()) return cancelled_by_shutdown();
  nb::gil_scoped_acquire gil;  // once for the whole batch
  size_t at = 0;  // the item being processed, for an error a conversion raises
  try {
    switch (process_kind_) {
      case Kind::kPlain:
      case Kind::kGenerator:
        for (size_t i = 0; i < items.size(); at = ++i) {
          if (current_run_stopped()) return Status(StatusCode::kCancelled, "the run was stopped");
          nb::object arg = to_python(items[i]);
          PyObject* result = PyObject_CallOneArg(process_.ptr(), arg.ptr());
          Status s = result == nullptr ? status_from_python_error() : collect(result, process_kind_, out);
          Py_XDECREF(result);
          if (!s.ok()) {
            *failed_at = i;
            return s;
          }
        }
        break;
      case Kind::kBatch: {
        nb::list batch;
        for (const Value& v : items) batch.append(to_python(v));
        PyObject* result = PyObject_CallOneArg(process_.ptr(), batch.ptr());
        std::vector<Value> produced;
        std::vector<uint32_t> produced_ports;
        Outputs staged{produced, out.ports ? &produced_ports : nullptr};
        Status s = result == nullptr ? status_from_python_error() : collect(result, Kind::kBatch, staged);
        Py_XDECREF(result);
        if (!s.ok()) {
          *failed_at = 0;  // a batch fails as a whole, at its first item
          return s;
        }
        for (Value& v : produced) out.values.push_back(std::move(v));
        if (out.ports) out.ports->insert(out.ports->end(), produced_ports.begin(), produced_ports.end());
        break;
      }
      case Kind::kAsync: {
        nb::list batch;
        for (const Value& v : items) batch.append(to_python(v));
        nb::object outcome = stage_.attr("run_async")(batch);  // waits without the GIL
        return take_outcome(outcome, out, failed_at);
      }
    }
  } catch (nb::python_error& e) {  // raised by a conversion or the async runner itself
    e.restore();
    *failed_at = at;
    return status_from_python_error();
  }
  items.clear();  // drop the inputs while the GIL is held: cheaper than re-taking it per value
  return Status::OK();
}

Status PythonNode::process(Value item, Emitter& out) {
  std::vector<Value> items;
  items.push_back(std::move(item));
  std::vector<Value> produced;
  std::vector<uint32_t> ports;
  const bool routed = ports_.size() > 1;
  size_t failed_at = 0;
  Status s = run_items(items, Outputs{produced, routed ? &ports : nullptr}, &failed_at);
  for (size_t k = 0; k < produced.size(); ++k) {
    if (routed) out.emit_to(ports[k], std::move(produced[k]));
    else out.emit(std::move(produced[k]));
  }
  return s;
}

Status PythonNode::flush(Emitter& out) {
  std::vector<Value> produced;
  std::vector<uint32_t> ports;
  const bool routed = ports_.size() > 1;
  Outputs sink{produced, routed ? &ports : nullptr};
  Status s;
  if (shutting_down()) return cancelled_by_shutdown();
  {
    nb::gil_scoped_acquire gil;
    try {
      if (flush_kind_ == Kind::kAsync) {
        size_t unused = 0;
        s = take_outcome(stage_.attr("run_async_flush")(), sink, &unused);
      } else {
        PyObject* result = PyObject_CallNoArgs(stage_.attr("flush").ptr());
        s = result == nullptr ? status_from_python_error() : collect(result, flush_kind_, sink);
        Py_XDECREF(result);
      }
    } catch (nb::python_error& e) {
      e.restore();
      s = status_from_python_error();
    }
  }
  for (size_t k = 0; k < produced.size(); ++k) {
    if (routed) out.emit_to(ports[k], std::move(produced[k]));
    else out.emit(std::move(produced[k]));
  }
  return s;
}

}  // namespace remotemedia::py
