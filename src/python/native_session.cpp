#include "python/native_session.h"

#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <optional>
#include <mutex>
#include <vector>

#include "python/compiled_pipeline.h"
#include "python/convert.h"
#include "python/python_error.h"
#include "python/raise_status.h"
#include "python/shutdown_gate.h"
#include "remotemedia/session.h"

namespace remotemedia::py {

namespace nb = nanobind;
using namespace nb::literals;

namespace {

// What a session does when it has news: counts a generation and wakes the threads waiting for one
// (wait_change, with the GIL released: the synchronous engine waits there, so news costs it no
// Python call), then calls the Python callable, if one is set (the asyncio engine's). Shared with
// the C++ session's notify hook, which may fire on any thread, even after the NativeSession is
// gone: then it only counts.
struct NotifyTarget {
  std::mutex mutex;
  std::condition_variable changed;
  uint64_t generation = 0;  // under mutex
  PyObject* fn = nullptr;   // a strong reference, changed with the GIL held

  void bump() {
    {
      std::lock_guard lock(mutex);
      ++generation;
    }
    changed.notify_all();
  }

  void call() {
    bump();
    {
      std::lock_guard lock(mutex);
      if (fn == nullptr) return;  // nothing to call: no need for the GIL
    }
    if (shutting_down() || !Py_IsInitialized()) return;
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject* target = nullptr;
    {
      std::lock_guard lock(mutex);
      target = fn;
      Py_XINCREF(target);
    }
    if (target != nullptr) {
      PyObject* r = PyObject_CallNoArgs(target);
      if (r == nullptr) PyErr_WriteUnraisable(target);  // a notify hook must not raise
      Py_XDECREF(r);
      Py_DECREF(target);
    }
    PyGILState_Release(gil);
  }

  uint64_t current() {
    std::lock_guard lock(mutex);
    return generation;
  }

  // Called without the GIL.
  void wait_change(uint64_t since, double timeout_s) {
    std::unique_lock lock(mutex);
    changed.wait_for(lock, std::chrono::duration<double>(timeout_s), [&] { return generation != since; });
  }
};

// The Python exception a Status carries (a Python node's error), or nullptr.
PyObject* python_exception_in(const Status& status) {
  const auto* detail = dynamic_cast<const PythonErrorDetail*>(status.detail().get());
  return detail != nullptr ? detail->exception() : nullptr;
}

// It holds Python objects from C++ (the compiled pipeline, the notify callable, and the Python
// exception in a failed session's error), and they may lead back to it (the exception's traceback
// -> a frame of the Python Session wrapper -> this), so it tells the garbage collector about them
// (tp_traverse / tp_clear below); otherwise a failed session never closed would never be collected.
class NativeSession {
 public:
  NativeSession(nb::handle compiled, size_t capacity, bool threaded) : compiled_(nb::borrow(compiled)) {
    auto& pipeline = nb::cast<CompiledPipeline&>(compiled);
    SessionOptions options;
    options.capacity = capacity;
    options.process_on_push = !threaded;
    options.notify = [target = target_] { target->call(); };
    std::vector<Status> replaced;
    Result<std::shared_ptr<Session>> s = [&] {
      nb::gil_scoped_release release;  // opening runs Python nodes' initialize
      return Session::open(pipeline.shared_graph(), std::move(options), &replaced);
    }();
    if (!s.ok()) raise_exception(chained_exception(s.status(), replaced));
    session_ = std::move(s).value();
    register_session(session_);
  }

  ~NativeSession() { release(); }

  bool push(nb::handle item) {
    RunTicket ticket;  // the push may process the item right here, with the GIL released
    Session& session = live();
    Value v = from_python(item);
    Session::PushResult r;
    {
      nb::gil_scoped_release release;
      r = session.try_push(std::move(v));
    }
    if (r == Session::PushResult::kClosed) raise_closed();
    return r == Session::PushResult::kAccepted;
  }

