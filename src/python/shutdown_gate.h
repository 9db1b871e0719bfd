// The gate between native runs and interpreter shutdown (GIL rule 7, DESIGN.md).
//
// Once finalization starts, a thread that takes the GIL is terminated (pthread_exit) by CPython
// 3.11, which unwinds through C++ frames and aborts. So finalization must never start while a
// thread is inside a native run: an atexit handler (which runs before finalization) closes the gate,
// Python nodes stop taking the GIL (their runs end as cancelled), and the handler waits, with the
// GIL released, until every run has returned to Python. New runs are refused once it is closed.
#pragma once

#include <memory>

#include "remotemedia/session.h"

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

// Streaming sessions alive at shutdown are cancelled, and the shared worker pool is stopped
// (its threads hold Python thread states, released before finalization).
void register_session(std::weak_ptr<Session> session);

// Gives every worker of the shared pool one Python thread state for its lifetime (GIL rule 3).
// Call once, from the module's init.
void install_worker_thread_hooks();

// The atexit handler: closes the gate, waits (GIL released, at most `timeout_seconds`) for the
// runs in flight, cancels the sessions and stops the worker pool. Call with the GIL held.
void close_gate(double timeout_seconds);

}  // namespace remotemedia::py
