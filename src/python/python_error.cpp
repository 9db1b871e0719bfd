#include "python/python_error.h"

#include <memory>
#include <string>

#include "python/py_object.h"

namespace remotemedia::py {

PyObject* PythonErrorDetail::exception() const { return python_object_of(exception_.get()); }

Status status_from_python_error(bool locate) {
  PyObject *type = nullptr, *value = nullptr, *traceback = nullptr;
  PyErr_Fetch(&type, &value, &traceback);
  PyErr_NormalizeException(&type, &value, &traceback);
  if (value == nullptr) {  // cannot happen with an exception set; be safe rather than crash
    Py_XDECREF(type);
    Py_XDECREF(traceback);
    return Status(StatusCode::kInternal, "a Python error without an exception object");
  }
  if (traceback != nullptr) PyException_SetTraceback(value, traceback);
  std::string message = Py_TYPE(value)->tp_name;
  if (PyObject* text = PyObject_Str(value)) {
    if (const char* utf8 = PyUnicode_AsUTF8(text)) message += std::string(": ") + utf8;
    Py_DECREF(text);
  }
  PyErr_Clear();
  Ref<OpaqueObject> handle(new PyObjectHandle(value, false));
  Py_DECREF(value);
  Py_XDECREF(type);
  Py_XDECREF(traceback);
  Status status(StatusCode::kUserError, std::move(message));
  status.with_detail(std::make_shared<PythonErrorDetail>(std::move(handle), locate));
  return status;
}

}  // namespace remotemedia::py
