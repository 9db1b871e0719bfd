// The gate between native runs and interpreter shutdown (GIL rule 7, DESIGN.md).
//
// Once finalization starts, a thread that takes the GIL is terminated (pthread_exit) by CPython
// 3.11, which unwinds through C++ frames and aborts. So finalization must never start while a
// thread is inside a native run: an atexit handler (which runs before finalization) closes the gate,
// Python nodes stop taking the GIL (their runs end as cancelled), and the handler waits, with the
// GIL released, until every run has returned to Python. New runs are refused once it is closed.
#pragma once

namespace remotemedia::py {

// Counts a native run for its lifetime. Construct with the GIL held; throws (a Python
// RuntimeError) when the interpreter is shutting down.
class RunTicket {
 public:
  RunTicket();
  ~RunTicket();
  RunTicket(const RunTicket&) = delete;
  RunTicket& operator=(const RunTicket&) = delete;
};

// True once shutdown began: code about to take the GIL from a native thread must not.
bool shutting_down();

// The atexit handler: closes the gate and waits (GIL released, at most `timeout_seconds`) for the
// runs in flight. Call with the GIL held.
void close_gate(double timeout_seconds);

}  // namespace remotemedia::py
