#include "python/py_object.h"

namespace remotemedia::py {

PyObjectHandle::PyObjectHandle(PyObject* obj, bool big_integer) : obj_(obj), big_integer_(big_integer) {
  Py_INCREF(obj_);
}

PyObjectHandle::~PyObjectHandle() {
  if (!Py_IsInitialized() || Py_IsFinalizing()) return;  // leak rather than touch a dying interpreter
  PyGILState_STATE state = PyGILState_Ensure();
  Py_DECREF(obj_);
  PyGILState_Release(state);
}

PyObject* python_object_of(const HeapObject* object) {
  auto* handle = dynamic_cast<const PyObjectHandle*>(object);
  return handle ? handle->get() : nullptr;
}

}  // namespace remotemedia::py
