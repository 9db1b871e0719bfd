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

}  // namespace remotemedia::py
