// Turns a runtime Status into the matching remotemedia.errors exception (the only place that maps
// codes to Python classes).
#pragma once

#include "remotemedia/status.h"

namespace remotemedia::py {

[[noreturn]] void raise_status(const Status& status);

}  // namespace remotemedia::py