  // push(), then the outputs ready (as pop() would give them, up to the first that is not an
  // item): None when the session is full (nothing was taken), else a list, perhaps empty. One call
  // per item for a caller that reads as it sends; an error or the end stays for pop() to report,
  // after these outputs.
  nb::object push_ready(nb::handle item) {
    if (!push(item)) return nb::none();
    nb::list ready;
    Session& session = live();
    Value v;
    while (session.try_pop(&v) == Session::PopResult::kItem) ready.append(to_python(v));
    return ready;
  }

  uint64_t generation() const { return target_->current(); }

  // Waits, with the GIL released, until generation() is no longer `since` (or `timeout` seconds
  // pass; None: no limit). Any thread; also after the session is over (wake() ends the wait).
  // The wait goes in slices, checking for signals in between, so that Ctrl-C interrupts it as it
  // does a Python lock's wait.
  void wait_change(uint64_t since, std::optional<double> timeout) {
    constexpr double kSlice = 0.05;  // seconds
    std::shared_ptr<NotifyTarget> target = target_;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout.value_or(0.0));
    for (;;) {
      double wait = kSlice;
      if (timeout) wait = std::min(kSlice, std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count());
      {
        nb::gil_scoped_release release;
        target->wait_change(since, std::max(wait, 0.0));
      }
      if (target->current() != since) return;
      if (timeout && std::chrono::steady_clock::now() >= deadline) return;
      if (PyErr_CheckSignals() != 0) throw nb::python_error();
    }
  }

  // Counts a generation and wakes wait_change (the Python engine's own news: release, cancel).
  void wake() { target_->bump(); }

  void end() {
    RunTicket ticket;
    Session& session = live();
    nb::gil_scoped_release release;
    session.end();
  }

  // Called with the GIL held: the session drops items and errors with none of its locks held.
  nb::tuple pop() {
    Value v;
    switch (live().try_pop(&v)) {
      case Session::PopResult::kItem: return nb::make_tuple("item", to_python(v));
      case Session::PopResult::kEmpty: return nb::make_tuple("empty", nb::none());
      case Session::PopResult::kEnd: return nb::make_tuple("end", nb::none());
      case Session::PopResult::kError: {
        Status error = live().error();
        if (error.code() == StatusCode::kCancelled) return nb::make_tuple("end", nb::none());
        raise_error(error);
      }
    }
    return nb::make_tuple("empty", nb::none());
  }

  void cancel() {
    Session& session = live();
    nb::gil_scoped_release release;
    session.cancel();
    session.wait_closed();
  }

  void set_notify(nb::handle fn) {
    PyObject* old;
    {
      std::lock_guard lock(target_->mutex);
      old = target_->fn;
      target_->fn = fn.is_none() ? nullptr : fn.ptr();
      Py_XINCREF(target_->fn);
    }
    Py_XDECREF(old);
  }

