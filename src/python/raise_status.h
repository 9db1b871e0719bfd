// Turns a runtime Status into the matching remotemedia.errors exception (the only place that maps
// codes to Python classes).
#pragma once

#include <nanobind/nanobind.h>

#include <vector>

#include "remotemedia/status.h"

namespace remotemedia::py {

[[noreturn]] void raise_status(const Status& status);

// The exception raise_status raises for `status`, not raised.
nanobind::object exception_for(const Status& status);

// Makes `replaced` the __context__ at the end of `exc`'s chain of contexts, as Python does for an
// exception raised in a `finally` while `replaced` was in flight (and contextlib's exit stacks do
// for each callback). Nothing when `replaced` is already in the chain or the link would close a
// cycle.
void chain_context(PyObject* exc, PyObject* replaced);

// The exception of `error`, each error it replaced (oldest first, as run_batch and Session report
// them) the __context__ of the next, as in a Python run.
nanobind::object chained_exception(const Status& error, const std::vector<Status>& replaced);

// Raises `exc` as it is (its traceback and context kept).
[[noreturn]] void raise_exception(const nanobind::object& exc);

// raise_status, with the errors `status` replaced chained as above.
[[noreturn]] void raise_status(const Status& status, const std::vector<Status>& replaced);

}  // namespace remotemedia::py
