// PyObjectHandle: a Python object carried through the runtime as an opaque Value, or as the keeper
// of a numpy array's memory. The only runtime object that owns a Python reference.
//
// GIL rule 5 (DESIGN.md): the last reference may go on any thread, with or without the GIL, so the
// destructor takes the GIL itself. After the interpreter starts finalizing it must not touch Python
// at all (rule 7); the reference is then leaked deliberately.
#pragma once

#include <Python.h>

#include <string>

#include "remotemedia/value.h"

namespace remotemedia::py {

class PyObjectHandle final : public OpaqueObject {
 public:
  // Takes a new reference to `obj`. Call with the GIL held.
  PyObjectHandle(PyObject* obj, bool big_integer);
  ~PyObjectHandle() override;

  PyObject* get() const { return obj_; }
  // The Python executor's name: the type's, except "ndarray[complex128]" for an array of a dtype
  // outside the value model (computed when made: naming it later would need the GIL).
  std::string type_name() const override { return array_name_.empty() ? Py_TYPE(obj_)->tp_name : array_name_; }
  bool is_big_integer() const override { return big_integer_; }

 private:
  PyObject* obj_;
  bool big_integer_;
  std::string array_name_;
};

// The Python object behind a keeper or opaque value, or nullptr when it is not a PyObjectHandle.
PyObject* python_object_of(const HeapObject* object);

}  // namespace remotemedia::py
