// A Python exception carried through the runtime inside a Status (GIL rule 6, DESIGN.md): the
// exception object keeps its type, message and traceback, and re-raises as it was.
#pragma once

#include <Python.h>

#include "remotemedia/status.h"
#include "remotemedia/value.h"

namespace remotemedia::py {

class PythonErrorDetail final : public StatusDetail {
 public:
  // `locate`: the binding sets node id, type and item index on the exception when it re-raises
  // (false for errors of initialize / cleanup, which carry their own note instead).
  PythonErrorDetail(Ref<OpaqueObject> exception, bool locate) : exception_(std::move(exception)), locate_(locate) {}
  std::string type_name() const override { return exception_->type_name(); }
  PyObject* exception() const;
  bool locate() const { return locate_; }

 private:
  Ref<OpaqueObject> exception_;  // a PyObjectHandle: dropping it takes the GIL
  bool locate_;
};

// Takes the current Python exception (the GIL is held and one is set) and returns it as a
// kUserError Status. The message is "TypeName: message" for C++ readers.
Status status_from_python_error(bool locate = true);

}  // namespace remotemedia::py
