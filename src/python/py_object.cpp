#include "python/py_object.h"

#include <cstring>

namespace remotemedia::py {

PyObjectHandle::PyObjectHandle(PyObject* obj, bool big_integer) : obj_(obj), big_integer_(big_integer) {
  Py_INCREF(obj_);
  if (std::strcmp(Py_TYPE(obj)->tp_name, "numpy.ndarray") == 0) {
    PyObject* dtype = PyObject_GetAttrString(obj, "dtype");
    PyObject* text = dtype ? PyObject_Str(dtype) : nullptr;
    const char* utf8 = text ? PyUnicode_AsUTF8(text) : nullptr;
    if (utf8) array_name_ = std::string("ndarray[") + utf8 + "]";
    else PyErr_Clear();  // then the plain type name
    Py_XDECREF(text);
    Py_XDECREF(dtype);
  }
}

namespace {
bool interpreter_finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing();
#else
  return _Py_IsFinalizing();
#endif
}
}  // namespace

PyObjectHandle::~PyObjectHandle() {
  if (!Py_IsInitialized() || interpreter_finalizing()) return;  // leak rather than touch a dying interpreter
  PyGILState_STATE state = PyGILState_Ensure();
  Py_DECREF(obj_);
  PyGILState_Release(state);
}

PyObject* python_object_of(const HeapObject* object) {
  auto* handle = dynamic_cast<const PyObjectHandle*>(object);
  return handle ? handle->get() : nullptr;
}

}  // namespace remotemedia::py
