#include "python/raise_status.h"

#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

namespace remotemedia::py {

namespace nb = nanobind;
using namespace nb::literals;

void raise_status(const Status& status) {
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
