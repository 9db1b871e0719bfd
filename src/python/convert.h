// Python <-> Value conversion. Runs with the GIL held; the binding releases it around the native
// work in between.
#pragma once

#include <nanobind/nanobind.h>

#include "remotemedia/executor.h"
#include "remotemedia/value.h"

namespace remotemedia::py {

namespace nb = nanobind;

// Looks up numpy's types. Called once from the module's init: a lazy lookup under a C++ static guard
// could deadlock (one thread inside the import waiting for the GIL, another holding the GIL and
// waiting for the guard).
void init_conversions();
// Makes remotemedia.core.audio.Audio cross as an AudioBuffer (and back); called once at import.
void register_audio_class(nb::handle cls);

// Never fails: whatever has no native model becomes an opaque PyObjectHandle.
Value from_python(nb::handle obj);
// Raises (nb::python_error / nb exceptions) only for values that have no Python form.
nb::object to_python(const Value& value);

// The items of a run. A 1-D numpy array of int32/int64/float32/float64 becomes a column (no
// boxing); another array gives its elements or rows; any other iterable gives its elements.
Batch batch_from_python(nb::handle items);
// A column goes back as one numpy array (the caller's own array when nothing changed it); boxed
// items as a list.
nb::object batch_to_python(const Batch& batch);

}  // namespace remotemedia::py
