// NativeSession: the binding of a C++ Session (docs/SESSIONS.md, "Native engine"); the Python
// session API (remotemedia/core/session.py) drives it.
#pragma once

#include <nanobind/nanobind.h>

namespace remotemedia::py {

void bind_native_session(nanobind::module_& m);

}  // namespace remotemedia::py