  nb::dict metrics() const {
    SessionMetrics m = live().metrics();
    auto us = [](uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
    nb::dict d;
    d["state"] = m.state;
    d["items_in"] = m.items_in;
    d["items_out"] = m.items_out;
    d["queued"] = m.queued;
    d["pending_outputs"] = m.pending_outputs;
    nb::dict latency;
    latency["p50"] = us(m.latency_ns_p50);
    latency["p99"] = us(m.latency_ns_p99);
    latency["p999"] = us(m.latency_ns_p999);
    latency["count"] = m.latency_count;
    d["latency_us"] = latency;
    nb::list nodes;
    for (const auto& n : m.nodes) {
      nb::dict nd;
      nd["id"] = n.id;
      nd["node_type"] = n.node_type;
      nd["items_in"] = n.items_in;
      nd["items_out"] = n.items_out;
      nd["errors"] = n.errors;
      nb::dict t;
      t["p50"] = us(n.process_ns_p50);
      t["p99"] = us(n.process_ns_p99);
      nd["process_us"] = t;
      nodes.append(nd);
    }
    d["nodes"] = nodes;
    return d;
  }

  std::string metrics_json() const { return live().metrics().to_json(); }

  // The session's errors (its error and those it replaced) hold one reference each to their Python
  // exceptions (the engine that failed drops its copy when the nodes close), owned through session_.
  int traverse(visitproc visit, void* arg) const {
    Py_VISIT(compiled_.ptr());
    Py_VISIT(target_->fn);
    Py_VISIT(error_exception_.ptr());
    if (session_) {
      Status error = session_->error();
      Py_VISIT(python_exception_in(error));
      for (const Status& replaced : session_->replaced_errors()) Py_VISIT(python_exception_in(replaced));
    }
    return 0;
  }
  // Drops the session (and with it the exceptions in its errors) once its nodes are closed.
  void clear() {
    release();
    error_exception_.reset();
  }

 private:
  Session& live() const {
    if (!session_) throw nb::value_error("this session was cleared by the garbage collector");
    return *session_;
  }

  void release() {
    set_notify(nb::none());
    std::shared_ptr<Session> session = std::move(session_);
    if (session) {
      nb::gil_scoped_release release;  // closing runs Python nodes' cleanup
      session->cancel();
      session->wait_closed();
    }
  }

  // The session's error, final once it is reported, as one exception object however often it is
  // raised (the chain of those it replaced is made once).
  [[noreturn]] void raise_error(const Status& error) {
    if (!error_exception_.is_valid()) error_exception_ = chained_exception(error, live().replaced_errors());
    raise_exception(error_exception_);
  }

  [[noreturn]] void raise_closed() {
    Status error = live().error();
    if (!error.ok() && error.code() != StatusCode::kCancelled) raise_error(error);
    throw nb::builtin_exception(nb::exception_type::runtime_error,
                                error.ok() ? "the session's input has ended" : "the session was cancelled");
  }

  nb::object compiled_;  // keeps the graph's Python nodes (and the graph) alive
  std::shared_ptr<NotifyTarget> target_ = std::make_shared<NotifyTarget>();
  std::shared_ptr<Session> session_;
  nb::object error_exception_;  // made by raise_error
};

int native_session_traverse(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(Py_TYPE(self));
  if (!nb::inst_ready(self)) return 0;
  return nb::inst_ptr<NativeSession>(self)->traverse(visit, arg);
}

int native_session_clear(PyObject* self) {
  if (nb::inst_ready(self)) nb::inst_ptr<NativeSession>(self)->clear();
  return 0;
}

PyType_Slot native_session_slots[] = {
    {Py_tp_traverse, reinterpret_cast<void*>(native_session_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(native_session_clear)},
    {0, nullptr},
};

}  // namespace

void bind_native_session(nb::module_& m) {
  nb::class_<NativeSession>(m, "NativeSession", nb::type_slots(native_session_slots),
                            "A compiled pipeline running on a stream (docs/SESSIONS.md).")
      .def(nb::init<nb::handle, size_t, bool>(), "compiled"_a, "capacity"_a = 64, "threaded"_a = false)
      .def("push", &NativeSession::push, "item"_a.none(), "False when the session is full (nothing was taken).")
      .def("push_ready", &NativeSession::push_ready, "item"_a.none(),
           "push(item), then the outputs ready as a list (up to the first pop() that is not an item); None when "
           "full.")
      .def("generation", &NativeSession::generation, "Counts the session's news (what set_notify's fn hears).")
      .def("wait_change", &NativeSession::wait_change, "since"_a, "timeout"_a.none() = nb::none(),
           "Waits (GIL released) until generation() != since, or timeout seconds.")
      .def("wake", &NativeSession::wake, "Counts a generation: wait_change returns.")
      .def("end", &NativeSession::end)
      .def("pop", &NativeSession::pop, "(\"item\", x) | (\"empty\", None) | (\"end\", None); raises the session's error.")
      .def("cancel", &NativeSession::cancel)
      .def("set_notify", &NativeSession::set_notify, "fn"_a.none())
      .def("metrics", &NativeSession::metrics)
      .def("metrics_json", &NativeSession::metrics_json);
}

}  // namespace remotemedia::py
