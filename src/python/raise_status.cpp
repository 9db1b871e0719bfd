#include "python/raise_status.h"

#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include "python/python_error.h"

namespace remotemedia::py {

namespace nb = nanobind;
using namespace nb::literals;

namespace {

// A Python node's own exception, re-raised as it was (type, message, traceback), with the node's
// id, type and item index attached the way the Python executor attaches them.
[[noreturn]] void reraise_python(const Status& status, const PythonErrorDetail& detail) {
  nb::object exc = nb::borrow(detail.exception());
  if (detail.locate() && status.has_node()) {
    nb::object index = status.item_index() ? nb::cast(*status.item_index()) : nb::none();
    nb::module_::import_("remotemedia.errors")
        .attr("annotate_node_exception")(exc, status.node_id(), status.node_type(), index);
  }
  PyObject* type = reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr()));
  Py_INCREF(type);  // PyErr_Restore steals all three references
  PyObject* traceback = PyException_GetTraceback(exc.ptr());  // new reference or null
  PyErr_Restore(type, exc.release().ptr(), traceback);
  throw nb::python_error();
}

}  // namespace

void raise_status(const Status& status) {
  if (auto* detail = dynamic_cast<const PythonErrorDetail*>(status.detail().get())) {
    reraise_python(status, *detail);
  }
  const char* class_name;
  switch (status.code()) {
    case StatusCode::kManifestError:
    case StatusCode::kUnknownNodeType:
    case StatusCode::kInvalidParameter:
    case StatusCode::kGraphError:
    case StatusCode::kTypeError:
    case StatusCode::kValueError:
    case StatusCode::kZeroDivision:
    case StatusCode::kOverflow: class_name = status_code_name(status.code()); break;
    default: class_name = "RemoteMediaError"; break;
  }
  nb::object cls = nb::module_::import_("remotemedia.errors").attr(class_name);
  nb::object exc;
  if (!status.path().empty()) {
    exc = cls(status.message(), "path"_a = status.path());
  } else if (status.has_node()) {
    nb::object index = status.item_index() ? nb::cast(*status.item_index()) : nb::none();
    exc = cls(status.message(), "node_id"_a = status.node_id(), "node_type"_a = status.node_type(),
              "item_index"_a = index);
  } else {
    exc = cls(status.message());
  }
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
  throw nb::python_error();
}

nb::object exception_for(const Status& status) {
  try {
    raise_status(status);
  } catch (nb::python_error& e) {
    return nb::borrow(e.value());
  }
}

// remotemedia.core.session._chain_context on the Python engine; contextlib's
// _fix_exception_context in a Python run.
void chain_context(PyObject* exc, PyObject* replaced) {
  constexpr int kLongest = 1000;  // a chain is walked at most this far (one may already be cyclic)
  int steps = 0;
  for (PyObject* o = replaced; o != nullptr && steps < kLongest; ++steps) {
    if (o == exc) return;
    PyObject* next = PyException_GetContext(o);  // new reference; `o` keeps the object alive
    Py_XDECREF(next);
    o = next;
  }
  PyObject* last = exc;
  for (steps = 0; steps < kLongest; ++steps) {
    PyObject* context = PyException_GetContext(last);
    Py_XDECREF(context);
    if (context == replaced) return;
    if (context == nullptr) break;
    last = context;
  }
  if (steps == kLongest) return;
  PyException_SetContext(last, Py_NewRef(replaced));  // steals the reference
}

nb::object chained_exception(const Status& error, const std::vector<Status>& replaced) {
  nb::object exc = exception_for(error);
  nb::object previous;
  for (const Status& r : replaced) {
    nb::object e = exception_for(r);
    if (previous.is_valid()) chain_context(e.ptr(), previous.ptr());
    previous = std::move(e);
  }
  if (previous.is_valid()) chain_context(exc.ptr(), previous.ptr());
  return exc;
}

void raise_exception(const nb::object& exc) {
  PyObject* type = reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr()));
  PyErr_Restore(Py_NewRef(type), Py_NewRef(exc.ptr()), PyException_GetTraceback(exc.ptr()));
  throw nb::python_error();
}

void raise_status(const Status& status, const std::vector<Status>& replaced) {
  if (replaced.empty()) raise_status(status);
  raise_exception(chained_exception(status, replaced));
}

}  // namespace remotemedia::py
